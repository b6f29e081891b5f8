/* infer_shapes: the checks that need more than one line, and the forward
 * graph with every tensor's shape.
 *
 * First the combinations (objective vs. latent kind, likelihood vs. value
 * range, 'concat label' without a condition, ...), and what has no
 * lowering yet (a range other than 0..1; iwae with a learned variance), so
 * that every spec that checks also lowers. Then the graph, built
 * in execution order so node order is a valid schedule:
 *
 *   x = gather(data)  [y = gather_onehot(labels)]  [x~ = corrupt(x)]
 *   encoder layers    (label concatenated where the tensor first is flat)
 *   head: mu, logvar = dense, dense (gaussian) | code = dense (deterministic)
 *   z, eps = reparam(mu, logvar) with k samples per row   (gaussian only)
 *   decoder layers    (label concatenated at the start)
 *   likelihood or reconstruction loss against the clean x; kl; accumulate
 *
 * IWAE (k samples): the decoder runs over n*k rows (row r*k + s is sample s
 * of example r, reparam's order), so what it is compared with or
 * conditioned on, x and the label, is repeated to n*k rows (repeat_rows);
 * then
 *   nll[n*k] -> logw = iwae_logw(nll, z, eps, logvar) -> loss = iwae_lse(logw)
 * and the per-example loss (the negative bound) takes loss_accum's recon
 * slot beside a zero kl.
 *
 * Shapes are per row (rank 1: features, rank 3: CxHxW); a tensor's rows are
 * the batch n, n*k for IWAE's samples, none for parameters. Activations are
 * fused into the dense/conv layer that produces their input, as ops.def
 * requires; flatten and reshape are views (GEN_OP_VIEW) that lower to no
 * dispatch. Every size is checked against gen.h's limits before it is
 * multiplied, so 64-bit arithmetic never overflows. Parameter names follow
 * PyTorch's examples/vae (fc1, fc21, fc22, fc3, fc4) so checkpoints load
 * into its nn.Module: dense layers count fc1, fc2, ... through encoder, head
 * and decoder; the gaussian head takes the next number j and names its two
 * layers fc<j>1 and fc<j>2; convolutions are conv1.., transposed deconv1...
 *
 * A spec of several networks (general_nodes, below) builds instead: x and
 * the noise, each graph call's layers (names "<net>.<layer>", a second call
 * of a network sharing the first's parameters), each loss term's per-row
 * parts, their sums loss.<term> and total (loss.acc), and per update line
 * the forward nodes its terms need, the parameters it trains and its
 * terms' weights (g->upd), which grad.c and plan.c lower.
 */
#include <math.h>
#include <string.h>

#include "gen.h"

const char *const gen_op_names[GEN_OP_COUNT] = {
#define OP(e, name, ...) [VKVAE_OP_##e] = name,
#include "plan/ops.def"
#undef OP
    [GEN_OP_VIEW] = "view",
};

typedef struct builder {
    const gen_spec *s;
    gen_graph *g;
    gen_diag *d;
    int fc, conv, deconv, bn, add, cat, gate, onehot, edges, shift, embed, gru;
    int label;          /* one-hot label tensor or -1 */
    /* the general form: layer names are "<network>.<layer>", a call's
     * activations "<its output>/<layer>", and a second call of a network
     * finds the parameters (and batch norm's state) the first made */
    const char *prefix, *tag;
    size_t call_start;  /* tensors from here on are the current call's */
    int *taps;          /* the current call's tapped outputs */
    size_t n_taps, cap_taps;
    int input2;         /* the current call's second input (layers read it as
                           'input2'), or -1 */
    bool input2_read;
    /* semi-supervised ('unlabelled Q'): the label of each class's copy of a
     * row (class_rows, rows = classes), the copies' weights, and each call
     * on the copies' twin on the given label (given[k] of copies[k]) */
    int y_classes, label_wt;
    int *copies, *given;
    size_t n_twins, cap_twins;
    const gen_network *sample_net; /* the network of the call that makes the samples */
} builder;

static gen_dims flat(uint64_t n) { return (gen_dims){ 1, { (uint32_t)n, 0, 0, 0 } }; }

static int add_tensor(gen_graph *g, char *name, gen_role role, uint32_t rows, gen_dims dims)
{
    GROW(g->t, g->cap_t, g->nt + 1);
    g->t[g->nt] = (gen_tensor){ .name = name, .role = role, .dtype = "f32", .rows = rows,
        .dims = dims, .producer = -1, .alias = -1, .needs_grad = role == ROLE_PARAM, .grad = -1 };
    return (int)g->nt++;
}

/* The tensor of role role named name, or -1. */
static int find_named(const gen_graph *g, const char *name, gen_role role)
{
    for (size_t i = 0; i < g->nt; i++)
        if (g->t[i].role == role && strcmp(g->t[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A per-call activation's name: the layer's, tagged with the call. */
static char *act_name(const builder *b, const char *name)
{
    return b->tag ? xprintf("%s/%s", b->tag, name) : xstrndup(name, strlen(name));
}

static int add_param(builder *b, const char *layer, const char *what, gen_dims dims,
                     uint32_t fan_in)
{
    char *name = xprintf("%s.%s", layer, what);
    int shared = b->tag ? find_named(b->g, name, ROLE_PARAM) : -1;
    if (shared >= 0 && (size_t)shared < b->call_start)
        return shared;
    int t = add_tensor(b->g, name, ROLE_PARAM, 0, dims);
    b->g->t[t].init = b->s->init;
    b->g->t[t].fan_in = fan_in;
    b->g->n_params += dims_count(&dims);
    return t;
}

/* Appends a node; ins/outs end with -1. Outputs inherit needs_grad. */
static int add_node(builder *b, int op, const char *name, gen_loc loc, const int *ins,
                    const int *outs)
{
    gen_graph *g = b->g;
    GROW(g->n, g->cap_n, g->nn + 1);
    gen_node *n = &g->n[g->nn];
    *n = (gen_node){ .op = op, .name = xstrndup(name, strlen(name)), .loc = loc };
    bool grad = false;
    for (int i = 0; ins[i] >= 0; i++) {
        n->in[n->nin++] = ins[i];
        grad |= g->t[ins[i]].needs_grad;
    }
    for (int i = 0; outs[i] >= 0; i++) {
        n->out[n->nout++] = outs[i];
        g->t[outs[i]].producer = (int)g->nn;
        g->t[outs[i]].needs_grad = grad;
        /* an output of a sequence's rows is a sequence of its steps */
        for (int j = 0; j < n->nin && !g->t[outs[i]].steps; j++)
            if (g->t[n->in[j]].steps && g->t[n->in[j]].rows == g->t[outs[i]].rows)
                g->t[outs[i]].steps = g->t[n->in[j]].steps;
    }
    return (int)g->nn++;
}

static uint64_t rows_of(const builder *b, int t)
{
    return (uint64_t)b->g->batch * b->g->t[t].rows;
}

/* ---- layers ---- */

/* in ([n,dims]) repeated to k rows per row: [n*k,dims] */
static int repeat_rows(builder *b, int in, uint32_t k, const char *name, gen_loc loc)
{
    gen_tensor t = b->g->t[in];
    int out = add_tensor(b->g, xstrndup(name, strlen(name)), ROLE_ACT, t.rows * k, t.dims);
    int nd = add_node(b, VKVAE_OP_REPEAT_ROWS, name, loc, (int[]){ in, -1 }, (int[]){ out, -1 });
    gen_node *n = &b->g->n[nd];
    n->p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in), .in = (uint32_t)dims_count(&t.dims),
                              .samples = k };
    n->flops_fwd = rows_of(b, out) * dims_count(&t.dims);
    return out;
}

static int view(builder *b, int in, gen_dims dims, const char *suffix, gen_loc loc)
{
    gen_tensor *t = &b->g->t[in];
    int out = add_tensor(b->g, xprintf("%s.%s", t->name, suffix), ROLE_ACT, t->rows, dims);
    b->g->t[out].alias = in;
    add_node(b, GEN_OP_VIEW, suffix, loc, (int[]){ in, -1 }, (int[]){ out, -1 });
    return out;
}

static int concat_label(builder *b, int in, const char *which, gen_loc loc)
{
    gen_tensor *t = &b->g->t[in];
    uint32_t rows = t->rows, n_in = t->dims.d[0];
    uint64_t out_n = (uint64_t)n_in + b->s->classes;
    int out = add_tensor(b->g, act_name(b, xprintf("%s_cat", which)), ROLE_ACT, rows,
                         flat(out_n));
    int nd = add_node(b, VKVAE_OP_CONCAT, "concat", loc, (int[]){ in, b->label, -1 },
                      (int[]){ out, -1 });
    gen_node *n = &b->g->n[nd];
    n->p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, out), .in = n_in,
        .in2 = b->s->classes, .out = (uint32_t)out_n, .samples = rows };
    return out;
}

static bool fits(builder *b, const gen_layer *l, const gen_dims *dims, const char *what)
{
    for (int i = 0; i < dims->rank; i++)
        if (dims->d[i] < 1 || dims->d[i] > GEN_MAX_DIM) {
            char s[64];
            dims_format(s, sizeof s, dims);
            diag_error(b->d, l->loc, "%s output %s is out of range (each size 1 to %d)", what,
                       s, GEN_MAX_DIM);
            return false;
        }
    if (dims_count(dims) > GEN_MAX_FEATURES) {
        diag_error(b->d, l->loc, "%s output has more than %d values per example", what,
                   GEN_MAX_FEATURES);
        return false;
    }
    return true;
}

/* conv output size along one axis, or -1 after reporting why not whole */
static int64_t conv_out(builder *b, const gen_layer *l, uint32_t in, const char *axis)
{
    int64_t num = (int64_t)in + 2 * (int64_t)l->pad - l->k;
    if (num < 0) {
        diag_error(b->d, l->loc, "conv2d kernel %u is larger than the padded input %s %u + 2*%u",
                   l->k, axis, in, l->pad);
        return -1;
    }
    if (num % l->stride) {
        diag_error(b->d, l->loc, "conv2d arithmetic is not whole: %s (%u + 2*%u - %u) / %u = "
                   "%lld/%u; change kernel, stride or pad", axis, in, l->pad, l->k, l->stride,
                   (long long)num, l->stride);
        return -1;
    }
    return num / l->stride + 1;
}

/* FLOP counts saturate instead of wrapping: a fuzzed spec may ask for 2^72 */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void layer_flops(builder *b, gen_node *n, uint64_t macs, uint64_t outs)
{
    bool dx = b->g->t[n->in[0]].needs_grad;
    bool act = n->p.act != VKVAE_ACT_NONE;
    uint64_t m2 = mul_sat(2, macs);
    n->flops_fwd = add_sat(add_sat(m2, outs), act ? outs : 0);
    n->flops_bwd = add_sat(add_sat(add_sat(m2, outs), dx ? m2 : 0), act ? 2 * outs : 0);
}

/* A layer's bias: a parameter, or with 'nobias' zeros no step writes (the
 * kernels add a bias binding either way; its gradient goes unread). */
static int layer_bias(builder *b, const gen_layer *l, const char *name, uint32_t units,
                      uint32_t fan_in)
{
    if (!l->nobias)
        return add_param(b, name, "bias", flat(units), fan_in);
    return add_tensor(b->g, xprintf("%s.nobias", name), ROLE_CONST, 0, flat(units));
}

/* 'mask A|B' on a conv2d (PixelCNN): its weight w is masked in place by
 * the forward before the convolution reads it (once, by the first call of
 * a shared network; grad.c masks its gradient), so an output pixel sees
 * only the pixels before it in raster order (and itself, mask B). That
 * holds only where the output grid is the input's. */
static bool masked_weight(builder *b, const gen_layer *l, int w, const vkvae_op_params *p)
{
    gen_graph *g = b->g;
    if (l->k % 2 == 0 || l->stride != 1 || l->pad != l->k / 2) {
        diag_error(b->d, l->mask_loc, "'mask %c' needs an odd kernel, stride 1 and pad "
                   "(kernel - 1)/2 (here kernel %u, stride %u, pad %u): output pixel i must "
                   "see the input's pixels before i", l->mask, l->k, l->stride, l->pad);
        return false;
    }
    if (g->t[w].producer >= 0)
        return true; /* a second call: the first masked it */
    int nd = add_node(b, VKVAE_OP_CONV_MASK, xprintf("%s.mask", g->t[w].name), l->mask_loc,
                      (int[]){ -1 }, (int[]){ w, -1 });
    g->t[w].needs_grad = true; /* (add_node took it from the inputs: none) */
    g->n[nd].p = (vkvae_op_params){ .c_out = p->c_out, .c_in = p->c_in, .k = l->k,
                                    .mode = l->mask == 'B' };
    g->n[nd].flops_fwd = dims_count(&g->t[w].dims);
    return true;
}

/* 'gate': PixelCNN's gated activation, tanh(a) * sigmoid(b) of the two
 * halves of the channels (feature maps) or features (flat). */
static int gate_layer(builder *b, const gen_layer *l, int in)
{
    gen_graph *g = b->g;
    gen_dims d = g->t[in].dims;
    if (d.rank < 1 || d.d[0] % 2) {
        char s[64];
        dims_format(s, sizeof s, &d);
        diag_error(b->d, l->loc, "'gate' halves the channels (or features) of %s: it needs an "
                   "even number", s);
        return -1;
    }
    d.d[0] /= 2;
    char *name = xprintf("%sgate%d", b->prefix ? b->prefix : "", ++b->gate);
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, g->t[in].rows, d);
    int nd = add_node(b, VKVAE_OP_GATE, name, l->loc, (int[]){ in, -1 }, (int[]){ out, -1 });
    uint64_t values = rows_of(b, out) * dims_count(&d);
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in), .in = (uint32_t)dims_count(&d) };
    g->n[nd].flops_fwd = 4 * values;
    g->n[nd].flops_bwd = g->t[out].needs_grad ? 8 * values : 0;
    return out;
}

/* A fixed layer's step (no parameters): op from in to a tensor of dims,
 * named <what><++*count>; *node is its node. It passes no gradient, so it
 * reads data (x), not what trained layers make: -1 with an error else. */
static int fixed_layer(builder *b, const gen_layer *l, int in, const char *what, int *count,
                       int op, gen_dims dims, int *node)
{
    gen_graph *g = b->g;
    if (g->t[in].needs_grad) {
        diag_error(b->d, l->loc, "'%s' passes no gradient: it reads the data (x), not the "
                   "output of trained layers", what);
        return -1;
    }
    char *name = xprintf("%s%s%d", b->prefix ? b->prefix : "", what, ++*count);
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, g->t[in].rows, dims);
    *node = add_node(b, op, name, l->loc, (int[]){ in, -1 }, (int[]){ out, -1 });
    g->t[out].needs_grad = false;
    return out;
}

/* 'onehot L': a one-channel grid of levels (a codes prior's input: code k
 * read as k/(L-1)) to L channels, 1 at each value's level; the layer after
 * it acts as an embedding of the levels. Piecewise constant: a fixed
 * layer. */
static int onehot_layer(builder *b, const gen_layer *l, int in)
{
    gen_graph *g = b->g;
    gen_dims d = g->t[in].dims;
    char s[64];
    dims_format(s, sizeof s, &d);
    if (d.rank != 3 || d.d[0] != 1) {
        diag_error(b->d, l->loc, "'onehot' reads one channel of levels (1xHxW), not %s", s);
        return -1;
    }
    d.d[0] = l->units;
    int nd, out = fixed_layer(b, l, in, "onehot", &b->onehot, VKVAE_OP_ONEHOT, d, &nd);
    if (out >= 0)
        g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in),
                                        .in = (uint32_t)dims_count(&g->t[in].dims),
                                        .classes = l->units };
    return out;
}

/* 'edges [threshold T]': the Sobel gradient magnitude of a CxHxW image's
 * channel mean, 1xHxW (zero padded), or 1 where it exceeds T: a fixed
 * layer (a Variational U-Net's shape of x). */
static int edges_layer(builder *b, const gen_layer *l, int in)
{
    gen_graph *g = b->g;
    gen_dims d = g->t[in].dims;
    char s[64];
    dims_format(s, sizeof s, &d);
    if (d.rank != 3) {
        diag_error(b->d, l->loc, "'edges' reads an image (CxHxW), not %s", s);
        return -1;
    }
    uint32_t c = d.d[0];
    d.d[0] = 1;
    int nd, out = fixed_layer(b, l, in, "edges", &b->edges, VKVAE_OP_SOBEL, d, &nd);
    if (out >= 0)
        g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in), .c_in = c,
                                        .h_in = d.d[1], .w_in = d.d[2],
                                        .mode = l->threshold > 0, .alpha = l->threshold };
    return out;
}

