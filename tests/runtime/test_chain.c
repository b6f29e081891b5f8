/* The build chain end to end: shaders/axpy.comp, compiled by glslang at
 * build time into an embedded SPIR-V array, becomes a pipeline, runs on the
 * device over buffers uploaded from the host, and its result equals the
 * CPU's. Odd sizes exercise the bounds check; the output is poisoned with
 * NaN first so an unwritten element fails. Timestamps bracket the dispatch.
 */
#include <math.h>
#include <stdint.h>

#include "axpy.spv.h"
#include "test_util.h"

static void run_case(vkvae_context *ctx, const vkvae_kernel *k, uint32_t n)
{
    vkvae_error err = {0};
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *out = malloc(n * sizeof *out);
    uint32_t state = 12345u + n;
    for (uint32_t i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        x[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
        y[i] = (float)i * 0.25f - 3.0f;
    }
    vkvae_buffer bx, by;
    CHECK_OK(vkvae_buffer_create(ctx, n * sizeof(float), &bx, &err), err);
    CHECK_OK(vkvae_buffer_create(ctx, n * sizeof(float), &by, &err), err);
    CHECK_OK(vkvae_buffer_fill(ctx, &by, 0x7fc00000u, &err), err); /* NaN poison */
    CHECK_OK(vkvae_buffer_upload(ctx, &bx, 0, x, n * sizeof(float), &err), err);
    CHECK_OK(vkvae_buffer_upload(ctx, &by, 0, y, n * sizeof(float), &err), err);

    struct { float a; uint32_t n; } push = {1.5f, n};
    vkvae_commands c;
    CHECK_OK(vkvae_commands_begin(ctx, 1, 2, &c, &err), err);
    vkvae_binding b[2] = {{.buffer = &bx}, {.buffer = &by}};
    vkvae_commands_timestamp(ctx, &c);
    CHECK_OK(vkvae_commands_dispatch(ctx, &c, k, b, 2, &push, sizeof push, (n + 63) / 64, 1, 1,
                                     &err),
             err);
    vkvae_commands_timestamp(ctx, &c);
    CHECK_OK(vkvae_commands_submit_wait(ctx, &c, &err), err);
    double ns[2] = {0, 0};
    CHECK_OK(vkvae_commands_timestamps_ns(ctx, &c, ns, 2, &err), err);
    CHECK(ns[1] >= ns[0], "timestamps go backwards: %g then %g", ns[0], ns[1]);
    vkvae_commands_destroy(ctx, &c);

    CHECK_OK(vkvae_buffer_download(ctx, &by, 0, out, n * sizeof(float), &err), err);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        float want = 1.5f * x[i] + y[i];
        if (!(fabsf(out[i] - want) <= 1e-6f * fmaxf(1.0f, fabsf(want))))
            bad++;
    }
    CHECK(bad == 0, "AXPY(n=%u): %u of %u elements differ from the CPU", n, bad, n);
    printf("AXPY(n=%u): %s, %.1f us\n", n, bad ? "FAIL" : "ok", (ns[1] - ns[0]) * 1e-3);
    vkvae_buffer_destroy(ctx, &bx);
    vkvae_buffer_destroy(ctx, &by);
    free(x);
    free(y);
    free(out);
}

int main(void)
{
    vkvae_context *ctx = test_context();
    vkvae_error err = {0};
    vkvae_kernel k;
    CHECK_OK(vkvae_kernel_create(ctx, axpy_spv, sizeof axpy_spv / sizeof *axpy_spv, NULL, 0, "axpy", &k,
                                 &err),
             err);
    CHECK(k.binding_count == 2, "reflected %u bindings, want 2", k.binding_count);
    CHECK(k.local_size[0] == 64 && k.local_size[1] == 1, "reflected local size %ux%u",
          k.local_size[0], k.local_size[1]);
    static const uint32_t sizes[] = {1, 3, 17, 64, 129, 100003};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes && !test_failures; i++)
        run_case(ctx, &k, sizes[i]);
    vkvae_kernel_destroy(ctx, &k);
    return test_finish(ctx);
}
