/* Item metadata: titles and genres from ML-100K u.item and ml-latest
 * movies.csv, attached to a dataset as a shared recnn__meta. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ml100k_genres[19] = {
    "unknown", "Action",    "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
    "Romance", "Sci-Fi",    "Thriller",  "War",       "Western"};

/* ISO-8859-1 bytes [s, e) as a malloc'd UTF-8 string. */
static char *latin1_to_utf8(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) * 2 + 1), *w = out;
    if (!out)
        return NULL;
    for (; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80) {
            *w++ = (char)c;
        } else {
            *w++ = (char)(0xC0 | (c >> 6));
            *w++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *w = '\0';
    return out;
}

static char *dup_range(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1);
    if (out) {
        memcpy(out, s, (size_t)(e - s));
        out[e - s] = '\0';
    }
    return out;
}

/* The ids of described items the dataset does not contain, to refuse a
 * second description of those too: byte strings (a name, or the 8 bytes
 * of a numeric id) in an open-addressing hash set. */
typedef struct keyset {
    char **key; /* each: 8-byte length, then the bytes */
    size_t n, cap;
} keyset;

static void keyset_free(keyset *k)
{
    for (size_t j = 0; j < k->cap; j++)
        free(k->key[j]);
    free(k->key);
    memset(k, 0, sizeof *k);
}

/* 1 when [p, p + len) was already in the set, 0 when added, -1 on out of
 * memory. */
static int keyset_add(keyset *k, const void *p, size_t len)
{
    if (2 * (k->n + 1) > k->cap) {
        size_t nc = k->cap ? 2 * k->cap : 64;
        char **nk = calloc(nc, sizeof *nk);
        if (!nk)
            return -1;
        for (size_t j = 0; j < k->cap; j++)
            if (k->key[j]) {
                uint64_t len2;
                memcpy(&len2, k->key[j], 8);
                size_t h = (size_t)(recnn__hash_bytes(k->key[j] + 8, (size_t)len2) & (nc - 1));
                while (nk[h])
                    h = (h + 1) & (nc - 1);
                nk[h] = k->key[j];
            }
        free(k->key);
        k->key = nk;
        k->cap = nc;
    }
    size_t h = (size_t)(recnn__hash_bytes(p, len) & (k->cap - 1));
    for (; k->key[h]; h = (h + 1) & (k->cap - 1)) {
        uint64_t l2;
        memcpy(&l2, k->key[h], 8);
        if (l2 == len && memcmp(k->key[h] + 8, p, len) == 0)
            return 1;
    }
    char *e = malloc(8 + len);
    if (!e)
        return -1;
    uint64_t l64 = len;
    memcpy(e, &l64, 8);
    memcpy(e + 8, p, len);
    k->key[h] = e;
    k->n++;
    return 0;
}

typedef struct csvf {
    char *text; /* unquoted copy (malloc'd) */
} csvf;

/* Splits a CSV line (RFC 4180 quoting) into at most max fields, each an
 * unquoted malloc'd string.  Returns the field count, -1 on a quoting
 * error, -2 on out of memory, -3 on too many fields. */
