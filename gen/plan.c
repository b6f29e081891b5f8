/* lower_plan: the differentiated graph as plan/plan.h tables (buffers,
 * tensors, and every program's steps, one per node). The driver
 * (compile.c) runs it after grad.c and before fuse.c and the barriers.
 *
 * Buffers by role, every tensor at a 256-byte aligned offset:
 *   params   PARAM   each parameter (PyTorch name), weights before biases,
 *                    and "params.all" over the whole buffer, padding
 *                    included; grad.c's weight concat of two parameters
 *                    that lie back to back is a view of both instead
 *   grads    GRAD    the same layout: "grad.<param>" and "grads.all"
 *   optim    OPTIM   "adam.m" and "adam.v" (or "sgd.buf"), each a copy of that
 *                    layout, so the optimizer is one dispatch over .all
 *   state    STATE   batch norm's "<bn>.running_mean" and ".running_var"
 *                    (only with a batchnorm layer): checkpointed, not trained
 *   train.images / train.labels / train.perm   DATA, one buffer each:
 *                    u8 [rows, features], u8 [rows], u32 [rows]; rows is
 *                    --data-rows (60000); evaluation uploads the test set
 *                    into the same buffers (rows <= that)
 *   io       IO      io.x, io.y (conditional), io.mu, io.logvar (VAE),
 *                    io.z, io.mean: what encode/decode/sample read and write
 *   accum    ACCUM   "loss.acc" [4] (loss_accum's sums)
 *   act      ACTIVATION  every per-batch tensor and gradient, one region
 *                    each (no aliasing yet), and the constants (kl_zero, and the
 *                    lv binding of a fixed variance's nll_gauss, which
 *                    reads its log-variance from the step's alpha instead),
 *                    which nothing writes and so stay zero from creation
 * A view (flatten/reshape) is its root's plan tensor.
 *
 * Programs, each an ordered list of steps (which fuse.c then joins where
 * one dispatch does two steps' work, and runtime/plan/hazard.c separates
 * with barriers, the train step's cyclically, as it is recorded back to
 * back):
 *   train   gather [gather_onehot] [corrupt], forward, loss terms,
 *           loss_accum, backward, one optimizer step
 *   eval    the same up to loss_accum
 *   encode  io.x [io.y] -> io.mu [io.logvar]    (an AE: its code in io.mu)
 *   decode  io.z [io.y] -> io.mean              (sigmoid of logits, or the
 *                                                Gaussian mean/L2 output)
 *   sample  prior -> io.z, then decode          (VAEs only)
 *   iwae    io.iwae_x [io.iwae_y] -> io.logw     (VAEs only: a chunk of the
 *                                                IWAE estimate's log weights)
 * Encode, decode and sample take only the nodes their outputs need. An
 * IWAE model's decoder runs over n*k rows in train and eval; its encode,
 * decode and sample programs, and every model's iwae program, come from a
 * second graph of the same spec (one sample per row; C samples for E
 * examples), lowered on the same parameters, with activations of their own
 * ("k1.", "iwae.").
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "plan/op_info.h"

static uint64_t align256(uint64_t v) { return (v + 255) & ~(uint64_t)255; }

static uint32_t add_buffer(gen_plan *pl, const char *name, vkvae_buffer_role role)
{
    GROW(pl->buf, pl->cap_b, pl->nb + 1);
    pl->buf[pl->nb] = (vkvae_buffer_desc){ .name = name, .role = role };
    return (uint32_t)pl->nb++;
}

/* Appends a tensor of elems elements of elem_size bytes at the end of buffer
 * b (aligned), shaped [rows?, dims...]. */
static int add_ptensor(gen_plan *pl, uint32_t b, const char *name, uint64_t rows,
                       const gen_dims *dims, uint64_t elem_size)
{
    GROW(pl->t, pl->cap_t, pl->nt + 1);
    vkvae_tensor_desc *t = &pl->t[pl->nt];
    *t = (vkvae_tensor_desc){ .name = name, .buffer = b };
    t->offset = align256(pl->buf[b].bytes);
    uint64_t elems = rows ? rows : 1;
    if (rows)
        t->shape[t->rank++] = (uint32_t)rows;
    for (int i = 0; i < dims->rank && t->rank < 4; i++)
        t->shape[t->rank++] = dims->d[i];
    elems *= dims_count(dims);
    if (t->rank == 0)
        t->shape[t->rank++] = 1;
    t->elems = elems;
    pl->buf[b].bytes = t->offset + elems * elem_size;
    return (int)pl->nt++;
}

static bool is_bias(const gen_tensor *t)
{
    size_t len = strlen(t->name);
    return len >= 5 && strcmp(t->name + len - 5, ".bias") == 0;
}

/* A concat stacking two parameters (n = 1: a whole tensor after the other;
 * grad.c's weight_cat) that already lie back to back in the params buffer
 * is a view of both: map its output there and the step goes. */
static bool stacks_adjacent(gen_plan *pl, const gen_graph *g, const gen_node *n, int *map)
{
    if (n->op != VKVAE_OP_CONCAT || n->p.n != 1)
        return false;
    int ra = tensor_root(g, n->in[0]), rb = tensor_root(g, n->in[1]);
    if (g->t[ra].role != ROLE_PARAM || g->t[rb].role != ROLE_PARAM)
        return false;
    int out = tensor_root(g, n->out[0]);
    int v = stacked_view(pl, map[ra], map[rb], g->t[out].name);
    if (v < 0)
        return false;
    map[out] = v;
    return true;
}

/* ---- programs ---- */

static void add_step(gen_plan *pl, gen_program *pr, int op, const int *tensors, int n,
                     const vkvae_op_params *p)
{
    (void)pl;
    GROW(pr->steps, pr->cap, pr->n + 1);
    vkvae_step_desc *s = &pr->steps[pr->n++];
    *s = (vkvae_step_desc){ .op = (vkvae_op)op, .n_tensors = (uint32_t)n, .p = *p };
    for (int i = 0; i < n; i++)
        s->tensors[i] = (uint32_t)tensors[i];
}

/* node n of graph g as a step; map: g's root tensors -> plan tensors */
static void add_node_step(gen_plan *pl, gen_program *pr, const gen_graph *g, const gen_node *n,
                          const int *map)
{
    int t[GEN_MAX_IO * 2], k = 0;
    for (int i = 0; i < n->nin; i++)
        t[k++] = map[tensor_root(g, n->in[i])];
    for (int i = 0; i < n->nout; i++)
        t[k++] = map[tensor_root(g, n->out[i])];
    add_step(pl, pr, n->op, t, k, &n->p);
}

/* A sample program's first step: z ~ N(0, I) into the io tensor z, n rows of
 * width values. */
static void add_prior(gen_plan *pl, gen_program *pr, int z, uint32_t n, uint32_t width)
{
    add_step(pl, pr, VKVAE_OP_PRIOR, (int[]){ z }, 1,
             &(vkvae_op_params){ .n = n, .in = width, .stream = VKVAE_STREAM_PRIOR });
}

static gen_program *new_program(gen_plan *pl, vkvae_program_kind kind, const char *name)
{
    gen_program *pr = &pl->prog[pl->n_prog++];
    *pr = (gen_program){ .kind = kind, .name = name };
    return pr;
}

/* ---- encode, decode, sample, and the IWAE estimate ---- */

