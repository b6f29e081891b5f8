/* The CPU backend: one host allocation per plan buffer, a pointer per
 * tensor, and a loop over a program's steps that hands each step's tensor
 * pointers to the op (cpu_ops.h). All checking happens once in
 * vkvae_cpu_create, against the binding table of plan/op_info.c (ops.def), so that a plan
 * the backend accepts cannot make an op index out of bounds; the only
 * run-time checks are on the values a gather reads (base, rows, and the
 * permutation's entries), which the host supplies per run.
 *
 * Memory layout (cpu_backend.h): real buffers widen the plan's 4-byte
 * elements to sizeof(real); DATA buffers stay raw bytes.
 */
#include "cpu/cpu_backend.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu_ops.h"
#include "cpu/fast/fast_ops.h"
#include "plan/init.h"

struct vkvae_cpu {
    const vkvae_plan *plan;
    vkvae_cpu_precision precision;
    size_t real_size;
    unsigned char **buffers; /* [n_buffers] */
    uint64_t *buffer_bytes;  /* [n_buffers], as allocated */
    void **tensors;          /* [n_tensors] */
    vkvae_fast *fast;        /* VKVAE_CPU_FAST only */
};

static int is_data(const vkvae_plan *plan, uint32_t buffer)
{
    return plan->buffers[buffer].role == VKVAE_ROLE_DATA;
}

static const char *elem_name(vkvae_elem e)
{
    return e == VKVAE_ELEM_U8 ? "u8" : e == VKVAE_ELEM_U32 ? "u32" : "real";
}

static vkvae_status check_step(const vkvae_plan *plan, const vkvae_program_desc *prog, uint32_t s,
                               vkvae_error *err)
{
    const vkvae_step_desc *st = &prog->steps[s];
    const char *pname = prog->name ? prog->name : "?";
    if ((uint32_t)st->op >= VKVAE_OP_COUNT)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': program %s step %u: unknown op %u",
                          plan->model, pname, s, (unsigned)st->op);
    const char *op = vkvae_op_name(st->op);
    uint32_t nb = vkvae_op_bindings(st->op);
    if (st->n_tensors != nb)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': program %s step %u (%s): %u bindings, the op has %u",
                          plan->model, pname, s, op, st->n_tensors, nb);
    const char *msg = vkvae_op_check_params(st->op, &st->p);
    if (msg)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': program %s step %u (%s): %s",
                          plan->model, pname, s, op, msg);
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t ti = st->tensors[b];
        if (ti >= plan->n_tensors)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': program %s step %u (%s): binding %u: tensor %u out of range",
                              plan->model, pname, s, op, b, ti);
        const vkvae_tensor_desc *t = &plan->tensors[ti];
        vkvae_op_binding_info info = vkvae_op_binding(st->op, &st->p, b);
        int want_data = info.elem != VKVAE_ELEM_REAL;
        if (want_data != is_data(plan, t->buffer))
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "plan '%s': program %s step %u (%s): binding %u '%s' is %s but its buffer '%s' is %sa DATA buffer",
                              plan->model, pname, s, op, b, t->name, elem_name(info.elem),
                              plan->buffers[t->buffer].name, want_data ? "not " : "");
        if (t->elems < info.elems)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "plan '%s': program %s step %u (%s): binding %u '%s' has %llu elements, the op needs %llu",
                              plan->model, pname, s, op, b, t->name, (unsigned long long)t->elems,
                              (unsigned long long)info.elems);
    }
    if (vkvae_op_flags(st->op) & VKVAE_OPF_DATA) {
        /* rows of the data set = entries of the permutation */
        uint64_t rows = plan->tensors[st->tensors[1]].elems;
        uint64_t width = st->op == VKVAE_OP_GATHER ? st->p.in : 1;
        const vkvae_tensor_desc *d = &plan->tensors[st->tensors[0]];
        if (d->elems < rows * width)
            return vkvae_fail(err, VKVAE_BAD_INPUT,
                              "plan '%s': program %s step %u (%s): data '%s' holds %llu bytes, %llu rows of %llu need more",
                              plan->model, pname, s, op, d->name, (unsigned long long)d->elems,
                              (unsigned long long)rows, (unsigned long long)width);
    }
    return VKVAE_OK;
}

