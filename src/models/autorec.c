/* AutoRec (Sedhain, Menon, Sanner, Xie: "AutoRec: Autoencoders Meet
 * Collaborative Filtering", WWW 2015), item-based (I-AutoRec) and
 * user-based (U-AutoRec).
 *
 * A row is one partially observed rating vector: item i's ratings by the
 * users (I-AutoRec, the dataset's CSC view) or user u's ratings of the
 * items (U-AutoRec, the CSR view).  With d = the other side's size,
 *   h(r) = f(W g(V r + mu) + b),  V: k x d, W: d x k,
 * and the objective is the paper's equation (2):
 *   sum over observed (row, col) of (r - h(r)_col)^2 + l2/2 (|W|^2 + |V|^2).
 * Built only from src/nn parts: a sparse-input layer (V, mu; cost nnz x k),
 * the activation g, a masked output layer (W, b) evaluated only at the
 * observed positions, f, the masked MSE, L2 and an optimizer (iRprop- full
 * batch by default).  Nothing of size users x items is ever allocated.
 *
 * After training the model keeps the hidden code of every row (rows x k):
 * a prediction is then one dot product, code[row] . W[col] + b[col]. */
#include "model.h"

#include "../nn/nn.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ACT_CHOICES "identity|sigmoid|tanh|relu|leaky_relu|elu|selu"

typedef struct autorec_cfg {
    char variant[RECNN__STR_MAX];
    int64_t hidden;
    char g[RECNN__STR_MAX];
    char f[RECNN__STR_MAX];
    double l2;
    char optimizer[RECNN__STR_MAX];
    double lr;
    int64_t batch;
    int64_t epochs;
    int64_t patience;
    int64_t seed;
    double default_rating;
} autorec_cfg;

static const recnn__setting autorec_settings[] = {
    {"variant", RECNN__SET_STR, offsetof(autorec_cfg, variant), 0, 0, 0, "item",
     "item|user",
     "item: I-AutoRec (one input row per item: its ratings by the users); user: "
     "U-AutoRec (one row per user)"},
    {"hidden", RECNN__SET_INT, offsetof(autorec_cfg, hidden), 500, 1, 65536, NULL, NULL,
     "hidden units k"},
    {"g", RECNN__SET_STR, offsetof(autorec_cfg, g), 0, 0, 0, "sigmoid", ACT_CHOICES,
     "hidden activation g"},
    {"f", RECNN__SET_STR, offsetof(autorec_cfg, f), 0, 0, 0, "identity", ACT_CHOICES,
     "output activation f (sigmoid/tanh: ratings are mapped linearly onto f's range)"},
    {"l2", RECNN__SET_FLOAT, offsetof(autorec_cfg, l2), 100, 0, 1e12, NULL, NULL,
     "lambda: objective = sum of squared errors over observed ratings + "
     "lambda/2 (|W|^2 + |V|^2)"},
    {"optimizer", RECNN__SET_STR, offsetof(autorec_cfg, optimizer), 0, 0, 0, "rprop",
     "rprop|adam|sgd|momentum|nesterov|rmsprop",
     "rprop (iRprop-, full batch by default, the paper's choice) or a mini-batch "
     "optimizer"},
    {"lr", RECNN__SET_FLOAT, offsetof(autorec_cfg, lr), 0, 0, 1e3, NULL, NULL,
     "learning rate (RProp: initial step); 0 = the optimizer's default (rprop 0.01, "
     "adam/rmsprop 0.001, sgd/momentum/nesterov 0.1); gradients are of the "
     "objective divided by the number of ratings"},
    {"batch", RECNN__SET_INT, offsetof(autorec_cfg, batch), 0, 0, 2147483647.0, NULL,
     NULL, "rows per step; 0 = full batch for rprop, 64 for the others"},
    {"epochs", RECNN__SET_INT, offsetof(autorec_cfg, epochs), 500, 1, 1000000, NULL,
     NULL, "maximum epochs (full passes over the rows)"},
    {"patience", RECNN__SET_INT, offsetof(autorec_cfg, patience), 30, 0, 1000000,
     NULL, NULL,
     "with a validation set: stop after this many epochs without a better "
     "validation RMSE and keep the best epoch (0 = run every epoch)"},
    {"seed", RECNN__SET_INT, offsetof(autorec_cfg, seed), 1, 0, 9007199254740992.0,
     NULL, NULL, "random seed (initial weights, batch order)"},
    {"default_rating", RECNN__SET_FLOAT, offsetof(autorec_cfg, default_rating), 3,
     -1e9, 1e9, NULL, NULL,
     "prediction for users or items without training ratings"},
};

