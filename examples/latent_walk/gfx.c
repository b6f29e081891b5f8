/* The demo's own Vulkan (gfx.h): instance, device, swapchain, the blit
 * pipeline and the decoded image. Nothing here knows about vkvae; main.c
 * hands these objects to vkvae_context_create and records vkvae's decode
 * into the frame's command buffer before gfx_record_draw.
 *
 * Synchronization, per frame, in one command buffer on one queue:
 *   vkvae_record_decode: waits (its first barrier, src = FRAGMENT_SHADER)
 *     for the previous frame's sampling of the image, then writes it;
 *     its last barrier (dst = FRAGMENT_SHADER | TRANSFER) makes the writes
 *     visible to the draw and to screenshot copies;
 *   the render pass: the swapchain image goes UNDEFINED -> COLOR_ATTACHMENT
 *     -> PRESENT_SRC; the acquire semaphore is waited at
 *     COLOR_ATTACHMENT_OUTPUT, which the external subpass dependency
 *     chains to the layout transition; the dependency out of the subpass
 *     lets a screenshot copy follow (TRANSFER).
 * The decoded image never leaves layout GENERAL (storage writes and
 * sampling both allow it), so no per-frame layout transition is needed. */
#include "gfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blit_fs.spv.h"
#include "blit_vs.spv.h"

static const char *vk_result_name(VkResult r)
{
    switch (r) {
#define NAME(x) case x: return #x;
    NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_INCOMPLETE)
    NAME(VK_SUBOPTIMAL_KHR) NAME(VK_ERROR_OUT_OF_HOST_MEMORY) NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME(VK_ERROR_INITIALIZATION_FAILED) NAME(VK_ERROR_DEVICE_LOST) NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT) NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER) NAME(VK_ERROR_FORMAT_NOT_SUPPORTED)
    NAME(VK_ERROR_SURFACE_LOST_KHR) NAME(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR)
    NAME(VK_ERROR_OUT_OF_DATE_KHR)
#undef NAME
    default: return "VkResult";
    }
}

#define VK(call)                                                                             \
    do {                                                                                     \
        VkResult r_ = (call);                                                                \
        if (r_ != VK_SUCCESS) {                                                              \
            fprintf(stderr, "latent_walk: %s failed: %s (%d)\n", #call, vk_result_name(r_), \
                    (int)r_);                                                                \
            return -1;                                                                       \
        }                                                                                    \
    } while (0)

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)severity;
    (void)type;
    ((gfx *)user)->messages++;
    fprintf(stderr, "latent_walk: validation: %s\n", data->pMessage);
    return VK_FALSE;
}

static int create_instance(gfx *g, int validation)
{
    uint32_t glfw_count = 0;
    const char **glfw_exts = glfwGetRequiredInstanceExtensions(&glfw_count);
    if (!glfw_exts) {
        fprintf(stderr, "latent_walk: GLFW finds no Vulkan surface support for this window "
                        "system\n");
        return -1;
    }
    const char *exts[16];
    uint32_t n = 0;
    for (uint32_t i = 0; i < glfw_count && n < 15; i++)
        exts[n++] = glfw_exts[i];
    const char *layer = "VK_LAYER_KHRONOS_validation";
    if (validation) {
        uint32_t count = 0;
        vkEnumerateInstanceLayerProperties(&count, NULL);
        VkLayerProperties *layers = calloc(count ? count : 1, sizeof *layers);
        if (!layers)
            return -1;
        vkEnumerateInstanceLayerProperties(&count, layers);
        int found = 0;
        for (uint32_t i = 0; i < count; i++)
            found |= strcmp(layers[i].layerName, layer) == 0;
        free(layers);
        if (!found) {
            fprintf(stderr, "latent_walk: VKVAE_VALIDATION=1 but %s is not installed "
                            "(Debian: vulkan-validationlayers)\n", layer);
            return -1;
        }
        exts[n++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    VkApplicationInfo info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .pApplicationName = "vkvae latent_walk",
                              .apiVersion = VK_API_VERSION_1_1}; /* what vkvae needs */
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = &sync};
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = &features,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = g,
    };
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pNext = validation ? &messenger : NULL,
                               .pApplicationInfo = &info,
                               .enabledLayerCount = validation ? 1 : 0,
                               .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = n,
                               .ppEnabledExtensionNames = exts};
    VK(vkCreateInstance(&ci, NULL, &g->instance));
    if (validation) {
        messenger.pNext = NULL;
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(g->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create) {
            fprintf(stderr, "latent_walk: no vkCreateDebugUtilsMessengerEXT\n");
            return -1;
        }
        VK(create(g->instance, &messenger, NULL, &g->messenger));
    }
    return 0;
}

