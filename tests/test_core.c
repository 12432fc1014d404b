/* Core services: errors, version, memory, RNG, top-k, BLAS wrappers,
 * LAPACKE solves, CRC-32C, thread budget. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

START_TEST(test_status_strings)
{
    for (int s = 0; s >= -11; s--) {
        const char *m = recnn_strerror(s);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_ne(m, "unknown status");
    }
    ck_assert_str_eq(recnn_strerror(-999), "unknown status");
    ck_assert_str_eq(recnn_strerror(RECNN_E_FORMAT), "malformed input");
}
END_TEST

START_TEST(test_last_error)
{
    recnn_clear_error();
    ck_assert_str_eq(recnn_last_error(), "");
    int st = recnn__fail(RECNN_E_FORMAT, "%s:%d: rating \"%s\" is not a number",
                         "u.data", 1207, "abc");
    ck_assert_int_eq(st, RECNN_E_FORMAT);
    ck_assert_str_eq(recnn_last_error(), "u.data:1207: rating \"abc\" is not a number");
    /* long details are truncated, never overflow */
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    recnn__fail(RECNN_E_IO, "%s", big);
    ck_assert_uint_lt(strlen(recnn_last_error()), sizeof big - 1);
}
END_TEST

START_TEST(test_version)
{
    ck_assert_int_eq(recnn_version_number(), RECNN_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", RECNN_VERSION_MAJOR, RECNN_VERSION_MINOR,
             RECNN_VERSION_PATCH);
    ck_assert_str_eq(recnn_version(), want);
    ck_assert_int_eq(RECNN_CHECK_VERSION(), RECNN_OK);
    ck_assert_int_eq(recnn_check_version(RECNN_VERSION_MAJOR + 1, 0), RECNN_E_VERSION);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "compiled against"));
    ck_assert_int_eq(recnn_check_version(RECNN_VERSION_MAJOR, RECNN_VERSION_MINOR + 1),
                     RECNN_E_VERSION);
}
END_TEST

START_TEST(test_alloc)
{
    float *p = recnn__alloc(1000, sizeof(float));
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % RECNN_ALIGN, 0);
    recnn__free(p);
    float *z = recnn__calloc(77, sizeof(float));
    for (int i = 0; i < 77; i++)
        ck_assert_float_eq(z[i], 0.0f);
    z = recnn__realloc(z, 77, 200, sizeof(float));
    ck_assert_ptr_nonnull(z);
    ck_assert_float_eq(z[76], 0.0f);
    recnn__free(z);
    /* overflow is refused, not wrapped */
    recnn_clear_error();
    ck_assert_ptr_null(recnn__alloc(SIZE_MAX / 2, 4));
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "overflows"));
    size_t out;
    ck_assert(!recnn__mul_ok(SIZE_MAX, 2, &out));
    ck_assert(recnn__mul_ok(1u << 20, 1u << 20, &out));
    ck_assert_uint_eq(out, (size_t)1 << 40);
    void *zero = recnn__alloc(0, 8);
    ck_assert_ptr_nonnull(zero);
    recnn__free(zero);
}
END_TEST

START_TEST(test_rng_determinism_and_streams)
{
    recnn_rng a, b, c;
    recnn__rng_seed(&a, 42);
    recnn__rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(recnn__rng_u64(&a), recnn__rng_u64(&b));
    recnn__rng_stream(&a, 42, 1);
    recnn__rng_stream(&c, 42, 2);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += recnn__rng_u64(&a) == recnn__rng_u64(&c);
    ck_assert_int_eq(same, 0);
    /* stream 0 is the plain seed */
    recnn__rng_stream(&a, 7, 0);
    recnn__rng_seed(&b, 7);
    ck_assert_uint_eq(recnn__rng_u64(&a), recnn__rng_u64(&b));
}
END_TEST

