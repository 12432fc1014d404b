/* The generic model interface (src/models/model.c), exercised through the
 * popularity model, whose answers are easy to compute by hand: creation,
 * settings (typed set/get, configure all-or-nothing, settings string,
 * errors), the trained/untrained state, prediction with unknown ids,
 * recommendation excluding training items, fold-in, and a model without
 * fold-in (a copy of the popularity vtable with score_new removed). */
#include <check.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "data/dataset.h"
#include "models/model.h"

extern const recnn__model_vt recnn__vt_popularity;

/* Users 10, 20, 30, 40; items 100, 101, 102, 103, 105 (indices 0..4).
 * Interaction counts per item:
 *   100: 4 (10,20,30,40)   101: 3 (10,20,30)   102: 2 (10,40)
 *   103: 1 (20)            105: 2 (30,40)
 * Rating sums: 100: 1+2+1+1 = 5, 101: 5+5+5 = 15, 102: 3+3 = 6,
 *   103: 4, 105: 1+2 = 3. */
static const int64_t U[] = {10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40};
static const int64_t I[] = {100, 101, 102, 100, 101, 103, 100, 101, 105, 100, 102, 105};
static const float V[] = {1, 5, 3, 2, 5, 4, 1, 5, 1, 1, 3, 2};
#define NR (sizeof U / sizeof U[0])

static recnn_dataset *toy(void)
{
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, NR, U, I, V, NULL, 1, 5, 0),
                     RECNN_OK);
    return d;
}

static recnn_model *popularity(void)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "popularity"), RECNN_OK);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(test_create)
{
    recnn_model *m = (recnn_model *)&m;
    ck_assert_int_eq(recnn_model_create(&m, "no-such-kind"), RECNN_E_NOTFOUND);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "popularity"));
    ck_assert_int_eq(recnn_model_create(&m, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_create(NULL, "popularity"), RECNN_E_INVALID);
    const char *kinds = recnn_model_kinds();
    ck_assert_ptr_nonnull(strstr(kinds, "popularity"));
    ck_assert_ptr_nonnull(strstr(kinds, "ease"));
    m = popularity();
    ck_assert_str_eq(recnn_model_kind(m), "popularity");
    ck_assert_str_eq(recnn_model_kind(NULL), "");
    ck_assert_int_eq(recnn_model_is_fitted(m), 0);
    ck_assert_int_eq(recnn_model_is_fitted(NULL), 0);
    recnn_model_free(m);
    recnn_model_free(NULL);
}
END_TEST

