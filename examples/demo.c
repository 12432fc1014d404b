/* `make demo`: trains I-AutoRec on the library's synthetic ratings (no
 * download), printing one line per epoch, then the test RMSE and the
 * top-10 recommendations for one user.  A few seconds on 2 cores.
 *
 *   demo [--quick] [--threads N]   */
#include <recnn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

static void check(int st, const char *what)
{
    if (st != RECNN_OK) {
        fprintf(stderr, "demo: %s: %s (%s)\n", what, recnn_strerror(st), recnn_last_error());
        exit(1);
    }
}

static int on_epoch(const recnn_progress *p, void *ud)
{
    (void)ud;
    printf("  epoch %3d  train loss %.4f  valid RMSE %.4f%s  (%.2f s)\n", p->epoch,
           p->train_loss, p->valid_metric, p->improved ? "  *best*" : "", p->seconds);
    fflush(stdout);
    return 0;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: demo [--quick] [--threads N]\n");
    return rc;
}

int main(int argc, char **argv)
{
    int quick = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--quick"))
            quick = 1;
        else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h"))
            return usage(stdout, 0);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc) {
            unsigned long long n;
            if (!arg_uint(argv[++a], 0, 1000000, &n)) {
                fprintf(stderr, "demo: --threads needs an integer >= 0, got '%s'\n", argv[a]);
                return usage(stderr, 2);
            }
            if (!arg_threads("demo", (long long)n))
                return 2;
        } else {
            fprintf(stderr, "demo: unknown or incomplete option '%s'\n", argv[a]);
            return usage(stderr, 2);
        }
    }
    check(RECNN_CHECK_VERSION(), "version");

    /* 1. data: synthetic ratings 1..5 with planted preferences */
    recnn_synthetic_options so;
    recnn_synthetic_options_init(&so);
    so.n_users = quick ? 1000 : 3000;
    so.n_items = quick ? 500 : 1500;
    so.n_ratings = quick ? 40000 : 200000;
    so.seed = 7;
    recnn_dataset *all = NULL;
    check(recnn_dataset_synthetic(&all, &so), "synthetic data");
    printf("librecnn %s demo: I-AutoRec on synthetic ratings: %lld users x %lld items, "
           "%lld ratings\n",
           recnn_version(), (long long)recnn_dataset_n_users(all),
           (long long)recnn_dataset_n_items(all), (long long)recnn_dataset_n_ratings(all));

    /* 2. protocol: random 90/10 split, 10 % of training for validation */
    recnn_split_options sp;
    recnn_split_options_init(&sp);
    sp.seed = 1;
    sp.test_fraction = 0.1;
    sp.valid_fraction = 0.1;
    recnn_dataset *train = NULL, *valid = NULL, *test = NULL;
    check(recnn_split_random(all, &sp, &train, &valid, &test), "split");

    /* 3. model: I-AutoRec, RProp full batch, early stopping on validation */
    recnn_model *m = NULL;
    check(recnn_model_create(&m, "autorec"), "create");
    check(recnn_model_configure(m, quick ? "variant=item hidden=100 l2=100 epochs=40 patience=8"
                                         : "variant=item hidden=300 l2=100 epochs=200 "
                                           "patience=15"),
          "configure");
    char settings[512];
    recnn_model_settings_string(m, settings, sizeof settings);
    printf("settings: %s\n", settings);
    recnn_model_set_progress(m, on_epoch, NULL);
    check(recnn_model_fit(m, train, valid), "fit");

    /* 4. evaluation on the held-out 10 % */
    recnn_rating_opts ro;
    recnn_rating_opts_init(&ro);
    recnn_rating_metrics rm;
    rm.size = sizeof rm;
    check(recnn_rating_metrics_model(m, test, &ro, &rm), "evaluate");
    printf("\ntest: RMSE %.4f  MAE %.4f over %lld ratings (predicting the mean rating: ",
           rm.rmse, rm.mae, (long long)rm.n);
    {
        /* the trivial baseline for comparison */
        const float *tv = NULL;
        const int32_t *tu = NULL, *ti = NULL;
        double mu = recnn_dataset_mean(train), se = 0;
        check(recnn_dataset_triplets(test, &tu, &ti, &tv, NULL), "triplets");
        int64_t n = recnn_dataset_n_ratings(test);
        for (int64_t k = 0; k < n; k++)
            se += (mu - tv[k]) * (mu - tv[k]);
        printf("RMSE %.4f)\n", sqrt(se / (double)n));
    }

    /* 5. top-10 for one user, excluding what they rated in training */
    int64_t user = 42, items[10];
    float scores[10];
    size_t n = 0;
    check(recnn_model_recommend(m, user, 10, items, scores, &n), "recommend");
    printf("\ntop-10 for user %lld:\n", (long long)user);
    for (size_t j = 0; j < n; j++) {
        const char *title = NULL;
        if (recnn_dataset_item_title(all, items[j], &title) != RECNN_OK || !title)
            title = "";
        printf("  %2zu. item %-5lld predicted %.2f  %s\n", j + 1, (long long)items[j],
               scores[j], title);
    }

    recnn_model_free(m);
    recnn_dataset_free(train);
    recnn_dataset_free(valid);
    recnn_dataset_free(test);
    recnn_dataset_free(all);
    return 0;
}
