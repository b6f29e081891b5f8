/* IDX reader tests: good raw and gzip files, each malformation rejected with
 * its message, image/label pairing, a data set folder, and (when present)
 * the real Fashion-MNIST files. */
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/idx.h"
#include "io_test.h"

/* An IDX file: magic, dims, then `len` data bytes (i * 7 % 251, so labels
 * stay < 10 only when asked via mod). */
static unsigned char *craft(uint32_t magic, const uint32_t *dims, int ndim, size_t len,
                            unsigned mod, size_t *n)
{
    *n = 4 + 4 * (size_t)ndim + len;
    unsigned char *b = malloc(*n);
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(magic >> (24 - 8 * i));
    for (int d = 0; d < ndim; d++)
        for (int i = 0; i < 4; i++)
            b[4 + 4 * d + i] = (unsigned char)(dims[d] >> (24 - 8 * i));
    for (size_t i = 0; i < len; i++)
        b[4 + 4 * ndim + i] = (unsigned char)(i * 7 % 251 % mod);
    return b;
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz || (n && gzwrite(gz, data, (unsigned)n) != (int)n) || gzclose(gz) != Z_OK) {
        fprintf(stderr, "%s: gzip write failed\n", path);
        exit(1);
    }
}

static void expect_load_error(const char *id, const char *path, vkvae_status want,
                              const char *sub)
{
    vkvae_idx idx;
    vkvae_error err = {0};
    vkvae_status st = vkvae_idx_load(&idx, path, &err);
    expect_error(id, st, &err, want, sub);
    CHECK(idx.data == NULL && idx.path == NULL);
    vkvae_idx_destroy(&idx);
}

static void test_good(void)
{
    const uint32_t dims[3] = {3, 4, 5};
    size_t n;
    unsigned char *b = craft(0x803, dims, 3, 60, 256, &n);
    write_bytes(tmp_path("img.raw"), b, n);
    write_gz(tmp_path("img.gz"), b, n);
    const char *names[2] = {"img.raw", "img.gz"};
    for (int k = 0; k < 2; k++) {
        vkvae_idx idx;
        vkvae_error err = {0};
        CHECK(vkvae_idx_load(&idx, tmp_path(names[k]), &err) == VKVAE_OK);
        CHECK(idx.ndim == 3 && idx.count == 3 && idx.channels == 1 && idx.rows == 4 &&
              idx.cols == 5);
        CHECK(idx.data && memcmp(idx.data, b + 16, 60) == 0);
        CHECK(idx.path && strstr(idx.path, names[k]));
        vkvae_idx_destroy(&idx);
    }
    free(b);

    /* Colour: N x C x H x W, the bytes as they are (NCHW). */
    const uint32_t dims4[4] = {2, 3, 4, 5};
    b = craft(0x804, dims4, 4, 120, 256, &n);
    write_bytes(tmp_path("rgb.raw"), b, n);
    vkvae_idx idx;
    vkvae_error err = {0};
    CHECK(vkvae_idx_load(&idx, tmp_path("rgb.raw"), &err) == VKVAE_OK);
    CHECK(idx.ndim == 4 && idx.count == 2 && idx.channels == 3 && idx.rows == 4 &&
          idx.cols == 5);
    CHECK(idx.data && memcmp(idx.data, b + 20, 120) == 0);
    vkvae_idx_destroy(&idx);
    free(b);
}

