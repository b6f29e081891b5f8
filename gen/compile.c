/* The driver of the stages after shape inference: a checked forward graph
 * to a finished plan, each stage called in turn, none calling a later one.
 *
 *   build_backward     grad.c   the backward nodes of every parameter
 *   lower_plan         plan.c   buffers, tensors, one step per node
 *   pair_products,     fuse.c   two steps' work in one dispatch
 *   fuse_loss_terms
 *   vkvae_hazard_place_barriers  runtime/plan/hazard.c, the barriers the
 *                      fused steps need (train's cyclically)
 *
 * check_spec is the front half before it (tokens, the spec, its shapes,
 * and the refusal of what has no lowering yet, so that every spec it
 * accepts compiles here; a false return is an internal failure),
 * which vkvae-gen (main.c) and the library (library.c) share; they, and
 * fuzz/fuzz_spec.c with its own front half, parse, infer shapes, call this,
 * then explain or emit the plan, all inside gen_try (mem.c): the plan lives
 * in the caller's arena, and out of memory jumps past this to gen_try.
 */
#include "gen.h"
#include "plan/hazard.h"

bool check_spec(const gen_source *src, gen_diag *d, uint32_t batch, gen_spec *spec,
                gen_graph *g)
{
    d->src = src;
    size_t ntok;
    gen_token *toks = lex_source(src, d, &ntok);
    bool ok = parse_spec(toks, ntok, spec, d) && d->errors == 0;
    if (ok && batch)
        spec->batch = batch;
    /* shapes only on a spec that parsed: errors on half-read lines would cascade */
    if (ok)
        ok = infer_shapes(spec, g, d);
    if (ok && !d->errors)
        return true;
    if (!d->gave_up) /* else its last line said so */
        fprintf(d->out, "%s: %d error%s\n", src->path, d->errors, d->errors == 1 ? "" : "s");
    return false;
}

bool compile_plan(gen_graph *g, uint32_t data_rows, gen_plan *pl, char **why)
{
    *pl = (gen_plan){ .g = g };
    bool grads = g->n_upd ? build_update_backward(g, why) : build_backward(g, why);
    if (!grads || !lower_plan(g, data_rows, pl, why))
        return false;
    for (int p = 0; p < pl->n_prog; p++) {
        pair_products(pl, &pl->prog[p]);
        fuse_loss_terms(pl, &pl->prog[p]);
    }
    for (int p = 0; p < pl->n_prog; p++) {
        gen_program *pr = &pl->prog[p];
        /* train repeats; so does a pixel model's sample program (a run a
         * pixel: its first steps read the image the last one wrote), and a
         * text model's decode and sample (a run a step) */
        int cyclic = vkvae_hazard_cyclic(pr->kind, g->ar_logits >= 0, g->spec->vocab > 0);
        vkvae_hazard_place_barriers(pr->steps, (uint32_t)pr->n, pl->t, cyclic);
    }
    return true;
}
