/* build_backward: reverse-mode differentiation of the forward graph, as more
 * nodes of ops.def's backward ops appended after the forward ones.
 *
 * The loss differentiated is the one loss_accum's third sum reports:
 * L = sum over valid rows of (recon + kl_weight * kl), times push.grad_scale
 * (1 for PyTorch's summed loss). Every parameter gets a gradient tensor
 * (ROLE_GRAD) that exactly one backward node overwrites; no gradient is
 * formed for the input, the labels or the draws (eps).
 *
 * Nodes are visited in reverse. A tensor's gradient is formed ("pulled")
 * when its producer is visited, from the contributions of its consumers,
 * which were all visited before it:
 *   dense/conv/convt consumer   *_bwd_x(dpre, w), dpre = act_bwd(dy, y) or dy
 *   concat consumer (first in)  slice_bwd(d out)
 *   add consumer (either in)    d out itself, shared (no act fused into it)
 * Some nodes write gradients directly when visited: the loss gradients
 * (nll_bernoulli_bwd, l2_bwd, nll_gauss_bwd) and reparam_bwd, after which
 * kl_gauss_bwd adds the KL term into the same dmu, dlv (its "+=").
 * A tensor read by two layers of one kind (the encoder output feeding the
 * heads fc21 and fc22; the input of a decoder layer and its log-variance
 * twin) sums its two contributions in one backward product: dx = [dy1 |
 * dy2] [w1 ; w2], with the dy's and the weights joined by concat steps (a
 * weight concat with n = 1 stacks rows, and is a view where plan.c finds
 * the two weights back to back; for a transposed conv's [c_in,c_out,k,k]
 * with n = c_in it stacks c_out); gen/fuse.c then makes the dense case one
 * dense_pair_bwd_x, concat-free. Any other sum of contributions (a residual
 * block's input feeds its layer and the add) is formed one contribution at
 * a time and summed by add steps.
 *
 * IWAE (ops.def's importance-weighting block): the loss is the negative
 * bound per example, iwae_lse of the log weights. Visiting iwae_lse forms
 * the normalised weights wt = iwae_weights(logw); each per-row loss
 * gradient over the n*k sample rows is then scaled by its row's weight
 * (scale_rows after nll_*_bwd), and after reparam_bwd, iwae_logw_bwd adds
 * the prior and posterior terms of log w into dmu, dlv (as kl_gauss_bwd
 * does for the ELBO). repeat_rows copies data or labels, which need no
 * gradient.
 *
 * Semi-supervised M2 (ops.def's block): a loss part over class copies is
 * summed per row by label_sum with the copies' weights. Its own gradient
 * is scaled per copy (scale_rows after its *_bwd; a kl over copies writes
 * a gradient of its own, kl_gauss_bwd mode 1, to be scaled so, instead of
 * adding after reparam_bwd), and visiting label_sum seeds the gradient of
 * the classifier's logits through the weights (label_sum_bwd).
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "plan/op_info.h"

typedef struct gbuild {
    gen_graph *g;
    int *dpre;      /* per forward node: the gradient at its pre-activation */
    int *bn_dx;     /* per batchnorm node: the input gradient its backward wrote */
    int wt;         /* IWAE: the importance weights [n*k], or -1 */
    int logw_node;  /* IWAE: the iwae_logw node, or -1 */
    char *why;
    /* an update of the general form (NULL: the whole graph, every parameter) */
    const bool *take;   /* the forward nodes it runs */
    const bool *trains; /* per tensor: a parameter it trains */
    int *readers;       /* per parameter: taken nodes reading it (their partials sum) */
    int *written;       /* per parameter: partials written so far */
    int *running;       /* per parameter: the partial sum so far */
    const double *weight; /* per forward node: its term's weight in the update */
    /* an update's loss gradients per forward tensor, summed with what its
     * consumers pass back when it is pulled (a tapped layer's output reads
     * a loss and feeds the layers after it) */
    int (*seeds)[4];
    int *n_seeds;
} gbuild;

static int add_tensor(gen_graph *g, char *name, gen_role role, uint32_t rows, gen_dims dims)
{
    GROW(g->t, g->cap_t, g->nt + 1);
    g->t[g->nt] = (gen_tensor){ .name = name, .role = role, .dtype = "f32", .rows = rows,
        .dims = dims, .producer = -1, .alias = -1, .grad = -1 };
    return (int)g->nt++;
}

static int add_node(gen_graph *g, int op, const char *name, gen_loc loc, const int *ins,
                    const int *outs, vkvae_op_params p)
{
    GROW(g->n, g->cap_n, g->nn + 1);
    gen_node *n = &g->n[g->nn];
    *n = (gen_node){ .op = op, .name = xstrndup(name, strlen(name)), .loc = loc, .p = p };
    for (int i = 0; ins[i] >= 0; i++)
        n->in[n->nin++] = ins[i];
    for (int i = 0; outs[i] >= 0; i++) {
        n->out[n->nout++] = outs[i];
        g->t[outs[i]].producer = (int)g->nn;
    }
    return (int)g->nn++;
}

/* A new activation-gradient tensor shaped like root tensor t. */
static int grad_like(gen_graph *g, int t, const char *suffix)
{
    const gen_tensor x = g->t[t];
    return add_tensor(g, xprintf("d.%s%s", x.name, suffix), ROLE_ACT, x.rows, x.dims);
}

static bool fail(gbuild *b, char *why)
{
    if (!b->why)
        b->why = why;
    return false;
}

static bool is_layer(int op)
{
    return op == VKVAE_OP_DENSE || op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONVT2D;
}

/* A consumer: forward node and the input slot that reads the tensor. */
typedef struct consumer {
    int node, slot;
} consumer;

static int pull_consumers(const gbuild *b, int t, consumer *out, int max);

/* Whether any gradient will reach root tensor t: a consumer of it, or a
 * loss gradient seeded into it. */
static bool reaches(const gbuild *b, int t)
{
    consumer c[1];
    return pull_consumers(b, t, c, 1) > 0 || (b->n_seeds && b->n_seeds[t] > 0) ||
           b->g->t[t].grad >= 0;
}

/* Forward consumers of root tensor t through which a gradient flows back to
 * t: layers, batch norms, gates and codebooks reading it as their first
 * input, adds and
 * concats reading it as either (once per input that reads it: an add of t
 * and t counts twice); of an update, its nodes only. */
