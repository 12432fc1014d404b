/* Internal neural building blocks used by the model code: layers over
 * row-major float batches, activations, losses, initialisers, optimizers.
 * Nothing here is exported; the public handles of include/recnn/nn.h are
 * these same structs (struct recnn_layer, struct recnn_optimizer).
 *
 * Conventions (docs/NN.md has the long form):
 * - A batch is n rows of `dim` contiguous floats (row-major).
 * - forward(n, x, y) overwrites y.  backward(..., gy, gx) OVERWRITES gx
 *   (gx may be NULL when the input gradient is not needed) and ACCUMULATES
 *   (+=) into the parameter gradients, so shared/tied weights and several
 *   backward calls per step add up.  Call recnn__layer_zero_grad (or
 *   recnn__params_zero_grad) before each step's backward passes.
 * - Layers never allocate after creation: scratch is sized for max_batch
 *   rows; n > max_batch is RECNN_E_INVALID.
 * - Weight layouts (cache-friendly for the sparse paths):
 *     linear, normal layout   (dense, sparse-input):  W is [in  x out],
 *         y = x W + b; a nonzero input j reads the one row W[j].
 *     linear, transposed layout (masked output, tied-to-dense):  W is
 *         [out x in], y = x W^T + b; output column j is the one row W[j].
 *   A tied layer shares its encoder's W (and gradient) in the opposite
 *   layout, so tied(dense encoder) is a masked-capable decoder.
 * - Reentrancy: forward with train = 0 of linear (full), sparse-input,
 *   activation and APL layers and embedding lookups only read the layer,
 *   so several threads may run them on one layer at once (prediction).
 *   Backward passes, masked passes (offset scratch) and dropout use
 *   per-layer state: one thread at a time per layer.
 * - Sparse gradients: a parameter created with row tracking (the W of the
 *   sparse-input and masked layers, embeddings, masked-output biases)
 *   records the rows a backward touched (p->rows[0..n_rows)); optimizers
 *   then update only those rows ("lazy" updates, see recnn__optim).  Any
 *   dense gradient into such a parameter sets p->dense and the next step
 *   is a full update.
 */
#ifndef RECNN_NN_NN_H
#define RECNN_NN_NN_H

#include "../core/core.h"

/* Hot element-wise and sparse kernels are compiled twice on x86-64 with
 * GNU C (AVX2+FMA and baseline) and the loader picks the version for the
 * CPU (target_clones), so a portable build still uses 8-wide vectors.
 * The build contracts a*b+c into one FMA where the target has it
 * (-ffp-contract=fast, Makefile), so the two versions may differ in the
 * last bit; results are fixed for a given machine and build.
 * RECNN_NO_CLONES builds one version (the fuzz build: clang 14 does not
 * link clones of functions called across files). */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__) && !defined(RECNN_NO_CLONES)
#define RECNN__CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RECNN__CLONES
#endif

/* ---- sparse batches ---------------------------------------------------- */

/* A batch of n sparse rows in CSR form, borrowed (never freed here).
 * Batch row r is CSR row s = sel ? sel[r] : r, whose entries are
 * ptr[s] .. ptr[s+1]-1 of idx (column) and val (value; val == NULL means
 * every value is 1, for implicit feedback).  ptr[0] need not be 0, so a
 * dataset's row_ptr/item/value (or col_ptr/col_user/col_value) can be used
 * directly with sel = the batch's user (item) indices. */
typedef struct recnn__csr {
    int64_t n;
    const int64_t *ptr;
    const int32_t *idx;
    const float *val;
    const int32_t *sel;
    /* > 0: every column is known to lie in [0, cols_ok) (set by the code
     * that built the columns, e.g. from a dataset view): the layers then
     * skip their per-call range scan.  0 (what a positional initialiser
     * leaves): scanned. */
    int64_t cols_ok;
} recnn__csr;

/* The transpose of a batch with sel == NULL (consecutive CSR rows): its
 * entries grouped by column.  Column c's entries are ptr[c] .. ptr[c+1]-1
 * of row (the batch row) and pos (the entry's position in batch order:
 * its index minus the batch's ptr[0]); rows increase within a column.
 * Given one, the backward passes gather each weight row's gradient in one
 * place instead of scattering into it: one write per row, no two threads
 * on one row, and a summation order that does not depend on the thread
 * count.  Owns its arrays (recnn__csrt_free). */
