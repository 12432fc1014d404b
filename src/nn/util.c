/* Parameters with row tracking, CSR batch helpers, fixed activations and
 * initialisers. */
#include "nn.h"

#include <math.h>
#include <string.h>

/* ---- CSR ---------------------------------------------------------------- */

int recnn__csr_check_ptr(const recnn__csr *x, const char *what)
{
    for (int64_t r = 0; r < x->n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        if (s < 0)
            return recnn__fail(RECNN_E_INVALID, "%s: batch row %lld selects CSR row %lld",
                               what, (long long)r, (long long)s);
        if (x->ptr[s] < 0)
            return recnn__fail(RECNN_E_INVALID,
                               "%s: CSR offset ptr[%lld] = %lld is negative (batch row %lld)",
                               what, (long long)s, (long long)x->ptr[s], (long long)r);
        if (x->ptr[s + 1] < x->ptr[s])
            return recnn__fail(RECNN_E_INVALID,
                               "%s: CSR offsets decrease at batch row %lld: ptr[%lld] = %lld "
                               "> ptr[%lld] = %lld",
                               what, (long long)r, (long long)s, (long long)x->ptr[s],
                               (long long)(s + 1), (long long)x->ptr[s + 1]);
    }
    return RECNN_OK;
}

int64_t recnn__csr_nnz(const recnn__csr *x)
{
    if (!x->sel)
        return x->n > 0 ? x->ptr[x->n] - x->ptr[0] : 0;
    int64_t s = 0;
    for (int64_t r = 0; r < x->n; r++)
        s += x->ptr[x->sel[r] + 1] - x->ptr[x->sel[r]];
    return s;
}

int64_t recnn__csr_offsets(const recnn__csr *x, int64_t *off)
{
    off[0] = 0;
    for (int64_t r = 0; r < x->n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        off[r + 1] = off[r] + (x->ptr[s + 1] - x->ptr[s]);
    }
    return off[x->n];
}

int64_t recnn__csr_gather(const recnn__csr *x, float *out)
{
    int64_t k = 0;
    for (int64_t r = 0; r < x->n; r++) {
        int64_t s = x->sel ? x->sel[r] : r;
        for (int64_t q = x->ptr[s]; q < x->ptr[s + 1]; q++)
            out[k++] = x->val ? x->val[q] : 1.0f;
    }
    return k;
}

void recnn__csrt_free(recnn__csrt *t)
{
    if (!t)
        return;
    recnn__free(t->own[0]);
    recnn__free(t->own[1]);
    recnn__free(t->pos);
    memset(t, 0, sizeof *t);
}

static int csrt_check_batch(const recnn__csr *x, int64_t n_cols)
{
    if (!x || x->sel || n_cols < 0 || x->n < 0 || x->n > INT32_MAX ||
        (x->n > 0 && (!x->ptr || !x->idx)))
        return recnn__fail(RECNN_E_INVALID,
                           "transpose: needs a batch of consecutive rows (sel == NULL)");
    return recnn__csr_check_ptr(x, "transpose");
}

int recnn__csrt_build(const recnn__csr *x, int64_t n_cols, recnn__csrt *t)
{
    memset(t, 0, sizeof *t);
    int st = csrt_check_batch(x, n_cols);
    if (st)
        return st;
    const int64_t base = x->n > 0 ? x->ptr[0] : 0, nnz = recnn__csr_nnz(x);
    int64_t *ptr = recnn__calloc((size_t)n_cols + 1, sizeof *ptr);
    int32_t *row = recnn__alloc(nnz > 0 ? (size_t)nnz : 1, sizeof *row);
    t->own[0] = ptr;
    t->own[1] = row;
    t->pos = recnn__alloc(nnz > 0 ? (size_t)nnz : 1, sizeof *t->pos);
    if (!ptr || !row || !t->pos) {
        recnn__csrt_free(t);
        return recnn__fail(RECNN_E_NOMEM, "transpose: out of memory (%lld entries)",
                           (long long)nnz);
    }
    for (int64_t k = base; k < base + nnz; k++) {
        int32_t c = x->idx[k];
        if (c < 0 || c >= n_cols) {
            recnn__csrt_free(t);
            return recnn__fail(RECNN_E_INVALID, "transpose: column %d outside [0, %lld)",
                               (int)c, (long long)n_cols);
        }
        ptr[c + 1]++;
    }
    for (int64_t c = 0; c < n_cols; c++)
        ptr[c + 1] += ptr[c];
    /* counting sort: ptr[c] runs to the end of column c, then moves back */
    for (int64_t r = 0; r < x->n; r++)
        for (int64_t k = x->ptr[r]; k < x->ptr[r + 1]; k++) {
            int64_t q = ptr[x->idx[k]]++;
            row[q] = (int32_t)r;
            t->pos[q] = k - base;
        }
    memmove(ptr + 1, ptr, (size_t)n_cols * sizeof *ptr);
    ptr[0] = 0;
    t->n_cols = n_cols;
    t->ptr = ptr;
    t->row = row;
    return RECNN_OK;
}

