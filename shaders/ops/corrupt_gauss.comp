// corrupt_gauss: x:[n,in] -> y:[n,in]; y = x + alpha*e
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
    y[i] = x[i] + P_ALPHA * vkvae_rand_normal(pc.seed, P_STREAM, pc.step, i + pc.row0 * P_IN);
}
