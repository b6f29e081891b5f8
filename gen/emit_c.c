/* emit_c: a plan as one C file of static const tables ending in
 * `const vkvae_plan <symbol>`, and the registry of built-in models.
 *
 * Output is deterministic (no timestamps, no paths but the spec's base
 * name, floats printed to round-trip) and written only when its bytes
 * change, through a temporary file renamed over the old one, so an
 * unchanged spec rebuilds nothing and no reader sees half a file. The
 * kernel table is empty: runtime/gpu/kernels.c specialises one SPIR-V per op
 * with each step's parameters (see gen.h), and the GPU recorder computes
 * each step's workgroup grid itself, so steps' `kernel` and `groups` stay 0.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "materialize.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) GEN_PRINTF(2, 3);
static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    GROW(s->p, s->cap, s->n + (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(s->p + s->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    s->n += (size_t)k;
}

/* A C string literal of text, split into lines. */
static void put_string(sbuf *s, const char *text, size_t len, const char *indent)
{
    if (len == 0) {
        put(s, "\"\"");
        return;
    }
    put(s, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            put(s, i + 1 < len ? "\\n\"\n%s\"" : "\\n", indent);
        else if (c == '"' || c == '\\')
            put(s, "\\%c", c);
        else if (c == '?')
            put(s, "\\?"); /* no trigraphs */
        else if (c < 0x20 || c >= 0x7f)
            put(s, "\\%03o", c);
        else
            put(s, "%c", c);
    }
    put(s, "\"");
}

/* A float literal that reads back to the same float. */
static void put_float(sbuf *s, const char *field, float v)
{
    if (v == 0)
        return;
    char buf[48];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    put(s, ", .%s = %sf", field, buf);
}

static void put_u32(sbuf *s, const char *field, uint32_t v)
{
    if (v)
        put(s, ", .%s = %u", field, v);
}

static const char *const op_enum[] = {
#define OP(e, ...) "VKVAE_OP_" #e,
#include "plan/ops.def"
#undef OP
};
static const char *const role_enum[] = { "VKVAE_ROLE_PARAM", "VKVAE_ROLE_GRAD",
    "VKVAE_ROLE_OPTIM", "VKVAE_ROLE_ACTIVATION", "VKVAE_ROLE_DATA", "VKVAE_ROLE_IO",
    "VKVAE_ROLE_ACCUM", "VKVAE_ROLE_STATE" };
static const char *const program_enum[] = { "VKVAE_PROGRAM_TRAIN", "VKVAE_PROGRAM_EVAL",
    "VKVAE_PROGRAM_ENCODE", "VKVAE_PROGRAM_DECODE", "VKVAE_PROGRAM_SAMPLE",
    "VKVAE_PROGRAM_IWAE" };
static const char *const init_enum[VKVAE_INIT_COUNT] = { "VKVAE_INIT_PYTORCH",
    "VKVAE_INIT_XAVIER_UNIFORM", "VKVAE_INIT_KAIMING_NORMAL" };

static void put_params(sbuf *s, const vkvae_op_params *p)
{
    /* designated fields, zeros left out; the leading one keeps the commas even */
    put(s, "{ .n = %u", p->n);
    put_u32(s, "in", p->in);
    put_u32(s, "out", p->out);
    put_u32(s, "in2", p->in2);
    put_u32(s, "classes", p->classes);
    put_u32(s, "c_in", p->c_in);
    put_u32(s, "h_in", p->h_in);
    put_u32(s, "w_in", p->w_in);
    put_u32(s, "c_out", p->c_out);
    put_u32(s, "h_out", p->h_out);
    put_u32(s, "w_out", p->w_out);
    put_u32(s, "k", p->k);
    put_u32(s, "stride", p->stride);
    put_u32(s, "pad", p->pad);
    put_u32(s, "out_pad", p->out_pad);
    put_u32(s, "act", p->act);
    put_u32(s, "samples", p->samples);
    put_u32(s, "stream", p->stream);
    put_u32(s, "mode", p->mode);
    put_float(s, "alpha", p->alpha);
    put_float(s, "lr", p->lr);
    put_float(s, "beta1", p->beta1);
    put_float(s, "beta2", p->beta2);
    put_float(s, "eps", p->eps);
    put_float(s, "weight_decay", p->weight_decay);
    put_float(s, "momentum", p->momentum);
    put(s, " }");
}

