/* Neural Collaborative Filtering (He et al., WWW 2017): GMF, MLP, NeuMF.
 *
 *   GMF    z = w^T (p_u .* q_i) + b
 *   MLP    z = w^T relu(... relu([p'_u ; q'_i] W_1 + b_1) ...) + b
 *   NeuMF  z = w^T [ p_u .* q_i ; MLP tower ] + b
 *
 * built from the src/nn parts: embedding layers (row-sparse gradients),
 * product and concatenation merges, dense layers with ReLU, BCE on logits
 * (task=implicit, k sampled negatives per positive, re-sampled each epoch)
 * or MSE of sigmoid(z) against ratings scaled to [0,1] (task=rating), and
 * Adam with lazy updates of the touched embedding rows.
 *
 * Threads: each mini-batch is cut into T fixed shards (T = the thread
 * budget); thread t runs forward/backward of shard t on its own replica of
 * the network (sharing the master's weights, own gradient buffers), and the
 * replicas' gradients are added into the master's in replica order before
 * one optimizer step.  Same seed + same thread count => same bits.
 *
 * Scores (score_user) are logits; predictions are probabilities
 * (implicit) or ratings on the training scale (rating). */
#include "model.h"

#include "../nn/nn.h"
#include "recnn/metrics.h"
#include "recnn/ncf.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCF_MAX_LAYERS 8
#define NCF_MAX_THREADS 64

enum { K_GMF = 0, K_MLP = 1, K_NEUMF = 2 };

typedef struct ncf_cfg {
    int64_t factors;
    char layers[RECNN__STR_MAX];
    int64_t negatives;
    double lr;
    int64_t batch;
    int64_t epochs;
    double l2;
    int64_t seed;
    int64_t patience;
    char task[RECNN__STR_MAX];
    char pretrain[RECNN__STR_MAX];
    double alpha;
    int64_t pretrain_epochs;
    char adam[RECNN__STR_MAX];
    /* Not settings: borrowed by recnn_neumf_fit_pretrained for one call. */
    const recnn_model *pre_gmf, *pre_mlp;
} ncf_cfg;

extern const recnn__model_vt recnn__vt_gmf, recnn__vt_mlp, recnn__vt_neumf;

/* ---- shapes ---------------------------------------------------------------- */

typedef struct dims {
    int kind;
    int rating;                      /* task=rating */
    int64_t nu, ni;
    int64_t F;                       /* GMF factors (0: no GMF branch) */
    int64_t E;                       /* MLP embedding (0: no MLP branch) */
    int nl;                          /* dense layers in the tower */
    int64_t sz[NCF_MAX_LAYERS + 1];  /* sz[0] = 2E, sz[k+1] = width of layer k */
    int64_t top;                     /* width into the output layer */
} dims;

static int kind_of(const recnn_model *m)
{
    return m->vt == &recnn__vt_gmf ? K_GMF : m->vt == &recnn__vt_mlp ? K_MLP : K_NEUMF;
}

/* Parses "32,16,8" into sizes; returns the count or a negative status. */
static int parse_layers(const char *text, int64_t *sz, const char *kind)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > (1 << 20))
            return recnn__fail(RECNN_E_INVALID,
                               "%s: layers=\"%s\" must be positive integers separated by "
                               "commas (e.g. 32,16,8)",
                               kind, text);
        if (n == NCF_MAX_LAYERS + 1)
            return recnn__fail(RECNN_E_INVALID, "%s: layers=\"%s\" has more than %d sizes",
                               kind, text, NCF_MAX_LAYERS + 1);
        sz[n++] = v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return recnn__fail(RECNN_E_INVALID, "%s: layers=\"%s\": unexpected '%c'", kind,
                               text, *p);
    }
    if (n == 0)
        return recnn__fail(RECNN_E_INVALID, "%s: layers is empty", kind);
    if (sz[0] % 2)
        return recnn__fail(RECNN_E_INVALID,
                           "%s: layers=\"%s\": the first size is the MLP input, two "
                           "embeddings of size/2, so it must be even",
                           kind, text);
    return n;
}

static int make_dims(const recnn_model *m, int64_t nu, int64_t ni, dims *d)
{
    const ncf_cfg *c = RECNN__CFG(m, ncf_cfg);
    memset(d, 0, sizeof *d);
    d->kind = kind_of(m);
    d->rating = strcmp(c->task, "rating") == 0;
    d->nu = nu;
    d->ni = ni;
    if (d->kind != K_MLP)
        d->F = c->factors;
    if (d->kind != K_GMF) {
        int n = parse_layers(c->layers, d->sz, m->vt->kind);
        if (n < 0)
            return n;
        d->E = d->sz[0] / 2;
        d->nl = n - 1;
    }
    int64_t mlp_top = d->kind == K_GMF ? 0 : d->sz[d->nl];
    d->top = d->F + mlp_top;
    return RECNN_OK;
}

/* ---- the network ------------------------------------------------------------ */

typedef struct net {
    int64_t maxb;
    recnn__layer *gu, *gi, *prod;    /* GMF branch */
    recnn__layer *mu, *mi, *cat;     /* MLP branch */
    recnn__layer *dense[NCF_MAX_LAYERS];
    recnn__layer *fuse;              /* NeuMF: concat(GMF, MLP) */
    recnn__layer *out;               /* dense top -> 1 */
    int alias;                       /* weights borrowed from the master */
    /* training buffers */
    float *lab, *gz, *sp, *gp;
    int32_t *ub, *ib;
    recnn__param *params[4 + NCF_MAX_LAYERS * 2 + 2];
    int n_params;
} net;

/* The layers that own parameters, in tensor order. */
static int param_layers(const net *n, recnn__layer **out)
{
    int k = 0;
    if (n->gu) {
        out[k++] = n->gu;
        out[k++] = n->gi;
    }
    if (n->mu) {
        out[k++] = n->mu;
        out[k++] = n->mi;
    }
    for (int j = 0; j < NCF_MAX_LAYERS; j++)
        if (n->dense[j])
            out[k++] = n->dense[j];
    out[k++] = n->out;
    return k;
}

static void net_free(net *n)
{
    if (!n)
        return;
    recnn__layer *pl[4 + NCF_MAX_LAYERS + 1];
    int np = n->out ? param_layers(n, pl) : 0;
    if (n->alias)
        for (int j = 0; j < np; j++)
            for (int q = 0; q < pl[j]->n_params; q++)
                pl[j]->params[q].w = NULL; /* the master's, not ours */
    recnn__layer_free(n->gu);
    recnn__layer_free(n->gi);
    recnn__layer_free(n->prod);
    recnn__layer_free(n->mu);
    recnn__layer_free(n->mi);
    recnn__layer_free(n->cat);
    for (int j = 0; j < NCF_MAX_LAYERS; j++)
        recnn__layer_free(n->dense[j]);
    recnn__layer_free(n->fuse);
    recnn__layer_free(n->out);
    recnn__free(n->lab);
    recnn__free(n->gz);
    recnn__free(n->sp);
    recnn__free(n->gp);
    recnn__free(n->ub);
    recnn__free(n->ib);
    free(n);
}

