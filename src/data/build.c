/* Turning triplets into a dataset: sorting into CSR, duplicates, CSC. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Stable scatter of one array by key (ptr = bucket starts, nb+1 entries):
 * returns the permuted copy and frees src; NULL (src kept) on failure. */
#define SCATTER_FN(name, type)                                                     \
    static type *name(type *src, const int32_t *key, int64_t n, const int64_t *ptr, \
                      int64_t *fill, int64_t nb)                                   \
    {                                                                              \
        type *dst = recnn__alloc((size_t)(n ? n : 1), sizeof *dst);                \
        if (!dst)                                                                  \
            return NULL;                                                           \
        memcpy(fill, ptr, (size_t)nb * sizeof *fill);                              \
        for (int64_t k = 0; k < n; k++)                                            \
            dst[fill[key[k]]++] = src[k];                                          \
        recnn__free(src);                                                          \
        return dst;                                                                \
    }
SCATTER_FN(scatter_i32, int32_t)
SCATTER_FN(scatter_f32, float)
SCATTER_FN(scatter_i64, int64_t)

/* One stable counting-sort pass of (key, a, v, t) by key in [0, nb):
 * a, v, t permuted (each replaced one at a time, so the extra memory is
 * one array), key rewritten in sorted order.  Peak memory: the inputs plus
 * the largest single array. */
static int sort_pass(int32_t *key, int32_t **a, float **v, int64_t **t, int64_t n,
                     int64_t nb)
{
    int64_t *ptr = recnn__calloc((size_t)nb + 1, sizeof *ptr);
    int64_t *fill = recnn__alloc((size_t)nb + 1, sizeof *fill);
    if (!ptr || !fill) {
        recnn__free(ptr);
        recnn__free(fill);
        return RECNN_E_NOMEM;
    }
    for (int64_t k = 0; k < n; k++)
        ptr[key[k] + 1]++;
    for (int64_t b = 0; b < nb; b++)
        ptr[b + 1] += ptr[b];
    int st = RECNN_OK;
    int32_t *na = scatter_i32(*a, key, n, ptr, fill, nb + 1);
    if (!na)
        st = RECNN_E_NOMEM;
    else
        *a = na;
    float *nv = st ? NULL : scatter_f32(*v, key, n, ptr, fill, nb + 1);
    if (!st && !nv)
        st = RECNN_E_NOMEM;
    else if (nv)
        *v = nv;
    if (!st && *t) {
        int64_t *nt = scatter_i64(*t, key, n, ptr, fill, nb + 1);
        if (!nt)
            st = RECNN_E_NOMEM;
        else
            *t = nt;
    }
    if (!st)
        for (int64_t b = 0; b < nb; b++)
            for (int64_t p = ptr[b]; p < ptr[b + 1]; p++)
                key[p] = (int32_t)b;
    recnn__free(ptr);
    recnn__free(fill);
    return st;
}

