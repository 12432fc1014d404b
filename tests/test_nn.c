/* Neural building blocks: every layer, activation and loss against central
 * finite differences, plus forward identities (sparse == dense, masked ==
 * full at the positions, touched-row lists, dropout statistics).
 *
 * Gradient check: the scalar L = sum_k c_k y_k (fixed random c, summed in
 * double) is differentiated numerically with a central difference of step
 * EPS = 1e-3 on each input/parameter element and compared with the
 * analytic gradient from backward (with gy = c).  Tolerance (float
 * arithmetic): |analytic - numeric| <= RTOL * max(|analytic|, |numeric|)
 * + ATOL with RTOL = 1e-2, ATOL = 2e-3.  Inputs are kept >= 0.1 away from
 * the kinks of relu-like functions. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

#define EPS 1e-3f
#define RTOL 1e-2
#define ATOL 2e-3

static recnn_rng R;

static void fill_uniform(float *a, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * recnn__rng_uniformf(&R);
}

/* moves values at least `gap` away from each kink */
static void avoid_kinks(float *a, int64_t n, const float *kinks, int nk, float gap)
{
    for (int64_t i = 0; i < n; i++)
        for (int pass = 0; pass < 4; pass++)
            for (int k = 0; k < nk; k++)
                if (fabsf(a[i] - kinks[k]) < gap)
                    a[i] = kinks[k] + (a[i] >= kinks[k] ? gap : -gap) * 1.5f;
}

static double dotc(const float *y, const float *c, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)y[i] * c[i];
    return s;
}

typedef double (*objective)(void *ctx);

/* Compares analytic gradient ga of buffer buf[0..n) with the numeric one. */
static int check_grad(const char *what, objective f, void *ctx, float *buf, int64_t n,
                      const float *ga)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = buf[i];
        buf[i] = v + EPS;
        double lp = f(ctx);
        buf[i] = v - EPS;
        double lm = f(ctx);
        buf[i] = v;
        double num = (lp - lm) / (2.0 * (double)EPS);
        double a = ga[i];
        double tol = RTOL * fmax(fabs(a), fabs(num)) + ATOL;
        if (!(fabs(a - num) <= tol)) {
            if (bad < 5)
                fprintf(stderr, "%s[%lld]: analytic %.6g numeric %.6g\n", what, (long long)i,
                        a, num);
            bad++;
        }
    }
    return bad;
}

/* ---- dense-input layers ------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    int64_t n;
    float *x, *y, *c;
} dctx;

static double dense_obj(void *p)
{
    dctx *d = p;
    recnn__layer_forward(d->l, d->n, d->x, d->y, 1);
    return dotc(d->y, d->c, d->n * d->l->out_dim);
}

/* Checks gx and every parameter gradient (plus the shared W of a tied
 * layer) of a dense-input layer. */
static void gradcheck_dense_layer(recnn__layer *l, int64_t n, const char *name,
                                  const float *kinks, int nk)
{
    dctx d = {l, n, NULL, NULL, NULL};
    int64_t di = l->in_dim, dout = l->out_dim;
    d.x = malloc(sizeof(float) * (size_t)(n * di));
    d.y = malloc(sizeof(float) * (size_t)(n * dout));
    d.c = malloc(sizeof(float) * (size_t)(n * dout));
    float *gx = malloc(sizeof(float) * (size_t)(n * di));
    fill_uniform(d.x, n * di, -2.0f, 2.0f);
    if (nk)
        avoid_kinks(d.x, n * di, kinks, nk, 0.1f);
    fill_uniform(d.c, n * dout, -1.0f, 1.0f);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__layer_forward(l, n, d.x, d.y, 1), RECNN_OK);
    ck_assert_int_eq(recnn__layer_backward(l, n, d.x, d.y, d.c, gx), RECNN_OK);
    char what[64];
    snprintf(what, sizeof what, "%s dx", name);
    ck_assert_int_eq(check_grad(what, dense_obj, &d, d.x, n * di, gx), 0);
    for (int i = 0; i < l->n_params; i++) {
        recnn__param *p = &l->params[i];
        float *g = malloc(sizeof(float) * (size_t)p->count);
        memcpy(g, p->g, sizeof(float) * (size_t)p->count);
        snprintf(what, sizeof what, "%s d%s", name, p->name);
        ck_assert_int_eq(check_grad(what, dense_obj, &d, p->w, p->count, g), 0);
        free(g);
    }
    if (l->tied) {
        recnn__param *p = l->pw;
        snprintf(what, sizeof what, "%s dW(tied)", name);
        float *g = malloc(sizeof(float) * (size_t)p->count);
        memcpy(g, p->g, sizeof(float) * (size_t)p->count);
        ck_assert_int_eq(check_grad(what, dense_obj, &d, p->w, p->count, g), 0);
        free(g);
    }
    free(d.x);
    free(d.y);
    free(d.c);
    free(gx);
}

static void init_small(recnn__layer *l)
{
    ck_assert_int_eq(recnn__layer_init(l, RECNN__INIT_XAVIER_UNIFORM, 1.0f, &R), RECNN_OK);
    for (int i = 0; i < l->n_params; i++)
        if (strcmp(l->params[i].name, "b") == 0)
            fill_uniform(l->params[i].w, l->params[i].count, -0.5f, 0.5f);
}

START_TEST(test_grad_dense)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__dense_create(&l, 5, 4, 1, 8), RECNN_OK);
    init_small(l);
    gradcheck_dense_layer(l, 3, "dense", NULL, 0);
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__dense_create(&l, 4, 6, 0, 8), RECNN_OK);
    init_small(l);
    ck_assert_int_eq(l->n_params, 1);
    gradcheck_dense_layer(l, 2, "dense nobias", NULL, 0);
    recnn__layer_free(l);
    /* masked-output layer used in full, W [out x in] */
    ck_assert_int_eq(recnn__masked_create(&l, 4, 5, 1, 8), RECNN_OK);
    init_small(l);
    gradcheck_dense_layer(l, 3, "masked(full)", NULL, 0);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_dense_forward_values)
{
    /* y = x W + b with W [in x out]: one hand-computed case */
    recnn__layer *l;
    ck_assert_int_eq(recnn__dense_create(&l, 2, 3, 1, 4), RECNN_OK);
    float W[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0.5f, -1, 0};
    memcpy(l->pw->w, W, sizeof W);
    memcpy(l->pb->w, b, sizeof b);
    float x[4] = {1, -1, 2, 0.5f}, y[6];
    ck_assert_int_eq(recnn__layer_forward(l, 2, x, y, 0), RECNN_OK);
    float want[6] = {1 - 4 + 0.5f, 2 - 5 - 1, 3 - 6, 2 + 2 + 0.5f, 4 + 2.5f - 1, 6 + 3};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], want[i], 1e-5f);
    /* too large a batch is refused */
    ck_assert_int_eq(recnn__layer_forward(l, 5, x, y, 0), RECNN_E_INVALID);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_grad_tied)
{
    recnn__layer *enc, *dec;
    ck_assert_int_eq(recnn__dense_create(&enc, 6, 3, 1, 8), RECNN_OK);
    init_small(enc);
    ck_assert_int_eq(recnn__tied_create(&dec, enc, 1, 8), RECNN_OK);
    ck_assert_int_eq(dec->in_dim, 3);
    ck_assert_int_eq(dec->out_dim, 6);
    ck_assert_ptr_eq(dec->pw, enc->pw);
    fill_uniform(dec->pb->w, 6, -0.5f, 0.5f);
    gradcheck_dense_layer(dec, 3, "tied", NULL, 0);
    /* the decoder lists only its bias; the shared W is the encoder's */
    recnn__param *ps[4];
    ck_assert_int_eq(recnn__layer_params(dec, ps, 4), 1);
    ck_assert_str_eq(ps[0]->name, "b");
    recnn__layer_free(dec);
    recnn__layer_free(enc);
}
END_TEST

/* ---- activations ------------------------------------------------------------ */

START_TEST(test_grad_activations)
{
    const float kink0[1] = {0.0f};
    for (int act = RECNN__ACT_IDENTITY; act <= RECNN__ACT_SOFTMAX; act++) {
        recnn__layer *l;
        ck_assert_int_eq(recnn__act_create(&l, act, 5, -1.0f, 4), RECNN_OK);
        gradcheck_dense_layer(l, 3, recnn__act_name(act), kink0, 1);
        recnn__layer_free(l);
    }
    /* non-default alphas */
    recnn__layer *l;
    ck_assert_int_eq(recnn__act_create(&l, RECNN__ACT_LEAKY_RELU, 4, 0.2f, 2), RECNN_OK);
    gradcheck_dense_layer(l, 2, "leaky0.2", kink0, 1);
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__act_create(&l, RECNN__ACT_ELU, 4, 0.5f, 2), RECNN_OK);
    gradcheck_dense_layer(l, 2, "elu0.5", kink0, 1);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_activation_values)
{
    float x[8] = {-3, -1, -0.5f, 0, 0.5f, 1, 2, 10}, y[8];
    recnn__act_forward(RECNN__ACT_SIGMOID, 0, 1, 8, x, y);
    ck_assert_float_eq_tol(y[3], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(y[5], 1.0f / (1.0f + expf(-1.0f)), 1e-6f);
    recnn__act_forward(RECNN__ACT_SELU, 0, 1, 8, x, y);
    ck_assert_float_eq_tol(y[6], 2.0f * 1.0507009873554805f, 1e-5f);
    ck_assert_float_eq_tol(y[1], 1.0507009873554805f * 1.6732632423543772f * (expf(-1) - 1),
                           1e-5f);
    recnn__act_forward(RECNN__ACT_LEAKY_RELU, 0.01f, 1, 8, x, y);
    ck_assert_float_eq_tol(y[0], -0.03f, 1e-7f);
    recnn__act_forward(RECNN__ACT_ELU, 1.0f, 1, 8, x, y);
    ck_assert_float_eq_tol(y[1], expf(-1) - 1, 1e-6f);
    /* softmax rows sum to one and are stable for large inputs */
    float z[6] = {1000, 1001, 1002, -5, 0, 5}, s[6];
    recnn__act_forward(RECNN__ACT_SOFTMAX, 0, 2, 3, z, s);
    for (int r = 0; r < 2; r++) {
        ck_assert(isfinite(s[3 * r]));
        ck_assert_float_eq_tol(s[3 * r] + s[3 * r + 1] + s[3 * r + 2], 1.0f, 1e-6f);
    }
    ck_assert_float_eq_tol(s[2], 1.0f / (1.0f + expf(-1) + expf(-2)), 1e-6f);
    /* in place works for the fixed activations */
    float w[3] = {-1, 0.5f, 2};
    recnn__act_forward(RECNN__ACT_TANH, 0, 1, 3, w, w);
    ck_assert_float_eq_tol(w[2], tanhf(2), 1e-7f);
    ck_assert_int_eq(recnn__act_from_name("selu"), RECNN__ACT_SELU);
    ck_assert_int_eq(recnn__act_from_name("nope"), -1);
}
END_TEST

START_TEST(test_grad_apl)
{
    /* per unit and shared, 2 hinges, non-trivial slopes */
    for (int per_unit = 0; per_unit <= 1; per_unit++) {
        recnn__layer *l;
        ck_assert_int_eq(recnn__apl_create(&l, 4, 2, per_unit, 0.0f, 8), RECNN_OK);
        ck_assert_int_eq(l->n_params, 2);
        fill_uniform(l->params[0].w, l->params[0].count, -0.8f, 0.8f);
        /* b_s spread over [-1, 1] at creation: the kinks are 0, -1, 1 (+-
         * per-unit offsets we add here, kept away from the inputs below) */
        float kinks[3] = {0.0f, -1.0f, 1.0f};
        gradcheck_dense_layer(l, 3, per_unit ? "apl/unit" : "apl/shared", kinks, 3);
        recnn__layer_free(l);
    }
}
END_TEST

START_TEST(test_apl_values)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__apl_create(&l, 2, 1, 1, -0.25f, 4), RECNN_OK);
    /* one hinge at 0 with a = -0.25: a leaky ReLU of slope 0.25 */
    float x[4] = {-2, 3, 0.5f, -0.4f}, y[4];
    ck_assert_int_eq(recnn__layer_forward(l, 2, x, y, 0), RECNN_OK);
    ck_assert_float_eq_tol(y[0], -0.5f, 1e-6f);
    ck_assert_float_eq_tol(y[1], 3.0f, 1e-6f);
    ck_assert_float_eq_tol(y[3], -0.1f, 1e-6f);
    /* h(x) = max(0,x) + a1 max(0, -x + b1) + a2 max(0, -x + b2) */
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__apl_create(&l, 1, 2, 0, 0.0f, 4), RECNN_OK);
    l->params[0].w[0] = 0.5f;  /* a1 */
    l->params[0].w[1] = -2.0f; /* a2 */
    l->params[1].w[0] = -1.0f; /* b1 */
    l->params[1].w[1] = 1.0f;  /* b2 */
    float x2[3] = {-3, 0.5f, 2}, y2[3];
    ck_assert_int_eq(recnn__layer_forward(l, 3, x2, y2, 0), RECNN_OK);
    ck_assert_float_eq_tol(y2[0], 0 + 0.5f * 2 - 2.0f * 4, 1e-6f);
    ck_assert_float_eq_tol(y2[1], 0.5f + 0 - 2.0f * 0.5f, 1e-6f);
    ck_assert_float_eq_tol(y2[2], 2.0f, 1e-6f);
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__apl_create(&l, 1, 0, 0, 0.0f, 4), RECNN_E_INVALID);
}
END_TEST

