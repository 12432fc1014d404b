/* Neighbourhood models: item-KNN (kind "itemknn"), user-KNN ("userknn") and
 * the baseline-corrected KNN of Koren 2010 / Surprise's KNNBaseline
 * ("knnbaseline", item- or user-based).
 *
 * Similarities are computed from the sparse CSR/CSC views, one entity (item
 * or user) at a time per thread: the co-rating statistics of entity a with
 * every entity b are accumulated by walking a's raters and their rows, then
 * only a's best `keep` neighbours with positive similarity are kept (a
 * bounded heap).  Memory is entities x keep, never a dense similarity
 * matrix.  Similarities (sums over the co-rating users/items of a and b):
 *   cosine            sum x_a x_b / sqrt(sum x_a^2 sum x_b^2), x = r
 *   adjusted_cosine   the same with x = r - mean of the rater (item-based:
 *                     the user's mean; user-based: the item's mean) —
 *                     Sarwar et al. 2001, the AE/MF/KNN paper's KNN
 *   pearson           Pearson correlation over the co-ratings
 *   pearson_baseline  cosine of x = r - b_ui (baseline residuals)
 * optionally shrunk by (n-1)/(n-1+shrinkage) (n = co-ratings), and pairs
 * with fewer than min_support co-ratings dropped.
 *
 * Prediction of (u, i), item-based: walk i's neighbour list best first and
 * use the first k neighbours j that u rated ("the K most similar items that
 * the user rated" within the stored list):
 *   mean      sum s_ij r_uj / sum s_ij                   (the paper's formula)
 *   centered  mean_i + sum s_ij (r_uj - mean_j) / sum s_ij
 *   baseline  b_ui + sum s_ij (r_uj - b_uj) / sum s_ij   (KNNBaseline)
 * and symmetrically for user-based.  With fewer than min_k neighbours the
 * prediction is the fallback (mean: the user's mean for item-based / the
 * item's mean for user-based; centered: mean_i / mean_u; baseline: b_ui). */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct knn_cfg {
    int64_t k;
    int64_t keep;
    int64_t min_k;
    int64_t min_support;
    double shrinkage;
    char similarity[RECNN__STR_MAX];
    char aggregate[RECNN__STR_MAX];
    int64_t user_based;
    char baseline[RECNN__STR_MAX];
    int64_t bsl_epochs;
    double bsl_reg_u, bsl_reg_i;
    double bsl_lr, bsl_reg;
} knn_cfg;

enum { SIM_COSINE, SIM_ADJ_COSINE, SIM_PEARSON, SIM_PEARSON_BSL };
enum { AGG_MEAN, AGG_CENTERED, AGG_BASELINE };

#define KNN_COMMON(KEEP_DEF, SHRINK_DEF, SIM_DEF, AGG_DEF)                               \
    {"k", RECNN__SET_INT, offsetof(knn_cfg, k), 40, 1, 100000, NULL, NULL,              \
     "neighbours used in one prediction"},                                              \
        {"keep", RECNN__SET_INT, offsetof(knn_cfg, keep), KEEP_DEF, 1, 100000, NULL,    \
         NULL,                                                                          \
         "neighbours stored per entity (memory = entities x keep); prediction uses "    \
         "the first k of them the user (item) has a rating for"},                       \
        {"min_k", RECNN__SET_INT, offsetof(knn_cfg, min_k), 1, 1, 100000, NULL, NULL,   \
         "fewer usable neighbours than this: predict the fallback"},                    \
        {"min_support", RECNN__SET_INT, offsetof(knn_cfg, min_support), 1, 1, 1e9,      \
         NULL, NULL, "minimum co-ratings for a similarity to count"},                   \
        {"shrinkage", RECNN__SET_FLOAT, offsetof(knn_cfg, shrinkage), SHRINK_DEF, 0,    \
         1e9, NULL, NULL,                                                               \
         "similarity multiplied by (n-1)/(n-1+shrinkage), n = co-ratings (0 = off)"},   \
        {"similarity", RECNN__SET_STR, offsetof(knn_cfg, similarity), 0, 0, 0, SIM_DEF, \
         "cosine|adjusted_cosine|pearson|pearson_baseline", "similarity measure"},      \
        {"aggregate", RECNN__SET_STR, offsetof(knn_cfg, aggregate), 0, 0, 0, AGG_DEF,   \
         "mean|centered|baseline",                                                      \
         "prediction: weighted mean of ratings, of mean-centred ratings, or of "        \
         "baseline residuals"},                                                         \
        {"baseline", RECNN__SET_STR, offsetof(knn_cfg, baseline), 0, 0, 0, "als",       \
         "als|sgd", "how baselines mu+b_u+b_i are fitted (as Surprise)"},               \
        {"bsl_epochs", RECNN__SET_INT, offsetof(knn_cfg, bsl_epochs), 10, 1, 100000,    \
         NULL, NULL, "baseline: epochs"},                                               \
        {"bsl_reg_u", RECNN__SET_FLOAT, offsetof(knn_cfg, bsl_reg_u), 15, 0, 1e9, NULL, \
         NULL, "baseline als: user bias regularisation"},                               \
        {"bsl_reg_i", RECNN__SET_FLOAT, offsetof(knn_cfg, bsl_reg_i), 10, 0, 1e9, NULL, \
         NULL, "baseline als: item bias regularisation"},                               \
        {"bsl_lr", RECNN__SET_FLOAT, offsetof(knn_cfg, bsl_lr), 0.005, 0, 10, NULL,     \
         NULL, "baseline sgd: learning rate"},                                          \
    {                                                                                   \
        "bsl_reg", RECNN__SET_FLOAT, offsetof(knn_cfg, bsl_reg), 0.02, 0, 1e9, NULL,    \
            NULL, "baseline sgd: regularisation"                                        \
    }

static const recnn__setting itemknn_settings[] = {
    KNN_COMMON(500, 0, "adjusted_cosine", "mean"),
};
static const recnn__setting userknn_settings[] = {
    KNN_COMMON(100, 100, "pearson", "centered"),
};
static const recnn__setting knnbsl_settings[] = {
    KNN_COMMON(500, 100, "pearson_baseline", "baseline"),
    {"user_based", RECNN__SET_INT, offsetof(knn_cfg, user_based), 0, 0, 1, NULL, NULL,
     "1: neighbours are users; 0: items"},
};