static int csv_split(const char *s, const char *e, csvf *f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -3;
        char *buf = malloc((size_t)(e - s) + 1), *w = buf;
        if (!buf)
            return -2;
        f[n++].text = buf;
        if (s < e && *s == '"') {
            s++;
            for (;;) {
                if (s == e)
                    return -1; /* unterminated quote */
                if (*s == '"') {
                    if (s + 1 < e && s[1] == '"') {
                        *w++ = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                *w++ = *s++;
            }
            if (s < e && *s != ',')
                return -1;
        } else {
            while (s < e && *s != ',') {
                if (*s == '"')
                    return -1;
                *w++ = *s++;
            }
        }
        *w = '\0';
        if (s == e)
            return n;
        s++; /* the comma */
    }
}

/* Frees fields [0, n) and clears them (unused slots are NULL, so freeing
 * more slots than a failed split filled is safe). */
static void csv_free(csvf *f, int n)
{
    for (int k = 0; k < n; k++) {
        free(f[k].text);
        f[k].text = NULL;
    }
}

/* Internal item index for an id field, or -1 when the dataset lacks it
 * (an id seen before in this file is then RECNN_E_FORMAT "item described
 * twice" too, returned as -2); -2 (with last error) when the field is not
 * a valid id; -3 when out of memory. */
static int64_t item_of(const recnn_dataset *d, const recnn__reader *r, const char *s,
                       const char *e, keyset *absent)
{
    int64_t k, id = 0;
    if (d->items->names) {
        char *name = dup_range(s, e);
        if (!name) {
            recnn__fail(RECNN_E_NOMEM, "out of memory");
            return -3;
        }
        k = recnn__idmap_find_name(d->items, name);
        free(name);
    } else {
        int c = recnn__parse_i64(s, e, &id);
        if (c) {
            recnn__fail(RECNN_E_FORMAT, "%s:%lld: item id \"%.*s\" is not an integer",
                        r->path, (long long)r->line, (int)(e - s > 40 ? 40 : e - s), s);
            return -2;
        }
        k = recnn__idmap_find(d->items, id);
    }
    if (k >= 0)
        return k;
    int dup = d->items->names ? keyset_add(absent, s, (size_t)(e - s))
                              : keyset_add(absent, &id, sizeof id);
    if (dup < 0) {
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return -3;
    }
    if (dup) {
        recnn__fail(RECNN_E_FORMAT, "%s:%lld: item described twice", r->path,
                    (long long)r->line);
        return -2;
    }
    return -1;
}

static int detect_meta(const char *path, int *format)
{
    recnn__reader r;
    int st = recnn__reader_open(&r, path);
    if (st)
        return st;
    const char *s, *e;
    int rc = recnn__reader_next(&r, &s, &e);
    if (rc == 1) {
        const char *bar = memchr(s, '|', (size_t)(e - s));
        const char *comma = memchr(s, ',', (size_t)(e - s));
        *format = bar && (!comma || bar < comma) ? RECNN_META_ML100K : RECNN_META_CSV;
    } else if (rc == 0) {
        st = recnn__fail(RECNN_E_FORMAT, "%s: empty file", path);
    } else {
        st = rc;
    }
    recnn__reader_close(&r);
    return st;
}

static int add_genre(char **names, int *n, const char *name, int *index,
                     const recnn__reader *r)
{
    for (int g = 0; g < *n; g++)
        if (strcmp(names[g], name) == 0) {
            *index = g;
            return RECNN_OK;
        }
    if (*n == 64)
        return recnn__fail(RECNN_E_FORMAT, "%s:%lld: more than 64 genres", r->path,
                           (long long)r->line);
    if (!(names[*n] = strdup(name)))
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    *index = (*n)++;
    return RECNN_OK;
}

static int cmp_genre(const void *a, const void *b, char **names)
{
    return strcmp(names[*(const int *)a], names[*(const int *)b]);
}

/* Orders genres by name and permutes the item masks accordingly. */
static void sort_genres(recnn__meta *m, char **names, int n)
{
    int order[64];
    for (int g = 0; g < n; g++)
        order[g] = g;
    for (int a = 1; a < n; a++) /* insertion sort: n <= 64 */
        for (int b = a; b > 0 && cmp_genre(&order[b - 1], &order[b], names) > 0; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    int newpos[64];
    for (int g = 0; g < n; g++) {
        newpos[order[g]] = g;
        m->genre_names[g] = names[order[g]];
    }
    for (int64_t i = 0; i < m->n_items; i++) {
        uint64_t x = m->genres[i], y = 0;
        for (int g = 0; g < n; g++)
            if (x >> g & 1)
                y |= (uint64_t)1 << newpos[g];
        m->genres[i] = y;
    }
}

static int load_meta(recnn__meta **out, const recnn_dataset *d, const char *path,
                     int format)
{
    *out = NULL;
    recnn__reader r;
    int st = recnn__reader_open(&r, path);
    if (st)
        return st;
    recnn__meta *m = recnn__meta_new(d->n_items, format == RECNN_META_ML100K ? 19 : 0);
    uint8_t *seen = calloc((size_t)(d->n_items ? d->n_items : 1), 1);
    char *gnames[64] = {0};
    int ng = 0;
    csvf f[8] = {{0}};
    int nf = 0;
    keyset absent = {0};
    if (!m || !seen) {
        st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        goto out;
    }
    if (format == RECNN_META_ML100K)
        for (int g = 0; g < 19; g++)
            if (!(m->genre_names[g] = strdup(ml100k_genres[g]))) {
                st = recnn__fail(RECNN_E_NOMEM, "out of memory");
                goto out;
            }
    const char *s, *e;
    int rc;
    int64_t blank = 0, lines = 0;
    while ((rc = recnn__reader_next(&r, &s, &e)) == 1) {
        if (s == e) {
            if (!blank)
                blank = r.line;
            continue;
        }
        if (blank) {
            st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: blank line inside the data", path,
                             (long long)blank);
            goto out;
        }
        /* a NUL would cut an id or a title short; refused as in the rating
         * files (the CSV header line is skipped unread) */
        bool header = format == RECNN_META_CSV && lines == 0 &&
                      ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'));
        if (!header && memchr(s, '\0', (size_t)(e - s))) {
            st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: NUL byte", path, (long long)r.line);
            goto out;
        }
        int64_t item;
        if (format == RECNN_META_ML100K) {
            const char *fs[24], *fe[24];
            int n = 0;
            const char *p = s;
            for (;;) {
                const char *q = memchr(p, '|', (size_t)(e - p));
                if (n < 24) {
                    fs[n] = p;
                    fe[n] = q ? q : e;
                }
                n++;
                if (!q)
                    break;
                p = q + 1;
            }
            if (n != 24) {
                st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: expected 24 fields, found %d",
                                 path, (long long)r.line, n);
                goto out;
            }
            if ((item = item_of(d, &r, fs[0], fe[0], &absent)) < -1) {
                st = item == -3 ? RECNN_E_NOMEM : RECNN_E_FORMAT;
                goto out;
            }
            uint64_t mask = 0;
            for (int g = 0; g < 19; g++) {
                const char *a = fs[5 + g], *b = fe[5 + g];
                if (b - a != 1 || (*a != '0' && *a != '1')) {
                    st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: genre flag %d is not 0 or 1",
                                     path, (long long)r.line, g + 1);
                    goto out;
                }
                if (*a == '1')
                    mask |= (uint64_t)1 << g;
            }
            if (item >= 0) {
                if (seen[item]) {
                    st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: item described twice",
                                     path, (long long)r.line);
                    goto out;
                }
                seen[item] = 1;
                m->genres[item] = mask;
                if (!(m->title[item] = latin1_to_utf8(fs[1], fe[1]))) {
                    st = recnn__fail(RECNN_E_NOMEM, "out of memory");
                    goto out;
                }
            }
        } else {
            lines++;
            if (lines == 1 && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
                continue; /* header */
            nf = csv_split(s, e, f, 8);
            if (nf < 0) {
                int code = nf;
                nf = 8;
                if (code == -2)
                    st = recnn__fail(RECNN_E_NOMEM, "out of memory");
                else
                    st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: %s", path,
                                     (long long)r.line,
                                     code == -1 ? "bad quoting" : "too many fields");
                goto out;
            }
            if (nf != 3) {
                st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: expected 3 fields, found %d",
                                 path, (long long)r.line, nf);
                goto out;
            }
            const char *id = f[0].text;
            if ((item = item_of(d, &r, id, id + strlen(id), &absent)) < -1) {
                st = item == -3 ? RECNN_E_NOMEM : RECNN_E_FORMAT;
                goto out;
            }
            uint64_t mask = 0;
            char *gs = f[2].text;
            if (strcmp(gs, "(no genres listed)") != 0 && *gs) {
                for (char *tok = gs;;) {
                    char *bar = strchr(tok, '|');
                    if (bar)
                        *bar = '\0';
                    if (!*tok) {
                        st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: empty genre name",
                                         path, (long long)r.line);
                        goto out;
                    }
                    int g = 0;
                    if ((st = add_genre(gnames, &ng, tok, &g, &r)))
                        goto out;
                    mask |= (uint64_t)1 << g;
                    if (!bar)
                        break;
                    tok = bar + 1;
                }
            }
            if (item >= 0) {
                if (seen[item]) {
                    st = recnn__fail(RECNN_E_FORMAT, "%s:%lld: item described twice",
                                     path, (long long)r.line);
                    goto out;
                }
                seen[item] = 1;
                m->genres[item] = mask;
                m->title[item] = f[1].text;
                f[1].text = NULL;
            }
            csv_free(f, nf);
            nf = 0;
        }
    }
    if (rc < 0) {
        st = rc;
        goto out;
    }
    if (r.line == 0) {
        st = recnn__fail(RECNN_E_FORMAT, "%s: empty file", path);
        goto out;
    }
    if (format == RECNN_META_CSV) {
        free(m->genre_names);
        m->genre_names = calloc(ng > 0 ? (size_t)ng : 1, sizeof *m->genre_names);
        if (!m->genre_names) {
            st = recnn__fail(RECNN_E_NOMEM, "out of memory");
            goto out;
        }
        m->n_genres = ng;
        sort_genres(m, gnames, ng);
        ng = 0; /* names now owned by m */
    }
