/* Protocols, transformations, negative sampling and the synthetic
 * generator: split invariants as property tests over many seeds. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "recnn.h"
#include "common/fixtures.h"

static bool quick(void)
{
    const char *q = getenv("RECNN_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static int n_seeds(void) { return quick() ? 3 : 25; }

static recnn_dataset *synth(int64_t nu, int64_t ni, int64_t n, uint64_t seed)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = nu;
    o.n_items = ni;
    o.n_ratings = n;
    o.seed = seed;
    recnn_dataset *d = NULL;
    ck_assert_msg(recnn_dataset_synthetic(&d, &o) == RECNN_OK, "%s", recnn_last_error());
    return d;
}

/* Checks that the parts (NULLs skipped) partition d exactly: every rating
 * of d is in exactly one part with the same value and time, and the parts
 * hold nothing else.  Returns the number of ratings found in parts. */
static int64_t check_partition(const recnn_dataset *d, recnn_dataset *const *parts, int np,
                               bool exact)
{
    int64_t total = 0;
    for (int p = 0; p < np; p++) {
        if (!parts[p])
            continue;
        ck_assert(recnn_dataset_same_space(d, parts[p]));
        total += recnn_dataset_n_ratings(parts[p]);
        const int32_t *u, *i;
        const float *v;
        const int64_t *t;
        recnn_dataset_triplets(parts[p], &u, &i, &v, &t);
        for (int64_t k = 0; k < recnn_dataset_n_ratings(parts[p]); k++) {
            int64_t pos = recnn__dataset_find(d, u[k], i[k]);
            ck_assert_int_ge(pos, 0);
            ck_assert_float_eq(d->value[pos], v[k]);
            if (t)
                ck_assert_int_eq(d->time[pos], t[k]);
            for (int q = p + 1; q < np; q++)
                if (parts[q])
                    ck_assert_int_lt(recnn__dataset_find(parts[q], u[k], i[k]), 0);
        }
    }
    if (exact)
        ck_assert_int_eq(total, recnn_dataset_n_ratings(d));
    return total;
}

static int64_t row_len(const recnn_dataset *d, int64_t u)
{
    int64_t n;
    recnn_dataset_user_row(d, u, NULL, NULL, &n);
    return n;
}

