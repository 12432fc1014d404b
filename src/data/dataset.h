/* Internal layout of recnn_dataset, shared by the data, model and eval code.
 *
 * A dataset is immutable once built and reference-counted, so models,
 * evaluators and threads may share it.  Datasets derived from one another
 * (splits, filters, binarisation) share one pair of id maps and therefore
 * one index space: internal user u of a training set and of its test set is
 * the same person, and n_users/n_items are the sizes of that space (rows of
 * a derived dataset may be empty). */
#ifndef RECNN_DATA_DATASET_H
#define RECNN_DATA_DATASET_H

#include "../core/core.h"

#include <stdatomic.h>

/* External id <-> dense internal index, shared (refcounted) by every
 * dataset derived from the one that created it. */
typedef struct recnn__idmap {
    atomic_int refs;
    int64_t n;        /* number of ids = size of the index space */
    int64_t *ext;     /* ext[internal] = external integer id */
    char **names;     /* string ids (generic CSV) or NULL; names[i] owned */
    /* open-addressing hash from external id to internal index */
    int64_t cap;      /* power of two */
    int32_t *slots;   /* -1 = empty, else internal index */
    /* hash from names[] to internal index (string-id maps only) */
    int64_t name_cap;   /* power of two, 0 when none */
    int32_t *name_slots;
} recnn__idmap;

/* Internal index of an external id, or -1 when absent. */
int32_t recnn__idmap_find(const recnn__idmap *m, int64_t ext);
/* Internal index of a string id, or -1 (maps built from string ids). */
int32_t recnn__idmap_find_name(const recnn__idmap *m, const char *name);
recnn__idmap *recnn__idmap_retain(recnn__idmap *m);
/* True when a and b are one map or hold identical ids (and names) in
 * identical order: the same index space (e.g. a file loaded twice). */
bool recnn__idmap_equal(const recnn__idmap *a, const recnn__idmap *b);
void recnn__idmap_release(recnn__idmap *m);
/* An empty growable map (refs = 1); capacity_hint = expected ids. */
recnn__idmap *recnn__idmap_new(int64_t capacity_hint);
/* Index of ext, inserting it (next index) when new; -1 on out of memory
 * or when the map would pass INT32_MAX ids. */
int32_t recnn__idmap_intern(recnn__idmap *m, int64_t ext);
/* Renumbers the map so that internal order follows ascending external id;
 * remap[old] = new (remap has m->n entries).  Deterministic numbering
 * whatever the file order. */
int recnn__idmap_sort(recnn__idmap *m, int32_t *remap);
/* A map of n ids 0 .. n-1 (ext[k] = k) owning `names` (n malloc'd strings,
 * consumed whatever the outcome), with a name hash. NULL on failure. */
recnn__idmap *recnn__idmap_from_names(int64_t n, char **names);
/* A map of the external ids ext[0..n) (distinct, in that order). */
recnn__idmap *recnn__idmap_from_ids(int64_t n, const int64_t *ext);
/* 64-bit hash of a byte string (FNV-1a + mixing). */
uint64_t recnn__hash_bytes(const void *p, size_t n);

/* Item metadata (titles, genres), keyed by internal item index; shared. */
typedef struct recnn__meta {
    atomic_int refs;
    int64_t n_items;        /* = index space size of the items map */
    char **title;           /* UTF-8, may be NULL per item */
    int n_genres;
    char **genre_names;     /* n_genres names */
    uint64_t *genres;       /* bit g set = item has genre g (n_genres <= 64) */
} recnn__meta;

/* An empty metadata block for n_items items (refs = 1; title and genres
 * arrays allocated and zeroed). NULL on failure. */
recnn__meta *recnn__meta_new(int64_t n_items, int n_genres);
recnn__meta *recnn__meta_retain(recnn__meta *m);
void recnn__meta_release(recnn__meta *m);

struct recnn_dataset {
    atomic_int refs;
    int64_t n_users, n_items; /* index space sizes (== users->n, items->n) */
    int64_t n_ratings;

