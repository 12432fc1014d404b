/* librecnn — neural recommender systems in C11.
 *
 * The one header to include.  Conventions (docs/API.md):
 * - every fallible call returns a recnn_status (0 = RECNN_OK, negative on
 *   failure) and recnn_last_error() gives the detail on that thread;
 * - handles are opaque; create functions write through an out-parameter;
 *   every *_free accepts NULL;
 * - nothing in the library prints, exits or aborts. */
#ifndef RECNN_H
#define RECNN_H

#include "recnn/common.h"
#include "recnn/dataset.h"
#include "recnn/nn.h"
#include "recnn/metrics.h"
#include "recnn/model.h"
#include "recnn/ncf.h"

#endif
