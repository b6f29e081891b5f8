/* The Vulkan instance: the loader through volk, the Khronos validation layer
 * (with synchronization validation) when asked, a debug-utils messenger that
 * prints and counts every warning and error, and a description of each
 * physical device for selection and `vkvae info`.
 *
 * Instance-level calls go through the context's own table (vkvae_instance_table
 * in context.h), never volk's globals: only the loader-level entry points
 * (vkCreateInstance and the instance enumerations, which volkInitialize sets
 * once) are global. The table loader and the device descriptions take the
 * table, not a context, because adopt.c uses them on the application's
 * instance too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/context.h"

static const char validation_layer[] = "VK_LAYER_KHRONOS_validation";

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)type;
    vkvae_context *ctx = user;
    /* Counted even when quiet: the tests and the command line read the
     * count (vkvae_validation_message_count) to fail a run that raised any,
     * printed or not. */
    ctx->validation_messages++;
    if (!ctx->quiet_validation)
        fprintf(stderr, "vkvae: validation %s: %s\n",
                severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
                data->pMessage);
    if (ctx->on_validation_message)
        ctx->on_validation_message(data->pMessage, ctx->user);
    return VK_FALSE; /* the spec reserves VK_TRUE (abort the call) for layer development */
}

static int has_layer(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS)
        return 0;
    VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
    int found = 0;
    if (layers && vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            found |= strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

/* Loads libvulkan once per process: vkvae_devices_query and every owned
 * context share it, and an application that has initialised volk itself
 * keeps its loader. */
static vkvae_status loader_init(vkvae_error *err)
{
    if (volkGetInstanceVersion() != 0)
        return VKVAE_OK;
    if (volkInitialize() != VK_SUCCESS)
        return vkvae_fail(err, VKVAE_NO_DRIVER,
                          "no Vulkan loader found (libvulkan.so.1); install libvulkan1 and a driver "
                          "such as mesa-vulkan-drivers");
    return VKVAE_OK;
}

vkvae_status vkvae_instance_create(vkvae_context *ctx, int validation, vkvae_error *err)
{
    vkvae_status s = loader_init(err);
    if (s)
        return s;
    /* Asked before vkCreateInstance, whose VK_ERROR_LAYER_NOT_PRESENT would
     * not say which package to install. */
    if (validation && !has_layer(validation_layer))
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "validation requested but %s is not installed (Debian: "
                          "vulkan-validationlayers)",
                          validation_layer);

    /* 1.1 is what the runtime needs (Properties2 and subgroup operations
     * are core there); anything later comes through an extension (device.c's
     * fp16), so a 1.1 driver is enough. */
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkvae",
        .pEngineName = "vkvae",
        .apiVersion = VK_API_VERSION_1_1,
    };
    /* Synchronization validation checks the plan's barriers: the recorder
     * adds none of its own (commands.c), so a missing one would otherwise
     * show only as wrong results, and only on some GPUs. */
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
    };
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    /* Warnings and errors only: info and verbose messages would flood the
     * count that tests assert is zero. Chained into vkCreateInstance too,
     * so instance creation and destruction report through it as well. */
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = &features,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = ctx,
    };
    const char *layers[] = {validation_layer};
    const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validation ? &messenger : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = validation ? 1 : 0,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = vkCreateInstance(&info, NULL, &ctx->instance);
    /* NO_DRIVER, not VULKAN: a machine without Vulkan is a state a caller
     * can act on (tests skip there when VKVAE_ALLOW_NO_DEVICE=1). */
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return vkvae_fail(err, VKVAE_NO_DRIVER,
                          "no Vulkan driver found (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER); "
                          "install one, e.g. Debian's mesa-vulkan-drivers");
    VKVAE_VK_CHECK(err, r);
    /* The loader's, from volkInitialize; the table is loaded through it
     * rather than volkLoadInstance, which would repoint volk's globals that
     * an adopted context or the application may rely on. */
    ctx->get_instance_proc_addr = vkGetInstanceProcAddr;
    s = vkvae_instance_table_load(&ctx->vki, ctx->get_instance_proc_addr, ctx->instance, err);
    if (s)
        return s;
    if (validation) {
        if (!ctx->vki.vkCreateDebugUtilsMessengerEXT)
            return vkvae_fail(err, VKVAE_UNSUPPORTED, "%s is enabled but %s is missing",
                              validation_layer, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        messenger.pNext = NULL; /* the validation features belong to the instance only */
        VKVAE_VK_CHECK(err, ctx->vki.vkCreateDebugUtilsMessengerEXT(ctx->instance, &messenger,
                                                                    NULL, &ctx->messenger));
    }
    return VKVAE_OK;
}

