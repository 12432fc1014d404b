/* Deep autoencoders of rating vectors: two model kinds on one engine.
 *
 * "deep_ae": the user-based deep autoencoder of Kuchaiev & Ginsburg 2017
 * ("Training Deep AutoEncoders for Collaborative Filtering") as the
 * Netflix paper (../shared/papers/deep-autoencoder-netflix.txt) uses it:
 * any number of encoder layers ("layers=128,256,256"), a mirrored decoder,
 * SELU by default, dropout on the code (or on every encoder layer), tied
 * weights (decoder = encoder transposed), dense re-feeding, masked MSE,
 * momentum SGD (lr 0.005, momentum 0.9, batches of 32 rows).
 *
 * "item_ae": the item autoencoder of the AE/MF/KNN MovieLens paper
 * (../shared/papers/autoencoder-mf-knn-movielens.txt): the same engine with
 * other defaults: one row per item (its ratings by the users), a sigmoid
 * hidden layer of 100 units, ReLU output, elastic-net penalty (l1 share
 * 0.9), a penalty on outputs outside the rating scale, Adam (lr 0.01,
 * beta1 0.9, beta2 0.99), learning rate and penalties x0.9 every 10 epochs.
 * Every setting of one kind exists in the other; only defaults differ.
 *
 * Network, for K encoder widths H[0..K) and row length d (items for
 * variant=user, users for variant=item):
 *   stage 0       sparse-input linear d -> H[0], act        (cost nnz x H[0])
 *   stage 1..K-1  dense linear H[s-1] -> H[s], act           (the code is
 *                 stage K-1's output; dropout there, or after every
 *                 encoder stage with dropout_at=encoder)
 *   stage K..2K-2 dense linear H[j] -> H[j-1] (j = 2K-1-s), act: the mirror
 *                 (tied: the transpose of encoder stage j's W, own bias)
 *   output        masked linear H[0] -> d (tied: encoder stage 0's W
 *                 transposed), output activation, evaluated during training
 *                 only at the batch rows' observed positions.
 * Objective per step: (1/nnz) sum over the batch's observed entries of
 * (y - r)^2 + range_penalty/nnz * sum over the same entries of dist(y,
 * [scale_min, scale_max])^2 + reg * sum_W (l1_ratio |w| + (1 - l1_ratio)/2
 * w^2) over the weight rows the step touched (lazy; biases unpenalised).
 * Nothing of size rows x d is ever built: the only dense d-wide work is
 * the re-feeding pass (refeed >= 1), which feeds each batch's dense output
 * f(x) (B x d) back as input and target and takes another step; its cost is
 * B x d x H[0] per pass instead of nnz x H[0] (for ML-100K about 16x the
 * sparse step's output work).
 *
 * After training the model keeps, per row, the input of the output layer
 * (rows x H[0]); a prediction is then one dot product plus the output
 * activation.  Fold-in (variant=user): a new user's ratings are one more
 * input row, encoded and decoded like a training user. */
#include "model.h"

#include "../nn/nn.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXL 8                 /* encoder layers */
#define MAXS (2 * MAXL - 1)    /* hidden stages */
#define ACTS "identity|sigmoid|tanh|relu|leaky_relu|elu|selu"
#define OUT_ACTS "identity|relu|leaky_relu|elu|selu"
#define OPTS "sgd|momentum|nesterov|rmsprop|adam"

typedef struct dae_cfg {
    char variant[RECNN__STR_MAX];
    char layers[RECNN__STR_MAX];
    char activation[RECNN__STR_MAX];
    char output[RECNN__STR_MAX];
    double dropout;
    char dropout_at[RECNN__STR_MAX];
    double input_dropout;
    double kept_weight;
    int64_t tied;
    int64_t refeed;
    double average;
    char optimizer[RECNN__STR_MAX];
    double lr;
    double momentum;
    double beta1, beta2;
    double lr_decay;
    double clip_norm;
    int64_t decay_every;
    int64_t batch;
    double reg;
    double l1_ratio;
    double range_penalty;
    int64_t range_literal;
    char init[RECNN__STR_MAX];
    char bias_init[RECNN__STR_MAX];
    int64_t epochs;
    int64_t patience;
    int64_t seed;
    double default_rating;
} dae_cfg;

/* One table per kind: same fields, different defaults (D = deep_ae, I =
 * item_ae). */