START_TEST(test_settings_typed)
{
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_setting_count(m), 2);
    const char *name, *type, *doc;
    ck_assert_int_eq(recnn_model_setting_info(m, 0, &name, &type, &doc), RECNN_OK);
    ck_assert_str_eq(name, "weight");
    ck_assert_str_eq(type, "string");
    ck_assert_uint_gt(strlen(doc), 10);
    ck_assert_int_eq(recnn_model_setting_info(m, 1, &name, &type, NULL), RECNN_OK);
    ck_assert_str_eq(name, "default_rating");
    ck_assert_str_eq(type, "float");
    ck_assert_int_eq(recnn_model_setting_info(m, 2, &name, &type, &doc),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_setting_info(m, -1, &name, &type, &doc),
                     RECNN_E_INVALID);

    char buf[64];
    ck_assert_int_eq(recnn_model_get_str(m, "weight", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "count");
    double f = -1;
    ck_assert_int_eq(recnn_model_get_float(m, "default_rating", &f), RECNN_OK);
    ck_assert(f == 0.0);

    ck_assert_int_eq(recnn_model_set_str(m, "weight", "rating"), RECNN_OK);
    ck_assert_int_eq(recnn_model_get_str(m, "weight", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "rating");
    ck_assert_int_eq(recnn_model_set_str(m, "weight", "bogus"), RECNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "count|rating"));
    ck_assert_int_eq(recnn_model_get_str(m, "weight", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "rating"); /* unchanged */
    ck_assert_int_eq(recnn_model_set_str(m, "nosuch", "1"), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_model_set_str(m, "weight", NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_float(m, "weight", 1.0), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_int(m, "weight", 1), RECNN_E_INVALID);

    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", 2.5), RECNN_OK);
    ck_assert_int_eq(recnn_model_get_float(m, "default_rating", &f), RECNN_OK);
    ck_assert(f == 2.5);
    ck_assert_int_eq(recnn_model_set_int(m, "default_rating", 3), RECNN_OK);
    ck_assert_int_eq(recnn_model_get_float(m, "default_rating", &f), RECNN_OK);
    ck_assert(f == 3.0);
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", NAN), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", INFINITY),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "default_rating", "1.25"), RECNN_OK);
    ck_assert_int_eq(recnn_model_set_str(m, "default_rating", "abc"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "default_rating", "1.5x"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_get_float(m, "default_rating", &f), RECNN_OK);
    ck_assert(f == 1.25);
    int64_t iv;
    ck_assert_int_eq(recnn_model_get_int(m, "default_rating", &iv), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_get_float(m, "weight", &f), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_get_float(m, "nosuch", &f), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_model_get_str(m, "default_rating", buf, sizeof buf),
                     RECNN_OK);
    ck_assert_str_eq(buf, "1.25");
    ck_assert_int_eq(recnn_model_set_float(NULL, "default_rating", 1), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_float(m, NULL, 1), RECNN_E_INVALID);
    recnn_model_free(m);
}
END_TEST

