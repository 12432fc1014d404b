/* Internal core services shared by every part of the library: errors,
 * memory, random numbers, dense matrices over CBLAS, the thread budget.
 * Nothing here is exported; names use the recnn__ prefix. */
#ifndef RECNN_CORE_H
#define RECNN_CORE_H

#include "recnn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ----------------------------------------------------------- */

/* Records a printf-style detail for recnn_last_error() and returns status,
 * so failures read `return recnn__fail(RECNN_E_FORMAT, "%s:%ld: ...", ...)`. */
int recnn__fail(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- memory ----------------------------------------------------------- */

#define RECNN_ALIGN 64

/* Aligned (64 B) allocation of n * size bytes, overflow-checked.  Returns
 * NULL and records RECNN_E_NOMEM on overflow or failure; n == 0 returns a
 * valid minimal block.  Free with recnn__free. */
void *recnn__alloc(size_t n, size_t size);
/* As recnn__alloc, zero-filled. */
void *recnn__calloc(size_t n, size_t size);
/* Grows (or shrinks) a recnn__alloc block, keeping the first
 * min(old_n, new_n) elements. NULL on failure (old block untouched). */
void *recnn__realloc(void *p, size_t old_n, size_t new_n, size_t size);
void recnn__free(void *p);
/* a*b without overflow: false when the product does not fit size_t. */
bool recnn__mul_ok(size_t a, size_t b, size_t *out);

/* ---- random numbers: xoshiro256** ------------------------------------- */

typedef struct recnn_rng {
    uint64_t s[4];
} recnn_rng;

/* Seeds through splitmix64, so any 64-bit seed (0 included) is fine. */
void recnn__rng_seed(recnn_rng *r, uint64_t seed);
/* Independent stream k of a seed (e.g. one per thread or per repeat):
 * seed mixed with k, then jumped; streams never overlap in practice. */
void recnn__rng_stream(recnn_rng *r, uint64_t seed, uint64_t k);
/* Advances by 2^128 steps (xoshiro's jump): a non-overlapping substream. */
void recnn__rng_jump(recnn_rng *r);
uint64_t recnn__rng_u64(recnn_rng *r);
/* Uniform in [0, n) without modulo bias (Lemire); n > 0. */
uint64_t recnn__rng_below(recnn_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 (double) / 24 (float) random bits. */
double recnn__rng_uniform(recnn_rng *r);
float recnn__rng_uniformf(recnn_rng *r);
/* Standard normal (Marsaglia polar; deterministic, no cached state). */
double recnn__rng_normal(recnn_rng *r);
/* Fisher–Yates shuffle of n elements of `size` bytes. */
void recnn__rng_shuffle(recnn_rng *r, void *base, size_t n, size_t size);
void recnn__rng_shuffle_i32(recnn_rng *r, int32_t *a, size_t n);

/* ---- dense float matrices --------------------------------------------- */

/* Row-major, contiguous rows of `cols` floats.  Owns `data` when created by
 * recnn__mat_init; a view (owns = false) borrows it. */
typedef struct recnn_mat {
    int64_t rows, cols;
    float *data;
    bool owns;
} recnn_mat;

int recnn__mat_init(recnn_mat *m, int64_t rows, int64_t cols); /* zeroed */
recnn_mat recnn__mat_view(float *data, int64_t rows, int64_t cols);
/* y = alpha op(A) x + beta y for a rows x cols A whose rows are lda apart. */
void recnn__gemv_ld(bool ta, float alpha, const float *a, int64_t rows, int64_t cols,
                    int64_t lda, const float *x, float beta, float *y);
void recnn__mat_free(recnn_mat *m);
static inline float *recnn__mat_row(const recnn_mat *m, int64_t r)
{
    return m->data + r * m->cols;
}
void recnn__mat_zero(recnn_mat *m);

/* C = alpha * op(A) op(B) + beta * C; ta/tb choose the transpose. Shapes
 * are checked in debug builds only (callers own their shapes). */
void recnn__gemm(bool ta, bool tb, float alpha, const recnn_mat *a,
                 const recnn_mat *b, float beta, recnn_mat *c);
/* y = alpha * op(A) x + beta * y */
void recnn__gemv(bool ta, float alpha, const recnn_mat *a, const float *x,
                 float beta, float *y);
void recnn__axpy(int64_t n, float alpha, const float *x, float *y);
float recnn__dot(int64_t n, const float *x, const float *y);
void recnn__scal(int64_t n, float alpha, float *x);
float recnn__nrm2(int64_t n, const float *x);

/* Solves A X = B in place for symmetric positive definite A (n×n,
 * row-major, overwritten by its Cholesky factor) and B (n×nrhs).
 * RECNN_E_NUMERIC when A is not positive definite. */
int recnn__posv(int64_t n, int64_t nrhs, float *a, float *b);
/* Inverts a symmetric positive definite n×n matrix in place (full storage
 * on return). */
int recnn__spd_inverse(int64_t n, float *a);

/* ---- ranking ---------------------------------------------------------- */

/* Indices of the k best of scores[0..n) (higher first, ties to the smaller
 * index, NaN last), skipping the indices in `exclude` (sorted ascending,
 * may be NULL).  Writes min(k, candidates) indices to out, best first, and
 * returns their number.  O(n log k); no allocation. */
int64_t recnn__topk(const float *scores, int64_t n, int64_t k, const int32_t *exclude,
                    int64_t n_exclude, int32_t *out);

/* ---- threads ---------------------------------------------------------- */

/* The budget set by recnn_set_num_threads (>= 1). */
int recnn__budget(void);
/* Threads for an OpenMP loop opened by this thread: the budget, or less
 * under recnn__loop_cap. */
int recnn__threads(void);
/* Caps the OpenMP loops this thread opens at n threads (0: no cap) and
 * returns the previous cap: a model whose steps are mostly BLAS calls
 * leaves the budget's cores to BLAS's pool and runs its element-wise loops
 * on the calling thread, so that two spinning pools never compete. */
int recnn__loop_cap(int n);
/* Per-core L2 cache size in bytes (sysconf; 512 KiB when unknown). */
int64_t recnn__l2_bytes(void);
/* Gives BLAS n threads.  The rule that keeps one pool running at a time:
 * code about to open an OpenMP region whose body calls BLAS first calls
 * recnn__blas_threads(1), and restores recnn__blas_threads(recnn__budget())
 * after it.  Top-level BLAS calls run with the full budget. */
void recnn__blas_threads(int n);

/* ---- checksums -------------------------------------------------------- */

/* CRC-32C (Castagnoli), incremental: start with crc = 0. */
uint32_t recnn__crc32c(uint32_t crc, const void *data, size_t n);

/* ---- time ------------------------------------------------------------- */

/* Monotonic seconds, for progress reports and benchmarks. */
double recnn__now(void);

/* strtod and snprintf in the "C" locale whatever the caller's LC_NUMERIC
 * (a host program may have called setlocale): settings strings and model
 * files must read the same everywhere.  Per thread (uselocale). */
double recnn__strtod_c(const char *s, char **end);
int recnn__snprintf_c(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
