/* Image folders (suite 'io'): PNG files of every kind (grey, grey+alpha,
 * RGB, RGBA, palette with and without tRNS, grey with tRNS, 1- and 16-bit,
 * interlaced) and JPEG files (grey, colour) written here by libpng and
 * libjpeg load as the pixels written: lossless ones exactly (alpha over
 * white, black and a colour; colour to grey by the documented luma), JPEGs
 * within a few levels. Resizing (fit, stretch, none; shrinking, enlarging,
 * both) equals a double-precision reference written here from the
 * definitions (area overlap, bilinear with half-pixel centres), crop
 * offsets included. Layouts: flat, class subfolders at any depth, train/ and
 * test/, held-out splits; ignored files; byte-order sorting. Bad data:
 * every broken file stops the load naming it (or is counted under skip),
 * a header claiming 20000x20000 is refused before decoding, empty folders
 * and classes, too many classes and a missing folder fail with their
 * message. vkvae_data_source_load tells image folders from IDX folders.
 *   test_image_folder TMP_PARENT
 */
#include <stdio.h>   /* before jpeglib.h */

#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/data_source.h"
#include "io/image_folder.h"
#include "io_test.h"

/* ---- Writing test files ------------------------------------------------ */

static void mkdirs(const char *rel)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    for (char *s = p + strlen(tmpdir) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    mkdir(p, 0777);
}

/* Makes the folders above rel, returns tmpdir/rel. */
static const char *file_at(const char *rel)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", rel);
    char *slash = strrchr(d, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(d);
    }
    return tmp_path(rel);
}

typedef struct png_spec {
    uint32_t w, h;
    int color, depth, interlace;
    const uint8_t *rows;            /* packed as libpng takes them, big-endian 16-bit */
    const png_color *palette;
    int n_palette;
    const uint8_t *trns;            /* palette alphas */
    int n_trns;
    const png_color_16 *trns_value; /* grey or RGB transparent colour */
} png_spec;

static size_t png_row_bytes(const png_spec *s)
{
    int ch = s->color == PNG_COLOR_TYPE_GRAY || s->color == PNG_COLOR_TYPE_PALETTE ? 1
           : s->color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : s->color == PNG_COLOR_TYPE_RGB ? 3 : 4;
    return ((size_t)s->w * ch * s->depth + 7) / 8;
}

static void write_png(const char *rel, const png_spec *s)
{
    const char *path = file_at(rel);
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!f || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "%s: cannot write the test PNG\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette)
        png_set_PLTE(png, info, s->palette, s->n_palette);
    if (s->trns || s->trns_value)
        png_set_tRNS(png, info, s->trns, s->n_trns, s->trns_value);
    png_write_info(png, info);
    size_t rb = png_row_bytes(s);
    png_bytep *rows = malloc(s->h * sizeof *rows);
    for (uint32_t y = 0; y < s->h; y++)
        rows[y] = (png_bytep)s->rows + y * rb;
    png_write_image(png, rows);     /* interlaced too: it makes the passes */
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
}

/* comps 1 (grey), 3 (RGB) or 4 (CMYK) interleaved, at quality. */
static void write_jpeg(const char *rel, uint32_t w, uint32_t h, int comps, const uint8_t *px,
                       int quality)
{
    const char *path = file_at(rel);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w, c.image_height = h, c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW row = (JSAMPROW)px + (size_t)c.next_scanline * w * comps;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

static uint32_t rng_state = 12345;
static uint8_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (uint8_t)(rng_state >> 24);
}

/* A w x h image of random bytes, comps interleaved, malloc'ed. */
static uint8_t *random_pixels(uint32_t w, uint32_t h, int comps)
{
    uint8_t *p = malloc((size_t)w * h * comps);
    for (size_t i = 0; i < (size_t)w * h * comps; i++)
        p[i] = rnd();
    return p;
}

static void write_rgb_png(const char *rel, uint32_t w, uint32_t h, const uint8_t *px)
{
    write_png(rel, &(png_spec){.w = w, .h = h, .color = PNG_COLOR_TYPE_RGB, .depth = 8,
                               .rows = px});
}

static void write_grey_png(const char *rel, uint32_t w, uint32_t h, const uint8_t *px)
{
    write_png(rel, &(png_spec){.w = w, .h = h, .color = PNG_COLOR_TYPE_GRAY, .depth = 8,
                               .rows = px});
}

static void write_text(const char *rel, const char *text)
{
    write_bytes(file_at(rel), text, strlen(text));
}

/* Removes path and everything below it. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            remove_tree(p);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        remove(path);
    }
}

/* ---- Expected pixels, computed from the definitions -------------------- */

/* round((c a + bg (255 - a)) / 255), in double */
static int composite(int c, int a, int bg)
{
    return (int)floor((c * a + bg * (255.0 - a)) / 255.0 + 0.5);
}

/* The documented luma, (299 R + 587 G + 114 B) / 1000 rounded half up. */
static int luma(int r, int g, int b)
{
    return (299 * r + 587 * g + 114 * b + 500) / 1000;
}

/* A decoded pixel as the file holds it: rgb and alpha, 8-bit. */
typedef struct rgba {
    int r, g, b, a;
} rgba;

/* The expected C planes of n pixels px over background bg. */
static void expect_planes(uint8_t *out, const rgba *px, size_t n, int C, const int bg[3])
{
    for (size_t i = 0; i < n; i++) {
        int r = composite(px[i].r, px[i].a, bg[0]), g = composite(px[i].g, px[i].a, bg[1]);
        int b = composite(px[i].b, px[i].a, bg[2]);
        if (C == 1) {
            out[i] = (uint8_t)luma(r, g, b);
        } else {
            out[i] = (uint8_t)r, out[n + i] = (uint8_t)g, out[2 * n + i] = (uint8_t)b;
        }
    }
}

/* ---- PNG kinds, exactly ------------------------------------------------- */

enum { KW = 7, KH = 5, KN = KW * KH, KINDS = 11 };
static rgba kind_px[KINDS][KN];
static const char *const kind_names[KINDS] = {
    "a_grey8.png", "b_grey_alpha.png", "c_rgb.png", "d_rgba.png", "e_palette_trns.png",
    "f_palette.png", "g_rgb16.png", "h_grey_alpha16.png", "i_interlaced.png", "j_grey1.png",
    "k_grey_trns.png"};

static void write_kind(const char *rel, int color, int depth, int interlace, const uint8_t *buf)
{
    write_png(rel, &(png_spec){.w = KW, .h = KH, .color = color, .depth = depth,
                               .interlace = interlace, .rows = buf});
}

static int scale16(int v)
{
    return (int)floor(v * 255.0 / 65535.0 + 0.5);
}

