/* NCF (GMF, MLP, NeuMF): settings, implicit and rating training, ranking
 * quality on planted data, determinism, pre-training, persistence. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recnn.h"
#include "recnn/ncf.h"
#include "common/fixtures.h"
#include "models/model.h"
#include "nn/nn.h"


static recnn_dataset *g_all, *g_train, *g_test;

static void data_setup(void)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = test_quick() ? 60 : 120;
    o.n_items = test_quick() ? 50 : 80;
    o.n_ratings = test_quick() ? 1200 : 2800;
    o.rank = 4;
    o.n_genres = 0;
    o.seed = 7;
    ck_assert_int_eq(recnn_dataset_synthetic(&g_all, &o), RECNN_OK);
    recnn_split_options so;
    recnn_split_options_init(&so);
    so.test_fraction = 0.2;
    so.per_user = 1;
    so.seed = 3;
    ck_assert_int_eq(recnn_split_random(g_all, &so, &g_train, NULL, &g_test), RECNN_OK);
}

static void data_teardown(void)
{
    recnn_dataset_free(g_all);
    recnn_dataset_free(g_train);
    recnn_dataset_free(g_test);
    g_all = g_train = g_test = NULL;
}

typedef struct trace {
    int n;
    double loss[256];
    double valid[256];
    char metric[32];
    int stop_at;
} trace;

static int on_epoch(const recnn_progress *p, void *ud)
{
    trace *t = ud;
    if (t->n < 256) {
        t->loss[t->n] = p->train_loss;
        t->valid[t->n] = p->valid_metric;
    }
    t->n++;
    snprintf(t->metric, sizeof t->metric, "%s", p->metric_name);
    return t->stop_at > 0 && p->epoch >= t->stop_at;
}

static recnn_model *fit(const char *kind, const char *settings, trace *t)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, kind), RECNN_OK);
    ck_assert_msg(recnn_model_configure(m, settings) == RECNN_OK, "%s", recnn_last_error());
    if (t)
        recnn_model_set_progress(m, on_epoch, t);
    ck_assert_msg(recnn_model_fit(m, g_train, NULL) == RECNN_OK, "%s: %s", kind,
                  recnn_last_error());
    return m;
}

/* AUC over test positives vs. unrated items, through the evaluator. */
static double test_auc(const recnn_model *m)
{
    recnn_evaluator *e;
    ck_assert_int_eq(recnn_evaluator_create(&e, g_train, g_test), RECNN_OK);
    ck_assert_int_eq(recnn_evaluator_configure(e, "k=10 full_ranking=1"), RECNN_OK);
    ck_assert_msg(recnn_evaluator_run_model(e, m) == RECNN_OK, "%s", recnn_last_error());
    double auc;
    ck_assert_int_eq(recnn_evaluator_value(e, RECNN_METRIC_AUC, 0, &auc), RECNN_OK);
    recnn_evaluator_free(e);
    return auc;
}

static void all_scores(const recnn_model *m, float *out)
{
    int64_t nu = recnn_model_n_users(m), ni = recnn_model_n_items(m);
    for (int64_t u = 0; u < nu; u++)
        ck_assert_int_eq(recnn_model_score_user(m, u, out + u * ni), RECNN_OK);
}

/* ---- settings ------------------------------------------------------------ */

