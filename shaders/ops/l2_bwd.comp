// l2_bwd: y x -> dy:[n,in] = grad_scale*2*(y-x)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DY { float dy[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dy[i] = i / P_IN < valid_rows() ? pc.grad_scale * 2.0 * (y[i] - x[i]) : 0.0;
}