START_TEST(test_configure_all_or_nothing)
{
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_configure(m, "weight=rating\n default_rating=1.5  "),
                     RECNN_OK);
    char s1[256];
    int len = recnn_model_settings_string(m, s1, sizeof s1);
    ck_assert_str_eq(s1, "weight=rating default_rating=1.5");
    ck_assert_int_eq(len, (int)strlen(s1));

    /* a bad pair anywhere changes nothing */
    ck_assert_int_eq(recnn_model_configure(m, "default_rating=7 nosuch=1"),
                     RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_model_configure(m, "default_rating=7 weight=bogus"),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "default_rating=7 garbage"),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "default_rating=7 =3"), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(m, "default_rating=nan7"), RECNN_E_INVALID);
    char s2[256];
    recnn_model_settings_string(m, s2, sizeof s2);
    ck_assert_str_eq(s1, s2);
    ck_assert_int_eq(recnn_model_configure(m, ""), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(m, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_configure(NULL, "weight=count"), RECNN_E_INVALID);

    /* the string form round-trips into a fresh model */
    recnn_model *b = popularity();
    ck_assert_int_eq(recnn_model_configure(b, s1), RECNN_OK);
    recnn_model_settings_string(b, s2, sizeof s2);
    ck_assert_str_eq(s1, s2);

    /* snprintf contract: the needed length, truncated and terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(recnn_model_settings_string(m, small, sizeof small),
                     (int)strlen(s1));
    ck_assert_int_eq(small[7], '\0');
    ck_assert_int_eq(strncmp(small, s1, 7), 0);
    ck_assert_int_eq(recnn_model_settings_string(m, NULL, 0), (int)strlen(s1));
    recnn_model_free(m);
    recnn_model_free(b);
}
END_TEST

START_TEST(test_not_fitted)
{
    recnn_model *m = popularity();
    float p;
    int64_t items[4], id;
    size_t n = 99;
    float sc[4];
    ck_assert_int_eq(recnn_model_predict(m, 10, 100, &p), RECNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not trained"));
    ck_assert_int_eq(recnn_model_recommend(m, 10, 4, items, sc, &n), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_recommend_new(m, 0, NULL, NULL, 4, items, sc, &n),
                     RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_score_user(m, 0, sc), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_item_id(m, 0, &id), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_user_index(m, 10, &id), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_n_items(m), 0);
    ck_assert_int_eq(recnn_model_n_users(m), 0);
    ck_assert_int_eq(recnn_model_save(m, "/nonexistent/x"), RECNN_E_STATE);
    recnn_model_free(m);
}
END_TEST

static int progress_calls;
static int on_progress(const recnn_progress *p, void *ud)
{
    progress_calls++;
    ck_assert_uint_ge(p->size, sizeof *p);
    ck_assert_int_eq(p->epoch, 1);
    ck_assert(isnan(p->valid_metric));
    ck_assert_ptr_nonnull(p->metric_name);
    ck_assert_ptr_eq(ud, &progress_calls);
    return 0;
}

START_TEST(test_fit_predict)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    recnn_model_set_progress(m, on_progress, &progress_calls);
    progress_calls = 0;
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", -1), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, NULL, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    ck_assert_int_eq(progress_calls, 1);
    ck_assert_int_eq(recnn_model_is_fitted(m), 1);
    ck_assert_int_eq(recnn_model_n_users(m), 4);
    ck_assert_int_eq(recnn_model_n_items(m), 5);
    recnn_dataset_free(d); /* the model keeps its own reference */

    /* settings are fixed now */
    ck_assert_int_eq(recnn_model_set_str(m, "weight", "rating"), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_configure(m, "weight=rating"), RECNN_E_STATE);
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", 1), RECNN_E_STATE);

    const int64_t items[] = {100, 101, 102, 103, 105};
    const float counts[] = {4, 3, 2, 1, 2};
    for (int k = 0; k < 5; k++) {
        float p = NAN;
        ck_assert_int_eq(recnn_model_predict(m, 20, items[k], &p), RECNN_OK);
        ck_assert(p == counts[k]);
    }
    /* unknown user, unknown item: the default, status OK */
    float p = 0;
    ck_assert_int_eq(recnn_model_predict(m, 999, 100, &p), RECNN_OK);
    ck_assert(p == -1.0f);
    ck_assert_int_eq(recnn_model_predict(m, 10, 999, &p), RECNN_OK);
    ck_assert(p == -1.0f);
    ck_assert_int_eq(recnn_model_predict(m, 10, 100, NULL), RECNN_E_INVALID);
    int64_t bu[] = {999, 30, 30, 10};
    int64_t bi[] = {101, 101, 4242, 102};
    float bo[4];
    ck_assert_int_eq(recnn_model_predict_batch(m, 4, bu, bi, bo), RECNN_OK);
    ck_assert(bo[0] == -1.0f && bo[1] == 3.0f && bo[2] == -1.0f && bo[3] == 2.0f);
    ck_assert_int_eq(recnn_model_predict_batch(m, 0, NULL, NULL, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_model_predict_batch(m, 2, bu, NULL, bo), RECNN_E_INVALID);

    /* id conversions follow ascending external id */
    int64_t idx, id;
    ck_assert_int_eq(recnn_model_item_index(m, 103, &idx), RECNN_OK);
    ck_assert_int_eq(idx, 3);
    ck_assert_int_eq(recnn_model_item_id(m, 4, &id), RECNN_OK);
    ck_assert_int_eq(id, 105);
    ck_assert_int_eq(recnn_model_item_id(m, 5, &id), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_item_index(m, 104, &idx), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_model_user_index(m, 40, &idx), RECNN_OK);
    ck_assert_int_eq(idx, 3);
    ck_assert_int_eq(recnn_model_user_index(m, 41, &idx), RECNN_E_NOTFOUND);

    float sc[5];
    ck_assert_int_eq(recnn_model_score_user(m, 2, sc), RECNN_OK);
    for (int k = 0; k < 5; k++)
        ck_assert(sc[k] == counts[k]);
    ck_assert_int_eq(recnn_model_score_user(m, 4, sc), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_score_user(m, -1, sc), RECNN_E_INVALID);
    recnn_model_free(m);
}
END_TEST

START_TEST(test_predict_dataset)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    float out[NR];
    ck_assert_int_eq(recnn_model_predict_dataset(m, d, out), RECNN_OK);
    /* triplet order is (user, item): user 10: 100 101 102, ... */
    const float want[NR] = {4, 3, 2, 4, 3, 1, 4, 3, 2, 4, 2, 2};
    for (size_t k = 0; k < NR; k++)
        ck_assert(out[k] == want[k]);
    /* the same ids built again (e.g. the file loaded twice, or a model read
     * from disk) are the same index space */
    recnn_dataset *again = toy();
    float out2[NR];
    ck_assert_int_eq(recnn_model_predict_dataset(m, again, out2), RECNN_OK);
    for (size_t k = 0; k < NR; k++)
        ck_assert(out2[k] == want[k]);
    recnn_dataset_free(again);
    /* other ids (user 40 missing) are another index space: refused */
    recnn_dataset *other = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&other, NR - 3, U, I, V, NULL, 1, 5, 0),
                     RECNN_OK);
    ck_assert_int_eq(recnn_model_predict_dataset(m, other, out), RECNN_E_INVALID);
    recnn_dataset_free(other);
    recnn_dataset_free(d);
    recnn_model_free(m);
}
END_TEST

