/* Benchmark of the neural building blocks and of the models' dense paths
 * (issue 4 item 7, issue 9 point 3: the physical limit).  Prints JSON lines
 * (docs/PERFORMANCE.md section 5), long form:
 *   - every dense layer shape the models use, forward + backward
 *     (y = xW + b, dW += x^T gy, db += sum gy, dx = gy W^T) through the
 *     library's layer API (src/nn/nn.h), against the three bare
 *     cblas_sgemm calls of the same shapes and transposes measured
 *     alternately in the same process: metric "gflops" (3 x 2*n*in*out
 *     flops over the layer's time), "ref_gflops" (the bare calls),
 *     "fraction" = layer / bare (target >= 0.8); the layer's zero_grad (a
 *     memset of dW) is timed separately and reported in
 *     "fraction_incl_zero_grad";
 *   - AutoRec's score-all path (score_user for every user, one gemv each)
 *     against the one sgemm that computes the same scores;
 *   - EASE's fit: its sparse Gram (X^T X) in dense-equivalent GFLOP/s
 *     against the dense sgemm that computes it, and its SPD inverse
 *     (potrf + potri, n^3 flops) against a bare sgemm of n^3;
 *   - the sparse-input and masked-output layers on an ML-100K-shaped batch
 *     (943 x 1682, ~6.3 % dense, 500 units) against densify-then-sgemm.
 * Each figure is the best of several timed repeats (after a warm-up),
 * the two sides of a comparison measured alternately, so that load from
 * other processes hits both alike.
 *
 * Usage: bench_nn [--quick] [--threads N] [--seed S] [--only dense|models|sparse]
 *                 [--dense BATCHxINxOUT]   (one dense layer case only)
 * (env RECNN_THREADS, RECNN_DATA_DIR; unknown arguments are ignored, as
 * the harness convention asks; RECNN_BENCH_SCALE: one skip line). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "nn/nn.h"

static int quick = 0;

/* One figure line, long form: model/data/variant/metric + value, the
 * thread budget, and `extra` (already formatted JSON members, may be ""). */
static void figure(const char *model, const char *data, const char *variant,
                   const char *metric, const char *shape, double value, const char *unit,
                   const char *extra)
{
    printf("{\"bench\":\"bench_nn\",\"model\":\"%s\",\"data\":\"%s\",\"variant\":\"%s\","
           "\"metric\":\"%s\",",
           model, data, variant, metric);
    if (shape)
        printf("\"shape\":\"%s\",", shape);
    printf("\"value\":%.6g,\"unit\":\"%s\",\"threads\":%d%s%s}\n", value, unit,
           recnn__threads(), extra && *extra ? "," : "", extra ? extra : "");
    fflush(stdout);
}

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

