/* The CPU backend on a hand-written plan (a tiny Bernoulli autoencoder,
 * 6-4-6, trained with Adam), the plan checks, the initialisations (PyTorch's
 * default, xavier_uniform, kaiming_normal) and the Philox shuffle. The plan is tiny_plan.h's, written as the generator would
 * emit it: tables of buffers, tensors and steps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_backend.h"
#include "plan/init.h"
#include "plan/shuffle.h"
#include "tiny_plan.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

static const vkvae_buffer_desc buffers[] = { TINY_BUFFERS };
static const vkvae_tensor_desc tensors[] = { TINY_TENSORS };
static const vkvae_step_desc train_steps[] = { TINY_TRAIN_STEPS };
static const vkvae_program_desc programs[] = {
    { VKVAE_PROGRAM_TRAIN, "train", sizeof train_steps / sizeof *train_steps, train_steps },
};
static const vkvae_plan plan = {
    .model = "tiny_ae", .batch = B,
    .n_buffers = sizeof buffers / sizeof *buffers, .n_tensors = sizeof tensors / sizeof *tensors,
    .n_programs = 1, .buffers = buffers, .tensors = tensors, .programs = programs,
};

/* Trains `epochs` epochs; returns the last epoch's mean loss per example. */
static double train(vkvae_cpu *cpu, int epochs)
{
    vkvae_error err = { 0 };
    uint8_t *images = vkvae_cpu_tensor(cpu, T_IMAGES).data;
    for (int i = 0; i < N * IN; i++) /* two patterns, complementary */
        images[i] = (uint8_t)(((i / IN) % 2 == (i % IN) % 2) ? 230 : 20);
    vkvae_cpu_init_params(cpu, 1, &err);
    double mean = 0;
    uint32_t step = 0;
    for (int e = 0; e < epochs; e++) {
        vkvae_shuffle(vkvae_cpu_tensor(cpu, T_PERM).data, N, 1, (uint32_t)e);
        memset(vkvae_cpu_tensor(cpu, T_ACC).data, 0, vkvae_cpu_tensor(cpu, T_ACC).bytes);
        for (uint32_t base = 0; base < N; base += B) {
            vkvae_push push = { .seed = 1, .step = step++, .base = base,
                                .rows = N - base < B ? N - base : B, .grad_scale = 1.0f / B };
            if (vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &push, &err)) {
                printf("run: %s\n", err.message);
                return NAN;
            }
        }
        double acc[4];
        vkvae_cpu_read_f64(cpu, T_ACC, acc, &err);
        mean = acc[0] / acc[3];
        if (acc[3] != N)
            return NAN;
    }
    return mean;
}

static void test_training(void)
{
    vkvae_cpu *c32 = NULL, *c64 = NULL;
    vkvae_error err = { 0 };
    check(vkvae_cpu_create(&plan, VKVAE_CPU_F32, &c32, &err) == VKVAE_OK, "CREATE(f32)");
    check(vkvae_cpu_create(&plan, VKVAE_CPU_F64, &c64, &err) == VKVAE_OK, "CREATE(f64)");
    if (!c32 || !c64) {
        printf("  %s\n", err.message);
        return;
    }
    double first64 = train(c64, 1), first32 = train(c32, 1);
    vkvae_cpu_destroy(c32);
    vkvae_cpu_destroy(c64);
    vkvae_cpu_create(&plan, VKVAE_CPU_F32, &c32, &err);
    vkvae_cpu_create(&plan, VKVAE_CPU_F64, &c64, &err);
    double last64 = train(c64, 60), last32 = train(c32, 60);
    char what[200];
    snprintf(what, sizeof what, "TRAIN_TINY_AE(epochs=60) loss %.4f -> %.4f (f32 %.4f -> %.4f)",
             first64, last64, first32, last32);
    check(last64 < 0.8 * first64 && fabs(last32 - last64) < 1e-3 * fabs(last64) &&
              fabs(first32 - first64) < 1e-5 * fabs(first64), what);

    /* The parameters of both precisions after 60 epochs agree. */
    float p32[256];
    double p64[256], err2 = 0, ref = 0;
    vkvae_cpu_read_f32(c32, T_P_ALL, p32, &err);
    vkvae_cpu_read_f64(c64, T_P_ALL, p64, &err);
    for (int i = 0; i < 256; i++)
        err2 += (p32[i] - p64[i]) * (p32[i] - p64[i]), ref += p64[i] * p64[i];
    snprintf(what, sizeof what, "TRAIN_TINY_AE params f32 vs f64 nmse=%.1e", err2 / ref);
    check(err2 / ref < 1e-7, what);

    /* A bad push is refused before anything runs. */
    vkvae_error e2 = { 0 };
    vkvae_push bad = { .base = N - 1, .rows = B };
    check(vkvae_cpu_run(c64, VKVAE_PROGRAM_TRAIN, &bad, &e2) == VKVAE_BAD_INPUT, "RUN_BAD_BASE refused");
    printf("  %s\n", e2.message);
    vkvae_error e3 = { 0 };
    check(vkvae_cpu_run(c64, VKVAE_PROGRAM_SAMPLE, &bad, &e3) == VKVAE_BAD_INPUT, "RUN_NO_PROGRAM refused");
    printf("  %s\n", e3.message);
    vkvae_cpu_destroy(c32);
    vkvae_cpu_destroy(c64);
}

