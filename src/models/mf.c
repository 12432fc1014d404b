/* Biased matrix factorisation (kind "mf"):
 *
 *     r_ui ~ mu + b_u + b_i + p_u . q_i
 *
 * (Koren, Bell & Volinsky 2009; Funk 2006), optionally squashed through a
 * sigmoid onto the rating scale (ratings normalised to [0,1], as the MF of
 * the mf-ncf-lstm-graph paper).  Three trainers minimise the same objective
 *
 *     sum_(u,i) [ e_ui^2 + l2 (|p_u|^2 + |q_i|^2) + l2_bias (b_u^2 + b_i^2) ]
 *
 * (regularisation per rating, as Funk/Koren SGD applies it):
 *   - "sgd": stochastic gradient descent, block-partitioned (DSGD/LIBMF
 *     style): users and items are split into `blocks` groups each; an epoch
 *     is `blocks` sub-epochs, and in each the blocks of one "diagonal" share
 *     no user and no item, so they run in parallel without locks.  Every
 *     block's ratings are shuffled once with the block's own random stream
 *     (which also draws its dropout masks), and the order of the
 *     diagonals changes every epoch, so the result is bit-identical for a
 *     given seed whatever the thread count.  The kernel is compiled for
 *     AVX2 as well (target_clones) with 8-wide vectors and four partial
 *     sums in the dot product.
 *   - "gd": full-batch gradient descent (the AE/MF/KNN paper's code), each
 *     parameter row's gradient divided by its number of ratings (a diagonal
 *     preconditioner that keeps one step size stable for every row).
 *   - "als": alternating least squares, biases included, one
 *     (factors+1)-sized Cholesky solve (LAPACKE) per user / per item.
 * Fold-in (score_new): one regularised least-squares solve for the new
 * user's bias and factors against the fixed item side (linear output). */
#include "model.h"

#include "../nn/nn.h" /* RECNN__CLONES */

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mf_cfg {
    int64_t factors;
    char solver[RECNN__STR_MAX];
    int64_t epochs;
    double lr;
    double lr_decay;
    double l2;
    double l2_bias;
    double init_std;
    double dropout;
    int64_t sigmoid;
    int64_t blocks;
    int64_t patience;
    int64_t seed;
} mf_cfg;

enum { SOLVER_SGD, SOLVER_GD, SOLVER_ALS };

static const recnn__setting mf_settings[] = {
    {"factors", RECNN__SET_INT, offsetof(mf_cfg, factors), 100, 1, 4096, NULL, NULL,
     "latent factors per user and item"},
    {"solver", RECNN__SET_STR, offsetof(mf_cfg, solver), 0, 0, 0, "sgd", "sgd|gd|als",
     "trainer: sgd (block-parallel SGD), gd (full-batch), als (alternating least "
     "squares)"},
    {"epochs", RECNN__SET_INT, offsetof(mf_cfg, epochs), 50, 1, 100000, NULL, NULL,
     "passes over the training ratings (ALS: sweeps)"},
    {"lr", RECNN__SET_FLOAT, offsetof(mf_cfg, lr), 0, 0, 100, NULL, NULL,
     "learning rate; 0 = the solver's default (sgd 0.01, gd 0.5; unused by als)"},
    {"lr_decay", RECNN__SET_FLOAT, offsetof(mf_cfg, lr_decay), 1, 0.01, 1, NULL,
     NULL, "learning rate multiplied by this after every epoch (sgd, gd)"},
    {"l2", RECNN__SET_FLOAT, offsetof(mf_cfg, l2), 0.1, 0, 1e6, NULL, NULL,
     "L2 penalty on the factors, per rating"},
    {"l2_bias", RECNN__SET_FLOAT, offsetof(mf_cfg, l2_bias), 0.1, 0, 1e6, NULL, NULL,
     "L2 penalty on the user and item biases, per rating"},
    {"init_std", RECNN__SET_FLOAT, offsetof(mf_cfg, init_std), 0.05, 0, 10, NULL, NULL,
     "standard deviation of the normal initial factors"},
    {"dropout", RECNN__SET_FLOAT, offsetof(mf_cfg, dropout), 0, 0, 0.95, NULL, NULL,
     "probability of dropping each factor of a product during training (sgd "
     "only; inverted dropout)"},
    {"sigmoid", RECNN__SET_INT, offsetof(mf_cfg, sigmoid), 0, 0, 1, NULL, NULL,
     "1: predict scale_min + (scale_max-scale_min)*sigmoid(.), trained on ratings "
     "normalised to [0,1] (sgd, gd)"},
    {"blocks", RECNN__SET_INT, offsetof(mf_cfg, blocks), 8, 1, 256, NULL, NULL,
     "sgd: user/item blocks per side (parallelism; results do not depend on the "
     "thread count)"},
    {"patience", RECNN__SET_INT, offsetof(mf_cfg, patience), 5, 0, 100000, NULL, NULL,
     "with a validation set: stop after this many epochs without improvement "
     "(0 = never)"},
    {"seed", RECNN__SET_INT, offsetof(mf_cfg, seed), 42, 0, 9007199254740991.0, NULL,
     NULL, "random seed (initialisation, shuffling, dropout)"},
};

