/* vkvae train: trains a built-in model on an IDX data set, on a Vulkan
 * device or the CPU, with a live progress line, per-epoch train and test
 * negative ELBO (nats per image) printed and appended to metrics.csv, a
 * checkpoint per epoch, and at the end a grid of samples and the learning
 * curve (curve.png, as vkvae plot draws it). A NaN or Inf in
 * the loss or the parameters stops training, naming the epoch and step;
 * the last good checkpoint stays.
 *
 * Launched by mpirun (`mpirun -np N vkvae train ...`), the N processes
 * train one model data parallel (session/group.h, cli/group.c): each on
 * its own device (the local rank's GPU, or --device), on its slice of
 * every global batch; rank 0 alone prints epochs and writes the output
 * folder. A checkpoint means the same whatever N: --resume works across
 * group sizes.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "cpu/fast/fast_ops.h"
#include "io/atomic.h"
#include "io/idx.h"
#include "io/png.h"
#include "io/text.h"
#include "plan/models.h"
#include "session/checkpoint.h"
#include "session/session.h"

static const char train_usage[] =
    "usage: vkvae train [MODEL | path/to/spec.vae] [options]\n"
    "\n"
    "Trains MODEL (default vae_mlp; `vkvae models` lists them) and writes, in --out:\n"
    "metrics.csv, checkpoint.safetensors (each epoch), samples.png and curve.png (the\n"
    "train and test -ELBO per epoch; vkvae plot redraws it).\n"
    "\n"
    CLI_DATA_USAGE
    "  --epochs N        epochs (default: the spec's)\n"
    "  --batch B         batch size (default: the spec's; the plan is made for it)\n"
    "  --lr X            learning rate (default: the spec's)\n"
    "  --seed S          seed of initialisation, shuffles and draws (default: the spec's)\n"
    "  --device D        Vulkan device index or name substring, or 'cpu' (default: the best\n"
    "                    GPU; the CPU backend where the only Vulkan devices are CPU drivers)\n"
    "  --precision P     fp32 (default) or fp16: the matrix products' arithmetic on a Vulkan\n"
    "                    device with fp16 (vkvae info); buffers and the optimizer stay fp32\n"
    "  --out DIR         output folder (default runs/MODEL)\n"
    "  --resume CKPT     continue from a checkpoint written by vkvae train\n"
    "  --overwrite       replace the checkpoint of an earlier run in --out (without it, or\n"
    "                    --resume, a run refuses to)\n"
    "  --limit N         train on the first N images only (quick runs and tests)\n"
    "  --test-limit N    evaluate on the first N test images only\n"
    "  --data-rows N     images the device holds at once (default: the whole set, within\n"
    "                    the device's maxStorageBufferRange); a larger set streams through\n"
    "                    in chunks, with the same result\n"
    "  --samples N       images in samples.png (default 64; 0: none)\n"
    "  --sample-every E  also samples-eNNN.png after every E-th epoch, drawn from the same\n"
    "                    points of the prior each time, to watch training progress\n"
    "  --codes VQ_CKPT   train a prior over the codes of a VQ-VAE checkpoint: --data's images\n"
    "                    are encoded to code grids on the device (the model's input is\n"
    "                    'input 1xHxW levels K'); samples are decoded by that VQ-VAE, and\n"
    "                    vkvae sample does the same with the checkpoint\n"
    "  --keep-labels N   semi-supervised (a model with 'unlabelled', as m2_mlp): keep N\n"
    "                    labels of the training set, balanced over the classes and chosen\n"
    "                    by --seed (saved to OUT/labelled.txt); the rest train unlabelled,\n"
    "                    the labelled rows repeated so that about half of each batch has one\n"
    "\n"
    "Under `mpirun -np N` the N processes train one model data parallel: each takes its\n"
    "slice of every --batch (the global batch) on its own device (the local rank's GPU in\n"
    "turn, or --device), the gradients summed before each optimizer step; rank 0 prints\n"
    "and writes --out, and a checkpoint resumes on any N.\n";

typedef struct train_opts {
    cli_data_opts data;
    const char *model, *device, *out, *resume, *codes;
    uint32_t epochs, batch, seed, limit, test_limit, samples, sample_every, data_rows, labels;
    float lr;
    vkvae_precision precision;
    int has_epochs, has_seed, has_batch, overwrite;
} train_opts;

/* ---- progress ---- */

/* Set by SIGINT or SIGTERM: the epoch stops after the submission running
 * and the run saves what it has (a second signal ends it at once). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* What a row of the data is, in the lines below: an image, or a line of text. */
static const char *row_rate(const vkvae_plan *plan)
{
    return plan->input_vocab ? "seq/s" : "img/s";
}

typedef struct progress {
    int tty, quiet;   /* quiet: a group member other than rank 0 */
    const char *rate; /* row_rate's */
    uint32_t epoch, epochs, batch, first; /* first: the epoch's steps done before this run */
    double start, last_print;
} progress;

static int on_progress(void *user, uint32_t done, uint32_t steps, const vkvae_losses *l)
{
    progress *p = user;
    double t = cli_now_s(), elapsed = t - p->start;
    if (p->quiet || (t - p->last_print < (p->tty ? 0.1 : 10.0) && done < steps))
        return stop_signal != 0;
    p->last_print = t;
    double rate = elapsed > 0 ? (done - p->first) * (double)p->batch / elapsed : 0;
    double eta = done > p->first ? elapsed * (steps - done) / (done - p->first) : 0;
    double loss = l->rows > 0 ? l->total / l->rows : 0;
    if (p->tty) {
        int width = 24, fill = (int)(width * (double)done / steps);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\repoch %u/%u [%s] %u/%u  %.0f %s  ETA %.0fs  loss %.2f   ", p->epoch,
                p->epochs, bar, done, steps, rate, p->rate, eta, loss);
        fflush(stderr);
    } else {
        fprintf(stderr, "epoch %u/%u step %u/%u %.0f %s ETA %.0fs loss %.2f\n", p->epoch,
                p->epochs, done, steps, rate, p->rate, eta, loss);
    }
    return stop_signal != 0;
}