START_TEST(random_global_properties)
{
    recnn_dataset *d = synth(300, 200, 9000, 1);
    for (int s = 0; s < n_seeds(); s++) {
        recnn_split_options o;
        recnn_split_options_init(&o);
        o.seed = (uint64_t)s * 7919u + 3;
        o.test_fraction = 0.1;
        o.valid_fraction = 0.1;
        recnn_dataset *p[3];
        ck_assert_int_eq(recnn_split_random(d, &o, &p[0], &p[1], &p[2]), RECNN_OK);
        check_partition(d, p, 3, true);
        ck_assert_int_eq(recnn_dataset_n_ratings(p[2]), 900);
        ck_assert_int_eq(recnn_dataset_n_ratings(p[1]), 810);
        /* repeatable */
        recnn_dataset *q[3];
        ck_assert_int_eq(recnn_split_random(d, &o, &q[0], &q[1], &q[2]), RECNN_OK);
        ck_assert_int_eq(memcmp(p[2]->user, q[2]->user, 900 * sizeof(int32_t)), 0);
        ck_assert_int_eq(memcmp(p[2]->item, q[2]->item, 900 * sizeof(int32_t)), 0);
        for (int k = 0; k < 3; k++) {
            recnn_dataset_free(p[k]);
            recnn_dataset_free(q[k]);
        }
    }
    /* different seeds give different test sets */
    recnn_split_options o;
    recnn_split_options_init(&o);
    recnn_dataset *a, *b, *c, *e;
    recnn_split_random(d, &o, &a, NULL, &b);
    o.seed = 43;
    recnn_split_random(d, &o, &c, NULL, &e);
    ck_assert(memcmp(b->item, e->item, 900 * sizeof(int32_t)) != 0 ||
              memcmp(b->user, e->user, 900 * sizeof(int32_t)) != 0);
    recnn_dataset_free(a);
    recnn_dataset_free(b);
    recnn_dataset_free(c);
    recnn_dataset_free(e);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(random_per_user_properties)
{
    recnn_dataset *d = synth(200, 150, 6000, 2);
    for (int s = 0; s < n_seeds(); s++) {
        recnn_split_options o;
        recnn_split_options_init(&o);
        o.seed = (uint64_t)s;
        o.per_user = 1;
        o.test_fraction = 0.2;
        recnn_dataset *p[3] = {NULL, NULL, NULL};
        ck_assert_int_eq(recnn_split_random(d, &o, &p[0], NULL, &p[2]), RECNN_OK);
        check_partition(d, p, 3, true);
        for (int64_t u = 0; u < recnn_dataset_n_users(d); u++) {
            int64_t m = row_len(d, u), t = row_len(p[2], u);
            ck_assert_int_eq(t, llround(0.2 * (double)m));
        }
        recnn_dataset_free(p[0]);
        recnn_dataset_free(p[2]);
    }
    recnn_dataset_free(d);
}
END_TEST

START_TEST(kfold_properties)
{
    recnn_dataset *d = synth(150, 100, 3001, 3);
    for (int s = 0; s < (quick() ? 1 : 5); s++) {
        int64_t sizes[5];
        recnn_dataset *tests[5];
        for (int f = 0; f < 5; f++) {
            recnn_dataset *tr;
            ck_assert_int_eq(recnn_split_kfold(d, 5, f, (uint64_t)s, &tr, &tests[f]),
                             RECNN_OK);
            recnn_dataset *pp[2] = {tr, tests[f]};
            check_partition(d, pp, 2, true);
            sizes[f] = recnn_dataset_n_ratings(tests[f]);
            recnn_dataset_free(tr);
        }
        /* the test folds partition the data, sizes differ by at most one */
        check_partition(d, tests, 5, true);
        for (int f = 0; f < 5; f++) {
            ck_assert(sizes[f] == 600 || sizes[f] == 601);
            recnn_dataset_free(tests[f]);
        }
    }
    recnn_dataset *a, *b;
    ck_assert_int_eq(recnn_split_kfold(d, 5, 5, 1, &a, &b), RECNN_E_INVALID);
    ck_assert_ptr_null(a);
    recnn_dataset_free(d);
}
END_TEST

/* Recommenders' rule, computed independently: j/m <= ratio. */
static int64_t expected_train(int64_t m, double ratio)
{
    int64_t c = 0;
    for (int64_t j = 1; j <= m; j++)
        c += (double)j / (double)m <= ratio;
    return c;
}

START_TEST(chrono_properties)
{
    for (int s = 0; s < n_seeds(); s++) {
        recnn_dataset *d = synth(120, 90, 3000, 100 + (uint64_t)s);
        recnn_split_options o;
        recnn_split_options_init(&o);
        o.test_fraction = s % 2 ? 0.25 : 0.2;
        o.valid_fraction = s % 3 == 0 ? 0.1 : 0;
        recnn_dataset *p[3] = {NULL, NULL, NULL};
        ck_assert_int_eq(recnn_split_chrono(d, &o, &p[0], o.valid_fraction > 0 ? &p[1] : NULL,
                                            &p[2]),
                         RECNN_OK);
        check_partition(d, p, 3, true);
        for (int64_t u = 0; u < recnn_dataset_n_users(d); u++) {
            int64_t m = row_len(d, u);
            int64_t ntr = expected_train(m, 1.0 - o.test_fraction);
            int64_t got = row_len(p[0], u) + (p[1] ? row_len(p[1], u) : 0);
            ck_assert_int_eq(got, ntr);
            if (p[1])
                ck_assert_int_eq(row_len(p[0], u), expected_train(ntr, 0.9));
            /* every training time <= every test time */
            const int64_t *ta, *tb;
            int64_t na = row_len(p[0], u), nb = row_len(p[2], u);
            recnn_dataset_user_row_times(p[0], u, &ta);
            recnn_dataset_user_row_times(p[2], u, &tb);
            int64_t maxa = INT64_MIN, minb = INT64_MAX;
            for (int64_t k = 0; k < na; k++)
                maxa = ta[k] > maxa ? ta[k] : maxa;
            for (int64_t k = 0; k < nb; k++)
                minb = tb[k] < minb ? tb[k] : minb;
            ck_assert_int_le(maxa, minb);
        }
        for (int k = 0; k < 3; k++)
            recnn_dataset_free(p[k]);
        recnn_dataset_free(d);
    }
}
END_TEST

START_TEST(chrono_rounding_examples)
{
    /* Recommenders' python_chrono_split(ratio=0.75): j/n <= 0.75 */
    ck_assert_int_eq(expected_train(4, 0.75), 3);
    /* one user with 7 ratings at times 7..1 (reverse item order), one with 2 */
    int64_t users[9] = {1, 1, 1, 1, 1, 1, 1, 2, 2};
    int64_t items[9] = {1, 2, 3, 4, 5, 6, 7, 1, 2};
    int64_t times[9] = {7, 6, 5, 4, 3, 2, 1, 10, 10};
    float vals[9] = {1, 2, 3, 4, 5, 1, 2, 3, 4};
    recnn_dataset *d;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, 9, users, items, vals, times, 1, 5, 0),
                     RECNN_OK);
    recnn_split_options o;
    recnn_split_options_init(&o);
    o.test_fraction = 0.25;
    recnn_dataset *tr, *te;
    ck_assert_int_eq(recnn_split_chrono(d, &o, &tr, NULL, &te), RECNN_OK);
    /* user 1: floor(0.75 * 7) = 5 train = its 5 earliest = items 7..3 */
    ck_assert_int_eq(row_len(tr, 0), 5);
    const int32_t *it;
    int64_t n;
    recnn_dataset_user_row(te, 0, &it, NULL, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(it[0], 0);
    ck_assert_int_eq(it[1], 1);
    /* user 2: 2 ratings, 1/2 <= 0.75, 2/2 > 0.75: equal times -> item order */
    recnn_dataset_user_row(te, 1, &it, NULL, &n);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(it[0], 1);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    /* no timestamps: refused */
    recnn_dataset *e;
    ck_assert_int_eq(recnn_dataset_from_arrays(&e, 9, users, items, vals, NULL, 1, 5, 0),
                     RECNN_OK);
    ck_assert_int_eq(recnn_split_chrono(e, &o, &tr, NULL, &te), RECNN_E_INVALID);
    ck_assert_ptr_null(tr);
    recnn_dataset_free(e);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(leave_one_out_properties)
{
    recnn_dataset *d = synth(200, 120, 4000, 4);
    recnn_dataset *p[2];
    ck_assert_int_eq(recnn_split_leave_one_out(d, NULL, &p[0], &p[1]), RECNN_OK);
    check_partition(d, p, 2, true);
    for (int64_t u = 0; u < recnn_dataset_n_users(d); u++) {
        int64_t m = row_len(d, u);
        ck_assert_int_eq(row_len(p[1], u), m >= 2 ? 1 : 0);
        if (m < 2)
            continue;
        const int64_t *ta, *tb;
        recnn_dataset_user_row_times(p[0], u, &ta);
        recnn_dataset_user_row_times(p[1], u, &tb);
        for (int64_t k = 0; k < m - 1; k++)
            ck_assert_int_le(ta[k], tb[0]);
    }
    recnn_dataset_free(p[0]);
    recnn_dataset_free(p[1]);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(unseen_modes)
{
    recnn_dataset *d = synth(300, 400, 3000, 5); /* sparse: many rare items */
    recnn_split_options o;
    recnn_split_options_init(&o);
    o.test_fraction = 0.3;
    for (int mode = 1; mode <= 2; mode++) {
        o.unseen = mode;
        recnn_dataset *p[2];
        ck_assert_int_eq(recnn_split_random(d, &o, &p[0], NULL, &p[1]), RECNN_OK);
        int64_t got = check_partition(d, p, 2, mode == RECNN_SPLIT_UNSEEN_TO_TRAIN);
        const int32_t *u, *i;
        recnn_dataset_triplets(p[1], &u, &i, NULL, NULL);
        for (int64_t k = 0; k < recnn_dataset_n_ratings(p[1]); k++) {
            int64_t a, b;
            recnn_dataset_user_row(p[0], u[k], NULL, NULL, &a);
            recnn_dataset_item_column(p[0], i[k], NULL, NULL, &b);
            ck_assert(a > 0 && b > 0);
        }
        if (mode == RECNN_SPLIT_DROP_UNSEEN)
            ck_assert_int_lt(got, recnn_dataset_n_ratings(d)); /* something was dropped */
        recnn_dataset *e;
        ck_assert_int_eq(recnn_dataset_drop_unseen(&e, p[1], p[0]), RECNN_OK);
        ck_assert_int_eq(recnn_dataset_n_ratings(e), recnn_dataset_n_ratings(p[1]));
        recnn_dataset_free(e);
        recnn_dataset_free(p[0]);
        recnn_dataset_free(p[1]);
    }
    recnn_dataset_free(d);
}
END_TEST

START_TEST(candidates_ncf)
{
    recnn_dataset *d = synth(150, 300, 4500, 6);
    recnn_dataset *tr, *te;
    ck_assert_int_eq(recnn_split_leave_one_out(d, NULL, &tr, &te), RECNN_OK);
    for (int s = 0; s < n_seeds(); s++) {
        recnn_candidates *c;
        ck_assert_int_eq(recnn_candidates_sample(&c, tr, te, 99, (uint64_t)s), RECNN_OK);
        ck_assert_int_eq(recnn_candidates_n_users(c), recnn_dataset_n_users(d));
        const int64_t *off = recnn_candidates_offsets(c), *it = recnn_candidates_items(c);
        char *seen = calloc(300, 1);
        for (int64_t u = 0; u < recnn_dataset_n_users(d); u++) {
            int64_t len = off[u + 1] - off[u];
            if (row_len(te, u) == 0) {
                ck_assert_int_eq(len, 0);
                continue;
            }
            /* possible negatives: items with a training rating that u
             * rated nowhere */
            int64_t avail = 0;
            for (int64_t it2 = 0; it2 < 300; it2++)
                avail += recnn__dataset_find(d, (int32_t)u, (int32_t)it2) < 0 &&
                         tr->col_ptr[it2 + 1] > tr->col_ptr[it2];
            ck_assert_int_eq(len, 1 + (avail < 99 ? avail : 99));
            const int32_t *pos;
            recnn_dataset_user_row(te, u, &pos, NULL, NULL);
            ck_assert_int_eq(it[off[u]], pos[0]);
            memset(seen, 0, 300);
            for (int64_t k = off[u]; k < off[u + 1]; k++) {
                ck_assert(it[k] >= 0 && it[k] < 300);
                ck_assert(!seen[it[k]]); /* distinct */
                seen[it[k]] = 1;
                if (k > off[u]) { /* negatives: unrated anywhere, seen in training */
                    ck_assert_int_lt(recnn__dataset_find(d, (int32_t)u, (int32_t)it[k]), 0);
                    ck_assert_int_gt(tr->col_ptr[it[k] + 1], tr->col_ptr[it[k]]);
                }
            }
        }
        free(seen);
        /* thread count does not change the lists */
        recnn_candidates *c1;
        int old = recnn_get_num_threads();
        recnn_set_num_threads(1);
        ck_assert_int_eq(recnn_candidates_sample(&c1, tr, te, 99, (uint64_t)s), RECNN_OK);
        recnn_set_num_threads(old);
        ck_assert_int_eq(memcmp(recnn_candidates_items(c1), it,
                                (size_t)off[recnn_dataset_n_users(d)] * sizeof *it),
                         0);
        recnn_candidates_free(c1);
        recnn_candidates_free(c);
    }
    /* a user who rated nearly everything gets what exists; an item rated
     * only in the test part (3 and 5 here) is never a negative.  Test
     * parts: user 1 item 3, user 2 item 5; training: 1 {1, 2}, 2 {1, 2, 4}. */
    int64_t users[7] = {1, 1, 1, 2, 2, 2, 2}, items[7] = {1, 2, 3, 1, 2, 4, 5};
    float vals[7] = {1, 2, 3, 4, 5, 1, 2};
    int64_t times[7] = {1, 2, 3, 1, 2, 3, 4};
    recnn_dataset *small, *a, *b;
    recnn_dataset_from_arrays(&small, 7, users, items, vals, times, 1, 5, 0);
    recnn_split_leave_one_out(small, NULL, &a, &b);
    recnn_candidates *c;
    ck_assert_int_eq(recnn_candidates_sample(&c, a, b, 99, 1), RECNN_OK);
    ck_assert_int_eq(recnn_candidates_offsets(c)[1], 2); /* item 3 + item 4 */
    ck_assert_int_eq(recnn_candidates_items(c)[0], 2);
    ck_assert_int_eq(recnn_candidates_items(c)[1], 3);
    ck_assert_int_eq(recnn_candidates_offsets(c)[2], 3); /* item 5 alone */
    ck_assert_int_eq(recnn_candidates_items(c)[2], 4);
    recnn_candidates_free(c);
    recnn_candidates_free(NULL);
    recnn_dataset_free(a);
    recnn_dataset_free(b);
    recnn_dataset_free(small);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(training_negatives)
{
    recnn_dataset *d = synth(300, 1000, 12000, 7);
    int64_t n = recnn_dataset_n_ratings(d), k = 4;
    int32_t *a = malloc((size_t)(n * k) * sizeof *a), *b = malloc((size_t)(n * k) * sizeof *b);
    for (int mode = 0; mode <= 1; mode++) {
        ck_assert_int_eq(recnn_dataset_sample_negatives(d, k, mode, 1.0, 11, a), RECNN_OK);
        const int32_t *u;
        recnn_dataset_triplets(d, &u, NULL, NULL, NULL);
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < k; j++) {
                int32_t it = a[r * k + j];
                ck_assert(it >= 0 && it < 1000);
                ck_assert_int_lt(recnn__dataset_find(d, u[r], it), 0);
            }
        int old = recnn_get_num_threads();
        recnn_set_num_threads(1);
        ck_assert_int_eq(recnn_dataset_sample_negatives(d, k, mode, 1.0, 11, b), RECNN_OK);
        recnn_set_num_threads(old);
        ck_assert_int_eq(memcmp(a, b, (size_t)(n * k) * sizeof *a), 0);
        ck_assert_int_eq(recnn_dataset_sample_negatives(d, k, mode, 1.0, 12, b), RECNN_OK);
        ck_assert(memcmp(a, b, (size_t)(n * k) * sizeof *a) != 0);
    }
    /* popularity sampling favours popular items */
    double pop_uni = 0, pop_pop = 0;
    ck_assert_int_eq(recnn_dataset_sample_negatives(d, k, RECNN_NEG_UNIFORM, 1, 5, a), 0);
    ck_assert_int_eq(recnn_dataset_sample_negatives(d, k, RECNN_NEG_POPULARITY, 1, 5, b), 0);
    for (int64_t r = 0; r < n * k; r++) {
        pop_uni += (double)(d->col_ptr[a[r] + 1] - d->col_ptr[a[r]]);
        pop_pop += (double)(d->col_ptr[b[r] + 1] - d->col_ptr[b[r]]);
    }
    ck_assert_msg(pop_pop > 1.3 * pop_uni, "popularity %g vs uniform %g", pop_pop, pop_uni);
    free(a);
    free(b);
    /* a user who rated every item: no negative exists */
    int64_t users[3] = {1, 1, 2}, items[3] = {1, 2, 1};
    float vals[3] = {1, 1, 1};
    recnn_dataset *full;
    recnn_dataset_from_arrays(&full, 3, users, items, vals, NULL, 0, 0, 0);
    int32_t out[3];
    ck_assert_int_eq(recnn_dataset_sample_negatives(full, 1, 0, 1, 1, out), RECNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "user 1"));
    ck_assert_int_eq(recnn_dataset_sample_negatives(full, 0, 0, 1, 1, out), RECNN_E_INVALID);
    recnn_dataset_free(full);
    recnn_dataset_free(d);
}
END_TEST

/* ---- transformations ------------------------------------------------------------- */

START_TEST(filter_kcore)
{
    recnn_dataset *d = synth(400, 300, 6000, 8);
    recnn_dataset *f;
    ck_assert_int_eq(recnn_dataset_filter_min(&f, d, 10, 15, 1), RECNN_OK);
    ck_assert(recnn_dataset_same_space(d, f));
    ck_assert_int_lt(recnn_dataset_n_ratings(f), recnn_dataset_n_ratings(d));
    ck_assert_int_gt(recnn_dataset_n_ratings(f), 0);
    for (int64_t u = 0; u < recnn_dataset_n_users(f); u++) {
        int64_t m = row_len(f, u);
        ck_assert(m == 0 || m >= 10);
    }
    for (int64_t i = 0; i < recnn_dataset_n_items(f); i++) {
        int64_t m;
        recnn_dataset_item_column(f, i, NULL, NULL, &m);
        ck_assert(m == 0 || m >= 15);
    }
    recnn_dataset *pp[1] = {f};
    check_partition(d, pp, 1, false);
    /* one pass: items first, so items keep >= 15 in d's counts */
    recnn_dataset *g;
    ck_assert_int_eq(recnn_dataset_filter_min(&g, d, 0, 15, 0), RECNN_OK);
    for (int64_t i = 0; i < recnn_dataset_n_items(d); i++) {
        int64_t a, b;
        recnn_dataset_item_column(d, i, NULL, NULL, &a);
        recnn_dataset_item_column(g, i, NULL, NULL, &b);
        ck_assert_int_eq(b, a >= 15 ? a : 0);
    }
    /* compaction: a new, smaller index space with the same ratings */
    recnn_dataset *c;
    ck_assert_int_eq(recnn_dataset_compact(&c, g), RECNN_OK);
    ck_assert(!recnn_dataset_same_space(c, g));
    ck_assert_int_eq(recnn_dataset_n_items(c), recnn_dataset_n_active_items(g));
    ck_assert_int_eq(recnn_dataset_n_users(c), recnn_dataset_n_active_users(g));
    ck_assert_int_eq(recnn_dataset_n_ratings(c), recnn_dataset_n_ratings(g));
    const int32_t *u, *i;
    const float *v;
    recnn_dataset_triplets(c, &u, &i, &v, NULL);
    for (int64_t k = 0; k < recnn_dataset_n_ratings(c); k++) {
        int64_t ue, ie, ug, ig;
        recnn_dataset_user_id(c, u[k], &ue);
        recnn_dataset_item_id(c, i[k], &ie);
        ck_assert_int_eq(recnn_dataset_user_index(g, ue, &ug), 0);
        ck_assert_int_eq(recnn_dataset_item_index(g, ie, &ig), 0);
        ck_assert_float_eq(g->value[recnn__dataset_find(g, (int32_t)ug, (int32_t)ig)], v[k]);
    }
    ck_assert(recnn_dataset_has_meta(c));
    recnn_dataset_free(c);
    recnn_dataset_free(g);
    recnn_dataset_free(f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(normalize_binarize_merge_select)
{
    recnn_dataset *d = synth(100, 80, 2000, 9);
    recnn_dataset *nz, *back, *bin, *sel;
    ck_assert_int_eq(recnn_dataset_normalize(&nz, d), RECNN_OK);
    float lo, hi;
    recnn_dataset_scale(nz, &lo, &hi);
    ck_assert_float_eq(lo, 0.0f);
    ck_assert_float_eq(hi, 1.0f);
    for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++)
        ck_assert_float_eq_tol(nz->value[k], (d->value[k] - 1.0f) / 4.0f, 1e-6f);
    ck_assert_int_eq(recnn_dataset_denormalize(&back, nz), RECNN_OK);
    for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++) {
        ck_assert_float_eq_tol(back->value[k], d->value[k], 1e-5f);
        ck_assert_float_eq_tol(back->col_value[k], d->col_value[k], 1e-5f);
    }
    ck_assert_int_eq(recnn_dataset_denormalize(&sel, d), RECNN_E_STATE);
    ck_assert_int_eq(recnn_dataset_binarize(&bin, d, 4.0f), RECNN_OK);
    ck_assert(recnn_dataset_is_implicit(bin));
    int64_t high = 0;
    for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++)
        high += d->value[k] >= 4.0f;
    ck_assert_int_eq(recnn_dataset_n_ratings(bin), high);
    for (int64_t k = 0; k < high; k++)
        ck_assert_float_eq(bin->value[k], 1.0f);
    /* merge(train, test) = the source */
    recnn_split_options o;
    recnn_split_options_init(&o);
    recnn_dataset *tr, *te, *m;
    recnn_split_random(d, &o, &tr, NULL, &te);
    ck_assert_int_eq(recnn_dataset_merge(&m, tr, te), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(m), recnn_dataset_n_ratings(d));
    ck_assert_int_eq(memcmp(m->item, d->item, (size_t)d->n_ratings * 4), 0);
    ck_assert_int_eq(memcmp(m->value, d->value, (size_t)d->n_ratings * 4), 0);
    recnn_dataset *bad;
    ck_assert_int_eq(recnn_dataset_merge(&bad, tr, tr), RECNN_E_FORMAT);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(recnn_dataset_merge(&bad, tr, nz), RECNN_E_FORMAT); /* overlaps */
    ck_assert_ptr_null(bad);
    /* select users 0..9 */
    uint8_t umask[100] = {0};
    for (int x = 0; x < 10; x++)
        umask[x] = 1;
    ck_assert_int_eq(recnn_dataset_select(&sel, d, umask, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(sel), d->row_ptr[10]);
    recnn_dataset_free(sel);
    recnn_dataset_free(m);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(bin);
    recnn_dataset_free(back);
    recnn_dataset_free(nz);
    recnn_dataset_free(d);
}
END_TEST

/* ---- synthetic ------------------------------------------------------------------- */

START_TEST(synthetic_shape_and_determinism)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = 500;
    o.n_items = 300;
    o.n_ratings = 20000;
    recnn_dataset *a, *b;
    ck_assert_int_eq(recnn_dataset_synthetic(&a, &o), RECNN_OK);
    int old = recnn_get_num_threads();
    recnn_set_num_threads(1);
    ck_assert_int_eq(recnn_dataset_synthetic(&b, &o), RECNN_OK);
    recnn_set_num_threads(old);
    ck_assert_int_eq(recnn_dataset_n_ratings(a), 20000);
    ck_assert_int_eq(recnn_dataset_n_users(a), 500);
    ck_assert_int_eq(recnn_dataset_n_items(a), 300);
    ck_assert_int_eq(memcmp(a->item, b->item, 20000 * 4), 0);
    ck_assert_int_eq(memcmp(a->value, b->value, 20000 * 4), 0);
    ck_assert_int_eq(memcmp(a->time, b->time, 20000 * 8), 0);
    for (int64_t k = 0; k < 20000; k++) {
        ck_assert(a->value[k] >= 1 && a->value[k] <= 5);
        ck_assert_float_eq(a->value[k], roundf(a->value[k]));
    }
    ck_assert_int_eq(recnn_dataset_n_active_users(a), 500);
    /* power laws: the busiest user and item far above the median */
    int64_t maxu = 0, maxi = 0;
    for (int64_t u = 0; u < 500; u++)
        maxu = row_len(a, u) > maxu ? row_len(a, u) : maxu;
    for (int64_t i = 0; i < 300; i++)
        maxi = a->col_ptr[i + 1] - a->col_ptr[i] > maxi ? a->col_ptr[i + 1] - a->col_ptr[i]
                                                        : maxi;
    ck_assert_int_gt(maxu, 3 * 40);
    ck_assert_int_gt(maxi, 3 * 67);
    ck_assert(recnn_dataset_has_meta(a));
    ck_assert_int_eq(recnn_dataset_n_genres(a), 18);
    uint64_t g;
    ck_assert_int_eq(recnn_dataset_item_genres(a, 1, &g), RECNN_OK);
    ck_assert_uint_ne(g, 0);
    recnn_dataset_free(b);
    o.seed = 7;
    ck_assert_int_eq(recnn_dataset_synthetic(&b, &o), RECNN_OK);
    ck_assert(memcmp(a->value, b->value, 20000 * 4) != 0);
    recnn_dataset_free(b);
    recnn_dataset_free(a);
    o.n_ratings = 500 * 300 + 1;
    ck_assert_int_eq(recnn_dataset_synthetic(&a, &o), RECNN_E_INVALID);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(synthetic_has_signal)
{
    /* user + item means beat the global mean clearly on held-out ratings,
     * and the residual has low-rank structure the biases cannot explain:
     * an item's residuals correlate with a similar item's. */
    recnn_dataset *d = synth(800, 300, 60000, 10);
    recnn_split_options o;
    recnn_split_options_init(&o);
    recnn_dataset *tr, *te;
    recnn_split_random(d, &o, &tr, NULL, &te);
    double mu = recnn_dataset_mean(tr);
    int64_t nu = tr->n_users, ni = tr->n_items;
    double *bu = calloc((size_t)nu, sizeof *bu), *bi = calloc((size_t)ni, sizeof *bi);
    for (int64_t i = 0; i < ni; i++) {
        double s = 0;
        int64_t n = tr->col_ptr[i + 1] - tr->col_ptr[i];
        for (int64_t p = tr->col_ptr[i]; p < tr->col_ptr[i + 1]; p++)
            s += tr->col_value[p] - mu;
        bi[i] = n ? s / (double)(n + 5) : 0;
    }
    for (int64_t u = 0; u < nu; u++) {
        double s = 0;
        int64_t n = tr->row_ptr[u + 1] - tr->row_ptr[u];
        for (int64_t p = tr->row_ptr[u]; p < tr->row_ptr[u + 1]; p++)
            s += tr->value[p] - mu - bi[tr->item[p]];
        bu[u] = n ? s / (double)(n + 5) : 0;
    }
    double e0 = 0, e1 = 0;
    for (int64_t k = 0; k < te->n_ratings; k++) {
        double t = te->value[k];
        e0 += (t - mu) * (t - mu);
        double p = mu + bu[te->user[k]] + bi[te->item[k]];
        e1 += (t - p) * (t - p);
    }
    double rmse0 = sqrt(e0 / (double)te->n_ratings), rmse1 = sqrt(e1 / (double)te->n_ratings);
    ck_assert_msg(rmse1 < 0.9 * rmse0, "baseline %g vs global mean %g", rmse1, rmse0);
    ck_assert_msg(rmse0 > 0.8 && rmse0 < 1.4, "rating spread %g", rmse0);
    free(bu);
    free(bi);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_protocols");
    TCase *tc = tcase_create("splits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_global_properties);
    tcase_add_test(tc, random_per_user_properties);
    tcase_add_test(tc, kfold_properties);
    tcase_add_test(tc, chrono_properties);
    tcase_add_test(tc, chrono_rounding_examples);
    tcase_add_test(tc, leave_one_out_properties);
    tcase_add_test(tc, unseen_modes);
    tcase_add_test(tc, candidates_ncf);
    tcase_add_test(tc, training_negatives);
    suite_add_tcase(s, tc);
    tc = tcase_create("transformations");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, filter_kcore);
    tcase_add_test(tc, normalize_binarize_merge_select);
    suite_add_tcase(s, tc);
    tc = tcase_create("synthetic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, synthetic_shape_and_determinism);
    tcase_add_test(tc, synthetic_has_signal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(suite()); }
