/* latent_walk: decoded samples morphing along a smooth walk through a VAE's
 * latent space, in a window, at interactive rates.
 *
 * It is an application that embeds vkvae the way BRIEF §1's graphics
 * programmer would: it owns the Vulkan instance, device, queue, swapchain,
 * command buffers, the RGBA8 image and the graphics pipeline (gfx.c), hands
 * its device to vkvae (vkvae_context_desc.adopt), and each frame records,
 * into ONE command buffer,
 *
 *   vkvae_record_decode   the walkers' codes (a host-visible buffer of its
 *                         own, one per frame in flight) -> the storage image,
 *                         one grid cell per walker
 *   its render pass       a fullscreen triangle samples that image (nearest)
 *                         into the swapchain image
 *
 * then submits and presents. The walk itself (walk.c) keeps every code a
 * draw from the prior N(0, I).
 *
 * Headless runs (--frames/--seconds with --screenshot) render the same way
 * and write what the window showed as PNG: tests run it under xvfb-run on
 * lavapipe. With VKVAE_VALIDATION=1 the Khronos layer (synchronization
 * validation included) watches the application and vkvae together, and any
 * message makes the exit status 10.
 *
 * Exit status: 0 done, 1 error, 2 bad usage, 3 no display, 10 validation
 * messages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfx.h"
#include "io/png.h" /* libvkvae's PNG writer (exported, not in vkvae.h) */
#include "vkvae.h"
#include "walk.h"

static const char usage[] =
    "usage: latent_walk [CHECKPOINT | --model NAME] [options]\n"
    "\n"
    "  CHECKPOINT          a checkpoint from `vkvae train` (default\n"
    "                      runs/quick/checkpoint.safetensors, the README's first command)\n"
    "  --model NAME        a built-in model with freshly initialised weights instead\n"
    "  --grid N            N x N walkers (default 3)\n"
    "  --seed S            seed of the walk and of --model's weights (default 1)\n"
    "  --class K           class of a conditional model (default 0)\n"
    "  --speed X           walk speed; at 1 the slowest turn takes 8 s (default 1)\n"
    "  --device D          Vulkan device index or name substring (default $VKVAE_DEVICE, else\n"
    "                      the best that can present)\n"
    "  --precision P       fp32 (default) or fp16: the decoder's matrix products in fp16, on\n"
    "                      a device with shaderFloat16 (the window enables it for vkvae)\n"
    "  --size WxH          window size (default: the grid magnified to about 600 pixels)\n"
    "  --no-vsync          present without waiting for the display\n"
    "\n"
    "headless runs (screenshots, tests):\n"
    "  --frames N          render N frames, then exit; the walk advances 1/60 s a frame\n"
    "  --seconds S         render for S seconds of wall time, then exit\n"
    "  --screenshot PATH   write the window's last frame as PNG\n"
    "  --screenshot-at F PATH  write frame F (1 = the first) as PNG; repeatable\n"
    "  --decoded PATH      write the last frame's decoded image (vkvae's output) as PNG\n"
    "  --press F KEYS      act as if KEYS were typed before frame F; repeatable\n"
    "\n"
    "keys: space pause, R reseed, C next class, 0-9 class, + / - speed, Esc quit\n";

enum { MAX_SHOTS = 16, MAX_PRESSES = 16 };

typedef struct shot {
    uint64_t frame;          /* 0: the last frame */
    const char *path;
    int decoded;             /* the decoded image rather than the window */
} shot;

typedef struct press {
    uint64_t frame;
    const char *keys;
} press;

typedef struct options {
    const char *checkpoint, *model, *device;
    uint32_t grid, seed, label, width, height;
    double speed, seconds;
    uint64_t frames;
    int vsync, fp16;
    shot shots[MAX_SHOTS];
    int shot_count;
    press presses[MAX_PRESSES];
    int press_count;
} options;

