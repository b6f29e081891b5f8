/* Step fusion: passes over every program's steps that do the work of two
 * steps in one dispatch. Steps that do not match stay as they are: the
 * passes only ever save dispatches (and, with them, barriers). The driver
 * (compile.c) runs them on each lowered program, before it places the
 * barriers.
 *
 * pair_products: two dense layers that read the same input.
 * The gaussian head's mu and logvar layers are two products of the same x,
 * each 20 columns wide: on lavapipe each costs about a dispatch's overhead,
 * and their backward needs a concat of the two gradients before the input
 * gradient's product. ops.def's pair ops do each pair of products in one
 * dispatch over the two layers' stacked weights, which plan.c lays out back
 * to back (parameters in layer order, weights before biases), so the stack
 * is a view (view.c's stacked_view). The pass rewrites consecutive steps
 *   dense(x, w1, b1) -> y1;  dense(x, w2, b2) -> y2
 *       as dense_pair(x, [w1;w2], b1, b2) -> y1, y2
 *   dense_bwd_w(dy1, x) -> dw1 db1;  dense_bwd_w(dy2, x) -> dw2 db2
 *       as dense_pair_bwd_w(dy1, dy2, x) -> [dw1;dw2], db1, db2
 *   concat(dy1, dy2) -> d;  dense_bwd_x(d, [w1;w2], x) -> dx  (grad.c's
 *       merged_bwd_x; d read by nothing else)
 *       as dense_pair_bwd_x(dy1, dy2, [w1;w2], x) -> dx
 * where the two layers agree on every parameter but their width, and
 * neither step of a pair reads what the other writes.
 *
 * fuse_loss_terms: a loss term and the pass over the same inputs that
 * another step makes anyway. The lowering emits each term and each
 * gradient as its own step (grad.c differentiates them one by one); here a
 * later step b joins an earlier step a:
 *   reparam(mu, lv) -> z eps  ...  kl_gauss(mu, lv) -> kl
 *       as reparam_kl(mu, lv) -> z eps kl
 *   nll_bernoulli(l, x) -> nll  ...  nll_bernoulli_bwd(l, x) -> dl
 *       as nll_bernoulli_grad(l, x) -> nll dl
 *   reparam_bwd(dz, eps, lv) -> dmu dlv  ...  kl_gauss_bwd(mu, lv) -> dmu dlv (+=)
 *       as reparam_kl_bwd(dz, eps, mu, lv) -> dmu dlv
 * at a's place, when no step between them touches what b writes or writes
 * what b reads (so b could have run right after a).
 */
#include <string.h>

#include "gen.h"
#include "plan/op_info.h"

/* Whether two layer steps differ only in their width (out). */
static bool same_but_width(const vkvae_step_desc *a, const vkvae_step_desc *b)
{
    vkvae_op_params p = b->p;
    p.out = a->p.out;
    return memcmp(&p, &a->p, sizeof p) == 0;
}

static bool overlap(const gen_plan *pl, uint32_t a, uint32_t b)
{
    const vkvae_tensor_desc *ta = &pl->t[a], *tb = &pl->t[b];
    return ta->buffer == tb->buffer && ta->offset < tb->offset + 4 * tb->elems &&
           tb->offset < ta->offset + 4 * ta->elems;
}

/* Whether step b reads or writes what step a writes, or a reads what b writes. */
static bool depends(const gen_plan *pl, const vkvae_step_desc *a, const vkvae_step_desc *b)
{
    uint32_t na = vkvae_op_bindings(a->op), nb = vkvae_op_bindings(b->op);
    for (uint32_t i = 0; i < na; i++)
        for (uint32_t j = 0; j < nb; j++) {
            bool wa = vkvae_op_binding(a->op, &a->p, i).written;
            bool wb = vkvae_op_binding(b->op, &b->p, j).written;
            if ((wa || wb) && overlap(pl, a->tensors[i], b->tensors[j]))
                return true;
        }
    return false;
}

/* A step of op over tensors t[0..n), with p's parameters but in2. */
static vkvae_step_desc fused_step(vkvae_op op, const vkvae_op_params *p, uint32_t in2,
                                  const uint32_t *t, uint32_t n)
{
    vkvae_step_desc s = { .op = op, .n_tensors = n, .p = *p };
    s.p.in2 = in2;
    memcpy(s.tensors, t, n * sizeof *t);
    return s;
}