typedef struct knn_state {
    int user_based;
    int64_t nu, ni, n_ent; /* n_ent = ni (item-based) or nu (user-based) */
    /* neighbour lists, best first */
    int64_t *nb_ptr; /* n_ent + 1 */
    int32_t *nb_idx;
    float *nb_sim;
    /* the training ratings, CSR by user (own copy: needed after a load) */
    int64_t *r_ptr;
    int32_t *r_item;
    float *r_val;
    float *mu, *bu, *bi; /* baselines (zero when unused) */
    /* derived (not saved) */
    float *umean, *imean;
} knn_state;

static void knn_free_state(recnn_model *m)
{
    knn_state *s = m->state;
    if (!s)
        return;
    recnn__free(s->nb_ptr);
    recnn__free(s->nb_idx);
    recnn__free(s->nb_sim);
    recnn__free(s->r_ptr);
    recnn__free(s->r_item);
    recnn__free(s->r_val);
    recnn__free(s->mu);
    recnn__free(s->bu);
    recnn__free(s->bi);
    recnn__free(s->umean);
    recnn__free(s->imean);
    free(s);
    m->state = NULL;
}

static int user_based_of(const recnn_model *m)
{
    if (strcmp(m->vt->kind, "userknn") == 0)
        return 1;
    if (strcmp(m->vt->kind, "itemknn") == 0)
        return 0;
    return RECNN__CFG(m, knn_cfg)->user_based != 0;
}

static int sim_of(const knn_cfg *c)
{
    if (strcmp(c->similarity, "cosine") == 0)
        return SIM_COSINE;
    if (strcmp(c->similarity, "pearson") == 0)
        return SIM_PEARSON;
    if (strcmp(c->similarity, "pearson_baseline") == 0)
        return SIM_PEARSON_BSL;
    return SIM_ADJ_COSINE;
}

static int agg_of(const knn_cfg *c)
{
    if (strcmp(c->aggregate, "centered") == 0)
        return AGG_CENTERED;
    if (strcmp(c->aggregate, "baseline") == 0)
        return AGG_BASELINE;
    return AGG_MEAN;
}

/* Means per user and per item (the global mean for empty rows). */
static int derive_means(knn_state *s)
{
    s->umean = recnn__alloc((size_t)s->nu, sizeof(float));
    s->imean = recnn__alloc((size_t)s->ni, sizeof(float));
    double *isum = recnn__calloc((size_t)s->ni, sizeof(double));
    int64_t *icnt = recnn__calloc((size_t)s->ni, sizeof(int64_t));
    if (!s->umean || !s->imean || !isum || !icnt) {
        recnn__free(isum);
        recnn__free(icnt);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    double all = 0;
    int64_t nnz = s->r_ptr[s->nu];
    for (int64_t u = 0; u < s->nu; u++) {
        double sum = 0;
        for (int64_t j = s->r_ptr[u]; j < s->r_ptr[u + 1]; j++) {
            sum += s->r_val[j];
            isum[s->r_item[j]] += s->r_val[j];
            icnt[s->r_item[j]]++;
        }
        all += sum;
        int64_t n = s->r_ptr[u + 1] - s->r_ptr[u];
        s->umean[u] = n ? (float)(sum / (double)n) : NAN;
    }
    float g = nnz ? (float)(all / (double)nnz) : 0.0f;
    for (int64_t u = 0; u < s->nu; u++)
        if (isnan(s->umean[u]))
            s->umean[u] = g;
    for (int64_t i = 0; i < s->ni; i++)
        s->imean[i] = icnt[i] ? (float)(isum[i] / (double)icnt[i]) : g;
    recnn__free(isum);
    recnn__free(icnt);
    return RECNN_OK;
}

/* ---- baselines (as Surprise's baseline_only) ------------------------------ */

/* 1 when every user and item bias is finite. */
static int baselines_finite(const knn_state *s)
{
    for (int64_t u = 0; u < s->nu; u++)
        if (!isfinite(s->bu[u]))
            return 0;
    for (int64_t i = 0; i < s->ni; i++)
        if (!isfinite(s->bi[i]))
            return 0;
    return 1;
}

/* Fits s->bu, s->bi (s->mu set, biases zero on entry).  A user or item
 * without training ratings keeps bias 0 (als: also with bsl_reg_u/i = 0,
 * where its solve would be 0/0).  Biases that stop being finite (sgd with
 * a too large bsl_lr) are RECNN_E_NUMERIC. */
static int fit_baselines(const recnn_model *m, const knn_cfg *c, const recnn_dataset *d,
                         knn_state *s)
{
    const float mu = s->mu[0];
    if (strcmp(c->baseline, "sgd") == 0) {
        const float lr = (float)c->bsl_lr, reg = (float)c->bsl_reg;
        for (int64_t ep = 0; ep < c->bsl_epochs; ep++) {
            for (int64_t k = 0; k < d->n_ratings; k++) {
                int32_t u = d->user[k], i = d->item[k];
                float e = d->value[k] - (mu + s->bu[u] + s->bi[i]);
                s->bu[u] += lr * (e - reg * s->bu[u]);
                s->bi[i] += lr * (e - reg * s->bi[i]);
            }
            if (!baselines_finite(s))
                return recnn__fail(RECNN_E_NUMERIC,
                                   "%s: baseline sgd diverged at epoch %lld (biases not "
                                   "finite; lower bsl_lr, now %g)",
                                   m->vt->kind, (long long)ep + 1, c->bsl_lr);
        }
        return RECNN_OK;
    }
    for (int64_t ep = 0; ep < c->bsl_epochs; ep++) {
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= 200000)
        for (int64_t i = 0; i < d->n_items; i++) {
            int64_t n = d->col_ptr[i + 1] - d->col_ptr[i];
            if (n == 0)
                continue; /* bias 0 (0/0 with bsl_reg_i = 0) */
            double sum = 0;
            for (int64_t q = d->col_ptr[i]; q < d->col_ptr[i + 1]; q++)
                sum += d->col_value[q] - mu - s->bu[d->col_user[q]];
            s->bi[i] = (float)(sum / (c->bsl_reg_i + (double)n));
        }
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= 200000)
        for (int64_t u = 0; u < d->n_users; u++) {
            int64_t n = d->row_ptr[u + 1] - d->row_ptr[u];
            if (n == 0)
                continue; /* bias 0 (0/0 with bsl_reg_u = 0) */
            double sum = 0;
            for (int64_t q = d->row_ptr[u]; q < d->row_ptr[u + 1]; q++)
                sum += d->value[q] - mu - s->bi[d->item[q]];
            s->bu[u] = (float)(sum / (c->bsl_reg_u + (double)n));
        }
    }
    return RECNN_OK;
}