static int has_swapchain_extension(VkPhysicalDevice pd)
{
    uint32_t count = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &count, NULL) != VK_SUCCESS)
        return 0;
    VkExtensionProperties *exts = calloc(count ? count : 1, sizeof *exts);
    if (!exts)
        return 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &count, exts);
    int found = 0;
    for (uint32_t i = 0; i < count; i++)
        found |= strcmp(exts[i].extensionName, VK_KHR_SWAPCHAIN_EXTENSION_NAME) == 0;
    free(exts);
    return found;
}

/* A queue family with graphics and compute (vkvae records compute into
 * the same command buffer as the draw) that presents to the surface. */
static uint32_t present_family(gfx *g, VkPhysicalDevice pd)
{
    VkQueueFamilyProperties fam[32];
    uint32_t nf = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nf, fam);
    for (uint32_t i = 0; i < nf; i++) {
        VkBool32 present = VK_FALSE;
        VkQueueFlags want = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
        if ((fam[i].queueFlags & want) == want &&
            vkGetPhysicalDeviceSurfaceSupportKHR(pd, i, g->surface, &present) == VK_SUCCESS &&
            present)
            return i;
    }
    return UINT32_MAX;
}

static int pick_device(gfx *g, const char *selector)
{
    VkPhysicalDevice pds[16];
    uint32_t n = 16;
    VkResult r = vkEnumeratePhysicalDevices(g->instance, &n, pds);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
        fprintf(stderr, "latent_walk: no Vulkan device\n");
        return -1;
    }
    /* Discrete, integrated, virtual, CPU, other: as vkvae's own choice. */
    static const int rank[] = {[VK_PHYSICAL_DEVICE_TYPE_OTHER] = 1,
                               [VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU] = 4,
                               [VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU] = 5,
                               [VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU] = 3,
                               [VK_PHYSICAL_DEVICE_TYPE_CPU] = 2};
    char *end = NULL;
    long index = selector && *selector ? strtol(selector, &end, 10) : -1;
    int by_index = selector && *selector && end && *end == 0;
    int best = -1, best_rank = 0;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(pds[i], &p);
        int usable = p.apiVersion >= VK_API_VERSION_1_1 && has_swapchain_extension(pds[i]) &&
                     present_family(g, pds[i]) != UINT32_MAX;
        int chosen;
        if (by_index)
            chosen = (long)i == index;
        else if (selector && *selector) {
            chosen = 0;
            for (const char *s = p.deviceName; *s && !chosen; s++)
                chosen = strncasecmp(s, selector, strlen(selector)) == 0;
        } else
            chosen = 1;
        if (!chosen)
            continue;
        if (!usable) {
            fprintf(stderr, "latent_walk: device %u (%s) cannot present to this window%s\n", i,
                    p.deviceName, selector && *selector ? "" : "; trying the others");
            continue;
        }
        int rk = p.deviceType <= VK_PHYSICAL_DEVICE_TYPE_CPU ? rank[p.deviceType] : 0;
        if (best < 0 || rk > best_rank)
            best = (int)i, best_rank = rk;
    }
    if (best < 0) {
        fprintf(stderr, "latent_walk: no Vulkan device %s%s%scan present to this window\n",
                selector ? "matching '" : "", selector ? selector : "", selector ? "' " : "");
        return -1;
    }
    g->physical = pds[best];
    g->family = present_family(g, g->physical);
    vkGetPhysicalDeviceProperties(g->physical, &g->props);
    vkGetPhysicalDeviceMemoryProperties(g->physical, &g->mem);
    return 0;
}

