/* The packed cache of decoded image folders (io/data_cache.h). A cache
 * file is one buffer built here and written atomically; reading parses it
 * back with every length checked against what is left, so a truncated or
 * tampered file is a miss (decoded again), never a crash. The key (the
 * file's name) is a hash of the folder's real path and the settings; the
 * settings and the source list inside are compared in full, so a hash
 * collision is a miss too.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "io/data_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic.h"
#include "io/safetensors.h" /* vkvae_st_crc32 */

#define MAGIC "VKVDATA1"
enum { VERSION = 1, MAX_DEPTH = 64 };

/* ---- a growing byte buffer, and a checked reader of one ---------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int failed;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, le, 4);
}

static void put_u64(buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

typedef struct reader {
    const uint8_t *p;
    size_t left;
    int bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n, r->left -= n;
    return p;
}

static uint32_t get_u32(reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

/* A malloc'd NUL-terminated copy of a string field, or NULL (also for one
 * holding a NUL, which no path or message the writer puts holds). */
static char *get_str(reader *r)
{
    uint32_t n = get_u32(r);
    const uint8_t *p = take(r, n);
    char *s = p && !memchr(p, 0, n) ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    } else {
        r->bad = 1;
    }
    return s;
}

/* ---- the folder's source list ------------------------------------------ */

/* Every file under dir (dot-names left out, as the loader leaves them),
 * as "rel\0" size mtime records, sorted by rel: what a cache must match. */
typedef vkvae_data_cache_source source;

typedef struct sources {
    source *items;
    size_t n, cap;
} sources;

static void sources_free(sources *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].rel);
    free(s->items);
    *s = (sources){0};
}

static int list(sources *out, const char *root, const char *rel, int depth)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof path)
        return -1;
    DIR *d = opendir(path);
    if (!d || depth > MAX_DEPTH) {
        if (d)
            closedir(d);
        return -1;
    }
    int failed = 0;
    struct dirent *e;
    while (!failed && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        struct stat st;
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub ||
            snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full) {
            failed = 1; /* a path too long to be sure of: no cache */
            break;
        }
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            failed = list(out, root, sub, depth + 1) != 0;
        } else if (S_ISREG(st.st_mode)) {
            if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 256;
                source *items = realloc(out->items, cap * sizeof *items);
                if (!items) {
                    failed = 1;
                    break;
                }
                out->items = items, out->cap = cap;
            }
            char *copy = strdup(sub);
            if (!copy) {
                failed = 1;
                break;
            }
            out->items[out->n++] = (source){
                copy, (uint64_t)st.st_size,
                (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec};
        }
    }
    closedir(d);
    return failed ? -1 : 0;
}

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const source *)a)->rel, ((const source *)b)->rel);
}

/* ---- the key, the file and its parts ----------------------------------- */

/* The settings that change what decoding gives, in a fixed order. */
static void put_settings(buf *b, const vkvae_image_folder_desc *d)
{
    uint32_t fraction;
    float f = d->test_fraction > 0 ? d->test_fraction : 0.1f;
    memcpy(&fraction, &f, 4);
    uint32_t v[] = {d->channels, d->height, d->width, (uint32_t)d->resize, d->background,
                    (uint32_t)d->on_bad, fraction, d->seed};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        put_u32(b, v[i]);
}

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static void put_idx(buf *b, const vkvae_idx *x)
{
    uint64_t bytes = (uint64_t)x->count * x->channels * x->rows * x->cols;
    put_u32(b, x->ndim);
    put_u32(b, x->count);
    put_u32(b, x->channels);
    put_u32(b, x->rows);
    put_u32(b, x->cols);
    put_u64(b, x->data ? bytes : 0);
    if (x->data)
        put(b, x->data, bytes);
}

/* count * channels * rows * cols, or UINT64_MAX when it overflows. */
static uint64_t idx_bytes(const vkvae_idx *x)
{
    uint64_t n = x->count;
    const uint32_t f[3] = {x->channels, x->rows, x->cols};
    for (int i = 0; i < 3; i++) {
        if (f[i] && n > UINT64_MAX / f[i])
            return UINT64_MAX;
        n *= f[i];
    }
    return n;
}

static int get_idx(reader *r, vkvae_idx *x, const char *dir, const char *what)
{
    *x = (vkvae_idx){.ndim = get_u32(r), .count = get_u32(r), .channels = get_u32(r),
                     .rows = get_u32(r), .cols = get_u32(r)};
    uint64_t bytes = get_u64(r);
    /* Every byte the dimensions say, none for an empty or absent array. */
    if (r->bad || bytes != idx_bytes(x))
        return *x = (vkvae_idx){0}, r->bad = 1, -1;
    if (!bytes)
        return 0;
    const uint8_t *p = take(r, bytes);
    size_t n = strlen(dir) + strlen(what) + 4;
    x->data = p ? malloc(bytes) : NULL;
    x->path = malloc(n);
    if (!x->data || !x->path) {
        free(x->data);
        free(x->path);
        *x = (vkvae_idx){0};
        return r->bad = 1, -1;
    }
    memcpy(x->data, p, bytes);
    snprintf(x->path, n, "%s (%s)", dir, what);
    return 0;
}

