/* Deep autoencoder benchmark (JSON lines on stdout; docs/PERFORMANCE.md §5).
 *
 * Default: ML-100K, random 90/10 split with 10 % of training as validation
 * (RECNN_BENCH_SEED), the peer protocol of bench/peers/deep_ae.py:
 * user-based, encoder 128-256-256, mirrored decoder, SELU on the hidden
 * layers, identity output, Xavier-uniform weights, zero biases, masked
 * MSE, momentum SGD lr 0.005 m 0.9, batches of 32 users, no dropout, 60
 * epochs; test RMSE at the best validation epoch (clamped to [1, 5], unseen
 * users/items 3).
 *   variant ""        the peer's protocol (figures epoch_seconds, rmse,
 *                     valid_rmse; checksum of the test predictions)
 *   variant "refeed"  the same with one dense re-feeding step per batch,
 *                     10 epochs (cost of the dense pass)
 *   model "item_ae"   on ml-latest-small, 30 epochs: rmse and mse; variant ""
 *                     with the AE/MF/KNN paper's values, "tuned" with the
 *                     penalties chosen on validation (docs/models/deep_ae.md).
 * RECNN_BENCH_SCALE=1 / --scale: one epoch of the 3-layer model on
 * synthetic Netflix-size data (480,189 x 17,770, 100M ratings):
 * epoch_seconds, load_seconds (generation), peak_rss_mib.
 *
 *   bench_deep_ae [--threads N] [--seed S] [--scale] [--epochs N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"
#include "recnn.h"

#define B "\"bench\":\"bench_deep_ae\""

#include "bench_trace.h"

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static void fail(const char *what)
{
    printf("{" B ",\"error\":\"%s: %s\"}\n", what, recnn_last_error());
    exit(1);
}

static int load(recnn_dataset **d, const char *dir, const char *rel, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (recnn_dataset_load(d, path, RECNN_FORMAT_AUTO, NULL) != RECNN_OK) {
        printf("{" B ",\"data\":\"%s\",\"skip\":\"%s not found at %s\"}\n", name, name, path);
        return 0;
    }
    return 1;
}

/* Fits `kind` with `settings` on a 90/10 (+10 % validation) split of d and
 * prints the figures and a checksum. */
static void run(const recnn_dataset *d, const char *data, const char *kind,
                const char *variant, const char *settings, int threads, uint64_t seed)
{
    recnn_split_options so;
    recnn_split_options_init(&so);
    so.seed = seed;
    so.test_fraction = 0.1;
    so.valid_fraction = 0.1;
    recnn_dataset *train, *valid, *test;
    if (recnn_split_random(d, &so, &train, &valid, &test))
        fail("split");
    if (!strcmp(data, "ml-100k")) /* the peer trains on this very split */
        bench_write_split(seed, train, valid, test);
    recnn_model *m;
    char set[512];
    snprintf(set, sizeof set, "%s seed=%llu", settings, (unsigned long long)seed);
    if (recnn_model_create(&m, kind) || recnn_model_configure(m, set))
        fail(set);
    trace *t = calloc(1, sizeof *t);
    t->verbose = getenv("BENCH_VERBOSE") != NULL;
    recnn_model_set_progress(m, on_epoch, t);
    double t0 = recnn__now();
    if (recnn_model_fit(m, train, valid))
        fail("fit");
    double fit_s = recnn__now() - t0;
    recnn_rating_opts ro;
    recnn_rating_opts_init(&ro);
    ro.default_rating = 3.0f;
    recnn_rating_metrics rm = {.size = sizeof rm};
    if (recnn_rating_metrics_model(m, test, &ro, &rm))
        fail("metrics");
    int64_t nt = recnn_dataset_n_ratings(test);
    float *p = malloc((size_t)nt * sizeof *p);
    if (recnn_model_predict_dataset(m, test, p))
        fail("predict");
    uint32_t crc = recnn__crc32c(0, p, (size_t)nt * sizeof *p);
    printf("{" B ",\"model\":\"%s\",\"data\":\"%s\",\"variant\":\"%s\",\"epoch_seconds\":%.6f,"
           "\"rmse\":%.6f,\"mse\":%.6f,\"valid_rmse\":%.6f,\"fit_seconds\":%.3f,"
           "\"best_epoch\":%d,\"epochs\":%d,\"threads\":%d,\"seed\":%llu,"
           "\"note\":\"median epoch excluding the first; settings: %s\"}\n",
           kind, data, variant, median_epoch(t), rm.rmse, rm.mse, t->best_valid, fit_s,
           t->best_epoch, t->n, threads, (unsigned long long)seed, settings);
    printf("{" B ",\"model\":\"%s\",\"data\":\"%s\",\"variant\":\"%s\",\"checksum\":\"%08x\"}\n",
           kind, data, variant, crc);
    fflush(stdout);
    free(p);
    free(t);
    recnn_model_free(m);
    recnn_dataset_free(train);
    recnn_dataset_free(valid);
    recnn_dataset_free(test);
}