static int memory_type(const gfx *g, uint32_t bits, VkMemoryPropertyFlags want, uint32_t *out)
{
    for (uint32_t t = 0; t < g->mem.memoryTypeCount; t++)
        if ((bits & (1u << t)) && (g->mem.memoryTypes[t].propertyFlags & want) == want) {
            *out = t;
            return 0;
        }
    fprintf(stderr, "latent_walk: no memory type with properties 0x%x\n", (unsigned)want);
    return -1;
}

static int host_buffer(gfx *g, VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer *buffer,
                       VkDeviceMemory *memory, void **mapped)
{
    VkBufferCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                             .usage = usage};
    VK(vkCreateBuffer(g->device, &ci, NULL, buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(g->device, *buffer, &req);
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size};
    if (memory_type(g, req.memoryTypeBits,
                    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                    &ai.memoryTypeIndex))
        return -1;
    VK(vkAllocateMemory(g->device, &ai, NULL, memory));
    VK(vkBindBufferMemory(g->device, *buffer, *memory, 0));
    VK(vkMapMemory(g->device, *memory, 0, VK_WHOLE_SIZE, 0, mapped));
    memset(*mapped, 0, size);
    return 0;
}

/* Whether the device lists extension name. */
static int has_extension(VkPhysicalDevice pd, const char *name)
{
    VkExtensionProperties exts[512];
    uint32_t n = 512;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &n, exts);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0)
            return 1;
    return 0;
}

static int create_device(gfx *g, int fp16)
{
    float priority = 1;
    VkDeviceQueueCreateInfo q = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = g->family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &priority};
    const char *ext[2] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME,
                          VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &q,
                             .enabledExtensionCount = 1,
                             .ppEnabledExtensionNames = ext};
    /* vkvae's fp16 products need shaderFloat16 (docs/api.md, Precision);
     * this Vulkan 1.1 instance reaches it through the extension. */
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    if (fp16) {
        VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                           .pNext = &f16};
        if (has_extension(g->physical, ext[1]))
            vkGetPhysicalDeviceFeatures2(g->physical, &feats);
        if (!f16.shaderFloat16) {
            fprintf(stderr, "latent_walk: --precision fp16: %s has no fp16 arithmetic "
                            "(shaderFloat16)\n", g->props.deviceName);
            return -1;
        }
        f16 = (VkPhysicalDeviceShaderFloat16Int8Features){
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
            .shaderFloat16 = VK_TRUE};
        di.pNext = &f16;
        di.enabledExtensionCount = 2;
    }
    VK(vkCreateDevice(g->physical, &di, NULL, &g->device));
    vkGetDeviceQueue(g->device, g->family, 0, &g->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = g->family};
    VK(vkCreateCommandPool(g->device, &pi, NULL, &g->command_pool));
    return 0;
}

/* The swapchain's format: 8-bit UNORM, so a decoded value v shows as the
 * byte round(255 v), the same as vkvae's PNGs (an sRGB format would
 * re-encode it). */
static int choose_format(gfx *g, VkSurfaceFormatKHR *out)
{
    VkSurfaceFormatKHR formats[64];
    uint32_t n = 64;
    VkResult r = vkGetPhysicalDeviceSurfaceFormatsKHR(g->physical, g->surface, &n, formats);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
        fprintf(stderr, "latent_walk: the surface offers no formats\n");
        return -1;
    }
    *out = formats[0];
    for (uint32_t i = 0; i < n; i++)
        if ((formats[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
             formats[i].format == VK_FORMAT_R8G8B8A8_UNORM) &&
            formats[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) {
            *out = formats[i];
            break;
        }
    return 0;
}

static VkPresentModeKHR choose_present_mode(gfx *g)
{
    if (g->vsync)
        return VK_PRESENT_MODE_FIFO_KHR; /* always offered */
    VkPresentModeKHR modes[16];
    uint32_t n = 16;
    if (vkGetPhysicalDeviceSurfacePresentModesKHR(g->physical, g->surface, &n, modes) < 0)
        return VK_PRESENT_MODE_FIFO_KHR;
    VkPresentModeKHR best = VK_PRESENT_MODE_FIFO_KHR;
    for (uint32_t i = 0; i < n; i++) {
        if (modes[i] == VK_PRESENT_MODE_IMMEDIATE_KHR)
            return modes[i];
        if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR)
            best = modes[i];
    }
    return best;
}

