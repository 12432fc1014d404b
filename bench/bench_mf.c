/* bench_mf: speed and accuracy of matrix factorisation and the
 * neighbourhood models, in the JSON-lines convention of docs/PERFORMANCE.md
 * section 5 (stdout carries only JSON; messages go to stderr).
 *
 * Run with no arguments (as bench/run.sh does; env RECNN_THREADS,
 * RECNN_BENCH_SEED, RECNN_DATA_DIR, RECNN_BENCH_SCALE):
 *   - mf/sgd on ML-100K with the peer protocol (bench/peers/mf.py: 100
 *     factors, init N(0, 0.1), reg 0.05 / 0.02, lr 0.01, 30 epochs; random
 *     90/10 split with 10 % of train as validation; test RMSE at the best
 *     validation epoch): epoch_seconds, ratings_per_second, rmse,
 *     valid_rmse, and a checksum of the test predictions;
 *   - mf/sgd on synthetic-10m (200,000 x 20,000, 10M ratings from the
 *     library's generator; 32 factors, 2 epochs): epoch_seconds,
 *     ratings_per_second, checksum;
 *   - itemknn / userknn / knnbaseline on ml-latest-small: fit_seconds
 *     (similarities and lists) and CPU seconds;
 *   - mf with its defaults, variant "defaults-5split": test rmse averaged
 *     over 5 random 90/10 splits of ML-100K and ml-latest-small (targets
 *     0.915 and 0.870), with the spread and the per-split values.
 * Manual modes: bench_mf speed|knn|accuracy|peer [kind=K] [data=D]
 * [key=value ...], and bench_mf tune ... (validation RMSE on 10 % of the
 * training part of split 0 — never its test part — used to choose the
 * defaults). */
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


static int g_seed = 42;

static void skip_line(const char *what)
{
    printf("{\"bench\":\"bench_mf\",\"skip\":\"%s not found under %s\"}\n", what,
           data_dir());
    fflush(stdout);
}

/* Sums the wall time of the epochs themselves (fit minus set-up). */
static int add_epoch_seconds(const recnn_progress *p, void *ud)
{
    *(double *)ud += p->seconds;
    return 0;
}

static void figure(const char *model, const char *data, const char *variant,
                   const char *metric, double value, const char *unit, const char *extra)
{
    if (!isfinite(value))
        return;
    printf("{\"bench\":\"bench_mf\",\"model\":\"%s\",\"data\":\"%s\",\"variant\":\"%s\","
           "\"metric\":\"%s\",\"value\":%.6g,%s%s%s\"threads\":%d%s%s}\n",
           model, data, variant, metric, value, unit ? "\"unit\":\"" : "",
           unit ? unit : "", unit ? "\"," : "", recnn_get_num_threads(),
           extra && *extra ? "," : "", extra ? extra : "");
    fflush(stdout);
}

static void checksum(const char *model, const char *data, const char *variant,
                     const float *p, int64_t n)
{
    uint32_t crc = recnn__crc32c(0, p, (size_t)n * sizeof *p);
    printf("{\"bench\":\"bench_mf\",\"model\":\"%s\",\"data\":\"%s\",\"variant\":\"%s\","
           "\"checksum\":\"%08x\"}\n",
           model, data, variant, crc);
    fflush(stdout);
}

/* Trains mf with `cfg` on tr (valid va may be NULL) and prints the speed
 * figures; returns the model (caller frees) or NULL. */
static recnn_model *timed_fit(const char *data, const char *cfg, const recnn_dataset *tr,
                              const recnn_dataset *va, int epochs, int factors)
{
    recnn_model *m = make_model("mf", cfg);
    if (!m)
        return NULL;
    double ep_sec = 0;
    recnn_model_set_progress(m, add_epoch_seconds, &ep_sec);
    double c0 = cpu_seconds(), t0 = recnn__now();
    int st = recnn_model_fit(m, tr, va);
    double sec = recnn__now() - t0, cpu = cpu_seconds() - c0;
    if (st != RECNN_OK) {
        printf("{\"bench\":\"bench_mf\",\"error\":\"mf fit on %s: %s\"}\n", data,
               recnn_last_error());
        recnn_model_free(m);
        return NULL;
    }
    int ran = epochs; /* patience=0: every epoch runs */
    double work = (double)tr->n_ratings * ran;
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"epochs\":%d,\"factors\":%d,\"ratings\":%lld,\"fit_seconds_wall\":%.4f,"
             "\"fit_cpu_seconds\":%.4f,\"ratings_per_cpu_second\":%.0f",
             ran, factors, (long long)tr->n_ratings, sec, cpu, work / cpu);
    figure("mf", data, "sgd", "epoch_seconds", ep_sec / ran, "s", extra);
    figure("mf", data, "sgd", "ratings_per_second", work / ep_sec, "ratings/s", extra);
    return m;
}

