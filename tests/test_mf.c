/* Tests for the biased matrix factorisation model (kind "mf"). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "models/model.h"
#include "common/fixtures.h"




static double mean_rmse(const recnn_dataset *train, const recnn_dataset *test)
{
    double mu = 0, se = 0;
    for (int64_t k = 0; k < train->n_ratings; k++)
        mu += train->value[k];
    mu /= (double)train->n_ratings;
    for (int64_t k = 0; k < test->n_ratings; k++)
        se += (test->value[k] - mu) * (test->value[k] - mu);
    return sqrt(se / (double)test->n_ratings);
}

static recnn_model *mf_new(const char *settings)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "mf"), RECNN_OK);
    int st = recnn_model_configure(m, settings);
    ck_assert_msg(st == RECNN_OK, "configure \"%s\": %s", settings, recnn_last_error());
    return m;
}

/* Named tensor of a fitted model (borrowed). */
static float *tensor(const recnn_model *m, const char *name, int64_t *count)
{
    recnn__tensor t[RECNN__MAX_TENSORS];
    int n = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
    for (int j = 0; j < n; j++)
        if (strcmp(t[j].name, name) == 0) {
            if (count)
                *count = t[j].count;
            return t[j].data;
        }
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

/* One rating, one user, one item: after one SGD epoch the parameters are one
 * Funk/Koren update from the initial draw N(0, init_std^2) (users' rows
 * first, then items', from stream 0 of the seed). */
START_TEST(test_one_sgd_step)
{
    const int64_t u = 7, i = 9;
    const float r = 4.0f;
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, 1, &u, &i, &r, NULL, 1, 5, 0),
                     RECNN_OK);
    recnn_model *m = mf_new("factors=3 epochs=1 lr=0.1 lr_decay=1 l2=0.05 l2_bias=0.02 "
                            "init_std=1 seed=11 blocks=1");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    recnn_rng g;
    recnn__rng_stream(&g, 11, 0);
    double p[3], q[3];
    for (int f = 0; f < 3; f++)
        p[f] = (float)recnn__rng_normal(&g);
    for (int f = 0; f < 3; f++)
        q[f] = (float)recnn__rng_normal(&g);
    double mu = 4.0, dot = 0;
    for (int f = 0; f < 3; f++)
        dot += p[f] * q[f];
    double e = r - (mu + dot), lr = 0.1, l2 = 0.05;
    double bu = lr * e, bi = lr * e, p2[3], q2[3], dot2 = 0;
    for (int f = 0; f < 3; f++) {
        p2[f] = p[f] + lr * (e * q[f] - l2 * p[f]);
        q2[f] = q[f] + lr * (e * p[f] - l2 * q[f]);
        dot2 += p2[f] * q2[f];
    }
    const float *P = tensor(m, "mf.user_factors", NULL);
    const float *Q = tensor(m, "mf.item_factors", NULL);
    for (int f = 0; f < 3; f++) {
        ck_assert_double_eq_tol(P[f], p2[f], 1e-5);
        ck_assert_double_eq_tol(Q[f], q2[f], 1e-5);
    }
    ck_assert_double_eq_tol(tensor(m, "mf.user_bias", NULL)[0], bu, 1e-6);
    ck_assert_double_eq_tol(tensor(m, "mf.item_bias", NULL)[0], bi, 1e-6);
    float pred;
    ck_assert_int_eq(recnn_model_predict(m, 7, 9, &pred), RECNN_OK);
    /* predict is not clamped by the model; compare the raw value */
    ck_assert_double_eq_tol(pred, mu + bu + bi + dot2, 1e-5);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

static void check_converges(const char *settings, double ratio)
{
    int nu = test_quick() ? 120 : 200, ni = test_quick() ? 80 : 150;
    recnn_dataset *d = test_planted(nu, ni, 3, 0.3, 0.1, 5);
    recnn_dataset *tr, *te;
    test_split(d, 6, &tr, &te);
    recnn_model *m = mf_new(settings);
    int st = recnn_model_fit(m, tr, NULL);
    ck_assert_msg(st == RECNN_OK, "%s: %s", settings, recnn_last_error());
    double base = mean_rmse(tr, te), got = recnn__valid_rmse(m, te);
    ck_assert_msg(got < ratio * base, "%s: test RMSE %.4f vs global mean %.4f", settings,
                  got, base);
    recnn_model_free(m);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}

START_TEST(test_converges_sgd)
{
    check_converges("solver=sgd factors=8 epochs=60 lr=0.02 l2=0.02", 0.5);
}
END_TEST

