/* Reproduces the study of the Netflix deep-autoencoder paper
 * (../shared/papers/deep-autoencoder-netflix.txt; Kuchaiev & Ginsburg
 * 2017's model): 1-layer baselines with 128/256/512 units, the 3-layer
 * model (128, 256, 256), tied weights, dropout 0.2-0.8 on the code, dense
 * re-feeding, and the best model (by validation) on the test set, printed
 * as the paper's table with its numbers beside ours.
 *
 *   deep_autoencoder [--ml100k | --ml-latest-small | --netflix PATH ...]
 *                    [--synthetic] [--full] [--quick] [--epochs N]
 *                    [--repeats N] [--seed S] [--threads N] [--no-study]
 *
 * Data (default: ML-100K from ${RECNN_DATA_DIR:-../shared/datasets}):
 *   --netflix PATH   Netflix Prize files (a training_set/ directory, mv_*.txt
 *                    or combined_data_*.txt; several PATHs allowed), loaded
 *                    with recnn_dataset_load_files(..., RECNN_FORMAT_NETFLIX)
 *   --ml-latest-small
 *   --synthetic      also: a Netflix-format file written by the generator
 *                    (20,000 users x 1,777 movies, 2M ratings), written as
 *                    Netflix text, loaded back with the Netflix loader and
 *                    trained with the 3-layer model
 * Protocol: random 90/10 train/test, 10 % of training held out for
 * validation (the paper's dev set); test RMSE at the best validation epoch;
 * predictions clamped to the scale; unseen users/items predict 3.  The
 * paper's settings: SELU, momentum SGD 0.9, lr 0.005, batch 32, identity
 * output (Kuchaiev & Ginsburg's last layer), masked MSE.
 *   --full           one epoch of the 3-layer model on a synthetic
 *                    Netflix-size set (480,189 x 17,770, 100M ratings,
 *                    generated in memory): load, epoch time and peak RSS
 *                    (VmHWM).  Needs ~6 GB.
 *   --epochs N       maximum epochs (default 150; the tuned user-based model
 *                    400); below 150 it caps every row
 *   --repeats N      splits for the "tuned" rows (default 5; --quick 1)
 *   --no-study       only the tuned rows (and --synthetic / --full)
 *   --ensemble K     members of the averaged tuned user-based row (default 3,
 *                    --quick 2; 1 = no such row): K models differing only in
 *                    their seed, member 0 being the single tuned model
 *   --user-only      of the tuned rows, only the user-based ones
 *   --no-default     skip the ML / Netflix-file study (with --synthetic,
 *                    --full) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recnn.h"

#define CHECK(call)                                                                 \
    do {                                                                            \
        int st_ = (call);                                                           \
        if (st_ != RECNN_OK) {                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,     \
                    recnn_last_error());                                            \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static long long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = atoll(line + n + 1);
            break;
        }
    fclose(f);
    return v;
}

/* ---- one configuration on one split ------------------------------------- */

typedef struct trace {
    int epochs, best_epoch;
    double secs, best_valid;
    int verbose;
} trace;

static int on_epoch(const recnn_progress *p, void *ud)
{
    trace *t = ud;
    t->epochs = p->epoch;
    t->secs += p->seconds;
    if (p->improved) {
        t->best_epoch = p->epoch;
        t->best_valid = p->valid_metric;
    }
    if (t->verbose)
        fprintf(stderr, "    epoch %3d loss %.4f valid %.4f %.2f s%s\n", p->epoch,
                p->train_loss, p->valid_metric, p->seconds, p->improved ? " *" : "");
    return 0;
}

typedef struct result {
    double valid, test, train_loss_dummy;
    int best_epoch, epochs;
    double sec_per_epoch;
} result;

static double rmse_of(const recnn_model *m, const recnn_dataset *d)
{
    recnn_rating_opts o;
    recnn_rating_opts_init(&o);
    o.default_rating = 3.0f;
    recnn_rating_metrics r = {.size = sizeof r};
    CHECK(recnn_rating_metrics_model(m, d, &o, &r));
    return r.rmse;
}

/* With --epochs below the default (e.g. --quick), rows that set their own
 * epochs (the tuned model: 400) are capped to it too. */
