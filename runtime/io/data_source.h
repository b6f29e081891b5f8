/* Where a data set comes from: a folder of IDX files (the MNIST layout, 3-d
 * or 4-d images), a folder of PNG and JPEG images (io/image_folder.h), or
 * a NumPy array of images with an optional array of labels. Every source
 * ends as a vkvae_idx_dataset: bytes, NCHW, a training split and a test
 * split; a source without a test split of its own has one held out. */
#ifndef VKVAE_IO_DATA_SOURCE_H
#define VKVAE_IO_DATA_SOURCE_H

#include <stdint.h>

#include "error.h"
#include "io/idx.h"
#include "io/data_cache.h"
#include "io/image_folder.h"

/* Zero means the default for every field. The image-folder fields are
 * ignored by the other sources. */
typedef struct vkvae_data_source_desc {
    const char *path;       /* a folder of IDX files (it holds one of the four MNIST file
                               names: train-images-idx3-ubyte etc., raw or .gz), a folder of
                               images (any other folder), or a .npy of images */
    const char *labels;     /* a .npy of labels beside a .npy of images; NULL: none */
    uint32_t classes;       /* labels must lie below it; > 0 also requires labels (an image
                               folder then needs class subfolders, at most this many) */
    uint32_t channels;      /* the model's C: tells N x H x W x C arrays from N x C x H x W;
                               for an image folder the channels to convert to, 1 or 3 (0:
                               the first image's) */
    float test_fraction;    /* held out as the test set when the source has none; 0: 0.1 */
    uint32_t seed;          /* of that hold-out */
    /* image folders only (vkvae_image_folder_desc says each field's meaning): */
    uint32_t height, width; /* the model's H and W; both 0: the first image's size */
    vkvae_image_resize resize;      /* 0: VKVAE_RESIZE_FIT ("fit") */
    uint32_t background;    /* VKVAE_BACKGROUND_RGB(r, g, b) under transparent pixels;
                               0: white */
    vkvae_image_on_bad on_bad;      /* 0: VKVAE_ON_BAD_STOP ("stop") */
    vkvae_image_progress_fn progress;   /* (user, done, total) per file; NULL: none */
    void *progress_user;
    const char *cache_dir;  /* a folder for the decoded image folder's cache (io/data_cache.h);
                               NULL: no cache */
    vkvae_data_cache_use *cache_use; /* out, may be NULL: whether the cache was used */
    char **cache_warning;   /* out, may be NULL: why the cache could not be written, or NULL;
                               free() it */
    vkvae_image_folder_info *image_info; /* out, may be NULL: zeroed by every load (and left
                               zeroed by a failed one); for an image folder, its class names
                               and skipped files. Free with vkvae_image_folder_info_destroy */
} vkvae_data_source_desc;

/* Loads the source desc names: a path ending in .npy is an array; a
 * folder holding an MNIST IDX file name is an IDX folder; any other folder
 * an image folder (vkvae_image_folder_load, with desc's image fields). A
 * hold-out is stratified when there are labels (each class keeps the
 * fraction), seeded, and keeps the images' order within each split.
 * BAD_INPUT or IO naming the file otherwise (IO for a path that does not
 * exist). On failure *out and *desc->image_info are zeroed. */
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

/* 1 if path is a folder that holds none of the MNIST IDX file names (raw
 * or .gz), so vkvae_data_source_load reads it as an image folder. */
int vkvae_data_source_is_image_folder(const char *path);

#endif