/* ---- files ---- */

static int make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static vkvae_status session_read_cb(void *user, uint32_t tensor, float *dst, vkvae_error *err)
{
    return vkvae_session_read(user, tensor, dst, err);
}

static vkvae_status session_write_cb(void *user, uint32_t tensor, const float *src,
                                     vkvae_error *err)
{
    return vkvae_session_write(user, tensor, src, err);
}

/* The first n images of a data set (cycled) as floats, for a model that
 * samples on images' conditions; NULL for any other model. */
static float *condition_images(const vkvae_session *s, const vkvae_idx *data, uint32_t n)
{
    uint32_t features = vkvae_session_features(s);
    if (!vkvae_session_decodes_on_images(s) || !data->count)
        return NULL;
    float *f = malloc((size_t)n * features * sizeof *f), scale = cli_byte_scale(
                                                             vkvae_session_plan(s));
    for (size_t i = 0; f && i < (size_t)n * features; i++)
        f[i] = data->data[(i / features % data->count) * features + i % features] / scale;
    return f;
}

/* A text model's n samples as lines of text at path (vocab_text: its
 * vocabulary, serialised). */
static vkvae_status write_text_samples(vkvae_session *s, const char *vocab_text, const char *path,
                                       uint32_t n, uint32_t seed, vkvae_error *err)
{
    const vkvae_plan *plan = vkvae_session_plan(s);
    vkvae_vocab v;
    vkvae_status st = vkvae_vocab_parse(vocab_text, &v, err);
    float *levels = st ? NULL : malloc((size_t)n * plan->input_w * sizeof *levels);
    if (!st && !levels)
        st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!st)
        st = vkvae_session_sample(s, seed, n, 0, levels, err);
    if (!st && cli_text_write(path, &v, levels, n, plan->input_w, plan->input_vocab))
        st = vkvae_fail(err, VKVAE_IO, "%s: could not write the samples", path);
    free(levels);
    vkvae_vocab_destroy(&v);
    return st;
}

/* n samples of s, or with vq (a prior over its codes) the code grids
 * drawn from s decoded by vq, as a PNG grid at path (a text model's: lines
 * of text); a prior learned from images' conditions (a VU-Net's shapes)
 * draws on the first n of data. */
static vkvae_status write_samples(vkvae_session *s, vkvae_session *vq, const vkvae_idx *data,
                                  const char *vocab_text, const char *path, uint32_t n,
                                  uint32_t seed, vkvae_error *err)
{
    vkvae_status st;
    float *pixels = NULL;
    if (vocab_text)
        return write_text_samples(s, vocab_text, path, n, seed, err);
    if (vq) {
        st = cli_codes_sample(s, vq, seed, n, &pixels, err);
        s = vq; /* the images are its */
    } else {
        float *cond = condition_images(s, data, n);
        pixels = malloc((size_t)n * vkvae_session_features(s) * sizeof *pixels);
        st = pixels ? vkvae_session_sample_on_images(s, seed, n, 0, cond, pixels, err)
                    : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
        free(cond);
    }
    uint32_t features = vkvae_session_features(s);
    /* The spec's C x H x W; a flat input shows as a square when it is one. */
    const vkvae_plan *plan = vkvae_session_plan(s);
    uint32_t c = plan->input_c ? plan->input_c : 1, h = plan->input_h ? plan->input_h : 1;
    uint32_t w = plan->input_w ? plan->input_w : features;
    if (c * h * w != features)
        c = 1, h = 1, w = features;
    if (h == 1 && c == 1) {
        uint32_t side = (uint32_t)sqrt((double)features);
        if (side * side == features)
            h = w = side;
    }
    if (!st)
        st = vkvae_png_write_grid(path,
                                  &(vkvae_png_grid){.count = n, .channels = c, .height = h,
                                                    .width = w, .images = pixels, .pad = 2},
                                  err);
    free(pixels);
    return st;
}

static int parse_args(int argc, char **argv, train_opts *o)
{
    const cli_option options[] = {
        CLI_DATA_OPTIONS(&o->data),
        {CLI_STRING("--device", &o->device)},
        {CLI_PRECISION("--precision", &o->precision)},
        {CLI_STRING("--out", &o->out)},
        {CLI_STRING("--resume", &o->resume)},
        {CLI_STRING("--codes", &o->codes)},
        {CLI_U32("--epochs", &o->epochs), .given = &o->has_epochs, .min = 1, .max = 1000000},
        {CLI_FLAG("--overwrite", &o->overwrite)},
        {CLI_U32("--batch", &o->batch), .given = &o->has_batch, .min = 1, .max = 65536},
        {CLI_U32("--seed", &o->seed), .given = &o->has_seed},
        {CLI_U32("--limit", &o->limit)},
        {CLI_U32("--keep-labels", &o->labels), .min = 1, .max = 0xffffffffu},
        {CLI_U32("--data-rows", &o->data_rows), .min = 1, .max = 0xffffffffu},
        {CLI_U32("--test-limit", &o->test_limit)},
        {CLI_U32("--samples", &o->samples)},
        {CLI_U32("--sample-every", &o->sample_every), .min = 1, .max = 1000000},
        {CLI_FLOAT("--lr", &o->lr), .min = 0, .max = 10},
        {NULL},
    };
    return cli_options_parse(&(cli_command_line){.cmd = "train", .usage = train_usage,
                                                 .options = options, .arg = &o->model,
                                                 .second_arg = "more than one model given"},
                             argc, argv);
}

