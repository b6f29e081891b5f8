/* safetensors reader and writer. The reader loads the whole file, parses the
 * header with a small strict JSON parser that knows only what safetensors
 * uses (objects, strings with all JSON escapes, arrays of non-negative
 * integers; whitespace between tokens and as trailing padding) and rejects
 * anything else at its byte offset. After parsing, tensors are sorted by
 * data offset and must tile the buffer exactly: the first starts at 0, each
 * starts where the previous ended, the last ends at the end of the file, and
 * each range holds exactly product(shape) * dtype size bytes. Invariant of a
 * loaded vkvae_safetensors: every tensor's data pointer lies inside data.
 * The writer emits the compact JSON the reference implementation writes
 * (metadata first, then tensors in the caller's order, spaces padding the
 * header to a multiple of 8 bytes), so read -> write is byte-exact. */
#include "io/safetensors.h"

#include <zlib.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic.h"

static const struct { const char *name; size_t size; } dtypes[] = {
#define X(e, name, size) {name, size},
    VKVAE_DTYPES(X)
#undef X
};
_Static_assert(sizeof dtypes / sizeof *dtypes == VKVAE_DTYPE_COUNT, "dtype table");

const char *vkvae_dtype_name(vkvae_dtype t)
{
    return (unsigned)t < VKVAE_DTYPE_COUNT ? dtypes[t].name : "?";
}

size_t vkvae_dtype_size(vkvae_dtype t)
{
    return (unsigned)t < VKVAE_DTYPE_COUNT ? dtypes[t].size : 0;
}

/* Bytes of t in *out; 0 if the product overflows 64 bits. A zero dimension
 * makes the tensor empty whatever the other dimensions are. */
static int bytes_of(const vkvae_st_tensor *t, uint64_t *out)
{
    uint64_t n = vkvae_dtype_size(t->dtype);
    *out = 0;
    for (uint32_t i = 0; i < t->ndim && i < VKVAE_ST_MAX_DIMS; i++)
        if (t->shape[i] == 0)
            return 1;
    for (uint32_t i = 0; i < t->ndim && i < VKVAE_ST_MAX_DIMS; i++) {
        if (n > UINT64_MAX / t->shape[i])
            return 0;
        n *= t->shape[i];
    }
    *out = n;
    return 1;
}

uint64_t vkvae_st_tensor_bytes(const vkvae_st_tensor *t)
{
    uint64_t n;
    return bytes_of(t, &n) ? n : 0;
}

/* ---- JSON ---- */

typedef struct jp {
    const char *s;
    size_t n, pos;
    const char *path;
    vkvae_error *err;
} jp;

static vkvae_status jfail(jp *p, const char *fmt, ...) VKVAE_PRINTF(2, 3);
static vkvae_status jfail(jp *p, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vkvae_fail(p->err, VKVAE_BAD_INPUT, "%s: header byte %zu (file byte %zu): %s",
                      p->path, p->pos, p->pos + 8, msg);
}

