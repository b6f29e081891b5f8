/* One whole training step of the built-in vae_mlp on the GPU equals the CPU
 * backend's in float: same parameters (initialised on the host, uploaded as
 * params.all), same random data bytes and permutation, same push. Compared
 * by normalised mean squared error against the CPU: the loss sums, the
 * gradient, the updated parameters and Adam's two moments.
 *
 * Then one step of vae_conv (its convolutions as implicit matrix products
 * with stride phases and a db row of workgroups, and one plain kernel, in a
 * whole plan with its barriers) against the CPU in double, on a short
 * batch: the same tensors and the same 1e-7.
 */
#include <math.h>

#include "cpu/cpu_backend.h"
#include "gpu/gpu_plan.h"
#include "plan/models.h"
#include "plan_util.h"
#include "test_util.h"

static double nmse(const float *a, const float *b, uint64_t n, double *max_abs)
{
    double num = 0, den = 0;
    *max_abs = 0;
    for (uint64_t i = 0; i < n; i++) {
        double e = (double)a[i] - (double)b[i];
        num += e * e;
        den += (double)b[i] * (double)b[i];
        if (fabs(e) > *max_abs || e != e)
            *max_abs = e != e ? INFINITY : fabs(e);
    }
    return den > 0 ? num / den : num;
}

static void conv_step(vkvae_context *ctx);

/* The same random data bytes and permutation on both backends. */
static void same_data(const vkvae_plan *p, vkvae_cpu *cpu, vkvae_gpu_plan *gpu)
{
    vkvae_error err = { 0 };
    int images = plan_tensor(p, "train.images"), perm = plan_tensor(p, "train.perm");
    plan_fill_data(p, vkvae_cpu_tensor(cpu, (uint32_t)images).data, NULL,
                   vkvae_cpu_tensor(cpu, (uint32_t)perm).data, 0, 99);
    CHECK_OK(vkvae_gpu_plan_write(gpu, (uint32_t)images, vkvae_cpu_tensor(cpu, (uint32_t)images).data, &err), err);
    CHECK_OK(vkvae_gpu_plan_write(gpu, (uint32_t)perm, vkvae_cpu_tensor(cpu, (uint32_t)perm).data, &err), err);
}

int main(void)
{
    const vkvae_plan *p = vkvae_builtin_model("vae_mlp");
    if (!p) {
        fprintf(stderr, "vae_mlp is not built in\n");
        return 1;
    }
    vkvae_context *ctx = test_context();
    vkvae_error err = { 0 };
    vkvae_cpu *cpu = NULL;
    vkvae_gpu_plan *gpu = NULL;
    CHECK_OK(vkvae_cpu_create(p, VKVAE_CPU_F32, &cpu, &err), err);
    CHECK_OK(vkvae_cpu_init_params(cpu, 1, &err), err);
    CHECK_OK(vkvae_gpu_plan_create(ctx, p, &gpu, &err), err);
    if (test_failures) {
        vkvae_gpu_plan_destroy(gpu);
        vkvae_cpu_destroy(cpu);
        return test_finish(ctx);
    }
    int params = plan_tensor(p, "params.all");
    same_data(p, cpu, gpu);
    uint64_t np = p->tensors[params].elems;
    float *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b);
    CHECK_OK(vkvae_cpu_read_f32(cpu, (uint32_t)params, a, &err), err);
    CHECK_OK(vkvae_gpu_plan_write(gpu, (uint32_t)params, a, &err), err);

    vkvae_push push = { .seed = 1, .step = 0, .base = 256, .rows = p->batch, .kl_weight = 1.0f,
                        .grad_scale = 1.0f };
    CHECK_OK(vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &push, &err), err);
    CHECK_OK(vkvae_gpu_plan_run(gpu, VKVAE_PROGRAM_TRAIN, &push, &err), err);

    static const struct { const char *name; double tol; } cmp[] = {
        { "loss.acc", 1e-7 }, { "grads.all", 1e-7 }, { "params.all", 1e-7 },
        { "adam.m", 1e-7 }, { "adam.v", 1e-7 }, { "mu", 1e-7 }, { "fc4", 1e-7 },
    };
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp && !test_failures; i++) {
        int t = plan_tensor(p, cmp[i].name);
        uint64_t n = p->tensors[t].elems;
        CHECK_OK(vkvae_cpu_read_f32(cpu, (uint32_t)t, a, &err), err);
        CHECK_OK(vkvae_gpu_plan_read(gpu, (uint32_t)t, b, &err), err);
        double max_abs, e = nmse(b, a, n, &max_abs);
        printf("vae_mlp train step, GPU vs CPU f32: %-10s NMSE %.3g, max abs %.3g%s\n",
               cmp[i].name, e, max_abs, i == 0 ? "" : "");
        if (i == 0)
            printf("  loss.acc cpu (%.6f %.6f %.6f %.0f) gpu (%.6f %.6f %.6f %.0f)\n", a[0], a[1],
                   a[2], a[3], b[0], b[1], b[2], b[3]);
        CHECK(e < cmp[i].tol, "%s: NMSE %.3g over %.3g", cmp[i].name, e, cmp[i].tol);
    }
    free(a);
    free(b);
    vkvae_gpu_plan_destroy(gpu);
    vkvae_cpu_destroy(cpu);
    if (!test_failures)
        conv_step(ctx);
    return test_finish(ctx);
}

