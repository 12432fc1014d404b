/* bench_mf: speed and accuracy of matrix factorisation and the
 * neighbourhood models, in the JSON-lines convention of docs/PERFORMANCE.md
 * section 5 (stdout carries only JSON; messages go to stderr).
 *
 * Run with no arguments (as bench/run.sh does; env RECNN_THREADS,
 * RECNN_BENCH_SEED, RECNN_DATA_DIR, RECNN_BENCH_SCALE):
 *   - mf/sgd on ML-100K with the peer protocol of docs/PERFORMANCE.md §5
 *     and bench/peers/mf.py (librecnn's MF defaults: 100 factors, init
 *     N(0, 0.05), reg 0.1 on factors and biases per rating, lr 0.01, no
 *     decay, 50 epochs; random 90/10 split with 10 % of train as
 *     validation; test RMSE at the best validation epoch): epoch_seconds,
 *     ratings_per_second, ratings_per_second_per_core, rmse, valid_rmse,
 *     and a checksum of the test predictions;
 *   - mf/sgd on synthetic-10m (200,000 x 20,000, 10M ratings from the
 *     library's generator with uniform users and items and rank 10, as the
 *     peer draws them; 32 factors, 2 epochs): epoch_seconds,
 *     ratings_per_second, ratings_per_second_per_core, checksum;
 *     "per core" divides by the threads the epochs ran on (ML-100K's
 *     sub-epochs are below the parallel threshold, so 1);
 *   - itemknn / userknn / knnbaseline on ml-latest-small: fit_seconds
 *     (median of 5 fits; a fit is the similarities and neighbour lists,
 *     plus the means/baselines), and for itemknn the same figure as
 *     "similarity_seconds" with the 1 s target;
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
#include <stddef.h>
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
 * uniform users and items (the peer's protocol), whole-star ratings 1..5. */
static recnn_dataset *synthetic(int64_t n_users, int64_t n_items, int64_t n, int rank,
                                uint64_t seed)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.user_exponent = 0; /* uniform users and items, as the peer's draw */
    o.item_exponent = 0;
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void skip_line(const char *what)
{
    printf("{\"bench\":\"bench_mf\",\"skip\":\"%s not found under %s\"}\n", what,
           data_dir());
    fflush(stdout);
}

/* Epoch times: the wall time of the epochs' training passes (fit minus
 * set-up and validation), and the process CPU time
 * between the ends of the first and the last epoch (set-up and the first
 * epoch excluded): on a machine others load, CPU time is the stable
 * figure for single-threaded work. */
#define MAX_EP 256
typedef struct ep_clock {
    double wall[MAX_EP], cpu[MAX_EP]; /* per epoch; cpu[0] unknown */
    double cpu_prev;
    int n;
} ep_clock;

static int add_epoch_seconds(const recnn_progress *p, void *ud)
{
    ep_clock *e = ud;
    double c = cpu_seconds();
    if (e->n < MAX_EP) {
        /* the training pass alone, as the peer times it (validation and
         * best-epoch bookkeeping excluded; the CPU figure includes them) */
        e->wall[e->n] = p->size >= offsetof(recnn_progress, train_seconds) +
                                       sizeof p->train_seconds
                            ? p->train_seconds
                            : p->seconds;
        e->cpu[e->n] = c - e->cpu_prev;
    }
    e->cpu_prev = c;
    e->n++;
    return 0;
}

static int cmp_double(const void *a, const void *b);

