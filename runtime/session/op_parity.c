/* Op parity (op_parity.h): the cases, and one case run on both backends.
 * In the spirit of ggml's test-backend-ops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_ops.h"
#include "gpu/kernels.h"
#include "session/op_parity.h"

/* xorshift64, seeded from the case: the same case draws the same inputs. */
static double rnd(uint64_t *state) /* uniform in [-1, 1) */
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) / 4503599627370496.0 - 1.0;
}

static uint64_t case_seed(const vkvae_parity_case *c)
{
    const vkvae_op_params *p = &c->p;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    uint32_t v[] = {c->op, p->n, p->in, p->out, p->in2, p->c_in, p->h_in, p->w_in, p->c_out,
                    p->k, p->stride, p->pad, p->out_pad, p->act, p->samples, p->mode,
                    c->push.rows, c->push.step};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        h = (h ^ v[i]) * 0x100000001b3ull;
    return h | 1;
}

int vkvae_parity_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

void vkvae_parity_describe(const vkvae_parity_case *c, char *out, size_t size)
{
    const vkvae_op_params *p = &c->p;
    char name[64];
    snprintf(name, sizeof name, "%s", vkvae_op_name(c->op));
    for (char *s = name; *s; s++)
        *s = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
    int w = snprintf(out, size, "%s(n=%u", name, p->n);
#define MORE(...) w += snprintf(out + w, size > (size_t)w ? size - (size_t)w : 0, __VA_ARGS__)
    if (p->k)
        MORE(",c_in=%u,h_in=%u,w_in=%u,c_out=%u,h_out=%u,w_out=%u,k=%u,stride=%u,pad=%u",
             p->c_in, p->h_in, p->w_in, p->c_out, p->h_out, p->w_out, p->k, p->stride, p->pad);
    else if (p->h_in)
        MORE(",c_in=%u,h_in=%u,w_in=%u", p->c_in, p->h_in, p->w_in);
    else if (p->c_in)
        MORE(",c_in=%u,in=%u", p->c_in, p->in);
    else
        MORE(",in=%u", p->in);
    if (p->out_pad)
        MORE(",out_pad=%u", p->out_pad);
    if (p->out)
        MORE(",out=%u", p->out);
    if (p->in2)
        MORE(",in2=%u", p->in2);
    if (p->act)
        MORE(",act=%s", vkvae_act_name(p->act));
    if (p->classes)
        MORE(",classes=%u", p->classes);
    if (p->samples > 1)
        MORE(",samples=%u", p->samples);
    if (p->mode)
        MORE(",mode=%u", p->mode);
    if (c->op == VKVAE_OP_SAMPLE_PIXEL && p->mode == 2)
        MORE(",temperature=%g", c->push.temperature);
    if (c->op == VKVAE_OP_SHIFT_TOKENS)
        MORE(",alpha=%g,row0=%u", p->alpha, c->push.row0);
    if (c->push.rows < p->n)
        MORE(",rows=%u", c->push.rows);
    MORE(")");
#undef MORE
}

/* ---- the cases ---- */

/* 20: rows of whole vec4s (ROW_VEC kernels, common.glsl) and an optimizer
 * block of 16 with a tail; 1, 3, 129: scalar rows, tails alone or after
 * blocks */
static const uint32_t sizes[] = {1, 3, 20, 129};

/* Convolution shapes: {n, c_in, h_in, w_in, c_out, k}, each run with
 * strides 1 and 2 and paddings 0 and 1 (and, transposed, every out_pad).
 * The first four and the last are narrow (the plain kernels,
 * runtime/gpu/kernels.c; the last's rows span three of the plain convt2d's
 * 8-pixel blocks); the others run as implicit matrix products: channel
 * counts past a 32- or 64-wide block (9, 12, 33, 70), products deeper than
 * a tile, k = 3 with stride 2 (stride phases with different tap counts),
 * and one product large enough for 128-row blocks. */
static const uint32_t conv_shapes[][6] = {
    {1, 1, 5, 7, 3, 3},     {3, 3, 9, 6, 5, 4},    {2, 5, 7, 7, 1, 1},  {2, 3, 28, 28, 5, 4},
    {2, 9, 11, 13, 70, 3},  {3, 33, 7, 7, 12, 4},  {1, 8, 17, 15, 40, 5}, {2, 12, 7, 7, 9, 3},
    {4, 32, 20, 20, 64, 3},  {2, 3, 23, 19, 2, 4},
};
static const uint32_t convt_shapes[][6] = {
    {1, 1, 3, 4, 3, 3},    {3, 3, 4, 5, 5, 4},   {2, 5, 7, 6, 1, 1},  {2, 5, 7, 7, 3, 4},
    {2, 9, 5, 6, 70, 3},   {3, 33, 4, 4, 12, 4}, {1, 40, 7, 6, 8, 5}, {2, 12, 4, 4, 9, 3},
    {4, 64, 10, 10, 32, 4},  {2, 3, 9, 21, 2, 4},
};
/* the quick set's: a narrow plain kernel, a deep image, a wide product */
static const size_t quick_conv[] = {1, 3, 8};

static int is_iwae(vkvae_op op)
{
    return op == VKVAE_OP_IWAE_LOGW || op == VKVAE_OP_IWAE_LSE || op == VKVAE_OP_IWAE_WEIGHTS ||
           op == VKVAE_OP_IWAE_LOGW_BWD;
}

/* The semi-supervised ops (M2): K = classes wide rows of n examples. */
static int is_semi(vkvae_op op)
{
    return op == VKVAE_OP_CLASS_ROWS || op == VKVAE_OP_LABEL_WEIGHTS ||
           op == VKVAE_OP_LABEL_SUM || op == VKVAE_OP_LABEL_SUM_BWD || op == VKVAE_OP_ENTROPY ||
           op == VKVAE_OP_ENTROPY_BWD;
}

/* The binding that holds a sequence's tokens x:[n,in] (levels, ops.def),
 * or -1. */
static int token_binding(vkvae_op op)
{
    switch (op) {
    case VKVAE_OP_SHIFT_TOKENS:
    case VKVAE_OP_EMBEDDING: return 0;
    case VKVAE_OP_EMBEDDING_BWD:
    case VKVAE_OP_NLL_TOKENS:
    case VKVAE_OP_NLL_TOKENS_BWD: return 1;
    default: return -1;
    }
}

/* The binding that holds the labels y:[n,K] (one-hot rows, or all zero
 * where a row has none), or -1; K its width. */
