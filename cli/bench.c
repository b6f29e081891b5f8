/* vkvae bench: where one training step's GPU time goes, judged against the
 * device's own roofs.
 *
 * Every figure is GPU time from timestamp queries, the median of --runs runs
 * after warm-up runs. The roofs are measured here, on the same device: a
 * large buffer copy (bandwidth: bytes read plus written), a kernel of
 * independent FMA chains (arithmetic), and our own dense kernel on a
 * 1024^3 product (what a matmul reaches). Then each dispatch of the model's
 * train step, timed alone between two timestamps, with its FLOPs and bytes
 * computed from the op and its parameters (the dense ops exactly; other ops
 * as a per-element estimate, marked ~), and achieved GFLOP/s and GB/s, and
 * its workgroups (an occupancy audit: a dispatch of fewer workgroups than
 * twice --target-cus leaves compute units idle; a product split along its
 * depth, gpu/kernels.h, counts its first pass's and shows the split); then
 * the whole step recorded back to back as training records it, the epoch
 * that implies, and the sample program's throughput.
 *
 * The model runs on its own buffers (zeroed, parameters small random
 * values): timings do not depend on the values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_fma.spv.h"
#include "cli.h"
#include "gpu/gpu_plan.h"
#include "gpu/kernels.h"
#include "options.h"
#include "plan/op_info.h"
#include "spec/compile.h"

static const char bench_usage[] =
    "usage: vkvae bench [MODEL | path/to/spec.vae] [options]\n"
    "\n"
    "GPU time of every kernel of one training step of MODEL (default vae_mlp), with\n"
    "its build (plain; tiled: shared-memory product; sg: CPU drivers' subgroup\n"
    "product; fp16), FLOPs, bytes, GFLOP/s and GB/s, against the device's roofs\n"
    "measured here (buffer copy, FMA loop, our matmul on 1024^3); then the whole\n"
    "step, the epoch it implies and the sampling throughput.\n"
    "\n"
    "  --device D        Vulkan device index or name substring (default: the best)\n"
    "  --precision P     fp32 (default) or fp16: which build of the products to time\n"
    "  --runs N          timed runs per figure, the median is reported (default 20)\n"
    "  --target-cus N    compute units to fill: a dispatch of fewer than 2 N workgroups\n"
    "                    is flagged ! (default 32)\n"
    "  --batch B         plan the model at batch B (default: the spec's)\n"
    "  --audit           time nothing: list each dispatch's grid, invocations, FLOPs and\n"
    "                    bytes as a GPU runs it (the shared-memory builds, also on a CPU\n"
    "                    driver), flag those under 2 x --target-cus workgroups, and\n"
    "                    mark as small those whose whole work could not fill them\n"
    "  --json FILE       also write the figures as JSON\n";

enum { WARMUP = 3, TRAIN_SET = 60000, STEPS_PER_BATCH = 10 };

typedef struct bench {
    vkvae_context *ctx;
    vkvae_error err;
    uint32_t runs;
} bench;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- what each op costs ---- */

typedef struct op_cost {
    double flops, bytes;
    int exact; /* 0: FLOPs are a per-element estimate */
} op_cost;

static op_cost cost_of(vkvae_op op, const vkvae_op_params *p)
{
    op_cost c = {vkvae_op_flops(op, p), 0, (vkvae_op_flags(op) & VKVAE_OPF_PRODUCT) != 0};
    double n = p->n, in = p->in;
    uint32_t nb = vkvae_op_bindings(op);
    for (uint32_t b = 0; b < nb; b++) {
        vkvae_op_binding_info info = vkvae_op_binding(op, p, b);
        double size = info.elem == VKVAE_ELEM_U8 ? 1 : 4;
        double elems = (double)info.elems;
        if (elems == 0) /* the data set: only the rows gathered are read */
            elems = n * (in ? in : 1);
        if (vkvae_op_is_bwd_x(op) && b + 2 == nb && !p->act)
            continue; /* x, read only for the derivative of the activation below */
        c.bytes += elems * size;
        if (info.written && vkvae_op_reads_outputs(op))
            c.bytes += elems * size; /* read, then written back */
    }
    return c;
}

/* ---- timing ---- */

/* Records fn(user, c) between two timestamps `runs` times after warm-up
 * runs and returns the median GPU time in seconds (0 on failure, err set). */
typedef vkvae_status (*record_fn)(void *user, vkvae_commands *c, vkvae_error *err);

