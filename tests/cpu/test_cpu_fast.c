/* The fast CPU path (VKVAE_CPU_FAST, runtime/cpu/fast/) against the plain
 * double ops, the oracle, one printable case per line:
 *
 *   test_cpu_fast [test] [-o OP]  every op with a fast version on odd,
 *                           small and model-sized shapes, short batches
 *                           and every activation (a GRU: from one step to
 *                           20), with 1, 2 and 3 threads
 *                           (convolutions: odd sizes and channel counts,
 *                           strides 1 to 3, paddings 0 to 2, output
 *                           padding, vae_conv's layers, an image larger
 *                           than a chunk): NMSE of every written binding
 *                           under 1e-7; then one whole vae_mlp train step
 *                           (and a short batch) and one vae_conv train
 *                           step on the FAST backend against the F64
 *                           backend: every tensor the step writes, NMSE
 *                           under 1e-7 (the plain float path's NMSE beside
 *                           it, for scale)
 *   test_cpu_fast perf      time per op of the vae_mlp train step, FAST and
 *                           plain float, the step and the epoch it implies
 *   test_cpu_fast sample [N] [RUNS]  N (10,000) images from vae_mlp's prior
 *                           through vkvae_session_sample, as `vkvae sample`
 *                           does: one warm-up, then the median of RUNS (5),
 *                           the figure bench/compare.sh --sample reads
 *
 * Inputs are random values from the test's own generator, rounded to float
 * so both precisions start from the same numbers.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu_backend.h"
#include "cpu/cpu_ops.h"
#include "cpu/fast/fast_ops.h"
#include "plan/models.h"
#include "session/session.h"

static int failures, cases;
static const char *filter;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd01(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static double rnd_sym(double scale) /* float-representable, in (-scale, scale) */
{
    return (float)((2 * rnd01() - 1) * scale);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* VKVAE_OPS_SAMPLE=N (N > 1: the sanitized CI run, .ci/sanitize) makes the
 * run lighter without leaving a code path out: the convolution shapes at 3
 * threads only (the partitioning of images and chunks among threads, not
 * again at 1 and 2): 53 s of its 129 s there were the convolutions' cases. */
static int sampled(void)
{
    const char *env = getenv("VKVAE_OPS_SAMPLE");
    return env && atoi(env) > 1;
}

static int wanted(const char *name)
{
    if (!filter)
        return 1;
    for (const char *h = name; *h; h++) {
        size_t i = 0;
        while (filter[i] && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)filter[i]))
            i++;
        if (!filter[i])
            return 1;
    }
    return 0;
}

static double nmse(const double *a, const float *b, uint64_t n)
{
    double err = 0, ref = 0;
    for (uint64_t i = 0; i < n; i++) {
        err += (a[i] - b[i]) * (a[i] - b[i]);
        ref += a[i] * a[i];
    }
    return ref > 0 ? err / ref : err;
}

/* ---- per op ---- */

static vkvae_fast *fast_for(uint32_t threads)
{
    static vkvae_fast *pools[4];
    vkvae_error err = {0};
    if (!pools[threads] && vkvae_fast_create(threads, &pools[threads], &err)) {
        printf("vkvae_fast_create(%u): %s\n", threads, err.message);
        exit(1);
    }
    return pools[threads];
}

/* w:[c_out, c_in, k, k] masked as conv_mask does (p.mode 1: A, 2: B), in
 * both precisions */
static void mask_taps(const vkvae_op_params *p, double *w64, float *w32)
{
    uint32_t k = p->k, c = k / 2;
    for (uint64_t i = 0; i < (uint64_t)p->c_out * p->c_in * k * k; i++) {
        uint32_t ky = (uint32_t)(i % (k * k)) / k, kx = (uint32_t)(i % k);
        if (!(ky < c || (ky == c && (p->mode == 1 ? kx < c : kx <= c))))
            w64[i] = 0, w32[i] = 0;
    }
}