static int write_if_changed(const char *path, const char *text, size_t len)
{
    /* allocated first: running out of memory jumps out (mem.c), past an fclose */
    char *old = xmalloc(len + 1), *tmp = xprintf("%s.tmp", path);
    bool same = false;
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t got = fread(old, 1, len + 1, f);
        fclose(f);
        same = got == len && memcmp(old, text, len) == 0;
    }
    xfree(old);
    if (same)
        return 0;
    f = fopen(tmp, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "vkvae-gen: error: cannot write '%s'\n", tmp);
        remove(tmp);
        return 2;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vkvae-gen: error: cannot rename '%s' to '%s'\n", tmp, path);
        remove(tmp);
        return 2;
    }
    return 0;
}

int emit_c(const gen_plan *pl, const char *symbol, const char *spec_name,
           const char *spec_text, size_t spec_size, const char *path)
{
    sbuf s = { 0 };
    char a[32], b[32];
    put(&s, "/* Generated by vkvae-gen from %s: do not edit. The plan of model '%s' "
        "(runtime/plan/plan.h):\n * %s parameters, %s FLOPs per training step at batch %u, data rows "
        "%u.\n * kernels: none, each op's one SPIR-V is specialised per step "
        "(runtime/gpu/kernels.c);\n * steps' kernel and groups fields are unused (the recorder "
        "sizes the grid). */\n", spec_name, pl->model, diag_thousands(a, pl->n_params),
        diag_thousands(b, pl->step_flops), pl->batch,
        pl->data_rows);
    put(&s, "#include \"plan/plan.h\"\n\n");
    put(&s, "static const char spec_text[] =\n    ");
    if (spec_size <= 4000) {
        put_string(&s, spec_text, spec_size, "    ");
    } else {
        /* C11 promises string literals of 4095 bytes only: bytes, then */
        put(&s, "{");
        for (size_t i = 0; i < spec_size; i++)
            put(&s, "%s%u,", i % 16 ? " " : "\n    ", (unsigned char)spec_text[i]);
        put(&s, "\n    0 }");
    }
    put(&s, ";\n\nstatic const vkvae_buffer_desc buffers[%zu] = {\n", pl->nb);
    for (size_t i = 0; i < pl->nb; i++)
        put(&s, "    { \"%s\", %s, %llu },\n", pl->buf[i].name, role_enum[pl->buf[i].role],
            (unsigned long long)pl->buf[i].bytes);
    put(&s, "};\n\nstatic const vkvae_tensor_desc tensors[%zu] = {\n", pl->nt);
    for (size_t i = 0; i < pl->nt; i++) {
        const vkvae_tensor_desc *t = &pl->t[i];
        put(&s, "    /* %3zu */ { \"%s\", %u, %llu, %llu, %u, { %u, %u, %u, %u } },\n", i,
            t->name, t->buffer, (unsigned long long)t->offset, (unsigned long long)t->elems,
            t->rank, t->shape[0], t->shape[1], t->shape[2], t->shape[3]);
    }
    put(&s, "};\n");
    for (int p = 0; p < pl->n_prog; p++) {
        const gen_program *pr = &pl->prog[p];
        put(&s, "\nstatic const vkvae_step_desc %s_steps[%zu] = {\n", pr->name, pr->n);
        for (size_t i = 0; i < pr->n; i++) {
            const vkvae_step_desc *st = &pr->steps[i];
            put(&s, "    /* %3zu */ { .op = %s, .n_tensors = %u, .tensors = {", i,
                op_enum[st->op], st->n_tensors);
            for (uint32_t k = 0; k < st->n_tensors; k++)
                put(&s, "%s %u", k ? "," : "", st->tensors[k]);
            put(&s, " },\n              .p = ");
            put_params(&s, &st->p);
            put(&s, ", .barrier = %u },\n", st->barrier);
        }
        put(&s, "};\n");
    }
    put(&s, "\nstatic const vkvae_program_desc programs[%d] = {\n", pl->n_prog);
    for (int p = 0; p < pl->n_prog; p++)
        put(&s, "    { %s, \"%s\", %zu, %s_steps },\n", program_enum[pl->prog[p].kind],
            pl->prog[p].name, pl->prog[p].n, pl->prog[p].name);
    put(&s, "};\n\n");
    put(&s, "extern const vkvae_plan %s;\n", symbol);
    put(&s, "const vkvae_plan %s = {\n", symbol);
    put(&s, "    .model = \"%s\",\n    .spec_text = spec_text,\n    .batch = %u,\n", pl->model,
        pl->batch);
    put(&s, "    .n_buffers = %zu,\n    .n_tensors = %zu,\n    .n_kernels = 0,\n"
        "    .n_programs = %d,\n", pl->nb, pl->nt, pl->n_prog);
    put(&s, "    .buffers = buffers,\n    .tensors = tensors,\n    .kernels = 0,\n"
        "    .programs = programs,\n");
    /* The spec's training settings, which the runtime schedules from. */
    gen_plan_settings set = plan_settings(pl);
    put(&s, "    .epochs = %u,\n    .seed = %u,\n    .init = %s,\n    .kl_beta = (float)%.17g,\n"
        "    .kl_warmup_epochs = %u,\n    .classes = %u,\n",
        set.epochs, set.seed, init_enum[set.init], set.kl_beta, set.kl_warmup_epochs,
        set.classes);
    put(&s, "    .input_c = %u,\n    .input_h = %u,\n    .input_w = %u,\n", set.input_c,
        set.input_h, set.input_w);
    if (set.sample_passes) /* (a pixel model's only: other plans' C unchanged) */
        put(&s, "    .sample_passes = %u,\n", set.sample_passes);
    if (set.input_levels)
        put(&s, "    .input_levels = %u,\n", set.input_levels);
    if (set.kl_anneal_k > 0) /* (plans without it: their C unchanged) */
        put(&s, "    .kl_anneal_k = (float)%.17g,\n    .kl_anneal_x0 = (float)%.17g,\n",
            set.kl_anneal_k, set.kl_anneal_x0);
    if (set.input_vocab)
        put(&s, "    .input_vocab = %u,\n", set.input_vocab);
    put(&s, "    .n_params = %lluu,\n    .step_flops = %lluu,\n};\n",
        (unsigned long long)pl->n_params, (unsigned long long)pl->step_flops);
    int rc = write_if_changed(path, s.p, s.n);
    xfree(s.p);
    return rc;
}

