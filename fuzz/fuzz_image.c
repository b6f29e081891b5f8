/* libFuzzer target: the image decoders of runtime/io/image_folder.c (libpng
 * and libjpeg behind our header checks, channel conversion, compositing
 * and resampling). Each input is written into a private folder twice, as
 * x.jpg (the bytes as given) and as x.png (the same bytes, with the CRCs of
 * the PNG chunks recomputed when it starts with PNG's signature, so that
 * mutations reach past libpng's CRC check; libpng is not instrumented and
 * cannot steer them there itself). The decoder is chosen by the signature,
 * else by the name, so a file that is neither format reaches both. The
 * folder is then read three times, with a fixed 16x16 target:
 *   A  vkvae_image_folder_read, grey (C 1), resize fit, skip bad files;
 *   B  vkvae_image_folder_read, colour (C 3), resize stretch, stop at the
 *      first bad file;
 *   C  vkvae_image_folder_load (a held-out test split), grey, resize none,
 *      skip.
 * Properties, besides no sanitizer report and no leak: a success has the
 * target's shape (C x 16 x 16, count = files decoded, no labels: the
 * folder is flat), found = 2 = loaded + skipped, the skipped messages name
 * their file; a failure is zeroed, carries its status and a message that
 * names the folder or a file in it; B succeeds exactly when A decoded both
 * files, and otherwise fails with the message A kept for its first skipped
 * file (decoding does not depend on the channels or the scaling mode). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_file.h"
#include "io/image_folder.h"

enum { SIDE = 16 };

static char dir[4096], png_path[4096 + 8], jpg_path[4096 + 8];

static void remove_dir(void)
{
    unlink(png_path);
    unlink(jpg_path);
    rmdir(dir);
}

static void make_dir(void)
{
    if (dir[0])
        return;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/vkvae-fuzz-image-XXXXXX", tmp);
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(png_path, sizeof png_path, "%s/x.png", dir);
    snprintf(jpg_path, sizeof jpg_path, "%s/x.jpg", dir);
    atexit(remove_dir);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The input with every whole chunk's CRC (over type and data) recomputed,
 * when it has PNG's signature; NULL otherwise. */
static uint8_t *fix_png_crcs(const uint8_t *data, size_t size)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (size < 8 || memcmp(data, sig, 8) != 0)
        return NULL;
    uint8_t *b = malloc(size);
    FUZZ_CHECK(b != NULL);
    memcpy(b, data, size);
    size_t at = 8;
    while (size - at >= 12) {
        uint32_t len = be32(b + at);
        if (len > size - at - 12)
            break;
        uint32_t crc = (uint32_t)crc32(0L, b + at + 4, len + 4);
        uint8_t *c = b + at + 8 + len;
        c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16);
        c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
        at += 12 + (size_t)len;
    }
    return b;
}

/* A message names the folder (every path in it begins with dir). */
static int names_folder(const char *message)
{
    return strstr(message, dir) != NULL;
}

static int names_file(const char *message)
{
    return strstr(message, png_path) != NULL || strstr(message, jpg_path) != NULL;
}

static void check_info_zero(const vkvae_image_folder_info *info)
{
    FUZZ_CHECK(info->n_classes == 0 && info->class_names == NULL && info->found == 0 &&
               info->loaded == 0 && info->skipped == 0 && info->skipped_kept == 0);
}

static void check_idx_zero(const vkvae_idx *idx)
{
    FUZZ_CHECK(idx->path == NULL && idx->data == NULL && idx->count == 0 && idx->ndim == 0);
}

/* A loaded image set: count images of C x SIDE x SIDE, every byte readable. */
static void check_images(const vkvae_idx *img, uint32_t C, uint32_t count)
{
    FUZZ_CHECK(img->ndim == 4 && img->count == count && img->channels == C &&
               img->rows == SIDE && img->cols == SIDE && img->data && img->path);
    size_t n = (size_t)count * C * SIDE * SIDE;
    uint64_t sum = 0;   /* reads every byte: ASan and MSan see each one */
    for (size_t i = 0; i < n; i++)
        sum += img->data[i];
    FUZZ_CHECK(sum <= 255 * (uint64_t)n);
}