static int label_binding(const vkvae_parity_case *c, uint32_t *K)
{
    *K = c->p.classes;
    switch (c->op) {
    case VKVAE_OP_SOFTMAX_CE:
    case VKVAE_OP_SOFTMAX_CE_BWD: *K = c->p.in; return 1;
    case VKVAE_OP_LABEL_WEIGHTS:
    case VKVAE_OP_ENTROPY:
    case VKVAE_OP_ENTROPY_BWD: return 1;
    case VKVAE_OP_LABEL_SUM_BWD: return 2;
    default: return -1;
    }
}

typedef struct case_list {
    vkvae_parity_case *out;
    uint32_t cap, count, bad;
} case_list;

static void add(case_list *l, const vkvae_parity_case *c)
{
    if (vkvae_op_check_params(c->op, &c->p) != NULL) {
        l->bad++; /* a case table outside the op's contract: a bug the tests report */
        return;
    }
    if (l->count < l->cap)
        l->out[l->count] = *c;
    l->count++;
}

static void conv_cases(vkvae_op op, int quick, case_list *l)
{
    int transposed = op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X ||
                     op == VKVAE_OP_CONVT2D_BWD_W;
    int fwd = op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONVT2D;
    size_t shapes = quick ? sizeof quick_conv / sizeof *quick_conv
                          : sizeof conv_shapes / sizeof *conv_shapes;
    uint32_t index = 0;
    for (size_t j = 0; j < shapes; j++) {
        size_t i = quick ? quick_conv[j] : j;
        for (uint32_t stride = quick ? 2 : 1; stride <= 2; stride++)
            for (uint32_t pad = quick ? 1 : 0; pad <= 1; pad++)
                for (uint32_t out_pad = 0; out_pad < (transposed ? stride : 1); out_pad++) {
                    const uint32_t *sh = transposed ? convt_shapes[i] : conv_shapes[i];
                    vkvae_parity_case c = {.op = op};
                    c.p = (vkvae_op_params){.n = sh[0], .c_in = sh[1], .h_in = sh[2],
                                            .w_in = sh[3], .c_out = sh[4], .k = sh[5],
                                            .stride = stride, .pad = pad, .out_pad = out_pad,
                                            .alpha = 0.2f};
                    if (transposed) {
                        c.p.h_out = (c.p.h_in - 1) * stride + c.p.k + out_pad - 2 * pad;
                        c.p.w_out = (c.p.w_in - 1) * stride + c.p.k + out_pad - 2 * pad;
                    } else {
                        c.p.h_out = (c.p.h_in + 2 * pad - c.p.k) / stride + 1;
                        c.p.w_out = (c.p.w_in + 2 * pad - c.p.k) / stride + 1;
                    }
                    if (fwd || op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_X)
                        c.p.act = index % VKVAE_ACT_COUNT; /* bwd_x: the one below */
                    c.push = (vkvae_push){.seed = 7, .rows = c.p.n, .grad_scale = 1.0f};
                    index++;
                    add(l, &c);
                }
    }
}

/* Split-K: products with a small output and a long depth (at least 512),
 * which the shared-memory builds split into slices (gpu/kernels.c,
 * split_depth; on lavapipe ops_tiled and ops_fp16 run them split),
 * convolutions with stride phases among them. Dense {n, in, out, in2};
 * convolutions {n, c_in, h_in, w_in, c_out, k, stride, pad}. */
static void split_cases(vkvae_op op, case_list *l)
{
    static const uint32_t dense[][4] = {{9, 1100, 12, 8}, {9, 12, 1100, 40}, {1100, 12, 10, 6}};
    static const uint32_t conv[][8] = {
        {1, 70, 5, 5, 9, 3, 1, 0},   /* conv2d: depth 630 */
        {1, 9, 9, 9, 150, 3, 2, 1},  /* conv2d_bwd_x: 150 x 4 per phase */
        {6, 3, 20, 20, 9, 4, 1, 1},  /* conv2d_bwd_w: 6 x 19 x 19 */
    };
    static const uint32_t convt[][8] = {
        {1, 150, 3, 3, 9, 3, 2, 0},  /* convt2d: 150 x 4 per phase */
        {1, 9, 3, 3, 70, 3, 1, 0},   /* convt2d_bwd_x: 70 x 9 */
        {6, 9, 19, 19, 3, 4, 1, 1},  /* convt2d_bwd_w: 6 x 19 x 19 */
    };
    int pair = vkvae_op_is_pair(op);
    int transposed = op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X ||
                     op == VKVAE_OP_CONVT2D_BWD_W;
    int which = op == VKVAE_OP_DENSE || op == VKVAE_OP_DENSE_PAIR || op == VKVAE_OP_CONV2D ||
                        op == VKVAE_OP_CONVT2D
                    ? 0
                : op == VKVAE_OP_DENSE_BWD_X || op == VKVAE_OP_DENSE_PAIR_BWD_X ||
                        op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_X
                    ? 1
                    : 2;
    for (uint32_t a = 0; a < 2; a++) { /* two activations (bwd_x: the one below) */
        vkvae_parity_case c = {.op = op};
        if (vkvae_op_flags(op) & VKVAE_OPF_CONV) {
            const uint32_t *sh = transposed ? convt[which] : conv[which];
            c.p = (vkvae_op_params){.n = sh[0], .c_in = sh[1], .h_in = sh[2], .w_in = sh[3],
                                    .c_out = sh[4], .k = sh[5], .stride = sh[6], .pad = sh[7],
                                    .alpha = 0.2f};
            if (transposed) {
                c.p.h_out = (c.p.h_in - 1) * c.p.stride + c.p.k - 2 * c.p.pad;
                c.p.w_out = (c.p.w_in - 1) * c.p.stride + c.p.k - 2 * c.p.pad;
            } else {
                c.p.h_out = (c.p.h_in + 2 * c.p.pad - c.p.k) / c.p.stride + 1;
                c.p.w_out = (c.p.w_in + 2 * c.p.pad - c.p.k) / c.p.stride + 1;
            }
        } else {
            const uint32_t *sh = dense[which];
            c.p = (vkvae_op_params){.n = sh[0], .in = sh[1], .out = sh[2],
                                    .in2 = pair ? sh[3] : 0, .alpha = 0.2f};
        }
        if (which < 2)
            c.p.act = a ? VKVAE_ACT_TANH : VKVAE_ACT_LEAKY_RELU;
        c.push = (vkvae_push){.seed = 7, .rows = c.p.n, .kl_weight = 1, .grad_scale = 1.0f};
        add(l, &c);
    }
}