#define PEER                                                                             \
    "variant=user layers=128,256,256 activation=selu output=identity init=xavier_uniform " \
    "bias_init=zero optimizer=momentum lr=0.005 momentum=0.9 batch=32 dropout=0 "       \
    "patience=0"

#define SCALE_CLIP "10"

static void run_scale(int threads, uint64_t seed)
{
    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = 480189;
    so.n_items = 17770;
    so.n_ratings = 100000000;
    so.seed = seed;
    double t0 = recnn__now();
    recnn_dataset *d;
    if (recnn_dataset_synthetic(&d, &so))
        fail("synthetic");
    double gen_s = recnn__now() - t0;
    fprintf(stderr, "bench_deep_ae: synthetic Netflix-size data in %.1f s, RSS %.0f MiB\n",
            gen_s, peak_rss_mib());
    recnn_model *m;
    /* clip_norm: with the paper's lr and momentum this 100M-rating epoch is
     * on the edge of divergence (a change in the last bit of the momentum
     * update, FMA or not, decided whether it diverged around step 1000),
     * so the scale run bounds the global gradient norm */
    if (recnn_model_create(&m, "deep_ae") ||
        recnn_model_configure(m, PEER " epochs=1 clip_norm=" SCALE_CLIP))
        fail("create");
    trace *t = calloc(1, sizeof *t);
    t->verbose = 1;
    recnn_model_set_progress(m, on_epoch, t);
    t0 = recnn__now();
    if (recnn_model_fit(m, d, NULL))
        fail("fit");
    double fit_s = recnn__now() - t0;
    printf("{" B ",\"model\":\"deep_ae\",\"data\":\"synthetic-netflix\",\"variant\":\"\","
           "\"epoch_seconds\":%.3f,\"fit_seconds\":%.3f,\"load_seconds\":%.3f,"
           "\"peak_rss_mib\":%.0f,\"epochs\":1,\"users\":480189,\"items\":17770,"
           "\"ratings\":%lld,\"threads\":%d,\"note\":\"one epoch (incl. encoding every "
           "user for prediction) of the 128-256-256 model, batch 32, gradient norm clipped "
           "at " SCALE_CLIP "; load_seconds = synthetic generation\"}\n",
           t->secs[0], fit_s, gen_s, peak_rss_mib(), (long long)recnn_dataset_n_ratings(d),
           threads);
    free(t);
    recnn_model_free(m);
    recnn_dataset_free(d);
}

int main(int argc, char **argv)
{
    int epochs = 60;
    bench_opts o;
    bench_opts_env(&o);
    for (int a = 1; a < argc; a++) {
        if (bench_opts_arg(&o, argc, argv, &a))
            continue;
        if (!strcmp(argv[a], "--epochs") && a + 1 < argc)
            epochs = atoi(argv[++a]);
    }
    int threads = o.threads, scale = o.scale;
    uint64_t seed = o.seed;
    if (threads > 0)
        recnn_set_num_threads(threads);
    threads = recnn_get_num_threads();
    if (scale) {
        run_scale(threads, seed);
        return 0;
    }
    const char *dir = getenv("RECNN_DATA_DIR");
    if (!dir || !*dir)
        dir = "../shared/datasets";
    recnn_dataset *d;
    char set[512];
    if (load(&d, dir, "ml-100k/u.data", "ml-100k")) {
        snprintf(set, sizeof set, PEER " epochs=%d", epochs);
        run(d, "ml-100k", "deep_ae", "", set, threads, seed);
        snprintf(set, sizeof set, PEER " refeed=1 epochs=%d", epochs < 10 ? epochs : 10);
        run(d, "ml-100k", "deep_ae", "refeed", set, threads, seed);
        recnn_dataset_free(d);
    }
    if (load(&d, dir, "ml-latest-small/ratings.csv", "ml-latest-small")) {
        run(d, "ml-latest-small", "item_ae", "", "epochs=30", threads, seed);
        run(d, "ml-latest-small", "item_ae", "tuned",
            "reg=0.003 l1_ratio=0 input_dropout=0.3 epochs=30", threads, seed);
        recnn_dataset_free(d);
    }
    return 0;
}
