/* bench_ncf: NeuMF on MovieLens 100K, the protocol of bench/peers/neumf.py
 * (docs/PERFORMANCE.md, "neumf"): GMF 16 factors, MLP layers 16-8-4, no
 * pre-training, BCE with 4 negatives per positive re-sampled each epoch,
 * batch 256, Adam 1e-3, 20 epochs; per-user chronological 75/25 split
 * (ties in time in file order, round(0.75 n) to training: the split of the
 * references in ../shared/PAPERS.md), unseen test users/items dropped;
 * top-10 over items unrated in training.
 *
 * JSON lines on stdout (bench convention):
 *   epoch_seconds (median of epochs 2..N, training only), map@10, ndcg@10,
 *   p@10, r@10, hr@10 after the last epoch, and a checksum (CRC-32C of
 *   every user's scores).  Also `variant":"pretrained"` (NeuMF started
 *   from GMF and MLP fitted with the same settings) unless
 *   RECNN_BENCH_QUICK is set.
 * Environment: RECNN_THREADS, RECNN_BENCH_SEED, RECNN_DATA_DIR,
 * RECNN_BENCH_SCALE (no scale part: prints a skip line),
 * RECNN_BENCH_EPOCHS (default 20). */
#include "core/core.h"
#include "recnn/ncf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXE 1000

typedef struct rec {
    int n;
    double sec[MAXE], loss[MAXE];
} rec;

static int on_epoch(const recnn_progress *p, void *ud)
{
    rec *r = ud;
    if (r->n < MAXE) {
        r->sec[r->n] = p->seconds;
        r->loss[r->n] = p->train_loss;
        r->n++;
    }
    return 0;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_from2(const rec *r)
{
    double v[MAXE];
    int n = 0;
    for (int k = r->n > 1 ? 1 : 0; k < r->n; k++)
        v[n++] = r->sec[k];
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : NAN;
}

static int fail(const char *what)
{
    printf("{\"bench\":\"bench_ncf\",\"error\":\"%s: %s\"}\n", what, recnn_last_error());
    return 1;
}

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if ((x) != RECNN_OK)                                                               \
            exit(fail("split"));                                                           \
    } while (0)

/* Recommenders' chronological split, ties in file order (as examples/ncf;
 * bench/peers/neumf.py splits the same way) */
#include "../examples/chrono_file_split.h"

static int report(const char *variant, const recnn_model *m, const recnn_dataset *train,
                  const recnn_dataset *test, const rec *r, int threads, uint64_t seed,
                  int epochs)
{
    recnn_evaluator *e;
    if (recnn_evaluator_create(&e, train, test) ||
        recnn_evaluator_configure(e, "k=10 exclude_train=1 skip_unseen=1 map=relevant") ||
        recnn_evaluator_run_model(e, m))
        return fail("evaluate");
    double v[5];
    int mets[5] = {RECNN_METRIC_MAP, RECNN_METRIC_NDCG, RECNN_METRIC_PRECISION,
                   RECNN_METRIC_RECALL, RECNN_METRIC_HR};
    for (int k = 0; k < 5; k++)
        recnn_evaluator_value(e, mets[k], 10, &v[k]);
    recnn_evaluator_free(e);
    printf("{\"bench\":\"bench_ncf\",\"model\":\"neumf\",\"data\":\"ml-100k\","
           "\"variant\":\"%s\",\"threads\":%d,\"seed\":%llu,\"epochs\":%d,\"factors\":16,"
           "\"negatives\":4,\"batch\":256,\"epoch_seconds\":%.6f,\"map@10\":%.6f,"
           "\"ndcg@10\":%.6f,\"p@10\":%.6f,\"r@10\":%.6f,\"hr@10\":%.6f,\"loss\":%.6f}\n",
           variant, threads, (unsigned long long)seed, epochs, median_from2(r), v[0], v[1],
           v[2], v[3], v[4], r->n ? r->loss[r->n - 1] : 0.0);
    /* checksum of every user's scores */
    int64_t nu = recnn_model_n_users(m), ni = recnn_model_n_items(m);
    float *s = malloc((size_t)ni * sizeof *s);
    uint32_t crc = 0;
    for (int64_t u = 0; s && u < nu; u++)
        if (recnn_model_score_user(m, u, s) == RECNN_OK)
            crc = recnn__crc32c(crc, s, (size_t)ni * sizeof *s);
    free(s);
    printf("{\"bench\":\"bench_ncf\",\"model\":\"neumf\",\"data\":\"ml-100k\","
           "\"variant\":\"%s\",\"checksum\":\"%08x\"}\n",
           variant, crc);
    fflush(stdout);
    return 0;
}