/* ---- dropout -------------------------------------------------------------------- */

START_TEST(test_grad_dropout)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__dropout_create(&l, 6, 0.4f, 7, 4), RECNN_OK);
    recnn__dropout_fix_mask(l, 1);
    gradcheck_dense_layer(l, 3, "dropout", NULL, 0);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_dropout_stats)
{
    recnn__layer *l;
    int64_t n = 200, d = 100;
    ck_assert_int_eq(recnn__dropout_create(&l, d, 0.3f, 11, n), RECNN_OK);
    float *x = malloc(sizeof(float) * (size_t)(n * d)), *y = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n * d; i++)
        x[i] = 1.0f;
    ck_assert_int_eq(recnn__layer_forward(l, n, x, y, 1), RECNN_OK);
    int64_t zeros = 0;
    double sum = 0;
    for (int64_t i = 0; i < n * d; i++) {
        zeros += y[i] == 0.0f;
        sum += y[i];
        ck_assert(y[i] == 0.0f || fabsf(y[i] - 1.0f / 0.7f) < 1e-6f);
    }
    /* 20000 draws: drop rate within 0.3 +- 0.015, mean within 1 +- 0.03 */
    ck_assert(fabs((double)zeros / (double)(n * d) - 0.3) < 0.015);
    ck_assert(fabs(sum / (double)(n * d) - 1.0) < 0.03);
    /* inference: identity */
    ck_assert_int_eq(recnn__layer_forward(l, n, x, y, 0), RECNN_OK);
    for (int64_t i = 0; i < n * d; i++)
        ck_assert_float_eq(y[i], 1.0f);
    free(x);
    free(y);
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__dropout_create(&l, 4, 1.0f, 1, 4), RECNN_E_INVALID);
}
END_TEST

/* ---- merges ---------------------------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    int64_t n;
    float *a, *b, *y, *c;
} mctx;

static double merge_obj(void *p)
{
    mctx *m = p;
    recnn__merge_forward(m->l, m->n, m->a, m->b, m->y);
    return dotc(m->y, m->c, m->n * m->l->out_dim);
}

static void gradcheck_merge(recnn__layer *l, int64_t n, const char *name)
{
    mctx m = {l, n, NULL, NULL, NULL, NULL};
    int64_t da = l->in_dim, db = l->in_dim2, D = l->out_dim;
    m.a = malloc(sizeof(float) * (size_t)(n * da));
    m.b = malloc(sizeof(float) * (size_t)(n * db));
    m.y = malloc(sizeof(float) * (size_t)(n * D));
    m.c = malloc(sizeof(float) * (size_t)(n * D));
    float *ga = malloc(sizeof(float) * (size_t)(n * da)), *gb = malloc(sizeof(float) * (size_t)(n * db));
    fill_uniform(m.a, n * da, -1.5f, 1.5f);
    fill_uniform(m.b, n * db, -1.5f, 1.5f);
    fill_uniform(m.c, n * D, -1.0f, 1.0f);
    ck_assert_int_eq(recnn__merge_forward(l, n, m.a, m.b, m.y), RECNN_OK);
    ck_assert_int_eq(recnn__merge_backward(l, n, m.a, m.b, m.c, ga, gb), RECNN_OK);
    char what[64];
    snprintf(what, sizeof what, "%s da", name);
    ck_assert_int_eq(check_grad(what, merge_obj, &m, m.a, n * da, ga), 0);
    snprintf(what, sizeof what, "%s db", name);
    ck_assert_int_eq(check_grad(what, merge_obj, &m, m.b, n * db, gb), 0);
    free(m.a);
    free(m.b);
    free(m.y);
    free(m.c);
    free(ga);
    free(gb);
}

START_TEST(test_grad_merges)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__concat_create(&l, 3, 2, 4), RECNN_OK);
    ck_assert_int_eq(l->out_dim, 5);
    gradcheck_merge(l, 3, "concat");
    float a[2] = {1, 2}, b[4] = {3, 4, 5, 6}, y[6];
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__concat_create(&l, 1, 2, 4), RECNN_OK);
    ck_assert_int_eq(recnn__merge_forward(l, 2, a, b, y), RECNN_OK);
    float want[6] = {1, 3, 4, 2, 5, 6};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(y[i], want[i]);
    recnn__layer_free(l);
    ck_assert_int_eq(recnn__product_create(&l, 4, 4), RECNN_OK);
    gradcheck_merge(l, 3, "product");
    recnn__layer_free(l);
}
END_TEST

/* ---- sparse-input layer -------------------------------------------------------------- */

/* A random CSR of n rows x d cols with about p*d entries per row. */
typedef struct {
    int64_t *ptr;
    int32_t *idx;
    float *val;
    int64_t nnz;
} csr_buf;

static csr_buf make_csr(int64_t n, int64_t d, double p)
{
    csr_buf c;
    c.ptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
    c.idx = malloc(sizeof(int32_t) * (size_t)(n * d + 1));
    c.val = malloc(sizeof(float) * (size_t)(n * d + 1));
    c.ptr[0] = 0;
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++) {
        for (int64_t j = 0; j < d; j++)
            if (recnn__rng_uniform(&R) < p) {
                c.idx[k] = (int32_t)j;
                c.val[k] = 1.0f + (float)recnn__rng_below(&R, 5);
                k++;
            }
        c.ptr[r + 1] = k;
    }
    c.nnz = k;
    return c;
}

static void free_csr(csr_buf *c)
{
    free(c->ptr);
    free(c->idx);
    free(c->val);
}

typedef struct {
    recnn__layer *l;
    recnn__csr x;
    float *y, *c;
} sctx;

static double sparse_obj(void *p)
{
    sctx *s = p;
    recnn__sparse_forward(s->l, &s->x, s->y);
    return dotc(s->y, s->c, s->x.n * s->l->out_dim);
}