START_TEST(test_recommend)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t items[8];
    float sc[8];
    size_t n = 0;
    /* user 20 rated 100, 101, 103: left are 102 (2) and 105 (2); the tie
     * goes to the smaller index (102) */
    ck_assert_int_eq(recnn_model_recommend(m, 20, 8, items, sc, &n), RECNN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(items[0], 102);
    ck_assert_int_eq(items[1], 105);
    ck_assert(sc[0] == 2.0f && sc[1] == 2.0f);
    /* user 40 rated 100, 102, 105: best left is 101 (3) then 103 (1) */
    ck_assert_int_eq(recnn_model_recommend(m, 40, 1, items, NULL, &n), RECNN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(items[0], 101);
    ck_assert_int_eq(recnn_model_recommend(m, 40, 0, items, sc, &n), RECNN_OK);
    ck_assert_uint_eq(n, 0);
    /* a k far above the number of items means "all of them" (k * 4 bytes
     * would overflow size_t: the buffer must be sized by the items) */
    size_t huge[] = {((size_t)1 << 62) + 1, SIZE_MAX, (size_t)1 << 40};
    for (int h = 0; h < 3; h++) {
        ck_assert_int_eq(recnn_model_recommend(m, 40, huge[h], items, sc, &n), RECNN_OK);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(items[0], 101);
        ck_assert_int_eq(recnn_model_recommend_new(m, 0, NULL, NULL, huge[h], items, sc,
                                                   &n),
                         RECNN_OK);
        ck_assert_uint_eq(n, 5);
    }
    /* unknown user: not found, points to fold-in */
    ck_assert_int_eq(recnn_model_recommend(m, 77, 3, items, sc, &n), RECNN_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "recommend_new"));
    ck_assert_int_eq(recnn_model_recommend(m, 20, 3, NULL, sc, &n), RECNN_E_INVALID);

    /* fold-in: a new user who rated 100 and 105 (and an unknown item) */
    int64_t rated[] = {105, 4242, 100};
    float rv[] = {5, 5, 1};
    ck_assert_int_eq(recnn_model_recommend_new(m, 3, rated, rv, 8, items, sc, &n),
                     RECNN_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(items[0], 101);
    ck_assert_int_eq(items[1], 102);
    ck_assert_int_eq(items[2], 103);
    ck_assert(sc[0] == 3.0f && sc[1] == 2.0f && sc[2] == 1.0f);
    /* no ratings at all: plain popularity */
    ck_assert_int_eq(recnn_model_recommend_new(m, 0, NULL, NULL, 2, items, sc, &n),
                     RECNN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(items[0], 100);
    ck_assert_int_eq(items[1], 101);
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, NULL, rv, 2, items, sc, &n),
                     RECNN_E_INVALID);
    recnn_dataset_free(d);
    recnn_model_free(m);
}
END_TEST

