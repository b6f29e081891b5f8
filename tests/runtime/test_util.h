/* Shared scaffolding of the runtime tests: a context with validation (and
 * synchronization validation) forced on, checks that count failures, and a
 * finish that fails the test on any validation message, including those
 * raised while the context is torn down (leaks).
 *
 * A test that needs a device fails when none is found; only
 * VKVAE_ALLOW_NO_DEVICE=1 turns a missing driver into a skip (exit 77).
 */
#ifndef VKVAE_TEST_UTIL_H
#define VKVAE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/context.h"

static int test_failures;
static unsigned test_messages;

#define CHECK(cond, ...)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            test_failures++;                                                         \
        }                                                                            \
    } while (0)

#define CHECK_OK(status, err) CHECK((status) == VKVAE_OK, "%s", (err).message)

static inline void test_on_message(const char *message, void *user)
{
    (void)message;
    (void)user;
    test_messages++;
}

static inline vkvae_context *test_context_desc(int quiet, vkvae_precision precision)
{
    vkvae_error err = {0};
    vkvae_context *ctx = NULL;
    vkvae_context_desc desc = {
        .validation = 1,
        .quiet_validation = quiet,
        .on_validation_message = test_on_message,
        .precision = precision,
    };
    if (vkvae_context_create(&desc, &ctx, &err)) {
        if (precision != VKVAE_PRECISION_FP32 && err.status == VKVAE_UNSUPPORTED &&
            strstr(err.message, "shaderFloat16")) {
            fprintf(stderr, "skipped: %s\n", err.message); /* no fp16 on this device */
            exit(77);
        }
        const char *allow = getenv("VKVAE_ALLOW_NO_DEVICE");
        fprintf(stderr, "no Vulkan device: %s\n", err.message);
        exit(allow && strcmp(allow, "1") == 0 && err.status == VKVAE_NO_DRIVER ? 77 : 1);
    }
    return ctx;
}

static inline vkvae_context *test_context_quiet(int quiet)
{
    return test_context_desc(quiet, VKVAE_PRECISION_FP32);
}

static inline vkvae_context *test_context(void)
{
    return test_context_quiet(0);
}

/* Destroys ctx and returns the test's exit status: 1 on any failed check or
 * any validation message. */
static inline int test_finish(vkvae_context *ctx)
{
    vkvae_context_destroy(ctx);
    CHECK(test_messages == 0, "%u validation messages", test_messages);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}

/* A labelled data set of rows 12x12 grey images for the API's training
 * tests: a bright band whose place is the label (r % 3), the rest dim. */
static inline vkvae_data test_blob_data(uint8_t *images, uint32_t *labels, uint32_t rows)
{
    for (uint32_t r = 0; r < rows; r++) {
        labels[r] = r % 3;
        for (uint32_t p = 0; p < 144; p++)
            images[r * 144 + p] =
                (uint8_t)((p / 12) / 4 == labels[r] ? 200 + (r * 7 + p) % 56 : (r + p) % 40);
    }
    return (vkvae_data){.images = images, .labels = labels, .count = rows, .channels = 1,
                        .height = 12, .width = 12};
}

#endif
