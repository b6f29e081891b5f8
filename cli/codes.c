/* Two stages: a prior trained on the codes of a VQ-VAE checkpoint
 * (`vkvae train pixelcnn_codes --codes VQ_CKPT`), sampled as code grids
 * and decoded to images by that VQ-VAE (`vkvae sample PRIOR_CKPT`). The
 * codes are computed on the device by the VQ-VAE's encode program and
 * handed to the prior as a data set of bytes on the code grid, which an
 * input line of 'levels K' reads as k/(K-1); nothing is written to disk.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io/safetensors.h"
#include "options.h"

enum { CHUNK = 4096 }; /* items encoded between progress lines */

/* The prior's input must be the code grid: one channel of K levels. */
static int check_prior(const cli_model_handle *vq, const char *vq_ckpt, const vkvae_plan *prior)
{
    vkvae_code_grid g = vkvae_session_code_grid(vq->session);
    if (!g.codes)
        return cli_fail(VKVAE_BAD_INPUT, "%s: model %s has no codebook: --codes takes a VQ-VAE's "
                        "checkpoint (a network ending in 'codebook', decoded to images)",
                        vq_ckpt, vq->plan->model);
    if (g.codes > 256)
        return cli_fail(VKVAE_BAD_INPUT, "%s: %u codes; a prior reads at most 256 (a byte a "
                        "position)", vq_ckpt, g.codes);
    if (prior->input_levels != g.codes || prior->input_c != 1 || prior->input_h != g.height ||
        prior->input_w != g.width) {
        char levels[32] = "grey levels";
        if (prior->input_levels)
            snprintf(levels, sizeof levels, "%u levels", prior->input_levels);
        return cli_fail(VKVAE_BAD_INPUT, "model %s takes %ux%ux%u of %s, but the codes of %s "
                        "are 1x%ux%u of %u levels: its input line would be 'input 1x%ux%u "
                        "levels %u'", prior->model, prior->input_c, prior->input_h,
                        prior->input_w, levels, vq_ckpt, g.height, g.width, g.codes, g.height,
                        g.width, g.codes);
    }
    return 0;
}

/* The codes of one set's images as a set of code grids (bytes). */
static int encode_set(cli_model_handle *vq, const vkvae_idx *images, const char *which,
                      vkvae_idx *out)
{
    vkvae_code_grid g = vkvae_session_code_grid(vq->session);
    uint32_t F = vkvae_session_features(vq->session), P = g.height * g.width, n = images->count;
    float scale = cli_byte_scale(vq->plan);
    float *x = malloc((size_t)CHUNK * F * sizeof *x);
    uint32_t *codes = malloc((size_t)CHUNK * P * sizeof *codes);
    *out = (vkvae_idx){.ndim = 3, .count = n, .channels = 1, .rows = g.height, .cols = g.width,
                       .data = malloc((size_t)n * P + 1)};
    size_t len = strlen(images->path) + 16;
    out->path = malloc(len);
    if (!x || !codes || !out->data || !out->path) {
        free(x), free(codes), vkvae_idx_destroy(out);
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory for the codes of %u images", n);
    }
    snprintf(out->path, len, "codes of %s", images->path);
    vkvae_error err = {0};
    vkvae_status st = VKVAE_OK;
    int tty = isatty(2);
    double start = cli_now_s(), last = start;
    for (uint32_t done = 0; !st && done < n;) {
        uint32_t m = n - done < CHUNK ? n - done : CHUNK;
        for (size_t i = 0; i < (size_t)m * F; i++)
            x[i] = images->data[(size_t)done * F + i] / scale;
        st = vkvae_session_encode_codes(vq->session, x, m, codes, &err);
        for (size_t i = 0; !st && i < (size_t)m * P; i++)
            out->data[(size_t)done * P + i] = (uint8_t)codes[i];
        done += m;
        double t = cli_now_s();
        /* (a set of one chunk is done before a line would help) */
        if (!st && n > CHUNK && (done == n || t - last > (tty ? 0.1 : 10.0))) {
            last = t;
            fprintf(stderr, tty ? "\rencoding %s codes %u/%u  %.0f img/s   %s"
                                : "encoding %s codes %u/%u %.0f img/s%s\n",
                    which, done, n, t > start ? done / (t - start) : 0.0,
                    tty && done == n ? "\n" : "");
        }
    }
    free(x), free(codes);
    if (st) {
        vkvae_idx_destroy(out);
        return cli_fail(err.status, "%s", err.message);
    }
    return 0;
}

