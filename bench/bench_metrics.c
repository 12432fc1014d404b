/* bench_metrics: speed of the evaluator (issue 5 target: top-10 metrics for
 * 943 users x 1682 items from a given score matrix in < 50 ms on one core).
 *
 *   bench_metrics [--threads N] [--seed S] [--repeats R]
 *
 * Follows the JSON convention of docs/PERFORMANCE.md section 5: stdout has
 * only JSON lines, "bench":"bench_metrics", long form figures.  Environment:
 * RECNN_THREADS (thread budget), RECNN_BENCH_SEED, RECNN_BENCH_SCALE (no
 * scale part: one skip line), RECNN_DATA_DIR.
 *
 * Data: a synthetic ML-100K-shaped set (943 x 1682, ~84k ratings,
 * power-law item popularity) and, when present, ML-100K's u.data; each
 * split 80/20 at random (seeded).  Scores: a uniform random matrix
 * (seeded).  Figures (model "evaluator", metric "eval_seconds" = median
 * wall time of one run_matrix over `repeats` runs after a warm-up, at the
 * thread budget; cpu_seconds = median process CPU time):
 *   topk10        k=10, every metric incl. AUC and whole-ranking MRR
 *   topk10_no_auc k=10, full_ranking=0
 *   topk5_10_20   three cut-offs in one pass
 *   loo_99neg     candidate lists of 1 held-out + 99 sampled negatives
 * plus a checksum of the topk10 per-user values (determinism), and on
 * ML-100K the ncf-movielens popularity check (model "popularity", variant
 * "chrono75": p@10, r@10, map@10, ndcg@10; see docs/METRICS.md section 7). */
#include "core/core.h"
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir(void)
{
    const char *d = getenv("RECNN_DATA_DIR");
    return d && *d ? d : "../shared/datasets";
}

/* CPU seconds of the process: less sensitive than wall time to other jobs
 * sharing the machine (for the one-thread cases). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints s as a JSON string (quotes and backslashes escaped, control
 * characters dropped). */
static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s >= 0x20)
            putchar(*s);
    }
    putchar('"');
}

static void print_error(const char *what)
{
    printf("{\"bench\":\"bench_metrics\",\"error\":");
    char buf[1200];
    snprintf(buf, sizeof buf, "%s: %s", what, recnn_last_error());
    json_str(buf);
    printf("}\n");
    fflush(stdout);
}

/* Splits d per user: each rating to test with probability 0.2 (seeded). */
static int split(const recnn_dataset *d, uint64_t seed, recnn_dataset **train,
                 recnn_dataset **test)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    uint8_t *tr = malloc((size_t)d->n_ratings), *te = malloc((size_t)d->n_ratings);
    if (!tr || !te) {
        free(tr);
        free(te);
        return -1;
    }
    for (int64_t k = 0; k < d->n_ratings; k++) {
        tr[k] = recnn__rng_uniform(&r) >= 0.2;
        te[k] = !tr[k];
    }
    *train = recnn__dataset_subset(d, tr);
    *test = recnn__dataset_subset(d, te);
    free(tr);
    free(te);
    return *train && *test ? 0 : -1;
}

/* 943 users x 1682 items, ~100k ratings: item i drawn with weight
 * 1/(i+10)^0.9, users with 20..~650 ratings. */
