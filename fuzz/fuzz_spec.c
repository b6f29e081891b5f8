/* libFuzzer target: the spec compiler (gen/) on the text of a .vae, as
 * vkvae-gen --check and --explain run it: source_load, the lexer, the
 * parser and shape inference; for a spec that checks, also the stages
 * compile_plan drives (gen/compile.c: the backward graph, the lowering,
 * fusion and barriers), and then the runtime's own checks of the plan it
 * produced (the CPU backend's op contracts when its buffers are small
 * enough to allocate, and the hazard check of every program).
 *
 * Properties checked besides "no sanitizer report":
 *   - a spec fails with at least one diagnostic and prints only lines of
 *     the form `PATH:LINE:COL: error: ...` (LINE, COL >= 1), each followed
 *     by its source line and a caret line, or a whole-file message
 *     `PATH: error: ...`; it prints at most GEN_MAX_ERRORS (then the last
 *     line says "too many errors", d.gave_up is set and d.errors counts on);
 *   - a spec that checks prints nothing on the diagnostic stream, lowers
 *     (what has no lowering yet is a check error, so compile_plan never
 *     refuses a spec that checks), and its plan passes vkvae_cpu_create's
 *     contract checks and vkvae_hazard_check.
 * Each input is compiled as a library caller would: through gen_try in an
 * arena of its own (gen/mem.c), with diagnostics into a memory stream;
 * gen_arena_free releases every block after the input, so LeakSanitizer
 * still checks that nothing escapes the generator's allocator. */
#include "cpu/cpu_backend.h"
#include "fuzz_file.h"
#include "gen.h"
#include "plan/hazard.h"

/* Plans whose buffers need more host memory than this skip the CPU
 * backend's contract check (it allocates every buffer). */
enum { CONTRACT_CHECK_MAX_BYTES = 32 << 20, FUZZ_DATA_ROWS = 7 };

