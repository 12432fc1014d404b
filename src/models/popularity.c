/* Item popularity: the honest top-K baseline.  Every user gets the same
 * scores: the number of training interactions of each item ("weight" =
 * count) or the sum of their rating values ("weight" = rating).  Fold-in is
 * trivial (a new user gets the same list minus what they rated).
 * Documentation: docs/models/popularity.md. */
#include "model.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

typedef struct pop_config {
    char weight[RECNN__STR_MAX];
    double default_rating;
} pop_config;

static const recnn__setting pop_settings[] = {
    {"weight", RECNN__SET_STR, offsetof(pop_config, weight), 0, 0, 0, "count",
     "count|rating",
     "count: score = number of training interactions of the item; rating: sum of "
     "their rating values"},
    {"default_rating", RECNN__SET_FLOAT, offsetof(pop_config, default_rating), 0, -1e30,
     1e30, NULL, NULL, "score returned for users or items unknown to the model"},
};

/* m->state is a recnn__alloc'd float[n_items] of scores. */

static void pop_free_state(recnn_model *m)
{
    recnn__free(m->state);
    m->state = NULL;
}

static int pop_fit(recnn_model *m, const recnn_dataset *train, const recnn_dataset *valid)
{
    (void)valid;
    double t0 = recnn__now();
    const pop_config *c = RECNN__CFG(m, pop_config);
    bool by_rating = strcmp(c->weight, "rating") == 0;
    float *score = recnn__alloc((size_t)m->n_items, sizeof *score);
    if (!score)
        return RECNN_E_NOMEM;
    for (int64_t i = 0; i < m->n_items; i++) {
        double s = 0;
        if (by_rating)
            for (int64_t k = train->col_ptr[i]; k < train->col_ptr[i + 1]; k++)
                s += train->col_value[k];
        else
            s = (double)(train->col_ptr[i + 1] - train->col_ptr[i]);
        score[i] = (float)s;
    }
    m->state = score;
    recnn__fit_epoch(m, 1, NAN, NAN, "none", 0, 0, recnn__now() - t0);
    return RECNN_OK;
}

static int pop_predict(const recnn_model *m, int64_t n, const int32_t *u,
                       const int32_t *i, float *out)
{
    (void)u;
    const float *score = m->state;
    for (int64_t k = 0; k < n; k++)
        out[k] = score[i[k]];
    return RECNN_OK;
}

static int pop_score_user(const recnn_model *m, int32_t u, float *scores)
{
    (void)u;
    memcpy(scores, m->state, (size_t)m->n_items * sizeof *scores);
    return RECNN_OK;
}

static int pop_score_new(const recnn_model *m, int64_t n, const int32_t *items,
                         const float *ratings, float *scores)
{
    (void)n;
    (void)items;
    (void)ratings;
    memcpy(scores, m->state, (size_t)m->n_items * sizeof *scores);
    return RECNN_OK;
}

static int pop_tensors(const recnn_model *m, recnn__tensor *out, int max)
{
    if (max < 1 || !m->state)
        return 0;
    out[0] = (recnn__tensor){"score", RECNN__F32, m->n_items, m->state, 0, 0};
    return 1;
}

static int pop_restore(recnn_model *m, const recnn__tensor *t, int n)
{
    if (n != 1 || strcmp(t[0].name, "score") != 0 || t[0].dtype != RECNN__F32 ||
        t[0].count != m->n_items)
        return recnn__fail(RECNN_E_CORRUPT,
                           "popularity: expected one float tensor \"score\" of %lld "
                           "elements",
                           (long long)m->n_items);
    float *score = recnn__alloc((size_t)m->n_items, sizeof *score);
    if (!score)
        return RECNN_E_NOMEM;
    memcpy(score, t[0].data, (size_t)m->n_items * sizeof *score);
    pop_free_state(m);
    m->state = score;
    return RECNN_OK;
}

const recnn__model_vt recnn__vt_popularity = {
    .kind = "popularity",
    .doc = "item popularity (interaction count or rating sum), same list for everyone",
    .settings = pop_settings,
    .n_settings = (int)(sizeof pop_settings / sizeof pop_settings[0]),
    .config_size = sizeof(pop_config),
    .fit = pop_fit,
    .predict = pop_predict,
    .score_user = pop_score_user,
    .score_new = pop_score_new,
    .tensors = pop_tensors,
    .restore = pop_restore,
    .free_state = pop_free_state,
};
