/* Device selection (by type preference, index and name substring, and the
 * error that lists the devices) on a synthetic list, then on the real one:
 * a context is created, its chosen device has the described properties, and
 * buffers round-trip through upload and download.
 */
#include "test_util.h"

static void selection_rules(void)
{
    vkvae_device_info d[4] = {0};
    snprintf(d[0].name, sizeof d[0].name, "llvmpipe (LLVM 15)");
    d[0].type = VKVAE_DEVICE_CPU;
    snprintf(d[1].name, sizeof d[1].name, "Intel(R) Iris Xe");
    d[1].type = VKVAE_DEVICE_INTEGRATED;
    snprintf(d[2].name, sizeof d[2].name, "AMD Radeon RX 7600");
    d[2].type = VKVAE_DEVICE_DISCRETE;
    snprintf(d[3].name, sizeof d[3].name, "virtio");
    d[3].type = VKVAE_DEVICE_VIRTUAL;
    vkvae_error err = {0};
    CHECK(vkvae_device_choose(d, 4, NULL, &err) == 2, "discrete first");
    CHECK(vkvae_device_choose(d, 2, "", &err) == 1, "integrated before CPU");
    CHECK(vkvae_device_choose(d, 1, NULL, &err) == 0, "CPU when alone");
    CHECK(vkvae_device_choose(d, 4, "radeon", &err) == 2, "case-insensitive substring");
    CHECK(vkvae_device_choose(d, 4, "LLVM", &err) == 0, "substring");
    CHECK(vkvae_device_choose(d, 4, "1", &err) == 1, "index");
    CHECK(err.status == VKVAE_OK, "no error so far: %s", err.message);
    CHECK(vkvae_device_choose(d, 4, "nosuch", &err) == -1, "no match");
    CHECK(err.status == VKVAE_NO_DEVICE, "status %s", vkvae_status_name(err.status));
    CHECK(strstr(err.message, "'nosuch'") && strstr(err.message, "0: llvmpipe (LLVM 15) (CPU)") &&
              strstr(err.message, "2: AMD Radeon RX 7600 (discrete GPU)"),
          "message lists the devices: %s", err.message);
    vkvae_error err2 = {0};
    CHECK(vkvae_device_choose(d, 4, "4", &err2) == -1 && err2.status == VKVAE_NO_DEVICE,
          "index out of range");
}

static void buffers(vkvae_context *ctx)
{
    vkvae_error err = {0};
    enum { N = 1000 };
    static uint8_t in[N], out[N];
    for (int i = 0; i < N; i++)
        in[i] = (uint8_t)(i * 7 + 1);
    vkvae_buffer b;
    CHECK_OK(vkvae_buffer_create(ctx, N, &b, &err), err);
    CHECK(b.size >= N && b.size % 4 == 0, "size %llu", (unsigned long long)b.size);
    CHECK_OK(vkvae_buffer_upload(ctx, &b, 0, in, N, &err), err);
    CHECK_OK(vkvae_buffer_download(ctx, &b, 0, out, N, &err), err);
    CHECK(memcmp(in, out, N) == 0, "round trip");
    CHECK_OK(vkvae_buffer_download(ctx, &b, 10, out, 20, &err), err);
    CHECK(memcmp(in + 10, out, 20) == 0, "offset round trip");
    vkvae_error e2 = {0};
    CHECK(vkvae_buffer_download(ctx, &b, N - 4, out, 100, &e2) == VKVAE_INTERNAL,
          "out-of-range copy rejected");
    vkvae_buffer_destroy(ctx, &b);

    vkvae_error e3 = {0};
    vkvae_buffer huge;
    CHECK(vkvae_buffer_create(ctx, (VkDeviceSize)1 << 40, &huge, &e3) == VKVAE_OUT_OF_MEMORY,
          "a 1 TiB buffer fails as out of memory: %s", e3.message);
    printf("huge buffer: %s\n", e3.message);
}

/* The precisions: FP32 is every context's; FP16 makes a context exactly
 * where the device reports shaderFloat16 (with it enabled: the validation
 * layer is on and would report its use otherwise, in tests/ops ops_fp16),
 * and fails as UNSUPPORTED naming the device where not; anything else is
 * BAD_INPUT. */
static void precisions(vkvae_context *ctx, const vkvae_device_info *d)
{
    CHECK(vkvae_context_precision(ctx) == VKVAE_PRECISION_FP32, "the default precision is fp32");
    vkvae_context *f16 = NULL;
    vkvae_error err = {0};
    vkvae_status s = vkvae_context_create(
        &(vkvae_context_desc){.validation = 1, .on_validation_message = test_on_message,
                              .precision = VKVAE_PRECISION_FP16},
        &f16, &err);
    if (d->fp16)
        CHECK(s == VKVAE_OK && vkvae_context_precision(f16) == VKVAE_PRECISION_FP16,
              "an fp16 context on a device with fp16: %s", err.message);
    else
        CHECK(s == VKVAE_UNSUPPORTED && !f16 && strstr(err.message, d->name) &&
                  strstr(err.message, "shaderFloat16"),
              "no fp16 context without fp16: %s", err.message);
    printf("fp16 context: %s\n", s ? err.message : "created");
    vkvae_context_destroy(f16);
    vkvae_context *bad = NULL;
    vkvae_error e2 = {0};
    CHECK(vkvae_context_create(&(vkvae_context_desc){.validation = 1, .precision = 7}, &bad,
                               &e2) == VKVAE_BAD_INPUT &&
              !bad && strstr(e2.message, "precision 7"),
          "precision 7 is bad input: %s", e2.message);
}

int main(void)
{
    selection_rules();
    vkvae_context *ctx = test_context();
    uint32_t n = 0;
    const vkvae_device_info *d = vkvae_context_devices(ctx, &n);
    uint32_t i = vkvae_context_device_index(ctx);
    CHECK(n >= 1 && i < n, "%u devices, chose %u", n, i);
    printf("device: %s (%s)\n", d[i].name, vkvae_device_type_name(d[i].type));
    CHECK(d[i].max_shared_memory >= 16384, "shared memory %u", d[i].max_shared_memory);
    CHECK(d[i].subgroup_size >= 1, "subgroup size %u", d[i].subgroup_size);
    CHECK(d[i].heap_count >= 1, "heaps");
    buffers(ctx);
    precisions(ctx, &d[i]);
    return test_finish(ctx);
}
