/* Rating file loaders: MovieLens (u.data, ratings.dat, ratings.csv),
 * Netflix Prize, generic delimited text; format detection; predefined
 * train/test pairs.  One pass counts lines (exact allocation, no per-rating
 * allocation), one pass parses into the triplet arrays, then the ids are
 * renumbered in ascending order and recnn__dataset_build_ex sorts. */
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FIELDS 64

RECNN_API void recnn_load_options_init(recnn_load_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->dup_policy = RECNN_DUP_ERROR;
    o->delimiter = ",";
    o->user_col = 0;
    o->item_col = 1;
    o->rating_col = 2;
    o->time_col = 3;
}

/* Copies the caller's options (of its size) over the defaults. */
static int resolve_options(recnn_load_options *o, const recnn_load_options *in)
{
    recnn_load_options_init(o);
    if (!in)
        return RECNN_OK;
    if (in->size < sizeof(size_t) || in->size > 4096)
        return recnn__fail(RECNN_E_INVALID, "load options: size %zu is not a "
                           "recnn_load_options size", in->size);
    size_t n = in->size < sizeof *o ? in->size : sizeof *o;
    memcpy(o, in, n);
    o->size = sizeof *o;
    if (o->dup_policy < RECNN_DUP_ERROR || o->dup_policy > RECNN_DUP_KEEP_FIRST)
        return recnn__fail(RECNN_E_INVALID, "load options: unknown duplicate policy %d",
                           o->dup_policy);
    if (!isfinite(o->scale_min) || !isfinite(o->scale_max) || o->scale_min > o->scale_max)
        return recnn__fail(RECNN_E_INVALID, "load options: bad scale [%g, %g]",
                           o->scale_min, o->scale_max);
    return RECNN_OK;
}

/* ---- string id table (generic text with string ids) --------------------- */

typedef struct strtab {
    char *arena;
    size_t used, cap;
    size_t *off;   /* off[k] = offset of string k */
    int64_t n, off_cap;
    int32_t *slots;
    int64_t nslots;
} strtab;