static int pull_consumers(const gbuild *b, int t, consumer *out, int max)
{
    const gen_graph *g = b->g;
    int count = 0;
    for (size_t i = 0; i < g->n_fwd; i++) {
        const gen_node *n = &g->n[i];
        if (b->take && !b->take[i])
            continue;
        bool both = n->op == VKVAE_OP_ADD || n->op == VKVAE_OP_CONCAT;
        if (!both && !is_layer(n->op) && n->op != VKVAE_OP_BATCHNORM && n->op != VKVAE_OP_GATE &&
            n->op != VKVAE_OP_VQ_NEAREST && n->op != VKVAE_OP_GRU &&
            n->op != VKVAE_OP_REPEAT_ROWS)
            continue;
        for (int slot = 0; slot < (both ? 2 : 1); slot++)
            if (tensor_root(g, n->in[slot]) == t) {
                /* only a vq part reads the codes: nothing passes straight through */
                if (n->op == VKVAE_OP_VQ_NEAREST && !reaches(b, tensor_root(g, n->out[0])))
                    continue;
                if (count < max)
                    out[count] = (consumer){ (int)i, slot };
                count++;
            }
    }
    return count;
}

/* Whether gradient tensor d is the gradient of more than one tensor (an
 * add passes its output's gradient to its inputs as it is). */
static bool shared_grad(const gen_graph *g, int d)
{
    int users = 0;
    for (size_t i = 0; i < g->nt; i++)
        users += g->t[i].grad == d;
    return users > 1;
}

static uint64_t weight_elems(const gen_graph *g, const gen_node *n)
{
    return dims_count(&g->t[n->in[1]].dims);
}

/* Two layers of the same kind read t: one backward product over both. */
static int merged_bwd_x(gbuild *b, int t, int c1, int c2)
{
    gen_graph *g = b->g;
    gen_node n1 = g->n[c1], n2 = g->n[c2];
    if (n1.op != n2.op)
        return fail(b, xprintf("gradient of '%s': a sum over a %s and a %s layer is not "
                               "generated yet", g->t[t].name, gen_op_names[n1.op],
                               gen_op_names[n2.op])), -1;
    gen_loc loc = n1.loc;
    uint32_t n = n1.p.n;
    /* dy rows are [n, out1 + out2] (dense) or [n, (c1 + c2) h w] (conv) */
    uint64_t o1 = dims_count(&g->t[n1.out[0]].dims), o2 = dims_count(&g->t[n2.out[0]].dims);
    const char *tag = xprintf("%s_%s", n1.name, n2.name);
    int dy = add_tensor(g, xprintf("d.cat.%s", tag), ROLE_ACT, g->t[n1.out[0]].rows,
                        (gen_dims){ 1, { (uint32_t)(o1 + o2), 0, 0, 0 } });
    add_node(g, VKVAE_OP_CONCAT, "grad_cat", loc, (int[]){ b->dpre[c1], b->dpre[c2], -1 },
             (int[]){ dy, -1 },
             (vkvae_op_params){ .n = n, .in = (uint32_t)o1, .in2 = (uint32_t)o2,
                                .out = (uint32_t)(o1 + o2) });
    /* weights: dense [out,in] and conv [c_out,c_in,k,k] stack as rows (n = 1);
     * convt [c_in,c_out,k,k] stacks c_out within each of c_in rows */
    uint32_t wrows = n1.op == VKVAE_OP_CONVT2D ? n1.p.c_in : 1;
    uint64_t w1 = weight_elems(g, &n1) / wrows, w2 = weight_elems(g, &n2) / wrows;
    int w = add_tensor(g, xprintf("wcat.%s", tag), ROLE_ACT, 0,
                       (gen_dims){ 1, { (uint32_t)((w1 + w2) * wrows), 0, 0, 0 } });
    add_node(g, VKVAE_OP_CONCAT, "weight_cat", loc, (int[]){ n1.in[1], n2.in[1], -1 },
             (int[]){ w, -1 },
             (vkvae_op_params){ .n = wrows, .in = (uint32_t)w1, .in2 = (uint32_t)w2,
                                .out = (uint32_t)(w1 + w2) });
    vkvae_op_params p = n1.p;
    p.act = VKVAE_ACT_NONE, p.alpha = 0;
    if (n1.op == VKVAE_OP_DENSE)
        p.out = n1.p.out + n2.p.out;
    else
        p.c_out = n1.p.c_out + n2.p.c_out;
    int dx = grad_like(g, t, "");
    add_node(g, vkvae_op_bwd_x((vkvae_op)n1.op), xprintf("%s_bwd_x", tag), loc, (int[]){ dy, w, n1.in[0], -1 },
             (int[]){ dx, -1 }, p);
    return dx;
}

static int pull(gbuild *b, int t);

/* a + b into a new gradient tensor shaped like root tensor t */
static int grad_sum(gbuild *b, int t, int x, int y, const char *tag, gen_loc loc)
{
    gen_graph *g = b->g;
    int sum = grad_like(g, t, tag);
    add_node(g, VKVAE_OP_ADD, xprintf("%s_grad_sum", g->t[t].name), loc,
             (int[]){ x, y, -1 }, (int[]){ sum, -1 },
             (vkvae_op_params){ .n = (uint32_t)((uint64_t)g->batch * g->t[t].rows),
                                .in = (uint32_t)dims_count(&g->t[t].dims) });
    return sum;
}

/* The sum of an update's loss gradients of root tensor t, or -1. */
static int seed_sum(gbuild *b, int t)
{
    if (!b->n_seeds || !b->n_seeds[t])
        return -1;
    gen_graph *g = b->g;
    int sum = b->seeds[t][0];
    for (int k = 1; k < b->n_seeds[t]; k++)
        sum = grad_sum(b, t, sum, b->seeds[t][k], xprintf(".losses%d", k),
                       g->t[t].producer >= 0 ? g->n[g->t[t].producer].loc : (gen_loc){ 0 });
    return sum;
}

static int pre_activation_grad(gbuild *b, int i);

/* Consumer c's contribution to the gradient of root tensor t: an add's
 * gradient before its activation, or a codebook's output's, as it is; the
 * rest in a new tensor. */
