/* The evaluator: one parallel pass over users computing every top-K metric
 * for several K, from a model, a callback or a score matrix.
 *
 * Determinism: each user's values depend only on that user's scores and
 * the datasets, and are written to per-user arrays; means are reduced
 * afterwards in user order, so results do not depend on the thread count
 * or the schedule.  Ranking uses recnn__topk (the library's one order). */
#include "../data/dataset.h"
#include "../models/model.h"
#include "eval.h"

#include <ctype.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- settings ----------------------------------------------------------- */

enum { F1_MEAN = 0, F1_USER = 1 };

typedef struct evcfg {
    recnn__rankcfg rank;
    double threshold; /* NaN = none */
    int exclude_train, skip_unseen, f1, full_ranking;
    int64_t threads;
} evcfg;

/* Per-k slots of the per-user value array: the RECNN__U_* ones, then these. */
enum { S_NOVELTY = RECNN__U_COUNT, S_ILD, S_TVD, S_COUNT };

struct recnn_evaluator {
    recnn_dataset *train, *test; /* retained */
    int64_t n_users, n_items;
    evcfg cfg;

    /* from the training set */
    int32_t *pop;          /* training users per item (n_items), NULL w/o train */
    int64_t n_train_users; /* users with >= 1 training rating */
    double *selfinfo;      /* log2(n_train_users / max(pop, 1)), NULL w/o train */
    int32_t *never;        /* items without training ratings, ascending */
    int64_t n_never;

    /* explicit candidates (sorted, unique per user), NULL when unset */
    int64_t *cand_ptr;
    int32_t *cand_item;

    /* results of the last run */
    int have;
    evcfg rcfg;          /* the settings the results were computed with */
    int64_t n_counted;
    uint8_t *counted;    /* n_users */
    double *vals;        /* [(slot * n_k + ki) * n_users + u] */
    double *auc, *mrr_full; /* n_users each, NULL when not computed */
    int32_t *lists;      /* n_users * k_max */
    int32_t *list_len;   /* n_users */
    double mean[S_COUNT][RECNN__MAX_K];
    double f1_of_means[RECNN__MAX_K];
    double coverage[RECNN__MAX_K], gini[RECNN__MAX_K];
    double auc_mean, mrr_full_mean;
};

static void cfg_defaults(evcfg *c)
{
    memset(c, 0, sizeof *c);
    c->rank.n_k = 1;
    c->rank.ks[0] = 10;
    c->rank.map = RECNN__MAP_RELEVANT;
    c->rank.ndcg = RECNN__NDCG_BINARY;
    c->rank.precision = RECNN__PREC_K;
    c->threshold = NAN;
    c->exclude_train = 1;
    c->skip_unseen = 1;
    c->f1 = F1_MEAN;
    c->full_ranking = 1;
    c->threads = 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int set_ks(evcfg *c, size_t n, const int *ks)
{
    if (n == 0 || n > RECNN__MAX_K || !ks)
        return recnn__fail(RECNN_E_INVALID, "evaluator: between 1 and %d cut-offs k",
                           RECNN__MAX_K);
    int tmp[RECNN__MAX_K];
    for (size_t i = 0; i < n; i++) {
        if (ks[i] < 1 || ks[i] > 1000000)
            return recnn__fail(RECNN_E_INVALID, "evaluator: k=%d is outside 1..1000000",
                               ks[i]);
        tmp[i] = ks[i];
    }
    qsort(tmp, n, sizeof *tmp, cmp_int);
    int m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || tmp[m - 1] != tmp[i])
            tmp[m++] = tmp[i];
    c->rank.n_k = m;
    memcpy(c->rank.ks, tmp, (size_t)m * sizeof *tmp);
    return RECNN_OK;
}

static int parse_flag(const char *key, const char *v, int *out)
{
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
        *out = v[0] == '1';
        return RECNN_OK;
    }
    return recnn__fail(RECNN_E_INVALID, "evaluator: %s=\"%s\" must be 0 or 1", key, v);
}

static int parse_choice(const char *key, const char *v, const char *const *names,
                        int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return RECNN_OK;
        }
    return recnn__fail(RECNN_E_INVALID, "evaluator: %s=\"%s\" is not a known choice",
                       key, v);
}

static const char *const map_names[] = {"relevant", "min", "hits"};
static const char *const ndcg_names[] = {"binary", "rating", "exp2"};
static const char *const prec_names[] = {"k", "listed"};
static const char *const f1_names[] = {"mean", "user"};

/* Applies one key=value (text) to c. */
static int set_text(evcfg *c, const char *key, const char *v)
{
    if (!key || !v)
        return recnn__fail(RECNN_E_INVALID, "evaluator: key and value must not be NULL");
    if (strcmp(key, "k") == 0) {
        int ks[RECNN__MAX_K];
        size_t n = 0;
        const char *p = v;
        for (;;) {
            char *end;
            errno = 0;
            long x = strtol(p, &end, 10);
            if (end == p || errno || x < 1 || x > 1000000 || n == RECNN__MAX_K)
                return recnn__fail(RECNN_E_INVALID,
                                   "evaluator: k=\"%s\" is not a list of up to %d "
                                   "cut-offs in 1..1000000",
                                   v, RECNN__MAX_K);
            ks[n++] = (int)x;
            if (*end == '\0')
                break;
            if (*end != ',')
                return recnn__fail(RECNN_E_INVALID,
                                   "evaluator: k=\"%s\": separate cut-offs with commas", v);
            p = end + 1;
        }
        return set_ks(c, n, ks);
    }
    if (strcmp(key, "threshold") == 0) {
        if (strcmp(v, "none") == 0 || strcmp(v, "nan") == 0) {
            c->threshold = NAN;
            return RECNN_OK;
        }
        char *end;
        errno = 0;
        double x = recnn__strtod_c(v, &end);
        if (end == v || *end || errno || !isfinite(x))
            return recnn__fail(RECNN_E_INVALID,
                               "evaluator: threshold=\"%s\" is not a number or none", v);
        c->threshold = x;
        return RECNN_OK;
    }
    if (strcmp(key, "exclude_train") == 0)
        return parse_flag(key, v, &c->exclude_train);
    if (strcmp(key, "skip_unseen") == 0)
        return parse_flag(key, v, &c->skip_unseen);
    if (strcmp(key, "full_ranking") == 0)
        return parse_flag(key, v, &c->full_ranking);
    if (strcmp(key, "map") == 0)
        return parse_choice(key, v, map_names, 3, &c->rank.map);
    if (strcmp(key, "ndcg") == 0)
        return parse_choice(key, v, ndcg_names, 3, &c->rank.ndcg);
    if (strcmp(key, "precision") == 0)
        return parse_choice(key, v, prec_names, 2, &c->rank.precision);
    if (strcmp(key, "f1") == 0)
        return parse_choice(key, v, f1_names, 2, &c->f1);
    if (strcmp(key, "threads") == 0) {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || x < 0 || x > 4096)
            return recnn__fail(RECNN_E_INVALID,
                               "evaluator: threads=\"%s\" is not in 0..4096", v);
        c->threads = x;
        return RECNN_OK;
    }
    return recnn__fail(RECNN_E_NOTFOUND, "evaluator has no setting \"%s\"", key);
}

