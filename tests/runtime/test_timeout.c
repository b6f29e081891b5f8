/* Waits on the GPU are bounded: with a 1 ns timeout, waiting for a large
 * recording (four axpy dispatches over 4 M floats: tens of milliseconds on
 * lavapipe) fails
 * with TIMEOUT (exit status 7) and a one-line message instead of blocking;
 * waiting again with the default timeout succeeds and the result is right;
 * the context then tears down cleanly (bounded drain, no leak, no
 * validation message).
 */
#include <math.h>
#include <stdint.h>

#include "axpy.spv.h"
#include "test_util.h"

enum { N = 65535 * 64, REPEAT = 4 }; /* maxComputeWorkGroupCount is 65535 */

int main(void)
{
    vkvae_context *ctx = test_context();
    vkvae_error err = {0};
    vkvae_kernel k;
    CHECK_OK(vkvae_kernel_create(ctx, axpy_spv, sizeof axpy_spv / sizeof *axpy_spv, NULL, 0,
                                 "axpy", &k, &err),
             err);
    vkvae_buffer bx, by;
    CHECK_OK(vkvae_buffer_create(ctx, N * sizeof(float), &bx, &err), err);
    CHECK_OK(vkvae_buffer_create(ctx, N * sizeof(float), &by, &err), err);
    CHECK_OK(vkvae_buffer_fill(ctx, &bx, 0x3f800000u, &err), err); /* 1.0f */
    CHECK_OK(vkvae_buffer_fill(ctx, &by, 0x40000000u, &err), err); /* 2.0f */

    struct { float a; uint32_t n; } push = {3.0f, N};
    vkvae_commands c;
    CHECK_OK(vkvae_commands_begin(ctx, REPEAT, 0, &c, &err), err);
    vkvae_binding b[2] = {{.buffer = &bx}, {.buffer = &by}};
    for (int r = 0; r < REPEAT; r++) {
        if (r)
            vkvae_commands_barrier(ctx, &c);
        CHECK_OK(vkvae_commands_dispatch(ctx, &c, &k, b, 2, &push, sizeof push, N / 64, 1, 1,
                                         &err),
                 err);
    }
    uint64_t saved = ctx->timeout_ns;
    ctx->timeout_ns = 1;
    vkvae_error terr = {0};
    vkvae_status s = vkvae_commands_submit_wait(ctx, &c, &terr);
    ctx->timeout_ns = saved;
    CHECK(s == VKVAE_TIMEOUT && vkvae_status_exit_code(s) == 7 &&
              strstr(terr.message, "did not finish") && !strchr(terr.message, '\n'),
          "a 1 ns wait gave status %d: %s", (int)s, terr.message);
    printf("1 ns wait: %s\n", terr.message);
    CHECK_OK(vkvae_commands_wait(ctx, &c, &err), err);
    vkvae_commands_destroy(ctx, &c);

    float *y = malloc(N * sizeof *y);
    CHECK_OK(vkvae_buffer_download(ctx, &by, 0, y, N * sizeof *y, &err), err);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < N; i++)
        bad += y[i] != 2.0f + REPEAT * 3.0f;
    CHECK(bad == 0, "%u of %u elements are not 2+%d*3", bad, N, REPEAT);
    free(y);
    vkvae_buffer_destroy(ctx, &bx);
    vkvae_buffer_destroy(ctx, &by);
    vkvae_kernel_destroy(ctx, &k);
    return test_finish(ctx);
}
