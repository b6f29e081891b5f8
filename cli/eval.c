/* vkvae eval: how good a trained model is on the test set, in nats per
 * image as the literature reports it: the negative ELBO with its
 * reconstruction and KL terms (the eval program training runs each epoch),
 * and with --iwae K the importance-weighted estimate of the negative
 * log-likelihood -log p(x) with K samples per image (Burda et al. 2016), a
 * tighter figure than the ELBO's bound. A model trained on dynamically
 * binarized pixels is evaluated on the binarization the eval program draws,
 * so both figures see the same images.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "frechet.h"
#include "io/idx.h"
#include "options.h"
#include "plan/philox.h"

static const char eval_usage[] =
    "usage: vkvae eval CKPT [options]\n"
    "\n"
    "Prints the test split's negative ELBO (nats per image) with its reconstruction\n"
    "and KL terms, and with --iwae K the IWAE estimate of -log p(x); for a classifier\n"
    "its accuracy and cross-entropy.\n"
    "\n"
    CLI_DATA_USAGE
    "  --device D        Vulkan device index or name substring, or 'cpu' (default: the best\n"
    "                    GPU; the CPU backend where the only Vulkan devices are CPU drivers)\n"
    "  --limit N         the first N test images only\n"
    "  --iwae K          also estimate -log p(x) with K importance samples per image\n"
    "                    (5000 is the literature's figure)\n"
    "  --seed S          seed of the draws (default: the checkpoint's training seed)\n"
    "  --fd CLASSIFIER   also the Frechet distance between the test images and samples of\n"
    "                    the model in the penultimate features of CLASSIFIER, a checkpoint\n"
    "                    of a vkvae classifier of the same images (classifier_conv); lower\n"
    "                    is better; comparable only between models measured with the same\n"
    "                    classifier and sample count\n"
    "  --fd-samples N    samples drawn for it (default 10000)\n"
    "  --vq VQ_CKPT      a prior over a VQ-VAE's codes: the VQ-VAE whose codes of the test\n"
    "                    images it is evaluated on (default: the one it was trained on)\n";

typedef struct eval_opts {
    cli_data_opts data;
    const char *ckpt, *device, *fd, *vq;
    uint32_t limit, iwae, seed, fd_samples;
    int has_iwae, has_seed;
} eval_opts;

static int parse_args(int argc, char **argv, eval_opts *o)
{
    const cli_option options[] = {
        CLI_DATA_OPTIONS(&o->data),
        {CLI_STRING("--device", &o->device)},
        {CLI_STRING("--vq", &o->vq)},
        {CLI_U32("--limit", &o->limit)},
        {CLI_U32("--iwae", &o->iwae), .given = &o->has_iwae},
        {CLI_U32("--seed", &o->seed), .given = &o->has_seed},
        {CLI_STRING("--fd", &o->fd)},
        {CLI_U32("--fd-samples", &o->fd_samples), .min = 2, .max = 1000000},
        {NULL},
    };
    int r = cli_options_parse(&(cli_command_line){.cmd = "eval", .usage = eval_usage,
                                                  .options = options, .arg = &o->ckpt},
                              argc, argv);
    if (r >= 0)
        return r;
    if (!o->ckpt)
        return cli_fail(VKVAE_BAD_INPUT, "eval: which checkpoint? (vkvae eval CKPT ...)");
    if (o->has_iwae && o->iwae == 0)
        return cli_fail(VKVAE_BAD_INPUT, "eval: --iwae 0: the estimate needs at least 1 sample "
                                         "per image");
    return -1; /* parsed; go on */
}

/* What the eval program's loss is: the ELBO's terms, the IWAE bound of a
 * model trained on it (its k samples; the KL slot is 0), or an
 * autoencoder's reconstruction loss. */
typedef struct objective {
    int kl, iwae_k;
    int binarize;             /* its gather draws binary pixels */
    float scale;              /* a byte's divisor (cli_byte_scale) */
    uint32_t binarize_stream;
} objective;

