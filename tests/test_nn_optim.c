/* Optimizers: hand-computed first steps, convergence on a convex quadratic
 * and on Rosenbrock, schedules, clipping, lazy sparse updates, state
 * save/restore. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

/* ---- first steps by hand ---------------------------------------------------
 * One parameter w0 = 1 with gradients g1 = 0.5, g2 = -0.25 (given, not
 * computed), and a second w0 = -2 with g = 0 (must not move, except for
 * weight decay).  The expected values below were worked out by hand from
 * the update formulas in docs/NN.md. */

static void two_steps(int kind, double lr, const char *key, double val, float out[2],
                      float *w2_second)
{
    float w[2] = {1.0f, -2.0f}, g[2] = {0, 0};
    recnn__param p = recnn__param_make("w", w, g, 2, 0, 1);
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, kind, lr), RECNN_OK);
    if (key)
        ck_assert_int_eq(recnn__optim_set(o, key, val), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    g[0] = 0.5f;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    out[0] = w[0];
    g[0] = -0.25f;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    out[1] = w[0];
    if (w2_second)
        *w2_second = w[1];
    recnn__optim_free(o);
}

START_TEST(test_first_steps)
{
    float s[2], other;
    const float tol = 2e-6f;
    /* SGD lr 0.1: 1 - 0.05 = 0.95; 0.95 + 0.025 = 0.975 */
    two_steps(RECNN__OPT_SGD, 0.1, NULL, 0, s, &other);
    ck_assert_float_eq_tol(s[0], 0.95f, tol);
    ck_assert_float_eq_tol(s[1], 0.975f, tol);
    ck_assert_float_eq(other, -2.0f);
    /* momentum lr 0.1 mu 0.9: v1 = 0.5, w1 = 0.95; v2 = 0.45 - 0.25 = 0.2,
     * w2 = 0.95 - 0.02 = 0.93 */
    two_steps(RECNN__OPT_MOMENTUM, 0.1, NULL, 0, s, NULL);
    ck_assert_float_eq_tol(s[0], 0.95f, tol);
    ck_assert_float_eq_tol(s[1], 0.93f, tol);
    /* Nesterov: v1 = 0.5, w1 = 1 - 0.1 (0.5 + 0.45) = 0.905; v2 = 0.2,
     * w2 = 0.905 - 0.1 (-0.25 + 0.18) = 0.912 */
    two_steps(RECNN__OPT_NESTEROV, 0.1, NULL, 0, s, NULL);
    ck_assert_float_eq_tol(s[0], 0.905f, tol);
    ck_assert_float_eq_tol(s[1], 0.912f, tol);
    /* RMSProp lr 0.01 rho 0.9: s1 = 0.025, w1 = 1 - 0.005/sqrt(0.025) =
     * 0.96837722; s2 = 0.0225 + 0.00625 = 0.02875, w2 = w1 +
     * 0.0025/sqrt(0.02875) = 0.98312142 */
    two_steps(RECNN__OPT_RMSPROP, 0.01, NULL, 0, s, NULL);
    ck_assert_float_eq_tol(s[0], 0.96837722f, tol);
    ck_assert_float_eq_tol(s[1], 0.98312142f, tol);
    /* Adam lr 0.1: m1 = 0.05, v1 = 0.00025, mhat = 0.5, vhat = 0.25: w1 =
     * 0.9; m2 = 0.02, v2 = 0.00031225, mhat = 0.02/0.19, vhat =
     * 0.00031225/0.001999: w2 = 0.9 - 0.1 * 0.10526316/0.39522538 =
     * 0.87336630 */
    two_steps(RECNN__OPT_ADAM, 0.1, NULL, 0, s, &other);
    ck_assert_float_eq_tol(s[0], 0.9f, tol);
    ck_assert_float_eq_tol(s[1], 0.8733663f, tol);
    ck_assert_float_eq(other, -2.0f);
    /* AdamW, weight decay 0.1 (decay first): w1 = 0.99 - 0.1 = 0.89;
     * w2 = 0.89 * 0.99 - 0.02663370 = 0.85446630; the zero-gradient
     * weight decays: -2 * 0.99^2 = -1.9602 */
    two_steps(RECNN__OPT_ADAM, 0.1, "weight_decay", 0.1, s, &other);
    ck_assert_float_eq_tol(s[0], 0.89f, tol);
    ck_assert_float_eq_tol(s[1], 0.8544663f, tol);
    ck_assert_float_eq_tol(other, -1.9602f, tol);
    /* SGD with (coupled) weight decay 0.5, lr 0.1: g1 = 0.5 + 0.5 = 1, w1 =
     * 0.9; g2 = -0.25 + 0.45 = 0.2, w2 = 0.88 */
    two_steps(RECNN__OPT_SGD, 0.1, "weight_decay", 0.5, s, NULL);
    ck_assert_float_eq_tol(s[0], 0.9f, tol);
    ck_assert_float_eq_tol(s[1], 0.88f, tol);
}
END_TEST

