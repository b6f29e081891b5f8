/* A plan on a Vulkan device (see gpu_plan.h). Pipelines are shared by every
 * step with the same op and parameters (a train step's two dense layers of
 * equal shape use one), and descriptor sets are written once: recording an
 * epoch of steps binds, it never allocates. Creation makes the buffers,
 * then the pipelines, then the sets (each needs the one before); a failure
 * part way is undone by vkvae_gpu_plan_destroy, which frees what exists.
 *
 * A product split along its depth (split-K, gpu/kernels.h's vkvae_op_split)
 * is two dispatches, partial sums then their reduction, through one
 * scratch buffer that every split step of the plan shares: it is sized for
 * the largest and bound after the step's own tensors. The recorder puts a
 * barrier between a split step's two dispatches, and one before its first
 * when an earlier split step may still be reading the scratch buffer (no
 * barrier of the plan's since): the only barriers that are not the plan's.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/gpu_plan.h"
#include "gpu/kernels.h"
#include "plan/op_info.h"

_Static_assert((int)VKVAE_MAX_BINDINGS <= (int)VKVAE_KERNEL_MAX_BINDINGS, "a step binds more buffers than a dispatch can");

typedef struct program_sets {
    VkDescriptorSet *sets;      /* one per step */
    uint32_t *kernel;           /* index into kernels, per step */
} program_sets;

/* A range the host wrote into a buffer's mirror, for the next run to copy. */
typedef struct pending_copy {
    uint32_t buffer;
    uint64_t offset, bytes;
} pending_copy;
enum { MAX_PENDING = 16 };

struct vkvae_gpu_plan {
    vkvae_context *ctx;
    const vkvae_plan *plan;
    vkvae_buffer *buffers;
    vkvae_kernel *kernels;
    vkvae_kernel *reduce;       /* per kernel: a split product's second pass, or none */
    vkvae_buffer scratch;       /* the split products' partial sums (none when no split) */
    uint64_t scratch_bytes;
    vkvae_op *kernel_op;
    const vkvae_op_params **kernel_params;
    uint32_t n_kernels;
    VkDescriptorPool pool;
    program_sets programs[VKVAE_PROGRAM_COUNT];
    const vkvae_program_desc *by_kind[VKVAE_PROGRAM_COUNT];
    /* Where the device does not map its buffers: a host-visible mirror per
     * buffer the host writes ranges of while runs are in flight (made on
     * first use), and the ranges written, copied in at the next run. */
    vkvae_buffer *mirrors;
    pending_copy pending[MAX_PENDING];
    uint32_t n_pending;
};

/* Bytes per element of a tensor, as ops.def types the bindings that use it:
 * 1 for the data set's u8 images and labels, else 4 (fp32, or the u32
 * permutation). */
static uint32_t element_bytes(const vkvae_plan *plan, uint32_t t)
{
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t i = 0; i < plan->programs[p].n_steps; i++) {
            const vkvae_step_desc *s = &plan->programs[p].steps[i];
            for (uint32_t b = 0; b < s->n_tensors && b < VKVAE_MAX_BINDINGS; b++)
                if (s->tensors[b] == t)
                    return vkvae_op_binding(s->op, &s->p, b).elem == VKVAE_ELEM_U8 ? 1 : 4;
        }
    return 4;
}

static uint64_t tensor_bytes(const vkvae_plan *plan, uint32_t t)
{
    return plan->tensors[t].elems * element_bytes(plan, t);
}

uint64_t vkvae_gpu_plan_tensor_bytes(const vkvae_gpu_plan *g, uint32_t tensor)
{
    return tensor_bytes(g->plan, tensor);
}

const vkvae_buffer *vkvae_gpu_plan_buffer(const vkvae_gpu_plan *g, uint32_t buffer)
{
    return buffer < g->plan->n_buffers ? &g->buffers[buffer] : NULL;
}

static vkvae_status check_tensor(const vkvae_plan *plan, uint32_t t, vkvae_error *err)
{
    if (t >= plan->n_tensors)
        return vkvae_fail(err, VKVAE_INTERNAL, "plan %s: tensor %u of %u", plan->model, t,
                          plan->n_tensors);
    const vkvae_tensor_desc *d = &plan->tensors[t];
    if (d->buffer >= plan->n_buffers || d->offset % 256 != 0 ||
        d->offset + tensor_bytes(plan, t) > plan->buffers[d->buffer].bytes)
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "plan %s: tensor %s does not fit its buffer (offset %llu)", plan->model,
                          d->name, (unsigned long long)d->offset);
    return VKVAE_OK;
}