static void strtab_free(strtab *t)
{
    free(t->arena);
    free(t->off);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static const char *strtab_get(const strtab *t, int64_t k) { return t->arena + t->off[k]; }

static int strtab_rehash(strtab *t, int64_t nslots)
{
    int32_t *s = malloc((size_t)nslots * sizeof *s);
    if (!s)
        return RECNN_E_NOMEM;
    memset(s, 0xff, (size_t)nslots * sizeof *s);
    uint64_t mask = (uint64_t)nslots - 1;
    for (int64_t k = 0; k < t->n; k++) {
        const char *x = strtab_get(t, k);
        uint64_t h = recnn__hash_bytes(x, strlen(x)) & mask;
        while (s[h] >= 0)
            h = (h + 1) & mask;
        s[h] = (int32_t)k;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = nslots;
    return RECNN_OK;
}

/* Index of the string [s, e), inserted when new; -1 on failure. */
static int32_t strtab_intern(strtab *t, const char *s, const char *e)
{
    size_t len = (size_t)(e - s);
    if (memchr(s, '\0', len))
        return -2; /* caller reports */
    if (!t->slots && strtab_rehash(t, 1024))
        return -1;
    uint64_t mask = (uint64_t)t->nslots - 1;
    uint64_t h = recnn__hash_bytes(s, len) & mask;
    for (;; h = (h + 1) & mask) {
        int32_t k = t->slots[h];
        if (k < 0)
            break;
        const char *x = strtab_get(t, k);
        if (strncmp(x, s, len) == 0 && x[len] == '\0')
            return k;
    }
    if (t->n >= INT32_MAX)
        return -1;
    if (t->used + len + 1 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 4096;
        while (nc < t->used + len + 1)
            nc *= 2;
        char *a = realloc(t->arena, nc);
        if (!a)
            return -1;
        t->arena = a;
        t->cap = nc;
    }
    if (t->n == t->off_cap) {
        int64_t nc = t->off_cap ? t->off_cap * 2 : 1024;
        size_t *o = realloc(t->off, (size_t)nc * sizeof *o);
        if (!o)
            return -1;
        t->off = o;
        t->off_cap = nc;
    }
    memcpy(t->arena + t->used, s, len);
    t->arena[t->used + len] = '\0';
    t->off[t->n] = t->used;
    t->used += len + 1;
    t->slots[h] = (int32_t)t->n;
    int32_t k = (int32_t)t->n++;
    if (2 * t->n > t->nslots && strtab_rehash(t, t->nslots * 2))
        return -1;
    return k;
}

/* ---- the loading context ------------------------------------------------ */

typedef struct loader {
    int format;
    recnn_load_options o;
    char delim[8];
    size_t dlen;
    int ucol, icol, rcol, tcol, nfields;
    bool csv_header_auto;
    float smin, smax;   /* declared scale (check when check_scale) */
    bool check_scale;
    bool implicit;
    bool all_integral;
    bool string_ids;

    int64_t n, cap;
    int32_t *u, *i;
    float *v;
    int64_t *t;
    bool want_time;

    recnn__idmap *um, *im;
    strtab us, is;

    /* duplicate search mode: only looks for lines of one pair */
    bool find;
    int64_t fu, fi;
    const char *fun, *fin;
    int nfound;
    int64_t found_line[2];
    const char *found_path[2];
} loader;

static void loader_free(loader *L)
{
    recnn__free(L->u);
    recnn__free(L->i);
    recnn__free(L->v);
    recnn__free(L->t);
    recnn__idmap_release(L->um);
    recnn__idmap_release(L->im);
    strtab_free(&L->us);
    strtab_free(&L->is);
}

/* Format parameters; format already resolved (not AUTO). */
static void loader_setup(loader *L, int format)
{
    L->format = format;
    L->all_integral = true;
    L->ucol = 0;
    L->icol = 1;
    L->rcol = 2;
    L->tcol = 3;
    L->nfields = 4;
    L->want_time = true;
    switch (format) {
    case RECNN_FORMAT_ML100K:
        strcpy(L->delim, "\t");
        L->smin = 1, L->smax = 5;
        break;
    case RECNN_FORMAT_ML_DAT:
        strcpy(L->delim, "::");
        L->smin = 0.5f, L->smax = 5;
        break;
    case RECNN_FORMAT_CSV:
        strcpy(L->delim, ",");
        L->smin = 0.5f, L->smax = 5;
        L->csv_header_auto = true;
        break;
    case RECNN_FORMAT_NETFLIX:
        strcpy(L->delim, ",");
        L->nfields = 3;
        L->smin = 1, L->smax = 5;
        break;
    default: /* GENERIC */
        snprintf(L->delim, sizeof L->delim, "%s", L->o.delimiter);
        L->ucol = L->o.user_col;
        L->icol = L->o.item_col;
        L->rcol = L->o.rating_col;
        L->tcol = L->o.time_col;
        L->nfields = L->o.n_fields;
        L->string_ids = L->o.string_ids != 0;
        L->want_time = L->tcol >= 0;
        L->implicit = L->rcol < 0;
        L->smin = L->smax = 0;
        if (L->implicit)
            L->smin = 0, L->smax = 1;
        break;
    }
    L->dlen = strlen(L->delim);
    if (L->o.scale_min != 0 || L->o.scale_max != 0) {
        L->smin = L->o.scale_min;
        L->smax = L->o.scale_max;
    }
    L->check_scale = !(L->smin == 0 && L->smax == 0);
}

static int check_generic(const recnn_load_options *o)
{
    size_t dl = o->delimiter ? strlen(o->delimiter) : 0;
    if (dl < 1 || dl > 7 || strchr(o->delimiter, '\n') || strchr(o->delimiter, '\r'))
        return recnn__fail(RECNN_E_INVALID, "load options: delimiter must be 1..7 bytes "
                           "without line breaks");
    if (o->user_col < 0 || o->item_col < 0 || o->user_col >= MAX_FIELDS ||
        o->item_col >= MAX_FIELDS || o->rating_col >= MAX_FIELDS ||
        o->time_col >= MAX_FIELDS || o->n_fields < 0 || o->n_fields > MAX_FIELDS)
        return recnn__fail(RECNN_E_INVALID, "load options: columns must be in 0..%d",
                           MAX_FIELDS - 1);
    int c[4] = {o->user_col, o->item_col, o->rating_col, o->time_col};
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            if (c[a] >= 0 && c[a] == c[b])
                return recnn__fail(RECNN_E_INVALID, "load options: two roles share "
                                   "column %d", c[a]);
    int maxc = c[0];
    for (int a = 1; a < 4; a++)
        maxc = c[a] > maxc ? c[a] : maxc;
    if (o->n_fields && o->n_fields <= maxc)
        return recnn__fail(RECNN_E_INVALID, "load options: n_fields %d but column %d "
                           "used", o->n_fields, maxc);
    return RECNN_OK;
}

static int grow_arrays(loader *L, int64_t need)
{
    if (need <= L->cap)
        return RECNN_OK;
    int64_t nc = L->cap ? L->cap : 1024;
    while (nc < need)
        nc *= 2;
    int32_t *u = recnn__realloc(L->u, (size_t)L->n, (size_t)nc, sizeof *u);
    if (!u)
        return RECNN_E_NOMEM;
    L->u = u;
    int32_t *i = recnn__realloc(L->i, (size_t)L->n, (size_t)nc, sizeof *i);
    if (!i)
        return RECNN_E_NOMEM;
    L->i = i;
    float *v = recnn__realloc(L->v, (size_t)L->n, (size_t)nc, sizeof *v);
    if (!v)
        return RECNN_E_NOMEM;
    L->v = v;
    if (L->want_time) {
        int64_t *t = recnn__realloc(L->t, (size_t)L->n, (size_t)nc, sizeof *t);
        if (!t)
            return RECNN_E_NOMEM;
        L->t = t;
    }
    L->cap = nc;
    return RECNN_OK;
}

/* Lines of all files: an upper bound of the ratings, for exact allocation. */
static int count_lines(const char *path, int64_t *lines)
{
    int fd;
    int st = recnn__open_regular(path, &fd); /* no FIFO, device or pipe */
    if (st)
        return st;
    size_t cap = (size_t)1 << 20;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size < cap)
        cap = (size_t)sb.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return recnn__fail(RECNN_E_NOMEM, "%s: out of memory", path);
    }
    int64_t n = 1;
    for (;;) {
        ssize_t got = read(fd, buf, cap);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            close(fd);
            return recnn__fail(RECNN_E_IO, "%s: read error: %s", path, strerror(errno));
        }
        if (got == 0)
            break;
        for (char *p = buf, *e = buf + got; (p = memchr(p, '\n', (size_t)(e - p)));
             p++)
            n++;
    }
    free(buf);
    close(fd);
    *lines += n;
    return RECNN_OK;
}

