/* The shared half of every model: creation by kind, settings, external-id
 * prediction, recommendation, fold-in, early stopping. */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings ---------------------------------------------------------- */

static const recnn__setting *find_setting(const recnn__model_vt *vt, const char *key)
{
    for (int i = 0; i < vt->n_settings; i++)
        if (strcmp(vt->settings[i].name, key) == 0)
            return &vt->settings[i];
    return NULL;
}

static int lookup(const recnn_model *m, const char *key, const recnn__setting **s)
{
    if (!m || !key)
        return recnn__fail(RECNN_E_INVALID, "model and key must not be NULL");
    *s = find_setting(m->vt, key);
    if (!*s)
        return recnn__fail(RECNN_E_NOTFOUND, "model \"%s\" has no setting \"%s\"",
                           m->vt->kind, key);
    return RECNN_OK;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

static int store(void *config, const recnn__setting *s, const char *kind, int64_t iv,
                 double fv, const char *sv)
{
    char *field = (char *)config + s->offset;
    switch (s->type) {
    case RECNN__SET_INT:
        if ((double)iv < s->min || (double)iv > s->max)
            return recnn__fail(RECNN_E_INVALID,
                               "%s: %s=%lld is outside [%.17g, %.17g]", kind, s->name,
                               (long long)iv, s->min, s->max);
        memcpy(field, &iv, sizeof iv);
        return RECNN_OK;
    case RECNN__SET_FLOAT:
        /* NaN is allowed where it is the default ("not set": e.g. a
         * default_rating of NaN means the training mean). */
        if (isnan(fv) && isnan(s->def)) {
            memcpy(field, &fv, sizeof fv);
            return RECNN_OK;
        }
        if (!isfinite(fv) || fv < s->min || fv > s->max)
            return recnn__fail(RECNN_E_INVALID, "%s: %s=%g is outside [%g, %g]", kind,
                               s->name, fv, s->min, s->max);
        memcpy(field, &fv, sizeof fv);
        return RECNN_OK;
    default:
        if (strlen(sv) >= RECNN__STR_MAX)
            return recnn__fail(RECNN_E_INVALID, "%s: %s is longer than %d characters",
                               kind, s->name, RECNN__STR_MAX - 1);
        /* the settings string (and the model file, which stores it) splits
         * on white space: a value with a space or '=' would not read back */
        for (const char *c = sv; *c; c++)
            if (isspace((unsigned char)*c) || *c == '=')
                return recnn__fail(RECNN_E_INVALID,
                                   "%s: %s=\"%s\" contains white space or '='", kind,
                                   s->name, sv);
        if (s->choices && !choice_ok(s->choices, sv))
            return recnn__fail(RECNN_E_INVALID, "%s: %s=\"%s\" is not one of %s", kind,
                               s->name, sv, s->choices);
        memcpy(field, sv, strlen(sv) + 1);
        return RECNN_OK;
    }
}

/* Parses text for setting s and stores it. */
static int store_text(void *config, const recnn__setting *s, const char *kind,
                      const char *text)
{
    char *end;
    errno = 0;
    if (s->type == RECNN__SET_INT) {
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return recnn__fail(RECNN_E_INVALID, "%s: %s=\"%s\" is not an integer", kind,
                               s->name, text);
        return store(config, s, kind, v, 0, NULL);
    }
    if (s->type == RECNN__SET_FLOAT) {
        double v = recnn__strtod_c(text, &end);
        if (errno || end == text || *end)
            return recnn__fail(RECNN_E_INVALID, "%s: %s=\"%s\" is not a number", kind,
                               s->name, text);
        return store(config, s, kind, 0, v, NULL);
    }
    return store(config, s, kind, 0, 0, text);
}

static int not_fitted_guard(const recnn_model *m)
{
    if (m->fitting)
        return recnn__fail(RECNN_E_STATE,
                           "%s: settings cannot change while fit is running (from its "
                           "progress callback)",
                           m->vt->kind);
    if (m->fitted)
        return recnn__fail(RECNN_E_STATE,
                           "%s: settings are fixed once the model is trained",
                           m->vt->kind);
    return RECNN_OK;
}

RECNN_API int recnn_model_set_int(recnn_model *m, const char *key, int64_t value)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st || (st = not_fitted_guard(m)))
        return st;
    if (s->type == RECNN__SET_FLOAT)
        return store(m->config, s, m->vt->kind, 0, (double)value, NULL);
    if (s->type != RECNN__SET_INT)
        return recnn__fail(RECNN_E_INVALID, "%s: %s takes a string", m->vt->kind, key);
    return store(m->config, s, m->vt->kind, value, 0, NULL);
}