/* Loops over fewer ratings than this run on the calling thread: spinning
 * OpenMP barriers cost more than such work, badly so on a busy machine.
 * Every loop below is per-row independent, so the numbers do not change. */
#define MF_PAR_MIN 200000

typedef struct mf_rating {
    int32_t u, i;
    float r;
} mf_rating;

typedef struct mf_state {
    int64_t nu, ni, k;
    float *mu;    /* [1]: intercept (global mean, or its logit with sigmoid) */
    float *scale; /* [2]: rating scale lo, hi used by the sigmoid output */
    float *bu, *bi;
    float *P, *Q; /* nu x k, ni x k, row-major */
    int sigmoid;
} mf_state;

static void mf_free_state(recnn_model *m)
{
    mf_state *s = m->state;
    if (!s)
        return;
    recnn__free(s->mu);
    recnn__free(s->scale);
    recnn__free(s->bu);
    recnn__free(s->bi);
    recnn__free(s->P);
    recnn__free(s->Q);
    free(s);
    m->state = NULL;
}

static int solver_of(const mf_cfg *c)
{
    if (strcmp(c->solver, "gd") == 0)
        return SOLVER_GD;
    if (strcmp(c->solver, "als") == 0)
        return SOLVER_ALS;
    return SOLVER_SGD;
}

/* Allocates a state of the model's dimensions (zeroed); NULL + error. */
static mf_state *state_new(int64_t nu, int64_t ni, int64_t k, int sigmoid)
{
    mf_state *s = calloc(1, sizeof *s);
    if (!s) {
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NULL;
    }
    s->nu = nu;
    s->ni = ni;
    s->k = k;
    s->sigmoid = sigmoid;
    s->mu = recnn__calloc(1, sizeof(float));
    s->scale = recnn__calloc(2, sizeof(float));
    s->bu = recnn__calloc((size_t)nu, sizeof(float));
    s->bi = recnn__calloc((size_t)ni, sizeof(float));
    size_t pn, qn;
    if (recnn__mul_ok((size_t)nu, (size_t)k, &pn) && recnn__mul_ok((size_t)ni, (size_t)k, &qn)) {
        s->P = recnn__calloc(pn, sizeof(float));
        s->Q = recnn__calloc(qn, sizeof(float));
    }
    if (!s->mu || !s->scale || !s->bu || !s->bi || !s->P || !s->Q) {
        recnn__free(s->mu);
        recnn__free(s->scale);
        recnn__free(s->bu);
        recnn__free(s->bi);
        recnn__free(s->P);
        recnn__free(s->Q);
        free(s);
        recnn__fail(RECNN_E_NOMEM, "mf: out of memory for %lld x %lld factors",
                    (long long)(nu + ni), (long long)k);
        return NULL;
    }
    return s;
}

static inline float sigm(float z) { return 1.0f / (1.0f + expf(-z)); }

/* 8-float vectors (GNU vector extension): one AVX register in the
 * x86-64-v3 clones of the hot functions, two SSE registers otherwise.
 * Loads and stores go through memcpy (unaligned rows); macros, not
 * functions, because passing such vectors by value changes with the ISA. */
typedef float mf_v8 __attribute__((vector_size(32)));
#define LD8(v, src) memcpy(&(v), (src), sizeof(mf_v8))
#define ST8(dst, v) memcpy((dst), &(v), sizeof(mf_v8))

/* p . q over k floats with four independent 8-wide partial sums (the
 * latency of one accumulator chain, not the arithmetic, bounded the old
 * loop).  The summation order depends only on k: deterministic. */
static inline float dot_k(const float *restrict p, const float *restrict q, int64_t k)
{
    mf_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, x0, y0, x1, y1, x2, y2, x3, y3;
    int64_t f = 0;
    for (; f + 32 <= k; f += 32) {
        LD8(x0, p + f);
        LD8(y0, q + f);
        LD8(x1, p + f + 8);
        LD8(y1, q + f + 8);
        LD8(x2, p + f + 16);
        LD8(y2, q + f + 16);
        LD8(x3, p + f + 24);
        LD8(y3, q + f + 24);
        a0 += x0 * y0;
        a1 += x1 * y1;
        a2 += x2 * y2;
        a3 += x3 * y3;
    }
    for (; f + 8 <= k; f += 8) {
        LD8(x0, p + f);
        LD8(y0, q + f);
        a0 += x0 * y0;
    }
    float t = 0; /* the tail: a chain of its own, overlapping the vector sums */
    for (int64_t g = f; g < k; g++)
        t += p[g] * q[g];
    a0 = (a0 + a1) + (a2 + a3);
    return (((a0[0] + a0[4]) + (a0[1] + a0[5])) + ((a0[2] + a0[6]) + (a0[3] + a0[7]))) + t;
}

