/* Reproduces the AutoRec experiments (Sedhain, Menon, Sanner, Xie, WWW
 * 2015; section 3 of ../shared/papers/cfgan-aaf-movielens.txt) on
 * MovieLens 100K, and on ML-1M / ML-10M / Netflix for users who have them:
 *
 *   Table 1a  I-AutoRec and U-AutoRec test RMSE, mean +- 95 % CI
 *   Table 1b  I-AutoRec with identity/sigmoid choices of f and g
 *   Figure 5  I-AutoRec RMSE as the hidden units k vary (CSV + gnuplot)
 *
 * Protocol (the paper's): random 90/10 train/test split; 10 % of the
 * training part held out as validation to choose lambda and the stopping
 * epoch; the model is then retrained on the whole training part for that
 * many epochs ("refit"; --no-refit reports the validation-stopped model);
 * users/items without training ratings predict 3; repeated for 5 seeds.
 *
 *   autorec [u.data or directory] [--quick] [--seeds N] [--threads N]
 *           [--lambdas 50,100,150,200,300] [--out DIR] [--no-refit]
 *           [--only 1a|1b|5] [--item-only] [--ml1m PATH] [--ml10m PATH] [--netflix PATH]
 *           [--skip-100k]
 *
 * Default data: ${RECNN_DATA_DIR:-../shared/datasets}/ml-100k/u.data. */
#include <recnn.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "refit.h"
#include "args.h"

#define MAX_SEEDS 32
#define MAX_LAMBDAS 16

typedef struct options {
    int quick, seeds, threads, refit, skip_100k, item_only;
    const char *only; /* "1a", "1b", "5" or NULL = all */
    int n_lambdas;
    double lambdas[MAX_LAMBDAS];
    const char *out_dir;
    const char *ml100k, *ml1m, *ml10m, *netflix;
    int max_epochs;
} options;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what, int st)
{
    fprintf(stderr, "autorec: %s: %s (%s)\n", what, recnn_strerror(st), recnn_last_error());
    exit(1);
}

/* ---- one training run ------------------------------------------------------ */

typedef struct run_trace {
    int best_epoch, epochs;
    double best_valid;
} run_trace;

static int on_epoch(const recnn_progress *p, void *ud)
{
    run_trace *t = ud;
    t->epochs = p->epoch;
    if (p->improved) {
        t->best_epoch = p->epoch;
        t->best_valid = p->valid_metric;
    }
    return 0;
}

static double test_rmse(const recnn_model *m, const recnn_dataset *test)
{
    recnn_rating_opts o;
    recnn_rating_opts_init(&o); /* clamp to [1, 5]; unseen -> default_rating 3 */
    recnn_rating_metrics r;
    r.size = sizeof r;
    int st = recnn_rating_metrics_model(m, test, &o, &r);
    if (st)
        die("evaluation", st);
    return r.rmse;
}

typedef struct result {
    double rmse;       /* test RMSE of the reported model */
    double stop_rmse;  /* test RMSE of the validation-stopped model */
    double valid;      /* best validation RMSE */
    double lambda;
    int epoch;         /* chosen stopping epoch */
    double seconds;    /* wall time of every fit of this cell */
} result;

/* Trains `settings` with lambda chosen from the grid on `valid`, then
 * (refit, examples/refit.h) retrains on train + valid for the chosen number
 * of epochs. */
static result run_cell(const options *o, const char *settings, const recnn_dataset *train,
                       const recnn_dataset *valid, const recnn_dataset *test)
{
    result best = {NAN, NAN, INFINITY, 0, 0, 0};
    double t0 = now_s();
    char buf[512];
    for (int l = 0; l < o->n_lambdas; l++) {
        recnn_model *m = NULL;
        int st = recnn_model_create(&m, "autorec");
        if (st)
            die("create", st);
        snprintf(buf, sizeof buf, "%s l2=%g epochs=%d", settings, o->lambdas[l],
                 o->max_epochs);
        if ((st = recnn_model_configure(m, buf)))
            die(buf, st);
        run_trace tr = {0, 0, INFINITY};
        recnn_model_set_progress(m, on_epoch, &tr);
        if ((st = recnn_model_fit(m, train, valid)))
            die("fit", st);
        if (tr.best_valid < best.valid) {
            best.valid = tr.best_valid;
            best.lambda = o->lambdas[l];
            best.epoch = tr.best_epoch;
            best.stop_rmse = test_rmse(m, test);
        }
        recnn_model_free(m);
    }
    best.rmse = best.stop_rmse;
    if (o->refit) {
        recnn_model *m = NULL;
        int st = recnn_model_create(&m, "autorec");
        if (st)
            die("create", st);
        snprintf(buf, sizeof buf, "%s l2=%g", settings, best.lambda);
        if ((st = recnn_model_configure(m, buf)))
            die(buf, st);
        if ((st = refit_fit(m, best.epoch, train, valid)))
            die("refit", st);
        best.rmse = test_rmse(m, test);
        recnn_model_free(m);
    }
    best.seconds = now_s() - t0;
    return best;
}

