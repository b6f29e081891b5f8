/* The limits clamp (runtime/vulkan/limits.c) and the kernel choices that
 * must respect a device's description (runtime/gpu/kernels.c):
 *   - VKVAE_LIMITS=minimum and =mali clamp the description (never raise
 *     it), and the products then take the shared-memory build, the row sum
 *     its plain kernel (no subgroup arithmetic or shuffles);
 *   - an fp16 context on a clamped device is refused, naming the clamp;
 *   - an unknown VKVAE_LIMITS is refused in one line naming it;
 *   - with the description lowered further by hand, below anything the
 *     clamps reach: tiles shrink to fit the shared memory, long grids fold
 *     to the workgroup count, and what cannot fit (a 64-invocation kernel
 *     on a 32-invocation device, a product in 512 bytes) is refused by
 *     vkvae_op_kernel_create naming the limit, where the validation layer
 *     (checking lavapipe's real, larger limits) would say nothing.
 */
#include "gpu/kernels.h"
#include "plan/op_info.h"
#include "test_util.h"

static vkvae_context *context_under(const char *clamp, vkvae_precision precision,
                                    vkvae_error *err)
{
    setenv("VKVAE_LIMITS", clamp, 1);
    vkvae_context *ctx = NULL;
    vkvae_context_desc desc = {
        .validation = 1,
        .on_validation_message = test_on_message,
        .precision = precision,
    };
    if (vkvae_context_create(&desc, &ctx, err))
        return NULL;
    return ctx;
}