/* The linear score mu + b_u + b_i + p_u . q_i. */
static inline float mf_linear(const mf_state *s, int32_t u, int32_t i)
{
    const float *p = s->P + (int64_t)u * s->k, *q = s->Q + (int64_t)i * s->k;
    return s->mu[0] + s->bu[u] + s->bi[i] + dot_k(p, q, s->k);
}

static inline float mf_output(const mf_state *s, float z)
{
    return s->sigmoid ? s->scale[0] + (s->scale[1] - s->scale[0]) * sigm(z) : z;
}

RECNN__CLONES static int mf_predict(const recnn_model *m, int64_t n, const int32_t *u,
                                    const int32_t *i, float *out)
{
    const mf_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "mf: no parameters");
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (n > 20000)
    for (int64_t k = 0; k < n; k++)
        out[k] = mf_output(s, mf_linear(s, u[k], i[k]));
    return RECNN_OK;
}

/* scores[j] = out(base + b_j + p . q_j) for every item. */
RECNN__CLONES static void score_all(const mf_state *s, float base, const float *p,
                                    float *scores)
{
    for (int64_t j = 0; j < s->ni; j++)
        scores[j] = mf_output(s, base + s->bi[j] + dot_k(p, s->Q + j * s->k, s->k));
}

static int mf_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const mf_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "mf: no parameters");
    score_all(s, s->mu[0] + s->bu[u], s->P + (int64_t)u * s->k, scores);
    return RECNN_OK;
}

/* Regularised least squares for one row [b, p] (k+1 unknowns) against the
 * fixed other side: minimises sum_j (y_j - b - p.x_j)^2 + n (lb b^2 + l |p|^2)
 * where x_j are rows of X (indices idx), y_j = target.  G (n*(k+1)), A
 * ((k+1)^2) and rhs (k+1) are scratch; the solution is written to rhs.
 * The normal equations are formed with BLAS: A = G^T G, rhs = G^T y for
 * G = [1, x_j] (the caller holds BLAS to one thread inside parallel
 * regions). */
static int ls_row(int64_t k, const float *X, int64_t n, const int32_t *idx,
                  const float *y, double l2, double l2b, float *G, float *A, float *rhs)
{
    int64_t d = k + 1;
    for (int64_t j = 0; j < n; j++) {
        float *g = G + j * d;
        g[0] = 1.0f;
        memcpy(g + 1, X + (int64_t)idx[j] * k, (size_t)k * sizeof(float));
    }
    recnn_mat gm = recnn__mat_view(G, n, d), am = recnn__mat_view(A, d, d);
    if (n > 0) {
        recnn__gemm(true, false, 1.0f, &gm, &gm, 0.0f, &am);
        recnn__gemv(true, 1.0f, &gm, y, 0.0f, rhs);
    } else {
        memset(A, 0, (size_t)(d * d) * sizeof *A);
        memset(rhs, 0, (size_t)d * sizeof *rhs);
    }
    float nn = n > 0 ? (float)n : 1.0f;
    A[0] += (float)(l2b * nn) + 1e-6f;
    for (int64_t r = 1; r < d; r++)
        A[r * d + r] += (float)(l2 * nn) + 1e-6f;
    return recnn__posv(d, 1, A, rhs);
}

static int mf_score_new(const recnn_model *m, int64_t n, const int32_t *items,
                        const float *ratings, float *scores)
{
    const mf_state *s = m->state;
    const mf_cfg *c = RECNN__CFG(m, mf_cfg);
    if (!s)
        return recnn__fail(RECNN_E_STATE, "mf: no parameters");
    if (s->sigmoid)
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "mf: fold-in needs the linear output (sigmoid=0)");
    int64_t d = s->k + 1;
    float *A = recnn__alloc((size_t)(d * d), sizeof(float));
    float *x = recnn__alloc((size_t)d, sizeof(float));
    float *y = recnn__alloc((size_t)(n ? n : 1), sizeof(float));
    float *G = recnn__alloc((size_t)((n ? n : 1) * d), sizeof(float));
    if (!A || !x || !y || !G) {
        recnn__free(A);
        recnn__free(x);
        recnn__free(y);
        recnn__free(G);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    for (int64_t j = 0; j < n; j++)
        y[j] = ratings[j] - s->mu[0] - s->bi[items[j]];
    int st = RECNN_OK;
    if (n > 0) {
        st = ls_row(s->k, s->Q, n, items, y, c->l2, c->l2_bias, G, A, x);
    } else {
        memset(x, 0, (size_t)d * sizeof *x);
    }
    if (st == RECNN_OK)
        score_all(s, s->mu[0] + x[0], x + 1, scores);
    recnn__free(A);
    recnn__free(x);
    recnn__free(y);
    recnn__free(G);
    return st;
}

static int state_tensors(const mf_state *s, recnn__tensor *out)
{
    out[0] = (recnn__tensor){"mf.mu", RECNN__F32, 1, s->mu, 0, 0};
    out[1] = (recnn__tensor){"mf.scale", RECNN__F32, 2, s->scale, 0, 0};
    out[2] = (recnn__tensor){"mf.user_bias", RECNN__F32, s->nu, s->bu, 0, 0};
    out[3] = (recnn__tensor){"mf.item_bias", RECNN__F32, s->ni, s->bi, 0, 0};
    out[4] = (recnn__tensor){"mf.user_factors", RECNN__F32, s->nu * s->k, s->P, 0, 0};
    out[5] = (recnn__tensor){"mf.item_factors", RECNN__F32, s->ni * s->k, s->Q, 0, 0};
    return 6;
}

