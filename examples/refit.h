/* Shared by examples/autorec.c and examples/deep_autoencoder.c (header-only:
 * each is one translation unit).
 *
 * ---- The refit protocol ----------------------------------------------------
 *
 * Validation only chooses: the settings and the stopping epoch are chosen
 * on a model fitted to the training part minus its validation share, with
 * that share as the validation set.  Then a new model with those settings
 * is trained on the whole training part (train + valid) for exactly the
 * chosen number of epochs, with no validation set (so no early stopping
 * and no best-epoch restore: the weights after the last epoch are kept),
 * and only that model sees the test set.  The test set never chooses
 * anything. */
#ifndef RECNN_EXAMPLES_REFIT_H
#define RECNN_EXAMPLES_REFIT_H

#include <stdio.h>

#include <recnn.h>

/* Sets epochs=`epochs` on m (created and configured by the caller with the
 * chosen settings and seed; its progress callback, if any, stays) and fits
 * it on train + valid (one index space) with no validation set.  On
 * failure returns the status, the detail in recnn_last_error(). */
static int refit_fit(recnn_model *m, int epochs, const recnn_dataset *train,
                     const recnn_dataset *valid)
{
    char e[32];
    snprintf(e, sizeof e, "epochs=%d", epochs);
    recnn_dataset *full = NULL;
    int st = recnn_model_configure(m, e);
    if (st == RECNN_OK)
        st = recnn_dataset_merge(&full, train, valid);
    if (st == RECNN_OK)
        st = recnn_model_fit(m, full, NULL); /* the model keeps its own reference */
    recnn_dataset_free(full);
    return st;
}

#endif