static void bench_dense(const char *model, const char *variant, const char *use, int64_t n,
                        int64_t in, int64_t out, recnn_rng *r)
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
    char shape[64], extra[512];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)n, (long long)out,
             (long long)in);
    snprintf(extra, sizeof extra,
             "\"batch\":%lld,\"in\":%lld,\"out\":%lld,\"ref_gflops\":%.3f,"
             "\"fraction\":%.3f,\"layer_ms\":%.4f,\"sgemm_ms\":%.4f,\"zero_grad_ms\":%.4f,"
             "\"fraction_incl_zero_grad\":%.3f,\"repeats\":%d,\"calls\":%d,"
             "\"note\":\"%s; forward+backward (3 GEMMs + bias) vs the 3 bare "
             "cblas_sgemm calls, alternated; shape = batch x out x in\"",
             (long long)n, (long long)in, (long long)out, flops / tb * 1e-9, tb / tl,
             tl * 1e3, tb * 1e3, tz * 1e3, tb / (tl + tz), rep, inner, use);
    figure(model, "shape", variant, "gflops", shape, flops / tl * 1e-9, "GFLOP/s", extra);
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
    recnn__csr x = {n, ptr, idx, val, NULL, 0};
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
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"batch\":%lld,\"in\":%lld,\"out\":%lld,\"nnz\":%lld,\"density\":%.4f,"
             "\"densify_sgemm_ms\":%.3f,\"note\":\"sparse-input layer (AutoRec/deep AE "
             "encoder) vs densify + 2 sgemm + gemv; speed-up = dense time / layer time\"",
             (long long)n, (long long)in, (long long)out, (long long)k,
             (double)k / (double)(n * in), td * 1e3);
    figure("autorec", "ml-100k-shape", "sparse-input fwd+bwd", "fwd_bwd_seconds", NULL, ts,
           "s", extra);
    figure("autorec", "ml-100k-shape", "sparse-input fwd+bwd", "speedup_vs_dense", NULL,
           td / ts, "x", extra);

    /* masked output on the same positions: hidden out -> in columns */
    masked_ctx m;
    memset(&m, 0, sizeof m);
    m.n = n;
    m.h = out;
    m.out = in;
    recnn__csr pos = {n, ptr, idx, NULL, NULL, 0};
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
    snprintf(extra, sizeof extra,
             "\"batch\":%lld,\"in\":%lld,\"out\":%lld,\"positions\":%lld,"
             "\"full_sgemm_ms\":%.3f,\"note\":\"masked output layer at the observed "
             "positions vs the full output + full backward through the dense layer\"",
             (long long)n, (long long)out, (long long)in, (long long)k, tf * 1e3);
    figure("autorec", "ml-100k-shape", "masked-output fwd+bwd", "fwd_bwd_seconds", NULL, tm,
           "s", extra);
    figure("autorec", "ml-100k-shape", "masked-output fwd+bwd", "speedup_vs_dense", NULL,
           tf / tm, "x", extra);
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

/* ---- AutoRec: score every user ----------------------------------------------- */

typedef struct {
    recnn_model *m;
    float *scores;
    int64_t n_users, n_items, k;
    float *H, *W, *Z;
} score_ctx;

/* What recnn_model_score_user / the evaluator do for every user: one
 * score_user (a gemv over the items' codes) per user. */
static void score_all_pass(void *p)
{
    score_ctx *c = p;
    for (int64_t u = 0; u < c->n_users; u++)
        c->m->vt->score_user(c->m, (int32_t)u, c->scores);
}

/* The same scores in one product: Z (items x users) = H (items x k) W^T. */
static void score_bare_pass(void *p)
{
    score_ctx *c = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)c->n_items,
                (blasint)c->n_users, (blasint)c->k, 1.0f, c->H, (blasint)c->k, c->W,
                (blasint)c->k, 0.0f, c->Z, (blasint)c->n_users);
}

