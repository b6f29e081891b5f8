/* A spec compiled at run time equals the plan vkvae-gen compiled at build
 * time: each SPEC goes through the generator's stages in this process, as
 * gen/main.c drives them, gen_plan_materialize (gen/materialize.c) turns the
 * result into a vkvae_plan, the generator's memory is released, and that
 * plan is compared table by table, field by field, with the plan of the
 * same model name in the registry linked in (plan/models.h).
 *
 *   test_runtime_plan [--batch N] [--data-rows N] SPEC...
 *
 * The options are vkvae-gen's and must be the ones the registry's plans
 * were generated with: none for libvkvae's built-ins (models/meson.build),
 * --batch 2 --data-rows 5 for tests/gen's tiny plans. Every registry entry
 * must be matched by exactly one SPEC. Each model prints one line: "ok", or
 * its first difference named as emit_c names the tables, e.g.
 *   vae_mlp: train_steps[12].p.lr: built-in 0.001, run-time 0.00100000005
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "materialize.h"
#include "plan/models.h"

/* The fields of vkvae_op_params, in plan.h's order; a field added there
 * fails the static_assert until it is compared here. */
#define PARAMS_U32(X)                                                                     \
    X(n) X(in) X(out) X(in2) X(classes) X(c_in) X(h_in) X(w_in) X(c_out) X(h_out) X(w_out) \
    X(k) X(stride) X(pad) X(out_pad) X(act) X(samples) X(stream) X(mode)
#define PARAMS_F32(X) X(alpha) X(lr) X(beta1) X(beta2) X(eps) X(weight_decay) X(momentum)
#define COUNT_FIELD(f) +1
static_assert(sizeof(vkvae_op_params) == (0 PARAMS_U32(COUNT_FIELD) PARAMS_F32(COUNT_FIELD)) * 4,
              "vkvae_op_params has a field this test does not compare");

/* The first difference of the model being compared. */
static char diff[512];

