/* librecnn — datasets: loading, id maps, views, transformations and
 * evaluation protocols.  Part of the public API; include <recnn.h>. */
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

#ifdef __cplusplus
}
#endif
#endif
