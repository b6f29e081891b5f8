/* NumPy .npy reader (format versions 1, 2 and 3). A .npy file is the magic
 * "\x93NUMPY", a version, a little-endian header length (2 bytes in version
 * 1, 4 after), a Python dict literal naming the element type ('descr'), the
 * order ('fortran_order') and the shape, then the elements. We read what
 * data sets are saved as: images of unsigned bytes or float32 values in
 * [0, 1], N x H x W or N x C x H x W (N x H x W x C too, when the caller's
 * expected shape says so), and labels of any integer type, N long; C order
 * only. Everything lands in a vkvae_idx, as an IDX file would, so the rest
 * of vkvae does not know the difference. The file must hold exactly what
 * the header declares, as with IDX.
 */
#include "io/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_HEADER = 1 << 16, MAX_DIMS = 4 };

typedef struct npy_header {
    char kind;          /* 'u' unsigned, 'i' signed, 'f' float, 'b' bool */
    unsigned size;      /* bytes per element */
    int big_endian;
    int fortran;
    unsigned ndim;
    uint64_t shape[MAX_DIMS];
} npy_header;

/* The value after 'key': in the dict literal text, or NULL. */
static const char *dict_value(const char *text, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *k = strstr(text, quoted);
    if (!k)
        return NULL;
    k += strlen(quoted);
    while (*k == ' ')
        k++;
    if (*k++ != ':')
        return NULL;
    while (*k == ' ')
        k++;
    return k;
}

static vkvae_status parse_header(const char *path, const char *text, npy_header *h,
                                 vkvae_error *err)
{
    *h = (npy_header){0};
    const char *descr = dict_value(text, "descr"), *order = dict_value(text, "fortran_order");
    const char *shape = dict_value(text, "shape");
    if (!descr || !order || !shape || *descr != '\'' || *shape != '(')
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: the .npy header lacks 'descr', "
                          "'fortran_order' or 'shape': %.80s", path, text);
    descr++;
    if (*descr == '<' || *descr == '|' || *descr == '=')
        descr++;
    else if (*descr == '>')
        h->big_endian = 1, descr++;
    h->kind = *descr;
    descr += *descr != '\0';   /* a header that ends here: kind 0, refused below */
    char *end;
    unsigned long size = strtoul(descr, &end, 10);
    if (*end != '\'' || !strchr("uifb", h->kind) || size == 0 || size > 8)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: element type %.12s is not supported: "
                          "images are uint8 or float32, labels integers", path,
                          dict_value(text, "descr"));
    h->size = (unsigned)size;
    h->fortran = strncmp(order, "True", 4) == 0;
    const char *p = shape + 1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        errno = 0;
        unsigned long long d = strtoull(p, &end, 10);
        if (end == p || errno || h->ndim == MAX_DIMS)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: shape %.40s: expected 1 to %d whole "
                              "dimensions", path, shape, MAX_DIMS);
        h->shape[h->ndim++] = d;
        p = end;
    }
    if (h->ndim == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: shape (): a scalar, not a data set", path);
    return VKVAE_OK;
}

/* The header, and f left at the first element. */
static vkvae_status read_header(FILE *f, const char *path, npy_header *h, uint64_t *data_at,
                                vkvae_error *err)
{
    unsigned char head[12];
    size_t got = fread(head, 1, sizeof head, f);
    if (got < 10 || memcmp(head, "\x93NUMPY", 6) != 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: not a .npy file (no \\x93NUMPY magic at "
                          "byte 0)", path);
    unsigned major = head[6];
    uint32_t len;
    long start;
    if (major == 1) {
        len = head[8] | (uint32_t)head[9] << 8;
        start = 10;
    } else if ((major == 2 || major == 3) && got == 12) {
        len = head[8] | (uint32_t)head[9] << 8 | (uint32_t)head[10] << 16 |
              (uint32_t)head[11] << 24;
        start = 12;
    } else {
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: .npy format version %u is not supported "
                          "(1, 2 or 3)", path, major);
    }
    if (len == 0 || len > MAX_HEADER)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: .npy header of %u bytes (at most %u)", path,
                          len, MAX_HEADER);
    char *text = malloc(len + 1);
    if (!text)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    if (fseek(f, start, SEEK_SET) != 0 || fread(text, 1, len, f) != len) {
        free(text);
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: truncated: the .npy header declares %u "
                          "bytes from byte %ld", path, len, start);
    }
    text[len] = '\0';
    vkvae_status s = parse_header(path, text, h, err);
    free(text);
    *data_at = (uint64_t)start + len;
    return s;
}

/* The array's shape as images of the expected c x h x w: N x H x W (c 1),
 * N x C x H x W, or N x H x W x C (transposed on load); 0 when it is none
 * of these. *nhwc tells the last. */
static int image_layout(const npy_header *h, const vkvae_npy_expect *e, uint32_t dims[4],
                        int *nhwc)
{
    const uint64_t *s = h->shape;
    *nhwc = 0;
    if (h->ndim == 3 && (!e->channels || e->channels == 1)) {
        dims[0] = (uint32_t)s[0], dims[1] = 1, dims[2] = (uint32_t)s[1], dims[3] = (uint32_t)s[2];
        return 1;
    }
    if (h->ndim != 4)
        return 0;
    /* Without an expected C, a colour-sized axis (1, 3 or 4) decides. */
#define COLOUR_SIZED(d) ((d) == 1 || (d) == 3 || (d) == 4)
    int nchw = e->channels ? s[1] == e->channels : COLOUR_SIZED(s[1]) || !COLOUR_SIZED(s[3]);
#undef COLOUR_SIZED
    if (nchw) {
        for (int i = 0; i < 4; i++)
            dims[i] = (uint32_t)s[i];
        return 1;
    }
    if (!e->channels || s[3] == e->channels) {
        dims[0] = (uint32_t)s[0], dims[1] = (uint32_t)s[3], dims[2] = (uint32_t)s[1];
        dims[3] = (uint32_t)s[2];
        *nhwc = 1;
        return 1;
    }
    return 0;
}