/* ---- state ---------------------------------------------------------------- */

typedef struct autorec_state {
    int item_based;
    int64_t n_rows, n_cols, k; /* rows: items (I) / users (U); cols: the other */
    int64_t ld;                /* row stride of V, W, the codes and their gradients:
                                * k padded to whole vectors (recnn__row_stride) */
    recnn__layer *enc;         /* sparse-input [n_cols x k] + mu (k) */
    recnn__layer *dec;         /* masked output [n_cols x k] + b (n_cols) */
    float *codes;              /* n_rows x k (rows ld apart): g(V r + mu) of every row */
    int32_t *item_n;           /* training ratings per item (n_items) */
    float out_map[2];          /* prediction = out_map[0] + out_map[1] * f(.) */
    int g, f;
    float ga, fa;
    float def;                 /* default_rating */
} autorec_state;

static int act_of(const char *name, float *alpha)
{
    int a = recnn__act_from_name(name);
    *alpha = a >= 0 ? recnn__act_default_alpha(a) : 0.0f;
    return a;
}

/* Output mapping for a bounded f: the rating scale onto f's range. */
static void output_map(int f, float lo, float hi, float map[2])
{
    if (!(hi > lo)) { /* one rating value: a unit range around it */
        lo -= 0.5f;
        hi = lo + 1.0f;
    }
    if (f == RECNN__ACT_SIGMOID) {
        map[0] = lo;
        map[1] = hi - lo;
    } else if (f == RECNN__ACT_TANH) {
        map[0] = 0.5f * (lo + hi);
        map[1] = 0.5f * (hi - lo);
    } else {
        map[0] = 0.0f;
        map[1] = 1.0f;
    }
}

static void state_free(autorec_state *s)
{
    if (!s)
        return;
    recnn__layer_free(s->enc);
    recnn__layer_free(s->dec);
    recnn__free(s->codes);
    recnn__free(s->item_n);
    free(s);
}

static void autorec_free_state(recnn_model *m)
{
    state_free(m->state);
    m->state = NULL;
}

/* A state with layers sized for m's dimensions and config (weights zero). */
static int state_new(const recnn_model *m, int64_t max_batch, autorec_state **out)
{
    const autorec_cfg *c = RECNN__CFG(m, autorec_cfg);
    autorec_state *s = calloc(1, sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "autorec: out of memory");
    s->item_based = strcmp(c->variant, "user") != 0;
    s->n_rows = s->item_based ? m->n_items : m->n_users;
    s->n_cols = s->item_based ? m->n_users : m->n_items;
    s->k = c->hidden;
    /* Every pass streams one k-float row of V, W or the codes per rating:
     * rows that start on a vector boundary never split a load across two
     * cache lines (ML-100K, k = 500, 1 thread: a 9 % shorter epoch,
     * docs/PERFORMANCE.md section 6). */
    s->ld = recnn__row_stride(s->k);
    s->g = act_of(c->g, &s->ga);
    s->f = act_of(c->f, &s->fa);
    s->def = (float)c->default_rating;
    output_map(s->f, m->scale_min, m->scale_max, s->out_map);
    int st = RECNN_OK;
    if (s->g < 0 || s->f < 0)
        st = recnn__fail(RECNN_E_INVALID, "autorec: unknown activation g=%s f=%s", c->g,
                         c->f);
    if (st == RECNN_OK)
        st = recnn__sparse_create_ld(&s->enc, s->n_cols, s->k, s->ld, 1, max_batch);
    if (st == RECNN_OK)
        st = recnn__masked_create_ld(&s->dec, s->k, s->n_cols, s->ld, 1, max_batch);
    if (st == RECNN_OK) {
        s->codes = recnn__calloc((size_t)s->n_rows, (size_t)s->ld * sizeof(float));
        s->item_n = recnn__calloc((size_t)(m->n_items ? m->n_items : 1), sizeof(int32_t));
        if (!s->codes || !s->item_n)
            st = recnn__fail(RECNN_E_NOMEM,
                             "autorec: out of memory for %lld x %lld hidden codes",
                             (long long)s->n_rows, (long long)s->k);
    }
    if (st != RECNN_OK) {
        state_free(s);
        return st;
    }
    *out = s;
    return RECNN_OK;
}

