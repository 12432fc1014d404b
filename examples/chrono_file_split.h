/* Shared by examples/ncf.c and bench/bench_ncf.c (header-only: each is one
 * translation unit).  The includer defines CHECK(x): what to do when a
 * library call fails. */
#ifndef RECNN_EXAMPLES_CHRONO_FILE_SPLIT_H
#define RECNN_EXAMPLES_CHRONO_FILE_SPLIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <recnn.h>

/* ---- Recommenders' chronological split, ties in file order ----------------
 *
 * recnn_split_chrono breaks timestamp ties by item index; pandas, under
 * Recommenders' python_chrono_split, keeps the rows of one timestamp in
 * the order of the file (a stable sort of u.data, which is shuffled).
 * On ML-100K many ratings share a second, and that choice alone moves
 * EASE's MAP from 0.0597 to 0.0556 (ascending item indices put the older,
 * low-numbered movies into training).  So the example re-reads the file
 * for its line order.  rule: 0 = current Recommenders (rank/n <= 0.75,
 * i.e. floor(0.75 n) to training), 1 = earlier Recommenders releases
 * (round(0.75 n), half to even: np.split at round(x * len)); the
 * references in ../shared/PAPERS.md were measured with rule 1.
 * *train and *test are the split (test users/items unseen in training
 * dropped).  With fit != NULL, the training part is split once more for
 * model selection: the latest valid_fraction of each user's training
 * ratings (same order, same rule) -> *valid, the rest -> *fit.  Returns 0, or -1 when the file does
 * not match d (the caller falls back to recnn_split_chrono). */
typedef struct tkey {
    int64_t t, line, pos;
} tkey;

static int cmp_tkey(const void *a, const void *b)
{
    const tkey *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->line > y->line) - (x->line < y->line);
}

static int64_t n_train_of(int64_t m, double ratio, int rule)
{
    if (rule == 1)
        return (int64_t)nearbyint(ratio * (double)m); /* half to even, as Python */
    int64_t c = 0;
    for (int64_t j = 1; j <= m; j++)
        c += (double)j / (double)m <= ratio;
    return c;
}

static int file_chrono_split(const recnn_dataset *d, const char *udata, double test_fraction,
                             double valid_fraction, int rule, recnn_dataset **train,
                             recnn_dataset **test, recnn_dataset **fit,
                             recnn_dataset **valid)
{
    int64_t n = recnn_dataset_n_ratings(d), nu = recnn_dataset_n_users(d);
    const int32_t *tu, *ti;
    const int64_t *tt, *row;
    if (recnn_dataset_triplets(d, &tu, &ti, NULL, &tt) || !tt || recnn_dataset_csr(d, &row))
        return -1;
    FILE *f = fopen(udata, "r");
    if (!f)
        return -1;
    int64_t *line = malloc((size_t)n * sizeof *line);
    for (int64_t k = 0; line && k < n; k++)
        line[k] = -1;
    long long uid, iid, ts;
    double val;
    int64_t L = 0, bad = !line;
    while (!bad && fscanf(f, "%lld %lld %lf %lld", &uid, &iid, &val, &ts) == 4) {
        int64_t u, i;
        if (recnn_dataset_user_index(d, uid, &u) || recnn_dataset_item_index(d, iid, &i)) {
            bad = 1;
            break;
        }
        int64_t lo = row[u], hi = row[u + 1]; /* the row is sorted by item */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (ti[mid] < i)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == row[u + 1] || ti[lo] != i || line[lo] >= 0 || tt[lo] != ts)
            bad = 1;
        else
            line[lo] = L++;
    }
    fclose(f);
    if (bad || L != n) {
        free(line);
        return -1;
    }
    uint8_t *part = calloc((size_t)n, 1); /* 0 train, 1 valid, 2 test */
    tkey *r = malloc((size_t)(n ? n : 1) * sizeof *r);
    if (!part || !r) {
        free(line);
        free(part);
        free(r);
        return -1;
    }
    for (int64_t u = 0; u < nu; u++) {
        int64_t b = row[u], m = row[u + 1] - b;
        for (int64_t k = 0; k < m; k++)
            r[k] = (tkey){tt[b + k], line[b + k], b + k};
        qsort(r, (size_t)m, sizeof *r, cmp_tkey);
        int64_t ntr = n_train_of(m, 1.0 - test_fraction, rule);
        for (int64_t k = ntr; k < m; k++)
            part[r[k].pos] = 2;
        if (fit) {
            int64_t nfit = n_train_of(ntr, 1.0 - valid_fraction, rule);
            for (int64_t k = nfit; k < ntr; k++)
                part[r[k].pos] = 1;
        }
    }
    free(r);
    free(line);
    uint8_t *keep = malloc((size_t)n);
    recnn_dataset *all = NULL;
    for (int64_t k = 0; k < n; k++)
        keep[k] = part[k] != 2;
    CHECK(recnn_dataset_subset(train, d, keep));
    for (int64_t k = 0; k < n; k++)
        keep[k] = part[k] == 2;
    CHECK(recnn_dataset_subset(&all, d, keep));
    CHECK(recnn_dataset_drop_unseen(test, all, *train));
    recnn_dataset_free(all);
    if (fit) {
        for (int64_t k = 0; k < n; k++)
            keep[k] = part[k] == 0;
        CHECK(recnn_dataset_subset(fit, d, keep));
        for (int64_t k = 0; k < n; k++)
            keep[k] = part[k] == 1;
        CHECK(recnn_dataset_subset(&all, d, keep));
        CHECK(recnn_dataset_drop_unseen(valid, all, *fit));
        recnn_dataset_free(all);
    }
    free(keep);
    free(part);
    return 0;
}

#endif
