/* librecnn — neural building blocks: layers, losses, initialisers and
 * optimizers.  Part of the public API; include <recnn.h>.
 *
 * Everything works on row-major float batches: a batch of n rows of width
 * d is n*d contiguous floats.  Long form, weight layouts and formulas:
 * docs/NN.md.
 *
 * Gradients: backward functions OVERWRITE the input gradient they are
 * given (gx, may be NULL when not needed) and ADD to the layer's parameter
 * gradients, so call recnn_layer_zero_grad / recnn_net_zero_grad before
 * each step's backward passes.  Layers never allocate after creation;
 * every batch must have at most `max_batch` rows.
 *
 * Weight layouts: a dense or sparse-input layer stores W as [in x units]
 * (y = x W + b); a masked-output layer stores W as [out x in] (y = h W^T +
 * b, output column j is row j of W); a tied layer uses its encoder's W in
 * the opposite layout.
 *
 * Typical use (a two-layer autoencoder):
 *     recnn_net *net;  recnn_layer *l;  recnn_optimizer *opt;
 *     recnn_net_create(&net, batch);
 *     recnn_layer_create_dense(&l, d, 32, 1, batch);            recnn_net_add(net, l);
 *     recnn_layer_create_activation(&l, RECNN_ACT_SIGMOID, 32, -1, batch);
 *                                                                recnn_net_add(net, l);
 *     recnn_layer_create_dense(&l, 32, d, 1, batch);            recnn_net_add(net, l);
 *     recnn_net_init(net, RECNN_INIT_XAVIER_UNIFORM, 0, seed);
 *     recnn_optimizer_create(&opt, RECNN_OPT_ADAM, 1e-2);
 *     recnn_optimizer_add_net(opt, net);
 *     loop: recnn_net_zero_grad(net); recnn_net_forward(net, n, x, 1, &y);
 *           recnn_loss_mse(n * d, y, x, NULL, 1.0f / n, grad, &loss);
 *           recnn_net_backward(net, n, grad); recnn_optimizer_step(opt);
 */
#ifndef RECNN_NN_H
#define RECNN_NN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct recnn_layer recnn_layer;
typedef struct recnn_optimizer recnn_optimizer;
typedef struct recnn_net recnn_net;

/* Activations.  The numeric values are part of the ABI. */
typedef enum recnn_activation {
    RECNN_ACT_IDENTITY = 0,
    RECNN_ACT_SIGMOID = 1,
    RECNN_ACT_TANH = 2,
    RECNN_ACT_RELU = 3,
    RECNN_ACT_LEAKY_RELU = 4, /* alpha = slope for x < 0 (default 0.01) */
    RECNN_ACT_ELU = 5,        /* alpha (default 1) */
    RECNN_ACT_SELU = 6,       /* lambda 1.0507..., alpha 1.6732... */
    RECNN_ACT_SOFTMAX = 7,    /* over each row */
    RECNN_ACT_APL = 8         /* trainable: recnn_layer_create_adaptive */
} recnn_activation;

/* Weight initialisers.  For the fan-based schemes `scale` is a gain (0
 * means 1); for NORMAL it is the standard deviation, for UNIFORM the
 * half-width. */
typedef enum recnn_init {
    RECNN_INIT_ZERO = 0,
    RECNN_INIT_XAVIER_UNIFORM = 1, /* Glorot & Bengio 2010: U(+-sqrt(6/(in+out))) */
    RECNN_INIT_XAVIER_NORMAL = 2,  /* N(0, 2/(in+out)) */
    RECNN_INIT_HE_UNIFORM = 3,     /* He et al. 2015: U(+-sqrt(6/in)) */
    RECNN_INIT_HE_NORMAL = 4,      /* N(0, 2/in) */
    RECNN_INIT_LECUN_UNIFORM = 5,  /* U(+-sqrt(3/in)) */
    RECNN_INIT_LECUN_NORMAL = 6,   /* N(0, 1/in), for SELU networks */
    RECNN_INIT_NORMAL = 7,         /* N(0, scale^2) */
    RECNN_INIT_UNIFORM = 8         /* U(-scale, scale) */
} recnn_init;