/* The io buffer and its tensors (-1: absent). */
typedef struct io_tensors {
    uint32_t buffer;
    int x, y, mu, lv, z, mean;
    int codes;          /* a VQ-VAE's code indices (encode's second output), or -1 */
} io_tensors;

/* The same spec with another objective, k and batch: a second graph whose
 * programs run beside the main one's, on the same parameters. */
static gen_graph *aux_graph(const gen_spec *base, gen_objective obj, uint32_t k, uint32_t batch,
                            bool estimate)
{
    gen_spec *s = xmalloc(sizeof *s);
    *s = *base;
    s->obj = obj;
    s->k = k;
    s->batch = batch;
    s->forward_only = true;
    s->estimate = estimate;
    gen_graph *g = xmalloc(sizeof *g);
    gen_diag d = { .out = stderr };
    return infer_shapes(s, g, &d) ? g : NULL;
}

/* An auxiliary graph's map: its parameters are the plan's (by name); the
 * rest is made as steps bind it (aux_bind). */
static int *aux_map(const gen_plan *pl, const gen_graph *a)
{
    int *map = xmalloc(a->nt * sizeof(int));
    for (size_t i = 0; i < a->nt; i++) {
        map[i] = -1;
        bool kept = a->t[i].role == ROLE_PARAM || a->t[i].role == ROLE_STATE;
        for (size_t j = 0; kept && j < pl->nt; j++) {
            vkvae_buffer_role r = pl->buf[pl->t[j].buffer].role;
            if ((r == VKVAE_ROLE_PARAM || r == VKVAE_ROLE_STATE) &&
                strcmp(pl->t[j].name, a->t[i].name) == 0)
                map[i] = (int)j;
        }
    }
    return map;
}

/* Every root tensor the taken nodes bind and pmap lacks: a region of act
 * named prefix.name, recorded in map too (later programs share it). */
static void aux_bind(gen_plan *pl, const gen_graph *a, int *map, int *pmap, const bool *take,
                     uint32_t bact, const char *prefix)
{
    for (size_t i = 0; i < a->n_fwd; i++) {
        const gen_node *n = &a->n[i];
        for (int j = 0; take[i] && j < n->nin + n->nout; j++) {
            int t = tensor_root(a, j < n->nin ? n->in[j] : n->out[j - n->nin]);
            if (pmap[t] >= 0)
                continue;
            if (map[t] < 0)
                map[t] = add_ptensor(pl, bact, xprintf("%s.%s", prefix, a->t[t].name),
                                     (uint64_t)a->t[t].rows * a->batch, &a->t[t].dims, 4);
            pmap[t] = map[t];
        }
    }
}

/* The likelihood's mean, sigmoid(logits), into mean: folded into the
 * epilogue of the step that wrote the logits when that step applies an
 * activation to its output (dense, conv2d, convt2d: output last) and has
 * none yet, which saves a pass over the images (and a dispatch); else a
 * sigmoid step. The logits tensor then goes unwritten: nothing else in
 * these programs reads it. */
static void add_mean(gen_plan *pl, gen_program *pr, int logits, int mean, uint32_t n,
                     uint32_t features)
{
    vkvae_step_desc *last = pr->n ? &pr->steps[pr->n - 1] : NULL;
    bool applies_act = last && (last->op == VKVAE_OP_DENSE || last->op == VKVAE_OP_CONV2D ||
                                last->op == VKVAE_OP_CONVT2D);
    if (applies_act && last->p.act == VKVAE_ACT_NONE &&
        last->tensors[last->n_tensors - 1] == (uint32_t)logits) {
        last->p.act = VKVAE_ACT_SIGMOID;
        last->tensors[last->n_tensors - 1] = (uint32_t)mean;
        return;
    }
    add_step(pl, pr, VKVAE_OP_SIGMOID, (int[]){ logits, mean }, 2,
             &(vkvae_op_params){ .n = n, .in = features });
}

/* encode, decode and sample from graph g (map: its tensors; prefix: NULL
 * for the main graph, whose tensors are all mapped, else the name prefix
 * of an auxiliary graph's activations). */
static void io_programs(gen_plan *pl, const gen_graph *g, int *map, const io_tensors *io,
                        bool vae, bool logits, uint32_t bact, const char *prefix)
{
    const gen_spec *s = g->spec;
    uint32_t B = g->batch;
    int *pmap = xmalloc(g->nt * sizeof(int));
    bool *take = xmalloc(g->n_fwd ? g->n_fwd : 1);
    int enc_in = tensor_root(g, g->enc_in), label = g->label;
    int mu = g->mu, lv = g->logvar, z = g->z, out = tensor_root(g, g->dec_out);
    for (int kind = VKVAE_PROGRAM_ENCODE; kind <= VKVAE_PROGRAM_SAMPLE; kind++) {
        if (kind == VKVAE_PROGRAM_SAMPLE && !vae)
            break; /* an autoencoder's code has no prior to sample */
        memcpy(pmap, map, g->nt * sizeof(int));
        memset(take, 0, g->n_fwd ? g->n_fwd : 1);
        if (label >= 0)
            pmap[label] = io->y;
        gen_program *pr;
        if (kind == VKVAE_PROGRAM_ENCODE) {
            pr = new_program(pl, VKVAE_PROGRAM_ENCODE, "encode");
            pmap[enc_in] = io->x;
            pmap[mu] = io->mu;
            if (lv >= 0)
                pmap[lv] = io->lv;
            graph_select(g, (int[]){ mu, lv, -1 }, (int[]){ enc_in, label, -1 }, take);
        } else {
            pr = new_program(pl, kind, kind == VKVAE_PROGRAM_DECODE ? "decode" : "sample");
            pmap[z] = io->z;
            if (!logits)
                pmap[out] = io->mean;
            graph_select(g, (int[]){ out, -1 }, (int[]){ z, label, -1 }, take);
            if (kind == VKVAE_PROGRAM_SAMPLE)
                add_prior(pl, pr, io->z, B, s->latent);
        }
        if (prefix)
            aux_bind(pl, g, map, pmap, take, bact, prefix);
        for (size_t i = 0; i < g->n_fwd; i++)
            if (take[i])
                add_node_step(pl, pr, g, &g->n[i], pmap);
        if (kind != VKVAE_PROGRAM_ENCODE && logits)
            add_mean(pl, pr, pmap[out], io->mean, B, (uint32_t)dims_count(&s->input));
    }
    xfree(take);
    xfree(pmap);
}

/* A tensor viewing the first rows of io tensor t (same buffer and offset). */
static int io_rows(gen_plan *pl, int t, const char *name, uint32_t rows)
{
    vkvae_tensor_desc d = pl->t[t];
    d.name = name;
    d.elems = d.elems / d.shape[0] * rows;
    d.shape[0] = rows;
    GROW(pl->t, pl->cap_t, pl->nt + 1);
    pl->t[pl->nt] = d;
    return (int)pl->nt++;
}

/* The IWAE estimate of log p(x) (BRIEF 2): up to 5000 samples per example,
 * too many rows for one dispatch on a laptop GPU, so a run computes the log
 * weights of a chunk of C samples for E examples: io.x's first E rows in
 * (io.iwae_x; io.iwae_y for a condition), io.logw [E*C] out (sample s of
 * example r at r*C + s). The host runs it once per chunk with push.step
 * advancing, so every chunk draws its own eps, and combines the chunks with
 * a log-sum-exp in double. E*C rows stay within 1024 and 64 MiB of
 * activations. */