/* Whether the plan's buffers can exist on this device, checked before any
 * is allocated: each within maxStorageBufferRange, all together within the
 * largest device-local heap. A unified-memory driver (lavapipe) may accept
 * an allocation larger than the memory there is and fail only when it is
 * touched, so the sum is refused up front. */
static vkvae_status check_memory(vkvae_context *ctx, const vkvae_plan *plan, uint64_t scratch,
                                 vkvae_error *err)
{
    const vkvae_device_info *dev = &ctx->devices[ctx->device_index];
    uint64_t heap = 0, total = 0;
    for (uint32_t h = 0; h < dev->heap_count; h++)
        if (dev->heap_device_local[h] && dev->heap_size[h] > heap)
            heap = dev->heap_size[h];
    for (uint32_t b = 0; b < plan->n_buffers; b++) {
        uint64_t bytes = plan->buffers[b].bytes;
        if (bytes > dev->max_storage_buffer_range)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY,
                              "plan '%s': buffer '%s' of %llu bytes exceeds the maxStorageBufferRange "
                              "of device '%s' (%llu bytes)",
                              plan->model, plan->buffers[b].name, (unsigned long long)bytes,
                              dev->name, (unsigned long long)dev->max_storage_buffer_range);
        total += (bytes + 3) & ~(uint64_t)3;
    }
    total += scratch;
    if (heap && total > heap)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY,
                          "plan '%s' needs %llu bytes of device memory in %u buffers, more than "
                          "the largest memory heap of device '%s' (%llu bytes)",
                          plan->model, (unsigned long long)total, plan->n_buffers, dev->name,
                          (unsigned long long)heap);
    return VKVAE_OK;
}

static uint32_t find_or_add_kernel(vkvae_gpu_plan *g, const vkvae_step_desc *s)
{
    for (uint32_t k = 0; k < g->n_kernels; k++)
        if (g->kernel_op[k] == s->op && memcmp(g->kernel_params[k], &s->p, sizeof s->p) == 0)
            return k;
    g->kernel_op[g->n_kernels] = s->op;
    g->kernel_params[g->n_kernels] = &s->p;
    return g->n_kernels++;
}

/* The scratch bytes of the plan's largest split product (0: none). */
static uint64_t scratch_bytes(vkvae_context *ctx, const vkvae_plan *plan)
{
    uint64_t most = 0;
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t i = 0; i < plan->programs[p].n_steps; i++) {
            const vkvae_step_desc *st = &plan->programs[p].steps[i];
            uint64_t bytes = 0;
            if (vkvae_op_split(ctx, st->op, &st->p, &bytes) > 1 && bytes > most)
                most = bytes;
        }
    return most;
}

/* The plan's buffers, zeroed, and the scratch buffer, once check_memory
 * says they fit. */
static vkvae_status buffers_create(vkvae_gpu_plan *g, vkvae_error *err)
{
    const vkvae_plan *plan = g->plan;
    g->scratch_bytes = scratch_bytes(g->ctx, plan);
    vkvae_status s = check_memory(g->ctx, plan, g->scratch_bytes, err);
    for (uint32_t b = 0; !s && b < plan->n_buffers; b++) {
        s = vkvae_buffer_create(g->ctx, plan->buffers[b].bytes, &g->buffers[b], err);
        if (!s)
            s = vkvae_buffer_fill(g->ctx, &g->buffers[b], 0, err);
    }
    if (!s && g->scratch_bytes) /* every partial is written before it is read: no fill */
        s = vkvae_buffer_create(g->ctx, g->scratch_bytes, &g->scratch, err);
    return s;
}

/* Whether step k's kernel is a split product (two dispatches). */
static int split_kernel(const vkvae_gpu_plan *g, uint32_t k)
{
    return g->reduce[k].pipeline != VK_NULL_HANDLE;
}

/* A pipeline per distinct (op, params), and each step's kernel index; the
 * steps' tensors are checked against their buffers on the way. */
