/* The fast float convolutions (fast_conv.h). All six ops are one matrix
 * product each around an im2col or col2im, over a chunk of B images at a
 * time so that the product is wide even where a layer's images are small
 * (a 2x2 output has 4 columns per image):
 *
 * Both convolutions pair an "image" side, where the kernel's window slides,
 * with an "other" side whose every pixel is one window position (a grid
 * point): conv2d's image is x and its grid y's pixels; convt2d's image is y
 * and its grid x's pixels. With Kc = (image channels) k k rows of windows,
 * L = B (grid points) columns, and W viewed as [other channels, Kc] (conv2d
 * w:[c_out, c_in k k], convt2d w:[c_in, c_out k k], PyTorch's layouts as
 * they are):
 *
 *   col[Kc, L]    = im2col(image side)          the window of every grid point
 *   other[C, L]   = W col                       conv2d, convt2d_bwd_x
 *   col[Kc, L]    = W^T other; image += col2im  conv2d_bwd_x, convt2d
 *   dW[C, Kc]     = other col^T, over all n     conv2d_bwd_w, convt2d_bwd_w
 *
 * where "other" is gathered from (or scattered to) its [B, C, grid] images
 * as [C, B grid] rows. Bias and activation join the scatter of the forward
 * ops (conv2d) or a pass over the chunk's output while it is in cache
 * (convt2d, after col2im). The bias gradient is a sum of dy's planes.
 *
 * A masked convolution (conv2d's mode 1 or 2: its weight went through
 * conv_mask A or B) builds and multiplies only its live taps, the rows
 * (c, ky, kx) of col whose weights the mask keeps: 12 of a 5x5 window's 25
 * for mask A, 5 of a 3x3's 9 for B, about half the work. The weight's
 * live columns are packed first (W has them in place), and its gradient's
 * masked columns are written 0 (conv_mask would zero them anyway).
 *
 * The row ops take any block of images (each image's output depends on
 * that image alone); the weight gradients split dW's Kc columns between
 * parts (each part builds only its rows of col, for all images) and db's
 * channels. Chunks depend only on the shape, never on the thread count, so
 * the results do not either.
 */
#include "fast_conv.h"

#include <string.h>

#include "fast_math.h"
#include "pool.h"

#if VKVAE_HAVE_OPENBLAS
#include <cblas.h>
#endif

enum {
    CHUNK_FLOATS = 1u << 19, /* a chunk's col plus other: 2 MiB, about an L2 */
    DW_ALIGN = 8,            /* dW columns per unit of a part's share */
    SUM_LANES = 16,
};

/* The image side (channels c, h x w pixels), its grid (gh x gw window
 * positions) and the window: grid point (gy, gx) sees image pixel
 * (gy stride - pad + ky, gx stride - pad + kx). */
enum { MAX_TAPS = 64 }; /* windows up to 8x8 list their live taps */

typedef struct cgeom {
    uint32_t c, h, w, gh, gw, k, stride, pad;
    uint32_t ntaps;             /* taps a channel: k k, or a mask's live ones */
    uint8_t tap[MAX_TAPS];      /* ky k + kx of each, ascending */
} cgeom;

typedef struct view {
    cgeom g;
    uint32_t kc;    /* rows of col: c k k */
    uint32_t other; /* channels of the other side */
    uint32_t grid;  /* gh gw: columns of col per image */
    uint32_t plane; /* h w: pixels of an image-side plane */
    int transposed; /* convt2d's family */
    int masked;     /* only the live taps of a masked conv2d */
} view;

static int is_conv(vkvae_op op)
{
    return op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONV2D_BWD_W;
}

static int is_convt(vkvae_op op)
{
    return op == VKVAE_OP_CONVT2D || op == VKVAE_OP_CONVT2D_BWD_X || op == VKVAE_OP_CONVT2D_BWD_W;
}

