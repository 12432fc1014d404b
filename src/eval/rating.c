/* Rating metrics: MSE, RMSE, MAE, accuracy on a rating grid.  From arrays
 * or from a model and a test set.  Definitions: metrics.h. */
#include "../models/model.h"
#include "eval.h"

#include <stdlib.h>

RECNN_API void recnn_rating_opts_init(recnn_rating_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->clamp = 1;
    o->scale_min = 0;
    o->scale_max = 0;
    o->grid = 0.5f;
    o->unseen = RECNN_UNSEEN_DEFAULT;
    o->default_rating = NAN;
}

/* The caller's options over the defaults (only the fields its size covers). */
static int read_opts(const recnn_rating_opts *in, recnn_rating_opts *o)
{
    recnn_rating_opts_init(o);
    if (!in)
        return RECNN_OK;
    if (in->size < sizeof(size_t))
        return recnn__fail(RECNN_E_INVALID,
                           "recnn_rating_opts.size is %zu: set it with "
                           "recnn_rating_opts_init",
                           in->size);
    size_t n = in->size < sizeof *o ? in->size : sizeof *o;
    memcpy(o, in, n);
    o->size = sizeof *o;
    if (!(o->grid > 0) || !isfinite(o->grid))
        return recnn__fail(RECNN_E_INVALID, "rating options: grid %g must be > 0",
                           (double)o->grid);
    if (o->unseen < RECNN_UNSEEN_DEFAULT || o->unseen > RECNN_UNSEEN_MODEL)
        return recnn__fail(RECNN_E_INVALID, "rating options: unseen policy %d unknown",
                           o->unseen);
    if (!isfinite(o->scale_min) || !isfinite(o->scale_max) || o->scale_min > o->scale_max)
        return recnn__fail(RECNN_E_INVALID, "rating options: scale [%g, %g] is not a range",
                           (double)o->scale_min, (double)o->scale_max);
    return RECNN_OK;
}

typedef struct acc {
    int64_t n;
    double se, ae;
    int64_t exact;
} acc;

static void acc_add(acc *a, const recnn_rating_opts *o, bool clamp, float p, float t)
{
    if (clamp)
        p = p < o->scale_min ? o->scale_min : p > o->scale_max ? o->scale_max : p;
    double e = (double)p - (double)t;
    a->se += e * e;
    a->ae += fabs(e);
    double g = (double)o->grid;
    double r = g * floor((double)p / g + 0.5);
    if (fabs(r - (double)t) <= g * 1e-3)
        a->exact++;
    a->n++;
}

static int write_out(const acc *a, int64_t n_unseen, recnn_rating_metrics *out)
{
    recnn_rating_metrics r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    r.n = a->n;
    r.n_unseen = n_unseen;
    if (a->n > 0) {
        r.mse = a->se / (double)a->n;
        r.rmse = sqrt(r.mse);
        r.mae = a->ae / (double)a->n;
        r.accuracy = (double)a->exact / (double)a->n;
    } else {
        r.mse = r.rmse = r.mae = r.accuracy = NAN;
    }
    size_t sz = out->size < sizeof r ? out->size : sizeof r;
    memcpy((char *)out + sizeof(size_t), (const char *)&r + sizeof(size_t),
           sz - sizeof(size_t));
    return RECNN_OK;
}

static int check_out(recnn_rating_metrics *out)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "rating metrics: out must not be NULL");
    if (out->size < sizeof(size_t) + sizeof(int64_t))
        return recnn__fail(RECNN_E_INVALID,
                           "recnn_rating_metrics.size is %zu: set it to "
                           "sizeof(recnn_rating_metrics)",
                           out->size);
    return RECNN_OK;
}

RECNN_API int recnn_rating_metrics_arrays(const float *pred, const float *truth,
                                          size_t n, const recnn_rating_opts *opts,
                                          recnn_rating_metrics *out)
{
    int st = check_out(out);
    if (st)
        return st;
    recnn_rating_opts o;
    if ((st = read_opts(opts, &o)))
        return st;
    if (n && (!pred || !truth))
        return recnn__fail(RECNN_E_INVALID, "rating metrics: NULL arrays for n = %zu", n);
    bool clamp = o.clamp && !(o.scale_min == 0 && o.scale_max == 0);
    acc a = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pred[i]) || !isfinite(truth[i]))
            return recnn__fail(RECNN_E_NUMERIC,
                               "rating metrics: pair %zu is not finite (%g, %g)", i,
                               (double)pred[i], (double)truth[i]);
        acc_add(&a, &o, clamp, pred[i], truth[i]);
    }
    return write_out(&a, 0, out);
}

RECNN_API int recnn_rating_metrics_model(const recnn_model *m, const recnn_dataset *test,
                                         const recnn_rating_opts *opts,
                                         recnn_rating_metrics *out)
{
    int st = check_out(out);
    if (st)
        return st;
    recnn_rating_opts o;
    if ((st = read_opts(opts, &o)))
        return st;
    if (!m || !test)
        return recnn__fail(RECNN_E_INVALID, "rating metrics: model and test must not be NULL");
    if (!recnn_model_is_fitted(m))
        return recnn__fail(RECNN_E_STATE, "rating metrics: the model is not trained");
    if (!recnn__model_same_space(m, test))
        return recnn__fail(RECNN_E_INVALID,
                           "rating metrics: the test set is not from the model's index "
                           "space (split train and test from one dataset)");
    int64_t n = test->n_ratings;
    float *p = recnn__alloc((size_t)(n ? n : 1), sizeof *p);
    if (!p)
        return recnn__fail(RECNN_E_NOMEM, "rating metrics: out of memory");
    /* the model's own predictions: predict_dataset would put the default
     * in for unseen pairs, which RECNN_UNSEEN_MODEL must not do */
    st = n ? m->vt->predict(m, n, test->user, test->item, p) : RECNN_OK;
    if (st) {
        recnn__free(p);
        return st;
    }
    float def = isnan(o.default_rating) ? recnn__model_default(m) : o.default_rating;
    if (o.scale_min == 0 && o.scale_max == 0) {
        o.scale_min = m->scale_min;
        o.scale_max = m->scale_max;
    }
    bool clamp = o.clamp != 0;
    acc a = {0, 0, 0, 0};
    int64_t n_unseen = 0;
    for (int64_t k = 0; k < n; k++) {
        int32_t u = test->user[k], i = test->item[k];
        bool unseen = !recnn__model_known(m, u, i);
        float pred = p[k];
        if (unseen) {
            n_unseen++;
            if (o.unseen == RECNN_UNSEEN_SKIP)
                continue;
            if (o.unseen == RECNN_UNSEEN_DEFAULT)
                pred = def;
        }
        if (!isfinite(pred)) {
            recnn__free(p);
            return recnn__fail(RECNN_E_NUMERIC,
                               "rating metrics: the model predicted %g for rating %lld",
                               (double)pred, (long long)k);
        }
        acc_add(&a, &o, clamp, pred, test->value[k]);
    }
    recnn__free(p);
    return write_out(&a, n_unseen, out);
}