static vkvae_status pipelines_create(vkvae_gpu_plan *g, vkvae_error *err)
{
    const vkvae_plan *plan = g->plan;
    for (uint32_t p = 0; p < plan->n_programs; p++) {
        const vkvae_program_desc *prog = &plan->programs[p];
        if ((unsigned)prog->kind >= VKVAE_PROGRAM_COUNT || g->by_kind[prog->kind])
            return vkvae_fail(err, VKVAE_INTERNAL, "plan %s: program %s has a bad or repeated kind",
                              plan->model, prog->name);
        g->by_kind[prog->kind] = prog;
        program_sets *ps = &g->programs[prog->kind];
        ps->sets = calloc(prog->n_steps ? prog->n_steps : 1, sizeof *ps->sets);
        ps->kernel = calloc(prog->n_steps ? prog->n_steps : 1, sizeof *ps->kernel);
        if (!ps->sets || !ps->kernel)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        for (uint32_t i = 0; i < prog->n_steps; i++) {
            const vkvae_step_desc *step = &prog->steps[i];
            vkvae_status s = VKVAE_OK;
            for (uint32_t t = 0; !s && t < step->n_tensors; t++)
                s = check_tensor(plan, step->tensors[t], err);
            if (s)
                return s;
            uint32_t before = g->n_kernels;
            uint32_t k = find_or_add_kernel(g, step);
            ps->kernel[i] = k;
            if (k != before)
                continue;
            s = vkvae_op_kernel_create(g->ctx, step->op, &step->p, &g->kernels[k], err);
            uint64_t scratch = 0;
            int split = !s && vkvae_op_split(g->ctx, step->op, &step->p, &scratch) > 1;
            if (split)
                s = vkvae_op_reduce_create(g->ctx, step->op, &step->p, &g->reduce[k], err);
            if (!s && (g->kernels[k].binding_count != step->n_tensors + split ||
                       scratch > g->scratch_bytes))
                s = vkvae_fail(err, VKVAE_INTERNAL,
                               "plan %s: %s step %u binds %u tensors%s, its kernel has %u",
                               plan->model, prog->name, i, step->n_tensors,
                               split ? " and the scratch buffer" : "",
                               g->kernels[k].binding_count);
            if (s)
                return s;
        }
    }
    return VKVAE_OK;
}

/* One descriptor set per step, written now and only bound later. */
static vkvae_status descriptor_sets_write(vkvae_gpu_plan *g, uint32_t total_steps,
                                          vkvae_error *err)
{
    vkvae_context *ctx = g->ctx;
    const vkvae_plan *plan = g->plan;
    if (!total_steps)
        return VKVAE_OK;
    vkvae_status s = vkvae_descriptor_pool_create(ctx, total_steps, VKVAE_MAX_BINDINGS + 1, 0,
                                                  &g->pool, err); /* + the scratch buffer */
    for (uint32_t p = 0; !s && p < plan->n_programs; p++) {
        const vkvae_program_desc *prog = &plan->programs[p];
        program_sets *ps = &g->programs[prog->kind];
        for (uint32_t i = 0; !s && i < prog->n_steps; i++) {
            const vkvae_step_desc *step = &prog->steps[i];
            s = vkvae_descriptor_set_allocate(ctx, g->pool, g->kernels[ps->kernel[i]].set_layout,
                                              &ps->sets[i], err);
            if (s)
                break;
            VkDescriptorBufferInfo infos[VKVAE_MAX_BINDINGS + 1];
            VkWriteDescriptorSet writes[VKVAE_MAX_BINDINGS + 1];
            uint32_t n = step->n_tensors + split_kernel(g, ps->kernel[i]);
            for (uint32_t b = 0; b < n; b++) {
                if (b == step->n_tensors) { /* the scratch buffer, after the tensors */
                    infos[b] = (VkDescriptorBufferInfo){.buffer = g->scratch.buffer,
                                                        .range = g->scratch_bytes};
                } else {
                    const vkvae_tensor_desc *t = &plan->tensors[step->tensors[b]];
                    infos[b] = (VkDescriptorBufferInfo){
                        .buffer = g->buffers[t->buffer].buffer,
                        .offset = t->offset,
                        .range = (tensor_bytes(plan, step->tensors[b]) + 3) & ~3ull,
                    };
                }
                writes[b] = (VkWriteDescriptorSet){
                    .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                    .dstSet = ps->sets[i],
                    .dstBinding = b,
                    .descriptorCount = 1,
                    .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                    .pBufferInfo = &infos[b],
                };
            }
            ctx->vk.vkUpdateDescriptorSets(ctx->device, n, writes, 0, NULL);
        }
    }
    return s;
}

