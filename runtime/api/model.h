/* The public model (vkvae.h) inside: a session on one backend, and on a
 * device the pieces the record calls need (the plan on the device, the
 * tensors they copy in and out, the upload buffer, the image pipelines).
 * model.c makes it, record.c records with it, image_target.c owns
 * the image pipelines and targets.
 */
#ifndef VKVAE_API_MODEL_H
#define VKVAE_API_MODEL_H

#include "gpu/gpu_plan.h"
#include "io/idx.h"
#include "session/session.h"

/* Frees what vkvae_model_set_data copied (api/train.c). */
void vkvae_model_data_free(vkvae_model *m);

/* The storage-image formats image_pack_<format>.comp writes. */
typedef enum vkvae_pack_format {
    VKVAE_PACK_RGBA8,
    VKVAE_PACK_RGBA16F,
    VKVAE_PACK_RGBA32F,
    VKVAE_PACK_R32F,
    VKVAE_PACK_COUNT
} vkvae_pack_format;

struct vkvae_model {
    vkvae_context *ctx;               /* NULL on the CPU backend */
    const vkvae_plan *source;         /* the built-in plan, or owned */
    vkvae_plan *owned;                /* a spec compiled for this model (runtime/spec), or NULL */
    vkvae_plan plan;                  /* on a device: the inference programs only */
    vkvae_buffer_desc *buffers;       /* ... and the buffers they use (others empty) */
    vkvae_program_desc programs[VKVAE_PROGRAM_COUNT];
    vkvae_session *session;
    int training;                     /* desc.data_rows > 0: the whole plan, data sets */
    vkvae_idx train_images, train_labels; /* api/train.c: the training set's copy */
    vkvae_gpu_plan *gpu;              /* the session's, NULL on the CPU backend */
    vkvae_model_info info;
    uint32_t t_z, t_mean, t_x, t_mu, t_logvar, t_y; /* UINT32_MAX where absent */
    vkvae_buffer upload;              /* vkvae_model_upload_latents' rows */
    uint32_t uploaded;                /* rows it holds */
    VkDescriptorSetLayout pack_set_layout; /* image_target.c: mean buffer + storage image */
    VkPipelineLayout pack_layout;
    VkShaderModule pack_module[VKVAE_PACK_COUNT];
    VkPipeline pack[VKVAE_PACK_COUNT];/* made with the first image of that format */
};

struct vkvae_image {
    vkvae_model *model;
    vkvae_pack_format format;
    VkDescriptorPool pool;
    VkDescriptorSet set;
};

/* The descriptor-set and pipeline layouts of the image pipelines. */
vkvae_status vkvae_pack_layout_create(vkvae_model *m, vkvae_error *err);
void vkvae_pack_destroy(vkvae_model *m);
/* Records the dispatch writing images [first, first + rows) of the call
 * from the model's mean tensor (pass-relative rows 0..rows-1) into img. */
void vkvae_pack_record(vkvae_model *m, VkCommandBuffer cb, const vkvae_image *img,
                       const vkvae_output *out, uint32_t first, uint32_t rows);

#endif
