// vq_codebook_bwd: z:[n,c_in,in] idx:[n,in] e:[classes,c_in] -> de:[classes,c_in];
// the codebook loss's gradient, de[k,d] = grad_scale * sum of 2*(e[k,d] -
// z[r,d,p]) over the valid rows' positions p that chose code k. One
// workgroup per value d of code k: its 64 invocations take strided shares
// of the positions, then a tree in shared memory adds their sums in a fixed
// order (deterministic, no atomics; and no invocation loops past
// lavapipe's 65,535 iterations, after which llvmpipe stops looping).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer IDX { float idx[]; };
layout(std430, binding = 2) readonly buffer E { float e[]; };
layout(std430, binding = 3) writeonly buffer DE { float de[]; };
shared float partial[64];
void main()
{
    uint i = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (i >= P_CLASSES * P_C_IN) return; // uniform over the workgroup
    uint k = i / P_C_IN, c = i % P_C_IN;
    float ek = e[i], acc = 0.0;
    for (uint j = t; j < valid_rows() * P_IN; j += 64u)
        if (uint(idx[j]) == k)
            acc += 2.0 * (ek - z[((j / P_IN) * P_C_IN + c) * P_IN + j % P_IN]);
    partial[t] = acc;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0u)
        de[i] = pc.grad_scale * partial[0];
}