static void test_bad_plans(void)
{
    /* A dense whose weight is too small, and a gather into a DATA buffer. */
    vkvae_step_desc bad1[] = { STEP(DENSE, T_X, T_FC_B, T_FC_B, T_H), .p = { .n = B, .in = IN, .out = HID } } };
    vkvae_step_desc bad2[] = { STEP(GATHER, T_IMAGES, T_PERM, T_PERM), .p = { .n = B, .in = IN } } };
    vkvae_step_desc bad3[] = { STEP(CONV2D, T_X, T_FC_W, T_FC_B, T_H), .p = { .n = 1, .c_in = 1, .h_in = 3, .w_in = 6,
                               .c_out = 1, .h_out = 2, .w_out = 2, .k = 2, .stride = 1 } } };
    const vkvae_step_desc *bads[] = { bad1, bad2, bad3 };
    for (int i = 0; i < 3; i++) {
        vkvae_program_desc prog = { VKVAE_PROGRAM_TRAIN, "train", 1, bads[i] };
        vkvae_plan p = plan;
        p.programs = &prog;
        vkvae_cpu *cpu = (vkvae_cpu *)&p;
        vkvae_error err = { 0 };
        vkvae_status st = vkvae_cpu_create(&p, VKVAE_CPU_F32, &cpu, &err);
        char what[64];
        snprintf(what, sizeof what, "BAD_PLAN(%d) refused", i);
        check(st == VKVAE_BAD_INPUT && cpu == NULL, what);
        printf("  %s\n", err.message);
    }
}

static void test_init(void)
{
    vkvae_error err = { 0 };
    float w[HID * IN], b[HID], w2[HID * IN];
    check(vkvae_init_tensor(w, &plan, T_FC_W, 1, &err) == VKVAE_OK &&
              vkvae_init_tensor(b, &plan, T_FC_B, 1, &err) == VKVAE_OK &&
              vkvae_init_tensor(w2, &plan, T_FC_W, 2, &err) == VKVAE_OK,
          "INIT(fc)");
    float bound = 1.0f / sqrtf(IN), lo = 1, hi = -1;
    int distinct = memcmp(w, w2, sizeof w) != 0;
    for (int i = 0; i < HID * IN; i++)
        lo = fminf(lo, w[i]), hi = fmaxf(hi, w[i]);
    for (int i = 0; i < HID; i++)
        lo = fminf(lo, b[i]), hi = fmaxf(hi, b[i]);
    char what[160];
    snprintf(what, sizeof what, "INIT_BOUND(fan_in=6) [%.3f, %.3f] within +-%.3f", lo, hi, bound);
    check(lo >= -bound && hi <= bound && lo < -0.3f * bound && hi > 0.3f * bound && distinct, what);

    /* fan_in as PyTorch: dense [out,in] -> in; conv [c_out,c_in,k,k] ->
     * c_in*k*k; convt [c_in,c_out,k,k] -> c_out*k*k (size(1)*k*k). */
    vkvae_tensor_desc dense = { .rank = 2, .shape = { 400, 784 } };
    vkvae_tensor_desc conv = { .rank = 4, .shape = { 64, 3, 4, 4 } };
    vkvae_tensor_desc convt = { .rank = 4, .shape = { 64, 32, 4, 4 } };
    check(vkvae_init_fan_in(&dense) == 784 && vkvae_init_fan_in(&conv) == 48 &&
              vkvae_init_fan_in(&convt) == 512,
          "INIT_FAN_IN(dense=784,conv=48,convt=512)");

    /* A bias with no weight is an error. */
    vkvae_tensor_desc lone[] = { { "orphan.bias", 0, 0, 4, 1, { 4 } } };
    vkvae_plan p = { .model = "x", .n_tensors = 1, .tensors = lone };
    vkvae_error e2 = { 0 };
    check(vkvae_init_tensor(b, &p, 0, 1, &e2) == VKVAE_BAD_INPUT, "INIT_ORPHAN_BIAS refused");
    printf("  %s\n", e2.message);
}

