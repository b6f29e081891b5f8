/* Training through the public API (vkvae.h, "Training"): the session's
 * epoch, evaluation and checkpoint calls with what `vkvae train` wraps
 * around them (the per-epoch KL weight, the epoch and step counters, the
 * divergence check), so a model trains in-process as it does from the
 * command line.
 *
 * The session reads data sets as IDX-shaped bytes (io/idx.h) and keeps
 * pointing at the training set, which it puts back after an evaluation;
 * so the model owns a copy of it, with the labels narrowed to the bytes
 * the plan's label tensor holds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "session/checkpoint.h"

static vkvae_status need_training(const vkvae_model *m, const char *call, vkvae_error *err)
{
    if (!m->training)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%s: model %s was created for inference only: give "
                          "vkvae_model_desc.data_rows to train or evaluate it",
                          call, m->info.name);
    return VKVAE_OK;
}

void vkvae_model_data_free(vkvae_model *m)
{
    vkvae_idx_destroy(&m->train_images);
    vkvae_idx_destroy(&m->train_labels);
}

/* data as the session's IDX pair: images points at data's bytes (copied
 * when copy is set), labels narrowed into a new array. Checks the size,
 * the count and the labels against the model before allocating. */
static vkvae_status as_idx(const vkvae_model *m, const vkvae_data *data, int copy,
                           vkvae_idx *images, vkvae_idx *labels, vkvae_error *err)
{
    *images = (vkvae_idx){0}, *labels = (vkvae_idx){0};
    const vkvae_model_info *i = &m->info;
    uint64_t features = (uint64_t)data->channels * data->height * data->width;
    if (!data->images || !data->count)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s: the data set has no images", i->name);
    if (features != (uint64_t)i->channels * i->height * i->width)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "model %s takes %ux%ux%u images, the data set has %ux%ux%u", i->name,
                          i->channels, i->height, i->width, data->channels, data->height,
                          data->width);
    if (i->classes && !data->labels)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s is conditional: the data set needs "
                          "labels", i->name);
    for (uint32_t r = 0; i->classes && r < data->count; r++)
        if (data->labels[r] >= i->classes)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "model %s: label %u of image %u is not below its %u classes",
                              i->name, data->labels[r], r, i->classes);
    size_t bytes = (size_t)data->count * features;
    images->ndim = 3;
    images->count = data->count;
    images->channels = data->channels;
    images->rows = data->height;
    images->cols = data->width;
    images->data = copy ? malloc(bytes) : (uint8_t *)data->images;
    if (copy && images->data)
        memcpy(images->data, data->images, bytes);
    if (!i->classes)
        return images->data ? VKVAE_OK
                            : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    labels->ndim = 1;
    labels->channels = labels->rows = labels->cols = 1;
    labels->count = data->count;
    labels->data = malloc(data->count);
    if (!images->data || !labels->data) {
        if (copy)
            free(images->data);
        free(labels->data);
        *images = (vkvae_idx){0}, *labels = (vkvae_idx){0};
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    }
    for (uint32_t r = 0; r < data->count; r++)
        labels->data[r] = (uint8_t)data->labels[r]; /* checked above: below the classes */
    return VKVAE_OK;
}

vkvae_status vkvae_model_set_data(vkvae_model *m, const vkvae_data *train, vkvae_error *err)
{
    vkvae_status s = need_training(m, "vkvae_model_set_data", err);
    vkvae_idx images, labels;
    if (!s)
        s = as_idx(m, train, 1, &images, &labels, err);
    if (s)
        return s;
    images.path = strdup("the training set");
    /* The session keeps pointing at the model's copy; the old one goes
     * once the new one is in place. */
    vkvae_idx old_images = m->train_images, old_labels = m->train_labels;
    m->train_images = images, m->train_labels = labels;
    s = vkvae_session_set_train_data(m->session, &m->train_images,
                                     m->info.classes ? &m->train_labels : NULL, err);
    vkvae_idx *drop_images = s ? &m->train_images : &old_images;
    vkvae_idx *drop_labels = s ? &m->train_labels : &old_labels;
    vkvae_idx_destroy(drop_images);
    vkvae_idx_destroy(drop_labels);
    if (s)
        m->train_images = old_images, m->train_labels = old_labels;
    return s;
}

