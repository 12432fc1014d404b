/* AutoRec (I- and U-AutoRec): settings, learning, early stopping,
 * determinism, unseen users/items, scoring, recommendation, fold-in,
 * sparse scale, tensors/restore and save/load. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/core.h"
#include "data/dataset.h"
#include "models/model.h"
#include "common/fixtures.h"


#define CHECK_OK(call)                                                               \
    do {                                                                             \
        int st_ = (call);                                                            \
        ck_assert_msg(st_ == RECNN_OK, "%s -> %d (%s)", #call, st_, recnn_last_error()); \
    } while (0)

/* ---- synthetic data -------------------------------------------------------
 * Ratings 1..5 from a rank-3 model plus user and item offsets; a fraction
 * `density` of the cells observed.  External ids are 1-based, users 1001+
 * and items 1+, so ids and indices differ. */
typedef struct fixture {
    recnn_dataset *all, *train, *valid, *test;
} fixture;

static void make_data(fixture *fx, int n_users, int n_items, double density, uint64_t seed)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    enum { R = 3 };
    double *pu = malloc(sizeof(double) * (size_t)n_users * R);
    double *qi = malloc(sizeof(double) * (size_t)n_items * R);
    double *bu = malloc(sizeof(double) * (size_t)n_users);
    double *bi = malloc(sizeof(double) * (size_t)n_items);
    for (int u = 0; u < n_users; u++) {
        bu[u] = 0.4 * recnn__rng_normal(&r);
        for (int f = 0; f < R; f++)
            pu[u * R + f] = recnn__rng_normal(&r);
    }
    for (int i = 0; i < n_items; i++) {
        bi[i] = 0.5 * recnn__rng_normal(&r);
        for (int f = 0; f < R; f++)
            qi[i * R + f] = recnn__rng_normal(&r);
    }
    size_t cap = (size_t)n_users * (size_t)n_items, n = 0;
    int64_t *us = malloc(cap * sizeof *us), *is = malloc(cap * sizeof *is);
    float *vs = malloc(cap * sizeof *vs);
    for (int u = 0; u < n_users; u++)
        for (int i = 0; i < n_items; i++) {
            if (recnn__rng_uniform(&r) >= density)
                continue;
            double x = 3.2 + bu[u] + bi[i] + 0.1 * recnn__rng_normal(&r);
            for (int f = 0; f < R; f++)
                x += 0.45 * pu[u * R + f] * qi[i * R + f];
            x = floor(x + 0.5);
            x = x < 1 ? 1 : x > 5 ? 5 : x;
            us[n] = 1001 + u;
            is[n] = 1 + i;
            vs[n] = (float)x;
            n++;
        }
    CHECK_OK(recnn_dataset_from_arrays(&fx->all, n, us, is, vs, NULL, 1, 5,
                                       RECNN_DUP_ERROR));
    /* 80 / 10 / 10 */
    size_t nr = (size_t)fx->all->n_ratings;
    uint8_t *k_tr = malloc(nr), *k_va = malloc(nr), *k_te = malloc(nr);
    for (size_t k = 0; k < nr; k++) {
        double x = recnn__rng_uniform(&r);
        k_tr[k] = x < 0.8;
        k_va[k] = x >= 0.8 && x < 0.9;
        k_te[k] = x >= 0.9;
    }
    fx->train = recnn__dataset_subset(fx->all, k_tr);
    fx->valid = recnn__dataset_subset(fx->all, k_va);
    fx->test = recnn__dataset_subset(fx->all, k_te);
    ck_assert_ptr_nonnull(fx->train);
    ck_assert_ptr_nonnull(fx->valid);
    ck_assert_ptr_nonnull(fx->test);
    free(k_tr);
    free(k_va);
    free(k_te);
    free(us);
    free(is);
    free(vs);
    free(pu);
    free(qi);
    free(bu);
    free(bi);
}