START_TEST(test_rprop_steps)
{
    /* iRprop-, step_init 0.1, eta+ 1.2, eta- 0.5, gradients 0.5, 0.3,
     * -0.2, -0.1: step 0.1 -> w 0.9; same sign: step 0.12 -> w 0.78; sign
     * change: step 0.06, gradient zeroed, no move; previous 0: keep 0.06,
     * w = 0.78 + 0.06 = 0.84 */
    float w[1] = {1.0f}, g[1];
    recnn__param p = recnn__param_make("w", w, g, 1, 0, 0);
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_RPROP, 0.1), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    const float gs[4] = {0.5f, 0.3f, -0.2f, -0.1f}, want[4] = {0.9f, 0.78f, 0.78f, 0.84f};
    for (int t = 0; t < 4; t++) {
        g[0] = gs[t];
        ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
        ck_assert_float_eq_tol(w[0], want[t], 1e-6f);
    }
    recnn__optim_free(o);
}
END_TEST

/* ---- convergence ---------------------------------------------------------------- */

static void quad_grad(const float *x, float *g)
{
    /* f = 0.5 (x0 - 1)^2 + 5 (x1 + 2)^2, minimum (1, -2) */
    g[0] = x[0] - 1.0f;
    g[1] = 10.0f * (x[1] + 2.0f);
}

static void rosen_grad(const float *x, float *g)
{
    double a = x[0], b = x[1];
    g[0] = (float)(-2.0 * (1.0 - a) - 400.0 * a * (b - a * a));
    g[1] = (float)(200.0 * (b - a * a));
}

static void run(int kind, double lr, long iters, void (*grad)(const float *, float *),
                float x0, float y0, float out[2])
{
    float w[2] = {x0, y0}, g[2];
    recnn__param p = recnn__param_make("x", w, g, 2, 0, 0);
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, kind, lr), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    for (long i = 0; i < iters; i++) {
        grad(w, g);
        ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    }
    out[0] = w[0];
    out[1] = w[1];
    recnn__optim_free(o);
}

START_TEST(test_quadratic)
{
    /* every optimizer reaches (1, -2) within 1e-4 */
    struct {
        int kind;
        double lr;
        long iters;
    } c[] = {{RECNN__OPT_SGD, 0.1, 300},      {RECNN__OPT_MOMENTUM, 0.05, 300},
             {RECNN__OPT_NESTEROV, 0.05, 300}, {RECNN__OPT_RMSPROP, 0.01, 2000},
             {RECNN__OPT_ADAM, 0.05, 2000},   {RECNN__OPT_RPROP, 0.1, 200}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        float x[2];
        run(c[i].kind, c[i].lr, c[i].iters, quad_grad, 0.0f, 0.0f, x);
        ck_assert_msg(fabsf(x[0] - 1.0f) < 1e-4f && fabsf(x[1] + 2.0f) < 1e-4f,
                      "optimizer %d ended at (%g, %g)", c[i].kind, x[0], x[1]);
    }
}
END_TEST

