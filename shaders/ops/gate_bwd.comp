// gate_bwd: dy:[n,in] x:[n,2*in] -> dx:[n,2*in]; with t = tanh(a) and
// s = sigmoid(b) of the two halves: da = dy*(1-t^2)*s, db = dy*t*s*(1-s)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN, a = r * 2u * P_IN + j;
    float t = tanh(x[a]), s = 1.0 / (1.0 + exp(-x[a + P_IN])), g = dy[i];
    dx[a] = g * (1.0 - t * t) * s;
    dx[a + P_IN] = g * t * s * (1.0 - s);
}
