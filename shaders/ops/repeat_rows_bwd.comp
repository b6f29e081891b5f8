// repeat_rows_bwd: dy:[n*samples,in] -> dx:[n,in]; dx[r] = the sum of its
// samples' rows dy[r*samples+s], in order
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) writeonly buffer DX { float dx[]; };
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    float acc = 0.0;
    for (uint s = 0u; s < SAMPLES; s++)
        acc += dy[(r * SAMPLES + s) * P_IN + j];
    dx[i] = acc;
}
