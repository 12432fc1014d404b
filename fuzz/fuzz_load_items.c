/* libFuzzer target: item metadata (u.item and movies.csv) attached to a
 * small dataset of items 1..64.  The first byte picks the format.
 * Seeds: fuzz/corpus/fuzz_load_items/. */
#include "fuzz_data_common.h"

static recnn_dataset *base(void)
{
    static recnn_dataset *d;
    if (!d) {
        int64_t u[64], it[64];
        float v[64];
        for (int k = 0; k < 64; k++) {
            u[k] = k % 7;
            it[k] = k + 1;
            v[k] = (float)(k % 5 + 1);
        }
        if (recnn_dataset_from_arrays(&d, 64, u, it, v, NULL, 1, 5, 0) != RECNN_OK)
            abort();
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_file(data + 1, size - 1, "items");
    recnn_dataset *m = (recnn_dataset *)(uintptr_t)1;
    int st = recnn_dataset_attach_items(&m, base(), path, data[0] % 3);
    if (st == RECNN_OK) {
        FUZZ_CHECK(m->meta && m->meta->n_items == m->n_items);
        FUZZ_CHECK(m->meta->n_genres >= 0 && m->meta->n_genres <= 64);
        for (int g = 0; g < m->meta->n_genres; g++)
            FUZZ_CHECK(m->meta->genre_names[g] != NULL);
        for (int64_t i = 0; i < m->n_items; i++) {
            if (m->meta->n_genres < 64)
                FUZZ_CHECK((m->meta->genres[i] >> m->meta->n_genres) == 0);
            if (m->meta->title[i])
                FUZZ_CHECK(strlen(m->meta->title[i]) < (1u << 20));
        }
        recnn_dataset_free(m);
    } else {
        FUZZ_CHECK(m == NULL);
    }
    return 0;
}