static recnn_dataset *load_ml100k(void)
{
    const char *dir = getenv("RECNN_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dir && *dir ? dir : "../shared/datasets");
    recnn_dataset *d = NULL;
    if (recnn_dataset_load(&d, path, RECNN_FORMAT_AUTO, NULL) == RECNN_OK)
        return d;
    /* an ML-100K-shaped stand-in */
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = 943;
    o.n_items = 1682;
    o.n_ratings = 100000;
    o.n_genres = 0;
    fprintf(stderr, "bench_nn: %s not found; ML-100K-shaped synthetic data instead\n", path);
    if (recnn_dataset_synthetic(&d, &o) != RECNN_OK)
        return NULL;
    return d;
}

static void bench_autorec_scores(const recnn_dataset *d, uint64_t seed, recnn_rng *r)
{
    score_ctx c;
    memset(&c, 0, sizeof c);
    char set[256];
    snprintf(set, sizeof set, "variant=item hidden=500 epochs=2 seed=%llu",
             (unsigned long long)seed);
    if (recnn_model_create(&c.m, "autorec") || recnn_model_configure(c.m, set) ||
        recnn_model_fit(c.m, d, NULL)) {
        printf("{\"bench\":\"bench_nn\",\"error\":\"autorec fit: %s\"}\n", recnn_last_error());
        recnn_model_free(c.m);
        return;
    }
    c.n_users = recnn_dataset_n_users(d);
    c.n_items = recnn_dataset_n_items(d);
    c.k = 500;
    c.scores = recnn__alloc((size_t)c.n_items, sizeof(float));
    c.H = recnn__alloc((size_t)(c.n_items * c.k), sizeof(float));
    c.W = recnn__alloc((size_t)(c.n_users * c.k), sizeof(float));
    c.Z = recnn__alloc((size_t)(c.n_items * c.n_users), sizeof(float));
    fill(c.H, c.n_items * c.k, r);
    fill(c.W, c.n_users * c.k, r);
    double ta, tb;
    best_pair(score_all_pass, score_bare_pass, &c, 1, quick ? 3 : 9, &ta, &tb);
    double flops = 2.0 * (double)c.n_items * (double)c.n_users * (double)c.k;
    char shape[64], extra[512];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)c.n_items,
             (long long)c.n_users, (long long)c.k);
    snprintf(extra, sizeof extra,
             "\"users\":%lld,\"items\":%lld,\"hidden\":500,\"ref_gflops\":%.3f,"
             "\"fraction\":%.3f,\"path_ms\":%.3f,\"sgemm_ms\":%.3f,\"note\":\"I-AutoRec "
             "score_user for every user (one gemv of items x k each) vs one sgemm "
             "H W^T of the same scores\"",
             (long long)c.n_users, (long long)c.n_items, flops / tb * 1e-9, tb / ta, ta * 1e3,
             tb * 1e3);
    figure("autorec", "ml-100k", "score-all", "gflops", shape, flops / ta * 1e-9, "GFLOP/s",
           extra);
    recnn__free(c.scores);
    recnn__free(c.H);
    recnn__free(c.W);
    recnn__free(c.Z);
    recnn_model_free(c.m);
}

/* ---- EASE: Gram and inverse ------------------------------------------------- */

typedef struct {
    const recnn_dataset *d;
    recnn_model *m;
    int64_t nu, ni;
    float *X, *G, *A;
} ease_ctx;

static void ease_fit_pass(void *p)
{
    ease_ctx *c = p;
    recnn_model_fit(c->m, c->d, NULL);
}

/* The dense way to the same Gram: X^T X with X densified (943 x 1682). */
static void gram_bare_pass(void *p)
{
    ease_ctx *c = p;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)c->ni, (blasint)c->ni,
                (blasint)c->nu, 1.0f, c->X, (blasint)c->ni, c->X, (blasint)c->ni, 0.0f, c->G,
                (blasint)c->ni);
}

static void inverse_pass(void *p)
{
    ease_ctx *c = p;
    memcpy(c->A, c->G, sizeof(float) * (size_t)(c->ni * c->ni));
    recnn__spd_inverse(c->ni, c->A);
}

/* bare sgemm of n x n x n (the reference for the inverse), into A */
static void cube_bare_pass(void *p)
{
    ease_ctx *c = p;
    memcpy(c->A, c->G, sizeof(float) * (size_t)(c->ni * c->ni)); /* same copy as above */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)c->ni, (blasint)c->ni,
                (blasint)c->ni, 1.0f, c->G, (blasint)c->ni, c->G, (blasint)c->ni, 0.0f,
                c->A, (blasint)c->ni);
}