int main(void)
{
    const char *t = getenv("RECNN_THREADS");
    if (t && atoi(t) > 0)
        recnn_set_num_threads(atoi(t));
    int threads = recnn_get_num_threads();
    if (getenv("RECNN_BENCH_SCALE")) {
        printf("{\"bench\":\"bench_ncf\",\"skip\":\"no scale part (NeuMF on ML-100K "
               "only)\"}\n");
        return 0;
    }
    const char *sd = getenv("RECNN_BENCH_SEED");
    uint64_t seed = sd && *sd ? strtoull(sd, NULL, 10) : 42;
    const char *ep = getenv("RECNN_BENCH_EPOCHS");
    int epochs = ep && atoi(ep) > 0 ? atoi(ep) : 20;
    const char *dd = getenv("RECNN_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dd && *dd ? dd : "../shared/datasets");
    recnn_dataset *raw, *d, *train, *test;
    if (recnn_dataset_load(&raw, path, RECNN_FORMAT_ML100K, NULL) != RECNN_OK) {
        printf("{\"bench\":\"bench_ncf\",\"skip\":\"ml-100k not found at %s\"}\n", path);
        return 0;
    }
    if (recnn_dataset_binarize(&d, raw, 0.0f))
        return fail("binarize");
    /* the split of the references (and of the peer): per user by time,
     * ties in file order, round(0.75 n) to training */
    if (file_chrono_split(d, path, 0.25, 0, 1, &train, &test, NULL, NULL) != 0) {
        printf("{\"bench\":\"bench_ncf\",\"error\":\"split: %s does not match\"}\n", path);
        return 1;
    }

    char set[256];
    snprintf(set, sizeof set, "factors=16 layers=16,8,4 negatives=4 batch=256 lr=0.001 "
                              "epochs=%d seed=%llu",
             epochs, (unsigned long long)seed);
    rec r = {0};
    recnn_model *m;
    if (recnn_model_create(&m, "neumf") || recnn_model_configure(m, set))
        return fail("create");
    recnn_model_set_progress(m, on_epoch, &r);
    if (recnn_model_fit(m, train, NULL))
        return fail("fit");
    if (report("", m, train, test, &r, threads, seed, epochs))
        return 1;
    recnn_model_free(m);

    if (!getenv("RECNN_BENCH_QUICK")) {
        /* NeuMF from pre-trained GMF and MLP (the NCF paper's recipe) */
        recnn_model *g, *p, *n;
        rec rn = {0};
        snprintf(set, sizeof set, "factors=16 epochs=%d seed=%llu", epochs,
                 (unsigned long long)seed + 1);
        if (recnn_model_create(&g, "gmf") || recnn_model_configure(g, set) ||
            recnn_model_fit(g, train, NULL))
            return fail("gmf");
        snprintf(set, sizeof set, "layers=16,8,4 epochs=%d seed=%llu", epochs,
                 (unsigned long long)seed + 2);
        if (recnn_model_create(&p, "mlp") || recnn_model_configure(p, set) ||
            recnn_model_fit(p, train, NULL))
            return fail("mlp");
        snprintf(set, sizeof set, "factors=16 layers=16,8,4 epochs=%d seed=%llu", epochs,
                 (unsigned long long)seed + 3);
        if (recnn_model_create(&n, "neumf") || recnn_model_configure(n, set))
            return fail("neumf");
        recnn_model_set_progress(n, on_epoch, &rn);
        if (recnn_neumf_fit_pretrained(n, g, p, train, NULL))
            return fail("neumf pretrained");
        if (report("pretrained", n, train, test, &rn, threads, seed, epochs))
            return 1;
        recnn_model_free(g);
        recnn_model_free(p);
        recnn_model_free(n);
    }
    recnn_dataset_free(train);
    recnn_dataset_free(test);
    recnn_dataset_free(d);
    recnn_dataset_free(raw);
    return 0;
}
