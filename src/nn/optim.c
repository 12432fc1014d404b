/* Optimizers over lists of parameters: SGD, momentum (classical and
 * Nesterov), RMSProp, Adam (bias-corrected, decoupled weight decay),
 * iRprop-; lazy row-sparse updates, clipping, schedules, state blobs. */
#include "nn.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define OPT_SSE 1
#else
#define OPT_SSE 0
#endif

static int n_states(int kind)
{
    switch (kind) {
    case RECNN__OPT_SGD: return 0;
    case RECNN__OPT_MOMENTUM:
    case RECNN__OPT_NESTEROV:
    case RECNN__OPT_RMSPROP: return 1;
    default: return 2; /* Adam: m, v; RProp: step, previous gradient */
    }
}

static const char *const opt_names[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam",
                                        "rprop"};

int recnn__optim_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof opt_names / sizeof *opt_names); i++)
        if (strcmp(name, opt_names[i]) == 0)
            return i;
    return -1;
}

/* A rate the float update can use: > 0 and finite after the float cast
 * (1e39 became inf and the weights NaN; 1e-50 became 0 and nothing moved). */
static bool rate_ok(double v)
{
    return v > 0 && isfinite(v) && (float)v > 0 && isfinite((float)v);
}

/* 1 - beta is taken in float from the float beta, so beta must stay far
 * enough below 1 for that to be accurate (0.99999999 gave 1 - beta = 0). */
#define BETA_MAX 0.99999

int recnn__optim_create(recnn__optim **out, int kind, double lr)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "optimizer: NULL out");
    *out = NULL;
    if (kind < RECNN__OPT_SGD || kind > RECNN__OPT_RPROP)
        return recnn__fail(RECNN_E_INVALID, "optimizer: unknown kind %d", kind);
    if (!rate_ok(lr))
        return recnn__fail(RECNN_E_INVALID,
                           "optimizer: learning rate must be > 0 and a finite float, got %g",
                           lr);
    recnn__optim *o = recnn__calloc(1, sizeof *o);
    if (!o)
        return RECNN_E_NOMEM;
    o->kind = kind;
    o->lr = o->base_lr = lr;
    o->mu = 0.9;
    o->rho = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->eta_plus = 1.2;
    o->eta_minus = 0.5;
    o->step_min = 1e-6;
    o->step_max = 50.0;
    o->step_init = lr;
    o->gamma = 1.0;
    o->step_size = 1;
    *out = o;
    return RECNN_OK;
}

void recnn__optim_free(recnn__optim *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n; i++) {
        recnn__free(o->e[i].s1);
        recnn__free(o->e[i].s2);
    }
    recnn__free(o->e);
    for (int i = 0; i < o->n_own; i++)
        recnn__free(o->own[i]);
    recnn__free(o->own);
    recnn__free(o);
}

int recnn__optim_add(recnn__optim *o, recnn__param *p)
{
    if (!o || !p || !p->w || !p->g || p->count < 0)
        return recnn__fail(RECNN_E_INVALID, "optimizer add: bad parameter");
    if (o->t > 0)
        return recnn__fail(RECNN_E_STATE, "optimizer add: parameters are fixed after a step");
    for (int i = 0; i < o->n; i++)
        if (o->e[i].p == p || o->e[i].p->w == p->w)
            return recnn__fail(RECNN_E_INVALID,
                               "optimizer add: parameter \"%s\" is already in the list",
                               p->name ? p->name : "?");
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 8;
        recnn__optim_entry *e = recnn__realloc(o->e, (size_t)o->n, (size_t)cap, sizeof *e);
        if (!e)
            return RECNN_E_NOMEM;
        o->e = e;
        o->cap = cap;
    }
    recnn__optim_entry *e = &o->e[o->n];
    memset(e, 0, sizeof *e);
    e->p = p;
    int ns = n_states(o->kind);
    if (ns >= 1 && !(e->s1 = recnn__calloc((size_t)p->count, sizeof(float))))
        return RECNN_E_NOMEM;
    if (ns >= 2 && !(e->s2 = recnn__calloc((size_t)p->count, sizeof(float)))) {
        recnn__free(e->s1);
        e->s1 = NULL;
        return RECNN_E_NOMEM;
    }
    o->n++;
    return RECNN_OK;
}