RECNN_API int recnn_evaluator_set_str(recnn_evaluator *e, const char *key,
                                      const char *value)
{
    if (!e)
        return recnn__fail(RECNN_E_INVALID, "evaluator must not be NULL");
    evcfg c = e->cfg;
    int st = set_text(&c, key, value);
    if (st == RECNN_OK)
        e->cfg = c;
    return st;
}

RECNN_API int recnn_evaluator_set_int(recnn_evaluator *e, const char *key, int64_t value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)value);
    return recnn_evaluator_set_str(e, key, buf);
}

RECNN_API int recnn_evaluator_set_float(recnn_evaluator *e, const char *key, double value)
{
    char buf[40];
    if (isnan(value))
        snprintf(buf, sizeof buf, "none");
    else if (value == floor(value) && fabs(value) < 1e15)
        recnn__snprintf_c(buf, sizeof buf, "%.0f", value);
    else
        recnn__snprintf_c(buf, sizeof buf, "%.17g", value);
    return recnn_evaluator_set_str(e, key, buf);
}

RECNN_API int recnn_evaluator_set_ks(recnn_evaluator *e, size_t n, const int *ks)
{
    if (!e)
        return recnn__fail(RECNN_E_INVALID, "evaluator must not be NULL");
    evcfg c = e->cfg;
    int st = set_ks(&c, n, ks);
    if (st == RECNN_OK)
        e->cfg = c;
    return st;
}

RECNN_API int recnn_evaluator_configure(recnn_evaluator *e, const char *settings)
{
    if (!e || !settings)
        return recnn__fail(RECNN_E_INVALID, "evaluator and settings must not be NULL");
    evcfg c = e->cfg;
    const char *p = settings;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        char buf[256];
        size_t len = (size_t)(p - tok);
        if (len >= sizeof buf)
            return recnn__fail(RECNN_E_INVALID, "evaluator: setting \"%.40s...\" too long",
                               tok);
        memcpy(buf, tok, len);
        buf[len] = '\0';
        char *eq = strchr(buf, '=');
        if (!eq || eq == buf)
            return recnn__fail(RECNN_E_INVALID, "evaluator: \"%s\" is not key=value", buf);
        *eq = '\0';
        int st = set_text(&c, buf, eq + 1);
        if (st)
            return st;
    }
    e->cfg = c;
    return RECNN_OK;
}

RECNN_API int recnn_evaluator_settings_string(const recnn_evaluator *e, char *buf,
                                              size_t size)
{
    if (!e || (!buf && size))
        return recnn__fail(RECNN_E_INVALID, "evaluator must not be NULL");
    const evcfg *c = &e->cfg;
    char ks[RECNN__MAX_K * 9 + 1];
    size_t kl = 0;
    for (int i = 0; i < c->rank.n_k; i++)
        kl += (size_t)snprintf(ks + kl, sizeof ks - kl, "%s%d", i ? "," : "", c->rank.ks[i]);
    char th[40];
    if (isnan(c->threshold))
        snprintf(th, sizeof th, "none");
    else
        recnn__snprintf_c(th, sizeof th, "%.17g", c->threshold);
    int n = snprintf(buf, size,
                     "k=%s threshold=%s exclude_train=%d skip_unseen=%d map=%s ndcg=%s "
                     "precision=%s f1=%s full_ranking=%d threads=%lld",
                     ks, th, c->exclude_train, c->skip_unseen, map_names[c->rank.map],
                     ndcg_names[c->rank.ndcg], prec_names[c->rank.precision],
                     f1_names[c->f1], c->full_ranking, (long long)c->threads);
    if (n < 0)
        return recnn__fail(RECNN_E_INVALID, "evaluator: formatting failed");
    return n;
}

/* ---- lifetime ----------------------------------------------------------- */

static void clear_results(recnn_evaluator *e)
{
    recnn__free(e->counted);
    recnn__free(e->vals);
    recnn__free(e->auc);
    recnn__free(e->mrr_full);
    recnn__free(e->lists);
    recnn__free(e->list_len);
    e->counted = NULL;
    e->vals = e->auc = e->mrr_full = NULL;
    e->lists = e->list_len = NULL;
    e->have = 0;
    e->n_counted = 0;
}

RECNN_API void recnn_evaluator_free(recnn_evaluator *e)
{
    if (!e)
        return;
    clear_results(e);
    recnn__free(e->pop);
    recnn__free(e->selfinfo);
    recnn__free(e->never);
    recnn__free(e->cand_ptr);
    recnn__free(e->cand_item);
    recnn__dataset_release(e->train);
    recnn__dataset_release(e->test);
    free(e);
}

RECNN_API int recnn_evaluator_create(recnn_evaluator **out, const recnn_dataset *train,
                                     const recnn_dataset *test)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "evaluator: out must not be NULL");
    *out = NULL;
    if (!test)
        return recnn__fail(RECNN_E_INVALID, "evaluator: the test set must not be NULL");
    if (train && (train->users != test->users || train->items != test->items ||
                  train->n_users != test->n_users || train->n_items != test->n_items))
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: train and test are not from one index space "
                           "(split both from one dataset)");
    if (test->n_items > INT32_MAX || test->n_users > INT32_MAX)
        return recnn__fail(RECNN_E_INVALID, "evaluator: index space too large");
    recnn_evaluator *e = calloc(1, sizeof *e);
    if (!e)
        return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory");
    e->n_users = test->n_users;
    e->n_items = test->n_items;
    cfg_defaults(&e->cfg);
    e->test = recnn__dataset_retain(test);
    e->train = train ? recnn__dataset_retain(train) : NULL;
    if (train) {
        size_t ni = (size_t)(e->n_items ? e->n_items : 1);
        e->pop = recnn__calloc(ni, sizeof *e->pop);
        e->selfinfo = recnn__alloc(ni, sizeof *e->selfinfo);
        e->never = recnn__alloc(ni, sizeof *e->never);
        if (!e->pop || !e->selfinfo || !e->never) {
            recnn_evaluator_free(e);
            return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory");
        }
        /* Users per item: a user rates an item at most once in a dataset,
         * so ratings per item = users per item. */
        for (int64_t k = 0; k < train->n_ratings; k++)
            e->pop[train->item[k]]++;
        for (int64_t u = 0; u < e->n_users; u++)
            e->n_train_users += train->row_ptr[u + 1] > train->row_ptr[u];
        for (int64_t i = 0; i < e->n_items; i++) {
            if (e->pop[i] == 0)
                e->never[e->n_never++] = (int32_t)i;
            double p = e->pop[i] > 0 ? (double)e->pop[i] : 1.0;
            e->selfinfo[i] = e->n_train_users > 0 ? log2((double)e->n_train_users / p)
                                                  : NAN;
        }
    }
    *out = e;
    return RECNN_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

