/* Evaluation protocols: random hold-out, k-fold, per-user chronological,
 * leave-one-out, candidate lists with sampled negatives (NCF), and
 * negative sampling for training. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { P_TRAIN = 0, P_VALID = 1, P_TEST = 2, P_DROP = 3 };

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void recnn__rng_block(recnn_rng *r, uint64_t seed, uint64_t b)
{
    recnn__rng_seed(r, mix64(seed ^ mix64(b + 0x9e3779b97f4a7c15ULL)));
}

RECNN_API void recnn_split_options_init(recnn_split_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->seed = 42;
    o->test_fraction = 0.1;
    o->valid_fraction = 0.0;
    o->per_user = 0;
    o->unseen = RECNN_SPLIT_KEEP_UNSEEN;
    o->min_ratings = 1;
}

static int resolve(recnn_split_options *o, const recnn_split_options *in)
{
    recnn_split_options_init(o);
    if (in) {
        if (in->size < sizeof(size_t) || in->size > 4096)
            return recnn__fail(RECNN_E_INVALID, "split options: size %zu is not a "
                               "recnn_split_options size", in->size);
        memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
        o->size = sizeof *o;
    }
    if (!(o->test_fraction >= 0 && o->test_fraction < 1))
        return recnn__fail(RECNN_E_INVALID, "split: test_fraction %g not in [0, 1)",
                           o->test_fraction);
    if (!(o->valid_fraction >= 0 && o->valid_fraction < 1))
        return recnn__fail(RECNN_E_INVALID, "split: valid_fraction %g not in [0, 1)",
                           o->valid_fraction);
    if (o->unseen < RECNN_SPLIT_KEEP_UNSEEN || o->unseen > RECNN_SPLIT_UNSEEN_TO_TRAIN)
        return recnn__fail(RECNN_E_INVALID, "split: unknown unseen mode %d", o->unseen);
    return RECNN_OK;
}

static int begin(const recnn_dataset *d, recnn_dataset **train, recnn_dataset **valid,
                 recnn_dataset **test, const recnn_split_options *o)
{
    if (train)
        *train = NULL;
    if (valid)
        *valid = NULL;
    if (test)
        *test = NULL;
    if (!d || !train || !test)
        return recnn__fail(RECNN_E_INVALID, "dataset, train and test must not be NULL");
    if (o && o->valid_fraction > 0 && !valid)
        return recnn__fail(RECNN_E_INVALID, "split: valid_fraction > 0 needs a valid "
                           "out-parameter");
    return RECNN_OK;
}

/* Applies the unseen mode to the held-out parts, then builds the datasets. */
static int make_parts(const recnn_dataset *d, uint8_t *part, int unseen, bool want_valid,
                      recnn_dataset **train, recnn_dataset **valid, recnn_dataset **test)
{
    int64_t n = d->n_ratings;
    int st = RECNN_OK;
    if (unseen != RECNN_SPLIT_KEEP_UNSEEN) {
        int64_t *cu = calloc((size_t)d->n_users + 1, sizeof *cu);
        int64_t *ci = calloc((size_t)d->n_items + 1, sizeof *ci);
        if (!cu || !ci) {
            free(cu);
            free(ci);
            return recnn__fail(RECNN_E_NOMEM, "out of memory");
        }
        for (int64_t k = 0; k < n; k++)
            if (part[k] == P_TRAIN) {
                cu[d->user[k]]++;
                ci[d->item[k]]++;
            }
        for (int64_t k = 0; k < n; k++)
            if (part[k] != P_TRAIN && (!cu[d->user[k]] || !ci[d->item[k]])) {
                if (unseen == RECNN_SPLIT_DROP_UNSEEN) {
                    part[k] = P_DROP;
                } else {
                    part[k] = P_TRAIN;
                    cu[d->user[k]]++;
                    ci[d->item[k]]++;
                }
            }
        free(cu);
        free(ci);
    }
    uint8_t *keep = malloc((size_t)(n ? n : 1));
    if (!keep)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    recnn_dataset *r[3] = {NULL, NULL, NULL};
    for (int p = 0; p < 3 && !st; p++) {
        if (p == P_VALID && !want_valid)
            continue;
        for (int64_t k = 0; k < n; k++)
            keep[k] = part[k] == p;
        r[p] = recnn__dataset_copy(d, keep);
        if (!r[p])
            st = recnn__fail(RECNN_E_NOMEM, "out of memory building a split");
    }
    free(keep);
    if (st) {
        for (int p = 0; p < 3; p++)
            recnn__dataset_release(r[p]);
        return st;
    }
    *train = r[P_TRAIN];
    *test = r[P_TEST];
    if (valid)
        *valid = r[P_VALID];
    return RECNN_OK;
}

