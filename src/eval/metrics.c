/* Metric arithmetic on arrays: the per-user ranking kernel, AUC counting,
 * Gini, confidence intervals, metric names.  Definitions: metrics.h. */
#include "eval.h"

#include <stdlib.h>

void recnn__rank_user(const recnn__rankcfg *c, int64_t n_list, const uint8_t *rel,
                      const double *gain, int64_t n_rel, const double *ideal,
                      double out[RECNN__U_COUNT][RECNN__MAX_K])
{
    int64_t hits = 0, first = 0; /* first: rank of the first hit, 0 = none */
    double ap_sum = 0, dcg = 0, idcg = 0;
    int64_t j = 0; /* ranks 1..j processed for the list (DCG, hits, AP) */
    int64_t ji = 0; /* ranks 1..ji processed for the ideal DCG */
    for (int ki = 0; ki < c->n_k; ki++) {
        int64_t k = c->ks[ki];
        int64_t lim = k < n_list ? k : n_list;
        for (; j < lim; j++) {
            if (!rel[j])
                continue;
            hits++;
            if (!first)
                first = j + 1;
            ap_sum += (double)hits / (double)(j + 1);
            double g = c->ndcg == RECNN__NDCG_BINARY || !gain ? 1.0 : gain[j];
            dcg += g / log2((double)(j + 2));
        }
        int64_t ilim = k < n_rel ? k : n_rel;
        for (; ji < ilim; ji++) {
            double g = c->ndcg == RECNN__NDCG_BINARY || !ideal ? 1.0 : ideal[ji];
            /* the best list puts a non-relevant item (gain 0) before an
             * item of negative gain (a rating below 0 on a shifted scale) */
            if (g > 0)
                idcg += g / log2((double)(ji + 2));
        }
        double p_den = c->precision == RECNN__PREC_LISTED ? (double)lim : (double)k;
        double p = p_den > 0 ? (double)hits / p_den : 0.0;
        double r = n_rel > 0 ? (double)hits / (double)n_rel : 0.0;
        double ap_den = c->map == RECNN__MAP_MIN    ? (double)(k < n_rel ? k : n_rel)
                        : c->map == RECNN__MAP_HITS ? (double)hits
                                                    : (double)n_rel;
        out[RECNN__U_PREC][ki] = p;
        out[RECNN__U_REC][ki] = r;
        out[RECNN__U_F1][ki] = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
        out[RECNN__U_MAP][ki] = ap_den > 0 ? ap_sum / ap_den : 0.0;
        out[RECNN__U_NDCG][ki] = idcg > 0 ? dcg / idcg : 0.0;
        out[RECNN__U_HR][ki] = hits > 0 ? 1.0 : 0.0;
        out[RECNN__U_MRR][ki] = first ? 1.0 / (double)first : 0.0;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double recnn__gini(int64_t *c, int64_t n)
{
    if (n <= 0)
        return NAN;
    qsort(c, (size_t)n, sizeof *c, cmp_i64);
    double num = 0, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        num += (double)(2 * (i + 1) - n - 1) * (double)c[i];
        sum += (double)c[i];
    }
    if (sum <= 0)
        return NAN;
    return num / ((double)n * sum);
}

/* t(0.975, df) for df = 1..30. */
static const double t975_table[30] = {
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836,
    2.446911851,  2.364624252, 2.306004135, 2.262157163, 2.228138852,
    2.200985160,  2.178812830, 2.160368656, 2.144786688, 2.131449546,
    2.119905299,  2.109815578, 2.100922040, 2.093024054, 2.085963447,
    2.079613845,  2.073873068, 2.068657610, 2.063898562, 2.059538553,
    2.055529439,  2.051830516, 2.048407142, 2.045229642, 2.042272456};

double recnn__t975(int64_t df)
{
    if (df < 1)
        return NAN;
    if (df <= 30)
        return t975_table[df - 1];
    /* Cornish-Fisher expansion of the t quantile around the normal one
     * (Abramowitz & Stegun 26.7.5); error < 1e-6 for df > 30. */
    const double z = 1.959963984540054;
    double z2 = z * z, v = (double)df;
    double g1 = (z2 + 1) * z / 4;
    double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
    double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
    double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

RECNN_API int recnn_mean_ci95(const double *values, size_t n, double *mean,
                              double *half_width)
{
    if ((!values && n) || !mean || !half_width)
        return recnn__fail(RECNN_E_INVALID, "recnn_mean_ci95: NULL argument");
    double sum = 0;
    int64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i])) {
            sum += values[i];
            m++;
        }
    if (m == 0)
        return recnn__fail(RECNN_E_INVALID, "recnn_mean_ci95: no value to average");
    double mu = sum / (double)m;
    if (!isfinite(mu))
        return recnn__fail(RECNN_E_NUMERIC, "recnn_mean_ci95: the mean is not finite");
    *mean = mu;
    if (m < 2) {
        *half_width = NAN;
        return RECNN_OK;
    }
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i])) {
            double d = values[i] - mu;
            ss += d * d;
        }
    double sd = sqrt(ss / (double)(m - 1));
    *half_width = recnn__t975(m - 1) * sd / sqrt((double)m);
    return RECNN_OK;
}

static const char *const metric_names[RECNN_METRIC_COUNT] = {
    "precision", "recall", "f1",      "map", "ndcg", "hr",       "mrr",
    "auc",       "coverage", "gini", "novelty", "ild", "genre_tvd"};

RECNN_API const char *recnn_metric_name(int metric)
{
    return metric >= 0 && metric < RECNN_METRIC_COUNT ? metric_names[metric] : NULL;
}

RECNN_API int recnn_metric_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < RECNN_METRIC_COUNT; i++)
        if (strcmp(metric_names[i], name) == 0)
            return i;
    return -1;
}
