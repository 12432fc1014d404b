/* examples/ncf — reproduces ../shared/papers/ncf-movielens.txt: Neural
 * Collaborative Filtering (He et al., WWW 2017) on MovieLens 100K as
 * Microsoft Recommenders trains it, beside the item-popularity and EASE
 * baselines; then the NCF paper's own protocol (leave-one-out, 99 sampled
 * negatives, HR@10 / NDCG@10) on ML-100K and, when given, ML-1M.
 *
 *   ncf [--data DIR|u.data] [--split reference|recommenders|library]
 *       [--epochs N] [--max-epochs N] [--patience N] [--valid F]
 *       [--seeds N] [--threads N] [--factors F] [--layers 16,8,4]
 *       [--out DIR] [--user ID] [--loo-epochs N] [--loo-seeds N]
 *       [--ml1m DIR|ratings.dat] [--no-loo]
 *
 * Protocol of the paper (docs/models/ncf.md has the details):
 *   every rating is an interaction (implicit feedback); per-user
 *   chronological split, each user's earliest 75 % to training
 *   (Recommenders' python_chrono_split; --split below); test users and
 *   items absent from training removed; BCE with 4 negatives per positive
 *   re-sampled each epoch; Adam lr 1e-3, batch 256, 16 factors; top-10
 *   over every item the user has not rated in training; MAP, NDCG@10,
 *   P@10, R@10 with Recommenders' definitions.  Mean and 95 % CI over
 *   --seeds seeds.
 * Epochs: by default chosen on a validation part carved from the
 *   training data only (the latest --valid share, default 0.1, of each
 *   user's training ratings, same chronological rule): each model is
 *   fitted on the rest with early stopping on NDCG@10 (--patience, default
 *   10, at most --max-epochs, default 100), then refitted on the whole
 *   training part for its best epoch count and evaluated once on the test
 *   part.  NeuMF (pre-trained) starts from the GMF and MLP of the same
 *   seed (the validation run from those fitted on the validation split).
 *   --epochs N instead trains every model for N epochs and keeps the last
 *   (the paper: --epochs 100).
 * --split: reference (default) = ties in time in the order of u.data,
 *   round(0.75 n) to training (earlier Recommenders releases; the
 *   references in ../shared/PAPERS.md); recommenders = ties in file
 *   order, floor(0.75 n) (the current python_chrono_split); library =
 *   recnn_split_chrono (ties by item index, floor).
 * Writes the training-loss curves (the paper's Fig. 7) to
 * OUT/ncf_loss.csv with a gnuplot script OUT/ncf_loss.gp, and prints the
 * top of one user's list with titles (Fig. 8). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <recnn.h>
#include <recnn/ncf.h>

#define CHECK(x)                                                                           \
    do {                                                                                   \
        int st_ = (x);                                                                     \
        if (st_ != RECNN_OK) {                                                             \
            fprintf(stderr, "ncf: %s (line %d): %s\n", recnn_strerror(st_), __LINE__,      \
                    recnn_last_error());                                                   \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define MAX_EPOCHS 1000
#define MAX_SEEDS 64

typedef struct opts {
    char data[1024];
    char name[256]; /* the loaded data's name, for headings */
    const char *ml1m;
    const char *out;
    const char *split;
    int epochs, max_epochs, patience, seeds, threads, factors, loo_epochs, loo_seeds, loo;
    double valid;
    const char *layers;
    int64_t user;
} opts;

/* Per-epoch training loss and time of one fit (progress callback). */
typedef struct curve {
    int n, best;
    double loss[MAX_EPOCHS];
    double seconds;
} curve;

static int on_epoch(const recnn_progress *p, void *ud)
{
    curve *c = ud;
    if (c && c->n < MAX_EPOCHS) {
        c->loss[c->n++] = p->train_loss;
        c->seconds += p->seconds;
        if (p->improved)
            c->best = p->epoch;
    }
    return 0;
}

