/* Benchmark of the neural building blocks (issue 4, item 7).  Prints one
 * JSON object per line to stdout:
 *   - dense layer forward+backward (y = xW + b, dW += .., db += .., dx)
 *     against the three bare cblas_sgemm calls of the same shapes, in the
 *     same run; GFLOP/s counts the 3 x 2*n*in*out GEMM flops for both;
 *     the layer's zero_grad (a memset of dW) is timed separately and
 *     reported with and without it;
 *   - sparse-input layer forward+backward on an ML-100K-shaped batch
 *     (943 x 1682, ~6.3 % dense, 500 units) against densify-then-sgemm;
 *   - masked output layer at the observed positions against the full
 *     output product (sgemm) + its backward.
 * Usage: bench_nn [--quick] [--threads N]
 * Each figure is the best of several timed repeats (after a warm-up),
 * the two sides of a comparison measured alternately. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static int quick = 0;

static void fill(float *a, int64_t n, recnn_rng *r)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = 2.0f * recnn__rng_uniformf(r) - 1.0f;
}

/* Best time per call of f and of g, measured alternately (one repeat of
 * `inner` calls of f, then one of g, `rep` times) so that load changes on
 * a shared machine hit both sides alike. */
typedef void (*bench_fn)(void *);
static double one_repeat(bench_fn f, void *ctx, int inner)
{
    double t0 = recnn__now();
    for (int i = 0; i < inner; i++)
        f(ctx);
    return (recnn__now() - t0) / inner;
}

static void best_pair(bench_fn f, bench_fn g, void *ctx, int inner, int rep, double *tf,
                      double *tg)
{
    f(ctx); /* warm-up */
    g(ctx);
    *tf = *tg = 1e30;
    for (int r = 0; r < rep; r++) {
        double a = one_repeat(f, ctx, inner);
        double b = one_repeat(g, ctx, inner);
        *tf = a < *tf ? a : *tf;
        *tg = b < *tg ? b : *tg;
    }
}

/* ---- dense ---------------------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    int64_t n, in, out;
    float *x, *y, *gy, *gx, *W, *dW;
} dense_ctx;

/* forward + backward; the parameter gradients accumulate (beta = 1 in the
 * dW product), as in training; zero_grad is timed on its own */
static void dense_layer_pass(void *p)
{
    dense_ctx *c = p;
    recnn__layer_forward(c->l, c->n, c->x, c->y, 1);
    recnn__layer_backward(c->l, c->n, c->x, c->y, c->gy, c->gx);
}

static void dense_zero_pass(void *p)
{
    dense_ctx *c = p;
    recnn__layer_zero_grad(c->l);
}

static void dense_bare_pass(void *p)
{
    dense_ctx *c = p;
    blasint n = (blasint)c->n, in = (blasint)c->in, out = (blasint)c->out;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f, c->x, in, c->W,
                out, 0.0f, c->y, out);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, n, 1.0f, c->x, in, c->gy,
                out, 0.0f, c->dW, out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, in, out, 1.0f, c->gy, out, c->W,
                out, 0.0f, c->gx, in);
}

static void bench_dense(int64_t n, int64_t in, int64_t out, recnn_rng *r)
{
    dense_ctx c = {NULL, n, in, out, NULL, NULL, NULL, NULL, NULL, NULL};
    if (recnn__dense_create(&c.l, in, out, 1, n) != RECNN_OK) {
        fprintf(stderr, "dense create failed: %s\n", recnn_last_error());
        exit(1);
    }
    recnn__layer_init(c.l, RECNN__INIT_XAVIER_UNIFORM, 0, r);
    c.x = recnn__alloc((size_t)(n * in), sizeof(float));
    c.gx = recnn__alloc((size_t)(n * in), sizeof(float));
    c.y = recnn__alloc((size_t)(n * out), sizeof(float));
    c.gy = recnn__alloc((size_t)(n * out), sizeof(float));
    c.W = recnn__alloc((size_t)(in * out), sizeof(float));
    c.dW = recnn__alloc((size_t)(in * out), sizeof(float));
    fill(c.x, n * in, r);
    fill(c.gy, n * out, r);
    memcpy(c.W, c.l->pw->w, sizeof(float) * (size_t)(in * out));
    double flops = 3.0 * 2.0 * (double)n * (double)in * (double)out;
    int inner = (int)(1e9 / flops / (quick ? 10 : 1));
    if (inner < 1)
        inner = 1;
    if (inner > 2000)
        inner = 2000;
    int rep = quick ? 3 : 15;
    double tl, tb, tz, tb2;
    best_pair(dense_layer_pass, dense_bare_pass, &c, inner, rep, &tl, &tb);
    best_pair(dense_zero_pass, dense_bare_pass, &c, inner, quick ? 2 : 5, &tz, &tb2);
    tb = tb2 < tb ? tb2 : tb;
    printf("{\"bench\":\"dense_fwd_bwd\",\"batch\":%lld,\"in\":%lld,\"out\":%lld,"
           "\"threads\":%d,\"layer_ms\":%.4f,\"sgemm_ms\":%.4f,\"layer_gflops\":%.2f,"
           "\"sgemm_gflops\":%.2f,\"ratio\":%.3f,\"zero_grad_ms\":%.4f,"
           "\"ratio_incl_zero_grad\":%.3f}\n",
           (long long)n, (long long)in, (long long)out, recnn__threads(), tl * 1e3, tb * 1e3,
           flops / tl * 1e-9, flops / tb * 1e-9, tb / tl, tz * 1e3, tb / (tl + tz));
    fflush(stdout);
    recnn__free(c.x);
    recnn__free(c.gx);
    recnn__free(c.y);
    recnn__free(c.gy);
    recnn__free(c.W);
    recnn__free(c.dW);
    recnn__layer_free(c.l);
}

