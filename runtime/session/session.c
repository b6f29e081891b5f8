/* A model's plan on one backend (see session.h): the device's
 * (gpu/gpu_plan.c) when the desc has a context, else the CPU's
 * (cpu/cpu_backend.c); every call here works on either, with the same
 * tensor indices. The session owns a copy of the plan's program and step
 * tables, patched where flags override the spec (the learning rate is a
 * constant of the optimizer steps), the permutation on the host, and the
 * schedule of push constants: one per train step, with the global step
 * counter (Philox's and Adam's t), the batch's first row and its valid rows.
 *
 * Data sets live with the plan as bytes in its DATA tensors (on the device,
 * or in the CPU backend's memory), sized by the generator (--data-rows) and
 * written whole from zero-padded host copies; evaluation puts the test set
 * in the same place and the training set back afterwards, a plain copy on
 * unified memory.
 *
 * In a group (data parallel, group.h) every pass runs per global batch:
 * each member takes its slice of the batch's rows (push.base, push.rows)
 * and draws its random numbers from its slice's first row on (push.row0),
 * so the members' steps together are the one-process step. A train step
 * runs in parts cut at its optimizer steps; each optimizer's gradient is
 * summed across the group before it (losses are sums over rows, so the sum
 * is the one-process gradient). Loss totals and codebook counts are summed
 * when read; batch norm's running statistics are averaged after an epoch.
 *
 * Philox steps keep each use's draws apart: training's from 0 (the global
 * step), evaluation's from 2^31, the IWAE estimate's from 3 * 2^30; encode,
 * decode and sample count batches from 0, as api/record.c's passes do.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu_backend.h"
#include "gpu/gpu_plan.h"
#include "plan/init.h"
#include "plan/op_info.h"
#include "plan/shuffle.h"
#include "session/session.h"

struct vkvae_session {
    vkvae_plan plan;                          /* a copy, programs patched */
    vkvae_program_desc programs[VKVAE_PROGRAM_COUNT];
    vkvae_step_desc *steps[VKVAE_PROGRAM_COUNT];
    vkvae_context *ctx;
    vkvae_gpu_plan *gpu;
    vkvae_cpu *cpu;
    uint32_t t_images, t_labels, t_perm, t_acc, t_mean, t_params;
    uint32_t t_terms[VKVAE_MAX_TERMS], n_terms; /* "loss.<term>" */
    uint32_t t_usage[VKVAE_MAX_TERMS], n_usage; /* "usage.<call>": a codebook's counts */
    uint32_t t_x, t_y, t_mu, t_logvar, t_z;   /* encode/decode inputs and outputs */
    float temperature;                        /* a text model's sampling (push.temperature) */
    uint32_t t_codes, t_codebook;             /* a VQ-VAE's code indices and codebook */
    uint32_t t_iwae_x, t_iwae_y, t_logw;      /* the IWAE estimate's */
    int on_images;                            /* decode reads io.x (vkvae_session_decodes_on_images) */
    uint32_t rows, features, latent, batch;
    uint32_t pass_batch;                      /* a pass's batch: global in a group */
    vkvae_group group;                        /* size 0: alone */
    float *reduce_buf;                        /* a gradient's host copy, for the group */
    double reduce_s;                          /* seconds spent summing gradients so far */
    uint8_t *images, *labels;                 /* host copies, rows long */
    uint32_t *perm;
    const vkvae_idx *train_images, *train_labels;
    int train_resident;                       /* the training set is in the DATA tensors whole */
    double submit_ms;
};

const vkvae_plan *vkvae_session_plan(const vkvae_session *s)
{
    return &s->plan;
}

uint32_t vkvae_session_features(const vkvae_session *s)
{
    return s->features;
}

uint32_t vkvae_session_terms(const vkvae_session *s) { return s->n_terms; }

const char *vkvae_session_term_name(const vkvae_session *s, uint32_t i)
{
    return i < s->n_terms ? s->plan.tensors[s->t_terms[i]].name + 5 : NULL;
}

uint32_t vkvae_session_codebooks(const vkvae_session *s) { return s->n_usage; }

const char *vkvae_session_codebook_name(const vkvae_session *s, uint32_t i)
{
    return i < s->n_usage ? s->plan.tensors[s->t_usage[i]].name + 6 : NULL;
}

vkvae_status vkvae_session_codebook_usage(vkvae_session *s, uint32_t i,
                                          vkvae_codebook_usage *out, vkvae_error *err)
{
    if (i >= s->n_usage)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "codebook %u of %u", i, s->n_usage);
    const vkvae_tensor_desc *t = &s->plan.tensors[s->t_usage[i]];
    float *count = malloc(t->elems * sizeof *count);
    if (!count)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "codebook usage: out of host memory");
    vkvae_status st = vkvae_session_read(s, s->t_usage[i], count, err);
    if (!st && s->group.size) /* the group's counts */
        st = s->group.allreduce(s->group.user, count, t->elems, VKVAE_REDUCE_SUM_F32, err);
    *out = (vkvae_codebook_usage){.codes = (uint32_t)t->elems};
    for (uint64_t k = 0; !st && k < t->elems; k++) {
        out->positions += count[k];
        out->dead += count[k] == 0;
    }
    double entropy = 0;
    for (uint64_t k = 0; !st && k < t->elems && out->positions > 0; k++)
        if (count[k] > 0)
            entropy -= count[k] / out->positions * log(count[k] / out->positions);
    out->perplexity = exp(entropy);
    free(count);
    return st;
}

/* The loss terms' sums: every other "loss." tensor of the accumulators; and
 * the codebooks' usage counts, "usage." tensors. */
static vkvae_status find_terms(vkvae_session *s, vkvae_error *err)
{
    const vkvae_plan *plan = &s->plan;
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        if (t->buffer >= plan->n_buffers || plan->buffers[t->buffer].role != VKVAE_ROLE_ACCUM ||
            i == s->t_acc)
            continue;
        int term = strncmp(t->name, "loss.", 5) == 0 && t->elems == 4;
        int usage = strncmp(t->name, "usage.", 6) == 0;
        if ((term && s->n_terms == VKVAE_MAX_TERMS) || (usage && s->n_usage == VKVAE_MAX_TERMS))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': more than %d loss terms or "
                              "codebooks", plan->model, VKVAE_MAX_TERMS);
        if (term)
            s->t_terms[s->n_terms++] = i;
        if (usage)
            s->t_usage[s->n_usage++] = i;
    }
    return VKVAE_OK;
}

uint32_t vkvae_session_latent(const vkvae_session *s)
{
    return s->latent;
}

static vkvae_status need_tensor(const vkvae_plan *plan, const char *name, uint32_t *out,
                                vkvae_error *err)
{
    *out = vkvae_plan_find_tensor(plan, name);
    if (*out == UINT32_MAX)
        return vkvae_fail(err, VKVAE_INTERNAL, "model %s: its plan has no tensor '%s'",
                          plan->model, name);
    return VKVAE_OK;
}