#define SETTINGS(NAME, VAR, LAYERS, ACT, OUT, OPT, LR, B2, DECAY, REG, L1, RANGE, EPOCHS,   \
                 BIAS)                                                                    \
    static const recnn__setting NAME[] = {                                                \
        {"variant", RECNN__SET_STR, offsetof(dae_cfg, variant), 0, 0, 0, VAR, "user|item", \
         "user: one input row per user (its ratings of the items; Kuchaiev & Ginsburg); " \
         "item: one row per item (its ratings by the users)"},                            \
        {"layers", RECNN__SET_STR, offsetof(dae_cfg, layers), 0, 0, 0, LAYERS, NULL,      \
         "encoder widths, comma-separated (1 to 8 layers); the decoder mirrors them"},    \
        {"activation", RECNN__SET_STR, offsetof(dae_cfg, activation), 0, 0, 0, ACT, ACTS, \
         "activation of every hidden layer (encoder, code and decoder)"},                 \
        {"output", RECNN__SET_STR, offsetof(dae_cfg, output), 0, 0, 0, OUT, OUT_ACTS,     \
         "output activation (predictions in rating units)"},                              \
        {"dropout", RECNN__SET_FLOAT, offsetof(dae_cfg, dropout), 0, 0, 0.95, NULL, NULL, \
         "dropout rate during training (inverted dropout; off at inference)"},            \
        {"dropout_at", RECNN__SET_STR, offsetof(dae_cfg, dropout_at), 0, 0, 0, "code",    \
         "code|encoder",                                                                  \
         "code: dropout on the code only (Kuchaiev & Ginsburg); encoder: after every "    \
         "encoder layer"},                                                                \
        {"input_dropout", RECNN__SET_FLOAT, offsetof(dae_cfg, input_dropout), 0, 0,     \
         0.95, NULL, NULL,                                                                \
         "denoising: share of a row's observed inputs dropped during training (the "      \
         "rest scaled by 1/(1-rate)); the loss still covers every observed entry"},       \
        {"kept_weight", RECNN__SET_FLOAT, offsetof(dae_cfg, kept_weight), 1, 0, 1, NULL,  \
         NULL,                                                                            \
         "with input_dropout: loss weight of the entries that stayed in the input "      \
         "(dropped entries weigh 1; below 1 emphasises predicting what the input did "   \
         "not show — emphasised denoising, Vincent et al. 2010)"},                       \
        {"tied", RECNN__SET_INT, offsetof(dae_cfg, tied), 0, 0, 1, NULL, NULL,            \
         "1: decoder weights are the encoder weights transposed (own biases)"},           \
        {"refeed", RECNN__SET_INT, offsetof(dae_cfg, refeed), 0, 0, 10, NULL, NULL,       \
         "dense re-feeding steps after each normal step (feed the batch's dense output "  \
         "back as input and target; costs batch x row length x first width each)"},       \
        {"average", RECNN__SET_FLOAT, offsetof(dae_cfg, average), 0, 0, 0.99999, NULL,    \
         NULL,                                                                            \
         "weight averaging: exponential moving average of every parameter with this "    \
         "decay per step (0 = off); the averaged weights are validated and kept"},       \
        {"optimizer", RECNN__SET_STR, offsetof(dae_cfg, optimizer), 0, 0, 0, OPT, OPTS,   \
         "mini-batch optimizer (sparse rows updated lazily)"},                            \
        {"lr", RECNN__SET_FLOAT, offsetof(dae_cfg, lr), LR, 1e-9, 1e3, NULL, NULL,        \
         "learning rate"},                                                                \
        {"momentum", RECNN__SET_FLOAT, offsetof(dae_cfg, momentum), 0.9, 0, 0.9999, NULL, \
         NULL, "momentum (momentum/nesterov)"},                                           \
        {"beta1", RECNN__SET_FLOAT, offsetof(dae_cfg, beta1), 0.9, 0, 0.9999, NULL, NULL, \
         "Adam beta1"},                                                                   \
        {"beta2", RECNN__SET_FLOAT, offsetof(dae_cfg, beta2), B2, 0, 0.99999, NULL, NULL, \
         "Adam beta2 (rmsprop: rho)"},                                                    \
        {"lr_decay", RECNN__SET_FLOAT, offsetof(dae_cfg, lr_decay), DECAY, 0.01, 1, NULL, \
         NULL, "multiply lr, reg and range_penalty by this every decay_every epochs"},    \
        {"clip_norm", RECNN__SET_FLOAT, offsetof(dae_cfg, clip_norm), 0, 0, 1e9, NULL,    \
         NULL,                                                                            \
         "rescale each step's gradient to at most this global L2 norm (0 = off; "        \
         "a guard against divergence on large data)"},                                   \
        {"decay_every", RECNN__SET_INT, offsetof(dae_cfg, decay_every), 10, 1, 1000000,   \
         NULL, NULL, "epochs between decays"},                                            \
        {"batch", RECNN__SET_INT, offsetof(dae_cfg, batch), 32, 1, 65536, NULL, NULL,     \
         "rows per step"},                                                                \
        {"reg", RECNN__SET_FLOAT, offsetof(dae_cfg, reg), REG, 0, 1e6, NULL, NULL,        \
         "penalty coefficient per step: reg * sum(l1_ratio |w| + (1-l1_ratio)/2 w^2) "    \
         "over the weights (not biases); l1_ratio=0 is PyTorch-style weight decay"},      \
        {"l1_ratio", RECNN__SET_FLOAT, offsetof(dae_cfg, l1_ratio), L1, 0, 1, NULL, NULL, \
         "share of L1 in the elastic-net penalty"},                                       \
        {"range_penalty", RECNN__SET_FLOAT, offsetof(dae_cfg, range_penalty), RANGE, 0,   \
         1e6, NULL, NULL,                                                                 \
         "weight of the squared distance of observed outputs from the rating scale "      \
         "(relative to the squared error)"},                                              \
        {"range_literal", RECNN__SET_INT, offsetof(dae_cfg, range_literal), 0, 0, 1,      \
         NULL, NULL,                                                                      \
         "1: the paper's literal penalty y^2 outside the scale instead of the distance"}, \
        {"init", RECNN__SET_STR, offsetof(dae_cfg, init), 0, 0, 0, "xavier_uniform",      \
         "xavier_uniform|xavier_normal|he_uniform|he_normal|lecun_uniform|lecun_normal",  \
         "weight initialisation"},                                                        \
        {"bias_init", RECNN__SET_STR, offsetof(dae_cfg, bias_init), 0, 0, 0, BIAS,        \
         "zero|mean", "output bias: zero or the training mean rating"},                   \
        {"epochs", RECNN__SET_INT, offsetof(dae_cfg, epochs), EPOCHS, 1, 1000000, NULL,   \
         NULL, "maximum epochs"},                                                         \
        {"patience", RECNN__SET_INT, offsetof(dae_cfg, patience), 20, 0, 1000000, NULL,   \
         NULL,                                                                            \
         "with a validation set: stop after this many epochs without a better "           \
         "validation RMSE (the best epoch is kept; 0 = run every epoch)"},                \
        {"seed", RECNN__SET_INT, offsetof(dae_cfg, seed), 1, 0, 9007199254740992.0, NULL, \
         NULL, "random seed (weights, batch order, dropout)"},                            \
        {"default_rating", RECNN__SET_FLOAT, offsetof(dae_cfg, default_rating), 3, -1e9,  \
         1e9, NULL, NULL, "prediction for users or items without training ratings"},      \
    }

SETTINGS(deep_ae_settings, "user", "128,256,256", "selu", "identity", "momentum", 0.005,
         0.999, 1.0, 0.0, 0.0, 0.0, 60, "zero");
SETTINGS(item_ae_settings, "item", "100", "sigmoid", "relu", "adam", 0.01, 0.99, 0.9,
         0.002, 0.9, 0.01, 100, "mean");

/* ---- state ---------------------------------------------------------------- */

typedef struct dae_state {
    int item_based, K, S, tied;
    int64_t n_rows, d;
    int64_t H[MAXL];
    int64_t max_w;                /* widest hidden stage */
    recnn__layer *lin[MAXS];      /* hidden stages */
    recnn__layer *drop[MAXS];     /* dropout after stage s, or NULL */
    recnn__layer *out;            /* output layer (masked or tied) */
    int act, oact;
    float aa, oa;
    float *hid;                   /* n_rows x H[0]: input of the output layer */
    int32_t *row_n, *col_n;       /* training ratings per row / per column */
    float def;
} dae_state;

