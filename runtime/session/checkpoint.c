/* Checkpoints (see checkpoint.h). Both directions start from the plan's
 * layout: the list of entries a checkpoint of this plan holds, each a file
 * tensor name, the plan tensor it lives in (the parameter itself, or the
 * optimizer state tensor it is cut from), the element range in that tensor
 * and the parameter's shape. Save reads each plan tensor once, cuts the
 * entries out and hands the list to the safetensors writer. Load checks the
 * file against the list completely, then assembles each plan tensor from
 * its entries (zeros elsewhere) and writes it once, so a rejected file
 * never reaches a write callback. Export is a load into host copies and a
 * weights-only save of them: no second writer, the same checks.
 */
#include "session/checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/init.h"
#include "plan/op_info.h"

typedef struct entry {
    char *name;           /* in the file: "fc.weight", "optim.m.fc.weight" */
    const char *param;    /* the parameter's plan name */
    uint32_t tensor;      /* plan tensor read and written whole */
    uint64_t first;       /* first element of the entry in that tensor */
    uint64_t elems;
    uint32_t rank;
    uint64_t shape[4];
    int optim;            /* 1: optimizer state */
} entry;

typedef struct layout {
    entry *e;
    size_t n;
    const char *optimizer; /* "adam", "adamw", "sgd", "none" */
} layout;

static void layout_free(layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].name);
    free(l->e);
    *l = (layout){ 0 };
}

static uint64_t end_byte(const vkvae_tensor_desc *t)
{
    return t->offset + 4 * t->elems;
}

/* Parameters, and the state kept with them (batch norm's running averages):
 * what a checkpoint holds besides the optimizer's state. */
static int is_param_buffer(const vkvae_plan *plan, uint32_t buffer)
{
    return buffer < plan->n_buffers && (plan->buffers[buffer].role == VKVAE_ROLE_PARAM ||
                                        plan->buffers[buffer].role == VKVAE_ROLE_STATE);
}

/* Another tensor of t's buffer that t contains and is larger than, or
 * UINT32_MAX. A tensor that has one views several parameters (e.g.
 * "params.all", what the optimizer binds) and is not one itself. */
static uint32_t contained(const vkvae_plan *plan, uint32_t ti)
{
    const vkvae_tensor_desc *t = &plan->tensors[ti];
    for (uint32_t j = 0; j < plan->n_tensors; j++) {
        const vkvae_tensor_desc *u = &plan->tensors[j];
        if (j != ti && u->buffer == t->buffer && u->offset >= t->offset &&
            end_byte(u) <= end_byte(t) && u->elems < t->elems)
            return j;
    }
    return UINT32_MAX;
}

static vkvae_status add_entry(layout *l, const char *prefix, const vkvae_tensor_desc *p,
                              uint32_t tensor, uint64_t first, vkvae_error *err)
{
    entry *e = realloc(l->e, (l->n + 1) * sizeof *e);
    if (!e)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
    l->e = e;
    e = &l->e[l->n];
    size_t len = strlen(prefix) + strlen(p->name) + 1;
    *e = (entry){ .name = malloc(len), .param = p->name, .tensor = tensor, .first = first,
                  .elems = p->elems, .rank = p->rank, .optim = prefix[0] != '\0' };
    if (!e->name)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
    snprintf(e->name, len, "%s%s", prefix, p->name);
    for (uint32_t d = 0; d < p->rank && d < 4; d++)
        e->shape[d] = p->shape[d];
    l->n++;
    return VKVAE_OK;
}

/* The optimizer step of the TRAIN program whose parameter tensor (binding
 * 0) covers parameter p, or NULL. */
static const vkvae_step_desc *optimizer_of(const vkvae_plan *plan, const vkvae_tensor_desc *p)
{
    for (uint32_t pi = 0; pi < plan->n_programs; pi++) {
        const vkvae_program_desc *prog = &plan->programs[pi];
        if (prog->kind != VKVAE_PROGRAM_TRAIN)
            continue;
        for (uint32_t s = 0; s < prog->n_steps; s++) {
            const vkvae_step_desc *st = &prog->steps[s];
            if (!(vkvae_op_flags(st->op) & VKVAE_OPF_OPTIMIZER) || st->n_tensors < 3 ||
                st->tensors[0] >= plan->n_tensors)
                continue;
            const vkvae_tensor_desc *q = &plan->tensors[st->tensors[0]];
            if (q->buffer == p->buffer && q->offset <= p->offset && end_byte(p) <= end_byte(q))
                return st;
        }
    }
    return NULL;
}

