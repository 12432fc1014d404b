/* Tests for the neighbourhood models ("itemknn", "userknn", "knnbaseline"). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "models/model.h"
#include "common/fixtures.h"




static recnn_model *knn_new(const char *kind, const char *settings)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, kind), RECNN_OK);
    int st = recnn_model_configure(m, settings);
    ck_assert_msg(st == RECNN_OK, "configure \"%s\": %s", settings, recnn_last_error());
    return m;
}

static const void *tensor(const recnn_model *m, const char *name, int64_t *count)
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

/* Similarity of items a and b as stored in the model, or 0 when b is not in
 * a's neighbour list. */
static float stored_sim(const recnn_model *m, int a, int b)
{
    const int64_t *ptr = tensor(m, "knn.nb_ptr", NULL);
    const int32_t *idx = tensor(m, "knn.nb_idx", NULL);
    const float *sim = tensor(m, "knn.nb_sim", NULL);
    for (int64_t p = ptr[a]; p < ptr[a + 1]; p++)
        if (idx[p] == b)
            return sim[p];
    return 0;
}

/* 4 users x 3 items (0 = unrated):
 *        i1 i2 i3
 *   u1    5  3  4
 *   u2    4  2  .
 *   u3    1  5  2
 *   u4    .  4  5
 * Adjusted cosine (Sarwar 2001): subtract each user's mean, then cosine of
 * the item columns (zeros for missing ratings). */
static const double R[4][3] = {{5, 3, 4}, {4, 2, 0}, {1, 5, 2}, {0, 4, 5}};

/* R's ratings as triplets (ids from 1); returns their number (10). */
static size_t tiny_triplets(int64_t *us, int64_t *is, float *vs)
{
    size_t n = 0;
    for (int u = 0; u < 4; u++)
        for (int i = 0; i < 3; i++)
            if (R[u][i] > 0) {
                us[n] = u + 1;
                is[n] = i + 1;
                vs[n] = (float)R[u][i];
                n++;
            }
    return n;
}

static recnn_dataset *tiny(void)
{
    int64_t us[12], is[12];
    float vs[12];
    size_t n = tiny_triplets(us, is, vs);
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, n, us, is, vs, NULL, 1, 5, 0),
                     RECNN_OK);
    return d;
}

START_TEST(test_adjusted_cosine_by_hand)
{
    double x[4][3], mean[4];
    for (int u = 0; u < 4; u++) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < 3; i++)
            if (R[u][i] > 0) {
                s += R[u][i];
                n++;
            }
        mean[u] = s / n;
        for (int i = 0; i < 3; i++)
            x[u][i] = R[u][i] > 0 ? R[u][i] - mean[u] : 0;
    }
    double sim[3][3];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double dot = 0, na = 0, nb = 0;
            for (int u = 0; u < 4; u++) {
                dot += x[u][a] * x[u][b];
                na += x[u][a] * x[u][a];
                nb += x[u][b] * x[u][b];
            }
            sim[a][b] = dot / sqrt(na * nb);
        }
    recnn_dataset *d = tiny();
    recnn_model *m = knn_new("itemknn", "k=2 keep=2");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int positive = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            if (a == b)
                continue;
            float got = stored_sim(m, a, b);
            if (sim[a][b] > 0) {
                positive++;
                ck_assert_msg(fabs(got - sim[a][b]) < 1e-5, "sim(%d,%d) %g vs %g", a, b,
                              got, sim[a][b]);
            } else {
                ck_assert_float_eq(got, 0); /* non-positive: not stored */
            }
        }
    ck_assert_int_gt(positive, 0);
    /* the paper's prediction: sum sim * r / sum |sim| over the neighbours the
     * user rated; with no usable neighbour, the user's mean */
    for (int u = 0; u < 4; u++)
        for (int i = 0; i < 3; i++) {
            double num = 0, den = 0;
            for (int j = 0; j < 3; j++)
                if (j != i && R[u][j] > 0 && sim[i][j] > 0) {
                    num += sim[i][j] * R[u][j];
                    den += sim[i][j];
                }
            double want = den > 0 ? num / den : mean[u];
            float got;
            ck_assert_int_eq(recnn_model_predict(m, u + 1, i + 1, &got), RECNN_OK);
            ck_assert_msg(fabs(got - want) < 1e-5, "pred(%d,%d) %g vs %g", u, i, got,
                          want);
        }
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* Pearson over co-ratings with shrinkage and min_support, user-based. */
START_TEST(test_pearson_user_based)
{
    recnn_dataset *d = tiny();
    recnn_model *m = knn_new("userknn", "similarity=pearson shrinkage=2 min_support=2");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            if (a == b)
                continue;
            double sa = 0, sb = 0, n = 0;
            for (int i = 0; i < 3; i++)
                if (R[a][i] > 0 && R[b][i] > 0) {
                    sa += R[a][i];
                    sb += R[b][i];
                    n++;
                }
            double want = 0;
            if (n >= 2) {
                double ma = sa / n, mb = sb / n, num = 0, da = 0, db = 0;
                for (int i = 0; i < 3; i++)
                    if (R[a][i] > 0 && R[b][i] > 0) {
                        num += (R[a][i] - ma) * (R[b][i] - mb);
                        da += (R[a][i] - ma) * (R[a][i] - ma);
                        db += (R[b][i] - mb) * (R[b][i] - mb);
                    }
                want = da > 0 && db > 0 ? num / sqrt(da * db) : 0;
                want *= (n - 1) / (n - 1 + 2);
            }
            if (want < 0)
                want = 0;
            ck_assert_msg(fabs(stored_sim(m, a, b) - want) < 1e-5, "sim(%d,%d) %g vs %g",
                          a, b, stored_sim(m, a, b), want);
        }
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* Neighbour lists never exceed `keep`, are sorted best first, hold positive
 * similarities of other entities only; memory is entities x keep. */