/* ---- sequences (text) ----
 * A sequence of T steps of F values is a tensor of dims [F] and T rows a
 * row (steps = T): per-step layers (dense, activations, add, concat) are
 * then the layers they are over n*T rows. x of a text input is the tokens,
 * one value a step ([T], levels), which only shift and embed read. */

/* Whether in holds a text input's tokens: x, or x shifted. */
static bool reads_tokens(builder *b, const gen_layer *l, int in, const char *what)
{
    gen_graph *g = b->g;
    int root = tensor_root(g, in), pn = g->t[root].producer;
    bool tokens = b->s->vocab && (root == g->x || (pn >= 0 && g->n[pn].op ==
                                                   VKVAE_OP_SHIFT_TOKENS));
    if (!tokens)
        diag_error(b->d, l->loc, "'%s' reads the tokens of a text input (an 'input T vocab V' "
                   "line's x, or 'shift' of it)", what);
    return tokens;
}

/* 'shift [dropout P]': a decoder's inputs under teacher forcing, <bos> then
 * the tokens one step later, each word <unk> with probability P in training
 * (word dropout: Bowman et al. 2016). The decoder sees tokens before the
 * one it predicts, so its network samples a step at a time. */
static int shift_layer(builder *b, const gen_layer *l, int in)
{
    gen_graph *g = b->g;
    if (!reads_tokens(b, l, in, "shift"))
        return -1;
    int nd, out = fixed_layer(b, l, in, "shift", &b->shift, VKVAE_OP_SHIFT_TOKENS, g->t[in].dims,
                              &nd);
    if (out >= 0) {
        g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in),
                                        .in = (uint32_t)dims_count(&g->t[in].dims),
                                        .classes = b->s->vocab, .alpha = (float)l->dropout,
                                        .stream = VKVAE_STREAM_WORD_DROPOUT };
        g->n[nd].flops_fwd = 2 * rows_of(b, in) * g->n[nd].p.in;
    }
    return out;
}

/* 'embed E': each token's row of a table [vocab, E] (nn.Embedding), a
 * sequence of T steps of E. */
static int embed_layer(builder *b, const gen_layer *l, int in)
{
    gen_graph *g = b->g;
    if (!reads_tokens(b, l, in, "embed"))
        return -1;
    uint32_t T = (uint32_t)dims_count(&g->t[in].dims), V = b->s->vocab;
    char *name = xprintf("%sembed%d", b->prefix ? b->prefix : "", ++b->embed);
    int w = add_param(b, name, "weight", (gen_dims){ 2, { V, l->units, 0, 0 } }, l->units);
    g->t[w].init = INIT_NORMAL; /* (nn.Embedding's, whatever the spec's init) */
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, g->t[in].rows * T, flat(l->units));
    g->t[out].steps = T;
    int nd = add_node(b, VKVAE_OP_EMBEDDING, name, l->loc, (int[]){ in, w, -1 },
                      (int[]){ out, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, in), .in = T, .out = l->units,
                                    .classes = V };
    g->n[nd].flops_fwd = rows_of(b, out) * l->units;
    g->n[nd].flops_bwd = g->n[nd].flops_fwd;
    return out;
}

/* 'gru H [last]': nn.GRU (one layer, zero initial state) over a sequence's
 * steps: its input projection for every step at once (a dense layer over
 * n*T rows, weight_ih_l0 and bias_ih_l0), then the recurrence (gru: a
 * workgroup a row steps through T in order). Its states as a sequence of
 * H, or with 'last' the last state alone. */
static int gru_layer(builder *b, const gen_layer *l, int in, const char *name)
{
    gen_graph *g = b->g;
    const gen_tensor t = g->t[in];
    if (!t.steps || t.dims.rank != 1) {
        char s[64];
        dims_format(s, sizeof s, &t.dims);
        diag_error(b->d, l->loc, "'gru' reads a sequence (a step's values flat: 'embed' "
                   "makes one), got %s%s", s, t.steps ? " a step" : "");
        return -1;
    }
    uint32_t H = l->units, F = t.dims.d[0], T = t.steps;
    uint64_t R = rows_of(b, in), n = R / T;
    /* (nn.GRU's start, whatever the spec's init: U(-b, b), b = 1/sqrt(H)) */
    int w_ih = add_param(b, name, "weight_ih_l0", (gen_dims){ 2, { 3 * H, F, 0, 0 } }, H);
    int b_ih = add_param(b, name, "bias_ih_l0", flat(3 * H), H);
    int w_hh = add_param(b, name, "weight_hh_l0", (gen_dims){ 2, { 3 * H, H, 0, 0 } }, H);
    int b_hh = add_param(b, name, "bias_hh_l0", flat(3 * H), H);
    g->t[w_ih].init = g->t[b_ih].init = g->t[w_hh].init = g->t[b_hh].init = INIT_PYTORCH;
    int gi = add_tensor(g, act_name(b, xprintf("%s.gi", name)), ROLE_ACT, t.rows, flat(3 * H));
    int nd = add_node(b, VKVAE_OP_DENSE, xprintf("%s_ih", name), l->loc,
                      (int[]){ in, w_ih, b_ih, -1 }, (int[]){ gi, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)R, .in = F, .out = 3 * H };
    layer_flops(b, &g->n[nd], mul_sat(R, (uint64_t)F * 3 * H), R * 3 * H);
    int h0 = add_tensor(g, xprintf("%s.h0", name), ROLE_CONST, t.rows / T, flat(H));
    int h = add_tensor(g, act_name(b, name), ROLE_ACT, t.rows, flat(H));
    int last = add_tensor(g, act_name(b, xprintf("%s.last", name)), ROLE_ACT, t.rows / T,
                          flat(H));
    int hp = add_tensor(g, act_name(b, xprintf("%s.hp", name)), ROLE_ACT, t.rows, flat(H));
    int gates = add_tensor(g, act_name(b, xprintf("%s.gates", name)), ROLE_ACT, t.rows,
                           flat(4 * H));
    nd = add_node(b, VKVAE_OP_GRU, name, l->loc, (int[]){ gi, w_hh, b_hh, h0, -1 },
                  (int[]){ h, last, hp, gates, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)n, .in = T, .out = H };
    g->n[nd].flops_fwd = mul_sat(R, 6ull * H * H + 14ull * H);
    g->n[nd].flops_bwd = mul_sat(R, 12ull * H * H + 20ull * H);
    return l->last ? last : h;
}

static int param_layer(builder *b, const gen_layer *l, int in, const char *name, bool no_act)
{
    gen_graph *g = b->g;
    gen_tensor t = g->t[in];
    char s[64];
    dims_format(s, sizeof s, &t.dims);
    uint64_t R = rows_of(b, in);
    vkvae_op_params p = { .n = (uint32_t)R, .act = no_act ? VKVAE_ACT_NONE : l->act,
                          .alpha = no_act ? 0 : (l->act == VKVAE_ACT_LEAKY_RELU ? l->slope : 0) };
    if (l->kind == LAYER_DENSE) {
        if (t.dims.rank != 1) {
            diag_error(b->d, l->loc, "'dense' needs a flat input, got %s; add 'flatten' before it", s);
            return -1;
        }
        p.in = t.dims.d[0];
        p.out = l->units;
        int w = add_param(b, name, "weight", (gen_dims){ 2, { l->units, p.in, 0, 0 } }, p.in);
        int bias = layer_bias(b, l, name, l->units, p.in);
        int out = add_tensor(g, act_name(b, name), ROLE_ACT, t.rows, flat(l->units));
        int nd = add_node(b, VKVAE_OP_DENSE, name, l->loc, (int[]){ in, w, bias, -1 },
                          (int[]){ out, -1 });
        g->n[nd].p = p;
        layer_flops(b, &g->n[nd], mul_sat(R, (uint64_t)p.in * p.out), R * p.out);
        return out;
    }
    const char *op = l->kind == LAYER_CONV2D ? "conv2d" : "convt2d";
    if (t.dims.rank != 3) {
        diag_error(b->d, l->loc, "'%s' needs a CxHxW input, got %s; add 'reshape' before it",
                   op, s);
        return -1;
    }
    p.c_in = t.dims.d[0], p.h_in = t.dims.d[1], p.w_in = t.dims.d[2];
    p.c_out = l->units, p.k = l->k, p.stride = l->stride, p.pad = l->pad, p.out_pad = l->out_pad;
    int64_t ho, wo;
    if (l->kind == LAYER_CONV2D) {
        ho = conv_out(b, l, p.h_in, "height");
        wo = ho < 0 ? -1 : conv_out(b, l, p.w_in, "width");
    } else {
        ho = ((int64_t)p.h_in - 1) * l->stride - 2 * (int64_t)l->pad + l->k + l->out_pad;
        wo = ((int64_t)p.w_in - 1) * l->stride - 2 * (int64_t)l->pad + l->k + l->out_pad;
        if (ho < 1 || wo < 1) {
            diag_error(b->d, l->loc, "convt2d output would be %lldx%lld: (%u - 1)*%u - 2*%u + %u + %u"
                       " is below 1; lower pad", (long long)ho, (long long)wo, p.h_in,
                       l->stride, l->pad, l->k, l->out_pad);
            return -1;
        }
    }
    if (ho < 0 || wo < 0 || ho > GEN_MAX_DIM || wo > GEN_MAX_DIM) {
        if (ho > GEN_MAX_DIM || wo > GEN_MAX_DIM)
            diag_error(b->d, l->loc, "%s output is larger than %d", op, GEN_MAX_DIM);
        return -1;
    }
    p.h_out = (uint32_t)ho, p.w_out = (uint32_t)wo;
    gen_dims od = { 3, { p.c_out, p.h_out, p.w_out, 0 } };
    if (!fits(b, l, &od, op))
        return -1;
    bool tr = l->kind == LAYER_CONVT2D;
    /* PyTorch: conv weight [c_out,c_in,k,k]; transposed [c_in,c_out,k,k]; its
     * default init takes fan_in from dim 1, so c_out*k*k for a transposed conv */
    gen_dims wd = { 4, { tr ? p.c_in : p.c_out, tr ? p.c_out : p.c_in, l->k, l->k } };
    uint32_t fan_in = wd.d[1] * l->k * l->k;
    int w = add_param(b, name, "weight", wd, fan_in);
    if (l->mask && !masked_weight(b, l, w, &p))
        return -1;
    int bias = layer_bias(b, l, name, p.c_out, fan_in);
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, t.rows, od);
    int nd = add_node(b, tr ? VKVAE_OP_CONVT2D : VKVAE_OP_CONV2D, name, l->loc,
                      (int[]){ in, w, bias, -1 }, (int[]){ out, -1 });
    if (l->mask) /* its backward ops inherit it: a backend may skip the zero taps */
        p.mode = l->mask == 'B' ? 2 : 1;
    g->n[nd].p = p;
    uint64_t macs = mul_sat(mul_sat(R, (uint64_t)l->k * l->k),
                            tr ? (uint64_t)p.c_in * p.h_in * p.w_in * p.c_out
                               : (uint64_t)p.c_out * p.h_out * p.w_out * p.c_in);
    layer_flops(b, &g->n[nd], macs, R * dims_count(&od));
    return out;
}

/* A residual layer's output: its input added back, out + in, where the two
 * have one shape (a block of ResNet's kind, its activation on the layer). */
static int residual_add(builder *b, const gen_layer *l, int in, int out, const char *name)
{
    gen_graph *g = b->g;
    const gen_dims xd = g->t[in].dims, yd = g->t[out].dims;
    bool same = xd.rank == yd.rank;
    for (int i = 0; same && i < xd.rank; i++)
        same = xd.d[i] == yd.d[i];
    if (!same) {
        char x[64], y[64];
        dims_format(x, sizeof x, &xd);
        dims_format(y, sizeof y, &yd);
        diag_error(b->d, l->residual_loc, "'residual' adds layer '%s''s input %s to its "
                   "output %s: they must have one shape", name, x, y);
        return -1;
    }
    int sum = add_tensor(g, act_name(b, xprintf("%s.residual", name)), ROLE_ACT, g->t[out].rows, yd);
    int nd = add_node(b, VKVAE_OP_ADD, xprintf("%s_residual", name), l->residual_loc,
                      (int[]){ out, in, -1 }, (int[]){ sum, -1 });
    uint64_t values = rows_of(b, out) * dims_count(&yd);
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, out),
                                    .in = (uint32_t)dims_count(&yd) };
    g->n[nd].flops_fwd = values;
    g->n[nd].flops_bwd = g->t[sum].needs_grad ? values : 0; /* the gradients' sum */
    return sum;
}

/* 'add NAME' (act(cur + ref), one shape) or 'concat NAME' ([cur | ref]
 * per row: channels of feature maps of one height and width, or flat
 * features; a row's CxHxW values are its channels one after another, so
 * either is concat's row append). */
static int join_layer(builder *b, const gen_layer *l, int cur, int ref, const char *name)
{
    gen_graph *g = b->g;
    const gen_dims xd = g->t[cur].dims, rd = g->t[ref].dims;
    bool add = l->kind == LAYER_ADD;
    bool same = xd.rank == rd.rank;
    for (int i = add ? 0 : 1; same && i < xd.rank; i++)
        same = xd.d[i] == rd.d[i];
    if (!same || g->t[cur].rows != g->t[ref].rows) {
        char x[64], r[64];
        dims_format(x, sizeof x, &xd);
        dims_format(r, sizeof r, &rd);
        diag_error(b->d, l->ref_loc, add ? "'add %s' adds %s to %s: they must have one shape"
                   : "'concat %s' appends %s to %s: they must both be flat, or feature maps "
                     "of one height and width", l->ref, r, x);
        return -1;
    }
    gen_dims od = xd;
    od.d[0] += rd.d[0];
    if (!add && !fits(b, l, &od, "the concatenation"))
        return -1;
    uint64_t R = rows_of(b, cur), values = R * dims_count(add ? &xd : &od);
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, g->t[cur].rows, add ? xd : od);
    int nd = add_node(b, add ? VKVAE_OP_ADD : VKVAE_OP_CONCAT, name, l->loc,
                      (int[]){ cur, ref, -1 }, (int[]){ out, -1 });
    gen_node *n = &g->n[nd];
    if (add)
        n->p = (vkvae_op_params){ .n = (uint32_t)R, .in = (uint32_t)dims_count(&xd),
            .act = l->act, .alpha = l->act == VKVAE_ACT_LEAKY_RELU ? l->slope : 0 };
    else
        n->p = (vkvae_op_params){ .n = (uint32_t)R, .in = (uint32_t)dims_count(&xd),
            .in2 = (uint32_t)dims_count(&rd), .out = (uint32_t)dims_count(&od), .samples = 1 };
    /* the sum (and activation), or the copy; backward: the same again */
    n->flops_fwd = add ? values * (l->act ? 2 : 1) : 0;
    n->flops_bwd = g->t[out].needs_grad ? n->flops_fwd : 0;
    return out;
}

static char *auto_name(builder *b, const gen_layer *l)
{
    const char *pre = b->prefix ? b->prefix : "";
    char *gen = l->kind == LAYER_DENSE    ? xprintf("%sfc%d", pre, ++b->fc)
              : l->kind == LAYER_CONV2D   ? xprintf("%sconv%d", pre, ++b->conv)
              : l->kind == LAYER_BATCHNORM ? xprintf("%sbn%d", pre, ++b->bn)
              : l->kind == LAYER_ADD      ? xprintf("%sadd%d", pre, ++b->add)
              : l->kind == LAYER_CONCAT   ? xprintf("%scat%d", pre, ++b->cat)
                                          : xprintf("%sdeconv%d", pre, ++b->deconv);
    return !l->name ? gen : b->prefix ? xprintf("%s%s", pre, l->name) : l->name;
}

/* Batch normalisation of in over its channels (CxHxW: C of H*W values a
 * row, BatchNorm2d) or features (flat: BatchNorm1d), PyTorch's names: the
 * parameters <name>.weight and .bias (a rank-1 weight starts at 1,
 * plan/init.c), the state <name>.running_mean and .running_var; the batch
 * statistics the backward reads (mean, 1/std) are activations. */