typedef struct recnn__csrt {
    int64_t n_cols;
    const int64_t *ptr; /* n_cols + 1 */
    const int32_t *row; /* nnz */
    int64_t *pos;       /* nnz */
    void *own[2];       /* what recnn__csrt_free releases */
} recnn__csrt;

/* Builds t for x (x->sel must be NULL; columns in [0, n_cols)). */
int recnn__csrt_build(const recnn__csr *x, int64_t n_cols, recnn__csrt *t);
/* The same when the caller already holds the column structure (a
 * dataset's other view: CSC for its CSR rows and vice versa): t borrows
 * ptr/row (they must outlive t) and only pos is computed, so the
 * transpose costs 8 bytes per entry instead of 12.  Refuses a ptr/row
 * that does not describe x. */
int recnn__csrt_build_from(const recnn__csr *x, int64_t n_cols, const int64_t *ptr,
                           const int32_t *row, recnn__csrt *t);
void recnn__csrt_free(recnn__csrt *t); /* accepts a zeroed t */

/* Checks the row offsets of a batch (x->ptr non-NULL when x->n > 0), before
 * anything reads an index: every batch row's ptr[s] >= 0 (so ptr[0] need
 * not be 0, but the entries start inside idx/val) and ptr[s] <= ptr[s+1]
 * (rows of negative length would make the entries overlap or run before
 * ptr[0]); a sel entry must be >= 0.  RECNN_E_INVALID naming the row,
 * with `what` as the message's prefix.  O(n). */
int recnn__csr_check_ptr(const recnn__csr *x, const char *what);
/* Entries in the batch (sum of the n rows' lengths). */
int64_t recnn__csr_nnz(const recnn__csr *x);
/* off[0..n]: where batch row r starts in the concatenated order of the
 * batch's entries (off[0] = 0, off[n] = nnz).  Returns nnz. */
int64_t recnn__csr_offsets(const recnn__csr *x, int64_t *off);
/* Copies the batch's values in batch order (out has nnz floats; 1 for
 * val == NULL).  Returns nnz. */
int64_t recnn__csr_gather(const recnn__csr *x, float *out);

/* ---- parameters ---------------------------------------------------------- */

typedef struct recnn__param {
    const char *name; /* static, e.g. "W", "b", "apl_a" */
    float *w;         /* values (count) */
    float *g;         /* gradient (count), accumulated by backward */
    int64_t count;
    int64_t row_len;  /* elements per row (count / row_len rows); 0 = count */
    int decay;        /* 1: weights (L2 / weight decay apply), 0: biases etc. */
    /* Row tracking for sparse gradients (mark != NULL when enabled). */
    uint8_t *mark;    /* per row: 1 when the row is in rows[] */
    int32_t *rows;    /* touched rows, first-touch order */
    int64_t n_rows;
    int dense;        /* 1: the gradient is dense (every row may be non-zero) */
} recnn__param;

static inline int64_t recnn__param_nrows(const recnn__param *p)
{
    return p->row_len > 0 ? p->count / p->row_len : 1;
}
/* True when an optimizer should update only p->rows this step. */
static inline bool recnn__param_sparse(const recnn__param *p)
{
    return p->mark != NULL && !p->dense;
}
/* Records row r as touched (no-op without tracking).  Not thread-safe. */
static inline void recnn__param_touch(recnn__param *p, int64_t r)
{
    if (p->mark && !p->mark[r]) {
        p->mark[r] = 1;
        p->rows[p->n_rows++] = (int32_t)r;
    }
}
/* The gradient is dense from now on until the next zero_grad. */
static inline void recnn__param_touch_all(recnn__param *p) { p->dense = 1; }

/* Fills a param descriptor for a caller-owned buffer (no row tracking). */
recnn__param recnn__param_make(const char *name, float *w, float *g, int64_t count,
                               int64_t row_len, int decay);
/* Enables row tracking (allocates mark/rows; free with recnn__param_free). */
int recnn__param_track_rows(recnn__param *p);
void recnn__param_free(recnn__param *p); /* frees mark/rows only */
/* Zeroes the gradient: only the touched rows when sparse, else all; resets
 * the tracking. */
