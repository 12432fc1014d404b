/* Reproduces Tables 1-2 of the AE/MF/KNN MovieLens paper
 * (../shared/papers/autoencoder-mf-knn-movielens.txt): an item-based
 * autoencoder, matrix factorisation and item-KNN on ml-latest-small,
 * random 90/10 train/test with 10 % of training held out for validation,
 * 5 repeats; training / validation / test accuracy (prediction rounded to
 * the nearest 0.5 equals the rating) and MSE, beside the paper's numbers.
 *
 *   movie_autoencoder [--data DIR_OR_RATINGS.CSV] [--repeats N] [--seed S]
 *                     [--threads N] [--quick]
 *
 * Models (librecnn kinds; settings printed at the end):
 *   AE (paper) item_ae with the paper's values: one row per movie (its
 *             ratings by the users), one sigmoid hidden layer of 100 units,
 *             ReLU output, elastic net reg 0.002 (l1 share 0.9), rating-range
 *             penalty 0.01, Adam lr 0.01 beta2 0.99, x0.9 every 10 epochs;
 *             best validation epoch kept.
 *   AE (tuned) the same network with penalties chosen on validation
 *             (AE_TUNED below).
 *   MF (gd)   mf solver=gd: full-batch gradient descent, as the paper's code
 *             (but with user/item biases and the training mean).
 *   MF (sgd)  mf solver=sgd: Koren et al. 2009's biased MF by SGD.
 *   KNN       itemknn: adjusted cosine, K = 40 neighbours, weighted mean.
 * Every model is trained on the training part only; the validation part
 * picks the best epoch (AE, MF).  Unseen users/items predict 3 (the
 * paper's default rating); predictions are clamped to [0.5, 5]. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "recnn.h"
#include "args.h"

/* item_ae with penalties chosen on the validation part of a seed-42 split
 * (docs/models/deep_ae.md): L2 instead of the paper's L1-heavy elastic net,
 * denoising input dropout. */
#define AE_TUNED "reg=0.003 l1_ratio=0 input_dropout=0.3"

typedef struct spec {
    const char *label, *kind, *settings;
    /* the paper's numbers: accuracy train / valid / test, MSE (NAN: none) */
    double p_acc[3], p_mse;
} spec;

static const spec SPECS[] = {
    {"AE (paper)", "item_ae", "", {0.7096, 0.5869, 0.7733}, 2.0519},
    {"AE (tuned)", "item_ae", AE_TUNED, {NAN, NAN, NAN}, NAN},
    {"MF (gd)", "mf", "solver=gd epochs=300 patience=20", {0.8700, 0.4211, NAN}, 2.6509},
    {"MF (sgd)", "mf", "solver=sgd", {NAN, NAN, NAN}, NAN},
    {"KNN (itemknn)", "itemknn", "k=40 similarity=adjusted_cosine", {NAN, NAN, 0.2471},
     8.6580},
};
#define N_SPECS (int)(sizeof SPECS / sizeof SPECS[0])