/* Copies the plan's programs so flags can change their constants. */
static vkvae_status copy_programs(vkvae_session *s, const vkvae_plan *plan, float lr,
                                  vkvae_error *err)
{
    s->plan = *plan;
    if (plan->n_programs > VKVAE_PROGRAM_COUNT)
        return vkvae_fail(err, VKVAE_INTERNAL, "model %s: %u programs", plan->model,
                          plan->n_programs);
    for (uint32_t p = 0; p < plan->n_programs; p++) {
        const vkvae_program_desc *src = &plan->programs[p];
        vkvae_step_desc *steps = malloc((src->n_steps ? src->n_steps : 1) * sizeof *steps);
        if (!steps)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        memcpy(steps, src->steps, src->n_steps * sizeof *steps);
        for (uint32_t i = 0; i < src->n_steps; i++)
            if (lr > 0 && (vkvae_op_flags(steps[i].op) & VKVAE_OPF_OPTIMIZER))
                steps[i].p.lr = lr;
        s->steps[p] = steps;
        s->programs[p] = *src;
        s->programs[p].steps = steps;
    }
    s->plan.programs = s->programs;
    return VKVAE_OK;
}

static const vkvae_program_desc *program_of(const vkvae_session *s, vkvae_program_kind kind)
{
    for (uint32_t p = 0; p < s->plan.n_programs; p++)
        if (s->plan.programs[p].kind == kind)
            return &s->plan.programs[p];
    return NULL;
}

/* Whether the decode program reads io.x (a prior learned from images'
 * conditions): a fact of the plan, found once. */
static int decode_reads_images(const vkvae_session *s)
{
    const vkvae_program_desc *pr = program_of(s, VKVAE_PROGRAM_DECODE);
    for (uint32_t i = 0; pr && s->t_x != UINT32_MAX && i < pr->n_steps; i++)
        for (uint32_t k = 0; k < pr->steps[i].n_tensors; k++)
            if (pr->steps[i].tensors[k] == s->t_x)
                return 1;
    return 0;
}

/* This session trains as one member of group: checked, and on a device a
 * host buffer for the largest gradient an optimizer step reads (used where
 * that memory is not mapped). */
static vkvae_status join_group(vkvae_session *s, const vkvae_group *group, vkvae_error *err)
{
    if (!group->allreduce || group->size == 0 || group->rank >= group->size)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "a group's member %u of %u", group->rank,
                          group->size);
    uint32_t slice = (s->pass_batch + group->size - 1) / group->size;
    if (slice > s->batch)
        return vkvae_fail(err, VKVAE_INTERNAL, "model %s: a slice of %u rows of the global "
                          "batch %u, past the plan's batch of %u", s->plan.model, slice,
                          s->pass_batch, s->batch);
    const vkvae_program_desc *train = program_of(s, VKVAE_PROGRAM_TRAIN);
    uint64_t widest = 0;
    for (uint32_t i = 0; train && i < train->n_steps; i++) {
        vkvae_op op = train->steps[i].op;
        /* These change the codebook from one member's batch alone. */
        if (group->size > 1 &&
            (op == VKVAE_OP_VQ_EMA || op == VKVAE_OP_VQ_RESTART))
            return vkvae_fail(err, VKVAE_UNSUPPORTED,
                              "model %s: a codebook moved by %s does not train in a group of "
                              "%u yet; train it in one process", s->plan.model,
                              op == VKVAE_OP_VQ_EMA ? "moving averages (ema)" : "restarts",
                              group->size);
        if (vkvae_op_flags(op) & VKVAE_OPF_OPTIMIZER) {
            uint64_t n = s->plan.tensors[train->steps[i].tensors[1]].elems;
            widest = n > widest ? n : widest;
        }
    }
    s->group = *group;
    if (!s->ctx) /* the CPU backend's gradients are summed where they lie */
        return VKVAE_OK;
    s->reduce_buf = malloc((widest ? widest : 1) * sizeof *s->reduce_buf);
    return s->reduce_buf ? VKVAE_OK
                         : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
}

vkvae_status vkvae_session_create(const vkvae_session_desc *desc, vkvae_session **out,
                                  vkvae_error *err)
{
    *out = NULL;
    vkvae_session *s = calloc(1, sizeof *s);
    if (!s)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    s->ctx = desc->ctx;
    s->temperature = 1.0f;
    /* Short enough that no driver's watchdog fires and a desktop sharing
     * the GPU stays responsive, long enough that submitting costs little. */
    s->submit_ms = desc->submit_ms > 0 ? desc->submit_ms : 50.0;
    /* Everything below reads the copy: its optimizer steps carry the
     * flag's learning rate. */
    vkvae_status st = copy_programs(s, desc->plan, desc->lr, err);
    const vkvae_plan *plan = &s->plan;
    /* Every plan trains, so these four must exist; the rest belong to some
     * models only (labels: conditional ones; io.*: the inference programs)
     * and stay UINT32_MAX where absent, which the calls check. */
    if (!st)
        st = need_tensor(plan, "train.images", &s->t_images, err);
    if (!st)
        st = need_tensor(plan, "train.perm", &s->t_perm, err);
    if (!st)
        st = need_tensor(plan, "loss.acc", &s->t_acc, err);
    if (!st)
        st = need_tensor(plan, "params.all", &s->t_params, err);
    if (!st)
        st = find_terms(s, err);
    s->t_labels = vkvae_plan_find_tensor(plan, "train.labels");
    s->t_mean = vkvae_plan_find_tensor(plan, "io.mean");
    s->t_x = vkvae_plan_find_tensor(plan, "io.x");
    s->t_y = vkvae_plan_find_tensor(plan, "io.y");
    s->t_mu = vkvae_plan_find_tensor(plan, "io.mu");
    s->t_logvar = vkvae_plan_find_tensor(plan, "io.logvar");
    s->t_z = vkvae_plan_find_tensor(plan, "io.z");
    s->t_iwae_x = vkvae_plan_find_tensor(plan, "io.iwae_x");
    s->t_iwae_y = vkvae_plan_find_tensor(plan, "io.iwae_y");
    s->t_logw = vkvae_plan_find_tensor(plan, "io.logw");
    s->on_images = decode_reads_images(s);
    /* a VQ-VAE's encode ends in the codebook's choice: indices to io.codes */
    s->t_codes = s->t_codebook = UINT32_MAX;
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t i = 0; plan->programs[p].kind == VKVAE_PROGRAM_ENCODE &&
                             i < plan->programs[p].n_steps; i++) {
            const vkvae_step_desc *st = &plan->programs[p].steps[i];
            if (st->op == VKVAE_OP_VQ_NEAREST && st->n_tensors == 4) {
                s->t_codebook = st->tensors[1];
                s->t_codes = st->tensors[3];
            }
        }
    if (!st) {
        /* The data set's capacity is the generator's --data-rows, read off
         * the images tensor; the host copies are that long so a smaller set
         * can be padded (put_data). */
        const vkvae_tensor_desc *img = &plan->tensors[s->t_images];
        s->rows = img->shape[0];
        s->features = s->rows ? (uint32_t)(img->elems / s->rows) : 0;
        s->batch = plan->batch;
        s->pass_batch = desc->global_batch ? desc->global_batch : plan->batch;
        uint32_t z = vkvae_plan_find_tensor(plan, "io.z");
        /* a classifier's encode program gives its features in io.mu */
        if (z == UINT32_MAX)
            z = s->t_mu;
        s->latent = z != UINT32_MAX ? plan->tensors[z].shape[plan->tensors[z].rank - 1] : 0;
        s->images = calloc((size_t)s->rows * s->features, 1);
        s->labels = calloc(s->rows, 1);
        s->perm = calloc(s->rows, sizeof *s->perm);
        if (!s->images || !s->labels || !s->perm)
            st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory for the data set");
    }
    if (!st && desc->group)
        st = join_group(s, desc->group, err);
    if (!st)
        st = s->ctx ? vkvae_gpu_plan_create(s->ctx, plan, &s->gpu, err)
                    : vkvae_cpu_create(plan, VKVAE_CPU_FAST, &s->cpu, err);
    if (st) {
        vkvae_session_destroy(s);
        return st;
    }
    *out = s;
    return VKVAE_OK;
}

