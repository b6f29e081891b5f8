/* The vkvae command line's shared pieces: each subcommand lives in its own
 * file and returns the process exit status (docs/errors.md). */
#ifndef VKVAE_CLI_H
#define VKVAE_CLI_H

#include "plan/plan.h"
#include "session/session.h"
#include "vkvae.h"

/* Seconds on the monotonic clock, for rates and ETAs. */
double cli_now_s(void);

/* Prints "vkvae: error: <message>" and returns the status's exit code. */
int cli_fail(vkvae_status s, const char *fmt, ...) VKVAE_PRINTF(2, 3);

/* Parses a whole unsigned or float flag value; 0 on success. */
int cli_parse_u32(const char *flag, const char *text, uint32_t *out);
int cli_parse_float(const char *flag, const char *text, float *out);

/* Parses --precision's value: fp32 or fp16; 0 on success. */
int cli_parse_precision(const char *flag, const char *text, vkvae_precision *out);
/* The Vulkan context of --device D (else $VKVAE_DEVICE) and --precision P,
 * or none (*out NULL) for D = 'cpu', the CPU backend, which is fp32 only.
 * With neither set, the CPU backend too where every Vulkan device is a CPU
 * driver (said in one line); bench, which times Vulkan kernels, keeps the
 * device. Non-zero: the exit status, the error printed (cmd names the
 * command in its own errors). */
int cli_context(const char *cmd, const char *device, vkvae_precision precision,
                vkvae_context **out);

/* The data-parallel group of a run that mpirun launched (cli/group.c): *out
 * NULL when started on its own. Non-zero: the exit status, printed (a
 * launched run on a build without MPI). cli_group_leave(status) ends the
 * member's part: a failure aborts the whole job, so no member waits for
 * it; it returns status. */
int cli_group_join(int *argc, char ***argv, const vkvae_group **out);
uint32_t cli_group_local_rank(void);
int cli_group_leave(int status);

/* A model name or spec path (compiled at run time) as a plan, for batch
 * rows (0: the spec's); non-zero: the exit status, the error or the spec's
 * diagnostics already printed. */
int cli_model(const char *arg, uint32_t batch, const vkvae_plan **out);
/* The spec file at path compiled for batch rows (0: the spec's) and
 * dropped, explain getting vkvae-gen --explain's text (NULL: none); 0 when
 * it compiles, else the exit status with the diagnostics printed. */
int cli_spec_check(const char *path, uint32_t batch, FILE *explain);
/* Frees a plan cli_model or cli_model_open compiled (a built-in: nothing). */
void cli_model_free(const vkvae_plan *plan);
/* *plan replaced by the plan made for batch rows per step and data_rows
 * rows of data set (either 0: as it is; vkvae_spec_plan_for), the old one
 * freed when it was compiled; non-zero: the exit status, the error printed
 * and *plan unchanged. */
int cli_model_fit(const vkvae_plan **plan, uint32_t batch, uint32_t data_rows);

/* The plan the checkpoint at ckpt runs on (vkvae_checkpoint_plan); free it
 * with cli_model_free. Non-zero: the exit status, the error or the carried
 * spec's diagnostics printed. */
int cli_checkpoint_plan(const char *ckpt, const vkvae_plan **out);

/* The data set of --data and its options (options.h) for the model of
 * plan (its input's size, its classes: labels required and checked below
 * them), with a progress bar while images decode and a line saying what
 * was loaded; class_names (may be NULL) gets an image folder's class names,
 * one per line (free() it; NULL for other sources). Non-zero: the exit
 * status, the error printed. */
struct cli_data_opts;
int cli_data_load(const struct cli_data_opts *d, const vkvae_plan *plan, vkvae_idx_dataset *out,
                  char **class_names);

/* Non-zero (the exit status, the error printed, ds freed) when a byte of
 * ds is not one of the levels the plan's input declares ('levels L'). */
int cli_check_levels(vkvae_idx_dataset *ds, const vkvae_plan *plan);
/* What a data byte is divided by to give the model's input: 255 for grey
 * levels, L - 1 for an input of 'levels L' (plan.input_levels). */
float cli_byte_scale(const vkvae_plan *plan);

/* A trained model opened from a checkpoint (cli/model.c). */
typedef struct cli_model_handle {
    const vkvae_plan *plan;
    vkvae_context *ctx;       /* NULL on the CPU backend */
    vkvae_session *session;
    uint32_t seed;            /* the training seed */
} cli_model_handle;
/* data_rows: the most images the command puts in the plan's data set (eval's
 * test set); 0: none (the inference programs read no data set). */
int cli_model_open(const char *cmd, const char *ckpt, uint32_t data_rows, const char *device,
                   vkvae_precision precision, cli_model_handle *out);
/* Closes it; non-zero (the exit status) if validation reported messages. */
int cli_model_close(cli_model_handle *m);

