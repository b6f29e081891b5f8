/* What users do with a trained model (BRIEF §2): sample from the prior,
 * reconstruct, interpolate between two items' codes (linear or spherical),
 * traverse latent dimensions, edit along an attribute direction, and
 * export codes as NumPy arrays. Every command reads a checkpoint, runs on
 * a Vulkan device by default or the CPU with --device cpu, and is
 * reproducible with --seed. Images come out as one PNG grid.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io/atomic.h"
#include "io/idx.h"
#include "io/png.h"
#include "io/text.h"
#include "options.h"
#include "plan/philox.h"

typedef struct latent_opts {
    cli_data_opts data;
    const char *ckpt, *device, *out, *split, *dims, *vq, *shape, *appearance, *from_text,
        *to_text;
    uint32_t n, seed, label, from, to, steps, item, cols, scale, pad, from_class, to_class,
        samples;
    float range, strength, temperature;
    vkvae_precision precision;
    int mean, slerp, codes, has_seed, has_label, has_from, has_to, has_item, has_from_class,
        has_to_class;
} latent_opts;

static const char latent_usage[] =
    "usage:\n"
    "  vkvae sample CKPT [-n 64] [--mean] [--label K] [--vq VQ_CKPT] -o samples.png\n"
    "                  (a text model, docs/text.md: lines printed without -o; --temperature\n"
    "                  T divides the logits, 0 takes the most likely token, default 1; for\n"
    "                  reconstruct and interpolate it is 0; interpolate takes --from-text\n"
    "                  WORDS --to-text WORDS as items 0 and 1)\n"
    "  vkvae reconstruct CKPT [-n 32] [--label K] -o recon.png   (--label: decode each\n"
    "                  item's code with class K, a conditional model's style transfer)\n"
    "  vkvae interpolate CKPT --from I --to J [--steps 10] [--slerp] -o interp.png\n"
    "  vkvae traverse CKPT --item I [--dims 0-9] [--range 3] [--steps 9] -o traverse.png\n"
    "  vkvae edit CKPT --item I --from-class A --to-class B [--strength 2] [--steps 8] -o edit.png\n"
    "  vkvae encode CKPT [--codes] -o codes.npy   (--codes: a VQ-VAE's code indices)\n"
    "  vkvae transfer CKPT [--shape 0-7] [--appearance 0-7] [--samples K] -o grid.png\n"
    "                  (a VU-Net: item I's shape with item J's appearance, for each I of\n"
    "                  --shape (rows) and J of --appearance (columns); --samples: K more\n"
    "                  columns of appearances drawn from the prior learned from the shape;\n"
    "                  lists are I,J,K and ranges I-J)\n"
    "\n"
    "common options:\n"
    "  --device D      Vulkan device index or name substring, or 'cpu'\n"
    "  --precision P   fp32 (default) or fp16: the products' arithmetic on a Vulkan device\n"
    "  --seed S        seed of the draws (default: the checkpoint's training seed)\n"
    CLI_DATA_USAGE
    "  --split S       test (default) or train: which images items index\n"
    "  --vq VQ_CKPT    sample: the VQ-VAE that decodes a codes prior's samples (default: the\n"
    "                  one the prior was trained on, `vkvae train --codes`)\n"
    "  --cols C --scale S --pad P   grid layout (columns, integer upscale, pixels between)\n";

static int parse(const char *cmd, int argc, char **argv, latent_opts *o)
{
    const cli_option options[] = {
        {CLI_FLAG("--mean", &o->mean)},
        {CLI_FLAG("--slerp", &o->slerp)},
        {CLI_FLAG("--codes", &o->codes)},
        {CLI_STRING("-o", &o->out)},
        {CLI_STRING("--out", &o->out)},
        {CLI_STRING("--device", &o->device)},
        {CLI_PRECISION("--precision", &o->precision)},
        CLI_DATA_OPTIONS(&o->data),
        {CLI_STRING("--split", &o->split)},
        {CLI_STRING("--vq", &o->vq)},
        {CLI_STRING("--dims", &o->dims)},
        {CLI_STRING("--shape", &o->shape)},
        {CLI_STRING("--appearance", &o->appearance)},
        {CLI_STRING("--from-text", &o->from_text)},
        {CLI_STRING("--to-text", &o->to_text)},
        {CLI_U32("--samples", &o->samples), .max = 64},
        {CLI_FLOAT("--range", &o->range)},
        {CLI_FLOAT("--strength", &o->strength)},
        {CLI_FLOAT("--temperature", &o->temperature)}, /* (0..100: the session says) */
        {CLI_U32("-n", &o->n)},
        {CLI_U32("--steps", &o->steps)},
        {CLI_U32("--cols", &o->cols)},
        {CLI_U32("--scale", &o->scale)},
        {CLI_U32("--pad", &o->pad)},
        {CLI_U32("--seed", &o->seed), .given = &o->has_seed},
        {CLI_U32("--label", &o->label), .given = &o->has_label},
        {CLI_U32("--from", &o->from), .given = &o->has_from},
        {CLI_U32("--to", &o->to), .given = &o->has_to},
        {CLI_U32("--item", &o->item), .given = &o->has_item},
        {CLI_U32("--from-class", &o->from_class), .given = &o->has_from_class},
        {CLI_U32("--to-class", &o->to_class), .given = &o->has_to_class},
        {NULL},
    };
    int r = cli_options_parse(&(cli_command_line){.cmd = cmd, .usage = latent_usage,
                                                  .options = options, .arg = &o->ckpt},
                              argc, argv);
    if (r >= 0)
        return r;
    if (!o->ckpt)
        return cli_fail(VKVAE_BAD_INPUT, "%s: which checkpoint? (vkvae %s CKPT ...)", cmd, cmd);
    if (o->n == 0 && (strcmp(cmd, "sample") == 0 || strcmp(cmd, "reconstruct") == 0))
        return cli_fail(VKVAE_BAD_INPUT, "%s: -n must be at least 1", cmd);
    int prints = strcmp(cmd, "sample") == 0 || strcmp(cmd, "reconstruct") == 0 ||
                 strcmp(cmd, "interpolate") == 0; /* (a text model's, without -o) */
    if (!o->out && !prints)
        return cli_fail(VKVAE_BAD_INPUT, "%s: -o OUTPUT is required", cmd);
    if (o->split && strcmp(o->split, "test") != 0 && strcmp(o->split, "train") != 0)
        return cli_fail(VKVAE_BAD_INPUT, "%s: --split '%s' is neither test nor train", cmd,
                        o->split);
    if (o->scale > 64 || o->pad > 256)
        return cli_fail(VKVAE_BAD_INPUT, "%s: --scale is at most 64 and --pad at most 256", cmd);
    return -1;
}