void vkvae_session_destroy(vkvae_session *s)
{
    if (!s)
        return;
    vkvae_gpu_plan_destroy(s->gpu);
    vkvae_cpu_destroy(s->cpu);
    for (int p = 0; p < VKVAE_PROGRAM_COUNT; p++)
        free(s->steps[p]);
    free(s->images);
    free(s->labels);
    free(s->perm);
    free(s->reduce_buf);
    free(s);
}

vkvae_status vkvae_session_read(vkvae_session *s, uint32_t tensor, float *dst, vkvae_error *err)
{
    return s->gpu ? vkvae_gpu_plan_read(s->gpu, tensor, dst, err)
                  : vkvae_cpu_read_f32(s->cpu, tensor, dst, err);
}

vkvae_status vkvae_session_write(vkvae_session *s, uint32_t tensor, const float *src,
                                 vkvae_error *err)
{
    return s->gpu ? vkvae_gpu_plan_write(s->gpu, tensor, src, err)
                  : vkvae_cpu_write_f32(s->cpu, tensor, src, err);
}

/* DATA tensors hold raw bytes on both backends. */
static vkvae_status write_raw(vkvae_session *s, uint32_t tensor, const void *src, size_t bytes,
                              vkvae_error *err)
{
    if (s->gpu)
        return vkvae_gpu_plan_write(s->gpu, tensor, src, err);
    vkvae_cpu_view v = vkvae_cpu_tensor(s->cpu, tensor);
    if (!v.data || v.bytes < bytes)
        return vkvae_fail(err, VKVAE_INTERNAL, "data tensor %u is too small", tensor);
    memcpy(v.data, src, bytes);
    return VKVAE_OK;
}

vkvae_status vkvae_session_init_params(vkvae_session *s, uint32_t seed, vkvae_error *err)
{
    if (s->cpu)
        return vkvae_cpu_init_params(s->cpu, seed, err);
    const vkvae_plan *plan = &s->plan;
    vkvae_status st = VKVAE_OK;
    for (uint32_t t = 0; !st && t < plan->n_tensors; t++) {
        const vkvae_tensor_desc *d = &plan->tensors[t];
        if (!vkvae_init_has_start(plan, t))
            continue;
        float *v = malloc(d->elems * sizeof *v);
        if (!v)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        st = vkvae_init_tensor(v, plan, t, seed, err);
        if (!st)
            st = vkvae_gpu_plan_write(s->gpu, t, v, err);
        free(v);
    }
    return st;
}

/* Checks that images (and labels) fit the model. */
static vkvae_status check_data(vkvae_session *s, const vkvae_idx *images, const vkvae_idx *labels,
                               vkvae_error *err)
{
    uint64_t features = (uint64_t)images->channels * images->rows * images->cols;
    if (features != s->features)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%s: images are %ux%ux%u (%llu values), model %s takes %ux%ux%u",
                          images->path, images->channels, images->rows, images->cols,
                          (unsigned long long)features, s->plan.model, s->plan.input_c,
                          s->plan.input_h, s->plan.input_w);
    if (s->t_labels != UINT32_MAX && !labels)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s is conditional: it needs labels",
                          s->plan.model);
    return VKVAE_OK;
}

/* Puts rows order[0 .. n) of the set (rows first .. first + n when order
 * is NULL) in the DATA tensors' rows 0 .. n. Tensors are written whole, so
 * the host copy is padded to the capacity; with zeros, so nothing of an
 * earlier, larger set lingers in it. */
static vkvae_status put_rows(vkvae_session *s, const vkvae_idx *images, const vkvae_idx *labels,
                             const uint32_t *order, uint32_t first, uint32_t n, vkvae_error *err)
{
    size_t f = s->features;
    memset(s->images, 0, (size_t)s->rows * f);
    if (order)
        for (uint32_t i = 0; i < n; i++)
            memcpy(s->images + i * f, images->data + (size_t)order[i] * f, f);
    else
        memcpy(s->images, images->data + (size_t)first * f, (size_t)n * f);
    s->train_resident = 0;
    vkvae_status st = write_raw(s, s->t_images, s->images, (size_t)s->rows * f, err);
    if (!st && s->t_labels != UINT32_MAX) {
        memset(s->labels, 0, s->rows);
        for (uint32_t i = 0; i < n; i++)
            s->labels[i] = labels->data[order ? order[i] : first + i];
        st = write_raw(s, s->t_labels, s->labels, s->rows, err);
    }
    return st;
}

vkvae_status vkvae_session_set_train_data(vkvae_session *s, const vkvae_idx *images,
                                          const vkvae_idx *labels, vkvae_error *err)
{
    vkvae_status st = check_data(s, images, labels, err);
    /* A set that fits is uploaded now; a larger one streams through the
     * tensors a chunk at a time, each epoch. */
    s->train_resident = 0;
    if (!st && images->count <= s->rows) {
        st = put_rows(s, images, labels, NULL, 0, images->count, err);
        s->train_resident = !st;
    }
    if (!st) {
        s->train_images = images;
        s->train_labels = labels;
    }
    return st;
}

typedef struct run_state {
    vkvae_session *s;
    uint32_t skip;               /* steps of the pass run before this call */
    uint32_t done_before, steps; /* steps of earlier chunks, of the whole pass */
    uint32_t completed;          /* steps run so far, earlier chunks' included */
    vkvae_progress_fn progress;
    void *user;
} run_state;

/* The loss sums so far: the group's, summed across it. */
static vkvae_status read_losses(vkvae_session *s, vkvae_losses *out, vkvae_error *err)
{
    float acc[4];
    vkvae_status st = vkvae_session_read(s, s->t_acc, acc, err);
    if (!st)
        *out = (vkvae_losses){acc[0], acc[1], acc[2], acc[3], .n_terms = s->n_terms};
    for (uint32_t i = 0; i < s->n_terms && !st; i++) {
        st = vkvae_session_read(s, s->t_terms[i], acc, err);
        out->term[i] = acc[0];
    }
    if (!st && s->group.size) {
        double sums[4 + VKVAE_MAX_TERMS] = {out->recon, out->kl, out->total, out->rows};
        memcpy(sums + 4, out->term, s->n_terms * sizeof *sums);
        st = s->group.allreduce(s->group.user, sums, 4 + s->n_terms, VKVAE_REDUCE_SUM_F64, err);
        out->recon = sums[0], out->kl = sums[1], out->total = sums[2], out->rows = sums[3];
        memcpy(out->term, sums + 4, s->n_terms * sizeof *sums);
    }
    return st;
}

