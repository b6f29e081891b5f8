/* Included first (before common.glsl) by the kernels built on matmul.glsl:
 * what each of their builds (shaders/meson.build) needs before the code.
 *
 * VKVAE_SUBGROUP, the build for CPU drivers (<op>_sg.spv.h): the subgroup
 * extensions of matmul.glsl's variant and a workgroup size from
 * constant_id 35, the device's subgroup size (runtime/gpu/kernels.c).
 * VKVAE_FP16, the fp16 build (<op>_f16.spv.h): fp16 types, for the tiles
 * and the tile sums (the device's shaderFloat16 feature).
 */
#ifdef VKVAE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#define VKVAE_LOCAL_SIZE_ID 35
#endif
#ifdef VKVAE_FP16
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
