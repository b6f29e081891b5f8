/* vkvae: variational autoencoders that train and sample on any Vulkan GPU.
 *
 * The public C API. Conventions (sokol-style):
 *  - desc structs are filled with designated initialisers; a zero field
 *    means "the default" (each default is in the field's comment);
 *  - every fallible call returns a vkvae_status and, given a vkvae_error,
 *    fills it with a one-line message; nothing calls abort() or exit();
 *  - there is no global state: everything hangs off a vkvae_context;
 *  - an application may hand in its own Vulkan device (vkvae_vulkan_device)
 *    and record decoding into its own command buffers (vkvae_record_*);
 *    docs/api.md is the guide, with the synchronization rules in full.
 *
 * Vulkan types come from <vulkan/vulkan_core.h>, included as the
 * application has set it up: with or without VK_NO_PROTOTYPES (volk
 * users define it), vkvae works either way, since libvkvae loads Vulkan
 * through its own private copy of volk and exports no vk* symbol.
 */
#ifndef VKVAE_H
#define VKVAE_H

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan_core.h>

#include "error.h"
#include "group.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vkvae_context vkvae_context;

typedef enum vkvae_device_type {
    VKVAE_DEVICE_OTHER,
    VKVAE_DEVICE_INTEGRATED,
    VKVAE_DEVICE_DISCRETE,
    VKVAE_DEVICE_VIRTUAL,
    VKVAE_DEVICE_CPU,
} vkvae_device_type;

/* What `vkvae info` shows of one Vulkan physical device. */
typedef struct vkvae_device_info {
    char name[256];
    vkvae_device_type type;
    char driver_name[256];
    char driver_info[256];
    uint32_t api_version;            /* VK_MAKE_API_VERSION encoded */
    uint32_t driver_version;
    uint32_t vendor_id, device_id;
    uint32_t heap_count;
    uint64_t heap_size[16];
    int heap_device_local[16];
    int unified_memory;              /* device-local memory is host-visible */
    uint32_t subgroup_size, subgroup_min, subgroup_max;
    uint32_t max_shared_memory;      /* bytes per workgroup */
    uint32_t max_invocations;        /* per workgroup */
    uint32_t max_workgroup_size[3];
    uint64_t max_storage_buffer_range;
    int fp16, int8, storage16, subgroup_arithmetic, cooperative_matrix;
    int subgroup_shuffle;            /* basic + shuffle subgroup ops in compute shaders */
    float timestamp_period_ns;       /* 0: no timestamps on the compute queue */
    uint32_t max_push_constants;     /* bytes */
    uint32_t max_workgroup_count[3]; /* workgroups per dispatch, per dimension */
    char limits[16];                 /* "": the device's own limits; else the $VKVAE_LIMITS
                                        clamp ("minimum", "mali") applied to the above */
} vkvae_device_info;

/* Receives each validation message (after it is counted). */
typedef void (*vkvae_message_fn)(const char *message, void *user);

/* An application's Vulkan objects for a context to adopt instead of
 * creating its own (docs/api.md, "Adopted-device rules"). vkvae never
 * destroys them; the application destroys them after the context. */
typedef struct vkvae_vulkan_device {
    PFN_vkGetInstanceProcAddr get_instance_proc_addr; /* the application's loader entry point;
                                                         vkvae loads every function through it */
    VkInstance instance;             /* created with apiVersion >= VK_API_VERSION_1_1 */
    VkPhysicalDevice physical_device;
    VkDevice device;                 /* no features or extensions needed, but
                                        shaderFloat16 for VKVAE_PRECISION_FP16 */
    uint32_t queue_family;           /* must have VK_QUEUE_COMPUTE_BIT; record into command
                                        buffers of this family */
    VkQueue queue;                   /* of queue_family: where vkvae's own uploads and the
                                        host conveniences submit (and wait) */
} vkvae_vulkan_device;

/* The arithmetic of the matrix products (dense layers, and convolutions
 * wide enough for the implicit product; docs/api.md, "Precision"). */
typedef enum vkvae_precision {
    VKVAE_PRECISION_FP32, /* fp32 throughout */
    VKVAE_PRECISION_FP16, /* operands rounded to fp16, products summed in fp16 over tiles of
                             8 and the tiles in fp32; buffers, losses and the optimizer stay
                             fp32. Needs the device's shaderFloat16 */
} vkvae_precision;