static vkvae_status on_runs_done(void *user, uint32_t done, vkvae_error *err)
{
    run_state *r = user;
    r->completed = r->done_before + done;
    if (!r->progress)
        return VKVAE_OK;
    vkvae_losses so_far;
    vkvae_status st = read_losses(r->s, &so_far, err);
    uint64_t stop = !st && r->progress(r->user, r->completed, r->steps, &so_far);
    /* In a group, any member's stop stops all at the same step. */
    if (!st && r->s->group.size)
        st = r->s->group.allreduce(r->s->group.user, &stop, 1, VKVAE_REDUCE_MAX_U64, err);
    if (!st && stop)
        st = vkvae_fail(err, VKVAE_CANCELLED, "stopped after step %u of %u", r->completed,
                        r->steps);
    return st;
}

static vkvae_status run_range(vkvae_session *s, vkvae_program_kind kind, uint32_t first,
                              uint32_t end, const vkvae_push *push, vkvae_error *err)
{
    return s->gpu ? vkvae_gpu_plan_run_range(s->gpu, kind, first, end, push, err)
                  : vkvae_cpu_run_range(s->cpu, kind, first, end, push, err);
}

/* The gradient tensor t summed across the group, in place (zero: this
 * member has no rows in the batch, and adds zeros). The CPU backend's
 * memory and a device's mapped memory (unified memory) are reduced where
 * they lie; other device memory goes through a host copy. */
static vkvae_status sum_gradient(vkvae_session *s, uint32_t t, int zero, vkvae_error *err)
{
    size_t n = s->plan.tensors[t].elems;
    float *in_place = s->cpu ? vkvae_cpu_tensor(s->cpu, t).data : vkvae_gpu_plan_mapped(s->gpu, t);
    float *g = in_place ? in_place : s->reduce_buf;
    vkvae_status st = VKVAE_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (zero)
        memset(g, 0, n * sizeof *g);
    else if (!in_place)
        st = vkvae_session_read(s, t, g, err);
    if (!st)
        st = s->group.allreduce(s->group.user, g, n, VKVAE_REDUCE_SUM_F32, err);
    if (!st && !in_place)
        st = vkvae_session_write(s, t, g, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->reduce_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return st;
}

double vkvae_session_reduce_seconds(const vkvae_session *s)
{
    return s->reduce_s;
}

/* One step of program kind as this member's part of the group's step:
 * the program in parts cut before each optimizer step, whose gradient is
 * summed across the group first. A member without rows in a short last
 * batch runs only the optimizer steps, on zeros of its own. */
static vkvae_status run_group_step(vkvae_session *s, vkvae_program_kind kind,
                                   const vkvae_push *push, vkvae_error *err)
{
    const vkvae_program_desc *prog = program_of(s, kind);
    if (!prog)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no program of kind %d",
                          s->plan.model, (int)kind);
    vkvae_status st = VKVAE_OK;
    uint32_t first = 0;
    for (uint32_t i = 0; !st && i <= prog->n_steps; i++) {
        int optimizer = i < prog->n_steps &&
                        (vkvae_op_flags(prog->steps[i].op) & VKVAE_OPF_OPTIMIZER);
        if (!optimizer && i < prog->n_steps)
            continue;
        if (push->rows)
            st = run_range(s, kind, first, i, push, err);
        else if (first < i && first > 0) /* the optimizer step that began the part */
            st = run_range(s, kind, first, first + 1, push, err);
        if (!st && optimizer)
            st = sum_gradient(s, prog->steps[i].tensors[1], push->rows == 0, err);
        first = i;
    }
    return st;
}

/* Runs program kind once per push, on either backend, reporting progress
 * through r. */
static vkvae_status run_all(vkvae_session *s, vkvae_program_kind kind, const vkvae_push *pushes,
                            uint32_t n, run_state *r, vkvae_error *err)
{
    if (s->group.size) { /* step by step: each may all-reduce part way */
        vkvae_status st = VKVAE_OK;
        for (uint32_t i = 0; !st && i < n; i++) {
            st = run_group_step(s, kind, &pushes[i], err);
            if (!st)
                st = on_runs_done(r, i + 1, err);
        }
        return st;
    }
    if (s->gpu)
        return vkvae_gpu_plan_run_many(s->gpu, kind, pushes, n, s->submit_ms, on_runs_done, r,
                                       err);
    vkvae_status st = VKVAE_OK;
    for (uint32_t i = 0; !st && i < n; i++) {
        st = vkvae_cpu_run(s->cpu, kind, &pushes[i], err);
        /* Each step is one "submission" here: progress may stop at any. */
        if (!st)
            st = on_runs_done(r, i + 1, err);
    }
    return st;
}

/* A training pass's KL weights under logistic annealing: each step's
 * weight times 1/(1+exp(-k*(step-x0))). */
static void anneal(const vkvae_session *s, vkvae_program_kind kind, vkvae_push *p, uint32_t n)
{
    float k = s->plan.kl_anneal_k, x0 = s->plan.kl_anneal_x0;
    for (uint32_t i = 0; p && k > 0 && kind == VKVAE_PROGRAM_TRAIN && i < n; i++)
        p[i].kl_weight *= (float)(1.0 / (1.0 + exp(-(double)k * ((double)p[i].step - x0))));
}

/* The pushes of one pass over the rows rows of the DATA tensors from row
 * first on, in batches. */
static vkvae_push *schedule(const vkvae_session *s, uint32_t first, uint32_t rows, uint32_t seed,
                            uint32_t first_step, float kl_weight, uint32_t *n)
{
    uint32_t b = s->pass_batch;
    *n = (rows + b - 1) / b;
    vkvae_push *p = calloc(*n ? *n : 1, sizeof *p);
    for (uint32_t i = 0; p && i < *n; i++) {
        uint32_t done = i * b;
        p[i] = (vkvae_push){
            .seed = seed,
            .step = first_step + i,
            .base = first + done,
            .rows = rows - done < b ? rows - done : b,
            .kl_weight = kl_weight,
            .grad_scale = 1.0f, /* losses are summed over the batch, as PyTorch's example */
        };
        if (s->group.size) { /* this member's slice */
            uint32_t lo, hi;
            vkvae_group_slice(&s->group, p[i].rows, &lo, &hi);
            p[i].base += lo;
            p[i].rows = hi - lo;
            p[i].row0 = lo;
        }
    }
    return p;
}

static vkvae_status zero_losses(vkvae_session *s, vkvae_error *err)
{
    const float zero[4] = {0, 0, 0, 0};
    vkvae_status st = vkvae_session_write(s, s->t_acc, zero, err);
    for (uint32_t i = 0; i < s->n_terms && !st; i++)
        st = vkvae_session_write(s, s->t_terms[i], zero, err);
    for (uint32_t i = 0; i < s->n_usage && !st; i++) {
        float *zeros = calloc(s->plan.tensors[s->t_usage[i]].elems, sizeof *zeros);
        st = zeros ? vkvae_session_write(s, s->t_usage[i], zeros, err)
                   : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        free(zeros);
    }
    return st;
}

vkvae_status vkvae_session_set_temperature(vkvae_session *s, float temperature,
                                           vkvae_error *err)
{
    if (!(temperature >= 0.0f && temperature <= 100.0f))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "--temperature %g: give 0 (the most likely "
                          "token) up to 100", (double)temperature);
    s->temperature = temperature;
    return VKVAE_OK;
}

