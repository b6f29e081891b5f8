/* The CPU backend: executes any vkvae plan (plan.h) with the plain C ops of
 * ops_real.h, in float or in double. It is the test oracle of the GPU path
 * and the `--device cpu` fallback, and shares no code with the shaders.
 * VKVAE_CPU_FAST keeps the float layout and runs the ops that have one
 * through fast/fast_ops.h (BLAS, vectorized loops, threads) instead.
 *
 * Memory. Each plan buffer becomes one zeroed host allocation. The plan
 * sizes buffers and places tensors for fp32 (4-byte elements); a real
 * buffer (every role but DATA) is allocated with its 4-byte elements widened
 * to sizeof(float) or sizeof(double), and a tensor at byte offset o of it
 * starts at element o/4, so aliasing and packing carry over unchanged.
 * DATA-role buffers (training set bytes, labels, the permutation) are kept
 * as raw bytes exactly as on the GPU: images and labels as uint8_t, the
 * permutation as uint32_t holding the exact indices, at the plan's byte
 * offsets. A step whose binding type (ops.def) does not match its buffer's
 * role is rejected when the backend is created.
 *
 * Usage:
 *   vkvae_cpu *cpu;
 *   if (vkvae_cpu_create(plan, VKVAE_CPU_F64, &cpu, &err)) return err.status;
 *   vkvae_cpu_init_params(cpu, seed, &err);         // the plan's init (PyTorch's)
 *   memcpy(vkvae_cpu_buffer(cpu, data_buf).data, images, bytes);
 *   vkvae_shuffle(vkvae_cpu_tensor(cpu, perm_t).data, n, seed, epoch);
 *   vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &push, &err);
 *   vkvae_cpu_read_f32(cpu, acc_t, acc, &err);
 *   vkvae_cpu_destroy(cpu);
 */
#ifndef VKVAE_CPU_BACKEND_H
#define VKVAE_CPU_BACKEND_H

#include <stdint.h>

#include "error.h"
#include "plan/plan.h"

typedef enum vkvae_cpu_precision {
    VKVAE_CPU_F32, /* float: the GPU's arithmetic, the fallback backend */
    VKVAE_CPU_F64, /* double: the reference */
    VKVAE_CPU_FAST, /* float storage as F32; fast ops (fast/fast_ops.h: BLAS
                     * products, vectorized loops, threads) where they exist,
                     * the plain float op otherwise: --device cpu */
} vkvae_cpu_precision;

typedef struct vkvae_cpu vkvae_cpu;

/* A tensor or buffer as the backend holds it. */
typedef struct vkvae_cpu_view {
    void *data;     /* float* or double* (by precision); raw bytes if is_data */
    uint64_t elems; /* the tensor's elements (buffers: bytes / 4, or bytes if is_data) */
    uint64_t bytes; /* bytes at data: elems * sizeof(real); DATA: to the buffer's end */
    int is_data;    /* 1: a DATA-role buffer, raw bytes */
} vkvae_cpu_view;

/* Checks every step of every program of plan against the op contracts
 * (binding count, tensor sizes and types, shapes), then allocates its
 * buffers, zeroed. The plan must outlive the backend. On failure *out is
 * NULL and err says which program, step and binding is at fault. */
vkvae_status vkvae_cpu_create(const vkvae_plan *plan, vkvae_cpu_precision precision,
                              vkvae_cpu **out, vkvae_error *err);
void vkvae_cpu_destroy(vkvae_cpu *cpu); /* NULL is fine */

const vkvae_plan *vkvae_cpu_plan(const vkvae_cpu *cpu);
vkvae_cpu_precision vkvae_cpu_get_precision(const vkvae_cpu *cpu);

/* Runs the plan's program of that kind, all of its steps in order, with the
 * run-time values push. Fails (BAD_INPUT) if the plan has no such program or
 * a gather would read past its permutation or data (push->base, push->rows,
 * or a permutation entry out of range); nothing is written then. */
vkvae_status vkvae_cpu_run(vkvae_cpu *cpu, vkvae_program_kind kind, const vkvae_push *push,
                           vkvae_error *err);

/* Runs steps first .. end - 1 of program kind (end past the last: to the
 * end), as vkvae_cpu_run runs them all: a data-parallel step runs the train
 * program in parts, all-reducing the gradients between them. */
vkvae_status vkvae_cpu_run_range(vkvae_cpu *cpu, vkvae_program_kind kind, uint32_t first,
                                 uint32_t end, const vkvae_push *push, vkvae_error *err);

/* Runs one step of program kind (step < n_steps), e.g. to compare each
 * step's output with the GPU's. */
vkvae_status vkvae_cpu_run_step(vkvae_cpu *cpu, vkvae_program_kind kind, uint32_t step,
                                const vkvae_push *push, vkvae_error *err);

/* Direct access; data is NULL for an index out of range. */
vkvae_cpu_view vkvae_cpu_tensor(vkvae_cpu *cpu, uint32_t tensor);
vkvae_cpu_view vkvae_cpu_buffer(vkvae_cpu *cpu, uint32_t buffer);

/* Copy a real tensor's elems values to or from dst/src, converting to the
 * backend's precision; BAD_INPUT for a DATA tensor or bad index. */
vkvae_status vkvae_cpu_read_f32(vkvae_cpu *cpu, uint32_t tensor, float *dst, vkvae_error *err);
vkvae_status vkvae_cpu_write_f32(vkvae_cpu *cpu, uint32_t tensor, const float *src, vkvae_error *err);
vkvae_status vkvae_cpu_read_f64(vkvae_cpu *cpu, uint32_t tensor, double *dst, vkvae_error *err);
vkvae_status vkvae_cpu_write_f64(vkvae_cpu *cpu, uint32_t tensor, const double *src, vkvae_error *err);

/* Fills every "*.weight" and "*.bias" tensor of the PARAM-role buffers as
 * the plan's init kind says (init.h: PyTorch's default, xavier_uniform or
 * kaiming_normal), drawn from Philox with seed; other tensors are left as
 * they are. vkvae_session_init_params draws the same values for the GPU. */
vkvae_status vkvae_cpu_init_params(vkvae_cpu *cpu, uint32_t seed, vkvae_error *err);

#endif