/* A field quoted in an error message: at most 40 bytes, control bytes
 * (a NUL above all, which would end the text) written as \xNN. */
static const char *field_text(const char *s, const char *e)
{
    static _Thread_local char buf[4 * 40 + 4];
    size_t o = 0;
    for (const char *p = s; p < e && p < s + 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (e - s > 40)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "...");
    buf[o] = 0;
    return buf;
}
#define FIELD_FMT "\"%s\""
#define FIELD_ARG(s, e) field_text((s), (e))

static int num_error(const recnn__reader *r, const char *what, int code, const char *s,
                     const char *e)
{
    const char *why = code == RECNN__NUM_OVERFLOW  ? "overflows 64 bits"
                      : code == RECNN__NUM_NONFINITE ? "is not finite"
                                                    : "is not a number";
    if (code == RECNN__NUM_BAD && (strcmp(what, "rating") != 0))
        why = "is not an integer";
    return recnn__fail(RECNN_E_FORMAT, "%s:%lld: %s " FIELD_FMT " %s", r->path,
                       (long long)r->line, what, FIELD_ARG(s, e), why);
}

static int parse_id(loader *L, const recnn__reader *r, const char *what, const char *s,
                    const char *e, bool is_user, int32_t *idx, int64_t *ext)
{
    if (L->string_ids) {
        if (s == e)
            return recnn__fail(RECNN_E_FORMAT, "%s:%lld: empty %s", r->path,
                               (long long)r->line, what);
        if (L->find) {
            const char *want = is_user ? L->fun : L->fin;
            *idx = strlen(want) == (size_t)(e - s) && memcmp(want, s, (size_t)(e - s)) == 0;
            return RECNN_OK;
        }
        int32_t k = strtab_intern(is_user ? &L->us : &L->is, s, e);
        if (k == -2)
            return recnn__fail(RECNN_E_FORMAT, "%s:%lld: %s contains a NUL byte",
                               r->path, (long long)r->line, what);
        if (k < 0)
            return recnn__fail(RECNN_E_NOMEM, "%s:%lld: out of memory (or more than "
                               "2^31 ids)", r->path, (long long)r->line);
        *idx = k;
        return RECNN_OK;
    }
    int c = recnn__parse_i64(s, e, ext);
    if (c)
        return num_error(r, what, c, s, e);
    if (L->find)
        return RECNN_OK;
    int32_t k = recnn__idmap_intern(is_user ? L->um : L->im, *ext);
    if (k < 0)
        return recnn__fail(RECNN_E_NOMEM, "%s:%lld: out of memory (or more than 2^31 "
                           "ids)", r->path, (long long)r->line);
    *idx = k;
    return RECNN_OK;
}

static int parse_rating(loader *L, const recnn__reader *r, const char *s, const char *e,
                        float *out)
{
    double x;
    int c = recnn__parse_real(s, e, &x);
    if (c)
        return num_error(r, "rating", c, s, e);
    float f = (float)x;
    if (!isfinite(f))
        return num_error(r, "rating", RECNN__NUM_NONFINITE, s, e);
    if (L->check_scale && (f < L->smin || f > L->smax))
        return recnn__fail(RECNN_E_FORMAT, "%s:%lld: rating " FIELD_FMT " is outside "
                           "the scale [%g, %g]", r->path, (long long)r->line,
                           FIELD_ARG(s, e), L->smin, L->smax);
    if (f != floorf(f))
        L->all_integral = false;
    *out = f;
    return RECNN_OK;
}

