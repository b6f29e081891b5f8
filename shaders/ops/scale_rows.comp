// scale_rows: wt:[n] -> dy:[n,in]; dy[r,:] *= wt[r] in place
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer WT { float wt[]; };
layout(std430, binding = 1) buffer DY { float dy[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    dy[i] *= wt[i / P_IN];
}