enum { EST_EXAMPLES = 8, EST_ROWS = 1024, EST_BYTES = 64 << 20 };

/* The activation bytes an example of probe (an estimate graph at batch
 * 1) takes: a sequence's tensors hold its steps' rows. */
static uint64_t example_bytes(const gen_graph *probe)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < probe->nt; i++)
        if (probe->t[i].rows && probe->t[i].alias < 0 && probe->t[i].role != ROLE_DATA)
            bytes += 4ull * probe->t[i].rows * dims_count(&probe->t[i].dims);
    return bytes ? bytes : 1;
}

/* The iwae program: estimate graph a's steps from ins (its inputs, mapped
 * to io tensors in map) to a->logw, its other activations bound in bact. */
static void add_estimate(gen_plan *pl, const gen_graph *a, int *map, const int *ins,
                         uint32_t bact)
{
    bool *take = xmalloc(a->n_fwd);
    memset(take, 0, a->n_fwd);
    graph_select(a, (int[]){ a->logw, -1 }, ins, take);
    aux_bind(pl, a, map, map, take, bact, "iwae");
    gen_program *pr = new_program(pl, VKVAE_PROGRAM_IWAE, "iwae");
    for (size_t i = 0; i < a->n_fwd; i++)
        if (take[i])
            add_node_step(pl, pr, a, &a->n[i], map);
    xfree(take);
}

static bool estimate_program(gen_plan *pl, const gen_spec *s, const io_tensors *io, uint32_t bact)
{
    uint32_t E = pl->batch < EST_EXAMPLES ? pl->batch : EST_EXAMPLES;
    gen_graph *probe = aux_graph(s, OBJ_IWAE, 1, 1, false);
    if (!probe)
        return false;
    uint64_t rows = EST_BYTES / example_bytes(probe);
    rows = rows > EST_ROWS ? EST_ROWS : rows;
    uint32_t C = (uint32_t)(rows / E ? rows / E : 1);
    gen_graph *a = aux_graph(s, OBJ_IWAE, C, E, false);
    if (!a)
        return false;
    int *map = aux_map(pl, a);
    int enc_in = tensor_root(a, a->enc_in), label = a->label;
    map[enc_in] = io_rows(pl, io->x, "io.iwae_x", E);
    if (label >= 0)
        map[label] = io_rows(pl, io->y, "io.iwae_y", E);
    map[a->logw] = add_ptensor(pl, io->buffer, "io.logw", (uint64_t)E * C, &(gen_dims){ 0 }, 4);
    add_estimate(pl, a, map, (int[]){ enc_in, label, -1 }, bact);
    xfree(map);
    return true;
}

/* The IWAE estimate of a VAE of the general form (a text model's): the
 * main graph's forward at R rows, with each row's log weight of its own
 * draw (gen/shape.c's estimate_node). A row holds an item, not one of its
 * samples: io.iwae_x [R] in, io.logw [R] out, so the host's estimate
 * loop (E = R items, C = 1 sample each a run) runs it k times over each
 * chunk of R items, push.step advancing. R stays within 1024 rows and 64
 * MiB of activations. Models whose loss is not such an ELBO get none. */
static void general_estimate_program(gen_plan *pl, const gen_graph *g, const io_tensors *io,
                                     uint32_t bact)
{
    const gen_spec *s = g->spec;
    if (g->code_z < 0 || io->x < 0)
        return;
    gen_graph *probe = aux_graph(s, s->obj, 1, 1, true);
    if (!probe || probe->logw < 0)
        return;
    uint64_t fit = EST_BYTES / example_bytes(probe);
    uint32_t R = (uint32_t)(fit > EST_ROWS ? EST_ROWS : fit ? fit : 1);
    gen_graph *a = aux_graph(s, s->obj, 1, R, true);
    if (!a || a->logw < 0)
        return;
    int *map = aux_map(pl, a);
    int x = tensor_root(a, a->x);
    map[x] = add_ptensor(pl, io->buffer, "io.iwae_x", R, &s->input, 4);
    map[a->logw] = add_ptensor(pl, io->buffer, "io.logw", R, &(gen_dims){ 0 }, 4);
    add_estimate(pl, a, map, (int[]){ x, -1 }, bact);
    xfree(map);
}

/* ---- lowering the main graph ---- */

static bool is_vae(const gen_spec *s) { return s->obj == OBJ_ELBO || s->obj == OBJ_IWAE; }

/* What the optimizer step reads: views over the whole of params, grads and
 * optim (m, and v for Adam; -1 for SGD), floats long each. */
typedef struct state_tensors {
    int params, grads, m, v;
    uint64_t floats;
} state_tensors;

/* Lays out params, grads and optim in one layout, so the optimizer is one
 * dispatch over their .all views; weights first, so two layers reading one
 * tensor (the encoder's heads) have theirs back to back, where their
 * backward product can view them as one. */
static state_tensors param_buffers(gen_plan *pl, const gen_graph *g, int *map)
{
    uint32_t bp = add_buffer(pl, "params", VKVAE_ROLE_PARAM);
    uint32_t bg = add_buffer(pl, "grads", VKVAE_ROLE_GRAD);
    for (int biases = 0; biases < 2; biases++)
        for (size_t i = 0; i < g->nt; i++)
            if (g->t[i].role == ROLE_PARAM && is_bias(&g->t[i]) == biases) {
                map[i] = add_ptensor(pl, bp, g->t[i].name, 0, &g->t[i].dims, 4);
                int d = g->t[i].grad;
                map[d] = add_ptensor(pl, bg, g->t[d].name, 0, &g->t[i].dims, 4);
            }
    pl->buf[bp].bytes = align256(pl->buf[bp].bytes);
    uint64_t pbytes = pl->buf[bp].bytes;
    state_tensors st = { .floats = pbytes / 4 };
    st.params = plan_add_view(pl, bp, "params.all", 0, st.floats);
    pl->buf[bg].bytes = pbytes;
    st.grads = plan_add_view(pl, bg, "grads.all", 0, st.floats);
    uint32_t bo = add_buffer(pl, "optim", VKVAE_ROLE_OPTIM);
    bool sgd = g->spec->optim == OPTIM_SGD;
    st.m = plan_add_view(pl, bo, sgd ? "sgd.buf" : "adam.m", 0, st.floats);
    st.v = sgd ? -1 : plan_add_view(pl, bo, "adam.v", pbytes, st.floats);
    pl->buf[bo].bytes = sgd ? pbytes : 2 * pbytes;
    return st;
}

/* Lays out what persists beside the parameters without being trained
 * (batch norm's running averages), when the graph has any. */
static void state_buffer(gen_plan *pl, const gen_graph *g, int *map)
{
    uint32_t bs = UINT32_MAX;
    for (size_t i = 0; i < g->nt; i++)
        if (g->t[i].role == ROLE_STATE) {
            if (bs == UINT32_MAX)
                bs = add_buffer(pl, "state", VKVAE_ROLE_STATE);
            map[i] = add_ptensor(pl, bs, g->t[i].name, 0, &g->t[i].dims, 4);
        }
}

/* Batch norm normalises by the batch's statistics in training and by the
 * running averages everywhere else (PyTorch's train() and eval()). */
