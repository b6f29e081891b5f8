/* Image folders (io/image_folder.h): find the files, decode each with libpng
 * or libjpeg, turn it into the model's channels, resize and crop it to the
 * model's size, and store it as one row of a vkvae_idx.
 *
 * Finding: a folder is listed once to tell its layout (train/ and test/;
 * one subfolder per class; or flat), then walked recursively; the files
 * are sorted by their path relative to the folder, so the order never
 * depends on the file system's.
 *
 * Decoding: the libraries do all of it. libpng expands palettes, low bit
 * depths and tRNS to 8-bit grey, grey+alpha, RGB or RGBA (png_set_expand,
 * png_set_scale_16, png_set_interlace_handling); libjpeg gives grey or RGB.
 * Their errors never print or exit: both report through callbacks that
 * record the message and longjmp back to the function that called setjmp.
 * What changes between that setjmp and the jump (the messages, libjpeg's
 * state, the pixel buffers) lives in the loader, the caller's object, not
 * in the function's automatic variables, so nothing read after the jump is
 * indeterminate. Sizes are checked from the header, before any pixel is
 * decoded.
 *
 * Ours: compositing over the background and the luma of colour images
 * (one loop, to_planes), and the resampling (resample), which is the only
 * image processing we own. Scratch buffers (pixels, planes, the resize's
 * rows and weights) live in the loader and grow to the largest image seen;
 * the data set's bytes are allocated once, for every file found, when the
 * first image fixes the target size, and shrunk when files were skipped.
 */
#include "io/image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jpeglib.h>   /* after stdio.h, as it requires */
#include <jerror.h>
#include <png.h>

#include "io/data_source.h"

enum { MAX_DEPTH = 64 };

/* ---- Finding the files ------------------------------------------------ */

typedef struct strings {
    char **items;
    size_t n, cap;
} strings;

typedef struct file_entry {
    char *rel;          /* path relative to the split's folder */
    uint8_t label;      /* class index; 0 when unlabelled */
} file_entry;

typedef struct file_list {
    file_entry *items;
    size_t n, cap;
} file_list;

static void strings_free(strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    *s = (strings){0};
}

/* Appends item (taking it); 0 when out of memory (item freed). */
static int strings_push(strings *s, char *item)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **p = realloc(s->items, cap * sizeof *p);
        if (!p) {
            free(item);
            return 0;
        }
        s->items = p, s->cap = cap;
    }
    s->items[s->n++] = item;
    return 1;
}

static void files_free(file_list *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->items[i].rel);
    free(f->items);
    *f = (file_list){0};
}

static int files_push(file_list *f, char *rel, uint8_t label)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        file_entry *p = realloc(f->items, cap * sizeof *p);
        if (!p) {
            free(rel);
            return 0;
        }
        f->items = p, f->cap = cap;
    }
    f->items[f->n++] = (file_entry){rel, label};
    return 1;
}

/* "a/b", malloc'ed; NULL when out of memory. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const file_entry *)a)->rel, ((const file_entry *)b)->rel);
}

static vkvae_status out_of_memory(vkvae_error *err, const char *where)
{
    return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", where);
}

/* The entries directly in dir, hidden ones left out: subfolders into dirs
 * and image files into images, each sorted; other files are ignored. */
static vkvae_status list_dir(const char *dir, strings *dirs, strings *images, vkvae_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    vkvae_status s = VKVAE_OK;
    struct dirent *e;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *full = join(dir, e->d_name), *name = strdup(e->d_name);
        struct stat st;
        if (!full || !name) {
            free(name);
            s = out_of_memory(err, dir);
        } else if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            s = strings_push(dirs, name) ? VKVAE_OK : out_of_memory(err, dir);
        } else if (has_image_ext(name)) {
            s = strings_push(images, name) ? VKVAE_OK : out_of_memory(err, dir);
        } else {
            free(name);
        }
        free(full);
    }
    closedir(d);
    if (dirs->n)
        qsort(dirs->items, dirs->n, sizeof *dirs->items, by_name);
    if (images->n)
        qsort(images->items, images->n, sizeof *images->items, by_name);
    return s;
}

/* Adds every image file below root/rel (rel NULL: root itself) with label. */
static vkvae_status walk(file_list *out, const char *root, const char *rel, uint8_t label,
                         int depth, vkvae_error *err)
{
    char *here = rel ? join(root, rel) : strdup(root);
    if (!here)
        return out_of_memory(err, root);
    if (depth > MAX_DEPTH) {
        vkvae_status s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: folders nested deeper than %d "
                                    "(a symbolic link that loops?)", here, MAX_DEPTH);
        free(here);
        return s;
    }
    DIR *d = opendir(here);
    if (!d) {
        vkvae_status s = vkvae_fail(err, VKVAE_IO, "%s: cannot open folder: %s", here,
                                    strerror(errno));
        free(here);
        return s;
    }
    vkvae_status s = VKVAE_OK;
    struct dirent *e;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *r = rel ? join(rel, e->d_name) : strdup(e->d_name);
        char *full = r ? join(root, r) : NULL;
        struct stat st;
        if (!full) {
            s = out_of_memory(err, here);
            free(r);
        } else if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            s = walk(out, root, r, label, depth + 1, err);
            free(r);
        } else if (has_image_ext(e->d_name)) {
            /* also when stat failed (a dangling link): opening it reports why */
            if (!files_push(out, r, label))
                s = out_of_memory(err, here);
        } else {
            free(r);
        }
        free(full);
    }
    closedir(d);
    free(here);
    return s;
}