static recnn_model *make(const char *kind, const char *settings, curve *c)
{
    recnn_model *m;
    CHECK(recnn_model_create(&m, kind));
    CHECK(recnn_model_configure(m, settings));
    recnn_model_set_progress(m, on_epoch, c);
    return m;
}

#include "chrono_file_split.h"
#include "args.h"

/* ---- the evaluation of the paper: top-10 over unrated items --------------- */

enum { M_MAP, M_NDCG, M_P, M_R, M_N };

static void eval_topk(const recnn_model *m, const recnn_dataset *train,
                      const recnn_dataset *test, double out[M_N])
{
    recnn_evaluator *e;
    CHECK(recnn_evaluator_create(&e, train, test));
    /* Recommenders' definitions (metrics.h): MAP's denominator = the
     * number of relevant items; unseen users/items skipped. */
    CHECK(recnn_evaluator_configure(e, "k=10 exclude_train=1 skip_unseen=1 map=relevant"));
    CHECK(recnn_evaluator_run_model(e, m));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_MAP, 10, &out[M_MAP]));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_NDCG, 10, &out[M_NDCG]));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_PRECISION, 10, &out[M_P]));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_RECALL, 10, &out[M_R]));
    recnn_evaluator_free(e);
}

/* ---- rows of the result table ---------------------------------------------- */

typedef struct row {
    const char *name;
    double v[MAX_SEEDS][M_N];
    double sec[MAX_SEEDS]; /* mean epoch seconds (NaN: not epoch-based) */
    int ep[MAX_SEEDS];     /* epochs of the final fit (0: not epoch-based) */
    int n;
} row;

static void print_row(const row *r, int ci)
{
    printf("%-24s", r->name);
    for (int k = 0; k < M_N; k++) {
        double col[MAX_SEEDS], mean, half;
        for (int s = 0; s < r->n; s++)
            col[s] = r->v[s][k];
        CHECK(recnn_mean_ci95(col, (size_t)r->n, &mean, &half));
        if (ci && r->n > 1 && isfinite(half))
            printf("  %.4f ± %.4f", mean, half);
        else
            printf("  %.4f         ", mean);
    }
    double sec = 0;
    int ns = 0;
    for (int s = 0; s < r->n; s++)
        if (isfinite(r->sec[s])) {
            sec += r->sec[s];
            ns++;
        }
    if (ns)
        printf("  %7.3f", sec / ns);
    if (r->ep[0] > 0) {
        printf("  ");
        for (int s = 0; s < r->n; s++)
            printf("%s%d", s ? "," : "", r->ep[s]);
    }
    printf("\n");
}

static void print_ref(const char *name, double a, double b, double c, double d)
{
    printf("%-24s  %.6f         %.6f         %.6f         %.6f\n", name, a, b, c, d);
}

/* ---- Fig. 7: loss curves ----------------------------------------------------- */

/* Returns 0, or 1 when a file could not be written (message printed). */
static int write_curves(const opts *o, curve *const *c, const char *const *names, int n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/ncf_loss.csv", o->out);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ncf: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "epoch");
    for (int k = 0; k < n; k++)
        fprintf(f, ",%s", names[k]);
    fprintf(f, "\n");
    int len = 0;
    for (int k = 0; k < n; k++)
        len = c[k]->n > len ? c[k]->n : len;
    for (int e = 0; e < len; e++) {
        fprintf(f, "%d", e + 1);
        for (int k = 0; k < n; k++) {
            if (e < c[k]->n)
                fprintf(f, ",%.6f", c[k]->loss[e]);
            else
                fprintf(f, ",");
        }
        fprintf(f, "\n");
    }
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "ncf: error writing %s\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/ncf_loss.gp", o->out);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ncf: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "# gnuplot %s/ncf_loss.gp  ->  ncf_loss.png (the paper's Fig. 7)\n", o->out);
    fprintf(f, "set datafile separator ','\nset terminal pngcairo size 800,500\n");
    fprintf(f, "set output 'ncf_loss.png'\nset key top right\n");
    fprintf(f, "set xlabel 'epoch'\nset ylabel 'training loss (BCE per example)'\n");
    fprintf(f, "set title 'NCF on %s: training loss (paper, ML-100K: 0.164153 after "
               "100 epochs)'\n", o->name);
    fprintf(f, "plot ");
    for (int k = 0; k < n; k++)
        fprintf(f, "%s'ncf_loss.csv' using 1:%d with lines lw 2 title '%s'", k ? ", " : "",
                k + 2, names[k]);
    fprintf(f, "\n");
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "ncf: error writing %s\n", path);
        return 1;
    }
    printf("\nTraining-loss curves (Fig. 7): %s/ncf_loss.csv, plot with "
           "`cd %s && gnuplot ncf_loss.gp`\n",
           o->out, o->out);
    return 0;
}

