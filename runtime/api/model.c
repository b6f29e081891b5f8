/* Public models (vkvae.h): a built-in plan, its weights from a checkpoint
 * or a fresh initialisation, on a device or the CPU, with the host
 * conveniences of session/session.c; api/train.c trains them.
 *
 * On a device a model that does not train runs only encode, decode and
 * sample, so it keeps a copy of the plan with just those programs and with
 * every buffer they do not touch emptied: gradients, optimizer state and
 * the data set are never allocated on an application's GPU. Tensor indices
 * stay those of the full plan, so checkpoints load through it. A model that
 * trains (desc.data_rows) has the whole plan, made for its data set's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "plan/models.h"
#include "session/checkpoint.h"
#include "spec/compile.h"

const char *vkvae_model_name(uint32_t index)
{
    return index < vkvae_builtin_model_count ? vkvae_builtin_models[index]->model : NULL;
}

/* The model a checkpoint names in its metadata ("model"). */
/* The plan desc asks for: the checkpoint's (vkvae_checkpoint_plan, with
 * desc's spec instead of the carried one when given), its spec compiled, or
 * the built-in model of its name; *owned when compiled. */
static vkvae_status model_plan(const vkvae_model_desc *desc, const vkvae_plan **source,
                               vkvae_plan **owned, vkvae_error *err)
{
    *source = NULL, *owned = NULL;
    vkvae_status s = VKVAE_OK;
    const char *want = desc->name;
    if (desc->checkpoint) {
        char named[128];
        s = vkvae_checkpoint_plan(desc->checkpoint, desc->spec, named, sizeof named, source,
                                  owned, NULL, err);
        if (!s && want && strcmp(want, named) != 0)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: a checkpoint of model '%s', not '%s'",
                           desc->checkpoint, named, want);
    } else if (desc->spec) {
        s = vkvae_spec_compile(&(vkvae_spec_desc){.path = "<spec>", .text = desc->spec}, owned,
                               NULL, err);
        *source = *owned;
        if (!s && want && strcmp((*owned)->model, want) != 0)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "the spec is of model '%s', not '%s'",
                           (*owned)->model, want);
    } else if (!(*source = vkvae_builtin_model(want))) {
        char list[256] = "";
        for (uint32_t i = 0; vkvae_model_name(i); i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     vkvae_model_name(i));
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "model '%s' is not built into this vkvae (%s)", want,
                       list);
    }
    if (s) {
        vkvae_spec_plan_free(*owned);
        *source = NULL, *owned = NULL;
    }
    return s;
}

vkvae_status vkvae_spec_check(const char *path, const char *text, size_t size,
                              char **diagnostics, vkvae_error *err)
{
    vkvae_plan *plan = NULL;
    vkvae_status s = vkvae_spec_compile(&(vkvae_spec_desc){.path = path, .text = text,
                                                           .size = size},
                                        &plan, diagnostics, err);
    vkvae_spec_plan_free(plan);
    return s;
}

static int is_inference(vkvae_program_kind k)
{
    return k == VKVAE_PROGRAM_ENCODE || k == VKVAE_PROGRAM_DECODE || k == VKVAE_PROGRAM_SAMPLE;
}

/* m->plan: m->source with its inference programs and the buffers they use. */
static vkvae_status inference_plan(vkvae_model *m, vkvae_error *err)
{
    const vkvae_plan *src = m->source;
    m->plan = *src;
    m->buffers = calloc(src->n_buffers ? src->n_buffers : 1, sizeof *m->buffers);
    if (!m->buffers)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    uint32_t n = 0;
    for (uint32_t p = 0; p < src->n_programs && n < VKVAE_PROGRAM_COUNT; p++)
        if (is_inference(src->programs[p].kind))
            m->programs[n++] = src->programs[p];
    for (uint32_t b = 0; b < src->n_buffers; b++) {
        m->buffers[b] = src->buffers[b];
        m->buffers[b].bytes = 0;
    }
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t i = 0; i < m->programs[p].n_steps; i++) {
            const vkvae_step_desc *st = &m->programs[p].steps[i];
            for (uint32_t t = 0; t < st->n_tensors && t < VKVAE_MAX_BINDINGS; t++) {
                uint32_t b = src->tensors[st->tensors[t]].buffer;
                if (b < src->n_buffers)
                    m->buffers[b].bytes = src->buffers[b].bytes;
            }
        }
    m->plan.buffers = m->buffers;
    m->plan.programs = m->programs;
    m->plan.n_programs = n;
    return VKVAE_OK;
}

