/* The public API's files (vkvae.h): data sets in, through io/data_source.c, and
 * image grids out, through io/png.c, so that an application that trains
 * in-process reads and writes what the command line does.
 */
#include <stdlib.h>

#include "api/model.h"
#include "io/data_source.h"
#include "io/png.h"
#include "vkvae.h"

struct vkvae_dataset {
    vkvae_idx_dataset idx;
    uint32_t *labels[2];               /* the label bytes widened, train and test */
    vkvae_image_folder_info info;      /* an image folder's class names, skip count */
};

vkvae_status vkvae_dataset_load(const vkvae_dataset_desc *desc, vkvae_dataset **out,
                                vkvae_error *err)
{
    *out = NULL;
    if (!desc || !desc->path)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vkvae_dataset_load: no path");
    if (desc->resize < 0 || desc->resize > 2 || (desc->background >> 25) != 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: vkvae_dataset_desc: resize %d (0, 1 or 2) "
                          "or background 0x%x (0x1RRGGBB) out of range", desc->path,
                          desc->resize, desc->background);
    vkvae_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_data_source_desc src = {
        .path = desc->path, .labels = desc->labels, .test_fraction = desc->test_fraction,
        .resize = (vkvae_image_resize)desc->resize, .background = desc->background,
        .on_bad = desc->skip_bad ? VKVAE_ON_BAD_SKIP : VKVAE_ON_BAD_STOP,
        .cache_dir = desc->cache, .image_info = &d->info};
    if (desc->model) {
        const vkvae_model_info *i = &desc->model->info;
        src.classes = i->classes;
        src.channels = i->channels;
        if (i->height > 1) /* a flat input has no image size */
            src.height = i->height, src.width = i->width;
    }
    vkvae_status s = vkvae_data_source_load(&d->idx, &src, err);
    const vkvae_idx *labels[2] = {&d->idx.train_labels, &d->idx.test_labels};
    for (int k = 0; !s && k < 2 && labels[k]->data; k++) {
        d->labels[k] = malloc((labels[k]->count ? labels[k]->count : 1) * sizeof(uint32_t));
        if (!d->labels[k])
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        for (uint32_t i = 0; !s && i < labels[k]->count; i++)
            d->labels[k][i] = labels[k]->data[i];
    }
    if (s) {
        vkvae_dataset_destroy(d);
        return s;
    }
    *out = d;
    return VKVAE_OK;
}

const char *const *vkvae_dataset_classes(const vkvae_dataset *d, uint32_t *n)
{
    *n = d->info.n_classes;
    return (const char *const *)d->info.class_names;
}

uint32_t vkvae_dataset_skipped(const vkvae_dataset *d)
{
    return d->info.skipped;
}

void vkvae_dataset_destroy(vkvae_dataset *d)
{
    if (!d)
        return;
    vkvae_idx_dataset_destroy(&d->idx);
    vkvae_image_folder_info_destroy(&d->info);
    free(d->labels[0]);
    free(d->labels[1]);
    free(d);
}

vkvae_data vkvae_dataset_split(const vkvae_dataset *d, int test)
{
    const vkvae_idx *images = test ? &d->idx.test_images : &d->idx.train_images;
    return (vkvae_data){.images = images->data, .labels = d->labels[test ? 1 : 0],
                        .count = images->count, .channels = images->channels,
                        .height = images->rows, .width = images->cols};
}

vkvae_status vkvae_write_png_grid(const char *path, const float *images, uint32_t count,
                                  uint32_t channels, uint32_t height, uint32_t width,
                                  uint32_t columns, vkvae_error *err)
{
    if (channels != 1 && channels != 3)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: images of %u channels: a PNG grid takes 1 "
                          "(grey) or 3 (RGB)", path, channels);
    return vkvae_png_write_grid(path,
                                &(vkvae_png_grid){.count = count, .channels = channels,
                                                  .height = height, .width = width,
                                                  .images = images, .cols = columns, .pad = 2},
                                err);
}