static const char *optimizer_name(const vkvae_step_desc *st)
{
    return st->op == VKVAE_OP_SGD ? "sgd" : st->p.mode == 1 ? "adamw" : "adam";
}

/* The entries of a checkpoint of plan, parameters first (plan order), then
 * each kind of optimizer state. `what` prefixes plan errors (the path). */
static vkvae_status build_layout(layout *l, const vkvae_plan *plan, const char *what,
                                 vkvae_error *err)
{
    *l = (layout){ .optimizer = "none" };
    const char *model = plan->model ? plan->model : "?";
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        if (!is_param_buffer(plan, t->buffer))
            continue;
        uint32_t inner = contained(plan, i);
        if (inner != UINT32_MAX && vkvae_init_is_layer_param(t->name))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s': parameters %s and %s overlap",
                              what, model, t->name, plan->tensors[inner].name);
        if (inner != UINT32_MAX)
            continue;
        if (!t->name || !t->name[0])
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s': parameter tensor %u has no name",
                              what, model, i);
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->rank && d < 4; d++)
            n *= t->shape[d];
        if (t->rank > 4 || n != t->elems)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s': parameter %s has %" PRIu64
                              " elements, its shape %" PRIu64, what, model, t->name, t->elems, n);
        for (size_t k = 0; k < l->n; k++) {
            const vkvae_tensor_desc *u = &plan->tensors[l->e[k].tensor];
            if (u->buffer == t->buffer && u->offset < end_byte(t) && t->offset < end_byte(u))
                return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s': parameters %s and %s overlap",
                                  what, model, u->name, t->name);
        }
        vkvae_status s = add_entry(l, "", t, i, 0, err);
        if (s)
            return s;
    }

    /* Optimizer state: bindings 2 and 3 of Adam, 2 of SGD with momentum,
     * each mirroring binding 0's layout. */
    static const struct { vkvae_op op; uint32_t binding; const char *prefix; } kinds[] = {
        { VKVAE_OP_ADAM, 2, "optim.m." },
        { VKVAE_OP_ADAM, 3, "optim.v." },
        { VKVAE_OP_SGD, 2, "optim.momentum." },
    };
    size_t n_params = l->n;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        for (size_t i = 0; i < n_params; i++) {
            const vkvae_tensor_desc *p = &plan->tensors[l->e[i].tensor];
            const vkvae_step_desc *st = optimizer_of(plan, p);
            if (!st)
                continue;
            const char *name = optimizer_name(st);
            if (strcmp(l->optimizer, "none") != 0 && strcmp(l->optimizer, name) != 0)
                return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s' trains with both %s and %s",
                                  what, model, l->optimizer, name);
            l->optimizer = name;
            if (st->op != kinds[k].op || (st->op == VKVAE_OP_SGD && st->p.momentum == 0.0f))
                continue;
            uint32_t si = kinds[k].binding < st->n_tensors ? st->tensors[kinds[k].binding] : UINT32_MAX;
            const vkvae_tensor_desc *q = &plan->tensors[st->tensors[0]];
            uint64_t first = (p->offset - q->offset) / 4;
            if (si >= plan->n_tensors || first + p->elems > plan->tensors[si].elems ||
                plan->tensors[si].buffer >= plan->n_buffers ||
                plan->buffers[plan->tensors[si].buffer].role != VKVAE_ROLE_OPTIM)
                return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: plan '%s': the %s state of %s is not an "
                                  "optimizer tensor covering it", what, model, name, p->name);
            vkvae_status s = add_entry(l, kinds[k].prefix, p, si, first, err);
            if (s)
                return s;
        }
    }
    return VKVAE_OK;
}