RECNN_API int recnn_model_set_float(recnn_model *m, const char *key, double value)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st || (st = not_fitted_guard(m)))
        return st;
    if (s->type == RECNN__SET_INT) {
        if (value != floor(value) || fabs(value) > 9.0e15)
            return recnn__fail(RECNN_E_INVALID, "%s: %s takes an integer", m->vt->kind,
                               key);
        return store(m->config, s, m->vt->kind, (int64_t)value, 0, NULL);
    }
    if (s->type != RECNN__SET_FLOAT)
        return recnn__fail(RECNN_E_INVALID, "%s: %s takes a string", m->vt->kind, key);
    return store(m->config, s, m->vt->kind, 0, value, NULL);
}

RECNN_API int recnn_model_set_str(recnn_model *m, const char *key, const char *value)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st || (st = not_fitted_guard(m)))
        return st;
    if (!value)
        return recnn__fail(RECNN_E_INVALID, "value must not be NULL");
    return store_text(m->config, s, m->vt->kind, value);
}

/* Applies "k=v k=v" to config (all or nothing through a scratch copy). */
int recnn__model_configure_raw(const recnn__model_vt *vt, void *config,
                               const char *text)
{
    void *tmp = malloc(vt->config_size ? vt->config_size : 1);
    if (!tmp)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    memcpy(tmp, config, vt->config_size);
    int st = RECNN_OK;
    const char *p = text;
    while (st == RECNN_OK) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - tok);
        char buf[RECNN__STR_MAX + 64];
        if (len >= sizeof buf) {
            st = recnn__fail(RECNN_E_INVALID, "%s: setting \"%.40s...\" is too long",
                             vt->kind, tok);
            break;
        }
        memcpy(buf, tok, len);
        buf[len] = '\0';
        char *eq = strchr(buf, '=');
        if (!eq || eq == buf) {
            st = recnn__fail(RECNN_E_INVALID, "%s: \"%s\" is not key=value", vt->kind,
                             buf);
            break;
        }
        *eq = '\0';
        const recnn__setting *s = find_setting(vt, buf);
        if (!s) {
            st = recnn__fail(RECNN_E_NOTFOUND, "model \"%s\" has no setting \"%s\"",
                             vt->kind, buf);
            break;
        }
        st = store_text(tmp, s, vt->kind, eq + 1);
    }
    if (st == RECNN_OK)
        memcpy(config, tmp, vt->config_size);
    free(tmp);
    return st;
}

RECNN_API int recnn_model_configure(recnn_model *m, const char *settings)
{
    if (!m || !settings)
        return recnn__fail(RECNN_E_INVALID, "model and settings must not be NULL");
    int st = not_fitted_guard(m);
    if (st)
        return st;
    return recnn__model_configure_raw(m->vt, m->config, settings);
}

RECNN_API int recnn_model_get_int(const recnn_model *m, const char *key, int64_t *value)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st)
        return st;
    if (!value || s->type != RECNN__SET_INT)
        return recnn__fail(RECNN_E_INVALID, "%s: %s is not an integer setting",
                           m->vt->kind, key);
    memcpy(value, (const char *)m->config + s->offset, sizeof *value);
    return RECNN_OK;
}

RECNN_API int recnn_model_get_float(const recnn_model *m, const char *key, double *value)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st)
        return st;
    if (!value || s->type == RECNN__SET_STR)
        return recnn__fail(RECNN_E_INVALID, "%s: %s is not a number setting",
                           m->vt->kind, key);
    if (s->type == RECNN__SET_INT) {
        int64_t v;
        memcpy(&v, (const char *)m->config + s->offset, sizeof v);
        *value = (double)v;
    } else {
        memcpy(value, (const char *)m->config + s->offset, sizeof *value);
    }
    return RECNN_OK;
}