/* ---- the run: one function per step, sharing this ---- */

typedef struct train_run {
    train_opts o;
    const vkvae_plan *plan;
    const vkvae_plan *sp; /* the session's plan, which checkpoints describe */
    uint32_t epochs, seed, epochs_run;
    vkvae_idx_dataset data;
    vkvae_context *ctx;   /* NULL on the CPU backend */
    const vkvae_group *group; /* launched by mpirun: the data-parallel group, else NULL */
    int lead;             /* prints and writes: alone, or rank 0 of the group */
    uint32_t global_batch;
    vkvae_session *s;
    vkvae_train_state state;
    FILE *metrics;
    int stopped;          /* a stop signal ended training; its checkpoint is saved */
    int no_prior;         /* --sample-every on a model with nothing to sample */
    char *class_names;    /* an image folder's, one per line, or NULL: kept in checkpoints */
    cli_model_handle vq;  /* --codes: the VQ-VAE whose codes the prior learns */
    char vq_path[PATH_MAX];
    char *vocab_text;     /* a text model's vocabulary, kept in checkpoints */
    vkvae_st_meta meta[2];/* the checkpoints' own keys: "class_names", CLI_CODES_KEY or
                             CLI_VOCAB_KEY */
    size_t meta_count;
    char out_dir[512], metrics_path[600], ckpt_path[600], samples_path[600], curve_path[600];
    vkvae_error err;
} train_run;

/* samples-eNNN.png of epoch (1-based) in the output folder. */
static void epoch_samples_path(const train_run *t, uint32_t epoch, char *path, size_t size)
{
    snprintf(path, size, "%s/samples-e%03u.%s", t->out_dir, epoch,
             t->plan->input_vocab ? "txt" : "png");
}

/* The options, and what follows from them and the model before anything
 * is opened, so that a bad flag fails at once: -1 to go on, else the exit
 * status. */
static int setup_run(train_run *t, int argc, char **argv)
{
    int r = parse_args(argc, argv, &t->o);
    if (r >= 0)
        return r;
    const train_opts *o = &t->o;
    r = cli_model(o->model ? o->model : "vae_mlp", o->has_batch ? o->batch : 0, &t->plan);
    if (r)
        return r;
    /* In a group each member's plan holds its slice of the global batch. */
    t->global_batch = t->plan->batch;
    uint32_t members = t->group ? t->group->size : 1;
    if (members > t->global_batch)
        return cli_fail(VKVAE_BAD_INPUT, "train: %u processes share a batch of %u: each needs "
                        "a row at least (--batch)", members, t->global_batch);
    if (members > 1 && (r = cli_model_fit(&t->plan, (t->global_batch + members - 1) / members,
                                          0)))
        return r;
    const vkvae_plan *plan = t->plan;
    t->epochs = o->has_epochs ? o->epochs : plan->epochs ? plan->epochs : 10;
    t->seed = o->has_seed ? o->seed : plan->seed;
    if (o->out)
        snprintf(t->out_dir, sizeof t->out_dir, "%s", o->out);
    else
        snprintf(t->out_dir, sizeof t->out_dir, "runs/%s", plan->model);
    snprintf(t->metrics_path, sizeof t->metrics_path, "%s/metrics.csv", t->out_dir);
    snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s/checkpoint.safetensors", t->out_dir);
    snprintf(t->curve_path, sizeof t->curve_path, "%s/curve.png", t->out_dir);
    if (o->samples)
        snprintf(t->samples_path, sizeof t->samples_path, "%s/samples.%s", t->out_dir,
                 plan->input_vocab ? "txt" : "png");
    if (o->labels && !vkvae_plan_semi_supervised(plan))
        return cli_fail(VKVAE_BAD_INPUT, "--keep-labels: model %s trains on labelled rows only; "
                        "semi-supervised training needs 'unlabelled Q' on its condition line "
                        "(as m2_mlp)", plan->model);
    if (o->labels && o->labels < plan->classes)
        return cli_fail(VKVAE_BAD_INPUT, "--keep-labels %u: keep at least one label a class "
                        "(%u)", o->labels, plan->classes);
    /* An earlier run's checkpoint is somebody's hours of training. */
    struct stat st;
    if (t->lead && !o->resume && !o->overwrite && stat(t->ckpt_path, &st) == 0)
        return cli_fail(VKVAE_BAD_INPUT, "%s exists: --resume %s continues that run, "
                        "--overwrite replaces it, or choose another --out", t->ckpt_path,
                        t->ckpt_path);
    return -1;
}

/* The data set, cut to --limit and --test-limit (with --codes: the VQ-VAE's
 * codes of --data's images); non-zero: the exit status. */