START_TEST(test_weight_rating_ranks)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_set_str(m, "weight", "rating"), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t items[8];
    float sc[8];
    size_t n = 0;
    ck_assert_int_eq(recnn_model_recommend_new(m, 0, NULL, NULL, 8, items, sc, &n),
                     RECNN_OK);
    ck_assert_uint_eq(n, 5);
    /* sums 101: 15, 102: 6, 100: 5, 103: 4, 105: 3 */
    const int64_t want[] = {101, 102, 100, 103, 105};
    const float ws[] = {15, 6, 5, 4, 3};
    for (int k = 0; k < 5; k++) {
        ck_assert_int_eq(items[k], want[k]);
        ck_assert(sc[k] == ws[k]);
    }
    recnn_dataset_free(d);
    recnn_model_free(m);
}
END_TEST

/* Refitting replaces everything learned. */
START_TEST(test_refit)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t u[] = {1, 2, 2};
    int64_t i[] = {7, 7, 8};
    float v[] = {1, 1, 1};
    recnn_dataset *d2 = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d2, 3, u, i, v, NULL, 0, 0, 0), RECNN_OK);
    /* the settings guard forbids changing settings, not refitting */
    ck_assert_int_eq(recnn_model_fit(m, d2, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_model_n_items(m), 2);
    float p;
    ck_assert_int_eq(recnn_model_predict(m, 1, 7, &p), RECNN_OK);
    ck_assert(p == 2.0f);
    ck_assert_int_eq(recnn_model_predict(m, 10, 100, &p), RECNN_OK);
    ck_assert(p == 0.0f); /* old ids are unknown now: the default */
    recnn_dataset_free(d);
    recnn_dataset_free(d2);
    recnn_model_free(m);
}
END_TEST

/* A validation set from another index space is refused. */
START_TEST(test_valid_index_space)
{
    recnn_dataset *d = toy(), *o = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_fit(m, d, o), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_is_fitted(m), 0);
    uint8_t keep[NR];
    for (size_t k = 0; k < NR; k++)
        keep[k] = k % 3 != 0;
    recnn_dataset *tr = recnn__dataset_subset(d, keep);
    for (size_t k = 0; k < NR; k++)
        keep[k] = !keep[k];
    recnn_dataset *va = recnn__dataset_subset(d, keep);
    ck_assert_ptr_nonnull(tr);
    ck_assert_ptr_nonnull(va);
    ck_assert_int_eq(recnn_model_fit(m, tr, va), RECNN_OK);
    recnn_dataset_free(tr);
    recnn_dataset_free(va);
    recnn_dataset_free(d);
    recnn_dataset_free(o);
    recnn_model_free(m);
}
END_TEST

/* A model kind without fold-in and without "default_rating": a copy of the
 * popularity vtable with score_new removed and only the first setting. */
START_TEST(test_no_foldin_and_global_mean_default)
{
    recnn__model_vt vt = recnn__vt_popularity;
    vt.kind = "popularity-nofold";
    vt.score_new = NULL;
    vt.n_settings = 1;
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn__model_new(&vt, &m), RECNN_OK);
    ck_assert_int_eq(recnn_model_setting_count(m), 1);
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", 1), RECNN_E_NOTFOUND);
    recnn_dataset *d = toy();
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t items[4], rated[] = {100};
    float sc[4], rv[] = {4};
    size_t n = 7;
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, rated, rv, 4, items, sc, &n),
                     RECNN_E_UNSUPPORTED);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "fold-in"));
    /* unknown ids fall back to the mean training rating */
    double mean = 0;
    for (size_t k = 0; k < NR; k++)
        mean += V[k];
    mean /= (double)NR;
    float p = 0;
    ck_assert_int_eq(recnn_model_predict(m, 999, 100, &p), RECNN_OK);
    ck_assert(p == (float)mean);
    recnn_dataset_free(d);
    recnn_model_free(m);
}
END_TEST