/* The files of one split (or of a whole folder): labelled by class
 * subfolder when dir holds subfolders and no image of its own. */
static vkvae_status scan(file_list *files, strings *classes, const char *dir, vkvae_error *err)
{
    strings dirs = {0}, top = {0};
    vkvae_status s = list_dir(dir, &dirs, &top, err);
    int labelled = !s && top.n == 0 && dirs.n > 0;
    if (!s && labelled && dirs.n > VKVAE_IMAGE_MAX_CLASSES)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %zu class folders; at most %u classes (labels "
                       "are bytes)", dir, dirs.n, VKVAE_IMAGE_MAX_CLASSES);
    if (!s && !labelled)
        s = walk(files, dir, NULL, 0, 0, err);
    for (size_t c = 0; !s && labelled && c < dirs.n; c++) {
        size_t before = files->n;
        s = walk(files, dir, dirs.items[c], (uint8_t)c, 1, err);
        if (!s && files->n == before)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s/%s: class folder holds no image (.png, "
                           ".jpg, .jpeg)", dir, dirs.items[c]);
    }
    if (!s && files->n == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: no image (.png, .jpg, .jpeg) in the folder "
                       "or its subfolders", dir);
    if (!s && files->n > UINT32_MAX / 2)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %zu images is too many", dir, files->n);
    if (!s && labelled) {
        *classes = dirs;
        dirs = (strings){0};
    }
    strings_free(&dirs);
    strings_free(&top);
    if (!s)   /* n > 0 here */
        qsort(files->items, files->n, sizeof *files->items, by_rel);
    return s;
}

/* ---- Decoding ---------------------------------------------------------- */

typedef struct png_ctx {
    FILE *f;
    unsigned long long offset;
    jmp_buf jmp;
    int ours;           /* the error is png_on_read's, not libpng's own */
    char why[128];      /* png_on_read's text, handed to png_error */
    char msg[256];      /* the error libpng reported */
} png_ctx;

typedef struct jpeg_ctx {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
} jpeg_ctx;

/* A scratch buffer that grows (doubling) to the largest size asked of it;
 * the typed pointers below are views of one. */
typedef struct scratch {
    void *p;
    size_t cap;
} scratch;

/* s's memory, at least bytes long; NULL when out of memory (s keeps what
 * it had, for the loader to free). */
static void *reserve(scratch *s, size_t bytes)
{
    if (bytes > s->cap) {
        size_t n = s->cap ? s->cap : 256;
        while (n < bytes)
            n *= 2;
        void *p = realloc(s->p, n);
        if (!p)
            return NULL;
        s->p = p, s->cap = n;
    }
    return s->p;
}

/* One resampling axis: output i reads source pixels start[i] ..
 * start[i] + count[i] - 1 with weights w[i * taps + k]. */
typedef struct axis {
    uint32_t *start, *count;
    float *w;
    uint32_t taps;
    scratch start_mem, count_mem, w_mem;
} axis;

typedef struct loader {
    const vkvae_image_folder_desc *desc;
    uint32_t C, H, W;           /* the target; 0 until the first image when not given */
    uint8_t bg[3];
    /* the image being read: w x h pixels of comps interleaved bytes */
    uint32_t w, h, comps;
    uint8_t *pix;
    png_bytep *rows;            /* libpng's row pointers into pix */
    uint8_t *planes;            /* the image as C planes of w x h */
    float *tmp;                 /* the resize's horizontal pass */
    scratch pix_mem, rows_mem, planes_mem, tmp_mem;
    axis ax, ay;
    png_ctx png;
    jpeg_ctx jpeg;
    /* the data set, one row per image, allocated for all files at the first */
    uint8_t *data;
    size_t capacity;            /* rows */
    uint32_t done, total;       /* progress */
    vkvae_image_folder_info *info;
} loader;

/* The checks the header allows: the limits, and room for the target when
 * the image is not to be scaled. */
