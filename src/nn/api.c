/* The public face of src/nn: recnn_layer / recnn_optimizer are the
 * internal structs; recnn_net is a small sequential container. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- layers -------------------------------------------------------------- */

RECNN_API int recnn_layer_create_dense(recnn_layer **out, int64_t in, int64_t units,
                                       int bias, int64_t max_batch)
{
    return recnn__dense_create(out, in, units, bias, max_batch);
}

RECNN_API int recnn_layer_create_sparse_dense(recnn_layer **out, int64_t in, int64_t units,
                                              int bias, int64_t max_batch)
{
    return recnn__sparse_create(out, in, units, bias, max_batch);
}

RECNN_API int recnn_layer_create_masked_output(recnn_layer **out, int64_t in,
                                               int64_t out_dim, int bias, int64_t max_batch)
{
    return recnn__masked_create(out, in, out_dim, bias, max_batch);
}

RECNN_API int recnn_layer_create_tied(recnn_layer **out, recnn_layer *encoder, int bias,
                                      int64_t max_batch)
{
    return recnn__tied_create(out, encoder, bias, max_batch);
}

RECNN_API int recnn_layer_create_embedding(recnn_layer **out, int64_t n, int64_t dim,
                                           int64_t max_batch)
{
    return recnn__embedding_create(out, n, dim, max_batch);
}

RECNN_API int recnn_layer_create_activation(recnn_layer **out, int act, int64_t dim,
                                            float alpha, int64_t max_batch)
{
    return recnn__act_create(out, act, dim, alpha, max_batch);
}

RECNN_API int recnn_layer_create_adaptive(recnn_layer **out, int64_t dim, int hinges,
                                          int per_unit, float a0, int64_t max_batch)
{
    return recnn__apl_create(out, dim, hinges, per_unit, a0, max_batch);
}

RECNN_API int recnn_layer_create_dropout(recnn_layer **out, int64_t dim, float rate,
                                         uint64_t seed, int64_t max_batch)
{
    return recnn__dropout_create(out, dim, rate, seed, max_batch);
}

RECNN_API int recnn_layer_create_concat(recnn_layer **out, int64_t dim_a, int64_t dim_b,
                                        int64_t max_batch)
{
    return recnn__concat_create(out, dim_a, dim_b, max_batch);
}

RECNN_API int recnn_layer_create_product(recnn_layer **out, int64_t dim, int64_t max_batch)
{
    return recnn__product_create(out, dim, max_batch);
}

RECNN_API void recnn_layer_free(recnn_layer *l) { recnn__layer_free(l); }

RECNN_API int64_t recnn_layer_in_dim(const recnn_layer *l) { return l ? l->in_dim : 0; }
RECNN_API int64_t recnn_layer_out_dim(const recnn_layer *l) { return l ? l->out_dim : 0; }

RECNN_API int recnn_layer_init(recnn_layer *l, int scheme, float scale, uint64_t seed)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    return recnn__layer_init(l, scheme, scale, &r);
}

RECNN_API int recnn_layer_param_count(const recnn_layer *l) { return l ? l->n_params : 0; }

RECNN_API int recnn_layer_param(recnn_layer *l, int i, float **value, float **grad,
                                int64_t *count, const char **name)
{
    if (!l || i < 0 || i >= l->n_params)
        return recnn__fail(RECNN_E_INVALID, "layer param: no parameter %d", i);
    recnn__param *p = &l->params[i];
    if (value)
        *value = p->w;
    if (grad)
        *grad = p->g;
    if (count)
        *count = p->count;
    if (name)
        *name = p->name;
    return RECNN_OK;
}

RECNN_API int recnn_layer_touched_rows(const recnn_layer *l, int i, const int32_t **rows,
                                       int64_t *n_rows)
{
    if (!l || i < 0 || i >= l->n_params || !rows || !n_rows)
        return recnn__fail(RECNN_E_INVALID, "layer touched rows: bad argument");
    const recnn__param *p = &l->params[i];
    if (!recnn__param_sparse(p)) {
        *rows = NULL;
        *n_rows = -1;
    } else {
        *rows = p->rows;
        *n_rows = p->n_rows;
    }
    return RECNN_OK;
}

