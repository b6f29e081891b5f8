/* The Vulkan layer's interface: the context (instance, device, queue),
 * buffers, pipelines and command recording. It knows nothing of plans or
 * ops (gpu/ builds on it). Device-level functions are called through the
 * context's own VolkDeviceTable (never volk's globals), so several devices,
 * ours and an application's, coexist in one process.
 */
#ifndef VKVAE_VULKAN_CONTEXT_H
#define VKVAE_VULKAN_CONTEXT_H

#include <volk.h>

#include "vkvae.h"

/* Reports a failed Vulkan call by name, VkResult and place, and returns the
 * matching status from the enclosing function. */
#define VKVAE_VK_CHECK(err, call)                                                     \
    do {                                                                              \
        VkResult vkvae_r_ = (call);                                                   \
        if (vkvae_r_ != VK_SUCCESS)                                                   \
            return vkvae_vk_fail((err), vkvae_r_, #call, __FILE__, __LINE__);         \
    } while (0)

/* ---- vk_error.c ---- */
vkvae_status vkvae_vk_fail(vkvae_error *err, VkResult r, const char *what, const char *file,
                           int line);
const char *vkvae_vk_result_name(VkResult r);

/* Instance-level functions of one context's instance, loaded through that
 * instance's vkGetInstanceProcAddr: the loader's for a context vkvae
 * creates, the application's for an adopted one. volk's global function
 * pointers are used only for the loader-level calls (vkCreateInstance,
 * vkEnumerateInstance*), so adopting never rewrites state another context
 * (or the application's own volk) relies on. */
typedef struct vkvae_instance_table {
    PFN_vkGetDeviceProcAddr vkGetDeviceProcAddr;
    PFN_vkDestroyInstance vkDestroyInstance;
    PFN_vkEnumeratePhysicalDevices vkEnumeratePhysicalDevices;
    PFN_vkEnumerateDeviceExtensionProperties vkEnumerateDeviceExtensionProperties;
    PFN_vkGetPhysicalDeviceProperties vkGetPhysicalDeviceProperties;
    PFN_vkGetPhysicalDeviceProperties2 vkGetPhysicalDeviceProperties2;
    PFN_vkGetPhysicalDeviceFeatures2 vkGetPhysicalDeviceFeatures2;
    PFN_vkGetPhysicalDeviceMemoryProperties vkGetPhysicalDeviceMemoryProperties;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties vkGetPhysicalDeviceQueueFamilyProperties;
    PFN_vkGetPhysicalDeviceFormatProperties vkGetPhysicalDeviceFormatProperties;
    PFN_vkCreateDevice vkCreateDevice;
    PFN_vkCreateDebugUtilsMessengerEXT vkCreateDebugUtilsMessengerEXT;   /* NULL without */
    PFN_vkDestroyDebugUtilsMessengerEXT vkDestroyDebugUtilsMessengerEXT; /* VK_EXT_debug_utils */
} vkvae_instance_table;

struct vkvae_context {
    VkInstance instance;
    PFN_vkGetInstanceProcAddr get_instance_proc_addr;
    vkvae_instance_table vki;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    struct VolkDeviceTable vk;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool command_pool;
    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024];
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    vkvae_device_info *devices;
    uint32_t device_count, device_index;
    int owns_device;                 /* 0 when adopted from an application */
    int quiet_validation;
    vkvae_message_fn on_validation_message;
    void *user;
    uint64_t timeout_ns;
    int mm_tiled;                    /* $VKVAE_MM_TILED: the GPUs' kernel choices on CPU drivers too */
    vkvae_precision precision;       /* FP16: the fp16 builds of the products (gpu/kernels.c) */
    volatile uint32_t validation_messages;
};

/* ---- instance.c ---- */
vkvae_status vkvae_instance_create(vkvae_context *ctx, int validation, vkvae_error *err);
void vkvae_instance_destroy(vkvae_context *ctx);
/* Fills t from gipa and instance; UNSUPPORTED when a Vulkan 1.1 function
 * the runtime needs is missing (an instance created for Vulkan 1.0). */
vkvae_status vkvae_instance_table_load(vkvae_instance_table *t, PFN_vkGetInstanceProcAddr gipa,
                                       VkInstance instance, vkvae_error *err);