/* The image grid of n decoded images, laid out as the options say. */
static int write_grid(const latent_opts *o, const cli_model_handle *m, const float *images,
                      uint32_t n, uint32_t default_cols)
{
    const vkvae_plan *p = m->plan;
    uint32_t c = p->input_c ? p->input_c : 1, h = p->input_h ? p->input_h : 1;
    uint32_t w = p->input_w ? p->input_w : vkvae_session_features(m->session);
    vkvae_error err = {0};
    vkvae_png_grid grid = {.count = n, .channels = c, .height = h, .width = w, .images = images,
                           .cols = o->cols ? o->cols : default_cols, .scale = o->scale,
                           .pad = o->pad ? o->pad : 2};
    if (vkvae_png_write_grid(o->out, &grid, &err))
        return cli_fail(err.status, "%s", err.message);
    fprintf(stderr, "vkvae: wrote %s (%u images)\n", o->out, n);
    return 0;
}

/* The data set's images as floats in [0, 1], with labels; a text model's
 * lines (tokens as levels), with its vocabulary. */
typedef struct items {
    vkvae_idx_dataset ds;
    const vkvae_idx *images, *labels;
    float scale;        /* a byte's divisor (cli_byte_scale) */
    vkvae_vocab vocab;  /* a text model's (the checkpoint's); else zeroed */
} items;

/* A text model's items: --data's lines read with the checkpoint's
 * vocabulary, or --from-text and --to-text as items 0 and 1 of the split;
 * its decoding at --temperature (reconstruct and interpolate: greedy by
 * default). */
static int load_text_items(const latent_opts *o, const cli_model_handle *m, items *it)
{
    int r = cli_text_vocab(o->ckpt, &it->vocab);
    if (!r && (!o->from_text != !o->to_text))
        r = cli_fail(VKVAE_BAD_INPUT, "--from-text and --to-text go together");
    if (!r && o->from_text) {
        size_t size = strlen(o->from_text) + strlen(o->to_text) + 2;
        char *lines = malloc(size);
        if (!lines)
            r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
        else
            snprintf(lines, size, "%s\n%s", o->from_text, o->to_text);
        if (!r && (strchr(o->from_text, '\n') || strchr(o->to_text, '\n')))
            r = cli_fail(VKVAE_BAD_INPUT, "--from-text and --to-text are a line each");
        if (!r && (r = cli_text_lines("--from-text/--to-text", lines, &it->vocab, m->plan,
                                      &it->ds.test_images)) == 0 &&
            it->ds.test_images.count != 2)
            r = cli_fail(VKVAE_BAD_INPUT, "--from-text and --to-text need a token each");
        if (!r && !(it->ds.train_images.path = strdup(it->ds.test_images.path)))
            r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
        free(lines);
    } else if (!r) {
        r = cli_text_data(&o->data, m->plan, o->ckpt, &it->ds, NULL);
    }
    vkvae_error err = {0};
    if (!r && vkvae_session_set_temperature(m->session, o->temperature, &err))
        r = cli_fail(err.status, "%s", err.message);
    if (r) {
        vkvae_idx_dataset_destroy(&it->ds);
        vkvae_vocab_destroy(&it->vocab);
    }
    return r;
}

static void items_destroy(items *it)
{
    vkvae_idx_dataset_destroy(&it->ds);
    vkvae_vocab_destroy(&it->vocab);
}

static int load_items(const latent_opts *o, const cli_model_handle *m, items *it)
{
    memset(it, 0, sizeof *it);
    int r = m->plan->input_vocab ? load_text_items(o, m, it)
                                 : cli_data_load(&o->data, m->plan, &it->ds, NULL);
    if (r)
        return r;
    int train = o->split && strcmp(o->split, "train") == 0;
    it->images = train ? &it->ds.train_images : &it->ds.test_images;
    it->labels = train ? &it->ds.train_labels : &it->ds.test_labels;
    it->scale = cli_byte_scale(m->plan);
    uint32_t features = vkvae_session_features(m->session);
    const vkvae_idx *i = it->images;
    if ((uint64_t)i->channels * i->rows * i->cols != features) {
        const vkvae_plan *p = m->plan;
        int r = cli_fail(VKVAE_BAD_INPUT, "%s: images are %ux%ux%u, model %s takes %ux%ux%u",
                         i->path, i->channels, i->rows, i->cols, p->model, p->input_c,
                         p->input_h, p->input_w);
        items_destroy(it);
        return r;
    }
    return 0;
}

static void item_pixels(const items *it, uint32_t index, float *dst, uint32_t features);

/* A text model's rows (steps levels each) as lines on stdout (or -o), each
 * after its item's own text when inputs is not NULL ("input -> output"). */