static int create_render_pass(gfx *g)
{
    VkAttachmentDescription color = {
        .format = g->swap_format,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .finalLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
    };
    VkAttachmentReference ref = {0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription sub = {.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .colorAttachmentCount = 1,
                                .pColorAttachments = &ref};
    VkSubpassDependency deps[2] = {
        /* The acquire semaphore is waited at COLOR_ATTACHMENT_OUTPUT: the
         * layout transition and the clear come after it. */
        {.srcSubpass = VK_SUBPASS_EXTERNAL,
         .dstSubpass = 0,
         .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .srcAccessMask = 0,
         .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT},
        /* A screenshot copies the image after the pass (TRANSFER). */
        {.srcSubpass = 0,
         .dstSubpass = VK_SUBPASS_EXTERNAL,
         .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
         .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
         .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT},
    };
    VkRenderPassCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                 .attachmentCount = 1,
                                 .pAttachments = &color,
                                 .subpassCount = 1,
                                 .pSubpasses = &sub,
                                 .dependencyCount = 2,
                                 .pDependencies = deps};
    VK(vkCreateRenderPass(g->device, &ci, NULL, &g->render_pass));
    return 0;
}

static void destroy_swapchain_views(gfx *g)
{
    for (uint32_t i = 0; i < g->image_count; i++) {
        vkDestroyFramebuffer(g->device, g->framebuffers[i], NULL);
        vkDestroyImageView(g->device, g->views[i], NULL);
        vkDestroySemaphore(g->device, g->rendered[i], NULL);
        g->framebuffers[i] = VK_NULL_HANDLE;
        g->views[i] = VK_NULL_HANDLE;
        g->rendered[i] = VK_NULL_HANDLE;
    }
    g->image_count = 0;
}

static int create_swapchain(gfx *g)
{
    VkSurfaceCapabilitiesKHR caps;
    VK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(g->physical, g->surface, &caps));
    VkSurfaceFormatKHR format;
    if (choose_format(g, &format))
        return -1;
    if (g->render_pass && format.format != g->swap_format) {
        fprintf(stderr, "latent_walk: the surface changed format\n");
        return -1;
    }
    g->swap_format = format.format;
    VkExtent2D extent = caps.currentExtent;
    if (extent.width == UINT32_MAX) {
        int w = 0, h = 0;
        glfwGetFramebufferSize(g->window, &w, &h);
        extent.width = (uint32_t)w;
        extent.height = (uint32_t)h;
        if (extent.width < caps.minImageExtent.width)
            extent.width = caps.minImageExtent.width;
        if (extent.width > caps.maxImageExtent.width)
            extent.width = caps.maxImageExtent.width;
        if (extent.height < caps.minImageExtent.height)
            extent.height = caps.minImageExtent.height;
        if (extent.height > caps.maxImageExtent.height)
            extent.height = caps.maxImageExtent.height;
    }
    g->extent = extent;
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount)
        count = caps.maxImageCount;
    g->swap_copyable = (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;
    VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    if (!(caps.supportedCompositeAlpha & alpha))
        for (uint32_t bit = 1; bit <= VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR; bit <<= 1)
            if (caps.supportedCompositeAlpha & bit) {
                alpha = (VkCompositeAlphaFlagBitsKHR)bit;
                break;
            }
    VkSwapchainKHR old = g->swapchain;
    VkSwapchainCreateInfoKHR ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
        .surface = g->surface,
        .minImageCount = count,
        .imageFormat = format.format,
        .imageColorSpace = format.colorSpace,
        .imageExtent = extent,
        .imageArrayLayers = 1,
        .imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                      (g->swap_copyable ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0),
        .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .preTransform = caps.currentTransform,
        .compositeAlpha = alpha,
        .presentMode = choose_present_mode(g),
        .clipped = VK_TRUE,
        .oldSwapchain = old,
    };
    VK(vkCreateSwapchainKHR(g->device, &ci, NULL, &g->swapchain));
    if (old)
        vkDestroySwapchainKHR(g->device, old, NULL);
    uint32_t n = 0;
    VK(vkGetSwapchainImagesKHR(g->device, g->swapchain, &n, NULL));
    if (n > GFX_MAX_IMAGES) {
        fprintf(stderr, "latent_walk: %u swapchain images, more than %d\n", n, GFX_MAX_IMAGES);
        return -1;
    }
    VK(vkGetSwapchainImagesKHR(g->device, g->swapchain, &n, g->images));
    if (!g->render_pass && create_render_pass(g))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        g->image_count = i + 1; /* what destroy_swapchain_views frees */
        VkImageViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                    .image = g->images[i],
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                    .format = g->swap_format,
                                    .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
        VK(vkCreateImageView(g->device, &vi, NULL, &g->views[i]));
        VkFramebufferCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                      .renderPass = g->render_pass,
                                      .attachmentCount = 1,
                                      .pAttachments = &g->views[i],
                                      .width = extent.width,
                                      .height = extent.height,
                                      .layers = 1};
        VK(vkCreateFramebuffer(g->device, &fi, NULL, &g->framebuffers[i]));
        VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        VK(vkCreateSemaphore(g->device, &si, NULL, &g->rendered[i]));
    }
    return 0;
}