int cli_codes_open(const char *cmd, const char *vq_ckpt, const char *device, vkvae_precision precision,
                   const vkvae_plan *prior, cli_model_handle *vq)
{
    int r = cli_model_open(cmd, vq_ckpt, 0, device, precision, vq);
    if (!r && (r = check_prior(vq, vq_ckpt, prior)))
        cli_model_close(vq);
    return r;
}

int cli_codes_dataset(cli_model_handle *vq, const struct cli_data_opts *data, uint32_t limit,
                      uint32_t test_limit, vkvae_idx_dataset *out)
{
    vkvae_idx_dataset images;
    int r = cli_data_load(data, vq->plan, &images, NULL);
    if (r)
        return r;
    /* only the images that will be used are encoded */
    if (limit && limit < images.train_images.count)
        images.train_images.count = images.train_labels.count = limit;
    if (test_limit && test_limit < images.test_images.count)
        images.test_images.count = images.test_labels.count = test_limit;
    memset(out, 0, sizeof *out);
    r = encode_set(vq, &images.train_images, "training", &out->train_images);
    if (!r)
        r = encode_set(vq, &images.test_images, "test", &out->test_images);
    /* the labels go along, for a prior conditioned on them */
    out->train_labels = images.train_labels;
    out->test_labels = images.test_labels;
    images.train_labels = images.test_labels = (vkvae_idx){0};
    vkvae_idx_dataset_destroy(&images);
    if (r) {
        vkvae_idx_dataset_destroy(out);
        return r;
    }
    vkvae_code_grid g = vkvae_session_code_grid(vq->session);
    fprintf(stderr, "vkvae: the codes of %u training and %u test images by %s: %ux%u grids "
            "of %u codes\n", out->train_images.count, out->test_images.count, vq->plan->model,
            g.height, g.width, g.codes);
    return 0;
}

vkvae_status cli_codes_sample(vkvae_session *prior, vkvae_session *vq, uint32_t seed, uint32_t n,
                              float **images, vkvae_error *err)
{
    vkvae_code_grid g = vkvae_session_code_grid(vq);
    uint32_t P = g.height * g.width, F = vkvae_session_features(vq);
    float *grid = malloc((size_t)n * P * sizeof *grid);
    uint32_t *codes = malloc((size_t)n * P * sizeof *codes);
    *images = malloc((size_t)n * F * sizeof **images);
    vkvae_status st = !grid || !codes || !*images
                          ? vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory")
                          : vkvae_session_sample(prior, seed, n, 0, grid, err);
    /* a sampled level k is written as k/(K-1) */
    for (size_t i = 0; !st && i < (size_t)n * P; i++)
        codes[i] = (uint32_t)lrintf(grid[i] * (float)(g.codes - 1));
    if (!st)
        st = vkvae_session_decode_codes(vq, codes, n, *images, err);
    free(grid), free(codes);
    if (st) {
        free(*images);
        *images = NULL;
    }
    return st;
}

int cli_codes_source(const char *prior_ckpt, char *path, size_t size)
{
    vkvae_safetensors st;
    vkvae_error err = {0};
    path[0] = '\0';
    if (vkvae_st_read(&st, prior_ckpt, &err))
        return cli_fail(err.status, "%s", err.message);
    for (size_t i = 0; i < st.meta_count; i++)
        if (strcmp(st.meta[i].key, CLI_CODES_KEY) == 0)
            snprintf(path, size, "%s", st.meta[i].value);
    vkvae_st_destroy(&st);
    return 0;
}