RECNN_API int recnn_evaluator_set_candidates(recnn_evaluator *e, int64_t n_users,
                                             const int64_t *offsets,
                                             const int64_t *items)
{
    if (!e)
        return recnn__fail(RECNN_E_INVALID, "evaluator must not be NULL");
    if (n_users == 0) {
        recnn__free(e->cand_ptr);
        recnn__free(e->cand_item);
        e->cand_ptr = NULL;
        e->cand_item = NULL;
        return RECNN_OK;
    }
    if (n_users != e->n_users || !offsets)
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: candidates for %lld users, the index space has %lld",
                           (long long)n_users, (long long)e->n_users);
    if (offsets[0] != 0)
        return recnn__fail(RECNN_E_INVALID, "evaluator: candidate offsets[0] must be 0");
    for (int64_t u = 0; u < n_users; u++)
        if (offsets[u + 1] < offsets[u])
            return recnn__fail(RECNN_E_INVALID,
                               "evaluator: candidate offsets decrease at user %lld",
                               (long long)u);
    int64_t total = offsets[n_users];
    if (total && !items)
        return recnn__fail(RECNN_E_INVALID, "evaluator: candidate items must not be NULL");
    for (int64_t k = 0; k < total; k++)
        if (items[k] < 0 || items[k] >= e->n_items)
            return recnn__fail(RECNN_E_INVALID,
                               "evaluator: candidate item index %lld out of range",
                               (long long)items[k]);
    int64_t *ptr = recnn__alloc((size_t)n_users + 1, sizeof *ptr);
    int32_t *it = recnn__alloc((size_t)(total ? total : 1), sizeof *it);
    if (!ptr || !it) {
        recnn__free(ptr);
        recnn__free(it);
        return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory");
    }
    int64_t w = 0;
    ptr[0] = 0;
    for (int64_t u = 0; u < n_users; u++) {
        int64_t start = w;
        for (int64_t k = offsets[u]; k < offsets[u + 1]; k++)
            it[w++] = (int32_t)items[k];
        qsort(it + start, (size_t)(w - start), sizeof *it, cmp_i32);
        int64_t m = start;
        for (int64_t k = start; k < w; k++)
            if (m == start || it[m - 1] != it[k])
                it[m++] = it[k];
        w = m;
        ptr[u + 1] = w;
    }
    recnn__free(e->cand_ptr);
    recnn__free(e->cand_item);
    e->cand_ptr = ptr;
    e->cand_item = it;
    return RECNN_OK;
}

/* ---- the pass ----------------------------------------------------------- */

enum { SRC_MODEL, SRC_FN, SRC_MATRIX, SRC_VT };

typedef struct source {
    int kind;
    const recnn_model *model;
    recnn_score_fn fn;
    void *ctx;
    const float *matrix;
} source;

/* Per-thread scratch. */
typedef struct scratch {
    float *row;      /* n_items, for model/callback scores */
    float *cs;       /* gathered candidate scores (candidate lists) */
    int32_t *excl;   /* excluded positions, ascending */
    int32_t *list;   /* k_max positions */
    uint8_t *mark;   /* n_items: 1 = relevant for the current user */
    float *relv;     /* n_items: the relevant item's test rating */
    int32_t *rel;    /* relevant items of the current user */
    int64_t *keys;   /* their score keys, sorted */
    double *ideal;   /* their gains, sorted descending */
    uint8_t *lrel;   /* k_max: relevance per list position */
    double *lgain;   /* k_max: gain per list position */
    int32_t *nanp;   /* candidate positions with a NaN score, ascending */
    int32_t *excl2;  /* excl merged with nanp */
    int64_t *qkey;   /* per candidate position: order key (full ranking) */
    uint8_t *qrel;   /* per candidate position: relevant */
} scratch;

static void scratch_free(scratch *s)
{
    recnn__free(s->row);
    recnn__free(s->cs);
    recnn__free(s->excl);
    recnn__free(s->list);
    recnn__free(s->mark);
    recnn__free(s->relv);
    recnn__free(s->rel);
    recnn__free(s->keys);
    recnn__free(s->ideal);
    recnn__free(s->lrel);
    recnn__free(s->lgain);
    recnn__free(s->qkey);
    recnn__free(s->qrel);
    recnn__free(s->nanp);
    recnn__free(s->excl2);
    memset(s, 0, sizeof *s);
}

static int scratch_init(scratch *s, const recnn_evaluator *e, int64_t max_excl,
                        int64_t max_cand, int64_t max_test, int k_max, bool need_row)
{
    memset(s, 0, sizeof *s);
    size_t ni = (size_t)(e->n_items ? e->n_items : 1);
    s->row = need_row ? recnn__alloc(ni, sizeof *s->row) : NULL;
    s->cs = recnn__alloc((size_t)(max_cand ? max_cand : 1), sizeof *s->cs);
    s->excl = recnn__alloc((size_t)(max_excl ? max_excl : 1), sizeof *s->excl);
    s->list = recnn__alloc((size_t)k_max, sizeof *s->list);
    s->mark = recnn__calloc(ni, 1);
    s->relv = recnn__alloc(ni, sizeof *s->relv);
    size_t nt = (size_t)(max_test ? max_test : 1);
    s->rel = recnn__alloc(nt, sizeof *s->rel);
    s->keys = recnn__alloc(nt, sizeof *s->keys);
    s->ideal = recnn__alloc(nt, sizeof *s->ideal);
    s->lrel = recnn__alloc((size_t)k_max, sizeof *s->lrel);
    s->lgain = recnn__alloc((size_t)k_max, sizeof *s->lgain);
    size_t nq = e->cand_ptr ? (size_t)(max_cand ? max_cand : 1) : ni;
    s->qkey = recnn__alloc(nq, sizeof *s->qkey);
    s->qrel = recnn__alloc(nq, sizeof *s->qrel);
    s->nanp = recnn__alloc(nq, sizeof *s->nanp);
    s->excl2 = recnn__alloc(nq, sizeof *s->excl2);
    if (!s->qkey || !s->qrel || !s->nanp || !s->excl2 || (need_row && !s->row) || !s->cs || !s->excl || !s->list || !s->mark ||
        !s->relv || !s->rel || !s->keys || !s->ideal || !s->lrel || !s->lgain) {
        scratch_free(s);
        return RECNN_E_NOMEM;
    }
    return RECNN_OK;
}

