// vq_ema_codes: count:[classes] sum:[classes,c_in] -> e:[classes,c_in]; each
// code is its moving sum over its Laplace-smoothed moving count,
// (count[k] + eps) / (N + classes*eps) * N with N the counts' sum (so a
// code no position chose divides by about eps, not 0). One invocation per
// value; each sums the counts in the same order (classes passes).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer COUNT { float count[]; };
layout(std430, binding = 1) readonly buffer SUM { float sum[]; };
layout(std430, binding = 2) writeonly buffer E { float e[]; };
void main()
{
    uint i = element_index();
    if (i >= P_CLASSES * P_C_IN) return;
    float total = 0.0;
    for (uint k = 0u; k < P_CLASSES; k++)
        total += count[k];
    uint k = i / P_C_IN;
    float smoothed = (count[k] + P_EPS) / (total + float(P_CLASSES) * P_EPS) * total;
    e[i] = sum[i] / smoothed;
}