static int mf_tensors(const recnn_model *m, recnn__tensor *out, int max)
{
    const mf_state *s = m->state;
    if (!s || max < 6)
        return 0;
    return state_tensors(s, out);
}

static int mf_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    const mf_cfg *c = RECNN__CFG(m, mf_cfg);
    mf_state *s = state_new(m->n_users, m->n_items, c->factors, (int)c->sigmoid);
    if (!s)
        return RECNN_E_NOMEM;
    recnn__tensor want[6];
    state_tensors(s, want);
    int st = RECNN_OK;
    for (int w = 0; w < 6 && st == RECNN_OK; w++) {
        int found = 0;
        for (int j = 0; j < n && !found; j++) {
            if (strcmp(t[j].name, want[w].name) != 0)
                continue;
            found = 1;
            if (t[j].dtype != RECNN__F32 || t[j].count != want[w].count)
                st = recnn__fail(RECNN_E_CORRUPT,
                                 "mf: tensor %s has %lld elements, expected %lld",
                                 want[w].name, (long long)t[j].count,
                                 (long long)want[w].count);
            else
                memcpy(want[w].data, t[j].data, (size_t)want[w].count * sizeof(float));
        }
        if (!found && st == RECNN_OK)
            st = recnn__fail(RECNN_E_CORRUPT, "mf: tensor %s is missing", want[w].name);
    }
    if (m->state)
        mf_free_state(m);
    m->state = s;
    if (st != RECNN_OK)
        mf_free_state(m);
    return st;
}

/* ---- training ------------------------------------------------------------ */

typedef struct mf_train {
    const mf_cfg *c;
    mf_state *s;
    float lo, span;   /* target normalisation for sigmoid: t = (r - lo) / span */
    float lr;
    /* sgd */
    int64_t B;
    int64_t *cell_ptr; /* B*B + 1 */
    mf_rating *cells;
    recnn_rng *cell_rng; /* B*B */
    double *cell_loss;
    int64_t *order;      /* B */
    /* gd */
    int64_t *csc2csr;
    float *err;
    float *gQ, *gbi;
} mf_train;

/* Random balanced assignment of n rows to B blocks. */
static int assign_blocks(recnn_rng *r, int64_t n, int64_t B, int32_t *block)
{
    int32_t *perm = recnn__alloc((size_t)(n ? n : 1), sizeof *perm);
    if (!perm)
        return RECNN_E_NOMEM;
    for (int64_t j = 0; j < n; j++)
        perm[j] = (int32_t)j;
    recnn__rng_shuffle_i32(r, perm, (size_t)n);
    for (int64_t j = 0; j < n; j++)
        block[perm[j]] = (int32_t)(j * B / (n ? n : 1));
    recnn__free(perm);
    return RECNN_OK;
}

static int sgd_setup(mf_train *t, const recnn_dataset *d, recnn_rng *rng)
{
    int64_t B = t->c->blocks;
    t->B = B;
    int64_t nc = B * B;
    int32_t *ub = recnn__alloc((size_t)d->n_users, sizeof *ub);
    int32_t *ib = recnn__alloc((size_t)d->n_items, sizeof *ib);
    t->cell_ptr = recnn__calloc((size_t)nc + 1, sizeof *t->cell_ptr);
    t->cells = recnn__alloc((size_t)d->n_ratings, sizeof *t->cells);
    t->cell_rng = recnn__alloc((size_t)nc, sizeof *t->cell_rng);
    t->cell_loss = recnn__calloc((size_t)nc, sizeof *t->cell_loss);
    t->order = recnn__alloc((size_t)B, sizeof *t->order);
    int st = RECNN_OK;
    if (!ub || !ib || !t->cell_ptr || !t->cells || !t->cell_rng || !t->cell_loss ||
        !t->order) {
        st = recnn__fail(RECNN_E_NOMEM, "mf: out of memory for the SGD blocks");
        goto out;
    }
    if (assign_blocks(rng, d->n_users, B, ub) || assign_blocks(rng, d->n_items, B, ib)) {
        st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        goto out;
    }
    for (int64_t k = 0; k < d->n_ratings; k++)
        t->cell_ptr[ub[d->user[k]] * B + ib[d->item[k]] + 1]++;
    for (int64_t c = 0; c < nc; c++)
        t->cell_ptr[c + 1] += t->cell_ptr[c];
    {
        int64_t *pos = recnn__alloc((size_t)nc, sizeof *pos);
        if (!pos) {
            st = recnn__fail(RECNN_E_NOMEM, "out of memory");
            goto out;
        }
        memcpy(pos, t->cell_ptr, (size_t)nc * sizeof *pos);
        for (int64_t k = 0; k < d->n_ratings; k++) {
            int64_t c = ub[d->user[k]] * B + ib[d->item[k]];
            t->cells[pos[c]++] = (mf_rating){d->user[k], d->item[k], d->value[k]};
        }
        recnn__free(pos);
    }
    /* each cell's ratings in a random order, drawn once (as LIBMF: the
     * order of the blocks changes every epoch, the order inside a block
     * does not; re-shuffling every epoch cost a fifth of the epoch and did
     * not change the accuracy: ML-100K test RMSE 0.9116 with, 0.9109
     * without, same seed).  Cell c draws from stream c + 2 of the seed
     * (recnn__rng_stream(seed, c + 2)); the streams are reached by one jump
     * per cell from the previous one instead of c + 2 jumps from the seed
     * each — the same states, but B^2 jumps instead of ~B^4/2 (blocks=256
     * took minutes before the first epoch). */
    recnn_rng next;
    recnn__rng_stream(&next, (uint64_t)t->c->seed, 2);
    for (int64_t c = 0; c < nc; c++) {
        recnn_rng *cr = &t->cell_rng[c];
        *cr = next;
        if (c + 1 < nc)
            recnn__rng_jump(&next);
        mf_rating *r = t->cells + t->cell_ptr[c];
        for (int64_t j = t->cell_ptr[c + 1] - t->cell_ptr[c] - 1; j > 0; j--) {
            int64_t o = (int64_t)recnn__rng_below(cr, (uint64_t)(j + 1));
            mf_rating tmp = r[j];
            r[j] = r[o];
            r[o] = tmp;
        }
    }
out:
    recnn__free(ub);
    recnn__free(ib);
    return st;
}