static void write_kinds(void)
{
    uint8_t buf[KN * 8];
    /* grey 8 */
    for (int i = 0; i < KN; i++) {
        buf[i] = rnd();
        kind_px[0][i] = (rgba){buf[i], buf[i], buf[i], 255};
    }
    write_kind("kinds/a_grey8.png", PNG_COLOR_TYPE_GRAY, 8, 0, buf);
    /* grey + alpha: alphas include 0, 255 and in between */
    for (int i = 0; i < KN; i++) {
        buf[2 * i] = rnd();
        buf[2 * i + 1] = i % 5 == 0 ? 0 : i % 5 == 1 ? 255 : rnd();
        kind_px[1][i] = (rgba){buf[2 * i], buf[2 * i], buf[2 * i], buf[2 * i + 1]};
    }
    write_kind("kinds/b_grey_alpha.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, buf);
    /* RGB */
    for (int i = 0; i < KN; i++) {
        for (int c = 0; c < 3; c++)
            buf[3 * i + c] = rnd();
        kind_px[2][i] = (rgba){buf[3 * i], buf[3 * i + 1], buf[3 * i + 2], 255};
    }
    write_kind("kinds/c_rgb.png", PNG_COLOR_TYPE_RGB, 8, 0, buf);
    /* RGBA */
    for (int i = 0; i < KN; i++) {
        for (int c = 0; c < 3; c++)
            buf[4 * i + c] = rnd();
        buf[4 * i + 3] = i % 4 == 0 ? 0 : i % 4 == 1 ? 255 : rnd();
        kind_px[3][i] = (rgba){buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]};
    }
    write_kind("kinds/d_rgba.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, buf);
    /* palette of 8, the first 5 entries with alphas, then the same without tRNS */
    png_color pal[8];
    uint8_t trns[5] = {0, 64, 128, 200, 255};
    for (int k = 0; k < 8; k++)
        pal[k] = (png_color){rnd(), rnd(), rnd()};
    for (int i = 0; i < KN; i++) {
        buf[i] = (uint8_t)(rnd() % 8);
        png_color p = pal[buf[i]];
        kind_px[4][i] = (rgba){p.red, p.green, p.blue, buf[i] < 5 ? trns[buf[i]] : 255};
        kind_px[5][i] = (rgba){p.red, p.green, p.blue, 255};
    }
    png_spec spec = {.w = KW, .h = KH, .color = PNG_COLOR_TYPE_PALETTE, .depth = 8, .rows = buf,
                     .palette = pal, .n_palette = 8, .trns = trns, .n_trns = 5};
    write_png("kinds/e_palette_trns.png", &spec);
    spec.trns = NULL, spec.n_trns = 0;
    write_png("kinds/f_palette.png", &spec);
    /* 16-bit RGB (big-endian samples) */
    for (int i = 0; i < KN; i++) {
        int v[3];
        for (int c = 0; c < 3; c++) {
            v[c] = rnd() << 8 | rnd();
            buf[6 * i + 2 * c] = (uint8_t)(v[c] >> 8);
            buf[6 * i + 2 * c + 1] = (uint8_t)v[c];
        }
        kind_px[6][i] = (rgba){scale16(v[0]), scale16(v[1]), scale16(v[2]), 255};
    }
    write_kind("kinds/g_rgb16.png", PNG_COLOR_TYPE_RGB, 16, 0, buf);
    /* 16-bit grey + alpha */
    for (int i = 0; i < KN; i++) {
        int g = rnd() << 8 | rnd(), a = i % 3 == 0 ? 0xFFFF : rnd() << 8 | rnd();
        buf[4 * i] = (uint8_t)(g >> 8), buf[4 * i + 1] = (uint8_t)g;
        buf[4 * i + 2] = (uint8_t)(a >> 8), buf[4 * i + 3] = (uint8_t)a;
        kind_px[7][i] = (rgba){scale16(g), scale16(g), scale16(g), scale16(a)};
    }
    write_kind("kinds/h_grey_alpha16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, buf);
    /* interlaced RGB (Adam7) */
    for (int i = 0; i < KN; i++) {
        for (int c = 0; c < 3; c++)
            buf[3 * i + c] = rnd();
        kind_px[8][i] = (rgba){buf[3 * i], buf[3 * i + 1], buf[3 * i + 2], 255};
    }
    write_kind("kinds/i_interlaced.png", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, buf);
    /* 1-bit grey: one byte per row holds 7 pixels, MSB first */
    for (int y = 0; y < KH; y++) {
        buf[y] = rnd() & 0xFE;
        for (int x = 0; x < KW; x++) {
            int v = buf[y] >> (7 - x) & 1 ? 255 : 0;
            kind_px[9][y * KW + x] = (rgba){v, v, v, 255};
        }
    }
    write_kind("kinds/j_grey1.png", PNG_COLOR_TYPE_GRAY, 1, 0, buf);
    /* 8-bit grey with a transparent value (tRNS): 77 */
    for (int i = 0; i < KN; i++) {
        buf[i] = i % 3 == 0 ? 77 : rnd();
        kind_px[10][i] = (rgba){buf[i], buf[i], buf[i], buf[i] == 77 ? 0 : 255};
    }
    png_color_16 t77 = {.gray = 77};
    write_png("kinds/k_grey_trns.png", &(png_spec){.w = KW, .h = KH, .color = PNG_COLOR_TYPE_GRAY,
                                                   .depth = 8, .rows = buf, .trns_value = &t77});
    /* files to ignore */
    write_text("kinds/README.txt", "not an image\n");
    write_text("kinds/.DS_Store", "\x00\x01junk");
    write_text("kinds/._a_grey8.png", "AppleDouble junk");   /* hidden: ignored */
}

static void check_kinds(int C, int bg_r, int bg_g, int bg_b, uint32_t background)
{
    vkvae_idx images, labels;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = (uint32_t)C, .height = KH, .width = KW,
                                 .background = background};
    vkvae_status s = vkvae_image_folder_read(&images, &labels, &info, tmp_path("kinds"), &d, &err);
    if (s) {
        fprintf(stderr, "FAIL kinds: %s\n", err.message);
        failures++;
        return;
    }
    CHECK(images.count == KINDS && images.ndim == 4 && images.channels == (uint32_t)C &&
          images.rows == KH && images.cols == KW);
    CHECK(labels.count == 0 && labels.data == NULL && info.n_classes == 0 && !info.class_names);
    CHECK(info.found == KINDS && info.loaded == KINDS && info.skipped == 0);
    int bg[3] = {bg_r, bg_g, bg_b};
    uint8_t want[3 * KN];
    for (int k = 0; k < KINDS && images.count == KINDS; k++) {
        expect_planes(want, kind_px[k], KN, C, bg);
        const uint8_t *got = images.data + (size_t)k * C * KN;
        int bad = 0;
        for (int i = 0; i < C * KN; i++)
            bad += got[i] != want[i];
        if (bad) {
            fprintf(stderr, "FAIL %s (C %d, background %02x%02x%02x): %d of %d values differ\n",
                    kind_names[k], C, bg_r, bg_g, bg_b, bad, C * KN);
            failures++;
        }
    }
    printf("ok kinds: %d PNG kinds, C %d over %02x%02x%02x\n", KINDS, C, bg_r, bg_g, bg_b);
    vkvae_idx_destroy(&images);
    vkvae_idx_destroy(&labels);
    vkvae_image_folder_info_destroy(&info);
}

static void test_png_kinds(void)
{
    write_kinds();
    check_kinds(3, 255, 255, 255, 0);                               /* default: white */
    check_kinds(3, 0, 0, 0, VKVAE_BACKGROUND_RGB(0, 0, 0));
    check_kinds(3, 10, 200, 90, VKVAE_BACKGROUND_RGB(10, 200, 90));
    check_kinds(1, 255, 255, 255, 0);
    check_kinds(1, 0, 0, 0, VKVAE_BACKGROUND_RGB(0, 0, 0));
}

/* ---- Resizing against a double reference -------------------------------- */

/* The weight of source pixel j in scaled pixel p along an axis of src
 * pixels scaled to scaled: the overlap of [j, j + 1) with p's footprint,
 * over the footprint's length, when shrinking; the triangle around the
 * clamped half-pixel-centre coordinate when enlarging. */
static double weight(uint32_t src, uint32_t scaled, uint32_t p, uint32_t j)
{
    double f = (double)src / scaled;
    if (scaled < src) {
        double lo = p * f, hi = (p + 1) * f;
        double ov = fmin(j + 1.0, hi) - fmax((double)j, lo);
        return ov > 0 ? ov / f : 0.0;
    }
    if (scaled > src) {
        double u = (p + 0.5) * f - 0.5;
        u = fmax(0.0, fmin(u, src - 1.0));
        return fmax(0.0, 1.0 - fabs(u - j));
    }
    return p == j ? 1.0 : 0.0;
}

/* plane (w x h bytes) scaled to rw x rh, the W x H window at (ox, oy). */
static void reference(double *out, const uint8_t *plane, uint32_t w, uint32_t h, uint32_t rw,
                      uint32_t rh, uint32_t ox, uint32_t oy, uint32_t W, uint32_t H)
{
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            double v = 0;
            for (uint32_t i = 0; i < h; i++) {
                double wy = weight(h, rh, y + oy, i);
                if (wy == 0)
                    continue;
                for (uint32_t j = 0; j < w; j++)
                    v += wy * weight(w, rw, x + ox, j) * plane[(size_t)i * w + j];
            }
            out[(size_t)y * W + x] = v;
        }
}

