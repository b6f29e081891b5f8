/* The pipeline cache, kept across runs in $XDG_CACHE_HOME/vkvae (else
 * ~/.cache/vkvae), one file per device (vendor and device ID). A file is trusted
 * only when our own header (magic, length, checksum) and Vulkan's header
 * (version, vendor, device, pipelineCacheUUID) both match this device;
 * anything else (corrupt, truncated, another GPU's or driver's) is ignored
 * and replaced. Saving writes a temporary file, fsyncs and renames it, so a
 * crash never leaves a torn cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vulkan/context.h"

static const char cache_magic[8] = {'V', 'K', 'V', 'A', 'E', 'P', 'C', '1'};

typedef struct cache_header {
    char magic[8];
    uint64_t bytes;      /* of the Vulkan data that follows */
    uint64_t checksum;   /* FNV-1a of that data */
} cache_header;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int bad = mkdir(path, 0755) != 0 && errno != EEXIST;
        *p = '/';
        if (bad)
            return -1;
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int cache_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, size, "%s/vkvae", xdg);
    else if (home && *home)
        n = snprintf(out, size, "%s/.cache/vkvae", home);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Vulkan's own header: the data must come from this very device and driver. */
static int vulkan_header_matches(const vkvae_context *ctx, const unsigned char *d, size_t n)
{
    uint32_t length, version, vendor, device;
    if (n < 16 + VK_UUID_SIZE)
        return 0;
    memcpy(&length, d, 4);
    memcpy(&version, d + 4, 4);
    memcpy(&vendor, d + 8, 4);
    memcpy(&device, d + 12, 4);
    return length >= 16 + VK_UUID_SIZE && length <= n &&
           version == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && vendor == ctx->props.vendorID &&
           device == ctx->props.deviceID &&
           memcmp(d + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

/* Reads and checks the cache file; returns malloc'd Vulkan data or NULL. */
static unsigned char *load(const vkvae_context *ctx, size_t *bytes)
{
    FILE *f = fopen(ctx->pipeline_cache_path, "rb");
    if (!f)
        return NULL;
    cache_header h;
    unsigned char *data = NULL;
    if (fread(&h, sizeof h, 1, f) == 1 && memcmp(h.magic, cache_magic, 8) == 0 &&
        h.bytes > 0 && h.bytes < (256u << 20)) {
        data = malloc(h.bytes);
        int extra = 0;
        if (data && fread(data, 1, h.bytes, f) == h.bytes)
            extra = fgetc(f) != EOF;
        else
            extra = 1;
        if (extra || fnv1a(data, h.bytes) != h.checksum ||
            !vulkan_header_matches(ctx, data, h.bytes)) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    if (data)
        *bytes = h.bytes;
    return data;
}

vkvae_status vkvae_pipeline_cache_open(vkvae_context *ctx, vkvae_error *err)
{
    char dir[900];
    size_t bytes = 0;
    unsigned char *data = NULL;
    ctx->pipeline_cache_path[0] = '\0';
    if (cache_dir(dir, sizeof dir) == 0) {
        snprintf(ctx->pipeline_cache_path, sizeof ctx->pipeline_cache_path,
                 "%s/pipelines-%04x-%04x.bin", dir, ctx->props.vendorID, ctx->props.deviceID);
        data = load(ctx, &bytes);
    }
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = data ? bytes : 0,
        .pInitialData = data,
    };
    VkResult r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    free(data);
    VKVAE_VK_CHECK(err, r);
    return VKVAE_OK;
}

static void save(const vkvae_context *ctx, const unsigned char *data, size_t bytes)
{
    char dir[1024], tmp[1100];
    snprintf(dir, sizeof dir, "%s", ctx->pipeline_cache_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (mkdirs(dir) != 0)
        return; /* a cache is an optimisation: no cache, no error */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", ctx->pipeline_cache_path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    cache_header h;
    memcpy(h.magic, cache_magic, 8);
    h.bytes = bytes;
    h.checksum = fnv1a(data, bytes);
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, bytes, f) == bytes &&
             fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, ctx->pipeline_cache_path) != 0)
        remove(tmp);
}

void vkvae_pipeline_cache_close(vkvae_context *ctx)
{
    if (!ctx->pipeline_cache)
        return;
    size_t bytes = 0;
    if (ctx->pipeline_cache_path[0] &&
        ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &bytes, NULL) ==
            VK_SUCCESS &&
        bytes > 0) {
        unsigned char *data = malloc(bytes);
        size_t old_bytes = 0;
        unsigned char *old = load(ctx, &old_bytes);
        if (data &&
            ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &bytes, data) ==
                VK_SUCCESS &&
            (!old || old_bytes != bytes || memcmp(old, data, bytes) != 0))
            save(ctx, data, bytes);
        free(old);
        free(data);
    }
    ctx->vk.vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}
