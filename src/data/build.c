/* Turning triplets into a dataset: sorting into CSR, duplicates, CSC. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    int32_t item;
    int32_t pos; /* position within the user's row in input order */
    float v;
    int64_t t;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->item != y->item)
        return (x->item > y->item) - (x->item < y->item);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static recnn_dataset *dataset_alloc(recnn__idmap *users, recnn__idmap *items)
{
    recnn_dataset *d = calloc(1, sizeof *d);
    if (!d) {
        recnn__fail(RECNN_E_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&d->refs, 1);
    d->users = recnn__idmap_retain(users);
    d->items = recnn__idmap_retain(items);
    d->n_users = users->n;
    d->n_items = items->n;
    return d;
}

/* CSC from the (sorted) CSR arrays; counting sort keeps users ascending. */
static int build_csc(recnn_dataset *d)
{
    int64_t n = d->n_ratings;
    d->col_ptr = recnn__calloc((size_t)d->n_items + 1, sizeof *d->col_ptr);
    d->col_user = recnn__alloc((size_t)n, sizeof *d->col_user);
    d->col_value = recnn__alloc((size_t)n, sizeof *d->col_value);
    if (!d->col_ptr || !d->col_user || !d->col_value)
        return RECNN_E_NOMEM;
    for (int64_t k = 0; k < n; k++)
        d->col_ptr[d->item[k] + 1]++;
    for (int64_t i = 0; i < d->n_items; i++)
        d->col_ptr[i + 1] += d->col_ptr[i];
    int64_t *fill = recnn__alloc((size_t)d->n_items + 1, sizeof *fill);
    if (!fill)
        return RECNN_E_NOMEM;
    memcpy(fill, d->col_ptr, ((size_t)d->n_items + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++) {
        int64_t p = fill[d->item[k]]++;
        d->col_user[p] = d->user[k];
        d->col_value[p] = d->value[k];
    }
    recnn__free(fill);
    return RECNN_OK;
}

int recnn__dataset_build(recnn_dataset **out, recnn__idmap *users, recnn__idmap *items,
                         int64_t n, int32_t *u, int32_t *i, float *v, int64_t *t,
                         float scale_min, float scale_max, bool implicit,
                         int dup_policy, const char *what)
{
    int st = RECNN_OK;
    *out = NULL;
    recnn_dataset *d = dataset_alloc(users, items);
    int64_t *fill = NULL;
    entry *row = NULL;
    if (!d) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    d->implicit = implicit;
    int64_t nu = d->n_users;

    /* counting sort by user (stable: keeps input order within a user) */
    d->row_ptr = recnn__calloc((size_t)nu + 1, sizeof *d->row_ptr);
    fill = recnn__alloc((size_t)nu + 1, sizeof *fill);
    d->user = recnn__alloc((size_t)n, sizeof *d->user);
    d->item = recnn__alloc((size_t)n, sizeof *d->item);
    d->value = recnn__alloc((size_t)n, sizeof *d->value);
    if (t)
        d->time = recnn__alloc((size_t)n, sizeof *d->time);
    if (!d->row_ptr || !fill || !d->user || !d->item || !d->value || (t && !d->time)) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    for (int64_t k = 0; k < n; k++) {
        if (u[k] < 0 || u[k] >= nu || i[k] < 0 || i[k] >= d->n_items) {
            st = recnn__fail(RECNN_E_INVALID, "%s: rating %lld has an index outside "
                             "the id maps", what, (long long)k);
            goto done;
        }
        d->row_ptr[u[k] + 1]++;
    }
    int64_t max_row = 0;
    for (int64_t x = 0; x < nu; x++) {
        if (d->row_ptr[x + 1] > max_row)
            max_row = d->row_ptr[x + 1];
        d->row_ptr[x + 1] += d->row_ptr[x];
    }
    memcpy(fill, d->row_ptr, ((size_t)nu + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++) {
        int64_t p = fill[u[k]]++;
        d->user[p] = u[k];
        d->item[p] = i[k];
        d->value[p] = v[k];
        if (t)
            d->time[p] = t[k];
    }
    recnn__free(u);
    recnn__free(i);
    recnn__free(v);
    recnn__free(t);
    u = i = NULL;
    v = NULL;
    t = NULL;

    /* sort each row by item, then resolve duplicates in place */
    row = recnn__alloc((size_t)(max_row ? max_row : 1), sizeof *row);
    if (!row) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    int64_t w = 0; /* write position after removing duplicates */
    for (int64_t x = 0; x < nu; x++) {
        int64_t b = d->row_ptr[x], e = d->row_ptr[x + 1], len = e - b;
        for (int64_t k = 0; k < len; k++) {
            row[k].item = d->item[b + k];
            row[k].pos = (int32_t)k;
            row[k].v = d->value[b + k];
            row[k].t = d->time ? d->time[b + k] : 0;
        }
        qsort(row, (size_t)len, sizeof *row, cmp_entry);
        d->row_ptr[x] = w;
        for (int64_t k = 0; k < len; k++) {
            if (k + 1 < len && row[k + 1].item == row[k].item) {
                if (dup_policy == RECNN_DUP_ERROR) {
                    st = recnn__fail(RECNN_E_FORMAT,
                                     "%s: duplicate rating for user %lld, item %lld",
                                     what, (long long)users->ext[x],
                                     (long long)items->ext[row[k].item]);
                    goto done;
                }
                if (dup_policy == RECNN_DUP_KEEP_LAST)
                    continue; /* a later one follows */
            }
            if (dup_policy == RECNN_DUP_KEEP_FIRST && k > 0 &&
                row[k - 1].item == row[k].item)
                continue;
            d->user[w] = (int32_t)x;
            d->item[w] = row[k].item;
            d->value[w] = row[k].v;
            if (d->time)
                d->time[w] = row[k].t;
            w++;
        }
    }
    d->row_ptr[nu] = w;
    d->n_ratings = w;

    float lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < w; k++) {
        if (!isfinite(d->value[k])) {
            st = recnn__fail(RECNN_E_FORMAT, "%s: rating of user %lld, item %lld is "
                             "not finite", what, (long long)users->ext[d->user[k]],
                             (long long)items->ext[d->item[k]]);
            goto done;
        }
        lo = d->value[k] < lo ? d->value[k] : lo;
        hi = d->value[k] > hi ? d->value[k] : hi;
    }
    if (scale_min == 0 && scale_max == 0) {
        d->scale_min = w ? lo : 0;
        d->scale_max = w ? hi : 0;
    } else {
        if (scale_min > scale_max) {
            st = recnn__fail(RECNN_E_INVALID, "%s: rating scale [%g, %g] is empty",
                             what, scale_min, scale_max);
            goto done;
        }
        if (w && (lo < scale_min || hi > scale_max)) {
            st = recnn__fail(RECNN_E_FORMAT,
                             "%s: ratings span [%g, %g], outside the declared scale "
                             "[%g, %g]", what, lo, hi, scale_min, scale_max);
            goto done;
        }
        d->scale_min = scale_min;
        d->scale_max = scale_max;
    }
    st = build_csc(d);
done:
    recnn__free(u);
    recnn__free(i);
    recnn__free(v);
    recnn__free(t);
    recnn__free(fill);
    recnn__free(row);
    if (st != RECNN_OK) {
        if (st == RECNN_E_NOMEM)
            recnn__fail(RECNN_E_NOMEM, "%s: out of memory building the dataset", what);
        recnn__dataset_release(d);
        return st;
    }
    *out = d;
    return RECNN_OK;
}

recnn_dataset *recnn__dataset_subset(const recnn_dataset *src, const uint8_t *keep)
{
    int64_t n = 0;
    for (int64_t k = 0; k < src->n_ratings; k++)
        n += keep[k] != 0;
    int32_t *u = recnn__alloc((size_t)n, sizeof *u);
    int32_t *i = recnn__alloc((size_t)n, sizeof *i);
    float *v = recnn__alloc((size_t)n, sizeof *v);
    int64_t *t = src->time ? recnn__alloc((size_t)n, sizeof *t) : NULL;
    if (!u || !i || !v || (src->time && !t)) {
        recnn__free(u);
        recnn__free(i);
        recnn__free(v);
        recnn__free(t);
        return NULL;
    }
    int64_t w = 0;
    for (int64_t k = 0; k < src->n_ratings; k++)
        if (keep[k]) {
            u[w] = src->user[k];
            i[w] = src->item[k];
            v[w] = src->value[k];
            if (t)
                t[w] = src->time[k];
            w++;
        }
    recnn_dataset *d;
    if (recnn__dataset_build(&d, src->users, src->items, n, u, i, v, t, src->scale_min,
                             src->scale_max, src->implicit, RECNN_DUP_ERROR,
                             "subset") != RECNN_OK)
        return NULL;
    if (src->meta) {
        d->meta = src->meta;
        atomic_fetch_add(&d->meta->refs, 1);
    }
    return d;
}

RECNN_API int recnn_dataset_from_arrays(recnn_dataset **out, size_t n,
                                        const int64_t *users, const int64_t *items,
                                        const float *values, const int64_t *times,
                                        float scale_min, float scale_max,
                                        int dup_policy)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (n && (!users || !items || !values))
        return recnn__fail(RECNN_E_INVALID, "arrays must not be NULL");
    if (dup_policy < RECNN_DUP_ERROR || dup_policy > RECNN_DUP_KEEP_FIRST)
        return recnn__fail(RECNN_E_INVALID, "unknown duplicate policy %d", dup_policy);
    if (n > (size_t)INT64_MAX / 64)
        return recnn__fail(RECNN_E_INVALID, "too many ratings");
    for (size_t k = 0; k < n; k++)
        if (!isfinite(values[k]))
            return recnn__fail(RECNN_E_FORMAT, "arrays: rating %zu is not finite", k);
    recnn__idmap *um = recnn__idmap_new((int64_t)(n / 16 + 16));
    recnn__idmap *im = recnn__idmap_new((int64_t)(n / 16 + 16));
    int32_t *u = recnn__alloc(n, sizeof *u), *i = recnn__alloc(n, sizeof *i);
    float *v = recnn__alloc(n, sizeof *v);
    int64_t *t = times ? recnn__alloc(n, sizeof *t) : NULL;
    int32_t *ru = NULL, *ri = NULL;
    int st = RECNN_E_NOMEM;
    if (!um || !im || !u || !i || !v || (times && !t))
        goto fail;
    for (size_t k = 0; k < n; k++) {
        u[k] = recnn__idmap_intern(um, users[k]);
        i[k] = recnn__idmap_intern(im, items[k]);
        if (u[k] < 0 || i[k] < 0)
            goto fail;
        v[k] = values[k];
        if (t)
            t[k] = times[k];
    }
    ru = recnn__alloc((size_t)um->n, sizeof *ru);
    ri = recnn__alloc((size_t)im->n, sizeof *ri);
    if (!ru || !ri || recnn__idmap_sort(um, ru) || recnn__idmap_sort(im, ri))
        goto fail;
    for (size_t k = 0; k < n; k++) {
        u[k] = ru[u[k]];
        i[k] = ri[i[k]];
    }
    recnn__free(ru);
    recnn__free(ri);
    st = recnn__dataset_build(out, um, im, (int64_t)n, u, i, v, t, scale_min, scale_max,
                              false, dup_policy, "arrays");
    recnn__idmap_release(um);
    recnn__idmap_release(im);
    return st;
fail:
    recnn__free(u);
    recnn__free(i);
    recnn__free(v);
    recnn__free(t);
    recnn__free(ru);
    recnn__free(ri);
    recnn__idmap_release(um);
    recnn__idmap_release(im);
    return recnn__fail(st, "arrays: out of memory building the dataset");
}