void recnn__param_zero_grad(recnn__param *p);
/* Resets the row tracking only (no touched rows, not dense), leaving g as
 * it is: for passes that write the whole gradient (recnn__grad_fuse). */
void recnn__param_reset_rows(recnn__param *p);
void recnn__params_zero_grad(recnn__param *const *ps, int n);

/* ---- activations (plain functions) ------------------------------------ */

enum {
    RECNN__ACT_IDENTITY = 0,
    RECNN__ACT_SIGMOID = 1,
    RECNN__ACT_TANH = 2,
    RECNN__ACT_RELU = 3,
    RECNN__ACT_LEAKY_RELU = 4, /* alpha = negative slope (default 0.01) */
    RECNN__ACT_ELU = 5,        /* alpha (default 1) */
    RECNN__ACT_SELU = 6,       /* Klambauer et al. 2017 constants */
    RECNN__ACT_SOFTMAX = 7,    /* over each row of `dim` */
    RECNN__ACT_APL = 8         /* trainable: a layer, see recnn__apl_create */
};
#define RECNN__SELU_LAMBDA 1.0507009873554804934193349852946f
#define RECNN__SELU_ALPHA 1.6732632423543772848170429916717f

/* Name <-> id ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
 * "selu", "softmax", "apl"); -1 when unknown. */
int recnn__act_from_name(const char *name);
const char *recnn__act_name(int act);
/* Default alpha for an activation (leaky 0.01, elu 1, else 0). */
float recnn__act_default_alpha(int act);

/* e^x to about 2 ulp for x in [-87, 88] (clamped outside; NaN stays NaN):
 * Cody-Waite range reduction and the Cephes polynomial, in plain
 * arithmetic so that loops over it vectorise (libm's expf does not). */
static inline float recnn__expf(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    /* n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer */
    const float big = 12582912.0f;
    float n = (x * 1.44269504088896341f + big) - big;
    float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * r) * r + r + 1.0f;
    /* times 2^n through the exponent bits (n in [-126, 127]).  A NaN x
     * (a diverged model) leaves n NaN, whose conversion to an integer is
     * undefined and once gave a negative left shift: it takes n = 0
     * instead (p is NaN, so the result still is).  The shift is done
     * unsigned; for every other x the bits are the same as before. */
    union {
        uint32_t u;
        float f;
    } sc;
    int32_t ni = n == n ? (int32_t)n : 0;
    sc.u = (uint32_t)(ni + 127) << 23;
    return p * sc.f;
}

/* e^x - 1: a Taylor polynomial to x^7 for |x| < 1/4 (relative error
 * below 1e-7 there, where expf - 1 would cancel), recnn__expf - 1 beyond;
 * vectorises like recnn__expf. */
static inline float recnn__expm1f(float x)
{
    float p = 1.0f / 5040.0f;
    p = p * x + 1.0f / 720.0f;
    p = p * x + 1.0f / 120.0f;
    p = p * x + 1.0f / 24.0f;
    p = p * x + 1.0f / 6.0f;
    p = p * x + 0.5f;
    p = (p * x) * x + x;
    float e = recnn__expf(x) - 1.0f;
    float ax = x < 0 ? -x : x;
    return ax < 0.25f ? p : e;
}

/* The logistic function through recnn__expf (saturates cleanly). */
static inline float recnn__sigmoidf(float x) { return 1.0f / (1.0f + recnn__expf(-x)); }

/* y = f(x) over n values on the calling thread, for the element-wise
 * kinds (not softmax; y may equal x). */
void recnn__act_apply(int act, float alpha, int64_t n, const float *x, float *y);
/* y = f(x) over n rows of dim (y may equal x: in place). */
void recnn__act_forward(int act, float alpha, int64_t n, int64_t dim, const float *x,
                        float *y);
/* gx = f'(x) * gy computed from the OUTPUT y only (so in-place forward is
 * fine); gx may equal gy.  Not for APL. */
void recnn__act_backward(int act, float alpha, int64_t n, int64_t dim, const float *y,
                         const float *gy, float *gx);

/* ---- initialisers ------------------------------------------------------ */

