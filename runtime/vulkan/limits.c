/* The limits clamp: $VKVAE_LIMITS makes a device describe itself as a
 * smaller one, so the suite runs on lavapipe's generous limits as if on a
 * minimal device. Every kernel choice reads the description
 * (gpu/kernels.c), never the physical device's own properties, so a clamped
 * description is enough to make the runtime pick what a small device can
 * run, and to make it refuse what such a device cannot (fp16 products,
 * context.c).
 *
 *   minimum  Vulkan's required minimums and the Android baseline: 16 KiB of
 *            shared memory, 128 invocations (128 x 128 x 64), 65535
 *            workgroups per dimension, 128 MiB storage ranges, 128 bytes of
 *            push constants, no fp16, int8, 16-bit storage or cooperative
 *            matrices, no subgroup arithmetic or shuffles (basic subgroup
 *            operations only); the subgroup size stays the device's
 *   mali     the same with 64 invocations per workgroup (64 x 64 x 64), as
 *            on older Mali GPUs
 *   discrete the device's own limits and features, but its memory described
 *            as a discrete GPU's: not host-visible, so buffers are not
 *            mapped and every upload and download goes through staging
 *            (memory.c), as on a card across PCIe
 *
 * Each field becomes min(device, clamp): a clamp never raises a limit or
 * grants a feature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/context.h"

typedef struct limits_clamp {
    const char *name;
    uint32_t shared_memory, invocations, workgroup_size[3], workgroup_count[3], push_constants;
    uint64_t storage_range;
    int keep_features;          /* fp16, int8, subgroup arithmetic... stay the device's */
    int discrete_memory;        /* device-local memory described as not host-visible */
} limits_clamp;

#define NO_CLAMP UINT32_MAX
static const limits_clamp clamps[] = {
    {"minimum", 16384, 128, {128, 128, 64}, {65535, 65535, 65535}, 128, 134217728, 0, 0},
    {"mali", 16384, 64, {64, 64, 64}, {65535, 65535, 65535}, 128, 134217728, 0, 0},
    {"discrete", NO_CLAMP, NO_CLAMP, {NO_CLAMP, NO_CLAMP, NO_CLAMP},
     {NO_CLAMP, NO_CLAMP, NO_CLAMP}, NO_CLAMP, UINT64_MAX, 1, 1},
};

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The clamp $VKVAE_LIMITS names; NULL when unset or empty, or (*bad set)
 * when it names none. */
static const limits_clamp *clamp_chosen(const char **bad)
{
    const char *v = getenv("VKVAE_LIMITS");
    *bad = NULL;
    if (!v || !*v)
        return NULL;
    for (size_t i = 0; i < sizeof clamps / sizeof *clamps; i++)
        if (strcmp(v, clamps[i].name) == 0)
            return &clamps[i];
    *bad = v;
    return NULL;
}

vkvae_status vkvae_limits_check(vkvae_error *err)
{
    const char *bad;
    clamp_chosen(&bad);
    if (bad)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "VKVAE_LIMITS='%s': expected minimum, mali or discrete (or unset: the device's "
                          "own limits)",
                          bad);
    return VKVAE_OK;
}

void vkvae_limits_apply(vkvae_device_info *d)
{
    const char *bad;
    const limits_clamp *c = clamp_chosen(&bad);
    if (!c)
        return;
    snprintf(d->limits, sizeof d->limits, "%s", c->name);
    d->max_shared_memory = min32(d->max_shared_memory, c->shared_memory);
    d->max_invocations = min32(d->max_invocations, c->invocations);
    for (int i = 0; i < 3; i++) {
        d->max_workgroup_size[i] = min32(d->max_workgroup_size[i], c->workgroup_size[i]);
        d->max_workgroup_count[i] = min32(d->max_workgroup_count[i], c->workgroup_count[i]);
    }
    d->max_push_constants = min32(d->max_push_constants, c->push_constants);
    if (d->max_storage_buffer_range > c->storage_range)
        d->max_storage_buffer_range = c->storage_range;
    if (c->discrete_memory)
        d->unified_memory = 0;
    if (c->keep_features)
        return;
    d->fp16 = d->int8 = d->storage16 = d->cooperative_matrix = 0;
    d->subgroup_arithmetic = d->subgroup_shuffle = 0;
}
