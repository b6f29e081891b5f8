/* A whole plan on the GPU against the CPU backend: the tiny 6-4-6
 * autoencoder (tests/cpu/tiny_plan.h) with barriers placed by the hazard
 * pass, trained for two epochs of steps through vkvae_gpu_plan_run_many,
 * once with every step in its own submission and once all in one; after
 * every variant the loss sums, every parameter and both Adam moments must
 * equal the fp64 CPU run (NMSE < 1e-7). This checks the recorder, the
 * descriptor sets, the barriers across steps and across submissions, and
 * the short last batch.
 */
#include <math.h>

#include "../cpu/tiny_plan.h"
#include "cpu/cpu_backend.h"
#include "gpu/gpu_plan.h"
#include "plan/hazard.h"
#include "plan/shuffle.h"
#include "test_util.h"

static const vkvae_buffer_desc buffers[] = {TINY_BUFFERS};
static const vkvae_tensor_desc tensors[] = {TINY_TENSORS};
static vkvae_step_desc train_steps[] = {TINY_TRAIN_STEPS};
static const vkvae_program_desc programs[] = {
    {VKVAE_PROGRAM_TRAIN, "train", sizeof train_steps / sizeof *train_steps, train_steps},
};
static const vkvae_plan plan = {
    .model = "tiny_ae", .batch = B,
    .n_buffers = sizeof buffers / sizeof *buffers, .n_tensors = sizeof tensors / sizeof *tensors,
    .n_programs = 1, .buffers = buffers, .tensors = tensors, .programs = programs,
};

enum { EPOCHS = 2, STEPS_PER_EPOCH = (N + B - 1) / B, STEPS = EPOCHS * STEPS_PER_EPOCH };

static double nmse(const float *got, const double *want, uint32_t n)
{
    double se = 0, norm = 0;
    for (uint32_t i = 0; i < n; i++) {
        se += (got[i] - want[i]) * (got[i] - want[i]);
        norm += want[i] * want[i];
    }
    return norm > 0 ? se / norm : se;
}

static void pushes_of_epoch(vkvae_push *p, uint32_t epoch)
{
    for (uint32_t i = 0; i < STEPS_PER_EPOCH; i++) {
        uint32_t base = i * B;
        p[i] = (vkvae_push){.seed = 1, .step = epoch * STEPS_PER_EPOCH + i, .base = base,
                            .rows = N - base < B ? N - base : B, .grad_scale = 1.0f / B};
    }
}

static void run_variant(vkvae_context *ctx, double target_ms, const char *label)
{
    vkvae_error err = {0};
    vkvae_cpu *cpu = NULL;
    vkvae_gpu_plan *gpu = NULL;
    CHECK_OK(vkvae_cpu_create(&plan, VKVAE_CPU_F64, &cpu, &err), err);
    CHECK_OK(vkvae_gpu_plan_create(ctx, &plan, &gpu, &err), err);
    if (!cpu || !gpu)
        return;
    uint8_t *images = vkvae_cpu_tensor(cpu, T_IMAGES).data;
    for (int i = 0; i < N * IN; i++)
        images[i] = (uint8_t)((i * 37 + 11) % 256);
    CHECK_OK(vkvae_gpu_plan_write(gpu, T_IMAGES, images, &err), err);
    CHECK_OK(vkvae_cpu_init_params(cpu, 3, &err), err);
    float params[256];
    double params64[256];
    CHECK_OK(vkvae_cpu_read_f32(cpu, T_P_ALL, params, &err), err);
    CHECK_OK(vkvae_gpu_plan_write(gpu, T_P_ALL, params, &err), err);

    for (uint32_t e = 0; e < EPOCHS; e++) {
        uint32_t *perm = vkvae_cpu_tensor(cpu, T_PERM).data;
        vkvae_shuffle(perm, N, 1, e);
        CHECK_OK(vkvae_gpu_plan_write(gpu, T_PERM, perm, &err), err);
        vkvae_push pushes[STEPS_PER_EPOCH];
        pushes_of_epoch(pushes, e);
        for (uint32_t i = 0; i < STEPS_PER_EPOCH; i++)
            CHECK_OK(vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &pushes[i], &err), err);
        CHECK_OK(vkvae_gpu_plan_run_many(gpu, VKVAE_PROGRAM_TRAIN, pushes, STEPS_PER_EPOCH,
                                         target_ms, NULL, NULL, &err),
                 err);
    }
    static const uint32_t compared[] = {T_P_ALL, T_M, T_V, T_ACC};
    for (size_t i = 0; i < sizeof compared / sizeof *compared; i++) {
        uint32_t t = compared[i];
        uint32_t n = (uint32_t)tensors[t].elems;
        CHECK_OK(vkvae_gpu_plan_read(gpu, t, params, &err), err);
        CHECK_OK(vkvae_cpu_read_f64(cpu, t, params64, &err), err);
        double e = nmse(params, params64, n);
        CHECK(e < 1e-7, "%s: %s after %d steps: nmse %.2e", label, tensors[t].name, STEPS, e);
        printf("TRAIN(tiny_ae,%s): %s nmse=%.1e\n", label, tensors[t].name, e);
    }
    vkvae_gpu_plan_destroy(gpu);
    vkvae_cpu_destroy(cpu);
}

int main(void)
{
    vkvae_hazard_place_barriers(train_steps, sizeof train_steps / sizeof *train_steps, tensors, 1);
    vkvae_context *ctx = test_context();
    run_variant(ctx, 1e-9, "one step per submission");
    run_variant(ctx, 1e9, "one submission");
    return test_finish(ctx);
}