static int g_epoch_cap = 0;

static result run(const char *settings, const char *extra, int64_t seed,
                  const recnn_dataset *tr, const recnn_dataset *va,
                  const recnn_dataset *te, int verbose)
{
    recnn_model *m;
    CHECK(recnn_model_create(&m, "deep_ae"));
    CHECK(recnn_model_configure(m, settings));
    if (extra && *extra)
        CHECK(recnn_model_configure(m, extra));
    if (g_epoch_cap > 0) {
        int64_t e = 0;
        CHECK(recnn_model_get_int(m, "epochs", &e));
        if (e > g_epoch_cap) {
            char cap[64];
            snprintf(cap, sizeof cap, "epochs=%d patience=%d", g_epoch_cap, g_epoch_cap);
            CHECK(recnn_model_configure(m, cap));
        }
    }
    CHECK(recnn_model_set_int(m, "seed", seed));
    trace t = {0};
    t.verbose = verbose;
    recnn_model_set_progress(m, on_epoch, &t);
    CHECK(recnn_model_fit(m, tr, va));
    result r = {0};
    r.valid = va ? rmse_of(m, va) : NAN;
    r.test = te ? rmse_of(m, te) : NAN;
    r.best_epoch = t.best_epoch;
    r.epochs = t.epochs;
    r.sec_per_epoch = t.epochs ? t.secs / t.epochs : NAN;
    recnn_model_free(m);
    return r;
}

/* Predictions of a fitted model on every rating of d (triplet order). */
static float *predictions(const recnn_model *m, const recnn_dataset *d)
{
    int64_t n = recnn_dataset_n_ratings(d);
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    CHECK(recnn_model_predict_dataset(m, d, p));
    return p;
}

/* RMSE of predictions p (clamped to the training scale) on d. */
static double rmse_arrays(const float *p, const recnn_dataset *d, const recnn_dataset *tr)
{
    const float *truth;
    CHECK(recnn_dataset_triplets(d, NULL, NULL, &truth, NULL));
    recnn_rating_opts o;
    recnn_rating_opts_init(&o);
    CHECK(recnn_dataset_scale(tr, &o.scale_min, &o.scale_max));
    recnn_rating_metrics r = {.size = sizeof r};
    CHECK(recnn_rating_metrics_arrays(p, truth, (size_t)recnn_dataset_n_ratings(d), &o, &r));
    return r.rmse;
}

/* An average of k models that differ only in their seed (seed*1000 + j;
 * member 0 is the single model of the same row): each is fitted and
 * early-stopped on its own, and their predictions are averaged.  *single
 * gets member 0's figures. */
static result run_ensemble(const char *settings, const char *extra, int64_t seed, int k,
                           const recnn_dataset *tr, const recnn_dataset *va,
                           const recnn_dataset *te, int verbose, result *single)
{
    int64_t nv = recnn_dataset_n_ratings(va), nt = recnn_dataset_n_ratings(te);
    float *sv = calloc((size_t)(nv ? nv : 1), sizeof *sv);
    float *st = calloc((size_t)(nt ? nt : 1), sizeof *st);
    result e = {0};
    for (int j = 0; j < k; j++) {
        recnn_model *m;
        CHECK(recnn_model_create(&m, "deep_ae"));
        CHECK(recnn_model_configure(m, settings));
        if (extra && *extra)
            CHECK(recnn_model_configure(m, extra));
        int64_t ep = 0;
        CHECK(recnn_model_get_int(m, "epochs", &ep));
        if (g_epoch_cap > 0 && ep > g_epoch_cap) {
            char cap[64];
            snprintf(cap, sizeof cap, "epochs=%d patience=%d", g_epoch_cap, g_epoch_cap);
            CHECK(recnn_model_configure(m, cap));
        }
        CHECK(recnn_model_set_int(m, "seed", j == 0 ? seed : seed * 1000 + j));
        trace t = {0};
        t.verbose = verbose;
        recnn_model_set_progress(m, on_epoch, &t);
        CHECK(recnn_model_fit(m, tr, va));
        float *pv = predictions(m, va), *pt = predictions(m, te);
        if (j == 0) {
            single->valid = rmse_arrays(pv, va, tr);
            single->test = rmse_arrays(pt, te, tr);
            single->best_epoch = t.best_epoch;
            single->epochs = t.epochs;
            single->sec_per_epoch = t.epochs ? t.secs / t.epochs : NAN;
        }
        for (int64_t q = 0; q < nv; q++)
            sv[q] += pv[q] / (float)k;
        for (int64_t q = 0; q < nt; q++)
            st[q] += pt[q] / (float)k;
        e.best_epoch += t.best_epoch;
        e.epochs += t.epochs;
        e.sec_per_epoch += t.epochs ? t.secs / t.epochs / k : 0;
        free(pv);
        free(pt);
        recnn_model_free(m);
    }
    e.valid = rmse_arrays(sv, va, tr);
    e.test = rmse_arrays(st, te, tr);
    e.best_epoch /= k;
    e.epochs /= k;
    free(sv);
    free(st);
    return e;
}

