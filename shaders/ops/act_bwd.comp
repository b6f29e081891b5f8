// act_bwd: dy:[n,in] y:[n,in] -> dx:[n,in]; dx = dy * act'(y); ROW_VEC
// elements per invocation (common.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(std430, binding = 0) readonly buffer DY4 { vec4 dy4[]; };
layout(std430, binding = 1) readonly buffer Y4 { vec4 y4[]; };
layout(std430, binding = 2) writeonly buffer DX4 { vec4 dx4[]; };
void main()
{
    uint i = element_index() * ROW_VEC;
    if (i >= P_N * P_IN) return;
    if (ROW_VEC == 4u)
        dx4[i / 4u] = dy4[i / 4u] * activate_grad(y4[i / 4u]);
    else
        dx[i] = dy[i] * activate_grad(y[i]);
}