RECNN_API void recnn_layer_zero_grad(recnn_layer *l) { recnn__layer_zero_grad(l); }

RECNN_API int recnn_layer_forward(recnn_layer *l, int64_t n, const float *x, float *y,
                                  int train)
{
    return recnn__layer_forward(l, n, x, y, train);
}

RECNN_API int recnn_layer_backward(recnn_layer *l, int64_t n, const float *x,
                                   const float *y, const float *gy, float *gx)
{
    return recnn__layer_backward(l, n, x, y, gy, gx);
}

static recnn__csr csr_of(int64_t n, const int64_t *ptr, const int32_t *idx, const float *val)
{
    recnn__csr c = {n, ptr, idx, val, NULL, 0};
    return c;
}

RECNN_API int recnn_layer_forward_sparse(recnn_layer *l, int64_t n, const int64_t *ptr,
                                         const int32_t *idx, const float *val, float *y)
{
    recnn__csr c = csr_of(n, ptr, idx, val);
    return recnn__sparse_forward(l, &c, y);
}

RECNN_API int recnn_layer_backward_sparse(recnn_layer *l, int64_t n, const int64_t *ptr,
                                          const int32_t *idx, const float *val,
                                          const float *gy)
{
    recnn__csr c = csr_of(n, ptr, idx, val);
    return recnn__sparse_backward(l, &c, gy);
}

RECNN_API int recnn_layer_forward_masked(recnn_layer *l, int64_t n, const float *h,
                                         const int64_t *ptr, const int32_t *idx, float *y)
{
    recnn__csr c = csr_of(n, ptr, idx, NULL);
    return recnn__masked_forward(l, h, &c, y);
}

RECNN_API int recnn_layer_backward_masked(recnn_layer *l, int64_t n, const float *h,
                                          const int64_t *ptr, const int32_t *idx,
                                          const float *gy, float *gh)
{
    recnn__csr c = csr_of(n, ptr, idx, NULL);
    return recnn__masked_backward(l, h, &c, gy, gh);
}

RECNN_API int recnn_layer_forward_ids(recnn_layer *l, int64_t n, const int32_t *ids,
                                      float *y)
{
    return recnn__embedding_forward(l, n, ids, y);
}

RECNN_API int recnn_layer_backward_ids(recnn_layer *l, int64_t n, const int32_t *ids,
                                       const float *gy)
{
    return recnn__embedding_backward(l, n, ids, gy);
}

RECNN_API int recnn_layer_forward2(recnn_layer *l, int64_t n, const float *a,
                                   const float *b, float *y)
{
    return recnn__merge_forward(l, n, a, b, y);
}

RECNN_API int recnn_layer_backward2(recnn_layer *l, int64_t n, const float *a,
                                    const float *b, const float *gy, float *ga, float *gb)
{
    return recnn__merge_backward(l, n, a, b, gy, ga, gb);
}

/* ---- sequential net -------------------------------------------------------- */

struct recnn_net {
    int64_t max_batch;
    recnn__layer **layers;
    int n, cap;
    /* the last forward's input, borrowed until backward */
    const float *x;
    recnn__csr xs;
    int sparse_input;
    int64_t last_n;
    int have_forward;
};

RECNN_API int recnn_net_create(recnn_net **out, int64_t max_batch)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "net: NULL out");
    *out = NULL;
    if (max_batch < 1)
        return recnn__fail(RECNN_E_INVALID, "net: max_batch must be >= 1");
    recnn_net *net = recnn__calloc(1, sizeof *net);
    if (!net)
        return RECNN_E_NOMEM;
    net->max_batch = max_batch;
    *out = net;
    return RECNN_OK;
}

