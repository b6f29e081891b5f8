// nll_bernoulli_bwd: logits x -> dl:[n,in] = grad_scale*(sigmoid(l) - x)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DL { float dl[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dl[i] = i / P_IN < valid_rows() ? pc.grad_scale * (sigmoid(l[i]) - x[i]) : 0.0;
}
