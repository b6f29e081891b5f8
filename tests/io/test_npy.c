/* NumPy data sets (suite 'io'): crafted .npy files of every layout and
 * element type vkvae reads load as the bytes an IDX file of the same images
 * would give (float32 as round(255 v), N x H x W x C transposed to NCHW,
 * integer labels narrowed); every malformed or unsupported file is refused
 * naming it and the reason; a .npy without a test split has one held out
 * that is stratified, seeded (the same images on every load) and keeps the
 * images' order.
 *   test_npy TMP_PARENT
 */
#include <math.h>

#include "io/data_source.h"
#include "io/npy.h"
#include "io_test.h"

/* A version-1 .npy of n elements of size bytes at data: the header dict,
 * padded with spaces to a multiple of 64 and ended by a newline. */
static void write_npy(const char *path, const char *descr, const char *order, const char *shape,
                      const void *data, size_t bytes, long extra)
{
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                       descr, order, shape);
    size_t header = ((size_t)10 + (size_t)len + 1 + 63) / 64 * 64 - 10;
    size_t total = 10 + header + (size_t)((long)bytes + extra);
    unsigned char *b = calloc(total + 64, 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(header & 0xFF);
    b[9] = (unsigned char)(header >> 8);
    memset(b + 10, ' ', header);
    memcpy(b + 10, dict, (size_t)len);
    b[10 + header - 1] = '\n';
    memcpy(b + 10 + header, data, extra < 0 ? (size_t)((long)bytes + extra) : bytes);
    write_bytes(path, b, total);
    free(b);
}

static void test_layouts(void)
{
    vkvae_error err = {0};
    vkvae_idx idx;
    /* 2 grey 2x3 images of bytes */
    uint8_t grey[12];
    for (int i = 0; i < 12; i++)
        grey[i] = (uint8_t)(i * 20);
    write_npy(tmp_path("grey.npy"), "|u1", "False", "(2, 2, 3)", grey, 12, 0);
    CHECK(vkvae_npy_load(&idx, tmp_path("grey.npy"), &(vkvae_npy_expect){0}, &err) == VKVAE_OK);
    CHECK(idx.ndim == 3 && idx.count == 2 && idx.channels == 1 && idx.rows == 2 &&
          idx.cols == 3 && memcmp(idx.data, grey, 12) == 0);
    vkvae_idx_destroy(&idx);

    /* float32 N x C x H x W: 1 image of 3 x 1 x 2 */
    float rgb[6] = {0.0f, 1.0f, 0.5f, 0.2f, 0.999f, 0.0019f};
    write_npy(tmp_path("f32.npy"), "<f4", "False", "(1, 3, 1, 2)", rgb, sizeof rgb, 0);
    CHECK(vkvae_npy_load(&idx, tmp_path("f32.npy"), &(vkvae_npy_expect){.channels = 3}, &err) ==
          VKVAE_OK);
    CHECK(idx.ndim == 4 && idx.channels == 3 && idx.rows == 1 && idx.cols == 2);
    for (int i = 0; i < 6 && idx.data; i++)
        CHECK(idx.data[i] == (uint8_t)lrintf(rgb[i] * 255.0f));
    vkvae_idx_destroy(&idx);

    /* N x H x W x C (2 images of 2 x 2 x 3): element (n, y, x, c) goes to
     * (n, c, y, x); so too when the model's C is not given */
    uint8_t hwc[24];
    for (int i = 0; i < 24; i++)
        hwc[i] = (uint8_t)i;
    write_npy(tmp_path("hwc.npy"), "|u1", "False", "(2, 2, 2, 3)", hwc, 24, 0);
    for (uint32_t want_c = 0; want_c <= 3; want_c += 3) {
        CHECK(vkvae_npy_load(&idx, tmp_path("hwc.npy"), &(vkvae_npy_expect){.channels = want_c},
                             &err) == VKVAE_OK);
        CHECK(idx.ndim == 4 && idx.count == 2 && idx.channels == 3 && idx.rows == 2 &&
              idx.cols == 2);
        for (int n = 0; n < 2 && idx.data; n++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 2; x++)
                    for (int c = 0; c < 3; c++)
                        CHECK(idx.data[((n * 3 + c) * 2 + y) * 2 + x] ==
                              hwc[((n * 2 + y) * 2 + x) * 3 + c]);
        vkvae_idx_destroy(&idx);
    }

    /* labels of int64, and of bool */
    int64_t labels[3] = {0, 9, 255};
    write_npy(tmp_path("lab.npy"), "<i8", "False", "(3,)", labels, sizeof labels, 0);
    CHECK(vkvae_npy_load(&idx, tmp_path("lab.npy"), &(vkvae_npy_expect){.labels = 1}, &err) ==
          VKVAE_OK);
    CHECK(idx.ndim == 1 && idx.count == 3 && idx.data && idx.data[1] == 9 && idx.data[2] == 255);
    vkvae_idx_destroy(&idx);
}

