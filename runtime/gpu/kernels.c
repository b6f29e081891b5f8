/* The GPU kernel of each op: SPIR-V compiled at build time from
 * shaders/ops/<op>.comp, specialised per step with the step's parameters
 * (constant_id i = the i-th 4-byte field of vkvae_op_params), and the
 * workgroup grid that covers the op's elements. The SPIR-V table comes from
 * ops.def (shaders/op_kernels.py writes op_spirv.h) and the plain grid from
 * its invocation counts, so a new op's kernel needs no edit here: only a
 * different algorithm per device (the builds below) is decided here.
 *
 * Every choice reads the device's description (vkvae_device_info), never
 * its raw properties, so a $VKVAE_LIMITS clamp (vulkan/limits.c) makes it
 * choose as a small device would: builds the device's features allow,
 * workgroups within its invocations, tiles within its shared memory, grids
 * within its workgroup counts. vkvae_op_kernel_create checks the result
 * against the description (check_limits) and refuses, loudly, a pipeline
 * the device could not run: the validation layer cannot see that on a
 * device whose real limits are larger than the clamp.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpu/kernels.h"
#include "plan/op_info.h"
#include "vulkan/context.h"

#include "op_spirv.h" /* shaders/op_kernels.py: the SPIR-V of every op, from ops.def */

/* The shaders read vkvae_op_params as 26 consecutive 4-byte constants and
 * vkvae_push as their push-constant block (shaders/common.glsl). */
enum { SPEC_COUNT = 26 };
_Static_assert(sizeof(vkvae_op_params) == SPEC_COUNT * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, act) == 15 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, alpha) == 19 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_op_params, momentum) == 25 * 4, "common.glsl constant ids");
_Static_assert(offsetof(vkvae_push, grad_scale) == 20, "common.glsl push block");
_Static_assert(sizeof(vkvae_push) <= VKVAE_PUSH_BYTES, "the pipelines' push-constant range");

typedef struct op_kernel {
    const uint32_t *spirv;
    size_t bytes;
} op_kernel;

#define K(op, name) [VKVAE_OP_##op] = {name##_spv, sizeof name##_spv}
static const op_kernel kernels[VKVAE_OP_COUNT] = {VKVAE_KERNELS_PLAIN};

const uint32_t *vkvae_op_spirv(vkvae_op op, size_t *words)
{
    if ((unsigned)op >= VKVAE_OP_COUNT || !kernels[op].spirv)
        return NULL;
    *words = kernels[op].bytes / sizeof(uint32_t);
    return kernels[op].spirv;
}

/* The dense ops' register-blocked matmul (shaders/ops/matmul.glsl): tile
 * sizes chosen per shape, passed as specialization constants 32.. and
 * matched by the grid. C is rows x cols over depth (see each kernel's
 * header): dense y[n,out] over in, dense_bwd_x dx[n,in] over out,
 * dense_bwd_w [dw|db][out,in+1] over n; a dense_pair* the same with both
 * layers' out + in2 for out. */
enum { MM_GRID = 8, SPEC_TUNE = 32, SPEC_WORDS = 40 }; /* 8 x 8 invocations */

/* Invocations per workgroup of every kernel but the subgroup builds (whose
 * workgroup is one subgroup): common.glsl's local_size_x, matmul.glsl's
 * 8 x 8. Shared memory of the kernels that are not tiled products: their
 * largest fixed array, loss_accum's vec3[64], taken as 64 vec4s. The
 * tiled products add their tiles (mm_shared_bytes) to conv_mm.glsl's
 * db_part[64]. */
enum { LOCAL_SIZE = MM_GRID * MM_GRID, PLAIN_SHARED_BYTES = 64 * 16, MM_EXTRA_SHARED_BYTES = 64 * 4 };

/* A plain kernel's shared memory: PLAIN_SHARED_BYTES, or a GRU's state
 * sized by its units (shaders/ops/gru.comp: h[t-1] and h[t]; gru_bwd.comp:
 * a step's 3 gate gradients a unit). */
static uint32_t plain_shared_bytes(vkvae_op op, const vkvae_op_params *p)
{
    uint64_t bytes = 4ull * (op == VKVAE_OP_GRU       ? 2ull * p->out
                             : op == VKVAE_OP_GRU_BWD ? 3ull * p->out
                                                      : 0);
    if (bytes <= PLAIN_SHARED_BYTES)
        return PLAIN_SHARED_BYTES;
    return bytes < UINT32_MAX ? (uint32_t)bytes : UINT32_MAX;
}

static const vkvae_device_info *device_of(const vkvae_context *ctx)
{
    return &ctx->devices[ctx->device_index];
}

typedef struct mm_shape {
    uint32_t rows, cols, depth;
    uint32_t tm, tn, tk; /* rows per workgroup, columns per invocation, tile depth */
    uint32_t vec4;       /* subgroup variant: contiguous dimensions in whole vec4s */
} mm_shape;

