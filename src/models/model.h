/* Internal model interface: the one vtable every model implements, so that
 * settings, prediction by external id, recommendation, evaluation, early
 * stopping and persistence are written once (in model.c / src/io). */
#ifndef RECNN_MODELS_MODEL_H
#define RECNN_MODELS_MODEL_H

#include "../core/core.h"
#include "../data/dataset.h"

/* ---- settings tables ---------------------------------------------------
 * A model describes its settings with a static table; each entry points at
 * a field of the model's own config struct (offsetof).  model.c parses,
 * validates, prints and persists them. */
enum { RECNN__SET_INT, RECNN__SET_FLOAT, RECNN__SET_STR };
#define RECNN__STR_MAX 128

typedef struct recnn__setting {
    const char *name;
    int type;        /* RECNN__SET_*: field is int64_t, double, char[STR_MAX] */
    size_t offset;   /* offsetof(config struct, field) */
    double def;      /* default for INT/FLOAT */
    double min, max; /* inclusive range for INT/FLOAT */
    const char *sdef;    /* default for STR */
    const char *choices; /* STR: "a|b|c" allowed values, or NULL = free text */
    const char *doc;
} recnn__setting;

/* ---- tensors, for persistence and best-epoch snapshots ------------------ */
enum { RECNN__F32 = 1, RECNN__I32 = 2, RECNN__I64 = 3 };

typedef struct recnn__tensor {
    const char *name; /* unique within a model, static string */
    int dtype;        /* RECNN__F32 / I32 / I64 */
    int64_t count;    /* elements */
    void *data;
    /* 0, or a matrix of count / cols rows of cols elements stored ld apart
     * (ld > cols: padded rows; only the cols are the tensor's values, and
     * files and snapshots hold them packed) */
    int64_t cols, ld;
} recnn__tensor;

/* Whether t's rows are stored padded (ld > cols). */
static inline int recnn__tensor_strided(const recnn__tensor *t)
{
    return t->cols > 0 && t->ld > t->cols;
}

/* Packed copies of a tensor's values out of / into its storage. */
void recnn__tensor_get(const recnn__tensor *t, void *dst);
void recnn__tensor_put(const recnn__tensor *t, const void *src);

#define RECNN__MAX_TENSORS 64

typedef struct recnn__model_vt {
    const char *kind;
    const char *doc;                /* one line: what the model is */
    const recnn__setting *settings; /* table */
    int n_settings;
    size_t config_size;             /* sizeof the model's config struct */

    /* Trains; m->n_users/n_items, id maps, m->train already set by model.c.
     * Must report each epoch through recnn__fit_epoch and honour its stop. */
    int (*fit)(recnn_model *m, const recnn_dataset *train, const recnn_dataset *valid);
    /* Predictions for internal indices known to the model (0 <= u < n_users,
     * 0 <= i < n_items); out[k] for pair k. */
    int (*predict)(const recnn_model *m, int64_t n, const int32_t *u,
                   const int32_t *i, float *out);
    /* Scores of all n_items items for internal user u.  Must be re-entrant:
     * the evaluator calls it from several threads at once. */
    int (*score_user)(const recnn_model *m, int32_t u, float *scores);
    /* Fold-in scores for a new user's ratings (internal item indices);
     * NULL when the model cannot. */
    int (*score_new)(const recnn_model *m, int64_t n, const int32_t *items,
                     const float *ratings, float *scores);
    /* Borrowed views of every learned buffer (returns count, <= max).
     * Used for saving and for best-epoch snapshots (copied in place). */
    int (*tensors)(const recnn_model *m, recnn__tensor *out, int max);
    /* Rebuilds the learned state from loaded tensors (copy what is kept);
     * config, dims and id maps are already set. */
    int (*restore)(recnn_model *m, const recnn__tensor *t, int n);
    /* Frees m->state (config and common parts are model.c's). */
    void (*free_state)(recnn_model *m);
    /* The prediction for a user or item without training ratings; NULL:
     * the setting "default_rating" where the model has one, else the
     * training mean (recnn__model_default). */
    float (*default_value)(const recnn_model *m);
} recnn__model_vt;

struct recnn_model {
    const recnn__model_vt *vt;
    void *config;  /* vt->config_size bytes, described by vt->settings */
    void *state;   /* the model's own */
    int fitted;

    int64_t n_users, n_items;
    recnn__idmap *users, *items; /* retained from the training data */
    float scale_min, scale_max;  /* rating scale of the training data */
    double global_mean;          /* mean training rating */