static void ws(jp *p)
{
    while (p->pos < p->n && strchr(" \t\n\r", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static int peek(jp *p)
{
    return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static vkvae_status expect(jp *p, char c, const char *where)
{
    ws(p);
    int got = peek(p);
    if (got != c) {
        char seen[16] = "end of header";
        if (got >= 0x20 && got < 0x7F)
            snprintf(seen, sizeof seen, "'%c'", got);
        else if (got >= 0)
            snprintf(seen, sizeof seen, "byte 0x%02X", (unsigned)got);
        return jfail(p, "expected '%c' %s, found %s", c, where, seen);
    }
    p->pos++;
    return VKVAE_OK;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F)); return 4;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!len || len > n || s[0] > 0xF4)
        return 0;
    uint32_t c = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

/* Parses a string into a new NUL-terminated buffer. */
static vkvae_status jstring(jp *p, char **out, const char *what)
{
    *out = NULL;
    ws(p);
    if (peek(p) != '"')
        return jfail(p, "expected a string (%s)", what);
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return jfail(p, "unterminated string (%s)", what);
    char *o = malloc(end - start + 1);
    if (!o)
        return vkvae_fail(p->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", p->path);
    size_t k = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            free(o);
            return jfail(p, "control byte 0x%02X in a string must be escaped", c);
        }
        if (c >= 0x80) {
            size_t len = utf8_len((const unsigned char *)p->s + p->pos, end - p->pos);
            if (!len) {
                free(o);
                return jfail(p, "invalid UTF-8 in a string");
            }
            memcpy(o + k, p->s + p->pos, len);
            k += len;
            p->pos += len;
            continue;
        }
        if (c != '\\') {
            o[k++] = (char)c;
            p->pos++;
            continue;
        }
        char e = p->s[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (simple && e) {
            o[k++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            p->pos += 2;
            continue;
        }
        if (e != 'u') {
            free(o);
            return jfail(p, "invalid escape '\\%c' in a string", e >= 0x20 && e < 0x7F ? e : '?');
        }
        int u = end - p->pos >= 6 ? hex4(p->s + p->pos + 2) : -1;
        int lo = -1;
        if (u >= 0xD800 && u <= 0xDBFF && end - p->pos >= 12 && p->s[p->pos + 6] == '\\' &&
            p->s[p->pos + 7] == 'u')
            lo = hex4(p->s + p->pos + 8);
        const char *bad = u < 0 ? "\\u needs 4 hex digits"
                        : u == 0 ? "\\u0000 (NUL) is not allowed in names or metadata"
                        : u >= 0xDC00 && u <= 0xDFFF ? "lone low surrogate"
                        : u >= 0xD800 && u <= 0xDBFF && (lo < 0xDC00 || lo > 0xDFFF)
                        ? "high surrogate without a low surrogate" : NULL;
        if (bad) {
            free(o);
            return jfail(p, "%s", bad);
        }
        uint32_t cp = (uint32_t)u;
        if (lo >= 0) {
            cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            p->pos += 6;
        }
        k += put_utf8(o + k, cp);
        p->pos += 6;
    }
    o[k] = 0;
    p->pos = end + 1;
    *out = o;
    return VKVAE_OK;
}

static vkvae_status ju64(jp *p, uint64_t *v, const char *what)
{
    ws(p);
    int c = peek(p);
    if (c == '-')
        return jfail(p, "%s: negative numbers are not allowed", what);
    if (c < '0' || c > '9')
        return jfail(p, "%s: expected a non-negative integer", what);
    if (c == '0' && p->pos + 1 < p->n && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9')
        return jfail(p, "%s: leading zero in an integer", what);
    uint64_t x = 0;
    while ((c = peek(p)) >= '0' && c <= '9') {
        if (x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return jfail(p, "%s: integer overflows 64 bits", what);
        x = x * 10 + (uint64_t)(c - '0');
        p->pos++;
    }
    if (c == '.' || c == 'e' || c == 'E')
        return jfail(p, "%s: expected an integer, found a fraction or exponent", what);
    *v = x;
    return VKVAE_OK;
}

static vkvae_status jarray(jp *p, uint64_t *out, size_t max, uint32_t *count, const char *what)
{
    vkvae_status st;
    *count = 0;
    if ((st = expect(p, '[', what)))
        return st;
    ws(p);
    if (peek(p) == ']') {
        p->pos++;
        return VKVAE_OK;
    }
    for (;;) {
        if (*count == max)
            return jfail(p, "%s has more than %zu entries", what, max);
        if ((st = ju64(p, &out[(*count)++], what)))
            return st;
        ws(p);
        if (peek(p) == ']') {
            p->pos++;
            return VKVAE_OK;
        }
        if ((st = expect(p, ',', what)))
            return st;
    }
}

/* Calls item(key) for each "key": of an object, after the ':'. */
typedef vkvae_status (*jitem)(jp *p, char *key, void *ctx);

static vkvae_status jobject(jp *p, const char *what, jitem item, void *ctx)
{
    vkvae_status st;
    char after[96];
    snprintf(after, sizeof after, "to open %s", what);
    if ((st = expect(p, '{', after)))
        return st;
    ws(p);
    if (peek(p) == '}') {
        p->pos++;
        return VKVAE_OK;
    }
    char key_what[96];
    snprintf(after, sizeof after, "after a key in %s", what);
    snprintf(key_what, sizeof key_what, "a key in %s", what);
    for (;;) {
        char *key;
        if ((st = jstring(p, &key, key_what)))
            return st;
        if ((st = expect(p, ':', after))) {
            free(key);
            return st;
        }
        if ((st = item(p, key, ctx)))   /* item owns key */
            return st;
        ws(p);
        if (peek(p) == '}') {
            p->pos++;
            return VKVAE_OK;
        }
        if ((st = expect(p, ',', "or '}' between members")))
            return st;
    }
}

/* ---- header structure ---- */

typedef struct hdr {
    vkvae_safetensors *st;
    size_t tcap, mcap;
    int seen_meta;
    vkvae_st_tensor *cur;
    unsigned seen;          /* bit 0 dtype, 1 shape, 2 data_offsets */
} hdr;

static vkvae_status meta_item(jp *p, char *key, void *ctx)
{
    hdr *h = ctx;
    vkvae_safetensors *st = h->st;
    char *value;
    ws(p);
    if (peek(p) != '"') {
        vkvae_status s = jfail(p, "__metadata__ '%s': value is not a string", key);
        free(key);
        return s;
    }
    vkvae_status s = jstring(p, &value, "a metadata value");
    if (!s && st->meta_count == h->mcap) {
        h->mcap = h->mcap ? 2 * h->mcap : 8;
        vkvae_st_meta *m = realloc(st->meta, h->mcap * sizeof *m);
        if (!m)
            s = vkvae_fail(p->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", p->path);
        else
            st->meta = m;
    }
    if (s) {
        free(key);
        free(value);
        return s;
    }
    st->meta[st->meta_count++] = (vkvae_st_meta){key, value};
    return VKVAE_OK;
}

static vkvae_status field_item(jp *p, char *key, void *ctx)
{
    hdr *h = ctx;
    vkvae_st_tensor *t = h->cur;
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    int f = 0;
    while (f < 3 && strcmp(key, fields[f]))
        f++;
    vkvae_status s = VKVAE_OK;
    if (f == 3)
        s = jfail(p, "tensor '%s': unknown key '%s'", t->name, key);
    else if (h->seen & 1u << f)
        s = jfail(p, "tensor '%s': duplicate key '%s'", t->name, key);
    free(key);
    if (s)
        return s;
    h->seen |= 1u << f;
    char what[96];
    uint32_t n;
    if (f == 0) {
        char *name;
        ws(p);
        size_t at = p->pos;
        if ((s = jstring(p, &name, "dtype")))
            return s;
        int d = 0;
        while (d < VKVAE_DTYPE_COUNT && strcmp(name, dtypes[d].name))
            d++;
        if (d == VKVAE_DTYPE_COUNT) {
            p->pos = at;
            s = jfail(p, "tensor '%s': unknown dtype '%s'", t->name, name);
        }
        t->dtype = (vkvae_dtype)d;
        free(name);
        return s;
    }
    snprintf(what, sizeof what, "tensor '%s' %s", t->name, fields[f]);
    if (f == 1)
        return jarray(p, t->shape, VKVAE_ST_MAX_DIMS, &t->ndim, what);
    uint64_t off[2];
    size_t at = (ws(p), p->pos);
    if ((s = jarray(p, off, 2, &n, what)))
        return s;
    if (n != 2) {
        p->pos = at;
        return jfail(p, "%s must have 2 entries, has %u", what, (unsigned)n);
    }
    t->begin = off[0];
    t->end = off[1];
    return VKVAE_OK;
}

static vkvae_status top_item(jp *p, char *key, void *ctx)
{
    hdr *h = ctx;
    vkvae_safetensors *st = h->st;
    if (!strcmp(key, "__metadata__")) {
        free(key);
        if (h->seen_meta)
            return jfail(p, "duplicate \"__metadata__\"");
        h->seen_meta = 1;
        return jobject(p, "__metadata__", meta_item, h);
    }
    if (st->tensor_count == h->tcap) {
        h->tcap = h->tcap ? 2 * h->tcap : 16;
        vkvae_st_tensor *t = realloc(st->tensors, h->tcap * sizeof *t);
        if (!t) {
            free(key);
            return vkvae_fail(p->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", p->path);
        }
        st->tensors = t;
    }
    vkvae_st_tensor *t = &st->tensors[st->tensor_count++];
    *t = (vkvae_st_tensor){.name = key};
    ws(p);
    if (peek(p) != '{')
        return jfail(p, "value of '%s' is not an object", key);
    h->cur = t;
    h->seen = 0;
    char what[96];
    snprintf(what, sizeof what, "tensor '%.60s'", key);
    vkvae_status s = jobject(p, what, field_item, h);
    if (!s && h->seen != 7)
        s = jfail(p, "tensor '%s': missing \"%s\"", key,
                  !(h->seen & 1) ? "dtype" : !(h->seen & 2) ? "shape" : "data_offsets");
    return s;
}

/* ---- validation ---- */

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice among n structs of stride bytes at base,
 * each starting with its name pointer, or NULL; *oom set if sorting failed. */
static const char *find_duplicate(const void *base, size_t stride, size_t n, int *oom)
{
    *oom = 0;
    if (n < 2)
        return NULL;
    const char **v = malloc(n * sizeof *v);
    if (!v) {
        *oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = *(const char *const *)((const char *)base + i * stride);
    qsort(v, n, sizeof *v, by_string);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (!strcmp(v[i - 1], v[i]))
            dup = v[i];
    free(v);
    return dup;
}

static int by_offset(const void *a, const void *b)
{
    const vkvae_st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void shape_str(char *buf, size_t n, const vkvae_st_tensor *t)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (uint32_t i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? "," : "",
                              (unsigned long long)t->shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

static vkvae_status validate(vkvae_safetensors *st, const char *path, uint64_t data_start,
                             vkvae_error *err)
{
    int oom;
    const char *kind = "tensor";
    const char *dup = find_duplicate(st->tensors, sizeof *st->tensors, st->tensor_count, &oom);
    if (!oom && !dup) {
        dup = find_duplicate(st->meta, sizeof *st->meta, st->meta_count, &oom);
        kind = "metadata";
    }
    if (oom)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    if (dup)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: duplicate %s name '%s' in the header",
                          path, kind, dup);
    for (size_t i = 0; i < st->tensor_count; i++) {
        const vkvae_st_tensor *t = &st->tensors[i];
        char shape[160];
        shape_str(shape, sizeof shape, t);
        uint64_t bytes;
        if (!bytes_of(t, &bytes))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor '%s': shape %s of %s overflows "
                              "64 bits of bytes", path, t->name, shape,
                              vkvae_dtype_name(t->dtype));
        if (t->end < t->begin)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor '%s': data_offsets [%llu, %llu] "
                              "out of order (end before begin)", path, t->name,
                              (unsigned long long)t->begin, (unsigned long long)t->end);
        if (t->end > st->data_size)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor '%s': data_offsets [%llu, %llu] "
                              "past the end of the file (data is %llu bytes from file byte "
                              "%llu)", path, t->name, (unsigned long long)t->begin,
                              (unsigned long long)t->end, (unsigned long long)st->data_size,
                              (unsigned long long)data_start);
        if (bytes != t->end - t->begin)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor '%s': shape %s of %s is %llu "
                              "bytes, but data_offsets [%llu, %llu] span %llu", path,
                              t->name, shape, vkvae_dtype_name(t->dtype),
                              (unsigned long long)bytes, (unsigned long long)t->begin,
                              (unsigned long long)t->end,
                              (unsigned long long)(t->end - t->begin));
    }
    if (st->tensor_count)
        qsort(st->tensors, st->tensor_count, sizeof *st->tensors, by_offset);
    uint64_t at = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < st->tensor_count; i++) {
        vkvae_st_tensor *t = &st->tensors[i];
        if (t->begin < at)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor '%s' at data_offsets [%llu, "
                              "%llu] overlaps '%s', which ends at %llu", path, t->name,
                              (unsigned long long)t->begin, (unsigned long long)t->end,
                              prev, (unsigned long long)at);
        if (t->begin > at)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: gap of %llu bytes before tensor '%s' "
                              "at data_offsets [%llu, %llu]; the previous data ends at %llu",
                              path, (unsigned long long)(t->begin - at), t->name,
                              (unsigned long long)t->begin, (unsigned long long)t->end,
                              (unsigned long long)at);
        t->data = st->data + t->begin;
        at = t->end;
        prev = t->name;
    }
    if (at != st->data_size)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %llu trailing bytes after the last "
                          "tensor, from file byte %llu", path,
                          (unsigned long long)(st->data_size - at),
                          (unsigned long long)(data_start + at));
    return VKVAE_OK;
}

/* ---- reading ---- */

static vkvae_status read_exact(FILE *f, void *buf, uint64_t n, const char *path,
                               uint64_t offset, vkvae_error *err)
{
    if (n && fread(buf, 1, (size_t)n, f) != n)
        return vkvae_fail(err, VKVAE_IO, "%s: read of %llu bytes at byte %llu failed: %s", path,
                          (unsigned long long)n, (unsigned long long)offset,
                          ferror(f) ? strerror(errno) : "file shrank while reading");
    return VKVAE_OK;
}

vkvae_status vkvae_st_read(vkvae_safetensors *out, const char *path, vkvae_error *err)
{
    *out = (vkvae_safetensors){0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    vkvae_status s = VKVAE_OK;
    unsigned char len8[8];
    char *header = NULL;
    uint64_t size = 0, n = 0;
    if (fstat(fileno(f), &sb) != 0)
        s = vkvae_fail(err, VKVAE_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        s = vkvae_fail(err, VKVAE_IO, "%s: not a regular file", path);
    else if ((size = (uint64_t)sb.st_size) < 8)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: file is %llu bytes, shorter than the 8-byte "
                       "header length", path, (unsigned long long)size);
    else if (!(s = read_exact(f, len8, 8, path, 0, err))) {
        for (int i = 7; i >= 0; i--)
            n = n << 8 | len8[i];
        /* Every safetensors header is a JSON object: its '{' follows the
         * length. A length that cannot be right without it means the file
         * is something else (a CSV, a PNG, a PyTorch pickle), which the
         * length would only misdescribe. */
        int brace = size > 8 ? fgetc(f) : EOF;
        int implausible = n > VKVAE_ST_MAX_HEADER || n > size - 8;
        if (implausible && brace != '{')
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: not a safetensors file (no JSON header "
                           "after the 8-byte length at byte 0)", path);
        else if (fseek(f, 8, SEEK_SET) != 0)
            s = vkvae_fail(err, VKVAE_IO, "%s: cannot seek: %s", path, strerror(errno));
        else if (n > VKVAE_ST_MAX_HEADER)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: header length %llu at byte 0 exceeds "
                           "the 100 MB limit", path, (unsigned long long)n);
        else if (n > size - 8)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: header length %llu at byte 0 runs past "
                           "the end of the file (%llu bytes)", path, (unsigned long long)n,
                           (unsigned long long)size);
    }
    if (!s) {
        out->data_size = size - 8 - n;
        header = malloc(n + 1);
        out->data = malloc(out->data_size + 1);
        if (!header || !out->data || out->data_size > SIZE_MAX - 1)
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %llu bytes", path,
                           (unsigned long long)size);
    }
    if (!s && !(s = read_exact(f, header, n, path, 8, err)))
        s = read_exact(f, out->data, out->data_size, path, 8 + n, err);
    fclose(f);
    if (!s) {
        jp p = {.s = header, .n = n, .path = path, .err = err};
        hdr h = {.st = out};
        if (n == 0 || header[0] != '{')
            s = jfail(&p, "header is not one JSON object: it must start with '{'");
        if (!s)
            s = jobject(&p, "the header", top_item, &h);
        ws(&p);
        if (!s && p.pos != n)
            s = jfail(&p, "header is not one JSON object: trailing characters after it");
    }
    free(header);
    if (!s)
        s = validate(out, path, 8 + n, err);
    if (s)
        vkvae_st_destroy(out);
    return s;
}

