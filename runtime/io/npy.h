/* NumPy .npy arrays as data sets: images (uint8, or float32 in [0, 1]) and
 * labels (any integer type), loaded into the IDX structure (io/idx.h) the
 * rest of vkvae reads. */
#ifndef VKVAE_IO_NPY_H
#define VKVAE_IO_NPY_H

#include <stdint.h>

#include "error.h"
#include "io/idx.h"

/* What the caller expects of the array. */
typedef struct vkvae_npy_expect {
    int labels;         /* 1: labels, shape (N,), values 0..255; 0: images */
    uint32_t channels;  /* images: the model's C, which tells N x C x H x W from
                           N x H x W x C (transposed to NCHW); 0: unknown, so a
                           colour-sized axis (1, 3 or 4) is C, axis 1 when both are */
} vkvae_npy_expect;

/* Loads the .npy file at path: images N x H x W (one channel; ndim 3),
 * N x C x H x W or N x H x W x C (ndim 4), float32 values v stored as the
 * byte round(255 v); labels as bytes (ndim 1). BAD_INPUT with the reason
 * and the file for anything else: another element type, big-endian or
 * Fortran-ordered data, a float outside [0, 1] (naming the element), a
 * label out of range, a file shorter or longer than its header declares.
 * On failure *out is zeroed. Free with vkvae_idx_destroy. */
vkvae_status vkvae_npy_load(vkvae_idx *out, const char *path, const vkvae_npy_expect *expect,
                            vkvae_error *err);

#endif
