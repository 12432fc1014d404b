/* Layers: linear (dense, sparse-input, masked output, tied), embedding,
 * fixed and adaptive activations, dropout, concat and product merges. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define LAYER_SSE 1
#else
#define LAYER_SSE 0
#endif

/* ---- creation helpers -------------------------------------------------- */

static int new_layer(recnn__layer **out, int kind, int64_t in, int64_t outd,
                     int64_t max_batch, const char *what)
{
    *out = NULL;
    if (in < 1 || outd < 1 || max_batch < 1)
        return recnn__fail(RECNN_E_INVALID,
                           "%s: dimensions and max_batch must be >= 1 (in %lld, out %lld, "
                           "max_batch %lld)",
                           what, (long long)in, (long long)outd, (long long)max_batch);
    if (in > INT32_MAX || outd > INT32_MAX || max_batch > INT32_MAX)
        return recnn__fail(RECNN_E_INVALID, "%s: a dimension exceeds 2^31-1", what);
    recnn__layer *l = recnn__calloc(1, sizeof *l);
    if (!l)
        return RECNN_E_NOMEM;
    l->kind = kind;
    l->in_dim = in;
    l->out_dim = outd;
    l->max_batch = max_batch;
    *out = l;
    return RECNN_OK;
}

/* Adds an owned parameter of count floats (zeroed value and gradient). */
static int add_param(recnn__layer *l, const char *name, int64_t count, int64_t row_len,
                     int decay, int track)
{
    recnn__param *p = &l->params[l->n_params];
    float *w = recnn__calloc((size_t)count, sizeof(float));
    float *g = recnn__calloc((size_t)count, sizeof(float));
    if (!w || !g) {
        recnn__free(w);
        recnn__free(g);
        return RECNN_E_NOMEM;
    }
    *p = recnn__param_make(name, w, g, count, row_len, decay);
    l->n_params++;
    if (track)
        return recnn__param_track_rows(p);
    return RECNN_OK;
}

void recnn__layer_free(recnn__layer *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n_params; i++) {
        recnn__free(l->params[i].w);
        recnn__free(l->params[i].g);
        recnn__param_free(&l->params[i]);
    }
    recnn__free(l->ones);
    recnn__free(l->off);
    recnn__free(l->rowsum);
    recnn__free(l->rowloss);
    recnn__free(l->mask);
    recnn__free(l->y);
    recnn__free(l->gx);
    recnn__free(l->gx2);
    recnn__free(l);
}

static int finish(recnn__layer **out, recnn__layer *l, int st)
{
    if (st != RECNN_OK) {
        recnn__layer_free(l);
        *out = NULL;
        return st;
    }
    *out = l;
    return RECNN_OK;
}

static int linear_new(recnn__layer **out, int64_t in, int64_t units, int64_t ld, int bias,
                      int64_t max_batch, int wt, int sparse_in, int masked,
                      const char *what)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "%s: NULL out", what);
    *out = NULL;
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_LINEAR, in, units, max_batch, what);
    if (st)
        return st;
    l->wt = wt;
    l->sparse_in = sparse_in;
    l->masked = masked;
    /* W is [in x out] (wt 0) or [out x in] (wt 1); a "row" is one of the
     * first dimension's entries. */
    int64_t rows = wt ? units : in, rl = wt ? in : units;
    if (ld == 0)
        ld = rl;
    if (ld < rl || ld > INT32_MAX)
        return finish(out, l, recnn__fail(RECNN_E_INVALID,
                                          "%s: row stride %lld outside [%lld, 2^31)", what,
                                          (long long)ld, (long long)rl));
    l->ld = ld;
    size_t cnt;
    if (!recnn__mul_ok((size_t)rows, (size_t)ld, &cnt))
        return finish(out, l, recnn__fail(RECNN_E_NOMEM, "%s: W too large", what));
    st = add_param(l, "W", rows * ld, ld, 1, sparse_in || masked);
    if (!st)
        l->pw = &l->params[0];
    if (!st && bias) {
        st = add_param(l, "b", units, 1, 0, masked);
        if (!st)
            l->pb = &l->params[1];
    }
    if (!st) {
        l->ones = recnn__alloc((size_t)max_batch, sizeof(float));
        l->off = recnn__alloc((size_t)max_batch + 1, sizeof(int64_t));
        if (sparse_in || masked)
            l->rowsum = recnn__alloc((size_t)rows, 2 * sizeof(double));
        if (masked)
            l->rowloss = recnn__alloc((size_t)max_batch, sizeof(double));
        if (!l->ones || !l->off || ((sparse_in || masked) && !l->rowsum) ||
            (masked && !l->rowloss))
            st = RECNN_E_NOMEM;
        else
            for (int64_t i = 0; i < max_batch; i++)
                l->ones[i] = 1.0f;
    }
    return finish(out, l, st);
}

int recnn__dense_create(recnn__layer **out, int64_t in, int64_t units, int bias,
                        int64_t max_batch)
{
    return linear_new(out, in, units, 0, bias, max_batch, 0, 0, 0, "dense");
}

int recnn__sparse_create(recnn__layer **out, int64_t in, int64_t units, int bias,
                         int64_t max_batch)
{
    return linear_new(out, in, units, 0, bias, max_batch, 0, 1, 0, "sparse dense");
}

int recnn__masked_create(recnn__layer **out, int64_t in, int64_t out_dim, int bias,
                         int64_t max_batch)
{
    return linear_new(out, in, out_dim, 0, bias, max_batch, 1, 0, 1, "masked output");
}

int recnn__sparse_create_ld(recnn__layer **out, int64_t in, int64_t units, int64_t ld,
                            int bias, int64_t max_batch)
{
    return linear_new(out, in, units, ld, bias, max_batch, 0, 1, 0, "sparse dense");
}

int recnn__masked_create_ld(recnn__layer **out, int64_t in, int64_t out_dim, int64_t ld,
                            int bias, int64_t max_batch)
{
    return linear_new(out, in, out_dim, ld, bias, max_batch, 1, 0, 1, "masked output");
}

int64_t recnn__row_stride(int64_t n) { return (n + 7) / 8 * 8; }

/* W's row length (its stride is l->ld). */
static int64_t w_row_len(const recnn__layer *l) { return l->wt ? l->in_dim : l->out_dim; }

static int padded(const recnn__layer *l)
{
    return l->kind == RECNN__L_LINEAR && !l->tied && l->ld != w_row_len(l);
}

int recnn__tied_create(recnn__layer **out, recnn__layer *enc, int bias, int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out || !enc || enc->kind != RECNN__L_LINEAR)
        return recnn__fail(RECNN_E_INVALID, "tied: the encoder must be a linear layer");
    if (padded(enc))
        return recnn__fail(RECNN_E_INVALID, "tied: the encoder has padded rows");
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_LINEAR, enc->out_dim, enc->in_dim, max_batch, "tied");
    if (st)
        return st;
    l->wt = !enc->wt;
    l->masked = l->wt; /* rows of W are output columns: masked-capable */
    l->tied = enc;
    l->ld = enc->ld;
    l->pw = enc->pw;
    if (bias) {
        st = add_param(l, "b", l->out_dim, 1, 0, l->masked);
        if (!st)
            l->pb = &l->params[0];
    }
    if (!st) {
        l->ones = recnn__alloc((size_t)max_batch, sizeof(float));
        l->off = recnn__alloc((size_t)max_batch + 1, sizeof(int64_t));
        if (l->masked)
            l->rowloss = recnn__alloc((size_t)max_batch, sizeof(double));
        if (!l->ones || !l->off || (l->masked && !l->rowloss))
            st = RECNN_E_NOMEM;
        else
            for (int64_t i = 0; i < max_batch; i++)
                l->ones[i] = 1.0f;
    }
    return finish(out, l, st);
}

int recnn__embedding_create(recnn__layer **out, int64_t n, int64_t dim, int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "embedding: NULL out");
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_EMBEDDING, n, dim, max_batch, "embedding");
    if (st)
        return st;
    size_t cnt;
    if (!recnn__mul_ok((size_t)n, (size_t)dim, &cnt))
        return finish(out, l, recnn__fail(RECNN_E_NOMEM, "embedding: table too large"));
    st = add_param(l, "E", n * dim, dim, 1, 1);
    return finish(out, l, st);
}

int recnn__act_create(recnn__layer **out, int act, int64_t dim, float alpha,
                      int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "activation: NULL out");
    if (act < RECNN__ACT_IDENTITY || act > RECNN__ACT_SOFTMAX)
        return recnn__fail(RECNN_E_INVALID,
                           "activation: unknown id %d (use recnn__apl_create for apl)", act);
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_ACT, dim, dim, max_batch, "activation");
    if (st)
        return st;
    l->act = act;
    l->alpha = alpha < 0 ? recnn__act_default_alpha(act) : alpha;
    return finish(out, l, RECNN_OK);
}

int recnn__apl_create(recnn__layer **out, int64_t dim, int hinges, int per_unit, float a0,
                      int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "apl: NULL out");
    if (hinges < 1 || hinges > 64)
        return recnn__fail(RECNN_E_INVALID, "apl: hinges must be in [1, 64], got %d", hinges);
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_APL, dim, dim, max_batch, "apl");
    if (st)
        return st;
    l->act = RECNN__ACT_APL;
    l->hinges = hinges;
    l->per_unit = per_unit ? 1 : 0;
    int64_t per = per_unit ? dim : 1;
    st = add_param(l, "apl_a", hinges * per, per, 0, 0);
    if (!st)
        st = add_param(l, "apl_b", hinges * per, per, 0, 0);
    if (!st) {
        for (int s = 0; s < hinges; s++) {
            float bs = hinges == 1 ? 0.0f : -1.0f + 2.0f * (float)s / (float)(hinges - 1);
            for (int64_t j = 0; j < per; j++) {
                l->params[0].w[s * per + j] = a0;
                l->params[1].w[s * per + j] = bs;
            }
        }
    }
    return finish(out, l, st);
}

int recnn__dropout_create(recnn__layer **out, int64_t dim, float rate, uint64_t seed,
                          int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "dropout: NULL out");
    if (!(rate >= 0.0f && rate < 1.0f))
        return recnn__fail(RECNN_E_INVALID, "dropout: rate must be in [0, 1), got %g",
                           (double)rate);
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_DROPOUT, dim, dim, max_batch, "dropout");
    if (st)
        return st;
    l->rate = rate;
    recnn__rng_seed(&l->rng, seed);
    l->mask = recnn__calloc((size_t)max_batch, (size_t)dim * sizeof(float));
    return finish(out, l, l->mask ? RECNN_OK : RECNN_E_NOMEM);
}

void recnn__dropout_fix_mask(recnn__layer *l, int fixed)
{
    if (l && l->kind == RECNN__L_DROPOUT) {
        l->fixed_mask = fixed ? 1 : 0;
        if (!fixed)
            l->mask_ready = 0;
    }
}

