// nll_gauss_bwd: mean lv x -> dmean:[n,in] dlv:(shape of lv)
// Mode 1 (one variance per output) sums dlv over rows: element j of the
// second range owns dlv[j]. Mode 0 leaves dlv alone (the variance is fixed:
// its log-variance is P_ALPHA, and lv is not read).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer M { float mean[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer DM { float dmean[]; };
layout(std430, binding = 4) writeonly buffer DLV { float dlv[]; };
void main()
{
    uint i = element_index();
    uint valid = valid_rows();
    if (i < P_N * P_IN) {
        uint r = i / P_IN, j = i % P_IN;
        float l = P_MODE == 0u ? P_ALPHA : lv[P_MODE == 1u ? j : i];
        float d = x[i] - mean[i];
        bool live = r < valid;
        dmean[i] = live ? -pc.grad_scale * d * exp(-l) : 0.0;
        if (P_MODE == 2u)
            dlv[i] = live ? pc.grad_scale * 0.5 * (1.0 - d * d * exp(-l)) : 0.0;
    } else if (P_MODE == 1u && i < P_N * P_IN + P_IN) {
        uint j = i - P_N * P_IN;
        float l = lv[j], acc = 0.0;
        for (uint r = 0; r < valid; r++) {
            float d = x[r * P_IN + j] - mean[r * P_IN + j];
            acc += 0.5 * (1.0 - d * d * exp(-l));
        }
        dlv[j] = pc.grad_scale * acc;
    }
}