static void check_skips(const vkvae_image_folder_info *info)
{
    FUZZ_CHECK(info->found == 2 && info->loaded + info->skipped == 2);
    FUZZ_CHECK(info->skipped_kept == info->skipped);
    for (uint32_t i = 0; i < info->skipped_kept; i++)
        FUZZ_CHECK(info->skipped_messages[i] && names_file(info->skipped_messages[i]));
    FUZZ_CHECK(info->n_classes == 0 && info->class_names == NULL && !info->split_folders);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    make_dir();
    uint8_t *fixed = fix_png_crcs(data, size);
    write_file(jpg_path, data, size);
    write_file(png_path, fixed ? fixed : data, size);
    free(fixed);

    /* A: grey, fit, skip. */
    vkvae_image_folder_desc a_desc = {.channels = 1, .height = SIDE, .width = SIDE,
                                      .resize = VKVAE_RESIZE_FIT, .on_bad = VKVAE_ON_BAD_SKIP};
    vkvae_idx a_img, a_lab;
    vkvae_image_folder_info a_info;
    vkvae_error a_err = {0};
    vkvae_status a = vkvae_image_folder_read(&a_img, &a_lab, &a_info, dir, &a_desc, &a_err);
    uint32_t a_loaded = 0;
    char first_skip[sizeof a_err.message] = "";
    if (a == VKVAE_OK) {
        check_skips(&a_info);
        a_loaded = a_info.loaded;
        FUZZ_CHECK(a_loaded >= 1);
        check_images(&a_img, 1, a_loaded);
        check_idx_zero(&a_lab);
        if (a_info.skipped_kept)
            snprintf(first_skip, sizeof first_skip, "%s", a_info.skipped_messages[0]);
    } else {
        FUZZ_CHECK_FAILURE(a, a_err);
        FUZZ_CHECK(a == VKVAE_BAD_INPUT || a == VKVAE_OUT_OF_MEMORY);
        FUZZ_CHECK(names_folder(a_err.message));
        check_idx_zero(&a_img);
        check_idx_zero(&a_lab);
        check_info_zero(&a_info);
    }
    vkvae_idx_destroy(&a_img);
    vkvae_idx_destroy(&a_lab);
    vkvae_image_folder_info_destroy(&a_info);

    /* B: colour, stretch, stop. */
    vkvae_image_folder_desc b_desc = {.channels = 3, .height = SIDE, .width = SIDE,
                                      .resize = VKVAE_RESIZE_STRETCH,
                                      .on_bad = VKVAE_ON_BAD_STOP};
    vkvae_idx b_img, b_lab;
    vkvae_image_folder_info b_info;
    vkvae_error b_err = {0};
    vkvae_status b = vkvae_image_folder_read(&b_img, &b_lab, &b_info, dir, &b_desc, &b_err);
    if (b == VKVAE_OK) {
        FUZZ_CHECK(a == VKVAE_OK && a_loaded == 2);
        FUZZ_CHECK(b_info.found == 2 && b_info.loaded == 2 && b_info.skipped == 0);
        check_images(&b_img, 3, 2);
        check_idx_zero(&b_lab);
    } else {
        FUZZ_CHECK_FAILURE(b, b_err);
        FUZZ_CHECK(names_file(b_err.message));
        check_idx_zero(&b_img);
        check_idx_zero(&b_lab);
        check_info_zero(&b_info);
        if (b != VKVAE_OUT_OF_MEMORY && a == VKVAE_OK) {
            FUZZ_CHECK(a_loaded < 2);
            if (strcmp(b_err.message, first_skip) != 0)
                fprintf(stderr, "stop: %s\nskip: %s\n", b_err.message, first_skip);
            FUZZ_CHECK(strcmp(b_err.message, first_skip) == 0);
        }
    }
    vkvae_idx_destroy(&b_img);
    vkvae_idx_destroy(&b_lab);
    vkvae_image_folder_info_destroy(&b_info);

    /* C: a data set with a held-out split, grey, no scaling, skip. */
    vkvae_image_folder_desc c_desc = {.channels = 1, .height = SIDE, .width = SIDE,
                                      .resize = VKVAE_RESIZE_NONE, .on_bad = VKVAE_ON_BAD_SKIP,
                                      .test_fraction = 0.5f, .seed = 7};
    vkvae_idx_dataset ds;
    vkvae_image_folder_info c_info;
    vkvae_error c_err = {0};
    vkvae_status c = vkvae_image_folder_load(&ds, &c_info, dir, &c_desc, &c_err);
    if (c == VKVAE_OK) {
        check_skips(&c_info);
        uint32_t n = ds.train_images.count + ds.test_images.count;
        FUZZ_CHECK(n == c_info.loaded && n >= 1);
        if (ds.train_images.count)
            check_images(&ds.train_images, 1, ds.train_images.count);
        if (ds.test_images.count)
            check_images(&ds.test_images, 1, ds.test_images.count);
        FUZZ_CHECK(ds.train_labels.data == NULL && ds.test_labels.data == NULL);
    } else {
        FUZZ_CHECK_FAILURE(c, c_err);
        FUZZ_CHECK(names_folder(c_err.message));
        check_idx_zero(&ds.train_images);
        check_idx_zero(&ds.test_images);
        check_info_zero(&c_info);
    }
    vkvae_idx_dataset_destroy(&ds);
    vkvae_image_folder_info_destroy(&c_info);
    return 0;
}