START_TEST(test_grad_sparse_input)
{
    int64_t n = 4, d = 7, U = 3;
    csr_buf cb = make_csr(n, d, 0.4);
    recnn__layer *l;
    ck_assert_int_eq(recnn__sparse_create(&l, d, U, 1, 8), RECNN_OK);
    init_small(l);
    sctx s = {l, {n, cb.ptr, cb.idx, cb.val, NULL, 0}, NULL, NULL};
    s.y = malloc(sizeof(float) * (size_t)(n * U));
    s.c = malloc(sizeof(float) * (size_t)(n * U));
    fill_uniform(s.c, n * U, -1, 1);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__sparse_forward(l, &s.x, s.y), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_backward(l, &s.x, s.c), RECNN_OK);
    for (int i = 0; i < l->n_params; i++) {
        recnn__param *p = &l->params[i];
        float *g = malloc(sizeof(float) * (size_t)p->count);
        memcpy(g, p->g, sizeof(float) * (size_t)p->count);
        ck_assert_int_eq(check_grad(p->name, sparse_obj, &s, p->w, p->count, g), 0);
        free(g);
    }
    /* touched rows are exactly the distinct input columns */
    recnn__param *pw = l->pw;
    ck_assert(recnn__param_sparse(pw));
    int seen[7] = {0};
    for (int64_t k = 0; k < cb.nnz; k++)
        seen[cb.idx[k]] = 1;
    int distinct = 0;
    for (int j = 0; j < 7; j++)
        distinct += seen[j];
    ck_assert_int_eq(pw->n_rows, distinct);
    for (int64_t k = 0; k < pw->n_rows; k++)
        ck_assert(seen[pw->rows[k]]);
    /* zero_grad clears just those rows and the tracking */
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(pw->n_rows, 0);
    for (int64_t i = 0; i < pw->count; i++)
        ck_assert_float_eq(pw->g[i], 0.0f);
    free(s.y);
    free(s.c);
    free_csr(&cb);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_sparse_equals_dense)
{
    /* sparse forward/backward == dense layer on the densified batch, also
     * through a row selection (sel) and with implicit values */
    int64_t n = 9, d = 40, U = 33;
    csr_buf cb = make_csr(n, d, 0.15);
    recnn__layer *ls, *ld;
    ck_assert_int_eq(recnn__sparse_create(&ls, d, U, 1, 16), RECNN_OK);
    ck_assert_int_eq(recnn__dense_create(&ld, d, U, 1, 16), RECNN_OK);
    init_small(ls);
    memcpy(ld->pw->w, ls->pw->w, sizeof(float) * (size_t)(d * U));
    memcpy(ld->pb->w, ls->pb->w, sizeof(float) * (size_t)U);
    int32_t sel[5] = {8, 2, 2, 0, 5};
    for (int implicit = 0; implicit <= 1; implicit++) {
        recnn__csr x = {5, cb.ptr, cb.idx, implicit ? NULL : cb.val, sel, 0};
        float *X = calloc((size_t)(5 * d), sizeof(float));
        for (int r = 0; r < 5; r++)
            for (int64_t k = cb.ptr[sel[r]]; k < cb.ptr[sel[r] + 1]; k++)
                X[r * d + cb.idx[k]] = implicit ? 1.0f : cb.val[k];
        float ys[5 * 33], yd[5 * 33], gy[5 * 33];
        ck_assert_int_eq(recnn__sparse_forward(ls, &x, ys), RECNN_OK);
        ck_assert_int_eq(recnn__layer_forward(ld, 5, X, yd, 0), RECNN_OK);
        for (int i = 0; i < 5 * 33; i++)
            ck_assert_float_eq_tol(ys[i], yd[i], 1e-4f);
        /* the activation folded into the pass: same bits as a second pass */
        float ya[5 * 33], yb[5 * 33];
        const int acts[3] = {RECNN__ACT_SIGMOID, RECNN__ACT_SELU, RECNN__ACT_TANH};
        for (int a = 0; a < 3; a++) {
            ck_assert_int_eq(recnn__sparse_forward_act(ls, &x, acts[a], 0.0f, ya), RECNN_OK);
            recnn__act_forward(acts[a], 0.0f, 5, U, ys, yb);
            for (int i = 0; i < 5 * 33; i++)
                ck_assert_float_eq(ya[i], yb[i]);
        }
        fill_uniform(gy, 5 * U, -1, 1);
        recnn__layer_zero_grad(ls);
        recnn__layer_zero_grad(ld);
        ck_assert_int_eq(recnn__sparse_backward(ls, &x, gy), RECNN_OK);
        ck_assert_int_eq(recnn__layer_backward(ld, 5, X, yd, gy, NULL), RECNN_OK);
        for (int64_t i = 0; i < d * U; i++)
            ck_assert_float_eq_tol(ls->pw->g[i], ld->pw->g[i], 1e-4f);
        for (int64_t i = 0; i < U; i++)
            ck_assert_float_eq_tol(ls->pb->g[i], ld->pb->g[i], 1e-4f);
        ck_assert_int_eq(recnn__csr_nnz(&x), (cb.ptr[9] - cb.ptr[8]) + 2 * (cb.ptr[3] - cb.ptr[2]) +
                                                 (cb.ptr[1] - cb.ptr[0]) + (cb.ptr[6] - cb.ptr[5]));
        free(X);
    }
    /* out-of-range column refused */
    int64_t p2[2] = {0, 1};
    int32_t i2[1] = {40};
    recnn__csr bad = {1, p2, i2, NULL, NULL, 0};
    float yb[33];
    ck_assert_int_eq(recnn__sparse_forward(ls, &bad, yb), RECNN_E_INVALID);
    /* a column bound wider than the layer does not skip the scan */
    bad.cols_ok = 41;
    ck_assert_int_eq(recnn__sparse_forward(ls, &bad, yb), RECNN_E_INVALID);
    recnn__layer_free(ls);
    recnn__layer_free(ld);
    free_csr(&cb);
}
END_TEST

/* ---- masked output --------------------------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    recnn__csr pos;
    float *h, *y, *c;
    int64_t nnz;
} mkctx;

static double masked_obj(void *p)
{
    mkctx *m = p;
    recnn__masked_forward(m->l, m->h, &m->pos, m->y);
    return dotc(m->y, m->c, m->nnz);
}

static void gradcheck_masked(recnn__layer *l, const char *name)
{
    int64_t n = 4, D = l->in_dim, O = l->out_dim;
    csr_buf cb = make_csr(n, O, 0.5);
    mkctx m = {l, {n, cb.ptr, cb.idx, NULL, NULL, 0}, NULL, NULL, NULL, cb.nnz};
    m.h = malloc(sizeof(float) * (size_t)(n * D));
    m.y = malloc(sizeof(float) * (size_t)(cb.nnz + 1));
    m.c = malloc(sizeof(float) * (size_t)(cb.nnz + 1));
    float *gh = malloc(sizeof(float) * (size_t)(n * D));
    fill_uniform(m.h, n * D, -1, 1);
    fill_uniform(m.c, cb.nnz, -1, 1);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__masked_forward(l, m.h, &m.pos, m.y), RECNN_OK);
    /* equals the full product at the positions */
    float *full = malloc(sizeof(float) * (size_t)(n * O));
    ck_assert_int_eq(recnn__layer_forward(l, n, m.h, full, 0), RECNN_OK);
    for (int64_t r = 0, k = 0; r < n; r++)
        for (int64_t q = cb.ptr[r]; q < cb.ptr[r + 1]; q++, k++)
            ck_assert_float_eq_tol(m.y[k], full[r * O + cb.idx[q]], 1e-5f);
    ck_assert_int_eq(recnn__masked_backward(l, m.h, &m.pos, m.c, gh), RECNN_OK);
    char what[64];
    snprintf(what, sizeof what, "%s dh", name);
    ck_assert_int_eq(check_grad(what, masked_obj, &m, m.h, n * D, gh), 0);
    recnn__param *ps[3] = {l->pw, l->pb, NULL};
    for (int i = 0; i < 2 && ps[i]; i++) {
        float *g = malloc(sizeof(float) * (size_t)ps[i]->count);
        memcpy(g, ps[i]->g, sizeof(float) * (size_t)ps[i]->count);
        snprintf(what, sizeof what, "%s d%s", name, ps[i]->name);
        ck_assert_int_eq(check_grad(what, masked_obj, &m, ps[i]->w, ps[i]->count, g), 0);
        free(g);
    }
    /* W's touched rows are the requested output columns */
    if (l->pw->mark) {
        int seen[64] = {0}, distinct = 0;
        for (int64_t k = 0; k < cb.nnz; k++)
            seen[cb.idx[k]] = 1;
        for (int j = 0; j < O; j++)
            distinct += seen[j];
        ck_assert_int_eq(l->pw->n_rows, distinct);
        ck_assert(recnn__param_sparse(l->pw));
    }
    free(full);
    free(m.h);
    free(m.y);
    free(m.c);
    free(gh);
    free_csr(&cb);
}

START_TEST(test_grad_masked)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__masked_create(&l, 5, 9, 1, 8), RECNN_OK);
    init_small(l);
    fill_uniform(l->pb->w, 9, -0.5f, 0.5f);
    gradcheck_masked(l, "masked");
    recnn__layer_free(l);
    /* tied to a sparse-input encoder (AutoRec with tied weights): the
     * decoder's masked pass touches the encoder's tracked W */
    recnn__layer *enc, *dec;
    ck_assert_int_eq(recnn__sparse_create(&enc, 9, 5, 1, 8), RECNN_OK);
    init_small(enc);
    ck_assert_int_eq(recnn__tied_create(&dec, enc, 1, 8), RECNN_OK);
    ck_assert(dec->masked);
    fill_uniform(dec->pb->w, 9, -0.5f, 0.5f);
    gradcheck_masked(dec, "tied-masked");
    recnn__layer_free(dec);
    recnn__layer_free(enc);
    /* a dense-layout layer cannot do masked passes */
    ck_assert_int_eq(recnn__dense_create(&l, 5, 9, 1, 8), RECNN_OK);
    int64_t p[2] = {0, 1};
    int32_t i[1] = {0};
    recnn__csr pos = {1, p, i, NULL, NULL, 0};
    float h[5] = {0}, y[1];
    ck_assert_int_eq(recnn__masked_forward(l, h, &pos, y), RECNN_E_INVALID);
    recnn__layer_free(l);
}
END_TEST

/* ---- embedding ------------------------------------------------------------------- */

typedef struct {
    recnn__layer *l;
    int64_t n;
    const int32_t *ids;
    float *y, *c;
} ectx;

static double emb_obj(void *p)
{
    ectx *e = p;
    recnn__embedding_forward(e->l, e->n, e->ids, e->y);
    return dotc(e->y, e->c, e->n * e->l->out_dim);
}

START_TEST(test_grad_embedding)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__embedding_create(&l, 6, 3, 8), RECNN_OK);
    init_small(l);
    int32_t ids[5] = {4, 1, 4, 0, 4}; /* repeated ids accumulate */
    ectx e = {l, 5, ids, NULL, NULL};
    float y[15], c[15];
    e.y = y;
    e.c = c;
    fill_uniform(c, 15, -1, 1);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__embedding_forward(l, 5, ids, y), RECNN_OK);
    ck_assert_int_eq(recnn__embedding_backward(l, 5, ids, c), RECNN_OK);
    recnn__param *p = &l->params[0];
    float g[18];
    memcpy(g, p->g, sizeof g);
    ck_assert_int_eq(check_grad("embedding", emb_obj, &e, p->w, 18, g), 0);
    ck_assert_int_eq(p->n_rows, 3);
    ck_assert_int_eq(p->rows[0], 4);
    ck_assert_int_eq(p->rows[1], 1);
    ck_assert_int_eq(p->rows[2], 0);
    int32_t bad[1] = {6};
    ck_assert_int_eq(recnn__embedding_forward(l, 1, bad, y), RECNN_E_INVALID);
    recnn__layer_free(l);
}
END_TEST

/* ---- losses ------------------------------------------------------------------------- */

typedef struct {
    int which;
    int64_t n;
    float *p, *t, *w, *g;
    recnn__csr obs;
    int64_t dim;
} lctx;

static double loss_eval(lctx *c, float *grad)
{
    switch (c->which) {
    case 0: return recnn__loss_mse(c->n, c->p, c->t, c->w, 0.7f, grad);
    case 1: return recnn__loss_masked_mse(c->dim, c->p, &c->obs, 0.0f, 0.0f, 0.5f, grad);
    case 2: return recnn__loss_masked_mse(c->dim, c->p, &c->obs, 0.3f, 0.1f, 0.5f, grad);
    case 3: return recnn__loss_bce_logits(c->n, c->p, c->t, c->w, 0.9f, grad);
    case 4:
        if (grad)
            memset(grad, 0, sizeof(float) * (size_t)c->n);
        return recnn__penalty_l2(c->n, c->p, 0.3f, grad);
    case 5:
        if (grad)
            memset(grad, 0, sizeof(float) * (size_t)c->n);
        return recnn__penalty_elastic(c->n, c->p, 0.3f, 0.4f, grad);
    case 6:
        if (grad)
            memset(grad, 0, sizeof(float) * (size_t)c->n);
        return recnn__penalty_range(c->n, c->p, 1.0f, 5.0f, 0.2f, 0, grad);
    default:
        if (grad)
            memset(grad, 0, sizeof(float) * (size_t)c->n);
        return recnn__penalty_range(c->n, c->p, 1.0f, 5.0f, 0.2f, 1, grad);
    }
}