/* The weight gradients of vae_conv's first layer and last (batch 128):
 * db sums 25,088 and 100,352 terms a channel, past lavapipe's 65,535 loop
 * iterations an invocation if one workgroup looped over all the channels
 * (runtime/gpu/kernels.c db_rows). */
static void long_sum_cases(vkvae_op op, case_list *l)
{
    vkvae_parity_case c = {.op = op};
    if (op == VKVAE_OP_CONV2D_BWD_W)
        c.p = (vkvae_op_params){.n = 128, .c_in = 1, .h_in = 28, .w_in = 28, .c_out = 32,
                                .h_out = 14, .w_out = 14, .k = 4, .stride = 2, .pad = 1};
    else
        c.p = (vkvae_op_params){.n = 128, .c_in = 32, .h_in = 14, .w_in = 14, .c_out = 1,
                                .h_out = 28, .w_out = 28, .k = 4, .stride = 2, .pad = 1};
    c.push = (vkvae_push){.seed = 7, .rows = c.p.n, .grad_scale = 1.0f};
    add(l, &c);
    if (op != VKVAE_OP_CONV2D_BWD_W)
        return;
    /* a product 262,144 deep (a 64x64 PixelCNN layer at batch 64): the
     * subgroup build's depth loop would take 65,536 passes (kernels.c) */
    c.p = (vkvae_op_params){.n = 64, .c_in = 1, .h_in = 64, .w_in = 64, .c_out = 8,
                            .h_out = 64, .w_out = 64, .k = 3, .stride = 1, .pad = 1};
    c.push.rows = c.p.n;
    add(l, &c);
    /* a PixelCNN's last 1x1 layer, 32 channels to 1: on the shared-memory
     * builds a product of one row, split along its 100,352 terms */
    c.p = (vkvae_op_params){.n = 128, .c_in = 32, .h_in = 28, .w_in = 28, .c_out = 1,
                            .h_out = 28, .w_out = 28, .k = 1, .stride = 1, .pad = 0};
    c.push.rows = c.p.n;
    add(l, &c);
}

/* Batch normalisation: {n, c_in, in} with in = 1 (flat features), a
 * feature map, a channel longer than a workgroup's 64 strides, and a dense
 * layer's batch; channels that GPUs split between workgroups (gpu/
 * kernels.c bn_slices: 7 slices of 915 values, the last shorter; 8 of
 * classifier_conv's 32 channels of 25,088); each training and evaluation
 * (the forward), each with a full batch and a short one. */
static void norm_cases(vkvae_op op, int quick, case_list *l)
{
    static const uint32_t shapes[][3] = {
        {4, 3, 1}, {8, 5, 49}, {3, 2, 130}, {128, 20, 1}, {2, 64, 16}, {64, 6, 100},
        {128, 32, 196}};
    for (size_t i = quick ? 1 : 0; i < sizeof shapes / sizeof *shapes; i += quick ? 2 : 1)
        for (uint32_t mode = 0; mode <= (op == VKVAE_OP_BATCHNORM); mode++)
            for (uint32_t short_batch = 0; short_batch <= 1; short_batch++) {
                vkvae_parity_case c = {.op = op};
                c.p = (vkvae_op_params){.n = shapes[i][0], .c_in = shapes[i][1],
                                        .in = shapes[i][2], .mode = mode, .momentum = 0.1f,
                                        .eps = 1e-5f, .alpha = 0.2f};
                if (op == VKVAE_OP_BATCHNORM)
                    c.p.act = (uint32_t)((i + 2 * mode + short_batch) % VKVAE_ACT_COUNT);
                c.push = (vkvae_push){.rows = c.p.n - (short_batch ? (c.p.n > 2 ? 2 : 1) : 0),
                                      .grad_scale = 1};
                add(l, &c);
            }
}

/* PixelCNN's weight masks: {c_out, c_in, k}, masks A and B */
static void mask_cases(int quick, case_list *l)
{
    static const uint32_t shapes[][3] = {{1, 1, 3}, {64, 1, 7}, {5, 9, 5}, {130, 64, 3}};
    for (size_t i = quick ? 1 : 0; i < sizeof shapes / sizeof *shapes; i += quick ? 2 : 1)
        for (uint32_t mode = 0; mode <= 1; mode++) {
            vkvae_parity_case c = {.op = VKVAE_OP_CONV_MASK};
            c.p = (vkvae_op_params){.n = 1, .c_out = shapes[i][0], .c_in = shapes[i][1],
                                    .k = shapes[i][2], .mode = mode};
            add(l, &c);
        }
}

/* Sobel's threshold (mode 1) for inputs in quarters (fill): the channels'
 * mean, gx and gy are then multiples of 1/(4 c_in), m^2 one of 1/(16 c_in^2),
 * and alpha^2 lies halfway between two of those, so the fp32 kernel and the
 * fp64 CPU put every pixel on the same side. */
static float sobel_alpha(uint32_t c_in)
{
    return (float)(sqrt(16.0 * c_in * c_in + 0.5) / (4.0 * c_in));
}

/* The Sobel layer: {n, c_in, h_in, w_in}; a single pixel (all padding
 * around it), a row image, an MNIST-sized one, a colour one wider than a
 * workgroup; both modes, full and short batches. */
static void sobel_cases(int quick, case_list *l)
{
    static const uint32_t shapes[][4] = {{2, 1, 1, 1}, {3, 3, 5, 7}, {2, 2, 1, 9}, {4, 1, 28, 28},
                                         {3, 3, 9, 70}};
    for (size_t i = quick ? 1 : 0; i < sizeof shapes / sizeof *shapes; i += quick ? 2 : 1)
        for (uint32_t mode = 0; mode <= 1; mode++)
            for (uint32_t short_batch = 0; short_batch <= 1; short_batch++) {
                vkvae_parity_case c = {.op = VKVAE_OP_SOBEL};
                c.p = (vkvae_op_params){.n = shapes[i][0], .c_in = shapes[i][1],
                                        .h_in = shapes[i][2], .w_in = shapes[i][3], .mode = mode,
                                        .alpha = sobel_alpha(shapes[i][1])};
                c.push = (vkvae_push){.rows = c.p.n - short_batch};
                add(l, &c);
            }
}

/* The codebook ops: {n, c_in (a code's values), in (positions), classes};
 * a flat latent (in = 1), a 7x7 grid, codes wider than a workgroup, and
 * 101,920 positions (more than the 65,535 loop iterations lavapipe runs an
 * invocation); full and short batches. */
