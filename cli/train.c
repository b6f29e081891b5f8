/* vkvae train: trains a built-in model on an IDX data set, on a Vulkan
 * device or the CPU, with a live progress line, per-epoch train and test
 * negative ELBO (nats per image) printed and appended to metrics.csv, a
 * checkpoint per epoch, and at the end a grid of samples and the learning
 * curve (curve.png, as vkvae plot draws it). A NaN or Inf in
 * the loss or the parameters stops training, naming the epoch and step;
 * the last good checkpoint stays.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cpu/fast/fast_ops.h"
#include "io/atomic.h"
#include "io/idx.h"
#include "io/png.h"
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
    "  --data DIR        IDX data set folder (default /usr/share/datasets/fashion-mnist)\n"
    "  --epochs N        epochs (default: the spec's)\n"
    "  --batch B         batch size; fixed by the spec at build time, checked\n"
    "  --lr X            learning rate (default: the spec's)\n"
    "  --seed S          seed of initialisation, shuffles and draws (default: the spec's)\n"
    "  --device D        Vulkan device index or name substring, or 'cpu' (default: the best)\n"
    "  --precision P     fp32 (default) or fp16: the matrix products' arithmetic on a Vulkan\n"
    "                    device with fp16 (vkvae info); buffers and the optimizer stay fp32\n"
    "  --out DIR         output folder (default runs/MODEL)\n"
    "  --resume CKPT     continue from a checkpoint written by vkvae train\n"
    "  --limit N         train on the first N images only (quick runs and tests)\n"
    "  --test-limit N    evaluate on the first N test images only\n"
    "  --samples N       images in samples.png (default 64; 0: none)\n";

typedef struct train_opts {
    const char *model, *data, *device, *out, *resume;
    uint32_t epochs, batch, seed, limit, test_limit, samples;
    float lr;
    vkvae_precision precision;
    int has_epochs, has_seed, has_batch;
} train_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- progress ---- */

typedef struct progress {
    int tty;
    uint32_t epoch, epochs, batch;
    double start, last_print;
} progress;

static void on_progress(void *user, uint32_t done, uint32_t steps, const vkvae_losses *l)
{
    progress *p = user;
    double t = now_s(), elapsed = t - p->start;
    if (!p->tty && t - p->last_print < 10.0 && done < steps)
        return;
    p->last_print = t;
    double rate = elapsed > 0 ? done * (double)p->batch / elapsed : 0;
    double eta = done ? elapsed * (steps - done) / done : 0;
    double loss = l->rows > 0 ? l->total / l->rows : 0;
    if (p->tty) {
        int width = 24, fill = (int)(width * (double)done / steps);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\repoch %u/%u [%s] %u/%u  %.0f img/s  ETA %.0fs  loss %.2f   ", p->epoch,
                p->epochs, bar, done, steps, rate, eta, loss);
        fflush(stderr);
    } else {
        fprintf(stderr, "epoch %u/%u step %u/%u %.0f img/s ETA %.0fs loss %.2f\n", p->epoch,
                p->epochs, done, steps, rate, eta, loss);
    }
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

static vkvae_status write_samples(vkvae_session *s, const char *path, uint32_t n, uint32_t seed,
                                  vkvae_error *err)
{
    uint32_t features = vkvae_session_features(s);
    float *pixels = malloc((size_t)n * features * sizeof *pixels);
    if (!pixels)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_status st = vkvae_session_sample(s, seed, n, 0, pixels, err);
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
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(train_usage, stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (o->model)
                return cli_fail(VKVAE_BAD_INPUT, "train: more than one model given ('%s', '%s')",
                                o->model, a);
            o->model = a;
            continue;
        }
        if (!v)
            return cli_fail(VKVAE_BAD_INPUT, "train: option %s needs a value", a);
        i++;
        int bad = 0;
        if (strcmp(a, "--data") == 0)
            o->data = v;
        else if (strcmp(a, "--device") == 0)
            o->device = v;
        else if (strcmp(a, "--precision") == 0)
            bad = cli_parse_precision(a, v, &o->precision);
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--resume") == 0)
            o->resume = v;
        else if (strcmp(a, "--epochs") == 0)
            bad = cli_parse_u32(a, v, &o->epochs), o->has_epochs = 1;
        else if (strcmp(a, "--batch") == 0)
            bad = cli_parse_u32(a, v, &o->batch), o->has_batch = 1;
        else if (strcmp(a, "--seed") == 0)
            bad = cli_parse_u32(a, v, &o->seed), o->has_seed = 1;
        else if (strcmp(a, "--limit") == 0)
            bad = cli_parse_u32(a, v, &o->limit);
        else if (strcmp(a, "--test-limit") == 0)
            bad = cli_parse_u32(a, v, &o->test_limit);
        else if (strcmp(a, "--samples") == 0)
            bad = cli_parse_u32(a, v, &o->samples);
        else if (strcmp(a, "--lr") == 0) {
            bad = cli_parse_float(a, v, &o->lr);
            if (!bad && !(o->lr > 0 && o->lr < 10))
                return cli_fail(VKVAE_BAD_INPUT, "train: --lr %s is outside (0, 10)", v);
        } else
            return cli_fail(VKVAE_BAD_INPUT, "train: unknown option '%s' (see vkvae train --help)",
                            a);
        if (bad)
            return bad;
    }
    return -1; /* parsed; go on */
}