static view view_of(vkvae_op op, const vkvae_op_params *p)
{
    view v = {0};
    if (is_conv(op)) {
        v.g = (cgeom){p->c_in, p->h_in, p->w_in, p->h_out, p->w_out, p->k, p->stride, p->pad,
                      0, {0}};
        v.other = p->c_out;
    } else {
        v.g = (cgeom){p->c_out, p->h_out, p->w_out, p->h_in, p->w_in, p->k, p->stride, p->pad,
                      0, {0}};
        v.other = p->c_in;
        v.transposed = is_convt(op);
    }
    uint32_t k = v.g.k, half = k / 2;
    v.masked = is_conv(op) && (p->mode == 1 || p->mode == 2) && k * k <= MAX_TAPS;
    v.g.ntaps = 0;
    for (uint32_t t = 0; k * k <= MAX_TAPS && t < k * k; t++) {
        uint32_t ky = t / k, kx = t % k;
        if (!v.masked || ky < half || (ky == half && (p->mode == 1 ? kx < half : kx <= half)))
            v.g.tap[v.g.ntaps++] = (uint8_t)t;
    }
    if (k * k > MAX_TAPS)
        v.g.ntaps = k * k; /* (all taps; tap[] unused: tap_of computes them) */
    v.kc = v.g.c * v.g.ntaps;
    v.grid = v.g.gh * v.g.gw;
    v.plane = v.g.h * v.g.w;
    return v;
}

#if VKVAE_HAVE_OPENBLAS
/* Images per product: as many as keep col and other within CHUNK_FLOATS,
 * at least one. */
static uint32_t chunk_images(const view *v, uint32_t n)
{
    uint64_t per = ((uint64_t)v->kc + v->other) * v->grid;
    uint64_t b = per ? CHUNK_FLOATS / per : n;
    if (b < 1)
        b = 1;
    return (uint32_t)(b < n ? b : n);
}
#endif

int vkvae_fast_conv_is_rows(vkvae_op op)
{
    return op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONV2D_BWD_X || op == VKVAE_OP_CONVT2D ||
           op == VKVAE_OP_CONVT2D_BWD_X;
}

uint64_t vkvae_fast_conv_scratch(vkvae_op op, const vkvae_op_params *p)
{
#if VKVAE_HAVE_OPENBLAS
    if (!is_conv(op) && !is_convt(op))
        return 0;
    view v = view_of(op, p);
    if (!p->n || !v.kc || !v.grid || !v.other)
        return 0;
    /* a masked one's packed weight, or its weight gradient's live columns;
     * a strided one's tap table */
    uint64_t packed = v.masked ? (uint64_t)v.other * v.kc : 0;
    uint64_t tab = v.g.stride > 1 ? (uint64_t)v.g.ntaps * v.grid : 0;
    return ((uint64_t)v.kc + v.other) * v.grid * chunk_images(&v, p->n) + packed + tab;
#else
    (void)op;
    (void)p;
    return 0;
#endif
}

double vkvae_fast_conv_macs(vkvae_op op, const vkvae_op_params *p)
{
    view v = view_of(op, p);
    return (double)p->n * v.other * v.kc * v.grid;
}

uint64_t vkvae_fast_conv_row_width(vkvae_op op, const vkvae_op_params *p, uint32_t b)
{
    uint64_t x = (uint64_t)p->c_in * p->h_in * p->w_in, y = (uint64_t)p->c_out * p->h_out * p->w_out;
    switch (op) {
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONVT2D: return b == 0 ? x : b == 3 ? y : 0;
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONVT2D_BWD_X: return b == 0 ? y : b >= 2 ? x : 0;
    default: return 0;
    }
}

#if VKVAE_HAVE_OPENBLAS

/* Grid positions [lo, hi) along one axis whose tap at kernel offset kpos
 * lands inside the image's size pixels. */