typedef struct vkvae_context_desc {
    vkvae_vulkan_device adopt; /* .device set: adopt these objects (the fields below but
                                  timeout_ns and precision are then ignored: validation is the
                                  application's affair); zero: create our own */
    const char *device;      /* device index or name substring; NULL: $VKVAE_DEVICE, else the best */
    int validation;          /* 1: Khronos validation with synchronization validation;
                                0: on if $VKVAE_VALIDATION=1; -1: off */
    int quiet_validation;    /* 1: count validation messages without printing them; 0: print */
    uint64_t timeout_ns;     /* longest wait on one submission; 0: $VKVAE_TIMEOUT seconds,
                                else 60 s */
    vkvae_message_fn on_validation_message; /* also called during destroy; NULL: none */
    void *user;              /* passed to on_validation_message */
    vkvae_precision precision; /* FP32 (0); FP16 fails with UNSUPPORTED on a device without
                                  shaderFloat16, and an adopted device must have it enabled */
} vkvae_context_desc;

/* Creates the Vulkan instance and device and picks one compute queue, or
 * adopts the application's (desc->adopt.device set). */
vkvae_status vkvae_context_create(const vkvae_context_desc *desc, vkvae_context **out,
                                  vkvae_error *err);
/* Destroys what the context created and saves the pipeline cache. A
 * context that made its own device waits for it first; an adopted one does
 * not wait (the application's work may still be running): destroy its
 * models first, after the GPU has finished every command buffer that
 * recorded with them. */
void vkvae_context_destroy(vkvae_context *ctx);

/* The Vulkan objects the context uses (its own or the adopted ones), e.g.
 * to record vkvae_record_* calls on a device vkvae created. */
void vkvae_context_vulkan(const vkvae_context *ctx, vkvae_vulkan_device *out);
/* The precision the context was created with. */
vkvae_precision vkvae_context_precision(const vkvae_context *ctx);
/* 1 if the context adopted an application's device. */
int vkvae_context_adopted(const vkvae_context *ctx);

/* All Vulkan devices and the index of the one this context uses. */
const vkvae_device_info *vkvae_context_devices(const vkvae_context *ctx, uint32_t *count);
uint32_t vkvae_context_device_index(const vkvae_context *ctx);

/* Number of validation messages (warnings and errors) seen so far by the
 * context's own messenger (always 0 for an adopted device: the
 * application's messenger sees them). */
uint32_t vkvae_validation_message_count(const vkvae_context *ctx);

/* Lists the devices without creating one (what `vkvae info` prints when the
 * choice fails). *out is malloc'd; free() it. */
vkvae_status vkvae_devices_query(vkvae_device_info **out, uint32_t *count, vkvae_error *err);

/* Picks a device from a list: selector is an index ("1") or a
 * case-insensitive name substring ("llvm"); NULL, "" or "vulkan" picks the
 * best by type: discrete, integrated, virtual, CPU, other. Returns the index, or -1
 * with a message in err that lists the devices. */
int vkvae_device_choose(const vkvae_device_info *devices, uint32_t count, const char *selector,
                        vkvae_error *err);

const char *vkvae_device_type_name(vkvae_device_type t);

/* ---- Models --------------------------------------------------------------
 * A model is a trained (or freshly initialised) network on one backend: a
 * context's device, or the CPU. Its weights and working buffers live on the
 * device; record calls reuse those buffers, so one model's recordings must
 * execute one after another on the context's queue (they order themselves
 * with barriers, not against work on other queues), and a model is used from
 * one thread at a time. */
typedef struct vkvae_model vkvae_model;

typedef struct vkvae_model_desc {
    vkvae_context *context;   /* the device; NULL: the CPU backend (host calls only) */
    const char *checkpoint;   /* a checkpoint from `vkvae train`: its metadata names the
                                 model, its weights are loaded; NULL: none */
    const char *name;         /* a built-in model (vkvae_model_name); NULL: the checkpoint's.
                                 Given both, they must agree. A name alone gives freshly
                                 initialised weights (PyTorch's default init) */
    uint32_t init_seed;       /* seed of that initialisation; 0: the spec's training seed */
    uint32_t max_latents;     /* rows vkvae_model_upload_latents holds; 0: the model's batch */
    const char *spec;         /* a spec's text (docs/spec.md), compiled now, instead of a
                                 built-in model: a malformed one is BAD_INPUT with its first
                                 diagnostic (file "<spec>"); NULL: the name's, or the spec
                                 the checkpoint carries when no built-in model has its text */
    uint32_t batch;           /* rows per training step and per GPU pass; 0: the spec's (the
                                 plan is made for it) */
    uint32_t data_rows;       /* > 0: the model trains and evaluates (vkvae_model_set_data and
                                 friends, below), holding this many images on the device; a
                                 larger set streams through in chunks of whole batches, with
                                 the same results (give at least a batch). A checkpoint's
                                 optimizer state and epoch are loaded too.
                                 0: inference only (on a device, no training buffers) */
    const vkvae_group *group; /* data parallel (group.h): this process trains as one member
                                 of group, on its slice of each batch of `batch` rows (the
                                 global batch); every member creates its model alike and
                                 calls the training functions at the same points. NULL:
                                 alone. Only a model that trains (data_rows > 0) takes one */
} vkvae_model_desc;