START_TEST(test_memory_bound)
{
    recnn_dataset *d = test_planted(test_quick() ? 80 : 200, test_quick() ? 60 : 150, 3, 0.3, 0.2, 3);
    const char *kinds[] = {"itemknn", "userknn", "knnbaseline"};
    for (int k = 0; k < 3; k++) {
        recnn_model *m = knn_new(kinds[k], "k=3 keep=5");
        ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
        int64_t n_ptr, n_nb;
        const int64_t *ptr = tensor(m, "knn.nb_ptr", &n_ptr);
        const int32_t *idx = tensor(m, "knn.nb_idx", &n_nb);
        const float *sim = tensor(m, "knn.nb_sim", NULL);
        int64_t ne = n_ptr - 1;
        ck_assert_int_eq(ne, k == 1 ? d->n_users : d->n_items);
        ck_assert_int_le(n_nb, ne * 5);
        ck_assert_int_gt(n_nb, 0);
        for (int64_t a = 0; a < ne; a++) {
            ck_assert_int_le(ptr[a + 1] - ptr[a], 5);
            for (int64_t p = ptr[a]; p < ptr[a + 1]; p++) {
                ck_assert_int_ne(idx[p], a);
                ck_assert(sim[p] > 0);
                if (p > ptr[a])
                    ck_assert(sim[p] <= sim[p - 1]);
            }
        }
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
}
END_TEST

static double global_mean_rmse(const recnn_dataset *tr, const recnn_dataset *te)
{
    double mu = 0, se = 0;
    for (int64_t k = 0; k < tr->n_ratings; k++)
        mu += tr->value[k];
    mu /= (double)tr->n_ratings;
    for (int64_t k = 0; k < te->n_ratings; k++)
        se += (te->value[k] - mu) * (te->value[k] - mu);
    return sqrt(se / (double)te->n_ratings);
}

START_TEST(test_accuracy_planted)
{
    recnn_dataset *d = test_planted(test_quick() ? 100 : 250, test_quick() ? 80 : 200, 3, 0.3, 0.2, 5);
    recnn_dataset *tr, *te;
    test_split(d, 6, &tr, &te);
    double base = global_mean_rmse(tr, te);
    const char *kinds[] = {"itemknn", "itemknn", "userknn", "knnbaseline", "knnbaseline"};
    const char *cfgs[] = {"", "aggregate=centered similarity=pearson shrinkage=10", "",
                          "", "user_based=1 baseline=sgd"};
    for (int k = 0; k < 5; k++) {
        recnn_model *m = knn_new(kinds[k], cfgs[k]);
        ck_assert_int_eq(recnn_model_fit(m, tr, NULL), RECNN_OK);
        double r = recnn__valid_rmse(m, te);
        ck_assert_msg(r < 0.8 * base, "%s %s: %.4f vs global mean %.4f", kinds[k],
                      cfgs[k], r, base);
        /* score_user agrees with predict */
        float *sc = malloc((size_t)tr->n_items * sizeof *sc);
        for (int32_t u = 0; u < 3; u++) {
            ck_assert_int_eq(recnn_model_score_user(m, u, sc), RECNN_OK);
            for (int64_t i = 0; i < tr->n_items; i += 7) {
                float p;
                int32_t ii = (int32_t)i;
                ck_assert_int_eq(m->vt->predict(m, 1, &u, &ii, &p), RECNN_OK);
                ck_assert_float_eq_tol(p, sc[i], 1e-5);
            }
        }
        free(sc);
        recnn_model_free(m);
    }
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(test_deterministic_threads)
{
    /* >= 20,000 ratings: the similarity loop runs in parallel */
    recnn_dataset *d = test_planted(260, 200, 3, 0.45, 0.2, 9);
    const char *kinds[] = {"itemknn", "userknn", "knnbaseline"};
    for (int k = 0; k < 3; k++) {
        recnn_set_num_threads(1);
        recnn_model *a = knn_new(kinds[k], "keep=20");
        ck_assert_int_eq(recnn_model_fit(a, d, NULL), RECNN_OK);
        recnn_set_num_threads(2);
        recnn_model *b = knn_new(kinds[k], "keep=20");
        ck_assert_int_eq(recnn_model_fit(b, d, NULL), RECNN_OK);
        recnn_set_num_threads(0);
        int64_t na, nb;
        const int32_t *ia = tensor(a, "knn.nb_idx", &na);
        const int32_t *ib = tensor(b, "knn.nb_idx", &nb);
        ck_assert_int_eq(na, nb);
        ck_assert(memcmp(ia, ib, (size_t)na * sizeof *ia) == 0);
        ck_assert(memcmp(tensor(a, "knn.nb_sim", NULL), tensor(b, "knn.nb_sim", NULL),
                         (size_t)na * sizeof(float)) == 0);
        recnn_model_free(a);
        recnn_model_free(b);
    }
    recnn_dataset_free(d);
}
END_TEST

/* Fold-in: a training user's own ratings given as a new user reproduce that
 * user's recommendations (item-based); user-based cannot fold in. */
START_TEST(test_fold_in)
{
    recnn_dataset *d = test_planted(80, 60, 3, 0.3, 0.2, 11);
    const char *kinds[] = {"itemknn", "knnbaseline"};
    for (int k = 0; k < 2; k++) {
        recnn_model *m = knn_new(kinds[k], "");
        ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
        for (int32_t u = 0; u < 4; u++) {
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
                                                       d->value + d->row_ptr[u], 10, b,
                                                       sb, &nb),
                             RECNN_OK);
            ck_assert_uint_eq(na, nb);
            for (size_t j = 0; j < na; j++) {
                ck_assert_double_eq_tol(sa[j], sb[j], 1e-4);
            }
            free(ids);
        }
        recnn_model_free(m);
    }
    recnn_model *m = knn_new("userknn", "");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t item = d->items->ext[0], out[3];
    float r = 4;
    size_t n_out;
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, &item, &r, 3, out, NULL, &n_out),
                     RECNN_E_UNSUPPORTED);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(test_save_load)
{
    recnn_dataset *d = test_planted(60, 50, 2, 0.4, 0.2, 13);
    char dir[] = "/tmp/recnn_knn_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *kinds[] = {"itemknn", "userknn", "knnbaseline"};
    for (int k = 0; k < 3; k++) {
        recnn_model *m = knn_new(kinds[k], "keep=10");
        ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
        char path[256];
        snprintf(path, sizeof path, "%s/%s.model", dir, kinds[k]);
        ck_assert_msg(recnn_model_save(m, path) == RECNN_OK, "save: %s",
                      recnn_last_error());
        recnn_model *l = NULL;
        ck_assert_msg(recnn_model_load(&l, path) == RECNN_OK, "load: %s",
                      recnn_last_error());
        ck_assert_str_eq(recnn_model_kind(l), kinds[k]);
        float *a = malloc((size_t)d->n_items * sizeof *a);
        float *b = malloc((size_t)d->n_items * sizeof *b);
        for (int64_t u = 0; u < 5; u++) {
            ck_assert_int_eq(recnn_model_score_user(m, u, a), RECNN_OK);
            ck_assert_int_eq(recnn_model_score_user(l, u, b), RECNN_OK);
            ck_assert(memcmp(a, b, (size_t)d->n_items * sizeof *a) == 0);
        }
        free(a);
        free(b);
        recnn_model_free(l);
        recnn_model_free(m);
        unlink(path);
    }
    rmdir(dir);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(test_settings)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "itemknn"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_str(m, "similarity", "jaccard"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "k", 0), RECNN_E_INVALID);
    /* user_based only exists for knnbaseline */
    ck_assert_int_eq(recnn_model_set_int(m, "user_based", 1), RECNN_E_NOTFOUND);
    char buf[64];
    ck_assert_int_eq(recnn_model_get_str(m, "similarity", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "adjusted_cosine");
    recnn_model_free(m);
    ck_assert_int_eq(recnn_model_create(&m, "knnbaseline"), RECNN_OK);
    ck_assert_int_eq(recnn_model_get_str(m, "similarity", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "pearson_baseline");
    ck_assert_int_eq(recnn_model_set_int(m, "user_based", 1), RECNN_OK);
    recnn_model_free(m);
}
END_TEST

/* baseline=sgd with a learning rate that makes the biases blow up: fit
 * reports RECNN_E_NUMERIC naming the model (it used to return RECNN_OK
 * with every prediction NaN or Inf); a sane rate still fits. */
static void check_diverges(const char *kind, const char *settings,
                           const recnn_dataset *d)
{
    recnn_model *m = knn_new(kind, settings);
    int st = recnn_model_fit(m, d, NULL);
    ck_assert_msg(st == RECNN_E_NUMERIC, "%s %s: fit gave %d, not RECNN_E_NUMERIC", kind,
                  settings, st);
    const char *msg = recnn_last_error();
    ck_assert_msg(strstr(msg, kind) && strstr(msg, "diverged") && strstr(msg, "epoch"),
                  "message: %s", msg);
    ck_assert_int_eq(recnn_model_is_fitted(m), 0);
    float p;
    ck_assert_int_eq(recnn_model_predict(m, d->users->ext[0], d->items->ext[0], &p),
                     RECNN_E_STATE);
    recnn_model_free(m);
}

START_TEST(test_sgd_baseline_diverges)
{
    recnn_dataset *d = test_planted(40, 30, 2, 0.4, 0.2, 61);
    check_diverges("knnbaseline", "baseline=sgd bsl_lr=10", d);
    check_diverges("knnbaseline", "baseline=sgd bsl_lr=10 user_based=1", d);
    check_diverges("itemknn", "aggregate=baseline baseline=sgd bsl_lr=10", d);
    /* the default rate converges: fit succeeds, predictions finite */
    recnn_model *m = knn_new("knnbaseline", "baseline=sgd");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    float *p = malloc((size_t)d->n_ratings * sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(recnn_model_predict_dataset(m, d, p), RECNN_OK);
    for (int64_t k = 0; k < d->n_ratings; k++)
        ck_assert_msg(isfinite(p[k]), "prediction %lld = %g", (long long)k, p[k]);
    free(p);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* ALS baselines with bsl_reg_i = bsl_reg_u = 0 (allowed): a user and an
 * item without training ratings get bias 0 (the solve was 0/0 = NaN), the
 * others the plain alternating means; scores stay finite. */
START_TEST(test_als_baseline_empty_zero_reg)
{
    /* tiny()'s ratings plus (user 5, item 4), which stays out of training:
     * user 5 and item 4 exist in the index space with no training rating */
    int64_t us[13], is[13];
    float vs[13];
    size_t n = tiny_triplets(us, is, vs);
    us[n] = 5;
    is[n] = 4;
    vs[n] = 3;
    n++;
    recnn_dataset *full = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&full, n, us, is, vs, NULL, 1, 5, 0),
                     RECNN_OK);
    ck_assert_int_eq(full->n_users, 5);
    ck_assert_int_eq(full->n_items, 4);
    uint8_t keep[13];
    for (int64_t k = 0; k < full->n_ratings; k++)
        keep[k] = 1;
    int64_t gone = recnn__dataset_find(full, 4, 3);
    ck_assert_int_ge(gone, 0);
    keep[gone] = 0;
    recnn_dataset *d = recnn__dataset_subset(full, keep);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->n_ratings, (int64_t)n - 1);
    /* by hand, one ALS sweep from zero biases: items first, then users */
    double mu = 0;
    int cnt = 0;
    for (int u = 0; u < 4; u++)
        for (int i = 0; i < 3; i++)
            if (R[u][i] > 0) {
                mu += R[u][i];
                cnt++;
            }
    mu /= cnt;
    double bi[3], bu[4];
    for (int i = 0; i < 3; i++) {
        double s = 0;
        int c = 0;
        for (int u = 0; u < 4; u++)
            if (R[u][i] > 0) {
                s += R[u][i] - mu;
                c++;
            }
        bi[i] = s / c;
    }
    for (int u = 0; u < 4; u++) {
        double s = 0;
        int c = 0;
        for (int i = 0; i < 3; i++)
            if (R[u][i] > 0) {
                s += R[u][i] - mu - bi[i];
                c++;
            }
        bu[u] = s / c;
    }
    for (int ub = 0; ub < 2; ub++) {
        recnn_model *m = knn_new("knnbaseline", ub ? "bsl_reg_i=0 bsl_reg_u=0 "
                                                     "bsl_epochs=1 user_based=1"
                                                   : "bsl_reg_i=0 bsl_reg_u=0 "
                                                     "bsl_epochs=1");
        ck_assert_msg(recnn_model_fit(m, d, NULL) == RECNN_OK, "fit: %s",
                      recnn_last_error());
        int64_t nbu, nbi;
        const float *mbu = tensor(m, "knn.user_bias", &nbu);
        const float *mbi = tensor(m, "knn.item_bias", &nbi);
        ck_assert_int_eq(nbu, 5);
        ck_assert_int_eq(nbi, 4);
        ck_assert_msg(mbi[3] == 0.0f, "empty item's bias %g", mbi[3]);
        ck_assert_msg(mbu[4] == 0.0f, "empty user's bias %g", mbu[4]);
        for (int i = 0; i < 3; i++)
            ck_assert_double_eq_tol(mbi[i], bi[i], 1e-5);
        for (int u = 0; u < 4; u++)
            ck_assert_double_eq_tol(mbu[u], bu[u], 1e-5);
        /* every user's scores, the empty item's and the empty user's too */
        for (int64_t u = 0; u < 5; u++) {
            float sc[4];
            ck_assert_int_eq(recnn_model_score_user(m, u, sc), RECNN_OK);
            for (int i = 0; i < 4; i++)
                ck_assert_msg(isfinite(sc[i]), "user_based=%d score(%lld, %d) = %g", ub,
                              (long long)u, i, sc[i]);
        }
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
    recnn_dataset_free(full);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("knn");
    TCase *tc = tcase_create("knn");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_adjusted_cosine_by_hand);
    tcase_add_test(tc, test_pearson_user_based);
    tcase_add_test(tc, test_memory_bound);
    tcase_add_test(tc, test_accuracy_planted);
    tcase_add_test(tc, test_deterministic_threads);
    tcase_add_test(tc, test_fold_in);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_sgd_baseline_diverges);
    tcase_add_test(tc, test_als_baseline_empty_zero_reg);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
