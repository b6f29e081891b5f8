/* An application that embeds vkvae (suite 'app'): it makes its own Vulkan
 * instance (validation with synchronization validation, and its own
 * messenger that counts every warning and error), device, queue, command
 * pool, storage images and buffers, then hands them to vkvae and records
 * vkvae's work between its own commands in ONE command buffer:
 *
 *   transition images to GENERAL, clear them, fill part of the latents
 *   -> vkvae_record_decode into an RGBA8 image (130 codes: two passes)
 *   -> vkvae_record_decode into an R32F image, magnified 2x
 *   -> vkvae_record_decode of uploaded latents, of a conditional model
 *      with labels, vkvae_record_sample and vkvae_record_encode into buffers
 *   -> its own barrier and copies of the images to host-visible buffers
 *
 * submits once, waits, and compares every pixel with the CPU backend's
 * host decode of the same codes (fp32: max abs error 1e-4; RGBA8: within
 * one level). Pixels outside the grids must keep the clear colour. Where
 * the device has shaderFloat16 the application enables it, and a second
 * context adopts the device with fp16 products: its host decodes of vae_mlp
 * and vae_conv stay within 2e-3 of the CPU's (3.2e-4 and 2.3e-5 seen on
 * lavapipe) and differ from the fp32 context's. Any
 * validation message fails the test. It uses only the public header and
 * the Vulkan loader, as an application would.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "vkvae.h"

static int failures;
static unsigned messages;

#define CHECK(cond, ...)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            failures++;                                                              \
        }                                                                            \
    } while (0)
#define VK(call)                                                                           \
    do {                                                                                   \
        VkResult r_ = (call);                                                              \
        if (r_ != VK_SUCCESS) {                                                            \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, (int)r_); \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)
#define OK(call)                                                                        \
    do {                                                                                \
        if ((call) != VKVAE_OK) {                                                       \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,        \
                    err.message);                                                       \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)severity;
    (void)type;
    (void)user;
    messages++;
    fprintf(stderr, "app: validation: %s\n", data->pMessage);
    return VK_FALSE;
}

typedef struct app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    uint32_t family;
    VkQueue queue;
    VkCommandPool pool;
    VkPhysicalDeviceMemoryProperties mem;
    int fp16; /* shaderFloat16 enabled, for an fp16 context (docs/api.md, Precision) */
} app;

typedef struct buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;
} buffer;

typedef struct image {
    VkImage image;
    VkDeviceMemory memory;
    VkImageView view;
    uint32_t width, height;
} image;

static uint32_t memory_type(const app *a, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t t = 0; t < a->mem.memoryTypeCount; t++)
        if ((bits & (1u << t)) && (a->mem.memoryTypes[t].propertyFlags & want) == want)
            return t;
    fprintf(stderr, "no memory type\n");
    exit(1);
}

