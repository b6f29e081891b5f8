/* Data sets from their sources (io/data_source.h): IDX folders as they
 * are, image folders through io/image_folder.c, .npy arrays with a test
 * split held out. The hold-out draws from its own small generator
 * (splitmix64), not from the plans' Philox streams: it is part of reading
 * the data, done once, before any model exists.
 */
#include "io/data_source.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "io/data_cache.h"
#include "io/npy.h"

int vkvae_data_source_is_npy(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".npy") == 0;
}

int vkvae_data_source_is_image_folder(const char *path)
{
    static const char *const names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    for (int i = 0; i < 4; i++)
        for (int gz = 0; gz < 2; gz++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s%s", path, names[i], gz ? ".gz" : "");
            if (stat(p, &st) == 0)
                return 0;
        }
    return 1;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Copies the rows of src whose held[i] equals want into dst. */
static vkvae_status take_rows(vkvae_idx *dst, const vkvae_idx *src, const uint8_t *held,
                              uint8_t want, uint32_t rows, const char *what, vkvae_error *err)
{
    size_t row = (size_t)src->channels * src->rows * src->cols;
    *dst = *src;
    dst->count = rows;
    dst->data = malloc(rows && row ? rows * row : 1);
    size_t n = strlen(src->path) + strlen(what) + 4;
    dst->path = malloc(n);
    if (!dst->data || !dst->path) {
        free(dst->data);
        free(dst->path);
        *dst = (vkvae_idx){0};
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", src->path);
    }
    snprintf(dst->path, n, "%s (%s)", src->path, what);
    uint32_t k = 0;
    for (uint32_t i = 0; i < src->count; i++)
        if (held[i] == want)
            memcpy(dst->data + (size_t)k++ * row, src->data + (size_t)i * row, row);
    return VKVAE_OK;
}

vkvae_status vkvae_data_hold_out(vkvae_idx_dataset *out, const vkvae_idx *images,
                                 const vkvae_idx *labels, float fraction, uint32_t seed,
                                 vkvae_error *err)
{
    uint32_t n = images->count;
    uint32_t *order = malloc(n * sizeof *order);
    uint8_t *held = calloc(n, 1);
    if (!order || !held) {
        free(order);
        free(held);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", images->path);
    }
    uint64_t state = seed;
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(splitmix64(&state) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
    /* Per class (one class when unlabelled): its first round(f * count) in
     * the shuffled order are held out. */
    uint32_t in_class[256] = {0}, taken[256] = {0}, tests = 0;
    for (uint32_t i = 0; i < n; i++)
        in_class[labels->count ? labels->data[i] : 0]++;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = order[k], c = labels->count ? labels->data[i] : 0;
        if (taken[c] < (uint32_t)lrint(fraction * in_class[c])) {
            taken[c]++;
            held[i] = 1;
            tests++;
        }
    }
    free(order);
    vkvae_status s = VKVAE_OK;
    if (tests == 0 || tests == n)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %u images: holding out %g of them leaves %s",
                       images->path, n, fraction, tests ? "nothing to train on" : "no test set");
    if (!s)
        s = take_rows(&out->train_images, images, held, 0, n - tests, "training split", err);
    if (!s)
        s = take_rows(&out->test_images, images, held, 1, tests, "held-out test split", err);
    if (!s && labels->count)
        s = take_rows(&out->train_labels, labels, held, 0, n - tests, "training split", err);
    if (!s && labels->count)
        s = take_rows(&out->test_labels, labels, held, 1, tests, "held-out test split", err);
    free(held);
    return s;
}

static vkvae_status load_npy(vkvae_idx_dataset *out, const vkvae_data_source_desc *d,
                             vkvae_error *err)
{
    vkvae_idx images = {0}, labels = {0};
    vkvae_status s = vkvae_npy_load(&images, d->path,
                                    &(vkvae_npy_expect){.channels = d->channels}, err);
    if (!s && d->labels)
        s = vkvae_npy_load(&labels, d->labels, &(vkvae_npy_expect){.labels = 1}, err);
    if (!s && d->labels)
        s = vkvae_idx_check_pair(&images, &labels, d->classes, err);
    if (!s) {
        float f = d->test_fraction > 0 ? d->test_fraction : 0.1f;
        s = vkvae_data_hold_out(out, &images, &labels, f, d->seed, err);
    }
    vkvae_idx_destroy(&images);
    vkvae_idx_destroy(&labels);
    return s;
}

static vkvae_status load_image_folder(vkvae_idx_dataset *out, const vkvae_data_source_desc *d,
                                      vkvae_error *err)
{
    vkvae_image_folder_info own = {0}, *info = d->image_info ? d->image_info : &own;
    vkvae_image_folder_desc desc = {
        .channels = d->channels, .height = d->height, .width = d->width, .resize = d->resize,
        .background = d->background, .on_bad = d->on_bad, .test_fraction = d->test_fraction,
        .seed = d->seed, .progress = d->progress, .progress_user = d->progress_user};
    vkvae_status s;
    if (d->cache_dir) {
        char *warning = NULL;
        vkvae_data_cache_use use = VKVAE_CACHE_DECODED;
        s = vkvae_data_cache_load(out, info, d->path, &desc, d->cache_dir, &use, &warning, err);
        if (d->cache_use)
            *d->cache_use = use;
        if (d->cache_warning)
            *d->cache_warning = warning;
        else
            free(warning);
    } else {
        s = vkvae_image_folder_load(out, info, d->path, &desc, err);
    }
    if (!s && d->classes && !info->n_classes)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: the model is conditional (%u classes): an "
                       "image folder needs one subfolder per class", d->path, d->classes);
    if (!s && d->classes && info->n_classes > d->classes)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %u class folders, but the model has %u "
                       "classes", d->path, info->n_classes, d->classes);
    if (s || info == &own)
        vkvae_image_folder_info_destroy(info);
    return s;
}

vkvae_status vkvae_data_source_load(vkvae_idx_dataset *out, const vkvae_data_source_desc *d,
                                    vkvae_error *err)
{
    *out = (vkvae_idx_dataset){0};
    if (d->image_info)
        *d->image_info = (vkvae_image_folder_info){0};
    vkvae_status s;
    struct stat st;
    if (vkvae_data_source_is_npy(d->path)) {
        if (d->classes && !d->labels)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: the model is conditional (%u classes): "
                              "it needs a labels .npy too", d->path, d->classes);
        s = load_npy(out, d, err);
    } else if (d->labels) {
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: a labels file goes with a .npy of "
                          "images; an IDX or image folder has its own", d->labels);
    } else if (stat(d->path, &st) != 0) {
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s (data is a folder of IDX files "
                          "or of images, or a .npy file)", d->path, strerror(errno));
    } else if (vkvae_data_source_is_image_folder(d->path)) {
        s = load_image_folder(out, d, err);
    } else {
        s = vkvae_idx_dataset_load(out, d->path, d->classes, err);
    }
    if (s)
        vkvae_idx_dataset_destroy(out);
    return s;
}
