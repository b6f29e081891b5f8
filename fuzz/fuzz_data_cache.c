/* libFuzzer target: the data cache's reader (runtime/io/data_cache.c), the
 * one file vkvae reads back that it wrote itself. A CRC-32 guards the
 * whole file, so random bytes would stop there; the harness appends the
 * right CRC to every input, and with the first byte odd also puts a valid
 * header (magic, version, the settings below, one source) before the rest,
 * so the fuzzer's bytes reach the class names, counts and arrays. Each
 * parse must either miss with out and info zeroed, or hit with a data set
 * the loader could have made (images of the settings' size, labels one per
 * image below the class count, every array exactly its dimensions long:
 * ASan sees the last byte touched); a hit written back by the writer must
 * be those very bytes, and parse again to the same. */
#include "fuzz_file.h"
#include "io/data_cache.h"
#include "io/safetensors.h" /* vkvae_st_crc32 */

static const vkvae_image_folder_desc desc = {.channels = 1, .height = 4, .width = 3, .seed = 7};
static vkvae_data_cache_source source = {"a/x.png", 120, 1700000000123456789ull};

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void check_idx(const vkvae_idx *x)
{
    size_t n = (size_t)x->count * x->channels * x->rows * x->cols;
    FUZZ_CHECK((n == 0) == (x->data == NULL));
    if (n) {
        unsigned touch = x->data[0] + x->data[n - 1];
        (void)touch;
        FUZZ_CHECK(x->path != NULL);
    }
}

static void check_hit(const vkvae_idx_dataset *ds, const vkvae_image_folder_info *info)
{
    const vkvae_idx *all[4] = {&ds->train_images, &ds->train_labels, &ds->test_images,
                               &ds->test_labels};
    for (int i = 0; i < 4; i++)
        check_idx(all[i]);
    for (int s = 0; s < 2; s++) {
        const vkvae_idx *img = all[2 * s], *lab = all[2 * s + 1];
        if (img->ndim) {
            FUZZ_CHECK(img->channels == 1 && img->rows == 4 && img->cols == 3);
            for (uint32_t i = 0; lab->ndim && i < lab->count; i++)
                FUZZ_CHECK(lab->data[i] < info->n_classes);
        }
        FUZZ_CHECK(!lab->ndim || lab->count == img->count);
    }
    FUZZ_CHECK(info->n_classes <= VKVAE_IMAGE_MAX_CLASSES);
    FUZZ_CHECK((info->n_classes == 0) == (info->class_names == NULL));
    for (uint32_t c = 0; c < info->n_classes; c++)
        FUZZ_CHECK(info->class_names[c] != NULL);
    FUZZ_CHECK(info->skipped_kept <= VKVAE_IMAGE_SKIP_KEPT);
    for (uint32_t k = 0; k < info->skipped_kept; k++)
        FUZZ_CHECK(info->skipped_messages[k] != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* The header a valid file for desc and source begins with: the writer's
     * own bytes up to the class count, from an empty data set. */
    static uint8_t header[256];
    static size_t header_n;
    if (!header_n) {
        vkvae_idx_dataset none = {0};
        vkvae_image_folder_info no_info = {0};
        size_t n;
        uint8_t *empty = vkvae_data_cache_build(&desc, &source, 1, &none, &no_info, &n);
        /* what follows the sources: classes, 5 counts, 4 empty arrays, the CRC */
        size_t tail = 4 + 5 * 4 + 4 * (5 * 4 + 8) + 4;
        FUZZ_CHECK(empty && n > tail && n - tail <= sizeof header);
        header_n = n - tail;
        memcpy(header, empty, header_n);
        free(empty);
    }
    int with_header = data[0] & 1;
    data++, size--;
    size_t n = (with_header ? header_n : 0) + size + 4;
    uint8_t *file = malloc(n);
    FUZZ_CHECK(file != NULL);
    if (with_header)
        memcpy(file, header, header_n);
    memcpy(file + n - 4 - size, data, size);
    put_u32(file + n - 4, vkvae_st_crc32(0, file, n - 4));

    vkvae_idx_dataset ds;
    vkvae_image_folder_info info;
    if (vkvae_data_cache_parse(file, n, &desc, &source, 1, "dir", &ds, &info) != 0) {
        vkvae_idx_dataset zero_ds = {0};
        vkvae_image_folder_info zero_info = {0};
        FUZZ_CHECK(memcmp(&ds, &zero_ds, sizeof ds) == 0);
        FUZZ_CHECK(memcmp(&info, &zero_info, sizeof info) == 0);
        free(file);
        return 0;
    }
    check_hit(&ds, &info);
    size_t again_n;
    uint8_t *again = vkvae_data_cache_build(&desc, &source, 1, &ds, &info, &again_n);
    FUZZ_CHECK(again && again_n == n && memcmp(again, file, n) == 0);
    vkvae_idx_dataset ds2;
    vkvae_image_folder_info info2;
    FUZZ_CHECK(vkvae_data_cache_parse(again, again_n, &desc, &source, 1, "dir", &ds2, &info2) == 0);
    FUZZ_CHECK(ds2.train_images.count == ds.train_images.count &&
               ds2.test_images.count == ds.test_images.count &&
               info2.n_classes == info.n_classes && info2.skipped == info.skipped);
    free(again);
    vkvae_idx_dataset_destroy(&ds);
    vkvae_idx_dataset_destroy(&ds2);
    vkvae_image_folder_info_destroy(&info);
    vkvae_image_folder_info_destroy(&info2);
    free(file);
    return 0;
}