static void op_case(vkvae_op op, vkvae_op_params p, vkvae_push push, uint32_t threads)
{
    char name[256];
    int len = snprintf(name, sizeof name, "FAST_");
    for (const char *c = vkvae_op_name(op); *c; c++)
        name[len++] = (char)toupper((unsigned char)*c);
    if (p.k) /* a convolution */
        snprintf(name + len, sizeof name - (size_t)len,
                 "(n=%u,x=%ux%ux%u,y=%ux%ux%u,k=%u,stride=%u,pad=%u,out_pad=%u,act=%s,mask=%s,"
                 "threads=%u)",
                 p.n, p.c_in, p.h_in, p.w_in, p.c_out, p.h_out, p.w_out, p.k, p.stride, p.pad,
                 p.out_pad, vkvae_act_name(p.act), p.mode ? p.mode == 1 ? "A" : "B" : "none",
                 threads);
    else
        snprintf(name + len, sizeof name - (size_t)len,
                 "(n=%u,in=%u,out=%u,rows=%u,act=%s,mode=%u,threads=%u)", p.n, p.in, p.out,
                 push.rows, vkvae_act_name(p.act), p.mode, threads);
    if (!wanted(name))
        return;
    uint32_t nb = vkvae_op_bindings(op);
    void *t64[VKVAE_MAX_BINDINGS] = {0}, *t32[VKVAE_MAX_BINDINGS] = {0};
    uint64_t n[VKVAE_MAX_BINDINGS] = {0};
    uint32_t data_rows = push.base + p.n + 3;
    for (uint32_t b = 0; b < nb; b++) {
        vkvae_op_binding_info info = vkvae_op_binding(op, &p, b);
        if (info.elem == VKVAE_ELEM_U8) {
            n[b] = (uint64_t)data_rows * p.in;
            uint8_t *d = malloc(n[b]);
            for (uint64_t i = 0; i < n[b]; i++)
                d[i] = (uint8_t)(rnd01() * 256);
            t64[b] = t32[b] = d;
        } else if (info.elem == VKVAE_ELEM_U32) {
            n[b] = data_rows;
            uint32_t *perm = malloc(n[b] * sizeof *perm);
            for (uint32_t i = 0; i < data_rows; i++)
                perm[i] = (i * 7 + 3) % data_rows; /* 7 is coprime to these sizes */
            t64[b] = t32[b] = perm;
        } else {
            n[b] = info.elems;
            double *d = malloc((n[b] ? n[b] : 1) * sizeof *d);
            float *f = malloc((n[b] ? n[b] : 1) * sizeof *f);
            /* logits up to +-12 exercise both tails of exp and log1p */
            int nll = op == VKVAE_OP_NLL_BERNOULLI || op == VKVAE_OP_NLL_BERNOULLI_BWD ||
                      op == VKVAE_OP_NLL_BERNOULLI_GRAD;
            double scale = nll || op == VKVAE_OP_SIGMOID ? 12.0 : 1.0;
            for (uint64_t i = 0; i < n[b]; i++) {
                d[i] = rnd_sym(scale);
                if (nll && b == 1)
                    d[i] = (float)rnd01(); /* targets in [0, 1] */
                if (op == VKVAE_OP_ADAM && b == 3)
                    d[i] = (float)(d[i] * d[i]); /* v >= 0 */
                if (op == VKVAE_OP_ACT_BWD && b == 1 && p.act == VKVAE_ACT_SIGMOID)
                    d[i] = (float)rnd01(); /* y is an activation's output */
                if (op == VKVAE_OP_ACT_BWD && b == 1 && p.act == VKVAE_ACT_SOFTPLUS)
                    d[i] = (float)(3 * rnd01());
                /* a GRU's recurrent weight at nn.GRU's scale, 1/sqrt(H): at
                 * U(-1, 1) the recurrence is chaotic, and any float path's
                 * rounding grows without bound over the steps */
                if ((op == VKVAE_OP_GRU && b == 1) || (op == VKVAE_OP_GRU_BWD && b == 4))
                    d[i] = (float)(d[i] / sqrt((double)p.out));
                f[i] = (float)d[i];
            }
            t64[b] = d;
            t32[b] = f;
        }
    }
    /* a masked conv2d (mode 1|2): its weight is masked, as conv_mask leaves
     * it; its weight gradient is judged on the live taps alone */
    int masked = p.mode && (op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONV2D_BWD_X ||
                            op == VKVAE_OP_CONV2D_BWD_W);
    uint32_t wb = op == VKVAE_OP_CONV2D_BWD_W ? 2 : 1;
    if (masked && wb == 1)
        mask_taps(&p, t64[1], t32[1]);
    vkvae_cpu_op_f64(op, &p, &push, t64);
    int ran = vkvae_fast_op(fast_for(threads), op, &p, &push, t32);
    if (masked && wb == 2)
        mask_taps(&p, t64[2], t32[2]);
    double worst = 0;
    for (uint32_t b = 0; b < nb; b++) {
        vkvae_op_binding_info info = vkvae_op_binding(op, &p, b);
        if (!info.written || info.elem != VKVAE_ELEM_REAL)
            continue;
        double e = nmse(t64[b], t32[b], n[b]);
        worst = e > worst || isnan(e) ? e : worst;
    }
    int ok = ran && worst < 1e-7;
    cases++;
    failures += !ok;
    printf("%s: %s nmse=%.1e%s\n", name, ok ? "ok" : "FAIL", worst, ran ? "" : " (no fast op)");
    for (uint32_t b = 0; b < nb; b++) {
        if (t32[b] != t64[b])
            free(t32[b]);
        free(t64[b]);
    }
}