out:
    csv_free(f, nf);
    keyset_free(&absent);
    for (int g = 0; g < ng; g++)
        free(gnames[g]);
    free(seen);
    recnn__reader_close(&r);
    if (st) {
        recnn__meta_release(m);
        return st;
    }
    *out = m;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_attach_items(recnn_dataset **out, const recnn_dataset *d,
                                         const char *path, int meta_format)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!d || !path)
        return recnn__fail(RECNN_E_INVALID, "dataset and path must not be NULL");
    if (meta_format < RECNN_META_AUTO || meta_format > RECNN_META_CSV)
        return recnn__fail(RECNN_E_INVALID, "unknown metadata format %d", meta_format);
    int st;
    if (meta_format == RECNN_META_AUTO && (st = detect_meta(path, &meta_format)))
        return st;
    recnn__meta *m;
    if ((st = load_meta(&m, d, path, meta_format)))
        return st;
    /* a new handle sharing every array of d: copy the struct, retain the
     * parts, keep a reference to the owner of the arrays */
    recnn_dataset *r = malloc(sizeof *r);
    if (!r) {
        recnn__meta_release(m);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    memcpy(r, d, sizeof *r);
    atomic_init(&r->refs, 1);
    r->base = recnn__dataset_retain(d->base ? d->base : d);
    recnn__idmap_retain(r->users);
    recnn__idmap_retain(r->items);
    r->meta = m;
    *out = r;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_has_meta(const recnn_dataset *d) { return d && d->meta; }

RECNN_API int recnn_dataset_n_genres(const recnn_dataset *d)
{
    return d && d->meta ? d->meta->n_genres : 0;
}

RECNN_API const char *recnn_dataset_genre_name(const recnn_dataset *d, int g)
{
    if (!d || !d->meta || g < 0 || g >= d->meta->n_genres)
        return NULL;
    return d->meta->genre_names[g];
}

static int meta_item(const recnn_dataset *d, int64_t item, int32_t *k)
{
    if (!d)
        return recnn__fail(RECNN_E_INVALID, "dataset must not be NULL");
    if (!d->meta)
        return recnn__fail(RECNN_E_STATE, "the dataset has no item metadata");
    *k = recnn__idmap_find(d->items, item);
    if (*k < 0)
        return recnn__fail(RECNN_E_NOTFOUND, "unknown item id %lld", (long long)item);
    return RECNN_OK;
}

RECNN_API int recnn_dataset_item_title(const recnn_dataset *d, int64_t item,
                                       const char **title)
{
    int32_t k = -1;
    int st = meta_item(d, item, &k);
    if (!st && title)
        *title = d->meta->title[k];
    return st;
}

RECNN_API int recnn_dataset_item_genres(const recnn_dataset *d, int64_t item,
                                        uint64_t *genres)
{
    int32_t k = -1;
    int st = meta_item(d, item, &k);
    if (!st && genres)
        *genres = d->meta->genres[k];
    return st;
}
