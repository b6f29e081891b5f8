/* vkvae-gen: the spec compiler's command line.
 *
 *   vkvae-gen SPEC --check     parse and check; exit 0 if the spec is sound
 *   vkvae-gen SPEC --explain   also print the forward graph, parameters, FLOPs
 *
 * Exit status follows runtime/status.def: 0 success, 1 a malformed spec
 * (every error reported on stderr as path:line:col), 2 an unreadable file.
 * Nothing is written unless every check passed, so no partial output can
 * exist; later stages (plan, emitters) will write whole files atomically.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static void out_of_memory(void)
{
    fputs("vkvae-gen: error: out of memory\n", stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory();
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return arr;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            out_of_memory();
        c *= 2;
    }
    *cap = c;
    return xrealloc(arr, c * elem);
}

static int usage(void)
{
    fputs("usage: vkvae-gen SPEC (--check | --explain)\n"
          "  --check    parse and check the spec; exit 0 if sound, 1 if not\n"
          "  --explain  check, then print the forward graph, parameters and FLOPs\n",
          stderr);
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool explain = false, check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            check = true;
        else if (strcmp(argv[i], "--explain") == 0)
            explain = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(), 0;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vkvae-gen: error: unknown flag '%s'\n", argv[i]);
            return usage();
        } else if (path) {
            fprintf(stderr, "vkvae-gen: error: more than one spec ('%s', '%s')\n", path, argv[i]);
            return usage();
        } else
            path = argv[i];
    }
    if (!path || !(check || explain))
        return usage();

    gen_diag d = { .out = stderr };
    gen_source src;
    if (!source_load(&src, path, &d))
        return 2;
    d.src = &src;
    size_t ntok;
    gen_token *toks = lex_source(&src, &d, &ntok);
    gen_spec spec;
    bool ok = parse_spec(toks, ntok, &spec, &d) && d.errors == 0;
    gen_graph graph;
    /* shapes only on a spec that parsed: errors on half-read lines would cascade */
    if (ok)
        ok = infer_shapes(&spec, &graph, &d);
    if (!ok || d.errors) {
        fprintf(stderr, "%s: %d error%s\n", path, d.errors, d.errors == 1 ? "" : "s");
        return 1;
    }
    if (explain)
        explain_graph(&graph, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "vkvae-gen: error: cannot write output\n");
        return 2;
    }
    return 0;
}
