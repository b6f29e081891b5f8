// reparam: mu:[n,in] lv:[n,in] -> z:[n*samples,in] eps:[n*samples,in]
// z[r*samples+s] = mu[r] + exp(lv[r]/2)*eps
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) writeonly buffer Z { float z[]; };
layout(std430, binding = 3) writeonly buffer EPS { float eps[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * SAMPLES * P_IN) return;
    uint row = i / P_IN, j = i % P_IN;
    uint src = (row / SAMPLES) * P_IN + j;
    float e = vkvae_rand_normal(pc.seed, P_STREAM, pc.step, i + pc.row0 * SAMPLES * P_IN);
    eps[i] = e;
    z[i] = mu[src] + exp(0.5 * lv[src]) * e;
}
