/* What both kinds of context share once a device exists, whether vkvae
 * created it (device.c) or adopted the application's (adopt.c): the fp16
 * check, the command pool and pipeline cache every context makes
 * (vkvae_context_finish), the teardown, and the queries of the public API.
 * Both creators call down into this file and it calls neither back, so
 * the files of runtime/vulkan/ form no call cycle.
 *
 * The teardown destroys only what vkvae created: on an adopted context the
 * device, queue and instance stay the application's.
 */
#include <stdlib.h>

#include "vulkan/context.h"

/* A device vkvae creates gets shaderFloat16 through
 * VK_KHR_shader_float16_int8 (device.c): our instance asks for Vulkan 1.1,
 * so core 1.2's version of the feature is not ours to use. An adopted
 * device is the application's to have enabled it. The check reads the
 * device's description, so a $VKVAE_LIMITS clamp (limits.c: no fp16)
 * refuses fp16 as a device without it does; an adopted context, whose
 * description is not made by vkvae_physical_devices_describe, has its
 * $VKVAE_LIMITS checked here. */
vkvae_status vkvae_context_precision_check(const vkvae_context *ctx, vkvae_error *err)
{
    const vkvae_device_info *d = &ctx->devices[ctx->device_index];
    vkvae_status s = vkvae_limits_check(err);
    if (s || ctx->precision == VKVAE_PRECISION_FP32)
        return s;
    if (!d->fp16 || (ctx->owns_device && !vkvae_physical_device_has_extension(
                                             &ctx->vki, ctx->physical,
                                             VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)))
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "device '%s' has no fp16 arithmetic (shaderFloat16 through "
                          "VK_KHR_shader_float16_int8%s%s): use precision fp32",
                          d->name, d->limits[0] ? "; clamped by VKVAE_LIMITS=" : "", d->limits);
    return VKVAE_OK;
}

vkvae_status vkvae_context_finish(vkvae_context *ctx, vkvae_error *err)
{
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateCommandPool(ctx->device, &pool, NULL, &ctx->command_pool));
    return vkvae_pipeline_cache_open(ctx, err);
}

void vkvae_context_destroy(vkvae_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->device && ctx->owns_device && vkvae_queue_drain(ctx, NULL) != VKVAE_OK) {
        /* The GPU is still busy after a timeout: destroying the device
         * under it could hang or crash, so it and the instance are left to
         * the process's exit. */
        free(ctx->devices);
        free(ctx);
        return;
    }
    if (ctx->device) {
        /* An adopted device may be busy with the application's own work, and
         * vkDeviceWaitIdle would need every queue externally synchronized:
         * vkvae's own submissions have all been waited for already. An owned
         * one was drained above, within the timeout (vkDeviceWaitIdle has
         * none). */
        vkvae_pipeline_cache_close(ctx);
        if (ctx->command_pool)
            ctx->vk.vkDestroyCommandPool(ctx->device, ctx->command_pool, NULL);
        if (ctx->owns_device)
            ctx->vk.vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->owns_device)
        vkvae_instance_destroy(ctx);
    free(ctx->devices);
    free(ctx);
}

const vkvae_device_info *vkvae_context_devices(const vkvae_context *ctx, uint32_t *count)
{
    *count = ctx->device_count;
    return ctx->devices;
}

vkvae_precision vkvae_context_precision(const vkvae_context *ctx)
{
    return ctx->precision;
}

uint32_t vkvae_context_device_index(const vkvae_context *ctx)
{
    return ctx->device_index;
}

uint32_t vkvae_validation_message_count(const vkvae_context *ctx)
{
    return ctx->validation_messages;
}

void vkvae_context_vulkan(const vkvae_context *ctx, vkvae_vulkan_device *out)
{
    *out = (vkvae_vulkan_device){
        .get_instance_proc_addr = ctx->get_instance_proc_addr,
        .instance = ctx->instance,
        .physical_device = ctx->physical,
        .device = ctx->device,
        .queue_family = ctx->queue_family,
        .queue = ctx->queue,
    };
}

int vkvae_context_adopted(const vkvae_context *ctx)
{
    return !ctx->owns_device;
}