int recnn__concat_create(recnn__layer **out, int64_t da, int64_t db, int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "concat: NULL out");
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_CONCAT, da, da + db, max_batch, "concat");
    if (st)
        return st;
    if (db < 1)
        return finish(out, l, recnn__fail(RECNN_E_INVALID, "concat: widths must be >= 1"));
    l->in_dim2 = db;
    return finish(out, l, RECNN_OK);
}

int recnn__product_create(recnn__layer **out, int64_t dim, int64_t max_batch)
{
    if (out)
        *out = NULL;
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "product: NULL out");
    recnn__layer *l;
    int st = new_layer(&l, RECNN__L_PRODUCT, dim, dim, max_batch, "product");
    if (st)
        return st;
    l->in_dim2 = dim;
    return finish(out, l, RECNN_OK);
}

int recnn__layer_alloc_io(recnn__layer *l)
{
    if (!l)
        return recnn__fail(RECNN_E_INVALID, "layer: NULL");
    if (!l->y) {
        /* a padded layer's rows on W's side are ld apart (recnn_layer.ld) */
        int64_t w = padded(l) && !l->wt ? l->ld : l->out_dim;
        l->y = recnn__calloc((size_t)l->max_batch, (size_t)w * sizeof(float));
        if (!l->y)
            return RECNN_E_NOMEM;
    }
    int need_gx = !(l->kind == RECNN__L_EMBEDDING || (l->kind == RECNN__L_LINEAR && l->sparse_in));
    if (need_gx && !l->gx) {
        int64_t w = padded(l) && l->wt ? l->ld : l->in_dim;
        l->gx = recnn__calloc((size_t)l->max_batch, (size_t)w * sizeof(float));
        if (!l->gx)
            return RECNN_E_NOMEM;
    }
    if ((l->kind == RECNN__L_CONCAT || l->kind == RECNN__L_PRODUCT) && !l->gx2) {
        l->gx2 = recnn__calloc((size_t)l->max_batch, (size_t)l->in_dim2 * sizeof(float));
        if (!l->gx2)
            return RECNN_E_NOMEM;
    }
    return RECNN_OK;
}

int recnn__layer_init(recnn__layer *l, int scheme, float scale, recnn_rng *r)
{
    if (!l || !r)
        return recnn__fail(RECNN_E_INVALID, "layer init: NULL argument");
    if (l->kind == RECNN__L_LINEAR && !l->tied) {
        const int64_t rl = w_row_len(l), ld = l->ld, rows = l->pw->count / ld;
        /* the draws of the unpadded layer, then each row moved to its
         * stride (last row first: the moves never overlap unread rows) */
        int st =
            recnn__init_fill(l->pw->w, rows * rl, scheme, l->in_dim, l->out_dim, scale, r);
        if (st != RECNN_OK || ld == rl)
            return st;
        for (int64_t q = rows - 1; q >= 0; q--) {
            memmove(l->pw->w + q * ld, l->pw->w + q * rl, (size_t)rl * sizeof(float));
            memset(l->pw->w + q * ld + rl, 0, (size_t)(ld - rl) * sizeof(float));
        }
        return RECNN_OK;
    }
    if (l->kind == RECNN__L_EMBEDDING)
        return recnn__init_fill(l->params[0].w, l->params[0].count, scheme, l->out_dim,
                                l->out_dim, scale, r);
    return RECNN_OK;
}

int recnn__layer_params(recnn__layer *l, recnn__param **out, int max)
{
    if (!l)
        return 0;
    int k = 0;
    for (int i = 0; i < l->n_params && k < max; i++)
        out[k++] = &l->params[i];
    return k;
}

void recnn__layer_zero_grad(recnn__layer *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n_params; i++)
        recnn__param_zero_grad(&l->params[i]);
    if (l->tied)
        recnn__param_zero_grad(l->pw);
}

/* ---- batch checks ------------------------------------------------------ */

static int check_batch(const recnn__layer *l, int64_t n, const char *what)
{
    if (n < 0 || n > l->max_batch)
        return recnn__fail(RECNN_E_INVALID, "%s: batch of %lld rows outside [0, %lld]", what,
                           (long long)n, (long long)l->max_batch);
    return RECNN_OK;
}

static int check_csr(const recnn__layer *l, const recnn__csr *x, int64_t dim, const char *what)
{
    if (!x || (x->n > 0 && (!x->ptr || !x->idx)))
        return recnn__fail(RECNN_E_INVALID, "%s: NULL sparse batch", what);
    int st = check_batch(l, x->n, what);
    if (st)
        return st;
    /* the offsets first: the column scan below reads idx[ptr[0] .. ptr[n]) */
    if ((st = recnn__csr_check_ptr(x, what)))
        return st;
    if (x->cols_ok > 0 && x->cols_ok <= dim) /* vouched for by its builder */
        return RECNN_OK;
    /* Column range check: one pass over the batch (cheap next to the
     * nnz x units work that follows); a contiguous batch by a min/max
     * reduction that vectorises, the loop below only to name the culprit */
    if (!x->sel && x->n > 0) {
        int32_t lo = 0, hi = 0;
        const int32_t *ix = x->idx;
#pragma omp simd reduction(min : lo) reduction(max : hi)
        for (int64_t k = x->ptr[0]; k < x->ptr[x->n]; k++) {
            lo = ix[k] < lo ? ix[k] : lo;
            hi = ix[k] > hi ? ix[k] : hi;
        }
        if (lo >= 0 && hi < dim)
            return RECNN_OK;
    }
    for (int64_t r = 0; r < x->n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        for (int64_t k = x->ptr[s]; k < x->ptr[s + 1]; k++)
            if (x->idx[k] < 0 || x->idx[k] >= dim)
                return recnn__fail(RECNN_E_INVALID,
                                   "%s: column %d of batch row %lld outside [0, %lld)", what,
                                   (int)x->idx[k], (long long)r, (long long)dim);
    }
    return RECNN_OK;
}

/* ---- linear: dense path ------------------------------------------------- */

/* Tiny layers (NCF towers: 16x8, 8x4, 20x1) by direct loops: for these a
 * sgemm call costs more in dispatch and packing than its arithmetic, and
 * the bias was a memcpy call per row.  The common widths are compiled as
 * constants (the loop over the outputs becomes one vector operation);
 * each kernel is compiled per CPU (RECNN__CLONES).  The summation order
 * is fixed for a given machine. */
/* Where the direct kernels beat OpenBLAS (swept in bench_nn, docs/
 * PERFORMANCE.md §6.2): a single output over a short input, or 4/8/16
 * outputs over at most 16 inputs.  32->16 and 64->32 are 2-6x faster
 * through sgemm. */
#define LINEAR_SMALL(in, outd)                                                              \
    (((outd) == 1 && (in) <= 64) ||                                                        \
     (((outd) == 4 || (outd) == 8 || (outd) == 16) && (in) <= 16))

/* GNU vector types for the tiny kernels (unaligned loads/stores through
 * memcpy); compiled as AVX in the x86-64-v3 clone, as SSE pairs else. */
typedef float lv8 __attribute__((vector_size(32)));
typedef float lv4 __attribute__((vector_size(16)));
#define LD8(p) __extension__({ lv8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST8(p, v) do { lv8 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)
#define LD4(p) __extension__({ lv4 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST4(p, v) do { lv4 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

/* C[n x N] = bias + A[n x K] B[K x N], N = 4, 8 or 16 (bias may be NULL):
 * four rows at a time in registers (independent multiply-add chains, each
 * row of B loaded once per four rows). */
#define SMALL_MM(NAME, VT, LD, ST, W)                                                      \
    static inline __attribute__((always_inline)) void NAME(                                \
        int64_t n, int64_t K, const float *A, const float *B, const float *bias, float *C) \
    {                                                                                      \
        const int V = (W) / (int)(sizeof(VT) / sizeof(float));                            \
        VT b0[2] = {{0}, {0}};                                                             \
        _Pragma("GCC unroll 8") for (int v = 0; bias && v < V; v++)                                                \
            b0[v] = LD(bias + v * (int)(sizeof(VT) / sizeof(float)));                      \
        const int L = (int)(sizeof(VT) / sizeof(float));                                   \
        int64_t r = 0;                                                                     \
        for (; r + 4 <= n; r += 4) {                                                       \
            VT c[4][2];                                                                    \
            _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++)                                                    \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    c[j][v] = b0[v];                                                       \
            for (int64_t k = 0; k < K; k++) {                                              \
                VT w[2];                                                                   \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    w[v] = LD(B + k * (W) + v * L);                                        \
                _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++) {                                              \
                    const float a = A[(r + j) * K + k];                                    \
                    _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                            \
                        c[j][v] += a * w[v];                                               \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++)                                                    \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    ST(C + (r + j) * (W) + v * L, c[j][v]);                                \
        }                                                                                  \
        for (; r < n; r++) {                                                               \
            VT c[2] = {b0[0], b0[1]};                                                      \
            for (int64_t k = 0; k < K; k++) {                                              \
                const float a = A[r * K + k];                                              \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    c[v] += a * LD(B + k * (W) + v * L);                                   \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                    \
                ST(C + r * (W) + v * L, c[v]);                                             \
        }                                                                                  \
    }
SMALL_MM(mm4, lv4, LD4, ST4, 4)
SMALL_MM(mm8, lv8, LD8, ST8, 8)
SMALL_MM(mm16, lv8, LD8, ST8, 16)

/* dW[K x N] += X^T[K x n] G[n x N], N = 4, 8 or 16: four rows of dW at a
 * time held in registers over all n rows (no store per row). */
#define SMALL_XTG(NAME, VT, LD, ST, W)                                                     \
    static inline __attribute__((always_inline)) void NAME(                                \
        int64_t n, int64_t K, const float *X, const float *G, float *dW)                   \
    {                                                                                      \
        const int L = (int)(sizeof(VT) / sizeof(float)), V = (W) / L;                      \
        int64_t k0 = 0;                                                                    \
        for (; k0 + 4 <= K; k0 += 4) {                                                     \
            VT c[4][2];                                                                    \
            _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++)                                                    \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    c[j][v] = LD(dW + (k0 + j) * (W) + v * L);                             \
            for (int64_t r = 0; r < n; r++) {                                              \
                VT g[2];                                                                   \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    g[v] = LD(G + r * (W) + v * L);                                        \
                _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++) {                                              \
                    const float xv = X[r * K + k0 + j];                                    \
                    _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                            \
                        c[j][v] += xv * g[v];                                              \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int j = 0; j < 4; j++)                                                    \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    ST(dW + (k0 + j) * (W) + v * L, c[j][v]);                              \
        }                                                                                  \
        for (; k0 < K; k0++) {                                                             \
            VT c[2];                                                                       \
            _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                    \
                c[v] = LD(dW + k0 * (W) + v * L);                                          \
            for (int64_t r = 0; r < n; r++) {                                              \
                const float xv = X[r * K + k0];                                            \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                \
                    c[v] += xv * LD(G + r * (W) + v * L);                                  \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                                    \
                ST(dW + k0 * (W) + v * L, c[v]);                                           \
        }                                                                                  \
    }
