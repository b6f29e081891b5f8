/* vkvae_spec_compile: gen_compile_text (gen/library.c) with its diagnostics
 * caught in a memory stream and its statuses turned into vkvae's. The
 * generator keeps no state between calls (an arena per call, gen/mem.c),
 * so compiles on several threads do not meet.
 */
#include "spec/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "materialize.h"

/* The first line of text, for a one-line error: the first diagnostic. */
static void first_line(const char *text, char *out, size_t size)
{
    size_t n = strcspn(text, "\r\n");
    snprintf(out, size, "%.*s", (int)n, text);
}

vkvae_status vkvae_spec_compile(const vkvae_spec_desc *desc, vkvae_plan **out, char **diagnostics,
                                vkvae_error *err)
{
    *out = NULL;
    if (diagnostics)
        *diagnostics = NULL;
    if (!desc || !desc->text)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vkvae_spec_compile: no spec text");
    const char *path = desc->path ? desc->path : "<spec>";
    size_t size = desc->size ? desc->size : strlen(desc->text);
    char *text = NULL;
    size_t text_size = 0;
    FILE *diag = open_memstream(&text, &text_size);
    if (!diag)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    gen_compile_status status;
    vkvae_plan *plan = gen_compile_text(path, desc->text, size, desc->batch, desc->data_rows, diag,
                                        desc->explain, &status);
    fclose(diag); /* text holds what was written, NUL-terminated */
    vkvae_status s = VKVAE_OK;
    char line[512];
    first_line(text ? text : "", line, sizeof line);
    switch (status) {
    case GEN_COMPILE_OK: break;
    case GEN_COMPILE_BAD_SPEC: s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s", line); break;
    case GEN_COMPILE_NOT_GENERATED: s = vkvae_fail(err, VKVAE_UNSUPPORTED, "%s", line); break;
    case GEN_COMPILE_OUT_OF_MEMORY:
        s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of host memory compiling the spec", path);
        break;
    }
    if (s) {
        gen_plan_materialize_free(plan);
        plan = NULL;
    }
    if (diagnostics && s && text && *text)
        *diagnostics = text;
    else
        free(text);
    *out = plan;
    return s;
}

void vkvae_spec_plan_free(vkvae_plan *plan)
{
    gen_plan_materialize_free(plan);
}

uint32_t vkvae_plan_data_rows(const vkvae_plan *plan)
{
    for (uint32_t t = 0; t < plan->n_tensors; t++)
        if (strcmp(plan->tensors[t].name, "train.images") == 0)
            return (uint32_t)plan->tensors[t].shape[0];
    return 0;
}

vkvae_status vkvae_spec_plan_for(const vkvae_plan *plan, uint32_t batch, uint32_t data_rows,
                                 const vkvae_plan **out, vkvae_plan **owned, vkvae_error *err)
{
    *owned = NULL;
    *out = plan;
    if ((!batch || batch == plan->batch) && (!data_rows || data_rows == vkvae_plan_data_rows(plan)))
        return VKVAE_OK;
    if (!plan->spec_text)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "model %s carries no spec, so its plan is for batch %u and %u data rows "
                          "only", plan->model, plan->batch, vkvae_plan_data_rows(plan));
    char path[160];
    snprintf(path, sizeof path, "%s.vae", plan->model);
    vkvae_status s = vkvae_spec_compile(&(vkvae_spec_desc){.path = path, .text = plan->spec_text,
                                                           .batch = batch ? batch : plan->batch,
                                                           .data_rows = data_rows
                                                               ? data_rows
                                                               : vkvae_plan_data_rows(plan)},
                                        owned, NULL, err);
    *out = s ? NULL : *owned;
    return s;
}