START_TEST(test_rosenbrock)
{
    /* from (-1.2, 1) every optimizer reaches (1, 1) within 1e-2 */
    struct {
        int kind;
        double lr;
        long iters;
    } c[] = {{RECNN__OPT_SGD, 1e-3, 50000},     {RECNN__OPT_MOMENTUM, 2e-4, 50000},
             {RECNN__OPT_NESTEROV, 2e-4, 50000}, {RECNN__OPT_RMSPROP, 1e-3, 50000},
             {RECNN__OPT_ADAM, 1e-2, 20000},    {RECNN__OPT_RPROP, 1e-3, 5000}};
    const char *q = getenv("RECNN_TEST_QUICK");
    int quick = q && *q && *q != '0';
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        float x[2];
        if (quick && c[i].iters > 20000) {
            /* under valgrind: the 50000-step runs are skipped */
            printf("rosenbrock: optimizer %d skipped (RECNN_TEST_QUICK)\n", c[i].kind);
            continue;
        }
        run(c[i].kind, c[i].lr, c[i].iters, rosen_grad, -1.2f, 1.0f, x);
        ck_assert_msg(fabsf(x[0] - 1.0f) < 1e-2f && fabsf(x[1] - 1.0f) < 1e-2f,
                      "optimizer %d ended at (%g, %g)", c[i].kind, x[0], x[1]);
    }
}
END_TEST

/* ---- schedules, clipping ------------------------------------------------------------ */

START_TEST(test_schedules)
{
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_SGD, 0.01), RECNN_OK);
    /* x0.9 every 10 epochs (the autoencoder paper's schedule) */
    ck_assert_int_eq(recnn__optim_schedule(o, RECNN__SCHED_STEP, 0.9, 10), RECNN_OK);
    for (int e = 1; e <= 25; e++) {
        recnn__optim_epoch_end(o);
        double want = e < 10 ? 0.01 : e < 20 ? 0.009 : 0.0081;
        ck_assert_msg(fabs(o->lr - want) < 1e-12, "epoch %d lr %g", e, o->lr);
    }
    ck_assert_int_eq(recnn__optim_schedule(o, RECNN__SCHED_EXP, 0.5, 1), RECNN_OK);
    recnn__optim_epoch_end(o); /* epoch 26 */
    ck_assert(fabs(o->lr - 0.01 * pow(0.5, 26)) < 1e-15);
    ck_assert_int_eq(recnn__optim_schedule(o, RECNN__SCHED_STEP, 0.9, 0), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__optim_schedule(o, RECNN__SCHED_EXP, -1, 1), RECNN_E_INVALID);
    recnn__optim_free(o);
}
END_TEST

