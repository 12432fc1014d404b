/* Dataset loaders: every format on fixtures written here, every malformed
 * input, id maps, views, item metadata, the text writer, and (when
 * present) the real MovieLens files. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "recnn.h"
#include "common/fixtures.h"

static char tmpdir[256];

static void setup_dir(void) { test_tmpdir(tmpdir, sizeof tmpdir, "test_data"); }

static void teardown_dir(void) { test_rmtree(tmpdir); }

/* Writes text (n bytes; n < 0 = strlen) to tmpdir/name; returns the path
 * (static rotating buffers). */
static const char *fixture_n(const char *name, const char *text, long n)
{
    return test_file(tmpdir, name, text, n);
}

static const char *fixture(const char *name, const char *text)
{
    return fixture_n(name, text, -1);
}

/* Loads and expects failure with `status` and an error containing `what`. */
static void expect_fail(const char *path, int format, const recnn_load_options *o,
                        int status, const char *what)
{
    recnn_dataset *d = (recnn_dataset *)0x1;
    int st = recnn_dataset_load(&d, path, format, o);
    ck_assert_msg(st == status, "status %d (%s), want %d", st, recnn_last_error(), status);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(recnn_last_error(), what) != NULL, "error \"%s\" lacks \"%s\"",
                  recnn_last_error(), what);
}

static recnn_dataset *load_ok(const char *path, int format, const recnn_load_options *o)
{
    recnn_dataset *d = NULL;
    int st = recnn_dataset_load(&d, path, format, o);
    ck_assert_msg(st == RECNN_OK, "load failed: %s", recnn_last_error());
    ck_assert_ptr_nonnull(d);
    return d;
}

/* The rating of external (user, item), or NaN when absent. */
static float rating_of(const recnn_dataset *d, int64_t user, int64_t item)
{
    int64_t u, i;
    if (recnn_dataset_user_index(d, user, &u) || recnn_dataset_item_index(d, item, &i))
        return NAN;
    const int32_t *items;
    const float *vals;
    int64_t n;
    ck_assert_int_eq(recnn_dataset_user_row(d, u, &items, &vals, &n), RECNN_OK);
    for (int64_t k = 0; k < n; k++)
        if (items[k] == i)
            return vals[k];
    return NAN;
}

/* ---- formats -------------------------------------------------------------- */

