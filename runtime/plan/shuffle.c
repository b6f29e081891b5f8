/* Fisher-Yates with Philox draws (see shuffle.h). */
#include "plan/shuffle.h"

#include "plan/philox.h"
#include "plan/plan.h"

void vkvae_shuffle(uint32_t *perm, uint32_t n, uint32_t seed, uint32_t epoch)
{
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n; i-- > 1;) {
        uint64_t u = vkvae_rand_u32(seed, VKVAE_STREAM_SHUFFLE, epoch, i);
        uint32_t j = (uint32_t)((u * ((uint64_t)i + 1)) >> 32);
        uint32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}