static int64_t stage_w(const dae_state *s, int st)
{
    return st < s->K ? s->H[st] : s->H[2 * s->K - 2 - st];
}

static void state_free(dae_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < MAXS; i++) {
        recnn__layer_free(s->drop[i]);
    }
    recnn__layer_free(s->out); /* tied layers before their encoders */
    for (int i = MAXS - 1; i >= 0; i--)
        recnn__layer_free(s->lin[i]);
    recnn__free(s->hid);
    recnn__free(s->row_n);
    recnn__free(s->col_n);
    free(s);
}

static void dae_free_state(recnn_model *m)
{
    state_free(m->state);
    m->state = NULL;
}

/* Parses "128,256,256" into H; returns the count or -1. */
static int parse_layers(const char *text, int64_t *H)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > 65536 || n >= MAXL)
            return -1;
        H[n++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

/* A state with layers for m's dims and config (weights zero; dropout
 * layers only when with_dropout). */
static int state_new(const recnn_model *m, int64_t max_batch, int with_dropout,
                     dae_state **out)
{
    const dae_cfg *c = RECNN__CFG(m, dae_cfg);
    dae_state *s = calloc(1, sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "deep_ae: out of memory");
    s->item_based = strcmp(c->variant, "item") == 0;
    s->n_rows = s->item_based ? m->n_items : m->n_users;
    s->d = s->item_based ? m->n_users : m->n_items;
    s->tied = (int)c->tied;
    s->def = (float)c->default_rating;
    s->act = recnn__act_from_name(c->activation);
    s->oact = recnn__act_from_name(c->output);
    s->aa = s->act >= 0 ? recnn__act_default_alpha(s->act) : 0.0f;
    s->oa = s->oact >= 0 ? recnn__act_default_alpha(s->oact) : 0.0f;
    int st = RECNN_OK;
    s->K = parse_layers(c->layers, s->H);
    if (s->K < 1)
        st = recnn__fail(RECNN_E_INVALID,
                         "deep_ae: layers=\"%s\": expected 1 to %d comma-separated widths "
                         "in 1..65536",
                         c->layers, MAXL);
    else if (s->act < 0 || s->oact < 0)
        st = recnn__fail(RECNN_E_INVALID, "deep_ae: unknown activation %s / %s",
                         c->activation, c->output);
    if (st == RECNN_OK) {
        s->S = 2 * s->K - 1;
        for (int i = 0; i < s->S; i++)
            if (stage_w(s, i) > s->max_w)
                s->max_w = stage_w(s, i);
    }
    for (int i = 0; st == RECNN_OK && i < s->S; i++) {
        if (i == 0)
            st = recnn__sparse_create(&s->lin[0], s->d, s->H[0], 1, max_batch);
        else if (i < s->K)
            st = recnn__dense_create(&s->lin[i], s->H[i - 1], s->H[i], 1, max_batch);
        else if (s->tied)
            st = recnn__tied_create(&s->lin[i], s->lin[2 * s->K - 1 - i], 1, max_batch);
        else
            st = recnn__dense_create(&s->lin[i], stage_w(s, i - 1), stage_w(s, i), 1,
                                     max_batch);
        int want_drop = with_dropout && c->dropout > 0 &&
                        (i == s->K - 1 ||
                         (strcmp(c->dropout_at, "encoder") == 0 && i < s->K));
        if (st == RECNN_OK && want_drop)
            st = recnn__dropout_create(&s->drop[i], stage_w(s, i), (float)c->dropout,
                                       (uint64_t)c->seed * 0x9E3779B97F4A7C15ull +
                                           (uint64_t)i + 1,
                                       max_batch);
    }
    if (st == RECNN_OK)
        st = s->tied ? recnn__tied_create(&s->out, s->lin[0], 1, max_batch)
                     : recnn__masked_create(&s->out, s->H[0], s->d, 1, max_batch);
    if (st == RECNN_OK) {
        s->hid = recnn__calloc((size_t)(s->n_rows ? s->n_rows : 1),
                               (size_t)s->H[0] * sizeof(float));
        s->row_n = recnn__calloc((size_t)(s->n_rows ? s->n_rows : 1), sizeof(int32_t));
        s->col_n = recnn__calloc((size_t)(s->d ? s->d : 1), sizeof(int32_t));
        if (!s->hid || !s->row_n || !s->col_n)
            st = recnn__fail(RECNN_E_NOMEM, "deep_ae: out of memory for %lld x %lld codes",
                             (long long)s->n_rows, (long long)s->H[0]);
    }
    if (st != RECNN_OK) {
        state_free(s);
        return st;
    }
    *out = s;
    return RECNN_OK;
}

/* ---- tensors ---------------------------------------------------------------- */

static const char *const W_NAMES[MAXS] = {"W0", "W1", "W2", "W3", "W4",  "W5",  "W6", "W7",
                                          "W8", "W9", "W10", "W11", "W12", "W13", "W14"};
static const char *const B_NAMES[MAXS] = {"b0", "b1", "b2", "b3", "b4",  "b5",  "b6", "b7",
                                          "b8", "b9", "b10", "b11", "b12", "b13", "b14"};

static int dae_tensors(const recnn_model *m, recnn__tensor *t, int max)
{
    const dae_state *s = m->state;
    if (!s || max < 2 * s->S + 5)
        return 0;
    int n = 0;
    for (int i = 0; i < s->S; i++) {
        const recnn__layer *l = s->lin[i];
        if (!l->tied)
            t[n++] = (recnn__tensor){W_NAMES[i], RECNN__F32, l->pw->count, l->pw->w, 0, 0};
        t[n++] = (recnn__tensor){B_NAMES[i], RECNN__F32, l->pb->count, l->pb->w, 0, 0};
    }
    if (!s->out->tied)
        t[n++] = (recnn__tensor){"Wout", RECNN__F32, s->out->pw->count, s->out->pw->w, 0, 0};
    t[n++] = (recnn__tensor){"bout", RECNN__F32, s->out->pb->count, s->out->pb->w, 0, 0};
    t[n++] = (recnn__tensor){"hid", RECNN__F32, s->n_rows * s->H[0], s->hid, 0, 0};
    t[n++] = (recnn__tensor){"row_n", RECNN__I32, s->n_rows, s->row_n, 0, 0};
    t[n++] = (recnn__tensor){"col_n", RECNN__I32, s->d, s->col_n, 0, 0};
    return n;
}

static int dae_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    dae_state *s;
    int st = state_new(m, 1, 0, &s);
    if (st)
        return st;
    dae_free_state(m);
    m->state = s;
    recnn__tensor want[RECNN__MAX_TENSORS];
    int nw = dae_tensors(m, want, RECNN__MAX_TENSORS);
    st = recnn__tensors_copy_in(m, want, nw, t, n);
    if (st)
        dae_free_state(m);
    return st;
}

