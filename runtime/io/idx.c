/* IDX reader. An IDX file is a 4-byte big-endian magic 0x0000TTDD (TT the
 * element type, DD the number of dimensions), DD big-endian u32 dimensions,
 * then exactly the product of the dimensions in elements. We accept unsigned
 * bytes (TT = 0x08) with 1 dimension (labels), 3 (grey images N x H x W) or
 * 4 (images of channels, N x C x H x W: NCHW, the plans' layout), through zlib's
 * gz* functions, which read gzip streams and pass raw files through, so the
 * same code serves both. Invariants: a loaded vkvae_idx holds exactly
 * count*channels*rows*cols bytes, which fit in size_t, and no dimension is zero; the
 * buffer grows as data arrives, so a header that claims gigabytes over a
 * short file fails on the short read rather than on a huge allocation. */
#include "io/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FIRST_CHUNK ((size_t)1 << 24)

static const char *type_name(unsigned t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

/* zlib's message without the "path: " it puts in front. */
static const char *gz_message(gzFile gz, const char *path, int *zerr)
{
    const char *msg = gzerror(gz, zerr);
    size_t n = strlen(path);
    return strncmp(msg, path, n) == 0 && msg[n] == ':' ? msg + n + 2 : msg;
}

/* Reads up to n bytes; returns the count read, or -1 with err set. */
static long long gz_read_some(gzFile gz, const char *path, uint64_t offset, void *buf,
                              size_t n, vkvae_error *err)
{
    size_t done = 0;
    int zerr;
    while (done < n) {
        unsigned want = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int got = gzread(gz, (char *)buf + done, want);
        if (got < 0) {
            const char *msg = gz_message(gz, path, &zerr);
            vkvae_fail(err, zerr == Z_ERRNO ? VKVAE_IO : VKVAE_BAD_INPUT,
                       "%s: read failed at %sbyte %llu: %s", path,
                       gzdirect(gz) ? "" : "uncompressed ", (unsigned long long)(offset + done),
                       zerr == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (got == 0) {
            /* zlib reports a truncated gzip stream as a sticky error (set
             * when its input runs dry), not as end of file. */
            const char *msg = gz_message(gz, path, &zerr);
            if (zerr != Z_OK && zerr != Z_STREAM_END) {
                vkvae_fail(err, VKVAE_BAD_INPUT, "%s: gzip stream broken after uncompressed "
                           "byte %llu: %s", path, (unsigned long long)(offset + done), msg);
                return -1;
            }
            break;
        }
        done += (size_t)got;
    }
    return (long long)done;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static vkvae_status load(vkvae_idx *out, gzFile gz, const char *path, vkvae_error *err)
{
    unsigned char head[20]; /* the magic and up to 4 dimensions */
    long long got = gz_read_some(gz, path, 0, head, 4, err);
    if (got < 0)
        return VKVAE_BAD_INPUT;
    if (got < 4)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: file is %lld bytes, too short for the "
                          "4-byte IDX magic", path, got);
    uint32_t magic = be32(head);
    unsigned type = magic >> 8 & 0xFF, ndim = magic & 0xFF;
    if (magic >> 16 != 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: bad magic 0x%08X at byte 0: an IDX "
                          "file starts with two zero bytes", path, (unsigned)magic);
    if (type != 0x08)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: magic 0x%08X at byte 0: element type "
                          "0x%02X (%s) is not supported, only 0x08 (unsigned byte)",
                          path, (unsigned)magic, type, type_name(type));
    if (ndim != 1 && ndim != 3 && ndim != 4)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: magic 0x%08X at byte 0: %u dimensions "
                          "not supported, only 1 (labels, 0x00000801), 3 (images, "
                          "0x00000803) or 4 (images with channels, 0x00000804)", path,
                          (unsigned)magic, ndim);
    got = gz_read_some(gz, path, 4, head + 4, 4 * ndim, err);
    if (got < 0)
        return VKVAE_BAD_INPUT;
    if (got < 4 * ndim)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: truncated header: %u dimensions need "
                          "%u bytes, file ends at byte %lld", path, ndim, 4 + 4 * ndim,
                          4 + got);
    uint32_t dims[4] = {1, 1, 1, 1};
    uint64_t size = 1;
    for (unsigned i = 0; i < ndim; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        if (dims[i] == 0)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: dimension %u (byte %u) is 0", path,
                              i, 4 + 4 * i);
        if (size > SIZE_MAX / dims[i])
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: dimensions overflow: the product up "
                              "to dimension %u (byte %u) exceeds %zu bytes", path, i,
                              4 + 4 * i, (size_t)SIZE_MAX);
        size *= dims[i];
    }
    const uint64_t start = 4 + 4 * ndim;
    char shape[64];
    if (ndim == 4)
        snprintf(shape, sizeof shape, "%u images of %ux%ux%u", (unsigned)dims[0],
                 (unsigned)dims[1], (unsigned)dims[2], (unsigned)dims[3]);
    else if (ndim == 3)
        snprintf(shape, sizeof shape, "%ux%ux%u images", (unsigned)dims[0],
                 (unsigned)dims[1], (unsigned)dims[2]);
    else
        snprintf(shape, sizeof shape, "%u labels", (unsigned)dims[0]);

    size_t cap = size < FIRST_CHUNK ? (size_t)size : FIRST_CHUNK, have = 0;
    uint8_t *data = malloc(cap);
    if (!data)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %zu bytes", path, cap);
    while (have < size) {
        if (have == cap) {
            size_t next = cap > size / 2 ? (size_t)size : cap * 2;
            uint8_t *grown = realloc(data, next);
            if (!grown) {
                free(data);
                return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %zu "
                                  "bytes (%s)", path, next, shape);
            }
            data = grown;
            cap = next;
        }
        got = gz_read_some(gz, path, start + have, data + have, cap - have, err);
        if (got < 0) {
            free(data);
            return VKVAE_BAD_INPUT;
        }
        have += (size_t)got;
        if (have < cap)
            break;
    }
    if (have < size) {
        free(data);
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: truncated: header declares %s (%llu "
                          "bytes from byte %llu), data ends at byte %llu", path, shape,
                          (unsigned long long)size, (unsigned long long)start,
                          (unsigned long long)(start + have));
    }
    unsigned char extra[4096];
    long long more = 0;
    do {
        got = gz_read_some(gz, path, start + size + more, extra, sizeof extra, err);
        if (got < 0) {
            free(data);
            return VKVAE_BAD_INPUT;
        }
        more += got;
    } while (got == (long long)sizeof extra && more < (1ll << 30));
    if (more > 0) {
        free(data);
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: over-long: %lld%s bytes after the %s "
                          "the header declares (data should end at byte %llu)", path, more,
                          more >= (1ll << 30) ? "+" : "", shape,
                          (unsigned long long)(start + size));
    }
    size_t n = strlen(path);
    out->path = malloc(n + 1);
    if (!out->path) {
        free(data);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    memcpy(out->path, path, n + 1);
    out->ndim = ndim;
    out->count = dims[0];
    out->channels = ndim == 4 ? dims[1] : 1;
    out->rows = dims[ndim == 4 ? 2 : 1];
    out->cols = dims[ndim == 4 ? 3 : 2];
    out->data = data;
    return VKVAE_OK;
}

