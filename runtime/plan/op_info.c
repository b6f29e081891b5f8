/* The facts about each op, read off ops.def's rows: names, bindings (type,
 * element count from a step's parameters, written or not), classes, the
 * plain kernel's invocation count and the FLOPs. The backends check every
 * step of a plan against vkvae_op_binding once, so the op bodies
 * (cpu/ops_real.h, shaders/ops) index without checks; the hazard analysis,
 * the GPU grid and the benchmark read the rest.
 */
#include "plan/op_info.h"

#include <stddef.h>

static const char *const op_names[] = {
#define OP(e, name, ...) name,
#include "plan/ops.def"
#undef OP
};
static const uint8_t op_bindings[] = {
#define OP(e, name, nin, nout, ...) (nin) + (nout),
#include "plan/ops.def"
#undef OP
};
static const uint8_t op_inputs[] = {
#define OP(e, name, nin, ...) (nin),
#include "plan/ops.def"
#undef OP
};

/* The FLAGS column's names (ops.def) for the row's expressions. */
enum {
    ACCUM = VKVAE_OPF_ACCUM, IN_PLACE = VKVAE_OPF_IN_PLACE, OPTIMIZER = VKVAE_OPF_OPTIMIZER,
    PRODUCT = VKVAE_OPF_PRODUCT, CONV = VKVAE_OPF_CONV, PAIR = VKVAE_OPF_PAIR,
    BWD_X = VKVAE_OPF_BWD_X, ACT = VKVAE_OPF_ACT, DERIV = VKVAE_OPF_DERIV,
    ROW_SUM = VKVAE_OPF_ROW_SUM, ROW_VEC = VKVAE_OPF_ROW_VEC, RANDOM = VKVAE_OPF_RANDOM,
    DATA = VKVAE_OPF_DATA,
};
static const uint32_t op_flags[] = {
#define OP(e, name, nin, nout, flags, ...) (flags),
#include "plan/ops.def"
#undef OP
};
_Static_assert(sizeof op_names / sizeof *op_names == VKVAE_OP_COUNT, "ops.def tables out of step");
_Static_assert(sizeof op_flags / sizeof *op_flags == VKVAE_OP_COUNT, "ops.def tables out of step");

static const char *const act_names[] = { "none", "relu", "leaky_relu", "tanh", "sigmoid", "softplus" };
_Static_assert(sizeof act_names / sizeof *act_names == VKVAE_ACT_COUNT, "act names out of step");

uint32_t vkvae_op_bindings(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_bindings[op] : 0;
}

uint32_t vkvae_op_inputs(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_inputs[op] : 0;
}

const char *vkvae_op_name(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_names[op] : "?";
}

uint32_t vkvae_op_flags(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_flags[op] : 0;
}

int vkvae_op_reads_outputs(vkvae_op op)
{
    return (vkvae_op_flags(op) & (VKVAE_OPF_ACCUM | VKVAE_OPF_IN_PLACE)) != 0;
}

vkvae_op vkvae_op_bwd_x(vkvae_op layer)
{
    switch (layer) {
    case VKVAE_OP_DENSE: return VKVAE_OP_DENSE_BWD_X;
    case VKVAE_OP_CONV2D: return VKVAE_OP_CONV2D_BWD_X;
    case VKVAE_OP_CONVT2D: return VKVAE_OP_CONVT2D_BWD_X;
    default: return VKVAE_OP_COUNT;
    }
}

int vkvae_op_is_bwd_x(vkvae_op op)
{
    return (vkvae_op_flags(op) & VKVAE_OPF_BWD_X) != 0;
}

int vkvae_op_is_pair(vkvae_op op)
{
    return (vkvae_op_flags(op) & VKVAE_OPF_PAIR) != 0;
}

const char *vkvae_act_name(uint32_t act)
{
    return act < VKVAE_ACT_COUNT ? act_names[act] : "?";
}

/* The names ops.def's expressions use, from a step's parameters. */
#define CEIL(a, b) (((a) + (b) - 1) / (b))
#define OP_TERMS(p)                                                                          \
    uint64_t n = (p)->n, in = (p)->in, out = (p)->out, in2 = (p)->in2;                       \
    uint64_t c_in = (p)->c_in, c_out = (p)->c_out, h_in = (p)->h_in, w_in = (p)->w_in;       \
    uint64_t h_out = (p)->h_out, w_out = (p)->w_out, k = (p)->k, stride = (p)->stride;       \
    uint64_t act = (p)->act, S = (p)->samples ? (p)->samples : 1;                            \
    uint64_t classes = (p)->classes, mode = (p)->mode;                                       \
    uint64_t X = n * c_in * h_in * w_in, Y = n * c_out * h_out * w_out;                      \
    uint64_t LV = (p)->mode == 0 ? 1 : (p)->mode == 1 ? in : n * in;                         \
    (void)n, (void)in, (void)out, (void)in2, (void)c_in, (void)c_out, (void)h_in, (void)w_in, \
        (void)h_out, (void)w_out, (void)k, (void)stride, (void)act, (void)S, (void)X, (void)Y, \
        (void)LV, (void)classes, (void)mode

