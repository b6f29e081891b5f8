// repeat_rows: x:[n,in] -> y:[n*samples,in]; y[r*samples+s] = x[r]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
void main()
{
    uint i = element_index();
    if (i >= P_N * SAMPLES * P_IN) return;
    uint j = i % P_IN;
    y[i] = x[(i / P_IN / SAMPLES) * P_IN + j];
}
