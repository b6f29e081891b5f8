/* A plan on a Vulkan device: its buffers allocated, a pipeline for every
 * distinct (op, parameters) of its programs, and one descriptor set per
 * step, all made once at creation. Recording a program is then a walk over
 * its steps: barrier where the plan says, push constants, bind, dispatch.
 * The GPU counterpart of runtime/cpu/cpu_backend.h, with the same tensor
 * indices, so tests compare the two tensor by tensor.
 */
#ifndef VKVAE_GPU_PLAN_H
#define VKVAE_GPU_PLAN_H

#include "plan/plan.h"
#include "vulkan/context.h"

typedef struct vkvae_gpu_plan vkvae_gpu_plan;

/* Allocates the plan's buffers (zeroed) and builds its pipelines and
 * descriptor sets. The plan must outlive the result. */
vkvae_status vkvae_gpu_plan_create(vkvae_context *ctx, const vkvae_plan *plan,
                                   vkvae_gpu_plan **out, vkvae_error *err);
void vkvae_gpu_plan_destroy(vkvae_gpu_plan *g); /* NULL is fine */

/* Records one run of the program of that kind into c (which must have been
 * begun); the caller adds whatever barrier its own use of the results needs. */
vkvae_status vkvae_gpu_plan_record(vkvae_gpu_plan *g, vkvae_commands *c, vkvae_program_kind kind,
                                   const vkvae_push *push, vkvae_error *err);
/* Records step `step` of the program of that kind alone: its dispatch, or
 * a split product's two with a barrier before and between them (gpu_plan.c),
 * not the plan's barrier before it (the caller's, as it times steps). */
vkvae_status vkvae_gpu_plan_record_step(vkvae_gpu_plan *g, vkvae_commands *c,
                                        vkvae_program_kind kind, uint32_t step,
                                        const vkvae_push *push, vkvae_error *err);
/* Records, submits and waits for one run of the program. */
vkvae_status vkvae_gpu_plan_run(vkvae_gpu_plan *g, vkvae_program_kind kind,
                                const vkvae_push *push, vkvae_error *err);
/* A tensor's memory where its buffer is mapped (unified memory: lavapipe,
 * integrated GPUs; host-coherent, and every run waits for its fence), else
 * NULL: the host may work on it in place between runs. */
float *vkvae_gpu_plan_mapped(vkvae_gpu_plan *g, uint32_t tensor);
/* The same for steps first .. end - 1 (end past the last: to the end). */
vkvae_status vkvae_gpu_plan_run_range(vkvae_gpu_plan *g, vkvae_program_kind kind, uint32_t first,
                                      uint32_t end, const vkvae_push *push, vkvae_error *err);

/* Called after each submission completes with the number of runs done. A
 * non-zero return stops (the status to return). */
typedef vkvae_status (*vkvae_runs_done_fn)(void *user, uint32_t done, vkvae_error *err);

/* Runs the program n times, the i-th with pushes[i], back to back on the
 * queue. Runs are grouped into submissions of bounded GPU time (target_ms,
 * measured as it goes: some drivers lose the device when one submission
 * runs too long, and a desktop shares the GPU with the screen); the next
 * submission is recorded and queued while the previous one runs, so the
 * GPU never waits for the host. */
vkvae_status vkvae_gpu_plan_run_many(vkvae_gpu_plan *g, vkvae_program_kind kind,
                                     const vkvae_push *pushes, uint32_t n, double target_ms,
                                     vkvae_runs_done_fn done, void *user, vkvae_error *err);

/* Copies a whole tensor (fp32, or raw bytes for DATA-role buffers) in or out. */
vkvae_status vkvae_gpu_plan_write(vkvae_gpu_plan *g, uint32_t tensor, const void *src,
                                  vkvae_error *err);
vkvae_status vkvae_gpu_plan_read(vkvae_gpu_plan *g, uint32_t tensor, void *dst, vkvae_error *err);
/* Double buffering: host memory for bytes [offset, offset + bytes) of a
 * tensor, written for later runs. On a device that maps its buffers
 * (unified memory) it is the tensor's own memory; elsewhere the same range
 * of a host-visible mirror of the buffer (made on first use), which
 * vkvae_gpu_plan_commit then queues for copying at the start of the next
 * run (or run_many). The range may be written while runs are in flight
 * that do not read it (a streamed data set fills one half while the steps
 * read the other); it must not be read by a run still in flight. */
vkvae_status vkvae_gpu_plan_host_range(vkvae_gpu_plan *g, uint32_t tensor, uint64_t offset,
                                       uint64_t bytes, void **out, vkvae_error *err);
vkvae_status vkvae_gpu_plan_commit(vkvae_gpu_plan *g, uint32_t tensor, uint64_t offset,
                                   uint64_t bytes, vkvae_error *err);
/* Bytes a tensor occupies on the device. */
uint64_t vkvae_gpu_plan_tensor_bytes(const vkvae_gpu_plan *g, uint32_t tensor);
/* The device buffer behind a plan buffer (for recording copies around it). */
const vkvae_buffer *vkvae_gpu_plan_buffer(const vkvae_gpu_plan *g, uint32_t buffer);

#endif