/* The convolutions' implicit products (shaders/ops/conv_mm.glsl), with the
 * image side (where the window slides) and the grid side (one pixel per
 * window position) of conv2d (x, y) or convt2d (y, x):
 *   gather  (conv2d, convt2d_bwd_x): [n gh gw, grid c] over image c k k
 *   scatter (conv2d_bwd_x, convt2d): [n ceil(h/s) ceil(w/s), image c] over
 *           grid c ceil(k/s)^2, one stride phase per z of the grid
 *   wgrad   (conv2d_bwd_w, convt2d_bwd_w): [grid c, image c k k] over
 *           n gh gw, and one more row of workgroups for db.
 * A product narrower than 8 (one output channel, say) would waste most of
 * a 32-wide block: those shapes keep the plain kernel (<op>.comp), as do
 * grids past the device's workgroup counts (Vulkan guarantees 65535 in
 * each dimension). But a weight gradient of fewer than 8 output channels
 * (a last 1x1 layer to one channel) still has a long reduction, which the
 * plain kernel's workgroup a weight walks alone (a few dozen workgroups:
 * a GPU idles): on the shared-memory builds it runs as a product of
 * mostly empty 32-row blocks, split along that depth (choose keeps the
 * plain kernel for the subgroup build, which would not split). */
static int conv_tiles(const vkvae_device_info *d, vkvae_op op, const vkvae_op_params *p,
                      mm_shape *s)
{
    int t = op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_W;
    uint64_t ic = t ? p->c_out : p->c_in, ih = t ? p->h_out : p->h_in, iw = t ? p->w_out : p->w_in;
    uint64_t gc = t ? p->c_in : p->c_out, grid = t ? (uint64_t)p->h_in * p->w_in
                                                   : (uint64_t)p->h_out * p->w_out;
    uint64_t kc = ic * p->k * p->k, st = p->stride ? p->stride : 1, ks = (p->k + st - 1) / st;
    uint64_t rows, cols, depth;
    switch (op) {
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONVT2D_BWD_X: rows = p->n * grid, cols = gc, depth = kc; break;
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONVT2D:
        rows = p->n * ((ih + st - 1) / st) * ((iw + st - 1) / st), cols = ic, depth = gc * ks * ks;
        break;
    default: rows = gc, cols = kc, depth = p->n * grid; break;
    }
    int wgrad = op == VKVAE_OP_CONV2D_BWD_W || op == VKVAE_OP_CONVT2D_BWD_W;
    if ((rows < 8 && !wgrad) || cols < 8 || rows > UINT32_MAX || depth > UINT32_MAX)
        return 0;
    *s = (mm_shape){.rows = (uint32_t)rows, .cols = (uint32_t)cols, .depth = (uint32_t)depth};
    uint64_t macs = rows * cols * depth;
    s->tm = rows <= 32 ? 4 : rows >= 128 && macs >= (1u << 24) ? 16 : 8;
    s->tn = cols <= 32 ? 4 : 8;
    s->tk = 8;
    uint64_t phases = op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D ? st * st : 1;
    if ((rows + MM_GRID * s->tm - 1) / (MM_GRID * s->tm) >= d->max_workgroup_count[1] ||
        (cols + MM_GRID * s->tn - 1) / (MM_GRID * s->tn) > d->max_workgroup_count[0] ||
        phases > d->max_workgroup_count[2])
        return 0; /* (>=: the wgrad's rows of workgroups for db) */
    return 1;
}

static int mm_tiles(const vkvae_device_info *d, vkvae_op op, const vkvae_op_params *p, mm_shape *s)
{
    uint32_t out = p->out + (vkvae_op_is_pair(op) ? p->in2 : 0); /* a pair: both layers */
    if (vkvae_op_flags(op) & VKVAE_OPF_CONV)
        return conv_tiles(d, op, p, s);
    switch (op) {
    case VKVAE_OP_DENSE:
    case VKVAE_OP_DENSE_PAIR: *s = (mm_shape){.rows = p->n, .cols = out, .depth = p->in}; break;
    case VKVAE_OP_DENSE_BWD_X:
    case VKVAE_OP_DENSE_PAIR_BWD_X: *s = (mm_shape){.rows = p->n, .cols = p->in, .depth = out}; break;
    case VKVAE_OP_DENSE_BWD_W:
    case VKVAE_OP_DENSE_PAIR_BWD_W: *s = (mm_shape){.rows = out, .cols = p->in + 1, .depth = p->n}; break;
    default: return 0;
    }
    /* Operands per FMA is what bounds a CPU driver (each per-invocation
     * load is a scalar loop over SIMD lanes): larger blocks win there, but
     * the unrolled inner loop's JIT time grows with them (on lavapipe 16 x 8
     * takes several times 8 x 8's, paid once per shape, then the shader
     * cache; measured in BENCHMARKS.md). So 16 x 8 blocks (128 x 64 per
     * workgroup) only for products of 16M multiply-adds and more, where they
     * pay for themselves; 8 x 8 (64 x 64) otherwise. Shared memory:
     * 4 tk (8 tm + 8 tn) bytes, 6 KiB. */
    uint64_t macs = (uint64_t)s->rows * s->cols * s->depth;
    s->tm = s->rows >= 128 && macs >= (1u << 24) ? 16 : 8;
    s->tn = 8;
    s->tk = 8;
    return 1;
}