int recnn__csrt_build_from(const recnn__csr *x, int64_t n_cols, const int64_t *ptr,
                           const int32_t *row, recnn__csrt *t)
{
    memset(t, 0, sizeof *t);
    int st = csrt_check_batch(x, n_cols);
    if (st)
        return st;
    const int64_t base = x->n > 0 ? x->ptr[0] : 0, nnz = recnn__csr_nnz(x);
    if (!ptr || (nnz > 0 && !row) || ptr[0] != 0 || ptr[n_cols] != nnz)
        return recnn__fail(RECNN_E_INVALID, "transpose: the columns do not match the batch");
    t->pos = recnn__alloc(nnz > 0 ? (size_t)nnz : 1, sizeof *t->pos);
    int64_t *cur = recnn__alloc((size_t)x->n + 1, sizeof *cur);
    if (!t->pos || !cur) {
        recnn__free(cur);
        recnn__csrt_free(t);
        return recnn__fail(RECNN_E_NOMEM, "transpose: out of memory (%lld entries)",
                           (long long)nnz);
    }
    for (int64_t r = 0; r < x->n; r++)
        cur[r] = x->ptr[r];
    /* columns in increasing order meet each row's entries in its (sorted)
     * order: a cursor per row finds every entry's position */
    for (int64_t c = 0; c < n_cols && st == RECNN_OK; c++)
        for (int64_t q = ptr[c]; q < ptr[c + 1]; q++) {
            int32_t r = row[q];
            if (r < 0 || r >= x->n || cur[r] >= x->ptr[r + 1] || x->idx[cur[r]] != c) {
                st = recnn__fail(RECNN_E_INVALID,
                                 "transpose: column %lld does not match the batch (row %d)",
                                 (long long)c, (int)r);
                break;
            }
            t->pos[q] = cur[r]++ - base;
        }
    recnn__free(cur);
    if (st) {
        recnn__csrt_free(t);
        return st;
    }
    t->n_cols = n_cols;
    t->ptr = ptr;
    t->row = row;
    return RECNN_OK;
}

/* ---- parameters -------------------------------------------------------- */

recnn__param recnn__param_make(const char *name, float *w, float *g, int64_t count,
                               int64_t row_len, int decay)
{
    recnn__param p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.w = w;
    p.g = g;
    p.count = count;
    p.row_len = row_len;
    p.decay = decay;
    return p;
}

int recnn__param_track_rows(recnn__param *p)
{
    int64_t nr = recnn__param_nrows(p);
    p->mark = recnn__calloc((size_t)nr, 1);
    p->rows = recnn__alloc((size_t)nr, sizeof(int32_t));
    if (!p->mark || !p->rows) {
        recnn__free(p->mark);
        recnn__free(p->rows);
        p->mark = NULL;
        p->rows = NULL;
        return RECNN_E_NOMEM;
    }
    p->n_rows = 0;
    p->dense = 0;
    return RECNN_OK;
}

void recnn__param_free(recnn__param *p)
{
    recnn__free(p->mark);
    recnn__free(p->rows);
    p->mark = NULL;
    p->rows = NULL;
    p->n_rows = 0;
}

void recnn__param_reset_rows(recnn__param *p)
{
    if (p->mark)
        for (int64_t k = 0; k < p->n_rows; k++)
            p->mark[p->rows[k]] = 0;
    p->n_rows = 0;
    p->dense = 0;
}

void recnn__param_zero_grad(recnn__param *p)
{
    if (recnn__param_sparse(p)) {
        int64_t rl = p->row_len > 0 ? p->row_len : p->count;
        for (int64_t k = 0; k < p->n_rows; k++)
            memset(p->g + (int64_t)p->rows[k] * rl, 0, (size_t)rl * sizeof(float));
    } else {
        memset(p->g, 0, (size_t)p->count * sizeof(float));
    }
    recnn__param_reset_rows(p);
}