/* Each row's ELEMS, binding by binding; the count must be the row's
 * inputs plus outputs. */
#define ELEMS(...) {__VA_ARGS__}
static void binding_elems(vkvae_op op, const vkvae_op_params *p, uint64_t e[VKVAE_MAX_BINDINGS])
{
    OP_TERMS(p);
    switch (op) {
#define OP(E, name, nin, nout, flags, elems, ...)                                            \
    case VKVAE_OP_##E: {                                                                     \
        const uint64_t v[] = elems;                                                          \
        _Static_assert(sizeof v / sizeof *v == (nin) + (nout), #E ": ELEMS per binding");     \
        for (size_t i = 0; i < sizeof v / sizeof *v; i++)                                    \
            e[i] = v[i];                                                                     \
        break;                                                                               \
    }
#include "plan/ops.def"
#undef OP
    case VKVAE_OP_COUNT: break;
    }
}

vkvae_op_binding_info vkvae_op_binding(vkvae_op op, const vkvae_op_params *p, uint32_t b)
{
    uint64_t e[VKVAE_MAX_BINDINGS] = { 0 };
    binding_elems(op, p, e);
    uint32_t flags = vkvae_op_flags(op);
    vkvae_op_binding_info info = { VKVAE_ELEM_REAL, b < VKVAE_MAX_BINDINGS ? e[b] : 0,
                                   b >= vkvae_op_inputs(op) };
    if ((flags & VKVAE_OPF_DATA) && b < 2)
        info.elem = b == 0 ? VKVAE_ELEM_U8 : VKVAE_ELEM_U32;
    if ((flags & VKVAE_OPF_OPTIMIZER) && b == 0)
        info.written = 1; /* the parameters, updated in place: a written input */
    return info;
}

uint64_t vkvae_op_invocations(vkvae_op op, const vkvae_op_params *p)
{
    OP_TERMS(p);
    switch (op) {
#define OP(E, name, nin, nout, flags, elems, invocations, ...) \
    case VKVAE_OP_##E: return (invocations);
#include "plan/ops.def"
#undef OP
    case VKVAE_OP_COUNT: break;
    }
    return 0;
}

double vkvae_op_flops(vkvae_op op, const vkvae_op_params *p)
{
    double W = 0; /* elements written */
    for (uint32_t b = 0; b < vkvae_op_bindings(op); b++) {
        vkvae_op_binding_info info = vkvae_op_binding(op, p, b);
        if (info.written)
            W += (double)info.elems;
    }
    OP_TERMS(p);
    switch (op) {
#define OP(E, name, nin, nout, flags, elems, invocations, flops, ...) \
    case VKVAE_OP_##E: return (double)(flops);
#include "plan/ops.def"
#undef OP
    case VKVAE_OP_COUNT: break;
    }
    return 0;
}