static uint64_t get_uint(const unsigned char *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

vkvae_status vkvae_npy_load(vkvae_idx *out, const char *path, const vkvae_npy_expect *expect,
                            vkvae_error *err)
{
    *out = (vkvae_idx){0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path, strerror(errno));
    npy_header h = {0};
    uint64_t data_at = 0;
    vkvae_status s = read_header(f, path, &h, &data_at, err);
    uint32_t dims[4] = {0, 1, 1, 1};
    int nhwc = 0, labels = expect->labels;
    if (!s && (h.big_endian && h.size > 1))
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: big-endian elements: save the array "
                       "little-endian (arr.astype('<...'))", path);
    if (!s && h.fortran && h.ndim > 1)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: Fortran order: save a C-ordered array "
                       "(np.ascontiguousarray)", path);
    if (!s && labels && (h.ndim != 1 || h.kind == 'f'))
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: labels must be one integer per image (shape "
                       "(N,)), got %u dimension(s) of %c%u", path, h.ndim, h.kind, h.size);
    if (!s && !labels && !(h.kind == 'u' && h.size == 1) && !(h.kind == 'f' && h.size == 4))
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: images must be uint8 or float32, got %c%u",
                       path, h.kind, h.size);
    if (!s && !labels && !image_layout(&h, expect, dims, &nhwc))
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: shape of %u dimension(s) is not N x H x W, "
                       "N x C x H x W or N x H x W x C with C = %u", path, h.ndim,
                       expect->channels ? expect->channels : 1);
    if (!s && labels)
        dims[0] = (uint32_t)h.shape[0];
    uint64_t count = 1;
    for (unsigned i = 0; !s && i < h.ndim; i++) {
        if (h.shape[i] == 0 || h.shape[i] > UINT32_MAX)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: dimension %u is %llu", path, i,
                           (unsigned long long)h.shape[i]);
        else if (count > (UINT64_MAX >> 4) / h.shape[i])
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: dimensions overflow", path);
        else
            count *= h.shape[i];
    }
    /* The file holds the elements exactly. */
    long long file_size = -1;
    if (!s && fseek(f, 0, SEEK_END) == 0)
        file_size = ftell(f);
    uint64_t bytes = count * h.size;
    if (!s && (file_size < 0 || (uint64_t)file_size != data_at + bytes))
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %s: the header declares %llu bytes of data "
                       "from byte %llu, the file has %lld", path,
                       file_size >= 0 && (uint64_t)file_size < data_at + bytes ? "truncated"
                                                                               : "over-long",
                       (unsigned long long)bytes, (unsigned long long)data_at,
                       file_size - (long long)data_at);
    unsigned char *raw = NULL;
    uint8_t *data = NULL;
    if (!s) {
        raw = malloc(bytes ? bytes : 1);
        data = malloc(count ? count : 1);
        if (!raw || !data)
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %llu bytes", path,
                           (unsigned long long)bytes);
    }
    if (!s && (fseek(f, (long)data_at, SEEK_SET) != 0 || fread(raw, 1, bytes, f) != bytes))
        s = vkvae_fail(err, VKVAE_IO, "%s: read error", path);
    fclose(f);
    /* To bytes: labels checked to fit, floats checked to lie in [0, 1]. */
    uint64_t plane = (uint64_t)dims[2] * dims[3];
    for (uint64_t i = 0; !s && i < count; i++) {
        /* element i of an N x H x W x C array goes to N x C x H x W */
        uint64_t to = i;
        if (nhwc) {
            uint64_t c = i % dims[1], pix = i / dims[1] % plane, n = i / dims[1] / plane;
            to = (n * dims[1] + c) * plane + pix;
        }
        const unsigned char *p = raw + i * h.size;
        if (h.kind == 'f') {
            float v;
            memcpy(&v, p, 4);
            if (!(v >= 0.0f && v <= 1.0f))
                s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: element %llu is %g: float images "
                               "must lie in [0, 1]", path, (unsigned long long)i, v);
            data[to] = (uint8_t)lrintf(v * 255.0f);
            continue;
        }
        uint64_t v = get_uint(p, h.size);
        int negative = h.kind == 'i' && (v >> (8 * h.size - 1) & 1);
        if (negative || v > 255)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: label %llu is %s%llu: labels must be "
                           "0 to 255", path, (unsigned long long)i, negative ? "negative, " : "",
                           (unsigned long long)v);
        data[to] = (uint8_t)v;
    }
    free(raw);
    if (!s && !(out->path = strdup(path)))
        s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    if (s) {
        free(data);
        free(out->path);
        *out = (vkvae_idx){0};
        return s;
    }
    out->ndim = labels ? 1 : dims[1] == 1 && h.ndim == 3 ? 3 : 4;
    out->count = dims[0];
    out->channels = labels ? 1 : dims[1];
    out->rows = labels ? 1 : dims[2];
    out->cols = labels ? 1 : dims[3];
    out->data = data;
    return VKVAE_OK;
}