static bool in_sorted(const int32_t *a, int64_t n, int32_t x)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Genre-membership counts of a set of items into cnt[0..n_genres);
 * returns the total membership. */
static double genre_counts(const recnn__meta *meta, const int32_t *items, int64_t n,
                           double *cnt)
{
    double total = 0;
    for (int g = 0; g < meta->n_genres; g++)
        cnt[g] = 0;
    for (int64_t j = 0; j < n; j++) {
        uint64_t b = meta->genres[items[j]];
        while (b) {
            int g = __builtin_ctzll(b);
            b &= b - 1;
            if (g < meta->n_genres) {
                cnt[g] += 1;
                total += 1;
            }
        }
    }
    return total;
}

static double genre_distance(uint64_t a, uint64_t b)
{
    int un = __builtin_popcountll(a | b);
    if (un == 0)
        return 0.0;
    return 1.0 - (double)__builtin_popcountll(a & b) / (double)un;
}

typedef struct failure {
    int64_t user; /* smallest failing user, or -1 */
    int status;
    char msg[512];
} failure;

static const recnn__meta *usable_meta(const recnn_evaluator *e)
{
    const recnn__meta *m = e->train ? e->train->meta : NULL;
    if (m && m->genres && m->n_items == e->n_items && m->n_genres > 0 && m->n_genres <= 64)
        return m;
    return NULL;
}

/* Evaluates user u (scratch s); writes its per-user values.  Returns a
 * status (only scoring can fail). */