static int load_data(train_run *t)
{
    int r;
    char resumed[PATH_MAX] = ""; /* a resumed prior goes on with its VQ-VAE's codes */
    if (!t->o.codes && t->o.resume && (r = cli_codes_source(t->o.resume, resumed,
                                                            sizeof resumed)))
        return r;
    const char *codes = t->o.codes ? t->o.codes : resumed[0] ? resumed : NULL;
    if (codes) {
        if (!realpath(codes, t->vq_path))
            return cli_fail(VKVAE_IO, "--codes %s: %s", codes, strerror(errno));
        r = cli_codes_open("train", t->vq_path, t->o.device, t->o.precision, t->plan, &t->vq);
        if (!r && (r = cli_codes_dataset(&t->vq, &t->o.data, t->o.limit, t->o.test_limit,
                                          &t->data)))
            cli_model_close(&t->vq);
        if (r)
            return r;
        t->meta[t->meta_count++] = (vkvae_st_meta){CLI_CODES_KEY, t->vq_path};
    } else if (t->plan->input_vocab) {
        /* resumed: the checkpoint's vocabulary, whatever the file holds now */
        r = cli_text_data(&t->o.data, t->plan, t->o.resume, &t->data, &t->vocab_text);
        if (r)
            return r;
        t->meta[t->meta_count++] = (vkvae_st_meta){CLI_VOCAB_KEY, t->vocab_text};
    } else {
        r = cli_data_load(&t->o.data, t->plan, &t->data, &t->class_names);
        if (r)
            return r;
        if (t->class_names)
            t->meta[t->meta_count++] = (vkvae_st_meta){"class_names", t->class_names};
    }
    vkvae_idx_dataset *d = &t->data;
    if (t->o.limit && t->o.limit < d->train_images.count)
        d->train_images.count = d->train_labels.count = t->o.limit;
    if (t->o.test_limit && t->o.test_limit < d->test_images.count)
        d->test_images.count = d->test_labels.count = t->o.test_limit;
    if (t->o.labels) {
        char path[600];
        snprintf(path, sizeof path, "%s/labelled.txt", t->out_dir);
        if (t->lead && make_dirs(t->out_dir) != 0)
            r = cli_fail(VKVAE_IO, "cannot create %s: %s", t->out_dir, strerror(errno));
        else
            r = cli_keep_labels(d, t->o.labels, t->plan->classes, t->seed,
                                t->lead ? path : NULL);
        if (r)
            vkvae_idx_dataset_destroy(d);
    }
    return r;
}

/* The plan made for the data: its data set holds the training set, and the
 * test set while evaluating, so it is made for the larger of the two,
 * within --data-rows and the device's maxStorageBufferRange; a set larger
 * than that streams through it a chunk of whole batches at a time. */
static int fit_plan(train_run *t)
{
    const vkvae_idx_dataset *d = &t->data;
    uint32_t rows = d->train_images.count > d->test_images.count ? d->train_images.count
                                                                  : d->test_images.count;
    if (t->o.data_rows && t->o.data_rows < rows)
        rows = t->o.data_rows;
    const vkvae_plan *p = t->plan;
    uint64_t features = (uint64_t)p->input_c * p->input_h * p->input_w;
    if (t->ctx && features) {
        uint32_t n;
        const vkvae_device_info *dev = vkvae_context_devices(t->ctx, &n);
        dev += vkvae_context_device_index(t->ctx);
        uint64_t cap = dev->max_storage_buffer_range / features;
        if (rows > cap)
            rows = (uint32_t)cap;
    }
    uint32_t batch = t->global_batch; /* passes run in global batches */
    if (rows < d->train_images.count && rows < batch)
        return cli_fail(VKVAE_BAD_INPUT, "%u training images stream through a data set of at "
                        "most %u rows (--data-rows, maxStorageBufferRange), fewer than a batch "
                        "of %u", d->train_images.count, rows, batch);
    uint32_t slots, chunk = vkvae_stream_chunk(rows, batch, &slots);
    if (rows < d->train_images.count)
        fprintf(stderr, "vkvae: the %u training images stream through the device %u at a "
                "time%s\n", d->train_images.count, chunk,
                slots == 2 ? ", the next copied in while one trains" : "");
    return cli_model_fit(&t->plan, 0, rows);
}

/* FNV-1a over bytes, folded into h. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
    const uint8_t *b = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t hash_set(uint64_t h, const vkvae_idx *set)
{
    size_t bytes = (size_t)set->count * set->channels * set->rows * set->cols;
    h = hash_bytes(h, &set->count, sizeof set->count);
    return set->data ? hash_bytes(h, set->data, bytes) : h;
}

/* Every member of a group must train the same model on the same data with
 * the same vkvae, or their gradients mean different things: a hash of each
 * compared across the group (the largest and the smallest must be its
 * own). */
static int check_members(train_run *t)
{
    const vkvae_plan *p = t->plan;
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_bytes(h, VKVAE_VERSION, sizeof VKVAE_VERSION);
    h = hash_bytes(h, p->spec_text ? p->spec_text : p->model,
                   strlen(p->spec_text ? p->spec_text : p->model));
    uint32_t run[4] = {t->global_batch, t->epochs, t->seed, (uint32_t)(t->o.lr * 1e9f)};
    h = hash_bytes(h, run, sizeof run);
    h = hash_set(h, &t->data.train_images);
    h = hash_set(h, &t->data.train_labels);
    h = hash_set(h, &t->data.test_images);
    uint64_t both[2] = {h, ~h};
    vkvae_error err = {0};
    if (t->group->allreduce(t->group->user, both, 2, VKVAE_REDUCE_MAX_U64, &err))
        return cli_fail(err.status, "%s", err.message);
    if (both[0] != h || both[1] != ~h)
        return cli_fail(VKVAE_BAD_INPUT, "train: rank %u of %u: the group's processes differ in "
                        "their model, data set, flags or vkvae version (every rank must run "
                        "the same; only --device may differ)", t->group->rank, t->group->size);
    return 0;
}

