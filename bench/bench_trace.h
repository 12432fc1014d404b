/* Per-epoch timing shared by the model benchmarks: a progress callback that
 * records epoch seconds and the best validation epoch, and the median
 * epoch time. Header-only (each bench is one translation unit). */
#ifndef RECNN_BENCH_TRACE_H
#define RECNN_BENCH_TRACE_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recnn.h"

#define TRACE_MAX 4096

typedef struct trace {
    int n;
    double secs[TRACE_MAX];
    int best_epoch;
    double best_valid;
    int verbose;
} trace;

static int on_epoch(const recnn_progress *p, void *ud)
{
    trace *t = ud;
    /* the training pass alone when the model times it (as the peers do:
     * their epoch time excludes validation) */
    if (t->n < TRACE_MAX)
        t->secs[t->n] = p->size >= offsetof(recnn_progress, train_seconds) + sizeof(double)
                            ? p->train_seconds
                            : p->seconds;
    t->n++;
    if (p->improved) {
        t->best_epoch = p->epoch;
        t->best_valid = p->valid_metric;
    }
    if (t->verbose)
        fprintf(stderr, "  epoch %d loss %.4f valid %.4f %.3f s\n", p->epoch, p->train_loss,
                p->valid_metric, p->seconds);
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (NaN when empty; v is reordered). */
static inline double median_of(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median epoch time, the first epoch (warm-up) excluded when there are
 * others. */
static inline double median_epoch(const trace *t)
{
    int n = t->n < TRACE_MAX ? t->n : TRACE_MAX, first = n > 1 ? 1 : 0;
    double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!v)
        return NAN;
    memcpy(v, t->secs + first, sizeof(double) * (size_t)(n - first));
    double m = median_of(v, n - first);
    free(v);
    return m;
}

/* The harness's contract (docs/PERFORMANCE.md §5), read once for every
 * bench: RECNN_THREADS, RECNN_BENCH_SEED and RECNN_BENCH_SCALE from the
 * environment, then --threads N, --seed S and --scale from the arguments
 * (bench-specific options are the caller's). */
typedef struct bench_opts {
    int threads; /* 0: the library's default */
    int scale;
    uint64_t seed; /* default 42 */
} bench_opts;

static inline void bench_opts_env(bench_opts *o)
{
    const char *env;
    o->threads = 0;
    o->scale = 0;
    o->seed = 42;
    if ((env = getenv("RECNN_THREADS")) != NULL && *env)
        o->threads = atoi(env);
    if ((env = getenv("RECNN_BENCH_SEED")) != NULL && *env)
        o->seed = strtoull(env, NULL, 10);
    if ((env = getenv("RECNN_BENCH_SCALE")) != NULL && *env && strcmp(env, "0") != 0)
        o->scale = 1;
}

/* Takes argv[*a] (and its value, advancing *a) when it is one of the
 * common options; returns 0 otherwise. */
static inline int bench_opts_arg(bench_opts *o, int argc, char **argv, int *a)
{
    if (!strcmp(argv[*a], "--threads") && *a + 1 < argc)
        o->threads = atoi(argv[++*a]);
    else if (!strcmp(argv[*a], "--seed") && *a + 1 < argc)
        o->seed = strtoull(argv[++*a], NULL, 10);
    else if (!strcmp(argv[*a], "--scale"))
        o->scale = 1;
    else
        return 0;
    return 1;
}

/* The split, for the PyTorch peer to train on the same ratings:
 * "user item rating train|valid|test" lines (external ids) in the temp
 * directory (derived from the data: never under the source tree).  The
 * ML-100K benchmarks split with the same options and seed, so they write
 * the same file; the harness gives it to the matching peers (--split). */
static inline void bench_split_path(uint64_t seed, char *buf, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, n, "%s/recnn-bench-split-ml100k-seed%llu.txt", tmp && *tmp ? tmp : "/tmp",
             (unsigned long long)seed);
}

static inline void bench_write_part(FILE *f, const recnn_dataset *d, const char *part)
{
    const int32_t *u, *i;
    const float *v;
    const int64_t *tm;
    if (recnn_dataset_triplets(d, &u, &i, &v, &tm))
        return;
    for (int64_t k = 0; k < recnn_dataset_n_ratings(d); k++) {
        int64_t uid = 0, iid = 0;
        recnn_dataset_user_id(d, u[k], &uid);
        recnn_dataset_item_id(d, i[k], &iid);
        fprintf(f, "%lld %lld %g %s\n", (long long)uid, (long long)iid, (double)v[k], part);
    }
}

static inline void bench_write_split(uint64_t seed, const recnn_dataset *train,
                                     const recnn_dataset *valid, const recnn_dataset *test)
{
    char path[512], tmp[560];
    bench_split_path(seed, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    bench_write_part(f, train, "train");
    bench_write_part(f, valid, "valid");
    bench_write_part(f, test, "test");
    if (fclose(f) == 0)
        rename(tmp, path);
    else
        remove(tmp);
}

#endif