START_TEST(test_clipping)
{
    float w[2] = {0, 0}, g[2];
    recnn__param p = recnn__param_make("w", w, g, 2, 0, 0);
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_SGD, 1.0), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    /* by global norm: (3, 4) has norm 5 -> rescaled to norm 1 */
    ck_assert_int_eq(recnn__optim_set(o, "clip_norm", 1.0), RECNN_OK);
    g[0] = 3;
    g[1] = 4;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    ck_assert_float_eq_tol(w[0], -0.6f, 1e-6f);
    ck_assert_float_eq_tol(w[1], -0.8f, 1e-6f);
    ck_assert(fabs(o->last_norm - 5.0) < 1e-9);
    /* under the threshold: unchanged */
    g[0] = 0.3f;
    g[1] = 0;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    ck_assert_float_eq_tol(w[0], -0.9f, 1e-6f);
    /* by value */
    ck_assert_int_eq(recnn__optim_set(o, "clip_norm", 0), RECNN_OK);
    ck_assert_int_eq(recnn__optim_set(o, "clip_value", 0.5), RECNN_OK);
    g[0] = 2;
    g[1] = -0.1f;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    ck_assert_float_eq_tol(w[0], -1.4f, 1e-6f);
    ck_assert_float_eq_tol(w[1], -0.7f, 1e-6f);
    /* non-finite gradients: refused, parameters unchanged */
    g[0] = NAN;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_E_NUMERIC);
    ck_assert_float_eq_tol(w[0], -1.4f, 1e-6f);
    /* settings validation */
    ck_assert_int_eq(recnn__optim_set(o, "nope", 1), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn__optim_set(o, "beta1", 1.0), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__optim_set(o, "lr", -1), RECNN_E_INVALID);
    recnn__optim_free(o);
    /* the same buffer twice would be updated twice: refused */
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_SGD, 1.0), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_E_INVALID);
    recnn__param alias = recnn__param_make("alias", w, g, 2, 0, 0);
    ck_assert_int_eq(recnn__optim_add(o, &alias), RECNN_E_INVALID);
    g[0] = g[1] = 0;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    /* after a step the list is fixed */
    float w3[1] = {0}, g3[1] = {0};
    recnn__param p3 = recnn__param_make("late", w3, g3, 1, 0, 0);
    ck_assert_int_eq(recnn__optim_add(o, &p3), RECNN_E_STATE);
    recnn__optim_free(o);
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_ADAM, 0), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__optim_create(&o, 42, 0.1), RECNN_E_INVALID);
    ck_assert_int_eq(recnn__optim_from_name("nesterov"), RECNN__OPT_NESTEROV);
}
END_TEST

START_TEST(test_clipping_large)
{
    /* a buffer large enough for the parallel norm path */
    enum { N = 100000 };
    float *w = calloc(N, sizeof(float)), *g = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++)
        g[i] = 0.01f;
    recnn__param p = recnn__param_make("w", w, g, N, 0, 0);
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_SGD, 1.0), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
    ck_assert_int_eq(recnn__optim_set(o, "clip_norm", 1.0), RECNN_OK);
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    /* norm 0.01 * sqrt(1e5) = 3.16227766; each value becomes 1/sqrt(1e5) */
    ck_assert(fabs(o->last_norm - 3.16227766) < 1e-5);
    ck_assert_float_eq_tol(w[0], -0.00316227766f, 1e-8f);
    ck_assert_float_eq_tol(w[N - 1], -0.00316227766f, 1e-8f);
    g[N / 2] = INFINITY;
    ck_assert_int_eq(recnn__optim_step(o), RECNN_E_NUMERIC);
    ck_assert_float_eq_tol(w[N / 2], -0.00316227766f, 1e-8f);
    recnn__optim_free(o);
    free(w);
    free(g);
}
END_TEST

/* ---- lazy sparse updates ------------------------------------------------------------ */