static vkvae_status check_plan(const vkvae_plan *plan, vkvae_error *err)
{
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        if (t->buffer >= plan->n_buffers)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': tensor '%s': buffer %u out of range",
                              plan->model, t->name, t->buffer);
        uint64_t bytes = plan->buffers[t->buffer].bytes;
        /* DATA tensors may be u8: their size is checked per binding below. */
        uint64_t need = is_data(plan, t->buffer) ? t->elems : t->elems * 4;
        if (t->offset % 4 != 0 || t->offset > bytes || need > bytes - t->offset)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': tensor '%s' (offset %llu, %llu elements) lies outside buffer '%s' (%llu bytes)",
                              plan->model, t->name, (unsigned long long)t->offset,
                              (unsigned long long)t->elems, plan->buffers[t->buffer].name,
                              (unsigned long long)bytes);
    }
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t s = 0; s < plan->programs[p].n_steps; s++)
            if (check_step(plan, &plan->programs[p], s, err))
                return err ? err->status : VKVAE_BAD_INPUT;
    /* A u32 permutation must fit its buffer at 4 bytes an entry. */
    for (uint32_t p = 0; p < plan->n_programs; p++)
        for (uint32_t s = 0; s < plan->programs[p].n_steps; s++) {
            const vkvae_step_desc *st = &plan->programs[p].steps[s];
            if (!(vkvae_op_flags(st->op) & VKVAE_OPF_DATA))
                continue;
            const vkvae_tensor_desc *t = &plan->tensors[st->tensors[1]];
            if (t->elems * 4 > plan->buffers[t->buffer].bytes - t->offset)
                return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s': permutation '%s' overruns its buffer",
                                  plan->model, t->name);
        }
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_create(const vkvae_plan *plan, vkvae_cpu_precision precision,
                              vkvae_cpu **out, vkvae_error *err)
{
    *out = NULL;
    if (precision != VKVAE_CPU_F32 && precision != VKVAE_CPU_F64 && precision != VKVAE_CPU_FAST)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "cpu backend: unknown precision %d", (int)precision);
    vkvae_status st = check_plan(plan, err);
    if (st != VKVAE_OK)
        return st;

    /* Refused before anything is allocated: calloc of more than the
     * machine has may still succeed (pages are lent lazily) and the run
     * would end under the out-of-memory killer instead of with a message. */
    uint64_t need = 0, real = precision == VKVAE_CPU_F64 ? sizeof(double) : sizeof(float);
    for (uint32_t b = 0; b < plan->n_buffers; b++)
        need += is_data(plan, b) ? plan->buffers[b].bytes : (plan->buffers[b].bytes + 3) / 4 * real;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t have = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (have && need > have)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY,
                          "cpu backend: plan '%s' needs %.1f GB of buffers, this machine has "
                          "%.1f GB of memory", plan->model, need / 1e9, have / 1e9);

    vkvae_cpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: out of memory");
    cpu->plan = plan;
    cpu->precision = precision;
    cpu->real_size = precision == VKVAE_CPU_F64 ? sizeof(double) : sizeof(float);
    cpu->buffers = calloc(plan->n_buffers ? plan->n_buffers : 1, sizeof *cpu->buffers);
    cpu->buffer_bytes = calloc(plan->n_buffers ? plan->n_buffers : 1, sizeof *cpu->buffer_bytes);
    cpu->tensors = calloc(plan->n_tensors ? plan->n_tensors : 1, sizeof *cpu->tensors);
    if (!cpu->buffers || !cpu->buffer_bytes || !cpu->tensors) {
        vkvae_cpu_destroy(cpu);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: out of memory");
    }
    if (precision == VKVAE_CPU_FAST && (st = vkvae_fast_create(0, &cpu->fast, err)) != VKVAE_OK) {
        vkvae_cpu_destroy(cpu);
        return st;
    }
    for (uint32_t b = 0; b < plan->n_buffers; b++) {
        uint64_t bytes = plan->buffers[b].bytes;
        if (!is_data(plan, b))
            bytes = (bytes + 3) / 4 * cpu->real_size;
        cpu->buffer_bytes[b] = bytes;
        cpu->buffers[b] = calloc(bytes ? bytes : 1, 1);
        if (!cpu->buffers[b]) {
            vkvae_cpu_destroy(cpu);
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: no memory for buffer '%s' (%llu bytes)",
                              plan->buffers[b].name, (unsigned long long)bytes);
        }
    }
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        uint64_t offset = is_data(plan, t->buffer) ? t->offset : t->offset / 4 * cpu->real_size;
        cpu->tensors[i] = cpu->buffers[t->buffer] + offset;
    }
    *out = cpu;
    return VKVAE_OK;
}

void vkvae_cpu_destroy(vkvae_cpu *cpu)
{
    if (!cpu)
        return;
    if (cpu->buffers)
        for (uint32_t b = 0; b < cpu->plan->n_buffers; b++)
            free(cpu->buffers[b]);
    free(cpu->buffers);
    free(cpu->buffer_bytes);
    free(cpu->tensors);
    vkvae_fast_destroy(cpu->fast);
    free(cpu);
}

const vkvae_plan *vkvae_cpu_plan(const vkvae_cpu *cpu)
{
    return cpu->plan;
}

