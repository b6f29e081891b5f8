/* What each binding of each op holds, read off the contracts in ops.def:
 * element type, element count from the step's parameters, and whether the
 * op writes it. The backend checks every step of a plan against this table
 * once, so the op bodies (ops_real.h) index without checks.
 */
#include "cpu_ops.h"

#include <stddef.h>

static const char *const op_names[] = {
#define OP(e, name, nin, nout, contract) name,
#include "ops.def"
#undef OP
};
static const uint8_t op_bindings[] = {
#define OP(e, name, nin, nout, contract) (nin) + (nout),
#include "ops.def"
#undef OP
};
_Static_assert(sizeof op_names / sizeof *op_names == VKVAE_OP_COUNT, "ops.def tables out of step");

static const char *const act_names[] = { "none", "relu", "leaky_relu", "tanh", "sigmoid", "softplus" };
_Static_assert(sizeof act_names / sizeof *act_names == VKVAE_ACT_COUNT, "act names out of step");

uint32_t vkvae_cpu_op_bindings(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_bindings[op] : 0;
}

const char *vkvae_cpu_op_name(vkvae_op op)
{
    return (uint32_t)op < VKVAE_OP_COUNT ? op_names[op] : "?";
}

vkvae_op vkvae_cpu_bwd_x_op(vkvae_op layer)
{
    switch (layer) {
    case VKVAE_OP_DENSE: return VKVAE_OP_DENSE_BWD_X;
    case VKVAE_OP_CONV2D: return VKVAE_OP_CONV2D_BWD_X;
    case VKVAE_OP_CONVT2D: return VKVAE_OP_CONVT2D_BWD_X;
    default: return VKVAE_OP_COUNT;
    }
}

int vkvae_cpu_is_bwd_x(vkvae_op op)
{
    return op == VKVAE_OP_DENSE_BWD_X || op == VKVAE_OP_DENSE_PAIR_BWD_X ||
           op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_X;
}

int vkvae_cpu_is_pair(vkvae_op op)
{
    return op == VKVAE_OP_DENSE_PAIR || op == VKVAE_OP_DENSE_PAIR_BWD_X ||
           op == VKVAE_OP_DENSE_PAIR_BWD_W;
}

const char *vkvae_cpu_act_name(uint32_t act)
{
    return act < VKVAE_ACT_COUNT ? act_names[act] : "?";
}

