// bce_logits_bwd: logits:[n,in] -> dl:[n,in] = grad_scale*(sigmoid(l) -
// target), the target P_MODE; padding rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) writeonly buffer DL { float dl[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dl[i] = i / P_IN < valid_rows() ? pc.grad_scale * (sigmoid(l[i]) - float(P_MODE)) : 0.0;
}