/* ---- forward / backward through the hidden stages --------------------------- */

/* Buffers of one pass: A[i] = stage i's activation output, D[i] = its
 * dropout output (when drop[i]); each max_batch x stage width. */
typedef struct pass_buf {
    float *A[MAXS], *D[MAXS];
} pass_buf;

static const float *stage_out(const dae_state *s, const pass_buf *b, int i, int train)
{
    return train && s->drop[i] ? b->D[i] : b->A[i];
}

/* Runs the hidden stages on n rows: sparse input x, or dense input X (n x
 * d).  Returns the output of the last stage (input of the output layer)
 * through *top.  train: dropout on. */
static int hidden_forward(dae_state *s, pass_buf *b, int64_t n, const recnn__csr *x,
                          const float *X, int train, const float **top)
{
    int st = RECNN_OK;
    for (int i = 0; st == RECNN_OK && i < s->S; i++) {
        if (i == 0)
            st = x ? recnn__sparse_forward(s->lin[0], x, b->A[0])
                   : recnn__layer_forward(s->lin[0], n, X, b->A[0], 1);
        else
            st = recnn__layer_forward(s->lin[i], n, stage_out(s, b, i - 1, train), b->A[i],
                                      1);
        if (st)
            break;
        recnn__act_forward(s->act, s->aa, n, stage_w(s, i), b->A[i], b->A[i]);
        if (train && s->drop[i])
            st = recnn__layer_forward(s->drop[i], n, b->A[i], b->D[i], 1);
    }
    *top = stage_out(s, b, s->S - 1, train);
    return st;
}

/* Back through the hidden stages from g (n x width of the last stage;
 * overwritten); g2 is scratch of the same size. */
static int hidden_backward(dae_state *s, pass_buf *b, int64_t n, const recnn__csr *x,
                           const float *X, float *g, float *g2)
{
    int st = RECNN_OK;
    for (int i = s->S - 1; st == RECNN_OK && i >= 0; i--) {
        if (s->drop[i])
            st = recnn__layer_backward(s->drop[i], n, NULL, NULL, g, g);
        if (st)
            break;
        recnn__act_backward(s->act, s->aa, n, stage_w(s, i), b->A[i], g, g);
        if (i > 0) {
            st = recnn__layer_backward(s->lin[i], n, stage_out(s, b, i - 1, 1), NULL, g, g2);
            float *tmp = g;
            g = g2;
            g2 = tmp;
        } else {
            st = x ? recnn__sparse_backward(s->lin[0], x, g)
                   : recnn__layer_backward(s->lin[0], n, X, NULL, g, NULL);
        }
    }
    return st;
}

static int pass_alloc(const dae_state *s, int64_t rows, int with_dropout, pass_buf *b)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < s->S; i++) {
        b->A[i] = recnn__alloc((size_t)rows, (size_t)stage_w(s, i) * sizeof(float));
        if (!b->A[i])
            return RECNN_E_NOMEM;
        if (with_dropout && s->drop[i]) {
            b->D[i] = recnn__alloc((size_t)rows, (size_t)stage_w(s, i) * sizeof(float));
            if (!b->D[i])
                return RECNN_E_NOMEM;
        }
    }
    return RECNN_OK;
}

static void pass_free(pass_buf *b)
{
    for (int i = 0; i < MAXS; i++) {
        recnn__free(b->A[i]);
        recnn__free(b->D[i]);
    }
}

/* ---- prediction ------------------------------------------------------------ */

static inline float out_f(const dae_state *s, float z)
{
    float y = z;
    if (s->oact != RECNN__ACT_IDENTITY)
        recnn__act_forward(s->oact, s->oa, 1, 1, &z, &y);
    return y;
}

static int dae_predict(const recnn_model *m, int64_t n, const int32_t *u, const int32_t *i,
                       float *out)
{
    const dae_state *s = m->state;
    const int64_t k = s->H[0];
    const float *W = s->out->pw->w, *b = s->out->pb->w;
#pragma omp parallel for num_threads(recnn__threads()) schedule(static)
    for (int64_t p = 0; p < n; p++) {
        int64_t row = s->item_based ? i[p] : u[p];
        int64_t col = s->item_based ? u[p] : i[p];
        if (s->row_n[row] == 0 || s->col_n[col] == 0) {
            out[p] = s->def;
            continue;
        }
        const float *h = s->hid + row * k, *w = W + col * k;
        float z = 0.0f;
#pragma omp simd reduction(+ : z)
        for (int64_t j = 0; j < k; j++)
            z += h[j] * w[j];
        out[p] = out_f(s, z + b[col]);
    }
    return RECNN_OK;
}

/* Output activation and defaults over all items (scores = pre-activations
 * on entry); `unseen_user` makes every score the default. */
static void finish_scores(const dae_state *s, int64_t n_items, int unseen_user,
                          float *scores)
{
    if (s->oact != RECNN__ACT_IDENTITY)
        recnn__act_forward(s->oact, s->oa, 1, n_items, scores, scores);
    const int32_t *item_n = s->item_based ? s->row_n : s->col_n;
    for (int64_t i = 0; i < n_items; i++)
        if (unseen_user || item_n[i] == 0)
            scores[i] = s->def;
}