START_TEST(ml100k_basic)
{
    const char *p = fixture("u.data", "196\t242\t3\t881250949\n"
                                      "186\t302\t3\t891717742\n"
                                      "22\t377\t1\t878887116\n"
                                      "196\t377\t5\t878887117\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_ML100K, NULL);
    ck_assert_int_eq(recnn_dataset_n_users(d), 3);
    ck_assert_int_eq(recnn_dataset_n_items(d), 3);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 4);
    ck_assert_float_eq(rating_of(d, 196, 377), 5.0f);
    ck_assert_float_eq(rating_of(d, 22, 377), 1.0f);
    ck_assert(isnan(rating_of(d, 22, 242)));
    float lo, hi;
    recnn_dataset_scale(d, &lo, &hi);
    ck_assert_float_eq(lo, 1.0f);
    ck_assert_float_eq(hi, 5.0f);
    /* internal order follows ascending external id */
    int64_t id;
    ck_assert_int_eq(recnn_dataset_user_id(d, 0, &id), RECNN_OK);
    ck_assert_int_eq(id, 22);
    ck_assert_int_eq(recnn_dataset_user_id(d, 2, &id), RECNN_OK);
    ck_assert_int_eq(id, 196);
    ck_assert(recnn_dataset_has_times(d));
    const int64_t *times;
    int64_t u;
    recnn_dataset_user_index(d, 22, &u);
    recnn_dataset_user_row_times(d, u, &times);
    ck_assert_int_eq(times[0], 878887116);
    ck_assert_double_eq_tol(recnn_dataset_density(d), 4.0 / 9.0, 1e-12);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(ml_dat_and_scale_rule)
{
    const char *p = fixture("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n"
                                           "2::1193::4::978298413\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_AUTO, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 3);
    float lo, hi;
    recnn_dataset_scale(d, &lo, &hi);
    ck_assert_float_eq(lo, 1.0f); /* whole numbers: ML-1M's 1..5 */
    recnn_dataset_free(d);
    p = fixture("ratings10m.dat", "1::122::0.5::838985046\n1::185::4.5::838983525\n");
    d = load_ok(p, RECNN_FORMAT_ML_DAT, NULL);
    recnn_dataset_scale(d, &lo, &hi);
    ck_assert_float_eq(lo, 0.5f); /* half stars: ML-10M's 0.5..5 */
    ck_assert_float_eq(hi, 5.0f);
    ck_assert_float_eq(rating_of(d, 1, 185), 4.5f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(csv_header_half_stars)
{
    const char *p = fixture("ratings.csv", "userId,movieId,rating,timestamp\n"
                                           "1,1,4.0,964982703\n1,3,3.5,964981247\n"
                                           "2,3,0.5,964982224\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_AUTO, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 3);
    ck_assert_float_eq(rating_of(d, 1, 3), 3.5f);
    ck_assert_float_eq(rating_of(d, 2, 3), 0.5f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(crlf_bom_trailing_blanks)
{
    const char *p = fixture("crlf.csv", "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n"
                                        "1,10,4.0,1\r\n2,10,2.5,2\r\n\r\n\r\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_AUTO, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 2);
    ck_assert_float_eq(rating_of(d, 2, 10), 2.5f);
    recnn_dataset_free(d);
    /* a BOM before a data line, tab format, no final newline */
    p = fixture("bom.data", "\xEF\xBB\xBF" "5\t6\t2\t100\n7\t6\t4\t101");
    d = load_ok(p, RECNN_FORMAT_AUTO, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 2);
    ck_assert_float_eq(rating_of(d, 7, 6), 4.0f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(netflix_several_files)
{
    const char *a = fixture("combined_data_1.txt", "1:\n1488844,3,2005-09-06\n"
                                                   "822109,5,2005-05-13\n2:\n"
                                                   "2059652,4,2005-09-05\n");
    const char *b = fixture("combined_data_2.txt", "3:\r\n1488844,2,2004-02-29\r\n");
    const char *paths[2] = {a, b};
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_load_files(&d, paths, 2, RECNN_FORMAT_AUTO, NULL),
                     RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_users(d), 3);
    ck_assert_int_eq(recnn_dataset_n_items(d), 3);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 4);
    ck_assert_float_eq(rating_of(d, 1488844, 3), 2.0f);
    int64_t u, i;
    recnn_dataset_user_index(d, 1488844, &u);
    const int64_t *t;
    const int32_t *items;
    int64_t n;
    recnn_dataset_user_row(d, u, &items, NULL, &n);
    recnn_dataset_user_row_times(d, u, &t);
    recnn_dataset_item_index(d, 3, &i);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(items[1], i);
    ck_assert_int_eq(t[1], 1078012800); /* 2004-02-29 00:00 UTC */
    recnn_dataset_free(d);
    /* the directory form loads both files */
    d = load_ok(tmpdir, RECNN_FORMAT_NETFLIX, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 4);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(generic_string_ids)
{
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.delimiter = ";";
    o.header = 1;
    o.item_col = 0;
    o.user_col = 2;
    o.rating_col = 1;
    o.time_col = -1;
    o.string_ids = 1;
    const char *p = fixture("gen.txt", "item;score;who\nbook A; 7 ;alice\n"
                                       "book B;3;bob\nbook A;9;bob\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_GENERIC, &o);
    ck_assert_int_eq(recnn_dataset_n_users(d), 2);
    ck_assert_int_eq(recnn_dataset_n_items(d), 2);
    ck_assert(!recnn_dataset_has_times(d));
    int64_t u, i;
    ck_assert_int_eq(recnn_dataset_user_index_by_name(d, "bob", &u), RECNN_OK);
    ck_assert_int_eq(u, 1);
    ck_assert_str_eq(recnn_dataset_user_name(d, 0), "alice");
    ck_assert_int_eq(recnn_dataset_item_index_by_name(d, "book A", &i), RECNN_OK);
    ck_assert_str_eq(recnn_dataset_item_name(d, i), "book A");
    ck_assert_int_eq(recnn_dataset_user_index_by_name(d, "carol", &u), RECNN_E_NOTFOUND);
    const int32_t *items;
    const float *vals;
    int64_t n;
    recnn_dataset_user_index_by_name(d, "bob", &u);
    recnn_dataset_user_row(d, u, &items, &vals, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_float_eq(vals[items[0] == i ? 0 : 1], 9.0f);
    float lo, hi;
    recnn_dataset_scale(d, &lo, &hi); /* generic: the observed range */
    ck_assert_float_eq(lo, 3.0f);
    ck_assert_float_eq(hi, 9.0f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(generic_implicit_and_dates)
{
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.delimiter = "|";
    o.rating_col = -1;
    o.time_col = 2;
    const char *p = fixture("clicks.txt", "10|20|2020-01-02\n11|20|1577923200\n");
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_GENERIC, &o);
    ck_assert(recnn_dataset_is_implicit(d));
    ck_assert_float_eq(rating_of(d, 10, 20), 1.0f);
    const int64_t *t;
    recnn_dataset_triplets(d, NULL, NULL, NULL, &t);
    ck_assert_int_eq(t[0], 1577923200);
    ck_assert_int_eq(t[1], 1577923200);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(auto_detect_directory)
{
    fixture("u.data", "1\t2\t3\t4\n");
    recnn_dataset *d = load_ok(tmpdir, RECNN_FORMAT_AUTO, NULL);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 1);
    recnn_dataset_free(d);
}
END_TEST

/* ---- malformed input ------------------------------------------------------- */

START_TEST(bad_field_count)
{
    expect_fail(fixture("u.data", "1\t2\t3\t4\n1\t3\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "u.data:2: expected 4 fields, found 3");
}
END_TEST

START_TEST(bad_rating_not_number)
{
    expect_fail(fixture("u.data", "1\t2\t3\t4\n1\t3\tabc\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "u.data:2: rating \"abc\" is not a number");
}
END_TEST

START_TEST(bad_id_not_integer)
{
    expect_fail(fixture("r.csv", "1,2,3,4\n1.5,3,4,5\n"), RECNN_FORMAT_CSV, NULL,
                RECNN_E_FORMAT, "r.csv:2: user id \"1.5\" is not an integer");
    expect_fail(fixture("r.csv", "1,x,3,4\n"), RECNN_FORMAT_CSV, NULL, RECNN_E_FORMAT,
                "r.csv:1: item id \"x\" is not an integer");
}
END_TEST

START_TEST(bad_rating_nan_inf)
{
    expect_fail(fixture("u.data", "1\t2\tnan\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "u.data:1: rating \"nan\" is not finite");
    expect_fail(fixture("u.data", "1\t2\t3\t4\n1\t3\t-Inf\t4\n"), RECNN_FORMAT_ML100K,
                NULL, RECNN_E_FORMAT, "u.data:2: rating \"-Inf\" is not finite");
    expect_fail(fixture("u.data", "1\t2\t1e999\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "is not finite");
}
END_TEST

START_TEST(bad_rating_outside_scale)
{
    expect_fail(fixture("u.data", "1\t2\t3\t4\n1\t3\t6\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "u.data:2: rating \"6\" is outside the scale [1, 5]");
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.scale_min = 1;
    o.scale_max = 10;
    recnn_dataset *d = load_ok(fixture("u.data", "1\t3\t6\t4\n"), RECNN_FORMAT_ML100K, &o);
    recnn_dataset_free(d);
    expect_fail(fixture("c.csv", "1,2,0,4\n"), RECNN_FORMAT_CSV, NULL, RECNN_E_FORMAT,
                "c.csv:1: rating \"0\" is outside the scale [0.5, 5]");
}
END_TEST

START_TEST(bad_id_overflow)
{
    expect_fail(fixture("u.data", "1\t2\t3\t4\n99999999999999999999\t3\t4\t4\n"),
                RECNN_FORMAT_ML100K, NULL, RECNN_E_FORMAT,
                "u.data:2: user id \"99999999999999999999\" overflows 64 bits");
    expect_fail(fixture("u.data", "1\t2\t3\t99999999999999999999\n"), RECNN_FORMAT_ML100K,
                NULL, RECNN_E_FORMAT, "u.data:1: timestamp");
    /* the largest 64-bit id is fine */
    recnn_dataset *d = load_ok(fixture("u.data", "9223372036854775807\t2\t3\t4\n"),
                               RECNN_FORMAT_ML100K, NULL);
    int64_t id;
    recnn_dataset_user_id(d, 0, &id);
    ck_assert_int_eq(id, INT64_MAX);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(duplicates_policies)
{
    const char *p = fixture("dup.data", "1\t2\t3\t10\n4\t5\t1\t11\n1\t2\t5\t12\n");
    expect_fail(p, RECNN_FORMAT_ML100K, NULL, RECNN_E_FORMAT,
                "dup.data:3: duplicate rating for user 1, item 2 (first at ");
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "dup.data:1)"));
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.dup_policy = RECNN_DUP_KEEP_LAST;
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_ML100K, &o);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 2);
    ck_assert_float_eq(rating_of(d, 1, 2), 5.0f);
    recnn_dataset_free(d);
    o.dup_policy = RECNN_DUP_KEEP_FIRST;
    d = load_ok(p, RECNN_FORMAT_ML100K, &o);
    ck_assert_float_eq(rating_of(d, 1, 2), 3.0f);
    const int64_t *t;
    int64_t u;
    recnn_dataset_user_index(d, 1, &u);
    recnn_dataset_user_row_times(d, u, &t);
    ck_assert_int_eq(t[0], 10);
    recnn_dataset_free(d);
    /* string ids report names */
    recnn_load_options_init(&o);
    o.string_ids = 1;
    o.time_col = -1;
    o.rating_col = 2;
    expect_fail(fixture("s.csv", "a,b,1\nc,b,2\na,b,3\n"), RECNN_FORMAT_GENERIC, &o,
                RECNN_E_FORMAT, "s.csv:3: duplicate rating for user \"a\", item \"b\"");
}
END_TEST

START_TEST(empty_and_missing)
{
    expect_fail(fixture("empty.data", ""), RECNN_FORMAT_ML100K, NULL, RECNN_E_FORMAT,
                "empty.data: no ratings");
    expect_fail(fixture("empty2.data", ""), RECNN_FORMAT_AUTO, NULL, RECNN_E_FORMAT,
                "empty2.data: empty file");
    expect_fail(fixture("blank.data", "\n\n"), RECNN_FORMAT_ML100K, NULL, RECNN_E_FORMAT,
                "no ratings");
    expect_fail(fixture("hdr.csv", "userId,movieId,rating,timestamp\n"), RECNN_FORMAT_CSV,
                NULL, RECNN_E_FORMAT, "hdr.csv: no ratings");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no_such_file.data", tmpdir);
    expect_fail(missing, RECNN_FORMAT_ML100K, NULL, RECNN_E_IO, "no_such_file.data: cannot open");
    expect_fail(missing, RECNN_FORMAT_AUTO, NULL, RECNN_E_IO, "cannot open");
}
END_TEST

START_TEST(blank_line_inside)
{
    expect_fail(fixture("u.data", "1\t2\t3\t4\n\n1\t3\t3\t4\n"), RECNN_FORMAT_ML100K, NULL,
                RECNN_E_FORMAT, "u.data:2: blank line inside the data");
}
END_TEST

START_TEST(netflix_malformed)
{
    expect_fail(fixture("combined_data_1.txt", "1488844,3,2005-09-06\n"),
                RECNN_FORMAT_NETFLIX, NULL, RECNN_E_FORMAT,
                "combined_data_1.txt:1: rating line before any \"MovieID:\" line");
    expect_fail(fixture("combined_data_1.txt", "1:\n1488844,3,2005-13-06\n"),
                RECNN_FORMAT_NETFLIX, NULL, RECNN_E_FORMAT,
                "combined_data_1.txt:2: timestamp \"2005-13-06\" is not a date");
    expect_fail(fixture("combined_data_1.txt", "x1:\n1,3,2005-01-06\n"),
                RECNN_FORMAT_NETFLIX, NULL, RECNN_E_FORMAT,
                "combined_data_1.txt:1: movie id \"x1\" is not an integer");
    expect_fail(fixture("combined_data_1.txt", "1:\n1,3\n"), RECNN_FORMAT_NETFLIX, NULL,
                RECNN_E_FORMAT, "combined_data_1.txt:2: expected 3 fields, found 2");
}
END_TEST

START_TEST(undetectable_and_bad_args)
{
    expect_fail(fixture("x.txt", "hello world\n"), RECNN_FORMAT_AUTO, NULL, RECNN_E_FORMAT,
                "x.txt:1: cannot detect the format");
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_load(&d, NULL, 0, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_dataset_load(&d, fixture("a.data", "1\t2\t3\t4\n"), 99, NULL),
                     RECNN_E_INVALID);
    ck_assert_int_eq(recnn_dataset_load(NULL, "x", 0, NULL), RECNN_E_INVALID);
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.delimiter = "";
    ck_assert_int_eq(recnn_dataset_load(&d, fixture("a.data", "1\t2\t3\t4\n"),
                                        RECNN_FORMAT_GENERIC, &o),
                     RECNN_E_INVALID);
    recnn_load_options_init(&o);
    o.user_col = 1; /* same column twice */
    ck_assert_int_eq(recnn_dataset_load(&d, fixture("a.csv", "1,2,3,4\n"),
                                        RECNN_FORMAT_GENERIC, &o),
                     RECNN_E_INVALID);
    ck_assert_ptr_null(d);
    /* an options struct from an older header (only size + dup_policy) */
    struct {
        size_t size;
        int dup_policy;
    } old = {sizeof(size_t) + sizeof(int), RECNN_DUP_KEEP_LAST}; /* no tail padding */
    d = load_ok(fixture("o.data", "1\t2\t3\t4\n1\t2\t4\t5\n"), RECNN_FORMAT_ML100K,
                (const recnn_load_options *)(const void *)&old);
    ck_assert_float_eq(rating_of(d, 1, 2), 4.0f);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(generic_field_count)
{
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.time_col = -1;
    expect_fail(fixture("g.csv", "1,2,3\n1,3,4,9\n"), RECNN_FORMAT_GENERIC, &o,
                RECNN_E_FORMAT, "g.csv:2: expected 3 fields, found 4");
    o.n_fields = 4;
    expect_fail(fixture("g.csv", "1,2,3\n"), RECNN_FORMAT_GENERIC, &o, RECNN_E_FORMAT,
                "g.csv:1: expected 4 fields, found 3");
    o.n_fields = 0;
    o.time_col = 5;
    expect_fail(fixture("g.csv", "1,2,3\n"), RECNN_FORMAT_GENERIC, &o, RECNN_E_FORMAT,
                "g.csv:1: 3 fields, but column 5 is used");
}
END_TEST

/* Inputs found by the fuzzers (fuzz/) that once misbehaved, and odd inputs
 * near them: each must load or fail cleanly. */
START_TEST(fuzz_regressions)
{
    static const struct {
        const char *text;
        long len;
        int format;
        int ok;
    } cases[] = {
        {"1:", 2, RECNN_FORMAT_NETFLIX, 0},
        {":", 1, RECNN_FORMAT_AUTO, 0},
        {"1\t2\t3\t4\r", 8, RECNN_FORMAT_AUTO, 1},
        {"\xEF\xBB\xBF", 3, RECNN_FORMAT_AUTO, 0},
        {"1::2::3::4::", 12, RECNN_FORMAT_ML_DAT, 0},
        {"1\0\t2\t3\t4\n", 9, RECNN_FORMAT_ML100K, 0},
        {"-9223372036854775808\t2\t3\t4\n", -1, RECNN_FORMAT_ML100K, 1},
        {"1,2,3e,4\n", -1, RECNN_FORMAT_CSV, 0},
        {"1,2,.,4\n", -1, RECNN_FORMAT_CSV, 0},
        {"1,2,+.5e+0,4\n", -1, RECNN_FORMAT_CSV, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = fixture_n("fz.txt", cases[k].text, cases[k].len);
        recnn_dataset *d = NULL;
        int st = recnn_dataset_load(&d, p, cases[k].format, NULL);
        ck_assert_msg((st == RECNN_OK) == cases[k].ok, "case %zu: status %d (%s)", k, st,
                      recnn_last_error());
        ck_assert(st == RECNN_OK ? d != NULL : d == NULL);
        recnn_dataset_free(d);
    }
}
END_TEST

/* ---- id maps and views ------------------------------------------------------ */

START_TEST(idmap_round_trip)
{
    enum { N = 500 };
    int64_t users[N], items[N];
    float vals[N];
    for (int k = 0; k < N; k++) {
        users[k] = (int64_t)(k % 37) * 1000003 - 500; /* includes negatives */
        items[k] = (int64_t)k * 7919 + ((int64_t)1 << 40);
        vals[k] = (float)(k % 5 + 1);
    }
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, N, users, items, vals, NULL, 1, 5, 0),
                     RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_users(d), 37);
    ck_assert_int_eq(recnn_dataset_n_items(d), N);
    int64_t prev = INT64_MIN;
    for (int64_t u = 0; u < recnn_dataset_n_users(d); u++) {
        int64_t id, back;
        ck_assert_int_eq(recnn_dataset_user_id(d, u, &id), RECNN_OK);
        ck_assert_int_gt(id, prev);
        prev = id;
        ck_assert_int_eq(recnn_dataset_user_index(d, id, &back), RECNN_OK);
        ck_assert_int_eq(back, u);
    }
    for (int k = 0; k < N; k++) {
        int64_t i, id;
        ck_assert_int_eq(recnn_dataset_item_index(d, items[k], &i), RECNN_OK);
        ck_assert_int_eq(recnn_dataset_item_id(d, i, &id), RECNN_OK);
        ck_assert_int_eq(id, items[k]);
        ck_assert_float_eq(rating_of(d, users[k], items[k]), vals[k]);
    }
    int64_t x;
    ck_assert_int_eq(recnn_dataset_user_index(d, 42, &x), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_dataset_user_id(d, 37, &x), RECNN_E_INVALID);
    ck_assert_ptr_null(recnn_dataset_user_name(d, 0));
    recnn_dataset_free(d);
}
END_TEST

START_TEST(csr_csc_consistent)
{
    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = 200;
    so.n_items = 150;
    so.n_ratings = 6000;
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_synthetic(&d, &so), RECNN_OK);
    const int64_t *rp, *cp;
    const int32_t *cu, *tu, *ti;
    const float *cv, *tv;
    recnn_dataset_csr(d, &rp);
    recnn_dataset_csc(d, &cp, &cu, &cv);
    recnn_dataset_triplets(d, &tu, &ti, &tv, NULL);
    int64_t n = recnn_dataset_n_ratings(d);
    ck_assert_int_eq(rp[recnn_dataset_n_users(d)], n);
    ck_assert_int_eq(cp[recnn_dataset_n_items(d)], n);
    for (int64_t k = 1; k < n; k++)
        ck_assert(tu[k] > tu[k - 1] || (tu[k] == tu[k - 1] && ti[k] > ti[k - 1]));
    /* every CSC entry is found in the user's row with the same value */
    for (int64_t i = 0; i < recnn_dataset_n_items(d); i++) {
        const int32_t *us;
        const float *vs;
        int64_t m;
        recnn_dataset_item_column(d, i, &us, &vs, &m);
        for (int64_t k = 0; k < m; k++) {
            if (k)
                ck_assert_int_gt(us[k], us[k - 1]);
            int64_t pos = recnn__dataset_find(d, us[k], (int32_t)i);
            ck_assert_int_ge(pos, 0);
            ck_assert_float_eq(tv[pos], vs[k]);
        }
    }
    ck_assert_int_eq(recnn_dataset_user_row(d, -1, NULL, NULL, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_dataset_item_column(d, 150, NULL, NULL, NULL), RECNN_E_INVALID);
    recnn_dataset_free(d);
}
END_TEST

/* The generator's timestamps lie in [time_start, time_start + time_span):
 * a range whose last second does not fit an int64_t is refused (it was
 * accepted, computing time_start + offset with signed overflow); the
 * largest range that fits is generated, every timestamp in it. */
START_TEST(synthetic_time_range_overflow)
{
    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = 20;
    so.n_items = 15;
    so.n_ratings = 100;
    so.n_genres = 0;
    recnn_dataset *d = (recnn_dataset *)&so; /* must be reset to NULL on failure */
    so.time_start = INT64_MAX;
    ck_assert_int_eq(recnn_dataset_synthetic(&d, &so), RECNN_E_INVALID);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "time_start"));
    so.time_span = 1000;
    so.time_start = INT64_MAX - 998; /* last second INT64_MAX + 1 */
    ck_assert_int_eq(recnn_dataset_synthetic(&d, &so), RECNN_E_INVALID);
    ck_assert_ptr_null(d);

    /* the edges that fit: last second exactly INT64_MAX, and the bottom */
    const int64_t starts[2] = {INT64_MAX - 999, INT64_MIN};
    for (int c = 0; c < 2; c++) {
        so.time_start = starts[c];
        ck_assert_int_eq(recnn_dataset_synthetic(&d, &so), RECNN_OK);
        const int64_t *t = NULL;
        ck_assert_int_eq(recnn_dataset_triplets(d, NULL, NULL, NULL, &t), RECNN_OK);
        ck_assert_ptr_nonnull(t);
        int64_t n = recnn_dataset_n_ratings(d), lo = INT64_MAX, hi = INT64_MIN;
        ck_assert_int_eq(n, 100);
        for (int64_t k = 0; k < n; k++) {
            lo = t[k] < lo ? t[k] : lo;
            hi = t[k] > hi ? t[k] : hi;
        }
        ck_assert_int_ge(lo, starts[c]); /* no wrap-around past INT64_MAX */
        ck_assert_int_le(hi, starts[c] + 999);
        recnn_dataset_free(d);
        d = NULL;
    }
}
END_TEST

/* ---- metadata ------------------------------------------------------------------ */

START_TEST(meta_uitem_latin1)
{
    recnn_dataset *d = load_ok(fixture("u.data", "1\t1\t3\t4\n1\t2\t3\t4\n2\t3\t3\t4\n"),
                               RECNN_FORMAT_ML100K, NULL);
    const char *items =
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
        "2|Caf\xe9 au lait (1993)|01-Jan-1993||http://y|0|0|0|0|0|1|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
        "99|Not rated|01-Jan-1993||http://z|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";
    recnn_dataset *m = NULL;
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("u.item", items),
                                                RECNN_META_AUTO),
                     RECNN_OK);
    ck_assert(!recnn_dataset_has_meta(d));
    ck_assert(recnn_dataset_has_meta(m));
    ck_assert_int_eq(recnn_dataset_n_genres(m), 19);
    ck_assert_str_eq(recnn_dataset_genre_name(m, 4), "Children's");
    const char *t;
    uint64_t g;
    ck_assert_int_eq(recnn_dataset_item_title(m, 2, &t), RECNN_OK);
    ck_assert_str_eq(t, "Caf\xc3\xa9 au lait (1993)");
    ck_assert_int_eq(recnn_dataset_item_genres(m, 1, &g), RECNN_OK);
    ck_assert_uint_eq(g, (1u << 3) | (1u << 4) | (1u << 5));
    ck_assert_int_eq(recnn_dataset_item_title(m, 3, &t), RECNN_OK); /* not described */
    ck_assert_ptr_null(t);
    ck_assert_int_eq(recnn_dataset_item_title(m, 99, &t), RECNN_E_NOTFOUND);
    ck_assert_int_eq(recnn_dataset_item_title(d, 1, &t), RECNN_E_STATE);
    ck_assert_int_eq(recnn_dataset_n_ratings(m), 3);
    ck_assert_ptr_eq(m->item, d->item); /* the arrays are shared, not copied */
    recnn_dataset_free(m);
    /* malformed u.item */
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("u.item", "1|x|y\n"),
                                                RECNN_META_ML100K),
                     RECNN_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "u.item:1: expected 24 fields"));
    recnn_dataset_free(d);
}
END_TEST

START_TEST(meta_movies_csv)
{
    recnn_dataset *d = load_ok(fixture("ratings.csv", "1,1,4.0,1\n1,11,3.0,1\n2,12,3.0,1\n"),
                               RECNN_FORMAT_CSV, NULL);
    const char *movies = "movieId,title,genres\r\n"
                         "1,Toy Story (1995),Adventure|Animation|Children\r\n"
                         "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
                         "12,\"Say \"\"Hi\"\" (2000)\",(no genres listed)\r\n"
                         "13,Unrated,Western\r\n";
    recnn_dataset *m = NULL;
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("movies.csv", movies),
                                                RECNN_META_AUTO),
                     RECNN_OK);
    /* genres sorted by name: Adventure Animation Children Comedy Drama Romance Western */
    ck_assert_int_eq(recnn_dataset_n_genres(m), 7);
    ck_assert_str_eq(recnn_dataset_genre_name(m, 0), "Adventure");
    ck_assert_str_eq(recnn_dataset_genre_name(m, 6), "Western");
    const char *t;
    uint64_t g;
    recnn_dataset_item_title(m, 11, &t);
    ck_assert_str_eq(t, "American President, The (1995)");
    recnn_dataset_item_genres(m, 11, &g);
    ck_assert_uint_eq(g, (1u << 3) | (1u << 4) | (1u << 5));
    recnn_dataset_item_title(m, 12, &t);
    ck_assert_str_eq(t, "Say \"Hi\" (2000)");
    recnn_dataset_item_genres(m, 12, &g);
    ck_assert_uint_eq(g, 0);
    /* m outlives d; attaching again to m replaces the metadata */
    recnn_dataset *keep = d, *m2 = NULL;
    d = load_ok(fixture("ratings2.csv", "1,1,4.0,1\n"), RECNN_FORMAT_CSV, NULL);
    recnn_dataset_free(keep);
    ck_assert_float_eq(m->value[0], 4.0f);
    ck_assert_int_eq(recnn_dataset_attach_items(&m2, m, fixture("m2.csv", "11,X,Noir\n"),
                                                RECNN_META_CSV),
                     RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_genres(m2), 1);
    recnn_dataset_item_title(m2, 11, &t);
    ck_assert_str_eq(t, "X");
    recnn_dataset_item_title(m2, 1, &t);
    ck_assert_ptr_null(t);
    recnn_dataset_free(m);
    ck_assert_int_eq(recnn_dataset_n_ratings(m2), 3);
    recnn_dataset_free(m2);
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("movies.csv",
                                                               "1,\"open,Drama\n"),
                                                RECNN_META_CSV),
                     RECNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "movies.csv:1: bad quoting"));
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("movies.csv",
                                                               "1,a,Drama\n1,b,Drama\n"),
                                                RECNN_META_CSV),
                     RECNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "movies.csv:2: item described twice"));
    /* fuzz_load_items found a double free: a quoting error on a line with
     * fewer fields than the line before */
    static const char crash[] = "mo\0\0\0\0\036ieI1,\"DramaA, B\0\3471995)\002,Coor\377\377"
                                "\377\377medy|Dr!ma\n1,C,(no genres Listed)\n997)\",Comedy|"
                                "Drama\nJ";
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture_n("crash.csv", crash,
                                                                 sizeof crash - 1),
                                                RECNN_META_CSV),
                     RECNN_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "crash.csv:3: bad quoting"));
    recnn_dataset_free(d);
}
END_TEST