int gfx_recreate_swapchain(gfx *g)
{
    VK(vkDeviceWaitIdle(g->device));
    destroy_swapchain_views(g);
    return create_swapchain(g);
}

static int create_pipeline(gfx *g)
{
    VkSamplerCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
                              .magFilter = VK_FILTER_NEAREST,
                              .minFilter = VK_FILTER_NEAREST,
                              .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
                              .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                              .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                              .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE};
    VK(vkCreateSampler(g->device, &si, NULL, &g->sampler));
    VkDescriptorSetLayoutBinding b = {.binding = 0,
                                      .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                                      .descriptorCount = 1,
                                      .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT};
    VkDescriptorSetLayoutCreateInfo li = {.sType =
                                              VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = 1,
                                          .pBindings = &b};
    VK(vkCreateDescriptorSetLayout(g->device, &li, NULL, &g->set_layout));
    VkPushConstantRange push = {VK_SHADER_STAGE_FRAGMENT_BIT, 0, 32};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1,
                                      .pSetLayouts = &g->set_layout,
                                      .pushConstantRangeCount = 1,
                                      .pPushConstantRanges = &push};
    VK(vkCreatePipelineLayout(g->device, &pli, NULL, &g->layout));

    VkShaderModule vs, fs;
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = sizeof blit_vs_spv,
                                   .pCode = blit_vs_spv};
    VK(vkCreateShaderModule(g->device, &mi, NULL, &vs));
    mi.codeSize = sizeof blit_fs_spv;
    mi.pCode = blit_fs_spv;
    VkResult r = vkCreateShaderModule(g->device, &mi, NULL, &fs);
    if (r != VK_SUCCESS) {
        vkDestroyShaderModule(g->device, vs, NULL);
        VK(r);
    }
    VkPipelineShaderStageCreateInfo stages[2] = {
        {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_VERTEX_BIT, .module = vs, .pName = "main"},
        {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_FRAGMENT_BIT, .module = fs, .pName = "main"},
    };
    VkPipelineVertexInputStateCreateInfo vertex = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    VkPipelineInputAssemblyStateCreateInfo assembly = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST};
    VkPipelineViewportStateCreateInfo viewport = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
        .viewportCount = 1,
        .scissorCount = 1};
    VkPipelineRasterizationStateCreateInfo raster = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
        .polygonMode = VK_POLYGON_MODE_FILL,
        .cullMode = VK_CULL_MODE_NONE,
        .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
        .lineWidth = 1.0f};
    VkPipelineMultisampleStateCreateInfo multisample = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
        .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT};
    VkPipelineColorBlendAttachmentState blend_att = {
        .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                          VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT};
    VkPipelineColorBlendStateCreateInfo blend = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &blend_att};
    VkDynamicState dyn_states[2] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
    VkPipelineDynamicStateCreateInfo dynamic = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
        .dynamicStateCount = 2,
        .pDynamicStates = dyn_states};
    VkGraphicsPipelineCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                        .stageCount = 2,
                                        .pStages = stages,
                                        .pVertexInputState = &vertex,
                                        .pInputAssemblyState = &assembly,
                                        .pViewportState = &viewport,
                                        .pRasterizationState = &raster,
                                        .pMultisampleState = &multisample,
                                        .pColorBlendState = &blend,
                                        .pDynamicState = &dynamic,
                                        .layout = g->layout,
                                        .renderPass = g->render_pass,
                                        .subpass = 0};
    r = vkCreateGraphicsPipelines(g->device, VK_NULL_HANDLE, 1, &pci, NULL, &g->pipeline);
    vkDestroyShaderModule(g->device, vs, NULL);
    vkDestroyShaderModule(g->device, fs, NULL);
    VK(r);
    return 0;
}