/* The whole cache file of a load: header, settings, sources, data set,
 * CRC. */
static void build(buf *b, const vkvae_image_folder_desc *desc, const source *src, size_t n_src,
                  const vkvae_idx_dataset *ds, const vkvae_image_folder_info *info)
{
    put(b, MAGIC, 8);
    put_u32(b, VERSION);
    put_settings(b, desc);
    put_u64(b, n_src);
    for (size_t i = 0; i < n_src; i++) {
        put_str(b, src[i].rel);
        put_u64(b, src[i].size);
        put_u64(b, src[i].mtime_ns);
    }
    put_u32(b, info->n_classes);
    for (uint32_t c = 0; c < info->n_classes; c++)
        put_str(b, info->class_names[c]);
    uint32_t counts[] = {(uint32_t)info->split_folders, info->found, info->loaded,
                         info->skipped, info->skipped_kept};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        put_u32(b, counts[i]);
    for (uint32_t i = 0; i < info->skipped_kept; i++)
        put_str(b, info->skipped_messages[i]);
    put_idx(b, &ds->train_images);
    put_idx(b, &ds->train_labels);
    put_idx(b, &ds->test_images);
    put_idx(b, &ds->test_labels);
    put_u32(b, b->failed ? 0 : vkvae_st_crc32(0, b->p, b->n));
}

uint8_t *vkvae_data_cache_build(const vkvae_image_folder_desc *desc,
                                const vkvae_data_cache_source *src, size_t n_src,
                                const vkvae_idx_dataset *ds, const vkvae_image_folder_info *info,
                                size_t *n)
{
    buf b = {0};
    build(&b, desc, src, n_src, ds, info);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *n = b.n;
    return b.p;
}

/* What the loader guarantees of a split, so a file that says otherwise
 * (written by something else, with a CRC to match) is a miss: images of
 * the settings' size (where they fix it), labels absent or one per image
 * and below the class count. */
static int split_sane(const vkvae_idx *img, const vkvae_idx *lab, uint32_t classes,
                      const vkvae_image_folder_desc *desc)
{
    if (img->ndim == 0)
        return !img->count && !lab->ndim && !lab->count;
    if ((img->ndim != 3 && img->ndim != 4) || (img->ndim == 3 && img->channels != 1) ||
        (desc->channels && img->channels != desc->channels) ||
        (desc->height && (img->rows != desc->height || img->cols != desc->width)))
        return 0;
    if (lab->ndim == 0)
        return !lab->count;
    if (lab->ndim != 1 || lab->count != img->count || lab->channels != 1 || lab->rows != 1 ||
        lab->cols != 1)
        return 0;
    for (uint32_t i = 0; i < lab->count; i++)
        if (lab->data[i] >= classes)
            return 0;
    return 1;
}

int vkvae_data_cache_parse(const uint8_t *p, size_t n, const vkvae_image_folder_desc *desc,
                           const vkvae_data_cache_source *src, size_t n_src, const char *dir,
                           vkvae_idx_dataset *out, vkvae_image_folder_info *info)
{
    *out = (vkvae_idx_dataset){0};
    *info = (vkvae_image_folder_info){0};
    if (n < 12 || vkvae_st_crc32(0, p, n - 4) != (p[n - 4] | (uint32_t)p[n - 3] << 8 |
                                                    (uint32_t)p[n - 2] << 16 |
                                                    (uint32_t)p[n - 1] << 24))
        return -1;
    reader r = {p, n - 4, 0};
    buf want = {0};
    put_settings(&want, desc);
    const uint8_t *magic = take(&r, 8), *settings = NULL;
    int same = magic && memcmp(magic, MAGIC, 8) == 0 && get_u32(&r) == VERSION && !want.failed &&
               (settings = take(&r, want.n)) && memcmp(settings, want.p, want.n) == 0 &&
               get_u64(&r) == n_src;
    free(want.p);
    for (size_t i = 0; same && i < n_src; i++) {
        char *rel = get_str(&r);
        same = rel && strcmp(rel, src[i].rel) == 0 && get_u64(&r) == src[i].size &&
               get_u64(&r) == src[i].mtime_ns;
        free(rel);
    }
    if (!same || r.bad)
        return -1;
    *info = (vkvae_image_folder_info){0};
    uint32_t classes = get_u32(&r);
    if (classes > VKVAE_IMAGE_MAX_CLASSES || !(info->class_names = calloc(classes + 1, sizeof(char *))))
        return -1;
    for (; info->n_classes < classes && !r.bad; info->n_classes++)
        info->class_names[info->n_classes] = get_str(&r);
    info->split_folders = (int)get_u32(&r);
    info->found = get_u32(&r);
    info->loaded = get_u32(&r);
    info->skipped = get_u32(&r);
    uint32_t kept = get_u32(&r);
    for (; info->skipped_kept < kept && info->skipped_kept < VKVAE_IMAGE_SKIP_KEPT && !r.bad;
         info->skipped_kept++)
        info->skipped_messages[info->skipped_kept] = get_str(&r);
    if (!classes) {
        free(info->class_names);
        info->class_names = NULL;
    }
    *out = (vkvae_idx_dataset){0};
    int bad = r.bad || kept > VKVAE_IMAGE_SKIP_KEPT ||
              get_idx(&r, &out->train_images, dir, "training split") ||
              get_idx(&r, &out->train_labels, dir, "training labels") ||
              get_idx(&r, &out->test_images, dir, "test split") ||
              get_idx(&r, &out->test_labels, dir, "test labels") || r.left != 0 ||
              !split_sane(&out->train_images, &out->train_labels, classes, desc) ||
              !split_sane(&out->test_images, &out->test_labels, classes, desc) ||
              info->skipped_kept != (info->skipped < VKVAE_IMAGE_SKIP_KEPT
                                         ? info->skipped : VKVAE_IMAGE_SKIP_KEPT);
    if (bad) {
        vkvae_idx_dataset_destroy(out);
        *out = (vkvae_idx_dataset){0};
        vkvae_image_folder_info_destroy(info);
        return -1;
    }
    return 0;
}