/* Python's round(d / 2), half to even, through the FPU's default rounding. */
static uint32_t py_round_half(uint32_t d)
{
    return (uint32_t)nearbyint(d / 2.0);
}

/* Loads folder rel (one RGB image w x h, pixels px) at W x H with mode and
 * compares every value with the reference: equal to the reference rounded,
 * or either neighbour where the reference lies within 0.01 of a half. */
static void check_resize(const char *id, const char *rel, const uint8_t *px, uint32_t w,
                         uint32_t h, uint32_t W, uint32_t H, vkvae_image_resize mode)
{
    uint32_t rw = w, rh = h;
    if (mode == VKVAE_RESIZE_STRETCH) {
        rw = W, rh = H;
    } else if (mode == VKVAE_RESIZE_FIT) {
        double sx = (double)W / w, sy = (double)H / h;
        if (sx >= sy)
            rw = W, rh = (uint32_t)floor(h * sx);
        else
            rh = H, rw = (uint32_t)floor(w * sy);
    }
    uint32_t ox = py_round_half(rw - W), oy = py_round_half(rh - H);
    vkvae_idx images, labels;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 3, .height = H, .width = W, .resize = mode};
    if (vkvae_image_folder_read(&images, &labels, NULL, tmp_path(rel), &d, &err)) {
        fprintf(stderr, "FAIL resize %s: %s\n", id, err.message);
        failures++;
        return;
    }
    CHECK(images.count == 1 && images.rows == H && images.cols == W);
    uint8_t *plane = malloc((size_t)w * h);
    double *ref = malloc((size_t)W * H * sizeof *ref);
    int exact = 0, near_half = 0, bad = 0;
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < (size_t)w * h; i++)
            plane[i] = px[3 * i + c];
        reference(ref, plane, w, h, rw, rh, ox, oy, W, H);
        const uint8_t *got = images.data + (size_t)c * W * H;
        for (size_t i = 0; i < (size_t)W * H; i++) {
            double r = ref[i], frac = r - floor(r);
            if (fabs(frac - 0.5) > 0.01) {
                exact++;
                bad += got[i] != (uint8_t)floor(r + 0.5);
            } else {
                near_half++;
                bad += got[i] != (uint8_t)floor(r) && got[i] != (uint8_t)ceil(r);
            }
        }
    }
    if (bad) {
        fprintf(stderr, "FAIL resize %s: %d of %u values differ from the reference\n", id, bad,
                3 * W * H);
        failures++;
    } else {
        printf("ok resize %s: %ux%u -> %ux%u (scaled %ux%u, crop at %u,%u): %d exact, %d "
               "within a rounding of a half\n", id, w, h, W, H, rw, rh, ox, oy, exact, near_half);
    }
    free(plane);
    free(ref);
    vkvae_idx_destroy(&images);
    vkvae_idx_destroy(&labels);
}