static double nmse64(const float *a, const double *ref, uint64_t n)
{
    double num = 0, den = 0;
    for (uint64_t i = 0; i < n; i++) {
        double e = (double)a[i] - ref[i];
        num += e * e;
        den += ref[i] * ref[i];
    }
    return num != num ? INFINITY : den > 0 ? num / den : num;
}

static void conv_step(vkvae_context *ctx)
{
    const vkvae_plan *p = vkvae_builtin_model("vae_conv");
    CHECK(p != NULL, "vae_conv is not built in");
    if (!p)
        return;
    vkvae_error err = { 0 };
    vkvae_cpu *c64 = NULL;
    vkvae_gpu_plan *gpu = NULL;
    CHECK_OK(vkvae_cpu_create(p, VKVAE_CPU_F64, &c64, &err), err);
    CHECK_OK(vkvae_gpu_plan_create(ctx, p, &gpu, &err), err);
    if (test_failures) {
        vkvae_gpu_plan_destroy(gpu);
        vkvae_cpu_destroy(c64);
        return;
    }
    CHECK_OK(vkvae_cpu_init_params(c64, 1, &err), err);
    int params = plan_tensor(p, "params.all");
    same_data(p, c64, gpu);
    uint64_t most = 0;
    for (uint32_t i = 0; i < p->n_tensors; i++)
        most = p->tensors[i].elems > most ? p->tensors[i].elems : most;
    float *b = malloc(most * sizeof *b);
    double *ref = malloc(most * sizeof *ref);
    CHECK_OK(vkvae_cpu_read_f32(c64, (uint32_t)params, b, &err), err); /* float-exact: drawn in float */
    CHECK_OK(vkvae_gpu_plan_write(gpu, (uint32_t)params, b, &err), err);

    /* a short batch: padding rows must not reach a gradient */
    vkvae_push push = { .seed = 1, .step = 0, .base = 256, .rows = 77, .kl_weight = 1.0f,
                        .grad_scale = 1.0f };
    CHECK_OK(vkvae_cpu_run(c64, VKVAE_PROGRAM_TRAIN, &push, &err), err);
    CHECK_OK(vkvae_gpu_plan_run(gpu, VKVAE_PROGRAM_TRAIN, &push, &err), err);

    static const char *cmp[] = { "loss.acc", "grads.all", "params.all", "adam.m", "adam.v",
                                 "mu", "conv4", "deconv3", "deconv4" };
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp && !test_failures; i++) {
        int t = plan_tensor(p, cmp[i]);
        CHECK(t >= 0, "vae_conv has no tensor %s", cmp[i]);
        if (t < 0)
            continue;
        uint64_t n = p->tensors[t].elems;
        CHECK_OK(vkvae_cpu_read_f64(c64, (uint32_t)t, ref, &err), err);
        CHECK_OK(vkvae_gpu_plan_read(gpu, (uint32_t)t, b, &err), err);
        double e = nmse64(b, ref, n);
        printf("vae_conv train step (77 of 128 rows), GPU vs CPU f64: %-10s NMSE %.3g\n", cmp[i], e);
        CHECK(e < 1e-7, "vae_conv %s: NMSE %.3g over 1e-7", cmp[i], e);
    }
    free(b);
    free(ref);
    vkvae_gpu_plan_destroy(gpu);
    vkvae_cpu_destroy(c64);
}
