/* Shared helpers of the dataset fuzz targets (fuzz/fuzz_load_*.c): the
 * input goes to a private temporary file, which the loaders read; a
 * dataset that loads is then checked for internal consistency (any
 * violation traps, so libFuzzer reports it). */
#ifndef RECNN_FUZZ_DATA_COMMON_H
#define RECNN_FUZZ_DATA_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to this process's temporary file and returns its path. */
static const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    static int fd = -1;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/recnn_fuzz_%s_XXXXXX", tmp && *tmp ? tmp : "/tmp",
                 suffix);
        fd = mkstemp(path);
        if (fd < 0)
            abort();
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    return path;
}

#define FUZZ_CHECK(c)              \
    do {                           \
        if (!(c))                  \
            __builtin_trap();      \
    } while (0)

/* Every invariant of the internal layout (src/data/dataset.h). */
static void fuzz_check_dataset(const recnn_dataset *d)
{
    FUZZ_CHECK(d->n_ratings > 0);
    FUZZ_CHECK(d->n_users == d->users->n && d->n_items == d->items->n);
    FUZZ_CHECK(d->row_ptr[0] == 0 && d->row_ptr[d->n_users] == d->n_ratings);
    FUZZ_CHECK(d->col_ptr[0] == 0 && d->col_ptr[d->n_items] == d->n_ratings);
    for (int64_t u = 0; u < d->n_users; u++)
        for (int64_t k = d->row_ptr[u]; k < d->row_ptr[u + 1]; k++) {
            FUZZ_CHECK(d->user[k] == u);
            FUZZ_CHECK(d->item[k] >= 0 && d->item[k] < d->n_items);
            FUZZ_CHECK(k == d->row_ptr[u] || d->item[k] > d->item[k - 1]);
            FUZZ_CHECK(d->value[k] >= d->scale_min && d->value[k] <= d->scale_max);
            FUZZ_CHECK(recnn__dataset_find(d, (int32_t)u, d->item[k]) == k);
        }
    for (int64_t i = 0; i < d->n_items; i++)
        for (int64_t k = d->col_ptr[i]; k < d->col_ptr[i + 1]; k++) {
            int64_t p = recnn__dataset_find(d, d->col_user[k], (int32_t)i);
            FUZZ_CHECK(p >= 0 && d->value[p] == d->col_value[k]);
        }
    for (int64_t u = 0; u < d->n_users; u++) {
        int64_t back;
        FUZZ_CHECK(recnn_dataset_user_index(d, d->users->ext[u], &back) == 0 && back == u);
        if (d->users->names)
            FUZZ_CHECK(recnn_dataset_user_index_by_name(d, d->users->names[u], &back) == 0 &&
                       back == u);
    }
    for (int64_t i = 0; i < d->n_items; i++) {
        int64_t back;
        FUZZ_CHECK(recnn_dataset_item_index(d, d->items->ext[i], &back) == 0 && back == i);
    }
    if (d->meta)
        for (int64_t i = 0; i < d->n_items; i++)
            if (d->meta->title[i])
                FUZZ_CHECK(strlen(d->meta->title[i]) < (1u << 20));
}

/* Loads path with format/options; a success must be consistent, a failure
 * must leave out NULL with a message. */
static void fuzz_load(const char *path, int format, const recnn_load_options *o)
{
    recnn_dataset *d = (recnn_dataset *)(uintptr_t)1;
    int st = recnn_dataset_load(&d, path, format, o);
    if (st == RECNN_OK) {
        fuzz_check_dataset(d);
        recnn_dataset_free(d);
    } else {
        FUZZ_CHECK(d == NULL);
        FUZZ_CHECK(recnn_last_error()[0] != '\0');
    }
}

#endif
