// gather: data:u8[N,in] perm:u32[N] -> x:[n,in]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer Data { uint data[]; };
layout(std430, binding = 1) readonly buffer Perm { uint perm[]; };
layout(std430, binding = 2) writeonly buffer X { float x[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    float v = 0.0;
    if (r < valid_rows()) {
        uint at = perm[pc.base + r] * P_IN + j;
        v = float((data[at >> 2] >> ((at & 3u) * 8u)) & 0xffu) / 255.0;
        if (P_MODE == 1u)
            v = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i) < v ? 1.0 : 0.0;
    }
    x[i] = v;
}