static void run_ops(void)
{
    vkvae_push push = {.seed = 3, .step = 5, .base = 2, .rows = 1u << 30, .kl_weight = 0.7f,
                       .grad_scale = 0.25f};
    /* {n, in, out}: tiny, odd, and the model's own (threaded) shapes */
    static const uint32_t shapes[][3] = {
        {3, 17, 5}, {37, 129, 67}, {128, 784, 400}, {128, 400, 784}, {128, 400, 20},
        {128, 20, 400}, {1, 8000, 3}, {131, 33, 1001},
    };
    const char *blas = vkvae_fast_blas();
    printf("fast path: %s\n", blas ? blas : "no BLAS (dense ops are the plain ones)");
    for (uint32_t threads = 1; threads <= 3; threads++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            uint32_t n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
            vkvae_push pu = push;
            pu.rows = s % 2 ? n - n / 3 : n; /* every other shape a short batch */
            if (blas) {
                vkvae_op_params d = {.n = n, .in = in, .out = out, .act = VKVAE_ACT_RELU};
                op_case(VKVAE_OP_DENSE, d, pu, threads);
                op_case(VKVAE_OP_DENSE_BWD_X, d, pu, threads);
                op_case(VKVAE_OP_DENSE_BWD_W, d, pu, threads);
                d.in2 = out % 7 + 1; /* a pair's second layer, odd and narrow */
                op_case(VKVAE_OP_DENSE_PAIR, d, pu, threads);
                op_case(VKVAE_OP_DENSE_PAIR_BWD_X, d, pu, threads);
                op_case(VKVAE_OP_DENSE_PAIR_BWD_W, d, pu, threads);
            }
            vkvae_op_params e = {.n = n, .in = in, .act = VKVAE_ACT_RELU, .alpha = 0.1f,
                                 .stream = VKVAE_STREAM_EPS};
            op_case(VKVAE_OP_ACT_BWD, e, pu, threads);
            op_case(VKVAE_OP_NLL_BERNOULLI, e, pu, threads);
            op_case(VKVAE_OP_NLL_BERNOULLI_BWD, e, pu, threads);
            op_case(VKVAE_OP_NLL_BERNOULLI_GRAD, e, pu, threads);
            op_case(VKVAE_OP_SIGMOID, e, pu, threads);
            op_case(VKVAE_OP_ADD, e, pu, threads);
            op_case(VKVAE_OP_GATE, e, pu, threads);
            op_case(VKVAE_OP_GATE_BWD, e, pu, threads);
            op_case(VKVAE_OP_GATHER, e, pu, threads);
            op_case(VKVAE_OP_PRIOR, (vkvae_op_params){.n = n, .in = in, .stream = VKVAE_STREAM_PRIOR},
                    pu, threads);
            op_case(VKVAE_OP_REPARAM, e, pu, threads);
            op_case(VKVAE_OP_REPARAM_KL, e, pu, threads);
            op_case(VKVAE_OP_REPARAM_KL_BWD, e, pu, threads);
            op_case(VKVAE_OP_ADAM, (vkvae_op_params){.in = n * in, .lr = 1e-3f, .beta1 = 0.9f,
                                                     .beta2 = 0.999f, .eps = 1e-8f},
                    pu, threads);
            op_case(VKVAE_OP_ADAM, (vkvae_op_params){.in = n * in, .lr = 1e-3f, .beta1 = 0.9f,
                                                     .beta2 = 0.999f, .eps = 1e-8f,
                                                     .weight_decay = 0.01f, .mode = s % 2},
                    pu, threads);
        }
    /* a GRU over {n sequences, T steps, H units}: one step, odd sizes, the
     * rvae_chars decoder's (threaded), forward and backward through time */
    static const uint32_t seqs[][3] = {{1, 1, 3}, {3, 17, 5}, {37, 9, 70}, {64, 20, 128}};
    for (uint32_t threads = 1; blas && threads <= 3; threads++)
        for (size_t s = 0; s < sizeof seqs / sizeof *seqs; s++) {
            vkvae_op_params g = {.n = seqs[s][0], .in = seqs[s][1], .out = seqs[s][2]};
            op_case(VKVAE_OP_GRU, g, push, threads);
            op_case(VKVAE_OP_GRU_BWD, g, push, threads);
        }
    /* every activation, fused into dense and in act_bwd */
    for (uint32_t act = 0; act < VKVAE_ACT_COUNT; act++)
        for (uint32_t threads = 1; threads <= 2; threads++) {
            vkvae_op_params d = {.n = 64, .in = 100, .out = 300, .act = act, .alpha = 0.1f};
            if (blas)
                op_case(VKVAE_OP_DENSE, d, push, threads);
            op_case(VKVAE_OP_ACT_BWD, (vkvae_op_params){.n = 64, .in = 300, .act = act, .alpha = 0.1f},
                    push, threads);
            op_case(VKVAE_OP_ADD, (vkvae_op_params){.n = 64, .in = 300, .act = act, .alpha = 0.1f},
                    push, threads);
        }
}