vkvae_status vkvae_gpu_plan_create(vkvae_context *ctx, const vkvae_plan *plan,
                                   vkvae_gpu_plan **out, vkvae_error *err)
{
    *out = NULL;
    uint32_t total_steps = 0;
    for (uint32_t p = 0; p < plan->n_programs; p++)
        total_steps += plan->programs[p].n_steps;
    vkvae_gpu_plan *g = calloc(1, sizeof *g);
    if (!g)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    g->ctx = ctx;
    g->plan = plan;
    /* Room for a kernel per step, the most there can be (no two alike). */
    g->buffers = calloc(plan->n_buffers ? plan->n_buffers : 1, sizeof *g->buffers);
    g->kernels = calloc(total_steps ? total_steps : 1, sizeof *g->kernels);
    g->reduce = calloc(total_steps ? total_steps : 1, sizeof *g->reduce);
    g->kernel_op = calloc(total_steps ? total_steps : 1, sizeof *g->kernel_op);
    g->kernel_params = calloc(total_steps ? total_steps : 1, sizeof *g->kernel_params);
    vkvae_status s = VKVAE_OK;
    if (!g->buffers || !g->kernels || !g->reduce || !g->kernel_op || !g->kernel_params)
        s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!s)
        s = buffers_create(g, err);
    if (!s)
        s = pipelines_create(g, err);
    if (!s)
        s = descriptor_sets_write(g, total_steps, err);
    if (s) {
        vkvae_gpu_plan_destroy(g); /* frees whatever was made before the failure */
        return s;
    }
    *out = g;
    return VKVAE_OK;
}

void vkvae_gpu_plan_destroy(vkvae_gpu_plan *g)
{
    if (!g)
        return;
    vkvae_context *ctx = g->ctx;
    /* On an adopted device the application may be running work of its own;
     * it must have finished whatever recorded with this plan (vkvae.h). An
     * owned device is drained within the timeout; if the GPU is still busy
     * after it, the plan's Vulkan objects are left alive, not destroyed
     * under it. */
    int busy = ctx->owns_device && vkvae_queue_drain(ctx, NULL) != VKVAE_OK;
    if (busy) {
        g->pool = VK_NULL_HANDLE;
        g->n_kernels = 0;
        if (g->buffers)
            memset(g->buffers, 0, g->plan->n_buffers * sizeof *g->buffers);
        memset(&g->scratch, 0, sizeof g->scratch);
        free(g->mirrors);
        g->mirrors = NULL;
    }
    if (g->pool)
        ctx->vk.vkDestroyDescriptorPool(ctx->device, g->pool, NULL);
    for (int p = 0; p < VKVAE_PROGRAM_COUNT; p++) {
        free(g->programs[p].sets);
        free(g->programs[p].kernel);
    }
    for (uint32_t k = 0; g->kernels && k < g->n_kernels; k++) {
        vkvae_kernel_destroy(ctx, &g->kernels[k]);
        if (g->reduce && split_kernel(g, k))
            vkvae_kernel_destroy(ctx, &g->reduce[k]);
    }
    if (g->scratch.buffer)
        vkvae_buffer_destroy(ctx, &g->scratch);
    for (uint32_t b = 0; g->buffers && b < g->plan->n_buffers; b++)
        vkvae_buffer_destroy(ctx, &g->buffers[b]);
    for (uint32_t b = 0; g->mirrors && b < g->plan->n_buffers; b++)
        if (g->mirrors[b].buffer)
            vkvae_buffer_destroy(ctx, &g->mirrors[b]);
    free(g->mirrors);
    free(g->kernels);
    free(g->reduce);
    free(g->kernel_op);
    free(g->kernel_params);
    free(g->buffers);
    free(g);
}