float vkvae_plan_kl_weight(const vkvae_plan *plan, uint32_t epoch)
{
    float w = plan->kl_beta;
    if (plan->kl_warmup_epochs)
        w *= fminf(1.0f, (float)(epoch + 1) / (float)plan->kl_warmup_epochs);
    return w;
}

uint32_t vkvae_stream_chunk(uint32_t rows, uint32_t batch, uint32_t *slots)
{
    uint32_t half = rows / 2 - rows / 2 % batch;
    *slots = half ? 2 : 1;
    return half ? half : rows - rows % batch;
}

/* Rows of a set copied into one slot of the DATA tensors, through host
 * memory the backend gives (its own, or a mirror copied in at the next
 * run): plain copies, so a thread can do them while the device trains. */
typedef struct chunk_fill {
    const vkvae_idx *images, *labels;
    const uint32_t *order;          /* the set's rows in order (NULL: as stored) */
    uint32_t first, n;              /* rows first .. first + n of that order */
    size_t features;
    uint8_t *images_at, *labels_at; /* labels_at NULL: no labels */
} chunk_fill;

static void *fill_chunk(void *arg)
{
    const chunk_fill *c = arg;
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t row = c->order ? c->order[c->first + i] : c->first + i;
        memcpy(c->images_at + (size_t)i * c->features,
               c->images->data + (size_t)row * c->features, c->features);
        if (c->labels_at)
            c->labels_at[i] = c->labels->data[row];
    }
    return NULL;
}

/* Host memory for bytes [offset, offset + bytes) of a DATA tensor. */
static vkvae_status data_range(vkvae_session *s, uint32_t tensor, uint64_t offset, uint64_t bytes,
                               uint8_t **out, vkvae_error *err)
{
    if (s->gpu)
        return vkvae_gpu_plan_host_range(s->gpu, tensor, offset, bytes, (void **)out, err);
    vkvae_cpu_view v = vkvae_cpu_tensor(s->cpu, tensor);
    if (!v.data || offset > v.bytes || bytes > v.bytes - offset)
        return vkvae_fail(err, VKVAE_INTERNAL, "data tensor %u is too small", tensor);
    *out = (uint8_t *)v.data + offset;
    return VKVAE_OK;
}

/* The host memory of rows first .. first + n (of order) in slot slot. */
static vkvae_status chunk_begin(vkvae_session *s, const vkvae_idx *images,
                                const vkvae_idx *labels, const uint32_t *order, uint32_t first,
                                uint32_t n, uint32_t at, chunk_fill *c, vkvae_error *err)
{
    *c = (chunk_fill){images, labels, order, first, n, s->features, NULL, NULL};
    vkvae_status st = data_range(s, s->t_images, (uint64_t)at * s->features,
                                 (uint64_t)n * s->features, &c->images_at, err);
    if (!st && s->t_labels != UINT32_MAX)
        st = data_range(s, s->t_labels, at, n, &c->labels_at, err);
    return st;
}

/* The chunk written: its copy queued where it went through a mirror. */
static vkvae_status chunk_commit(vkvae_session *s, const chunk_fill *c, uint32_t at,
                                 vkvae_error *err)
{
    if (!s->gpu)
        return VKVAE_OK;
    vkvae_status st = vkvae_gpu_plan_commit(s->gpu, s->t_images, (uint64_t)at * s->features,
                                            (uint64_t)c->n * s->features, err);
    if (!st && c->labels_at)
        st = vkvae_gpu_plan_commit(s->gpu, s->t_labels, at, c->n, err);
    return st;
}

/* Chunks end at whole numbers of chunks (the first may begin where an
 * earlier run left off), the last at the set's end. */
static uint32_t chunk_end(uint32_t from, uint32_t chunk, uint32_t count)
{
    uint64_t end = ((uint64_t)from / chunk + 1) * chunk;
    return end < count ? (uint32_t)end : count;
}

/* The streamed pass (run_pass): chunks of whole batches in two slots of
 * the DATA tensors where they hold two (vkvae_stream_chunk), read through
 * the identity permutation. While one chunk's steps run, a thread copies
 * the next chunk's rows into the other slot (its last reader, the chunk
 * before, has finished: every run_all waits for its steps), so the device
 * waits only for the first chunk. With one slot each chunk is copied
 * after the steps before it. */
static vkvae_status stream_pass(vkvae_session *s, vkvae_program_kind kind,
                                const vkvae_idx *images, const vkvae_idx *labels,
                                const uint32_t *order, uint32_t first, uint32_t seed,
                                uint32_t start, float kl_weight, run_state *r, vkvae_error *err)
{
    uint32_t count = images->count, slots;
    uint32_t chunk = vkvae_stream_chunk(s->rows, s->pass_batch, &slots);
    uint32_t end = chunk_end(first, chunk, count), slot = 0;
    chunk_fill cur;
    vkvae_status st = chunk_begin(s, images, labels, order, first, end - first, 0, &cur, err);
    if (!st) {
        fill_chunk(&cur);
        st = chunk_commit(s, &cur, 0, err);
    }
    while (!st && first < count) {
        uint32_t next_end = chunk_end(end, chunk, count);
        uint32_t next_at = slots == 2 ? (slot ^ 1) * chunk : 0;
        chunk_fill next = {0};
        pthread_t worker;
        int threaded = 0;
        if (end < count && slots == 2) {
            st = chunk_begin(s, images, labels, order, end, next_end - end, next_at, &next, err);
            threaded = !st && pthread_create(&worker, NULL, fill_chunk, &next) == 0;
        }
        uint32_t n = 0;
        vkvae_push *pushes = st ? NULL
                                : schedule(s, slot * chunk, end - first, seed,
                                           start + r->completed - r->skip, kl_weight, &n);
        anneal(s, kind, pushes, n);
        if (!st && !pushes)
            st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        if (!st)
            st = run_all(s, kind, pushes, n, r, err);
        free(pushes);
        if (threaded)
            pthread_join(worker, NULL);
        r->done_before += n;
        if (!st && end < count) {
            if (slots == 1)
                st = chunk_begin(s, images, labels, order, end, next_end - end, 0, &next, err);
            if (!st && !threaded) /* one slot, or no thread to be had */
                fill_chunk(&next);
            if (!st)
                st = chunk_commit(s, &next, next_at, err);
        }
        slot = slots == 2 ? slot ^ 1 : 0;
        first = end;
        end = next_end;
    }
    return st;
}

/* One pass of program kind over the count rows of a set, in batches, from
 * batch skip on (those before it ran earlier), the steps numbered from
 * *first_step (advanced by the steps this pass runs). order: the rows'
 * order (count long), NULL: as stored. A set that fits the DATA tensors
 * is read in place (uploaded first unless already there) through the
 * permutation tensor; a larger one streams (stream_pass). The batches, and
 * so every step, are the same either way. The steps add into loss.acc,
 * zeroed first, which progress reads part way; a progress that asks to
 * stop ends the pass with CANCELLED after the steps already queued. */