static int eval_user(recnn_evaluator *e, const evcfg *c, const source *src, scratch *s,
                     int64_t u)
{
    const recnn_dataset *tr = e->train, *te = e->test;
    const int n_k = c->rank.n_k, k_max = c->rank.ks[n_k - 1];
    const int64_t nu = e->n_users;
    const int32_t *trow = tr ? tr->item + tr->row_ptr[u] : NULL;
    const int64_t ntrow = tr ? tr->row_ptr[u + 1] - tr->row_ptr[u] : 0;
    const bool excl_train = c->exclude_train && tr;
    const bool skip = c->skip_unseen && tr;
    const int32_t *cand = e->cand_ptr ? e->cand_item + e->cand_ptr[u] : NULL;
    const int64_t ncand = e->cand_ptr ? e->cand_ptr[u + 1] - e->cand_ptr[u] : 0;

    e->counted[u] = 0;
    e->list_len[u] = 0;
    if (skip && ntrow == 0)
        return RECNN_OK;
    if (e->cand_ptr && ncand == 0)
        return RECNN_OK;

    /* relevant items R(u) = test items >= threshold that are candidates */
    int64_t n_rel = 0;
    for (int64_t k = te->row_ptr[u]; k < te->row_ptr[u + 1]; k++) {
        int32_t i = te->item[k];
        float v = te->value[k];
        if (!isnan(c->threshold) && !((double)v >= c->threshold))
            continue;
        if (excl_train && in_sorted(trow, ntrow, i))
            continue;
        if (skip && e->pop[i] == 0)
            continue;
        if (cand && !in_sorted(cand, ncand, i))
            continue;
        s->mark[i] = 1;
        s->relv[i] = v;
        s->rel[n_rel++] = i;
    }
    if (n_rel == 0)
        return RECNN_OK;

    /* scores of the whole index space */
    const float *row;
    int st = RECNN_OK;
    if (src->kind == SRC_MATRIX) {
        row = src->matrix + u * e->n_items;
    } else if (src->kind == SRC_MODEL) {
        st = recnn_model_score_user(src->model, u, s->row);
        row = s->row;
    } else if (src->kind == SRC_VT) {
        st = src->model->vt->score_user(src->model, (int32_t)u, s->row);
        if (st)
            st = recnn__fail(st, "evaluator: scoring user %lld failed: %s", (long long)u,
                             recnn_last_error());
        row = s->row;
    } else {
        int r = src->fn(u, s->row, src->ctx);
        if (r != 0)
            st = r < 0 && r >= RECNN_E_STOPPED
                     ? recnn__fail(r, "evaluator: the score callback failed for user %lld",
                                   (long long)u)
                     : recnn__fail(RECNN_E_STOPPED,
                                   "evaluator: the score callback returned %d for user "
                                   "%lld",
                                   r, (long long)u);
        row = s->row;
    }
    if (st) {
        for (int64_t j = 0; j < n_rel; j++)
            s->mark[s->rel[j]] = 0;
        return st;
    }

    /* the universe of positions: all items, or the candidate list */
    const float *ps; /* score per position */
    int64_t npos;
    int64_t nex = 0;
    if (cand) {
        for (int64_t j = 0; j < ncand; j++)
            s->cs[j] = row[cand[j]];
        ps = s->cs;
        npos = ncand;
        for (int64_t j = 0; j < ncand; j++) {
            int32_t i = cand[j];
            if ((excl_train && in_sorted(trow, ntrow, i)) || (skip && e->pop[i] == 0))
                s->excl[nex++] = (int32_t)j;
        }
    } else {
        ps = row;
        npos = e->n_items;
        /* merge the user's training items with the never-rated items */
        const int64_t na = excl_train ? ntrow : 0, nb = skip ? e->n_never : 0;
        int64_t a = 0, b = 0;
        while (a < na || b < nb) {
            int32_t x;
            if (b >= nb || (a < na && trow[a] < e->never[b]))
                x = trow[a++];
            else if (a >= na || e->never[b] < trow[a])
                x = e->never[b++];
            else {
                x = trow[a++];
                b++;
            }
            s->excl[nex++] = x;
        }
    }
    /* top k_max */
    /* NaN scores rank last, among themselves by position (the tie
     * policy).  They are excluded from the heap selection and appended in
     * position order when fewer than k_max numbers are candidates. */
    int64_t nnan = 0;
    for (int64_t p = 0, x = 0; p < npos; p++) {
        if (!isnan(ps[p]))
            continue;
        while (x < nex && s->excl[x] < p)
            x++;
        if (x < nex && s->excl[x] == p)
            continue;
        s->nanp[nnan++] = (int32_t)p;
    }
    const int32_t *ex = s->excl;
    int64_t nex2 = nex;
    if (nnan) {
        int64_t a = 0, b = 0;
        nex2 = 0;
        while (a < nex || b < nnan)
            s->excl2[nex2++] = b >= nnan || (a < nex && s->excl[a] < s->nanp[b])
                                   ? s->excl[a++]
                                   : s->nanp[b++];
        ex = s->excl2;
    }
    int64_t n_list = recnn__topk(ps, npos, k_max, ex, nex2, s->list);
    for (int64_t b = 0; b < nnan && n_list < k_max; b++)
        s->list[n_list++] = s->nanp[b];
    int32_t *lst = e->lists + u * (int64_t)k_max;
    for (int64_t j = 0; j < n_list; j++) {
        int32_t i = cand ? cand[s->list[j]] : s->list[j];
        lst[j] = i;
        s->lrel[j] = s->mark[i];
        s->lgain[j] = s->mark[i] ? recnn__gain(c->rank.ndcg, s->relv[i]) : 0.0;
    }
    e->list_len[u] = (int32_t)n_list;

    const double *ideal = NULL;
    if (c->rank.ndcg != RECNN__NDCG_BINARY) {
        for (int64_t j = 0; j < n_rel; j++)
            s->ideal[j] = recnn__gain(c->rank.ndcg, s->relv[s->rel[j]]);
        qsort(s->ideal, (size_t)n_rel, sizeof *s->ideal, cmp_desc);
        ideal = s->ideal;
    }
    double out[RECNN__U_COUNT][RECNN__MAX_K];
    recnn__rank_user(&c->rank, n_list, s->lrel, s->lgain, n_rel, ideal, out);
    for (int m = 0; m < RECNN__U_COUNT; m++)
        for (int ki = 0; ki < n_k; ki++)
            e->vals[((int64_t)m * n_k + ki) * nu + u] = out[m][ki];

    /* whole-ranking metrics: AUC and MRR without cut-off.  Pass 1: the
     * order key of every candidate, the relevant ones' keys and the best
     * relevant candidate; pass 2: AUC credit of each non-relevant one. */
    if (c->full_ranking) {
        int64_t nq = 0, nr = 0, qbest = -1, bkey = 0;
        for (int64_t p = 0, x = 0; p < npos; p++) {
            while (x < nex && s->excl[x] < p)
                x++;
            if (x < nex && s->excl[x] == p)
                continue;
            int64_t key = recnn__score_key(ps[p]);
            uint8_t r = s->mark[cand ? cand[p] : p];
            s->qkey[nq] = key;
            s->qrel[nq] = r;
            if (r) {
                s->keys[nr++] = key;
                if (qbest < 0 || key > bkey) { /* ties: the earlier (smaller) index */
                    qbest = nq;
                    bkey = key;
                }
            }
            nq++;
        }
        qsort(s->keys, (size_t)nr, sizeof *s->keys, cmp_i64);
        int64_t before = 0, credit2 = 0, nneg = 0;
        for (int64_t q = 0; q < nq; q++) {
            int64_t key = s->qkey[q];
            before += key > bkey || (key == bkey && q < qbest);
            if (!s->qrel[q]) {
                nneg++;
                credit2 += recnn__auc_credit2(s->keys, nr, key);
            }
        }
        e->mrr_full[u] = 1.0 / (double)(before + 1);
        e->auc[u] = nneg > 0 ? (double)credit2 / (2.0 * (double)nr * (double)nneg) : NAN;
    }

    /* beyond accuracy */
    const recnn__meta *meta = usable_meta(e);
    double nov = 0, ild = 0;
    double hist[64], rec[64], hist_total = 0, rec_total = 0;
    if (meta) {
        hist_total = genre_counts(meta, trow, ntrow, hist);
        for (int g = 0; g < meta->n_genres; g++)
            rec[g] = 0;
    }
    int64_t j = 0;
    for (int ki = 0; ki < n_k; ki++) {
        int64_t lim = c->rank.ks[ki] < n_list ? c->rank.ks[ki] : n_list;
        for (; j < lim; j++) {
            int32_t i = lst[j];
            if (e->selfinfo)
                nov += e->selfinfo[i];
            if (meta) {
                uint64_t gi = meta->genres[i];
                for (int64_t q = 0; q < j; q++)
                    ild += genre_distance(gi, meta->genres[lst[q]]);
                uint64_t b = gi;
                while (b) {
                    int g = __builtin_ctzll(b);
                    b &= b - 1;
                    if (g < meta->n_genres) {
                        rec[g] += 1;
                        rec_total += 1;
                    }
                }
            }
        }
        double *v = e->vals + (int64_t)S_NOVELTY * n_k * nu;
        v[ki * nu + u] = e->selfinfo && lim > 0 ? nov / (double)lim : NAN;
        v = e->vals + (int64_t)S_ILD * n_k * nu;
        v[ki * nu + u] = meta && lim >= 2 ? ild / ((double)lim * (double)(lim - 1) / 2) : NAN;
        v = e->vals + (int64_t)S_TVD * n_k * nu;
        if (meta && hist_total > 0 && rec_total > 0) {
            double d = 0;
            for (int g = 0; g < meta->n_genres; g++)
                d += fabs(rec[g] / rec_total - hist[g] / hist_total);
            v[ki * nu + u] = d / 2;
        } else {
            v[ki * nu + u] = NAN;
        }
    }

    for (int64_t q = 0; q < n_rel; q++)
        s->mark[s->rel[q]] = 0;
    e->counted[u] = 1;
    return RECNN_OK;
}

