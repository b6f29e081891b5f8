/* vkvae_context_create, and the device vkvae creates for a context that
 * does not adopt one: the instance (instance.c), the choice of physical
 * device, and the logical device with one compute queue and its own
 * function table. An adopting context is handed to adopt.c instead; both
 * kinds end in context.c (vkvae_context_finish), which also tears either
 * down. Calls go only down: device.c -> adopt.c -> context.c.
 *
 * Selection prefers a discrete GPU, then integrated, virtual, CPU; a
 * selector (--device, $VKVAE_DEVICE) overrides it by index or by a
 * case-insensitive substring of the device name; "vulkan" names the
 * preferred one (for a test suite that must run on whatever device the
 * machine has, where the CLI alone would pick its CPU backend).
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
    if (!selector || !*selector || strcmp(selector, "vulkan") == 0) {
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
    /* fp16 products: shaderFloat16 and its extension, both of which the
     * device lists (vkvae_context_precision_check saw to that). */
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

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* The bound on every wait of the context: the desc's, else $VKVAE_TIMEOUT
 * seconds, else 60 s, since a CPU driver under load can need that long for
 * one submission of a large model. */
static vkvae_status timeout_choose(uint64_t given_ns, uint64_t *out, vkvae_error *err)
{
    *out = given_ns;
    if (given_ns)
        return VKVAE_OK;
    double seconds = 60;
    const char *v = getenv("VKVAE_TIMEOUT");
    if (v && *v) {
        char *end;
        seconds = strtod(v, &end);
        if (*end || !(seconds > 0 && seconds < 1e9))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "VKVAE_TIMEOUT='%s': expected a "
                              "number of seconds above 0", v);
    }
    *out = (uint64_t)(seconds * 1e9);
    return VKVAE_OK;
}

/* A context on a device of its own: the instance, the chosen physical
 * device (desc's selector, else $VKVAE_DEVICE, else the best kind), the
 * device on it, and what every context makes (context.c). The precision is
 * checked before the device exists, so an fp16 request on a device without
 * it fails with its own message rather than vkCreateDevice's. */
static vkvae_status device_open(vkvae_context *ctx, const vkvae_context_desc *desc,
                                vkvae_error *err)
{
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
            s = vkvae_context_precision_check(ctx, err);
            if (!s)
                s = device_create(ctx, err);
        }
    }
    free(physical);
    return s ? s : vkvae_context_finish(ctx, err);
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
    vkvae_status s = timeout_choose(desc->timeout_ns, &ctx->timeout_ns, err);
    if (!s)
        s = desc->adopt.device ? vkvae_context_adopt(ctx, &desc->adopt, err)
                               : device_open(ctx, desc, err);
    if (s) {
        /* Whatever exists so far, and only what vkvae made (context.c). */
        vkvae_context_destroy(ctx);
        return s;
    }
    *out = ctx;
    return VKVAE_OK;
}