static int batchnorm_layer(builder *b, const gen_layer *l, int in, const char *name)
{
    gen_graph *g = b->g;
    gen_tensor t = g->t[in];
    uint32_t c = t.dims.rank == 3 ? t.dims.d[0] : (uint32_t)dims_count(&t.dims);
    uint32_t per = (uint32_t)(dims_count(&t.dims) / c);
    int gamma = add_param(b, name, "weight", flat(c), 0);
    int beta = add_param(b, name, "bias", flat(c), 0);
    g->t[gamma].init = INIT_ONE;
    g->t[beta].init = INIT_ZERO;
    int out = add_tensor(g, act_name(b, name), ROLE_ACT, t.rows, t.dims);
    int mean = add_tensor(g, act_name(b, xprintf("%s.mean", name)), ROLE_ACT, 0, flat(c));
    int rstd = add_tensor(g, act_name(b, xprintf("%s.rstd", name)), ROLE_ACT, 0, flat(c));
    char *rm = xprintf("%s.running_mean", name), *rv = xprintf("%s.running_var", name);
    int rmean = b->tag ? find_named(g, rm, ROLE_STATE) : -1;
    int rvar = b->tag ? find_named(g, rv, ROLE_STATE) : -1;
    if (rmean < 0 || (size_t)rmean >= b->call_start)
        rmean = add_tensor(g, rm, ROLE_STATE, 0, flat(c));
    if (rvar < 0 || (size_t)rvar >= b->call_start)
        rvar = add_tensor(g, rv, ROLE_STATE, 0, flat(c));
    int nd = add_node(b, VKVAE_OP_BATCHNORM, name, l->loc, (int[]){ in, gamma, beta, -1 },
                      (int[]){ out, mean, rstd, rmean, rvar, -1 });
    for (int k = 1; k < 5; k++)
        g->t[g->n[nd].out[k]].needs_grad = false;
    uint64_t R = rows_of(b, in);
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)R, .c_in = c, .in = per, .act = l->act,
        .alpha = l->act == VKVAE_ACT_LEAKY_RELU ? l->slope : 0,
        .momentum = (float)l->momentum, .eps = (float)l->eps };
    uint64_t values = R * dims_count(&t.dims);
    g->n[nd].flops_fwd = 8 * values;
    g->n[nd].flops_bwd = 10 * values;
    return out;
}

static int simple_reparam(builder *b, int mu, int lv, uint32_t units, gen_loc loc);

/* 'gaussian N', a network's last layer: dense heads <net>.mu and
 * <net>.logvar on the flat input, and z = mu + exp(logvar/2)*eps, the
 * network's output (a kl part reads its mu and logvar). */
static int gaussian_layer(builder *b, const gen_layer *l, int in, bool last, const char *which)
{
    if (!b->tag) {
        diag_error(b->d, l->loc, "'gaussian' ends a network of a spec with 'network' sections; "
                   "the one-network form declares 'latent N gaussian'");
        return -1;
    }
    if (!last) {
        diag_error(b->d, l->loc, "'gaussian' is the last layer of network '%s'", which);
        return -1;
    }
    if (b->g->t[in].steps) {
        diag_error(b->d, l->loc, "'gaussian' reads an example's features, not a sequence of "
                   "%u steps: 'gru H last' gives a sequence's last state", b->g->t[in].steps);
        return -1;
    }
    gen_layer head = { .kind = LAYER_DENSE, .loc = l->loc, .units = l->units };
    int mu = param_layer(b, &head, in, xprintf("%smu", b->prefix), true);
    int lv = mu < 0 ? -1 : param_layer(b, &head, in, xprintf("%slogvar", b->prefix), true);
    return lv < 0 ? -1 : simple_reparam(b, mu, lv, l->units, l->loc);
}

/* A state tensor (kept across steps, not trained) of this network: the
 * one an earlier call made, or a new one. */
static int state_tensor(builder *b, char *name, gen_dims dims)
{
    int t = b->tag ? find_named(b->g, name, ROLE_STATE) : -1;
    return t >= 0 && (size_t)t < b->call_start ? t : add_tensor(b->g, name, ROLE_STATE, 0, dims);
}

/* 'codebook K', a network's last layer (VQ-VAE): K codes of the input's
 * channels (CxHxW: a code of C values a position; flat: one code of all
 * its values), the parameter <net>.codebook.weight [K, C] (a dense
 * layer's initialisation: U(-1/sqrt(C), 1/sqrt(C))). The output zq holds
 * each position's nearest code; its gradient passes to the input as it
 * is (straight-through, gen/grad.c); a 'vq' loss part trains the codes. */
static int codebook_layer(builder *b, const gen_layer *l, int in, bool last, const char *which)
{
    gen_graph *g = b->g;
    if (!b->tag) {
        diag_error(b->d, l->loc, "'codebook' ends a network of a spec with 'network' sections");
        return -1;
    }
    if (g->t[in].steps) {
        diag_error(b->d, l->loc, "'codebook' over a sequence's steps is not built yet");
        return -1;
    }
    if (!last) {
        diag_error(b->d, l->loc, "'codebook' is the last layer of network '%s'", which);
        return -1;
    }
    const gen_dims d = g->t[in].dims;
    uint32_t c = d.rank == 3 ? d.d[0] : (uint32_t)dims_count(&d);
    uint32_t positions = (uint32_t)(dims_count(&d) / c);
    gen_dims ed = { 2, { l->units, c, 0, 0 } };
    /* codes by EMA: state, not a parameter (no gradient, no optimizer) */
    int e = l->ema ? state_tensor(b, xprintf("%scodebook.weight", b->prefix), ed)
                   : add_param(b, xprintf("%scodebook", b->prefix), "weight", ed, c);
    int zq = add_tensor(g, act_name(b, xprintf("%scodebook", b->prefix)), ROLE_ACT,
                        g->t[in].rows, d);
    int idx = add_tensor(g, act_name(b, xprintf("%scodebook.index", b->prefix)), ROLE_ACT,
                         g->t[in].rows, flat(positions));
    int nd = add_node(b, VKVAE_OP_VQ_NEAREST, xprintf("%scodebook", b->prefix), l->loc,
                      (int[]){ in, e, -1 }, (int[]){ zq, idx, -1 });
    g->t[idx].needs_grad = false;
    uint64_t R = rows_of(b, in);
    /* alpha, mode: beta and whether the codes are EMAs, for the vq part
     * that reads this node */
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)R, .c_in = c, .in = positions,
                                    .classes = l->units, .alpha = (float)l->beta,
                                    .mode = l->ema > 0 };
    g->n[nd].flops_fwd = 3 * R * dims_count(&d) * l->units;
    /* the codebook gradient's scan (the straight-through adds nothing) */
    g->n[nd].flops_bwd = 3 * R * dims_count(&d);
    /* the codes' usage over a pass (usage.<call>: perplexity, dead codes) */
    int usage = add_tensor(g, xprintf("usage.%s", b->tag), ROLE_LOSS, 0, flat(l->units));
    int cn = add_node(b, VKVAE_OP_VQ_COUNT, xprintf("%scodebook_usage", b->prefix), l->loc,
                      (int[]){ idx, -1 }, (int[]){ usage, -1 });
    g->n[cn].p = (vkvae_op_params){ .n = (uint32_t)R, .in = positions, .classes = l->units };
    g->t[usage].needs_grad = false;
    g->n[cn].flops_fwd = R * positions;
    if (l->restart) { /* after the step: codes no position chose move onto a z_e */
        int rn = add_node(b, VKVAE_OP_VQ_RESTART, xprintf("%scodebook_restart", b->prefix),
                          l->restart_loc, (int[]){ in, idx, -1 }, (int[]){ e, -1 });
        g->n[rn].p = (vkvae_op_params){ .n = (uint32_t)R, .c_in = c, .in = positions,
                                        .classes = l->units, .stream = VKVAE_STREAM_RESTART };
        g->n[rn].flops_fwd = R * positions;
        g->t[e].producer = -1; /* a leaf to the calls: vq_nearest reads it */
    }
    if (l->ema) { /* the moving count and sum of each code's positions, then the codes */
        int count = state_tensor(b, xprintf("%scodebook.ema_count", b->prefix), flat(l->units));
        int sum = state_tensor(b, xprintf("%scodebook.ema_sum", b->prefix), ed);
        vkvae_op_params p = { .n = (uint32_t)R, .c_in = c, .in = positions,
                              .classes = l->units, .momentum = (float)(1 - l->ema),
                              .eps = 1e-5f };
        int en = add_node(b, VKVAE_OP_VQ_EMA, xprintf("%scodebook_ema", b->prefix), l->loc,
                          (int[]){ in, idx, -1 }, (int[]){ count, sum, -1 });
        g->n[en].p = p;
        g->n[en].flops_fwd = 3 * R * positions * (c + 1);
        int un = add_node(b, VKVAE_OP_VQ_EMA_CODES, xprintf("%scodebook_ema_codes", b->prefix),
                          l->loc, (int[]){ count, sum, -1 }, (int[]){ e, -1 });
        g->n[un].p = p;
        g->n[un].flops_fwd = 3 * (uint64_t)l->units * c;
        g->t[e].producer = -1; /* a leaf to the calls: vq_nearest reads it */
        g->t[count].needs_grad = g->t[sum].needs_grad = g->t[e].needs_grad = false;
    }
    return zq;
}

typedef struct layer_out {
    const char *name;   /* without the network's prefix: conv1, b1 */
    gen_loc loc;
    int t;              /* the output, as the next layer reads it */
} layer_out;

/* The tensor an add or concat layer reads: an earlier named layer's output
 * in this stack, or 'input' (the stack's input); -1 after an error. */
static int find_layer_out(builder *b, const layer_out *outs, size_t n, int input,
                          const gen_layer *l, const char *which)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(outs[k].name, l->ref) == 0)
            return outs[k].t;
    if (strcmp(l->ref, "input") == 0)
        return input;
    if (strcmp(l->ref, "input2") == 0 && b->input2 >= 0) {
        b->input2_read = true;
        return b->input2;
    }
    if (strcmp(l->ref, "input2") == 0) {
        diag_error(b->d, l->ref_loc, "'input2' is a call's second input: this call of network "
                   "'%s' reads one tensor (a graph line 'OUT = %s IN IN2' gives two)", which,
                   which);
        return -1;
    }
    char known[256] = "";
    size_t o = 0;
    for (size_t k = 0; k < n && o < sizeof known; k++)
        o += (size_t)snprintf(known + o, sizeof known - o, "%s, ", outs[k].name);
    const char *where = b->tag ? xprintf("network '%s'", which) : xprintf("the %s", which);
    diag_error(b->d, l->ref_loc, "no layer before this one in %s is named '%s' (%sor "
               "'input', its input, or 'input2', its second)", where, l->ref, known);
    return -1;
}

static int root_producer(const gen_graph *g, int t)
{
    while (g->t[t].alias >= 0)
        t = g->t[t].alias;
    return g->t[t].producer;
}

/* Runs one stack from tensor cur; returns the output or -1 after an error.
 * With twin_lv, the stack's last parametric layer also gets a twin without
 * activation whose output (through the same views) is returned in *lv. */
static int run_stack(builder *b, const gen_stack *st, int cur, const char *which, bool twin_lv,
                     int *lv)
{
    gen_graph *g = b->g;
    size_t first_node = g->nn;
    bool explicit_cat = false, cat_done = false;
    int last_param = -1;
    for (size_t i = 0; i < st->n; i++) {
        if (st->layers[i].kind == LAYER_CONCAT_LABEL)
            explicit_cat = true;
        if (st->layers[i].kind <= LAYER_CONVT2D)
            last_param = (int)i;
    }
    gen_loc end_loc = st->n ? st->layers[st->n - 1].loc : st->loc;
    /* the named layers' outputs so far, which add and concat read */
    layer_out *outs = xmalloc((st->n + 1) * sizeof *outs);
    size_t n_outs = 0;
    const int input = cur;
    for (size_t i = 0; i <= st->n; i++) {
        const gen_tensor *t = &g->t[cur];
        /* the one-network form joins the label to the first flat tensor
         * unless a layer says where; networks of a general spec say it */
        if (b->label >= 0 && !b->s->general && !explicit_cat && !cat_done &&
            t->dims.rank == 1) {
            cur = concat_label(b, cur, which, i < st->n ? st->layers[i].loc : end_loc);
            cat_done = true;
            t = &g->t[cur];
        }
        if (i == st->n)
            break;
        const gen_layer *l = &st->layers[i];
        const gen_dims td = t->dims; /* t dangles once tensors are added */
        const char *named_as = NULL; /* a named layer's (prefixed) name */
        char s[64];
        dims_format(s, sizeof s, &td);
        switch (l->kind) {
        case LAYER_DENSE:
        case LAYER_CONV2D:
        case LAYER_CONVT2D: {
            char *name = auto_name(b, l);
            named_as = name;
            int in = cur;
            cur = param_layer(b, l, in, name, false);
            if (cur >= 0 && twin_lv && (int)i == last_param)
                *lv = param_layer(b, l, in, xprintf("%s_logvar", name), true);
            if (cur >= 0 && l->residual && twin_lv && (int)i == last_param) {
                diag_error(b->d, l->residual_loc, "'residual' on the %s's last layer, which "
                           "predicts the variance too: put the residual layer before it",
                           which);
                return -1;
            }
            if (cur >= 0 && l->residual)
                cur = residual_add(b, l, in, cur, name);
            break;
        }
        case LAYER_BATCHNORM:
            named_as = auto_name(b, l);
            cur = batchnorm_layer(b, l, cur, named_as);
            break;
        case LAYER_ADD:
        case LAYER_CONCAT: {
            if (*lv >= 0) {
                diag_error(b->d, l->loc, "'%s' after the %s's last layer, which predicts the "
                           "variance too: put it before that layer", l->kind == LAYER_ADD
                           ? "add" : "concat", which);
                return -1;
            }
            int ref = find_layer_out(b, outs, n_outs, input, l, which);
            named_as = auto_name(b, l);
            /* one row of a sequence's (its latent) beside each of its steps */
            if (ref >= 0 && g->t[cur].steps && !g->t[ref].steps &&
                g->t[ref].rows * g->t[cur].steps == g->t[cur].rows) {
                ref = repeat_rows(b, ref, g->t[cur].steps, act_name(b, xprintf("%s.steps",
                                  named_as)), l->ref_loc);
                g->t[ref].steps = g->t[cur].steps;
            }
            cur = ref < 0 ? -1 : join_layer(b, l, cur, ref, named_as);
            break;
        }
        case LAYER_SHIFT:
            cur = shift_layer(b, l, cur);
            break;
        case LAYER_EMBED:
            cur = embed_layer(b, l, cur);
            break;
        case LAYER_GRU: {
            char *name = l->name ? xprintf("%s%s", b->prefix ? b->prefix : "", l->name)
                                 : xprintf("%sgru%d", b->prefix ? b->prefix : "", ++b->gru);
            named_as = name;
            cur = gru_layer(b, l, cur, name);
            break;
        }
        case LAYER_GAUSSIAN:
            cur = gaussian_layer(b, l, cur, i + 1 == st->n, which);
            break;
        case LAYER_CODEBOOK:
            cur = codebook_layer(b, l, cur, i + 1 == st->n, which);
            break;
        case LAYER_EDGES:
            cur = edges_layer(b, l, cur);
            break;
        case LAYER_ONEHOT:
            cur = onehot_layer(b, l, cur);
            break;
        case LAYER_GATE:
            if (*lv >= 0) {
                diag_error(b->d, l->loc, "'gate' after the %s's last layer, which predicts "
                           "the variance too: put it before that layer", which);
                return -1;
            }
            cur = gate_layer(b, l, cur);
            break;
        case LAYER_FLATTEN:
            cur = view(b, cur, flat(dims_count(&td)), "flatten", l->loc);
            if (*lv >= 0)
                *lv = view(b, *lv, flat(dims_count(&td)), "flatten", l->loc);
            break;
        case LAYER_RESHAPE: {
            char r[64];
            dims_format(r, sizeof r, &l->dims);
            if (dims_count(&l->dims) != dims_count(&td)) {
                diag_error(b->d, l->loc, "reshape to %s (%llu values) from %s (%llu values)", r,
                           (unsigned long long)dims_count(&l->dims), s,
                           (unsigned long long)dims_count(&td));
                return -1;
            }
            cur = view(b, cur, l->dims, "reshape", l->loc);
            if (*lv >= 0)
                *lv = view(b, *lv, l->dims, "reshape", l->loc);
            break;
        }
        case LAYER_CONCAT_LABEL:
            if (b->label < 0 && b->s->general) {
                diag_error(b->d, l->loc, "'concat label' needs a 'condition label classes N' "
                           "line");
                return -1;
            }
            if (b->label < 0)
                break; /* reported by check_combinations */
            if (cat_done) {
                diag_error(b->d, l->loc, "second 'concat label' in the %s", which);
                return -1;
            }
            if (td.rank != 1) {
                diag_error(b->d, l->loc, "'concat label' needs a flat input, got %s; add "
                           "'flatten' before it", s);
                return -1;
            }
            cur = concat_label(b, cur, which, l->loc);
            cat_done = true;
            break;
        case LAYER_ACT: {
            int pn = root_producer(g, cur);
            gen_node *n = pn >= (int)first_node ? &g->n[pn] : NULL;
            if (n && n->op == VKVAE_OP_ADD && i > 0 && st->layers[i - 1].residual) {
                diag_error(b->d, l->loc, "'%s' after residual layer '%s' would apply to the "
                           "sum: write it on the layer's line, where it comes before the sum",
                           gen_act_names[l->act], g->n[root_producer(g, n->in[0])].name);
                return -1;
            }
            if (!n || (n->op != VKVAE_OP_DENSE && n->op != VKVAE_OP_CONV2D &&
                       n->op != VKVAE_OP_CONVT2D && n->op != VKVAE_OP_BATCHNORM &&
                       n->op != VKVAE_OP_ADD)) {
                diag_error(b->d, l->loc, "'%s' has no layer to apply to: activations fuse into "
                           "the dense, conv2d, convt2d, batchnorm or add layer before them in the %s",
                           gen_act_names[l->act], which);
                return -1;
            }
            if (n->p.act != VKVAE_ACT_NONE) {
                diag_error(b->d, l->loc, "'%s' follows '%s' on layer '%s'; one activation per "
                           "layer", gen_act_names[l->act], gen_act_names[n->p.act], n->name);
                return -1;
            }
            n->p.act = l->act;
            n->p.alpha = l->act == VKVAE_ACT_LEAKY_RELU ? l->slope : 0;
            uint64_t outs = (uint64_t)n->p.n * dims_count(&g->t[n->out[0]].dims);
            n->flops_fwd += outs;
            n->flops_bwd += 2 * outs;
            break;
        }
        }
        if (cur < 0)
            return -1;
        if (named_as) {
            const char *own = named_as + (b->prefix ? strlen(b->prefix) : 0);
            for (size_t k = 0; k < n_outs; k++)
                if (strcmp(outs[k].name, own) == 0) {
                    diag_error(b->d, l->name ? l->name_loc : l->loc, "duplicate layer name "
                               "'%s' (first at line %d)", own, outs[k].loc.line);
                    return -1;
                }
            outs[n_outs++] = (layer_out){ own, l->loc, cur };
        }
        if (l->tap && !b->tag) {
            diag_error(b->d, l->loc, "'tap' names a layer's output in the 'graph' lines of a "
                       "spec with 'network' sections; the %s has none", which);
            return -1;
        }
        if (l->tap) {
            GROW(b->taps, b->cap_taps, b->n_taps + 1);
            b->taps[b->n_taps++] = cur;
        }
    }
    return cur;
}