static void app_create(app *a)
{
    VkApplicationInfo info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .pApplicationName = "vkvae test_app",
                              .apiVersion = VK_API_VERSION_1_1};
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
    };
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pNext = &messenger,
                               .pApplicationInfo = &info,
                               .enabledLayerCount = 1,
                               .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = 1,
                               .ppEnabledExtensionNames = &ext};
    VkResult r = vkCreateInstance(&ci, NULL, &a->instance);
    if (r != VK_SUCCESS) {
        const char *allow = getenv("VKVAE_ALLOW_NO_DEVICE");
        fprintf(stderr, "vkCreateInstance failed: %d\n", (int)r);
        exit(allow && strcmp(allow, "1") == 0 ? 77 : 1);
    }
    messenger.pNext = NULL;
    PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(a->instance,
                                                                  "vkCreateDebugUtilsMessengerEXT");
    VK(create_messenger(a->instance, &messenger, NULL, &a->messenger));

    uint32_t n = 1;
    r = vkEnumeratePhysicalDevices(a->instance, &n, &a->physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
        fprintf(stderr, "no Vulkan device\n");
        exit(1);
    }
    vkGetPhysicalDeviceMemoryProperties(a->physical, &a->mem);
    /* A graphics+compute family, as a renderer would use. */
    VkQueueFamilyProperties fam[16];
    uint32_t nf = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(a->physical, &nf, fam);
    a->family = UINT32_MAX;
    for (uint32_t i = 0; i < nf && a->family == UINT32_MAX; i++)
        if (fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            a->family = i;
    float priority = 1;
    VkDeviceQueueCreateInfo q = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = a->family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &priority};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &q};
    /* shaderFloat16 where the device has it, as an application that wants
     * vkvae's fp16 products enables it (a Vulkan 1.1 instance: through
     * VK_KHR_shader_float16_int8). */
    const char *f16_ext = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
    VkExtensionProperties exts[256];
    uint32_t n_ext = 256;
    vkEnumerateDeviceExtensionProperties(a->physical, NULL, &n_ext, exts);
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    for (uint32_t i = 0; i < n_ext; i++)
        if (strcmp(exts[i].extensionName, f16_ext) == 0)
            feats.pNext = &f16;
    vkGetPhysicalDeviceFeatures2(a->physical, &feats);
    if (feats.pNext && f16.shaderFloat16) {
        f16 = (VkPhysicalDeviceShaderFloat16Int8Features){
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
            .shaderFloat16 = VK_TRUE};
        di.pNext = &f16;
        di.enabledExtensionCount = 1;
        di.ppEnabledExtensionNames = &f16_ext;
        a->fp16 = 1;
    }
    VK(vkCreateDevice(a->physical, &di, NULL, &a->device));
    vkGetDeviceQueue(a->device, a->family, 0, &a->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .queueFamilyIndex = a->family};
    VK(vkCreateCommandPool(a->device, &pi, NULL, &a->pool));
}

static buffer buffer_create(const app *a, VkDeviceSize size, VkBufferUsageFlags usage)
{
    buffer b = {0};
    VkBufferCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                             .usage = usage};
    VK(vkCreateBuffer(a->device, &ci, NULL, &b.buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a->device, b.buffer, &req);
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = memory_type(a, req.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                           VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)};
    VK(vkAllocateMemory(a->device, &ai, NULL, &b.memory));
    VK(vkBindBufferMemory(a->device, b.buffer, b.memory, 0));
    VK(vkMapMemory(a->device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped));
    memset(b.mapped, 0, size);
    return b;
}

static void buffer_destroy(const app *a, buffer *b)
{
    vkDestroyBuffer(a->device, b->buffer, NULL);
    vkFreeMemory(a->device, b->memory, NULL);
}

static image image_create(const app *a, VkFormat format, uint32_t w, uint32_t h)
{
    image im = {.width = w, .height = h};
    VkImageCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = format,
                            .extent = {w, h, 1},
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                     VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                            .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    VK(vkCreateImage(a->device, &ci, NULL, &im.image));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(a->device, im.image, &req);
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = memory_type(a, req.memoryTypeBits, 0)};
    VK(vkAllocateMemory(a->device, &ai, NULL, &im.memory));
    VK(vkBindImageMemory(a->device, im.image, im.memory, 0));
    VkImageViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                .image = im.image,
                                .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                .format = format,
                                .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VK(vkCreateImageView(a->device, &vi, NULL, &im.view));
    return im;
}

static void image_destroy(const app *a, image *im)
{
    vkDestroyImageView(a->device, im->view, NULL);
    vkDestroyImage(a->device, im->image, NULL);
    vkFreeMemory(a->device, im->memory, NULL);
}

static void image_barrier(VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
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
                              .image = img,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static void copy_image(VkCommandBuffer cb, const image *im, const buffer *dst)
{
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {im->width, im->height, 1}};
    vkCmdCopyImageToBuffer(cb, im->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dst->buffer, 1,
                           &region);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= worst)) /* NaN counts as worst */
            worst = isnan(d) ? INFINITY : d;
    }
    return worst;
}

/* Deterministic codes with some spread, so the decoder's outputs vary. */
static void fill_latents(float *z, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        z[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 6.0f;
    }
}

