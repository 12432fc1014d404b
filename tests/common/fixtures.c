#include "common/fixtures.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/dataset.h"

int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void test_tmpdir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/recnn_%s_XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(buf));
}

void test_rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

const char *test_file(const char *dir, const char *name, const char *text, long n)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    size_t len = n < 0 ? strlen(text) : (size_t)n;
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return p;
}

int test_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

int test_quick(void)
{
    const char *q = getenv("RECNN_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

recnn_dataset *test_planted(int nu, int ni, int rank, double density, double noise,
                            uint64_t seed)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    double *U = malloc(sizeof(double) * (size_t)(nu * rank));
    double *V = malloc(sizeof(double) * (size_t)(ni * rank));
    size_t cap = (size_t)nu * (size_t)ni, n = 0;
    int64_t *us = malloc(cap * sizeof *us), *is = malloc(cap * sizeof *is);
    float *vs = malloc(cap * sizeof *vs);
    ck_assert(U && V && us && is && vs);
    for (int k = 0; k < nu * rank; k++)
        U[k] = recnn__rng_normal(&r);
    for (int k = 0; k < ni * rank; k++)
        V[k] = recnn__rng_normal(&r);
    for (int u = 0; u < nu; u++)
        for (int i = 0; i < ni; i++) {
            if (recnn__rng_uniform(&r) >= density)
                continue;
            double z = 0;
            for (int f = 0; f < rank; f++)
                z += U[u * rank + f] * V[i * rank + f];
            double v = 3 + 1.5 * z / sqrt((double)rank) + noise * recnn__rng_normal(&r);
            us[n] = u + 1;
            is[n] = i + 1;
            vs[n] = (float)(v < 1 ? 1 : v > 5 ? 5 : v);
            n++;
        }
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, n, us, is, vs, NULL, 1, 5,
                                               RECNN_DUP_ERROR),
                     RECNN_OK);
    free(U);
    free(V);
    free(us);
    free(is);
    free(vs);
    return d;
}

void test_split(const recnn_dataset *d, uint64_t seed, recnn_dataset **train,
                recnn_dataset **test)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    uint8_t *keep = malloc((size_t)d->n_ratings);
    ck_assert(keep);
    for (int64_t k = 0; k < d->n_ratings; k++)
        keep[k] = recnn__rng_uniform(&r) >= 0.1;
    *train = recnn__dataset_subset(d, keep);
    for (int64_t k = 0; k < d->n_ratings; k++)
        keep[k] = !keep[k];
    *test = recnn__dataset_subset(d, keep);
    ck_assert(*train && *test);
    free(keep);
}