static int dae_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const dae_state *s = m->state;
    const int64_t k = s->H[0];
    if (s->item_based) {
        const recnn_mat Hm = recnn__mat_view(s->hid, s->n_rows, k);
        float bu = s->out->pb->w[u];
        for (int64_t i = 0; i < m->n_items; i++)
            scores[i] = bu;
        recnn__gemv(false, 1.0f, &Hm, s->out->pw->w + (int64_t)u * k, 1.0f, scores);
        finish_scores(s, m->n_items, s->col_n[u] == 0, scores);
    } else {
        const recnn_mat Wm = recnn__mat_view(s->out->pw->w, s->d, k);
        memcpy(scores, s->out->pb->w, (size_t)m->n_items * sizeof *scores);
        recnn__gemv(false, 1.0f, &Wm, s->hid + (int64_t)u * k, 1.0f, scores);
        finish_scores(s, m->n_items, s->row_n[u] == 0, scores);
    }
    return RECNN_OK;
}

/* Fold-in (variant=user): the new user's ratings (of items with training
 * ratings) are encoded and decoded as one more input row, without
 * dropout.  Re-entrant: only local buffers are written. */
static int dae_score_new(const recnn_model *m, int64_t n, const int32_t *items,
                         const float *ratings, float *scores)
{
    dae_state *s = m->state;
    if (s->item_based)
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "%s: fold-in needs variant=user (an item-based model has no "
                           "input weights for a new user)",
                           m->vt->kind);
    int32_t *idx = recnn__alloc((size_t)(n ? n : 1), sizeof *idx);
    float *val = recnn__alloc((size_t)(n ? n : 1), sizeof *val);
    pass_buf b;
    int st = pass_alloc(s, 1, 0, &b);
    if (!idx || !val || st) {
        st = recnn__fail(RECNN_E_NOMEM, "%s: out of memory in fold-in", m->vt->kind);
        goto done;
    }
    int64_t nn = 0;
    for (int64_t j = 0; j < n; j++)
        if (s->col_n[items[j]] > 0) {
            idx[nn] = items[j];
            val[nn++] = ratings[j];
        }
    int64_t ptr[2] = {0, nn};
    recnn__csr x = {1, ptr, idx, val, NULL, 0};
    const float *top = NULL;
    st = hidden_forward(s, &b, 1, &x, NULL, 0, &top);
    if (st == RECNN_OK) {
        const recnn_mat Wm = recnn__mat_view(s->out->pw->w, s->d, s->H[0]);
        memcpy(scores, s->out->pb->w, (size_t)m->n_items * sizeof *scores);
        recnn__gemv(false, 1.0f, &Wm, top, 1.0f, scores);
        finish_scores(s, m->n_items, 0, scores);
    }
done:
    pass_free(&b);
    recnn__free(idx);
    recnn__free(val);
    return st;
}

/* ---- training ---------------------------------------------------------------- */

typedef struct train_ctx {
    dae_state *s;
    const dae_cfg *c;
    recnn__csr rows;            /* every row of the training data */
    recnn__optim *opt;
    recnn__param *ps[2 * MAXS + 4];
    int nps;
    int64_t B, max_nnz;
    pass_buf pb;
    float *g1, *g2;             /* B x max_w */
    float *y, *gy;              /* max_nnz */
    float *Xd, *Yd, *GY;        /* B x d (re-feeding only) */
    double pen_scale;           /* decay of reg / range_penalty */
    recnn_rng *rng;             /* input dropout draws */
    int64_t *iptr;              /* B + 1: the batch's kept inputs (input_dropout) */
    int32_t *iidx;              /* max_nnz */
    float *ival;                /* max_nnz */
    float *ew;                  /* max_nnz: loss weight per batch entry (kept_weight < 1) */
    float lo, hi;
    float *avg[2 * MAXS + 4];   /* average>0: running averages of ps[j] (NULL: a
                                   duplicate of an earlier entry) */
    int64_t steps;              /* optimizer steps taken (for the averaging warm-up) */
} train_ctx;

/* hid[r0 .. r0+n) for consecutive rows, no dropout. */
static int encode_all(train_ctx *t)
{
    dae_state *s = t->s;
    for (int64_t r0 = 0; r0 < s->n_rows; r0 += t->B) {
        int64_t n = s->n_rows - r0 < t->B ? s->n_rows - r0 : t->B;
        recnn__csr x = {n, t->rows.ptr + r0, t->rows.idx, t->rows.val, NULL, 0};
        const float *top;
        int st = hidden_forward(s, &t->pb, n, &x, NULL, 0, &top);
        if (st)
            return st;
        memcpy(s->hid + r0 * s->H[0], top, (size_t)(n * s->H[0]) * sizeof(float));
    }
    return RECNN_OK;
}

/* Weight averaging (average > 0): after every step each averaged copy
 * moves towards the live weights, avg += (1 - beta_t) (w - avg), with the
 * warm-up beta_t = min(average, (1 + t) / (10 + t)) so that the first
 * steps (far from any useful point) are forgotten quickly. */
static void average_update(train_ctx *t)
{
    t->steps++;
    double bt = (1.0 + (double)t->steps) / (10.0 + (double)t->steps);
    const float a = 1.0f - (float)(t->c->average < bt ? t->c->average : bt);
    for (int j = 0; j < t->nps; j++) {
        float *restrict v = t->avg[j];
        const float *restrict w = t->ps[j]->w;
        if (!v)
            continue;
        const int64_t n = t->ps[j]->count;
#pragma omp simd
        for (int64_t e = 0; e < n; e++)
            v[e] += a * (w[e] - v[e]);
    }
}

/* Exchanges the live weights and their averages (twice = no change). */
static void average_swap(train_ctx *t)
{
    for (int j = 0; j < t->nps; j++) {
        float *restrict v = t->avg[j], *restrict w = t->ps[j]->w;
        if (!v)
            continue;
        const int64_t n = t->ps[j]->count;
#pragma omp simd
        for (int64_t e = 0; e < n; e++) {
            float x = w[e];
            w[e] = v[e];
            v[e] = x;
        }
    }
}

/* g += lambda (l1 sign(w) + (1 - l1) w) over n weights: the gradient of
 * recnn__penalty_elastic, the same float operations, without the penalty's
 * value (which training does not use; summing it in double kept that loop
 * scalar and made it half of a regularised step). */
