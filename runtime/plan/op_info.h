/* What the plan layer knows of each op, read off ops.def: its name, its
 * bindings (element type, element count from a step's parameters, whether
 * the op writes it), its classes (the FLAGS column) and its parameter
 * checks. The generator, both backends, the hazard analysis and the tools
 * ask here, so a fact about an op is written once.
 */
#ifndef VKVAE_OP_INFO_H
#define VKVAE_OP_INFO_H

#include <stdint.h>

#include "plan/plan.h"

typedef enum vkvae_elem {
    VKVAE_ELEM_REAL, /* float or double, by the precision run */
    VKVAE_ELEM_U8,   /* bytes: images and labels of the data set */
    VKVAE_ELEM_U32,  /* the permutation */
} vkvae_elem;

typedef struct vkvae_op_binding_info {
    vkvae_elem elem;
    uint64_t elems; /* elements the binding must hold; 0: set at run time */
    int written;    /* 1: the op writes it (an output, or updated in place) */
} vkvae_op_binding_info;

/* Number of bindings of op (ops.def inputs plus outputs), and of inputs. */
uint32_t vkvae_op_bindings(vkvae_op op);
uint32_t vkvae_op_inputs(vkvae_op op);
const char *vkvae_op_name(vkvae_op op);          /* "dense_bwd_w" */
const char *vkvae_act_name(uint32_t act);        /* "tanh" */

/* Its FLAGS column (VKVAE_OPF_*), and whether it reads what it writes
 * (ACCUM or IN_PLACE: an earlier write to its output is a read hazard). */
uint32_t vkvae_op_flags(vkvae_op op);
int vkvae_op_reads_outputs(vkvae_op op);

/* Invocations op's plain kernel covers for params p (ops.def), and its
 * floating-point operations: exact for products, an estimate per written
 * element otherwise. */
uint64_t vkvae_op_invocations(vkvae_op op, const vkvae_op_params *p);
double vkvae_op_flops(vkvae_op op, const vkvae_op_params *p);

/* The input-gradient op of a layer op (dense, conv2d, convt2d: their
 * *_bwd_x), or VKVAE_OP_COUNT; and whether op is one of those (or
 * dense_pair_bwd_x), which read their x (the last input) only for the
 * derivative of the activation below. */
vkvae_op vkvae_op_bwd_x(vkvae_op layer);
int vkvae_op_is_bwd_x(vkvae_op op);
/* Whether op is one of the dense_pair ops (two layers; in2 the second's width). */
int vkvae_op_is_pair(vkvae_op op);

/* What binding b of op with parameters p must be. */
vkvae_op_binding_info vkvae_op_binding(vkvae_op op, const vkvae_op_params *p, uint32_t b);

/* Checks the parameters of one step for consistency (conv output sizes,
 * concat widths, modes); returns NULL or a static message. */
const char *vkvae_op_check_params(vkvae_op op, const vkvae_op_params *p);

#endif
