/* Every op's GPU kernel against the CPU reference, in the spirit of ggml's
 * test-backend-ops: for each case, fresh random inputs (never zeros), the
 * outputs poisoned with NaN before the GPU runs (an unwritten element then
 * fails), the kernel run in fp32 on the device and the CPU op in fp64 on the
 * same inputs, and every binding the op writes compared by normalized mean
 * squared error (fp32: under 1e-7; fp16 products, -p fp16: under 1e-6 of
 * their terms' size, every matmul-shaped case on the fp16 build) and max
 * abs error. Shapes are odd on purpose (1, 3, 20, 129; see sizes): no
 * tile size divides them. Convolutions get their own shapes (conv_cases):
 * odd images, strides 1 and 2, paddings 0 and 1, narrow channel counts (1,
 * 3, 5: the plain kernels) and wide ones across matmul tile edges (the
 * implicit products), out_pad for the transposed ones; IWAE ops also run
 * with k past one workgroup (70) and at evaluation's k (5000), on log
 * weights large enough that a log-sum-exp without its max shift overflows.
 *
 *   test_ops [-o OP[,OP...]] [-p fp16] [-v]   -o runs the cases of these ops (names as
 *                                             in ops.def); -p fp16 on a VKVAE_PRECISION_FP16
 *                                             context
 */
#include <math.h>

#include "cpu/cpu_ops.h"
#include "gpu/kernels.h"
#include "test_util.h"