static recnn_dataset *synthetic(uint64_t seed)
{
    const int nu = 943, ni = 1682;
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    double *cdf = malloc((size_t)ni * sizeof *cdf);
    double tot = 0;
    for (int i = 0; i < ni; i++) {
        tot += 1.0 / pow(i + 10.0, 0.9);
        cdf[i] = tot;
    }
    size_t cap = 200000, n = 0;
    int64_t *u = malloc(cap * sizeof *u), *it = malloc(cap * sizeof *it);
    float *v = malloc(cap * sizeof *v);
    uint8_t *seen = calloc((size_t)ni, 1);
    for (int uu = 0; uu < nu; uu++) {
        int want = 20 + (int)(86.0 * -log(1.0 - recnn__rng_uniform(&r)));
        if (want > 650)
            want = 650;
        memset(seen, 0, (size_t)ni);
        for (int j = 0; j < want && n < cap; j++) {
            double x = recnn__rng_uniform(&r) * tot;
            int lo = 0, hi = ni - 1;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (cdf[mid] < x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (seen[lo])
                continue;
            seen[lo] = 1;
            u[n] = uu + 1;
            it[n] = lo + 1;
            v[n] = (float)(1 + recnn__rng_below(&r, 5));
            n++;
        }
    }
    /* every item once, so the index space is the full 1682 */
    for (int i = 0; i < ni && n < cap; i++) {
        int uu = (int)recnn__rng_below(&r, (uint64_t)nu);
        u[n] = uu + 1;
        it[n] = i + 1;
        v[n] = 3;
        n++;
    }
    recnn_dataset *d = NULL;
    if (recnn_dataset_from_arrays(&d, n, u, it, v, NULL, 1, 5, RECNN_DUP_KEEP_FIRST))
        d = NULL;
    free(cdf);
    free(u);
    free(it);
    free(v);
    free(seen);
    return d;
}

static recnn_dataset *load_ml100k(int with_times)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", data_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 100000, n = 0;
    int64_t *u = malloc(cap * sizeof *u), *it = malloc(cap * sizeof *it);
    float *v = malloc(cap * sizeof *v);
    int64_t *tm = malloc(cap * sizeof *tm);
    long long a, b, t;
    double r;
    while (n < cap && fscanf(f, "%lld %lld %lf %lld", &a, &b, &r, &t) == 4) {
        u[n] = a;
        it[n] = b;
        v[n] = (float)r;
        tm[n] = t;
        n++;
    }
    fclose(f);
    recnn_dataset *d = NULL;
    if (recnn_dataset_from_arrays(&d, n, u, it, v, with_times ? tm : NULL, 1, 5,
                                  RECNN_DUP_ERROR))
        d = NULL;
    free(u);
    free(it);
    free(v);
    free(tm);
    return d;
}

/* Times run_matrix under `settings`; prints one figure line (and a
 * checksum line when `checksum`). */
static void bench_case(const char *variant, const char *data, recnn_dataset *train,
                       recnn_dataset *test, const float *S, const char *settings,
                       int repeats, const int64_t *cptr, const int64_t *citem,
                       int checksum)
{
    recnn_evaluator *e;
    if (recnn_evaluator_create(&e, train, test) ||
        recnn_evaluator_configure(e, settings) ||
        (cptr && recnn_evaluator_set_candidates(e, train->n_users, cptr, citem))) {
        print_error(variant);
        return;
    }
    double *ms = malloc((size_t)repeats * sizeof *ms);
    double *cpu = malloc((size_t)repeats * sizeof *cpu);
    int st = recnn_evaluator_run_matrix(e, S, train->n_users, train->n_items);
    for (int r = 0; r < repeats && st == RECNN_OK; r++) {
        double t0 = recnn__now(), c0 = cpu_now();
        st = recnn_evaluator_run_matrix(e, S, train->n_users, train->n_items);
        ms[r] = recnn__now() - t0;
        cpu[r] = cpu_now() - c0;
    }
    if (st) {
        print_error(variant);
        free(ms);
        free(cpu);
        recnn_evaluator_free(e);
        return;
    }
    qsort(ms, (size_t)repeats, sizeof *ms, cmp_dbl);
    qsort(cpu, (size_t)repeats, sizeof *cpu, cmp_dbl);
    printf("{\"bench\":\"bench_metrics\",\"model\":\"evaluator\",\"data\":\"%s\","
           "\"variant\":\"%s\",\"metric\":\"eval_seconds\",\"value\":%.6f,\"unit\":\"s\","
           "\"threads\":%d,\"cpu_seconds\":%.6f,\"min_seconds\":%.6f,\"repeats\":%d,"
           "\"users\":%lld,\"items\":%lld,\"ratings\":%lld,\"test_users\":%lld,"
           "\"settings\":\"%s\",\"target_seconds\":0.05}\n",
           data, variant, ms[repeats / 2], recnn_get_num_threads(), cpu[repeats / 2], ms[0],
           repeats, (long long)train->n_users, (long long)train->n_items,
           (long long)(train->n_ratings + test->n_ratings),
           (long long)recnn_evaluator_n_counted(e), settings);
    if (checksum) {
        /* CRC-32C of the per-user NDCG@10 and AUC values (bit patterns) */
        size_t nu = (size_t)train->n_users;
        double *v = malloc(nu * sizeof *v);
        uint32_t crc = 0;
        if (v && recnn_evaluator_user_values(e, RECNN_METRIC_NDCG, 10, v, (int64_t)nu) == 0)
            crc = recnn__crc32c(crc, v, nu * sizeof *v);
        if (v && recnn_evaluator_user_values(e, RECNN_METRIC_AUC, 0, v, (int64_t)nu) == 0)
            crc = recnn__crc32c(crc, v, nu * sizeof *v);
        free(v);
        printf("{\"bench\":\"bench_metrics\",\"model\":\"evaluator\",\"data\":\"%s\","
               "\"variant\":\"%s\",\"checksum\":\"%08x\"}\n",
               data, variant, (unsigned)crc);
    }
    fflush(stdout);
    free(ms);
    free(cpu);
    recnn_evaluator_free(e);
}

