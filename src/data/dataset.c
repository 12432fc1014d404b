/* Dataset and id-map lifetime, shared by every loader and transformation. */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash64(int64_t x)
{
    uint64_t z = (uint64_t)x * 0x9e3779b97f4a7c15ULL;
    return z ^ (z >> 29);
}

int32_t recnn__idmap_find(const recnn__idmap *m, int64_t ext)
{
    if (!m || !m->slots)
        return -1;
    uint64_t mask = (uint64_t)m->cap - 1;
    for (uint64_t h = hash64(ext) & mask;; h = (h + 1) & mask) {
        int32_t k = m->slots[h];
        if (k < 0)
            return -1;
        if (m->ext[k] == ext)
            return k;
    }
}

int32_t recnn__idmap_find_name(const recnn__idmap *m, const char *name)
{
    if (!m || !m->names || !name)
        return -1;
    for (int64_t i = 0; i < m->n; i++)
        if (m->names[i] && strcmp(m->names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

recnn__idmap *recnn__idmap_retain(recnn__idmap *m)
{
    if (m)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void recnn__idmap_release(recnn__idmap *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    if (m->names)
        for (int64_t i = 0; i < m->n; i++)
            free(m->names[i]);
    free(m->names);
    recnn__free(m->ext);
    recnn__free(m->slots);
    free(m);
}

recnn_dataset *recnn__dataset_retain(const recnn_dataset *d)
{
    recnn_dataset *w = (recnn_dataset *)d;
    if (w)
        atomic_fetch_add(&w->refs, 1);
    return w;
}

static void meta_release(recnn__meta *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    if (m->title)
        for (int64_t i = 0; i < m->n_items; i++)
            free(m->title[i]);
    free(m->title);
    if (m->genre_names)
        for (int g = 0; g < m->n_genres; g++)
            free(m->genre_names[g]);
    free(m->genre_names);
    free(m->genres);
    free(m);
}

void recnn__dataset_release(recnn_dataset *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    recnn__free(d->user);
    recnn__free(d->item);
    recnn__free(d->value);
    recnn__free(d->time);
    recnn__free(d->row_ptr);
    recnn__free(d->col_ptr);
    recnn__free(d->col_user);
    recnn__free(d->col_value);
    recnn__idmap_release(d->users);
    recnn__idmap_release(d->items);
    meta_release(d->meta);
    free(d);
}

RECNN_API void recnn_dataset_free(recnn_dataset *d) { recnn__dataset_release(d); }

RECNN_API int64_t recnn_dataset_n_users(const recnn_dataset *d)
{
    return d ? d->n_users : 0;
}

RECNN_API int64_t recnn_dataset_n_items(const recnn_dataset *d)
{
    return d ? d->n_items : 0;
}

RECNN_API int64_t recnn_dataset_n_ratings(const recnn_dataset *d)
{
    return d ? d->n_ratings : 0;
}