static double time_gpu(bench *b, uint32_t dispatches, record_fn fn, void *user, uint32_t runs)
{
    double *t = calloc(runs, sizeof *t);
    if (!t) {
        vkvae_fail(&b->err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        return 0;
    }
    vkvae_status s = VKVAE_OK;
    for (uint32_t r = 0; !s && r < WARMUP + runs; r++) {
        vkvae_commands c;
        s = vkvae_commands_begin(b->ctx, dispatches, 2, &c, &b->err);
        if (s)
            break;
        vkvae_commands_timestamp(b->ctx, &c);
        s = fn(user, &c, &b->err);
        vkvae_commands_timestamp(b->ctx, &c);
        double ns[2];
        if (!s)
            s = vkvae_commands_submit_wait(b->ctx, &c, &b->err);
        if (!s)
            s = vkvae_commands_timestamps_ns(b->ctx, &c, ns, 2, &b->err);
        if (!s && r >= WARMUP)
            t[r - WARMUP] = (ns[1] - ns[0]) * 1e-9;
        vkvae_commands_destroy(b->ctx, &c);
    }
    double m = s ? 0 : median(t, runs);
    free(t);
    return m;
}

/* ---- roofs ---- */

typedef struct copy_job {
    vkvae_context *ctx;
    vkvae_buffer *src, *dst;
} copy_job;

static vkvae_status record_copy(void *user, vkvae_commands *c, vkvae_error *err)
{
    (void)err;
    copy_job *j = user;
    VkBufferCopy region = {.size = j->src->size};
    j->ctx->vk.vkCmdCopyBuffer(c->cb, j->src->buffer, j->dst->buffer, 1, &region);
    return VKVAE_OK;
}

typedef struct kernel_job {
    vkvae_context *ctx;
    const vkvae_kernel *k;
    const vkvae_binding *bind;
    uint32_t n_bind;
    const void *push;
    uint32_t push_bytes;
    uint32_t groups[3];
    const vkvae_kernel *reduce; /* a split product's second pass (gpu/kernels.h), or NULL */
    uint32_t reduce_groups[3];
} kernel_job;

static vkvae_status record_kernel(void *user, vkvae_commands *c, vkvae_error *err)
{
    kernel_job *j = user;
    vkvae_status s = vkvae_commands_dispatch(j->ctx, c, j->k, j->bind, j->n_bind, j->push,
                                             j->push_bytes, j->groups[0], j->groups[1],
                                             j->groups[2], err);
    if (!s && j->reduce) {
        vkvae_commands_barrier(j->ctx, c);
        s = vkvae_commands_dispatch(j->ctx, c, j->reduce, j->bind, j->n_bind, j->push,
                                    j->push_bytes, j->reduce_groups[0], j->reduce_groups[1],
                                    j->reduce_groups[2], err);
    }
    return s;
}

static void fill_random(float *v, uint64_t n, uint32_t seed, float scale)
{
    uint64_t s = 0x9e3779b97f4a7c15ull ^ seed;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        v[i] = scale * (float)((double)(s >> 11) / 4503599627370496.0 - 1.0);
    }
}

typedef struct roofs {
    double copy_gbs, fma_gflops, matmul_gflops, matmul_s;
} roofs;

static vkvae_status measure_copy(bench *b, roofs *r)
{
    const VkDeviceSize bytes = 64ull << 20;
    vkvae_buffer src = {0}, dst = {0};
    vkvae_status s = vkvae_buffer_create(b->ctx, bytes, &src, &b->err);
    if (!s)
        s = vkvae_buffer_create(b->ctx, bytes, &dst, &b->err);
    if (!s)
        s = vkvae_buffer_fill(b->ctx, &src, 0x3f800000u, &b->err);
    if (!s) {
        copy_job j = {b->ctx, &src, &dst};
        double t = time_gpu(b, 0, record_copy, &j, b->runs);
        s = t > 0 ? VKVAE_OK : b->err.status;
        r->copy_gbs = t > 0 ? 2.0 * (double)bytes / t * 1e-9 : 0;
    }
    vkvae_buffer_destroy(b->ctx, &dst);
    vkvae_buffer_destroy(b->ctx, &src);
    return s;
}

static vkvae_status measure_fma(bench *b, roofs *r)
{
    const uint32_t iters = 2048, groups = 256, invocations = groups * 64;
    vkvae_buffer out = {0};
    vkvae_kernel k = {0};
    vkvae_status s = vkvae_buffer_create(b->ctx, invocations * 4ull, &out, &b->err);
    if (!s)
        s = vkvae_kernel_create(b->ctx, bench_fma_spv, sizeof bench_fma_spv / 4, &iters, 1,
                                "bench_fma", &k, &b->err);
    if (!s) {
        const float push[2] = {0.999f, 1e-3f};
        vkvae_binding bind = {.buffer = &out};
        kernel_job j = {b->ctx, &k, &bind, 1, push, sizeof push, {groups, 1, 1}, NULL, {0}};
        double t = time_gpu(b, 1, record_kernel, &j, b->runs);
        s = t > 0 ? VKVAE_OK : b->err.status;
        r->fma_gflops = t > 0 ? (double)invocations * iters * 16 * 2 / t * 1e-9 : 0;
    }
    if (k.pipeline)
        vkvae_kernel_destroy(b->ctx, &k);
    vkvae_buffer_destroy(b->ctx, &out);
    return s;
}

/* Our dense kernel (y = x w^T + b) on a square product of side n, as a
 * model would run it (split along its depth where kernels.c splits it). */
