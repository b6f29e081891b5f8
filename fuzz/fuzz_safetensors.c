/* libFuzzer target: the safetensors reader (runtime/io/safetensors.c). Every
 * input must either load or fail with a status and a message. A loaded file
 * must keep the reader's promises (tensors sorted by offset, tiling the data
 * exactly, each pointer inside it, names findable), and must survive a
 * round trip: write(read(x)) reads back to the same tensors and metadata,
 * and writing that again gives the same bytes. */
#include "fuzz_file.h"
#include "io/safetensors.h"

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0);
    long len = ftell(f);
    FUZZ_CHECK(len >= 0 && fseek(f, 0, SEEK_SET) == 0);
    unsigned char *b = malloc((size_t)len + 1);
    FUZZ_CHECK(b && fread(b, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void check_loaded(const vkvae_safetensors *st)
{
    uint64_t at = 0;
    for (size_t i = 0; i < st->tensor_count; i++) {
        const vkvae_st_tensor *t = &st->tensors[i];
        FUZZ_CHECK(t->name && (unsigned)t->dtype < VKVAE_DTYPE_COUNT);
        FUZZ_CHECK(t->ndim <= VKVAE_ST_MAX_DIMS);
        FUZZ_CHECK(t->begin == at && t->end >= t->begin && t->end <= st->data_size);
        FUZZ_CHECK(vkvae_st_tensor_bytes(t) == t->end - t->begin);
        FUZZ_CHECK((const uint8_t *)t->data == st->data + t->begin);
        if (t->end > t->begin) {
            volatile uint8_t last = ((const uint8_t *)t->data)[t->end - t->begin - 1];
            (void)last;
        }
        const vkvae_st_tensor *found = vkvae_st_find(st, t->name);
        FUZZ_CHECK(found && strcmp(found->name, t->name) == 0);
        at = t->end;
    }
    FUZZ_CHECK(at == st->data_size);
    for (size_t i = 0; i < st->meta_count; i++)
        FUZZ_CHECK(st->meta[i].key && st->meta[i].value);
}

static void check_same(const vkvae_safetensors *a, const vkvae_safetensors *b)
{
    FUZZ_CHECK(a->tensor_count == b->tensor_count && a->meta_count == b->meta_count);
    FUZZ_CHECK(a->data_size == b->data_size);
    FUZZ_CHECK(a->data_size == 0 || memcmp(a->data, b->data, a->data_size) == 0);
    for (size_t i = 0; i < a->tensor_count; i++) {
        const vkvae_st_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        FUZZ_CHECK(strcmp(x->name, y->name) == 0 && x->dtype == y->dtype);
        FUZZ_CHECK(x->ndim == y->ndim && x->begin == y->begin && x->end == y->end);
        FUZZ_CHECK(memcmp(x->shape, y->shape, x->ndim * sizeof x->shape[0]) == 0);
    }
    for (size_t i = 0; i < a->meta_count; i++)
        FUZZ_CHECK(strcmp(a->meta[i].key, b->meta[i].key) == 0 &&
                   strcmp(a->meta[i].value, b->meta[i].value) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    vkvae_safetensors st;
    vkvae_error err = {0};
    vkvae_status s = vkvae_st_read(&st, path, &err);
    if (s != VKVAE_OK) {
        FUZZ_CHECK_FAILURE(s, err);
        FUZZ_CHECK(st.tensors == NULL && st.meta == NULL && st.data == NULL);
        return 0;
    }
    check_loaded(&st);

    const char *copy = fuzz_path(1);
    vkvae_error werr = {0};
    s = vkvae_st_write(copy, st.tensors, st.tensor_count, st.meta, st.meta_count, &werr);
    if (s != VKVAE_OK)
        fprintf(stderr, "write failed: %s\n", werr.message);
    FUZZ_CHECK(s == VKVAE_OK);
    vkvae_safetensors back;
    vkvae_error rerr = {0};
    s = vkvae_st_read(&back, copy, &rerr);
    if (s != VKVAE_OK)
        fprintf(stderr, "reading back failed: %s\n", rerr.message);
    FUZZ_CHECK(s == VKVAE_OK);
    check_same(&st, &back);

    size_t n1, n2;
    unsigned char *first = slurp(copy, &n1);
    s = vkvae_st_write(copy, back.tensors, back.tensor_count, back.meta, back.meta_count,
                       &werr);
    FUZZ_CHECK(s == VKVAE_OK);
    unsigned char *second = slurp(copy, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(first, second, n1) == 0);
    free(first);
    free(second);
    vkvae_st_destroy(&back);
    vkvae_st_destroy(&st);
    FUZZ_CHECK(st.tensors == NULL && st.data == NULL);
    return 0;
}
