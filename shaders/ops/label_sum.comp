// label_sum: v:[n*classes] wt:[n*classes] -> s:[n]; s[r] = sum_c
// wt[r*classes+c]*v[r*classes+c], a per-row loss over the class copies
// weighted. One invocation per row; padding rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer V { float v[]; };
layout(std430, binding = 1) readonly buffer WT { float wt[]; };
layout(std430, binding = 2) writeonly buffer S { float s[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float acc = 0.0;
    for (uint c = 0u; r < min(pc.rows, P_N) && c < P_CLASSES; c++)
        acc += wt[r * P_CLASSES + c] * v[r * P_CLASSES + c];
    s[r] = acc;
}