int recnn__dataset_build_ex(recnn_dataset **out, recnn__idmap *users, recnn__idmap *items,
                            int64_t n, int32_t *u, int32_t *i, float *v, int64_t *t,
                            float scale_min, float scale_max, bool implicit,
                            int dup_policy, const char *what, int32_t dup[2])
{
    int st = RECNN_OK;
    *out = NULL;
    if (dup)
        dup[0] = dup[1] = -1;
    recnn_dataset *d = dataset_alloc(users, items);
    if (!d) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    d->implicit = implicit;
    const int64_t nu = d->n_users, ni = d->n_items;
    if (n < 0 || !u || !i || !v) {
        st = recnn__fail(RECNN_E_NOMEM, "%s: no rating arrays", what);
        goto done;
    }

    bool sorted = true;
    for (int64_t k = 0; k < n; k++) {
        if (u[k] < 0 || u[k] >= nu || i[k] < 0 || i[k] >= ni) {
            st = recnn__fail(RECNN_E_INVALID, "%s: rating %lld has an index outside "
                             "the id maps", what, (long long)k);
            goto done;
        }
        if (k && (u[k] < u[k - 1] || (u[k] == u[k - 1] && i[k] <= i[k - 1])))
            sorted = false;
    }
    if (!sorted) {
        /* LSD radix: by item, then (stably) by user: (user, item) order with
         * the input order kept among equal pairs. */
        if (sort_pass(i, &u, &v, &t, n, ni) != RECNN_OK ||
            sort_pass(u, &i, &v, &t, n, nu) != RECNN_OK) {
            st = RECNN_E_NOMEM;
            goto done;
        }
        /* resolve runs of equal pairs */
        int64_t w = 0;
        for (int64_t a = 0; a < n;) {
            int64_t b = a + 1;
            while (b < n && u[b] == u[a] && i[b] == i[a])
                b++;
            if (b - a > 1 && dup_policy == RECNN_DUP_ERROR) {
                if (dup) {
                    dup[0] = u[a];
                    dup[1] = i[a];
                }
                st = recnn__fail(RECNN_E_FORMAT,
                                 "%s: duplicate rating for user %lld, item %lld", what,
                                 (long long)users->ext[u[a]], (long long)items->ext[i[a]]);
                goto done;
            }
            int64_t src = dup_policy == RECNN_DUP_KEEP_LAST ? b - 1 : a;
            u[w] = u[src];
            i[w] = i[src];
            v[w] = v[src];
            if (t)
                t[w] = t[src];
            w++;
            a = b;
        }
        n = w;
    }
    d->user = u;
    d->item = i;
    d->value = v;
    d->time = t;
    u = i = NULL;
    v = NULL;
    t = NULL;
    d->n_ratings = n;

    d->row_ptr = recnn__calloc((size_t)nu + 1, sizeof *d->row_ptr);
    if (!d->row_ptr) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    for (int64_t k = 0; k < n; k++)
        d->row_ptr[d->user[k] + 1]++;
    for (int64_t x = 0; x < nu; x++)
        d->row_ptr[x + 1] += d->row_ptr[x];

    float lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        float x = d->value[k];
        if (!isfinite(x)) {
            st = recnn__fail(RECNN_E_FORMAT, "%s: rating of user %lld, item %lld is "
                             "not finite", what, (long long)users->ext[d->user[k]],
                             (long long)items->ext[d->item[k]]);
            goto done;
        }
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (scale_min == 0 && scale_max == 0) {
        d->scale_min = n ? lo : 0;
        d->scale_max = n ? hi : 0;
    } else {
        if (!(scale_min <= scale_max)) {
            st = recnn__fail(RECNN_E_INVALID, "%s: rating scale [%g, %g] is empty",
                             what, scale_min, scale_max);
            goto done;
        }
        if (n && (lo < scale_min || hi > scale_max)) {
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
    if (st != RECNN_OK) {
        if (st == RECNN_E_NOMEM)
            recnn__fail(RECNN_E_NOMEM, "%s: out of memory building the dataset", what);
        recnn__dataset_release(d);
        return st;
    }
    *out = d;
    return RECNN_OK;
}

int recnn__dataset_build(recnn_dataset **out, recnn__idmap *users, recnn__idmap *items,
                         int64_t n, int32_t *u, int32_t *i, float *v, int64_t *t,
                         float scale_min, float scale_max, bool implicit,
                         int dup_policy, const char *what)
{
    return recnn__dataset_build_ex(out, users, items, n, u, i, v, t, scale_min, scale_max,
                                   implicit, dup_policy, what, NULL);
}

recnn_dataset *recnn__dataset_copy(const recnn_dataset *src, const uint8_t *keep)
{
    int64_t n = 0;
    if (keep) {
        for (int64_t k = 0; k < src->n_ratings; k++)
            n += keep[k] != 0;
    } else {
        n = src->n_ratings;
    }
    int32_t *u = recnn__alloc((size_t)n, sizeof *u);
    int32_t *i = recnn__alloc((size_t)n, sizeof *i);
    float *v = recnn__alloc((size_t)n, sizeof *v);
    int64_t *t = src->time ? recnn__alloc((size_t)n, sizeof *t) : NULL;
    if (!u || !i || !v || (src->time && !t)) {
        recnn__free(u);
        recnn__free(i);
        recnn__free(v);
        recnn__free(t);
        recnn__fail(RECNN_E_NOMEM, "out of memory copying a dataset");
        return NULL;
    }
    int64_t w = 0;
    for (int64_t k = 0; k < src->n_ratings; k++)
        if (!keep || keep[k]) {
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
    d->meta = recnn__meta_retain(src->meta);
    d->norm_min = src->norm_min;
    d->norm_max = src->norm_max;
    return d;
}

recnn_dataset *recnn__dataset_subset(const recnn_dataset *src, const uint8_t *keep)
{
    return recnn__dataset_copy(src, keep);
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
