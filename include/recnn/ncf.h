/* librecnn — Neural Collaborative Filtering extras.  Part of the public
 * API; include <recnn.h> (or <recnn/ncf.h>).
 *
 * The NCF family (He et al., "Neural Collaborative Filtering", WWW 2017)
 * is available through the common model interface as kinds "gmf", "mlp"
 * and "neumf" (docs/models/ncf.md).  This header adds the one thing the
 * keyed settings cannot express: training NeuMF from GMF and MLP models
 * the caller has already fitted (the paper's pre-training). */
#ifndef RECNN_NCF_H
#define RECNN_NCF_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Trains the "neumf" model `neumf` on `train` (and `valid`, may be NULL,
 * exactly as recnn_model_fit) starting from fitted "gmf" and "mlp" models
 * instead of a random initialisation: the GMF and MLP embeddings and the
 * MLP tower are copied, and the output layer becomes
 *     h = [ alpha * h_gmf ; (1 - alpha) * h_mlp ],  b = alpha b_gmf + (1-alpha) b_mlp
 * with alpha = neumf's setting "alpha" (0.5 in the paper).
 *
 * gmf and mlp are borrowed for the duration of the call only.  They must
 * be fitted on the same index space as `train` (same user and item ids),
 * with the same "task", gmf's "factors" equal to neumf's "factors" and
 * mlp's "layers" equal to neumf's "layers"; otherwise RECNN_E_INVALID with
 * the mismatch in recnn_last_error() and neumf is left untrained. */
RECNN_API int recnn_neumf_fit_pretrained(recnn_model *neumf, const recnn_model *gmf,
                                         const recnn_model *mlp,
                                         const recnn_dataset *train,
                                         const recnn_dataset *valid);

#ifdef __cplusplus
}
#endif
#endif