static void span_of(uint32_t kpos, const cgeom *g, uint32_t size, uint32_t gsize, uint32_t *lo,
                    uint32_t *hi)
{
    int64_t off = (int64_t)kpos - g->pad, s = g->stride;
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t last = (int64_t)size - 1 - off;
    int64_t e = last < 0 ? 0 : last / s + 1;
    if (e > gsize)
        e = gsize;
    if (a > e)
        a = e;
    *lo = (uint32_t)a;
    *hi = (uint32_t)e;
}

/* Row r of col: channel c, tap (ky, kx) (the ntaps taps of a channel in
 * order: all, or a mask's live ones). */
static inline void tap_of(const cgeom *g, uint32_t r, uint32_t *c, uint32_t *ky, uint32_t *kx)
{
    uint32_t t = r % g->ntaps;
    *c = r / g->ntaps;
    if (g->k * g->k <= MAX_TAPS)
        t = g->tap[t];
    *ky = t / g->k;
    *kx = t % g->k;
}

/* Where row r of col reads its image: the channel's plane, the grid rows
 * [ylo, yhi) and columns [xlo, xhi) whose tap lands inside the image (the
 * rest are 0), and the pixel under grid point (0, 0), which may lie
 * outside (offy, offx). The same for every image: worked out once a row
 * for a chunk's images, not once an image. */
typedef struct row_span {
    uint64_t plane;
    int64_t offy, offx;
    uint32_t ylo, yhi, xlo, xhi;
} row_span;

static row_span row_span_of(const cgeom *g, uint32_t r)
{
    uint32_t c, ky, kx;
    row_span s;
    tap_of(g, r, &c, &ky, &kx);
    span_of(ky, g, g->h, g->gh, &s.ylo, &s.yhi);
    span_of(kx, g, g->w, g->gw, &s.xlo, &s.xhi);
    s.plane = (uint64_t)c * g->h * g->w;
    s.offy = (int64_t)ky - g->pad;
    s.offx = (int64_t)kx - g->pad;
    return s;
}

/* A strided convolution's rows are short gathers (a 14-wide row of col
 * reads every other pixel of its image row), where working out each row's
 * span costs more than its copies. Its taps' reads as a table shared by
 * every channel and image: tab[t grid + j] is the pixel of a plane that
 * tap t (of the channel's ntaps) reads for grid point j, or -1 where that
 * lands in the padding. ntaps x grid int32s after the chunk's floats. */
static void tap_table(const cgeom *g, int32_t *tab)
{
    const uint32_t grid = g->gh * g->gw;
    for (uint32_t t = 0; t < g->ntaps; t++) {
        row_span sp = row_span_of(g, t); /* channel 0's row t: plane 0 */
        for (uint32_t gy = 0; gy < g->gh; gy++)
            for (uint32_t gx = 0; gx < g->gw; gx++) {
                int inside = gy >= sp.ylo && gy < sp.yhi && gx >= sp.xlo && gx < sp.xhi;
                tab[t * grid + gy * g->gw + gx] =
                    inside ? (int32_t)(((int64_t)gy * g->stride + sp.offy) * g->w +
                                       (int64_t)gx * g->stride + sp.offx)
                           : -1;
            }
    }
}

/* col rows [r0, r1) (row r - r0 at col + (r - r0) ld; image i's grid points
 * at i grid along it) of b images imgs:[b, c, h, w]; taps outside an image
 * are 0. tab: tap_table's, for a strided convolution (else NULL). */