    /* Items each user rated in training (excluded from recommendations):
     * CSR, pointing into m->train or into owned buffers after a load. */
    recnn_dataset *train;        /* retained by fit, NULL after load */
    const int64_t *seen_ptr;     /* n_users + 1 */
    const int32_t *seen_item;
    int64_t *own_seen_ptr;
    int32_t *own_seen_item;
    uint8_t *item_seen;          /* n_items: 1 if the item has a training rating
                                  * (recnn__model_index_seen; owned) */

    recnn_progress_fn progress;
    void *progress_data;
    int fitting;                 /* fit is running: settings and fit called
                                  * from its progress callback are refused */

    /* early stopping bookkeeping (recnn__fit_*) */
    double best_metric;
    int best_epoch, bad_epochs;
    void *snapshot;              /* copy of tensors at the best epoch */
    size_t snapshot_bytes;
    int fit_error;               /* set by recnn__fit_epoch when it failed */
    double train_seconds;        /* set by fit before recnn__fit_epoch: the epoch's
                                  * training pass alone (0: not timed apart) */
};

/* Registry (registry.c): every model file defines one vtable
 * `const recnn__model_vt recnn__vt_<name>` and adds it to the list there. */
const recnn__model_vt *recnn__model_find(const char *kind);

/* True when dataset d lives in the model's index space: the same id maps,
 * or maps with identical ids in identical order (a model loaded from a
 * file scoring a dataset loaded again from its source). */
bool recnn__model_same_space(const recnn_model *m, const recnn_dataset *d);

/* Builds m->item_seen from the seen-items table (fit and load).  A pair
 * is "known" when its user and its item each have a training rating;
 * every other pair gets the default prediction. */
int recnn__model_index_seen(recnn_model *m);
bool recnn__model_known(const recnn_model *m, int32_t user, int32_t item);
/* The default prediction of a fitted model (vt->default_value). */
float recnn__model_default(const recnn_model *m);

/* A model with default settings (used by create and by the file loader). */
int recnn__model_new(const recnn__model_vt *vt, recnn_model **out);
/* Applies "k=v k=v" text to a config struct, all or nothing. */
int recnn__model_configure_raw(const recnn__model_vt *vt, void *config,
                               const char *text);
/* Formats every setting as "k=v k=v" (snprintf contract). */
int recnn__settings_format(const recnn__model_vt *vt, const void *config, char *buf,
                           size_t size);

/* Config access for model code: cast m->config to its own struct. */
#define RECNN__CFG(m, type) ((const type *)(m)->config)

/* ---- training helpers for model code ---------------------------------- */

/* Called once at the end of every epoch.  Calls the progress callback,
 * tracks the best validation metric (lower is better when lower_better),
 * snapshots the tensors when it improves, and returns non-zero when
 * training should stop (callback asked, or `patience` epochs without
 * improvement; patience 0 disables early stopping; patience < 0 also skips
 * the best-epoch bookkeeping and snapshot, for single-pass models whose
 * metric is only reported).  valid_metric NaN means no validation set. */
int recnn__fit_epoch(recnn_model *m, int epoch, double train_loss, double valid_metric,
                     const char *metric_name, int lower_better, int patience,
                     double seconds);
/* If the snapshot cannot be taken (out of memory) recnn__fit_epoch asks
 * to stop and recnn_model_fit then fails with that status, so a model
 * never silently keeps non-best parameters.
 *
 * Ends training: restores the best snapshot if one was taken.  It runs
 * after vt->fit returns and nothing runs after it, so every buffer derived
 * from the parameters (e.g. cached hidden codes) must itself be one of the
 * model's tensors to stay consistent with the restored epoch. */
int recnn__fit_finish(recnn_model *m);

/* For vt->restore: copies each loaded tensor into the model's own buffer
 * of the same name (`want`, from the model's vt->tensors).  Every wanted
 * tensor must be present with the same dtype and count, else
 * RECNN_E_CORRUPT naming it; extra loaded tensors are ignored. */
int recnn__tensors_copy_in(const recnn_model *m, const recnn__tensor *want, int n_want,
                           const recnn__tensor *got, int n_got);

/* RMSE of the model's predictions over the ratings of d (clamped to the
 * training scale); NaN when d is NULL or empty. */
double recnn__valid_rmse(const recnn_model *m, const recnn_dataset *d);

#endif
