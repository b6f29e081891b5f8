// act_bwd: dy:[n,in] y:[n,in] -> dx:[n,in]; dx = dy * act'(y)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dx[i] = dy[i] * activate_grad(y[i]);
}