static vkvae_status check_size(const loader *L, const char *path, uint32_t w, uint32_t h,
                               vkvae_error *err)
{
    if (w > VKVAE_IMAGE_MAX_SIDE || h > VKVAE_IMAGE_MAX_SIDE)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %ux%u pixels: larger than %u per side, "
                          "the limit; not decoded", path, w, h, VKVAE_IMAGE_MAX_SIDE);
    if ((uint64_t)w * h > VKVAE_IMAGE_MAX_PIXELS)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %ux%u pixels: more than %u megapixels, "
                          "the limit; not decoded", path, w, h, VKVAE_IMAGE_MAX_PIXELS / 1000000);
    if (w == 0 || h == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %ux%u pixels: empty image", path, w, h);
    if (L->desc->resize == VKVAE_RESIZE_NONE && L->W && (w < L->W || h < L->H))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %ux%u pixels: smaller than the target "
                          "%ux%u, and resize is none (fit or stretch would scale it)", path,
                          w, h, L->W, L->H);
    return VKVAE_OK;
}

static int alloc_pixels(loader *L, uint32_t w, uint32_t h, uint32_t comps)
{
    L->w = w, L->h = h, L->comps = comps;
    return (L->pix = reserve(&L->pix_mem, (size_t)w * h * comps)) != NULL;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;   /* benign (an sRGB profile, a bad ancillary CRC): not printed */
}

static void png_on_read(png_structp png, png_bytep data, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    size_t got = fread(data, 1, n, c->f);
    c->offset += got;
    if (got != n) {
        if (ferror(c->f))
            snprintf(c->why, sizeof c->why, "read error: %s", strerror(errno));
        else
            snprintf(c->why, sizeof c->why, "truncated: the file ends at byte %llu", c->offset);
        c->ours = 1;
        png_error(png, c->why);
    }
}

static vkvae_status decode_png(loader *L, FILE *f, const char *path, vkvae_error *err)
{
    png_ctx *c = &L->png;
    c->f = f, c->offset = 0, c->ours = 0, c->msg[0] = '\0';
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, png_on_error,
                                             png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return out_of_memory(err, path);
    }
    if (setjmp(c->jmp)) {
        /* The header alone may have been there (its size is then known):
         * the limits are the better reason. */
        uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
        vkvae_status s = w && h ? check_size(L, path, w, h, err) : VKVAE_OK;
        if (!s)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: cannot decode PNG: %s%s", path,
                           c->ours ? "" : "libpng: ", c->msg);
        png_destroy_read_struct(&png, &info, NULL);
        return s;
    }
    png_set_read_fn(png, c, png_on_read);
    /* libpng's own limit (1,000,000) would refuse with "Invalid IHDR";
     * ours, from the same header, says what the limit is */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    vkvae_status s = check_size(L, path, w, h, err);
    if (!s) {
        png_set_expand(png);        /* palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha */
        png_set_scale_16(png);      /* 16 bits -> 8: round(v * 255 / 65535) */
        png_set_interlace_handling(png);
        png_read_update_info(png, info);
        uint32_t comps = png_get_channels(png, info);
        if (png_get_bit_depth(png, info) != 8 || comps < 1 || comps > 4 ||
            png_get_rowbytes(png, info) != (size_t)w * comps)
            png_error(png, "unexpected layout after the transformations");
        if (!alloc_pixels(L, w, h, comps) ||
            !(L->rows = reserve(&L->rows_mem, h * sizeof *L->rows)))
            png_error(png, "out of memory");
        for (uint32_t y = 0; y < h; y++)
            L->rows[y] = L->pix + (size_t)y * w * comps;
        png_read_image(png, L->rows);
        png_read_end(png, NULL);
    }
    png_destroy_read_struct(&png, &info, NULL);
    return s;
}

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_ctx *c = (jpeg_ctx *)cinfo->client_data;
    cinfo->err->format_message(cinfo, c->msg);
    longjmp(c->jmp, 1);
}

/* Warnings (level -1) and traces: never printed. The end of the file
 * before the end of the image is an error here, as a truncated PNG is:
 * libjpeg would go on and fill the rest with grey. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
        jpeg_on_error(cinfo);
}

static void jpeg_on_output(j_common_ptr cinfo)
{
    (void)cinfo;
}

static vkvae_status decode_jpeg(loader *L, FILE *f, const char *path, vkvae_error *err)
{
    jpeg_ctx *c = &L->jpeg;
    c->cinfo.err = jpeg_std_error(&c->mgr);
    c->mgr.error_exit = jpeg_on_error;
    c->mgr.emit_message = jpeg_on_message;
    c->mgr.output_message = jpeg_on_output;
    c->msg[0] = '\0';
    if (setjmp(c->jmp)) {
        jpeg_destroy_decompress(&c->cinfo);
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: cannot decode JPEG: libjpeg: %s", path,
                          c->msg);
    }
    c->cinfo.client_data = c;       /* kept by jpeg_create_decompress */
    jpeg_create_decompress(&c->cinfo);
    jpeg_stdio_src(&c->cinfo, f);
    jpeg_read_header(&c->cinfo, TRUE);
    struct jpeg_decompress_struct *ci = &c->cinfo;
    vkvae_status s = check_size(L, path, ci->image_width, ci->image_height, err);
    if (!s && ci->jpeg_color_space != JCS_GRAYSCALE && ci->jpeg_color_space != JCS_YCbCr &&
        ci->jpeg_color_space != JCS_RGB)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: a %s JPEG: only grey and colour (YCbCr, RGB) "
                       "JPEGs are read; convert it to RGB", path,
                       ci->jpeg_color_space == JCS_CMYK ? "CMYK" :
                       ci->jpeg_color_space == JCS_YCCK ? "YCCK (CMYK)" : "non-RGB");
    if (!s) {
        ci->out_color_space = ci->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
        jpeg_start_decompress(ci);
        uint32_t w = ci->output_width, h = ci->output_height, comps = ci->output_components;
        if (!alloc_pixels(L, w, h, comps)) {
            c->mgr.msg_code = JERR_OUT_OF_MEMORY;
            c->mgr.msg_parm.i[0] = 0;
            jpeg_on_error((j_common_ptr)ci);
        }
        while (ci->output_scanline < h) {
            JSAMPROW row = L->pix + (size_t)ci->output_scanline * w * comps;
            jpeg_read_scanlines(ci, &row, 1);
        }
        jpeg_finish_decompress(ci);
    }
    jpeg_destroy_decompress(ci);
    return s;
}

