// vq_loss_bwd: z:[n,in] zq:[n,in] -> dz:[n,in] = grad_scale*2*alpha*(z - zq),
// the commitment loss's gradient (the codebook loss's is vq_codebook_bwd's)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer ZQ { float zq[]; };
layout(std430, binding = 2) writeonly buffer DZ { float dz[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dz[i] = i / P_IN < valid_rows() ? pc.grad_scale * 2.0 * P_ALPHA * (z[i] - zq[i]) : 0.0;
}
