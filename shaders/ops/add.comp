// add: a:[n,in] b:[n,in] -> y:[n,in]; y = act(a + b); ROW_VEC elements per
// invocation (common.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, binding = 2) writeonly buffer Y4 { vec4 y4[]; };
void main()
{
    uint i = element_index() * ROW_VEC;
    if (i >= P_N * P_IN) return;
    if (ROW_VEC == 4u)
        y4[i / 4u] = activate(a4[i / 4u] + b4[i / 4u]);
    else
        y[i] = activate(a[i] + b[i]);
}