/* The image vkvae writes (storage) and the pipeline samples; also copied
 * for screenshots. Moved to GENERAL once, here, and left there. */
static int create_decoded_image(gfx *g, uint32_t width, uint32_t height)
{
    const VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(g->physical, format, &fp);
    VkFormatFeatureFlags need = VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT |
                                VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT;
    if ((fp.optimalTilingFeatures & need) != need) {
        fprintf(stderr, "latent_walk: %s cannot sample and store R8G8B8A8_UNORM images\n",
                g->props.deviceName);
        return -1;
    }
    if (width > g->props.limits.maxImageDimension2D ||
        height > g->props.limits.maxImageDimension2D) {
        fprintf(stderr, "latent_walk: a %ux%u image is larger than the device allows (%u)\n",
                width, height, g->props.limits.maxImageDimension2D);
        return -1;
    }
    g->image_width = width;
    g->image_height = height;
    VkImageCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = format,
                            .extent = {width, height, 1},
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_SAMPLED_BIT |
                                     VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                            .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    VK(vkCreateImage(g->device, &ci, NULL, &g->image));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(g->device, g->image, &req);
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size};
    if (memory_type(g, req.memoryTypeBits, 0, &ai.memoryTypeIndex))
        return -1;
    VK(vkAllocateMemory(g->device, &ai, NULL, &g->image_memory));
    VK(vkBindImageMemory(g->device, g->image, g->image_memory, 0));
    VkImageViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                .image = g->image,
                                .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                .format = format,
                                .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VK(vkCreateImageView(g->device, &vi, NULL, &g->image_view));

    /* UNDEFINED -> GENERAL, once; vkvae's first barrier in each frame then
     * orders its writes after this. */
    VkCommandBuffer cb;
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = g->command_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VK(vkAllocateCommandBuffers(g->device, &cai, &cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VK(vkBeginCommandBuffer(cb, &bi));
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = 0,
                              .dstAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                              .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                              .newLayout = VK_IMAGE_LAYOUT_GENERAL,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = g->image,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 0, NULL, 1, &b);
    VK(vkEndCommandBuffer(cb));
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cb};
    VK(vkQueueSubmit(g->queue, 1, &submit, VK_NULL_HANDLE));
    VK(vkQueueWaitIdle(g->queue));
    vkFreeCommandBuffers(g->device, g->command_pool, 1, &cb);

    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = 1,
                                      .poolSizeCount = 1,
                                      .pPoolSizes = &size};
    VK(vkCreateDescriptorPool(g->device, &dpi, NULL, &g->descriptor_pool));
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = g->descriptor_pool,
                                       .descriptorSetCount = 1,
                                       .pSetLayouts = &g->set_layout};
    VK(vkAllocateDescriptorSets(g->device, &dai, &g->set));
    VkDescriptorImageInfo ii = {.sampler = g->sampler,
                                .imageView = g->image_view,
                                .imageLayout = VK_IMAGE_LAYOUT_GENERAL};
    VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstSet = g->set,
                              .dstBinding = 0,
                              .descriptorCount = 1,
                              .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                              .pImageInfo = &ii};
    vkUpdateDescriptorSets(g->device, 1, &w, 0, NULL);
    return 0;
}