static void format_shape(char *buf, size_t size, uint32_t rank, const uint64_t *shape)
{
    size_t at = 0;
    at += (size_t)snprintf(buf, size, "[");
    for (uint32_t d = 0; d < rank && at < size; d++)
        at += (size_t)snprintf(buf + at, size - at, "%s%" PRIu64, d ? "," : "", shape[d]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

/* Index of the first value of v[0 .. n) that is NaN or Inf, or n. */
static uint64_t first_nonfinite(const float *v, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return n;
}

static const char *const reserved[] = { "format", "model", "spec", "epoch", "step", "seed",
                                        "optimizer", "data_crc32", "epoch_step" };
enum { N_RESERVED = sizeof reserved / sizeof *reserved };

vkvae_status vkvae_checkpoint_save(const char *path, const vkvae_plan *plan,
                                   vkvae_tensor_read_fn read, void *user,
                                   const vkvae_train_state *state, vkvae_error *err)
{
    const vkvae_st_meta *meta = state ? state->meta : NULL;
    size_t meta_count = meta ? state->meta_count : 0;
    for (size_t i = 0; i < meta_count; i++)
        for (size_t r = 0; r < N_RESERVED; r++)
            if (meta[i].key && strcmp(meta[i].key, reserved[r]) == 0)
                return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: metadata key '%s' is reserved for the "
                                  "checkpoint itself", path, meta[i].key);
    const int weights_only = state && state->weights_only;
    layout l;
    vkvae_status s = build_layout(&l, plan, path, err);
    float **cache = calloc(plan->n_tensors ? plan->n_tensors : 1, sizeof *cache);
    vkvae_st_tensor *st = calloc(l.n ? l.n : 1, sizeof *st);
    vkvae_st_meta *all = calloc(N_RESERVED + meta_count, sizeof *all);
    if (!s && (!cache || !st || !all))
        s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");

    /* Read each plan tensor once; entries point into the copies. */
    size_t kept = 0; /* entries written */
    for (size_t i = 0; !s && i < l.n; i++) {
        const entry *e = &l.e[i];
        if (e->optim && weights_only)
            continue;
        if (!cache[e->tensor]) {
            uint64_t n = plan->tensors[e->tensor].elems;
            cache[e->tensor] = malloc((n ? n : 1) * sizeof(float));
            if (!cache[e->tensor])
                s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
            else
                s = read(user, e->tensor, cache[e->tensor], err);
            if (s)
                break;
        }
        const float *v = cache[e->tensor] + e->first;
        uint64_t bad = first_nonfinite(v, e->elems);
        if (bad < e->elems) {
            s = vkvae_fail(err, VKVAE_DIVERGED, "%s: not saved: %s[%" PRIu64 "] is %s", path,
                           e->name, bad, isnan(v[bad]) ? "nan" : "inf");
            break;
        }
        st[kept] = (vkvae_st_tensor){ .name = e->name, .dtype = VKVAE_DTYPE_F32,
                                      .ndim = e->rank, .data = v };
        memcpy(st[kept++].shape, e->shape, sizeof e->shape);
    }

    if (!s) {
        /* The data section is the tensors back to back, in this order. */
        uint32_t crc = 0;
        for (size_t i = 0; i < kept; i++)
            crc = vkvae_st_crc32(crc, st[i].data, vkvae_st_tensor_bytes(&st[i]));
        char crc_text[12];
        snprintf(crc_text, sizeof crc_text, "%08" PRIx32, crc);
        char epoch[24], step[24], seed[24];
        snprintf(epoch, sizeof epoch, "%" PRIu32, state ? state->epoch : 0);
        snprintf(step, sizeof step, "%" PRIu64, state ? state->step : 0);
        snprintf(seed, sizeof seed, "%" PRIu32, state ? state->seed : 0);
        size_t m = 0;
        all[m++] = (vkvae_st_meta){ "format", VKVAE_CHECKPOINT_FORMAT };
        all[m++] = (vkvae_st_meta){ "model", plan->model ? plan->model : "" };
        if (plan->spec_text)
            all[m++] = (vkvae_st_meta){ "spec", plan->spec_text };
        all[m++] = (vkvae_st_meta){ "epoch", epoch };
        all[m++] = (vkvae_st_meta){ "step", step };
        all[m++] = (vkvae_st_meta){ "seed", seed };
        all[m++] = (vkvae_st_meta){ "optimizer", weights_only ? "none" : l.optimizer };
        all[m++] = (vkvae_st_meta){ "data_crc32", crc_text };
        char epoch_step[24];
        snprintf(epoch_step, sizeof epoch_step, "%" PRIu32, state ? state->epoch_step : 0);
        if (state && state->epoch_step)
            all[m++] = (vkvae_st_meta){ "epoch_step", epoch_step };
        for (size_t i = 0; i < meta_count; i++)
            all[m++] = meta[i];
        s = vkvae_st_write(path, st, kept, all, m, err);
    }

    if (cache)
        for (uint32_t i = 0; i < plan->n_tensors; i++)
            free(cache[i]);
    free(cache);
    free(st);
    free(all);
    layout_free(&l);
    return s;
}

static const char *find_meta(const vkvae_safetensors *f, const char *key)
{
    for (size_t i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

/* A decimal number without sign or spaces, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* Everything load checks before writing: metadata, then every tensor. */
static vkvae_status check_file(const vkvae_safetensors *f, const layout *l, const char *path,
                               const vkvae_plan *plan, int with_optimizer,
                               vkvae_train_state *state, vkvae_error *err)
{
    const char *format = find_meta(f, "format");
    if (!format)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: not a vkvae checkpoint (no \"format\" in its "
                          "metadata)", path);
    /* Files of ours carry a checksum of their data; others' load without. */
    const char *crc = find_meta(f, "data_crc32");
    char actual[12];
    if (crc) {
        snprintf(actual, sizeof actual, "%08" PRIx32, vkvae_st_crc32(0, f->data, f->data_size));
        if (strcmp(crc, actual) != 0)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: corrupted: checksum mismatch (its data "
                              "has CRC-32 %s, its metadata says %s)", path, actual, crc);
    }
    if (strcmp(format, VKVAE_CHECKPOINT_FORMAT) != 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: checkpoint format '%s', this build reads '%s'",
                          path, format, VKVAE_CHECKPOINT_FORMAT);
    const char *model = find_meta(f, "model"), *plan_model = plan->model ? plan->model : "";
    if (!model)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: checkpoint metadata has no \"model\"", path);
    if (strcmp(model, plan_model) != 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s is of model '%s', this is '%s'", path, model,
                          plan_model);
    static const char *const numbers[] = { "epoch", "step", "seed" };
    uint64_t v[3];
    for (int i = 0; i < 3; i++) {
        const char *text = find_meta(f, numbers[i]);
        if (!parse_u64(text, i == 1 ? UINT64_MAX : UINT32_MAX, &v[i]))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: checkpoint metadata \"%s\" is %s%s%s", path,
                              numbers[i], text ? "'" : "missing", text ? text : "",
                              text ? "', not a number in range" : "");
    }
    const char *spec = find_meta(f, "spec"), *epoch_step = find_meta(f, "epoch_step");
    uint64_t part = 0;
    if (epoch_step && !parse_u64(epoch_step, UINT32_MAX, &part))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: checkpoint metadata \"epoch_step\" is '%s', "
                          "not a number in range", path, epoch_step);
    *state = (vkvae_train_state){ .epoch = (uint32_t)v[0], .epoch_step = (uint32_t)part,
                                  .step = v[1], .seed = (uint32_t)v[2],
                                  .spec_differs = spec && plan->spec_text &&
                                                  strcmp(spec, plan->spec_text) != 0 };
    if (with_optimizer && strcmp(l->optimizer, "none") != 0) {
        const char *opt = find_meta(f, "optimizer");
        if (!opt || strcmp(opt, "none") == 0) /* e.g. weights only: vkvae export */
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s holds no optimizer state, this plan "
                              "trains with %s", path, l->optimizer);
        if (strcmp(opt, l->optimizer) != 0)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s holds %s state, this plan trains with %s",
                              path, opt, l->optimizer);
    }

    for (size_t i = 0; i < l->n; i++) {
        const entry *e = &l->e[i];
        if (e->optim && !with_optimizer)
            continue;
        const vkvae_st_tensor *t = vkvae_st_find(f, e->name);
        if (!t)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s has no tensor '%s'", path, e->name);
        if (t->dtype != VKVAE_DTYPE_F32)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %s is %s, checkpoints hold F32", path,
                              e->name, vkvae_dtype_name(t->dtype));
        int same = t->ndim == e->rank;
        for (uint32_t d = 0; same && d < e->rank; d++)
            same = t->shape[d] == e->shape[d];
        if (!same) {
            char want[128], got[160];
            format_shape(want, sizeof want, e->rank, e->shape);
            format_shape(got, sizeof got, t->ndim, t->shape);
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s has shape %s in the plan, %s in %s", e->name,
                              want, got, path);
        }
        /* The reader checked the byte range; the data need not be aligned. */
        const uint8_t *bytes = t->data;
        for (uint64_t k = 0; k < e->elems; k++) {
            float x;
            memcpy(&x, bytes + 4 * k, 4);
            if (!isfinite(x))
                return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %s[%" PRIu64 "] is %s (a corrupt "
                                  "checkpoint)", path, e->name, k, isnan(x) ? "nan" : "inf");
        }
    }

    /* Nothing the plan does not know, except optimizer state not asked for. */
    for (size_t i = 0; i < f->tensor_count; i++) {
        const char *name = f->tensors[i].name;
        int known = !with_optimizer && strncmp(name, "optim.", 6) == 0;
        for (size_t k = 0; !known && k < l->n; k++)
            known = strcmp(l->e[k].name, name) == 0;
        if (!known)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s has tensor '%s', which the plan lacks", path,
                              name);
    }
    return VKVAE_OK;
}

