/* Line charts (see chart.h). Layout works outwards from fixed text sizes:
 * the top and bottom margins hold one line of text each, so the plot's
 * height is known first; it sets how many y ticks fit, their labels set
 * the left margin, and that sets the plot's width and the x ticks. Data
 * maps to whole pixels with lround, so a chart is the same bytes on every
 * run of the same binary. */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "font.h"
#include "io/png.h"

#define MAX_ABS 1e30
#define MAX_TICKS 16

static const canvas_colour white = {255, 255, 255}, black = {0, 0, 0}, grid = {225, 225, 225},
                           legend_border = {160, 160, 160};

typedef struct axis {
    double lo, hi, step;
    int n_ticks;
    char labels[MAX_TICKS][32];
    uint32_t label_width; /* widest label, pixels */
} axis;

/* 1, 2 or 5 times a power of ten: the nearest to x (round) or the
 * smallest not below it. */
static double nice_number(double x, int round)
{
    double p = pow(10.0, floor(log10(x))), f = x / p, nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * p;
}

/* Fits an axis to data in [min, max] with about `target` ticks: pads by
 * `pad` of the span on each side, widens a zero or near-zero span (so
 * ticks stay distinct in double precision), and rounds out to whole tick
 * steps. */
static void axis_fit(axis *a, double min, double max, int target, double pad, int integer,
                     uint32_t scale)
{
    double mag = fmax(fabs(min), fabs(max));
    /* The smallest half-range; 1e-200 keeps steps far from underflow. */
    double least = integer ? 0.5 : fmax(mag * 1e-6, 1e-200);
    if (max - min < 2 * least) {
        /* One value shows with 5% of room (an epoch either side on x); a
         * tiny spread gets the least half-range. */
        double mid = min / 2 + max / 2;
        double half = max > min ? least : integer ? 1.0 : mag > 1e-200 ? mag * 0.05 : 1.0;
        min = mid - half, max = mid + half;
    } else {
        double d = (max - min) * pad;
        min -= d, max += d;
    }
    a->step = nice_number((max - min) / (target - 1), 1);
    if (integer && a->step < 1)
        a->step = 1;
    while ((ceil(max / a->step) - floor(min / a->step)) + 1 > MAX_TICKS)
        a->step = nice_number(a->step * 1.5, 0);
    double k0 = floor(min / a->step), k1 = ceil(max / a->step);
    a->lo = k0 * a->step, a->hi = k1 * a->step;
    a->n_ticks = (int)(k1 - k0) + 1;

    /* Fixed-point labels with as many decimals as the step needs; labels
     * too wide for that (huge or tiny numbers) switch to exponent form. */
    int decimals = (int)fmax(0.0, -floor(log10(a->step) + 1e-9));
    int exp_form = 0;
    for (int pass = 0; pass < 2; pass++) {
        a->label_width = 0;
        for (int i = 0; i < a->n_ticks; i++) {
            double v = (k0 + i) * a->step;
            if (fabs(v) < a->step * 1e-9)
                v = 0; /* no "-0.0" */
            if (exp_form) {
                int digits = (int)(floor(log10(fmax(fabs(a->lo), fabs(a->hi)))) -
                                   floor(log10(a->step)));
                snprintf(a->labels[i], sizeof a->labels[i], "%.*e",
                         digits < 0 ? 0 : digits > 8 ? 8 : digits, v);
            } else {
                snprintf(a->labels[i], sizeof a->labels[i], "%.*f", decimals, v);
            }
            uint32_t w = font_text_width(a->labels[i], scale);
            if (w > a->label_width)
                a->label_width = w;
            if (strlen(a->labels[i]) > 10)
                exp_form = 1;
        }
        if (!exp_form || pass == 1)
            break;
    }
}

static int32_t to_pixel(double v, const axis *a, int32_t p0, int32_t p1)
{
    return p0 + (int32_t)lround((v - a->lo) / (a->hi - a->lo) * (double)(p1 - p0));
}

static vkvae_status check(const char *path, const chart_desc *d, double *xr, double *yr,
                          vkvae_error *err)
{
    if (d->width < CHART_MIN_SIDE || d->width > CHART_MAX_SIDE || d->height < CHART_MIN_SIDE ||
        d->height > CHART_MAX_SIDE)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: chart size %ux%u outside %u..%u per side",
                          path, d->width, d->height, CHART_MIN_SIDE, CHART_MAX_SIDE);
    uint64_t points = 0;
    xr[0] = yr[0] = INFINITY, xr[1] = yr[1] = -INFINITY;
    for (uint32_t s = 0; s < d->n_series; s++)
        for (uint32_t i = 0; i < d->series[s].n; i++, points++) {
            double x = d->series[s].x[i], y = d->series[s].y[i];
            if (!(fabs(x) <= MAX_ABS && fabs(y) <= MAX_ABS))
                return vkvae_fail(err, VKVAE_BAD_INPUT,
                                  "%s: series '%s' point %u (%g, %g) is not a number within "
                                  "+-%g",
                                  path, d->series[s].name, i, x, y, MAX_ABS);
            xr[0] = fmin(xr[0], x), xr[1] = fmax(xr[1], x);
            yr[0] = fmin(yr[0], y), yr[1] = fmax(yr[1], y);
        }
    if (!points)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: a chart with no points", path);
    return VKVAE_OK;
}