static int create_frames(gfx *g, uint32_t latent_floats)
{
    VkCommandBuffer cbs[GFX_FRAMES];
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = g->command_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = GFX_FRAMES};
    VK(vkAllocateCommandBuffers(g->device, &cai, cbs));
    for (int i = 0; i < GFX_FRAMES; i++) {
        gfx_frame *f = &g->frames[i];
        f->cb = cbs[i];
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
                                .flags = VK_FENCE_CREATE_SIGNALED_BIT};
        VK(vkCreateFence(g->device, &fi, NULL, &f->fence));
        VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        VK(vkCreateSemaphore(g->device, &si, NULL, &f->acquired));
        void *mapped = NULL;
        if (host_buffer(g, (VkDeviceSize)latent_floats * sizeof(float),
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &f->latents, &f->latents_memory,
                        &mapped))
            return -1;
        f->latents_mapped = mapped;
    }
    return 0;
}

int gfx_create(gfx *g, const gfx_desc *desc)
{
    *g = (gfx){.window = desc->window, .vsync = desc->vsync};
    if (create_instance(g, desc->validation))
        return -1;
    VK(glfwCreateWindowSurface(g->instance, g->window, NULL, &g->surface));
    if (pick_device(g, desc->device) || create_device(g, desc->fp16) || create_swapchain(g) ||
        create_pipeline(g) || create_decoded_image(g, desc->image_width, desc->image_height) ||
        create_frames(g, desc->latent_floats))
        return -1;
    return 0;
}

void gfx_destroy(gfx *g)
{
    if (g->device) {
        vkDeviceWaitIdle(g->device);
        for (int i = 0; i < GFX_FRAMES; i++) {
            gfx_frame *f = &g->frames[i];
            vkDestroyFence(g->device, f->fence, NULL);
            vkDestroySemaphore(g->device, f->acquired, NULL);
            vkDestroyBuffer(g->device, f->latents, NULL);
            vkFreeMemory(g->device, f->latents_memory, NULL);
        }
        vkDestroyDescriptorPool(g->device, g->descriptor_pool, NULL);
        vkDestroyImageView(g->device, g->image_view, NULL);
        vkDestroyImage(g->device, g->image, NULL);
        vkFreeMemory(g->device, g->image_memory, NULL);
        vkDestroyPipeline(g->device, g->pipeline, NULL);
        vkDestroyPipelineLayout(g->device, g->layout, NULL);
        vkDestroyDescriptorSetLayout(g->device, g->set_layout, NULL);
        vkDestroySampler(g->device, g->sampler, NULL);
        destroy_swapchain_views(g);
        vkDestroySwapchainKHR(g->device, g->swapchain, NULL);
        vkDestroyRenderPass(g->device, g->render_pass, NULL);
        vkDestroyCommandPool(g->device, g->command_pool, NULL);
        vkDestroyDevice(g->device, NULL);
    }
    if (g->instance) {
        vkDestroySurfaceKHR(g->instance, g->surface, NULL);
        if (g->messenger) {
            PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
                vkGetInstanceProcAddr(g->instance, "vkDestroyDebugUtilsMessengerEXT");
            if (destroy)
                destroy(g->instance, g->messenger, NULL);
        }
        vkDestroyInstance(g->instance, NULL);
    }
    g->device = VK_NULL_HANDLE;
    g->instance = VK_NULL_HANDLE;
}

void gfx_placement(const gfx *g, int32_t *x, int32_t *y, uint32_t *w, uint32_t *h)
{
    uint32_t W = g->extent.width, H = g->extent.height;
    uint32_t iw = g->image_width, ih = g->image_height;
    uint32_t k = W / iw < H / ih ? W / iw : H / ih;
    if (k >= 1) { /* integer magnification: every decoded pixel a k x k square */
        *w = iw * k;
        *h = ih * k;
    } else { /* a window smaller than the image: shrink to fit */
        double s = (double)W / iw < (double)H / ih ? (double)W / iw : (double)H / ih;
        *w = (uint32_t)(iw * s) ? (uint32_t)(iw * s) : 1;
        *h = (uint32_t)(ih * s) ? (uint32_t)(ih * s) : 1;
    }
    *x = (int32_t)(W - *w) / 2;
    *y = (int32_t)(H - *h) / 2;
}