/* An item with no training rating (here rated only in the test part) is
 * in the index space but unseen: it gets the default prediction, in every
 * prediction path and after a save and load, like an unseen user. */
START_TEST(test_unseen_item_default)
{
    int64_t u[NR + 1], i[NR + 1];
    float v[NR + 1];
    memcpy(u, U, sizeof U);
    memcpy(i, I, sizeof I);
    memcpy(v, V, sizeof V);
    u[NR] = 10, i[NR] = 104, v[NR] = 5; /* item 104: test only */
    recnn_dataset *all = NULL, *train = NULL, *test = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&all, NR + 1, u, i, v, NULL, 1, 5, 0),
                     RECNN_OK);
    uint8_t ktr[NR + 1], kte[NR + 1];
    const int32_t *ti = all->item;
    int32_t i104 = recnn__idmap_find(all->items, 104);
    ck_assert_int_ge(i104, 0);
    for (size_t k = 0; k < NR + 1; k++)
        kte[k] = ti[k] == i104, ktr[k] = !kte[k];
    ck_assert_int_eq(recnn_dataset_subset(&train, all, ktr), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_subset(&test, all, kte), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(test), 1);
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_set_float(m, "default_rating", 2.5), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, train, test), RECNN_OK);
    float p = 0, known = 0, pd = 0;
    ck_assert_int_eq(recnn_model_predict(m, 10, 104, &p), RECNN_OK);
    ck_assert(p == 2.5f);
    ck_assert_int_eq(recnn_model_predict(m, 10, 100, &known), RECNN_OK);
    ck_assert(known == 4); /* a known pair is the model's own (a count) */
    ck_assert_int_eq(recnn_model_predict_dataset(m, test, &pd), RECNN_OK);
    ck_assert(pd == 2.5f);
    /* the validation RMSE that early stopping reads: |2.5 - 5| */
    ck_assert(fabs(recnn__valid_rmse(m, test) - 2.5) < 1e-12);
    char dir[] = "/tmp/recnn_unseen_XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.recnn", dir);
    ck_assert_int_eq(recnn_model_save(m, path), RECNN_OK);
    recnn_model *l = NULL;
    ck_assert_int_eq(recnn_model_load(&l, path), RECNN_OK);
    p = 0;
    ck_assert_int_eq(recnn_model_predict(l, 10, 104, &p), RECNN_OK);
    ck_assert(p == 2.5f);
    ck_assert_int_eq(recnn_model_predict(l, 10, 100, &known), RECNN_OK);
    ck_assert(known == 4);
    remove(path);
    rmdir(dir);
    recnn_model_free(l);
    recnn_model_free(m);
    recnn_dataset_free(all);
    recnn_dataset_free(train);
    recnn_dataset_free(test);
}
END_TEST

/* The progress callback runs inside fit: changing a setting or calling
 * fit again from there would pull the model's buffers from under the
 * running fit, so both are refused and the fit completes. */
static recnn_model *cb_model;
static int cb_set_st, cb_cfg_st, cb_fit_st, cb_calls;

static int meddle(const recnn_progress *p, void *data)
{
    (void)p;
    cb_calls++;
    cb_set_st = recnn_model_set_int(cb_model, "factors", 1000);
    cb_cfg_st = recnn_model_configure(cb_model, "epochs=1");
    cb_fit_st = recnn_model_fit(cb_model, (const recnn_dataset *)data, NULL);
    return 0;
}