int recnn__optim_add_layer(recnn__optim *o, recnn__layer *l)
{
    if (!o || !l)
        return recnn__fail(RECNN_E_INVALID, "optimizer add layer: NULL argument");
    recnn__param *ps[RECNN__LAYER_MAX_PARAMS];
    int n = recnn__layer_params(l, ps, RECNN__LAYER_MAX_PARAMS);
    for (int i = 0; i < n; i++) {
        int st = recnn__optim_add(o, ps[i]);
        if (st)
            return st;
    }
    return RECNN_OK;
}

int recnn__optim_set(recnn__optim *o, const char *key, double v)
{
    if (!o || !key)
        return recnn__fail(RECNN_E_INVALID, "optimizer set: NULL argument");
    if (!isfinite(v))
        return recnn__fail(RECNN_E_INVALID, "optimizer set: %s must be finite", key);
#define RANGE(lo_ok, cond, field)                                                          \
    do {                                                                                   \
        if (!(cond))                                                                       \
            return recnn__fail(RECNN_E_INVALID, "optimizer: %s=%g is out of range (%s)",   \
                               key, v, lo_ok);                                             \
        o->field = v;                                                                      \
        return RECNN_OK;                                                                   \
    } while (0)
    if (strcmp(key, "lr") == 0) {
        if (!rate_ok(v))
            return recnn__fail(RECNN_E_INVALID,
                               "optimizer: lr=%g must be > 0 and a finite float", v);
        o->lr = o->base_lr = v;
        if (o->kind == RECNN__OPT_RPROP) /* RProp's lr is its initial step */
            o->step_init = v;
        return RECNN_OK;
    }
    if (strcmp(key, "momentum") == 0)
        RANGE("[0, 1)", v >= 0 && v < 1, mu);
    if (strcmp(key, "rho") == 0)
        RANGE("[0, 0.99999]", v >= 0 && v <= BETA_MAX, rho);
    if (strcmp(key, "beta1") == 0)
        RANGE("[0, 0.99999]", v >= 0 && v <= BETA_MAX, beta1);
    if (strcmp(key, "beta2") == 0)
        RANGE("[0, 0.99999]", v >= 0 && v <= BETA_MAX, beta2);
    if (strcmp(key, "eps") == 0)
        RANGE("> 0", v > 0, eps);
    if (strcmp(key, "weight_decay") == 0)
        RANGE(">= 0", v >= 0, weight_decay);
    if (strcmp(key, "eta_plus") == 0)
        RANGE(">= 1", v >= 1, eta_plus);
    if (strcmp(key, "eta_minus") == 0)
        RANGE("(0, 1]", v > 0 && v <= 1, eta_minus);
    if (strcmp(key, "step_min") == 0)
        RANGE("> 0, a finite float", rate_ok(v), step_min);
    if (strcmp(key, "step_max") == 0)
        RANGE("> 0, a finite float", rate_ok(v), step_max);
    if (strcmp(key, "step_init") == 0)
        RANGE("> 0, a finite float", rate_ok(v), step_init);
    if (strcmp(key, "clip_norm") == 0)
        RANGE(">= 0 (0 = off)", v >= 0, clip_norm);
    if (strcmp(key, "clip_value") == 0)
        RANGE(">= 0 (0 = off)", v >= 0, clip_value);
#undef RANGE
    return recnn__fail(RECNN_E_NOTFOUND, "optimizer: no hyper-parameter \"%s\"", key);
}

int recnn__optim_schedule(recnn__optim *o, int sched, double gamma, int64_t step_size)
{
    if (!o)
        return recnn__fail(RECNN_E_INVALID, "optimizer schedule: NULL");
    if (sched < RECNN__SCHED_CONST || sched > RECNN__SCHED_EXP || !(gamma > 0) ||
        !isfinite(gamma) || (sched == RECNN__SCHED_STEP && step_size < 1))
        return recnn__fail(RECNN_E_INVALID,
                           "optimizer schedule: kind %d, gamma %g, step %lld is invalid", sched,
                           gamma, (long long)step_size);
    o->sched = sched;
    o->gamma = gamma;
    o->step_size = step_size < 1 ? 1 : step_size;
    return RECNN_OK;
}

