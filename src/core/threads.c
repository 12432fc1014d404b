#include "core.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* OpenBLAS's controls, declared weak so the library also links against a
 * reference CBLAS that lacks them. */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_parallel(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

static int budget; /* 0: not chosen yet */

static int default_threads(void)
{
    int n = omp_get_max_threads();
    n = n > 0 ? n : 1;
    return n < RECNN_MAX_THREADS ? n : RECNN_MAX_THREADS;
}

/* > 0: the OpenMP loops this thread opens use at most this many threads
 * (recnn__loop_cap) */
static _Thread_local int loop_cap;

static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* The default budget, given to BLAS too when it is first chosen: BLAS
 * calls and the restores after them then see one count from the start
 * (before, a first restore switched OpenBLAS from its own count to the
 * budget in mid-process, and a BLAS-threaded result changed with it). */
static void default_budget(void)
{
    if (budget <= 0) {
        budget = default_threads();
        recnn__blas_threads(budget);
    }
}

int recnn__budget(void)
{
    if (budget <= 0)
        pthread_once(&default_once, default_budget);
    return budget;
}

int recnn__threads(void)
{
    int b = recnn__budget();
    return loop_cap > 0 && loop_cap < b ? loop_cap : b;
}

int recnn__loop_cap(int n)
{
    int old = loop_cap;
    loop_cap = n;
    return old;
}

void recnn__blas_threads(int n)
{
    if (openblas_set_num_threads)
        openblas_set_num_threads(n < 1 ? 1 : n);
}

RECNN_API int recnn_set_num_threads(int n)
{
    if (n > RECNN_MAX_THREADS)
        return recnn__fail(RECNN_E_INVALID, "%d threads: more than the %d a budget may have",
                           n, RECNN_MAX_THREADS);
    budget = n > 0 ? n : default_threads();
    recnn__blas_threads(budget);
    return RECNN_OK;
}

RECNN_API int recnn_get_num_threads(void) { return recnn__budget(); }

int64_t recnn__l2_bytes(void)
{
    static _Atomic int64_t cached; /* 0: not asked yet */
    int64_t b = cached;
    if (b > 0)
        return b;
#ifdef _SC_LEVEL2_CACHE_SIZE
    long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    b = v > 0 ? (int64_t)v : 0;
#endif
    /* unknown or implausible: a common per-core L2 */
    if (b < 256 * 1024 || b > 8 * 1024 * 1024)
        b = 512 * 1024;
    cached = b;
    return b;
}

RECNN_API const char *recnn_blas_info(void)
{
    static char info[256];
    if (openblas_get_config) {
        const char *par = "";
        if (openblas_get_parallel)
            par = openblas_get_parallel() == 2   ? " (OpenMP)"
                  : openblas_get_parallel() == 1 ? " (pthreads)"
                                                 : " (sequential)";
        snprintf(info, sizeof info, "%s; core %s%s", openblas_get_config(),
                 openblas_get_corename ? openblas_get_corename() : "?", par);
    } else {
        snprintf(info, sizeof info, "CBLAS (not OpenBLAS)");
    }
    return info;
}