static double loss_obj(void *p) { return loss_eval(p, NULL); }

START_TEST(test_grad_losses)
{
    const int64_t n = 12, dim = 4; /* 3 rows x 4 for the masked variants */
    float p[12], t[12], w[12], g[12];
    int64_t ptr[4] = {0, 2, 2, 5};
    int32_t idx[5] = {0, 3, 1, 2, 3};
    float val[5] = {4, 1, 5, 3, 2};
    static const char *names[] = {"mse", "masked_mse", "masked_mse+unobs", "bce", "l2",
                                  "elastic", "range", "range(literal)"};
    for (int which = 0; which < 8; which++) {
        lctx c = {which, n, p, t, w, g, {3, ptr, idx, val, NULL, 0}, dim};
        if (which >= 6) {
            fill_uniform(p, n, -2.0f, 8.0f);
            float kinks[2] = {1.0f, 5.0f};
            avoid_kinks(p, n, kinks, 2, 0.1f);
        } else {
            fill_uniform(p, n, -3.0f, 3.0f);
        }
        if (which == 5) {
            float k0[1] = {0.0f};
            avoid_kinks(p, n, k0, 1, 0.1f);
        }
        fill_uniform(t, n, 0.0f, 1.0f);
        fill_uniform(w, n, 0.2f, 2.0f);
        loss_eval(&c, g);
        ck_assert_int_eq(check_grad(names[which], loss_obj, &c, p, n, g), 0);
    }
}
END_TEST

START_TEST(test_loss_values)
{
    /* masked MSE counts observed entries only (unobs_w = 0) */
    float y[6] = {1, 2, 3, 4, 5, 6}, g[6];
    int64_t ptr[3] = {0, 1, 3};
    int32_t idx[3] = {2, 0, 1};
    float val[3] = {2, 5, 5};
    recnn__csr obs = {2, ptr, idx, val, NULL, 0};
    double l = recnn__loss_masked_mse(3, y, &obs, 0.0f, 0.0f, 1.0f, g);
    ck_assert(fabs(l - (1.0 + 1.0 + 0.0)) < 1e-9);
    ck_assert_float_eq(g[0], 0.0f);
    ck_assert_float_eq(g[2], 2.0f);
    ck_assert_float_eq(g[3], -2.0f);
    /* with unobserved weight 0.5 toward 0: adds 0.5*(1 + 4 + 36) */
    l = recnn__loss_masked_mse(3, y, &obs, 0.5f, 0.0f, 1.0f, NULL);
    ck_assert(fabs(l - (2.0 + 0.5 * 41.0)) < 1e-6);
    /* BCE: stable for huge logits, log 2 at 0 */
    float z[3] = {0, 100, -100}, tt[3] = {1, 1, 1}, gb[3];
    l = recnn__loss_bce_logits(1, z, tt, NULL, 1.0f, gb);
    ck_assert(fabs(l - log(2.0)) < 1e-7);
    ck_assert_float_eq_tol(gb[0], -0.5f, 1e-7f);
    l = recnn__loss_bce_logits(3, z, tt, NULL, 1.0f, gb);
    ck_assert(isfinite(l));
    ck_assert(fabs(l - (log(2.0) + 100.0)) < 1e-4);
    ck_assert_float_eq_tol(gb[2], -1.0f, 1e-6f);
    /* range penalty: distance form and literal form */
    float r[4] = {0.5f, 3, 6, 5}, gr[4] = {0, 0, 0, 0};
    l = recnn__penalty_range(4, r, 1, 5, 2.0f, 0, gr);
    ck_assert(fabs(l - 2.0 * (0.25 + 1.0)) < 1e-6);
    ck_assert_float_eq_tol(gr[0], -2.0f, 1e-6f);
    ck_assert_float_eq(gr[1], 0.0f);
    l = recnn__penalty_range(4, r, 1, 5, 2.0f, 1, NULL);
    ck_assert(fabs(l - 2.0 * (0.25 + 36.0)) < 1e-5);
    /* elastic net with l1 = 1 is lasso, l1 = 0 is L2 */
    float wv[2] = {-2, 3};
    ck_assert(fabs(recnn__penalty_elastic(2, wv, 0.5f, 1.0f, NULL) - 2.5) < 1e-6);
    ck_assert(fabs(recnn__penalty_elastic(2, wv, 0.5f, 0.0f, NULL) -
                   recnn__penalty_l2(2, wv, 0.5f, NULL)) < 1e-6);
}
END_TEST

typedef struct {
    recnn__csr x;
    float *y;
} csrctx;

static double csr_obj(void *p)
{
    csrctx *c = p;
    return recnn__loss_mse_csr(&c->x, c->y, 0.3f, NULL);
}

START_TEST(test_loss_mse_csr)
{
    /* rows selected out of order: targets follow the batch order */
    int64_t ptr[4] = {10, 12, 12, 15};
    int32_t idx[15] = {0};
    float val[15] = {0};
    val[10] = 4;
    val[11] = 1;
    val[12] = 5;
    val[13] = 3;
    val[14] = 2;
    int32_t sel[3] = {2, 0, 1};
    recnn__csr x = {3, ptr, idx, val, sel, 0};
    float tv[5];
    ck_assert_int_eq(recnn__csr_gather(&x, tv), 5);
    const float want[5] = {5, 3, 2, 4, 1};
    for (int k = 0; k < 5; k++)
        ck_assert_float_eq(tv[k], want[k]);
    float y[5], g[5];
    fill_uniform(y, 5, 0, 6);
    double l = recnn__loss_mse_csr(&x, y, 0.3f, g);
    ck_assert(fabs(l - recnn__loss_mse(5, y, tv, NULL, 0.3f, NULL)) < 1e-9);
    csrctx c = {x, y};
    ck_assert_int_eq(check_grad("mse_csr", csr_obj, &c, y, 5, g), 0);
}
END_TEST

START_TEST(test_params_l2_lazy)
{
    /* sparse params: the L2 gradient is added on touched rows only */
    recnn__layer *l;
    ck_assert_int_eq(recnn__embedding_create(&l, 4, 2, 4), RECNN_OK);
    for (int i = 0; i < 8; i++)
        l->params[0].w[i] = (float)(i + 1);
    recnn__layer_zero_grad(l);
    int32_t ids[1] = {2};
    float gy[2] = {0, 0};
    ck_assert_int_eq(recnn__embedding_backward(l, 1, ids, gy), RECNN_OK);
    recnn__param *ps[1] = {&l->params[0]};
    double pen = recnn__params_l2(ps, 1, 0.5f);
    ck_assert(fabs(pen - 0.25 * (25 + 36)) < 1e-6);
    ck_assert_float_eq(l->params[0].g[4], 2.5f);
    ck_assert_float_eq(l->params[0].g[0], 0.0f);
    recnn__layer_free(l);
}
END_TEST

/* ---- initialisers -------------------------------------------------------------- */

START_TEST(test_init)
{
    int64_t n = 20000;
    float *w = malloc(sizeof(float) * (size_t)n);
    struct {
        int scheme;
        double var;
    } cases[] = {
        {RECNN__INIT_XAVIER_UNIFORM, 2.0 / (100 + 300)}, {RECNN__INIT_XAVIER_NORMAL, 2.0 / 400},
        {RECNN__INIT_HE_UNIFORM, 2.0 / 100},             {RECNN__INIT_HE_NORMAL, 2.0 / 100},
        {RECNN__INIT_LECUN_UNIFORM, 1.0 / 100},          {RECNN__INIT_LECUN_NORMAL, 1.0 / 100},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        recnn_rng r;
        recnn__rng_seed(&r, 5);
        ck_assert_int_eq(recnn__init_fill(w, n, cases[c].scheme, 100, 300, 0, &r), RECNN_OK);
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++) {
            s += w[i];
            s2 += (double)w[i] * w[i];
        }
        double var = s2 / n - (s / n) * (s / n);
        /* sample variance within 5 % of the target */
        ck_assert_msg(fabs(var / cases[c].var - 1.0) < 0.05, "scheme %d var %g want %g",
                      cases[c].scheme, var, cases[c].var);
    }
    recnn_rng r1, r2;
    recnn__rng_seed(&r1, 9);
    recnn__rng_seed(&r2, 9);
    float a[16], b[16];
    recnn__init_fill(a, 16, RECNN__INIT_UNIFORM, 1, 1, 0.1f, &r1);
    recnn__init_fill(b, 16, RECNN__INIT_UNIFORM, 1, 1, 0.1f, &r2);
    ck_assert_mem_eq(a, b, sizeof a);
    for (int i = 0; i < 16; i++)
        ck_assert(fabsf(a[i]) <= 0.1f);
    ck_assert_int_eq(recnn__init_fill(a, 16, 99, 1, 1, 0, &r1), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__init_from_name("lecun_normal"), RECNN__INIT_LECUN_NORMAL);
    free(w);
}
END_TEST

/* the public sequential net chains backward correctly: dense -> APL ->
 * dropout (frozen mask) -> decoder tied to the first layer -> sigmoid,
 * every parameter checked by finite differences (the tied W collects
 * both uses) */
typedef struct {
    recnn_net *net;
    int64_t n;
    float *x, *c;
} nctx;

static double net_obj(void *p)
{
    nctx *t = p;
    const float *y;
    recnn_net_forward(t->net, t->n, t->x, 1, &y);
    return dotc(y, t->c, t->n * 5);
}