static void apply_schedule(recnn__optim *o)
{
    switch (o->sched) {
    case RECNN__SCHED_STEP:
        o->lr = o->base_lr * pow(o->gamma, (double)(o->epoch / o->step_size));
        break;
    case RECNN__SCHED_EXP: o->lr = o->base_lr * pow(o->gamma, (double)o->epoch); break;
    default: o->lr = o->base_lr; break;
    }
}

void recnn__optim_epoch_end(recnn__optim *o)
{
    if (!o)
        return;
    o->epoch++;
    apply_schedule(o);
}

/* ---- the update ---------------------------------------------------------- */

typedef struct {
    float lr, mu, rho, b1, b2, eps, wd, bc1, bc2;
    float ep, em, smin, smax, sinit;
} coefs;

/* Every optimizer but iRprop- over [i0, i1): element-wise, per-CPU
 * clones, so each loop runs at the vector width (the bits do not depend
 * on it; FMA contraction makes the v3 clone differ from the baseline one,
 * fixed per machine). */
RECNN__CLONES static void update(int kind, const coefs *c, int decay, int64_t i0, int64_t i1,
                                 float *restrict w, const float *restrict g,
                                 float *restrict s1, float *restrict s2)
{
    const float lr = c->lr, wd = decay ? c->wd : 0.0f, mu = c->mu, rho = c->rho;
    const float eps = c->eps, b1 = c->b1, b2 = c->b2, bc1 = c->bc1, bc2 = c->bc2;
    switch (kind) {
    case RECNN__OPT_SGD:
#pragma omp simd
        for (int64_t i = i0; i < i1; i++)
            w[i] -= lr * (g[i] + wd * w[i]);
        break;
    case RECNN__OPT_MOMENTUM:
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            float v = mu * s1[i] + (g[i] + wd * w[i]);
            s1[i] = v;
            w[i] -= lr * v;
        }
        break;
    case RECNN__OPT_NESTEROV:
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            float gi = g[i] + wd * w[i];
            float v = mu * s1[i] + gi;
            s1[i] = v;
            w[i] -= lr * (gi + mu * v);
        }
        break;
    case RECNN__OPT_RMSPROP:
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            float gi = g[i] + wd * w[i];
            float v = rho * s1[i] + (1.0f - rho) * gi * gi;
            s1[i] = v;
            w[i] -= lr * gi / (sqrtf(v) + eps);
        }
        break;
    case RECNN__OPT_ADAM: {
        const float lrwd = lr * wd; /* decoupled decay (AdamW) */
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            float gi = g[i], wi = w[i] - lrwd * w[i];
            float m = b1 * s1[i] + (1.0f - b1) * gi;
            float v = b2 * s2[i] + (1.0f - b2) * gi * gi;
            s1[i] = m;
            s2[i] = v;
            w[i] = wi - lr * (m / bc1) / (sqrtf(v / bc2) + eps);
        }
        break;
    }
    default: /* iRprop-: rprop_run */
        break;
    }
}

/* iRprop- over [i0, i1): the step grows (x eta+) while the gradient keeps
 * its sign and shrinks (x eta-) when it flips, and a flip skips the move
 * and forgets the gradient.  Written without branches so that it
 * vectorises (per-CPU clones); element-wise, so the bits do not depend on
 * the vector width.  s1 = step (0 = not yet set), s2 = last gradient. */
RECNN__CLONES static void rprop_run(const coefs *c, int decay, int64_t i0, int64_t i1,
                                    float *restrict w, const float *restrict g,
                                    float *restrict s1, float *restrict s2)
{
    const float wd = decay ? c->wd : 0.0f, ep = c->ep, em = c->em;
    const float smin = c->smin, smax = c->smax, sinit = c->sinit;
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
        float gi = g[i] + wd * w[i];
        float st = s1[i] > 0 ? s1[i] : sinit;
        float pr = gi * s2[i];
        float up = st * ep, dn = st * em;
        up = up > smax ? smax : up;
        dn = dn < smin ? smin : dn;
        st = pr > 0 ? up : pr < 0 ? dn : st;
        gi = pr < 0 ? 0.0f : gi;
        float mv = gi > 0 ? st : gi < 0 ? -st : 0.0f;
        w[i] -= mv;
        s1[i] = st;
        s2[i] = gi;
    }
}