/* Means in user order; coverage and Gini from the stored lists. */
static int reduce(recnn_evaluator *e, const evcfg *c)
{
    const int n_k = c->rank.n_k, k_max = c->rank.ks[n_k - 1];
    const int64_t nu = e->n_users;
    int64_t n_counted = 0;
    for (int64_t u = 0; u < nu; u++)
        n_counted += e->counted[u];
    e->n_counted = n_counted;
    for (int m = 0; m < S_COUNT; m++)
        for (int ki = 0; ki < n_k; ki++) {
            const double *v = e->vals + ((int64_t)m * n_k + ki) * nu;
            double sum = 0;
            int64_t n = 0;
            for (int64_t u = 0; u < nu; u++)
                if (e->counted[u] && !isnan(v[u])) {
                    sum += v[u];
                    n++;
                }
            e->mean[m][ki] = n ? sum / (double)n : NAN;
        }
    for (int ki = 0; ki < n_k; ki++) {
        double p = e->mean[RECNN__U_PREC][ki], r = e->mean[RECNN__U_REC][ki];
        e->f1_of_means[ki] = isnan(p) || isnan(r) ? NAN : p + r > 0 ? 2 * p * r / (p + r) : 0;
    }
    e->auc_mean = e->mrr_full_mean = NAN;
    if (c->full_ranking) {
        double sa = 0, sm = 0;
        int64_t na = 0, nm = 0;
        for (int64_t u = 0; u < nu; u++) {
            if (!e->counted[u])
                continue;
            if (!isnan(e->auc[u])) {
                sa += e->auc[u];
                na++;
            }
            sm += e->mrr_full[u];
            nm++;
        }
        e->auc_mean = na ? sa / (double)na : NAN;
        e->mrr_full_mean = nm ? sm / (double)nm : NAN;
    }

    /* exposure over the catalogue */
    int64_t *cnt = recnn__calloc((size_t)(e->n_items ? e->n_items : 1), sizeof *cnt);
    int64_t *cat = recnn__alloc((size_t)(e->n_items ? e->n_items : 1), sizeof *cat);
    if (!cnt || !cat) {
        recnn__free(cnt);
        recnn__free(cat);
        return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory");
    }
    bool skip = c->skip_unseen && e->train;
    int prev = 0;
    for (int ki = 0; ki < n_k; ki++) {
        int k = c->rank.ks[ki];
        for (int64_t u = 0; u < nu; u++) {
            if (!e->counted[u])
                continue;
            int64_t len = e->list_len[u];
            const int32_t *l = e->lists + u * (int64_t)k_max;
            for (int64_t j = prev; j < k && j < len; j++)
                cnt[l[j]]++;
        }
        prev = k;
        int64_t ncat = 0, covered = 0;
        for (int64_t i = 0; i < e->n_items; i++) {
            if (skip && e->pop[i] == 0)
                continue;
            cat[ncat++] = cnt[i];
            covered += cnt[i] > 0;
        }
        /* no user counted: no lists, so nothing to measure (NaN like the
         * per-user metrics), not a coverage of 0 */
        e->coverage[ki] = ncat && n_counted ? (double)covered / (double)ncat : NAN;
        e->gini[ki] = n_counted ? recnn__gini(cat, ncat) : NAN;
    }
    recnn__free(cnt);
    recnn__free(cat);
    return RECNN_OK;
}

static int run(recnn_evaluator *e, const source *src)
{
    const evcfg c = e->cfg;
    const int n_k = c.rank.n_k, k_max = c.rank.ks[n_k - 1];
    const int64_t nu = e->n_users;
    clear_results(e);

    /* scratch sizes */
    int64_t max_train = 0, max_test = 0, max_cand = 0, n_never = 0;
    if (e->train)
        for (int64_t u = 0; u < nu; u++) {
            int64_t n = e->train->row_ptr[u + 1] - e->train->row_ptr[u];
            max_train = n > max_train ? n : max_train;
        }
    for (int64_t u = 0; u < nu; u++) {
        int64_t n = e->test->row_ptr[u + 1] - e->test->row_ptr[u];
        max_test = n > max_test ? n : max_test;
        if (e->cand_ptr) {
            n = e->cand_ptr[u + 1] - e->cand_ptr[u];
            max_cand = n > max_cand ? n : max_cand;
        }
    }
    if (e->pop)
        for (int64_t i = 0; i < e->n_items; i++)
            n_never += e->pop[i] == 0;
    int64_t max_excl = e->cand_ptr ? max_cand : max_train + n_never;
    if (max_excl > e->n_items)
        max_excl = e->n_items;

    size_t n_vals;
    if (!recnn__mul_ok((size_t)S_COUNT * (size_t)n_k, (size_t)(nu ? nu : 1), &n_vals))
        return recnn__fail(RECNN_E_NOMEM, "evaluator: results too large");
    size_t n_lists;
    if (!recnn__mul_ok((size_t)(nu ? nu : 1), (size_t)k_max, &n_lists))
        return recnn__fail(RECNN_E_NOMEM, "evaluator: results too large");
    size_t un = (size_t)(nu ? nu : 1);
    e->counted = recnn__calloc(un, 1);
    e->vals = recnn__alloc(n_vals, sizeof *e->vals);
    e->lists = recnn__alloc(n_lists, sizeof *e->lists);
    e->list_len = recnn__calloc(un, sizeof *e->list_len);
    if (c.full_ranking) {
        e->auc = recnn__alloc(un, sizeof *e->auc);
        e->mrr_full = recnn__alloc(un, sizeof *e->mrr_full);
    }
    if (!e->counted || !e->vals || !e->lists || !e->list_len ||
        (c.full_ranking && (!e->auc || !e->mrr_full))) {
        clear_results(e);
        return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory for %lld users",
                           (long long)nu);
    }
    for (size_t k = 0; k < n_vals; k++)
        e->vals[k] = NAN;
    if (c.full_ranking)
        for (int64_t u = 0; u < nu; u++)
            e->auc[u] = e->mrr_full[u] = NAN;

    int threads = c.threads > 0 ? (int)c.threads : recnn__threads();
    if (nu < threads * 4)
        threads = nu > 0 ? (int)((nu + 3) / 4) : 1;
    failure fail = {-1, RECNN_OK, {0}};
    int nomem = 0;
    bool need_row = src->kind != SRC_MATRIX;
    if (src->kind == SRC_MODEL || src->kind == SRC_VT)
        recnn__blas_threads(1);
#pragma omp parallel num_threads(threads)
    {
        scratch s;
        int ok = scratch_init(&s, e, max_excl, max_cand, max_test, k_max, need_row);
        if (ok != RECNN_OK) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t u = 0; u < nu; u++) {
            int stop;
#pragma omp atomic read
            stop = nomem;
            if (stop || ok != RECNN_OK)
                continue;
            int r = eval_user(e, &c, src, &s, u);
            if (r != RECNN_OK) {
#pragma omp critical(recnn_eval_fail)
                {
                    if (fail.user < 0 || u < fail.user) {
                        fail.user = u;
                        fail.status = r;
                        snprintf(fail.msg, sizeof fail.msg, "%s", recnn_last_error());
                    }
                }
#pragma omp atomic write
                nomem = 2;
            }
        }
        if (ok == RECNN_OK)
            scratch_free(&s);
    }
    if (src->kind == SRC_MODEL || src->kind == SRC_VT)
        recnn__blas_threads(recnn__budget());
    if (fail.user >= 0) {
        clear_results(e);
        return recnn__fail(fail.status, "%s", fail.msg);
    }
    if (nomem) {
        clear_results(e);
        return recnn__fail(RECNN_E_NOMEM, "evaluator: out of memory for scratch space");
    }
    int st = reduce(e, &c);
    if (st) {
        clear_results(e);
        return st;
    }
    e->rcfg = c;
    e->have = 1;
    return RECNN_OK;
}

