// iwae_lse: logw:[n*k] -> loss:[n]; loss = -logmeanexp_s logw = -(m + log(sum exp(logw-m)) - log k)
// One workgroup per example (iwae_row.glsl); 0 for padding examples.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer LW { float logw[]; };
layout(std430, binding = 1) writeonly buffer L { float loss[]; };
#include "iwae_row.glsl"
void main()
{
    uint r = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (r >= P_N) return; // uniform over the workgroup
    if (r >= min(pc.rows, P_N)) {
        if (t == 0u)
            loss[r] = 0.0;
        return;
    }
    float m;
    float sum = row_sum_exp(r, t, m);
    if (t == 0u)
        loss[r] = -(m + log(sum) - log(float(P_SAMPLES)));
}