START_TEST(test_lazy_adam)
{
    /* embedding 5 x 2; step 1 touches rows 1 and 3, step 2 only row 1 */
    recnn__layer *l;
    ck_assert_int_eq(recnn__embedding_create(&l, 5, 2, 4), RECNN_OK);
    recnn__param *E = &l->params[0];
    for (int i = 0; i < 10; i++)
        E->w[i] = (float)i;
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_ADAM, 0.1), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o, l), RECNN_OK);
    int32_t ids1[2] = {1, 3}, ids2[1] = {1};
    float gy1[4] = {0.5f, -1.0f, 2.0f, 0.25f}, gy2[2] = {-0.25f, 0.5f};
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__embedding_backward(l, 2, ids1, gy1), RECNN_OK);
    ck_assert(recnn__param_sparse(E));
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    /* first Adam step moves each touched value by lr * sign(g) */
    ck_assert_float_eq_tol(E->w[2], 2.0f - 0.1f, 1e-6f);
    ck_assert_float_eq_tol(E->w[3], 3.0f + 0.1f, 1e-6f);
    ck_assert_float_eq_tol(E->w[6], 6.0f - 0.1f, 1e-6f);
    ck_assert_float_eq_tol(E->w[7], 7.0f - 0.1f, 1e-6f);
    /* untouched rows: unchanged, their state still zero */
    const int untouched[6] = {0, 1, 4, 5, 8, 9};
    for (int k = 0; k < 6; k++) {
        ck_assert_float_eq(E->w[untouched[k]], (float)untouched[k]);
        ck_assert_float_eq(o->e[0].s1[untouched[k]], 0.0f);
        ck_assert_float_eq(o->e[0].s2[untouched[k]], 0.0f);
    }
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__embedding_backward(l, 1, ids2, gy2), RECNN_OK);
    float m3 = o->e[0].s1[6];
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    /* row 1 follows Adam's second step (same numbers as test_first_steps,
     * shifted: 2 -> 1.8733663; and scaled by -2: 3 -> 3.1266337) */
    ck_assert_float_eq_tol(E->w[2], 1.8733663f, 2e-6f);
    ck_assert_float_eq_tol(E->w[3], 3.1266337f, 2e-6f);
    /* lazy: row 3 (not touched at step 2) neither moves nor decays its
     * moments, though its first moment is non-zero */
    ck_assert(m3 != 0.0f);
    ck_assert_float_eq_tol(E->w[6], 5.9f, 1e-6f);
    ck_assert_float_eq_tol(E->w[7], 6.9f, 1e-6f);
    ck_assert_float_eq(o->e[0].s1[6], m3);
    /* a dense gradient (touch_all) makes the next step a full update:
     * row 3 then moves by its momentum */
    recnn__layer_zero_grad(l);
    recnn__param_touch_all(E);
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    ck_assert(E->w[6] != 5.9f);
    ck_assert_float_eq(E->w[0], 0.0f); /* zero state, zero gradient: no move */
    recnn__optim_free(o);
    recnn__layer_free(l);
}
END_TEST

