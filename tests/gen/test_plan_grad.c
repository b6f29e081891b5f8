/* Whole-model gradient check in double: for each tiny plan (a shipped model
 * or a test spec, generated with --batch 2 --data-rows 5), the train
 * program's steps up to the optimizer leave grads.all = grad_scale * dL/dθ,
 * where L = loss.acc[2] after the train program's forward, sum over valid rows of
 * recon + kl_weight * kl. Every draw is keyed by the push, so both programs
 * see the same eps, masks and noise. For every parameter tensor, and for all
 * of them at once, two unit directions d (along the gradient, then random)
 * give the central difference (L(θ + h d) - L(θ - h d)) / 2h, which must
 * match g·d to 1e-6 relative to the larger of the two or |g|.
 * A short last batch (rows = 1 of 2) runs too: its padding row must not
 * reach the gradient.
 * A plan of several networks (a GAN: one optimizer step per update line)
 * is checked update by update: after the steps before update u's
 * optimizer step, its parameter range holds the gradient of L_u, the sum
 * of the loss terms u accumulates, over a forward with the parameters as
 * they are then (the earlier updates' steps taken), the other networks'
 * fixed: the forward steps of the updates up to u, run again.
 * A pixel model's logits see only earlier pixels (check_causal).
 * $VKVAE_GRAD_SAMPLE=N judges one parameter tensor in N (and always all of
 * them at once): the sanitized CI run, whose instrumented fp64 forwards
 * made this test half its time; the plain suite judges every tensor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu_backend.h"
#include "plan/models.h"
#include "plan/op_info.h"
#include "plan_util.h"

static int failures;
static int sample = 1; /* judge one parameter tensor in this many */

static int is_optimizer(const vkvae_step_desc *st)
{
    return (vkvae_op_flags(st->op) & VKVAE_OPF_OPTIMIZER) != 0;
}

/* A backward step of a plan of several updates: it writes a gradient
 * (grad.* in the grads buffer, or an activation's, d.*). */
static int is_backward(const vkvae_plan *p, const vkvae_step_desc *st)
{
    uint32_t outs = vkvae_op_bindings(st->op) - vkvae_op_inputs(st->op);
    for (uint32_t o = st->n_tensors - outs; o < st->n_tensors; o++) {
        const vkvae_tensor_desc *t = &p->tensors[st->tensors[o]];
        if (p->buffers[t->buffer].role == VKVAE_ROLE_GRAD || strncmp(t->name, "d.", 2) == 0)
            return 1;
    }
    return 0;
}

/* A part over the class copies of rows ('unlabelled'): its loss per row is
 * their weighted sum, label_sum's. */
static uint32_t per_row(const vkvae_program_desc *train, uint32_t losses)
{
    for (uint32_t k = 0; k < train->n_steps; k++)
        if (train->steps[k].op == VKVAE_OP_LABEL_SUM && train->steps[k].tensors[0] == losses)
            return train->steps[k].tensors[2];
    return losses;
}

/* The forward loss step whose per-row losses backward step b seeds from
 * (same inputs, same target), and the tensor of those losses; -1 if none. */