static int format_value(const void *config, const recnn__setting *s, char *buf,
                        size_t size)
{
    const char *field = (const char *)config + s->offset;
    if (s->type == RECNN__SET_INT) {
        int64_t v;
        memcpy(&v, field, sizeof v);
        return snprintf(buf, size, "%lld", (long long)v);
    }
    if (s->type == RECNN__SET_FLOAT) {
        double v;
        memcpy(&v, field, sizeof v);
        return recnn__snprintf_c(buf, size, "%.17g", v);
    }
    return snprintf(buf, size, "%s", field);
}

RECNN_API int recnn_model_get_str(const recnn_model *m, const char *key, char *buf,
                                  size_t size)
{
    const recnn__setting *s;
    int st = lookup(m, key, &s);
    if (st)
        return st;
    if (!buf || size == 0)
        return recnn__fail(RECNN_E_INVALID, "buffer must not be empty");
    int n = format_value(m->config, s, buf, size);
    if (n < 0 || (size_t)n >= size)
        return recnn__fail(RECNN_E_INVALID, "buffer of %zu bytes is too small", size);
    return RECNN_OK;
}

RECNN_API int recnn_model_setting_count(const recnn_model *m)
{
    return m ? m->vt->n_settings : 0;
}

RECNN_API int recnn_model_setting_info(const recnn_model *m, int i, const char **name,
                                       const char **type, const char **doc)
{
    if (!m || i < 0 || i >= m->vt->n_settings)
        return recnn__fail(RECNN_E_INVALID, "setting index %d out of range", i);
    const recnn__setting *s = &m->vt->settings[i];
    static const char *const types[] = {"int", "float", "string"};
    if (name)
        *name = s->name;
    if (type)
        *type = types[s->type];
    if (doc)
        *doc = s->doc;
    return RECNN_OK;
}

int recnn__settings_format(const recnn__model_vt *vt, const void *config, char *buf,
                           size_t size)
{
    size_t len = 0;
    for (int i = 0; i < vt->n_settings; i++) {
        char val[RECNN__STR_MAX + 32];
        format_value(config, &vt->settings[i], val, sizeof val);
        int n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
                         "%s%s=%s", i ? " " : "", vt->settings[i].name, val);
        if (n < 0)
            return recnn__fail(RECNN_E_INVALID, "formatting failed");
        len += (size_t)n;
    }
    if (size > 0 && len >= size)
        buf[size - 1] = '\0';
    return (int)len;
}

RECNN_API int recnn_model_settings_string(const recnn_model *m, char *buf, size_t size)
{
    if (!m)
        return recnn__fail(RECNN_E_INVALID, "model must not be NULL");
    return recnn__settings_format(m->vt, m->config, buf, size);
}

static void set_defaults(const recnn__model_vt *vt, void *config)
{
    for (int i = 0; i < vt->n_settings; i++) {
        const recnn__setting *s = &vt->settings[i];
        char *field = (char *)config + s->offset;
        if (s->type == RECNN__SET_INT) {
            int64_t v = (int64_t)s->def;
            memcpy(field, &v, sizeof v);
        } else if (s->type == RECNN__SET_FLOAT) {
            memcpy(field, &s->def, sizeof s->def);
        } else {
            snprintf(field, RECNN__STR_MAX, "%s", s->sdef ? s->sdef : "");
        }
    }
}

/* ---- lifetime ---------------------------------------------------------- */

int recnn__model_new(const recnn__model_vt *vt, recnn_model **out)
{
    recnn_model *m = calloc(1, sizeof *m);
    void *cfg = calloc(1, vt->config_size ? vt->config_size : 1);
    if (!m || !cfg) {
        free(m);
        free(cfg);
        return recnn__fail(RECNN_E_NOMEM, "out of memory creating a %s model", vt->kind);
    }
    m->vt = vt;
    m->config = cfg;
    m->best_metric = NAN;
    set_defaults(vt, cfg);
    *out = m;
    return RECNN_OK;
}

RECNN_API int recnn_model_create(recnn_model **out, const char *kind)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    *out = NULL;
    if (!kind)
        return recnn__fail(RECNN_E_INVALID, "kind must not be NULL");
    const recnn__model_vt *vt = recnn__model_find(kind);
    if (!vt)
        return recnn__fail(RECNN_E_NOTFOUND, "no model kind \"%s\" (known: %s)", kind,
                           recnn_model_kinds());
    return recnn__model_new(vt, out);
}