/* Shared memory of a tiled product (matmul.glsl): its A and B tiles,
 * MM_TK deep, of floats or (the fp16 build) halves, and the db tree of the
 * convolutions' wgrad (conv_mm.glsl). */
static uint32_t mm_shared_bytes(const mm_shape *s, int fp16)
{
    return (fp16 ? 2u : 4u) * s->tk * MM_GRID * (s->tm + s->tn) + MM_EXTRA_SHARED_BYTES;
}

/* Shrinks a tiled product's tiles until they fit the device's shared
 * memory: the taller of the blocks first (fewer registers too), then the
 * tile's depth, to 4 x 4 x 4 (1 KiB): Vulkan's minimum of 16 KiB holds
 * every tile kernels.c picks (6 KiB at most), so this matters only below
 * it. Returns 0 when even the smallest does not fit. */
static int mm_fit_shared(const vkvae_device_info *d, mm_shape *s, int fp16)
{
    while (mm_shared_bytes(s, fp16) > d->max_shared_memory) {
        if (s->tm > 4 && s->tm >= s->tn)
            s->tm /= 2;
        else if (s->tn > 4)
            s->tn /= 2;
        else if (s->tk > 4)
            s->tk /= 2;
        else
            return 0;
    }
    return 1;
}

/* The other builds of the kernels (shaders/meson.build, vkvae_op_build):
 * the products (ops.def's PRODUCT: the dense ops, the convolutions'
 * implicit products) and the row sums (ROW_SUM). PLAIN is the kernels
 * table above; TILED is the shared-memory product GPUs run: the dense ops'
 * own <op>.comp, the convolutions' <op>_mm.comp (their <op>.comp is the
 * plain kernel for shapes too narrow for a product); the other builds add
 * their suffix to those names. */
static const op_kernel builds[][VKVAE_OP_COUNT] = {
    [VKVAE_BUILD_TILED] = {VKVAE_KERNELS_TILED},
    [VKVAE_BUILD_SUBGROUP] = {VKVAE_KERNELS_SG},
    [VKVAE_BUILD_FP16] = {VKVAE_KERNELS_F16},
};
/* The split-K builds of TILED and FP16 (VKVAE_SPLIT: split_depth below). */
static const op_kernel split_builds[][VKVAE_OP_COUNT] = {
    [VKVAE_BUILD_TILED] = {VKVAE_KERNELS_SPLIT},
    [VKVAE_BUILD_FP16] = {VKVAE_KERNELS_F16_SPLIT},
};

/* The ops whose subgroup build sums rows (subgroupAdd), not a matrix
 * product's (subgroupShuffle). */
static int sums_rows(vkvae_op op)
{
    return (vkvae_op_flags(op) & VKVAE_OPF_ROW_SUM) != 0;
}

/* The subgroup builds, on CPU drivers (lavapipe): there every load is a
 * scalar loop over the SIMD lanes and every barrier a switch between the
 * lanes' coroutines, while subgroupShuffle and subgroupAdd are vector
 * instructions. So the matmul-based ops share operands through shuffles
 * (shaders/ops/matmul.glsl says how) and nll_bernoulli_grad sums a row
 * with subgroupAdd, one subgroup per workgroup. They need: a CPU device
 * (on GPUs the shared-memory kernels are the fast path), the subgroup
 * operations they use in compute shaders, and a power-of-two subgroup size
 * from 4 to 64, within the device's workgroup limits (a workgroup is one
 * subgroup). Returns that size, or 0 (from the device's description,
 * queried once; a $VKVAE_LIMITS clamp has no subgroup arithmetic or
 * shuffles, so it gets the shared-memory kernels). VKVAE_MM_TILED=1 keeps
 * the shared-memory kernels on a CPU driver too, so the suite checks on
 * lavapipe the kernels GPUs run (tests/ops: ops_tiled). */
static uint32_t subgroup_size(vkvae_context *ctx, vkvae_op op)
{
    const vkvae_device_info *d = device_of(ctx);
    uint32_t n = d->subgroup_size;
    int ops = sums_rows(op) ? d->subgroup_arithmetic : d->subgroup_shuffle;
    if (ctx->mm_tiled || d->type != VKVAE_DEVICE_CPU || !ops || n < 4 || n > 64 ||
        (n & (n - 1)) || n > d->max_invocations || n > d->max_workgroup_size[0])
        return 0;
    return n;
}