RECNN_API int recnn_evaluator_run_model(recnn_evaluator *e, const recnn_model *m)
{
    if (!e || !m)
        return recnn__fail(RECNN_E_INVALID, "evaluator and model must not be NULL");
    if (!recnn_model_is_fitted(m))
        return recnn__fail(RECNN_E_STATE, "evaluator: the model is not trained");
    if (!recnn__model_same_space(m, e->test))
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: the model was trained on another index space "
                           "than the test set");
    source src = {SRC_MODEL, m, NULL, NULL, NULL};
    return run(e, &src);
}

RECNN_API int recnn_evaluator_run_fn(recnn_evaluator *e, recnn_score_fn fn, void *ctx)
{
    if (!e || !fn)
        return recnn__fail(RECNN_E_INVALID, "evaluator and callback must not be NULL");
    source src = {SRC_FN, NULL, fn, ctx, NULL};
    return run(e, &src);
}

RECNN_API int recnn_evaluator_run_matrix(recnn_evaluator *e, const float *scores,
                                         int64_t n_users, int64_t n_items)
{
    if (!e || (!scores && n_users && n_items))
        return recnn__fail(RECNN_E_INVALID, "evaluator and scores must not be NULL");
    if (n_users != e->n_users || n_items != e->n_items)
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: score matrix is %lld x %lld, the index space is "
                           "%lld users x %lld items",
                           (long long)n_users, (long long)n_items, (long long)e->n_users,
                           (long long)e->n_items);
    source src = {SRC_MATRIX, NULL, NULL, NULL, scores};
    return run(e, &src);
}

double recnn__valid_topk(const recnn_model *m, const recnn_dataset *train,
                         const recnn_dataset *valid, int metric, int k,
                         const int64_t *cand_ptr, const int64_t *cand_item)
{
    if (!m || !m->vt || !m->vt->score_user || !valid || k < 1)
        return NAN;
    if (valid->users != m->users || valid->items != m->items ||
        valid->n_items != m->n_items || valid->n_users != m->n_users)
        return NAN;
    recnn_evaluator *e;
    if (recnn_evaluator_create(&e, train, valid) != RECNN_OK)
        return NAN;
    double v = NAN;
    int kk = k;
    if (recnn_evaluator_set_ks(e, 1, &kk) == RECNN_OK &&
        recnn_evaluator_set_int(e, "full_ranking", metric == RECNN_METRIC_AUC) == RECNN_OK &&
        (!cand_ptr ||
         recnn_evaluator_set_candidates(e, valid->n_users, cand_ptr, cand_item) == RECNN_OK)) {
        source src = {SRC_VT, m, NULL, NULL, NULL};
        if (run(e, &src) == RECNN_OK &&
            recnn_evaluator_value(e, metric, metric == RECNN_METRIC_AUC ? 0 : k, &v) != RECNN_OK)
            v = NAN;
    }
    recnn_evaluator_free(e);
    return v;
}

/* ---- results -------------------------------------------------------------- */

static int result_guard(const recnn_evaluator *e)
{
    if (!e)
        return recnn__fail(RECNN_E_INVALID, "evaluator must not be NULL");
    if (!e->have)
        return recnn__fail(RECNN_E_STATE, "evaluator: no results (run it first)");
    return RECNN_OK;
}

static int find_k(const recnn_evaluator *e, int k, int *ki)
{
    for (int i = 0; i < e->rcfg.rank.n_k; i++)
        if (e->rcfg.rank.ks[i] == k) {
            *ki = i;
            return RECNN_OK;
        }
    return recnn__fail(RECNN_E_INVALID, "evaluator: k=%d was not among the cut-offs", k);
}

/* slot in vals of a per-k per-user metric, or -1 */
static int slot_of(int metric)
{
    switch (metric) {
    case RECNN_METRIC_PRECISION: return RECNN__U_PREC;
    case RECNN_METRIC_RECALL: return RECNN__U_REC;
    case RECNN_METRIC_F1: return RECNN__U_F1;
    case RECNN_METRIC_MAP: return RECNN__U_MAP;
    case RECNN_METRIC_NDCG: return RECNN__U_NDCG;
    case RECNN_METRIC_HR: return RECNN__U_HR;
    case RECNN_METRIC_MRR: return RECNN__U_MRR;
    case RECNN_METRIC_NOVELTY: return S_NOVELTY;
    case RECNN_METRIC_ILD: return S_ILD;
    case RECNN_METRIC_GENRE_TVD: return S_TVD;
    default: return -1;
    }
}

static int whole_ranking_guard(const recnn_evaluator *e, int metric)
{
    if (!e->rcfg.full_ranking)
        return recnn__fail(RECNN_E_STATE,
                           "evaluator: %s needs full_ranking=1 (set it before the run)",
                           recnn_metric_name(metric));
    return RECNN_OK;
}

RECNN_API int recnn_evaluator_value(const recnn_evaluator *e, int metric, int k,
                                    double *value)
{
    int st = result_guard(e);
    if (st)
        return st;
    if (!value)
        return recnn__fail(RECNN_E_INVALID, "evaluator: value must not be NULL");
    if (metric < 0 || metric >= RECNN_METRIC_COUNT)
        return recnn__fail(RECNN_E_INVALID, "evaluator: unknown metric %d", metric);
    if (metric == RECNN_METRIC_AUC || (metric == RECNN_METRIC_MRR && k == 0)) {
        if (k != 0)
            return recnn__fail(RECNN_E_INVALID, "evaluator: query auc with k = 0");
        if ((st = whole_ranking_guard(e, metric)))
            return st;
        *value = metric == RECNN_METRIC_AUC ? e->auc_mean : e->mrr_full_mean;
        return RECNN_OK;
    }
    int ki = 0;
    if ((st = find_k(e, k, &ki)))
        return st;
    if (metric == RECNN_METRIC_COVERAGE)
        *value = e->coverage[ki];
    else if (metric == RECNN_METRIC_GINI)
        *value = e->gini[ki];
    else if (metric == RECNN_METRIC_F1 && e->rcfg.f1 == F1_MEAN)
        *value = e->f1_of_means[ki];
    else
        *value = e->mean[slot_of(metric)][ki];
    return RECNN_OK;
}