/* ---- repeated splits ------------------------------------------------------------ */

typedef struct splits {
    int n;
    recnn_dataset *train[MAX_SEEDS], *valid[MAX_SEEDS], *test[MAX_SEEDS];
} splits;

static void make_splits(const recnn_dataset *d, int n, splits *s)
{
    s->n = n;
    for (int k = 0; k < n; k++) {
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.seed = (uint64_t)(k + 1);
        so.test_fraction = 0.1;
        so.valid_fraction = 0.1;
        int st = recnn_split_random(d, &so, &s->train[k], &s->valid[k], &s->test[k]);
        if (st)
            die("split", st);
    }
}

static void free_splits(splits *s)
{
    for (int k = 0; k < s->n; k++) {
        recnn_dataset_free(s->train[k]);
        recnn_dataset_free(s->valid[k]);
        recnn_dataset_free(s->test[k]);
    }
}

typedef struct summary {
    double mean, half, stop_mean, lambda_mode;
    int epoch_min, epoch_max;
    double seconds;
} summary;

/* Runs a cell on every split and summarises it. */
static summary repeat(const options *o, const splits *s, const char *settings,
                      const char *label)
{
    double v[MAX_SEEDS], w[MAX_SEEDS];
    summary sm = {0, NAN, 0, 0, 1 << 30, 0, 0};
    for (int k = 0; k < s->n; k++) {
        result r = run_cell(o, settings, s->train[k], s->valid[k], s->test[k]);
        v[k] = r.rmse;
        w[k] = r.stop_rmse;
        sm.seconds += r.seconds;
        sm.lambda_mode = r.lambda; /* printed per split below */
        if (r.epoch < sm.epoch_min)
            sm.epoch_min = r.epoch;
        if (r.epoch > sm.epoch_max)
            sm.epoch_max = r.epoch;
        printf("    %-28s split %d: lambda %-6g epoch %-4d valid %.4f  test %.4f%s  (%.1f s)\n",
               label, k + 1, r.lambda, r.epoch, r.valid, r.rmse,
               o->refit ? " (refit)" : "", r.seconds);
        fflush(stdout);
    }
    recnn_mean_ci95(v, (size_t)s->n, &sm.mean, &sm.half);
    double h2;
    recnn_mean_ci95(w, (size_t)s->n, &sm.stop_mean, &h2);
    return sm;
}

static void print_ci(const summary *s)
{
    if (isnan(s->half))
        printf("%.4f         ", s->mean);
    else
        printf("%.4f +- %.4f", s->mean, s->half);
}

/* ---- the experiments ------------------------------------------------------------ */

static int g_write_failed; /* some output file could not be opened or written */

static FILE *open_out(const options *o, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", o->out_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "autorec: cannot write %s: %s\n", path, strerror(errno));
        g_write_failed = 1;
    }
    return f;
}

/* Closes an output file; a failed write or close counts as a write failure. */
static void close_out(FILE *f, const char *name)
{
    if (!f)
        return;
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "autorec: error writing %s\n", name);
        g_write_failed = 1;
    }
}

static void table_1a(const options *o, const splits *s, const char *data, FILE *csv)
{
    /* paper, Table 1a (ML-1M, ML-10M) */
    static const double paper_u[2] = {0.874, 0.867}, paper_i[2] = {0.831, 0.782};
    printf("\nTable 1a: RMSE on %s (%d splits, mean +- 95 %% CI)\n", data, s->n);
    summary i = repeat(o, s, "variant=item", "I-AutoRec");
    if (o->item_only) {
        printf("  I-AutoRec  ");
        print_ci(&i);
        printf("  (validation-stopped %.4f)   paper ML-1M 0.831\n", i.stop_mean);
        if (csv)
            fprintf(csv, "%s,%s,%.6f,%.6f,%.6f,%d\n", data, "I-AutoRec", i.mean, i.half,
                    i.stop_mean, s->n);
        return;
    }
    summary u = repeat(o, s, "variant=user", "U-AutoRec");
    printf("  %-10s  %-22s %-22s %s\n", "model", "ours (refit)", "validation-stopped",
           "paper ML-1M / ML-10M");
    const summary *rows[2] = {&u, &i};
    const char *names[2] = {"U-AutoRec", "I-AutoRec"};
    const double *paper[2] = {paper_u, paper_i};
    for (int r = 0; r < 2; r++) {
        printf("  %-10s  ", names[r]);
        print_ci(rows[r]);
        printf("        %.4f            %.3f / %.3f\n", rows[r]->stop_mean, paper[r][0],
               paper[r][1]);
        if (csv)
            fprintf(csv, "%s,%s,%.6f,%.6f,%.6f,%d\n", data, names[r], rows[r]->mean,
                    rows[r]->half, rows[r]->stop_mean, s->n);
    }
    printf("  I-AutoRec %s U-AutoRec (the paper: I-AutoRec better)\n",
           i.mean < u.mean ? "beats" : "does NOT beat");
}