RECNN_API void recnn_net_free(recnn_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->n; i++)
        recnn__layer_free(net->layers[i]);
    recnn__free(net->layers);
    recnn__free(net);
}

RECNN_API int recnn_net_add(recnn_net *net, recnn_layer *l)
{
    if (!net || !l)
        return recnn__fail(RECNN_E_INVALID, "net add: NULL argument");
    /* a net frees its layers: one in two nets (or twice in one) would be
     * freed twice */
    if (l->owner == net)
        return recnn__fail(RECNN_E_INVALID, "net add: layer already in the net");
    if (l->owner)
        return recnn__fail(RECNN_E_INVALID, "net add: layer already owned by another net");
    if (l->kind == RECNN__L_EMBEDDING || l->kind == RECNN__L_CONCAT ||
        l->kind == RECNN__L_PRODUCT)
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "net add: embeddings and merges do not fit a sequential net");
    if (l->max_batch < net->max_batch)
        return recnn__fail(RECNN_E_INVALID, "net add: layer max_batch %lld < net's %lld",
                           (long long)l->max_batch, (long long)net->max_batch);
    if (net->n > 0) {
        if (l->kind == RECNN__L_LINEAR && l->sparse_in)
            return recnn__fail(RECNN_E_INVALID,
                               "net add: a sparse-input layer can only be the first");
        if (net->layers[net->n - 1]->out_dim != l->in_dim)
            return recnn__fail(RECNN_E_INVALID,
                               "net add: layer %d takes %lld inputs, the previous gives %lld",
                               net->n, (long long)l->in_dim,
                               (long long)net->layers[net->n - 1]->out_dim);
    }
    int st = recnn__layer_alloc_io(l);
    if (st)
        return st;
    if (net->n == net->cap) {
        int cap = net->cap ? 2 * net->cap : 8;
        recnn__layer **a = recnn__realloc(net->layers, (size_t)net->n, (size_t)cap, sizeof *a);
        if (!a)
            return RECNN_E_NOMEM;
        net->layers = a;
        net->cap = cap;
    }
    net->layers[net->n++] = l;
    l->owner = net;
    net->have_forward = 0;
    return RECNN_OK;
}

RECNN_API int recnn_net_n_layers(const recnn_net *net) { return net ? net->n : 0; }

RECNN_API recnn_layer *recnn_net_layer(recnn_net *net, int i)
{
    return net && i >= 0 && i < net->n ? net->layers[i] : NULL;
}

RECNN_API int recnn_net_init(recnn_net *net, int scheme, float scale, uint64_t seed)
{
    if (!net)
        return recnn__fail(RECNN_E_INVALID, "net init: NULL");
    for (int i = 0; i < net->n; i++) {
        recnn_rng r;
        recnn__rng_stream(&r, seed, (uint64_t)i);
        int st = recnn__layer_init(net->layers[i], scheme, scale, &r);
        if (st)
            return st;
    }
    return RECNN_OK;
}

RECNN_API void recnn_net_zero_grad(recnn_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->n; i++)
        recnn__layer_zero_grad(net->layers[i]);
}

static int net_rest(recnn_net *net, int64_t n, int from, int train, const float **y)
{
    for (int i = from; i < net->n; i++) {
        int st = recnn__layer_forward(net->layers[i], n, net->layers[i - 1]->y,
                                      net->layers[i]->y, train);
        if (st)
            return st;
    }
    net->last_n = n;
    net->have_forward = 1;
    if (y)
        *y = net->layers[net->n - 1]->y;
    return RECNN_OK;
}

RECNN_API int recnn_net_forward(recnn_net *net, int64_t n, const float *x, int train,
                                const float **y)
{
    if (!net || net->n == 0 || (n > 0 && !x))
        return recnn__fail(RECNN_E_INVALID, "net forward: empty net or NULL input");
    recnn__layer *l0 = net->layers[0];
    if (n < 0 || n > net->max_batch)
        return recnn__fail(RECNN_E_INVALID, "net forward: batch %lld outside [0, %lld]",
                           (long long)n, (long long)net->max_batch);
    net->have_forward = 0;
    int st = recnn__layer_forward(l0, n, x, l0->y, train);
    if (st)
        return st;
    net->x = x;
    net->sparse_input = 0;
    return net_rest(net, n, 1, train, y);
}