/* One parameter's update over [i0, i1) (any kind). */
static inline void update_range(int kind, const coefs *c, int decay, int64_t i0, int64_t i1,
                                float *w, float *g, float *s1, float *s2)
{
    if (kind == RECNN__OPT_RPROP)
        rprop_run(c, decay, i0, i1, w, g, s1, s2);
    else
        update(kind, c, decay, i0, i1, w, g, s1, s2);
}

/* Sum of squares of g[0..n) into four double lanes acc[0..3] (lane k takes
 * the elements i = k mod 4 of each run; a fixed order, so the total does
 * not depend on the thread count).  Non-finite values propagate. */
static inline void sumsq4(const float *g, int64_t n, double acc[4])
{
    int64_t i = 0;
#if OPT_SSE
    __m128d a01 = _mm_loadu_pd(acc), a23 = _mm_loadu_pd(acc + 2);
    for (; i + 4 <= n; i += 4) {
        __m128 x = _mm_loadu_ps(g + i);
        __m128d lo = _mm_cvtps_pd(x), hi = _mm_cvtps_pd(_mm_movehl_ps(x, x));
        a01 = _mm_add_pd(a01, _mm_mul_pd(lo, lo));
        a23 = _mm_add_pd(a23, _mm_mul_pd(hi, hi));
    }
    _mm_storeu_pd(acc, a01);
    _mm_storeu_pd(acc + 2, a23);
#else
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            acc[k] += (double)g[i + k] * g[i + k];
#endif
    for (; i < n; i++)
        acc[i & 3] += (double)g[i] * g[i];
}

/* f over the index ranges an update covers: all, or the touched rows. */
#define FOR_RANGES(p, BODY)                                                                \
    do {                                                                                   \
        if (recnn__param_sparse(p)) {                                                      \
            int64_t rl_ = (p)->row_len > 0 ? (p)->row_len : (p)->count;                    \
            for (int64_t k_ = 0; k_ < (p)->n_rows; k_++) {                                 \
                int64_t i0 = (int64_t)(p)->rows[k_] * rl_, i1 = i0 + rl_;                  \
                BODY;                                                                      \
            }                                                                              \
        } else {                                                                           \
            int64_t i0 = 0, i1 = (p)->count;                                               \
            BODY;                                                                          \
        }                                                                                  \
    } while (0)

/* Work (values) above which a parameter's pass runs on the thread team. */
#define PAR_MIN 65536

int recnn__optim_step(recnn__optim *o) { return recnn__optim_step_gsq(o, NULL, NULL, 0); }

/* gsq of p when the caller knows it (clipping by value rewrites g: not then). */
static bool known_gsq(const recnn__optim *o, const recnn__param *p,
                      const recnn__param *const *ps, const double *gsq, int n, double *out)
{
    if (o->clip_value > 0)
        return false;
    for (int i = 0; i < n; i++)
        if (ps[i] == p) {
            *out = gsq[i];
            return true;
        }
    return false;
}