typedef enum recnn_optimizer_kind {
    RECNN_OPT_SGD = 0,      /* w -= lr g */
    RECNN_OPT_MOMENTUM = 1, /* v = mu v + g;  w -= lr v */
    RECNN_OPT_NESTEROV = 2, /* v = mu v + g;  w -= lr (g + mu v) */
    RECNN_OPT_RMSPROP = 3,  /* s = rho s + (1-rho) g^2;  w -= lr g / (sqrt(s) + eps) */
    RECNN_OPT_ADAM = 4,     /* Kingma & Ba 2015, bias-corrected; AdamW decay */
    RECNN_OPT_RPROP = 5     /* iRprop- (Igel & Huesken 2000), full-batch */
} recnn_optimizer_kind;

typedef enum recnn_schedule {
    RECNN_SCHED_CONSTANT = 0,
    RECNN_SCHED_STEP = 1,       /* lr = lr0 * gamma^floor(epoch / step) */
    RECNN_SCHED_EXPONENTIAL = 2 /* lr = lr0 * gamma^epoch */
} recnn_schedule;

/* ---- layers --------------------------------------------------------------
 * Create functions write a new layer to *out (NULL on failure); free with
 * recnn_layer_free (NULL ok).  Weights start at zero: call
 * recnn_layer_init (biases stay zero). */

/* Dense: y = x W + b; W [in x units]; bias 0/1.  CBLAS sgemm. */
RECNN_API int recnn_layer_create_dense(recnn_layer **out, int64_t in, int64_t units,
                                       int bias, int64_t max_batch);
/* Dense with a sparse (CSR) input: cost nnz x units per pass, the gradient
 * of W touches only the rows of the input columns that occur. */
RECNN_API int recnn_layer_create_sparse_dense(recnn_layer **out, int64_t in, int64_t units,
                                              int bias, int64_t max_batch);
/* Masked output: y = h W^T + b with W [out x in], computed only at the
 * requested (row, column) positions by recnn_layer_forward_masked (or in
 * full by recnn_layer_forward). */
RECNN_API int recnn_layer_create_masked_output(recnn_layer **out, int64_t in,
                                               int64_t out_dim, int bias, int64_t max_batch);
/* A decoder sharing `encoder`'s W transposed (in = encoder's out, out =
 * encoder's in) with its own bias.  Borrows encoder, which must outlive
 * it; the shared W's gradient accumulates in the encoder (so add only the
 * encoder's W to an optimizer: recnn_optimizer_add_layer does that).
 * Tied to a dense or sparse-input encoder it also supports the masked
 * forward/backward. */
RECNN_API int recnn_layer_create_tied(recnn_layer **out, recnn_layer *encoder, int bias,
                                      int64_t max_batch);
/* Embedding table [n x dim]: y[r] = E[ids[r]], sparse gradient. */
RECNN_API int recnn_layer_create_embedding(recnn_layer **out, int64_t n, int64_t dim,
                                           int64_t max_batch);
/* A fixed activation over rows of dim; alpha < 0 takes the default. */
RECNN_API int recnn_layer_create_activation(recnn_layer **out, int act, int64_t dim,
                                            float alpha, int64_t max_batch);
/* Trainable activation: the adaptive piecewise linear unit (APL) of
 * Agostinelli, Hoffman, Sadowski & Baldi, "Learning Activation Functions
 * to Improve Deep Neural Networks", ICLR 2015 (workshop):
 *     h(x) = max(0, x) + sum_{s=1..hinges} a_s * max(0, -x + b_s)
 * The a_s, b_s are learned with the weights, per unit (per_unit = 1) or
 * shared by the layer (per_unit = 0).  They start at a_s = a0 and b_s
 * evenly spaced in [-1, 1] (b = 0 for one hinge): a0 = 0 starts as a ReLU,
 * hinges = 1 with a0 = -0.25 as a leaky ReLU / PReLU. */