static void batchnorm_modes(gen_plan *pl)
{
    for (int p = 0; p < pl->n_prog; p++)
        for (size_t i = 0; i < pl->prog[p].n; i++)
            if (pl->prog[p].steps[i].op == VKVAE_OP_BATCHNORM)
                pl->prog[p].steps[i].p.mode = pl->prog[p].kind != VKVAE_PROGRAM_TRAIN;
}

/* Word dropout and free bits are training's: every other program reads
 * the tokens as they are and measures the whole KL. */
static void regularisers_in_training(gen_plan *pl)
{
    for (int p = 0; p < pl->n_prog; p++)
        for (size_t i = 0; i < pl->prog[p].n; i++) {
            vkvae_op op = pl->prog[p].steps[i].op;
            if ((op == VKVAE_OP_SHIFT_TOKENS || op == VKVAE_OP_KL_GAUSS) &&
                pl->prog[p].kind != VKVAE_PROGRAM_TRAIN)
                pl->prog[p].steps[i].p.alpha = 0;
        }
}

/* Lays out the data set, a buffer for each part the host uploads (images,
 * labels for a condition, the epoch's permutation), data_rows long. */
static void data_buffers(gen_plan *pl, const gen_graph *g, int *map)
{
    int data = -1, perm = -1, labels = -1;
    for (size_t i = 0; i < g->nt; i++)
        if (g->t[i].role == ROLE_DATA) {
            const char *nm = g->t[i].name;
            if (strcmp(nm, "data") == 0)
                data = (int)i;
            else if (strcmp(nm, "perm") == 0)
                perm = (int)i;
            else
                labels = (int)i;
        }
    uint32_t bd = add_buffer(pl, "train.images", VKVAE_ROLE_DATA);
    map[data] = add_ptensor(pl, bd, "train.images", pl->data_rows, &g->spec->input, 1);
    if (labels >= 0) {
        uint32_t bl = add_buffer(pl, "train.labels", VKVAE_ROLE_DATA);
        map[labels] = add_ptensor(pl, bl, "train.labels", pl->data_rows, &(gen_dims){ 0 }, 1);
    }
    uint32_t bperm = add_buffer(pl, "train.perm", VKVAE_ROLE_DATA);
    map[perm] = add_ptensor(pl, bperm, "train.perm", pl->data_rows, &(gen_dims){ 0 }, 4);
}

/* Lays out what the host reads and writes besides the data set: the
 * programs' inputs and outputs (io) and the loss sums (accum). */
static io_tensors io_buffers(gen_plan *pl, const gen_graph *g, int *map)
{
    const gen_spec *s = g->spec;
    uint32_t B = g->batch;
    io_tensors io = { .buffer = add_buffer(pl, "io", VKVAE_ROLE_IO), -1, -1, -1, -1, -1, -1 };
    io.x = add_ptensor(pl, io.buffer, "io.x", B, &s->input, 4);
    if (s->obj == OBJ_CLASSIFY) { /* images in, the head's input features out */
        io.mu = add_ptensor(pl, io.buffer, "io.mu", B, &g->t[g->mu].dims, 4);
    } else {
        gen_dims lat = { 1, { s->latent, 0, 0, 0 } };
        io.y = s->has_condition ? add_ptensor(pl, io.buffer, "io.y", B,
                                              &(gen_dims){ 1, { s->classes, 0, 0, 0 } }, 4)
                                : -1;
        io.mu = add_ptensor(pl, io.buffer, "io.mu", B, &lat, 4);
        io.lv = is_vae(s) ? add_ptensor(pl, io.buffer, "io.logvar", B, &lat, 4) : -1;
        io.z = add_ptensor(pl, io.buffer, "io.z", B, &lat, 4);
        io.mean = add_ptensor(pl, io.buffer, "io.mean", B, &s->input, 4);
    }
    uint32_t bacc = add_buffer(pl, "accum", VKVAE_ROLE_ACCUM);
    map[g->loss] = add_ptensor(pl, bacc, "loss.acc", 0, &(gen_dims){ 1, { 4, 0, 0, 0 } }, 4);
    return io;
}

/* Marks the weight concats of parameters already back to back, which
 * become views (no step); before act_buffer, which would give their
 * outputs a region of their own. */
static bool *concat_views(gen_plan *pl, const gen_graph *g, int *map)
{
    bool *as_view = xmalloc(g->nn ? g->nn : 1);
    for (size_t i = 0; i < g->nn; i++)
        as_view[i] = stacks_adjacent(pl, g, &g->n[i], map);
    return as_view;
}

/* Lays out every tensor not placed yet (activations, loss terms, constants,
 * activation gradients) in act, one region each; returns act. */
static uint32_t act_buffer(gen_plan *pl, const gen_graph *g, int *map)
{
    uint32_t bact = add_buffer(pl, "act", VKVAE_ROLE_ACTIVATION);
    for (size_t i = 0; i < g->nt; i++) {
        const gen_tensor *t = &g->t[i];
        if (map[i] >= 0 || t->alias >= 0 || t->role == ROLE_PARAM || t->role == ROLE_GRAD ||
            t->role == ROLE_DATA)
            continue;
        map[i] = add_ptensor(pl, bact, t->name, (uint64_t)t->rows * g->batch, &t->dims, 4);
    }
    return bact;
}

/* Rounds every buffer up to 256 bytes, the alignment of every tensor. */
static void align_buffers(gen_plan *pl)
{
    for (size_t b = 0; b < pl->nb; b++)
        pl->buf[b].bytes = align256(pl->buf[b].bytes);
}

static void optimizer_step(gen_plan *pl, gen_program *pr, const gen_spec *s,
                           const state_tensors *st);

/* train (every node, then the optimizer step over the .all views) and eval
 * (the forward nodes): the programs over the main graph's own tensors. */
static void train_eval_programs(gen_plan *pl, const gen_graph *g, const int *map,
                                const bool *as_view, const state_tensors *st)
{
    const gen_spec *s = g->spec;
    gen_program *train = new_program(pl, VKVAE_PROGRAM_TRAIN, "train");
    gen_program *eval = new_program(pl, VKVAE_PROGRAM_EVAL, "eval");
    for (size_t i = 0; i < g->nn; i++) {
        if (g->n[i].op == GEN_OP_VIEW || as_view[i])
            continue;
        add_node_step(pl, train, g, &g->n[i], map);
        if (i < g->n_fwd)
            add_node_step(pl, eval, g, &g->n[i], map);
    }
    optimizer_step(pl, train, s, st);
}

/* The optimizer's step over the views st gives (all parameters, or an
 * update's). */
static void optimizer_step(gen_plan *pl, gen_program *pr, const gen_spec *s,
                           const state_tensors *st)
{
    vkvae_op_params op = { .in = (uint32_t)st->floats, .lr = (float)s->lr,
                           .weight_decay = (float)s->weight_decay };
    if (s->optim == OPTIM_SGD) {
        op.momentum = (float)s->momentum;
        add_step(pl, pr, VKVAE_OP_SGD, (int[]){ st->params, st->grads, st->m }, 3, &op);
    } else {
        op.mode = s->optim == OPTIM_ADAMW;
        op.beta1 = (float)s->beta1, op.beta2 = (float)s->beta2, op.eps = (float)s->eps;
        add_step(pl, pr, VKVAE_OP_ADAM, (int[]){ st->params, st->grads, st->m, st->v }, 4,
                 &op);
    }
}