int recnn__optim_step_gsq(recnn__optim *o, recnn__param *const *known, const double *gsq,
                          int n_known)
{
    if (!o)
        return recnn__fail(RECNN_E_INVALID, "optimizer step: NULL");
    /* Clipping by value, then the global norm (over what will be updated).
     * The sum of squares doubles as the finiteness check: a NaN or an
     * infinity anywhere makes it non-finite, and nothing has been changed
     * yet when that is detected (clipping by value only rewrites finite
     * values or clamps infinities, and the state is untouched). */
    /* clipping by value would turn an infinity into a finite value: look
     * at the raw values first (only then, so the common path stays one
     * pass) */
    if (o->clip_value > 0)
        for (int k = 0; k < o->n; k++) {
            const recnn__param *p = o->e[k].p;
            int bad = 0;
            FOR_RANGES(p, {
                for (int64_t i = i0; i < i1; i++)
                    bad |= !isfinite(p->g[i]);
            });
            if (bad)
                return recnn__fail(RECNN_E_NUMERIC, "optimizer step: gradient is not finite");
        }
    double ss = 0;
    double acc[4] = {0, 0, 0, 0};
    for (int k = 0; k < o->n; k++) {
        recnn__param *p = o->e[k].p;
        float cv = (float)o->clip_value;
        double kn;
        if (known_gsq(o, p, (const recnn__param *const *)known, gsq, n_known, &kn)) {
            ss += kn;
            continue;
        }
        if (!recnn__param_sparse(p) && p->count > PAR_MIN) {
            /* large dense buffers: parallel, fixed blocks, each thread's
             * share summed in block order and the shares in thread order,
             * so the sum depends on the thread count alone (a reduction
             * clause combines them in arrival order) */
            const int64_t blk = 4096, nb = (p->count + blk - 1) / blk;
            double parts[RECNN_MAX_THREADS];
            int team = 1;
#pragma omp parallel num_threads(recnn__threads())
            {
                double mine = 0;
#pragma omp for schedule(static)
                for (int64_t b = 0; b < nb; b++) {
                    int64_t i1 = (b + 1) * blk < p->count ? (b + 1) * blk : p->count;
                    double sb = 0;
                    for (int64_t i = b * blk; i < i1; i++) {
                        float g = p->g[i];
                        if (cv > 0)
                            g = g > cv ? cv : g < -cv ? -cv : g;
                        p->g[i] = g;
                        sb += (double)g * g;
                    }
                    mine += sb;
                }
                parts[omp_get_thread_num()] = mine;
#pragma omp single
                team = omp_get_num_threads();
            }
            double part = 0;
            for (int t = 0; t < team; t++)
                part += parts[t];
            ss += part;
            continue;
        }
        if (cv > 0) {
            FOR_RANGES(p, {
                for (int64_t i = i0; i < i1; i++) {
                    float g = p->g[i];
                    g = g > cv ? cv : g < -cv ? -cv : g;
                    p->g[i] = g;
                    ss += (double)g * g;
                }
            });
        } else {
            FOR_RANGES(p, sumsq4(p->g + i0, i1 - i0, acc));
        }
    }
    ss += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    if (!isfinite(ss))
        return recnn__fail(RECNN_E_NUMERIC, "optimizer step: gradient is not finite");
    o->last_norm = sqrt(ss);
    if (o->clip_norm > 0 && o->last_norm > o->clip_norm) {
        float sc = (float)(o->clip_norm / o->last_norm);
        for (int k = 0; k < o->n; k++) {
            recnn__param *p = o->e[k].p;
            FOR_RANGES(p, {
                for (int64_t i = i0; i < i1; i++)
                    p->g[i] *= sc;
            });
        }
    }
    o->t++;
    coefs c;
    c.lr = (float)o->lr;
    c.mu = (float)o->mu;
    c.rho = (float)o->rho;
    c.b1 = (float)o->beta1;
    c.b2 = (float)o->beta2;
    c.eps = (float)o->eps;
    c.wd = (float)o->weight_decay;
    c.bc1 = (float)(1.0 - pow(o->beta1, (double)o->t));
    c.bc2 = (float)(1.0 - pow(o->beta2, (double)o->t));
    c.ep = (float)o->eta_plus;
    c.em = (float)o->eta_minus;
    c.smin = (float)o->step_min;
    c.smax = (float)o->step_max;
    /* the first step obeys the bounds too (torch.optim.Rprop clamps it) */
    c.sinit = (float)o->step_init;
    c.sinit = c.sinit < c.smin ? c.smin : c.sinit > c.smax ? c.smax : c.sinit;
    const int kind = o->kind;
    for (int k = 0; k < o->n; k++) {
        recnn__optim_entry *e = &o->e[k];
        recnn__param *p = e->p;
        int decay = p->decay && o->weight_decay > 0;
        float *w = p->w, *g = p->g, *s1 = e->s1, *s2 = e->s2;
        if (recnn__param_sparse(p)) {
            int64_t rl = p->row_len > 0 ? p->row_len : p->count;
            int64_t nr = p->n_rows;
            const int32_t *rows = p->rows;
            if (nr * rl > PAR_MIN) {
#pragma omp parallel for schedule(static) num_threads(recnn__threads())
                for (int64_t q = 0; q < nr; q++) {
                    int64_t i0 = (int64_t)rows[q] * rl;
                    update_range(kind, &c, decay, i0, i0 + rl, w, g, s1, s2);
                }
            } else {
                for (int64_t q = 0; q < nr; q++) {
                    int64_t i0 = (int64_t)rows[q] * rl;
                    update_range(kind, &c, decay, i0, i0 + rl, w, g, s1, s2);
                }
            }
        } else {
            int64_t cnt = p->count;
            if (cnt > PAR_MIN) {
                const int64_t blk = 4096;
                int64_t nb = (cnt + blk - 1) / blk;
#pragma omp parallel for schedule(static) num_threads(recnn__threads())
                for (int64_t b = 0; b < nb; b++) {
                    int64_t i1 = (b + 1) * blk < cnt ? (b + 1) * blk : cnt;
                    update_range(kind, &c, decay, b * blk, i1, w, g, s1, s2);
                }
            } else {
                update_range(kind, &c, decay, 0, cnt, w, g, s1, s2);
            }
        }
    }
    return RECNN_OK;
}

