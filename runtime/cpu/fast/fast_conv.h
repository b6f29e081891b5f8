/* The fast float convolutions (conv2d, convt2d and their backward ops) of
 * the fast CPU path, internal to fast_ops.c: im2col / col2im around
 * OpenBLAS's cblas_sgemm, a chunk of images per product (fast_conv.c).
 *
 * conv2d_bwd_x, convt2d and the two forward ops are row ops over the n
 * images (fast_ops.c splits the images between threads); the weight
 * gradients are split ops, each part computing its own columns of dw and
 * its own share of db over all images. Every part needs scratch of
 * vkvae_fast_conv_scratch floats, its own.
 */
#ifndef VKVAE_CPU_FAST_CONV_H
#define VKVAE_CPU_FAST_CONV_H

#include <stdint.h>

#include "plan/plan.h"

/* Floats of scratch one part needs for op, 0 if op has no fast version
 * (not a convolution, or no BLAS). */
uint64_t vkvae_fast_conv_scratch(vkvae_op op, const vkvae_op_params *p);

/* 1 for the row ops (conv2d, conv2d_bwd_x, convt2d, convt2d_bwd_x). */
int vkvae_fast_conv_is_rows(vkvae_op op);

/* Multiply-adds of op over the whole batch. */
double vkvae_fast_conv_macs(vkvae_op op, const vkvae_op_params *p);

/* A row op over images [lo, hi) of bindings t. */
void vkvae_fast_conv_rows(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                          uint64_t lo, uint64_t hi);

/* conv2d_bwd_w or convt2d_bwd_w: part's columns of dw and entries of db. */
void vkvae_fast_conv_bwd_w(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                           uint32_t part, uint32_t parts);

/* Row width (floats per image) of binding b of a row op; 0 for the
 * weights and bias, which it reads whole. */
uint64_t vkvae_fast_conv_row_width(vkvae_op op, const vkvae_op_params *p, uint32_t b);

#endif
