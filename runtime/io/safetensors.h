/* safetensors checkpoints: an 8-byte little-endian header length N, N bytes
 * of JSON ({"name": {"dtype", "shape", "data_offsets"}, optional
 * "__metadata__": {string: string}}), then the tensors' bytes. Element bytes
 * are little-endian, as on every host vkvae runs on. */
#ifndef VKVAE_IO_SAFETENSORS_H
#define VKVAE_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* X(enum suffix, name in the file, bytes per element) */
#define VKVAE_DTYPES(X) \
    X(BOOL, "BOOL", 1) X(U8, "U8", 1) X(I8, "I8", 1) \
    X(F8_E5M2, "F8_E5M2", 1) X(F8_E4M3, "F8_E4M3", 1) \
    X(I16, "I16", 2) X(U16, "U16", 2) X(F16, "F16", 2) X(BF16, "BF16", 2) \
    X(I32, "I32", 4) X(U32, "U32", 4) X(F32, "F32", 4) \
    X(I64, "I64", 8) X(U64, "U64", 8) X(F64, "F64", 8)

typedef enum vkvae_dtype {
#define X(e, name, size) VKVAE_DTYPE_##e,
    VKVAE_DTYPES(X)
#undef X
    VKVAE_DTYPE_COUNT
} vkvae_dtype;

const char *vkvae_dtype_name(vkvae_dtype t);   /* "F32"; "?" if out of range */
size_t vkvae_dtype_size(vkvae_dtype t);        /* bytes per element; 0 if out of range */

#define VKVAE_ST_MAX_DIMS 8
#define VKVAE_ST_MAX_HEADER 100000000u     /* as the reference implementation */

typedef struct vkvae_st_tensor {
    const char *name;
    vkvae_dtype dtype;
    uint32_t ndim;                          /* 0: a scalar */
    uint64_t shape[VKVAE_ST_MAX_DIMS];
    const void *data;                       /* product(shape) * dtype size bytes */
    uint64_t begin, end;                    /* read: data_offsets; ignored by the writer */
} vkvae_st_tensor;

typedef struct vkvae_st_meta {
    const char *key, *value;                /* UTF-8, no NUL */
} vkvae_st_meta;

typedef struct vkvae_safetensors {
    vkvae_st_tensor *tensors;               /* sorted by data offset */
    size_t tensor_count;
    vkvae_st_meta *meta;                    /* in header order */
    size_t meta_count;
    uint8_t *data;                          /* the byte buffer after the header */
    uint64_t data_size;
} vkvae_safetensors;

/* Reads and fully validates a file: header length (<= 100 MB, inside the
 * file), a strict JSON object of the expected shape, known dtypes, unique
 * names, byte ranges that match their shapes and tile the buffer exactly
 * (in order, no overlap, no gap, nothing after the last). On failure *out
 * is zeroed. Free with vkvae_st_destroy. */
vkvae_status vkvae_st_read(vkvae_safetensors *out, const char *path, vkvae_error *err);

void vkvae_st_destroy(vkvae_safetensors *st);

/* The tensor called name, or NULL. */
const vkvae_st_tensor *vkvae_st_find(const vkvae_safetensors *st, const char *name);

/* Bytes of one tensor (product of shape times dtype size); 0 on overflow. */
uint64_t vkvae_st_tensor_bytes(const vkvae_st_tensor *t);

/* The CRC-32 (zlib's) of n bytes continuing crc (0 to start): checkpoints
 * keep one of their data, as safetensors has no checksum of its own. */
uint32_t vkvae_st_crc32(uint32_t crc, const void *data, uint64_t n);

/* Writes tensors in the given order (data_offsets ascending), metadata
 * first, the header padded with spaces to a multiple of 8 bytes; atomically
 * (io/atomic.h): on failure the old file at path is untouched. Writing what
 * vkvae_st_read returned reproduces a file this writer made, byte for byte. */
vkvae_status vkvae_st_write(const char *path, const vkvae_st_tensor *tensors, size_t count,
                            const vkvae_st_meta *meta, size_t meta_count, vkvae_error *err);

#endif
