/* librecnn — the common model interface.  Part of the public API; include
 * <recnn.h>.
 *
 * Every model (AutoRec, MF, item-KNN, NCF, ...) is a recnn_model created by
 * kind name and configured through keyed settings, so new settings never
 * change the ABI.  Ids in this interface are the *external* ids of the
 * training data (the numbers in the rating file) unless a function says
 * "index".  Item indices (as returned by recnn_model_score_user) are the
 * dense internal indices of the training dataset's index space; convert
 * with recnn_model_item_id. */
#ifndef RECNN_MODEL_H
#define RECNN_MODEL_H

#include "common.h"
#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct recnn_model recnn_model;

/* Passed to the progress callback once per epoch.  `size` is
 * sizeof(recnn_progress) of the library that filled it: new fields are only
 * ever appended, so check size before reading a field added later. */
typedef struct recnn_progress {
    size_t size;
    int epoch;               /* 1-based */
    double train_loss;       /* the model's training objective, per rating */
    double valid_metric;     /* NaN when no validation set */
    const char *metric_name; /* e.g. "rmse", "hr@10"; never NULL */
    double seconds;          /* wall time of this epoch */
    int improved;            /* 1 when valid_metric is the best so far */
    /* Added in 0.1 (check size): wall time of the training pass alone,
     * without validation and best-epoch bookkeeping (what a benchmark
     * compares); equals `seconds` for models that do not time it apart. */
    double train_seconds;
} recnn_progress;

/* Return non-zero to stop training after this epoch (fit then returns
 * RECNN_OK with the best parameters so far).  While fit runs, the model's
 * settings and fit itself are RECNN_E_STATE, and the model is not yet
 * trained (predict, save: RECNN_E_STATE); the callback must not free it. */
typedef int (*recnn_progress_fn)(const recnn_progress *p, void *user_data);

/* Creates an untrained model of `kind` ("autorec", "mf", ...; see
 * recnn_model_kinds) with default settings.  Free with recnn_model_free. */
RECNN_API int recnn_model_create(recnn_model **out, const char *kind);
RECNN_API void recnn_model_free(recnn_model *m);
/* Space-separated list of kind names this library provides. */
RECNN_API const char *recnn_model_kinds(void);
RECNN_API const char *recnn_model_kind(const recnn_model *m);

/* ---- settings ---------------------------------------------------------
 * Names are lower-case keys such as "hidden", "l2", "lr", "epochs", "seed".
 * Setting a name the model does not have is RECNN_E_NOTFOUND; a value out
 * of range or of the wrong type, or a string value with white space or
 * '=' (it could not be read back from the settings string or a model
 * file), is RECNN_E_INVALID.  Settings are fixed by fit: changing one
 * afterwards is RECNN_E_STATE. */
RECNN_API int recnn_model_set_int(recnn_model *m, const char *key, int64_t value);
RECNN_API int recnn_model_set_float(recnn_model *m, const char *key, double value);
RECNN_API int recnn_model_set_str(recnn_model *m, const char *key, const char *value);
/* "key=value key=value ..." (spaces or newlines between pairs); the value
 * is parsed according to the setting's type.  All or nothing: on error no
 * setting is changed. */
RECNN_API int recnn_model_configure(recnn_model *m, const char *settings);
RECNN_API int recnn_model_get_int(const recnn_model *m, const char *key, int64_t *value);
RECNN_API int recnn_model_get_float(const recnn_model *m, const char *key, double *value);
/* Copies the value as text (any type) into buf (NUL-terminated). */
RECNN_API int recnn_model_get_str(const recnn_model *m, const char *key, char *buf,
                                  size_t size);
/* Number of settings, and the i-th one's name, type ("int", "float",
 * "string") and one-line documentation (static strings). */
RECNN_API int recnn_model_setting_count(const recnn_model *m);
RECNN_API int recnn_model_setting_info(const recnn_model *m, int i, const char **name,
                                       const char **type, const char **doc);
/* All settings as "key=value ..." into buf; returns the length needed
 * (excluding NUL), like snprintf. */
RECNN_API int recnn_model_settings_string(const recnn_model *m, char *buf, size_t size);

/* ---- training --------------------------------------------------------- */