SMALL_XTG(xtg4, lv4, LD4, ST4, 4)
SMALL_XTG(xtg8, lv8, LD8, ST8, 8)
SMALL_XTG(xtg16, lv8, LD8, ST8, 16)

RECNN__CLONES static void k_linear_small_fwd(int64_t n, int64_t in, int64_t outd,
                                             const float *x, const float *W,
                                             const float *b, float *y)
{
    if (outd == 1) {
        const float b0 = b ? b[0] : 0.0f;
        for (int64_t r = 0; r < n; r++) {
            const float *xr = x + r * in;
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < in; k++)
                s += xr[k] * W[k];
            y[r] = b0 + s;
        }
        return;
    }
    switch (outd) {
    case 4: mm4(n, in, x, W, b, y); return;
    case 8: mm8(n, in, x, W, b, y); return;
    case 16: mm16(n, in, x, W, b, y); return;
    default: break;
    }
    for (int64_t r = 0; r < n; r++) {
        const float *xr = x + r * in;
        float *yr = y + r * outd;
#pragma omp simd
        for (int64_t o = 0; o < outd; o++)
            yr[o] = b ? b[o] : 0.0f;
        for (int64_t k = 0; k < in; k++) {
            const float xv = xr[k], *wk = W + k * outd;
#pragma omp simd
            for (int64_t o = 0; o < outd; o++)
                yr[o] += xv * wk[o];
        }
    }
}

/* dW += x^T gy, db += colsum(gy), gx = gy W^T (gx, db may be NULL). */
RECNN__CLONES static void k_linear_small_bwd(int64_t n, int64_t in, int64_t outd,
                                             const float *x, const float *gy,
                                             const float *W, float *dW, float *db,
                                             float *gx)
{
    if (outd == 1) {
        float sb = 0.0f;
        for (int64_t r = 0; r < n; r++)
            sb += gy[r];
        /* dW[k] += sum_r x[r][k] gy[r]: eight (then four) columns at a
         * time in registers, two accumulators for even and odd rows */
        int64_t k0 = 0;
        for (; k0 + 8 <= in; k0 += 8) {
            lv8 c0 = LD8(dW + k0), c1 = c0 - c0;
            int64_t r = 0;
            for (; r + 2 <= n; r += 2) {
                c0 += gy[r] * LD8(x + r * in + k0);
                c1 += gy[r + 1] * LD8(x + (r + 1) * in + k0);
            }
            if (r < n)
                c0 += gy[r] * LD8(x + r * in + k0);
            ST8(dW + k0, c0 + c1);
        }
        for (; k0 + 4 <= in; k0 += 4) {
            lv4 c0 = LD4(dW + k0), c1 = c0 - c0;
            int64_t r = 0;
            for (; r + 2 <= n; r += 2) {
                c0 += gy[r] * LD4(x + r * in + k0);
                c1 += gy[r + 1] * LD4(x + (r + 1) * in + k0);
            }
            if (r < n)
                c0 += gy[r] * LD4(x + r * in + k0);
            ST4(dW + k0, c0 + c1);
        }
        for (; k0 < in; k0++) {
            float c = 0.0f;
            for (int64_t r = 0; r < n; r++)
                c += gy[r] * x[r * in + k0];
            dW[k0] += c;
        }
        if (gx)
            for (int64_t r = 0; r < n; r++) {
                const float g = gy[r];
                float *gxr = gx + r * in;
#pragma omp simd
                for (int64_t k = 0; k < in; k++)
                    gxr[k] = g * W[k];
            }
        if (db)
            db[0] += sb;
        return;
    }
    switch (outd) {
    case 4: xtg4(n, in, x, gy, dW); break;
    case 8: xtg8(n, in, x, gy, dW); break;
    case 16: xtg16(n, in, x, gy, dW); break;
    default:
        for (int64_t r = 0; r < n; r++)
            for (int64_t k = 0; k < in; k++) {
                const float xv = x[r * in + k];
#pragma omp simd
                for (int64_t o = 0; o < outd; o++)
                    dW[k * outd + o] += xv * gy[r * outd + o];
            }
        break;
    }
    if (db) {
        if (outd == 4 || outd == 8 || outd == 16) { /* column sums in registers */
            lv4 c[4];
            const int V = (int)outd / 4;
            _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++)
                c[v] = v < V ? LD4(db + 4 * v) : c[0] - c[0];
            for (int64_t r = 0; r < n; r++)
                _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++)
                    if (v < V)
                        c[v] += LD4(gy + r * outd + 4 * v);
            _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++)
                if (v < V)
                    ST4(db + 4 * v, c[v]);
        } else {
            for (int64_t r = 0; r < n; r++)
#pragma omp simd
                for (int64_t o = 0; o < outd; o++)
                    db[o] += gy[r * outd + o];
        }
    }
    if (!gx)
        return;
    float Wt[2048]; /* W transposed: row o = the weights into unit o */
    for (int64_t k = 0; k < in; k++)
        for (int64_t o = 0; o < outd; o++)
            Wt[o * in + k] = W[k * outd + o];
    switch (in) { /* gx = gy Wt: the forward kernel with the roles swapped */
    case 4: mm4(n, outd, gy, Wt, NULL, gx); return;
    case 8: mm8(n, outd, gy, Wt, NULL, gx); return;
    case 16: mm16(n, outd, gy, Wt, NULL, gx); return;
    default: break;
    }
    for (int64_t r = 0; r < n; r++) {
        const float *gr = gy + r * outd;
        float *gxr = gx + r * in;
#pragma omp simd
        for (int64_t k = 0; k < in; k++)
            gxr[k] = 0.0f;
        for (int64_t o = 0; o < outd; o++) {
            const float g = gr[o], *wo = Wt + o * in;
#pragma omp simd
            for (int64_t k = 0; k < in; k++)
                gxr[k] += g * wo[k];
        }
    }
}

static void linear_forward(recnn__layer *l, int64_t n, const float *x, float *y)
{
    int64_t in = l->in_dim, outd = l->out_dim;
    if (!l->wt && LINEAR_SMALL(in, outd)) {
        k_linear_small_fwd(n, in, outd, x, l->pw->w, l->pb ? l->pb->w : NULL, y);
        return;
    }
    float beta = 0.0f;
    if (l->pb) {
        for (int64_t r = 0; r < n; r++)
            memcpy(y + r * outd, l->pb->w, (size_t)outd * sizeof(float));
        beta = 1.0f;
    }
    if (n == 0)
        return;
    const float *W = l->pw->w;
    if (!l->wt)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)outd,
                    (blasint)in, 1.0f, x, (blasint)in, W, (blasint)outd, beta, y,
                    (blasint)outd);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)outd,
                    (blasint)in, 1.0f, x, (blasint)in, W, (blasint)in, beta, y,
                    (blasint)outd);
}

static void linear_backward(recnn__layer *l, int64_t n, const float *x, const float *gy,
                            float *gx)
{
    int64_t in = l->in_dim, outd = l->out_dim;
    if (n == 0) {
        return;
    }
    const float *W = l->pw->w;
    float *dW = l->pw->g;
    if (!l->wt && LINEAR_SMALL(in, outd)) {
        k_linear_small_bwd(n, in, outd, x, gy, W, dW, l->pb ? l->pb->g : NULL, gx);
        recnn__param_touch_all(l->pw);
        if (l->pb)
            recnn__param_touch_all(l->pb);
        return;
    }
    if (!l->wt)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)in, (blasint)outd,
                    (blasint)n, 1.0f, x, (blasint)in, gy, (blasint)outd, 1.0f, dW,
                    (blasint)outd);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)outd, (blasint)in,
                    (blasint)n, 1.0f, gy, (blasint)outd, x, (blasint)in, 1.0f, dW,
                    (blasint)in);
    recnn__param_touch_all(l->pw);
    if (l->pb) {
        cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)n, (blasint)outd, 1.0f, gy,
                    (blasint)outd, l->ones, 1, 1.0f, l->pb->g, 1);
        recnn__param_touch_all(l->pb);
    }
    if (gx) {
        if (!l->wt)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)in,
                        (blasint)outd, 1.0f, gy, (blasint)outd, W, (blasint)outd, 0.0f, gx,
                        (blasint)in);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)in,
                        (blasint)outd, 1.0f, gy, (blasint)outd, W, (blasint)in, 0.0f, gx,
                        (blasint)in);
    }
}

/* ---- APL ---------------------------------------------------------------- */

static void apl_forward(recnn__layer *l, int64_t n, const float *x, float *y)
{
    int64_t d = l->in_dim;
    int S = l->hinges;
    int64_t per = l->per_unit ? d : 1;
    const float *a = l->params[0].w, *b = l->params[1].w;
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (n * d > 65536)
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < d; j++) {
            float xv = x[r * d + j];
            float h = xv > 0 ? xv : 0.0f;
            int64_t pj = l->per_unit ? j : 0;
            for (int s = 0; s < S; s++) {
                float t = b[s * per + pj] - xv;
                if (t > 0)
                    h += a[s * per + pj] * t;
            }
            y[r * d + j] = h;
        }
}

static void apl_backward(recnn__layer *l, int64_t n, const float *x, const float *gy,
                         float *gx)
{
    int64_t d = l->in_dim;
    int S = l->hinges;
    int64_t per = l->per_unit ? d : 1;
    const float *a = l->params[0].w, *b = l->params[1].w;
    float *ga = l->params[0].g, *gb = l->params[1].g;
    if (l->per_unit) {
        /* columns are independent: parallel over units, deterministic */
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (n * d > 65536)
        for (int64_t j = 0; j < d; j++)
            for (int64_t r = 0; r < n; r++) {
                float xv = x[r * d + j], g = gy[r * d + j];
                float dx = xv > 0 ? 1.0f : 0.0f;
                for (int s = 0; s < S; s++) {
                    float t = b[s * per + j] - xv;
                    if (t > 0) {
                        dx -= a[s * per + j];
                        ga[s * per + j] += g * t;
                        gb[s * per + j] += g * a[s * per + j];
                    }
                }
                if (gx)
                    gx[r * d + j] = g * dx;
            }
    } else {
        double sa[64] = {0}, sb[64] = {0};
        for (int64_t i = 0; i < n * d; i++) {
            float xv = x[i], g = gy[i];
            float dx = xv > 0 ? 1.0f : 0.0f;
            for (int s = 0; s < S; s++) {
                float t = b[s] - xv;
                if (t > 0) {
                    dx -= a[s];
                    sa[s] += (double)g * t;
                    sb[s] += (double)g * a[s];
                }
            }
            if (gx)
                gx[i] = g * dx;
        }
        for (int s = 0; s < S; s++) {
            ga[s] += (float)sa[s];
            gb[s] += (float)sb[s];
        }
    }
}

