// scale: -> y:[n,in]; y *= alpha in place (an update's weight on a loss
// gradient); ROW_VEC elements per invocation (common.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 0) buffer Y4 { vec4 y4[]; };
void main()
{
    uint i = element_index() * ROW_VEC;
    if (i >= P_N * P_IN) return;
    if (ROW_VEC == 4u)
        y4[i / 4u] *= P_ALPHA;
    else
        y[i] *= P_ALPHA;
}