START_TEST(test_callback_cannot_meddle)
{
    recnn_dataset *d = toy();
    ck_assert_int_eq(recnn_model_create(&cb_model, "mf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(cb_model, "factors=4 epochs=3"), RECNN_OK);
    recnn_model_set_progress(cb_model, meddle, d);
    cb_calls = 0;
    ck_assert_int_eq(recnn_model_fit(cb_model, d, NULL), RECNN_OK);
    ck_assert_int_eq(cb_calls, 3);
    ck_assert_int_eq(cb_set_st, RECNN_E_STATE);
    ck_assert_int_eq(cb_cfg_st, RECNN_E_STATE);
    ck_assert_int_eq(cb_fit_st, RECNN_E_STATE);
    int64_t f = 0;
    ck_assert_int_eq(recnn_model_get_int(cb_model, "factors", &f), RECNN_OK);
    ck_assert_int_eq(f, 4);
    float p = 0;
    ck_assert_int_eq(recnn_model_predict(cb_model, 10, 100, &p), RECNN_OK);
    ck_assert(isfinite(p));
    recnn_model_free(cb_model);
    recnn_dataset_free(d);
}
END_TEST

/* A string value must read back from the settings string (and so from a
 * model file): no white space, no '='. */
START_TEST(test_string_setting_whitespace)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "deep_ae"), RECNN_OK);
    const char *bad[] = {"8, 4", " 8", "8,4 epochs=1", "8\t4", "a=b"};
    for (size_t j = 0; j < sizeof bad / sizeof *bad; j++)
        ck_assert_int_eq(recnn_model_set_str(m, "layers", bad[j]), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_set_str(m, "layers", "8,4"), RECNN_OK);
    char buf[512];
    ck_assert_int_gt(recnn_model_settings_string(m, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "layers=8,4"));
    recnn_model_free(m);
}
END_TEST

/* Fold-in takes one rating per item, within the training scale. */
START_TEST(test_foldin_rejects_bad_ratings)
{
    recnn_dataset *d = toy();
    recnn_model *m = popularity();
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    int64_t items[5];
    float sc[5];
    size_t n = 9;
    const int64_t twice[] = {101, 102, 101};
    const float r3[] = {5, 1, 1};
    ck_assert_int_eq(recnn_model_recommend_new(m, 3, twice, r3, 5, items, sc, &n),
                     RECNN_E_INVALID);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "twice"));
    const int64_t one[] = {101};
    const float high[] = {100}, nan1[] = {NAN};
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, one, high, 5, items, sc, &n),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_recommend_new(m, 1, one, nan1, 5, items, sc, &n),
                     RECNN_E_INVALID);
    /* an unknown id is still ignored, whatever its rating */
    const int64_t unk[] = {999, 101};
    const float ok2[] = {100, 4};
    ck_assert_int_eq(recnn_model_recommend_new(m, 2, unk, ok2, 5, items, sc, &n), RECNN_OK);
    ck_assert_uint_eq(n, 4); /* 5 items minus the rated 101 */
    for (size_t j = 0; j < n; j++)
        ck_assert_int_ne(items[j], 101);
    recnn_model_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* A locale whose decimal separator is a comma: installed, or built with
 * localedef into dir (LOCPATH).  NULL when this machine has neither. */
static const char *comma_locale(const char *dir)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nl_NL.UTF-8"};
    for (size_t j = 0; j < sizeof names / sizeof *names; j++)
        if (setlocale(LC_NUMERIC, names[j]))
            return names[j];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
             dir);
    if (system(cmd) != 0)
        return NULL;
    setenv("LOCPATH", dir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") ? "de_DE.UTF-8" : NULL;
}

/* Settings strings and model files do not depend on the host program's
 * LC_NUMERIC: a model saved under a comma locale loads in "C" and back. */