/* ---- the study -------------------------------------------------------------- */

typedef struct row {
    const char *label;
    const char *settings; /* on top of the paper's common settings */
    double paper;         /* the paper's dev RMSE (NAN: not reported) */
} row;

/* The paper's settings (section "Hyperparameters"). */
#define PAPER "activation=selu output=identity optimizer=momentum lr=0.005 momentum=0.9 batch=32"

static const row STUDY[] = {
    {"1 layer, 128", "layers=128", 1.084},
    {"1 layer, 256", "layers=256", 1.084},
    {"1 layer, 512", "layers=512", 1.084},
    {"3 layers 128,256,256", "layers=128,256,256", 0.951},
    {"  + tied weights", "layers=128,256,256 tied=1", 0.984},
    {"  + dropout 0.2", "layers=128,256,256 dropout=0.2", 0.939},
    {"  + dropout 0.4", "layers=128,256,256 dropout=0.4", NAN},
    {"  + dropout 0.6", "layers=128,256,256 dropout=0.6", NAN},
    {"  + dropout 0.8", "layers=128,256,256 dropout=0.8", NAN},
};
#define N_STUDY (int)(sizeof STUDY / sizeof STUDY[0])

/* Chosen on validation only (ML-100K, the validation parts of the seed-42
 * and seed-43 splits, which are not among the splits below;
 * docs/models/deep_ae.md lists the search).  User-based: a wider
 * 256-256-512 encoder, dropout 0.8 on the code, denoising input dropout
 * 0.3, weight decay 0.003, weight averaging (EMA 0.99 per step), up to 400
 * epochs with patience 40.  Item-based (one row per movie, as I-AutoRec):
 * sigmoid 500, Adam, L2 and input dropout. */
#define TUNED_USER                                                                      \
    "layers=256,256,512 dropout=0.8 input_dropout=0.3 reg=0.003 average=0.99 "          \
    "epochs=400 patience=40"
static const row TUNED[] = {
    {"tuned: user-based", TUNED_USER, NAN},
    {"tuned: item-based", "variant=item layers=500 activation=sigmoid optimizer=adam "
                          "lr=0.001 reg=0.003 input_dropout=0.3",
     NAN},
};
#define N_TUNED (int)(sizeof TUNED / sizeof TUNED[0])

/* The tuned user-based model with one of its additions removed at a time
 * (on the study's split): what each one contributes. */
static const row ABLATE[] = {
    {"tuned user-based (1 split)", TUNED_USER, NAN},
    {"  - weight averaging", TUNED_USER " average=0", NAN},
    {"  - weight decay", TUNED_USER " reg=0", NAN},
    {"  - input dropout", TUNED_USER " input_dropout=0", NAN},
    {"  - code dropout", TUNED_USER " dropout=0", NAN},
};
#define N_ABLATE (int)(sizeof ABLATE / sizeof ABLATE[0])

static void split(const recnn_dataset *all, uint64_t seed, recnn_dataset **tr,
                  recnn_dataset **va, recnn_dataset **te)
{
    recnn_split_options so;
    recnn_split_options_init(&so);
    so.seed = seed;
    so.test_fraction = 0.1;
    so.valid_fraction = 0.1;
    CHECK(recnn_split_random(all, &so, tr, va, te));
}

