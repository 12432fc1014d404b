/* librecnn — datasets: loading, id maps, views, transformations and
 * evaluation protocols.  Part of the public API; include <recnn.h>.
 * Formats, protocols and their exact rules: docs/DATASETS.md.
 *
 * Index spaces.  A dataset numbers its users and items densely (internal
 * indices 0 .. n-1, in ascending external id).  Every dataset derived from
 * another one (splits, filters, binarisation, normalisation, subsets)
 * shares its id maps: the same index means the same user or item, and
 * n_users / n_items are the sizes of that shared space, so rows of a
 * derived dataset may be empty.  Only recnn_dataset_compact makes a new,
 * smaller index space.
 *
 * Lifetime.  Datasets are immutable and reference-counted; every function
 * that returns one gives the caller one reference, released with
 * recnn_dataset_free.  Pointers returned by accessors (rows, columns,
 * triplets, names, titles) are borrowed and live as long as the dataset.
 * Datasets may be read from several threads at once.  On failure every
 * function leaves its out-parameters NULL: a half-built dataset is never
 * handed out. */
#ifndef RECNN_DATASET_H
#define RECNN_DATASET_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An immutable, reference-counted set of (user, item, value, timestamp)
 * ratings with its id maps and CSR/CSC views. */
typedef struct recnn_dataset recnn_dataset;

/* What to do when one (user, item) pair appears more than once. */
typedef enum recnn_dup_policy {
    RECNN_DUP_ERROR = 0,      /* refuse the input (default) */
    RECNN_DUP_KEEP_LAST = 1,  /* the last occurrence in input order wins */
    RECNN_DUP_KEEP_FIRST = 2  /* the first occurrence wins */
} recnn_dup_policy;

/* Builds a dataset from n ratings given as parallel arrays of external
 * ids (copied; the caller keeps its arrays).  `times` may be NULL.  The
 * rating scale is [scale_min, scale_max]; pass 0, 0 to use the observed
 * range.  Values must be finite and inside the scale.  Internal indices
 * follow ascending external id. */
RECNN_API int recnn_dataset_from_arrays(recnn_dataset **out, size_t n,
                                        const int64_t *users, const int64_t *items,
                                        const float *values, const int64_t *times,
                                        float scale_min, float scale_max,
                                        int dup_policy);

/* Releases the caller's reference (datasets are shared by the models and
 * splits made from them; memory goes with the last reference). */