/* ---- writer round trips and predefined splits ---------------------------------- */

START_TEST(save_text_round_trip)
{
    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = 120;
    so.n_items = 80;
    so.n_ratings = 2500;
    so.n_genres = 0;
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_synthetic(&d, &so), RECNN_OK);
    const int formats[] = {RECNN_FORMAT_ML100K, RECNN_FORMAT_ML_DAT, RECNN_FORMAT_CSV,
                           RECNN_FORMAT_NETFLIX};
    for (int f = 0; f < 4; f++) {
        char path[600];
        snprintf(path, sizeof path, "%s/saved_%d.txt", tmpdir, f);
        ck_assert_int_eq(recnn_dataset_save_text(d, path, formats[f]), RECNN_OK);
        recnn_dataset *e = load_ok(path, RECNN_FORMAT_AUTO, NULL);
        ck_assert_int_eq(recnn_dataset_n_ratings(e), recnn_dataset_n_ratings(d));
        ck_assert_int_eq(recnn_dataset_n_users(e), recnn_dataset_n_active_users(d));
        const int32_t *u, *i;
        const float *v;
        const int64_t *t, *te;
        recnn_dataset_triplets(d, &u, &i, &v, &t);
        recnn_dataset_triplets(e, NULL, NULL, NULL, &te);
        for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++) {
            int64_t ue, ie;
            recnn_dataset_user_id(d, u[k], &ue);
            recnn_dataset_item_id(d, i[k], &ie);
            ck_assert_float_eq(rating_of(e, ue, ie), v[k]);
        }
        if (formats[f] != RECNN_FORMAT_NETFLIX) /* Netflix keeps days only */
            for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++)
                ck_assert_int_eq(te[k], t[k]);
        recnn_dataset_free(e);
    }
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.txt", tmpdir);
    ck_assert_int_eq(recnn_dataset_save_text(d, bad, RECNN_FORMAT_CSV), RECNN_E_IO);
    recnn_dataset_free(d);
}
END_TEST