FAST_VEC static void im2col(const cgeom *g, const int32_t *restrict tab, const float *restrict imgs,
                            uint64_t img_size, uint32_t b, uint32_t r0, uint32_t r1,
                            float *restrict col, uint64_t ld)
{
    const uint64_t grid = (uint64_t)g->gh * g->gw;
    if (tab) {
        for (uint32_t r = r0; r < r1; r++) {
            const int32_t *restrict ix = tab + (uint64_t)(r % g->ntaps) * grid;
            const float *restrict plane = imgs + (uint64_t)(r / g->ntaps) * g->h * g->w;
            float *restrict row = col + (uint64_t)(r - r0) * ld;
            for (uint32_t i = 0; i < b; i++, plane += img_size, row += grid)
                for (uint64_t j = 0; j < grid; j++)
                    row[j] = ix[j] < 0 ? 0.0f : plane[ix[j]];
        }
        return;
    }
    for (uint32_t r = r0; r < r1; r++) {
        const row_span sp = row_span_of(g, r);
        for (uint32_t i = 0; i < b; i++) {
            const float *plane = imgs + i * img_size + sp.plane;
            float *restrict dst = col + (uint64_t)(r - r0) * ld + i * grid;
            if (sp.ylo > 0)
                memset(dst, 0, (size_t)sp.ylo * g->gw * sizeof *dst);
            for (uint32_t gy = sp.ylo; gy < sp.yhi; gy++) {
                float *restrict d = dst + (uint64_t)gy * g->gw;
                const float *restrict src = plane + ((int64_t)gy * g->stride + sp.offy) * g->w + sp.offx;
                for (uint32_t gx = 0; gx < sp.xlo; gx++)
                    d[gx] = 0;
                if (g->stride == 1)
                    memcpy(d + sp.xlo, src + sp.xlo, (size_t)(sp.xhi - sp.xlo) * sizeof *d);
                else
                    for (uint32_t gx = sp.xlo; gx < sp.xhi; gx++)
                        d[gx] = src[(uint64_t)gx * g->stride];
                for (uint32_t gx = sp.xhi; gx < g->gw; gx++)
                    d[gx] = 0;
            }
            if (sp.yhi < g->gh)
                memset(dst + (uint64_t)sp.yhi * g->gw, 0,
                       (size_t)(g->gh - sp.yhi) * g->gw * sizeof *dst);
        }
    }
}

/* imgs:[b, c, h, w] += col2im(col rows [0, kc)) of each image, the adjoint
 * of im2col. (Spans, not tap_table's: a conditional scatter ran slower.) */
FAST_VEC static void col2im_add(const cgeom *g, float *restrict imgs, uint64_t img_size,
                                uint32_t b, const float *restrict col, uint64_t ld)
{
    const uint64_t grid = (uint64_t)g->gh * g->gw;
    for (uint32_t r = 0; r < g->c * g->ntaps; r++) {
        const row_span sp = row_span_of(g, r);
        for (uint32_t i = 0; i < b; i++) {
            float *plane = imgs + i * img_size + sp.plane;
            const float *restrict src = col + (uint64_t)r * ld + i * grid;
            for (uint32_t gy = sp.ylo; gy < sp.yhi; gy++) {
                const float *restrict s = src + (uint64_t)gy * g->gw;
                float *restrict d = plane + ((int64_t)gy * g->stride + sp.offy) * g->w + sp.offx;
                if (g->stride == 1)
                    for (uint32_t gx = sp.xlo; gx < sp.xhi; gx++)
                        d[gx] += s[gx];
                else
                    for (uint32_t gx = sp.xlo; gx < sp.xhi; gx++)
                        d[(uint64_t)gx * g->stride] += s[gx];
            }
        }
    }
}

FAST_VEC static float sum_floats(const float *restrict x, uint64_t count)
{
    float lane[SUM_LANES] = {0}, acc = 0;
    uint64_t i = 0;
    for (; i + SUM_LANES <= count; i += SUM_LANES)
        for (uint32_t k = 0; k < SUM_LANES; k++)
            lane[k] += x[i + k];
    for (; i < count; i++)
        acc += x[i];
    for (uint32_t k = 0; k < SUM_LANES; k++)
        acc += lane[k];
    return acc;
}

/* Column r of a live-tap matrix [C, c ntaps] is column c k k + tap of the
 * whole window's [C, c k k]. */
