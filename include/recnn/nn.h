/* librecnn — neural building blocks: layers, losses, initialisers and
 * optimizers.  Part of the public API; include <recnn.h>. */
#ifndef RECNN_NN_H
#define RECNN_NN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