/* ---- sparse input ----------------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    recnn__csr x;
    int64_t n, in, out;
    float *y, *gy, *X, *W, *dW, *b, *db, *ones;
} sparse_ctx;

static void sparse_layer_pass(void *p)
{
    sparse_ctx *c = p;
    recnn__layer_zero_grad(c->l);
    recnn__sparse_forward(c->l, &c->x, c->y);
    recnn__sparse_backward(c->l, &c->x, c->gy);
}

static void densify_pass(void *p)
{
    sparse_ctx *c = p;
    blasint n = (blasint)c->n, in = (blasint)c->in, out = (blasint)c->out;
    memset(c->X, 0, sizeof(float) * (size_t)(c->n * c->in));
    for (int64_t r = 0; r < c->n; r++)
        for (int64_t k = c->x.ptr[r]; k < c->x.ptr[r + 1]; k++)
            c->X[r * c->in + c->x.idx[k]] = c->x.val[k];
    for (int64_t r = 0; r < c->n; r++)
        memcpy(c->y + r * c->out, c->b, sizeof(float) * (size_t)c->out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f, c->X, in, c->W,
                out, 1.0f, c->y, out);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, n, 1.0f, c->X, in, c->gy,
                out, 0.0f, c->dW, out);
    cblas_sgemv(CblasRowMajor, CblasTrans, n, out, 1.0f, c->gy, out, c->ones, 1, 0.0f, c->db,
                1);
}

/* ---- masked output ------------------------------------------------------------ */

typedef struct {
    recnn__layer *l;
    recnn__csr pos;
    int64_t n, h, out;
    float *H, *gH, *y, *gy, *full, *gfull;
} masked_ctx;

static void masked_layer_pass(void *p)
{
    masked_ctx *c = p;
    recnn__layer_zero_grad(c->l);
    recnn__masked_forward(c->l, c->H, &c->pos, c->y);
    recnn__masked_backward(c->l, c->H, &c->pos, c->gy, c->gH);
}

static void masked_full_pass(void *p)
{
    /* the dense alternative: full output, a dense gradient that is zero
     * off the positions, and the full backward */
    masked_ctx *c = p;
    recnn__layer_zero_grad(c->l);
    recnn__layer_forward(c->l, c->n, c->H, c->full, 1);
    memset(c->gfull, 0, sizeof(float) * (size_t)(c->n * c->out));
    for (int64_t r = 0, k = 0; r < c->n; r++)
        for (int64_t q = c->pos.ptr[r]; q < c->pos.ptr[r + 1]; q++, k++)
            c->gfull[r * c->out + c->pos.idx[q]] = c->gy[k];
    recnn__layer_backward(c->l, c->n, c->H, c->full, c->gfull, c->gH);
}