/* Opens path and decodes it into L's pixels, by its signature, or by its
 * extension when it has neither format's. */
static vkvae_status decode(loader *L, const char *path, vkvae_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char sig[8];
    size_t n = fread(sig, 1, sizeof sig, f);
    vkvae_status s = VKVAE_OK;
    if (n == 0 && ferror(f))
        s = vkvae_fail(err, VKVAE_IO, "%s: read error: %s", path, strerror(errno));
    else if (n == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: empty file (0 bytes)", path);
    else if (fseek(f, 0, SEEK_SET) != 0)
        s = vkvae_fail(err, VKVAE_IO, "%s: cannot seek: %s", path, strerror(errno));
    if (!s) {
        const char *dot = strrchr(path, '.');
        int is_png = n >= 8 && png_sig_cmp(sig, 0, 8) == 0;
        int is_jpeg = n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF;
        if (is_png || (!is_jpeg && dot && strcasecmp(dot, ".png") == 0))
            s = decode_png(L, f, path, err);
        else
            s = decode_jpeg(L, f, path, err);
    }
    fclose(f);
    return s;
}

/* ---- Ours: channels and size ------------------------------------------- */

/* L's pixels to C planes: alpha composited over the background per channel,
 * out = (c a + bg (255 - a) + 127) / 255 (that is, round(c a / 255 + bg (1
 * - a / 255)) in integers); grey replicated to RGB; RGB to grey by PIL's
 * luma, L = (299 R + 587 G + 114 B + 500) / 1000, which keeps grey exact. */
static void to_planes(loader *L)
{
    /* locals, not L's fields: byte stores may alias them, which would make
     * the compiler reload them for every pixel */
    const uint8_t *pix = L->pix;
    uint8_t *out = L->planes;
    const uint32_t bg[3] = {L->bg[0], L->bg[1], L->bg[2]};
    size_t plane = (size_t)L->w * L->h;
    uint32_t k = L->comps, grey_out = L->C == 1;
    int colour = k >= 3, alpha = k == 2 || k == 4;
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *p = pix + i * k;
        uint32_t r = p[0], g = colour ? p[1] : r, b = colour ? p[2] : r;
        uint32_t a = alpha ? p[k - 1] : 255;
        if (a != 255) {
            r = (r * a + bg[0] * (255 - a) + 127) / 255;
            g = (g * a + bg[1] * (255 - a) + 127) / 255;
            b = (b * a + bg[2] * (255 - a) + 127) / 255;
        }
        if (grey_out) {
            out[i] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
        } else {
            out[i] = (uint8_t)r;
            out[plane + i] = (uint8_t)g;
            out[2 * plane + i] = (uint8_t)b;
        }
    }
}

/* The offset of a centre crop of a side d pixels too long: round(d / 2),
 * half to even, as Python's round in torchvision's CenterCrop. */
static uint32_t centre(uint32_t d)
{
    uint32_t o = d / 2;
    return o + ((d & 1) && (o & 1));
}

/* One axis of the resampling: a source of src pixels scaled to scaled
 * pixels, of which dst are kept from offset on. With the scale factor
 * f = src / scaled, output pixel i is scaled pixel p = i + offset and
 *   shrinking (f > 1), area averaging: the mean of the source over the
 *     exact footprint [p f, (p + 1) f), each pixel j weighted by its overlap
 *     |[j, j + 1) ∩ [p f, (p + 1) f)| / f (OpenCV's INTER_AREA; PIL's BOX
 *     for whole factors);
 *   enlarging (f < 1), bilinear with half-pixel centres: u = (p + 0.5) f
 *     - 0.5 clamped to [0, src - 1], weights 1 - t and t on pixels
 *     floor(u) and floor(u) + 1, t = u - floor(u) (PIL's and OpenCV's);
 *   equal sizes: a copy.
 * Weights are computed in double and stored as float. */
