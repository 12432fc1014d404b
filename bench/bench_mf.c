/* bench_mf: speed and accuracy of matrix factorisation and item-KNN.
 *
 *   bench_mf [all|speed|knn|accuracy|tune] [key=value ...]
 *
 * Prints one JSON object per line on stdout:
 *   - MF-SGD epoch throughput (ratings per second, and per second per core)
 *     on ML-100K and on a 10M-rating synthetic set with a planted low-rank
 *     structure, at 1 thread and at the full thread budget;
 *   - item-KNN similarity time on ml-latest-small;
 *   - test RMSE of biased MF (default settings) averaged over 5 random 90/10
 *     splits of ML-100K and of ml-latest-small;
 *   - "tune": validation RMSE (10 % of the training part of split 0 — never
 *     the test part) for the given settings, used to choose the defaults.
 * Data from ${RECNN_DATA_DIR:-../shared/datasets}; missing files are
 * reported as {"skipped": ...}.  Extra key=value arguments are passed to the
 * model (tune/accuracy).  RECNN_BENCH_SYNTH_N overrides the synthetic size. */
#include "data/dataset.h"
#include "models/model.h"

#include <math.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir(void)
{
    const char *d = getenv("RECNN_DATA_DIR");
    return d && *d ? d : "../shared/datasets";
}

static recnn_dataset *load_named(const char *name)
{
    char path[1024];
    recnn_dataset *d = NULL;
    if (strcmp(name, "ml-100k") == 0)
        snprintf(path, sizeof path, "%s/ml-100k/u.data", data_dir());
    else
        snprintf(path, sizeof path, "%s/ml-latest-small/ratings.csv", data_dir());
    if (recnn_dataset_load(&d, path, RECNN_FORMAT_AUTO, NULL) != RECNN_OK)
        return NULL;
    return d;
}

/* Random global split (recnn_split_random): a fraction `frac` of the
 * ratings to *b, the rest to *a, one index space.  Deterministic in seed. */
static int split(const recnn_dataset *d, uint64_t seed, double frac, recnn_dataset **a,
                 recnn_dataset **b)
{
    recnn_split_options o;
    recnn_split_options_init(&o);
    o.seed = seed;
    o.test_fraction = frac;
    return recnn_split_random(d, &o, a, NULL, b) == RECNN_OK ? 0 : -1;
}

static recnn_model *make_model(const char *kind, const char *settings)
{
    recnn_model *m = NULL;
    if (recnn_model_create(&m, kind) != RECNN_OK)
        return NULL;
    if (settings && *settings && recnn_model_configure(m, settings) != RECNN_OK) {
        fprintf(stderr, "configure: %s\n", recnn_last_error());
        recnn_model_free(m);
        return NULL;
    }
    return m;
}

/* ---- speed --------------------------------------------------------------- */

/* The library's generator: planted rank-10 preferences with biases,
 * power-law activity and popularity, whole-star ratings 1..5. */
static recnn_dataset *synthetic(int64_t n_users, int64_t n_items, int64_t n, int rank,
                                uint64_t seed)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = n_users;
    o.n_items = n_items;
    o.n_ratings = n;
    o.rank = rank;
    o.n_genres = 0;
    o.seed = seed;
    recnn_dataset *d = NULL;
    if (recnn_dataset_synthetic(&d, &o) != RECNN_OK) {
        fprintf(stderr, "synthetic: %s\n", recnn_last_error());
        return NULL;
    }
    return d;
}

/* CPU seconds of this process (all threads). */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Sums the wall time of the epochs themselves (fit minus set-up). */
static int add_epoch_seconds(const recnn_progress *p, void *ud)
{
    *(double *)ud += p->seconds;
    return 0;
}

