/* An RGB raster to draw charts on: filled rectangles, thick lines, round
 * markers and bitmap-font text, all in whole pixels with no anti-aliasing,
 * so every drawn pixel has exactly its colour (tests look for them) and
 * the same drawing gives the same bytes. Everything clips to the raster. */
#ifndef VKVAE_CLI_CANVAS_H
#define VKVAE_CLI_CANVAS_H

#include <stdint.h>

typedef struct canvas_colour {
    uint8_t r, g, b;
} canvas_colour;

typedef struct canvas {
    int32_t width, height;
    uint8_t *rgb; /* width * height * 3 bytes, rows top to bottom */
} canvas;

/* Allocates the raster filled with background; 0 on success, -1 when out
 * of memory. */
int canvas_init(canvas *c, uint32_t width, uint32_t height, canvas_colour background);
void canvas_free(canvas *c);

/* Fills the rectangle of corners (x0, y0) and (x1, y1), both included. */
void canvas_rect(canvas *c, int32_t x0, int32_t y0, int32_t x1, int32_t y1, canvas_colour col);

/* A line from (x0, y0) to (x1, y1) drawn with a square brush of side
 * thickness centred on each pixel of its Bresenham path. */
void canvas_line(canvas *c, int32_t x0, int32_t y0, int32_t x1, int32_t y1, int32_t thickness,
                 canvas_colour col);

/* A filled disc of the given radius centred on (x, y). */
void canvas_disc(canvas *c, int32_t x, int32_t y, int32_t radius, canvas_colour col);

/* text with its top-left corner at (x, y), each font pixel scale x scale. */
void canvas_text(canvas *c, int32_t x, int32_t y, const char *text, uint32_t scale,
                 canvas_colour col);

#endif
