// dense: x:[n,in] w:[out,in] b:[out] -> y:[n,out]; y = act(x w^T + b)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_OUT) return;
    uint r = i / P_OUT, o = i % P_OUT;
    float acc = b[o];
    for (uint k = 0; k < P_IN; k++)
        acc += x[r * P_IN + k] * w[o * P_IN + k];
    y[i] = activate(acc);
}