/* The convolutions' blocks stop at 32 x 4: their operand gathers unroll
 * into far more code than the dense ops' vec4 loads, and on vae_conv larger
 * blocks ran no faster a step while about doubling lavapipe's JIT time;
 * 16 x 4 is slower (measured in BENCHMARKS.md). */
enum { MAX_CONV_BLOCK = 128 };

/* Loop passes an invocation may take on llvmpipe, with room for the few
 * other loops of a kernel (its limit is 65,535 in all). */
enum { LOOP_BUDGET = 60000 };

/* The subgroup variant's block per workgroup: tm rows by sg * tn columns
 * (constant_id 32, 33; 35 is the workgroup size, sg; 36 says the rows
 * along each operand's contiguous dimension are whole vec4s). Loads cost
 * most there: per 4-deep step a lane loads tm / sg + tn vec4s (bwd_w:
 * 4 ceil(tm / 4 sg) + tn) for 4 tm tn FMAs, so bigger blocks amortise
 * them. On lavapipe (Zen 4, 1024^3, CPU time per product; measured in
 * BENCHMARKS.md) 64 x 4 and 32 x 8 run 1.1-1.3x as fast as 32 x 4, 16 x 4
 * about 0.8x, 8 x 4 less, and none takes long to JIT. Picked by least
 * estimated time: padded work over that rate, times a penalty when fewer
 * than 8 workgroups share the threads. */
static void mm_sg_tiles(const vkvae_device_info *d, vkvae_op op, const vkvae_op_params *p,
                        uint32_t sg, mm_shape *s)
{
    static const struct { uint32_t tm, tn, rate; } cand[] = {
        {64, 4, 13}, {32, 8, 13}, {32, 4, 10}, {16, 4, 8}, {8, 4, 5},
    };
    /* dense: columns may then come one at a time */
    int kcont_b = op == VKVAE_OP_DENSE || op == VKVAE_OP_DENSE_PAIR;
    int pair = vkvae_op_is_pair(op);
    int dense = pair || op == VKVAE_OP_DENSE || op == VKVAE_OP_DENSE_BWD_X ||
                op == VKVAE_OP_DENSE_BWD_W;
    double best = 0;
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        if (!dense && cand[i].tm * cand[i].tn > MAX_CONV_BLOCK)
            continue;
        for (uint32_t tn = cand[i].tn; tn >= (kcont_b ? 1u : cand[i].tn); tn /= 2) {
            uint64_t bm = cand[i].tm, bn = (uint64_t)sg * tn;
            uint64_t gm = (s->rows + bm - 1) / bm, gn = (s->cols + bn - 1) / bn;
            if (gm >= d->max_workgroup_count[1] || gn > d->max_workgroup_count[0])
                continue; /* past the device's grid (db's extra row included) */
            double t = (double)(gm * bm) * (double)(gn * bn) / cand[i].rate;
            if (tn < cand[i].tn)
                t *= 1.25; /* fewer columns per lane: more loads per FMA */
            if (gm * gn < 8)
                t *= 8.0 / (double)(gm * gn);
            if (best == 0 || t < best) {
                best = t;
                s->tm = cand[i].tm, s->tn = tn;
            }
            if (tn == 1)
                break;
        }
    }
    /* dense reads x and w along in; the backward ops also dy along out (a
     * pair's dy2 along in2, and its vec4s must not straddle dy and dy2).
     * The convolutions gather their operands element by element. */
    s->vec4 = dense && p->in % 4 == 0 &&
              (kcont_b || (p->out % 4 == 0 && (!pair || p->in2 % 4 == 0)));
}

/* What runs for op with params p on ctx, decided once for the grid and the
 * pipeline: the build, the subgroup size of a SUBGROUP build (0 otherwise)
 * and, when the kernel is a matrix product (product), its shape and tiles,
 * and its split along the depth (split slices of slice deep; 0 or 1: one
 * dispatch). */
typedef struct kernel_choice {
    vkvae_kernel_build build;
    uint32_t sg;
    int product;
    mm_shape mm;
    uint32_t split, slice;
} kernel_choice;

static void groups_of(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                      const kernel_choice *cp, uint32_t groups[3]);

/* A weight gradient's rows of workgroups after the product's, which sum
 * db (shaders/ops/conv_mm.glsl, conv_db): one workgroup a channel where
 * the grid allows, per_row = the workgroups of a row (x times z). One
 * workgroup looping over many channels would also run past lavapipe's
 * budget of 65,535 loop iterations per invocation, all loops counted,
 * after which llvmpipe quietly stops looping (gallivm's loop limiter):
 * vae_conv's first layer lost the sums of its last six channels so. */