void vkvae_st_destroy(vkvae_safetensors *st)
{
    for (size_t i = 0; i < st->tensor_count; i++)
        free((char *)st->tensors[i].name);
    for (size_t i = 0; i < st->meta_count; i++) {
        free((char *)st->meta[i].key);
        free((char *)st->meta[i].value);
    }
    free(st->tensors);
    free(st->meta);
    free(st->data);
    *st = (vkvae_safetensors){0};
}

const vkvae_st_tensor *vkvae_st_find(const vkvae_safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->tensor_count; i++)
        if (!strcmp(st->tensors[i].name, name))
            return &st->tensors[i];
    return NULL;
}

/* ---- writing ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putu(sbuf *b, uint64_t v)
{
    char t[24];
    puts_(b, (snprintf(t, sizeof t, "%llu", (unsigned long long)v), t));
}

/* A JSON string as serde_json writes it: short escapes where JSON has them,
 * \u00xx for other control bytes, everything else (UTF-8 included) as is. */
static void put_jstring(sbuf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f" : NULL;
        char u[8];
        if (!e && c < 0x20)
            e = (snprintf(u, sizeof u, "\\u%04x", c), u);
        if (e)
            puts_(b, e);
        else
            put(b, s, 1);
    }
    put(b, "\"", 1);
}

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = (unsigned char)s[i] < 0x80 ? 1 : utf8_len((const unsigned char *)s + i,
                                                               n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

static vkvae_status check_write(const char *path, const vkvae_st_tensor *tensors,
                                size_t count, const vkvae_st_meta *meta, size_t meta_count,
                                vkvae_error *err)
{
    for (size_t i = 0; i < count; i++) {
        const vkvae_st_tensor *t = &tensors[i];
        const char *bad = !t->name ? "has no name"
                        : !strcmp(t->name, "__metadata__") ? "is named \"__metadata__\""
                        : !valid_utf8(t->name) ? "has a name that is not UTF-8"
                        : (unsigned)t->dtype >= VKVAE_DTYPE_COUNT ? "has an invalid dtype"
                        : t->ndim > VKVAE_ST_MAX_DIMS ? "has more than 8 dimensions"
                        : NULL;
        uint64_t bytes = 0;
        if (!bad && !bytes_of(t, &bytes))
            bad = "has a shape whose byte size overflows";
        if (!bad && bytes && !t->data)
            bad = "has no data";
        if (bad)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: tensor %zu ('%s') %s", path, i,
                              t->name ? t->name : "", bad);
    }
    for (size_t i = 0; i < meta_count; i++)
        if (!meta[i].key || !meta[i].value || !valid_utf8(meta[i].key) ||
            !valid_utf8(meta[i].value))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: metadata entry %zu has a missing or "
                              "non-UTF-8 key or value", path, i);
    int oom;
    const char *dup = find_duplicate(tensors, sizeof *tensors, count, &oom);
    const char *kind = "tensor";
    if (!oom && !dup) {
        dup = find_duplicate(meta, sizeof *meta, meta_count, &oom);
        kind = "metadata";
    }
    if (oom)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    if (dup)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: duplicate %s name '%s'", path, kind, dup);
    return VKVAE_OK;
}