static vkvae_status measure_matmul(bench *b, uint32_t n, uint32_t runs, double *seconds)
{
    vkvae_op_params p = {.n = n, .in = n, .out = n};
    uint64_t scratch = 0;
    uint32_t split = vkvae_op_split(b->ctx, VKVAE_OP_DENSE, &p, &scratch);
    uint64_t elems[5] = {(uint64_t)n * n, (uint64_t)n * n, n, (uint64_t)n * n, scratch / 4};
    int nbuf = split > 1 ? 5 : 4;
    vkvae_buffer buf[5] = {{0}};
    vkvae_binding bind[5];
    vkvae_kernel k = {0}, reduce = {0};
    vkvae_status s = VKVAE_OK;
    float *host = malloc(elems[0] * sizeof *host);
    if (!host)
        s = vkvae_fail(&b->err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; !s && i < nbuf; i++) {
        s = vkvae_buffer_create(b->ctx, elems[i] * 4, &buf[i], &b->err);
        if (i < 4) /* the scratch buffer needs no values */
            fill_random(host, elems[i], (uint32_t)i, 1.0f);
        if (!s && i < 4)
            s = vkvae_buffer_upload(b->ctx, &buf[i], 0, host, elems[i] * 4, &b->err);
        bind[i] = (vkvae_binding){.buffer = &buf[i]};
    }
    if (!s)
        s = vkvae_op_kernel_create(b->ctx, VKVAE_OP_DENSE, &p, &k, &b->err);
    if (!s && split > 1)
        s = vkvae_op_reduce_create(b->ctx, VKVAE_OP_DENSE, &p, &reduce, &b->err);
    if (!s) {
        vkvae_push push = {.rows = n, .kl_weight = 1, .grad_scale = 1};
        kernel_job j = {b->ctx, &k, bind, (uint32_t)nbuf, &push, sizeof push, {0}, NULL, {0}};
        vkvae_op_groups(b->ctx, VKVAE_OP_DENSE, &p, j.groups);
        if (split > 1) {
            j.reduce = &reduce;
            vkvae_op_reduce_groups(b->ctx, VKVAE_OP_DENSE, &p, j.reduce_groups);
        }
        *seconds = time_gpu(b, 2, record_kernel, &j, runs);
        s = *seconds > 0 ? VKVAE_OK : b->err.status;
    }
    if (k.pipeline)
        vkvae_kernel_destroy(b->ctx, &k);
    if (reduce.pipeline)
        vkvae_kernel_destroy(b->ctx, &reduce);
    for (int i = 0; i < nbuf; i++)
        vkvae_buffer_destroy(b->ctx, &buf[i]);
    free(host);
    return s;
}

/* ---- the model ---- */

typedef struct model_bench {
    vkvae_context *ctx;
    const vkvae_plan *plan;
    vkvae_gpu_plan *g;
    const vkvae_program_desc *prog;
    uint32_t repeat;          /* program runs per recording */
    vkvae_push push;
} model_bench;

static const vkvae_program_desc *find_program(const vkvae_plan *plan, vkvae_program_kind kind)
{
    for (uint32_t i = 0; i < plan->n_programs; i++)
        if (plan->programs[i].kind == kind)
            return &plan->programs[i];
    return NULL;
}

/* Step i as training records it (a split product: both its dispatches),
 * on the plan's pipelines and descriptor sets. */
static vkvae_status dispatch_step(model_bench *m, vkvae_commands *c, uint32_t i, vkvae_error *err)
{
    return vkvae_gpu_plan_record_step(m->g, c, m->prog->kind, i, &m->push, err);
}

/* The program `repeat` times, with the plan's barriers (and one between runs). */
static vkvae_status record_program(void *user, vkvae_commands *c, vkvae_error *err)
{
    model_bench *m = user;
    vkvae_status s = VKVAE_OK;
    for (uint32_t r = 0; !s && r < m->repeat; r++) {
        if (r)
            vkvae_commands_barrier(m->ctx, c);
        for (uint32_t i = 0; !s && i < m->prog->n_steps; i++) {
            if (m->prog->steps[i].barrier)
                vkvae_commands_barrier(m->ctx, c);
            s = dispatch_step(m, c, i, err);
        }
    }
    return s;
}

/* Per-dispatch GPU seconds of the program (median over runs): each step
 * between two timestamps, after the plan's barrier. */
static vkvae_status time_steps(bench *b, model_bench *m, double *seconds)
{
    uint32_t n = m->prog->n_steps;
    double *all = calloc((size_t)n * b->runs, sizeof *all), *ns = calloc(2 * (size_t)n, sizeof *ns);
    vkvae_status s = all && ns ? VKVAE_OK
                               : vkvae_fail(&b->err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t r = 0; !s && r < WARMUP + b->runs; r++) {
        vkvae_commands c;
        s = vkvae_commands_begin(b->ctx, n, 2 * n, &c, &b->err);
        if (s)
            break;
        for (uint32_t i = 0; !s && i < n; i++) {
            if (m->prog->steps[i].barrier)
                vkvae_commands_barrier(b->ctx, &c);
            vkvae_commands_timestamp(b->ctx, &c);
            s = dispatch_step(m, &c, i, &b->err);
            vkvae_commands_timestamp(b->ctx, &c);
        }
        if (!s)
            s = vkvae_commands_submit_wait(b->ctx, &c, &b->err);
        if (!s)
            s = vkvae_commands_timestamps_ns(b->ctx, &c, ns, 2 * n, &b->err);
        for (uint32_t i = 0; !s && r >= WARMUP && i < n; i++)
            all[(size_t)i * b->runs + r - WARMUP] = (ns[2 * i + 1] - ns[2 * i]) * 1e-9;
        vkvae_commands_destroy(b->ctx, &c);
    }
    for (uint32_t i = 0; !s && i < n; i++)
        seconds[i] = median(all + (size_t)i * b->runs, b->runs);
    free(all);
    free(ns);
    return s;
}