static int print_text(const latent_opts *o, const cli_model_handle *m, const items *it,
                      const uint32_t *inputs, const float *rows, uint32_t n)
{
    uint32_t T = m->plan->input_w, V = m->plan->input_vocab;
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f)
        return cli_fail(VKVAE_IO, "%s: %s", o->out, strerror(errno));
    float *x = malloc((size_t)T * sizeof *x);
    char a[2048], b[2048];
    for (uint32_t i = 0; x && i < n; i++) {
        cli_text_row(&it->vocab, rows + (size_t)i * T, T, V, b, sizeof b);
        if (inputs) {
            item_pixels(it, inputs[i], x, T);
            cli_text_row(&it->vocab, x, T, V, a, sizeof a);
            fprintf(f, "%s -> %s\n", a, b);
        } else {
            fprintf(f, "%s\n", b);
        }
    }
    free(x);
    int bad = ferror(f) | (o->out ? fclose(f) : fflush(f));
    if (!x)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (bad)
        return cli_fail(VKVAE_IO, "%s: cannot write", o->out ? o->out : "stdout");
    if (o->out)
        fprintf(stderr, "vkvae: wrote %s (%u lines)\n", o->out, n);
    return 0;
}

static int check_item(const items *it, const char *flag, uint32_t index)
{
    if (index >= it->images->count)
        return cli_fail(VKVAE_BAD_INPUT, "%s %u is out of range: %s has items 0..%u", flag, index,
                        it->images->path, it->images->count - 1);
    return 0;
}

static void item_pixels(const items *it, uint32_t index, float *dst, uint32_t features)
{
    const uint8_t *src = it->images->data + (size_t)index * features;
    for (uint32_t i = 0; i < features; i++)
        dst[i] = (float)src[i] / it->scale;
}

/* Encodes items into mu (n * latent); labels go along for conditional models. */
static int encode_items(cli_model_handle *m, const items *it, const uint32_t *index, uint32_t n,
                        float *mu, float *logvar, uint32_t *labels_out)
{
    uint32_t features = vkvae_session_features(m->session);
    float *x = malloc((size_t)n * features * sizeof *x);
    uint32_t *labels = malloc((size_t)n * sizeof *labels);
    if (!x || !labels) {
        free(x);
        free(labels);
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        item_pixels(it, index[i], x + (size_t)i * features, features);
        labels[i] = it->labels->data ? it->labels->data[index[i]] : 0;
    }
    vkvae_error err = {0};
    vkvae_status s = vkvae_session_encode(m->session, x, vkvae_session_classes(m->session) ? labels : NULL,
                                          n, mu, logvar, &err);
    if (labels_out)
        memcpy(labels_out, labels, (size_t)n * sizeof *labels);
    free(x);
    free(labels);
    return s ? cli_fail(err.status, "%s", err.message) : 0;
}

/* Decodes n codes (labels go along for conditional models); a model that
 * decodes on images (a condition computed from one: a VU-Net's shape) gets
 * item shape[i]'s image with code i. */
static int decode(cli_model_handle *m, const items *it, const uint32_t *shape, const float *z,
                  const uint32_t *labels, uint32_t n, float *out)
{
    uint32_t features = vkvae_session_features(m->session);
    float *images = NULL;
    if (vkvae_session_decodes_on_images(m->session)) {
        images = malloc((size_t)n * features * sizeof *images);
        if (!images)
            return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
        for (uint32_t i = 0; i < n; i++)
            item_pixels(it, shape[i], images + (size_t)i * features, features);
    }
    vkvae_error err = {0};
    vkvae_status s = vkvae_session_decode_on_images(
        m->session, z, vkvae_session_classes(m->session) ? labels : NULL, images, n, out, &err);
    free(images);
    return s ? cli_fail(err.status, "%s", err.message) : 0;
}

typedef int (*latent_job)(latent_opts *o, cli_model_handle *m);

static int run_job(const char *cmd, int argc, char **argv, latent_opts defaults, latent_job job)
{
    latent_opts o = defaults;
    int r = parse(cmd, argc, argv, &o);
    if (r >= 0)
        return r;
    /* Fail on an unwritable output before any work. Outputs are written
     * atomically, so a failure later leaves an existing file as it was. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", o.out ? o.out : ".");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (o.out && access(dir, W_OK | X_OK) != 0)
        return cli_fail(VKVAE_IO, "%s: cannot write there: %s", o.out, strerror(errno));
    cli_model_handle m;
    r = cli_model_open(cmd, o.ckpt, 0, o.device, o.precision, &m);
    if (r)
        return r;
    int text_ok = strcmp(cmd, "sample") == 0 || strcmp(cmd, "reconstruct") == 0 ||
                  strcmp(cmd, "interpolate") == 0 || strcmp(cmd, "encode") == 0;
    if (m.plan->input_vocab && !text_ok)
        r = cli_fail(VKVAE_BAD_INPUT, "%s: model %s reads text: sample, reconstruct, "
                     "interpolate and encode take it (not %s yet)", cmd, m.plan->model, cmd);
    else if (!o.out && !m.plan->input_vocab)
        r = cli_fail(VKVAE_BAD_INPUT, "%s: -o OUTPUT is required", cmd);
    if (r) {
        cli_model_close(&m);
        return r;
    }
    if (!o.has_seed)
        o.seed = m.seed;
    r = job(&o, &m);
    int closed = cli_model_close(&m);
    return r ? r : closed;
}

/* ---- sample ---- */

/* A prior over a VQ-VAE's codes: code grids drawn, decoded by that VQ-VAE
 * (--vq, else the checkpoint the prior was trained on). */
static int sample_codes(latent_opts *o, cli_model_handle *m, const char *vq_ckpt)
{
    cli_model_handle vq;
    int r = cli_codes_open("sample", vq_ckpt, o->device, o->precision, m->plan, &vq);
    if (r)
        return r;
    float *img = NULL;
    vkvae_error err = {0};
    if (cli_codes_sample(m->session, vq.session, o->seed, o->n, &img, &err))
        r = cli_fail(err.status, "%s", err.message);
    else
        r = write_grid(o, &vq, img, o->n, 0);
    free(img);
    int closed = cli_model_close(&vq);
    return r ? r : closed;
}

/* A prior learned from an image's condition (a VU-Net's p(a|s)): -n
 * draws shared out over the first 8 items of --split, a row an item: the
 * item, then the codes drawn from its condition, decoded with it. */
static int sample_on_items(latent_opts *o, cli_model_handle *m)
{
    items it;
    int r = load_items(o, m, &it);
    if (r)
        return r;
    uint32_t rows = it.images->count < 8 ? it.images->count : 8;
    uint32_t per = rows && o->n / rows ? o->n / rows : 1, cols = per + 1;
    uint32_t features = vkvae_session_features(m->session);
    float *cond = malloc((size_t)rows * per * features * sizeof *cond);
    float *draws = malloc((size_t)rows * per * features * sizeof *draws);
    float *grid = malloc((size_t)rows * cols * features * sizeof *grid);
    if (!cond || !draws || !grid)
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; !r && i < rows * per; i++)
        item_pixels(&it, i / per, cond + (size_t)i * features, features);
    vkvae_error err = {0};
    if (!r && vkvae_session_sample_on_images(m->session, o->seed, rows * per, 0, cond, draws,
                                             &err))
        r = cli_fail(err.status, "%s", err.message);
    for (uint32_t i = 0; !r && i < rows; i++) {
        float *row = grid + (size_t)i * cols * features;
        item_pixels(&it, i, row, features);
        memcpy(row + features, draws + (size_t)i * per * features,
               (size_t)per * features * sizeof *draws);
    }
    if (!r)
        r = write_grid(o, m, grid, rows * cols, cols);
    free(cond), free(draws), free(grid);
    items_destroy(&it);
    return r;
}