static vkvae_status write_cb(void *user, uint32_t tensor, const float *src, vkvae_error *err)
{
    return vkvae_session_write(user, tensor, src, err);
}

static vkvae_status describe(vkvae_model *m, uint32_t seed, uint32_t max_latents,
                             vkvae_error *err)
{
    const vkvae_plan *plan = m->source;
    m->t_z = vkvae_plan_find_tensor(plan, "io.z");
    m->t_mean = vkvae_plan_find_tensor(plan, "io.mean");
    m->t_x = vkvae_plan_find_tensor(plan, "io.x");
    m->t_mu = vkvae_plan_find_tensor(plan, "io.mu");
    m->t_logvar = vkvae_plan_find_tensor(plan, "io.logvar");
    m->t_y = vkvae_plan_find_tensor(plan, "io.y");
    vkvae_model_info *i = &m->info;
    i->name = plan->model;
    i->latent = vkvae_session_latent(m->session);
    i->classes = plan->classes;
    i->channels = plan->input_c;
    i->height = plan->input_h;
    i->width = plan->input_w;
    i->batch = plan->batch;
    i->has_prior = vkvae_plan_has_program(plan, VKVAE_PROGRAM_SAMPLE);
    i->on_images = vkvae_session_decodes_on_images(m->session);
    i->on_gpu = m->ctx != NULL;
    i->seed = seed;
    i->max_latents = max_latents ? max_latents : plan->batch;
    i->data_rows = m->training ? vkvae_plan_data_rows(plan) : 0;
    uint64_t features = (uint64_t)i->channels * i->height * i->width;
    if (plan->sample_passes)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s is a pixel model (no code to "
                          "decode): the C API's model does not take it yet; vkvae sample "
                          "draws its images", plan->model);
    if (m->t_z == UINT32_MAX || m->t_mean == UINT32_MAX || i->latent == 0 ||
        plan->tensors[m->t_mean].elems != features * plan->batch ||
        plan->tensors[m->t_z].elems != (uint64_t)i->latent * plan->batch)
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "model %s: its plan lacks a decoder of %ux%ux%u images", plan->model,
                          i->channels, i->height, i->width);
    return VKVAE_OK;
}