/* encode, decode, sample: the forward nodes they need, on io tensors. An
 * IWAE graph's decoder runs over n*k rows; these programs take theirs from
 * the same spec with one sample per row. */
static bool encode_decode_programs(gen_plan *pl, gen_graph *g, int *map, const io_tensors *io,
                                   uint32_t bact, char **why)
{
    const gen_spec *s = g->spec;
    bool vae = is_vae(s);
    bool logits = vae ? s->lik == LIK_BERNOULLI : s->loss == LOSS_BCE;
    if (s->obj != OBJ_IWAE) {
        io_programs(pl, g, map, io, vae, logits, bact, NULL);
        return true;
    }
    gen_graph *one = aux_graph(s, OBJ_ELBO, 1, g->batch, false);
    if (!one) {
        *why = xprintf("the one-sample graph of the encode and decode programs (internal)");
        return false;
    }
    io_programs(pl, one, aux_map(pl, one), io, vae, logits, bact, "k1");
    return true;
}

/* A classifier's encode program: images (io.x) to the features its head
 * reads (io.mu), the penultimate layer's output (a domain classifier's
 * features for the Frechet distance, cli/frechet.c). */
static void features_program(gen_plan *pl, const gen_graph *g, const int *map,
                             const io_tensors *io)
{
    int *pmap = xmalloc(g->nt * sizeof(int));
    bool *take = xmalloc(g->n_fwd ? g->n_fwd : 1);
    memcpy(pmap, map, g->nt * sizeof(int));
    memset(take, 0, g->n_fwd ? g->n_fwd : 1);
    int x = tensor_root(g, g->enc_in), features = tensor_root(g, g->mu);
    pmap[x] = io->x;
    pmap[features] = io->mu;
    graph_select(g, (int[]){ features, -1 }, (int[]){ x, -1 }, take);
    gen_program *pr = new_program(pl, VKVAE_PROGRAM_ENCODE, "encode");
    for (size_t i = 0; i < g->n_fwd; i++)
        if (take[i])
            add_node_step(pl, pr, g, &g->n[i], pmap);
    xfree(take);
    xfree(pmap);
}

/* Every step binds as many tensors as its op has: a slip of the lowering
 * is reported here, not run as a plan that reads the wrong tensors. */
static bool check_bindings(const gen_plan *pl, char **why)
{
    for (int p = 0; p < pl->n_prog; p++) {
        const gen_program *pr = &pl->prog[p];
        for (size_t i = 0; i < pr->n; i++)
            if (pr->steps[i].n_tensors != vkvae_op_bindings(pr->steps[i].op)) {
                *why = xprintf("%s step %zu (%s): %u bindings, the op has %u (internal)",
                               pr->name, i, gen_op_names[pr->steps[i].op],
                               pr->steps[i].n_tensors, vkvae_op_bindings(pr->steps[i].op));
                return false;
            }
    }
    return true;
}

/* FLOPs of one training step (forward, backward, optimizer), saturating. */
static uint64_t train_step_flops(const gen_graph *g)
{
    uint64_t f = g->flops_fwd + g->flops_bwd;
    f = f < g->flops_fwd ? UINT64_MAX : f;
    return f + g->flops_optim < f ? UINT64_MAX : f + g->flops_optim;
}

/* ---- the general form: one optimizer step per update line ---- */

/* Lays out params, grads and optim update by update (weights, then biases,
 * of the networks each trains), so an update's parameters are one range:
 * its optimizer is one dispatch over views of it (st[u]); .all views span
 * the whole buffers as for one network. */
static void group_buffers(gen_plan *pl, const gen_graph *g, int *map, state_tensors *st)
{
    uint32_t bp = add_buffer(pl, "params", VKVAE_ROLE_PARAM);
    uint32_t bg = add_buffer(pl, "grads", VKVAE_ROLE_GRAD);
    uint64_t *begin = xmalloc(g->n_upd * sizeof *begin), *end = xmalloc(g->n_upd * sizeof *end);
    for (size_t u = 0; u < g->n_upd; u++) {
        begin[u] = align256(pl->buf[bp].bytes);
        for (int biases = 0; biases < 2; biases++)
            for (size_t i = 0; i < g->nt; i++)
                if (g->t[i].role == ROLE_PARAM && i < g->nt_fwd && g->upd[u].trains[i] &&
                    is_bias(&g->t[i]) == biases) {
                    map[i] = add_ptensor(pl, bp, g->t[i].name, 0, &g->t[i].dims, 4);
                    int d = g->t[i].grad;
                    map[d] = add_ptensor(pl, bg, g->t[d].name, 0, &g->t[i].dims, 4);
                }
        pl->buf[bp].bytes = align256(pl->buf[bp].bytes);
        end[u] = pl->buf[bp].bytes;
    }
    uint64_t pbytes = pl->buf[bp].bytes, floats = pbytes / 4;
    pl->buf[bg].bytes = pbytes;
    plan_add_view(pl, bp, "params.all", 0, floats);
    plan_add_view(pl, bg, "grads.all", 0, floats);
    uint32_t bo = add_buffer(pl, "optim", VKVAE_ROLE_OPTIM);
    bool sgd = g->spec->optim == OPTIM_SGD;
    plan_add_view(pl, bo, sgd ? "sgd.buf" : "adam.m", 0, floats);
    if (!sgd)
        plan_add_view(pl, bo, "adam.v", pbytes, floats);
    pl->buf[bo].bytes = sgd ? pbytes : 2 * pbytes;
    for (size_t u = 0; u < g->n_upd; u++) {
        const char *nets = g->spec->updates[u].nets[0].s;
        uint64_t n = (end[u] - begin[u]) / 4;
        st[u] = (state_tensors){ .floats = n, .v = -1 };
        st[u].params = plan_add_view(pl, bp, xprintf("params.%s", nets), begin[u], n);
        st[u].grads = plan_add_view(pl, bg, xprintf("grads.%s", nets), begin[u], n);
        st[u].m = plan_add_view(pl, bo, xprintf("%s.%s", sgd ? "sgd.buf" : "adam.m", nets),
                                begin[u], n);
        if (!sgd)
            st[u].v = plan_add_view(pl, bo, xprintf("adam.v.%s", nets), pbytes + begin[u], n);
    }
    xfree(begin);
    xfree(end);
}

/* What the host reads and writes: the noise and the samples (io.z,
 * io.mean) where a call reads the noise, and the loss sums: loss.acc
 * (the terms' total in its recon slot) and loss.<term> for each term. */
