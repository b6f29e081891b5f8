// gather: data:u8[N,in] perm:u32[N] -> x:[n,in]; ROW_VEC pixels per invocation
// (common.glsl): with rows of whole vec4s, 4 pixels are one aligned word.
// mode 1 binarizes (Philox draws), mode 2 reads levels k/(classes-1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer Data { uint data[]; };
layout(std430, binding = 1) readonly buffer Perm { uint perm[]; };
layout(std430, binding = 2) writeonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer X4 { vec4 x4[]; };
void main()
{
    /* mode 2: bytes are levels 0..classes-1 (codes), read as k/(classes-1) */
    float scale = P_MODE == 2u ? float(P_CLASSES - 1u) : 255.0;
    uint i = element_index() * ROW_VEC;
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN;
    vec4 v = vec4(0.0);
    if (r < valid_rows()) {
        uint at = perm[pc.base + r] * P_IN + j;
        if (ROW_VEC == 4u)
            v = vec4((uvec4(data[at >> 2]) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu) / scale;
        else
            v.x = float((data[at >> 2] >> ((at & 3u) * 8u)) & 0xffu) / scale;
        if (P_MODE == 1u)
            for (uint e = 0; e < ROW_VEC; e++)
                v[e] = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i + e + pc.row0 * P_IN) < v[e] ? 1.0 : 0.0;
    }
    if (ROW_VEC == 4u)
        x4[i / 4u] = v;
    else
        x[i] = v.x;
}