static int make_dirs(const char *path)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static char *line(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s && snprintf(s, n, fmt, a, b) < 0)
        s[0] = '\0';
    return s;
}

vkvae_status vkvae_data_cache_load(vkvae_idx_dataset *out, vkvae_image_folder_info *info,
                                   const char *dir, const vkvae_image_folder_desc *desc,
                                   const char *cache_dir, vkvae_data_cache_use *use,
                                   char **warning, vkvae_error *err)
{
    *use = VKVAE_CACHE_DECODED;
    *warning = NULL;
    vkvae_image_folder_info own = {0};
    if (!info)
        info = &own;
    char real[PATH_MAX], path[PATH_MAX];
    sources src = {0};
    /* No cache for a folder that cannot be listed (the loader says what is
     * wrong with it) or whose cache path would not fit. */
    int cacheable = realpath(dir, real) && list(&src, real, "", 0) == 0;
    if (src.n)   /* an empty folder: items is NULL, which qsort may not take */
        qsort(src.items, src.n, sizeof *src.items, by_rel);

    buf key = {0};
    if (cacheable) {
        put(&key, real, strlen(real) + 1);
        put_settings(&key, desc);
        cacheable = snprintf(path, sizeof path, "%s/%016llx.vkvdata", cache_dir,
                             (unsigned long long)fnv1a(key.p ? key.p : (const uint8_t *)"",
                                                      key.n, 0xCBF29CE484222325ull)) <
                    (int)sizeof path;
    }
    free(key.p);

    /* A hit: the file parses for these settings and these sources. */
    FILE *f = cacheable ? fopen(path, "rb") : NULL;
    if (f) {
        *use = VKVAE_CACHE_STALE;
        struct stat st;
        uint8_t *data = fstat(fileno(f), &st) == 0 && st.st_size > 0 ? malloc((size_t)st.st_size)
                                                                     : NULL;
        size_t n = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
        fclose(f);
        int hit = data && n == (size_t)st.st_size &&
                  vkvae_data_cache_parse(data, n, desc, src.items, src.n, dir, out, info) == 0;
        free(data);
        if (hit) {
            *use = VKVAE_CACHE_HIT;
            sources_free(&src);
            if (info == &own)
                vkvae_image_folder_info_destroy(info);
            return VKVAE_OK;
        }
    }

    vkvae_status s = vkvae_image_folder_load(out, info, dir, desc, err);
    if (!s && cacheable) {
        buf b = {0};
        build(&b, desc, src.items, src.n, out, info);
        vkvae_error werr = {0};
        vkvae_atomic_file af;
        if (b.failed)
            *warning = line("%s: out of memory writing the data cache%s", path, "");
        else if (make_dirs(cache_dir) != 0)
            *warning = line("%s: cannot create the data cache folder: %s", cache_dir,
                            strerror(errno));
        else if (vkvae_atomic_begin(&af, path, &werr) ||
                 vkvae_atomic_write(&af, b.p, b.n, &werr) || vkvae_atomic_commit(&af, &werr)) {
            vkvae_atomic_abort(&af);
            *warning = line("%s%s", werr.message, "");
        }
        free(b.p);
    }
    sources_free(&src);
    if (info == &own)
        vkvae_image_folder_info_destroy(info);
    return s;
}