vkvae_status vkvae_st_write(const char *path, const vkvae_st_tensor *tensors, size_t count,
                            const vkvae_st_meta *meta, size_t meta_count, vkvae_error *err)
{
    vkvae_status s = check_write(path, tensors, count, meta, meta_count, err);
    if (s)
        return s;
    sbuf b = {0};
    put(&b, "{", 1);
    if (meta_count) {
        puts_(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < meta_count; i++) {
            if (i)
                put(&b, ",", 1);
            put_jstring(&b, meta[i].key);
            put(&b, ":", 1);
            put_jstring(&b, meta[i].value);
        }
        puts_(&b, count ? "}," : "}");
    }
    uint64_t at = 0;
    for (size_t i = 0; i < count; i++) {
        const vkvae_st_tensor *t = &tensors[i];
        if (i)
            put(&b, ",", 1);
        put_jstring(&b, t->name);
        puts_(&b, ":{\"dtype\":\"");
        puts_(&b, vkvae_dtype_name(t->dtype));
        puts_(&b, "\",\"shape\":[");
        for (uint32_t d = 0; d < t->ndim; d++) {
            if (d)
                put(&b, ",", 1);
            putu(&b, t->shape[d]);
        }
        puts_(&b, "],\"data_offsets\":[");
        putu(&b, at);
        put(&b, ",", 1);
        putu(&b, at += vkvae_st_tensor_bytes(t));
        puts_(&b, "]}");
    }
    put(&b, "}", 1);
    while (!b.oom && b.n % 8)
        put(&b, " ", 1);
    if (b.oom) {
        free(b.p);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for the header", path);
    }
    if (b.n > VKVAE_ST_MAX_HEADER) {
        free(b.p);
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: header of %zu bytes exceeds the 100 MB "
                          "limit", path, b.n);
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)b.n >> (8 * i));
    vkvae_atomic_file af;
    if (!(s = vkvae_atomic_begin(&af, path, err))) {
        s = vkvae_atomic_write(&af, len8, 8, err);
        if (!s)
            s = vkvae_atomic_write(&af, b.p, b.n, err);
        for (size_t i = 0; !s && i < count; i++)
            s = vkvae_atomic_write(&af, tensors[i].data, vkvae_st_tensor_bytes(&tensors[i]),
                                   err);
        if (s)
            vkvae_atomic_abort(&af);
        else
            s = vkvae_atomic_commit(&af, err);
    }
    free(b.p);
    return s;
}

uint32_t vkvae_st_crc32(uint32_t crc, const void *data, uint64_t n)
{
    const Bytef *p = data;
    uLong c = crc;
    while (n > 0) { /* zlib takes 32-bit lengths */
        uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk, n -= chunk;
    }
    return (uint32_t)c;
}
