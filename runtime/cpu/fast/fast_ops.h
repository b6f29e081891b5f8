/* The fast float ops of the CPU backend's VKVAE_CPU_FAST precision: the
 * matrix products of the dense ops through OpenBLAS's cblas_sgemm
 * (row-major, transposes as flags, no copies), the elementwise ops the
 * MLP models spend their time in as vectorized loops with the bias and
 * activation fused into the product's output pass, and every large op split
 * over a small persistent pool of threads (pool.h). OpenBLAS itself runs
 * single-threaded inside each part, so its threads never spin against
 * ours.
 *
 * Same storage and semantics as the plain float ops (ops_real.h, the
 * oracle): a fast op reads and writes exactly what its plain op does, to
 * fp32 rounding (sums in another order, polynomial exp and log of about
 * 1 ulp). Ops without a fast version, or ops too small to gain, are left to
 * the plain op: vkvae_fast_op returns 0 for them.
 */
#ifndef VKVAE_CPU_FAST_OPS_H
#define VKVAE_CPU_FAST_OPS_H

#include <stdint.h>

#include "error.h"
#include "plan/plan.h"

typedef struct vkvae_fast vkvae_fast;

/* The pool (threads 0: $VKVAE_CPU_THREADS or the online CPUs) and, when
 * built with OpenBLAS, OpenBLAS set to one thread. */
vkvae_status vkvae_fast_create(uint32_t threads, vkvae_fast **out, vkvae_error *err);
void vkvae_fast_destroy(vkvae_fast *fast); /* NULL is fine */
uint32_t vkvae_fast_threads(const vkvae_fast *fast);

/* "OpenBLAS 0.3.21 ..." when the products go through a BLAS, else NULL
 * (then the dense ops are the plain ones). */
const char *vkvae_fast_blas(void);

/* One line of advice when OpenBLAS runs older kernels than the CPU can:
 * OPENBLAS_CORETYPE naming a pre-AVX-512 core (some machines preset
 * Haswell) on an AVX-512 CPU, which costs the products a third of their
 * speed (BENCHMARKS.md). NULL when there is nothing to say. */
const char *vkvae_fast_blas_advice(void);

/* Runs one step's op over its bindings t (cpu_ops.h) if there is a fast
 * version and returns 1; returns 0, having done nothing, otherwise. */
int vkvae_fast_op(vkvae_fast *fast, vkvae_op op, const vkvae_op_params *p,
                  const vkvae_push *push, void *const *t);

/* Runs all steps of prog (a program of plan) over the backend's tensor
 * pointers (tensors[i] for plan tensor i), grouping consecutive steps that
 * need no barrier between them into one pool job. The caller has checked
 * the plan and the gathers' run-time values. */
void vkvae_fast_run(vkvae_fast *fast, const vkvae_plan *plan, const vkvae_program_desc *prog,
                    void *const *tensors, const vkvae_push *push);

#endif
