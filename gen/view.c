/* Views: plan tensors over a range of a buffer already laid out. The one
 * table helper both the lowering (plan.c: "params.all", a weight concat of
 * two parameters that lie back to back) and fusion (fuse.c: a pair's
 * stacked weights) make tensors with, so neither stage calls the other.
 */
#include "gen.h"

int plan_add_view(gen_plan *pl, uint32_t b, const char *name, uint64_t offset, uint64_t elems)
{
    GROW(pl->t, pl->cap_t, pl->nt + 1);
    pl->t[pl->nt] = (vkvae_tensor_desc){ .name = name, .buffer = b, .offset = offset,
        .elems = elems, .rank = 1, .shape = { (uint32_t)elems } };
    return (int)pl->nt++;
}

int stacked_view(gen_plan *pl, int a, int b, const char *name)
{
    const vkvae_tensor_desc *ta = &pl->t[a], *tb = &pl->t[b];
    if (ta->buffer != tb->buffer || tb->offset != ta->offset + 4 * ta->elems)
        return -1;
    uint32_t buf = ta->buffer;
    uint64_t offset = ta->offset, elems = ta->elems + tb->elems;
    for (size_t i = 0; i < pl->nt; i++)
        if (pl->t[i].buffer == buf && pl->t[i].offset == offset && pl->t[i].elems == elems)
            return (int)i;
    return plan_add_view(pl, buf, name, offset, elems);
}