/* ---- tensors (persistence and best-epoch snapshots) ----------------------- */

static int autorec_tensors(const recnn_model *m, recnn__tensor *t, int max)
{
    const autorec_state *s = m->state;
    if (!s || max < 6)
        return 0;
    /* the padded matrices as their k columns (files hold them packed) */
    t[0] = (recnn__tensor){"V", RECNN__F32, s->n_cols * s->k, s->enc->pw->w, s->k, s->ld};
    t[1] = (recnn__tensor){"mu", RECNN__F32, s->enc->pb->count, s->enc->pb->w, 0, 0};
    t[2] = (recnn__tensor){"W", RECNN__F32, s->n_cols * s->k, s->dec->pw->w, s->k, s->ld};
    t[3] = (recnn__tensor){"b", RECNN__F32, s->dec->pb->count, s->dec->pb->w, 0, 0};
    t[4] = (recnn__tensor){"codes", RECNN__F32, s->n_rows * s->k, s->codes, s->k, s->ld};
    t[5] = (recnn__tensor){"item_n", RECNN__I32, m->n_items, s->item_n, 0, 0};
    return 6;
}

static int autorec_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    autorec_state *s;
    int st = state_new(m, 1, &s);
    if (st)
        return st;
    autorec_free_state(m);
    m->state = s;
    recnn__tensor want[6];
    int nw = autorec_tensors(m, want, 6);
    st = recnn__tensors_copy_in(m, want, nw, t, n);
    if (st)
        autorec_free_state(m);
    return st;
}

/* ---- prediction ------------------------------------------------------------ */

static inline float apply_f(const autorec_state *s, float z)
{
    float y = z;
    if (s->f != RECNN__ACT_IDENTITY)
        recnn__act_forward(s->f, s->fa, 1, 1, &z, &y);
    return s->out_map[0] + s->out_map[1] * y;
}

static int autorec_predict(const recnn_model *m, int64_t n, const int32_t *u,
                           const int32_t *i, float *out)
{
    const autorec_state *s = m->state;
    const int64_t k = s->k, ld = s->ld;
    const float *W = s->dec->pw->w, *b = s->dec->pb->w;
#pragma omp parallel for num_threads(recnn__threads()) schedule(static)
    for (int64_t p = 0; p < n; p++) {
        if (s->item_n[i[p]] == 0) {
            out[p] = s->def;
            continue;
        }
        int64_t row = s->item_based ? i[p] : u[p];
        int64_t col = s->item_based ? u[p] : i[p];
        const float *h = s->codes + row * ld, *w = W + col * ld;
        float z = 0.0f;
#pragma omp simd reduction(+ : z)
        for (int64_t j = 0; j < k; j++)
            z += h[j] * w[j];
        out[p] = apply_f(s, z + b[col]);
    }
    return RECNN_OK;
}

/* scores[i] for every item from the pre-activations z[i] (in place). */
static void finish_scores(const autorec_state *s, int64_t n_items, float *scores)
{
    if (s->f != RECNN__ACT_IDENTITY)
        recnn__act_forward(s->f, s->fa, 1, n_items, scores, scores);
    for (int64_t i = 0; i < n_items; i++)
        scores[i] = s->item_n[i] ? s->out_map[0] + s->out_map[1] * scores[i] : s->def;
}

static int autorec_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const autorec_state *s = m->state;
    if (s->item_based) {
        /* z_i = code_i . W[u] + b[u] */
        float bu = s->dec->pb->w[u];
        for (int64_t i = 0; i < m->n_items; i++)
            scores[i] = bu;
        recnn__gemv_ld(false, 1.0f, s->codes, s->n_rows, s->k, s->ld,
                       s->dec->pw->w + (int64_t)u * s->ld, 1.0f, scores);
    } else {
        /* z = W code_u + b */
        memcpy(scores, s->dec->pb->w, (size_t)m->n_items * sizeof *scores);
        recnn__gemv_ld(false, 1.0f, s->dec->pw->w, s->n_cols, s->k, s->ld,
                       s->codes + (int64_t)u * s->ld, 1.0f, scores);
    }
    finish_scores(s, m->n_items, scores);
    return RECNN_OK;
}

