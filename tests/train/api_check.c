/* A spec file through the C API's vkvae_spec_check, for test_own_spec.py:
 * prints the diagnostics it returns to stderr, exactly as returned (the
 * test compares them with vkvae-gen --check's), and exits 1 for a malformed
 * spec, 11 for one that cannot run yet, 0 when it compiles.
 *   api_check SPEC
 */
#include <stdio.h>
#include <stdlib.h>

#include "vkvae.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: api_check SPEC\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static char text[1 << 21];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *diagnostics = NULL;
    vkvae_error err = {0};
    vkvae_status s = vkvae_spec_check(argv[1], text, n, &diagnostics, &err);
    if (diagnostics)
        fputs(diagnostics, stderr);
    else if (s)
        fprintf(stderr, "%s\n", err.message);
    free(diagnostics);
    return s == VKVAE_OK ? 0 : s == VKVAE_BAD_INPUT ? 1 : 11;
}