static int is_vq(vkvae_op op)
{
    return op == VKVAE_OP_VQ_NEAREST || op == VKVAE_OP_VQ_LOSS || op == VKVAE_OP_VQ_LOSS_BWD ||
           op == VKVAE_OP_VQ_CODEBOOK_BWD || op == VKVAE_OP_VQ_COUNT || op == VKVAE_OP_VQ_EMA ||
           op == VKVAE_OP_VQ_EMA_CODES || op == VKVAE_OP_VQ_RESTART;
}

static void vq_cases(vkvae_op op, int quick, case_list *l)
{
    static const uint32_t shapes[][4] = {{5, 3, 1, 7}, {4, 16, 49, 64}, {3, 2, 130, 5}, {2, 70, 9, 3},
                                            {130, 2, 784, 3}};
    for (size_t i = quick ? 1 : 0; i < sizeof shapes / sizeof *shapes; i += quick ? 2 : 1)
        for (uint32_t short_batch = 0; short_batch <= 1; short_batch++) {
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = shapes[i][0], .c_in = shapes[i][1], .in = shapes[i][2],
                                    .classes = shapes[i][3], .alpha = 0.25f, .momentum = 0.01f,
                                    .eps = 1e-5f, .stream = VKVAE_STREAM_RESTART,
                                    .mode = short_batch}; /* vq_loss: both modes */
            if (op == VKVAE_OP_VQ_LOSS || op == VKVAE_OP_VQ_LOSS_BWD)
                c.p.in *= c.p.c_in; /* these read z flat: [n, c_in*in] */
            c.push = (vkvae_push){.rows = c.p.n - short_batch, .grad_scale = 0.5f, .seed = 3,
                                  .step = 17};
            add(l, &c);
        }
}

/* The sequence ops (text): {n, in (steps), out, classes}; one step, rows
 * of more steps than a workgroup's 64 lanes, a vocabulary past 256 (levels
 * still exact, ops.def), and one of 30,000 whose three passes over the
 * classes run past lavapipe's 65,535 loop passes unless unrolled. Each full
 * and short; shift_tokens with and without word dropout, drawn from a
 * rank's first row (row0) or not. */
static int is_seq(vkvae_op op)
{
    return op == VKVAE_OP_SHIFT_TOKENS || op == VKVAE_OP_EMBEDDING ||
           op == VKVAE_OP_EMBEDDING_BWD || op == VKVAE_OP_NLL_TOKENS ||
           op == VKVAE_OP_NLL_TOKENS_BWD;
}

static void seq_cases(vkvae_op op, int quick, case_list *l)
{
    static const uint32_t shapes[][4] = {
        {1, 1, 1, 4}, {3, 17, 5, 5}, {5, 20, 70, 300}, {2, 129, 3, 17}, {2, 3, 2, 30000}};
    for (size_t i = quick ? 1 : 0; i < sizeof shapes / sizeof *shapes; i += quick ? 2 : 1)
        for (uint32_t short_batch = 0; short_batch <= (shapes[i][0] > 1); short_batch++) {
            int embed = op == VKVAE_OP_EMBEDDING || op == VKVAE_OP_EMBEDDING_BWD;
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = shapes[i][0], .in = shapes[i][1],
                                    .out = embed ? shapes[i][2] : 0, .classes = shapes[i][3],
                                    .stream = VKVAE_STREAM_WORD_DROPOUT,
                                    .alpha = (i + short_batch) % 2 ? 0.3f : 0.0f};
            c.push = (vkvae_push){.seed = 5, .step = 3 + (uint32_t)i, .grad_scale = 0.5f,
                                  .rows = c.p.n - short_batch, .row0 = short_batch ? 7 : 0};
            add(l, &c);
        }
    if (op == VKVAE_OP_EMBEDDING_BWD && !quick) {
        /* 67,080 valid steps summed by each invocation, 8 a pass */
        vkvae_parity_case c = {.op = op};
        c.p = (vkvae_op_params){.n = 130, .in = 520, .out = 3, .classes = 5};
        c.push = (vkvae_push){.rows = 129};
        add(l, &c);
    }
}

/* The GRU and its backward: steps 1, 5, 17 by units 1, 3 (a lane's one
 * unit), 64 (a lane each), 70, 130 (lanes with two and three), rows 1, 3,
 * 5 (all computed, a short batch's padding rows too); 1,024 units (16 a
 * lane, 12 KiB of shared memory backward); and 300 steps of 256 units, past
 * lavapipe's 65,535 loop passes an invocation unless the product's passes
 * are unrolled. */
static void gru_cases(vkvae_op op, int quick, case_list *l)
{
    static const uint32_t steps[] = {1, 5, 17}, units[] = {1, 3, 64, 70, 130}, rows[] = {1, 3, 5};
    for (uint32_t s = 0; s < 3; s++)
        for (uint32_t u = 0; u < 5; u++) {
            if (quick && (s + u) % 4)
                continue;
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = rows[(s + u) % 3], .in = steps[s], .out = units[u]};
            c.push = (vkvae_push){.rows = c.p.n > 1 && u % 2 ? c.p.n - 1 : c.p.n};
            add(l, &c);
        }
    if (quick)
        return;
    static const uint32_t big[][3] = {{2, 3, 1024}, {2, 300, 256}};
    for (size_t i = 0; i < 2; i++) {
        vkvae_parity_case c = {.op = op};
        c.p = (vkvae_op_params){.n = big[i][0], .in = big[i][1], .out = big[i][2]};
        c.push = (vkvae_push){.rows = c.p.n};
        add(l, &c);
    }
}

/* sample_pixel's tokens (mode 2): {n, in, classes} at temperatures 1, 0.5
 * and 0 (the most likely), passes that draw a step (pass 0 clears, as the
 * other modes' cases check). */
static void token_sample_cases(int quick, case_list *l)
{
    static const uint32_t shapes[][3] = {{1, 1, 4}, {3, 17, 5}, {5, 20, 300}, {2, 3, 30000}};
    static const float temperature[] = {1.0f, 0.5f, 0.0f};
    for (uint32_t i = quick ? 1 : 0; i < 4; i += quick ? 2 : 1)
        for (uint32_t k = 0; k < 3; k++) {
            vkvae_parity_case c = {.op = VKVAE_OP_SAMPLE_PIXEL};
            c.p = (vkvae_op_params){.n = shapes[i][0], .in = shapes[i][1],
                                    .classes = shapes[i][2], .mode = 2,
                                    .stream = VKVAE_STREAM_LIKELIHOOD};
            c.push = (vkvae_push){.seed = 7, .step = 2 + k, .rows = c.p.n,
                                  .base = 1 + (3 * i + k) % c.p.in,
                                  .temperature = temperature[k]};
            add(l, &c);
        }
}

