/* PyTorch's initialisations with Philox draws (see init.h). */
#include "plan/init.h"

#include <math.h>
#include <string.h>

#include "plan/philox.h"

uint64_t vkvae_init_fan_in(const vkvae_tensor_desc *weight)
{
    if (weight->rank < 2)
        return 0;
    uint64_t fan_in = weight->shape[1];
    for (uint32_t d = 2; d < weight->rank && d < 4; d++)
        fan_in *= weight->shape[d];
    return fan_in;
}

uint64_t vkvae_init_fan_out(const vkvae_tensor_desc *weight)
{
    if (weight->rank < 2)
        return 0;
    uint64_t fan_out = weight->shape[0];
    for (uint32_t d = 2; d < weight->rank && d < 4; d++)
        fan_out *= weight->shape[d];
    return fan_out;
}

const char *vkvae_init_kind_name(uint32_t kind)
{
    static const char *const names[VKVAE_INIT_COUNT] = {
        [VKVAE_INIT_PYTORCH] = "pytorch",
        [VKVAE_INIT_XAVIER_UNIFORM] = "xavier_uniform",
        [VKVAE_INIT_KAIMING_NORMAL] = "kaiming_normal",
    };
    return kind < VKVAE_INIT_COUNT ? names[kind] : "?";
}

/* FNV-1a over len bytes of s, from h */
static uint32_t fnv1a(uint32_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

uint32_t vkvae_init_stream_step(const char *name)
{
    return fnv1a(2166136261u, name ? name : "", name ? strlen(name) : 0);
}

static int ends_with(const char *s, const char *suffix, size_t *prefix_len)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    if (ls < lx || strcmp(s + ls - lx, suffix) != 0)
        return 0;
    *prefix_len = ls - lx;
    return 1;
}

/* nn.GRU's parameters (one layer: suffix _l0), which start as its
 * reset_parameters does, all U(-b, b) with b = 1/sqrt(hidden), whatever the
 * plan's init: each is [3*hidden, ...], hidden = its first dimension / 3. */
static int is_recurrent(const char *name)
{
    size_t prefix;
    return ends_with(name, ".weight_ih_l0", &prefix) || ends_with(name, ".weight_hh_l0", &prefix) ||
           ends_with(name, ".bias_ih_l0", &prefix) || ends_with(name, ".bias_hh_l0", &prefix);
}

/* An embedding's table, "<net>.embed<k>.weight" (gen/shape.c names it so):
 * N(0, 1), as nn.Embedding starts. */
static int is_embedding(const char *name)
{
    const char *last = strrchr(name, '.'), *layer = last;
    while (layer && layer > name && layer[-1] != '.')
        layer--;
    return last && strcmp(last, ".weight") == 0 && strncmp(layer, "embed", 5) == 0 &&
           layer[5] >= '1' && layer[5] <= '9';
}

int vkvae_init_is_layer_param(const char *name)
{
    size_t prefix;
    /* "a.weight|b.weight" is gen/fuse.c's view of two layers' weights side
     * by side, which each get their own values */
    return name && !strchr(name, '|') &&
           (ends_with(name, ".weight", &prefix) || ends_with(name, ".bias", &prefix) ||
            is_recurrent(name));
}

int vkvae_init_has_start(const vkvae_plan *plan, uint32_t tensor)
{
    if (tensor >= plan->n_tensors || plan->tensors[tensor].buffer >= plan->n_buffers)
        return 0;
    const vkvae_tensor_desc *t = &plan->tensors[tensor];
    size_t prefix;
    switch (plan->buffers[t->buffer].role) {
    case VKVAE_ROLE_PARAM: return vkvae_init_is_layer_param(t->name);
    case VKVAE_ROLE_STATE: /* batch norm's averages; codes learned by EMA */
        return t->name && (ends_with(t->name, ".running_mean", &prefix) ||
                           ends_with(t->name, ".running_var", &prefix) ||
                           ends_with(t->name, ".codebook.weight", &prefix) ||
                           ends_with(t->name, ".codebook.ema_sum", &prefix));
    default: return 0;
    }
}

