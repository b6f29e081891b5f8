/* libFuzzer target: the .npy reader (runtime/io/npy.c). Every input is
 * loaded four ways: as images with no expected channel count, with 1 and
 * with 3 channels, and as labels. Each load must either succeed or fail
 * with a status and a message that names the file, leaving *out zeroed. A
 * success must hold non-zero dimensions and exactly count*channels*rows*cols
 * bytes (ASan sees the last one touched); the file must be exactly header +
 * elements; images must carry the input's values (the same histogram of
 * bytes, whatever the transposition: uint8 as is, float32 as round(255 v)),
 * labels the input's elements in order; and loading the array again with
 * the channel count a load reported must give the same result. */
#include <math.h>

#include "fuzz_file.h"
#include "io/npy.h"

/* Where the elements begin, from the magic's version and header length;
 * 0 when the input is too short to tell (a success implies it is not). */
static size_t data_start(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    if (data[6] == 1)
        return 10 + (size_t)(data[8] | data[9] << 8);
    if (size < 12)
        return 0;
    return 12 + (size_t)(data[8] | data[9] << 8 | data[10] << 16 | (uint32_t)data[11] << 24);
}

static void check_failure(vkvae_status st, const vkvae_error *err, const vkvae_idx *idx,
                          const char *path)
{
    FUZZ_CHECK_FAILURE(st, *err);
    FUZZ_CHECK(strstr(err->message, path) != NULL);
    FUZZ_CHECK(idx->path == NULL && idx->data == NULL && idx->ndim == 0 && idx->count == 0 &&
               idx->channels == 0 && idx->rows == 0 && idx->cols == 0);
}

static void check_images(const vkvae_idx *idx, const uint8_t *data, size_t size, uint32_t want_c)
{
    FUZZ_CHECK(idx->ndim == 3 || idx->ndim == 4);
    FUZZ_CHECK(idx->ndim == 4 || idx->channels == 1);
    FUZZ_CHECK(!want_c || idx->channels == want_c);
    size_t n = (size_t)idx->count * idx->channels * idx->rows * idx->cols;
    size_t at = data_start(data, size);
    FUZZ_CHECK(at > 0 && at <= size);
    size_t bytes = size - at;
    FUZZ_CHECK(bytes == n || bytes == 4 * n);   /* uint8 or float32 */
    size_t want[256] = {0}, got[256] = {0};
    for (size_t i = 0; i < n; i++) {
        if (bytes == n) {
            want[data[at + i]]++;
        } else {
            float v;
            memcpy(&v, data + at + 4 * i, 4);
            FUZZ_CHECK(v >= 0.0f && v <= 1.0f);
            want[(uint8_t)lrintf(v * 255.0f)]++;
        }
        got[idx->data[i]]++;
    }
    FUZZ_CHECK(memcmp(want, got, sizeof want) == 0);
}

static void check_labels(const vkvae_idx *idx, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(idx->ndim == 1 && idx->channels == 1 && idx->rows == 1 && idx->cols == 1);
    size_t at = data_start(data, size);
    FUZZ_CHECK(at > 0 && at <= size);
    size_t bytes = size - at, k = bytes / idx->count;
    FUZZ_CHECK(bytes % idx->count == 0 && k >= 1 && k <= 8);
    for (size_t i = 0; i < idx->count; i++) {
        FUZZ_CHECK(idx->data[i] == data[at + i * k]);
        for (size_t b = 1; b < k; b++)
            FUZZ_CHECK(data[at + i * k + b] == 0);
    }
}

/* One load; returns its status, *out kept for the caller on success. */
static vkvae_status load(vkvae_idx *out, const char *path, const uint8_t *data, size_t size,
                         vkvae_npy_expect e)
{
    vkvae_error err = {0};
    vkvae_status st = vkvae_npy_load(out, path, &e, &err);
    if (st != VKVAE_OK) {
        check_failure(st, &err, out, path);
        return st;
    }
    FUZZ_CHECK(out->count && out->channels && out->rows && out->cols && out->data);
    FUZZ_CHECK(out->path && strcmp(out->path, path) == 0);
    size_t n = (size_t)out->count * out->channels * out->rows * out->cols;
    unsigned touch = out->data[0] + out->data[n - 1];
    (void)touch;
    if (e.labels)
        check_labels(out, data, size);
    else
        check_images(out, data, size, e.channels);
    return st;
}

static int same(const vkvae_idx *a, const vkvae_idx *b)
{
    return a->ndim == b->ndim && a->count == b->count && a->channels == b->channels &&
           a->rows == b->rows && a->cols == b->cols &&
           memcmp(a->data, b->data, (size_t)a->count * a->channels * a->rows * a->cols) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    static const uint32_t channels[3] = {0, 1, 3};
    vkvae_idx img[3];
    vkvae_status st[3];
    for (int i = 0; i < 3; i++)
        st[i] = load(&img[i], path, data, size, (vkvae_npy_expect){.channels = channels[i]});
    /* Without an expected C the reader picks one; asking for it gives the same. */
    if (st[0] == VKVAE_OK && (img[0].channels == 1 || img[0].channels == 3)) {
        int k = img[0].channels == 1 ? 1 : 2;
        FUZZ_CHECK(st[k] == VKVAE_OK && same(&img[0], &img[k]));
    }
    /* A grey N x H x W array is also what channels 1 reads. */
    if (st[0] == VKVAE_OK && img[0].ndim == 3)
        FUZZ_CHECK(st[1] == VKVAE_OK && same(&img[0], &img[1]));
    for (int i = 0; i < 3; i++) {
        vkvae_idx_destroy(&img[i]);
        FUZZ_CHECK(img[i].data == NULL && img[i].path == NULL);
    }
    vkvae_idx lab;
    if (load(&lab, path, data, size, (vkvae_npy_expect){.labels = 1}) == VKVAE_OK)
        vkvae_idx_destroy(&lab);
    return 0;
}