static void bench_sparse(int64_t n, int64_t in, int64_t out, double density, recnn_rng *r)
{
    sparse_ctx c;
    memset(&c, 0, sizeof c);
    c.n = n;
    c.in = in;
    c.out = out;
    int64_t *ptr = recnn__alloc((size_t)n + 1, sizeof(int64_t));
    int64_t cap = (int64_t)((double)(n * in) * density * 1.2) + 16;
    int32_t *idx = recnn__alloc((size_t)cap, sizeof(int32_t));
    float *val = recnn__alloc((size_t)cap, sizeof(float));
    int64_t k = 0;
    ptr[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < in && k < cap; j++)
            if (recnn__rng_uniform(r) < density) {
                idx[k] = (int32_t)j;
                val[k] = (float)(1 + recnn__rng_below(r, 5));
                k++;
            }
        ptr[i + 1] = k;
    }
    recnn__csr x = {n, ptr, idx, val, NULL};
    c.x = x;
    recnn__sparse_create(&c.l, in, out, 1, n);
    recnn__layer_init(c.l, RECNN__INIT_XAVIER_UNIFORM, 0, r);
    c.y = recnn__alloc((size_t)(n * out), sizeof(float));
    c.gy = recnn__alloc((size_t)(n * out), sizeof(float));
    c.X = recnn__alloc((size_t)(n * in), sizeof(float));
    c.W = c.l->pw->w;
    c.dW = recnn__alloc((size_t)(in * out), sizeof(float));
    c.b = c.l->pb->w;
    c.db = recnn__alloc((size_t)out, sizeof(float));
    c.ones = recnn__alloc((size_t)n, sizeof(float));
    for (int64_t i = 0; i < n; i++)
        c.ones[i] = 1.0f;
    fill(c.gy, n * out, r);
    int inner = quick ? 2 : 5, rep = quick ? 3 : 15;
    double ts, td;
    best_pair(sparse_layer_pass, densify_pass, &c, inner, rep, &ts, &td);
    printf("{\"bench\":\"sparse_input_fwd_bwd\",\"batch\":%lld,\"in\":%lld,\"out\":%lld,"
           "\"nnz\":%lld,\"density\":%.4f,\"threads\":%d,\"layer_ms\":%.3f,"
           "\"densify_sgemm_ms\":%.3f,\"speedup\":%.2f}\n",
           (long long)n, (long long)in, (long long)out, (long long)k,
           (double)k / (double)(n * in), recnn__threads(), ts * 1e3, td * 1e3, td / ts);
    fflush(stdout);

    /* masked output on the same positions: hidden out -> in columns */
    masked_ctx m;
    memset(&m, 0, sizeof m);
    m.n = n;
    m.h = out;
    m.out = in;
    recnn__csr pos = {n, ptr, idx, NULL, NULL};
    m.pos = pos;
    recnn__masked_create(&m.l, out, in, 1, n);
    recnn__layer_init(m.l, RECNN__INIT_XAVIER_UNIFORM, 0, r);
    m.H = recnn__alloc((size_t)(n * out), sizeof(float));
    m.gH = recnn__alloc((size_t)(n * out), sizeof(float));
    m.y = recnn__alloc((size_t)k + 1, sizeof(float));
    m.gy = recnn__alloc((size_t)k + 1, sizeof(float));
    m.full = recnn__alloc((size_t)(n * in), sizeof(float));
    m.gfull = recnn__alloc((size_t)(n * in), sizeof(float));
    fill(m.H, n * out, r);
    fill(m.gy, k, r);
    double tm, tf;
    best_pair(masked_layer_pass, masked_full_pass, &m, inner, rep, &tm, &tf);
    printf("{\"bench\":\"masked_output_fwd_bwd\",\"batch\":%lld,\"in\":%lld,\"out\":%lld,"
           "\"positions\":%lld,\"threads\":%d,\"layer_ms\":%.3f,\"full_sgemm_ms\":%.3f,"
           "\"speedup\":%.2f}\n",
           (long long)n, (long long)out, (long long)in, (long long)k, recnn__threads(),
           tm * 1e3, tf * 1e3, tf / tm);
    fflush(stdout);
    recnn__free(m.H);
    recnn__free(m.gH);
    recnn__free(m.y);
    recnn__free(m.gy);
    recnn__free(m.full);
    recnn__free(m.gfull);
    recnn__layer_free(m.l);
    recnn__free(c.y);
    recnn__free(c.gy);
    recnn__free(c.X);
    recnn__free(c.dW);
    recnn__free(c.db);
    recnn__free(c.ones);
    recnn__layer_free(c.l);
    recnn__free(ptr);
    recnn__free(idx);
    recnn__free(val);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            recnn_set_num_threads(atoi(argv[++i]));
        else {
            fprintf(stderr, "usage: %s [--quick] [--threads N]\n", argv[0]);
            return 2;
        }
    }
    recnn__blas_threads(recnn__threads());
    printf("{\"bench\":\"nn_info\",\"threads\":%d,\"blas\":\"%s\",\"version\":\"%s\"}\n",
           recnn__threads(), recnn_blas_info(), recnn_version());
    recnn_rng r;
    recnn__rng_seed(&r, 2024);
    /* shapes the models use: AutoRec-like 943 x 1682 -> 500, NCF MLP
     * 256 x 64 -> 32, deep autoencoder on Netflix 32 x 17770 -> 512 */
    bench_dense(943, 1682, 500, &r);
    bench_dense(256, 64, 32, &r);
    bench_dense(32, 17770, 512, &r);
    bench_dense(943, 500, 1682, &r);
    bench_sparse(943, 1682, 500, 0.063, &r);
    return 0;
}
