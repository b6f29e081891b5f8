/* Adopting an application's Vulkan objects: its instance, physical device,
 * device and one queue become the context's, reached through the
 * application's own vkGetInstanceProcAddr (so its loader, layers and
 * messenger see every call vkvae makes). Nothing adopted is ever destroyed:
 * the context creates and destroys only its command pool, pipeline cache
 * (both made by vkvae_context_finish in context.c, which adoption ends
 * with) and, through models, its buffers and pipelines.
 *
 * The device needs no feature or extension: vkvae's kernels use core
 * Vulkan 1.1 only, so whatever the application enabled is enough; the one
 * exception is VKVAE_PRECISION_FP16, which needs shaderFloat16 enabled
 * (checked against what the device reports, not what was enabled: Vulkan
 * has no query for that; the validation layers would say).
 */
#include <stdlib.h>

#include "vulkan/context.h"

vkvae_status vkvae_context_adopt(vkvae_context *ctx, const vkvae_vulkan_device *app,
                                 vkvae_error *err)
{
    if (!app->get_instance_proc_addr || !app->instance || !app->physical_device || !app->queue)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "adopting a device needs get_instance_proc_addr, instance, "
                          "physical_device, device and queue (one is missing)");
    ctx->owns_device = 0;
    ctx->instance = app->instance;
    ctx->physical = app->physical_device;
    ctx->get_instance_proc_addr = app->get_instance_proc_addr;
    vkvae_status s = vkvae_instance_table_load(&ctx->vki, app->get_instance_proc_addr,
                                               app->instance, err);
    if (s)
        return s;
    ctx->devices = calloc(1, sizeof *ctx->devices);
    if (!ctx->devices)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory adopting a device");
    ctx->device_count = 1;
    ctx->device_index = 0;
    ctx->vki.vkGetPhysicalDeviceProperties(ctx->physical, &ctx->props);
    if (ctx->props.apiVersion < VK_API_VERSION_1_1)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "device '%s' supports Vulkan %u.%u; vkvae needs 1.1",
                          ctx->props.deviceName, VK_API_VERSION_MAJOR(ctx->props.apiVersion),
                          VK_API_VERSION_MINOR(ctx->props.apiVersion));
    vkvae_physical_device_describe(&ctx->vki, ctx->physical, &ctx->devices[0]);
    ctx->vki.vkGetPhysicalDeviceMemoryProperties(ctx->physical, &ctx->mem_props);

    uint32_t n = 0;
    ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &n, NULL);
    VkQueueFamilyProperties *fam = calloc(n ? n : 1, sizeof *fam);
    if (!fam)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory adopting a device");
    ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &n, fam);
    int compute = app->queue_family < n && (fam[app->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT);
    free(fam);
    if (!compute)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "queue family %u of device '%s' %s; vkvae needs one with "
                          "VK_QUEUE_COMPUTE_BIT",
                          app->queue_family, ctx->props.deviceName,
                          app->queue_family < n ? "has no compute" : "does not exist");
    ctx->queue_family = app->queue_family;
    ctx->queue = app->queue;
    vkvae_device_table_load(&ctx->vk, ctx->vki.vkGetDeviceProcAddr, app->device);
    if (!ctx->vk.vkCreateComputePipelines || !ctx->vk.vkCmdDispatch)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "vkGetDeviceProcAddr found no device functions: is the device from "
                          "this instance?");
    ctx->device = app->device;
    s = vkvae_context_precision_check(ctx, err);
    return s ? s : vkvae_context_finish(ctx, err);
}