RECNN_API int recnn_net_forward_sparse(recnn_net *net, int64_t n, const int64_t *ptr,
                                       const int32_t *idx, const float *val, int train,
                                       const float **y)
{
    if (!net || net->n == 0)
        return recnn__fail(RECNN_E_INVALID, "net forward: empty net");
    recnn__layer *l0 = net->layers[0];
    if (!(l0->kind == RECNN__L_LINEAR && !l0->wt))
        return recnn__fail(RECNN_E_INVALID,
                           "net forward sparse: the first layer must be dense/sparse-input");
    if (n < 0 || n > net->max_batch)
        return recnn__fail(RECNN_E_INVALID, "net forward: batch %lld outside [0, %lld]",
                           (long long)n, (long long)net->max_batch);
    net->have_forward = 0;
    net->xs = csr_of(n, ptr, idx, val);
    int st = recnn__sparse_forward(l0, &net->xs, l0->y);
    if (st)
        return st;
    net->x = NULL;
    net->sparse_input = 1;
    return net_rest(net, n, 1, train, y);
}

RECNN_API int recnn_net_backward(recnn_net *net, int64_t n, const float *gy)
{
    if (!net || net->n == 0 || (n > 0 && !gy))
        return recnn__fail(RECNN_E_INVALID, "net backward: empty net or NULL gradient");
    if (!net->have_forward || n != net->last_n)
        return recnn__fail(RECNN_E_STATE,
                           "net backward: needs the forward of the same batch first");
    for (int i = net->n - 1; i >= 0; i--) {
        recnn__layer *l = net->layers[i];
        const float *g = i == net->n - 1 ? gy : net->layers[i + 1]->gx;
        int st;
        if (i == 0 && net->sparse_input)
            st = recnn__sparse_backward(l, &net->xs, g);
        else
            st = recnn__layer_backward(l, n, i == 0 ? net->x : net->layers[i - 1]->y, l->y, g,
                                       i == 0 ? NULL : l->gx);
        if (st)
            return st;
    }
    return RECNN_OK;
}

/* ---- losses ----------------------------------------------------------------- */

static int set_loss(double *loss, double v)
{
    if (loss)
        *loss = v;
    return RECNN_OK;
}

RECNN_API int recnn_loss_mse(int64_t n, const float *pred, const float *target,
                             const float *weight, float scale, float *grad, double *loss)
{
    if (n < 0 || (n > 0 && (!pred || !target)))
        return recnn__fail(RECNN_E_INVALID, "mse: bad argument");
    return set_loss(loss, recnn__loss_mse(n, pred, target, weight, scale, grad));
}

RECNN_API int recnn_loss_masked_mse(int64_t n, int64_t dim, const float *y,
                                    const int64_t *ptr, const int32_t *idx, const float *val,
                                    float unobs_w, float unobs_t, float scale, float *grad,
                                    double *loss)
{
    if (n < 0 || dim < 1 || (n > 0 && (!y || !ptr || (!idx && ptr[n] > ptr[0]))))
        return recnn__fail(RECNN_E_INVALID, "masked mse: bad argument");
    if (n == 0) {
        if (loss)
            *loss = 0.0;
        return RECNN_OK;
    }
    recnn__csr c = csr_of(n, ptr, idx, val);
    int st = recnn__csr_check_ptr(&c, "masked mse");
    if (st)
        return st;
    for (int64_t k = ptr[0]; k < ptr[n]; k++)
        if (idx[k] < 0 || idx[k] >= dim)
            return recnn__fail(RECNN_E_INVALID, "masked mse: column %d outside [0, %lld)",
                               (int)idx[k], (long long)dim);
    /* a column twice in one row: the value would count it twice, the
     * gradient once (the row's stamp marks the columns seen) */
    int64_t *stamp = malloc((size_t)dim * sizeof *stamp);
    if (!stamp)
        return recnn__fail(RECNN_E_NOMEM, "masked mse: out of memory");
    for (int64_t j = 0; j < dim; j++)
        stamp[j] = -1;
    for (int64_t r = 0; r < n; r++)
        for (int64_t k = ptr[r]; k < ptr[r + 1]; k++) {
            if (stamp[idx[k]] == r) {
                free(stamp);
                return recnn__fail(RECNN_E_INVALID, "masked mse: row %lld has column %d "
                                   "twice", (long long)r, (int)idx[k]);
            }
            stamp[idx[k]] = r;
        }
    free(stamp);
    return set_loss(loss,
                    recnn__loss_masked_mse(dim, y, &c, unobs_w, unobs_t, scale, grad));
}