static objective eval_objective(const vkvae_plan *plan)
{
    objective ob = {.scale = cli_byte_scale(plan)};
    for (uint32_t p = 0; p < plan->n_programs; p++) {
        const vkvae_program_desc *pr = &plan->programs[p];
        if (pr->kind != VKVAE_PROGRAM_EVAL)
            continue;
        for (uint32_t i = 0; i < pr->n_steps; i++) {
            const vkvae_step_desc *st = &pr->steps[i];
            ob.kl |= st->op == VKVAE_OP_KL_GAUSS || st->op == VKVAE_OP_REPARAM_KL;
            if (st->op == VKVAE_OP_IWAE_LSE)
                ob.iwae_k = (int)st->p.samples;
            if (st->op == VKVAE_OP_GATHER && st->p.mode == 1)
                ob.binarize = 1, ob.binarize_stream = st->p.stream;
        }
    }
    return ob;
}

/* The test images as floats in [0, 1]; binarized as the eval program's
 * gather does it (image i is row i % batch of evaluation batch i / batch,
 * drawn at step 2^31 + i / batch; session.c's schedule) when it does. */
static float *test_pixels(const vkvae_idx *images, uint32_t n, uint32_t features,
                          const objective *ob, uint32_t batch, uint32_t seed)
{
    float *x = malloc((size_t)n * features * sizeof *x);
    for (uint32_t i = 0; x && i < n; i++)
        for (uint32_t j = 0; j < features; j++) {
            float v = (float)images->data[(size_t)i * features + j] / ob->scale;
            if (ob->binarize) {
                uint32_t step = 0x80000000u + i / batch, index = (i % batch) * features + j;
                v = vkvae_rand_uniform(seed, ob->binarize_stream, step, index) < v ? 1.0f : 0.0f;
            }
            x[(size_t)i * features + j] = v;
        }
    return x;
}

/* The tokens a text model's loss counts: every id but <pad> (the <eos>
 * included). */
static size_t text_tokens(const vkvae_idx *seqs)
{
    size_t n = (size_t)seqs->count * seqs->cols, tokens = 0;
    for (size_t i = 0; i < n; i++)
        tokens += seqs->data[i] != 0;
    return tokens;
}

/* A text model's negative ELBO (its terms' sum: the reconstruction and
 * the KL) per sequence and per token. */
static void text_bound(const vkvae_idx *seqs, const vkvae_losses *l)
{
    size_t tokens = text_tokens(seqs);
    double total = 0;
    for (uint32_t i = 0; i < l->n_terms; i++)
        total += l->term[i];
    printf("negative ELBO    %.4f nats/sequence, %.4f nats/token (%zu tokens, <eos> "
           "included)\n", total / (l->rows > 0 ? l->rows : 1), total / (tokens ? tokens : 1),
           tokens);
}

/* ---- progress of the estimate: a live line on a terminal, else a line
 * every 10 seconds ---- */

typedef struct progress {
    int tty;
    uint32_t k;
    double start, last_print;
    const char *item, *unit; /* "image", "img"; "sequence", "seq" */
} progress;

static void on_progress(void *user, uint32_t done, uint32_t total)
{
    progress *p = user;
    double t = cli_now_s(), elapsed = t - p->start;
    if (!p->tty && t - p->last_print < 10.0 && done < total)
        return;
    p->last_print = t;
    double rate = elapsed > 0 ? done / elapsed : 0;
    double eta = done ? elapsed * (total - done) / done : 0;
    if (p->tty) {
        int width = 24, fill = (int)(width * (double)done / total);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\riwae K=%u [%s] %u/%u %ss  %.1f %s/s  ETA %.0fs   ", p->k, bar, done,
                total, p->item, rate, p->unit, eta);
        fflush(stderr);
    } else {
        fprintf(stderr, "iwae K=%u: %u/%u %ss %.1f %s/s ETA %.0fs\n", p->k, done, total, p->item,
                rate, p->unit, eta);
    }
}

/* The classifier's features of n images (floats in [0, 1]) into a new
 * array (n x d); NULL with err set on failure. */
static float *features_of(cli_model_handle *c, const float *x, uint32_t n, uint32_t *d,
                          vkvae_error *err)
{
    *d = vkvae_session_latent(c->session);
    float *f = malloc((size_t)(n ? n : 1) * *d * sizeof *f);
    if (!f) {
        vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory for %u feature vectors", n);
        return NULL;
    }
    if (vkvae_session_encode(c->session, x, NULL, n, f, NULL, err)) {
        free(f);
        return NULL;
    }
    return f;
}