static vkvae_status run_pass(vkvae_session *s, vkvae_program_kind kind, const vkvae_idx *images,
                             const vkvae_idx *labels, const uint32_t *order, uint32_t skip,
                             uint32_t seed, uint32_t *first_step, float kl_weight,
                             vkvae_progress_fn progress, void *user, vkvae_error *err)
{
    uint32_t count = images->count, slots;
    int streamed = count > s->rows;
    uint32_t b = s->pass_batch;
    if (streamed && vkvae_stream_chunk(s->rows, b, &slots) == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "%s: %u images stream through a data set of %u rows, fewer than a "
                          "batch of %u", images->path, count, s->rows, b);
    uint32_t steps = (count + b - 1) / b;
    if (skip > steps)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "step %u of an epoch of %u steps: the data set "
                          "is not the one the run began with", skip, steps);
    /* Only the training set stays resident between passes: other sets may
     * come and go at one address. */
    vkvae_status st = VKVAE_OK;
    int training_set = images == s->train_images;
    if (!streamed && !(training_set && s->train_resident)) {
        st = put_rows(s, images, labels, NULL, 0, count, err);
        s->train_resident = !st && training_set;
    }
    if (streamed) /* the chunks overwrite whatever was resident */
        s->train_resident = 0;
    for (uint32_t i = 0; i < s->rows; i++)
        s->perm[i] = !streamed && order && i < count ? order[i] : i;
    if (!st)
        st = write_raw(s, s->t_perm, s->perm, (size_t)s->rows * 4, err);
    if (!st)
        st = zero_losses(s, err);
    run_state r = {.s = s, .skip = skip, .done_before = skip, .steps = steps,
                   .completed = skip, .progress = progress, .user = user};
    uint32_t start = *first_step, first = skip * b;
    if (!st && streamed) {
        st = stream_pass(s, kind, images, labels, order, first, seed, start, kl_weight, &r, err);
    } else if (!st && first < count) {
        uint32_t n = 0;
        vkvae_push *pushes = schedule(s, first, count - first, seed, start, kl_weight, &n);
        anneal(s, kind, pushes, n);
        st = pushes ? run_all(s, kind, pushes, n, &r, err)
                    : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        free(pushes);
    }
    *first_step = start + r.completed - skip;
    return st;
}

/* Batch norm's running statistics, moved by each member's slices alone,
 * become the group's average (a view read twice is averaged twice: the
 * same values). */
static vkvae_status average_state(vkvae_session *s, vkvae_error *err)
{
    vkvae_status st = VKVAE_OK;
    for (uint32_t t = 0; !st && t < s->plan.n_tensors; t++) {
        const vkvae_tensor_desc *d = &s->plan.tensors[t];
        if (s->plan.buffers[d->buffer].role != VKVAE_ROLE_STATE || !d->elems)
            continue;
        float *v = malloc(d->elems * sizeof *v);
        if (!v)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        st = vkvae_session_read(s, t, v, err);
        if (!st)
            st = s->group.allreduce(s->group.user, v, d->elems, VKVAE_REDUCE_SUM_F32, err);
        for (uint64_t i = 0; !st && i < d->elems; i++)
            v[i] /= (float)s->group.size;
        if (!st)
            st = vkvae_session_write(s, t, v, err);
        free(v);
    }
    return st;
}

vkvae_status vkvae_session_train_epoch(vkvae_session *s, uint32_t seed, uint32_t epoch,
                                       uint32_t done, uint32_t *step, float kl_weight,
                                       vkvae_progress_fn progress, void *user,
                                       vkvae_losses *out, vkvae_error *err)
{
    if (!s->train_images)
        return vkvae_fail(err, VKVAE_INTERNAL, "no training data set");
    uint32_t count = s->train_images->count;
    /* Keyed by (seed, epoch), the order is the same on both backends and
     * whether the set streams or not. */
    uint32_t *order = malloc((count ? count : 1) * sizeof *order);
    if (!order)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < count; i++)
        order[i] = i;
    vkvae_shuffle(order, count, seed, epoch);
    /* *step runs on across epochs, so no two steps draw the same ε. */
    vkvae_status st = run_pass(s, VKVAE_PROGRAM_TRAIN, s->train_images, s->train_labels, order,
                               done, seed, step, kl_weight, progress, user, err);
    free(order);
    if (!st && s->group.size > 1)
        st = average_state(s, err);
    if (!st || st == VKVAE_CANCELLED) {
        vkvae_status rs = read_losses(s, out, st ? NULL : err);
        st = st ? st : rs;
    }
    return st;
}

vkvae_status vkvae_session_evaluate(vkvae_session *s, const vkvae_idx *images,
                                    const vkvae_idx *labels, uint32_t seed, float kl_weight,
                                    vkvae_losses *out, vkvae_error *err)
{
    /* Every row once, in order; ε drawn at steps training never reaches. */
    uint32_t step = 0x80000000u;
    vkvae_status st = check_data(s, images, labels, err);
    if (!st)
        st = run_pass(s, VKVAE_PROGRAM_EVAL, images, labels, NULL, 0, seed, &step, kl_weight,
                      NULL, NULL, err);
    if (!st)
        st = read_losses(s, out, err);
    return st;
}

uint32_t vkvae_session_classes(const vkvae_session *s)
{
    return s->plan.classes;
}

vkvae_gpu_plan *vkvae_session_gpu(const vkvae_session *s)
{
    return s->gpu;
}

/* Writes the one-hot condition of rows [0, rows) into tensor t_y of
 * capacity rows (the rest zero). */
static vkvae_status put_labels(vkvae_session *s, uint32_t t_y, uint32_t capacity,
                               const uint32_t *labels, uint32_t fixed, uint32_t rows,
                               vkvae_error *err)
{
    if (t_y == UINT32_MAX)
        return VKVAE_OK;
    uint32_t classes = s->plan.classes;
    float *y = calloc((size_t)capacity * classes, sizeof *y);
    if (!y)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t label = labels ? labels[r] : fixed;
        if (label >= classes) {
            free(y);
            return vkvae_fail(err, VKVAE_BAD_INPUT, "label %u is out of range: model %s has %u "
                              "classes (0..%u)", label, s->plan.model, classes, classes - 1);
        }
        y[(size_t)r * classes + label] = 1.0f;
    }
    vkvae_status st = vkvae_session_write(s, t_y, y, err);
    free(y);
    return st;
}

/* What a program reads: n rows of width floats into tensor t (data NULL:
 * nothing). */
typedef struct batched_in {
    uint32_t t;
    const float *data;
    uint32_t width;
} batched_in;

/* Runs program kind over n rows in batches: in[0] and in[1] go to their
 * tensors and outputs t_out[k] (out_width[k] floats per row) come back
 * into out[k]. */
