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
 *                    [--no-refit] [--refit-same-epochs] [--refit-check]
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
 * tuned rows also refit (examples/refit.h): the stopping epoch chosen on
 * validation, a model with the same settings and seed is retrained on the
 * whole training part (train + valid) for that many epochs and tested;
 * both figures are printed (the refit row first).  The
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
 *   --no-refit       tuned rows: only the validation-stopped model
 *   --refit-same-epochs  refit for the best validation epoch itself, not
 *                    scaled by the data growth (see refit_epochs)
 *   --refit-check    only the check of the refit rule on validation data
 *                    (refit_check; use tuning seeds: --seed 42 --repeats 5)
 *   --no-default     skip the ML / Netflix-file study (with --synthetic,
 *                    --full) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recnn.h"
#include "refit.h"
#include "args.h"

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
    /* the refit model (NAN / 0 when not refit): test RMSE, s/epoch, epochs */
    double refit_test, refit_sec_per_epoch;
    int refit_epochs;
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

/* 1: the tuned rows also refit on train + valid (--no-refit: 0). */
static int g_refit = 1;
/* The refit's epochs: the best validation epoch times (data growth)^this;
 * 1 by default, 0 with --refit-same-epochs (see refit_epochs). */
static int g_refit_power = 1;

/* A deep_ae model: `settings`, then `extra`, the epoch cap, the seed; its
 * progress goes to *t. */
static recnn_model *new_model(const char *settings, const char *extra, int64_t seed,
                              trace *t)
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
    recnn_model_set_progress(m, on_epoch, t);
    return m;
}

/* The refit's epoch count for a fit to tr stopped at epoch `best` on va:
 * best x f^power, f = n(tr + va) / n(tr) the data growth (1/0.9 here).
 * For the user-based model an epoch is one pass over the users, so the
 * same count is the same number of steps, and power 0 ("same epochs") is
 * the plain rule; but --refit-check, on validation data only (tuning
 * splits 42-46, docs/models/deep_ae.md), found x f better than x 1 on
 * every split (rows 11 % denser overfit later), so power 1 is the
 * default.  A cap from --epochs still bounds it. */
static int refit_epochs(int best, const recnn_dataset *tr, const recnn_dataset *va,
                        int power)
{
    const double f = (double)(recnn_dataset_n_ratings(tr) + recnn_dataset_n_ratings(va)) /
                     (double)recnn_dataset_n_ratings(tr);
    const long e = lround((double)best * pow(f, power));
    if (g_epoch_cap > 0 && e > g_epoch_cap)
        return g_epoch_cap; /* --epochs below the default caps every fit */
    return e < 1 ? 1 : (int)e;
}

/* The refit of a validation-stopped fit (examples/refit.h): the same
 * settings and seed, trained on tr + va with no validation set for
 * `epochs` epochs.  *secs_per_epoch gets its training time per epoch. */
static recnn_model *refit(const char *settings, const char *extra, int64_t seed, int epochs,
                          const recnn_dataset *tr, const recnn_dataset *va, int verbose,
                          double *secs_per_epoch)
{
    trace t = {0};
    t.verbose = verbose;
    recnn_model *m = new_model(settings, extra, seed, &t);
    CHECK(refit_fit(m, epochs, tr, va));
    if (t.epochs != epochs) {
        fprintf(stderr, "refit: ran %d epochs, asked for %d\n", t.epochs, epochs);
        exit(1);
    }
    *secs_per_epoch = t.epochs ? t.secs / t.epochs : NAN;
    return m;
}