static void speed_one(const char *name, const recnn_dataset *d, int threads, int epochs,
                      int factors)
{
    recnn_set_num_threads(threads);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "solver=sgd epochs=%d factors=%d patience=0", epochs,
             factors);
    recnn_model *m = make_model("mf", cfg);
    if (!m)
        return;
    double ep_sec = 0;
    recnn_model_set_progress(m, add_epoch_seconds, &ep_sec);
    double c0 = cpu_seconds(), t0 = recnn__now();
    int st = recnn_model_fit(m, d, NULL);
    double sec = recnn__now() - t0, cpu = cpu_seconds() - c0;
    double work = (double)d->n_ratings * epochs;
    /* per core: wall-clock rate / threads, and (robust on a shared
     * machine) ratings per CPU-second */
    printf("{\"bench\":\"mf_sgd_speed\",\"data\":\"%s\",\"ratings\":%lld,\"factors\":%d,"
           "\"threads\":%d,\"epochs\":%d,\"fit_seconds\":%.4f,\"fit_cpu_seconds\":%.4f,"
           "\"epoch_seconds\":%.4f,\"ratings_per_s\":%.0f,\"ratings_per_s_per_core\":%.0f,"
           "\"ratings_per_cpu_s_incl_setup\":%.0f,\"status\":%d}\n",
           name, (long long)d->n_ratings, factors, threads, epochs, sec, cpu, ep_sec,
           work / ep_sec, work / ep_sec / threads, work / cpu, st);
    fflush(stdout);
    recnn_model_free(m);
}

static void bench_speed(void)
{
    int full = recnn_get_num_threads();
    recnn_dataset *d = load_named("ml-100k");
    if (d) {
        speed_one("ml-100k", d, 1, 20, 100);
        if (full > 1)
            speed_one("ml-100k", d, full, 20, 100);
        recnn_dataset_free(d);
    } else {
        printf("{\"bench\":\"mf_sgd_speed\",\"data\":\"ml-100k\",\"skipped\":\"not found "
               "under %s\"}\n",
               data_dir());
    }
    const char *sn = getenv("RECNN_BENCH_SYNTH_N");
    int64_t n = sn ? atoll(sn) : 10000000;
    double t0 = recnn__now();
    recnn_dataset *s = synthetic(200000, 20000, n, 10, 7);
    if (s) {
        fprintf(stderr, "synthetic: %lld ratings built in %.1f s\n",
                (long long)s->n_ratings, recnn__now() - t0);
        speed_one("synthetic-10m", s, 1, 3, 32);
        if (full > 1)
            speed_one("synthetic-10m", s, full, 3, 32);
        recnn_dataset_free(s);
    }
    recnn_set_num_threads(full);
}

/* ---- knn similarity time -------------------------------------------------- */

