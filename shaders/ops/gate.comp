// gate: x:[n,2*in] -> y:[n,in]; y = tanh(x[:, 0:in]) * sigmoid(x[:, in:2in])
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    float a = x[r * 2u * P_IN + j], b = x[r * 2u * P_IN + P_IN + j];
    y[i] = tanh(a) * (1.0 / (1.0 + exp(-b)));
}
