/* Writes the seed corpus of fuzz_image (fuzz/corpus/image/): tiny valid
 * PNGs of every kind the image-folder reader expands (grey, grey+alpha,
 * RGB, RGBA, palette with and without tRNS, 1-bit grey, 16-bit grey and
 * RGB, interlaced; a few larger than the 16x16 target, most smaller) and JPEGs (grey, colour 4:2:0 and 4:4:4, progressive), each
 * a few hundred bytes, plus a truncated PNG and a truncated JPEG. The
 * pixels are a fixed pattern, so rerunning it writes the same bytes (with
 * the same libpng and libjpeg).
 *   meson compile -C build fuzz/fuzz_make_image_seeds &&
 *   build/fuzz/fuzz_make_image_seeds fuzz/corpus/image
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>   /* after stdio.h, as it requires */
#include <png.h>

static const char *out_dir;

static FILE *open_seed(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

/* A pattern of w x h pixels with comps channels of depth bits (8 or 16,
 * big-endian for 16 as PNG stores them; 1: one bit a pixel, packed). */
static uint8_t pattern(uint32_t x, uint32_t y, uint32_t c)
{
    return (uint8_t)(x * 37 + y * 11 + c * 85 + (x ^ y) * 3);
}

static void write_png(const char *name, uint32_t w, uint32_t h, int color, int depth,
                      int interlace, int palette_trns)
{
    FILE *f = open_seed(name);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "%s: libpng failed\n", name);
        exit(1);
    }
    png_init_io(png, f);
    png_set_compression_level(png, 9);
    png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 200, 90}, {250, 250, 250}};
        png_set_PLTE(png, info, pal, 4);
        if (palette_trns) {
            png_byte alpha[2] = {0, 128};
            png_set_tRNS(png, info, alpha, 2, NULL);
        }
    }
    png_write_info(png, info);
    uint32_t comps = color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_PALETTE ? 1
                     : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                     : color == PNG_COLOR_TYPE_RGB ? 3 : 4;
    size_t row_bytes = ((size_t)w * comps * depth + 7) / 8;
    uint8_t *rows = calloc(h, row_bytes);
    png_bytep *ptrs = malloc(h * sizeof *ptrs);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *r = rows + y * row_bytes;
        ptrs[y] = r;
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < comps; c++) {
                uint8_t v = pattern(x, y, c);
                if (color == PNG_COLOR_TYPE_PALETTE)
                    v &= 3;
                if (depth == 1) {
                    if (v & 0x80)
                        r[x / 8] |= (uint8_t)(0x80 >> (x % 8));
                } else if (depth == 16) {
                    r[2 * (x * comps + c)] = v;
                    r[2 * (x * comps + c) + 1] = (uint8_t)(v * 7);
                } else {
                    r[x * comps + c] = v;
                }
            }
    }
    png_write_image(png, ptrs);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(ptrs);
    free(rows);
    fclose(f);
}

static void write_jpeg(const char *name, uint32_t w, uint32_t h, int comps, int h_samp,
                       int progressive)
{
    FILE *f = open_seed(name);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w;
    c.image_height = h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 50, TRUE);
    c.optimize_coding = TRUE;
    if (comps == 3)
        c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = h_samp;
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * comps);
    while (c.next_scanline < h) {
        for (uint32_t x = 0; x < w; x++)
            for (int k = 0; k < comps; k++)
                row[x * comps + k] = pattern(x, c.next_scanline, (uint32_t)k);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    fclose(f);
}

/* name's first keep bytes as another seed (keep < 0: all but -keep). */
static void truncate_copy(const char *name, const char *to, long keep)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "rb");
    uint8_t buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    size_t k = keep < 0 ? n - (size_t)-keep : (size_t)keep;
    FILE *o = open_seed(to);
    fwrite(buf, 1, k < n ? k : n, o);
    fclose(o);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    write_png("png_grey_5x7", 5, 7, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0);
    write_png("png_grey_alpha_6x4", 6, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, 0);
    write_png("png_rgb_16x16", 16, 16, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0);
    write_png("png_rgba_7x5", 7, 5, PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE, 0);
    write_png("png_palette_trns_9x3", 9, 3, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE, 1);
    write_png("png_grey_1bit_12x4", 12, 4, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, 0);
    write_png("png_grey_16bit_4x4", 4, 4, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, 0);
    write_png("png_rgb_16bit_3x5", 3, 5, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, 0);
    write_png("png_rgb_interlaced_9x9", 9, 9, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, 0);
    write_png("png_grey_wide_40x2", 40, 2, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0);
    write_png("png_palette_20x18", 20, 18, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, 0);
    write_jpeg("jpeg_grey_8x8", 8, 8, 1, 1, 0);
    write_jpeg("jpeg_colour_420_16x16", 16, 16, 3, 2, 0);
    write_jpeg("jpeg_colour_444_5x9", 5, 9, 3, 1, 0);
    write_jpeg("jpeg_progressive_12x10", 12, 10, 3, 2, 1);
    truncate_copy("png_rgb_interlaced_9x9", "bad_png_truncated", -20);
    truncate_copy("jpeg_colour_420_16x16", "bad_jpeg_truncated", -40);
    return 0;
}