vkvae_cpu_precision vkvae_cpu_get_precision(const vkvae_cpu *cpu)
{
    return cpu->precision;
}

static const vkvae_program_desc *find_program(const vkvae_plan *plan, vkvae_program_kind kind)
{
    for (uint32_t p = 0; p < plan->n_programs; p++)
        if (plan->programs[p].kind == kind)
            return &plan->programs[p];
    return NULL;
}

/* The values a gather reads come from the host at run time: check them. */
static vkvae_status check_gather(vkvae_cpu *cpu, const vkvae_program_desc *prog, uint32_t s,
                                 const vkvae_push *push, vkvae_error *err)
{
    const vkvae_step_desc *st = &prog->steps[s];
    uint64_t entries = cpu->plan->tensors[st->tensors[1]].elems;
    const uint32_t *perm = cpu->tensors[st->tensors[1]];
    uint32_t valid = push->rows < st->p.n ? push->rows : st->p.n;
    if ((uint64_t)push->base + valid > entries)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "program %s step %u (%s): rows %u..%u beyond the %llu-entry permutation",
                          prog->name, s, vkvae_op_name(st->op), push->base, push->base + valid,
                          (unsigned long long)entries);
    for (uint32_t r = 0; r < valid; r++)
        if (perm[push->base + r] >= entries)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "program %s step %u (%s): permutation entry %u is %u, the data has %llu rows",
                              prog->name, s, vkvae_op_name(st->op), push->base + r,
                              perm[push->base + r], (unsigned long long)entries);
    return VKVAE_OK;
}

static vkvae_status run_step(vkvae_cpu *cpu, const vkvae_program_desc *prog, uint32_t s,
                             const vkvae_push *push, vkvae_error *err)
{
    const vkvae_step_desc *st = &prog->steps[s];
    if (vkvae_op_flags(st->op) & VKVAE_OPF_DATA) {
        vkvae_status status = check_gather(cpu, prog, s, push, err);
        if (status != VKVAE_OK)
            return status;
    }
    void *t[VKVAE_MAX_BINDINGS] = { 0 };
    for (uint32_t b = 0; b < st->n_tensors; b++)
        t[b] = cpu->tensors[st->tensors[b]];
    if (cpu->precision == VKVAE_CPU_F64)
        vkvae_cpu_op_f64(st->op, &st->p, push, t);
    else if (!cpu->fast || !vkvae_fast_op(cpu->fast, st->op, &st->p, push, t))
        vkvae_cpu_op_f32(st->op, &st->p, push, t);
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_run(vkvae_cpu *cpu, vkvae_program_kind kind, const vkvae_push *push,
                           vkvae_error *err)
{
    return vkvae_cpu_run_range(cpu, kind, 0, UINT32_MAX, push, err);
}

vkvae_status vkvae_cpu_run_range(vkvae_cpu *cpu, vkvae_program_kind kind, uint32_t first,
                                 uint32_t end, const vkvae_push *push, vkvae_error *err)
{
    const vkvae_program_desc *whole = find_program(cpu->plan, kind);
    if (!whole)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s' has no program of kind %d",
                          cpu->plan->model, (int)kind);
    if (end > whole->n_steps)
        end = whole->n_steps;
    if (first > end)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "program %s has %u steps, not %u", whole->name,
                          whole->n_steps, first);
    /* The steps first .. end as a program of their own: the fast path
     * groups whatever steps it is given. */
    vkvae_program_desc part = *whole;
    part.steps = whole->steps + first;
    part.n_steps = end - first;
    const vkvae_program_desc *prog = &part;
    /* Check every gather first, so that a bad push writes nothing. */
    for (uint32_t s = 0; s < prog->n_steps; s++) {
        vkvae_op op = prog->steps[s].op;
        if (vkvae_op_flags(op) & VKVAE_OPF_DATA) {
            vkvae_status st = check_gather(cpu, prog, s, push, err);
            if (st != VKVAE_OK)
                return st;
        }
    }
    if (cpu->fast) { /* steps grouped into fewer pool jobs; same results */
        vkvae_fast_run(cpu->fast, cpu->plan, prog, cpu->tensors, push);
        return VKVAE_OK;
    }
    for (uint32_t s = 0; s < prog->n_steps; s++) {
        vkvae_status st = run_step(cpu, prog, s, push, err);
        if (st != VKVAE_OK)
            return st;
    }
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_run_step(vkvae_cpu *cpu, vkvae_program_kind kind, uint32_t step,
                                const vkvae_push *push, vkvae_error *err)
{
    const vkvae_program_desc *prog = find_program(cpu->plan, kind);
    if (!prog)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "plan '%s' has no program of kind %d",
                          cpu->plan->model, (int)kind);
    if (step >= prog->n_steps)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "program %s has %u steps, not %u",
                          prog->name, prog->n_steps, step + 1);
    return run_step(cpu, prog, step, push, err);
}