START_TEST(test_locale_independent)
{
    char dir[] = "/tmp/recnn_locale_XXXXXX", a[64], b[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *loc = comma_locale(dir);
    if (!loc) {
        printf("test_locale_independent: skipped (no comma-decimal locale here and "
               "localedef failed; Debian package locales)\n");
        rmdir(dir);
        return;
    }
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    ck_assert_str_eq(probe, "0,5"); /* the locale is really in force */
    recnn_dataset *d = toy();
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "mf"), RECNN_OK);
    ck_assert_int_eq(recnn_model_configure(m, "factors=3 epochs=2 lr=0.01 l2=0.25"),
                     RECNN_OK);
    char buf[64];
    ck_assert_int_eq(recnn_model_get_str(m, "l2", buf, sizeof buf), RECNN_OK);
    ck_assert_str_eq(buf, "0.25");
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    snprintf(a, sizeof a, "%s/comma.recnn", dir);
    ck_assert_int_eq(recnn_model_save(m, a), RECNN_OK);
    recnn_evaluator *e = NULL;
    ck_assert_int_eq(recnn_evaluator_create(&e, d, d), RECNN_OK);
    ck_assert_int_eq(recnn_evaluator_configure(e, "threshold=3.5 k=2"), RECNN_OK);
    recnn_evaluator_free(e);
    /* a text file written under the comma locale reads back */
    const int64_t du[] = {1, 2}, di[] = {7, 7};
    const float dv[] = {3.5f, 4.25f};
    recnn_dataset *fr = NULL, *back = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&fr, 2, du, di, dv, NULL, 0.5, 5, 0),
                     RECNN_OK);
    char t[80];
    snprintf(t, sizeof t, "%s/r.csv", dir);
    ck_assert_int_eq(recnn_dataset_save_text(fr, t, RECNN_FORMAT_CSV), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_load(&back, t, RECNN_FORMAT_CSV, NULL), RECNN_OK);
    const float *bv;
    ck_assert_int_eq(recnn_dataset_triplets(back, NULL, NULL, &bv, NULL), RECNN_OK);
    ck_assert(bv[0] == 3.5f && bv[1] == 4.25f);
    recnn_dataset_free(fr);
    recnn_dataset_free(back);
    remove(t);
    setlocale(LC_NUMERIC, "C");
    recnn_model *l = NULL;
    ck_assert_int_eq(recnn_model_load(&l, a), RECNN_OK);
    float p1, p2;
    ck_assert_int_eq(recnn_model_predict(m, 20, 102, &p1), RECNN_OK);
    ck_assert_int_eq(recnn_model_predict(l, 20, 102, &p2), RECNN_OK);
    ck_assert(memcmp(&p1, &p2, sizeof p1) == 0);
    /* and the other way: saved in "C", loaded under the comma locale */
    snprintf(b, sizeof b, "%s/c.recnn", dir);
    ck_assert_int_eq(recnn_model_save(l, b), RECNN_OK);
    ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, loc));
    recnn_model *l2 = NULL;
    ck_assert_int_eq(recnn_model_load(&l2, b), RECNN_OK);
    ck_assert_int_eq(recnn_model_predict(l2, 20, 102, &p2), RECNN_OK);
    ck_assert(memcmp(&p1, &p2, sizeof p1) == 0);
    setlocale(LC_NUMERIC, "C");
    recnn_model_free(l2);
    recnn_model_free(l);
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove(a);
    remove(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_api");
    TCase *t = tcase_create("popularity through model.c");
    tcase_add_test(t, test_create);
    tcase_add_test(t, test_settings_typed);
    tcase_add_test(t, test_configure_all_or_nothing);
    tcase_add_test(t, test_not_fitted);
    tcase_add_test(t, test_fit_predict);
    tcase_add_test(t, test_predict_dataset);
    tcase_add_test(t, test_recommend);
    tcase_add_test(t, test_weight_rating_ranks);
    tcase_add_test(t, test_refit);
    tcase_add_test(t, test_valid_index_space);
    tcase_add_test(t, test_no_foldin_and_global_mean_default);
    tcase_add_test(t, test_unseen_item_default);
    tcase_add_test(t, test_callback_cannot_meddle);
    tcase_add_test(t, test_string_setting_whitespace);
    tcase_add_test(t, test_foldin_rejects_bad_ratings);
    tcase_add_test(t, test_locale_independent);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