static int parse_time(loader *L, const recnn__reader *r, const char *s, const char *e,
                      int64_t *out)
{
    int c = L->format == RECNN_FORMAT_NETFLIX ? recnn__parse_date(s, e, out)
                                              : recnn__parse_i64(s, e, out);
    if (c && L->format == RECNN_FORMAT_GENERIC && recnn__parse_date(s, e, out) == 0)
        c = 0;
    if (c == RECNN__NUM_OVERFLOW)
        return num_error(r, "timestamp", c, s, e);
    if (c)
        return recnn__fail(RECNN_E_FORMAT, "%s:%lld: timestamp " FIELD_FMT " is not %s",
                           r->path, (long long)r->line, FIELD_ARG(s, e),
                           L->format == RECNN_FORMAT_NETFLIX ? "a date YYYY-MM-DD"
                           : L->format == RECNN_FORMAT_GENERIC
                               ? "an integer or a date YYYY-MM-DD"
                               : "an integer");
    return RECNN_OK;
}

/* Stores one rating (or, in find mode, notes its line). */
static int emit(loader *L, const recnn__reader *r, int32_t u, int32_t i, int64_t ue,
                int64_t ie, float v, int64_t t)
{
    if (L->find) {
        bool hit = L->string_ids ? (u == 1 && i == 1) : (ue == L->fu && ie == L->fi);
        if (hit && L->nfound < 2) {
            L->found_line[L->nfound] = r->line;
            L->found_path[L->nfound] = r->path;
            L->nfound++;
        }
        return RECNN_OK;
    }
    if (L->n == L->cap && grow_arrays(L, L->n + 1))
        return recnn__fail(RECNN_E_NOMEM, "%s:%lld: out of memory", r->path,
                           (long long)r->line);
    L->u[L->n] = u;
    L->i[L->n] = i;
    L->v[L->n] = v;
    if (L->t)
        L->t[L->n] = t;
    L->n++;
    return RECNN_OK;
}

/* Splits [s, e) at the delimiter; returns the number of fields or -1 when
 * there are more than MAX_FIELDS. */
static int split_fields(const loader *L, const char *s, const char *e,
                        const char **fs, const char **fe)
{
    int n = 0;
    const char d0 = L->delim[0];
    for (;;) {
        const char *p = s;
        const char *hit = NULL;
        while (p < e) {
            const char *q = memchr(p, d0, (size_t)(e - p));
            if (!q)
                break;
            if (L->dlen == 1 || ((size_t)(e - q) >= L->dlen &&
                                 memcmp(q, L->delim, L->dlen) == 0)) {
                hit = q;
                break;
            }
            p = q + 1;
        }
        if (n == MAX_FIELDS)
            return -1;
        fs[n] = s;
        fe[n] = hit ? hit : e;
        n++;
        if (!hit)
            return n;
        s = hit + L->dlen;
    }
}

static bool is_blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r')
            return false;
    return true;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static int parse_file(loader *L, const char *path)
{
    recnn__reader r;
    int st = recnn__reader_open(&r, path);
    if (st)
        return st;
    const char *s, *e;
    const char *fs[MAX_FIELDS], *fe[MAX_FIELDS];
    int64_t blank = 0;
    bool have_movie = false;
    int32_t movie = -1;
    int64_t movie_ext = 0;
    int nfields = L->nfields;
    int rc;
    while ((rc = recnn__reader_next(&r, &s, &e)) == 1) {
        if (is_blank(s, e)) {
            if (!blank)
                blank = r.line;
            continue;
        }
        if (blank) {
            st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: blank line inside the data", path,
                             (long long)blank);
            goto out;
        }
        if (r.line == 1 && ((L->format == RECNN_FORMAT_GENERIC && L->o.header) ||
                            (L->csv_header_auto && s < e &&
                             ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))))
            continue;
        if (L->format == RECNN_FORMAT_NETFLIX && e[-1] == ':') {
            int64_t id;
            int c = recnn__parse_i64(s, e - 1, &id);
            if (c) {
                st = num_error(&r, "movie id", c, s, e - 1);
                goto out;
            }
            movie_ext = id;
            if (!L->find) {
                movie = recnn__idmap_intern(L->im, id);
                if (movie < 0) {
                    st = recnn__fail(RECNN_E_NOMEM, "%s:%lld: out of memory", path,
                                     (long long)r.line);
                    goto out;
                }
            }
            have_movie = true;
            continue;
        }
        int nf = split_fields(L, s, e, fs, fe);
        if (nf < 0) {
            st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: more than %d fields", path,
                             (long long)r.line, MAX_FIELDS);
            goto out;
        }
        if (nfields == 0) {
            nfields = nf; /* generic: as the first data line */
            int need = L->ucol;
            if (L->icol > need)
                need = L->icol;
            if (L->rcol > need)
                need = L->rcol;
            if (L->tcol > need)
                need = L->tcol;
            if (nf <= need) {
                st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: %d fields, but column %d is "
                                 "used", path, (long long)r.line, nf, need);
                goto out;
            }
        }
        if (nf != nfields) {
            st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: expected %d fields, found %d",
                             path, (long long)r.line, nfields, nf);
            goto out;
        }
        if (L->format == RECNN_FORMAT_GENERIC && L->dlen == 1 && L->delim[0] != ' ' &&
            L->delim[0] != '\t')
            for (int k = 0; k < nf; k++)
                trim(&fs[k], &fe[k]);
        int32_t u = 0, i = 0;
        int64_t ue = 0, ie = 0, t = 0;
        float v = 1;
        if (L->format == RECNN_FORMAT_NETFLIX) {
            if (!have_movie) {
                st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: rating line before any "
                                 "\"MovieID:\" line", path, (long long)r.line);
                goto out;
            }
            if ((st = parse_id(L, &r, "customer id", fs[0], fe[0], true, &u, &ue)) ||
                (st = parse_rating(L, &r, fs[1], fe[1], &v)) ||
                (st = parse_time(L, &r, fs[2], fe[2], &t)))
                goto out;
            i = movie;
            ie = movie_ext;
        } else {
            if ((st = parse_id(L, &r, "user id", fs[L->ucol], fe[L->ucol], true, &u, &ue)) ||
                (st = parse_id(L, &r, "item id", fs[L->icol], fe[L->icol], false, &i, &ie)))
                goto out;
            if (L->rcol >= 0 && (st = parse_rating(L, &r, fs[L->rcol], fe[L->rcol], &v)))
                goto out;
            if (L->tcol >= 0 && (st = parse_time(L, &r, fs[L->tcol], fe[L->tcol], &t)))
                goto out;
        }
        if ((st = emit(L, &r, u, i, ue, ie, v, t)))
            goto out;
    }
    if (rc < 0)
        st = rc;
