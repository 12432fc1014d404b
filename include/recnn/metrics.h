/* librecnn — metrics and the evaluator.  Part of the public API; include
 * <recnn.h>.  The full definitions, with worked examples and the choices
 * peers make, are in docs/METRICS.md; the formulas below are the contract.
 *
 * ---- Ranking (one definition for the whole library) ---------------------
 * Items are ranked by score, higher first; equal scores rank the smaller
 * item index first; NaN scores rank after every number (two NaNs: smaller
 * index first).  This is the order of recnn_model_recommend and of every
 * top-K metric here, so results never depend on a sort's stability or on
 * the thread count.
 *
 * ---- Top-K metrics, per user u ------------------------------------------
 * C(u)   candidates: every item of the index space, minus the items u rated
 *        in the training set (setting exclude_train=1), minus the items
 *        with no training rating at all (skip_unseen=1); or, when explicit
 *        candidate lists are set (recnn_evaluator_set_candidates), that
 *        list minus the same exclusions.
 * R(u)   relevant items: the items u rated in the test set with rating >=
 *        threshold (every test rating when threshold is "none"), that are
 *        in C(u).
 * L(u)   the ranking of C(u) (order above); L_k = its first min(k, |C|)
 *        items; rel(j) = 1 when the item at rank j (1-based) is in R(u).
 * hits@k = sum_{j<=k} rel(j).
 *
 * Users counted: those with |R(u)| >= 1 (with skip_unseen=1, also only
 * users that have training ratings).  A counted user with no hit
 * contributes 0.  Every reported value is the mean over counted users of
 * the per-user value, except F1 (setting f1), coverage and Gini.
 *
 *   precision@k = hits@k / k                 (precision=k, default)
 *               = hits@k / |L_k|             (precision=listed; 0 if empty)
 *   recall@k    = hits@k / |R|
 *   F1@k        = 2 P R / (P + R), 0 when P + R = 0; with f1=mean (default,
 *                 as the CFGAN and MF/NCF/LSTM papers report it) P and R
 *                 are the means over users; with f1=user it is the mean of
 *                 per-user F1.  Per-user values are always per-user F1.
 *   AP@k        = sum_{j<=k} rel(j) * (hits@j / j) / D, with D =
 *                 |R|             (map=relevant, default: Microsoft
 *                                  Recommenders as used by the NCF/MovieLens
 *                                  paper),
 *                 min(k, |R|)     (map=min: current Recommenders map_at_k,
 *                                  RecBole),
 *                 hits@k          (map=hits; AP = 0 when hits@k = 0);
 *                 MAP@k = mean of AP@k.
 *   NDCG@k      = DCG@k / IDCG@k, DCG@k = sum_{j<=k} g(j) / log2(j + 1),
 *                 g(j) = rel(j)                     (ndcg=binary, default),
 *                 g(j) = rel(j) * rating            (ndcg=rating),
 *                 g(j) = rel(j) * (2^rating - 1)    (ndcg=exp2);
 *                 IDCG@k = the DCG of the best possible list: the
 *                 min(|R|, k) largest gains of R in ranks 1, 2, ...,
 *                 those > 0 only (a gain <= 0, from a rating <= 0 on a
 *                 shifted scale, is worse than a non-relevant item's 0);
 *                 NDCG@k = 0 when IDCG@k = 0.
 *   HR@k        = 1 if hits@k >= 1 else 0 (with one held-out positive and
 *                 N sampled negatives as candidates: the NCF paper's HR@K).
 *   MRR@k       = 1 / (rank of the first relevant item) if that rank <= k,
 *                 else 0.  k = 0 means no cut-off: the rank in the whole
 *                 ranking of C(u) (computed with full_ranking=1).
 *   AUC         = (1 / (|R| |N|)) sum_{r in R, n in N} [s_r > s_n] +
 *                 1/2 [s_r = s_n], N = C(u) \ R (Mann-Whitney: ties count
 *                 one half; NaN is below every number, equal to NaN).
 *                 Users with N empty are not counted for AUC.  Query with
 *                 k = 0.  Needs full_ranking=1.
 *
 * ---- Beyond accuracy, over the top-k lists of the counted users ---------
 *   catalogue   = items that can be recommended: with skip_unseen=1 the
 *                 items with at least one training rating, else all items.
 *   coverage@k  = |union of L_k(u)| / |catalogue|.
 *   Gini@k      = exposure inequality: c_1 <= ... <= c_n the number of
 *                 lists L_k containing each catalogue item, sorted;
 *                 Gini = sum_i (2i - n - 1) c_i / (n sum_i c_i); 0 = every
 *                 item equally exposed, -> 1 = all exposure on one item.
 *   novelty@k   = mean over users of the mean over L_k of the item's self-
 *                 information log2(|U| / pop(i)), |U| = users with training
 *                 ratings, pop(i) = training users who rated i (at least 1).
 *                 Needs the training set.
 *   ILD@k       = intra-list diversity by genre: the mean over pairs
 *                 i < j of L_k of 1 - |G_i & G_j| / |G_i | G_j| (genre sets
 *                 G; two items without genres are identical: distance 0).
 *                 Users with |L_k| < 2 are not counted.  Needs item genres
 *                 on the training set.
 *   genre_tvd@k = total variation distance 1/2 sum_g |p_g - q_g| between the
 *                 genre shares of L_k (p) and of the user's training items
 *                 (q), where a list's share of genre g = (items with g) /
 *                 (sum over genres of items with it).  Users whose list or
 *                 history has no genre are not counted.  See also
 *                 recnn_evaluator_genre_distribution (mf-ncf-lstm-graph
 *                 paper, figures 10-12).
 *
 * ---- Rating metrics ------------------------------------------------------
 * Over pairs (p_i, t_i), i = 1..n, after the prediction policy below:
 *   MSE = (1/n) sum (p_i - t_i)^2, RMSE = sqrt(MSE), MAE = (1/n) sum |p_i - t_i|,
 *   accuracy = (1/n) #{ i : round_grid(p_i) = t_i }, round_grid(p) =
 *   grid * floor(p / grid + 1/2) (nearest multiple of grid, halves up; the
 *   autoencoder-mf-knn paper uses grid 0.5), compared with t_i to within
 *   grid/1000. */
