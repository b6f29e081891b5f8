// vq_codebook_bwd: z:[n,c_in,in] idx:[n,in] e:[classes,c_in] -> de:[classes,c_in];
// one invocation per value d of code k: the codebook loss's gradient,
// grad_scale * sum of 2*(e[k,d] - z[r,d,p]) over the valid rows' positions
// that chose k. Every invocation scans the indices (no atomics, the same
// order of summation as the CPU's): n*in*classes*c_in reads, cheap at a
// VQ-VAE's code grid.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer IDX { float idx[]; };
layout(std430, binding = 2) readonly buffer E { float e[]; };
layout(std430, binding = 3) writeonly buffer DE { float de[]; };
void main()
{
    uint i = element_index();
    if (i >= P_CLASSES * P_C_IN) return;
    uint k = i / P_C_IN, c = i % P_C_IN;
    float ek = e[i], acc = 0.0;
    uint rows = valid_rows();
    for (uint r = 0u; r < rows; r++)
        for (uint p = 0u; p < P_IN; p++)
            if (uint(idx[r * P_IN + p]) == k)
                acc += 2.0 * (ek - z[(r * P_C_IN + c) * P_IN + p]);
    de[i] = pc.grad_scale * acc;
}