static void test_bad_files(void)
{
    static const struct {
        const char *id;
        uint32_t magic;
        int ndim;
        uint32_t dims[4];
        long extra;             /* data bytes beyond (or short of) what dims say */
        int gz;
        const char *sub;
    } cases[] = {
        {"truncated_raw", 0x803, 3, {3, 4, 5}, -1, 0, "truncated: header declares 3x4x5 images "
         "(60 bytes from byte 16), data ends at byte 75"},
        {"truncated_gz", 0x803, 3, {3, 4, 5}, -7, 1, "truncated"},
        {"truncated_labels", 0x801, 1, {10, 0, 0}, -10, 0, "10 labels (10 bytes from byte 8), "
         "data ends at byte 8"},
        {"overlong_raw", 0x803, 3, {3, 4, 5}, 1, 0, "over-long: 1 bytes after the 3x4x5 images"},
        {"overlong_gz", 0x801, 1, {6, 0, 0}, 5000, 1, "over-long: 5000 bytes"},
        {"bad_magic", 0x01000803, 3, {3, 4, 5}, 0, 0, "bad magic 0x01000803 at byte 0"},
        {"float_type", 0x0D03, 3, {3, 4, 5}, 0, 0, "element type 0x0D (float) is not supported"},
        {"int_type_gz", 0x0C01, 1, {3, 0, 0}, 0, 1, "element type 0x0C (int)"},
        {"two_dims", 0x802, 2, {3, 4, 0}, -12, 0, "2 dimensions not supported"},
        {"truncated_rgb", 0x804, 4, {2, 3, 4, 5}, -1, 0, "header declares 2 images of 3x4x5 "
         "(120 bytes from byte 20), data ends at byte 139"},
        {"overflow_dims", 0x803, 3, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 0, 0,
         "dimensions overflow"},
        {"zero_dim", 0x803, 3, {3, 0, 5}, 0, 0, "dimension 1 (byte 8) is 0"},
        {"huge_claim_gz", 0x803, 3, {60000, 1000, 1000}, 0, 1, "truncated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t want = cases[i].magic == 0x803 && cases[i].dims[0] < 100
                      ? (uint64_t)cases[i].dims[0] * cases[i].dims[1] * cases[i].dims[2]
                      : cases[i].magic == 0x804 ? (uint64_t)cases[i].dims[0] * cases[i].dims[1] *
                                                      cases[i].dims[2] * cases[i].dims[3]
                      : cases[i].ndim == 1 ? cases[i].dims[0] : 60;
        if (cases[i].dims[0] == 0xFFFFFFFFu || cases[i].dims[0] == 60000)
            want = 0;
        size_t len = (size_t)((long)want + cases[i].extra), n;
        unsigned char *b = craft(cases[i].magic, cases[i].dims, cases[i].ndim, len, 256, &n);
        const char *path = tmp_path(cases[i].id);
        if (cases[i].gz)
            write_gz(path, b, n);
        else
            write_bytes(path, b, n);
        free(b);
        expect_load_error(cases[i].id, path, VKVAE_BAD_INPUT, cases[i].sub);
    }
    write_bytes(tmp_path("short"), "\0\0", 2);
    expect_load_error("too_short", tmp_path("short"), VKVAE_BAD_INPUT,
                      "file is 2 bytes, too short for the 4-byte IDX magic");
    write_bytes(tmp_path("short_header"), "\0\0\x08\x03\0\0\0\x03\0\0", 10);
    expect_load_error("short_header", tmp_path("short_header"), VKVAE_BAD_INPUT,
                      "truncated header: 3 dimensions need 16 bytes, file ends at byte 10");
    write_bytes(tmp_path("empty"), "", 0);
    expect_load_error("empty", tmp_path("empty"), VKVAE_BAD_INPUT, "file is 0 bytes");
    expect_load_error("missing", tmp_path("no-such-file"), VKVAE_IO, "cannot open");

    /* A gzip stream cut in the middle: zlib's own error, with the offset. */
    const uint32_t dims[3] = {30, 28, 28};
    size_t n;
    unsigned char *b = craft(0x803, dims, 3, 30 * 28 * 28, 256, &n);
    write_gz(tmp_path("cut.gz"), b, n);
    free(b);
    unsigned char *gz = read_bytes(tmp_path("cut.gz"), &n);
    write_bytes(tmp_path("cut.gz"), gz, n / 2);
    free(gz);
    expect_load_error("gzip_cut", tmp_path("cut.gz"), VKVAE_BAD_INPUT, "unexpected end of file");
}

static void load(vkvae_idx *idx, const char *name, uint32_t magic, uint32_t count,
                 unsigned mod)
{
    uint32_t dims[3] = {count, 2, 3};
    size_t n, len = magic == 0x803 ? count * 6u : count;
    unsigned char *b = craft(magic, dims, magic == 0x803 ? 3 : 1, len, mod, &n);
    write_bytes(tmp_path(name), b, n);
    free(b);
    vkvae_error err = {0};
    CHECK(vkvae_idx_load(idx, tmp_path(name), &err) == VKVAE_OK);
}

static void test_pairs(void)
{
    vkvae_idx img, lab, lab_big, lab_short;
    load(&img, "pair-img", 0x803, 20, 256);
    load(&lab, "pair-lab", 0x801, 20, 10);
    load(&lab_big, "pair-lab-big", 0x801, 20, 256);
    load(&lab_short, "pair-lab-short", 0x801, 19, 10);
    vkvae_error err = {0};
    CHECK(vkvae_idx_check_pair(&img, &lab, 10, &err) == VKVAE_OK);
    CHECK(vkvae_idx_check_pair(&img, &lab_big, 0, &err) == VKVAE_OK);
    expect_error("label_count", vkvae_idx_check_pair(&img, &lab_short, 10, &err), &err,
                 VKVAE_BAD_INPUT, "label count mismatch: 19 labels, but");
    err = (vkvae_error){0};
    /* label i is i*7 % 251: label 2 is 14, at byte 8 + 2 */
    expect_error("label_range", vkvae_idx_check_pair(&img, &lab_big, 10, &err), &err,
                 VKVAE_BAD_INPUT, "label 2 at byte 10 is 14, not below the class count 10");
    err = (vkvae_error){0};
    expect_error("pair_swapped", vkvae_idx_check_pair(&lab, &img, 10, &err), &err,
                 VKVAE_BAD_INPUT, "expected an image file");
    vkvae_idx_destroy(&img);
    vkvae_idx_destroy(&lab);
    vkvae_idx_destroy(&lab_big);
    vkvae_idx_destroy(&lab_short);
}

static void test_folder(void)
{
    char dir[8192];
    snprintf(dir, sizeof dir, "%s/set", tmpdir);
    mkdir(dir, 0755);
    static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    uint32_t counts[4] = {12, 12, 5, 5};
    for (int i = 0; i < 4; i++) {
        uint32_t dims[3] = {counts[i], 2, 3};
        size_t n, len = i % 2 ? counts[i] : counts[i] * 6u;
        unsigned char *b = craft(i % 2 ? 0x801 : 0x803, dims, i % 2 ? 1 : 3, len, 10, &n);
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (i >= 2)
            write_gz(path, b, n);
        else
            write_bytes(path, b, n);
        free(b);
    }
    vkvae_idx_dataset ds;
    vkvae_error err = {0};
    CHECK(vkvae_idx_dataset_load(&ds, dir, 10, &err) == VKVAE_OK);
    CHECK(ds.train_images.count == 12 && ds.test_labels.count == 5 && ds.test_images.cols == 3);
    vkvae_idx_dataset_destroy(&ds);
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, names[3]);
    remove(path);
    expect_error("folder_missing", vkvae_idx_dataset_load(&ds, dir, 10, &err), &err, VKVAE_IO,
                 "neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz found");
    CHECK(ds.train_images.data == NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
}

static void test_fashion_mnist(void)
{
    const char *dir = getenv("VKVAE_FASHION_MNIST");
    if (!dir)
        dir = "/usr/share/datasets/fashion-mnist";
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        printf("skip fashion_mnist: %s not found\n", dir);
        return;
    }
    vkvae_idx_dataset ds;
    vkvae_error err = {0};
    vkvae_status st = vkvae_idx_dataset_load(&ds, dir, 10, &err);
    if (st)
        fprintf(stderr, "fashion_mnist: %s\n", err.message);
    CHECK(st == VKVAE_OK);
    if (st)
        return;
    CHECK(ds.train_images.count == 60000 && ds.train_images.rows == 28 &&
          ds.train_images.cols == 28);
    CHECK(ds.train_labels.count == 60000);
    CHECK(ds.test_images.count == 10000 && ds.test_images.rows == 28);
    CHECK(ds.test_labels.count == 10000);
    unsigned hist[10] = {0};
    for (uint32_t i = 0; i < ds.train_labels.count; i++)
        hist[ds.train_labels.data[i]]++;
    for (int c = 0; c < 10; c++)
        CHECK(hist[c] == 6000);     /* Fashion-MNIST is balanced */
    printf("ok fashion_mnist: 60000 + 10000 images of 28x28, 6000 per class\n");
    vkvae_idx_dataset_destroy(&ds);
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "idx");
    test_good();
    test_bad_files();
    test_pairs();
    test_folder();
    test_fashion_mnist();
    return finish_tests("test_idx");
}
