/* The neural building blocks through the public header only: a program
 * that includes nothing but <recnn.h> stacks layers, picks a loss and an
 * optimizer, and trains (issue 4, item 5). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recnn.h"

static int quick(void)
{
    const char *q = getenv("RECNN_TEST_QUICK");
    return q && *q && *q != '0';
}

/* xorshift for the toy data (the library's RNG is internal) */
static uint64_t st = 88172645463325252ULL;
static double urand(void)
{
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (double)(st >> 11) * 0x1.0p-53;
}

/* n x d matrix of sigmoid(U V) with rank-3 structure, values in (0, 1) */
static float *toy_data(int n, int d)
{
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    double U[256][3], V[3][64];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            U[i][k] = 2.0 * urand() - 1.0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < d; j++)
            V[k][j] = 2.0 * (2.0 * urand() - 1.0);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += U[i][k] * V[k][j];
            x[i * d + j] = (float)(1.0 / (1.0 + exp(-s)));
        }
    return x;
}

START_TEST(test_public_autoencoder)
{
    const int n = 128, d = 20, h = 6, batch = 32;
    const int epochs = quick() ? 60 : 300;
    float *x = toy_data(n, d);
    recnn_net *net;
    recnn_layer *l;
    ck_assert_int_eq(recnn_net_create(&net, batch), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_dense(&l, d, h, 1, batch), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_activation(&l, RECNN_ACT_SIGMOID, h, -1, batch),
                     RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_dense(&l, h, d, 1, batch), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_net_n_layers(net), 3);
    /* a layer that does not fit is refused (and stays the caller's) */
    ck_assert_int_eq(recnn_layer_create_dense(&l, d + 1, 3, 1, batch), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_E_INVALID);
    ck_assert_str_ne(recnn_last_error(), "");
    recnn_layer_free(l);
    ck_assert_int_eq(recnn_net_init(net, RECNN_INIT_XAVIER_UNIFORM, 0, 42), RECNN_OK);

    recnn_optimizer *opt;
    ck_assert_int_eq(recnn_optimizer_create(&opt, RECNN_OPT_ADAM, 0.01), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add_net(opt, net), RECNN_OK);
    float *grad = malloc(sizeof(float) * (size_t)(batch * d));
    /* backward before any forward is a state error */
    ck_assert_int_eq(recnn_net_backward(net, batch, grad), RECNN_E_STATE);

    double first = 0, last = 0;
    for (int e = 0; e < epochs; e++) {
        double sum = 0;
        for (int b = 0; b < n; b += batch) {
            const float *y;
            double loss;
            recnn_net_zero_grad(net);
            ck_assert_int_eq(recnn_net_forward(net, batch, x + b * d, 1, &y), RECNN_OK);
            ck_assert_int_eq(recnn_loss_mse(batch * d, y, x + b * d, NULL,
                                            1.0f / (float)(batch * d), grad, &loss),
                             RECNN_OK);
            ck_assert_int_eq(recnn_net_backward(net, batch, grad), RECNN_OK);
            ck_assert_int_eq(recnn_optimizer_step(opt), RECNN_OK);
            sum += loss;
        }
        if (e == 0)
            first = sum / (n / batch);
        last = sum / (n / batch);
        recnn_optimizer_epoch_end(opt);
    }
    /* the reconstruction error falls under 1/20 of the first epoch's
     * (measured: 0.284 -> 0.0005 at 300 epochs, 0.0013 at 60) */
    ck_assert_msg(last < 0.05 * first, "first %g last %g", first, last);
    /* the whole data at inference agrees with the last training loss */
    double all = 0;
    for (int b = 0; b < n; b += batch) {
        const float *y;
        double loss;
        ck_assert_int_eq(recnn_net_forward(net, batch, x + b * d, 0, &y), RECNN_OK);
        recnn_loss_mse(batch * d, y, x + b * d, NULL, 1.0f / (float)(batch * d), NULL, &loss);
        all += loss / (n / batch);
    }
    ck_assert(all < 0.05 * first);
    /* parameter access */
    float *w, *g;
    int64_t cnt;
    const char *name;
    ck_assert_int_eq(recnn_layer_param_count(recnn_net_layer(net, 0)), 2);
    ck_assert_int_eq(recnn_layer_param(recnn_net_layer(net, 0), 0, &w, &g, &cnt, &name),
                     RECNN_OK);
    ck_assert_int_eq(cnt, d * h);
    ck_assert_str_eq(name, "W");
    ck_assert_int_eq(recnn_layer_param(recnn_net_layer(net, 1), 0, &w, &g, &cnt, &name),
                     RECNN_E_INVALID);
    free(grad);
    free(x);
    recnn_optimizer_free(opt);
    recnn_net_free(net);
}
END_TEST