static void describe_step(const vkvae_step_desc *st, char *out, size_t size)
{
    const vkvae_op_params *p = &st->p;
    /* the shape each kind of op reads: a convolution's images, batch
     * norm's channels of in values, else in features a row */
    int w = p->k ? snprintf(out, size, "%s n=%u %ux%ux%u->%ux%ux%u", vkvae_op_name(st->op),
                            p->n, p->c_in, p->h_in, p->w_in, p->c_out, p->h_out, p->w_out)
          : p->c_in ? snprintf(out, size, "%s n=%u c=%u in=%u", vkvae_op_name(st->op), p->n,
                               p->c_in, p->in)
                    : snprintf(out, size, "%s n=%u in=%u", vkvae_op_name(st->op), p->n, p->in);
    if (p->out && w > 0 && (size_t)w < size)
        w += snprintf(out + w, size - (size_t)w, " out=%u", p->out);
    if (vkvae_op_is_pair(st->op) && w > 0 && (size_t)w < size) /* the second layer's width */
        w += snprintf(out + w, size - (size_t)w, "+%u", p->in2);
    if (p->act && w > 0 && (size_t)w < size)
        snprintf(out + w, size - (size_t)w, " %s", vkvae_act_name(p->act));
}

/* A step's workgroups (its first dispatch's, for a split product) and its
 * split (1: one dispatch), as gpu/kernels.c decides them for ctx. */
static uint64_t step_groups(vkvae_context *ctx, const vkvae_step_desc *st, uint32_t *split)
{
    uint32_t g[3];
    uint64_t scratch;
    vkvae_op_groups(ctx, st->op, &st->p, g);
    *split = vkvae_op_split(ctx, st->op, &st->p, &scratch);
    return (uint64_t)g[0] * g[1] * g[2];
}

/* Which build of its kernel a step runs (runtime/kernels.c, vkvae_op_build). */
static const char *build_name(vkvae_context *ctx, const vkvae_step_desc *st)
{
    static const char *const names[] = {
        [VKVAE_BUILD_PLAIN] = "plain", [VKVAE_BUILD_TILED] = "tiled",
        [VKVAE_BUILD_SUBGROUP] = "sg", [VKVAE_BUILD_FP16] = "fp16"};
    return names[vkvae_op_build(ctx, st->op, &st->p)];
}

/* ---- the command ---- */

typedef struct bench_opts {
    const char *model, *device, *json;
    uint32_t runs, target_cus, batch;
    int has_batch, audit;
    vkvae_precision precision;
} bench_opts;

static int parse_args(int argc, char **argv, bench_opts *o)
{
    const cli_option options[] = {
        {CLI_STRING("--device", &o->device)},
        {CLI_PRECISION("--precision", &o->precision)},
        {CLI_STRING("--json", &o->json)},
        {CLI_U32("--runs", &o->runs), .min = 1, .max = 10000},
        {CLI_U32("--target-cus", &o->target_cus), .min = 1, .max = 1000000},
        {CLI_U32("--batch", &o->batch), .given = &o->has_batch, .min = 1, .max = 65536},
        {CLI_FLAG("--audit", &o->audit)},
        {NULL},
    };
    return cli_options_parse(&(cli_command_line){.cmd = "bench", .usage = bench_usage,
                                                 .options = options, .arg = &o->model,
                                                 .second_arg = "more than one model given"},
                             argc, argv);
}

static vkvae_status init_params(model_bench *m, vkvae_error *err)
{
    vkvae_status s = VKVAE_OK;
    for (uint32_t t = 0; !s && t < m->plan->n_tensors; t++) {
        const vkvae_tensor_desc *d = &m->plan->tensors[t];
        if (m->plan->buffers[d->buffer].role != VKVAE_ROLE_PARAM)
            continue;
        float *v = malloc(d->elems * sizeof *v);
        if (!v)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        fill_random(v, d->elems, t, 0.05f);
        s = vkvae_gpu_plan_write(m->g, t, v, err);
        free(v);
    }
    return s;
}

/* The options, the model and the device; -1 to go on, else the exit
 * status. */
static int open_bench(int argc, char **argv, bench_opts *o, const vkvae_plan **plan, bench *b)
{
    int r = parse_args(argc, argv, o);
    if (r >= 0)
        return r;
    r = cli_model(o->model ? o->model : "vae_mlp", o->has_batch ? o->batch : 0, plan);
    /* The steps read one batch of the (random) data set: a data set of one
     * batch, so no model's training set has to fit the device. */
    if (!r)
        r = cli_model_fit(plan, 0, (*plan)->batch);
    if (r)
        return r;
    if (o->device && strcmp(o->device, "cpu") == 0)
        return cli_fail(VKVAE_BAD_INPUT, "bench: times Vulkan kernels; --device cpu has none "
                                         "(vkvae train --device cpu reports its own speed)");
    b->runs = o->runs;
    /* The audit is of the grids GPUs run: on a CPU driver too (where the
     * subgroup builds would otherwise run), the shared-memory builds. */
    if (o->audit && setenv("VKVAE_MM_TILED", "1", 1) != 0)
        return cli_fail(VKVAE_INTERNAL, "bench: setenv failed");
    r = cli_context("bench", o->device, o->precision, &b->ctx);
    return r ? r : -1;
}

/* The device's roofs, which every kernel below is judged against. */
static vkvae_status measure_roofs(bench *b, roofs *roof)
{
    const uint32_t mm_n = 1024;
    vkvae_status s = measure_copy(b, roof);
    if (!s)
        s = measure_fma(b, roof);
    if (!s)
        s = measure_matmul(b, mm_n, b->runs < 5 ? b->runs : 5, &roof->matmul_s);
    if (s)
        return s;
    roof->matmul_gflops = 2.0 * mm_n * mm_n * mm_n / roof->matmul_s * 1e-9;
    printf("\nroofs\n");
    printf("  %-34s %9.1f GB/s\n", "buffer copy 64 MiB (read+write)", roof->copy_gbs);
    printf("  %-34s %9.1f GFLOP/s\n", "FMA loop", roof->fma_gflops);
    printf("  %-34s %9.1f GFLOP/s  %.1f ms  %.0f%% of FMA roof\n", "dense 1024x1024x1024",
           roof->matmul_gflops, roof->matmul_s * 1e3, 100 * roof->matmul_gflops / roof->fma_gflops);
    return VKVAE_OK;
}