RECNN_API int recnn_evaluator_user_values(const recnn_evaluator *e, int metric, int k,
                                          double *values, int64_t n)
{
    int st = result_guard(e);
    if (st)
        return st;
    if (!values || n < e->n_users)
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: user_values needs room for %lld users",
                           (long long)e->n_users);
    if (metric < 0 || metric >= RECNN_METRIC_COUNT)
        return recnn__fail(RECNN_E_INVALID, "evaluator: unknown metric %d", metric);
    if (metric == RECNN_METRIC_COVERAGE || metric == RECNN_METRIC_GINI)
        return recnn__fail(RECNN_E_UNSUPPORTED, "evaluator: %s has no per-user value",
                           recnn_metric_name(metric));
    const double *src;
    if (metric == RECNN_METRIC_AUC || (metric == RECNN_METRIC_MRR && k == 0)) {
        if (k != 0)
            return recnn__fail(RECNN_E_INVALID, "evaluator: query auc with k = 0");
        if ((st = whole_ranking_guard(e, metric)))
            return st;
        src = metric == RECNN_METRIC_AUC ? e->auc : e->mrr_full;
    } else {
        int ki = 0;
        if ((st = find_k(e, k, &ki)))
            return st;
        src = e->vals + ((int64_t)slot_of(metric) * e->rcfg.rank.n_k + ki) * e->n_users;
    }
    for (int64_t u = 0; u < e->n_users; u++)
        values[u] = e->counted[u] ? src[u] : NAN;
    return RECNN_OK;
}

RECNN_API int64_t recnn_evaluator_n_counted(const recnn_evaluator *e)
{
    return e && e->have ? e->n_counted : 0;
}

RECNN_API int recnn_evaluator_user_list(const recnn_evaluator *e, int64_t user_index,
                                        int64_t *items, size_t cap, size_t *n_out)
{
    int st = result_guard(e);
    if (st)
        return st;
    if (!n_out || (cap && !items))
        return recnn__fail(RECNN_E_INVALID, "evaluator: NULL output");
    if (user_index < 0 || user_index >= e->n_users)
        return recnn__fail(RECNN_E_INVALID, "evaluator: user index %lld out of range",
                           (long long)user_index);
    int k_max = e->rcfg.rank.ks[e->rcfg.rank.n_k - 1];
    size_t len = e->counted[user_index] ? (size_t)e->list_len[user_index] : 0;
    const int32_t *l = e->lists + user_index * (int64_t)k_max;
    for (size_t j = 0; j < len && j < cap; j++)
        items[j] = l[j];
    *n_out = len;
    return RECNN_OK;
}

RECNN_API int recnn_evaluator_genre_distribution(const recnn_evaluator *e, int k,
                                                 int64_t user_index, double *rec,
                                                 double *hist, int n_genres)
{
    int st = result_guard(e);
    if (st)
        return st;
    const recnn__meta *meta = usable_meta(e);
    if (!meta)
        return recnn__fail(RECNN_E_STATE,
                           "evaluator: the training set has no item genres");
    if (n_genres != meta->n_genres)
        return recnn__fail(RECNN_E_INVALID,
                           "evaluator: the training set has %d genres, not %d",
                           meta->n_genres, n_genres);
    if (user_index < -1 || user_index >= e->n_users)
        return recnn__fail(RECNN_E_INVALID, "evaluator: user index %lld out of range",
                           (long long)user_index);
    int ki = 0;
    if ((st = find_k(e, k, &ki)))
        return st;
    int k_max = e->rcfg.rank.ks[e->rcfg.rank.n_k - 1];
    double rc[64] = {0}, hc[64] = {0}, tmp[64], rt = 0, ht = 0;
    int64_t u0 = user_index < 0 ? 0 : user_index;
    int64_t u1 = user_index < 0 ? e->n_users : user_index + 1;
    for (int64_t u = u0; u < u1; u++) {
        if (!e->counted[u])
            continue;
        int64_t len = e->list_len[u] < k ? e->list_len[u] : k;
        rt += genre_counts(meta, e->lists + u * (int64_t)k_max, len, tmp);
        for (int g = 0; g < n_genres; g++)
            rc[g] += tmp[g];
        const recnn_dataset *tr = e->train;
        ht += genre_counts(meta, tr->item + tr->row_ptr[u],
                           tr->row_ptr[u + 1] - tr->row_ptr[u], tmp);
        for (int g = 0; g < n_genres; g++)
            hc[g] += tmp[g];
    }
    for (int g = 0; g < n_genres; g++) {
        if (rec)
            rec[g] = rt > 0 ? rc[g] / rt : NAN;
        if (hist)
            hist[g] = ht > 0 ? hc[g] / ht : NAN;
    }
    return RECNN_OK;
}

static int append(char *buf, size_t size, size_t *len, const char *name, int k, double v)
{
    char key[48];
    if (k > 0)
        snprintf(key, sizeof key, "%s@%d", name, k);
    else
        snprintf(key, sizeof key, "%s", name);
    int n = snprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0,
                     "%s%s=%.6f", *len ? " " : "", key, v);
    if (n < 0)
        return -1;
    *len += (size_t)n;
    return 0;
}

RECNN_API int recnn_evaluator_report(const recnn_evaluator *e, char *buf, size_t size)
{
    int st = result_guard(e);
    if (st)
        return st;
    if (!buf && size)
        return recnn__fail(RECNN_E_INVALID, "evaluator: NULL buffer");
    size_t len = 0;
    static const int order[] = {RECNN_METRIC_PRECISION, RECNN_METRIC_RECALL,
                                RECNN_METRIC_F1,        RECNN_METRIC_MAP,
                                RECNN_METRIC_NDCG,      RECNN_METRIC_HR,
                                RECNN_METRIC_MRR,       RECNN_METRIC_COVERAGE,
                                RECNN_METRIC_GINI,      RECNN_METRIC_NOVELTY,
                                RECNN_METRIC_ILD,       RECNN_METRIC_GENRE_TVD};
    for (size_t m = 0; m < sizeof order / sizeof *order; m++)
        for (int ki = 0; ki < e->rcfg.rank.n_k; ki++) {
            double v;
            recnn_evaluator_value(e, order[m], e->rcfg.rank.ks[ki], &v);
            if (isnan(v) && order[m] >= RECNN_METRIC_NOVELTY)
                continue;
            if (append(buf, size, &len, recnn_metric_name(order[m]), e->rcfg.rank.ks[ki], v))
                return recnn__fail(RECNN_E_INVALID, "evaluator: formatting failed");
        }
    if (e->rcfg.full_ranking) {
        if (append(buf, size, &len, "mrr", 0, e->mrr_full_mean) ||
            append(buf, size, &len, "auc", 0, e->auc_mean))
            return recnn__fail(RECNN_E_INVALID, "evaluator: formatting failed");
    }
    if (size > 0 && len >= size)
        buf[size - 1] = '\0';
    if (size > 0 && len == 0)
        buf[0] = '\0';
    return (int)len;
}
