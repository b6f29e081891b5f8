/* The GPU kernel of each op: SPIR-V compiled at build time from
 * shaders/ops/<op>.comp, specialised per step with the step's parameters
 * (constant_id i = the i-th 4-byte field of vkvae_op_params), and the
 * workgroup grid that covers the op's elements. The SPIR-V table comes from
 * ops.def (shaders/op_kernels.py writes op_spirv.h) and the plain grid from
 * its invocation counts, so a new op's kernel needs no edit here: only a
 * different algorithm per device (the builds below) is decided here.
 */
#include <stddef.h>
#include <stdint.h>
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
 * grids past Vulkan's guaranteed 65535 workgroups. */
static int conv_tiles(vkvae_op op, const vkvae_op_params *p, mm_shape *s)
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
    if (rows < 8 || cols < 8 || rows > UINT32_MAX || depth > UINT32_MAX)
        return 0;
    *s = (mm_shape){.rows = (uint32_t)rows, .cols = (uint32_t)cols, .depth = (uint32_t)depth};
    uint64_t macs = rows * cols * depth;
    s->tm = rows <= 32 ? 4 : rows >= 128 && macs >= (1u << 24) ? 16 : 8;
    s->tn = cols <= 32 ? 4 : 8;
    s->tk = 8;
    if ((rows + MM_GRID * s->tm - 1) / (MM_GRID * s->tm) >= 65535 ||
        (cols + MM_GRID * s->tn - 1) / (MM_GRID * s->tn) > 65535)
        return 0;
    return 1;
}

static int mm_tiles(vkvae_op op, const vkvae_op_params *p, mm_shape *s)
{
    uint32_t out = p->out + (vkvae_op_is_pair(op) ? p->in2 : 0); /* a pair: both layers */
    if (vkvae_op_flags(op) & VKVAE_OPF_CONV)
        return conv_tiles(op, p, s);
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
 * from 4 to 64. Returns that size, or 0 (from the device's description,
 * queried once). VKVAE_MM_TILED=1 keeps the shared-memory kernels on a CPU
 * driver too, so the suite checks on lavapipe the kernels GPUs run
 * (tests/ops: ops_tiled). */
static uint32_t subgroup_size(vkvae_context *ctx, vkvae_op op)
{
    const vkvae_device_info *d = &ctx->devices[ctx->device_index];
    uint32_t n = d->subgroup_size;
    int ops = sums_rows(op) ? d->subgroup_arithmetic : d->subgroup_shuffle;
    if (ctx->mm_tiled || ctx->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU || !ops || n < 4 ||
        n > 64 || (n & (n - 1)))
        return 0;
    return n;
}

/* The convolutions' blocks stop at 32 x 4: their operand gathers unroll
 * into far more code than the dense ops' vec4 loads, and on vae_conv larger
 * blocks ran no faster a step while about doubling lavapipe's JIT time;
 * 16 x 4 is slower (measured in BENCHMARKS.md). */
enum { MAX_CONV_BLOCK = 128 };

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
static void mm_sg_tiles(vkvae_op op, const vkvae_op_params *p, uint32_t sg, mm_shape *s)
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
            if (gm >= 65535 || gn > 65535)
                continue; /* past Vulkan's guaranteed grid (db's extra row included) */
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
 * and, when the kernel is a matrix product (product), its shape and tiles. */
typedef struct kernel_choice {
    vkvae_kernel_build build;
    uint32_t sg;
    int product;
    mm_shape mm;
} kernel_choice;

static kernel_choice choose(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    kernel_choice c = {.build = VKVAE_BUILD_PLAIN};
    if (sums_rows(op)) { /* a row per subgroup, or the shared-memory tree */
        c.sg = subgroup_size(ctx, op);
        c.build = c.sg ? VKVAE_BUILD_SUBGROUP : VKVAE_BUILD_PLAIN;
        return c;
    }
    if (!mm_tiles(op, p, &c.mm))
        return c;
    c.product = 1;
    if (ctx->precision == VKVAE_PRECISION_FP16) { /* on CPU drivers too: no fp16 subgroup build */
        c.build = VKVAE_BUILD_FP16;
    } else if ((c.sg = subgroup_size(ctx, op))) {
        c.build = VKVAE_BUILD_SUBGROUP;
        mm_sg_tiles(op, p, c.sg, &c.mm);
    } else {
        c.build = VKVAE_BUILD_TILED;
    }
    return c;
}

vkvae_kernel_build vkvae_op_build(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p)
{
    return choose(ctx, op, p).build;
}

/* How many invocations op's plain kernel needs (ops.def), a row's elements
 * taken 4 at a time when its kernel does (ROW_VEC, shaders/common.glsl) and
 * rows are whole vec4s. */
static uint64_t op_invocations(vkvae_op op, const vkvae_op_params *p)
{
    uint64_t n = vkvae_op_invocations(op, p);
    return (vkvae_op_flags(op) & VKVAE_OPF_ROW_VEC) && p->in % 4 == 0 ? n / 4 : n;
}

void vkvae_op_groups(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p, uint32_t groups[3])
{
    kernel_choice c = choose(ctx, op, p);
    if (c.product) { /* a block of C per workgroup: tm x sg tn, or 8 tm x 8 tn */
        uint32_t bm = c.sg ? c.mm.tm : MM_GRID * c.mm.tm;
        uint32_t bn = (c.sg ? c.sg : MM_GRID) * c.mm.tn;
        groups[0] = (c.mm.cols + bn - 1) / bn;
        groups[1] = (c.mm.rows + bm - 1) / bm;
        groups[2] = 1;
        if (op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D)
            groups[2] = p->stride * p->stride; /* a stride phase each */
        if (op == VKVAE_OP_CONV2D_BWD_W || op == VKVAE_OP_CONVT2D_BWD_W)
            groups[1] += 1; /* db */
        return;
    }
    /* a row's workgroup is one subgroup in the subgroup build */
    uint64_t g = c.sg ? p->n : (op_invocations(op, p) + 63) / 64;
    if (g == 0)
        g = 1;
    /* Fold a long grid into rows of at most 65535 groups; the shader's
     * element_index() unfolds it, and the spare tail is bounds-checked. */
    uint64_t rows = (g + 65534) / 65535;
    groups[0] = (uint32_t)(rows > 1 ? (g + rows - 1) / rows : g);
    groups[1] = (uint32_t)rows;
    groups[2] = op == VKVAE_OP_CONVT2D ? p->stride * p->stride : 1; /* a stride phase each */
}

vkvae_status vkvae_op_kernel_create(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p,
                                    vkvae_kernel *out, vkvae_error *err)
{
    if ((unsigned)op >= VKVAE_OP_COUNT || !kernels[op].spirv)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "op %d has no GPU kernel yet", (int)op);
    kernel_choice c = choose(ctx, op, p);
    const op_kernel *k = c.build == VKVAE_BUILD_PLAIN ? &kernels[op] : &builds[c.build][op];
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
    } else if (c.sg) { /* a row per subgroup: constant_id 35, its size */
        spec[SPEC_TUNE + 3] = c.sg;
    } else if (op == VKVAE_OP_CONVT2D) { /* the plain kernel's pixels per invocation */
        spec[SPEC_TUNE + 0] = VKVAE_CONVT_PIXELS;
    }
    return vkvae_kernel_create(ctx, k->spirv, k->bytes / sizeof(uint32_t), spec, SPEC_WORDS, "op",
                               out, err);
}
#undef K
