/* bench_scale_mf — matrix factorisation at Netflix size (issue 9 point 5,
 * `make bench-scale`).  JSON lines on stdout (docs/PERFORMANCE.md §5).
 *
 * Data: the library's synthetic generator at the Netflix prize's size,
 * 480,189 users x 17,770 items, 100,000,000 ratings (planted rank-10
 * preferences, power-law activity and popularity, whole stars 1..5;
 * data name "synthetic-netflix").  Its "load_seconds" is the generation
 * into memory; the load of the same size from a Netflix-format text file
 * is bench_data's figure under make bench-scale.
 * Models (library defaults unless said; all 100M ratings are training
 * data, no validation set):
 *   variant "sgd": biased MF, 100 factors, block-parallel SGD, 2 epochs;
 *   variant "als": biased MF, 100 factors, ALS, 1 sweep (skipped with
 *   --no-als).
 * Figures per variant: epoch_seconds (median of the epochs after the
 * first, which includes warm-up; the only epoch when there is one), ratings_per_second, fit_seconds, load_seconds, peak_rss_mib
 * (the process's peak after the fit: data + model + scratch), data_rss_mib
 * (resident after generation).  No checksums: a determinism rerun would
 * double a run of minutes (bench_mf checks MF's determinism on 10M).
 *
 * Without RECNN_BENCH_SCALE / --scale the program prints one skip line and
 * exits (it has no normal-size part; bench_mf covers that).
 *
 *   bench_scale_mf [--threads N] [--seed S] [--scale] [--ratings N]
 *                  [--users N] [--epochs N] [--no-als]
 * (--ratings/--users: a smaller run for trying it out; the data name then
 * says the size.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"
#include "recnn.h"

#include "bench_trace.h"

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* VmRSS of this process in MiB (resident now, not the peak). */
static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    double v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            v = atof(line + 6) / 1024.0;
            break;
        }
    fclose(f);
    return v;
}

static void run(const char *data, const recnn_dataset *d, double load_s, double data_rss,
                const char *variant, const char *settings, int epochs, uint64_t seed)
{
    recnn_model *m = NULL;
    char set[512];
    snprintf(set, sizeof set, "%s epochs=%d patience=0 seed=%llu", settings, epochs,
             (unsigned long long)seed);
    int st = recnn_model_create(&m, "mf");
    if (!st)
        st = recnn_model_configure(m, set);
    if (st) {
        printf("{\"bench\":\"bench_scale_mf\",\"error\":\"mf %s: %s\"}\n", set,
               recnn_last_error());
        recnn_model_free(m);
        return;
    }
    trace *t = calloc(1, sizeof *t);
    t->verbose = 1;
    recnn_model_set_progress(m, on_epoch, t);
    fprintf(stderr, "bench_scale_mf: fitting mf (%s) ...\n", set);
    double t0 = recnn__now();
    st = recnn_model_fit(m, d, NULL);
    double fit_s = recnn__now() - t0;
    if (st) {
        printf("{\"bench\":\"bench_scale_mf\",\"error\":\"mf fit (%s): %s\"}\n", variant,
               recnn_last_error());
    } else if (t->n > 0) {
        double last = median_epoch(t); /* epochs after the first (all when one) */
        double n = (double)recnn_dataset_n_ratings(d);
        printf("{\"bench\":\"bench_scale_mf\",\"model\":\"mf\",\"data\":\"%s\","
               "\"variant\":\"%s\",\"epoch_seconds\":%.3f,\"ratings_per_second\":%.0f,"
               "\"fit_seconds\":%.3f,\"load_seconds\":%.3f,\"peak_rss_mib\":%.0f,"
               "\"data_rss_mib\":%.0f,\"epochs\":%d,\"users\":%lld,\"items\":%lld,"
               "\"ratings\":%lld,\"threads\":%d,\"settings\":\"%s\",\"note\":\"epoch_seconds "
               "= median of the epochs after the first (the only one for ALS); load_seconds = synthetic generation in memory; no "
               "validation set\"}\n",
               data, variant, last, n / last, fit_s, load_s, peak_rss_mib(), data_rss, t->n,
               (long long)recnn_dataset_n_users(d), (long long)recnn_dataset_n_items(d),
               (long long)recnn_dataset_n_ratings(d), recnn_get_num_threads(), set);
    }
    fflush(stdout);
    free(t);
    recnn_model_free(m);
}

int main(int argc, char **argv)
{
    int epochs = 2, als = 1;
    int64_t n_ratings = 100000000, n_users = 480189, n_items = 17770;
    bench_opts o;
    bench_opts_env(&o);
    for (int a = 1; a < argc; a++) {
        if (bench_opts_arg(&o, argc, argv, &a))
            continue;
        if (!strcmp(argv[a], "--ratings") && a + 1 < argc)
            n_ratings = atoll(argv[++a]), o.scale = 1;
        else if (!strcmp(argv[a], "--users") && a + 1 < argc)
            n_users = atoll(argv[++a]);
        else if (!strcmp(argv[a], "--epochs") && a + 1 < argc)
            epochs = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--no-als"))
            als = 0;
        /* anything else is ignored (harness convention) */
    }
    int threads = o.threads, scale = o.scale;
    uint64_t seed = o.seed;
    if (!scale) {
        printf("{\"bench\":\"bench_scale_mf\",\"skip\":\"scale only (make bench-scale); "
               "bench_mf measures MF at normal size\"}\n");
        return 0;
    }
    if (threads > 0)
        recnn_set_num_threads(threads);
    if (epochs < 1)
        epochs = 1;
    char data[64];
    if (n_ratings == 100000000 && n_users == 480189)
        snprintf(data, sizeof data, "synthetic-netflix");
    else
        snprintf(data, sizeof data, "synthetic-%lldx%lld-%lld", (long long)n_users,
                 (long long)n_items, (long long)n_ratings);

    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = n_users;
    so.n_items = n_items;
    so.n_ratings = n_ratings;
    so.n_genres = 0;
    so.seed = seed;
    fprintf(stderr, "bench_scale_mf: generating %s, %d threads ...\n", data,
            recnn_get_num_threads());
    double t0 = recnn__now();
    recnn_dataset *d = NULL;
    if (recnn_dataset_synthetic(&d, &so)) {
        printf("{\"bench\":\"bench_scale_mf\",\"error\":\"synthetic data: %s\"}\n",
               recnn_last_error());
        return 1;
    }
    double load_s = recnn__now() - t0, data_rss = rss_mib();
    fprintf(stderr, "bench_scale_mf: %lld ratings in %.1f s, RSS %.0f MiB\n",
            (long long)recnn_dataset_n_ratings(d), load_s, data_rss);
    run(data, d, load_s, data_rss, "sgd", "solver=sgd factors=100", epochs, seed);
    if (als)
        run(data, d, load_s, data_rss, "als", "solver=als factors=100", 1, seed);
    recnn_dataset_free(d);
    return 0;
}