/* The model's train program on its own buffers, ready to record. */
static vkvae_status open_model(bench *b, model_bench *m)
{
    m->prog = find_program(m->plan, VKVAE_PROGRAM_TRAIN);
    if (!m->prog)
        return vkvae_fail(&b->err, VKVAE_UNSUPPORTED, "model %s has no train program",
                          m->plan->model);
    vkvae_status s = vkvae_gpu_plan_create(b->ctx, m->plan, &m->g, &b->err);
    if (!s)
        s = init_params(m, &b->err);
    return s;
}

/* Everything cmd_bench measures, printed as it comes and written to --json
 * at the end. */
typedef struct bench_figures {
    const vkvae_device_info *dev;
    const char *precision;     /* "fp32" or "fp16" */
    roofs roof;
    const vkvae_program_desc *train;
    uint32_t n, barriers;      /* the train step's dispatches and barriers */
    double *t;                 /* [n]: each dispatch's seconds, timed alone */
    uint32_t target_cus, flagged; /* steps under 2 target_cus workgroups */
    op_cost *cost;             /* [n] */
    double sum_t, sum_flops, sum_bytes, mm_t, mm_flops; /* mm: the dense (exact) kernels */
    double step_s;             /* the whole step, back to back */
    uint32_t steps_per_epoch;
    double sample_s;
    uint32_t sample_rows;      /* 0: no sample program */
    double compile_s;          /* the spec compiled at run time (median) */
} bench_figures;

/* The model's spec compiled at run time, as a user's own spec or a
 * checkpoint's is when it loads (runtime/spec): the median of runs,
 * host time. */