static int contribution(gbuild *b, int t, consumer cs)
{
    gen_graph *g = b->g;
    int c = cs.node;
    gen_node n = g->n[c];
    if (n.op == VKVAE_OP_ADD) {
        if (b->dpre[c] < 0)
            b->dpre[c] = pre_activation_grad(b, c);
        return b->dpre[c];
    }
    if (n.op == VKVAE_OP_VQ_NEAREST) /* straight-through: zq's gradient as it is */
        return pull(b, tensor_root(g, n.out[0]));
    if (n.op == VKVAE_OP_GRU) { /* gru_bwd wrote its input projection's gradient */
        if (b->dpre[c] < 0)
            fail(b, xprintf("gradient of '%s': its gru's backward has not run (internal)",
                            g->t[t].name));
        return b->dpre[c];
    }
    if (n.op == VKVAE_OP_BATCHNORM) {
        if (b->bn_dx[c] < 0)
            fail(b, xprintf("gradient of '%s': its batchnorm's backward has not run "
                            "(internal)", g->t[t].name));
        return b->bn_dx[c];
    }
    /* (a concat's second input: a name of its own, as t may also be another's first) */
    int dx = grad_like(g, t, n.op == VKVAE_OP_CONCAT && cs.slot ? xprintf(".%s_tail", n.name) : "");
    if (n.op == VKVAE_OP_REPEAT_ROWS) { /* a latent beside each step: summed over them */
        int dy = pull(b, tensor_root(g, n.out[0]));
        if (dy < 0)
            return -1;
        add_node(g, VKVAE_OP_REPEAT_ROWS_BWD, xprintf("%s_bwd", n.name), n.loc,
                 (int[]){ dy, -1 }, (int[]){ dx, -1 }, n.p);
    } else if (n.op == VKVAE_OP_GATE) {
        int dy = pull(b, tensor_root(g, n.out[0]));
        if (dy < 0)
            return -1;
        add_node(g, VKVAE_OP_GATE_BWD, xprintf("%s_bwd", n.name), n.loc,
                 (int[]){ dy, n.in[0], -1 }, (int[]){ dx, -1 }, n.p);
    } else if (n.op == VKVAE_OP_CONCAT) {
        /* the head of its output's gradient (slot 0) or the tail (slot 1) */
        int dy = pull(b, tensor_root(g, n.out[0]));
        if (dy < 0)
            return -1;
        vkvae_op_params p = n.p;
        if (cs.slot)
            p = (vkvae_op_params){ .n = n.p.n, .in = n.p.in2, .out = n.p.out, .mode = 1 };
        add_node(g, VKVAE_OP_SLICE_BWD, xprintf("%s_bwd%s", n.name, cs.slot ? "_tail" : ""),
                 n.loc, (int[]){ dy, -1 }, (int[]){ dx, -1 }, p);
    } else {
        vkvae_op_params p = n.p;
        p.act = VKVAE_ACT_NONE, p.alpha = 0;
        add_node(g, vkvae_op_bwd_x((vkvae_op)n.op), xprintf("%s_bwd_x", n.name), n.loc,
                 (int[]){ b->dpre[c], n.in[1], n.in[0], -1 }, (int[]){ dx, -1 }, p);
    }
    return dx;
}

/* The gradient of root tensor t, formed now from its consumers if no node
 * wrote it directly. */
static int pull(gbuild *b, int t)
{
    gen_graph *g = b->g;
    if (g->t[t].grad >= 0)
        return g->t[t].grad;
    enum { MAX_CONSUMERS = 8 };
    consumer c[MAX_CONSUMERS];
    int count = pull_consumers(b, t, c, MAX_CONSUMERS);
    int dx = -1, seeds = seed_sum(b, t);
    if (count == 0 && seeds >= 0) {
        dx = seeds;
    } else if (count == 0) {
        fail(b, xprintf("no gradient reaches '%s' (internal)", g->t[t].name));
    } else if (count == 2 && is_layer(g->n[c[0].node].op) && is_layer(g->n[c[1].node].op)) {
        dx = merged_bwd_x(b, t, c[0].node, c[1].node);
    } else if (count > MAX_CONSUMERS) {
        fail(b, xprintf("gradient of '%s' sums %d contributions: more than %d is not "
                        "generated yet", g->t[t].name, count, MAX_CONSUMERS));
    } else {
        dx = contribution(b, t, c[0]);
        for (int k = 1; k < count && dx >= 0; k++) {
            int part = contribution(b, t, c[k]);
            if (part < 0)
                return -1;
            dx = grad_sum(b, t, dx, part, xprintf(".sum%d", k), g->n[c[k].node].loc);
        }
    }
    if (dx >= 0 && count > 0 && seeds >= 0)
        dx = grad_sum(b, t, dx, seeds, ".with_losses", g->n[c[0].node].loc);
    if (dx >= 0)
        g->t[t].grad = dx;
    return dx;
}

/* A node writes the gradient of root tensor t directly: it must be the only
 * contribution. */
static int direct(gbuild *b, int t)
{
    gen_graph *g = b->g;
    if (b->seeds) { /* an update's: summed when t is pulled */
        if (g->t[t].grad >= 0 || b->n_seeds[t] == 4)
            return fail(b, xprintf("gradient of '%s': more than 4 loss gradients, or one "
                                   "after it was formed (internal)", g->t[t].name)), -1;
        int dg = grad_like(g, t, xprintf(".loss%d", b->n_seeds[t]));
        b->seeds[t][b->n_seeds[t]++] = dg;
        return dg;
    }
    consumer c[1];
    if (g->t[t].grad >= 0 || pull_consumers(b, t, c, 1) > 0)
        return fail(b, xprintf("gradient of '%s' sums a loss gradient with another: not "
                               "generated yet", g->t[t].name)), -1;
    /* grad_like grows g->t: store through the array only after the call
     * (g->t[t].grad = grad_like(...) may compute the address first). */
    int dg = grad_like(g, t, "");
    g->t[t].grad = dg;
    return dg;
}

/* An update's weight on the loss gradient d that forward node i's
 * backward wrote ([rows, in]): a scale step where it is not 1. */
static void weigh(gbuild *b, size_t i, int d)
{
    if (!b->weight || b->weight[i] == 1)
        return;
    const gen_node *n = &b->g->n[i];
    const gen_tensor *t = &b->g->t[d];
    add_node(b->g, VKVAE_OP_SCALE, xprintf("%s_weight", n->name), n->loc, (int[]){ -1 },
             (int[]){ d, -1 },
             (vkvae_op_params){ .n = (uint32_t)((uint64_t)b->g->batch * t->rows),
                                .in = (uint32_t)dims_count(&t->dims), .alpha = (float)b->weight[i] });
}