/* A network for batches of up to maxb rows.  train != 0 also allocates the
 * layers' workspaces and the loss buffers.  Weights are zero. */
static int net_create(net **out, const dims *d, int64_t maxb, int train)
{
    net *n = calloc(1, sizeof *n);
    if (!n)
        return recnn__fail(RECNN_E_NOMEM, "ncf: out of memory");
    n->maxb = maxb;
    int st = RECNN_OK;
    if (d->F) {
        if (!st)
            st = recnn__embedding_create(&n->gu, d->nu, d->F, maxb);
        if (!st)
            st = recnn__embedding_create(&n->gi, d->ni, d->F, maxb);
        if (!st)
            st = recnn__product_create(&n->prod, d->F, maxb);
    }
    if (d->E) {
        if (!st)
            st = recnn__embedding_create(&n->mu, d->nu, d->E, maxb);
        if (!st)
            st = recnn__embedding_create(&n->mi, d->ni, d->E, maxb);
        if (!st)
            st = recnn__concat_create(&n->cat, d->E, d->E, maxb);
        for (int k = 0; k < d->nl && !st; k++)
            st = recnn__dense_create(&n->dense[k], d->sz[k], d->sz[k + 1], 1, maxb);
    }
    if (!st && d->kind == K_NEUMF)
        st = recnn__concat_create(&n->fuse, d->F, d->sz[d->nl], maxb);
    if (!st)
        st = recnn__dense_create(&n->out, d->top, 1, 1, maxb);
    if (!st && train) {
        recnn__layer *all[] = {n->gu, n->gi, n->prod, n->mu, n->mi, n->cat, n->fuse, n->out};
        for (size_t j = 0; j < sizeof all / sizeof *all && !st; j++)
            if (all[j])
                st = recnn__layer_alloc_io(all[j]);
        for (int k = 0; k < d->nl && !st; k++)
            st = recnn__layer_alloc_io(n->dense[k]);
        if (!st) {
            n->lab = recnn__alloc((size_t)maxb, sizeof(float));
            n->gz = recnn__alloc((size_t)maxb, sizeof(float));
            n->sp = recnn__alloc((size_t)maxb, sizeof(float));
            n->gp = recnn__alloc((size_t)maxb, sizeof(float));
            n->ub = recnn__alloc((size_t)maxb, sizeof(int32_t));
            n->ib = recnn__alloc((size_t)maxb, sizeof(int32_t));
            if (!n->lab || !n->gz || !n->sp || !n->gp || !n->ub || !n->ib)
                st = RECNN_E_NOMEM;
        }
    }
    if (!st) {
        recnn__layer *pl[4 + NCF_MAX_LAYERS + 1];
        int np = param_layers(n, pl);
        for (int j = 0; j < np; j++)
            n->n_params += recnn__layer_params(pl[j], n->params + n->n_params,
                                               (int)(sizeof n->params / sizeof *n->params) -
                                                   n->n_params);
    }
    if (st) {
        net_free(n);
        return st == RECNN_E_NOMEM ? recnn__fail(RECNN_E_NOMEM, "ncf: out of memory") : st;
    }
    *out = n;
    return RECNN_OK;
}

/* Makes replica r read the master's weights (r keeps its own gradients). */
static void net_alias(net *r, const net *master)
{
    for (int j = 0; j < r->n_params; j++) {
        recnn__free(r->params[j]->w);
        r->params[j]->w = master->params[j]->w;
    }
    r->alias = 1;
}

static int net_init(net *n, const dims *d, recnn_rng *r)
{
    int st = RECNN_OK;
    recnn__layer *emb[] = {n->gu, n->gi, n->mu, n->mi};
    for (int j = 0; j < 4 && !st; j++)
        if (emb[j])
            st = recnn__layer_init(emb[j], RECNN__INIT_NORMAL, 0.01f, r);
    for (int k = 0; k < d->nl && !st; k++)
        st = recnn__layer_init(n->dense[k], RECNN__INIT_XAVIER_UNIFORM, 0.0f, r);
    if (!st)
        st = recnn__layer_init(n->out, RECNN__INIT_LECUN_UNIFORM, 0.0f, r);
    return st;
}

/* Activations of one forward pass: the layers' own workspaces (training)
 * or caller buffers (inference, thread-safe on a shared net). */
typedef struct acts {
    float *eu, *ei, *g, *emu, *emi, *x0, *h[NCF_MAX_LAYERS], *f, *z;
} acts;

static acts train_acts(const net *n, const dims *d)
{
    acts a;
    memset(&a, 0, sizeof a);
    if (d->F) {
        a.eu = n->gu->y;
        a.ei = n->gi->y;
        a.g = n->prod->y;
    }
    if (d->E) {
        a.emu = n->mu->y;
        a.emi = n->mi->y;
        a.x0 = n->cat->y;
        for (int k = 0; k < d->nl; k++)
            a.h[k] = n->dense[k]->y;
    }
    if (n->fuse)
        a.f = n->fuse->y;
    a.z = n->out->y;
    return a;
}

static float *alloc_acts(acts *a, const dims *d, int64_t c)
{
    int64_t total = 2 * d->F + d->F + 2 * d->E + 2 * d->E + d->top + 1;
    for (int k = 0; k < d->nl; k++)
        total += d->sz[k + 1];
    float *buf = recnn__alloc((size_t)(total * c), sizeof(float));
    if (!buf)
        return NULL;
    memset(a, 0, sizeof *a);
    float *p = buf;
#define TAKE(field, w)                                                                     \
    do {                                                                                   \
        a->field = p;                                                                      \
        p += (w) * c;                                                                      \
    } while (0)
    if (d->F) {
        TAKE(eu, d->F);
        TAKE(ei, d->F);
        TAKE(g, d->F);
    }
    if (d->E) {
        TAKE(emu, d->E);
        TAKE(emi, d->E);
        TAKE(x0, 2 * d->E);
        for (int k = 0; k < d->nl; k++)
            TAKE(h[k], d->sz[k + 1]);
    }
    if (d->kind == K_NEUMF)
        TAKE(f, d->top);
    TAKE(z, 1);
#undef TAKE
    return buf;
}

/* The input of the output layer. */
static const float *top_input(const acts *a, const dims *d)
{
    if (d->kind == K_NEUMF)
        return a->f;
    if (d->kind == K_GMF)
        return a->g;
    return d->nl ? a->h[d->nl - 1] : a->x0;
}

/* ReLU in place, and its backward (g = 0 where the output h is 0): plain
 * loops the compiler turns into vector max/blend, instead of the generic
 * activation dispatch per call. */
static void relu_inplace(float *h, int64_t n)
{
#pragma omp simd
    for (int64_t k = 0; k < n; k++)
        h[k] = h[k] > 0.0f ? h[k] : 0.0f;
}