static uint32_t db_rows(const vkvae_device_info *d, vkvae_op op, const vkvae_op_params *p,
                        uint64_t per_row, uint32_t product_rows)
{
    if (op != VKVAE_OP_CONV2D_BWD_W && op != VKVAE_OP_CONVT2D_BWD_W)
        return 0;
    uint64_t rows = (p->c_out + per_row - 1) / per_row;
    uint64_t room = d->max_workgroup_count[1] - product_rows;
    return (uint32_t)(rows < 1 ? 1 : rows > room ? room : rows);
}

/* Split-K (the VKVAE_SPLIT builds, shaders/ops/matmul.glsl). A product
 * whose output is small and whose depth is long, such as a convolution's
 * weight gradient (32 x 48 weights over n h w = 65536 terms) or a dense
 * layer's over a long input, has one or two blocks of C: one or two
 * workgroups walk the whole depth while the rest of a GPU idles (on an
 * H200, 5.5 ms for 50 MFLOP). Such a product runs instead as slices of
 * its depth, each slice's blocks a workgroup that writes partial sums to
 * the plan's scratch buffer, then a second dispatch of the same module
 * that sums the slices in order and ends as the kernel does (bias,
 * activation, derivative): deterministic, and no float atomics (optional
 * in Vulkan).
 *
 * SPLIT_TARGET is the workgroups a dispatch should give a GPU: 4 per
 * compute unit of a 64-unit GPU, so that every unit has several
 * 64-invocation workgroups to switch between while loads wait (an H200's
 * 132 SMs get about 2, a hundred times one or two). A product with fewer
 * blocks first takes smaller ones, halving the larger side of an
 * invocation's tile down to 4 x 4 (a 32 x 32 block: fewer FMAs per shared
 * load, which a product this small does not miss), then slices until
 * blocks x slices reach the target, each slice at least SPLIT_MIN_DEPTH
 * deep (8 tiles of 8: an invocation's 1,024 FMAs of a 4 x 4 tile against
 * its 16 partials stored and summed again), and at most SPLIT_MAX_SCRATCH
 * floats of partial sums (32 MiB; a product under the target stays far
 * below: slices x blocks x 8192 floats a block). So every product of more
 * than 64 x 32 x 32 x 64 multiply-adds gives 64 workgroups or more (vkvae
 * bench --audit counts what is smaller as small). Grids are shape facts,
 * not device facts: every device with the shared-memory builds splits
 * alike, so lavapipe runs what GPUs run (ops_tiled). The subgroup builds
 * of CPU drivers keep one dispatch: their few threads are busy already. */
enum { SPLIT_TARGET = 4 * 64, SPLIT_MIN_DEPTH = 64, SPLIT_MAX_SCRATCH = 1u << 23 };

/* A tiled product's workgroups (its db rows not counted), one slice. */
static uint64_t product_blocks(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                               const kernel_choice *c)
{
    uint32_t g[3];
    groups_of(ctx, op, p, c, g);
    return (uint64_t)g[0] * ((c->mm.rows + MM_GRID * c->mm.tm - 1) / (MM_GRID * c->mm.tm)) * g[2];
}

static void split_depth(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                        kernel_choice *c)
{
    c->split = 1;
    c->slice = c->mm.depth;
    uint64_t blocks = product_blocks(ctx, op, p, c);
    while (blocks < SPLIT_TARGET && (c->mm.tm > 4 || c->mm.tn > 4)) {
        if (c->mm.tm >= c->mm.tn)
            c->mm.tm /= 2;
        else
            c->mm.tn /= 2;
        blocks = product_blocks(ctx, op, p, c);
    }
    uint32_t g[3];
    groups_of(ctx, op, p, c, g);
    uint64_t per_slice = (uint64_t)c->mm.rows * c->mm.cols * g[2]; /* floats of partials */
    if (blocks >= SPLIT_TARGET || per_slice == 0)
        return;
    uint64_t s = (SPLIT_TARGET + blocks - 1) / blocks;
    if (s > c->mm.depth / SPLIT_MIN_DEPTH)
        s = c->mm.depth / SPLIT_MIN_DEPTH;
    if (s > SPLIT_MAX_SCRATCH / per_slice)
        s = SPLIT_MAX_SCRATCH / per_slice;
    if (s * g[2] > device_of(ctx)->max_workgroup_count[2])
        s = device_of(ctx)->max_workgroup_count[2] / g[2];
    if (s < 2)
        return;
    /* Whole tiles per slice, and no empty slice. */
    uint64_t slice = (c->mm.depth + s - 1) / s;
    slice = (slice + c->mm.tk - 1) / c->mm.tk * c->mm.tk;
    s = (c->mm.depth + slice - 1) / slice;
    if (s < 2)
        return;
    c->split = (uint32_t)s;
    c->slice = (uint32_t)slice;
}

