/* Read-only accessors for bindings, and the transformations that derive
 * new datasets (filters, compaction, normalisation, binarisation,
 * subsets, merges). */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEED_D(d)                                                              \
    do {                                                                       \
        if (!(d))                                                              \
            return recnn__fail(RECNN_E_INVALID, "dataset must not be NULL");   \
    } while (0)

RECNN_API double recnn_dataset_density(const recnn_dataset *d)
{
    if (!d || d->n_users == 0 || d->n_items == 0)
        return 0.0;
    return (double)d->n_ratings / ((double)d->n_users * (double)d->n_items);
}

RECNN_API int recnn_dataset_scale(const recnn_dataset *d, float *scale_min,
                                  float *scale_max)
{
    NEED_D(d);
    if (scale_min)
        *scale_min = d->scale_min;
    if (scale_max)
        *scale_max = d->scale_max;
    return RECNN_OK;
}

RECNN_API double recnn_dataset_mean(const recnn_dataset *d)
{
    if (!d || d->n_ratings == 0)
        return NAN;
    double s = 0;
    for (int64_t k = 0; k < d->n_ratings; k++)
        s += d->value[k];
    return s / (double)d->n_ratings;
}

RECNN_API int recnn_dataset_is_implicit(const recnn_dataset *d) { return d && d->implicit; }
RECNN_API int recnn_dataset_has_times(const recnn_dataset *d) { return d && d->time; }

RECNN_API int64_t recnn_dataset_n_active_users(const recnn_dataset *d)
{
    int64_t n = 0;
    if (d)
        for (int64_t u = 0; u < d->n_users; u++)
            n += d->row_ptr[u + 1] > d->row_ptr[u];
    return n;
}

RECNN_API int64_t recnn_dataset_n_active_items(const recnn_dataset *d)
{
    int64_t n = 0;
    if (d)
        for (int64_t i = 0; i < d->n_items; i++)
            n += d->col_ptr[i + 1] > d->col_ptr[i];
    return n;
}

RECNN_API int recnn_dataset_same_space(const recnn_dataset *a, const recnn_dataset *b)
{
    return a && b && recnn__idmap_equal(a->users, b->users) &&
           recnn__idmap_equal(a->items, b->items);
}