static void draw_legend(canvas *c, const chart_desc *d, int32_t right, int32_t top, int32_t s)
{
    int32_t name_w = 0;
    for (uint32_t i = 0; i < d->n_series; i++) {
        int32_t w = (int32_t)font_text_width(d->series[i].name, (uint32_t)s);
        name_w = w > name_w ? w : name_w;
    }
    int32_t row = FONT_H * s + 6 * s, sample = 18 * s;
    int32_t x0 = right - (6 * s + sample + 6 * s + name_w + 6 * s), x1 = right;
    int32_t y0 = top, y1 = top + (int32_t)d->n_series * row + 6 * s;
    canvas_rect(c, x0, y0, x1, y1, legend_border);
    canvas_rect(c, x0 + 1, y0 + 1, x1 - 1, y1 - 1, white);
    for (uint32_t i = 0; i < d->n_series; i++) {
        const chart_series *se = &d->series[i];
        int32_t ty = y0 + 6 * s + (int32_t)i * row, cy = ty + FONT_H * s / 2;
        canvas_line(c, x0 + 6 * s, cy, x0 + 6 * s + sample, cy, 2 * s, se->colour);
        canvas_disc(c, x0 + 6 * s + sample / 2, cy, 3 * s, se->colour);
        canvas_text(c, x0 + 12 * s + sample, ty, se->name, (uint32_t)s, black);
    }
}

static void draw(canvas *c, const chart_desc *d, const double *xr, const double *yr)
{
    int32_t W = (int32_t)d->width, H = (int32_t)d->height;
    uint32_t su = d->width / 640 < d->height / 480 ? d->width / 640 : d->height / 480;
    int32_t s = su < 1 ? 1 : (int32_t)su, text_h = FONT_H * s, tick = 4 * s;

    int32_t top = 6 * s + text_h + 8 * s;                   /* y label line above the plot */
    int32_t bottom = tick + 3 * s + text_h + 6 * s + text_h + 6 * s; /* tick labels, x label */
    int32_t py0 = top, py1 = H - 1 - bottom;
    axis ya, xa;
    int target_y = (py1 - py0) / (40 * s);
    axis_fit(&ya, yr[0], yr[1], target_y < 3 ? 3 : target_y > 10 ? 10 : target_y, 0.05, 0,
             (uint32_t)s);
    int32_t px0 = 6 * s + (int32_t)ya.label_width + 3 * s + tick, px1 = W - 1 - 16 * s;
    int target_x = (px1 - px0) / (60 * s);
    axis_fit(&xa, xr[0], xr[1], target_x < 2 ? 2 : target_x > 10 ? 10 : target_x, 0.0,
             d->x_integer, (uint32_t)s);
    /* Data stays clear of the frame so markers on the first and last x
     * are whole. */
    int32_t inset = 6 * s, dx0 = px0 + inset, dx1 = px1 - inset;

    for (int i = 0; i < ya.n_ticks; i++) {
        int32_t y = to_pixel(ya.lo + i * ya.step, &ya, py1, py0);
        canvas_rect(c, px0, y, px1, y, grid);
        canvas_rect(c, px0 - tick, y, px0 - 1, y, black);
        int32_t w = (int32_t)font_text_width(ya.labels[i], (uint32_t)s);
        canvas_text(c, px0 - tick - 3 * s - w, y - text_h / 2, ya.labels[i], (uint32_t)s, black);
    }
    for (int i = 0; i < xa.n_ticks; i++) {
        int32_t x = to_pixel(xa.lo + i * xa.step, &xa, dx0, dx1);
        canvas_rect(c, x, py1 + 1, x, py1 + tick, black);
        int32_t w = (int32_t)font_text_width(xa.labels[i], (uint32_t)s);
        canvas_text(c, x - w / 2, py1 + tick + 3 * s, xa.labels[i], (uint32_t)s, black);
    }
    /* The frame: left and bottom axes, closed on the top and right. */
    canvas_rect(c, px0, py0, px0, py1, black);
    canvas_rect(c, px0, py1, px1, py1, black);
    canvas_rect(c, px1, py0, px1, py1, black);
    canvas_rect(c, px0, py0, px1, py0, black);

    for (uint32_t k = 0; k < d->n_series; k++) {
        const chart_series *se = &d->series[k];
        for (uint32_t i = 1; i < se->n; i++)
            canvas_line(c, to_pixel(se->x[i - 1], &xa, dx0, dx1),
                        to_pixel(se->y[i - 1], &ya, py1, py0), to_pixel(se->x[i], &xa, dx0, dx1),
                        to_pixel(se->y[i], &ya, py1, py0), 2 * s, se->colour);
        for (uint32_t i = 0; i < se->n; i++)
            canvas_disc(c, to_pixel(se->x[i], &xa, dx0, dx1), to_pixel(se->y[i], &ya, py1, py0),
                        3 * s, se->colour);
    }
    draw_legend(c, d, px1 - 6 * s, py0 + 6 * s, s);

    if (d->y_label)
        canvas_text(c, 6 * s, 6 * s, d->y_label, (uint32_t)s, black);
    if (d->x_label) {
        int32_t w = (int32_t)font_text_width(d->x_label, (uint32_t)s);
        canvas_text(c, (px0 + px1) / 2 - w / 2, H - 6 * s - text_h, d->x_label, (uint32_t)s,
                    black);
    }
}

vkvae_status chart_write_png(const char *path, const chart_desc *d, vkvae_error *err)
{
    double xr[2], yr[2];
    vkvae_status st = check(path, d, xr, yr, err);
    if (st)
        return st;
    canvas c;
    if (canvas_init(&c, d->width, d->height, white))
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for a %ux%u chart", path,
                          d->width, d->height);
    draw(&c, d, xr, yr);
    st = vkvae_png_write(path, d->width, d->height, 3, c.rgb, err);
    canvas_free(&c);
    return st;
}