static void free_data(fixture *fx)
{
    recnn_dataset_free(fx->all);
    recnn_dataset_free(fx->train);
    recnn_dataset_free(fx->valid);
    recnn_dataset_free(fx->test);
}

static double clampd(double v) { return v < 1 ? 1 : v > 5 ? 5 : v; }

/* RMSE of the model on d (clamped), through the public API. */
static double model_rmse(const recnn_model *m, const recnn_dataset *d)
{
    int64_t n = d->n_ratings;
    float *p = malloc((size_t)n * sizeof *p);
    CHECK_OK(recnn_model_predict_dataset(m, d, p));
    double se = 0;
    for (int64_t k = 0; k < n; k++) {
        double e = clampd(p[k]) - d->value[k];
        se += e * e;
    }
    free(p);
    return sqrt(se / (double)n);
}

/* RMSE of predicting the training mean. */
static double mean_rmse(const recnn_dataset *train, const recnn_dataset *d)
{
    double mu = 0;
    for (int64_t k = 0; k < train->n_ratings; k++)
        mu += train->value[k];
    mu /= (double)train->n_ratings;
    double se = 0;
    for (int64_t k = 0; k < d->n_ratings; k++)
        se += (mu - d->value[k]) * (mu - d->value[k]);
    return sqrt(se / (double)d->n_ratings);
}

typedef struct trace {
    int n, stop_at;
    double loss[4096], metric[4096];
    int improved[4096];
} trace;

static int on_epoch(const recnn_progress *p, void *ud)
{
    trace *t = ud;
    ck_assert_uint_ge(p->size, sizeof *p);
    ck_assert_int_eq(p->epoch, t->n + 1);
    ck_assert_str_eq(p->metric_name, "rmse");
    ck_assert(p->seconds >= 0);
    if (t->n < 4096) {
        t->loss[t->n] = p->train_loss;
        t->metric[t->n] = p->valid_metric;
        t->improved[t->n] = p->improved;
    }
    t->n++;
    return t->stop_at > 0 && t->n >= t->stop_at;
}

static recnn_model *make_model(const char *settings)
{
    recnn_model *m = NULL;
    CHECK_OK(recnn_model_create(&m, "autorec"));
    CHECK_OK(recnn_model_configure(m, settings));
    return m;
}

/* ---- settings ---------------------------------------------------------------- */

START_TEST(test_settings)
{
    ck_assert_ptr_nonnull(strstr(recnn_model_kinds(), "autorec"));
    recnn_model *m = NULL;
    CHECK_OK(recnn_model_create(&m, "autorec"));
    ck_assert_str_eq(recnn_model_kind(m), "autorec");
    int64_t iv;
    double fv;
    char buf[256];
    CHECK_OK(recnn_model_get_int(m, "hidden", &iv));
    ck_assert_int_eq(iv, 500);
    CHECK_OK(recnn_model_get_float(m, "default_rating", &fv));
    ck_assert(fv == 3.0);
    CHECK_OK(recnn_model_get_str(m, "variant", buf, sizeof buf));
    ck_assert_str_eq(buf, "item");
    CHECK_OK(recnn_model_get_str(m, "g", buf, sizeof buf));
    ck_assert_str_eq(buf, "sigmoid");
    CHECK_OK(recnn_model_get_str(m, "f", buf, sizeof buf));
    ck_assert_str_eq(buf, "identity");
    CHECK_OK(recnn_model_get_str(m, "optimizer", buf, sizeof buf));
    ck_assert_str_eq(buf, "rprop");
    ck_assert_int_eq(recnn_model_set_str(m, "variant", "both"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "g", "swish"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "hidden", 0), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_float(m, "l2", -1), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "no_such", 1), RECNN_E_NOTFOUND);
    CHECK_OK(recnn_model_configure(m, "variant=user hidden=7 g=tanh optimizer=adam"));
    CHECK_OK(recnn_model_get_int(m, "hidden", &iv));
    ck_assert_int_eq(iv, 7);
    CHECK_OK(recnn_model_get_str(m, "variant", buf, sizeof buf));
    ck_assert_str_eq(buf, "user");
    /* every setting has documentation */
    for (int i = 0; i < recnn_model_setting_count(m); i++) {
        const char *name, *type, *doc;
        CHECK_OK(recnn_model_setting_info(m, i, &name, &type, &doc));
        ck_assert_uint_gt(strlen(doc), 5);
    }
    /* not trained yet */
    float out;
    ck_assert_int_eq(recnn_model_predict(m, 1, 1, &out), RECNN_E_STATE);
    recnn_model_free(m);
}
END_TEST

