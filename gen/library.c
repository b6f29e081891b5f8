/* The generator as one call, for libvkvae (runtime/spec/compile.c): a
 * spec's text to a plan in heap memory, as vkvae-gen's --emit-c would give
 * it (gen/materialize.c), with the diagnostics vkvae-gen prints written to
 * the caller's stream instead of stderr. The whole compile runs in an arena
 * of its own inside gen_try (mem.c) and the arena is freed before return:
 * nothing of the generator outlives the call but the plan, which the caller
 * frees with gen_plan_materialize_free.
 */
#include "gen.h"
#include "materialize.h"

typedef struct library_job {
    const char *path, *text;
    size_t size;
    uint32_t batch, data_rows;
    FILE *diag;
    FILE *explain; /* vkvae-gen --explain's text goes here; NULL: none */
    vkvae_plan *plan;
    gen_compile_status status;
} library_job;

static void compile_text(void *ctx)
{
    library_job *j = ctx;
    gen_diag d = { .out = j->diag };
    gen_source src;
    j->status = GEN_COMPILE_BAD_SPEC;
    if (!source_text(&src, j->path, j->text, j->size, &d))
        return;
    gen_spec spec;
    gen_graph graph;
    if (!check_spec(&src, &d, j->batch, &spec, &graph))
        return;
    if (j->explain)
        explain_graph(&graph, j->explain);
    gen_plan plan;
    char *why = NULL;
    if (!compile_plan(&graph, j->data_rows, &plan, &why)) {
        if (j->explain)
            fprintf(j->explain, "\nplan: not generated: %s\n", why);
        fprintf(j->diag, "%s: model '%s' is not generated yet: %s\n", j->path, spec.model, why);
        j->status = GEN_COMPILE_NOT_GENERATED;
        return;
    }
    if (j->explain)
        explain_plan(&plan, j->explain);
    j->plan = gen_plan_materialize(&plan, src.text, src.size);
    j->status = j->plan ? GEN_COMPILE_OK : GEN_COMPILE_OUT_OF_MEMORY;
}

vkvae_plan *gen_compile_text(const char *path, const char *text, size_t size, uint32_t batch,
                             uint32_t data_rows, FILE *diag, FILE *explain,
                             gen_compile_status *status)
{
    library_job j = { .path = path, .text = text, .size = size, .batch = batch,
                      .data_rows = data_rows ? data_rows : GEN_DEFAULT_DATA_ROWS, .diag = diag,
                      .explain = explain };
    gen_arena arena = { 0 };
    if (!gen_try(&arena, compile_text, &j)) {
        gen_plan_materialize_free(j.plan);
        *status = GEN_COMPILE_OUT_OF_MEMORY;
        return NULL;
    }
    gen_arena_free(&arena);
    *status = j.status;
    return j.plan;
}
