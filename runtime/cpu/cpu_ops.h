/* The CPU reference implementations of the ops in ops.def, in float and in
 * double, called one step at a time. Bindings are the op's inputs then its
 * outputs, in ops.def order; real tensors are float* or double* by the
 * function called, data bindings (gather's data and labels: uint8_t*, its
 * permutation: uint32_t*) are the same in both. Nothing here checks sizes:
 * vkvae_op_binding() (plan/op_info.h) states what each binding must hold and the backend
 * (cpu_backend.c) checks a plan against it once, at creation.
 */
#ifndef VKVAE_CPU_OPS_H
#define VKVAE_CPU_OPS_H

#include <stdint.h>

#include "plan/op_info.h"

/* Runs one op over its bindings t[0 .. vkvae_op_bindings(op)). */
void vkvae_cpu_op_f32(vkvae_op op, const vkvae_op_params *p, const vkvae_push *push,
                      void *const *t);
void vkvae_cpu_op_f64(vkvae_op op, const vkvae_op_params *p, const vkvae_push *push,
                      void *const *t);

#endif