/* Drops everything learned (state, maps, seen lists) but keeps settings. */
static void reset_learned(recnn_model *m)
{
    if (m->state && m->vt->free_state)
        m->vt->free_state(m);
    m->state = NULL;
    if (m->train)
        recnn__dataset_release(m->train);
    m->train = NULL;
    if (m->users)
        recnn__idmap_release(m->users);
    if (m->items)
        recnn__idmap_release(m->items);
    m->users = m->items = NULL;
    free(m->own_seen_ptr);
    free(m->own_seen_item);
    m->own_seen_ptr = NULL;
    m->own_seen_item = NULL;
    m->seen_ptr = NULL;
    m->seen_item = NULL;
    free(m->item_seen);
    m->item_seen = NULL;
    free(m->snapshot);
    m->snapshot = NULL;
    m->snapshot_bytes = 0;
    m->fitted = 0;
}

RECNN_API void recnn_model_free(recnn_model *m)
{
    if (!m)
        return;
    reset_learned(m);
    free(m->config);
    free(m);
}

RECNN_API const char *recnn_model_kind(const recnn_model *m)
{
    return m ? m->vt->kind : "";
}

RECNN_API void recnn_model_set_progress(recnn_model *m, recnn_progress_fn fn,
                                        void *user_data)
{
    if (!m)
        return;
    m->progress = fn;
    m->progress_data = user_data;
}

RECNN_API int recnn_model_is_fitted(const recnn_model *m) { return m && m->fitted; }

/* ---- training ---------------------------------------------------------- */

RECNN_API int recnn_model_fit(recnn_model *m, const recnn_dataset *train,
                              const recnn_dataset *valid)
{
    if (!m || !train)
        return recnn__fail(RECNN_E_INVALID, "model and training set must not be NULL");
    if (train->n_ratings == 0)
        return recnn__fail(RECNN_E_INVALID, "%s: the training set has no ratings",
                           m->vt->kind);
    if (valid && (valid->users != train->users || valid->items != train->items))
        return recnn__fail(RECNN_E_INVALID,
                           "%s: the validation set is not from the training set's "
                           "index space (split both from one dataset)",
                           m->vt->kind);
    if (m->fitting)
        return recnn__fail(RECNN_E_STATE, "%s: fit is already running (called from its "
                           "progress callback)",
                           m->vt->kind);
    reset_learned(m);
    m->n_users = train->n_users;
    m->n_items = train->n_items;
    m->users = recnn__idmap_retain(train->users);
    m->items = recnn__idmap_retain(train->items);
    m->scale_min = train->scale_min;
    m->scale_max = train->scale_max;
    double sum = 0;
    for (int64_t k = 0; k < train->n_ratings; k++)
        sum += train->value[k];
    m->global_mean = sum / (double)train->n_ratings;
    m->train = recnn__dataset_retain(train);
    m->seen_ptr = train->row_ptr;
    m->seen_item = train->item;
    int st = recnn__model_index_seen(m);
    if (st != RECNN_OK) {
        reset_learned(m);
        return st;
    }
    m->best_metric = NAN;
    m->best_epoch = 0;
    m->bad_epochs = 0;

    m->fit_error = RECNN_OK;
    m->fitting = 1;
    st = m->vt->fit(m, train, valid);
    m->fitting = 0;
    if (st == RECNN_OK && m->fit_error != RECNN_OK)
        st = m->fit_error; /* detail already recorded */
    if (st == RECNN_OK)
        st = recnn__fit_finish(m);
    free(m->snapshot);
    m->snapshot = NULL;
    m->snapshot_bytes = 0;
    if (st != RECNN_OK) {
        reset_learned(m);
        return st;
    }
    m->fitted = 1;
    return RECNN_OK;
}

static size_t tensor_bytes(const recnn__tensor *t)
{
    size_t el = t->dtype == RECNN__F32 || t->dtype == RECNN__I32 ? 4 : 8;
    return (size_t)t->count * el;
}

/* Copies the values of src into dst (same dtype and count), each in its
 * own layout. */