/* ---- similarities -------------------------------------------------------- */

/* A neighbour candidate packed in one integer so that "better" is plain
 * integer order: the similarity's float bits (positive floats order like
 * their bits) above, UINT32_MAX - index below (equal similarity: the
 * smaller index is better). */
typedef uint64_t nb_entry;

static inline nb_entry nb_make(float sim, int32_t idx)
{
    uint32_t bits;
    memcpy(&bits, &sim, sizeof bits);
    return ((uint64_t)bits << 32) | (uint64_t)(UINT32_MAX - (uint32_t)idx);
}

static inline float nb_sim_of(nb_entry e)
{
    uint32_t bits = (uint32_t)(e >> 32);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline int32_t nb_idx_of(nb_entry e)
{
    return (int32_t)(UINT32_MAX - (uint32_t)(e & UINT32_MAX));
}

/* a is worse than b */
static inline int worse(nb_entry a, nb_entry b) { return a < b; }

/* Min-heap (worst at the root) of at most cap entries. */
static inline void heap_push(nb_entry *h, int64_t *n, int64_t cap, nb_entry e)
{
    if (*n < cap) {
        int64_t j = (*n)++;
        while (j > 0) {
            int64_t p = (j - 1) / 2;
            if (!worse(e, h[p]))
                break;
            h[j] = h[p];
            j = p;
        }
        h[j] = e;
        return;
    }
    if (!worse(h[0], e))
        return;
    int64_t j = 0;
    for (;;) {
        int64_t l = 2 * j + 1, r = l + 1, w = j;
        nb_entry cur = w == j ? e : h[w];
        if (l < *n && worse(h[l], cur)) {
            w = l;
            cur = h[l];
        }
        if (r < *n && worse(h[r], cur))
            w = r;
        if (w == j)
            break;
        h[j] = h[w];
        j = w;
    }
    h[j] = e;
}

/* Sorts n entries best first (descending keys): a stable LSD radix sort on
 * bytes with the digits reversed, skipping the bytes every key shares
 * (e.g. the high bytes of small indices).  Branch-free, unlike a
 * comparison sort on these unpredictable keys.  tmp holds n entries. */
static void sort_best_first(nb_entry *a, nb_entry *tmp, int64_t n)
{
    nb_entry *src = a, *dst = tmp;
    for (int shift = 0; shift < 64 && n > 1; shift += 8) {
        int64_t cnt[257] = {0};
        for (int64_t i = 0; i < n; i++)
            cnt[1 + (255 - (int)((src[i] >> shift) & 255))]++;
        int skip = 0;
        for (int d = 1; d <= 256; d++)
            skip |= cnt[d] == n;
        if (skip)
            continue;
        for (int d = 0; d < 256; d++)
            cnt[d + 1] += cnt[d];
        for (int64_t i = 0; i < n; i++)
            dst[cnt[255 - (int)((src[i] >> shift) & 255)]++] = src[i];
        nb_entry *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
}

/* Partial selection: afterwards a[0..k) hold the k best of a[0..n)
 * (k < n; any order; keys are distinct). */
static void select_best(nb_entry *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    const int64_t want = k - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        nb_entry x = a[lo], y = a[mid], z = a[hi], piv;
        if (x < y)
            piv = y < z ? y : (x < z ? z : x);
        else
            piv = x < z ? x : (y < z ? z : y);
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] > piv)
                i++;
            while (a[j] < piv)
                j--;
            if (i <= j) {
                nb_entry t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
}

typedef struct sim_view {
    /* entity a's raters: ent_ptr/ent_idx/ent_x; each rater's row: oth_* */
    const int64_t *ent_ptr;
    const int32_t *ent_idx;
    const float *ent_x;
    const int64_t *oth_ptr;
    const int32_t *oth_idx;
    const float *oth_x;
    int64_t n_ent;
    /* squared norms of every entity's whole vector (cosine, adjusted cosine:
     * vectors with zeros for missing ratings), or NULL to normalise over the
     * co-ratings only (pearson_baseline, as Surprise) */
    const double *norm2;
    int64_t n_oth; /* rows of oth_* */
} sim_view;

/* Fast path for cosine and adjusted cosine (whole-vector norms): only the
 * dot product and the co-rating count are accumulated, packed in one
 * 8-byte cell per entity, and the similarity is dot * inv_a * inv_b. */
typedef struct cos_cell {
    float dot;
    int32_t cnt;
} cos_cell;

static int compute_neighbours_cos(const knn_cfg *c, const sim_view *v, int32_t *out_idx,
                                  float *out_sim, int64_t *out_n)
{
    const int64_t n = v->n_ent, keep = c->keep;
    const double shrink = c->shrinkage;
    float *inv = recnn__alloc((size_t)n, sizeof(float));
    if (!inv)
        return recnn__fail(RECNN_E_NOMEM, "knn: out of memory");
    for (int64_t a = 0; a < n; a++)
        inv[a] = v->norm2[a] > 0 ? (float)(1.0 / sqrt(v->norm2[a])) : 0.0f;
    /* Dense scan or first-touch list.  The accumulation is the same
     * (scatter-adds in the same order); what differs is how the touched
     * entities are found afterwards.  With few entities (n^2 no larger
     * than a few times the scatter work, e.g. the 9,724 items of
     * ml-latest-small: n^2 = 95M against 61M updates) every entity is
     * scanned in order: the scatter then carries no list and the scan is a
     * vectorised loop with a threshold filter in front of the heap.
     * Otherwise (e.g. users of a large set) only the touched entities are
     * visited.  Both give the same lists: the kept neighbours are the best
     * `keep` by (similarity, then smaller index), a total order. */
    double work = 0;
    for (int64_t r = 0; r < v->n_oth; r++) {
        double len = (double)(v->oth_ptr[r + 1] - v->oth_ptr[r]);
        work += len * len;
    }
    const int dense = (double)n * (double)n <= 4.0 * work;
    const float shrinkf = (float)shrink;
    const int32_t min_sup = (int32_t)(c->min_support < INT32_MAX ? c->min_support : INT32_MAX);
    int failed = 0;
#pragma omp parallel num_threads(recnn__threads()) if (v->ent_ptr[v->n_ent] >= 20000)
    {
        float *dot = recnn__calloc((size_t)n, sizeof(float));
        int32_t *cnt = recnn__calloc((size_t)n, sizeof(int32_t));
        int32_t *touched = dense ? NULL : recnn__alloc((size_t)n, sizeof(int32_t));
        /* heap (list path) or candidate buffer of 2 keep (dense path), and
         * the radix sort's scratch */
        nb_entry *heap = recnn__alloc((size_t)(dense ? 2 * keep : keep), sizeof(nb_entry));
        nb_entry *tmp = recnn__alloc((size_t)keep, sizeof(nb_entry));
        float sims[64];
        const int ok = dot && cnt && heap && tmp && (dense || touched);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t a = 0; a < n; a++) {
            if (!ok)
                continue;
            int64_t nt = 0;
            for (int64_t p = v->ent_ptr[a]; p < v->ent_ptr[a + 1]; p++) {
                int32_t r = v->ent_idx[p];
                const float xa = v->ent_x[p];
                const int32_t *oi = v->oth_idx;
                const float *ox = v->oth_x;
                if (dense) {
                    for (int64_t q = v->oth_ptr[r]; q < v->oth_ptr[r + 1]; q++) {
                        dot[oi[q]] += xa * ox[q];
                        cnt[oi[q]]++;
                    }
                } else {
                    for (int64_t q = v->oth_ptr[r]; q < v->oth_ptr[r + 1]; q++) {
                        const int32_t b = oi[q];
                        /* branch-free first-touch list (first touches come
                         * in no predictable pattern) */
                        touched[nt] = b;
                        nt += cnt[b] == 0;
                        cnt[b]++;
                        dot[b] += xa * ox[q];
                    }
                }
            }
            int64_t nh = 0;
            const float ia = inv[a];
            if (dense) {
                float thr = 0.0f; /* a candidate must beat this (heap full: its worst) */
                /* candidates above the threshold are appended; when the
                 * buffer is full the best `keep` are selected and the
                 * threshold rises to the worst of them.  b ascends, so a
                 * later candidate with the threshold's similarity has a
                 * larger index and is worse: ">" is exact. */
                for (int64_t b0 = 0; b0 < n; b0 += 64) {
                    const int64_t m = n - b0 < 64 ? n - b0 : 64;
                    float *restrict dp = dot + b0;
                    int32_t *restrict cp = cnt + b0;
                    const float *restrict ip = inv + b0;
#pragma omp simd
                    for (int64_t j = 0; j < m; j++) {
                        const float sim = dp[j] * ia * ip[j];
                        sims[j] = cp[j] >= min_sup ? sim : 0.0f;
                    }
                    if (shrinkf > 0) /* as the list path: the factor in double */
                        for (int64_t j = 0; j < m; j++)
                            if (sims[j] > 0)
                                sims[j] *= (float)((cp[j] - 1) / (cp[j] - 1 + shrink));
                    memset(dp, 0, (size_t)m * sizeof *dp);
                    memset(cp, 0, (size_t)m * sizeof *cp);
                    for (int64_t j = 0; j < m; j++)
                        if (sims[j] > thr && b0 + j != a) {
                            heap[nh++] = nb_make(sims[j], (int32_t)(b0 + j));
                            if (nh == 2 * keep) {
                                select_best(heap, nh, keep);
                                nh = keep;
                                nb_entry worst = heap[0];
                                for (int64_t e = 1; e < keep; e++)
                                    worst = heap[e] < worst ? heap[e] : worst;
                                thr = nb_sim_of(worst);
                            }
                        }
                }
                if (nh > keep) {
                    select_best(heap, nh, keep);
                    nh = keep;
                }
            } else {
                for (int64_t t = 0; t < nt; t++) {
                    int32_t b = touched[t];
                    const int32_t nc = cnt[b];
                    const float d = dot[b];
                    dot[b] = 0;
                    cnt[b] = 0;
                    if (b == a || nc < min_sup)
                        continue;
                    float sim = d * ia * inv[b];
                    if (shrink > 0)
                        sim *= (float)((nc - 1) / (nc - 1 + shrink));
                    if (sim > 0)
                        heap_push(heap, &nh, keep, nb_make(sim, b));
                }
            }
            sort_best_first(heap, tmp, nh);
            for (int64_t j = 0; j < nh; j++) {
                out_idx[a * keep + j] = nb_idx_of(heap[j]);
                out_sim[a * keep + j] = nb_sim_of(heap[j]);
            }
            out_n[a] = nh;
        }
        recnn__free(dot);
        recnn__free(cnt);
        recnn__free(touched);
        recnn__free(heap);
        recnn__free(tmp);
    }
    recnn__free(inv);
    if (failed)
        return recnn__fail(RECNN_E_NOMEM, "knn: out of memory for similarity buffers");
    return RECNN_OK;
}

