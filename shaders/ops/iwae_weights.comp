// iwae_weights: logw:[n*k] -> wt:[n*k]; wt = softmax over each example's k samples
// One workgroup per example (iwae_row.glsl); 0 for padding examples.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer LW { float logw[]; };
layout(std430, binding = 1) writeonly buffer WT { float wt[]; };
#include "iwae_row.glsl"
void main()
{
    uint r = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (r >= P_N) return; // uniform over the workgroup
    if (r >= min(pc.rows, P_N)) {
        for (uint s = t; s < P_SAMPLES; s += 64u)
            wt[r * P_SAMPLES + s] = 0.0;
        return;
    }
    float m;
    float inv = 1.0 / row_sum_exp(r, t, m);
    for (uint s = t; s < P_SAMPLES; s += 64u)
        wt[r * P_SAMPLES + s] = exp(logw[r * P_SAMPLES + s] - m) * inv;
}