/* The weight of the layer whose bias is named "<prefix>.bias". */
static const vkvae_tensor_desc *find_weight(const vkvae_plan *plan, const char *bias, size_t prefix_len)
{
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const char *name = plan->tensors[i].name;
        if (name && strncmp(name, bias, prefix_len) == 0 && strcmp(name + prefix_len, ".weight") == 0)
            return &plan->tensors[i];
    }
    return NULL;
}

vkvae_status vkvae_init_tensor(float *dst, const vkvae_plan *plan, uint32_t tensor,
                               uint32_t seed, vkvae_error *err)
{
    if (tensor >= plan->n_tensors)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "init: tensor %u out of range", tensor);
    const vkvae_tensor_desc *t = &plan->tensors[tensor];
    const char *name = t->name ? t->name : "";
    const vkvae_tensor_desc *weight = NULL;
    size_t prefix;
    /* whose draws: a codebook's EMA sum starts as its codes, <prefix>.weight */
    uint32_t step = vkvae_init_stream_step(name);
    if (is_recurrent(name) && t->rank >= 1 && t->shape[0] >= 3) {
        float bound = (float)(1.0 / sqrt((double)(t->shape[0] / 3)));
        for (uint64_t i = 0; i < t->elems; i++) {
            float u = vkvae_rand_uniform(seed, VKVAE_STREAM_INIT, step, (uint32_t)i);
            dst[i] = bound * (2.0f * u - 1.0f);
        }
        return VKVAE_OK;
    }
    if (is_embedding(name) && t->rank == 2) {
        for (uint64_t i = 0; i < t->elems; i++)
            dst[i] = (float)vkvae_rand_normal_f64(seed, VKVAE_STREAM_INIT, step, (uint32_t)i);
        return VKVAE_OK;
    }
    if (ends_with(name, ".weight", &prefix)) {
        weight = t;
    } else if (ends_with(name, ".ema_sum", &prefix)) {
        weight = t;
        step = fnv1a(fnv1a(2166136261u, name, prefix), ".weight", 7);
    } else if (ends_with(name, ".bias", &prefix)) {
        weight = find_weight(plan, name, prefix);
        if (!weight)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "init: bias '%s' has no weight '%.*s.weight'",
                              name, (int)prefix, name);
    } else {
        float v = ends_with(name, ".running_var", &prefix) ? 1.0f : 0.0f;
        for (uint64_t i = 0; i < t->elems; i++)
            dst[i] = v;
        return VKVAE_OK;
    }
    if (weight->rank == 1) { /* a normalisation layer's scale and shift: 1 and 0 */
        for (uint64_t i = 0; i < t->elems; i++)
            dst[i] = weight == t ? 1.0f : 0.0f;
        return VKVAE_OK;
    }
    uint64_t fan_in = vkvae_init_fan_in(weight), fan_out = vkvae_init_fan_out(weight);
    if (fan_in == 0 || fan_out == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "init: weight '%s' needs rank >= 2 and a nonzero shape",
                          weight->name);
    if (plan->init >= VKVAE_INIT_COUNT)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "init: plan '%s' has an unknown init kind %u",
                          plan->model ? plan->model : "?", plan->init);
    if (plan->init != VKVAE_INIT_PYTORCH && weight != t) {
        memset(dst, 0, t->elems * sizeof *dst); /* zeros_(bias) */
        return VKVAE_OK;
    }
    if (plan->init == VKVAE_INIT_KAIMING_NORMAL) {
        double std = sqrt(2.0) / sqrt((double)fan_in); /* gain sqrt(2/(1+a^2)), a = 0 */
        for (uint64_t i = 0; i < t->elems; i++)
            dst[i] = (float)(std * vkvae_rand_normal_f64(seed, VKVAE_STREAM_INIT, step,
                                                          (uint32_t)i));
        return VKVAE_OK;
    }
    float bound = plan->init == VKVAE_INIT_XAVIER_UNIFORM
                      ? (float)sqrt(6.0 / ((double)fan_in + (double)fan_out))
                      : (float)(1.0 / sqrt((double)fan_in));
    for (uint64_t i = 0; i < t->elems; i++) {
        float u = vkvae_rand_uniform(seed, VKVAE_STREAM_INIT, step, (uint32_t)i);
        dst[i] = bound * (2.0f * u - 1.0f);
    }
    return VKVAE_OK;
}