/* ---- generic dense-input forward/backward -------------------------------- */

int recnn__layer_forward(recnn__layer *l, int64_t n, const float *x, float *y, int train)
{
    if (!l || (n > 0 && (!x || !y)))
        return recnn__fail(RECNN_E_INVALID, "layer forward: NULL argument");
    int st = check_batch(l, n, "layer forward");
    if (st)
        return st;
    int64_t d = l->in_dim;
    if (padded(l))
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "layer forward: a padded layer takes the sparse / masked passes");
    switch (l->kind) {
    case RECNN__L_LINEAR: linear_forward(l, n, x, y); return RECNN_OK;
    case RECNN__L_ACT: recnn__act_forward(l->act, l->alpha, n, d, x, y); return RECNN_OK;
    case RECNN__L_APL: apl_forward(l, n, x, y); return RECNN_OK;
    case RECNN__L_DROPOUT:
        if (!train || l->rate == 0.0f) {
            if (y != x)
                memcpy(y, x, (size_t)(n * d) * sizeof(float));
            l->mask_ready = l->fixed_mask ? l->mask_ready : 0;
            return RECNN_OK;
        }
        if (!(l->fixed_mask && l->mask_ready)) {
            float keep = 1.0f / (1.0f - l->rate);
            int64_t total = l->max_batch * d; /* whole mask: same draws per call */
            if (!l->fixed_mask)
                total = n * d;
            for (int64_t i = 0; i < total; i++)
                l->mask[i] = recnn__rng_uniformf(&l->rng) < l->rate ? 0.0f : keep;
            l->mask_ready = 1;
        }
        for (int64_t i = 0; i < n * d; i++)
            y[i] = x[i] * l->mask[i];
        return RECNN_OK;
    default:
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "layer forward: this layer takes sparse, id or two inputs");
    }
}

int recnn__layer_backward(recnn__layer *l, int64_t n, const float *x, const float *y,
                          const float *gy, float *gx)
{
    if (!l || (n > 0 && !gy))
        return recnn__fail(RECNN_E_INVALID, "layer backward: NULL argument");
    int st = check_batch(l, n, "layer backward");
    if (st)
        return st;
    int64_t d = l->in_dim;
    if (padded(l))
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "layer backward: a padded layer takes the sparse / masked passes");
    switch (l->kind) {
    case RECNN__L_LINEAR:
        if (n > 0 && !x)
            return recnn__fail(RECNN_E_INVALID, "linear backward: needs the input x");
        linear_backward(l, n, x, gy, gx);
        return RECNN_OK;
    case RECNN__L_ACT:
        if (n > 0 && !y && l->act != RECNN__ACT_IDENTITY)
            return recnn__fail(RECNN_E_INVALID, "activation backward: needs the output y");
        if (gx)
            recnn__act_backward(l->act, l->alpha, n, d, y, gy, gx);
        return RECNN_OK;
    case RECNN__L_APL:
        if (n > 0 && !x)
            return recnn__fail(RECNN_E_INVALID, "apl backward: needs the input x");
        apl_backward(l, n, x, gy, gx);
        return RECNN_OK;
    case RECNN__L_DROPOUT:
        if (!gx)
            return RECNN_OK;
        if (!l->mask_ready || l->rate == 0.0f) {
            if (gx != gy)
                memcpy(gx, gy, (size_t)(n * d) * sizeof(float));
        } else {
            for (int64_t i = 0; i < n * d; i++)
                gx[i] = gy[i] * l->mask[i];
        }
        return RECNN_OK;
    default:
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "layer backward: this layer takes sparse, id or two inputs");
    }
}

/* ---- unit-sliced scatter ------------------------------------------------
 * Scatter-adds into rows of a [rows x units] gradient split the units
 * across threads: every thread owns a column slice, so there are no races
 * and each element's summation order is independent of the thread count
 * (bit-identical results). */

static int slice_threads(int64_t units, int64_t work)
{
    int nt = recnn__threads();
    int64_t max_by_units = units / 32;
    if (max_by_units < 1)
        max_by_units = 1;
    if (nt > max_by_units)
        nt = (int)max_by_units;
    if (work < 20000)
        nt = 1;
    return nt < 1 ? 1 : nt;
}

/* Slice width: 128 floats (two 4 KiB pages hold 8 rows' slices), or
 * narrower when that leaves threads idle; always a multiple of 16 floats
 * (one cache line).  Slices are handed out dynamically, so a preempted
 * thread does not stall the others; the result does not depend on which
 * thread ran which slice. */
static int64_t slice_width(int64_t units, int nt)
{
    int64_t w = 128;
    if ((units + w - 1) / w < nt) {
        w = (units + nt - 1) / nt;
        w = (w + 15) / 16 * 16;
    }
    return w < 16 ? 16 : w;
}

/* ---- sparse-input ------------------------------------------------------- */

/* ---- sparse kernels ------------------------------------------------------
 * The inner loops of the sparse-input and masked passes, one call per row
 * or column slice, compiled per CPU (RECNN__CLONES, nn.h).  Element-wise
 * kernels give the same bits in every version; the masked dot products
 * sum in vector-width order (deterministic on a given machine). */

/* The row kernels' weighted sums of four rows, ((c0 r0 + c1 r1) + (c2 r2
 * + c3 r3))[u]; an eight-row sweep adds its two halves in turn, so that it
 * gives the bits of two four-row sweeps with one load/store of the output
 * instead of two. */
#define SUM4(c, r, o, u)                                                                   \
    (((c)[(o)] * (r)[(o)][u] + (c)[(o) + 1] * (r)[(o) + 1][u]) +                           \
     ((c)[(o) + 2] * (r)[(o) + 2][u] + (c)[(o) + 3] * (r)[(o) + 3][u]))

/* One sweep of k_sparse_row over m = 8, 4 or 1 rows: yr = b + their sum
 * (b is the bias on the first sweep, else yr itself); with sig, the last
 * sweep also applies the sigmoid, element-wise (the bits of a separate
 * pass, while the sum is still in registers) */
static inline __attribute__((always_inline)) void sparse_sweep(float *yr, const float *b,
                                                               int64_t U, int m,
                                                               const float *v,
                                                               const float *const *w, int sig)
{
#pragma omp simd
    for (int64_t u = 0; u < U; u++) {
        float x = m == 8   ? (b[u] + SUM4(v, w, 0, u)) + SUM4(v, w, 4, u)
                  : m == 4 ? b[u] + SUM4(v, w, 0, u)
                           : b[u] + v[0] * w[0][u];
        yr[u] = sig ? recnn__sigmoidf(x) : x;
    }
}

/* yr = bias + sum_k v_k W[idx_k] over entries k0..k1: eight (then four)
 * nonzeros per sweep, one load/store of yr per sweep; with a bias the
 * first sweep starts from it (no copy pass; a layer without one zeroes
 * yr first, the same bits); with sig, yr = sigmoid of that, applied by
 * the last sweep */
RECNN__CLONES static void k_sparse_row(float *yr, const float *bias, int64_t U,
                                       const float *W, int64_t ld, const int32_t *idx,
                                       const float *val, int64_t k, int64_t end, int sig)
{
    if (k == end) {
        if (bias)
            memcpy(yr, bias, (size_t)U * sizeof(float));
        else
            memset(yr, 0, (size_t)U * sizeof(float));
        if (sig)
            recnn__act_apply(RECNN__ACT_SIGMOID, 0.0f, U, yr, yr);
        return;
    }
    if (!bias)
        memset(yr, 0, (size_t)U * sizeof(float));
    const float *b = bias ? bias : yr; /* yr itself after the first sweep */
    float v[8];
    const float *w[8];
    while (k < end) {
        const int m = k + 8 <= end ? 8 : k + 4 <= end ? 4 : 1;
        for (int q = 0; q < m; q++) {
            v[q] = val ? val[k + q] : 1.0f;
            w[q] = W + (int64_t)idx[k + q] * ld;
        }
        k += m;
        const int last = sig && k == end;
        /* m and the sigmoid as constants: one specialised loop each */
#define SPARSE_SWEEP(M)                                                                     \
    (last ? sparse_sweep(yr, b, U, M, v, w, 1) : sparse_sweep(yr, b, U, M, v, w, 0))
        if (m == 8)
            SPARSE_SWEEP(8);
        else if (m == 4)
            SPARSE_SWEEP(4);
        else
            SPARSE_SWEEP(1);
#undef SPARSE_SWEEP
        b = yr;
    }
}

/* columns c0..c1 of: db += sum_r gy[r]; dW[idx_k] += v_k gy[r] */
RECNN__CLONES static void k_sparse_scatter(const recnn__csr *x, const float *gy, int64_t ld,
                                           float *dW, float *db, int64_t c0, int64_t c1)
{
    for (int64_t r = 0; r < x->n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        const float *restrict g = gy + r * ld;
        if (db) {
#pragma omp simd
            for (int64_t u = c0; u < c1; u++)
                db[u] += g[u];
        }
        for (int64_t k = x->ptr[s]; k < x->ptr[s + 1]; k++) {
            const float v = x->val ? x->val[k] : 1.0f;
            float *restrict d = dW + (int64_t)x->idx[k] * ld;
#pragma omp simd
            for (int64_t u = c0; u < c1; u++)
                d[u] += v * g[u];
        }
    }
}

/* The inner loops the masked kernels share, inlined into each per-CPU
 * clone: dot products of one row of h with four or eight W rows (hr read
 * once; every product is an independent chain summed as one
 * `omp simd` reduction, so a product has the same bits whatever group it
 * is computed in), and g += four or eight scaled W rows. */
static inline __attribute__((always_inline)) void
dot4_add4(const float *restrict hr, const float *restrict n0, const float *restrict n1,
          const float *restrict n2, const float *restrict n3, int64_t D, float a[4],
          float *restrict g, const float *c, const float *restrict w0,
          const float *restrict w1, const float *restrict w2, const float *restrict w3,
          int mode);

static inline __attribute__((always_inline)) void dot4(const float *restrict hr,
                                                       const float *restrict w0,
                                                       const float *restrict w1,
                                                       const float *restrict w2,
                                                       const float *restrict w3, int64_t D,
                                                       float a[4])
{
    dot4_add4(hr, w0, w1, w2, w3, D, a, NULL, NULL, NULL, NULL, NULL, NULL, 0);
}

