/* A compiled plan in memory: the vkvae_plan emit_c.c would write as C, built
 * at run time instead, so a user's own spec runs without a build step.
 *
 * gen_plan_materialize copies every table out of the generator's memory
 * into one malloc'd block the caller owns: it stays valid after the
 * generator's memory is released (the compile's arena, gen/mem.c), and gen_plan_materialize_free releases it. The values
 * are exactly the ones emit_c writes, table by table and field by field, so
 * a built-in model compiled at run time equals its build-time plan
 * (tests/gen/test_runtime_plan.c checks every one).
 */
#ifndef VKVAE_GEN_MATERIALIZE_H
#define VKVAE_GEN_MATERIALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "gen.h"

/* The spec's training settings a plan carries (vkvae_plan's fields of the
 * same names), as emit_c writes them; kl_beta is the spec's double, which
 * the plan holds as a float. */
typedef struct gen_plan_settings {
    uint32_t epochs, seed;
    uint32_t init;              /* vkvae_init_kind: the spec's gen_init */
    double kl_beta;             /* elbo: beta; iwae: 1; an autoencoder: 0 */
    uint32_t kl_warmup_epochs;  /* elbo only */
    double kl_anneal_k, kl_anneal_x0; /* 'anneal logistic K X0'; k 0: none */
    uint32_t classes;           /* a conditional model's; else 0 */
    uint32_t input_c, input_h, input_w; /* flat inputs: c = h = 1 */
    uint32_t sample_passes;     /* a pixel model's: pixels + 1; else 0 */
    uint32_t input_levels;      /* the spec's 'levels L' or 'vocab V'; 0: grey bytes */
    uint32_t input_vocab;       /* the spec's 'vocab V'; 0: not text */
} gen_plan_settings;

gen_plan_settings plan_settings(const gen_plan *pl);

/* pl (a plan compile_plan finished) as a vkvae_plan in one heap block, with
 * spec_size bytes of spec_text (the spec it was compiled from) copied and
 * NUL-terminated as its spec_text. As emit_c writes it: no kernels, steps'
 * kernel and groups 0, binding slots past n_tensors 0, -0.0f parameters as
 * 0. NULL when out of memory, or for a plan no C table could hold (a count
 * over UINT32_MAX, a step over VKVAE_MAX_BINDINGS tensors). Nothing of pl
 * is referenced afterwards. */
vkvae_plan *gen_plan_materialize(const gen_plan *pl, const char *spec_text, size_t spec_size);
/* Frees what gen_plan_materialize returned (NULL: nothing). */
void gen_plan_materialize_free(vkvae_plan *plan);

/* ---- library.c: the whole compile in one call ---- */
typedef enum gen_compile_status {
    GEN_COMPILE_OK,
    GEN_COMPILE_BAD_SPEC,      /* diagnostics as vkvae-gen --check prints them */
    GEN_COMPILE_NOT_GENERATED, /* checks, but the lowering failed (internal): one line says */
    GEN_COMPILE_OUT_OF_MEMORY,
} gen_compile_status;

/* size bytes of spec text (path names it in diagnostics) compiled for batch
 * rows (0: the spec's) and data_rows rows of data set (0: the default) into
 * a plan the caller frees with gen_plan_materialize_free; NULL otherwise,
 * *status saying why and diag holding what vkvae-gen would print on stderr.
 * explain, when not NULL, gets what vkvae-gen --explain prints on stdout.
 * Uses an arena of its own, freed before it returns. */
vkvae_plan *gen_compile_text(const char *path, const char *text, size_t size, uint32_t batch,
                             uint32_t data_rows, FILE *diag, FILE *explain,
                             gen_compile_status *status);

#endif
