/* The CPU reference implementations of the ops in ops.def, in float and in
 * double, called one step at a time. Bindings are the op's inputs then its
 * outputs, in ops.def order; real tensors are float* or double* by the
 * function called, data bindings (gather's data and labels: uint8_t*, its
 * permutation: uint32_t*) are the same in both. Nothing here checks sizes:
 * vkvae_cpu_binding() states what each binding must hold and the backend
 * (cpu_backend.c) checks a plan against it once, at creation.
 */
#ifndef VKVAE_CPU_OPS_H
#define VKVAE_CPU_OPS_H

#include <stdint.h>

#include "plan.h"

typedef enum vkvae_cpu_elem {
    VKVAE_CPU_ELEM_REAL, /* float or double, by the precision run */
    VKVAE_CPU_ELEM_U8,   /* bytes: images and labels of the data set */
    VKVAE_CPU_ELEM_U32,  /* the permutation */
} vkvae_cpu_elem;

typedef struct vkvae_cpu_binding_info {
    vkvae_cpu_elem elem;
    uint64_t elems; /* elements the binding must hold; 0: set at run time */
    int written;    /* 1: the op writes it (an output, or updated in place) */
} vkvae_cpu_binding_info;

/* Number of bindings of op (ops.def inputs plus outputs). */
uint32_t vkvae_cpu_op_bindings(vkvae_op op);
const char *vkvae_cpu_op_name(vkvae_op op);          /* "dense_bwd_w" */
const char *vkvae_cpu_act_name(uint32_t act);        /* "tanh" */

/* The input-gradient op of a layer op (dense, conv2d, convt2d: their
 * *_bwd_x), or VKVAE_OP_COUNT; and whether op is one of those (or
 * dense_pair_bwd_x), which read their x (the last input) only for the
 * derivative of the activation below. */
vkvae_op vkvae_cpu_bwd_x_op(vkvae_op layer);
int vkvae_cpu_is_bwd_x(vkvae_op op);
/* Whether op is one of the dense_pair ops (two layers; in2 the second's width). */
int vkvae_cpu_is_pair(vkvae_op op);

/* What binding b of op with parameters p must be. */
vkvae_cpu_binding_info vkvae_cpu_binding(vkvae_op op, const vkvae_op_params *p, uint32_t b);

/* Checks the parameters of one step for consistency (conv output sizes,
 * concat widths, modes); returns NULL or a static message. */
const char *vkvae_cpu_check_params(vkvae_op op, const vkvae_op_params *p);

/* Runs one op over its bindings t[0 .. vkvae_cpu_op_bindings(op)). */
void vkvae_cpu_op_f32(vkvae_op op, const vkvae_op_params *p, const vkvae_push *push,
                      void *const *t);
void vkvae_cpu_op_f64(vkvae_op op, const vkvae_op_params *p, const vkvae_push *push,
                      void *const *t);

#endif