/* ---- combinations ---- */

/* objective classify: labels to learn, and nothing of an autoencoder. */
static void check_classifier(const gen_spec *s, gen_diag *d)
{
    if (!s->has_condition)
        diag_error(d, s->objective_loc, "objective classify needs the labels it learns: add "
                   "'condition label classes N'");
    if (s->has_latent)
        diag_error(d, s->latent_loc, "objective classify has no latent: its encoder ends in a "
                   "dense head of one logit per class; drop this line");
    if (s->dec.seen)
        diag_error(d, s->dec.loc, "objective classify has no decoder: drop this section");
    if (s->likelihood_given)
        diag_error(d, s->likelihood_loc, "'likelihood' applies to objective elbo or iwae; "
                   "objective classify takes softmax cross-entropy");
    for (size_t i = 0; i < s->enc.n; i++)
        if (s->enc.layers[i].kind == LAYER_CONCAT_LABEL)
            diag_error(d, s->enc.layers[i].loc, "'concat label' would show a classifier the "
                       "label it has to predict");
}

/* The input line's clauses together, in either form of spec. */
static void check_input(const gen_spec *s, gen_diag *d)
{
    if (s->vocab && !s->general && s->has_input)
        diag_error(d, s->vocab_loc, "a text input ('vocab') is read by networks: write the "
                   "model with 'network' sections and a 'graph' (docs/spec.md, \"Text\")");
    if (s->levels && !(s->lo == 0 && s->hi == 1))
        diag_error(d, s->levels_loc, "'levels' needs range 0..1 (level k reads as k/(L-1)), "
                   "got %g..%g", s->lo, s->hi);
    if (s->levels && s->binarize)
        diag_error(d, s->levels_loc, "'levels' and 'binarize' (line %d) exclude each other: "
                   "levels are already discrete", s->binarize_loc.line);
}

static void check_combinations(const gen_spec *s, gen_diag *d)
{
    if (s->obj == OBJ_CLASSIFY) {
        check_classifier(s, d);
        if (!(s->lo == 0 && s->hi == 1))
            diag_error(d, s->range_loc, "range %g..%g is not supported yet: data bytes map to "
                       "0..1; use range 0..1", s->lo, s->hi);
        return;
    }
    bool vae = s->obj == OBJ_ELBO || s->obj == OBJ_IWAE;
    const char *obj = gen_objective_names[s->obj];
    if (vae && s->latent_kind != LATENT_GAUSSIAN)
        diag_error(d, s->objective_loc, "objective '%s' needs a gaussian latent; line %d "
                   "declares 'latent %u deterministic'", obj, s->latent_loc.line, s->latent);
    if (!vae && s->latent_kind != LATENT_DETERMINISTIC)
        diag_error(d, s->objective_loc, "objective '%s' needs 'latent %u deterministic'; line "
                   "%d declares a gaussian latent (a VAE uses objective elbo)", obj, s->latent,
                   s->latent_loc.line);
    if (!vae && s->likelihood_given)
        diag_error(d, s->likelihood_loc, "'likelihood' applies to objective elbo or iwae; "
                   "objective '%s' takes 'loss l2' or 'loss bce'", obj);
    bool unit = s->lo == 0 && s->hi == 1;
    char r[96];
    snprintf(r, sizeof r, "%g..%g", s->lo, s->hi);
    int before = d->errors;
    if (vae && s->lik == LIK_BERNOULLI && !unit)
        diag_error(d, s->range_loc, "likelihood bernoulli needs range 0..1, got %s", r);
    if (!vae && s->loss == LOSS_BCE && !unit)
        diag_error(d, s->range_loc, "loss bce needs range 0..1, got %s", r);
    if (s->binarize && !unit)
        diag_error(d, s->binarize_loc, "'binarize' needs range 0..1, got %s", r);
    /* Not lowered yet: the gather maps bytes to 0..1 only, and whatever
     * hands images back (sample, decode, PNGs, the image target) reads
     * them as 0..1. Refused here, so no spec that checks fails later. */
    if (!unit && d->errors == before)
        diag_error(d, s->range_loc, "range %s is not supported yet: data bytes map to 0..1, "
                   "and sampled and decoded images are read as 0..1; use range 0..1", r);
    /* Not lowered yet either: the learned log-variance's gradient is one sum
     * over all rows (nll_gauss_bwd mode 1), where IWAE weights each row. */
    if (s->obj == OBJ_IWAE && s->lik == LIK_GAUSSIAN && s->variance == VAR_LEARNED &&
        !s->forward_only)
        diag_error(d, s->variance_loc, "'variance learned' with objective iwae is not supported "
                   "yet: its gradient sums over rows, and the importance weights scale each row; "
                   "use 'variance predicted' or 'variance fixed'");
    for (int w = 0; w < 2; w++) {
        const gen_stack *st = w ? &s->dec : &s->enc;
        for (size_t i = 0; i < st->n; i++)
            if (st->layers[i].kind == LAYER_CONCAT_LABEL && !s->has_condition)
                diag_error(d, st->layers[i].loc, "'concat label' needs a 'condition label "
                           "classes N' line");
    }
}

static bool ends_in_sigmoid(const gen_graph *g, int t)
{
    int pn = root_producer(g, t);
    return pn >= 0 && g->n[pn].p.act == VKVAE_ACT_SIGMOID;
}

static gen_loc sigmoid_loc(const gen_stack *st)
{
    for (size_t i = st->n; i-- > 0;)
        if (st->layers[i].act == VKVAE_ACT_SIGMOID)
            return st->layers[i].kind == LAYER_ACT ? st->layers[i].loc : st->layers[i].act_loc;
    return st->loc;
}

/* Layer names (from 'name' clauses or generated) must be unique: they are
 * the checkpoint's tensor names. A layer's weight is its first input. */
static void check_names(const gen_graph *g, gen_diag *d)
{
    for (size_t i = 0; i < g->nn; i++) {
        const gen_node *a = &g->n[i];
        if (a->nin < 2 || g->t[a->in[1]].role != ROLE_PARAM)
            continue;
        for (size_t j = 0; j < i; j++) {
            const gen_node *b = &g->n[j];
            if (b->nin >= 2 && g->t[b->in[1]].role == ROLE_PARAM && b->in[1] != a->in[1] &&
                strcmp(a->name, b->name) == 0) {
                diag_error(d, a->loc, "duplicate layer name '%s' (first at line %d)", a->name,
                           b->loc.line);
                break;
            }
        }
    }
}

/* ---- the graph ---- */

static uint64_t batched_values(const builder *b, int t)
{
    const gen_tensor *x = &b->g->t[t];
    if (x->role == ROLE_DATA || x->rows == 0)
        return 0;
    return rows_of(b, t) * dims_count(&x->dims);
}

/* elementwise ops: one FLOP per batched value read, both ways when a gradient flows */
static void simple_flops(builder *b, int nd)
{
    gen_node *n = &b->g->n[nd];
    uint64_t v = 0;
    bool grad = false;
    for (int i = 0; i < n->nin; i++) {
        v += batched_values(b, n->in[i]);
        grad |= b->g->t[n->in[i]].needs_grad;
    }
    n->flops_fwd = v;
    n->flops_bwd = grad ? v : 0;
}

static int loss_node(builder *b, int op, const char *name, gen_loc loc, const int *ins,
                     uint32_t rows, vkvae_op_params p)
{
    int out = add_tensor(b->g, xstrndup(name, strlen(name)), ROLE_LOSS, rows, (gen_dims){ 0 });
    int nd = add_node(b, op, name, loc, ins, (int[]){ out, -1 });
    b->g->n[nd].p = p;
    simple_flops(b, nd);
    return out;
}

/* The data the step reads: x gathered from the data set (binarized if the
 * spec says), the one-hot label of a conditional model, and a denoising
 * AE's corrupted x. Returns what the encoder reads. */
static int data_nodes(builder *b, uint32_t n)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    uint64_t in_n = dims_count(&s->input);
    int data = add_tensor(g, xprintf("data"), ROLE_DATA, 0, s->input);
    g->t[data].dtype = "u8";
    int perm = add_tensor(g, xprintf("perm"), ROLE_DATA, 0, (gen_dims){ 0 });
    g->t[perm].dtype = "u32";
    int x = add_tensor(g, xprintf("x"), ROLE_ACT, 1, s->input);
    int nd = add_node(b, VKVAE_OP_GATHER, "x", s->input_loc, (int[]){ data, perm, -1 },
                      (int[]){ x, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n, .in = (uint32_t)in_n,
        .mode = s->levels || s->vocab ? 2 : s->binarize,
        .classes = s->vocab ? s->vocab : s->levels,
        .stream = s->binarize ? VKVAE_STREAM_BINARIZE : 0 };
    g->x = x;
    if (s->has_condition) {
        int labels = add_tensor(g, xprintf("labels"), ROLE_DATA, 0, (gen_dims){ 0 });
        g->t[labels].dtype = "u8";
        b->label = g->label = add_tensor(g, xprintf("y"), ROLE_ACT, 1, flat(s->classes));
        nd = add_node(b, VKVAE_OP_GATHER_ONEHOT, "y", s->condition_loc,
                      (int[]){ labels, perm, -1 }, (int[]){ b->label, -1 });
        g->n[nd].p = (vkvae_op_params){ .n = n, .classes = s->classes, .out = s->classes };
    }
    if (s->obj != OBJ_DAE)
        return x;
    int xt = add_tensor(g, xprintf("x_tilde"), ROLE_ACT, 1, s->input);
    int op = s->corrupt == CORRUPT_MASK ? VKVAE_OP_CORRUPT_MASK : VKVAE_OP_CORRUPT_GAUSS;
    nd = add_node(b, op, "corrupt", s->corrupt_loc, (int[]){ x, -1 }, (int[]){ xt, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n, .in = (uint32_t)in_n,
        .alpha = (float)s->corrupt_value, .stream = VKVAE_STREAM_CORRUPT };
    return xt;
}

/* The encoder's layers from in (g->enc_in), whose output must be flat to
 * feed `what`; -1 after an error. */
static int flat_encoder(builder *b, int in, const char *what)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    g->enc_in = in;
    int none = -1;
    int cur = run_stack(b, &s->enc, in, "encoder", false, &none);
    if (cur >= 0 && g->t[cur].dims.rank != 1) {
        char sh[64];
        dims_format(sh, sizeof sh, &g->t[cur].dims);
        diag_error(b->d, s->enc.n ? s->enc.layers[s->enc.n - 1].loc : s->enc.loc,
                   "encoder ends with %s; add 'flatten' to feed %s", sh, what);
        return -1;
    }
    return cur;
}

/* The encoder and the head the latent asks for: mu, logvar and z = reparam
 * with k samples per row (g->mu, g->logvar, g->z; eps in *eps) for a VAE,
 * one dense layer to the code (g->z) otherwise. False after an error. */
static bool encoder_nodes(builder *b, int in, uint32_t n, uint32_t k, bool vae, int *eps)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    int cur = flat_encoder(b, in, "the latent head");
    if (cur < 0)
        return false;
    gen_layer head = { .kind = LAYER_DENSE, .loc = s->latent_loc, .units = s->latent };
    int j = ++b->fc;
    if (!vae) {
        g->z = param_layer(b, &head, cur, xprintf("fc%d", j), true);
        g->t[g->z].name = xprintf("code");
        g->mu = g->z;
        return true;
    }
    int mu = param_layer(b, &head, cur, xprintf("fc%d1", j), true);
    int lv = param_layer(b, &head, cur, xprintf("fc%d2", j), true);
    g->t[mu].name = xprintf("mu");
    g->t[lv].name = xprintf("logvar");
    int z = add_tensor(g, xprintf("z"), ROLE_ACT, k, flat(s->latent));
    *eps = add_tensor(g, xprintf("eps"), ROLE_ACT, k, flat(s->latent));
    int nd = add_node(b, VKVAE_OP_REPARAM, "reparam", s->latent_loc,
                      (int[]){ mu, lv, -1 }, (int[]){ z, *eps, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n, .in = s->latent, .samples = k,
                                    .stream = VKVAE_STREAM_EPS };
    g->t[*eps].needs_grad = false;
    simple_flops(b, nd);
    g->n[nd].flops_fwd = 3ull * n * k * s->latent;
    g->mu = mu, g->logvar = lv, g->z = z;
    return true;
}

/* The decoder over n*k rows (the label repeated beside z's samples), checked
 * to end in the input's shape, as logits where the loss takes them; a
 * predicted variance's twin output in *out_lv. Returns its output or -1. */
static int decoder_nodes(builder *b, uint32_t k, bool vae, bool logits, int *out_lv)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    if (b->label >= 0 && k > 1)
        b->label = repeat_rows(b, b->label, k, "y_rep", s->condition_loc);
    bool predicted = vae && s->lik == LIK_GAUSSIAN && s->variance == VAR_PREDICTED;
    int y = run_stack(b, &s->dec, g->z, "decoder", predicted, out_lv);
    if (y < 0)
        return -1;
    char got[64], want[64];
    dims_format(got, sizeof got, &g->t[y].dims);
    dims_format(want, sizeof want, &s->input);
    gen_loc dec_end = s->dec.n ? s->dec.layers[s->dec.n - 1].loc : s->dec.loc;
    if (g->t[y].dims.rank != s->input.rank ||
        memcmp(g->t[y].dims.d, s->input.d, sizeof(uint32_t) * (size_t)s->input.rank) != 0) {
        if (dims_count(&g->t[y].dims) == dims_count(&s->input))
            diag_error(b->d, dec_end, "decoder produces %s, input is %s; add 'reshape %s'", got,
                       want, want);
        else
            diag_error(b->d, dec_end, "decoder produces %s, input is %s", got, want);
        return -1;
    }
    if (predicted && *out_lv < 0) {
        diag_error(b->d, s->variance_loc, "'variance predicted' needs a dense, conv2d or "
                   "convt2d layer in the decoder to predict it");
        return -1;
    }
    if (logits && ends_in_sigmoid(g, y)) {
        diag_error(b->d, sigmoid_loc(&s->dec), "the decoder ends in 'sigmoid', but %s takes "
                   "logits and applies the sigmoid itself; drop it",
                   vae ? "likelihood bernoulli" : "loss bce");
        return -1;
    }
    g->dec_out = y;
    return y;
}

