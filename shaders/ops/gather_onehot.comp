// gather_onehot: labels:u8[N] perm:u32[N] -> y:[n,out]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Labels { uint labels[]; };
layout(std430, binding = 1) readonly buffer Perm { uint perm[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_OUT) return;
    uint r = i / P_OUT, c = i % P_OUT;
    uint label = 0xffffffffu;
    if (r < valid_rows()) {
        uint at = perm[pc.base + r];
        label = (labels[at >> 2] >> ((at & 3u) * 8u)) & 0xffu;
    }
    y[i] = c == label ? 1.0 : 0.0;
}