START_TEST(test_kinds_and_settings)
{
    const char *kinds = recnn_model_kinds();
    ck_assert_ptr_nonnull(strstr(kinds, "gmf"));
    ck_assert_ptr_nonnull(strstr(kinds, "mlp"));
    ck_assert_ptr_nonnull(strstr(kinds, "neumf"));
    recnn_model *m;
    ck_assert_int_eq(recnn_model_create(&m, "neumf"), RECNN_OK);
    int64_t v;
    ck_assert_int_eq(recnn_model_get_int(m, "factors", &v), RECNN_OK);
    ck_assert_int_eq(v, 16);
    ck_assert_int_eq(recnn_model_get_int(m, "negatives", &v), RECNN_OK);
    ck_assert_int_eq(v, 4);
    ck_assert_int_eq(recnn_model_get_int(m, "batch", &v), RECNN_OK);
    ck_assert_int_eq(v, 256);
    double f;
    ck_assert_int_eq(recnn_model_get_float(m, "lr", &f), RECNN_OK);
    ck_assert_double_eq_tol(f, 1e-3, 1e-12);
    ck_assert_int_eq(recnn_model_get_float(m, "alpha", &f), RECNN_OK);
    ck_assert_double_eq_tol(f, 0.5, 1e-12);
    char buf[64];
    ck_assert_int_eq(recnn_model_get_str(m, "task", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "implicit");
    ck_assert_int_eq(recnn_model_set_str(m, "task", "ranking"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "pretrain", "maybe"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "factors", 0), RECNN_E_INVALID);
    recnn_model_free(m);
    /* GMF has no tower, MLP no GMF factors */
    ck_assert_int_eq(recnn_model_create(&m, "gmf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_str(m, "layers", "8,4"), RECNN_E_NOTFOUND);
    recnn_model_free(m);
    ck_assert_int_eq(recnn_model_create(&m, "mlp"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_int(m, "factors", 8), RECNN_E_NOTFOUND);
    recnn_model_free(m);
}
END_TEST

START_TEST(test_bad_layers)
{
    const char *bad[] = {"31,8", "16,,8", "16,x", "", "0,4", "2,2,2,2,2,2,2,2,2,2"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        recnn_model *m;
        ck_assert_int_eq(recnn_model_create(&m, "mlp"), RECNN_OK);
        ck_assert_int_eq(recnn_model_set_str(m, "layers", bad[k]), RECNN_OK);
        ck_assert_int_eq(recnn_model_set_int(m, "epochs", 1), RECNN_OK);
        ck_assert_msg(recnn_model_fit(m, g_train, NULL) == RECNN_E_INVALID,
                      "layers=\"%s\" accepted", bad[k]);
        ck_assert_ptr_nonnull(strstr(recnn_last_error(), "layers"));
        ck_assert(!recnn_model_is_fitted(m));
        recnn_model_free(m);
    }
}
END_TEST

START_TEST(test_state_errors)
{
    recnn_model *m;
    ck_assert_int_eq(recnn_model_create(&m, "gmf"), RECNN_OK);
    float p;
    ck_assert_int_eq(recnn_model_predict(m, 1, 1, &p), RECNN_E_STATE);
    recnn_model_free(m);
    m = fit("gmf", "epochs=1 factors=4", NULL);
    int64_t items[5];
    float sc[5];
    size_t n;
    int64_t rated = 1;
    float r = 1;
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, &rated, &r, 5, items, sc, &n),
                     RECNN_E_UNSUPPORTED);
    ck_assert_int_eq(recnn_model_set_int(m, "factors", 8), RECNN_E_STATE);
    recnn_model_free(m);
}
END_TEST

/* ---- implicit training ------------------------------------------------------ */

static void check_learns(const char *kind, const char *settings)
{
    trace t = {0};
    recnn_model *m = fit(kind, settings, &t);
    ck_assert_int_ge(t.n, 2);
    ck_assert_msg(t.loss[t.n - 1] < t.loss[0], "%s: loss %g -> %g", kind, t.loss[0],
                  t.loss[t.n - 1]);
    /* BCE of a constant guess with 1 positive : 4 negatives is ~0.50 */
    if (!test_quick()) /* the quick (valgrind) sizes only check that it moves */
        ck_assert_msg(t.loss[t.n - 1] < 0.48, "%s: final loss %g", kind, t.loss[t.n - 1]);
    double auc = test_auc(m);
    ck_assert_msg(auc > (test_quick() ? 0.55 : 0.65), "%s: test AUC %g", kind, auc);
    /* predictions are probabilities */
    float p[4];
    int64_t us[4] = {1, 2, 3, 4}, is[4] = {1, 2, 3, 4};
    ck_assert_int_eq(recnn_model_predict_batch(m, 4, us, is, p), RECNN_OK);
    for (int k = 0; k < 4; k++)
        ck_assert(p[k] > 0.0f && p[k] < 1.0f);
    /* recommendations never repeat a training item */
    int64_t rec[10];
    size_t n;
    ck_assert_int_eq(recnn_model_recommend(m, 1, 10, rec, NULL, &n), RECNN_OK);
    ck_assert_uint_eq(n, 10);
    const int32_t *row;
    const float *vals;
    int64_t len, uidx;
    ck_assert_int_eq(recnn_model_user_index(m, 1, &uidx), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_user_row(g_train, uidx, &row, &vals, &len), RECNN_OK);
    for (size_t k = 0; k < n; k++) {
        int64_t idx;
        ck_assert_int_eq(recnn_model_item_index(m, rec[k], &idx), RECNN_OK);
        for (int64_t q = 0; q < len; q++)
            ck_assert_int_ne(row[q], idx);
    }
    recnn_model_free(m);
}

START_TEST(test_gmf_learns) { check_learns("gmf", test_quick() ? "epochs=6 factors=8" : "epochs=12 factors=8"); }
END_TEST
START_TEST(test_mlp_learns) { check_learns("mlp", test_quick() ? "epochs=6 layers=16,8" : "epochs=12 layers=16,8"); }
END_TEST
START_TEST(test_neumf_learns)
{
    check_learns("neumf", test_quick() ? "epochs=6 factors=8 layers=16,8,4"
                                  : "epochs=12 factors=8 layers=16,8,4");
}
END_TEST

START_TEST(test_no_hidden_layer)
{
    /* "layers=16": MLP-0, the concatenated embeddings feed the output */
    recnn_model *m = fit("mlp", "epochs=2 layers=16", NULL);
    ck_assert(recnn_model_is_fitted(m));
    recnn_model_free(m);
}
END_TEST

START_TEST(test_deterministic)
{
    int64_t nu = recnn_dataset_n_users(g_train), ni = recnn_dataset_n_items(g_train);
    float *a = malloc((size_t)(nu * ni) * sizeof *a), *b = malloc((size_t)(nu * ni) * sizeof *b);
    const char *s = "epochs=2 factors=8 layers=16,8 batch=64 seed=5";
    int saved = recnn_get_num_threads();
    for (int th = 1; th <= 2; th++) {
        recnn_set_num_threads(th);
        recnn_model *m1 = fit("neumf", s, NULL), *m2 = fit("neumf", s, NULL);
        all_scores(m1, a);
        all_scores(m2, b);
        ck_assert_msg(memcmp(a, b, (size_t)(nu * ni) * sizeof *a) == 0,
                      "threads=%d: same seed, different scores", th);
        recnn_model_free(m1);
        recnn_model_free(m2);
    }
    recnn_set_num_threads(saved);
    recnn_model *m3 = fit("neumf", "epochs=2 factors=8 layers=16,8 batch=64 seed=6", NULL);
    all_scores(m3, b);
    ck_assert(memcmp(a, b, (size_t)(nu * ni) * sizeof *a) != 0);
    recnn_model_free(m3);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_threads_agree)
{
    /* Shards change only the order of gradient sums: 1 and 2 threads
     * train to nearly the same model. */
    int64_t nu = recnn_dataset_n_users(g_train), ni = recnn_dataset_n_items(g_train);
    float *a = malloc((size_t)(nu * ni) * sizeof *a), *b = malloc((size_t)(nu * ni) * sizeof *b);
    int saved = recnn_get_num_threads();
    recnn_set_num_threads(1);
    recnn_model *m1 = fit("neumf", "epochs=2 factors=8 layers=16,8 batch=64", NULL);
    recnn_set_num_threads(2);
    recnn_model *m2 = fit("neumf", "epochs=2 factors=8 layers=16,8 batch=64", NULL);
    recnn_set_num_threads(saved);
    all_scores(m1, a);
    all_scores(m2, b);
    double md = 0;
    for (int64_t k = 0; k < nu * ni; k++)
        md = fmax(md, fabs((double)a[k] - b[k]));
    ck_assert_msg(md < 1e-2, "max score difference %g between 1 and 2 threads", md);
    recnn_model_free(m1);
    recnn_model_free(m2);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_callback_stop_and_validation)
{
    trace t = {0};
    t.stop_at = 2;
    recnn_model *m;
    ck_assert_int_eq(recnn_model_create(&m, "gmf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(m, "epochs=10 factors=8"), RECNN_OK);
    recnn_model_set_progress(m, on_epoch, &t);
    ck_assert_int_eq(recnn_model_fit(m, g_train, g_test), RECNN_OK);
    ck_assert_int_eq(t.n, 2);
    ck_assert_str_eq(t.metric, "ndcg@10");
    ck_assert(isfinite(t.valid[0]) && t.valid[0] >= 0 && t.valid[0] <= 1);
    recnn_model_free(m);
}
END_TEST

/* ---- pre-training ------------------------------------------------------------ */

START_TEST(test_pretrained_fusion)
{
    recnn_model *g = fit("gmf", "epochs=3 factors=8", NULL);
    recnn_model *p = fit("mlp", "epochs=3 layers=16,8,4", NULL);
    recnn_model *n;
    ck_assert_int_eq(recnn_model_create(&n, "neumf"), RECNN_OK);
    /* one epoch with a vanishing learning rate: NeuMF stays at its
     * initialisation, whose logit is alpha*z_gmf + (1-alpha)*z_mlp */
    ck_assert_int_eq(recnn_model_configure(n, "factors=8 layers=16,8,4 epochs=1 lr=1e-9 "
                                              "alpha=0.3"),
                     RECNN_OK);
    ck_assert_msg(recnn_neumf_fit_pretrained(n, g, p, g_train, NULL) == RECNN_OK, "%s",
                  recnn_last_error());
    int64_t ni = recnn_dataset_n_items(g_train);
    float *zg = malloc((size_t)ni * sizeof *zg), *zm = malloc((size_t)ni * sizeof *zm),
          *zn = malloc((size_t)ni * sizeof *zn);
    for (int64_t u = 0; u < 5; u++) {
        ck_assert_int_eq(recnn_model_score_user(g, u, zg), RECNN_OK);
        ck_assert_int_eq(recnn_model_score_user(p, u, zm), RECNN_OK);
        ck_assert_int_eq(recnn_model_score_user(n, u, zn), RECNN_OK);
        for (int64_t i = 0; i < ni; i++)
            ck_assert_msg(fabs(zn[i] - (0.3 * zg[i] + 0.7 * zm[i])) < 1e-3,
                          "user %lld item %lld: %g vs %g", (long long)u, (long long)i, zn[i],
                          0.3 * zg[i] + 0.7 * zm[i]);
    }
    free(zg);
    free(zm);
    free(zn);
    recnn_model_free(n);

    /* mismatches are refused and leave NeuMF untrained */
    ck_assert_int_eq(recnn_model_create(&n, "neumf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(n, "factors=16 layers=16,8,4 epochs=1"), RECNN_OK);
    ck_assert_int_eq(recnn_neumf_fit_pretrained(n, g, p, g_train, NULL), RECNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "factors"));
    ck_assert_int_eq(recnn_model_set_int(n, "factors", 8), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_str(n, "layers", "16,8"), RECNN_OK);
    ck_assert_int_eq(recnn_neumf_fit_pretrained(n, g, p, g_train, NULL), RECNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "layers"));
    ck_assert_int_eq(recnn_neumf_fit_pretrained(n, p, g, g_train, NULL), RECNN_E_INVALID);
    ck_assert(!recnn_model_is_fitted(n));
    recnn_model_free(n);
    recnn_model_free(g);
    recnn_model_free(p);
}
END_TEST

START_TEST(test_pretrain_auto)
{
    trace t = {0}, t0 = {0};
    recnn_model *m = fit("neumf", "epochs=2 factors=8 layers=16,8 pretrain=auto "
                                  "pretrain_epochs=8",
                         &t);
    /* the callback sees only NeuMF's own epochs */
    ck_assert_int_eq(t.n, 2);
    /* started from trained halves, its first epoch is well below the
     * first epoch of the same NeuMF from scratch */
    recnn_model *s = fit("neumf", "epochs=1 factors=8 layers=16,8", &t0);
    ck_assert_msg(t.loss[0] < t0.loss[0] - 0.02, "first epoch loss %g (pretrained) vs %g",
                  t.loss[0], t0.loss[0]);
    ck_assert(test_auc(m) > (test_quick() ? 0.55 : 0.65));
    recnn_model_free(m);
    recnn_model_free(s);
}
END_TEST

/* ---- rating task ----------------------------------------------------------- */

START_TEST(test_rating_task)
{
    recnn_model *m = fit("neumf", test_quick() ? "task=rating epochs=12 batch=32 factors=8 layers=16,8"
                                          : "task=rating epochs=20 batch=32 factors=8 layers=16,8",
                         NULL);
    int64_t n = recnn_dataset_n_ratings(g_train);
    float *pred = malloc((size_t)n * sizeof *pred);
    ck_assert_int_eq(recnn_model_predict_dataset(m, g_train, pred), RECNN_OK);
    const int32_t *us, *is;
    const float *v;
    const int64_t *tm;
    ck_assert_int_eq(recnn_dataset_triplets(g_train, &us, &is, &v, &tm), RECNN_OK);
    float lo, hi;
    ck_assert_int_eq(recnn_dataset_scale(g_train, &lo, &hi), RECNN_OK);
    double mean = recnn_dataset_mean(g_train), se = 0, se0 = 0;
    for (int64_t k = 0; k < n; k++) {
        ck_assert(pred[k] >= lo && pred[k] <= hi);
        se += (pred[k] - v[k]) * (pred[k] - v[k]);
        se0 += (mean - v[k]) * (mean - v[k]);
    }
    ck_assert_msg(se < (test_quick() ? 1.0 : 0.9) * se0, "training RMSE %g vs. %g for the mean", sqrt(se / n),
                  sqrt(se0 / n));
    free(pred);
    /* an unknown user gets the mean rating with task=rating ... */
    float pu = 0;
    ck_assert_int_eq(recnn_model_predict(m, -12345, 1, &pu), RECNN_OK);
    ck_assert(pu == (float)mean);
    recnn_model_free(m);
    /* ... and no interaction (0) with task=implicit, whose known pairs are
     * probabilities (it gave the mean rating, 3.5 on 1..5) */
    m = fit("gmf", "epochs=1 factors=4", NULL);
    ck_assert_int_eq(recnn_model_predict(m, -12345, 1, &pu), RECNN_OK);
    ck_assert(pu == 0.0f);
    pred = malloc((size_t)n * sizeof *pred);
    ck_assert_int_eq(recnn_model_predict_dataset(m, g_train, pred), RECNN_OK);
    ck_assert(pred[0] > 0.0f && pred[0] < 1.0f);
    free(pred);
    recnn_model_free(m);

    /* rating needs a scale: implicit (all-ones) data is refused */
    recnn_dataset *bin;
    ck_assert_int_eq(recnn_dataset_binarize(&bin, g_train, 0), RECNN_OK);
    ck_assert_int_eq(recnn_model_create(&m, "gmf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(m, "task=rating epochs=1"), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, bin, NULL), RECNN_E_INVALID);
    recnn_model_free(m);
    recnn_dataset_free(bin);
}
END_TEST

/* ---- persistence ------------------------------------------------------------ */

START_TEST(test_save_load)
{
    const char *kinds[] = {"gmf", "mlp", "neumf"};
    const char *settings[] = {"epochs=2 factors=8", "epochs=2 layers=16,8,4",
                              "epochs=2 factors=8 layers=16,8,4 task=rating"};
    char dir[] = "/tmp/recnn_ncf_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int64_t ni = recnn_dataset_n_items(g_train);
    float *a = malloc((size_t)ni * sizeof *a), *b = malloc((size_t)ni * sizeof *b);
    for (int k = 0; k < 3; k++) {
        recnn_model *m = fit(kinds[k], settings[k], NULL), *l = NULL;
        char path[256];
        snprintf(path, sizeof path, "%s/%s.model", dir, kinds[k]);
        ck_assert_msg(recnn_model_save(m, path) == RECNN_OK, "%s", recnn_last_error());
        ck_assert_msg(recnn_model_load(&l, path) == RECNN_OK, "%s", recnn_last_error());
        ck_assert_str_eq(recnn_model_kind(l), kinds[k]);
        char s1[512], s2[512];
        recnn_model_settings_string(m, s1, sizeof s1);
        recnn_model_settings_string(l, s2, sizeof s2);
        ck_assert_str_eq(s1, s2);
        for (int64_t u = 0; u < 3; u++) {
            ck_assert_int_eq(recnn_model_score_user(m, u, a), RECNN_OK);
            ck_assert_int_eq(recnn_model_score_user(l, u, b), RECNN_OK);
            ck_assert(memcmp(a, b, (size_t)ni * sizeof *a) == 0);
        }
        float p1, p2;
        ck_assert_int_eq(recnn_model_predict(m, 1, 2, &p1), RECNN_OK);
        ck_assert_int_eq(recnn_model_predict(l, 1, 2, &p2), RECNN_OK);
        ck_assert(p1 == p2);
        int64_t r1[5], r2[5];
        size_t n1, n2;
        ck_assert_int_eq(recnn_model_recommend(m, 3, 5, r1, NULL, &n1), RECNN_OK);
        ck_assert_int_eq(recnn_model_recommend(l, 3, 5, r2, NULL, &n2), RECNN_OK);
        ck_assert_uint_eq(n1, n2);
        ck_assert(memcmp(r1, r2, n1 * sizeof *r1) == 0);
        recnn_model_free(m);
        recnn_model_free(l);
        unlink(path);
    }
    free(a);
    free(b);
    rmdir(dir);
}
END_TEST

/* ---- the dense layer's small-matrix path (nn/layer.c) ------------------------
 * NCF's towers (16x8, 8x4, 20x1) run through direct loops instead of
 * sgemm; checked here against double-precision sums for the widths with
 * a specialised kernel (4, 8, 16), the generic ones, the output layer
 * (width 1) and batches that are not a multiple of the 4-row blocks. */
START_TEST(test_dense_small_path)
{
    const int shapes[][2] = {{16, 8}, {8, 4}, {20, 1}, {8, 16}, {16, 16}, {5, 3},
                             {4, 4},  {13, 8}, {3, 1}, {33, 4}};
    const int64_t ns[] = {1, 13, 64};
    recnn_rng r;
    recnn__rng_seed(&r, 11);
    for (size_t q = 0; q < sizeof shapes / sizeof *shapes; q++) {
        const int64_t in = shapes[q][0], out = shapes[q][1];
        for (size_t z = 0; z < sizeof ns / sizeof *ns; z++) {
            const int64_t n = ns[z];
            recnn__layer *l = NULL;
            ck_assert_int_eq(recnn__dense_create(&l, in, out, 1, 64), RECNN_OK);
            ck_assert_int_eq(recnn__layer_alloc_io(l), RECNN_OK);
            ck_assert_int_eq(recnn__layer_init(l, RECNN__INIT_XAVIER_UNIFORM, 0.0f, &r),
                             RECNN_OK);
            float *x = malloc((size_t)(n * in) * sizeof *x), *y = malloc((size_t)(n * out) * sizeof *y);
            float *gy = malloc((size_t)(n * out) * sizeof *gy), *gx = malloc((size_t)(n * in) * sizeof *gx);
            float *w0 = malloc((size_t)(in * out) * sizeof *w0), *dw0 = malloc((size_t)(in * out) * sizeof *dw0);
            float b0[16], db0[16];
            for (int64_t k = 0; k < n * in; k++)
                x[k] = recnn__rng_uniformf(&r) - 0.5f;
            for (int64_t k = 0; k < n * out; k++)
                gy[k] = recnn__rng_uniformf(&r) - 0.5f;
            for (int64_t k = 0; k < out; k++)
                l->pb->w[k] = b0[k] = recnn__rng_uniformf(&r) - 0.5f;
            /* gradients accumulate: start from non-zero values */
            for (int64_t k = 0; k < in * out; k++)
                l->pw->g[k] = dw0[k] = recnn__rng_uniformf(&r) - 0.5f;
            for (int64_t k = 0; k < out; k++)
                l->pb->g[k] = db0[k] = recnn__rng_uniformf(&r) - 0.5f;
            memcpy(w0, l->pw->w, (size_t)(in * out) * sizeof *w0);
            ck_assert_int_eq(recnn__layer_forward(l, n, x, y, 1), RECNN_OK);
            ck_assert_int_eq(recnn__layer_backward(l, n, x, y, gy, gx), RECNN_OK);
            for (int64_t i = 0; i < n; i++)
                for (int64_t o = 0; o < out; o++) {
                    double s = b0[o];
                    for (int64_t k = 0; k < in; k++)
                        s += (double)x[i * in + k] * w0[k * out + o];
                    ck_assert_msg(fabs(y[i * out + o] - s) < 1e-5,
                                  "forward %lldx%lld n=%lld: y[%lld][%lld] %g != %g",
                                  (long long)in, (long long)out, (long long)n, (long long)i,
                                  (long long)o, y[i * out + o], s);
                }
            for (int64_t k = 0; k < in; k++)
                for (int64_t o = 0; o < out; o++) {
                    double s = dw0[k * out + o];
                    for (int64_t i = 0; i < n; i++)
                        s += (double)x[i * in + k] * gy[i * out + o];
                    ck_assert_msg(fabs(l->pw->g[k * out + o] - s) < 1e-4,
                                  "dW %lldx%lld n=%lld [%lld][%lld]: %g != %g", (long long)in,
                                  (long long)out, (long long)n, (long long)k, (long long)o,
                                  l->pw->g[k * out + o], s);
                }
            for (int64_t o = 0; o < out; o++) {
                double s = db0[o];
                for (int64_t i = 0; i < n; i++)
                    s += gy[i * out + o];
                ck_assert_msg(fabs(l->pb->g[o] - s) < 1e-4, "db %lldx%lld [%lld]",
                              (long long)in, (long long)out, (long long)o);
            }
            for (int64_t i = 0; i < n; i++)
                for (int64_t k = 0; k < in; k++) {
                    double s = 0;
                    for (int64_t o = 0; o < out; o++)
                        s += (double)gy[i * out + o] * w0[k * out + o];
                    ck_assert_msg(fabs(gx[i * in + k] - s) < 1e-5, "gx %lldx%lld n=%lld",
                                  (long long)in, (long long)out, (long long)n);
                }
            free(x);
            free(y);
            free(gy);
            free(gx);
            free(w0);
            free(dw0);
            recnn__layer_free(l);
        }
    }
}
END_TEST

/* ---- NeuMF forward and backward against a hand computation ------------------- */

typedef struct nm_w {
    const float *gu, *gi, *mu, *mi, *w[4], *b[4], *ow, *ob;
} nm_w;

static const float *tensor(const recnn_model *m, const char *name, int64_t count)
{
    recnn__tensor t[RECNN__MAX_TENSORS];
    int n = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
    for (int k = 0; k < n; k++)
        if (strcmp(t[k].name, name) == 0) {
            ck_assert_int_eq(t[k].count, count);
            return t[k].data;
        }
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

/* factors 4, layers 8,4,2 (embeddings 4): the model's logit in double. */
enum { NM_F = 4, NM_E = 4 };
static const int NM_SZ[3] = {8, 4, 2};

static double nm_logit(const nm_w *w, int64_t u, int64_t i)
{
    double f[NM_F + 2], x[8], h[8];
    for (int k = 0; k < NM_F; k++)
        f[k] = (double)w->gu[u * NM_F + k] * w->gi[i * NM_F + k];
    for (int k = 0; k < NM_E; k++) {
        x[k] = w->mu[u * NM_E + k];
        x[NM_E + k] = w->mi[i * NM_E + k];
    }
    for (int L = 0; L < 2; L++) {
        int in = NM_SZ[L], out = NM_SZ[L + 1];
        for (int o = 0; o < out; o++) {
            double s = w->b[L][o];
            for (int k = 0; k < in; k++)
                s += x[k] * w->w[L][k * out + o];
            h[o] = s > 0 ? s : 0;
        }
        memcpy(x, h, (size_t)out * sizeof *x);
    }
    f[NM_F] = x[0];
    f[NM_F + 1] = x[1];
    double z = w->ob[0];
    for (int k = 0; k < NM_F + 2; k++)
        z += f[k] * w->ow[k];
    return z;
}

static void nm_bind(const recnn_model *m, nm_w *w, int64_t nu, int64_t ni)
{
    w->gu = tensor(m, "gmf_user", nu * NM_F);
    w->gi = tensor(m, "gmf_item", ni * NM_F);
    w->mu = tensor(m, "mlp_user", nu * NM_E);
    w->mi = tensor(m, "mlp_item", ni * NM_E);
    w->w[0] = tensor(m, "mlp_w0", 8 * 4);
    w->b[0] = tensor(m, "mlp_b0", 4);
    w->w[1] = tensor(m, "mlp_w1", 4 * 2);
    w->b[1] = tensor(m, "mlp_b1", 2);
    w->ow = tensor(m, "out_w", NM_F + 2);
    w->ob = tensor(m, "out_b", 1);
}

/* Mean BCE over the training pairs, all positives (negatives=0). */
static double nm_loss(const nm_w *w, const int32_t *tu, const int32_t *ti, int64_t nr)
{
    double s = 0;
    for (int64_t r = 0; r < nr; r++) {
        double z = nm_logit(w, tu[r], ti[r]);
        s += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
    }
    return s / (double)nr;
}

START_TEST(test_neumf_forward_backward)
{
    /* forward: scores == the hand-computed logits */
    const char *base = "factors=4 layers=8,4,2 negatives=0 epochs=1 seed=5 batch=4096";
    char set[256];
    snprintf(set, sizeof set, "%s lr=0.0001", base);
    recnn_model *a = fit("neumf", set, NULL);
    snprintf(set, sizeof set, "%s lr=0.0002", base);
    recnn_model *b = fit("neumf", set, NULL);
    int64_t nu = recnn_model_n_users(a), ni = recnn_model_n_items(a);
    nm_w wa, wb;
    nm_bind(a, &wa, nu, ni);
    nm_bind(b, &wb, nu, ni);
    float *sc = malloc((size_t)ni * sizeof *sc);
    for (int64_t u = 0; u < nu; u += 7) {
        ck_assert_int_eq(recnn_model_score_user(a, u, sc), RECNN_OK);
        for (int64_t i = 0; i < ni; i++)
            ck_assert_msg(fabs(sc[i] - nm_logit(&wa, u, i)) < 1e-5, "logit (%lld, %lld)",
                          (long long)u, (long long)i);
    }
    free(sc);
    /* backward: one Adam step over one batch holding every training pair
     * moves each weight by about -lr sign(gradient).  a and b start from
     * the same weights w0 = 2 a - b; the gradient of the hand-computed loss
     * at w0 by central differences must have the sign of (b - a). */
    const int32_t *tu, *ti;
    ck_assert_int_eq(recnn_dataset_triplets(g_train, &tu, &ti, NULL, NULL), RECNN_OK);
    int64_t nr = recnn_dataset_n_ratings(g_train);
    const char *names[] = {"gmf_user", "gmf_item", "mlp_user", "mlp_item", "mlp_w0",
                           "mlp_b0",   "mlp_w1",   "mlp_b1",   "out_w",    "out_b"};
    int checked = 0;
    for (size_t q = 0; q < sizeof names / sizeof *names; q++) {
        recnn__tensor t[RECNN__MAX_TENSORS];
        int nt = a->vt->tensors(a, t, RECNN__MAX_TENSORS), ka = -1;
        for (int k = 0; k < nt; k++)
            if (strcmp(t[k].name, names[q]) == 0)
                ka = k;
        ck_assert_int_ge(ka, 0);
        float *pa = t[ka].data;
        float *pb = (float *)tensor(b, names[q], t[ka].count);
        int64_t cnt = t[ka].count, step = cnt > 24 ? cnt / 24 : 1;
        for (int64_t e = 0; e < cnt; e += step) {
            float va = pa[e], vb = pb[e];
            if (va == vb)
                continue; /* no gradient (an unused row) */
            /* evaluate at w0 for this entry, a's values elsewhere: the
             * other entries' offsets (~lr) change the loss by O(lr), the
             * finite difference is taken at a fixed point either way */
            const float h = 1e-3f;
            float w0 = 2 * va - vb;
            pa[e] = w0 + h;
            double lp = nm_loss(&wa, tu, ti, nr);
            pa[e] = w0 - h;
            double lm = nm_loss(&wa, tu, ti, nr);
            pa[e] = va;
            double gfd = (lp - lm) / (2.0 * h);
            if (fabs(gfd) < 1e-5)
                continue;
            ck_assert_msg((gfd > 0) == (vb < va),
                          "%s[%lld]: finite-difference gradient %g, Adam moved %g -> %g",
                          names[q], (long long)e, gfd, (double)va, (double)vb);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 40);
    recnn_model_free(a);
    recnn_model_free(b);
}
END_TEST

static Suite *ncf_suite(void)
{
    Suite *s = suite_create("ncf");
    TCase *tc = tcase_create("ncf");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, data_setup, data_teardown);
    tcase_add_test(tc, test_kinds_and_settings);
    tcase_add_test(tc, test_bad_layers);
    tcase_add_test(tc, test_state_errors);
    tcase_add_test(tc, test_gmf_learns);
    tcase_add_test(tc, test_mlp_learns);
    tcase_add_test(tc, test_neumf_learns);
    tcase_add_test(tc, test_no_hidden_layer);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_threads_agree);
    tcase_add_test(tc, test_callback_stop_and_validation);
    tcase_add_test(tc, test_pretrained_fusion);
    tcase_add_test(tc, test_pretrain_auto);
    tcase_add_test(tc, test_rating_task);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_dense_small_path);
    tcase_add_test(tc, test_neumf_forward_backward);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(ncf_suite()); }
