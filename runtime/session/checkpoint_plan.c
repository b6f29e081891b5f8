/* Which plan a checkpoint runs on, decided in one place for the command
 * line and the C API: the checkpoint names its model and carries the spec
 * it was trained from. This build's model of that name serves when it has
 * that very spec text (or the checkpoint carries none); otherwise the
 * carried spec is compiled (runtime/spec), so a checkpoint of a user's own
 * model opens in any vkvae. Its own file, not checkpoint.c: it reaches the
 * built-in registry and the generator, which the checkpoint reader and its
 * fuzz target do without.
 */
#include "session/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "plan/models.h"
#include "spec/compile.h"

/* A malloc'd copy of metadata value key, or NULL when absent. */
static vkvae_status copy_meta(const vkvae_safetensors *st, const char *key, char **out,
                              vkvae_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < st->meta_count; i++)
        if (strcmp(st->meta[i].key, key) == 0) {
            size_t n = strlen(st->meta[i].value);
            if (!(*out = malloc(n + 1)))
                return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
            memcpy(*out, st->meta[i].value, n + 1);
            return VKVAE_OK;
        }
    return VKVAE_OK;
}

vkvae_status vkvae_checkpoint_plan(const char *path, const char *spec, char *name, size_t size,
                                   const vkvae_plan **plan, vkvae_plan **owned,
                                   char **diagnostics, vkvae_error *err)
{
    *plan = NULL, *owned = NULL;
    if (diagnostics)
        *diagnostics = NULL;
    vkvae_safetensors st;
    vkvae_status s = vkvae_st_read(&st, path, err);
    if (s)
        return s;
    char *model = NULL, *carried = NULL;
    s = copy_meta(&st, "model", &model, err);
    if (!s)
        s = copy_meta(&st, "spec", &carried, err);
    /* Another tool's safetensors file: say what it holds. */
    if (!s && !model)
        s = vkvae_fail(err, VKVAE_BAD_INPUT,
                       "%s: not a vkvae checkpoint (no 'model' in its metadata): a safetensors "
                       "file of %zu tensor(s)%s%s%s, without the model and spec vkvae needs",
                       path, st.tensor_count, st.tensor_count ? ", the first '" : "",
                       st.tensor_count ? st.tensors[0].name : "", st.tensor_count ? "'" : "");
    vkvae_st_destroy(&st);
    if (!s)
        snprintf(name, size, "%s", model);
    const vkvae_plan *builtin = s || spec ? NULL : vkvae_builtin_model(model);
    const char *text = spec ? spec : carried;
    if (!s && builtin && (!text || (builtin->spec_text && strcmp(builtin->spec_text, text) == 0))) {
        *plan = builtin;
    } else if (!s && text) {
        char where[1100];
        snprintf(where, sizeof where, spec ? "<spec>" : "%s (its spec)", path);
        s = vkvae_spec_compile(&(vkvae_spec_desc){.path = where, .text = text}, owned,
                               diagnostics, err);
        if (!s && strcmp((*owned)->model, model) != 0)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: a checkpoint of model '%s', the spec is of "
                           "'%s'", path, model, (*owned)->model);
        if (s) {
            vkvae_spec_plan_free(*owned);
            *owned = NULL;
        }
        *plan = *owned;
    } else if (!s) {
        char list[256] = "";
        for (uint32_t i = 0; i < vkvae_builtin_model_count; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     vkvae_builtin_models[i]->model);
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: model '%s' is not built into this vkvae (%s), "
                       "and the checkpoint carries no spec", path, model, list);
    }
    free(model);
    free(carried);
    return s;
}