static int axis_build(axis *a, uint32_t src, uint32_t scaled, uint32_t dst, uint32_t offset)
{
    double f = (double)src / scaled;
    a->taps = scaled < src ? (uint32_t)ceil(f) + 1 : scaled > src ? 2 : 1;
    if (!(a->start = reserve(&a->start_mem, dst * sizeof *a->start)) ||
        !(a->count = reserve(&a->count_mem, dst * sizeof *a->count)) ||
        !(a->w = reserve(&a->w_mem, (size_t)dst * a->taps * sizeof *a->w)))
        return 0;
    for (uint32_t i = 0; i < dst; i++) {
        uint64_t p = (uint64_t)i + offset;
        float *w = a->w + (size_t)i * a->taps;
        if (scaled < src) {
            /* the footprint's first and one-past-last pixels, exactly */
            uint64_t j0 = p * src / scaled, j1 = ((p + 1) * src + scaled - 1) / scaled;
            double lo = (double)(p * src) / scaled, hi = (double)((p + 1) * src) / scaled;
            a->start[i] = (uint32_t)j0;
            a->count[i] = (uint32_t)(j1 - j0);
            for (uint64_t j = j0; j < j1; j++)
                w[j - j0] = (float)((fmin((double)j + 1, hi) - fmax((double)j, lo)) / f);
        } else if (scaled > src) {
            double u = ((double)p + 0.5) * f - 0.5;
            u = u < 0 ? 0 : u > src - 1 ? src - 1 : u;
            uint32_t j = (uint32_t)u;
            double t = u - j;
            a->start[i] = j;
            a->count[i] = j + 1 < src ? 2 : 1;
            w[0] = (float)(1 - t);
            w[1] = (float)t;
        } else {
            a->start[i] = (uint32_t)p;
            a->count[i] = 1;
            w[0] = 1.0f;
        }
    }
    return 1;
}

static uint8_t to_byte(float v)
{
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f);
}

/* L's planes (C x h x w) into out (C x H x W): scaled to the mode's size,
 * then centre-cropped (rw x rh below), horizontally then vertically, in
 * float; only the source rows the kept output reads are resampled. */
static vkvae_status resample(loader *L, uint8_t *out, const char *path, vkvae_error *err)
{
    uint32_t w = L->w, h = L->h, W = L->W, H = L->H, rw = w, rh = h;
    size_t plane = (size_t)w * h, out_plane = (size_t)W * H;
    if (w == W && h == H) {
        memcpy(out, L->planes, L->C * plane);
        return VKVAE_OK;
    }
    if (L->desc->resize == VKVAE_RESIZE_STRETCH) {
        rw = W, rh = H;
    } else if (L->desc->resize == VKVAE_RESIZE_FIT) {
        /* scale max(W / w, H / h): one side lands on the target */
        if ((uint64_t)W * h >= (uint64_t)H * w) {
            rw = W;
            rh = (uint32_t)((uint64_t)h * W / w);
            rh = rh < H ? H : rh;
        } else {
            rh = H;
            rw = (uint32_t)((uint64_t)w * H / h);
            rw = rw < W ? W : rw;
        }
    }
    if (!axis_build(&L->ax, w, rw, W, centre(rw - W)) ||
        !axis_build(&L->ay, h, rh, H, centre(rh - H)))
        return out_of_memory(err, path);
    const axis *ax = &L->ax, *ay = &L->ay;
    uint32_t r0 = ay->start[0], r1 = ay->start[H - 1] + ay->count[H - 1];
    if (!(L->tmp = reserve(&L->tmp_mem, (size_t)(r1 - r0) * W * sizeof *L->tmp)))
        return out_of_memory(err, path);
    for (uint32_t c = 0; c < L->C; c++) {
        const uint8_t *src = L->planes + c * plane;
        for (uint32_t y = r0; y < r1; y++) {
            const uint8_t *row = src + (size_t)y * w;
            float *t = L->tmp + (size_t)(y - r0) * W;
            for (uint32_t x = 0; x < W; x++) {
                const float *wt = ax->w + (size_t)x * ax->taps;
                const uint8_t *s = row + ax->start[x];
                float acc = 0.0f;
                for (uint32_t k = 0; k < ax->count[x]; k++)
                    acc += wt[k] * s[k];
                t[x] = acc;
            }
        }
        uint8_t *o = out + c * out_plane;
        for (uint32_t y = 0; y < H; y++) {
            const float *wt = ay->w + (size_t)y * ay->taps;
            const float *t = L->tmp + (size_t)(ay->start[y] - r0) * W;
            for (uint32_t x = 0; x < W; x++) {
                float acc = 0.0f;
                for (uint32_t k = 0; k < ay->count[y]; k++)
                    acc += wt[k] * t[(size_t)k * W + x];
                o[(size_t)y * W + x] = to_byte(acc);
            }
        }
    }
    return VKVAE_OK;
}

/* ---- Loading a set ----------------------------------------------------- */

