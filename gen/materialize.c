/* materialize: a finished gen_plan as a vkvae_plan in one malloc'd block,
 * the run-time twin of emit_c.c (see materialize.h).
 *
 * The block is laid out by one walk, lay_out, made twice: first with no
 * memory, only counting bytes (each table at its alignment, then every
 * string), then over the block of that size, filling it. The walk mirrors
 * emit_c field by field: what emit_c leaves out of the C it writes (steps'
 * kernel and groups, binding slots past n_tensors, the kernel table) is
 * zero here, a float parameter equal to zero is +0 (put_float writes none,
 * so -0.0f reads back as 0), and the spec's settings come from
 * plan_settings, which emit_c calls too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "materialize.h"

/* The spec's init kinds are the plan's, number for number (INIT_ZERO, the
 * generator's own for a learned log-variance, never reaches a plan). */
_Static_assert(INIT_PYTORCH == (int)VKVAE_INIT_PYTORCH &&
                   INIT_XAVIER_UNIFORM == (int)VKVAE_INIT_XAVIER_UNIFORM &&
                   INIT_KAIMING_NORMAL == (int)VKVAE_INIT_KAIMING_NORMAL,
               "gen_init and vkvae_init_kind agree");

gen_plan_settings plan_settings(const gen_plan *pl)
{
    const gen_spec *spec = pl->g->spec;
    const gen_dims *in = &spec->input;
    bool image = in->rank == 3;
    return (gen_plan_settings){
        .epochs = spec->epochs,
        .seed = spec->seed,
        .init = (uint32_t)spec->init,
        .kl_beta = spec->obj == OBJ_ELBO ? spec->beta : spec->obj == OBJ_IWAE ? 1.0 : 0.0,
        .kl_warmup_epochs = spec->obj == OBJ_ELBO ? spec->warmup : 0,
        .kl_anneal_k = spec->obj == OBJ_ELBO ? spec->anneal_k : 0,
        .kl_anneal_x0 = spec->anneal_x0,
        .classes = spec->has_condition ? spec->classes : 0,
        .input_c = image ? in->d[0] : 1,
        .input_h = image ? in->d[1] : 1,
        .input_w = image ? in->d[2] : in->d[0],
        .sample_passes = pl->g->ar_logits >= 0 ? (uint32_t)dims_count(in) + 1 : 0,
        .input_levels = spec->vocab ? spec->vocab : spec->levels,
        .input_vocab = spec->vocab,
    };
}

/* A cursor over the block; base NULL while only counting. */
typedef struct carver {
    char *base;
    size_t at;
    bool bad; /* the block's size overflows, or the plan has no C tables */
} carver;

/* count elements of size bytes at the next multiple of align; NULL while
 * counting or once bad */
static void *carve(carver *c, size_t count, size_t size, size_t align)
{
    size_t pad = (align - c->at % align) % align;
    if (c->bad || pad > SIZE_MAX - c->at || (size && count > (SIZE_MAX - c->at - pad) / size)) {
        c->bad = true;
        return NULL;
    }
    c->at += pad;
    void *p = c->base ? c->base + c->at : NULL;
    c->at += count * size;
    return p;
}

#define CARVE(c, type, count) ((type *)carve((c), (count), sizeof(type), _Alignof(type)))