/* How many ratings ahead sgd_cell prefetches the factor rows. */
#define MF_PREFETCH 6

/* One SGD pass over the ratings of one cell (its users and items are
 * touched by no other cell of the same sub-epoch). */
RECNN__CLONES static double sgd_cell(const mf_train *t, mf_rating *r, int64_t n,
                                     recnn_rng *rng)
{
    mf_state *s = t->s;
    const int64_t k = s->k;
    const float lr = t->lr, l2 = (float)t->c->l2, l2b = (float)t->c->l2_bias;
    const float drop = (float)t->c->dropout;
    const float keep_scale = drop > 0 ? 1.0f / (1.0f - drop) : 1.0f;
    float mask[4096];
    double loss = 0;
    for (int64_t j = 0; j < n; j++) {
        int32_t u = r[j].u, i = r[j].i;
        float *restrict p = s->P + (int64_t)u * k, *restrict q = s->Q + (int64_t)i * k;
#if defined(__GNUC__)
        /* the rows of the rating MF_PREFETCH ahead: on large tables every
         * rating's rows are cache misses, and one rating ahead hid only a
         * fraction of a memory latency (10M ratings, 200k x 32 user
         * table: 66 ns per rating with 1 ahead, see docs/models/mf.md) */
        if (j + MF_PREFETCH < n) {
            const int32_t un = r[j + MF_PREFETCH].u, in = r[j + MF_PREFETCH].i;
            const float *pn = s->P + (int64_t)un * k;
            const float *qn = s->Q + (int64_t)in * k;
            for (int64_t f = 0; f < k; f += 16) {
                __builtin_prefetch(pn + f, 1);
                __builtin_prefetch(qn + f, 1);
            }
            __builtin_prefetch(s->bu + un, 1);
            __builtin_prefetch(s->bi + in, 1);
        }
#endif
        float z = s->mu[0] + s->bu[u] + s->bi[i];
        if (drop > 0) {
            for (int64_t f = 0; f < k; f++)
                mask[f] = recnn__rng_uniformf(rng) >= drop ? keep_scale : 0.0f;
            for (int64_t f = 0; f < k; f++)
                z += mask[f] * p[f] * q[f];
        } else {
            z += dot_k(p, q, k);
        }
        float g, e;
        if (s->sigmoid) {
            float y = sigm(z), tgt = (r[j].r - t->lo) / t->span;
            e = (tgt - y) * t->span;
            g = (tgt - y) * y * (1.0f - y);
        } else {
            e = r[j].r - z;
            g = e;
        }
        loss += (double)e * e;
        s->bu[u] += lr * (g - l2b * s->bu[u]);
        s->bi[i] += lr * (g - l2b * s->bi[i]);
        if (drop > 0) {
            for (int64_t f = 0; f < k; f++) {
                float pf = p[f], qf = q[f], gm = g * mask[f];
                p[f] += lr * (gm * qf - l2 * pf);
                q[f] += lr * (gm * pf - l2 * qf);
            }
        } else {
            int64_t f = 0;
            for (; f + 8 <= k; f += 8) {
                mf_v8 pf, qf, np, nq;
                LD8(pf, p + f);
                LD8(qf, q + f);
                np = pf + lr * (g * qf - l2 * pf);
                nq = qf + lr * (g * pf - l2 * qf);
                ST8(p + f, np);
                ST8(q + f, nq);
            }
            for (; f < k; f++) {
                float pf = p[f], qf = q[f];
                p[f] += lr * (g * qf - l2 * pf);
                q[f] += lr * (g * pf - l2 * qf);
            }
        }
    }
    return loss;
}