const char *vkvae_op_check_params(vkvae_op op, const vkvae_op_params *p)
{
    uint32_t flags = vkvae_op_flags(op);
    if ((flags & (VKVAE_OPF_ACT | VKVAE_OPF_DERIV)) && p->act >= VKVAE_ACT_COUNT)
        return "unknown activation";
    if ((flags & VKVAE_OPF_DERIV) && p->act == VKVAE_ACT_LEAKY_RELU && !(p->alpha > 0))
        return "leaky relu needs alpha > 0 to take its derivative from the output";
    switch (op) {
    case VKVAE_OP_GATHER:
        if (p->mode > 2)
            return "gather mode must be 0 (grey levels), 1 (binarized) or 2 (levels)";
        if (p->mode == 2 && (p->classes < 2 || p->classes > 256))
            return "gather of levels needs 2 to 256 classes";
        break;
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONV2D_BWD_W:
        if (p->mode > 2 || (p->mode && (p->k % 2 == 0 || p->stride != 1 || p->pad != p->k / 2)))
            return "conv2d mode must be 0 (unmasked), 1 (mask A) or 2 (mask B), masked only "
                   "with an odd kernel, stride 1 and pad k/2";
        break;
    case VKVAE_OP_CONCAT:
        if (p->out != p->in + p->in2)
            return "concat needs out = in + in2";
        break;
    case VKVAE_OP_NLL_CATEGORICAL:
    case VKVAE_OP_NLL_CATEGORICAL_BWD:
    case VKVAE_OP_ONEHOT:
        if (p->classes < 2)
            return "a categorical likelihood needs 2 or more classes";
        break;
    case VKVAE_OP_VQ_NEAREST:
    case VKVAE_OP_VQ_CODEBOOK_BWD:
    case VKVAE_OP_VQ_COUNT:
    case VKVAE_OP_VQ_EMA:
    case VKVAE_OP_VQ_EMA_CODES:
    case VKVAE_OP_VQ_RESTART:
        if (p->classes < 1 || (op != VKVAE_OP_VQ_COUNT && p->c_in < 1))
            return "a codebook needs 1 or more codes of 1 or more values";
        if (op == VKVAE_OP_VQ_EMA && !(p->momentum > 0 && p->momentum <= 1))
            return "vq_ema needs a momentum (1 - decay) in (0, 1]";
        if (op == VKVAE_OP_VQ_EMA_CODES && !(p->eps > 0))
            return "vq_ema_codes needs eps > 0";
        break;
    case VKVAE_OP_CLASS_ROWS:
    case VKVAE_OP_LABEL_WEIGHTS:
    case VKVAE_OP_LABEL_SUM:
    case VKVAE_OP_LABEL_SUM_BWD:
    case VKVAE_OP_ENTROPY:
    case VKVAE_OP_ENTROPY_BWD:
        if (p->classes < 1)
            return "the semi-supervised ops need 1 or more classes";
        break;
    case VKVAE_OP_SOBEL:
        if (p->c_in < 1 || p->h_in < 1 || p->w_in < 1)
            return "sobel needs 1 or more channels of 1 or more pixels";
        if (p->mode > 1)
            return "sobel mode must be 0 (the gradient magnitude) or 1 (edges past alpha)";
        break;
    case VKVAE_OP_KL_GAUSS_BWD:
        if (p->mode > 1)
            return "kl_gauss_bwd mode must be 0 (added) or 1 (written)";
        break;
    case VKVAE_OP_VQ_LOSS:
        if (p->mode > 1)
            return "vq_loss mode must be 0 (codebook and commitment) or 1 (commitment)";
        break;
    case VKVAE_OP_SAMPLE_PIXEL:
        if (p->mode > 2 || (p->mode >= 1 && p->classes < 2))
            return "sample_pixel mode must be 0 (Bernoulli), 1 (categorical) or 2 (tokens), "
                   "the last two with 2 or more classes";
        break;
    case VKVAE_OP_SHIFT_TOKENS:
    case VKVAE_OP_EMBEDDING:
    case VKVAE_OP_EMBEDDING_BWD:
    case VKVAE_OP_NLL_TOKENS:
    case VKVAE_OP_NLL_TOKENS_BWD:
        if (p->classes < 2)
            return "tokens (levels k/(classes-1)) need a vocabulary of 2 or more classes";
        break;
    case VKVAE_OP_GRU:
    case VKVAE_OP_GRU_BWD:
        /* the kernels' state and 16 units a lane (shaders/ops/gru*.comp) */
        if (p->in < 1 || p->out < 1 || p->out > 1024)
            return "a gru needs 1 or more steps and 1 to 1024 units";
        break;
    case VKVAE_OP_CONV_MASK:
        if (p->k % 2 == 0)
            return "conv_mask needs an odd kernel size k";
        if (p->mode > 1)
            return "conv_mask mode must be 0 (mask A) or 1 (mask B)";
        break;
    case VKVAE_OP_SLICE_BWD:
        if (p->in > p->out)
            return "slice_bwd needs in <= out";
        if (p->mode > 1)
            return "slice_bwd mode must be 0 (the head) or 1 (the tail)";
        break;
    case VKVAE_OP_NLL_GAUSS:
    case VKVAE_OP_NLL_GAUSS_BWD:
        if (p->mode > 2)
            return "nll_gauss mode must be 0, 1 or 2";
        break;
    case VKVAE_OP_ADAM:
        if (p->mode > 1)
            return "adam mode must be 0 (Adam) or 1 (AdamW)";
        break;
    case VKVAE_OP_BCE_LOGITS:
    case VKVAE_OP_BCE_LOGITS_BWD:
        if (p->mode > 1)
            return "bce_logits mode is the target: 0 (fake) or 1 (real)";
        break;
    case VKVAE_OP_BATCHNORM:
        if (p->mode > 1)
            return "batchnorm mode must be 0 (training) or 1 (evaluation)";
        if (!(p->eps > 0) || !(p->momentum >= 0 && p->momentum <= 1))
            return "batchnorm needs eps > 0 and a momentum in [0, 1]";
        break;
    default:
        break;
    }
    if (op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONV2D_BWD_W) {
        if (p->k == 0 || p->stride == 0)
            return "conv2d needs k >= 1 and stride >= 1";
        if (p->h_in + 2 * p->pad < p->k || p->w_in + 2 * p->pad < p->k ||
            p->h_out != (p->h_in + 2 * p->pad - p->k) / p->stride + 1 ||
            p->w_out != (p->w_in + 2 * p->pad - p->k) / p->stride + 1)
            return "conv2d output size is not (in + 2*pad - k)/stride + 1";
    }
    if (op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_W) {
        if (p->k == 0 || p->stride == 0)
            return "convt2d needs k >= 1 and stride >= 1";
        if (p->out_pad >= p->stride)
            return "convt2d needs out_pad < stride";
        int64_t h = ((int64_t)p->h_in - 1) * p->stride - 2 * (int64_t)p->pad + p->k + p->out_pad;
        int64_t w = ((int64_t)p->w_in - 1) * p->stride - 2 * (int64_t)p->pad + p->k + p->out_pad;
        if (p->h_in == 0 || p->w_in == 0 || h != p->h_out || w != p->w_out)
            return "convt2d output size is not (in-1)*stride - 2*pad + k + out_pad";
    }
    return NULL;
}