/* len bytes of s and a NUL */
static const char *copy_bytes(carver *c, const char *s, size_t len)
{
    if (len == SIZE_MAX) {
        c->bad = true;
        return NULL;
    }
    char *p = carve(c, len + 1, 1, 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

static const char *copy_string(carver *c, const char *s)
{
    return copy_bytes(c, s, strlen(s));
}

/* A step as emit_c writes it: op, n_tensors, the bound tensors, the
 * parameters (floats equal to zero left out, so +0) and the barrier. */
static vkvae_step_desc emitted_step(const vkvae_step_desc *st)
{
    vkvae_step_desc e = { .op = st->op, .n_tensors = st->n_tensors, .p = st->p,
                          .barrier = st->barrier };
    memcpy(e.tensors, st->tensors, st->n_tensors * sizeof *st->tensors);
    float *const floats[] = { &e.p.alpha, &e.p.lr, &e.p.beta1, &e.p.beta2, &e.p.eps,
                              &e.p.weight_decay, &e.p.momentum };
    for (size_t i = 0; i < sizeof floats / sizeof *floats; i++)
        if (*floats[i] == 0)
            *floats[i] = 0;
    return e;
}

/* The one walk: carves every table and string from c and, when c has a
 * block, fills them; returns the plan at the block's start (NULL while
 * counting). */
static vkvae_plan *lay_out(carver *c, const gen_plan *pl, const char *spec_text, size_t spec_size)
{
    if (pl->nb > UINT32_MAX || pl->nt > UINT32_MAX || pl->n_prog < 0 ||
        pl->n_prog > VKVAE_PROGRAM_COUNT)
        c->bad = true;
    size_t n_prog = pl->n_prog > 0 ? (size_t)pl->n_prog : 0;
    vkvae_plan *plan = CARVE(c, vkvae_plan, 1);
    vkvae_buffer_desc *buf = CARVE(c, vkvae_buffer_desc, pl->nb);
    vkvae_tensor_desc *t = CARVE(c, vkvae_tensor_desc, pl->nt);
    vkvae_program_desc *prog = CARVE(c, vkvae_program_desc, n_prog);
    vkvae_step_desc *steps[VKVAE_PROGRAM_COUNT] = { 0 };
    for (size_t p = 0; p < n_prog && !c->bad; p++)
        steps[p] = CARVE(c, vkvae_step_desc, pl->prog[p].n);

    const char *model = copy_string(c, pl->model);
    const char *spec = copy_bytes(c, spec_text, spec_size);
    for (size_t i = 0; i < pl->nb; i++) {
        const char *name = copy_string(c, pl->buf[i].name);
        if (buf)
            buf[i] = (vkvae_buffer_desc){ .name = name, .role = pl->buf[i].role,
                                          .bytes = pl->buf[i].bytes };
    }
    for (size_t i = 0; i < pl->nt; i++) {
        const char *name = copy_string(c, pl->t[i].name);
        const vkvae_tensor_desc *g = &pl->t[i];
        if (t)
            t[i] = (vkvae_tensor_desc){ .name = name, .buffer = g->buffer, .offset = g->offset,
                                        .elems = g->elems, .rank = g->rank,
                                        .shape = { g->shape[0], g->shape[1], g->shape[2],
                                                   g->shape[3] } };
    }
    for (size_t p = 0; p < n_prog && !c->bad; p++) {
        const gen_program *pr = &pl->prog[p];
        const char *name = copy_string(c, pr->name);
        if (pr->n > UINT32_MAX)
            c->bad = true;
        for (size_t i = 0; i < pr->n && !c->bad; i++) {
            if (pr->steps[i].n_tensors > VKVAE_MAX_BINDINGS)
                c->bad = true;
            else if (steps[p])
                steps[p][i] = emitted_step(&pr->steps[i]);
        }
        if (prog)
            prog[p] = (vkvae_program_desc){ .kind = pr->kind, .name = name,
                                            .n_steps = (uint32_t)pr->n, .steps = steps[p] };
    }
    if (!plan || c->bad)
        return NULL;

    gen_plan_settings set = plan_settings(pl);
    *plan = (vkvae_plan){
        .model = model,
        .spec_text = spec,
        .batch = pl->batch,
        .n_buffers = (uint32_t)pl->nb,
        .n_tensors = (uint32_t)pl->nt,
        .n_kernels = 0,
        .n_programs = (uint32_t)n_prog,
        .buffers = buf,
        .tensors = t,
        .kernels = NULL,
        .programs = prog,
        .epochs = set.epochs,
        .seed = set.seed,
        .init = set.init,
        .kl_beta = (float)set.kl_beta,
        .kl_warmup_epochs = set.kl_warmup_epochs,
        .kl_anneal_k = (float)set.kl_anneal_k,
        .kl_anneal_x0 = (float)set.kl_anneal_x0,
        .classes = set.classes,
        .input_c = set.input_c,
        .input_h = set.input_h,
        .input_w = set.input_w,
        .sample_passes = set.sample_passes,
        .input_levels = set.input_levels,
        .input_vocab = set.input_vocab,
        .n_params = pl->n_params,
        .step_flops = pl->step_flops,
    };
    return plan;
}

vkvae_plan *gen_plan_materialize(const gen_plan *pl, const char *spec_text, size_t spec_size)
{
    carver c = { 0 };
    lay_out(&c, pl, spec_text, spec_size);
    if (c.bad)
        return NULL;
    size_t size = c.at;
    c = (carver){ .base = malloc(size) };
    if (!c.base)
        return NULL;
    vkvae_plan *plan = lay_out(&c, pl, spec_text, spec_size);
    if (!plan || c.at != size) {
        free(c.base);
        return NULL;
    }
    return plan;
}

void gen_plan_materialize_free(vkvae_plan *plan)
{
    free(plan);
}