static void relu_backward_inplace(const float *h, float *g, int64_t n)
{
#pragma omp simd
    for (int64_t k = 0; k < n; k++)
        g[k] = h[k] > 0.0f ? g[k] : 0.0f;
}

/* Logits a->z for cnt (u, i) pairs, cnt <= n->maxb.  Reads n's weights
 * only (the outputs go to a), so one net serves concurrent callers when
 * each passes its own acts.
 *
 * The embedding lookups are fused with what consumes them: the GMF
 * product is formed straight from the two tables (into the NeuMF output
 * layer's input when there is one), the MLP input row is the two
 * embedding rows copied side by side; the backward pass scatters into the
 * tables' gradient rows the same way.  (The embedding, product and concat
 * layers of the net still own the parameters and the buffers.)  The
 * attribute keeps GCC from turning the short row copies into memcpy
 * calls. */
#define NO_LDP __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LDP static int net_forward(net *n, const dims *d, acts *a, int64_t cnt, const int32_t *u,
                              const int32_t *i)
{
    for (int64_t r = 0; r < cnt; r++)
        if (u[r] < 0 || u[r] >= d->nu || i[r] < 0 || i[r] >= d->ni)
            return recnn__fail(RECNN_E_INVALID,
                               "ncf: pair (%d, %d) outside the model's %lld users x %lld items",
                               (int)u[r], (int)i[r], (long long)d->nu, (long long)d->ni);
    const int neumf = d->kind == K_NEUMF;
    const int64_t F = d->F, E = d->E, top = d->top;
    if (F) {
        const float *P = n->gu->params[0].w, *Q = n->gi->params[0].w;
        float *g = neumf ? a->f : a->g;
        const int64_t ld = neumf ? top : F;
        for (int64_t r = 0; r < cnt; r++) {
            const float *pu = P + (int64_t)u[r] * F, *qi = Q + (int64_t)i[r] * F;
            float *gr = g + r * ld;
#pragma omp simd
            for (int64_t k = 0; k < F; k++)
                gr[k] = pu[k] * qi[k];
        }
    }
    int st = RECNN_OK;
    if (E) {
        const float *P = n->mu->params[0].w, *Q = n->mi->params[0].w;
        for (int64_t r = 0; r < cnt; r++) {
            const float *pu = P + (int64_t)u[r] * E, *qi = Q + (int64_t)i[r] * E;
            float *x = a->x0 + r * 2 * E;
#pragma omp simd
            for (int64_t k = 0; k < E; k++) {
                x[k] = pu[k];
                x[E + k] = qi[k];
            }
        }
        const float *x = a->x0;
        for (int k = 0; k < d->nl && !st; k++) {
            st = recnn__layer_forward(n->dense[k], cnt, x, a->h[k], 0);
            relu_inplace(a->h[k], cnt * d->sz[k + 1]);
            x = a->h[k];
        }
        if (neumf && !st) {
            const int64_t L = d->sz[d->nl];
            for (int64_t r = 0; r < cnt; r++) {
                const float *hr = x + r * L;
                float *fr = a->f + r * top + F;
#pragma omp simd
                for (int64_t k = 0; k < L; k++)
                    fr[k] = hr[k];
            }
        }
    }
    if (!st)
        st = recnn__layer_forward(n->out, cnt, top_input(a, d), a->z, 0);
    return st;
}

/* Backward from n->gz (d loss / d logit) through the training net n (its
 * workspaces hold the forward's activations); accumulates n's gradients.
 * The weights are those of the forward (the step comes after). */
NO_LDP static int net_backward(net *n, const dims *d, int64_t cnt, const int32_t *u,
                               const int32_t *i)
{
    acts a = train_acts(n, d);
    const int neumf = d->kind == K_NEUMF;
    const int64_t F = d->F, E = d->E, top = d->top;
    float *gtop = n->out->gx; /* d loss / d (output layer input), cnt x top */
    int st = recnn__layer_backward(n->out, cnt, top_input(&a, d), a.z, n->gz, gtop);
    if (st)
        return st;
    if (F) {
        recnn__param *pp = &n->gu->params[0], *pq = &n->gi->params[0];
        const float *P = pp->w, *Q = pq->w;
        for (int64_t r = 0; r < cnt; r++) {
            recnn__param_touch(pp, u[r]);
            recnn__param_touch(pq, i[r]);
            const float *pu = P + (int64_t)u[r] * F, *qi = Q + (int64_t)i[r] * F;
            float *gu = pp->g + (int64_t)u[r] * F, *gi = pq->g + (int64_t)i[r] * F;
            const float *dg = gtop + r * (neumf ? top : F);
#pragma omp simd
            for (int64_t k = 0; k < F; k++) {
                gu[k] += dg[k] * qi[k];
                gi[k] += dg[k] * pu[k];
            }
        }
    }
    if (E) {
        float *g = gtop;
        if (neumf) { /* the MLP part of the output layer's input gradient */
            const int64_t L = d->sz[d->nl];
            g = n->fuse->gx2;
            for (int64_t r = 0; r < cnt; r++) {
                const float *sr = gtop + r * top + F;
                float *gr = g + r * L;
#pragma omp simd
                for (int64_t k = 0; k < L; k++)
                    gr[k] = sr[k];
            }
        }
        for (int k = d->nl - 1; k >= 0 && !st; k--) {
            relu_backward_inplace(a.h[k], g, cnt * d->sz[k + 1]);
            st = recnn__layer_backward(n->dense[k], cnt, k ? a.h[k - 1] : a.x0, a.h[k], g,
                                       n->dense[k]->gx);
            g = n->dense[k]->gx;
        }
        if (st)
            return st;
        recnn__param *pp = &n->mu->params[0], *pq = &n->mi->params[0];
        for (int64_t r = 0; r < cnt; r++) {
            recnn__param_touch(pp, u[r]);
            recnn__param_touch(pq, i[r]);
            float *gu = pp->g + (int64_t)u[r] * E, *gi = pq->g + (int64_t)i[r] * E;
            const float *gr = g + r * 2 * E;
#pragma omp simd
            for (int64_t k = 0; k < E; k++) {
                gu[k] += gr[k];
                gi[k] += gr[E + k];
            }
        }
    }
    return st;
}

/* Loss of a shard (scaled by `scale`) and n->gz. */
static double net_loss(net *n, const dims *d, int64_t cnt, float scale)
{
    const float *z = n->out->y;
    if (!d->rating) {
        /* BCE on logits and its gradient in one pass, in float: with
         * e = exp(-|z|) in (0, 1], loss = max(z, 0) - z y + log(1 + e)
         * (log1p's extra accuracy for tiny e is below float's) and
         * sigmoid(z) = 1 / (1 + e) (z >= 0) or e / (1 + e) (z < 0). */
        double s = 0;
        const float *y = n->lab;
        float *gz = n->gz;
        for (int64_t k = 0; k < cnt; k++) {
            const float zk = z[k], e = expf(-fabsf(zk)), inv = 1.0f / (1.0f + e);
            s += (double)((zk > 0.0f ? zk : 0.0f) - zk * y[k] + logf(1.0f + e));
            gz[k] = scale * ((zk >= 0.0f ? inv : e * inv) - y[k]);
        }
        return (double)scale * s;
    }
    recnn__act_forward(RECNN__ACT_SIGMOID, 0.0f, cnt, 1, z, n->sp);
    double l = recnn__loss_mse(cnt, n->sp, n->lab, NULL, scale, n->gp);
    recnn__act_backward(RECNN__ACT_SIGMOID, 0.0f, cnt, 1, n->sp, n->gp, n->gz);
    return l;
}