static void dispatch(vkvae_gpu_plan *g, vkvae_commands *c, const vkvae_kernel *k,
                     VkDescriptorSet set, const vkvae_push *push, const uint32_t groups[3])
{
    vkvae_context *ctx = g->ctx;
    ctx->vk.vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1, &set,
                                    0, NULL);
    ctx->vk.vkCmdPushConstants(c->cb, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *push,
                               push);
    ctx->vk.vkCmdDispatch(c->cb, groups[0], groups[1], groups[2]);
}

/* Step i of prog, after the plan's barrier if it has one (barrier): one
 * dispatch, or a split product's two. *scratch_busy says whether a split
 * step's reduction may still read the scratch buffer (no barrier since). */
static void record_step(vkvae_gpu_plan *g, vkvae_commands *c, const vkvae_program_desc *prog,
                        uint32_t i, const vkvae_push *push, int *scratch_busy, int barrier)
{
    const vkvae_step_desc *step = &prog->steps[i];
    const program_sets *ps = &g->programs[prog->kind];
    uint32_t k = ps->kernel[i], groups[3];
    if (barrier)
        *scratch_busy = 0;
    if (split_kernel(g, k) && *scratch_busy)
        vkvae_commands_barrier(g->ctx, c); /* the last reduction's reads before these writes */
    vkvae_op_groups(g->ctx, step->op, &step->p, groups);
    dispatch(g, c, &g->kernels[k], ps->sets[i], push, groups);
    if (split_kernel(g, k)) {
        vkvae_commands_barrier(g->ctx, c); /* the partial sums, then their reduction */
        vkvae_op_reduce_groups(g->ctx, step->op, &step->p, groups);
        dispatch(g, c, &g->reduce[k], ps->sets[i], push, groups);
        *scratch_busy = 1;
    }
}

static vkvae_status record_range(vkvae_gpu_plan *g, vkvae_commands *c, vkvae_program_kind kind,
                                 uint32_t first, uint32_t end, const vkvae_push *push,
                                 vkvae_error *err)
{
    const vkvae_program_desc *prog = (unsigned)kind < VKVAE_PROGRAM_COUNT ? g->by_kind[kind] : NULL;
    if (!prog)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no program of kind %d",
                          g->plan->model, (int)kind);
    if (end > prog->n_steps)
        end = prog->n_steps;
    /* Whatever recorded before may have left a split step's reduction
     * reading the scratch buffer. */
    int scratch_busy = 1;
    for (uint32_t i = first; i < end; i++) {
        if (prog->steps[i].barrier)
            vkvae_commands_barrier(g->ctx, c);
        record_step(g, c, prog, i, push, &scratch_busy, prog->steps[i].barrier);
    }
    return VKVAE_OK;
}

vkvae_status vkvae_gpu_plan_record(vkvae_gpu_plan *g, vkvae_commands *c, vkvae_program_kind kind,
                                   const vkvae_push *push, vkvae_error *err)
{
    return record_range(g, c, kind, 0, UINT32_MAX, push, err);
}

vkvae_status vkvae_gpu_plan_record_step(vkvae_gpu_plan *g, vkvae_commands *c,
                                        vkvae_program_kind kind, uint32_t step,
                                        const vkvae_push *push, vkvae_error *err)
{
    const vkvae_program_desc *prog = (unsigned)kind < VKVAE_PROGRAM_COUNT ? g->by_kind[kind] : NULL;
    if (!prog || step >= prog->n_steps)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "model %s has no step %u of program kind %d",
                          g->plan->model, step, (int)kind);
    int scratch_busy = 1;
    record_step(g, c, prog, step, push, &scratch_busy, 0);
    return VKVAE_OK;
}

/* The copies of the ranges written through mirrors since the last run,
 * recorded first in its command buffer. */
static void record_pending(vkvae_gpu_plan *g, vkvae_commands *c)
{
    for (uint32_t i = 0; i < g->n_pending; i++) {
        const pending_copy *p = &g->pending[i];
        vkvae_commands_copy(g->ctx, c, &g->mirrors[p->buffer], p->offset,
                            &g->buffers[p->buffer], p->offset, p->bytes);
    }
    g->n_pending = 0;
}

