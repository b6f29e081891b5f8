/* Runs one fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: each argument is a file or a folder of files (not recursive).
 * Built with any compiler, so the seed corpora and the inputs that once
 * crashed a target stay tests of the ordinary build; built with sanitizers
 * (meson -Db_sanitize=address,undefined) it checks what libFuzzer would. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 12, n = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap)
            b = realloc(b, cap *= 2);
    fclose(f);
    if (!b) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    /* Exactly size bytes, as libFuzzer hands them, so ASan sees overreads. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, b, n);
    free(b);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int bad = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(sb.st_mode)) {
            bad |= run_file(argv[i]);
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        char **names = NULL;
        size_t count = 0;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            names = realloc(names, (count + 1) * sizeof *names);
            size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
            names[count] = malloc(len);
            snprintf(names[count++], len, "%s/%s", argv[i], e->d_name);
        }
        if (d)
            closedir(d);
        if (count)
            qsort(names, count, sizeof *names, by_name);
        for (size_t k = 0; k < count; k++) {
            bad |= run_file(names[k]);
            files++;
            free(names[k]);
        }
        free(names);
    }
    printf("%d input(s) ran without a finding\n", files);
    return bad;
}