/* The unclamped description of the same device, to compare against. */
static vkvae_device_info device_unclamped(void)
{
    vkvae_error err = {0};
    vkvae_context *ctx = context_under("", VKVAE_PRECISION_FP32, &err);
    vkvae_device_info d = {0};
    CHECK(ctx != NULL, "%s", err.message);
    if (ctx) {
        d = ctx->devices[ctx->device_index];
        CHECK(d.limits[0] == 0, "unclamped, yet limits '%s'", d.limits);
        vkvae_context_destroy(ctx);
    }
    return d;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void clamped(const char *clamp, uint32_t invocations, const vkvae_device_info *real)
{
    vkvae_error err = {0};
    vkvae_context *ctx = context_under(clamp, VKVAE_PRECISION_FP32, &err);
    CHECK(ctx != NULL, "VKVAE_LIMITS=%s: %s", clamp, err.message);
    if (!ctx)
        return;
    const vkvae_device_info *d = &ctx->devices[ctx->device_index];
    CHECK(strcmp(d->limits, clamp) == 0, "limits '%s', want '%s'", d->limits, clamp);
    CHECK(d->max_shared_memory == min32(real->max_shared_memory, 16384), "shared %u",
          d->max_shared_memory);
    CHECK(d->max_invocations == min32(real->max_invocations, invocations), "invocations %u",
          d->max_invocations);
    CHECK(d->max_workgroup_size[0] == min32(real->max_workgroup_size[0], invocations) &&
              d->max_workgroup_size[2] == min32(real->max_workgroup_size[2], 64),
          "workgroup size %u x %u x %u", d->max_workgroup_size[0], d->max_workgroup_size[1],
          d->max_workgroup_size[2]);
    for (int i = 0; i < 3; i++)
        CHECK(d->max_workgroup_count[i] == min32(real->max_workgroup_count[i], 65535),
              "workgroup count[%d] %u", i, d->max_workgroup_count[i]);
    CHECK(d->max_push_constants == min32(real->max_push_constants, 128), "push %u",
          d->max_push_constants);
    CHECK(d->max_storage_buffer_range <= 134217728 &&
              d->max_storage_buffer_range <= real->max_storage_buffer_range,
          "storage range %llu", (unsigned long long)d->max_storage_buffer_range);
    CHECK(!d->fp16 && !d->subgroup_arithmetic && !d->subgroup_shuffle,
          "fp16 %d, subgroup arithmetic %d, shuffle %d", d->fp16, d->subgroup_arithmetic,
          d->subgroup_shuffle);
    CHECK(d->subgroup_size == real->subgroup_size, "subgroup size %u, the device's %u",
          d->subgroup_size, real->subgroup_size);

    /* a 256 x 1024 x 256 product and vae_mlp's loss row */
    vkvae_op_params dense = {.n = 256, .in = 1024, .out = 256};
    vkvae_op_params row = {.n = 128, .in = 784};
    CHECK(vkvae_op_build(ctx, VKVAE_OP_DENSE, &dense) == VKVAE_BUILD_TILED, "dense build %d",
          (int)vkvae_op_build(ctx, VKVAE_OP_DENSE, &dense));
    CHECK(vkvae_op_build(ctx, VKVAE_OP_NLL_BERNOULLI_GRAD, &row) == VKVAE_BUILD_PLAIN,
          "nll_bernoulli_grad build %d", (int)vkvae_op_build(ctx, VKVAE_OP_NLL_BERNOULLI_GRAD, &row));
    vkvae_kernel k;
    CHECK_OK(vkvae_op_kernel_create(ctx, VKVAE_OP_DENSE, &dense, &k, &err), err);
    vkvae_kernel_destroy(ctx, &k);
    vkvae_context_destroy(ctx);
}

/* Refused with INTERNAL and a message naming the limit. */
static void refused(vkvae_context *ctx, vkvae_op op, const vkvae_op_params *p, const char *limit)
{
    vkvae_error err = {0};
    vkvae_kernel k;
    vkvae_status s = vkvae_op_kernel_create(ctx, op, p, &k, &err);
    CHECK(s == VKVAE_INTERNAL && strstr(err.message, limit) &&
              strstr(err.message, "VKVAE_LIMITS=minimum"),
          "%s: status %d, '%s' (want INTERNAL naming %s and the clamp)", vkvae_op_name(op),
          (int)s, err.message, limit);
    if (!s)
        vkvae_kernel_destroy(ctx, &k);
}

static void lowered_by_hand(void)
{
    vkvae_error err = {0};
    vkvae_context *ctx = context_under("minimum", VKVAE_PRECISION_FP32, &err);
    CHECK(ctx != NULL, "%s", err.message);
    if (!ctx)
        return;
    vkvae_device_info *d = &ctx->devices[ctx->device_index];
    const vkvae_device_info saved = *d;
    /* 16 x 16 blocks of 128 x 64: enough to fill a GPU, so the tiles are
     * the shared memory's choice alone (a smaller grid takes smaller tiles,
     * split_depth) */
    vkvae_op_params dense = {.n = 2048, .in = 256, .out = 1024};
    vkvae_op_params sig = {.n = 1000, .in = 1000};
    vkvae_op_params conv = {.n = 4, .c_in = 32, .h_in = 20, .w_in = 20, .c_out = 64,
                            .h_out = 18, .w_out = 18, .k = 3, .stride = 1};
    vkvae_kernel k;
    uint32_t g[3];

    /* 16 x 8 blocks, 8 deep: 6 KiB of tiles + the db tree; in 4 KiB the
     * rows per invocation drop to 4 (32-row blocks), and it still builds */
    vkvae_op_groups(ctx, VKVAE_OP_DENSE, &dense, g);
    CHECK(g[1] == 16, "dense on 16 KiB: %u row blocks, want 16 (128 rows each)", g[1]);
    d->max_shared_memory = 4096;
    vkvae_op_groups(ctx, VKVAE_OP_DENSE, &dense, g);
    CHECK(g[1] == 64, "dense on 4 KiB: %u row blocks, want 64 (32 rows each)", g[1]);
    CHECK_OK(vkvae_op_kernel_create(ctx, VKVAE_OP_DENSE, &dense, &k, &err), err);
    vkvae_kernel_destroy(ctx, &k);
    /* in 512 bytes no tile fits: the convolution keeps its plain kernel,
     * the dense op has none and is refused */
    d->max_shared_memory = 512;
    CHECK(vkvae_op_build(ctx, VKVAE_OP_CONV2D, &conv) == VKVAE_BUILD_PLAIN, "conv2d build %d",
          (int)vkvae_op_build(ctx, VKVAE_OP_CONV2D, &conv));
    refused(ctx, VKVAE_OP_DENSE, &dense, "maxComputeSharedMemorySize");
    *d = saved;

    /* a long grid (a million elements) folds to rows of 100 workgroups */
    d->max_workgroup_count[0] = 100;
    vkvae_op_groups(ctx, VKVAE_OP_SIGMOID, &sig, g);
    CHECK(g[0] <= 100 && g[1] > 10, "sigmoid grid %u x %u x %u", g[0], g[1], g[2]);
    CHECK_OK(vkvae_op_kernel_create(ctx, VKVAE_OP_SIGMOID, &sig, &k, &err), err);
    vkvae_kernel_destroy(ctx, &k);
    /* ... and one folded row too many is refused */
    d->max_workgroup_count[1] = 10;
    refused(ctx, VKVAE_OP_SIGMOID, &sig, "maxComputeWorkGroupCount");
    *d = saved;

    /* every kernel has 64 invocations but the subgroup builds */
    d->max_invocations = 32;
    refused(ctx, VKVAE_OP_SIGMOID, &sig, "maxComputeWorkGroupInvocations");
    refused(ctx, VKVAE_OP_DENSE, &dense, "maxComputeWorkGroupInvocations");
    *d = saved;
    d->max_push_constants = 64;
    refused(ctx, VKVAE_OP_SIGMOID, &sig, "maxPushConstantsSize");
    *d = saved;
    vkvae_context_destroy(ctx);
}

int main(void)
{
    vkvae_device_info real = device_unclamped();
    clamped("minimum", 128, &real);
    clamped("mali", 64, &real);
    lowered_by_hand();

    /* fp16 on a clamped device: the context refuses it, naming the clamp */
    vkvae_error err = {0};
    vkvae_context *ctx = context_under("minimum", VKVAE_PRECISION_FP16, &err);
    CHECK(!ctx && err.status == VKVAE_UNSUPPORTED && strstr(err.message, "shaderFloat16") &&
              strstr(err.message, "VKVAE_LIMITS=minimum"),
          "fp16 under VKVAE_LIMITS=minimum: status %d, '%s'", (int)err.status, err.message);
    if (ctx)
        vkvae_context_destroy(ctx);
    /* an unknown clamp: one line naming VKVAE_LIMITS and what it accepts */
    err = (vkvae_error){0};
    ctx = context_under("bogus", VKVAE_PRECISION_FP32, &err);
    CHECK(!ctx && err.status == VKVAE_BAD_INPUT && strstr(err.message, "VKVAE_LIMITS='bogus'") &&
              strstr(err.message, "minimum, mali or discrete") && !strchr(err.message, '\n'),
          "VKVAE_LIMITS=bogus: status %d, '%s'", (int)err.status, err.message);
    if (ctx)
        vkvae_context_destroy(ctx);
    CHECK(test_messages == 0, "%u validation messages", test_messages);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
