/* EASE, "Embarrassingly Shallow Autoencoders for Sparse Data" (Steck, WWW
 * 2019): an item-item weight matrix with a zero diagonal in closed form,
 *
 *     P = (XᵀX + λI)⁻¹,   B = I − P·diagMat(1/diag(P)),
 *
 * i.e. B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0; a user's scores are x_u B.
 * X is the users × items interaction matrix: binary by default, or the
 * rating values ("values" = rating).  Memory is one items × items float
 * matrix (G, inverted and turned into B in place), refused above the
 * "max_memory_mb" cap.  Fold-in is exact: a new user's scores are x B.
 * Documentation: docs/models/ease.md. */
#include "model.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

typedef struct ease_config {
    double l2;
    char values[RECNN__STR_MAX];
    int64_t max_memory_mb;
    double default_rating;
} ease_config;

static const recnn__setting ease_settings[] = {
    {"l2", RECNN__SET_FLOAT, offsetof(ease_config, l2), 250, 0, 1e12, NULL, NULL,
     "λ, the L2 penalty added to the diagonal of XᵀX (250 measured best on ML-100K)"},
    {"values", RECNN__SET_STR, offsetof(ease_config, values), 0, 0, 0, "binary",
     "binary|rating", "binary: X holds 1 per interaction; rating: the rating values"},
    {"max_memory_mb", RECNN__SET_INT, offsetof(ease_config, max_memory_mb), 4096, 1,
     1073741824.0, NULL, NULL,
     "refuse to fit when the items x items float matrix exceeds this many MiB"},
    {"default_rating", RECNN__SET_FLOAT, offsetof(ease_config, default_rating), 0,
     -1e30, 1e30, NULL, NULL, "score returned for users or items unknown to the model"},
};

typedef struct ease_state {
    float *b;      /* n_items × n_items, row-major: b[i*n + j] = B_ij */
    float *xval;   /* "rating" mode: the value of each seen entry (CSR order) */
    int64_t nnz;   /* entries of xval */
} ease_state;

static void ease_free_state(recnn_model *m)
{
    ease_state *s = m->state;
    if (!s)
        return;
    recnn__free(s->b);
    recnn__free(s->xval);
    recnn__free(s);
    m->state = NULL;
}

static bool by_rating(const recnn_model *m)
{
    return strcmp(RECNN__CFG(m, ease_config)->values, "rating") == 0;
}

/* Bytes of the items × items matrix, or refusal above the cap. */
static int check_memory(const recnn_model *m, int64_t n)
{
    const ease_config *c = RECNN__CFG(m, ease_config);
    double mib = (double)n * (double)n * 4.0 / 1048576.0;
    if (mib > (double)c->max_memory_mb)
        return recnn__fail(RECNN_E_NOMEM,
                           "ease: %lld items need a %lld x %lld float matrix (%.0f MiB), "
                           "over max_memory_mb=%lld; raise the setting or filter items",
                           (long long)n, (long long)n, (long long)n, mib,
                           (long long)c->max_memory_mb);
    return RECNN_OK;
}

static int ease_fit(recnn_model *m, const recnn_dataset *train, const recnn_dataset *valid)
{
    (void)valid;
    double t0 = recnn__now();
    const ease_config *c = RECNN__CFG(m, ease_config);
    const int64_t n = m->n_items;
    const bool rat = by_rating(m);
    int st = check_memory(m, n);
    if (st)
        return st;
    ease_state *s = recnn__calloc(1, sizeof *s);
    if (!s)
        return RECNN_E_NOMEM;
    m->state = s;
    s->b = recnn__calloc((size_t)n * (size_t)n, sizeof *s->b);
    if (!s->b)
        return RECNN_E_NOMEM;
    if (rat) {
        s->nnz = train->n_ratings;
        s->xval = recnn__alloc((size_t)s->nnz, sizeof *s->xval);
        if (!s->xval)
            return RECNN_E_NOMEM;
        memcpy(s->xval, train->value, (size_t)s->nnz * sizeof *s->xval);
    }

    /* G = XᵀX, row i from the users who rated i; each row has one writer
     * and a fixed summation order, so the result is thread-independent. */
    float *g = s->b;
#pragma omp parallel for num_threads(recnn__threads()) schedule(dynamic, 8)
    for (int64_t i = 0; i < n; i++) {
        float *row = g + i * n;
        for (int64_t k = train->col_ptr[i]; k < train->col_ptr[i + 1]; k++) {
            int32_t u = train->col_user[k];
            float xi = rat ? train->col_value[k] : 1.0f;
            for (int64_t q = train->row_ptr[u]; q < train->row_ptr[u + 1]; q++)
                row[train->item[q]] += xi * (rat ? train->value[q] : 1.0f);
        }
        row[i] += (float)c->l2;
    }
    st = recnn__spd_inverse(n, g);
    if (st)
        return recnn__fail(st,
                           "ease: XᵀX + λI is not positive definite (l2=%g); use l2 > 0",
                           c->l2);
    float *diag = recnn__alloc((size_t)n, sizeof *diag);
    if (!diag)
        return RECNN_E_NOMEM;
    for (int64_t j = 0; j < n; j++)
        diag[j] = g[j * n + j];
#pragma omp parallel for num_threads(recnn__threads()) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float *row = g + i * n;
        for (int64_t j = 0; j < n; j++)
            row[j] = j == i ? 0.0f : -row[j] / diag[j];
    }
    recnn__free(diag);
    recnn__fit_epoch(m, 1, NAN, NAN, "none", 0, 0, recnn__now() - t0);
    return RECNN_OK;
}