void gfx_record_draw(gfx *g, VkCommandBuffer cb, uint32_t index)
{
    VkClearValue clear = {.color = {.float32 = {0.08f, 0.08f, 0.1f, 1.0f}}};
    VkRenderPassBeginInfo rp = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
                                .renderPass = g->render_pass,
                                .framebuffer = g->framebuffers[index],
                                .renderArea = {{0, 0}, g->extent},
                                .clearValueCount = 1,
                                .pClearValues = &clear};
    vkCmdBeginRenderPass(cb, &rp, VK_SUBPASS_CONTENTS_INLINE);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, g->pipeline);
    VkViewport vp = {0, 0, (float)g->extent.width, (float)g->extent.height, 0, 1};
    VkRect2D scissor = {{0, 0}, g->extent};
    vkCmdSetViewport(cb, 0, 1, &vp);
    vkCmdSetScissor(cb, 0, 1, &scissor);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, g->layout, 0, 1, &g->set, 0,
                            NULL);
    int32_t x, y;
    uint32_t w, h;
    gfx_placement(g, &x, &y, &w, &h);
    /* blit_fs.frag: t = uv * scale + offset maps the placed rectangle to [0, 1]. */
    float push[8] = {(float)g->extent.width / (float)w, (float)g->extent.height / (float)h,
                     -(float)x / (float)w, -(float)y / (float)h,
                     clear.color.float32[0], clear.color.float32[1], clear.color.float32[2], 1.0f};
    vkCmdPushConstants(cb, g->layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof push, push);
    vkCmdDraw(cb, 3, 1, 0, 0);
    vkCmdEndRenderPass(cb);
}

int gfx_readback_create(gfx *g, gfx_readback *r, uint32_t width, uint32_t height)
{
    *r = (gfx_readback){.width = width, .height = height};
    void *mapped = NULL;
    if (host_buffer(g, (VkDeviceSize)width * height * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                    &r->buffer, &r->memory, &mapped))
        return -1;
    r->mapped = mapped;
    return 0;
}

void gfx_readback_destroy(gfx *g, gfx_readback *r)
{
    vkDestroyBuffer(g->device, r->buffer, NULL);
    vkFreeMemory(g->device, r->memory, NULL);
    *r = (gfx_readback){0};
}

static void image_barrier(VkCommandBuffer cb, VkImage image, VkImageLayout from, VkImageLayout to,
                          VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                          VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = src_access,
                              .dstAccessMask = dst_access,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = image,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static void copy_to_host(VkCommandBuffer cb, VkImage image, VkImageLayout layout, gfx_readback *r)
{
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {r->width, r->height, 1}};
    vkCmdCopyImageToBuffer(cb, image, layout, r->buffer, 1, &region);
    VkBufferMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                     .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                     .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
                                     .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                     .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                     .buffer = r->buffer,
                                     .size = VK_WHOLE_SIZE};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                         NULL, 1, &to_host, 0, NULL);
}

void gfx_record_copy_swapchain(gfx *g, VkCommandBuffer cb, uint32_t index, gfx_readback *r)
{
    /* The render pass's outgoing dependency made the colour writes and
     * the move to PRESENT_SRC available to TRANSFER; this barrier chains
     * on it (src TRANSFER). */
    image_barrier(cb, g->images[index], VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
                  VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    copy_to_host(cb, g->images[index], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, r);
    /* Back to PRESENT_SRC for vkQueuePresentKHR (which waits on the
     * semaphore the submission signals: no access to make visible). */
    image_barrier(cb, g->images[index], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                  VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                  VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0);
    r->bgra = g->swap_format == VK_FORMAT_B8G8R8A8_UNORM ||
              g->swap_format == VK_FORMAT_B8G8R8A8_SRGB;
}

void gfx_record_copy_decoded(gfx *g, VkCommandBuffer cb, gfx_readback *r)
{
    /* vkvae's last barrier made its writes visible to FRAGMENT_SHADER and
     * TRANSFER (main.c's dst); src FRAGMENT_SHADER | TRANSFER chains on it
     * and waits for the draw's sampling before the layout changes. */
    image_barrier(cb, g->image, VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                  VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    copy_to_host(cb, g->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, r);
    /* Back to GENERAL before the next frame's decode writes it (vkvae's
     * first barrier has TRANSFER in its source stages: the chain holds). */
    image_barrier(cb, g->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT, 0);
    r->bgra = 0;
}