RECNN_API int recnn_dataset_user_row(const recnn_dataset *d, int64_t user_index,
                                     const int32_t **items, const float **values,
                                     int64_t *n)
{
    NEED_D(d);
    if (user_index < 0 || user_index >= d->n_users)
        return recnn__fail(RECNN_E_INVALID, "user index %lld outside 0..%lld",
                           (long long)user_index, (long long)d->n_users - 1);
    int64_t b = d->row_ptr[user_index];
    if (items)
        *items = d->item + b;
    if (values)
        *values = d->value + b;
    if (n)
        *n = d->row_ptr[user_index + 1] - b;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_user_row_times(const recnn_dataset *d, int64_t user_index,
                                           const int64_t **times)
{
    NEED_D(d);
    if (user_index < 0 || user_index >= d->n_users)
        return recnn__fail(RECNN_E_INVALID, "user index %lld outside 0..%lld",
                           (long long)user_index, (long long)d->n_users - 1);
    if (times)
        *times = d->time ? d->time + d->row_ptr[user_index] : NULL;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_item_column(const recnn_dataset *d, int64_t item_index,
                                        const int32_t **users, const float **values,
                                        int64_t *n)
{
    NEED_D(d);
    if (item_index < 0 || item_index >= d->n_items)
        return recnn__fail(RECNN_E_INVALID, "item index %lld outside 0..%lld",
                           (long long)item_index, (long long)d->n_items - 1);
    int64_t b = d->col_ptr[item_index];
    if (users)
        *users = d->col_user + b;
    if (values)
        *values = d->col_value + b;
    if (n)
        *n = d->col_ptr[item_index + 1] - b;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_triplets(const recnn_dataset *d, const int32_t **users,
                                     const int32_t **items, const float **values,
                                     const int64_t **times)
{
    NEED_D(d);
    if (users)
        *users = d->user;
    if (items)
        *items = d->item;
    if (values)
        *values = d->value;
    if (times)
        *times = d->time;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_csr(const recnn_dataset *d, const int64_t **row_ptr)
{
    NEED_D(d);
    if (row_ptr)
        *row_ptr = d->row_ptr;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_csc(const recnn_dataset *d, const int64_t **col_ptr,
                                const int32_t **users, const float **values)
{
    NEED_D(d);
    if (col_ptr)
        *col_ptr = d->col_ptr;
    if (users)
        *users = d->col_user;
    if (values)
        *values = d->col_value;
    return RECNN_OK;
}

/* ---- id conversions ------------------------------------------------------ */

static int map_id(const recnn__idmap *m, int64_t index, int64_t *id, const char *what)
{
    if (!id)
        return recnn__fail(RECNN_E_INVALID, "id must not be NULL");
    if (index < 0 || index >= m->n)
        return recnn__fail(RECNN_E_INVALID, "%s index %lld outside 0..%lld", what,
                           (long long)index, (long long)m->n - 1);
    *id = m->ext[index];
    return RECNN_OK;
}

static int map_index(const recnn__idmap *m, int64_t id, int64_t *index, const char *what)
{
    if (!index)
        return recnn__fail(RECNN_E_INVALID, "index must not be NULL");
    int32_t k = recnn__idmap_find(m, id);
    if (k < 0)
        return recnn__fail(RECNN_E_NOTFOUND, "unknown %s id %lld", what, (long long)id);
    *index = k;
    return RECNN_OK;
}

static int map_index_name(const recnn__idmap *m, const char *name, int64_t *index,
                          const char *what)
{
    if (!index || !name)
        return recnn__fail(RECNN_E_INVALID, "name and index must not be NULL");
    int32_t k = recnn__idmap_find_name(m, name);
    if (k < 0)
        return recnn__fail(RECNN_E_NOTFOUND, "unknown %s \"%.80s\"", what, name);
    *index = k;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_user_id(const recnn_dataset *d, int64_t index, int64_t *id)
{
    NEED_D(d);
    return map_id(d->users, index, id, "user");
}

RECNN_API int recnn_dataset_item_id(const recnn_dataset *d, int64_t index, int64_t *id)
{
    NEED_D(d);
    return map_id(d->items, index, id, "item");
}

RECNN_API int recnn_dataset_user_index(const recnn_dataset *d, int64_t id, int64_t *index)
{
    NEED_D(d);
    return map_index(d->users, id, index, "user");
}

RECNN_API int recnn_dataset_item_index(const recnn_dataset *d, int64_t id, int64_t *index)
{
    NEED_D(d);
    return map_index(d->items, id, index, "item");
}

RECNN_API const char *recnn_dataset_user_name(const recnn_dataset *d, int64_t index)
{
    if (!d || !d->users->names || index < 0 || index >= d->users->n)
        return NULL;
    return d->users->names[index];
}

RECNN_API const char *recnn_dataset_item_name(const recnn_dataset *d, int64_t index)
{
    if (!d || !d->items->names || index < 0 || index >= d->items->n)
        return NULL;
    return d->items->names[index];
}

RECNN_API int recnn_dataset_user_index_by_name(const recnn_dataset *d, const char *name,
                                               int64_t *index)
{
    NEED_D(d);
    return map_index_name(d->users, name, index, "user");
}

RECNN_API int recnn_dataset_item_index_by_name(const recnn_dataset *d, const char *name,
                                               int64_t *index)
{
    NEED_D(d);
    return map_index_name(d->items, name, index, "item");
}

/* ---- transformations ------------------------------------------------------ */

static int out_check(recnn_dataset **out, const recnn_dataset *d)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!d)
        return recnn__fail(RECNN_E_INVALID, "dataset must not be NULL");
    return RECNN_OK;
}

static int finish(recnn_dataset **out, recnn_dataset *r)
{
    if (!r)
        return recnn__fail(RECNN_E_NOMEM, "out of memory deriving a dataset");
    *out = r;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_subset(recnn_dataset **out, const recnn_dataset *d,
                                   const uint8_t *keep)
{
    int st = out_check(out, d);
    if (st)
        return st;
    if (!keep && d->n_ratings)
        return recnn__fail(RECNN_E_INVALID, "keep must not be NULL");
    return finish(out, recnn__dataset_copy(d, keep));
}

RECNN_API int recnn_dataset_select(recnn_dataset **out, const recnn_dataset *d,
                                   const uint8_t *users, const uint8_t *items)
{
    int st = out_check(out, d);
    if (st)
        return st;
    uint8_t *keep = malloc((size_t)(d->n_ratings ? d->n_ratings : 1));
    if (!keep)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t k = 0; k < d->n_ratings; k++)
        keep[k] = (!users || users[d->user[k]]) && (!items || items[d->item[k]]);
    st = finish(out, recnn__dataset_copy(d, keep));
    free(keep);
    return st;
}

RECNN_API int recnn_dataset_filter_min(recnn_dataset **out, const recnn_dataset *d,
                                       int64_t min_user, int64_t min_item, int iterate)
{
    int st = out_check(out, d);
    if (st)
        return st;
    if (min_user < 0 || min_item < 0)
        return recnn__fail(RECNN_E_INVALID, "minimum counts must be >= 0");
    int64_t n = d->n_ratings;
    uint8_t *keep = malloc((size_t)(n ? n : 1));
    int64_t *cu = calloc((size_t)d->n_users + 1, sizeof *cu);
    int64_t *ci = calloc((size_t)d->n_items + 1, sizeof *ci);
    if (!keep || !cu || !ci) {
        free(keep);
        free(cu);
        free(ci);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    memset(keep, 1, (size_t)n);
    for (int64_t k = 0; k < n; k++) {
        cu[d->user[k]]++;
        ci[d->item[k]]++;
    }
    for (;;) {
        bool changed = false;
        /* items first (the paper's "movies with fewer than N ratings") */
        for (int64_t k = 0; k < n; k++)
            if (keep[k] && ci[d->item[k]] < min_item) {
                keep[k] = 0;
                changed = true;
            }
        /* recount users after the item filter */
        memset(cu, 0, (size_t)d->n_users * sizeof *cu);
        for (int64_t k = 0; k < n; k++)
            cu[d->user[k]] += keep[k];
        for (int64_t k = 0; k < n; k++)
            if (keep[k] && cu[d->user[k]] < min_user) {
                keep[k] = 0;
                changed = true;
            }
        memset(ci, 0, (size_t)d->n_items * sizeof *ci);
        memset(cu, 0, (size_t)d->n_users * sizeof *cu);
        for (int64_t k = 0; k < n; k++) {
            ci[d->item[k]] += keep[k];
            cu[d->user[k]] += keep[k];
        }
        if (!iterate || !changed)
            break;
    }
    st = finish(out, recnn__dataset_copy(d, keep));
    free(keep);
    free(cu);
    free(ci);
    return st;
}

RECNN_API int recnn_dataset_compact(recnn_dataset **out, const recnn_dataset *d)
{
    int st = out_check(out, d);
    if (st)
        return st;
    int64_t nu = d->n_users, ni = d->n_items, n = d->n_ratings;
    int32_t *ru = malloc((size_t)(nu ? nu : 1) * sizeof *ru);
    int32_t *ri = malloc((size_t)(ni ? ni : 1) * sizeof *ri);
    int64_t *eu = malloc((size_t)(nu ? nu : 1) * sizeof *eu);
    int64_t *ei = malloc((size_t)(ni ? ni : 1) * sizeof *ei);
    char **un = NULL, **in = NULL;
    recnn__idmap *um = NULL, *im = NULL;
    int32_t *u = NULL, *i = NULL;
    float *v = NULL;
    int64_t *t = NULL;
    st = RECNN_E_NOMEM;
    if (!ru || !ri || !eu || !ei)
        goto out;
    int64_t mu = 0, mi = 0;
    for (int64_t x = 0; x < nu; x++) {
        ru[x] = d->row_ptr[x + 1] > d->row_ptr[x] ? (int32_t)mu : -1;
        if (ru[x] >= 0)
            eu[mu++] = d->users->ext[x];
    }
    for (int64_t x = 0; x < ni; x++) {
        ri[x] = d->col_ptr[x + 1] > d->col_ptr[x] ? (int32_t)mi : -1;
        if (ri[x] >= 0)
            ei[mi++] = d->items->ext[x];
    }
    /* maps (names kept for string ids: their integer ids are renumbered) */
    if (d->users->names) {
        un = calloc((size_t)(mu ? mu : 1), sizeof *un);
        if (!un)
            goto out;
        for (int64_t x = 0; x < nu; x++)
            if (ru[x] >= 0 && !(un[ru[x]] = strdup(d->users->names[x])))
                goto out;
        um = recnn__idmap_from_names(mu, un);
        un = NULL;
    } else {
        um = recnn__idmap_from_ids(mu, eu);
    }
    if (d->items->names) {
        in = calloc((size_t)(mi ? mi : 1), sizeof *in);
        if (!in)
            goto out;
        for (int64_t x = 0; x < ni; x++)
            if (ri[x] >= 0 && !(in[ri[x]] = strdup(d->items->names[x])))
                goto out;
        im = recnn__idmap_from_names(mi, in);
        in = NULL;
    } else {
        im = recnn__idmap_from_ids(mi, ei);
    }
    if (!um || !im)
        goto out;
    u = recnn__alloc((size_t)n, sizeof *u);
    i = recnn__alloc((size_t)n, sizeof *i);
    v = recnn__alloc((size_t)n, sizeof *v);
    t = d->time ? recnn__alloc((size_t)n, sizeof *t) : NULL;
    if (!u || !i || !v || (d->time && !t))
        goto out;
    for (int64_t k = 0; k < n; k++) {
        u[k] = ru[d->user[k]];
        i[k] = ri[d->item[k]];
        v[k] = d->value[k];
        if (t)
            t[k] = d->time[k];
    }
    recnn_dataset *r;
    st = recnn__dataset_build(&r, um, im, n, u, i, v, t, d->scale_min, d->scale_max,
                              d->implicit, RECNN_DUP_ERROR, "compact");
    u = i = NULL;
    v = NULL;
    t = NULL;
    if (st)
        goto out;
    r->norm_min = d->norm_min;
    r->norm_max = d->norm_max;
    if (d->meta) {
        recnn__meta *m = recnn__meta_new(mi, d->meta->n_genres);
        if (!m) {
            recnn__dataset_release(r);
            st = RECNN_E_NOMEM;
            goto out;
        }
        for (int g = 0; g < d->meta->n_genres; g++)
            if (d->meta->genre_names[g] &&
                !(m->genre_names[g] = strdup(d->meta->genre_names[g])))
                st = RECNN_E_NOMEM;
        for (int64_t x = 0; x < ni && !st; x++)
            if (ri[x] >= 0) {
                m->genres[ri[x]] = d->meta->genres[x];
                if (d->meta->title[x] && !(m->title[ri[x]] = strdup(d->meta->title[x])))
                    st = RECNN_E_NOMEM;
            }
        r->meta = m;
        if (st) {
            recnn__dataset_release(r);
            goto out;
        }
    }
    *out = r;
out:
    free(ru);
    free(ri);
    free(eu);
    free(ei);
    if (un)
        for (int64_t x = 0; x < mu; x++)
            free(un[x]);
    free(un);
    if (in)
        for (int64_t x = 0; x < mi; x++)
            free(in[x]);
    free(in);
    recnn__idmap_release(um);
    recnn__idmap_release(im);
    recnn__free(u);
    recnn__free(i);
    recnn__free(v);
    recnn__free(t);
    if (st)
        return recnn__fail(st, "compact: out of memory");
    return RECNN_OK;
}

/* A private copy with values mapped v -> a*v + b and a new scale. */
static int affine(recnn_dataset **out, const recnn_dataset *d, double a, double b,
                  float lo, float hi)
{
    recnn_dataset *r = recnn__dataset_copy(d, NULL);
    if (!r)
        return recnn__fail(RECNN_E_NOMEM, "out of memory deriving a dataset");
    for (int64_t k = 0; k < r->n_ratings; k++) {
        float x = (float)(a * r->value[k] + b);
        r->value[k] = x < lo ? lo : x > hi ? hi : x;
    }
    for (int64_t k = 0; k < r->n_ratings; k++) {
        float x = (float)(a * r->col_value[k] + b);
        r->col_value[k] = x < lo ? lo : x > hi ? hi : x;
    }
    r->scale_min = lo;
    r->scale_max = hi;
    *out = r;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_rescale(recnn_dataset **out, const recnn_dataset *d,
                                    float new_min, float new_max)
{
    int st = out_check(out, d);
    if (st)
        return st;
    if (!isfinite(new_min) || !isfinite(new_max) || !(new_min < new_max))
        return recnn__fail(RECNN_E_INVALID, "rescale: [%g, %g] is not a scale", new_min,
                           new_max);
    double span = (double)d->scale_max - d->scale_min;
    if (!(span > 0))
        return recnn__fail(RECNN_E_INVALID, "rescale: the dataset's scale [%g, %g] is a "
                           "single point", d->scale_min, d->scale_max);
    double a = ((double)new_max - new_min) / span;
    st = affine(out, d, a, new_min - a * d->scale_min, new_min, new_max);
    if (!st)
        (*out)->norm_min = (*out)->norm_max = 0;
    return st;
}

RECNN_API int recnn_dataset_normalize(recnn_dataset **out, const recnn_dataset *d)
{
    int st = recnn_dataset_rescale(out, d, 0.0f, 1.0f);
    if (!st) {
        (*out)->norm_min = d->scale_min;
        (*out)->norm_max = d->scale_max;
    }
    return st;
}

RECNN_API int recnn_dataset_denormalize(recnn_dataset **out, const recnn_dataset *d)
{
    int st = out_check(out, d);
    if (st)
        return st;
    if (!(d->norm_max > d->norm_min))
        return recnn__fail(RECNN_E_STATE, "denormalize: the dataset was not made by "
                           "recnn_dataset_normalize");
    return recnn_dataset_rescale(out, d, d->norm_min, d->norm_max);
}

RECNN_API int recnn_dataset_binarize(recnn_dataset **out, const recnn_dataset *d,
                                     float threshold)
{
    int st = out_check(out, d);
    if (st)
        return st;
    if (!isfinite(threshold))
        return recnn__fail(RECNN_E_INVALID, "binarize: threshold must be finite");
    uint8_t *keep = malloc((size_t)(d->n_ratings ? d->n_ratings : 1));
    if (!keep)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t k = 0; k < d->n_ratings; k++)
        keep[k] = d->value[k] >= threshold;
    recnn_dataset *r = recnn__dataset_copy(d, keep);
    free(keep);
    if (!r)
        return recnn__fail(RECNN_E_NOMEM, "out of memory deriving a dataset");
    for (int64_t k = 0; k < r->n_ratings; k++)
        r->value[k] = r->col_value[k] = 1.0f;
    r->scale_min = 0;
    r->scale_max = 1;
    r->implicit = true;
    r->norm_min = r->norm_max = 0;
    *out = r;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_merge(recnn_dataset **out, const recnn_dataset *a,
                                  const recnn_dataset *b)
{
    int st = out_check(out, a);
    if (st)
        return st;
    if (!b)
        return recnn__fail(RECNN_E_INVALID, "dataset must not be NULL");
    if (!recnn_dataset_same_space(a, b))
        return recnn__fail(RECNN_E_INVALID, "merge: the datasets have different index "
                           "spaces");
    int64_t n = a->n_ratings + b->n_ratings;
    bool times = a->time && b->time;
    int32_t *u = recnn__alloc((size_t)n, sizeof *u), *i = recnn__alloc((size_t)n, sizeof *i);
    float *v = recnn__alloc((size_t)n, sizeof *v);
    int64_t *t = times ? recnn__alloc((size_t)n, sizeof *t) : NULL;
    if (!u || !i || !v || (times && !t)) {
        recnn__free(u);
        recnn__free(i);
        recnn__free(v);
        recnn__free(t);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    /* merge two (user, item)-sorted lists: the result stays sorted */
    int64_t x = 0, y = 0, w = 0;
    while (x < a->n_ratings || y < b->n_ratings) {
        bool take_a;
        if (x == a->n_ratings)
            take_a = false;
        else if (y == b->n_ratings)
            take_a = true;
        else
            take_a = a->user[x] < b->user[y] ||
                     (a->user[x] == b->user[y] && a->item[x] <= b->item[y]);
        const recnn_dataset *s = take_a ? a : b;
        int64_t k = take_a ? x++ : y++;
        u[w] = s->user[k];
        i[w] = s->item[k];
        v[w] = s->value[k];
        if (t)
            t[w] = s->time[k];
        w++;
    }
    float lo = a->scale_min < b->scale_min ? a->scale_min : b->scale_min;
    float hi = a->scale_max > b->scale_max ? a->scale_max : b->scale_max;
    recnn_dataset *r;
    st = recnn__dataset_build(&r, a->users, a->items, n, u, i, v, t, lo, hi,
                              a->implicit && b->implicit, RECNN_DUP_ERROR, "merge");
    if (st)
        return st;
    r->meta = recnn__meta_retain(a->meta ? a->meta : b->meta);
    r->norm_min = a->norm_min;
    r->norm_max = a->norm_max;
    *out = r;
    return RECNN_OK;
}

RECNN_API int recnn_dataset_drop_unseen(recnn_dataset **out, const recnn_dataset *test,
                                        const recnn_dataset *train)
{
    int st = out_check(out, test);
    if (st)
        return st;
    if (!train || !recnn_dataset_same_space(test, train))
        return recnn__fail(RECNN_E_INVALID, "drop_unseen: train must share the test "
                           "set's index space");
    uint8_t *keep = malloc((size_t)(test->n_ratings ? test->n_ratings : 1));
    if (!keep)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t k = 0; k < test->n_ratings; k++) {
        int32_t u = test->user[k], i = test->item[k];
        keep[k] = train->row_ptr[u + 1] > train->row_ptr[u] &&
                  train->col_ptr[i + 1] > train->col_ptr[i];
    }
    st = finish(out, recnn__dataset_copy(test, keep));
    free(keep);
    return st;
}
