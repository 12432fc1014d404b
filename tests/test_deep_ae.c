/* Deep autoencoder ("deep_ae") and the AE/MF/KNN paper's item autoencoder
 * ("item_ae"): learning on a planted low-rank set, tied weights sharing
 * memory, dropout off at inference, dense re-feeding, determinism, fold-in,
 * unseen rows, settings errors, save/load. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "data/dataset.h"
#include "models/model.h"
#include "common/fixtures.h"


#define CHECK_OK(call)                                                                   \
    do {                                                                                 \
        int st_ = (call);                                                                \
        ck_assert_msg(st_ == RECNN_OK, "%s -> %d (%s)", #call, st_, recnn_last_error()); \
    } while (0)

typedef struct fixture {
    recnn_dataset *all, *train, *valid, *test;
} fixture;

/* A planted rank-4 set (the library's generator), split 80/10/10. */
static void make_data(fixture *fx, int64_t users, int64_t items, int64_t ratings,
                      uint64_t seed)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = users;
    o.n_items = items;
    o.n_ratings = ratings;
    o.rank = 4;
    o.noise = 0.25f;
    o.step = 0.0f;
    o.seed = seed;
    CHECK_OK(recnn_dataset_synthetic(&fx->all, &o));
    recnn_split_options so;
    recnn_split_options_init(&so);
    so.seed = seed + 1;
    so.test_fraction = 0.1;
    so.valid_fraction = 0.1;
    CHECK_OK(recnn_split_random(fx->all, &so, &fx->train, &fx->valid, &fx->test));
}

static void free_data(fixture *fx)
{
    recnn_dataset_free(fx->all);
    recnn_dataset_free(fx->train);
    recnn_dataset_free(fx->valid);
    recnn_dataset_free(fx->test);
}

static void small(fixture *fx)
{
    if (test_quick())
        make_data(fx, 200, 100, 6000, 7);
    else
        make_data(fx, 300, 200, 15000, 7);
}

/* RMSE of predicting the training mean for every test rating. */
static double mean_rmse(const recnn_dataset *train, const recnn_dataset *test)
{
    double mu = 0;
    for (int64_t k = 0; k < train->n_ratings; k++)
        mu += train->value[k];
    mu /= (double)train->n_ratings;
    double s = 0;
    for (int64_t k = 0; k < test->n_ratings; k++)
        s += (test->value[k] - mu) * (test->value[k] - mu);
    return sqrt(s / (double)test->n_ratings);
}

static double model_rmse(const recnn_model *m, const recnn_dataset *test)
{
    recnn_rating_metrics r = {.size = sizeof r};
    CHECK_OK(recnn_rating_metrics_model(m, test, NULL, &r));
    return r.rmse;
}

typedef struct losses {
    int n;
    double first, last;
} losses;

static int on_epoch(const recnn_progress *p, void *ud)
{
    losses *l = ud;
    if (l->n == 0)
        l->first = p->train_loss;
    l->last = p->train_loss;
    l->n++;
    return 0;
}

static recnn_model *fit(const char *kind, const char *cfg, const fixture *fx, losses *ls)
{
    recnn_model *m;
    CHECK_OK(recnn_model_create(&m, kind));
    CHECK_OK(recnn_model_configure(m, cfg));
    if (ls) {
        memset(ls, 0, sizeof *ls);
        recnn_model_set_progress(m, on_epoch, ls);
    }
    CHECK_OK(recnn_model_fit(m, fx->train, fx->valid));
    return m;
}

static float *predict_all(const recnn_model *m, const recnn_dataset *d)
{
    float *p = malloc(sizeof(float) * (size_t)(d->n_ratings ? d->n_ratings : 1));
    CHECK_OK(recnn_model_predict_dataset(m, d, p));
    return p;
}

/* ---- learning ------------------------------------------------------------- */