static int is_digits(const char *s, const char *end)
{
    if (s == end)
        return 0;
    for (; s < end; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The diagnostic stream of a failed spec: error lines, each with its echo. */
static void check_diagnostics(const char *path, const char *text, size_t len, int errors,
                              int gave_up)
{
    FUZZ_CHECK(len > 0 && text[len - 1] == '\n');
    size_t plen = strlen(path);
    int seen = 0, stop_line = 0;
    const char *line = text, *end = text + len;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        FUZZ_CHECK(nl != NULL);
        FUZZ_CHECK((size_t)(nl - line) > plen && memcmp(line, path, plen) == 0 &&
                   line[plen] == ':');
        const char *p = line + plen + 1;
        if (strncmp(p, " error: ", 8) == 0) {
            /* whole-file: unreadable, too large, or the give-up line */
            stop_line = strncmp(p + 8, "too many errors", 15) == 0;
            FUZZ_CHECK(!stop_line || nl + 1 == end);
            seen += !stop_line;
            line = nl + 1;
            continue;
        }
        const char *c1 = memchr(p, ':', (size_t)(nl - p));
        FUZZ_CHECK(c1 && is_digits(p, c1) && atoi(p) >= 1);
        const char *c2 = memchr(c1 + 1, ':', (size_t)(nl - c1 - 1));
        FUZZ_CHECK(c2 && is_digits(c1 + 1, c2) && atoi(c1 + 1) >= 1);
        FUZZ_CHECK(strncmp(c2, ": error: ", 9) == 0 && nl > c2 + 9);
        seen++;
        line = nl + 1;
        /* the echoed source line and the caret line, when the line exists */
        if (line < end && line[0] == ' ' && line[1] == ' ') {
            const char *echo_end = memchr(line, '\n', (size_t)(end - line));
            FUZZ_CHECK(echo_end != NULL);
            for (const char *q = line; q < echo_end; q++)
                FUZZ_CHECK((unsigned char)*q >= 0x20 || *q == '\t');
            const char *caret = echo_end + 1;
            FUZZ_CHECK(caret < end && caret[0] == ' ' && caret[1] == ' ');
            const char *caret_end = memchr(caret, '\n', (size_t)(end - caret));
            FUZZ_CHECK(caret_end != NULL && memchr(caret, '^', (size_t)(caret_end - caret)));
            line = caret_end + 1;
        }
    }
    FUZZ_CHECK(gave_up == stop_line);
    FUZZ_CHECK(gave_up ? seen == GEN_MAX_ERRORS && errors > seen : seen == errors);
}

/* The lowered plan as the runtime sees it, then the runtime's checks. */
static void check_plan(const gen_plan *pl)
{
    vkvae_program_desc progs[VKVAE_PROGRAM_COUNT];
    FUZZ_CHECK(pl->n_prog >= 1 && pl->n_prog <= VKVAE_PROGRAM_COUNT);
    for (int p = 0; p < pl->n_prog; p++)
        progs[p] = (vkvae_program_desc){ pl->prog[p].kind, pl->prog[p].name,
                                         (uint32_t)pl->prog[p].n, pl->prog[p].steps };
    const gen_spec *s = pl->g->spec;
    vkvae_plan plan = {
        .model = pl->model, .spec_text = NULL, .batch = pl->batch,
        .n_buffers = (uint32_t)pl->nb, .n_tensors = (uint32_t)pl->nt,
        .n_programs = (uint32_t)pl->n_prog, .buffers = pl->buf, .tensors = pl->t,
        .programs = progs, .epochs = s->epochs, .seed = s->seed,
        .classes = s->has_condition ? s->classes : 0,
    };
    uint64_t bytes = 0;
    for (size_t b = 0; b < pl->nb; b++) {
        FUZZ_CHECK(pl->buf[b].bytes <= UINT64_MAX / 4 - bytes);
        bytes += pl->buf[b].bytes;
    }
    /* float backend: ACTIVATION etc. at 4 bytes a float, like the plan */
    if (bytes <= CONTRACT_CHECK_MAX_BYTES) {
        vkvae_cpu *cpu = NULL;
        vkvae_error err = { 0 };
        vkvae_status st = vkvae_cpu_create(&plan, VKVAE_CPU_F32, &cpu, &err);
        if (st != VKVAE_OK)
            fprintf(stderr, "the generated plan breaks an op contract: %s\n", err.message);
        FUZZ_CHECK(st == VKVAE_OK);
        vkvae_cpu_destroy(cpu);
    }
    for (uint32_t p = 0; p < plan.n_programs; p++) {
        char msg[512];
        /* the programs that run back to back, as gen/compile.c placed them */
        int cyclic = vkvae_hazard_cyclic(plan.programs[p].kind, pl->g->ar_logits >= 0,
                                         pl->g->spec->vocab > 0);
        uint32_t bad = vkvae_hazard_check(&plan, p, cyclic, msg, sizeof msg);
        if (bad)
            fprintf(stderr, "program %s: %s\n", plan.programs[p].name, msg);
        FUZZ_CHECK(bad == 0);
    }
}

/* One input's compile; every pointer in it is into the input's arena. */
typedef struct fuzz_run {
    const char *path;
    gen_diag d;
    gen_source src;
    gen_spec spec;
    gen_graph graph;
    gen_plan plan;
    bool ok;
} fuzz_run;

/* As vkvae-gen --check runs it. */
static void check_input(void *ctx)
{
    fuzz_run *r = ctx;
    if (!source_load(&r->src, r->path, &r->d))
        return;
    r->d.src = &r->src;
    size_t ntok;
    gen_token *toks = lex_source(&r->src, &r->d, &ntok);
    FUZZ_CHECK(ntok >= 2 && toks[ntok - 1].kind == TK_EOF);
    r->ok = parse_spec(toks, ntok, &r->spec, &r->d) && r->d.errors == 0;
    if (r->ok)
        r->ok = infer_shapes(&r->spec, &r->graph, &r->d) && r->d.errors == 0;
}

/* As --explain runs it on a spec that checks, then the plan's checks. */
static void explain_spec(void *ctx)
{
    static FILE *sink;
    if (!sink)
        FUZZ_CHECK((sink = fopen("/dev/null", "w")) != NULL);
    fuzz_run *r = ctx;
    explain_graph(&r->graph, sink);
    char *why = NULL;
    bool lowered = compile_plan(&r->graph, FUZZ_DATA_ROWS, &r->plan, &why);
    if (!lowered)
        fprintf(stderr, "checks but does not lower: %s\n", why ? why : "(no reason)");
    FUZZ_CHECK(lowered);
    explain_plan(&r->plan, sink);
    check_plan(&r->plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    char *diag_text = NULL;
    size_t diag_len = 0;
    FILE *out = open_memstream(&diag_text, &diag_len);
    FUZZ_CHECK(out != NULL);

    fuzz_run r = { .path = path, .d = { .out = out } };
    gen_arena arena = { 0 };
    /* out of memory (only where the sanitizer's allocator may return NULL):
     * nothing to check, and gen_try has freed the arena */
    bool done = gen_try(&arena, check_input, &r);
    FUZZ_CHECK(fclose(out) == 0);
    if (done && !r.ok) {
        FUZZ_CHECK(r.d.errors >= 1);
        check_diagnostics(path, diag_text, diag_len, r.d.errors, r.d.gave_up);
    } else if (done) {
        FUZZ_CHECK(diag_len == 0 && r.d.errors == 0);
        gen_try(&arena, explain_spec, &r);
    }
    free(diag_text);
    gen_arena_free(&arena);
    return 0;
}
