/* Folders of PNG and JPEG images as data sets: decoded by libpng and
 * libjpeg(-turbo), converted to the model's channels, resized and
 * centre-cropped to its height and width, and loaded into the structure
 * every data source produces (io/idx.h: bytes, NCHW, a training and a test
 * split), with one label per class subfolder. docs/data.md describes the
 * layouts for users.
 *
 * Layouts (names beginning with '.' are ignored everywhere: hidden files,
 * .DS_Store, macOS's ._ files, .git):
 *   DIR/ *.png *.jpg ...             unlabelled: every image below DIR,
 *                                    at any depth
 *   DIR/<class>/ ... (no image       labelled: one class per subfolder,
 *     directly in DIR)               classes in byte order of their names,
 *                                    label = position; images at any depth
 *                                    below the class folder
 *   DIR/train/ and DIR/test/ (no     the two splits, each one of the
 *     image directly in DIR)         layouts above (same class names in
 *                                    both); another subfolder beside them
 *                                    is an error
 * Images are files whose name ends in .png, .jpg or .jpeg (any case); other
 * files (README.txt, labels.csv) are ignored. The decoder is chosen by the
 * file's first bytes (a PNG named .jpg still loads), by the extension when
 * they are neither format's. Files load in byte order of their path
 * relative to DIR, so the same folder always gives the same data set.
 */
#ifndef VKVAE_IO_IMAGE_FOLDER_H
#define VKVAE_IO_IMAGE_FOLDER_H

#include <stdint.h>

#include "error.h"
#include "io/idx.h"

/* The size limits may be lowered at build time (-D): fuzz/meson.build does,
 * so that an input claiming a huge image costs the fuzzer milliseconds. */
#ifndef VKVAE_IMAGE_MAX_SIDE
#define VKVAE_IMAGE_MAX_SIDE 16384u         /* pixels per side, from the file's header */
#endif
#ifndef VKVAE_IMAGE_MAX_PIXELS
#define VKVAE_IMAGE_MAX_PIXELS 256000000u   /* width * height, from the file's header */
#endif
#define VKVAE_IMAGE_MAX_CLASSES 256u        /* labels are bytes */
#define VKVAE_IMAGE_SKIP_KEPT 8u            /* skipped files whose messages are kept */

/* How an image whose size differs from the target H x W gets there. The
 * crop offset of a side d pixels too long is round(d / 2) with Python's
 * rounding (half to even), as torchvision's CenterCrop. */
typedef enum vkvae_image_resize {
    VKVAE_RESIZE_FIT = 0,   /* "fit" (default): scale by max(H/h, W/w), so the image covers
                               the target, then centre-crop the longer side: torchvision's
                               Resize(H) + CenterCrop(H) for a square target. The scaled
                               size of the other side is floor(side * scale), never below
                               the target */
    VKVAE_RESIZE_STRETCH,   /* "stretch": scale each axis to the target on its own; no crop,
                               the aspect ratio changes */
    VKVAE_RESIZE_NONE,      /* "none": no scaling; centre-crop a larger image, refuse one
                               smaller than H x W on either side (a bad image, below) */
} vkvae_image_resize;

/* What a file with an image extension that does not load does: it is
 * truncated, empty, not really an image, a CMYK JPEG, larger than the
 * limits above, or smaller than the target with VKVAE_RESIZE_NONE. */
typedef enum vkvae_image_on_bad {
    VKVAE_ON_BAD_STOP = 0,  /* "stop" (default): the load fails (BAD_INPUT, or IO when the
                               file cannot be read) with one line naming the file and
                               libpng's or libjpeg's reason */
    VKVAE_ON_BAD_SKIP,      /* "skip": the file is left out and counted in
                               vkvae_image_folder_info (which keeps the first messages);
                               nothing is printed: the caller reports them */
} vkvae_image_on_bad;

/* A background colour for desc.background: 0xRRGGBB with bit 24 set, which
 * tells a given colour (black too) from 0, the default (white). */
#define VKVAE_BACKGROUND_RGB(r, g, b)                                          \
    (0x1000000u | ((uint32_t)(r) & 0xFFu) << 16 | ((uint32_t)(g) & 0xFFu) << 8 | \
     ((uint32_t)(b) & 0xFFu))

/* Called with (user, 0, total) before the first file is decoded and with
 * (user, done, total) after each file, decoded or skipped; done reaches
 * total, the number of image files found (both splits together). Decoding
 * runs on the caller's thread; the callback must not call back into the
 * load. */
typedef void (*vkvae_image_progress_fn)(void *user, uint32_t done, uint32_t total);