/* The loss per row: the likelihood or reconstruction term against the
 * clean x (repeated to the k sample rows), the KL (elbo) or the importance-
 * weighted bound (iwae), and loss_accum summing them (g->recon, g->kl,
 * g->loss). */
static void loss_nodes(builder *b, uint32_t n, uint32_t k, bool vae, bool logits, int eps,
                       int out_lv)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    int x = g->x, y = g->dec_out;
    vkvae_op_params lp = { .n = n * k, .in = (uint32_t)dims_count(&s->input), .samples = k };
    int recon, kl = -1;
    if (k > 1)
        x = repeat_rows(b, x, k, "x_rep", s->dec.loc);
    if (logits) {
        recon = loss_node(b, VKVAE_OP_NLL_BERNOULLI, "nll", s->dec.loc, (int[]){ y, x, -1 }, k, lp);
    } else if (!vae) {
        recon = loss_node(b, VKVAE_OP_L2, "l2", s->dec.loc, (int[]){ y, x, -1 }, k, lp);
    } else {
        int var;
        if (s->variance == VAR_FIXED) {
            /* the step's alpha is log sigma^2; the binding, which mode 0
             * leaves unread, is a placeholder no one writes */
            var = add_tensor(g, xprintf("x_logvar"), ROLE_CONST, 0, flat(1));
            lp.alpha = (float)log(s->variance_value);
        } else if (s->variance == VAR_LEARNED) {
            var = add_param(b, "x", "logvar", s->input, 0);
            g->t[var].init = INIT_ZERO;
        } else {
            var = out_lv;
        }
        lp.mode = s->variance;
        recon = loss_node(b, VKVAE_OP_NLL_GAUSS, "nll", s->dec.loc, (int[]){ y, var, x, -1 },
                          k, lp);
    }
    if (s->obj == OBJ_ELBO) {
        kl = loss_node(b, VKVAE_OP_KL_GAUSS, "kl", s->objective_loc,
                       (int[]){ g->mu, g->logvar, -1 }, 1,
                       (vkvae_op_params){ .n = n, .in = s->latent });
    } else if (s->obj == OBJ_IWAE) {
        vkvae_op_params ip = { .n = n, .in = s->latent, .samples = k };
        g->logw = loss_node(b, VKVAE_OP_IWAE_LOGW, "logw", s->objective_loc,
                            (int[]){ recon, g->z, eps, g->logvar, -1 }, k, ip);
        recon = loss_node(b, VKVAE_OP_IWAE_LSE, "iwae", s->objective_loc,
                          (int[]){ g->logw, -1 }, 1, ip);
    }
    if (kl < 0) {
        /* loss_accum sums (recon, kl) per row: without a KL term, zeros */
        kl = add_tensor(g, xprintf("kl_zero"), ROLE_CONST, 1, (gen_dims){ 0 });
    }
    g->loss = add_tensor(g, xprintf("loss_acc"), ROLE_LOSS, 0, flat(4));
    int nd = add_node(b, VKVAE_OP_LOSS_ACCUM, "loss", s->objective_loc,
                      (int[]){ recon, kl, -1 }, (int[]){ g->loss, -1 });
    g->recon = recon;
    g->kl = kl;
    g->n[nd].p = (vkvae_op_params){ .n = n };
    simple_flops(b, nd);
}

/* objective classify: the encoder from x (the label only the loss sees),
 * a dense head of one logit per class, softmax cross-entropy against the
 * one-hot label and the errors, summed by loss_accum (cross-entropy in
 * its recon slot, errors in its kl slot, whose weight is 0). */