/* ---- Fig. 8: one user's list ------------------------------------------------- */

static void show_user(const recnn_model *m, const recnn_dataset *meta,
                      const recnn_dataset *test, int64_t user)
{
    int64_t items[10];
    float logit[10];
    size_t n;
    if (recnn_model_recommend(m, user, 10, items, logit, &n) != RECNN_OK) {
        fprintf(stderr, "ncf: user %lld: %s\n", (long long)user, recnn_last_error());
        return;
    }
    int64_t uidx = -1;
    const int32_t *trow = NULL;
    const float *tv;
    int64_t tlen = 0;
    if (recnn_dataset_user_index(test, user, &uidx) == RECNN_OK)
        recnn_dataset_user_row(test, uidx, &trow, &tv, &tlen);
    printf("\nTop 10 for user %lld, NeuMF with pre-training (Fig. 8; * = in the user's "
           "test set):\n",
           (long long)user);
    printf("  rank  item  prediction  title\n");
    for (size_t k = 0; k < n; k++) {
        float p;
        CHECK(recnn_model_predict(m, user, items[k], &p));
        const char *title = NULL;
        if (meta)
            recnn_dataset_item_title(meta, items[k], &title);
        int64_t iidx;
        int hit = 0;
        if (recnn_dataset_item_index(test, items[k], &iidx) == RECNN_OK)
            for (int64_t q = 0; q < tlen; q++)
                hit |= trow[q] == iidx;
        printf("  %4zu %5lld  %10.6f  %s%s\n", k + 1, (long long)items[k], p,
               title ? title : "?", hit ? " *" : "");
    }
}

/* ---- the NCF paper's protocol: leave-one-out + 99 negatives ------------------ */

static void loo_eval(const recnn_model *m, const recnn_dataset *tr, const recnn_dataset *te,
                     const recnn_candidates *c, double *hr, double *ndcg)
{
    recnn_evaluator *e;
    CHECK(recnn_evaluator_create(&e, tr, te));
    CHECK(recnn_evaluator_configure(e, "k=10"));
    CHECK(recnn_evaluator_set_candidates(e, recnn_candidates_n_users(c),
                                         recnn_candidates_offsets(c),
                                         recnn_candidates_items(c)));
    CHECK(recnn_evaluator_run_model(e, m));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_HR, 10, hr));
    CHECK(recnn_evaluator_value(e, RECNN_METRIC_NDCG, 10, ndcg));
    recnn_evaluator_free(e);
}