/* Fold-in.  U-AutoRec: the new user's ratings are one more input row, so
 * its code is g(V r + mu) and its scores f(W code + b), exactly as for a
 * training user.  I-AutoRec: the new user would be a new input and output
 * coordinate; its input weights are unknown, so its (small) effect on the
 * item codes is left out, and its output weights (W row, bias) are the
 * minimiser of the training objective restricted to that row with
 * everything else fixed: sum over its rated items of (r - f(code_i . w +
 * b))^2 + l2/2 |w|^2 (ridge regression for identity f; Gauss-Newton
 * otherwise). */
static int score_new_user_based(const recnn_model *m, int64_t n, const int32_t *items,
                                const float *ratings, float *scores)
{
    const autorec_state *s = m->state;
    const int64_t k = s->k;
    float *h = recnn__alloc((size_t)k, sizeof *h);
    if (!h)
        return RECNN_E_NOMEM;
    memcpy(h, s->enc->pb->w, (size_t)k * sizeof *h);
    for (int64_t j = 0; j < n; j++)
        recnn__axpy(k, ratings[j], s->enc->pw->w + (int64_t)items[j] * s->ld, h);
    recnn__act_forward(s->g, s->ga, 1, k, h, h);
    memcpy(scores, s->dec->pb->w, (size_t)m->n_items * sizeof *scores);
    recnn__gemv_ld(false, 1.0f, s->dec->pw->w, s->n_cols, k, s->ld, h, 1.0f, scores);
    finish_scores(s, m->n_items, scores);
    recnn__free(h);
    return RECNN_OK;
}

static int score_new_item_based(const recnn_model *m, int64_t n, const int32_t *items,
                                const float *ratings, float *scores)
{
    const autorec_state *s = m->state;
    const autorec_cfg *c = RECNN__CFG(m, autorec_cfg);
    const int64_t k = s->k, q = k + 1;
    float *A = recnn__alloc((size_t)(q * q), sizeof *A);
    float *rhs = recnn__alloc((size_t)q, sizeof *rhs);
    float *theta = recnn__calloc((size_t)q, sizeof *theta);
    float *x = recnn__alloc((size_t)q, sizeof *x);
    int st = RECNN_OK;
    if (!A || !rhs || !theta || !x) {
        st = RECNN_E_NOMEM;
        goto done;
    }
    /* theta = (w, b); Gauss-Newton on sum_j (t_j - f(x_j . theta))^2 +
     * l2/2 |w|^2 with x_j = (code_j, 1), t_j the rating in f's units. */
    const float ridge = (float)(c->l2 > 0 ? 0.5 * c->l2 : 1e-4);
    const int iters = s->f == RECNN__ACT_IDENTITY ? 1 : 15;
    for (int it = 0; it < iters; it++) {
        memset(A, 0, (size_t)(q * q) * sizeof *A);
        memset(rhs, 0, (size_t)q * sizeof *rhs);
        for (int64_t j = 0; j < n; j++) {
            if (s->item_n[items[j]] == 0)
                continue;
            const float *h = s->codes + (int64_t)items[j] * s->ld;
            memcpy(x, h, (size_t)k * sizeof *x);
            x[k] = 1.0f;
            float a = recnn__dot(q, x, theta), y = a, d = 1.0f;
            if (s->f != RECNN__ACT_IDENTITY) {
                float one = 1.0f;
                recnn__act_forward(s->f, s->fa, 1, 1, &a, &y);
                recnn__act_backward(s->f, s->fa, 1, 1, &y, &one, &d);
            }
            float t = (ratings[j] - s->out_map[0]) / s->out_map[1];
            /* A += d^2 x x^T (upper triangle), rhs += d (t - y) x */
            for (int64_t r = 0; r < q; r++) {
                float xr = d * d * x[r];
                float *Ar = A + r * q;
                for (int64_t cc = r; cc < q; cc++)
                    Ar[cc] += xr * x[cc];
            }
            recnn__axpy(q, d * (t - y), x, rhs);
        }
        for (int64_t r = 0; r < q; r++)
            for (int64_t cc = 0; cc < r; cc++)
                A[r * q + cc] = A[cc * q + r];
        for (int64_t r = 0; r < k; r++) {
            A[r * q + r] += ridge;
            rhs[r] -= ridge * theta[r];
        }
        A[k * q + k] += 1e-4f; /* keeps the bias well posed with no rating */
        st = recnn__posv(q, 1, A, rhs);
        if (st)
            goto done;
        recnn__axpy(q, 1.0f, rhs, theta);
    }
    /* z_i = code_i . w + b */
    for (int64_t i = 0; i < m->n_items; i++)
        scores[i] = theta[k];
    recnn__gemv_ld(false, 1.0f, s->codes, s->n_rows, k, s->ld, theta, 1.0f, scores);
    finish_scores(s, m->n_items, scores);
done:
    recnn__free(A);
    recnn__free(rhs);
    recnn__free(theta);
    recnn__free(x);
    if (st == RECNN_E_NOMEM)
        return recnn__fail(st, "autorec: out of memory in fold-in");
    return st;
}

