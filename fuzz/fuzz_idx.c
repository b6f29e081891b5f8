/* libFuzzer target: the IDX reader (runtime/io/idx.c), raw and gzip. Every
 * input must either load or fail with a status and a message; a loaded file
 * must hold exactly count*rows*cols readable bytes (ASan sees the last one
 * touched), and pairing it with itself must behave. zlib is not
 * instrumented, so coverage cannot steer mutations through deflate streams;
 * instead every input that is not gzip already is also loaded gzip-
 * compressed by the harness, and both loads must agree (status and bytes). */
#include <zlib.h>

#include "fuzz_file.h"
#include "io/idx.h"

/* Loads the input again from a gzip file (slot 1) and compares. */
static void check_gzip_agrees(const uint8_t *data, size_t size, vkvae_status want,
                              const vkvae_idx *raw)
{
    const char *path = fuzz_path(1);
    gzFile gz = gzopen(path, "wb1");
    FUZZ_CHECK(gz != NULL);
    FUZZ_CHECK(size == 0 || gzwrite(gz, data, (unsigned)size) == (int)size);
    FUZZ_CHECK(gzclose(gz) == Z_OK);
    vkvae_idx idx;
    vkvae_error err = {0};
    vkvae_status st = vkvae_idx_load(&idx, path, &err);
    if (st != want)
        fprintf(stderr, "raw load gave %s, gzip load %s: %s\n", vkvae_status_name(want),
                vkvae_status_name(st), err.message);
    FUZZ_CHECK(st == want);
    if (st == VKVAE_OK) {
        FUZZ_CHECK(idx.ndim == raw->ndim && idx.count == raw->count);
        FUZZ_CHECK(idx.channels == raw->channels && idx.rows == raw->rows &&
                   idx.cols == raw->cols);
        FUZZ_CHECK(memcmp(idx.data, raw->data,
                          (size_t)idx.count * idx.channels * idx.rows * idx.cols) == 0);
    }
    vkvae_idx_destroy(&idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    vkvae_idx idx;
    vkvae_error err = {0};
    vkvae_status st = vkvae_idx_load(&idx, path, &err);
    int is_gzip = size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
    if (!is_gzip)
        check_gzip_agrees(data, size, st, &idx);
    if (st != VKVAE_OK) {
        FUZZ_CHECK_FAILURE(st, err);
        FUZZ_CHECK(idx.data == NULL && idx.path == NULL && idx.count == 0);
        return 0;
    }
    FUZZ_CHECK(idx.ndim == 1 || idx.ndim == 3 || idx.ndim == 4);
    FUZZ_CHECK(idx.count && idx.channels && idx.rows && idx.cols && idx.data && idx.path);
    FUZZ_CHECK(idx.ndim != 1 || (idx.channels == 1 && idx.rows == 1 && idx.cols == 1));
    FUZZ_CHECK(idx.ndim == 4 || idx.channels == 1);
    FUZZ_CHECK(strcmp(idx.path, path) == 0);
    size_t n = (size_t)idx.count * idx.channels * idx.rows * idx.cols;
    unsigned sum = idx.data[0] + idx.data[n - 1];
    /* A raw file holds header + data exactly; gzip only ever grows it less. */
    if (!is_gzip) {
        FUZZ_CHECK(size == 4 + 4 * (size_t)idx.ndim + n);
        FUZZ_CHECK(memcmp(idx.data, data + 4 + 4 * idx.ndim, n) == 0);
    }
    vkvae_error perr = {0};
    st = vkvae_idx_check_pair(&idx, &idx, 0, &perr);
    FUZZ_CHECK(st != VKVAE_OK);   /* a file cannot be images and labels at once */
    FUZZ_CHECK_FAILURE(st, perr);
    (void)sum;
    vkvae_idx_destroy(&idx);
    FUZZ_CHECK(idx.data == NULL && idx.path == NULL);
    return 0;
}