static void tensor_copy(const recnn__tensor *dst, const recnn__tensor *src)
{
    const int sd = recnn__tensor_strided(dst), ss = recnn__tensor_strided(src);
    if (!sd && !ss) {
        memcpy(dst->data, src->data, tensor_bytes(src));
        return;
    }
    const size_t el = tensor_bytes(src) / (size_t)(src->count ? src->count : 1);
    /* rows of the strided side (both strided: the same shape) */
    const int64_t cols = sd ? dst->cols : src->cols;
    const int64_t ldd = sd ? dst->ld : cols, lds = ss ? src->ld : cols;
    for (int64_t r = 0; r < src->count / cols; r++)
        memcpy((char *)dst->data + (size_t)(r * ldd) * el,
               (const char *)src->data + (size_t)(r * lds) * el, (size_t)cols * el);
}

void recnn__tensor_get(const recnn__tensor *t, void *dst)
{
    recnn__tensor d = {t->name, t->dtype, t->count, dst, 0, 0};
    tensor_copy(&d, t);
}

void recnn__tensor_put(const recnn__tensor *t, const void *src)
{
    recnn__tensor s = {t->name, t->dtype, t->count, (void *)src, 0, 0};
    tensor_copy(t, &s);
}

static int snapshot_take(recnn_model *m)
{
    recnn__tensor t[RECNN__MAX_TENSORS];
    int n = m->vt->tensors ? m->vt->tensors(m, t, RECNN__MAX_TENSORS) : 0;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += tensor_bytes(&t[i]);
    if (!m->snapshot || m->snapshot_bytes != total) {
        free(m->snapshot);
        m->snapshot = malloc(total ? total : 1);
        if (!m->snapshot) {
            m->snapshot_bytes = 0;
            return recnn__fail(RECNN_E_NOMEM, "out of memory for a %zu-byte snapshot",
                               total);
        }
        m->snapshot_bytes = total;
    }
    char *p = m->snapshot;
    for (int i = 0; i < n; i++) {
        recnn__tensor_get(&t[i], p);
        p += tensor_bytes(&t[i]);
    }
    return RECNN_OK;
}

int recnn__fit_epoch(recnn_model *m, int epoch, double train_loss, double valid_metric,
                     const char *metric_name, int lower_better, int patience,
                     double seconds)
{
    int improved = 0;
    const double train_seconds = m->train_seconds > 0 ? m->train_seconds : seconds;
    m->train_seconds = 0;
    if (!isnan(valid_metric) && patience >= 0) {
        if (isnan(m->best_metric) || (lower_better ? valid_metric < m->best_metric
                                                   : valid_metric > m->best_metric)) {
            m->best_metric = valid_metric;
            m->best_epoch = epoch;
            m->bad_epochs = 0;
            improved = 1;
            int st = snapshot_take(m);
            if (st != RECNN_OK) {
                m->fit_error = st;
                return 1;
            }
        } else {
            m->bad_epochs++;
        }
    }
    int stop = 0;
    if (m->progress) {
        recnn_progress p = {sizeof p,  epoch,    train_loss,   valid_metric,
                            metric_name ? metric_name : "", seconds, improved,
                            train_seconds};
        stop = m->progress(&p, m->progress_data) != 0;
    }
    if (patience > 0 && m->bad_epochs >= patience)
        stop = 1;
    return stop;
}

int recnn__tensors_copy_in(const recnn_model *m, const recnn__tensor *want, int n_want,
                           const recnn__tensor *got, int n_got)
{
    for (int w = 0; w < n_want; w++) {
        const recnn__tensor *g = NULL;
        for (int j = 0; j < n_got && !g; j++)
            if (got[j].name && strcmp(got[j].name, want[w].name) == 0)
                g = &got[j];
        if (!g || g->dtype != want[w].dtype || g->count != want[w].count)
            return recnn__fail(RECNN_E_CORRUPT,
                               "%s: tensor \"%s\" is %s (expected %lld elements)",
                               m->vt->kind, want[w].name,
                               g ? "of the wrong type or size" : "missing",
                               (long long)want[w].count);
        if (recnn__tensor_strided(g) && recnn__tensor_strided(&want[w]) &&
            g->cols != want[w].cols)
            return recnn__fail(RECNN_E_CORRUPT, "%s: tensor \"%s\" has rows of %lld, not %lld",
                               m->vt->kind, want[w].name, (long long)g->cols,
                               (long long)want[w].cols);
        tensor_copy(&want[w], g);
    }
    return RECNN_OK;
}

