/* Encoding, decoding and sampling a built-in model (vae_mlp, cvae_mlp for
 * the condition, vae_conv for the convolutions) on the GPU equal the CPU backend: the same
 * initialisation on both, random images and codes, every output compared
 * by NMSE (fp32 on both sides: under 1e-7).
 */
#include <math.h>

#include "plan/models.h"
#include "session/session.h"
#include "test_util.h"

static double nmse(const float *got, const float *want, size_t n)
{
    double se = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        se += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
        norm += (double)want[i] * want[i];
    }
    return norm > 0 ? se / norm : se;
}

static void compare(const char *what, const char *model, const float *gpu, const float *cpu,
                    size_t n)
{
    double e = nmse(gpu, cpu, n);
    int finite = 1;
    for (size_t i = 0; i < n; i++)
        finite &= isfinite(gpu[i]) != 0;
    CHECK(finite && e < 1e-7, "%s(%s): nmse %.2e%s", what, model, e, finite ? "" : " (NaN)");
    printf("%s(%s): nmse=%.1e\n", what, model, e);
}

static void check_model(vkvae_context *ctx, const char *name)
{
    const vkvae_plan *plan = vkvae_builtin_model(name);
    CHECK(plan != NULL, "model %s is built in", name);
    if (!plan)
        return;
    vkvae_error err = {0};
    vkvae_session *gpu = NULL, *cpu = NULL;
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan, .ctx = ctx}, &gpu, &err),
             err);
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan}, &cpu, &err), err);
    if (!gpu || !cpu)
        return;
    CHECK_OK(vkvae_session_init_params(gpu, 5, &err), err);
    CHECK_OK(vkvae_session_init_params(cpu, 5, &err), err);
    uint32_t n = 200; /* more than one batch, the last one short */
    uint32_t F = vkvae_session_features(gpu), L = vkvae_session_latent(gpu);
    float *x = malloc((size_t)n * F * sizeof *x), *z = malloc((size_t)n * L * sizeof *z);
    float *a = malloc((size_t)n * F * sizeof *a), *b = malloc((size_t)n * F * sizeof *b);
    uint32_t *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < (size_t)n * F; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 999.0f;
    for (size_t i = 0; i < (size_t)n * L; i++)
        z[i] = (float)((int)((i * 40503u) % 2001) - 1000) / 400.0f;
    for (uint32_t i = 0; i < n; i++)
        labels[i] = i % 10;
    const uint32_t *cond = vkvae_session_classes(gpu) ? labels : NULL;

    CHECK_OK(vkvae_session_encode(gpu, x, cond, n, a, b, &err), err);
    float *c = malloc((size_t)n * L * sizeof *c), *d = malloc((size_t)n * L * sizeof *d);
    CHECK_OK(vkvae_session_encode(cpu, x, cond, n, c, d, &err), err);
    compare("ENCODE.mu", name, a, c, (size_t)n * L);
    compare("ENCODE.logvar", name, b, d, (size_t)n * L);

    CHECK_OK(vkvae_session_decode(gpu, z, cond, n, a, &err), err);
    CHECK_OK(vkvae_session_decode(cpu, z, cond, n, b, &err), err);
    compare("DECODE", name, a, b, (size_t)n * F);

    CHECK_OK(vkvae_session_sample(gpu, 9, n, 3, a, &err), err);
    CHECK_OK(vkvae_session_sample(cpu, 9, n, 3, b, &err), err);
    compare("SAMPLE", name, a, b, (size_t)n * F);

    free(x), free(z), free(a), free(b), free(c), free(d), free(labels);
    vkvae_session_destroy(gpu);
    vkvae_session_destroy(cpu);
}

int main(void)
{
    vkvae_context *ctx = test_context();
    check_model(ctx, "vae_mlp");
    check_model(ctx, "cvae_mlp");
    check_model(ctx, "vae_conv"); /* its mean from the last convt2d's epilogue */
    return test_finish(ctx);
}