/* ---- learning ---------------------------------------------------------------- */

static void check_learns(const char *settings, double factor)
{
    fixture fx;
    make_data(&fx, 90, 70, 0.35, 7);
    recnn_model *m = make_model(settings);
    trace tr = {0};
    recnn_model_set_progress(m, on_epoch, &tr);
    CHECK_OK(recnn_model_fit(m, fx.train, fx.valid));
    ck_assert(recnn_model_is_fitted(m));
    ck_assert_int_gt(tr.n, 2);
    /* the training objective goes down */
    ck_assert_msg(tr.loss[tr.n < 4096 ? tr.n - 1 : 4095] < 0.8 * tr.loss[0],
                  "loss %g -> %g", tr.loss[0], tr.loss[tr.n - 1]);
    double rm = model_rmse(m, fx.test), base = mean_rmse(fx.train, fx.test);
    ck_assert_msg(rm < factor * base, "%s: test RMSE %.4f vs mean baseline %.4f", settings,
                  rm, base);
    recnn_model_free(m);
    free_data(&fx);
}

START_TEST(test_item_learns)
{
    check_learns("variant=item hidden=24 l2=1 epochs=150 patience=20", 0.85);
}
END_TEST

START_TEST(test_user_learns)
{
    check_learns("variant=user hidden=24 l2=1 epochs=150 patience=20", 0.9);
}
END_TEST

START_TEST(test_minibatch_adam_learns)
{
    check_learns("variant=item hidden=24 l2=1 optimizer=adam lr=0.01 batch=8 epochs=80 "
                 "patience=10",
                 0.9);
}
END_TEST

START_TEST(test_bounded_output)
{
    /* f = sigmoid: ratings are mapped onto (0, 1) and back */
    check_learns("variant=item hidden=24 l2=1 f=sigmoid epochs=150 patience=20", 0.9);
}
END_TEST

/* Every rating the same value: the scale is one point, and a bounded f's
 * range must still contain it (it fell back to (0, 1) and predicted 1). */
