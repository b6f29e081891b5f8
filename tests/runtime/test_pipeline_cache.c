/* The pipeline cache: a corrupt file and another device's file are ignored
 * (the context still works, with no validation message), and a good cache
 * is written back whole, with our header, on teardown.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axpy.spv.h"
#include "test_util.h"

static void make_kernel(vkvae_context *ctx)
{
    vkvae_error err = {0};
    vkvae_kernel k;
    CHECK_OK(vkvae_kernel_create(ctx, axpy_spv, sizeof axpy_spv / sizeof *axpy_spv, NULL, 0, "axpy", &k,
                                 &err),
             err);
    vkvae_kernel_destroy(ctx, &k);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    const char *cache = getenv("XDG_CACHE_HOME");
    CHECK(cache != NULL, "tests run with XDG_CACHE_HOME set (tests/meson.build)");
    /* A cache folder of this test's own: the suite's holds the pipelines of
     * every test before this one, which a driver may keep in the file it
     * writes back (NVIDIA's does: 14 MB, then this test's 7 KB once the
     * corrupt file was replaced; lavapipe writes only this run's). */
    char own[1024];
    snprintf(own, sizeof own, "%s/pipeline_cache_test_%ld", cache ? cache : "/tmp", (long)getpid());
    setenv("XDG_CACHE_HOME", own, 1);
    char path[1024];

    /* 1. Whatever is there, a run leaves a valid cache behind. */
    vkvae_context *ctx = test_context();
    snprintf(path, sizeof path, "%s", ctx->pipeline_cache_path);
    make_kernel(ctx);
    vkvae_context_destroy(ctx);
    long good = file_size(path);
    CHECK(good > 32, "cache file %s written (%ld bytes)", path, good);

    /* 2. Garbage in the cache file: ignored, then replaced by a valid one. */
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "open %s", path);
    if (f) {
        fputs("VKVAEPC1 but then nonsense that is not a pipeline cache at all", f);
        fclose(f);
    }
    ctx = test_context();
    make_kernel(ctx);
    vkvae_context_destroy(ctx);
    CHECK(file_size(path) == good, "corrupt cache replaced (%ld bytes, want %ld)",
          file_size(path), good);

    /* 3. A valid file with one flipped byte in the Vulkan data: checksum fails. */
    f = fopen(path, "r+b");
    if (f) {
        fseek(f, 40, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 40, SEEK_SET);
        fputc(c ^ 0xff, f);
        fclose(f);
    }
    ctx = test_context();
    make_kernel(ctx);
    return test_finish(ctx);
}
