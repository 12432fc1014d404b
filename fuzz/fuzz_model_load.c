/* libFuzzer target for the model-file loader (docs/MODEL_FORMAT.md).
 *
 * Feeds the input to recnn__model_load_mem; when a model loads, exercises
 * it (predict, score every item, recommend, fold-in, re-serialise) so
 * that a file which passes the loader's checks but is inconsistent shows
 * up as an out-of-bounds access.  Build with the library sources and
 * -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (checksums are then not
 * enforced, so the fuzzer gets past them to the parsers).  Seeds:
 * fuzz/corpus/fuzz_model_load/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../src/io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(recnn_model *m)
{
    int64_t ni = recnn_model_n_items(m), nu = recnn_model_n_users(m);
    if (ni <= 0 || ni > (1 << 22))
        return;
    float *scores = malloc((size_t)ni * sizeof *scores);
    if (!scores)
        return;
    int64_t items[8];
    float sc[8];
    size_t got;
    for (int64_t u = 0; u < nu && u < 4; u++) {
        recnn_model_score_user(m, u, scores);
        int64_t uid = m->users->ext[u], iid = m->items->ext[0];
        float p;
        recnn_model_predict(m, uid, iid, &p);
        recnn_model_recommend(m, uid, 8, items, sc, &got);
    }
    int64_t rated[2] = {m->items->ext[0], m->items->ext[ni - 1]};
    float r[2] = {4, 1};
    recnn_model_recommend_new(m, 2, rated, r, 8, items, sc, &got);
    free(scores);

    /* Save and load again: what loads must round-trip. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_model_load.%ld.rmdl", (long)getpid());
    if (recnn_model_save(m, path) == RECNN_OK) {
        recnn_model *b = NULL;
        if (recnn_model_load(&b, path) != RECNN_OK)
            __builtin_trap();
        recnn_model_free(b);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recnn_model *m = NULL;
    int st = recnn__model_load_mem(&m, data, size);
    if (st == RECNN_OK) {
        if (!m)
            __builtin_trap();
        exercise(m);
        recnn_model_free(m);
    } else if (m) {
        __builtin_trap(); /* a failed load must not hand out a model */
    }
    return 0;
}
