/* PNG tests: grids of grey and RGB float images written, checked for the PNG
 * signature, decoded back with libpng's reader and compared pixel for pixel
 * with a grid built here independently; the same input gives the same bytes;
 * bad arguments are rejected with their message. */
#include <math.h>
#include <png.h>
#include <stdint.h>

#include "io/png.h"
#include "io_test.h"

static uint8_t byte_of(float v)
{
    return v != v || v <= 0 ? 0 : v >= 1 ? 255 : (uint8_t)floor(v * 255.0 + 0.5);
}

/* Decodes path into a malloc'ed buffer of w*h*c bytes, checking its format. */
static uint8_t *decode(const char *path, uint32_t c, uint32_t *w, uint32_t *h)
{
    png_image img = {.version = PNG_IMAGE_VERSION};
    if (!png_image_begin_read_from_file(&img, path)) {
        fprintf(stderr, "%s: %s\n", path, img.message);
        return NULL;
    }
    CHECK(img.format == (c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB));
    img.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
        fprintf(stderr, "%s: %s\n", path, img.message);
        free(px);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return px;
}

static void test_grid(uint32_t c, uint32_t count, uint32_t cols, uint32_t scale, uint32_t pad)
{
    const uint32_t H = 3, W = 4;
    float *imgs = malloc(sizeof(float) * count * c * H * W);
    for (uint32_t i = 0; i < count * c * H * W; i++)
        imgs[i] = (float)((i * 37) % 300) / 280.0f - 0.03f;    /* some below 0, some above 1 */
    imgs[1] = NAN;
    vkvae_png_grid g = {.count = count, .channels = c, .height = H, .width = W,
                        .images = imgs, .cols = cols, .scale = scale, .pad = pad,
                        .background = {0.5f, 0.25f, 1.0f}};
    char name[64];
    snprintf(name, sizeof name, "grid_c%u_n%u_cols%u_s%u_p%u", c, count, cols, scale, pad);
    char first[80], second[80];
    snprintf(first, sizeof first, "%s.png", name);
    snprintf(second, sizeof second, "%s.again.png", name);
    vkvae_error err = {0};
    CHECK(vkvae_png_write_grid(tmp_path(first), &g, &err) == VKVAE_OK);
    CHECK(vkvae_png_write_grid(tmp_path(second), &g, &err) == VKVAE_OK);
    if (err.status)
        fprintf(stderr, "%s: %s\n", name, err.message);

    size_t n1, n2;
    uint8_t *a = read_bytes(tmp_path(first), &n1), *b = read_bytes(tmp_path(second), &n2);
    CHECK(a && n1 > 8 && !memcmp(a, "\x89PNG\r\n\x1a\n", 8));
    CHECK(a && b && n1 == n2 && !memcmp(a, b, n1));
    free(a);
    free(b);

    /* The expected grid, built the straightforward way. */
    uint32_t k = cols ? cols : (uint32_t)ceil(sqrt((double)count));
    uint32_t s = scale ? scale : 1, rows = (count + k - 1) / k;
    uint32_t ew = k * W * s + (k + 1) * pad, eh = rows * H * s + (rows + 1) * pad;
    uint8_t *want = malloc((size_t)ew * eh * c);
    for (uint32_t y = 0; y < eh; y++)
        for (uint32_t x = 0; x < ew; x++)
            for (uint32_t ch = 0; ch < c; ch++) {
                uint8_t v = byte_of(g.background[ch]);
                uint32_t col = x / (W * s + pad), row = y / (H * s + pad);
                uint32_t ix = x % (W * s + pad), iy = y % (H * s + pad);
                uint32_t idx = row * k + col;
                if (ix >= pad && iy >= pad && col < k && row < rows && idx < count)
                    v = byte_of(imgs[((idx * c + ch) * H + (iy - pad) / s) * W + (ix - pad) / s]);
                want[((size_t)y * ew + x) * c + ch] = v;
            }
    uint32_t w = 0, h = 0;
    uint8_t *got = decode(tmp_path(first), c, &w, &h);
    CHECK(got && w == ew && h == eh);
    int same = got && w == ew && h == eh && !memcmp(got, want, (size_t)ew * eh * c);
    CHECK(same);
    printf("%s %s: %ux%u, %zu bytes\n", same ? "ok" : "FAIL", name, (unsigned)ew,
           (unsigned)eh, n1);
    free(got);
    free(want);
    free(imgs);
}

static void test_errors(void)
{
    float px[12] = {0};
    vkvae_error err = {0};
    vkvae_png_grid g = {.count = 1, .channels = 2, .height = 2, .width = 3, .images = px};
    expect_error("grid_channels", vkvae_png_write_grid(tmp_path("e.png"), &g, &err), &err,
                 VKVAE_BAD_INPUT, "grid of 2-channel images; only 1 (grey) or 3 (RGB)");
    err = (vkvae_error){0};
    g = (vkvae_png_grid){.count = 1, .channels = 1, .height = 2, .width = 3, .images = px,
                         .scale = 400000};
    expect_error("grid_too_big", vkvae_png_write_grid(tmp_path("e.png"), &g, &err), &err,
                 VKVAE_BAD_INPUT, "grid of 1200000x800000 pixels exceeds 1000000 per side");
    err = (vkvae_error){0};
    g.scale = 1;
    g.count = 0;
    expect_error("grid_empty", vkvae_png_write_grid(tmp_path("e.png"), &g, &err), &err,
                 VKVAE_BAD_INPUT, "empty grid");
    err = (vkvae_error){0};
    g.count = 1;
    expect_error("png_no_dir", vkvae_png_write_grid(tmp_path("no/dir/e.png"), &g, &err), &err,
                 VKVAE_IO, "cannot create temporary file");
    err = (vkvae_error){0};
    uint8_t raw[6] = {0};
    expect_error("png_zero_width", vkvae_png_write(tmp_path("e.png"), 0, 2, 3, raw, &err), &err,
                 VKVAE_BAD_INPUT, "image size 0x2 outside 1..1000000");
    CHECK(count_files() > 0);
    FILE *f = fopen(tmp_path("e.png"), "rb");
    CHECK(f == NULL);       /* nothing written by a failed call */
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "png");
    test_grid(1, 5, 3, 2, 1);
    test_grid(3, 5, 0, 1, 2);
    test_grid(1, 1, 0, 0, 0);
    test_grid(3, 7, 7, 3, 0);
    test_grid(1, 16, 4, 1, 1);
    test_errors();
    return finish_tests("test_png");
}
