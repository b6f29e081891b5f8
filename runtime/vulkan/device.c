/* The context: instance, device selection, the logical device with one
 * compute queue and its per-device function table, and teardown. An
 * adopted context (adopt.c) shares the second half: vkvae_context_finish
 * and the teardown, which destroys only what vkvae created.
 *
 * Selection prefers a discrete GPU, then integrated, virtual, CPU; a
 * selector (--device, $VKVAE_DEVICE) overrides it by index or by a
 * case-insensitive substring of the device name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/context.h"

const char *vkvae_device_type_name(vkvae_device_type t)
{
    static const char *const names[] = {"other", "integrated GPU", "discrete GPU",
                                        "virtual GPU", "CPU"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "other";
}

static int type_rank(vkvae_device_type t)
{
    switch (t) {
    case VKVAE_DEVICE_DISCRETE: return 4;
    case VKVAE_DEVICE_INTEGRATED: return 3;
    case VKVAE_DEVICE_VIRTUAL: return 2;
    case VKVAE_DEVICE_CPU: return 1;
    default: return 0;
    }
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

int vkvae_device_choose(const vkvae_device_info *devices, uint32_t count, const char *selector,
                        vkvae_error *err)
{
    if (!selector || !*selector) {
        int best = -1;
        for (uint32_t i = 0; i < count; i++)
            if (best < 0 || type_rank(devices[i].type) > type_rank(devices[best].type))
                best = (int)i;
        if (best < 0)
            vkvae_fail(err, VKVAE_NO_DRIVER, "no Vulkan devices");
        return best;
    }
    char *end = NULL;
    unsigned long index = strtoul(selector, &end, 10);
    int is_index = isdigit((unsigned char)selector[0]) && *end == '\0';
    int match = -1;
    if (is_index) {
        if (index < count)
            match = (int)index;
    } else {
        for (uint32_t i = 0; i < count && match < 0; i++)
            if (contains_nocase(devices[i].name, selector))
                match = (int)i;
    }
    if (match >= 0)
        return match;

    char list[400] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < count && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%u: %s (%s)", i ? "; " : "", i,
                         devices[i].name, vkvae_device_type_name(devices[i].type));
        if (w < 0)
            break;
        used += (size_t)w;
    }
    vkvae_fail(err, VKVAE_NO_DEVICE,
               "no Vulkan device matches '%s'; choose an index or a name substring from: %s",
               selector, list);
    return -1;
}

vkvae_status vkvae_devices_query(vkvae_device_info **out, uint32_t *count, vkvae_error *err)
{
    vkvae_context tmp = {0};
    vkvae_status s = vkvae_instance_create(&tmp, 0, err);
    if (!s)
        s = vkvae_physical_devices_describe(&tmp.vki, tmp.instance, NULL, out, count, err);
    vkvae_instance_destroy(&tmp);
    return s;
}

static uint32_t compute_queue_family(const vkvae_instance_table *vki, VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vki->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties fam[32];
    if (n > 32)
        n = 32;
    vki->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fam);
    /* A compute-only family is usually the async compute engine; prefer the
     * first family with compute otherwise. */
    for (uint32_t i = 0; i < n; i++)
        if ((fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(fam[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            return i;
    for (uint32_t i = 0; i < n; i++)
        if (fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return i;
    return UINT32_MAX;
}

static vkvae_status device_create(vkvae_context *ctx, vkvae_error *err)
{
    ctx->queue_family = compute_queue_family(&ctx->vki, ctx->physical);
    if (ctx->queue_family == UINT32_MAX)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "device '%s' has no compute queue",
                          ctx->devices[ctx->device_index].name);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    /* fp16 products: shaderFloat16 and its extension (precision_check has
     * seen the device list both). */
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = VK_TRUE,
    };
    const char *f16_ext = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
    if (ctx->precision == VKVAE_PRECISION_FP16) {
        info.pNext = &f16;
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = &f16_ext;
    }
    VKVAE_VK_CHECK(err, ctx->vki.vkCreateDevice(ctx->physical, &info, NULL, &ctx->device));
    vkvae_device_table_load(&ctx->vk, ctx->vki.vkGetDeviceProcAddr, ctx->device);
    ctx->vk.vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    return VKVAE_OK;
}

/* fp16 products need the device's shaderFloat16. A device vkvae creates
 * gets it through VK_KHR_shader_float16_int8 (device_create): our instance
 * asks for Vulkan 1.1, so core 1.2's version of the feature is not ours to
 * use. An adopted device is the application's to have enabled it. */
static vkvae_status precision_check(const vkvae_context *ctx, vkvae_error *err)
{
    const vkvae_device_info *d = &ctx->devices[ctx->device_index];
    if (ctx->precision == VKVAE_PRECISION_FP32)
        return VKVAE_OK;
    if (!d->fp16 || (ctx->owns_device && !vkvae_physical_device_has_extension(
                                             &ctx->vki, ctx->physical,
                                             VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)))
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "device '%s' has no fp16 arithmetic (shaderFloat16 through "
                          "VK_KHR_shader_float16_int8): use precision fp32",
                          d->name);
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

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

vkvae_status vkvae_context_create(const vkvae_context_desc *desc, vkvae_context **out,
                                  vkvae_error *err)
{
    static const vkvae_context_desc defaults = {0};
    if (!desc)
        desc = &defaults;
    *out = NULL;
    if (desc->precision != VKVAE_PRECISION_FP32 && desc->precision != VKVAE_PRECISION_FP16)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "precision %d is not fp32 (0) or fp16 (1)",
                          (int)desc->precision);
    vkvae_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory creating the context");
    ctx->quiet_validation = desc->quiet_validation;
    ctx->on_validation_message = desc->on_validation_message;
    ctx->mm_tiled = env_flag("VKVAE_MM_TILED");
    ctx->precision = desc->precision;
    ctx->user = desc->user;
    ctx->timeout_ns = desc->timeout_ns;
    if (!ctx->timeout_ns) {
        /* $VKVAE_TIMEOUT seconds, else 60 s: a CPU driver under load can
         * need longer for one submission of a large model. */
        double seconds = 60;
        const char *v = getenv("VKVAE_TIMEOUT");
        if (v && *v) {
            char *end;
            seconds = strtod(v, &end);
            if (*end || !(seconds > 0 && seconds < 1e9)) {
                free(ctx);
                return vkvae_fail(err, VKVAE_BAD_INPUT, "VKVAE_TIMEOUT='%s': expected a "
                                  "number of seconds above 0", v);
            }
        }
        ctx->timeout_ns = (uint64_t)(seconds * 1e9);
    }
    if (desc->adopt.device) {
        vkvae_status s = vkvae_context_adopt(ctx, &desc->adopt, err);
        if (!s)
            s = precision_check(ctx, err);
        if (!s)
            s = vkvae_context_finish(ctx, err);
        if (s) {
            vkvae_context_destroy(ctx);
            return s;
        }
        *out = ctx;
        return VKVAE_OK;
    }
    ctx->owns_device = 1;
    int validation = desc->validation > 0 || (desc->validation == 0 && env_flag("VKVAE_VALIDATION"));

    VkPhysicalDevice *physical = NULL;
    vkvae_status s = vkvae_instance_create(ctx, validation, err);
    if (!s)
        s = vkvae_physical_devices_describe(&ctx->vki, ctx->instance, &physical, &ctx->devices,
                                            &ctx->device_count, err);
    if (!s) {
        const char *selector = desc->device ? desc->device : getenv("VKVAE_DEVICE");
        int chosen = vkvae_device_choose(ctx->devices, ctx->device_count, selector, err);
        if (chosen < 0)
            s = err ? err->status : VKVAE_NO_DEVICE;
        else {
            ctx->device_index = (uint32_t)chosen;
            ctx->physical = physical[chosen];
            ctx->vki.vkGetPhysicalDeviceProperties(ctx->physical, &ctx->props);
            ctx->vki.vkGetPhysicalDeviceMemoryProperties(ctx->physical, &ctx->mem_props);
            s = precision_check(ctx, err);
            if (!s)
                s = device_create(ctx, err);
        }
    }
    free(physical);
    if (!s)
        s = vkvae_context_finish(ctx, err);
    if (s) {
        vkvae_context_destroy(ctx);
        return s;
    }
    *out = ctx;
    return VKVAE_OK;
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
