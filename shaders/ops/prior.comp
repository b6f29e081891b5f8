// prior: -> z:[n,in]; z = Philox normal
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) writeonly buffer Z { float z[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    z[i] = vkvae_rand_normal(pc.seed, P_STREAM, pc.step, i + pc.row0 * P_IN);
}