vkvae_cpu_view vkvae_cpu_tensor(vkvae_cpu *cpu, uint32_t tensor)
{
    vkvae_cpu_view v = { 0 };
    if (tensor >= cpu->plan->n_tensors)
        return v;
    const vkvae_tensor_desc *t = &cpu->plan->tensors[tensor];
    v.data = cpu->tensors[tensor];
    v.elems = t->elems;
    v.is_data = is_data(cpu->plan, t->buffer);
    v.bytes = v.is_data ? cpu->buffer_bytes[t->buffer] - t->offset : t->elems * cpu->real_size;
    return v;
}

vkvae_cpu_view vkvae_cpu_buffer(vkvae_cpu *cpu, uint32_t buffer)
{
    vkvae_cpu_view v = { 0 };
    if (buffer >= cpu->plan->n_buffers)
        return v;
    v.data = cpu->buffers[buffer];
    v.bytes = cpu->buffer_bytes[buffer];
    v.is_data = is_data(cpu->plan, buffer);
    v.elems = v.is_data ? v.bytes : v.bytes / cpu->real_size;
    return v;
}

static vkvae_status real_tensor(vkvae_cpu *cpu, uint32_t tensor, vkvae_cpu_view *v, vkvae_error *err)
{
    *v = vkvae_cpu_tensor(cpu, tensor);
    if (!v->data)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "cpu backend: tensor %u out of range", tensor);
    if (v->is_data)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "cpu backend: tensor '%s' is raw data, not real",
                          cpu->plan->tensors[tensor].name);
    return VKVAE_OK;
}

#define COPY_CONVERT(dst, src, count, dst_t, src_t) \
    do { \
        for (uint64_t i_ = 0; i_ < (count); i_++) \
            ((dst_t *)(dst))[i_] = (dst_t)((const src_t *)(src))[i_]; \
    } while (0)

vkvae_status vkvae_cpu_read_f32(vkvae_cpu *cpu, uint32_t tensor, float *dst, vkvae_error *err)
{
    vkvae_cpu_view v;
    vkvae_status st = real_tensor(cpu, tensor, &v, err);
    if (st != VKVAE_OK)
        return st;
    if (cpu->precision == VKVAE_CPU_F64)
        COPY_CONVERT(dst, v.data, v.elems, float, double);
    else
        memcpy(dst, v.data, v.elems * sizeof(float));
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_write_f32(vkvae_cpu *cpu, uint32_t tensor, const float *src, vkvae_error *err)
{
    vkvae_cpu_view v;
    vkvae_status st = real_tensor(cpu, tensor, &v, err);
    if (st != VKVAE_OK)
        return st;
    if (cpu->precision == VKVAE_CPU_F64)
        COPY_CONVERT(v.data, src, v.elems, double, float);
    else
        memcpy(v.data, src, v.elems * sizeof(float));
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_read_f64(vkvae_cpu *cpu, uint32_t tensor, double *dst, vkvae_error *err)
{
    vkvae_cpu_view v;
    vkvae_status st = real_tensor(cpu, tensor, &v, err);
    if (st != VKVAE_OK)
        return st;
    if (cpu->precision != VKVAE_CPU_F64)
        COPY_CONVERT(dst, v.data, v.elems, double, float);
    else
        memcpy(dst, v.data, v.elems * sizeof(double));
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_write_f64(vkvae_cpu *cpu, uint32_t tensor, const double *src, vkvae_error *err)
{
    vkvae_cpu_view v;
    vkvae_status st = real_tensor(cpu, tensor, &v, err);
    if (st != VKVAE_OK)
        return st;
    if (cpu->precision != VKVAE_CPU_F64)
        COPY_CONVERT(v.data, src, v.elems, float, double);
    else
        memcpy(v.data, src, v.elems * sizeof(double));
    return VKVAE_OK;
}

vkvae_status vkvae_cpu_init_params(vkvae_cpu *cpu, uint32_t seed, vkvae_error *err)
{
    const vkvae_plan *plan = cpu->plan;
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        if (!vkvae_init_has_start(plan, i))
            continue;
        float *values = malloc((t->elems ? t->elems : 1) * sizeof *values);
        if (!values)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: out of memory");
        vkvae_status st = vkvae_init_tensor(values, plan, i, seed, err);
        if (st == VKVAE_OK)
            st = vkvae_cpu_write_f32(cpu, i, values, err);
        free(values);
        if (st != VKVAE_OK)
            return st;
    }
    return VKVAE_OK;
}
