// nll_bernoulli_grad: logits:[n,in] x:[n,in] -> nll:[n] dl:[n,in]
// nll_bernoulli and nll_bernoulli_bwd in one pass: one workgroup per row,
// its invocations take strided ROW_VEC-wide pieces of the row (common.glsl),
// write their gradient and sum their terms (row_sum.glsl).
// Both terms share e = exp(-|l|): sigmoid(l) = (l >= 0 ? 1 : e) / (1 + e).
// Padding rows get a zero term and a zero gradient.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "row_sum.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer NLL { float nll[]; };
layout(std430, binding = 3) writeonly buffer DL { float dl[]; };
layout(std430, binding = 0) readonly buffer L4 { vec4 l4[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 3) writeonly buffer DL4 { vec4 dl4[]; };
void main()
{
    uint r = row_index();
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    if (r >= P_N) return; // uniform over the workgroup
    bool valid = r < valid_rows();
    vec4 acc = vec4(0.0);
    for (uint j = t * ROW_VEC; j < P_IN; j += lanes * ROW_VEC) {
        uint i = r * P_IN + j;
        vec4 v = ROW_VEC == 4u ? l4[i / 4u] : vec4(l[i]);
        vec4 target = ROW_VEC == 4u ? x4[i / 4u] : vec4(x[i]);
        vec4 e = exp(-abs(v));
        vec4 g = valid ? pc.grad_scale * (mix(e, vec4(1.0), greaterThanEqual(v, vec4(0.0))) / (1.0 + e) - target)
                       : vec4(0.0);
        vec4 term = max(v, 0.0) - v * target + log(1.0 + e);
        if (ROW_VEC == 4u) {
            dl4[i / 4u] = g;
            acc += term;
        } else {
            dl[i] = g.x;
            acc.x += term.x;
        }
    }
    float mine = valid ? (acc.x + acc.y) + (acc.z + acc.w) : 0.0;
    float sum = row_sum(mine, t);
    if (t == 0u)
        nll[r] = sum;
}