/* A group member's default device: on a machine with several GPUs, the
 * one of its local rank (in turn), so that the members there share them. */
static int member_device(train_run *t)
{
    uint32_t n, gpus[64], count = 0;
    const vkvae_device_info *d = vkvae_context_devices(t->ctx, &n);
    for (uint32_t i = 0; i < n && count < 64; i++)
        if (d[i].type != VKVAE_DEVICE_CPU)
            gpus[count++] = i;
    if (count < 2)
        return 0;
    uint32_t want = gpus[cli_group_local_rank() % count];
    if (want == vkvae_context_device_index(t->ctx))
        return 0;
    char index[16];
    snprintf(index, sizeof index, "%u", want);
    vkvae_context_destroy(t->ctx);
    t->ctx = NULL;
    return cli_context("train", index, t->o.precision, &t->ctx);
}

/* The device (or the CPU backend), named on stderr with advice where
 * another choice would likely train faster; non-zero: the exit status. */
static int open_device(train_run *t)
{
    int r = cli_context("train", t->o.device, t->o.precision, &t->ctx);
    if (!r && t->ctx && t->group && !t->o.device && !getenv("VKVAE_DEVICE"))
        r = member_device(t);
    if (r)
        return r;
    const char *model = t->plan->model;
    char who[64] = "";
    if (t->group)
        snprintf(who, sizeof who, " (rank %u of %u, slices of a batch of %u)", t->group->rank,
                 t->group->size, t->global_batch);
    if (t->ctx) {
        uint32_t n;
        const vkvae_device_info *d = vkvae_context_devices(t->ctx, &n);
        d += vkvae_context_device_index(t->ctx);
        int fp16 = t->o.precision == VKVAE_PRECISION_FP16;
        fprintf(stderr, "vkvae: training %s on %s (%s)%s%s\n", model, d->name,
                vkvae_device_type_name(d->type), fp16 ? ", fp16 products" : "", who);
        cli_selftest_warning(d);
        if (d->type == VKVAE_DEVICE_CPU)
            fprintf(stderr, "vkvae: note: this device is a CPU driver; --device cpu (vkvae's "
                            "own CPU backend) may be faster here%s\n",
                    fp16 ? ", and fp16 runs slower than fp32 on it" : "");
    } else {
        const char *blas = vkvae_fast_blas(), *advice = vkvae_fast_blas_advice();
        fprintf(stderr, "vkvae: training %s on the CPU backend (%s)%s\n", model,
                blas ? blas : "no BLAS: plain float products", who);
        if (advice)
            fprintf(stderr, "vkvae: note: %s\n", advice);
    }
    return 0;
}

/* The session with its parameters (fresh from the seed, or --resume's with
 * its epoch, step and seed) and the training images. */
static vkvae_status open_session(train_run *t)
{
    vkvae_status st = vkvae_session_create(
        &(vkvae_session_desc){.plan = t->plan, .ctx = t->ctx, .lr = t->o.lr, .group = t->group,
                              .global_batch = t->global_batch},
        &t->s, &t->err);
    if (st)
        return st;
    t->sp = vkvae_session_plan(t->s);
    t->state = (vkvae_train_state){.seed = t->seed};
    if (t->o.resume) {
        st = vkvae_checkpoint_load(t->o.resume, t->sp, session_write_cb, t->s, &t->state, 1,
                                   &t->err);
        if (!st)
            t->seed = t->state.seed;
    } else
        st = vkvae_session_init_params(t->s, t->seed, &t->err);
    if (!st)
        st = vkvae_session_set_train_data(t->s, &t->data.train_images,
                                          t->plan->classes ? &t->data.train_labels : NULL,
                                          &t->err);
    /* The output folder once everything it will hold has loaded: a bad
     * --resume or data set leaves no empty run folder behind. */
    if (!st && t->lead && make_dirs(t->out_dir) != 0)
        st = vkvae_fail(&t->err, VKVAE_IO, "%s: cannot create the output folder: %s",
                        t->out_dir, strerror(errno));
    return st;
}

/* The output folder taken over: an interrupted run's temporary files
 * removed, metrics.csv opened (appended to on --resume). */
static vkvae_status open_outputs(train_run *t)
{
    if (!t->lead)
        return VKVAE_OK;
    /* A run killed mid-write (SIGKILL, power loss) leaves its temporary
     * files; this run owns the folder now, so they go. */
    char samples_any[600];
    snprintf(samples_any, sizeof samples_any, "%s/samples.%s", t->out_dir,
             t->plan->input_vocab ? "txt" : "png");
    int stale = vkvae_atomic_remove_stale(t->ckpt_path) +
                vkvae_atomic_remove_stale(t->curve_path) + vkvae_atomic_remove_stale(samples_any);
    for (uint32_t e = t->o.sample_every; e && e <= t->epochs; e += t->o.sample_every) {
        epoch_samples_path(t, e, samples_any, sizeof samples_any);
        stale += vkvae_atomic_remove_stale(samples_any);
    }
    if (stale)
        fprintf(stderr, "vkvae: removed %d temporary file(s) of an interrupted run in %s\n",
                stale, t->out_dir);
    /* A run killed before its first line reached the file leaves it
     * empty; appending to that would lose the header. */
    struct stat ms;
    int fresh = !t->o.resume || stat(t->metrics_path, &ms) != 0 || ms.st_size == 0;
    t->metrics = fopen(t->metrics_path, fresh ? "w" : "a");
    if (!t->metrics)
        return vkvae_fail(&t->err, VKVAE_IO, "%s: %s", t->metrics_path, strerror(errno));
    uint32_t terms = vkvae_session_terms(t->s);
    if (fresh && terms) { /* a model of several networks: a column per loss term */
        fprintf(t->metrics, "epoch,step,train_loss");
        for (uint32_t i = 0; i < terms; i++)
            fprintf(t->metrics, ",train_%s", vkvae_session_term_name(t->s, i));
        fprintf(t->metrics, ",test_loss");
        for (uint32_t i = 0; i < terms; i++)
            fprintf(t->metrics, ",test_%s", vkvae_session_term_name(t->s, i));
        for (uint32_t i = 0; i < vkvae_session_codebooks(t->s); i++) {
            const char *c = vkvae_session_codebook_name(t->s, i);
            fprintf(t->metrics, ",train_%s_perplexity,train_%s_dead,test_%s_perplexity,"
                    "test_%s_dead", c, c, c, c);
        }
        fprintf(t->metrics, ",seconds,images_per_s\n");
    } else if (fresh && vkvae_plan_classifies(t->plan))
        fprintf(t->metrics, "epoch,step,train_loss,train_ce,train_error,test_loss,test_ce,"
                            "test_error,seconds,images_per_s\n");
    else if (fresh)
        fprintf(t->metrics, "epoch,step,train_loss,train_recon,train_kl,test_loss,test_recon,"
                            "test_kl,seconds,images_per_s\n");
    return VKVAE_OK;
}

