/* PNG output: 8-bit grey or RGB images, and grids of float images (sample
 * sheets, reconstructions, interpolations). */
#ifndef VKVAE_IO_PNG_H
#define VKVAE_IO_PNG_H

#include <stdint.h>

#include "error.h"

/* Writes a width x height image of channels (1 = grey, 2 = grey+alpha,
 * 3 = RGB, 4 = RGBA) 8-bit samples, rows top to bottom, interleaved,
 * width * channels bytes per row; atomically (io/atomic.h), with no
 * timestamp or other varying chunk, so the same pixels give the same bytes.
 * Width and height are 1 .. 1000000. */
vkvae_status vkvae_png_write(const char *path, uint32_t width, uint32_t height,
                             uint32_t channels, const uint8_t *pixels, vkvae_error *err);

typedef struct vkvae_png_grid {
    uint32_t count;         /* images B */
    uint32_t channels;      /* C: 1 (grey) or 3 (RGB) */
    uint32_t height, width; /* H, W of each image */
    const float *images;    /* B*C*H*W floats, planar [b][c][y][x], in [0,1]: clamped, NaN 0 */
    uint32_t cols;          /* images per grid row; 0 = ceil(sqrt(B)) */
    uint32_t scale;         /* nearest-neighbour upscale per image; 0 = 1 */
    uint32_t pad;           /* pixels between tiles and around the grid; 0 = none */
    float background[3];    /* padding and empty-cell colour in [0,1]; grey uses [0]; 0 = black */
} vkvae_png_grid;

/* Tiles desc->images into rows of desc->cols and writes them as one PNG:
 * width = cols*W*scale + (cols+1)*pad, height = rows*H*scale + (rows+1)*pad
 * with rows = ceil(B/cols). A value v becomes floor(255*v + 0.5). */
vkvae_status vkvae_png_write_grid(const char *path, const vkvae_png_grid *desc,
                                  vkvae_error *err);

#endif