vkvae_status vkvae_physical_devices_describe(const vkvae_instance_table *vki, VkInstance instance,
                                             VkPhysicalDevice **physical,
                                             vkvae_device_info **infos, uint32_t *count,
                                             vkvae_error *err);
/* Whether pd lists the device extension name. */
int vkvae_physical_device_has_extension(const vkvae_instance_table *vki, VkPhysicalDevice pd,
                                        const char *name);
/* Describes one physical device (what vkvae_device_info holds). */
void vkvae_physical_device_describe(const vkvae_instance_table *vki, VkPhysicalDevice pd,
                                    vkvae_device_info *d);

/* ---- limits.c ---- */
/* BAD_INPUT, in one line naming VKVAE_LIMITS and the accepted values, when
 * $VKVAE_LIMITS is set to a clamp that does not exist. */
vkvae_status vkvae_limits_check(vkvae_error *err);
/* Clamps d to the limits $VKVAE_LIMITS names (each field min(device,
 * clamp)) and names the clamp in d->limits; unset or unknown: nothing. */
void vkvae_limits_apply(vkvae_device_info *d);

/* ---- volk_table.c ---- */
/* volkLoadDeviceTable with the context's own vkGetDeviceProcAddr instead of
 * volk's global one. */
void vkvae_device_table_load(struct VolkDeviceTable *table, PFN_vkGetDeviceProcAddr gdpa,
                             VkDevice device);

/* ---- context.c ---- */
/* UNSUPPORTED when the context asks for fp16 and its device lacks it (for
 * an owned device, also VK_KHR_shader_float16_int8, the way vkvae enables
 * it). Both kinds of context check before they finish. */
vkvae_status vkvae_context_precision_check(const vkvae_context *ctx, vkvae_error *err);
/* The command pool and pipeline cache both kinds of context make once the
 * device and queue exist; vkvae_context_destroy tears either kind down. */
vkvae_status vkvae_context_finish(vkvae_context *ctx, vkvae_error *err);

/* ---- adopt.c ---- */
/* Fills ctx (allocated, defaults set) from the application's objects and
 * finishes it (context.c); on failure the caller destroys ctx. */
vkvae_status vkvae_context_adopt(vkvae_context *ctx, const vkvae_vulkan_device *app,
                                 vkvae_error *err);

/* ---- memory.c ---- */
typedef struct vkvae_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *mapped;                    /* non-NULL when host-visible */
} vkvae_buffer;

/* A storage buffer of `size` bytes in device-local memory, host-visible where
 * the device has unified memory (iGPUs, lavapipe). */
vkvae_status vkvae_buffer_create(vkvae_context *ctx, VkDeviceSize size, vkvae_buffer *out,
                                 vkvae_error *err);
void vkvae_buffer_destroy(vkvae_context *ctx, vkvae_buffer *buf);
/* A host-visible buffer (mapped) to copy from or into: the transfers'
 * staging memory. */
vkvae_status vkvae_staging_create(vkvae_context *ctx, VkDeviceSize size, vkvae_buffer *out,
                                  vkvae_error *err);
/* Copies host memory into buf at offset (a staging copy when not mapped). */
vkvae_status vkvae_buffer_upload(vkvae_context *ctx, vkvae_buffer *buf, VkDeviceSize offset,
                                 const void *src, VkDeviceSize bytes, vkvae_error *err);
vkvae_status vkvae_buffer_download(vkvae_context *ctx, const vkvae_buffer *buf,
                                   VkDeviceSize offset, void *dst, VkDeviceSize bytes,
                                   vkvae_error *err);
vkvae_status vkvae_buffer_fill(vkvae_context *ctx, vkvae_buffer *buf, uint32_t word,
                               vkvae_error *err);

/* ---- pipeline.c ---- */
enum { VKVAE_PUSH_BYTES = 128 };     /* the push-constant range every device has */
enum { VKVAE_KERNEL_MAX_BINDINGS = 8 }; /* storage buffers a dispatch binds, at most */

typedef struct vkvae_kernel {
    VkShaderModule module;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t binding_count;          /* storage buffers 0..n-1, read from the SPIR-V */
    uint32_t local_size[3];          /* read from the SPIR-V */
} vkvae_kernel;