vkvae_cpu_binding_info vkvae_cpu_binding(vkvae_op op, const vkvae_op_params *p, uint32_t b)
{
    uint64_t n = p->n, in = p->in, out = p->out, in2 = p->in2;
    uint64_t S = p->samples ? p->samples : 1;
    uint64_t x_conv = n * p->c_in * p->h_in * p->w_in;
    uint64_t y_conv = n * p->c_out * p->h_out * p->w_out;
    uint64_t kk = (uint64_t)p->k * p->k;
    uint64_t lv_elems = p->mode == 0 ? 1 : p->mode == 1 ? in : n * in;
    uint32_t nin = 0;
    uint64_t e[VKVAE_MAX_BINDINGS] = { 0 };

    switch (op) {
    case VKVAE_OP_GATHER:
        nin = 2, e[2] = n * in;
        break;
    case VKVAE_OP_GATHER_ONEHOT:
        nin = 2, e[2] = n * out;
        break;
    case VKVAE_OP_CORRUPT_MASK:
    case VKVAE_OP_CORRUPT_GAUSS:
    case VKVAE_OP_SIGMOID:
    case VKVAE_OP_SAMPLE_BERNOULLI:
        nin = 1, e[0] = e[1] = n * in;
        break;
    case VKVAE_OP_DENSE:
        nin = 3, e[0] = n * in, e[1] = out * in, e[2] = out, e[3] = n * out;
        break;
    case VKVAE_OP_DENSE_BWD_X:
        nin = 3, e[0] = n * out, e[1] = out * in, e[2] = e[3] = n * in;
        break;
    case VKVAE_OP_DENSE_BWD_W:
        nin = 2, e[0] = n * out, e[1] = n * in, e[2] = out * in, e[3] = out;
        break;
    case VKVAE_OP_DENSE_PAIR:
        nin = 4, e[0] = n * in, e[1] = (out + in2) * in, e[2] = out, e[3] = in2, e[4] = n * out,
        e[5] = n * in2;
        break;
    case VKVAE_OP_DENSE_PAIR_BWD_X:
        nin = 4, e[0] = n * out, e[1] = n * in2, e[2] = (out + in2) * in, e[3] = e[4] = n * in;
        break;
    case VKVAE_OP_DENSE_PAIR_BWD_W:
        nin = 3, e[0] = n * out, e[1] = n * in2, e[2] = n * in, e[3] = (out + in2) * in,
        e[4] = out, e[5] = in2;
        break;
    case VKVAE_OP_ACT_BWD:
        nin = 2, e[0] = e[1] = e[2] = n * in;
        break;
    case VKVAE_OP_CONV2D:
        nin = 3, e[0] = x_conv, e[1] = p->c_out * p->c_in * kk, e[2] = p->c_out, e[3] = y_conv;
        break;
    case VKVAE_OP_CONV2D_BWD_X:
        nin = 3, e[0] = y_conv, e[1] = p->c_out * p->c_in * kk, e[2] = e[3] = x_conv;
        break;
    case VKVAE_OP_CONV2D_BWD_W:
        nin = 2, e[0] = y_conv, e[1] = x_conv, e[2] = p->c_out * p->c_in * kk, e[3] = p->c_out;
        break;
    case VKVAE_OP_CONVT2D:
        nin = 3, e[0] = x_conv, e[1] = p->c_in * p->c_out * kk, e[2] = p->c_out, e[3] = y_conv;
        break;
    case VKVAE_OP_CONVT2D_BWD_X:
        nin = 3, e[0] = y_conv, e[1] = p->c_in * p->c_out * kk, e[2] = e[3] = x_conv;
        break;
    case VKVAE_OP_CONVT2D_BWD_W:
        nin = 2, e[0] = y_conv, e[1] = x_conv, e[2] = p->c_in * p->c_out * kk, e[3] = p->c_out;
        break;
    case VKVAE_OP_CONCAT:
        nin = 2, e[0] = n * in, e[1] = n * p->in2, e[2] = n * out;
        break;
    case VKVAE_OP_SLICE_BWD:
        nin = 1, e[0] = n * out, e[1] = n * in;
        break;
    case VKVAE_OP_REPARAM:
        nin = 2, e[0] = e[1] = n * in, e[2] = e[3] = n * S * in;
        break;
    case VKVAE_OP_REPARAM_BWD:
        nin = 3, e[0] = e[1] = n * S * in, e[2] = e[3] = e[4] = n * in;
        break;
    case VKVAE_OP_REPARAM_KL:
        nin = 2, e[0] = e[1] = n * in, e[2] = e[3] = n * S * in, e[4] = n;
        break;
    case VKVAE_OP_REPARAM_KL_BWD:
        nin = 4, e[0] = e[1] = n * S * in, e[2] = e[3] = e[4] = e[5] = n * in;
        break;
    case VKVAE_OP_PRIOR:
        nin = 0, e[0] = n * in;
        break;
    case VKVAE_OP_KL_GAUSS:
        nin = 2, e[0] = e[1] = n * in, e[2] = n;
        break;
    case VKVAE_OP_KL_GAUSS_BWD:
        nin = 2, e[0] = e[1] = e[2] = e[3] = n * in;
        break;
    case VKVAE_OP_NLL_BERNOULLI:
    case VKVAE_OP_L2:
        nin = 2, e[0] = e[1] = n * in, e[2] = n;
        break;
    case VKVAE_OP_NLL_BERNOULLI_BWD:
    case VKVAE_OP_L2_BWD:
        nin = 2, e[0] = e[1] = e[2] = n * in;
        break;
    case VKVAE_OP_NLL_BERNOULLI_GRAD:
        nin = 2, e[0] = e[1] = e[3] = n * in, e[2] = n;
        break;
    case VKVAE_OP_NLL_GAUSS:
        nin = 3, e[0] = n * in, e[1] = lv_elems, e[2] = n * in, e[3] = n;
        break;
    case VKVAE_OP_NLL_GAUSS_BWD:
        nin = 3, e[0] = n * in, e[1] = lv_elems, e[2] = n * in, e[3] = n * in, e[4] = lv_elems;
        break;
    case VKVAE_OP_LOSS_ACCUM:
        nin = 2, e[0] = e[1] = n, e[2] = 4;
        break;
    case VKVAE_OP_IWAE_LOGW:
        nin = 4, e[0] = e[4] = n * S, e[1] = e[2] = n * S * in, e[3] = n * in;
        break;
    case VKVAE_OP_IWAE_LSE:
        nin = 1, e[0] = n * S, e[1] = n;
        break;
    case VKVAE_OP_IWAE_WEIGHTS:
        nin = 1, e[0] = e[1] = n * S;
        break;
    case VKVAE_OP_IWAE_LOGW_BWD:
        nin = 4, e[0] = e[1] = n * S * in, e[2] = e[4] = e[5] = n * in, e[3] = n * S;
        break;
    case VKVAE_OP_SCALE_ROWS:
        nin = 1, e[0] = n, e[1] = n * in;
        break;
    case VKVAE_OP_REPEAT_ROWS:
        nin = 1, e[0] = n * in, e[1] = n * S * in;
        break;
    case VKVAE_OP_ADAM:
        nin = 2, e[0] = e[1] = e[2] = e[3] = in;
        break;
    case VKVAE_OP_SGD:
        nin = 2, e[0] = e[1] = e[2] = in;
        break;
    case VKVAE_OP_COUNT:
        break;
    }

    vkvae_cpu_binding_info info = { VKVAE_CPU_ELEM_REAL, b < VKVAE_MAX_BINDINGS ? e[b] : 0, b >= nin };
    if (op == VKVAE_OP_GATHER || op == VKVAE_OP_GATHER_ONEHOT) {
        if (b == 0)
            info.elem = VKVAE_CPU_ELEM_U8;
        else if (b == 1)
            info.elem = VKVAE_CPU_ELEM_U32;
    }
    /* The optimizers update the parameter in place: a written input. */
    if ((op == VKVAE_OP_ADAM || op == VKVAE_OP_SGD) && b == 0)
        info.written = 1;
    return info;
}