/* ---- model state ------------------------------------------------------------ */

typedef struct ncf_state {
    dims d;
    net *master;
} ncf_state;

static void ncf_free_state(recnn_model *m)
{
    ncf_state *s = m->state;
    if (!s)
        return;
    net_free(s->master);
    free(s);
    m->state = NULL;
}

/* task=implicit predicts the probability of an interaction: an unknown
 * pair has none (not the mean rating of the data it was given). */
static float ncf_default(const recnn_model *m)
{
    const ncf_cfg *c = RECNN__CFG(m, ncf_cfg);
    return strcmp(c->task, "implicit") == 0 ? 0.0f : (float)m->global_mean;
}

static int state_new(recnn_model *m, const dims *d)
{
    ncf_state *s = calloc(1, sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "ncf: out of memory");
    s->d = *d;
    const ncf_cfg *c = RECNN__CFG(m, ncf_cfg);
    int st = net_create(&s->master, d, c->batch, 1);
    if (st) {
        free(s);
        return st;
    }
    m->state = s;
    return RECNN_OK;
}

static float to_output(const ncf_state *s, const recnn_model *m, float z)
{
    float p = z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
    if (!s->d.rating)
        return p;
    return m->scale_min + p * (m->scale_max - m->scale_min);
}

static int ncf_predict(const recnn_model *m, int64_t n, const int32_t *u, const int32_t *i,
                       float *out)
{
    const ncf_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "%s: not trained", m->vt->kind);
    int64_t C = s->master->maxb;
    int64_t nchunks = (n + C - 1) / C;
    int T = recnn__threads();
    if (nchunks < 2 * T)
        T = 1;
    int st = RECNN_OK;
    if (T > 1)
        recnn__blas_threads(1);
#pragma omp parallel num_threads(T)
    {
        acts a;
        float *buf = alloc_acts(&a, &s->d, C);
        int my = buf ? RECNN_OK : RECNN_E_NOMEM;
#pragma omp for schedule(static)
        for (int64_t q = 0; q < nchunks; q++) {
            if (my)
                continue;
            int64_t off = q * C, c = n - off < C ? n - off : C;
            my = net_forward(s->master, &s->d, &a, c, u + off, i + off);
            if (!my)
                for (int64_t k = 0; k < c; k++)
                    out[off + k] = to_output(s, m, a.z[k]);
        }
        recnn__free(buf);
        if (my) {
#pragma omp critical(ncf_predict_status)
            if (!st)
                st = my;
        }
    }
    if (T > 1)
        recnn__blas_threads(recnn__budget());
    if (st == RECNN_E_NOMEM)
        return recnn__fail(RECNN_E_NOMEM, "ncf: out of memory predicting");
    return st;
}

/* Logits of every item for internal user u. */
static int score_all(const ncf_state *s, int32_t u, float *scores)
{
    int64_t ni = s->d.ni, C = s->master->maxb;
    int32_t *uu = malloc((size_t)C * sizeof *uu), *ii = malloc((size_t)C * sizeof *ii);
    acts a;
    float *buf = alloc_acts(&a, &s->d, C);
    int st = (uu && ii && buf) ? RECNN_OK : recnn__fail(RECNN_E_NOMEM, "ncf: out of memory");
    for (int64_t off = 0; off < ni && !st; off += C) {
        int64_t c = ni - off < C ? ni - off : C;
        for (int64_t k = 0; k < c; k++) {
            uu[k] = u;
            ii[k] = (int32_t)(off + k);
        }
        st = net_forward(s->master, &s->d, &a, c, uu, ii);
        if (!st)
            memcpy(scores + off, a.z, (size_t)c * sizeof(float));
    }
    free(uu);
    free(ii);
    recnn__free(buf);
    return st;
}

static int ncf_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const ncf_state *s = m->state;
    if (!s)
        return recnn__fail(RECNN_E_STATE, "%s: not trained", m->vt->kind);
    return score_all(s, u, scores);
}

/* ---- tensors (persistence and best-epoch snapshots) -------------------------- */

static const char *const W_NAMES[NCF_MAX_LAYERS] = {"mlp_w0", "mlp_w1", "mlp_w2", "mlp_w3",
                                                    "mlp_w4", "mlp_w5", "mlp_w6", "mlp_w7"};
static const char *const B_NAMES[NCF_MAX_LAYERS] = {"mlp_b0", "mlp_b1", "mlp_b2", "mlp_b3",
                                                    "mlp_b4", "mlp_b5", "mlp_b6", "mlp_b7"};

/* Tensor views of the master's parameters (names fixed per position). */
static int net_tensors(const net *n, const dims *d, recnn__tensor *t, int max)
{
    int k = 0;
#define PUT(nm, p)                                                                         \
    do {                                                                                   \
        if (k < max) {                                                                     \
            t[k] = (recnn__tensor){(nm), RECNN__F32, (p)->count, (p)->w, 0, 0};            \
        }                                                                                  \
        k++;                                                                               \
    } while (0)
    if (d->F) {
        PUT("gmf_user", &n->gu->params[0]);
        PUT("gmf_item", &n->gi->params[0]);
    }
    if (d->E) {
        PUT("mlp_user", &n->mu->params[0]);
        PUT("mlp_item", &n->mi->params[0]);
        for (int j = 0; j < d->nl; j++) {
            PUT(W_NAMES[j], n->dense[j]->pw);
            PUT(B_NAMES[j], n->dense[j]->pb);
        }
    }
    PUT("out_w", n->out->pw);
    PUT("out_b", n->out->pb);
#undef PUT
    return k < max ? k : max;
}

static int ncf_tensors(const recnn_model *m, recnn__tensor *out, int max)
{
    const ncf_state *s = m->state;
    if (!s)
        return 0;
    return net_tensors(s->master, &s->d, out, max);
}

static int ncf_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    dims d;
    int st = make_dims(m, m->n_users, m->n_items, &d);
    if (st)
        return st;
    ncf_free_state(m);
    st = state_new(m, &d);
    if (st)
        return st;
    ncf_state *s = m->state;
    recnn__tensor want[4 + 2 * NCF_MAX_LAYERS + 2];
    int nw = net_tensors(s->master, &d, want, (int)(sizeof want / sizeof *want));
    st = recnn__tensors_copy_in(m, want, nw, t, n);
    if (st)
        ncf_free_state(m);
    return st;
}

/* ---- training data ----------------------------------------------------------- */

typedef struct sample {
    int32_t u, i;
    float y;
} sample;