START_TEST(test_rng_distributions)
{
    recnn_rng r;
    recnn__rng_seed(&r, 1);
    enum { N = 200000 };
    double s = 0, s2 = 0, us = 0;
    int counts[10] = {0};
    for (int i = 0; i < N; i++) {
        double x = recnn__rng_normal(&r);
        s += x;
        s2 += x * x;
        double u = recnn__rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        float uf = recnn__rng_uniformf(&r);
        ck_assert(uf >= 0.0f && uf < 1.0f);
        us += u;
        counts[recnn__rng_below(&r, 10)]++;
    }
    /* 5-sigma bounds for the sample moments */
    ck_assert_double_lt(fabs(s / N), 5.0 / sqrt(N));
    ck_assert_double_lt(fabs(s2 / N - 1.0), 5.0 * sqrt(2.0 / N));
    ck_assert_double_lt(fabs(us / N - 0.5), 5.0 * sqrt(1.0 / 12 / N));
    for (int k = 0; k < 10; k++)
        ck_assert_int_lt(abs(counts[k] - N / 10), (int)(5 * sqrt(N * 0.09)));
}
END_TEST

START_TEST(test_shuffle_is_permutation)
{
    recnn_rng r;
    recnn__rng_seed(&r, 3);
    int32_t a[1000];
    for (int i = 0; i < 1000; i++)
        a[i] = i;
    recnn__rng_shuffle_i32(&r, a, 1000);
    int seen[1000] = {0}, fixed = 0;
    for (int i = 0; i < 1000; i++) {
        seen[a[i]]++;
        fixed += a[i] == i;
    }
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_lt(fixed, 20); /* expected ~1 fixed point */
    double d[50];
    for (int i = 0; i < 50; i++)
        d[i] = i;
    recnn__rng_shuffle(&r, d, 50, sizeof d[0]);
    double sum = 0;
    for (int i = 0; i < 50; i++)
        sum += d[i];
    ck_assert_double_eq(sum, 49.0 * 50 / 2);
}
END_TEST

START_TEST(test_topk)
{
    float s[8] = {0.5f, 2.0f, NAN, 2.0f, -1.0f, 3.0f, 0.5f, 1.0f};
    int32_t out[8];
    /* ranking: 5 (3.0), 1 (2.0), 3 (2.0, tie -> smaller index first), 7, 0, 6, 4, 2 */
    int64_t n = recnn__topk(s, 8, 4, NULL, 0, out);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(out[0], 5);
    ck_assert_int_eq(out[1], 1);
    ck_assert_int_eq(out[2], 3);
    ck_assert_int_eq(out[3], 7);
    int32_t ex[] = {1, 5};
    n = recnn__topk(s, 8, 3, ex, 2, out);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(out[0], 3);
    ck_assert_int_eq(out[1], 7);
    ck_assert_int_eq(out[2], 0);
    /* fewer candidates than k; NaN last */
    n = recnn__topk(s, 8, 20, ex, 2, out);
    ck_assert_int_eq(n, 6);
    ck_assert_int_eq(out[5], 2);
    ck_assert_int_eq(recnn__topk(s, 8, 0, NULL, 0, out), 0);
    /* several NaNs: ordered among themselves by index, whatever k */
    float t[6] = {NAN, 1.0f, NAN, NAN, 0.0f, NAN};
    for (int64_t k = 3; k <= 6; k++) {
        n = recnn__topk(t, 6, k, NULL, 0, out);
        ck_assert_int_eq(n, k);
        int32_t want[6] = {1, 4, 0, 2, 3, 5};
        for (int64_t j = 0; j < k; j++)
            ck_assert_int_eq(out[j], want[j]);
    }
}
END_TEST