void vkvae_instance_destroy(vkvae_context *ctx)
{
    if (ctx->messenger && ctx->vki.vkDestroyDebugUtilsMessengerEXT)
        ctx->vki.vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance && ctx->vki.vkDestroyInstance)
        ctx->vki.vkDestroyInstance(ctx->instance, NULL);
    ctx->messenger = VK_NULL_HANDLE;
    ctx->instance = VK_NULL_HANDLE;
}

vkvae_status vkvae_instance_table_load(vkvae_instance_table *t, PFN_vkGetInstanceProcAddr gipa,
                                       VkInstance instance, vkvae_error *err)
{
    memset(t, 0, sizeof *t);
    const char *missing = NULL;
#define LOAD(fn, required)                                                \
    do {                                                                  \
        t->fn = (PFN_##fn)gipa(instance, #fn);                            \
        if ((required) && !t->fn && !missing)                             \
            missing = #fn;                                                \
    } while (0)
    LOAD(vkGetDeviceProcAddr, 1);
    LOAD(vkDestroyInstance, 1);
    LOAD(vkEnumeratePhysicalDevices, 1);
    LOAD(vkEnumerateDeviceExtensionProperties, 1);
    LOAD(vkGetPhysicalDeviceProperties, 1);
    LOAD(vkGetPhysicalDeviceProperties2, 1);
    LOAD(vkGetPhysicalDeviceFeatures2, 1);
    LOAD(vkGetPhysicalDeviceMemoryProperties, 1);
    LOAD(vkGetPhysicalDeviceQueueFamilyProperties, 1);
    LOAD(vkGetPhysicalDeviceFormatProperties, 1);
    LOAD(vkCreateDevice, 1);
    LOAD(vkCreateDebugUtilsMessengerEXT, 0);
    LOAD(vkDestroyDebugUtilsMessengerEXT, 0);
#undef LOAD
    if (missing)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "the Vulkan instance lacks %s (vkvae needs an instance created with "
                          "apiVersion 1.1 or later)",
                          missing);
    return VKVAE_OK;
}

static int has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0)
            return 1;
    return 0;
}

int vkvae_physical_device_has_extension(const vkvae_instance_table *vki, VkPhysicalDevice pd,
                                        const char *name)
{
    uint32_t n = 0;
    vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
    VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
    if (!exts)
        return 0;
    vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, exts);
    int has = has_extension(exts, n, name);
    free(exts);
    return has;
}

static vkvae_device_type device_type(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return VKVAE_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return VKVAE_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return VKVAE_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return VKVAE_DEVICE_CPU;
    default: return VKVAE_DEVICE_OTHER;
    }
}

/* Unified memory: every device-local heap can be mapped, so buffers need no
 * staging copies. Integrated GPUs and CPU drivers have it. */
