/* Model persistence: recnn_model_save / recnn_model_load, written once for
 * every model through the vtable's tensors/restore.  The format is
 * documented in docs/MODEL_FORMAT.md; in short:
 *
 *   header   "RECNNMDL" u32 version u32 endian-mark u32 reserved u32 crc
 *   sections tag[4] u64 length payload[length] u32 crc(tag,length,payload)
 *            KIND CONF DIMS UMAP IMAP SEEN TNSR* END!
 *
 * Every integer is little-endian.  END! carries the number of sections
 * before it and the CRC-32C of every byte before it, and must be the last
 * bytes of the file.  The loader checks each length against the bytes
 * that remain before allocating, so a corrupt length can neither cause a
 * huge allocation nor a read past the end. */
#include "io.h"

#include "../data/text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Fuzzing builds (the macro OSS-Fuzz and fuzz/run.sh define) accept bad
 * checksums so that the fuzzer reaches the parsers behind them. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_BAD(a, b) ((void)(a), (void)(b), 0)
#else
#define CRC_BAD(a, b) ((a) != (b))
#endif

#define MAX_KIND 64
#define MAX_CONF (1u << 20)
#define MAX_TENSOR_NAME 255

static const char TAG_KIND[4] = {'K', 'I', 'N', 'D'};
static const char TAG_CONF[4] = {'C', 'O', 'N', 'F'};
static const char TAG_DIMS[4] = {'D', 'I', 'M', 'S'};
static const char TAG_UMAP[4] = {'U', 'M', 'A', 'P'};
static const char TAG_IMAP[4] = {'I', 'M', 'A', 'P'};
static const char TAG_SEEN[4] = {'S', 'E', 'E', 'N'};
static const char TAG_TNSR[4] = {'T', 'N', 'S', 'R'};
static const char TAG_END[4] = {'E', 'N', 'D', '!'};

/* ---- byte order ---------------------------------------------------------- */