/* mf/sgd on ML-100K with the peer's protocol and settings. */
static void bench_peer_ml100k(void)
{
    recnn_dataset *d = load_named("ml-100k");
    if (!d) {
        skip_line("ml-100k");
        return;
    }
    recnn_split_options o;
    recnn_split_options_init(&o);
    o.seed = (uint64_t)g_seed;
    o.test_fraction = 0.1;
    o.valid_fraction = 0.1;
    recnn_dataset *tr = NULL, *va = NULL, *te = NULL;
    if (recnn_split_random(d, &o, &tr, &va, &te) == RECNN_OK) {
        char cfg[256];
        snprintf(cfg, sizeof cfg,
                 "solver=sgd factors=100 epochs=30 lr=0.01 lr_decay=1 l2=0.05 "
                 "l2_bias=0.02 init_std=0.1 patience=0 seed=%d",
                 g_seed);
        recnn_model *m = timed_fit("ml-100k", cfg, tr, va, 30, 100);
        if (m) {
            char extra[64];
            snprintf(extra, sizeof extra, "\"best_epoch\":%d,\"epochs\":30", m->best_epoch);
            figure("mf", "ml-100k", "sgd", "rmse", recnn__valid_rmse(m, te), NULL, extra);
            figure("mf", "ml-100k", "sgd", "valid_rmse", m->best_metric, NULL, extra);
            float *p = malloc((size_t)te->n_ratings * sizeof *p);
            if (p && recnn_model_predict_dataset(m, te, p) == RECNN_OK)
                checksum("mf", "ml-100k", "sgd", p, te->n_ratings);
            free(p);
            recnn_model_free(m);
        }
    }
    recnn_dataset_free(tr);
    recnn_dataset_free(va);
    recnn_dataset_free(te);
    recnn_dataset_free(d);
}

static void bench_synthetic(void)
{
    const char *sn = getenv("RECNN_BENCH_SYNTH_N");
    int64_t n = sn ? atoll(sn) : 10000000;
    double t0 = recnn__now();
    recnn_dataset *s = synthetic(200000, 20000, n, 10, (uint64_t)g_seed);
    if (!s) {
        printf("{\"bench\":\"bench_mf\",\"error\":\"synthetic data: %s\"}\n",
               recnn_last_error());
        return;
    }
    fprintf(stderr, "bench_mf: synthetic set of %lld ratings built in %.1f s\n",
            (long long)s->n_ratings, recnn__now() - t0);
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "solver=sgd factors=32 epochs=2 lr=0.01 lr_decay=1 l2=0.05 l2_bias=0.02 "
             "init_std=0.1 patience=0 seed=%d",
             g_seed);
    recnn_model *m = timed_fit("synthetic-10m", cfg, s, NULL, 2, 32);
    if (m) {
        recnn__tensor t[RECNN__MAX_TENSORS];
        int nt = m->vt->tensors(m, t, RECNN__MAX_TENSORS);
        uint32_t crc = 0;
        for (int j = 0; j < nt; j++)
            crc = recnn__crc32c(crc, t[j].data, (size_t)t[j].count * 4);
        printf("{\"bench\":\"bench_mf\",\"model\":\"mf\",\"data\":\"synthetic-10m\","
               "\"variant\":\"sgd\",\"checksum\":\"%08x\"}\n",
               crc);
        recnn_model_free(m);
    }
    recnn_dataset_free(s);
}

static void bench_knn(void)
{
    recnn_dataset *d = load_named("ml-latest-small");
    if (!d) {
        skip_line("ml-latest-small");
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
            best = sec < best ? sec : best;
            best_cpu = cpu < best_cpu ? cpu : best_cpu;
        }
        if (st == RECNN_OK) {
            char extra[256];
            int64_t keep = 0;
            recnn_model_get_int(m, "keep", &keep);
            snprintf(extra, sizeof extra,
                     "\"users\":%lld,\"items\":%lld,\"ratings\":%lld,\"keep\":%lld,"
                     "\"cpu_seconds\":%.4f,\"note\":\"best of 3 fits (similarities, "
                     "neighbour lists)\"",
                     (long long)d->n_users, (long long)d->n_items,
                     (long long)d->n_ratings, (long long)keep, best_cpu);
            figure(kinds[k], "ml-latest-small", "", "fit_seconds", best, "s", extra);
        } else {
            printf("{\"bench\":\"bench_mf\",\"error\":\"%s fit: %s\"}\n", kinds[k],
                   recnn_last_error());
        }
        recnn_model_free(m);
    }
    recnn_dataset_free(d);
}