START_TEST(test_converges_gd)
{
    check_converges("solver=gd factors=8 epochs=300 lr=0.5 lr_decay=1 l2=0.02", 0.6);
}
END_TEST

START_TEST(test_converges_als)
{
    check_converges("solver=als factors=8 epochs=10 l2=0.05", 0.5);
}
END_TEST

START_TEST(test_converges_sigmoid_dropout)
{
    check_converges("solver=sgd sigmoid=1 factors=8 epochs=80 lr=0.1 l2=0.001 "
                    "l2_bias=0.001",
                    0.6);
    check_converges("solver=sgd dropout=0.1 factors=8 epochs=80 lr=0.02 l2=0.02", 0.6);
}
END_TEST

/* Early stopping on a validation set restores the best epoch, and the
 * progress callback sees every epoch. */
static int count_epochs(const recnn_progress *p, void *ud)
{
    int *n = ud;
    ck_assert_int_eq(p->epoch, *n + 1);
    ck_assert(isfinite(p->train_loss));
    ck_assert(isfinite(p->valid_metric));
    (*n)++;
    return 0;
}

START_TEST(test_early_stopping)
{
    recnn_dataset *d = test_planted(100, 80, 3, 0.3, 0.3, 8);
    recnn_dataset *tr, *va;
    test_split(d, 9, &tr, &va);
    /* heavy overfitting: no regularisation, many factors */
    recnn_model *m = mf_new("factors=40 l2=0 l2_bias=0 lr=0.05 lr_decay=1 epochs=200 "
                            "patience=3 init_std=0.3");
    int n = 0;
    recnn_model_set_progress(m, count_epochs, &n);
    ck_assert_int_eq(recnn_model_fit(m, tr, va), RECNN_OK);
    ck_assert_int_lt(n, 200);
    ck_assert_int_eq(n, m->best_epoch + 3);
    ck_assert_double_eq_tol(recnn__valid_rmse(m, va), m->best_metric, 1e-5);
    recnn_model_free(m);
    recnn_dataset_free(tr);
    recnn_dataset_free(va);
    recnn_dataset_free(d);
}
END_TEST

static float *predict_all(const recnn_model *m, const recnn_dataset *d)
{
    float *p = malloc((size_t)d->n_ratings * sizeof *p);
    ck_assert(p);
    ck_assert_int_eq(recnn_model_predict_dataset(m, d, p), RECNN_OK);
    return p;
}

static float *fit_predict(const char *settings, int threads, const recnn_dataset *tr,
                          const recnn_dataset *te)
{
    recnn_set_num_threads(threads);
    recnn_model *m = mf_new(settings);
    ck_assert_int_eq(recnn_model_fit(m, tr, NULL), RECNN_OK);
    float *p = predict_all(m, te);
    recnn_model_free(m);
    recnn_set_num_threads(0);
    return p;
}

/* mf.c: sub-epochs smaller than this run on one thread */
extern int64_t recnn__mf_parallel_min;

START_TEST(test_deterministic)
{
    recnn__mf_parallel_min = 0; /* exercise the parallel block schedule */
    recnn_dataset *d = test_planted(150, 100, 3, 0.3, 0.2, 12);
    recnn_dataset *tr, *te;
    test_split(d, 13, &tr, &te);
    const char *cfgs[] = {"solver=sgd factors=10 epochs=8 seed=3",
                          "solver=sgd factors=10 epochs=8 seed=3 dropout=0.2",
                          "solver=gd factors=10 epochs=8 seed=3",
                          "solver=als factors=10 epochs=3 seed=3"};
    size_t bytes = (size_t)te->n_ratings * sizeof(float);
    for (int c = 0; c < 4; c++) {
        float *a = fit_predict(cfgs[c], 2, tr, te);
        float *b = fit_predict(cfgs[c], 2, tr, te);
        float *one = fit_predict(cfgs[c], 1, tr, te);
        ck_assert_msg(memcmp(a, b, bytes) == 0, "%s: two runs differ", cfgs[c]);
        /* sgd: the block schedule does not depend on the thread count */
        if (c < 2)
            ck_assert_msg(memcmp(a, one, bytes) == 0, "%s: 1 vs 2 threads differ",
                          cfgs[c]);
        free(a);
        free(b);
        free(one);
    }
    /* a different seed gives different numbers */
    float *a = fit_predict("solver=sgd factors=10 epochs=8 seed=3", 2, tr, te);
    float *b = fit_predict("solver=sgd factors=10 epochs=8 seed=4", 2, tr, te);
    ck_assert(memcmp(a, b, bytes) != 0);
    free(a);
    free(b);
    recnn__mf_parallel_min = 100000;
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}
END_TEST