static void check_learns(const char *kind, const char *cfg)
{
    fixture fx;
    small(&fx);
    losses ls;
    recnn_model *m = fit(kind, cfg, &fx, &ls);
    double base = mean_rmse(fx.train, fx.test), got = model_rmse(m, fx.test);
    ck_assert_msg(ls.n >= 2 && ls.last < 0.95 * ls.first,
                  "%s [%s]: training loss %g -> %g did not fall", kind, cfg, ls.first,
                  ls.last);
    ck_assert_msg(got < (test_quick() ? 0.95 : 0.9) * base,
                  "%s [%s]: test RMSE %.4f vs global mean %.4f", kind,
                  cfg, got, base);
    fprintf(stderr, "%s [%s]: test RMSE %.4f, global mean %.4f, loss %.4f -> %.4f\n",
            kind, cfg, got, base, ls.first, ls.last);
    recnn_model_free(m);
    free_data(&fx);
}

START_TEST(test_user_deep_learns)
{
    check_learns("deep_ae", "layers=32,16 epochs=60 patience=0 lr=0.02");
}
END_TEST

START_TEST(test_user_adam_learns)
{
    check_learns("deep_ae", "layers=32 optimizer=adam lr=0.001 reg=0.001 input_dropout=0.2 bias_init=mean "
                            "epochs=40 patience=10");
}
END_TEST

START_TEST(test_item_ae_learns)
{
    check_learns("item_ae", "epochs=40 patience=10 reg=0.0005 l1_ratio=0");
}
END_TEST

START_TEST(test_item_variant_deep_learns)
{
    check_learns("deep_ae", "variant=item layers=32,16 epochs=60 patience=0 lr=0.02");
}
END_TEST

/* ---- tied weights ----------------------------------------------------------
 * The output column of item j is row j of the first encoder W when tied:
 * changing that row changes the prediction for item j even with the cached
 * codes; untied, the cached codes and the separate output weights do not
 * see it. */
static int prediction_moves_with_w0(int tied)
{
    fixture fx;
    small(&fx);
    char cfg[128];
    snprintf(cfg, sizeof cfg, "layers=16,8 epochs=3 patience=0 tied=%d", tied);
    recnn_model *m = fit("deep_ae", cfg, &fx, NULL);
    recnn__tensor t[RECNN__MAX_TENSORS];
    int n = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
    const recnn__tensor *w0 = NULL;
    int has_wout = 0, has_w3 = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(t[i].name, "W0") == 0)
            w0 = &t[i];
        has_wout |= strcmp(t[i].name, "Wout") == 0;
        has_w3 |= strcmp(t[i].name, "W2") == 0;
    }
    ck_assert_ptr_nonnull(w0);
    ck_assert_int_eq(has_wout, !tied); /* tied: no separate decoder weights */
    ck_assert_int_eq(has_w3, !tied);
    int32_t u = fx.train->user[0], j = fx.train->item[0];
    float before, after;
    CHECK_OK(m->vt->predict(m, 1, &u, &j, &before));
    float *row = (float *)w0->data + (int64_t)j * 16;
    for (int k = 0; k < 16; k++)
        row[k] += 0.5f;
    CHECK_OK(m->vt->predict(m, 1, &u, &j, &after));
    recnn_model_free(m);
    free_data(&fx);
    return before != after;
}

/* A diverging fit fails with RECNN_E_NUMERIC naming the model and the
 * epoch (the optimizer's message alone named neither), and leaves the
 * model untrained. */
