/* Questions about a plan that its tables answer (query.h). */
#include "plan/query.h"

#include <string.h>

int vkvae_plan_has_program(const vkvae_plan *plan, vkvae_program_kind kind)
{
    for (uint32_t p = 0; p < plan->n_programs; p++)
        if (plan->programs[p].kind == kind)
            return 1;
    return 0;
}

uint32_t vkvae_plan_find_tensor(const vkvae_plan *plan, const char *name)
{
    for (uint32_t t = 0; t < plan->n_tensors; t++)
        if (strcmp(plan->tensors[t].name, name) == 0)
            return t;
    return UINT32_MAX;
}

/* Whether a program of kind (-1: any) has a step of op. */
static int has_step(const vkvae_plan *plan, int kind, vkvae_op op)
{
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t i = 0; (kind < 0 || plan->programs[p].kind == (vkvae_program_kind)kind) &&
                             i < plan->programs[p].n_steps; i++)
            if (plan->programs[p].steps[i].op == op)
                return 1;
    return 0;
}

int vkvae_plan_classifies(const vkvae_plan *plan)
{
    return has_step(plan, VKVAE_PROGRAM_EVAL, VKVAE_OP_SOFTMAX_CE);
}

int vkvae_plan_semi_supervised(const vkvae_plan *plan)
{
    return has_step(plan, -1, VKVAE_OP_LABEL_WEIGHTS);
}