/* Computes the neighbour lists of every entity: out_idx/out_sim rows of
 * `keep` entries, out_n[a] of them used.  Deterministic: each row depends
 * only on the data. */
static int compute_neighbours(const knn_cfg *c, const sim_view *v, int sim_kind,
                              int32_t *out_idx, float *out_sim, int64_t *out_n)
{
    const int64_t n = v->n_ent, keep = c->keep;
    const int pear = sim_kind == SIM_PEARSON;
    const double shrink = c->shrinkage;
    int failed = 0;
#pragma omp parallel num_threads(recnn__threads()) if (v->ent_ptr[v->n_ent] >= 20000)
    {
        /* acc per entity b: dot [, na, nb [, sa, sb]] */
        const int w = pear ? 5 : v->norm2 ? 1 : 3;
        double *acc = recnn__calloc((size_t)n, (size_t)w * sizeof(double));
        int32_t *cnt = recnn__calloc((size_t)n, sizeof(int32_t));
        int32_t *touched = recnn__alloc((size_t)n, sizeof(int32_t));
        nb_entry *heap = recnn__alloc((size_t)keep, sizeof(nb_entry));
        nb_entry *tmp = recnn__alloc((size_t)keep, sizeof(nb_entry));
        if (!acc || !cnt || !touched || !heap || !tmp) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t a = 0; a < n; a++) {
            if (!acc || !cnt || !touched || !heap || !tmp)
                continue;
            int64_t nt = 0;
            for (int64_t p = v->ent_ptr[a]; p < v->ent_ptr[a + 1]; p++) {
                int32_t r = v->ent_idx[p];
                double xa = v->ent_x[p];
                for (int64_t q = v->oth_ptr[r]; q < v->oth_ptr[r + 1]; q++) {
                    int32_t b = v->oth_idx[q];
                    double xb = v->oth_x[q];
                    double *A = acc + (int64_t)b * w;
                    if (cnt[b]++ == 0)
                        touched[nt++] = b;
                    A[0] += xa * xb;
                    if (w > 1) {
                        A[1] += xa * xa;
                        A[2] += xb * xb;
                    }
                    if (pear) {
                        A[3] += xa;
                        A[4] += xb;
                    }
                }
            }
            int64_t nh = 0;
            for (int64_t t = 0; t < nt; t++) {
                int32_t b = touched[t];
                double *A = acc + (int64_t)b * w;
                int32_t nc = cnt[b];
                double sim = 0;
                if (b != a && nc >= c->min_support) {
                    if (pear) {
                        double num = nc * A[0] - A[3] * A[4];
                        double da = nc * A[1] - A[3] * A[3];
                        double db = nc * A[2] - A[4] * A[4];
                        sim = da > 0 && db > 0 ? num / sqrt(da * db) : 0;
                    } else if (v->norm2) {
                        double den = v->norm2[a] * v->norm2[b];
                        sim = den > 0 ? A[0] / sqrt(den) : 0;
                    } else {
                        double den = A[1] * A[2];
                        sim = den > 0 ? A[0] / sqrt(den) : 0;
                    }
                    if (shrink > 0)
                        sim *= (nc - 1) / (nc - 1 + shrink);
                }
                memset(A, 0, (size_t)w * sizeof(double));
                cnt[b] = 0;
                if (sim > 0)
                    heap_push(heap, &nh, keep, nb_make((float)sim, b));
            }
            sort_best_first(heap, tmp, nh);
            for (int64_t j = 0; j < nh; j++) {
                out_idx[a * keep + j] = nb_idx_of(heap[j]);
                out_sim[a * keep + j] = nb_sim_of(heap[j]);
            }
            out_n[a] = nh;
        }
        recnn__free(acc);
        recnn__free(cnt);
        recnn__free(touched);
        recnn__free(heap);
        recnn__free(tmp);
    }
    if (failed)
        return recnn__fail(RECNN_E_NOMEM, "knn: out of memory for similarity buffers");
    return RECNN_OK;
}