static io_tensors general_io(gen_plan *pl, const gen_graph *g, int *map)
{
    const gen_spec *s = g->spec;
    io_tensors io = { .buffer = UINT32_MAX, -1, -1, -1, -1, -1, -1, -1 };
    if (g->sample_out >= 0 || g->ar_logits >= 0 || g->vq_ze >= 0) {
        io.buffer = add_buffer(pl, "io", VKVAE_ROLE_IO);
        if (g->vq_ze >= 0) { /* a VQ-VAE: images in, z_e out; z_e in, images out */
            /* the latent a row: z_e's values, flat (the host's latent width) */
            gen_dims ze = { 1, { (uint32_t)dims_count(&g->t[g->vq_ze].dims), 0, 0, 0 } };
            io.x = add_ptensor(pl, io.buffer, "io.x", g->batch, &s->input, 4);
            io.mu = add_ptensor(pl, io.buffer, "io.mu", g->batch, &ze, 4);
            io.z = add_ptensor(pl, io.buffer, "io.z", g->batch, &ze, 4);
            /* the code indices (as floats) on z_e's grid: [1,H,W], or [1] */
            const gen_dims *d = &g->t[g->vq_ze].dims;
            gen_dims grid = d->rank == 3 ? (gen_dims){ 3, { 1, d->d[1], d->d[2], 0 } }
                                         : (gen_dims){ 1, { 1, 0, 0, 0 } };
            io.codes = add_ptensor(pl, io.buffer, "io.codes", g->batch, &grid, 4);
        }
        /* the code a decoder reads: the noise, the learned prior's draw or
         * the encoder's */
        int code = g->prior_z >= 0 ? g->prior_z : g->code_z >= 0 ? g->code_z : g->noise;
        /* images in: to encode, or an image-derived condition */
        if (io.x < 0 && (g->code_z >= 0 || (g->cond >= 0 && g->cond == g->x)))
            io.x = add_ptensor(pl, io.buffer, "io.x", g->batch, &s->input, 4);
        if (g->code_z >= 0) { /* encode: the Gaussian out */
            gen_node rp = g->n[g->t[g->code_z].producer];
            io.mu = add_ptensor(pl, io.buffer, "io.mu", g->batch, &g->t[rp.in[0]].dims, 4);
            io.lv = add_ptensor(pl, io.buffer, "io.logvar", g->batch, &g->t[rp.in[1]].dims, 4);
        }
        if (g->sample_out >= 0)
            io.z = add_ptensor(pl, io.buffer, "io.z", g->batch, &g->t[code].dims, 4);
        if (g->cond >= 0 && g->cond == g->label) /* the label the code is decoded with */
            io.y = add_ptensor(pl, io.buffer, "io.y", g->batch, &g->t[g->label].dims, 4);
        io.mean = add_ptensor(pl, io.buffer, "io.mean", g->batch, &s->input, 4);
    }
    uint32_t bacc = add_buffer(pl, "accum", VKVAE_ROLE_ACCUM);
    map[g->loss] = add_ptensor(pl, bacc, "loss.acc", 0, &(gen_dims){ 1, { 4, 0, 0, 0 } }, 4);
    for (size_t i = 0; i < g->nt; i++)
        if (g->t[i].role == ROLE_LOSS && g->t[i].rows == 0 && map[i] < 0)
            map[i] = add_ptensor(pl, bacc, g->t[i].name, 0, &g->t[i].dims, 4);
    return io;
}

static void optimizer_step(gen_plan *pl, gen_program *pr, const gen_spec *s,
                           const state_tensors *st);

/* Per tensor, the updates (bits) whose parameters it depends on. */
static uint64_t *update_deps(const gen_graph *g)
{
    uint64_t *dep = xmalloc(g->nt * sizeof *dep);
    memset(dep, 0, g->nt * sizeof *dep);
    for (size_t u = 0; u < g->n_upd; u++)
        for (size_t t = 0; t < g->nt_fwd; t++)
            if (g->upd[u].trains[t])
                dep[t] |= 1ull << u;
    for (size_t i = 0; i < g->n_fwd; i++) {
        const gen_node *n = &g->n[i];
        uint64_t any = 0;
        for (int j = 0; j < n->nin; j++)
            any |= dep[n->in[j]];
        for (int j = 0; j < n->nout; j++)
            dep[n->out[j]] |= any;
    }
    return dep;
}

/* train: each update in turn runs the forward nodes its terms need that
 * an earlier update's step made stale (or that have not run), its
 * backward and its optimizer step, so a later update sees the earlier
 * ones' new weights (a GAN's generator step against the updated
 * discriminator); then the forward nodes no update took (the terms'
 * total). A loss sum runs once. eval: every forward node an accumulator
 * needs, and the codes' usage counts. */
static void update_programs(gen_plan *pl, const gen_graph *g, const int *map,
                            const state_tensors *st, const bool *as_view)
{
    gen_program *train = new_program(pl, VKVAE_PROGRAM_TRAIN, "train");
    gen_program *eval = new_program(pl, VKVAE_PROGRAM_EVAL, "eval");
    uint64_t *dep = update_deps(g);
    int *ran = xmalloc(g->n_fwd * sizeof(int)); /* the update that last ran it, or -1 */
    for (size_t i = 0; i < g->n_fwd; i++)
        ran[i] = -1;
    for (size_t u = 0; u < g->n_upd; u++) {
        for (size_t i = 0; i < g->n_fwd; i++) {
            const gen_node *n = &g->n[i];
            if (!g->upd[u].take[i] || n->op == GEN_OP_VIEW)
                continue;
            uint64_t since = ran[i] < 0 ? 0 : ((1ull << u) - 1) & ~((1ull << ran[i]) - 1);
            uint64_t reads = 0;
            for (int j = 0; j < n->nin; j++)
                reads |= dep[n->in[j]];
            bool stale = ran[i] < 0 || (reads & since);
            if (!stale || (ran[i] >= 0 && n->op == VKVAE_OP_LOSS_ACCUM))
                continue;
            add_node_step(pl, train, g, n, map);
            ran[i] = (int)u;
        }
        for (size_t i = g->upd[u].bwd_begin; i < g->upd[u].bwd_end; i++)
            if (g->n[i].op != GEN_OP_VIEW && !as_view[i])
                add_node_step(pl, train, g, &g->n[i], map);
        optimizer_step(pl, train, g->spec, &st[u]);
    }
    /* then what the accumulators need that no update ran (the total loss,
     * a classifier's errors), and the usage counts of the codes chosen in
     * training; a call no loss reads (samples only, or a semi-supervised
     * call's twin on the given label) stays out of training and
     * evaluation, as in PyTorch */
    int *accs = xmalloc((g->nt + 1) * sizeof(int));
    size_t n_accs = 0;
    for (size_t t = 0; t < g->nt; t++)
        if (g->t[t].role == ROLE_LOSS && g->t[t].rows == 0 && (int)t != g->loss)
            accs[n_accs++] = (int)t;
    accs[n_accs++] = g->loss;
    accs[n_accs] = -1;
    bool *for_loss = xmalloc(g->n_fwd);
    memset(for_loss, 0, g->n_fwd);
    graph_select(g, accs, (int[]){ -1 }, for_loss);
    xfree(accs);
    for (size_t i = 0; i < g->n_fwd; i++) {
        if (g->n[i].op == GEN_OP_VIEW)
            continue;
        /* a codebook's usage counts, moving averages and restarts run after
         * a step that chose its codes (one of their inputs was made in
         * training); all but the counts in training only */
        int op = g->n[i].op;
        bool train_only = op == VKVAE_OP_VQ_EMA || op == VKVAE_OP_VQ_EMA_CODES ||
                          op == VKVAE_OP_VQ_RESTART;
        bool after_codes = false;
        for (int j = 0; (train_only || op == VKVAE_OP_VQ_COUNT) && j < g->n[i].nin; j++) {
            int src = g->t[g->n[i].in[j]].producer;
            after_codes |= src >= 0 && ran[src] >= 0;
        }
        if (ran[i] < 0 && (for_loss[i] || after_codes)) {
            add_node_step(pl, train, g, &g->n[i], map);
            ran[i] = (int)g->n_upd;
        }
        if (!train_only && (for_loss[i] || op == VKVAE_OP_VQ_COUNT))
            add_node_step(pl, eval, g, &g->n[i], map);
    }
    xfree(for_loss);
    xfree(ran);
    xfree(dep);
}