static bool classifier_nodes(builder *b, uint32_t n)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    int x = data_nodes(b, n);
    int y = b->label;
    b->label = -1; /* no concat: the encoder must not see it */
    int cur = flat_encoder(b, x, "the classifier's head");
    if (cur < 0)
        return false;
    gen_layer head = { .kind = LAYER_DENSE, .loc = s->objective_loc, .units = s->classes };
    int logits = param_layer(b, &head, cur, auto_name(b, &head), true);
    g->t[logits].name = xprintf("logits");
    g->mu = cur; /* the features the head reads: what the encode program gives */
    g->dec_out = logits;
    int ce = add_tensor(g, xprintf("ce"), ROLE_LOSS, 1, (gen_dims){ 0 });
    int err = add_tensor(g, xprintf("err"), ROLE_LOSS, 1, (gen_dims){ 0 });
    int nd = add_node(b, VKVAE_OP_SOFTMAX_CE, "ce", s->objective_loc, (int[]){ logits, y, -1 },
                      (int[]){ ce, err, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n, .in = s->classes };
    g->t[err].needs_grad = false;
    simple_flops(b, nd);
    g->loss = add_tensor(g, xprintf("loss_acc"), ROLE_LOSS, 0, flat(4));
    nd = add_node(b, VKVAE_OP_LOSS_ACCUM, "loss", s->objective_loc, (int[]){ ce, err, -1 },
                  (int[]){ g->loss, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n };
    simple_flops(b, nd);
    g->recon = ce;
    g->kl = err;
    return true;
}

/* ---- the general form: networks, calls, loss terms, updates ---- */

int tensor_root(const gen_graph *g, int t)
{
    while (g->t[t].alias >= 0)
        t = g->t[t].alias;
    return t;
}

/* z, eps = reparam(mu, logvar), one sample a row; returns z. */
static int simple_reparam(builder *b, int mu, int lv, uint32_t units, gen_loc loc)
{
    gen_graph *g = b->g;
    uint32_t rows = g->t[mu].rows; /* (a class copy of each row: 'unlabelled') */
    int z = add_tensor(g, act_name(b, "z"), ROLE_ACT, rows, flat(units));
    int eps = add_tensor(g, act_name(b, "eps"), ROLE_ACT, rows, flat(units));
    int nd = add_node(b, VKVAE_OP_REPARAM, xprintf("%sreparam", b->prefix), loc,
                      (int[]){ mu, lv, -1 }, (int[]){ z, eps, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = (uint32_t)rows_of(b, mu), .in = units, .samples = 1,
                                    .stream = VKVAE_STREAM_EPS };
    g->t[eps].needs_grad = false;
    simple_flops(b, nd);
    g->n[nd].flops_fwd = 3ull * rows_of(b, mu) * units;
    return z;
}

void graph_select(const gen_graph *g, const int *outs, const int *ins, bool *take)
{
    bool *need = xmalloc(g->nt);
    memset(need, 0, g->nt);
    for (int i = 0; outs[i] >= 0; i++)
        need[outs[i]] = true;
    for (size_t i = g->n_fwd; i-- > 0;) {
        const gen_node *n = &g->n[i];
        bool produces = false, is_input = false;
        for (int j = 0; j < n->nout; j++) {
            int r = tensor_root(g, n->out[j]);
            produces |= need[r];
            for (int k = 0; ins[k] >= 0; k++)
                is_input |= ins[k] == r;
        }
        if (!produces || is_input)
            continue;
        take[i] = n->op != GEN_OP_VIEW;
        for (int j = 0; j < n->nin; j++)
            need[tensor_root(g, n->in[j])] = true;
    }
    xfree(need);
}

/* What the general form refuses of the shorthand and of the input line. */
static void check_general(const gen_spec *s, gen_diag *d)
{
    const struct { bool seen; gen_loc loc; const char *what; } shorthand[] = {
        { s->has_latent, s->latent_loc, "latent" },
        { s->enc.seen, s->enc.loc, "encoder" },
        { s->dec.seen, s->dec.loc, "decoder" },
        { s->has_objective, s->objective_loc, "objective" },
    };
    for (size_t i = 0; i < sizeof shorthand / sizeof *shorthand; i++)
        if (shorthand[i].seen)
            diag_error(d, shorthand[i].loc, "'%s' belongs to the one-network form; this spec "
                       "is in the form of several networks (line %d), which names its tensors "
                       "in 'graph' lines and its losses in 'loss' lines", shorthand[i].what,
                       s->general_loc.line);
    if (s->likelihood_given)
        diag_error(d, s->likelihood_loc, "'likelihood' applies to objective elbo or iwae; a "
                   "spec with 'network' sections takes its losses from 'loss' lines");
    if (!(s->lo == 0 && s->hi == 1))
        diag_error(d, s->range_loc, "range %g..%g is not supported yet: data bytes map to "
                   "0..1; use range 0..1", s->lo, s->hi);
}

/* A tensor the graph and loss lines can name. */
typedef struct named {
    const char *name;
    gen_loc loc;
    int t;
} named;

static int lookup(const named *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- autoregressive models ---- */

/* What a tensor's value at pixel i depends on, of the image x (one channel,
 * raster order): nothing, pixels before i, up to i itself, or any. */
enum { SEES_NONE, SEES_PAST, SEES_SELF, SEES_ANY };

/* How far tensor t of the forward graph sees into x: a convolution masked
 * A sees its input's pixels before its own (past), masked B or 1x1 up to
 * its own (as its input sees), any other product all of them; elementwise
 * steps, adds, concats and the gate keep the most their inputs see. A
 * batch norm sees all: in training its statistics pool every pixel. */
static int *pixel_sight(const gen_graph *g)
{
    int *sees = xmalloc(g->nt * sizeof *sees);
    for (size_t t = 0; t < g->nt; t++)
        sees[t] = (int)t == g->x ? SEES_SELF : SEES_NONE;
    for (size_t i = 0; i < g->n_fwd; i++) {
        const gen_node *n = &g->n[i];
        if (n->nout > 0 && n->out[0] == g->x)
            continue; /* the gather that makes x */
        int in = SEES_NONE, out;
        for (int j = 0; j < n->nin; j++)
            in = sees[n->in[j]] > in ? sees[n->in[j]] : in;
        int mask = n->op == VKVAE_OP_CONV2D ? g->t[n->in[1]].producer : -1;
        bool masked = mask >= 0 && g->n[mask].op == VKVAE_OP_CONV_MASK;
        bool one_by_one = n->op == VKVAE_OP_CONV2D && n->p.k == 1 && n->p.stride == 1 &&
                          n->p.pad == 0;
        bool same_grid = n->op == GEN_OP_VIEW &&
                         memcmp(&g->t[n->out[0]].dims, &g->t[n->in[0]].dims, sizeof(gen_dims)) == 0;
        if (in == SEES_NONE)
            out = SEES_NONE;
        else if (masked && g->n[mask].p.mode == 0)
            out = in == SEES_ANY ? SEES_ANY : SEES_PAST;
        else if (masked || one_by_one || same_grid || n->op == VKVAE_OP_ADD ||
                 n->op == VKVAE_OP_CONCAT || n->op == VKVAE_OP_GATE || n->op == VKVAE_OP_ONEHOT)
            out = in;
        else
            out = SEES_ANY;
        for (int j = 0; j < n->nout; j++)
            sees[n->out[j]] = out;
    }
    return sees;
}

/* A spec of networks without noise whose loss has 'bernoulli L x' or
 * 'categorical L x', with L seeing only the pixels before its own, is a
 * pixel model (PixelCNN): L's network samples pixel by pixel
 * (g->ar_logits; g->ar_classes, a categorical's classes, or 0). */
static void find_pixel_model(const gen_spec *s, gen_graph *g, const named *names,
                             size_t n_names)
{
    if (s->has_noise || s->input.rank != 3 || s->input.d[0] != 1)
        return;
    int *sees = pixel_sight(g);
    for (size_t t = 0; t < s->n_terms && g->ar_logits < 0; t++)
        for (size_t k = 0; k < s->terms[t].n; k++) {
            const gen_term_part *part = &s->terms[t].parts[k];
            if (part->kind != TERM_BERNOULLI && part->kind != TERM_CATEGORICAL)
                continue; /* (the others have no second tensor) */
            int l = lookup(names, n_names, part->arg), x = lookup(names, n_names, part->arg2);
            if (l >= 0 && x >= 0 && names[x].t == g->x && sees[names[l].t] == SEES_PAST) {
                g->ar_logits = names[l].t;
                g->ar_classes = part->kind == TERM_CATEGORICAL ? g->t[names[l].t].dims.d[0] : 0;
                break;
            }
        }
    xfree(sees);
}

/* A spec of networks without noise whose first codebook call reads x, and
 * whose output a later call decodes to the input's shape, read by an l2,
 * gauss or bernoulli part against x, is a VQ-VAE: encode gives the
 * codebook's input z_e, decode quantises a z_e and decodes it
 * (g->vq_ze, g->vq_out, g->vq_logits). */
static void find_codebook_model(const gen_spec *s, gen_graph *g, const named *names,
                                size_t n_names)
{
    if (s->has_noise)
        return;
    int vq = -1;
    for (size_t i = 0; i < g->n_fwd && vq < 0; i++)
        if (g->n[i].op == VKVAE_OP_VQ_NEAREST)
            vq = (int)i;
    if (vq < 0)
        return;
    int ze = tensor_root(g, g->n[vq].in[0]), zq = g->n[vq].out[0];
    /* z_e comes from x: computing it takes the gather that makes x */
    bool *for_ze = xmalloc(g->n_fwd);
    memset(for_ze, 0, g->n_fwd);
    graph_select(g, (int[]){ ze, -1 }, (int[]){ -1 }, for_ze);
    bool reads_x = for_ze[g->t[g->x].producer];
    xfree(for_ze);
    if (!reads_x)
        return;
    for (size_t t = 0; t < s->n_terms && g->vq_out < 0; t++)
        for (size_t k = 0; k < s->terms[t].n; k++) {
            const gen_term_part *part = &s->terms[t].parts[k];
            if (part->kind != TERM_L2 && part->kind != TERM_GAUSS && part->kind != TERM_BERNOULLI)
                continue;
            int y = lookup(names, n_names, part->arg), x = lookup(names, n_names, part->arg2);
            if (y < 0 || x < 0 || names[x].t != g->x)
                continue;
            /* the decoder's output has x's size and depends on z_e through
             * the codes, and on nothing else but parameters and state (a
             * skip from x or a label would read what decode has not) */
            bool *need = xmalloc(g->n_fwd), *made = xmalloc(g->nt);
            memset(need, 0, g->n_fwd);
            memset(made, 0, g->nt);
            graph_select(g, (int[]){ tensor_root(g, names[y].t), -1 }, (int[]){ ze, -1 }, need);
            bool via_zq = false, closed = true;
            for (size_t i = 0; i < g->n_fwd; i++) {
                for (int j = 0; need[i] && j < g->n[i].nin; j++) {
                    int t = tensor_root(g, g->n[i].in[j]);
                    gen_role role = g->t[t].role;
                    via_zq |= t == zq;
                    closed &= made[t] || t == ze || role == ROLE_PARAM || role == ROLE_STATE ||
                              role == ROLE_CONST;
                }
                for (int o = 0; need[i] && o < g->n[i].nout; o++)
                    made[tensor_root(g, g->n[i].out[o])] = true;
            }
            xfree(need);
            xfree(made);
            if (via_zq && closed &&
                dims_count(&g->t[names[y].t].dims) == dims_count(&s->input)) {
                g->vq_ze = ze;
                g->vq_out = tensor_root(g, names[y].t);
                g->vq_logits = part->kind == TERM_BERNOULLI;
                break;
            }
        }
}

/* Whether the forward nodes that compute out from the tensors ins (-1
 * ended) read nothing else but parameters, state and constants. */
static bool made_from(const gen_graph *g, int out, const int *ins)
{
    bool *need = xmalloc(g->n_fwd), *made = xmalloc(g->nt), closed = true;
    memset(need, 0, g->n_fwd);
    memset(made, 0, g->nt);
    graph_select(g, (int[]){ out, -1 }, ins, need);
    for (int k = 0; ins[k] >= 0; k++)
        made[ins[k]] = true;
    for (size_t i = 0; i < g->n_fwd; i++) {
        for (int j = 0; need[i] && j < g->n[i].nin; j++) {
            int t = tensor_root(g, g->n[i].in[j]);
            gen_role role = g->t[t].role;
            closed &= made[t] || role == ROLE_PARAM || role == ROLE_STATE || role == ROLE_CONST;
        }
        for (int o = 0; need[i] && o < g->n[i].nout; o++)
            made[tensor_root(g, g->n[i].out[o])] = true;
    }
    xfree(need);
    xfree(made);
    return closed;
}

/* Whether a bernoulli part reads a call of network net (its calls give
 * logits: samples go through a sigmoid). */
static bool gives_logits(const gen_spec *s, const char *net)
{
    bool logits = false;
    for (size_t t = 0; t < s->n_terms; t++)
        for (size_t k = 0; k < s->terms[t].n; k++) {
            const gen_term_part *part = &s->terms[t].parts[k];
            for (size_t d = 0; part->kind == TERM_BERNOULLI && d < s->n_calls; d++)
                logits |= strcmp(s->calls[d].out, part->arg) == 0 &&
                          strcmp(s->calls[d].net, net) == 0;
        }
    return logits;
}

/* The draw of a gaussian call (a reparam's output) made from the tensors
 * ins alone, or -1. */
static int draw_from(const gen_graph *g, int t, const int *ins)
{
    int z = tensor_root(g, t), pz = root_producer(g, z);
    return pz >= 0 && g->n[pz].op == VKVAE_OP_REPARAM && made_from(g, z, ins) ? z : -1;
}

/* A spec of networks without noise with a prior learned from a condition
 * c (g->cond): the label, or x through networks (an image-derived
 * condition: a VU-Net's shape, 'edges'). A call decodes, to the input's
 * shape, the draw of a gaussian call made from c alone (g->prior_z): that
 * call makes the samples (g->sample_out; logits when a bernoulli part
 * reads a call of its network). With x as c, that draw must be the prior
 * side of a 'kl q p' part, since the encoder's draw is made from x too.
 * The q of a 'kl q prior' part, made from x and c, is the code encode
 * gives and decode reads (g->code_z), when there is one. */
static void find_prior_sampler(const gen_spec *s, gen_graph *g, const named *names,
                               size_t n_names)
{
    if (s->has_noise || g->sample_out >= 0)
        return;
    int cond = g->label >= 0 ? g->label : g->x;
    for (size_t c = 0; c < s->n_calls && g->sample_out < 0; c++) {
        const gen_net_call *call = &s->calls[c];
        int out = lookup(names, n_names, call->out);
        for (int k = 0; k < 2 && out >= 0 && g->sample_out < 0; k++) {
            int in = lookup(names, n_names, k ? call->in2 ? call->in2 : "" : call->in);
            int z = in < 0 ? -1 : draw_from(g, names[in].t, (int[]){ cond, -1 });
            int y = tensor_root(g, names[out].t);
            if (z < 0 || dims_count(&g->t[y].dims) != dims_count(&s->input) ||
                !made_from(g, y, (int[]){ z, cond, -1 }))
                continue;
            int q = -1; /* the posterior whose prior z is */
            for (size_t t = 0; t < s->n_terms; t++)
                for (size_t p = 0; p < s->terms[t].n; p++) {
                    const gen_term_part *part = &s->terms[t].parts[p];
                    int a = lookup(names, n_names, part->arg);
                    int b = part->arg2 ? lookup(names, n_names, part->arg2) : -1;
                    if (part->kind == TERM_KL && a >= 0 && b >= 0 &&
                        tensor_root(g, names[b].t) == z)
                        q = draw_from(g, names[a].t, (int[]){ g->x, cond, -1 });
                }
            if (cond == g->x && q < 0)
                continue;
            g->sample_out = y;
            g->prior_z = z;
            g->cond = cond;
            g->code_z = q;
            g->sample_logits = gives_logits(s, call->net);
        }
    }
}

/* Semi-supervised ('unlabelled'): a VAE of x given the label, in the
 * calls' twins on the given label (builder.given): the draw of a gaussian
 * call made from x and y (g->code_z), and a call that decodes it with the
 * label to the input's shape (g->sample_out; logits when a bernoulli part
 * reads a call of its network). Encode, decode and sample run them. */
static int given_of(const builder *b, int t);

static void find_given_vae(const builder *b, gen_graph *g, const named *names, size_t n_names)
{
    const gen_spec *s = b->s;
    if (g->sample_out >= 0) /* a call on noise makes the samples */
        return;
    for (size_t i = 0; i < b->n_twins && g->code_z < 0; i++) {
        g->code_z = draw_from(g, b->given[i], (int[]){ g->x, g->label, -1 });
    }
    for (size_t c = 0; c < s->n_calls && g->code_z >= 0 && g->sample_out < 0; c++) {
        const gen_net_call *call = &s->calls[c];
        int out = lookup(names, n_names, call->out);
        int y = out < 0 ? -1 : tensor_root(g, given_of(b, names[out].t));
        if (y < 0 || y == tensor_root(g, names[out].t) ||
            dims_count(&g->t[y].dims) != dims_count(&s->input) ||
            !made_from(g, y, (int[]){ g->code_z, g->label, -1 }))
            continue;
        g->sample_out = y;
        g->cond = g->label;
        g->sample_logits = gives_logits(s, call->net);
    }
    if (g->sample_out < 0)
        g->code_z = -1;
}

static const gen_network *find_network(const gen_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_nets; i++)
        if (strcmp(s->nets[i].name, name) == 0)
            return &s->nets[i];
    return NULL;
}

/* Whether a network joins the label ('concat label'). */
static bool reads_label(const gen_network *net)
{
    for (size_t i = 0; i < net->st.n; i++)
        if (net->st.layers[i].kind == LAYER_CONCAT_LABEL)
            return true;
    return false;
}

/* Tensor t on every class's copy of its rows ([n*classes, ...], row
 * r*classes + c = t[r]): t itself if it is already, else a repeat_rows of
 * it (one per tensor); -1 after an error. */
static int per_class(builder *b, int t, const char *name, gen_loc loc)
{
    gen_graph *g = b->g;
    uint32_t k = b->s->classes;
    if (g->t[t].rows == k)
        return t;
    for (size_t i = 0; i < g->nn; i++)
        if (g->n[i].op == VKVAE_OP_REPEAT_ROWS && g->n[i].in[0] == t)
            return g->n[i].out[0];
    if (g->t[t].needs_grad) {
        /* repeat_rows passes no gradient back (grad.c) */
        diag_error(b->d, loc, "'%s' is computed by a network, and is read where every class is "
                   "tried (a call that depends on the label, with 'unlabelled'): not supported "
                   "yet; read x there", name);
        return -1;
    }
    return repeat_rows(b, t, k, xprintf("%s.per_class", g->t[t].name), loc);
}

/* The twin on the given label of t, a call's output on the class copies;
 * t itself for a tensor of the rows as they are. */
static int given_of(const builder *b, int t)
{
    for (size_t k = 0; k < b->n_twins; k++)
        if (b->copies[k] == t)
            return b->given[k];
    return t;
}

/* The calls in order: each network's layers on its input, parameters
 * shared between the calls of one network. */
static bool call_nodes(builder *b, named *names, size_t *n_names, const gen_net_call **first_of)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    for (size_t c = 0; c < s->n_calls; c++) {
        const gen_net_call *call = &s->calls[c];
        const gen_network *net = find_network(s, call->net);
        int in = lookup(names, *n_names, call->in);
        if (!net) {
            diag_error(b->d, call->net_loc, "unknown network '%s'", call->net);
            return false;
        }
        if (in < 0) {
            diag_error(b->d, call->in_loc, "unknown tensor '%s': a call reads x, y (with a "
                       "'condition' line), noise (with a 'noise' line) or an earlier call's "
                       "output", call->in);
            return false;
        }
        int in2 = call->in2 ? lookup(names, *n_names, call->in2) : -1;
        if (call->in2 && in2 < 0) {
            diag_error(b->d, call->in2_loc, "unknown tensor '%s': a call's second input is x, "
                       "y, noise or an earlier call's output", call->in2);
            return false;
        }
        int again = lookup(names, *n_names, call->out);
        if (again >= 0) {
            diag_error(b->d, call->loc, "'%s' is defined twice (first at line %d)", call->out,
                       names[again].loc.line);
            return false;
        }
        size_t ni = (size_t)(net - s->nets);
        if (first_of[ni] && !first_of[ni]->in2 != !call->in2) {
            diag_error(b->d, call->loc, "network '%s' reads %s here and %s at line %d: its "
                       "calls share its layers, so read as many", call->net,
                       call->in2 ? "two tensors" : "one tensor",
                       call->in2 ? "one" : "two", first_of[ni]->loc.line);
            return false;
        }
        if (first_of[ni] && call->in2) {
            const gen_dims want = g->t[names[lookup(names, *n_names, first_of[ni]->in2)].t].dims;
            const gen_dims have2 = g->t[names[in2].t].dims;
            if (want.rank != have2.rank ||
                memcmp(want.d, have2.d, sizeof(uint32_t) * (size_t)want.rank) != 0) {
                char a[64], h[64];
                dims_format(a, sizeof a, &want);
                dims_format(h, sizeof h, &have2);
                diag_error(b->d, call->in2_loc, "network '%s' reads %s as its second input "
                           "here and %s at line %d: read one shape", call->net, h, a,
                           first_of[ni]->loc.line);
                return false;
            }
        }
        const gen_dims have = g->t[names[in].t].dims;
        if (first_of[ni]) {
            const gen_dims want = g->t[names[lookup(names, *n_names, first_of[ni]->in)].t].dims;
            if (want.rank != have.rank ||
                memcmp(want.d, have.d, sizeof(uint32_t) * (size_t)have.rank) != 0) {
                char a[64], h[64];
                dims_format(a, sizeof a, &want);
                dims_format(h, sizeof h, &have);
                diag_error(b->d, call->in_loc, "network '%s' reads %s here and %s at line %d: "
                           "the calls of one network share its weights, so read one shape",
                           call->net, h, a, first_of[ni]->loc.line);
                return false;
            }
        } else {
            first_of[ni] = call;
        }
        b->prefix = xprintf("%s.", net->name);
        b->tag = call->out;
        b->call_start = g->nt; /* an earlier call's parameters are shared */
        b->fc = b->conv = b->deconv = b->bn = b->add = b->cat = b->gate = b->onehot = b->edges = 0;
        b->shift = b->embed = b->gru = 0;
        b->n_taps = 0;
        int none = -1, from = names[in].t, from2 = in2 < 0 ? -1 : names[in2].t;
        int label = b->label;
        bool copies = g->t[from].rows > 1 || from == g->label ||
                      (from2 >= 0 && (g->t[from2].rows > 1 || from2 == g->label));
        if (b->y_classes >= 0 && (reads_label(net) || copies)) {
            /* a call that depends on the label runs on every class's copy */
            from = from == g->label ? b->y_classes : per_class(b, from, call->in, call->in_loc);
            if (from2 >= 0)
                from2 = from2 == g->label ? b->y_classes
                      : per_class(b, from2, call->in2, call->in2_loc);
            b->label = b->y_classes;
            if (from < 0 || (in2 >= 0 && from2 < 0))
                return false;
        }
        b->input2 = from2, b->input2_read = false;
        int out = run_stack(b, &net->st, from, net->name, false, &none);
        b->label = label;
        b->input2 = -1;
        if (out < 0)
            return false;
        if (in2 >= 0 && !b->input2_read) {
            diag_error(b->d, call->in2_loc, "network '%s' does not read its second input: a "
                       "layer 'concat input2' or 'add input2' joins it", call->net);
            return false;
        }

        if (call->n_taps > b->n_taps) { /* (fewer: the rest go unnamed) */
            diag_error(b->d, call->loc, "network '%s' gives %zu tensor%s (its output and %zu "
                       "'tap' layer%s); this line names %zu", call->net, b->n_taps + 1,
                       b->n_taps ? "s" : "", b->n_taps, b->n_taps == 1 ? "" : "s",
                       call->n_taps + 1);
            return false;
        }
        names[(*n_names)++] = (named){ call->out, call->loc, out };
        for (size_t k = 0; k < call->n_taps; k++) {
            if (lookup(names, *n_names, call->taps[k].s) >= 0) {
                diag_error(b->d, call->taps[k].loc, "'%s' is defined twice", call->taps[k].s);
                return false;
            }
            names[(*n_names)++] = (named){ call->taps[k].s, call->taps[k].loc, b->taps[k] };
        }
        /* (a text decoder reads the tokens so far and the noise beside) */
        if ((names[in].t == g->noise || (s->vocab && in2 >= 0 && names[in2].t == g->noise)) &&
            g->sample_out < 0) {
            g->sample_out = out;
            b->sample_net = net;
        }
        if (b->y_classes >= 0 && g->t[out].rows > 1) {
            /* its twin on the label as given, one row a row, which no loss
             * reads: what encode, decode and sample run */
            b->tag = xprintf("%s.given", call->out);
            b->call_start = g->nt;
            b->fc = b->conv = b->deconv = b->bn = b->add = b->cat = b->gate = b->onehot = b->edges = 0;
        b->shift = b->embed = b->gru = 0;
            b->n_taps = 0;
            b->input2 = in2 < 0 ? -1 : given_of(b, names[in2].t);
            int twin = run_stack(b, &net->st, given_of(b, names[in].t), net->name, false, &none);
            b->input2 = -1;
            if (twin < 0)
                return false;
            GROW(b->copies, b->cap_twins, b->n_twins + 1);
            b->given = xrealloc(b->given, b->cap_twins * sizeof *b->given);
            b->copies[b->n_twins] = out;
            b->given[b->n_twins++] = twin;
        }
    }
    return true;
}

/* 'categorical L T': L has a channel per class (2 or more) over T's grid of
 * one channel, whose values in [0, 1] are levels (x's range must be 0..1).
 * False after an error. */
static bool categorical_target(builder *b, const gen_term_part *part, int l, int t)
{
    gen_graph *g = b->g;
    const gen_dims *dl = &g->t[l].dims, *dt = &g->t[t].dims;
    if (dl->rank != 3 || dt->rank != 3 || dt->d[0] != 1 || dl->d[0] < 2 ||
        dl->d[1] != dt->d[1] || dl->d[2] != dt->d[2] || g->t[l].rows != g->t[t].rows) {
        char sl[64], st[64];
        dims_format(sl, sizeof sl, dl);
        dims_format(st, sizeof st, dt);
        diag_error(b->d, part->arg2_loc, "categorical reads '%s' (%s) as a channel of logits "
                   "a class (2 or more) over the grid of '%s' (%s, one channel)", part->arg,
                   sl, part->arg2, st);
        return false;
    }
    if (t == g->x && (b->s->lo != 0 || b->s->hi != 1)) {
        diag_error(b->d, part->arg2_loc, "categorical takes x's values in [0, 1] as levels: "
                   "the input line needs 'range 0..1' (it has %g..%g)", b->s->lo, b->s->hi);
        return false;
    }
    if (t == g->x && b->s->levels && b->s->levels != dl->d[0]) {
        diag_error(b->d, part->arg_loc, "categorical over %u classes of x, whose input line "
                   "declares 'levels %u' (line %d): one class a level", dl->d[0], b->s->levels,
                   b->s->input_loc.line);
        return false;
    }
    return true;
}

/* 'categorical L x' of a text input: L a sequence of x's steps, each step's
 * logits over the vocabulary; steps of <pad> are masked out. False after
 * an error. */
static bool tokens_target(builder *b, const gen_term_part *part, int l, int t)
{
    gen_graph *g = b->g;
    const gen_tensor *tl = &g->t[l];
    if (t != b->g->x || tl->rows != tl->steps || tl->dims.rank != 1 ||
        tl->dims.d[0] != b->s->vocab || tl->steps != dims_count(&g->t[t].dims)) {
        char sl[64];
        dims_format(sl, sizeof sl, &tl->dims);
        diag_error(b->d, part->arg2_loc, "categorical over a sequence reads '%s' (%u steps of "
                   "%s) as logits over the vocabulary (%u) at each of x's %llu steps, against "
                   "x", part->arg, tl->steps, sl, b->s->vocab,
                   (unsigned long long)dims_count(&g->t[b->g->x].dims));
        return false;
    }
    return true;
}

/* A loss term: binary cross-entropy of each part's logits, summed per
 * row (term.<name>), and its sum over the rows (loss.<name>). Returns the
 * per-row tensor or -1. */
static int term_nodes(builder *b, const gen_term *term, const named *names, size_t n_names,
                      int zero, uint32_t n, int *term_node, int term_index)
{
    gen_graph *g = b->g;
    int sum = -1;
    for (size_t i = 0; i < term->n; i++) {
        const gen_term_part *part = &term->parts[i];
        int at = lookup(names, n_names, part->arg);
        if (at < 0 || names[at].t == g->x || names[at].t == g->noise) {
            diag_error(b->d, part->arg_loc, "'%s' is not a call's output: a loss reads what "
                       "a network gives", part->arg);
            return -1;
        }
        int a = names[at].t, out, x = -1;
        if (part->arg2) { /* gauss, bernoulli, categorical: the target */
            int at2 = lookup(names, n_names, part->arg2);
            if (at2 < 0) {
                diag_error(b->d, part->arg2_loc, "unknown tensor '%s'", part->arg2);
                return -1;
            }
            x = names[at2].t;
        }
        /* a part over every class's copy of the rows (k of them a row) is
         * summed per row with the copies' weights (label_sum); its target
         * is copied alike */
        if ((g->t[a].steps || (x >= 0 && g->t[x].steps)) && part->kind != TERM_CATEGORICAL) {
            diag_error(b->d, part->loc, "a loss over a sequence's steps: 'categorical LOGITS x' "
                       "of a text input only, yet");
            return -1;
        }
        uint32_t k = g->t[a].rows / (g->t[a].steps ? g->t[a].steps : 1), rn = n * k;
        if (k > 1 && x >= 0 && part->kind != TERM_KL && part->kind != TERM_CE &&
            (x = per_class(b, x, part->arg2, part->arg2_loc)) < 0)
            return -1;
        if (k > 1 && part->kind == TERM_VQ) {
            diag_error(b->d, part->arg_loc, "vq of '%s', which depends on the label with "
                       "'unlabelled': not supported yet", part->arg);
            return -1;
        }
        if (part->kind == TERM_KL) {
            int pn = root_producer(g, a);
            if (pn < 0 || g->n[pn].op != VKVAE_OP_REPARAM) {
                diag_error(b->d, part->arg_loc, "kl reads the output of a network ending in "
                           "'gaussian'; '%s' is not one", part->arg);
                return -1;
            }
            gen_node rp = g->n[pn];
            int pp = x >= 0 ? root_producer(g, x) : -1;
            if (x >= 0 && (pp < 0 || g->n[pp].op != VKVAE_OP_REPARAM)) {
                diag_error(b->d, part->arg2_loc, "kl against a learned prior reads the output "
                           "of a network ending in 'gaussian'; '%s' is not one", part->arg2);
                return -1;
            }
            if (x >= 0 && (g->n[pp].p.in != rp.p.in || g->t[x].rows != g->t[a].rows)) {
                diag_error(b->d, part->arg2_loc, "kl compares '%s' (%u values a row) with the "
                           "prior '%s' (%u): one size", part->arg, rp.p.in, part->arg2,
                           g->n[pp].p.in);
                return -1;
            }
            if (part->free_bits > 0 && x >= 0) {
                diag_error(b->d, part->free_loc, "free bits apply to a KL against N(0, I), "
                           "not against the learned prior '%s'", part->arg2);
                return -1;
            }
            if (part->free_bits > 0 && k > 1) {
                diag_error(b->d, part->free_loc, "free bits: not with 'unlabelled' (its KL "
                           "is a class copy's)");
                return -1;
            }
            if (part->free_bits > 0 && !b->s->forward_only &&
                ((uint64_t)rn * rp.p.in > 524000 || rp.p.in > 65536)) {
                /* kl_free_bits.glsl's sums within lavapipe's loop budget (a
                 * forward graph's KL has none: free bits are training's) */
                diag_error(b->d, part->free_loc, "free bits over %u rows of %u latent values: "
                           "batch x latent must stay within 524,000 (latent 65,536)", rn,
                           rp.p.in);
                return -1;
            }
            if (x >= 0) /* KL(q || p) of two diagonal Gaussians */
                out = loss_node(b, VKVAE_OP_KL_GAUSS2, xprintf("%s.kl", term->name), part->loc,
                                (int[]){ rp.in[0], rp.in[1], g->n[pp].in[0], g->n[pp].in[1],
                                         -1 }, k, (vkvae_op_params){ .n = rn, .in = rp.p.in,
                                                                     .samples = k > 1 ? k : 0 });
            else
                out = loss_node(b, VKVAE_OP_KL_GAUSS, xprintf("%s.kl", term->name), part->loc,
                                (int[]){ rp.in[0], rp.in[1], -1 }, k,
                                (vkvae_op_params){ .n = rn, .in = rp.p.in,
                                                   .samples = k > 1 ? k : 0,
                                                   .alpha = (float)part->free_bits });
        } else if (part->kind == TERM_ENTROPY || part->kind == TERM_CE) {
            /* q(y|x)'s parts: minus its entropy where a row has no label,
             * its cross-entropy where it has one (and the errors it makes) */
            bool ce = part->kind == TERM_CE;
            const char *what = ce ? "ce" : "entropy";
            if (g->label < 0) {
                diag_error(b->d, part->loc, "%s reads q(y|x) against the label: it needs a "
                           "'condition label classes N' line", what);
                return -1;
            }
            if (ce && x != g->label) {
                diag_error(b->d, part->arg2_loc, "ce compares logits with the label: its "
                           "target is y, not '%s'", part->arg2);
                return -1;
            }
            if (k > 1 || dims_count(&g->t[a].dims) != b->s->classes) {
                char got[64];
                dims_format(got, sizeof got, &g->t[a].dims);
                diag_error(b->d, part->arg_loc, "%s reads logits a class (%u) of a call that "
                           "does not depend on the label; '%s' is %s%s", what, b->s->classes,
                           part->arg, got, k > 1 ? " on every class's copy" : "");
                return -1;
            }
            vkvae_op_params cp = { .n = n, .in = b->s->classes, .classes = b->s->classes };
            if (ce) {
                out = add_tensor(g, xprintf("%s.ce", term->name), ROLE_LOSS, 1, (gen_dims){ 0 });
                int err = add_tensor(g, xprintf("%s.errors", term->name), ROLE_LOSS, 1,
                                     (gen_dims){ 0 });
                int nd = add_node(b, VKVAE_OP_SOFTMAX_CE, xprintf("%s.ce", term->name),
                                  part->loc, (int[]){ a, g->label, -1 },
                                  (int[]){ out, err, -1 });
                g->n[nd].p = cp;
                simple_flops(b, nd);
                g->t[err].needs_grad = false;
                /* reported as a term of its own: <term>_error, errors per row */
                int acc = add_tensor(g, xprintf("loss.%s_error", term->name), ROLE_LOSS, 0,
                                     flat(4));
                nd = add_node(b, VKVAE_OP_LOSS_ACCUM, xprintf("%s_error", term->name), part->loc,
                              (int[]){ err, zero, -1 }, (int[]){ acc, -1 });
                g->n[nd].p = (vkvae_op_params){ .n = n };
            } else {
                out = loss_node(b, VKVAE_OP_ENTROPY, xprintf("%s.entropy", term->name), part->loc,
                                (int[]){ a, g->label, -1 }, 1, cp);
            }
        } else if (part->kind == TERM_VQ) {
            int pn = root_producer(g, a);
            if (pn < 0 || g->n[pn].op != VKVAE_OP_VQ_NEAREST) {
                diag_error(b->d, part->arg_loc, "vq reads the output of a network ending in "
                           "'codebook'; '%s' is not one", part->arg);
                return -1;
            }
            gen_node vq = g->n[pn];
            out = loss_node(b, VKVAE_OP_VQ_LOSS, xprintf("%s.vq", term->name), part->loc,
                            (int[]){ vq.in[0], vq.out[0], -1 }, 1,
                            (vkvae_op_params){ .n = n, .in = vq.p.c_in * vq.p.in,
                                               .alpha = vq.p.alpha, .mode = vq.p.mode });
        } else if (part->kind == TERM_CATEGORICAL && g->t[a].steps) {
            if (!tokens_target(b, part, a, x))
                return -1;
            out = loss_node(b, VKVAE_OP_NLL_TOKENS, xprintf("%s.categorical", term->name),
                            part->loc, (int[]){ a, x, -1 }, 1,
                            (vkvae_op_params){ .n = n, .in = g->t[a].steps,
                                               .classes = b->s->vocab });
        } else if (part->kind == TERM_CATEGORICAL) {
            if (!categorical_target(b, part, a, x))
                return -1;
            const gen_dims *dx = &g->t[x].dims;
            out = loss_node(b, VKVAE_OP_NLL_CATEGORICAL, xprintf("%s.categorical", term->name),
                            part->loc, (int[]){ a, x, -1 }, k,
                            (vkvae_op_params){ .n = rn, .in = (uint32_t)dims_count(dx),
                                               .classes = g->t[a].dims.d[0],
                                               .samples = k > 1 ? k : 0 });
        } else if (part->kind == TERM_GAUSS || part->kind == TERM_BERNOULLI ||
                   part->kind == TERM_L2) {
            const char *kind = part->kind == TERM_GAUSS ? "gauss"
                             : part->kind == TERM_L2 ? "l2" : "bernoulli";
            const gen_dims *da = &g->t[a].dims, *dx = &g->t[x].dims;
            if (dims_count(da) != dims_count(dx) || g->t[a].rows != g->t[x].rows) {
                char sa[64], sx[64];
                dims_format(sa, sizeof sa, da);
                dims_format(sx, sizeof sx, dx);
                diag_error(b->d, part->arg2_loc, "%s compares '%s' (%s) with '%s' (%s): "
                           "one size", kind, part->arg, sa, part->arg2, sx);
                return -1;
            }
            if (part->kind == TERM_BERNOULLI || part->kind == TERM_L2) {
                /* -log Bernoulli(TARGET | sigmoid(LOGITS)), summed per row
                 * (a PixelCNN's likelihood of binary pixels), or the sum of
                 * squared errors (a VQ-VAE's reconstruction) */
                bool l2 = part->kind == TERM_L2;
                out = loss_node(b, l2 ? VKVAE_OP_L2 : VKVAE_OP_NLL_BERNOULLI,
                                xprintf("%s.%s", term->name, kind), part->loc,
                                (int[]){ a, x, -1 }, k,
                                (vkvae_op_params){ .n = rn, .in = (uint32_t)dims_count(da),
                                                   .samples = k > 1 ? k : 0 });
            } else {
                /* variance 1: nll_gauss with a fixed log-variance of 0 */
                int var = add_tensor(g, xprintf("%s.logvar", term->name), ROLE_CONST, 0, flat(1));
                out = loss_node(b, VKVAE_OP_NLL_GAUSS, xprintf("%s.gauss", term->name), part->loc,
                                (int[]){ a, var, x, -1 }, k,
                                (vkvae_op_params){ .n = rn, .in = (uint32_t)dims_count(da),
                                                   .samples = k });
            }
        } else {
            bool real = part->kind == TERM_BCE_REAL;
            out = loss_node(b, VKVAE_OP_BCE_LOGITS, xprintf("%s.%s.%s", term->name, part->arg,
                            real ? "real" : "fake"), part->loc, (int[]){ a, -1 }, k,
                            (vkvae_op_params){ .n = rn, .in = (uint32_t)dims_count(&g->t[a].dims),
                                               .mode = real, .samples = k > 1 ? k : 0 });
        }
        g->t[out].needs_grad = false;
        term_node[g->t[out].producer] = term_index;
        if (k > 1) { /* the copies' weighted sum per row */
            int each = out;
            out = add_tensor(g, xprintf("%s.per_row", g->t[each].name), ROLE_LOSS, 1,
                             (gen_dims){ 0 });
            int nd = add_node(b, VKVAE_OP_LABEL_SUM, xprintf("%s_label_sum", g->t[each].name),
                              part->loc, (int[]){ each, b->label_wt, -1 }, (int[]){ out, -1 });
            g->n[nd].p = (vkvae_op_params){ .n = n, .classes = b->s->classes };
            simple_flops(b, nd);
            g->t[out].needs_grad = false;
            term_node[nd] = term_index;
        }
        if (sum < 0) {
            sum = out;
            continue;
        }
        int next = add_tensor(g, xprintf("%s.sum%zu", term->name, i), ROLE_LOSS, 1,
                              (gen_dims){ 0 });
        int nd = add_node(b, VKVAE_OP_ADD, xprintf("%s_sum", term->name), part->loc,
                          (int[]){ sum, out, -1 }, (int[]){ next, -1 });
        g->n[nd].p = (vkvae_op_params){ .n = n, .in = 1 };
        g->t[next].needs_grad = false;
        sum = next;
    }
    int acc = add_tensor(g, xprintf("loss.%s", term->name), ROLE_LOSS, 0, flat(4));
    int nd = add_node(b, VKVAE_OP_LOSS_ACCUM, term->name, term->loc, (int[]){ sum, zero, -1 },
                      (int[]){ acc, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n };
    simple_flops(b, nd);
    return sum;
}

/* Each update line: the networks it trains (each trained by one line) and
 * the forward nodes its terms need. */
static void update_sets(builder *b, const int *term_acc, const int *term_node)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    const gen_update **owner = xmalloc(s->n_nets * sizeof *owner);
    memset(owner, 0, s->n_nets * sizeof *owner);
    g->upd = xmalloc(s->n_updates * sizeof *g->upd);
    g->n_upd = s->n_updates;
    g->nt_fwd = g->nt;
    for (size_t u = 0; u < s->n_updates; u++) {
        const gen_update *up = &s->updates[u];
        gen_graph_update *gu = &g->upd[u];
        *gu = (gen_graph_update){ .take = xmalloc(g->nn), .trains = xmalloc(g->nt),
                                  .weight = xmalloc(g->nn * sizeof(double)) };
        for (size_t i = 0; i < g->nn; i++)
            gu->weight[i] = 1;
        memset(gu->take, 0, g->nn);
        memset(gu->trains, 0, g->nt);
        for (size_t i = 0; i < up->n_nets; i++) {
            const gen_network *net = find_network(s, up->nets[i].s);
            if (!net) {
                diag_error(b->d, up->nets[i].loc, "unknown network '%s'", up->nets[i].s);
                continue;
            }
            size_t ni = (size_t)(net - s->nets);
            if (owner[ni]) {
                diag_error(b->d, up->nets[i].loc, "network '%s' is trained by line %d already",
                           net->name, owner[ni]->loc.line);
                continue;
            }
            owner[ni] = up;
            size_t len = strlen(net->name);
            for (size_t t = 0; t < g->nt; t++)
                gu->trains[t] = gu->trains[t] || (g->t[t].role == ROLE_PARAM &&
                                strncmp(g->t[t].name, net->name, len) == 0 &&
                                g->t[t].name[len] == '.');
        }
        /* what depends on the networks it trains: a gauss target must not */
        bool *dep = xmalloc(g->nt);
        memcpy(dep, gu->trains, g->nt);
        for (size_t i = 0; i < g->nn; i++)
            for (int j = 0; j < g->n[i].nin; j++)
                for (int o = 0; dep[g->n[i].in[j]] && o < g->n[i].nout; o++)
                    dep[g->n[i].out[o]] = true;
        int *outs = xmalloc((up->n_terms + 1) * sizeof(int));
        for (size_t i = 0; i < up->n_terms; i++) {
            int k = -1;
            for (size_t t = 0; t < s->n_terms && k < 0; t++)
                k = strcmp(s->terms[t].name, up->terms[i].s) == 0 ? (int)t : -1;
            if (k < 0)
                diag_error(b->d, up->terms[i].loc, "unknown loss term '%s'", up->terms[i].s);
            outs[i] = k < 0 ? -1 : term_acc[k];
            if (k < 0)
                break;
            for (size_t nd = 0; nd < g->nn; nd++)
                if (term_node[nd] == k) {
                    gu->weight[nd] = up->weights[i];
                    int op = g->n[nd].op;
                    if ((op == VKVAE_OP_NLL_GAUSS && dep[g->n[nd].in[2]]) ||
                        ((op == VKVAE_OP_NLL_BERNOULLI || op == VKVAE_OP_NLL_CATEGORICAL ||
                          op == VKVAE_OP_L2) && dep[g->n[nd].in[1]]))
                        diag_error(b->d, up->terms[i].loc, "term '%s': the target of its "
                                   "%s part (the second tensor) depends on a network this "
                                   "update trains, and gets no gradient: make it the first",
                                   up->terms[i].s, op == VKVAE_OP_NLL_GAUSS ? "gauss"
                                   : op == VKVAE_OP_NLL_BERNOULLI ? "bernoulli"
                                   : op == VKVAE_OP_L2 ? "l2" : "categorical");
                    if (g->n[nd].op == VKVAE_OP_KL_GAUSS && up->weights[i] != 1)
                        diag_error(b->d, up->terms[i].loc, "a weight on term '%s', which has a "
                                   "kl part, is not supported yet: kl is minimised with "
                                   "weight 1", up->terms[i].s);
                }
        }
        outs[up->n_terms] = -1;
        graph_select(g, outs, (int[]){ -1 }, gu->take);
        /* a kl part's z must feed a term of the same update too: reparam's
         * backward adds the KL's gradient to the one z passes back */
        for (size_t k = 0; k < g->nn; k++) {
            if (!gu->take[k] || g->n[k].op != VKVAE_OP_KL_GAUSS)
                continue;
            int z = -1;
            for (size_t r = 0; r < g->nn; r++)
                if (g->n[r].op == VKVAE_OP_REPARAM && g->n[r].in[0] == g->n[k].in[0])
                    z = g->n[r].out[0];
            bool fed = false;
            for (size_t c = 0; z >= 0 && c < g->nn; c++)
                for (int j = 0; gu->take[c] && j < g->n[c].nin; j++)
                    fed |= tensor_root(g, g->n[c].in[j]) == z && g->n[c].op != VKVAE_OP_REPARAM;
            if (!fed)
                diag_error(b->d, up->loc, "this update minimises a kl but no term of it reads "
                           "what that code decodes to: not supported yet; add the "
                           "reconstruction's term");
        }
        /* a codebook learns from its vq part alone: the update that trains
         * it minimises that part of each of its calls */
        for (size_t k = 0; k < g->nn; k++) {
            if (g->n[k].op != VKVAE_OP_VQ_NEAREST || !gu->trains[g->n[k].in[1]])
                continue;
            bool has_vq = false;
            for (size_t c = 0; gu->take[k] && c < g->nn; c++)
                has_vq |= gu->take[c] && g->n[c].op == VKVAE_OP_VQ_LOSS &&
                          g->n[c].in[1] == g->n[k].out[0];
            if (!has_vq)
                diag_error(b->d, up->loc, "this update trains codebook '%s' (line %d) but "
                           "minimises no 'vq' part of its output: the codes learn from that "
                           "part alone; add 'vq NAME' to a term of this update",
                           g->t[g->n[k].in[1]].name, g->n[k].loc.line);
        }
        xfree(outs);
        xfree(dep);
    }
    for (size_t i = 0; i < s->n_nets; i++) {
        /* (a network of fixed layers, edges alone, has nothing to train) */
        size_t len = strlen(s->nets[i].name);
        bool params = false;
        for (size_t t = 0; t < g->nt && !params; t++)
            params = g->t[t].role == ROLE_PARAM &&
                     strncmp(g->t[t].name, s->nets[i].name, len) == 0 &&
                     g->t[t].name[len] == '.';
        if (!owner[i] && params)
            diag_error(b->d, s->nets[i].st.loc, "no 'update' line trains network '%s'",
                       s->nets[i].name);
    }
    xfree(owner);
}

/* 'unlabelled Q': the weight of each class's copy of a row (the label's
 * one-hot, or softmax(Q) where the row has none). False after an error. */
static bool label_weights(builder *b, const named *names, size_t n_names, uint32_t n)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    int at = lookup(names, n_names, s->unlabelled);
    if (at < 0 || names[at].t == g->x || names[at].t == g->label) {
        diag_error(b->d, s->unlabelled_loc, "'%s' is not a call's output: 'unlabelled' names "
                   "the logits of q(y|x), a call on x", s->unlabelled);
        return false;
    }
    int q = names[at].t;
    if (g->t[q].rows > 1) {
        diag_error(b->d, s->unlabelled_loc, "'%s' depends on the label: q(y|x) must not read "
                   "it (no 'concat label' in its network, nor a call on y)", s->unlabelled);
        return false;
    }
    if (dims_count(&g->t[q].dims) != s->classes) {
        char got[64];
        dims_format(got, sizeof got, &g->t[q].dims);
        diag_error(b->d, s->unlabelled_loc, "'%s' gives %s: q(y|x) is a logit a class (%u)",
                   s->unlabelled, got, s->classes);
        return false;
    }
    b->label_wt = add_tensor(g, xprintf("y.weights"), ROLE_ACT, s->classes, (gen_dims){ 0 });
    int nd = add_node(b, VKVAE_OP_LABEL_WEIGHTS, "label_weights", s->unlabelled_loc,
                      (int[]){ q, g->label, -1 }, (int[]){ b->label_wt, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n, .classes = s->classes };
    g->t[b->label_wt].needs_grad = false; /* label_sum_bwd forms q's gradient */
    simple_flops(b, nd);
    return true;
}

/* A text model's call on x and noise makes the samples a step at a time:
 * its network shifts the tokens first and reads no other view of them, so
 * step t's logits see the tokens before t alone (g->ar_logits). False
 * after an error. */
static bool text_sampler(builder *b)
{
    gen_graph *g = b->g;
    const gen_stack *st = &b->sample_net->st;
    const gen_tensor *o = &g->t[g->sample_out];
    uint32_t T = (uint32_t)dims_count(&b->s->input);
    bool causal = st->n > 0 && st->layers[0].kind == LAYER_SHIFT;
    for (size_t i = 1; i < st->n && causal; i++)
        causal = !(st->layers[i].ref && strcmp(st->layers[i].ref, "input") == 0);
    if (!causal || o->steps != T || o->rows != T || o->dims.rank != 1 ||
        o->dims.d[0] != b->s->vocab) {
        char got[64];
        dims_format(got, sizeof got, &o->dims);
        diag_error(b->d, b->s->noise_loc, "the call on x and noise makes a text model's "
                   "samples a step at a time: its network '%s' must begin with 'shift' (and "
                   "read x no other way) and give logits over the vocabulary (%u) at x's %u "
                   "steps; it gives %s%s", b->sample_net->name, b->s->vocab, T, got,
                   o->steps ? " a step" : "");
        return false;
    }
    g->ar_logits = g->sample_out;
    g->ar_classes = b->s->vocab;
    return true;
}

/* A text model's encoder: the draw of a gaussian call made from x alone
 * (g->code_z), whose mean encode gives (reconstruct, interpolate). */
static void find_text_code(gen_graph *g)
{
    for (size_t i = 0; i < g->n_fwd && g->code_z < 0; i++)
        if (g->n[i].op == VKVAE_OP_REPARAM)
            g->code_z = draw_from(g, g->n[i].out[0], (int[]){ g->x, -1 });
}

/* The IWAE estimate's graph (s->estimate; gen/plan.c's
 * general_estimate_program): for a VAE of the general form whose loss is
 * one likelihood of x (categorical, over steps or not, or bernoulli) plus
 * the KL of the encoder's code, in one update at weight 1, with no label,
 * the log weight log p(x|z) + log p(z) - log q(z|x) of each row's own draw
 * (iwae_logw, one sample a row: the host puts an item in every row's
 * place it likes and runs again for more). Else g->logw stays -1. */
static void estimate_node(builder *b)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    if (g->code_z < 0 || g->label >= 0 || s->n_updates != 1)
        return;
    size_t parts = 0;
    for (size_t t = 0; t < s->n_terms; t++)
        parts += s->terms[t].n;
    for (size_t t = 0; t < s->updates[0].n_terms; t++)
        if (s->updates[0].weights[t] != 1)
            return;
    gen_node rp = g->n[g->t[g->code_z].producer];
    int nll = -1, kls = 0;
    for (size_t i = 0; i < g->nn; i++) {
        const gen_node *nd = &g->n[i];
        if ((nd->op == VKVAE_OP_NLL_TOKENS || nd->op == VKVAE_OP_NLL_CATEGORICAL ||
             nd->op == VKVAE_OP_NLL_BERNOULLI) && tensor_root(g, nd->in[1]) == g->x)
            nll = nll == -1 ? nd->out[0] : -2;
        kls += nd->op == VKVAE_OP_KL_GAUSS && nd->in[0] == rp.in[0] && nd->in[1] == rp.in[1];
    }
    if (nll < 0 || kls != 1 || parts != 2 || g->t[nll].rows != 1)
        return;
    g->logw = loss_node(b, VKVAE_OP_IWAE_LOGW, "logw", s->general_loc,
                        (int[]){ nll, rp.out[0], rp.out[1], rp.in[1], -1 }, 1,
                        (vkvae_op_params){ .n = g->batch, .in = rp.p.in, .samples = 1 });
}