/* A seed for (seed, epoch, stream): splitmix64 finaliser over the mix. */
static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t z = a ^ (b * 0x9E3779B97F4A7C15ull) ^ (c * 0xC2B2AE3D27D4EB4Full);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One epoch's training examples in shuffled order: every rating as a
 * positive (implicit: y = 1; rating: y = rating scaled to [0,1]) and, for
 * implicit, `neg` negatives per positive from the data layer's sampler
 * (uniform over the items the user has not rated, drawn anew each epoch).
 * Writes n_ratings * (1 + neg) examples (rating: n_ratings). */
static int epoch_samples(const recnn_dataset *tr, const dims *d, int64_t neg, uint64_t seed,
                         int epoch, int32_t *negbuf, sample *out, int64_t *n_out)
{
    int64_t per = d->rating ? 1 : 1 + neg, nr = tr->n_ratings;
    if (per > 1) {
        int st = recnn__sample_negatives(tr, neg, RECNN_NEG_UNIFORM, 0.0,
                                         mix3(seed, (uint64_t)epoch, 1), negbuf);
        if (st)
            return st;
    }
    float lo = tr->scale_min, range = tr->scale_max - tr->scale_min;
#pragma omp parallel for schedule(static) num_threads(recnn__threads()) if (nr > 100000)
    for (int64_t r = 0; r < nr; r++) {
        sample *o = out + r * per;
        float y = d->rating ? (tr->value[r] - lo) / range : 1.0f;
        o[0] = (sample){tr->user[r], tr->item[r], y};
        for (int64_t j = 1; j < per; j++)
            o[j] = (sample){tr->user[r], negbuf[r * neg + j - 1], 0.0f};
    }
    /* Fisher-Yates with struct moves (the generic byte shuffle costs a
     * memcpy call per move); the same draws as recnn__rng_shuffle */
    recnn_rng r;
    recnn__rng_seed(&r, mix3(seed, (uint64_t)epoch, 2));
    for (int64_t k = nr * per - 1; k > 0; k--) {
        int64_t j = (int64_t)recnn__rng_below(&r, (uint64_t)k + 1);
        sample t = out[k];
        out[k] = out[j];
        out[j] = t;
    }
    *n_out = nr * per;
    return RECNN_OK;
}

/* ---- validation ---------------------------------------------------------------- */

static int valid_score_fn(int64_t user_index, float *scores, void *ctx)
{
    return score_all(ctx, (int32_t)user_index, scores);
}

/* ---- fit --------------------------------------------------------------------- */

static int copy_pretrained(recnn_model *m, const ncf_cfg *c);

/* Forward, loss and backward of one shard of a mini-batch on replica w
 * (its gradients accumulate); *loss = the shard's loss times `scale`. */
static int run_shard(net *w, const dims *d, const sample *sm, int64_t cnt, float scale,
                     double *loss)
{
    *loss = 0;
    if (cnt <= 0)
        return RECNN_OK;
    for (int64_t k = 0; k < cnt; k++) {
        w->ub[k] = sm[k].u;
        w->ib[k] = sm[k].i;
        w->lab[k] = sm[k].y;
    }
    acts a = train_acts(w, d);
    int st = net_forward(w, d, &a, cnt, w->ub, w->ib);
    if (!st) {
        *loss = net_loss(w, d, cnt, scale);
        st = net_backward(w, d, cnt, w->ub, w->ib);
    }
    return st;
}

/* Mini-batches per epoch used to time parallel vs. serial shards. */
#define PROBE 16

/* Adds the replicas' gradients of parameter j into the master's, in
 * replica order. */
static void reduce_param(net **nets, int T, const int64_t *shard_n, int j)
{
    recnn__param *pm = nets[0]->params[j];
    for (int t = 1; t < T; t++) {
        if (!shard_n[t])
            continue;
        recnn__param *pr = nets[t]->params[j];
        if (recnn__param_sparse(pr)) {
            const int64_t rl = pr->row_len > 0 ? pr->row_len : pr->count;
            /* the common row widths as constants: one vector add per row */
#define ADD_ROWS(W)                                                                        \
    for (int64_t q = 0; q < pr->n_rows; q++) {                                             \
        int64_t row = pr->rows[q];                                                         \
        recnn__param_touch(pm, row);                                                       \
        float *dst = pm->g + row * (W);                                                    \
        const float *src = pr->g + row * (W);                                              \
        for (int64_t e = 0; e < (W); e++)                                                  \
            dst[e] += src[e];                                                              \
    }
            if (rl == 8) {
                ADD_ROWS(8)
            } else if (rl == 16) {
                ADD_ROWS(16)
            } else if (rl == 32) {
                ADD_ROWS(32)
            } else {
                ADD_ROWS(rl)
            }
#undef ADD_ROWS
        } else {
            for (int64_t e = 0; e < pr->count; e++)
                pm->g[e] += pr->g[e];
            recnn__param_touch_all(pm);
        }
    }
}

/* The parameters are split into groups, each with its own Adam (Adam is
 * element-wise, so this is the same update as one optimizer over all of
 * them), so that the groups' reduce + step + zero run on separate threads.
 * Group g: reduce its parameters' gradients, add L2, step, zero the
 * gradients of those parameters in every replica. */
typedef struct groups {
    int G;
    int of[4 + 2 * NCF_MAX_LAYERS + 2]; /* group of parameter j */
    recnn__optim *opt[NCF_MAX_THREADS];
    double l2loss[NCF_MAX_THREADS];
    int st[NCF_MAX_THREADS];
} groups;

/* recnn__param_zero_grad, with the touched embedding rows (8-64 floats)
 * cleared by a loop instead of a memset call per row (the attribute keeps
 * GCC from turning the loop back into that call). */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) static void
zero_grad(recnn__param *p)
{
    int64_t rl = p->row_len > 0 ? p->row_len : p->count;
    if (!recnn__param_sparse(p) || rl > 64) {
        recnn__param_zero_grad(p);
        return;
    }
    const int32_t *rows = p->rows;
    const int64_t nr = p->n_rows;
#define ZERO_ROWS(W)                                                                       \
    for (int64_t k = 0; k < nr; k++) {                                                     \
        float *g = p->g + (int64_t)rows[k] * (W);                                          \
        for (int64_t e = 0; e < (W); e++)                                                  \
            g[e] = 0.0f;                                                                   \
    }
    if (rl == 8) {
        ZERO_ROWS(8)
    } else if (rl == 16) {
        ZERO_ROWS(16)
    } else if (rl == 32) {
        ZERO_ROWS(32)
    } else {
        ZERO_ROWS(rl)
    }
#undef ZERO_ROWS
    for (int64_t k = 0; k < nr; k++)
        p->mark[rows[k]] = 0;
    p->n_rows = 0;
    p->dense = 0;
}