typedef struct vkvae_image_folder_desc {
    uint32_t channels;          /* the model's C: 1 (grey: colour images become
                                   L = (299 R + 587 G + 114 B + 500) / 1000, PIL's ITU-R 601
                                   luma, rounded) or 3 (RGB: grey images are replicated);
                                   0: the first decoded image's (1 if it is grey or
                                   grey+alpha, else 3); anything else is BAD_INPUT */
    uint32_t height, width;     /* the model's H and W, each 1 .. VKVAE_IMAGE_MAX_SIDE;
                                   both 0: the first decoded image's size; one 0 alone is
                                   BAD_INPUT */
    vkvae_image_resize resize;  /* 0: VKVAE_RESIZE_FIT */
    uint32_t background;        /* colour that transparent pixels (PNG alpha, palette tRNS)
                                   are composited over, VKVAE_BACKGROUND_RGB(r, g, b) (bit 24
                                   marks black as given); 0: white; bits above 24: BAD_INPUT.
                                   Per channel, out = (c a + bg (255 - a) + 127) / 255 on
                                   8-bit values, before conversion to grey */
    vkvae_image_on_bad on_bad;  /* 0: VKVAE_ON_BAD_STOP */
    float test_fraction;        /* vkvae_image_folder_load without train/ and test/: the
                                   fraction held out as the test split (seeded, stratified
                                   by class: vkvae_data_hold_out); 0: 0.1 */
    uint32_t seed;              /* of that hold-out */
    vkvae_image_progress_fn progress;   /* NULL: none */
    void *progress_user;        /* progress's first argument */
} vkvae_image_folder_desc;

/* What a load found besides the pixels. Zeroed by the loads; on failure it
 * stays zeroed. Free with vkvae_image_folder_info_destroy. */
typedef struct vkvae_image_folder_info {
    uint32_t n_classes;         /* 0: unlabelled (no labels); else 1 .. 256 */
    char **class_names;         /* n_classes subfolder names, label i = class_names[i]; NULL
                                   when unlabelled */
    int split_folders;          /* 1: the splits came from DIR/train and DIR/test; 0: the
                                   test split was held out (or vkvae_image_folder_read) */
    uint32_t found;             /* image files found (both splits) */
    uint32_t loaded;            /* images decoded into the data set: found - skipped */
    uint32_t skipped;           /* files left out under VKVAE_ON_BAD_SKIP */
    uint32_t skipped_kept;      /* min(skipped, VKVAE_IMAGE_SKIP_KEPT) */
    char *skipped_messages[VKVAE_IMAGE_SKIP_KEPT]; /* the first skipped files' one-line
                                   messages, "PATH: reason", in load order */
} vkvae_image_folder_info;

void vkvae_image_folder_info_destroy(vkvae_image_folder_info *info);

/* Loads folder dir as a data set: with DIR/train and DIR/test, each is
 * read as one split (their class names must be equal); otherwise the whole
 * folder is read and desc->test_fraction of it held out as the test split.
 * Images are ndim 4 (channels, rows, cols as desc says or the first image
 * gave), labels ndim 1 (count 0 and data NULL when unlabelled); each
 * vkvae_idx's path names the folder (and split). Errors, one line each:
 * IO for a missing or unreadable folder; BAD_INPUT naming the folder when
 * it holds no image, naming a class folder that holds none (or none that
 * decoded), for more than 256 classes, for train/ and test/ with different
 * classes or with another folder beside them; a bad image as desc->on_bad
 * says. On failure *out and *info are zeroed. Free with
 * vkvae_idx_dataset_destroy and vkvae_image_folder_info_destroy. info may
 * be NULL when the class names and skips are not wanted. */
vkvae_status vkvae_image_folder_load(vkvae_idx_dataset *out, vkvae_image_folder_info *info,
                                     const char *dir, const vkvae_image_folder_desc *desc,
                                     vkvae_error *err);

/* Reads every image below dir as one set, as vkvae_image_folder_load reads
 * one split (train/ and test/ are ordinary subfolders here, so classes
 * when no image lies directly in dir): images (count, C, H, W) and labels
 * (count 0 and data NULL when unlabelled). desc's test_fraction and seed
 * are not used; info may be NULL. On failure all three outputs are zeroed;
 * free with vkvae_idx_destroy and vkvae_image_folder_info_destroy. */
vkvae_status vkvae_image_folder_read(vkvae_idx *images, vkvae_idx *labels,
                                     vkvae_image_folder_info *info, const char *dir,
                                     const vkvae_image_folder_desc *desc, vkvae_error *err);

/* The command line's words for the options above, so the flags and the
 * library agree. Each returns BAD_INPUT naming the text and the choices
 * when it is none of them. */

/* "fit", "stretch" or "none". */
vkvae_status vkvae_image_resize_parse(const char *text, vkvae_image_resize *out,
                                      vkvae_error *err);

/* "stop" or "skip". */
vkvae_status vkvae_image_on_bad_parse(const char *text, vkvae_image_on_bad *out,
                                      vkvae_error *err);

/* "white", "black", "grey"/"gray" (128), "#RRGGBB" or "RRGGBB" (hex), or
 * "R,G,B" (decimal 0..255), to VKVAE_BACKGROUND_RGB(r, g, b). */
vkvae_status vkvae_image_background_parse(const char *text, uint32_t *out, vkvae_error *err);

#endif
