/* Included first (before common.glsl) by the kernels built on matmul.glsl:
 * what each of their builds (shaders/meson.build) needs before the code.
 *
 * VKVAE_SUBGROUP, the build for CPU drivers (<op>_sg.spv.h): the subgroup
 * extensions of matmul.glsl's variant and a workgroup size from
 * constant_id 35, the device's subgroup size (runtime/gpu/kernels.c).
 * VKVAE_FP16, the fp16 build (<op>_f16.spv.h): fp16 types, for the tiles
 * and the tile sums (the device's shaderFloat16 feature).
 * VKVAE_SPLIT, the split-K builds of the shared-memory products
 * (<op>_split.spv.h, <op>_f16_split.spv.h; matmul.glsl says how): the
 * slices of the depth and the pass, as constants 37-39 (runtime/gpu/kernels.c).
 */
#ifdef VKVAE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#define VKVAE_LOCAL_SIZE_ID 35
#endif
#ifdef VKVAE_FP16
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif

#ifdef VKVAE_SPLIT
layout(constant_id = 37) const uint MM_SPLIT = 1;  /* slices of the depth */
layout(constant_id = 38) const uint MM_SLICE = 8;  /* a slice's depth, a multiple of MM_TK */
layout(constant_id = 39) const uint MM_REDUCE = 0; /* 1: the second pass, summing the slices */
#endif

/* Whether this dispatch is a split product's second pass (matmul.glsl's
 * mm_reduce). */
bool mm_reducing()
{
#ifdef VKVAE_SPLIT
    return MM_REDUCE != 0u;
#else
    return false;
#endif
}

/* The z of the product's grid that is not a slice of the depth: a
 * convolution's stride phase (conv_mm.glsl, CONV_SCATTER). A split's first
 * pass has MM_SPLIT slices per phase along z, its second pass the phases
 * alone. */
uint mm_phase()
{
#ifdef VKVAE_SPLIT
    if (MM_REDUCE == 0u)
        return gl_WorkGroupID.z / MM_SPLIT;
#endif
    return gl_WorkGroupID.z;
}
