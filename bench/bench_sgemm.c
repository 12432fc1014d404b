/* bench_sgemm — the physical limit: bare cblas_sgemm GFLOP/s for the
 * shapes the models use, at the thread budget given by --threads N (set
 * through recnn_set_num_threads, which hands the budget to OpenBLAS).
 *
 * Prints JSON lines (docs/PERFORMANCE.md, "Benchmark JSON convention"):
 *   {"bench":"bench_sgemm","machine":{...}}                  once
 *   {"bench":"bench_sgemm","model":"sgemm","data":"dense","variant":"",
 *    "metric":"gflops","shape":"MxNxK","value":..,"unit":"GFLOP/s",...}
 * C (M×N) = A (M×K) · B (K×N), row-major, no transposes, beta = 0.  Each
 * shape is timed over repeated calls for at least ~0.25 s after a warm-up
 * call; the figure is the best of 3 such rounds (the least disturbed by
 * other processes on a shared machine).  2·M·N·K flops per call.
 *
 * Usage: bench_sgemm [--threads N] [--seed S] [--scale] [--quick]
 *                    [--shape MxNxK]   (time only that shape)
 * or env RECNN_THREADS / RECNN_BENCH_SEED (what bench/harness.py sets).
 * --scale / RECNN_BENCH_SCALE=1 (make bench-scale): prints a skip line, as
 * the convention asks of a bench without a scale part (the normal run
 * already measures the limit). */
#include <recnn.h>

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct shape {
    int m, n, k;
    const char *use;
};

/* The dense products of the models (M×N×K, C is M×N). */
static const struct shape shapes[] = {
    {943, 1682, 500, "U-AutoRec-like: 943 rows x 1682 outputs, k=500 (dense)"},
    {1682, 943, 500, "I-AutoRec decoder, dense: 1682 items x 943 users, k=500"},
    {1682, 500, 943, "I-AutoRec encoder, dense: 1682 items x 500 hidden, 943 users"},
    {500, 943, 1682, "I-AutoRec weight gradient: 500 x 943 over 1682 items"},
    {256, 64, 32, "NCF MLP layer, batch 256"},
    {32, 17770, 512, "deep AE output layer, Netflix items, batch 32"},
    {17770, 512, 32, "deep AE output-layer weight gradient, batch 32"},
    {32, 256, 128, "deep AE dense layer 128->256, batch 32"},
    {32, 256, 256, "deep AE dense layer 256->256, batch 32"},
    {32, 128, 256, "deep AE dense layer 256->128, batch 32"},
    {32, 512, 17770, "deep AE Netflix-size dense input layer 17770->512, batch 32"},
    {256, 8, 16, "NeuMF MLP layer 16->8, batch 256"},
    {256, 4, 8, "NeuMF MLP layer 8->4, batch 256"},
    {256, 16, 32, "NeuMF default MLP layer 32->16, batch 256"},
    {256, 32, 64, "NCF MLP layer 64->32 (layers=64,32,16,8), batch 256"},
    {256, 1, 20, "NeuMF output layer 20->1, batch 256"},
    {943, 500, 1682, "U-AutoRec-shaped dense encoder 1682->500, batch 943"},
    {1682, 1682, 943, "EASE Gram X^T X on ML-100K (dense equivalent)"},
    {1682, 1682, 1682, "EASE inverse reference, n = 1682"},
};

static unsigned long long lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

int main(int argc, char **argv)
{
    int threads = 0, quick = 0, scale = 0;
    struct shape custom = {0, 0, 0, "given by --shape"};
    unsigned long long seed = 42;
    const char *env = getenv("RECNN_THREADS");
    if (env)
        threads = atoi(env);
    if ((env = getenv("RECNN_BENCH_SEED")) != NULL)
        seed = strtoull(env, NULL, 10);
    if ((env = getenv("RECNN_BENCH_SCALE")) != NULL && *env && strcmp(env, "0"))
        scale = 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            threads = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--quick"))
            quick = 1;
        else if (!strcmp(argv[a], "--scale"))
            scale = 1;
        else if (!strcmp(argv[a], "--shape") && a + 1 < argc) {
            if (sscanf(argv[++a], "%dx%dx%d", &custom.m, &custom.n, &custom.k) != 3 ||
                custom.m < 1 || custom.n < 1 || custom.k < 1) {
                fprintf(stderr, "bench_sgemm: --shape wants MxNxK, e.g. 943x1682x500\n");
                return 2;
            }
        }
        /* anything else is ignored, as the convention says */
    }
    recnn_set_num_threads(threads);
    threads = recnn_get_num_threads();

    printf("{\"bench\":\"bench_sgemm\",\"threads\":%d,\"machine\":{\"blas\":\"%s\","
           "\"recnn_version\":\"%s\"}}\n",
           threads, recnn_blas_info(), recnn_version());
    if (scale) {
        printf("{\"bench\":\"bench_sgemm\",\"skip\":\"no scale part (the limit is "
               "measured by make bench)\"}\n");
        return 0;
    }
    fflush(stdout);

    const double min_time = quick ? 0.05 : 0.25;
    size_t n_shapes = custom.m ? 1 : sizeof shapes / sizeof shapes[0];
    for (size_t s = 0; s < n_shapes; s++) {
        const struct shape *sh = custom.m ? &custom : &shapes[s];
        size_t na = (size_t)sh->m * (size_t)sh->k, nb = (size_t)sh->k * (size_t)sh->n,
               nc = (size_t)sh->m * (size_t)sh->n;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B),
              *C = malloc(nc * sizeof *C);
        if (!A || !B || !C) {
            fprintf(stderr, "bench_sgemm: out of memory\n");
            free(A), free(B), free(C);
            return 1;
        }
        unsigned long long st = seed + s;
        for (size_t i = 0; i < na; i++)
            A[i] = (float)lcg(&st) / 2147483648.0f - 0.5f;
        for (size_t i = 0; i < nb; i++)
            B[i] = (float)lcg(&st) / 2147483648.0f - 0.5f;
        double flops = 2.0 * sh->m * (double)sh->n * sh->k, best = 0;
        long total_calls = 0;
        /* warm-up (thread pool start, page faults) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sh->m, sh->n, sh->k, 1.0f, A,
                    sh->k, B, sh->n, 0.0f, C, sh->n);
        for (int round = 0; round < 3; round++) {
            long calls = 0;
            double t0 = now(), t;
            do {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sh->m, sh->n, sh->k,
                            1.0f, A, sh->k, B, sh->n, 0.0f, C, sh->n);
                calls++;
                t = now() - t0;
            } while (t < min_time / 3);
            double g = flops * (double)calls / t / 1e9;
            if (g > best)
                best = g;
            total_calls += calls;
        }
        printf("{\"bench\":\"bench_sgemm\",\"model\":\"sgemm\",\"data\":\"dense\","
               "\"variant\":\"\",\"metric\":\"gflops\",\"shape\":\"%dx%dx%d\","
               "\"value\":%.3f,\"unit\":\"GFLOP/s\",\"threads\":%d,\"calls\":%ld,"
               "\"note\":\"%s\"}\n",
               sh->m, sh->n, sh->k, best, threads, total_calls, sh->use);
        fflush(stdout);
        free(A), free(B), free(C);
    }
    return 0;
}
