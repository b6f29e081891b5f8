/* A session: one model's plan running on one backend (a Vulkan device or
 * the CPU), with what training and sampling need around the plan: the data
 * set in the plan's tensors, parameter initialisation, the per-epoch shuffle,
 * loss readback and the per-epoch schedule of run-time values. The
 * command line and the C API drive models through it; tests compare its two
 * backends.
 */
#ifndef VKVAE_SESSION_H
#define VKVAE_SESSION_H

#include <stdint.h>

#include "io/idx.h"
#include "plan/plan.h"
#include "plan/query.h"
#include "group.h"
#include "vulkan/context.h"

typedef struct vkvae_session vkvae_session;

typedef struct vkvae_session_desc {
    const vkvae_plan *plan;
    vkvae_context *ctx;      /* NULL: the CPU backend (float) */
    float lr;                /* 0: the spec's learning rate */
    double submit_ms;        /* GPU time per submission; 0: 50 ms */
    /* Data parallel: this process's group (NULL: trains alone) and the
     * global batch the group's members share, each its slice (the plan's
     * batch holds the largest slice); 0: the plan's batch. Passes (train
     * epochs, evaluation) run per global batch, so the steps, the draws and
     * a checkpoint's place in an epoch are those of one process at that
     * batch whatever the group's size. */
    const vkvae_group *group;
    uint32_t global_batch;
} vkvae_session_desc;

enum { VKVAE_MAX_TERMS = 8 };

/* Loss sums over the rows seen: reconstruction, KL, total (reconstruction
 * plus the weighted KL), and the number of rows. A model of several
 * networks (a GAN) has named loss terms instead, one sum each; its total
 * is their sum, in recon. */
typedef struct vkvae_losses {
    double recon, kl, total, rows;
    double term[VKVAE_MAX_TERMS];
    uint32_t n_terms;
} vkvae_losses;

/* Progress of an epoch, called after each completed submission; non-zero
 * stops the epoch there (CANCELLED). */
typedef int (*vkvae_progress_fn)(void *user, uint32_t steps_done, uint32_t steps,
                                 const vkvae_losses *so_far);

vkvae_status vkvae_session_create(const vkvae_session_desc *desc, vkvae_session **out,
                                  vkvae_error *err);
/* In a group: the seconds this member has spent summing gradients across
 * it (the wait for the slowest member included), since it was created. */
double vkvae_session_reduce_seconds(const vkvae_session *s);
void vkvae_session_destroy(vkvae_session *s);

const vkvae_plan *vkvae_session_plan(const vkvae_session *s);
/* Values per example the model reads (C*H*W) and its latent size. */
uint32_t vkvae_session_features(const vkvae_session *s);
uint32_t vkvae_session_latent(const vkvae_session *s);
/* The plan's loss terms (the tensors "loss.<term>" beside loss.acc): how
 * many, and term i's name; 0 for the one-network models. */
uint32_t vkvae_session_terms(const vkvae_session *s);
const char *vkvae_session_term_name(const vkvae_session *s, uint32_t i);

/* A codebook latent's usage over the last pass (a training epoch, or an
 * evaluation): the positions counted, the perplexity of the codes they
 * chose (the exponential of their entropy: `codes` when all are used
 * alike, 1 when one is) and the dead codes (chosen by none). */
typedef struct vkvae_codebook_usage {
    double positions, perplexity;
    uint32_t dead, codes;
} vkvae_codebook_usage;
/* The plan's codebook calls (the tensors "usage.<call>"), call i's name. */
uint32_t vkvae_session_codebooks(const vkvae_session *s);
const char *vkvae_session_codebook_name(const vkvae_session *s, uint32_t i);
vkvae_status vkvae_session_codebook_usage(vkvae_session *s, uint32_t i,
                                          vkvae_codebook_usage *out, vkvae_error *err);

/* A VQ-VAE's code grid: `codes` (K) to choose from, each of `dim` values,
 * at height x width positions an item; all 0 when the model has none. */
typedef struct vkvae_code_grid {
    uint32_t codes, dim, height, width;
} vkvae_code_grid;
vkvae_code_grid vkvae_session_code_grid(const vkvae_session *s);
/* n items (features floats each) to their codes' indices, height * width
 * an item in raster order: the encode program's nearest codes. */
vkvae_status vkvae_session_encode_codes(vkvae_session *s, const float *x, uint32_t n,
                                        uint32_t *codes, vkvae_error *err);
/* n code grids to images (features floats each): the codes' values are
 * decoded as z_e. A code out of range is an error. */
vkvae_status vkvae_session_decode_codes(vkvae_session *s, const uint32_t *codes, uint32_t n,
                                        float *images, vkvae_error *err);

/* Every layer initialised as the plan's init kind says (plan/init.h:
 * PyTorch's default, xavier_uniform or kaiming_normal), drawn from seed on
 * the host: the same values on either backend. */
vkvae_status vkvae_session_init_params(vkvae_session *s, uint32_t seed, vkvae_error *err);

/* Puts a data set in the plan's DATA tensors for training (labels may be
 * NULL when the model has no condition). Checks the image size against the
 * model's input. */
vkvae_status vkvae_session_set_train_data(vkvae_session *s, const vkvae_idx *images,
                                          const vkvae_idx *labels, vkvae_error *err);

/* The KL term's weight in epoch (counted from 0): the spec's beta, ramped
 * up linearly over its warm-up epochs. */
float vkvae_plan_kl_weight(const vkvae_plan *plan, uint32_t epoch);

/* A set larger than the DATA tensors' rows streams through them in chunks
 * of whole batches: two slots of this many rows where rows holds two
 * batches (*slots = 2: one chunk trains while the next is copied in), else
 * one of as many whole batches as fit (*slots = 1); 0 when not even one
 * batch fits. */
