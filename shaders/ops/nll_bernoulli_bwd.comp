// nll_bernoulli_bwd: logits x -> dl:[n,in] = grad_scale*(sigmoid(l) - x);
// ROW_VEC elements per invocation (common.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DL { float dl[]; };
layout(std430, binding = 0) readonly buffer L4 { vec4 l4[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2) writeonly buffer DL4 { vec4 dl4[]; };
void main()
{
    uint i = element_index() * ROW_VEC;
    if (i >= P_N * P_IN) return;
    bool valid = i / P_IN < valid_rows();
    if (ROW_VEC == 4u)
        dl4[i / 4u] = valid ? pc.grad_scale * (sigmoid(l4[i / 4u]) - x4[i / 4u])
                            : vec4(0.0);
    else
        dl[i] = valid ? pc.grad_scale * (sigmoid(l[i]) - x[i]) : 0.0;
}