static bool differ(const char *table, const char *fmt, ...) GEN_PRINTF(2, 3);
static bool differ(const char *table, const char *fmt, ...)
{
    int n = snprintf(diff, sizeof diff, "%s", table);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diff + n, sizeof diff - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Each returns false after differ() on a difference; where names the
 * table and index ("tensors[3]"), f the field. */
#define SAME_U(where, f, a, b)                                                             \
    do {                                                                                   \
        if ((uint64_t)(a) != (uint64_t)(b))                                                \
            return differ(where, ".%s: built-in %llu, run-time %llu", f,                   \
                          (unsigned long long)(a), (unsigned long long)(b));               \
    } while (0)
#define SAME_F(where, f, a, b)                                                             \
    do {                                                                                   \
        if (float_bits(a) != float_bits(b))                                                \
            return differ(where, ".%s: built-in %.9g, run-time %.9g", f, (double)(a),      \
                          (double)(b));                                                    \
    } while (0)
#define SAME_S(where, f, a, b)                                                             \
    do {                                                                                   \
        if (!(a) || !(b) || strcmp((a), (b)) != 0)                                         \
            return differ(where, ".%s: built-in \"%s\", run-time \"%s\"", f,               \
                          (a) ? (a) : "(null)", (b) ? (b) : "(null)");                     \
    } while (0)

static bool same_step(const char *where, const vkvae_step_desc *a, const vkvae_step_desc *b)
{
    char f[32];
    SAME_U(where, "op", a->op, b->op);
    SAME_U(where, "kernel", a->kernel, b->kernel);
    SAME_U(where, "n_tensors", a->n_tensors, b->n_tensors);
    for (int k = 0; k < VKVAE_MAX_BINDINGS; k++) {
        snprintf(f, sizeof f, "tensors[%d]", k);
        SAME_U(where, f, a->tensors[k], b->tensors[k]);
    }
#define SAME_PARAM_U(x) SAME_U(where, "p." #x, a->p.x, b->p.x);
#define SAME_PARAM_F(x) SAME_F(where, "p." #x, a->p.x, b->p.x);
    PARAMS_U32(SAME_PARAM_U)
    PARAMS_F32(SAME_PARAM_F)
#undef SAME_PARAM_U
#undef SAME_PARAM_F
    for (int k = 0; k < 3; k++) {
        snprintf(f, sizeof f, "groups[%d]", k);
        SAME_U(where, f, a->groups[k], b->groups[k]);
    }
    SAME_U(where, "barrier", a->barrier, b->barrier);
    return true;
}

/* a the built-in plan, b the run-time one */
static bool same_plan(const vkvae_plan *a, const vkvae_plan *b)
{
    char w[96];
    SAME_S("plan", "model", a->model, b->model);
    if (!a->spec_text || !b->spec_text || strcmp(a->spec_text, b->spec_text) != 0) {
        size_t i = 0;
        while (a->spec_text && b->spec_text && a->spec_text[i] == b->spec_text[i])
            i++;
        return differ("plan", ".spec_text: differs from byte %zu", i);
    }
    SAME_U("plan", "batch", a->batch, b->batch);
    SAME_U("plan", "n_buffers", a->n_buffers, b->n_buffers);
    SAME_U("plan", "n_tensors", a->n_tensors, b->n_tensors);
    SAME_U("plan", "n_kernels", a->n_kernels, b->n_kernels);
    SAME_U("plan", "n_programs", a->n_programs, b->n_programs);
    SAME_U("plan", "kernels == NULL", a->kernels == NULL, b->kernels == NULL);
    SAME_U("plan", "epochs", a->epochs, b->epochs);
    SAME_U("plan", "seed", a->seed, b->seed);
    SAME_U("plan", "init", a->init, b->init);
    SAME_F("plan", "kl_beta", a->kl_beta, b->kl_beta);
    SAME_U("plan", "kl_warmup_epochs", a->kl_warmup_epochs, b->kl_warmup_epochs);
    SAME_U("plan", "classes", a->classes, b->classes);
    SAME_U("plan", "input_c", a->input_c, b->input_c);
    SAME_U("plan", "input_h", a->input_h, b->input_h);
    SAME_U("plan", "input_w", a->input_w, b->input_w);
    SAME_U("plan", "sample_passes", a->sample_passes, b->sample_passes);
    SAME_U("plan", "n_params", a->n_params, b->n_params);
    SAME_U("plan", "step_flops", a->step_flops, b->step_flops);
    for (uint32_t i = 0; i < a->n_buffers; i++) {
        const vkvae_buffer_desc *x = &a->buffers[i], *y = &b->buffers[i];
        snprintf(w, sizeof w, "buffers[%u]", i);
        SAME_S(w, "name", x->name, y->name);
        SAME_U(w, "role", x->role, y->role);
        SAME_U(w, "bytes", x->bytes, y->bytes);
    }
    for (uint32_t i = 0; i < a->n_tensors; i++) {
        const vkvae_tensor_desc *x = &a->tensors[i], *y = &b->tensors[i];
        snprintf(w, sizeof w, "tensors[%u]", i);
        SAME_S(w, "name", x->name, y->name);
        SAME_U(w, "buffer", x->buffer, y->buffer);
        SAME_U(w, "offset", x->offset, y->offset);
        SAME_U(w, "elems", x->elems, y->elems);
        SAME_U(w, "rank", x->rank, y->rank);
        for (int k = 0; k < 4; k++) {
            char f[16];
            snprintf(f, sizeof f, "shape[%d]", k);
            SAME_U(w, f, x->shape[k], y->shape[k]);
        }
    }
    for (uint32_t p = 0; p < a->n_programs; p++) {
        const vkvae_program_desc *x = &a->programs[p], *y = &b->programs[p];
        snprintf(w, sizeof w, "programs[%u]", p);
        SAME_U(w, "kind", x->kind, y->kind);
        SAME_S(w, "name", x->name, y->name);
        SAME_U(w, "n_steps", x->n_steps, y->n_steps);
        for (uint32_t i = 0; i < x->n_steps; i++) {
            snprintf(w, sizeof w, "%s_steps[%u]", x->name, i);
            if (!same_step(w, &x->steps[i], &y->steps[i]))
                return false;
        }
    }
    return true;
}

/* The spec at path through the stages as gen/main.c runs them, then
 * materialized; NULL after a message on failure. */
/* The spec at path compiled as libvkvae compiles a user's spec
 * (gen_compile_text: its own arena, freed before it returns, so the plan
 * can need nothing of the generator's memory). */
static vkvae_plan *compile_spec(const char *path, uint32_t batch, uint32_t data_rows)
{
    static char text[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (!f || ferror(f) || n == sizeof text) {
        fprintf(stderr, "%s: cannot read the spec\n", path);
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    gen_compile_status status;
    vkvae_plan *p = gen_compile_text(path, text, n, batch, data_rows, stderr, NULL, &status);
    if (!p)
        fprintf(stderr, "%s: gen_compile_text failed (status %d)\n", path, (int)status);
    return p;
}

static uint32_t count_arg(const char *flag, const char *text)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v < 1 || v > UINT32_MAX) {
        fprintf(stderr, "test_runtime_plan: %s wants a whole number, got '%s'\n", flag, text);
        exit(2);
    }
    return (uint32_t)v;
}

int main(int argc, char **argv)
{
    uint32_t batch = 0, data_rows = GEN_DEFAULT_DATA_ROWS;
    int failures = 0, specs = 0;
    uint32_t *matched = calloc(vkvae_builtin_model_count + 1, sizeof *matched);
    if (!matched)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = count_arg(argv[i], argv[i + 1]);
            i++;
            continue;
        }
        if (strcmp(argv[i], "--data-rows") == 0 && i + 1 < argc) {
            data_rows = count_arg(argv[i], argv[i + 1]);
            i++;
            continue;
        }
        specs++;
        vkvae_plan *run = compile_spec(argv[i], batch, data_rows);
        if (!run) {
            failures++;
            continue;
        }
        const vkvae_plan *built = vkvae_builtin_model(run->model);
        if (!built) {
            printf("%s: no built-in plan of model '%s'\n", argv[i], run->model);
            failures++;
        } else if (!same_plan(built, run)) {
            printf("%s: %s\n", run->model, diff);
            failures++;
        } else {
            uint32_t steps = 0;
            for (uint32_t p = 0; p < run->n_programs; p++)
                steps += run->programs[p].n_steps;
            printf("%s: ok (%u buffers, %u tensors, %u programs, %u steps)\n", run->model,
                   run->n_buffers, run->n_tensors, run->n_programs, steps);
        }
        for (uint32_t m = 0; built && m < vkvae_builtin_model_count; m++)
            matched[m] += vkvae_builtin_models[m] == built;
        gen_plan_materialize_free(run);
    }
    for (uint32_t m = 0; m < vkvae_builtin_model_count; m++)
        if (matched[m] != 1) {
            printf("%s: compared %u times, not once: give each registry model's spec once\n",
                   vkvae_builtin_models[m]->model, matched[m]);
            failures++;
        }
    free(matched);
    printf("%d spec%s, %u registry models: %s\n", specs, specs == 1 ? "" : "s",
           vkvae_builtin_model_count, failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