static int loss_of(const vkvae_plan *p, const vkvae_step_desc *b, uint32_t *losses)
{
    const vkvae_program_desc *train = &p->programs[0];
    if (b->op == VKVAE_OP_NLL_BERNOULLI_GRAD) { /* the loss and its gradient in one step */
        *losses = per_row(train, b->tensors[2]);
        return (int)(b - train->steps);
    }
    for (uint32_t s = 0; s < train->n_steps; s++) {
        const vkvae_step_desc *f = &train->steps[s];
        int same = 0;
        if (b->op == VKVAE_OP_BCE_LOGITS_BWD && f->op == VKVAE_OP_BCE_LOGITS)
            same = f->tensors[0] == b->tensors[0] && f->p.mode == b->p.mode;
        else if ((b->op == VKVAE_OP_NLL_BERNOULLI_BWD && f->op == VKVAE_OP_NLL_BERNOULLI) ||
                 (b->op == VKVAE_OP_NLL_CATEGORICAL_BWD && f->op == VKVAE_OP_NLL_CATEGORICAL) ||
                 (b->op == VKVAE_OP_NLL_TOKENS_BWD && f->op == VKVAE_OP_NLL_TOKENS))
            same = memcmp(f->tensors, b->tensors, 2 * sizeof *f->tensors) == 0;
        else if (b->op == VKVAE_OP_NLL_GAUSS_BWD && f->op == VKVAE_OP_NLL_GAUSS)
            same = memcmp(f->tensors, b->tensors, 3 * sizeof *f->tensors) == 0;
        else if (b->op == VKVAE_OP_REPARAM_KL_BWD && f->op == VKVAE_OP_REPARAM_KL)
            same = f->tensors[0] == b->tensors[2] && f->tensors[1] == b->tensors[3];
        else if (b->op == VKVAE_OP_KL_GAUSS2_BWD && f->op == VKVAE_OP_KL_GAUSS2)
            same = memcmp(f->tensors, b->tensors, 4 * sizeof *f->tensors) == 0;
        else if ((b->op == VKVAE_OP_ENTROPY_BWD && f->op == VKVAE_OP_ENTROPY) ||
                 (b->op == VKVAE_OP_SOFTMAX_CE_BWD && f->op == VKVAE_OP_SOFTMAX_CE) ||
                 (b->op == VKVAE_OP_KL_GAUSS_BWD && b->p.mode == 1 &&
                  (f->op == VKVAE_OP_KL_GAUSS || f->op == VKVAE_OP_REPARAM_KL)))
            same = memcmp(f->tensors, b->tensors, 2 * sizeof *f->tensors) == 0;
        if (same) {
            *losses = f->tensors[f->op == VKVAE_OP_REPARAM_KL || f->op == VKVAE_OP_KL_GAUSS2 ? 4
                                 : f->op == VKVAE_OP_NLL_GAUSS ? 3
                                 : f->op == VKVAE_OP_NLL_BERNOULLI ||
                                   f->op == VKVAE_OP_NLL_CATEGORICAL ||
                                   f->op == VKVAE_OP_NLL_TOKENS ||
                                   f->op == VKVAE_OP_ENTROPY || f->op == VKVAE_OP_SOFTMAX_CE ||
                                   f->op == VKVAE_OP_KL_GAUSS ? 2 : 1];
            *losses = per_row(train, *losses);
            return (int)s;
        }
    }
    return -1;
}

/* Update u's loss L_u: the forward steps of updates 0..u (the losses its
 * terms need, with the parameters as they are), then the losses its
 * backward seeds from, each times the weight a scale step after its seed
 * gives (the KL's: push.kl_weight, as kl_gauss_bwd's), over the valid rows. */
static double update_loss(vkvae_cpu *cpu, const vkvae_plan *p, int u, const vkvae_push *push)
{
    vkvae_error err = { 0 };
    const vkvae_program_desc *train = &p->programs[0];
    int seg = 0;
    uint32_t s = 0;
    for (; s < train->n_steps && seg <= u; s++) {
        const vkvae_step_desc *st = &train->steps[s];
        if (is_optimizer(st)) {
            seg++;
            continue;
        }
        if (is_backward(p, st) && st->op != VKVAE_OP_NLL_BERNOULLI_GRAD) /* (fused: a loss too) */
            continue;
        if (vkvae_cpu_run_step(cpu, VKVAE_PROGRAM_TRAIN, s, push, &err)) {
            fprintf(stderr, "train forward: %s\n", err.message);
            exit(1);
        }
    }
    /* update u's backward steps: from its first backward step to its optimizer */
    uint32_t begin = 0;
    seg = 0;
    for (uint32_t k = 0; k < train->n_steps; k++) {
        if (is_optimizer(&train->steps[k]) && seg++ == u)
            break;
        if (seg == u && begin == 0 && is_backward(p, &train->steps[k]))
            begin = k;
    }
    double sum = 0;
    for (uint32_t k = begin; k < train->n_steps && !is_optimizer(&train->steps[k]); k++) {
        const vkvae_step_desc *b = &train->steps[k];
        uint32_t losses;
        if (!is_backward(p, b) || loss_of(p, b, &losses) < 0)
            continue;
        double w = b->op == VKVAE_OP_REPARAM_KL_BWD ? push->kl_weight : 1; /* (kl_gauss_bwd's g) */
        /* the term's weight: a scale step right after, on one of its
         * gradients (kl_gauss2_bwd's: on those of the side trained) */
        uint32_t nin = vkvae_op_inputs(b->op);
        for (uint32_t j = k + 1; b->op != VKVAE_OP_REPARAM_KL_BWD && j < train->n_steps &&
                                 (train->steps[j].op == VKVAE_OP_SCALE ||
                                  train->steps[j].op == VKVAE_OP_SCALE_ROWS); j++)
            for (uint32_t o = nin; o < b->n_tensors; o++)
                if (train->steps[j].tensors[0] == b->tensors[o])
                    w = train->steps[j].p.alpha;
        const vkvae_tensor_desc *t = &p->tensors[losses];
        double *rows = malloc(t->elems * sizeof *rows);
        vkvae_cpu_read_f64(cpu, losses, rows, &err);
        for (uint32_t r = 0; r < push->rows && r < t->elems; r++)
            sum += w * rows[r];
        free(rows);
    }
    (void)s;
    return sum;
}