/* The general form's graph: the data and noise, the calls, the terms,
 * their total for loss.acc (its recon slot), and the updates' sets. */
static bool general_nodes(builder *b, uint32_t n)
{
    const gen_spec *s = b->s;
    gen_graph *g = b->g;
    int before = b->d->errors;
    int x = data_nodes(b, n);
    size_t max_names = s->n_calls + 3;
    for (size_t c = 0; c < s->n_calls; c++)
        max_names += s->calls[c].n_taps;
    named *names = xmalloc(max_names * sizeof *names);
    size_t n_names = 0;
    names[n_names++] = (named){ "x", s->input_loc, x };
    if (g->label >= 0) /* 'condition label classes N': y, the label one-hot */
        names[n_names++] = (named){ "y", s->condition_loc, g->label };
    if (s->has_noise) {
        g->noise = add_tensor(g, xprintf("noise"), ROLE_ACT, 1, flat(s->noise));
        int nd = add_node(b, VKVAE_OP_PRIOR, "noise", s->noise_loc, (int[]){ -1 },
                          (int[]){ g->noise, -1 });
        g->n[nd].p = (vkvae_op_params){ .n = n, .in = s->noise, .stream = VKVAE_STREAM_PRIOR };
        g->t[g->noise].needs_grad = false;
        names[n_names++] = (named){ "noise", s->noise_loc, g->noise };
    }
    if (s->unlabelled) { /* M2: the label of each class's copy of a row */
        b->y_classes = add_tensor(g, xprintf("y.classes"), ROLE_ACT, s->classes,
                                  flat(s->classes));
        int nd = add_node(b, VKVAE_OP_CLASS_ROWS, "y_classes", s->unlabelled_loc, (int[]){ -1 },
                          (int[]){ b->y_classes, -1 });
        g->n[nd].p = (vkvae_op_params){ .n = n, .classes = s->classes };
        g->t[b->y_classes].needs_grad = false;
    }
    const gen_net_call **first_of = xmalloc((s->n_nets + 1) * sizeof *first_of);
    memset(first_of, 0, (s->n_nets + 1) * sizeof *first_of);
    if (!call_nodes(b, names, &n_names, first_of))
        return false;
    if (s->unlabelled && !label_weights(b, names, n_names, n))
        return false;
    if (g->sample_out >= 0 && s->vocab && !text_sampler(b))
        return false;
    if (g->sample_out >= 0 && !s->vocab) {
        const gen_dims *o = &g->t[g->sample_out].dims;
        if (o->rank != s->input.rank ||
            memcmp(o->d, s->input.d, sizeof(uint32_t) * (size_t)o->rank) != 0) {
            char got[64], want[64];
            dims_format(got, sizeof got, o);
            dims_format(want, sizeof want, &s->input);
            diag_error(b->d, s->noise_loc, "the first call on noise makes the samples: it "
                       "gives %s, the input is %s", got, want);
            return false;
        }
    }
    int zero = add_tensor(g, xprintf("term_zero"), ROLE_CONST, 1, (gen_dims){ 0 });
    int *term_node = NULL; /* per node: the term whose part it computes, or -1 */
    size_t cap_term_node = 0, n_term_node = 0;
    int *term_acc = xmalloc((s->n_terms + 1) * sizeof(int));
    int total = -1;
    for (size_t t = 0; t < s->n_terms; t++) {
        for (size_t u = 0; u < t; u++)
            if (strcmp(s->terms[u].name, s->terms[t].name) == 0)
                diag_error(b->d, s->terms[t].loc, "duplicate loss term '%s' (first at line %d)",
                           s->terms[t].name, s->terms[u].loc.line);
        GROW(term_node, cap_term_node, g->nn + 16 * s->terms[t].n);
        for (size_t k = n_term_node; k < cap_term_node; k++)
            term_node[k] = -1;
        n_term_node = cap_term_node;
        int rows = term_nodes(b, &s->terms[t], names, n_names, zero, n, term_node, (int)t);
        if (rows < 0)
            return false;
        term_acc[t] = (int)g->nt - 1;
        if (total < 0) {
            total = rows;
            continue;
        }
        int next = add_tensor(g, xprintf("total.sum%zu", t), ROLE_LOSS, 1, (gen_dims){ 0 });
        int nd = add_node(b, VKVAE_OP_ADD, "total_sum", s->terms[t].loc,
                          (int[]){ total, rows, -1 }, (int[]){ next, -1 });
        g->n[nd].p = (vkvae_op_params){ .n = n, .in = 1 };
        g->t[next].needs_grad = false;
        total = next;
    }
    if (total < 0) {
        diag_error(b->d, s->general_loc, "no loss terms: add a 'loss' section, e.g. "
                   "'d_loss = bce d_real real + bce d_fake fake'");
        return false;
    }
    g->loss = add_tensor(g, xprintf("loss_acc"), ROLE_LOSS, 0, flat(4));
    int nd = add_node(b, VKVAE_OP_LOSS_ACCUM, "loss", s->general_loc, (int[]){ total, zero, -1 },
                      (int[]){ g->loss, -1 });
    g->n[nd].p = (vkvae_op_params){ .n = n };
    g->recon = total;
    g->kl = zero;
    g->n_fwd = g->nn; /* graph_select walks the forward nodes */
    GROW(term_node, cap_term_node, g->nn);
    for (size_t k = n_term_node; k < cap_term_node; k++)
        term_node[k] = -1;
    update_sets(b, term_acc, term_node);
    find_pixel_model(s, g, names, n_names);
    find_codebook_model(s, g, names, n_names);
    find_prior_sampler(s, g, names, n_names);
    if (s->unlabelled)
        find_given_vae(b, g, names, n_names);
    if (s->vocab && g->ar_logits >= 0)
        find_text_code(g);
    if (s->estimate) { /* (a forward graph: its updates' node sets go unread) */
        estimate_node(b);
        g->n_fwd = g->nn;
        g->n_upd = 0;
    }
    return b->d->errors == before;
}

