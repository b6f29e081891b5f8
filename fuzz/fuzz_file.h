/* Shared by the fuzz targets: the readers under test take a path, so each
 * input is written to one private temporary file (under $TMPDIR, else
 * /dev/shm, else /tmp), truncated and rewritten for every input, and removed
 * at exit. The harness checks the readers' contracts too and stops with
 * FUZZ_CHECK, so a violated invariant counts as a crash, like a sanitizer
 * report. */
#ifndef VKVAE_FUZZ_FILE_H
#define VKVAE_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_paths[2][4096];

static inline void fuzz_remove_files(void)
{
    for (int i = 0; i < 2; i++)
        if (fuzz_paths[i][0])
            unlink(fuzz_paths[i]);
}

/* A private file name (slot 0 or 1) that exists until exit. */
static inline const char *fuzz_path(int slot)
{
    if (!fuzz_paths[slot][0]) {
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_paths[slot], sizeof fuzz_paths[slot], "%s/vkvae-fuzz-%d-XXXXXX", dir,
                 slot);
        int fd = mkstemp(fuzz_paths[slot]);
        FUZZ_CHECK(fd >= 0);
        close(fd);
        static int registered;
        if (!registered++)
            atexit(fuzz_remove_files);
    }
    return fuzz_paths[slot];
}

/* Writes the input to slot 0's file and returns its path. */
static inline const char *fuzz_write_input(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    return path;
}

/* A failed call must return the status it recorded, with a message. */
#define FUZZ_CHECK_FAILURE(st, err) \
    FUZZ_CHECK((st) != VKVAE_OK && (err).status == (st) && (err).message[0] != 0 && \
               memchr((err).message, 0, sizeof (err).message) != NULL)

#endif