/* The forward nodes that compute out from in, with in read from (and out,
 * unless out_to < 0, written to) program tensors of their own. */
typedef struct subgraph {
    int *map;           /* the graph's tensors to the plan's */
    bool *take;         /* per forward node */
} subgraph;

static subgraph select_subgraph(const gen_graph *g, const int *map, int out, int out_to,
                                int in, int in_to)
{
    subgraph sg = { xmalloc(g->nt * sizeof(int)), xmalloc(g->n_fwd) };
    memcpy(sg.map, map, g->nt * sizeof(int));
    memset(sg.take, 0, g->n_fwd);
    sg.map[in] = in_to;
    if (out_to >= 0)
        sg.map[out] = out_to;
    graph_select(g, (int[]){ out, -1 }, (int[]){ in, -1 }, sg.take);
    return sg;
}

static void add_subgraph(gen_plan *pl, gen_program *pr, const gen_graph *g, const subgraph *sg)
{
    for (size_t i = 0; i < g->n_fwd; i++)
        if (sg->take[i])
            add_node_step(pl, pr, g, &g->n[i], sg->map);
}

/* encode (io.x, and io.y for a label -> the Gaussian of g->code_z into
 * io.mu and io.logvar). */
static void encode_program(gen_plan *pl, const gen_graph *g, const int *map, const io_tensors *io)
{
    gen_node rp = g->n[g->t[g->code_z].producer];
    int mu = tensor_root(g, rp.in[0]), lv = tensor_root(g, rp.in[1]);
    subgraph enc = { xmalloc(g->nt * sizeof(int)), xmalloc(g->n_fwd) };
    memcpy(enc.map, map, g->nt * sizeof(int));
    memset(enc.take, 0, g->n_fwd);
    enc.map[g->x] = io->x, enc.map[mu] = io->mu, enc.map[lv] = io->lv;
    if (g->label >= 0)
        enc.map[g->label] = io->y;
    graph_select(g, (int[]){ mu, lv, -1 }, (int[]){ g->x, g->label, -1 }, enc.take);
    add_subgraph(pl, new_program(pl, VKVAE_PROGRAM_ENCODE, "encode"), g, &enc);
    xfree(enc.take), xfree(enc.map);
}

/* A prior learned from a condition (g->prior_z, g->cond: io.y for the
 * label, io.x for an image it is computed from): decode (io.z as the
 * draw -> io.mean) and sample (the prior's network and its draw, Philox's
 * as training's -> the decoder -> io.mean), logits through a sigmoid; and
 * encode where a kl part names the prior's posterior (g->code_z). */
static void learned_prior_programs(gen_plan *pl, const gen_graph *g, const int *map,
                                   const io_tensors *io)
{
    int out = tensor_root(g, g->sample_out);
    uint32_t features = (uint32_t)dims_count(&g->spec->input);
    for (int kind = VKVAE_PROGRAM_DECODE; kind <= VKVAE_PROGRAM_SAMPLE; kind++) {
        bool draw = kind == VKVAE_PROGRAM_SAMPLE;
        subgraph sg = { xmalloc(g->nt * sizeof(int)), xmalloc(g->n_fwd) };
        memcpy(sg.map, map, g->nt * sizeof(int));
        memset(sg.take, 0, g->n_fwd);
        sg.map[g->cond] = g->cond == g->label ? io->y : io->x;
        if (!draw)
            sg.map[g->prior_z] = io->z;
        if (!g->sample_logits)
            sg.map[out] = io->mean;
        graph_select(g, (int[]){ out, -1 }, (int[]){ g->cond, draw ? -1 : g->prior_z, -1 },
                     sg.take);
        gen_program *pr = new_program(pl, kind, draw ? "sample" : "decode");
        add_subgraph(pl, pr, g, &sg);
        if (g->sample_logits)
            add_mean(pl, pr, sg.map[out], io->mean, g->batch, features);
        xfree(sg.take);
        xfree(sg.map);
    }
    if (g->code_z >= 0)
        encode_program(pl, g, map, io);
}

/* A VAE of x given the label (g->code_z, semi-supervised specs): encode
 * (io.x, io.y -> the encoder's mu and log-variance), decode (io.z, io.y ->
 * io.mean) and sample (z ~ N(0, I) into io.z, then decode's steps), logits
 * through a sigmoid: the one-network CVAE's programs. */
static void given_vae_programs(gen_plan *pl, const gen_graph *g, const int *map,
                               const io_tensors *io)
{
    encode_program(pl, g, map, io);
    int out = tensor_root(g, g->sample_out);
    uint32_t features = (uint32_t)dims_count(&g->spec->input);
    subgraph dec = { xmalloc(g->nt * sizeof(int)), xmalloc(g->n_fwd) };
    memcpy(dec.map, map, g->nt * sizeof(int));
    memset(dec.take, 0, g->n_fwd);
    dec.map[g->code_z] = io->z, dec.map[g->label] = io->y;
    if (!g->sample_logits)
        dec.map[out] = io->mean;
    graph_select(g, (int[]){ out, -1 }, (int[]){ g->code_z, g->label, -1 }, dec.take);
    for (int kind = VKVAE_PROGRAM_DECODE; kind <= VKVAE_PROGRAM_SAMPLE; kind++) {
        gen_program *pr = new_program(pl, kind, kind == VKVAE_PROGRAM_DECODE ? "decode" : "sample");
        if (kind == VKVAE_PROGRAM_SAMPLE)
            add_prior(pl, pr, io->z, g->batch, (uint32_t)dims_count(&g->t[g->code_z].dims));
        add_subgraph(pl, pr, g, &dec);
        if (g->sample_logits)
            add_mean(pl, pr, dec.map[out], io->mean, g->batch, features);
    }
    xfree(dec.take), xfree(dec.map);
}

/* decode (io.z -> io.mean: the first call on the noise and what it needs)
 * and sample (the noise drawn into io.z, then the same). */
static void sample_programs(gen_plan *pl, const gen_graph *g, const int *map,
                            const io_tensors *io)
{
    if (g->prior_z >= 0) {
        learned_prior_programs(pl, g, map, io);
        return;
    }
    if (g->code_z >= 0) {
        given_vae_programs(pl, g, map, io);
        return;
    }
    subgraph sg = select_subgraph(g, map, tensor_root(g, g->sample_out), io->mean, g->noise,
                                  io->z);
    for (int kind = VKVAE_PROGRAM_DECODE; kind <= VKVAE_PROGRAM_SAMPLE; kind++) {
        gen_program *pr = new_program(pl, kind, kind == VKVAE_PROGRAM_DECODE ? "decode" : "sample");
        if (kind == VKVAE_PROGRAM_SAMPLE)
            add_prior(pl, pr, io->z, g->batch, g->spec->noise);
        add_subgraph(pl, pr, g, &sg);
    }
    xfree(sg.take);
    xfree(sg.map);
}

/* A pixel model's sample program (g->ar_logits): the network on the image
 * drawn so far (io.mean in x's place), then sample_pixel, which the
 * runtime runs once per pixel and once more (plan.sample_passes). */