/* IWAE: the per-row loss gradient d ([n*k,in]) times its row's weight. */
static void scale_by_weights(gbuild *b, const gen_node *n, int d)
{
    if (b->wt < 0)
        return;
    add_node(b->g, VKVAE_OP_SCALE_ROWS, xprintf("%s_weights", n->name), n->loc,
             (int[]){ b->wt, -1 }, (int[]){ d, -1 },
             (vkvae_op_params){ .n = n->p.n, .in = n->p.in });
}

/* Semi-supervised ('unlabelled'): the weights of the class copies whose
 * per-row loss t (a label_sum's first input) is, or -1. */
static int label_weights_of(const gen_graph *g, int t)
{
    for (size_t i = 0; i < g->n_fwd; i++)
        if (g->n[i].op == VKVAE_OP_LABEL_SUM && g->n[i].in[0] == t)
            return g->n[i].in[1];
    return -1;
}

/* A loss gradient d ([rows, ...]) of forward node n's per-row loss, times
 * each class copy's weight where the loss is over copies. */
static void scale_by_label_weights(gbuild *b, const gen_node *n, int d)
{
    gen_graph *g = b->g;
    int wt = label_weights_of(g, n->out[0]);
    if (wt < 0)
        return;
    const gen_tensor *t = &g->t[d];
    add_node(g, VKVAE_OP_SCALE_ROWS, xprintf("%s_label_weights", n->name), n->loc,
             (int[]){ wt, -1 }, (int[]){ d, -1 },
             (vkvae_op_params){ .n = (uint32_t)((uint64_t)g->batch * t->rows),
                                .in = (uint32_t)dims_count(&t->dims) });
}

/* The input-gradient node (dense, conv2d or convt2d _bwd_x) that wrote
 * gradient tensor d with no activation derivative in its epilogue yet, or
 * -1. */
static int bwd_x_writing(const gen_graph *g, int d)
{
    for (size_t i = g->nn; i-- > 0;)
        if (g->n[i].nout > 0 && tensor_root(g, g->n[i].out[0]) == d) {
            const gen_node *n = &g->n[i];
            bool bwd_x = n->op < VKVAE_OP_COUNT && vkvae_op_is_bwd_x((vkvae_op)n->op);
            return bwd_x && n->p.act == VKVAE_ACT_NONE ? (int)i : -1;
        }
    return -1;
}

/* The gradient at node i's pre-activation (its output's gradient through
 * its activation's derivative: fused into the epilogue of the input
 * gradient above where it can be, else an act_bwd step), or -1. */
static int pre_activation_grad(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    int y = tensor_root(g, n.out[0]);
    int dy = pull(b, y);
    if (dy < 0)
        return -1;
    int dpre = dy;
    /* a shared gradient (an add's) is read as it is by the add's other input */
    int writer = shared_grad(g, dy) ? -1 : bwd_x_writing(g, dy);
    if (n.p.act != VKVAE_ACT_NONE && writer >= 0) {
        /* the derivative joins the product's epilogue (the *_bwd_x of the
         * layer above reads this layer's output as its x): dy is then the
         * pre-activation gradient, and nothing else reads it */
        g->n[writer].p.act = n.p.act;
        g->n[writer].p.alpha = n.p.alpha;
    } else if (n.p.act != VKVAE_ACT_NONE) {
        dpre = grad_like(g, y, ".pre");
        add_node(g, VKVAE_OP_ACT_BWD, xprintf("%s_act_bwd", n.name), n.loc,
                 (int[]){ dy, n.out[0], -1 }, (int[]){ dpre, -1 },
                 (vkvae_op_params){ .n = n.p.n, .in = (uint32_t)dims_count(&g->t[y].dims),
                                    .act = n.p.act, .alpha = n.p.alpha });
    }
    return dpre;
}

/* Whether this backward trains parameter p. */
static bool trains(const gbuild *b, int p)
{
    return !b->trains || b->trains[p];
}

/* Where a backward node writes parameter p's gradient: its grad tensor, or
 * a partial where several calls read p (partial_done sums them); a
 * parameter this update does not train, or a 'nobias' zero, gets a tensor
 * nothing reads. */
static int grad_target(gbuild *b, int p)
{
    gen_graph *g = b->g;
    if (g->t[p].grad < 0 || !trains(b, p))
        return add_tensor(g, xprintf("d.%s", g->t[p].name), ROLE_ACT, 0, g->t[p].dims);
    if (!b->readers || b->readers[p] < 2)
        return g->t[p].grad;
    return add_tensor(g, xprintf("d.%s.%d", g->t[p].name, b->written[p] + 1), ROLE_ACT, 0,
                      g->t[p].dims);
}

/* After a node wrote part (from grad_target) of p's gradient: the partial
 * sum so far, into the grad tensor with the last. */
static void partial_done(gbuild *b, int p, int part, gen_loc loc)
{
    gen_graph *g = b->g;
    if (g->t[p].grad < 0 || !trains(b, p) || !b->readers || b->readers[p] < 2)
        return;
    if (b->written[p]++ == 0) {
        b->running[p] = part;
        return;
    }
    int sum = b->written[p] == b->readers[p] ? g->t[p].grad
            : add_tensor(g, xprintf("d.%s.sum%d", g->t[p].name, b->written[p]), ROLE_ACT, 0,
                         g->t[p].dims);
    add_node(g, VKVAE_OP_ADD, xprintf("%s_grad_sum", g->t[p].name), loc,
             (int[]){ b->running[p], part, -1 }, (int[]){ sum, -1 },
             (vkvae_op_params){ .n = 1, .in = (uint32_t)dims_count(&g->t[p].dims) });
    b->running[p] = sum;
}