static kernel_choice choose(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    const vkvae_device_info *d = device_of(ctx);
    kernel_choice c = {.build = VKVAE_BUILD_PLAIN};
    if (sums_rows(op)) { /* a row per subgroup, or the shared-memory tree */
        c.sg = subgroup_size(ctx, op);
        c.build = c.sg ? VKVAE_BUILD_SUBGROUP : VKVAE_BUILD_PLAIN;
        return c;
    }
    mm_shape mm;
    if (!mm_tiles(d, op, p, &mm))
        return c;
    /* fp16 on CPU drivers too: no fp16 subgroup build. (A context asks for
     * fp16 only on a device with it: vkvae_context_precision_check.) */
    int fp16 = ctx->precision == VKVAE_PRECISION_FP16;
    uint32_t sg = fp16 ? 0 : subgroup_size(ctx, op);
    /* The subgroup build walks the whole depth in one loop, 4 deep a pass;
     * llvmpipe (the CPU drivers that get it) stops an invocation's loops
     * after 65,535 passes in all (gallivm's loop limiter; docs/
     * architecture.md). Deeper products take the shared-memory build,
     * whose depth splits into slices. */
    if (sg && mm.depth / 4 >= LOOP_BUDGET)
        sg = 0;
    /* A convolution whose tiles cannot fit keeps its plain kernel, as does a
     * narrow weight gradient on the subgroup build (conv_tiles); a dense op
     * has no other (check_limits then refuses it). */
    int conv = (vkvae_op_flags(op) & VKVAE_OPF_CONV) != 0;
    if (conv && sg && mm.rows < 8)
        return c;
    if (!sg && !mm_fit_shared(d, &mm, fp16) && conv)
        return c;
    c.product = 1;
    c.mm = mm;
    if (fp16) {
        c.build = VKVAE_BUILD_FP16;
    } else if ((c.sg = sg)) {
        c.build = VKVAE_BUILD_SUBGROUP;
        mm_sg_tiles(d, op, p, c.sg, &c.mm);
    } else {
        c.build = VKVAE_BUILD_TILED;
    }
    if (c.build != VKVAE_BUILD_SUBGROUP)
        split_depth(ctx, op, p, &c);
    return c;
}

vkvae_kernel_build vkvae_op_build(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    return choose(ctx, op, p).build;
}

/* min(want, most), at least 1. */
static uint32_t clamp_slices(uint64_t want, uint64_t most)
{
    uint64_t s = want < most ? want : most;
    return (uint32_t)(s < 1 ? 1 : s);
}

/* The one shape constant of a plain kernel that has one (constant_id 32;
 * 0: none), by which its grid is sized too (op_invocations):
 * - convt2d: adjacent pixels per invocation (VKVAE_CONVT_PIXELS);
 * - the optimizers: vec4s of parameters per invocation (OPT_QUADS,
 *   shaders/common.glsl): several on CPU drivers, which pay per invocation
 *   and per load instruction; one on GPUs, whose adjacent lanes then read
 *   adjacent vec4s and whose grid is 4x as wide (a PixelCNN's 61,632
 *   parameters: 241 workgroups, not 61);
 * - batch norm: workgroups per channel (BN_SLICES, shaders/ops/
 *   batchnorm.comp), each working out the channel's statistics, then
 *   writing its slice: on GPUs enough that 32 channels give SPLIT_TARGET
 *   workgroups, each slice 1,024 values or more (the statistics' reads
 *   repeat per slice, from cache);
 * - nll_tokens_bwd: invocations per step (TOK_SLICES), each working out the
 *   step's softmax, then writing its slice of the classes: on GPUs enough
 *   for SPLIT_TARGET workgroups (128 words of 20 steps are 40 workgroups),
 *   each slice 8 classes or more, 16 at most (each reads the logits twice
 *   more).
 * The slices are one on CPU drivers, whose few threads every repeated
 * statistic would cost (VKVAE_MM_TILED=1: the GPUs' choices there too). */
static uint32_t plain_shape(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    int gpu = device_of(ctx)->type != VKVAE_DEVICE_CPU || ctx->mm_tiled;
    uint64_t steps = (uint64_t)p->n * p->in;
    switch (op) {
    case VKVAE_OP_CONVT2D: return VKVAE_CONVT_PIXELS;
    case VKVAE_OP_ADAM:
    case VKVAE_OP_SGD: return gpu ? 1 : VKVAE_OPT_PARAMS / 4;
    case VKVAE_OP_BATCHNORM:
    case VKVAE_OP_BATCHNORM_BWD:
        return gpu ? clamp_slices((SPLIT_TARGET + p->c_in - 1) / p->c_in, (steps + 1023) / 1024)
                   : 1;
    case VKVAE_OP_NLL_TOKENS_BWD:
        return gpu && steps ? clamp_slices((SPLIT_TARGET * LOCAL_SIZE + steps - 1) / steps,
                                           p->classes / 8 < 16 ? p->classes / 8 : 16)
                            : 1;
    default: return 0;
    }
}