/* --fd's classifier: a classifier of the model's images, else BAD_INPUT. */
static vkvae_status fd_classifier_check(const eval_opts *o, const vkvae_plan *cp,
                                        const vkvae_plan *mp, vkvae_error *err)
{
    if (!vkvae_plan_classifies(cp))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "--fd %s: model %s is not a classifier "
                          "(objective classify; vkvae train classifier_conv makes one)", o->fd,
                          cp->model);
    if (cp->input_c != mp->input_c || cp->input_h != mp->input_h || cp->input_w != mp->input_w)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "--fd %s: classifier %s reads %ux%ux%u images, "
                          "model %s makes %ux%ux%u", o->fd, cp->model, cp->input_c, cp->input_h,
                          cp->input_w, mp->model, mp->input_c, mp->input_h, mp->input_w);
    if (!vkvae_plan_has_program(mp, VKVAE_PROGRAM_SAMPLE))
        return vkvae_fail(err, VKVAE_BAD_INPUT, "--fd: model %s has no samples to measure "
                          "(%s)", mp->model, vkvae_plan_classifies(mp)
                                                 ? "a classifier generates nothing"
                                                 : "an autoencoder has no prior");
    return VKVAE_OK;
}

/* --fd: the Frechet distance between the test images and fd_samples of the
 * model's samples (a conditional model's spread evenly over its classes),
 * in the features of the classifier c (fd_classifier_check). Prints it; a
 * status with err set on failure. */