out:
    recnn__reader_close(&r);
    return st;
}

/* ---- format detection ---------------------------------------------------- */

static int detect_file(const char *path, int *format)
{
    recnn__reader r;
    int st = recnn__reader_open(&r, path);
    if (st)
        return st;
    const char *s = NULL, *e = NULL;
    int rc;
    while ((rc = recnn__reader_next(&r, &s, &e)) == 1 && is_blank(s, e))
        ;
    if (rc != 1) {
        recnn__reader_close(&r);
        return rc < 0 ? rc : recnn__fail(RECNN_E_FORMAT, "%s: empty file", path);
    }
    size_t len = (size_t)(e - s);
    int f = -1;
    if (e[-1] == ':' && len > 1) {
        int64_t x;
        if (recnn__parse_i64(s, e - 1, &x) == RECNN__NUM_OK)
            f = RECNN_FORMAT_NETFLIX;
    }
    if (f < 0) {
        bool dcolon = false, tab = false, comma = false;
        for (const char *p = s; p < e; p++) {
            if (*p == ':' && p + 1 < e && p[1] == ':')
                dcolon = true;
            tab |= *p == '\t';
            comma |= *p == ',';
        }
        f = dcolon ? RECNN_FORMAT_ML_DAT : tab ? RECNN_FORMAT_ML100K
            : comma ? RECNN_FORMAT_CSV : -1;
    }
    if (f < 0) {
        st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: cannot detect the format (no tab, "
                         "\"::\", comma or \"MovieID:\" line)", path, (long long)r.line);
    }
    recnn__reader_close(&r);
    if (!st)
        *format = f;
    return st;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool netflix_name(const char *n)
{
    size_t l = strlen(n);
    if (l < 5 || strcmp(n + l - 4, ".txt") != 0)
        return false;
    return strncmp(n, "combined_data_", 14) == 0 || strncmp(n, "mv_", 3) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct pathlist {
    char **p;
    size_t n, cap;
} pathlist;

static void pathlist_free(pathlist *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->p[k]);
    free(l->p);
    memset(l, 0, sizeof *l);
}

static int pathlist_add(pathlist *l, const char *dir, const char *name)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **p = realloc(l->p, nc * sizeof *p);
        if (!p)
            return recnn__fail(RECNN_E_NOMEM, "out of memory");
        l->p = p;
        l->cap = nc;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *s = malloc(len);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    snprintf(s, len, "%s/%s", dir, name);
    l->p[l->n++] = s;
    return RECNN_OK;
}

static int netflix_files(const char *dir, pathlist *l)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return recnn__fail(RECNN_E_IO, "%s: cannot open directory: %s", dir,
                           strerror(errno));
    struct dirent *de;
    int st = RECNN_OK;
    while (!st && (de = readdir(dp)))
        if (netflix_name(de->d_name))
            st = pathlist_add(l, dir, de->d_name);
    closedir(dp);
    if (!st && l->n)
        qsort(l->p, l->n, sizeof *l->p, cmp_str);
    return st;
}