static int group_step(groups *gr, int g, net **nets, int T, const int64_t *sn,
                      int dense_adam, double l2)
{
    net *mst = nets[0];
    recnn__param *mine[4 + 2 * NCF_MAX_LAYERS + 2];
    int nm = 0;
    for (int j = 0; j < mst->n_params; j++) {
        if (gr->of[j] != g)
            continue;
        reduce_param(nets, T, sn, j);
        if (dense_adam)
            recnn__param_touch_all(mst->params[j]);
        mine[nm++] = mst->params[j];
    }
    gr->l2loss[g] = l2 > 0 ? recnn__params_l2(mine, nm, (float)l2) : 0.0;
    int st = recnn__optim_step(gr->opt[g]);
    for (int j = 0; j < mst->n_params; j++)
        if (gr->of[j] == g)
            for (int t = 0; t < T; t++)
                zero_grad(nets[t]->params[j]);
    return st;
}

/* Greedy, deterministic split of the parameters into G groups of similar
 * per-step work (a row-tracked table costs about batch rows per step). */
static int groups_init(groups *gr, const net *mst, int G, double lr, int64_t batch)
{
    memset(gr, 0, sizeof *gr);
    gr->G = G < mst->n_params ? G : mst->n_params;
    double load[NCF_MAX_THREADS] = {0};
    for (int j = 0; j < mst->n_params; j++) {
        const recnn__param *p = mst->params[j];
        double cost = p->mark ? (double)(p->row_len > 0 ? p->row_len : 1) * (double)batch
                              : (double)p->count;
        int best = 0;
        for (int g = 1; g < gr->G; g++)
            if (load[g] < load[best])
                best = g;
        gr->of[j] = best;
        load[best] += cost;
    }
    int st = RECNN_OK;
    for (int g = 0; g < gr->G && !st; g++)
        st = recnn__optim_create(&gr->opt[g], RECNN__OPT_ADAM, lr);
    for (int j = 0; j < mst->n_params && !st; j++)
        st = recnn__optim_add(gr->opt[gr->of[j]], mst->params[j]);
    return st;
}

static void groups_free(groups *gr)
{
    for (int g = 0; g < NCF_MAX_THREADS; g++)
        recnn__optim_free(gr->opt[g]);
}

static int ncf_fit(recnn_model *m, const recnn_dataset *train, const recnn_dataset *valid)
{
    const ncf_cfg *c = RECNN__CFG(m, ncf_cfg);
    dims d;
    int st = make_dims(m, train->n_users, train->n_items, &d);
    if (st)
        return st;
    if (d.rating && (train->implicit || !(train->scale_max > train->scale_min)))
        return recnn__fail(RECNN_E_INVALID,
                           "%s: task=rating needs explicit ratings on a scale (this "
                           "training set is implicit feedback)",
                           m->vt->kind);
    if (d.kind == K_NEUMF && strcmp(c->pretrain, "auto") == 0 && !c->pre_gmf) {
        /* The paper's recipe: fit GMF and MLP with these settings, then
         * start NeuMF from them. */
        recnn_model *g = NULL, *p = NULL;
        char text[4 * RECNN__STR_MAX];
        int64_t pe = c->pretrain_epochs > 0 ? c->pretrain_epochs : c->epochs;
        recnn__snprintf_c(text, sizeof text,
                 "factors=%lld negatives=%lld lr=%.17g batch=%lld epochs=%lld l2=%.17g "
                 "seed=%lld task=%s",
                 (long long)c->factors, (long long)c->negatives, c->lr, (long long)c->batch,
                 (long long)pe, c->l2, (long long)c->seed, c->task);
        st = recnn__model_new(&recnn__vt_gmf, &g);
        if (!st)
            st = recnn__model_configure_raw(&recnn__vt_gmf, g->config, text);
        if (!st)
            st = recnn_model_fit(g, train, NULL);
        recnn__snprintf_c(text, sizeof text,
                 "layers=%s negatives=%lld lr=%.17g batch=%lld epochs=%lld l2=%.17g "
                 "seed=%lld task=%s",
                 c->layers, (long long)c->negatives, c->lr, (long long)c->batch,
                 (long long)pe, c->l2, (long long)c->seed + 1, c->task);
        if (!st)
            st = recnn__model_new(&recnn__vt_mlp, &p);
        if (!st)
            st = recnn__model_configure_raw(&recnn__vt_mlp, p->config, text);
        if (!st)
            st = recnn_model_fit(p, train, NULL);
        if (!st) {
            ncf_cfg *wc = m->config;
            wc->pre_gmf = g;
            wc->pre_mlp = p;
            st = ncf_fit(m, train, valid);
            wc->pre_gmf = wc->pre_mlp = NULL;
        }
        recnn_model_free(g);
        recnn_model_free(p);
        return st;
    }

    ncf_free_state(m);
    st = state_new(m, &d);
    if (st)
        return st;
    ncf_state *s = m->state;
    recnn_rng rng;
    recnn__rng_stream(&rng, (uint64_t)c->seed, 0);
    st = net_init(s->master, &d, &rng);
    if (!st && c->pre_gmf)
        st = copy_pretrained(m, c);
    if (st)
        return st;

    int T = recnn__threads();
    if (T > NCF_MAX_THREADS)
        T = NCF_MAX_THREADS;
    if (T > c->batch / 8)
        T = (int)(c->batch / 8) > 0 ? (int)(c->batch / 8) : 1;
    net *nets[NCF_MAX_THREADS] = {s->master};
    groups gr;
    memset(&gr, 0, sizeof gr);
    sample *smp = NULL;
    int32_t *negbuf = NULL;
    recnn_evaluator *ev = NULL;
    for (int t = 1; t < T && !st; t++) {
        st = net_create(&nets[t], &d, c->batch, 1);
        if (!st)
            net_alias(nets[t], s->master);
    }
    if (!st)
        st = groups_init(&gr, s->master, T, c->lr, c->batch);
    int64_t per = d.rating ? 1 : 1 + c->negatives, cap;
    if (!st) {
        cap = train->n_ratings * per;
        smp = recnn__alloc((size_t)cap, sizeof *smp);
        negbuf = recnn__alloc((size_t)(train->n_ratings * (per - 1) + 1), sizeof *negbuf);
        if (!smp || !negbuf)
            st = recnn__fail(RECNN_E_NOMEM, "%s: out of memory for %lld training examples",
                             m->vt->kind, (long long)cap);
    }
    const char *metric = d.rating ? "rmse" : "ndcg@10";
    const int dense_adam = strcmp(c->adam, "dense") == 0;
    if (!st && valid && !d.rating && recnn_dataset_n_ratings(valid) > 0) {
        st = recnn_evaluator_create(&ev, train, valid);
        if (!st)
            st = recnn_evaluator_configure(ev, "k=10 exclude_train=1 skip_unseen=1");
    }

    recnn__blas_threads(1);
    int next_probe = 1, backoff = 1, use_par = 1;
    for (int epoch = 1; epoch <= c->epochs && !st; epoch++) {
        double t0 = recnn__now();
        int64_t n = 0;
        st = epoch_samples(train, &d, c->negatives, (uint64_t)c->seed, epoch, negbuf, smp,
                           &n);
        double loss_sum = 0, t_par = 0, t_ser = 0;
        int n_par = 0, n_ser = 0;
        const int probing = T > 1 && epoch >= next_probe;
        for (int64_t off = 0; off < n && !st; off += c->batch) {
            int64_t nb = n - off < c->batch ? n - off : c->batch;
            float scale = 1.0f / (float)nb;
            int64_t s0[NCF_MAX_THREADS + 1], sn[NCF_MAX_THREADS];
            for (int t = 0; t <= T; t++)
                s0[t] = nb * t / T;
            for (int t = 0; t < T; t++)
                sn[t] = s0[t + 1] - s0[t];
            double lt[NCF_MAX_THREADS] = {0};
            int stt[NCF_MAX_THREADS] = {0};
            /* The shards, hence the bits, depend only on T.  Whether they
             * run on T threads or one after another on this thread is
             * decided by timing both at the start of each epoch: on a
             * busy machine, waiting for a descheduled thread at every
             * mini-batch costs more than the second core gives. */
            int64_t bidx = off / c->batch;
            /* Probe: alternate while both are measured; stop trying the
             * parallel shards once they are clearly slower (one batch of a
             * descheduled thread can cost a whole time slice). */
            int in_probe = probing && bidx < PROBE &&
                           !(n_par && n_ser && t_par / n_par > 3 * (t_ser / n_ser));
            int par = T > 1 &&
                      (in_probe ? bidx % 2 == 0
                                : (n_par && n_ser ? t_par / n_par <= t_ser / n_ser : use_par));
            double tb = recnn__now();
            int G = gr.G;
            const int dense = dense_adam;
            const double l2 = c->l2;
            if (par) {
#pragma omp parallel num_threads(T)
                {
                    int t = omp_get_thread_num();
                    stt[t] = run_shard(nets[t], &d, smp + off + s0[t], sn[t], scale, &lt[t]);
#pragma omp barrier
                    int ok = 1;
                    for (int q = 0; q < T; q++)
                        ok &= stt[q] == RECNN_OK;
                    if (ok && t < G)
                        gr.st[t] = group_step(&gr, t, nets, T, sn, dense, l2);
                }
            } else {
                int ok = 1;
                for (int t = 0; t < T; t++) {
                    stt[t] = run_shard(nets[t], &d, smp + off + s0[t], sn[t], scale, &lt[t]);
                    ok &= stt[t] == RECNN_OK;
                }
                for (int g = 0; g < G && ok; g++)
                    gr.st[g] = group_step(&gr, g, nets, T, sn, dense, l2);
            }
            if (in_probe) {
                *(par ? &t_par : &t_ser) += recnn__now() - tb;
                *(par ? &n_par : &n_ser) += 1;
            }
            for (int t = 0; t < T; t++) {
                if (stt[t] && !st)
                    st = stt[t];
                loss_sum += lt[t] * (double)nb;
            }
            for (int g = 0; g < G; g++) {
                if (gr.st[g] && !st)
                    st = gr.st[g];
                loss_sum += gr.l2loss[g] * (double)nb;
            }
        }
        if (st)
            break;
        if (probing && n_par && n_ser) {
            /* parallel clearly slower: probe again only after `backoff`
             * epochs (doubling); otherwise probe every epoch */
            use_par = t_par / n_par <= t_ser / n_ser;
            if (t_par / n_par > 3 * (t_ser / n_ser)) {
                next_probe = epoch + backoff;
                backoff = backoff < 64 ? 2 * backoff : 64;
            } else {
                next_probe = epoch + 1;
                backoff = 1;
            }
        }
        double loss = n ? loss_sum / (double)n : 0.0;
        if (!isfinite(loss)) {
            st = recnn__fail(RECNN_E_NUMERIC, "%s: the training loss diverged at epoch %d",
                             m->vt->kind, epoch);
            break;
        }
        double secs = recnn__now() - t0;
        double vm = NAN;
        if (valid && d.rating) {
            vm = recnn__valid_rmse(m, valid);
        } else if (ev) {
            recnn__blas_threads(recnn__budget());
            st = recnn_evaluator_run_fn(ev, valid_score_fn, s);
            recnn__blas_threads(1);
            if (!st)
                st = recnn_evaluator_value(ev, RECNN_METRIC_NDCG, 10, &vm);
            if (st)
                break;
        }
        int stop = recnn__fit_epoch(m, epoch, loss, vm, metric, d.rating, (int)c->patience,
                                    secs);
        if (stop < 0)
            st = RECNN_E_NOMEM;
        if (stop)
            break;
    }
    recnn__blas_threads(recnn__budget());
    for (int t = 1; t < T; t++)
        net_free(nets[t]);
    groups_free(&gr);
    recnn__free(smp);
    recnn__free(negbuf);
    recnn_evaluator_free(ev);
    return st;
}