RECNN__CLONES static void elastic_grad(int64_t n, const float *restrict w, float lambda,
                                       float l1, float *restrict g)
{
    if (l1 == 0.0f) { /* weight decay: the common case */
        const float c = lambda * (1.0f - l1);
#pragma omp simd
        for (int64_t k = 0; k < n; k++)
            g[k] += c * w[k];
        return;
    }
#pragma omp simd
    for (int64_t k = 0; k < n; k++) {
        const float sg = (float)(w[k] > 0) - (float)(w[k] < 0);
        g[k] += lambda * (l1 * sg + (1.0f - l1) * w[k]);
    }
}

/* The elastic-net gradient on the rows the step will update (all rows of a
 * dense parameter, the touched rows of a lazily updated one), as
 * recnn__params_elastic applies it. */
static void penalise(train_ctx *t, float lambda, float l1)
{
    for (int j = 0; j < t->nps; j++) {
        recnn__param *p = t->ps[j];
        if (!p->decay)
            continue;
        if (!recnn__param_sparse(p)) {
            elastic_grad(p->count, p->w, lambda, l1, p->g);
            continue;
        }
        const int64_t rl = p->row_len > 0 ? p->row_len : p->count;
        for (int64_t k = 0; k < p->n_rows; k++) {
            const int64_t r = p->rows[k];
            elastic_grad(rl, p->w + r * rl, lambda, l1, p->g + r * rl);
        }
    }
}

static int penalise_and_step(train_ctx *t)
{
    double reg = t->c->reg * t->pen_scale;
    if (reg > 0)
        penalise(t, (float)reg, (float)t->c->l1_ratio);
    int st = recnn__optim_step(t->opt);
    if (st == RECNN_OK && t->c->average > 0)
        average_update(t);
    return st;
}

/* One re-feeding step: input and target Xd (n x d, the previous dense
 * output); leaves the new dense output in Yd. */
static int refeed_step(train_ctx *t, int64_t n, double *loss)
{
    dae_state *s = t->s;
    const int64_t d = s->d;
    const float *top;
    recnn__params_zero_grad(t->ps, t->nps);
    int st = hidden_forward(s, &t->pb, n, NULL, t->Xd, 1, &top);
    if (st == RECNN_OK)
        st = recnn__layer_forward(s->out, n, top, t->Yd, 1);
    if (st)
        return st;
    recnn__act_forward(s->oact, s->oa, n, d, t->Yd, t->Yd);
    *loss = recnn__loss_mse(n * d, t->Yd, t->Xd, NULL, (float)(1.0 / (double)(n * d)), t->GY);
    recnn__act_backward(s->oact, s->oa, n, d, t->Yd, t->GY, t->GY);
    st = recnn__layer_backward(s->out, n, top, NULL, t->GY, t->g1);
    if (st == RECNN_OK)
        st = hidden_backward(s, &t->pb, n, NULL, t->Xd, t->g1, t->g2);
    if (st == RECNN_OK)
        st = penalise_and_step(t);
    return st;
}

/* One step on the sparse batch x (nnz observed entries); adds the batch's
 * squared error to *sse. */
static int sparse_step(train_ctx *t, const recnn__csr *x, int64_t nnz, double *sse)
{
    dae_state *s = t->s;
    const float *top;
    recnn__params_zero_grad(t->ps, t->nps);
    recnn__csr xin = *x; /* the input: x, or x with entries dropped */
    if (t->c->input_dropout > 0) {
        const float rate = (float)t->c->input_dropout, keep = 1.0f / (1.0f - rate);
        int64_t q = 0, nw = 0;
        t->iptr[0] = 0;
        for (int64_t r = 0; r < x->n; r++) {
            int64_t sr = x->sel ? x->sel[r] : r;
            for (int64_t e = x->ptr[sr]; e < x->ptr[sr + 1]; e++) {
                const int kept = recnn__rng_uniformf(t->rng) >= rate;
                if (kept) {
                    t->iidx[q] = x->idx[e];
                    t->ival[q++] = (x->val ? x->val[e] : 1.0f) * keep;
                }
                if (t->ew) /* batch order = the order of the output entries */
                    t->ew[nw++] = kept ? (float)t->c->kept_weight : 1.0f;
            }
            t->iptr[r + 1] = q;
        }
        xin = (recnn__csr){x->n, t->iptr, t->iidx, t->ival, NULL, 0};
    }
    const int emph = t->c->input_dropout > 0 && t->c->kept_weight < 1.0;
    int st = hidden_forward(s, &t->pb, x->n, &xin, NULL, 1, &top);
    if (st == RECNN_OK)
        st = recnn__masked_forward(s->out, top, x, t->y);
    if (st)
        return st;
    if (t->c->refeed > 0) { /* the dense output f(x) of this pass */
        if ((st = recnn__layer_forward(s->out, x->n, top, t->Xd, 1)))
            return st;
        recnn__act_forward(s->oact, s->oa, x->n, s->d, t->Xd, t->Xd);
    }
    recnn__act_forward(s->oact, s->oa, 1, nnz, t->y, t->y);
    float scale = (float)(1.0 / (double)nnz);
    *sse += recnn__loss_mse_csr(x, t->y, scale, t->gy) * (double)nnz;
    if (emph) { /* weighted masked MSE, normalised by the sum of the weights */
        double sw = 0;
        for (int64_t e = 0; e < nnz; e++)
            sw += t->ew[e];
        const float f = sw > 0 ? (float)((double)nnz / sw) : 0.0f;
        for (int64_t e = 0; e < nnz; e++)
            t->gy[e] *= t->ew[e] * f;
    }
    if (t->c->range_penalty > 0)
        recnn__penalty_range(nnz, t->y, t->lo, t->hi,
                             (float)(t->c->range_penalty * t->pen_scale) * scale,
                             (int)t->c->range_literal, t->gy);
    recnn__act_backward(s->oact, s->oa, 1, nnz, t->y, t->gy, t->gy);
    st = recnn__masked_backward(s->out, top, x, t->gy, t->g1);
    if (st == RECNN_OK)
        st = hidden_backward(s, &t->pb, x->n, &xin, NULL, t->g1, t->g2);
    if (st == RECNN_OK)
        st = penalise_and_step(t);
    for (int64_t k = 0; st == RECNN_OK && k < t->c->refeed; k++) {
        double l;
        st = refeed_step(t, x->n, &l);
        if (st == RECNN_OK && k + 1 < t->c->refeed)
            memcpy(t->Xd, t->Yd, (size_t)(x->n * s->d) * sizeof(float));
    }
    return st;
}

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static void ctx_free(train_ctx *t)
{
    recnn__optim_free(t->opt);
    pass_free(&t->pb);
    recnn__free(t->g1);
    recnn__free(t->g2);
    recnn__free(t->y);
    recnn__free(t->gy);
    recnn__free(t->Xd);
    recnn__free(t->Yd);
    recnn__free(t->GY);
    recnn__free(t->iptr);
    recnn__free(t->iidx);
    recnn__free(t->ival);
    recnn__free(t->ew);
    for (int j = 0; j < t->nps; j++)
        recnn__free(t->avg[j]);
}