static void test_resize(void)
{
    enum { SW = 37, SH = 23 };
    uint8_t *px = random_pixels(SW, SH, 3);
    write_rgb_png("resize/src.png", SW, SH, px);
    check_resize("fit_shrink", "resize", px, SW, SH, 16, 16, VKVAE_RESIZE_FIT);
    check_resize("fit_enlarge", "resize", px, SW, SH, 64, 64, VKVAE_RESIZE_FIT);
    check_resize("fit_wide", "resize", px, SW, SH, 20, 12, VKVAE_RESIZE_FIT);
    check_resize("fit_tall", "resize", px, SW, SH, 10, 30, VKVAE_RESIZE_FIT);
    check_resize("fit_between", "resize", px, SW, SH, 30, 30, VKVAE_RESIZE_FIT);
    check_resize("fit_half", "resize", px, SW, SH, 18, 11, VKVAE_RESIZE_FIT);
    check_resize("stretch_shrink", "resize", px, SW, SH, 30, 10, VKVAE_RESIZE_STRETCH);
    check_resize("stretch_mixed", "resize", px, SW, SH, 50, 12, VKVAE_RESIZE_STRETCH);
    check_resize("stretch_enlarge", "resize", px, SW, SH, 80, 47, VKVAE_RESIZE_STRETCH);
    check_resize("none_crop", "resize", px, SW, SH, 28, 12, VKVAE_RESIZE_NONE);

    /* The crop's placement by hand: resize none, 37 -> 28 is 9 too many
     * (4.5: offset 4, half to even), 23 -> 12 is 11 (5.5: offset 6). */
    vkvae_idx images, labels;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 3, .height = 12, .width = 28,
                                 .resize = VKVAE_RESIZE_NONE};
    CHECK(vkvae_image_folder_read(&images, &labels, NULL, tmp_path("resize"), &d, &err) == 0);
    int same = images.data != NULL;
    for (int c = 0; same && c < 3; c++)
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 28; x++)
                same &= images.data[(c * 12 + y) * 28 + x] == px[((y + 6) * SW + x + 4) * 3 + c];
    CHECK(same);
    vkvae_idx_destroy(&images);
    /* fit on an exact 2:1 shrink is the mean of each 2 x 2 block */
    uint8_t *big = random_pixels(8, 6, 3);
    write_rgb_png("half/big.png", 8, 6, big);
    d = (vkvae_image_folder_desc){.channels = 3, .height = 3, .width = 4};
    CHECK(vkvae_image_folder_read(&images, &labels, NULL, tmp_path("half"), &d, &err) == 0);
    same = images.data != NULL;
    for (int c = 0; same && c < 3; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                int sum = 0;
                for (int k = 0; k < 4; k++)
                    sum += big[((2 * y + k / 2) * 8 + 2 * x + k % 2) * 3 + c];
                /* sum / 4 rounded half up: the float sum of quarters is exact */
                same &= images.data[(c * 3 + y) * 4 + x] == (sum + 2) / 4;
            }
    CHECK(same);
    vkvae_idx_destroy(&images);
    free(big);

    /* none refuses an image smaller than the target, naming it */
    d = (vkvae_image_folder_desc){.channels = 3, .height = 24, .width = 20,
                                  .resize = VKVAE_RESIZE_NONE};
    err = (vkvae_error){0};
    expect_error("none_too_small",
                 vkvae_image_folder_read(&images, &labels, NULL, tmp_path("resize"), &d, &err),
                 &err, VKVAE_BAD_INPUT,
                 "resize/src.png: 37x23 pixels: smaller than the target 20x24");
    free(px);
}

/* ---- JPEG -------------------------------------------------------------- */

static void compare_near(const char *id, const uint8_t *got, const uint8_t *want, size_t n,
                         int max_tol, double mean_tol)
{
    int worst = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int dlt = abs((int)got[i] - (int)want[i]);
        worst = dlt > worst ? dlt : worst;
        sum += dlt;
    }
    if (worst > max_tol || sum / n > mean_tol) {
        fprintf(stderr, "FAIL %s: max error %d (at most %d), mean %.3f (at most %.2f)\n", id,
                worst, max_tol, sum / n, mean_tol);
        failures++;
    } else {
        printf("ok %s: max error %d, mean %.3f\n", id, worst, sum / n);
    }
}

static void test_jpeg(void)
{
    enum { W = 40, H = 24 };
    uint8_t rgb[W * H * 3], grey[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + (y * W + x) * 3;
            p[0] = (uint8_t)(40 + 4 * x);
            p[1] = (uint8_t)(30 + 7 * y);
            p[2] = (uint8_t)(200 - 2 * x - 3 * y);
            grey[y * W + x] = (uint8_t)(20 + 3 * x + 4 * y);
        }
    write_jpeg("jpeg/a_colour.jpg", W, H, 3, rgb, 95);
    write_jpeg("jpeg/b_grey.JPEG", W, H, 1, grey, 95);
    vkvae_idx images, labels;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 3, .height = H, .width = W};
    if (vkvae_image_folder_read(&images, &labels, NULL, tmp_path("jpeg"), &d, &err)) {
        fprintf(stderr, "FAIL jpeg: %s\n", err.message);
        failures++;
        return;
    }
    CHECK(images.count == 2 && images.channels == 3);
    uint8_t want[3 * W * H];
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++)
            want[c * W * H + i] = rgb[3 * i + c];
    compare_near("jpeg_colour", images.data, want, 3 * W * H, 10, 1.5);  /* 4:2:0 chroma */
    for (int c = 0; c < 3; c++)
        memcpy(want + c * W * H, grey, W * H);
    compare_near("jpeg_grey_as_rgb", images.data + 3 * W * H, want, 3 * W * H, 3, 1.0);
    vkvae_idx_destroy(&images);

    d.channels = 1;
    CHECK(vkvae_image_folder_read(&images, &labels, NULL, tmp_path("jpeg"), &d, &err) == 0);
    for (int i = 0; i < W * H; i++)
        want[i] = (uint8_t)luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    compare_near("jpeg_colour_as_grey", images.data, want, W * H, 4, 1.0);
    compare_near("jpeg_grey", images.data + W * H, grey, W * H, 3, 1.0);
    vkvae_idx_destroy(&images);
}

/* ---- Layouts ------------------------------------------------------------ */

static void test_classes(void)
{
    enum { N = 8 * 8 };
    uint8_t *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = random_pixels(8, 8, 1);
    /* sorted: cat/C3.PNG cat/c1.png dog/d2.png dog/deep/d1.png dog/zz/x.jpg */
    write_grey_png("cls/cat/c1.png", 8, 8, p[0]);
    write_grey_png("cls/cat/C3.PNG", 8, 8, p[1]);
    write_grey_png("cls/dog/deep/d1.png", 8, 8, p[2]);
    write_grey_png("cls/dog/d2.png", 8, 8, p[3]);
    write_grey_png("cls/dog/zz/x.jpg", 8, 8, p[4]);     /* a PNG named .jpg */
    write_text("cls/README.txt", "classes: cat, dog\n");
    write_text("cls/cat/notes.md", "ignored\n");
    write_text("cls/dog/.DS_Store", "junk");
    mkdirs("cls/.git/objects");
    write_text("cls/.git/objects/x.png", "a hidden folder: never read");
    vkvae_idx images, labels;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 1, .height = 8, .width = 8};
    if (vkvae_image_folder_read(&images, &labels, &info, tmp_path("cls"), &d, &err)) {
        fprintf(stderr, "FAIL classes: %s\n", err.message);
        failures++;
        return;
    }
    CHECK(info.n_classes == 2 && info.class_names && !strcmp(info.class_names[0], "cat") &&
          !strcmp(info.class_names[1], "dog"));
    CHECK(images.count == 5 && labels.count == 5 && labels.ndim == 1 && labels.channels == 1 &&
          labels.rows == 1 && labels.cols == 1);
    static const uint8_t want_label[5] = {0, 0, 1, 1, 1};
    static const int order[5] = {1, 0, 3, 2, 4};
    for (int i = 0; i < 5 && images.count == 5; i++) {
        CHECK(labels.data[i] == want_label[i]);
        CHECK(memcmp(images.data + i * N, p[order[i]], N) == 0);
    }
    printf("ok classes: cat, dog; 5 images in byte order of their paths, labels 0 0 1 1 1\n");
    vkvae_idx_destroy(&images);
    vkvae_idx_destroy(&labels);
    vkvae_image_folder_info_destroy(&info);
    for (int i = 0; i < 5; i++)
        free(p[i]);
}