static bool file_in(const char *dir, const char *name)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    struct stat st;
    return stat(buf, &st) == 0 && S_ISREG(st.st_mode);
}

/* Files and format for a directory. */
static int resolve_dir(const char *dir, int *format, pathlist *l)
{
    static const struct {
        const char *name;
        int format;
    } known[] = {{"u.data", RECNN_FORMAT_ML100K},
                 {"ratings.dat", RECNN_FORMAT_ML_DAT},
                 {"ratings.csv", RECNN_FORMAT_CSV}};
    if (*format == RECNN_FORMAT_AUTO)
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (file_in(dir, known[k].name)) {
                *format = known[k].format;
                return pathlist_add(l, dir, known[k].name);
            }
    if (*format == RECNN_FORMAT_AUTO || *format == RECNN_FORMAT_NETFLIX) {
        int st = netflix_files(dir, l);
        if (!st && l->n == 0) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/training_set", dir);
            if (is_dir(sub))
                st = netflix_files(sub, l);
        }
        if (st)
            return st;
        if (l->n) {
            *format = RECNN_FORMAT_NETFLIX;
            return RECNN_OK;
        }
    }
    return recnn__fail(RECNN_E_IO, "%s: a directory without a known rating file "
                       "(u.data, ratings.dat, ratings.csv, combined_data_*.txt, mv_*.txt)",
                       dir);
}

/* ---- the driver ------------------------------------------------------------ */

static int cmp_name_idx(const void *a, const void *b, const strtab *t)
{
    return strcmp(strtab_get(t, *(const int32_t *)a), strtab_get(t, *(const int32_t *)b));
}

