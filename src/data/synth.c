/* The synthetic generator (planted low-rank preferences, power-law
 * activity and popularity) and the text writer. */
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

RECNN_API void recnn_synthetic_options_init(recnn_synthetic_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->n_users = 1000;
    o->n_items = 500;
    o->n_ratings = 50000;
    o->rank = 8;
    o->scale_min = 1;
    o->scale_max = 5;
    o->step = 1;
    o->noise = 0.5f;
    o->user_exponent = 0.6;
    o->item_exponent = 0.9;
    o->n_genres = 18;
    o->time_start = 946684800; /* 2000-01-01 */
    o->time_span = 3 * 365 * 86400;
    o->seed = 42;
}

static int check_opts(const recnn_synthetic_options *o)
{
    if (o->n_users < 1 || o->n_items < 1 || o->n_users > INT32_MAX || o->n_items > INT32_MAX)
        return recnn__fail(RECNN_E_INVALID, "synthetic: n_users and n_items must be in "
                           "1..2^31-1");
    if (o->n_ratings < 1 || (double)o->n_ratings > (double)o->n_users * (double)o->n_items)
        return recnn__fail(RECNN_E_INVALID, "synthetic: n_ratings must be in 1..n_users "
                           "* n_items");
    if (o->rank < 1 || o->rank > 1024)
        return recnn__fail(RECNN_E_INVALID, "synthetic: rank must be in 1..1024");
    if (!isfinite(o->scale_min) || !isfinite(o->scale_max) || !(o->scale_min < o->scale_max))
        return recnn__fail(RECNN_E_INVALID, "synthetic: bad scale [%g, %g]", o->scale_min,
                           o->scale_max);
    if (!isfinite(o->step) || o->step < 0 || !isfinite(o->noise) || o->noise < 0)
        return recnn__fail(RECNN_E_INVALID, "synthetic: step and noise must be >= 0");
    if (!isfinite(o->user_exponent) || !isfinite(o->item_exponent) ||
        o->user_exponent < 0 || o->item_exponent < 0)
        return recnn__fail(RECNN_E_INVALID, "synthetic: exponents must be >= 0");
    if (o->n_genres < 0 || o->n_genres > 64)
        return recnn__fail(RECNN_E_INVALID, "synthetic: n_genres must be in 0..64");
    if (o->time_span < 1)
        return recnn__fail(RECNN_E_INVALID, "synthetic: time_span must be >= 1");
    /* the last timestamp, time_start + time_span - 1, must fit an int64_t */
    if (o->time_start > INT64_MAX - (o->time_span - 1))
        return recnn__fail(RECNN_E_INVALID,
                           "synthetic: time_start %lld + time_span %lld overflows a 64-bit "
                           "timestamp",
                           (long long)o->time_start, (long long)o->time_span);
    return RECNN_OK;
}

/* Power-law weights over a seeded random ranking of n entities. */
static double *powerlaw(int64_t n, double a, uint64_t seed)
{
    double *w = malloc((size_t)n * sizeof *w);
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!w || !perm) {
        free(w);
        free(perm);
        return NULL;
    }
    for (int64_t k = 0; k < n; k++)
        perm[k] = (int32_t)k;
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    recnn__rng_shuffle_i32(&r, perm, (size_t)n);
    for (int64_t k = 0; k < n; k++)
        w[perm[k]] = pow((double)k + 1.0, -a);
    free(perm);
    return w;
}

/* Per-user counts summing exactly to N, each in [lo, n_items]. */
static void user_counts(int64_t *c, const double *w, int64_t nu, int64_t ni, int64_t N)
{
    double W = 0;
    for (int64_t u = 0; u < nu; u++)
        W += w[u];
    int64_t lo = N >= nu ? 1 : 0, sum = 0;
    for (int64_t u = 0; u < nu; u++) {
        double x = floor((double)N * w[u] / W);
        int64_t k = x > (double)ni ? ni : (int64_t)x;
        c[u] = k < lo ? lo : k;
        sum += c[u];
    }
    /* fix the total: most active users first gain, least active lose */
    while (sum != N) {
        bool moved = false;
        for (int64_t u = 0; u < nu && sum != N; u++) {
            if (sum < N && c[u] < ni) {
                c[u]++, sum++;
                moved = true;
            } else if (sum > N && c[u] > lo) {
                c[u]--, sum--;
                moved = true;
            }
        }
        if (!moved)
            break;
    }
}

