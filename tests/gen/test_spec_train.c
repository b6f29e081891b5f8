/* Specs compiled at run time (vkvae_spec_compile) train alike on the GPU and
 * on the CPU backend: a session on each, parameters initialised from one
 * seed by each backend's own path (vkvae_session_init_params: plan/init.c
 * for the GPU, vkvae_cpu_init_params for the CPU), which must be equal bit
 * for bit and follow the spec's `init` (biases zero for xavier_uniform and
 * kaiming_normal; every weight within PyTorch's bound or spread), then one
 * epoch of a few steps (the last one short) on the same random bytes, the
 * loss sums and every parameter after it compared by NMSE (fp32 on both
 * sides), then the state kept beside them (batch norm's running averages)
 * and an evaluation of the same rows, which reads it.
 *
 *   test_spec_train SPEC...
 *
 * Each spec runs at batch 4 on 11 rows of data (3 steps).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/init.h"
#include "session/session.h"
#include "spec/compile.h"
#include "test_util.h"

enum { BATCH = 4, ROWS = 11, SEED = 5 };

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(1 << 20);
    *size = text ? fread(text, 1, 1 << 20, f) : 0;
    fclose(f);
    return text;
}

static double nmse(const float *got, const float *want, uint64_t n)
{
    double se = 0, norm = 0;
    for (uint64_t i = 0; i < n; i++) {
        double e = (double)got[i] - want[i];
        se += e * e;
        norm += (double)want[i] * want[i];
    }
    return se != se ? INFINITY : norm > 0 ? se / norm : se;
}

/* Every layer parameter as the plan's init kind draws it: biases zero
 * unless PyTorch's default, weights within the uniform's bound or (normal)
 * spread about sqrt(2/fan_in). */
static void check_init(const vkvae_plan *p, const float *params, uint64_t base_offset)
{
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const vkvae_tensor_desc *t = &p->tensors[i];
        if (p->buffers[t->buffer].role != VKVAE_ROLE_PARAM || !vkvae_init_is_layer_param(t->name))
            continue;
        const float *v = params + (t->offset - base_offset) / sizeof(float);
        size_t len = strlen(t->name);
        bool bias = len > 5 && strcmp(t->name + len - 5, ".bias") == 0;
        double most = 0, sq = 0;
        for (uint64_t j = 0; j < t->elems; j++) {
            most = fmax(most, fabs(v[j]));
            sq += (double)v[j] * v[j];
        }
        bool ok;
        const vkvae_tensor_desc *w = t;
        for (uint32_t j = 0; bias && j < p->n_tensors; j++)
            if (strncmp(p->tensors[j].name, t->name, len - 5) == 0 &&
                strcmp(p->tensors[j].name + len - 5, ".weight") == 0)
                w = &p->tensors[j];
        size_t rec = strlen("_l0");
        if (len > rec && strcmp(t->name + len - rec, "_l0") == 0) {
            /* nn.GRU's, whatever the init: U(-b, b), b = 1/sqrt(hidden) */
            ok = most > 0 && most <= 1 / sqrt((double)(t->shape[0] / 3));
        } else if (strstr(t->name, ".embed") && !bias) {
            /* nn.Embedding's, whatever the init: N(0, 1) */
            double rms = sqrt(sq / (double)t->elems);
            ok = rms > 0.5 && rms < 1.5;
        } else if (w->rank == 1) { /* a batch norm's: weight 1, bias 0 */
            ok = true;
            for (uint64_t j = 0; j < t->elems; j++)
                ok &= v[j] == (bias ? 0.0f : 1.0f);
        } else if (bias) {
            ok = p->init == VKVAE_INIT_PYTORCH ? most > 0 : most == 0;
        } else {
            double fi = (double)vkvae_init_fan_in(t), fo = (double)vkvae_init_fan_out(t);
            double bound = p->init == VKVAE_INIT_XAVIER_UNIFORM ? sqrt(6 / (fi + fo))
                         : p->init == VKVAE_INIT_PYTORCH        ? 1 / sqrt(fi)
                                                                : INFINITY;
            double rms = sqrt(sq / (double)t->elems), sd = sqrt(2 / fi);
            ok = most > 0 && most <= bound &&
                 (p->init != VKVAE_INIT_KAIMING_NORMAL || (rms > 0.5 * sd && rms < 1.5 * sd));
        }
        CHECK(ok, "%s: %s of init %s: max |v| %.4g", p->model, t->name,
              vkvae_init_kind_name(p->init), most);
    }
}