/* conv2d (transposed 0) or convt2d (1) from x:[n, c_in, h, w] to c_out
 * channels; output sizes from ops.def's contracts. */
static vkvae_op_params conv_params(int transposed, uint32_t n, uint32_t c_in, uint32_t h,
                                   uint32_t w, uint32_t c_out, uint32_t k, uint32_t stride,
                                   uint32_t pad, uint32_t out_pad, uint32_t act)
{
    vkvae_op_params p = {.n = n, .c_in = c_in, .h_in = h, .w_in = w, .c_out = c_out, .k = k,
                         .stride = stride, .pad = pad, .act = act, .alpha = 0.1f};
    if (transposed) {
        p.out_pad = out_pad;
        p.h_out = (h - 1) * stride - 2 * pad + k + out_pad;
        p.w_out = (w - 1) * stride - 2 * pad + k + out_pad;
    } else {
        p.h_out = (h + 2 * pad - k) / stride + 1;
        p.w_out = (w + 2 * pad - k) / stride + 1;
    }
    return p;
}

static void conv_family(int transposed, vkvae_op_params p, vkvae_push push, uint32_t threads)
{
    static const vkvae_op ops[2][3] = {
        {VKVAE_OP_CONV2D, VKVAE_OP_CONV2D_BWD_X, VKVAE_OP_CONV2D_BWD_W},
        {VKVAE_OP_CONVT2D, VKVAE_OP_CONVT2D_BWD_X, VKVAE_OP_CONVT2D_BWD_W},
    };
    const char *msg = NULL;
    for (int i = 0; i < 3; i++)
        if (!msg)
            msg = vkvae_op_check_params(ops[transposed][i], &p);
    if (msg) { /* a bad shape in this table, not in the code under test */
        printf("conv shape n=%u c_in=%u %ux%u c_out=%u k=%u: %s\n", p.n, p.c_in, p.h_in, p.w_in,
               p.c_out, p.k, msg);
        failures++;
        return;
    }
    for (int i = 0; i < 3; i++)
        op_case(ops[transposed][i], p, push, threads);
}

