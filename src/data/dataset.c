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

uint64_t recnn__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t k = 0; k < n; k++)
        h = (h ^ s[k]) * 0x100000001b3ULL;
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

int32_t recnn__idmap_find_name(const recnn__idmap *m, const char *name)
{
    if (!m || !m->names || !name)
        return -1;
    if (m->name_slots) {
        uint64_t mask = (uint64_t)m->name_cap - 1;
        for (uint64_t h = recnn__hash_bytes(name, strlen(name)) & mask;;
             h = (h + 1) & mask) {
            int32_t k = m->name_slots[h];
            if (k < 0)
                return -1;
            if (strcmp(m->names[k], name) == 0)
                return k;
        }
    }
    for (int64_t i = 0; i < m->n; i++)
        if (m->names[i] && strcmp(m->names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

static int64_t pow2_at_least(int64_t n)
{
    int64_t cap = 16;
    while (cap < n)
        cap *= 2;
    return cap;
}

recnn__idmap *recnn__idmap_from_ids(int64_t n, const int64_t *ext)
{
    recnn__idmap *m = recnn__idmap_new(n);
    if (!m)
        return NULL;
    for (int64_t k = 0; k < n; k++)
        if (recnn__idmap_intern(m, ext[k]) != k) {
            recnn__idmap_release(m);
            recnn__fail(RECNN_E_INVALID, "id map: ids are not distinct");
            return NULL;
        }
    return m;
}

recnn__idmap *recnn__idmap_from_names(int64_t n, char **names)
{
    recnn__idmap *m = NULL;
    int64_t *ext = recnn__alloc((size_t)(n ? n : 1), sizeof *ext);
    if (ext) {
        for (int64_t k = 0; k < n; k++)
            ext[k] = k;
        m = recnn__idmap_from_ids(n, ext);
        recnn__free(ext);
    }
    if (m) {
        m->name_cap = pow2_at_least(2 * n);
        m->name_slots = recnn__alloc((size_t)m->name_cap, sizeof *m->name_slots);
    }
    if (!m || !m->name_slots) {
        for (int64_t k = 0; k < n; k++)
            free(names[k]);
        free(names);
        recnn__idmap_release(m);
        recnn__fail(RECNN_E_NOMEM, "out of memory building a string id map");
        return NULL;
    }
    m->names = names;
    memset(m->name_slots, 0xff, (size_t)m->name_cap * sizeof *m->name_slots);
    uint64_t mask = (uint64_t)m->name_cap - 1;
    for (int64_t k = 0; k < n; k++) {
        uint64_t h = recnn__hash_bytes(names[k], strlen(names[k])) & mask;
        while (m->name_slots[h] >= 0)
            h = (h + 1) & mask;
        m->name_slots[h] = (int32_t)k;
    }
    return m;
}

bool recnn__idmap_equal(const recnn__idmap *a, const recnn__idmap *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->n != b->n || !a->names != !b->names ||
        memcmp(a->ext, b->ext, (size_t)a->n * sizeof *a->ext) != 0)
        return false;
    if (a->names)
        for (int64_t k = 0; k < a->n; k++)
            if (strcmp(a->names[k], b->names[k]) != 0)
                return false;
    return true;
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
    recnn__free(m->name_slots);
    free(m);
}

recnn_dataset *recnn__dataset_retain(const recnn_dataset *d)
{
    recnn_dataset *w = (recnn_dataset *)d;
    if (w)
        atomic_fetch_add(&w->refs, 1);
    return w;
}

recnn__meta *recnn__meta_new(int64_t n_items, int n_genres)
{
    recnn__meta *m = calloc(1, sizeof *m);
    if (!m) {
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&m->refs, 1);
    m->n_items = n_items;
    size_t n = (size_t)(n_items ? n_items : 1);
    m->title = calloc(n, sizeof *m->title);
    m->genres = calloc(n, sizeof *m->genres);
    m->n_genres = n_genres;
    m->genre_names = calloc((size_t)(n_genres > 0 ? n_genres : 1), sizeof *m->genre_names);
    if (!m->title || !m->genres || !m->genre_names) {
        recnn__meta_release(m);
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NULL;
    }
    return m;
}

recnn__meta *recnn__meta_retain(recnn__meta *m)
{
    if (m)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void recnn__meta_release(recnn__meta *m)
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
    if (d->base) {
        recnn__dataset_release(d->base);
        recnn__idmap_release(d->users);
        recnn__idmap_release(d->items);
        recnn__meta_release(d->meta);
        free(d);
        return;
    }
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
    recnn__meta_release(d->meta);
    free(d);
}

int64_t recnn__dataset_find(const recnn_dataset *d, int32_t u, int32_t item)
{
    int64_t lo = d->row_ptr[u], hi = d->row_ptr[u + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (d->item[mid] < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->row_ptr[u + 1] && d->item[lo] == item ? lo : -1;
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

/* ---- id map construction --------------------------------------------- */

recnn__idmap *recnn__idmap_new(int64_t capacity_hint)
{
    recnn__idmap *m = calloc(1, sizeof *m);
    if (!m) {
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&m->refs, 1);
    int64_t cap = 16;
    while (cap < 2 * (capacity_hint > 0 ? capacity_hint : 8))
        cap *= 2;
    m->cap = cap;
    m->slots = recnn__alloc((size_t)cap, sizeof *m->slots);
    m->ext = recnn__alloc((size_t)(cap / 2), sizeof *m->ext);
    if (!m->slots || !m->ext) {
        recnn__free(m->slots);
        recnn__free(m->ext);
        free(m);
        return NULL;
    }
    memset(m->slots, 0xff, (size_t)cap * sizeof *m->slots);
    return m;
}

static int idmap_grow(recnn__idmap *m)
{
    int64_t cap = m->cap * 2;
    int32_t *slots = recnn__alloc((size_t)cap, sizeof *slots);
    int64_t *ext = recnn__realloc(m->ext, (size_t)m->n, (size_t)(cap / 2), sizeof *ext);
    if (!slots || !ext) {
        recnn__free(slots);
        if (ext)
            m->ext = ext;
        return RECNN_E_NOMEM;
    }
    m->ext = ext;
    memset(slots, 0xff, (size_t)cap * sizeof *slots);
    uint64_t mask = (uint64_t)cap - 1;
    for (int64_t k = 0; k < m->n; k++) {
        uint64_t h = hash64(m->ext[k]) & mask;
        while (slots[h] >= 0)
            h = (h + 1) & mask;
        slots[h] = (int32_t)k;
    }
    recnn__free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return RECNN_OK;
}

int32_t recnn__idmap_intern(recnn__idmap *m, int64_t ext)
{
    uint64_t mask = (uint64_t)m->cap - 1;
    uint64_t h = hash64(ext) & mask;
    for (;; h = (h + 1) & mask) {
        int32_t k = m->slots[h];
        if (k < 0)
            break;
        if (m->ext[k] == ext)
            return k;
    }
    if (m->n >= INT32_MAX) {
        recnn__fail(RECNN_E_NOMEM, "more than %d distinct ids", INT32_MAX);
        return -1;
    }
    if (2 * (m->n + 1) > m->cap) { /* keep the load factor <= 1/2 */
        if (idmap_grow(m) != RECNN_OK)
            return -1;
        return recnn__idmap_intern(m, ext);
    }
    m->slots[h] = (int32_t)m->n;
    m->ext[m->n] = ext;
    return (int32_t)m->n++;
}

static int cmp_i64_idx(const void *a, const void *b, void *ctx)
{
    const int64_t *ext = ctx;
    int64_t x = ext[*(const int32_t *)a], y = ext[*(const int32_t *)b];
    return (x > y) - (x < y);
}

/* qsort has no context argument in C11: a small merge sort instead. */
static void sort_idx(int32_t *a, int32_t *tmp, int64_t n, const int64_t *ext)
{
    if (n < 2)
        return;
    int64_t h = n / 2;
    sort_idx(a, tmp, h, ext);
    sort_idx(a + h, tmp, n - h, ext);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_i64_idx(&a[j], &a[i], (void *)ext) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

int recnn__idmap_sort(recnn__idmap *m, int32_t *remap)
{
    int64_t n = m->n;
    int32_t *order = recnn__alloc((size_t)n, sizeof *order);
    int32_t *tmp = recnn__alloc((size_t)n, sizeof *tmp);
    int64_t *ext = recnn__alloc((size_t)n, sizeof *ext);
    if (!order || !tmp || !ext) {
        recnn__free(order);
        recnn__free(tmp);
        recnn__free(ext);
        return RECNN_E_NOMEM;
    }
    for (int64_t k = 0; k < n; k++)
        order[k] = (int32_t)k;
    sort_idx(order, tmp, n, m->ext);
    for (int64_t k = 0; k < n; k++) {
        remap[order[k]] = (int32_t)k;
        ext[k] = m->ext[order[k]];
    }
    memcpy(m->ext, ext, (size_t)n * sizeof *ext);
    if (m->names) {
        char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
        if (names) {
            for (int64_t k = 0; k < n; k++)
                names[k] = m->names[order[k]];
            memcpy(m->names, names, (size_t)n * sizeof *names);
            free(names);
        }
    }
    memset(m->slots, 0xff, (size_t)m->cap * sizeof *m->slots);
    uint64_t mask = (uint64_t)m->cap - 1;
    for (int64_t k = 0; k < n; k++) {
        uint64_t h = hash64(m->ext[k]) & mask;
        while (m->slots[h] >= 0)
            h = (h + 1) & mask;
        m->slots[h] = (int32_t)k;
    }
    recnn__free(order);
    recnn__free(tmp);
    recnn__free(ext);
    return RECNN_OK;
}