static void expect_npy_error(const char *id, const char *file, vkvae_npy_expect e,
                             vkvae_status want, const char *sub)
{
    vkvae_idx idx;
    vkvae_error err = {0};
    vkvae_status st = vkvae_npy_load(&idx, tmp_path(file), &e, &err);
    expect_error(id, st, &err, want, sub);
    CHECK(strstr(err.message, file) != NULL);
    CHECK(idx.data == NULL && idx.path == NULL && idx.count == 0);
}

static void test_bad(void)
{
    uint8_t b[64] = {0};
    float f[4] = {0.5f, 1.5f, 0.0f, NAN};
    int64_t big[2] = {3, 300}, neg[2] = {-1, 2};
    write_npy(tmp_path("be.npy"), ">f4", "False", "(1, 2, 2)", f, 16, 0);
    expect_npy_error("big_endian", "be.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "big-endian");
    write_npy(tmp_path("fortran.npy"), "|u1", "True", "(1, 2, 2)", b, 4, 0);
    expect_npy_error("fortran", "fortran.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "Fortran order");
    write_npy(tmp_path("range.npy"), "<f4", "False", "(1, 2, 2)", f, 16, 0);
    expect_npy_error("float_range", "range.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "element 1 is 1.5: float images must lie in [0, 1]");
    write_npy(tmp_path("nan.npy"), "<f4", "False", "(1, 1, 1)", f + 3, 4, 0);
    expect_npy_error("float_nan", "nan.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "element 0 is nan");
    write_npy(tmp_path("f64.npy"), "<f8", "False", "(1, 2, 2)", b, 32, 0);
    expect_npy_error("float64", "f64.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "images must be uint8 or float32, got f8");
    write_npy(tmp_path("big.npy"), "<i8", "False", "(2,)", big, 16, 0);
    expect_npy_error("label_300", "big.npy", (vkvae_npy_expect){.labels = 1}, VKVAE_BAD_INPUT,
                     "label 1 is 300: labels must be 0 to 255");
    write_npy(tmp_path("neg.npy"), "<i8", "False", "(2,)", neg, 16, 0);
    expect_npy_error("label_negative", "neg.npy", (vkvae_npy_expect){.labels = 1},
                     VKVAE_BAD_INPUT, "label 0 is negative");
    write_npy(tmp_path("lab2d.npy"), "|u1", "False", "(2, 2)", b, 4, 0);
    expect_npy_error("labels_2d", "lab2d.npy", (vkvae_npy_expect){.labels = 1}, VKVAE_BAD_INPUT,
                     "one integer per image");
    write_npy(tmp_path("flat.npy"), "|u1", "False", "(4, 16)", b, 64, 0);
    expect_npy_error("images_2d", "flat.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "is not N x H x W, N x C x H x W or N x H x W x C");
    write_npy(tmp_path("c2.npy"), "|u1", "False", "(1, 2, 2, 2)", b, 8, 0);
    expect_npy_error("channels", "c2.npy", (vkvae_npy_expect){.channels = 3}, VKVAE_BAD_INPUT,
                     "with C = 3");
    write_npy(tmp_path("short.npy"), "|u1", "False", "(2, 4, 4)", b, 32, -1);
    expect_npy_error("truncated", "short.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "truncated: the header declares 32 bytes of data from byte 128, the "
                     "file has 31");
    write_npy(tmp_path("long.npy"), "|u1", "False", "(2, 4, 4)", b, 32, 3);
    expect_npy_error("over_long", "long.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "over-long");
    write_npy(tmp_path("zero.npy"), "|u1", "False", "(0, 4, 4)", b, 0, 0);
    expect_npy_error("zero_images", "zero.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "dimension 0 is 0");
    write_bytes(tmp_path("text.npy"), "hello, world", 12);
    expect_npy_error("not_npy", "text.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "not a .npy file");
    expect_npy_error("missing", "none.npy", (vkvae_npy_expect){0}, VKVAE_IO, "cannot open");
    /* A header that ends inside 'descr' (found by fuzz_npy: the element
     * kind was read past the header's last byte). */
    static const char cut[] = "\x93NUMPY\x01\x00\x33\x00"
                              "{'fortran_order': False, 'shape': (1,), 'descr': '<";
    write_bytes(tmp_path("cut.npy"), cut, sizeof cut - 1);
    expect_npy_error("descr_cut", "cut.npy", (vkvae_npy_expect){0}, VKVAE_BAD_INPUT,
                     "element type '< is not supported");
}

/* 100 images, 20 of each of 5 classes, image i filled with byte i. */
static void test_hold_out(void)
{
    uint8_t px[100 * 4];
    int64_t lab[100];
    for (int i = 0; i < 100; i++) {
        memset(px + 4 * i, i, 4);
        lab[i] = i % 5;
    }
    write_npy(tmp_path("set.npy"), "|u1", "False", "(100, 2, 2)", px, sizeof px, 0);
    write_npy(tmp_path("set_labels.npy"), "<i8", "False", "(100,)", lab, sizeof lab, 0);
    vkvae_data_source_desc d = {.path = tmp_path("set.npy"), .labels = tmp_path("set_labels.npy"),
                                .classes = 5};
    vkvae_idx_dataset a, b;
    vkvae_error err = {0};
    CHECK(vkvae_data_source_load(&a, &d, &err) == VKVAE_OK);
    CHECK(vkvae_data_source_load(&b, &d, &err) == VKVAE_OK);
    CHECK(a.train_images.count == 90 && a.test_images.count == 10 && a.test_labels.count == 10);
    int per_class[5] = {0}, ordered = 1;
    for (uint32_t i = 0; a.test_labels.data && i < a.test_labels.count; i++) {
        uint8_t image = a.test_images.data[4 * i];
        per_class[a.test_labels.data[i] % 5]++;
        CHECK(a.test_labels.data[i] == image % 5); /* labels travel with their images */
        ordered &= i == 0 || image > a.test_images.data[4 * (i - 1)];
    }
    for (int c = 0; c < 5; c++)
        CHECK(per_class[c] == 2);
    CHECK(ordered);
    CHECK(b.test_images.data && a.test_images.data &&
          memcmp(a.test_images.data, b.test_images.data, 40) == 0);
    vkvae_idx_dataset_destroy(&a);
    vkvae_idx_dataset_destroy(&b);

    /* unlabelled, a fifth held out */
    d = (vkvae_data_source_desc){.path = tmp_path("set.npy"), .test_fraction = 0.2f};
    CHECK(vkvae_data_source_load(&a, &d, &err) == VKVAE_OK);
    CHECK(a.train_images.count == 80 && a.test_images.count == 20 && !a.train_labels.data);
    vkvae_idx_dataset_destroy(&a);

    d.classes = 5;
    err = (vkvae_error){0};
    expect_error("conditional_without_labels", vkvae_data_source_load(&a, &d, &err), &err,
                 VKVAE_BAD_INPUT, "needs a labels .npy");
    d = (vkvae_data_source_desc){.path = tmp_path("set.npy"), .test_fraction = 0.001f};
    err = (vkvae_error){0};
    expect_error("no_test_left", vkvae_data_source_load(&a, &d, &err), &err, VKVAE_BAD_INPUT,
                 "leaves no test set");
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "npy");
    test_layouts();
    test_bad();
    test_hold_out();
    return finish_tests("test_npy");
}