START_TEST(test_bounded_output_one_value)
{
    const int64_t u[] = {1, 1, 2, 2, 3, 3}, i[] = {1, 2, 1, 3, 2, 3};
    const float v[] = {3, 3, 3, 3, 3, 3};
    recnn_dataset *d = NULL;
    CHECK_OK(recnn_dataset_from_arrays(&d, 6, u, i, v, NULL, 0, 0, 0));
    const char *fs[] = {"f=sigmoid", "f=tanh"};
    for (int j = 0; j < 2; j++) {
        char set[96];
        snprintf(set, sizeof set, "hidden=4 epochs=60 %s", fs[j]);
        recnn_model *m = make_model(set);
        CHECK_OK(recnn_model_fit(m, d, NULL));
        float p = 0;
        CHECK_OK(recnn_model_predict(m, 1, 1, &p));
        ck_assert_msg(fabsf(p - 3.0f) < 0.25f, "%s predicts %g for a rating of 3", fs[j],
                      (double)p);
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
}
END_TEST

/* ---- early stopping, callback stop, determinism ----------------------------- */

START_TEST(test_early_stopping_restores_best)
{
    fixture fx;
    make_data(&fx, 60, 50, 0.4, 11);
    /* no regularisation and many units: the validation RMSE turns up */
    recnn_model *m = make_model("hidden=64 l2=0 epochs=400 patience=8");
    trace tr = {0};
    recnn_model_set_progress(m, on_epoch, &tr);
    CHECK_OK(recnn_model_fit(m, fx.train, fx.valid));
    ck_assert_int_lt(tr.n, 400);
    double best = INFINITY;
    int best_at = -1;
    for (int e = 0; e < tr.n; e++) {
        ck_assert(isfinite(tr.metric[e]));
        if (tr.metric[e] < best) {
            best = tr.metric[e];
            best_at = e;
        }
        ck_assert_int_eq(tr.improved[e], best_at == e);
    }
    ck_assert_int_eq(tr.n, best_at + 1 + 8);
    /* the model keeps the best epoch's parameters */
    double now = recnn__valid_rmse(m, fx.valid);
    ck_assert_msg(now == best, "restored %.9g, best %.9g", now, best);
    ck_assert(tr.metric[tr.n - 1] > best);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

START_TEST(test_callback_stops)
{
    fixture fx;
    make_data(&fx, 40, 30, 0.4, 12);
    recnn_model *m = make_model("hidden=8 epochs=50");
    trace tr = {0};
    tr.stop_at = 3;
    recnn_model_set_progress(m, on_epoch, &tr);
    CHECK_OK(recnn_model_fit(m, fx.train, NULL));
    ck_assert_int_eq(tr.n, 3);
    ck_assert(isnan(tr.metric[0]));
    ck_assert(recnn_model_is_fitted(m));
    /* settings are fixed after fit */
    ck_assert_int_eq(recnn_model_set_int(m, "hidden", 9), RECNN_E_STATE);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

static float *fit_predict(const fixture *fx, const char *settings)
{
    recnn_model *m = make_model(settings);
    CHECK_OK(recnn_model_fit(m, fx->train, fx->valid));
    float *p = malloc((size_t)fx->test->n_ratings * sizeof *p);
    CHECK_OK(recnn_model_predict_dataset(m, fx->test, p));
    recnn_model_free(m);
    return p;
}

START_TEST(test_deterministic)
{
    fixture fx;
    make_data(&fx, 50, 40, 0.4, 13);
    size_t bytes = (size_t)fx.test->n_ratings * sizeof(float);
    const char *variants[] = {"hidden=12 epochs=30 seed=5",
                              "hidden=12 epochs=10 seed=5 optimizer=adam batch=7"};
    for (int v = 0; v < 2; v++) {
        float *a = fit_predict(&fx, variants[v]);
        float *b = fit_predict(&fx, variants[v]);
        ck_assert_msg(memcmp(a, b, bytes) == 0, "%s is not reproducible", variants[v]);
        char other[128];
        snprintf(other, sizeof other, "%s seed=6", variants[v]);
        float *c = fit_predict(&fx, other);
        ck_assert_msg(memcmp(a, c, bytes) != 0, "the seed has no effect");
        free(a);
        free(b);
        free(c);
    }
    free_data(&fx);
}
END_TEST

/* ---- unseen users/items -------------------------------------------------------- */

START_TEST(test_unseen_get_default)
{
    /* user 9 and item 90 exist only in the held-out part */
    int64_t us[] = {1, 1, 2, 2, 3, 3, 4, 9, 1, 4};
    int64_t is[] = {10, 20, 10, 30, 20, 30, 10, 10, 90, 20};
    float vs[] = {5, 3, 4, 2, 1, 4, 5, 2, 4, 3};
    recnn_dataset *all = NULL;
    CHECK_OK(recnn_dataset_from_arrays(&all, 10, us, is, vs, NULL, 1, 5, RECNN_DUP_ERROR));
    uint8_t keep[10], hold[10];
    /* triplets are sorted by (user, item): find the user-9 and item-90 ones */
    for (int k = 0; k < 10; k++) {
        int64_t uid = all->users->ext[all->user[k]], iid = all->items->ext[all->item[k]];
        hold[k] = uid == 9 || iid == 90;
        keep[k] = !hold[k];
    }
    recnn_dataset *train = recnn__dataset_subset(all, keep);
    recnn_dataset *test = recnn__dataset_subset(all, hold);
    ck_assert_int_eq(test->n_ratings, 2);
    for (int v = 0; v < 2; v++) {
        recnn_model *m = make_model(v ? "variant=user hidden=4 epochs=5 default_rating=2.5"
                                      : "hidden=4 epochs=5 default_rating=2.5");
        CHECK_OK(recnn_model_fit(m, train, NULL));
        float p[2];
        CHECK_OK(recnn_model_predict_dataset(m, test, p));
        ck_assert_float_eq(p[0], 2.5f);
        ck_assert_float_eq(p[1], 2.5f);
        float q;
        CHECK_OK(recnn_model_predict(m, 12345, 10, &q)); /* unknown id */
        ck_assert_float_eq(q, 2.5f);
        CHECK_OK(recnn_model_predict(m, 1, 90, &q)); /* item without training data */
        ck_assert_float_eq(q, 2.5f);
        CHECK_OK(recnn_model_predict(m, 1, 30, &q)); /* both known: the model */
        ck_assert_float_ne(q, 2.5f);
        recnn_model_free(m);
    }
    recnn_dataset_free(all);
    recnn_dataset_free(train);
    recnn_dataset_free(test);
}
END_TEST

/* ---- scoring and recommendation ------------------------------------------------- */

START_TEST(test_scores_match_predictions)
{
    fixture fx;
    make_data(&fx, 40, 35, 0.4, 14);
    const char *variants[] = {"hidden=10 epochs=20", "variant=user hidden=10 epochs=20",
                              "hidden=10 epochs=20 f=sigmoid"};
    for (int v = 0; v < 3; v++) {
        recnn_model *m = make_model(variants[v]);
        CHECK_OK(recnn_model_fit(m, fx.train, NULL));
        int64_t ni = recnn_model_n_items(m);
        ck_assert_int_eq(ni, fx.all->n_items);
        float *s = malloc((size_t)ni * sizeof *s);
        for (int64_t u = 0; u < fx.all->n_users; u += 7) {
            CHECK_OK(recnn_model_score_user(m, u, s));
            for (int64_t i = 0; i < ni; i++) {
                float p;
                CHECK_OK(recnn_model_predict(m, fx.all->users->ext[u], fx.all->items->ext[i],
                                             &p));
                ck_assert_msg(fabsf(p - s[i]) < 1e-4f * (1 + fabsf(p)), "%s u%lld i%lld: %g vs %g",
                              variants[v], (long long)u, (long long)i, p, s[i]);
            }
        }
        /* recommendations: best first, no training item */
        int64_t uid = fx.all->users->ext[3], items[10];
        float sc[10];
        size_t n = 0;
        CHECK_OK(recnn_model_recommend(m, uid, 10, items, sc, &n));
        ck_assert_uint_eq(n, 10);
        for (size_t j = 0; j < n; j++) {
            if (j)
                ck_assert(sc[j] <= sc[j - 1]);
            int64_t ii;
            CHECK_OK(recnn_model_item_index(m, items[j], &ii));
            for (int64_t e = fx.train->row_ptr[3]; e < fx.train->row_ptr[4]; e++)
                ck_assert_int_ne(fx.train->item[e], ii);
        }
        free(s);
        recnn_model_free(m);
    }
    free_data(&fx);
}
END_TEST

/* ---- fold-in ------------------------------------------------------------------- */

START_TEST(test_fold_in_user_based_matches_training_user)
{
    fixture fx;
    make_data(&fx, 40, 35, 0.4, 15);
    recnn_model *m = make_model("variant=user hidden=10 epochs=20");
    CHECK_OK(recnn_model_fit(m, fx.train, NULL));
    int u = 5;
    int64_t a = fx.train->row_ptr[u], z = fx.train->row_ptr[u + 1];
    int64_t *rated = malloc((size_t)(z - a) * sizeof *rated);
    for (int64_t e = a; e < z; e++)
        rated[e - a] = fx.all->items->ext[fx.train->item[e]];
    int64_t i1[10], i2[10];
    float s1[10], s2[10];
    size_t n1, n2;
    CHECK_OK(recnn_model_recommend(m, fx.all->users->ext[u], 10, i1, s1, &n1));
    CHECK_OK(recnn_model_recommend_new(m, (size_t)(z - a), rated, fx.train->value + a, 10,
                                       i2, s2, &n2));
    ck_assert_uint_eq(n1, n2);
    for (size_t j = 0; j < n1; j++) {
        ck_assert_int_eq(i1[j], i2[j]);
        ck_assert(fabsf(s1[j] - s2[j]) < 1e-4f);
    }
    free(rated);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

START_TEST(test_fold_in_item_based)
{
    fixture fx;
    make_data(&fx, 80, 60, 0.4, 16);
    recnn_model *m = make_model("hidden=16 l2=1 epochs=100");
    CHECK_OK(recnn_model_fit(m, fx.train, fx.valid));
    /* a user the model never saw: all of training user 7's ratings */
    int u = 7;
    int64_t a = fx.all->row_ptr[u], z = fx.all->row_ptr[u + 1], n = z - a;
    ck_assert_int_gt(n, 8);
    int64_t *rated = malloc((size_t)n * sizeof *rated);
    for (int64_t e = a; e < z; e++)
        rated[e - a] = fx.all->items->ext[fx.all->item[e]];
    float *scores = malloc((size_t)fx.all->n_items * sizeof *scores);
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t e = 0; e < n; e++)
        idx[e] = fx.all->item[a + e];
    CHECK_OK(m->vt->score_new(m, n, idx, fx.all->value + a, scores));
    /* the fitted row reproduces the given ratings better than their mean */
    double mu = 0, se_fit = 0, se_mu = 0;
    for (int64_t e = 0; e < n; e++)
        mu += fx.all->value[a + e];
    mu /= (double)n;
    for (int64_t e = 0; e < n; e++) {
        double t = fx.all->value[a + e];
        se_fit += (scores[idx[e]] - t) * (scores[idx[e]] - t);
        se_mu += (mu - t) * (mu - t);
    }
    ck_assert_msg(se_fit < se_mu, "fold-in SSE %g vs mean %g", se_fit, se_mu);
    int64_t items[5];
    float sc[5];
    size_t got;
    CHECK_OK(recnn_model_recommend_new(m, (size_t)n, rated, fx.all->value + a, 5, items, sc,
                                       &got));
    ck_assert_uint_eq(got, 5);
    for (size_t j = 0; j < got; j++) {
        ck_assert(isfinite(sc[j]));
        for (int64_t e = 0; e < n; e++)
            ck_assert_int_ne(items[j], rated[e]);
    }
    free(rated);
    free(scores);
    free(idx);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

/* ---- sparse all the way: a huge index space with few ratings ------------------- */

START_TEST(test_sparse_scale)
{
    /* 300,000 users x 20,000 items = 6e9 cells (24 GB as a dense float
     * matrix), every user with one or two ratings.  Must train in little
     * memory and time. */
    const int64_t nu = test_quick() ? 100000 : 300000, ni = 20000;
    const size_t n = (size_t)nu + 20000;
    int64_t *us = malloc(n * sizeof *us), *is = malloc(n * sizeof *is);
    float *vs = malloc(n * sizeof *vs);
    recnn_rng r;
    recnn__rng_seed(&r, 99);
    for (size_t k = 0; k < n; k++) {
        us[k] = k < (size_t)nu ? 1 + (int64_t)k : 1 + (int64_t)recnn__rng_below(&r, (uint64_t)nu);
        is[k] = k < (size_t)ni ? 1 + (int64_t)k : 1 + (int64_t)recnn__rng_below(&r, (uint64_t)ni);
        vs[k] = (float)(1 + recnn__rng_below(&r, 5));
    }
    recnn_dataset *d = NULL;
    CHECK_OK(recnn_dataset_from_arrays(&d, n, us, is, vs, NULL, 1, 5, RECNN_DUP_KEEP_LAST));
    ck_assert_int_eq(recnn_dataset_n_users(d), nu);
    ck_assert_int_eq(recnn_dataset_n_items(d), ni);
    for (int v = 0; v < 2; v++) {
        recnn_model *m = make_model(v ? "variant=user hidden=4 epochs=3"
                                      : "variant=item hidden=4 epochs=3");
        double t0 = recnn__now();
        CHECK_OK(recnn_model_fit(m, d, NULL));
        /* wall time only as a gross check (machines may be loaded; none
         * under valgrind) */
        if (!test_quick())
            ck_assert_msg(recnn__now() - t0 < 120, "too slow: %g s", recnn__now() - t0);
        /* everything the model learned is O((users + items) x k) */
        recnn__tensor t[RECNN__MAX_TENSORS];
        int nt = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
        int64_t total = 0;
        for (int j = 0; j < nt; j++)
            total += t[j].count;
        ck_assert_int_le(total, 3 * (nu + ni) * (4 + 1));
        float p;
        CHECK_OK(recnn_model_predict(m, us[5], is[5], &p));
        ck_assert(isfinite(p));
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
    free(us);
    free(is);
    free(vs);
}
END_TEST

/* ---- tensors / restore ------------------------------------------------------------ */

START_TEST(test_tensors_restore)
{
    fixture fx;
    make_data(&fx, 40, 30, 0.4, 17);
    const char *variants[] = {"hidden=9 epochs=15", "variant=user hidden=9 epochs=15 f=tanh"};
    for (int v = 0; v < 2; v++) {
        recnn_model *m = make_model(variants[v]);
        CHECK_OK(recnn_model_fit(m, fx.train, NULL));
        recnn__tensor t[RECNN__MAX_TENSORS];
        int nt = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
        ck_assert_int_ge(nt, 4);
        for (int j = 0; j < nt; j++)
            for (int q = 0; q < j; q++)
                ck_assert_str_ne(t[j].name, t[q].name);
        /* what the loader does: a model with the same settings, dims, id maps
         * and seen lists, then restore() from the tensors */
        recnn_model *m2 = NULL;
        CHECK_OK(recnn__model_new(m->vt, &m2));
        CHECK_OK(recnn_model_configure(m2, variants[v]));
        m2->n_users = m->n_users;
        m2->n_items = m->n_items;
        m2->users = recnn__idmap_retain(m->users);
        m2->items = recnn__idmap_retain(m->items);
        m2->scale_min = m->scale_min;
        m2->scale_max = m->scale_max;
        m2->global_mean = m->global_mean;
        m2->seen_ptr = m->seen_ptr;
        m2->seen_item = m->seen_item;
        CHECK_OK(recnn__model_index_seen(m2));
        CHECK_OK(m2->vt->restore(m2, t, nt));
        m2->fitted = 1;
        size_t bytes = (size_t)fx.test->n_ratings * sizeof(float);
        float *a = malloc(bytes), *b = malloc(bytes);
        CHECK_OK(recnn_model_predict_dataset(m, fx.test, a));
        CHECK_OK(recnn_model_predict_dataset(m2, fx.test, b));
        ck_assert(memcmp(a, b, bytes) == 0);
        /* a missing or mis-sized tensor is refused */
        recnn__tensor bad[RECNN__MAX_TENSORS];
        memcpy(bad, t, sizeof(recnn__tensor) * (size_t)nt);
        bad[0].count--;
        ck_assert_int_eq(m2->vt->restore(m2, bad, nt), RECNN_E_CORRUPT);
        ck_assert_int_eq(m2->vt->restore(m2, t + 1, nt - 1), RECNN_E_CORRUPT);
        free(a);
        free(b);
        m2->seen_ptr = NULL;
        m2->seen_item = NULL;
        recnn_model_free(m2);
        recnn_model_free(m);
    }
    free_data(&fx);
}
END_TEST


/* ---- save / load ------------------------------------------------------------------ */

START_TEST(test_save_load)
{
    fixture fx;
    make_data(&fx, 40, 30, 0.4, 18);
    char dir[] = "/tmp/recnn_autorec_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/model.recnn", dir);
    const char *variants[] = {"hidden=9 epochs=15", "variant=user hidden=9 epochs=15 f=sigmoid"};
    for (int v = 0; v < 2; v++) {
        recnn_model *m = make_model(variants[v]);
        CHECK_OK(recnn_model_fit(m, fx.train, fx.valid));
        CHECK_OK(recnn_model_save(m, path));
        recnn_model *m2 = NULL;
        CHECK_OK(recnn_model_load(&m2, path));
        ck_assert_str_eq(recnn_model_kind(m2), "autorec");
        char a_set[1024], b_set[1024];
        recnn_model_settings_string(m, a_set, sizeof a_set);
        recnn_model_settings_string(m2, b_set, sizeof b_set);
        ck_assert_str_eq(a_set, b_set);
        size_t bytes = (size_t)fx.test->n_ratings * sizeof(float);
        float *a = malloc(bytes), *b = malloc(bytes);
        CHECK_OK(recnn_model_predict_dataset(m, fx.test, a));
        /* the loaded model answers by external id (its own id maps) */
        for (int64_t k = 0; k < fx.test->n_ratings; k++)
            CHECK_OK(recnn_model_predict(m2, fx.all->users->ext[fx.test->user[k]],
                                         fx.all->items->ext[fx.test->item[k]], &b[k]));
        ck_assert(memcmp(a, b, bytes) == 0);
        /* recommendations and fold-in survive the round trip */
        int64_t i1[5], i2[5];
        float s1[5], s2[5];
        size_t n1, n2;
        int64_t uid = fx.all->users->ext[2];
        CHECK_OK(recnn_model_recommend(m, uid, 5, i1, s1, &n1));
        CHECK_OK(recnn_model_recommend(m2, uid, 5, i2, s2, &n2));
        ck_assert_uint_eq(n1, n2);
        ck_assert(memcmp(i1, i2, n1 * sizeof *i1) == 0);
        ck_assert(memcmp(s1, s2, n1 * sizeof *s1) == 0);
        int64_t rated[3] = {fx.all->items->ext[0], fx.all->items->ext[1], fx.all->items->ext[2]};
        float rv[3] = {5, 1, 4};
        CHECK_OK(recnn_model_recommend_new(m, 3, rated, rv, 5, i1, s1, &n1));
        CHECK_OK(recnn_model_recommend_new(m2, 3, rated, rv, 5, i2, s2, &n2));
        ck_assert(memcmp(i1, i2, n1 * sizeof *i1) == 0);
        free(a);
        free(b);
        recnn_model_free(m2);
        recnn_model_free(m);
    }
    unlink(path);
    rmdir(dir);
    free_data(&fx);
}
END_TEST

static Suite *autorec_suite(void)
{
    Suite *s = suite_create("autorec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_item_learns);
    tcase_add_test(tc, test_user_learns);
    tcase_add_test(tc, test_minibatch_adam_learns);
    tcase_add_test(tc, test_bounded_output);
    tcase_add_test(tc, test_bounded_output_one_value);
    tcase_add_test(tc, test_early_stopping_restores_best);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_unseen_get_default);
    tcase_add_test(tc, test_scores_match_predictions);
    tcase_add_test(tc, test_fold_in_user_based_matches_training_user);
    tcase_add_test(tc, test_fold_in_item_based);
    tcase_add_test(tc, test_sparse_scale);
    tcase_add_test(tc, test_tensors_restore);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(autorec_suite()); }