/* Sub-epochs with fewer ratings than this run on the calling thread (same
 * numbers either way).  Not static so that tests can force the parallel
 * path on small data. */
int64_t recnn__mf_parallel_min = 100000;

static double sgd_epoch(mf_train *t, recnn_rng *rng)
{
    int64_t B = t->B;
    int64_t *order = t->order;
    int64_t shift = (int64_t)recnn__rng_below(rng, (uint64_t)B);
    for (int64_t j = 0; j < B; j++)
        order[j] = j;
    for (int64_t j = B - 1; j > 0; j--) {
        int64_t o = (int64_t)recnn__rng_below(rng, (uint64_t)(j + 1));
        int64_t tmp = order[j];
        order[j] = order[o];
        order[o] = tmp;
    }
    for (int64_t so = 0; so < B; so++) {
        int64_t sub = order[so];
        /* Each cell depends only on its own data and stream, so the dynamic
         * schedule (and running small sub-epochs on one thread, where the
         * barrier would cost more than the work) cannot change the numbers. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(recnn__threads()) \
    if (t->cell_ptr[B * B] >= recnn__mf_parallel_min * B)
        for (int64_t b = 0; b < B; b++) {
            int64_t c = b * B + (b + sub + shift) % B;
            t->cell_loss[c] = sgd_cell(t, t->cells + t->cell_ptr[c],
                                       t->cell_ptr[c + 1] - t->cell_ptr[c],
                                       &t->cell_rng[c]);
        }
    }
    double loss = 0;
    for (int64_t c = 0; c < B * B; c++)
        loss += t->cell_loss[c];
    return loss;
}

/* Error r - pred (in rating units) and the gradient factor dL/dz (negated)
 * of one rating. */
static inline void rating_grad(const mf_train *t, float z, float r, float *e, float *g)
{
    if (t->s->sigmoid) {
        float y = sigm(z), tgt = (r - t->lo) / t->span;
        *e = (tgt - y) * t->span;
        *g = (tgt - y) * y * (1.0f - y);
    } else {
        *e = r - z;
        *g = *e;
    }
}

static int gd_setup(mf_train *t, const recnn_dataset *d)
{
    t->csc2csr = recnn__alloc((size_t)d->n_ratings, sizeof *t->csc2csr);
    t->err = recnn__alloc((size_t)d->n_ratings, sizeof *t->err);
    t->gQ = recnn__alloc((size_t)(d->n_items * t->s->k), sizeof *t->gQ);
    t->gbi = recnn__alloc((size_t)d->n_items, sizeof *t->gbi);
    int64_t *next = recnn__alloc((size_t)d->n_items, sizeof *next);
    if (!t->csc2csr || !t->err || !t->gQ || !t->gbi || !next) {
        recnn__free(next);
        return recnn__fail(RECNN_E_NOMEM, "mf: out of memory for gradient descent");
    }
    memcpy(next, d->col_ptr, (size_t)d->n_items * sizeof *next);
    /* CSR is in user order and each CSC column is sorted by user, so the
     * k-th rating of item i in CSR order is its k-th CSC entry. */
    for (int64_t k = 0; k < d->n_ratings; k++)
        t->csc2csr[next[d->item[k]]++] = k;
    recnn__free(next);
    return RECNN_OK;
}

static double gd_epoch(mf_train *t, const recnn_dataset *d)
{
    mf_state *s = t->s;
    const int64_t k = s->k;
    const float lr = t->lr, l2 = (float)t->c->l2, l2b = (float)t->c->l2_bias;
    double *uloss = recnn__calloc((size_t)d->n_users, sizeof *uloss);
    if (!uloss)
        return NAN;
    /* 1: errors with the current parameters */
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= MF_PAR_MIN)
    for (int64_t u = 0; u < d->n_users; u++) {
        double l = 0;
        for (int64_t j = d->row_ptr[u]; j < d->row_ptr[u + 1]; j++) {
            float e, g;
            rating_grad(t, mf_linear(s, (int32_t)u, d->item[j]), d->value[j], &e, &g);
            t->err[j] = g;
            l += (double)e * e;
        }
        uloss[u] = l;
    }
    /* 2: item gradients from the old user factors */
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= MF_PAR_MIN)
    for (int64_t i = 0; i < d->n_items; i++) {
        float *gq = t->gQ + i * k;
        const float *q = s->Q + i * k;
        int64_t n = d->col_ptr[i + 1] - d->col_ptr[i];
        memset(gq, 0, (size_t)k * sizeof *gq);
        float gb = 0;
        for (int64_t c = d->col_ptr[i]; c < d->col_ptr[i + 1]; c++) {
            float g = t->err[t->csc2csr[c]];
            const float *p = s->P + (int64_t)d->col_user[c] * k;
            gb += g;
            for (int64_t f = 0; f < k; f++)
                gq[f] += g * p[f];
        }
        if (n > 0) {
            float inv = 1.0f / (float)n;
            for (int64_t f = 0; f < k; f++)
                gq[f] = gq[f] * inv - l2 * q[f];
            t->gbi[i] = gb * inv - l2b * s->bi[i];
        } else {
            t->gbi[i] = 0;
        }
    }
    /* 3: user steps (item side still old) */
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= MF_PAR_MIN)
    for (int64_t u = 0; u < d->n_users; u++) {
        int64_t n = d->row_ptr[u + 1] - d->row_ptr[u];
        if (n == 0)
            continue;
        float gp[4096];
        float *p = s->P + u * k;
        memset(gp, 0, (size_t)k * sizeof *gp);
        float gb = 0;
        for (int64_t j = d->row_ptr[u]; j < d->row_ptr[u + 1]; j++) {
            float g = t->err[j];
            const float *q = s->Q + (int64_t)d->item[j] * k;
            gb += g;
            for (int64_t f = 0; f < k; f++)
                gp[f] += g * q[f];
        }
        float inv = 1.0f / (float)n;
        for (int64_t f = 0; f < k; f++)
            p[f] += lr * (gp[f] * inv - l2 * p[f]);
        s->bu[u] += lr * (gb * inv - l2b * s->bu[u]);
    }
    /* 4: item steps */
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) \
    if (d->n_ratings >= MF_PAR_MIN)
    for (int64_t i = 0; i < d->n_items; i++) {
        float *q = s->Q + i * k;
        const float *gq = t->gQ + i * k;
        for (int64_t f = 0; f < k; f++)
            q[f] += lr * gq[f];
        s->bi[i] += lr * t->gbi[i];
    }
    double loss = 0;
    for (int64_t u = 0; u < d->n_users; u++)
        loss += uloss[u];
    recnn__free(uloss);
    return loss;
}