const char *vkvae_cpu_check_params(vkvae_op op, const vkvae_op_params *p)
{
    switch (op) {
    case VKVAE_OP_DENSE:
    case VKVAE_OP_DENSE_PAIR:
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONVT2D:
        if (p->act >= VKVAE_ACT_COUNT)
            return "unknown activation";
        break;
    case VKVAE_OP_ACT_BWD:
    case VKVAE_OP_DENSE_BWD_X: /* the *_bwd_x: the derivative of the activation below */
    case VKVAE_OP_DENSE_PAIR_BWD_X:
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONVT2D_BWD_X:
        if (p->act >= VKVAE_ACT_COUNT)
            return "unknown activation";
        if (p->act == VKVAE_ACT_LEAKY_RELU && !(p->alpha > 0))
            return "leaky relu needs alpha > 0 to take its derivative from the output";
        break;
    case VKVAE_OP_GATHER:
        if (p->mode > 1)
            return "gather mode must be 0 (grey levels) or 1 (binarized)";
        break;
    case VKVAE_OP_CONCAT:
        if (p->out != p->in + p->in2)
            return "concat needs out = in + in2";
        break;
    case VKVAE_OP_SLICE_BWD:
        if (p->in > p->out)
            return "slice_bwd needs in <= out";
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
