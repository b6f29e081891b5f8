// dense_bwd_x: dy:[n,out] w:[out,in] -> dx:[n,in]; dx = dy w
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, k = i % P_IN;
    float acc = 0.0;
    for (uint o = 0; o < P_OUT; o++)
        acc += dy[r * P_OUT + o] * w[o * P_IN + k];
    dx[i] = acc;
}
