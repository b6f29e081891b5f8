// nll_tokens: logits:[n,in,classes] x:[n,in] -> nll:[n]; the sum over the
// steps whose token k is not <pad> of logsumexp(l[t,:]) - l[t,k]. One
// workgroup per row, its invocations taking strided steps, the row's sum by
// row_tree.glsl; padding rows get 0. The classes 8 a pass, unrolled, so
// llvmpipe's 65,535 loop passes an invocation (docs/architecture.md) hold
// a vocabulary of 250,000 at 64 steps.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer NLL { float nll[]; };
#include "row_tree.glsl"
const uint PAD = 0u; // runtime/io/text.h's specials
void main()
{
    uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint lane = gl_LocalInvocationID.x;
    if (r >= P_N) return; // uniform over the workgroup
    bool valid = r < valid_rows();
    float acc = 0.0;
    for (uint t = lane; valid && t < P_IN; t += 64u) {
        uint k = uint(clamp(floor(x[r * P_IN + t] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
        if (k == PAD)
            continue;
        uint at = (r * P_IN + t) * P_CLASSES;
        float m = l[at];
        for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
            [[unroll]] for (uint u = 0u; u < 8u; u++)
                if (c0 + u < P_CLASSES)
                    m = max(m, l[at + c0 + u]);
        float s = 0.0;
        for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
            [[unroll]] for (uint u = 0u; u < 8u; u++)
                if (c0 + u < P_CLASSES)
                    s += exp(l[at + c0 + u] - m);
        acc += m + log(s) - l[at + k];
    }
    float sum = row_tree_sum(acc, lane);
    if (lane == 0u)
        nll[r] = sum;
}
