/* Record calls (vkvae.h): a model's programs appended to the application's
 * command buffer, with no submission of their own. A call runs in passes
 * of the plan's batch: copy the inputs in (vkCmdCopyBuffer from the
 * application's buffer, vkCmdUpdateBuffer for one-hot labels), run the
 * program as the plan orders it, copy or pack the outputs out. The
 * barriers are exactly the ones vkvae.h lists above vkvae_decode_desc;
 * docs/api.md explains them. Everything is checked before the first
 * command, so a failed call records nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "api/model.h"

enum {
    WORK_STAGES = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
    WORK_WRITES = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    WORK_ACCESS = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
};

static void barrier(vkvae_context *ctx, VkCommandBuffer cb, VkPipelineStageFlags src_stages,
                    VkAccessFlags src_access, VkPipelineStageFlags dst_stages,
                    VkAccessFlags dst_access)
{
    VkMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    ctx->vk.vkCmdPipelineBarrier(cb, src_stages, dst_stages, 0, 1, &b, 0, NULL, 0, NULL);
}

/* A plan tensor and an application buffer region of `width` floats a row. */
typedef struct transfer {
    uint32_t tensor;
    VkBuffer buffer;
    VkDeviceSize offset;
    uint32_t width;
} transfer;

typedef struct call {
    vkvae_program_kind kind;
    uint32_t count, seed;
    const uint32_t *labels;
    uint32_t label;
    transfer in;                     /* .buffer NULL: the program draws its own input */
    const vkvae_image *image;        /* or outs */
    vkvae_output image_out;          /* columns and scale resolved */
    transfer outs[2];
    uint32_t n_outs;
    vkvae_scope src, dst;
} call;

static vkvae_status check_model(vkvae_model *m, VkCommandBuffer cb, uint32_t count,
                                const uint32_t *labels, uint32_t label, const char *what,
                                vkvae_error *err)
{
    if (!m->ctx)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "model %s runs on the CPU backend: %s needs a device", m->info.name,
                          what);
    if (m->info.on_images && strcmp(what, "vkvae_record_encode") != 0)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s decodes on images (a prior learned "
                          "from an image's condition): %s does not pass them; "
                          "vkvae_model_decode_on_images and _sample_on_images do", m->info.name,
                          what);
    if (!cb)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: no command buffer", what);
    if (count == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: count is 0", what);
    uint32_t classes = m->info.classes;
    for (uint32_t i = 0; classes && i < (labels ? count : 1); i++) {
        uint32_t l = labels ? labels[i] : label;
        if (l >= classes)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "%s: label %u is out of range: model %s has %u classes (0..%u)",
                              what, l, m->info.name, classes, classes - 1);
    }
    return VKVAE_OK;
}

/* Resolves the decoded images' destination into c. */
static vkvae_status check_output(vkvae_model *m, const vkvae_output *out, call *c,
                                 const char *what, vkvae_error *err)
{
    if (!out->image == !out->buffer)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%s: the output needs exactly one of an image and a buffer", what);
    if (out->image) {
        if (out->image->model != m)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "%s: the image target was made for another model", what);
        c->image = out->image;
        c->image_out = *out;
        if (!c->image_out.columns)
            c->image_out.columns = c->count;
        if (!c->image_out.scale)
            c->image_out.scale = 1;
        return VKVAE_OK;
    }
    c->outs[0] = (transfer){m->t_mean, out->buffer, out->offset,
                            m->info.channels * m->info.height * m->info.width};
    c->n_outs = 1;
    return VKVAE_OK;
}

static VkBuffer tensor_buffer(const vkvae_model *m, uint32_t t, VkDeviceSize *offset)
{
    const vkvae_tensor_desc *d = &m->plan.tensors[t];
    *offset = d->offset;
    return vkvae_gpu_plan_buffer(m->gpu, d->buffer)->buffer;
}

/* Writes the one-hot labels of rows [first, first + rows) of the call into
 * the condition tensor (all batch rows: the rest zero). vkCmdUpdateBuffer
 * copies the data into the command buffer now, 64 KiB at most a command. */
static void record_labels(vkvae_model *m, VkCommandBuffer cb, const call *c, float *onehot,
                          uint32_t first, uint32_t rows)
{
    uint32_t classes = m->info.classes, batch = m->info.batch;
    memset(onehot, 0, (size_t)batch * classes * sizeof *onehot);
    for (uint32_t r = 0; r < rows; r++)
        onehot[(size_t)r * classes + (c->labels ? c->labels[first + r] : c->label)] = 1.0f;
    VkDeviceSize offset, bytes = (VkDeviceSize)batch * classes * sizeof *onehot;
    VkBuffer buf = tensor_buffer(m, m->t_y, &offset);
    for (VkDeviceSize done = 0; done < bytes; done += 65536) {
        VkDeviceSize n = bytes - done < 65536 ? bytes - done : 65536;
        m->ctx->vk.vkCmdUpdateBuffer(cb, buf, offset + done, n, (const char *)onehot + done);
    }
}