    /* Triplets, sorted by (user, item).  Because of that order they are
     * also the CSR-by-user view: the ratings of user u are the entries
     * row_ptr[u] .. row_ptr[u+1]-1 of item/value/time. */
    int32_t *user;
    int32_t *item;
    float *value;
    int64_t *time;     /* seconds since the epoch, or NULL when unknown */
    int64_t *row_ptr;  /* n_users + 1 */

    /* CSC-by-item view: ratings of item i are col_ptr[i] .. col_ptr[i+1]-1
     * of col_user/col_value, sorted by user. */
    int64_t *col_ptr;  /* n_items + 1 */
    int32_t *col_user;
    float *col_value;

    float scale_min, scale_max; /* the rating scale declared or observed */
    bool implicit;              /* values are 1 = interaction (binarised) */

    recnn__idmap *users, *items;
    recnn__meta *meta;          /* NULL when no item metadata attached */

    /* Set by recnn_dataset_normalize: the scale before normalisation, for
     * recnn_dataset_denormalize (norm_max > norm_min when set). */
    float norm_min, norm_max;

    /* When set, the rating arrays and views above belong to `base` (held
     * by a reference) and are not freed with this handle: a dataset that
     * differs only in its metadata shares them (recnn_dataset_attach_items). */
    recnn_dataset *base;
};

recnn_dataset *recnn__dataset_retain(const recnn_dataset *d);
void recnn__dataset_release(recnn_dataset *d);

/* Builds a dataset over the index space of `users`/`items` (retained, not
 * consumed) from n triplets of internal indices.  Takes ownership of u, i,
 * v and t (recnn__alloc'd; t may be NULL) whatever the outcome.  Sorts,
 * applies the duplicate policy (RECNN_DUP_*; "first"/"last" in the given
 * order), builds CSR and CSC.  scale_min == scale_max == 0 means "the
 * observed range".  `what` names the source in error messages. */
int recnn__dataset_build(recnn_dataset **out, recnn__idmap *users, recnn__idmap *items,
                         int64_t n, int32_t *u, int32_t *i, float *v, int64_t *t,
                         float scale_min, float scale_max, bool implicit,
                         int dup_policy, const char *what);
/* As recnn__dataset_build; on a duplicate under RECNN_DUP_ERROR also
 * writes the internal (user, item) of the first duplicate pair (in
 * (user, item) order) to dup[0], dup[1] (dup may be NULL). */
int recnn__dataset_build_ex(recnn_dataset **out, recnn__idmap *users, recnn__idmap *items,
                            int64_t n, int32_t *u, int32_t *i, float *v, int64_t *t,
                            float scale_min, float scale_max, bool implicit,
                            int dup_policy, const char *what, int32_t dup[2]);
/* The ratings of src whose keep[k] is non-zero (k in triplet order), as a
 * new dataset sharing src's id maps, scale and metadata; NULL + last error
 * on failure. */
recnn_dataset *recnn__dataset_subset(const recnn_dataset *src, const uint8_t *keep);
/* As recnn__dataset_subset, keep == NULL meaning every rating (a private
 * copy the caller may still change before handing it out). */
recnn_dataset *recnn__dataset_copy(const recnn_dataset *src, const uint8_t *keep);

/* Position of `item` in user u's row (triplet index), or -1. */
int64_t recnn__dataset_find(const recnn_dataset *d, int32_t u, int32_t item);

/* Training negatives (the engine of recnn_dataset_sample_negatives, for
 * model code that samples every epoch): out[r*k + j] for rating r.  mode
 * is a recnn_negative_mode; work is split in fixed blocks of ratings with
 * one RNG per block (seeded from seed and the block index), so the result
 * is independent of the thread count.  No allocation in uniform mode;
 * popularity mode builds an alias table (O(n_items)). */
int recnn__sample_negatives(const recnn_dataset *d, int64_t k, int mode, double exponent,
                            uint64_t seed, int32_t *out);
/* An RNG for block b of a computation seeded with `seed`: cheap (O(1),
 * unlike recnn__rng_stream's b jumps) and deterministic. */
void recnn__rng_block(recnn_rng *r, uint64_t seed, uint64_t b);

#endif
