/* Helpers shared by the io tests: a private temporary folder under the build
 * folder (argv[1]), whole-file reads and writes, and checks that count
 * failures and that an expected error carries its message. */
#ifndef VKVAE_TEST_IO_H
#define VKVAE_TEST_IO_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static int failures;
static char tmpdir[4096];

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++; \
        } \
    } while (0)

static inline void make_tmpdir(int argc, char **argv, const char *name)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/%s-XXXXXX", argc > 1 ? argv[1] : ".", name);
    if (!mkdtemp(tmpdir)) {
        perror(tmpdir);
        exit(1);
    }
}

/* Removes the files in tmpdir, then tmpdir; keeps it when a check failed. */
static inline int finish_tests(const char *name)
{
    if (failures) {
        fprintf(stderr, "%s: %d check(s) failed; files kept in %s\n", name, failures, tmpdir);
        return 1;
    }
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[8192];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            remove(p);
        }
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
    printf("%s: all checks passed\n", name);
    return 0;
}

static inline const char *tmp_path(const char *file)
{
    static char bufs[4][8192];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", tmpdir, file);
    return p;
}

static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* The whole file in a malloc'ed buffer, *n its size; NULL if missing. */
static inline unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    unsigned char *b = malloc(cap);
    *n = 0;
    size_t got;
    while ((got = fread(b + *n, 1, cap - *n, f)) > 0) {
        *n += got;
        if (*n == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    return b;
}

static inline int count_files(void)
{
    int n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* Checks that a call failed with status want and a message containing sub. */
static inline void expect_error(const char *id, vkvae_status got, const vkvae_error *err,
                         vkvae_status want, const char *sub)
{
    if (got != want || err->status != want || !strstr(err->message, sub)) {
        fprintf(stderr, "FAIL %s: want %s containing \"%s\", got %s: %s\n", id,
                vkvae_status_name(want), sub, vkvae_status_name(got), err->message);
        failures++;
    } else {
        printf("ok %s: %s\n", id, err->message);
    }
}

#endif