/* Steps i and i + 1 as one pair step in *out, or false. */
static bool pair_at(gen_plan *pl, const gen_program *pr, size_t i, vkvae_step_desc *out)
{
    const vkvae_step_desc *a = &pr->steps[i], *b = &pr->steps[i + 1];
    if (a->op == VKVAE_OP_CONCAT && b->op == VKVAE_OP_DENSE_BWD_X &&
        b->tensors[0] == a->tensors[2] && a->p.n == b->p.n && a->p.in + a->p.in2 == b->p.out) {
        for (size_t s = 0; s < pr->n; s++) /* the concat's result, read by b alone */
            for (uint32_t k = 0; s != i && s != i + 1 && k < pr->steps[s].n_tensors; k++)
                if (overlap(pl, pr->steps[s].tensors[k], a->tensors[2]))
                    return false;
        vkvae_op_params p = b->p;
        p.out = a->p.in;
        *out = fused_step(VKVAE_OP_DENSE_PAIR_BWD_X, &p, a->p.in2,
                         (uint32_t[]){ a->tensors[0], a->tensors[1], b->tensors[1],
                                       b->tensors[2], b->tensors[3] }, 5);
        return true;
    }
    if (a->op != b->op || (a->op != VKVAE_OP_DENSE && a->op != VKVAE_OP_DENSE_BWD_W) ||
        !same_but_width(a, b) || depends(pl, a, b))
        return false;
    /* the weights (dense: binding 1; dense_bwd_w: dw, binding 2) in their order */
    uint32_t wb = a->op == VKVAE_OP_DENSE ? 1 : 2;
    if (a->tensors[wb - 1] != b->tensors[wb - 1]) /* the same x */
        return false;
    if (pl->t[b->tensors[wb]].offset < pl->t[a->tensors[wb]].offset) {
        const vkvae_step_desc *t = a;
        a = b, b = t;
    }
    const char *name = xprintf("%s|%s", pl->t[a->tensors[wb]].name, pl->t[b->tensors[wb]].name);
    int w = stacked_view(pl, (int)a->tensors[wb], (int)b->tensors[wb], name);
    if (w < 0)
        return false;
    const uint32_t *ta = a->tensors, *tb = b->tensors;
    if (a->op == VKVAE_OP_DENSE)
        *out = fused_step(VKVAE_OP_DENSE_PAIR, &a->p, b->p.out,
                         (uint32_t[]){ ta[0], (uint32_t)w, ta[2], tb[2], ta[3], tb[3] }, 6);
    else
        *out = fused_step(VKVAE_OP_DENSE_PAIR_BWD_W, &a->p, b->p.out,
                         (uint32_t[]){ ta[0], tb[0], ta[1], (uint32_t)w, ta[3], tb[3] }, 6);
    return true;
}

void pair_products(gen_plan *pl, gen_program *pr)
{
    size_t k = 0;
    for (size_t i = 0; i < pr->n; i++) {
        vkvae_step_desc s;
        if (i + 1 < pr->n && pair_at(pl, pr, i, &s)) {
            pr->steps[k++] = s;
            i++;
        } else {
            pr->steps[k++] = pr->steps[i];
        }
    }
    pr->n = k;
}

/* ---- loss terms ---- */

/* The fused step of a then b (ops.def's fused loss ops), if b's inputs are
 * a's as the fusion needs; else false. */
static bool fused_loss(const vkvae_step_desc *a, const vkvae_step_desc *b, vkvae_step_desc *out)
{
    const uint32_t *ta = a->tensors, *tb = b->tensors;
    if (a->p.n != b->p.n || a->p.in != b->p.in)
        return false;
    /* (a kl over class copies counts its valid rows per example, reparam's
     * per copy: 'unlabelled' keeps them apart) */
    uint32_t sa = a->p.samples ? a->p.samples : 1, sb = b->p.samples ? b->p.samples : 1;
    /* (free bits, kl_gauss's alpha, need the whole batch: not fused) */
    if (a->op == VKVAE_OP_REPARAM && b->op == VKVAE_OP_KL_GAUSS && ta[0] == tb[0] &&
        ta[1] == tb[1] && sa == sb && b->p.alpha == 0)
        *out = fused_step(VKVAE_OP_REPARAM_KL, &a->p, a->p.in2,
                         (uint32_t[]){ ta[0], ta[1], ta[2], ta[3], tb[2] }, 5);
    else if (a->op == VKVAE_OP_NLL_BERNOULLI && b->op == VKVAE_OP_NLL_BERNOULLI_BWD &&
             ta[0] == tb[0] && ta[1] == tb[1] && memcmp(&a->p, &b->p, sizeof a->p) == 0)
        *out = fused_step(VKVAE_OP_NLL_BERNOULLI_GRAD, &a->p, a->p.in2,
                         (uint32_t[]){ ta[0], ta[1], ta[2], tb[2] }, 4);
    else if (a->op == VKVAE_OP_REPARAM_BWD && b->op == VKVAE_OP_KL_GAUSS_BWD && b->p.mode == 0 &&
             b->p.alpha == 0 && ta[2] == tb[1] && ta[3] == tb[2] && ta[4] == tb[3])
        *out = fused_step(VKVAE_OP_REPARAM_KL_BWD, &a->p, a->p.in2,
                         (uint32_t[]){ ta[0], ta[1], tb[0], ta[2], ta[3], ta[4] }, 6);
    else
        return false;
    return true;
}

void fuse_loss_terms(gen_plan *pl, gen_program *pr)
{
    for (size_t a = 0; a < pr->n; a++)
        for (size_t b = a + 1; b < pr->n; b++) {
            vkvae_step_desc fused;
            if (!fused_loss(&pr->steps[a], &pr->steps[b], &fused))
                continue;
            bool free_to_move = true; /* b may run right after a */
            for (size_t s = a + 1; s < b && free_to_move; s++)
                free_to_move = !depends(pl, &pr->steps[s], &pr->steps[b]);
            if (!free_to_move)
                continue;
            pr->steps[a] = fused;
            memmove(&pr->steps[b], &pr->steps[b + 1], (pr->n - b - 1) * sizeof *pr->steps);
            pr->n--;
            break;
        }
}