/* Borrowed: the callback is called from the thread that calls fit. */
RECNN_API void recnn_model_set_progress(recnn_model *m, recnn_progress_fn fn,
                                        void *user_data);
/* Trains on `train`.  `valid` (may be NULL) must come from the same index
 * space (a split of the same source); with it, training stops early when
 * the validation metric has not improved for "patience" epochs and the
 * best parameters are restored.  The model keeps a reference to `train`
 * (to exclude already-rated items from recommendations); the caller may
 * free its own handle.  Same seed + same thread count => bit-identical.
 * Fit trains in place: on failure the model is left untrained, and the
 * parameters of an earlier fit are gone (keep a saved file to go back). */
RECNN_API int recnn_model_fit(recnn_model *m, const recnn_dataset *train,
                              const recnn_dataset *valid);
RECNN_API int recnn_model_is_fitted(const recnn_model *m);

/* ---- prediction -------------------------------------------------------- */

/* Predicted rating (or score) of external (user, item).  A user or item
 * unseen in training gets the model's default prediction (setting
 * "default_rating" where the model has it); the status is still RECNN_OK. */
RECNN_API int recnn_model_predict(const recnn_model *m, int64_t user, int64_t item,
                                  float *out);
RECNN_API int recnn_model_predict_batch(const recnn_model *m, size_t n,
                                        const int64_t *users, const int64_t *items,
                                        float *out);
/* Predictions for every rating of `d` (same index space as the training
 * data), in d's triplet order; out has recnn_dataset_n_ratings(d) floats. */
RECNN_API int recnn_model_predict_dataset(const recnn_model *m, const recnn_dataset *d,
                                          float *out);

/* Number of items in the model's index space, and conversions. */
RECNN_API int64_t recnn_model_n_items(const recnn_model *m);
RECNN_API int64_t recnn_model_n_users(const recnn_model *m);
RECNN_API int recnn_model_item_id(const recnn_model *m, int64_t index, int64_t *id);
RECNN_API int recnn_model_item_index(const recnn_model *m, int64_t id, int64_t *index);
RECNN_API int recnn_model_user_index(const recnn_model *m, int64_t id, int64_t *index);

/* Scores of every item for the user with internal index `user_index`
 * (scores has recnn_model_n_items floats; higher = more recommended). */
RECNN_API int recnn_model_score_user(const recnn_model *m, int64_t user_index,
                                     float *scores);

/* Top-k items for external user id, excluding items the user rated in the
 * training data, best first; ties broken by smaller item index.  Writes
 * min(k, available) external item ids (and scores if non-NULL) and their
 * number into *n_out. */
RECNN_API int recnn_model_recommend(const recnn_model *m, int64_t user, size_t k,
                                    int64_t *items, float *scores, size_t *n_out);

/* Fold-in: top-k for a user absent from training, given that user's
 * ratings (external item ids; unknown ids are ignored), without
 * retraining.  The rated items are excluded.  Each item at most once, and
 * each rating within the training scale (NaN included: RECNN_E_INVALID).
 * RECNN_E_UNSUPPORTED for models that cannot (e.g. plain MF). */
RECNN_API int recnn_model_recommend_new(const recnn_model *m, size_t n_rated,
                                        const int64_t *rated_items,
                                        const float *ratings, size_t k, int64_t *items,
                                        float *scores, size_t *n_out);

/* ---- persistence (format: docs/MODEL_FORMAT.md) ------------------------ */

/* Writes the fitted model to `path` through a temporary file and a rename,
 * so an existing file is replaced only by a complete new one.  A symbolic
 * link is followed (the file it names is replaced); a path that exists and
 * is not a regular file is RECNN_E_IO; a replaced file keeps its mode;
 * non-finite parameters are RECNN_E_NUMERIC. */
RECNN_API int recnn_model_save(const recnn_model *m, const char *path);
/* Reads a model saved by recnn_model_save.  Truncated, corrupt, foreign or
 * newer-format files are refused (RECNN_E_CORRUPT / RECNN_E_VERSION /
 * RECNN_E_FORMAT) and *out is left NULL. */
RECNN_API int recnn_model_load(recnn_model **out, const char *path);

#ifdef __cplusplus
}
#endif
#endif