static vkvae_status frechet(const eval_opts *o, cli_model_handle *m, cli_model_handle *c,
                            const vkvae_idx *images, uint32_t seed, vkvae_error *err)
{
    vkvae_status st = VKVAE_OK;
    uint32_t n = images->count, N = o->fd_samples ? o->fd_samples : 10000;
    uint32_t F = vkvae_session_features(m->session), d = 0, classes = vkvae_session_classes(m->session);
    objective plain = {.scale = cli_byte_scale(m->plan)}; /* the test images as they are */
    float *x = test_pixels(images, n, F, &plain, 1, 0);
    float *gen = malloc((size_t)N * F * sizeof *gen);
    if (!x || !gen)
        st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory for %u samples", N);
    /* the samples, class by class for a conditional model */
    for (uint32_t k = 0, done = 0; !st && done < N; k++) {
        uint32_t part = classes ? N / classes + (k < N % classes) : N;
        st = vkvae_session_sample(m->session, seed + k, part, classes ? k : 0,
                                  gen + (size_t)done * F, err);
        done += part;
    }
    float *fa = st ? NULL : features_of(c, x, n, &d, err);
    float *fb = fa ? features_of(c, gen, N, &d, err) : NULL;
    if (!st && (!fa || !fb))
        st = err->status ? err->status : VKVAE_INTERNAL;
    double fd = st ? NAN : vkvae_frechet_distance(fa, n, fb, N, d);
    if (!st && !isfinite(fd))
        st = vkvae_fail(err, VKVAE_DIVERGED, "--fd: the distance is not finite (%g): the "
                        "samples or features hold a NaN or Inf", fd);
    if (!st)
        printf("Frechet distance %.3f (%u samples against %u test images, in the %u "
               "penultimate features of %s)\n", fd, N, n, d, c->plan->model);
    free(x), free(gen), free(fa), free(fb);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o = {0};
    int r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;
    double start = cli_now_s();
    /* The data first, decoded for the model's input (a prior over a
     * VQ-VAE's codes: its test images' codes, on the device); the model's
     * plan is then made for the test set's size, and the labels are
     * checked against its classes. */
    vkvae_error err = {0};
    vkvae_idx_dataset ds;
    const vkvae_plan *carried = NULL;
    char vq_path[4096] = "";
    r = cli_checkpoint_plan(o.ckpt, &carried);
    if (!r && !o.vq)
        r = cli_codes_source(o.ckpt, vq_path, sizeof vq_path);
    if (!r && (o.vq || vq_path[0])) {
        cli_model_handle vq;
        r = cli_codes_open("eval", o.vq ? o.vq : vq_path, o.device, VKVAE_PRECISION_FP32,
                           carried, &vq);
        if (!r) {
            r = cli_codes_dataset(&vq, &o.data, 1, o.limit, &ds);
            int closed = cli_model_close(&vq);
            r = r ? r : closed;
        }
    } else if (!r && carried->input_vocab) { /* text: read with the checkpoint's vocabulary */
        r = cli_text_data(&o.data, carried, o.ckpt, &ds, NULL);
    } else if (!r) {
        r = cli_data_load(&o.data, carried, &ds, NULL);
    }
    cli_model_free(carried);
    if (r)
        return r;
    vkvae_idx *images = &ds.test_images, *labels = &ds.test_labels;
    if (o.limit && o.limit < images->count)
        images->count = labels->count = o.limit;
    cli_model_handle m;
    r = cli_model_open("eval", o.ckpt, images->count, o.device, VKVAE_PRECISION_FP32, &m);
    if (r) {
        vkvae_idx_dataset_destroy(&ds);
        return r;
    }
    const vkvae_plan *plan = m.plan;
    cli_model_handle classifier = {0};
    if (o.fd && (r = cli_model_open("eval", o.fd, 0, o.device, VKVAE_PRECISION_FP32,
                                    &classifier))) {
        vkvae_idx_dataset_destroy(&ds);
        cli_model_close(&m);
        return r;
    }
    vkvae_status bad = o.fd ? fd_classifier_check(&o, classifier.plan, plan, &err) : VKVAE_OK;
    if (o.has_iwae && !vkvae_plan_has_program(plan, VKVAE_PROGRAM_IWAE))
        bad = vkvae_fail(&err, VKVAE_BAD_INPUT, "%s: --iwae: model %s has no likelihood to "
                         "estimate (an autoencoder; the estimate needs a VAE's Gaussian latent)",
                         o.ckpt, plan->model);
    if (!bad && plan->classes && !labels->data)
        bad = vkvae_fail(&err, VKVAE_BAD_INPUT, "%s: model %s is conditional: its images need "
                         "labels (--labels)", images->path, plan->model);
    if (!bad && plan->classes)
        bad = vkvae_idx_check_pair(images, labels, plan->classes, &err);
    if (bad) {
        vkvae_idx_dataset_destroy(&ds);
        cli_model_close(&m);
        if (o.fd)
            cli_model_close(&classifier);
        return cli_fail(err.status, "%s", err.message);
    }
    uint32_t n = images->count, seed = o.has_seed ? o.seed : m.seed;
    int text = plan->input_vocab != 0;
    const char *data_name = o.data.data ? o.data.data : text ? CLI_TEXT_DEFAULT : CLI_DATA_DEFAULT;
    const char *item = text ? "sequence" : "image";
    const objective ob = eval_objective(plan);
    if (m.ctx) {
        uint32_t count;
        const vkvae_device_info *d = vkvae_context_devices(m.ctx, &count);
        fprintf(stderr, "vkvae: evaluating %s on %u test %ss of %s on %s\n", plan->model, n,
                item, data_name, d[vkvae_context_device_index(m.ctx)].name);
    } else {
        fprintf(stderr, "vkvae: evaluating %s on %u test %ss of %s on the CPU backend\n",
                plan->model, n, item, data_name);
    }

    /* The bound: the eval program with the full KL weight (a beta-VAE's
     * training loss weighs it otherwise; the ELBO does not). */
    vkvae_losses l;
    double t_bound = cli_now_s();
    vkvae_status st = vkvae_session_evaluate(m.session, images, plan->classes ? labels : NULL,
                                             seed, 1.0f, &l, &err);
    double elbo_s = cli_now_s() - t_bound, rows = l.rows > 0 ? l.rows : 1;
    if (!st && l.n_terms) { /* a model of several networks: its loss terms */
        for (uint32_t i = 0; i < l.n_terms; i++) {
            /* a ce part's errors ("<term>_error") are a count, the rest nats */
            const char *name = vkvae_session_term_name(m.session, i);
            size_t len = strlen(name);
            int errors = len > 6 && strcmp(name + len - 6, "_error") == 0;
            printf("%-16s %.4f %s\n", name, l.term[i] / rows,
                   errors ? "(classification error on these images)"
                   : plan->input_vocab ? "nats/sequence" : "nats/image");
        }
        if (plan->input_vocab)
            text_bound(images, &l);
        for (uint32_t i = 0; i < vkvae_session_codebooks(m.session) && !st; i++) {
            vkvae_codebook_usage u;
            st = vkvae_session_codebook_usage(m.session, i, &u, &err);
            if (!st)
                printf("codebook %-7s perplexity %.2f of %u codes, %u dead (%.0f positions)\n",
                       vkvae_session_codebook_name(m.session, i), u.perplexity, u.codes, u.dead,
                       u.positions);
        }
        fflush(stdout);
    } else if (!st) {
        if (vkvae_plan_classifies(plan))
            printf("accuracy         %.2f%% (%.0f of %.0f test images; cross-entropy %.4f "
                   "nats/image)\n", 100 * (1 - l.kl / rows), rows - l.kl, rows, l.recon / rows);
        else if (ob.kl)
            printf("negative ELBO    %.4f nats/image (reconstruction %.4f, KL %.4f)\n",
                   l.total / rows, l.recon / rows, l.kl / rows);
        else if (ob.iwae_k)
            printf("IWAE bound k=%-3d %.4f nats/image (the negative bound the model trains on)\n",
                   ob.iwae_k, l.total / rows);
        else
            printf("reconstruction   %.4f per image (the autoencoder's loss)\n", l.total / rows);
        fflush(stdout);
    }

    double iwae_s = 0;
    if (!st && o.has_iwae) {
        uint32_t features = vkvae_session_features(m.session);
        float *x = test_pixels(images, n, features, &ob, plan->batch, seed);
        uint32_t *y = malloc((size_t)(n ? n : 1) * sizeof *y);
        double *log_px = malloc((size_t)(n ? n : 1) * sizeof *log_px);
        if (!x || !y || !log_px)
            st = vkvae_fail(&err, VKVAE_OUT_OF_MEMORY, "out of host memory for %u images", n);
        for (uint32_t i = 0; !st && i < n; i++)
            y[i] = labels->data ? labels->data[i] : 0;
        double t0 = cli_now_s();
        progress prog = {.tty = isatty(2), .k = o.iwae, .start = t0, .last_print = t0,
                         .item = item, .unit = text ? "seq" : "img"};
        if (!st)
            st = vkvae_session_log_likelihood(m.session, x, plan->classes ? y : NULL, n, o.iwae,
                                              seed, on_progress, &prog, log_px, &err);
        if (prog.tty)
            fputc('\n', stderr);
        iwae_s = cli_now_s() - t0;
        /* The mean over images, and its standard error (the images vary far
         * more than the estimate of one image does). */
        double sum = 0, sq = 0;
        for (uint32_t i = 0; !st && i < n; i++)
            sum += -log_px[i];
        double mean = n ? sum / n : 0;
        for (uint32_t i = 0; !st && i < n; i++)
            sq += (-log_px[i] - mean) * (-log_px[i] - mean);
        double se = n > 1 ? sqrt(sq / (n - 1) / n) : 0;
        if (!st && !isfinite(mean))
            st = vkvae_fail(&err, VKVAE_DIVERGED, "%s: the IWAE estimate is not finite (%g): "
                            "the model gives a NaN or Inf", o.ckpt, mean);
        if (!st)
            printf("IWAE -log p(x)   %.4f nats/%s (K=%u, seed %u; standard error over %ss "
                   "%.2f)\n", mean, item, o.iwae, seed, item, se);
        if (!st && text)
            printf("IWAE -log p(x)   %.4f nats/token\n", sum / (double)text_tokens(images));
        free(x);
        free(y);
        free(log_px);
    }
    if (!st && o.fd)
        st = frechet(&o, &m, &classifier, images, seed, &err);
    if (!st) {
        if (o.has_iwae)
            printf("seconds          %.2f (bound %.2f, IWAE %.2f)\n", cli_now_s() - start, elbo_s,
                   iwae_s);
        else
            printf("seconds          %.2f\n", cli_now_s() - start);
    }
    vkvae_idx_dataset_destroy(&ds);
    int closed = cli_model_close(&m), closed_c = o.fd ? cli_model_close(&classifier) : 0;
    closed = closed ? closed : closed_c;
    if (st)
        return cli_fail(err.status, "%s", err.message);
    return closed;
}