vkvae_status vkvae_checkpoint_load(const char *path, const vkvae_plan *plan,
                                   vkvae_tensor_write_fn write, void *user,
                                   vkvae_train_state *state_out, int with_optimizer,
                                   vkvae_error *err)
{
    layout l;
    vkvae_safetensors f = { 0 };
    vkvae_train_state state = { 0 };
    vkvae_status s = build_layout(&l, plan, path, err);
    if (!s)
        s = vkvae_st_read(&f, path, err);
    if (!s)
        s = check_file(&f, &l, path, plan, with_optimizer, &state, err);

    /* Assemble each plan tensor from its entries and write it once. */
    uint8_t *done = calloc(plan->n_tensors ? plan->n_tensors : 1, 1);
    if (!s && !done)
        s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
    for (size_t i = 0; !s && i < l.n; i++) {
        uint32_t ti = l.e[i].tensor;
        if ((l.e[i].optim && !with_optimizer) || done[ti])
            continue;
        done[ti] = 1;
        uint64_t n = plan->tensors[ti].elems;
        float *v = calloc(n ? n : 1, sizeof *v);
        if (!v) {
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
            break;
        }
        for (size_t k = i; k < l.n; k++)
            if (l.e[k].tensor == ti)
                memcpy(v + l.e[k].first, vkvae_st_find(&f, l.e[k].name)->data,
                       l.e[k].elems * sizeof *v);
        s = write(user, ti, v, err);
        free(v);
    }
    free(done);
    if (!s && state_out)
        *state_out = state;
    vkvae_st_destroy(&f);
    layout_free(&l);
    return s;
}