static vkvae_status time_compile(bench *b, const vkvae_plan *plan, bench_figures *f)
{
    double *t = calloc(b->runs, sizeof *t);
    if (!t)
        return vkvae_fail(&b->err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_status s = VKVAE_OK;
    for (uint32_t i = 0; i < b->runs && !s; i++) {
        struct timespec t0, t1;
        vkvae_plan *p = NULL;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        s = vkvae_spec_compile(&(vkvae_spec_desc){.path = plan->model, .text = plan->spec_text,
                                                  .batch = plan->batch},
                               &p, NULL, &b->err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        vkvae_spec_plan_free(p);
        t[i] = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    }
    if (!s) {
        f->compile_s = median(t, b->runs);
        printf("spec compiled at run time: %.2f ms (parse, shapes, gradients, plan)\n",
               f->compile_s * 1e3);
    }
    free(t);
    return s;
}

/* Each dispatch of the train step timed alone, as a table against the
 * roof that binds it, with the sums and the dense kernels' share. */
static vkvae_status time_kernels(bench *b, model_bench *m, bench_figures *f)
{
    vkvae_status s = time_steps(b, m, f->t);
    if (s)
        return s;
    uint32_t n = f->n;
    printf("\ntrain step: %u dispatches", n);
    for (uint32_t i = 0; i < n; i++)
        f->barriers += m->prog->steps[i].barrier != 0;
    printf(", %u barriers\n", f->barriers);
    printf("  %3s %-44s %-5s %9s %11s %10s %8s %8s %6s %8s %5s\n", "#", "kernel", "build",
           "time us", "MFLOP", "MB", "GFLOP/s", "GB/s", "roof%", "groups", "split");
    for (uint32_t i = 0; i < n; i++) {
        const vkvae_step_desc *st = &m->prog->steps[i];
        const double t = f->t[i];
        op_cost *c = &f->cost[i];
        *c = cost_of(st->op, &st->p);
        char name[96];
        describe_step(st, name, sizeof name);
        double gf = c->flops / t * 1e-9, gb = c->bytes / t * 1e-9;
        /* Against whichever roof binds this kernel. */
        double roofpct = 100 * fmax(gf / f->roof.fma_gflops, gb / f->roof.copy_gbs);
        uint32_t split;
        uint64_t groups = step_groups(b->ctx, st, &split);
        int flag = groups < 2ull * f->target_cus;
        f->flagged += flag;
        char split_s[16] = "";
        if (split > 1)
            snprintf(split_s, sizeof split_s, "x%u", split);
        printf("  %3u %-44s %-5s %9.1f %10.2f%s %10.3f %8.2f %8.2f %6.1f %7llu%c %5s\n", i,
               name, build_name(b->ctx, st), t * 1e6, c->flops * 1e-6, c->exact ? " " : "~",
               c->bytes * 1e-6, gf, gb, roofpct, (unsigned long long)groups, flag ? '!' : ' ',
               split_s);
        f->sum_t += t;
        f->sum_flops += c->flops;
        f->sum_bytes += c->bytes;
        if (c->exact) {
            f->mm_t += t;
            f->mm_flops += c->flops;
        }
    }
    printf("  %3s %-44s %-5s %9.1f %10.2f  %10.3f %8.2f %8.2f\n", "", "sum of dispatches", "",
           f->sum_t * 1e6, f->sum_flops * 1e-6, f->sum_bytes * 1e-6, f->sum_flops / f->sum_t * 1e-9,
           f->sum_bytes / f->sum_t * 1e-9);
    printf("  %3s %-44s %-5s %9.1f %10.2f  %10s %8.2f   (%.0f%% of the step's kernel time)\n", "",
           "dense kernels", "", f->mm_t * 1e6, f->mm_flops * 1e-6, "", f->mm_flops / f->mm_t * 1e-9,
           100 * f->mm_t / f->sum_t);
    printf("  %u of %u dispatches flagged ! (fewer than 2 x %u workgroups: --target-cus %u)\n",
           f->flagged, n, f->target_cus, f->target_cus);
    return VKVAE_OK;
}

/* The whole step as training records it: back to back, no timestamps
 * between dispatches; what it leaves between kernels, and the epoch it
 * implies. */
static vkvae_status time_whole_step(bench *b, model_bench *m, bench_figures *f)
{
    const vkvae_plan *plan = m->plan;
    m->repeat = STEPS_PER_BATCH;
    double t10 = time_gpu(b, f->n * m->repeat, record_program, m, b->runs);
    if (!(t10 > 0))
        return b->err.status;
    f->step_s = t10 / m->repeat;
    double step_s = f->step_s;
    printf("\nwhole step   %9.3f ms  (%u steps back to back per recording; %.1f GFLOP/s "
           "over the plan's %.0f MFLOP)\n",
           step_s * 1e3, STEPS_PER_BATCH, (double)plan->step_flops / step_s * 1e-9,
           (double)plan->step_flops * 1e-6);
    if (step_s > f->sum_t)
        printf("gaps         %9.1f us per dispatch (whole step minus its kernels timed "
               "alone)\n",
               (step_s - f->sum_t) / f->n * 1e6);
    else
        printf("gaps         none measurable (the step ran faster than its kernels timed "
               "alone: noise, or overlap)\n");
    int text = plan->input_vocab != 0;
    printf("epoch        %9.2f s   (estimate: %u steps of batch %u, %u %s; %.0f %s/s)\n",
           step_s * f->steps_per_epoch, f->steps_per_epoch, plan->batch, TRAIN_SET,
           text ? "sequences" : "images", plan->batch / step_s, text ? "seq" : "img");
    return VKVAE_OK;
}

/* Sampling: the sample program, one batch of prior draws decoded; m's
 * train kernels give way to the sample program's. */
static vkvae_status time_sampling(bench *b, model_bench *m, bench_figures *f)
{
    m->prog = find_program(m->plan, VKVAE_PROGRAM_SAMPLE);
    if (!m->prog) {
        printf("sampling     (model %s has no sample program)\n", m->plan->model);
        return VKVAE_OK;
    }
    m->repeat = 1;
    for (uint32_t i = 0; i < m->prog->n_steps; i++)
        if (m->prog->steps[i].p.n > f->sample_rows)
            f->sample_rows = m->prog->steps[i].p.n;
    int text = m->plan->input_vocab != 0;
    if (text) /* (a sequence's steps are rows of its layers: the batch's sequences) */
        f->sample_rows = m->plan->batch;
    f->sample_s = time_gpu(b, m->prog->n_steps, record_program, m, b->runs);
    vkvae_status s = f->sample_s > 0 ? VKVAE_OK : b->err.status;
    /* a pixel model runs the program once a pixel and once more, each run
     * the same work: one timed, times the runs */
    uint32_t runs = m->plan->sample_passes ? m->plan->sample_passes : 1;
    f->sample_s *= runs;
    if (!s)
        printf("sampling     %9.3f ms per %u %s (%u dispatches%s): %.0f %s/s\n",
               f->sample_s * 1e3, f->sample_rows, text ? "sequences" : "images",
               m->prog->n_steps * runs,
               runs == 1 ? "" : text ? ", one run of the program a step"
                                     : ", one run of the program a pixel",
               f->sample_rows / f->sample_s, text ? "sequences" : "images");
    return s;
}

/* The figures as JSON at path, for scripts that compare runs. */
static vkvae_status write_json(bench *b, const vkvae_plan *plan, const bench_figures *f,
                               const char *path)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return vkvae_fail(&b->err, VKVAE_IO, "%s: cannot write", path);
    fprintf(out, "{\n  \"model\": \"%s\",\n  \"device\": \"%s\",\n  \"precision\": \"%s\",\n"
                 "  \"runs\": %u,\n",
            plan->model, f->dev->name, f->precision, b->runs);
    fprintf(out, "  \"roofs\": {\"copy_gbs\": %.3f, \"fma_gflops\": %.3f, "
                 "\"matmul_1024_gflops\": %.3f, \"matmul_1024_ms\": %.3f},\n",
            f->roof.copy_gbs, f->roof.fma_gflops, f->roof.matmul_gflops, f->roof.matmul_s * 1e3);
    fprintf(out, "  \"train_step\": {\"dispatches\": %u, \"barriers\": %u, "
                 "\"step_ms\": %.4f, \"kernel_sum_ms\": %.4f, \"dense_ms\": %.4f, "
                 "\"dense_gflops\": %.3f, \"plan_flops\": %llu, \"epoch_s\": %.3f, "
                 "\"images_per_s\": %.1f, \"target_cus\": %u, \"flagged\": %u},\n",
            f->n, f->barriers, f->step_s * 1e3, f->sum_t * 1e3, f->mm_t * 1e3,
            f->mm_flops / f->mm_t * 1e-9, (unsigned long long)plan->step_flops,
            f->step_s * f->steps_per_epoch, plan->batch / f->step_s, f->target_cus, f->flagged);
    if (f->sample_rows)
        fprintf(out, "  \"sample\": {\"rows\": %u, \"ms\": %.4f, \"images_per_s\": %.1f},\n",
                f->sample_rows, f->sample_s * 1e3, f->sample_rows / f->sample_s);
    if (f->compile_s > 0)
        fprintf(out, "  \"compile_ms\": %.3f,\n", f->compile_s * 1e3);
    fprintf(out, "  \"kernels\": [\n");
    for (uint32_t i = 0; i < f->n; i++) {
        const vkvae_step_desc *st = &f->train->steps[i];
        const op_cost *c = &f->cost[i];
        uint32_t split;
        uint64_t groups = step_groups(b->ctx, st, &split);
        fprintf(out,
                "    {\"step\": %u, \"op\": \"%s\", \"n\": %u, \"in\": %u, \"out\": %u, "
                "\"act\": \"%s\", \"build\": \"%s\", \"us\": %.2f, \"flops\": %.0f, "
                "\"flops_exact\": %s, \"bytes\": %.0f, \"gflops\": %.3f, \"gbs\": %.3f, "
                "\"groups\": %llu, \"split\": %u, \"flagged\": %s}%s\n",
                i, vkvae_op_name(st->op), st->p.n, st->p.in, st->p.out, vkvae_act_name(st->p.act),
                build_name(b->ctx, st), f->t[i] * 1e6, c->flops, c->exact ? "true" : "false",
                c->bytes, c->flops / f->t[i] * 1e-9, c->bytes / f->t[i] * 1e-9,
                (unsigned long long)groups, split,
                groups < 2ull * f->target_cus ? "true" : "false", i + 1 < f->n ? "," : "");
    }
    fprintf(out, "  ]\n}\n");
    if (fclose(out) != 0)
        return vkvae_fail(&b->err, VKVAE_IO, "%s: write failed", path);
    return VKVAE_OK;
}

static int bench_model(bench_opts *o, const vkvae_plan *plan, bench *b);
static int audit_model(bench_opts *o, const vkvae_plan *plan, bench *b);

int cmd_bench(int argc, char **argv)
{
    bench_opts o = {.runs = 20, .target_cus = 32};
    const vkvae_plan *plan = NULL;
    bench b = {0};
    int r = open_bench(argc, argv, &o, &plan, &b);
    if (r < 0)
        r = o.audit ? audit_model(&o, plan, &b) : bench_model(&o, plan, &b);
    cli_model_free(plan);
    return r;
}

/* cmd_bench's measurements, once the model and the device are open. */
static int bench_model(bench_opts *o, const vkvae_plan *plan, bench *b)
{
    bench_figures f = {.precision = o->precision == VKVAE_PRECISION_FP16 ? "fp16" : "fp32",
                       .target_cus = o->target_cus,
                       .steps_per_epoch = (TRAIN_SET + plan->batch - 1) / plan->batch};
    uint32_t n_dev;
    f.dev = vkvae_context_devices(b->ctx, &n_dev) + vkvae_context_device_index(b->ctx);
    vkvae_status s = VKVAE_OK;
    if (f.dev->timestamp_period_ns <= 0)
        s = vkvae_fail(&b->err, VKVAE_UNSUPPORTED,
                       "%s has no timestamps on its compute queue: nothing to time", f.dev->name);
    printf("vkvae bench: %s on %s (%s), %s products, median of %u runs\n", plan->model,
           f.dev->name, f.dev->driver_info[0] ? f.dev->driver_info : f.dev->driver_name,
           f.precision, b->runs);

    /* Each step runs only if the ones before succeeded; the first error
     * is the one reported, after everything opened is closed. */
    model_bench m = {.ctx = b->ctx, .plan = plan, .repeat = 1,
                     .push = {.seed = 1, .step = 0, .base = 0, .rows = plan->batch,
                              .kl_weight = 1, .grad_scale = 1}};
    if (!s)
        s = measure_roofs(b, &f.roof);
    if (!s)
        s = open_model(b, &m);
    f.train = m.prog;
    f.n = m.prog ? m.prog->n_steps : 0;
    f.t = calloc(f.n ? f.n : 1, sizeof *f.t);
    f.cost = calloc(f.n ? f.n : 1, sizeof *f.cost);
    if (!s && (!f.t || !f.cost))
        s = vkvae_fail(&b->err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!s)
        s = time_kernels(b, &m, &f);
    if (!s)
        s = time_whole_step(b, &m, &f);
    if (!s)
        s = time_sampling(b, &m, &f);
    if (!s && plan->spec_text)
        s = time_compile(b, plan, &f);
    if (!s && o->json)
        s = write_json(b, plan, &f, o->json);
    free(f.t);
    free(f.cost);
    vkvae_gpu_plan_destroy(m.g);
    uint32_t messages = vkvae_validation_message_count(b->ctx);
    vkvae_context_destroy(b->ctx);
    if (s)
        return cli_fail(b->err.status, "%s", b->err.message);
    if (messages)
        return cli_fail(VKVAE_VALIDATION, "the validation layer reported %u message(s)", messages);
    return 0;
}

/* ---- the occupancy audit (--audit) ---- */

/* A dispatch is small when its whole work, spread over the target's
 * workgroups of 64 invocations, gives each invocation less than the least
 * our kernels give one: in FLOPs, a product's 4 x 4 tile of outputs over a
 * 64-deep slice (2,048: gpu/kernels.c, split_depth), and in words moved, a
 * plain kernel's few vec4s (64 words, 256 bytes). Such a dispatch cannot
 * fill the target with any grid of ours, and a GPU runs it in a few
 * microseconds, its launch's time. */
enum { AUDIT_MIN_FLOPS = 2048, AUDIT_MIN_WORDS = 64, AUDIT_LOCAL_SIZE = 64 };

typedef struct audit_row {
    uint64_t groups;
    uint32_t split;
    op_cost cost;
    char verdict; /* ' ' fills the target, '!' does not, 's' small */
} audit_row;

static audit_row audit_step(vkvae_context *ctx, const vkvae_step_desc *st, uint32_t target_cus)
{
    audit_row a = {.cost = cost_of(st->op, &st->p), .verdict = ' '};
    a.groups = step_groups(ctx, st, &a.split);
    double invocations = 2.0 * target_cus * AUDIT_LOCAL_SIZE;
    int small = a.cost.flops < invocations * AUDIT_MIN_FLOPS &&
                a.cost.bytes / 4 < invocations * AUDIT_MIN_WORDS;
    if (a.groups < 2ull * target_cus)
        a.verdict = small ? 's' : '!';
    return a;
}

/* Every dispatch of the model's train step with its grid as gpu/kernels.c
 * decides it on this device, without running anything: grids are shape
 * facts, the same on every device of the shared-memory builds (which
 * open_bench asked for), so a CPU driver shows what a GPU runs. */
static int audit_model(bench_opts *o, const vkvae_plan *plan, bench *b)
{
    uint32_t n_dev;
    const vkvae_device_info *dev = vkvae_context_devices(b->ctx, &n_dev) +
                                   vkvae_context_device_index(b->ctx);
    const vkvae_program_desc *prog = find_program(plan, VKVAE_PROGRAM_TRAIN);
    FILE *json = NULL;
    int r = 0;
    if (!prog)
        r = cli_fail(VKVAE_UNSUPPORTED, "bench: model %s has no train program", plan->model);
    if (!r && o->json && !(json = fopen(o->json, "w")))
        r = cli_fail(VKVAE_IO, "%s: cannot write", o->json);
    if (r) {
        vkvae_context_destroy(b->ctx);
        return r;
    }
    printf("vkvae bench --audit: %s, batch %u, the grids of the shared-memory builds GPUs run "
           "(described by %s)\n", plan->model, plan->batch, dev->name);
    printf("a dispatch under %u workgroups (2 x --target-cus %u) is flagged !, or marked small "
           "when its whole work\nwould give each of their invocations under %u FLOPs and %u "
           "words moved\n\n",
           2 * o->target_cus, o->target_cus, AUDIT_MIN_FLOPS, AUDIT_MIN_WORDS);
    printf("  %3s %-46s %-5s %10s %10s %8s %11s %5s\n", "#", "kernel", "build", "MFLOP", "MB",
           "groups", "invocations", "split");
    if (json)
        fprintf(json, "{\n  \"model\": \"%s\",\n  \"batch\": %u,\n  \"target_cus\": %u,\n"
                      "  \"steps\": [\n", plan->model, plan->batch, o->target_cus);
    uint32_t flagged = 0, small = 0;
    for (uint32_t i = 0; i < prog->n_steps; i++) {
        const vkvae_step_desc *st = &prog->steps[i];
        audit_row a = audit_step(b->ctx, st, o->target_cus);
        flagged += a.verdict == '!';
        small += a.verdict == 's';
        char name[96], split_s[16] = "";
        describe_step(st, name, sizeof name);
        if (a.split > 1)
            snprintf(split_s, sizeof split_s, "x%u", a.split);
        printf("  %3u %-46s %-5s %9.2f%s %10.3f %7llu%c %11llu %5s%s\n", i, name,
               build_name(b->ctx, st), a.cost.flops * 1e-6, a.cost.exact ? " " : "~",
               a.cost.bytes * 1e-6, (unsigned long long)a.groups, a.verdict == '!' ? '!' : ' ',
               (unsigned long long)a.groups * AUDIT_LOCAL_SIZE, split_s,
               a.verdict == 's' ? "  small" : "");
        if (json)
            fprintf(json,
                    "    {\"step\": %u, \"kernel\": \"%s\", \"build\": \"%s\", \"flops\": %.0f, "
                    "\"bytes\": %.0f, \"groups\": %llu, \"split\": %u, \"verdict\": \"%s\"}%s\n",
                    i, name, build_name(b->ctx, st), a.cost.flops, a.cost.bytes,
                    (unsigned long long)a.groups, a.split,
                    a.verdict == '!' ? "flagged" : a.verdict == 's' ? "small" : "fills",
                    i + 1 < prog->n_steps ? "," : "");
    }
    printf("  %u of %u dispatches flagged !, %u small\n", flagged, prog->n_steps, small);
    if (json) {
        fprintf(json, "  ],\n  \"flagged\": %u,\n  \"small\": %u\n}\n", flagged, small);
        if (fclose(json) != 0)
            r = cli_fail(VKVAE_IO, "%s: write failed", o->json);
    }
    uint32_t messages = vkvae_validation_message_count(b->ctx);
    vkvae_context_destroy(b->ctx);
    if (!r && messages)
        r = cli_fail(VKVAE_VALIDATION, "the validation layer reported %u message(s)", messages);
    return r;
}
