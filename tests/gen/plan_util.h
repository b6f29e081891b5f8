/* What the plan tests share: finding a plan's tensors by name, filling its
 * data set with deterministic random bytes and an identity-free permutation,
 * and a push for one batch. Header-only; plain C, no Vulkan.
 */
#ifndef VKVAE_TEST_PLAN_UTIL_H
#define VKVAE_TEST_PLAN_UTIL_H

#include <stdint.h>
#include <string.h>

#include "plan/plan.h"
#include "plan/query.h"

static inline int plan_tensor(const vkvae_plan *p, const char *name)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static inline uint32_t plan_lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* images: random bytes; labels: random classes; perm: i -> (i*7919+3) mod
 * rows, a permutation when rows and 7919 are coprime (the tests' rows are). */
static inline void plan_fill_data(const vkvae_plan *p, uint8_t *images, uint8_t *labels,
                                  uint32_t *perm, uint32_t classes, uint64_t seed)
{
    uint64_t s = seed;
    const vkvae_tensor_desc *ti = &p->tensors[plan_tensor(p, "train.images")];
    for (uint64_t i = 0; i < ti->elems; i++)
        images[i] = (uint8_t)(plan_lcg(&s) >> 8);
    uint32_t rows = ti->shape[0];
    for (uint32_t i = 0; labels && i < rows; i++)
        labels[i] = (uint8_t)(plan_lcg(&s) % classes);
    for (uint32_t i = 0; i < rows; i++)
        perm[i] = (uint32_t)(((uint64_t)i * 7919u + 3u) % rows);
}

#endif