static void pixel_sample_program(gen_plan *pl, const gen_graph *g, const int *map,
                                 const io_tensors *io)
{
    int logits = tensor_root(g, g->ar_logits);
    subgraph sg = select_subgraph(g, map, logits, -1, g->x, io->mean);
    gen_program *pr = new_program(pl, VKVAE_PROGRAM_SAMPLE, "sample");
    add_subgraph(pl, pr, g, &sg);
    uint64_t pixels = dims_count(&g->spec->input);
    add_step(pl, pr, VKVAE_OP_SAMPLE_PIXEL, (int[]){ sg.map[logits], io->mean }, 2,
             &(vkvae_op_params){ .n = g->batch, .in = (uint32_t)pixels,
                                 .classes = g->ar_classes, .mode = g->ar_classes > 0,
                                 .stream = VKVAE_STREAM_LIKELIHOOD });
    xfree(sg.take);
    xfree(sg.map);
}

/* A text model's decode (io.z -> tokens into io.mean) and sample (the
 * noise drawn into io.z first), and encode (io.x -> the Gaussian of its
 * encoder's call, g->code_z) where it has one: the decoder's call on the tokens drawn so
 * far (io.mean in x's place) and the code, then sample_pixel (mode 2)
 * draws the next step's token from its logits; the runtime runs either
 * program once a step and once more (plan.sample_passes), as a pixel
 * model's sample. */
static void sequence_programs(gen_plan *pl, const gen_graph *g, const int *map,
                              const io_tensors *io)
{
    int logits = tensor_root(g, g->ar_logits);
    subgraph sg = select_subgraph(g, map, logits, -1, g->x, io->mean);
    sg.map[g->noise] = io->z;
    memset(sg.take, 0, g->n_fwd);
    graph_select(g, (int[]){ logits, -1 }, (int[]){ g->x, g->noise, -1 }, sg.take);
    uint32_t steps = (uint32_t)dims_count(&g->spec->input);
    for (int kind = VKVAE_PROGRAM_DECODE; kind <= VKVAE_PROGRAM_SAMPLE; kind++) {
        gen_program *pr = new_program(pl, kind, kind == VKVAE_PROGRAM_DECODE ? "decode" : "sample");
        if (kind == VKVAE_PROGRAM_SAMPLE)
            add_prior(pl, pr, io->z, g->batch, g->spec->noise);
        add_subgraph(pl, pr, g, &sg);
        add_step(pl, pr, VKVAE_OP_SAMPLE_PIXEL, (int[]){ sg.map[logits], io->mean }, 2,
                 &(vkvae_op_params){ .n = g->batch, .in = steps, .classes = g->ar_classes,
                                     .mode = 2, .stream = VKVAE_STREAM_LIKELIHOOD });
    }
    xfree(sg.take);
    xfree(sg.map);
    if (g->code_z >= 0)
        encode_program(pl, g, map, io);
}

/* A VQ-VAE's encode (io.x -> z_e into io.mu, its nearest codes' indices
 * into io.codes and their values into io.z) and decode (io.z as z_e ->
 * the codebook's nearest codes -> the decoder -> io.mean): the CLI's
 * reconstruct, encode, interpolate and traverse then work on z_e, a
 * decoded point is always made of codes, and a code grid decodes as the
 * codes' own values (a point's nearest code is itself). */
static void codebook_programs(gen_plan *pl, const gen_graph *g, const int *map,
                              const io_tensors *io)
{
    subgraph enc = select_subgraph(g, map, g->vq_ze, io->mu, g->x, io->x);
    gen_program *encode = new_program(pl, VKVAE_PROGRAM_ENCODE, "encode");
    add_subgraph(pl, encode, g, &enc);
    size_t vq = 0;
    while (g->n[vq].op != VKVAE_OP_VQ_NEAREST || tensor_root(g, g->n[vq].in[0]) != g->vq_ze)
        vq++;
    vkvae_op_params p = g->n[vq].p;
    p.n = g->batch;
    add_step(pl, encode, VKVAE_OP_VQ_NEAREST,
             (int[]){ io->mu, map[tensor_root(g, g->n[vq].in[1])], io->z, io->codes }, 4, &p);
    subgraph dec = select_subgraph(g, map, g->vq_out, g->vq_logits ? -1 : io->mean, g->vq_ze,
                                   io->z);
    gen_program *pr = new_program(pl, VKVAE_PROGRAM_DECODE, "decode");
    add_subgraph(pl, pr, g, &dec);
    if (g->vq_logits)
        add_mean(pl, pr, dec.map[g->vq_out], io->mean, g->batch,
                 (uint32_t)dims_count(&g->spec->input));
    xfree(enc.take), xfree(enc.map), xfree(dec.take), xfree(dec.map);
}

static bool lower_general(gen_graph *g, gen_plan *pl, int *map, char **why)
{
    state_tensors *st = xmalloc(g->n_upd * sizeof *st);
    group_buffers(pl, g, map, st);
    state_buffer(pl, g, map);
    data_buffers(pl, g, map);
    io_tensors io = general_io(pl, g, map);
    bool *as_view = concat_views(pl, g, map);
    uint32_t bact = act_buffer(pl, g, map);
    align_buffers(pl);
    update_programs(pl, g, map, st, as_view);
    if (g->ar_logits >= 0 && g->noise >= 0)
        sequence_programs(pl, g, map, &io);
    else if (g->sample_out >= 0)
        sample_programs(pl, g, map, &io);
    else if (g->ar_logits >= 0)
        pixel_sample_program(pl, g, map, &io);
    if (g->vq_ze >= 0)
        codebook_programs(pl, g, map, &io);
    general_estimate_program(pl, g, &io, bact);
    align_buffers(pl); /* the estimate graph's activations */
    batchnorm_modes(pl);
    regularisers_in_training(pl);
    xfree(as_view);
    xfree(st);
    return check_bindings(pl, why);
}

bool lower_plan(gen_graph *g, uint32_t data_rows, gen_plan *pl, char **why)
{
    const gen_spec *s = g->spec;
    *pl = (gen_plan){ .g = g, .model = s->model, .batch = g->batch, .data_rows = data_rows,
                      .n_params = g->n_params };
    int *map = xmalloc(g->nt * sizeof(int));
    for (size_t i = 0; i < g->nt; i++)
        map[i] = -1;
    if (g->n_upd) {
        bool ok = lower_general(g, pl, map, why);
        pl->step_flops = train_step_flops(g);
        return ok;
    }

    state_tensors st = param_buffers(pl, g, map);
    state_buffer(pl, g, map);
    data_buffers(pl, g, map);
    io_tensors io = io_buffers(pl, g, map);
    bool *as_view = concat_views(pl, g, map);
    uint32_t bact = act_buffer(pl, g, map);
    align_buffers(pl);

    train_eval_programs(pl, g, map, as_view, &st);
    if (s->obj == OBJ_CLASSIFY)
        features_program(pl, g, map, &io);
    else if (!encode_decode_programs(pl, g, map, &io, bact, why))
        return false;
    /* iwae: the log weights of a chunk of samples for a few examples */
    if (is_vae(s) && !estimate_program(pl, s, &io, bact)) {
        *why = xprintf("the graph of the iwae estimate program (internal)");
        return false;
    }
    align_buffers(pl); /* the second graphs' activations */
    batchnorm_modes(pl);
    xfree(as_view);
    xfree(map);
    if (!check_bindings(pl, why))
        return false;
    pl->step_flops = train_step_flops(g);
    return true;
}