static uint64_t full_column(const cgeom *g, uint32_t r)
{
    uint32_t c, ky, kx;
    tap_of(g, r, &c, &ky, &kx);
    return (uint64_t)c * g->k * g->k + ky * g->k + kx;
}

/* packed[C, kc] = the live columns of w[C, c k k] (a masked conv2d's). */
static void pack_live(const view *v, const float *w, float *packed)
{
    uint64_t full = (uint64_t)v->g.c * v->g.k * v->g.k;
    for (uint32_t r = 0; r < v->kc; r++) {
        uint64_t f = full_column(&v->g, r);
        for (uint32_t o = 0; o < v->other; o++)
            packed[(uint64_t)o * v->kc + r] = w[o * full + f];
    }
}

/* rows[C, L]: row c, columns i grid .. = planes c of images [0, b) of
 * src:[b, C, grid] */
static void gather_planes(float *rows, const float *src, uint32_t b, uint32_t C, uint32_t grid,
                          uint64_t L)
{
    for (uint32_t i = 0; i < b; i++)
        for (uint32_t c = 0; c < C; c++)
            memcpy(rows + c * L + (uint64_t)i * grid, src + ((uint64_t)i * C + c) * grid,
                   (size_t)grid * sizeof *rows);
}

void vkvae_fast_conv_rows(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                          uint64_t lo, uint64_t hi)
{
    view v = view_of(op, p);
    const cgeom *g = &v.g;
    uint32_t B = chunk_images(&v, p->n);
    uint64_t img_size = (uint64_t)g->c * v.plane, oth_size = (uint64_t)v.other * v.grid;
    /* image side to other side (conv2d, convt2d_bwd_x), or back */
    int forward = op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONVT2D_BWD_X;
    int biased = op == VKVAE_OP_CONV2D || op == VKVAE_OP_CONVT2D;
    const float *src = t[0], *w = t[1], *bias = biased ? t[2] : NULL;
    float *dst = t[3]; /* the input gradients' x (t[2]) is fast_ops.c's to apply */
    float *after = scratch + ((uint64_t)v.kc + v.other) * v.grid * B; /* the chunks' space */
    if (v.masked) { /* the live taps' weights */
        pack_live(&v, w, after);
        w = after;
        after += (uint64_t)v.other * v.kc;
    }
    int32_t *tab = g->stride > 1 ? (int32_t *)after : NULL;
    if (tab)
        tap_table(g, tab);
    for (uint64_t s0 = lo; s0 < hi; s0 += B) {
        uint32_t b = (uint32_t)(hi - s0 < B ? hi - s0 : B);
        uint64_t L = (uint64_t)b * v.grid;
        float *col = scratch, *oth = scratch + (uint64_t)v.kc * L;
        if (forward) {
            im2col(g, tab, src + s0 * img_size, img_size, b, 0, v.kc, col, L);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)v.other, (int)L, (int)v.kc,
                        1.0f, w, (int)v.kc, col, (int)L, 0.0f, oth, (int)L);
            for (uint32_t i = 0; i < b; i++)
                for (uint32_t c = 0; c < v.other; c++)
                    fm_act_bias(dst + (s0 + i) * oth_size + (uint64_t)c * v.grid,
                                oth + c * L + (uint64_t)i * v.grid, NULL, bias ? bias[c] : 0.0f,
                                v.grid, bias ? p->act : VKVAE_ACT_NONE, p->alpha);
        } else {
            gather_planes(oth, src + s0 * oth_size, b, v.other, v.grid, L);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)v.kc, (int)L, (int)v.other,
                        1.0f, w, (int)v.kc, oth, (int)L, 0.0f, col, (int)L);
            float *imgs = dst + s0 * img_size;
            memset(imgs, 0, (size_t)(b * img_size) * sizeof *imgs);
            col2im_add(g, imgs, img_size, b, col, L);
            if (bias)
                for (uint64_t c = 0; c < (uint64_t)b * g->c; c++)
                    fm_act_bias(imgs + c * v.plane, imgs + c * v.plane, NULL, bias[c % g->c],
                                v.plane, p->act, p->alpha);
        }
    }
}