typedef struct vkvae_model_info {
    const char *name;         /* the spec's model name (valid while the model lives) */
    uint32_t latent;          /* floats per latent code */
    uint32_t classes;         /* label classes of a conditional model; 0: unconditional */
    uint32_t channels, height, width; /* one image: channels*height*width floats, NCHW,
                                         values in [0, 1] (the likelihood's mean) */
    uint32_t batch;           /* rows per GPU pass: larger counts run in several passes */
    int has_prior;            /* sampling works (a plain autoencoder has no prior) */
    int on_gpu;               /* 0: the CPU backend */
    uint32_t seed;            /* the checkpoint's training seed, or the init seed */
    uint32_t max_latents;     /* capacity of vkvae_model_upload_latents, in rows */
    uint32_t data_rows;       /* the desc's: 0 for an inference-only model */
    uint32_t epoch;           /* epochs trained (the checkpoint's, then this model's) */
    uint32_t epoch_step;      /* steps of the next epoch already taken (after a stop) */
    uint64_t step;            /* optimizer steps taken */
    int on_images;            /* decode and sample read an image a row besides the code (a
                                 prior learned from a condition computed from the image, a
                                 VU-Net's shape): the _on_images calls */
} vkvae_model_info;

vkvae_status vkvae_model_create(const vkvae_model_desc *desc, vkvae_model **out,
                                vkvae_error *err);
/* Checks a spec's text as `vkvae check` does, without a device or a model:
 * VKVAE_OK when it compiles; BAD_INPUT for a malformed one, with every
 * diagnostic in *diagnostics as vkvae-gen prints them ("path:line:col:
 * error: message", the source line, a caret; then the count; free() it)
 * and the first in err; UNSUPPORTED, with the reason, for a spec that
 * checks but cannot be run yet. path names the spec in the diagnostics
 * (NULL: "<spec>"); size is text's bytes (0: strlen(text); a file read
 * whole may hold NUL bytes, which the check names); diagnostics may be
 * NULL. */
vkvae_status vkvae_spec_check(const char *path, const char *text, size_t size,
                              char **diagnostics, vkvae_error *err);
/* Frees the model's buffers and pipelines. The GPU must have finished every
 * command buffer that recorded with it (and its images). NULL is fine. */
void vkvae_model_destroy(vkvae_model *m);
vkvae_model_info vkvae_model_query(const vkvae_model *m);
/* The built-in models' names, index 0.. ; NULL past the last. */
const char *vkvae_model_name(uint32_t index);

/* Host conveniences: each uploads, submits to the context's queue, waits,
 * and reads back (or runs on the CPU backend). They must not overlap a
 * pending recording of the same model. labels: n class indices for a
 * conditional model (NULL: every row gets class 0); ignored otherwise. */
/* z: n*latent floats -> out: n*channels*height*width floats. */
vkvae_status vkvae_model_decode(vkvae_model *m, const float *z, const uint32_t *labels,
                                uint32_t n, float *out, vkvae_error *err);
/* n draws from the prior N(0, I), decoded: out as above. The same seed gives
 * the same images as vkvae_record_sample and `vkvae sample --seed`. */
vkvae_status vkvae_model_sample(vkvae_model *m, uint32_t seed, uint32_t label, uint32_t n,
                                float *out, vkvae_error *err);
/* As vkvae_model_decode and _sample, for a model with info.on_images:
 * images holds n images (as out), row i's condition (code i rendered in
 * image i's shape). The plain calls refuse such a model, these any other;
 * the vkvae_record_* calls do not record it. */
vkvae_status vkvae_model_decode_on_images(vkvae_model *m, const float *z, const uint32_t *labels,
                                          const float *images, uint32_t n, float *out,
                                          vkvae_error *err);