/* One ALS half-sweep: solves every row of (bias, X) against the fixed
 * other side (bias_o, Y); rows given as CSR-like (ptr, idx, val). */
static int als_half(const mf_train *t, int64_t n_rows, const int64_t *ptr,
                    const int32_t *idx, const float *val, float *bias, float *X,
                    const float *bias_o, const float *Y, double *row_loss)
{
    const mf_state *s = t->s;
    const int64_t k = s->k, d = k + 1;
    int failed = 0;
    recnn__blas_threads(1);
#pragma omp parallel num_threads(recnn__threads()) if (ptr[n_rows] >= MF_PAR_MIN)
    {
        float *A = recnn__alloc((size_t)(d * d), sizeof(float));
        float *x = recnn__alloc((size_t)d, sizeof(float));
        int64_t ycap = 0;
        float *y = NULL, *G = NULL;
        if (!A || !x) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t r = 0; r < n_rows; r++) {
            int64_t n = ptr[r + 1] - ptr[r];
            if (!A || !x || n == 0) {
                continue;
            }
            if (n > ycap) {
                recnn__free(y);
                recnn__free(G);
                y = recnn__alloc((size_t)n, sizeof(float));
                G = recnn__alloc((size_t)(n * d), sizeof(float));
                ycap = y && G ? n : 0;
                if (!y || !G) {
#pragma omp atomic write
                    failed = 1;
                    continue;
                }
            }
            for (int64_t j = 0; j < n; j++)
                y[j] = val[ptr[r] + j] - s->mu[0] - bias_o[idx[ptr[r] + j]];
            if (ls_row(k, Y, n, idx + ptr[r], y, t->c->l2, t->c->l2_bias, G, A, x) !=
                RECNN_OK) {
#pragma omp atomic write
                failed = 2;
                continue;
            }
            bias[r] = x[0];
            memcpy(X + r * k, x + 1, (size_t)k * sizeof(float));
            if (row_loss) {
                double l = 0;
                for (int64_t j = 0; j < n; j++) {
                    const float *yy = Y + (int64_t)idx[ptr[r] + j] * k;
                    float z = 0;
                    for (int64_t f = 0; f < k; f++)
                        z += x[f + 1] * yy[f];
                    float e = y[j] - x[0] - z;
                    l += (double)e * e;
                }
                row_loss[r] = l;
            }
        }
        recnn__free(A);
        recnn__free(x);
        recnn__free(y);
        recnn__free(G);
    }
    recnn__blas_threads(recnn__budget());
    if (failed == 2)
        return recnn__fail(RECNN_E_NUMERIC, "mf: an ALS system was not positive definite");
    if (failed)
        return recnn__fail(RECNN_E_NOMEM, "mf: out of memory in ALS");
    return RECNN_OK;
}

static double als_epoch(mf_train *t, const recnn_dataset *d, int *st)
{
    mf_state *s = t->s;
    double *loss = recnn__calloc((size_t)d->n_users, sizeof *loss);
    if (!loss) {
        *st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NAN;
    }
    *st = als_half(t, d->n_items, d->col_ptr, d->col_user, d->col_value, s->bi, s->Q,
                   s->bu, s->P, NULL);
    if (*st == RECNN_OK)
        *st = als_half(t, d->n_users, d->row_ptr, d->item, d->value, s->bu, s->P, s->bi,
                       s->Q, loss);
    double l = 0;
    for (int64_t u = 0; u < d->n_users; u++)
        l += loss[u];
    recnn__free(loss);
    return l;
}

