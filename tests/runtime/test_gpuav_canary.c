/* Proves GPU-assisted validation is alive on our device: a compute shader
 * that writes one element past its storage buffer descriptor's range must
 * be reported by VK_LAYER_KHRONOS_validation with GPU-AV enabled
 * (VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT, asked for through the
 * layer's VK_LAYER_ENABLES setting, on top of the synchronization
 * validation vkvae enables itself), while the same write to the last word
 * in bounds is not. The layer (1.3.239) checks an access against the whole
 * buffer's size, not the descriptor's range, so the stray write is one word
 * past the end of the buffer; the instrumented shader skips it, and
 * lavapipe bounds-checks storage buffers as well, so nothing is written.
 *
 * Exit 77 (skip) only when the layer itself says GPU-AV cannot run on this
 * device; the reason it gives is printed.
 */
#include <stdint.h>

#include "oob_write.spv.h"
#include "test_util.h"

enum { WORDS = 1024 };

static unsigned oob_messages, disabled_messages;
static char disabled_reason[512];

static void on_message(const char *message, void *user)
{
    (void)user;
    test_messages++;
    if (strstr(message, "out of bounds"))
        oob_messages++;
    if ((strstr(message, "GPU-Assisted") || strstr(message, "GPU-AV")) &&
        (strstr(message, "disabled") || strstr(message, "not supported") ||
         strstr(message, "unable"))) {
        disabled_messages++;
        snprintf(disabled_reason, sizeof disabled_reason, "%s", message);
    }
    fprintf(stderr, "  message: %s\n", message);
}

static unsigned run(vkvae_context *ctx, const vkvae_kernel *k, vkvae_buffer *buf, uint32_t index)
{
    vkvae_error err = {0};
    unsigned before = test_messages;
    vkvae_commands c;
    CHECK_OK(vkvae_commands_begin(ctx, 1, 0, &c, &err), err);
    vkvae_binding b = {.buffer = buf, .offset = 0, .range = 0}; /* the whole buffer */
    CHECK_OK(vkvae_commands_dispatch(ctx, &c, k, &b, 1, &index, sizeof index, 1, 1, 1, &err), err);
    CHECK_OK(vkvae_commands_submit_wait(ctx, &c, &err), err);
    vkvae_commands_destroy(ctx, &c);
    return test_messages - before;
}

int main(void)
{
    setenv("VK_LAYER_ENABLES", "VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT", 1);
    vkvae_error err = {0};
    vkvae_context *ctx = NULL;
    vkvae_context_desc desc = {
        .validation = 1,
        .quiet_validation = 1,
        .on_validation_message = on_message,
    };
    if (vkvae_context_create(&desc, &ctx, &err)) {
        fprintf(stderr, "no Vulkan device: %s\n", err.message);
        const char *allow = getenv("VKVAE_ALLOW_NO_DEVICE");
        return allow && strcmp(allow, "1") == 0 && err.status == VKVAE_NO_DRIVER ? 77 : 1;
    }
    vkvae_kernel k;
    CHECK_OK(vkvae_kernel_create(ctx, oob_write_spv, sizeof oob_write_spv / sizeof *oob_write_spv,
                                 NULL, 0, "oob_write", &k, &err),
             err);
    vkvae_buffer buf;
    CHECK_OK(vkvae_buffer_create(ctx, WORDS * 4, &buf, &err), err);
    CHECK_OK(vkvae_buffer_fill(ctx, &buf, 0, &err), err);
    unsigned setup = test_messages;
    if (disabled_messages) {
        printf("GPU-assisted validation cannot run on this device: %s\n", disabled_reason);
        vkvae_buffer_destroy(ctx, &buf);
        vkvae_kernel_destroy(ctx, &k);
        vkvae_context_destroy(ctx);
        return 77;
    }
    unsigned in_bounds = run(ctx, &k, &buf, WORDS - 1);
    unsigned oob = run(ctx, &k, &buf, WORDS);
    uint32_t words[WORDS];
    CHECK_OK(vkvae_buffer_download(ctx, &buf, 0, words, sizeof words, &err), err);
    vkvae_buffer_destroy(ctx, &buf);
    vkvae_kernel_destroy(ctx, &k);
    vkvae_context_destroy(ctx);
    CHECK(setup == 0, "%u messages before any dispatch", setup);
    CHECK(words[WORDS - 1] == 0xC0FFEEu, "the in-bounds write did not land (%#x)",
          words[WORDS - 1]);
    CHECK(in_bounds == 0, "the in-bounds write produced %u messages", in_bounds);
    CHECK(oob >= 1 && oob_messages >= 1,
          "the out-of-bounds write produced %u messages (%u name an out-of-bounds access); "
          "GPU-assisted validation is not running",
          oob, oob_messages);
    printf("GPU-AV canary: in bounds %u messages, out of bounds %u\n", in_bounds, oob);
    return test_failures ? 1 : 0;
}
