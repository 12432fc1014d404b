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

RECNN_API void recnn_dataset_free(recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_users(const recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_items(const recnn_dataset *d);
RECNN_API int64_t recnn_dataset_n_ratings(const recnn_dataset *d);

#ifdef __cplusplus
}
#endif
#endif