/* The train program's forward: its steps up to loss_accum, which the
 * gradient is of (the eval program normalises by batch norm's running
 * averages instead of the batch's statistics). */
static double loss(vkvae_cpu *cpu, const vkvae_plan *p, int acc, int u, const vkvae_push *push)
{
    if (u >= 0)
        return update_loss(cpu, p, u, push);
    double a[4] = { 0 };
    vkvae_error err = { 0 };
    vkvae_cpu_write_f64(cpu, (uint32_t)acc, a, &err);
    const vkvae_program_desc *train = &p->programs[0];
    for (uint32_t s = 0; s < train->n_steps; s++) {
        if (vkvae_cpu_run_step(cpu, VKVAE_PROGRAM_TRAIN, s, push, &err)) {
            fprintf(stderr, "train forward: %s\n", err.message);
            exit(1);
        }
        if (train->steps[s].op == VKVAE_OP_LOSS_ACCUM)
            break;
    }
    vkvae_cpu_read_f64(cpu, (uint32_t)acc, a, &err);
    return a[2];
}

/* The on/off pattern of every ReLU (and leaky ReLU) the eval program
 * computes, packed one per byte into pat; returns how many differ from ref
 * (when ref is given). A step that flips none stays on one smooth piece of
 * the loss, where central differences are exact to O(h^2). */
static uint64_t relu_pattern(vkvae_cpu *cpu, const vkvae_plan *p, uint8_t *pat, const uint8_t *ref)
{
    const vkvae_program_desc *ev = &p->programs[1];
    uint64_t at = 0, flips = 0;
    for (uint32_t s = 0; s < ev->n_steps; s++) {
        const vkvae_step_desc *st = &ev->steps[s];
        int pair = st->op == VKVAE_OP_DENSE_PAIR, add = st->op == VKVAE_OP_ADD;
        if ((!pair && !add && st->op != VKVAE_OP_DENSE && st->op != VKVAE_OP_CONV2D &&
             st->op != VKVAE_OP_CONVT2D && st->op != VKVAE_OP_BATCHNORM) ||
            (st->p.act != VKVAE_ACT_RELU && st->p.act != VKVAE_ACT_LEAKY_RELU))
            continue;
        uint32_t first = pair ? 4 : add ? 2 : 3, last = pair ? 5 : first;
        for (uint32_t o = first; o <= last; o++) { /* the outputs */
            vkvae_cpu_view v = vkvae_cpu_tensor(cpu, st->tensors[o]);
            const double *y = v.data;
            for (uint64_t i = 0; i < v.elems; i++, at++) {
                uint8_t on = y[i] > 0;
                if (ref && ref[at] != on)
                    flips++;
                if (pat)
                    pat[at] = on;
            }
        }
    }
    return flips;
}

/* Checks plan p with rows valid rows, parameters initialised with seed;
 * returns the number of tensors no direction could judge (a ReLU within
 * reach of every step), failures counting the wrong ones. */
