/* Philox on the GPU equals Philox on the CPU: shaders/test_philox.comp
 * writes, per element, the four Philox words, the bits of the uniform and of
 * the normal; the words and the uniform must equal runtime/plan/philox.h bit for
 * bit (so every backend draws the same ε, masks and shuffles), the normal
 * within the device's log/cos accuracy. Element 0 with zero key and counter
 * is Random123's published known answer.
 */
#include <math.h>
#include <stdint.h>

#include "plan/philox.h"
#include "plan/plan.h"
#include "test_philox.spv.h"
#include "test_util.h"

static void run(vkvae_context *ctx, const vkvae_kernel *k, uint32_t seed, uint32_t stream,
                uint32_t step, uint32_t count)
{
    vkvae_error err = {0};
    vkvae_buffer out;
    CHECK_OK(vkvae_buffer_create(ctx, 6ull * count * 4, &out, &err), err);
    struct { uint32_t seed, stream, step, count; } push = {seed, stream, step, count};
    vkvae_commands c;
    CHECK_OK(vkvae_commands_begin(ctx, 1, 0, &c, &err), err);
    vkvae_binding b = {.buffer = &out};
    CHECK_OK(vkvae_commands_dispatch(ctx, &c, k, &b, 1, &push, sizeof push, (count + 63) / 64, 1,
                                     1, &err),
             err);
    CHECK_OK(vkvae_commands_submit_wait(ctx, &c, &err), err);
    vkvae_commands_destroy(ctx, &c);
    uint32_t *w = malloc(6ull * count * 4);
    CHECK_OK(vkvae_buffer_download(ctx, &out, 0, w, 6ull * count * 4, &err), err);
    uint32_t word_bad = 0, uniform_bad = 0, normal_bad = 0;
    double max_normal = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t want[4];
        vkvae_rand_words(want, seed, stream, step, i);
        word_bad += memcmp(want, &w[6 * i], sizeof want) != 0;
        float u = vkvae_rand_uniform(seed, stream, step, i), gu, gn;
        memcpy(&gu, &w[6 * i + 4], 4);
        memcpy(&gn, &w[6 * i + 5], 4);
        uniform_bad += memcmp(&u, &gu, 4) != 0;
        double n = vkvae_rand_normal_f64(seed, stream, step, i);
        double d = fabs(gn - n);
        max_normal = fmax(max_normal, d);
        normal_bad += !(d <= 1e-5 * fmax(1.0, fabs(n)));
    }
    CHECK(word_bad == 0 && uniform_bad == 0 && normal_bad == 0,
          "seed=%u stream=%u step=%u: %u words, %u uniforms, %u normals differ", seed, stream,
          step, word_bad, uniform_bad, normal_bad);
    if (seed == 0 && stream == 0 && step == 0)
        CHECK(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu &&
                  w[3] == 0x9b00dbd8u,
              "Random123 known answer: %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
    printf("PHILOX(seed=%u,stream=%u,step=%u,count=%u): %s, normal max abs diff %.1e\n", seed,
           stream, step, count, word_bad + uniform_bad + normal_bad ? "FAIL" : "ok", max_normal);
    free(w);
    vkvae_buffer_destroy(ctx, &out);
}

int main(void)
{
    vkvae_context *ctx = test_context();
    vkvae_error err = {0};
    vkvae_kernel k;
    CHECK_OK(vkvae_kernel_create(ctx, test_philox_spv, sizeof test_philox_spv / 4, NULL, 0,
                                 "test_philox", &k, &err),
             err);
    run(ctx, &k, 0, 0, 0, 1);
    run(ctx, &k, 1, VKVAE_STREAM_EPS, 0, 100003);
    run(ctx, &k, 0xdeadbeefu, VKVAE_STREAM_SHUFFLE, 12345, 4099);
    vkvae_kernel_destroy(ctx, &k);
    return test_finish(ctx);
}