/* 1 held-out positive (a random test item) + 99 negatives not rated in
 * train or test, per user with a test item: the NCF protocol's lists. */
static void ncf_lists(const recnn_dataset *train, const recnn_dataset *test, uint64_t seed,
                      int64_t **cptr, int64_t **citem)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    int64_t nu = train->n_users, ni = train->n_items;
    *cptr = malloc(((size_t)nu + 1) * sizeof **cptr);
    *citem = malloc((size_t)nu * 100 * sizeof **citem);
    uint8_t *rated = calloc((size_t)ni, 1);
    (*cptr)[0] = 0;
    for (int64_t u = 0; u < nu; u++) {
        int64_t w = (*cptr)[u];
        int64_t nt = test->row_ptr[u + 1] - test->row_ptr[u];
        if (nt > 0) {
            for (int64_t k = train->row_ptr[u]; k < train->row_ptr[u + 1]; k++)
                rated[train->item[k]] = 1;
            for (int64_t k = test->row_ptr[u]; k < test->row_ptr[u + 1]; k++)
                rated[test->item[k]] = 1;
            (*citem)[w++] = test->item[test->row_ptr[u] + (int64_t)recnn__rng_below(&r, (uint64_t)nt)];
            for (int j = 0; j < 99;) {
                int64_t i = (int64_t)recnn__rng_below(&r, (uint64_t)ni);
                if (!rated[i]) {
                    (*citem)[w++] = i;
                    j++;
                }
            }
            for (int64_t k = train->row_ptr[u]; k < train->row_ptr[u + 1]; k++)
                rated[train->item[k]] = 0;
            for (int64_t k = test->row_ptr[u]; k < test->row_ptr[u + 1]; k++)
                rated[test->item[k]] = 0;
        }
        (*cptr)[u + 1] = w;
    }
    free(rated);
}

static void bench_data(const char *data, recnn_dataset *d, int repeats, uint64_t seed)
{
    recnn_dataset *train, *test;
    if (split(d, seed, &train, &test)) {
        print_error("split");
        return;
    }
    size_t cells = (size_t)train->n_users * (size_t)train->n_items;
    float *S = malloc(cells * sizeof *S);
    recnn_rng r;
    recnn__rng_stream(&r, seed, 1);
    for (size_t k = 0; k < cells; k++)
        S[k] = recnn__rng_uniformf(&r);
    bench_case("topk10", data, train, test, S, "k=10", repeats, NULL, NULL, 1);
    bench_case("topk10_no_auc", data, train, test, S, "k=10 full_ranking=0", repeats, NULL,
               NULL, 0);
    bench_case("topk5_10_20", data, train, test, S, "k=5,10,20", repeats, NULL, NULL, 0);
    int64_t *cptr, *citem;
    ncf_lists(train, test, seed + 2, &cptr, &citem);
    bench_case("loo_99neg", data, train, test, S, "k=10", repeats, cptr, citem, 0);
    free(cptr);
    free(citem);
    free(S);
    recnn_dataset_free(train);
    recnn_dataset_free(test);
}

static const int64_t *sort_times;
static const int32_t *sort_items;

static int cmp_chrono(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (sort_times[x] != sort_times[y])
        return sort_times[x] < sort_times[y] ? -1 : 1;
    return (sort_items[x] > sort_items[y]) - (sort_items[x] < sort_items[y]);
}

/* The ncf-movielens protocol (Microsoft Recommenders' python_chrono_split,
 * ratio 0.75: per user, ratings sorted by time, position j < 0.75 n to
 * train), every rating relevant, test users/items unseen in training
 * dropped (skip_unseen=1), popularity model (training interaction
 * counts).  PAPERS.md's reference, computed with Recommenders' own
 * definitions: MAP 0.029, NDCG 0.139, P 0.129, R 0.066 at k = 10. */