START_TEST(load_split_shared_space)
{
    const char *base = fixture("u1.base", "1\t1\t5\t1\n1\t2\t3\t2\n2\t1\t4\t3\n");
    const char *test = fixture("u1.test", "2\t3\t2\t4\n3\t1\t1\t5\n");
    recnn_dataset *tr = NULL, *te = NULL;
    ck_assert_int_eq(recnn_dataset_load_split(&tr, &te, base, test, RECNN_FORMAT_AUTO, NULL),
                     RECNN_OK);
    ck_assert(recnn_dataset_same_space(tr, te));
    ck_assert_int_eq(recnn_dataset_n_users(tr), 3);
    ck_assert_int_eq(recnn_dataset_n_items(tr), 3);
    ck_assert_int_eq(recnn_dataset_n_ratings(tr), 3);
    ck_assert_int_eq(recnn_dataset_n_ratings(te), 2);
    /* the base file alone is another index space (no item 3, no user 3);
     * loading it twice gives the same space */
    recnn_dataset *b1 = load_ok(base, RECNN_FORMAT_AUTO, NULL);
    recnn_dataset *b2 = load_ok(base, RECNN_FORMAT_AUTO, NULL);
    ck_assert(!recnn_dataset_same_space(b1, tr));
    ck_assert(recnn_dataset_same_space(b1, b2));
    recnn_dataset_free(b1);
    recnn_dataset_free(b2);
    int64_t i3;
    ck_assert_int_eq(recnn_dataset_item_index(tr, 3, &i3), RECNN_OK);
    int64_t n;
    recnn_dataset_item_column(tr, i3, NULL, NULL, &n);
    ck_assert_int_eq(n, 0);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    /* a duplicate inside the test file names the test file */
    const char *bad = fixture("u2.test", "2\t3\t2\t4\n2\t3\t1\t5\n");
    ck_assert_int_eq(recnn_dataset_load_split(&tr, &te, base, bad, RECNN_FORMAT_ML100K, NULL),
                     RECNN_E_FORMAT);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "u2.test:2: duplicate"));
}
END_TEST

