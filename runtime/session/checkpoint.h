/* Checkpoints: a plan's parameters, its optimizer state and the training
 * position in one safetensors file (io/safetensors.h), backend-agnostic:
 * the caller reaches its tensors through read and write callbacks, so the
 * CPU backend and the GPU path share this code.
 *
 * What a checkpoint of plan P holds (format "vkvae-1"):
 *   - Every parameter of P, as F32 with the plan's shape and name, so that
 *     `safetensors.torch.load_file` + `load_state_dict` fill the equivalent
 *     nn.Module (dense weights are [out,in], as nn.Linear's; drop the
 *     "optim." keys first, or pass strict=False, or export the weights
 *     alone: vkvae_checkpoint_export). A parameter is
 *     a named tensor of a PARAM-role buffer that contains no smaller tensor
 *     of that buffer: a view such as "params.all" spanning several
 *     parameters (what the optimizer step binds) is not one. Parameters that
 *     overlap, or a layer parameter (init.h: "*.weight", "*.bias") that
 *     contains another tensor, make the plan unusable for checkpoints.
 *   - The optimizer state of every parameter that an optimizer step of the
 *     TRAIN program updates: "optim.m.<name>" and "optim.v.<name>" (Adam
 *     and AdamW: binding 2 and 3 of the step), "optim.momentum.<name>" (SGD
 *     with momentum > 0: binding 2). The state tensors mirror the layout of
 *     the parameter tensor the step binds (binding 0): a parameter at byte
 *     d past the start of binding 0 has its state at byte d past the start
 *     of the state tensor, with the parameter's elements and shape. In the
 *     tiny test plan Adam binds params.all (params bytes 0..1024), adam.m
 *     (adam bytes 0..1024) and adam.v (adam bytes 1024..2048), so dec.bias
 *     at params byte 768 has its m at adam byte 768, its v at 1792.
 *   - Metadata: "format" "vkvae-1", "model" plan->model, "spec" the spec
 *     text (absent when plan->spec_text is NULL), "epoch", "epoch_step"
 *     (when not 0), "step", "seed" (decimal), "optimizer" ("adam", "adamw", "sgd" or "none"), "data_crc32"
 *     (zlib's CRC-32 of the data section, 8 hex digits: safetensors has no
 *     checksum, and a flipped byte would otherwise load as a weight), then
 *     the caller's own keys.
 * A weights-only checkpoint (state->weights_only, vkvae export) holds the
 * parameters and that metadata with "optimizer" "none": it loads for
 * inference (with_optimizer 0), not to resume training.
 *
 * Loading is strict and all-or-nothing: the whole file is checked (format,
 * the checksum when the file has one (a file from elsewhere may not),
 * model, every expected tensor present with dtype F32, the plan's shape and
 * finite values, no tensor the plan lacks, the optimizer's name when its
 * state is loaded) before the first write callback, so a rejected file
 * leaves the caller's tensors untouched. Every message is one line naming
 * the file, e.g.
 *   "fc1.weight has shape [400,784] in the plan, [400,700] in run.st".
 * A spec text that differs from the plan's is not an error as long as every
 * tensor matches (hyperparameters may have changed); state->spec_differs
 * tells the caller so it can say so.
 *
 * Resuming: with the optimizer state and state->step, the next training
 * step computes exactly what it would have without the save and load (the
 * tests check this bit for bit on the CPU backend). Loss accumulators are
 * not saved: a run resumed mid-epoch reports that epoch's loss over the
 * steps after the resume only.
 */
#ifndef VKVAE_CHECKPOINT_H
#define VKVAE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "io/safetensors.h"
#include "plan/plan.h"

#define VKVAE_CHECKPOINT_FORMAT "vkvae-1"

/* Reads all elems of plan tensor `tensor` into dst[0 .. elems) as float. */
typedef vkvae_status (*vkvae_tensor_read_fn)(void *user, uint32_t tensor, float *dst,
                                             vkvae_error *err);
/* Writes src[0 .. elems) into all of plan tensor `tensor`. */
typedef vkvae_status (*vkvae_tensor_write_fn)(void *user, uint32_t tensor, const float *src,
                                              vkvae_error *err);

typedef struct vkvae_train_state {
    uint32_t epoch;     /* epochs completed: the next epoch to run */
    uint32_t epoch_step;/* batches of that next epoch already done (a run stopped part way);
                           saved as "epoch_step" when not 0, absent reads as 0 */
    uint64_t step;      /* optimizer steps taken: the next vkvae_push.step */
    uint32_t seed;      /* the training seed (Philox key) */
    int spec_differs;   /* load: 1 if the file's and the plan's spec texts are
                           both present and differ; save: ignored */
    int weights_only;   /* save: 1 writes the parameters alone, no optimizer
                           state ("optimizer" "none"); load: 0 */
    const vkvae_st_meta *meta; /* save: extra metadata, none of the reserved
                                  keys above (default none); load: NULL */
    size_t meta_count;
} vkvae_train_state;

/* Writes the checkpoint of plan to path, atomically (the old file stays
 * whole on any failure). read is called once for each parameter and, unless
 * state->weights_only, each optimizer state tensor (e.g. adam.m: whole,
 * then cut). state NULL saves zeros. Refuses (DIVERGED) to save a NaN or
 * Inf, which no load would accept. */
vkvae_status vkvae_checkpoint_save(const char *path, const vkvae_plan *plan,
                                   vkvae_tensor_read_fn read, void *user,
                                   const vkvae_train_state *state, vkvae_error *err);

/* Loads the checkpoint at path into plan's tensors through write: every
 * parameter, and with with_optimizer != 0 the optimizer state too (each
 * state tensor written whole, zeros between the parameters' slices, as a
 * run leaves them); without it the optimizer tensors are neither checked
 * nor written. Fills *state_out (if not NULL) on success. BAD_INPUT with
 * the reason for a file that is not a checkpoint of this plan, IO for one
 * that cannot be read; nothing is written then. A failing write callback
 * stops the load with its status, after earlier writes. */
vkvae_status vkvae_checkpoint_load(const char *path, const vkvae_plan *plan,
                                   vkvae_tensor_write_fn write, void *user,
                                   vkvae_train_state *state_out, int with_optimizer,
                                   vkvae_error *err);

/* Writes the weights of the checkpoint at src, a checkpoint of plan, to dst:
 * src is loaded strictly (without its optimizer state) and saved
 * weights_only with its epoch, step and seed, so every parameter keeps its
 * name, shape and bytes and PyTorch's strict load_state_dict takes dst.
 * Atomic, as save; on any error dst is untouched. The caller's own metadata
 * keys of src are not carried. */
vkvae_status vkvae_checkpoint_export(const char *src, const char *dst, const vkvae_plan *plan,
                                     vkvae_error *err);

/* ---- checkpoint_plan.c ---- */
/* The plan the checkpoint at path runs on: this build's model of the name
 * its metadata gives (copied into name, size bytes) when that model has the
 * very spec the checkpoint carries, or it carries none; else the carried
 * spec, or spec when not NULL, compiled (*owned; free it with
 * vkvae_spec_plan_free), which must be of the same model. A malformed spec:
 * BAD_INPUT with its first diagnostic, all of them in *diagnostics when not
 * NULL (free() it). No such model and no spec: BAD_INPUT. */
vkvae_status vkvae_checkpoint_plan(const char *path, const char *spec, char *name, size_t size,
                                   const vkvae_plan **plan, vkvae_plan **owned,
                                   char **diagnostics, vkvae_error *err);

#endif
