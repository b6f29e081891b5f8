/* IDX data sets (the MNIST format): unsigned-byte image and label files, raw
 * or gzip-compressed. */
#ifndef VKVAE_IO_IDX_H
#define VKVAE_IO_IDX_H

#include <stdint.h>

#include "error.h"

typedef struct vkvae_idx {
    char *path;         /* the file it came from, for messages */
    uint32_t ndim;      /* 3 = grey images (magic 0x00000803), 4 = images with channels
                           (0x00000804), 1 = labels (0x00000801) */
    uint32_t count;     /* images or labels */
    uint32_t channels;  /* image channels: 1 for grey (3-D) files and labels */
    uint32_t rows;      /* image height; 1 for labels */
    uint32_t cols;      /* image width; 1 for labels */
    uint8_t *data;      /* count * channels * rows * cols bytes, row-major (NCHW) */
} vkvae_idx;

/* Loads an IDX file of unsigned bytes with 1, 3 or 4 dimensions; gzip is
 * detected by its magic. Rejects other element types and dimension counts,
 * zero or overflowing dimensions, and data shorter or longer than the header
 * declares. On failure *out is zeroed. Free with vkvae_idx_destroy. */
vkvae_status vkvae_idx_load(vkvae_idx *out, const char *path, vkvae_error *err);

void vkvae_idx_destroy(vkvae_idx *idx);

/* Checks that images (3-D or 4-D) and labels (1-D) belong together: the same count,
 * and every label < classes (classes 0: no bound). */
vkvae_status vkvae_idx_check_pair(const vkvae_idx *images, const vkvae_idx *labels,
                                  uint32_t classes, vkvae_error *err);

typedef struct vkvae_idx_dataset {
    vkvae_idx train_images, train_labels;   /* train-{images-idx3,labels-idx1}-ubyte[.gz] */
    vkvae_idx test_images, test_labels;     /* t10k-{images-idx3,labels-idx1}-ubyte[.gz] */
} vkvae_idx_dataset;

/* Loads the four MNIST-named files from folder dir (each raw or with .gz;
 * the raw one wins if both exist), checks each pair with
 * vkvae_idx_check_pair and that train and test images have the same size.
 * On failure *out is zeroed. */
vkvae_status vkvae_idx_dataset_load(vkvae_idx_dataset *out, const char *dir,
                                    uint32_t classes, vkvae_error *err);

void vkvae_idx_dataset_destroy(vkvae_idx_dataset *ds);

#endif
