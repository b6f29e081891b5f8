/* Atomic file replacement (see atomic.h). The temporary file lives in the
 * target's directory so that rename(2) replaces the target in one step on the
 * same file system; the data is fsync'ed before the rename and the directory
 * after it, so after a crash the target is either the old file or the whole
 * new one. Invariant: while af->f is open, af->tmp_path exists on disk and
 * nothing else refers to it; every exit path either renames or unlinks it. */
#include "io/atomic.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void finish(vkvae_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    *af = (vkvae_atomic_file){0};
}

vkvae_status vkvae_atomic_begin(vkvae_atomic_file *af, const char *path, vkvae_error *err)
{
    *af = (vkvae_atomic_file){0};
    size_t n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp_path = malloc(n + sizeof ".tmp-XXXXXX");
    if (!af->path || !af->tmp_path) {
        finish(af);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    /* Not a regular file: no temporary beside it (in /dev, say), no
     * rename over it. */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        finish(af);
        return vkvae_fail(err, VKVAE_IO, "%s: is a folder, not a file", path);
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        free(af->tmp_path);
        af->tmp_path = NULL;
        af->f = fopen(path, "wb");
        if (!af->f) {
            int e = errno;
            finish(af);
            return vkvae_fail(err, VKVAE_IO, "%s: cannot open: %s", path, strerror(e));
        }
        return VKVAE_OK;
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        finish(af);
        return vkvae_fail(err, VKVAE_IO, "%s: cannot create temporary file: %s", path,
                          strerror(e));
    }
    /* mkstemp makes 0600; a checkpoint or image is an ordinary file. */
    (void)fchmod(fd, 0644);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        unlink(af->tmp_path);
        finish(af);
        return vkvae_fail(err, VKVAE_IO, "%s: cannot open temporary file: %s", path,
                          strerror(e));
    }
    return VKVAE_OK;
}

vkvae_status vkvae_atomic_write(vkvae_atomic_file *af, const void *data, size_t n,
                                vkvae_error *err)
{
    if (n && fwrite(data, 1, n, af->f) != n) {
        return vkvae_fail(err, VKVAE_IO, "%s: write failed at byte %zu: %s", af->path,
                          af->written, strerror(errno));
    }
    af->written += n;
    return VKVAE_OK;
}

void vkvae_atomic_abort(vkvae_atomic_file *af)
{
    if (af->f) {
        fclose(af->f);
        if (af->tmp_path)
            unlink(af->tmp_path);
    }
    finish(af);
}

static vkvae_status sync_dir(const char *path, vkvae_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    vkvae_status st = VKVAE_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    /* Some file systems cannot sync a directory (EINVAL); the rename stands. */
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != EROFS))
        st = vkvae_fail(err, VKVAE_IO, "%s: renamed, but syncing directory %s failed: %s",
                        path, dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return st;
}

vkvae_status vkvae_atomic_commit(vkvae_atomic_file *af, vkvae_error *err)
{
    const char *step = NULL;
    if (!af->tmp_path) { /* written in place: a device or a pipe */
        int flushed = fflush(af->f), e = errno;
        int closed = fclose(af->f);
        e = flushed ? e : errno;
        af->f = NULL;
        if (flushed || closed)
            vkvae_fail(err, VKVAE_IO, "%s: %s failed after %zu bytes: %s", af->path,
                       flushed ? "flush" : "close", af->written, strerror(e));
        finish(af);
        return flushed || closed ? VKVAE_IO : VKVAE_OK;
    }
    if (fflush(af->f) != 0)
        step = "flush";
    else if (fsync(fileno(af->f)) != 0)
        step = "fsync";
    if (step) {
        vkvae_fail(err, VKVAE_IO, "%s: %s of temporary file failed after %zu bytes: %s",
                   af->path, step, af->written, strerror(errno));
        vkvae_atomic_abort(af);
        return VKVAE_IO;
    }
    int closed = fclose(af->f);
    af->f = NULL;
    if (closed != 0 || rename(af->tmp_path, af->path) != 0) {
        vkvae_fail(err, VKVAE_IO, "%s: %s failed: %s", af->path,
                   closed != 0 ? "closing temporary file" : "rename over target",
                   strerror(errno));
        unlink(af->tmp_path);
        finish(af);
        return VKVAE_IO;
    }
    vkvae_status st = sync_dir(af->path, err);
    finish(af);
    return st;
}

/* mkstemp's six characters are letters and digits; matching exactly them
 * leaves other files that merely share the prefix alone. */
static int is_temp_of(const char *name, const char *base, size_t base_len)
{
    if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, ".tmp-", 5) != 0)
        return 0;
    const char *x = name + base_len + 5;
    for (int i = 0; i < 6; i++)
        if (!isalnum((unsigned char)x[i]))
            return 0;
    return x[6] == '\0';
}

int vkvae_atomic_remove_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    const char *base = slash ? slash + 1 : path;
    DIR *d = dir ? opendir(dir) : NULL;
    int removed = 0;
    if (d) {
        size_t base_len = strlen(base);
        struct dirent *e;
        while ((e = readdir(d)))
            if (is_temp_of(e->d_name, base, base_len) && unlinkat(dirfd(d), e->d_name, 0) == 0)
                removed++;
        closedir(d);
    }
    free(dir);
    return removed;
}
