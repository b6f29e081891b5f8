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

#endif