/* The forward graph of spec s with every shape, checked; false after an
 * error (reported to d). */
bool infer_shapes(const gen_spec *s, gen_graph *g, gen_diag *d)
{
    int before = d->errors;
    *g = (gen_graph){ .spec = s, .batch = s->batch, .x = -1, .label = -1, .loss = -1,
                      .enc_in = -1, .mu = -1, .logvar = -1, .z = -1, .dec_out = -1,
                      .recon = -1, .kl = -1, .logw = -1, .noise = -1, .sample_out = -1,
                      .ar_logits = -1, .ar_classes = 0, .vq_ze = -1, .vq_out = -1,
                      .prior_z = -1, .code_z = -1, .cond = -1 };
    builder b = { .s = s, .g = g, .d = d, .label = -1, .y_classes = -1, .label_wt = -1,
                  .input2 = -1 };
    check_input(s, d);
    if (s->general)
        check_general(s, d);
    else
        check_combinations(s, d);
    bool vae = s->obj == OBJ_ELBO || s->obj == OBJ_IWAE;
    bool logits = vae ? s->lik == LIK_BERNOULLI : s->loss == LOSS_BCE;
    uint32_t k = s->obj == OBJ_IWAE ? s->k : 1;
    uint32_t n = s->batch;
    if ((uint64_t)n * k > GEN_MAX_BATCH * 16u)
        diag_error(d, s->objective_loc, "batch %u times k %u is more than %d rows", n, k,
                   GEN_MAX_BATCH * 16);
    if (d->errors != before)
        return false;

    int eps = -1, out_lv = -1;
    if (s->general) {
        if (!general_nodes(&b, n))
            return false;
    } else if (s->obj == OBJ_CLASSIFY) {
        if (!classifier_nodes(&b, n))
            return false;
    } else if (!encoder_nodes(&b, data_nodes(&b, n), n, k, vae, &eps) ||
               decoder_nodes(&b, k, vae, logits, &out_lv) < 0) {
        return false;
    } else {
        loss_nodes(&b, n, k, vae, logits, eps, out_lv);
    }
    check_names(g, d);

    uint64_t per = s->optim == OPTIM_SGD ? 2 + (s->momentum > 0 ? 2 : 0) : 12;
    if (s->weight_decay > 0)
        per += 2;
    g->flops_optim = per * g->n_params;
    for (size_t i = 0; i < g->nn; i++) {
        g->flops_fwd = add_sat(g->flops_fwd, g->n[i].flops_fwd);
        g->flops_bwd = add_sat(g->flops_bwd, g->n[i].flops_bwd);
    }
    g->n_fwd = g->nn;
    return d->errors == before;
}