static void bench_knn(void)
{
    recnn_dataset *d = load_named("ml-latest-small");
    if (!d) {
        printf("{\"bench\":\"itemknn_similarity\",\"skipped\":\"ml-latest-small not "
               "found under %s\"}\n",
               data_dir());
        return;
    }
    const char *kinds[] = {"itemknn", "userknn", "knnbaseline"};
    for (int k = 0; k < 3; k++) {
        recnn_model *m = make_model(kinds[k], "");
        if (!m)
            continue;
        double best = 1e30, best_cpu = 1e30;
        int st = 0;
        for (int rep = 0; rep < 3; rep++) {
            double c0 = cpu_seconds(), t0 = recnn__now();
            st = recnn_model_fit(m, d, NULL);
            double sec = recnn__now() - t0, cpu = cpu_seconds() - c0;
            if (sec < best)
                best = sec;
            if (cpu < best_cpu)
                best_cpu = cpu;
        }
        printf("{\"bench\":\"knn_fit_time\",\"kind\":\"%s\",\"data\":\"ml-latest-small\","
               "\"users\":%lld,\"items\":%lld,\"ratings\":%lld,\"threads\":%d,"
               "\"seconds_best_of_3\":%.4f,\"cpu_seconds_best_of_3\":%.4f,\"status\":%d}\n",
               kinds[k], (long long)d->n_users, (long long)d->n_items,
               (long long)d->n_ratings, recnn_get_num_threads(), best, best_cpu, st);
        fflush(stdout);
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
}

/* ---- accuracy ------------------------------------------------------------- */

static void bench_accuracy(const char *kind, const char *data, const char *settings,
                           double target)
{
    recnn_dataset *d = load_named(data);
    if (!d) {
        printf("{\"bench\":\"accuracy\",\"data\":\"%s\",\"skipped\":\"not found under "
               "%s\"}\n",
               data, data_dir());
        return;
    }
    double sum = 0, sq = 0, secs = 0;
    int ok = 0;
    char cfg[2048] = "";
    for (int rep = 0; rep < 5; rep++) {
        recnn_dataset *tr = NULL, *te = NULL;
        if (split(d, 1000 + (uint64_t)rep, 0.1, &tr, &te) != 0)
            break;
        recnn_model *m = make_model(kind, settings);
        if (m) {
            double t0 = recnn__now();
            if (recnn_model_fit(m, tr, NULL) == RECNN_OK) {
                secs += recnn__now() - t0;
                double r = recnn__valid_rmse(m, te);
                sum += r;
                sq += r * r;
                ok++;
                recnn_model_settings_string(m, cfg, sizeof cfg);
            } else {
                fprintf(stderr, "fit: %s\n", recnn_last_error());
            }
            recnn_model_free(m);
        }
        recnn_dataset_free(tr);
        recnn_dataset_free(te);
    }
    double mean = ok ? sum / ok : NAN;
    double sd = ok > 1 ? sqrt((sq - ok * mean * mean) / (ok - 1)) : 0;
    printf("{\"bench\":\"accuracy\",\"kind\":\"%s\",\"data\":\"%s\",\"protocol\":\"5 "
           "random 90/10 splits\",\"splits\":%d,\"rmse_mean\":%.4f,\"rmse_sd\":%.4f,"
           "\"target\":%.3f,\"met\":%s,\"fit_seconds_mean\":%.3f,\"settings\":\"%s\"}\n",
           kind, data, ok, mean, sd, target, ok && mean <= target ? "true" : "false",
           ok ? secs / ok : 0, cfg);
    fflush(stdout);
    recnn_dataset_free(d);
}

/* Validation RMSE on split 0's training part (its test part untouched). */
static void bench_tune(const char *kind, const char *data, const char *settings)
{
    recnn_dataset *d = load_named(data);
    if (!d)
        return;
    recnn_dataset *tr = NULL, *te = NULL, *fit = NULL, *va = NULL;
    if (split(d, 1000, 0.1, &tr, &te) == 0 && split(tr, 77, 0.1, &fit, &va) == 0) {
        recnn_model *m = make_model(kind, settings);
        if (m) {
            double t0 = recnn__now();
            int st = recnn_model_fit(m, fit, va);
            printf("{\"bench\":\"tune\",\"kind\":\"%s\",\"data\":\"%s\",\"settings\":\"%s\","
                   "\"valid_rmse\":%.4f,\"best_epoch\":%d,\"seconds\":%.2f,\"status\":%d}\n",
                   kind, data, settings, st ? NAN : m->best_metric, m->best_epoch,
                   recnn__now() - t0, st);
            recnn_model_free(m);
        }
    }
    recnn_dataset_free(tr);
    recnn_dataset_free(te);
    recnn_dataset_free(fit);
    recnn_dataset_free(va);
    recnn_dataset_free(d);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    char settings[2048] = "";
    const char *kind = "mf";
    const char *data = NULL;
    for (int a = 2; a < argc; a++) {
        if (strncmp(argv[a], "kind=", 5) == 0) {
            kind = argv[a] + 5;
        } else if (strncmp(argv[a], "data=", 5) == 0) {
            data = argv[a] + 5;
        } else {
            size_t len = strlen(settings);
            snprintf(settings + len, sizeof settings - len, "%s%s", len ? " " : "",
                     argv[a]);
        }
    }
    printf("{\"bench\":\"env\",\"threads\":%d,\"blas\":\"%s\",\"version\":\"%s\"}\n",
           recnn_get_num_threads(), recnn_blas_info(), recnn_version());
    int all = strcmp(mode, "all") == 0;
    if (all || strcmp(mode, "speed") == 0)
        bench_speed();
    if (all || strcmp(mode, "knn") == 0)
        bench_knn();
    if (all || strcmp(mode, "accuracy") == 0) {
        if (!data || strcmp(data, "ml-100k") == 0)
            bench_accuracy(kind, "ml-100k", settings, 0.915);
        if (!data || strcmp(data, "ml-latest-small") == 0)
            bench_accuracy(kind, "ml-latest-small", settings, 0.870);
    }
    if (strcmp(mode, "tune") == 0) {
        if (!data || strcmp(data, "ml-100k") == 0)
            bench_tune(kind, "ml-100k", settings);
        if (!data || strcmp(data, "ml-latest-small") == 0)
            bench_tune(kind, "ml-latest-small", settings);
    }
    return 0;
}
