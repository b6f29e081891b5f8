// The frame of the ROW_SUM ops (ops.def): one workgroup per row, its
// invocations taking strided pieces of the row, the row's sum by row_sum():
// row_tree.glsl's fixed tree in shared memory over 64 invocations, or, in
// the VKVAE_SUBGROUP build for CPU drivers (runtime/gpu/kernels.c), one
// subgroup per workgroup and subgroupAdd, without the barriers llvmpipe
// pays dearly for. Included in place of common.glsl, right after #version
// and the kernel's own extensions.
#ifndef VKVAE_ROW_SUM_GLSL
#define VKVAE_ROW_SUM_GLSL
#ifdef VKVAE_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#define VKVAE_LOCAL_SIZE_ID 35
#endif
#include "common.glsl"
#ifndef VKVAE_SUBGROUP
#include "row_tree.glsl"
#endif

/* This workgroup's row (grids past 65535 rows fold into y). */
uint row_index()
{
    return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}

/* The sum of v over the workgroup (t: this invocation's index); every
 * invocation must call it. */
float row_sum(float v, uint t)
{
#ifdef VKVAE_SUBGROUP
    return subgroupAdd(v);
#else
    return row_tree_sum(v, t);
#endif
}
#endif