vkvae_status vkvae_model_create(const vkvae_model_desc *desc, vkvae_model **out,
                                vkvae_error *err)
{
    *out = NULL;
    if (!desc || (!desc->name && !desc->checkpoint && !desc->spec))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vkvae_model_create needs a checkpoint, a "
                                                "built-in model name or a spec");
    const vkvae_plan *source;
    vkvae_plan *owned;
    vkvae_status ps = model_plan(desc, &source, &owned, err);
    if (ps)
        return ps;

    /* The plan is made for the batch and data set asked. A model that only
     * infers keeps its plan's: its data set is never allocated on a device
     * (inference_plan) and never touched on the CPU. */
    const vkvae_plan *fit;
    vkvae_plan *refit;
    /* A member of a group holds its slice of the global batch. */
    uint32_t global = desc->batch ? desc->batch : source->batch;
    uint32_t members = desc->group && desc->data_rows ? desc->group->size : 1;
    if (members > global)
        ps = vkvae_fail(err, VKVAE_BAD_INPUT, "%u processes share a batch of %u: each needs a "
                        "row at least", members, global);
    if (!ps)
        ps = vkvae_spec_plan_for(source, members > 1 ? (global + members - 1) / members
                                                     : desc->batch,
                                 desc->data_rows, &fit, &refit, err);
    if (ps || refit) {
        vkvae_spec_plan_free(owned);
        if (ps)
            return ps;
        source = owned = refit;
    }

    vkvae_model *m = calloc(1, sizeof *m);
    if (!m) {
        vkvae_spec_plan_free(owned);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    }
    m->ctx = desc->context;
    m->source = source;
    m->owned = owned;
    m->training = desc->data_rows > 0;
    m->plan = *source;
    vkvae_status s = m->ctx && !m->training ? inference_plan(m, err) : VKVAE_OK;
    if (!s)
        s = vkvae_session_create(&(vkvae_session_desc){.plan = &m->plan, .ctx = m->ctx,
                                                       .group = desc->data_rows ? desc->group
                                                                                : NULL,
                                                       .global_batch = global},
                                 &m->session, err);
    uint32_t seed = desc->init_seed ? desc->init_seed : source->seed;
    if (!s && desc->checkpoint) {
        /* A model that trains goes on where the checkpoint stopped: the
         * optimizer's state, epoch and step too. */
        vkvae_train_state state = {0};
        s = vkvae_checkpoint_load(desc->checkpoint, source, write_cb, m->session, &state,
                                  m->training, err);
        seed = state.seed;
        m->info.epoch = state.epoch;
        m->info.epoch_step = state.epoch_step;
        m->info.step = state.step;
    } else if (!s) {
        s = vkvae_session_init_params(m->session, seed, err);
    }
    if (!s)
        s = describe(m, seed, desc->max_latents, err);
    if (!s && m->ctx) {
        m->gpu = vkvae_session_gpu(m->session);
        s = vkvae_buffer_create(m->ctx, (VkDeviceSize)m->info.max_latents * m->info.latent * 4,
                                &m->upload, err);
        if (!s)
            s = vkvae_pack_layout_create(m, err);
    }
    if (s) {
        vkvae_model_destroy(m);
        return s;
    }
    *out = m;
    return VKVAE_OK;
}

void vkvae_model_destroy(vkvae_model *m)
{
    if (!m)
        return;
    if (m->ctx) {
        vkvae_pack_destroy(m);
        vkvae_buffer_destroy(m->ctx, &m->upload);
    }
    vkvae_session_destroy(m->session);
    vkvae_model_data_free(m);
    vkvae_spec_plan_free(m->owned);
    free(m->buffers);
    free(m);
}

vkvae_model_info vkvae_model_query(const vkvae_model *m)
{
    return m->info;
}

vkvae_status vkvae_model_decode(vkvae_model *m, const float *z, const uint32_t *labels,
                                uint32_t n, float *out, vkvae_error *err)
{
    return vkvae_session_decode(m->session, z, labels, n, out, err);
}

vkvae_status vkvae_model_sample(vkvae_model *m, uint32_t seed, uint32_t label, uint32_t n,
                                float *out, vkvae_error *err)
{
    return vkvae_session_sample(m->session, seed, n, label, out, err);
}

vkvae_status vkvae_model_decode_on_images(vkvae_model *m, const float *z, const uint32_t *labels,
                                          const float *images, uint32_t n, float *out,
                                          vkvae_error *err)
{
    return vkvae_session_decode_on_images(m->session, z, labels, images, n, out, err);
}

vkvae_status vkvae_model_sample_on_images(vkvae_model *m, uint32_t seed, uint32_t label,
                                          const float *images, uint32_t n, float *out,
                                          vkvae_error *err)
{
    return vkvae_session_sample_on_images(m->session, seed, n, label, images, out, err);
}

vkvae_status vkvae_model_encode(vkvae_model *m, const float *x, const uint32_t *labels,
                                uint32_t n, float *mu, float *logvar, vkvae_error *err)
{
    return vkvae_session_encode(m->session, x, labels, n, mu, logvar, err);
}

vkvae_status vkvae_model_upload_latents(vkvae_model *m, const float *z, uint32_t n,
                                        vkvae_error *err)
{
    if (!m->ctx)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "model %s runs on the CPU backend: upload_latents is for record calls",
                          m->info.name);
    if (n > m->info.max_latents)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%u latent codes exceed the model's upload buffer of %u (max_latents)",
                          n, m->info.max_latents);
    vkvae_status s = vkvae_buffer_upload(m->ctx, &m->upload, 0, z,
                                         (VkDeviceSize)n * m->info.latent * sizeof *z, err);
    m->uploaded = s ? 0 : n;
    return s;
}