/* Marks exactly `want` of the entries idx[0..m) whose part == from as `to`,
 * uniformly (selection sampling, Knuth's algorithm S). */
static void select_some(recnn_rng *r, uint8_t *part, int64_t b, int64_t e, int from,
                        int to, int64_t want)
{
    int64_t avail = 0;
    for (int64_t k = b; k < e; k++)
        avail += part[k] == from;
    for (int64_t k = b; k < e && want > 0; k++) {
        if (part[k] != from)
            continue;
        if ((int64_t)recnn__rng_below(r, (uint64_t)avail) < want) {
            part[k] = (uint8_t)to;
            want--;
        }
        avail--;
    }
}

static int64_t round_share(double f, int64_t m) { return (int64_t)llround(f * (double)m); }

RECNN_API int recnn_split_random(const recnn_dataset *d, const recnn_split_options *opts,
                                 recnn_dataset **train, recnn_dataset **valid,
                                 recnn_dataset **test)
{
    recnn_split_options o;
    int st = resolve(&o, opts);
    if (!st)
        st = begin(d, train, valid, test, &o);
    if (st)
        return st;
    int64_t n = d->n_ratings;
    uint8_t *part = calloc((size_t)(n ? n : 1), 1);
    if (!part)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    recnn_rng r;
    if (o.per_user) {
        for (int64_t u = 0; u < d->n_users; u++) {
            int64_t b = d->row_ptr[u], e = d->row_ptr[u + 1], m = e - b;
            if (!m)
                continue;
            recnn__rng_block(&r, o.seed, (uint64_t)u);
            int64_t nt = round_share(o.test_fraction, m);
            select_some(&r, part, b, e, P_TRAIN, P_TEST, nt);
            select_some(&r, part, b, e, P_TRAIN, P_VALID,
                        round_share(o.valid_fraction, m - nt));
        }
    } else {
        recnn__rng_seed(&r, o.seed);
        int64_t nt = round_share(o.test_fraction, n);
        select_some(&r, part, 0, n, P_TRAIN, P_TEST, nt);
        select_some(&r, part, 0, n, P_TRAIN, P_VALID, round_share(o.valid_fraction, n - nt));
    }
    st = make_parts(d, part, o.unseen, o.valid_fraction > 0, train, valid, test);
    free(part);
    return st;
}

RECNN_API int recnn_split_kfold(const recnn_dataset *d, int k, int fold, uint64_t seed,
                                recnn_dataset **train, recnn_dataset **test)
{
    int st = begin(d, train, NULL, test, NULL);
    if (st)
        return st;
    if (k < 2 || k > 255 || fold < 0 || fold >= k)
        return recnn__fail(RECNN_E_INVALID, "kfold: need 2 <= k <= 255 and 0 <= fold < k "
                           "(k = %d, fold = %d)", k, fold);
    int64_t n = d->n_ratings;
    uint8_t *lab = malloc((size_t)(n ? n : 1));
    if (!lab)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t x = 0; x < n; x++)
        lab[x] = (uint8_t)(x % k);
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    recnn__rng_shuffle(&r, lab, (size_t)n, 1);
    for (int64_t x = 0; x < n; x++)
        lab[x] = lab[x] == fold ? P_TEST : P_TRAIN;
    st = make_parts(d, lab, RECNN_SPLIT_KEEP_UNSEEN, false, train, NULL, test);
    free(lab);
    return st;
}

