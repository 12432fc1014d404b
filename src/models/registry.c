/* The list of model kinds.  A new model adds its vtable here (one line in
 * each block); the order is the order recnn_model_kinds() prints. */
#include "model.h"

#include <string.h>

/* extern const recnn__model_vt recnn__vt_NAME; */
extern const recnn__model_vt recnn__vt_gmf, recnn__vt_mlp, recnn__vt_neumf;
extern const recnn__model_vt recnn__vt_autorec;
extern const recnn__model_vt recnn__vt_popularity;
extern const recnn__model_vt recnn__vt_ease;
extern const recnn__model_vt recnn__vt_mf;
extern const recnn__model_vt recnn__vt_itemknn;
extern const recnn__model_vt recnn__vt_userknn;
extern const recnn__model_vt recnn__vt_knnbaseline;
extern const recnn__model_vt recnn__vt_deep_ae, recnn__vt_item_ae;

static const recnn__model_vt *const registry[] = {
    /* &recnn__vt_NAME, */
    &recnn__vt_gmf, &recnn__vt_mlp, &recnn__vt_neumf,
    &recnn__vt_autorec,
    &recnn__vt_popularity,
    &recnn__vt_ease,
    &recnn__vt_mf,
    &recnn__vt_itemknn,
    &recnn__vt_userknn,
    &recnn__vt_knnbaseline,
    &recnn__vt_deep_ae, &recnn__vt_item_ae,
    NULL,
};

const recnn__model_vt *recnn__model_find(const char *kind)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->kind, kind) == 0)
            return registry[i];
    return NULL;
}

RECNN_API const char *recnn_model_kinds(void)
{
    static char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; registry[i]; i++) {
        size_t n = strlen(registry[i]->kind);
        if (len + n + 2 > sizeof list)
            break;
        if (len)
            list[len++] = ' ';
        memcpy(list + len, registry[i]->kind, n + 1);
        len += n;
    }
    return list;
}