static void run_conv(void)
{
    vkvae_push push = {.seed = 3, .step = 5, .rows = 1u << 30, .grad_scale = 1.0f};
    /* {n, c_in, h, w, c_out, k, stride, pad, out_pad}: odd sizes and
     * channel counts, strides 1 to 3, paddings 0 to 2, k = 1, an image
     * larger than a chunk (fast_conv.c: 2 MiB of col per product), and
     * vae_conv's layers on 24 images (several chunks, each thread's block
     * of images ending inside one) */
    static const uint32_t shapes[][9] = {
        {3, 3, 9, 7, 5, 3, 1, 0, 0},    {5, 1, 11, 13, 6, 3, 2, 1, 1},
        {2, 7, 8, 9, 3, 4, 2, 1, 0},    {4, 5, 6, 6, 9, 1, 1, 0, 0},
        {3, 6, 5, 7, 10, 5, 1, 2, 0},   {2, 3, 10, 11, 3, 3, 3, 1, 2},
        {37, 3, 7, 7, 5, 3, 2, 1, 1},   {1, 2, 3, 3, 1, 3, 2, 0, 1},
        {2, 16, 64, 64, 4, 3, 1, 1, 0}, {24, 1, 28, 28, 32, 4, 2, 1, 0},
        {24, 32, 14, 14, 64, 4, 2, 1, 0}, {24, 64, 7, 7, 128, 3, 2, 1, 0},
        {24, 128, 4, 4, 256, 4, 2, 1, 0},
    };
    /* vae_conv's transposed layers */
    static const uint32_t tshapes[][9] = {
        {24, 256, 2, 2, 128, 4, 2, 1, 0}, {24, 128, 4, 4, 64, 3, 2, 1, 0},
        {24, 64, 7, 7, 32, 4, 2, 1, 0},   {24, 32, 14, 14, 1, 4, 2, 1, 0},
    };
    if (!vkvae_fast_blas())
        return; /* the convolutions are the plain ones */
    for (uint32_t threads = sampled() ? 3 : 1; threads <= 3; threads++) {
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int tr = 0; tr < 2; tr++) {
                const uint32_t *q = shapes[s];
                if (tr && q[2] == 64)
                    continue; /* convt2d's image there: 128x128 */
                vkvae_op_params p = conv_params(tr, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7],
                                                q[8], VKVAE_ACT_RELU);
                conv_family(tr, p, push, threads);
            }
        for (size_t s = 0; s < sizeof tshapes / sizeof *tshapes; s++) {
            const uint32_t *q = tshapes[s];
            conv_family(1, conv_params(1, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8],
                                       VKVAE_ACT_RELU), push, threads);
        }
    }
    /* masked convolutions (only the live taps): a PixelCNN's 7x7 mask A on
     * one channel, its 3x3 mask B blocks, a codes prior's 5x5 mask A over
     * 128 one-hot channels on 7x7 (a product wider than a chunk) */
    static const uint32_t masked[][6] = {
        {5, 1, 28, 32, 7, 1}, {4, 32, 28, 64, 3, 2}, {9, 128, 7, 64, 5, 1}, {3, 5, 6, 4, 3, 2},
    };
    for (size_t s = 0; s < sizeof masked / sizeof *masked; s++)
        for (uint32_t threads = 1; threads <= 3; threads += 2) {
            const uint32_t *q = masked[s];
            vkvae_op_params p = conv_params(0, q[0], q[1], q[2], q[2], q[3], q[4], 1, q[4] / 2, 0,
                                            VKVAE_ACT_RELU);
            p.mode = q[5];
            conv_family(0, p, push, threads);
        }
    /* every activation fused into both forward ops */
    for (uint32_t act = 0; act < VKVAE_ACT_COUNT; act++) {
        op_case(VKVAE_OP_CONV2D, conv_params(0, 5, 3, 9, 8, 7, 3, 2, 1, 0, act), push, 2);
        op_case(VKVAE_OP_CONVT2D, conv_params(1, 5, 3, 5, 4, 7, 3, 2, 1, 1, act), push, 2);
    }
}