#define CHECK(call)                                                                 \
    do {                                                                            \
        int st_ = (call);                                                           \
        if (st_ != RECNN_OK) {                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,     \
                    recnn_last_error());                                            \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static void usage(void)
{
    fprintf(stderr, "usage: movie_autoencoder [--data DIR_OR_FILE] [--repeats N] "
                    "[--seed S] [--threads N] [--quick]\n");
    exit(2);
}

/* A whole decimal number in [lo, hi] or usage(). */
static unsigned long long parse_num(const char *v, unsigned long long lo, unsigned long long hi)
{
    unsigned long long x;
    if (!arg_uint(v, lo, hi, &x))
        usage();
    return x;
}

/* Configures model `s` exactly as a repeat with seed `seed` trains it. */
static void configure(recnn_model *m, int s, int quick, unsigned long long seed)
{
    CHECK(recnn_model_configure(m, SPECS[s].settings));
    if (quick && !strcmp(SPECS[s].kind, "item_ae"))
        CHECK(recnn_model_configure(m, "epochs=30"));
    char seed_kv[64];
    snprintf(seed_kv, sizeof seed_kv, "seed=%llu", seed);
    if (strcmp(SPECS[s].kind, "itemknn") != 0)
        CHECK(recnn_model_configure(m, seed_kv));
}

/* The name of the directory holding the data at `path` (a file or a directory). */
static const char *data_name(const char *path, char *buf, size_t cap)
{
    struct stat sb;
    snprintf(buf, cap, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    if (stat(buf, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        char *sl = strrchr(buf, '/');
        if (!sl)
            return path;
        *sl = 0;
    }
    const char *base = strrchr(buf, '/');
    return base && base[1] ? base + 1 : buf;
}

static void metrics(const recnn_model *m, const recnn_dataset *d, double *acc, double *mse)
{
    recnn_rating_opts o;
    recnn_rating_opts_init(&o);
    o.grid = 0.5f;
    o.default_rating = 3.0f;
    recnn_rating_metrics r = {.size = sizeof r};
    CHECK(recnn_rating_metrics_model(m, d, &o, &r));
    *acc = r.accuracy;
    *mse = r.mse;
}

static void mean_sd(const double *x, int n, double *mean, double *sd)
{
    double s = 0, q = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        q += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0.0;
}

static void cell(double v)
{
    if (isnan(v))
        printf(" %8s", "-");
    else
        printf(" %8.4f", v);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("RECNN_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-latest-small/ratings.csv",
             dir && *dir ? dir : "../shared/datasets");
    const char *data = path;
    int repeats = 5, quick = 0, threads = 0, data_given = 0, repeats_given = 0;
    unsigned long long seed = 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--data") && a + 1 < argc) {
            data = argv[++a];
            data_given = 1;
        } else if (!strcmp(argv[a], "--repeats") && a + 1 < argc) {
            repeats = (int)parse_num(argv[++a], 1, 100);
            repeats_given = 1;
        } else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = parse_num(argv[++a], 0, ULLONG_MAX / 2);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            threads = (int)parse_num(argv[++a], 0, 1000000);
        else if (!strcmp(argv[a], "--quick"))
            quick = 1;
        else
            usage();
    }
    if (quick && !repeats_given)
        repeats = 1;
    if (!arg_threads("movie_autoencoder", threads))
        return 2;

    struct stat sb;
    if (stat(data, &sb) != 0) {
        if (data_given) {
            fprintf(stderr, "movie_autoencoder: cannot read %s: %s\n", data, strerror(errno));
            return 1;
        }
        fprintf(stderr, "movie_autoencoder: %s not found (set RECNN_DATA_DIR or --data); "
                        "skipping\n",
                data);
        return 0;
    }
    recnn_dataset *all;
    CHECK(recnn_dataset_load(&all, data, RECNN_FORMAT_AUTO, NULL));
    char name[1024];
    printf("%s: %lld users x %lld movies, %lld ratings; %d repeat(s) of a "
           "random 90/10 split with 10 %% of training for validation\n\n",
           data_name(data, name, sizeof name), (long long)recnn_dataset_n_users(all), (long long)recnn_dataset_n_items(all),
           (long long)recnn_dataset_n_ratings(all), repeats);

    /* acc[model][part][repeat], mse likewise, seconds[model][repeat] */
    static double acc[N_SPECS][3][100], mse[N_SPECS][3][100], secs[N_SPECS][100];
    for (int r = 0; r < repeats; r++) {
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.seed = seed + (unsigned long long)r;
        so.test_fraction = 0.1;
        so.valid_fraction = 0.1;
        recnn_dataset *tr, *va, *te;
        CHECK(recnn_split_random(all, &so, &tr, &va, &te));
        for (int s = 0; s < N_SPECS; s++) {
            recnn_model *m;
            CHECK(recnn_model_create(&m, SPECS[s].kind));
            configure(m, s, quick, seed + (unsigned long long)r);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            CHECK(recnn_model_fit(m, tr, strcmp(SPECS[s].kind, "itemknn") ? va : NULL));
            clock_gettime(CLOCK_MONOTONIC, &t1);
            secs[s][r] = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            const recnn_dataset *parts[3] = {tr, va, te};
            for (int p = 0; p < 3; p++)
                metrics(m, parts[p], &acc[s][p][r], &mse[s][p][r]);
            fprintf(stderr, "repeat %d %-14s test MSE %.4f acc %.4f (%.1f s)\n", r + 1,
                    SPECS[s].label, mse[s][2][r], acc[s][2][r], secs[s][r]);
            recnn_model_free(m);
        }
        recnn_dataset_free(tr);
        recnn_dataset_free(va);
        recnn_dataset_free(te);
    }

    printf("Table 1: accuracy (prediction rounded to the nearest 0.5 == rating); "
           "ours = mean over repeats (sd)\n");
    printf("%-14s | %8s %8s %8s | %8s %8s %8s | %8s\n", "model", "paper:tr", "valid",
           "test", "ours:tr", "valid", "test", "test sd");
    for (int s = 0; s < N_SPECS; s++) {
        printf("%-14s |", SPECS[s].label);
        for (int p = 0; p < 3; p++)
            cell(SPECS[s].p_acc[p]);
        printf(" |");
        double mn, sd;
        for (int p = 0; p < 3; p++) {
            mean_sd(acc[s][p], repeats, &mn, &sd);
            cell(mn);
        }
        mean_sd(acc[s][2], repeats, &mn, &sd);
        printf(" | %8.4f\n", sd);
    }
    printf("\nTable 2: MSE (rating units, clamped to [0.5, 5])\n");
    printf("%-14s | %8s | %8s %8s %8s | %8s | %8s %8s\n", "model", "paper", "ours:tr",
           "valid", "test", "test sd", "RMSE", "fit s");
    for (int s = 0; s < N_SPECS; s++) {
        printf("%-14s |", SPECS[s].label);
        cell(SPECS[s].p_mse);
        printf(" |");
        double mn, sd, t, tsd;
        for (int p = 0; p < 3; p++) {
            mean_sd(mse[s][p], repeats, &mn, &sd);
            cell(mn);
        }
        mean_sd(mse[s][2], repeats, &mn, &sd);
        mean_sd(secs[s], repeats, &t, &tsd);
        printf(" | %8.4f | %8.4f %8.2f\n", sd, sqrt(mn), t);
    }
    if (repeats > 1)
        printf("\nSettings (of repeat 1; repeat r uses seed %llu + r - 1):\n", seed);
    else
        printf("\nSettings:\n");
    for (int s = 0; s < N_SPECS; s++) {
        recnn_model *m;
        CHECK(recnn_model_create(&m, SPECS[s].kind));
        configure(m, s, quick, seed);
        char buf[2048];
        recnn_model_settings_string(m, buf, sizeof buf);
        printf("  %-14s %s: %s\n", SPECS[s].label, SPECS[s].kind, buf);
        recnn_model_free(m);
    }
    printf(
        "\nWhy the numbers differ from the paper's:\n"
        "- The paper's 'test accuracy' of the AE (0.77, above its validation 0.59) is\n"
        "  measured by feeding the whole matrix (train + validation + test) into the\n"
        "  network and comparing the reconstruction with the same inputs (section\n"
        "  6.1.4's evaluate()): the test ratings are inputs, so it is reconstruction,\n"
        "  not prediction.  Here every held-out rating is predicted from the training\n"
        "  ratings only, so test accuracy is close to validation accuracy.\n"
        "- The paper's MSEs (AE 2.05, MF 2.65, KNN 8.66) exceed the variance of the\n"
        "  ratings themselves (about 1.1; predicting the mean gives MSE ~1.1): they\n"
        "  are consistent with missing predictions counted as 0 (a KNN item without\n"
        "  rated neighbours, MF without biases started near 0) or with errors summed\n"
        "  rather than averaged.  Our models predict a fallback (the mean / 3) where\n"
        "  they cannot, use biases, clamp to the scale and keep the best validation\n"
        "  epoch, which gives MSE 0.7-0.8.\n"
        "- Accuracy after rounding to 0.5 is a harsh metric on a 10-level scale; an\n"
        "  MSE-optimal predictor lands between levels, so ~0.25-0.30 is typical for\n"
        "  honest held-out prediction; the paper's MF training accuracy 0.87 is\n"
        "  memorisation of the training ratings (ours is lower because of the\n"
        "  regularisation chosen on validation).\n"
        "- The paper's elastic-net and range-penalty coefficients are relative to its\n"
        "  own loss scaling (means over all matrix cells); librecnn's are per step\n"
        "  (docs/models/deep_ae.md).  With the paper's values the AE peaks after a\n"
        "  few epochs (Adam lr 0.01, L1-heavy penalty); 'AE (tuned)' re-chooses the\n"
        "  penalties on validation: " AE_TUNED ".\n");
    recnn_dataset_free(all);
    return 0;
}