/* Mean test RMSE over 5 random 90/10 splits (seeds seed..seed+4). */
static void bench_accuracy(const char *kind, const char *data, const char *settings,
                           double target)
{
    recnn_dataset *d = load_named(data);
    if (!d) {
        skip_line(data);
        return;
    }
    double r[5], sum = 0, secs = 0;
    int ok = 0;
    for (int rep = 0; rep < 5; rep++) {
        recnn_dataset *tr = NULL, *te = NULL;
        if (split(d, (uint64_t)(g_seed + rep), 0.1, &tr, &te) != 0)
            break;
        recnn_model *m = make_model(kind, settings);
        if (m) {
            double t0 = recnn__now();
            if (recnn_model_fit(m, tr, NULL) == RECNN_OK) {
                secs += recnn__now() - t0;
                r[ok] = recnn__valid_rmse(m, te);
                sum += r[ok++];
            } else {
                fprintf(stderr, "bench_mf: fit: %s\n", recnn_last_error());
            }
            recnn_model_free(m);
        }
        recnn_dataset_free(tr);
        recnn_dataset_free(te);
    }
    if (ok) {
        double mean = sum / ok, sq = 0;
        for (int j = 0; j < ok; j++)
            sq += (r[j] - mean) * (r[j] - mean);
        char extra[512], tgt[64] = "";
        if (strcmp(kind, "mf") == 0) /* the targets are for biased MF */
            snprintf(tgt, sizeof tgt, "\"target\":%.3f,\"met\":%s,", target,
                     mean <= target ? "true" : "false");
        snprintf(extra, sizeof extra,
                 "\"repeats\":%d,\"rmse_sd\":%.4f,\"rmse_splits\":[%.4f,%.4f,%.4f,%.4f,"
                 "%.4f],%s\"fit_seconds_mean\":%.3f,\"settings\":\"%s\","
                 "\"note\":\"5 random global 90/10 splits\"",
                 ok, ok > 1 ? sqrt(sq / (ok - 1)) : 0.0, r[0], ok > 1 ? r[1] : r[0],
                 ok > 2 ? r[2] : r[0], ok > 3 ? r[3] : r[0], ok > 4 ? r[4] : r[0], tgt,
                 secs / ok, *settings ? settings : "defaults");
        figure(kind, data, "defaults-5split", "rmse", mean, NULL, extra);
    }
    recnn_dataset_free(d);
}

/* Validation RMSE on split 0's training part (its test part untouched). */
static void bench_tune(const char *kind, const char *data, const char *settings)
{
    recnn_dataset *d = load_named(data);
    if (!d) {
        skip_line(data);
        return;
    }
    recnn_dataset *tr = NULL, *te = NULL, *fit = NULL, *va = NULL;
    if (split(d, 1000, 0.1, &tr, &te) == 0 && split(tr, 77, 0.1, &fit, &va) == 0) {
        recnn_model *m = make_model(kind, settings);
        if (m) {
            double t0 = recnn__now();
            if (recnn_model_fit(m, fit, va) == RECNN_OK)
                printf("{\"bench\":\"tune\",\"kind\":\"%s\",\"data\":\"%s\","
                       "\"settings\":\"%s\",\"valid_rmse\":%.4f,\"best_epoch\":%d,"
                       "\"seconds\":%.2f}\n",
                       kind, data, settings, m->best_metric, m->best_epoch,
                       recnn__now() - t0);
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
    const char *env = getenv("RECNN_THREADS");
    if (env && atoi(env) > 0)
        recnn_set_num_threads(atoi(env));
    env = getenv("RECNN_BENCH_SEED");
    if (env && *env)
        g_seed = atoi(env);
    if (getenv("RECNN_BENCH_SCALE") && strcmp(getenv("RECNN_BENCH_SCALE"), "0") != 0) {
        printf("{\"bench\":\"bench_mf\",\"skip\":\"no scale part (synthetic-10m runs in "
               "the normal bench)\"}\n");
        return 0;
    }
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
    fprintf(stderr, "bench_mf: %d threads, %s\n", recnn_get_num_threads(),
            recnn_blas_info());
    int all = strcmp(mode, "all") == 0;
    if (all || strcmp(mode, "peer") == 0 || strcmp(mode, "speed") == 0)
        bench_peer_ml100k();
    if (all || strcmp(mode, "speed") == 0)
        bench_synthetic();
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