RECNN_API int recnn_layer_create_adaptive(recnn_layer **out, int64_t dim, int hinges,
                                          int per_unit, float a0, int64_t max_batch);
/* Inverted dropout: with train != 0 each value is zeroed with probability
 * rate and the rest scaled by 1/(1-rate); identity at inference. */
RECNN_API int recnn_layer_create_dropout(recnn_layer **out, int64_t dim, float rate,
                                         uint64_t seed, int64_t max_batch);
/* Merges of two branches (NeuMF): [a | b] and a .* b. */
RECNN_API int recnn_layer_create_concat(recnn_layer **out, int64_t dim_a, int64_t dim_b,
                                        int64_t max_batch);
RECNN_API int recnn_layer_create_product(recnn_layer **out, int64_t dim,
                                         int64_t max_batch);
RECNN_API void recnn_layer_free(recnn_layer *l);

/* Input and output widths (concat: in_dim is the first input's width). */
RECNN_API int64_t recnn_layer_in_dim(const recnn_layer *l);
RECNN_API int64_t recnn_layer_out_dim(const recnn_layer *l);

/* Fills the weights (W or the embedding table) from a seeded generator;
 * fan_in/fan_out come from the layer's shape.  Tied layers: no-op. */
RECNN_API int recnn_layer_init(recnn_layer *l, int scheme, float scale, uint64_t seed);

/* The parameters a layer owns ("W", "b", "E", "apl_a", "apl_b"): borrowed
 * pointers valid until recnn_layer_free; value and grad have *count
 * floats.  Any out-pointer may be NULL. */
RECNN_API int recnn_layer_param_count(const recnn_layer *l);
RECNN_API int recnn_layer_param(recnn_layer *l, int i, float **value, float **grad,
                                int64_t *count, const char **name);
/* The rows of parameter i touched since the last zero_grad (sparse-input
 * W, masked W and b, embedding E).  *n_rows = -1 when the gradient is
 * dense (not tracked, or a dense pass touched it).  rows is borrowed. */
RECNN_API int recnn_layer_touched_rows(const recnn_layer *l, int i, const int32_t **rows,
                                       int64_t *n_rows);
RECNN_API void recnn_layer_zero_grad(recnn_layer *l);

/* Dense input (dense, masked/tied in full, activation, adaptive, dropout).
 * backward needs x for dense/adaptive layers and y for activations. */
RECNN_API int recnn_layer_forward(recnn_layer *l, int64_t n, const float *x, float *y,
                                  int train);
RECNN_API int recnn_layer_backward(recnn_layer *l, int64_t n, const float *x,
                                   const float *y, const float *gy, float *gx);
/* Sparse-input layer: x is n CSR rows (row r = entries ptr[r]..ptr[r+1]-1
 * of idx/val; val NULL = all ones).  y is n x units. */
RECNN_API int recnn_layer_forward_sparse(recnn_layer *l, int64_t n, const int64_t *ptr,
                                         const int32_t *idx, const float *val, float *y);
RECNN_API int recnn_layer_backward_sparse(recnn_layer *l, int64_t n, const int64_t *ptr,
                                          const int32_t *idx, const float *val,
                                          const float *gy);
/* Masked output (or tied to a dense encoder): h is n x in; positions of
 * row r are idx[ptr[r]..ptr[r+1]-1]; y[k - ptr[0]] for position k.  gh
 * (n x in, may be NULL) is overwritten. */
RECNN_API int recnn_layer_forward_masked(recnn_layer *l, int64_t n, const float *h,
                                         const int64_t *ptr, const int32_t *idx, float *y);
RECNN_API int recnn_layer_backward_masked(recnn_layer *l, int64_t n, const float *h,
                                          const int64_t *ptr, const int32_t *idx,
                                          const float *gy, float *gh);
/* Embedding lookups. */
RECNN_API int recnn_layer_forward_ids(recnn_layer *l, int64_t n, const int32_t *ids,
                                      float *y);