/* How many invocations op's plain kernel needs (ops.def), a row's elements
 * taken 4 at a time when its kernel does (ROW_VEC, shaders/common.glsl) and
 * rows are whole vec4s, and as plain_shape says (ops.def counts one slice
 * and 4 vec4s an optimizer invocation). */
static uint64_t op_invocations(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    uint64_t n = vkvae_op_invocations(op, p);
    switch (op) {
    case VKVAE_OP_ADAM:
    case VKVAE_OP_SGD: return ((uint64_t)p->in + 4 * plain_shape(ctx, op, p) - 1) /
                              (4 * plain_shape(ctx, op, p));
    case VKVAE_OP_BATCHNORM:
    case VKVAE_OP_BATCHNORM_BWD:
    case VKVAE_OP_NLL_TOKENS_BWD: return n * plain_shape(ctx, op, p);
    default: return (vkvae_op_flags(op) & VKVAE_OPF_ROW_VEC) && p->in % 4 == 0 ? n / 4 : n;
    }
}

static void groups_of(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                      const kernel_choice *cp, uint32_t groups[3])
{
    kernel_choice c = *cp;
    if (c.product) { /* a block of C per workgroup: tm x sg tn, or 8 tm x 8 tn */
        uint32_t bm = c.sg ? c.mm.tm : MM_GRID * c.mm.tm;
        uint32_t bn = (c.sg ? c.sg : MM_GRID) * c.mm.tn;
        groups[0] = (c.mm.cols + bn - 1) / bn;
        groups[1] = (c.mm.rows + bm - 1) / bm;
        groups[2] = 1;
        if (op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D)
            groups[2] = p->stride * p->stride; /* a stride phase each */
        if (c.split > 1)
            groups[2] *= c.split; /* the slices of each block, phase by phase */
        groups[1] += db_rows(device_of(ctx), op, p, (uint64_t)groups[0] * groups[2], groups[1]);
        return;
    }
    /* a row's workgroup is one subgroup in the subgroup build */
    uint64_t g = c.sg ? p->n : (op_invocations(ctx, op, p) + 63) / 64;
    if (g == 0)
        g = 1;
    /* Fold a long grid into rows of at most the device's count in x (at
     * least Vulkan's 65535); the shader's element_index() unfolds it by
     * gl_NumWorkGroups.x, and the spare tail is bounds-checked. */
    uint64_t wide = device_of(ctx)->max_workgroup_count[0];
    uint64_t rows = (g + wide - 1) / wide;
    groups[0] = (uint32_t)(rows > 1 ? (g + rows - 1) / rows : g);
    groups[1] = (uint32_t)rows;
    groups[2] = op == VKVAE_OP_CONVT2D ? p->stride * p->stride : 1; /* a stride phase each */
}

void vkvae_op_groups(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p, uint32_t groups[3])
{
    kernel_choice c = choose(ctx, op, p);
    groups_of(ctx, op, p, &c, groups);
}

uint32_t vkvae_op_split(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                        uint64_t *scratch_bytes)
{
    kernel_choice c = choose(ctx, op, p);
    uint32_t g[3];
    groups_of(ctx, op, p, &c, g);
    int split = c.product && c.split > 1;
    *scratch_bytes = split ? (uint64_t)g[2] * c.mm.rows * c.mm.cols * 4 : 0; /* z: slices, phases */
    return split ? c.split : 1;
}

void vkvae_op_reduce_groups(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                            uint32_t groups[3])
{
    kernel_choice c = choose(ctx, op, p);
    uint32_t g[3];
    groups_of(ctx, op, p, &c, g);
    /* an element of C per invocation, folded as the plain grids are */
    uint64_t n = ((uint64_t)c.mm.rows * c.mm.cols + 63) / 64;
    uint64_t wide = device_of(ctx)->max_workgroup_count[0];
    uint64_t rows = (n + wide - 1) / wide;
    groups[0] = (uint32_t)(rows > 1 ? (n + rows - 1) / rows : n);
    groups[1] = (uint32_t)rows;
    groups[2] = c.split > 1 ? g[2] / c.split : 1; /* a stride phase each */
}

static const char *build_name(vkvae_kernel_build b)
{
    static const char *const names[] = {"plain", "tiled", "subgroup", "fp16"};
    return (unsigned)b < sizeof names / sizeof *names ? names[b] : "?";
}

/* Whether the kernel chosen for op fits the device as its description
 * says (clamped or not): its workgroup's invocations and width, its shared
 * memory, its grid, the push constants and the features its build needs.
 * A breach is kernels.c's bug, refused here (INTERNAL, naming the limit)
 * rather than dispatched: the validation layer checks the real device's
 * limits, which a $VKVAE_LIMITS clamp lies under. */