/* u: the update checked, or -1 for a plan of one optimizer step */
static int check_plan(const vkvae_plan *p, uint32_t rows, uint32_t init_seed, int u)
{
    vkvae_error err = { 0 };
    vkvae_cpu *cpu;
    if (vkvae_cpu_create(p, VKVAE_CPU_F64, &cpu, &err) ||
        vkvae_cpu_init_params(cpu, init_seed, &err)) {
        fprintf(stderr, "%s: %s\n", p->model, err.message);
        failures++;
        return 0;
    }
    int images = plan_tensor(p, "train.images"), labels = plan_tensor(p, "train.labels");
    int perm = plan_tensor(p, "train.perm"), acc = plan_tensor(p, "loss.acc");
    int params = plan_tensor(p, "params.all"), grads = plan_tensor(p, "grads.all");
    uint32_t classes = p->classes; /* (a general spec's condition has no io.y) */
    plan_fill_data(p, vkvae_cpu_tensor(cpu, (uint32_t)images).data,
                   labels >= 0 ? vkvae_cpu_tensor(cpu, (uint32_t)labels).data : NULL,
                   vkvae_cpu_tensor(cpu, (uint32_t)perm).data, classes, 77);
    if (labels >= 0 && vkvae_plan_semi_supervised(p)) /* every other row without a label */
        for (uint32_t i = 1; i < p->tensors[labels].elems; i += 2)
            ((uint8_t *)vkvae_cpu_tensor(cpu, (uint32_t)labels).data)[i] = 255;
    vkvae_push push = { .seed = 11, .step = 3, .base = 1, .rows = rows, .kl_weight = 0.75f,
                        .grad_scale = 1.0f };

    /* the gradient: every train step before the optimizer's (update u's) */
    const vkvae_program_desc *train = &p->programs[0];
    int seg = 0;
    uint64_t lo_range = 0, hi_range = p->tensors[params].elems;
    for (uint32_t s = 0; s + 1 < train->n_steps || u >= 0; s++) {
        if (u >= 0 && is_optimizer(&train->steps[s]) && seg++ == u) {
            const vkvae_tensor_desc *view = &p->tensors[train->steps[s].tensors[0]];
            lo_range = view->offset / 4;
            hi_range = lo_range + view->elems;
            break;
        }
        if (vkvae_cpu_run_step(cpu, VKVAE_PROGRAM_TRAIN, s, &push, &err)) {
            fprintf(stderr, "%s: %s\n", p->model, err.message);
            failures++;
            return 0;
        }
    }
    uint64_t n = p->tensors[params].elems;
    double *theta = malloc(n * sizeof *theta), *g = malloc(n * sizeof *g);
    double *d = malloc(n * sizeof *d), *t2 = malloc(n * sizeof *t2);
    vkvae_cpu_read_f64(cpu, (uint32_t)params, theta, &err);
    vkvae_cpu_read_f64(cpu, (uint32_t)grads, g, &err);
    double l0 = loss(cpu, p, acc, u, &push);
    uint64_t units = 0;
    for (uint32_t b = 0; b < p->n_buffers; b++)
        if (p->buffers[b].role == VKVAE_ROLE_ACTIVATION)
            units += p->buffers[b].bytes / 4; /* more than the ReLUs' outputs */
    uint8_t *ref = malloc(units + 1);
    relu_pattern(cpu, p, ref, NULL);

    uint64_t seed = 1234;
    double worst = 0;
    int unjudged = 0, nth = 0;
    for (int i = -1; i < (int)p->n_tensors; i++) {
        /* i = -1: every parameter at once */
        const vkvae_tensor_desc *t = i >= 0 ? &p->tensors[i] : NULL;
        if (t && (t->buffer != p->tensors[params].buffer || i == params ||
                  t->offset / 4 < lo_range || t->offset / 4 + t->elems > hi_range ||
                  t->elems == hi_range - lo_range))
            continue;
        if (t && nth++ % sample != (int)(init_seed + rows + (uint32_t)(u + 1)) % sample)
            continue;
        uint64_t lo = t ? t->offset / 4 : lo_range, hi = t ? lo + t->elems : hi_range;
        double gnorm = 0;
        for (uint64_t k = lo; k < hi; k++)
            gnorm += g[k] * g[k];
        gnorm = sqrt(gnorm);
        /* Directions: along the gradient (the largest derivative), then at
         * random, until two are judged. The loss is ~1000 nats, so rounding
         * wants a step of 1e-4 or 5e-5; the difference is exact to O(h^2) only
         * on one smooth piece, so a direction is judged only at a step that
         * flips no ReLU. A first conv layer has thousands of ReLUs, and some
         * directions cross a kink: the next random one is tried. */
        int judged = 0;
        for (int dir = 0; dir < 24 && judged < 2; dir++) {
            double norm = 0;
            for (uint64_t k = 0; k < n; k++) {
                d[k] = 0;
                if (k >= lo && k < hi) {
                    double u1 = (plan_lcg(&seed) + 0.5) / 4294967296.0;
                    double u2 = (plan_lcg(&seed) + 0.5) / 4294967296.0;
                    d[k] = dir == 0 ? g[k] : sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
                    norm += d[k] * d[k];
                }
            }
            if (norm == 0) {
                fprintf(stderr, "%s: %s has a zero gradient\n", p->model, t ? t->name : "all");
                failures++;
                break;
            }
            double an = 0;
            for (uint64_t k = lo; k < hi; k++) {
                d[k] /= sqrt(norm);
                an += g[k] * d[k];
            }
            static const double steps[] = { 1e-4, 5e-5 };
            for (size_t hs = 0; hs < sizeof steps / sizeof *steps; hs++) {
                double h = steps[hs];
                for (uint64_t k = 0; k < n; k++)
                    t2[k] = theta[k] + h * d[k];
                vkvae_cpu_write_f64(cpu, (uint32_t)params, t2, &err);
                double lp = loss(cpu, p, acc, u, &push);
                uint64_t flips = relu_pattern(cpu, p, NULL, ref);
                for (uint64_t k = 0; k < n; k++)
                    t2[k] = theta[k] - h * d[k];
                vkvae_cpu_write_f64(cpu, (uint32_t)params, t2, &err);
                double lm = loss(cpu, p, acc, u, &push);
                flips += relu_pattern(cpu, p, NULL, ref);
                if (flips)
                    continue;
                double fd = (lp - lm) / (2 * h);
                /* relative to the larger of the two, or to |g|, the largest
                 * derivative along any unit direction (a random direction
                 * nearly orthogonal to g is not judged on rounding alone) */
                double rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), gnorm);
                worst = fmax(worst, rel);
                judged++;
                if (!(rel < 1e-6)) {
                    fprintf(stderr, "%s rows %u: %s (%s direction): analytic %.12g, central "
                            "difference %.12g at h %g, relative error %.3g\n", p->model, rows,
                            t ? t->name : "all parameters", dir ? "random" : "gradient", an,
                            fd, h, rel);
                    failures++;
                }
                break;
            }
        }
        if (judged < 2) {
            printf("  %s rows %u seed %u: %s: every direction tried crosses a ReLU kink\n",
                   p->model, rows, init_seed, t ? t->name : "all parameters");
            unjudged++;
        }
    }
    vkvae_cpu_write_f64(cpu, (uint32_t)params, theta, &err);
    char what[64];
    snprintf(what, sizeof what, u >= 0 ? "%s/%d" : "%s", p->model, u);
    printf("%-22s rows %u seed %u: loss %.6f, worst relative error %.2e%s\n", what, rows,
           init_seed, l0, worst, unjudged ? ", some tensors not judged" : "");
    free(ref);
    free(theta);
    free(g);
    free(d);
    free(t2);
    vkvae_cpu_destroy(cpu);
    return unjudged;
}