RECNN_API int recnn_layer_backward_ids(recnn_layer *l, int64_t n, const int32_t *ids,
                                       const float *gy);
/* Two-input merges (concat, product). */
RECNN_API int recnn_layer_forward2(recnn_layer *l, int64_t n, const float *a,
                                   const float *b, float *y);
RECNN_API int recnn_layer_backward2(recnn_layer *l, int64_t n, const float *a,
                                    const float *b, const float *gy, float *ga, float *gb);

/* ---- a sequential network --------------------------------------------------
 * A stack of single-input layers; the first may be a sparse-input layer
 * (then use recnn_net_forward_sparse).  The net owns the activations and
 * input-gradient buffers of its layers (allocated by recnn_net_add). */
RECNN_API int recnn_net_create(recnn_net **out, int64_t max_batch);
/* Frees the net and every layer it owns. */
RECNN_API void recnn_net_free(recnn_net *net);
/* Appends l; the net takes ownership on success (not on failure).  Its
 * in_dim must equal the previous layer's out_dim; merges and embeddings
 * are refused (RECNN_E_UNSUPPORTED).  A layer belongs to at most one net:
 * adding one that a net already owns (this net or another) is
 * RECNN_E_INVALID and changes nothing. */
RECNN_API int recnn_net_add(recnn_net *net, recnn_layer *l);
RECNN_API int recnn_net_n_layers(const recnn_net *net);
RECNN_API recnn_layer *recnn_net_layer(recnn_net *net, int i); /* borrowed */
RECNN_API int recnn_net_init(recnn_net *net, int scheme, float scale, uint64_t seed);
RECNN_API void recnn_net_zero_grad(recnn_net *net);
/* Forward through every layer; *y (borrowed, n x out_dim) is valid until
 * the next forward.  The input is borrowed until recnn_net_backward. */
RECNN_API int recnn_net_forward(recnn_net *net, int64_t n, const float *x, int train,
                                const float **y);
RECNN_API int recnn_net_forward_sparse(recnn_net *net, int64_t n, const int64_t *ptr,
                                       const int32_t *idx, const float *val, int train,
                                       const float **y);
/* Backward from gy (n x out_dim), after the matching forward: adds every
 * layer's parameter gradients. */
RECNN_API int recnn_net_backward(recnn_net *net, int64_t n, const float *gy);

/* ---- losses and penalties -------------------------------------------------
 * Each writes the value to *loss (may be NULL); a loss OVERWRITES grad
 * (may be NULL) with d loss / d input, a penalty ADDS to it.  `scale`
 * multiplies value and gradient (1/n for a mean).  weight NULL = all 1. */

/* scale * sum_k w_k (pred_k - target_k)^2 */
RECNN_API int recnn_loss_mse(int64_t n, const float *pred, const float *target,
                             const float *weight, float scale, float *grad, double *loss);
/* y is n x dim; observed entries of row r: columns idx[ptr[r]..ptr[r+1]-1]
 * with ratings val (NULL = 1).  scale * (sum over observed (y - r)^2 +
 * unobs_w * sum over the others (y - unobs_t)^2). */
RECNN_API int recnn_loss_masked_mse(int64_t n, int64_t dim, const float *y,
                                    const int64_t *ptr, const int32_t *idx, const float *val,
                                    float unobs_w, float unobs_t, float scale, float *grad,
                                    double *loss);
/* Binary cross-entropy on logits, numerically stable:
 * scale * sum_k w_k (max(z,0) - z t + log(1 + exp(-|z|))). */
RECNN_API int recnn_loss_bce_logits(int64_t n, const float *z, const float *t,
                                    const float *weight, float scale, float *grad,
                                    double *loss);
/* lambda/2 * sum w^2 */
RECNN_API int recnn_penalty_l2(int64_t n, const float *w, float lambda, float *grad,
                               double *loss);
/* lambda * sum (l1 |w| + (1 - l1)/2 w^2), l1 in [0, 1] */
RECNN_API int recnn_penalty_elastic(int64_t n, const float *w, float lambda, float l1,
                                    float *grad, double *loss);