static void loader_free(loader *L)
{
    scratch *all[] = {&L->pix_mem, &L->rows_mem, &L->planes_mem, &L->tmp_mem,
                      &L->ax.start_mem, &L->ax.count_mem, &L->ax.w_mem,
                      &L->ay.start_mem, &L->ay.count_mem, &L->ay.w_mem};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]->p);
    free(L->data);
}

/* Decodes the file at path into row k of L->data. OUT_OF_MEMORY is the
 * caller's to stop on; any other failure is the file's. */
static vkvae_status load_one(loader *L, const char *path, size_t k, vkvae_error *err)
{
    vkvae_status s = decode(L, path, err);
    if (s)
        return s;
    if (!L->C)
        L->C = L->comps >= 3 ? 3 : 1;
    if (!L->W) {
        L->W = L->w, L->H = L->h;
    }
    size_t row = (size_t)L->C * L->H * L->W;
    if (!L->data) {
        if (L->capacity > SIZE_MAX / row || !(L->data = malloc(L->capacity * row)))
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %zu images of "
                              "%ux%ux%u", path, L->capacity, L->C, L->H, L->W);
    }
    if (!(L->planes = reserve(&L->planes_mem, (size_t)L->C * L->w * L->h)))
        return out_of_memory(err, path);
    to_planes(L);
    return resample(L, L->data + k * row, path, err);
}

static void progress(loader *L)
{
    if (L->desc->progress)
        L->desc->progress(L->desc->progress_user, L->done, L->total);
}

static vkvae_status keep_skip(vkvae_image_folder_info *info, const char *message,
                              vkvae_error *err)
{
    info->skipped++;
    if (info->skipped_kept < VKVAE_IMAGE_SKIP_KEPT) {
        char *m = strdup(message);
        if (!m)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of memory");
        info->skipped_messages[info->skipped_kept++] = m;
    }
    return VKVAE_OK;
}

/* Decodes the files of one split (found by scan) into images and labels,
 * which name dir. */
static vkvae_status decode_set(loader *L, vkvae_idx *images, vkvae_idx *labels, const char *dir,
                               const file_list *files, const strings *classes, vkvae_error *err)
{
    vkvae_status s = VKVAE_OK;
    L->capacity = files->n;
    L->data = NULL;
    uint8_t *lab = malloc(files->n);
    uint32_t *per_class = calloc(VKVAE_IMAGE_MAX_CLASSES, sizeof *per_class);
    uint32_t *bad_class = calloc(VKVAE_IMAGE_MAX_CLASSES, sizeof *bad_class);
    char first_bad[512] = "";
    if (!lab || !per_class || !bad_class)
        s = out_of_memory(err, dir);
    size_t k = 0;
    for (size_t i = 0; !s && i < files->n; i++) {
        char *path = join(dir, files->items[i].rel);
        if (!path) {
            s = out_of_memory(err, dir);
            break;
        }
        vkvae_error one = {0};
        vkvae_status r = load_one(L, path, k, &one);
        free(path);
        if (!r) {
            lab[k++] = files->items[i].label;
            per_class[files->items[i].label]++;
        } else if (r == VKVAE_OUT_OF_MEMORY || L->desc->on_bad != VKVAE_ON_BAD_SKIP) {
            s = vkvae_fail(err, r, "%s", one.message);
        } else {
            bad_class[files->items[i].label]++;
            if (!first_bad[0])
                snprintf(first_bad, sizeof first_bad, "%s", one.message);
            s = keep_skip(L->info, one.message, err);
        }
        L->done++;
        progress(L);
    }
    if (!s && k == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: none of its %zu images decoded (first: %s)",
                       dir, files->n, first_bad);
    for (size_t c = 0; !s && c < classes->n; c++)
        if (per_class[c] == 0)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s/%s: none of the class's %u images decoded",
                           dir, classes->items[c], bad_class[c]);
    free(per_class);
    free(bad_class);
    char *ipath = NULL, *lpath = NULL;
    if (!s && (!(ipath = strdup(dir)) || (classes->n && !(lpath = strdup(dir)))))
        s = out_of_memory(err, dir);
    if (s) {
        free(lab), free(ipath), free(lpath);
        free(L->data);
        L->data = NULL;
        return s;
    }
    size_t row = (size_t)L->C * L->H * L->W;
    if (k < files->n) {   /* skipped files: give back their rows */
        uint8_t *p = realloc(L->data, k * row);
        if (p)
            L->data = p;
    }
    *images = (vkvae_idx){.path = ipath, .ndim = 4, .count = (uint32_t)k, .channels = L->C,
                          .rows = L->H, .cols = L->W, .data = L->data};
    L->data = NULL;
    if (classes->n)
        *labels = (vkvae_idx){.path = lpath, .ndim = 1, .count = (uint32_t)k, .channels = 1,
                              .rows = 1, .cols = 1, .data = lab};
    else
        free(lab);
    L->info->loaded += (uint32_t)k;
    return VKVAE_OK;
}