typedef struct alias {
    double *prob;
    int32_t *alias;
} alias;

static int alias_init(alias *a, const double *w, int64_t n)
{
    a->prob = malloc((size_t)n * sizeof *a->prob);
    a->alias = malloc((size_t)n * sizeof *a->alias);
    int32_t *sm = malloc((size_t)n * sizeof *sm), *lg = malloc((size_t)n * sizeof *lg);
    if (!a->prob || !a->alias || !sm || !lg) {
        free(sm);
        free(lg);
        free(a->prob);
        free(a->alias);
        return RECNN_E_NOMEM;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += w[i];
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        a->prob[i] = w[i] * (double)n / sum;
        a->alias[i] = (int32_t)i;
        if (a->prob[i] < 1)
            sm[ns++] = (int32_t)i;
        else
            lg[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = sm[--ns], l = lg[nl - 1];
        a->alias[s] = l;
        a->prob[l] -= 1 - a->prob[s];
        if (a->prob[l] < 1) {
            nl--;
            sm[ns++] = l;
        }
    }
    while (nl)
        a->prob[lg[--nl]] = 1;
    while (ns)
        a->prob[sm[--ns]] = 1;
    free(sm);
    free(lg);
    return RECNN_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static const char *const genre_words[16] = {
    "Action", "Comedy", "Drama",  "Romance", "Thriller", "Horror",  "Sci-Fi",  "Fantasy",
    "Crime",  "Family", "Music",  "War",     "Western",  "Mystery", "History", "Sport"};

static int make_meta(recnn__meta **out, const recnn_synthetic_options *o, const float *Q,
                     int rank)
{
    int ng = o->n_genres;
    recnn__meta *m = recnn__meta_new(o->n_items, ng);
    if (!m)
        return RECNN_E_NOMEM;
    for (int g = 0; g < ng; g++) {
        char buf[32];
        if (g < 16)
            snprintf(buf, sizeof buf, "%s", genre_words[g]);
        else
            snprintf(buf, sizeof buf, "Genre %d", g + 1);
        if (!(m->genre_names[g] = strdup(buf)))
            goto oom;
    }
    for (int64_t i = 0; i < o->n_items; i++) {
        const float *q = Q + i * rank;
        int best = 0;
        for (int k = 1; k < rank; k++)
            if (fabsf(q[k]) > fabsf(q[best]))
                best = k;
        int g1 = (2 * best + (q[best] < 0)) % ng;
        uint64_t mask = (uint64_t)1 << g1;
        recnn_rng r;
        recnn__rng_block(&r, o->seed ^ 0x6a09e667f3bcc908ULL, (uint64_t)i);
        if (recnn__rng_uniform(&r) < 0.4)
            mask |= (uint64_t)1 << recnn__rng_below(&r, (uint64_t)ng);
        m->genres[i] = mask;
        char buf[64];
        snprintf(buf, sizeof buf, "Synthetic item %lld (%d)", (long long)i + 1,
                 1950 + (int)recnn__rng_below(&r, 70));
        if (!(m->title[i] = strdup(buf)))
            goto oom;
    }
    *out = m;
    return RECNN_OK;
oom:
    recnn__meta_release(m);
    return RECNN_E_NOMEM;
}

RECNN_API int recnn_dataset_synthetic(recnn_dataset **out,
                                      const recnn_synthetic_options *opts)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    if (opts) {
        if (opts->size < sizeof(size_t) || opts->size > 4096)
            return recnn__fail(RECNN_E_INVALID, "synthetic options: bad size %zu",
                               opts->size);
        memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
        o.size = sizeof o;
    }
    int st = check_opts(&o);
    if (st)
        return st;
    const int64_t nu = o.n_users, ni = o.n_items, N = o.n_ratings;
    const int rank = o.rank;
    int nth = recnn__threads();
    double *uw = powerlaw(nu, o.user_exponent, o.seed ^ 0x1111);
    double *iw = powerlaw(ni, o.item_exponent, o.seed ^ 0x2222);
    int64_t *cnt = malloc((size_t)nu * sizeof *cnt);
    int64_t *ptr = malloc(((size_t)nu + 1) * sizeof *ptr);
    float *P = malloc((size_t)nu * (size_t)rank * sizeof *P);
    float *Q = malloc((size_t)ni * (size_t)rank * sizeof *Q);
    float *bu = malloc((size_t)nu * sizeof *bu), *bi = malloc((size_t)ni * sizeof *bi);
    int64_t *marks = malloc((size_t)nth * (size_t)ni * sizeof *marks);
    int32_t *u = recnn__alloc((size_t)N, sizeof *u), *it = recnn__alloc((size_t)N, sizeof *it);
    float *v = recnn__alloc((size_t)N, sizeof *v);
    int64_t *t = recnn__alloc((size_t)N, sizeof *t);
    alias at = {0};
    recnn__idmap *um = NULL, *im = NULL;
    recnn__meta *meta = NULL;
    st = RECNN_E_NOMEM;
    if (!uw || !iw || !cnt || !ptr || !P || !Q || !bu || !bi || !marks || !u || !it || !v ||
        !t || alias_init(&at, iw, ni))
        goto out;
    user_counts(cnt, uw, nu, ni, N);
    ptr[0] = 0;
    for (int64_t x = 0; x < nu; x++)
        ptr[x + 1] = ptr[x] + cnt[x];
    /* latent factors: var(p.q) = 1 */
    const float sd = (float)pow((double)rank, -0.25);
#pragma omp parallel for schedule(static) num_threads(nth)
    for (int64_t x = 0; x < nu; x++) {
        recnn_rng r;
        recnn__rng_block(&r, o.seed ^ 0x3333, (uint64_t)x);
        for (int k = 0; k < rank; k++)
            P[x * rank + k] = sd * (float)recnn__rng_normal(&r);
        bu[x] = 0.5f * (float)recnn__rng_normal(&r);
    }
#pragma omp parallel for schedule(static) num_threads(nth)
    for (int64_t x = 0; x < ni; x++) {
        recnn_rng r;
        recnn__rng_block(&r, o.seed ^ 0x4444, (uint64_t)x);
        for (int k = 0; k < rank; k++)
            Q[x * rank + k] = sd * (float)recnn__rng_normal(&r);
        bi[x] = 0.5f * (float)recnn__rng_normal(&r);
    }
    memset(marks, 0xff, (size_t)nth * (size_t)ni * sizeof *marks);
    const float lo = o.scale_min, hi = o.scale_max, span = hi - lo;
    const float mid = lo + 0.65f * span, spread = span / 5;
#pragma omp parallel for schedule(dynamic, 256) num_threads(nth)
    for (int64_t x = 0; x < nu; x++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        int64_t *mark = marks + (size_t)tid * (size_t)ni;
        recnn_rng r;
        recnn__rng_block(&r, o.seed ^ 0x5555, (uint64_t)x);
        int64_t b = ptr[x], c = cnt[x];
        int32_t *row = it + b;
        if (c * 2 <= ni) {
            int64_t got = 0, tries = 0;
            while (got < c && tries < 64 * c + 64) {
                tries++;
                int32_t j = (int32_t)recnn__rng_below(&r, (uint64_t)ni);
                if (recnn__rng_uniform(&r) >= at.prob[j])
                    j = at.alias[j];
                if (mark[j] == x)
                    continue;
                mark[j] = x;
                row[got++] = j;
            }
            for (int64_t j = (int64_t)recnn__rng_below(&r, (uint64_t)ni); got < c;
                 j = (j + 1) % ni)
                if (mark[j] != x) {
                    mark[j] = x;
                    row[got++] = (int32_t)j;
                }
            qsort(row, (size_t)c, sizeof *row, cmp_i32);
        } else {
            /* dense row: choose the items left out, uniformly */
            int64_t out_n = ni - c;
            for (int64_t got = 0; got < out_n;) {
                int32_t j = (int32_t)recnn__rng_below(&r, (uint64_t)ni);
                if (mark[j] != x) {
                    mark[j] = x;
                    got++;
                }
            }
            int64_t w = 0;
            for (int64_t j = 0; j < ni; j++)
                if (mark[j] != x)
                    row[w++] = (int32_t)j;
        }
        const float *p = P + x * rank;
        for (int64_t k = 0; k < c; k++) {
            const float *q = Q + (int64_t)row[k] * rank;
            float dot = 0;
            for (int f = 0; f < rank; f++)
                dot += p[f] * q[f];
            float val = mid + spread * (bu[x] + bi[row[k]] + dot) +
                        o.noise * (float)recnn__rng_normal(&r);
            if (o.step > 0)
                val = lo + o.step * roundf((val - lo) / o.step);
            val = val < lo ? lo : val > hi ? hi : val;
            v[b + k] = val;
            u[b + k] = (int32_t)x;
            t[b + k] = o.time_start + (int64_t)recnn__rng_below(&r, (uint64_t)o.time_span);
        }
    }
    int64_t *ext = malloc((size_t)(nu > ni ? nu : ni) * sizeof *ext);
    if (!ext)
        goto out;
    for (int64_t x = 0; x < (nu > ni ? nu : ni); x++)
        ext[x] = x + 1;
    um = recnn__idmap_from_ids(nu, ext);
    im = recnn__idmap_from_ids(ni, ext);
    free(ext);
    if (!um || !im)
        goto out;
    if (o.n_genres > 0 && make_meta(&meta, &o, Q, rank))
        goto out;
    recnn_dataset *d;
    st = recnn__dataset_build(&d, um, im, N, u, it, v, t, lo, hi, false, RECNN_DUP_ERROR,
                              "synthetic");
    u = it = NULL;
    v = NULL;
    t = NULL;
    if (st)
        goto out;
    d->meta = meta;
    meta = NULL;
    *out = d;
out:
    free(uw);
    free(iw);
    free(cnt);
    free(ptr);
    free(P);
    free(Q);
    free(bu);
    free(bi);
    free(marks);
    free(at.prob);
    free(at.alias);
    recnn__free(u);
    recnn__free(it);
    recnn__free(v);
    recnn__free(t);
    recnn__idmap_release(um);
    recnn__idmap_release(im);
    recnn__meta_release(meta);
    if (st == RECNN_E_NOMEM)
        return recnn__fail(st, "synthetic: out of memory");
    return st;
}

/* ---- text writer ------------------------------------------------------------ */

typedef struct wbuf {
    FILE *f;
    char *b;
    size_t n, cap;
    bool err;
} wbuf;

static void wflush(wbuf *w)
{
    if (w->n && fwrite(w->b, 1, w->n, w->f) != w->n)
        w->err = true;
    w->n = 0;
}

static void wreserve(wbuf *w, size_t k)
{
    if (w->n + k > w->cap)
        wflush(w);
}

static void wstr(wbuf *w, const char *s)
{
    size_t k = strlen(s);
    if (k > w->cap / 2) {
        wflush(w);
        if (fwrite(s, 1, k, w->f) != k)
            w->err = true;
        return;
    }
    wreserve(w, k);
    memcpy(w->b + w->n, s, k);
    w->n += k;
}

static void wi64(wbuf *w, int64_t x)
{
    char tmp[24];
    int k = 0;
    uint64_t y = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    do {
        tmp[k++] = (char)('0' + y % 10);
        y /= 10;
    } while (y);
    wreserve(w, 24);
    if (x < 0)
        w->b[w->n++] = '-';
    while (k)
        w->b[w->n++] = tmp[--k];
}

static void wreal(wbuf *w, float v, bool dot0)
{
    if (v == floorf(v) && fabsf(v) < 1e9f) {
        wi64(w, (int64_t)v);
        if (dot0)
            wstr(w, ".0");
        return;
    }
    char tmp[32];
    recnn__snprintf_c(tmp, sizeof tmp, "%.9g", (double)v); /* "." whatever the locale */
    wstr(w, tmp);
}

static void wid(wbuf *w, const recnn__idmap *m, int32_t k)
{
    if (m->names)
        wstr(w, m->names[k]);
    else
        wi64(w, m->ext[k]);
}

#define DATE_CACHE 4096

typedef struct datecache {
    int64_t days;
    bool valid;
    char text[40];
} datecache;

RECNN_API int recnn_dataset_save_text(const recnn_dataset *d, const char *path, int format)
{
    if (!d || !path)
        return recnn__fail(RECNN_E_INVALID, "dataset and path must not be NULL");
    if (format < RECNN_FORMAT_ML100K || format > RECNN_FORMAT_GENERIC)
        return recnn__fail(RECNN_E_INVALID, "save_text: unknown format %d", format);
    /* as model files: a symbolic link is followed, a FIFO or device is
     * refused, a replaced file keeps its mode, a new one gets 0666 minus
     * the umask (src/data/text.h) */
    recnn__replace rp;
    int st = recnn__replace_begin(&rp, path);
    if (st)
        return st;
    wbuf w = {fdopen(rp.fd, "wb"), malloc((size_t)1 << 22), 0, (size_t)1 << 22, false};
    if (!w.f || !w.b) {
        if (w.f) {
            fclose(w.f);
            rp.fd = -1;
        }
        recnn__replace_abort(&rp);
        free(w.b);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    rp.fd = -1; /* w.f owns it */
    const char *sep = format == RECNN_FORMAT_ML100K ? "\t"
                      : format == RECNN_FORMAT_ML_DAT ? "::" : ",";
    if (format == RECNN_FORMAT_NETFLIX) {
        datecache *cache = calloc(DATE_CACHE, sizeof *cache);
        if (!cache)
            w.err = true;
        for (int64_t i = 0; i < d->n_items && !w.err; i++) {
            if (d->col_ptr[i + 1] == d->col_ptr[i])
                continue;
            wid(&w, d->items, (int32_t)i);
            wstr(&w, ":\n");
            for (int64_t p = d->col_ptr[i]; p < d->col_ptr[i + 1]; p++) {
                int32_t uu = d->col_user[p];
                int64_t k = recnn__dataset_find(d, uu, (int32_t)i);
                wid(&w, d->users, uu);
                wstr(&w, ",");
                wreal(&w, d->value[k], false);
                int64_t secs = d->time ? d->time[k] : 0;
                int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
                /* few distinct days: a direct-mapped cache of their text */
                datecache *dc = &cache[(uint64_t)days % DATE_CACHE];
                if (!dc->valid || dc->days != days) {
                    int64_t y;
                    int m, dd;
                    recnn__civil_from_days(days, &y, &m, &dd);
                    snprintf(dc->text, sizeof dc->text, ",%04lld-%02d-%02d\n",
                             (long long)y, m, dd);
                    dc->days = days;
                    dc->valid = true;
                }
                wstr(&w, dc->text);
            }
        }
        free(cache);
    } else {
        if (format == RECNN_FORMAT_CSV)
            wstr(&w, "userId,movieId,rating,timestamp\n");
        for (int64_t k = 0; k < d->n_ratings && !w.err; k++) {
            wid(&w, d->users, d->user[k]);
            wstr(&w, sep);
            wid(&w, d->items, d->item[k]);
            wstr(&w, sep);
            wreal(&w, d->value[k], format == RECNN_FORMAT_CSV);
            wstr(&w, sep);
            wi64(&w, d->time ? d->time[k] : 0);
            wstr(&w, "\n");
        }
    }
    wflush(&w);
    free(w.b);
    int e = recnn__replace_finish(&rp, w.f, w.err ? (errno ? errno : EIO) : 0);
    if (e)
        return recnn__fail(RECNN_E_IO, "%s: write failed: %s", path, strerror(e));
    return RECNN_OK;
}
