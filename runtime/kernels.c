/* The GPU kernel of each op: SPIR-V compiled at build time from
 * shaders/ops/<op>.comp, specialised per step with the step's parameters
 * (constant_id i = the i-th 4-byte field of vkvae_op_params), and the
 * workgroup grid that covers the op's elements. Adding an op's kernel is
 * one row here and one .comp file.
 */
#include <stddef.h>
#include <stdint.h>

#include "gpu.h"

#include "act_bwd.spv.h"
#include "adam.spv.h"
#include "concat.spv.h"
#include "corrupt_gauss.spv.h"
#include "corrupt_mask.spv.h"
#include "dense.spv.h"
#include "dense_bwd_w.spv.h"
#include "dense_bwd_x.spv.h"
#include "gather.spv.h"
#include "gather_onehot.spv.h"
#include "kl_gauss.spv.h"
#include "kl_gauss_bwd.spv.h"
#include "l2.spv.h"
#include "l2_bwd.spv.h"
#include "loss_accum.spv.h"
#include "nll_bernoulli.spv.h"
#include "nll_bernoulli_bwd.spv.h"
#include "nll_gauss.spv.h"
#include "nll_gauss_bwd.spv.h"
#include "prior.spv.h"
#include "reparam.spv.h"
#include "reparam_bwd.spv.h"
#include "sample_bernoulli.spv.h"
#include "sgd.spv.h"
#include "sigmoid.spv.h"
#include "slice_bwd.spv.h"

/* The shaders read vkvae_op_params as 26 consecutive 4-byte constants and
 * vkvae_push as their push-constant block (shaders/common.glsl). */
enum { SPEC_COUNT = 26 };
_Static_assert(sizeof(vkvae_op_params) == SPEC_COUNT * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, act) == 15 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, alpha) == 19 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, momentum) == 25 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_push, grad_scale) == 20, "common.glsl push block");

typedef struct op_kernel {
    const uint32_t *spirv;
    size_t bytes;
} op_kernel;

#define K(op, name) [VKVAE_OP_##op] = {name##_spv, sizeof name##_spv}
static const op_kernel kernels[VKVAE_OP_COUNT] = {
    K(GATHER, gather),
    K(GATHER_ONEHOT, gather_onehot),
    K(CORRUPT_MASK, corrupt_mask),
    K(CORRUPT_GAUSS, corrupt_gauss),
    K(DENSE, dense),
    K(DENSE_BWD_X, dense_bwd_x),
    K(DENSE_BWD_W, dense_bwd_w),
    K(ACT_BWD, act_bwd),
    K(CONCAT, concat),
    K(SLICE_BWD, slice_bwd),
    K(REPARAM, reparam),
    K(REPARAM_BWD, reparam_bwd),
    K(PRIOR, prior),
    K(KL_GAUSS, kl_gauss),
    K(KL_GAUSS_BWD, kl_gauss_bwd),
    K(NLL_BERNOULLI, nll_bernoulli),
    K(NLL_BERNOULLI_BWD, nll_bernoulli_bwd),
    K(NLL_GAUSS, nll_gauss),
    K(NLL_GAUSS_BWD, nll_gauss_bwd),
    K(L2, l2),
    K(L2_BWD, l2_bwd),
    K(LOSS_ACCUM, loss_accum),
    K(ADAM, adam),
    K(SGD, sgd),
    K(SIGMOID, sigmoid),
    K(SAMPLE_BERNOULLI, sample_bernoulli),
    /* conv2d and transposed conv2d kernels arrive with step 6 */
};
#undef K

const uint32_t *vkvae_op_spirv(vkvae_op op, size_t *words)
{
    if ((unsigned)op >= VKVAE_OP_COUNT || !kernels[op].spirv)
        return NULL;
    *words = kernels[op].bytes / sizeof(uint32_t);
    return kernels[op].spirv;
}

/* How many invocations op needs: one per element of its main output (see
 * each shader's header). */
static uint64_t op_invocations(vkvae_op op, const vkvae_op_params *p)
{
    uint64_t n = p->n, in = p->in, samples = p->samples ? p->samples : 1;
    switch (op) {
    case VKVAE_OP_GATHER_ONEHOT:
    case VKVAE_OP_DENSE: return n * p->out;
    case VKVAE_OP_DENSE_BWD_W: return (uint64_t)p->out * in + p->out;
    case VKVAE_OP_CONCAT: return n * (in + p->in2);
    case VKVAE_OP_REPARAM: return n * samples * in;
    case VKVAE_OP_KL_GAUSS:
    case VKVAE_OP_NLL_BERNOULLI:
    case VKVAE_OP_NLL_GAUSS:
    case VKVAE_OP_L2: return n;
    case VKVAE_OP_NLL_GAUSS_BWD: return n * in + in;
    case VKVAE_OP_LOSS_ACCUM: return 64; /* one workgroup reduces */
    case VKVAE_OP_ADAM:
    case VKVAE_OP_SGD: return in;
    default: return n * in;
    }
}

void vkvae_op_groups(vkvae_op op, const vkvae_op_params *p, uint32_t groups[3])
{
    uint64_t g = (op_invocations(op, p) + 63) / 64;
    if (g == 0)
        g = 1;
    /* Fold a long grid into rows of at most 65535 groups; the shader's
     * element_index() unfolds it, and the spare tail is bounds-checked. */
    uint64_t rows = (g + 65534) / 65535;
    groups[0] = (uint32_t)(rows > 1 ? (g + rows - 1) / rows : g);
    groups[1] = (uint32_t)rows;
    groups[2] = 1;
}

vkvae_status vkvae_op_kernel_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err)
{
    size_t words = 0;
    const uint32_t *spirv = vkvae_op_spirv(op, &words);
    if (!spirv)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "op %d has no GPU kernel yet", (int)op);
    return vkvae_kernel_create(ctx, spirv, words, p, SPEC_COUNT, "op", out, err);
}