static vkvae_status loader_init(loader *L, const vkvae_image_folder_desc *desc,
                                vkvae_image_folder_info *info, const char *dir, vkvae_error *err)
{
    *L = (loader){.desc = desc, .C = desc->channels, .H = desc->height, .W = desc->width,
                  .info = info};
    if (desc->channels != 0 && desc->channels != 1 && desc->channels != 3)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: image folders give 1 (grey) or 3 (RGB) "
                          "channels, not %u", dir, desc->channels);
    if (!desc->height != !desc->width || desc->height > VKVAE_IMAGE_MAX_SIDE ||
        desc->width > VKVAE_IMAGE_MAX_SIDE)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: target size %ux%u: give both, each 1 .. "
                          "%u (or both 0: the first image's)", dir, desc->height, desc->width,
                          VKVAE_IMAGE_MAX_SIDE);
    if ((unsigned)desc->resize > VKVAE_RESIZE_NONE || (unsigned)desc->on_bad > VKVAE_ON_BAD_SKIP)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: resize mode %d or bad-image policy %d is "
                          "unknown", dir, (int)desc->resize, (int)desc->on_bad);
    uint32_t bg = desc->background ? desc->background : 0xFFFFFF;
    if (bg >> 25)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: background 0x%x is not "
                          "VKVAE_BACKGROUND_RGB(r, g, b)", dir, bg);
    L->bg[0] = (uint8_t)(bg >> 16), L->bg[1] = (uint8_t)(bg >> 8), L->bg[2] = (uint8_t)bg;
    return VKVAE_OK;
}

void vkvae_image_folder_info_destroy(vkvae_image_folder_info *info)
{
    if (!info)
        return;
    for (uint32_t i = 0; i < info->n_classes; i++)
        free(info->class_names[i]);
    free(info->class_names);
    for (uint32_t i = 0; i < info->skipped_kept; i++)
        free(info->skipped_messages[i]);
    *info = (vkvae_image_folder_info){0};
}

/* Moves the class names into info. */
static void take_classes(vkvae_image_folder_info *info, strings *classes)
{
    info->n_classes = (uint32_t)classes->n;
    info->class_names = classes->n ? classes->items : NULL;
    if (!classes->n)
        free(classes->items);
    *classes = (strings){0};
}

static vkvae_status check_folder(const char *dir, vkvae_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: not a folder", dir);
    return VKVAE_OK;
}

vkvae_status vkvae_image_folder_read(vkvae_idx *images, vkvae_idx *labels,
                                     vkvae_image_folder_info *info, const char *dir,
                                     const vkvae_image_folder_desc *desc, vkvae_error *err)
{
    *images = (vkvae_idx){0};
    *labels = (vkvae_idx){0};
    vkvae_image_folder_info own = {0};
    if (!info)
        info = &own;
    *info = (vkvae_image_folder_info){0};
    loader L;
    file_list files = {0};
    strings classes = {0};
    vkvae_status s = loader_init(&L, desc, info, dir, err);
    if (!s)
        s = check_folder(dir, err);
    if (!s)
        s = scan(&files, &classes, dir, err);
    if (!s) {
        info->found = L.total = (uint32_t)files.n;
        progress(&L);
        s = decode_set(&L, images, labels, dir, &files, &classes, err);
    }
    if (!s)
        take_classes(info, &classes);
    strings_free(&classes);
    files_free(&files);
    loader_free(&L);
    if (s || info == &own)
        vkvae_image_folder_info_destroy(info);
    return s;
}

/* The class lists of train/ and test/ agree: equal, name for name. */
static vkvae_status same_classes(const char *dir, const strings *a, const strings *b,
                                 vkvae_error *err)
{
    if (a->n != b->n)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: train/ has %zu class folder(s), test/ "
                          "has %zu: the splits must have the same classes", dir, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: class %zu is '%s' in train/ but '%s' "
                              "in test/: the splits must have the same classes", dir, i,
                              a->items[i], b->items[i]);
    return VKVAE_OK;
}

static vkvae_status load_splits(vkvae_idx_dataset *out, vkvae_image_folder_info *info,
                                loader *L, const char *dir, vkvae_error *err)
{
    char *tdir[2] = {join(dir, "train"), join(dir, "test")};
    file_list files[2] = {{0}, {0}};
    strings classes[2] = {{0}, {0}};
    vkvae_status s = tdir[0] && tdir[1] ? VKVAE_OK : out_of_memory(err, dir);
    for (int k = 0; !s && k < 2; k++)
        s = scan(&files[k], &classes[k], tdir[k], err);
    if (!s)
        s = same_classes(dir, &classes[0], &classes[1], err);
    if (!s) {
        info->found = L->total = (uint32_t)(files[0].n + files[1].n);
        progress(L);
        s = decode_set(L, &out->train_images, &out->train_labels, tdir[0], &files[0],
                       &classes[0], err);
    }
    if (!s)
        s = decode_set(L, &out->test_images, &out->test_labels, tdir[1], &files[1],
                       &classes[1], err);
    if (!s) {
        info->split_folders = 1;
        take_classes(info, &classes[0]);
    }
    for (int k = 0; k < 2; k++) {
        free(tdir[k]);
        files_free(&files[k]);
        strings_free(&classes[k]);
    }
    return s;
}