enum {
    RECNN__INIT_ZERO = 0,
    RECNN__INIT_XAVIER_UNIFORM = 1, /* U(+-gain*sqrt(6/(fan_in+fan_out))) */
    RECNN__INIT_XAVIER_NORMAL = 2,  /* N(0, gain^2 * 2/(fan_in+fan_out)) */
    RECNN__INIT_HE_UNIFORM = 3,     /* U(+-gain*sqrt(6/fan_in)) */
    RECNN__INIT_HE_NORMAL = 4,      /* N(0, gain^2 * 2/fan_in) */
    RECNN__INIT_LECUN_UNIFORM = 5,  /* U(+-gain*sqrt(3/fan_in)) */
    RECNN__INIT_LECUN_NORMAL = 6,   /* N(0, gain^2 / fan_in)  (for SELU) */
    RECNN__INIT_NORMAL = 7,         /* N(0, scale^2) */
    RECNN__INIT_UNIFORM = 8         /* U(-scale, scale) */
};
int recnn__init_from_name(const char *name); /* "xavier_uniform", ... ; -1 */
/* Fills w[0..n) from r.  `scale` is the gain for the fan-based schemes
 * (0 means 1) and the std/half-width for NORMAL/UNIFORM. */
int recnn__init_fill(float *w, int64_t n, int scheme, int64_t fan_in, int64_t fan_out,
                     float scale, recnn_rng *r);

/* ---- layers ------------------------------------------------------------ */

enum {
    RECNN__L_LINEAR = 1,    /* dense / sparse-input / masked output / tied */
    RECNN__L_EMBEDDING = 2,
    RECNN__L_ACT = 3,
    RECNN__L_APL = 4,
    RECNN__L_DROPOUT = 5,
    RECNN__L_CONCAT = 6,
    RECNN__L_PRODUCT = 7
};

#define RECNN__LAYER_MAX_PARAMS 3

typedef struct recnn_layer recnn__layer;

struct recnn_layer {
    int kind;            /* RECNN__L_* */
    int64_t in_dim, out_dim, max_batch;
    int64_t in_dim2;     /* CONCAT: second input's width */

    /* parameters this layer owns (tied layers do not list the shared W) */
    recnn__param params[RECNN__LAYER_MAX_PARAMS];
    int n_params;

    /* LINEAR */
    int wt;              /* 0: W is [in x out]; 1: W is [out x in] */
    int sparse_in;       /* created as sparse-input (row-tracked W, wt = 0) */
    int masked;          /* created as masked output (row-tracked W and b) */
    recnn__param *pw;    /* W (own params[0] or the encoder's) */
    recnn__param *pb;    /* bias or NULL */
    recnn__layer *tied;  /* encoder whose W this layer shares, or NULL */
    float *ones;         /* max_batch ones (bias gradient by gemv) */
    int64_t *off;        /* max_batch + 1 (masked offsets) */
    double *rowsum;      /* 2 per W row (sparse-input / masked): recnn__grad_fuse partials */
    double *rowloss;     /* max_batch (masked-capable): recnn__masked_mse_t's row sums */
    int64_t ld;          /* row stride of W and its gradient, >= the row length (= it
                          * unless created padded, recnn__sparse_create_ld); for a
                          * padded layer also the stride of the activation rows on W's
                          * row side: sparse-input y and gy, masked h and gh */

    /* ACT / APL */
    int act;
    float alpha;
    int hinges, per_unit; /* APL: S hinges, parameters per unit or shared */

    /* DROPOUT */
    float rate;
    float *mask;         /* max_batch x dim, 0 or 1/(1-rate) */
    recnn_rng rng;
    int fixed_mask, mask_ready;

    /* Optional output / input-gradient workspaces (recnn__layer_alloc_io),
     * max_batch x out_dim and max_batch x in_dim; NULL until requested. */
    float *y, *gx, *gx2;

    /* The recnn_net that owns the layer (set by recnn_net_add), or NULL:
     * a layer belongs to at most one net, which frees it. */
    const void *owner;
};

/* Creation.  Every layer is freed with recnn__layer_free (NULL ok).
 * Parameters are zero until recnn__layer_init (biases stay zero). */

