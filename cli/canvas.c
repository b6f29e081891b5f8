/* Drawing on an RGB raster (see canvas.h). Every primitive goes through
 * canvas_rect, which does the clipping, so no primitive can write outside
 * the raster whatever coordinates a chart computes. */
#include "canvas.h"

#include <stdlib.h>

#include "font.h"

int canvas_init(canvas *c, uint32_t width, uint32_t height, canvas_colour background)
{
    *c = (canvas){0};
    if (!width || !height || width > INT32_MAX / 4 || height > INT32_MAX / 4)
        return -1;
    size_t pixels = (size_t)width * height;
    c->rgb = malloc(pixels * 3);
    if (!c->rgb)
        return -1;
    c->width = (int32_t)width;
    c->height = (int32_t)height;
    for (size_t i = 0; i < pixels; i++) {
        c->rgb[3 * i] = background.r;
        c->rgb[3 * i + 1] = background.g;
        c->rgb[3 * i + 2] = background.b;
    }
    return 0;
}

void canvas_free(canvas *c)
{
    free(c->rgb);
    *c = (canvas){0};
}

void canvas_rect(canvas *c, int32_t x0, int32_t y0, int32_t x1, int32_t y1, canvas_colour col)
{
    if (x0 > x1) {
        int32_t t = x0;
        x0 = x1, x1 = t;
    }
    if (y0 > y1) {
        int32_t t = y0;
        y0 = y1, y1 = t;
    }
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 >= c->width)
        x1 = c->width - 1;
    if (y1 >= c->height)
        y1 = c->height - 1;
    for (int32_t y = y0; y <= y1; y++)
        for (int32_t x = x0; x <= x1; x++) {
            uint8_t *p = c->rgb + ((size_t)y * (size_t)c->width + (size_t)x) * 3;
            p[0] = col.r, p[1] = col.g, p[2] = col.b;
        }
}

void canvas_line(canvas *c, int32_t x0, int32_t y0, int32_t x1, int32_t y1, int32_t thickness,
                 canvas_colour col)
{
    int32_t before = (thickness - 1) / 2, after = thickness - 1 - before;
    int64_t dx = llabs((int64_t)x1 - x0), dy = -llabs((int64_t)y1 - y0);
    int32_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int64_t e = dx + dy;
    for (;;) {
        canvas_rect(c, x0 - before, y0 - before, x0 + after, y0 + after, col);
        if (x0 == x1 && y0 == y1)
            break;
        int64_t e2 = 2 * e;
        if (e2 >= dy)
            e += dy, x0 += sx;
        if (e2 <= dx)
            e += dx, y0 += sy;
    }
}

void canvas_disc(canvas *c, int32_t x, int32_t y, int32_t radius, canvas_colour col)
{
    /* r*r + r rounds the rim outwards so small discs look round, not square. */
    int64_t limit = (int64_t)radius * radius + radius;
    for (int32_t dy = -radius; dy <= radius; dy++)
        for (int32_t dx = -radius; dx <= radius; dx++)
            if ((int64_t)dx * dx + (int64_t)dy * dy <= limit)
                canvas_rect(c, x + dx, y + dy, x + dx, y + dy, col);
}

void canvas_text(canvas *c, int32_t x, int32_t y, const char *text, uint32_t scale,
                 canvas_colour col)
{
    int32_t s = (int32_t)scale;
    for (; *text; text++, x += FONT_ADVANCE * s) {
        const uint8_t *rows = font_glyph(*text);
        for (int32_t gy = 0; gy < FONT_H; gy++)
            for (int32_t gx = 0; gx < FONT_W; gx++)
                if (rows[gy] & (0x10 >> gx))
                    canvas_rect(c, x + gx * s, y + gy * s, x + gx * s + s - 1,
                                y + gy * s + s - 1, col);
    }
}