#ifndef RECNN_METRICS_H
#define RECNN_METRICS_H

#include "common.h"
#include "dataset.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================= rating metrics ================================ */

/* What the model-based rating metrics do with a test rating whose user or
 * item has no rating in the training set. */
typedef enum recnn_unseen_policy {
    RECNN_UNSEEN_DEFAULT = 0, /* predict default_rating (default) */
    RECNN_UNSEEN_SKIP = 1,    /* leave the rating out of every metric */
    RECNN_UNSEEN_MODEL = 2    /* use whatever the model predicts */
} recnn_unseen_policy;

/* Options of the rating metrics.  `size` must be sizeof(recnn_rating_opts)
 * as the caller's header knew it: fields are only ever appended, and a
 * library reading a shorter struct takes the defaults for the rest.
 * Fill with recnn_rating_opts_init, then change fields. */
typedef struct recnn_rating_opts {
    size_t size;
    int clamp;            /* 1 (default): clamp predictions into the scale */
    float scale_min;      /* the clamp range; both 0 (default) = the model's */
    float scale_max;      /*   training scale, or no clamping for arrays   */
    float grid;           /* accuracy rounding step (default 0.5; > 0) */
    int unseen;           /* recnn_unseen_policy (default RECNN_UNSEEN_DEFAULT) */
    float default_rating; /* NaN (default): the model's default prediction,
                             as recnn_model_predict gives it (its
                             "default_rating" setting if it has one, else
                             its training mean; NCF task=implicit: 0).
                             AutoRec's protocol: set 3 */
} recnn_rating_opts;

/* The results.  The caller sets `size` = sizeof(recnn_rating_metrics); the
 * library writes the fields that fit in `size` bytes. */
typedef struct recnn_rating_metrics {
    size_t size;
    int64_t n;       /* ratings counted */
    int64_t n_unseen;/* of the test ratings: user or item unseen in training
                        (model path; 0 for arrays) */
    double mse, rmse, mae;
    double accuracy; /* share of exact matches after rounding to the grid */
} recnn_rating_metrics;

/* Sets o->size and every default. */
RECNN_API void recnn_rating_opts_init(recnn_rating_opts *o);

/* Rating metrics of n predictions against n true ratings (borrowed; may
 * be NULL when n = 0, giving n = 0 and NaN metrics).  opts may be NULL
 * (defaults; for arrays clamping needs an explicit scale).  Non-finite
 * values are RECNN_E_NUMERIC. */