/* Dense: y = x W + b, W [in x units].  bias 0/1. */
int recnn__dense_create(recnn__layer **out, int64_t in, int64_t units, int bias,
                        int64_t max_batch);
/* Sparse-input dense: same maths and layout as dense, input a CSR batch
 * (recnn__sparse_forward); W's rows are tracked. */
int recnn__sparse_create(recnn__layer **out, int64_t in, int64_t units, int bias,
                         int64_t max_batch);
/* Masked output: W [out_dim x in] (transposed layout), y = h W^T + b,
 * computed only at requested positions (recnn__masked_forward) or in full
 * (recnn__layer_forward).  W rows and b entries are tracked. */
int recnn__masked_create(recnn__layer **out, int64_t in, int64_t out_dim, int bias,
                         int64_t max_batch);
/* The same two layers with W's rows (and the activation rows on their
 * side, see recnn_layer.ld) ld floats apart, ld >= the row length (0: the
 * row length).  The padding stays zero and is never read as data: it only
 * aligns rows (recnn__row_stride) for the sparse kernels, which stream one
 * W row per nonzero.  Padded layers take only the sparse / masked passes
 * (recnn__layer_forward/backward refuse them) and cannot be tied. */
int recnn__sparse_create_ld(recnn__layer **out, int64_t in, int64_t units, int64_t ld,
                            int bias, int64_t max_batch);
int recnn__masked_create_ld(recnn__layer **out, int64_t in, int64_t out_dim, int64_t ld,
                            int bias, int64_t max_batch);
/* The row stride that starts every row of n floats on a 32-byte boundary
 * (one AVX vector: no vector load splits a cache line). */
int64_t recnn__row_stride(int64_t n);
/* Tied: shares enc's W (a LINEAR layer) transposed: in = enc->out_dim,
 * out = enc->in_dim, own bias.  Borrowed: enc must outlive this layer.
 * Tied to a dense/sparse-input encoder the result is masked-capable. */
int recnn__tied_create(recnn__layer **out, recnn__layer *enc, int bias,
                       int64_t max_batch);
/* (recnn__layer_zero_grad of a tied layer also clears the shared W's
 * gradient, which lives in the encoder.) */
/* Embedding table [n x dim]; rows tracked. */
int recnn__embedding_create(recnn__layer **out, int64_t n, int64_t dim,
                            int64_t max_batch);
/* Fixed activation over rows of dim (alpha < 0 picks the default). */
int recnn__act_create(recnn__layer **out, int act, int64_t dim, float alpha,
                      int64_t max_batch);
/* Adaptive piecewise linear unit (Agostinelli et al., ICLR 2015 workshop,
 * "Learning activation functions to improve deep neural networks"):
 *   h(x) = max(0, x) + sum_{s<S} a_s max(0, -x + b_s)
 * with a_s, b_s learned per unit (per_unit = 1; [S x dim] each) or shared
 * by the layer (per_unit = 0; [S]).  Initial a_s = a0 (e.g. 0: a ReLU;
 * -0.25 with S = 1: a leaky ReLU/PReLU), b_s spread over [-1, 1] (0 when
 * S = 1).  params: "apl_a", "apl_b" (no decay). */
int recnn__apl_create(recnn__layer **out, int64_t dim, int hinges, int per_unit,
                      float a0, int64_t max_batch);
/* Inverted dropout: train ? x * mask / (1 - rate) : x.  Mask from a
 * private RNG seeded with `seed`.  fixed != 0 keeps the first mask (for
 * gradient checks / deterministic replays). */
int recnn__dropout_create(recnn__layer **out, int64_t dim, float rate, uint64_t seed,
                          int64_t max_batch);
void recnn__dropout_fix_mask(recnn__layer *l, int fixed);
/* Merges: concat [a | b] (da + db), element-wise product a .* b (dim). */
int recnn__concat_create(recnn__layer **out, int64_t da, int64_t db, int64_t max_batch);
int recnn__product_create(recnn__layer **out, int64_t dim, int64_t max_batch);

void recnn__layer_free(recnn__layer *l);

/* Allocates the optional l->y (max_batch x out_dim) and l->gx (max_batch x
 * in_dim; also gx2 for merges; none for sparse-input/embedding). */
int recnn__layer_alloc_io(recnn__layer *l);

