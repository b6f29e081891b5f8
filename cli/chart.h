/* Line charts as PNG files: a white background, a framed plot area with
 * tick marks, numeric tick labels and light grid lines, one coloured line
 * with round point markers per series, a legend, and axis labels. Axes
 * span the data rounded out to "nice" tick steps (1, 2 or 5 times a power
 * of ten); the y axis keeps at least 5% of headroom above and below. */
#ifndef VKVAE_CLI_CHART_H
#define VKVAE_CLI_CHART_H

#include <stdint.h>

#include "canvas.h"
#include "error.h"

enum { CHART_MIN_SIDE = 200, CHART_MAX_SIDE = 8192 };

typedef struct chart_series {
    const char *name;    /* legend text */
    canvas_colour colour;
    const double *x, *y; /* n points, x ascending, all finite */
    uint32_t n;
} chart_series;

typedef struct chart_desc {
    uint32_t width, height;    /* CHART_MIN_SIDE .. CHART_MAX_SIDE */
    const char *x_label, *y_label;
    int x_integer;             /* x ticks at whole numbers only (epochs) */
    const chart_series *series;
    uint32_t n_series;
} chart_desc;

/* Draws the chart and writes it as an RGB PNG, atomically (io/atomic.h).
 * Fails with BAD_INPUT naming path for a size out of range, no points, or
 * values beyond +-1e30 (charts of such numbers are not meaningful). */
vkvae_status chart_write_png(const char *path, const chart_desc *desc, vkvae_error *err);

#endif