RECNN_API int recnn_rating_metrics_arrays(const float *pred, const float *truth,
                                          size_t n, const recnn_rating_opts *opts,
                                          recnn_rating_metrics *out);

/* Rating metrics of a fitted model on every rating of `test` (same index
 * space as the model's training data), predicted with
 * recnn_model_predict_dataset.  Users/items unseen in training follow
 * opts->unseen. */
RECNN_API int recnn_rating_metrics_model(const recnn_model *m, const recnn_dataset *test,
                                         const recnn_rating_opts *opts,
                                         recnn_rating_metrics *out);

/* ======================= top-K metrics: the evaluator ================== */

/* Metric identifiers (values are ABI).  Per user unless marked. */
typedef enum recnn_metric {
    RECNN_METRIC_PRECISION = 0,
    RECNN_METRIC_RECALL = 1,
    RECNN_METRIC_F1 = 2,
    RECNN_METRIC_MAP = 3,
    RECNN_METRIC_NDCG = 4,
    RECNN_METRIC_HR = 5,
    RECNN_METRIC_MRR = 6,       /* k = 0: whole ranking */
    RECNN_METRIC_AUC = 7,       /* k must be 0 */
    RECNN_METRIC_COVERAGE = 8,  /* aggregate only */
    RECNN_METRIC_GINI = 9,      /* aggregate only */
    RECNN_METRIC_NOVELTY = 10,
    RECNN_METRIC_ILD = 11,
    RECNN_METRIC_GENRE_TVD = 12
} recnn_metric;
#define RECNN_METRIC_COUNT 13

/* "precision", "recall", "f1", "map", "ndcg", "hr", "mrr", "auc",
 * "coverage", "gini", "novelty", "ild", "genre_tvd"; NULL if unknown. */
RECNN_API const char *recnn_metric_name(int metric);
/* The metric named `name` (as above), or -1. */
RECNN_API int recnn_metric_from_name(const char *name);

typedef struct recnn_evaluator recnn_evaluator;

/* A new evaluator of `test` against `train`.  Both are retained (the
 * caller may free its handles); they must share one index space (split
 * from one dataset).  train may be NULL: nothing is excluded, every item is
 * in the catalogue, and novelty/ILD/genre metrics are NaN.  Free with
 * recnn_evaluator_free. */
RECNN_API int recnn_evaluator_create(recnn_evaluator **out, const recnn_dataset *train,
                                     const recnn_dataset *test);
RECNN_API void recnn_evaluator_free(recnn_evaluator *e);

/* ---- settings (names and defaults) -------------------------------------
 *   k=10              cut-offs, up to 16 distinct values in 1..1000000,
 *                     comma-separated ("5,10,20"); computed in one pass
 *   threshold=none    test ratings >= threshold are relevant (a number, or
 *                     none = every test rating; set_float NaN = none)
 *   exclude_train=1   drop each user's training items from its candidates
 *   skip_unseen=1     drop users and items without training ratings (the
 *                     ncf-movielens protocol)
 *   map=relevant      AP denominator: relevant | min | hits
 *   ndcg=binary       gain: binary | rating | exp2
 *   precision=k       denominator: k | listed
 *   f1=mean           mean (F1 of mean P and R) | user (mean per-user F1)
 *   full_ranking=1    also compute AUC and whole-ranking MRR (k = 0)
 *   threads=0         OpenMP threads for evaluation (0 = the library budget)
 * Unknown keys are RECNN_E_NOTFOUND, bad values RECNN_E_INVALID (nothing
 * changed).  Settings apply to the next run. */
RECNN_API int recnn_evaluator_set_int(recnn_evaluator *e, const char *key, int64_t value);
RECNN_API int recnn_evaluator_set_float(recnn_evaluator *e, const char *key, double value);
RECNN_API int recnn_evaluator_set_str(recnn_evaluator *e, const char *key,
                                      const char *value);
/* "key=value key=value ..." all or nothing. */
RECNN_API int recnn_evaluator_configure(recnn_evaluator *e, const char *settings);
/* Every setting as "key=value ..." (snprintf contract: returns the length
 * needed excluding the NUL, writes at most size bytes). */
RECNN_API int recnn_evaluator_settings_string(const recnn_evaluator *e, char *buf,
                                              size_t size);
/* Cut-offs as an array (same as setting "k"). */
RECNN_API int recnn_evaluator_set_ks(recnn_evaluator *e, size_t n, const int *ks);