typedef struct tkey {
    int64_t t;
    int64_t pos;
} tkey;

static int cmp_tkey(const void *a, const void *b)
{
    const tkey *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Training count of Recommenders' rule: #{ j in 1..m : j / m <= ratio }. */
static int64_t chrono_keep(int64_t m, double ratio)
{
    int64_t c = (int64_t)floor(ratio * (double)m);
    if (c < 0)
        c = 0;
    if (c > m)
        c = m;
    while (c < m && (double)(c + 1) / (double)m <= ratio)
        c++;
    while (c > 0 && (double)c / (double)m > ratio)
        c--;
    return c;
}

RECNN_API int recnn_split_chrono(const recnn_dataset *d, const recnn_split_options *opts,
                                 recnn_dataset **train, recnn_dataset **valid,
                                 recnn_dataset **test)
{
    recnn_split_options o;
    int st = resolve(&o, opts);
    if (!st)
        st = begin(d, train, valid, test, &o);
    if (st)
        return st;
    if (!d->time)
        return recnn__fail(RECNN_E_INVALID, "chronological split: the dataset has no "
                           "timestamps");
    int64_t n = d->n_ratings, maxrow = 1;
    for (int64_t u = 0; u < d->n_users; u++)
        if (d->row_ptr[u + 1] - d->row_ptr[u] > maxrow)
            maxrow = d->row_ptr[u + 1] - d->row_ptr[u];
    uint8_t *part = calloc((size_t)(n ? n : 1), 1);
    tkey *row = malloc((size_t)maxrow * sizeof *row);
    if (!part || !row) {
        free(part);
        free(row);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    const double ratio = 1.0 - o.test_fraction, vratio = 1.0 - o.valid_fraction;
    for (int64_t u = 0; u < d->n_users; u++) {
        int64_t b = d->row_ptr[u], m = d->row_ptr[u + 1] - b;
        if (m == 0 || m < o.min_ratings)
            continue;
        for (int64_t k = 0; k < m; k++) {
            row[k].t = d->time[b + k];
            row[k].pos = b + k; /* rows are sorted by item: ties -> item order */
        }
        qsort(row, (size_t)m, sizeof *row, cmp_tkey);
        int64_t ntr = chrono_keep(m, ratio);
        for (int64_t j = ntr; j < m; j++)
            part[row[j].pos] = P_TEST;
        if (o.valid_fraction > 0) {
            int64_t nfit = chrono_keep(ntr, vratio);
            for (int64_t j = nfit; j < ntr; j++)
                part[row[j].pos] = P_VALID;
        }
    }
    free(row);
    st = make_parts(d, part, o.unseen, o.valid_fraction > 0, train, valid, test);
    free(part);
    return st;
}

RECNN_API int recnn_split_leave_one_out(const recnn_dataset *d,
                                        const recnn_split_options *opts,
                                        recnn_dataset **train, recnn_dataset **test)
{
    recnn_split_options o;
    int st = resolve(&o, opts);
    if (!st)
        st = begin(d, train, NULL, test, NULL);
    if (st)
        return st;
    int64_t n = d->n_ratings;
    uint8_t *part = calloc((size_t)(n ? n : 1), 1);
    if (!part)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t u = 0; u < d->n_users; u++) {
        int64_t b = d->row_ptr[u], e = d->row_ptr[u + 1];
        if (e - b < 2)
            continue;
        int64_t pick = b;
        if (d->time) {
            for (int64_t k = b + 1; k < e; k++)
                if (d->time[k] >= d->time[pick])
                    pick = k;
        } else {
            recnn_rng r;
            recnn__rng_block(&r, o.seed, (uint64_t)u);
            pick = b + (int64_t)recnn__rng_below(&r, (uint64_t)(e - b));
        }
        part[pick] = P_TEST;
    }
    st = make_parts(d, part, o.unseen, false, train, NULL, test);
    free(part);
    return st;
}

/* ---- candidate lists ------------------------------------------------------ */

struct recnn_candidates {
    int64_t n_users;
    int64_t *offsets;
    int64_t *items;
};

RECNN_API void recnn_candidates_free(recnn_candidates *c)
{
    if (!c)
        return;
    free(c->offsets);
    free(c->items);
    free(c);
}

RECNN_API int64_t recnn_candidates_n_users(const recnn_candidates *c)
{
    return c ? c->n_users : 0;
}

RECNN_API const int64_t *recnn_candidates_offsets(const recnn_candidates *c)
{
    return c ? c->offsets : NULL;
}

RECNN_API const int64_t *recnn_candidates_items(const recnn_candidates *c)
{
    return c ? c->items : NULL;
}

/* An item is a possible negative only if training has a rating of it: a
 * model has seen nothing of any other item, and the evaluator leaves such
 * items out of C(u) by default (skip_unseen=1), which would shorten the
 * 1 + N list. */
static bool seen_in(const recnn_dataset *train, int32_t i)
{
    return train->col_ptr[i + 1] > train->col_ptr[i];
}

/* Possible negatives of u: items seen in training that u rated in neither
 * part (u's training items are seen by definition). */
static int64_t negative_pool(const recnn_dataset *train, const recnn_dataset *test,
                             int64_t n_seen, int64_t u)
{
    int64_t x = train->row_ptr[u], xe = train->row_ptr[u + 1];
    int64_t n = n_seen - (xe - x);
    for (int64_t y = test->row_ptr[u]; y < test->row_ptr[u + 1]; y++) {
        int32_t i = test->item[y];
        while (x < xe && train->item[x] < i)
            x++;
        if ((x == xe || train->item[x] != i) && seen_in(train, i))
            n--;
    }
    return n;
}

RECNN_API int recnn_candidates_sample(recnn_candidates **out, const recnn_dataset *train,
                                      const recnn_dataset *test, int64_t n_negatives,
                                      uint64_t seed)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!train || !test)
        return recnn__fail(RECNN_E_INVALID, "train and test must not be NULL");
    if (!recnn_dataset_same_space(train, test))
        return recnn__fail(RECNN_E_INVALID, "candidates: train and test must share one "
                           "index space");
    if (n_negatives < 0)
        return recnn__fail(RECNN_E_INVALID, "candidates: n_negatives must be >= 0");
    const int64_t nu = test->n_users, ni = test->n_items;
    recnn_candidates *c = calloc(1, sizeof *c);
    if (!c)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    c->n_users = nu;
    c->offsets = calloc((size_t)nu + 1, sizeof *c->offsets);
    if (!c->offsets) {
        recnn_candidates_free(c);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    int64_t n_seen = 0;
    for (int32_t i = 0; i < ni; i++)
        n_seen += seen_in(train, i);
    for (int64_t u = 0; u < nu; u++) {
        int64_t npos = test->row_ptr[u + 1] - test->row_ptr[u], len = 0;
        if (npos) {
            int64_t avail = negative_pool(train, test, n_seen, u);
            len = npos + (avail < n_negatives ? avail : n_negatives);
        }
        c->offsets[u + 1] = c->offsets[u] + len;
    }
    c->items = malloc((size_t)(c->offsets[nu] ? c->offsets[nu] : 1) * sizeof *c->items);
    if (!c->items) {
        recnn_candidates_free(c);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    int nth = recnn__threads();
    int32_t *stamps = malloc((size_t)nth * (size_t)(ni ? ni : 1) * sizeof *stamps);
    int32_t *pool = malloc((size_t)nth * (size_t)(ni ? ni : 1) * sizeof *pool);
    if (!stamps || !pool) {
        free(stamps);
        free(pool);
        recnn_candidates_free(c);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    memset(stamps, 0xff, (size_t)nth * (size_t)(ni ? ni : 1) * sizeof *stamps);
#pragma omp parallel for schedule(dynamic, 64) num_threads(nth)
    for (int64_t u = 0; u < nu; u++) {
        int64_t o = c->offsets[u], len = c->offsets[u + 1] - o;
        if (!len)
            continue;
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        int32_t *mark = stamps + (size_t)tid * (size_t)ni;
        int32_t *pl = pool + (size_t)tid * (size_t)ni;
        int32_t st = (int32_t)u;
        int64_t w = o;
        for (int64_t k = test->row_ptr[u]; k < test->row_ptr[u + 1]; k++) {
            c->items[w++] = test->item[k];
            mark[test->item[k]] = st;
        }
        for (int64_t k = train->row_ptr[u]; k < train->row_ptr[u + 1]; k++)
            mark[train->item[k]] = st;
        int64_t need = len - (w - o);
        int64_t avail = negative_pool(train, test, n_seen, u);
        recnn_rng r;
        recnn__rng_block(&r, seed, (uint64_t)u);
        if (need * 2 <= avail) {
            while (need > 0) {
                int32_t it = (int32_t)recnn__rng_below(&r, (uint64_t)ni);
                if (mark[it] == st || !seen_in(train, it))
                    continue;
                mark[it] = st;
                c->items[w++] = it;
                need--;
            }
        } else {
            /* dense case: partial Fisher-Yates over the explicit pool */
            int64_t np = 0;
            for (int32_t it = 0; it < ni; it++)
                if (mark[it] != st && seen_in(train, it))
                    pl[np++] = it;
            for (int64_t j = 0; j < need; j++) {
                int64_t x = j + (int64_t)recnn__rng_below(&r, (uint64_t)(np - j));
                int32_t tmp = pl[j];
                pl[j] = pl[x];
                pl[x] = tmp;
                c->items[w++] = pl[j];
            }
        }
    }
    free(stamps);
    free(pool);
    *out = c;
    return RECNN_OK;
}

/* ---- negative sampling for training ---------------------------------------- */

#define NEG_BLOCK 4096

typedef struct alias_tab {
    double *prob;
    int32_t *alias;
    double *w;    /* the weights */
} alias_tab;

static void alias_free(alias_tab *a)
{
    free(a->prob);
    free(a->alias);
    free(a->w);
}

/* Vose's alias method over weights w[0..n). */
static int alias_build(alias_tab *a, const recnn_dataset *d, double exponent)
{
    int64_t n = d->n_items;
    memset(a, 0, sizeof *a);
    a->prob = malloc((size_t)n * sizeof *a->prob);
    a->alias = malloc((size_t)n * sizeof *a->alias);
    a->w = malloc((size_t)n * sizeof *a->w);
    int32_t *small = malloc((size_t)n * sizeof *small), *large = malloc((size_t)n * sizeof *large);
    if (!a->prob || !a->alias || !a->w || !small || !large) {
        free(small);
        free(large);
        alias_free(a);
        return RECNN_E_NOMEM;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t cnt = d->col_ptr[i + 1] - d->col_ptr[i];
        a->w[i] = cnt ? pow((double)cnt, exponent) : 0.0;
        sum += a->w[i];
    }
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        a->prob[i] = sum > 0 ? a->w[i] * (double)n / sum : 1.0;
        a->alias[i] = (int32_t)i;
        if (a->prob[i] < 1.0)
            small[ns++] = (int32_t)i;
        else
            large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        a->alias[s] = l;
        a->prob[l] -= 1.0 - a->prob[s];
        if (a->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl)
        a->prob[large[--nl]] = 1.0;
    while (ns)
        a->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
    return RECNN_OK;
}

static bool in_row(const int32_t *row, int64_t len, int32_t it)
{
    int64_t lo = 0, hi = len;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (row[mid] < it)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < len && row[lo] == it;
}

/* Exact draw among the items not in row (weights w or uniform); -1 when
 * none has positive weight. */
static int32_t draw_complement(recnn_rng *r, const int32_t *row, int64_t len, int64_t ni,
                               const double *w)
{
    double total = 0;
    int64_t p = 0;
    for (int64_t it = 0; it < ni; it++) {
        if (p < len && row[p] == it) {
            p++;
            continue;
        }
        total += w ? w[it] : 1.0;
    }
    if (!(total > 0))
        return -1;
    double x = recnn__rng_uniform(r) * total;
    int32_t last = -1;
    p = 0;
    for (int64_t it = 0; it < ni; it++) {
        if (p < len && row[p] == it) {
            p++;
            continue;
        }
        double wi = w ? w[it] : 1.0;
        if (wi > 0) {
            last = (int32_t)it;
            if (x < wi)
                return (int32_t)it;
            x -= wi;
        }
    }
    return last;
}

int recnn__sample_negatives(const recnn_dataset *d, int64_t k, int mode, double exponent,
                            uint64_t seed, int32_t *out)
{
    const int64_t n = d->n_ratings, ni = d->n_items;
    alias_tab at;
    bool pop = mode == RECNN_NEG_POPULARITY;
    if (pop && alias_build(&at, d, exponent) != RECNN_OK)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    const int64_t nblocks = (n + NEG_BLOCK - 1) / NEG_BLOCK;
    int64_t bad_user = INT64_MAX;
#pragma omp parallel for schedule(dynamic, 1) num_threads(recnn__threads())
    for (int64_t b = 0; b < nblocks; b++) {
        recnn_rng r;
        recnn__rng_block(&r, seed, (uint64_t)b);
        int64_t e = (b + 1) * NEG_BLOCK < n ? (b + 1) * NEG_BLOCK : n;
        for (int64_t x = b * NEG_BLOCK; x < e; x++) {
            int32_t u = d->user[x];
            const int32_t *row = d->item + d->row_ptr[u];
            int64_t len = d->row_ptr[u + 1] - d->row_ptr[u];
            for (int64_t j = 0; j < k; j++) {
                int32_t it = -1;
                for (int tries = 0; tries < 32; tries++) {
                    int32_t c;
                    if (pop) {
                        c = (int32_t)recnn__rng_below(&r, (uint64_t)ni);
                        if (recnn__rng_uniform(&r) >= at.prob[c])
                            c = at.alias[c];
                        if (!(at.w[c] > 0))
                            continue;
                    } else {
                        c = (int32_t)recnn__rng_below(&r, (uint64_t)ni);
                    }
                    if (!in_row(row, len, c)) {
                        it = c;
                        break;
                    }
                }
                if (it < 0)
                    it = draw_complement(&r, row, len, ni, pop ? at.w : NULL);
                if (it < 0) {
#pragma omp critical(recnn_negatives)
                    if (u < bad_user)
                        bad_user = u;
                    it = 0;
                }
                out[x * k + j] = it;
            }
        }
    }
    if (pop)
        alias_free(&at);
    if (bad_user != INT64_MAX)
        return recnn__fail(RECNN_E_INVALID, "negative sampling: user %lld has no item "
                           "left to sample as a negative",
                           (long long)d->users->ext[bad_user]);
    return RECNN_OK;
}

RECNN_API int recnn_dataset_sample_negatives(const recnn_dataset *d, int64_t k, int mode,
                                             double exponent, uint64_t seed,
                                             int32_t *out)
{
    if (!d)
        return recnn__fail(RECNN_E_INVALID, "dataset must not be NULL");
    if (k < 1)
        return recnn__fail(RECNN_E_INVALID, "negative sampling: k must be >= 1");
    if (mode != RECNN_NEG_UNIFORM && mode != RECNN_NEG_POPULARITY)
        return recnn__fail(RECNN_E_INVALID, "negative sampling: unknown mode %d", mode);
    if (!isfinite(exponent) || exponent < 0)
        return recnn__fail(RECNN_E_INVALID, "negative sampling: exponent must be finite "
                           "and >= 0");
    if (d->n_ratings && !out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    if (d->n_ratings > INT64_MAX / k)
        return recnn__fail(RECNN_E_INVALID, "negative sampling: too many samples");
    return recnn__sample_negatives(d, k, mode, exponent, seed, out);
}