/* After ALS the last half-sweep solved every user's (bias, factors) exactly:
 * the gradient of the objective with respect to them is zero. */
START_TEST(test_als_closed_form)
{
    recnn_dataset *d = test_planted(30, 20, 2, 0.5, 0.3, 21);
    const double l2 = 0.1, l2b = 0.05;
    recnn_model *m = mf_new("solver=als factors=2 epochs=3 l2=0.1 l2_bias=0.05");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    const float *mu = tensor(m, "mf.mu", NULL), *bu = tensor(m, "mf.user_bias", NULL);
    const float *bi = tensor(m, "mf.item_bias", NULL);
    const float *P = tensor(m, "mf.user_factors", NULL);
    const float *Q = tensor(m, "mf.item_factors", NULL);
    double mean = 0;
    for (int64_t k = 0; k < d->n_ratings; k++)
        mean += d->value[k];
    ck_assert_double_eq_tol(mu[0], mean / (double)d->n_ratings, 1e-5);
    for (int64_t u = 0; u < d->n_users; u++) {
        double g[3] = {0, 0, 0};
        int64_t n = d->row_ptr[u + 1] - d->row_ptr[u];
        for (int64_t k = d->row_ptr[u]; k < d->row_ptr[u + 1]; k++) {
            int32_t i = d->item[k];
            double e = d->value[k] - (mu[0] + bu[u] + bi[i] + P[u * 2] * Q[i * 2] +
                                      P[u * 2 + 1] * Q[i * 2 + 1]);
            g[0] += e;
            g[1] += e * Q[i * 2];
            g[2] += e * Q[i * 2 + 1];
        }
        g[0] -= n * l2b * bu[u];
        g[1] -= n * l2 * P[u * 2];
        g[2] -= n * l2 * P[u * 2 + 1];
        for (int j = 0; j < 3; j++)
            ck_assert_msg(fabs(g[j]) < 2e-3, "user %lld gradient %d = %g", (long long)u,
                          j, g[j]);
    }
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* Fold-in of a training user's own ratings into an ALS model repeats the
 * last ALS user solve, so it reproduces that user's recommendations. */
START_TEST(test_fold_in)
{
    recnn_dataset *d = test_planted(60, 50, 3, 0.4, 0.2, 31);
    recnn_model *m = mf_new("solver=als factors=4 epochs=4 l2=0.1");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    for (int32_t u = 0; u < 5; u++) {
        int64_t n = d->row_ptr[u + 1] - d->row_ptr[u];
        int64_t *ids = malloc((size_t)n * sizeof *ids);
        for (int64_t j = 0; j < n; j++)
            ids[j] = d->items->ext[d->item[d->row_ptr[u] + j]];
        int64_t a[10], b[10];
        float sa[10], sb[10];
        size_t na, nb;
        ck_assert_int_eq(recnn_model_recommend(m, d->users->ext[u], 10, a, sa, &na),
                         RECNN_OK);
        ck_assert_int_eq(recnn_model_recommend_new(m, (size_t)n, ids,
                                                   d->value + d->row_ptr[u], 10, b, sb,
                                                   &nb),
                         RECNN_OK);
        ck_assert_uint_eq(na, nb);
        for (size_t j = 0; j < na; j++)
            ck_assert_double_eq_tol(sa[j], sb[j], 2e-3);
        free(ids);
    }
    /* sigmoid models cannot fold in */
    recnn_model *s = mf_new("sigmoid=1 epochs=2");
    ck_assert_int_eq(recnn_model_fit(s, d, NULL), RECNN_OK);
    int64_t item = d->items->ext[0], out[3];
    float r = 4;
    size_t n_out;
    ck_assert_int_eq(recnn_model_recommend_new(s, 1, &item, &r, 3, out, NULL, &n_out),
                     RECNN_E_UNSUPPORTED);
    recnn_model_free(s);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(test_settings_and_scores)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "mf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_str(m, "solver", "newton"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "nope", 1), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_model_set_float(m, "dropout", 0.99), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "solver=als sigmoid=1 epochs=2"), RECNN_OK);
    recnn_dataset *d = test_planted(40, 30, 2, 0.4, 0.2, 41);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "solver=gd sigmoid=0 dropout=0.5"), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "solver=sgd sigmoid=1 dropout=0"), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_int(m, "epochs", 3), RECNN_E_STATE);
    /* sigmoid outputs stay inside the rating scale; score_user agrees with
     * predict */
    float *sc = malloc((size_t)d->n_items * sizeof *sc);
    ck_assert_int_eq(recnn_model_score_user(m, 3, sc), RECNN_OK);
    for (int64_t i = 0; i < d->n_items; i++) {
        float p;
        ck_assert_int_eq(recnn_model_predict(m, d->users->ext[3], d->items->ext[i], &p),
                         RECNN_OK);
        ck_assert_float_eq_tol(p, sc[i], 1e-5);
        ck_assert(p > 1 && p < 5);
    }
    free(sc);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(test_save_load)
{
    recnn_dataset *d = test_planted(50, 40, 2, 0.4, 0.2, 51);
    recnn_model *m = mf_new("factors=5 epochs=5");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    char dir[] = "/tmp/recnn_mf_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/mf.model", dir);
    int st = recnn_model_save(m, path);
    if (st == RECNN_E_UNSUPPORTED) {
        printf("test_save_load: persistence not available, skipped\n");
    } else {
        ck_assert_msg(st == RECNN_OK, "save: %s", recnn_last_error());
        recnn_model *l = NULL;
        ck_assert_msg(recnn_model_load(&l, path) == RECNN_OK, "load: %s",
                      recnn_last_error());
        float *a = predict_all(m, d);
        float *b = malloc((size_t)d->n_ratings * sizeof *b);
        int64_t *us = malloc((size_t)d->n_ratings * sizeof *us);
        int64_t *is = malloc((size_t)d->n_ratings * sizeof *is);
        for (int64_t k = 0; k < d->n_ratings; k++) {
            us[k] = d->users->ext[d->user[k]];
            is[k] = d->items->ext[d->item[k]];
        }
        ck_assert_int_eq(recnn_model_predict_batch(l, (size_t)d->n_ratings, us, is, b),
                         RECNN_OK);
        ck_assert(memcmp(a, b, (size_t)d->n_ratings * sizeof *a) == 0);
        free(a);
        free(b);
        free(us);
        free(is);
        recnn_model_free(l);
        unlink(path);
    }
    rmdir(dir);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* blocks at its maximum (256) on tiny data: setup must not cost more than
 * the training.  Each of the B^2 cells' random streams used to be made by
 * c + 2 jumps from the seed (~B^4/2 jumps in all: blocks=128 took a minute,
 * 256 several); one jump per cell makes it ~0.05 s here.  The bound is
 * loose against a busy machine or a sanitizer, far below the old cost. */