static vkvae_status run_batched(vkvae_session *s, vkvae_program_kind kind, uint32_t seed,
                                const batched_in in[2], const uint32_t *labels,
                                uint32_t fixed_label, uint32_t n, const uint32_t *t_out,
                                float *const *out, const uint32_t *out_width, uint32_t n_out,
                                vkvae_error *err)
{
    /* One batch-sized host buffer serves the inputs and every output. */
    size_t widest = in[0].width > in[1].width ? in[0].width : in[1].width;
    for (uint32_t k = 0; k < n_out; k++)
        widest = out_width[k] > widest ? out_width[k] : widest;
    float *buf = calloc((size_t)s->batch * widest, sizeof *buf);
    if (!buf)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_status st = VKVAE_OK;
    for (uint32_t done = 0, i = 0; !st && done < n; i++) {
        uint32_t rows = n - done < s->batch ? n - done : s->batch;
        /* The plan runs whole batches: the last one's input is padded with
         * zeros and its padding rows' outputs are not copied out. */
        for (int k = 0; k < 2 && !st; k++)
            if (in[k].data) {
                size_t w = in[k].width;
                memset(buf, 0, (size_t)s->batch * w * sizeof *buf);
                memcpy(buf, in[k].data + (size_t)done * w, (size_t)rows * w * sizeof *buf);
                st = vkvae_session_write(s, in[k].t, buf, err);
            }
        if (!st)
            st = put_labels(s, s->t_y, s->batch, labels ? labels + done : NULL, fixed_label,
                            rows, err);
        /* The batch number is the Philox step, as api/record.c's pass
         * number: a seed draws the same samples on both paths. A pixel
         * model's sample program (and a text model's decode too) runs once a
         * pixel (a step) and once more, push.base counting the runs
         * (sample_pixel). */
        int draws = kind == VKVAE_PROGRAM_SAMPLE || kind == VKVAE_PROGRAM_DECODE;
        uint32_t runs = draws && s->plan.sample_passes ? s->plan.sample_passes : 1;
        vkvae_push *push = calloc(runs, sizeof *push);
        if (!push && !st)
            st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        for (uint32_t r = 0; push && r < runs; r++)
            push[r] = (vkvae_push){.seed = seed, .step = i, .base = r, .rows = s->batch,
                                   .grad_scale = 1.0f, .temperature = s->temperature};
        if (!st)
            st = run_all(s, kind, push, runs, &(run_state){.s = s}, err);
        free(push);
        for (uint32_t k = 0; !st && k < n_out; k++) {
            st = vkvae_session_read(s, t_out[k], buf, err);
            if (!st)
                memcpy(out[k] + (size_t)done * out_width[k], buf,
                       (size_t)rows * out_width[k] * sizeof *buf);
        }
        done += rows;
    }
    free(buf);
    return st;
}

vkvae_status vkvae_session_encode(vkvae_session *s, const float *x, const uint32_t *labels,
                                  uint32_t n, float *mu, float *logvar, vkvae_error *err)
{
    if (s->t_x == UINT32_MAX || s->t_mu == UINT32_MAX)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no encode program",
                          s->plan.model);
    uint32_t t_out[2] = {s->t_mu, s->t_logvar};
    float *out[2] = {mu, logvar};
    uint32_t width[2] = {s->latent, s->latent};
    uint32_t n_out = logvar && s->t_logvar != UINT32_MAX ? 2 : 1;
    return run_batched(s, VKVAE_PROGRAM_ENCODE, 0, (batched_in[2]){{s->t_x, x, s->features}},
                       labels, 0, n, t_out, out, width, n_out, err);
}

vkvae_code_grid vkvae_session_code_grid(const vkvae_session *s)
{
    if (s->t_codes == UINT32_MAX)
        return (vkvae_code_grid){0};
    const vkvae_tensor_desc *t = &s->plan.tensors[s->t_codes];
    const vkvae_tensor_desc *e = &s->plan.tensors[s->t_codebook];
    return (vkvae_code_grid){.codes = e->shape[0], .dim = (uint32_t)(e->elems / e->shape[0]),
                             .height = t->rank == 4 ? t->shape[2] : 1,
                             .width = t->rank == 4 ? t->shape[3] : 1};
}

vkvae_status vkvae_session_encode_codes(vkvae_session *s, const float *x, uint32_t n,
                                        uint32_t *codes, vkvae_error *err)
{
    vkvae_code_grid g = vkvae_session_code_grid(s);
    if (!g.codes)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no codebook to encode to "
                          "(a VQ-VAE's encode ends in one)", s->plan.model);
    uint32_t positions = g.height * g.width;
    float *f = malloc((size_t)n * positions * sizeof *f);
    if (!f && n)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory for %u code grids", n);
    vkvae_status st = run_batched(s, VKVAE_PROGRAM_ENCODE, 0,
                                  (batched_in[2]){{s->t_x, x, s->features}}, NULL, 0, n,
                                  &s->t_codes, &f, &positions, 1, err);
    for (size_t i = 0; !st && i < (size_t)n * positions; i++)
        codes[i] = (uint32_t)f[i]; /* whole numbers below 2^24: exact */
    free(f);
    return st;
}

vkvae_status vkvae_session_decode_codes(vkvae_session *s, const uint32_t *codes, uint32_t n,
                                        float *images, vkvae_error *err)
{
    vkvae_code_grid g = vkvae_session_code_grid(s);
    if (!g.codes)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no codebook to decode from",
                          s->plan.model);
    uint32_t P = g.height * g.width;
    for (size_t i = 0; i < (size_t)n * P; i++)
        if (codes[i] >= g.codes)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "code grid %zu holds code %u at position "
                              "%zu; model %s has codes 0..%u", i / P, codes[i], i % P,
                              s->plan.model, g.codes - 1);
    float *e = malloc((size_t)g.codes * g.dim * sizeof *e);
    float *z = malloc((size_t)n * g.dim * P * sizeof *z);
    vkvae_status st = !e || (!z && n) ? vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host "
                                                   "memory for %u code grids", n)
                                      : vkvae_session_read(s, s->t_codebook, e, err);
    /* z_e [C, P] a row made of the codes' values: decode's nearest code to
     * each is the code itself (or an equal one of lower index) */
    for (size_t r = 0; !st && r < n; r++)
        for (uint32_t c = 0; c < g.dim; c++)
            for (uint32_t p = 0; p < P; p++)
                z[(r * g.dim + c) * P + p] = e[(size_t)codes[r * P + p] * g.dim + c];
    if (!st)
        st = vkvae_session_decode(s, z, NULL, n, images, err);
    free(e);
    free(z);
    return st;
}

/* Whether decode and sample read images too (a condition computed from
 * an image: the learned prior's io.x). */
int vkvae_session_decodes_on_images(const vkvae_session *s)
{
    return s->on_images;
}


/* The images of decode and sample: given exactly when the model reads them. */
static vkvae_status check_images(const vkvae_session *s, const float *images, const char *what,
                                 vkvae_error *err)
{
    int reads = vkvae_session_decodes_on_images(s);
    if (reads && !images)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s %ss given images as well (a condition "
                          "computed from an image): pass them", s->plan.model, what);
    if (!reads && images)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s %ss from the code alone: it reads no "
                          "images", s->plan.model, what);
    return VKVAE_OK;
}

vkvae_status vkvae_session_decode_on_images(vkvae_session *s, const float *z,
                                            const uint32_t *labels, const float *images,
                                            uint32_t n, float *mean, vkvae_error *err)
{
    if (s->t_z == UINT32_MAX || s->t_mean == UINT32_MAX)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no decode program",
                          s->plan.model);
    vkvae_status st = check_images(s, images, "decode", err);
    return st ? st : run_batched(s, VKVAE_PROGRAM_DECODE, 0,
                                 (batched_in[2]){{s->t_z, z, s->latent},
                                                 {s->t_x, images, s->features}},
                                 labels, 0, n, &s->t_mean, &mean, &s->features, 1, err);
}

vkvae_status vkvae_session_decode(vkvae_session *s, const float *z, const uint32_t *labels,
                                  uint32_t n, float *mean, vkvae_error *err)
{
    return vkvae_session_decode_on_images(s, z, labels, NULL, n, mean, err);
}