static int autorec_score_new(const recnn_model *m, int64_t n, const int32_t *items,
                             const float *ratings, float *scores)
{
    const autorec_state *s = m->state;
    int st = s->item_based ? score_new_item_based(m, n, items, ratings, scores)
                           : score_new_user_based(m, n, items, ratings, scores);
    if (st == RECNN_E_NOMEM)
        return recnn__fail(st, "autorec: out of memory in fold-in");
    return st;
}

/* ---- training ---------------------------------------------------------------- */

typedef struct train_ctx {
    recnn_model *m;
    autorec_state *s;
    recnn__csr rows;      /* every row of the training data (sel = NULL) */
    recnn__csrt rows_t;   /* its transpose (full batch only) */
    recnn__optim *opt;
    recnn__param *ps[8];
    int nps;
    int64_t max_batch;    /* rows per step */
    int64_t max_nnz;      /* ratings in the largest possible step */
    float *hb, *gh;       /* max_batch x k, rows ld apart (mini-batch codes; hidden
                           * gradient) */
    float *y, *gy, *tgt;  /* max_nnz */
    double lambda_n;      /* l2 / n_ratings */
    double last_pen;      /* the penalty of the last step (before it) */
    double n_ratings;
} train_ctx;

/* codes[r0 .. r0+n) = g(V x_r + mu) for consecutive rows (n <= max_batch). */
static int encode_rows(train_ctx *t, int64_t r0, int64_t n, float *out)
{
    autorec_state *s = t->s;
    recnn__csr x = {n, t->rows.ptr + r0, t->rows.idx, t->rows.val, NULL, t->rows.cols_ok};
    return recnn__sparse_forward_act(s->enc, &x, s->g, s->ga, out);
}

static int encode_all(train_ctx *t)
{
    for (int64_t r0 = 0; r0 < t->s->n_rows; r0 += t->max_batch) {
        int64_t n = t->s->n_rows - r0 < t->max_batch ? t->s->n_rows - r0 : t->max_batch;
        int st = encode_rows(t, r0, n, t->s->codes + r0 * t->s->ld);
        if (st)
            return st;
    }
    return RECNN_OK;
}

/* One gradient step on the batch x whose codes h (x->n x k) are computed;
 * returns the sum of squared errors in f's units through *sse. */