/* ---- a whole train step of vae_mlp ---- */

static vkvae_cpu *make(const vkvae_plan *plan, vkvae_cpu_precision prec)
{
    vkvae_cpu *cpu = NULL;
    vkvae_error err = {0};
    if (vkvae_cpu_create(plan, prec, &cpu, &err) || vkvae_cpu_init_params(cpu, 1, &err)) {
        printf("create: %s\n", err.message);
        exit(1);
    }
    return cpu;
}

/* The same images (a smooth random pattern per row, as photos are) and
 * permutation in every backend. */
static void put_data(vkvae_cpu *cpu, const vkvae_plan *plan)
{
    uint32_t images = vkvae_plan_find_tensor(plan, "train.images");
    uint32_t perm = vkvae_plan_find_tensor(plan, "train.perm");
    vkvae_cpu_view vi = vkvae_cpu_tensor(cpu, images), vp = vkvae_cpu_tensor(cpu, perm);
    uint64_t rows = plan->tensors[perm].elems, width = plan->tensors[images].elems / rows;
    uint64_t seed = 12345;
    uint8_t *d = vi.data;
    for (uint64_t r = 0; r < rows && r < 512; r++)
        for (uint64_t j = 0; j < width; j++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double smooth = 0.5 + 0.5 * sin((double)j * 0.05 * (double)(r % 7 + 1));
            d[r * width + j] = (uint8_t)(255 * smooth * (0.7 + 0.3 * (double)(seed >> 40) * 0x1p-24));
        }
    uint32_t *pm = vp.data;
    for (uint64_t i = 0; i < rows; i++)
        pm[i] = (uint32_t)((i * 389) % 512); /* the first 512 images, shuffled */
}

