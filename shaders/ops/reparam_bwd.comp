// reparam_bwd: dz:[n*samples,in] eps:[n*samples,in] lv:[n,in] -> dmu:[n,in] dlv:[n,in]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
layout(std430, binding = 0) readonly buffer DZ { float dz[]; };
layout(std430, binding = 1) readonly buffer EPS { float eps[]; };
layout(std430, binding = 2) readonly buffer LV { float lv[]; };
layout(std430, binding = 3) writeonly buffer DMU { float dmu[]; };
layout(std430, binding = 4) writeonly buffer DLV { float dlv[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    float sigma_half = 0.5 * exp(0.5 * lv[i]);
    float gm = 0.0, gl = 0.0;
    for (uint s = 0; s < SAMPLES; s++) {
        uint at = (r * SAMPLES + s) * P_IN + j;
        gm += dz[at];
        gl += dz[at] * eps[at] * sigma_half;
    }
    dmu[i] = gm;
    dlv[i] = gl;
}