/* n grey 4x4 images in tmpdir/rel/NAME_i.png, image i filled with base + i */
static void fill_folder(const char *rel, int n, int base)
{
    for (int i = 0; i < n; i++) {
        uint8_t px[16];
        memset(px, base + i, sizeof px);
        char name[512];
        snprintf(name, sizeof name, "%s/img_%03d.png", rel, i);
        write_grey_png(name, 4, 4, px);
    }
}

static void test_splits(void)
{
    fill_folder("split/train/a", 3, 0);
    fill_folder("split/train/b", 2, 10);
    fill_folder("split/test/a", 1, 20);
    fill_folder("split/test/b", 2, 30);
    write_text("split/LICENSE", "ignored");
    vkvae_idx_dataset ds;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 1, .height = 4, .width = 4};
    if (vkvae_image_folder_load(&ds, &info, tmp_path("split"), &d, &err)) {
        fprintf(stderr, "FAIL splits: %s\n", err.message);
        failures++;
    } else {
        CHECK(info.split_folders == 1 && info.n_classes == 2 && info.found == 8);
        CHECK(ds.train_images.count == 5 && ds.test_images.count == 3);
        CHECK(ds.train_labels.count == 5 && ds.test_labels.count == 3);
        static const uint8_t tr[5] = {0, 1, 2, 10, 11}, te[3] = {20, 30, 31};
        for (int i = 0; i < 5 && ds.train_images.count == 5; i++)
            CHECK(ds.train_images.data[16 * i] == tr[i] && ds.train_labels.data[i] == tr[i] / 10);
        for (int i = 0; i < 3 && ds.test_images.count == 3; i++)
            CHECK(ds.test_images.data[16 * i] == te[i] && ds.test_labels.data[i] == (te[i] >= 30));
        CHECK(ds.train_images.path && strstr(ds.train_images.path, "split/train"));
        CHECK(ds.test_images.path && strstr(ds.test_images.path, "split/test"));
        printf("ok splits: train/ and test/ as given\n");
        vkvae_idx_dataset_destroy(&ds);
        vkvae_image_folder_info_destroy(&info);
    }
    /* class names must agree */
    fill_folder("split_mismatch/train/a", 1, 0);
    fill_folder("split_mismatch/train/b", 1, 0);
    fill_folder("split_mismatch/test/a", 1, 0);
    fill_folder("split_mismatch/test/c", 1, 0);
    err = (vkvae_error){0};
    expect_error("split_classes", vkvae_image_folder_load(&ds, &info, tmp_path("split_mismatch"),
                                                          &d, &err),
                 &err, VKVAE_BAD_INPUT,
                 "split_mismatch: class 1 is 'b' in train/ but 'c' in test/");
    CHECK(info.n_classes == 0 && ds.train_images.data == NULL);
    fill_folder("split_unlabelled_test/train/a", 1, 0);
    fill_folder("split_unlabelled_test/test", 1, 0);
    err = (vkvae_error){0};
    expect_error("split_labelled_vs_not",
                 vkvae_image_folder_load(&ds, &info, tmp_path("split_unlabelled_test"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "train/ has 1 class folder(s), test/ has 0");
    fill_folder("split_extra/train", 2, 0);
    fill_folder("split_extra/test", 1, 0);
    fill_folder("split_extra/val", 1, 0);
    err = (vkvae_error){0};
    expect_error("split_extra", vkvae_image_folder_load(&ds, &info, tmp_path("split_extra"), &d,
                                                        &err),
                 &err, VKVAE_BAD_INPUT, "split_extra: val/ beside train/ and test/");
    /* unlabelled splits */
    fill_folder("split_flat/train", 4, 0);
    fill_folder("split_flat/test", 2, 50);
    CHECK(vkvae_image_folder_load(&ds, &info, tmp_path("split_flat"), &d, &err) == VKVAE_OK);
    CHECK(ds.train_images.count == 4 && ds.test_images.count == 2 && ds.train_labels.count == 0 &&
          !ds.train_labels.data && !ds.test_labels.data && info.n_classes == 0);
    vkvae_idx_dataset_destroy(&ds);
    vkvae_image_folder_info_destroy(&info);

    /* held out: 10 of each class, a fifth of each, seeded, in order */
    fill_folder("hold/a", 10, 0);
    fill_folder("hold/b", 10, 100);
    d.test_fraction = 0.2f;
    d.seed = 7;
    vkvae_idx_dataset again;
    CHECK(vkvae_image_folder_load(&ds, &info, tmp_path("hold"), &d, &err) == VKVAE_OK);
    CHECK(vkvae_image_folder_load(&again, NULL, tmp_path("hold"), &d, &err) == VKVAE_OK);
    CHECK(info.split_folders == 0 && info.n_classes == 2);
    CHECK(ds.train_images.count == 16 && ds.test_images.count == 4 && ds.test_labels.count == 4);
    int per[2] = {0, 0};
    for (uint32_t i = 0; i < ds.test_labels.count; i++) {
        uint8_t v = ds.test_images.data[16 * i];
        per[ds.test_labels.data[i]]++;
        CHECK(ds.test_labels.data[i] == (v >= 100));
        CHECK(i == 0 || v > ds.test_images.data[16 * (i - 1)]);
    }
    CHECK(per[0] == 2 && per[1] == 2);
    CHECK(again.test_images.data && ds.test_images.data &&
          memcmp(again.test_images.data, ds.test_images.data, 4 * 16) == 0);
    vkvae_idx_dataset_destroy(&ds);
    vkvae_idx_dataset_destroy(&again);
    vkvae_image_folder_info_destroy(&info);
    /* unlabelled, the default tenth */
    fill_folder("hold_flat", 20, 0);
    d.test_fraction = 0;
    CHECK(vkvae_image_folder_load(&ds, &info, tmp_path("hold_flat"), &d, &err) == VKVAE_OK);
    CHECK(ds.train_images.count == 18 && ds.test_images.count == 2 && !ds.test_labels.data);
    vkvae_idx_dataset_destroy(&ds);
    vkvae_image_folder_info_destroy(&info);
    printf("ok hold-out: stratified, seeded, in order; default fraction 0.1\n");
}

/* ---- Bad data ------------------------------------------------------------ */

/* The bytes of a valid 16x16 RGB PNG (written, then read back). */
static unsigned char *good_png_bytes(size_t *n)
{
    uint8_t *px = random_pixels(16, 16, 3);
    write_rgb_png("scratch.png", 16, 16, px);
    free(px);
    unsigned char *b = read_bytes(tmp_path("scratch.png"), n);
    remove(tmp_path("scratch.png"));
    return b;
}

static unsigned char *good_jpeg_bytes(size_t *n)
{
    uint8_t *px = random_pixels(32, 32, 3);
    write_jpeg("scratch.jpg", 32, 32, 3, px, 95);
    free(px);
    unsigned char *b = read_bytes(tmp_path("scratch.jpg"), n);
    remove(tmp_path("scratch.jpg"));
    return b;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A PNG signature and IHDR claiming w x h RGB, with a valid CRC, then
 * (with_idat) the start of an IDAT: no pixels to speak of. */
static void write_huge_header(const char *rel, uint32_t w, uint32_t h, int with_idat)
{
    unsigned char b[8 + 25 + 12 + 4];
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    be32(b + 16, w);
    be32(b + 20, h);
    b[24] = 8, b[25] = 2, b[26] = 0, b[27] = 0, b[28] = 0;
    be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
    be32(b + 33, 4);
    memcpy(b + 37, "IDAT", 4);
    memcpy(b + 41, "\x78\x9c\x00\x00", 4);
    be32(b + 45, (uint32_t)crc32(0, b + 37, 8));
    write_bytes(file_at(rel), b, with_idat ? sizeof b : 33);
}

typedef struct bad_case {
    const char *id, *file, *want;
    vkvae_status status;
} bad_case;

static int progress_calls;
static uint32_t progress_last_done, progress_last_total, progress_monotonic = 1;

static void on_progress(void *user, uint32_t done, uint32_t total)
{
    CHECK(user == &progress_calls);
    progress_monotonic &= progress_calls == 0 ? done == 0 : done == progress_last_done + 1;
    progress_calls++;
    progress_last_done = done;
    progress_last_total = total;
}

static void test_bad(void)
{
    size_t png_n, jpg_n;
    unsigned char *png = good_png_bytes(&png_n), *jpg = good_jpeg_bytes(&jpg_n);
    const char *text = "this is text, not an image\n";
    uint8_t cmyk[8 * 8 * 4];
    memset(cmyk, 100, sizeof cmyk);
    /* each in its own folder beside two good images; the bad one sorts last */
    const bad_case cases[] = {
        {"truncated_png", "z_cut.png", "bad_truncated_png/z_cut.png: cannot decode PNG: truncated",
         VKVAE_BAD_INPUT},
        {"empty_jpg", "z_empty.jpg", "bad_empty_jpg/z_empty.jpg: empty file (0 bytes)",
         VKVAE_BAD_INPUT},
        {"text_png", "z_text.png", "bad_text_png/z_text.png: cannot decode PNG: libpng: Not a "
         "PNG file", VKVAE_BAD_INPUT},
        {"text_jpg", "z_text.jpg", "bad_text_jpg/z_text.jpg: cannot decode JPEG: libjpeg: Not a "
         "JPEG file", VKVAE_BAD_INPUT},
        {"truncated_jpg", "z_cut.jpg", "bad_truncated_jpg/z_cut.jpg: cannot decode JPEG: "
         "libjpeg: Premature end of JPEG file", VKVAE_BAD_INPUT},
        {"huge_png", "z_huge.png", "bad_huge_png/z_huge.png: 20000x20000 pixels: larger than "
         "16384 per side", VKVAE_BAD_INPUT},
        {"header_only_png", "z_head.png", "bad_header_only_png/z_head.png: 20000x20000 pixels: "
         "larger than 16384 per side", VKVAE_BAD_INPUT},
        {"cmyk_jpg", "z_cmyk.jpg", "bad_cmyk_jpg/z_cmyk.jpg: a CMYK JPEG: only grey and colour "
         "(YCbCr, RGB) JPEGs are read", VKVAE_BAD_INPUT},
        {"many_pixels_png", "z_wide.png", "bad_many_pixels_png/z_wide.png: 16384x16000 pixels: "
         "more than 256 megapixels", VKVAE_BAD_INPUT},
    };
    size_t n_cases = sizeof cases / sizeof *cases;
    for (size_t k = 0; k < n_cases; k++) {
        const bad_case *c = &cases[k];
        char dir[256], rel[512];
        snprintf(dir, sizeof dir, "bad_%s", c->id);
        for (const char *const *g = (const char *const[]){"a.png", "b.jpg", NULL}; *g; g++) {
            snprintf(rel, sizeof rel, "%s/%s", dir, *g);
            if (**g == 'a')
                write_bytes(file_at(rel), png, png_n);
            else
                write_bytes(file_at(rel), jpg, jpg_n);
        }
        snprintf(rel, sizeof rel, "%s/%s", dir, c->file);
        const char *path = file_at(rel);
        if (!strcmp(c->id, "truncated_png"))
            write_bytes(path, png, png_n * 6 / 10);
        else if (!strcmp(c->id, "empty_jpg"))
            write_bytes(path, "", 0);
        else if (!strcmp(c->id, "text_png") || !strcmp(c->id, "text_jpg"))
            write_bytes(path, text, strlen(text));
        else if (!strcmp(c->id, "truncated_jpg"))
            write_bytes(path, jpg, jpg_n * 7 / 10);
        else if (!strcmp(c->id, "huge_png"))
            write_huge_header(rel, 20000, 20000, 1);
        else if (!strcmp(c->id, "cmyk_jpg"))
            write_jpeg(rel, 8, 8, 4, (const uint8_t *)cmyk, 90);
        else if (!strcmp(c->id, "header_only_png"))
            write_huge_header(rel, 20000, 20000, 0);
        else
            write_huge_header(rel, 16384, 16000, 1);
        /* stop (the default) */
        vkvae_idx images, labels;
        vkvae_image_folder_info info;
        vkvae_error err = {0};
        vkvae_image_folder_desc d = {.channels = 3, .height = 16, .width = 16};
        vkvae_status s = vkvae_image_folder_read(&images, &labels, &info, tmp_path(dir), &d, &err);
        char id[128];
        snprintf(id, sizeof id, "stop_%s", c->id);
        expect_error(id, s, &err, c->status, c->want);
        CHECK(strchr(err.message, '\n') == NULL);
        CHECK(images.data == NULL && images.count == 0 && info.skipped == 0);
        /* skip: the two good ones load, the bad one is counted */
        d.on_bad = VKVAE_ON_BAD_SKIP;
        err = (vkvae_error){0};
        s = vkvae_image_folder_read(&images, &labels, &info, tmp_path(dir), &d, &err);
        CHECK(s == VKVAE_OK && images.count == 2 && info.skipped == 1 && info.found == 3 &&
              info.loaded == 2 && info.skipped_kept == 1 && info.skipped_messages[0] &&
              strstr(info.skipped_messages[0], c->want));
        vkvae_idx_destroy(&images);
        vkvae_idx_destroy(&labels);
        vkvae_image_folder_info_destroy(&info);
    }

    /* all of them in one folder under skip, with progress */
    for (size_t k = 0; k < n_cases; k++) {
        char from[512], to[512];
        snprintf(from, sizeof from, "bad_%s/%s", cases[k].id, cases[k].file);
        snprintf(to, sizeof to, "bad_all/%02zu_%s", k, cases[k].file);
        size_t n;
        unsigned char *b = read_bytes(tmp_path(from), &n);
        write_bytes(file_at(to), b ? b : (unsigned char *)"", b ? n : 0);
        free(b);
    }
    for (int i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "bad_all/good_%d.png", i);
        write_bytes(file_at(rel), png, png_n);
    }
    vkvae_idx images, labels;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {.channels = 1, .height = 16, .width = 16,
                                 .on_bad = VKVAE_ON_BAD_SKIP, .progress = on_progress,
                                 .progress_user = &progress_calls};
    uint32_t total = (uint32_t)n_cases + 3;
    CHECK(vkvae_image_folder_read(&images, &labels, &info, tmp_path("bad_all"), &d, &err) ==
          VKVAE_OK);
    CHECK(images.count == 3 && info.skipped == n_cases && info.loaded == 3 &&
          info.found == total && n_cases > VKVAE_IMAGE_SKIP_KEPT &&
          info.skipped_kept == VKVAE_IMAGE_SKIP_KEPT);
    for (size_t k = 0; k < info.skipped_kept && k < n_cases; k++) {
        char name[128];
        snprintf(name, sizeof name, "bad_all/%02zu_%s: ", k, cases[k].file);
        CHECK(strstr(info.skipped_messages[k], name) != NULL);
    }
    CHECK(progress_calls == (int)total + 1 && progress_last_done == total &&
          progress_last_total == total && progress_monotonic);
    printf("ok skip: %u skipped, %u loaded, %d progress calls\n", info.skipped, info.loaded,
           progress_calls);
    vkvae_idx_destroy(&images);
    vkvae_idx_destroy(&labels);
    vkvae_image_folder_info_destroy(&info);

    /* skip, but a class ends up with nothing */
    write_bytes(file_at("bad_class/a/good.png"), png, png_n);
    write_bytes(file_at("bad_class/b/bad.png"), text, strlen(text));
    err = (vkvae_error){0};
    d = (vkvae_image_folder_desc){.on_bad = VKVAE_ON_BAD_SKIP};
    expect_error("skip_empties_class",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("bad_class"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "bad_class/b: none of the class's 1 images decoded");
    CHECK(info.skipped == 0 && info.class_names == NULL);
    /* skip, and nothing decodes */
    write_bytes(file_at("bad_only/x.png"), text, strlen(text));
    err = (vkvae_error){0};
    expect_error("skip_nothing_left",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("bad_only"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "bad_only: none of its 1 images decoded (first: ");
    free(png);
    free(jpg);
}

static void test_empty(void)
{
    vkvae_idx images, labels;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {0};
    mkdirs("empty");
    expect_error("empty_folder",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("empty"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "empty: no image (.png, .jpg, .jpeg) in the folder");
    write_text("only_text/README.txt", "no images here");
    mkdirs("only_text/sub");
    err = (vkvae_error){0};
    expect_error("only_text",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("only_text"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "only_text/sub: class folder holds no image");
    fill_folder("empty_class/a", 1, 0);
    mkdirs("empty_class/b/deeper");
    write_text("empty_class/b/notes.txt", "x");
    err = (vkvae_error){0};
    expect_error("empty_class",
                 vkvae_image_folder_load(&(vkvae_idx_dataset){0}, &info, tmp_path("empty_class"),
                                         &d, &err),
                 &err, VKVAE_BAD_INPUT, "empty_class/b: class folder holds no image");
    err = (vkvae_error){0};
    expect_error("missing",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("nowhere"), &d, &err),
                 &err, VKVAE_IO, "nowhere: cannot open folder");
    err = (vkvae_error){0};
    vkvae_idx_dataset ds;
    expect_error("missing_load",
                 vkvae_image_folder_load(&ds, &info, tmp_path("nowhere"), &d, &err),
                 &err, VKVAE_IO, "nowhere: cannot open folder");
    for (int i = 0; i < 257; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "many/c%03d", i);
        mkdirs(rel);
    }
    err = (vkvae_error){0};
    expect_error("too_many_classes",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("many"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "many: 257 class folders; at most 256");
    fill_folder("two", 2, 0);
    d.channels = 2;
    err = (vkvae_error){0};
    expect_error("two_channels",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("two"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "1 (grey) or 3 (RGB) channels, not 2");
    d = (vkvae_image_folder_desc){.height = 5};
    err = (vkvae_error){0};
    expect_error("height_alone",
                 vkvae_image_folder_read(&images, &labels, &info, tmp_path("two"), &d, &err),
                 &err, VKVAE_BAD_INPUT, "target size 5x0");
}

/* Channels and size left 0: the first image's (grey 9x7); the second
 * (RGB, twice the size) becomes grey and is shrunk 2:1. */
static void test_defaults(void)
{
    uint8_t *g = random_pixels(9, 7, 1), *c = random_pixels(18, 14, 3);
    write_grey_png("auto/a.png", 9, 7, g);
    write_rgb_png("auto/b.png", 18, 14, c);
    vkvae_idx images, labels;
    vkvae_error err = {0};
    vkvae_image_folder_desc d = {0};
    CHECK(vkvae_image_folder_read(&images, &labels, NULL, tmp_path("auto"), &d, &err) == 0);
    CHECK(images.count == 2 && images.channels == 1 && images.rows == 7 && images.cols == 9);
    if (images.count == 2) {
        CHECK(memcmp(images.data, g, 63) == 0);
        int same = 1;
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++) {
                int sum = 0;
                for (int k = 0; k < 4; k++) {
                    const uint8_t *p = c + ((2 * y + k / 2) * 18 + 2 * x + k % 2) * 3;
                    sum += luma(p[0], p[1], p[2]);
                }
                /* luma is taken before the 2:1 box: the mean of four lumas */
                same &= images.data[63 + y * 9 + x] == (sum + 2) / 4;
            }
        CHECK(same);
    }
    vkvae_idx_destroy(&images);
    free(g);
    free(c);
    printf("ok defaults: C and size from the first image\n");
}

/* ---- Through vkvae_data_source_load -------------------------------------- */

static void write_idx(const char *rel, uint32_t magic, const uint32_t *dims, int nd,
                      const uint8_t *data, size_t n)
{
    unsigned char *b = malloc(4 + 4 * (size_t)nd + n);
    be32(b, magic);
    for (int i = 0; i < nd; i++)
        be32(b + 4 + 4 * i, dims[i]);
    memcpy(b + 4 + 4 * nd, data, n);
    write_bytes(file_at(rel), b, 4 + 4 * (size_t)nd + n);
    free(b);
}

static void test_data_source(void)
{
    vkvae_idx_dataset ds;
    vkvae_image_folder_info info;
    vkvae_error err = {0};
    /* the class folders of test_splits' hold/ through the data source */
    vkvae_data_source_desc d = {.path = tmp_path("hold"), .channels = 3, .height = 2, .width = 2,
                                .classes = 2, .test_fraction = 0.5f, .image_info = &info};
    CHECK(vkvae_data_source_is_image_folder(tmp_path("hold")));
    CHECK(vkvae_data_source_load(&ds, &d, &err) == VKVAE_OK);
    CHECK(ds.train_images.count == 10 && ds.test_images.count == 10 &&
          ds.train_images.channels == 3 && ds.train_images.rows == 2 &&
          ds.train_labels.count == 10 && info.n_classes == 2 &&
          !strcmp(info.class_names[1], "b"));
    vkvae_idx_dataset_destroy(&ds);
    vkvae_image_folder_info_destroy(&info);
    d.classes = 1;
    err = (vkvae_error){0};
    expect_error("source_too_many_classes", vkvae_data_source_load(&ds, &d, &err), &err,
                 VKVAE_BAD_INPUT, "hold: 2 class folders, but the model has 1 classes");
    CHECK(info.n_classes == 0 && info.class_names == NULL);
    d = (vkvae_data_source_desc){.path = tmp_path("hold_flat"), .classes = 10};
    err = (vkvae_error){0};
    expect_error("source_conditional_unlabelled", vkvae_data_source_load(&ds, &d, &err), &err,
                 VKVAE_BAD_INPUT, "an image folder needs one subfolder per class");
    d = (vkvae_data_source_desc){.path = tmp_path("nowhere")};
    err = (vkvae_error){0};
    expect_error("source_missing", vkvae_data_source_load(&ds, &d, &err), &err, VKVAE_IO,
                 "nowhere: cannot open");
    d = (vkvae_data_source_desc){.path = tmp_path("hold"), .labels = "labels.npy"};
    err = (vkvae_error){0};
    expect_error("source_labels_file", vkvae_data_source_load(&ds, &d, &err), &err,
                 VKVAE_BAD_INPUT, "labels.npy: a labels file goes with a .npy");
    /* an IDX folder stays IDX, even with a stray image beside it */
    uint8_t px[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, lab[3] = {0, 1, 0};
    write_idx("idx/train-images-idx3-ubyte", 0x803, (uint32_t[]){3, 2, 2}, 3, px, 12);
    write_idx("idx/train-labels-idx1-ubyte", 0x801, (uint32_t[]){3}, 1, lab, 3);
    write_idx("idx/t10k-images-idx3-ubyte", 0x803, (uint32_t[]){1, 2, 2}, 3, px, 4);
    write_idx("idx/t10k-labels-idx1-ubyte", 0x801, (uint32_t[]){1}, 1, lab, 1);
    fill_folder("idx", 1, 0);
    CHECK(!vkvae_data_source_is_image_folder(tmp_path("idx")));
    d = (vkvae_data_source_desc){.path = tmp_path("idx"), .image_info = &info};
    CHECK(vkvae_data_source_load(&ds, &d, &err) == VKVAE_OK);
    CHECK(ds.train_images.ndim == 3 && ds.train_images.count == 3 && ds.test_images.count == 1 &&
          info.n_classes == 0);
    vkvae_idx_dataset_destroy(&ds);
    printf("ok data source: image folders and IDX folders told apart\n");
}

static void test_parse(void)
{
    vkvae_error err = {0};
    vkvae_image_resize r = VKVAE_RESIZE_FIT;
    vkvae_image_on_bad b = VKVAE_ON_BAD_STOP;
    uint32_t bg = 0;
    CHECK(vkvae_image_resize_parse("stretch", &r, &err) == 0 && r == VKVAE_RESIZE_STRETCH);
    CHECK(vkvae_image_resize_parse("none", &r, &err) == 0 && r == VKVAE_RESIZE_NONE);
    CHECK(vkvae_image_resize_parse("fit", &r, &err) == 0 && r == VKVAE_RESIZE_FIT);
    CHECK(vkvae_image_on_bad_parse("skip", &b, &err) == 0 && b == VKVAE_ON_BAD_SKIP);
    CHECK(vkvae_image_on_bad_parse("stop", &b, &err) == 0 && b == VKVAE_ON_BAD_STOP);
    CHECK(vkvae_image_background_parse("white", &bg, &err) == 0 &&
          bg == VKVAE_BACKGROUND_RGB(255, 255, 255));
    CHECK(vkvae_image_background_parse("black", &bg, &err) == 0 && bg == 0x1000000u);
    CHECK(vkvae_image_background_parse("#1a2B3c", &bg, &err) == 0 &&
          bg == VKVAE_BACKGROUND_RGB(0x1a, 0x2b, 0x3c));
    CHECK(vkvae_image_background_parse("10,20,255", &bg, &err) == 0 &&
          bg == VKVAE_BACKGROUND_RGB(10, 20, 255));
    expect_error("resize_word", vkvae_image_resize_parse("crop", &r, &err), &err,
                 VKVAE_BAD_INPUT, "resize 'crop': expected fit, stretch or none");
    err = (vkvae_error){0};
    expect_error("on_bad_word", vkvae_image_on_bad_parse("ignore", &b, &err), &err,
                 VKVAE_BAD_INPUT, "'ignore': expected stop or skip");
    const char *bad_bg[] = {"10,20,256", "#12345", "1,2", "-1,2,3", "blue", ""};
    for (size_t i = 0; i < sizeof bad_bg / sizeof *bad_bg; i++) {
        err = (vkvae_error){0};
        char id[64];
        snprintf(id, sizeof id, "background_%zu", i);
        expect_error(id, vkvae_image_background_parse(bad_bg[i], &bg, &err), &err,
                     VKVAE_BAD_INPUT, "expected white, black, grey, #RRGGBB or R,G,B");
    }
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "image_folder");
    test_png_kinds();
    test_resize();
    test_jpeg();
    test_classes();
    test_splits();
    test_bad();
    test_empty();
    test_defaults();
    test_data_source();
    test_parse();
    if (!failures) {   /* finish_tests removes plain files only */
        static const char *const dirs[] = {
            "kinds", "resize", "half", "jpeg", "cls", "split", "split_mismatch",
            "split_unlabelled_test", "split_extra", "split_flat", "hold", "hold_flat",
            "bad_truncated_png", "bad_empty_jpg", "bad_text_png", "bad_text_jpg",
            "bad_truncated_jpg", "bad_huge_png", "bad_header_only_png", "bad_cmyk_jpg",
            "bad_many_pixels_png",
            "bad_all", "bad_class", "bad_only", "empty", "only_text", "empty_class", "many",
            "two", "auto", "idx"};
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
            remove_tree(tmp_path(dirs[i]));
    }
    return finish_tests("test_image_folder");
}
