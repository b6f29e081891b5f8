// sample_bernoulli: l:[n,in] -> y:[n,in]; y = u < sigmoid(l) ? 1 : 0
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    y[i] = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i + pc.row0 * P_IN) < sigmoid(l[i]) ? 1.0 : 0.0;
}