static bool host_little(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int k = 3; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

/* Reverses each el-byte element of a buffer (big-endian hosts only). */
static void swap_elems(void *data, size_t count, size_t el)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += el)
        for (size_t a = 0, b = el - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

static size_t dtype_size(int dtype)
{
    switch (dtype) {
    case RECNN__F32:
    case RECNN__I32: return 4;
    case RECNN__I64: return 8;
    default: return 0;
    }
}

/* ---- writer ------------------------------------------------------------ */

static _Atomic int64_t inject_after = -1;

void recnn__io_inject_write_failure(int64_t after_bytes)
{
    atomic_store(&inject_after, after_bytes);
}

typedef struct writer {
    FILE *f;
    int64_t written;
    uint32_t file_crc, sec_crc;
    int err; /* errno of the first failure, 0 = fine */
} writer;

static void w_raw(writer *w, const void *data, size_t n)
{
    if (w->err || n == 0)
        return;
    int64_t lim = atomic_load(&inject_after);
    if (lim >= 0 && w->written + (int64_t)n > lim) {
        w->err = ENOSPC;
        return;
    }
    if (fwrite(data, 1, n, w->f) != n) {
        w->err = errno ? errno : EIO;
        return;
    }
    w->written += (int64_t)n;
    w->file_crc = recnn__crc32c(w->file_crc, data, n);
    w->sec_crc = recnn__crc32c(w->sec_crc, data, n);
}

static void w_u32(writer *w, uint32_t v)
{
    unsigned char b[4];
    put_u32(b, v);
    w_raw(w, b, 4);
}

static void w_u64(writer *w, uint64_t v)
{
    unsigned char b[8];
    put_u64(b, v);
    w_raw(w, b, 8);
}

/* An array of count elements of el bytes, written little-endian. */
static void w_array(writer *w, const void *data, size_t count, size_t el)
{
    if (host_little() || el == 1) {
        w_raw(w, data, count * el);
        return;
    }
    unsigned char buf[4096];
    const unsigned char *p = data;
    size_t per = sizeof buf / el;
    while (count && !w->err) {
        size_t c = count < per ? count : per;
        memcpy(buf, p, c * el);
        swap_elems(buf, c, el);
        w_raw(w, buf, c * el);
        p += c * el;
        count -= c;
    }
}

static void w_section_begin(writer *w, const char tag[4], uint64_t len)
{
    w->sec_crc = 0;
    w_raw(w, tag, 4);
    w_u64(w, len);
}

static void w_section_end(writer *w)
{
    uint32_t c = w->sec_crc;
    w_u32(w, c);
}

static uint64_t pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

static uint64_t idmap_payload(const recnn__idmap *map)
{
    uint64_t len = 16 + 8 * (uint64_t)map->n;
    if (map->names)
        for (int64_t i = 0; i < map->n; i++)
            len += 4 + (map->names[i] ? strlen(map->names[i]) : 0);
    return len;
}

static void w_idmap(writer *w, const char tag[4], const recnn__idmap *map)
{
    w_section_begin(w, tag, idmap_payload(map));
    w_u64(w, (uint64_t)map->n);
    w_u32(w, map->names ? 1u : 0u);
    w_u32(w, 0);
    w_array(w, map->ext, (size_t)map->n, 8);
    if (map->names)
        for (int64_t i = 0; i < map->n; i++) {
            if (!map->names[i]) {
                w_u32(w, UINT32_MAX);
                continue;
            }
            size_t l = strlen(map->names[i]);
            w_u32(w, (uint32_t)l);
            w_raw(w, map->names[i], l);
        }
    w_section_end(w);
}

/* Writes the whole model to w (the caller opened the file). */
static int write_model(writer *w, const recnn_model *m, const char *conf, size_t conf_len,
                       const recnn__tensor *t, int nt)
{
    unsigned char hdr[RECNN__MODEL_HEADER_BYTES];
    memcpy(hdr, RECNN__MODEL_MAGIC, 8);
    put_u32(hdr + 8, RECNN__MODEL_FORMAT_VERSION);
    put_u32(hdr + 12, RECNN__MODEL_ENDIAN_MARK);
    put_u32(hdr + 16, 0);
    put_u32(hdr + 20, recnn__crc32c(0, hdr, 20));
    w_raw(w, hdr, sizeof hdr);
    uint32_t sections = 0;

    size_t kl = strlen(m->vt->kind);
    w_section_begin(w, TAG_KIND, kl);
    w_raw(w, m->vt->kind, kl);
    w_section_end(w);
    sections++;

    w_section_begin(w, TAG_CONF, conf_len);
    w_raw(w, conf, conf_len);
    w_section_end(w);
    sections++;

    w_section_begin(w, TAG_DIMS, 32);
    w_u64(w, (uint64_t)m->n_users);
    w_u64(w, (uint64_t)m->n_items);
    uint32_t f32;
    memcpy(&f32, &m->scale_min, 4);
    w_u32(w, f32);
    memcpy(&f32, &m->scale_max, 4);
    w_u32(w, f32);
    uint64_t f64;
    memcpy(&f64, &m->global_mean, 8);
    w_u64(w, f64);
    w_section_end(w);
    sections++;

    w_idmap(w, TAG_UMAP, m->users);
    w_idmap(w, TAG_IMAP, m->items);
    sections += 2;

    int64_t nnz = m->seen_ptr[m->n_users];
    w_section_begin(w, TAG_SEEN,
                    16 + 8 * (uint64_t)(m->n_users + 1) + 4 * (uint64_t)nnz);
    w_u64(w, (uint64_t)m->n_users);
    w_u64(w, (uint64_t)nnz);
    w_array(w, m->seen_ptr, (size_t)m->n_users + 1, 8);
    w_array(w, m->seen_item, (size_t)nnz, 4);
    w_section_end(w);
    sections++;

    static const unsigned char zeros[8] = {0};
    for (int k = 0; k < nt; k++) {
        size_t nl = strlen(t[k].name), el = dtype_size(t[k].dtype);
        uint64_t head = 16 + pad8(nl);
        w_section_begin(w, TAG_TNSR, head + (uint64_t)t[k].count * el);
        w_u32(w, (uint32_t)nl);
        w_u32(w, (uint32_t)t[k].dtype);
        w_u64(w, (uint64_t)t[k].count);
        w_raw(w, t[k].name, nl);
        w_raw(w, zeros, (size_t)(pad8(nl) - nl));
        if (recnn__tensor_strided(&t[k])) /* padded rows: written packed */
            for (int64_t r = 0; r < t[k].count / t[k].cols; r++)
                w_array(w, (const char *)t[k].data + (size_t)(r * t[k].ld) * el,
                        (size_t)t[k].cols, el);
        else
            w_array(w, t[k].data, (size_t)t[k].count, el);
        w_section_end(w);
        sections++;
    }

    uint32_t before_end = w->file_crc;
    w_section_begin(w, TAG_END, 8);
    w_u32(w, sections);
    w_u32(w, before_end);
    w_section_end(w);
    return w->err;
}

/* Index of the first NaN/Inf of a float32 tensor (any stride), -1 if none:
 * an exponent of all ones, read from the bit pattern. */
static int64_t first_nonfinite(const recnn__tensor *t)
{
    if (t->dtype != RECNN__F32 || t->count == 0)
        return -1;
    int64_t cols = t->cols > 0 ? t->cols : t->count, ld = t->cols > 0 ? t->ld : t->count;
    const unsigned char *p = t->data;
    for (int64_t r = 0; r < t->count / cols; r++)
        for (int64_t c = 0; c < cols; c++) {
            uint32_t u;
            memcpy(&u, p + (size_t)(r * ld + c) * 4, 4);
            if ((u & 0x7f800000u) == 0x7f800000u)
                return r * cols + c;
        }
    return -1;
}

RECNN_API int recnn_model_save(const recnn_model *m, const char *path)
{
    if (!m || !path || !*path)
        return recnn__fail(RECNN_E_INVALID, "model and path must not be NULL or empty");
    if (!m->fitted)
        return recnn__fail(RECNN_E_STATE, "%s: cannot save a model that is not trained",
                           m->vt->kind);
    if (!m->vt->tensors || !m->vt->restore)
        return recnn__fail(RECNN_E_UNSUPPORTED, "%s: this model cannot be saved",
                           m->vt->kind);

    /* Everything that can fail before touching the disk. */
    int need = recnn__settings_format(m->vt, m->config, NULL, 0);
    if (need < 0)
        return need;
    if ((unsigned)need > MAX_CONF)
        return recnn__fail(RECNN_E_INVALID, "%s: settings string too long", m->vt->kind);
    char *conf = malloc((size_t)need + 1);
    if (!conf)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    recnn__settings_format(m->vt, m->config, conf, (size_t)need + 1);

    recnn__tensor t[RECNN__MAX_TENSORS];
    int nt = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
    if (nt < 0 || nt > RECNN__MAX_TENSORS) {
        free(conf);
        return recnn__fail(RECNN_E_STATE, "%s: tensor listing failed", m->vt->kind);
    }
    for (int k = 0; k < nt; k++) {
        size_t nl = t[k].name ? strlen(t[k].name) : 0;
        if (nl == 0 || nl > MAX_TENSOR_NAME || !dtype_size(t[k].dtype) ||
            t[k].count < 0 || (t[k].count > 0 && !t[k].data) || t[k].cols < 0 ||
            (t[k].cols > 0 && (t[k].count % t[k].cols != 0 || t[k].ld < t[k].cols))) {
            free(conf);
            return recnn__fail(RECNN_E_STATE, "%s: tensor %d is malformed", m->vt->kind,
                               k);
        }
    }

    /* NaN/Inf must never reach a file (the loader refuses them) */
    if (!isfinite(m->global_mean) || !isfinite(m->scale_min) || !isfinite(m->scale_max)) {
        free(conf);
        return recnn__fail(RECNN_E_NUMERIC, "%s: the global mean or rating scale is not "
                           "finite; not saved", m->vt->kind);
    }
    for (int k = 0; k < nt; k++) {
        int64_t bad = first_nonfinite(&t[k]);
        if (bad >= 0) {
            free(conf);
            return recnn__fail(RECNN_E_NUMERIC, "%s: tensor \"%s\" holds a non-finite "
                               "value (element %lld); not saved", m->vt->kind, t[k].name,
                               (long long)bad);
        }
    }

    recnn__replace rp;
    int st = recnn__replace_begin(&rp, path);
    if (st) {
        free(conf);
        return st;
    }
    writer w = {0};
    w.f = fdopen(rp.fd, "wb");
    if (!w.f) {
        int e = errno;
        recnn__replace_abort(&rp);
        free(conf);
        return recnn__fail(RECNN_E_IO, "%s: %s", path, strerror(e));
    }
    rp.fd = -1; /* w.f owns it */
    int err = write_model(&w, m, conf, (size_t)need, t, nt);
    free(conf);
    err = recnn__replace_finish(&rp, w.f, err);
    if (err)
        return recnn__fail(RECNN_E_IO, "%s: writing the model failed (%s); the previous "
                                       "file, if any, is unchanged",
                           path, strerror(err));
    return RECNN_OK;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct reader {
    FILE *f;                  /* file source, or */
    const unsigned char *mem; /* memory source */
    uint64_t size, pos;       /* total bytes and bytes consumed */
    uint32_t file_crc;        /* CRC of every byte consumed */
    const char *name;         /* for messages */
} reader;

static int r_bytes(reader *r, void *dst, uint64_t n)
{
    if (n > r->size - r->pos)
        return recnn__fail(RECNN_E_CORRUPT,
                           "%s: truncated (needs %llu more bytes at offset %llu, file has "
                           "%llu)",
                           r->name, (unsigned long long)n, (unsigned long long)r->pos,
                           (unsigned long long)r->size);
    if (r->mem) {
        memcpy(dst, r->mem + r->pos, (size_t)n);
    } else if (n && fread(dst, 1, (size_t)n, r->f) != (size_t)n) {
        return ferror(r->f)
                   ? recnn__fail(RECNN_E_IO, "%s: read error at offset %llu", r->name,
                                 (unsigned long long)r->pos)
                   : recnn__fail(RECNN_E_CORRUPT, "%s: truncated at offset %llu",
                                 r->name, (unsigned long long)r->pos);
    }
    r->pos += n;
    r->file_crc = recnn__crc32c(r->file_crc, dst, (size_t)n);
    return RECNN_OK;
}

/* One section read whole and checksum-verified. */
typedef struct section {
    unsigned char *data; /* recnn__alloc'd, 64-byte aligned */
    uint64_t len;
    uint64_t off; /* parse cursor */
} section;

static void section_free(section *s)
{
    recnn__free(s->data);
    s->data = NULL;
}

static int tagname_ok(const char t[4])
{
    for (int k = 0; k < 4; k++)
        if (t[k] < 0x21 || t[k] > 0x7e)
            return 0;
    return 1;
}

/* Reads the next section whole into s and verifies its checksum.  With
 * want != NULL the tag must be `want`; the tag read is copied to tag. */
static int r_section_any(reader *r, const char *want, section *s, char tag[4])
{
    unsigned char head[12];
    s->data = NULL;
    s->off = 0;
    s->len = 0;
    uint64_t at = r->pos;
    int st = r_bytes(r, head, 12);
    if (st)
        return st;
    memcpy(tag, head, 4);
    if (want && memcmp(head, want, 4) != 0) {
        char got[5] = {0};
        memcpy(got, head, 4);
        return recnn__fail(RECNN_E_CORRUPT,
                           "%s: expected section \"%.4s\" at offset %llu, found \"%s\"",
                           r->name, want, (unsigned long long)at,
                           tagname_ok(got) ? got : "?");
    }
    uint64_t len = get_u64(head + 4);
    if (len > r->size - r->pos || r->size - r->pos - len < 4)
        return recnn__fail(RECNN_E_CORRUPT,
                           "%s: section at offset %llu claims %llu bytes but only %llu "
                           "remain (truncated or corrupt)",
                           r->name, (unsigned long long)at, (unsigned long long)len,
                           (unsigned long long)(r->size - r->pos));
    s->data = recnn__alloc((size_t)(len ? len : 1), 1);
    if (!s->data)
        return RECNN_E_NOMEM;
    s->len = len;
    unsigned char cb[4];
    if ((st = r_bytes(r, s->data, len)) || (st = r_bytes(r, cb, 4))) {
        section_free(s);
        return st;
    }
    uint32_t crc = recnn__crc32c(0, head, 12);
    crc = recnn__crc32c(crc, s->data, (size_t)len);
    if (CRC_BAD(crc, get_u32(cb))) {
        section_free(s);
        return recnn__fail(RECNN_E_CORRUPT, "%s: checksum mismatch in the section at "
                                            "offset %llu",
                           r->name, (unsigned long long)at);
    }
    return RECNN_OK;
}

static int r_section(reader *r, const char want[4], section *s)
{
    char tag[4];
    return r_section_any(r, want, s, tag);
}

/* Bounds-checked cursor reads inside a verified section. */
static int s_need(const reader *r, const section *s, uint64_t n, const char *what)
{
    if (n > s->len - s->off)
        return recnn__fail(RECNN_E_CORRUPT, "%s: section too short for %s", r->name,
                           what);
    return RECNN_OK;
}

static uint64_t s_u64(section *s)
{
    uint64_t v = get_u64(s->data + s->off);
    s->off += 8;
    return v;
}

static uint32_t s_u32(section *s)
{
    uint32_t v = get_u32(s->data + s->off);
    s->off += 4;
    return v;
}

static int s_done(const reader *r, const section *s, const char *what)
{
    if (s->off != s->len)
        return recnn__fail(RECNN_E_CORRUPT, "%s: %llu stray bytes at the end of %s",
                           r->name, (unsigned long long)(s->len - s->off), what);
    return RECNN_OK;
}

static int read_header(reader *r)
{
    unsigned char h[RECNN__MODEL_HEADER_BYTES];
    uint64_t avail = r->size < sizeof h ? r->size : sizeof h;
    int st = r_bytes(r, h, avail);
    if (st)
        return st;
    size_t cmp = avail < 8 ? (size_t)avail : 8;
    if (memcmp(h, RECNN__MODEL_MAGIC, cmp) != 0)
        return recnn__fail(RECNN_E_FORMAT, "%s: not a librecnn model file (bad magic)",
                           r->name);
    if (avail < sizeof h)
        return recnn__fail(RECNN_E_CORRUPT, "%s: truncated header (%llu bytes)", r->name,
                           (unsigned long long)avail);
    if (CRC_BAD(recnn__crc32c(0, h, 20), get_u32(h + 20)))
        return recnn__fail(RECNN_E_CORRUPT, "%s: header checksum mismatch", r->name);
    uint32_t version = get_u32(h + 8), mark = get_u32(h + 12);
    if (mark != RECNN__MODEL_ENDIAN_MARK)
        return recnn__fail(RECNN_E_FORMAT,
                           "%s: byte-order mark 0x%08x is not 0x%08x (a byte-swapped or "
                           "foreign file)",
                           r->name, (unsigned)mark, (unsigned)RECNN__MODEL_ENDIAN_MARK);
    if (version > RECNN__MODEL_FORMAT_VERSION)
        return recnn__fail(RECNN_E_VERSION,
                           "%s: model format version %u is newer than this library's "
                           "(%u); upgrade librecnn",
                           r->name, (unsigned)version,
                           (unsigned)RECNN__MODEL_FORMAT_VERSION);
    if (version == 0)
        return recnn__fail(RECNN_E_CORRUPT, "%s: model format version 0 is invalid",
                           r->name);
    if (get_u32(h + 16) != 0)
        return recnn__fail(RECNN_E_CORRUPT, "%s: reserved header field is not zero",
                           r->name);
    return RECNN_OK;
}

static int read_kind(reader *r, const recnn__model_vt **vt)
{
    section s;
    int st = r_section(r, TAG_KIND, &s);
    if (st)
        return st;
    char kind[MAX_KIND + 1];
    if (s.len == 0 || s.len > MAX_KIND || memchr(s.data, 0, (size_t)s.len)) {
        section_free(&s);
        return recnn__fail(RECNN_E_CORRUPT, "%s: malformed model kind", r->name);
    }
    memcpy(kind, s.data, (size_t)s.len);
    kind[s.len] = '\0';
    section_free(&s);
    *vt = recnn__model_find(kind);
    if (!*vt)
        return recnn__fail(RECNN_E_NOTFOUND,
                           "%s: model kind \"%s\" is unknown to this library (known: %s)",
                           r->name, kind, recnn_model_kinds());
    return RECNN_OK;
}

static int read_conf(reader *r, recnn_model *m)
{
    section s;
    int st = r_section(r, TAG_CONF, &s);
    if (st)
        return st;
    if (s.len > MAX_CONF || memchr(s.data, 0, (size_t)s.len)) {
        section_free(&s);
        return recnn__fail(RECNN_E_CORRUPT, "%s: malformed settings", r->name);
    }
    char *text = malloc((size_t)s.len + 1);
    if (!text) {
        section_free(&s);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    memcpy(text, s.data, (size_t)s.len);
    text[s.len] = '\0';
    section_free(&s);
    st = recnn__model_configure_raw(m->vt, m->config, text);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", recnn_last_error());
        free(text);
        return recnn__fail(RECNN_E_FORMAT, "%s: the saved settings do not apply: %s",
                           r->name, why);
    }
    /* Every saved key=value must read back exactly as saved (nothing lost
     * to parsing).  Keys absent from the file (a setting added to the
     * model after the file was written) keep their defaults. */
    int need = recnn__settings_format(m->vt, m->config, NULL, 0);
    char *back = need >= 0 ? malloc((size_t)need + 3) : NULL;
    if (!back) {
        free(text);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    back[0] = ' ';
    recnn__settings_format(m->vt, m->config, back + 1, (size_t)need + 1);
    memcpy(back + 1 + need, " ", 2);
    int same = 1;
    char tok[RECNN__STR_MAX + 70];
    for (const char *p = text; *p && same;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        size_t l = 0;
        while (p[l] && p[l] != ' ' && p[l] != '\t' && p[l] != '\n' && p[l] != '\r')
            l++;
        if (!l)
            break;
        if (l + 3 > sizeof tok) {
            same = 0;
            break;
        }
        tok[0] = ' ';
        memcpy(tok + 1, p, l);
        memcpy(tok + 1 + l, " ", 2);
        same = strstr(back, tok) != NULL;
        p += l;
    }
    free(back);
    free(text);
    if (!same)
        return recnn__fail(RECNN_E_FORMAT,
                           "%s: a saved setting of \"%s\" does not read back as saved "
                           "(written by another version?)",
                           r->name, m->vt->kind);
    return RECNN_OK;
}

static int read_dims(reader *r, recnn_model *m)
{
    section s;
    int st = r_section(r, TAG_DIMS, &s);
    if (st)
        return st;
    if ((st = s_need(r, &s, 32, "dimensions"))) {
        section_free(&s);
        return st;
    }
    uint64_t nu = s_u64(&s), ni = s_u64(&s);
    uint32_t a = s_u32(&s), b = s_u32(&s);
    uint64_t g = s_u64(&s);
    st = s_done(r, &s, "DIMS");
    section_free(&s);
    if (st)
        return st;
    memcpy(&m->scale_min, &a, 4);
    memcpy(&m->scale_max, &b, 4);
    memcpy(&m->global_mean, &g, 8);
    if (nu > INT32_MAX || ni > INT32_MAX || !isfinite(m->scale_min) ||
        !isfinite(m->scale_max) || m->scale_min > m->scale_max ||
        !isfinite(m->global_mean))
        return recnn__fail(RECNN_E_CORRUPT, "%s: implausible dimensions or scale",
                           r->name);
    m->n_users = (int64_t)nu;
    m->n_items = (int64_t)ni;
    return RECNN_OK;
}

static int read_idmap(reader *r, const char tag[4], int64_t expect_n, recnn__idmap **out)
{
    section s;
    int st = r_section(r, tag, &s);
    if (st)
        return st;
    recnn__idmap *map = NULL;
    if ((st = s_need(r, &s, 16, "id map header")))
        goto done;
    uint64_t n = s_u64(&s);
    uint32_t flags = s_u32(&s), reserved = s_u32(&s);
    if (n != (uint64_t)expect_n || flags > 1 || reserved != 0) {
        st = recnn__fail(RECNN_E_CORRUPT, "%s: id map \"%.4s\" is inconsistent", r->name,
                         tag);
        goto done;
    }
    /* n <= INT32_MAX here (checked in DIMS), so 8 * n cannot overflow. */
    if ((st = s_need(r, &s, 8 * n, "id map")))
        goto done;
    map = recnn__idmap_new((int64_t)n);
    if (!map) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    for (uint64_t k = 0; k < n; k++) {
        int64_t ext = (int64_t)s_u64(&s);
        int32_t idx = recnn__idmap_intern(map, ext);
        if (idx < 0) {
            st = RECNN_E_NOMEM;
            goto done;
        }
        if ((uint64_t)idx != k) {
            st = recnn__fail(RECNN_E_CORRUPT, "%s: id %lld appears twice in \"%.4s\"",
                             r->name, (long long)ext, tag);
            goto done;
        }
    }
    if (flags & 1) {
        map->names = calloc(n ? (size_t)n : 1, sizeof *map->names);
        if (!map->names) {
            st = recnn__fail(RECNN_E_NOMEM, "out of memory");
            goto done;
        }
        for (uint64_t k = 0; k < n; k++) {
            if ((st = s_need(r, &s, 4, "name length")))
                goto done;
            uint32_t l = s_u32(&s);
            if (l == UINT32_MAX)
                continue;
            if ((st = s_need(r, &s, l, "name")))
                goto done;
            if (memchr(s.data + s.off, 0, l)) {
                st = recnn__fail(RECNN_E_CORRUPT, "%s: a name in \"%.4s\" contains NUL",
                                 r->name, tag);
                goto done;
            }
            map->names[k] = malloc((size_t)l + 1);
            if (!map->names[k]) {
                st = recnn__fail(RECNN_E_NOMEM, "out of memory");
                goto done;
            }
            memcpy(map->names[k], s.data + s.off, l);
            map->names[k][l] = '\0';
            s.off += l;
        }
    }
    st = s_done(r, &s, "an id map");
done:
    section_free(&s);
    if (st) {
        recnn__idmap_release(map);
        return st;
    }
    *out = map;
    return RECNN_OK;
}

static int read_seen(reader *r, recnn_model *m)
{
    section s;
    int st = r_section(r, TAG_SEEN, &s);
    if (st)
        return st;
    if ((st = s_need(r, &s, 16, "seen header")))
        goto done;
    uint64_t rows = s_u64(&s), nnz = s_u64(&s);
    if (rows != (uint64_t)m->n_users || nnz > s.len) {
        st = recnn__fail(RECNN_E_CORRUPT, "%s: seen-items table is inconsistent", r->name);
        goto done;
    }
    if ((st = s_need(r, &s, 8 * (rows + 1) + 4 * nnz, "seen-items table")))
        goto done;
    m->own_seen_ptr = malloc((size_t)(rows + 1) * 8);
    m->own_seen_item = malloc(nnz ? (size_t)nnz * 4 : 1);
    if (!m->own_seen_ptr || !m->own_seen_item) {
        st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        goto done;
    }
    memcpy(m->own_seen_ptr, s.data + s.off, (size_t)(rows + 1) * 8);
    s.off += (rows + 1) * 8;
    memcpy(m->own_seen_item, s.data + s.off, (size_t)nnz * 4);
    s.off += nnz * 4;
    if (!host_little()) {
        swap_elems(m->own_seen_ptr, (size_t)rows + 1, 8);
        swap_elems(m->own_seen_item, (size_t)nnz, 4);
    }
    if ((st = s_done(r, &s, "SEEN")))
        goto done;
    const int64_t *p = m->own_seen_ptr;
    const int32_t *it = m->own_seen_item;
    if (p[0] != 0 || p[rows] != (int64_t)nnz) {
        st = recnn__fail(RECNN_E_CORRUPT, "%s: seen-items offsets are inconsistent",
                         r->name);
        goto done;
    }
    for (uint64_t u = 0; u < rows && !st; u++) {
        if (p[u + 1] < p[u] || p[u + 1] > (int64_t)nnz) {
            st = recnn__fail(RECNN_E_CORRUPT, "%s: seen-items offsets are not monotone",
                             r->name);
            break;
        }
        for (int64_t k = p[u]; k < p[u + 1]; k++)
            if (it[k] < 0 || it[k] >= m->n_items || (k > p[u] && it[k] <= it[k - 1])) {
                st = recnn__fail(RECNN_E_CORRUPT,
                                 "%s: seen item out of range or unsorted (user index "
                                 "%llu)",
                                 r->name, (unsigned long long)u);
                break;
            }
    }
done:
    section_free(&s);
    if (st == RECNN_OK) {
        m->seen_ptr = m->own_seen_ptr;
        m->seen_item = m->own_seen_item;
    }
    return st;
}

/* A loaded tensor: data points into sec.data (8-byte aligned). */
typedef struct loaded {
    section sec;
    char name[MAX_TENSOR_NAME + 1];
} loaded;

static int parse_tensor(reader *r, loaded *L, recnn__tensor *t)
{
    section *s = &L->sec;
    int st = s_need(r, s, 16, "tensor header");
    if (st)
        return st;
    uint32_t nl = s_u32(s), dtype = s_u32(s);
    uint64_t count = s_u64(s);
    size_t el = dtype_size((int)dtype);
    if (nl == 0 || nl > MAX_TENSOR_NAME || !el)
        return recnn__fail(RECNN_E_CORRUPT, "%s: malformed tensor header", r->name);
    if ((st = s_need(r, s, pad8(nl), "tensor name")))
        return st;
    const unsigned char *name = s->data + s->off;
    if (memchr(name, 0, nl))
        return recnn__fail(RECNN_E_CORRUPT, "%s: tensor name contains NUL", r->name);
    for (uint64_t k = nl; k < pad8(nl); k++)
        if (name[k] != 0)
            return recnn__fail(RECNN_E_CORRUPT, "%s: tensor name padding is not zero",
                               r->name);
    memcpy(L->name, name, nl);
    L->name[nl] = '\0';
    s->off += pad8(nl);
    uint64_t rest = s->len - s->off;
    if (count > rest / el || count * el != rest)
        return recnn__fail(RECNN_E_CORRUPT,
                           "%s: tensor \"%s\" holds %llu bytes, not %llu elements of %zu",
                           r->name, L->name, (unsigned long long)rest,
                           (unsigned long long)count, el);
    if (!host_little())
        swap_elems(s->data + s->off, (size_t)count, el);
    *t = (recnn__tensor){L->name, (int)dtype, (int64_t)count, s->data + s->off, 0, 0};
    int64_t bad = first_nonfinite(t);
    if (bad >= 0)
        return recnn__fail(RECNN_E_CORRUPT,
                           "%s: tensor \"%s\" holds a non-finite value (element %lld)",
                           r->name, L->name, (long long)bad);
    s->off = s->len;
    return RECNN_OK;
}

static int load_from(reader *r, recnn_model **out)
{
    const recnn__model_vt *vt = NULL;
    recnn_model *m = NULL;
    loaded *L = NULL;
    recnn__tensor t[RECNN__MAX_TENSORS];
    int nt = 0;
    section end = {0};
    int st;

    if ((st = read_header(r)) || (st = read_kind(r, &vt)))
        return st;
    if (!vt->restore)
        return recnn__fail(RECNN_E_UNSUPPORTED, "%s: model kind \"%s\" cannot be loaded",
                           r->name, vt->kind);
    if ((st = recnn__model_new(vt, &m)))
        return st;
    if ((st = read_conf(r, m)) || (st = read_dims(r, m)) ||
        (st = read_idmap(r, TAG_UMAP, m->n_users, &m->users)) ||
        (st = read_idmap(r, TAG_IMAP, m->n_items, &m->items)) || (st = read_seen(r, m)) ||
        (st = recnn__model_index_seen(m)))
        goto fail;

    L = calloc(RECNN__MAX_TENSORS, sizeof *L);
    if (!L) {
        st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        goto fail;
    }
    uint32_t crc_before_end;
    for (;;) {
        char tag[4];
        section sec;
        crc_before_end = r->file_crc;
        if ((st = r_section_any(r, NULL, &sec, tag)))
            goto fail;
        if (memcmp(tag, TAG_END, 4) == 0) {
            end = sec;
            break;
        }
        if (memcmp(tag, TAG_TNSR, 4) != 0 || nt == RECNN__MAX_TENSORS) {
            section_free(&sec);
            st = recnn__fail(RECNN_E_CORRUPT,
                             "%s: unexpected section or more than %d tensors", r->name,
                             RECNN__MAX_TENSORS);
            goto fail;
        }
        L[nt].sec = sec;
        nt++;
        if ((st = parse_tensor(r, &L[nt - 1], &t[nt - 1])))
            goto fail;
        for (int k = 0; k < nt - 1; k++)
            if (strcmp(t[k].name, t[nt - 1].name) == 0) {
                st = recnn__fail(RECNN_E_CORRUPT, "%s: tensor \"%s\" appears twice",
                                 r->name, t[k].name);
                goto fail;
            }
    }
    if ((st = s_need(r, &end, 8, "end marker")))
        goto fail;
    uint32_t n_sections = s_u32(&end), file_crc = s_u32(&end);
    if ((st = s_done(r, &end, "END!")))
        goto fail;
    if (n_sections != (uint32_t)(6 + nt) || CRC_BAD(file_crc, crc_before_end)) {
        st = recnn__fail(RECNN_E_CORRUPT, "%s: end marker does not match the file",
                         r->name);
        goto fail;
    }
    if (r->pos != r->size) {
        st = recnn__fail(RECNN_E_CORRUPT, "%s: %llu unexpected bytes after the end",
                         r->name, (unsigned long long)(r->size - r->pos));
        goto fail;
    }
    if ((st = vt->restore(m, t, nt))) {
        if (st != RECNN_E_NOMEM) {
            char why[512];
            snprintf(why, sizeof why, "%s", recnn_last_error());
            st = recnn__fail(RECNN_E_CORRUPT, "%s: %s rejected the saved parameters: %s",
                             r->name, vt->kind, why);
        }
        goto fail;
    }
    m->fitted = 1;
    *out = m;
    m = NULL;
fail:
    section_free(&end);
    if (L)
        for (int k = 0; k < RECNN__MAX_TENSORS; k++)
            section_free(&L[k].sec);
    free(L);
    recnn_model_free(m);
    return st;
}

int recnn__model_load_mem(recnn_model **out, const void *data, size_t size)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!data && size)
        return recnn__fail(RECNN_E_INVALID, "data must not be NULL");
    static const unsigned char empty[1] = {0};
    reader r = {NULL, data ? data : empty, size, 0, 0, "<memory>"};
    return load_from(&r, out);
}

RECNN_API int recnn_model_load(recnn_model **out, const char *path)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!path)
        return recnn__fail(RECNN_E_INVALID, "path must not be NULL");
    struct stat sb;
    /* (checked before opening: opening a FIFO for reading would block) */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return recnn__fail(RECNN_E_IO, "%s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return recnn__fail(RECNN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0) {
        fclose(f);
        return recnn__fail(RECNN_E_IO, "%s: not a regular file", path);
    }
    reader r = {f, NULL, (uint64_t)sb.st_size, 0, 0, path};
    int st = load_from(&r, out);
    fclose(f);
    return st;
}