/* dot4 of hr with n0..n3 and, in the same loop, g (+)= the four rows
 * w0..w3 scaled by c (mode 1: onto zeros, the bits of axpy4's set; 2:
 * added; 0: none): the step of a pipelined fused MSE row, whose dot
 * products stream their rows while the previous group's, in L1, are
 * added. */
static inline __attribute__((always_inline)) void
dot4_add4(const float *restrict hr, const float *restrict n0, const float *restrict n1,
          const float *restrict n2, const float *restrict n3, int64_t D, float a[4],
          float *restrict g, const float *c, const float *restrict w0,
          const float *restrict w1, const float *restrict w2, const float *restrict w3,
          int mode)
{
    const float c0 = mode ? c[0] : 0.0f, c1 = mode ? c[1] : 0.0f, c2 = mode ? c[2] : 0.0f,
                c3 = mode ? c[3] : 0.0f;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
    for (int64_t u = 0; u < D; u++) {
        a0 += hr[u] * n0[u];
        a1 += hr[u] * n1[u];
        a2 += hr[u] * n2[u];
        a3 += hr[u] * n3[u];
        if (mode) {
            const float x = (c0 * w0[u] + c1 * w1[u]) + (c2 * w2[u] + c3 * w3[u]);
            g[u] = mode == 1 ? 0.0f + x : g[u] + x;
        }
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

static inline __attribute__((always_inline)) void dot8(const float *restrict hr,
                                                       const float *const w[8], int64_t D,
                                                       float a[8])
{
    const float *restrict w0 = w[0], *restrict w1 = w[1], *restrict w2 = w[2];
    const float *restrict w3 = w[3], *restrict w4 = w[4], *restrict w5 = w[5];
    const float *restrict w6 = w[6], *restrict w7 = w[7];
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f,
          a7 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3, a4, a5, a6, a7)
    for (int64_t u = 0; u < D; u++) {
        a0 += hr[u] * w0[u];
        a1 += hr[u] * w1[u];
        a2 += hr[u] * w2[u];
        a3 += hr[u] * w3[u];
        a4 += hr[u] * w4[u];
        a5 += hr[u] * w5[u];
        a6 += hr[u] * w6[u];
        a7 += hr[u] * w7[u];
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
    a[4] = a4;
    a[5] = a5;
    a[6] = a6;
    a[7] = a7;
}

static inline __attribute__((always_inline)) float dot1(const float *restrict hr,
                                                        const float *restrict w, int64_t D)
{
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t u = 0; u < D; u++)
        acc += hr[u] * w[u];
    return acc;
}

/* The sigmoid's backward, gx = gy y (1 - y) (recnn__act_backward's
 * expression), applied to x when y is given: folded into the last sweep
 * of a row's gradient, element-wise, so the bits of a separate pass. */
#define DSIG(x, y, u) ((y) ? ((x) * (y)[u]) * (1.0f - (y)[u]) : (x))

/* g += the four scaled W rows; set: onto zeros (the same bits), without
 * reading g; dsig: see DSIG */
static inline __attribute__((always_inline)) void axpy4(float *restrict g, const float c[4],
                                                        const float *restrict w0,
                                                        const float *restrict w1,
                                                        const float *restrict w2,
                                                        const float *restrict w3, int64_t D,
                                                        int set, const float *restrict dsig)
{
    const float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    if (set) {
#pragma omp simd
        for (int64_t u = 0; u < D; u++)
            g[u] = DSIG(0.0f + ((c0 * w0[u] + c1 * w1[u]) + (c2 * w2[u] + c3 * w3[u])), dsig,
                        u);
    } else {
#pragma omp simd
        for (int64_t u = 0; u < D; u++)
            g[u] = DSIG(g[u] + ((c0 * w0[u] + c1 * w1[u]) + (c2 * w2[u] + c3 * w3[u])), dsig,
                        u);
    }
}

static inline __attribute__((always_inline)) void axpy1(float *restrict g, float c,
                                                        const float *restrict w, int64_t D,
                                                        const float *restrict dsig)
{
#pragma omp simd
    for (int64_t u = 0; u < D; u++)
        g[u] = DSIG(g[u] + c * w[u], dsig, u);
}

/* yr[t] = hr . W[idx_k] + b[idx_k] over entries k0..k1 */
RECNN__CLONES static void k_masked_row(float *restrict yr, const float *restrict hr,
                                       int64_t D, const float *W, int64_t ld,
                                       const float *bias, const int32_t *idx, int64_t k,
                                       int64_t end)
{
    int64_t t = 0;
    /* eight (then four) positions per sweep: independent sums, hr read
     * once; the grouping is k_masked_mse_row's (the same bits) */
    for (; k + 8 <= end; k += 8, t += 8) {
        const float *w[8];
        float a[8];
        for (int q = 0; q < 8; q++)
            w[q] = W + (int64_t)idx[k + q] * ld;
        dot8(hr, w, D, a);
        for (int q = 0; q < 8; q++)
            yr[t + q] = a[q] + (bias ? bias[idx[k + q]] : 0.0f);
    }
    for (; k + 4 <= end; k += 4, t += 4) {
        const int64_t j0 = idx[k], j1 = idx[k + 1], j2 = idx[k + 2], j3 = idx[k + 3];
        float a[4];
        dot4(hr, W + j0 * ld, W + j1 * ld, W + j2 * ld, W + j3 * ld, D, a);
        yr[t] = a[0] + (bias ? bias[j0] : 0.0f);
        yr[t + 1] = a[1] + (bias ? bias[j1] : 0.0f);
        yr[t + 2] = a[2] + (bias ? bias[j2] : 0.0f);
        yr[t + 3] = a[3] + (bias ? bias[j3] : 0.0f);
    }
    for (; k < end; k++, t++) {
        const int64_t j = idx[k];
        yr[t] = dot1(hr, W + j * ld, D) + (bias ? bias[j] : 0.0f);
    }
}

/* g = sum_t gr[t] W[idx_k] over entries k0..k1 */
RECNN__CLONES static void k_masked_gh(float *restrict g, const float *gr, int64_t D,
                                      const float *W, int64_t ld, const int32_t *idx,
                                      int64_t k, int64_t end)
{
    int64_t t = 0;
    memset(g, 0, (size_t)D * sizeof(float));
    for (; k + 4 <= end; k += 4, t += 4)
        axpy4(g, gr + t, W + (int64_t)idx[k] * ld, W + (int64_t)idx[k + 1] * ld,
              W + (int64_t)idx[k + 2] * ld, W + (int64_t)idx[k + 3] * ld, D, 0, NULL);
    for (; k < end; k++, t++)
        axpy1(g, gr[t], W + (int64_t)idx[k] * ld, D, NULL);
}

/* columns c0..c1 of: dW[idx_k] += gy[k] h[r] */
RECNN__CLONES static void k_masked_scatter(const recnn__csr *pos, const int64_t *off,
                                           const float *gy, const float *h, int64_t ld,
                                           float *dW, int64_t c0, int64_t c1)
{
    for (int64_t r = 0; r < pos->n; r++) {
        int64_t s = pos->sel ? pos->sel[r] : r;
        const float *restrict hr = h + r * ld;
        const float *gr = gy + off[r];
        for (int64_t k = pos->ptr[s], t = 0; k < pos->ptr[s + 1]; k++, t++) {
            const float c = gr[t];
            float *restrict d = dW + (int64_t)pos->idx[k] * ld;
#pragma omp simd
            for (int64_t u = c0; u < c1; u++)
                d[u] += c * hr[u];
        }
    }
}

/* The fused end of a gathered weight row (recnn__grad_fuse) without an L2
 * term: out[0] = 0, out[1] = sum g^2 (with decay > 0 the last sweep of
 * k_gather does it, gather_sweep).  The row sums run in float vector lanes
 * (a fixed order on a given machine; they feed the reported penalty and
 * the norm check, not the gradient), the rows are added in double. */
RECNN__CLONES static void k_row_sumsq(const float *restrict g, int64_t n, double out[2])
{
    float sg = 0;
#pragma omp simd reduction(+ : sg)
    for (int64_t i = 0; i < n; i++)
        sg += g[i] * g[i];
    out[0] = 0;
    out[1] = sg;
}

/* One sweep of k_gather over m = 8, 4 or 1 rows: d (+)= their scaled sum
 * (init: d = the sum, without reading d); with w, also the row's fused
 * end with an L2 term (recnn__grad_fuse): d += decay w, out = {sum w^2,
 * sum d^2}, the row sums as k_row_sumsq's */
#define GSUM(m, init, q, g, d, u)                                                          \
    ((m) == 8   ? ((init) ? SUM4(q, g, 0, u) : (d)[u] + SUM4(q, g, 0, u)) + SUM4(q, g, 4, u) \
     : (m) == 4 ? ((init) ? SUM4(q, g, 0, u) : (d)[u] + SUM4(q, g, 0, u))                  \
                : (d)[u] + (q)[0] * (g)[0][u])
static inline __attribute__((always_inline)) void gather_sweep(float *restrict d, int64_t D,
                                                               int m, int init,
                                                               const float *q,
                                                               const float *const *g,
                                                               const float *restrict w,
                                                               float decay, double out[2])
{
    if (w) {
        float sw = 0, sg = 0;
#pragma omp simd reduction(+ : sw, sg)
        for (int64_t u = 0; u < D; u++) {
            float gi = GSUM(m, init, q, g, d, u) + decay * w[u];
            d[u] = gi;
            sw += w[u] * w[u];
            sg += gi * gi;
        }
        out[0] = sw;
        out[1] = sg;
    } else {
#pragma omp simd
        for (int64_t u = 0; u < D; u++)
            d[u] = GSUM(m, init, q, g, d, u);
    }
}

/* d += sum_t c_t G[row_t] over a column's entries t .. end-1 (rows of G
 * are D long), where c_t = coef[pos_t] (1 when coef is NULL): one weight
 * row's gradient, gathered (the transposed form of the two scatter
 * kernels above); with init, d = that sum (no zeroing pass first); with
 * csum, *csum = the sum of the c_t in entry order (a masked bias entry's
 * gradient, from the coefficients already loaded); with epi (a column
 * with entries), the fused end of the row into epi: in the last sweep
 * when decay > 0, else k_row_sumsq.
 * (Column slices sized for L2 were tried: slower here, the hardware
 * prefetcher already streams the 2 KiB rows.) */
RECNN__CLONES static void k_gather(float *restrict d, int64_t D, const float *G, int64_t ldg,
                                   const int32_t *row, const int64_t *pos,
                                   const float *coef, int64_t t, int64_t end, int init,
                                   float *csum, const float *w, float decay, double epi[2])
{
    float cs = 0.0f;
    const float *wf = epi && decay > 0.0f ? w : NULL; /* folded */
    if (init && t + 4 > end) {
        memset(d, 0, (size_t)D * sizeof(float));
        init = 0;
    }
    float q[8];
    const float *g[8];
    while (t < end) {
        const int m = t + 8 <= end ? 8 : t + 4 <= end ? 4 : 1;
        for (int i = 0; i < m; i++) {
            q[i] = coef ? coef[pos[t + i]] : 1.0f;
            g[i] = G + (int64_t)row[t + i] * ldg;
            cs += q[i];
        }
        t += m;
        const float *wl = t == end ? wf : NULL;
        /* m and init as constants: one specialised loop each */
#define GATHER_SWEEP(M, I)                                                                  \
    (wl ? gather_sweep(d, D, M, I, q, g, wl, decay, epi)                                   \
        : gather_sweep(d, D, M, I, q, g, NULL, 0.0f, NULL))
        if (m == 8)
            init ? GATHER_SWEEP(8, 1) : GATHER_SWEEP(8, 0);
        else if (m == 4)
            init ? GATHER_SWEEP(4, 1) : GATHER_SWEEP(4, 0);
        else
            GATHER_SWEEP(1, 0);
#undef GATHER_SWEEP
        init = 0;
    }
    if (epi && !wf)
        k_row_sumsq(d, D, epi);
    if (csum)
        *csum = cs;
}

/* db[c0..c1) (+)= the column sums of gy (n rows of U) */
RECNN__CLONES static void k_colsum(float *restrict db, const float *restrict gy, int64_t n,
                                   int64_t ld, int64_t c0, int64_t c1, int init)
{
    if (init)
        memset(db + c0, 0, (size_t)(c1 - c0) * sizeof(float));
    for (int64_t r = 0; r < n; r++) {
        const float *restrict g = gy + r * ld;
#pragma omp simd
        for (int64_t u = c0; u < c1; u++)
            db[u] += g[u];
    }
}

/* Per-row partial sums of a fused pass (the layer's scratch), added in
 * row order afterwards so that the totals do not depend on the thread
 * count.  NULL when not fusing; refused for tied layers (their W's
 * gradient has two contributors) and layers created without the scratch. */
static int fuse_parts(recnn__layer *l, const recnn__grad_fuse *f, const char *what,
                      double **part)
{
    *part = NULL;
    if (!f)
        return RECNN_OK;
    if (l->tied || !l->rowsum)
        return recnn__fail(RECNN_E_INVALID, "%s: fusing needs an untied sparse-input or "
                                            "masked layer", what);
    *part = l->rowsum;
    return RECNN_OK;
}

static void fuse_finish(recnn__grad_fuse *f, const double *part, int64_t rows)
{
    double sw = 0, sg = 0;
    for (int64_t r = 0; r < rows; r++) {
        sw += part[2 * r];
        sg += part[2 * r + 1];
    }
    f->penalty = 0.5 * (double)f->decay * sw;
    f->gsq = sg;
}

/* The transpose must describe this batch: checked in O(1) (its builder
 * validated the columns). */
static int check_csrt(const recnn__csr *x, const recnn__csrt *t, int64_t dim,
                      const char *what)
{
    if (x->sel || t->n_cols != dim || !t->ptr || t->ptr[dim] != recnn__csr_nnz(x))
        return recnn__fail(RECNN_E_INVALID, "%s: the transpose does not match the batch",
                           what);
    return RECNN_OK;
}

/* Rows of a column-gathered gradient: enough work per thread to pay for
 * the team, else one thread. */
static int gather_threads(int64_t nnz, int64_t D)
{
    return nnz * D < 65536 ? 1 : recnn__threads();
}

int recnn__sparse_forward(recnn__layer *l, const recnn__csr *x, float *y)
{
    return recnn__sparse_forward_act(l, x, RECNN__ACT_IDENTITY, 0.0f, y);
}

int recnn__sparse_forward_act(recnn__layer *l, const recnn__csr *x, int act, float alpha,
                              float *y)
{
    if (!l || l->kind != RECNN__L_LINEAR || l->wt)
        return recnn__fail(RECNN_E_INVALID,
                           "sparse forward: needs a linear layer with W [in x out]");
    int st = check_csr(l, x, l->in_dim, "sparse forward");
    if (st)
        return st;
    if (x->n > 0 && !y)
        return recnn__fail(RECNN_E_INVALID, "sparse forward: NULL output");
    const int64_t U = l->out_dim, ld = l->ld;
    const float *W = l->pw->w;
    const float *bias = l->pb ? l->pb->w : NULL;
    int64_t n = x->n;
#pragma omp parallel for schedule(dynamic, 8) num_threads(recnn__threads()) if (n > 16)
    for (int64_t r = 0; r < n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        k_sparse_row(y + r * ld, bias, U, W, ld, x->idx, x->val, x->ptr[s], x->ptr[s + 1],
                     act == RECNN__ACT_SIGMOID);
        /* the activation while the row is still in L1 (one pass less; the
         * sigmoid, AutoRec's default, within the last sweep) */
        if (act != RECNN__ACT_IDENTITY && act != RECNN__ACT_SIGMOID)
            recnn__act_apply(act, alpha, U, y + r * ld, y + r * ld);
    }
    return RECNN_OK;
}

int recnn__sparse_backward(recnn__layer *l, const recnn__csr *x, const float *gy)
{
    return recnn__sparse_backward_t(l, x, NULL, gy, NULL);
}

int recnn__sparse_backward_t(recnn__layer *l, const recnn__csr *x, const recnn__csrt *xt,
                             const float *gy, recnn__grad_fuse *fuse)
{
    if (!l || l->kind != RECNN__L_LINEAR || l->wt)
        return recnn__fail(RECNN_E_INVALID,
                           "sparse backward: needs a linear layer with W [in x out]");
    int st = check_csr(l, x, l->in_dim, "sparse backward");
    if (st)
        return st;
    if (xt && (st = check_csrt(x, xt, l->in_dim, "sparse backward")))
        return st;
    if (x->n > 0 && !gy)
        return recnn__fail(RECNN_E_INVALID, "sparse backward: NULL gradient");
    if (fuse && !xt)
        return recnn__fail(RECNN_E_INVALID, "sparse backward: fusing needs the transpose");
    const int64_t U = l->out_dim, ld = l->ld;
    float *dW = l->pw->g;
    const float *Wv = l->pw->w;
    int64_t n = x->n;
    recnn__param *pw = l->pw;
    float *db = l->pb ? l->pb->g : NULL;
    int64_t nnz = recnn__csr_nnz(x);
    if (xt) {
        int64_t nc = xt->n_cols;
        double *part;
        if ((st = fuse_parts(l, fuse, "sparse backward", &part)))
            return st;
        if (fuse) {
            recnn__param_reset_rows(pw);
            if (l->pb)
                recnn__param_reset_rows(l->pb);
        }
        for (int64_t c = 0; c < nc; c++)
            if (xt->ptr[c + 1] > xt->ptr[c])
                recnn__param_touch(pw, c);
        const float *val = x->val ? x->val + (n > 0 ? x->ptr[0] : 0) : NULL;
        const float decay = fuse ? fuse->decay : 0.0f;
#pragma omp parallel num_threads(gather_threads(nnz + n, U))
        {
#pragma omp for schedule(dynamic, 16) nowait
            for (int64_t c = 0; c < nc; c++) {
                float *d = dW + c * ld;
                if (fuse)
                    part[2 * c] = part[2 * c + 1] = 0;
                else if (xt->ptr[c + 1] == xt->ptr[c])
                    continue;
                k_gather(d, U, gy, ld, xt->row, xt->pos, val, xt->ptr[c], xt->ptr[c + 1],
                         fuse != NULL, NULL, Wv + c * ld, decay,
                         fuse && xt->ptr[c + 1] > xt->ptr[c] ? part + 2 * c : NULL);
            }
            /* the bias gradient: column sums of gy, in slices of 64 */
            if (db) {
#pragma omp for schedule(dynamic, 1)
                for (int64_t c0 = 0; c0 < U; c0 += 64)
                    k_colsum(db, gy, n, ld, c0, c0 + 64 < U ? c0 + 64 : U, fuse != NULL);
            }
        }
        if (fuse)
            fuse_finish(fuse, part, nc);
    } else {
        for (int64_t r = 0; r < n; r++) {
            int64_t s = x->sel ? x->sel[r] : r;
            for (int64_t k = x->ptr[s]; k < x->ptr[s + 1]; k++)
                recnn__param_touch(pw, x->idx[k]);
        }
        int nt = slice_threads(U, (nnz + n) * U);
        int64_t sw = slice_width(U, nt), ns = (U + sw - 1) / sw;
        /* the bias gradient (column sums of gy) is folded into the same
         * slices: no BLAS call, one parallel region per backward */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t sl = 0; sl < ns; sl++) {
            int64_t c0 = sl * sw, c1 = c0 + sw < U ? c0 + sw : U;
            k_sparse_scatter(x, gy, ld, dW, db, c0, c1);
        }
    }
    if (l->pb && n > 0)
        recnn__param_touch_all(l->pb);
    return RECNN_OK;
}

