// reparam_kl_bwd: dz:[n*samples,in] eps:[n*samples,in] mu:[n,in] lv:[n,in] -> dmu:[n,in] dlv:[n,in]
// reparam_bwd with kl_gauss_bwd's terms added in the same pass (g =
// kl_weight*grad_scale, valid rows only); exp(lv) = (2 sigma_half)^2
// shares reparam_bwd's exp.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
layout(std430, binding = 0) readonly buffer DZ { float dz[]; };
layout(std430, binding = 1) readonly buffer EPS { float eps[]; };
layout(std430, binding = 2) readonly buffer MU { float mu[]; };
layout(std430, binding = 3) readonly buffer LV { float lv[]; };
layout(std430, binding = 4) writeonly buffer DMU { float dmu[]; };
layout(std430, binding = 5) writeonly buffer DLV { float dlv[]; };
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
    float g = r < min(pc.rows, P_N) ? pc.kl_weight * pc.grad_scale : 0.0;
    dmu[i] = gm + g * mu[i];
    dlv[i] = gl + g * 0.5 * (4.0 * sigma_half * sigma_half - 1.0);
}
