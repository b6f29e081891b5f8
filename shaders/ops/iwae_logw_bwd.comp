// iwae_logw_bwd: z:[n*k,in] eps:[n*k,in] lv:[n,in] wt:[n*k] -> dmu:[n,in] dlv:[n,in]
// dmu += g*sum_s wt*z, dlv += g*sum_s wt*(z*eps*exp(lv/2)/2 - 1/2), g = grad_scale:
// the prior and posterior terms of log w through z = mu + sigma*eps. One
// invocation per (example, latent); padding examples add nothing.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer E { float eps[]; };
layout(std430, binding = 2) readonly buffer LV { float lv[]; };
layout(std430, binding = 3) readonly buffer WT { float wt[]; };
layout(std430, binding = 4) buffer DMU { float dmu[]; };
layout(std430, binding = 5) buffer DLV { float dlv[]; };
void main()
{
    uint i = element_index();
    if (i >= min(pc.rows, P_N) * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    float half_sigma = 0.5 * exp(0.5 * lv[i]);
    float gm = 0.0, gl = 0.0;
    for (uint s = 0; s < P_SAMPLES; s++) {
        uint e = (r * P_SAMPLES + s) * P_IN + j;
        float w = wt[r * P_SAMPLES + s];
        gm += w * z[e];
        gl += w * (z[e] * eps[e] * half_sigma - 0.5);
    }
    dmu[i] += pc.grad_scale * gm;
    dlv[i] += pc.grad_scale * gl;
}
