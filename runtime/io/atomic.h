/* Atomic file replacement: write to a temporary file in the target's own
 * directory, then fflush, fsync, rename over the target and fsync the
 * directory. Readers see the old file or the complete new one, never a
 * partial one; on any failure the temporary file is removed. Only regular
 * files (or new ones) are replaced so: a target that exists as something
 * else (a device such as /dev/null or /dev/full, a FIFO) is written in
 * place, every write, flush and close checked, and never renamed over. */
#ifndef VKVAE_IO_ATOMIC_H
#define VKVAE_IO_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef struct vkvae_atomic_file {
    FILE *f;            /* open temporary file, NULL once finished */
    char *path;         /* the target */
    char *tmp_path;     /* "<path>.tmp-XXXXXX"; NULL when writing in place */
    size_t written;     /* bytes written so far, for messages */
} vkvae_atomic_file;

/* Creates the temporary file next to path. */
vkvae_status vkvae_atomic_begin(vkvae_atomic_file *af, const char *path, vkvae_error *err);

/* Appends n bytes; on failure the caller still calls vkvae_atomic_abort. */
vkvae_status vkvae_atomic_write(vkvae_atomic_file *af, const void *data, size_t n,
                                vkvae_error *err);

/* Syncs and renames onto the target. Finishes af whether it succeeds or not:
 * on failure the temporary file is removed and the target left as it was. */
vkvae_status vkvae_atomic_commit(vkvae_atomic_file *af, vkvae_error *err);

/* Closes and removes the temporary file; safe on a finished or zeroed af. */
void vkvae_atomic_abort(vkvae_atomic_file *af);

/* Removes the temporary files of path ("<path>.tmp-XXXXXX") that writers
 * killed before commit or abort left behind, and returns how many. Only for
 * callers that own path, with no other writer of it running. */
int vkvae_atomic_remove_stale(const char *path);

#endif