START_TEST(test_topk_matches_sort)
{
    recnn_rng r;
    recnn__rng_seed(&r, 9);
    enum { N = 500 };
    float s[N];
    int32_t out[N], ref[N];
    for (int trial = 0; trial < 50; trial++) {
        for (int i = 0; i < N; i++) /* coarse values force many ties */
            s[i] = (float)recnn__rng_below(&r, 40);
        int64_t k = 1 + (int64_t)recnn__rng_below(&r, N);
        int64_t n = recnn__topk(s, N, k, NULL, 0, out);
        /* reference: selection by repeated scan */
        char used[N] = {0};
        for (int64_t j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < N; i++)
                if (!used[i] && (best < 0 || s[i] > s[best]))
                    best = i;
            used[best] = 1;
            ref[j] = best;
        }
        ck_assert_int_eq(n, k);
        for (int64_t j = 0; j < k; j++)
            ck_assert_int_eq(out[j], ref[j]);
    }
}
END_TEST

START_TEST(test_gemm_gemv)
{
    /* A 2x3, B 3x2: C = A B by hand */
    float a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12}, c[4] = {0};
    recnn_mat A = recnn__mat_view(a, 2, 3), B = recnn__mat_view(b, 3, 2),
              C = recnn__mat_view(c, 2, 2);
    recnn__gemm(false, false, 1.0f, &A, &B, 0.0f, &C);
    ck_assert_float_eq(c[0], 58);
    ck_assert_float_eq(c[1], 64);
    ck_assert_float_eq(c[2], 139);
    ck_assert_float_eq(c[3], 154);
    /* C = Aᵀ A (3x3) */
    recnn_mat D;
    ck_assert_int_eq(recnn__mat_init(&D, 3, 3), RECNN_OK);
    recnn__gemm(true, false, 1.0f, &A, &A, 0.0f, &D);
    ck_assert_float_eq(D.data[0], 17);  /* 1*1 + 4*4 */
    ck_assert_float_eq(D.data[5], 36);  /* row 1, col 2: 2*3 + 5*6 */
    recnn__mat_free(&D);
    float x[] = {1, 1, 1}, y[2] = {1, 1};
    recnn__gemv(false, 2.0f, &A, x, 1.0f, y);
    ck_assert_float_eq(y[0], 13);
    ck_assert_float_eq(y[1], 31);
    ck_assert_float_eq(recnn__dot(3, a, a + 3), 32);
    recnn__axpy(3, 2.0f, a, x);
    ck_assert_float_eq(x[2], 7);
    ck_assert_float_eq(recnn__nrm2(2, (float[]){3, 4}), 5);
}
END_TEST

START_TEST(test_lapack)
{
    /* SPD A = [[4,2],[2,3]], b = [2,1]: x = [0.5, 0] */
    float a[] = {4, 2, 2, 3}, b[] = {2, 1};
    ck_assert_int_eq(recnn__posv(2, 1, a, b), RECNN_OK);
    ck_assert_float_eq_tol(b[0], 0.5f, 1e-6f);
    ck_assert_float_eq_tol(b[1], 0.0f, 1e-6f);
    float inv[] = {4, 2, 2, 3};
    ck_assert_int_eq(recnn__spd_inverse(2, inv), RECNN_OK);
    /* inverse = 1/8 [[3,-2],[-2,4]] */
    ck_assert_float_eq_tol(inv[0], 0.375f, 1e-6f);
    ck_assert_float_eq_tol(inv[1], -0.25f, 1e-6f);
    ck_assert_float_eq_tol(inv[2], -0.25f, 1e-6f);
    ck_assert_float_eq_tol(inv[3], 0.5f, 1e-6f);
    float bad[] = {1, 2, 2, 1}, rhs[] = {1, 1};
    ck_assert_int_eq(recnn__posv(2, 1, bad, rhs), RECNN_E_NUMERIC);
    float bad2[] = {1, 2, 2, 1};
    ck_assert_int_eq(recnn__spd_inverse(2, bad2), RECNN_E_NUMERIC);
    float nan2[] = {4, 2, 2, NAN};
    ck_assert_int_eq(recnn__spd_inverse(2, nan2), RECNN_E_NUMERIC);
    /* a larger, unsymmetric-looking fill: A = B B^T + n I; A inv(A) = I
     * (and the result is symmetric: both triangles written) */
    enum { N = 37 };
    static float B[N * N], A[N * N], Ai[N * N];
    recnn_rng r;
    recnn__rng_seed(&r, 5);
    for (int i = 0; i < N * N; i++)
        B[i] = recnn__rng_uniformf(&r) - 0.5f;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double acc = i == j ? N : 0;
            for (int k = 0; k < N; k++)
                acc += (double)B[i * N + k] * B[j * N + k];
            A[i * N + j] = Ai[i * N + j] = (float)acc;
        }
    ck_assert_int_eq(recnn__spd_inverse(N, Ai), RECNN_OK);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < N; k++)
                acc += (double)A[i * N + k] * Ai[k * N + j];
            ck_assert_double_eq_tol(acc, i == j ? 1.0 : 0.0, 1e-4);
            ck_assert_float_eq(Ai[i * N + j], Ai[j * N + i]);
        }
}
END_TEST