static void train_spec(vkvae_context *ctx, const char *path)
{
    printf("%s\n", path);
    size_t size = 0;
    char *text = read_file(path, &size);
    CHECK(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    vkvae_error err = { 0 };
    vkvae_plan *plan = NULL;
    char *diag = NULL;
    CHECK_OK(vkvae_spec_compile(&(vkvae_spec_desc){ .path = path, .text = text, .size = size,
                                                    .batch = BATCH, .data_rows = ROWS },
                                &plan, &diag, &err),
             err);
    if (diag && *diag)
        fprintf(stderr, "%s", diag);
    free(diag);
    free(text);
    if (!plan)
        return;
    vkvae_session *gpu = NULL, *cpu = NULL;
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){ .plan = plan, .ctx = ctx }, &gpu, &err),
             err);
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){ .plan = plan }, &cpu, &err), err);
    uint32_t all = vkvae_plan_find_tensor(plan, "params.all");
    CHECK(all != UINT32_MAX, "%s: no params.all", plan->model);
    if (!gpu || !cpu || all == UINT32_MAX) {
        vkvae_session_destroy(gpu);
        vkvae_session_destroy(cpu);
        vkvae_spec_plan_free(plan);
        return;
    }
    uint64_t np = plan->tensors[all].elems;
    float *a = calloc(np, sizeof *a), *b = calloc(np, sizeof *b);
    CHECK_OK(vkvae_session_init_params(gpu, SEED, &err), err);
    CHECK_OK(vkvae_session_init_params(cpu, SEED, &err), err);
    CHECK_OK(vkvae_session_read(gpu, all, a, &err), err);
    CHECK_OK(vkvae_session_read(cpu, all, b, &err), err);
    CHECK(memcmp(a, b, np * sizeof *a) == 0, "%s: init %s differs between GPU and CPU",
          plan->model, vkvae_init_kind_name(plan->init));
    check_init(plan, b, plan->tensors[all].offset);

    /* random bytes (levels below the input's 'levels L'), labels, as many
     * features as the model reads */
    uint32_t F = vkvae_session_features(gpu), classes = vkvae_session_classes(gpu);
    uint8_t *pixels = malloc((size_t)ROWS * F), *labels = malloc(ROWS);
    uint64_t s = 12345;
    for (size_t i = 0; i < (size_t)ROWS * F; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        pixels[i] = (uint8_t)(s >> 56);
        if (plan->input_levels)
            pixels[i] %= plan->input_levels;
    }
    int semi = vkvae_plan_semi_supervised(plan); /* every third row without a label (255) */
    for (uint32_t i = 0; i < ROWS; i++)
        labels[i] = semi && i % 3 == 1 ? 255 : (uint8_t)(classes ? i % classes : 0);
    vkvae_idx images = { .path = "random", .ndim = 3, .count = ROWS, .channels = 1, .rows = 1, .cols = F,
                         .data = pixels };
    vkvae_idx label_idx = { .path = "random labels", .ndim = 1, .count = ROWS, .channels = 1, .rows = 1,
                            .cols = 1, .data = labels };
    const vkvae_idx *lab = classes ? &label_idx : NULL;
    CHECK_OK(vkvae_session_set_train_data(gpu, &images, lab, &err), err);
    CHECK_OK(vkvae_session_set_train_data(cpu, &images, lab, &err), err);

    vkvae_losses lg = { 0 }, lc = { 0 };
    uint32_t step_g = 0, step_c = 0;
    float kl = plan->kl_beta;
    CHECK_OK(vkvae_session_train_epoch(gpu, SEED, 0, 0, &step_g, kl, NULL, NULL, &lg, &err), err);
    CHECK_OK(vkvae_session_train_epoch(cpu, SEED, 0, 0, &step_c, kl, NULL, NULL, &lc, &err), err);
    CHECK(step_g == step_c && step_g == (ROWS + BATCH - 1) / BATCH, "%s: %u and %u steps",
          plan->model, step_g, step_c);
    double rel = fabs(lg.total - lc.total) / fmax(fabs(lc.total), 1e-30);
    CHECK(isfinite(lg.total) && rel < 1e-5 && lg.rows == lc.rows,
          "%s: epoch loss GPU %.9g CPU %.9g (rel %.2g), rows %.0f %.0f", plan->model, lg.total,
          lc.total, rel, lg.rows, lc.rows);
    CHECK_OK(vkvae_session_read(gpu, all, a, &err), err);
    CHECK_OK(vkvae_session_read(cpu, all, b, &err), err);
    double e = nmse(a, b, np);
    CHECK(e < 1e-7, "%s: parameters after %u steps, NMSE %.3g", plan->model, step_g, e);
    for (uint32_t t = 0; !(e < 1e-7) && t < plan->n_tensors; t++) {
        /* which parameters differ: each layer's, where the whole does */
        const vkvae_tensor_desc *d = &plan->tensors[t], *w = &plan->tensors[all];
        if (d->buffer != w->buffer || d->elems == w->elems || !vkvae_init_is_layer_param(d->name))
            continue;
        uint64_t at = (d->offset - w->offset) / 4;
        printf("  %s: NMSE %.3g\n", d->name, nmse(a + at, b + at, d->elems));
    }
    printf("%s (init %s): %u steps, loss GPU %.6f CPU %.6f (rel %.2g), params NMSE %.3g\n",
           plan->model, vkvae_init_kind_name(plan->init), step_g, lg.total, lc.total, rel, e);
    /* what persists beside the parameters (batch norm's running averages,
     * moved by every step), and the evaluation that reads it */
    for (uint32_t t = 0; t < plan->n_tensors; t++) {
        if (plan->buffers[plan->tensors[t].buffer].role != VKVAE_ROLE_STATE)
            continue;
        uint64_t n = plan->tensors[t].elems;
        float *sg = calloc(n, sizeof *sg), *sc = calloc(n, sizeof *sc);
        CHECK_OK(vkvae_session_read(gpu, t, sg, &err), err);
        CHECK_OK(vkvae_session_read(cpu, t, sc, &err), err);
        double es = nmse(sg, sc, n);
        CHECK(es < 1e-7, "%s: %s after %u steps, NMSE %.3g", plan->model, plan->tensors[t].name,
              step_g, es);
        printf("  %s: NMSE %.3g\n", plan->tensors[t].name, es);
        free(sg), free(sc);
    }
    vkvae_losses eg = { 0 }, ec = { 0 };
    CHECK_OK(vkvae_session_evaluate(gpu, &images, lab, SEED, kl, &eg, &err), err);
    CHECK_OK(vkvae_session_evaluate(cpu, &images, lab, SEED, kl, &ec, &err), err);
    double erel = fabs(eg.total - ec.total) / fmax(fabs(ec.total), 1e-30);
    CHECK(isfinite(eg.total) && erel < 1e-5, "%s: evaluation GPU %.9g CPU %.9g (rel %.2g)",
          plan->model, eg.total, ec.total, erel);
    printf("  evaluation GPU %.6f CPU %.6f (rel %.2g)\n", eg.total, ec.total, erel);

    free(pixels), free(labels), free(a), free(b);
    vkvae_session_destroy(gpu);
    vkvae_session_destroy(cpu);
    vkvae_spec_plan_free(plan);
}

int main(int argc, char **argv)
{
    vkvae_context *ctx = test_context();
    for (int i = 1; i < argc && ctx; i++)
        train_spec(ctx, argv[i]);
    CHECK(argc > 1, "usage: test_spec_train SPEC...");
    return test_finish(ctx);
}
