// concat: a:[n,in] b:[n,in2] -> y:[n,out=in+in2]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    uint width = P_IN + P_IN2;
    if (i >= P_N * width) return;
    uint r = i / width, c = i % width;
    y[i] = c < P_IN ? a[r * P_IN + c] : b[r * P_IN2 + (c - P_IN)];
}