static int dae_fit_capped(recnn_model *m, const recnn_dataset *train,
                          const recnn_dataset *valid)
{
    const dae_cfg *c = RECNN__CFG(m, dae_cfg);
    const int kind = recnn__optim_from_name(c->optimizer);
    const int scheme = recnn__init_from_name(c->init);
    if (kind < 0 || scheme < 0)
        return recnn__fail(RECNN_E_INVALID, "%s: unknown optimizer \"%s\" or init \"%s\"",
                           m->vt->kind, c->optimizer, c->init);
    const int item_based = strcmp(c->variant, "item") == 0;
    const int64_t n_rows = item_based ? train->n_items : train->n_users;
    int64_t B = c->batch < n_rows ? c->batch : n_rows;
    if (B < 1)
        B = 1;

    train_ctx t;
    memset(&t, 0, sizeof t);
    t.c = c;
    t.B = B;
    t.pen_scale = 1.0;
    t.lo = train->scale_min;
    t.hi = train->scale_max;
    dae_state *s;
    int st = state_new(m, B, 1, &s);
    if (st)
        return st;
    m->state = s;
    t.s = s;
    t.rows = item_based
                 ? (recnn__csr){n_rows, train->col_ptr, train->col_user, train->col_value,
                                NULL, 0}
                 : (recnn__csr){n_rows, train->row_ptr, train->item, train->value, NULL, 0};
    const int64_t *cptr = item_based ? train->row_ptr : train->col_ptr;
    for (int64_t r = 0; r < n_rows; r++)
        s->row_n[r] = (int32_t)(t.rows.ptr[r + 1] - t.rows.ptr[r]);
    for (int64_t j = 0; j < s->d; j++)
        s->col_n[j] = (int32_t)(cptr[j + 1] - cptr[j]);

    int64_t *len = recnn__alloc((size_t)n_rows, sizeof *len);
    if (!len)
        return recnn__fail(RECNN_E_NOMEM, "%s: out of memory", m->vt->kind);
    for (int64_t r = 0; r < n_rows; r++)
        len[r] = s->row_n[r];
    qsort(len, (size_t)n_rows, sizeof *len, cmp_i64_desc);
    for (int64_t r = 0; r < B; r++)
        t.max_nnz += len[r];
    recnn__free(len);

    recnn_rng rng;
    recnn__rng_seed(&rng, (uint64_t)c->seed);
    t.rng = &rng;
    for (int i = 0; st == RECNN_OK && i < s->S; i++)
        st = recnn__layer_init(s->lin[i], scheme, 0.0f, &rng);
    if (st == RECNN_OK)
        st = recnn__layer_init(s->out, scheme, 0.0f, &rng);
    if (st == RECNN_OK && strcmp(c->bias_init, "mean") == 0)
        for (int64_t j = 0; j < s->d; j++)
            s->out->pb->w[j] = (float)m->global_mean;
    if (st == RECNN_OK)
        st = recnn__optim_create(&t.opt, kind, c->lr);
    if (st == RECNN_OK) {
        if (kind == RECNN__OPT_MOMENTUM || kind == RECNN__OPT_NESTEROV)
            st = recnn__optim_set(t.opt, "momentum", c->momentum);
        else if (kind == RECNN__OPT_ADAM) {
            st = recnn__optim_set(t.opt, "beta1", c->beta1);
            if (st == RECNN_OK)
                st = recnn__optim_set(t.opt, "beta2", c->beta2);
        } else if (kind == RECNN__OPT_RMSPROP)
            st = recnn__optim_set(t.opt, "rho", c->beta2);
    }
    if (st == RECNN_OK && c->clip_norm > 0)
        st = recnn__optim_set(t.opt, "clip_norm", c->clip_norm);
    if (st == RECNN_OK && c->lr_decay < 1.0)
        st = recnn__optim_schedule(t.opt, RECNN__SCHED_STEP, c->lr_decay, c->decay_every);
    for (int i = 0; st == RECNN_OK && i < s->S; i++)
        st = recnn__optim_add_layer(t.opt, s->lin[i]);
    if (st == RECNN_OK)
        st = recnn__optim_add_layer(t.opt, s->out);
    if (st == RECNN_OK) {
        int cap = (int)(sizeof t.ps / sizeof t.ps[0]);
        for (int i = 0; i < s->S; i++)
            t.nps += recnn__layer_params(s->lin[i], t.ps + t.nps, cap - t.nps);
        t.nps += recnn__layer_params(s->out, t.ps + t.nps, cap - t.nps);
        if (pass_alloc(s, B, 1, &t.pb) != RECNN_OK)
            st = RECNN_E_NOMEM;
        t.g1 = recnn__alloc((size_t)B, (size_t)s->max_w * sizeof(float));
        t.g2 = recnn__alloc((size_t)B, (size_t)s->max_w * sizeof(float));
        t.y = recnn__alloc((size_t)(t.max_nnz ? t.max_nnz : 1), sizeof(float));
        t.gy = recnn__alloc((size_t)(t.max_nnz ? t.max_nnz : 1), sizeof(float));
        if (c->refeed > 0) {
            t.Xd = recnn__alloc((size_t)B, (size_t)s->d * sizeof(float));
            t.Yd = recnn__alloc((size_t)B, (size_t)s->d * sizeof(float));
            t.GY = recnn__alloc((size_t)B, (size_t)s->d * sizeof(float));
        }
        if (c->input_dropout > 0) {
            t.iptr = recnn__alloc((size_t)B + 1, sizeof(int64_t));
            t.iidx = recnn__alloc((size_t)(t.max_nnz ? t.max_nnz : 1), sizeof(int32_t));
            t.ival = recnn__alloc((size_t)(t.max_nnz ? t.max_nnz : 1), sizeof(float));
            if (c->kept_weight < 1.0)
                t.ew = recnn__alloc((size_t)(t.max_nnz ? t.max_nnz : 1), sizeof(float));
            if (!t.iptr || !t.iidx || !t.ival || (c->kept_weight < 1.0 && !t.ew))
                st = RECNN_E_NOMEM;
        }
        for (int j = 0; st == RECNN_OK && c->average > 0 && j < t.nps; j++) {
            int dup = 0;
            for (int q = 0; q < j; q++)
                dup |= t.ps[q]->w == t.ps[j]->w;
            if (dup)
                continue;
            t.avg[j] = recnn__alloc((size_t)t.ps[j]->count, sizeof(float));
            if (!t.avg[j])
                st = RECNN_E_NOMEM;
            else
                memcpy(t.avg[j], t.ps[j]->w, (size_t)t.ps[j]->count * sizeof(float));
        }
        if (st || !t.g1 || !t.g2 || !t.y || !t.gy ||
            (c->refeed > 0 && (!t.Xd || !t.Yd || !t.GY)))
            st = recnn__fail(RECNN_E_NOMEM,
                             "%s: out of memory for training buffers (%lld rows of %lld)",
                             m->vt->kind, (long long)B, (long long)s->d);
    }
    int32_t *perm = st == RECNN_OK ? recnn__alloc((size_t)n_rows, sizeof *perm) : NULL;
    if (st == RECNN_OK && !perm)
        st = recnn__fail(RECNN_E_NOMEM, "%s: out of memory", m->vt->kind);
    /* only rows with ratings are trained on */
    int64_t n_active = 0;
    for (int64_t r = 0; perm && r < n_rows; r++)
        if (s->row_n[r] > 0)
            perm[n_active++] = (int32_t)r;

    for (int64_t epoch = 1; st == RECNN_OK && epoch <= c->epochs; epoch++) {
        double t0 = recnn__now(), sse = 0;
        int64_t seen = 0;
        recnn__rng_shuffle_i32(&rng, perm, (size_t)n_active);
        for (int64_t b0 = 0; st == RECNN_OK && b0 < n_active; b0 += B) {
            int64_t nb = n_active - b0 < B ? n_active - b0 : B;
            recnn__csr x = {nb, t.rows.ptr, t.rows.idx, t.rows.val, perm + b0, 0};
            int64_t nnz = recnn__csr_nnz(&x);
            st = sparse_step(&t, &x, nnz, &sse);
            seen += nnz;
        }
        if (st == RECNN_E_NUMERIC) { /* the optimizer's own words, with where */
            char why[256];
            snprintf(why, sizeof why, "%s", recnn_last_error());
            st = recnn__fail(RECNN_E_NUMERIC, "%s: epoch %lld: %s (lower lr)", m->vt->kind,
                             (long long)epoch, why);
        }
        if (st != RECNN_OK)
            break;
        if (!isfinite(sse)) {
            st = recnn__fail(RECNN_E_NUMERIC,
                             "%s: the training loss diverged at epoch %lld (lower lr)",
                             m->vt->kind, (long long)epoch);
            break;
        }
        /* the training pass alone (progress train_seconds, what the PyTorch
         * peer times): encoding every row and validating come after */
        m->train_seconds = recnn__now() - t0;
        /* validation (and the kept model) uses the averaged weights */
        if (c->average > 0)
            average_swap(&t);
        if ((st = encode_all(&t)))
            break;
        recnn__optim_epoch_end(t.opt);
        if (c->lr_decay < 1.0 && epoch % c->decay_every == 0)
            t.pen_scale *= c->lr_decay;
        double vr = recnn__valid_rmse(m, valid);
        int stop = recnn__fit_epoch(m, (int)epoch, seen ? sse / (double)seen : 0.0, vr,
                                    "rmse", 1, (int)c->patience, recnn__now() - t0);
        if (stop < 0)
            st = RECNN_E_NOMEM;
        if (stop || epoch == c->epochs)
            break; /* averaged weights (and their codes) stay in place */
        if (c->average > 0)
            average_swap(&t);
    }
    recnn__free(perm);
    ctx_free(&t);
    return st;
}