/* ---- state blobs ------------------------------------------------------------
 * "RNNOPT01", u32 format 1, then kind, n entries, counters, every
 * hyper-parameter, per entry its count and state arrays, then a CRC-32C of
 * everything before it.  Host byte order (a resume buffer, not a file
 * format: model files store it as an opaque tensor). */

#define OPT_MAGIC "RNNOPT01"
#define N_HYPER 17

static void hyper_get(const recnn__optim *o, double h[N_HYPER])
{
    double v[N_HYPER] = {o->lr,        o->base_lr,   o->mu,        o->rho,       o->beta1,
                         o->beta2,     o->eps,       o->weight_decay, o->eta_plus,
                         o->eta_minus, o->step_min,  o->step_max,  o->step_init,
                         o->clip_norm, o->clip_value, o->gamma,    o->last_norm};
    memcpy(h, v, sizeof v);
}

static void hyper_set(recnn__optim *o, const double h[N_HYPER])
{
    o->lr = h[0];
    o->base_lr = h[1];
    o->mu = h[2];
    o->rho = h[3];
    o->beta1 = h[4];
    o->beta2 = h[5];
    o->eps = h[6];
    o->weight_decay = h[7];
    o->eta_plus = h[8];
    o->eta_minus = h[9];
    o->step_min = h[10];
    o->step_max = h[11];
    o->step_init = h[12];
    o->clip_norm = h[13];
    o->clip_value = h[14];
    o->gamma = h[15];
    o->last_norm = h[16];
}

size_t recnn__optim_state_size(const recnn__optim *o)
{
    if (!o)
        return 0;
    size_t s = 8 + 4 * 4 + 3 * 8 + N_HYPER * 8;
    int ns = n_states(o->kind);
    for (int k = 0; k < o->n; k++)
        s += 8 + (size_t)ns * (size_t)o->e[k].p->count * sizeof(float);
    return s + 4;
}

static void put(unsigned char **q, const void *src, size_t n)
{
    memcpy(*q, src, n);
    *q += n;
}