static int step_batch(train_ctx *t, const recnn__csr *x, const float *h, const float *tgt,
                      int64_t nnz, double *sse)
{
    autorec_state *s = t->s;
    int st;
    /* the full batch has its transpose: gradients gathered per weight row */
    const recnn__csrt *xt = x->sel ? NULL : &t->rows_t;
    const float scale = (float)(1.0 / (double)nnz); /* the objective per rating */
    if (s->f == RECNN__ACT_IDENTITY && xt) {
        /* output, squared error, its backward, g's derivative, and each
         * weight row's L2 term and norm, in two passes (nn.h,
         * recnn__grad_fuse): the passes write the gradients, so no
         * zero_grad, no L2 pass, no norm pass */
        double loss = 0;
        recnn__grad_fuse fd = {(float)t->lambda_n, 0, 0}, fe = fd;
        if ((st = recnn__masked_mse_t(s->dec, h, x, xt, tgt, scale, s->g, s->ga, t->gy, t->gh,
                                      &loss, &fd)) ||
            (st = recnn__sparse_backward_t(s->enc, x, xt, t->gh, &fe)))
            return st;
        *sse = loss * (double)nnz;
        t->last_pen = fd.penalty + fe.penalty;
        recnn__param *known[2] = {s->dec->pw, s->enc->pw};
        const double gsq[2] = {fd.gsq, fe.gsq};
        return recnn__optim_step_gsq(t->opt, known, gsq, 2);
    }
    recnn__params_zero_grad(t->ps, t->nps);
    if (s->f == RECNN__ACT_IDENTITY) {
        double loss = 0;
        if ((st = recnn__masked_mse_t(s->dec, h, x, xt, tgt, scale, s->g, s->ga, t->gy, t->gh,
                                      &loss, NULL)))
            return st;
        *sse = loss * (double)nnz;
    } else {
        if ((st = recnn__masked_forward(s->dec, h, x, t->y)))
            return st;
        recnn__act_forward(s->f, s->fa, 1, nnz, t->y, t->y);
        /* d/dy of (1/nnz) sum (y - t)^2: the objective per rating */
        *sse = recnn__loss_mse(nnz, t->y, tgt, NULL, scale, t->gy) * (double)nnz;
        recnn__act_backward(s->f, s->fa, 1, nnz, t->y, t->gy, t->gy);
        if ((st = recnn__masked_backward_t(s->dec, h, x, xt, t->gy, t->gh)))
            return st;
        for (int64_t r = 0; r < x->n; r++)
            recnn__act_backward(s->g, s->ga, 1, s->k, h + r * s->ld, t->gh + r * s->ld,
                                t->gh + r * s->ld);
    }
    if ((st = recnn__sparse_backward_t(s->enc, x, xt, t->gh, NULL)))
        return st;
    if (t->lambda_n > 0)
        t->last_pen = recnn__params_l2(t->ps, t->nps, (float)t->lambda_n);
    return recnn__optim_step(t->opt);
}

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* The objective per rating (in rating units) from the data term. */
static double objective(const train_ctx *t, double sse, int full)
{
    const autorec_state *s = t->s;
    /* full batch: the penalty of the step's weights (over the rows it
     * touched: every row with a rating), as computed for the gradient */
    double pen = full ? t->last_pen : 0;
    if (!full && t->lambda_n > 0) {
        pen += recnn__penalty_l2(s->enc->pw->count, s->enc->pw->w, (float)t->lambda_n,
                                 NULL);
        pen += recnn__penalty_l2(s->dec->pw->count, s->dec->pw->w, (float)t->lambda_n,
                                 NULL);
    }
    double sc = (double)s->out_map[1];
    return (sse / t->n_ratings + pen) * sc * sc;
}