static void layer_bwd(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    int dpre = pre_activation_grad(b, i);
    if (dpre < 0)
        return;
    b->dpre[i] = dpre;
    if (!trains(b, n.in[1]))
        return; /* a network another update trains: only its input's gradient */
    int op = n.op == VKVAE_OP_DENSE ? VKVAE_OP_DENSE_BWD_W
           : n.op == VKVAE_OP_CONV2D ? VKVAE_OP_CONV2D_BWD_W : VKVAE_OP_CONVT2D_BWD_W;
    vkvae_op_params p = n.p;
    p.act = VKVAE_ACT_NONE, p.alpha = 0;
    /* a layer without bias ('nobias'): the op still writes a bias gradient,
     * into a tensor nothing reads */
    int dw = grad_target(b, n.in[1]), dbias = grad_target(b, n.in[2]);
    add_node(g, op, xprintf("%s_bwd_w", n.name), n.loc, (int[]){ dpre, n.in[0], -1 },
             (int[]){ dw, dbias, -1 }, p);
    int mask = g->t[n.in[1]].producer; /* a masked convolution's: its gradient too */
    if (mask >= 0 && g->n[mask].op == VKVAE_OP_CONV_MASK)
        add_node(g, VKVAE_OP_CONV_MASK, xprintf("%s_grad_mask", n.name), g->n[mask].loc,
                 (int[]){ -1 }, (int[]){ dw, -1 }, g->n[mask].p);
    partial_done(b, n.in[1], dw, n.loc);
    partial_done(b, n.in[2], dbias, n.loc);
}

/* Batch norm: one backward node writes the input gradient (kept for the
 * input's pull, as a contribution) and the gradients of weight and bias. */
static void batchnorm_bwd(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    int dpre = pre_activation_grad(b, i);
    if (dpre < 0)
        return;
    int dx = grad_like(g, tensor_root(g, n.in[0]), xprintf(".%s", n.name));
    vkvae_op_params p = n.p;
    p.act = VKVAE_ACT_NONE, p.alpha = 0;
    int dgamma = grad_target(b, n.in[1]), dbeta = grad_target(b, n.in[2]);
    add_node(g, VKVAE_OP_BATCHNORM_BWD, xprintf("%s_bwd", n.name), n.loc,
             (int[]){ dpre, n.in[0], n.in[1], n.out[1], n.out[2], -1 },
             (int[]){ dx, dgamma, dbeta, -1 }, p);
    partial_done(b, n.in[1], dgamma, n.loc);
    partial_done(b, n.in[2], dbeta, n.loc);
    b->bn_dx[i] = dx;
}

/* A vq part's backward: the commitment's gradient into z (summed with the
 * straight-through gradient when z is pulled), the codebook loss's into
 * the codebook. */
static void vq_loss_bwd(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    gen_node vq = g->n[g->t[n.in[1]].producer];
    int z = tensor_root(g, n.in[0]);
    int dz = g->t[z].needs_grad ? direct(b, z) : -1;
    if (dz >= 0) {
        add_node(g, VKVAE_OP_VQ_LOSS_BWD, xprintf("%s_bwd", n.name), n.loc,
                 (int[]){ n.in[0], n.in[1], -1 }, (int[]){ dz, -1 }, n.p);
        weigh(b, (size_t)i, dz);
    }
    int e = vq.in[1];
    if (g->t[e].grad < 0 || !trains(b, e))
        return;
    int de = grad_target(b, e);
    add_node(g, VKVAE_OP_VQ_CODEBOOK_BWD, xprintf("%s_codebook_bwd", n.name), n.loc,
             (int[]){ vq.in[0], vq.out[1], e, -1 }, (int[]){ de, -1 }, vq.p);
    if (b->weight && b->weight[i] != 1)
        add_node(g, VKVAE_OP_SCALE, xprintf("%s_codebook_weight", n.name), n.loc, (int[]){ -1 },
                 (int[]){ de, -1 },
                 (vkvae_op_params){ .n = 1, .in = (uint32_t)dims_count(&g->t[e].dims),
                                    .alpha = (float)b->weight[i] });
    partial_done(b, e, de, n.loc);
}

/* A gradient of root tensor t when one reaches it, else zeros no step
 * writes (a gru's states or last state that nothing reads). */
static int grad_or_zeros(gbuild *b, int t)
{
    gen_graph *g = b->g;
    if (reaches(b, t))
        return pull(b, t);
    return add_tensor(g, xprintf("d.%s.zero", g->t[t].name), ROLE_CONST, g->t[t].rows,
                      g->t[t].dims);
}

/* A gru's backward through its steps (gru_bwd: the gradient of its input
 * projection gi, kept for gi's pull as a contribution, and of each step's
 * recurrent projection), then weight_hh's and bias_hh's as one product
 * over every row and step of those with the states before each step. */
static void gru_bwd(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    int dh = grad_or_zeros(b, tensor_root(g, n.out[0]));
    int dlast = dh < 0 ? -1 : grad_or_zeros(b, tensor_root(g, n.out[1]));
    if (dh < 0 || dlast < 0)
        return;
    const gen_tensor gi = g->t[n.in[0]]; /* (a copy: add_tensor moves the array) */
    int dgi = grad_like(g, tensor_root(g, n.in[0]), "");
    int dgh = add_tensor(g, xprintf("d.%s.gh", n.name), ROLE_ACT, gi.rows, gi.dims);
    int dh0 = grad_like(g, n.in[3], "");
    add_node(g, VKVAE_OP_GRU_BWD, xprintf("%s_bwd", n.name), n.loc,
             (int[]){ dh, dlast, n.out[3], n.out[2], n.in[1], -1 },
             (int[]){ dgi, dgh, dh0, -1 }, n.p);
    b->dpre[i] = dgi;
    if (!trains(b, n.in[1]))
        return;
    int dw = grad_target(b, n.in[1]), dbias = grad_target(b, n.in[2]);
    add_node(g, VKVAE_OP_DENSE_BWD_W, xprintf("%s_bwd_w", n.name), n.loc,
             (int[]){ dgh, n.out[2], -1 }, (int[]){ dw, dbias, -1 },
             (vkvae_op_params){ .n = n.p.n * n.p.in, .in = n.p.out, .out = 3 * n.p.out });
    partial_done(b, n.in[1], dw, n.loc);
    partial_done(b, n.in[2], dbias, n.loc);
}

/* An embedding's table: each token's rows of its output's gradient summed. */
static void embedding_bwd(gbuild *b, int i)
{
    gen_graph *g = b->g;
    gen_node n = g->n[i];
    int dy = pull(b, tensor_root(g, n.out[0]));
    if (dy < 0 || !trains(b, n.in[1]))
        return;
    int dw = grad_target(b, n.in[1]);
    add_node(g, VKVAE_OP_EMBEDDING_BWD, xprintf("%s_bwd", n.name), n.loc,
             (int[]){ dy, n.in[0], -1 }, (int[]){ dw, -1 }, n.p);
    partial_done(b, n.in[1], dw, n.loc);
}

