/* librecnn — metrics and the evaluator.  Part of the public API; include
 * <recnn.h>. */
#ifndef RECNN_METRICS_H
#define RECNN_METRICS_H

#include "common.h"
#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
