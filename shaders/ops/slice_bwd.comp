// slice_bwd: dy:[n,out] -> da:[n,in]; da = dy[:, 0:in] (mode 0: concat's first
// input), dy[:, out-in:out] (mode 1: its second)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) writeonly buffer DA { float da[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, c = i % P_IN;
    uint first = P_MODE == 1u ? P_OUT - P_IN : 0u;
    da[i] = dy[r * P_OUT + first + c];
}