static void print_row(const char *label, double paper, result r, int n)
{
    char p[16];
    if (isnan(paper))
        snprintf(p, sizeof p, "%8s", "-");
    else
        snprintf(p, sizeof p, "%8.3f", paper);
    printf("%-28s | %s | %8.4f %8.4f | %5d %6d | %8.3f%s\n", label, p, r.valid, r.test,
           r.best_epoch, r.epochs, r.sec_per_epoch, n > 1 ? "  (mean of splits)" : "");
    fflush(stdout);
}

/* Members of the averaged user-based row (0: no such row). */
static int g_ensemble = 3;
/* 1: only the user-based tuned rows. */
static int g_user_only = 0;

static void study(const recnn_dataset *all, const char *name, int epochs, uint64_t seed,
                  int do_study, int repeats, int verbose)
{
    char common[512];
    snprintf(common, sizeof common, PAPER " epochs=%d patience=%d", epochs,
             epochs < 40 ? epochs : 25);
    printf("\n%s: %lld users x %lld items, %lld ratings; random 90/10 split, 10 %% of "
           "training for validation (seed %llu)\n",
           name, (long long)recnn_dataset_n_users(all), (long long)recnn_dataset_n_items(all),
           (long long)recnn_dataset_n_ratings(all), (unsigned long long)seed);
    printf("common settings: %s\n", common);
    printf("%-28s | %8s | %8s %8s | %5s %6s | %8s\n", "model", "paper", "valid", "test",
           "best", "epochs", "s/epoch");
    recnn_dataset *tr, *va, *te;
    split(all, seed, &tr, &va, &te);
    if (do_study) {
        result res[N_STUDY + 1];
        int best = 3, best_drop = 5;
        for (int k = 0; k < N_STUDY; k++) {
            if (verbose)
                fprintf(stderr, "  %s\n", STUDY[k].label);
            res[k] = run(common, STUDY[k].settings, (int64_t)seed, tr, va, te, verbose);
            print_row(STUDY[k].label, STUDY[k].paper, res[k], 1);
            if (res[k].valid < res[best].valid)
                best = k;
            if (k >= 5 && res[k].valid < res[best_drop].valid)
                best_drop = k;
        }
        /* re-feeding on the best dropout rate (by validation) */
        char rf[256];
        snprintf(rf, sizeof rf, "%s refeed=1", STUDY[best_drop].settings);
        char label[64];
        snprintf(label, sizeof label, "  + dropout %.1f + refeed",
                 0.2 * (double)(best_drop - 4));
        res[N_STUDY] = run(common, rf, (int64_t)seed, tr, va, te, verbose);
        print_row(label, 0.947, res[N_STUDY], 1);
        if (res[N_STUDY].valid < res[best].valid)
            best = N_STUDY;
        char bl[96];
        snprintf(bl, sizeof bl, "best by validation -> test");
        printf("%-28s | %8.3f | %8s %8.4f | (%s)\n", bl, 0.943, "", res[best].test,
               best < N_STUDY ? STUDY[best].label : label);
        for (int k = 0; k < N_ABLATE; k++) {
            if (verbose)
                fprintf(stderr, "  %s\n", ABLATE[k].label);
            print_row(ABLATE[k].label, ABLATE[k].paper,
                      run(common, ABLATE[k].settings, (int64_t)seed, tr, va, te, verbose), 1);
        }
    }
    for (int k = 0; k < N_TUNED; k++) {
        result sum = {0}, esum = {0};
        const int ens = k == 0 && g_ensemble > 1; /* the user-based row */
        if (g_user_only && k > 0)
            break;
        for (int r = 0; r < repeats; r++) {
            recnn_dataset *a, *b, *c;
            split(all, seed + (uint64_t)r, &a, &b, &c);
            /* tuned rows: the paper's optimizer unless the row says otherwise */
            result x = {0};
            if (ens) {
                result e = run_ensemble(common, TUNED[k].settings,
                                        (int64_t)(seed + (uint64_t)r), g_ensemble, a, b, c,
                                        verbose, &x);
                fprintf(stderr, "  average of %d, split %d (seed %llu): valid %.4f test %.4f\n",
                        g_ensemble, r + 1, (unsigned long long)(seed + (uint64_t)r), e.valid,
                        e.test);
                esum.valid += e.valid / repeats;
                esum.test += e.test / repeats;
                esum.best_epoch += e.best_epoch;
                esum.epochs += e.epochs;
                esum.sec_per_epoch += e.sec_per_epoch / repeats;
            } else {
                x = run(common, TUNED[k].settings, (int64_t)(seed + (uint64_t)r), a, b, c,
                        verbose);
            }
            fprintf(stderr, "  %s split %d (seed %llu): valid %.4f test %.4f\n",
                    TUNED[k].label, r + 1, (unsigned long long)(seed + (uint64_t)r), x.valid,
                    x.test);
            sum.valid += x.valid / repeats;
            sum.test += x.test / repeats;
            sum.best_epoch += x.best_epoch;
            sum.epochs += x.epochs;
            sum.sec_per_epoch += x.sec_per_epoch / repeats;
            recnn_dataset_free(a);
            recnn_dataset_free(b);
            recnn_dataset_free(c);
        }
        sum.best_epoch /= repeats;
        sum.epochs /= repeats;
        print_row(TUNED[k].label, TUNED[k].paper, sum, repeats);
        if (ens) {
            char label[64];
            snprintf(label, sizeof label, "  average of %d seeds", g_ensemble);
            esum.best_epoch /= repeats;
            esum.epochs /= repeats;
            print_row(label, NAN, esum, repeats);
        }
    }
    printf("tuned settings: ");
    for (int k = 0; k < N_TUNED; k++)
        printf("[%s] ", TUNED[k].settings);
    printf("\n");
    recnn_dataset_free(tr);
    recnn_dataset_free(va);
    recnn_dataset_free(te);
}