static int step_case(const vkvae_plan *plan, vkvae_push push, uint32_t steps)
{
    vkvae_cpu *c64 = make(plan, VKVAE_CPU_F64), *c32 = make(plan, VKVAE_CPU_F32),
              *cf = make(plan, VKVAE_CPU_FAST);
    vkvae_cpu *all[3] = {c64, c32, cf};
    vkvae_error err = {0};
    for (int k = 0; k < 3; k++) {
        put_data(all[k], plan);
        for (uint32_t s = 0; s < steps; s++) {
            vkvae_push p = push;
            p.step = push.step + s;
            p.base = push.base + s * plan->batch;
            if (vkvae_cpu_run(all[k], VKVAE_PROGRAM_TRAIN, &p, &err)) {
                printf("run: %s\n", err.message);
                exit(1);
            }
        }
    }
    int bad = 0;
    double worst_fast = 0;
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        const vkvae_tensor_desc *t = &plan->tensors[i];
        vkvae_buffer_role role = plan->buffers[t->buffer].role;
        if (role == VKVAE_ROLE_DATA || role == VKVAE_ROLE_IO || !t->elems)
            continue;
        double *ref = malloc(t->elems * sizeof *ref);
        float *f32 = malloc(t->elems * sizeof *f32), *ff = malloc(t->elems * sizeof *ff);
        vkvae_cpu_read_f64(c64, i, ref, &err);
        vkvae_cpu_read_f32(c32, i, f32, &err);
        vkvae_cpu_read_f32(cf, i, ff, &err);
        double e32 = nmse(ref, f32, t->elems), ef = nmse(ref, ff, t->elems);
        /* fp32 allows what the plain float path reaches, and at least 1e-7 */
        double bar = e32 > 1e-7 ? 2 * e32 : 1e-7;
        int ok = ef < bar;
        bad += !ok;
        worst_fast = ef > worst_fast ? ef : worst_fast;
        char name[160];
        snprintf(name, sizeof name, "STEP(%s,steps=%u,rows=%u,%s)", plan->model, steps, push.rows,
                 t->name);
        if (!ok || filter)
            printf("%s: %s nmse fast=%.1e f32=%.1e\n", name, ok ? "ok" : "FAIL", ef, e32);
        free(ref);
        free(f32);
        free(ff);
    }
    printf("STEP(%s,steps=%u,rows=%u): %s, worst tensor nmse fast=%.1e\n", plan->model, steps,
           push.rows, bad ? "FAIL" : "ok", worst_fast);
    cases++;
    failures += bad != 0;
    for (int k = 0; k < 3; k++)
        vkvae_cpu_destroy(all[k]);
    return bad;
}

static void run_step(void)
{
    const vkvae_plan *plan = vkvae_builtin_model("vae_mlp");
    if (!plan) {
        printf("no built-in vae_mlp\n");
        failures++;
        return;
    }
    vkvae_push push = {.seed = 1, .step = 0, .base = 0, .rows = plan->batch, .kl_weight = 1.0f,
                       .grad_scale = 1.0f};
    step_case(plan, push, 1);
    step_case(plan, push, 3);
    push.rows = 77; /* the short last batch */
    step_case(plan, push, 1);
}

/* vae_conv: its convolutions grouped with the other ops of a whole step */
static void run_conv_step(void)
{
    const vkvae_plan *plan = vkvae_builtin_model("vae_conv");
    if (!plan) {
        printf("no built-in vae_conv\n");
        failures++;
        return;
    }
    vkvae_push push = {.seed = 1, .step = 0, .base = 0, .rows = 77, .kl_weight = 1.0f,
                       .grad_scale = 1.0f};
    step_case(plan, push, 1);
}