/* ---- masked output ------------------------------------------------------- */

int recnn__masked_forward(recnn__layer *l, const float *h, const recnn__csr *pos, float *y)
{
    if (!l || l->kind != RECNN__L_LINEAR || !l->wt)
        return recnn__fail(RECNN_E_INVALID,
                           "masked forward: needs a linear layer with W [out x in]");
    int st = check_csr(l, pos, l->out_dim, "masked forward");
    if (st)
        return st;
    if (pos->n > 0 && (!h || !y))
        return recnn__fail(RECNN_E_INVALID, "masked forward: NULL argument");
    const int64_t D = l->in_dim, ld = l->ld;
    const float *W = l->pw->w;
    const float *bias = l->pb ? l->pb->w : NULL;
    int64_t n = pos->n;
    int64_t *off = l->off;
    recnn__csr_offsets(pos, off);
#pragma omp parallel for schedule(dynamic, 8) num_threads(recnn__threads()) if (n > 16)
    for (int64_t r = 0; r < n; r++) {
        int64_t s = pos->sel ? pos->sel[r] : r;
        k_masked_row(y + off[r], h + r * ld, D, W, ld, bias, pos->idx, pos->ptr[s],
                     pos->ptr[s + 1]);
    }
    return RECNN_OK;
}

int recnn__masked_backward(recnn__layer *l, const float *h, const recnn__csr *pos,
                           const float *gy, float *gh)
{
    return recnn__masked_backward_t(l, h, pos, NULL, gy, gh);
}

/* The checks shared by the masked backward passes. */
static int check_masked(const recnn__layer *l, const recnn__csr *pos, const recnn__csrt *pt,
                        const char *what)
{
    if (!l || l->kind != RECNN__L_LINEAR || !l->wt)
        return recnn__fail(RECNN_E_INVALID, "%s: needs a linear layer with W [out x in]",
                           what);
    int st = check_csr(l, pos, l->out_dim, what);
    if (st == RECNN_OK && pt)
        st = check_csrt(pos, pt, l->out_dim, what);
    return st;
}