static void table_1b(const options *o, const splits *s, FILE *csv)
{
    static const char *fg[4][2] = {
        {"identity", "identity"}, {"sigmoid", "identity"}, {"identity", "sigmoid"},
        {"sigmoid", "sigmoid"}};
    static const double paper[4] = {0.872, 0.852, 0.831, 0.836};
    printf("\nTable 1b: I-AutoRec with f (output) / g (hidden) activations, ML-100K\n");
    summary r[4];
    for (int k = 0; k < 4; k++) {
        char set[128], label[64];
        snprintf(set, sizeof set, "variant=item f=%s g=%s", fg[k][0], fg[k][1]);
        snprintf(label, sizeof label, "f=%s g=%s", fg[k][0], fg[k][1]);
        r[k] = repeat(o, s, set, label);
    }
    printf("  %-9s %-9s %-22s %s\n", "f", "g", "ours", "paper (ML-1M)");
    for (int k = 0; k < 4; k++) {
        printf("  %-9s %-9s ", fg[k][0], fg[k][1]);
        print_ci(&r[k]);
        printf("        %.3f\n", paper[k]);
        if (csv)
            fprintf(csv, "%s,%s,%.6f,%.6f,%.3f\n", fg[k][0], fg[k][1], r[k].mean, r[k].half,
                    paper[k]);
    }
}

static void figure_5(const options *o, const splits *s, FILE *csv)
{
    static const int ks_full[] = {10, 20, 40, 80, 100, 200, 300, 400, 500};
    static const int ks_quick[] = {10, 40, 100, 500};
    const int *ks = o->quick ? ks_quick : ks_full;
    int nk = o->quick ? 4 : 9;
    printf("\nFigure 5: I-AutoRec RMSE vs hidden units k, ML-100K\n");
    printf("  (the paper plots ML-1M; its text gives only the k = 500 value, 0.831,\n"
           "   and says the RMSE falls steadily with k, with diminishing returns)\n");
    double prev = INFINITY;
    for (int j = 0; j < nk; j++) {
        char set[64], label[32];
        snprintf(set, sizeof set, "variant=item hidden=%d", ks[j]);
        snprintf(label, sizeof label, "k=%d", ks[j]);
        summary r = repeat(o, s, set, label);
        printf("  k = %-4d ", ks[j]);
        print_ci(&r);
        printf("   %s%s\n", ks[j] == 500 ? "paper (ML-1M): 0.831" : "",
               r.mean < prev ? "" : "  (no better than the previous k)");
        prev = r.mean;
        if (csv)
            fprintf(csv, "%d,%.6f,%.6f,%s\n", ks[j], r.mean, isnan(r.half) ? 0.0 : r.half,
                    ks[j] == 500 ? "0.831" : "");
    }
}

static void write_gnuplot(const options *o)
{
    FILE *g = open_out(o, "figure5.gp");
    if (!g)
        return;
    fprintf(g, "# cd %s && gnuplot figure5.gp  ->  figure5.png\n"
               "set terminal pngcairo size 800,500\n"
               "set output 'figure5.png'\n"
               "set datafile separator ','\n"
               "set title 'I-AutoRec RMSE vs hidden units (ML-100K, mean +- 95%% CI)'\n"
               "set xlabel 'hidden units k'\nset ylabel 'test RMSE'\n"
               "set logscale x\nset grid\nset key top right\n"
               "plot 'figure5.csv' skip 1 using 1:2:3 with yerrorlines title 'librecnn "
               "I-AutoRec (ML-100K)', \\\n"
               "     0.831 with lines dashtype 2 title 'paper, k = 500 (ML-1M)'\n",
            o->out_dir);
    close_out(g, "figure5.gp");
}

