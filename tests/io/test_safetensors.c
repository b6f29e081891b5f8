/* safetensors tests: a bit-exact round trip over every dtype (scalars,
 * empty tensors and escaped names included), the exact bytes of a small
 * file, one crafted file per rejection with its expected message, writer
 * argument errors, and atomic replacement when a write fails midway. */
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>

#include "io/safetensors.h"
#include "io_test.h"

/* A file of the 8-byte length, header (as given, no padding) and n_data
 * bytes 0, 1, 2, ... */
static void craft(const char *path, const char *header, size_t n_data)
{
    size_t hn = strlen(header), n = 8 + hn + n_data;
    unsigned char *b = malloc(n);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(b + 8, header, hn);
    for (size_t i = 0; i < n_data; i++)
        b[8 + hn + i] = (unsigned char)i;
    write_bytes(path, b, n);
    free(b);
}

static void expect_read_error(const char *id, const char *header, size_t n_data,
                              const char *sub)
{
    const char *path = tmp_path(id);
    craft(path, header, n_data);
    vkvae_safetensors st;
    vkvae_error err = {0};
    expect_error(id, vkvae_st_read(&st, path, &err), &err, VKVAE_BAD_INPUT, sub);
    CHECK(st.tensors == NULL && st.data == NULL);
}

#define T(dt, n) "{\"dtype\":\"" dt "\",\"shape\":[" n "],\"data_offsets\":"