static void loo_protocol(const opts *o, const char *name, const recnn_dataset *d)
{
    /* The NCF paper: predictive factors 16 -> GMF 16 factors, MLP
     * 64-32-16 tower (3 hidden layers, embeddings 32); NeuMF pre-trained. */
    const char *kinds[] = {"popularity", "ease", "gmf", "mlp", "neumf"};
    double hr[5][MAX_SEEDS], nd[5][MAX_SEEDS];
    int ns = o->loo_seeds;
    printf("\nNCF paper protocol on %s: leave-one-out (latest rating), 99 sampled "
           "negatives, %d epochs, %d seed%s\n",
           name, o->loo_epochs, ns, ns > 1 ? "s" : "");
    for (int s = 0; s < ns; s++) {
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.seed = (uint64_t)(s + 1);
        recnn_dataset *tr, *te;
        CHECK(recnn_split_leave_one_out(d, &so, &tr, &te));
        recnn_candidates *c;
        CHECK(recnn_candidates_sample(&c, tr, te, 99, (uint64_t)(s + 1)));
        char set[256];
        recnn_model *g = NULL, *p = NULL;
        for (int k = 0; k < 5; k++) {
            recnn_model *m;
            if (k < 2) {
                m = make(kinds[k], "", NULL);
                CHECK(recnn_model_fit(m, tr, NULL));
            } else if (k == 2) {
                snprintf(set, sizeof set, "factors=%d epochs=%d seed=%d", o->factors,
                         o->loo_epochs, s + 1);
                m = g = make("gmf", set, NULL);
                CHECK(recnn_model_fit(m, tr, NULL));
            } else if (k == 3) {
                snprintf(set, sizeof set, "layers=64,32,16,8 epochs=%d seed=%d",
                         o->loo_epochs, s + 101);
                m = p = make("mlp", set, NULL);
                CHECK(recnn_model_fit(m, tr, NULL));
            } else {
                snprintf(set, sizeof set, "factors=%d layers=64,32,16,8 epochs=%d seed=%d",
                         o->factors, o->loo_epochs, s + 201);
                m = make("neumf", set, NULL);
                CHECK(recnn_neumf_fit_pretrained(m, g, p, tr, NULL));
            }
            loo_eval(m, tr, te, c, &hr[k][s], &nd[k][s]);
            if (k == 4) {
                recnn_model_free(g);
                recnn_model_free(p);
                recnn_model_free(m);
            } else if (k < 2) {
                recnn_model_free(m);
            }
        }
        recnn_candidates_free(c);
        recnn_dataset_free(tr);
        recnn_dataset_free(te);
    }
    printf("%-24s  %-16s  %-16s\n", "model", "HR@10", "NDCG@10");
    const char *names[] = {"popularity", "EASE (l2=250)", "GMF", "MLP (64-32-16-8)",
                           "NeuMF (pre-trained)"};
    for (int k = 0; k < 5; k++) {
        double mh, hh, mn, hn;
        CHECK(recnn_mean_ci95(hr[k], (size_t)ns, &mh, &hh));
        CHECK(recnn_mean_ci95(nd[k], (size_t)ns, &mn, &hn));
        if (ns > 1)
            printf("%-24s  %.4f ± %.4f   %.4f ± %.4f\n", names[k], mh, hh, mn, hn);
        else
            printf("%-24s  %.4f            %.4f\n", names[k], mh, mn);
    }
    printf("NCF paper, ML-1M (not this data unless it is ML-1M): NeuMF 16 factors "
           "0.707 / 0.426, 64 factors 0.730 / 0.447\n");
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: ncf [--data DIR|u.data] [--split reference|recommenders|library]\n"
            "           [--epochs N] [--max-epochs N] [--patience N] [--valid F]\n"
            "           [--seeds N] [--threads N] [--factors F] [--layers 16,8,4]\n"
            "           [--out DIR] [--user ID] [--loo-epochs N] [--loo-seeds N]\n"
            "           [--ml1m DIR|ratings.dat] [--no-loo]\n");
    exit(2);
}

/* A name for the data at `path` (a directory or a file in it): the
 * directory's name, e.g. "ml-100k" or "ml-latest-small". */
static void data_name(const char *path, char *out, size_t cap)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    struct stat sb;
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    if (stat(buf, &sb) == 0 && !S_ISDIR(sb.st_mode)) { /* a file: its directory */
        char *sl = strrchr(buf, '/');
        if (sl && sl != buf)
            *sl = 0;
        else if (!sl)
            snprintf(buf, sizeof buf, ".");
    }
    const char *base = strrchr(buf, '/');
    base = base && base[1] ? base + 1 : buf;
    if (!strcmp(base, "."))
        base = path;
    snprintf(out, cap, "%s", base);
}