/* A model of several networks: each loss term per image, and each
 * codebook's usage (use: the training epoch's, then the test set's, a pair
 * a codebook). */
static void report_terms(train_run *t, uint32_t epoch, uint32_t step, const vkvae_losses *train,
                         const vkvae_losses *test, const vkvae_codebook_usage *use,
                         double seconds)
{
    uint32_t books = vkvae_session_codebooks(t->s);
    double n_train = train->rows > 0 ? train->rows : 1, n_test = test->rows > 0 ? test->rows : 1;
    printf("epoch %u: train", epoch + 1);
    for (uint32_t i = 0; i < train->n_terms; i++)
        printf("%s %s %.4f", i ? "," : "", vkvae_session_term_name(t->s, i),
               train->term[i] / n_train);
    printf("  test");
    for (uint32_t i = 0; i < test->n_terms; i++)
        printf("%s %s %.4f", i ? "," : "", vkvae_session_term_name(t->s, i),
               test->term[i] / n_test);
    printf(" nats/%s  %.1fs, %.0f %s\n", t->plan->input_vocab ? "sequence" : "image", seconds,
           train->rows / seconds, row_rate(t->plan));
    for (uint32_t i = 0; i < books; i++)
        printf("  codebook %s: perplexity %.1f train, %.1f test of %u codes; %u dead in "
               "training, %u in test\n", vkvae_session_codebook_name(t->s, i),
               use[2 * i].perplexity, use[2 * i + 1].perplexity, use[2 * i].codes,
               use[2 * i].dead, use[2 * i + 1].dead);
    fflush(stdout);
    fprintf(t->metrics, "%u,%u,%.6f", epoch + 1, step, train->total / n_train);
    for (uint32_t i = 0; i < train->n_terms; i++)
        fprintf(t->metrics, ",%.6f", train->term[i] / n_train);
    fprintf(t->metrics, ",%.6f", test->total / n_test);
    for (uint32_t i = 0; i < test->n_terms; i++)
        fprintf(t->metrics, ",%.6f", test->term[i] / n_test);
    for (uint32_t i = 0; i < books; i++)
        fprintf(t->metrics, ",%.3f,%u,%.3f,%u", use[2 * i].perplexity, use[2 * i].dead,
                use[2 * i + 1].perplexity, use[2 * i + 1].dead);
    fprintf(t->metrics, ",%.3f,%.1f\n", seconds, train->rows / seconds);
    fflush(t->metrics);
}

/* One epoch's figures per image, on stdout and as a line of metrics.csv. */
static void report_epoch(train_run *t, uint32_t epoch, uint32_t step, const vkvae_losses *train,
                         const vkvae_losses *test, const vkvae_codebook_usage *use,
                         double seconds)
{
    double n_train = train->rows > 0 ? train->rows : 1, n_test = test->rows > 0 ? test->rows : 1;
    if (!t->lead)
        return;
    if (train->n_terms) {
        report_terms(t, epoch, step, train, test, use, seconds);
        return;
    }
    if (vkvae_plan_classifies(t->plan)) /* the kl slot counts the errors */
        printf("epoch %u: train %.4f nats/image, error %.2f%%  test %.4f nats/image, accuracy "
               "%.2f%%  %.1fs, %.0f img/s\n",
               epoch + 1, train->total / n_train, 100 * train->kl / n_train, test->total / n_test,
               100 * (1 - test->kl / n_test), seconds, train->rows / seconds);
    else
        printf("epoch %u: train %.2f (recon %.2f, kl %.2f)  test %.2f (recon %.2f, kl %.2f) "
               "nats/image  %.1fs, %.0f img/s\n",
               epoch + 1, train->total / n_train, train->recon / n_train, train->kl / n_train,
               test->total / n_test, test->recon / n_test, test->kl / n_test, seconds,
               train->rows / seconds);
    fflush(stdout);
    fprintf(t->metrics, "%u,%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f\n", epoch + 1, step,
            train->total / n_train, train->recon / n_train, train->kl / n_train,
            test->total / n_test, test->recon / n_test, test->kl / n_test, seconds,
            train->rows / seconds);
    fflush(t->metrics);
}

/* After a stop signal: the checkpoint of the last complete step (the
 * epoch, its steps done, the step counter), so --resume goes on exactly
 * there; CANCELLED with where it is. */