/* xavier_uniform and kaiming_normal as torch.nn.init draws them, on a
 * conv weight [c_out=40, c_in=30, 3, 3] (fan_in 270, fan_out 360) and a
 * transposed one [c_in=30, c_out=40, 3, 3] (fan_in 360, fan_out 270): the
 * bound or the standard deviation, the mean, and biases zero. */
static void test_init_kinds(void)
{
    enum { CO = 40, CI = 30, K = 3, W = CO * CI * K * K };
    vkvae_tensor_desc t[] = {
        { "conv.weight", 0, 0, W, 4, { CO, CI, K, K } },
        { "conv.bias", 0, 0, CO, 1, { CO } },
        { "deconv.weight", 0, 0, W, 4, { CI, CO, K, K } },
    };
    check(vkvae_init_fan_out(&t[0]) == CO * K * K && vkvae_init_fan_out(&t[2]) == CI * K * K &&
              vkvae_init_fan_in(&t[2]) == CO * K * K,
          "INIT_FAN_OUT(conv=360,convt=270)");
    static float w[W], w_other_seed[W];
    float bias[CO];
    for (uint32_t kind = VKVAE_INIT_XAVIER_UNIFORM; kind <= VKVAE_INIT_KAIMING_NORMAL; kind++)
        for (int which = 0; which <= 2; which += 2) {
            vkvae_plan p = { .model = "x", .n_tensors = 3, .tensors = t, .init = kind };
            vkvae_error err = { 0 };
            int ok = vkvae_init_tensor(w, &p, (uint32_t)which, 1, &err) == VKVAE_OK &&
                     vkvae_init_tensor(w_other_seed, &p, (uint32_t)which, 2, &err) == VKVAE_OK &&
                     vkvae_init_tensor(bias, &p, 1, 1, &err) == VKVAE_OK;
            double fan_in = (double)vkvae_init_fan_in(&t[which]);
            double fan_out = (double)vkvae_init_fan_out(&t[which]);
            double sum = 0, sq = 0, most = 0;
            for (int i = 0; i < W; i++) {
                sum += w[i], sq += (double)w[i] * w[i];
                most = fmax(most, fabs(w[i]));
            }
            double mean = sum / W, sd = sqrt(sq / W - mean * mean);
            /* U(-b, b) has sd b/sqrt(3); N(0, s^2) sd s */
            double bound = sqrt(6.0 / (fan_in + fan_out)), want_sd = kind == VKVAE_INIT_XAVIER_UNIFORM
                                                                       ? bound / sqrt(3.0)
                                                                       : sqrt(2.0 / fan_in);
            int zero_bias = 1;
            for (int i = 0; i < CO; i++)
                zero_bias &= bias[i] == 0.0f;
            ok &= fabs(sd / want_sd - 1) < 0.03 && fabs(mean) < 0.05 * want_sd && zero_bias &&
                  memcmp(w, w_other_seed, sizeof w) != 0;
            if (kind == VKVAE_INIT_XAVIER_UNIFORM)
                ok &= most <= bound && most > 0.99 * bound;
            else
                ok &= most > 3 * want_sd; /* a normal's tails, not a uniform's edge */
            char what[200];
            snprintf(what, sizeof what, "INIT_%s(%s fan_in=%.0f fan_out=%.0f): sd %.5f want %.5f, "
                     "mean %.2g, max |w| %.4f, bias zero %d", vkvae_init_kind_name(kind),
                     t[which].name, fan_in, fan_out, sd, want_sd, mean, most, zero_bias);
            check(ok, what);
        }
    vkvae_plan bad = { .model = "x", .n_tensors = 3, .tensors = t, .init = VKVAE_INIT_COUNT };
    vkvae_error e = { 0 };
    check(vkvae_init_tensor(w, &bad, 0, 1, &e) == VKVAE_BAD_INPUT, "INIT_UNKNOWN_KIND refused");
    printf("  %s\n", e.message);
}

static void test_shuffle(void)
{
    enum { M = 1000 };
    static uint32_t a[M], b[M], c[M];
    static uint8_t seen[M];
    vkvae_shuffle(a, M, 7, 0);
    vkvae_shuffle(b, M, 7, 0);
    vkvae_shuffle(c, M, 7, 1);
    int perm_ok = 1, fixed = 0;
    for (int i = 0; i < M; i++) {
        if (a[i] >= M || seen[a[i]]++)
            perm_ok = 0;
        fixed += a[i] == (uint32_t)i;
    }
    check(perm_ok && memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) != 0 && fixed < 10,
          "SHUFFLE(n=1000) permutation, deterministic, new per epoch");
    uint32_t one[1];
    vkvae_shuffle(one, 1, 7, 0);
    check(one[0] == 0, "SHUFFLE(n=1)");
}

int main(void)
{
    test_training();
    test_bad_plans();
    test_init();
    test_init_kinds();
    test_shuffle();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures != 0;
}