START_TEST(test_lazy_sgd_momentum)
{
    /* sparse-input layer + momentum: only the input columns' rows move */
    recnn__layer *l;
    ck_assert_int_eq(recnn__sparse_create(&l, 6, 2, 0, 4), RECNN_OK);
    for (int i = 0; i < 12; i++)
        l->pw->w[i] = 1.0f;
    recnn__optim *o;
    ck_assert_int_eq(recnn__optim_create(&o, RECNN__OPT_MOMENTUM, 0.5), RECNN_OK);
    ck_assert_int_eq(recnn__optim_add_layer(o, l), RECNN_OK);
    int64_t ptr[3] = {0, 1, 3};
    int32_t idx[3] = {4, 1, 4};
    float val[3] = {2, 1, 1}, gy[4] = {1, 0, 0, 1};
    recnn__csr x = {2, ptr, idx, val, NULL, 0};
    recnn__layer_zero_grad(l);
    ck_assert_int_eq(recnn__sparse_backward(l, &x, gy), RECNN_OK);
    ck_assert_int_eq(l->pw->n_rows, 2);
    ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
    /* dW[4] = 2*(1,0) + 1*(0,1) = (2,1); dW[1] = (0,1) */
    ck_assert_float_eq_tol(l->pw->w[8], 1.0f - 1.0f, 1e-6f);
    ck_assert_float_eq_tol(l->pw->w[9], 1.0f - 0.5f, 1e-6f);
    ck_assert_float_eq_tol(l->pw->w[2], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(l->pw->w[3], 0.5f, 1e-6f);
    for (int r = 0; r < 6; r++)
        if (r != 1 && r != 4)
            ck_assert(l->pw->w[2 * r] == 1.0f && l->pw->w[2 * r + 1] == 1.0f);
    recnn__optim_free(o);
    recnn__layer_free(l);
}
END_TEST

/* ---- state save / restore ----------------------------------------------------------- */

static void fake_grads(recnn__param *p, int t)
{
    for (int64_t i = 0; i < p->count; i++)
        p->g[i] = sinf((float)(i + 1) * 0.37f + (float)t);
}

START_TEST(test_state_roundtrip)
{
    for (int kind = RECNN__OPT_SGD; kind <= RECNN__OPT_RPROP; kind++) {
        enum { N = 37 };
        float w[N], g[N], w2[N], g2[N], snap[N];
        for (int i = 0; i < N; i++)
            w[i] = 0.1f * (float)i;
        recnn__param p = recnn__param_make("w", w, g, N, 0, 1);
        recnn__param p2 = recnn__param_make("w", w2, g2, N, 0, 1);
        recnn__optim *o, *o2;
        ck_assert_int_eq(recnn__optim_create(&o, kind, 0.01), RECNN_OK);
        ck_assert_int_eq(recnn__optim_set(o, "weight_decay", 0.01), RECNN_OK);
        ck_assert_int_eq(recnn__optim_schedule(o, RECNN__SCHED_STEP, 0.5, 2), RECNN_OK);
        ck_assert_int_eq(recnn__optim_add(o, &p), RECNN_OK);
        for (int t = 0; t < 3; t++) {
            fake_grads(&p, t);
            ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
            recnn__optim_epoch_end(o);
        }
        size_t sz = recnn__optim_state_size(o);
        unsigned char *blob = malloc(sz);
        ck_assert_int_eq(recnn__optim_state_save(o, blob, sz - 1), RECNN_E_INVALID);
        ck_assert_int_eq(recnn__optim_state_save(o, blob, sz), RECNN_OK);
        memcpy(snap, w, sizeof w);
        for (int t = 3; t < 6; t++) {
            fake_grads(&p, t);
            ck_assert_int_eq(recnn__optim_step(o), RECNN_OK);
            recnn__optim_epoch_end(o);
        }
        /* a fresh optimizer (default settings) resumes exactly */
        memcpy(w2, snap, sizeof w2);
        ck_assert_int_eq(recnn__optim_create(&o2, kind, 0.5), RECNN_OK);
        ck_assert_int_eq(recnn__optim_add(o2, &p2), RECNN_OK);
        ck_assert_int_eq(recnn__optim_state_load(o2, blob, sz), RECNN_OK);
        ck_assert(o2->lr == 0.01 * 0.5); /* schedule position restored */
        for (int t = 3; t < 6; t++) {
            fake_grads(&p2, t);
            ck_assert_int_eq(recnn__optim_step(o2), RECNN_OK);
            recnn__optim_epoch_end(o2);
        }
        ck_assert_mem_eq(w, w2, sizeof w);
        if (kind != RECNN__OPT_SGD)
            ck_assert(memcmp(snap, w, sizeof w) != 0);
        /* damage is detected */
        blob[sz / 2] ^= 0x10;
        ck_assert_int_eq(recnn__optim_state_load(o2, blob, sz), RECNN_E_CORRUPT);
        blob[sz / 2] ^= 0x10;
        ck_assert_int_eq(recnn__optim_state_load(o2, blob, sz - 4), RECNN_E_CORRUPT);
        ck_assert_int_eq(recnn__optim_state_load(o2, "garbage!", 8), RECNN_E_CORRUPT);
        recnn__optim_free(o2);
        /* another kind or another parameter list is refused */
        recnn__optim *o3;
        ck_assert_int_eq(recnn__optim_create(&o3, (kind + 1) % 6, 0.1), RECNN_OK);
        ck_assert_int_eq(recnn__optim_add(o3, &p2), RECNN_OK);
        ck_assert_int_eq(recnn__optim_state_load(o3, blob, sz), RECNN_E_INVALID);
        recnn__optim_free(o3);
        free(blob);
        recnn__optim_free(o);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_optim");
    TCase *tc = tcase_create("optim");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_first_steps);
    tcase_add_test(tc, test_rprop_steps);
    tcase_add_test(tc, test_quadratic);
    tcase_add_test(tc, test_rosenbrock);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_clipping);
    tcase_add_test(tc, test_clipping_large);
    tcase_add_test(tc, test_lazy_adam);
    tcase_add_test(tc, test_lazy_sgd_momentum);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