/* A text model's samples: lines of text, into -o or printed. */
static int sample_text(latent_opts *o, cli_model_handle *m)
{
    const vkvae_plan *p = m->plan;
    vkvae_vocab v;
    int r = cli_text_vocab(o->ckpt, &v);
    if (r)
        return r;
    float *levels = malloc((size_t)o->n * p->input_w * sizeof *levels);
    vkvae_error err = {0};
    if (!levels)
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    else if (vkvae_session_set_temperature(m->session, o->temperature, &err) ||
             vkvae_session_sample(m->session, o->seed, o->n, 0, levels, &err))
        r = cli_fail(err.status, "%s", err.message);
    if (!r)
        r = cli_text_write(o->out, &v, levels, o->n, p->input_w, p->input_vocab);
    free(levels);
    vkvae_vocab_destroy(&v);
    return r;
}

static int job_sample(latent_opts *o, cli_model_handle *m)
{
    if (m->plan->input_vocab) {
        if (o->has_label || o->mean)
            return cli_fail(VKVAE_BAD_INPUT, "sample: %s: a text model draws its tokens "
                            "(--temperature 0: the most likely)", o->has_label ? "--label"
                            : "--mean");
        return sample_text(o, m);
    }
    char vq_path[4096];
    int r = o->vq ? 0 : cli_codes_source(o->ckpt, vq_path, sizeof vq_path);
    if (r)
        return r;
    if (o->vq || vq_path[0]) {
        if (o->has_label)
            return cli_fail(VKVAE_BAD_INPUT, "sample: --label: a prior over codes is not "
                            "conditional");
        if (!o->vq && access(vq_path, R_OK) != 0)
            return cli_fail(VKVAE_IO, "sample: %s was trained on the codes of %s, which is not "
                            "there (%s): --vq CKPT names the VQ-VAE that decodes them", o->ckpt,
                            vq_path, strerror(errno));
        return sample_codes(o, m, o->vq ? o->vq : vq_path);
    }
    uint32_t classes = vkvae_session_classes(m->session);
    if (o->has_label && !classes)
        return cli_fail(VKVAE_BAD_INPUT, "sample: --label: model %s is not conditional",
                        m->plan->model);
    if (o->has_label && o->label >= classes)
        return cli_fail(VKVAE_BAD_INPUT, "sample: --label %u is out of range: model %s has "
                        "classes 0..%u", o->label, m->plan->model, classes - 1);
    if (vkvae_session_decodes_on_images(m->session))
        return sample_on_items(o, m);
    uint32_t features = vkvae_session_features(m->session);
    float *img = malloc((size_t)o->n * features * sizeof *img);
    if (!img)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    vkvae_error err = {0};
    if (vkvae_session_sample(m->session, o->seed, o->n, o->label, img, &err)) {
        free(img);
        return cli_fail(err.status, "%s", err.message);
    }
    /* A sample from the likelihood unless --mean: Bernoulli draws with
     * Philox, so every backend gives the same picture. */
    if (!o->mean && !m->plan->sample_passes) /* (a pixel model's program draws) */
        for (size_t i = 0; i < (size_t)o->n * features; i++)
            img[i] = vkvae_rand_uniform(o->seed, VKVAE_STREAM_LIKELIHOOD, 0, (uint32_t)i) < img[i]
                         ? 1.0f : 0.0f;
    r = write_grid(o, m, img, o->n, 0);
    free(img);
    return r;
}

int cmd_sample(int argc, char **argv)
{
    return run_job("sample", argc, argv, (latent_opts){.n = 64, .temperature = 1}, job_sample);
}

/* ---- reconstruct ---- */

