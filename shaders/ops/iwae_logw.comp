// iwae_logw: nll:[n*k] z:[n*k,in] eps:[n*k,in] lv:[n,in] -> logw:[n*k]
// logw = -nll + 0.5*sum_j(lv + eps^2 - z^2) = log p(x|z) + log p(z) - log q(z|x);
// one invocation per sample row r*k + s, 0 for padding examples r >= rows.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer NLL { float nll[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(std430, binding = 2) readonly buffer E { float eps[]; };
layout(std430, binding = 3) readonly buffer LV { float lv[]; };
layout(std430, binding = 4) writeonly buffer LW { float logw[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_SAMPLES) return;
    uint r = i / P_SAMPLES;
    float acc = 0.0;
    if (r < min(pc.rows, P_N)) {
        for (uint j = 0; j < P_IN; j++) {
            float e = eps[i * P_IN + j], zz = z[i * P_IN + j];
            acc += lv[r * P_IN + j] + e * e - zz * zz;
        }
        acc = 0.5 * acc - nll[i];
    }
    logw[i] = acc;
}