static vkvae_status save_stopped(train_run *t, uint32_t epoch, uint32_t epoch_step, uint32_t step)
{
    const char *name = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
    t->state = (vkvae_train_state){.epoch = epoch, .epoch_step = epoch_step, .step = step,
                                   .seed = t->seed, .meta = t->meta,
                                   .meta_count = t->meta_count};
    t->err = (vkvae_error){0};
    vkvae_status st = t->lead ? vkvae_checkpoint_save(t->ckpt_path, t->sp, session_read_cb, t->s,
                                                      &t->state, &t->err)
                              : VKVAE_OK;
    if (st)
        return st;
    t->stopped = 1;
    return vkvae_fail(&t->err, VKVAE_CANCELLED,
                      "stopped by %s at step %u of epoch %u; %s holds that step: --resume %s "
                      "goes on from there", name, epoch_step, epoch + 1, t->ckpt_path,
                      t->ckpt_path);
}

/* Trains one epoch, stops at a NaN or Inf in the loss or the parameters
 * (the checkpoint on disk is still the last good one), evaluates, reports
 * and checkpoints. */
static vkvae_status train_epoch(train_run *t, uint32_t epoch, uint32_t *step, progress *prog)
{
    const vkvae_plan *plan = t->plan;
    float kl_weight = vkvae_plan_kl_weight(plan, epoch);
    vkvae_losses train, test;
    /* A run resumed part way through an epoch goes on where it stopped. */
    uint32_t done = epoch == t->state.epoch ? t->state.epoch_step : 0;
    prog->epoch = epoch + 1;
    prog->first = done;
    prog->start = cli_now_s();
    prog->last_print = 0;
    uint32_t first_step = *step;
    double reduce_before = vkvae_session_reduce_seconds(t->s);
    vkvae_status st = vkvae_session_train_epoch(t->s, t->seed, epoch, done, step, kl_weight,
                                                on_progress, prog, &train, &t->err);
    double seconds = cli_now_s() - prog->start;
    if (prog->tty)
        fputc('\n', stderr);
    if (st == VKVAE_CANCELLED)
        return save_stopped(t, epoch, done + (*step - first_step), *step);
    if (st)
        return st;
    /* What is on disk: this run's last checkpoint, the one it resumed
     * from, or none. */
    char last[700];
    if (t->epochs_run || t->o.resume)
        snprintf(last, sizeof last, "the last good checkpoint is %s",
                 t->epochs_run ? t->ckpt_path : t->o.resume);
    else
        snprintf(last, sizeof last, "no checkpoint was written (the first epoch never ended)");
    if (!isfinite(train.total))
        return vkvae_fail(&t->err, VKVAE_DIVERGED,
                          "training diverged in epoch %u (steps %u..%u): the loss is %g; %s",
                          epoch + 1, first_step, *step - 1, train.total, last);
    const char *bad = NULL;
    if (!vkvae_session_params_finite(t->s, &bad, &t->err))
        return vkvae_fail(&t->err, VKVAE_DIVERGED,
                          "training diverged in epoch %u (steps %u..%u): parameter %s holds a "
                          "NaN or Inf; %s",
                          epoch + 1, first_step, *step - 1, bad, last);
    /* each codebook's usage in the epoch, then in the test pass */
    vkvae_codebook_usage use[2 * VKVAE_MAX_TERMS];
    for (uint32_t i = 0; i < vkvae_session_codebooks(t->s) && !st; i++)
        st = vkvae_session_codebook_usage(t->s, i, &use[2 * i], &t->err);
    if (!st)
        st = vkvae_session_evaluate(t->s, &t->data.test_images,
                                    plan->classes ? &t->data.test_labels : NULL, t->seed,
                                    kl_weight, &test, &t->err);
    for (uint32_t i = 0; i < vkvae_session_codebooks(t->s) && !st; i++)
        st = vkvae_session_codebook_usage(t->s, i, &use[2 * i + 1], &t->err);
    if (st)
        return st;
    report_epoch(t, epoch, *step, &train, &test, use, seconds);
    if (t->group && t->lead && *step > first_step) {
        double reduce = vkvae_session_reduce_seconds(t->s) - reduce_before;
        fprintf(stderr, "vkvae: rank 0 of %u: %.2f ms a step summing gradients (%.0f%% of the "
                "epoch's %.1f s)\n", t->group->size, 1e3 * reduce / (*step - first_step),
                100 * reduce / seconds, seconds);
    }
    t->state = (vkvae_train_state){.epoch = epoch + 1, .step = *step, .seed = t->seed,
                                   .meta = t->meta, .meta_count = t->meta_count};
    if (t->lead)
        st = vkvae_checkpoint_save(t->ckpt_path, t->sp, session_read_cb, t->s, &t->state,
                                   &t->err);
    t->epochs_run += !st;
    return st;
}

/* The images whose conditions samples are drawn on: the test set's, else
 * the training set's. */
static const vkvae_idx *samples_data(const train_run *t)
{
    return t->data.test_images.count ? &t->data.test_images : &t->data.train_images;
}

/* --sample-every E: after every E-th epoch a grid from the prior, with the
 * run's seed each time (the same points of the prior, so the grids show
 * the model's progress). A model without a sample program (an
 * autoencoder) says so once, at the first. */