/* ---- timings ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run_perf(void)
{
    const vkvae_plan *plan = vkvae_builtin_model("vae_mlp");
    const vkvae_program_desc *prog = NULL;
    for (uint32_t i = 0; i < plan->n_programs; i++)
        if (plan->programs[i].kind == VKVAE_PROGRAM_TRAIN)
            prog = &plan->programs[i];
    vkvae_cpu *cf = make(plan, VKVAE_CPU_FAST), *c32 = make(plan, VKVAE_CPU_F32);
    put_data(cf, plan);
    put_data(c32, plan);
    vkvae_error err = {0};
    vkvae_push push = {.seed = 1, .rows = plan->batch, .kl_weight = 1, .grad_scale = 1};
    enum { REPS = 50 };
    double fast_total = 0, plain_total = 0;
    printf("%-4s %-18s %-16s %10s %10s\n", "step", "op", "n x in x out", "fast us", "f32 us");
    for (uint32_t s = 0; s < prog->n_steps; s++) {
        const vkvae_step_desc *st = &prog->steps[s];
        double tf[REPS], t32 = 0;
        for (int r = 0; r < REPS; r++) {
            double t0 = now_s();
            vkvae_cpu_run_step(cf, VKVAE_PROGRAM_TRAIN, s, &push, &err);
            tf[r] = now_s() - t0;
        }
        qsort(tf, REPS, sizeof *tf, cmp_double);
        double t0 = now_s();
        vkvae_cpu_run_step(c32, VKVAE_PROGRAM_TRAIN, s, &push, &err);
        t32 = now_s() - t0;
        fast_total += tf[REPS / 2];
        plain_total += t32;
        char shape[40];
        snprintf(shape, sizeof shape, "%ux%ux%u", st->p.n, st->p.in, st->p.out);
        printf("%-4u %-18s %-16s %10.1f %10.1f\n", s, vkvae_op_name(st->op), shape,
               1e6 * tf[REPS / 2], 1e6 * t32);
    }
    double whole[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        push.step = (uint32_t)r;
        vkvae_cpu_run(cf, VKVAE_PROGRAM_TRAIN, &push, &err);
        whole[r] = now_s() - t0;
    }
    qsort(whole, REPS, sizeof *whole, cmp_double);
    printf("sum of ops: fast %.3f ms, f32 %.1f ms; whole step (fast, median of %d) %.3f ms "
           "= %.2f s per 469-step epoch, %.1f GFLOP/s\n", 1e3 * fast_total, 1e3 * plain_total,
           REPS, 1e3 * whole[REPS / 2], 469 * whole[REPS / 2],
           (double)plan->step_flops / whole[REPS / 2] * 1e-9);
    vkvae_cpu_destroy(cf);
    vkvae_cpu_destroy(c32);
}

static int run_sample(uint32_t n, uint32_t runs)
{
    const vkvae_plan *plan = vkvae_builtin_model("vae_mlp");
    vkvae_session *s = NULL;
    vkvae_error err = {0};
    if (vkvae_session_create(&(vkvae_session_desc){.plan = plan}, &s, &err) ||
        vkvae_session_init_params(s, 1, &err)) {
        printf("session: %s\n", err.message);
        return 1;
    }
    float *img = malloc((size_t)n * vkvae_session_features(s) * sizeof *img);
    double *t = malloc((runs + 1) * sizeof *t);
    for (uint32_t r = 0; r <= runs; r++) { /* the first one warms up */
        double t0 = now_s();
        if (vkvae_session_sample(s, 1 + r, n, 0, img, &err)) {
            printf("sample: %s\n", err.message);
            return 1;
        }
        t[r] = now_s() - t0;
    }
    qsort(t + 1, runs, sizeof *t, cmp_double);
    double med = runs % 2 ? t[1 + runs / 2] : (t[runs / 2] + t[runs / 2 + 1]) / 2;
    printf("sampling %u images from vae_mlp's prior on the CPU backend: median %.1f ms over %u "
           "runs (first %.1f ms)\n", n, 1e3 * med, runs, 1e3 * t[0]);
    free(img);
    free(t);
    vkvae_session_destroy(s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = "test";
    int a = 1;
    if (a < argc && argv[a][0] != '-')
        mode = argv[a++];
    if (strcmp(mode, "sample") == 0) {
        uint32_t n = a < argc ? (uint32_t)strtoul(argv[a], NULL, 10) : 10000;
        uint32_t runs = a + 1 < argc ? (uint32_t)strtoul(argv[a + 1], NULL, 10) : 5;
        return run_sample(n ? n : 10000, runs ? runs : 5);
    }
    for (; a < argc; a++)
        if (strcmp(argv[a], "-o") == 0 && a + 1 < argc)
            filter = argv[++a];
    if (strcmp(mode, "perf") == 0) {
        run_perf();
        return 0;
    }
    if (strcmp(mode, "test") != 0) {
        fprintf(stderr, "usage: test_cpu_fast [test [-o OP] | perf | sample [N] [RUNS]]\n");
        return 2;
    }
    run_ops();
    run_conv();
    if (wanted("STEP(vae_mlp"))
        run_step();
    if (wanted("STEP(vae_conv"))
        run_conv_step();
    printf("%d/%d cases passed\n", cases - failures, cases);
    return failures != 0;
}