START_TEST(test_grad_net_chain)
{
    const int64_t n = 3;
    recnn_net *net;
    recnn_layer *enc, *l;
    ck_assert_int_eq(recnn_net_create(&net, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_dense(&enc, 5, 4, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, enc), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_adaptive(&l, 4, 2, 1, 0.0f, 4), RECNN_OK);
    fill_uniform(l->params[0].w, l->params[0].count, -0.8f, 0.8f);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_dropout(&l, 4, 0.3f, 5, 4), RECNN_OK);
    recnn__dropout_fix_mask(l, 1);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_tied(&l, enc, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_activation(&l, RECNN_ACT_SIGMOID, 5, -1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_net_init(net, RECNN_INIT_XAVIER_UNIFORM, 1.0f, 8), RECNN_OK);
    float x[15], c[15];
    fill_uniform(x, 15, -1, 1);
    fill_uniform(c, 15, -1, 1);
    nctx t = {net, n, x, c};
    const float *y;
    /* keep the APL inputs (layer 0's outputs) 0.05 away from its kinks (0
     * and each unit's b_s): re-draw x until they are */
    recnn__layer *apl = recnn_net_layer(net, 1);
    for (int tries = 0;; tries++) {
        ck_assert_int_lt(tries, 100);
        ck_assert_int_eq(recnn_net_forward(net, n, x, 1, &y), RECNN_OK);
        const float *z = recnn_net_layer(net, 0)->y;
        int near = 0;
        for (int64_t i = 0; i < n * 4; i++) {
            int64_t j = i % 4;
            near |= fabsf(z[i]) < 0.05f;
            for (int sh = 0; sh < 2; sh++)
                near |= fabsf(z[i] - apl->params[1].w[sh * 4 + j]) < 0.05f;
        }
        if (!near)
            break;
        fill_uniform(x, 15, -1, 1);
    }
    recnn_net_zero_grad(net);
    ck_assert_int_eq(recnn_net_forward(net, n, x, 1, &y), RECNN_OK);
    ck_assert_int_eq(recnn_net_backward(net, n, c), RECNN_OK);
    int bad = 0;
    for (int li = 0; li < recnn_net_n_layers(net); li++) {
        recnn_layer *L = recnn_net_layer(net, li);
        for (int pi = 0; pi < recnn_layer_param_count(L); pi++) {
            float *w, *g;
            int64_t cnt;
            const char *name;
            recnn_layer_param(L, pi, &w, &g, &cnt, &name);
            float *ga = malloc(sizeof(float) * (size_t)cnt);
            memcpy(ga, g, sizeof(float) * (size_t)cnt);
            char what[64];
            snprintf(what, sizeof what, "net layer %d %s", li, name);
            bad += check_grad(what, net_obj, &t, w, cnt, ga);
            free(ga);
        }
    }
    ck_assert_int_eq(bad, 0);
    recnn_net_free(net);
}
END_TEST

START_TEST(test_empty_batches)
{
    /* n = 0 is a valid batch everywhere (a data split can leave one empty) */
    recnn__layer *d, *sp, *mk, *act, *emb;
    ck_assert_int_eq(recnn__dense_create(&d, 3, 2, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_create(&sp, 3, 2, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn__masked_create(&mk, 2, 3, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn__act_create(&act, RECNN__ACT_SOFTMAX, 3, -1, 4), RECNN_OK);
    ck_assert_int_eq(recnn__embedding_create(&emb, 3, 2, 4), RECNN_OK);
    float buf[8] = {0};
    int64_t ptr[1] = {0};
    recnn__csr x = {0, ptr, NULL, NULL, NULL, 0};
    ck_assert_int_eq(recnn__layer_forward(d, 0, NULL, NULL, 1), RECNN_OK);
    ck_assert_int_eq(recnn__layer_backward(d, 0, NULL, NULL, NULL, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_forward(sp, &x, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_backward(sp, &x, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__masked_forward(mk, NULL, &x, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__masked_backward(mk, NULL, &x, NULL, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__layer_forward(act, 0, buf, buf, 0), RECNN_OK);
    ck_assert_int_eq(recnn__embedding_forward(emb, 0, NULL, NULL), RECNN_OK);
    ck_assert_int_eq(recnn__embedding_backward(emb, 0, NULL, NULL), RECNN_OK);
    ck_assert(recnn__loss_mse_csr(&x, NULL, 1.0f, NULL) == 0.0);
    /* gradients stay zero */
    for (int i = 0; i < 2; i++)
        ck_assert_float_eq(sp->pb->g[i], 0.0f);
    recnn__layer_free(d);
    recnn__layer_free(sp);
    recnn__layer_free(mk);
    recnn__layer_free(act);
    recnn__layer_free(emb);
}
END_TEST

START_TEST(test_scatter_determinism)
{
    /* the unit-sliced scatter gives bit-identical gradients for 1 and 2
     * threads */
    int64_t n = 60, d = 300, U = 256;
    csr_buf cb = make_csr(n, d, 0.2);
    recnn__layer *l;
    ck_assert_int_eq(recnn__sparse_create(&l, d, U, 1, n), RECNN_OK);
    init_small(l);
    float *gy = malloc(sizeof(float) * (size_t)(n * U));
    fill_uniform(gy, n * U, -1, 1);
    recnn__csr x = {n, cb.ptr, cb.idx, cb.val, NULL, 0};
    float *g1 = malloc(sizeof(float) * (size_t)(d * U));
    int saved = recnn_get_num_threads();
    recnn_set_num_threads(1);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__sparse_backward(l, &x, gy), RECNN_OK);
    memcpy(g1, l->pw->g, sizeof(float) * (size_t)(d * U));
    recnn_set_num_threads(2);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__sparse_backward(l, &x, gy), RECNN_OK);
    ck_assert_mem_eq(g1, l->pw->g, sizeof(float) * (size_t)(d * U));
    recnn_set_num_threads(saved);
    free(g1);
    free(gy);
    free_csr(&cb);
    recnn__layer_free(l);
}
END_TEST

/* ---- transposed (gathered) backward passes ------------------------------------ */

static void assert_close(const float *a, const float *b, int64_t n, float rtol)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= rtol * (1.0f + fabsf(b[i])),
                      "element %lld: %.7g vs %.7g", (long long)i, (double)a[i], (double)b[i]);
}

START_TEST(test_csrt_build)
{
    int64_t n = 23, d = 31;
    csr_buf cb = make_csr(n, d, 0.3);
    /* a batch that starts in the middle of a CSR: positions are relative */
    recnn__csr x = {n - 3, cb.ptr + 3, cb.idx, cb.val, NULL, 0};
    recnn__csrt t;
    ck_assert_int_eq(recnn__csrt_build(&x, d, &t), RECNN_OK);
    int64_t base = cb.ptr[3], nnz = cb.ptr[n] - base;
    ck_assert_int_eq(t.ptr[0], 0);
    ck_assert_int_eq(t.ptr[d], nnz);
    char *seen = calloc((size_t)nnz, 1);
    for (int64_t c = 0; c < d; c++)
        for (int64_t q = t.ptr[c]; q < t.ptr[c + 1]; q++) {
            int64_t k = base + t.pos[q];
            ck_assert_int_eq(cb.idx[k], c);
            /* the entry lies in its batch row */
            ck_assert(k >= x.ptr[t.row[q]] && k < x.ptr[t.row[q] + 1]);
            if (q > t.ptr[c])
                ck_assert_int_lt(t.row[q - 1], t.row[q]);
            ck_assert(!seen[t.pos[q]]);
            seen[t.pos[q]] = 1;
        }
    free(seen);
    /* from a column structure the caller holds: the same positions */
    recnn__csrt t2;
    ck_assert_int_eq(recnn__csrt_build_from(&x, d, t.ptr, t.row, &t2), RECNN_OK);
    ck_assert_mem_eq(t2.pos, t.pos, sizeof(int64_t) * (size_t)nnz);
    recnn__csrt_free(&t2);
    /* ... and refused when it does not describe the batch */
    int32_t *wrong = malloc(sizeof(int32_t) * (size_t)nnz);
    memcpy(wrong, t.row, sizeof(int32_t) * (size_t)nnz);
    wrong[nnz / 2] = (wrong[nnz / 2] + 1) % (int32_t)x.n;
    ck_assert_int_eq(recnn__csrt_build_from(&x, d, t.ptr, wrong, &t2), RECNN_E_INVALID);
    ck_assert_ptr_null(t2.pos);
    free(wrong);
    recnn__csrt_free(&t);
    recnn__csrt_free(&t); /* zeroed: harmless */
    /* refused: row selections, columns out of range */
    int32_t sel[2] = {1, 0};
    recnn__csr xs = {2, cb.ptr, cb.idx, cb.val, sel, 0};
    ck_assert_int_eq(recnn__csrt_build(&xs, d, &t), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__csrt_build(&x, 5, &t), RECNN_E_INVALID);
    ck_assert_ptr_null(t.ptr);
    free_csr(&cb);
}
END_TEST

/* A sparse-input encoder and a masked decoder over one n x d batch with
 * its transpose: the layers AutoRec's full batch uses. */
typedef struct {
    csr_buf cb;
    recnn__csr x;
    recnn__csrt t;
    recnn__layer *enc, *dec;
} ae_fix;

static void ae_fix_make(ae_fix *f, int64_t n, int64_t d, int64_t D)
{
    f->cb = make_csr(n, d, 0.2);
    f->x = (recnn__csr){n, f->cb.ptr, f->cb.idx, f->cb.val, NULL, 0};
    ck_assert_int_eq(recnn__csrt_build(&f->x, d, &f->t), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_create(&f->enc, d, D, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn__masked_create(&f->dec, D, d, 1, n), RECNN_OK);
    init_small(f->enc);
    init_small(f->dec);
}

static void ae_fix_free(ae_fix *f)
{
    recnn__csrt_free(&f->t);
    free_csr(&f->cb);
    recnn__layer_free(f->enc);
    recnn__layer_free(f->dec);
}

/* Runs one gathered and one scattered backward of the sparse-input and
 * masked layers on the same batch and compares every gradient. */
START_TEST(test_transposed_backward)
{
    int64_t n = 60, d = 300, D = 256;
    ae_fix f;
    ae_fix_make(&f, n, d, D);
    csr_buf cb = f.cb;
    recnn__csr x = f.x;
    recnn__csrt t = f.t;
    recnn__layer *enc = f.enc, *dec = f.dec;
    fill_uniform(dec->pb->w, d, -0.5f, 0.5f);
    float *gy = malloc(sizeof(float) * (size_t)(n * D));
    float *h = malloc(sizeof(float) * (size_t)(n * D));
    float *gk = malloc(sizeof(float) * (size_t)cb.nnz);
    float *ref_w = malloc(sizeof(float) * (size_t)(d * D));
    float *ref_b = malloc(sizeof(float) * (size_t)d);
    float *gh1 = malloc(sizeof(float) * (size_t)(n * D));
    float *gh2 = malloc(sizeof(float) * (size_t)(n * D));
    fill_uniform(gy, n * D, -1, 1);
    fill_uniform(h, n * D, -1, 1);
    fill_uniform(gk, cb.nnz, -1, 1);
    int saved = recnn_get_num_threads();
    for (int threads = 1; threads <= 2; threads++) {
        recnn_set_num_threads(threads);
        /* sparse input */
        recnn__layer_zero_grad(enc);
        ck_assert_int_eq(recnn__sparse_backward(enc, &x, gy), RECNN_OK);
        memcpy(ref_w, enc->pw->g, sizeof(float) * (size_t)(d * D));
        memcpy(ref_b, enc->pb->g, sizeof(float) * (size_t)D);
        int64_t touched = enc->pw->n_rows;
        recnn__layer_zero_grad(enc);
        ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, &t, gy, NULL), RECNN_OK);
        assert_close(enc->pw->g, ref_w, d * D, 1e-5f);
        assert_close(enc->pb->g, ref_b, D, 1e-5f);
        ck_assert_int_eq(enc->pw->n_rows, touched);
        /* masked output */
        recnn__layer_zero_grad(dec);
        ck_assert_int_eq(recnn__masked_backward(dec, h, &x, gk, gh1), RECNN_OK);
        memcpy(ref_w, dec->pw->g, sizeof(float) * (size_t)(d * D));
        memcpy(ref_b, dec->pb->g, sizeof(float) * (size_t)d);
        touched = dec->pw->n_rows;
        recnn__layer_zero_grad(dec);
        ck_assert_int_eq(recnn__masked_backward_t(dec, h, &x, &t, gk, gh2), RECNN_OK);
        assert_close(dec->pw->g, ref_w, d * D, 1e-5f);
        assert_close(dec->pb->g, ref_b, d, 1e-5f);
        ck_assert_mem_eq(gh1, gh2, sizeof(float) * (size_t)(n * D));
        ck_assert_int_eq(dec->pw->n_rows, touched);
    }
    /* the gathered gradients do not depend on the thread count */
    recnn_set_num_threads(1);
    recnn__layer_zero_grad(enc);
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, &t, gy, NULL), RECNN_OK);
    memcpy(ref_w, enc->pw->g, sizeof(float) * (size_t)(d * D));
    recnn_set_num_threads(2);
    recnn__layer_zero_grad(enc);
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, &t, gy, NULL), RECNN_OK);
    ck_assert_mem_eq(ref_w, enc->pw->g, sizeof(float) * (size_t)(d * D));
    recnn_set_num_threads(saved);
    /* a transpose of another batch is refused */
    recnn__csr half = {n / 2, cb.ptr, cb.idx, cb.val, NULL, 0};
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &half, &t, gy, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__masked_backward_t(dec, h, &half, &t, gk, gh2), RECNN_E_INVALID);
    free(gy);
    free(h);
    free(gk);
    free(ref_w);
    free(ref_b);
    free(gh1);
    free(gh2);
    ae_fix_free(&f);
}
END_TEST