typedef struct op_case {
    vkvae_op op;
    vkvae_op_params p;
    vkvae_push push;
} op_case;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double rnd(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

static void describe(const op_case *c, char *out, size_t size)
{
    const vkvae_op_params *p = &c->p;
    char name[64];
    snprintf(name, sizeof name, "%s", vkvae_op_name(c->op));
    for (char *s = name; *s; s++)
        *s = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
    int w = snprintf(out, size, "%s(n=%u", name, p->n);
    if (p->k)
        w += snprintf(out + w, size - (size_t)w,
                      ",c_in=%u,h_in=%u,w_in=%u,c_out=%u,h_out=%u,w_out=%u,k=%u,stride=%u,pad=%u",
                      p->c_in, p->h_in, p->w_in, p->c_out, p->h_out, p->w_out, p->k, p->stride,
                      p->pad);
    else
        w += snprintf(out + w, size - (size_t)w, ",in=%u", p->in);
    if (p->out_pad)
        w += snprintf(out + w, size - (size_t)w, ",out_pad=%u", p->out_pad);
    if (p->out)
        w += snprintf(out + w, size - (size_t)w, ",out=%u", p->out);
    if (p->in2)
        w += snprintf(out + w, size - (size_t)w, ",in2=%u", p->in2);
    if (p->act)
        w += snprintf(out + w, size - (size_t)w, ",act=%s", vkvae_act_name(p->act));
    if (p->samples > 1)
        w += snprintf(out + w, size - (size_t)w, ",samples=%u", p->samples);
    if (p->mode)
        w += snprintf(out + w, size - (size_t)w, ",mode=%u", p->mode);
    if (c->push.rows < p->n)
        w += snprintf(out + w, size - (size_t)w, ",rows=%u", c->push.rows);
    snprintf(out + w, size - (size_t)w, ")");
}

/* The bound on each output's normalized mean squared error: fp32's, or,
 * with -p fp16 (the products' VKVAE_FP16 builds; main sets it), fp16's,
 * 1e-6, normalized by the terms' size (run_case): operands rounded to 11
 * bits and sums of 8 in fp16 leave an rms error of a few 2^-12 of the
 * terms. The worst seen over the 396 cases is 1.6e-7; 1e-6 fails 156 of
 * them when the tile sums are 1% off. fp16_cases counts the cases that ran
 * an fp16 build (fp16_count per op), fp16_worst each op's largest error
 * among them: fp32 products stay near 1e-14, so an op whose worst is under
 * 1e-10 did not multiply in fp16 (main checks both). */
static double nmse_bound = 1e-7;
static int fp16_cases, fp16_count[VKVAE_OP_COUNT];
static double fp16_worst[VKVAE_OP_COUNT];

/* Returns 1 when the case passes. */
static int run_case(vkvae_context *ctx, const op_case *c, int verbose)
{
    vkvae_error err = {0};
    char id[160];
    describe(c, id, sizeof id);
    uint32_t nb = vkvae_op_bindings(c->op);
    uint32_t nin = nb;
    for (uint32_t b = 0; b < nb; b++)
        if (vkvae_op_binding(c->op, &c->p, b).written && nin == nb)
            nin = b;
    uint32_t dataset = 200; /* rows of a synthetic data set for gather ops */

    void *host[VKVAE_MAX_BINDINGS] = {0};   /* fp32 (or raw) inputs for the GPU */
    double *ref[VKVAE_MAX_BINDINGS] = {0};  /* the same values for the CPU */
    void *cpu_t[VKVAE_MAX_BINDINGS] = {0};
    uint64_t elems[VKVAE_MAX_BINDINGS] = {0};
    vkvae_op_binding_info info[VKVAE_MAX_BINDINGS];
    vkvae_buffer buf[VKVAE_MAX_BINDINGS] = {0};
    vkvae_binding bind[VKVAE_MAX_BINDINGS] = {0};
    int ok = 1;

    for (uint32_t b = 0; b < nb; b++) {
        info[b] = vkvae_op_binding(c->op, &c->p, b);
        elems[b] = info[b].elems;
        if (info[b].elem == VKVAE_ELEM_U8)
            elems[b] = (uint64_t)dataset * (c->op == VKVAE_OP_GATHER ? c->p.in : 1);
        if (info[b].elem == VKVAE_ELEM_U32)
            elems[b] = dataset;
        size_t esize = info[b].elem == VKVAE_ELEM_U8 ? 1 : 4;
        host[b] = calloc(elems[b] + 4, esize);
        int poison = info[b].written && !vkvae_op_reads_outputs(c->op); /* "+=": random data */
        if (info[b].elem == VKVAE_ELEM_REAL) {
            ref[b] = calloc(elems[b] + 1, sizeof(double));
            float *h = host[b];
            for (uint64_t i = 0; i < elems[b]; i++) {
                double v = rnd();
                if (c->op == VKVAE_OP_ADAM && b == 3)
                    v = fabs(v); /* second moments are never negative */
                if ((c->op == VKVAE_OP_NLL_BERNOULLI || c->op == VKVAE_OP_NLL_BERNOULLI_GRAD) &&
                    b == 1)
                    v = (v + 1) / 2; /* targets in [0, 1] */
                if ((c->op == VKVAE_OP_IWAE_LSE || c->op == VKVAE_OP_IWAE_WEIGHTS) && b == 0)
                    v *= 200; /* exp overflows fp32 past 88: needs the max shift */
                h[i] = poison ? NAN : (float)v;
                ref[b][i] = h[i];
            }
            cpu_t[b] = ref[b];
        } else if (info[b].elem == VKVAE_ELEM_U8) {
            uint8_t *h = host[b];
            for (uint64_t i = 0; i < elems[b]; i++)
                h[i] = (uint8_t)(c->op == VKVAE_OP_GATHER_ONEHOT ? (rnd() + 1) * 0.5 * c->p.out
                                                                 : (rnd() + 1) * 127.9);
            cpu_t[b] = h;
        } else {
            uint32_t *h = host[b];
            for (uint64_t i = 0; i < elems[b]; i++)
                h[i] = (uint32_t)((i * 7 + 3) % dataset); /* a permutation: 7 is coprime to 200 */
            cpu_t[b] = h;
        }
        CHECK_OK(vkvae_buffer_create(ctx, elems[b] * esize, &buf[b], &err), err);
        CHECK_OK(vkvae_buffer_upload(ctx, &buf[b], 0, host[b], elems[b] * esize, &err), err);
        bind[b] = (vkvae_binding){.buffer = &buf[b]};
    }

    vkvae_kernel k;
    vkvae_status s = vkvae_op_kernel_create(ctx, c->op, &c->p, &k, &err);
    CHECK_OK(s, err);
    if (!s) {
        uint32_t groups[3];
        vkvae_op_groups(ctx, c->op, &c->p, groups);
        vkvae_commands cmd;
        CHECK_OK(vkvae_commands_begin(ctx, 1, 0, &cmd, &err), err);
        CHECK_OK(vkvae_commands_dispatch(ctx, &cmd, &k, bind, nb, &c->push, sizeof c->push,
                                         groups[0], groups[1], groups[2], &err),
                 err);
        CHECK_OK(vkvae_commands_submit_wait(ctx, &cmd, &err), err);
        vkvae_commands_destroy(ctx, &cmd);
        vkvae_kernel_destroy(ctx, &k);
    }
    /* An fp16 product's error is measured against the size of its terms,
     * sum |a b| (the op on the inputs' absolute values, without the
     * activation, whose slope is at most 1; with the bias's), not against
     * its value, which cancellation makes as small as it likes: a bias
     * gradient summed over 3 rows of dy can be 100 times smaller than its
     * terms, and so its fp16 rounding 100 times larger in relative terms. */
    double *mag[VKVAE_MAX_BINDINGS] = {0};
    int fp16 = vkvae_op_build(ctx, c->op, &c->p) == VKVAE_BUILD_FP16;
    fp16_cases += fp16;
    fp16_count[c->op] += fp16;
    if (fp16) {
        void *abs_t[VKVAE_MAX_BINDINGS];
        for (uint32_t b = 0; b < nb; b++) {
            abs_t[b] = cpu_t[b];
            if (info[b].elem != VKVAE_ELEM_REAL)
                continue;
            mag[b] = calloc(elems[b] + 1, sizeof(double));
            for (uint64_t i = 0; i < elems[b]; i++)
                mag[b][i] = fabs(ref[b][i]);
            abs_t[b] = mag[b];
        }
        vkvae_op_params linear = c->p;
        linear.act = VKVAE_ACT_NONE;
        vkvae_cpu_op_f64(c->op, &linear, &c->push, abs_t);
    }
    vkvae_cpu_op_f64(c->op, &c->p, &c->push, cpu_t);

    char report[512] = "";
    size_t used = 0;
    for (uint32_t b = 0; b < nb && !s; b++) {
        if (!info[b].written || info[b].elem != VKVAE_ELEM_REAL)
            continue;
        float *gpu = malloc(elems[b] * sizeof *gpu);
        CHECK_OK(vkvae_buffer_download(ctx, &buf[b], 0, gpu, elems[b] * sizeof *gpu, &err), err);
        double se = 0, norm = 0, max_abs = 0;
        uint64_t unwritten = 0;
        for (uint64_t i = 0; i < elems[b]; i++) {
            double want = ref[b][i], got = gpu[i];
            if (isnan(want) && isnan(got))
                continue; /* neither backend writes it (e.g. a fixed variance) */
            if (isnan(got) != isnan(want)) {
                unwritten++;
                continue;
            }
            se += (got - want) * (got - want);
            norm += mag[b] ? mag[b][i] * mag[b][i] : want * want;
            max_abs = fmax(max_abs, fabs(got - want));
        }
        double nmse = norm > 0 ? se / norm : se;
        if (fp16)
            fp16_worst[c->op] = fmax(fp16_worst[c->op], nmse);
        int pass = unwritten == 0 && nmse < nmse_bound;
        ok &= pass;
        used += (size_t)snprintf(report + used, sizeof report - used,
                                 " out%u: nmse=%.1e max_abs=%.1e%s", b - nin, nmse, max_abs,
                                 unwritten ? " UNWRITTEN/NaN" : "");
        free(gpu);
    }
    if (s)
        ok = 0;
    if (verbose || !ok)
        printf("%s: %s%s\n", id, ok ? "ok" : "FAIL", report);
    for (uint32_t b = 0; b < nb; b++) {
        vkvae_buffer_destroy(ctx, &buf[b]);
        free(host[b]);
        free(ref[b]);
        free(mag[b]);
    }
    return ok;
}

/* 20: rows of whole vec4s (ROW_VEC kernels, common.glsl) and an optimizer
 * block of 16 with a tail; 1, 3, 129: scalar rows, tails alone or after
 * blocks */
static const uint32_t sizes[] = {1, 3, 20, 129};

/* Convolution shapes: {n, c_in, h_in, w_in, c_out, k}, each run with
 * strides 1 and 2 and paddings 0 and 1 (and, transposed, every out_pad).
 * The first four and the last are narrow (the plain kernels,
 * runtime/gpu/kernels.c; the last's rows span three of the plain convt2d's
 * 8-pixel blocks); the others run as implicit matrix products: channel
 * counts past a 32- or 64-wide block (9, 12, 33, 70), products deeper than
 * a tile, k = 3 with stride 2 (stride phases with different tap counts),
 * and one product large enough for 128-row blocks. */
static const uint32_t conv_shapes[][6] = {
    {1, 1, 5, 7, 3, 3},     {3, 3, 9, 6, 5, 4},    {2, 5, 7, 7, 1, 1},  {2, 3, 28, 28, 5, 4},
    {2, 9, 11, 13, 70, 3},  {3, 33, 7, 7, 12, 4},  {1, 8, 17, 15, 40, 5}, {2, 12, 7, 7, 9, 3},
    {4, 32, 20, 20, 64, 3},  {2, 3, 23, 19, 2, 4},
};
static const uint32_t convt_shapes[][6] = {
    {1, 1, 3, 4, 3, 3},    {3, 3, 4, 5, 5, 4},   {2, 5, 7, 6, 1, 1},  {2, 5, 7, 7, 3, 4},
    {2, 9, 5, 6, 70, 3},   {3, 33, 4, 4, 12, 4}, {1, 40, 7, 6, 8, 5}, {2, 12, 4, 4, 9, 3},
    {4, 64, 10, 10, 32, 4},  {2, 3, 9, 21, 2, 4},
};

/* Runs every conv case of op; returns the number of cases, *passed the
 * passes. */
static int conv_cases(vkvae_context *ctx, vkvae_op op, int verbose, int *passed)
{
    int transposed = op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X ||
                     op == VKVAE_OP_CONVT2D_BWD_W;
    int fwd = op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONVT2D;
    int cases = 0;
    for (size_t i = 0; i < sizeof conv_shapes / sizeof *conv_shapes; i++)
        for (uint32_t stride = 1; stride <= 2; stride++)
            for (uint32_t pad = 0; pad <= 1; pad++)
                for (uint32_t out_pad = 0; out_pad < (transposed ? stride : 1); out_pad++) {
                    const uint32_t *sh = transposed ? convt_shapes[i] : conv_shapes[i];
                    op_case c = {.op = op};
                    c.p = (vkvae_op_params){.n = sh[0], .c_in = sh[1], .h_in = sh[2],
                                            .w_in = sh[3], .c_out = sh[4], .k = sh[5],
                                            .stride = stride, .pad = pad, .out_pad = out_pad,
                                            .alpha = 0.2f};
                    if (transposed) {
                        c.p.h_out = (c.p.h_in - 1) * stride + c.p.k + out_pad - 2 * pad;
                        c.p.w_out = (c.p.w_in - 1) * stride + c.p.k + out_pad - 2 * pad;
                    } else {
                        c.p.h_out = (c.p.h_in + 2 * pad - c.p.k) / stride + 1;
                        c.p.w_out = (c.p.w_in + 2 * pad - c.p.k) / stride + 1;
                    }
                    if (fwd || op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_X)
                        c.p.act = (uint32_t)(cases % VKVAE_ACT_COUNT); /* bwd_x: the one below */
                    const char *bad = vkvae_op_check_params(op, &c.p);
                    CHECK(bad == NULL, "conv case %zu of %s: %s", i, vkvae_op_name(op),
                          bad ? bad : "");
                    if (bad)
                        continue;
                    c.push = (vkvae_push){.seed = 7, .rows = c.p.n, .grad_scale = 1.0f};
                    cases++;
                    *passed += run_case(ctx, &c, verbose);
                }
    return cases;
}

static int is_iwae(vkvae_op op)
{
    return op == VKVAE_OP_IWAE_LOGW || op == VKVAE_OP_IWAE_LSE || op == VKVAE_OP_IWAE_WEIGHTS ||
           op == VKVAE_OP_IWAE_LOGW_BWD;
}

/* Whether name is one of the comma-separated names of list. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int verbose = 0;
    vkvae_precision precision = VKVAE_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc && strcmp(argv[i + 1], "fp16") == 0)
            precision = VKVAE_PRECISION_FP16, i++;
        else {
            fprintf(stderr, "usage: test_ops [-o OP[,OP...]] [-p fp16] [-v]\n");
            return 2;
        }
    }
    if (precision == VKVAE_PRECISION_FP16)
        nmse_bound = 1e-6;
    vkvae_context *ctx = test_context_desc(0, precision);
    int cases = 0, passed = 0;
    for (int op = 0; op < VKVAE_OP_COUNT; op++) {
        size_t words;
        if (!vkvae_op_spirv((vkvae_op)op, &words))
            continue; /* no GPU kernel */
        if (only && !listed(only, vkvae_op_name((vkvae_op)op)))
            continue;
        if (vkvae_op_flags((vkvae_op)op) & VKVAE_OPF_CONV) {
            cases += conv_cases(ctx, (vkvae_op)op, verbose, &passed);
            continue;
        }
        int pair = vkvae_op_is_pair((vkvae_op)op);
        if (pair || op == VKVAE_OP_DENSE || op == VKVAE_OP_DENSE_BWD_X ||
            op == VKVAE_OP_DENSE_BWD_W) {
            /* in and out (and a pair's in2) multiples of 4 as well: the
             * subgroup matmul reads them as vec4s on CPU drivers (kernels.c),
             * with n (bwd_w's depth) odd or not; the gaussian head's shape
             * (in2 only read by the pairs); and the decoder's first, wide
             * enough for 4 or more columns a lane and dense's vec4 stores */
            static const uint32_t mult4[][4] = {
                {1, 4, 4, 8}, {18, 12, 20, 4}, {130, 44, 28, 12}, {7, 400, 20, 20},
                {9, 20, 400, 8}};
            for (size_t i = 0; i < sizeof mult4 / sizeof *mult4; i++) {
                op_case c = {.op = (vkvae_op)op};
                c.p = (vkvae_op_params){.n = mult4[i][0], .in = mult4[i][1], .out = mult4[i][2],
                                        .in2 = pair ? mult4[i][3] : 0,
                                        .act = (uint32_t)(i % VKVAE_ACT_COUNT), .alpha = 0.2f};
                c.push = (vkvae_push){.rows = c.p.n, .kl_weight = 1, .grad_scale = 1};
                cases++;
                passed += run_case(ctx, &c, verbose);
            }
        }
        if (is_iwae((vkvae_op)op)) {
            /* k past one workgroup of 64, and evaluation's k = 5000 */
            static const uint32_t big[][3] = {{5, 7, 70}, {2, 3, 5000}}; /* n, in, k */
            for (size_t i = 0; i < 2; i++) {
                op_case c = {.op = (vkvae_op)op};
                c.p = (vkvae_op_params){.n = big[i][0], .in = big[i][1], .samples = big[i][2]};
                c.push = (vkvae_push){.rows = big[i][0] - (uint32_t)i, .grad_scale = 0.5f};
                cases++;
                passed += run_case(ctx, &c, verbose);
            }
        }
        if (op == VKVAE_OP_NLL_BERNOULLI_GRAD || op == VKVAE_OP_REPARAM_KL ||
            op == VKVAE_OP_REPARAM_KL_BWD) {
            /* the fused loss ops on the models' shapes: image rows of 784
             * (more than one workgroup's 64 vec4s a row) and latents of 20,
             * each batch short by 3 rows */
            static const uint32_t model[][2] = {{131, 784}, {128, 20}}; /* n, in */
            for (size_t i = 0; i < 2; i++) {
                op_case c = {.op = (vkvae_op)op};
                c.p = (vkvae_op_params){.n = model[i][0], .in = model[i][1],
                                        .stream = VKVAE_STREAM_EPS};
                c.push = (vkvae_push){.seed = 3, .step = 11, .rows = model[i][0] - 3,
                                      .kl_weight = 0.5f, .grad_scale = 1.0f / 128};
                cases++;
                passed += run_case(ctx, &c, verbose);
            }
        }
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 4; b++) {
                op_case c = {.op = (vkvae_op)op};
                c.p.n = sizes[a];
                c.p.in = sizes[b];
                c.p.out = sizes[(a + b + 1) % 4];
                c.p.samples = 1 + (uint32_t)((a + b) % 3);
                c.p.act = (uint32_t)((a * 4 + b) % VKVAE_ACT_COUNT);
                c.p.alpha = op == VKVAE_OP_CORRUPT_MASK ? 0.3f : 0.2f;
                c.p.stream = VKVAE_STREAM_EPS;
                c.p.mode = (uint32_t)((a + 2 * b) % 3);
                if (op == VKVAE_OP_GATHER || op == VKVAE_OP_ADAM || op == VKVAE_OP_SGD)
                    c.p.mode = (uint32_t)(b % 2);
                if (op == VKVAE_OP_GATHER_ONEHOT)
                    c.p.out = c.p.classes = 10;
                if (pair) /* a second layer narrower, wider, or as wide */
                    c.p.in2 = sizes[(a + 2 * b) % 4];
                if (op == VKVAE_OP_CONCAT) {
                    c.p.in2 = sizes[(a + 2) % 4];
                    c.p.out = c.p.in + c.p.in2;
                }
                if (op == VKVAE_OP_SLICE_BWD)
                    c.p.out = c.p.in + sizes[a];
                c.p.lr = 1e-3f;
                c.p.beta1 = 0.9f;
                c.p.beta2 = 0.999f;
                c.p.eps = 1e-8f;
                c.p.weight_decay = b % 2 ? 0.01f : 0.0f;
                c.p.momentum = a % 2 ? 0.9f : 0.0f;
                c.push = (vkvae_push){
                    .seed = 7, .step = (uint32_t)(a * 3 + b), .base = (uint32_t)b,
                    /* some cases end in padding rows, like a short last batch */
                    .rows = c.p.n > 2 && b % 2 ? c.p.n - 2 : c.p.n,
                    .kl_weight = 0.75f, .grad_scale = a % 2 ? 1.0f : 1.0f / (float)c.p.n,
                };
                if ((op == VKVAE_OP_GATHER || op == VKVAE_OP_GATHER_ONEHOT) &&
                    c.push.base + c.p.n > 200)
                    c.push.base = 0;
                cases++;
                passed += run_case(ctx, &c, verbose);
            }
    }
    printf("%d of %d op cases pass\n", passed, cases);
    CHECK(cases > 0, "no case ran (filter '%s')", only ? only : "");
    if (precision == VKVAE_PRECISION_FP16) {
        printf("%d case(s) on fp16 builds\n", fp16_cases);
        CHECK(fp16_cases > 0, "-p fp16: no case ran an fp16 build");
        for (int op = 0; op < VKVAE_OP_COUNT; op++)
            CHECK(fp16_count[op] == 0 || fp16_worst[op] > 1e-10,
                  "%s: its fp16 cases are as exact as fp32's (worst nmse %.1e): did the fp16 "
                  "build run?", vkvae_op_name((vkvae_op)op), fp16_worst[op]);
    }
    CHECK(passed == cases, "%d case(s) failed", cases - passed);
    return test_finish(ctx);
}