/* dW[j] += sum_k gy[k] h[r], db[j] += sum_k gy[k] over a checked batch
 * whose offsets are in l->off (gathered with pt, else scattered). */
static int masked_dw(recnn__layer *l, const float *h, const recnn__csr *pos,
                     const recnn__csrt *pt, const float *gy, int64_t nnz,
                     recnn__grad_fuse *fuse)
{
    const int64_t D = l->in_dim, n = pos->n, ld = l->ld;
    const int64_t *off = l->off;
    float *dW = l->pw->g;
    const float *Wv = l->pw->w;
    recnn__param *pw = l->pw, *pb = l->pb;
    if (pt) {
        int64_t nc = pt->n_cols;
        double *part;
        int st = fuse_parts(l, fuse, "masked backward", &part);
        if (st)
            return st;
        if (fuse) {
            recnn__param_reset_rows(pw);
            if (pb)
                recnn__param_reset_rows(pb);
        }
        for (int64_t j = 0; j < nc; j++)
            if (pt->ptr[j + 1] > pt->ptr[j]) {
                recnn__param_touch(pw, j);
                if (pb)
                    recnn__param_touch(pb, j);
            }
        float *db = pb ? pb->g : NULL;
        const float decay = fuse ? fuse->decay : 0.0f;
#pragma omp parallel for schedule(dynamic, 16) num_threads(gather_threads(nnz, D))
        for (int64_t j = 0; j < nc; j++) {
            float *d = dW + j * ld;
            if (fuse) {
                part[2 * j] = part[2 * j + 1] = 0;
                if (db)
                    db[j] = 0.0f;
            } else if (pt->ptr[j + 1] == pt->ptr[j]) {
                continue;
            }
            float sb = 0.0f;
            k_gather(d, D, h, ld, pt->row, pt->pos, gy, pt->ptr[j], pt->ptr[j + 1],
                     fuse != NULL, db ? &sb : NULL, Wv + j * ld, decay,
                     fuse && pt->ptr[j + 1] > pt->ptr[j] ? part + 2 * j : NULL);
            if (db)
                db[j] += sb;
        }
        if (fuse)
            fuse_finish(fuse, part, nc);
        return RECNN_OK;
    }
    for (int64_t r = 0; r < n; r++) {
        int64_t s = pos->sel ? pos->sel[r] : r;
        const float *gr = gy + off[r];
        for (int64_t k = pos->ptr[s], t = 0; k < pos->ptr[s + 1]; k++, t++) {
            int32_t j = pos->idx[k];
            recnn__param_touch(pw, j);
            if (pb) {
                recnn__param_touch(pb, j);
                pb->g[j] += gr[t];
            }
        }
    }
    int nt = slice_threads(D, nnz * D);
    int64_t sw = slice_width(D, nt), ns = (D + sw - 1) / sw;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t sl = 0; sl < ns; sl++) {
        int64_t c0 = sl * sw, c1 = c0 + sw < D ? c0 + sw : D;
        k_masked_scatter(pos, off, gy, h, ld, dW, c0, c1);
    }
    return RECNN_OK;
}

int recnn__masked_backward_t(recnn__layer *l, const float *h, const recnn__csr *pos,
                             const recnn__csrt *pt, const float *gy, float *gh)
{
    int st = check_masked(l, pos, pt, "masked backward");
    if (st)
        return st;
    if (pos->n > 0 && (!h || !gy))
        return recnn__fail(RECNN_E_INVALID, "masked backward: NULL argument");
    const int64_t D = l->in_dim, ld = l->ld;
    const float *W = l->pw->w;
    int64_t n = pos->n;
    int64_t *off = l->off;
    int64_t nnz = recnn__csr_offsets(pos, off);
    if (gh) {
#pragma omp parallel for schedule(dynamic, 8) num_threads(recnn__threads()) if (n > 16)
        for (int64_t r = 0; r < n; r++) {
            int64_t s = pos->sel ? pos->sel[r] : r;
            k_masked_gh(gh + r * ld, gy + off[r], D, W, ld, pos->idx, pos->ptr[s],
                        pos->ptr[s + 1]);
        }
    }
    return masked_dw(l, h, pos, pt, gy, nnz, NULL);
}

/* The end of a fused MSE row with ns = 1..3 single entries left: one
 * loop adds the last group of four (c, w0..w3; none when c is NULL; set:
 * onto zeros) from L1 while the singles' dot products (dot1's chains)
 * stream their rows; singles_add then adds those rows in entry order (the
 * bits of ns axpy1 calls), with the sigmoid's backward when dsig is given.
 * TAIL_SWITCH expands its call with NS = 1, 2 or 3 as a constant. */
static inline __attribute__((always_inline)) void tail_stage(
    float *restrict g, const float *restrict hr, int64_t D, const float *c,
    const float *restrict w0, const float *restrict w1, const float *restrict w2,
    const float *restrict w3, int set, int ns, const float *const ws[3], float a[3])
{
    const float *restrict s0 = ws[0], *restrict s1 = ws[1], *restrict s2 = ws[2];
    const float c0 = c ? c[0] : 0.0f, c1 = c ? c[1] : 0.0f, c2 = c ? c[2] : 0.0f,
                c3 = c ? c[3] : 0.0f;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2)
    for (int64_t u = 0; u < D; u++) {
        if (c) {
            const float x = (c0 * w0[u] + c1 * w1[u]) + (c2 * w2[u] + c3 * w3[u]);
            g[u] = set ? 0.0f + x : g[u] + x;
        }
        a0 += hr[u] * s0[u];
        if (ns > 1)
            a1 += hr[u] * s1[u];
        if (ns > 2)
            a2 += hr[u] * s2[u];
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
}

static inline __attribute__((always_inline)) void singles_add(float *restrict g, int64_t D,
                                                              int ns, const float a[3],
                                                              const float *const ws[3],
                                                              const float *restrict dsig)
{
    const float *restrict s0 = ws[0], *restrict s1 = ws[1], *restrict s2 = ws[2];
    const float a0 = a[0], a1 = a[1], a2 = a[2];
#pragma omp simd
    for (int64_t u = 0; u < D; u++) {
        float x = g[u] + a0 * s0[u];
        if (ns > 1)
            x = x + a1 * s1[u];
        if (ns > 2)
            x = x + a2 * s2[u];
        g[u] = DSIG(x, dsig, u);
    }
}

#define TAIL_SWITCH(n, CALL)                                                                \
    do {                                                                                   \
        switch (n) {                                                                       \
        case 1: {                                                                          \
            enum { NS = 1 };                                                               \
            CALL;                                                                          \
        } break;                                                                           \
        case 2: {                                                                          \
            enum { NS = 2 };                                                               \
            CALL;                                                                          \
        } break;                                                                           \
        case 3: {                                                                          \
            enum { NS = 3 };                                                               \
            CALL;                                                                          \
        } break;                                                                           \
        default: break;                                                                    \
        }                                                                                  \
    } while (0)

/* A fused MSE row's output gradients for four positions from their dot
 * products c (in place): gy = s2 ((c + b) - target), written to gyr; returns
 * se plus their loss terms (gy inv)^2, added in entry order. */
static inline __attribute__((always_inline)) double mse_coefs(float c[4], float *gyr,
                                                              const float *bias,
                                                              const int32_t *idx,
                                                              const float *tr, float s2,
                                                              double inv, double se)
{
    for (int q = 0; q < 4; q++) {
        gyr[q] = c[q] = s2 * ((c[q] + (bias ? bias[idx[q]] : 0.0f)) - tr[q]);
        se += ((double)c[q] * inv) * ((double)c[q] * inv);
    }
    return se;
}

/* For row r of a fused masked MSE: g = sum_t gy[t] W[idx_k] with
 * gy[t] = s2 (h . W[idx_k] + b - tr[t]); the dot products are those of
 * k_masked_row (same bits as the unfused forward). */
RECNN__CLONES static void k_masked_mse_row(float *restrict g, const float *restrict hr,
                                           int64_t D, const float *W, int64_t ld,
                                           const float *bias, const int32_t *idx, int64_t k,
                                           int64_t end, const float *tr, float s2, float *gyr,
                                           int sig, double inv, double *se_out)
{
    double se = 0; /* the row's loss: sum of (gyr / 2 scale)^2 = (gyr inv)^2 in entry order */
    /* with sig, the last sweep also applies the sigmoid's backward (DSIG) */
    const float *dsig = sig ? hr : NULL;
    const int64_t ng = (end - k) / 4; /* whole groups of four positions */
    int64_t t = 0;
    /* the singles' rows (fewer than four entries after the groups) */
    const float *ws[3] = {hr, hr, hr};
    for (int64_t q = 0; q < (end - k) % 4; q++)
        ws[q] = W + (int64_t)idx[end - (end - k) % 4 + q] * ld;
    float a[3] = {0.0f, 0.0f, 0.0f};
    if (ng > 0) {
        /* software pipeline: the dot products of group m stream their W rows
         * from L2/L3 in the same loop that adds group m-1's rows (still in
         * L1) into g, so the fills never stop */
        const float *p0 = W + (int64_t)idx[k] * ld, *p1 = W + (int64_t)idx[k + 1] * ld;
        const float *p2 = W + (int64_t)idx[k + 2] * ld, *p3 = W + (int64_t)idx[k + 3] * ld;
        float c[4];
        dot4(hr, p0, p1, p2, p3, D, c);
        se = mse_coefs(c, gyr, bias, idx + k, tr, s2, inv, se);
        k += 4;
        t = 4;
        int first = 1;
        for (int64_t m = 1; m < ng; m++, k += 4, t += 4) {
            const float *n0 = W + (int64_t)idx[k] * ld, *n1 = W + (int64_t)idx[k + 1] * ld;
            const float *n2 = W + (int64_t)idx[k + 2] * ld, *n3 = W + (int64_t)idx[k + 3] * ld;
            float a4[4];
            if (first)
                dot4_add4(hr, n0, n1, n2, n3, D, a4, g, c, p0, p1, p2, p3, 1);
            else
                dot4_add4(hr, n0, n1, n2, n3, D, a4, g, c, p0, p1, p2, p3, 2);
            first = 0;
            memcpy(c, a4, sizeof c);
            se = mse_coefs(c, gyr + t, bias, idx + k, tr + t, s2, inv, se);
            p0 = n0;
            p1 = n1;
            p2 = n2;
            p3 = n3;
        }
        if (k == end)
            axpy4(g, c, p0, p1, p2, p3, D, first, dsig);
        else /* the last group's rows (L1) while the singles' rows stream */
            TAIL_SWITCH(end - k, first ? tail_stage(g, hr, D, c, p0, p1, p2, p3, 1, NS, ws, a)
                                       : tail_stage(g, hr, D, c, p0, p1, p2, p3, 0, NS, ws, a));
    } else {
        memset(g, 0, (size_t)D * sizeof(float));
        if (k == end && sig) /* no entries: g = 0 through the backward */
            recnn__act_backward(RECNN__ACT_SIGMOID, 0.0f, 1, D, hr, g, g);
        else
            TAIL_SWITCH(end - k, tail_stage(g, hr, D, NULL, NULL, NULL, NULL, NULL, 0, NS, ws, a));
    }
    /* the singles (fewer than four entries left): their coefficients, then
     * their rows (now in L1) added in entry order */
    const int64_t ns = end - k;
    for (int64_t q = 0; q < ns; q++) {
        const float cq = s2 * ((a[q] + (bias ? bias[idx[k + q]] : 0.0f)) - tr[t + q]);
        gyr[t + q] = a[q] = cq;
        se += ((double)cq * inv) * ((double)cq * inv);
    }
    if (ns > 0)
        TAIL_SWITCH(ns, dsig ? singles_add(g, D, NS, a, ws, dsig)
                             : singles_add(g, D, NS, a, ws, NULL));
    *se_out = se;
}