static int load(const char *path, recnn_dataset **d)
{
    double t0 = now_s();
    int st = recnn_dataset_load(d, path, RECNN_FORMAT_AUTO, NULL);
    if (st) {
        fprintf(stderr, "autorec: cannot load %s: %s (%s)\n", path, recnn_strerror(st),
                recnn_last_error());
        return st;
    }
    printf("%s: %lld users x %lld items, %lld ratings (loaded in %.1f s)\n", path,
           (long long)recnn_dataset_n_users(*d), (long long)recnn_dataset_n_items(*d),
           (long long)recnn_dataset_n_ratings(*d), now_s() - t0);
    return RECNN_OK;
}

/* "a,b,c": finite numbers >= 0, at most MAX_LAMBDAS; 0 when malformed. */
static int parse_lambdas(options *o, const char *s)
{
    o->n_lambdas = 0;
    for (;;) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || v < 0 || o->n_lambdas == MAX_LAMBDAS)
            return 0;
        o->lambdas[o->n_lambdas++] = v;
        if (!*end)
            return 1;
        if (*end != ',')
            return 0;
        s = end + 1;
    }
}

/* A whole decimal integer in [lo, hi]; 0 when malformed. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
    unsigned long long v;
    if (!arg_uint(s, (unsigned long long)lo, (unsigned long long)hi, &v))
        return 0;
    *out = (int)v;
    return 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: autorec [u.data] [--quick] [--seeds N] [--threads N] "
            "[--lambdas a,b,c] [--out DIR] [--no-refit] [--only 1a|1b|5] [--item-only] [--ml1m PATH] "
            "[--ml10m PATH] [--netflix PATH] [--skip-100k]\n");
    return 2;
}

int main(int argc, char **argv)
{
    options o = {0};
    o.seeds = 5;
    o.refit = 1;
    o.out_dir = "autorec-results";
    o.max_epochs = 500;
    static char def_path[1024];
    const char *dir = getenv("RECNN_DATA_DIR");
    snprintf(def_path, sizeof def_path, "%s/ml-100k/u.data",
             dir && *dir ? dir : "../shared/datasets");
    o.ml100k = def_path;
    int ml100k_given = 0, seeds_given = 0, lambdas_given = 0;
    parse_lambdas(&o, "50,100,150,200,300");
    for (int a = 1; a < argc; a++) {
        const char *s = argv[a];
        const char *next = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(s, "--quick"))
            o.quick = 1;
        else if (!strcmp(s, "--no-refit"))
            o.refit = 0;
        else if (!strcmp(s, "--only") && next) {
            o.only = argv[++a];
            if (strcmp(o.only, "1a") && strcmp(o.only, "1b") && strcmp(o.only, "5")) {
                fprintf(stderr, "autorec: --only must be 1a, 1b or 5, not '%s'\n", o.only);
                return usage();
            }
        }
        else if (!strcmp(s, "--item-only"))
            o.item_only = 1;
        else if (!strcmp(s, "--skip-100k"))
            o.skip_100k = 1;
        else if (!strcmp(s, "--seeds") && next) {
            if (!parse_int(argv[++a], 1, MAX_SEEDS, &o.seeds)) {
                fprintf(stderr, "autorec: --seeds must be an integer in 1..%d\n", MAX_SEEDS);
                return usage();
            }
            seeds_given = 1;
        } else if (!strcmp(s, "--threads") && next) {
            if (!parse_int(argv[++a], 0, 1000000, &o.threads)) {
                fprintf(stderr, "autorec: --threads must be an integer >= 0\n");
                return usage();
            }
        } else if (!strcmp(s, "--lambdas") && next) {
            if (!parse_lambdas(&o, argv[++a])) {
                fprintf(stderr,
                        "autorec: --lambdas must be 1 to %d numbers >= 0 separated by "
                        "commas, not '%s'\n",
                        MAX_LAMBDAS, argv[a]);
                return usage();
            }
            lambdas_given = 1;
        }
        else if (!strcmp(s, "--out") && next)
            o.out_dir = argv[++a];
        else if (!strcmp(s, "--ml1m") && next)
            o.ml1m = argv[++a];
        else if (!strcmp(s, "--ml10m") && next)
            o.ml10m = argv[++a];
        else if (!strcmp(s, "--netflix") && next)
            o.netflix = argv[++a];
        else if (s[0] != '-') {
            o.ml100k = s;
            ml100k_given = 1;
        } else
            return usage();
    }
    if (o.quick) { /* smaller defaults for options not given */
        if (!seeds_given)
            o.seeds = 1;
        if (!lambdas_given)
            parse_lambdas(&o, "100");
        o.max_epochs = 200;
    }
    if (o.seeds < 1 || o.seeds > MAX_SEEDS || o.n_lambdas < 1) {
        fprintf(stderr, "autorec: bad --seeds or --lambdas\n");
        return 2;
    }
    if (RECNN_CHECK_VERSION() != RECNN_OK)
        die("version", RECNN_E_VERSION);
    if (!arg_threads("autorec", o.threads))
        return 2;
    /* every path the user gave must exist before hours of training start */
    const char *given[4] = {ml100k_given && !o.skip_100k ? o.ml100k : NULL, o.ml1m, o.ml10m,
                            o.netflix};
    for (int k = 0; k < 4; k++) {
        struct stat sb;
        if (given[k] && stat(given[k], &sb) != 0) {
            fprintf(stderr, "autorec: cannot read %s: %s\n", given[k], strerror(errno));
            return 1;
        }
    }
    if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "autorec: cannot create %s: %s\n", o.out_dir, strerror(errno));
        return 1;
    }
    printf("librecnn %s, %d threads, BLAS: %s\n", recnn_version(), recnn_get_num_threads(),
           recnn_blas_info());
    printf("AutoRec (Sedhain et al. 2015): k = 500, g = sigmoid, f = identity, RProp full "
           "batch;\n  lambda chosen from {");
    for (int l = 0; l < o.n_lambdas; l++)
        printf("%s%g", l ? ", " : "", o.lambdas[l]);
    printf("} and the stopping epoch (<= %d) on 10 %% of training;\n  %s; %d splits.\n",
           o.max_epochs,
           o.refit ? "then retrained on all of training for that many epochs"
                   : "the validation-stopped model is tested",
           o.seeds);
    double t0 = now_s();
    FILE *t1a = open_out(&o, "table1a.csv");
    if (t1a)
        fprintf(t1a, "data,model,rmse_mean,rmse_ci95,stopped_rmse_mean,splits\n");

    int rc = 0, wrote_gp = 0, ran = 0; /* ran: data sets experimented on */
    struct stat sb;
    if (!o.skip_100k && !ml100k_given && stat(o.ml100k, &sb) != 0) {
        printf("ML-100K not found at %s (give the path to u.data, or set RECNN_DATA_DIR): "
               "skipped\n",
               o.ml100k);
    } else if (!o.skip_100k) {
        recnn_dataset *d = NULL;
        if (load(o.ml100k, &d) != RECNN_OK) {
            rc = 1;
        } else {
            splits s;
            make_splits(d, o.seeds, &s);
            ran++;
            if (!o.only || !strcmp(o.only, "1a"))
                table_1a(&o, &s, "ml-100k", t1a);
            if (!o.only || !strcmp(o.only, "1b")) {
                FILE *t1b = open_out(&o, "table1b.csv");
                if (t1b)
                    fprintf(t1b, "f,g,rmse_mean,rmse_ci95,paper_ml1m\n");
                table_1b(&o, &s, t1b);
                close_out(t1b, "table1b.csv");
            }
            if (!o.only || !strcmp(o.only, "5")) {
                FILE *f5 = open_out(&o, "figure5.csv");
                if (f5)
                    fprintf(f5, "k,rmse_mean,rmse_ci95,paper_ml1m\n");
                figure_5(&o, &s, f5);
                close_out(f5, "figure5.csv");
                write_gnuplot(&o);
                wrote_gp = 1;
            }
            free_splits(&s);
            recnn_dataset_free(d);
        }
    }
    const char *more[3][2] = {{o.ml1m, "ml-1m"}, {o.ml10m, "ml-10m"}, {o.netflix, "netflix"}};
    for (int k = 0; k < 3; k++) {
        if (!more[k][0])
            continue;
        recnn_dataset *d = NULL;
        if (load(more[k][0], &d) != RECNN_OK) {
            rc = 1;
            continue;
        }
        splits s;
        make_splits(d, o.seeds, &s);
        ran++;
        table_1a(&o, &s, more[k][1], t1a);
        free_splits(&s);
        recnn_dataset_free(d);
    }
    close_out(t1a, "table1a.csv");
    if (g_write_failed)
        return 1;
    if (!ran) {
        printf("\nno data loaded: nothing computed\n");
        return rc;
    }
    if (rc) {
        fprintf(stderr, "autorec: some data could not be loaded; the others' results are in "
                        "%s/\n",
                o.out_dir);
        return rc;
    }
    printf("\nCSV%s written to %s/ (total %.0f s)\n", wrote_gp ? " and figure5.gp" : "",
           o.out_dir, now_s() - t0);
    return rc;
}
