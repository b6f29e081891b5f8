// corrupt_mask: x:[n,in] -> y:[n,in]; y = x * (u >= alpha)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    y[i] = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i + pc.row0 * P_IN) >= P_ALPHA ? x[i] : 0.0;
}