/* The u.data file behind --data (a directory or the file itself). */
static void udata_path(const char *data, char *out, size_t cap)
{
    size_t n = strlen(data);
    if (n >= 6 && strcmp(data + n - 6, "u.data") == 0)
        snprintf(out, cap, "%s", data);
    else
        snprintf(out, cap, "%s/u.data", data);
}

/* One model of the table for one seed: with o->epochs > 0, `epochs`
 * epochs on train; else the epoch count is chosen by early stopping on
 * (fit, valid) and the model refitted on train with it.  For NeuMF with
 * pre-training, pre = {GMF, MLP} fitted on train and pre_v = the same
 * fitted on fit (for the validation run).  Returns the final model (its
 * loss curve in *c, the validation model freed unless *keep_v). */
static recnn_model *fit_one(const opts *o, const char *kind, const char *settings,
                            const recnn_dataset *train, const recnn_dataset *fit,
                            const recnn_dataset *valid, recnn_model *const pre[2],
                            recnn_model *const pre_v[2], curve *c, recnn_model **keep_v)
{
    char set[512];
    int epochs = o->epochs;
    if (keep_v)
        *keep_v = NULL;
    if (epochs <= 0) {
        curve cv;
        memset(&cv, 0, sizeof cv);
        snprintf(set, sizeof set, "%s epochs=%d patience=%d", settings, o->max_epochs,
                 o->patience);
        recnn_model *v = make(kind, set, &cv);
        if (pre_v)
            CHECK(recnn_neumf_fit_pretrained(v, pre_v[0], pre_v[1], fit, valid));
        else
            CHECK(recnn_model_fit(v, fit, valid));
        epochs = cv.best > 0 ? cv.best : cv.n;
        if (keep_v)
            *keep_v = v;
        else
            recnn_model_free(v);
    }
    snprintf(set, sizeof set, "%s epochs=%d", settings, epochs);
    recnn_model *m = make(kind, set, c);
    if (pre)
        CHECK(recnn_neumf_fit_pretrained(m, pre[0], pre[1], train, NULL));
    else
        CHECK(recnn_model_fit(m, train, NULL));
    return m;
}

