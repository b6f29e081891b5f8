/* A packed cache of decoded image folders: decoding thousands of JPEGs on
 * every run is slow, so the first load writes what it decoded (the bytes
 * of both splits, the labels, the class names, what was skipped) to one
 * file, and later loads with the same settings read it back while the
 * folder is unchanged.
 *
 * The file (".vkvdata"): the magic "VKVDATA1", a format version, the
 * decoding settings, the folder's source list (every file's path relative
 * to it, size and modification time in nanoseconds, sorted), the data set,
 * and a CRC-32 of all that. A cache is used only when its version,
 * settings and source list equal the folder's now and its CRC holds;
 * otherwise the folder is decoded again and the cache rewritten
 * (atomically). A cache that cannot be written costs a warning in
 * *warning, never the load.
 */
#ifndef VKVAE_IO_DATA_CACHE_H
#define VKVAE_IO_DATA_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "io/idx.h"
#include "io/image_folder.h"

typedef enum vkvae_data_cache_use {
    VKVAE_CACHE_DECODED,   /* no usable cache: decoded, and the cache written */
    VKVAE_CACHE_HIT,       /* read from the cache */
    VKVAE_CACHE_STALE,     /* a cache was there but the folder changed: decoded, rewritten */
} vkvae_data_cache_use;

/* vkvae_image_folder_load(out, info, dir, desc) through the cache folder
 * cache_dir (created if missing), keyed by dir's real path and desc's
 * settings. *use tells what happened; *warning (a static-free, malloc'd
 * line, or NULL; free() it) says why a cache could not be written. */
vkvae_status vkvae_data_cache_load(vkvae_idx_dataset *out, vkvae_image_folder_info *info,
                                   const char *dir, const vkvae_image_folder_desc *desc,
                                   const char *cache_dir, vkvae_data_cache_use *use,
                                   char **warning, vkvae_error *err);

/* One file of the folder a cache was made from (its path relative to the
 * folder, size and modification time in nanoseconds): the list is sorted
 * by rel, as vkvae_data_cache_load lists the folder. */
typedef struct vkvae_data_cache_source {
    char *rel;
    uint64_t size, mtime_ns;
} vkvae_data_cache_source;

/* The writer and the reader alone, for tests and fuzz/fuzz_data_cache.c.
 * build: the bytes of the cache file of a load (malloc'd, *n long), NULL
 * when out of memory. parse: a cache file's bytes read back as made for
 * desc and the sources src[0 .. n_src); 0 on a hit, -1 on anything else
 * (a bad CRC or length, other settings or sources, a data set the loader
 * could not have made), out and info zeroed then. dir names the splits
 * (their path: "DIR (training split)"). */
uint8_t *vkvae_data_cache_build(const vkvae_image_folder_desc *desc,
                                const vkvae_data_cache_source *src, size_t n_src,
                                const vkvae_idx_dataset *ds, const vkvae_image_folder_info *info,
                                size_t *n);
int vkvae_data_cache_parse(const uint8_t *p, size_t n, const vkvae_image_folder_desc *desc,
                           const vkvae_data_cache_source *src, size_t n_src, const char *dir,
                           vkvae_idx_dataset *out, vkvae_image_folder_info *info);

#endif