static int job_reconstruct(latent_opts *o, cli_model_handle *m)
{
    items it;
    int r = load_items(o, m, &it);
    if (r)
        return r;
    uint32_t n = o->n < it.images->count ? o->n : it.images->count;
    uint32_t features = vkvae_session_features(m->session), latent = vkvae_session_latent(m->session);
    uint32_t *index = calloc(n ? n : 1, sizeof *index), *labels = calloc(n ? n : 1, sizeof *labels);
    float *mu = malloc((size_t)n * latent * sizeof *mu);
    float *grid = malloc((size_t)2 * n * features * sizeof *grid);
    float *rec = malloc((size_t)n * features * sizeof *rec);
    if (!index || !labels || !mu || !grid || !rec)
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; !r && i < n; i++)
        index[i] = i;
    uint32_t classes = vkvae_session_classes(m->session);
    if (!r && o->has_label && !classes)
        r = cli_fail(VKVAE_BAD_INPUT, "reconstruct: --label: model %s is not conditional",
                     m->plan->model);
    if (!r && o->has_label && o->label >= classes)
        r = cli_fail(VKVAE_BAD_INPUT, "reconstruct: --label %u is out of range: model %s has "
                     "classes 0..%u", o->label, m->plan->model, classes - 1);
    if (!r)
        r = encode_items(m, &it, index, n, mu, NULL, labels);
    /* --label: each code (encoded with its own label) decoded as class K */
    for (uint32_t i = 0; !r && o->has_label && i < n; i++)
        labels[i] = o->label;
    if (!r)
        r = decode(m, &it, index, mu, labels, n, rec);
    /* Pairs side by side: input, reconstruction. */
    for (uint32_t i = 0; !r && i < n; i++) {
        item_pixels(&it, i, grid + (size_t)(2 * i) * features, features);
        memcpy(grid + (size_t)(2 * i + 1) * features, rec + (size_t)i * features,
               features * sizeof *rec);
    }
    if (!r && m->plan->input_vocab)
        r = print_text(o, m, &it, index, rec, n);
    else if (!r)
        r = write_grid(o, m, grid, 2 * n, 16);
    free(index), free(labels), free(mu), free(grid), free(rec);
    items_destroy(&it);
    return r;
}

int cmd_reconstruct(int argc, char **argv)
{
    return run_job("reconstruct", argc, argv, (latent_opts){.n = 32}, job_reconstruct);
}

/* ---- interpolate ---- */

static void lerp_or_slerp(const float *a, const float *b, uint32_t L, float t, int slerp,
                          float *out)
{
    double dot = 0, na = 0, nb = 0;
    for (uint32_t i = 0; i < L; i++)
        dot += (double)a[i] * b[i], na += (double)a[i] * a[i], nb += (double)b[i] * b[i];
    double cosine = na > 0 && nb > 0 ? dot / sqrt(na * nb) : 1.0;
    double omega = acos(fmax(-1.0, fmin(1.0, cosine)));
    if (!slerp || omega < 1e-6) { /* nearly parallel codes: slerp is lerp */
        for (uint32_t i = 0; i < L; i++)
            out[i] = (1.0f - t) * a[i] + t * b[i];
        return;
    }
    double wa = sin((1.0 - t) * omega) / sin(omega), wb = sin(t * omega) / sin(omega);
    for (uint32_t i = 0; i < L; i++)
        out[i] = (float)(wa * a[i] + wb * b[i]);
}

static int job_interpolate(latent_opts *o, cli_model_handle *m)
{
    if (o->from_text && !o->has_from && !o->has_to) /* (a text model's given lines) */
        o->from = 0, o->to = 1, o->has_from = o->has_to = 1;
    if (!o->has_from || !o->has_to)
        return cli_fail(VKVAE_BAD_INPUT, "interpolate: --from I and --to J are required%s",
                        m->plan->input_vocab ? " (or --from-text and --to-text)" : "");
    if (o->steps < 2)
        return cli_fail(VKVAE_BAD_INPUT, "interpolate: --steps must be at least 2");
    items it;
    int r = load_items(o, m, &it);
    if (!r)
        r = check_item(&it, "--from", o->from);
    if (!r)
        r = check_item(&it, "--to", o->to);
    uint32_t L = vkvae_session_latent(m->session), features = vkvae_session_features(m->session);
    float mu[2 * 1024];
    uint32_t labels[2];
    float *z = malloc((size_t)o->steps * L * sizeof *z);
    uint32_t *zl = malloc((size_t)o->steps * sizeof *zl);
    uint32_t *shape = malloc((size_t)o->steps * sizeof *shape);
    float *img = malloc((size_t)o->steps * features * sizeof *img);
    if (!r && (L > 1024 || !z || !zl || !shape || !img))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    uint32_t pair[2] = {o->from, o->to};
    if (!r)
        r = encode_items(m, &it, pair, 2, mu, NULL, labels);
    for (uint32_t j = 0; !r && j < o->steps; j++) {
        float t = (float)j / (float)(o->steps - 1);
        lerp_or_slerp(mu, mu + L, L, t, o->slerp, z + (size_t)j * L);
        zl[j] = t < 0.5f ? labels[0] : labels[1];
        shape[j] = t < 0.5f ? o->from : o->to;
    }
    if (!r)
        r = decode(m, &it, shape, z, zl, o->steps, img);
    if (!r && m->plan->input_vocab)
        r = print_text(o, m, &it, NULL, img, o->steps);
    else if (!r)
        r = write_grid(o, m, img, o->steps, o->steps);
    free(z), free(zl), free(shape), free(img);
    items_destroy(&it);
    return r;
}

int cmd_interpolate(int argc, char **argv)
{
    return run_job("interpolate", argc, argv, (latent_opts){.steps = 10}, job_interpolate);
}

/* ---- traverse ---- */

static int parse_dims(const char *text, uint32_t latent, uint32_t *first, uint32_t *last)
{
    char *end;
    unsigned long a = strtoul(text, &end, 10), b = a;
    if (end == text)
        return cli_fail(VKVAE_BAD_INPUT, "traverse: --dims '%s' is not N or N-M", text);
    if (*end == '-') {
        const char *rest = end + 1;
        b = strtoul(rest, &end, 10);
        if (end == rest)
            return cli_fail(VKVAE_BAD_INPUT, "traverse: --dims '%s' is not N or N-M", text);
    }
    if (*end || a > b || b >= latent)
        return cli_fail(VKVAE_BAD_INPUT, "traverse: --dims '%s': the latent has dimensions 0..%u",
                        text, latent - 1);
    *first = (uint32_t)a;
    *last = (uint32_t)b;
    return 0;
}

