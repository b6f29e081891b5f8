/* Barrier placement and checking for plan programs (hazard.c). Vulkan-free:
 * the generator places barriers with it, the tests and the runtime check
 * plans with it.
 */
#ifndef VKVAE_HAZARD_H
#define VKVAE_HAZARD_H

#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

enum { VKVAE_HAZARD_READ = 1, VKVAE_HAZARD_WRITE = 2 };

/* What op with parameters p does to its binding b (ops.def order): a mask of
 * VKVAE_HAZARD_READ and VKVAE_HAZARD_WRITE; 0 for a binding it leaves alone
 * (nll_gauss_bwd's dlv in mode 0) or one it does not have. */
unsigned vkvae_hazard_access(vkvae_op op, const vkvae_op_params *p, uint32_t b);

/* Sets steps[0 .. n).barrier to a minimum set of barriers that orders every
 * read-after-write, write-after-read and write-after-write between the
 * steps. cyclic = 1: the program runs back to back with itself (a training
 * step recorded many times in one command buffer), so hazards from one
 * iteration into the next count too; a barrier on a step then also stands
 * between iterations. tensors is the plan's tensor table; the steps' tensor
 * indices must lie in it. */
void vkvae_hazard_place_barriers(vkvae_step_desc *steps, uint32_t n,
                                 const vkvae_tensor_desc *tensors, int cyclic);

/* Whether a program of kind runs back to back with itself, its barriers
 * placed (and checked) cyclically: train; with passes (plan.sample_passes,
 * an autoregressive model) the sample program, a run a pixel or a step,
 * and a text model's decode program too. */
int vkvae_hazard_cyclic(vkvae_program_kind kind, int passes, int text);

/* Checks the barriers of plan->programs[program] both ways: every hazard has
 * a barrier between its steps (across iterations too when cyclic), and every
 * barrier orders at least one hazard that no other barrier does. Returns the
 * number of problems and writes the first as one line to msg (may be NULL):
 *   train step 8 (act_bwd) reads dh written by step 7 (dense_bwd_x) with no barrier between
 *   train step 5 has a barrier no hazard needs */
uint32_t vkvae_hazard_check(const vkvae_plan *plan, uint32_t program, int cyclic,
                            char *msg, size_t msg_size);

#endif