/* The plan's tensors as host copies, for export: load fills the parameters
 * (write), save reads them back (read). */
typedef struct host_tensors {
    const vkvae_plan *plan;
    float **v;
} host_tensors;

static vkvae_status host_write(void *user, uint32_t tensor, const float *src, vkvae_error *err)
{
    host_tensors *h = user;
    uint64_t n = h->plan->tensors[tensor].elems;
    free(h->v[tensor]);
    if (!(h->v[tensor] = malloc((n ? n : 1) * sizeof(float))))
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
    memcpy(h->v[tensor], src, n * sizeof(float));
    return VKVAE_OK;
}

static vkvae_status host_read(void *user, uint32_t tensor, float *dst, vkvae_error *err)
{
    host_tensors *h = user;
    if (!h->v[tensor]) /* save reads only what load wrote: the parameters */
        return vkvae_fail(err, VKVAE_BAD_INPUT, "checkpoint: export: %s was not loaded",
                          h->plan->tensors[tensor].name);
    memcpy(dst, h->v[tensor], h->plan->tensors[tensor].elems * sizeof(float));
    return VKVAE_OK;
}

vkvae_status vkvae_checkpoint_export(const char *src, const char *dst, const vkvae_plan *plan,
                                     vkvae_error *err)
{
    host_tensors h = { plan, calloc(plan->n_tensors ? plan->n_tensors : 1, sizeof *h.v) };
    if (!h.v)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "checkpoint: out of memory");
    vkvae_train_state state;
    vkvae_status s = vkvae_checkpoint_load(src, plan, host_write, &h, &state, 0, err);
    if (!s) {
        state.weights_only = 1;
        s = vkvae_checkpoint_save(dst, plan, host_read, &h, &state, err);
    }
    for (uint32_t i = 0; i < plan->n_tensors; i++)
        free(h.v[i]);
    free(h.v);
    return s;
}