void recnn__params_zero_grad(recnn__param *const *ps, int n)
{
    for (int i = 0; i < n; i++)
        recnn__param_zero_grad(ps[i]);
}

/* ---- activations -------------------------------------------------------- */

static const char *const act_names[] = {"identity", "sigmoid", "tanh",    "relu", "leaky_relu",
                                        "elu",      "selu",    "softmax", "apl"};

int recnn__act_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof act_names / sizeof *act_names); i++)
        if (strcmp(name, act_names[i]) == 0)
            return i;
    if (strcmp(name, "linear") == 0 || strcmp(name, "none") == 0)
        return RECNN__ACT_IDENTITY;
    if (strcmp(name, "lrelu") == 0)
        return RECNN__ACT_LEAKY_RELU;
    return -1;
}

const char *recnn__act_name(int act)
{
    if (act < 0 || act >= (int)(sizeof act_names / sizeof *act_names))
        return "?";
    return act_names[act];
}

float recnn__act_default_alpha(int act)
{
    return act == RECNN__ACT_LEAKY_RELU ? 0.01f : act == RECNN__ACT_ELU ? 1.0f : 0.0f;
}

/* ELU (scale 1) and SELU (scale lambda, alpha lambda's partner). */
RECNN__CLONES static void k_elu(int64_t n, const float *x, float *y, float alpha,
                                float scale)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v > 0 ? scale * v : scale * alpha * recnn__expm1f(v);
    }
}

RECNN__CLONES static void k_sigmoid(int64_t n, const float *x, float *y)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++)
        y[i] = recnn__sigmoidf(x[i]);
}

/* Element-wise activations on the calling thread (not softmax). */
void recnn__act_apply(int act, float alpha, int64_t n, const float *x, float *y)
{
    switch (act) {
    case RECNN__ACT_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case RECNN__ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case RECNN__ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : alpha * x[i];
        break;
    case RECNN__ACT_SIGMOID: k_sigmoid(n, x, y); break;
    case RECNN__ACT_ELU: k_elu(n, x, y, alpha, 1.0f); break;
    case RECNN__ACT_SELU: k_elu(n, x, y, RECNN__SELU_ALPHA, RECNN__SELU_LAMBDA); break;
    default: /* identity */
        if (y != x)
            memcpy(y, x, (size_t)n * sizeof(float));
        break;
    }
}

void recnn__act_forward(int act, float alpha, int64_t n, int64_t dim, const float *x,
                        float *y)
{
    int64_t total = n * dim;
    if (act == RECNN__ACT_SOFTMAX) {
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (total > 65536)
        for (int64_t r = 0; r < n; r++) {
            const float *xr = x + r * dim;
            float *yr = y + r * dim;
            float m = -INFINITY;
            for (int64_t j = 0; j < dim; j++)
                m = xr[j] > m ? xr[j] : m;
            double s = 0;
            for (int64_t j = 0; j < dim; j++) {
                yr[j] = expf(xr[j] - m);
                s += yr[j];
            }
            float inv = (float)(1.0 / s);
            for (int64_t j = 0; j < dim; j++)
                yr[j] *= inv;
        }
        return;
    }
    if (act == RECNN__ACT_IDENTITY || total <= 65536) {
        recnn__act_apply(act, alpha, total, x, y);
        return;
    }
    /* blocks of 4096: vector-sized pieces for the team */
    const int64_t blk = 4096, nb = (total + blk - 1) / blk;
#pragma omp parallel for schedule(static) num_threads(recnn__threads())
    for (int64_t b = 0; b < nb; b++) {
        int64_t i1 = (b + 1) * blk < total ? (b + 1) * blk : total;
        recnn__act_apply(act, alpha, i1 - b * blk, x + b * blk, y + b * blk);
    }
}