/* A range of a tensor, checked, as its buffer and the offset in it. */
static vkvae_status tensor_range(const vkvae_gpu_plan *g, uint32_t tensor, uint64_t offset,
                                 uint64_t bytes, uint32_t *buffer, uint64_t *at, vkvae_error *err)
{
    vkvae_status s = check_tensor(g->plan, tensor, err);
    if (s)
        return s;
    uint64_t size = tensor_bytes(g->plan, tensor);
    if (offset > size || bytes > size - offset)
        return vkvae_fail(err, VKVAE_INTERNAL, "plan %s: bytes %llu..%llu of tensor %s (%llu)",
                          g->plan->model, (unsigned long long)offset,
                          (unsigned long long)(offset + bytes), g->plan->tensors[tensor].name,
                          (unsigned long long)size);
    *buffer = g->plan->tensors[tensor].buffer;
    *at = g->plan->tensors[tensor].offset + offset;
    return VKVAE_OK;
}

float *vkvae_gpu_plan_mapped(vkvae_gpu_plan *g, uint32_t tensor)
{
    uint32_t b;
    uint64_t at;
    if (tensor_range(g, tensor, 0, 0, &b, &at, NULL) || !g->buffers[b].mapped)
        return NULL;
    return (float *)((char *)g->buffers[b].mapped + at);
}

vkvae_status vkvae_gpu_plan_host_range(vkvae_gpu_plan *g, uint32_t tensor, uint64_t offset,
                                       uint64_t bytes, void **out, vkvae_error *err)
{
    uint32_t b;
    uint64_t at;
    vkvae_status s = tensor_range(g, tensor, offset, bytes, &b, &at, err);
    if (s)
        return s;
    if (g->buffers[b].mapped) {
        *out = (char *)g->buffers[b].mapped + at;
        return VKVAE_OK;
    }
    if (!g->mirrors && !(g->mirrors = calloc(g->plan->n_buffers, sizeof *g->mirrors)))
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!g->mirrors[b].buffer)
        s = vkvae_staging_create(g->ctx, g->buffers[b].size, &g->mirrors[b], err);
    if (!s)
        *out = (char *)g->mirrors[b].mapped + at;
    return s;
}

vkvae_status vkvae_gpu_plan_commit(vkvae_gpu_plan *g, uint32_t tensor, uint64_t offset,
                                   uint64_t bytes, vkvae_error *err)
{
    uint32_t b;
    uint64_t at;
    vkvae_status s = tensor_range(g, tensor, offset, bytes, &b, &at, err);
    if (s || g->buffers[b].mapped || bytes == 0)
        return s;
    if (!g->mirrors || !g->mirrors[b].buffer)
        return vkvae_fail(err, VKVAE_INTERNAL, "plan %s: tensor %s committed unwritten",
                          g->plan->model, g->plan->tensors[tensor].name);
    if (g->n_pending == MAX_PENDING)
        return vkvae_fail(err, VKVAE_INTERNAL, "plan %s: more than %d ranges to copy at once",
                          g->plan->model, MAX_PENDING);
    g->pending[g->n_pending++] = (pending_copy){b, at, bytes};
    return VKVAE_OK;
}

/* A write of a whole tensor supersedes any range of it still to be copied. */
static void drop_pending(vkvae_gpu_plan *g, uint32_t b, uint64_t at, uint64_t bytes)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < g->n_pending; i++) {
        const pending_copy *p = &g->pending[i];
        if (p->buffer != b || p->offset >= at + bytes || p->offset + p->bytes <= at)
            g->pending[kept++] = *p;
    }
    g->n_pending = kept;
}

vkvae_status vkvae_gpu_plan_run(vkvae_gpu_plan *g, vkvae_program_kind kind,
                                const vkvae_push *push, vkvae_error *err)
{
    return vkvae_gpu_plan_run_range(g, kind, 0, UINT32_MAX, push, err);
}

vkvae_status vkvae_gpu_plan_run_range(vkvae_gpu_plan *g, vkvae_program_kind kind, uint32_t first,
                                      uint32_t end, const vkvae_push *push, vkvae_error *err)
{
    vkvae_commands c;
    vkvae_status s = vkvae_commands_begin(g->ctx, 0, 0, &c, err);
    if (s)
        return s;
    /* Earlier host writes and runs are complete (every run waits), and the
     * queue submission makes host writes visible: no barrier before. */
    record_pending(g, &c);
    s = record_range(g, &c, kind, first, end, push, err);
    if (!s)
        s = vkvae_commands_submit_wait(g->ctx, &c, err);
    vkvae_commands_destroy(g->ctx, &c);
    return s;
}

