/* The application side of the demo: what any Vulkan renderer already has
 * before it embeds vkvae. An instance (with the Khronos validation layer and
 * synchronization validation when VKVAE_VALIDATION=1, and a messenger that
 * counts every warning and error), a window surface and its swapchain, a
 * device with one graphics+compute queue that can present, a render pass
 * and a graphics pipeline that draws one fullscreen triangle sampling the
 * image vkvae decodes into (RGBA8, storage + sampled, always in layout
 * GENERAL), and the per-frame objects: command buffer, fence, semaphore and
 * a host-visible buffer of latent codes.
 *
 * Functions return 0 on success and -1 after printing what failed. */
#ifndef LATENT_WALK_GFX_H
#define LATENT_WALK_GFX_H

#include <stdint.h>

#include <vulkan/vulkan.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

enum { GFX_FRAMES = 2, GFX_MAX_IMAGES = 16 };

typedef struct gfx_frame {
    VkCommandBuffer cb;
    VkFence fence;           /* signalled when the frame's commands are done */
    VkSemaphore acquired;    /* the swapchain image may be drawn */
    VkBuffer latents;        /* the codes vkvae decodes this frame (TRANSFER_SRC) */
    VkDeviceMemory latents_memory;
    float *latents_mapped;   /* host-visible and coherent */
} gfx_frame;

/* A host-visible buffer that receives a copy of an image (a screenshot). */
typedef struct gfx_readback {
    VkBuffer buffer;
    VkDeviceMemory memory;
    const uint8_t *mapped;   /* width*height*4 bytes, rows top to bottom */
    uint32_t width, height;
    int bgra;                /* bytes are B, G, R, A (else R, G, B, A) */
} gfx_readback;

typedef struct gfx_desc {
    GLFWwindow *window;
    const char *device;      /* physical device index or name substring; NULL: the best */
    int validation;          /* 1: Khronos validation with synchronization validation */
    int vsync;               /* 1: FIFO; 0: IMMEDIATE or MAILBOX where offered */
    int fp16;                /* 1: enable shaderFloat16, for vkvae's fp16 products; fails
                                on a device without it */
    uint32_t image_width, image_height; /* the decoded image */
    uint32_t latent_floats;  /* floats per frame's latents buffer */
} gfx_desc;

typedef struct gfx {
    GLFWwindow *window;
    int vsync;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    unsigned messages;       /* validation warnings and errors seen */
    VkSurfaceKHR surface;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
    uint32_t family;
    VkDevice device;
    VkQueue queue;
    VkCommandPool command_pool;

    VkSwapchainKHR swapchain;
    VkFormat swap_format;
    VkExtent2D extent;
    int swap_copyable;       /* swapchain images allow TRANSFER_SRC */
    uint32_t image_count;
    VkImage images[GFX_MAX_IMAGES];
    VkImageView views[GFX_MAX_IMAGES];
    VkFramebuffer framebuffers[GFX_MAX_IMAGES];
    VkSemaphore rendered[GFX_MAX_IMAGES]; /* per swapchain image: presentation waits */

    VkRenderPass render_pass;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    VkSampler sampler;
    VkDescriptorPool descriptor_pool;
    VkDescriptorSet set;

    VkImage image;           /* what vkvae decodes into: RGBA8, GENERAL */
    VkDeviceMemory image_memory;
    VkImageView image_view;
    uint32_t image_width, image_height;

    gfx_frame frames[GFX_FRAMES];
} gfx;

int gfx_create(gfx *g, const gfx_desc *desc);
/* Waits for the device, then destroys everything gfx_create made. */
void gfx_destroy(gfx *g);
/* After a resize or VK_ERROR_OUT_OF_DATE_KHR: waits for the device and
 * makes a swapchain of the window's framebuffer size. */
int gfx_recreate_swapchain(gfx *g);

/* Records the render pass that draws the decoded image letterboxed into
 * swapchain image `index`: integer magnification when the window allows,
 * centred, background elsewhere. */
void gfx_record_draw(gfx *g, VkCommandBuffer cb, uint32_t index);
/* Where gfx_record_draw puts the image: top-left corner and size in
 * framebuffer pixels. */
void gfx_placement(const gfx *g, int32_t *x, int32_t *y, uint32_t *w, uint32_t *h);

int gfx_readback_create(gfx *g, gfx_readback *r, uint32_t width, uint32_t height);
void gfx_readback_destroy(gfx *g, gfx_readback *r);
/* Records a copy of swapchain image `index` (after gfx_record_draw; it
 * goes back to PRESENT_SRC) into r. Needs g->swap_copyable. */
void gfx_record_copy_swapchain(gfx *g, VkCommandBuffer cb, uint32_t index, gfx_readback *r);
/* Records a copy of the decoded image (layout GENERAL, after vkvae wrote
 * it with dst TRANSFER / TRANSFER_READ) into r. */
void gfx_record_copy_decoded(gfx *g, VkCommandBuffer cb, gfx_readback *r);

#endif