static int job_traverse(latent_opts *o, cli_model_handle *m)
{
    if (!o->has_item)
        return cli_fail(VKVAE_BAD_INPUT, "traverse: --item I is required");
    if (o->steps < 2 || o->steps % 2 == 0)
        return cli_fail(VKVAE_BAD_INPUT, "traverse: --steps must be odd and at least 3, so the "
                        "centre column is the item itself");
    uint32_t L = vkvae_session_latent(m->session), features = vkvae_session_features(m->session);
    uint32_t first = 0, last = L < 10 ? L - 1 : 9;
    int r = o->dims ? parse_dims(o->dims, L, &first, &last) : 0;
    items it;
    if (!r)
        r = load_items(o, m, &it);
    else
        return r;
    if (!r)
        r = check_item(&it, "--item", o->item);
    uint32_t rows = last - first + 1, n = rows * o->steps, label = 0;
    float *mu = malloc((size_t)L * sizeof *mu), *z = malloc((size_t)n * L * sizeof *z);
    uint32_t *zl = malloc((size_t)n * sizeof *zl), *shape = malloc((size_t)n * sizeof *shape);
    float *img = malloc((size_t)n * features * sizeof *img);
    if (!r && (!mu || !z || !zl || !shape || !img))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!r)
        r = encode_items(m, &it, &o->item, 1, mu, NULL, &label);
    float range = o->range > 0 ? o->range : 3.0f;
    for (uint32_t d = 0; !r && d < rows; d++)
        for (uint32_t j = 0; j < o->steps; j++) {
            float *zz = z + ((size_t)d * o->steps + j) * L;
            memcpy(zz, mu, L * sizeof *zz);
            /* offsets -range..range; the centre column is offset 0: the item's code */
            if (2 * j + 1 != o->steps)
                zz[first + d] += range * (2.0f * (float)j / (float)(o->steps - 1) - 1.0f);
            zl[d * o->steps + j] = label;
            shape[d * o->steps + j] = o->item;
        }
    if (!r)
        r = decode(m, &it, shape, z, zl, n, img);
    if (!r)
        r = write_grid(o, m, img, n, o->steps);
    free(mu), free(z), free(zl), free(shape), free(img);
    items_destroy(&it);
    return r;
}

int cmd_traverse(int argc, char **argv)
{
    return run_job("traverse", argc, argv, (latent_opts){.steps = 9}, job_traverse);
}

/* ---- edit ---- */

static int job_edit(latent_opts *o, cli_model_handle *m)
{
    if (!o->has_item || !o->has_from_class || !o->has_to_class)
        return cli_fail(VKVAE_BAD_INPUT, "edit: --item, --from-class and --to-class are required");
    items it;
    int r = load_items(o, m, &it);
    if (r)
        return r;
    r = check_item(&it, "--item", o->item);
    uint32_t L = vkvae_session_latent(m->session), features = vkvae_session_features(m->session);
    uint32_t n = it.images->count, steps = o->steps ? o->steps : 8;
    uint32_t top = 0;
    if (!r && !it.labels->data)
        r = cli_fail(VKVAE_BAD_INPUT, "edit: %s has no labels to tell the classes apart "
                     "(--labels)", it.images->path);
    for (uint32_t i = 0; !r && i < n; i++)
        top = it.labels->data[i] > top ? it.labels->data[i] : top;
    if (!r && (o->from_class > top || o->to_class > top))
        r = cli_fail(VKVAE_BAD_INPUT, "edit: class %u is out of range: %s has labels 0..%u",
                     o->from_class > top ? o->from_class : o->to_class, it.labels->path, top);
    uint32_t *index = calloc(n ? n : 1, sizeof *index), *labels = calloc(n ? n : 1, sizeof *labels);
    float *mu = malloc((size_t)n * L * sizeof *mu), *z = malloc((size_t)(steps + 1) * L * sizeof *z);
    uint32_t *zl = malloc((size_t)(steps + 1) * sizeof *zl);
    uint32_t *shape = malloc((size_t)(steps + 1) * sizeof *shape);
    float *img = malloc((size_t)(steps + 1) * features * sizeof *img);
    if (!r && (!index || !labels || !mu || !z || !zl || !shape || !img))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; !r && i < n; i++)
        index[i] = i;
    if (!r)
        r = encode_items(m, &it, index, n, mu, NULL, labels);
    /* The attribute direction: mean code of class B minus mean code of class A. */
    double *sum_a = calloc(L, sizeof *sum_a), *sum_b = calloc(L, sizeof *sum_b);
    uint32_t count_a = 0, count_b = 0;
    if (!r && (!sum_a || !sum_b))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; !r && i < n; i++) {
        double *sum = labels[i] == o->to_class ? sum_b : labels[i] == o->from_class ? sum_a : NULL;
        if (!sum)
            continue;
        sum == sum_b ? count_b++ : count_a++;
        for (uint32_t k = 0; k < L; k++)
            sum[k] += mu[(size_t)i * L + k];
    }
    if (!r && (!count_a || !count_b))
        r = cli_fail(VKVAE_BAD_INPUT, "edit: no items of class %u in %s",
                     count_a ? o->to_class : o->from_class, it.labels->path);
    /* One row: the item's code moved by 0 .. strength times the direction. */
    float strength = o->strength != 0 ? o->strength : 1.0f;
    for (uint32_t j = 0; !r && j <= steps; j++) {
        float s = strength * (float)j / (float)steps;
        for (uint32_t k = 0; k < L; k++) {
            double dir = sum_b[k] / count_b - sum_a[k] / count_a;
            z[(size_t)j * L + k] = mu[(size_t)o->item * L + k] + s * (float)dir;
        }
        zl[j] = labels[o->item];
        shape[j] = o->item;
    }
    if (!r)
        r = decode(m, &it, shape, z, zl, steps + 1, img);
    if (!r)
        r = write_grid(o, m, img, steps + 1, steps + 1);
    free(sum_a), free(sum_b), free(index), free(labels), free(mu), free(z), free(zl), free(shape),
        free(img);
    items_destroy(&it);
    return r;
}