/* Every parameter's gradient tensor (grad.<name>). */
static void grad_tensors(gen_graph *g)
{
    for (size_t i = 0, nt = g->nt; i < nt; i++)
        if (g->t[i].role == ROLE_PARAM) {
            const gen_tensor p = g->t[i];
            int d = add_tensor(g, xprintf("grad.%s", p.name), ROLE_GRAD, 0, p.dims);
            g->t[i].grad = d;
        }
}

/* The backward nodes of b's forward nodes (all, or an update's), last first. */
static void backward_pass(gbuild *bp)
{
    gbuild b = *bp;
    gen_graph *g = b.g;
    for (size_t i = 0; i < g->n_fwd; i++)
        b.dpre[i] = b.bn_dx[i] = -1;
    for (size_t i = g->n_fwd; i-- > 0 && !b.why;) {
        gen_node n = g->n[i];
        if (b.take && !b.take[i])
            continue;
        switch (n.op) {
        case GEN_OP_VIEW:
        case VKVAE_OP_PRIOR:
        case VKVAE_OP_LOSS_ACCUM:
        case VKVAE_OP_GATHER:
        case VKVAE_OP_GATHER_ONEHOT:
        case VKVAE_OP_CORRUPT_MASK:
        case VKVAE_OP_CORRUPT_GAUSS:
            break;
        case VKVAE_OP_NLL_BERNOULLI:
        case VKVAE_OP_L2: {
            int y = tensor_root(g, n.in[0]);
            if (!g->t[y].needs_grad)
                break;
            int dy = direct(&b, y);
            if (dy >= 0) {
                add_node(g, n.op == VKVAE_OP_L2 ? VKVAE_OP_L2_BWD : VKVAE_OP_NLL_BERNOULLI_BWD,
                         xprintf("%s_bwd", n.name), n.loc, (int[]){ n.in[0], n.in[1], -1 },
                         (int[]){ dy, -1 }, n.p);
                scale_by_weights(&b, &n, dy);
                scale_by_label_weights(&b, &n, dy);
                weigh(&b, i, dy);
            }
            break;
        }
        case VKVAE_OP_VQ_LOSS:
            vq_loss_bwd(&b, (int)i);
            break;
        case VKVAE_OP_KL_GAUSS: {
            /* with reparam, after reparam_bwd (its "+="); over class copies
             * (general specs only) a loss gradient of its own (mode 1:
             * written), each row times its copy's weight */
            if (label_weights_of(g, n.out[0]) < 0)
                break;
            int mu = tensor_root(g, n.in[0]), lv = tensor_root(g, n.in[1]);
            if (!g->t[mu].needs_grad || !b.seeds)
                break;
            int dmu = direct(&b, mu), dlv = direct(&b, lv);
            if (dmu < 0 || dlv < 0)
                break;
            vkvae_op_params p = n.p;
            p.mode = 1;
            add_node(g, VKVAE_OP_KL_GAUSS_BWD, xprintf("%s_bwd", n.name), n.loc,
                     (int[]){ n.in[0], n.in[1], -1 }, (int[]){ dmu, dlv, -1 }, p);
            scale_by_label_weights(&b, &n, dmu);
            scale_by_label_weights(&b, &n, dlv);
            weigh(&b, i, dmu);
            weigh(&b, i, dlv);
            break;
        }
        case VKVAE_OP_KL_GAUSS2: {
            /* a posterior against a learned prior (general specs only): the
             * gradients of both Gaussians' mu and log-variance, as loss
             * gradients summed with what each z passes back when pulled; a
             * side this update does not train writes a scratch tensor */
            int d[4];
            for (int j = 0; j < 4; j++) {
                int t = tensor_root(g, n.in[j]);
                d[j] = g->t[t].needs_grad && b.seeds ? direct(&b, t)
                                                     : grad_like(g, t, ".unused");
            }
            if (d[0] < 0 || d[1] < 0 || d[2] < 0 || d[3] < 0)
                break;
            add_node(g, VKVAE_OP_KL_GAUSS2_BWD, xprintf("%s_bwd", n.name), n.loc,
                     (int[]){ n.in[0], n.in[1], n.in[2], n.in[3], -1 },
                     (int[]){ d[0], d[1], d[2], d[3], -1 }, n.p);
            for (int j = 0; j < 4; j++)
                if (g->t[tensor_root(g, n.in[j])].needs_grad)
                    weigh(&b, i, d[j]);
            break;
        }
        case VKVAE_OP_VQ_NEAREST:   /* its input pulls zq's gradient (contribution) */
        case VKVAE_OP_CONV_MASK:    /* its weight's gradient is masked in layer_bwd */
        case VKVAE_OP_GATE:         /* its input pulls gate_bwd (contribution) */
        case VKVAE_OP_ONEHOT:       /* reads data: no gradient (shape.c) */
        case VKVAE_OP_SOBEL:
            break;
        case VKVAE_OP_BCE_LOGITS:
        case VKVAE_OP_NLL_TOKENS:
        case VKVAE_OP_NLL_CATEGORICAL: {
            /* a GAN's loss, a pixel model's categorical: the gradient of the
             * logits it reads (a categorical's levels, its second input, get
             * none) */
            int l = tensor_root(g, n.in[0]);
            int dl = g->t[l].needs_grad ? direct(&b, l) : -1;
            if (dl >= 0) {
                int bwd = n.op == VKVAE_OP_BCE_LOGITS ? VKVAE_OP_BCE_LOGITS_BWD
                        : n.op == VKVAE_OP_NLL_TOKENS ? VKVAE_OP_NLL_TOKENS_BWD
                                                      : VKVAE_OP_NLL_CATEGORICAL_BWD;
                add_node(g, bwd, xprintf("%s_bwd", n.name), n.loc,
                         (int[]){ n.in[0], n.nin > 1 ? n.in[1] : -1, -1 }, (int[]){ dl, -1 },
                         n.p);
                scale_by_label_weights(&b, &n, dl);
                weigh(&b, i, dl);
            }
            break;
        }
        case VKVAE_OP_SOFTMAX_CE: {
            /* a classifier's loss: the gradient of its logits (the errors,
             * its second output, have none) */
            int l = tensor_root(g, n.in[0]);
            int dl = g->t[l].needs_grad ? direct(&b, l) : -1;
            if (dl >= 0) {
                add_node(g, VKVAE_OP_SOFTMAX_CE_BWD, "ce_bwd", n.loc,
                         (int[]){ n.in[0], n.in[1], -1 }, (int[]){ dl, -1 }, n.p);
                weigh(&b, i, dl);
            }
            break;
        }
        case VKVAE_OP_ENTROPY:
        case VKVAE_OP_LABEL_SUM: {
            /* q(y|x)'s gradient: of minus its entropy, or of a part's sum
             * over the class copies through their weights softmax(q) (rows
             * without a label; the part's own gradient takes the weights by
             * scale_rows) */
            bool ent = n.op == VKVAE_OP_ENTROPY;
            const gen_node *w = ent ? NULL : &g->n[g->t[n.in[1]].producer];
            int q = tensor_root(g, ent ? n.in[0] : w->in[0]);
            int dq = g->t[q].needs_grad ? direct(&b, q) : -1;
            if (dq < 0)
                break;
            if (ent)
                add_node(g, VKVAE_OP_ENTROPY_BWD, xprintf("%s_bwd", n.name), n.loc,
                         (int[]){ n.in[0], n.in[1], -1 }, (int[]){ dq, -1 }, n.p);
            else
                add_node(g, VKVAE_OP_LABEL_SUM_BWD, xprintf("%s_bwd", n.name), n.loc,
                         (int[]){ n.in[0], w->in[0], w->in[1], -1 }, (int[]){ dq, -1 }, n.p);
            weigh(&b, i, dq);
            break;
        }
        case VKVAE_OP_CLASS_ROWS:
        case VKVAE_OP_LABEL_WEIGHTS: /* through label_sum_bwd */
            break;
        case VKVAE_OP_NLL_GAUSS: {
            int mean = tensor_root(g, n.in[0]), lv = tensor_root(g, n.in[1]);
            if (b.take) {
                /* the general form's gauss part: a gradient into the mean */
                if (g->t[tensor_root(g, n.in[2])].needs_grad) {
                    fail(&b, xprintf("gradient of gauss's target '%s' (internal: the check "
                                     "refuses it)", g->t[n.in[2]].name));
                    break;
                }
                int dmean = g->t[mean].needs_grad ? direct(&b, mean) : -1;
                if (dmean >= 0) {
                    add_node(g, VKVAE_OP_NLL_GAUSS_BWD, xprintf("%s_bwd", n.name), n.loc,
                             (int[]){ n.in[0], n.in[1], n.in[2], -1 },
                             (int[]){ dmean, n.in[1], -1 }, n.p);
                    scale_by_label_weights(&b, &n, dmean);
                    weigh(&b, i, dmean);
                }
                break;
            }
            if (b.wt >= 0 && n.p.mode == 1) {
                /* shape.c refuses the spec, with its line */
                fail(&b, xprintf("iwae objective with 'variance learned': not generated yet "
                                 "(its log-variance gradient is summed over rows, and the "
                                 "importance weights scale each row; internal: the check "
                                 "refuses it)"));
                break;
            }
            int dmean = direct(&b, mean);
            /* mode 0 writes no dlv: bind the constant, which it leaves alone */
            int dlv = n.p.mode == 0 ? n.in[1]
                    : n.p.mode == 1 ? g->t[lv].grad : direct(&b, lv);
            if (dmean >= 0 && dlv >= 0) {
                add_node(g, VKVAE_OP_NLL_GAUSS_BWD, "nll_bwd", n.loc,
                         (int[]){ n.in[0], n.in[1], n.in[2], -1 }, (int[]){ dmean, dlv, -1 },
                         n.p);
                scale_by_weights(&b, &n, dmean);
                if (n.p.mode == 2)
                    scale_by_weights(&b, &n, dlv);
            }
            break;
        }
        case VKVAE_OP_REPARAM: {
            int mu = n.in[0], lv = n.in[1];
            if (!g->t[tensor_root(g, n.out[0])].needs_grad)
                break; /* (an update's: an encoder it does not train) */
            int dz = pull(&b, tensor_root(g, n.out[0]));
            int dmu = direct(&b, mu), dlv = direct(&b, lv);
            if (dz < 0 || dmu < 0 || dlv < 0)
                break;
            add_node(g, VKVAE_OP_REPARAM_BWD, "reparam_bwd", n.loc,
                     (int[]){ dz, n.out[1], lv, -1 }, (int[]){ dmu, dlv, -1 }, n.p);
            for (size_t k = 0; k < g->n_fwd; k++)
                if (g->n[k].op == VKVAE_OP_KL_GAUSS && g->n[k].in[0] == mu &&
                    g->n[k].in[1] == lv && (!b.take || b.take[k]) &&
                    label_weights_of(g, g->n[k].out[0]) < 0) {
                    gen_node kl = g->n[k];
                    add_node(g, VKVAE_OP_KL_GAUSS_BWD, "kl_bwd", kl.loc, (int[]){ mu, lv, -1 },
                             (int[]){ dmu, dlv, -1 }, kl.p);
                }
            if (b.wt >= 0) {
                gen_node lw = g->n[b.logw_node];
                add_node(g, VKVAE_OP_IWAE_LOGW_BWD, "logw_bwd", lw.loc,
                         (int[]){ lw.in[1], lw.in[2], lw.in[3], b.wt, -1 },
                         (int[]){ dmu, dlv, -1 }, lw.p);
            }
            break;
        }
        case VKVAE_OP_IWAE_LSE: {
            /* first of IWAE's backward: the weights every later gradient takes */
            int logw = n.in[0];
            b.logw_node = g->t[logw].producer;
            b.wt = add_tensor(g, xprintf("iwae.wt"), ROLE_ACT, g->t[logw].rows,
                              (gen_dims){ 0 });
            add_node(g, VKVAE_OP_IWAE_WEIGHTS, "weights", n.loc, (int[]){ logw, -1 },
                     (int[]){ b.wt, -1 }, n.p);
            break;
        }
        case VKVAE_OP_IWAE_LOGW:    /* with reparam, after reparam_bwd */
            break;
        case VKVAE_OP_REPEAT_ROWS:  /* its input pulls repeat_rows_bwd (contribution) */
        case VKVAE_OP_SHIFT_TOKENS: /* reads the tokens: no gradient */
            break;
        case VKVAE_OP_EMBEDDING:
            if (g->t[tensor_root(g, n.out[0])].needs_grad)
                embedding_bwd(&b, (int)i);
            break;
        case VKVAE_OP_GRU:
            if (g->t[tensor_root(g, n.out[0])].needs_grad)
                gru_bwd(&b, (int)i);
            break;
        case VKVAE_OP_DENSE:
        case VKVAE_OP_CONV2D:
        case VKVAE_OP_CONVT2D:
            /* (an update's: a network before what it trains gets none) */
            if (g->t[tensor_root(g, n.out[0])].needs_grad)
                layer_bwd(&b, (int)i);
            break;
        case VKVAE_OP_BATCHNORM:
            if (g->t[tensor_root(g, n.out[0])].needs_grad)
                batchnorm_bwd(&b, (int)i);
            break;
        case VKVAE_OP_CONCAT:
            /* its output's gradient now, for the slices its inputs pull */
            if (g->t[tensor_root(g, n.in[0])].needs_grad ||
                g->t[tensor_root(g, n.in[1])].needs_grad)
                pull(&b, tensor_root(g, n.out[0]));
            break;
        case VKVAE_OP_ADD:
            /* its gradient before its activation now: each input's contribution */
            if ((g->t[tensor_root(g, n.in[0])].needs_grad ||
                 g->t[tensor_root(g, n.in[1])].needs_grad) && b.dpre[i] < 0)
                b.dpre[i] = pre_activation_grad(&b, (int)i);
            break;
        default:
            fail(&b, xprintf("backward of op '%s': not generated yet", gen_op_names[n.op]));
        }
    }
    bp->why = b.why;
}