/* The steps alternate BLAS calls (the dense layers) with OpenMP loops (the
 * sparse input, activations, masked loss, update).  Two pools that spin
 * between their turns compete for the cores (ML-100K at 2 threads, the
 * default wait policy: refeed epochs 0.19-0.55 s), so the fit leaves the
 * budget's threads to BLAS's pool and runs its loops on the calling
 * thread: 0.07 s, and every variant faster than before at 2 threads,
 * with the same bits (docs/PERFORMANCE.md §2). */
static int dae_fit(recnn_model *m, const recnn_dataset *train, const recnn_dataset *valid)
{
    int old = recnn__loop_cap(1);
    int st = dae_fit_capped(m, train, valid);
    recnn__loop_cap(old);
    return st;
}

const recnn__model_vt recnn__vt_deep_ae = {
    .kind = "deep_ae",
    .doc = "deep autoencoder of rating vectors (Kuchaiev & Ginsburg 2017): mirrored "
           "layers, SELU, dropout, tied weights, dense re-feeding",
    .settings = deep_ae_settings,
    .n_settings = (int)(sizeof deep_ae_settings / sizeof deep_ae_settings[0]),
    .config_size = sizeof(dae_cfg),
    .fit = dae_fit,
    .predict = dae_predict,
    .score_user = dae_score_user,
    .score_new = dae_score_new,
    .tensors = dae_tensors,
    .restore = dae_restore,
    .free_state = dae_free_state,
};

const recnn__model_vt recnn__vt_item_ae = {
    .kind = "item_ae",
    .doc = "item autoencoder of the AE/MF/KNN MovieLens paper: sigmoid hidden, ReLU "
           "output, elastic net, rating-range penalty, Adam with step decay",
    .settings = item_ae_settings,
    .n_settings = (int)(sizeof item_ae_settings / sizeof item_ae_settings[0]),
    .config_size = sizeof(dae_cfg),
    .fit = dae_fit,
    .predict = dae_predict,
    .score_user = dae_score_user,
    .score_new = dae_score_new,
    .tensors = dae_tensors,
    .restore = dae_restore,
    .free_state = dae_free_state,
};