static int autorec_fit(recnn_model *m, const recnn_dataset *train,
                       const recnn_dataset *valid)
{
    const autorec_cfg *c = RECNN__CFG(m, autorec_cfg);
    const int item_based = strcmp(c->variant, "user") != 0;
    const int kind = recnn__optim_from_name(c->optimizer);
    if (kind < 0)
        return recnn__fail(RECNN_E_INVALID, "autorec: unknown optimizer \"%s\"",
                           c->optimizer);
    const int64_t n_rows = item_based ? train->n_items : train->n_users;
    const int full = c->batch == 0 ? kind == RECNN__OPT_RPROP : c->batch >= n_rows;
    int64_t max_batch = full ? n_rows : c->batch ? c->batch : 64;
    if (max_batch > n_rows)
        max_batch = n_rows;
    if (max_batch < 1)
        max_batch = 1;

    train_ctx t;
    memset(&t, 0, sizeof t);
    t.m = m;
    autorec_state *s;
    int st = state_new(m, max_batch, &s);
    if (st)
        return st;
    m->state = s;
    t.s = s;
    t.max_batch = max_batch;
    t.n_ratings = (double)train->n_ratings;
    t.lambda_n = c->l2 / t.n_ratings;
    /* a dataset view: its columns were validated when it was built */
    t.rows = item_based
                 ? (recnn__csr){n_rows, train->col_ptr, train->col_user, train->col_value,
                                NULL, s->n_cols}
                 : (recnn__csr){n_rows, train->row_ptr, train->item, train->value, NULL,
                                s->n_cols};
    for (int64_t i = 0; i < m->n_items; i++)
        s->item_n[i] = (int32_t)(train->col_ptr[i + 1] - train->col_ptr[i]);

    /* the largest step: the max_batch longest rows */
    if (full) {
        t.max_nnz = train->n_ratings;
    } else {
        int64_t *len = recnn__alloc((size_t)n_rows, sizeof *len);
        if (!len)
            return RECNN_E_NOMEM;
        for (int64_t r = 0; r < n_rows; r++)
            len[r] = t.rows.ptr[r + 1] - t.rows.ptr[r];
        qsort(len, (size_t)n_rows, sizeof *len, cmp_i64_desc);
        for (int64_t r = 0; r < max_batch; r++)
            t.max_nnz += len[r];
        recnn__free(len);
    }

    recnn_rng rng;
    recnn__rng_seed(&rng, (uint64_t)c->seed);
    int32_t *perm = NULL;
    double lr = c->lr;
    if (lr <= 0)
        lr = kind == RECNN__OPT_RPROP                                 ? 0.01
             : kind == RECNN__OPT_ADAM || kind == RECNN__OPT_RMSPROP ? 0.001
                                                                      : 0.1;
    /* initial weights: U(+-1/sqrt(fan_in)) (the usual default for linear
     * layers) */
    st = recnn__layer_init(s->enc, RECNN__INIT_UNIFORM, (float)(1.0 / sqrt((double)s->n_cols)),
                           &rng);
    if (st == RECNN_OK)
        st = recnn__layer_init(s->dec, RECNN__INIT_UNIFORM,
                               (float)(1.0 / sqrt((double)s->k)), &rng);
    /* biases as the usual linear-layer default too, U(+-1/sqrt(fan_in)):
     * on ML-100K this reaches a better validation RMSE than starting b at
     * the mean rating (0.8817 vs 0.8874 and 0.9048 vs 0.9088 on two
     * splits), with more epochs */
    if (st == RECNN_OK) {
        const float a = (float)(1.0 / sqrt((double)s->n_cols));
        const float b = (float)(1.0 / sqrt((double)s->k));
        for (int64_t j = 0; j < s->k; j++)
            s->enc->pb->w[j] = a * (2.0f * recnn__rng_uniformf(&rng) - 1.0f);
        for (int64_t j = 0; j < s->n_cols; j++)
            s->dec->pb->w[j] = b * (2.0f * recnn__rng_uniformf(&rng) - 1.0f);
    }
    if (st == RECNN_OK)
        st = recnn__optim_create(&t.opt, kind, lr);
    if (st == RECNN_OK)
        st = recnn__optim_add_layer(t.opt, s->enc);
    if (st == RECNN_OK)
        st = recnn__optim_add_layer(t.opt, s->dec);
    if (st == RECNN_OK) {
        t.nps = recnn__layer_params(s->enc, t.ps, 8);
        t.nps += recnn__layer_params(s->dec, t.ps + t.nps, 8 - t.nps);
        t.gh = recnn__calloc((size_t)max_batch, (size_t)s->ld * sizeof(float));
        t.hb = full ? NULL : recnn__calloc((size_t)max_batch, (size_t)s->ld * sizeof(float));
        /* outputs are kept only for a non-identity f (the fused identity
         * path goes straight to their gradient) */
        const int need_y = s->f != RECNN__ACT_IDENTITY;
        t.y = need_y ? recnn__alloc((size_t)t.max_nnz, sizeof(float)) : NULL;
        t.gy = recnn__alloc((size_t)t.max_nnz, sizeof(float));
        int need_tgt = !full || s->out_map[0] != 0.0f || s->out_map[1] != 1.0f;
        t.tgt = need_tgt ? recnn__alloc((size_t)t.max_nnz, sizeof(float)) : NULL;
        perm = full ? NULL : recnn__alloc((size_t)n_rows, sizeof *perm);
        if (!t.gh || (!full && (!t.hb || !perm)) || (need_y && !t.y) || !t.gy ||
            (need_tgt && !t.tgt))
            st = recnn__fail(RECNN_E_NOMEM,
                             "autorec: out of memory for training buffers (%lld ratings "
                             "per step)",
                             (long long)t.max_nnz);
    }
    /* full batch: the targets, once */
    if (st == RECNN_OK && full && t.tgt) {
        for (int64_t e = 0; e < train->n_ratings; e++)
            t.tgt[e] = (t.rows.val[e] - s->out_map[0]) / s->out_map[1];
    }
    if (st == RECNN_OK && perm)
        for (int64_t r = 0; r < n_rows; r++)
            perm[r] = (int32_t)r;
    /* the full batch's transpose is the dataset's other view */
    if (st == RECNN_OK && full)
        st = item_based ? recnn__csrt_build_from(&t.rows, s->n_cols, train->row_ptr,
                                                 train->item, &t.rows_t)
                        : recnn__csrt_build_from(&t.rows, s->n_cols, train->col_ptr,
                                                 train->col_user, &t.rows_t);
    /* codes of the initial weights: the full batch's first forward */
    if (st == RECNN_OK)
        st = encode_all(&t);

    for (int64_t epoch = 1; st == RECNN_OK && epoch <= c->epochs; epoch++) {
        double t0 = recnn__now(), sse = 0;
        if (full) {
            st = step_batch(&t, &t.rows, s->codes, t.tgt ? t.tgt : t.rows.val,
                            train->n_ratings, &sse);
        } else {
            recnn__rng_shuffle_i32(&rng, perm, (size_t)n_rows);
            for (int64_t b0 = 0; st == RECNN_OK && b0 < n_rows; b0 += max_batch) {
                int64_t nb = n_rows - b0 < max_batch ? n_rows - b0 : max_batch;
                recnn__csr x = {nb, t.rows.ptr, t.rows.idx, t.rows.val, perm + b0,
                                t.rows.cols_ok};
                int64_t nnz = 0;
                for (int64_t r = 0; r < nb; r++) {
                    int64_t a = t.rows.ptr[perm[b0 + r]], z = t.rows.ptr[perm[b0 + r] + 1];
                    for (int64_t e = a; e < z; e++)
                        t.tgt[nnz++] = (t.rows.val[e] - s->out_map[0]) / s->out_map[1];
                }
                if (nnz == 0)
                    continue;
                double b_sse = 0;
                st = recnn__sparse_forward_act(s->enc, &x, s->g, s->ga, t.hb);
                if (st == RECNN_OK)
                    st = step_batch(&t, &x, t.hb, t.tgt, nnz, &b_sse);
                sse += b_sse;
            }
        }
        if (st != RECNN_OK)
            break;
        if (!isfinite(sse)) {
            st = recnn__fail(RECNN_E_NUMERIC,
                             "autorec: the training loss diverged at epoch %lld (lower "
                             "lr or raise l2)",
                             (long long)epoch);
            break;
        }
        /* codes of the updated weights: used for validation now and as the
         * next full-batch step's forward pass */
        if ((st = encode_all(&t)))
            break;
        m->train_seconds = recnn__now() - t0;
        double vr = recnn__valid_rmse(m, valid);
        double secs = recnn__now() - t0;
        int stop = recnn__fit_epoch(m, (int)epoch, objective(&t, sse, full), vr, "rmse", 1,
                                    (int)c->patience, secs);
        if (stop < 0) /* the best-epoch snapshot could not be allocated */
            st = RECNN_E_NOMEM;
        if (stop)
            break;
    }
    recnn__optim_free(t.opt);
    recnn__csrt_free(&t.rows_t);
    recnn__free(t.gh);
    recnn__free(t.hb);
    recnn__free(t.y);
    recnn__free(t.gy);
    recnn__free(t.tgt);
    recnn__free(perm);
    return st;
}

const recnn__model_vt recnn__vt_autorec = {
    .kind = "autorec",
    .doc = "AutoRec (Sedhain et al. 2015): item- or user-based autoencoder of "
           "partially observed rating vectors",
    .settings = autorec_settings,
    .n_settings = (int)(sizeof autorec_settings / sizeof autorec_settings[0]),
    .config_size = sizeof(autorec_cfg),
    .fit = autorec_fit,
    .predict = autorec_predict,
    .score_user = autorec_score_user,
    .score_new = autorec_score_new,
    .tensors = autorec_tensors,
    .restore = autorec_restore,
    .free_state = autorec_free_state,
};