/* Builds a compute pipeline from SPIR-V; bindings, push constants and the
 * workgroup size are read from the module itself. spec holds n_spec 4-byte
 * specialization constants, constant_id i at spec[i] (NULL: none). */
vkvae_status vkvae_kernel_create(vkvae_context *ctx, const uint32_t *spirv, size_t words,
                                 const void *spec, uint32_t n_spec, const char *name,
                                 vkvae_kernel *out, vkvae_error *err);
void vkvae_kernel_destroy(vkvae_context *ctx, vkvae_kernel *k);

/* ---- pipeline_cache.c ---- */
vkvae_status vkvae_pipeline_cache_open(vkvae_context *ctx, vkvae_error *err);
void vkvae_pipeline_cache_close(vkvae_context *ctx);

/* ---- descriptors.c ---- */
/* A pool for `sets` descriptor sets of `buffers` storage buffers and
 * `images` storage images each. */
vkvae_status vkvae_descriptor_pool_create(vkvae_context *ctx, uint32_t sets, uint32_t buffers,
                                          uint32_t images, VkDescriptorPool *out,
                                          vkvae_error *err);
vkvae_status vkvae_descriptor_set_allocate(vkvae_context *ctx, VkDescriptorPool pool,
                                           VkDescriptorSetLayout layout, VkDescriptorSet *out,
                                           vkvae_error *err);

/* ---- commands.c ---- */
typedef struct vkvae_binding {
    const vkvae_buffer *buffer;
    VkDeviceSize offset, range;      /* range 0: to the end of the buffer */
} vkvae_binding;

typedef struct vkvae_commands {
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool pool;           /* the sets this recording binds */
    uint32_t sets_left;
    VkQueryPool timestamps;
    uint32_t timestamp_count, timestamps_used;
    int submitted;                   /* 1 once queued: destroy waits (bounded) first */
} vkvae_commands;

/* Begins a command buffer with room for `max_dispatches` descriptor sets and
 * `timestamps` timestamp queries (0: none). */
vkvae_status vkvae_commands_begin(vkvae_context *ctx, uint32_t max_dispatches,
                                  uint32_t timestamps, vkvae_commands *out, vkvae_error *err);
/* Binds the kernel, its buffers and push constants, and dispatches. */
vkvae_status vkvae_commands_dispatch(vkvae_context *ctx, vkvae_commands *c, const vkvae_kernel *k,
                                     const vkvae_binding *bindings, uint32_t n_bindings,
                                     const void *push, uint32_t push_bytes, uint32_t gx,
                                     uint32_t gy, uint32_t gz, vkvae_error *err);
/* Records a copy of bytes from src to dst between barriers: after earlier
 * shaders' accesses, visible to later shaders and the host. */
void vkvae_commands_copy(vkvae_context *ctx, vkvae_commands *c, const vkvae_buffer *src,
                         VkDeviceSize src_off, const vkvae_buffer *dst, VkDeviceSize dst_off,
                         VkDeviceSize bytes);
/* Makes all earlier shader writes visible to later shader reads and writes. */
void vkvae_commands_barrier(vkvae_context *ctx, vkvae_commands *c);
/* Writes the next timestamp after all earlier work; returns its index. */
uint32_t vkvae_commands_timestamp(vkvae_context *ctx, vkvae_commands *c);
/* Ends and submits; then waits (with the context's timeout) for the GPU. */
vkvae_status vkvae_commands_submit(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err);
vkvae_status vkvae_commands_wait(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err);
vkvae_status vkvae_commands_submit_wait(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err);
/* Reads timestamps [0, n) in nanoseconds after completion. */
vkvae_status vkvae_commands_timestamps_ns(vkvae_context *ctx, const vkvae_commands *c,
                                          double *ns, uint32_t n, vkvae_error *err);
/* Waits until the GPU has finished everything vkvae submitted to its queue,
 * within the context's timeout (TIMEOUT otherwise): vkDeviceWaitIdle
 * without the unbounded wait. Owned devices only (the queue is ours). */
vkvae_status vkvae_queue_drain(vkvae_context *ctx, vkvae_error *err);
/* Frees the recording; one still running after a timeout is left alive. */
void vkvae_commands_destroy(vkvae_context *ctx, vkvae_commands *c);

#endif
