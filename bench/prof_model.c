/* prof_model — fits one model so that bench/profile.sh can profile its
 * training with perf (not run by the harness: its name does not start with
 * bench_).  Only the public API: what a user's program does.
 *
 *   prof_model KIND [SETTINGS] [--data ml-100k|ml-latest-small] [--binary]
 *              [--repeat N] [--threads N]
 *
 * SETTINGS is the model's settings string ("solver=sgd epochs=50 ...").
 * --binary binarises the ratings first (implicit models: gmf, mlp, neumf).
 * --repeat fits N times (for one-shot fits such as ease or itemknn, so
 * that the profile has enough samples).  Per-epoch seconds and the share
 * of the process's time spent in fit go to stderr; stdout stays empty.
 * Environment: RECNN_DATA_DIR (default ../shared/datasets), RECNN_THREADS. */
#include <recnn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int epochs_seen;
static double epoch_sum;

static int on_epoch(const recnn_progress *p, void *ud)
{
    (void)ud;
    epochs_seen++;
    epoch_sum += p->seconds;
    if (epochs_seen <= 3 || epochs_seen % 10 == 0)
        fprintf(stderr, "  epoch %d: %.4f s, train loss %.5g\n", p->epoch, p->seconds,
                p->train_loss);
    return 0;
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *settings = "", *data = "ml-100k";
    int binary = 0, repeat = 1;
    const char *env = getenv("RECNN_THREADS");
    if (env && atoi(env) > 0)
        recnn_set_num_threads(atoi(env));
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--data") && a + 1 < argc)
            data = argv[++a];
        else if (!strcmp(argv[a], "--binary"))
            binary = 1;
        else if (!strcmp(argv[a], "--repeat") && a + 1 < argc)
            repeat = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            recnn_set_num_threads(atoi(argv[++a]));
        else if (!kind)
            kind = argv[a];
        else
            settings = argv[a];
    }
    if (!kind) {
        fprintf(stderr, "usage: prof_model KIND [SETTINGS] [--data ml-100k|ml-latest-small] "
                        "[--binary] [--repeat N] [--threads N]\nkinds: %s\n",
                recnn_model_kinds());
        return 2;
    }
    const char *dir = getenv("RECNN_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/datasets",
             strcmp(data, "ml-latest-small") == 0 ? "ml-latest-small/ratings.csv"
                                                  : "ml-100k/u.data");
    double t_start = now();
    recnn_dataset *d = NULL;
    if (recnn_dataset_load(&d, path, RECNN_FORMAT_AUTO, NULL)) {
        fprintf(stderr, "prof_model: cannot load %s: %s\n", path, recnn_last_error());
        return 1;
    }
    if (binary) {
        recnn_dataset *b = NULL;
        if (recnn_dataset_binarize(&b, d, 0.0f)) {
            fprintf(stderr, "prof_model: binarize: %s\n", recnn_last_error());
            return 1;
        }
        recnn_dataset_free(d);
        d = b;
    }
    double t_fit = 0;
    for (int r = 0; r < repeat; r++) {
        recnn_model *m = NULL;
        if (recnn_model_create(&m, kind) || recnn_model_configure(m, settings)) {
            fprintf(stderr, "prof_model: %s \"%s\": %s\n", kind, settings, recnn_last_error());
            recnn_model_free(m);
            recnn_dataset_free(d);
            return 1;
        }
        recnn_model_set_progress(m, on_epoch, NULL);
        double t0 = now();
        int st = recnn_model_fit(m, d, NULL);
        t_fit += now() - t0;
        if (st) {
            fprintf(stderr, "prof_model: fit: %s\n", recnn_last_error());
            recnn_model_free(m);
            recnn_dataset_free(d);
            return 1;
        }
        recnn_model_free(m);
    }
    double total = now() - t_start;
    fprintf(stderr,
            "prof_model: %s on %s (%lld ratings), %d threads: %d fit(s) in %.3f s "
            "(%.0f %% of the process's %.3f s); %d epochs, mean %.4f s per epoch\n",
            kind, data, (long long)recnn_dataset_n_ratings(d), recnn_get_num_threads(), repeat,
            t_fit, 100.0 * t_fit / total, total, epochs_seen,
            epochs_seen ? epoch_sum / epochs_seen : 0.0);
    recnn_dataset_free(d);
    return 0;
}