uint32_t vkvae_parity_cases(vkvae_op op, int quick, vkvae_parity_case *out, uint32_t cap)
{
    case_list l = {.out = out, .cap = cap};
    size_t words;
    if (!vkvae_op_spirv(op, &words))
        return 0; /* no GPU kernel */
    if (vkvae_op_flags(op) & VKVAE_OPF_PRODUCT)
        split_cases(op, &l);
    if (op == VKVAE_OP_CONV2D_BWD_W || op == VKVAE_OP_CONVT2D_BWD_W)
        long_sum_cases(op, &l);
    if (vkvae_op_flags(op) & VKVAE_OPF_CONV) {
        conv_cases(op, quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (op == VKVAE_OP_BATCHNORM || op == VKVAE_OP_BATCHNORM_BWD) {
        norm_cases(op, quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (op == VKVAE_OP_CONV_MASK) {
        mask_cases(quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (is_vq(op)) {
        vq_cases(op, quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (op == VKVAE_OP_SOBEL) {
        sobel_cases(quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (is_seq(op)) {
        seq_cases(op, quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (op == VKVAE_OP_GRU || op == VKVAE_OP_GRU_BWD) {
        gru_cases(op, quick, &l);
        return l.bad ? 0 : l.count;
    }
    if (op == VKVAE_OP_SAMPLE_PIXEL)
        token_sample_cases(quick, &l);
    if (op == VKVAE_OP_REPEAT_ROWS_BWD) {
        /* a latent beside each of 70 steps */
        vkvae_parity_case c = {.op = op};
        c.p = (vkvae_op_params){.n = 3, .in = 20, .samples = 70};
        c.push = (vkvae_push){.rows = 3};
        add(&l, &c);
    }
    int pair = vkvae_op_is_pair(op);
    if (pair || op == VKVAE_OP_DENSE || op == VKVAE_OP_DENSE_BWD_X || op == VKVAE_OP_DENSE_BWD_W) {
        /* in and out (and a pair's in2) multiples of 4 as well: the
         * subgroup matmul reads them as vec4s on CPU drivers (kernels.c),
         * with n (bwd_w's depth) odd or not; the gaussian head's shape
         * (in2 only read by the pairs); and the decoder's first, wide
         * enough for 4 or more columns a lane and dense's vec4 stores */
        static const uint32_t mult4[][4] = {
            {1, 4, 4, 8}, {18, 12, 20, 4}, {130, 44, 28, 12}, {7, 400, 20, 20}, {9, 20, 400, 8}};
        for (size_t i = quick ? 1 : 0; i < sizeof mult4 / sizeof *mult4; i += quick ? 2 : 1) {
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = mult4[i][0], .in = mult4[i][1], .out = mult4[i][2],
                                    .in2 = pair ? mult4[i][3] : 0,
                                    .act = (uint32_t)(i % VKVAE_ACT_COUNT), .alpha = 0.2f};
            c.push = (vkvae_push){.rows = c.p.n, .kl_weight = 1, .grad_scale = 1};
            add(&l, &c);
        }
    }
    if (is_iwae(op)) {
        /* k past one workgroup of 64, and evaluation's k = 5000 */
        static const uint32_t big[][3] = {{5, 7, 70}, {2, 3, 5000}}; /* n, in, k */
        for (size_t i = 0; i < (quick ? 1u : 2u); i++) {
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = big[i][0], .in = big[i][1], .samples = big[i][2]};
            c.push = (vkvae_push){.rows = big[i][0] - (uint32_t)i, .grad_scale = 0.5f};
            add(&l, &c);
        }
    }
    if (op == VKVAE_OP_L2 || op == VKVAE_OP_VQ_LOSS || op == VKVAE_OP_KL_GAUSS ||
        op == VKVAE_OP_KL_GAUSS2 ||
        op == VKVAE_OP_NLL_GAUSS || op == VKVAE_OP_BCE_LOGITS) {
        /* rows of 70,000 values (a 1x256x256 image's 65,536 and more): one
         * invocation sums a row, past lavapipe's 65,535 loop passes unless
         * unrolled */
        vkvae_parity_case c = {.op = op};
        c.p = (vkvae_op_params){.n = 2, .in = 70000, .alpha = 0.25f, .samples = 1,
                                .mode = op == VKVAE_OP_NLL_GAUSS ? 2 : 1};
        c.push = (vkvae_push){.rows = 2, .grad_scale = 1.0f};
        add(&l, &c);
    }
    if (op == VKVAE_OP_KL_GAUSS || op == VKVAE_OP_KL_GAUSS_BWD) {
        /* free bits (alpha; the generic cases have alpha 0.2 too): rvae_chars'
         * batch of 64 x 16 a short batch, then the edges of lavapipe's loop
         * budget gen/shape.c allows, batch x latent 524,000 and latent 65,536 */
        static const uint32_t fb[][3] = {{64, 16, 61}, {256, 2046, 255}, {4, 65536, 3}};
        for (size_t i = 0; i < (quick ? 1u : 3u); i++) {
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = fb[i][0], .in = fb[i][1], .alpha = 0.2f,
                                    .mode = (uint32_t)i % 2};
            c.push = (vkvae_push){.rows = fb[i][2], .kl_weight = 0.5f, .grad_scale = 0.25f};
            add(&l, &c);
        }
    }
    if (op == VKVAE_OP_NLL_CATEGORICAL || op == VKVAE_OP_NLL_CATEGORICAL_BWD) {
        /* a 256-level PixelCNN's likelihood of 32x32 images: a row's
         * 1,024 values times 2 x 256 class steps each, past the 65,535
         * loop passes llvmpipe runs an invocation unless unrolled */
        vkvae_parity_case c = {.op = op};
        c.p = (vkvae_op_params){.n = 3, .in = 1024, .classes = 256};
        c.push = (vkvae_push){.rows = 2, .grad_scale = 0.5f};
        add(&l, &c);
    }
    if (op == VKVAE_OP_NLL_BERNOULLI_GRAD || op == VKVAE_OP_REPARAM_KL ||
        op == VKVAE_OP_REPARAM_KL_BWD) {
        /* the fused loss ops on the models' shapes: image rows of 784
         * (more than one workgroup's 64 vec4s a row) and latents of 20,
         * each batch short by 3 rows */
        static const uint32_t model[][2] = {{131, 784}, {128, 20}}; /* n, in */
        for (size_t i = 0; i < 2; i++) {
            vkvae_parity_case c = {.op = op};
            c.p = (vkvae_op_params){.n = model[i][0], .in = model[i][1],
                                    .stream = VKVAE_STREAM_EPS};
            c.push = (vkvae_push){.seed = 3, .step = 11, .rows = model[i][0] - 3,
                                  .kl_weight = 0.5f, .grad_scale = 1.0f / 128};
            add(&l, &c);
        }
    }
    /* every pairing of the sizes; quick: four that cover each size twice */
    static const uint8_t quick_ab[][2] = {{0, 1}, {2, 3}, {3, 2}, {1, 0}};
    for (size_t q = 0; q < (quick ? 4u : 16u); q++) {
        size_t a = quick ? quick_ab[q][0] : q / 4, b = quick ? quick_ab[q][1] : q % 4;
        vkvae_parity_case c = {.op = op};
        c.p.n = sizes[a];
        c.p.in = sizes[b];
        c.p.out = sizes[(a + b + 1) % 4];
        c.p.samples = 1 + (uint32_t)((a + b) % 3);
        c.p.act = (uint32_t)((a * 4 + b) % VKVAE_ACT_COUNT);
        c.p.alpha = op == VKVAE_OP_CORRUPT_MASK ? 0.3f : 0.2f;
        c.p.stream = VKVAE_STREAM_EPS;
        c.p.mode = (uint32_t)((a + 2 * b) % 3);
        if (op == VKVAE_OP_GATHER || op == VKVAE_OP_ADAM || op == VKVAE_OP_SGD ||
            op == VKVAE_OP_BCE_LOGITS || op == VKVAE_OP_BCE_LOGITS_BWD ||
            op == VKVAE_OP_KL_GAUSS_BWD)
            c.p.mode = (uint32_t)(b % 2);
        if (op == VKVAE_OP_GATHER_ONEHOT)
            c.p.out = c.p.classes = 10;
        if (pair) /* a second layer narrower, wider, or as wide */
            c.p.in2 = sizes[(a + 2 * b) % 4];
        if (op == VKVAE_OP_CONCAT) {
            c.p.in2 = sizes[(a + 2) % 4];
            c.p.out = c.p.in + c.p.in2;
        }
        if (op == VKVAE_OP_GATHER && b == 3) /* levels: bytes read as k/(classes-1) */
            c.p.mode = 2, c.p.classes = 17;
        if (op == VKVAE_OP_NLL_CATEGORICAL || op == VKVAE_OP_NLL_CATEGORICAL_BWD ||
            op == VKVAE_OP_SAMPLE_PIXEL || op == VKVAE_OP_ONEHOT) {
            c.p.classes = (uint32_t[]){2, 3, 17, 256}[(a + b) % 4];
            c.p.mode = op == VKVAE_OP_SAMPLE_PIXEL ? (uint32_t)(a % 2) : 0;
        }
        if (is_semi(op)) /* in is unread: the rows are classes wide */
            c.p.classes = (uint32_t[]){2, 3, 10, 17}[(a + b) % 4];
        if (op == VKVAE_OP_SLICE_BWD) {
            c.p.out = c.p.in + sizes[a];
            c.p.mode = (uint32_t)(b % 2); /* concat's first input, or its second */
        }
        c.p.lr = 1e-3f;
        c.p.beta1 = 0.9f;
        c.p.beta2 = 0.999f;
        c.p.eps = 1e-8f;
        c.p.weight_decay = b % 2 ? 0.01f : 0.0f;
        c.p.momentum = a % 2 ? 0.9f : 0.0f;
        c.push = (vkvae_push){
            .seed = 7, .step = (uint32_t)(a * 3 + b), .base = (uint32_t)b,
            /* some cases end in padding rows, like a short last batch */
            .rows = c.p.n > 2 && b % 2 ? c.p.n - 2 : c.p.n,
            .kl_weight = 0.75f, .grad_scale = a % 2 ? 1.0f : 1.0f / (float)c.p.n,
        };
        if ((op == VKVAE_OP_GATHER || op == VKVAE_OP_GATHER_ONEHOT) && c.push.base + c.p.n > 200)
            c.push.base = 0;
        /* a rank's slice of a global batch draws from its first row on */
        c.push.row0 = a % 2 ? (uint32_t)(5 * b + 3) : 0;
        add(&l, &c);
    }
    return l.bad ? 0 : l.count;
}

/* ---- one case ---- */

enum { DATASET_ROWS = 200 }; /* rows of a synthetic data set for the gather ops */

typedef struct case_buffers {
    uint32_t nb;
    void *host[VKVAE_MAX_BINDINGS];   /* fp32 (or raw) inputs for the GPU */
    double *ref[VKVAE_MAX_BINDINGS];  /* the same values for the CPU, its results after */
    double *mag[VKVAE_MAX_BINDINGS];  /* |inputs|, then the terms' size (fp16 builds) */
    void *cpu[VKVAE_MAX_BINDINGS];
    uint64_t elems[VKVAE_MAX_BINDINGS];
    vkvae_op_binding_info info[VKVAE_MAX_BINDINGS];
    vkvae_buffer buf[VKVAE_MAX_BINDINGS];
    vkvae_binding bind[VKVAE_MAX_BINDINGS];
} case_buffers;

static void free_buffers(vkvae_context *ctx, case_buffers *cb)
{
    for (uint32_t b = 0; b < cb->nb; b++) {
        vkvae_buffer_destroy(ctx, &cb->buf[b]);
        free(cb->host[b]);
        free(cb->ref[b]);
        free(cb->mag[b]);
    }
}

/* Draws binding b's inputs (or its poison) and uploads them. */
static vkvae_status fill(vkvae_context *ctx, const vkvae_parity_case *c, case_buffers *cb,
                         uint32_t b, uint64_t *rng, vkvae_error *err)
{
    vkvae_op_binding_info *info = &cb->info[b];
    *info = vkvae_op_binding(c->op, &c->p, b);
    uint64_t n = info->elems;
    if (info->elem == VKVAE_ELEM_U8)
        n = (uint64_t)DATASET_ROWS * (c->op == VKVAE_OP_GATHER ? c->p.in : 1);
    if (info->elem == VKVAE_ELEM_U32)
        n = DATASET_ROWS;
    cb->elems[b] = n;
    size_t esize = info->elem == VKVAE_ELEM_U8 ? 1 : 4;
    cb->host[b] = calloc(n + 4, esize);
    if (!cb->host[b])
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "op parity: out of host memory");
    int poison = info->written && !vkvae_op_reads_outputs(c->op); /* "+=": random data */
    if (info->elem == VKVAE_ELEM_REAL) {
        cb->ref[b] = calloc(n + 1, sizeof(double));
        if (!cb->ref[b])
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "op parity: out of host memory");
        float *h = cb->host[b];
        uint32_t K;
        int labels = label_binding(c, &K) == (int)b;
        int tokens = token_binding(c->op) == (int)b;
        uint64_t truth = 0, length = 0;
        for (uint64_t i = 0; i < n; i++) {
            double v = rnd(rng);
            if (tokens) {
                /* a row's tokens, then <pad> from a random length on; at
                 * most 4,096 distinct ones: levels past them need not
                 * survive fp32 (ops.def) */
                uint32_t L = c->p.classes < 4097 ? c->p.classes : 4097;
                if (i % c->p.in == 0)
                    length = (uint64_t)((v + 1) / 2 * (c->p.in + 1));
                uint64_t k = 1 + (uint64_t)((rnd(rng) + 1) / 2 * (L - 1));
                v = i % c->p.in < length ? (double)k / (c->p.classes - 1) : 0;
            }
            if ((c->op == VKVAE_OP_GRU && b == 1) || (c->op == VKVAE_OP_GRU_BWD && b == 4))
                v /= sqrt(c->p.out); /* weight_hh as PyTorch draws it: gates neither saturated nor flat */
            if (c->op == VKVAE_OP_GRU_BWD && b == 2 && i % (4 * c->p.out) < 2 * c->p.out)
                v = (v + 1) / 2; /* the gates r and z, in (0, 1) */
            if (labels && i % K == 0) /* about half the rows without a label */
                truth = v < 0 ? K : (uint64_t)(v * K);
            if (labels)
                v = i % K == truth ? 1 : 0;
            if ((c->op == VKVAE_OP_KL_GAUSS || c->op == VKVAE_OP_KL_GAUSS_BWD) && b == 0 &&
                c->p.alpha > 0)
                v *= (double)(i % c->p.in % 4); /* free bits 0.2: a mean KL of 0.09 in
                                                   dims 0 mod 4 (free), 0.25+ elsewhere */
            if (c->op == VKVAE_OP_ADAM && b == 3)
                v = fabs(v); /* second moments are never negative */
            if ((c->op == VKVAE_OP_NLL_BERNOULLI || c->op == VKVAE_OP_NLL_BERNOULLI_GRAD) && b == 1)
                v = (v + 1) / 2; /* targets in [0, 1] */
            if ((c->op == VKVAE_OP_IWAE_LSE || c->op == VKVAE_OP_IWAE_WEIGHTS) && b == 0)
                v *= 200; /* exp overflows fp32 past 88: needs the max shift */
            if ((c->op == VKVAE_OP_SOFTMAX_CE || c->op == VKVAE_OP_SOFTMAX_CE_BWD) && b == 0)
                v *= 100; /* the same for logsumexp */
            if (((c->op == VKVAE_OP_LABEL_WEIGHTS || c->op == VKVAE_OP_ENTROPY ||
                  c->op == VKVAE_OP_ENTROPY_BWD) && b == 0) ||
                (c->op == VKVAE_OP_LABEL_SUM_BWD && b == 1))
                v = 4 * v + 90; /* past 88 too, but a spread whose gradients do not vanish */
            if (c->op == VKVAE_OP_SOBEL && c->p.mode == 1)
                v = copysign(ceil(fabs(v) * 4) / 4, v); /* quarters: see sobel_alpha */
            if ((c->op == VKVAE_OP_BATCHNORM && b == 7) || (c->op == VKVAE_OP_BATCHNORM_BWD && b == 4))
                v = fabs(v) + 0.5; /* a running variance, a 1/std */
            if (((c->op == VKVAE_OP_VQ_CODEBOOK_BWD || c->op == VKVAE_OP_VQ_EMA ||
                  c->op == VKVAE_OP_VQ_RESTART) && b == 1) ||
                (c->op == VKVAE_OP_VQ_COUNT && b == 0))
                v = floor((v + 1) / 2 * c->p.classes * 0.999); /* code indices */
            if (c->op == VKVAE_OP_VQ_RESTART && b == 1)
                v = floor(v / 2) * 2; /* even codes only: the odd ones restart */
            if ((c->op == VKVAE_OP_VQ_EMA && b == 2) || (c->op == VKVAE_OP_VQ_EMA_CODES && b == 0))
                v = 10 * fabs(v); /* moving counts */
            h[i] = poison ? NAN : (float)v;
            cb->ref[b][i] = h[i];
        }
        cb->cpu[b] = cb->ref[b];
    } else if (info->elem == VKVAE_ELEM_U8) {
        uint8_t *h = cb->host[b];
        for (uint64_t i = 0; i < n; i++)
            h[i] = (uint8_t)(c->op == VKVAE_OP_GATHER_ONEHOT ? (rnd(rng) + 1) * 0.5 * c->p.out
                                                             : (rnd(rng) + 1) * 127.9);
        cb->cpu[b] = h;
    } else {
        uint32_t *h = cb->host[b];
        for (uint64_t i = 0; i < n; i++)
            h[i] = (uint32_t)((i * 7 + 3) % DATASET_ROWS); /* a permutation: 7 is coprime to 200 */
        cb->cpu[b] = h;
    }
    vkvae_status s = vkvae_buffer_create(ctx, n * esize, &cb->buf[b], err);
    if (!s)
        s = vkvae_buffer_upload(ctx, &cb->buf[b], 0, cb->host[b], n * esize, err);
    cb->bind[b] = (vkvae_binding){.buffer = &cb->buf[b]};
    return s;
}

/* c's kernel on cb's bindings: one dispatch, or a split product's two
 * (partial sums into a scratch buffer bound after the op's bindings, a
 * barrier, their reduction), as gpu/gpu_plan.c records them. */
static vkvae_status dispatch(vkvae_context *ctx, const vkvae_parity_case *c, case_buffers *cb,
                             int plant_fault, vkvae_parity_result *r, vkvae_error *err)
{
    uint64_t scratch_bytes = 0;
    uint32_t split = vkvae_op_split(ctx, c->op, &c->p, &scratch_bytes);
    r->split = split > 1;
    vkvae_kernel k = {0}, reduce = {0};
    vkvae_buffer scratch = {0};
    vkvae_binding bind[VKVAE_MAX_BINDINGS + 1];
    memcpy(bind, cb->bind, sizeof cb->bind);
    vkvae_commands cmd;
    int began = 0;
    uint32_t groups[3];
    vkvae_status s = vkvae_op_kernel_create(ctx, c->op, &c->p, &k, err);
    if (!s && split > 1)
        s = vkvae_op_reduce_create(ctx, c->op, &c->p, &reduce, err);
    if (!s && split > 1) {
        s = vkvae_buffer_create(ctx, scratch_bytes, &scratch, err);
        bind[cb->nb] = (vkvae_binding){.buffer = &scratch};
    }
    if (!s)
        began = !(s = vkvae_commands_begin(ctx, 2, 0, &cmd, err));
    vkvae_op_groups(ctx, c->op, &c->p, groups);
    if (plant_fault)
        groups[0]--; /* the planted fault: the last column of workgroups never runs */
    if (!s && groups[0] > 0)
        s = vkvae_commands_dispatch(ctx, &cmd, &k, bind, cb->nb + (split > 1), &c->push,
                                    sizeof c->push, groups[0], groups[1], groups[2], err);
    if (!s && split > 1) {
        vkvae_commands_barrier(ctx, &cmd);
        vkvae_op_reduce_groups(ctx, c->op, &c->p, groups);
        s = vkvae_commands_dispatch(ctx, &cmd, &reduce, bind, cb->nb + 1, &c->push,
                                    sizeof c->push, groups[0], groups[1], groups[2], err);
    }
    if (!s)
        s = vkvae_commands_submit_wait(ctx, &cmd, err);
    if (began)
        vkvae_commands_destroy(ctx, &cmd);
    if (k.pipeline)
        vkvae_kernel_destroy(ctx, &k);
    if (reduce.pipeline)
        vkvae_kernel_destroy(ctx, &reduce);
    if (scratch.buffer)
        vkvae_buffer_destroy(ctx, &scratch);
    return s;
}

/* The CPU's fp64 results in ref; for an fp16 build also the size of each
 * output's terms in mag: the op on the inputs' absolute values, without
 * the activation (whose slope is at most 1). */
static vkvae_status reference(const vkvae_parity_case *c, case_buffers *cb, int fp16,
                              vkvae_error *err)
{
    if (fp16) {
        void *abs_t[VKVAE_MAX_BINDINGS];
        for (uint32_t b = 0; b < cb->nb; b++) {
            abs_t[b] = cb->cpu[b];
            if (cb->info[b].elem != VKVAE_ELEM_REAL)
                continue;
            cb->mag[b] = calloc(cb->elems[b] + 1, sizeof(double));
            if (!cb->mag[b])
                return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "op parity: out of host memory");
            for (uint64_t i = 0; i < cb->elems[b]; i++)
                cb->mag[b][i] = fabs(cb->ref[b][i]);
            abs_t[b] = cb->mag[b];
        }
        vkvae_op_params linear = c->p;
        linear.act = VKVAE_ACT_NONE;
        vkvae_cpu_op_f64(c->op, &linear, &c->push, abs_t);
    }
    vkvae_cpu_op_f64(c->op, &c->p, &c->push, cb->cpu);
    return VKVAE_OK;
}

static vkvae_status compare(vkvae_context *ctx, case_buffers *cb, double bound,
                            vkvae_parity_result *r, vkvae_error *err)
{
    uint32_t nin = cb->nb;
    for (uint32_t b = 0; b < cb->nb; b++)
        if (cb->info[b].written && nin == cb->nb)
            nin = b;
    size_t used = 0;
    r->pass = 1;
    for (uint32_t b = 0; b < cb->nb; b++) {
        if (!cb->info[b].written || cb->info[b].elem != VKVAE_ELEM_REAL)
            continue;
        float *gpu = malloc(cb->elems[b] * sizeof *gpu);
        if (!gpu)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "op parity: out of host memory");
        vkvae_status s = vkvae_buffer_download(ctx, &cb->buf[b], 0, gpu,
                                               cb->elems[b] * sizeof *gpu, err);
        if (s) {
            free(gpu);
            return s;
        }
        double se = 0, norm = 0, max_abs = 0;
        uint64_t unwritten = 0;
        for (uint64_t i = 0; i < cb->elems[b]; i++) {
            double want = cb->ref[b][i], got = gpu[i];
            if (isnan(want) && isnan(got))
                continue; /* neither backend writes it (e.g. a fixed variance) */
            if (isnan(got) != isnan(want)) {
                unwritten++;
                continue;
            }
            se += (got - want) * (got - want);
            norm += cb->mag[b] ? cb->mag[b][i] * cb->mag[b][i] : want * want;
            max_abs = fmax(max_abs, fabs(got - want));
        }
        free(gpu);
        double nmse = norm > 0 ? se / norm : se;
        r->worst_nmse = fmax(r->worst_nmse, nmse);
        r->unwritten += unwritten;
        r->pass &= unwritten == 0 && nmse < bound;
        if (used < sizeof r->detail)
            used += (size_t)snprintf(r->detail + used, sizeof r->detail - used,
                                     "%sout%u: nmse=%.1e max_abs=%.1e%s", used ? " " : "",
                                     b - nin, nmse, max_abs, unwritten ? " UNWRITTEN/NaN" : "");
    }
    return VKVAE_OK;
}

vkvae_status vkvae_parity_run(vkvae_context *ctx, const vkvae_parity_case *c, int plant_fault,
                              vkvae_parity_result *r, vkvae_error *err)
{
    memset(r, 0, sizeof *r);
    case_buffers cb = {.nb = vkvae_op_bindings(c->op)};
    uint64_t rng = case_seed(c);
    vkvae_status s = VKVAE_OK;
    for (uint32_t b = 0; b < cb.nb && !s; b++)
        s = fill(ctx, c, &cb, b, &rng, err);
    if (!s)
        s = dispatch(ctx, c, &cb, plant_fault, r, err);
    r->fp16 = vkvae_op_build(ctx, c->op, &c->p) == VKVAE_BUILD_FP16;
    if (!s)
        s = reference(c, &cb, r->fp16, err);
    /* fp16: operands rounded to 11 bits and sums of 8 in fp16 leave an rms
     * error of a few 2^-12 of the terms; the worst seen over the 396 test
     * cases is 1.6e-7, and 1e-6 fails 156 of them when the tile sums are
     * 1% off */
    if (!s)
        s = compare(ctx, &cb, r->fp16 ? 1e-6 : 1e-7, r, err);
    free_buffers(ctx, &cb);
    return s;
}