vkvae_status vkvae_gpu_plan_write(vkvae_gpu_plan *g, uint32_t tensor, const void *src,
                                  vkvae_error *err)
{
    vkvae_status s = check_tensor(g->plan, tensor, err);
    if (s)
        return s;
    const vkvae_tensor_desc *t = &g->plan->tensors[tensor];
    drop_pending(g, t->buffer, t->offset, tensor_bytes(g->plan, tensor));
    return vkvae_buffer_upload(g->ctx, &g->buffers[t->buffer], t->offset, src,
                               tensor_bytes(g->plan, tensor), err);
}

vkvae_status vkvae_gpu_plan_read(vkvae_gpu_plan *g, uint32_t tensor, void *dst, vkvae_error *err)
{
    vkvae_status s = check_tensor(g->plan, tensor, err);
    if (s)
        return s;
    const vkvae_tensor_desc *t = &g->plan->tensors[tensor];
    return vkvae_buffer_download(g->ctx, &g->buffers[t->buffer], t->offset, dst,
                                 tensor_bytes(g->plan, tensor), err);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

vkvae_status vkvae_gpu_plan_run_many(vkvae_gpu_plan *g, vkvae_program_kind kind,
                                     const vkvae_push *pushes, uint32_t n, double target_ms,
                                     vkvae_runs_done_fn done, void *user, vkvae_error *err)
{
    /* Two submissions in flight: while slot i runs, slot i^1 is recorded and
     * queued behind it. Consecutive runs need no barrier beyond the plan's
     * own: a pipeline barrier orders against all earlier commands submitted
     * to the queue, in this command buffer or an earlier one. */
    vkvae_commands slot[2];
    uint32_t runs[2] = {0, 0}, in_flight = 0;
    double started[2] = {0, 0};
    double per_run_ms = 0; /* unknown until one submission is measured */
    uint32_t next = 0, finished = 0;
    vkvae_status s = VKVAE_OK;
    int cur = 0;
    while (!s && finished < n) {
        if (next < n && in_flight < 2) {
            uint32_t count = 1;
            if (per_run_ms > 0) {
                double fit = target_ms / per_run_ms;
                count = fit < 1 ? 1 : fit > 1e6 ? 1000000 : (uint32_t)fit;
            }
            if (count > n - next)
                count = n - next;
            s = vkvae_commands_begin(g->ctx, 0, 0, &slot[cur], err);
            if (!s)
                record_pending(g, &slot[cur]);
            for (uint32_t i = 0; !s && i < count; i++)
                s = vkvae_gpu_plan_record(g, &slot[cur], kind, &pushes[next + i], err);
            if (!s)
                s = vkvae_commands_submit(g->ctx, &slot[cur], err);
            if (s) {
                vkvae_commands_destroy(g->ctx, &slot[cur]);
                break;
            }
            runs[cur] = count;
            started[cur] = now_ms();
            next += count;
            in_flight++;
            cur ^= 1;
            if (in_flight < 2 && next < n)
                continue; /* queue a second one before waiting */
        }
        int oldest = in_flight == 2 ? cur : cur ^ 1;
        s = vkvae_commands_wait(g->ctx, &slot[oldest], err);
        double elapsed = now_ms() - started[oldest];
        vkvae_commands_destroy(g->ctx, &slot[oldest]);
        in_flight--;
        if (s)
            break;
        /* Wall time from submission to completion over-counts when another
         * submission ran first; it errs towards shorter submissions. */
        double measured = elapsed / runs[oldest];
        per_run_ms = per_run_ms > 0 ? 0.5 * (per_run_ms + measured) : measured;
        finished += runs[oldest];
        if (done)
            s = done(user, finished, err);
    }
    while (in_flight > 0) { /* after a failure: drain what is queued */
        int oldest = in_flight == 2 ? cur : cur ^ 1;
        vkvae_status w = vkvae_commands_wait(g->ctx, &slot[oldest], NULL);
        vkvae_commands_destroy(g->ctx, &slot[oldest]);
        in_flight--;
        /* A caller that asked to stop learns of the runs that still ran. */
        if (s == VKVAE_CANCELLED && !w && done) {
            finished += runs[oldest];
            done(user, finished, NULL);
        }
    }
    return s;
}
