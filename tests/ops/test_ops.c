/* Every op's GPU kernel against the CPU reference (session/op_parity.h: the
 * cases and the check, shared with `vkvae selftest`, which runs its quick
 * set): for each case, fresh random inputs (never zeros), the outputs
 * poisoned with NaN before the GPU runs (an unwritten element then fails),
 * the kernel run in fp32 on the device and the CPU op in fp64 on the same
 * inputs, and every binding the op writes compared by normalized mean
 * squared error (fp32: under 1e-7; fp16 products, -p fp16: under 1e-6 of
 * their terms' size, every matmul-shaped case on the fp16 build) and max
 * abs error. Shapes are odd on purpose (1, 3, 20, 129): no tile size
 * divides them; convolutions get their own shapes (strides, paddings,
 * narrow and wide channel counts, out_pad); IWAE ops run with k past one
 * workgroup and at 5000; long narrow products run split along their depth
 * on the shared-memory builds (split-K).
 *
 *   test_ops [-o OP[,OP...]] [-p fp16] [-s N] [-v]
 *     -o     the cases of these ops (names as in ops.def)
 *     -p     fp16: on a VKVAE_PRECISION_FP16 context
 *     -s N   about one case in N (tests/limits; $VKVAE_OPS_SAMPLE multiplies
 *            it: the sanitized CI run, where the CPU oracle runs 4x slower)
 *     -v     every case, not only the failures
 */
#include <math.h>

#include "gpu/kernels.h"
#include "plan/op_info.h"
#include "session/op_parity.h"
#include "test_util.h"

enum { MAX_CASES = 1024 };

int main(int argc, char **argv)
{
    const char *only = NULL;
    int verbose = 0;
    uint32_t sample_every = 1;
    vkvae_precision precision = VKVAE_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc && strcmp(argv[i + 1], "fp16") == 0)
            precision = VKVAE_PRECISION_FP16, i++;
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            sample_every = (uint32_t)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: test_ops [-o OP[,OP...]] [-p fp16] [-s N] [-v]\n");
            return 2;
        }
    }
    const char *env = getenv("VKVAE_OPS_SAMPLE");
    if (env && atoi(env) > 1)
        sample_every *= (uint32_t)atoi(env);

    vkvae_context *ctx = test_context_desc(0, precision);
    static vkvae_parity_case cases[MAX_CASES];
    int ran = 0, passed = 0, split_ran = 0, shared_mm_ran = 0, fp16_cases = 0;
    int fp16_count[VKVAE_OP_COUNT] = {0};
    double fp16_worst[VKVAE_OP_COUNT] = {0};
    uint32_t index = 0;
    for (int op = 0; op < VKVAE_OP_COUNT; op++) {
        size_t words;
        if (!vkvae_op_spirv((vkvae_op)op, &words))
            continue; /* no GPU kernel */
        if (only && !vkvae_parity_listed(only, vkvae_op_name((vkvae_op)op)))
            continue;
        uint32_t n = vkvae_parity_cases((vkvae_op)op, 0, cases, MAX_CASES);
        CHECK(n > 0 && n <= MAX_CASES, "%s: %u cases (0: a case breaks the op's contract)",
              vkvae_op_name((vkvae_op)op), n);
        if (n > MAX_CASES)
            n = MAX_CASES;
        for (uint32_t i = 0; i < n; i++) {
            /* -s: about one in N, picked by a hash of the index so that no
             * loop's pattern (a stride, a padding, a size) is left out whole */
            if (sample_every > 1 && ((index++ * 2654435761u) >> 16) % sample_every)
                continue;
            vkvae_error err = {0};
            vkvae_parity_result r;
            vkvae_status s = vkvae_parity_run(ctx, &cases[i], 0, &r, &err);
            CHECK_OK(s, err);
            char id[160];
            vkvae_parity_describe(&cases[i], id, sizeof id);
            int ok = !s && r.pass;
            if (verbose || !ok)
                printf("%s: %s %s\n", id, ok ? "ok" : "FAIL", r.detail);
            vkvae_kernel_build build = vkvae_op_build(ctx, (vkvae_op)op, &cases[i].p);
            ran++;
            passed += ok;
            split_ran += r.split;
            shared_mm_ran += build == VKVAE_BUILD_TILED || build == VKVAE_BUILD_FP16;
            if (r.fp16) {
                fp16_cases++;
                fp16_count[op]++;
                fp16_worst[op] = fmax(fp16_worst[op], r.worst_nmse);
            }
        }
    }
    printf("%d of %d op cases pass (%d split along their depth)\n", passed, ran, split_ran);
    CHECK(ran > 0, "no case ran (filter '%s')", only ? only : "");
    CHECK(shared_mm_ran == 0 || split_ran > 0,
          "%d case(s) ran a shared-memory product build, none split along its depth",
          shared_mm_ran);
    if (precision == VKVAE_PRECISION_FP16) {
        printf("%d case(s) on fp16 builds\n", fp16_cases);
        CHECK(fp16_cases > 0, "-p fp16: no case ran an fp16 build");
        for (int op = 0; op < VKVAE_OP_COUNT; op++)
            CHECK(fp16_count[op] == 0 || fp16_worst[op] > 1e-10,
                  "%s: its fp16 cases are as exact as fp32's (worst nmse %.1e): did the fp16 "
                  "build run?", vkvae_op_name((vkvae_op)op), fp16_worst[op]);
    }
    CHECK(passed == ran, "%d case(s) failed", ran - passed);
    return test_finish(ctx);
}