/* Explicit candidate lists (leave-one-out with sampled negatives: the held-
 * out positive plus N negatives per user).  offsets has n_users + 1 entries
 * (n_users = the index space's user count), user u's candidates are the
 * internal item indices items[offsets[u] .. offsets[u+1]); order and
 * duplicates do not matter.  Copied.  Users with an empty list are not
 * evaluated.  n_users = 0 (and NULL arrays) removes the lists. */
RECNN_API int recnn_evaluator_set_candidates(recnn_evaluator *e, int64_t n_users,
                                             const int64_t *offsets,
                                             const int64_t *items);

/* Fills scores[0 .. n_items) for internal user index `user_index`; higher
 * = more recommended.  Called for the users being evaluated, possibly from
 * several threads at once (set threads=1 if it is not thread-safe).
 * Return 0, or non-zero to abort the run (it then returns RECNN_E_STOPPED
 * unless the value is a negative recnn_status, which is returned). */
typedef int (*recnn_score_fn)(int64_t user_index, float *scores, void *ctx);

/* One evaluation pass over all users, replacing any previous results.
 * One run at a time per evaluator (the result getters are read-only and
 * may be called from several threads between runs).
 * Scores come from a fitted model (recnn_model_score_user; the model's
 * index space must be the datasets'), a callback, or a dense row-major
 * n_users x n_items matrix (borrowed; n_users/n_items = the index space's).
 * Same inputs and settings give identical results for any thread count. */
RECNN_API int recnn_evaluator_run_model(recnn_evaluator *e, const recnn_model *m);
RECNN_API int recnn_evaluator_run_fn(recnn_evaluator *e, recnn_score_fn fn, void *ctx);
RECNN_API int recnn_evaluator_run_matrix(recnn_evaluator *e, const float *scores,
                                         int64_t n_users, int64_t n_items);

/* ---- results (after a successful run) -----------------------------------
 * recnn_evaluator_value: the reported value of `metric` at cut-off k (k one
 * of the configured cut-offs; 0 for AUC and whole-ranking MRR).  NaN when
 * no user is counted.  RECNN_E_STATE before a run, RECNN_E_INVALID for a k
 * not configured. */
RECNN_API int recnn_evaluator_value(const recnn_evaluator *e, int metric, int k,
                                    double *value);
/* Per-user values of a per-user metric: writes n_users doubles (internal
 * user index order; NaN for users not counted).  n must be >= the index
 * space's user count.  Coverage and Gini have no per-user value
 * (RECNN_E_UNSUPPORTED). */
RECNN_API int recnn_evaluator_user_values(const recnn_evaluator *e, int metric, int k,
                                          double *values, int64_t n);
/* Number of users counted (with >= 1 relevant candidate) in the last run. */
RECNN_API int64_t recnn_evaluator_n_counted(const recnn_evaluator *e);
/* The top-k_max ranked list of a counted user (internal item indices, best
 * first): writes min(cap, list length) items, *n_out = list length. */
RECNN_API int recnn_evaluator_user_list(const recnn_evaluator *e, int64_t user_index,
                                        int64_t *items, size_t cap, size_t *n_out);
/* Genre shares (see genre_tvd above) of the top-k lists (`rec`) and of the
 * training histories (`hist`), n_genres doubles each (either may be NULL),
 * for one user (user_index >= 0) or pooled over all counted users (-1:
 * every list and every history counted once).  n_genres must equal the
 * training set's genre count; RECNN_E_STATE without genres. */
RECNN_API int recnn_evaluator_genre_distribution(const recnn_evaluator *e, int k,
                                                 int64_t user_index, double *rec,
                                                 double *hist, int n_genres);
/* "precision@10=0.175822 recall@10=... auc=..." for every computed metric
 * (snprintf contract). */
RECNN_API int recnn_evaluator_report(const recnn_evaluator *e, char *buf, size_t size);

/* ======================= repeated splits ================================ */

/* Mean and half-width of the two-sided 95 % confidence interval of the
 * mean of `values` (NaNs are skipped): half = t(0.975, n-1) * s / sqrt(n),
 * s the sample standard deviation, t Student's quantile (exact table for
 * n - 1 <= 30, a Cornish-Fisher expansion beyond).  With one value the
 * half-width is NaN.  RECNN_E_INVALID when no finite value. */
RECNN_API int recnn_mean_ci95(const double *values, size_t n, double *mean,
                              double *half_width);

#ifdef __cplusplus
}
#endif
#endif
