/* PyTorch's default parameter initialisation, drawn with Philox so that
 * every backend starts from the same weights (the host computes them).
 *
 * nn.Linear, nn.Conv2d and nn.ConvTranspose2d initialise their weight with
 * kaiming_uniform_(a=sqrt(5)), which works out to U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)), and their bias with the same bound. fan_in is what
 * torch.nn.init._calculate_fan_in_and_fan_out computes from the weight's
 * shape: size(1) times the product of the dimensions after the second.
 * That is in for dense w:[out,in], c_in*k*k for conv w:[c_out,c_in,k,k] and
 * c_out*k*k for transposed conv w:[c_in,c_out,k,k].
 *
 * Which tensor is which comes from the checkpoint names of plan.h:
 *   "<layer>.weight"  (rank >= 2)  U(-b, b), b = 1/sqrt(fan_in)
 *   "<layer>.bias"                  U(-b, b), b from "<layer>.weight"
 *   any other name                  zeros (e.g. a learned log-variance)
 * vkvae_init_params-style loops initialise only the layer parameters
 * (vkvae_init_is_layer_param) and leave other tensors of a parameter buffer
 * as they are: a plan may also view the whole buffer as one tensor for its
 * optimizer, and buffers start zeroed.
 * Element i of a tensor is bound * (2u - 1), u = vkvae_rand_uniform(seed,
 * VKVAE_STREAM_INIT, step = FNV-1a hash of the tensor's name, index = i),
 * so a tensor's values do not depend on where the plan places it.
 */
#ifndef VKVAE_INIT_H
#define VKVAE_INIT_H

#include <stdint.h>

#include "error.h"
#include "plan/plan.h"

/* 1 if name ends in ".weight" or ".bias". */
int vkvae_init_is_layer_param(const char *name);

/* fan_in of a weight tensor as PyTorch computes it; 0 if rank < 2. */
uint64_t vkvae_init_fan_in(const vkvae_tensor_desc *weight);

/* The Philox counter step a tensor's draws use: FNV-1a of its name. */
uint32_t vkvae_init_stream_step(const char *name);

/* Fills dst[0 .. elems) with the default initialisation of plan tensor
 * `tensor` (the rules above). BAD_INPUT for a bias without its weight or a
 * weight of rank < 2. */
vkvae_status vkvae_init_tensor(float *dst, const vkvae_plan *plan, uint32_t tensor,
                               uint32_t seed, vkvae_error *err);

#endif