void vkvae_fast_conv_bwd_w(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                           uint32_t part, uint32_t parts)
{
    view v = view_of(op, p);
    const cgeom *g = &v.g;
    uint32_t B = chunk_images(&v, p->n);
    uint64_t img_size = (uint64_t)g->c * v.plane, oth_size = (uint64_t)v.other * v.grid;
    const float *dy = t[0];
    const float *oth_src = v.transposed ? t[1] : t[0], *img_src = v.transposed ? t[0] : t[1];
    float *dw = t[2], *db = t[3];
    uint64_t r0, r1;
    vkvae_pool_split(v.kc, DW_ALIGN, part, parts, &r0, &r1);
    /* a masked conv2d's live columns go to dw_live [other, kc] first */
    uint64_t full = (uint64_t)g->c * g->k * g->k;
    float *after = scratch + ((uint64_t)v.kc + v.other) * v.grid * B; /* the chunks' space */
    float *dw_live = v.masked ? after : dw;
    uint64_t ldw = v.masked ? v.kc : full;
    int32_t *tab = g->stride > 1 ? (int32_t *)(after + (v.masked ? (uint64_t)v.other * v.kc : 0))
                                 : NULL;
    if (tab && r0 < r1)
        tap_table(g, tab);
    if (r0 < r1)
        for (uint64_t s0 = 0; s0 < p->n; s0 += B) {
            uint32_t b = (uint32_t)(p->n - s0 < B ? p->n - s0 : B);
            uint64_t L = (uint64_t)b * v.grid;
            float *oth = scratch, *col = scratch + v.other * L;
            gather_planes(oth, oth_src + s0 * oth_size, b, v.other, v.grid, L);
            im2col(g, tab, img_src + s0 * img_size, img_size, b, (uint32_t)r0, (uint32_t)r1, col, L);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)v.other, (int)(r1 - r0),
                        (int)L, 1.0f, oth, (int)L, col, (int)L, s0 ? 1.0f : 0.0f, dw_live + r0,
                        (int)ldw);
        }
    if (v.masked) {
        for (uint64_t r = r0; r < r1; r++) {
            uint64_t f = full_column(g, (uint32_t)r);
            for (uint32_t o = 0; o < v.other; o++)
                dw[o * full + f] = dw_live[o * ldw + r];
        }
        if (part == 0) { /* the masked taps' gradient is 0 */
            uint64_t r = 0;
            for (uint64_t f = 0; f < full; f++) {
                if (r < v.kc && full_column(g, (uint32_t)r) == f) {
                    r++;
                    continue;
                }
                for (uint32_t o = 0; o < v.other; o++)
                    dw[o * full + f] = 0;
            }
        }
    }
    /* db[c_out]: the planes of dy, the other side of conv2d, the image side
     * of convt2d */
    uint32_t planes = v.transposed ? g->c : v.other;
    uint64_t size = v.transposed ? v.plane : v.grid;
    uint64_t c0, c1;
    vkvae_pool_split(planes, 1, part, parts, &c0, &c1);
    for (uint64_t c = c0; c < c1; c++) {
        float acc = 0;
        for (uint32_t s = 0; s < p->n; s++)
            acc += sum_floats(dy + ((uint64_t)s * planes + c) * size, size);
        db[c] = acc;
    }
}

#else

void vkvae_fast_conv_rows(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                          uint64_t lo, uint64_t hi)
{
    (void)op, (void)p, (void)t, (void)scratch, (void)lo, (void)hi;
}

void vkvae_fast_conv_bwd_w(vkvae_op op, const vkvae_op_params *p, void *const *t, float *scratch,
                           uint32_t part, uint32_t parts)
{
    (void)op, (void)p, (void)t, (void)scratch, (void)part, (void)parts;
}

#endif