/* Element-wise, in place allowed (gx == gy): every loop vectorises. */
RECNN__CLONES void recnn__act_backward(int act, float alpha, int64_t n, int64_t dim,
                                       const float *y, const float *gy, float *gx)
{
    int64_t total = n * dim;
    switch (act) {
    case RECNN__ACT_SIGMOID:
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = gy[i] * y[i] * (1.0f - y[i]);
        break;
    case RECNN__ACT_TANH:
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = gy[i] * (1.0f - y[i] * y[i]);
        break;
    case RECNN__ACT_RELU:
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = y[i] > 0 ? gy[i] : 0.0f;
        break;
    case RECNN__ACT_LEAKY_RELU:
        /* sign(y) = sign(x) for alpha > 0; alpha <= 0 behaves as relu. */
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = y[i] > 0 ? gy[i] : alpha * gy[i];
        break;
    case RECNN__ACT_ELU:
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = y[i] > 0 ? gy[i] : gy[i] * (y[i] + alpha);
        break;
    case RECNN__ACT_SELU:
#pragma omp simd
        for (int64_t i = 0; i < total; i++)
            gx[i] = y[i] > 0 ? RECNN__SELU_LAMBDA * gy[i]
                             : gy[i] * (y[i] + RECNN__SELU_LAMBDA * RECNN__SELU_ALPHA);
        break;
    case RECNN__ACT_SOFTMAX:
        for (int64_t r = 0; r < n; r++) {
            const float *yr = y + r * dim, *gr = gy + r * dim;
            float *xr = gx + r * dim;
            double s = 0;
            for (int64_t j = 0; j < dim; j++)
                s += (double)gr[j] * yr[j];
            for (int64_t j = 0; j < dim; j++)
                xr[j] = yr[j] * (gr[j] - (float)s);
        }
        break;
    default:
        if (gx != gy)
            memcpy(gx, gy, (size_t)total * sizeof(float));
        break;
    }
}

/* ---- initialisers ------------------------------------------------------ */

static const char *const init_names[] = {"zero",         "xavier_uniform", "xavier_normal",
                                         "he_uniform",   "he_normal",      "lecun_uniform",
                                         "lecun_normal", "normal",         "uniform"};

int recnn__init_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof init_names / sizeof *init_names); i++)
        if (strcmp(name, init_names[i]) == 0)
            return i;
    if (strcmp(name, "xavier") == 0 || strcmp(name, "glorot") == 0)
        return RECNN__INIT_XAVIER_UNIFORM;
    if (strcmp(name, "he") == 0)
        return RECNN__INIT_HE_NORMAL;
    if (strcmp(name, "lecun") == 0)
        return RECNN__INIT_LECUN_NORMAL;
    return -1;
}

int recnn__init_fill(float *w, int64_t n, int scheme, int64_t fan_in, int64_t fan_out,
                     float scale, recnn_rng *r)
{
    if (!w && n > 0)
        return recnn__fail(RECNN_E_INVALID, "init: NULL buffer");
    if (fan_in < 1)
        fan_in = 1;
    if (fan_out < 1)
        fan_out = 1;
    double gain = scale > 0 ? scale : 1.0;
    double bound = 0, sd = 0;
    int normal = 0;
    switch (scheme) {
    case RECNN__INIT_ZERO:
        if (n > 0) /* w may be NULL when n == 0; memset(NULL, 0, 0) is undefined */
            memset(w, 0, (size_t)n * sizeof(float));
        return RECNN_OK;
    case RECNN__INIT_XAVIER_UNIFORM: bound = gain * sqrt(6.0 / (double)(fan_in + fan_out)); break;
    case RECNN__INIT_XAVIER_NORMAL:
        normal = 1;
        sd = gain * sqrt(2.0 / (double)(fan_in + fan_out));
        break;
    case RECNN__INIT_HE_UNIFORM: bound = gain * sqrt(6.0 / (double)fan_in); break;
    case RECNN__INIT_HE_NORMAL:
        normal = 1;
        sd = gain * sqrt(2.0 / (double)fan_in);
        break;
    case RECNN__INIT_LECUN_UNIFORM: bound = gain * sqrt(3.0 / (double)fan_in); break;
    case RECNN__INIT_LECUN_NORMAL:
        normal = 1;
        sd = gain * sqrt(1.0 / (double)fan_in);
        break;
    case RECNN__INIT_NORMAL:
        normal = 1;
        sd = scale;
        break;
    case RECNN__INIT_UNIFORM: bound = scale; break;
    default: return recnn__fail(RECNN_E_INVALID, "init: unknown scheme %d", scheme);
    }
    if (normal)
        for (int64_t i = 0; i < n; i++)
            w[i] = (float)(sd * recnn__rng_normal(r));
    else
        for (int64_t i = 0; i < n; i++)
            w[i] = (float)(bound * (2.0 * recnn__rng_uniform(r) - 1.0));
    return RECNN_OK;
}