static void test_rejections(void)
{
    static const struct { const char *id, *header; size_t data; const char *sub; } cases[] = {
        {"not_object", "[1,2]", 0, "header byte 0 (file byte 8): header is not one JSON "
         "object: it must start with '{'"},
        {"empty_header", "", 0, "must start with '{'"},
        {"leading_space", " {}", 0, "must start with '{'"},
        {"two_objects", "{} {}", 0, "header byte 3 (file byte 11): header is not one JSON "
         "object: trailing characters"},
        {"unclosed", "{\"a\":" T("U8", "1") "[0,1]}", 1, "expected ',' or '}' between members, "
         "found end of header"},
        {"value_number", "{\"a\":1}", 0, "value of 'a' is not an object"},
        {"value_null", "{\"a\":null}", 0, "value of 'a' is not an object"},
        {"dup_name", "{\"a\":" T("U8", "1") "[0,1]},\"a\":" T("U8", "1") "[1,2]}}", 2,
         "duplicate tensor name 'a'"},
        {"unknown_dtype", "{\"a\":" T("F31", "1") "[0,4]}}", 4, "header byte 14 (file byte 22):"
         " tensor 'a': unknown dtype 'F31'"},
        {"dtype_not_string", "{\"a\":{\"dtype\":4}}", 0, "expected a string (dtype)"},
        {"offsets_reversed", "{\"a\":" T("F32", "1") "[8,4]}}", 8, "tensor 'a': data_offsets "
         "[8, 4] out of order (end before begin)"},
        {"overlap", "{\"a\":" T("F32", "2") "[0,8]},\"b\":" T("F32", "2") "[4,12]}}", 12,
         "tensor 'b' at data_offsets [4, 12] overlaps 'a', which ends at 8"},
        {"gap", "{\"a\":" T("F32", "1") "[0,4]},\"b\":" T("F32", "1") "[8,12]}}", 12,
         "gap of 4 bytes before tensor 'b' at data_offsets [8, 12]"},
        {"gap_at_start", "{\"a\":" T("U8", "2") "[2,4]}}", 4, "gap of 2 bytes before tensor 'a'"},
        {"past_end", "{\"a\":" T("F32", "2") "[0,8]}}", 4, "tensor 'a': data_offsets [0, 8] past "
         "the end of the file (data is 4 bytes from file byte"},
        {"shape_mismatch", "{\"a\":" T("F32", "3") "[0,8]}}", 8, "tensor 'a': shape [3] of F32 "
         "is 12 bytes, but data_offsets [0, 8] span 8"},
        {"shape_overflow", "{\"a\":" T("F64", "4294967296,4294967296") "[0,0]}}", 0,
         "shape [4294967296,4294967296] of F64 overflows 64 bits"},
        {"trailing_data", "{\"a\":" T("F32", "1") "[0,4]}}", 8, "4 trailing bytes after the "
         "last tensor"},
        {"trailing_no_tensor", "{}", 3, "3 trailing bytes after the last tensor"},
        {"missing_shape", "{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1,
         "tensor 'a': missing \"shape\""},
        {"unknown_key", "{\"a\":{\"dtype\":\"U8\",\"foo\":[1]}}", 0, "tensor 'a': unknown "
         "key 'foo'"},
        {"dup_key", "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\"}}", 0, "tensor 'a': duplicate "
         "key 'dtype'"},
        {"fraction", "{\"a\":" T("U8", "2.0") "[0,2]}}", 2, "expected an integer, found a "
         "fraction or exponent"},
        {"negative", "{\"a\":" T("U8", "-2") "[0,2]}}", 2, "negative numbers are not allowed"},
        {"leading_zero", "{\"a\":" T("U8", "02") "[0,2]}}", 2, "leading zero"},
        {"int_overflow", "{\"a\":" T("U8", "18446744073709551616") "[0,2]}}", 2,
         "integer overflows 64 bits"},
        {"offsets_three", "{\"a\":" T("U8", "1") "[0,1,2]}}", 1, "data_offsets has more than "
         "2 entries"},
        {"offsets_one", "{\"a\":" T("U8", "1") "[0]}}", 1, "data_offsets must have 2 entries, "
         "has 1"},
        {"too_many_dims", "{\"a\":" T("U8", "1,1,1,1,1,1,1,1,1") "[0,1]}}", 1,
         "shape has more than 8 entries"},
        {"bad_escape", "{\"a\\x\":{}}", 0, "invalid escape '\\x'"},
        {"lone_surrogate", "{\"\\udc00\":{}}", 0, "lone low surrogate"},
        {"high_surrogate", "{\"\\ud800x\":{}}", 0, "high surrogate without a low surrogate"},
        {"nul_escape", "{\"a\\u0000\":{}}", 0, "\\u0000 (NUL) is not allowed"},
        {"short_hex", "{\"\\u12\":{}}", 0, "\\u needs 4 hex digits"},
        {"bad_utf8", "{\"a\xff\":{}}", 0, "invalid UTF-8"},
        {"overlong_utf8", "{\"\xc0\xaf\":{}}", 0, "invalid UTF-8"},
        {"control_char", "{\"a\nb\":{}}", 0, "control byte 0x0A in a string must be escaped"},
        {"unterminated", "{\"abc", 0, "unterminated string (a key in the header)"},
        {"key_not_string", "{a:1}", 0, "header byte 1 (file byte 9): expected a string"},
        {"missing_colon", "{\"a\" {}}", 0, "expected ':' after a key in the header, found '{'"},
        {"meta_number", "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ 'k': value is not a "
         "string"},
        {"meta_object", "{\"__metadata__\":{\"k\":{}}}", 0, "value is not a string"},
        {"meta_not_object", "{\"__metadata__\":\"x\"}", 0, "expected '{' to open __metadata__"},
        {"meta_dup_key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
         "duplicate metadata name 'k'"},
        {"meta_twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
         "duplicate \"__metadata__\""},
        {"bool_value", "{\"a\":true}", 0, "value of 'a' is not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_read_error(cases[i].id, cases[i].header, cases[i].data, cases[i].sub);

    /* Header length problems need hand-made length fields. */
    vkvae_safetensors st;
    vkvae_error err = {0};
    write_bytes(tmp_path("short_file"), "\x02\0\0\0", 4);
    expect_error("short_file", vkvae_st_read(&st, tmp_path("short_file"), &err), &err,
                 VKVAE_BAD_INPUT, "file is 4 bytes, shorter than the 8-byte header length");
    err = (vkvae_error){0};
    write_bytes(tmp_path("huge_header"), "\x01\xe1\xf5\x05\0\0\0\0{}", 10);  /* 100000001 */
    expect_error("huge_header", vkvae_st_read(&st, tmp_path("huge_header"), &err), &err,
                 VKVAE_BAD_INPUT, "header length 100000001 at byte 0 exceeds the 100 MB limit");
    err = (vkvae_error){0};
    write_bytes(tmp_path("header_past_end"), "\x10\0\0\0\0\0\0\0{}      ", 16);
    expect_error("header_past_end", vkvae_st_read(&st, tmp_path("header_past_end"), &err),
                 &err, VKVAE_BAD_INPUT, "header length 16 at byte 0 runs past the end of the "
                 "file (16 bytes)");
    err = (vkvae_error){0};
    expect_error("missing_file", vkvae_st_read(&st, tmp_path("nope"), &err), &err, VKVAE_IO,
                 "cannot open");
}

static void test_accepts(void)
{
    /* Whitespace between tokens, padding, escapes and surrogate pairs are fine;
     * header order need not be data order. */
    const char *path = tmp_path("accept");
    craft(path, "{ \"b\" : {\"data_offsets\":[4,6], \"shape\":[ 2 ],\"dtype\":\"U8\"},\n"
          "\"\\ud83d\\ude00\\t\\u00e9\":" T("F32", "1") "[0,4]}}   ", 6);
    vkvae_safetensors st;
    vkvae_error err = {0};
    CHECK(vkvae_st_read(&st, path, &err) == VKVAE_OK);
    if (err.status)
        fprintf(stderr, "accept: %s\n", err.message);
    CHECK(st.tensor_count == 2 && st.data_size == 6);
    if (st.tensor_count == 2) {
        CHECK(!strcmp(st.tensors[0].name, "\xf0\x9f\x98\x80\t\xc3\xa9"));
        CHECK(st.tensors[1].dtype == VKVAE_DTYPE_U8 && st.tensors[1].ndim == 1);
        CHECK(st.tensors[1].data == st.data + 4);
        CHECK(vkvae_st_find(&st, "b") == &st.tensors[1]);
    }
    vkvae_st_destroy(&st);
    craft(path, "{}", 0);
    CHECK(vkvae_st_read(&st, path, &err) == VKVAE_OK && st.tensor_count == 0);
    vkvae_st_destroy(&st);
}

static void test_round_trip(void)
{
    float w[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f};
    double s = 3.14159265358979;
    uint16_t h[3] = {0x3c00, 0x7e00, 0x8001};
    int64_t q[2] = {INT64_MIN, 42};
    uint8_t u[5] = {0, 1, 127, 128, 255};
    uint32_t nanbits = 0x7fc00001;
    float nan;
    memcpy(&nan, &nanbits, 4);
    vkvae_st_tensor t[] = {
        {.name = "enc.w", .dtype = VKVAE_DTYPE_F32, .ndim = 2, .shape = {3, 2}, .data = w},
        {.name = "scalar", .dtype = VKVAE_DTYPE_F64, .ndim = 0, .data = &s},
        {.name = "empty", .dtype = VKVAE_DTYPE_I32, .ndim = 2, .shape = {0, 5}},
        {.name = "h", .dtype = VKVAE_DTYPE_F16, .ndim = 1, .shape = {3}, .data = h},
        {.name = "q", .dtype = VKVAE_DTYPE_I64, .ndim = 1, .shape = {2}, .data = q},
        {.name = "u8 odd", .dtype = VKVAE_DTYPE_U8, .ndim = 3, .shape = {5, 1, 1}, .data = u},
        {.name = "b\"q\\\n\x01\xc3\xa9", .dtype = VKVAE_DTYPE_BF16, .ndim = 1, .shape = {1},
         .data = h},
        {.name = "nan", .dtype = VKVAE_DTYPE_F32, .ndim = 1, .shape = {1}, .data = &nan},
    };
    size_t nt = sizeof t / sizeof *t;
    vkvae_st_meta meta[] = {{"format", "pt"}, {"note", "tab\there \"\xc3\xa9\" \x1f"}};
    vkvae_error err = {0};
    CHECK(vkvae_st_write(tmp_path("rt1"), t, nt, meta, 2, &err) == VKVAE_OK);
    vkvae_safetensors st;
    CHECK(vkvae_st_read(&st, tmp_path("rt1"), &err) == VKVAE_OK);
    if (err.status)
        fprintf(stderr, "round trip: %s\n", err.message);
    CHECK(st.tensor_count == nt && st.meta_count == 2);
    for (size_t i = 0; i < nt && i < st.tensor_count; i++) {
        const vkvae_st_tensor *r = &st.tensors[i];
        uint64_t n = vkvae_st_tensor_bytes(&t[i]);
        CHECK(!strcmp(r->name, t[i].name) && r->dtype == t[i].dtype && r->ndim == t[i].ndim);
        CHECK(!memcmp(r->shape, t[i].shape, sizeof r->shape));
        CHECK(r->end - r->begin == n && (n == 0 || !memcmp(r->data, t[i].data, n)));
    }
    for (size_t i = 0; i < 2 && i < st.meta_count; i++)
        CHECK(!strcmp(st.meta[i].key, meta[i].key) && !strcmp(st.meta[i].value, meta[i].value));
    CHECK(vkvae_st_write(tmp_path("rt2"), st.tensors, st.tensor_count, st.meta, st.meta_count,
                         &err) == VKVAE_OK);
    vkvae_st_destroy(&st);
    size_t n1, n2;
    unsigned char *a = read_bytes(tmp_path("rt1"), &n1), *b = read_bytes(tmp_path("rt2"), &n2);
    CHECK(a && b && n1 == n2 && !memcmp(a, b, n1));
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = hn << 8 | a[i];
    CHECK(hn % 8 == 0);
    printf("ok round_trip: %zu bytes identical, header %llu bytes\n", n1,
           (unsigned long long)hn);
    free(a);
    free(b);
}

static void test_layout(void)
{
    /* Hand-computed: the JSON below is 79 bytes (1 + 14 + 1 + 9 + 1 + 3 + 1 +
     * 1 + 7 + 1 + 5 + 1 + 7 + 1 + 3 + 1 + 14 + 1 + 5 + 2), padded with one
     * space to 80 (0x50); then 1.0f and -2.0f little-endian. */
    static const char header[] = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\","
                                 "\"shape\":[2],\"data_offsets\":[0,8]}} ";
    _Static_assert(sizeof header - 1 == 80, "hand-computed header length");
    unsigned char want[8 + 80 + 8] = {0x50, 0, 0, 0, 0, 0, 0, 0};
    memcpy(want + 8, header, 80);
    memcpy(want + 88, "\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
    float v[2] = {1.0f, -2.0f};
    vkvae_st_tensor t = {.name = "a", .dtype = VKVAE_DTYPE_F32, .ndim = 1, .shape = {2},
                         .data = v};
    vkvae_st_meta m = {"k", "v"};
    vkvae_error err = {0};
    CHECK(vkvae_st_write(tmp_path("layout"), &t, 1, &m, 1, &err) == VKVAE_OK);
    size_t n;
    unsigned char *got = read_bytes(tmp_path("layout"), &n);
    CHECK(got && n == sizeof want && !memcmp(got, want, n));
    free(got);
    /* No tensors, no metadata: "{}" padded to 8. */
    CHECK(vkvae_st_write(tmp_path("layout0"), NULL, 0, NULL, 0, &err) == VKVAE_OK);
    got = read_bytes(tmp_path("layout0"), &n);
    CHECK(got && n == 16 && !memcmp(got, "\x08\0\0\0\0\0\0\0{}      ", 16));
    free(got);
}

static void test_writer_errors(void)
{
    float v[2] = {1, 2};
    vkvae_st_tensor t[2] = {
        {.name = "x", .dtype = VKVAE_DTYPE_F32, .ndim = 1, .shape = {2}, .data = v},
        {.name = "x", .dtype = VKVAE_DTYPE_F32, .ndim = 1, .shape = {1}, .data = v},
    };
    const char *path = tmp_path("keep");
    vkvae_error err = {0};
    CHECK(vkvae_st_write(path, t, 1, NULL, 0, &err) == VKVAE_OK);
    size_t n0, n;
    unsigned char *before = read_bytes(path, &n0);
    int files = count_files();
    expect_error("write_dup", vkvae_st_write(path, t, 2, NULL, 0, &err), &err, VKVAE_BAD_INPUT,
                 "duplicate tensor name 'x'");
    err = (vkvae_error){0};
    vkvae_st_tensor nodata = {.name = "y", .dtype = VKVAE_DTYPE_U8, .ndim = 1, .shape = {3}};
    expect_error("write_nodata", vkvae_st_write(path, &nodata, 1, NULL, 0, &err), &err,
                 VKVAE_BAD_INPUT, "tensor 0 ('y') has no data");
    err = (vkvae_error){0};
    vkvae_st_meta m = {"k", NULL};
    expect_error("write_meta", vkvae_st_write(path, t, 1, &m, 1, &err), &err, VKVAE_BAD_INPUT,
                 "metadata entry 0 has a missing");
    err = (vkvae_error){0};
    expect_error("write_no_dir", vkvae_st_write(tmp_path("no/such/dir.st"), t, 1, NULL, 0,
                                                &err), &err, VKVAE_IO,
                 "cannot create temporary file");
    err = (vkvae_error){0};

    /* A write that fails midway (file size limit): the old file stays and
     * no temporary file is left behind. */
    size_t big = 1 << 20;
    float *data = calloc(big, sizeof *data);
    vkvae_st_tensor large = {.name = "big", .dtype = VKVAE_DTYPE_F32, .ndim = 1,
                             .shape = {big}, .data = data};
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    expect_error("write_midway", vkvae_st_write(path, &large, 1, NULL, 0, &err), &err,
                 VKVAE_IO, "");
    setrlimit(RLIMIT_FSIZE, &old);
    free(data);
    unsigned char *after = read_bytes(path, &n);
    CHECK(after && n == n0 && !memcmp(before, after, n));
    CHECK(count_files() == files);
    free(before);
    free(after);
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "safetensors");
    test_rejections();
    test_accepts();
    test_round_trip();
    test_layout();
    test_writer_errors();
    return finish_tests("test_safetensors");
}