int cmd_edit(int argc, char **argv)
{
    return run_job("edit", argc, argv, (latent_opts){.steps = 8}, job_edit);
}

/* ---- transfer ---- */

enum { MAX_LISTED = 64 };

/* A list of items "I,J,K" with ranges "I-J" (default first-last) into
 * index, at most MAX_LISTED, each checked against the data set. */
static int parse_items(const char *text, const char *flag, const items *it, uint32_t first,
                       uint32_t last, uint32_t *index, uint32_t *n)
{
    *n = 0;
    if (!text) {
        for (uint32_t i = first; i <= last && i < it->images->count; i++)
            index[(*n)++] = i;
        return 0;
    }
    for (const char *p = text; *p;) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p)
            return cli_fail(VKVAE_BAD_INPUT, "transfer: %s '%s' is not a list of items "
                            "(I,J,K or I-J)", flag, text);
        if (*end == '-') {
            const char *rest = end + 1;
            b = strtoul(rest, &end, 10);
            if (end == rest || b < a)
                return cli_fail(VKVAE_BAD_INPUT, "transfer: %s '%s': a range is I-J with "
                                "I <= J", flag, text);
        }
        for (unsigned long i = a; i <= b; i++) {
            if (*n == MAX_LISTED)
                return cli_fail(VKVAE_BAD_INPUT, "transfer: %s '%s' lists more than %d items",
                                flag, text, MAX_LISTED);
            if (i >= it->images->count)
                return check_item(it, flag, (uint32_t)(i > UINT32_MAX ? UINT32_MAX : i));
            index[(*n)++] = (uint32_t)i;
        }
        if (*end && *end != ',')
            return cli_fail(VKVAE_BAD_INPUT, "transfer: %s '%s' is not a list of items "
                            "(I,J,K or I-J)", flag, text);
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* A grid of shapes (rows) by appearances (columns): the top row the
 * appearance items, the left column the shape items, and cell (i, j)
 * appearance j's code decoded with shape i's condition; --samples K
 * more columns of appearances drawn from the prior learned from shape i. */
static int job_transfer(latent_opts *o, cli_model_handle *m)
{
    if (!vkvae_session_decodes_on_images(m->session) || !vkvae_session_latent(m->session))
        return cli_fail(VKVAE_BAD_INPUT, "transfer: model %s decodes its code without an "
                        "image's shape: transfer needs a prior learned from a condition "
                        "computed from the image (vunet)", m->plan->model);
    items it;
    int r = load_items(o, m, &it);
    if (r)
        return r;
    uint32_t shape[MAX_LISTED], app[MAX_LISTED], S = 0, A = 0, K = o->samples;
    r = parse_items(o->shape, "--shape", &it, 0, 7, shape, &S);
    if (!r)
        r = parse_items(o->appearance, "--appearance", &it, 0, 7, app, &A);
    uint32_t L = vkvae_session_latent(m->session), features = vkvae_session_features(m->session);
    uint32_t cols = 1 + A + K, cells = S * (A + K);
    float *mu = malloc((size_t)A * L * sizeof *mu), *z = malloc((size_t)S * A * L * sizeof *z);
    uint32_t *rows_shape = malloc((size_t)(cells ? cells : 1) * sizeof *rows_shape);
    float *out = malloc((size_t)cells * features * sizeof *out);
    float *cond = malloc((size_t)S * K * features * sizeof *cond + 1);
    float *grid = calloc((size_t)(S + 1) * cols * features, sizeof *grid);
    if (!r && (!mu || !z || !rows_shape || !out || !cond || !grid))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!r)
        r = encode_items(m, &it, app, A, mu, NULL, NULL);
    for (uint32_t i = 0; !r && i < S; i++)
        for (uint32_t j = 0; j < A; j++) {
            memcpy(z + ((size_t)i * A + j) * L, mu + (size_t)j * L, L * sizeof *z);
            rows_shape[i * A + j] = shape[i];
        }
    if (!r)
        r = decode(m, &it, rows_shape, z, NULL, S * A, out);
    vkvae_error err = {0};
    for (uint32_t i = 0; !r && i < S * K; i++)
        item_pixels(&it, shape[i / K], cond + (size_t)i * features, features);
    if (!r && K && vkvae_session_sample_on_images(m->session, o->seed, S * K, 0, cond,
                                                  out + (size_t)S * A * features, &err))
        r = cli_fail(err.status, "%s", err.message);
    /* the grid: a blank corner, then row 0 the appearances, column 0 the shapes */
    for (uint32_t j = 0; !r && j < A; j++)
        item_pixels(&it, app[j], grid + (size_t)(1 + j) * features, features);
    for (uint32_t i = 0; !r && i < S; i++) {
        float *row = grid + (size_t)(i + 1) * cols * features;
        item_pixels(&it, shape[i], row, features);
        memcpy(row + features, out + (size_t)i * A * features, (size_t)A * features * sizeof *out);
        memcpy(row + (size_t)(1 + A) * features, out + ((size_t)S * A + (size_t)i * K) * features,
               (size_t)K * features * sizeof *out);
    }
    if (!r)
        r = write_grid(o, m, grid, (S + 1) * cols, cols);
    free(mu), free(z), free(rows_shape), free(out), free(cond), free(grid);
    items_destroy(&it);
    return r;
}

