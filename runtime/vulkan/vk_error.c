/* Failed Vulkan calls as vkvae errors: the VkResult's name, the call and
 * the place (VKVAE_VK_CHECK in context.h), mapped to the status a caller
 * can act on (out of memory, device lost, timeout). The bottom of the
 * Vulkan layer: every other file here reports through it.
 */
#include "vulkan/context.h"

const char *vkvae_vk_result_name(VkResult r)
{
    switch (r) {
#define NAME(x) case x: return #x;
        NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_EVENT_SET)
        NAME(VK_EVENT_RESET) NAME(VK_INCOMPLETE) NAME(VK_ERROR_OUT_OF_HOST_MEMORY)
        NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY) NAME(VK_ERROR_INITIALIZATION_FAILED)
        NAME(VK_ERROR_DEVICE_LOST) NAME(VK_ERROR_MEMORY_MAP_FAILED)
        NAME(VK_ERROR_LAYER_NOT_PRESENT) NAME(VK_ERROR_EXTENSION_NOT_PRESENT)
        NAME(VK_ERROR_FEATURE_NOT_PRESENT) NAME(VK_ERROR_INCOMPATIBLE_DRIVER)
        NAME(VK_ERROR_TOO_MANY_OBJECTS) NAME(VK_ERROR_FORMAT_NOT_SUPPORTED)
        NAME(VK_ERROR_FRAGMENTED_POOL) NAME(VK_ERROR_UNKNOWN) NAME(VK_ERROR_OUT_OF_POOL_MEMORY)
        NAME(VK_ERROR_INVALID_EXTERNAL_HANDLE) NAME(VK_ERROR_FRAGMENTATION)
        NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS) NAME(VK_PIPELINE_COMPILE_REQUIRED)
#undef NAME
    default: return "VK_ERROR_(unnamed)";
    }
}

vkvae_status vkvae_vk_fail(vkvae_error *err, VkResult r, const char *what, const char *file,
                           int line)
{
    vkvae_status s = VKVAE_VULKAN;
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
        r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_TOO_MANY_OBJECTS)
        s = VKVAE_OUT_OF_MEMORY;
    else if (r == VK_ERROR_DEVICE_LOST)
        s = VKVAE_DEVICE_LOST;
    else if (r == VK_TIMEOUT)
        s = VKVAE_TIMEOUT;
    return vkvae_fail(err, s, "%s failed with %s (%s:%d)", what, vkvae_vk_result_name(r), file,
                      line);
}
