/* The GPU kernel of each op (gpu/kernels.c): which SPIR-V module runs an
 * op's step on a context's device, its workgroup grid and its pipeline,
 * specialised by the step's parameters.
 */
#ifndef VKVAE_GPU_KERNELS_H
#define VKVAE_GPU_KERNELS_H

#include "plan/plan.h"
#include "vulkan/context.h"

/* The SPIR-V of op's kernel (shaders/ops/<name>.comp), or NULL when the op
 * has no GPU kernel yet. */
const uint32_t *vkvae_op_spirv(vkvae_op op, size_t *words);
/* Which build of an op's kernel runs (shaders/meson.build). */
typedef enum vkvae_kernel_build {
    VKVAE_BUILD_PLAIN,    /* <op>.comp: an element, row or block per invocation */
    VKVAE_BUILD_TILED,    /* matmul.glsl's shared-memory product, what GPUs run */
    VKVAE_BUILD_SUBGROUP, /* <op>_sg: CPU drivers' product by shuffles, or row by subgroupAdd */
    VKVAE_BUILD_FP16,     /* <op>_f16: the shared-memory product with fp16 tiles */
} vkvae_kernel_build;
/* The build for op with params p on ctx: by the op, whether p's shape suits
 * a product, the device and the context's precision. */
vkvae_kernel_build vkvae_op_build(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p);
/* Workgroups covering op's elements for params p (64 invocations each, or
 * as the kernel for ctx's device is built: see kernels.c), folded into y
 * beyond the 65535 every device allows in x. */
void vkvae_op_groups(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                     uint32_t groups[3]);
/* Creates the pipeline of one op with p as its specialization constants. */
vkvae_status vkvae_op_kernel_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err);

/* Split-K (kernels.c, split_depth): the slices a product's depth is split
 * into on ctx, 1 when the op runs as one dispatch. A split op runs as two
 * dispatches, a barrier between them: vkvae_op_kernel_create's pipeline
 * over vkvae_op_groups (each slice's partial sums into a scratch buffer of
 * at least *scratch_bytes, bound after the op's own bindings), then
 * vkvae_op_reduce_create's over vkvae_op_reduce_groups, with the same
 * bindings (the slices summed in order, then the op's own ending: it
 * writes the op's outputs). *scratch_bytes is 0 when not split. */
uint32_t vkvae_op_split(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                        uint64_t *scratch_bytes);
vkvae_status vkvae_op_reduce_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err);
void vkvae_op_reduce_groups(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                            uint32_t groups[3]);
#endif