static vkvae_status check_limits(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                 const kernel_choice *c, vkvae_error *err)
{
    const vkvae_device_info *d = device_of(ctx);
    char what[400];
    snprintf(what, sizeof what, "kernel %s (%s build) on device '%s'%s%s", vkvae_op_name(op),
             build_name(c->build), d->name, d->limits[0] ? ", VKVAE_LIMITS=" : "", d->limits);
    uint32_t local = c->sg ? c->sg : LOCAL_SIZE;
    uint32_t shared = c->product && !c->sg ? mm_shared_bytes(&c->mm, c->build == VKVAE_BUILD_FP16)
                      : c->sg ? 0 : plain_shared_bytes(op, p);
    uint32_t groups[3];
    groups_of(ctx, op, p, c, groups);
    if (local > d->max_invocations || local > d->max_workgroup_size[0])
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "%s: %u invocations per workgroup exceed maxComputeWorkGroupInvocations "
                          "%u or maxComputeWorkGroupSize[0] %u",
                          what, local, d->max_invocations, d->max_workgroup_size[0]);
    if (shared > d->max_shared_memory)
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "%s: %u bytes of shared memory exceed maxComputeSharedMemorySize %u",
                          what, shared, d->max_shared_memory);
    for (int i = 0; i < 3; i++)
        if (groups[i] > d->max_workgroup_count[i])
            return vkvae_fail(err, VKVAE_INTERNAL,
                              "%s: %u workgroups in dimension %d exceed maxComputeWorkGroupCount "
                              "%u",
                              what, groups[i], i, d->max_workgroup_count[i]);
    if (VKVAE_PUSH_BYTES > d->max_push_constants)
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "%s: %d bytes of push constants exceed maxPushConstantsSize %u", what,
                          (int)VKVAE_PUSH_BYTES, d->max_push_constants);
    if ((c->build == VKVAE_BUILD_FP16 && !d->fp16) ||
        (c->build == VKVAE_BUILD_SUBGROUP &&
         !(sums_rows(op) ? d->subgroup_arithmetic : d->subgroup_shuffle)))
        return vkvae_fail(err, VKVAE_INTERNAL, "%s: the device has no %s", what,
                          c->build == VKVAE_BUILD_FP16 ? "shaderFloat16"
                          : sums_rows(op)              ? "subgroup arithmetic"
                                                       : "subgroup shuffles");
    return VKVAE_OK;
}

/* The pipeline of op's kernel, or (reduce) of a split product's second
 * pass. */
static vkvae_status kernel_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                  int reduce, vkvae_kernel *out, vkvae_error *err)
{
    if ((unsigned)op >= VKVAE_OP_COUNT || !kernels[op].spirv)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "op %d has no GPU kernel yet", (int)op);
    kernel_choice c = choose(ctx, op, p);
    vkvae_status s = check_limits(ctx, op, p, &c, err);
    if (s)
        return s;
    int split = c.product && c.split > 1;
    if (reduce && !split)
        return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: not a split product",
                          vkvae_op_name(op));
    const op_kernel *k = c.build == VKVAE_BUILD_PLAIN ? &kernels[op]
                         : split                      ? &split_builds[c.build][op]
                                                      : &builds[c.build][op];
    /* constant_id 0..25: the params; 32..: the build's tuning (ids the
     * module lacks are ignored). */
    uint32_t spec[SPEC_WORDS] = {0};
    memcpy(spec, p, sizeof *p);
    if (c.product) { /* matmul.glsl: 32, 33, and 34 (shared memory) or 35, 36 (subgroup) */
        spec[SPEC_TUNE + 0] = c.mm.tm;
        spec[SPEC_TUNE + 1] = c.mm.tn;
        if (c.sg) {
            spec[SPEC_TUNE + 3] = c.sg;
            spec[SPEC_TUNE + 4] = c.mm.vec4;
        } else {
            spec[SPEC_TUNE + 2] = c.mm.tk;
        }
        if (split) { /* mm_build.glsl: 37 slices, 38 their depth, 39 the pass */
            spec[SPEC_TUNE + 5] = c.split;
            spec[SPEC_TUNE + 6] = c.slice;
            spec[SPEC_TUNE + 7] = reduce != 0;
        }
    } else if (c.sg) { /* a row per subgroup: constant_id 35, its size */
        spec[SPEC_TUNE + 3] = c.sg;
    } else if (plain_shape(ctx, op, p)) { /* a plain kernel's shape constant */
        spec[SPEC_TUNE + 0] = plain_shape(ctx, op, p);
    }
    return vkvae_kernel_create(ctx, k->spirv, k->bytes / sizeof(uint32_t), spec, SPEC_WORDS, "op",
                               out, err);
}

vkvae_status vkvae_op_kernel_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err)
{
    return kernel_create(ctx, op, p, 0, out, err);
}

vkvae_status vkvae_op_reduce_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err)
{
    return kernel_create(ctx, op, p, 1, out, err);
}
#undef K