START_TEST(test_max_blocks_fast)
{
    recnn_model *probe = NULL;
    ck_assert_int_eq(recnn_model_create(&probe, "mf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_int(probe, "blocks", 256), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_int(probe, "blocks", 257), RECNN_E_INVALID);
    recnn_model_free(probe);
    recnn_dataset *d = test_planted(40, 30, 2, 0.5, 0.2, 71);
    recnn_model *m = mf_new("blocks=256 epochs=2 factors=4 seed=5");
    double t0 = recnn__now();
    int st = recnn_model_fit(m, d, NULL);
    double secs = recnn__now() - t0;
    ck_assert_msg(st == RECNN_OK, "fit: %s", recnn_last_error());
    double bound = test_quick() ? 60.0 : 2.0;
    ck_assert_msg(secs < bound, "blocks=256 on %lld ratings took %.2f s (bound %.0f s)",
                  (long long)d->n_ratings, secs, bound);
    float *p = predict_all(m, d);
    for (int64_t k = 0; k < d->n_ratings; k++)
        ck_assert(isfinite(p[k]));
    free(p);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mf");
    TCase *tc = tcase_create("mf");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_one_sgd_step);
    tcase_add_test(tc, test_converges_sgd);
    tcase_add_test(tc, test_converges_gd);
    tcase_add_test(tc, test_converges_als);
    tcase_add_test(tc, test_converges_sigmoid_dropout);
    tcase_add_test(tc, test_early_stopping);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_als_closed_form);
    tcase_add_test(tc, test_fold_in);
    tcase_add_test(tc, test_settings_and_scores);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    /* its own case with a short timeout: the old quartic setup ran for
     * minutes here */
    TCase *fast = tcase_create("mf-setup");
    tcase_set_timeout(fast, 30);
    tcase_add_test(fast, test_max_blocks_fast);
    suite_add_tcase(s, fast);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