/* rating-like sparse rows: about 30 % of d columns observed, values 1..5
 * from a rank-2 model */
typedef struct {
    int64_t *ptr;
    int32_t *idx;
    float *val;
} sparse_rows;

static sparse_rows toy_ratings(int n, int d)
{
    sparse_rows s;
    s.ptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
    s.idx = malloc(sizeof(int32_t) * (size_t)(n * d));
    s.val = malloc(sizeof(float) * (size_t)(n * d));
    double a[64][2], b[64][2];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            a[i][k] = urand();
    for (int j = 0; j < d; j++)
        for (int k = 0; k < 2; k++)
            b[j][k] = urand();
    int64_t k = 0;
    s.ptr[0] = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            if (urand() < 0.3) {
                double r = 1.0 + 2.0 * (a[i][0] * b[j][0] + a[i][1] * b[j][1]);
                s.idx[k] = j;
                s.val[k] = (float)(r > 5 ? 5 : r);
                k++;
            }
        s.ptr[i + 1] = k;
    }
    return s;
}

START_TEST(test_public_sparse_autorec)
{
    /* AutoRec shape from public handles: sparse-input encoder, sigmoid,
     * masked-output decoder; loss over observed ratings only; RProp on the
     * full batch (as in the AutoRec paper) */
    const int n = 60, d = 40, h = 8;
    const int iters = quick() ? 80 : 300;
    sparse_rows s = toy_ratings(n, d);
    int64_t nnz = s.ptr[n];
    recnn_layer *enc, *act, *dec;
    ck_assert_int_eq(recnn_layer_create_sparse_dense(&enc, d, h, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_activation(&act, RECNN_ACT_SIGMOID, h, -1, n),
                     RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_masked_output(&dec, h, d, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn_layer_init(enc, RECNN_INIT_XAVIER_UNIFORM, 0, 1), RECNN_OK);
    ck_assert_int_eq(recnn_layer_init(dec, RECNN_INIT_XAVIER_UNIFORM, 0, 2), RECNN_OK);
    recnn_optimizer *opt;
    ck_assert_int_eq(recnn_optimizer_create(&opt, RECNN_OPT_RPROP, 0.01), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add_layer(opt, enc), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add_layer(opt, dec), RECNN_OK);
    float *z = malloc(sizeof(float) * (size_t)(n * h)), *a = malloc(sizeof(float) * (size_t)(n * h));
    float *ga = malloc(sizeof(float) * (size_t)(n * h)), *gz = malloc(sizeof(float) * (size_t)(n * h));
    float *y = malloc(sizeof(float) * (size_t)nnz), *gy = malloc(sizeof(float) * (size_t)nnz);
    double first = 0, last = 0;
    for (int it = 0; it < iters; it++) {
        double loss;
        recnn_layer_zero_grad(enc);
        recnn_layer_zero_grad(dec);
        ck_assert_int_eq(recnn_layer_forward_sparse(enc, n, s.ptr, s.idx, s.val, z), RECNN_OK);
        ck_assert_int_eq(recnn_layer_forward(act, n, z, a, 1), RECNN_OK);
        ck_assert_int_eq(recnn_layer_forward_masked(dec, n, a, s.ptr, s.idx, y), RECNN_OK);
        ck_assert_int_eq(recnn_loss_mse(nnz, y, s.val, NULL, 1.0f / (float)nnz, gy, &loss),
                         RECNN_OK);
        ck_assert_int_eq(recnn_layer_backward_masked(dec, n, a, s.ptr, s.idx, gy, ga),
                         RECNN_OK);
        ck_assert_int_eq(recnn_layer_backward(act, n, z, a, ga, gz), RECNN_OK);
        ck_assert_int_eq(recnn_layer_backward_sparse(enc, n, s.ptr, s.idx, s.val, gz),
                         RECNN_OK);
        if (it == 0) {
            /* the decoder's W gradient touched only observed columns */
            const int32_t *rows;
            int64_t nr;
            ck_assert_int_eq(recnn_layer_touched_rows(dec, 0, &rows, &nr), RECNN_OK);
            ck_assert(nr > 0 && nr <= d);
        }
        ck_assert_int_eq(recnn_optimizer_step(opt), RECNN_OK);
        if (it == 0)
            first = loss;
        last = loss;
    }
    /* mean squared error on the observed ratings: below 1/50 of the start
     * (measured: 4.44 -> 0.0016 at 300 iterations, 0.016 at 80) */
    ck_assert_msg(last < 0.02 * first, "first %g last %g", first, last);
    free(z);
    free(a);
    free(ga);
    free(gz);
    free(y);
    free(gy);
    free(s.ptr);
    free(s.idx);
    free(s.val);
    recnn_optimizer_free(opt);
    recnn_layer_free(enc);
    recnn_layer_free(act);
    recnn_layer_free(dec);
}
END_TEST

START_TEST(test_public_net_sparse_resume)
{
    /* sequential net with a sparse first layer + masked MSE on its dense
     * output; the optimizer state saved mid-way resumes bit-identically */
    const int n = 30, d = 24, h = 5;
    sparse_rows s = toy_ratings(n, d);
    recnn_net *net;
    recnn_layer *l;
    ck_assert_int_eq(recnn_net_create(&net, n), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_sparse_dense(&l, d, h, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_adaptive(&l, h, 2, 1, 0.0f, n), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_dense(&l, h, d, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_OK);
    /* a sparse-input layer only as the first */
    ck_assert_int_eq(recnn_layer_create_sparse_dense(&l, d, d, 1, n), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, l), RECNN_E_INVALID);
    recnn_layer_free(l);
    ck_assert_int_eq(recnn_net_init(net, RECNN_INIT_HE_UNIFORM, 0, 3), RECNN_OK);
    recnn_optimizer *opt;
    ck_assert_int_eq(recnn_optimizer_create(&opt, RECNN_OPT_ADAM, 0.02), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add_net(opt, net), RECNN_OK);
    float *g = malloc(sizeof(float) * (size_t)(n * d));
    double losses[40];
    unsigned char *blob = NULL;
    size_t sz = 0;
    /* snapshot of every parameter at step 20 */
    float *snap[3][3] = {{0}};
    for (int it = 0; it < 40; it++) {
        if (it == 20) {
            sz = recnn_optimizer_state_size(opt);
            blob = malloc(sz);
            ck_assert_int_eq(recnn_optimizer_state_save(opt, blob, sz), RECNN_OK);
            for (int li = 0; li < 3; li++)
                for (int pi = 0; pi < recnn_layer_param_count(recnn_net_layer(net, li)); pi++) {
                    float *w;
                    int64_t c;
                    recnn_layer_param(recnn_net_layer(net, li), pi, &w, NULL, &c, NULL);
                    snap[li][pi] = malloc(sizeof(float) * (size_t)c);
                    memcpy(snap[li][pi], w, sizeof(float) * (size_t)c);
                }
        }
        const float *y;
        recnn_net_zero_grad(net);
        ck_assert_int_eq(recnn_net_forward_sparse(net, n, s.ptr, s.idx, s.val, 1, &y), RECNN_OK);
        ck_assert_int_eq(recnn_loss_masked_mse(n, d, y, s.ptr, s.idx, s.val, 0.0f, 0.0f,
                                               1.0f / (float)s.ptr[n], g, &losses[it]),
                         RECNN_OK);
        ck_assert_int_eq(recnn_net_backward(net, n, g), RECNN_OK);
        ck_assert_int_eq(recnn_optimizer_step(opt), RECNN_OK);
    }
    ck_assert(losses[39] < 0.1 * losses[0]); /* measured 7.5 -> 0.27 */
    /* rewind parameters and optimizer to step 20, replay */
    for (int li = 0; li < 3; li++)
        for (int pi = 0; pi < recnn_layer_param_count(recnn_net_layer(net, li)); pi++) {
            float *w;
            int64_t c;
            recnn_layer_param(recnn_net_layer(net, li), pi, &w, NULL, &c, NULL);
            memcpy(w, snap[li][pi], sizeof(float) * (size_t)c);
            free(snap[li][pi]);
        }
    recnn_optimizer *opt2;
    ck_assert_int_eq(recnn_optimizer_create(&opt2, RECNN_OPT_ADAM, 1.0), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add_net(opt2, net), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_state_load(opt2, blob, sz), RECNN_OK);
    double lr, steps;
    ck_assert_int_eq(recnn_optimizer_get(opt2, "lr", &lr), RECNN_OK);
    ck_assert(lr == 0.02);
    ck_assert_int_eq(recnn_optimizer_get(opt2, "steps", &steps), RECNN_OK);
    ck_assert(steps == 20);
    for (int it = 20; it < 40; it++) {
        const float *y;
        double loss;
        recnn_net_zero_grad(net);
        ck_assert_int_eq(recnn_net_forward_sparse(net, n, s.ptr, s.idx, s.val, 1, &y), RECNN_OK);
        recnn_loss_masked_mse(n, d, y, s.ptr, s.idx, s.val, 0.0f, 0.0f, 1.0f / (float)s.ptr[n],
                              g, &loss);
        ck_assert_msg(loss == losses[it], "step %d: %.17g vs %.17g", it, loss, losses[it]);
        ck_assert_int_eq(recnn_net_backward(net, n, g), RECNN_OK);
        ck_assert_int_eq(recnn_optimizer_step(opt2), RECNN_OK);
    }
    free(blob);
    free(g);
    free(s.ptr);
    free(s.idx);
    free(s.val);
    recnn_optimizer_free(opt);
    recnn_optimizer_free(opt2);
    recnn_net_free(net);
}
END_TEST

START_TEST(test_public_tied_and_merges)
{
    recnn_layer *enc, *dec, *cat, *prod, *emb;
    ck_assert_int_eq(recnn_layer_create_dense(&enc, 6, 3, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_tied(&dec, enc, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_in_dim(dec), 3);
    ck_assert_int_eq(recnn_layer_out_dim(dec), 6);
    ck_assert_int_eq(recnn_layer_param_count(dec), 1); /* its bias only */
    ck_assert_int_eq(recnn_layer_init(enc, RECNN_INIT_NORMAL, 0.5f, 9), RECNN_OK);
    /* decoder(h) == h W^T: compare with the encoder's W by hand */
    float *W;
    recnn_layer_param(enc, 0, &W, NULL, NULL, NULL);
    float hh[3] = {1, -2, 0.5f}, y[6];
    ck_assert_int_eq(recnn_layer_forward(dec, 1, hh, y, 0), RECNN_OK);
    for (int j = 0; j < 6; j++)
        ck_assert_float_eq_tol(y[j], W[j * 3] - 2 * W[j * 3 + 1] + 0.5f * W[j * 3 + 2], 1e-5f);
    ck_assert_int_eq(recnn_layer_create_tied(&cat, NULL, 1, 4), RECNN_E_INVALID);
    ck_assert_ptr_null(cat);
    /* merges (NeuMF) */
    ck_assert_int_eq(recnn_layer_create_concat(&cat, 2, 3, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_product(&prod, 2, 4), RECNN_OK);
    float a[2] = {1, 2}, b[3] = {3, 4, 5}, c[5], p[2], ga[2], gb[2];
    ck_assert_int_eq(recnn_layer_forward2(cat, 1, a, b, c), RECNN_OK);
    ck_assert_float_eq(c[2], 3.0f);
    ck_assert_int_eq(recnn_layer_forward2(prod, 1, a, b, p), RECNN_OK);
    ck_assert_float_eq(p[1], 8.0f);
    float gy[2] = {1, 1};
    ck_assert_int_eq(recnn_layer_backward2(prod, 1, a, b, gy, ga, gb), RECNN_OK);
    ck_assert_float_eq(ga[1], 4.0f);
    ck_assert_float_eq(gb[0], 1.0f);
    /* embeddings, with their touched rows */
    ck_assert_int_eq(recnn_layer_create_embedding(&emb, 10, 2, 4), RECNN_OK);
    int32_t ids[3] = {7, 2, 7};
    float e[6], ge[6] = {1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(recnn_layer_forward_ids(emb, 3, ids, e), RECNN_OK);
    recnn_layer_zero_grad(emb);
    ck_assert_int_eq(recnn_layer_backward_ids(emb, 3, ids, ge), RECNN_OK);
    const int32_t *rows;
    int64_t nr;
    ck_assert_int_eq(recnn_layer_touched_rows(emb, 0, &rows, &nr), RECNN_OK);
    ck_assert_int_eq(nr, 2);
    float *gE;
    recnn_layer_param(emb, 0, NULL, &gE, NULL, NULL);
    ck_assert_float_eq(gE[14], 2.0f);
    /* dense layers report dense gradients */
    ck_assert_int_eq(recnn_layer_touched_rows(enc, 0, &rows, &nr), RECNN_OK);
    ck_assert_int_eq(nr, -1);
    /* a net refuses merges and embeddings */
    recnn_net *net;
    ck_assert_int_eq(recnn_net_create(&net, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, emb), RECNN_E_UNSUPPORTED);
    recnn_net_free(net);
    recnn_layer_free(dec);
    recnn_layer_free(enc);
    recnn_layer_free(cat);
    recnn_layer_free(prod);
    recnn_layer_free(emb);
    recnn_layer_free(NULL);
    recnn_optimizer_free(NULL);
    recnn_net_free(NULL);
    /* penalties and init through the public names */
    double v;
    float w2[2] = {3, -4}, g2[2] = {0, 0};
    ck_assert_int_eq(recnn_penalty_l2(2, w2, 2.0f, g2, &v), RECNN_OK);
    ck_assert(fabs(v - 25.0) < 1e-9);
    ck_assert_float_eq(g2[1], -8.0f);
    ck_assert_int_eq(recnn_penalty_elastic(2, w2, 1.0f, 2.0f, NULL, &v), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_penalty_range(2, w2, 5.0f, 1.0f, 1.0f, 0, NULL, &v),
                     RECNN_E_INVALID);
    float z[2] = {0, 0}, t[2] = {0, 1};
    ck_assert_int_eq(recnn_loss_bce_logits(2, z, t, NULL, 0.5f, NULL, &v), RECNN_OK);
    ck_assert(fabs(v - log(2.0)) < 1e-7);
    float iw[100];
    ck_assert_int_eq(recnn_init_fill(iw, 100, RECNN_INIT_UNIFORM, 1, 1, 0.25f, 1), RECNN_OK);
    for (int i = 0; i < 100; i++)
        ck_assert(fabsf(iw[i]) <= 0.25f);
}
END_TEST

/* Every public entry that takes CSR arrays refuses row offsets that are
 * negative or decrease before it reads a column index (ptr = {-1, 2, 3}
 * was read at idx[-1]; {0, 2, 1} was accepted), and changes nothing: no
 * output written, no gradient added.  ptr[0] > 0 stays allowed (documented:
 * a slice of a larger CSR). */
static int last_error_has(const char *what)
{
    const char *e = recnn_last_error();
    return e && strstr(e, what) != NULL;
}

START_TEST(test_public_csr_offsets_checked)
{
    enum { D = 5, H = 3, N = 2 };
    const int32_t idx[4] = {0, 2, 4, 1};
    const float val[4] = {1, 2, 3, 4};
    const int64_t bad[4][N + 1] = {{-1, 2, 3}, {0, 2, 1}, {1, 0, 2}, {0, 3, 2}};
    recnn_layer *enc, *dec, *tied, *act;
    recnn_net *net;
    ck_assert_int_eq(recnn_layer_create_sparse_dense(&enc, D, H, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_masked_output(&dec, H, D, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_tied(&tied, enc, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_layer_init(enc, RECNN_INIT_XAVIER_UNIFORM, 0, 3), RECNN_OK);
    ck_assert_int_eq(recnn_layer_init(dec, RECNN_INIT_XAVIER_UNIFORM, 0, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_create(&net, 4), RECNN_OK);
    recnn_layer *enc2;
    ck_assert_int_eq(recnn_layer_create_sparse_dense(&enc2, D, H, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, enc2), RECNN_OK);
    ck_assert_int_eq(recnn_layer_create_activation(&act, RECNN_ACT_SIGMOID, H, -1, 4),
                     RECNN_OK);
    ck_assert_int_eq(recnn_net_add(net, act), RECNN_OK);
    float h[N * H] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, gyh[N * H], y[N * D], gy[N * D];
    float gh[N * H], lg[N * D];
    for (int i = 0; i < N * H; i++)
        gyh[i] = 1.0f;
    for (int i = 0; i < N * D; i++)
        gy[i] = 1.0f;
    recnn_layer *masked[2] = {dec, tied};
    for (int c = 0; c < 4; c++) {
        const int64_t *p = bad[c];
        recnn_layer_zero_grad(enc);
        recnn_layer_zero_grad(dec);
        recnn_layer_zero_grad(tied);
        for (int i = 0; i < N * D; i++)
            y[i] = -7.0f;
        ck_assert_int_eq(recnn_layer_forward_sparse(enc, N, p, idx, val, y), RECNN_E_INVALID);
        ck_assert_msg(last_error_has("CSR offset"), "case %d: %s", c, recnn_last_error());
        ck_assert_int_eq(recnn_layer_backward_sparse(enc, N, p, idx, val, gyh),
                         RECNN_E_INVALID);
        ck_assert_msg(last_error_has("CSR offset"), "case %d: %s", c, recnn_last_error());
        for (int m = 0; m < 2; m++) {
            ck_assert_int_eq(recnn_layer_forward_masked(masked[m], N, h, p, idx, y),
                             RECNN_E_INVALID);
            ck_assert_msg(last_error_has("CSR offset"), "case %d/%d: %s", c, m,
                          recnn_last_error());
            ck_assert_int_eq(recnn_layer_backward_masked(masked[m], N, h, p, idx, gy, gh),
                             RECNN_E_INVALID);
            ck_assert_msg(last_error_has("CSR offset"), "case %d/%d: %s", c, m,
                          recnn_last_error());
        }
        for (int i = 0; i < N * D; i++)
            ck_assert_float_eq(y[i], -7.0f);
        /* no gradient was added anywhere */
        recnn_layer *all[2] = {enc, dec};
        for (int L = 0; L < 2; L++)
            for (int q = 0; q < recnn_layer_param_count(all[L]); q++) {
                float *g;
                int64_t cnt;
                ck_assert_int_eq(recnn_layer_param(all[L], q, NULL, &g, &cnt, NULL), RECNN_OK);
                for (int64_t k = 0; k < cnt; k++)
                    ck_assert_float_eq(g[k], 0.0f);
            }
        const float *ny = NULL;
        ck_assert_int_eq(recnn_net_forward_sparse(net, N, p, idx, val, 0, &ny),
                         RECNN_E_INVALID);
        ck_assert_msg(last_error_has("CSR offset"), "case %d: %s", c, recnn_last_error());
        ck_assert_ptr_null(ny);
        double loss = -1;
        ck_assert_int_eq(recnn_loss_masked_mse(N, D, y, p, idx, val, 0.5f, 0.0f, 1.0f, lg,
                                               &loss),
                         RECNN_E_INVALID);
        ck_assert_msg(last_error_has("CSR offset"), "case %d: %s", c, recnn_last_error());
        ck_assert(loss == -1);
    }
    /* a batch starting at ptr[0] = 1 is the slice idx[1..4) and gives the
     * same result as the same rows re-based at 0 */
    const int64_t p1[N + 1] = {1, 3, 4}, p0[N + 1] = {0, 2, 3};
    float y1[N * H], y0[N * H], m1[3], m0[3];
    ck_assert_int_eq(recnn_layer_forward_sparse(enc, N, p1, idx, val, y1), RECNN_OK);
    ck_assert_int_eq(recnn_layer_forward_sparse(enc, N, p0, idx + 1, val + 1, y0), RECNN_OK);
    ck_assert_mem_eq(y1, y0, sizeof y1);
    ck_assert_int_eq(recnn_layer_forward_masked(dec, N, h, p1, idx, m1), RECNN_OK);
    ck_assert_int_eq(recnn_layer_forward_masked(dec, N, h, p0, idx + 1, m0), RECNN_OK);
    ck_assert_mem_eq(m1, m0, sizeof m1);
    const float *ny = NULL;
    ck_assert_int_eq(recnn_net_forward_sparse(net, N, p1, idx, val, 0, &ny), RECNN_OK);
    ck_assert_ptr_nonnull(ny);
    recnn_net_free(net);
    recnn_layer_free(tied);
    recnn_layer_free(dec);
    recnn_layer_free(enc);
}
END_TEST

/* A net frees its layers, so a layer may belong to one net only: adding it
 * to a second net (which made freeing both nets a double free) or twice to
 * the same one is refused and leaves both nets as they were; a layer that
 * a net refused for another reason stays free to be added elsewhere. */
START_TEST(test_public_net_layer_ownership)
{
    recnn_net *n1, *n2, *n3;
    ck_assert_int_eq(recnn_net_create(&n1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_create(&n2, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_create(&n3, 8), RECNN_OK);
    recnn_layer *l, *l2, *l3;
    ck_assert_int_eq(recnn_layer_create_dense(&l, 3, 3, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(n1, l), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(n2, l), RECNN_E_INVALID);
    ck_assert_msg(last_error_has("another net"), "%s", recnn_last_error());
    ck_assert_int_eq(recnn_net_n_layers(n2), 0);
    ck_assert_int_eq(recnn_net_add(n1, l), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_net_n_layers(n1), 1);
    /* refused for its max_batch (4 < 8): still free, then taken by n1 */
    ck_assert_int_eq(recnn_layer_create_dense(&l3, 3, 2, 0, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(n3, l3), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_net_n_layers(n3), 0);
    ck_assert_int_eq(recnn_net_add(n1, l3), RECNN_OK);
    ck_assert_ptr_eq(recnn_net_layer(n1, 1), l3);
    ck_assert_int_eq(recnn_net_add(n2, l3), RECNN_E_INVALID);
    /* n2 works with a layer of its own */
    ck_assert_int_eq(recnn_layer_create_dense(&l2, 3, 3, 1, 4), RECNN_OK);
    ck_assert_int_eq(recnn_net_add(n2, l2), RECNN_OK);
    ck_assert_int_eq(recnn_net_init(n1, RECNN_INIT_XAVIER_UNIFORM, 0, 1), RECNN_OK);
    ck_assert_int_eq(recnn_net_init(n2, RECNN_INIT_XAVIER_UNIFORM, 0, 2), RECNN_OK);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const float *y1, *y2;
    ck_assert_int_eq(recnn_net_forward(n1, 2, x, 0, &y1), RECNN_OK);
    ck_assert_int_eq(recnn_net_forward(n2, 2, x, 0, &y2), RECNN_OK);
    ck_assert(isfinite(y1[0]) && isfinite(y2[0]));
    /* each layer freed once (ASan / valgrind see a double free otherwise) */
    recnn_net_free(n1);
    recnn_net_free(n2);
    recnn_net_free(n3);
}
END_TEST

/* recnn_init_fill of nothing: a NULL buffer with count 0 is fine for every
 * scheme (ZERO called memset(NULL, 0, 0), undefined), NULL with a count
 * is not. */
START_TEST(test_public_init_fill_empty)
{
    for (int s = RECNN_INIT_ZERO; s <= RECNN_INIT_UNIFORM; s++)
        ck_assert_int_eq(recnn_init_fill(NULL, 0, s, 1, 1, 0.5f, 1), RECNN_OK);
    ck_assert_int_eq(recnn_init_fill(NULL, 3, RECNN_INIT_ZERO, 1, 1, 0.5f, 1),
                     RECNN_E_INVALID);
    float w[3] = {1, 2, 3};
    ck_assert_int_eq(recnn_init_fill(w, 2, RECNN_INIT_ZERO, 1, 1, 0, 1), RECNN_OK);
    ck_assert(w[0] == 0 && w[1] == 0 && w[2] == 3);
}
END_TEST

/* Optimizer hyper-parameters the float update cannot use are refused;
 * RProp's first step obeys its bounds and follows a later lr; clip_value
 * does not hide an infinite gradient, and a refused step changes nothing. */
START_TEST(test_public_optimizer_edges)
{
    recnn_optimizer *o = NULL;
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_SGD, 1e39), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_SGD, 1e-50), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_ADAM, 1e-3), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_set(o, "lr", 1e300), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_optimizer_set(o, "beta2", 0.99999999), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_optimizer_set(o, "beta2", 0.9999), RECNN_OK);
    recnn_optimizer_free(o);

    /* RProp: created with lr 0.01, then lr 0.3: the first move is 0.3 */
    float w = 1, g = 1;
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_RPROP, 0.01), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add(o, &w, &g, 1), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_set(o, "lr", 0.3), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_step(o), RECNN_OK);
    ck_assert(fabsf(w - 0.7f) < 1e-6f);
    recnn_optimizer_free(o);
    /* lr 100 > step_max 50: the first move is 50 (torch.optim.Rprop) */
    w = 1;
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_RPROP, 100), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add(o, &w, &g, 1), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_step(o), RECNN_OK);
    ck_assert(fabsf(w - (1 - 50)) < 1e-4f);
    recnn_optimizer_free(o);

    /* clip_value with an infinite or NaN gradient: E_NUMERIC, nothing
     * changed (the infinity was clamped to the bound and stepped) */
    float w2[2] = {1, 1}, g2[2] = {INFINITY, 5};
    ck_assert_int_eq(recnn_optimizer_create(&o, RECNN_OPT_SGD, 0.1), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_add(o, w2, g2, 2), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_set(o, "clip_value", 1), RECNN_OK);
    ck_assert_int_eq(recnn_optimizer_step(o), RECNN_E_NUMERIC);
    g2[0] = NAN;
    ck_assert_int_eq(recnn_optimizer_step(o), RECNN_E_NUMERIC);
    ck_assert(w2[0] == 1 && w2[1] == 1 && g2[1] == 5);
    g2[0] = 3; /* finite: clamped to 1 each, norm sqrt(2) */
    ck_assert_int_eq(recnn_optimizer_step(o), RECNN_OK);
    ck_assert(fabs(recnn_optimizer_grad_norm(o) - sqrt(2.0)) < 1e-6);
    recnn_optimizer_free(o);

    /* masked MSE: a row with one column twice is refused (its value and
     * gradient disagreed) */
    const float y[4] = {0, 0, 0, 0};
    const int64_t ptr[2] = {0, 2};
    const int32_t idx[2] = {1, 1};
    const float val[2] = {2, 4};
    double loss = -1;
    ck_assert_int_eq(recnn_loss_masked_mse(1, 4, y, ptr, idx, val, 0.5f, 0, 1, NULL, &loss),
                     RECNN_E_INVALID);
    const int32_t idx_ok[2] = {1, 2};
    ck_assert_int_eq(
        recnn_loss_masked_mse(1, 4, y, ptr, idx_ok, val, 0.0f, 0, 1, NULL, &loss), RECNN_OK);
    ck_assert(fabs(loss - 20.0) < 1e-9);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_api");
    TCase *tc = tcase_create("public");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_public_autoencoder);
    tcase_add_test(tc, test_public_sparse_autorec);
    tcase_add_test(tc, test_public_net_sparse_resume);
    tcase_add_test(tc, test_public_tied_and_merges);
    tcase_add_test(tc, test_public_csr_offsets_checked);
    tcase_add_test(tc, test_public_net_layer_ownership);
    tcase_add_test(tc, test_public_init_fill_empty);
    tcase_add_test(tc, test_public_optimizer_edges);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