/* x value of seen entry k of the training data (CSR order). */
static inline float xval(const ease_state *s, int64_t k)
{
    return s->xval ? s->xval[k] : 1.0f;
}

static int ease_predict(const recnn_model *m, int64_t n, const int32_t *u,
                        const int32_t *i, float *out)
{
    const ease_state *s = m->state;
    const int64_t ni = m->n_items;
    /* a handful of pairs is not worth waking the thread pool */
#pragma omp parallel for num_threads(recnn__threads()) schedule(static) if (n >= 512)
    for (int64_t p = 0; p < n; p++) {
        /* Same operations in the same order as ease_score_user, so that
         * predict and score_user agree bit for bit. */
        float acc = 0;
        for (int64_t k = m->seen_ptr[u[p]]; k < m->seen_ptr[u[p] + 1]; k++)
            acc += xval(s, k) * s->b[(int64_t)m->seen_item[k] * ni + i[p]];
        out[p] = acc;
    }
    return RECNN_OK;
}

static int ease_score_user(const recnn_model *m, int32_t u, float *scores)
{
    const ease_state *s = m->state;
    const int64_t n = m->n_items;
    memset(scores, 0, (size_t)n * sizeof *scores);
    for (int64_t k = m->seen_ptr[u]; k < m->seen_ptr[u + 1]; k++) {
        const float x = xval(s, k), *row = s->b + (int64_t)m->seen_item[k] * n;
        for (int64_t j = 0; j < n; j++)
            scores[j] += x * row[j];
    }
    return RECNN_OK;
}

static int ease_score_new(const recnn_model *m, int64_t nr, const int32_t *items,
                          const float *ratings, float *scores)
{
    const ease_state *s = m->state;
    const int64_t n = m->n_items;
    const bool rat = by_rating(m);
    memset(scores, 0, (size_t)n * sizeof *scores);
    for (int64_t k = 0; k < nr; k++) {
        const float x = rat ? ratings[k] : 1.0f, *row = s->b + (int64_t)items[k] * n;
        for (int64_t j = 0; j < n; j++)
            scores[j] += x * row[j];
    }
    return RECNN_OK;
}

static int ease_tensors(const recnn_model *m, recnn__tensor *out, int max)
{
    const ease_state *s = m->state;
    if (!s || max < 1)
        return 0;
    int k = 0;
    out[k++] = (recnn__tensor){"B", RECNN__F32, m->n_items * m->n_items, s->b, 0, 0};
    if (s->xval && k < max)
        out[k++] = (recnn__tensor){"x_value", RECNN__F32, s->nnz, s->xval, 0, 0};
    return k;
}

static int ease_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    const bool rat = by_rating(m);
    const int64_t nnz = m->seen_ptr[m->n_users];
    const recnn__tensor *b = NULL, *x = NULL;
    for (int k = 0; k < n; k++) {
        if (strcmp(t[k].name, "B") == 0)
            b = &t[k];
        else if (strcmp(t[k].name, "x_value") == 0)
            x = &t[k];
        else
            return recnn__fail(RECNN_E_CORRUPT, "ease: unexpected tensor \"%s\"",
                               t[k].name);
    }
    if (!b || b->dtype != RECNN__F32 || b->count != m->n_items * m->n_items)
        return recnn__fail(RECNN_E_CORRUPT, "ease: tensor B missing or of wrong size");
    if (rat != (x != NULL) || (x && (x->dtype != RECNN__F32 || x->count != nnz)))
        return recnn__fail(RECNN_E_CORRUPT,
                           "ease: tensor x_value missing, unexpected or of wrong size");
    int st = check_memory(m, m->n_items);
    if (st)
        return st;
    ease_state *s = recnn__calloc(1, sizeof *s);
    if (!s)
        return RECNN_E_NOMEM;
    s->b = recnn__alloc((size_t)b->count, sizeof *s->b);
    if (s->b && x) {
        s->nnz = nnz;
        s->xval = recnn__alloc((size_t)nnz, sizeof *s->xval);
    }
    if (!s->b || (x && !s->xval)) {
        recnn__free(s->b);
        recnn__free(s);
        return RECNN_E_NOMEM;
    }
    memcpy(s->b, b->data, (size_t)b->count * sizeof *s->b);
    if (x)
        memcpy(s->xval, x->data, (size_t)nnz * sizeof *s->xval);
    ease_free_state(m);
    m->state = s;
    return RECNN_OK;
}

const recnn__model_vt recnn__vt_ease = {
    .kind = "ease",
    .doc = "EASE (Steck 2019): closed-form item-item autoencoder with zero diagonal",
    .settings = ease_settings,
    .n_settings = (int)(sizeof ease_settings / sizeof ease_settings[0]),
    .config_size = sizeof(ease_config),
    .fit = ease_fit,
    .predict = ease_predict,
    .score_user = ease_score_user,
    .score_new = ease_score_new,
    .tensors = ease_tensors,
    .restore = ease_restore,
    .free_state = ease_free_state,
};