/* ---- two stages: a prior over a VQ-VAE's codes (cli/codes.c) ---- */
/* The checkpoint metadata key naming the VQ-VAE checkpoint a prior was
 * trained on (its absolute path). */
#define CLI_CODES_KEY "codes_from"
/* The VQ-VAE checkpoint vq_ckpt opened, checked to make the codes prior's
 * input (1 x H x W of K levels); non-zero: the exit status, error printed. */
int cli_codes_open(const char *cmd, const char *vq_ckpt, const char *device, vkvae_precision precision,
                   const vkvae_plan *prior, cli_model_handle *vq);
/* The images of data (the VQ-VAE's input; the first limit and test_limit
 * of them where those are not 0) encoded to codes on vq's device, with
 * progress: a data set of code grids, labels kept. */
int cli_codes_dataset(cli_model_handle *vq, const struct cli_data_opts *data, uint32_t limit,
                      uint32_t test_limit, vkvae_idx_dataset *out);
/* n code grids drawn from prior, decoded by vq into *images (malloc'd,
 * vq's features each). */
vkvae_status cli_codes_sample(vkvae_session *prior, vkvae_session *vq, uint32_t seed, uint32_t n,
                              float **images, vkvae_error *err);
/* The VQ-VAE checkpoint the prior checkpoint was trained on, "" if none;
 * non-zero: the exit status (an unreadable file). */
int cli_codes_source(const char *prior_ckpt, char *path, size_t size);

/* ---- text: a sequence model's data and samples (cli/text.c) ---- */
/* The checkpoint metadata key of a text model's vocabulary
 * (vkvae_vocab_serialize's string). */
#define CLI_VOCAB_KEY "vocab"
struct vkvae_vocab;
/* d's text file (--tokens, --long, --val-split as its test share) as the
 * images of one row of plan->input_w token bytes; the vocabulary is built
 * from the training lines (max plan->input_vocab ids), or read from the
 * checkpoint vocab_ckpt when not NULL; *vocab_text (when vocab_text is not
 * NULL) its serialised string to keep, free() it. Non-zero: the exit status. */
int cli_text_data(const struct cli_data_opts *d, const vkvae_plan *plan, const char *vocab_ckpt,
                  vkvae_idx_dataset *out, char **vocab_text);
/* The vocabulary kept in a text model's checkpoint; free with
 * vkvae_vocab_destroy. Non-zero: the exit status. */
int cli_text_vocab(const char *ckpt, struct vkvae_vocab *out);
/* lines (a line a sequence, "\n" between) as sequences of plan's steps
 * with vocabulary v, each cut to fit, named name in errors; out as
 * cli_text_data's images. Non-zero: the exit status. */
int cli_text_lines(const char *name, const char *lines, const struct vkvae_vocab *v,
                   const vkvae_plan *plan, vkvae_idx *out);
/* The token id of a level k/(vocab-1) as the programs write them. */
uint32_t cli_text_id(float level, uint32_t vocab);
/* A row of steps levels as text in buf (size bytes, NUL-terminated, cut to
 * fit); its length. */
size_t cli_text_row(const struct vkvae_vocab *v, const float *levels, uint32_t steps,
                    uint32_t vocab, char *buf, size_t size);
/* n rows of steps levels as lines of text, into path (atomically) or to
 * stdout when path is NULL. Non-zero: the exit status. */
int cli_text_write(const char *path, const struct vkvae_vocab *v, const float *levels,
                   uint32_t n, uint32_t steps, uint32_t vocab);

/* Semi-supervised training (cli/labels.c): whether the plan weighs class
 * copies of unlabelled rows ('unlabelled' on its condition line), and
 * --keep-labels N: keep N labels of d's training set (balanced, by seed; their
 * indices written to indices_path, unless NULL), the rest unlabelled (255), the
 * labelled rows repeated to about half of the set. Non-zero: the exit
 * status, the error printed. */
int cli_keep_labels(vkvae_idx_dataset *d, uint32_t n, uint32_t classes, uint32_t seed,
                    const char *indices_path);

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_traverse(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_transfer(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_selftest(int argc, char **argv);

/* $XDG_CACHE_HOME/vkvae/NAME, else ~/.cache/vkvae/NAME (the pipeline cache's
 * folder); non-zero when neither variable is set or the path is too long. */
int cli_cache_path(const char *name, char *out, size_t size);

/* Warns in one line when the last `vkvae selftest` of device d (this
 * driver version) found wrong results, naming the ops; returns 1 then. */
int cli_selftest_warning(const vkvae_device_info *d);

/* The learning curve of metrics_path (vkvae train's metrics.csv) drawn as a
 * width x height PNG at png_path (cli/plot.c); train and plot share it. */
enum { CLI_PLOT_WIDTH = 640, CLI_PLOT_HEIGHT = 480 };
vkvae_status cli_plot_metrics(const char *metrics_path, const char *png_path, uint32_t width,
                              uint32_t height, vkvae_error *err);

#endif
