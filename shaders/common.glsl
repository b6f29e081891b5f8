/* What every op kernel shares: the op's static parameters as specialization
 * constants, the run-time push constants, element indexing and the
 * activations. The layouts mirror runtime/plan/plan.h: constant_id i is the i-th
 * 4-byte field of struct vkvae_op_params, and Push is struct vkvae_push
 * (runtime/gpu/kernels.c asserts both on the C side). Dimensions are therefore
 * constants when the driver compiles the pipeline, and one SPIR-V module per
 * op serves every shape.
 */
#ifndef VKVAE_COMMON_GLSL
#define VKVAE_COMMON_GLSL

/* 64 invocations per workgroup, unless the kernel takes its size from a
 * specialization constant instead (the dense ops' subgroup variant,
 * shaders/ops/matmul.glsl). */
#ifndef VKVAE_LOCAL_SIZE_ID
layout(local_size_x = 64) in;
#else
layout(local_size_x_id = VKVAE_LOCAL_SIZE_ID) in;
#endif

layout(constant_id = 0) const uint P_N = 1;
layout(constant_id = 1) const uint P_IN = 1;
layout(constant_id = 2) const uint P_OUT = 1;
layout(constant_id = 3) const uint P_IN2 = 1;
layout(constant_id = 4) const uint P_CLASSES = 1;
layout(constant_id = 5) const uint P_C_IN = 1;
layout(constant_id = 6) const uint P_H_IN = 1;
layout(constant_id = 7) const uint P_W_IN = 1;
layout(constant_id = 8) const uint P_C_OUT = 1;
layout(constant_id = 9) const uint P_H_OUT = 1;
layout(constant_id = 10) const uint P_W_OUT = 1;
layout(constant_id = 11) const uint P_K = 1;
layout(constant_id = 12) const uint P_STRIDE = 1;
layout(constant_id = 13) const uint P_PAD = 0;
layout(constant_id = 14) const uint P_OUT_PAD = 0;
layout(constant_id = 15) const uint P_ACT = 0;
layout(constant_id = 16) const uint P_SAMPLES = 1;
layout(constant_id = 17) const uint P_STREAM = 0;
layout(constant_id = 18) const uint P_MODE = 0;
layout(constant_id = 19) const float P_ALPHA = 0.0;
layout(constant_id = 20) const float P_LR = 0.0;
layout(constant_id = 21) const float P_BETA1 = 0.0;
layout(constant_id = 22) const float P_BETA2 = 0.0;
layout(constant_id = 23) const float P_EPS = 0.0;
layout(constant_id = 24) const float P_WEIGHT_DECAY = 0.0;
layout(constant_id = 25) const float P_MOMENTUM = 0.0;

layout(push_constant) uniform Push {
    uint seed;
    uint step;
    uint base;
    uint rows;
    float kl_weight;
    float grad_scale;
    uint row0;
    float temperature;
} pc;

/* Elementwise kernels over [n, in] rows (ops.def's ROW_VEC: gather,
 * act_bwd, nll_bernoulli_bwd, add) take ROW_VEC adjacent elements of a row
 * per invocation: 4, one vec4, when rows are whole vec4s, else 1;
 * runtime/gpu/kernels.c sizes their grids by the same rule. Lavapipe pays
 * per load instruction, not per byte. */
const uint ROW_VEC = P_IN % 4u == 0u ? 4u : 1u;

/* The optimizer kernels (adam, sgd) update OPT_QUADS vec4s of parameters per
 * invocation: constant_id 32, which runtime/gpu/kernels.c sets and sizes
 * their grids by (4 on CPU drivers: VKVAE_OPT_PARAMS, runtime/plan/plan.h;
 * 1 on GPUs). */
#ifdef VKVAE_OPTIMIZER
layout(constant_id = 32) const uint OPT_QUADS = 4u;
#endif

const uint ACT_NONE = 0u, ACT_RELU = 1u, ACT_LEAKY_RELU = 2u, ACT_TANH = 3u, ACT_SIGMOID = 4u,
           ACT_SOFTPLUS = 5u;

/* The element this invocation computes; grids wider than 65535 groups fold
 * into y. */
uint element_index()
{
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 64u;
}

/* Rows holding data: pc.rows examples, times samples for ops over IWAE's
 * n*k sample rows (ops.def). */
uint valid_rows()
{
    return min(pc.rows * max(P_SAMPLES, 1u), P_N);
}

float sigmoid(float x)
{
    return 1.0 / (1.0 + exp(-x));
}

vec4 sigmoid(vec4 x)
{
    return 1.0 / (1.0 + exp(-x));
}

// log(1 + x) for x >= 0 keeping a small x's digits (GLSL has no log1p,
// and its log is only absolutely accurate near 1, to 2^-21): the series
// below 0.05 (its next term under 1e-11 relative), log(1 + x) above.
float log1p_(float x)
{
    if (x >= 0.05)
        return log(1.0 + x);
    float t = x * (1.0 / 7.0);
    t = x * (1.0 / 6.0 - t);
    t = x * (1.0 / 5.0 - t);
    t = x * (1.0 / 4.0 - t);
    t = x * (1.0 / 3.0 - t);
    t = x * (1.0 / 2.0 - t);
    return x * (1.0 - t);
}

float softplus(float x)
{
    return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

float activate(float x)
{
    if (P_ACT == ACT_RELU) return max(x, 0.0);
    if (P_ACT == ACT_LEAKY_RELU) return x > 0.0 ? x : P_ALPHA * x;
    if (P_ACT == ACT_TANH) return tanh(x);
    if (P_ACT == ACT_SIGMOID) return sigmoid(x);
    if (P_ACT == ACT_SOFTPLUS) return softplus(x);
    return x;
}

vec4 activate(vec4 x)
{
    return vec4(activate(x.x), activate(x.y), activate(x.z), activate(x.w));
}

/* The activation's derivative from its output y (see ops.def). */
float activate_grad(float y)
{
    if (P_ACT == ACT_RELU) return y > 0.0 ? 1.0 : 0.0;
    if (P_ACT == ACT_LEAKY_RELU) return y > 0.0 ? 1.0 : P_ALPHA;
    if (P_ACT == ACT_TANH) return 1.0 - y * y;
    if (P_ACT == ACT_SIGMOID) return y * (1.0 - y);
    if (P_ACT == ACT_SOFTPLUS) return 1.0 - exp(-y);
    return 1.0;
}

/* The same for a vec4 of outputs (the ROW_VEC and vec4 epilogue paths). */
vec4 activate_grad(vec4 y)
{
    return vec4(activate_grad(y.x), activate_grad(y.y), activate_grad(y.z), activate_grad(y.w));
}

#endif
