// sample_pixel: l:[n,in] -> x:[n,in] in place; pass p = push.base of
// autoregressive sampling: x[r,p-1] = u < sigmoid(l[r,p-1]) ? 1 : 0 (p > 0),
// x[r,j] = 0 for j >= p, the pixels drawn before kept
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) buffer X { float x[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint j = i % P_IN;
    if (j + 1u == pc.base)
        x[i] = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i) < sigmoid(l[i]) ? 1.0 : 0.0;
    else if (j >= pc.base)
        x[i] = 0.0;
}