RECNN_API void recnn_dataset_free(recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_users(const recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_items(const recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_ratings(const recnn_dataset *d);

/* ======================= loading ========================================= */

/* Rating file formats (docs/DATASETS.md has one example line of each). */
typedef enum recnn_format {
    RECNN_FORMAT_AUTO = 0,    /* detect from the content (or a directory's files) */
    RECNN_FORMAT_ML100K = 1,  /* u.data: user TAB item TAB rating TAB timestamp */
    RECNN_FORMAT_ML_DAT = 2,  /* ML-1M/10M ratings.dat: user::item::rating::timestamp */
    RECNN_FORMAT_CSV = 3,     /* MovieLens ratings.csv: userId,movieId,rating,timestamp
                                 (header line optional) */
    RECNN_FORMAT_NETFLIX = 4, /* "MovieID:" lines, then CustomerID,Rating,YYYY-MM-DD */
    RECNN_FORMAT_GENERIC = 5  /* delimiter, columns, header from the options */
} recnn_format;

/* Options of the loaders.  `size` = sizeof(recnn_load_options) as the
 * caller's header knew it: fields are only appended, and a library reading
 * a shorter struct takes the defaults for the rest.  Fill with
 * recnn_load_options_init, then change fields.  NULL options = defaults. */
typedef struct recnn_load_options {
    size_t size;
    int dup_policy;        /* recnn_dup_policy (default RECNN_DUP_ERROR) */
    float scale_min;       /* the declared rating scale; 0, 0 (default) = */
    float scale_max;       /*   the format's: ML100K, NETFLIX [1, 5]; ML_DAT,
                                CSV [0.5, 5] narrowed to [1, 5] when every
                                rating is a whole number; GENERIC the
                                observed range (no check) */
    /* GENERIC only: */
    const char *delimiter; /* 1..7 bytes, borrowed; default "," */
    int header;            /* 1: the first line is a header and skipped (0) */
    int user_col;          /* 0-based columns (defaults 0, 1, 2, 3); */
    int item_col;          /*   rating_col = -1: no rating column, every */
    int rating_col;        /*   line is an interaction (value 1, implicit); */
    int time_col;          /*   time_col = -1: no timestamps */
    int n_fields;          /* fields per line; 0 (default) = as the first line */
    int string_ids;        /* 1: user/item ids are arbitrary strings (names) */
} recnn_load_options;

/* Sets o->size and every default. */
RECNN_API void recnn_load_options_init(recnn_load_options *o);

/* Loads a rating file.  `path` may also be a directory: with AUTO it is
 * searched for u.data, ratings.dat, ratings.csv or Netflix files
 * (combined_data_*.txt, mv_*.txt, also under training_set/); with NETFLIX
 * every Netflix file in it is loaded (in name order) into one dataset.
 * `\r\n` line ends, a UTF-8 BOM and trailing blank lines are accepted;
 * anything else malformed is RECNN_E_FORMAT ("file:line: what" in
 * recnn_last_error()), a missing file, or one that is not a regular file
 * (FIFO, pipe, device), RECNN_E_IO. */
RECNN_API int recnn_dataset_load(recnn_dataset **out, const char *path, int format,
                                 const recnn_load_options *opts);

/* Loads n files of one format into one dataset (e.g. the four Netflix
 * combined_data_*.txt files).  Paths are borrowed. */
RECNN_API int recnn_dataset_load_files(recnn_dataset **out, const char *const *paths,
                                       size_t n, int format,
                                       const recnn_load_options *opts);

/* Loads a predefined train/test pair (ML-100K u1.base/u1.test .. ub) into
 * one index space: both datasets share id maps built from the union of the
 * two files, so a test item absent from the base file still has an index
 * (its training column is empty). */
RECNN_API int recnn_dataset_load_split(recnn_dataset **train, recnn_dataset **test,
                                       const char *train_path, const char *test_path,
                                       int format, const recnn_load_options *opts);

/* Writes d as text (ML100K, ML_DAT, CSV with header, NETFLIX grouped by
 * item, or GENERIC = CSV without header), with external ids; string ids
 * are written as their names.  Timestamps are written as 0 (NETFLIX:
 * 1970-01-01) when d has none.  The file is written to a temporary name
 * and renamed, so `path` is either the old file or the complete new one
 * (a symbolic link is followed; a path that is not a regular file is
 * RECNN_E_IO; a replaced file keeps its mode). */
RECNN_API int recnn_dataset_save_text(const recnn_dataset *d, const char *path,
                                      int format);

/* ======================= item metadata =================================== */

typedef enum recnn_meta_format {
    RECNN_META_AUTO = 0,   /* detect from the first line */
    RECNN_META_ML100K = 1, /* u.item: id|title|date|video date|url|19 flags
                              (ISO-8859-1, converted to UTF-8) */
    RECNN_META_CSV = 2     /* movies.csv: movieId,title,genres (quoted titles,
                              genres separated by '|', "(no genres listed)") */
} recnn_meta_format;

/* A new dataset sharing everything with d plus titles and genres read from
 * `path`.  Items of the file that d does not contain are ignored; items of
 * d the file does not describe get no title and no genres.  At most 64
 * genres. */
RECNN_API int recnn_dataset_attach_items(recnn_dataset **out, const recnn_dataset *d,
                                         const char *path, int meta_format);
RECNN_API int recnn_dataset_has_meta(const recnn_dataset *d);
/* Number of genres (0 without metadata) and the name of genre g (borrowed;
 * NULL when out of range). */
RECNN_API int recnn_dataset_n_genres(const recnn_dataset *d);
RECNN_API const char *recnn_dataset_genre_name(const recnn_dataset *d, int g);
/* Title (UTF-8, borrowed; NULL when the file had none) and genre bit mask
 * (bit g = genre g) of the item with external id `item`.  RECNN_E_NOTFOUND
 * for an unknown id, RECNN_E_STATE without metadata. */
RECNN_API int recnn_dataset_item_title(const recnn_dataset *d, int64_t item,
                                       const char **title);
RECNN_API int recnn_dataset_item_genres(const recnn_dataset *d, int64_t item,
                                        uint64_t *genres);

/* ======================= views =========================================== */

/* n_ratings / (n_users * n_items) of the index space (0 when empty). */
RECNN_API double recnn_dataset_density(const recnn_dataset *d);
/* The rating scale (declared or observed) and the mean rating (NaN when
 * empty). */
RECNN_API int recnn_dataset_scale(const recnn_dataset *d, float *scale_min,
                                  float *scale_max);
RECNN_API double recnn_dataset_mean(const recnn_dataset *d);
/* 1 when values are implicit interactions (binarised or no rating column). */
RECNN_API int recnn_dataset_is_implicit(const recnn_dataset *d);
/* 1 when the ratings carry timestamps. */
RECNN_API int recnn_dataset_has_times(const recnn_dataset *d);
/* Users / items with at least one rating (<= the index space sizes). */
RECNN_API int64_t recnn_dataset_n_active_users(const recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_active_items(const recnn_dataset *d);
/* 1 when a and b share one index space: the same id maps, or maps with
 * identical ids in identical order (e.g. one file loaded twice). */
RECNN_API int recnn_dataset_same_space(const recnn_dataset *a, const recnn_dataset *b);

/* The ratings of internal user `user_index`, sorted by item index: items[k],
 * values[k] for k < *n (borrowed; any out pointer may be NULL).
 * `times` variant adds the timestamps (NULL when the dataset has none). */
RECNN_API int recnn_dataset_user_row(const recnn_dataset *d, int64_t user_index,
                                     const int32_t **items, const float **values,
                                     int64_t *n);
RECNN_API int recnn_dataset_user_row_times(const recnn_dataset *d, int64_t user_index,
                                           const int64_t **times);
/* The ratings of internal item `item_index`, sorted by user index. */
RECNN_API int recnn_dataset_item_column(const recnn_dataset *d, int64_t item_index,
                                        const int32_t **users, const float **values,
                                        int64_t *n);
/* All ratings sorted by (user, item) as parallel arrays of n_ratings
 * internal indices, values and timestamps (times NULL when none). */
RECNN_API int recnn_dataset_triplets(const recnn_dataset *d, const int32_t **users,
                                     const int32_t **items, const float **values,
                                     const int64_t **times);
/* CSR row offsets (n_users + 1) and CSC column offsets (n_items + 1), with
 * the CSC arrays (users and values in item-major order). */
RECNN_API int recnn_dataset_csr(const recnn_dataset *d, const int64_t **row_ptr);
RECNN_API int recnn_dataset_csc(const recnn_dataset *d, const int64_t **col_ptr,
                                const int32_t **users, const float **values);

/* Id conversions.  *_id: external id of an internal index (for string ids:
 * the index itself; see *_name).  *_index: internal index of an external
 * id (RECNN_E_NOTFOUND when absent).  *_name: the string id (borrowed), or
 * NULL when the ids are integers or the index is out of range.
 * *_index_by_name: index of a string id. */
RECNN_API int recnn_dataset_user_id(const recnn_dataset *d, int64_t index, int64_t *id);
RECNN_API int recnn_dataset_item_id(const recnn_dataset *d, int64_t index, int64_t *id);
RECNN_API int recnn_dataset_user_index(const recnn_dataset *d, int64_t id, int64_t *index);
RECNN_API int recnn_dataset_item_index(const recnn_dataset *d, int64_t id, int64_t *index);
RECNN_API const char *recnn_dataset_user_name(const recnn_dataset *d, int64_t index);
RECNN_API const char *recnn_dataset_item_name(const recnn_dataset *d, int64_t index);
RECNN_API int recnn_dataset_user_index_by_name(const recnn_dataset *d, const char *name,
                                               int64_t *index);
RECNN_API int recnn_dataset_item_index_by_name(const recnn_dataset *d, const char *name,
                                               int64_t *index);

/* ======================= transformations =================================
 * Each returns a new dataset and leaves d untouched.  All but
 * recnn_dataset_compact keep d's index space (shared id maps, metadata). */

/* Keeps ratings of users with >= min_user ratings and items with >=
 * min_item ratings (0 = no limit).  iterate = 1 repeats until both hold
 * for every remaining user and item (the k-core); iterate = 0 applies the
 * item filter, then the user filter, once each (a paper's "remove movies
 * with fewer than 20 ratings"). */
RECNN_API int recnn_dataset_filter_min(recnn_dataset **out, const recnn_dataset *d,
                                       int64_t min_user, int64_t min_item, int iterate);
/* A new index space holding only the users and items that have ratings
 * (still ascending external id); metadata follows its items.  Not
 * compatible with splits of d: compact first, then split. */
RECNN_API int recnn_dataset_compact(recnn_dataset **out, const recnn_dataset *d);
/* Values mapped linearly from d's scale to [0, 1] (scale [0, 1]); the old
 * scale is remembered so recnn_dataset_denormalize maps back exactly. */
RECNN_API int recnn_dataset_normalize(recnn_dataset **out, const recnn_dataset *d);
RECNN_API int recnn_dataset_denormalize(recnn_dataset **out, const recnn_dataset *d);
/* Values mapped linearly from d's scale to [new_min, new_max]. */
RECNN_API int recnn_dataset_rescale(recnn_dataset **out, const recnn_dataset *d,
                                    float new_min, float new_max);
/* Implicit feedback: ratings >= threshold become 1, the others are
 * dropped; scale [0, 1], implicit.  (threshold <= scale_min keeps all.) */
RECNN_API int recnn_dataset_binarize(recnn_dataset **out, const recnn_dataset *d,
                                     float threshold);
/* Ratings k (triplet order) with keep[k] != 0 (n_ratings bytes). */
RECNN_API int recnn_dataset_subset(recnn_dataset **out, const recnn_dataset *d,
                                   const uint8_t *keep);
/* Ratings whose user has users[u] != 0 and whose item has items[i] != 0;
 * either mask may be NULL (= all). */
RECNN_API int recnn_dataset_select(recnn_dataset **out, const recnn_dataset *d,
                                   const uint8_t *users, const uint8_t *items);
/* The union of two datasets of one index space (e.g. train + validation);
 * a pair present in both is RECNN_E_FORMAT. */
RECNN_API int recnn_dataset_merge(recnn_dataset **out, const recnn_dataset *a,
                                  const recnn_dataset *b);
/* The ratings of `test` whose user and item both have a rating in `train`
 * (same index space). */
RECNN_API int recnn_dataset_drop_unseen(recnn_dataset **out, const recnn_dataset *test,
                                        const recnn_dataset *train);

/* ======================= protocols =======================================
 * Every split returns datasets sharing the source's index space, is a
 * pure function of (source, options), and guarantees: no (user, item) pair
 * in two parts; the parts together are the source (unless unseen test
 * ratings are dropped); sizes as documented per function. */

/* What happens to held-out ratings whose user or item has no rating in the
 * training part. */
typedef enum recnn_split_unseen {
    RECNN_SPLIT_KEEP_UNSEEN = 0,    /* leave them in test/valid (default) */
    RECNN_SPLIT_DROP_UNSEEN = 1,    /* remove them (the NCF/Recommenders way) */
    RECNN_SPLIT_UNSEEN_TO_TRAIN = 2 /* move them to the training part */
} recnn_split_unseen;

/* Options of the splits.  `size` as for recnn_load_options. */
typedef struct recnn_split_options {
    size_t size;
    uint64_t seed;          /* default 42 */
    double test_fraction;   /* held-out share (default 0.1) */
    double valid_fraction;  /* share of the training part held out for
                               validation (default 0: none) */
    int per_user;           /* random split: 1 = stratified per user (each
                               user's own share), 0 = global (default) */
    int unseen;             /* recnn_split_unseen (default KEEP) */
    int64_t min_ratings;    /* chronological split: users with fewer ratings
                               go entirely to training (default 1) */
} recnn_split_options;

RECNN_API void recnn_split_options_init(recnn_split_options *o);

/* Random hold-out.  Global: exactly round(test_fraction * n) random
 * ratings to test, then exactly round(valid_fraction * n_train) of the
 * rest to validation (the AutoRec protocol: 0.1 and 0.1).  Per user: the
 * same rule inside each user's row.  `valid` may be NULL when
 * valid_fraction is 0 (it is then set to NULL if given). */
RECNN_API int recnn_split_random(const recnn_dataset *d, const recnn_split_options *o,
                                 recnn_dataset **train, recnn_dataset **valid,
                                 recnn_dataset **test);
/* k-fold: the ratings are shuffled (seed) and cut into k folds whose sizes
 * differ by at most one; `fold` (0 .. k-1) is the test part. */
RECNN_API int recnn_split_kfold(const recnn_dataset *d, int k, int fold, uint64_t seed,
                                recnn_dataset **train, recnn_dataset **test);
/* Per-user chronological split, as Microsoft Recommenders'
 * python_chrono_split(ratio = 1 - test_fraction): each user's ratings
 * sorted by time (ties: ascending item index); the one at position j
 * (1-based) of n goes to training when j / n <= 1 - test_fraction (in
 * double), so training gets floor((1 - f) n) ratings.  With
 * valid_fraction, the latest share of each user's training part goes to
 * validation by the same rule.  Needs timestamps. */
RECNN_API int recnn_split_chrono(const recnn_dataset *d, const recnn_split_options *o,
                                 recnn_dataset **train, recnn_dataset **valid,
                                 recnn_dataset **test);
/* Leave-one-out: each user's latest rating (largest timestamp, ties: the
 * larger item index; without timestamps a random one, seeded) is the test
 * part; users with a single rating keep it in training. */
RECNN_API int recnn_split_leave_one_out(const recnn_dataset *d,
                                        const recnn_split_options *o,
                                        recnn_dataset **train, recnn_dataset **test);

/* ---- candidate lists: the NCF protocol (1 positive + N negatives) ------- */

/* Per-user candidate items for ranking evaluation. */
typedef struct recnn_candidates recnn_candidates;

/* For each user with test ratings: its test items followed by
 * n_negatives items drawn uniformly without replacement from the items
 * that have a rating in `train` and that the user rated in neither
 * `train` nor `test` (fewer when not enough exist).  Items with no
 * training rating are never drawn: no model has seen them, and the
 * evaluator drops them from C(u) by default (skip_unseen=1), which would
 * leave fewer than N negatives.  Deterministic for a seed, whatever the
 * thread count. */
RECNN_API int recnn_candidates_sample(recnn_candidates **out, const recnn_dataset *train,
                                      const recnn_dataset *test, int64_t n_negatives,
                                      uint64_t seed);
RECNN_API void recnn_candidates_free(recnn_candidates *c);
/* The lists in the layout of recnn_evaluator_set_candidates: offsets has
 * n_users + 1 entries, user u's items are items[offsets[u] ..
 * offsets[u+1]) (internal indices; the positives first).  Borrowed. */
RECNN_API int64_t recnn_candidates_n_users(const recnn_candidates *c);
RECNN_API const int64_t *recnn_candidates_offsets(const recnn_candidates *c);
RECNN_API const int64_t *recnn_candidates_items(const recnn_candidates *c);

/* ---- negative sampling for training ------------------------------------- */

typedef enum recnn_negative_mode {
    RECNN_NEG_UNIFORM = 0,    /* every unrated item equally likely */
    RECNN_NEG_POPULARITY = 1  /* proportional to (ratings of the item)^exponent */
} recnn_negative_mode;

/* k negatives for every rating of d: out[r * k + j] (j < k) is an item the
 * user of rating r (triplet order) has not rated in d, drawn with
 * replacement.  out has n_ratings * k entries (caller-owned).  The result
 * depends only on (d, k, mode, exponent, seed): same on any thread count;
 * pass a different seed per epoch.  RECNN_E_INVALID when some user has no
 * possible negative. */
RECNN_API int recnn_dataset_sample_negatives(const recnn_dataset *d, int64_t k, int mode,
                                             double exponent, uint64_t seed,
                                             int32_t *out);

/* ======================= synthetic data ================================== */

/* Options of the generator; `size` as for recnn_load_options. */
typedef struct recnn_synthetic_options {
    size_t size;
    int64_t n_users;        /* default 1000 */
    int64_t n_items;        /* default 500 */
    int64_t n_ratings;      /* default 50000 (<= n_users * n_items) */
    int rank;               /* planted preference rank (default 8) */
    float scale_min;        /* rating scale (default 1 .. 5) */
    float scale_max;
    float step;             /* rating granularity (default 1; 0.5 = half
                               stars; 0 = continuous) */
    float noise;            /* std of the noise, rating units (default 0.5) */
    double user_exponent;   /* power-law exponents of user activity and */
    double item_exponent;   /*   item popularity (defaults 0.6 and 0.9) */
    int n_genres;           /* default 18 (0 = no metadata) */
    int64_t time_start;     /* timestamps in [time_start, time_start + */
    int64_t time_span;      /*   time_span) seconds (defaults 2000-01-01, 3 y) */
    uint64_t seed;          /* default 42 */
} recnn_synthetic_options;

RECNN_API void recnn_synthetic_options_init(recnn_synthetic_options *o);

/* Generates a dataset: user u and item i get latent vectors p_u, q_i and
 * biases; a rating is scale_mid + spread * (b_u + b_i + p_u.q_i) + noise,
 * clamped to the scale and rounded to `step`.  Users' activity and items'
 * popularity follow power laws (every user has >= 1 rating when n_ratings
 * >= n_users; rare items may have none).  Ids are 1 .. n_users and 1 .. n_items; items carry
 * titles and genres tied to their latent vectors.  Deterministic for a
 * seed, whatever the thread count; Netflix size (480,189 x 17,770, 100M)
 * needs about 3 GB. */
RECNN_API int recnn_dataset_synthetic(recnn_dataset **out,
                                      const recnn_synthetic_options *o);

#ifdef __cplusplus
}
#endif
#endif