int main(void)
{
    app a = {0};
    app_create(&a);
    vkvae_error err = {0};

    /* ---- vkvae adopts the application's objects ---- */
    vkvae_context *ctx = NULL;
    vkvae_context_desc cd = {.adopt = {.get_instance_proc_addr = vkGetInstanceProcAddr,
                                       .instance = a.instance,
                                       .physical_device = a.physical,
                                       .device = a.device,
                                       .queue_family = a.family,
                                       .queue = a.queue}};
    OK(vkvae_context_create(&cd, &ctx, &err));
    CHECK(vkvae_context_adopted(ctx) == 1, "adopted");
    vkvae_vulkan_device seen;
    vkvae_context_vulkan(ctx, &seen);
    CHECK(seen.device == a.device && seen.queue == a.queue, "the context uses our device");

    vkvae_model *model = NULL, *cpu = NULL, *cvae = NULL, *cvae_cpu = NULL;
    OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "vae_mlp", .init_seed = 7},
                          &model, &err));
    OK(vkvae_model_create(&(vkvae_model_desc){.name = "vae_mlp", .init_seed = 7}, &cpu, &err));
    OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "cvae_mlp", .init_seed = 3},
                          &cvae, &err));
    OK(vkvae_model_create(&(vkvae_model_desc){.name = "cvae_mlp", .init_seed = 3}, &cvae_cpu,
                          &err));
    vkvae_model *conv = NULL, *conv_cpu = NULL; /* a transposed-conv decoder */
    OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "vae_conv", .init_seed = 2},
                          &conv, &err));
    OK(vkvae_model_create(&(vkvae_model_desc){.name = "vae_conv", .init_seed = 2}, &conv_cpu,
                          &err));
    vkvae_model_info info = vkvae_model_query(model);
    CHECK(info.latent == 20 && info.channels == 1 && info.height == 28 && info.width == 28 &&
              info.classes == 0 && info.has_prior && info.on_gpu && info.batch == 128,
          "vae_mlp: latent %u, %ux%ux%u, classes %u", info.latent, info.channels, info.height,
          info.width, info.classes);
    CHECK(vkvae_model_query(cvae).classes == 10, "cvae_mlp has 10 classes");
    const uint32_t L = info.latent, F = info.channels * info.height * info.width;

    /* A context vkvae makes for itself, alive beside the adopted one: each
     * loads Vulkan through its own tables (no volk globals shared), so
     * making and destroying it leaves the adopted context working. The host
     * convenience on the adopted device submits to the application's queue. */
    {
        vkvae_context *own = NULL;
        vkvae_model *m2 = NULL;
        OK(vkvae_context_create(&(vkvae_context_desc){.validation = 1}, &own, &err));
        CHECK(!vkvae_context_adopted(own), "vkvae's own context");
        OK(vkvae_model_create(&(vkvae_model_desc){.context = own, .name = "vae_mlp",
                                                  .init_seed = 7},
                              &m2, &err));
        float zz[20], g_own[784], g_app[784], c[784];
        fill_latents(zz, L, 9);
        OK(vkvae_model_decode(m2, zz, NULL, 1, g_own, &err));
        OK(vkvae_model_decode(model, zz, NULL, 1, g_app, &err));
        OK(vkvae_model_decode(cpu, zz, NULL, 1, c, &err));
        double d_own = max_abs_diff(g_own, c, F), d_app = max_abs_diff(g_app, c, F);
        CHECK(d_own <= 1e-4 && d_app <= 1e-4, "host decode: own device %.3g, adopted %.3g",
              d_own, d_app);
        vkvae_model_destroy(m2);
        CHECK(vkvae_validation_message_count(own) == 0, "vkvae's own context saw messages");
        vkvae_context_destroy(own);
    }

    /* A second context on the same device with fp16 products: decodes
     * of vae_mlp and of vae_conv's transposed-conv decoder near the CPU's
     * (fp16's rounding), and not equal to the fp32 context's (it ran). */
    if (a.fp16) {
        vkvae_context *c16 = NULL;
        vkvae_context_desc d16 = cd;
        d16.precision = VKVAE_PRECISION_FP16;
        OK(vkvae_context_create(&d16, &c16, &err));
        vkvae_model *m16 = NULL, *v16 = NULL;
        OK(vkvae_model_create(&(vkvae_model_desc){.context = c16, .name = "vae_mlp",
                                                  .init_seed = 7},
                              &m16, &err));
        OK(vkvae_model_create(&(vkvae_model_desc){.context = c16, .name = "vae_conv",
                                                  .init_seed = 2},
                              &v16, &err));
        enum { N16 = 4, MAX_LATENT = 64 };
        static float z16[N16 * MAX_LATENT], h16[N16 * 784], h32[N16 * 784], ref[N16 * 784];
        vkvae_model *gpu[2] = {model, conv}, *gpu16[2] = {m16, v16}, *host[2] = {cpu, conv_cpu};
        for (int i = 0; i < 2; i++) {
            vkvae_model_info mi = vkvae_model_query(gpu[i]); /* vae_conv: 32 latents */
            CHECK(mi.latent <= MAX_LATENT && mi.channels * mi.height * mi.width == F,
                  "model %d: %u latents, %u outputs", i, mi.latent,
                  mi.channels * mi.height * mi.width);
            if (mi.latent > MAX_LATENT)
                break;
            fill_latents(z16, (size_t)N16 * mi.latent, 5);
            OK(vkvae_model_decode(gpu16[i], z16, NULL, N16, h16, &err));
            OK(vkvae_model_decode(gpu[i], z16, NULL, N16, h32, &err));
            OK(vkvae_model_decode(host[i], z16, NULL, N16, ref, &err));
            double d16 = max_abs_diff(h16, ref, (size_t)N16 * F);
            double d32 = max_abs_diff(h32, ref, (size_t)N16 * F);
            double apart = max_abs_diff(h16, h32, (size_t)N16 * F);
            CHECK(d16 <= 2e-3 && apart > 0, "%s, fp16 products on the adopted device: %.3g "
                  "from the CPU's decode (fp32: %.3g), %.3g from fp32's",
                  i ? "vae_conv" : "vae_mlp", d16, d32, apart);
            printf("fp16 decode of %s: max abs error %.3g (fp32 %.3g)\n",
                   i ? "vae_conv" : "vae_mlp", d16, d32);
        }
        vkvae_model_destroy(m16);
        vkvae_model_destroy(v16);
        vkvae_context_destroy(c16);
    }

    /* ---- the application's resources ---- */
    enum { N = 130, COLS = 16, OX = 4, OY = 2, N2 = 30, COLS2 = 7, S2 = 2, NUP = 3, NC = 12,
           NS = 5, NE = 3 };
    const VkDeviceSize lat_off = 256; /* the codes sit after other data of the application */
    uint32_t rows = (N + COLS - 1) / COLS, rows2 = (N2 + COLS2 - 1) / COLS2;
    image rgba = image_create(&a, VK_FORMAT_R8G8B8A8_UNORM, OX + COLS * 28 + 3, OY + rows * 28 + 5);
    image r32 = image_create(&a, VK_FORMAT_R32_SFLOAT, COLS2 * 28 * S2 + 1, rows2 * 28 * S2 + 2);
    buffer latents = buffer_create(&a, lat_off + (VkDeviceSize)N * L * 4,
                                   VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer rgba_host = buffer_create(&a, (VkDeviceSize)rgba.width * rgba.height * 4,
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer r32_host = buffer_create(&a, (VkDeviceSize)r32.width * r32.height * 4,
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer out_up = buffer_create(&a, (VkDeviceSize)NUP * F * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer out_c = buffer_create(&a, 64 + (VkDeviceSize)NC * F * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer out_s = buffer_create(&a, (VkDeviceSize)NS * F * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer enc_in = buffer_create(&a, (VkDeviceSize)NE * F * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    buffer enc_mu = buffer_create(&a, (VkDeviceSize)NE * L * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer enc_lv = buffer_create(&a, (VkDeviceSize)NE * L * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);

    /* Host data: the codes (rows 0 and 1 are then overwritten on the GPU
     * by the application's own vkCmdFillBuffer with 1.5f), the uploaded
     * codes, the conditional codes and labels, the images to encode. */
    float *z = malloc((size_t)N * L * 4);
    fill_latents(z, (size_t)N * L, 1);
    memcpy((char *)latents.mapped + lat_off, z, (size_t)N * L * 4);
    for (uint32_t i = 0; i < 2 * L; i++)
        z[i] = 1.5f;
    float zup[NUP * 20], zc[NC * 20];
    fill_latents(zup, (size_t)NUP * L, 2);
    fill_latents(zc, (size_t)NC * L, 3);
    uint32_t labels[NC];
    for (uint32_t i = 0; i < NC; i++)
        labels[i] = (i * 7) % 10;
    float *x = malloc((size_t)NE * F * 4);
    fill_latents(x, (size_t)NE * F, 4);
    for (size_t i = 0; i < (size_t)NE * F; i++)
        x[i] = x[i] / 6.0f + 0.5f; /* in [0, 1] */
    memcpy(enc_in.mapped, x, (size_t)NE * F * 4);
    OK(vkvae_model_upload_latents(model, zup, NUP, &err));

    vkvae_image *target_rgba = NULL, *target_r32 = NULL;
    OK(vkvae_image_create(model, &(vkvae_image_desc){rgba.view, VK_FORMAT_R8G8B8A8_UNORM},
                          &target_rgba, &err));
    OK(vkvae_image_create(model, &(vkvae_image_desc){r32.view, VK_FORMAT_R32_SFLOAT}, &target_r32,
                          &err));

    /* ---- one command buffer: ours, vkvae's, ours ---- */
    VkCommandBuffer cb;
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = a.pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VK(vkAllocateCommandBuffers(a.device, &cai, &cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VK(vkBeginCommandBuffer(cb, &bi));
    const VkImageSubresourceRange all = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    const image *ims[2] = {&rgba, &r32};
    for (int i = 0; i < 2; i++)
        image_barrier(cb, ims[i]->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL,
                      VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT);
    VkClearColorValue clear_rgba = {.float32 = {0.25f, 0.5f, 0.75f, 0.5f}};
    VkClearColorValue clear_r32 = {.float32 = {-1.0f, 0, 0, 0}};
    vkCmdClearColorImage(cb, rgba.image, VK_IMAGE_LAYOUT_GENERAL, &clear_rgba, 1, &all);
    vkCmdClearColorImage(cb, r32.image, VK_IMAGE_LAYOUT_GENERAL, &clear_r32, 1, &all);
    vkCmdFillBuffer(cb, latents.buffer, lat_off, 2 * L * 4, 0x3fc00000u); /* 1.5f */

    /* vkvae's first barrier orders the clears and the fill (transfer writes)
     * before its own copies and image writes: no barrier of ours here. */
    OK(vkvae_record_decode(model, cb,
                           &(vkvae_decode_desc){.count = N,
                                                .latents = latents.buffer,
                                                .latents_offset = lat_off,
                                                .output = {.image = target_rgba, .x = OX, .y = OY,
                                                           .columns = COLS}},
                           &err));
    OK(vkvae_record_decode(model, cb,
                           &(vkvae_decode_desc){.count = N2,
                                                .latents = latents.buffer,
                                                .latents_offset = lat_off,
                                                .output = {.image = target_r32, .columns = COLS2,
                                                           .scale = S2}},
                           &err));
    OK(vkvae_record_decode(model, cb,
                           &(vkvae_decode_desc){.count = NUP, .output = {.buffer = out_up.buffer}},
                           &err));
    buffer cz = buffer_create(&a, (VkDeviceSize)NC * L * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    memcpy(cz.mapped, zc, sizeof zc);
    OK(vkvae_record_decode(cvae, cb,
                           &(vkvae_decode_desc){.count = NC,
                                                .latents = cz.buffer,
                                                .labels = labels,
                                                .output = {.buffer = out_c.buffer, .offset = 64}},
                           &err));
    vkvae_model_info cinfo = vkvae_model_query(conv);
    const uint32_t CF = cinfo.channels * cinfo.height * cinfo.width;
    buffer out_conv = buffer_create(&a, (VkDeviceSize)NUP * CF * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    buffer conv_z = buffer_create(&a, (VkDeviceSize)NUP * cinfo.latent * 4,
                                  VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    float *zconv = malloc((size_t)NUP * cinfo.latent * 4);
    fill_latents(zconv, (size_t)NUP * cinfo.latent, 5);
    memcpy(conv_z.mapped, zconv, (size_t)NUP * cinfo.latent * 4);
    OK(vkvae_record_decode(conv, cb,
                           &(vkvae_decode_desc){.count = NUP, .latents = conv_z.buffer,
                                                .output = {.buffer = out_conv.buffer}},
                           &err));
    OK(vkvae_record_sample(model, cb,
                           &(vkvae_sample_desc){.count = NS, .seed = 42,
                                                .output = {.buffer = out_s.buffer}},
                           &err));
    OK(vkvae_record_encode(model, cb,
                           &(vkvae_encode_desc){.count = NE,
                                                .images = enc_in.buffer,
                                                .mu = enc_mu.buffer,
                                                .logvar = enc_lv.buffer},
                           &err));

    /* Refusals record nothing and say why. */
    vkvae_error e1 = {0}, e2 = {0}, e3 = {0};
    CHECK(vkvae_record_decode(model, cb,
                              &(vkvae_decode_desc){.count = 1, .latents = latents.buffer,
                                                   .output = {.image = target_rgba,
                                                              .buffer = out_up.buffer}},
                              &e1) == VKVAE_BAD_INPUT &&
              strstr(e1.message, "exactly one"),
          "two outputs: %s", e1.message);
    CHECK(vkvae_record_decode(cvae, cb,
                              &(vkvae_decode_desc){.count = 1, .latents = cz.buffer, .label = 10,
                                                   .output = {.buffer = out_c.buffer}},
                              &e2) == VKVAE_BAD_INPUT &&
              strstr(e2.message, "label 10 is out of range"),
          "bad label: %s", e2.message);
    CHECK(vkvae_record_sample(cpu, cb,
                              &(vkvae_sample_desc){.count = 1, .output = {.buffer = out_s.buffer}},
                              &e3) == VKVAE_UNSUPPORTED &&
              strstr(e3.message, "CPU backend"),
          "CPU model: %s", e3.message);

    /* The application's own barrier and copies. vkvae's last barrier made
     * its writes visible to all later commands; this one moves the images
     * to TRANSFER_SRC_OPTIMAL, as a renderer would before a copy. */
    for (int i = 0; i < 2; i++)
        image_barrier(cb, ims[i]->image, VK_IMAGE_LAYOUT_GENERAL,
                      VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT);
    copy_image(cb, &rgba, &rgba_host);
    copy_image(cb, &r32, &r32_host);
    VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                         &to_host, 0, NULL, 0, NULL);
    VK(vkEndCommandBuffer(cb));
    VkFence fence;
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK(vkCreateFence(a.device, &fi, NULL, &fence));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb};
    VK(vkQueueSubmit(a.queue, 1, &si, fence));
    VK(vkWaitForFences(a.device, 1, &fence, VK_TRUE, 120ull * 1000 * 1000 * 1000));

    /* ---- compare with the CPU backend ---- */
    float *ref = malloc((size_t)N * F * 4);
    OK(vkvae_model_decode(cpu, z, NULL, N, ref, &err));
    const uint8_t *px = rgba_host.mapped;
    int bad_rgba = 0, bad_clear = 0;
    for (uint32_t y = 0; y < rgba.height; y++)
        for (uint32_t xx = 0; xx < rgba.width; xx++) {
            const uint8_t *p = px + ((size_t)y * rgba.width + xx) * 4;
            int gx = (int)xx - OX, gy = (int)y - OY;
            uint32_t i = gx >= 0 && gy >= 0 ? (uint32_t)(gy / 28 * COLS + gx / 28) : N;
            if (gx < 0 || gy < 0 || gx >= COLS * 28 || i >= N) {
                bad_clear += abs(p[0] - 64) > 1 || abs(p[1] - 128) > 1 || abs(p[2] - 191) > 1 ||
                             abs(p[3] - 128) > 1;
                continue;
            }
            float v = ref[(size_t)i * F + (gy % 28) * 28 + gx % 28];
            int want = (int)lrintf(v * 255.0f);
            int ok = abs(p[0] - want) <= 1 && p[1] == p[0] && p[2] == p[0] && p[3] == 255;
            if (!ok && bad_rgba++ < 3)
                fprintf(stderr, "rgba8 (%u,%u) image %u: %u %u %u %u, CPU %.4f (%d)\n", xx, y, i,
                        p[0], p[1], p[2], p[3], v, want);
        }
    CHECK(bad_rgba == 0, "%d RGBA8 pixels differ from the CPU decode by more than one level",
          bad_rgba);
    CHECK(bad_clear == 0, "%d RGBA8 pixels outside the grid lost the clear colour", bad_clear);

    const float *pf = r32_host.mapped;
    double worst = 0;
    int bad_r32_clear = 0;
    for (uint32_t y = 0; y < r32.height; y++)
        for (uint32_t xx = 0; xx < r32.width; xx++) {
            float v = pf[(size_t)y * r32.width + xx];
            uint32_t i = (y / (28 * S2)) * COLS2 + xx / (28 * S2);
            if (xx >= COLS2 * 28 * S2 || y >= rows2 * 28 * S2 || i >= N2) {
                bad_r32_clear += v != -1.0f;
                continue;
            }
            float want = ref[(size_t)i * F + (y % (28 * S2)) / S2 * 28 + (xx % (28 * S2)) / S2];
            double d = fabs((double)v - want);
            worst = d > worst || isnan(d) ? (isnan(d) ? INFINITY : d) : worst;
        }
    CHECK(worst <= 1e-4, "R32F image vs CPU decode: max abs error %.3g", worst);
    CHECK(bad_r32_clear == 0, "%d R32F pixels outside the grid changed", bad_r32_clear);

    float ref_up[NUP * 784], ref_c[NC * 784], ref_s[NS * 784], mu[NE * 20], lv[NE * 20];
    OK(vkvae_model_decode(cpu, zup, NULL, NUP, ref_up, &err));
    double d_up = max_abs_diff(out_up.mapped, ref_up, (size_t)NUP * F);
    CHECK(d_up <= 1e-4, "uploaded latents: max abs error %.3g", d_up);
    OK(vkvae_model_decode(cvae_cpu, zc, labels, NC, ref_c, &err));
    double d_c = max_abs_diff((const float *)((char *)out_c.mapped + 64), ref_c, (size_t)NC * F);
    CHECK(d_c <= 1e-4, "conditional decode with labels: max abs error %.3g", d_c);
    OK(vkvae_model_sample(cpu, 42, 0, NS, ref_s, &err));
    double d_s = max_abs_diff(out_s.mapped, ref_s, (size_t)NS * F);
    CHECK(d_s <= 1e-4, "sample, seed 42: max abs error %.3g", d_s);
    OK(vkvae_model_encode(cpu, x, NULL, NE, mu, lv, &err));
    double d_mu = max_abs_diff(enc_mu.mapped, mu, (size_t)NE * L);
    double d_lv = max_abs_diff(enc_lv.mapped, lv, (size_t)NE * L);
    CHECK(d_mu <= 1e-4 && d_lv <= 1e-4, "encode: mu %.3g, logvar %.3g", d_mu, d_lv);
    float *ref_conv = malloc((size_t)NUP * CF * 4);
    OK(vkvae_model_decode(conv_cpu, zconv, NULL, NUP, ref_conv, &err));
    double d_conv = max_abs_diff(out_conv.mapped, ref_conv, (size_t)NUP * CF);
    CHECK(d_conv <= 1e-4, "vae_conv decode: max abs error %.3g", d_conv);
    free(ref_conv);
    free(zconv);
    /* The labels must matter, or the conditional check proves little. */
    float other[784];
    uint32_t one = (labels[0] + 1) % 10;
    OK(vkvae_model_decode(cvae_cpu, zc, &one, 1, other, &err));
    CHECK(max_abs_diff(other, ref_c, F) > 1e-3, "another label decodes the same image");
    printf("rgba8 %ux%u, r32f %ux%u; max abs errors: r32f %.2g, uploaded %.2g, conditional %.2g, "
           "sample %.2g, encode %.2g/%.2g, vae_conv %.2g\n",
           rgba.width, rgba.height, r32.width, r32.height, worst, d_up, d_c, d_s, d_mu, d_lv,
           d_conv);

    /* A VQ-VAE through the same API: its latent is z_e (16 values at 7x7
     * positions), it has no prior of its own, and on the adopted device it
     * encodes and decodes (each z_e quantised to its nearest codes) as the
     * CPU backend does. */
    {
        vkvae_model *vq = NULL, *vq_cpu = NULL;
        OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "vqvae_conv",
                                                  .init_seed = 4},
                              &vq, &err));
        OK(vkvae_model_create(&(vkvae_model_desc){.name = "vqvae_conv", .init_seed = 4},
                              &vq_cpu, &err));
        vkvae_model_info vi = vkvae_model_query(vq);
        CHECK(vi.latent == 784 && !vi.has_prior && vi.height == 28,
              "vqvae_conv: latent %u (z_e), prior %d", vi.latent, vi.has_prior);
        enum { NQ = 3 };
        static float ximg[NQ * 784], ze[NQ * 784], ze_cpu[NQ * 784], img[NQ * 784],
            img_cpu[NQ * 784];
        for (size_t i = 0; i < NQ * 784; i++)
            ximg[i] = (float)((i * 37) % 256) / 255.0f;
        OK(vkvae_model_encode(vq, ximg, NULL, NQ, ze, NULL, &err));
        OK(vkvae_model_encode(vq_cpu, ximg, NULL, NQ, ze_cpu, NULL, &err));
        OK(vkvae_model_decode(vq, ze_cpu, NULL, NQ, img, &err));
        OK(vkvae_model_decode(vq_cpu, ze_cpu, NULL, NQ, img_cpu, &err));
        double d_ze = max_abs_diff(ze, ze_cpu, NQ * 784), d_img = max_abs_diff(img, img_cpu,
                                                                               NQ * 784);
        CHECK(d_ze <= 1e-4 && d_img <= 1e-4, "vqvae_conv: encode %.3g, decode %.3g", d_ze,
              d_img);
        printf("vqvae_conv through the API: max abs errors encode %.2g, decode %.2g\n", d_ze,
               d_img);
        vkvae_model_destroy(vq);
        vkvae_model_destroy(vq_cpu);
    }

    /* ---- teardown: vkvae first, then what the application owns ---- */
    vkvae_image_destroy(target_rgba);
    vkvae_image_destroy(target_r32);
    vkvae_model_destroy(model);
    vkvae_model_destroy(cpu);
    vkvae_model_destroy(cvae);
    vkvae_model_destroy(cvae_cpu);
    vkvae_model_destroy(conv);
    vkvae_model_destroy(conv_cpu);
    vkvae_context_destroy(ctx);
    vkDestroyFence(a.device, fence, NULL);
    buffer *bufs[] = {&latents, &rgba_host, &r32_host, &out_up, &out_c, &out_s,
                      &enc_in, &enc_mu, &enc_lv, &cz, &out_conv, &conv_z};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        buffer_destroy(&a, bufs[i]);
    image_destroy(&a, &rgba);
    image_destroy(&a, &r32);
    vkDestroyCommandPool(a.device, a.pool, NULL);
    vkDestroyDevice(a.device, NULL);
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
        (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(a.instance,
                                                                   "vkDestroyDebugUtilsMessengerEXT");
    destroy_messenger(a.instance, a.messenger, NULL);
    vkDestroyInstance(a.instance, NULL);
    free(z);
    free(x);
    free(ref);
    CHECK(messages == 0, "%u validation messages", messages);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