int cmd_train(int argc, char **argv)
{
    train_opts o = {.data = "/usr/share/datasets/fashion-mnist", .samples = 64};
    int r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;
    vkvae_error err = {0};
    const vkvae_plan *plan = NULL;
    r = cli_model(o.model ? o.model : "vae_mlp", &plan);
    if (r)
        return r;
    if (o.has_batch && o.batch != plan->batch)
        return cli_fail(VKVAE_BAD_INPUT,
                        "train: --batch %u: model %s is built for batch %u (the spec's `train ... "
                        "batch`; the batch is a constant of its kernels)",
                        o.batch, plan->model, plan->batch);
    uint32_t epochs = o.has_epochs ? o.epochs : plan->epochs ? plan->epochs : 10;
    uint32_t seed = o.has_seed ? o.seed : plan->seed;
    char out_dir[512];
    snprintf(out_dir, sizeof out_dir, "%s", o.out ? o.out : "runs");
    if (!o.out)
        snprintf(out_dir, sizeof out_dir, "runs/%s", plan->model);

    vkvae_idx_dataset data;
    if (vkvae_idx_dataset_load(&data, o.data, plan->classes, &err))
        return cli_fail(err.status, "%s", err.message);
    if (o.limit && o.limit < data.train_images.count)
        data.train_images.count = data.train_labels.count = o.limit;
    if (o.test_limit && o.test_limit < data.test_images.count)
        data.test_images.count = data.test_labels.count = o.test_limit;

    vkvae_context *ctx = NULL;
    r = cli_context("train", o.device, o.precision, &ctx);
    if (r) {
        vkvae_idx_dataset_destroy(&data);
        return r;
    }
    if (ctx) {
        uint32_t n;
        const vkvae_device_info *d = vkvae_context_devices(ctx, &n);
        d += vkvae_context_device_index(ctx);
        int fp16 = o.precision == VKVAE_PRECISION_FP16;
        fprintf(stderr, "vkvae: training %s on %s (%s)%s\n", plan->model, d->name,
                vkvae_device_type_name(d->type), fp16 ? ", fp16 products" : "");
        if (d->type == VKVAE_DEVICE_CPU)
            fprintf(stderr, "vkvae: note: this device is a CPU driver; --device cpu (vkvae's "
                            "own CPU backend) may be faster here%s\n",
                    fp16 ? ", and fp16 runs slower than fp32 on it" : "");
    } else {
        const char *blas = vkvae_fast_blas(), *advice = vkvae_fast_blas_advice();
        fprintf(stderr, "vkvae: training %s on the CPU backend (%s)\n", plan->model,
                blas ? blas : "no BLAS: plain float products");
        if (advice)
            fprintf(stderr, "vkvae: note: %s\n", advice);
    }

    vkvae_session *s = NULL;
    vkvae_status st = vkvae_session_create(
        &(vkvae_session_desc){.plan = plan, .ctx = ctx, .lr = o.lr}, &s, &err);
    const vkvae_plan *sp = st ? NULL : vkvae_session_plan(s);
    vkvae_train_state state = {.seed = seed};
    if (!st && make_dirs(out_dir) != 0)
        st = vkvae_fail(&err, VKVAE_IO, "%s: cannot create the output folder: %s", out_dir,
                        strerror(errno));
    if (!st && o.resume) {
        st = vkvae_checkpoint_load(o.resume, sp, session_write_cb, s, &state, 1, &err);
        if (!st)
            seed = state.seed;
    } else if (!st)
        st = vkvae_session_init_params(s, seed, &err);
    if (!st)
        st = vkvae_session_set_train_data(s, &data.train_images,
                                          plan->classes ? &data.train_labels : NULL, &err);

    char metrics_path[600], ckpt_path[600], samples_path[600] = "", curve_path[600];
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics.csv", out_dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.safetensors", out_dir);
    snprintf(curve_path, sizeof curve_path, "%s/curve.png", out_dir);
    if (o.samples)
        snprintf(samples_path, sizeof samples_path, "%s/samples.png", out_dir);
    if (!st) {
        /* A run killed mid-write (SIGKILL, power loss) leaves its temporary
         * files; this run owns the folder now, so they go. */
        char samples_any[600];
        snprintf(samples_any, sizeof samples_any, "%s/samples.png", out_dir);
        int stale = vkvae_atomic_remove_stale(ckpt_path) +
                    vkvae_atomic_remove_stale(curve_path) + vkvae_atomic_remove_stale(samples_any);
        if (stale)
            fprintf(stderr, "vkvae: removed %d temporary file(s) of an interrupted run in %s\n",
                    stale, out_dir);
    }
    FILE *metrics = NULL;
    if (!st) {
        /* A run killed before its first line reached the file leaves it
         * empty; appending to that would lose the header. */
        struct stat ms;
        int fresh = !o.resume || stat(metrics_path, &ms) != 0 || ms.st_size == 0;
        metrics = fopen(metrics_path, fresh ? "w" : "a");
        if (!metrics)
            st = vkvae_fail(&err, VKVAE_IO, "%s: %s", metrics_path, strerror(errno));
        else if (fresh)
            fprintf(metrics, "epoch,step,train_loss,train_recon,train_kl,test_loss,test_recon,"
                             "test_kl,seconds,images_per_s\n");
    }

    uint32_t step = (uint32_t)state.step, epochs_run = 0;
    progress prog = {.tty = isatty(2), .epochs = epochs, .batch = plan->batch};
    for (uint32_t epoch = (uint32_t)state.epoch; !st && epoch < epochs; epoch++) {
        float kl_weight = plan->kl_beta;
        if (plan->kl_warmup_epochs)
            kl_weight *= fminf(1.0f, (float)(epoch + 1) / (float)plan->kl_warmup_epochs);
        vkvae_losses train, test;
        prog.epoch = epoch + 1;
        prog.start = prog.last_print = now_s();
        uint32_t first_step = step;
        st = vkvae_session_train_epoch(s, seed, epoch, &step, kl_weight, on_progress, &prog,
                                       &train, &err);
        double seconds = now_s() - prog.start;
        if (prog.tty)
            fputc('\n', stderr);
        if (!st && !isfinite(train.total)) {
            st = vkvae_fail(&err, VKVAE_DIVERGED,
                            "training diverged in epoch %u (steps %u..%u): the loss is %g; the "
                            "last good checkpoint is %s",
                            epoch + 1, first_step, step - 1, train.total, ckpt_path);
            break;
        }
        const char *bad = NULL;
        if (!st && !vkvae_session_params_finite(s, &bad, &err)) {
            st = vkvae_fail(&err, VKVAE_DIVERGED,
                            "training diverged in epoch %u (steps %u..%u): parameter %s holds a "
                            "NaN or Inf; the last good checkpoint is %s",
                            epoch + 1, first_step, step - 1, bad, ckpt_path);
            break;
        }
        if (!st)
            st = vkvae_session_evaluate(s, &data.test_images,
                                        plan->classes ? &data.test_labels : NULL, seed, kl_weight,
                                        &test, &err);
        if (st)
            break;
        double n_train = train.rows > 0 ? train.rows : 1, n_test = test.rows > 0 ? test.rows : 1;
        printf("epoch %u: train %.2f (recon %.2f, kl %.2f)  test %.2f (recon %.2f, kl %.2f) "
               "nats/image  %.1fs, %.0f img/s\n",
               epoch + 1, train.total / n_train, train.recon / n_train, train.kl / n_train,
               test.total / n_test, test.recon / n_test, test.kl / n_test, seconds,
               train.rows / seconds);
        fflush(stdout);
        fprintf(metrics, "%u,%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f\n", epoch + 1, step,
                train.total / n_train, train.recon / n_train, train.kl / n_train,
                test.total / n_test, test.recon / n_test, test.kl / n_test, seconds,
                train.rows / seconds);
        fflush(metrics);
        state = (vkvae_train_state){.epoch = epoch + 1, .step = step, .seed = seed};
        st = vkvae_checkpoint_save(ckpt_path, sp, session_read_cb, s, &state, &err);
        epochs_run += !st;
    }
    if (metrics)
        fclose(metrics);
    if (!st && o.samples) {
        st = write_samples(s, samples_path, o.samples, seed, &err);
        if (st == VKVAE_UNSUPPORTED) { /* an autoencoder has no prior to sample */
            fprintf(stderr, "vkvae: no samples: %s\n", err.message);
            st = VKVAE_OK;
            err = (vkvae_error){0};
            samples_path[0] = '\0';
        }
    }
    /* A run that trained nothing (resumed at its last epoch) keeps the
     * curve it has. */
    if (!epochs_run)
        curve_path[0] = '\0';
    if (!st && epochs_run)
        st = cli_plot_metrics(metrics_path, curve_path, CLI_PLOT_WIDTH, CLI_PLOT_HEIGHT, &err);
    if (!st)
        fprintf(stderr, "vkvae: wrote %s, %s%s%s%s%s\n", metrics_path, ckpt_path,
                samples_path[0] ? ", " : "", samples_path, curve_path[0] ? ", " : "",
                curve_path);
    vkvae_session_destroy(s);
    uint32_t messages = ctx ? vkvae_validation_message_count(ctx) : 0;
    vkvae_context_destroy(ctx);
    vkvae_idx_dataset_destroy(&data);
    if (st)
        return cli_fail(err.status, "%s", err.message);
    if (messages)
        return cli_fail(VKVAE_VALIDATION, "the validation layer reported %u message(s)", messages);
    return 0;
}