int main(int argc, char **argv)
{
    CHECK(RECNN_CHECK_VERSION());
    opts o = {.epochs = 0, .max_epochs = 100, .patience = 10, .valid = 0.1, .seeds = 5,
              .threads = 0, .factors = 16, .loo_epochs = 20, .loo_seeds = 1, .loo = 1,
              .layers = "16,8,4", .out = ".", .user = 1, .split = "reference"};
    const char *dd = getenv("RECNN_DATA_DIR");
    snprintf(o.data, sizeof o.data, "%s/ml-100k", dd && *dd ? dd : "../shared/datasets");
    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
#define ARG(name) (strcmp(argv[a], name) == 0 && v && (a++, 1))
        if (ARG("--data"))
            snprintf(o.data, sizeof o.data, "%s", v);
        else if (ARG("--split"))
            o.split = v;
        else if (ARG("--epochs"))
            o.epochs = atoi(v);
        else if (ARG("--max-epochs"))
            o.max_epochs = atoi(v);
        else if (ARG("--patience"))
            o.patience = atoi(v);
        else if (ARG("--valid"))
            o.valid = atof(v);
        else if (ARG("--seeds"))
            o.seeds = atoi(v);
        else if (ARG("--threads")) {
            unsigned long long t;
            if (!arg_uint(v, 0, 1000000, &t))
                usage();
            o.threads = (int)t;
        }
        else if (ARG("--factors"))
            o.factors = atoi(v);
        else if (ARG("--layers"))
            o.layers = v;
        else if (ARG("--out"))
            o.out = v;
        else if (ARG("--user"))
            o.user = atoll(v);
        else if (ARG("--loo-epochs"))
            o.loo_epochs = atoi(v);
        else if (ARG("--loo-seeds"))
            o.loo_seeds = atoi(v);
        else if (ARG("--ml1m"))
            o.ml1m = v;
        else if (strcmp(argv[a], "--no-loo") == 0)
            o.loo = 0;
        else
            usage();
#undef ARG
    }
    int rule = strcmp(o.split, "reference") == 0 ? 1
               : strcmp(o.split, "recommenders") == 0 ? 0
               : strcmp(o.split, "library") == 0 ? -1
                                                   : -2;
    if (o.epochs < 0 || o.epochs > MAX_EPOCHS || o.max_epochs < 1 ||
        o.max_epochs > MAX_EPOCHS || o.patience < 1 || !(o.valid > 0 && o.valid < 1) ||
        o.seeds < 1 || o.seeds > MAX_SEEDS || o.loo_seeds < 1 || o.loo_seeds > MAX_SEEDS ||
        o.loo_epochs < 1 || rule == -2)
        usage();
    if (!arg_threads("ncf", o.threads))
        return 2;

    recnn_dataset *raw, *d, *meta = NULL;
    int st = recnn_dataset_load(&raw, o.data, RECNN_FORMAT_AUTO, NULL);
    if (st == RECNN_E_IO) {
        fprintf(stderr, "ncf: cannot load %s (%s); MovieLens 100K is at "
                        "https://grouplens.org/datasets/movielens/100k/, pass --data\n",
                o.data, recnn_last_error());
        return 1;
    }
    CHECK(st);
    data_name(o.data, o.name, sizeof o.name);
    /* implicit feedback: every rating is an interaction */
    CHECK(recnn_dataset_binarize(&d, raw, 0.0f));
    char item_path[1100], udata[1100];
    udata_path(o.data, udata, sizeof udata);
    snprintf(item_path, sizeof item_path, "%.*su.item", (int)(strlen(udata) - 6), udata);
    if (recnn_dataset_attach_items(&meta, d, item_path, RECNN_META_ML100K) != RECNN_OK) {
        fprintf(stderr, "ncf: no titles (%s)\n", recnn_last_error());
        meta = NULL;
    }

    /* train/test, and fit/valid inside train for choosing epochs */
    recnn_dataset *train = NULL, *test = NULL, *fit = NULL, *valid = NULL;
    if (rule >= 0 && file_chrono_split(d, udata, 0.25, o.valid, rule, &train, &test, &fit,
                                       &valid) != 0) {
        struct stat sb;
        if (stat(udata, &sb) == 0)
            fprintf(stderr, "ncf: %s does not match the loaded data; --split library\n",
                    udata);
        else
            fprintf(stderr, "ncf: no %s to take the file order from; --split library\n",
                    udata);
        rule = -1;
    }
    if (rule < 0) {
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.test_fraction = 0.25;
        so.unseen = RECNN_SPLIT_DROP_UNSEEN;
        CHECK(recnn_split_chrono(d, &so, &train, NULL, &test));
        so.test_fraction = o.valid;
        CHECK(recnn_split_chrono(train, &so, &fit, NULL, &valid));
    }

    printf("NCF on %s (../shared/papers/ncf-movielens.txt)\n", o.name);
    printf("data: %lld users x %lld items, %lld interactions; chronological 75/25 per "
           "user (%s: %s) -> train %lld, test %lld (unseen users/items dropped)\n",
           (long long)recnn_dataset_n_active_users(d), (long long)recnn_dataset_n_active_items(d),
           (long long)recnn_dataset_n_ratings(d),
           rule < 0 ? "library" : o.split,
           rule == 1   ? "time ties in file order, round(0.75 n) to train"
           : rule == 0 ? "time ties in file order, floor(0.75 n) to train"
                       : "time ties by item index, floor(0.75 n) to train",
           (long long)recnn_dataset_n_ratings(train), (long long)recnn_dataset_n_ratings(test));
    if (o.epochs > 0)
        printf("training: BCE, 4 negatives/positive re-sampled each epoch, Adam lr 1e-3, "
               "batch 256, %d epochs (model after the last), GMF %d factors, MLP %s; "
               "threads %d; %s\n",
               o.epochs, o.factors, o.layers, recnn_get_num_threads(), recnn_blas_info());
    else
        printf("training: BCE, 4 negatives/positive re-sampled each epoch, Adam lr 1e-3, "
               "batch 256, GMF %d factors, MLP %s; epochs chosen on validation (latest "
               "%.0f%% of each user's training ratings: fit %lld, valid %lld; NDCG@10, "
               "patience %d, at most %d), then refitted on all training data; threads %d; "
               "%s\n",
               o.factors, o.layers, 100 * o.valid, (long long)recnn_dataset_n_ratings(fit),
               (long long)recnn_dataset_n_ratings(valid), o.patience, o.max_epochs,
               recnn_get_num_threads(), recnn_blas_info());

    row rows[6] = {{.name = "GMF"},
                   {.name = "MLP"},
                   {.name = "NeuMF"},
                   {.name = "NeuMF (pre-trained)"},
                   {.name = "popularity"},
                   {.name = "EASE (l2=250)"}};
    static curve cv[4]; /* seed 1's loss curves */
    recnn_model *show = NULL;
    for (int s = 0; s < o.seeds; s++) {
        char set[256];
        curve c[4];
        memset(c, 0, sizeof c);
        fprintf(stderr, "seed %d/%d ...\n", s + 1, o.seeds);
        recnn_model *gv = NULL, *pv = NULL;
        snprintf(set, sizeof set, "factors=%d seed=%d", o.factors, s + 1);
        recnn_model *g = fit_one(&o, "gmf", set, train, fit, valid, NULL, NULL, &c[0], &gv);
        snprintf(set, sizeof set, "layers=%s seed=%d", o.layers, 1000 + s);
        recnn_model *p = fit_one(&o, "mlp", set, train, fit, valid, NULL, NULL, &c[1], &pv);
        snprintf(set, sizeof set, "factors=%d layers=%s seed=%d", o.factors, o.layers,
                 2000 + s);
        recnn_model *n = fit_one(&o, "neumf", set, train, fit, valid, NULL, NULL, &c[2], NULL);
        snprintf(set, sizeof set, "factors=%d layers=%s seed=%d", o.factors, o.layers,
                 3000 + s);
        recnn_model *pre[2] = {g, p}, *pre_v[2] = {gv, pv};
        recnn_model *np = fit_one(&o, "neumf", set, train, fit, valid, pre,
                                  o.epochs > 0 ? NULL : pre_v, &c[3], NULL);
        recnn_model_free(gv);
        recnn_model_free(pv);
        recnn_model *ms[4] = {g, p, n, np};
        for (int k = 0; k < 4; k++) {
            eval_topk(ms[k], train, test, rows[k].v[s]);
            rows[k].sec[s] = c[k].n ? c[k].seconds / c[k].n : NAN;
            rows[k].ep[s] = c[k].n;
            rows[k].n = s + 1;
        }
        if (s == 0) {
            memcpy(cv, c, sizeof cv);
            show = np;
        } else {
            recnn_model_free(np);
        }
        recnn_model_free(g);
        recnn_model_free(p);
        recnn_model_free(n);
    }
    /* the baselines are deterministic: one fit each */
    recnn_model *pop = make("popularity", "", NULL), *ease = make("ease", "l2=250", NULL);
    CHECK(recnn_model_fit(pop, train, NULL));
    CHECK(recnn_model_fit(ease, train, NULL));
    eval_topk(pop, train, test, rows[4].v[0]);
    eval_topk(ease, train, test, rows[5].v[0]);
    rows[4].n = rows[5].n = 1;
    rows[4].sec[0] = rows[5].sec[0] = NAN;

    printf("\nTop-10 over unrated items, mean ± 95%% CI over %d seed%s (K = 10)\n", o.seeds,
           o.seeds > 1 ? "s" : "");
    printf("%-24s  %-15s  %-15s  %-15s  %-15s  %s\n", "model", "MAP", "NDCG@10", "P@10",
           "R@10", "s/epoch  epochs");
    print_ref("paper (NeuMF, TF)", 0.045272, 0.193614, 0.175822, 0.099722);
    print_ref("ref: PyTorch NeuMF", 0.052, 0.206, 0.186, 0.106);
    print_ref("ref: popularity", 0.029, 0.139, 0.129, 0.066);
    print_ref("ref: EASE (l2=250)", 0.060, 0.226, 0.199, 0.116);
    for (int k = 0; k < 6; k++)
        print_row(&rows[k], 1);
    int best = 0;
    for (int k = 1; k < 6; k++) {
        double mb = 0, mk = 0;
        for (int s = 0; s < rows[best].n; s++)
            mb += rows[best].v[s][M_NDCG] / rows[best].n;
        for (int s = 0; s < rows[k].n; s++)
            mk += rows[k].v[s][M_NDCG] / rows[k].n;
        if (mk > mb)
            best = k;
    }
    printf("best NDCG@10 here: %s\n", rows[best].name);
    printf("final training loss (seed 1): GMF %.6f, MLP %.6f, NeuMF %.6f, NeuMF "
           "pre-trained %.6f (paper: 0.164153 after 100 epochs)\n",
           cv[0].n ? cv[0].loss[cv[0].n - 1] : NAN, cv[1].n ? cv[1].loss[cv[1].n - 1] : NAN,
           cv[2].n ? cv[2].loss[cv[2].n - 1] : NAN, cv[3].n ? cv[3].loss[cv[3].n - 1] : NAN);
    if (rule >= 0) {
        /* the protocol note: the same EASE on the library's split */
        recnn_split_options so;
        recnn_split_options_init(&so);
        so.test_fraction = 0.25;
        so.unseen = RECNN_SPLIT_DROP_UNSEEN;
        recnn_dataset *ltr, *lte;
        double v[M_N];
        CHECK(recnn_split_chrono(d, &so, &ltr, NULL, &lte));
        recnn_model *e2 = make("ease", "l2=250", NULL);
        CHECK(recnn_model_fit(e2, ltr, NULL));
        eval_topk(e2, ltr, lte, v);
        printf("EASE on recnn_split_chrono (time ties by item index, floor): MAP %.4f NDCG "
               "%.4f P %.4f R %.4f -- the tie order alone moves the baselines "
               "(docs/models/ease.md)\n",
               v[M_MAP], v[M_NDCG], v[M_P], v[M_R]);
        recnn_model_free(e2);
        recnn_dataset_free(ltr);
        recnn_dataset_free(lte);
    }

    curve *cp[4] = {&cv[0], &cv[1], &cv[2], &cv[3]};
    const char *cn[4] = {"GMF", "MLP", "NeuMF", "NeuMF pre-trained"};
    int rc = write_curves(&o, cp, cn, 4);
    if (show)
        show_user(show, meta, test, o.user);
    recnn_model_free(show);
    recnn_model_free(pop);
    recnn_model_free(ease);

    if (o.loo) {
        loo_protocol(&o, o.name, d);
        if (o.ml1m) {
            recnn_dataset *r1, *d1;
            char name1[256];
            CHECK(recnn_dataset_load(&r1, o.ml1m, RECNN_FORMAT_AUTO, NULL));
            CHECK(recnn_dataset_binarize(&d1, r1, 0.0f));
            data_name(o.ml1m, name1, sizeof name1);
            loo_protocol(&o, name1, d1);
            recnn_dataset_free(r1);
            recnn_dataset_free(d1);
        }
    }
    recnn_dataset_free(train);
    recnn_dataset_free(test);
    recnn_dataset_free(fit);
    recnn_dataset_free(valid);
    recnn_dataset_free(meta);
    recnn_dataset_free(d);
    recnn_dataset_free(raw);
    return rc;
}