/* ---- real data ----------------------------------------------------------------- */

static const char *data_dir(void)
{
    const char *e = getenv("RECNN_DATA_DIR");
    return e && *e ? e : "../shared/datasets";
}

static bool have(const char *rel, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", data_dir(), rel);
    struct stat st;
    if (stat(buf, &st) != 0) {
        printf("skipped: %s not found (set RECNN_DATA_DIR)\n", buf);
        return false;
    }
    return true;
}

START_TEST(real_ml100k)
{
    char p[1024], q[1024];
    if (!have("ml-100k/u.data", p, sizeof p) || !have("ml-100k/u.item", q, sizeof q))
        return;
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_AUTO, NULL), *m = NULL;
    ck_assert_int_eq(recnn_dataset_n_users(d), 943);
    ck_assert_int_eq(recnn_dataset_n_items(d), 1682);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 100000);
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, q, RECNN_META_AUTO), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_genres(m), 19);
    const char *t;
    recnn_dataset_item_title(m, 1, &t);
    ck_assert_str_eq(t, "Toy Story (1995)");
    recnn_dataset_free(m);
    recnn_dataset_free(d);
    char b[1024], e[1024];
    if (!have("ml-100k/u1.base", b, sizeof b) || !have("ml-100k/u1.test", e, sizeof e))
        return;
    recnn_dataset *tr, *te;
    ck_assert_int_eq(recnn_dataset_load_split(&tr, &te, b, e, RECNN_FORMAT_AUTO, NULL),
                     RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(tr), 80000);
    ck_assert_int_eq(recnn_dataset_n_ratings(te), 20000);
    ck_assert_int_eq(recnn_dataset_n_users(tr), 943);
    ck_assert_int_eq(recnn_dataset_n_items(tr), 1682);
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
}
END_TEST