/* The logits of a pixel model's sample program for the images x. */
static void sample_logits(vkvae_cpu *cpu, const vkvae_program_desc *sp, uint32_t image,
                          uint32_t logits, const double *x, double *out)
{
    vkvae_error err = { 0 };
    vkvae_push push = { .seed = 1, .rows = sp->steps[0].p.n, .grad_scale = 1 };
    vkvae_cpu_write_f64(cpu, image, x, &err);
    for (uint32_t s = 0; s + 1 < sp->n_steps; s++)
        vkvae_cpu_run_step(cpu, VKVAE_PROGRAM_SAMPLE, s, &push, &err);
    vkvae_cpu_read_f64(cpu, logits, out, &err);
}

/* A pixel model's sample program computes logits that see only earlier
 * pixels: with random parameters and a random image in io.mean, changing
 * pixel j leaves every value of the logits at pixels up to j as they were
 * (each class's channel), and changes some later one. A text model's
 * decoder alike: its tokens are the pixels, its logits [steps, classes]. */
static void check_causal(const vkvae_plan *p)
{
    const vkvae_program_desc *sp = NULL;
    for (uint32_t k = 0; k < p->n_programs; k++)
        if (p->programs[k].kind == VKVAE_PROGRAM_SAMPLE)
            sp = &p->programs[k];
    vkvae_error err = { 0 };
    vkvae_cpu *cpu;
    if (!sp || vkvae_cpu_create(p, VKVAE_CPU_F64, &cpu, &err) ||
        vkvae_cpu_init_params(cpu, 9, &err)) {
        fprintf(stderr, "%s: no sample program, or %s\n", p->model, err.message);
        failures++;
        return;
    }
    const vkvae_step_desc *draw = &sp->steps[sp->n_steps - 1];
    uint32_t logits = draw->tensors[0], image = draw->tensors[1];
    uint32_t pixels = draw->p.in, classes = draw->p.mode ? draw->p.classes : 1;
    uint64_t n_img = (uint64_t)p->batch * pixels, n_log = n_img * classes;
    double *x = malloc(n_img * sizeof *x), *a = malloc(n_log * sizeof *a);
    double *b = malloc(n_log * sizeof *b);
    uint64_t seed = 99;
    for (uint64_t i = 0; i < n_img; i++)
        x[i] = plan_lcg(&seed) % 2;
    int bad = 0, later = 0;
    sample_logits(cpu, sp, image, logits, x, a);
    for (uint32_t j = 0; j < pixels; j++) { /* row 0's pixel j changed */
        x[j] = 1 - x[j];
        sample_logits(cpu, sp, image, logits, x, b);
        x[j] = 1 - x[j];
        for (uint32_t c = 0; c < classes; c++)
            for (uint32_t i = 0; i < pixels; i++) {
                /* row 0: [classes, pixels], or a text model's [steps, classes] */
                uint64_t at = draw->p.mode == 2 ? (uint64_t)i * classes + c
                                                : (uint64_t)c * pixels + i;
                if (i <= j && b[at] != a[at])
                    bad++;
                later += i > j && b[at] != a[at];
            }
    }
    if (bad || !later) {
        fprintf(stderr, "%s: changing a pixel changed %d logits at or before it, and %d "
                "after it\n", p->model, bad, later);
        failures++;
    } else {
        printf("%-22s causal: a pixel changes only later pixels' logits (%d changed)\n",
               p->model, later);
    }
    free(x), free(a), free(b);
    vkvae_cpu_destroy(cpu);
}