static vkvae_status sample_epoch(train_run *t, uint32_t epoch)
{
    if (!t->lead || !t->o.sample_every || epoch % t->o.sample_every != 0 || t->no_prior)
        return VKVAE_OK;
    char path[700];
    epoch_samples_path(t, epoch, path, sizeof path);
    vkvae_status st = write_samples(t->s, t->vq.session, samples_data(t), t->vocab_text, path,
                                    t->o.samples ? t->o.samples : 64, t->seed, &t->err);
    if (st == VKVAE_UNSUPPORTED) {
        fprintf(stderr, "vkvae: no samples each epoch: %s\n", t->err.message);
        t->err = (vkvae_error){0};
        t->no_prior = 1;
        return VKVAE_OK;
    }
    return st;
}

/* The epochs left: from the resumed epoch (0 for a fresh run) to --epochs. */
static vkvae_status train_epochs(train_run *t)
{
    vkvae_status st = VKVAE_OK;
    uint32_t step = (uint32_t)t->state.step;
    progress prog = {.tty = isatty(2), .quiet = !t->lead, .rate = row_rate(t->plan),
                     .epochs = t->epochs, .batch = t->global_batch};
    for (uint32_t epoch = (uint32_t)t->state.epoch; !st && epoch < t->epochs; epoch++) {
        st = train_epoch(t, epoch, &step, &prog);
        if (!st)
            st = sample_epoch(t, epoch + 1);
    }
    return st;
}

/* samples.png and curve.png after training, and the list of what was
 * written. */
static vkvae_status write_results(train_run *t)
{
    vkvae_status st = VKVAE_OK;
    if (!t->lead)
        return st;
    if (t->o.samples) {
        st = write_samples(t->s, t->vq.session, samples_data(t), t->vocab_text, t->samples_path,
                           t->o.samples,
                           t->seed, &t->err);
        if (st == VKVAE_UNSUPPORTED) { /* an autoencoder has no prior to sample */
            fprintf(stderr, "vkvae: no samples: %s\n", t->err.message);
            st = VKVAE_OK;
            t->err = (vkvae_error){0};
            t->samples_path[0] = '\0';
        }
    }
    /* A run that trained nothing (resumed at its last epoch) keeps the
     * curve it has. */
    if (!t->epochs_run)
        t->curve_path[0] = '\0';
    if (!st && t->epochs_run)
        st = cli_plot_metrics(t->metrics_path, t->curve_path, CLI_PLOT_WIDTH, CLI_PLOT_HEIGHT,
                              &t->err);
    if (!st)
        fprintf(stderr, "vkvae: wrote %s, %s%s%s%s%s%s%s\n", t->metrics_path, t->ckpt_path,
                t->samples_path[0] ? ", " : "", t->samples_path, t->curve_path[0] ? ", " : "",
                t->curve_path, t->o.sample_every && !t->no_prior ? ", " : "",
                t->o.sample_every && !t->no_prior ? "samples-eNNN.png every --sample-every" : "");
    return st;
}

static int train(train_run *t, int argc, char **argv);

int cmd_train(int argc, char **argv)
{
    train_run t = {.o = {.samples = 64}, .lead = 1};
    int r = cli_group_join(&argc, &argv, &t.group);
    if (r)
        return r;
    t.lead = !t.group || t.group->rank == 0;
    r = train(&t, argc, argv);
    if (t.vq.session) /* a run that failed before training */
        cli_model_close(&t.vq);
    cli_model_free(t.plan);
    free(t.class_names);
    free(t.vocab_text);
    return cli_group_leave(r);
}

/* cmd_train's work; t->plan, once set, is freed by the caller. */
static int train(train_run *t, int argc, char **argv)
{
    int r = setup_run(t, argc, argv);
    if (r >= 0)
        return r;
    r = load_data(t);
    if (r)
        return r;
    r = open_device(t);
    if (!r)
        r = fit_plan(t);
    if (!r && t->group)
        r = check_members(t);
    if (r) {
        vkvae_context_destroy(t->ctx);
        vkvae_idx_dataset_destroy(&t->data);
        return r;
    }
    /* Each step runs only if the ones before succeeded; the first error
     * is the one reported, after everything opened is closed. */
    vkvae_status st = open_session(t);
    if (!st)
        st = open_outputs(t);
    /* Ctrl-C or a kill ends the epoch after the step running, saved; a
     * second signal ends the process at once (SA_RESETHAND). */
    struct sigaction stop = {.sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND}, old_int,
                     old_term;
    sigaction(SIGINT, &stop, &old_int);
    sigaction(SIGTERM, &stop, &old_term);
    if (!st)
        st = train_epochs(t);
    if (t->metrics)
        fclose(t->metrics);
    /* A stopped run still writes its samples and curve, then says why. */
    if (!st || t->stopped) {
        vkvae_error why = t->err;
        t->err = (vkvae_error){0};
        vkvae_status wst = write_results(t);
        if (wst)
            st = wst;
        else if (t->stopped)
            t->err = why;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    vkvae_session_destroy(t->s);
    if (t->vq.session && cli_model_close(&t->vq) && !st)
        st = vkvae_fail(&t->err, VKVAE_VALIDATION, "the validation layer reported messages "
                        "on the VQ-VAE's device");
    uint32_t messages = t->ctx ? vkvae_validation_message_count(t->ctx) : 0;
    vkvae_context_destroy(t->ctx);
    vkvae_idx_dataset_destroy(&t->data);
    /* A stop is the group's (its flag is all-reduced): rank 0 says it. */
    if (st == VKVAE_CANCELLED && !t->lead)
        return vkvae_status_exit_code(st);
    if (st)
        return cli_fail(t->err.status, "%s", t->err.message);
    if (messages)
        return cli_fail(VKVAE_VALIDATION, "the validation layer reported %u message(s)", messages);
    return 0;
}
