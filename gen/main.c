/* vkvae-gen: the spec compiler's command line.
 *
 *   vkvae-gen SPEC --check     parse and check; exit 0 if the spec is sound
 *   vkvae-gen SPEC --explain   also print the forward graph, parameters, FLOPs,
 *                              and the plan (buffers, programs, bytes moved)
 *   vkvae-gen SPEC --emit-c OUT.c [--batch N] [--data-rows N] [--symbol S]
 *   vkvae-gen --registry OUT.c NAME...
 *
 * Exit status follows runtime/status.def: 0 success, 1 a malformed spec
 * (every error reported on stderr as path:line:col), 2 an unreadable file.
 * Nothing is written unless every check passed, so no partial output can
 * exist; emitters write whole files atomically, and only when they change.
 * What has no lowering yet (an input range other than 0..1, say) is a
 * check error like any other, so every spec that checks lowers; should the
 * lowering still fail (an internal error), --explain prints "plan: not
 * generated: <why>" and --emit-c fails with that sentence.
 *
 * main reads the flags, then compile_spec drives the stages in order:
 * source_load, check_spec (compile.c: tokens, spec, shapes; then explain_graph),
 * compile_plan (compile.c: gradients, lowering, fusion, barriers; then
 * explain_plan), emit_c. It runs through gen_try in one arena (gen/mem.c),
 * as --registry's emit_registry does, so out of memory comes back here as
 * "vkvae-gen: error: out of memory" and status 1.
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static int usage(void)
{
    fputs("usage: vkvae-gen SPEC (--check | --explain | --emit-c OUT.c) [options]\n"
          "       vkvae-gen --registry OUT.c NAME...\n"
          "  --check          parse and check the spec; exit 0 if sound, 1 if not\n"
          "  --explain        check, then print the forward graph, parameters and FLOPs, and\n"
          "                   the plan: buffers, programs step by step, bytes moved\n"
          "  --emit-c OUT.c   write the plan as C defining vkvae_model_<model> (only if changed)\n"
          "  --registry OUT.c NAME...  write the table of built-in models vkvae_model_NAME\n"
          "options:\n"
          "  --batch N        override the spec's batch size (1..65536)\n"
          "  --data-rows N    rows of the on-device data set (default 60000)\n"
          "  --symbol NAME    the plan's C name (default vkvae_model_<model>)\n",
          stderr);
    return 1;
}

static bool parse_count(const char *flag, const char *text, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || text[0] == '-' || v < 1 || v > max) {
        fprintf(stderr, "vkvae-gen: error: %s wants a whole number 1..%u, got '%s'\n", flag,
                max, text);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool is_ident(const char *s)
{
    if (!*s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

typedef struct job {
    const char *path, *emit, *symbol, *registry;
    char *const *names;
    int n_names;
    bool explain;
    uint32_t batch, data_rows;
    int status; /* the exit status */
} job;

static void compile_spec(void *ctx)
{
    job *r = ctx;
    const char *path = r->path, *emit = r->emit;
    gen_diag d = { .out = stderr };
    gen_source src;
    r->status = 2;
    if (!source_load(&src, path, &d))
        return;
    r->status = 1;
    gen_spec spec;
    gen_graph graph;
    if (!check_spec(&src, &d, r->batch, &spec, &graph))
        return;
    if (r->explain)
        explain_graph(&graph, stdout);
    if (r->explain || emit) {
        gen_plan plan;
        char *why = NULL;
        bool lowered = compile_plan(&graph, r->data_rows, &plan, &why);
        if (r->explain) {
            if (lowered)
                explain_plan(&plan, stdout);
            else
                printf("\nplan: not generated: %s\n", why);
        }
        if (emit && !lowered) {
            fprintf(stderr, "%s: model '%s' is not generated yet: %s\n", path, spec.model, why);
            return;
        }
        if (emit) {
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            r->status = emit_c(&plan, r->symbol ? r->symbol : xprintf("vkvae_model_%s", spec.model),
                               base, src.text, src.size, emit);
            if (r->status)
                return;
        }
    }
    r->status = 0;
}

static void write_registry(void *ctx)
{
    job *r = ctx;
    r->status = emit_registry(r->registry, r->names, r->n_names);
}

/* Runs fn in an arena of its own; out of memory reported, status 1. */
static int run(void (*fn)(void *), job *r)
{
    gen_arena arena = { 0 };
    if (!gen_try(&arena, fn, r)) {
        fputs("vkvae-gen: error: out of memory\n", stderr);
        return 1;
    }
    gen_arena_free(&arena);
    return r->status;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *emit = NULL, *symbol = NULL;
    bool explain = false, check = false;
    uint32_t batch = 0, data_rows = GEN_DEFAULT_DATA_ROWS;
    if (argc >= 2 && strcmp(argv[1], "--registry") == 0) {
        if (argc < 3)
            return usage();
        for (int i = 3; i < argc; i++)
            if (!is_ident(argv[i])) {
                fprintf(stderr, "vkvae-gen: error: model name '%s' is not an identifier\n",
                        argv[i]);
                return 1;
            }
        job r = { .registry = argv[2], .names = argv + 3, .n_names = argc - 3 };
        return run(write_registry, &r);
    }
    for (int i = 1; i < argc; i++) {
        bool has_arg = i + 1 < argc;
        if (strcmp(argv[i], "--check") == 0)
            check = true;
        else if (strcmp(argv[i], "--explain") == 0)
            explain = true;
        else if (strcmp(argv[i], "--emit-c") == 0 && has_arg)
            emit = argv[++i];
        else if (strcmp(argv[i], "--symbol") == 0 && has_arg) {
            symbol = argv[++i];
            if (!is_ident(symbol)) {
                fprintf(stderr, "vkvae-gen: error: --symbol '%s' is not a C identifier\n", symbol);
                return 1;
            }
        } else if (strcmp(argv[i], "--batch") == 0 && has_arg) {
            if (!parse_count("--batch", argv[++i], GEN_MAX_BATCH, &batch))
                return 1;
        } else if (strcmp(argv[i], "--data-rows") == 0 && has_arg) {
            if (!parse_count("--data-rows", argv[++i], 1u << 30, &data_rows))
                return 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(), 0;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vkvae-gen: error: unknown or incomplete flag '%s'\n", argv[i]);
            return usage();
        } else if (path) {
            fprintf(stderr, "vkvae-gen: error: more than one spec ('%s', '%s')\n", path, argv[i]);
            return usage();
        } else
            path = argv[i];
    }
    if (!path || !(check || explain || emit))
        return usage();

    job r = { .path = path, .emit = emit, .symbol = symbol, .explain = explain,
                  .batch = batch, .data_rows = data_rows };
    int status = run(compile_spec, &r);
    if (status)
        return status;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "vkvae-gen: error: cannot write output\n");
        return 2;
    }
    return 0;
}