/* The fused epilogue (recnn__grad_fuse): the gathered passes write the
 * gradients (whatever was in them before), add the L2 term and return the
 * penalty and the squared norm; the optimizer takes that norm. */
START_TEST(test_fused_gradients)
{
    int64_t n = 40, d = 120, D = 72;
    ae_fix f;
    ae_fix_make(&f, n, d, D);
    csr_buf cb = f.cb;
    recnn__csr x = f.x;
    recnn__csrt t = f.t;
    recnn__layer *enc = f.enc, *dec = f.dec;
    float *gy = malloc(sizeof(float) * (size_t)(n * D));
    float *h = malloc(sizeof(float) * (size_t)(n * D));
    float *gk = malloc(sizeof(float) * (size_t)cb.nnz);
    float *gh = malloc(sizeof(float) * (size_t)(n * D));
    float *ref = malloc(sizeof(float) * (size_t)(d * D));
    float *refb = malloc(sizeof(float) * (size_t)(d + D));
    fill_uniform(gy, n * D, -1, 1);
    fill_uniform(h, n * D, 0.05f, 0.95f);
    const float lambda = 0.03f;
    /* sparse input: reference = zero_grad + backward + params_l2 */
    recnn__layer_zero_grad(enc);
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, &t, gy, NULL), RECNN_OK);
    recnn__param *pe[2] = {enc->pw, enc->pb};
    double pen = recnn__params_l2(pe, 2, lambda);
    memcpy(ref, enc->pw->g, sizeof(float) * (size_t)(d * D));
    memcpy(refb, enc->pb->g, sizeof(float) * (size_t)D);
    double gsq = 0;
    for (int64_t i = 0; i < d * D; i++)
        gsq += (double)ref[i] * ref[i];
    for (int64_t i = 0; i < d * D; i++) /* stale content must not leak in */
        enc->pw->g[i] = 1e3f;
    for (int64_t i = 0; i < D; i++)
        enc->pb->g[i] = -7.0f;
    recnn__grad_fuse fe = {lambda, 0, 0};
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, &t, gy, &fe), RECNN_OK);
    assert_close(enc->pw->g, ref, d * D, 1e-6f);
    assert_close(enc->pb->g, refb, D, 1e-6f);
    ck_assert_double_eq_tol(fe.penalty, pen, 1e-5 * pen);
    ck_assert_double_eq_tol(fe.gsq, gsq, 1e-5 * gsq);
    ck_assert(pen > 0 && gsq > 0);
    /* masked output through the fused MSE */
    recnn__layer_zero_grad(dec);
    double loss = 0, loss2 = 0;
    ck_assert_int_eq(recnn__masked_mse_t(dec, h, &x, &t, cb.val, 0.1f, RECNN__ACT_IDENTITY,
                                         0.0f, gk, gh, &loss, NULL),
                     RECNN_OK);
    recnn__param *pd[2] = {dec->pw, dec->pb};
    pen = recnn__params_l2(pd, 2, lambda);
    memcpy(ref, dec->pw->g, sizeof(float) * (size_t)(d * D));
    memcpy(refb, dec->pb->g, sizeof(float) * (size_t)d);
    int64_t touched = dec->pw->n_rows;
    gsq = 0;
    for (int64_t i = 0; i < d * D; i++)
        gsq += (double)ref[i] * ref[i];
    for (int64_t i = 0; i < d * D; i++)
        dec->pw->g[i] = 1e3f;
    recnn__grad_fuse fd = {lambda, 0, 0};
    ck_assert_int_eq(recnn__masked_mse_t(dec, h, &x, &t, cb.val, 0.1f, RECNN__ACT_IDENTITY,
                                         0.0f, gk, gh, &loss2, &fd),
                     RECNN_OK);
    ck_assert_double_eq(loss, loss2);
    assert_close(dec->pw->g, ref, d * D, 1e-6f);
    assert_close(dec->pb->g, refb, d, 1e-6f);
    ck_assert_int_eq(dec->pw->n_rows, touched);
    ck_assert_double_eq_tol(fd.penalty, pen, 1e-5 * pen);
    ck_assert_double_eq_tol(fd.gsq, gsq, 1e-5 * gsq);
    /* fusing needs the transpose */
    ck_assert_int_eq(recnn__sparse_backward_t(enc, &x, NULL, gy, &fe), RECNN_E_INVALID);
    /* the optimizer with the given norms: the same step as computing
     * them; a non-finite one refuses the step and changes nothing */
    recnn__optim *o1, *o2;
    ck_assert_int_eq(recnn__optim_create(&o1, RECNN__OPT_SGD, 0.1), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o1, dec), RECNN_OK);
    ck_assert_int_eq(recnn__optim_set(o1, "clip_norm", 0.5 * sqrt(gsq)), RECNN_OK);
    float *w0 = malloc(sizeof(float) * (size_t)(d * D));
    memcpy(w0, dec->pw->w, sizeof(float) * (size_t)(d * D));
    recnn__param *known[1] = {dec->pw};
    double bad = NAN;
    ck_assert_int_eq(recnn__optim_step_gsq(o1, known, &bad, 1), RECNN_E_NUMERIC);
    ck_assert_mem_eq(w0, dec->pw->w, sizeof(float) * (size_t)(d * D));
    ck_assert_int_eq(recnn__optim_step_gsq(o1, known, &fd.gsq, 1), RECNN_OK);
    float *w1 = malloc(sizeof(float) * (size_t)(d * D));
    memcpy(w1, dec->pw->w, sizeof(float) * (size_t)(d * D));
    memcpy(dec->pw->w, w0, sizeof(float) * (size_t)(d * D));
    ck_assert_int_eq(recnn__optim_create(&o2, RECNN__OPT_SGD, 0.1), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o2, dec), RECNN_OK);
    ck_assert_int_eq(recnn__optim_set(o2, "clip_norm", 0.5 * sqrt(gsq)), RECNN_OK);
    ck_assert_int_eq(recnn__optim_step(o2), RECNN_OK);
    assert_close(dec->pw->w, w1, d * D, 1e-6f); /* clipped by the same norm */
    ck_assert(memcmp(w1, w0, sizeof(float) * (size_t)(d * D)) != 0); /* it did move */
    recnn__optim_free(o1);
    recnn__optim_free(o2);
    free(w0);
    free(w1);
    free(gy);
    free(h);
    free(gk);
    free(gh);
    free(ref);
    free(refb);
    ae_fix_free(&f);
}
END_TEST

/* The sigmoid folded into the last sweep of a row (the sparse forward)
 * and its backward folded into the fused MSE's last sweep give the bits
 * of the separate passes, for every sweep shape: rows of 0 to 20 entries
 * (eight-, four- and one-row sweeps in every combination). */
START_TEST(test_folded_sigmoid)
{
    const int64_t n = 42, d = 90, D = 37;
    csr_buf cb;
    cb.ptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
    cb.idx = malloc(sizeof(int32_t) * (size_t)(n * 21));
    cb.val = malloc(sizeof(float) * (size_t)(n * 21));
    cb.nnz = 0;
    cb.ptr[0] = 0;
    for (int64_t r = 0; r < n; r++) {
        for (int64_t q = 0; q < r % 21; q++) {
            cb.idx[cb.nnz] = (int32_t)(4 * q + r % 4);
            cb.val[cb.nnz++] = 1.0f + (float)recnn__rng_below(&R, 5);
        }
        cb.ptr[r + 1] = cb.nnz;
    }
    recnn__csr x = {n, cb.ptr, cb.idx, cb.val, NULL, 0};
    recnn__csrt t;
    ck_assert_int_eq(recnn__csrt_build(&x, d, &t), RECNN_OK);
    recnn__layer *enc, *dec;
    ck_assert_int_eq(recnn__sparse_create(&enc, d, D, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn__masked_create(&dec, D, d, 1, n), RECNN_OK);
    init_small(enc);
    init_small(dec);
    const size_t hsz = sizeof(float) * (size_t)(n * D), ksz = sizeof(float) * (size_t)cb.nnz;
    float *h1 = malloc(hsz), *h2 = malloc(hsz), *gh1 = malloc(hsz), *gh2 = malloc(hsz);
    float *gk1 = malloc(ksz), *gk2 = malloc(ksz);
    ck_assert_int_eq(recnn__sparse_forward_act(enc, &x, RECNN__ACT_SIGMOID, 0.0f, h1),
                     RECNN_OK);
    ck_assert_int_eq(recnn__sparse_forward(enc, &x, h2), RECNN_OK);
    recnn__act_forward(RECNN__ACT_SIGMOID, 0.0f, n, D, h2, h2);
    ck_assert_mem_eq(h1, h2, hsz);
    double l1 = 0, l2 = 0;
    ck_assert_int_eq(recnn__masked_mse_t(dec, h1, &x, &t, cb.val, 0.1f, RECNN__ACT_SIGMOID,
                                         0.0f, gk1, gh1, &l1, NULL),
                     RECNN_OK);
    ck_assert_int_eq(recnn__masked_mse_t(dec, h1, &x, &t, cb.val, 0.1f, RECNN__ACT_IDENTITY,
                                         0.0f, gk2, gh2, &l2, NULL),
                     RECNN_OK);
    recnn__act_backward(RECNN__ACT_SIGMOID, 0.0f, n, D, h1, gh2, gh2);
    ck_assert_mem_eq(gk1, gk2, ksz);
    ck_assert_mem_eq(gh1, gh2, hsz);
    ck_assert_double_eq(l1, l2);
    /* a row with entries has a gradient (a skipped sweep would show) */
    for (int64_t r = 1; r < n; r++) {
        double a = 0;
        for (int64_t u = 0; u < D; u++)
            a += fabs(gh1[r * D + u]);
        ck_assert(r % 21 == 0 ? a == 0 : a > 0);
    }
    free(h1);
    free(h2);
    free(gh1);
    free(gh2);
    free(gk1);
    free(gk2);
    recnn__layer_free(enc);
    recnn__layer_free(dec);
    recnn__csrt_free(&t);
    free_csr(&cb);
}
END_TEST

/* rows x cols of a (stride la) equal b (stride lb) bit for bit; a's
 * padding [cols, la) is zero */
static void assert_strided_eq(const float *a, int64_t la, const float *b, int64_t lb,
                              int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        ck_assert_mem_eq(a + r * la, b + r * lb, sizeof(float) * (size_t)cols);
        for (int64_t c = cols; c < la; c++)
            ck_assert_float_eq(a[r * la + c], 0.0f);
    }
}