int recnn__fit_finish(recnn_model *m)
{
    if (!m->snapshot)
        return RECNN_OK;
    recnn__tensor t[RECNN__MAX_TENSORS];
    int n = m->vt->tensors ? m->vt->tensors(m, t, RECNN__MAX_TENSORS) : 0;
    const char *p = m->snapshot;
    for (int i = 0; i < n; i++) {
        size_t b = tensor_bytes(&t[i]);
        if ((size_t)(p - (const char *)m->snapshot) + b > m->snapshot_bytes)
            return recnn__fail(RECNN_E_STATE, "%s: tensors changed size during fit",
                               m->vt->kind);
        recnn__tensor_put(&t[i], p);
        p += b;
    }
    return RECNN_OK;
}

/* ---- prediction -------------------------------------------------------- */

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int fitted_guard(const recnn_model *m)
{
    if (!m)
        return recnn__fail(RECNN_E_INVALID, "model must not be NULL");
    if (!m->fitted)
        return recnn__fail(RECNN_E_STATE, "%s: the model is not trained", m->vt->kind);
    return RECNN_OK;
}

/* The fallback for users/items unknown to the model. */
float recnn__model_default(const recnn_model *m)
{
    if (m->vt->default_value)
        return m->vt->default_value(m);
    const recnn__setting *s = find_setting(m->vt, "default_rating");
    if (s && s->type == RECNN__SET_FLOAT) {
        double v;
        memcpy(&v, (const char *)m->config + s->offset, sizeof v);
        if (!isnan(v))
            return (float)v;
    }
    return (float)m->global_mean;
}

/* A user is "known" when the training set gave it at least one rating. */
static bool user_known(const recnn_model *m, int32_t u)
{
    return u >= 0 && u < m->n_users && m->seen_ptr[u + 1] > m->seen_ptr[u];
}

int recnn__model_index_seen(recnn_model *m)
{
    free(m->item_seen);
    m->item_seen = calloc((size_t)(m->n_items ? m->n_items : 1), 1);
    if (!m->item_seen)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    for (int64_t k = 0; k < m->seen_ptr[m->n_users]; k++)
        m->item_seen[m->seen_item[k]] = 1;
    return RECNN_OK;
}

bool recnn__model_known(const recnn_model *m, int32_t u, int32_t i)
{
    return user_known(m, u) && i >= 0 && i < m->n_items && m->item_seen[i];
}

RECNN_API int recnn_model_predict_batch(const recnn_model *m, size_t n,
                                        const int64_t *users, const int64_t *items,
                                        float *out)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (n == 0)
        return RECNN_OK;
    if (!users || !items || !out)
        return recnn__fail(RECNN_E_INVALID, "arrays must not be NULL");
    int32_t *u = malloc(n * sizeof *u), *i = malloc(n * sizeof *i);
    float *tmp = malloc(n * sizeof *tmp);
    if (!u || !i || !tmp) {
        free(u);
        free(i);
        free(tmp);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        int32_t uu = recnn__idmap_find(m->users, users[j]);
        int32_t ii = recnn__idmap_find(m->items, items[j]);
        if (recnn__model_known(m, uu, ii)) {
            u[k] = uu;
            i[k] = ii;
            k++;
        }
    }
    st = k ? m->vt->predict(m, (int64_t)k, u, i, tmp) : RECNN_OK;
    if (st == RECNN_OK) {
        float def = recnn__model_default(m);
        size_t q = 0;
        for (size_t j = 0; j < n; j++) {
            int32_t uu = recnn__idmap_find(m->users, users[j]);
            int32_t ii = recnn__idmap_find(m->items, items[j]);
            out[j] = recnn__model_known(m, uu, ii) ? tmp[q++] : def;
        }
    }
    free(u);
    free(i);
    free(tmp);
    return st;
}

RECNN_API int recnn_model_predict(const recnn_model *m, int64_t user, int64_t item,
                                  float *out)
{
    if (!out)
        return recnn__fail(RECNN_E_INVALID, "out must not be NULL");
    return recnn_model_predict_batch(m, 1, &user, &item, out);
}