vkvae_status vkvae_model_sample_on_images(vkvae_model *m, uint32_t seed, uint32_t label,
                                          const float *images, uint32_t n, float *out,
                                          vkvae_error *err);
/* x: n images -> mu (and logvar, NULL to skip; Gaussian latents only):
 * n*latent floats each. */
vkvae_status vkvae_model_encode(vkvae_model *m, const float *x, const uint32_t *labels,
                                uint32_t n, float *mu, float *logvar, vkvae_error *err);

/* Puts n latent codes (n*latent floats, n <= max_latents) in the model's
 * upload buffer, for decodes recorded with latents = VK_NULL_HANDLE. On a
 * unified-memory device this is a plain copy into mapped memory; otherwise
 * it submits a staging copy and waits. The GPU must not be running a
 * recording that reads the uploaded latents meanwhile. */
vkvae_status vkvae_model_upload_latents(vkvae_model *m, const float *z, uint32_t n,
                                        vkvae_error *err);

/* ---- Training --------------------------------------------------------------
 * A model created with data_rows > 0 trains in-process, as `vkvae train`
 * does: the same plan, shuffles, draws and schedule, so the same seed gives
 * the same weights as the command line on the same backend. */

/* Images as bytes: what a data set holds on disk and in the model. */
typedef struct vkvae_data {
    const uint8_t *images;    /* count*channels*height*width bytes, NCHW; byte b is the value
                                 b/255 */
    const uint32_t *labels;   /* count class indices for a conditional model; NULL: none */
    uint32_t count;
    uint32_t channels, height, width; /* C*H*W must be the model's */
} vkvae_data;

/* A data set read from disk (docs/data.md): a folder of PNG and JPEG
 * images (one subfolder per class, or none; train/ and test/ for given
 * splits), a folder holding the four IDX files of the MNIST layout
 * (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte; each raw or .gz; 3-d grey or 4-d N x C x H x W
 * images), or a .npy of images (uint8, or float32 in [0, 1]; N x H x W,
 * N x C x H x W or N x H x W x C) with an optional .npy of labels. A source
 * without a test split has a fraction held out (seeded: the same every
 * load, the same fraction of each class). */
typedef struct vkvae_dataset_desc {
    const char *path;         /* required */
    const char *labels;       /* a .npy of labels for a .npy of images; NULL: none */
    const vkvae_model *model; /* images are decoded to its input (channels, size) and its
                                 classes checked; NULL: an image folder's first image's */
    float test_fraction;      /* held out when the source has no test split; 0: 0.1 */
    int resize;               /* image folders, another size: 0 fit (scale to cover, centre-
                                 crop), 1 stretch, 2 none (centre-crop only) */
    uint32_t background;      /* under transparent pixels: 0x1RRGGBB (bit 24 set); 0: white */
    int skip_bad;             /* 1: leave out images that do not decode (counted in
                                 vkvae_dataset_skipped); 0: such an image fails the load */
    const char *cache;        /* a folder for decoded image folders, reused while unchanged;
                                 NULL: none */
} vkvae_dataset_desc;
typedef struct vkvae_dataset vkvae_dataset;
vkvae_status vkvae_dataset_load(const vkvae_dataset_desc *desc, vkvae_dataset **out,
                                vkvae_error *err);
void vkvae_dataset_destroy(vkvae_dataset *d); /* NULL is fine */
/* An image folder's class names (n of them; NULL when it has none), valid
 * until vkvae_dataset_destroy; and how many images were left out. */
const char *const *vkvae_dataset_classes(const vkvae_dataset *d, uint32_t *n);
uint32_t vkvae_dataset_skipped(const vkvae_dataset *d);
/* Its training split (test 0) or its test split (test 1), valid until
 * vkvae_dataset_destroy. */
vkvae_data vkvae_dataset_split(const vkvae_dataset *d, int test);

/* The loss per image over the images a call saw. */
typedef struct vkvae_loss {
    double total;             /* the objective: a VAE's negative ELBO in nats (with the
                                 epoch's KL weight while training), an autoencoder's loss */
    double recon, kl;         /* its terms */
    uint32_t images;
} vkvae_loss;

/* Called after each submission of an epoch: steps done of steps, the loss
 * so far. Non-zero stops the epoch there: vkvae_model_train_epoch returns
 * CANCELLED, the model keeps the steps done, and the next call (or a
 * checkpoint saved now, reopened) goes on with the rest of that epoch. */
