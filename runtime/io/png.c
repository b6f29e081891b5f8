/* PNG writing with libpng. Output is deterministic: fixed zlib level and
 * filter choice, no tIME, text or gamma chunks, so the same pixels and the
 * same libpng/zlib give the same bytes. libpng reports errors by longjmp;
 * our error callback records the message first, and everything that must
 * survive the jump is set before setjmp or declared volatile. Files are
 * written through io/atomic.h, so a failed write leaves the old file. The
 * grid maps float images to bytes with clamping (NaN to 0) and rounding. */
#include "io/png.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"

#define MAX_SIDE 1000000u   /* libpng's default user limit */

typedef struct sink {
    vkvae_atomic_file af;
    vkvae_error *err;
    vkvae_status status;
    jmp_buf jmp;
} sink;

static void on_error(png_structp png, png_const_charp msg)
{
    sink *s = png_get_error_ptr(png);
    if (!s->status)
        s->status = vkvae_fail(s->err, VKVAE_INTERNAL, "%s: libpng: %s", s->af.path, msg);
    longjmp(s->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t n)
{
    sink *s = png_get_io_ptr(png);
    if ((s->status = vkvae_atomic_write(&s->af, data, n, s->err)))
        png_error(png, "write failed");
}

static void on_flush(png_structp png)
{
    (void)png;
}

vkvae_status vkvae_png_write(const char *path, uint32_t width, uint32_t height,
                             uint32_t channels, const uint8_t *pixels, vkvae_error *err)
{
    static const int color[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %u channels; a PNG has 1 to 4", path,
                          (unsigned)channels);
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: image size %ux%u outside 1..%u", path,
                          (unsigned)width, (unsigned)height, MAX_SIDE);
    if (!pixels)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: no pixels", path);
    sink *s = calloc(1, sizeof *s);
    if (!s)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    s->err = err;
    if ((s->status = vkvae_atomic_begin(&s->af, path, err))) {
        free(s);
        return VKVAE_IO;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        vkvae_atomic_abort(&s->af);
        free(s);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for libpng", path);
    }
    if (setjmp(s->jmp) == 0) {
        png_set_write_fn(png, s, on_write, on_flush);
        png_set_compression_level(png, 9);
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
        png_set_IHDR(png, info, width, height, 8, color[channels], PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (uint32_t y = 0; y < height; y++)
            png_write_row(png, pixels + (size_t)y * width * channels);
        png_write_end(png, NULL);
    }
    png_destroy_write_struct(&png, &info);
    vkvae_status st = s->status;
    if (st)
        vkvae_atomic_abort(&s->af);
    else
        st = vkvae_atomic_commit(&s->af, err);
    free(s);
    return st;
}

static uint8_t to_byte(float v)
{
    if (!(v > 0.0f))        /* NaN too */
        return 0;
    if (v >= 1.0f)
        return 255;
    return (uint8_t)(v * 255.0f + 0.5f);     /* round half up, whatever the FP mode */
}

vkvae_status vkvae_png_write_grid(const char *path, const vkvae_png_grid *d, vkvae_error *err)
{
    if (d->channels != 1 && d->channels != 3)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: grid of %u-channel images; only 1 (grey) "
                          "or 3 (RGB)", path, (unsigned)d->channels);
    if (!d->count || !d->height || !d->width || !d->images)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: empty grid (%u images of %ux%u)", path,
                          (unsigned)d->count, (unsigned)d->height, (unsigned)d->width);
    uint64_t cols = d->cols, scale = d->scale ? d->scale : 1, pad = d->pad;
    if (!cols)
        while (cols * cols < d->count)
            cols++;
    if (cols > d->count)
        cols = d->count;
    uint64_t rows = (d->count + cols - 1) / cols;
    uint64_t tw = d->width * scale, th = d->height * scale;
    uint64_t w = cols * tw + (cols + 1) * pad, h = rows * th + (rows + 1) * pad;
    if (w > MAX_SIDE || h > MAX_SIDE)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: grid of %llux%llu pixels exceeds %u per "
                          "side (%u images, cols %llu, scale %llu, pad %llu)", path,
                          (unsigned long long)w, (unsigned long long)h, MAX_SIDE,
                          (unsigned)d->count, (unsigned long long)cols,
                          (unsigned long long)scale, (unsigned long long)pad);
    uint32_t c = d->channels;
    uint8_t *px = malloc((size_t)(w * h * c));
    if (!px)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for a %llux%llu image",
                          path, (unsigned long long)w, (unsigned long long)h);
    for (uint64_t i = 0; i < w * h; i++)
        for (uint32_t k = 0; k < c; k++)
            px[i * c + k] = to_byte(d->background[k]);
    size_t plane = (size_t)d->height * d->width;
    for (uint64_t b = 0; b < d->count; b++) {
        const float *img = d->images + b * c * plane;
        uint64_t x0 = pad + (b % cols) * (tw + pad), y0 = pad + (b / cols) * (th + pad);
        for (uint64_t y = 0; y < th; y++)
            for (uint64_t x = 0; x < tw; x++) {
                size_t src = (size_t)(y / scale) * d->width + (size_t)(x / scale);
                uint8_t *dst = px + ((y0 + y) * w + x0 + x) * c;
                for (uint32_t k = 0; k < c; k++)
                    dst[k] = to_byte(img[k * plane + src]);
            }
    }
    vkvae_status st = vkvae_png_write(path, (uint32_t)w, (uint32_t)h, c, px, err);
    free(px);
    return st;
}