static void bench_ease(const recnn_dataset *d)
{
    ease_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.nu = recnn_dataset_n_users(d);
    c.ni = recnn_dataset_n_items(d);
    if (recnn_model_create(&c.m, "ease") || recnn_model_fit(c.m, d, NULL)) {
        printf("{\"bench\":\"bench_nn\",\"error\":\"ease fit: %s\"}\n", recnn_last_error());
        recnn_model_free(c.m);
        return;
    }
    const int64_t ni = c.ni, nu = c.nu;
    c.X = recnn__calloc((size_t)(nu * ni), sizeof(float));
    c.G = recnn__alloc((size_t)(ni * ni), sizeof(float));
    c.A = recnn__alloc((size_t)(ni * ni), sizeof(float));
    for (int64_t k = 0; k < d->n_ratings; k++)
        c.X[(int64_t)d->user[k] * ni + d->item[k]] = 1.0f;
    gram_bare_pass(&c);
    for (int64_t i = 0; i < ni; i++)
        c.G[i * ni + i] += 250.0f; /* EASE's default l2 */
    int rep = quick ? 3 : 7;
    double tfit, tgram, tinv, tcube;
    /* the Gram's sgemm overwrites G: time it on a scratch copy */
    float *keep = c.G;
    c.G = recnn__alloc((size_t)(ni * ni), sizeof(float));
    best_pair(ease_fit_pass, gram_bare_pass, &c, 1, rep, &tfit, &tgram);
    recnn__free(c.G);
    c.G = keep;
    best_pair(inverse_pass, cube_bare_pass, &c, 1, rep, &tinv, &tcube);
    /* The fit is Gram + inverse (+ an O(n^2) pass); the Gram's share is
     * the fit minus the inverse measured alone. */
    double t_g = tfit - tinv;
    double fgram = 2.0 * (double)ni * (double)ni * (double)nu, fcube = 2.0 * (double)ni * ni * ni,
           finv = (double)ni * ni * ni;
    char shape[64], extra[768];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)ni, (long long)ni,
             (long long)nu);
    snprintf(extra, sizeof extra,
             "\"users\":%lld,\"items\":%lld,\"ratings\":%lld,\"ref_gflops\":%.3f,"
             "\"fraction\":%.3f,\"fit_ms\":%.3f,\"gram_ms\":%.3f,\"dense_gram_sgemm_ms\":%.3f,"
             "\"note\":\"EASE Gram X^T X (sparse scatter loop; time = fit - inverse) in "
             "dense-equivalent flops 2*items^2*users, vs the dense sgemm of the same Gram\"",
             (long long)nu, (long long)ni, (long long)d->n_ratings, fgram / tgram * 1e-9,
             t_g > 0 ? tgram / t_g : 0.0, tfit * 1e3, t_g * 1e3, tgram * 1e3);
    if (t_g > 0)
        figure("ease", "ml-100k", "gram", "gflops", shape, fgram / t_g * 1e-9, "GFLOP/s",
               extra);
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)ni, (long long)ni,
             (long long)ni);
    snprintf(extra, sizeof extra,
             "\"items\":%lld,\"ref_gflops\":%.3f,\"fraction\":%.3f,\"inverse_ms\":%.3f,"
             "\"sgemm_ms\":%.3f,\"note\":\"EASE inverse recnn__spd_inverse (spotrf + spotri "
             "+ mirror), counted as n^3 flops, vs bare sgemm n x n x n (2 n^3 flops)\"",
             (long long)ni, fcube / tcube * 1e-9, (finv / tinv) / (fcube / tcube), tinv * 1e3,
             tcube * 1e3);
    figure("ease", "ml-100k", "inverse", "gflops", shape, finv / tinv * 1e-9, "GFLOP/s",
           extra);
    recnn__free(c.X);
    recnn__free(c.G);
    recnn__free(c.A);
    recnn_model_free(c.m);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    uint64_t seed = 42;
    int64_t dense_only[3] = {0, 0, 0};
    const char *env = getenv("RECNN_THREADS");
    if (env && atoi(env) > 0)
        recnn_set_num_threads(atoi(env));
    if ((env = getenv("RECNN_BENCH_SEED")) != NULL && *env)
        seed = strtoull(env, NULL, 10);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            recnn_set_num_threads(atoi(argv[++i]));
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--dense") == 0 && i + 1 < argc) {
            /* one dense case, e.g. for perf: --dense BATCHxINxOUT */
            long long n, in, out;
            if (sscanf(argv[++i], "%lldx%lldx%lld", &n, &in, &out) == 3 && n > 0 && in > 0 &&
                out > 0)
                dense_only[0] = n, dense_only[1] = in, dense_only[2] = out;
        }
        else if (strcmp(argv[i], "--scale") == 0) {
            printf("{\"bench\":\"bench_nn\",\"skip\":\"no scale part (dense paths are "
                   "measured by make bench)\"}\n");
            return 0;
        }
        /* anything else is ignored (harness convention) */
    }
    if ((env = getenv("RECNN_BENCH_SCALE")) != NULL && *env && strcmp(env, "0")) {
        printf("{\"bench\":\"bench_nn\",\"skip\":\"no scale part (dense paths are measured "
               "by make bench)\"}\n");
        return 0;
    }
    recnn__blas_threads(recnn__threads());
    fprintf(stderr, "bench_nn: %d threads, BLAS %s, %s\n", recnn__threads(), recnn_blas_info(),
            recnn_version());
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    if (dense_only[0]) {
        bench_dense("dense", "given by --dense", "given by --dense", dense_only[0],
                    dense_only[1], dense_only[2], &r);
        return 0;
    }
    if (!only || strcmp(only, "dense") == 0) {
        /* the dense layers of the models, as the models create them */
        bench_dense("deep_ae", "dense 128->256 fwd+bwd", "deep AE encoder layer 2, batch 32",
                    32, 128, 256, &r);
        bench_dense("deep_ae", "dense 256->256 fwd+bwd", "deep AE encoder layer 3, batch 32",
                    32, 256, 256, &r);
        bench_dense("deep_ae", "dense 256->128 fwd+bwd", "deep AE decoder layer 1, batch 32",
                    32, 256, 128, &r);
        bench_dense("deep_ae", "dense 17770->512 fwd+bwd",
                    "deep AE, Netflix-size dense input layer (Kuchaiev & Ginsburg), batch 32",
                    32, 17770, 512, &r);
        bench_dense("neumf", "dense 16->8 fwd+bwd", "NeuMF MLP layer 1, batch 256", 256, 16, 8,
                    &r);
        bench_dense("neumf", "dense 32->16 fwd+bwd",
                    "NeuMF default MLP (layers=32,16,8) layer 1, batch 256", 256, 32, 16, &r);
        bench_dense("neumf", "dense 8->4 fwd+bwd", "NeuMF MLP layer 2, batch 256", 256, 8, 4,
                    &r);
        bench_dense("neumf", "dense 20->1 fwd+bwd", "NeuMF output layer (16 GMF + 4 MLP), batch 256",
                    256, 20, 1, &r);
        bench_dense("neumf", "dense 64->32 fwd+bwd", "NCF MLP layers=64,32,16,8 layer 1, batch 256",
                    256, 64, 32, &r);
        bench_dense("autorec", "dense 1682->500 fwd+bwd",
                    "U-AutoRec-shaped dense encoder, full batch 943", 943, 1682, 500, &r);
        bench_dense("autorec", "dense 500->1682 fwd+bwd",
                    "U-AutoRec-shaped dense decoder, full batch 943", 943, 500, 1682, &r);
    }
    if (!only || strcmp(only, "models") == 0) {
        recnn_dataset *d = load_ml100k();
        if (d) {
            bench_autorec_scores(d, seed, &r);
            bench_ease(d);
            recnn_dataset_free(d);
        } else {
            printf("{\"bench\":\"bench_nn\",\"error\":\"no data: %s\"}\n", recnn_last_error());
        }
    }
    if (!only || strcmp(only, "sparse") == 0)
        bench_sparse(943, 1682, 500, 0.063, &r);
    return 0;
}