int cmd_transfer(int argc, char **argv)
{
    return run_job("transfer", argc, argv, (latent_opts){0}, job_transfer);
}

/* ---- encode ---- */

/* Writes codes as a NumPy .npy file (format 1.0) of one structured array:
 * per item its mu, its log-variance (for a Gaussian latent) and its label,
 * so `numpy.load(path)["mu"]` gives an [N, latent] float32 array; with
 * grid (encode --codes of a VQ-VAE) mu holds the code indices as int32 on
 * the grid: `numpy.load(path)["codes"]` is [N, H, W]. */
static vkvae_status write_npy(const char *path, const float *mu, const float *logvar,
                              const uint32_t *labels, uint32_t n, uint32_t L,
                              const vkvae_code_grid *grid, vkvae_error *err)
{
    char header[512];
    int len;
    if (grid)
        len = snprintf(header, sizeof header,
                       "{'descr': [('codes', '<i4', (%u, %u)), ('label', '|u1')], "
                       "'fortran_order': False, 'shape': (%u,), }",
                       grid->height, grid->width, n);
    else if (logvar)
        len = snprintf(header, sizeof header,
                       "{'descr': [('mu', '<f4', (%u,)), ('logvar', '<f4', (%u,)), ('label', "
                       "'|u1')], 'fortran_order': False, 'shape': (%u,), }",
                       L, L, n);
    else
        len = snprintf(header, sizeof header,
                       "{'descr': [('mu', '<f4', (%u,)), ('label', '|u1')], 'fortran_order': "
                       "False, 'shape': (%u,), }",
                       L, n);
    /* Pad with spaces so the data starts on a 64-byte boundary, ending in \n. */
    while ((10 + len + 1) % 64 != 0)
        header[len++] = ' ';
    header[len++] = '\n';
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  (unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
    vkvae_atomic_file f;
    vkvae_status s = vkvae_atomic_begin(&f, path, err);
    if (!s)
        s = vkvae_atomic_write(&f, preamble, sizeof preamble, err);
    if (!s)
        s = vkvae_atomic_write(&f, header, (size_t)len, err);
    for (uint32_t i = 0; !s && i < n; i++) {
        s = vkvae_atomic_write(&f, mu + (size_t)i * L, L * sizeof *mu, err);
        if (!s && logvar)
            s = vkvae_atomic_write(&f, logvar + (size_t)i * L, L * sizeof *logvar, err);
        uint8_t label = (uint8_t)labels[i];
        if (!s)
            s = vkvae_atomic_write(&f, &label, 1, err);
    }
    if (!s)
        s = vkvae_atomic_commit(&f, err);
    else
        vkvae_atomic_abort(&f);
    return s;
}

/* encode --codes: each item's code indices (int32, the same bytes as a
 * float's width) in mu's place. */
static int encode_codes(cli_model_handle *m, const items *it, uint32_t n, float *mu,
                        uint32_t *labels)
{
    uint32_t features = vkvae_session_features(m->session);
    float *x = malloc((size_t)n * features * sizeof *x + 1);
    if (!x)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < n; i++) {
        item_pixels(it, i, x + (size_t)i * features, features);
        labels[i] = it->labels->data ? it->labels->data[i] : 0;
    }
    vkvae_error err = {0};
    uint32_t *codes = (uint32_t *)mu; /* (codes fit: L = h * w floats an item) */
    vkvae_status s = vkvae_session_encode_codes(m->session, x, n, codes, &err);
    free(x);
    return s ? cli_fail(err.status, "%s", err.message) : 0;
}

static int job_encode(latent_opts *o, cli_model_handle *m)
{
    vkvae_code_grid grid = vkvae_session_code_grid(m->session);
    if (o->codes && !grid.codes)
        return cli_fail(VKVAE_BAD_INPUT, "encode: --codes: model %s has no codebook (a VQ-VAE's "
                        "encoder ends in one)", m->plan->model);
    items it;
    int r = load_items(o, m, &it);
    if (r)
        return r;
    uint32_t n = o->n && o->n < it.images->count ? o->n : it.images->count;
    uint32_t L = o->codes ? grid.height * grid.width : vkvae_session_latent(m->session);
    int gaussian = !o->codes && vkvae_plan_find_tensor(m->plan, "io.logvar") != UINT32_MAX;
    uint32_t *index = calloc(n ? n : 1, sizeof *index), *labels = calloc(n ? n : 1, sizeof *labels);
    float *mu = malloc((size_t)n * L * sizeof *mu);
    float *logvar = gaussian ? malloc((size_t)n * L * sizeof *logvar) : NULL;
    if (!index || !labels || !mu || (gaussian && !logvar))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (uint32_t i = 0; !r && i < n; i++)
        index[i] = i;
    if (!r)
        r = o->codes ? encode_codes(m, &it, n, mu, labels)
                     : encode_items(m, &it, index, n, mu, logvar, labels);
    vkvae_error err = {0};
    if (!r && write_npy(o->out, mu, logvar, labels, n, L, o->codes ? &grid : NULL, &err))
        r = cli_fail(err.status, "%s", err.message);
    if (!r && o->codes)
        fprintf(stderr, "vkvae: wrote %s (%u grids of %ux%u code indices 0..%u, int32)\n",
                o->out, n, grid.height, grid.width, grid.codes - 1);
    else if (!r)
        fprintf(stderr, "vkvae: wrote %s (%u codes of %u dimensions%s)\n", o->out, n, L,
                gaussian ? ", mu and logvar" : "");
    free(index), free(labels), free(mu), free(logvar);
    items_destroy(&it);
    return r;
}

int cmd_encode(int argc, char **argv)
{
    return run_job("encode", argc, argv, (latent_opts){0}, job_encode);
}