/* Initialises the weights (LINEAR W, EMBEDDING table) with a scheme
 * (fan_in/fan_out from the layer's shape); biases and APL params are left
 * as they are. */
int recnn__layer_init(recnn__layer *l, int scheme, float scale, recnn_rng *r);

/* Parameter list: returns the number of entries written to out (<= max),
 * pointers into the layer (a tied layer lists only its bias). */
int recnn__layer_params(recnn__layer *l, recnn__param **out, int max);
void recnn__layer_zero_grad(recnn__layer *l);

/* Dense-input forward/backward for LINEAR (incl. masked/tied in full),
 * ACT, APL, DROPOUT layers.  train matters for DROPOUT only.  backward:
 * x is needed by LINEAR and APL (ACT and DROPOUT ignore it); y by ACT;
 * gx may be NULL; gx may equal gy for ACT/APL/DROPOUT. */
int recnn__layer_forward(recnn__layer *l, int64_t n, const float *x, float *y,
                         int train);
int recnn__layer_backward(recnn__layer *l, int64_t n, const float *x, const float *y,
                          const float *gy, float *gx);

/* Sparse-input LINEAR (wt = 0): y[r] = b + sum_k val_k W[idx_k] over row r,
 * cost nnz x out.  backward: dW[idx_k] += val_k gy[r] (rows tracked),
 * db += sum_r gy[r].  The input gradient is not computed (data). */
int recnn__sparse_forward(recnn__layer *l, const recnn__csr *x, float *y);
/* The same followed by y = act(y) row by row (act RECNN__ACT_*, alpha as
 * recnn__act_forward; not softmax/APL): the activation runs while each
 * row is still in L1 instead of as a second pass. */
int recnn__sparse_forward_act(recnn__layer *l, const recnn__csr *x, int act, float alpha,
                              float *y);
int recnn__sparse_backward(recnn__layer *l, const recnn__csr *x, const float *gy);
/* What a gathered backward pass (one that has the batch's transpose)
 * can finish while each weight row is still in L1, instead of the passes
 * over the whole gradient that would follow it.  With a fuse, the pass
 * WRITES the layer's W and b gradients (no zero_grad needed first; their
 * row tracking restarts), adds decay * w to the W rows that have entries
 * (the L2 term of recnn__params_l2), and returns the penalty and the
 * gradient's sum of squares (for recnn__optim_step_gsq).  Totals are
 * summed in row order: independent of the thread count. */
typedef struct recnn__grad_fuse {
    float decay;    /* in: L2 coefficient on W (0 = none) */
    double penalty; /* out: decay/2 * sum of w^2 over W's rows with entries */
    double gsq;     /* out: sum of squares of W's gradient (after decay) */
} recnn__grad_fuse;

/* The same with the batch's transpose (xt built from x; NULL = scatter),
 * and, when fuse != NULL (needs xt), its epilogue. */
int recnn__sparse_backward_t(recnn__layer *l, const recnn__csr *x, const recnn__csrt *xt,
                             const float *gy, recnn__grad_fuse *fuse);

/* Masked LINEAR (wt = 1): for batch row r (pos->n rows) and each of its
 * positions j (pos->idx, values ignored), y[k] = h[r] . W[j] + b[j] with k
 * running over the batch's positions in order (recnn__csr_offsets); y has
 * recnn__csr_nnz(pos) floats.  backward: gh (n x in, may be NULL) =
 * sum_j gy[k] W[j]; dW[j] += gy[k] h[r]; db[j] += gy[k]. */
int recnn__masked_forward(recnn__layer *l, const float *h, const recnn__csr *pos,
                          float *y);
int recnn__masked_backward(recnn__layer *l, const float *h, const recnn__csr *pos,
                           const float *gy, float *gh);
/* The same with the transpose of pos (NULL = scatter). */
int recnn__masked_backward_t(recnn__layer *l, const float *h, const recnn__csr *pos,
                             const recnn__csrt *pt, const float *gy, float *gh);