RECNN_API int recnn_loss_bce_logits(int64_t n, const float *z, const float *t,
                                    const float *weight, float scale, float *grad,
                                    double *loss)
{
    if (n < 0 || (n > 0 && (!z || !t)))
        return recnn__fail(RECNN_E_INVALID, "bce: bad argument");
    return set_loss(loss, recnn__loss_bce_logits(n, z, t, weight, scale, grad));
}

RECNN_API int recnn_penalty_l2(int64_t n, const float *w, float lambda, float *grad,
                               double *loss)
{
    if (n < 0 || (n > 0 && !w))
        return recnn__fail(RECNN_E_INVALID, "l2: bad argument");
    return set_loss(loss, recnn__penalty_l2(n, w, lambda, grad));
}

RECNN_API int recnn_penalty_elastic(int64_t n, const float *w, float lambda, float l1,
                                    float *grad, double *loss)
{
    if (n < 0 || (n > 0 && !w) || !(l1 >= 0.0f && l1 <= 1.0f))
        return recnn__fail(RECNN_E_INVALID, "elastic net: bad argument (l1 in [0, 1])");
    return set_loss(loss, recnn__penalty_elastic(n, w, lambda, l1, grad));
}

RECNN_API int recnn_penalty_range(int64_t n, const float *y, float lo, float hi,
                                  float lambda, int literal, float *grad, double *loss)
{
    if (n < 0 || (n > 0 && !y) || !(lo <= hi))
        return recnn__fail(RECNN_E_INVALID, "range penalty: bad argument (lo <= hi)");
    return set_loss(loss, recnn__penalty_range(n, y, lo, hi, lambda, literal, grad));
}

RECNN_API int recnn_init_fill(float *w, int64_t n, int scheme, int64_t fan_in,
                              int64_t fan_out, float scale, uint64_t seed)
{
    if (n < 0)
        return recnn__fail(RECNN_E_INVALID, "init: negative size");
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    return recnn__init_fill(w, n, scheme, fan_in, fan_out, scale, &r);
}

/* ---- optimizers ---------------------------------------------------------------- */

RECNN_API int recnn_optimizer_create(recnn_optimizer **out, int kind, double lr)
{
    return recnn__optim_create(out, kind, lr);
}

RECNN_API void recnn_optimizer_free(recnn_optimizer *o) { recnn__optim_free(o); }

RECNN_API int recnn_optimizer_set(recnn_optimizer *o, const char *key, double value)
{
    return recnn__optim_set(o, key, value);
}