vkvae_status vkvae_image_folder_load(vkvae_idx_dataset *out, vkvae_image_folder_info *info,
                                     const char *dir, const vkvae_image_folder_desc *desc,
                                     vkvae_error *err)
{
    *out = (vkvae_idx_dataset){0};
    vkvae_image_folder_info own = {0};
    if (!info)
        info = &own;
    *info = (vkvae_image_folder_info){0};
    loader L;
    vkvae_status s = loader_init(&L, desc, info, dir, err);
    if (!s)
        s = check_folder(dir, err);
    strings dirs = {0}, top = {0};
    if (!s)
        s = list_dir(dir, &dirs, &top, err);
    int has_train = 0, has_test = 0;
    for (size_t i = 0; !s && i < dirs.n; i++) {
        has_train |= strcmp(dirs.items[i], "train") == 0;
        has_test |= strcmp(dirs.items[i], "test") == 0;
    }
    int split = !s && has_train && has_test && top.n == 0;
    for (size_t i = 0; split && !s && i < dirs.n; i++)
        if (strcmp(dirs.items[i], "train") != 0 && strcmp(dirs.items[i], "test") != 0)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: %s/ beside train/ and test/: a folder with "
                           "both splits holds only those two", dir, dirs.items[i]);
    strings_free(&dirs);
    strings_free(&top);
    if (!s && split) {
        s = load_splits(out, info, &L, dir, err);
    } else if (!s) {
        vkvae_idx images = {0}, labels = {0};
        file_list files = {0};
        strings classes = {0};
        s = scan(&files, &classes, dir, err);
        if (!s) {
            info->found = L.total = (uint32_t)files.n;
            progress(&L);
            s = decode_set(&L, &images, &labels, dir, &files, &classes, err);
        }
        if (!s) {
            float f = desc->test_fraction > 0 ? desc->test_fraction : 0.1f;
            s = vkvae_data_hold_out(out, &images, &labels, f, desc->seed, err);
        }
        if (!s)
            take_classes(info, &classes);
        vkvae_idx_destroy(&images);
        vkvae_idx_destroy(&labels);
        strings_free(&classes);
        files_free(&files);
    }
    loader_free(&L);
    if (s) {
        vkvae_idx_dataset_destroy(out);
        *out = (vkvae_idx_dataset){0};
    }
    if (s || info == &own)
        vkvae_image_folder_info_destroy(info);
    return s;
}

/* ---- The command line's words ------------------------------------------ */

vkvae_status vkvae_image_resize_parse(const char *text, vkvae_image_resize *out,
                                      vkvae_error *err)
{
    static const char *const names[] = {"fit", "stretch", "none"};
    for (int i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (vkvae_image_resize)i;
            return VKVAE_OK;
        }
    return vkvae_fail(err, VKVAE_BAD_INPUT, "resize '%s': expected fit, stretch or none", text);
}

vkvae_status vkvae_image_on_bad_parse(const char *text, vkvae_image_on_bad *out,
                                      vkvae_error *err)
{
    if (strcmp(text, "stop") == 0 || strcmp(text, "skip") == 0) {
        *out = text[1] == 't' ? VKVAE_ON_BAD_STOP : VKVAE_ON_BAD_SKIP;
        return VKVAE_OK;
    }
    return vkvae_fail(err, VKVAE_BAD_INPUT, "bad-image policy '%s': expected stop or skip",
                      text);
}

vkvae_status vkvae_image_background_parse(const char *text, uint32_t *out, vkvae_error *err)
{
    static const struct { const char *name; uint32_t rgb; } named[] = {
        {"white", 0xFFFFFF}, {"black", 0x000000}, {"grey", 0x808080}, {"gray", 0x808080}};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (strcasecmp(text, named[i].name) == 0) {
            *out = 0x1000000u | named[i].rgb;
            return VKVAE_OK;
        }
    const char *hex = text[0] == '#' ? text + 1 : text;
    size_t n = strlen(hex);
    if (n == 6 && strspn(hex, "0123456789abcdefABCDEF") == 6) {
        *out = 0x1000000u | (uint32_t)strtoul(hex, NULL, 16);
        return VKVAE_OK;
    }
    unsigned v[3];
    int used = 0;
    if (strchr(text, ',') && sscanf(text, "%u , %u , %u%n", &v[0], &v[1], &v[2], &used) == 3 &&
        text[used] == '\0' && v[0] < 256 && v[1] < 256 && v[2] < 256 &&
        !strchr(text, '-')) {
        *out = VKVAE_BACKGROUND_RGB(v[0], v[1], v[2]);
        return VKVAE_OK;
    }
    return vkvae_fail(err, VKVAE_BAD_INPUT, "background '%s': expected white, black, grey, "
                      "#RRGGBB or R,G,B (0..255 each)", text);
}