vkvae_status vkvae_session_sample_on_images(vkvae_session *s, uint32_t seed, uint32_t n,
                                            uint32_t label, const float *images, float *out,
                                            vkvae_error *err)
{
    if (s->t_mean == UINT32_MAX || !vkvae_plan_has_program(&s->plan, VKVAE_PROGRAM_SAMPLE))
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no sample program (%s)",
                          s->plan.model, vkvae_plan_classifies(&s->plan)
                                             ? "a classifier generates nothing"
                                             : "an autoencoder has no prior");
    vkvae_status st = check_images(s, images, "sample", err);
    return st ? st : run_batched(s, VKVAE_PROGRAM_SAMPLE, seed,
                                 (batched_in[2]){{s->t_x, images, s->features}}, NULL, label,
                                 n, &s->t_mean, &out, &s->features, 1, err);
}

vkvae_status vkvae_session_sample(vkvae_session *s, uint32_t seed, uint32_t n, uint32_t label,
                                  float *out, vkvae_error *err)
{
    return vkvae_session_sample_on_images(s, seed, n, label, NULL, out, err);
}

/* Running log-sum-exp of one item's log weights, in double: the weights
 * of thousands of samples span far more than a float's range. */
typedef struct lse {
    double max, sum; /* sum of exp(logw - max) */
} lse;

static void lse_add(lse *a, const float *logw, uint32_t count)
{
    double m = a->max;
    for (uint32_t i = 0; i < count; i++) {
        if (isnan(logw[i])) { /* the estimate is NaN from here on */
            a->max = a->sum = NAN;
            return;
        }
        m = logw[i] > m ? logw[i] : m;
    }
    if (m > a->max) {
        a->sum *= exp(a->max - m); /* 0 while max is still -inf */
        a->max = m;
    }
    if (a->max == -INFINITY) /* every weight 0 so far: exp(-inf - -inf) is NaN */
        return;
    for (uint32_t i = 0; i < count; i++)
        a->sum += exp(logw[i] - a->max);
}

/* IWAE draws come at steps from here on, apart from training's (from 0)
 * and evaluation's (from 2^31). */
static const uint32_t IWAE_FIRST_STEP = 0xC0000000u;

vkvae_status vkvae_session_log_likelihood(vkvae_session *s, const float *x,
                                          const uint32_t *labels, uint32_t n, uint32_t k,
                                          uint32_t seed, vkvae_items_progress_fn progress,
                                          void *user, double *log_px, vkvae_error *err)
{
    if (s->t_iwae_x == UINT32_MAX || s->t_logw == UINT32_MAX)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no IWAE estimate (only a model "
                          "with a Gaussian latent has a likelihood to estimate)", s->plan.model);
    if (k == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "the IWAE estimate needs at least 1 sample");
    if (s->plan.classes && !labels)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "model %s is conditional: it needs labels",
                          s->plan.model);
    /* E items per run, C samples of each: io.logw holds sample c of item r
     * at r*C + c. */
    uint32_t E = s->plan.tensors[s->t_iwae_x].shape[0];
    uint32_t C = (uint32_t)(s->plan.tensors[s->t_logw].elems / E);
    float *xb = calloc((size_t)E * s->features, sizeof *xb);
    float *logw = calloc((size_t)E * C, sizeof *logw);
    lse *acc = calloc(E, sizeof *acc);
    vkvae_status st = VKVAE_OK;
    if (!xb || !logw || !acc)
        st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    uint32_t step = IWAE_FIRST_STEP;
    for (uint32_t done = 0; !st && done < n;) {
        uint32_t rows = n - done < E ? n - done : E;
        /* The plan's memory holds C samples an item; more come as more
         * runs over the same items, each a fresh step and so fresh draws.
         * A row a sample (C = 1: a general model's estimate, no labels):
         * the rows a short chunk leaves free hold more copies of its items,
         * each drawing its own z, so fewer runs give the K samples. */
        uint32_t copies = C == 1 && s->t_iwae_y == UINT32_MAX ? E / rows : 1;
        uint32_t per_run = C * copies, runs = k / per_run + (k % per_run != 0);
        memset(xb, 0, (size_t)E * s->features * sizeof *xb);
        for (uint32_t q = 0; q < copies; q++)
            memcpy(xb + (size_t)q * rows * s->features, x + (size_t)done * s->features,
                   (size_t)rows * s->features * sizeof *xb);
        st = vkvae_session_write(s, s->t_iwae_x, xb, err);
        if (!st)
            st = put_labels(s, s->t_iwae_y, E, labels ? labels + done : NULL, 0, rows, err);
        for (uint32_t r = 0; r < E; r++)
            acc[r] = (lse){-INFINITY, 0.0};
        for (uint32_t c = 0; !st && c < runs; c++) {
            vkvae_push push = {.seed = seed, .step = step++, .rows = rows * copies,
                               .grad_scale = 1.0f};
            st = run_all(s, VKVAE_PROGRAM_IWAE, &push, 1, &(run_state){.s = s}, err);
            if (!st)
                st = vkvae_session_read(s, s->t_logw, logw, err);
            /* copy q of item r is row q*rows + r, its C samples at row*C;
             * the last run may take fewer */
            uint32_t take = k - c * per_run < per_run ? k - c * per_run : per_run;
            for (uint32_t r = 0; !st && r < rows; r++)
                for (uint32_t q = 0; q * C < take; q++)
                    lse_add(&acc[r], logw + ((size_t)q * rows + r) * C,
                            take - q * C < C ? take - q * C : C);
        }
        /* log of the mean weight: logsumexp minus log k. */
        for (uint32_t r = 0; !st && r < rows; r++)
            log_px[done + r] = acc[r].max + log(acc[r].sum) - log((double)k);
        done += rows;
        if (!st && progress)
            progress(user, done, n);
    }
    free(xb);
    free(logw);
    free(acc);
    return st;
}

int vkvae_session_params_finite(vkvae_session *s, const char **bad, vkvae_error *err)
{
    /* One read of params.all, the optimizer's view of every parameter,
     * rather than one per tensor; a bad value is then traced back to the
     * tensor whose bytes hold it, for the message. */
    const vkvae_plan *plan = &s->plan;
    const vkvae_tensor_desc *all = &plan->tensors[s->t_params];
    float *v = malloc(all->elems * sizeof *v);
    *bad = NULL;
    if (!v || vkvae_session_read(s, s->t_params, v, err)) {
        free(v);
        *bad = "(unreadable)";
        return 0;
    }
    uint64_t at = UINT64_MAX;
    for (uint64_t i = 0; i < all->elems && at == UINT64_MAX; i++)
        if (!isfinite(v[i]))
            at = i;
    free(v);
    if (at == UINT64_MAX)
        return 1;
    uint64_t byte = all->offset + at * 4;
    *bad = "(padding)"; /* in none: the alignment gaps between tensors */
    for (uint32_t t = 0; t < plan->n_tensors; t++) {
        const vkvae_tensor_desc *d = &plan->tensors[t];
        if (t != s->t_params && d->buffer == all->buffer && byte >= d->offset &&
            byte < d->offset + d->elems * 4)
            *bad = d->name;
    }
    return 0;
}