/* What the keys change. */
typedef struct state {
    walk walk;
    uint32_t seed, reseeds, label, classes;
    double speed;
    int paused;
} state;

static int parse_u32(const char *flag, const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    unsigned long x = v ? strtoul(v, &end, 10) : 0;
    if (!v || !*v || *end || x < lo || x > hi) {
        fprintf(stderr, "latent_walk: %s expects an integer in %u..%u, got '%s'\n", flag, lo, hi,
                v ? v : "");
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

static int parse_positive(const char *flag, const char *v, double *out)
{
    char *end = NULL;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !(x > 0) || !(x < 1e6)) {
        fprintf(stderr, "latent_walk: %s expects a positive number, got '%s'\n", flag,
                v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int add_shot(options *o, uint64_t frame, const char *path, int decoded)
{
    if (o->shot_count == MAX_SHOTS) {
        fprintf(stderr, "latent_walk: at most %d screenshots\n", MAX_SHOTS);
        return -1;
    }
    o->shots[o->shot_count++] = (shot){frame, path, decoded};
    return 0;
}

/* 0: run; 1: printed help; -1: bad usage (message printed). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.grid = 3, .seed = 1, .speed = 1.0, .vsync = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (a[0] != '-') {
            if (o->checkpoint) {
                fprintf(stderr, "latent_walk: unexpected argument '%s'\n", a);
                return -1;
            }
            o->checkpoint = a;
            continue;
        }
        if (strcmp(a, "--no-vsync") == 0) {
            o->vsync = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "latent_walk: %s needs a value\n", a);
            return -1;
        }
        i++;
        uint32_t u = 0;
        int bad = 0;
        if (strcmp(a, "--model") == 0)
            o->model = v;
        else if (strcmp(a, "--device") == 0)
            o->device = v;
        else if (strcmp(a, "--precision") == 0) {
            o->fp16 = strcmp(v, "fp16") == 0;
            if (!o->fp16 && strcmp(v, "fp32") != 0) {
                fprintf(stderr, "latent_walk: --precision '%s': expected fp32 or fp16\n", v);
                return -1;
            }
        } else if (strcmp(a, "--grid") == 0)
            bad = parse_u32(a, v, 1, 32, &o->grid);
        else if (strcmp(a, "--seed") == 0)
            bad = parse_u32(a, v, 0, UINT32_MAX, &o->seed);
        else if (strcmp(a, "--class") == 0)
            bad = parse_u32(a, v, 0, 1u << 20, &o->label);
        else if (strcmp(a, "--speed") == 0)
            bad = parse_positive(a, v, &o->speed);
        else if (strcmp(a, "--seconds") == 0)
            bad = parse_positive(a, v, &o->seconds);
        else if (strcmp(a, "--frames") == 0) {
            bad = parse_u32(a, v, 1, UINT32_MAX, &u);
            o->frames = u;
        } else if (strcmp(a, "--size") == 0) {
            unsigned w = 0, h = 0;
            char tail = 0;
            if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 16384 ||
                h > 16384) {
                fprintf(stderr, "latent_walk: --size expects WxH (16..16384), got '%s'\n", v);
                return -1;
            }
            o->width = w;
            o->height = h;
        } else if (strcmp(a, "--screenshot") == 0)
            bad = add_shot(o, 0, v, 0);
        else if (strcmp(a, "--decoded") == 0)
            bad = add_shot(o, 0, v, 1);
        else if (strcmp(a, "--screenshot-at") == 0 || strcmp(a, "--press") == 0) {
            int is_shot = a[2] == 's';
            if (i + 1 >= argc) {
                fprintf(stderr, "latent_walk: %s needs a frame and %s\n", a,
                        is_shot ? "a path" : "keys");
                return -1;
            }
            bad = parse_u32(a, v, 1, UINT32_MAX, &u);
            if (!bad && is_shot)
                bad = add_shot(o, u, argv[++i], 0);
            else if (!bad && o->press_count == MAX_PRESSES) {
                fprintf(stderr, "latent_walk: at most %d --press\n", MAX_PRESSES);
                bad = 1;
            } else if (!bad)
                o->presses[o->press_count++] = (press){u, argv[++i]};
        } else {
            fprintf(stderr, "latent_walk: unknown option '%s' (--help lists them)\n", a);
            return -1;
        }
        if (bad)
            return -1;
    }
    if (o->checkpoint && o->model) {
        fprintf(stderr, "latent_walk: give a checkpoint or --model, not both\n");
        return -1;
    }
    if (o->frames && o->seconds) {
        fprintf(stderr, "latent_walk: give --frames or --seconds, not both\n");
        return -1;
    }
    if (o->shot_count && !o->frames && !o->seconds) {
        fprintf(stderr, "latent_walk: screenshots need --frames or --seconds\n");
        return -1;
    }
    for (int i = 0; i < o->shot_count; i++)
        if (o->frames && o->shots[i].frame > o->frames) {
            fprintf(stderr, "latent_walk: --screenshot-at %llu is past --frames %llu\n",
                    (unsigned long long)o->shots[i].frame, (unsigned long long)o->frames);
            return -1;
        }
    if (!o->checkpoint && !o->model)
        o->checkpoint = "runs/quick/checkpoint.safetensors";
    return 0;
}

static void on_glfw_error(int code, const char *message)
{
    fprintf(stderr, "latent_walk: GLFW error 0x%x: %s\n", (unsigned)code, message);
}

/* One typed character: the keyboard (on_char) and --press both come here. */
static void apply_key(state *s, unsigned int c)
{
    if (c == ' ')
        s->paused = !s->paused;
    else if (c == 'r' || c == 'R')
        walk_reseed(&s->walk, (uint64_t)s->seed + ++s->reseeds);
    else if ((c == 'c' || c == 'C') && s->classes)
        s->label = (s->label + 1) % s->classes;
    else if (c >= '0' && c <= '9' && c - '0' < s->classes)
        s->label = c - '0';
    else if ((c == '+' || c == '=') && s->speed < 64)
        s->speed *= 1.25;
    else if (c == '-' && s->speed > 1.0 / 64)
        s->speed /= 1.25;
}

static void on_char(GLFWwindow *window, unsigned int c)
{
    apply_key(glfwGetWindowUserPointer(window), c);
}

static void on_key(GLFWwindow *window, int key, int scancode, int action, int mods)
{
    (void)scancode;
    (void)mods;
    if (key == GLFW_KEY_ESCAPE && action == GLFW_PRESS)
        glfwSetWindowShouldClose(window, GLFW_TRUE);
}

static int on_resize_flag;

static void on_resize(GLFWwindow *window, int w, int h)
{
    (void)window;
    (void)w;
    (void)h;
    on_resize_flag = 1;
}

/* Writes a readback (4 bytes a pixel, RGBA or BGRA) as an RGB PNG. */
static int write_png(const char *path, const gfx_readback *r)
{
    size_t n = (size_t)r->width * r->height;
    uint8_t *rgb = malloc(n * 3);
    if (!rgb) {
        fprintf(stderr, "latent_walk: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = r->mapped + i * 4;
        rgb[i * 3 + 0] = p[r->bgra ? 2 : 0];
        rgb[i * 3 + 1] = p[1];
        rgb[i * 3 + 2] = p[r->bgra ? 0 : 2];
    }
    vkvae_error err = {0};
    vkvae_status st = vkvae_png_write(path, r->width, r->height, 3, rgb, &err);
    free(rgb);
    if (st != VKVAE_OK) {
        fprintf(stderr, "latent_walk: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void update_title(GLFWwindow *window, const char *model, const options *o,
                         const state *s, double ms)
{
    char title[256], cls[32] = "";
    if (s->classes)
        snprintf(cls, sizeof cls, " | class %u", s->label);
    snprintf(title, sizeof title, "vkvae latent_walk | %s | %ux%u | %.2f ms/frame (%.0f fps)%s"
             " | speed %.2f%s", model, o->grid, o->grid, ms, ms > 0 ? 1000.0 / ms : 0.0, cls,
             s->speed, s->paused ? " | paused" : "");
    glfwSetWindowTitle(window, title);
}

typedef struct app {
    options opt;
    gfx g;
    vkvae_context *ctx;
    vkvae_model *model;
    vkvae_image *target;
    vkvae_model_info info;
    state st;
    GLFWwindow *window;
} app;

/* Records, submits and presents one frame, and writes the screenshots that
 * take[i] selects from opt.shots. Returns 0 when drawn, 1 when not drawn
 * because the swapchain is out of date, 2 when drawn but the swapchain
 * should be rebuilt, -1 on failure. */
static int frame(app *a, uint64_t index, double t, const int *take)
{
    gfx *g = &a->g;
    gfx_frame *f = &g->frames[index % GFX_FRAMES];
    VkResult r = vkWaitForFences(g->device, 1, &f->fence, VK_TRUE, 10ull * 1000 * 1000 * 1000);
    if (r != VK_SUCCESS) {
        fprintf(stderr, "latent_walk: a frame did not finish in 10 s (%d)\n", (int)r);
        return -1;
    }
    uint32_t image = 0;
    r = vkAcquireNextImageKHR(g->device, g->swapchain, 10ull * 1000 * 1000 * 1000, f->acquired,
                              VK_NULL_HANDLE, &image);
    if (r == VK_ERROR_OUT_OF_DATE_KHR)
        return 1; /* nothing waits on f->acquired, and the fence stays signalled */
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) {
        fprintf(stderr, "latent_walk: vkAcquireNextImageKHR failed (%d)\n", (int)r);
        return -1;
    }

    /* The fence said the GPU is done with this frame's latents: rewrite
     * them. Host writes before vkQueueSubmit need no barrier. */
    walk_eval(&a->st.walk, t, f->latents_mapped);

    gfx_readback rb[MAX_SHOTS] = {{0}};
    for (int i = 0; i < a->opt.shot_count; i++)
        if (take[i]) {
            uint32_t w = a->opt.shots[i].decoded ? g->image_width : g->extent.width;
            uint32_t h = a->opt.shots[i].decoded ? g->image_height : g->extent.height;
            if (gfx_readback_create(g, &rb[i], w, h))
                return -1;
        }

    vkResetFences(g->device, 1, &f->fence);
    vkResetCommandBuffer(f->cb, 0);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkBeginCommandBuffer(f->cb, &bi);
    vkvae_error err = {0};
    uint32_t walkers = a->opt.grid * a->opt.grid;
    vkvae_decode_desc dd = {
        .count = walkers,
        .latents = f->latents,
        .label = a->st.classes ? a->st.label : 0,
        .output = {.image = a->target, .columns = a->opt.grid},
        /* The previous frame's draw sampled the image: vkvae's first
         * barrier must wait for it before overwriting (write after read). */
        .src = {VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, 0},
        /* Our draw samples it; a screenshot may copy it. */
        .dst = {VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT},
    };
    if (vkvae_record_decode(a->model, f->cb, &dd, &err) != VKVAE_OK) {
        fprintf(stderr, "latent_walk: %s\n", err.message);
        return -1;
    }
    gfx_record_draw(g, f->cb, image);
    for (int i = 0; i < a->opt.shot_count; i++)
        if (take[i] && a->opt.shots[i].decoded)
            gfx_record_copy_decoded(g, f->cb, &rb[i]);
        else if (take[i])
            gfx_record_copy_swapchain(g, f->cb, image, &rb[i]);
    vkEndCommandBuffer(f->cb);

    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .waitSemaphoreCount = 1,
                       .pWaitSemaphores = &f->acquired,
                       .pWaitDstStageMask = &wait_stage,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &f->cb,
                       .signalSemaphoreCount = 1,
                       .pSignalSemaphores = &g->rendered[image]};
    r = vkQueueSubmit(g->queue, 1, &si, f->fence);
    if (r != VK_SUCCESS) {
        fprintf(stderr, "latent_walk: vkQueueSubmit failed (%d)\n", (int)r);
        return -1;
    }
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
                           .waitSemaphoreCount = 1,
                           .pWaitSemaphores = &g->rendered[image],
                           .swapchainCount = 1,
                           .pSwapchains = &g->swapchain,
                           .pImageIndices = &image};
    r = vkQueuePresentKHR(g->queue, &pi);
    int rebuild = r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR;
    if (r != VK_SUCCESS && !rebuild) {
        fprintf(stderr, "latent_walk: vkQueuePresentKHR failed (%d)\n", (int)r);
        return -1;
    }

    int failed = 0;
    for (int i = 0; i < a->opt.shot_count; i++)
        if (take[i]) {
            if (!failed) {
                r = vkWaitForFences(g->device, 1, &f->fence, VK_TRUE,
                                    10ull * 1000 * 1000 * 1000);
                if (r != VK_SUCCESS) {
                    fprintf(stderr, "latent_walk: the screenshot frame did not finish (%d)\n",
                            (int)r);
                    failed = 1;
                } else if (write_png(a->opt.shots[i].path, &rb[i]))
                    failed = 1;
                else
                    printf("latent_walk: frame %llu -> %s (%ux%u)\n",
                           (unsigned long long)index + 1, a->opt.shots[i].path, rb[i].width,
                           rb[i].height);
            }
            /* After the fence wait (or a failure, after the device is idle). */
            if (failed)
                vkDeviceWaitIdle(g->device);
            gfx_readback_destroy(g, &rb[i]);
        }
    return failed ? -1 : rebuild ? 2 : 0;
}

static int run(app *a)
{
    const options *o = &a->opt;
    double start = glfwGetTime(), last = start, title_at = start, t = 0;
    uint64_t frames = 0, title_frames = 0, pressed = 0;
    int written[MAX_SHOTS] = {0};
    while (!glfwWindowShouldClose(a->window)) {
        glfwPollEvents();
        int fw = 0, fh = 0;
        glfwGetFramebufferSize(a->window, &fw, &fh);
        if (fw == 0 || fh == 0) { /* minimised: nothing to draw into */
            glfwWaitEvents();
            continue;
        }
        if (on_resize_flag) {
            on_resize_flag = 0;
            if (gfx_recreate_swapchain(&a->g))
                return -1;
        }
        for (int i = 0; i < o->press_count && frames + 1 > pressed; i++)
            if (o->presses[i].frame == frames + 1)
                for (const char *k = o->presses[i].keys; *k; k++)
                    apply_key(&a->st, (unsigned char)*k);
        pressed = frames + 1; /* once, even if the frame is drawn again */
        double now = glfwGetTime();
        /* Headless --frames runs advance a fixed 1/60 s a frame, so the
         * same arguments give the same pictures on any machine. */
        double dt = o->frames ? 1.0 / 60.0 : (now - last < 0.1 ? now - last : 0.1);
        last = now;
        double t_frame = a->st.paused ? t : t + dt * a->st.speed;
        int is_last = (o->frames && frames + 1 == o->frames) ||
                      (o->seconds && now - start >= o->seconds);
        int take[MAX_SHOTS] = {0};
        for (int i = 0; i < o->shot_count; i++)
            take[i] = o->shots[i].frame ? o->shots[i].frame == frames + 1 : is_last;
        int r = frame(a, frames, t_frame, take);
        if (r < 0)
            return -1;
        if (r > 0 && gfx_recreate_swapchain(&a->g))
            return -1;
        if (r == 1) /* not drawn: draw it again on the new swapchain */
            continue;
        t = t_frame;
        for (int i = 0; i < o->shot_count; i++)
            written[i] |= take[i];
        frames++;
        title_frames++;
        if (now - title_at >= 0.5) {
            update_title(a->window, a->info.name, o, &a->st,
                         1000.0 * (now - title_at) / (double)title_frames);
            title_at = now;
            title_frames = 0;
        }
        if (is_last)
            break;
    }
    double elapsed = glfwGetTime() - start;
    if (o->frames || o->seconds)
        printf("latent_walk: %llu frames in %.2f s (%.2f ms/frame) on %s\n",
               (unsigned long long)frames, elapsed,
               frames ? 1000.0 * elapsed / (double)frames : 0.0, a->g.props.deviceName);
    for (int i = 0; i < o->shot_count; i++)
        if (!written[i]) {
            fprintf(stderr, "latent_walk: the window closed before %s was written\n",
                    o->shots[i].path);
            return -1;
        }
    return 0;
}

static int setup(app *a)
{
    const options *o = &a->opt;
    vkvae_error err = {0};
    vkvae_vulkan_device dev = {.get_instance_proc_addr = vkGetInstanceProcAddr,
                               .instance = a->g.instance,
                               .physical_device = a->g.physical,
                               .device = a->g.device,
                               .queue_family = a->g.family,
                               .queue = a->g.queue};
    vkvae_precision precision = o->fp16 ? VKVAE_PRECISION_FP16 : VKVAE_PRECISION_FP32;
    if (vkvae_context_create(&(vkvae_context_desc){.adopt = dev, .precision = precision}, &a->ctx,
                             &err) != VKVAE_OK ||
        vkvae_model_create(&(vkvae_model_desc){.context = a->ctx,
                                               .checkpoint = o->checkpoint,
                                               .name = o->model,
                                               .init_seed = o->seed},
                           &a->model, &err) != VKVAE_OK ||
        vkvae_image_create(a->model,
                           &(vkvae_image_desc){a->g.image_view, VK_FORMAT_R8G8B8A8_UNORM},
                           &a->target, &err) != VKVAE_OK) {
        fprintf(stderr, "latent_walk: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void teardown(app *a)
{
    if (a->g.device)
        vkDeviceWaitIdle(a->g.device);
    /* vkvae first (the GPU is idle), then what the application owns. */
    vkvae_image_destroy(a->target);
    vkvae_model_destroy(a->model);
    if (a->ctx)
        vkvae_context_destroy(a->ctx);
    gfx_destroy(&a->g);
    walk_free(&a->st.walk);
    if (a->window)
        glfwDestroyWindow(a->window);
    glfwTerminate();
}

/* The model's image size decides the window's, and the window must exist
 * before the device (it must present to it): a first look at the model
 * on the CPU backend reads its shape without any Vulkan. */
static int model_shape(const options *o, vkvae_model_info *info)
{
    if (o->checkpoint) {
        FILE *f = fopen(o->checkpoint, "rb");
        if (!f) {
            fprintf(stderr, "latent_walk: cannot open %s; train one with\n"
                            "  build/vkvae train vae_mlp --epochs 1 --out runs/quick\n"
                            "or walk an untrained built-in model: --model vae_mlp\n",
                    o->checkpoint);
            return -1;
        }
        fclose(f);
    }
    vkvae_error err = {0};
    vkvae_model *cpu = NULL;
    if (vkvae_model_create(&(vkvae_model_desc){.checkpoint = o->checkpoint, .name = o->model,
                                               .init_seed = o->seed},
                           &cpu, &err) != VKVAE_OK) {
        fprintf(stderr, "latent_walk: %s\n", err.message);
        if (o->model) {
            fprintf(stderr, "latent_walk: built-in models:");
            for (uint32_t i = 0; vkvae_model_name(i); i++)
                fprintf(stderr, " %s", vkvae_model_name(i));
            fputc('\n', stderr);
        }
        return -1;
    }
    *info = vkvae_model_query(cpu);
    /* info->name lives as long as the model, which goes now. */
    static char name[128];
    snprintf(name, sizeof name, "%s", info->name);
    info->name = name;
    vkvae_model_destroy(cpu);
    return 0;
}

int main(int argc, char **argv)
{
    app a = {0};
    int pr = parse_args(argc, argv, &a.opt);
    if (pr)
        return pr > 0 ? 0 : 2;
    const options *o = &a.opt;
    if (model_shape(o, &a.info))
        return 1;
    if (a.info.classes && o->label >= a.info.classes) {
        fprintf(stderr, "latent_walk: --class %u is out of range: %s has %u classes\n", o->label,
                a.info.name, a.info.classes);
        return 2;
    }
    if (!a.info.has_prior)
        fprintf(stderr, "latent_walk: note: %s has no prior; its codes need not look like "
                        "N(0, I) draws, so the walk may decode to noise\n", a.info.name);

    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) {
        fprintf(stderr, "latent_walk: no display: GLFW could not connect to a window system "
                        "(is DISPLAY set? try xvfb-run -a)\n");
        return 3;
    }
    if (!glfwVulkanSupported()) {
        fprintf(stderr, "latent_walk: GLFW found no Vulkan loader (libvulkan1)\n");
        glfwTerminate();
        return 1;
    }
    uint32_t iw = a.info.width * o->grid, ih = a.info.height * o->grid;
    uint32_t k = 600 / (iw > ih ? iw : ih);
    k = k ? k : 1;
    int ww = (int)(o->width ? o->width : iw * k), wh = (int)(o->height ? o->height : ih * k);
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    a.window = glfwCreateWindow(ww, wh, "vkvae latent_walk", NULL, NULL);
    if (!a.window) {
        fprintf(stderr, "latent_walk: no display: could not create a %dx%d window\n", ww, wh);
        glfwTerminate();
        return 3;
    }

    const char *validation = getenv("VKVAE_VALIDATION");
    const char *device = o->device ? o->device : getenv("VKVAE_DEVICE");
    if (device && strcmp(device, "vulkan") == 0)
        device = NULL; /* vkvae's name for the preferred device, which we pick below too */
    int status = 1;
    a.st = (state){.seed = o->seed, .label = o->label, .classes = a.info.classes,
                   .speed = o->speed};
    if (walk_init(&a.st.walk, o->grid * o->grid, a.info.latent, o->seed)) {
        fprintf(stderr, "latent_walk: out of memory\n");
        goto done;
    }
    if (gfx_create(&a.g, &(gfx_desc){.window = a.window,
                                     .device = device,
                                     .validation = validation && strcmp(validation, "1") == 0,
                                     .vsync = o->vsync,
                                     .fp16 = o->fp16,
                                     .image_width = iw,
                                     .image_height = ih,
                                     .latent_floats = o->grid * o->grid * a.info.latent}))
        goto done;
    if (setup(&a))
        goto done;
    glfwSetWindowUserPointer(a.window, &a.st);
    glfwSetCharCallback(a.window, on_char);
    glfwSetKeyCallback(a.window, on_key);
    glfwSetFramebufferSizeCallback(a.window, on_resize);
    if (!o->frames && !o->seconds)
        printf("latent_walk: %s (%s) on %s: %u walkers, %u latent dimensions%s%s\n"
               "keys: space pause, R reseed, %s+ / - speed, Esc quit\n",
               a.info.name, o->checkpoint ? o->checkpoint : "untrained", a.g.props.deviceName,
               o->grid * o->grid, a.info.latent, a.info.classes ? ", conditional" : "",
               o->fp16 ? ", fp16 products" : "", a.info.classes ? "C / 0-9 class, " : "");
    status = run(&a) ? 1 : 0;
done:
    teardown(&a);
    if (a.g.messages) {
        fprintf(stderr, "latent_walk: %u validation message(s)\n", a.g.messages);
        return 10;
    }
    return status;
}