/* ---- prediction ---------------------------------------------------------- */

/* Index of item i in user u's CSR row, or -1. */
static inline int64_t find_rating(const knn_state *s, int32_t u, int32_t i)
{
    int64_t lo = s->r_ptr[u], hi = s->r_ptr[u + 1] - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int32_t x = s->r_item[mid];
        if (x == i)
            return mid;
        if (x < i)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

typedef struct pred_ctx {
    const knn_state *s;
    int64_t k, min_k;
    int agg;
} pred_ctx;

static inline float bsl(const knn_state *s, int32_t u, int32_t i)
{
    return s->mu[0] + s->bu[u] + s->bi[i];
}

/* Item-based prediction for (u, i); `rated` (may be NULL) is a dense
 * n_items array of u's ratings (NaN = unrated) used instead of a search;
 * umean/bu are the user's mean and bias. */
static float predict_item_based(const pred_ctx *x, int32_t u, int32_t i,
                                const float *rated, float umean, float bu)
{
    const knn_state *s = x->s;
    double num = 0, den = 0;
    int64_t used = 0;
    for (int64_t p = s->nb_ptr[i]; p < s->nb_ptr[i + 1] && used < x->k; p++) {
        int32_t j = s->nb_idx[p];
        float r;
        if (rated) {
            r = rated[j];
            if (isnan(r))
                continue;
        } else {
            int64_t q = find_rating(s, u, j);
            if (q < 0)
                continue;
            r = s->r_val[q];
        }
        float sim = s->nb_sim[p];
        double dev = x->agg == AGG_MEAN       ? r
                     : x->agg == AGG_CENTERED ? r - s->imean[j]
                                              : r - (s->mu[0] + bu + s->bi[j]);
        num += sim * dev;
        den += sim;
        used++;
    }
    float base = x->agg == AGG_MEAN       ? umean
                 : x->agg == AGG_CENTERED ? s->imean[i]
                                          : s->mu[0] + bu + s->bi[i];
    if (used < x->min_k || den <= 0)
        return base;
    return x->agg == AGG_MEAN ? (float)(num / den) : base + (float)(num / den);
}

static float predict_user_based(const pred_ctx *x, int32_t u, int32_t i)
{
    const knn_state *s = x->s;
    double num = 0, den = 0;
    int64_t used = 0;
    for (int64_t p = s->nb_ptr[u]; p < s->nb_ptr[u + 1] && used < x->k; p++) {
        int32_t v = s->nb_idx[p];
        int64_t q = find_rating(s, v, i);
        if (q < 0)
            continue;
        float r = s->r_val[q], sim = s->nb_sim[p];
        double dev = x->agg == AGG_MEAN       ? r
                     : x->agg == AGG_CENTERED ? r - s->umean[v]
                                              : r - bsl(s, v, i);
        num += sim * dev;
        den += sim;
        used++;
    }
    float base = x->agg == AGG_MEAN ? s->imean[i]
                 : x->agg == AGG_CENTERED ? s->umean[u]
                                          : bsl(s, u, i);
    if (used < x->min_k || den <= 0)
        return base;
    return x->agg == AGG_MEAN ? (float)(num / den) : base + (float)(num / den);
}

static pred_ctx ctx_of(const recnn_model *m)
{
    const knn_cfg *c = RECNN__CFG(m, knn_cfg);
    pred_ctx x = {m->state, c->k, c->min_k, agg_of(c)};
    return x;
}

static int knn_predict(const recnn_model *m, int64_t n, const int32_t *u,
                       const int32_t *i, float *out)
{
    const knn_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "knn: no neighbours");
    pred_ctx x = ctx_of(m);
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (n > 2000)
    for (int64_t k = 0; k < n; k++)
        out[k] = s->user_based ? predict_user_based(&x, u[k], i[k])
                               : predict_item_based(&x, u[k], i[k], NULL,
                                                    s->umean[u[k]], s->bu[u[k]]);
    return RECNN_OK;
}