START_TEST(real_ml_latest_small)
{
    char p[1024], q[1024];
    if (!have("ml-latest-small/ratings.csv", p, sizeof p) ||
        !have("ml-latest-small/movies.csv", q, sizeof q))
        return;
    recnn_dataset *d = load_ok(p, RECNN_FORMAT_AUTO, NULL), *m = NULL;
    ck_assert_int_eq(recnn_dataset_n_users(d), 610);
    ck_assert_int_eq(recnn_dataset_n_items(d), 9724);
    ck_assert_int_eq(recnn_dataset_n_ratings(d), 100836);
    float lo, hi;
    recnn_dataset_scale(d, &lo, &hi);
    ck_assert_float_eq(lo, 0.5f);
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, q, RECNN_META_AUTO), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_genres(m), 19); /* 20 names minus "(no genres listed)" */
    const char *t;
    recnn_dataset_item_title(m, 11, &t);
    ck_assert_str_eq(t, "American President, The (1995)");
    recnn_dataset_free(m);
    recnn_dataset_free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ml100k_basic);
    tcase_add_test(tc, ml_dat_and_scale_rule);
    tcase_add_test(tc, csv_header_half_stars);
    tcase_add_test(tc, crlf_bom_trailing_blanks);
    tcase_add_test(tc, netflix_several_files);
    tcase_add_test(tc, generic_string_ids);
    tcase_add_test(tc, generic_implicit_and_dates);
    tcase_add_test(tc, auto_detect_directory);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, bad_field_count);
    tcase_add_test(tc, bad_rating_not_number);
    tcase_add_test(tc, bad_id_not_integer);
    tcase_add_test(tc, bad_rating_nan_inf);
    tcase_add_test(tc, bad_rating_outside_scale);
    tcase_add_test(tc, bad_id_overflow);
    tcase_add_test(tc, duplicates_policies);
    tcase_add_test(tc, empty_and_missing);
    tcase_add_test(tc, blank_line_inside);
    tcase_add_test(tc, netflix_malformed);
    tcase_add_test(tc, undetectable_and_bad_args);
    tcase_add_test(tc, generic_field_count);
    tcase_add_test(tc, fuzz_regressions);
    suite_add_tcase(s, tc);

    tc = tcase_create("views");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, idmap_round_trip);
    tcase_add_test(tc, csr_csc_consistent);
    tcase_add_test(tc, synthetic_time_range_overflow);
    tcase_add_test(tc, meta_uitem_latin1);
    tcase_add_test(tc, meta_movies_csv);
    tcase_add_test(tc, save_text_round_trip);
    tcase_add_test(tc, load_split_shared_space);
    suite_add_tcase(s, tc);

    tc = tcase_create("real");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, real_ml100k);
    tcase_add_test(tc, real_ml_latest_small);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(suite()); }