int main(void)
{
    const char *env = getenv("VKVAE_GRAD_SAMPLE");
    if (env && atoi(env) > 1)
        sample = atoi(env);
    for (uint32_t m = 0; m < vkvae_builtin_model_count; m++) {
        const vkvae_plan *p = vkvae_builtin_models[m];
        if (p->sample_passes)
            check_causal(p);
        /* a spec of networks (loss.<term> tensors) is checked update-wise,
         * even with one update line */
        int updates = 0, general = 0;
        for (uint32_t s = 0; s < p->programs[0].n_steps; s++)
            updates += is_optimizer(&p->programs[0].steps[s]);
        for (uint32_t t = 0; t < p->n_tensors; t++)
            general |= strncmp(p->tensors[t].name, "loss.", 5) == 0 &&
                       strcmp(p->tensors[t].name, "loss.acc") != 0;
        for (int u = general ? 0 : -1; u < (general ? updates : 0); u++)
            for (uint32_t rows = p->batch; rows >= 1; rows = rows > 1 ? 1 : 0) {
                /* rows 1 of 2: a short last batch. A tensor every direction of
                 * which crosses a kink is judged at other initial parameters. */
                uint32_t seed = 5;
                while (check_plan(p, rows, seed, u) > 0 && seed < 8)
                    seed++;
                if (seed == 8) {
                    fprintf(stderr, "%s rows %u: some tensor crosses a ReLU kink at every "
                            "seed\n", p->model, rows);
                    failures++;
                }
            }
    }
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