/* Padded layers (recnn__sparse_create_ld / masked_create_ld) compute what
 * the unpadded ones do, bit for bit, on every pass AutoRec uses, and keep
 * their padding zero through an optimizer step. */
START_TEST(test_padded_layers)
{
    const int64_t n = 30, d = 90, D = 37, ld = recnn__row_stride(D);
    ck_assert_int_eq(ld, 40);
    ae_fix f;
    ae_fix_make(&f, n, d, D);
    recnn__layer *encp, *decp;
    ck_assert_int_eq(recnn__sparse_create_ld(&encp, d, D, ld, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn__masked_create_ld(&decp, D, d, ld, 1, n), RECNN_OK);
    ck_assert_int_eq(encp->pw->count, d * ld);
    /* initialisation: the unpadded layer's draws, moved to the stride */
    recnn_rng r1, r2;
    recnn__rng_seed(&r1, 3);
    recnn__rng_seed(&r2, 3);
    ck_assert_int_eq(recnn__layer_init(f.enc, RECNN__INIT_UNIFORM, 0.2f, &r1), RECNN_OK);
    ck_assert_int_eq(recnn__layer_init(encp, RECNN__INIT_UNIFORM, 0.2f, &r2), RECNN_OK);
    assert_strided_eq(encp->pw->w, ld, f.enc->pw->w, D, d, D);
    ck_assert_int_eq(recnn__layer_init(f.dec, RECNN__INIT_UNIFORM, 0.2f, &r1), RECNN_OK);
    ck_assert_int_eq(recnn__layer_init(decp, RECNN__INIT_UNIFORM, 0.2f, &r2), RECNN_OK);
    assert_strided_eq(decp->pw->w, ld, f.dec->pw->w, D, d, D);
    fill_uniform(f.enc->pb->w, D, -0.5f, 0.5f);
    fill_uniform(f.dec->pb->w, d, -0.5f, 0.5f);
    memcpy(encp->pb->w, f.enc->pb->w, sizeof(float) * (size_t)D);
    memcpy(decp->pb->w, f.dec->pb->w, sizeof(float) * (size_t)d);
    const int64_t nnz = f.cb.nnz;
    float *h = calloc((size_t)(n * D), sizeof(float)), *hp = calloc((size_t)(n * ld), sizeof(float));
    float *gh = calloc((size_t)(n * D), sizeof(float)), *ghp = calloc((size_t)(n * ld), sizeof(float));
    float *gk = malloc(sizeof(float) * (size_t)nnz), *gkp = malloc(sizeof(float) * (size_t)nnz);
    float *y = malloc(sizeof(float) * (size_t)nnz), *yp = malloc(sizeof(float) * (size_t)nnz);
    /* forward: codes, then the outputs at the observed positions */
    ck_assert_int_eq(recnn__sparse_forward_act(f.enc, &f.x, RECNN__ACT_SIGMOID, 0, h), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_forward_act(encp, &f.x, RECNN__ACT_SIGMOID, 0, hp), RECNN_OK);
    assert_strided_eq(hp, ld, h, D, n, D);
    ck_assert_int_eq(recnn__masked_forward(f.dec, h, &f.x, y), RECNN_OK);
    ck_assert_int_eq(recnn__masked_forward(decp, hp, &f.x, yp), RECNN_OK);
    ck_assert_mem_eq(y, yp, sizeof(float) * (size_t)nnz);
    /* fused MSE and gathered backward with the L2 epilogue */
    recnn__grad_fuse fd = {0.05f, 0, 0}, fdp = fd, fe = fd, fep = fd;
    double loss = 0, lossp = 0;
    ck_assert_int_eq(recnn__masked_mse_t(f.dec, h, &f.x, &f.t, f.cb.val, 0.01f,
                                         RECNN__ACT_SIGMOID, 0, gk, gh, &loss, &fd),
                     RECNN_OK);
    ck_assert_int_eq(recnn__masked_mse_t(decp, hp, &f.x, &f.t, f.cb.val, 0.01f,
                                         RECNN__ACT_SIGMOID, 0, gkp, ghp, &lossp, &fdp),
                     RECNN_OK);
    ck_assert_double_eq(loss, lossp);
    ck_assert_mem_eq(gk, gkp, sizeof(float) * (size_t)nnz);
    assert_strided_eq(ghp, ld, gh, D, n, D);
    assert_strided_eq(decp->pw->g, ld, f.dec->pw->g, D, d, D);
    ck_assert_mem_eq(decp->pb->g, f.dec->pb->g, sizeof(float) * (size_t)d);
    ck_assert_double_eq(fd.penalty, fdp.penalty);
    ck_assert_double_eq(fd.gsq, fdp.gsq);
    ck_assert_int_eq(recnn__sparse_backward_t(f.enc, &f.x, &f.t, gh, &fe), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_backward_t(encp, &f.x, &f.t, ghp, &fep), RECNN_OK);
    assert_strided_eq(encp->pw->g, ld, f.enc->pw->g, D, d, D);
    ck_assert_mem_eq(encp->pb->g, f.enc->pb->g, sizeof(float) * (size_t)D);
    ck_assert_double_eq(fe.gsq, fep.gsq);
    /* an RProp step on both keeps the padding zero */
    recnn__optim *o, *op;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_RPROP, 0.01), RECNN_OK);
    ck_assert_int_eq(recnn__optim_create(&op, RECNN__OPT_RPROP, 0.01), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o, f.enc), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o, f.dec), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(op, encp), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(op, decp), RECNN_OK);
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    ck_assert_int_eq(recnn__optim_step(op), RECNN_OK);
    assert_strided_eq(encp->pw->w, ld, f.enc->pw->w, D, d, D);
    assert_strided_eq(decp->pw->w, ld, f.dec->pw->w, D, d, D);
    /* the scattered (no transpose) and unfused passes agree too */
    recnn__layer_zero_grad(f.enc);
    recnn__layer_zero_grad(encp);
    ck_assert_int_eq(recnn__sparse_backward(f.enc, &f.x, gh), RECNN_OK);
    ck_assert_int_eq(recnn__sparse_backward(encp, &f.x, ghp), RECNN_OK);
    assert_strided_eq(encp->pw->g, ld, f.enc->pw->g, D, d, D);
    recnn__layer_zero_grad(f.dec);
    recnn__layer_zero_grad(decp);
    ck_assert_int_eq(recnn__masked_backward(f.dec, h, &f.x, gk, gh), RECNN_OK);
    ck_assert_int_eq(recnn__masked_backward(decp, hp, &f.x, gkp, ghp), RECNN_OK);
    assert_strided_eq(decp->pw->g, ld, f.dec->pw->g, D, d, D);
    assert_strided_eq(ghp, ld, gh, D, n, D);
    /* what a padded layer refuses: dense passes, tying, a short stride */
    float xd[90] = {0}, yd[40];
    ck_assert_int_eq(recnn__layer_forward(encp, 1, xd, yd, 0), RECNN_E_UNSUPPORTED);
    ck_assert_int_eq(recnn__layer_backward(encp, 1, xd, yd, yd, NULL), RECNN_E_UNSUPPORTED);
    recnn__layer *tied = NULL, *bad = NULL;
    ck_assert_int_eq(recnn__tied_create(&tied, encp, 1, n), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__sparse_create_ld(&bad, d, D, D - 1, 1, n), RECNN_E_INVALID);
    ck_assert_ptr_null(bad);
    recnn__optim_free(o);
    recnn__optim_free(op);
    free(h);
    free(hp);
    free(gh);
    free(ghp);
    free(gk);
    free(gkp);
    free(y);
    free(yp);
    recnn__layer_free(encp);
    recnn__layer_free(decp);
    ae_fix_free(&f);
}
END_TEST

typedef struct {
    recnn__layer *l;
    recnn__csr pos;
    const float *tgt;
    float *h, *y;
    int64_t nnz;
    float scale;
} msectx;

static double mse_obj(void *p)
{
    msectx *m = p;
    recnn__masked_forward(m->l, m->h, &m->pos, m->y);
    double s = 0;
    for (int64_t k = 0; k < m->nnz; k++) {
        double e = (double)m->y[k] - m->tgt[k];
        s += e * e;
    }
    return m->scale * s;
}

