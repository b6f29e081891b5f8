// reparam_kl: mu:[n,in] lv:[n,in] -> z:[n*samples,in] eps:[n*samples,in] kl:[n]
// reparam and kl_gauss in one pass over mu and lv: one invocation per row
// (example), which draws its samples' eps and sums its KL term;
// exp(lv) = sigma^2 shares reparam's exp. kl is 0 for padding rows.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
const uint SAMPLES = P_SAMPLES == 0u ? 1u : P_SAMPLES;
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) writeonly buffer Z { float z[]; };
layout(std430, binding = 3) writeonly buffer EPS { float eps[]; };
layout(std430, binding = 4) writeonly buffer KL { float kl[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float acc = 0.0;
    for (uint j = 0; j < P_IN; j++) {
        float m = mu[r * P_IN + j], l = lv[r * P_IN + j], sigma = exp(0.5 * l);
        acc += m * m + sigma * sigma - 1.0 - l;
        for (uint s = 0; s < SAMPLES; s++) {
            uint i = (r * SAMPLES + s) * P_IN + j;
            float e = vkvae_rand_normal(pc.seed, P_STREAM, pc.step, i + pc.row0 * SAMPLES * P_IN);
            eps[i] = e;
            z[i] = m + sigma * e;
        }
    }
    kl[r] = r < min(pc.rows, P_N) ? 0.5 * acc : 0.0;
}
