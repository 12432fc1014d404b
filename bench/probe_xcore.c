/* probe_xcore — how far apart the machine's first two cores are right now.
 *
 * Thread 1 reads a 2 MiB buffer (a) that it wrote itself and (b) that
 * thread 0 has just written.  (b) pulls every line from the other core's
 * caches, so b / a is ~1 when the two cores share an L3 and ~3 when they
 * sit on different dies or sockets.  On this project's virtual machines
 * the hypervisor moves the two vCPUs between those placements every few
 * seconds to minutes, and the sparse multi-thread passes run ~1.6x slower
 * in the far one (docs/PERFORMANCE.md section 2), so the bench harness runs
 * this probe around every multi-thread run and the report shows the
 * placement next to the figure.
 *
 * Prints one JSON line: {"probe":"xcore","own_read_us":..,
 * "remote_read_us":..,"ratio":..}; ratio is null with fewer than two
 * cores.  Takes ~10 ms. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (1 << 19) /* floats: 2 MiB */
#define REPS 15

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
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
        printf("{\"probe\":\"xcore\",\"ratio\":null,\"note\":\"fewer than two cores\"}\n");
        return 0;
    }
    qsort(own, REPS, sizeof *own, cmp);
    qsort(far, REPS, sizeof *far, cmp);
    const double a = own[REPS / 2], b = far[REPS / 2];
    printf("{\"probe\":\"xcore\",\"own_read_us\":%.1f,\"remote_read_us\":%.1f,"
           "\"ratio\":%.2f}\n",
           a * 1e6, b * 1e6, a > 0 ? b / a : 0.0);
    return 0;
}