/* ---- pre-training (NeuMF from GMF + MLP) ------------------------------------- */

static bool same_ids(const recnn__idmap *a, const recnn__idmap *b)
{
    return a == b || (a && b && a->n == b->n &&
                      memcmp(a->ext, b->ext, (size_t)a->n * sizeof *a->ext) == 0);
}

static int copy_pretrained(recnn_model *m, const ncf_cfg *c)
{
    const ncf_state *gs = c->pre_gmf->state, *ms = c->pre_mlp->state;
    ncf_state *s = m->state;
    const net *G = gs->master, *M = ms->master;
    net *N = s->master;
    float a = (float)c->alpha;
#define CP(dst, src) memcpy((dst)->w, (src)->w, (size_t)(dst)->count * sizeof(float))
    CP(&N->gu->params[0], &G->gu->params[0]);
    CP(&N->gi->params[0], &G->gi->params[0]);
    CP(&N->mu->params[0], &M->mu->params[0]);
    CP(&N->mi->params[0], &M->mi->params[0]);
    for (int k = 0; k < s->d.nl; k++) {
        CP(N->dense[k]->pw, M->dense[k]->pw);
        CP(N->dense[k]->pb, M->dense[k]->pb);
    }
#undef CP
    int64_t F = s->d.F, L = s->d.top - F;
    for (int64_t j = 0; j < F; j++)
        N->out->pw->w[j] = a * G->out->pw->w[j];
    for (int64_t j = 0; j < L; j++)
        N->out->pw->w[F + j] = (1.0f - a) * M->out->pw->w[j];
    N->out->pb->w[0] = a * G->out->pb->w[0] + (1.0f - a) * M->out->pb->w[0];
    return RECNN_OK;
}

