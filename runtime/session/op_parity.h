/* Op parity: one op's GPU kernel against the CPU backend's fp64 function on
 * the same random inputs, the check behind both the `ops` tests and
 * `vkvae selftest` (a user's driver that computes wrong results is found by
 * the user in seconds, not by a diverging run).
 *
 * A case is an op, its static parameters and its push constants. Inputs are
 * fresh random values (never zeros; labels are one-hot rows, some all zero:
 * rows without a label); outputs the op overwrites are poisoned with NaN
 * first, so an element the kernel never writes fails; every output
 * is compared by normalized mean squared error against the bound (fp32:
 * 1e-7; an fp16 build: 1e-6 of its terms' size, since cancellation can make
 * a value as small as it likes while its rounding stays the terms').
 */
#ifndef VKVAE_SESSION_OP_PARITY_H
#define VKVAE_SESSION_OP_PARITY_H

#include "plan/plan.h"
#include "vulkan/context.h"

typedef struct vkvae_parity_case {
    vkvae_op op;
    vkvae_op_params p;
    vkvae_push push;
} vkvae_parity_case;

typedef struct vkvae_parity_result {
    int pass;
    int fp16;              /* the kernel was an fp16 build */
    int split;             /* it ran split along its depth (split-K: two dispatches) */
    double worst_nmse;     /* over the outputs */
    uint64_t unwritten;    /* output elements left NaN (or NaN where the CPU's is not) */
    char detail[512];      /* per output: nmse, max abs error */
} vkvae_parity_result;

/* The cases of op, written to out (at most cap; returns how many there
 * are): quick = 0 is the thorough set the `ops` tests run (odd sizes that
 * no tile divides, convolutions' strides, paddings and channel counts,
 * IWAE's k past a workgroup and at 5000, the fused losses on the models'
 * shapes, products long and narrow enough to run split); quick = 1 a few
 * of each kind, for `vkvae selftest`. None for an op without a GPU kernel,
 * and none when a case of the tables breaks the op's contract (a bug). */
uint32_t vkvae_parity_cases(vkvae_op op, int quick, vkvae_parity_case *out, uint32_t cap);

/* Runs one case on ctx and compares; an error (no kernel, out of memory,
 * a lost device) is returned, a wrong result is r->pass = 0. plant_fault:
 * a test-only wrong kernel (the dispatch loses its last workgroup along x,
 * as a driver that drops work would), which must fail. */
vkvae_status vkvae_parity_run(vkvae_context *ctx, const vkvae_parity_case *c, int plant_fault,
                              vkvae_parity_result *r, vkvae_error *err);

/* Whether name is one of the comma-separated names of list ("dense,adam"):
 * the ops a caller asked for. */
int vkvae_parity_listed(const char *list, const char *name);

/* "DENSE(n=3,in=20,out=129,act=relu)": the case, for messages. */
void vkvae_parity_describe(const vkvae_parity_case *c, char *out, size_t size);

#endif
