/* Losses and penalties: masked MSE (sparse positions and dense outputs
 * against observed entries), BCE on logits, L2, elastic net, rating-range
 * penalty. */
#include "nn.h"

#include <math.h>

double recnn__loss_mse(int64_t n, const float *pred, const float *target,
                       const float *weight, float scale, float *grad)
{
    double s = 0;
    for (int64_t k = 0; k < n; k++) {
        double w = weight ? weight[k] : 1.0;
        double e = (double)pred[k] - target[k];
        s += w * e * e;
        if (grad)
            grad[k] = (float)(2.0 * scale * w * e);
    }
    return scale * s;
}

double recnn__loss_mse_csr(const recnn__csr *x, const float *y, float scale, float *grad)
{
    double s = 0;
    int64_t k = 0;
    for (int64_t r = 0; r < x->n; r++) {
        int64_t sr = x->sel ? x->sel[r] : r;
        for (int64_t q = x->ptr[sr]; q < x->ptr[sr + 1]; q++, k++) {
            double e = (double)y[k] - (x->val ? x->val[q] : 1.0f);
            s += e * e;
            if (grad)
                grad[k] = (float)(2.0 * scale * e);
        }
    }
    return scale * s;
}

double recnn__loss_masked_mse(int64_t dim, const float *y, const recnn__csr *obs,
                              float unobs_w, float unobs_t, float scale, float *grad)
{
    int64_t n = obs->n;
    double s = 0;
    /* Start from "every entry unobserved", then correct the observed ones:
     * O(n*dim) only when unobs_w != 0 or a dense gradient is wanted. */
    if (unobs_w != 0.0f) {
        for (int64_t i = 0; i < n * dim; i++) {
            double e = (double)y[i] - unobs_t;
            s += unobs_w * e * e;
            if (grad)
                grad[i] = (float)(2.0 * scale * unobs_w * e);
        }
    } else if (grad) {
        for (int64_t i = 0; i < n * dim; i++)
            grad[i] = 0.0f;
    }
    for (int64_t r = 0; r < n; r++) {
        int64_t sr = obs->sel ? obs->sel[r] : r;
        for (int64_t k = obs->ptr[sr]; k < obs->ptr[sr + 1]; k++) {
            int64_t i = r * dim + obs->idx[k];
            double t = obs->val ? obs->val[k] : 1.0;
            double e = (double)y[i] - t;
            if (unobs_w != 0.0f) {
                double eu = (double)y[i] - unobs_t;
                s -= unobs_w * eu * eu;
            }
            s += e * e;
            if (grad)
                grad[i] = (float)(2.0 * scale * e);
        }
    }
    return scale * s;
}

double recnn__loss_bce_logits(int64_t n, const float *z, const float *t,
                              const float *weight, float scale, float *grad)
{
    double s = 0;
    for (int64_t k = 0; k < n; k++) {
        double w = weight ? weight[k] : 1.0;
        double zk = z[k], tk = t[k];
        double l = (zk > 0 ? zk : 0.0) - zk * tk + log1p(exp(-fabs(zk)));
        s += w * l;
        if (grad) {
            double sg = zk >= 0 ? 1.0 / (1.0 + exp(-zk)) : exp(zk) / (1.0 + exp(zk));
            grad[k] = (float)(scale * w * (sg - tk));
        }
    }
    return scale * s;
}

/* Vector lanes of doubles (the order depends on the vector width only:
 * bits are fixed on a given machine). */
RECNN__CLONES static double sumsq_grad(int64_t n, const float *restrict w, float lambda,
                                       float *restrict grad)
{
    double s = 0;
    if (grad) {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < n; k++) {
            s += (double)w[k] * w[k];
            grad[k] += lambda * w[k];
        }
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < n; k++)
            s += (double)w[k] * w[k];
    }
    return s;
}

double recnn__penalty_l2(int64_t n, const float *w, float lambda, float *grad)
{
    return 0.5 * lambda * sumsq_grad(n, w, lambda, grad);
}

double recnn__penalty_elastic(int64_t n, const float *w, float lambda, float l1, float *grad)
{
    double s1 = 0, s2 = 0;
    for (int64_t k = 0; k < n; k++) {
        s1 += fabs((double)w[k]);
        s2 += (double)w[k] * w[k];
        if (grad) {
            float sg = w[k] > 0 ? 1.0f : w[k] < 0 ? -1.0f : 0.0f;
            grad[k] += lambda * (l1 * sg + (1.0f - l1) * w[k]);
        }
    }
    return lambda * (l1 * s1 + 0.5 * (1.0 - l1) * s2);
}

double recnn__penalty_range(int64_t n, const float *y, float lo, float hi, float lambda,
                            int literal, float *grad)
{
    double s = 0;
    for (int64_t k = 0; k < n; k++) {
        double v = y[k], d;
        if (v >= lo && v <= hi)
            continue;
        if (literal)
            d = v;
        else
            d = v > hi ? v - hi : v - lo;
        s += d * d;
        if (grad)
            grad[k] += (float)(2.0 * lambda * d);
    }
    return lambda * s;
}

/* Calls f over the rows a lazy update would touch (all when dense). */
static double over_rows(recnn__param *p, float lambda, float l1, int elastic)
{
    if (!recnn__param_sparse(p)) {
        return elastic ? recnn__penalty_elastic(p->count, p->w, lambda, l1, p->g)
                       : recnn__penalty_l2(p->count, p->w, lambda, p->g);
    }
    int64_t rl = p->row_len > 0 ? p->row_len : p->count;
    double s = 0;
    for (int64_t k = 0; k < p->n_rows; k++) {
        int64_t r = p->rows[k];
        s += elastic ? recnn__penalty_elastic(rl, p->w + r * rl, lambda, l1, p->g + r * rl)
                     : recnn__penalty_l2(rl, p->w + r * rl, lambda, p->g + r * rl);
    }
    return s;
}

double recnn__params_l2(recnn__param *const *ps, int n, float lambda)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        if (ps[i]->decay)
            s += over_rows(ps[i], lambda, 0.0f, 0);
    return s;
}

double recnn__params_elastic(recnn__param *const *ps, int n, float lambda, float l1)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        if (ps[i]->decay)
            s += over_rows(ps[i], lambda, l1, 1);
    return s;
}