RECNN_API int recnn_neumf_fit_pretrained(recnn_model *neumf, const recnn_model *gmf,
                                         const recnn_model *mlp,
                                         const recnn_dataset *train,
                                         const recnn_dataset *valid)
{
    if (!neumf || !gmf || !mlp || !train)
        return recnn__fail(RECNN_E_INVALID, "neumf pretraining: NULL argument");
    if (neumf->vt != &recnn__vt_neumf || gmf->vt != &recnn__vt_gmf ||
        mlp->vt != &recnn__vt_mlp)
        return recnn__fail(RECNN_E_INVALID,
                           "neumf pretraining: expected models of kinds neumf, gmf, mlp "
                           "(got %s, %s, %s)",
                           neumf->vt->kind, gmf->vt->kind, mlp->vt->kind);
    if (!gmf->fitted || !mlp->fitted || !gmf->state || !mlp->state)
        return recnn__fail(RECNN_E_STATE, "neumf pretraining: the gmf and mlp models must "
                                          "be trained");
    if (!same_ids(gmf->users, train->users) || !same_ids(gmf->items, train->items) ||
        !same_ids(mlp->users, train->users) || !same_ids(mlp->items, train->items))
        return recnn__fail(RECNN_E_INVALID,
                           "neumf pretraining: gmf and mlp were trained on another set of "
                           "users/items than this training set");
    const ncf_cfg *c = RECNN__CFG(neumf, ncf_cfg), *gc = RECNN__CFG(gmf, ncf_cfg),
                  *mc = RECNN__CFG(mlp, ncf_cfg);
    if (gc->factors != c->factors)
        return recnn__fail(RECNN_E_INVALID,
                           "neumf pretraining: gmf has factors=%lld, neumf factors=%lld",
                           (long long)gc->factors, (long long)c->factors);
    int64_t a[NCF_MAX_LAYERS + 1], b[NCF_MAX_LAYERS + 1];
    int na = parse_layers(mc->layers, a, "mlp"), nb = parse_layers(c->layers, b, "neumf");
    if (na < 0 || nb < 0)
        return na < 0 ? na : nb;
    if (na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0)
        return recnn__fail(RECNN_E_INVALID,
                           "neumf pretraining: mlp has layers=%s, neumf layers=%s",
                           mc->layers, c->layers);
    if (strcmp(gc->task, c->task) || strcmp(mc->task, c->task))
        return recnn__fail(RECNN_E_INVALID,
                           "neumf pretraining: task differs (gmf %s, mlp %s, neumf %s)",
                           gc->task, mc->task, c->task);
    if (neumf->fitted)
        return recnn__fail(RECNN_E_STATE, "neumf pretraining: neumf is already trained");
    ncf_cfg *wc = neumf->config;
    wc->pre_gmf = gmf;
    wc->pre_mlp = mlp;
    int st = recnn_model_fit(neumf, train, valid);
    wc->pre_gmf = wc->pre_mlp = NULL;
    return st;
}

/* ---- settings and vtables ----------------------------------------------------- */

#define OFF(f) offsetof(ncf_cfg, f)
#define S_FACTORS                                                                          \
    {"factors", RECNN__SET_INT, OFF(factors), 16, 1, 4096, NULL, NULL,                     \
     "GMF latent factors (size of the GMF user/item embeddings)"}
#define S_LAYERS                                                                           \
    {"layers", RECNN__SET_STR, OFF(layers), 0, 0, 0, "32,16,8", NULL,                      \
     "MLP tower: input size (= 2 x MLP embedding) then each ReLU layer's width"}
#define S_COMMON                                                                           \
    {"negatives", RECNN__SET_INT, OFF(negatives), 4, 0, 1000, NULL, NULL,                  \
     "sampled negatives per positive, re-drawn each epoch (task=implicit)"},               \
        {"lr", RECNN__SET_FLOAT, OFF(lr), 1e-3, 1e-9, 10, NULL, NULL,                      \
         "Adam learning rate"},                                                            \
        {"batch", RECNN__SET_INT, OFF(batch), 256, 1, 1 << 20, NULL, NULL,                 \
         "mini-batch size (examples)"},                                                    \
        {"epochs", RECNN__SET_INT, OFF(epochs), 20, 1, 100000, NULL, NULL,                 \
         "training epochs (at most, with early stopping)"},                                \
        {"l2", RECNN__SET_FLOAT, OFF(l2), 0, 0, 1e6, NULL, NULL,                           \
         "L2 penalty lambda/2 |w|^2 on weights and the embedding rows of each batch"},     \
        {"seed", RECNN__SET_INT, OFF(seed), 42, 0, 9.0e15, NULL, NULL,                     \
         "random seed (initialisation, negatives, order)"},                                \
        {"patience", RECNN__SET_INT, OFF(patience), 0, 0, 100000, NULL, NULL,              \
         "with a validation set: stop after this many epochs without improvement "        \
         "(0 = never)"},                                                                   \
        {"task", RECNN__SET_STR, OFF(task), 0, 0, 0, "implicit", "implicit|rating",        \
         "implicit: BCE with sampled negatives; rating: MSE of sigmoid output on "         \
         "ratings scaled to [0,1]"},                                                       \
        {"adam", RECNN__SET_STR, OFF(adam), 0, 0, 0, "lazy", "lazy|dense",                 \
         "lazy: Adam updates only the embedding rows of the batch; dense: every row "      \
         "every step (as PyTorch with dense embedding gradients; slower)"}

static const recnn__setting GMF_SETTINGS[] = {S_FACTORS, S_COMMON};
static const recnn__setting MLP_SETTINGS[] = {S_LAYERS, S_COMMON};
static const recnn__setting NEUMF_SETTINGS[] = {
    S_FACTORS,
    S_LAYERS,
    S_COMMON,
    {"pretrain", RECNN__SET_STR, OFF(pretrain), 0, 0, 0, "none", "none|auto",
     "auto: first fit GMF and MLP with these settings and start from them (NCF paper); "
     "or use recnn_neumf_fit_pretrained"},
    {"alpha", RECNN__SET_FLOAT, OFF(alpha), 0.5, 0, 1, NULL, NULL,
     "pre-training: weight of the GMF half of the output layer"},
    {"pretrain_epochs", RECNN__SET_INT, OFF(pretrain_epochs), 0, 0, 100000, NULL, NULL,
     "pretrain=auto: epochs of the GMF and MLP fits (0 = epochs)"},
};

#define NCF_VT(NAME, DOC, TABLE)                                                           \
    const recnn__model_vt recnn__vt_##NAME = {                                             \
        #NAME,                                                                             \
        DOC,                                                                               \
        TABLE,                                                                             \
        (int)(sizeof TABLE / sizeof *TABLE),                                               \
        sizeof(ncf_cfg),                                                                   \
        ncf_fit,                                                                           \
        ncf_predict,                                                                       \
        ncf_score_user,                                                                    \
        NULL,                                                                              \
        ncf_tensors,                                                                       \
        ncf_restore,                                                                       \
        ncf_free_state,                                                                    \
        ncf_default,                                                                       \
    };

NCF_VT(gmf, "NCF generalized matrix factorization (He et al. 2017)", GMF_SETTINGS)
NCF_VT(mlp, "NCF multi-layer perceptron over concatenated embeddings (He et al. 2017)",
       MLP_SETTINGS)
NCF_VT(neumf, "NCF NeuMF: GMF and MLP fused under one sigmoid output (He et al. 2017)",
       NEUMF_SETTINGS)