typedef int (*vkvae_train_progress_fn)(void *user, uint32_t steps_done, uint32_t steps,
                                       const vkvae_loss *so_far);

typedef struct vkvae_epoch_desc {
    vkvae_train_progress_fn progress; /* NULL: none */
    void *user;
} vkvae_epoch_desc;

/* The training set: copied into the model, so data may go away after the
 * call (on the device: now when count <= data_rows, else a chunk at a time
 * each epoch). BAD_INPUT for a size other than the model's, a missing or
 * out-of-range label. */
vkvae_status vkvae_model_set_data(vkvae_model *m, const vkvae_data *train, vkvae_error *err);
/* Trains the next epoch over the training set: a Philox shuffle keyed by
 * (seed, epoch), one optimizer step per batch (the last one short), the
 * spec's KL weight and warm-up for that epoch. desc may be NULL. A loss or
 * a parameter that turns NaN or Inf is DIVERGED, naming the epoch and
 * steps; the weights are then unusable (recreate the model from the last
 * saved checkpoint). */
vkvae_status vkvae_model_train_epoch(vkvae_model *m, const vkvae_epoch_desc *desc,
                                     vkvae_loss *out, vkvae_error *err);
/* The loss over data (streamed when count > data_rows) without training: for a VAE the
 * negative ELBO with KL weight 1, as `vkvae eval` reports it; its draws are
 * fixed by the seed, so the figure is reproducible. */
vkvae_status vkvae_model_evaluate(vkvae_model *m, const vkvae_data *data, vkvae_loss *out,
                                  vkvae_error *err);
/* Writes a checkpoint (weights, optimizer state, epoch, step, seed and the
 * spec) atomically: every vkvae command opens it, `vkvae train --resume`
 * continues it, and vkvae_model_desc.checkpoint loads it. */
vkvae_status vkvae_model_save(vkvae_model *m, const char *path, vkvae_error *err);

/* Writes count images (count*channels*height*width floats in [0, 1], NCHW,
 * as decode and sample return them) as one PNG: a grid of columns per row
 * (0: about square), 2 pixels apart. channels: 1 (grey) or 3 (RGB). */
vkvae_status vkvae_write_png_grid(const char *path, const float *images, uint32_t count,
                                  uint32_t channels, uint32_t height, uint32_t width,
                                  uint32_t columns, vkvae_error *err);

/* ---- Recording into the application's command buffer ----------------------
 * An image target: the application's storage image, seen through its view.
 * The descriptor set that binds it is vkvae's, made once here. */
typedef struct vkvae_image vkvae_image;

typedef struct vkvae_image_desc {
    VkImageView view;         /* a 2D view (layer 0 is written) of an image with
                                 VK_IMAGE_USAGE_STORAGE_BIT */
    VkFormat format;          /* the view's format: VK_FORMAT_R8G8B8A8_UNORM,
                                 R16G16B16A16_SFLOAT, R32G32B32A32_SFLOAT or R32_SFLOAT */
} vkvae_image_desc;

vkvae_status vkvae_image_create(vkvae_model *m, const vkvae_image_desc *desc,
                                vkvae_image **out, vkvae_error *err);
/* The GPU must have finished every command buffer that wrote through it.
 * The application's image and view stay. NULL is fine. */
void vkvae_image_destroy(vkvae_image *img);

/* Where decoded images go: exactly one of image and buffer. */
typedef struct vkvae_output {
    vkvae_image *image;       /* image i goes to the grid cell (i % columns, i / columns) of
                                 size width*scale x height*scale, offset by (x, y) pixels;
                                 grey is replicated to RGB, alpha is 1; one-channel formats
                                 get channel 0; pixels outside the image are skipped */
    uint32_t x, y;            /* top-left of the grid; default 0, 0 */
    uint32_t columns;         /* grid columns; 0: count (one row) */
    uint32_t scale;           /* nearest-neighbour magnification; 0: 1 */
    VkBuffer buffer;          /* or: count*channels*height*width floats (NCHW) at offset;
                                 needs VK_BUFFER_USAGE_TRANSFER_DST_BIT */
    VkDeviceSize offset;      /* bytes */
} vkvae_output;

/* Pipeline stages and accesses of the application's own work on the
 * resources a recording touches. */
typedef struct vkvae_scope {
    VkPipelineStageFlags stages;
    VkAccessFlags access;
} vkvae_scope;