/* ---- synthetic Netflix-format data ---------------------------------------- */

static void synthetic_netflix(int epochs, uint64_t seed, int verbose)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = 20000;
    o.n_items = 1777;
    o.n_ratings = 2000000;
    o.seed = seed;
    recnn_dataset *gen;
    CHECK(recnn_dataset_synthetic(&gen, &o));
    char dir[] = "/tmp/recnn_netflix_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/combined_data_1.txt", dir);
    double t0 = now();
    CHECK(recnn_dataset_save_text(gen, path, RECNN_FORMAT_NETFLIX));
    double t1 = now();
    recnn_dataset *all;
    CHECK(recnn_dataset_load(&all, path, RECNN_FORMAT_NETFLIX, NULL));
    double t2 = now();
    printf("\nsynthetic Netflix-format file (%s): written in %.2f s, loaded with the "
           "Netflix loader in %.2f s\n",
           path, t1 - t0, t2 - t1);
    recnn_dataset_free(gen);
    study(all, "synthetic-netflix-small", epochs, seed, 0, 1, verbose);
    recnn_dataset_free(all);
    unlink(path);
    rmdir(dir);
}

static void full_size(uint64_t seed)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = 480189;
    o.n_items = 17770;
    o.n_ratings = 100480507;
    o.seed = seed;
    double t0 = now();
    recnn_dataset *all;
    CHECK(recnn_dataset_synthetic(&all, &o));
    double t1 = now();
    printf("\nfull size: synthetic %lld users x %lld movies, %lld ratings generated in "
           "%.1f s (VmHWM %.0f MiB)\n",
           (long long)recnn_dataset_n_users(all), (long long)recnn_dataset_n_items(all),
           (long long)recnn_dataset_n_ratings(all), t1 - t0,
           (double)status_kb("VmHWM") / 1024.0);
    recnn_model *m;
    CHECK(recnn_model_create(&m, "deep_ae"));
    CHECK(recnn_model_configure(m, PAPER " layers=128,256,256 epochs=1"));
    trace t = {0};
    t.verbose = 1;
    recnn_model_set_progress(m, on_epoch, &t);
    double t2 = now();
    CHECK(recnn_model_fit(m, all, NULL));
    double t3 = now();
    printf("full size: 3-layer deep_ae (128,256,256), batch 32, one epoch: %.1f s "
           "(fit incl. final encoding %.1f s); peak RSS (VmHWM) %.0f MiB\n",
           t.secs, t3 - t2, (double)status_kb("VmHWM") / 1024.0);
    recnn_model_free(m);
    recnn_dataset_free(all);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: deep_autoencoder [--ml100k | --ml-latest-small | --netflix PATH ...] "
            "[--synthetic] [--full] [--quick] [--epochs N] [--repeats N] [--seed S] "
            "[--threads N] [--no-study] [--ensemble K] [--user-only] [--no-default] "
            "[--verbose]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("RECNN_DATA_DIR");
    const char *base = dir && *dir ? dir : "../shared/datasets";
    const char *netflix[64];
    int n_netflix = 0, which = 0, synth = 0, full = 0, quick = 0, epochs = 0;
    int repeats = -1, do_study = 1, verbose = 0;
    unsigned long long seed = 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--ml100k"))
            which = 0;
        else if (!strcmp(argv[a], "--ml-latest-small"))
            which = 1;
        else if (!strcmp(argv[a], "--netflix") && a + 1 < argc && n_netflix < 64) {
            which = 2;
            netflix[n_netflix++] = argv[++a];
        } else if (!strcmp(argv[a], "--synthetic"))
            synth = 1;
        else if (!strcmp(argv[a], "--full"))
            full = 1;
        else if (!strcmp(argv[a], "--quick"))
            quick = 1;
        else if (!strcmp(argv[a], "--ensemble") && a + 1 < argc)
            g_ensemble = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--user-only"))
            g_user_only = 1;
        else if (!strcmp(argv[a], "--no-study"))
            do_study = 0;
        else if (!strcmp(argv[a], "--no-default"))
            which = -1;
        else if (!strcmp(argv[a], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[a], "--epochs") && a + 1 < argc)
            epochs = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--repeats") && a + 1 < argc)
            repeats = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            CHECK(recnn_set_num_threads(atoi(argv[++a])));
        else
            usage();
    }
    if (epochs <= 0)
        epochs = quick ? 15 : 150;
    if (epochs < 150)
        g_epoch_cap = epochs;
    if (repeats <= 0)
        repeats = quick ? 1 : 5;
    if (quick && g_ensemble > 2)
        g_ensemble = 2;

    recnn_dataset *all = NULL;
    char path[1024];
    const char *name = "ml-100k";
    if (which == -1) {
        name = "no default dataset";
    } else if (which == 2) {
        name = "netflix";
        CHECK(recnn_dataset_load_files(&all, netflix, (size_t)n_netflix,
                                       RECNN_FORMAT_NETFLIX, NULL));
    } else {
        if (which == 0)
            snprintf(path, sizeof path, "%s/ml-100k/u.data", base);
        else {
            snprintf(path, sizeof path, "%s/ml-latest-small/ratings.csv", base);
            name = "ml-latest-small";
        }
        struct stat sb;
        if (stat(path, &sb) == 0)
            CHECK(recnn_dataset_load(&all, path, RECNN_FORMAT_AUTO, NULL));
        else
            fprintf(stderr, "deep_autoencoder: %s not found (set RECNN_DATA_DIR); "
                            "skipping the %s study\n",
                    path, name);
    }
    printf("Deep autoencoder study (Netflix paper; paper numbers are Netflix dev RMSE, "
           "ours are on %s)\n",
           name);
    if (all)
        study(all, name, epochs, seed, do_study, repeats, verbose);
    recnn_dataset_free(all);
    if (synth)
        synthetic_netflix(quick ? 3 : 20, seed, verbose);
    if (full)
        full_size(seed);
    printf("\nNotes: the paper's numbers are on Netflix (480k users, 100M ratings) and "
           "not comparable in absolute terms with ML-100K or synthetic data; compare "
           "the ordering of the rows.  The paper reports one baseline RMSE for the 128, "
           "256 and 512 units.  Re-feeding costs batch x items x first width per step "
           "(dense), against nnz x first width for the sparse step.\n");
    return 0;
}