/* One fit, stopped on va; with do_refit (and va) also its refit. */
static result run(const char *settings, const char *extra, int64_t seed,
                  const recnn_dataset *tr, const recnn_dataset *va,
                  const recnn_dataset *te, int verbose, int do_refit)
{
    trace t = {0};
    t.verbose = verbose;
    recnn_model *m = new_model(settings, extra, seed, &t);
    CHECK(recnn_model_fit(m, tr, va));
    result r = {0};
    r.valid = va ? rmse_of(m, va) : NAN;
    r.test = te ? rmse_of(m, te) : NAN;
    r.best_epoch = t.best_epoch;
    r.epochs = t.epochs;
    r.sec_per_epoch = t.epochs ? t.secs / t.epochs : NAN;
    recnn_model_free(m);
    r.refit_test = NAN;
    if (do_refit && va && te) {
        r.refit_epochs = refit_epochs(t.best_epoch, tr, va, g_refit_power);
        m = refit(settings, extra, seed, r.refit_epochs, tr, va, verbose,
                  &r.refit_sec_per_epoch);
        r.refit_test = rmse_of(m, te);
        recnn_model_free(m);
    }
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
 * early-stopped on its own, and their predictions are averaged; with
 * g_refit each member is also refit at its own best epoch and the refit
 * members' predictions averaged.  *single gets member 0's figures. */
static result run_ensemble(const char *settings, const char *extra, int64_t seed, int k,
                           const recnn_dataset *tr, const recnn_dataset *va,
                           const recnn_dataset *te, int verbose, result *single)
{
    int64_t nv = recnn_dataset_n_ratings(va), nt = recnn_dataset_n_ratings(te);
    float *sv = calloc((size_t)(nv ? nv : 1), sizeof *sv);
    float *st = calloc((size_t)(nt ? nt : 1), sizeof *st);
    float *sr = calloc((size_t)(nt ? nt : 1), sizeof *sr);
    result e = {0};
    for (int j = 0; j < k; j++) {
        const int64_t sj = j == 0 ? seed : seed * 1000 + j;
        trace t = {0};
        t.verbose = verbose;
        recnn_model *m = new_model(settings, extra, sj, &t);
        CHECK(recnn_model_fit(m, tr, va));
        float *pv = predictions(m, va), *pt = predictions(m, te), *pr = NULL;
        recnn_model_free(m);
        double refit_spe = NAN;
        const int re = refit_epochs(t.best_epoch, tr, va, g_refit_power);
        if (g_refit) {
            m = refit(settings, extra, sj, re, tr, va, verbose, &refit_spe);
            pr = predictions(m, te);
            recnn_model_free(m);
        }
        if (j == 0) {
            single->valid = rmse_arrays(pv, va, tr);
            single->test = rmse_arrays(pt, te, tr);
            single->best_epoch = t.best_epoch;
            single->epochs = t.epochs;
            single->sec_per_epoch = t.epochs ? t.secs / t.epochs : NAN;
            single->refit_test = pr ? rmse_arrays(pr, te, tr) : NAN;
            single->refit_sec_per_epoch = refit_spe;
            single->refit_epochs = re;
        }
        for (int64_t q = 0; q < nv; q++)
            sv[q] += pv[q] / (float)k;
        for (int64_t q = 0; q < nt; q++) {
            st[q] += pt[q] / (float)k;
            if (pr)
                sr[q] += pr[q] / (float)k;
        }
        e.best_epoch += t.best_epoch;
        e.epochs += t.epochs;
        e.sec_per_epoch += t.epochs ? t.secs / t.epochs / k : 0;
        e.refit_sec_per_epoch += g_refit ? refit_spe / k : 0;
        e.refit_epochs += re;
        free(pv);
        free(pt);
        free(pr);
    }
    e.valid = rmse_arrays(sv, va, tr);
    e.test = rmse_arrays(st, te, tr);
    e.refit_test = g_refit ? rmse_arrays(sr, te, tr) : NAN;
    e.best_epoch /= k;
    e.epochs /= k;
    e.refit_epochs /= k;
    free(sv);
    free(st);
    free(sr);
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

/* One tuned row over its splits: the sums of the figures and the test RMSE
 * of each split (validation-stopped and refit), for the mean +- 95 % CI. */
typedef struct tally {
    result sum;
    int n;
    double *test, *refit;
} tally;

static void tally_init(tally *t, int repeats)
{
    memset(t, 0, sizeof *t);
    t->test = calloc((size_t)repeats, sizeof *t->test);
    t->refit = calloc((size_t)repeats, sizeof *t->refit);
    if (!t->test || !t->refit) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
}

static void tally_add(tally *t, const char *label, int r, uint64_t seed, result x)
{
    fprintf(stderr, "  %s split %d (seed %llu): valid %.4f test %.4f", label, r + 1,
            (unsigned long long)seed, x.valid, x.test);
    if (g_refit)
        fprintf(stderr, " refit %.4f (%d epochs on train+valid)", x.refit_test,
                x.refit_epochs);
    fprintf(stderr, "\n");
    t->test[t->n] = x.test;
    t->refit[t->n] = x.refit_test;
    t->n++;
    t->sum.valid += x.valid;
    t->sum.test += x.test;
    t->sum.refit_test += x.refit_test;
    t->sum.best_epoch += x.best_epoch;
    t->sum.epochs += x.epochs;
    t->sum.sec_per_epoch += x.sec_per_epoch;
    t->sum.refit_sec_per_epoch += x.refit_sec_per_epoch;
    t->sum.refit_epochs += x.refit_epochs;
}

/* "mean +- half", or the mean alone when there is no CI (one value). */
static const char *mean_ci(char *buf, size_t cap, double mean, double half)
{
    if (isnan(half))
        snprintf(buf, cap, "%.4f", mean);
    else
        snprintf(buf, cap, "%.4f +- %.4f", mean, half);
    return buf;
}

/* With refit: "<label> (refit)" (valid: the validation RMSE that chose its
 * epoch count; best: the stopping epoch; epochs: the refit's) above
 * "  validation-stopped"; then the
 * test RMSE mean +- 95 % CI over the splits.  Frees t's arrays. */
static void tally_print(tally *t, const char *label, double paper)
{
    const int n = t->n;
    result m = t->sum;
    m.valid /= n;
    m.test /= n;
    m.sec_per_epoch /= n;
    m.best_epoch /= n;
    m.epochs /= n;
    double mean, half, rmean = NAN, rhalf = NAN;
    CHECK(recnn_mean_ci95(t->test, (size_t)n, &mean, &half));
    if (g_refit) {
        CHECK(recnn_mean_ci95(t->refit, (size_t)n, &rmean, &rhalf));
        char rl[64];
        snprintf(rl, sizeof rl, "%s (refit)", label);
        result f = m;
        f.test = t->sum.refit_test / n;
        f.epochs = t->sum.refit_epochs / n;
        f.sec_per_epoch = t->sum.refit_sec_per_epoch / n;
        print_row(rl, paper, f, n);
        print_row("  validation-stopped", paper, m, n);
        char b1[64], b2[64];
        printf("  %s, test RMSE over %d split%s: refit %s, validation-stopped %s%s\n", label,
               n, n > 1 ? "s" : "", mean_ci(b1, sizeof b1, rmean, rhalf),
               mean_ci(b2, sizeof b2, mean, half), n > 1 ? " (mean +- 95 % CI)" : "");
    } else {
        print_row(label, paper, m, n);
        char b1[64];
        printf("  %s, test RMSE over %d split%s: %s%s\n", label, n, n > 1 ? "s" : "",
               mean_ci(b1, sizeof b1, mean, half), n > 1 ? " (mean +- 95 % CI)" : "");
    }
    fflush(stdout);
    free(t->test);
    free(t->refit);
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
    if (g_epoch_cap > 0)
        printf("every row's epochs (the tuned rows' too) capped at %d, patience too\n",
               g_epoch_cap);
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
            res[k] = run(common, STUDY[k].settings, (int64_t)seed, tr, va, te, verbose, 0);
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
        res[N_STUDY] = run(common, rf, (int64_t)seed, tr, va, te, verbose, 0);
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
                      run(common, ABLATE[k].settings, (int64_t)seed, tr, va, te, verbose, 0),
                      1);
        }
    }
    for (int k = 0; k < N_TUNED; k++) {
        const int ens = k == 0 && g_ensemble > 1; /* the user-based row */
        if (g_user_only && k > 0)
            break;
        tally one, avg;
        tally_init(&one, repeats);
        tally_init(&avg, repeats);
        char elabel[64];
        snprintf(elabel, sizeof elabel, "  average of %d seeds", g_ensemble);
        for (int r = 0; r < repeats; r++) {
            recnn_dataset *a, *b, *c;
            const uint64_t sr = seed + (uint64_t)r;
            split(all, sr, &a, &b, &c);
            /* tuned rows: the paper's optimizer unless the row says otherwise */
            result x = {0};
            if (ens)
                tally_add(&avg, elabel + 2, r, sr,
                          run_ensemble(common, TUNED[k].settings, (int64_t)sr, g_ensemble, a,
                                       b, c, verbose, &x));
            else
                x = run(common, TUNED[k].settings, (int64_t)sr, a, b, c, verbose, g_refit);
            tally_add(&one, TUNED[k].label, r, sr, x);
            recnn_dataset_free(a);
            recnn_dataset_free(b);
            recnn_dataset_free(c);
        }
        tally_print(&one, TUNED[k].label, TUNED[k].paper);
        if (ens)
            tally_print(&avg, elabel, NAN);
        else {
            free(avg.test);
            free(avg.refit);
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

/* ---- the refit rule, checked on validation data only ------------------------ */

/* --refit-check: for the splits of seeds seed .. seed+repeats-1 (meant to
 * be tuning seeds, e.g. 42, not the evaluation seeds 1-5), the training
 * part is split once more (10 %, seed + 100): its larger part is trained
 * and its 10 % chooses the stopping epoch E, as in the tuned rows; then the
 * validation-stopped model and models refit on the whole training part for
 * E x f^p epochs (p = 0, 1, 2; f the data growth) are scored on the
 * split's validation part.  The split's test part is never used. */
static void refit_check(const recnn_dataset *all, int epochs, uint64_t seed, int repeats,
                        int verbose)
{
    char common[256];
    snprintf(common, sizeof common, PAPER " epochs=%d patience=%d", epochs,
             epochs < 40 ? epochs : 25);
    const char *set = TUNED[0].settings;
    printf("\nrefit check (%s; validation data only): RMSE on each split's validation "
           "part\n%-6s | %5s | %8s | %8s %8s %8s\n",
           TUNED[0].label, "seed", "E", "stopped", "refit E", "E*f", "E*f^2");
    double sum[4] = {0};
    for (int r = 0; r < repeats; r++) {
        const uint64_t sr = seed + (uint64_t)r;
        recnn_dataset *tr, *va, *te, *itr, *iva;
        split(all, sr, &tr, &va, &te);
        recnn_dataset_free(te); /* not used */
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.seed = sr + 100;
        so.test_fraction = 0.1;
        CHECK(recnn_split_random(tr, &so, &itr, NULL, &iva));
        trace t = {0};
        t.verbose = verbose;
        recnn_model *m = new_model(common, set, (int64_t)sr, &t);
        CHECK(recnn_model_fit(m, itr, iva));
        double v[4] = {rmse_of(m, va)};
        recnn_model_free(m);
        for (int p = 0; p < 3; p++) {
            double spe;
            m = refit(common, set, (int64_t)sr, refit_epochs(t.best_epoch, itr, iva, p), itr,
                      iva, verbose, &spe);
            v[p + 1] = rmse_of(m, va);
            recnn_model_free(m);
        }
        printf("%-6llu | %5d | %8.4f | %8.4f %8.4f %8.4f\n", (unsigned long long)sr,
               t.best_epoch, v[0], v[1], v[2], v[3]);
        fflush(stdout);
        for (int q = 0; q < 4; q++)
            sum[q] += v[q] / repeats;
        recnn_dataset_free(tr);
        recnn_dataset_free(va);
        recnn_dataset_free(itr);
        recnn_dataset_free(iva);
    }
    printf("%-6s | %5s | %8.4f | %8.4f %8.4f %8.4f\n", "mean", "", sum[0], sum[1], sum[2],
           sum[3]);
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
    /* every row of this run, the tuned one too, trains at most `epochs` */
    const int cap = g_epoch_cap;
    g_epoch_cap = epochs;
    study(all, "synthetic-netflix-small", epochs, seed, 0, 1, verbose);
    g_epoch_cap = cap;
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

static void usage(void);

/* A whole decimal number in [lo, hi], or usage(). */
static unsigned long long num(const char *v, unsigned long long lo, unsigned long long hi)
{
    unsigned long long x;
    if (!arg_uint(v, lo, hi, &x)) {
        fprintf(stderr, "deep_autoencoder: bad number '%s' (want %llu..%llu)\n", v, lo, hi);
        usage();
    }
    return x;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: deep_autoencoder [--ml100k | --ml-latest-small | --netflix PATH ...] "
            "[--synthetic] [--full] [--quick] [--epochs N] [--repeats N] [--seed S] "
            "[--threads N] [--no-study] [--no-refit] [--refit-same-epochs] [--refit-check] "
            "[--ensemble K] [--user-only] [--no-default] [--verbose]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("RECNN_DATA_DIR");
    const char *base = dir && *dir ? dir : "../shared/datasets";
    const char *netflix[64];
    int n_netflix = 0, which = 0, synth = 0, full = 0, quick = 0, epochs = 0;
    int repeats = -1, do_study = 1, verbose = 0, check = 0, ensemble_given = 0;
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
        else if (!strcmp(argv[a], "--ensemble") && a + 1 < argc) {
            g_ensemble = (int)num(argv[++a], 0, 1000);
            ensemble_given = 1;
        } else if (!strcmp(argv[a], "--user-only"))
            g_user_only = 1;
        else if (!strcmp(argv[a], "--no-study"))
            do_study = 0;
        else if (!strcmp(argv[a], "--no-refit"))
            g_refit = 0;
        else if (!strcmp(argv[a], "--refit-same-epochs"))
            g_refit_power = 0;
        else if (!strcmp(argv[a], "--refit-check"))
            check = 1;
        else if (!strcmp(argv[a], "--no-default"))
            which = -1;
        else if (!strcmp(argv[a], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[a], "--epochs") && a + 1 < argc)
            epochs = (int)num(argv[++a], 1, 100000);
        else if (!strcmp(argv[a], "--repeats") && a + 1 < argc)
            repeats = (int)num(argv[++a], 1, 1000);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = num(argv[++a], 0, (unsigned long long)INT64_MAX / 1000);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc) {
            if (!arg_threads("deep_autoencoder", (long long)num(argv[++a], 0, 1000000)))
                return 2;
        } else
            usage();
    }
    if (epochs <= 0)
        epochs = quick ? 15 : 150;
    if (epochs < 150)
        g_epoch_cap = epochs;
    if (repeats <= 0)
        repeats = quick ? 1 : 5;
    if (quick && !ensemble_given && g_ensemble > 2)
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
    if (all && check) {
        refit_check(all, epochs, seed, repeats, verbose);
        recnn_dataset_free(all);
        return 0;
    }
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