/* Masked LINEAR output with identity activation and squared error,
 * forward and backward fused: one pass over the W rows of the batch's
 * positions instead of two.  With y[k] as recnn__masked_forward and
 * target[k] in the same (batch) order: writes gy[k] = 2 scale (y[k] -
 * target[k]), overwrites gh (n x in) = sum_k gy[k] W[j] -- then, unless
 * act is RECNN__ACT_IDENTITY, gh = act'(h) gh from the output h of the
 * activation that produced h (recnn__act_backward, row by row while the
 * row is in L1) -- then accumulates
 * dW/db as recnn__masked_backward_t (pt may be NULL; with fuse != NULL,
 * which needs pt, they are written as recnn__grad_fuse says).  The loss,
 * scale * sum_k (y[k] - target[k])^2, is returned through *loss, summed
 * from gy in batch order (bits independent of the thread count). */
int recnn__masked_mse_t(recnn__layer *l, const float *h, const recnn__csr *pos,
                        const recnn__csrt *pt, const float *target, float scale, int act,
                        float alpha, float *gy, float *gh, double *loss,
                        recnn__grad_fuse *fuse);

/* EMBEDDING: y[r] = E[ids[r]]; backward dE[ids[r]] += gy[r]. */
int recnn__embedding_forward(recnn__layer *l, int64_t n, const int32_t *ids, float *y);
int recnn__embedding_backward(recnn__layer *l, int64_t n, const int32_t *ids,
                              const float *gy);

/* CONCAT / PRODUCT: two inputs.  ga / gb overwritten, either may be NULL. */
int recnn__merge_forward(recnn__layer *l, int64_t n, const float *a, const float *b,
                         float *y);
int recnn__merge_backward(recnn__layer *l, int64_t n, const float *a, const float *b,
                          const float *gy, float *ga, float *gb);

/* ---- losses ------------------------------------------------------------
 * Each returns the loss (double accumulation) and, when grad != NULL,
 * OVERWRITES grad with d loss / d input.  `scale` multiplies loss and
 * gradient (e.g. 1/n for a mean). weight == NULL means all 1. */

/* scale * sum_k w_k (p_k - t_k)^2 (masked MSE over listed positions). */
double recnn__loss_mse(int64_t n, const float *pred, const float *target,
                       const float *weight, float scale, float *grad);
/* The same over a sparse batch's entries in batch order (y as produced by
 * recnn__masked_forward with pos = x): scale * sum_k (y_k - val_k)^2, no
 * gather of the targets needed (val NULL = 1). */
double recnn__loss_mse_csr(const recnn__csr *x, const float *y, float scale, float *grad);
/* Dense output y (obs->n rows x dim) against the observed entries of obs
 * (a CSR batch: columns + ratings; val NULL = 1):
 *   scale * ( sum_obs (y - r)^2 + unobs_w * sum_unobserved (y - unobs_t)^2 )
 * unobs_w = 0 gives the masked MSE over observed entries only (then the
 * gradient is 0 at unobserved entries). */
double recnn__loss_masked_mse(int64_t dim, const float *y, const recnn__csr *obs,
                              float unobs_w, float unobs_t, float scale, float *grad);
/* Binary cross-entropy on logits z with targets t in [0, 1]:
 *   scale * sum_k w_k (max(z,0) - z t + log(1 + exp(-|z|)))
 * gradient scale * w_k (sigmoid(z) - t).  Stable for any z. */
double recnn__loss_bce_logits(int64_t n, const float *z, const float *t,
                              const float *weight, float scale, float *grad);
/* Penalties: add (+=) their gradient into grad (when non-NULL).
 * L2: lambda/2 * sum w^2.  Elastic net: lambda * sum(l1 |w| + (1-l1)/2 w^2)
 * (subgradient 0 at w = 0).  Range: lambda * sum d(y)^2 with d(y) the
 * distance from y to [lo, hi]; literal != 0 uses y^2 outside the range
 * (the autoencoder-mf-knn paper's formula). */
double recnn__penalty_l2(int64_t n, const float *w, float lambda, float *grad);
double recnn__penalty_elastic(int64_t n, const float *w, float lambda, float l1,
                              float *grad);
double recnn__penalty_range(int64_t n, const float *y, float lo, float hi, float lambda,
                            int literal, float *grad);
/* L2 / elastic over parameter lists: only entries with decay = 1; over the
 * touched rows only when a parameter's gradient is sparse (lazy). */
