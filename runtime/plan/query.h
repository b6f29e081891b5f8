/* Questions about a plan that its tables answer: what programs it has, a
 * tensor by name, and the kind of model its steps make. */
#ifndef VKVAE_PLAN_QUERY_H
#define VKVAE_PLAN_QUERY_H

#include <stdint.h>

#include "plan/plan.h"

/* Whether the plan has a program of that kind. */
int vkvae_plan_has_program(const vkvae_plan *plan, vkvae_program_kind kind);

/* A plan tensor by name (index), or UINT32_MAX. */
uint32_t vkvae_plan_find_tensor(const vkvae_plan *plan, const char *name);

/* Whether the plan is a classifier's (objective classify): its loss sums
 * are the softmax cross-entropy (recon) and the errors (kl), and it has
 * nothing to sample, encode or decode. */
int vkvae_plan_classifies(const vkvae_plan *plan);

/* Whether the plan weighs class copies of rows without a label
 * ('unlabelled': a label_weights step), a semi-supervised model's. */
int vkvae_plan_semi_supervised(const vkvae_plan *plan);

#endif