RECNN_API int recnn_optimizer_get(const recnn_optimizer *o, const char *key, double *value)
{
    if (!o || !key || !value)
        return recnn__fail(RECNN_E_INVALID, "optimizer get: NULL argument");
    static const struct {
        const char *k;
        size_t off;
    } tab[] = {
        {"lr", offsetof(recnn__optim, lr)},
        {"base_lr", offsetof(recnn__optim, base_lr)},
        {"momentum", offsetof(recnn__optim, mu)},
        {"rho", offsetof(recnn__optim, rho)},
        {"beta1", offsetof(recnn__optim, beta1)},
        {"beta2", offsetof(recnn__optim, beta2)},
        {"eps", offsetof(recnn__optim, eps)},
        {"weight_decay", offsetof(recnn__optim, weight_decay)},
        {"eta_plus", offsetof(recnn__optim, eta_plus)},
        {"eta_minus", offsetof(recnn__optim, eta_minus)},
        {"step_min", offsetof(recnn__optim, step_min)},
        {"step_max", offsetof(recnn__optim, step_max)},
        {"step_init", offsetof(recnn__optim, step_init)},
        {"clip_norm", offsetof(recnn__optim, clip_norm)},
        {"clip_value", offsetof(recnn__optim, clip_value)},
    };
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (strcmp(key, tab[i].k) == 0) {
            memcpy(value, (const char *)o + tab[i].off, sizeof(double));
            return RECNN_OK;
        }
    if (strcmp(key, "steps") == 0) {
        *value = (double)o->t;
        return RECNN_OK;
    }
    if (strcmp(key, "epoch") == 0) {
        *value = (double)o->epoch;
        return RECNN_OK;
    }
    return recnn__fail(RECNN_E_NOTFOUND, "optimizer: no hyper-parameter \"%s\"", key);
}

RECNN_API int recnn_optimizer_add(recnn_optimizer *o, float *value, float *grad,
                                  int64_t count)
{
    if (!o || !value || !grad || count < 1)
        return recnn__fail(RECNN_E_INVALID, "optimizer add: bad buffer");
    recnn__param *p = recnn__alloc(1, sizeof *p);
    if (!p)
        return RECNN_E_NOMEM;
    *p = recnn__param_make("user", value, grad, count, 0, 1);
    recnn__param **own = recnn__realloc(o->own, (size_t)o->n_own, (size_t)o->n_own + 1,
                                        sizeof *own);
    if (!own) {
        recnn__free(p);
        return RECNN_E_NOMEM;
    }
    o->own = own;
    o->own[o->n_own++] = p;
    int st = recnn__optim_add(o, p);
    if (st) {
        o->n_own--;
        recnn__free(p);
    }
    return st;
}

RECNN_API int recnn_optimizer_add_layer(recnn_optimizer *o, recnn_layer *l)
{
    return recnn__optim_add_layer(o, l);
}

RECNN_API int recnn_optimizer_add_net(recnn_optimizer *o, recnn_net *net)
{
    if (!o || !net)
        return recnn__fail(RECNN_E_INVALID, "optimizer add net: NULL argument");
    for (int i = 0; i < net->n; i++) {
        int st = recnn__optim_add_layer(o, net->layers[i]);
        if (st)
            return st;
    }
    return RECNN_OK;
}

RECNN_API int recnn_optimizer_set_schedule(recnn_optimizer *o, int schedule, double gamma,
                                           int64_t step_size)
{
    return recnn__optim_schedule(o, schedule, gamma, step_size);
}

RECNN_API int recnn_optimizer_epoch_end(recnn_optimizer *o)
{
    if (!o)
        return recnn__fail(RECNN_E_INVALID, "optimizer epoch end: NULL");
    recnn__optim_epoch_end(o);
    return RECNN_OK;
}

RECNN_API int recnn_optimizer_step(recnn_optimizer *o) { return recnn__optim_step(o); }

RECNN_API double recnn_optimizer_grad_norm(const recnn_optimizer *o)
{
    return o ? o->last_norm : NAN;
}

RECNN_API size_t recnn_optimizer_state_size(const recnn_optimizer *o)
{
    return recnn__optim_state_size(o);
}

RECNN_API int recnn_optimizer_state_save(const recnn_optimizer *o, void *buf, size_t size)
{
    return recnn__optim_state_save(o, buf, size);
}

RECNN_API int recnn_optimizer_state_load(recnn_optimizer *o, const void *buf, size_t size)
{
    return recnn__optim_state_load(o, buf, size);
}