static void train_free(mf_train *t)
{
    recnn__free(t->cell_ptr);
    recnn__free(t->cells);
    recnn__free(t->cell_rng);
    recnn__free(t->cell_loss);
    recnn__free(t->order);
    recnn__free(t->csc2csr);
    recnn__free(t->err);
    recnn__free(t->gQ);
    recnn__free(t->gbi);
}

static int mf_fit(recnn_model *m, const recnn_dataset *d, const recnn_dataset *valid)
{
    const mf_cfg *c = RECNN__CFG(m, mf_cfg);
    int solver = solver_of(c);
    if (solver == SOLVER_ALS && c->sigmoid)
        return recnn__fail(RECNN_E_INVALID, "mf: solver=als needs sigmoid=0");
    if (solver != SOLVER_SGD && c->dropout > 0)
        return recnn__fail(RECNN_E_INVALID, "mf: dropout is implemented for solver=sgd");
    if (c->factors > 4096)
        return recnn__fail(RECNN_E_INVALID, "mf: at most 4096 factors");
    mf_state *s = state_new(d->n_users, d->n_items, c->factors, (int)c->sigmoid);
    if (!s)
        return RECNN_E_NOMEM;
    m->state = s;
    mf_train t;
    memset(&t, 0, sizeof t);
    t.c = c;
    t.s = s;
    t.lo = m->scale_min;
    t.span = m->scale_max > m->scale_min ? m->scale_max - m->scale_min : 1.0f;
    s->scale[0] = m->scale_min;
    s->scale[1] = m->scale_min + t.span;
    if (c->sigmoid) {
        double mt = (m->global_mean - t.lo) / t.span;
        mt = mt < 1e-3 ? 1e-3 : mt > 1 - 1e-3 ? 1 - 1e-3 : mt;
        s->mu[0] = (float)log(mt / (1 - mt));
    } else {
        s->mu[0] = (float)m->global_mean;
    }
    recnn_rng rng;
    recnn__rng_stream(&rng, (uint64_t)c->seed, 0);
    const int64_t k = c->factors;
    for (int64_t u = 0; u < d->n_users; u++) {
        int empty = d->row_ptr[u + 1] == d->row_ptr[u];
        for (int64_t f = 0; f < k; f++) {
            float v = (float)(recnn__rng_normal(&rng) * c->init_std);
            s->P[u * k + f] = empty ? 0.0f : v;
        }
    }
    for (int64_t i = 0; i < d->n_items; i++) {
        int empty = d->col_ptr[i + 1] == d->col_ptr[i];
        for (int64_t f = 0; f < k; f++) {
            float v = (float)(recnn__rng_normal(&rng) * c->init_std);
            s->Q[i * k + f] = empty ? 0.0f : v;
        }
    }
    int st = RECNN_OK;
    if (solver == SOLVER_SGD)
        st = sgd_setup(&t, d, &rng);
    else if (solver == SOLVER_GD)
        st = gd_setup(&t, d);
    double lr = c->lr > 0 ? c->lr : solver == SOLVER_GD ? 0.5 : 0.01;
    for (int64_t ep = 1; st == RECNN_OK && ep <= c->epochs; ep++) {
        double t0 = recnn__now();
        t.lr = (float)lr;
        double loss;
        if (solver == SOLVER_SGD)
            loss = sgd_epoch(&t, &rng);
        else if (solver == SOLVER_GD)
            loss = gd_epoch(&t, d);
        else
            loss = als_epoch(&t, d, &st);
        if (st != RECNN_OK)
            break;
        loss /= (double)d->n_ratings;
        if (!isfinite(loss)) {
            st = recnn__fail(RECNN_E_NUMERIC,
                             "mf: training diverged at epoch %lld (lower lr)",
                             (long long)ep);
            break;
        }
        lr *= c->lr_decay;
        m->train_seconds = recnn__now() - t0; /* the pass alone (progress) */
        double vr = recnn__valid_rmse(m, valid);
        int stop = recnn__fit_epoch(m, (int)ep, loss, vr, "rmse", 1, (int)c->patience,
                                    recnn__now() - t0);
        if (stop < 0)
            st = RECNN_E_NOMEM;
        if (stop)
            break;
    }
    train_free(&t);
    return st;
}

const recnn__model_vt recnn__vt_mf = {
    .kind = "mf",
    .doc = "biased matrix factorisation (SGD / full-batch GD / ALS)",
    .settings = mf_settings,
    .n_settings = (int)(sizeof mf_settings / sizeof mf_settings[0]),
    .config_size = sizeof(mf_cfg),
    .fit = mf_fit,
    .predict = mf_predict,
    .score_user = mf_score_user,
    .score_new = mf_score_new,
    .tensors = mf_tensors,
    .restore = mf_restore,
    .free_state = mf_free_state,
};