/* Every record call records, in order:
 *  1. a global VkMemoryBarrier from (COMPUTE_SHADER | TRANSFER | src.stages,
 *     SHADER_WRITE | TRANSFER_WRITE | src.access) to (COMPUTE_SHADER |
 *     TRANSFER, SHADER_READ | SHADER_WRITE | TRANSFER_READ |
 *     TRANSFER_WRITE): it orders the application's earlier compute and
 *     transfer writes (the latents, a clear of the image) and vkvae's own
 *     earlier recordings before what follows;
 *  2. per pass of up to `batch` rows: vkCmdCopyBuffer of the inputs into
 *     vkvae's buffers (vkCmdUpdateBuffer for labels), a barrier, the
 *     model's dispatches with the plan's barriers, a barrier, then the
 *     output: a compute dispatch that writes the image (imageStore, layout
 *     GENERAL) or vkCmdCopyBuffer into the application's buffer; passes
 *     after the first start with the barrier of step 1;
 *  3. a global VkMemoryBarrier from (COMPUTE_SHADER | TRANSFER,
 *     SHADER_WRITE | TRANSFER_WRITE) to dst (default: ALL_COMMANDS | HOST,
 *     MEMORY_READ | MEMORY_WRITE | HOST_READ), making the outputs visible.
 * No image layout transition and no queue-family ownership transfer is
 * recorded: the image must be in VK_IMAGE_LAYOUT_GENERAL when the commands
 * execute, and resources last used on another queue family must have been
 * transferred to the context's queue family (or created CONCURRENT). Work
 * of other stages (a fragment shader that read last frame's image) needs
 * src, or the application's own barrier. Binds compute pipelines,
 * descriptor sets and push constants: rebind yours afterwards. cb must be
 * in the recording state, outside a render pass, from a pool of the
 * context's queue family. */
typedef struct vkvae_decode_desc {
    uint32_t count;           /* codes to decode: required, >= 1 */
    VkBuffer latents;         /* count*latent floats at latents_offset, with
                                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT; VK_NULL_HANDLE: the rows
                                 given to vkvae_model_upload_latents */
    VkDeviceSize latents_offset; /* bytes */
    const uint32_t *labels;   /* conditional models: count class indices, read while
                                 recording; NULL: every row gets `label` */
    uint32_t label;
    vkvae_output output;
    vkvae_scope src;          /* more of the application's earlier work to wait for; 0: none */
    vkvae_scope dst;          /* the application's later work on the outputs; 0: the default */
} vkvae_decode_desc;

typedef struct vkvae_sample_desc {
    uint32_t count;           /* images: required, >= 1 */
    uint32_t seed;            /* of the prior draws (Philox): same seed, same images */
    const uint32_t *labels;   /* as in vkvae_decode_desc */
    uint32_t label;
    vkvae_output output;
    vkvae_scope src, dst;
} vkvae_sample_desc;

typedef struct vkvae_encode_desc {
    uint32_t count;           /* images: required, >= 1 */
    VkBuffer images;          /* count*channels*height*width floats in [0, 1] at
                                 images_offset, TRANSFER_SRC usage */
    VkDeviceSize images_offset;
    const uint32_t *labels;   /* as in vkvae_decode_desc */
    uint32_t label;
    VkBuffer mu;              /* count*latent floats at mu_offset, TRANSFER_DST usage */
    VkDeviceSize mu_offset;
    VkBuffer logvar;          /* the same for log variances; VK_NULL_HANDLE: skip */
    VkDeviceSize logvar_offset;
    vkvae_scope src, dst;
} vkvae_encode_desc;

/* Records decoding into cb (no submission). A call that fails has recorded
 * nothing: BAD_INPUT for a bad desc or label, UNSUPPORTED on the CPU backend. */
vkvae_status vkvae_record_decode(vkvae_model *m, VkCommandBuffer cb, const vkvae_decode_desc *desc,
                                 vkvae_error *err);
/* Records prior draws and their decoding into cb (VAEs only). */
vkvae_status vkvae_record_sample(vkvae_model *m, VkCommandBuffer cb, const vkvae_sample_desc *desc,
                                 vkvae_error *err);
/* Records encoding into cb: the encoder's mean (and log variance). */
vkvae_status vkvae_record_encode(vkvae_model *m, VkCommandBuffer cb, const vkvae_encode_desc *desc,
                                 vkvae_error *err);

#ifdef __cplusplus
}
#endif
#endif
