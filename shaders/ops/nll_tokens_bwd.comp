// nll_tokens_bwd: logits:[n,in,classes] x:[n,in] -> dl:[n,in,classes];
// TOK_SLICES invocations per step (runtime/gpu/kernels.c: 1 on CPU
// drivers; on GPUs enough to fill one at a small batch), each working out
// the step's softmax alike and writing its slice of the classes:
// dl[t,c] = grad_scale * (softmax(l[t,:])[c] - 1 at its token k), 0 at
// <pad> steps and in padding rows. The classes 8 a pass, unrolled:
// llvmpipe's 65,535 loop passes an invocation (docs/architecture.md) then
// hold a vocabulary of 170,000.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DL { float dl[]; };
layout(constant_id = 32) const uint TOK_SLICES = 1u;
const uint PAD = 0u; // runtime/io/text.h's specials
void main()
{
    uint e = element_index(), i = e / TOK_SLICES;
    if (i >= P_N * P_IN) return;
    const uint part = (P_CLASSES + TOK_SLICES - 1u) / TOK_SLICES;
    uint at = i * P_CLASSES, lo = (e % TOK_SLICES) * part, hi = min(lo + part, P_CLASSES);
    uint k = uint(clamp(floor(x[i] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
    if (i / P_IN >= valid_rows() || k == PAD) {
        for (uint c0 = lo; c0 < hi; c0 += 8u)
            [[unroll]] for (uint u = 0u; u < 8u; u++)
                if (c0 + u < hi)
                    dl[at + c0 + u] = 0.0;
        return;
    }
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
    for (uint c0 = lo; c0 < hi; c0 += 8u)
        [[unroll]] for (uint u = 0u; u < 8u; u++) {
            uint c = c0 + u;
            if (c < hi)
                dl[at + c] = pc.grad_scale * (exp(l[at + c] - m) / s - (c == k ? 1.0 : 0.0));
        }
}