/* Median of v[from .. n) (sorted in place). */
static double median_from(double *v, int n, int from)
{
    if (n > MAX_EP)
        n = MAX_EP;
    if (n - from < 1)
        return NAN;
    qsort(v + from, (size_t)(n - from), sizeof *v, cmp_double);
    int k = n - from;
    return k % 2 ? v[from + k / 2] : 0.5 * (v[from + k / 2 - 1] + v[from + k / 2]);
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
extern int64_t recnn__mf_parallel_min; /* src/models/mf.c */

static recnn_model *timed_fit(const char *data, const char *cfg, const recnn_dataset *tr,
                              const recnn_dataset *va, int epochs, int factors)
{
    recnn_model *m = make_model("mf", cfg);
    if (!m)
        return NULL;
    ep_clock *ec = calloc(1, sizeof *ec);
    if (!ec) {
        recnn_model_free(m);
        return NULL;
    }
    recnn_model_set_progress(m, add_epoch_seconds, ec);
    double c0 = cpu_seconds(), t0 = recnn__now();
    ec->cpu_prev = c0;
    int st = recnn_model_fit(m, tr, va);
    double sec = recnn__now() - t0, cpu = cpu_seconds() - c0;
    if (st != RECNN_OK) {
        printf("{\"bench\":\"bench_mf\",\"error\":\"mf fit on %s: %s\"}\n", data,
               recnn_last_error());
        recnn_model_free(m);
        free(ec);
        return NULL;
    }
    int ran = epochs; /* patience=0: every epoch runs */
    /* as the peer: the median epoch, excluding the first with >= 3 epochs */
    const int from = ec->n >= 3 ? 1 : 0;
    double ep_sec = median_from(ec->wall, ec->n, from);
    /* the first CPU interval also holds the set-up (block bucketing) */
    double ep_cpu = median_from(ec->cpu, ec->n, ec->n >= 2 ? 1 : 0);
    double work = (double)tr->n_ratings;
    int64_t blocks = 8;
    recnn_model_get_int(m, "blocks", &blocks);
    /* the threads the SGD sub-epochs ran on (mf.c runs a sub-epoch of
     * fewer than recnn__mf_parallel_min ratings per block on one thread) */
    int cores = tr->n_ratings >= recnn__mf_parallel_min * blocks ? recnn_get_num_threads() : 1;
    char extra[320];
    snprintf(extra, sizeof extra,
             "\"epochs\":%d,\"factors\":%d,\"ratings\":%lld,\"cores_used\":%d,"
             "\"fit_seconds_wall\":%.4f,\"fit_cpu_seconds\":%.4f",
             ran, factors, (long long)tr->n_ratings, cores, sec, cpu);
    figure("mf", data, "sgd", "epoch_seconds", ep_sec, "s", extra);
    figure("mf", data, "sgd", "ratings_per_second", work / ep_sec, "ratings/s", extra);
    figure("mf", data, "sgd", "ratings_per_second_per_core", work / ep_sec / cores,
           "ratings/s/core", extra);
    figure("mf", data, "sgd", "epoch_cpu_seconds", ep_cpu, "s", extra);
    figure("mf", data, "sgd", "ratings_per_cpu_second", work / ep_cpu, "ratings/cpu-s",
           extra);
    free(ec);
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
                 "solver=sgd factors=100 epochs=50 lr=0.01 lr_decay=1 l2=0.1 "
                 "l2_bias=0.1 init_std=0.05 patience=0 seed=%d",
                 g_seed);
        recnn_model *m = timed_fit("ml-100k", cfg, tr, va, 50, 100);
        if (m) {
            char extra[64];
            snprintf(extra, sizeof extra, "\"best_epoch\":%d,\"epochs\":50", m->best_epoch);
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
             "solver=sgd factors=32 epochs=2 lr=0.01 lr_decay=1 l2=0.1 l2_bias=0.1 "
             "init_std=0.05 patience=0 seed=%d",
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
        enum { REPS = 5 };
        double wall[REPS], cpu[REPS];
        int st = 0;
        for (int rep = 0; rep < REPS && st == RECNN_OK; rep++) {
            double c0 = cpu_seconds(), t0 = recnn__now();
            st = recnn_model_fit(m, d, NULL);
            wall[rep] = recnn__now() - t0;
            cpu[rep] = cpu_seconds() - c0;
        }
        if (st == RECNN_OK) {
            qsort(wall, REPS, sizeof wall[0], cmp_double);
            qsort(cpu, REPS, sizeof cpu[0], cmp_double);
            char extra[512];
            int64_t keep = 0;
            recnn_model_get_int(m, "keep", &keep);
            snprintf(extra, sizeof extra,
                     "\"users\":%lld,\"items\":%lld,\"ratings\":%lld,\"keep\":%lld,"
                     "\"min_seconds\":%.4f,\"max_seconds\":%.4f,\"cpu_seconds\":%.4f,"
                     "\"repeats\":%d,%s\"note\":\"median of %d fits (similarities from "
                     "the sparse matrix, top-keep lists%s)\"",
                     (long long)d->n_users, (long long)d->n_items,
                     (long long)d->n_ratings, (long long)keep, wall[0], wall[REPS - 1],
                     cpu[REPS / 2], REPS,
                     k == 0 ? (wall[REPS / 2] < 1.0 ? "\"target\":1,\"met\":true,"
                                                    : "\"target\":1,\"met\":false,")
                            : "",
                     REPS, k == 2 ? ", baselines" : ", means");
            figure(kinds[k], "ml-latest-small", "", "fit_seconds", wall[REPS / 2], "s", extra);
            if (k == 0) /* the target: item-KNN similarities in under 1 s */
                figure(kinds[k], "ml-latest-small", "", "similarity_seconds",
                       wall[REPS / 2], "s", extra);
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