int recnn__optim_state_save(const recnn__optim *o, void *buf, size_t size)
{
    if (!o || !buf)
        return recnn__fail(RECNN_E_INVALID, "optimizer save: NULL argument");
    size_t need = recnn__optim_state_size(o);
    if (size < need)
        return recnn__fail(RECNN_E_INVALID,
                           "optimizer save: buffer of %zu bytes, %zu needed", size, need);
    unsigned char *q = buf;
    uint32_t fmt = 1;
    int32_t kind = o->kind, n = o->n, sched = o->sched, ns = n_states(o->kind);
    put(&q, OPT_MAGIC, 8);
    put(&q, &fmt, 4);
    put(&q, &kind, 4);
    put(&q, &n, 4);
    put(&q, &sched, 4);
    put(&q, &o->t, 8);
    put(&q, &o->epoch, 8);
    put(&q, &o->step_size, 8);
    double h[N_HYPER];
    hyper_get(o, h);
    put(&q, h, sizeof h);
    for (int k = 0; k < o->n; k++) {
        int64_t cnt = o->e[k].p->count;
        put(&q, &cnt, 8);
        if (ns >= 1)
            put(&q, o->e[k].s1, (size_t)cnt * sizeof(float));
        if (ns >= 2)
            put(&q, o->e[k].s2, (size_t)cnt * sizeof(float));
    }
    uint32_t crc = recnn__crc32c(0, buf, (size_t)(q - (unsigned char *)buf));
    put(&q, &crc, 4);
    return RECNN_OK;
}

int recnn__optim_state_load(recnn__optim *o, const void *buf, size_t size)
{
    if (!o || !buf)
        return recnn__fail(RECNN_E_INVALID, "optimizer load: NULL argument");
    size_t need = recnn__optim_state_size(o);
    const unsigned char *q = buf;
    if (size < 8 + 16 || memcmp(q, OPT_MAGIC, 8) != 0)
        return recnn__fail(RECNN_E_CORRUPT, "optimizer load: not an optimizer state");
    uint32_t fmt;
    int32_t kind, n, sched;
    memcpy(&fmt, q + 8, 4);
    memcpy(&kind, q + 12, 4);
    memcpy(&n, q + 16, 4);
    memcpy(&sched, q + 20, 4);
    if (fmt != 1)
        return recnn__fail(RECNN_E_VERSION, "optimizer load: state format %u, expected 1",
                           (unsigned)fmt);
    if (kind != o->kind || n != o->n)
        return recnn__fail(RECNN_E_INVALID,
                           "optimizer load: state of a %s optimizer over %d parameters, this "
                           "is a %s over %d",
                           kind >= 0 && kind <= RECNN__OPT_RPROP ? opt_names[kind] : "?",
                           (int)n, opt_names[o->kind], o->n);
    if (size != need)
        return recnn__fail(RECNN_E_CORRUPT,
                           "optimizer load: %zu bytes, expected %zu for these parameters",
                           size, need);
    uint32_t crc;
    memcpy(&crc, q + need - 4, 4);
    if (crc != recnn__crc32c(0, buf, need - 4))
        return recnn__fail(RECNN_E_CORRUPT, "optimizer load: checksum mismatch");
    /* validate every entry's count before changing anything */
    int ns = n_states(o->kind);
    const unsigned char *p = q + 24 + 24 + N_HYPER * 8;
    for (int k = 0; k < o->n; k++) {
        int64_t cnt;
        memcpy(&cnt, p, 8);
        if (cnt != o->e[k].p->count)
            return recnn__fail(RECNN_E_INVALID,
                               "optimizer load: parameter %d has %lld values, state has %lld",
                               k, (long long)o->e[k].p->count, (long long)cnt);
        p += 8 + (size_t)ns * (size_t)cnt * sizeof(float);
    }
    if (sched < RECNN__SCHED_CONST || sched > RECNN__SCHED_EXP)
        return recnn__fail(RECNN_E_CORRUPT, "optimizer load: bad schedule %d", (int)sched);
    o->sched = sched;
    memcpy(&o->t, q + 24, 8);
    memcpy(&o->epoch, q + 32, 8);
    memcpy(&o->step_size, q + 40, 8);
    double h[N_HYPER];
    memcpy(h, q + 48, sizeof h);
    hyper_set(o, h);
    p = q + 48 + sizeof h;
    for (int k = 0; k < o->n; k++) {
        int64_t cnt = o->e[k].p->count;
        p += 8;
        if (ns >= 1) {
            memcpy(o->e[k].s1, p, (size_t)cnt * sizeof(float));
            p += (size_t)cnt * sizeof(float);
        }
        if (ns >= 2) {
            memcpy(o->e[k].s2, p, (size_t)cnt * sizeof(float));
            p += (size_t)cnt * sizeof(float);
        }
    }
    return RECNN_OK;
}
