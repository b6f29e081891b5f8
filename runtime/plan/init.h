/* Parameter initialisation as PyTorch's torch.nn.init does it, drawn with
 * Philox so that every backend starts from the same weights (the host
 * computes them, for the GPU and the CPU backend alike). The plan's `init`
 * (vkvae_init_kind, the spec's `train ... init`) says which:
 *
 *   VKVAE_INIT_PYTORCH (the default): what nn.Linear, nn.Conv2d and
 *     nn.ConvTranspose2d do by themselves. The weight: kaiming_uniform_(
 *     a=sqrt(5)), which works out to U(-1/sqrt(fan_in), 1/sqrt(fan_in));
 *     the bias: the same bound.
 *   VKVAE_INIT_XAVIER_UNIFORM: the weight xavier_uniform_(gain=1),
 *     U(-b, b) with b = sqrt(6/(fan_in + fan_out)); the bias zeros_.
 *   VKVAE_INIT_KAIMING_NORMAL: the weight kaiming_normal_ with its
 *     defaults (a=0, mode='fan_in', nonlinearity='leaky_relu': gain
 *     sqrt(2)), N(0, std^2) with std = sqrt(2)/sqrt(fan_in); the bias zeros_.
 * (PyTorch's layers keep their default bias when only the weight is
 * re-initialised; these kinds zero it, as `init.zeros_(m.bias)` beside the
 * weight's call does.)
 *
 * fan_in and fan_out are what torch.nn.init._calculate_fan_in_and_fan_out
 * computes from the weight's shape: size(1), resp. size(0), times the
 * product of the dimensions after the second. fan_in is in for dense
 * w:[out,in], c_in*k*k for conv w:[c_out,c_in,k,k] and c_out*k*k for
 * transposed conv w:[c_in,c_out,k,k]; fan_out out, c_out*k*k and c_in*k*k.
 *
 * Which tensor is which comes from the checkpoint names of plan.h:
 *   "<layer>.weight"  (rank >= 2)  as above
 *   "<layer>.bias"                  as above, bounds from "<layer>.weight"
 *   "<bn>.weight"     (rank 1)      ones: a normalisation layer's scale
 *   "<bn>.bias"                     zeros (its weight has rank 1)
 *   "<bn>.running_var"              ones
 *   "<gru>.weight_ih_l0", "<gru>.weight_hh_l0", "<gru>.bias_ih_l0",
 *   "<gru>.bias_hh_l0"              U(-b, b), b = 1/sqrt(hidden), hidden
 *                                   = shape[0]/3 (nn.GRU, whatever init)
 *   "<net>.embed<k>.weight"         N(0, 1) (nn.Embedding, whatever init)
 *   any other name                  zeros (e.g. a learned log-variance, a
 *                                   running mean)
 * vkvae_init_params-style loops initialise only the layer parameters
 * (vkvae_init_is_layer_param) and leave other tensors of a parameter buffer
 * as they are: a plan may also view the whole buffer as one tensor for its
 * optimizer, and buffers start zeroed.
 * Element i of a tensor draws from (seed, VKVAE_STREAM_INIT, step = FNV-1a
 * hash of the tensor's name, index = i): a uniform is bound * (2u - 1) with
 * u = vkvae_rand_uniform, a normal std * vkvae_rand_normal_f64 rounded to
 * float, so a tensor's values do not depend on where the plan places it.
 */
#ifndef VKVAE_INIT_H
#define VKVAE_INIT_H

#include <stdint.h>

#include "error.h"
#include "plan/plan.h"

/* 1 if name ends in ".weight" or ".bias". */
int vkvae_init_is_layer_param(const char *name);
/* 1 if plan tensor `tensor` has a start value of its own to write: a layer
 * parameter of the params buffer, or a running average of the state
 * buffer ("<bn>.running_mean" 0, ".running_var" 1). What the init loops
 * of both backends write; the rest stays as the buffers start, zeroed. */
int vkvae_init_has_start(const vkvae_plan *plan, uint32_t tensor);

/* fan_in and fan_out of a weight tensor as PyTorch computes them; 0 if
 * rank < 2. */
uint64_t vkvae_init_fan_in(const vkvae_tensor_desc *weight);
uint64_t vkvae_init_fan_out(const vkvae_tensor_desc *weight);

/* The kind's name as the spec writes it ("pytorch", "xavier_uniform",
 * "kaiming_normal"); "?" out of range. */
const char *vkvae_init_kind_name(uint32_t kind);

/* The Philox counter step a tensor's draws use: FNV-1a of its name. */
uint32_t vkvae_init_stream_step(const char *name);

/* Fills dst[0 .. elems) with the initialisation of plan tensor `tensor`
 * that the plan's init kind gives (the rules above). BAD_INPUT for a bias
 * without its weight, a weight of rank < 2, or an unknown kind. */
vkvae_status vkvae_init_tensor(float *dst, const vkvae_plan *plan, uint32_t tensor,
                               uint32_t seed, vkvae_error *err);

#endif