/* lambda * sum dist(y, [lo, hi])^2; literal != 0: lambda * sum y^2 over
 * the y outside [lo, hi] (the formula as printed in the autoencoder paper). */
RECNN_API int recnn_penalty_range(int64_t n, const float *y, float lo, float hi,
                                  float lambda, int literal, float *grad, double *loss);

/* Fills w[0..n) with a scheme (see recnn_init) from a generator seeded
 * with seed. */
RECNN_API int recnn_init_fill(float *w, int64_t n, int scheme, int64_t fan_in,
                              int64_t fan_out, float scale, uint64_t seed);

/* ---- optimizers -------------------------------------------------------------
 * An optimizer updates a list of (value, gradient) buffers it borrows.
 * Parameters with a row-sparse gradient (sparse-input, masked, embedding)
 * are updated "lazily": only the touched rows, whose state (momentum,
 * Adam moments) alone advances; Adam's bias correction uses the global
 * step count.  Hyper-parameters by key (recnn_optimizer_set):
 *   lr, momentum (0.9), rho (0.9), beta1 (0.9), beta2 (0.999), eps (1e-8),
 *   weight_decay (0; coupled L2 for SGD/momentum/RMSProp/RProp, decoupled
 *   for Adam = AdamW; applies to weights, not biases), eta_plus (1.2),
 *   eta_minus (0.5), step_min (1e-6), step_max (50), step_init (= lr;
 *   setting lr on RProp sets it too; clamped to [step_min, step_max] as
 *   torch.optim.Rprop does), clip_value (0 = off; clamps each gradient
 *   value), clip_norm (0 = off; rescales all gradients when their global
 *   L2 norm exceeds it).  Rates and steps must be > 0 and finite as floats;
 *   rho, beta1 and beta2 at most 0.99999 (1 - beta is taken in float). */
RECNN_API int recnn_optimizer_create(recnn_optimizer **out, int kind, double lr);
RECNN_API void recnn_optimizer_free(recnn_optimizer *o);
RECNN_API int recnn_optimizer_set(recnn_optimizer *o, const char *key, double value);
RECNN_API int recnn_optimizer_get(const recnn_optimizer *o, const char *key, double *value);
/* Adds caller buffers (borrowed; must outlive the optimizer). */
RECNN_API int recnn_optimizer_add(recnn_optimizer *o, float *value, float *grad,
                                  int64_t count);
/* Adds a layer's / every layer's own parameters (borrowed). */
RECNN_API int recnn_optimizer_add_layer(recnn_optimizer *o, recnn_layer *l);
RECNN_API int recnn_optimizer_add_net(recnn_optimizer *o, recnn_net *net);
/* Learning-rate schedule, advanced by recnn_optimizer_epoch_end. */
RECNN_API int recnn_optimizer_set_schedule(recnn_optimizer *o, int schedule, double gamma,
                                           int64_t step_size);
RECNN_API int recnn_optimizer_epoch_end(recnn_optimizer *o);
/* One update from the current gradients (clipped first).  Does not zero
 * the gradients.  RECNN_E_NUMERIC when a gradient is NaN/Inf (nothing is
 * changed then). */
RECNN_API int recnn_optimizer_step(recnn_optimizer *o);
/* Global gradient norm seen by the last step: after clip_value, before
 * the clip_norm rescaling (the norm that clip_norm compares). */
RECNN_API double recnn_optimizer_grad_norm(const recnn_optimizer *o);
/* State for resuming training: counters, hyper-parameters, learning-rate
 * schedule position and moment buffers, as a self-checking byte blob.
 * Load requires an optimizer of the same kind over parameters of the same
 * sizes in the same order. */
RECNN_API size_t recnn_optimizer_state_size(const recnn_optimizer *o);
RECNN_API int recnn_optimizer_state_save(const recnn_optimizer *o, void *buf, size_t size);
RECNN_API int recnn_optimizer_state_load(recnn_optimizer *o, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