double recnn__params_l2(recnn__param *const *ps, int n, float lambda);
double recnn__params_elastic(recnn__param *const *ps, int n, float lambda, float l1);

/* ---- optimizers -------------------------------------------------------- */

enum {
    RECNN__OPT_SGD = 0,
    RECNN__OPT_MOMENTUM = 1, /* v = mu v + g; w -= lr v            */
    RECNN__OPT_NESTEROV = 2, /* v = mu v + g; w -= lr (g + mu v)   */
    RECNN__OPT_RMSPROP = 3,  /* s = rho s + (1-rho) g^2; w -= lr g/(sqrt(s)+eps) */
    RECNN__OPT_ADAM = 4,     /* bias-corrected; decoupled weight decay */
    RECNN__OPT_RPROP = 5     /* iRprop- (Igel & Huesken 2000) */
};
enum { RECNN__SCHED_CONST = 0, RECNN__SCHED_STEP = 1, RECNN__SCHED_EXP = 2 };

typedef struct recnn__optim_entry {
    recnn__param *p;  /* borrowed: the optimizer reads p->w/g/rows at step */
    float *s1, *s2;   /* state (momentum / m / mean square / rprop step, v /
                       * previous gradient), count floats each, or NULL */
} recnn__optim_entry;

typedef struct recnn_optimizer recnn__optim;
struct recnn_optimizer {
    int kind;
    double lr, base_lr;
    double mu, rho, beta1, beta2, eps, weight_decay;
    double eta_plus, eta_minus, step_min, step_max, step_init; /* RProp */
    double clip_norm, clip_value; /* 0 = off */
    int sched;
    double gamma;
    int64_t step_size;
    int64_t t;       /* steps taken */
    int64_t epoch;   /* epochs ended (schedules) */
    double last_norm; /* global gradient norm before clipping, last step */
    recnn__optim_entry *e;
    int n, cap;
    /* params the optimizer made itself (recnn_optimizer_add) */
    recnn__param **own;
    int n_own;
};

/* Defaults: lr given; mu 0.9; rho 0.9; beta1 0.9, beta2 0.999; eps 1e-8;
 * RProp eta+ 1.2, eta- 0.5, step_min 1e-6, step_max 50, step_init = lr. */
int recnn__optim_create(recnn__optim **out, int kind, double lr);
void recnn__optim_free(recnn__optim *o);
int recnn__optim_from_name(const char *name); /* "sgd", "momentum", ...; -1 */
/* Adds a parameter (borrowed; must outlive the optimizer or until free). */
int recnn__optim_add(recnn__optim *o, recnn__param *p);
int recnn__optim_add_layer(recnn__optim *o, recnn__layer *l);
/* Keyed hyper-parameters: "lr", "momentum", "rho", "beta1", "beta2",
 * "eps", "weight_decay", "eta_plus", "eta_minus", "step_min", "step_max",
 * "step_init", "clip_norm", "clip_value". */
int recnn__optim_set(recnn__optim *o, const char *key, double v);
/* lr schedule applied by recnn__optim_epoch_end: STEP multiplies by gamma
 * every step_size epochs, EXP by gamma every epoch. */
int recnn__optim_schedule(recnn__optim *o, int sched, double gamma, int64_t step_size);
void recnn__optim_epoch_end(recnn__optim *o);
/* One update from the current gradients (clipping first: by value, then
 * by global norm).  Sparse parameters: only touched rows (lazy).  Does not
 * zero the gradients. */
int recnn__optim_step(recnn__optim *o);
/* The same, given the sums of squares of some parameters' gradients
 * (known[i] -> gsq[i], e.g. from a recnn__grad_fuse): the step's
 * norm/finiteness check takes them instead of a pass over those
 * gradients.  A non-finite gsq refuses the step as a non-finite gradient
 * would. */
int recnn__optim_step_gsq(recnn__optim *o, recnn__param *const *known, const double *gsq,
                          int n_known);
/* Serialised state (hyper-parameters, counters, moment buffers). */
size_t recnn__optim_state_size(const recnn__optim *o);
int recnn__optim_state_save(const recnn__optim *o, void *buf, size_t size);
int recnn__optim_state_load(recnn__optim *o, const void *buf, size_t size);

#endif