static int is_unified(const VkPhysicalDeviceMemoryProperties *m)
{
    for (uint32_t h = 0; h < m->memoryHeapCount; h++) {
        if (!(m->memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
            continue;
        int mappable = 0;
        for (uint32_t t = 0; t < m->memoryTypeCount; t++)
            if (m->memoryTypes[t].heapIndex == h &&
                (m->memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
                mappable = 1;
        if (!mappable)
            return 0;
    }
    return 1;
}

void vkvae_physical_device_describe(const vkvae_instance_table *vki, VkPhysicalDevice pd,
                                    vkvae_device_info *d)
{
    /* The extension list decides which structs may be chained below: a
     * struct of an extension the device lacks is invalid usage. Without the
     * list (out of host memory) only structs core in the device's version
     * are chained. */
    uint32_t n_ext = 0;
    vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
    VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof *exts);
    if (exts)
        vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, exts);
    else
        n_ext = 0;

    VkPhysicalDeviceProperties props;
    vki->vkGetPhysicalDeviceProperties(pd, &props);
    int v12 = props.apiVersion >= VK_API_VERSION_1_2;
    int has_driver_props = v12 || has_extension(exts, n_ext, "VK_KHR_driver_properties");
    int has_size_control = has_extension(exts, n_ext, "VK_EXT_subgroup_size_control") ||
                           props.apiVersion >= VK_API_VERSION_1_3;

    /* The subgroup properties (core 1.1, always chained) decide the
     * kernels' subgroup builds (gpu/kernels.c); the driver's name and the
     * size-control range are for `vkvae info` and bug reports. */
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT size_control = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    void *chain = NULL;
    if (has_driver_props) {
        driver.pNext = chain;
        chain = &driver;
    }
    if (has_size_control) {
        size_control.pNext = chain;
        chain = &size_control;
    }
    subgroup.pNext = chain;
    VkPhysicalDeviceProperties2 props2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &subgroup};
    vki->vkGetPhysicalDeviceProperties2(pd, &props2);

    /* What the device can do, not what a device made on it enables: the
     * fp16 check (context.c) and `vkvae info` read these. */
    VkPhysicalDeviceShaderFloat16Int8Features f16i8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice16BitStorageFeatures storage16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    int has_f16i8 = v12 || has_extension(exts, n_ext, "VK_KHR_shader_float16_int8");
    storage16.pNext = has_f16i8 ? (void *)&f16i8 : NULL;
    VkPhysicalDeviceFeatures2 feats2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &storage16};
    vki->vkGetPhysicalDeviceFeatures2(pd, &feats2);

    VkPhysicalDeviceMemoryProperties mem;
    vki->vkGetPhysicalDeviceMemoryProperties(pd, &mem);

    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", props.deviceName);
    d->type = device_type(props.deviceType);
    if (has_driver_props) {
        snprintf(d->driver_name, sizeof d->driver_name, "%s", driver.driverName);
        snprintf(d->driver_info, sizeof d->driver_info, "%s", driver.driverInfo);
    }
    d->api_version = props.apiVersion;
    d->driver_version = props.driverVersion;
    d->vendor_id = props.vendorID;
    d->device_id = props.deviceID;
    d->heap_count = mem.memoryHeapCount < 16 ? mem.memoryHeapCount : 16; /* VK_MAX_MEMORY_HEAPS */
    for (uint32_t h = 0; h < d->heap_count; h++) {
        d->heap_size[h] = mem.memoryHeaps[h].size;
        d->heap_device_local[h] = !!(mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
    d->unified_memory = is_unified(&mem);
    d->subgroup_size = subgroup.subgroupSize;
    d->subgroup_min = has_size_control ? size_control.minSubgroupSize : subgroup.subgroupSize;
    d->subgroup_max = has_size_control ? size_control.maxSubgroupSize : subgroup.subgroupSize;
    d->max_shared_memory = props.limits.maxComputeSharedMemorySize;
    d->max_invocations = props.limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        d->max_workgroup_size[i] = props.limits.maxComputeWorkGroupSize[i];
        d->max_workgroup_count[i] = props.limits.maxComputeWorkGroupCount[i];
    }
    d->max_push_constants = props.limits.maxPushConstantsSize;
    d->max_storage_buffer_range = props.limits.maxStorageBufferRange;
    d->fp16 = has_f16i8 && f16i8.shaderFloat16;
    d->int8 = has_f16i8 && f16i8.shaderInt8;
    d->storage16 = storage16.storageBuffer16BitAccess;
    d->subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    d->cooperative_matrix = has_extension(exts, n_ext, "VK_KHR_cooperative_matrix");
    d->subgroup_shuffle = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                          (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);

    /* Timestamps are usable when the first compute queue family has valid
     * bits. This runs before a queue is chosen: device.c prefers a
     * compute-only family, which may differ from the first one here. */
    uint32_t n_fam = 0;
    vki->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_fam, NULL);
    VkQueueFamilyProperties *fam = calloc(n_fam ? n_fam : 1, sizeof *fam);
    if (fam) {
        vki->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_fam, fam);
        for (uint32_t i = 0; i < n_fam; i++)
            if (fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
                if (fam[i].timestampValidBits)
                    d->timestamp_period_ns = props.limits.timestampPeriod;
                break;
            }
    }
    free(fam);
    free(exts);
    /* Last: what the runtime reads of the device is this description, so
     * a clamped one is all a smaller device's limits need (limits.c). */
    vkvae_limits_apply(d);
}

vkvae_status vkvae_physical_devices_describe(const vkvae_instance_table *vki, VkInstance instance,
                                             VkPhysicalDevice **physical,
                                             vkvae_device_info **infos, uint32_t *count,
                                             vkvae_error *err)
{
    vkvae_status s = vkvae_limits_check(err);
    if (s)
        return s;
    uint32_t n = 0;
    VKVAE_VK_CHECK(err, vki->vkEnumeratePhysicalDevices(instance, &n, NULL));
    if (n == 0)
        return vkvae_fail(err, VKVAE_NO_DRIVER,
                          "the Vulkan loader found no devices; install a driver, e.g. Debian's "
                          "mesa-vulkan-drivers (lavapipe runs on the CPU)");
    VkPhysicalDevice *pds = calloc(n, sizeof *pds);
    vkvae_device_info *d = calloc(n, sizeof *d);
    if (!pds || !d) {
        free(pds);
        free(d);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory listing devices");
    }
    /* VK_INCOMPLETE: a device appeared since the count; the n returned are
     * still valid and described. */
    VkResult r = vki->vkEnumeratePhysicalDevices(instance, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(pds);
        free(d);
        return vkvae_vk_fail(err, r, "vkEnumeratePhysicalDevices", __FILE__, __LINE__);
    }
    for (uint32_t i = 0; i < n; i++)
        vkvae_physical_device_describe(vki, pds[i], &d[i]);
    *count = n;
    *infos = d;
    /* vkvae_devices_query wants only the descriptions. */
    if (physical)
        *physical = pds;
    else
        free(pds);
    return VKVAE_OK;
}