static int knn_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const knn_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "knn: no neighbours");
    pred_ctx x = ctx_of(m);
    if (!s->user_based) {
        float *rated = recnn__alloc((size_t)s->ni, sizeof(float));
        if (!rated)
            return recnn__fail(RECNN_E_NOMEM, "out of memory");
        for (int64_t i = 0; i < s->ni; i++)
            rated[i] = NAN;
        for (int64_t q = s->r_ptr[u]; q < s->r_ptr[u + 1]; q++)
            rated[s->r_item[q]] = s->r_val[q];
        for (int64_t i = 0; i < s->ni; i++)
            scores[i] = predict_item_based(&x, u, (int32_t)i, rated, s->umean[u], s->bu[u]);
        recnn__free(rated);
        return RECNN_OK;
    }
    /* user-based: scatter the neighbours' rows, best neighbour first */
    double *num = recnn__calloc((size_t)s->ni, sizeof(double));
    double *den = recnn__calloc((size_t)s->ni, sizeof(double));
    int64_t *used = recnn__calloc((size_t)s->ni, sizeof(int64_t));
    if (!num || !den || !used) {
        recnn__free(num);
        recnn__free(den);
        recnn__free(used);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    for (int64_t p = s->nb_ptr[u]; p < s->nb_ptr[u + 1]; p++) {
        int32_t v = s->nb_idx[p];
        float sim = s->nb_sim[p];
        for (int64_t q = s->r_ptr[v]; q < s->r_ptr[v + 1]; q++) {
            int32_t i = s->r_item[q];
            if (used[i] >= x.k)
                continue;
            float r = s->r_val[q];
            double dev = x.agg == AGG_MEAN       ? r
                         : x.agg == AGG_CENTERED ? r - s->umean[v]
                                                 : r - bsl(s, v, i);
            num[i] += sim * dev;
            den[i] += sim;
            used[i]++;
        }
    }
    for (int64_t i = 0; i < s->ni; i++) {
        float base = x.agg == AGG_MEAN       ? s->imean[i]
                     : x.agg == AGG_CENTERED ? s->umean[u]
                                             : bsl(s, u, (int32_t)i);
        if (used[i] < x.min_k || den[i] <= 0)
            scores[i] = base;
        else
            scores[i] = x.agg == AGG_MEAN ? (float)(num[i] / den[i])
                                          : base + (float)(num[i] / den[i]);
    }
    recnn__free(num);
    recnn__free(den);
    recnn__free(used);
    return RECNN_OK;
}

/* Fold-in for item-based models: the new user's ratings stand in for a
 * training row; their mean and (ALS-style) bias are computed from them. */
static int knn_score_new(const recnn_model *m, int64_t n, const int32_t *items,
                         const float *ratings, float *scores)
{
    const knn_state *s = m->state;
    const knn_cfg *c = RECNN__CFG(m, knn_cfg);
    if (!s)
        return recnn__fail(RECNN_E_STATE, "knn: no neighbours");
    if (s->user_based)
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "knn: fold-in is implemented for item-based neighbours");
    pred_ctx x = ctx_of(m);
    float *rated = recnn__alloc((size_t)s->ni, sizeof(float));
    if (!rated)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t i = 0; i < s->ni; i++)
        rated[i] = NAN;
    double sum = 0, bsum = 0;
    for (int64_t j = 0; j < n; j++) {
        rated[items[j]] = ratings[j];
        sum += ratings[j];
        bsum += ratings[j] - s->mu[0] - s->bi[items[j]];
    }
    float mean = n ? (float)(sum / (double)n) : (float)m->global_mean;
    float bu = x.agg == AGG_BASELINE || sim_of(c) == SIM_PEARSON_BSL
                   ? (float)(bsum / (c->bsl_reg_u + (double)n))
                   : 0.0f;
    for (int64_t i = 0; i < s->ni; i++)
        scores[i] = predict_item_based(&x, -1, (int32_t)i, rated, mean, bu);
    recnn__free(rated);
    return RECNN_OK;
}

/* ---- persistence --------------------------------------------------------- */

static int state_tensors(const knn_state *s, recnn__tensor *out)
{
    out[0] = (recnn__tensor){"knn.nb_ptr", RECNN__I64, s->n_ent + 1, s->nb_ptr, 0, 0};
    out[1] = (recnn__tensor){"knn.nb_idx", RECNN__I32, s->nb_ptr[s->n_ent], s->nb_idx, 0, 0};
    out[2] = (recnn__tensor){"knn.nb_sim", RECNN__F32, s->nb_ptr[s->n_ent], s->nb_sim, 0, 0};
    out[3] = (recnn__tensor){"knn.r_ptr", RECNN__I64, s->nu + 1, s->r_ptr, 0, 0};
    out[4] = (recnn__tensor){"knn.r_item", RECNN__I32, s->r_ptr[s->nu], s->r_item, 0, 0};
    out[5] = (recnn__tensor){"knn.r_val", RECNN__F32, s->r_ptr[s->nu], s->r_val, 0, 0};
    out[6] = (recnn__tensor){"knn.mu", RECNN__F32, 1, s->mu, 0, 0};
    out[7] = (recnn__tensor){"knn.user_bias", RECNN__F32, s->nu, s->bu, 0, 0};
    out[8] = (recnn__tensor){"knn.item_bias", RECNN__F32, s->ni, s->bi, 0, 0};
    return 9;
}

