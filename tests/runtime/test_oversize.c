/* Allocations beyond what the device has fail cleanly: OUT_OF_MEMORY (exit
 * status 5, docs/errors.md) with a one-line message that names the plan,
 * the buffer or the heap and the limit, before anything is allocated, and
 * nothing leaks (the validation layer reports leaked objects at teardown,
 * which fails the test; the sanitized suite adds LeakSanitizer). Three ways:
 * one buffer beyond maxStorageBufferRange (alone, and inside a plan), and a
 * plan whose buffers each fit but together exceed the largest heap.
 */
#include <inttypes.h>

#include "gpu/gpu_plan.h"
#include "test_util.h"

static void expect_oom(vkvae_context *ctx, const vkvae_plan *plan, const char *want1,
                       const char *want2)
{
    vkvae_error err = {0};
    vkvae_gpu_plan *g = (vkvae_gpu_plan *)1;
    vkvae_status s = vkvae_gpu_plan_create(ctx, plan, &g, &err);
    CHECK(s == VKVAE_OUT_OF_MEMORY && err.status == VKVAE_OUT_OF_MEMORY,
          "plan %s: status %d (%s), want OUT_OF_MEMORY", plan->model, (int)s, err.message);
    CHECK(g == NULL, "plan %s: a failed create left a plan behind", plan->model);
    CHECK(strstr(err.message, want1) && strstr(err.message, want2) && !strchr(err.message, '\n'),
          "plan %s: message '%s' lacks '%s' or '%s' or is not one line", plan->model,
          err.message, want1, want2);
    CHECK(vkvae_status_exit_code(s) == 5, "OUT_OF_MEMORY exits %d", vkvae_status_exit_code(s));
    printf("%s: %s\n", plan->model, err.message);
    vkvae_gpu_plan_destroy(g);
}

int main(void)
{
    vkvae_context *ctx = test_context();
    uint32_t n = 0;
    const vkvae_device_info *d = &vkvae_context_devices(ctx, &n)[vkvae_context_device_index(ctx)];
    uint64_t range = d->max_storage_buffer_range & ~(uint64_t)3, heap = 0;
    for (uint32_t h = 0; h < d->heap_count; h++)
        if (d->heap_device_local[h] && d->heap_size[h] > heap)
            heap = d->heap_size[h];
    printf("device %s: maxStorageBufferRange %" PRIu64 ", largest device-local heap %" PRIu64 "\n",
           d->name, (uint64_t)d->max_storage_buffer_range, heap);

    /* A single buffer: the runtime's own check. */
    vkvae_error e1 = {0};
    vkvae_buffer huge;
    CHECK(vkvae_buffer_create(ctx, range + 4, &huge, &e1) == VKVAE_OUT_OF_MEMORY &&
              strstr(e1.message, "maxStorageBufferRange"),
          "a buffer past maxStorageBufferRange: %s", e1.message);

    /* A plan with a small buffer, then one too large for a descriptor. */
    vkvae_buffer_desc one[] = {
        {"small", VKVAE_ROLE_PARAM, 1024},
        {"too_big", VKVAE_ROLE_ACTIVATION, range + 4},
    };
    vkvae_plan wide = {.model = "oversize_buffer", .batch = 1, .n_buffers = 2, .buffers = one};
    expect_oom(ctx, &wide, "buffer 'too_big'", "maxStorageBufferRange");

    /* Buffers that each fit, together more than the largest heap. */
    CHECK(heap > 0, "no device-local heap");
    uint64_t count = heap / range + 1;
    vkvae_buffer_desc *many = calloc(count, sizeof *many);
    for (uint64_t i = 0; i < count; i++)
        many[i] = (vkvae_buffer_desc){"act", VKVAE_ROLE_ACTIVATION, range};
    vkvae_plan deep = {.model = "oversize_heap", .batch = 1, .n_buffers = (uint32_t)count,
                       .buffers = many};
    expect_oom(ctx, &deep, "oversize_heap' needs", "largest memory heap");
    free(many);
    return test_finish(ctx);
}
