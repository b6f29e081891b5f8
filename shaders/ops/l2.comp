// l2: y:[n,in] x:[n,in] -> loss:[n] = sum((y-x)^2). One workgroup per row,
// summed as nll_gauss's (row_tree.glsl, or subgroupAdd in the
// VKVAE_SUBGROUP build). Padding rows get 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef VKVAE_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#define VKVAE_LOCAL_SIZE_ID 35
#endif
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer LOSS { float loss[]; };
#ifndef VKVAE_SUBGROUP
#include "row_tree.glsl"
#endif
void main()
{
    uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    if (r >= P_N) return; // uniform over the workgroup
    float acc = 0.0;
    for (uint j = t; r < valid_rows() && j < P_IN; j += lanes) {
        float d = y[r * P_IN + j] - x[r * P_IN + j];
        acc += d * d;
    }
#ifdef VKVAE_SUBGROUP
    float sum = subgroupAdd(acc);
#else
    float sum = row_tree_sum(acc, t);
#endif
    if (t == 0u)
        loss[r] = sum;
}