int recnn__masked_mse_t(recnn__layer *l, const float *h, const recnn__csr *pos,
                        const recnn__csrt *pt, const float *target, float scale, int act,
                        float alpha, float *gy, float *gh, double *loss,
                        recnn__grad_fuse *fuse)
{
    int st = check_masked(l, pos, pt, "masked mse");
    if (st)
        return st;
    if (fuse && !pt)
        return recnn__fail(RECNN_E_INVALID, "masked mse: fusing needs the transpose");
    if (pos->n > 0 && (!h || !target || !gy || !gh || !loss))
        return recnn__fail(RECNN_E_INVALID, "masked mse: NULL argument");
    const int64_t D = l->in_dim, ld = l->ld;
    const float *W = l->pw->w;
    const float *bias = l->pb ? l->pb->w : NULL;
    int64_t n = pos->n;
    int64_t *off = l->off;
    int64_t nnz = recnn__csr_offsets(pos, off);
    const float s2 = 2.0f * scale;
    /* the loss from gy, (gy / 2 scale)^2, summed per row by the kernel as
     * it writes gy (its dependent double adds hide under the row's
     * streaming), then over the rows in batch order */
    const double inv = scale != 0.0f ? 1.0 / (2.0 * (double)scale) : 0.0;
    double *rl = l->rowloss;
#pragma omp parallel for schedule(dynamic, 8) num_threads(recnn__threads()) if (n > 16)
    for (int64_t r = 0; r < n; r++) {
        int64_t s = pos->sel ? pos->sel[r] : r;
        k_masked_mse_row(gh + r * ld, h + r * ld, D, W, ld, bias, pos->idx, pos->ptr[s],
                         pos->ptr[s + 1], target + off[r], s2, gy + off[r],
                         act == RECNN__ACT_SIGMOID, inv, &rl[r]);
        /* back through h's activation while the row is still in L1 (the
         * sigmoid within the kernel's last sweep) */
        if (act != RECNN__ACT_IDENTITY && act != RECNN__ACT_SIGMOID)
            recnn__act_backward(act, alpha, 1, D, h + r * ld, gh + r * ld, gh + r * ld);
    }
    double sse = 0;
    for (int64_t r = 0; r < n; r++)
        sse += rl[r];
    if (loss)
        *loss = (double)scale * sse;
    return masked_dw(l, h, pos, pt, gy, nnz, fuse); /* the batch is checked once, above */
}

/* ---- embedding ------------------------------------------------------------ */

/* d[0..n) = s[0..n) for short rows (no overlap).  Rows of 4k <= 32 floats
 * are moved by straight-line code: any copy loop is turned back into a
 * memcpy call by the compiler, which costs more than the copy. */
static inline void copy_short(float *restrict d, const float *restrict s, int64_t n)
{
#if LAYER_SSE
#define MV4(k) _mm_storeu_ps(d + (k), _mm_loadu_ps(s + (k)))
    if ((n & 3) == 0 && n <= 32) {
        switch (n >> 2) {
        case 8: MV4(28); /* fall through */
        case 7: MV4(24); /* fall through */
        case 6: MV4(20); /* fall through */
        case 5: MV4(16); /* fall through */
        case 4: MV4(12); /* fall through */
        case 3: MV4(8);  /* fall through */
        case 2: MV4(4);  /* fall through */
        case 1: MV4(0);  /* fall through */
        default: break;
        }
        return;
    }
#undef MV4
#endif
    memcpy(d, s, (size_t)n * sizeof(float));
}

/* d[0..n) += s[0..n) (no overlap). */
static inline void add_short(float *restrict d, const float *restrict s, int64_t n)
{
    int64_t u = 0;
#if LAYER_SSE
    for (; u + 4 <= n; u += 4)
        _mm_storeu_ps(d + u, _mm_add_ps(_mm_loadu_ps(d + u), _mm_loadu_ps(s + u)));
#endif
    for (; u < n; u++)
        d[u] += s[u];
}

int recnn__embedding_forward(recnn__layer *l, int64_t n, const int32_t *ids, float *y)
{
    if (!l || l->kind != RECNN__L_EMBEDDING || (n > 0 && (!ids || !y)))
        return recnn__fail(RECNN_E_INVALID, "embedding forward: bad argument");
    int st = check_batch(l, n, "embedding forward");
    if (st)
        return st;
    const int64_t D = l->out_dim;
    for (int64_t r = 0; r < n; r++)
        if (ids[r] < 0 || ids[r] >= l->in_dim)
            return recnn__fail(RECNN_E_INVALID, "embedding forward: id %d outside [0, %lld)",
                               (int)ids[r], (long long)l->in_dim);
    const float *E = l->params[0].w;
    if (D > 64) {
        for (int64_t r = 0; r < n; r++)
            memcpy(y + r * D, E + (int64_t)ids[r] * D, (size_t)D * sizeof(float));
        return RECNN_OK;
    }
    /* short rows (NCF: 8-32 floats): an inline copy beats a call per row */
    for (int64_t r = 0; r < n; r++)
        copy_short(y + r * D, E + (int64_t)ids[r] * D, D);
    return RECNN_OK;
}

int recnn__embedding_backward(recnn__layer *l, int64_t n, const int32_t *ids,
                              const float *gy)
{
    if (!l || l->kind != RECNN__L_EMBEDDING || (n > 0 && (!ids || !gy)))
        return recnn__fail(RECNN_E_INVALID, "embedding backward: bad argument");
    int st = check_batch(l, n, "embedding backward");
    if (st)
        return st;
    const int64_t D = l->out_dim;
    recnn__param *p = &l->params[0];
    for (int64_t r = 0; r < n; r++) {
        if (ids[r] < 0 || ids[r] >= l->in_dim)
            return recnn__fail(RECNN_E_INVALID, "embedding backward: id %d outside [0, %lld)",
                               (int)ids[r], (long long)l->in_dim);
        recnn__param_touch(p, ids[r]);
    }
    int nt = slice_threads(D, n * D);
    if (nt == 1) {
        /* serial: no thread-team start-up (same sums, same order) */
        for (int64_t r = 0; r < n; r++)
            add_short(p->g + (int64_t)ids[r] * D, gy + r * D, D);
        return RECNN_OK;
    }
    int64_t sw = slice_width(D, nt), ns = (D + sw - 1) / sw;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t sl = 0; sl < ns; sl++) {
        int64_t c0 = sl * sw, c1 = c0 + sw < D ? c0 + sw : D;
        for (int64_t r = 0; r < n; r++) {
            float *restrict d = p->g + (int64_t)ids[r] * D;
            const float *restrict g = gy + r * D;
#pragma omp simd
            for (int64_t u = c0; u < c1; u++)
                d[u] += g[u];
        }
    }
    return RECNN_OK;
}

/* ---- merges ----------------------------------------------------------------- */

int recnn__merge_forward(recnn__layer *l, int64_t n, const float *a, const float *b, float *y)
{
    if (!l || (l->kind != RECNN__L_CONCAT && l->kind != RECNN__L_PRODUCT) ||
        (n > 0 && (!a || !b || !y)))
        return recnn__fail(RECNN_E_INVALID, "merge forward: bad argument");
    int st = check_batch(l, n, "merge forward");
    if (st)
        return st;
    int64_t da = l->in_dim, db = l->in_dim2, D = l->out_dim;
    if (l->kind == RECNN__L_CONCAT) {
        for (int64_t r = 0; r < n; r++) {
            copy_short(y + r * D, a + r * da, da);
            copy_short(y + r * D + da, b + r * db, db);
        }
    } else {
        /* element-wise (y may be a or b): no dependence between elements */
        const int64_t nd = n * D;
#pragma omp simd
        for (int64_t i = 0; i < nd; i++)
            y[i] = a[i] * b[i];
    }
    return RECNN_OK;
}

int recnn__merge_backward(recnn__layer *l, int64_t n, const float *a, const float *b,
                          const float *gy, float *ga, float *gb)
{
    if (!l || (l->kind != RECNN__L_CONCAT && l->kind != RECNN__L_PRODUCT) ||
        (n > 0 && !gy))
        return recnn__fail(RECNN_E_INVALID, "merge backward: bad argument");
    int st = check_batch(l, n, "merge backward");
    if (st)
        return st;
    int64_t da = l->in_dim, db = l->in_dim2, D = l->out_dim;
    if (l->kind == RECNN__L_CONCAT) {
        for (int64_t r = 0; r < n; r++) {
            if (ga)
                copy_short(ga + r * da, gy + r * D, da);
            if (gb)
                copy_short(gb + r * db, gy + r * D + da, db);
        }
    } else {
        if (n > 0 && ((ga && !b) || (gb && !a)))
            return recnn__fail(RECNN_E_INVALID, "product backward: needs both inputs");
        /* element-wise; each element reads gy[i], a[i], b[i] before writing
         * (ga or gb may be gy), so no dependence between elements */
        const int64_t nd = n * D;
        if (ga && gb) {
#pragma omp simd
            for (int64_t i = 0; i < nd; i++) {
                float g = gy[i], av = a[i], bv = b[i];
                ga[i] = g * bv;
                gb[i] = g * av;
            }
        } else if (ga) {
#pragma omp simd
            for (int64_t i = 0; i < nd; i++)
                ga[i] = gy[i] * b[i];
        } else if (gb) {
#pragma omp simd
            for (int64_t i = 0; i < nd; i++)
                gb[i] = gy[i] * a[i];
        }
    }
    return RECNN_OK;
}