uint32_t vkvae_stream_chunk(uint32_t rows, uint32_t batch, uint32_t *slots);

/* One epoch over the training set: Philox shuffle keyed by (seed, epoch),
 * then one train step per batch (the last one short, not dropped), from
 * batch done on (the batches before it ran before a checkpoint); *step is
 * the global step counter, advanced by the steps run. kl_weight is the KL
 * term's weight for this epoch (beta times the warm-up factor). A progress
 * that asks to stop ends the epoch early: CANCELLED, with *step and *out
 * (the losses so far) as far as it got. */
vkvae_status vkvae_session_train_epoch(vkvae_session *s, uint32_t seed, uint32_t epoch,
                                       uint32_t done, uint32_t *step, float kl_weight,
                                       vkvae_progress_fn progress, void *user,
                                       vkvae_losses *out, vkvae_error *err);

/* The negative ELBO terms over a data set (the eval program; ε drawn with
 * seed at steps from 2^31, which training never reaches, so the figure is
 * reproducible). The training set is put back afterwards. */
vkvae_status vkvae_session_evaluate(vkvae_session *s, const vkvae_idx *images,
                                    const vkvae_idx *labels, uint32_t seed, float kl_weight,
                                    vkvae_losses *out, vkvae_error *err);

/* A text model's decode and sample draw each token from softmax(logits /
 * temperature): 1 (the default) the model's own distribution, below 1
 * sharper, 0 the most likely token (greedy). BAD_INPUT outside 0..100. */
vkvae_status vkvae_session_set_temperature(vkvae_session *s, float temperature,
                                           vkvae_error *err);

/* Draws n images from the prior and decodes them (the Bernoulli mean, or
 * the Gaussian mean): out holds n * features floats in [0, 1]. label is the
 * class of a conditional model (ignored otherwise). */
vkvae_status vkvae_session_sample(vkvae_session *s, uint32_t seed, uint32_t n, uint32_t label,
                                  float *out, vkvae_error *err);

/* Encodes n images (n * features floats in [0, 1]) into their codes:
 * mu (and logvar, for a Gaussian latent; may be NULL) hold n * latent
 * floats. labels (class indices, NULL for unconditional models) give the
 * condition. Runs in batches of the plan's batch size. */
vkvae_status vkvae_session_encode(vkvae_session *s, const float *x, const uint32_t *labels,
                                  uint32_t n, float *mu, float *logvar, vkvae_error *err);
/* Decodes n codes (n * latent floats) into the likelihood's mean images. */
vkvae_status vkvae_session_decode(vkvae_session *s, const float *z, const uint32_t *labels,
                                  uint32_t n, float *mean, vkvae_error *err);
/* Whether decode and sample read images besides the code: a condition
 * computed from an image (a VU-Net's shape, an 'edges' network's map, with
 * a prior learned from it). Such a model decodes and samples through the
 * _on_images calls, n images (n * features floats) a row; the plain calls
 * refuse it, as these refuse a model that reads none. */
int vkvae_session_decodes_on_images(const vkvae_session *s);
/* Decodes code i with the condition of image i (a VU-Net: appearance i
 * rendered in image i's shape). */
vkvae_status vkvae_session_decode_on_images(vkvae_session *s, const float *z,
                                            const uint32_t *labels, const float *images,
                                            uint32_t n, float *mean, vkvae_error *err);
/* Draws code i from the prior learned from image i's condition, decoded
 * with it. */
vkvae_status vkvae_session_sample_on_images(vkvae_session *s, uint32_t seed, uint32_t n,
                                            uint32_t label, const float *images, float *out,
                                            vkvae_error *err);
/* Progress of a call over items: done of total finished. */
typedef void (*vkvae_items_progress_fn)(void *user, uint32_t done, uint32_t total);

/* The importance-weighted estimate of log p(x) (Burda et al. 2016) for n
 * items (n * features floats in [0, 1]; labels as encode's): for each,
 * log p(x) ~ logmeanexp over k draws z_s ~ q(z|x) of
 * log p(x|z_s) + log p(z_s) - log q(z_s|x), in nats, into log_px[n]. The
 * plan's iwae program gives the log weights of a chunk of samples for a
 * few items per run, each run with fresh draws (seed, at steps training and
 * evaluation never reach); chunks combine in double, so any k fits the
 * plan's memory. progress (may be NULL) follows the items. UNSUPPORTED for
 * a model without the program (an autoencoder has no likelihood). */
vkvae_status vkvae_session_log_likelihood(vkvae_session *s, const float *x,
                                          const uint32_t *labels, uint32_t n, uint32_t k,
                                          uint32_t seed, vkvae_items_progress_fn progress,
                                          void *user, double *log_px, vkvae_error *err);
/* The classes of a conditional model's label (the one-hot width), 0 for a
 * model without a condition. */
uint32_t vkvae_session_classes(const vkvae_session *s);
/* The plan on the device (NULL on the CPU backend), for recording its
 * programs into other command buffers (api/record.c). */
struct vkvae_gpu_plan *vkvae_session_gpu(const vkvae_session *s);

/* fp32 tensor copies to and from the backend (checkpoints use these). */
vkvae_status vkvae_session_read(vkvae_session *s, uint32_t tensor, float *dst, vkvae_error *err);
vkvae_status vkvae_session_write(vkvae_session *s, uint32_t tensor, const float *src,
                                 vkvae_error *err);
/* 1 if every parameter is finite; else 0 and the first bad tensor's name. */
int vkvae_session_params_finite(vkvae_session *s, const char **bad, vkvae_error *err);

#endif