static int knn_tensors(const recnn_model *m, recnn__tensor *out, int max)
{
    const knn_state *s = m->state;
    if (!s || max < 9)
        return 0;
    return state_tensors(s, out);
}

static const recnn__tensor *find_tensor(const recnn__tensor *t, int n, const char *name,
                                        int dtype)
{
    for (int j = 0; j < n; j++)
        if (strcmp(t[j].name, name) == 0)
            return t[j].dtype == dtype ? &t[j] : NULL;
    return NULL;
}

static int valid_ptr(const int64_t *p, int64_t n, int64_t total)
{
    if (p[0] != 0 || p[n] != total)
        return 0;
    for (int64_t j = 0; j < n; j++)
        if (p[j + 1] < p[j])
            return 0;
    return 1;
}

static int knn_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    knn_state *s = calloc(1, sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    if (m->state)
        knn_free_state(m);
    m->state = s;
    s->user_based = user_based_of(m);
    s->nu = m->n_users;
    s->ni = m->n_items;
    s->n_ent = s->user_based ? s->nu : s->ni;
    const recnn__tensor *np = find_tensor(t, n, "knn.nb_ptr", RECNN__I64);
    const recnn__tensor *ni = find_tensor(t, n, "knn.nb_idx", RECNN__I32);
    const recnn__tensor *ns = find_tensor(t, n, "knn.nb_sim", RECNN__F32);
    const recnn__tensor *rp = find_tensor(t, n, "knn.r_ptr", RECNN__I64);
    const recnn__tensor *ri = find_tensor(t, n, "knn.r_item", RECNN__I32);
    const recnn__tensor *rv = find_tensor(t, n, "knn.r_val", RECNN__F32);
    const recnn__tensor *mu = find_tensor(t, n, "knn.mu", RECNN__F32);
    const recnn__tensor *bu = find_tensor(t, n, "knn.user_bias", RECNN__F32);
    const recnn__tensor *bi = find_tensor(t, n, "knn.item_bias", RECNN__F32);
    int st = RECNN_OK;
    if (!np || !ni || !ns || !rp || !ri || !rv || !mu || !bu || !bi ||
        np->count != s->n_ent + 1 || ns->count != ni->count || rp->count != s->nu + 1 ||
        rv->count != ri->count || mu->count != 1 || bu->count != s->nu ||
        bi->count != s->ni)
        st = recnn__fail(RECNN_E_CORRUPT, "knn: tensors missing or of the wrong size");
    else if (!valid_ptr(np->data, s->n_ent, ni->count) ||
             !valid_ptr(rp->data, s->nu, ri->count))
        st = recnn__fail(RECNN_E_CORRUPT, "knn: inconsistent offsets");
    if (st == RECNN_OK) {
        const int32_t *ix = ni->data, *it = ri->data;
        for (int64_t j = 0; j < ni->count && st == RECNN_OK; j++)
            if (ix[j] < 0 || ix[j] >= s->n_ent)
                st = recnn__fail(RECNN_E_CORRUPT, "knn: neighbour index out of range");
        for (int64_t j = 0; j < ri->count && st == RECNN_OK; j++)
            if (it[j] < 0 || it[j] >= s->ni)
                st = recnn__fail(RECNN_E_CORRUPT, "knn: item index out of range");
    }
    if (st == RECNN_OK) {
        const recnn__tensor *src[9] = {np, ni, ns, rp, ri, rv, mu, bu, bi};
        void **dst[9] = {(void **)&s->nb_ptr, (void **)&s->nb_idx, (void **)&s->nb_sim,
                         (void **)&s->r_ptr,  (void **)&s->r_item, (void **)&s->r_val,
                         (void **)&s->mu,     (void **)&s->bu,     (void **)&s->bi};
        for (int j = 0; j < 9 && st == RECNN_OK; j++) {
            size_t el = src[j]->dtype == RECNN__I64 ? 8 : 4;
            *dst[j] = recnn__alloc((size_t)src[j]->count, el);
            if (!*dst[j])
                st = recnn__fail(RECNN_E_NOMEM, "out of memory");
            else
                memcpy(*dst[j], src[j]->data, (size_t)src[j]->count * el);
        }
    }
    if (st == RECNN_OK)
        st = derive_means(s);
    if (st != RECNN_OK)
        knn_free_state(m);
    return st;
}

/* ---- fit ----------------------------------------------------------------- */

