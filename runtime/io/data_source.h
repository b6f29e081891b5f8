/* Where a data set comes from: a folder of IDX files (the MNIST layout, 3-d
 * or 4-d images) or a NumPy array of images with an optional array of
 * labels. Every source ends as a vkvae_idx_dataset: bytes, NCHW, a training
 * split and a test split; a source without a test split of its own has one
 * held out. */
#ifndef VKVAE_IO_DATA_SOURCE_H
#define VKVAE_IO_DATA_SOURCE_H

#include <stdint.h>

#include "error.h"
#include "io/idx.h"

typedef struct vkvae_data_source_desc {
    const char *path;       /* a folder of IDX files, or a .npy of images */
    const char *labels;     /* a .npy of labels beside a .npy of images; NULL: none */
    uint32_t classes;       /* labels must lie below it; > 0 also requires labels */
    uint32_t channels;      /* the model's C: tells N x H x W x C arrays from N x C x H x W */
    float test_fraction;    /* held out as the test set when the source has none; 0: 0.1 */
    uint32_t seed;          /* of that hold-out */
} vkvae_data_source_desc;

/* Loads the source desc names. A hold-out is stratified when there are
 * labels (each class keeps the fraction), seeded, and keeps the images'
 * order within each split. BAD_INPUT or IO naming the file otherwise. */
vkvae_status vkvae_data_source_load(vkvae_idx_dataset *out, const vkvae_data_source_desc *desc,
                                    vkvae_error *err);

/* Splits images (and labels: count 0 when none) into out's training and
 * test sets: round(fraction * n) of each class's n images (of all images
 * when unlabelled) go to the test set, picked by a shuffle seeded with
 * seed; both keep the images' order. BAD_INPUT when either set would be
 * empty. */
vkvae_status vkvae_data_hold_out(vkvae_idx_dataset *out, const vkvae_idx *images,
                                 const vkvae_idx *labels, float fraction, uint32_t seed,
                                 vkvae_error *err);

/* 1 if path names a .npy file (by its extension, any case). */
int vkvae_data_source_is_npy(const char *path);

#endif
