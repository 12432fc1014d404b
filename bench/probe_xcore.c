/* probe_xcore — how far apart the machine's first two cores are right now.
 *
 * Thread 1 reads a 2 MiB buffer (a) that it wrote itself and (b) that
 * thread 0 has just written.  (b) pulls every line from the other core's
 * caches, so b / a is ~1 when the two cores share an L3 and ~3 when they
 * sit on different dies or sockets.  On this project's virtual machines
 * the hypervisor moves the two vCPUs between those placements every few
 * seconds, and the library's 2-thread passes run ~1.6x (full batch) to
 * ~3.5x (mini-batch Adam) slower in the far one (docs/PERFORMANCE.md
 * section 2), so the bench harness runs
 * this probe around every multi-thread run and the report shows the
 * placement next to the figure.
 *
 * It also times a register-only multiply-add loop on the main thread, alone
 * (fastest of 3, before any OpenMP team exists) and while a second thread
 * runs the same loop (median of 3): "shared" = together / alone is ~1 on
 * two physical cores and up to ~2 when the hypervisor has put both vCPUs
 * on one core (SMT siblings, or time slices of one: 1.8-2.05 with both
 * threads pinned to one vCPU), where compute-bound threads share one
 * core's pipes.
 *
 * Prints one JSON line: {"probe":"xcore","own_read_us":..,
 * "remote_read_us":..,"ratio":..,"compute_alone_ms":..,
 * "compute_together_ms":..,"shared":..}; ratio and shared are null with
 * fewer than two cores.  Takes ~110 ms. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (1 << 19) /* floats: 2 MiB */
#define REPS 15

/* A few ms of multiply-adds in 12 independent SSE vectors, registers
 * only (the factors are read through volatile so the loop cannot be
 * folded): 24 operations in flight against a 6-cycle multiply-then-add
 * latency keep the core's multiply and add pipes busy, and a loop that
 * saturates them is what slows down when an SMT sibling runs it too.
 * (The first version had two vectors: latency-bound, it ran at full speed
 * on SMT siblings and saw only time-sliced vCPUs.) */
typedef float v4f __attribute__((vector_size(16))); /* SSE / NEON width, any target */

static double compute_ms(void)
{
    volatile float vm = 0.9999999f, vc = 1e-7f;
    const v4f m = {vm, vm, vm, vm}, c = {vc, vc, vc, vc};
    v4f a[12];
    for (int k = 0; k < 12; k++)
        a[k] = (v4f){1.0f, 1.0f, 1.0f, 1.0f} + 0.01f * (float)k;
    double t0 = omp_get_wtime();
    for (long i = 0; i < 8000000; i++) { /* ~15 ms: longer than a time slice */
#pragma GCC unroll 12 /* fully: the 12 vectors stay in registers */
        for (int k = 0; k < 12; k++)
            a[k] = a[k] * m + c;
    }
    v4f s = a[0];
    for (int k = 1; k < 12; k++)
        s += a[k];
    volatile float sink = s[0] + s[1] + s[2] + s[3];
    (void)sink;
    return (omp_get_wtime() - t0) * 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    /* the multiply-add loop alone first, before any OpenMP team exists (a
     * waiting worker could spin on the same core), then on both threads */
    double alone[3], together[3] = {0};
    for (int r = 0; r < 3; r++)
        alone[r] = compute_ms();
#pragma omp parallel num_threads(2)
    {
        for (int r = 0; r < 3; r++) {
#pragma omp barrier
            double t = compute_ms();
            if (omp_get_thread_num() == 0)
                together[r] = t;
        }
    }
    float *x = malloc(N * sizeof *x);
    if (!x) {
        printf("{\"probe\":\"xcore\",\"error\":\"out of memory\"}\n");
        return 0;
    }
    memset(x, 0, N * sizeof *x);
    double own[REPS], far[REPS];
    volatile float sink = 0;
    int team = 0;
#pragma omp parallel num_threads(2)
    {
        const int me = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        for (int r = 0; r < REPS && team == 2; r++) {
            for (int remote = 0; remote < 2; remote++) {
                if (me == (remote ? 0 : 1))
                    for (int i = 0; i < N; i += 16)
                        x[i] += 1.0f;
#pragma omp barrier
                if (me == 1) {
                    double t0 = omp_get_wtime();
                    float s = 0;
                    for (int i = 0; i < N; i += 16)
                        s += x[i];
                    sink += s;
                    (remote ? far : own)[r] = omp_get_wtime() - t0;
                }
#pragma omp barrier
            }
        }
    }
    (void)sink;
    free(x);
    if (team != 2) {
        printf("{\"probe\":\"xcore\",\"ratio\":null,\"shared\":null,"
               "\"note\":\"fewer than two cores\"}\n");
        return 0;
    }
    qsort(own, REPS, sizeof *own, cmp);
    qsort(far, REPS, sizeof *far, cmp);
    const double a = own[REPS / 2], b = far[REPS / 2];
    qsort(alone, 3, sizeof *alone, cmp);
    qsort(together, 3, sizeof *together, cmp);
    printf("{\"probe\":\"xcore\",\"own_read_us\":%.1f,\"remote_read_us\":%.1f,"
           "\"ratio\":%.2f,\"compute_alone_ms\":%.2f,\"compute_together_ms\":%.2f,"
           "\"shared\":%.2f}\n",
           a * 1e6, b * 1e6, a > 0 ? b / a : 0.0, alone[0], together[1],
           alone[0] > 0 ? together[1] / alone[0] : 0.0);
    return 0;
}
