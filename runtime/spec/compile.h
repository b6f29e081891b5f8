/* A spec compiled when it is loaded: the generator (gen/, the same code
 * vkvae-gen runs at build time for the built-in models) inside libvkvae, so
 * a user's own spec, or the spec a checkpoint carries, runs without a
 * rebuild. No GLSL is compiled: every op's SPIR-V is already built, and a
 * plan only specialises it.
 */
#ifndef VKVAE_SPEC_COMPILE_H
#define VKVAE_SPEC_COMPILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "plan/plan.h"

typedef struct vkvae_spec_desc {
    const char *path;   /* names the spec in diagnostics (default "<spec>") */
    const char *text;   /* the spec's text */
    size_t size;        /* its bytes (default strlen(text)) */
    uint32_t batch;     /* rows per step (default the spec's `train ... batch`) */
    uint32_t data_rows; /* rows of the on-device data set (default 60000) */
    FILE *explain;      /* gets the forward graph, parameters, FLOPs and the plan step by
                           step, as vkvae-gen --explain prints them; NULL: nothing */
} vkvae_spec_desc;

/* Compiles desc's spec into a plan (*out; free it with vkvae_spec_plan_free)
 * that equals what vkvae-gen would build into the library. A malformed spec:
 * BAD_INPUT, and *diagnostics (when diagnostics is not NULL; free() it)
 * holds every diagnostic as vkvae-gen prints them (path:line:col: error:
 * message, the source line, a caret; then the count), err the first
 * (what has no lowering yet is such an error too). Should a spec that
 * checks fail to lower all the same (an internal error): UNSUPPORTED with
 * the reason. Compiling touches no device and writes nothing. */
vkvae_status vkvae_spec_compile(const vkvae_spec_desc *desc, vkvae_plan **out, char **diagnostics,
                                vkvae_error *err);
void vkvae_spec_plan_free(vkvae_plan *plan); /* NULL is fine */

/* Rows of the data set a plan holds on the device (its train.images
 * tensor's first dimension). */
uint32_t vkvae_plan_data_rows(const vkvae_plan *plan);

/* The plan made for batch rows per step and data_rows rows of data set
 * (either 0: plan's own): plan itself when it has them, else its spec text
 * compiled for them (*owned, also in *out; free it with
 * vkvae_spec_plan_free; NULL when plan was fit). Plans are sized at compile
 * time, so this is how a data set of any size, or any batch, gets its plan;
 * compiling costs well under a millisecond. */
vkvae_status vkvae_spec_plan_for(const vkvae_plan *plan, uint32_t batch, uint32_t data_rows,
                                 const vkvae_plan **out, vkvae_plan **owned, vkvae_error *err);

#endif