static bool same_map(const recnn__idmap *a, const recnn__idmap *b)
{
    return a == b || (a && b && a->n == b->n &&
                      memcmp(a->ext, b->ext, (size_t)a->n * sizeof *a->ext) == 0);
}

bool recnn__model_same_space(const recnn_model *m, const recnn_dataset *d)
{
    return m->n_users == d->n_users && m->n_items == d->n_items &&
           same_map(m->users, d->users) && same_map(m->items, d->items);
}

RECNN_API int recnn_model_predict_dataset(const recnn_model *m, const recnn_dataset *d,
                                          float *out)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (!d || (!out && d->n_ratings))
        return recnn__fail(RECNN_E_INVALID, "dataset and out must not be NULL");
    if (!recnn__model_same_space(m, d))
        return recnn__fail(RECNN_E_INVALID,
                           "%s: dataset is not from the model's index space",
                           m->vt->kind);
    if (d->n_ratings == 0)
        return RECNN_OK;
    st = m->vt->predict(m, d->n_ratings, d->user, d->item, out);
    if (st)
        return st;
    float def = recnn__model_default(m);
    for (int64_t k = 0; k < d->n_ratings; k++)
        if (!recnn__model_known(m, d->user[k], d->item[k]))
            out[k] = def;
    return RECNN_OK;
}

double recnn__valid_rmse(const recnn_model *m, const recnn_dataset *d)
{
    if (!d || d->n_ratings == 0)
        return NAN;
    float *p = malloc((size_t)d->n_ratings * sizeof *p);
    if (!p)
        return NAN;
    double se = 0;
    if (m->vt->predict(m, d->n_ratings, d->user, d->item, p) != RECNN_OK) {
        free(p);
        return NAN;
    }
    for (int64_t k = 0; k < d->n_ratings; k++) {
        float v = recnn__model_known(m, d->user[k], d->item[k])
                      ? clampf(p[k], m->scale_min, m->scale_max)
                      : recnn__model_default(m);
        double e = (double)v - d->value[k];
        se += e * e;
    }
    free(p);
    return sqrt(se / (double)d->n_ratings);
}

RECNN_API int64_t recnn_model_n_items(const recnn_model *m)
{
    return m && m->fitted ? m->n_items : 0;
}

RECNN_API int64_t recnn_model_n_users(const recnn_model *m)
{
    return m && m->fitted ? m->n_users : 0;
}

RECNN_API int recnn_model_item_id(const recnn_model *m, int64_t index, int64_t *id)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (!id || index < 0 || index >= m->n_items)
        return recnn__fail(RECNN_E_INVALID, "item index %lld out of range",
                           (long long)index);
    *id = m->items->ext[index];
    return RECNN_OK;
}

static int index_of(const recnn_model *m, const recnn__idmap *map, int64_t id,
                    int64_t *index, const char *what)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (!index)
        return recnn__fail(RECNN_E_INVALID, "index must not be NULL");
    int32_t k = recnn__idmap_find(map, id);
    if (k < 0)
        return recnn__fail(RECNN_E_NOTFOUND, "%s %lld is unknown to the model", what,
                           (long long)id);
    *index = k;
    return RECNN_OK;
}

RECNN_API int recnn_model_item_index(const recnn_model *m, int64_t id, int64_t *index)
{
    return index_of(m, m ? m->items : NULL, id, index, "item");
}

RECNN_API int recnn_model_user_index(const recnn_model *m, int64_t id, int64_t *index)
{
    return index_of(m, m ? m->users : NULL, id, index, "user");
}

RECNN_API int recnn_model_score_user(const recnn_model *m, int64_t user_index,
                                     float *scores)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (!scores || user_index < 0 || user_index >= m->n_users)
        return recnn__fail(RECNN_E_INVALID, "user index %lld out of range",
                           (long long)user_index);
    return m->vt->score_user(m, (int32_t)user_index, scores);
}