START_TEST(test_masked_mse_fused)
{
    /* the fused pass against finite differences of the scale * SSE
     * objective, and against the unfused forward + loss + backward */
    int64_t n = 5, D = 6, O = 11;
    csr_buf cb = make_csr(n, O, 0.5);
    recnn__layer *l;
    ck_assert_int_eq(recnn__masked_create(&l, D, O, 1, 8), RECNN_OK);
    init_small(l);
    fill_uniform(l->pb->w, O, -0.5f, 0.5f);
    msectx m = {l, {n, cb.ptr, cb.idx, NULL, NULL, 0}, cb.val, NULL, NULL, cb.nnz, 0.25f};
    m.h = malloc(sizeof(float) * (size_t)(n * D));
    m.y = malloc(sizeof(float) * (size_t)(cb.nnz + 1));
    float *gy = malloc(sizeof(float) * (size_t)(cb.nnz + 1));
    float *gy2 = malloc(sizeof(float) * (size_t)(cb.nnz + 1));
    float *gh = malloc(sizeof(float) * (size_t)(n * D));
    float *gh2 = malloc(sizeof(float) * (size_t)(n * D));
    fill_uniform(m.h, n * D, -1, 1);
    recnn__csrt t;
    ck_assert_int_eq(recnn__csrt_build(&m.pos, O, &t), RECNN_OK);
    for (int transposed = 0; transposed <= 1; transposed++) {
        double loss = -1;
        recnn__layer_zero_grad(l);
        ck_assert_int_eq(recnn__masked_mse_t(l, m.h, &m.pos, transposed ? &t : NULL, cb.val,
                                             m.scale, RECNN__ACT_IDENTITY, 0.0f, gy, gh,
                                             &loss, NULL),
                         RECNN_OK);
        ck_assert_double_eq_tol(loss, mse_obj(&m), 1e-5 * (1 + loss));
        ck_assert_int_eq(check_grad("mse dh", mse_obj, &m, m.h, n * D, gh), 0);
        recnn__param *ps[2] = {l->pw, l->pb};
        for (int i = 0; i < 2; i++) {
            float *g = malloc(sizeof(float) * (size_t)ps[i]->count);
            memcpy(g, ps[i]->g, sizeof(float) * (size_t)ps[i]->count);
            ck_assert_int_eq(check_grad(ps[i]->name, mse_obj, &m, ps[i]->w, ps[i]->count, g),
                             0);
            free(g);
        }
    }
    /* the unfused path: same outputs, same loss gradient */
    ck_assert_int_eq(recnn__masked_forward(l, m.h, &m.pos, m.y), RECNN_OK);
    recnn__loss_mse(cb.nnz, m.y, cb.val, NULL, m.scale, gy2);
    assert_close(gy, gy2, cb.nnz, 1e-6f);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__masked_backward(l, m.h, &m.pos, gy, gh2), RECNN_OK);
    assert_close(gh, gh2, n * D, 1e-6f);
    /* with h's activation folded in: gh = sigmoid'(h) * (the identity gh),
     * h being the activation's output (in (0, 1) here) */
    for (int64_t i = 0; i < n * D; i++)
        m.h[i] = 0.5f + 0.45f * m.h[i];
    double loss1 = 0;
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__masked_mse_t(l, m.h, &m.pos, &t, cb.val, m.scale,
                                         RECNN__ACT_IDENTITY, 0.0f, gy, gh, &loss1, NULL),
                     RECNN_OK);
    recnn__act_backward(RECNN__ACT_SIGMOID, 0.0f, n, D, m.h, gh, gh2);
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__masked_mse_t(l, m.h, &m.pos, &t, cb.val, m.scale,
                                         RECNN__ACT_SIGMOID, 0.0f, gy, gh, &loss1, NULL),
                     RECNN_OK);
    for (int64_t i = 0; i < n * D; i++)
        ck_assert_float_eq(gh[i], gh2[i]);
    recnn__csrt_free(&t);
    free(m.h);
    free(m.y);
    free(gy);
    free(gy2);
    free(gh);
    free(gh2);
    free_csr(&cb);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_fast_exp)
{
    /* recnn__expf against double exp over its range, relative error
     * within 2 float ulp; clamped outside; NaN propagates */
    double worst = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 175.0f * (float)i / 200000.0f;
        double e = exp((double)x);
        double rel = fabs((double)recnn__expf(x) - e) / e;
        worst = rel > worst ? rel : worst;
    }
    ck_assert_msg(worst < 2.4e-7, "worst relative error %.3g", worst);
    ck_assert_float_eq(recnn__expf(0.0f), 1.0f);
    ck_assert(isfinite(recnn__expf(1000.0f)) && recnn__expf(1000.0f) > 1e38f);
    ck_assert(recnn__expf(-1000.0f) >= 0.0f && recnn__expf(-1000.0f) < 1e-37f);
    ck_assert(isnan(recnn__expf(NAN)));
    /* expm1: relative error small near 0 too (no cancellation) */
    worst = 0;
    for (int i = -100000; i <= 20000; i++) {
        float x = (float)i * 2e-4f; /* [-20, 4] */
        if (x == 0.0f)
            continue;
        double e = expm1((double)x);
        double rel = fabs((double)recnn__expm1f(x) - e) / fabs(e);
        worst = rel > worst ? rel : worst;
    }
    ck_assert_msg(worst < 1e-6, "expm1 worst relative error %.3g", worst);
    ck_assert_float_eq(recnn__expm1f(0.0f), 0.0f);
    ck_assert_float_eq(recnn__sigmoidf(0.0f), 0.5f);
    ck_assert(recnn__sigmoidf(-200.0f) >= 0.0f && recnn__sigmoidf(-200.0f) < 1e-30f);
    ck_assert_float_eq(recnn__sigmoidf(200.0f), 1.0f);
}
END_TEST

/* Non-finite inputs (a diverged model) through the fast exp at run time,
 * scalar and in the vectorised activation loops: NaN stays NaN, +-inf and
 * huge values clamp, and nothing is undefined (the scale 2^n was built
 * by a left shift of a negative value for a NaN: caught by UBSan). */
START_TEST(test_fast_exp_nonfinite)
{
    volatile float vnan = NAN, vinf = INFINITY; /* no constant folding */
    const float xs[8] = {vnan, -vnan, vinf, -vinf, 1e30f, -1e30f, 88.5f, -87.5f};
    ck_assert(isnan(recnn__expf(xs[0])) && isnan(recnn__expf(xs[1])));
    for (int i = 2; i < 8; i += 2) {
        float hi = recnn__expf(xs[i]), lo = recnn__expf(xs[i + 1]);
        ck_assert_msg(isfinite(hi) && hi > 1e38f, "exp(%g) = %g", (double)xs[i], (double)hi);
        ck_assert_msg(lo >= 0.0f && lo < 1e-37f, "exp(%g) = %g", (double)xs[i + 1],
                      (double)lo);
    }
    ck_assert(isnan(recnn__expm1f(xs[0])));
    ck_assert(isnan(recnn__sigmoidf(xs[0])));
    /* 4 rows of 8: NaN at positions 3 and 20, the rest ordinary values */
    float x[32], y[32];
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i - 16) * 0.75f;
    x[3] = vnan;
    x[20] = -vnan;
    const int acts[3] = {RECNN__ACT_SIGMOID, RECNN__ACT_ELU, RECNN__ACT_SELU};
    for (int a = 0; a < 3; a++) {
        recnn__act_forward(acts[a], recnn__act_default_alpha(acts[a]), 4, 8, x, y);
        for (int i = 0; i < 32; i++)
            ck_assert_msg((i == 3 || i == 20) ? isnan(y[i]) : isfinite(y[i]),
                          "act %d: y[%d] = %g", acts[a], i, (double)y[i]);
    }
    recnn__act_forward(RECNN__ACT_SOFTMAX, 0, 4, 8, x, y);
    ck_assert(isnan(y[0]));            /* row 0 holds a NaN */
    float sum = 0;
    for (int j = 8; j < 16; j++)
        sum += y[j];
    ck_assert_float_eq_tol(sum, 1.0f, 1e-6f); /* row 1 does not */
}
END_TEST

/* The internal CSR checks: offsets of the selected rows (sel) and a
 * negative sel entry are refused before an index is read, by the layers
 * and by the transpose builder; ptr[0] > 0 is fine. */
START_TEST(test_csr_offsets_internal)
{
    recnn__layer *l;
    ck_assert_int_eq(recnn__sparse_create(&l, 6, 2, 1, 4), RECNN_OK);
    const int64_t ptr[5] = {2, 4, 3, 5, 6};
    const int32_t idx[6] = {0, 1, 2, 3, 4, 5};
    float y[8];
    const int32_t sel_ok[2] = {3, 2}, sel_dec[2] = {2, 1}, sel_neg[2] = {0, -1};
    recnn__csr x = {2, ptr, idx, NULL, sel_ok, 0};
    ck_assert_int_eq(recnn__sparse_forward(l, &x, y), RECNN_OK);
    x.sel = sel_dec; /* row 1 is ptr[1] = 4 .. ptr[2] = 3 */
    ck_assert_int_eq(recnn__sparse_forward(l, &x, y), RECNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "decrease"));
    x.sel = sel_neg;
    ck_assert_int_eq(recnn__sparse_forward(l, &x, y), RECNN_E_INVALID);
    /* vouched-for columns do not skip the offset check */
    x.sel = sel_dec;
    x.cols_ok = 6;
    ck_assert_int_eq(recnn__sparse_backward(l, &x, y), RECNN_E_INVALID);
    /* consecutive rows: the transpose refuses them as well */
    recnn__csrt t;
    recnn__csr c = {2, ptr + 1, idx, NULL, NULL, 0}; /* 4, 3, 5 */
    ck_assert_int_eq(recnn__csrt_build(&c, 6, &t), RECNN_E_INVALID);
    c.ptr = ptr + 2; /* 3, 5, 6: fine */
    ck_assert_int_eq(recnn__csrt_build(&c, 6, &t), RECNN_OK);
    ck_assert_int_eq(t.ptr[6], 3);
    recnn__csrt_free(&t);
    recnn__layer_free(l);
}
END_TEST

int main(void)
{
    recnn__rng_seed(&R, 12345);
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_grad_dense);
    tcase_add_test(tc, test_dense_forward_values);
    tcase_add_test(tc, test_grad_tied);
    tcase_add_test(tc, test_grad_activations);
    tcase_add_test(tc, test_activation_values);
    tcase_add_test(tc, test_grad_apl);
    tcase_add_test(tc, test_apl_values);
    tcase_add_test(tc, test_grad_dropout);
    tcase_add_test(tc, test_dropout_stats);
    tcase_add_test(tc, test_grad_merges);
    tcase_add_test(tc, test_grad_sparse_input);
    tcase_add_test(tc, test_sparse_equals_dense);
    tcase_add_test(tc, test_grad_masked);
    tcase_add_test(tc, test_csrt_build);
    tcase_add_test(tc, test_padded_layers);
    tcase_add_test(tc, test_folded_sigmoid);
    tcase_add_test(tc, test_transposed_backward);
    tcase_add_test(tc, test_fused_gradients);
    tcase_add_test(tc, test_masked_mse_fused);
    tcase_add_test(tc, test_fast_exp);
    tcase_add_test(tc, test_fast_exp_nonfinite);
    tcase_add_test(tc, test_csr_offsets_internal);
    tcase_add_test(tc, test_grad_embedding);
    tcase_add_test(tc, test_grad_losses);
    tcase_add_test(tc, test_loss_values);
    tcase_add_test(tc, test_loss_mse_csr);
    tcase_add_test(tc, test_params_l2_lazy);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_grad_net_chain);
    tcase_add_test(tc, test_empty_batches);
    tcase_add_test(tc, test_scatter_determinism);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