static void popularity_reference(recnn_dataset *d)
{
    uint8_t *tr = malloc((size_t)d->n_ratings), *te = malloc((size_t)d->n_ratings);
    int64_t *idx = malloc((size_t)d->n_ratings * sizeof *idx);
    sort_times = d->time;
    sort_items = d->item;
    for (int64_t u = 0; u < d->n_users; u++) {
        int64_t a = d->row_ptr[u], n = d->row_ptr[u + 1] - a;
        for (int64_t j = 0; j < n; j++)
            idx[j] = a + j;
        qsort(idx, (size_t)n, sizeof *idx, cmp_chrono);
        for (int64_t j = 0; j < n; j++) {
            tr[idx[j]] = (double)j < 0.75 * (double)n;
            te[idx[j]] = !tr[idx[j]];
        }
    }
    recnn_dataset *train = recnn__dataset_subset(d, tr), *test = recnn__dataset_subset(d, te);
    free(tr);
    free(te);
    free(idx);
    recnn_model *m = NULL;
    recnn_evaluator *e = NULL;
    double t0 = recnn__now();
    if (!train || !test || recnn_model_create(&m, "popularity") ||
        recnn_model_fit(m, train, NULL) || recnn_evaluator_create(&e, train, test) ||
        recnn_evaluator_run_model(e, m)) {
        print_error("popularity_reference");
    } else {
        double ms = recnn__now() - t0, v[4];
        int ids[4] = {RECNN_METRIC_MAP, RECNN_METRIC_NDCG, RECNN_METRIC_PRECISION,
                      RECNN_METRIC_RECALL};
        const char *names[4] = {"map@10", "ndcg@10", "p@10", "r@10"};
        const double ref[4] = {0.029, 0.139, 0.129, 0.066};
        for (int j = 0; j < 4; j++) {
            recnn_evaluator_value(e, ids[j], 10, &v[j]);
            printf("{\"bench\":\"bench_metrics\",\"model\":\"popularity\","
                   "\"data\":\"ml-100k\",\"variant\":\"chrono75\",\"metric\":\"%s\","
                   "\"value\":%.6f,\"threads\":%d,\"test_users\":%lld,"
                   "\"recommenders_reference\":%.3f,\"fit_and_eval_seconds\":%.4f,"
                   "\"note\":\"per-user chrono 75/25 (time, item id ties), unseen "
                   "test users/items dropped; see docs/METRICS.md 7\"}\n",
                   names[j], v[j], recnn_get_num_threads(),
                   (long long)recnn_evaluator_n_counted(e), ref[j], ms);
        }
        fflush(stdout);
    }
    recnn_evaluator_free(e);
    recnn_model_free(m);
    recnn_dataset_free(train);
    recnn_dataset_free(test);
}

int main(int argc, char **argv)
{
    int repeats = 15, threads = 0;
    uint64_t seed = 42;
    const char *env = getenv("RECNN_THREADS");
    if (env && *env)
        threads = atoi(env);
    env = getenv("RECNN_BENCH_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 10);
    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--threads") == 0)
            threads = atoi(argv[a + 1]);
        else if (strcmp(argv[a], "--seed") == 0)
            seed = strtoull(argv[a + 1], NULL, 10);
        else if (strcmp(argv[a], "--repeats") == 0)
            repeats = atoi(argv[a + 1]);
    }
    if (repeats < 1)
        repeats = 1;
    recnn_set_num_threads(threads);
    env = getenv("RECNN_BENCH_SCALE");
    if (env && *env && strcmp(env, "0") != 0) {
        printf("{\"bench\":\"bench_metrics\",\"skip\":\"no scale part (evaluation cost "
               "is linear in users x items; see the ML-100K-shaped figures)\"}\n");
        return 0;
    }
    fprintf(stderr, "bench_metrics: %d threads, BLAS %s\n", recnn_get_num_threads(),
            recnn_blas_info());
    recnn_dataset *d = synthetic(seed);
    if (!d) {
        print_error("synthetic data");
        return 1;
    }
    bench_data("synthetic-943x1682", d, repeats, seed);
    recnn_dataset_free(d);
    d = load_ml100k(1);
    if (d) {
        bench_data("ml-100k", d, repeats, seed);
        popularity_reference(d);
        recnn_dataset_free(d);
    } else {
        printf("{\"bench\":\"bench_metrics\",\"skip\":");
        char buf[1200];
        snprintf(buf, sizeof buf, "ml-100k: u.data not found under %s", data_dir());
        json_str(buf);
        printf("}\n");
    }
    return 0;
}
