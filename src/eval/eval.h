/* Internal pieces of the metrics code: the per-user ranking-metric kernel,
 * score ordering keys, AUC counting, Gini, Student's t.  Pure functions on
 * arrays, so the tests can check them directly against hand arithmetic. */
#ifndef RECNN_EVAL_EVAL_H
#define RECNN_EVAL_EVAL_H

#include "../core/core.h"
#include "../models/model.h"

#include <math.h>
#include <string.h>

#define RECNN__MAX_K 16

enum { RECNN__MAP_RELEVANT = 0, RECNN__MAP_MIN = 1, RECNN__MAP_HITS = 2 };
enum { RECNN__NDCG_BINARY = 0, RECNN__NDCG_RATING = 1, RECNN__NDCG_EXP2 = 2 };
enum { RECNN__PREC_K = 0, RECNN__PREC_LISTED = 1 };

/* Per-user accuracy metrics at each cut-off, in this order. */
enum {
    RECNN__U_PREC = 0,
    RECNN__U_REC,
    RECNN__U_F1,
    RECNN__U_MAP,
    RECNN__U_NDCG,
    RECNN__U_HR,
    RECNN__U_MRR,
    RECNN__U_COUNT
};

typedef struct recnn__rankcfg {
    int n_k;                 /* 1..RECNN__MAX_K */
    int ks[RECNN__MAX_K];    /* ascending, distinct, >= 1 */
    int map, ndcg, precision;
} recnn__rankcfg;

/* The accuracy metrics (metrics.h formulas) of one user's ranked list.
 * rel[j] != 0 when the item at rank j+1 is relevant; gain[j] its gain
 * (only read for graded NDCG; may be NULL for binary); n_rel = |R| >= 1;
 * ideal = the gains of R sorted descending (n_rel; NULL for binary).
 * Writes out[RECNN__U_*][ki] for every configured cut-off. */
void recnn__rank_user(const recnn__rankcfg *c, int64_t n_list, const uint8_t *rel,
                      const double *gain, int64_t n_rel, const double *ideal,
                      double out[RECNN__U_COUNT][RECNN__MAX_K]);

/* Gain of a relevant item with this rating under an NDCG mode. */
static inline double recnn__gain(int ndcg, float rating)
{
    return ndcg == RECNN__NDCG_RATING ? (double)rating
           : ndcg == RECNN__NDCG_EXP2 ? exp2((double)rating) - 1.0
                                      : 1.0;
}

/* A total-order key for scores: larger key = higher score, -0 == +0, NaN
 * below everything (-inf included). */
static inline int64_t recnn__score_key(float s)
{
    if (isnan(s))
        return INT64_MIN;
    if (s == 0.0f)
        return 0;
    uint32_t b;
    memcpy(&b, &s, sizeof b);
    return (b & 0x80000000u) ? -(int64_t)(b & 0x7fffffffu) : (int64_t)b;
}

/* "Item a (score sa) ranks before item b": the library's ranking order
 * (the same as recnn__topk's). */
static inline bool recnn__ranks_before(float sa, int32_t ia, float sb, int32_t ib)
{
    int64_t ka = recnn__score_key(sa), kb = recnn__score_key(sb);
    return ka > kb || (ka == kb && ia < ib);
}

/* First index i of keys[0..n) (sorted ascending) with keys[i] >= x
 * (branch-free binary search). */
static inline int64_t recnn__lower_bound(const int64_t *keys, int64_t n, int64_t x)
{
    if (n <= 0)
        return 0;
    const int64_t *base = keys;
    while (n > 1) {
        int64_t half = n / 2;
        base = base[half] < x ? base + half : base;
        n -= half;
    }
    return (base - keys) + (*base < x);
}

/* With keys[0..n) sorted ascending: 2 * (#keys > x) + (#keys == x), i.e.
 * twice the AUC credit of a negative with key x against those positives. */
static inline int64_t recnn__auc_credit2(const int64_t *keys, int64_t n, int64_t x)
{
    int64_t lo = recnn__lower_bound(keys, n, x), eq = 0;
    while (lo + eq < n && keys[lo + eq] == x)
        eq++;
    return 2 * (n - lo) - eq;
}

/* Gini coefficient of the non-negative counts c[0..n) (sorted in place);
 * NaN when n == 0 or the sum is 0. */
double recnn__gini(int64_t *c, int64_t n);

/* Student's t quantile t(0.975, df), df >= 1. */
double recnn__t975(int64_t df);

/* For model code: a top-K validation metric inside fit (early stopping),
 * e.g. recnn__valid_topk(m, train, valid, RECNN_METRIC_NDCG, 10, NULL,
 * NULL).  Evaluator defaults (training items excluded, unseen users/items
 * skipped, every valid rating relevant); scores from m->vt->score_user, so
 * the model need not be marked fitted, but m->state must be usable.
 * cand_ptr/cand_item (may be NULL): per-user candidate lists as in
 * recnn_evaluator_set_candidates.  metric is a recnn_metric (AUC: k is
 * still >= 1 but ignored).  NaN on any failure (detail in last error). */
double recnn__valid_topk(const recnn_model *m, const recnn_dataset *train,
                         const recnn_dataset *valid, int metric, int k,
                         const int64_t *cand_ptr, const int64_t *cand_item);

#endif