START_TEST(test_crc32c)
{
    /* the standard check value of CRC-32C */
    ck_assert_uint_eq(recnn__crc32c(0, "123456789", 9), 0xe3069283u);
    uint32_t c = recnn__crc32c(0, "1234", 4);
    ck_assert_uint_eq(recnn__crc32c(c, "56789", 5), 0xe3069283u);
    ck_assert_uint_eq(recnn__crc32c(0, "", 0), 0);
}
END_TEST

extern int openblas_get_num_threads(void) __attribute__((weak));

START_TEST(test_threads)
{
    /* the default budget is BLAS's count from the first use on (a later
     * restore used to switch OpenBLAS to it in mid-process) */
    int def = recnn_get_num_threads();
    ck_assert_int_ge(def, 1);
    if (openblas_get_num_threads)
        ck_assert_int_eq(openblas_get_num_threads(), def);
    /* a budget the machine cannot run is refused and changes nothing (it
     * was accepted; 100000 then crashed libgomp, INT_MAX made it exit) */
    ck_assert_int_eq(recnn_set_num_threads(RECNN_MAX_THREADS + 1), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_set_num_threads(INT_MAX), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_get_num_threads(), def);
    ck_assert_int_eq(recnn_set_num_threads(1), RECNN_OK);
    ck_assert_int_eq(recnn_get_num_threads(), 1);
    ck_assert_int_eq(recnn_set_num_threads(0), RECNN_OK);
    ck_assert_int_eq(recnn_get_num_threads(), def);
    ck_assert_ptr_nonnull(recnn_blas_info());
    ck_assert_int_gt((int)strlen(recnn_blas_info()), 0);
    /* a loop cap narrows this thread's OpenMP loops, not the budget */
    ck_assert_int_eq(recnn_set_num_threads(2), RECNN_OK);
    ck_assert_int_eq(recnn__threads(), 2);
    int old = recnn__loop_cap(1);
    ck_assert_int_eq(old, 0);
    ck_assert_int_eq(recnn__threads(), 1);
    ck_assert_int_eq(recnn__budget(), 2);
    ck_assert_int_eq(recnn_get_num_threads(), 2);
    ck_assert_int_eq(recnn__loop_cap(old), 1);
    ck_assert_int_eq(recnn__threads(), 2);
    ck_assert_int_eq(recnn_set_num_threads(0), RECNN_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_status_strings);
    tcase_add_test(t, test_last_error);
    tcase_add_test(t, test_version);
    tcase_add_test(t, test_alloc);
    tcase_add_test(t, test_rng_determinism_and_streams);
    tcase_add_test(t, test_rng_distributions);
    tcase_add_test(t, test_shuffle_is_permutation);
    tcase_add_test(t, test_topk);
    tcase_add_test(t, test_topk_matches_sort);
    tcase_add_test(t, test_gemm_gemv);
    tcase_add_test(t, test_lapack);
    tcase_add_test(t, test_crc32c);
    tcase_add_test(t, test_threads);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