START_TEST(test_divergence_reported)
{
    fixture fx;
    make_data(&fx, 60, 40, 900, 5);
    recnn_model *m = NULL;
    CHECK_OK(recnn_model_create(&m, "deep_ae"));
    CHECK_OK(recnn_model_configure(m, "lr=1000 epochs=5 optimizer=sgd"));
    ck_assert_int_eq(recnn_model_fit(m, fx.train, NULL), RECNN_E_NUMERIC);
    const char *e = recnn_last_error();
    ck_assert_msg(strstr(e, "deep_ae") && strstr(e, "epoch"), "message: %s", e);
    ck_assert(!recnn_model_is_fitted(m));
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

START_TEST(test_tied_shares_memory)
{
    ck_assert_int_eq(prediction_moves_with_w0(1), 1);
    ck_assert_int_eq(prediction_moves_with_w0(0), 0);
}
END_TEST

/* ---- dropout, fold-in ------------------------------------------------------ */

START_TEST(test_dropout_off_at_inference)
{
    fixture fx;
    small(&fx);
    recnn_model *m = fit("deep_ae", "layers=32,16 dropout=0.5 dropout_at=encoder epochs=5",
                         &fx, NULL);
    float *a = predict_all(m, fx.test), *b = predict_all(m, fx.test);
    ck_assert_int_eq(memcmp(a, b, sizeof(float) * (size_t)fx.test->n_ratings), 0);
    /* fold-in of a training user's own ratings reproduces its scores: the
     * stored codes were computed without dropout too */
    int64_t n_items = recnn_model_n_items(m);
    float *s1 = malloc(sizeof(float) * (size_t)n_items);
    float *s2 = malloc(sizeof(float) * (size_t)n_items);
    for (int32_t u = 0; u < 5; u++) {
        int64_t a0 = fx.train->row_ptr[u], a1 = fx.train->row_ptr[u + 1];
        if (a1 == a0)
            continue;
        CHECK_OK(m->vt->score_user(m, u, s1));
        CHECK_OK(m->vt->score_new(m, a1 - a0, fx.train->item + a0, fx.train->value + a0,
                                  s2));
        for (int64_t i = 0; i < n_items; i++)
            ck_assert_msg(fabsf(s1[i] - s2[i]) <= 1e-4f * (1.0f + fabsf(s1[i])),
                          "user %d item %lld: %g vs %g", u, (long long)i, s1[i], s2[i]);
    }
    free(s1);
    free(s2);
    free(a);
    free(b);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

/* The stored codes match the weights the model keeps: fold-in of a
 * training user's own ratings (encoded now, from the kept weights)
 * reproduces score_user (codes stored at training time). */
static void check_codes_match_weights(const recnn_model *m, const recnn_dataset *train)
{
    int64_t n_items = recnn_model_n_items(m);
    float *s1 = malloc(sizeof(float) * (size_t)n_items);
    float *s2 = malloc(sizeof(float) * (size_t)n_items);
    for (int32_t u = 0; u < 5; u++) {
        int64_t a0 = train->row_ptr[u], a1 = train->row_ptr[u + 1];
        if (a1 == a0)
            continue;
        CHECK_OK(m->vt->score_user(m, u, s1));
        CHECK_OK(m->vt->score_new(m, a1 - a0, train->item + a0, train->value + a0, s2));
        for (int64_t i = 0; i < n_items; i++)
            ck_assert_msg(fabsf(s1[i] - s2[i]) <= 1e-4f * (1.0f + fabsf(s1[i])),
                          "user %d item %lld: %g vs %g", u, (long long)i, s1[i], s2[i]);
    }
    free(s1);
    free(s2);
}

/* ---- weight averaging, emphasised denoising ----------------------------- */

START_TEST(test_average)
{
    fixture fx;
    small(&fx);
    const char *plain = "layers=32,16 epochs=12 patience=0 lr=0.02 seed=3";
    const char *avg = "layers=32,16 epochs=12 patience=0 lr=0.02 seed=3 average=0.95";
    recnn_model *a = fit("deep_ae", plain, &fx, NULL);
    recnn_model *b = fit("deep_ae", avg, &fx, NULL);
    recnn_model *c = fit("deep_ae", avg, &fx, NULL);
    float *pa = predict_all(a, fx.test), *pb = predict_all(b, fx.test);
    float *pc = predict_all(c, fx.test);
    size_t bytes = sizeof(float) * (size_t)fx.test->n_ratings;
    ck_assert_int_ne(memcmp(pa, pb, bytes), 0); /* the averaged weights are kept */
    ck_assert_int_eq(memcmp(pb, pc, bytes), 0); /* deterministic */
    double base = mean_rmse(fx.train, fx.test), got = model_rmse(b, fx.test);
    ck_assert_msg(got < 0.95 * base, "average: %.4f vs mean %.4f", got, base);
    /* the codes were computed from the averaged weights, both when the last
     * epoch is kept (patience 0) and when the best epoch is restored */
    check_codes_match_weights(b, fx.train);
    recnn_model *d = fit("deep_ae", "layers=32 epochs=15 patience=3 average=0.9 lr=0.02",
                         &fx, NULL);
    check_codes_match_weights(d, fx.train);
    free(pa);
    free(pb);
    free(pc);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_model_free(c);
    recnn_model_free(d);
    free_data(&fx);
}
END_TEST

START_TEST(test_clip_norm)
{
    fixture fx;
    small(&fx);
    const char *base_cfg = "layers=32,16 epochs=6 patience=0 lr=0.02 seed=4";
    char c1[256];
    snprintf(c1, sizeof c1, "%s clip_norm=0.05", base_cfg);
    recnn_model *a = fit("deep_ae", base_cfg, &fx, NULL), *b = fit("deep_ae", c1, &fx, NULL);
    float *pa = predict_all(a, fx.test), *pb = predict_all(b, fx.test);
    size_t bytes = sizeof(float) * (size_t)fx.test->n_ratings;
    ck_assert_int_ne(memcmp(pa, pb, bytes), 0); /* a small bound changes the steps */
    for (int64_t k = 0; k < fx.test->n_ratings; k++)
        ck_assert(isfinite(pb[k]));
    recnn_model *c;
    CHECK_OK(recnn_model_create(&c, "deep_ae"));
    ck_assert_int_eq(recnn_model_configure(c, "clip_norm=-1"), RECNN_E_INVALID);
    recnn_model_free(c);
    free(pa);
    free(pb);
    recnn_model_free(a);
    recnn_model_free(b);
    free_data(&fx);
}
END_TEST

START_TEST(test_kept_weight)
{
    fixture fx;
    small(&fx);
    const char *base_cfg = "layers=32,16 epochs=10 patience=0 lr=0.02 seed=4";
    char c1[256], c2[256], c3[256];
    snprintf(c1, sizeof c1, "%s input_dropout=0.3", base_cfg);
    snprintf(c2, sizeof c2, "%s input_dropout=0.3 kept_weight=0.3", base_cfg);
    snprintf(c3, sizeof c3, "%s kept_weight=0.3", base_cfg);
    recnn_model *a = fit("deep_ae", c1, &fx, NULL), *b = fit("deep_ae", c2, &fx, NULL);
    recnn_model *c = fit("deep_ae", base_cfg, &fx, NULL), *d = fit("deep_ae", c3, &fx, NULL);
    float *pa = predict_all(a, fx.test), *pb = predict_all(b, fx.test);
    float *pc = predict_all(c, fx.test), *pd = predict_all(d, fx.test);
    size_t bytes = sizeof(float) * (size_t)fx.test->n_ratings;
    ck_assert_int_ne(memcmp(pa, pb, bytes), 0); /* the weighting changes training */
    ck_assert_int_eq(memcmp(pc, pd, bytes), 0); /* no effect without input dropout */
    double base = mean_rmse(fx.train, fx.test), got = model_rmse(b, fx.test);
    ck_assert_msg(got < 0.95 * base, "kept_weight: %.4f vs mean %.4f", got, base);
    free(pa);
    free(pb);
    free(pc);
    free(pd);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_model_free(c);
    recnn_model_free(d);
    free_data(&fx);
}
END_TEST

START_TEST(test_fold_in_public)
{
    fixture fx;
    small(&fx);
    recnn_model *m = fit("deep_ae", "layers=32 epochs=10", &fx, NULL);
    /* a new user who rated the first three items of training user 0 */
    int64_t a0 = fx.train->row_ptr[0];
    int64_t ids[3];
    float r[3] = {5, 5, 1};
    for (int k = 0; k < 3; k++)
        ids[k] = fx.all->items->ext[fx.train->item[a0 + k]];
    int64_t rec[10];
    float sc[10];
    size_t n = 0;
    CHECK_OK(recnn_model_recommend_new(m, 3, ids, r, 10, rec, sc, &n));
    ck_assert_uint_eq(n, 10);
    for (size_t k = 0; k < n; k++) {
        ck_assert(isfinite(sc[k]));
        for (int q = 0; q < 3; q++)
            ck_assert(rec[k] != ids[q]); /* rated items excluded */
        if (k)
            ck_assert(sc[k] <= sc[k - 1]);
    }
    /* a different history gives different scores */
    float r2[3] = {1, 1, 5};
    int64_t rec2[10];
    float sc2[10];
    CHECK_OK(recnn_model_recommend_new(m, 3, ids, r2, 10, rec2, sc2, &n));
    ck_assert(memcmp(sc, sc2, sizeof sc) != 0);
    recnn_model_free(m);
    /* item-based: no fold-in */
    m = fit("item_ae", "epochs=2", &fx, NULL);
    ck_assert_int_eq(recnn_model_recommend_new(m, 3, ids, r, 10, rec, sc, &n),
                     RECNN_E_UNSUPPORTED);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

/* ---- re-feeding ------------------------------------------------------------- */

START_TEST(test_refeed_runs)
{
    fixture fx;
    small(&fx);
    losses l0, l1;
    recnn_model *a = fit("deep_ae", "layers=32,16 epochs=8 patience=0 lr=0.02", &fx, &l0);
    recnn_model *b =
        fit("deep_ae", "layers=32,16 epochs=8 patience=0 lr=0.02 refeed=1", &fx, &l1);
    float *pa = predict_all(a, fx.test), *pb = predict_all(b, fx.test);
    ck_assert_int_eq(l1.n, 8);
    ck_assert(isfinite(l1.last) && l1.last < l1.first);
    ck_assert(memcmp(pa, pb, sizeof(float) * (size_t)fx.test->n_ratings) != 0);
    double base = mean_rmse(fx.train, fx.test), got = model_rmse(b, fx.test);
    ck_assert_msg(got < base, "refeed: %.4f vs mean %.4f", got, base);
    free(pa);
    free(pb);
    recnn_model_free(a);
    recnn_model_free(b);
    free_data(&fx);
}
END_TEST

/* ---- fit without a validation set (the refit protocol) -------------------- */

typedef struct valid_trace {
    int n;
    double metric[64];
} valid_trace;

static int record_valid(const recnn_progress *p, void *ud)
{
    valid_trace *t = ud;
    if (t->n < 64)
        t->metric[t->n] = p->valid_metric;
    t->n++;
    return 0;
}

/* With valid == NULL (examples/refit.h retrains so on train + valid) fit
 * runs exactly `epochs` epochs whatever the patience, and keeps the
 * weights of the last epoch, averaged: the same settings fitted with a
 * validation set (patience 0: every epoch runs; the validation set does
 * not touch training) report at that epoch the validation RMSE that the
 * model fitted without one has. */
START_TEST(test_fit_without_valid)
{
    fixture fx;
    small(&fx);
    const int epochs = 7;
    const char *base = "layers=32,16 epochs=7 lr=0.02 seed=5 average=0.9 input_dropout=0.2";
    for (int averaged = 0; averaged < 2; averaged++) {
        recnn_model *a, *b;
        valid_trace ta = {0}, tb = {0};
        CHECK_OK(recnn_model_create(&a, "deep_ae"));
        CHECK_OK(recnn_model_configure(a, base));
        CHECK_OK(recnn_model_configure(a, averaged ? "patience=1" : "patience=1 average=0"));
        recnn_model_set_progress(a, record_valid, &ta);
        CHECK_OK(recnn_model_fit(a, fx.train, NULL));
        ck_assert_int_eq(ta.n, epochs);
        ck_assert(isnan(ta.metric[epochs - 1]));

        CHECK_OK(recnn_model_create(&b, "deep_ae"));
        CHECK_OK(recnn_model_configure(b, base));
        CHECK_OK(recnn_model_configure(b, averaged ? "patience=0" : "patience=0 average=0"));
        recnn_model_set_progress(b, record_valid, &tb);
        CHECK_OK(recnn_model_fit(b, fx.train, fx.valid));
        ck_assert_int_eq(tb.n, epochs);

        double got = recnn__valid_rmse(a, fx.valid), want = tb.metric[epochs - 1];
        ck_assert_msg(got == want, "averaged=%d: valid RMSE without a validation set %.9f, "
                      "at the last epoch with one %.9f", averaged, got, want);
        /* the codes a predicts with come from the kept weights */
        check_codes_match_weights(a, fx.train);
        recnn_model_free(a);
        recnn_model_free(b);
    }
    free_data(&fx);
}
END_TEST

/* ---- determinism ---------------------------------------------------------- */

START_TEST(test_deterministic)
{
    fixture fx;
    small(&fx);
    const char *cfg = "layers=32,16 dropout=0.3 epochs=6 refeed=1 seed=5";
    recnn_model *a = fit("deep_ae", cfg, &fx, NULL), *b = fit("deep_ae", cfg, &fx, NULL);
    recnn_model *c = fit("deep_ae", "layers=32,16 dropout=0.3 epochs=6 refeed=1 seed=6",
                         &fx, NULL);
    float *pa = predict_all(a, fx.test), *pb = predict_all(b, fx.test);
    float *pc = predict_all(c, fx.test);
    size_t bytes = sizeof(float) * (size_t)fx.test->n_ratings;
    ck_assert_int_eq(memcmp(pa, pb, bytes), 0);
    ck_assert_int_ne(memcmp(pa, pc, bytes), 0);
    free(pa);
    free(pb);
    free(pc);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_model_free(c);
    free_data(&fx);
}
END_TEST

/* ---- unseen users / items ------------------------------------------------- */

START_TEST(test_unseen_default)
{
    /* item 3 and user 2 only in the test part */
    int64_t u[] = {1, 1, 1, 2, 3, 3, 4, 4, 5, 5};
    int64_t i[] = {1, 2, 3, 1, 1, 2, 1, 2, 2, 1};
    float v[] = {4, 3, 5, 2, 5, 4, 3, 2, 1, 2};
    recnn_dataset *all;
    CHECK_OK(recnn_dataset_from_arrays(&all, 10, u, i, v, NULL, 1, 5, RECNN_DUP_ERROR));
    uint8_t keep[10] = {1, 1, 0, 0, 1, 1, 1, 1, 1, 1};
    recnn_dataset *train = recnn__dataset_subset(all, keep);
    ck_assert_ptr_nonnull(train);
    recnn_model *m;
    CHECK_OK(recnn_model_create(&m, "deep_ae"));
    CHECK_OK(recnn_model_configure(m, "layers=4 epochs=3 default_rating=2.5 batch=2"));
    CHECK_OK(recnn_model_fit(m, train, NULL));
    float p;
    CHECK_OK(recnn_model_predict(m, 1, 3, &p)); /* item 3 unseen */
    ck_assert_float_eq(p, 2.5f);
    CHECK_OK(recnn_model_predict(m, 2, 1, &p)); /* user 2 unseen */
    ck_assert_float_eq(p, 2.5f);
    CHECK_OK(recnn_model_predict(m, 3, 1, &p));
    ck_assert(p != 2.5f && isfinite(p));
    recnn_model_free(m);
    recnn_dataset_free(train);
    recnn_dataset_free(all);
}
END_TEST

/* ---- settings --------------------------------------------------------------- */

START_TEST(test_settings)
{
    fixture fx;
    make_data(&fx, 40, 30, 400, 3);
    recnn_model *m;
    CHECK_OK(recnn_model_create(&m, "deep_ae"));
    char buf[64];
    CHECK_OK(recnn_model_get_str(m, "layers", buf, sizeof buf));
    ck_assert_str_eq(buf, "128,256,256");
    CHECK_OK(recnn_model_get_str(m, "activation", buf, sizeof buf));
    ck_assert_str_eq(buf, "selu");
    double lr;
    CHECK_OK(recnn_model_get_float(m, "lr", &lr));
    ck_assert_double_eq_tol(lr, 0.005, 1e-12);
    ck_assert_int_eq(recnn_model_set_str(m, "activation", "cube"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "output", "sigmoid"), RECNN_E_INVALID);
    const char *bad[] = {"layers=", "layers=0", "layers=12,x", "layers=1,2,3,4,5,6,7,8,9"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK_OK(recnn_model_configure(m, bad[k]));
        ck_assert_int_eq(recnn_model_fit(m, fx.train, NULL), RECNN_E_INVALID);
        ck_assert_int_eq(recnn_model_is_fitted(m), 0);
    }
    recnn_model_free(m);
    CHECK_OK(recnn_model_create(&m, "item_ae"));
    CHECK_OK(recnn_model_get_str(m, "variant", buf, sizeof buf));
    ck_assert_str_eq(buf, "item");
    CHECK_OK(recnn_model_get_str(m, "output", buf, sizeof buf));
    ck_assert_str_eq(buf, "relu");
    double l1;
    CHECK_OK(recnn_model_get_float(m, "l1_ratio", &l1));
    ck_assert_double_eq_tol(l1, 0.9, 1e-12);
    recnn_model_free(m);
    free_data(&fx);
}
END_TEST

/* ---- save / load -------------------------------------------------------------- */

static void roundtrip(const char *kind, const char *cfg)
{
    fixture fx;
    small(&fx);
    recnn_model *m = fit(kind, cfg, &fx, NULL);
    char dir[] = "/tmp/recnn_dae_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/m.recnn", dir);
    CHECK_OK(recnn_model_save(m, path));
    recnn_model *l;
    CHECK_OK(recnn_model_load(&l, path));
    ck_assert_str_eq(recnn_model_kind(l), kind);
    /* the loaded model has its own id maps: predict by external ids */
    size_t nt = (size_t)fx.test->n_ratings;
    int64_t *us = malloc(sizeof(int64_t) * nt), *is = malloc(sizeof(int64_t) * nt);
    for (size_t k = 0; k < nt; k++) {
        us[k] = fx.test->users->ext[fx.test->user[k]];
        is[k] = fx.test->items->ext[fx.test->item[k]];
    }
    float *a = malloc(sizeof(float) * nt), *b = malloc(sizeof(float) * nt);
    CHECK_OK(recnn_model_predict_batch(m, nt, us, is, a));
    CHECK_OK(recnn_model_predict_batch(l, nt, us, is, b));
    ck_assert_int_eq(memcmp(a, b, sizeof(float) * nt), 0);
    free(us);
    free(is);
    int64_t n_items = recnn_model_n_items(m);
    float *s1 = malloc(sizeof(float) * (size_t)n_items);
    float *s2 = malloc(sizeof(float) * (size_t)n_items);
    CHECK_OK(recnn_model_score_user(m, 3, s1));
    CHECK_OK(recnn_model_score_user(l, 3, s2));
    ck_assert_int_eq(memcmp(s1, s2, sizeof(float) * (size_t)n_items), 0);
    char s_a[1024], s_b[1024];
    recnn_model_settings_string(m, s_a, sizeof s_a);
    recnn_model_settings_string(l, s_b, sizeof s_b);
    ck_assert_str_eq(s_a, s_b);
    free(s1);
    free(s2);
    free(a);
    free(b);
    unlink(path);
    rmdir(dir);
    recnn_model_free(m);
    recnn_model_free(l);
    free_data(&fx);
}

START_TEST(test_save_load)
{
    roundtrip("deep_ae", "layers=16,8,8 epochs=3");
    roundtrip("deep_ae", "layers=16,8 tied=1 dropout=0.2 epochs=3");
    roundtrip("item_ae", "epochs=3");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deep_ae");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_user_deep_learns);
    tcase_add_test(tc, test_user_adam_learns);
    tcase_add_test(tc, test_divergence_reported);
    tcase_add_test(tc, test_item_ae_learns);
    tcase_add_test(tc, test_item_variant_deep_learns);
    tcase_add_test(tc, test_tied_shares_memory);
    tcase_add_test(tc, test_dropout_off_at_inference);
    tcase_add_test(tc, test_fold_in_public);
    tcase_add_test(tc, test_refeed_runs);
    tcase_add_test(tc, test_average);
    tcase_add_test(tc, test_fit_without_valid);
    tcase_add_test(tc, test_kept_weight);
    tcase_add_test(tc, test_clip_norm);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_unseen_default);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