bool build_backward(gen_graph *g, char **why)
{
    gbuild b = { .g = g, .dpre = xmalloc(g->n_fwd * sizeof(int)),
                 .bn_dx = xmalloc(g->n_fwd * sizeof(int)), .wt = -1, .logw_node = -1 };
    grad_tensors(g);
    backward_pass(&b);
    xfree(b.dpre);
    xfree(b.bn_dx);
    *why = b.why;
    return !b.why;
}

/* needs_grad for one update: what was differentiable and depends on a
 * parameter it trains (the other networks' outputs are constants to it). */
static void update_needs_grad(gen_graph *g, const bool *orig, const bool *trained, size_t nt)
{
    bool *dep = xmalloc(g->nt);
    for (size_t t = 0; t < g->nt; t++)
        dep[t] = trained[t];
    for (size_t i = 0; i < g->n_fwd; i++) {
        const gen_node *n = &g->n[i];
        bool any = false;
        for (int j = 0; j < n->nin; j++)
            any |= dep[n->in[j]];
        for (int j = 0; j < n->nout; j++)
            dep[n->out[j]] = dep[n->out[j]] || any;
    }
    for (size_t t = 0; t < g->nt; t++)
        g->t[t].needs_grad = t < nt && orig[t] && dep[t];
    xfree(dep);
}

