/* The driver of the stages after shape inference: a checked forward graph
 * to a finished plan, each stage called in turn, none calling a later one.
 *
 *   lower_unsupported  plan.c   a part of the spec with no lowering yet
 *   build_backward     grad.c   the backward nodes of every parameter
 *   lower_plan         plan.c   buffers, tensors, one step per node
 *   pair_products,     fuse.c   two steps' work in one dispatch
 *   fuse_loss_terms
 *   vkvae_hazard_place_barriers  runtime/plan/hazard.c, the barriers the
 *                      fused steps need (train's cyclically)
 *
 * main.c (vkvae-gen) and fuzz/fuzz_spec.c parse, infer shapes, call this,
 * then explain or emit the plan, all inside gen_try (mem.c): the plan lives
 * in the caller's arena, and out of memory jumps past this to gen_try.
 */
#include "gen.h"
#include "plan/hazard.h"

bool compile_plan(gen_graph *g, uint32_t data_rows, gen_plan *pl, char **why)
{
    *pl = (gen_plan){ .g = g };
    const char *no = lower_unsupported(g);
    if (no) {
        *why = xprintf("%s", no);
        return false;
    }
    if (!build_backward(g, why) || !lower_plan(g, data_rows, pl, why))
        return false;
    for (int p = 0; p < pl->n_prog; p++) {
        pair_products(pl, &pl->prog[p]);
        fuse_loss_terms(pl, &pl->prog[p]);
    }
    for (int p = 0; p < pl->n_prog; p++) {
        gen_program *pr = &pl->prog[p];
        vkvae_hazard_place_barriers(pr->steps, (uint32_t)pr->n, pl->t,
                                    pr->kind == VKVAE_PROGRAM_TRAIN);
    }
    return true;
}