static vkvae_loss per_image(const vkvae_losses *l)
{
    double n = l->rows > 0 ? l->rows : 1;
    return (vkvae_loss){.total = l->total / n, .recon = l->recon / n, .kl = l->kl / n,
                        .images = (uint32_t)l->rows};
}

static int relay(void *user, uint32_t done, uint32_t steps, const vkvae_losses *so_far)
{
    const vkvae_epoch_desc *d = user;
    vkvae_loss l = per_image(so_far);
    return d->progress(d->user, done, steps, &l);
}

vkvae_status vkvae_model_train_epoch(vkvae_model *m, const vkvae_epoch_desc *desc,
                                     vkvae_loss *out, vkvae_error *err)
{
    vkvae_status s = need_training(m, "vkvae_model_train_epoch", err);
    if (!s && !m->train_images.data)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "vkvae_model_train_epoch: model %s has no "
                       "training set: call vkvae_model_set_data first", m->info.name);
    if (s)
        return s;
    vkvae_model_info *i = &m->info;
    const vkvae_plan *plan = vkvae_session_plan(m->session);
    uint32_t step = (uint32_t)i->step, first = step;
    vkvae_losses l;
    int relayed = desc && desc->progress;
    s = vkvae_session_train_epoch(m->session, i->seed, i->epoch, i->epoch_step, &step,
                                  vkvae_plan_kl_weight(plan, i->epoch), relayed ? relay : NULL,
                                  relayed ? (void *)desc : NULL, &l, err);
    if (s == VKVAE_CANCELLED) { /* the steps taken stay taken */
        i->epoch_step += step - first;
        i->step = step;
        if (out)
            *out = per_image(&l);
    }
    if (s)
        return s;
    const char *bad = NULL;
    if (!isfinite(l.total))
        return vkvae_fail(err, VKVAE_DIVERGED,
                          "model %s diverged in epoch %u (steps %u..%u): the loss is %g",
                          i->name, i->epoch + 1, first, step - 1, l.total);
    vkvae_error read = {0};
    if (!vkvae_session_params_finite(m->session, &bad, &read))
        return read.status ? vkvae_fail(err, read.status, "%s", read.message)
                           : vkvae_fail(err, VKVAE_DIVERGED,
                                        "model %s diverged in epoch %u (steps %u..%u): "
                                        "parameter %s holds a NaN or Inf",
                                        i->name, i->epoch + 1, first, step - 1, bad);
    i->epoch++;
    i->epoch_step = 0;
    i->step = step;
    if (out)
        *out = per_image(&l);
    return VKVAE_OK;
}

vkvae_status vkvae_model_evaluate(vkvae_model *m, const vkvae_data *data, vkvae_loss *out,
                                  vkvae_error *err)
{
    vkvae_status s = need_training(m, "vkvae_model_evaluate", err);
    vkvae_idx images, labels;
    if (!s)
        s = as_idx(m, data, 0, &images, &labels, err);
    if (s)
        return s;
    char path[] = "the evaluation set";
    images.path = path;
    vkvae_losses l;
    s = vkvae_session_evaluate(m->session, &images, m->info.classes ? &labels : NULL,
                               m->info.seed, 1.0f, &l, err);
    free(labels.data);
    if (!s && out)
        *out = per_image(&l);
    return s;
}

static vkvae_status read_cb(void *user, uint32_t tensor, float *dst, vkvae_error *err)
{
    return vkvae_session_read(user, tensor, dst, err);
}

vkvae_status vkvae_model_save(vkvae_model *m, const char *path, vkvae_error *err)
{
    vkvae_status s = need_training(m, "vkvae_model_save", err);
    if (s)
        return s;
    const vkvae_model_info *i = &m->info;
    vkvae_train_state state = {.epoch = i->epoch, .epoch_step = i->epoch_step, .step = i->step,
                               .seed = i->seed};
    return vkvae_checkpoint_save(path, vkvae_session_plan(m->session), read_cb, m->session,
                                 &state, err);
}