static vkvae_status record(vkvae_model *m, VkCommandBuffer cb, const call *c, vkvae_error *err)
{
    vkvae_context *ctx = m->ctx;
    uint32_t batch = m->info.batch;
    if (!vkvae_plan_has_program(&m->plan, c->kind))
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no %s program", m->info.name,
                          c->kind == VKVAE_PROGRAM_ENCODE ? "encode" : "decode");
    int conditional = m->t_y != UINT32_MAX && m->info.classes;
    float *onehot = NULL;
    if (conditional && !(onehot = malloc((size_t)batch * m->info.classes * sizeof *onehot)))
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_commands commands = {.cb = cb}; /* gpu_plan_record needs only the buffer */
    vkvae_status s = VKVAE_OK;
    uint32_t rows;
    for (uint32_t pass = 0, first = 0; !s && first < c->count; pass++, first += rows) {
        rows = c->count - first < batch ? c->count - first : batch;
        /* Earlier writes (the application's, or this model's previous pass or
         * recording) before this pass's copies and dispatches; also orders
         * this pass's writes after the previous pass's reads. */
        barrier(ctx, cb, WORK_STAGES | (pass ? 0 : c->src.stages),
                WORK_WRITES | (pass ? 0 : c->src.access), WORK_STAGES, WORK_ACCESS);
        if (c->in.buffer) {
            VkDeviceSize bytes = (VkDeviceSize)c->in.width * 4;
            VkBufferCopy region = {.srcOffset = c->in.offset + first * bytes, .size = rows * bytes};
            VkBuffer dst = tensor_buffer(m, c->in.tensor, &region.dstOffset);
            ctx->vk.vkCmdCopyBuffer(cb, c->in.buffer, dst, 1, &region);
        }
        if (conditional)
            record_labels(m, cb, c, onehot, first, rows);
        if (c->in.buffer || conditional)
            barrier(ctx, cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
        /* As session.c's batches: the pass number is the Philox step, so a
         * seed draws the same prior samples here and on the host path. */
        vkvae_push push = {.seed = c->seed, .step = pass, .rows = batch, .grad_scale = 1.0f};
        s = vkvae_gpu_plan_record(m->gpu, &commands, c->kind, &push, err);
        if (s)
            break;
        barrier(ctx, cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                WORK_STAGES, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
        if (c->image)
            vkvae_pack_record(m, cb, c->image, &c->image_out, first, rows);
        for (uint32_t o = 0; o < c->n_outs; o++) {
            VkDeviceSize bytes = (VkDeviceSize)c->outs[o].width * 4;
            VkBufferCopy region = {.dstOffset = c->outs[o].offset + first * bytes,
                                   .size = rows * bytes};
            VkBuffer src = tensor_buffer(m, c->outs[o].tensor, &region.srcOffset);
            ctx->vk.vkCmdCopyBuffer(cb, src, c->outs[o].buffer, 1, &region);
        }
    }
    free(onehot);
    if (s)
        return s;
    /* The outputs, visible to what the application does next. */
    int dst_given = c->dst.stages != 0;
    barrier(ctx, cb, WORK_STAGES, WORK_WRITES,
            dst_given ? c->dst.stages : VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
            dst_given ? c->dst.access
                      : VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_READ_BIT);
    return VKVAE_OK;
}

vkvae_status vkvae_record_decode(vkvae_model *m, VkCommandBuffer cb, const vkvae_decode_desc *d,
                                 vkvae_error *err)
{
    const char *what = "vkvae_record_decode";
    vkvae_status s = check_model(m, cb, d->count, d->labels, d->label, what, err);
    if (s)
        return s;
    call c = {.kind = VKVAE_PROGRAM_DECODE, .count = d->count, .labels = d->labels,
              .label = d->label, .src = d->src, .dst = d->dst};
    c.in = (transfer){m->t_z, d->latents, d->latents_offset, m->info.latent};
    if (!d->latents) {
        if (d->count > m->uploaded)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "%s: %u codes asked for, %u uploaded (vkvae_model_upload_latents)",
                              what, d->count, m->uploaded);
        c.in.buffer = m->upload.buffer;
        c.in.offset = 0;
    }
    s = check_output(m, &d->output, &c, what, err);
    return s ? s : record(m, cb, &c, err);
}

vkvae_status vkvae_record_sample(vkvae_model *m, VkCommandBuffer cb, const vkvae_sample_desc *d,
                                 vkvae_error *err)
{
    const char *what = "vkvae_record_sample";
    vkvae_status s = check_model(m, cb, d->count, d->labels, d->label, what, err);
    if (s)
        return s;
    if (!m->info.has_prior)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "model %s has no sample program (an autoencoder has no prior)",
                          m->info.name);
    call c = {.kind = VKVAE_PROGRAM_SAMPLE, .count = d->count, .seed = d->seed,
              .labels = d->labels, .label = d->label, .src = d->src, .dst = d->dst};
    s = check_output(m, &d->output, &c, what, err);
    return s ? s : record(m, cb, &c, err);
}

vkvae_status vkvae_record_encode(vkvae_model *m, VkCommandBuffer cb, const vkvae_encode_desc *d,
                                 vkvae_error *err)
{
    const char *what = "vkvae_record_encode";
    vkvae_status s = check_model(m, cb, d->count, d->labels, d->label, what, err);
    if (s)
        return s;
    if (m->t_x == UINT32_MAX || m->t_mu == UINT32_MAX)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no encode program",
                          m->info.name);
    if (!d->images || !d->mu)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s needs an images buffer and a mu buffer",
                          what);
    if (d->logvar && m->t_logvar == UINT32_MAX)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%s: model %s has no log variance (its latent is not Gaussian)", what,
                          m->info.name);
    call c = {.kind = VKVAE_PROGRAM_ENCODE, .count = d->count, .labels = d->labels,
              .label = d->label, .src = d->src, .dst = d->dst};
    c.in = (transfer){m->t_x, d->images, d->images_offset,
                      m->info.channels * m->info.height * m->info.width};
    c.outs[c.n_outs++] = (transfer){m->t_mu, d->mu, d->mu_offset, m->info.latent};
    if (d->logvar)
        c.outs[c.n_outs++] = (transfer){m->t_logvar, d->logvar, d->logvar_offset, m->info.latent};
    return record(m, cb, &c, err);
}