vkvae_status vkvae_idx_load(vkvae_idx *out, const char *path, vkvae_error *err)
{
    *out = (vkvae_idx){0};
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(probe);
    /* gzopen reads gzip streams and, transparently, raw files. */
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1u << 17);
    vkvae_status st = load(out, gz, path, err);
    gzclose(gz);
    return st;
}

void vkvae_idx_destroy(vkvae_idx *idx)
{
    free(idx->path);
    free(idx->data);
    *idx = (vkvae_idx){0};
}

vkvae_status vkvae_idx_check_pair(const vkvae_idx *images, const vkvae_idx *labels,
                                  uint32_t classes, vkvae_error *err)
{
    if (images->ndim != 3 && images->ndim != 4)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: expected an image file (3 or 4 "
                          "dimensions, magic 0x00000803 or 0x00000804), got %u dimension(s)",
                          images->path, (unsigned)images->ndim);
    if (labels->ndim != 1)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: expected a label file (1 dimension, "
                          "magic 0x00000801), got %u dimensions", labels->path,
                          (unsigned)labels->ndim);
    if (images->count != labels->count)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: label count mismatch: %u labels, but "
                          "%s has %u images", labels->path, (unsigned)labels->count,
                          images->path, (unsigned)images->count);
    for (uint32_t i = 0; classes && i < labels->count; i++)
        if (labels->data[i] >= classes)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: label %u at byte %u is %u, not below "
                              "the class count %u", labels->path, (unsigned)i,
                              (unsigned)(8 + i), labels->data[i], (unsigned)classes);
    return VKVAE_OK;
}

/* Loads dir/name, or dir/name.gz when there is no raw file. */
static vkvae_status load_named(vkvae_idx *out, const char *dir, const char *name,
                               vkvae_error *err)
{
    size_t n = strlen(dir) + strlen(name) + 5;
    char *path = malloc(n);
    if (!path)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", dir);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(path, n, "%s/%s.gz", dir, name);
        f = fopen(path, "rb");
    }
    if (!f) {
        free(path);
        return vkvae_fail(err, VKVAE_IO, "%s: neither %s nor %s.gz found", dir, name, name);
    }
    fclose(f);
    vkvae_status st = vkvae_idx_load(out, path, err);
    free(path);
    return st;
}

vkvae_status vkvae_idx_dataset_load(vkvae_idx_dataset *out, const char *dir,
                                    uint32_t classes, vkvae_error *err)
{
    *out = (vkvae_idx_dataset){0};
    vkvae_status st;
    if ((st = load_named(&out->train_images, dir, "train-images-idx3-ubyte", err)) ||
        (st = load_named(&out->train_labels, dir, "train-labels-idx1-ubyte", err)) ||
        (st = load_named(&out->test_images, dir, "t10k-images-idx3-ubyte", err)) ||
        (st = load_named(&out->test_labels, dir, "t10k-labels-idx1-ubyte", err)) ||
        (st = vkvae_idx_check_pair(&out->train_images, &out->train_labels, classes, err)) ||
        (st = vkvae_idx_check_pair(&out->test_images, &out->test_labels, classes, err))) {
        vkvae_idx_dataset_destroy(out);
        return st;
    }
    const vkvae_idx *a = &out->train_images, *b = &out->test_images;
    if (a->channels != b->channels || a->rows != b->rows || a->cols != b->cols) {
        st = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: test images are %ux%ux%u, but %s has "
                        "%ux%ux%u", b->path, (unsigned)b->channels, (unsigned)b->rows,
                        (unsigned)b->cols, a->path, (unsigned)a->channels, (unsigned)a->rows,
                        (unsigned)a->cols);
        vkvae_idx_dataset_destroy(out);
    }
    return st;
}

void vkvae_idx_dataset_destroy(vkvae_idx_dataset *ds)
{
    vkvae_idx_destroy(&ds->train_images);
    vkvae_idx_destroy(&ds->train_labels);
    vkvae_idx_destroy(&ds->test_images);
    vkvae_idx_destroy(&ds->test_labels);
}