bool build_update_backward(gen_graph *g, char **why)
{
    size_t nt = g->nt;
    grad_tensors(g);
    bool *orig = xmalloc(g->nt);
    for (size_t t = 0; t < g->nt; t++)
        orig[t] = g->t[t].needs_grad;
    gbuild b = { .g = g, .dpre = xmalloc(g->n_fwd * sizeof(int)),
                 .bn_dx = xmalloc(g->n_fwd * sizeof(int)), .wt = -1, .logw_node = -1 };
    for (size_t u = 0; u < g->n_upd && !b.why; u++) {
        gen_graph_update *up = &g->upd[u];
        size_t n_all = g->nt;
        bool *trained = xmalloc(n_all);
        memset(trained, 0, n_all);
        memcpy(trained, up->trains, g->nt_fwd);
        update_needs_grad(g, orig, trained, nt);
        b.take = up->take;
        b.trains = trained;
        b.weight = up->weight;
        b.seeds = xmalloc(nt * sizeof *b.seeds);
        b.n_seeds = xmalloc(nt * sizeof(int));
        memset(b.n_seeds, 0, nt * sizeof(int));
        b.readers = xmalloc(n_all * sizeof(int));
        b.written = xmalloc(n_all * sizeof(int));
        b.running = xmalloc(n_all * sizeof(int));
        memset(b.readers, 0, n_all * sizeof(int));
        memset(b.written, 0, n_all * sizeof(int));
        for (size_t i = 0; i < g->n_fwd; i++)
            for (int j = 1; up->take[i] && j < g->n[i].nin; j++)
                if (g->t[g->n[i].in[j]].role == ROLE_PARAM &&
                    g->t[tensor_root(g, g->n[i].out[0])].needs_grad &&
                    g->n[i].op != VKVAE_OP_VQ_NEAREST)
                    b.readers[g->n[i].in[j]]++;
        /* a codebook's partial gradients are its vq parts' (vq_loss_bwd) */
        for (size_t i = 0; i < g->n_fwd; i++)
            if (up->take[i] && g->n[i].op == VKVAE_OP_VQ_LOSS) {
                int e = g->n[g->t[g->n[i].in[1]].producer].in[1];
                if (g->t[e].role == ROLE_PARAM)
                    b.readers[e]++;
            }
        for (size_t t = 0; t < n_all; t++)
            if (g->t[t].role != ROLE_PARAM)
                g->t[t].grad = -1;
        up->bwd_begin = g->nn;
        backward_pass(&b);
        up->bwd_end = g->nn;
        for (size_t t = 0; t < nt && !b.why; t++)
            if (trained[t] && b.readers[t] > 1 && b.written[t] != b.readers[t])
                b.why = xprintf("gradient of '%s': %d of %d partials (internal)", g->t[t].name,
                                b.written[t], b.readers[t]);
        xfree(trained);
        xfree(b.seeds);
        xfree(b.n_seeds);
        xfree(b.readers);
        xfree(b.written);
        xfree(b.running);
    }
    for (size_t t = 0; t < nt; t++)
        g->t[t].needs_grad = orig[t];
    xfree(orig);
    xfree(b.dpre);
    xfree(b.bn_dx);
    *why = b.why;
    return !b.why;
}
