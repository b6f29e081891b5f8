/* Debian's volk.c, built into libvkvae, plus one function volk 1.3.239
 * lacks: loading a VolkDeviceTable through a given vkGetDeviceProcAddr.
 * volkLoadDeviceTable reads volk's global vkGetDeviceProcAddr, which only
 * volkLoadInstance* sets; going through the context's own pointer means an
 * adopted device never needs volk's globals, so two contexts (ours and an
 * application's, or two GPUs) never overwrite each other's loaders.
 * volk.c's static generator is reachable because it is included here.
 * This file is compiled with volk's warnings off (runtime/vulkan/meson.build).
 */
#include <volk.c>

#include "vulkan/context.h"

typedef struct device_loader {
    PFN_vkGetDeviceProcAddr gdpa;
    VkDevice device;
} device_loader;

static PFN_vkVoidFunction load_device_fn(void *context, const char *name)
{
    const device_loader *l = context;
    return l->gdpa(l->device, name);
}

void vkvae_device_table_load(struct VolkDeviceTable *table, PFN_vkGetDeviceProcAddr gdpa,
                             VkDevice device)
{
    device_loader l = {gdpa, device};
    volkGenLoadDeviceTable(table, &l, load_device_fn);
}
