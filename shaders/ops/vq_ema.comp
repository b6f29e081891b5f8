// vq_ema: z:[n,c_in,in] idx:[n,in] -> count:[classes] sum:[classes,c_in] in
// place: the moving averages of the positions that chose each code and of
// their z (momentum = 1 - decay). One workgroup per (code k, value d), the
// last d (= c_in) the count: its 64 invocations take strided shares of the
// valid rows' positions, then a tree in shared memory (deterministic, no
// atomics, and no invocation past lavapipe's 65,535 loop passes).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer IDX { float idx[]; };
layout(std430, binding = 2) buffer COUNT { float count[]; };
layout(std430, binding = 3) buffer SUM { float sum[]; };
shared float partial[64];
void main()
{
    uint i = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (i >= P_CLASSES * (P_C_IN + 1u)) return; // uniform over the workgroup
    uint k = i / (P_C_IN + 1u), d = i % (P_C_IN + 1u);
    float acc = 0.0;
    for (uint j = t; j < valid_rows() * P_IN; j += 64u)
        if (uint(idx[j]) == k)
            acc += d == P_C_IN ? 1.0 : z[((j / P_IN) * P_C_IN + d) * P_IN + j % P_IN];
    partial[t] = acc;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0u) {
        if (d == P_C_IN)
            count[k] = (1.0 - P_MOMENTUM) * count[k] + P_MOMENTUM * partial[0];
        else
            sum[k * P_C_IN + d] = (1.0 - P_MOMENTUM) * sum[k * P_C_IN + d] + P_MOMENTUM * partial[0];
    }
}
