/* Included first (before common.glsl) by the kernels built on matmul.glsl:
 * in their VKVAE_SUBGROUP build, the one for CPU drivers
 * (shaders/meson.build, <op>_sg.spv.h), the subgroup extensions that
 * matmul.glsl's variant needs and a workgroup size from constant_id 35,
 * the device's subgroup size (runtime/kernels.c). */
#ifdef VKVAE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#define VKVAE_LOCAL_SIZE_ID 35
#endif