static int knn_fit(recnn_model *m, const recnn_dataset *d, const recnn_dataset *valid)
{
    const knn_cfg *c = RECNN__CFG(m, knn_cfg);
    double t0 = recnn__now();
    knn_state *s = calloc(1, sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    m->state = s;
    s->user_based = user_based_of(m);
    s->nu = d->n_users;
    s->ni = d->n_items;
    s->n_ent = s->user_based ? s->nu : s->ni;
    const int64_t nnz = d->n_ratings, keep = c->keep, ne = s->n_ent;
    const int sk = sim_of(c);
    s->r_ptr = recnn__alloc((size_t)s->nu + 1, sizeof(int64_t));
    s->r_item = recnn__alloc((size_t)nnz, sizeof(int32_t));
    s->r_val = recnn__alloc((size_t)nnz, sizeof(float));
    s->mu = recnn__calloc(1, sizeof(float));
    s->bu = recnn__calloc((size_t)s->nu, sizeof(float));
    s->bi = recnn__calloc((size_t)s->ni, sizeof(float));
    s->nb_ptr = recnn__calloc((size_t)ne + 1, sizeof(int64_t));
    size_t cap;
    if (!recnn__mul_ok((size_t)ne, (size_t)keep, &cap))
        return recnn__fail(RECNN_E_NOMEM, "knn: %lld x %lld neighbours overflow",
                           (long long)ne, (long long)keep);
    int32_t *nidx = recnn__alloc(cap, sizeof(int32_t));
    float *nsim = recnn__alloc(cap, sizeof(float));
    int64_t *nn = recnn__calloc((size_t)ne, sizeof(int64_t));
    float *xr = recnn__alloc((size_t)nnz, sizeof(float));
    float *xc = recnn__alloc((size_t)nnz, sizeof(float));
    int64_t *next = recnn__alloc((size_t)s->ni, sizeof(int64_t));
    double *norm2 = NULL;
    int st = RECNN_OK;
    if (!s->r_ptr || !s->r_item || !s->r_val || !s->mu || !s->bu || !s->bi ||
        !s->nb_ptr || !nidx || !nsim || !nn || !xr || !xc || !next) {
        st = recnn__fail(RECNN_E_NOMEM, "knn: out of memory");
        goto out;
    }
    memcpy(s->r_ptr, d->row_ptr, ((size_t)s->nu + 1) * sizeof(int64_t));
    memcpy(s->r_item, d->item, (size_t)nnz * sizeof(int32_t));
    memcpy(s->r_val, d->value, (size_t)nnz * sizeof(float));
    s->mu[0] = (float)m->global_mean;
    if ((st = derive_means(s)) != RECNN_OK)
        goto out;
    if ((agg_of(c) == AGG_BASELINE || sk == SIM_PEARSON_BSL) &&
        (st = fit_baselines(m, c, d, s)) != RECNN_OK)
        goto out;
    /* transformed values, CSR order, then scattered to CSC order (each CSC
     * column is sorted by user, so CSR order fills it in sequence) */
    for (int64_t u = 0; u < s->nu; u++)
        for (int64_t q = d->row_ptr[u]; q < d->row_ptr[u + 1]; q++) {
            int32_t i = d->item[q];
            float r = d->value[q];
            float x = r;
            if (sk == SIM_ADJ_COSINE)
                x = r - (s->user_based ? s->imean[i] : s->umean[u]);
            else if (sk == SIM_PEARSON_BSL)
                x = r - bsl(s, (int32_t)u, i);
            xr[q] = x;
        }
    memcpy(next, d->col_ptr, (size_t)s->ni * sizeof(int64_t));
    for (int64_t q = 0; q < nnz; q++)
        xc[next[d->item[q]]++] = xr[q];
    sim_view v;
    if (s->user_based)
        v = (sim_view){d->row_ptr, d->item, xr, d->col_ptr, d->col_user, xc, ne, NULL,
                       s->ni};
    else
        v = (sim_view){d->col_ptr, d->col_user, xc, d->row_ptr, d->item, xr, ne, NULL,
                       s->nu};
    if (sk == SIM_COSINE || sk == SIM_ADJ_COSINE) {
        norm2 = recnn__calloc((size_t)ne, sizeof(double));
        if (!norm2) {
            st = recnn__fail(RECNN_E_NOMEM, "knn: out of memory");
            goto out;
        }
        for (int64_t a = 0; a < ne; a++)
            for (int64_t p = v.ent_ptr[a]; p < v.ent_ptr[a + 1]; p++)
                norm2[a] += (double)v.ent_x[p] * v.ent_x[p];
        v.norm2 = norm2;
    }
    st = v.norm2 ? compute_neighbours_cos(c, &v, nidx, nsim, nn)
                 : compute_neighbours(c, &v, sk, nidx, nsim, nn);
    if (st != RECNN_OK)
        goto out;
    for (int64_t a = 0; a < ne; a++)
        s->nb_ptr[a + 1] = s->nb_ptr[a] + nn[a];
    s->nb_idx = recnn__alloc((size_t)s->nb_ptr[ne], sizeof(int32_t));
    s->nb_sim = recnn__alloc((size_t)s->nb_ptr[ne], sizeof(float));
    if (!s->nb_idx || !s->nb_sim) {
        st = recnn__fail(RECNN_E_NOMEM, "knn: out of memory");
        goto out;
    }
    for (int64_t a = 0; a < ne; a++) {
        memcpy(s->nb_idx + s->nb_ptr[a], nidx + a * keep, (size_t)nn[a] * sizeof(int32_t));
        memcpy(s->nb_sim + s->nb_ptr[a], nsim + a * keep, (size_t)nn[a] * sizeof(float));
    }
out:
    recnn__free(nidx);
    recnn__free(nsim);
    recnn__free(nn);
    recnn__free(xr);
    recnn__free(xc);
    recnn__free(next);
    recnn__free(norm2);
    if (st != RECNN_OK)
        return st;
    double vr = recnn__valid_rmse(m, valid);
    if (recnn__fit_epoch(m, 1, NAN, vr, "rmse", 1, -1, recnn__now() - t0) < 0)
        return RECNN_E_NOMEM;
    return RECNN_OK;
}

#define KNN_VT(NAME, DOC, TABLE, NEW)                                                    \
    {                                                                                   \
        .kind = NAME, .doc = DOC, .settings = TABLE,                                    \
        .n_settings = (int)(sizeof TABLE / sizeof TABLE[0]),                            \
        .config_size = sizeof(knn_cfg), .fit = knn_fit, .predict = knn_predict,         \
        .score_user = knn_score_user, .score_new = NEW, .tensors = knn_tensors,         \
        .restore = knn_restore, .free_state = knn_free_state,                           \
    }

const recnn__model_vt recnn__vt_itemknn =
    KNN_VT("itemknn", "item-based k-nearest neighbours (adjusted cosine by default)",
           itemknn_settings, knn_score_new);
const recnn__model_vt recnn__vt_userknn =
    KNN_VT("userknn", "user-based k-nearest neighbours (Pearson by default)",
           userknn_settings, NULL);
const recnn__model_vt recnn__vt_knnbaseline =
    KNN_VT("knnbaseline",
           "baseline-corrected k-nearest neighbours (Koren 2010; Surprise KNNBaseline)",
           knnbsl_settings, knn_score_new);