static int emit_topk(const recnn_model *m, const float *scores, const int32_t *exclude,
                     int64_t n_ex, size_t k, int64_t *items, float *out_scores,
                     size_t *n_out)
{
    k = k < (size_t)m->n_items ? k : (size_t)m->n_items; /* k*4 must not overflow */
    int32_t *idx = malloc((k ? k : 1) * sizeof *idx);
    if (!idx)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    int64_t got = recnn__topk(scores, m->n_items, (int64_t)k, exclude, n_ex, idx);
    for (int64_t j = 0; j < got; j++) {
        items[j] = m->items->ext[idx[j]];
        if (out_scores)
            out_scores[j] = scores[idx[j]];
    }
    *n_out = (size_t)got;
    free(idx);
    return RECNN_OK;
}

RECNN_API int recnn_model_recommend(const recnn_model *m, int64_t user, size_t k,
                                    int64_t *items, float *scores, size_t *n_out)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if (!items || !n_out)
        return recnn__fail(RECNN_E_INVALID, "items and n_out must not be NULL");
    *n_out = 0;
    int32_t u = recnn__idmap_find(m->users, user);
    if (u < 0 || !user_known(m, u))
        return recnn__fail(RECNN_E_NOTFOUND,
                           "user %lld has no training data (use "
                           "recnn_model_recommend_new for new users)",
                           (long long)user);
    float *s = malloc((size_t)m->n_items * sizeof *s);
    if (!s)
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    st = m->vt->score_user(m, u, s);
    if (st == RECNN_OK)
        st = emit_topk(m, s, m->seen_item + m->seen_ptr[u],
                       m->seen_ptr[u + 1] - m->seen_ptr[u], k, items, scores, n_out);
    free(s);
    return st;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

RECNN_API int recnn_model_recommend_new(const recnn_model *m, size_t n_rated,
                                        const int64_t *rated_items,
                                        const float *ratings, size_t k, int64_t *items,
                                        float *scores, size_t *n_out)
{
    int st = fitted_guard(m);
    if (st)
        return st;
    if ((n_rated && (!rated_items || !ratings)) || !items || !n_out)
        return recnn__fail(RECNN_E_INVALID, "arrays must not be NULL");
    *n_out = 0;
    if (!m->vt->score_new)
        return recnn__fail(RECNN_E_UNSUPPORTED,
                           "%s cannot score a user absent from training without "
                           "retraining (no fold-in)",
                           m->vt->kind);
    int32_t *idx = malloc((n_rated ? n_rated : 1) * sizeof *idx);
    float *val = malloc((n_rated ? n_rated : 1) * sizeof *val);
    float *s = malloc((size_t)m->n_items * sizeof *s);
    if (!idx || !val || !s) {
        free(idx);
        free(val);
        free(s);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    int64_t n = 0;
    for (size_t j = 0; j < n_rated && st == RECNN_OK; j++) {
        int32_t i = recnn__idmap_find(m->items, rated_items[j]);
        if (i < 0)
            continue;
        if (!(ratings[j] >= m->scale_min && ratings[j] <= m->scale_max))
            st = recnn__fail(RECNN_E_INVALID,
                             "%s: fold-in rating %g of item %lld is outside the training "
                             "scale [%g, %g]",
                             m->vt->kind, (double)ratings[j], (long long)rated_items[j],
                             (double)m->scale_min, (double)m->scale_max);
        idx[n] = i;
        val[n] = ratings[j];
        n++;
    }
    /* one rating per item: models would otherwise sum, count or drop the
     * repeats each in its own way */
    if (st == RECNN_OK) {
        int32_t *sorted = malloc((n ? (size_t)n : 1) * sizeof *sorted);
        if (!sorted) {
            st = recnn__fail(RECNN_E_NOMEM, "out of memory");
        } else {
            memcpy(sorted, idx, (size_t)n * sizeof *sorted);
            qsort(sorted, (size_t)n, sizeof *sorted, cmp_i32);
            for (int64_t j = 1; j < n && st == RECNN_OK; j++)
                if (sorted[j] == sorted[j - 1])
                    st = recnn__fail(RECNN_E_INVALID, "%s: fold-in item %lld is rated twice",
                                     m->vt->kind, (long long)m->items->ext[sorted[j]]);
            if (st == RECNN_OK)
                st = m->vt->score_new(m, n, idx, val, s);
            if (st == RECNN_OK)
                st = emit_topk(m, s, sorted, n, k, items, scores, n_out);
            free(sorted);
        }
    }
    free(idx);
    free(val);
    free(s);
    return st;
}