static void sort_names(int32_t *a, int32_t *tmp, int64_t n, const strtab *t)
{
    if (n < 2)
        return;
    int64_t h = n / 2;
    sort_names(a, tmp, h, t);
    sort_names(a + h, tmp, n - h, t);
    int64_t x = 0, y = h, k = 0;
    while (x < h && y < n)
        tmp[k++] = cmp_name_idx(&a[y], &a[x], t) < 0 ? a[y++] : a[x++];
    while (x < h)
        tmp[k++] = a[x++];
    while (y < n)
        tmp[k++] = a[y++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

/* A string-id map in ascending name order; remap[old] = new. */
static recnn__idmap *names_map(const strtab *t, int32_t *remap)
{
    int64_t n = t->n;
    int32_t *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    int32_t *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    char **names = calloc((size_t)(n ? n : 1), sizeof *names);
    if (!order || !tmp || !names)
        goto oom;
    for (int64_t k = 0; k < n; k++)
        order[k] = (int32_t)k;
    sort_names(order, tmp, n, t);
    for (int64_t k = 0; k < n; k++) {
        remap[order[k]] = (int32_t)k;
        names[k] = strdup(strtab_get(t, order[k]));
        if (!names[k]) {
            for (int64_t j = 0; j < k; j++)
                free(names[j]);
            goto oom;
        }
    }
    free(order);
    free(tmp);
    return recnn__idmap_from_names(n, names);
oom:
    free(order);
    free(tmp);
    free(names);
    recnn__fail(RECNN_E_NOMEM, "out of memory building the id maps");
    return NULL;
}

/* Replaces the loader's growable maps by the final sorted ones, remapping
 * the triplets in place. */
static int finish_maps(loader *L)
{
    int64_t nu = L->string_ids ? L->us.n : L->um->n;
    int64_t ni = L->string_ids ? L->is.n : L->im->n;
    int32_t *ru = recnn__alloc((size_t)(nu ? nu : 1), sizeof *ru);
    int32_t *ri = recnn__alloc((size_t)(ni ? ni : 1), sizeof *ri);
    int st = RECNN_OK;
    if (!ru || !ri) {
        st = RECNN_E_NOMEM;
        goto out;
    }
    if (L->string_ids) {
        recnn__idmap *a = names_map(&L->us, ru);
        recnn__idmap *b = a ? names_map(&L->is, ri) : NULL;
        if (!a || !b) {
            recnn__idmap_release(a);
            st = RECNN_E_NOMEM;
            goto out;
        }
        recnn__idmap_release(L->um);
        recnn__idmap_release(L->im);
        L->um = a;
        L->im = b;
    } else if (recnn__idmap_sort(L->um, ru) || recnn__idmap_sort(L->im, ri)) {
        st = RECNN_E_NOMEM;
        goto out;
    }
    for (int64_t k = 0; k < L->n; k++) {
        L->u[k] = ru[L->u[k]];
        L->i[k] = ri[L->i[k]];
    }
out:
    recnn__free(ru);
    recnn__free(ri);
    if (st)
        return recnn__fail(st, "out of memory building the id maps");
    return RECNN_OK;
}

/* Re-reads the files to name the lines of a duplicate pair. */
static void report_duplicate(loader *L, const char *const *paths, size_t n,
                             const int32_t dup[2])
{
    if (dup[0] < 0)
        return;
    loader F = *L;
    F.find = true;
    F.nfound = 0;
    F.n = F.cap = 0;
    F.u = F.i = NULL;
    F.v = NULL;
    F.t = NULL;
    memset(&F.us, 0, sizeof F.us);
    memset(&F.is, 0, sizeof F.is);
    if (L->string_ids) {
        F.fun = L->um->names[dup[0]];
        F.fin = L->im->names[dup[1]];
    } else {
        F.fu = L->um->ext[dup[0]];
        F.fi = L->im->ext[dup[1]];
    }
    char who[160];
    if (L->string_ids)
        snprintf(who, sizeof who, "user \"%.60s\", item \"%.60s\"", F.fun, F.fin);
    else
        snprintf(who, sizeof who, "user %lld, item %lld", (long long)F.fu,
                 (long long)F.fi);
    for (size_t k = 0; k < n && F.nfound < 2; k++)
        if (parse_file(&F, paths[k]) != RECNN_OK)
            break;
    if (F.nfound == 2)
        recnn__fail(RECNN_E_FORMAT, "%s:%lld: duplicate rating for %s (first at %s:%lld)",
                    F.found_path[1], (long long)F.found_line[1], who, F.found_path[0],
                    (long long)F.found_line[0]);
    else
        recnn__fail(RECNN_E_FORMAT, "%s: duplicate rating for %s", paths[0], who);
}

/* Parses files [0, n) into L (format resolved).  split_at receives the
 * number of ratings read from the first n_first files. */
static int load_into(loader *L, const char *const *paths, size_t n, size_t n_first,
                     int64_t *split_at)
{
    int64_t lines = 0;
    for (size_t k = 0; k < n; k++) {
        int st = count_lines(paths[k], &lines);
        if (st)
            return st;
    }
    L->um = recnn__idmap_new(1024);
    L->im = recnn__idmap_new(1024);
    if (!L->um || !L->im || grow_arrays(L, lines))
        return recnn__fail(RECNN_E_NOMEM, "%s: out of memory for %lld lines", paths[0],
                           (long long)lines);
    for (size_t k = 0; k < n; k++) {
        if (k == n_first && split_at)
            *split_at = L->n;
        int st = parse_file(L, paths[k]);
        if (st)
            return st;
    }
    if (split_at && n_first >= n)
        *split_at = L->n;
    if (L->n == 0)
        return recnn__fail(RECNN_E_FORMAT, "%s: no ratings", paths[0]);
    return finish_maps(L);
}

static void final_scale(const loader *L, float *lo, float *hi)
{
    *lo = L->smin;
    *hi = L->smax;
    if ((L->format == RECNN_FORMAT_ML_DAT || L->format == RECNN_FORMAT_CSV) &&
        L->o.scale_min == 0 && L->o.scale_max == 0 && L->all_integral) {
        *lo = 1;
        *hi = 5;
    }
}

static bool valid_format(int f)
{
    return f >= RECNN_FORMAT_AUTO && f <= RECNN_FORMAT_GENERIC;
}

/* Resolves directories into files appended to l and format AUTO from the
 * first file of this call (not l->p[0]: a split's test files are resolved
 * after its train files, and their formats must be compared). */
static int resolve_inputs(const char *const *paths, size_t n, int *format, pathlist *l)
{
    if (!paths || n == 0)
        return recnn__fail(RECNN_E_INVALID, "no input files");
    if (!valid_format(*format))
        return recnn__fail(RECNN_E_INVALID, "unknown format %d", *format);
    size_t first = l->n; /* files already listed belong to an earlier group */
    for (size_t k = 0; k < n; k++) {
        if (!paths[k])
            return recnn__fail(RECNN_E_INVALID, "path must not be NULL");
        if (is_dir(paths[k])) {
            int st = resolve_dir(paths[k], format, l);
            if (st)
                return st;
        } else {
            int st = pathlist_add(l, "", paths[k]);
            if (st)
                return st;
            memmove(l->p[l->n - 1], l->p[l->n - 1] + 1, strlen(paths[k]) + 1);
        }
    }
    if (*format == RECNN_FORMAT_AUTO) {
        int st = detect_file(l->p[first], format);
        if (st)
            return st;
    }
    return RECNN_OK;
}

static int load_impl(recnn_dataset **out, recnn_dataset **out_test,
                     const char *const *paths, size_t n, size_t n_first, int format,
                     const recnn_load_options *opts)
{
    loader L;
    memset(&L, 0, sizeof L);
    pathlist pl = {0};
    int st = resolve_options(&L.o, opts);
    if (st)
        return st;
    if (format == RECNN_FORMAT_GENERIC && (st = check_generic(&L.o)))
        return st;
    /* the first n_first inputs must resolve separately for a split */
    size_t first_files = 0;
    if (out_test) {
        int f1 = format, f2 = format;
        if ((st = resolve_inputs(paths, n_first, &f1, &pl)))
            goto out;
        first_files = pl.n;
        if ((st = resolve_inputs(paths + n_first, n - n_first, &f2, &pl)))
            goto out;
        if (f1 != f2) {
            st = recnn__fail(RECNN_E_FORMAT, "%s and %s have different formats",
                             paths[0], paths[n_first]);
            goto out;
        }
        format = f1;
    } else {
        if ((st = resolve_inputs(paths, n, &format, &pl)))
            goto out;
        first_files = pl.n;
    }
    loader_setup(&L, format);
    int64_t split_at = 0;
    if ((st = load_into(&L, (const char *const *)pl.p, pl.n, first_files, &split_at)))
        goto out;
    float lo, hi;
    final_scale(&L, &lo, &hi);
    int64_t total = L.n;
    int32_t dup[2] = {-1, -1};
    const char *what = pl.p[0];
    if (!out_test) {
        st = recnn__dataset_build_ex(out, L.um, L.im, total, L.u, L.i, L.v, L.t, lo, hi,
                                     L.implicit, L.o.dup_policy, what, dup);
        L.u = L.i = NULL;
        L.v = NULL;
        L.t = NULL;
        if (st == RECNN_E_FORMAT && dup[0] >= 0)
            report_duplicate(&L, (const char *const *)pl.p, pl.n, dup);
        goto out;
    }
    /* a train/test pair: two datasets over the same maps */
    int64_t n1 = split_at, n2 = total - split_at;
    int32_t *u2 = recnn__alloc((size_t)n2, sizeof *u2), *i2 = recnn__alloc((size_t)n2, sizeof *i2);
    float *v2 = recnn__alloc((size_t)n2, sizeof *v2);
    int64_t *t2 = L.t ? recnn__alloc((size_t)n2, sizeof *t2) : NULL;
    if (!u2 || !i2 || !v2 || (L.t && !t2)) {
        recnn__free(u2);
        recnn__free(i2);
        recnn__free(v2);
        recnn__free(t2);
        st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(u2, L.u + n1, (size_t)n2 * sizeof *u2);
    memcpy(i2, L.i + n1, (size_t)n2 * sizeof *i2);
    memcpy(v2, L.v + n1, (size_t)n2 * sizeof *v2);
    if (t2)
        memcpy(t2, L.t + n1, (size_t)n2 * sizeof *t2);
    if (n1 == 0 || n2 == 0) {
        recnn__free(u2);
        recnn__free(i2);
        recnn__free(v2);
        recnn__free(t2);
        st = recnn__fail(RECNN_E_FORMAT, "%s: no ratings", n1 == 0 ? pl.p[0] : pl.p[first_files]);
        goto out;
    }
    st = recnn__dataset_build_ex(out_test, L.um, L.im, n2, u2, i2, v2, t2, lo, hi,
                                 L.implicit, L.o.dup_policy, pl.p[first_files], dup);
    if (st == RECNN_E_FORMAT && dup[0] >= 0) {
        report_duplicate(&L, (const char *const *)pl.p + first_files, pl.n - first_files,
                         dup);
        goto out;
    }
    if (st)
        goto out;
    st = recnn__dataset_build_ex(out, L.um, L.im, n1, L.u, L.i, L.v, L.t, lo, hi,
                                 L.implicit, L.o.dup_policy, what, dup);
    L.u = L.i = NULL;
    L.v = NULL;
    L.t = NULL;
    if (st == RECNN_E_FORMAT && dup[0] >= 0)
        report_duplicate(&L, (const char *const *)pl.p, first_files, dup);
    if (st) {
        recnn__dataset_release(*out_test);
        *out_test = NULL;
    }
out:
    loader_free(&L);
    pathlist_free(&pl);
    return st;
}

RECNN_API int recnn_dataset_load_files(recnn_dataset **out, const char *const *paths,
                                       size_t n, int format,
                                       const recnn_load_options *opts)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    return load_impl(out, NULL, paths, n, n, format, opts);
}

RECNN_API int recnn_dataset_load(recnn_dataset **out, const char *path, int format,
                                 const recnn_load_options *opts)
{
    const char *p[1] = {path};
    return recnn_dataset_load_files(out, p, 1, format, opts);
}

RECNN_API int recnn_dataset_load_split(recnn_dataset **train, recnn_dataset **test,
                                       const char *train_path, const char *test_path,
                                       int format, const recnn_load_options *opts)
{
    if (!train || !test)
        return recnn__fail(RECNN_E_INVALID, "train and test must not be NULL");
    *train = *test = NULL;
    const char *p[2] = {train_path, test_path};
    return load_impl(train, test, p, 2, 1, format, opts);
}