int emit_registry(const char *path, char *const *names, int n)
{
    sbuf s = { 0 };
    put(&s, "/* Generated by vkvae-gen --registry: do not edit. The models built into\n"
        " * libvkvae (runtime/plan/models.h), in the order models/meson.build lists them. */\n");
    put(&s, "#include <string.h>\n\n#include \"plan/models.h\"\n\n");
    for (int i = 0; i < n; i++)
        put(&s, "extern const vkvae_plan vkvae_model_%s;\n", names[i]);
    put(&s, "\nconst vkvae_plan *const vkvae_builtin_models[] = {\n");
    for (int i = 0; i < n; i++)
        put(&s, "    &vkvae_model_%s,\n", names[i]);
    put(&s, "    0,\n};\n\nconst uint32_t vkvae_builtin_model_count = %d;\n\n", n);
    put(&s, "const vkvae_plan *vkvae_builtin_model(const char *name)\n{\n"
        "    for (uint32_t i = 0; i < vkvae_builtin_model_count; i++)\n"
        "        if (strcmp(vkvae_builtin_models[i]->model, name) == 0)\n"
        "            return vkvae_builtin_models[i];\n"
        "    return 0;\n}\n");
    int rc = write_if_changed(path, s.p, s.n);
    xfree(s.p);
    return rc;
}
