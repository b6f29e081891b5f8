/* --explain: a readable, deterministic dump of the forward graph (every
 * node with its inputs and outputs and their shapes including the batch),
 * the parameter tensors under their PyTorch names with counts and init, and
 * FLOPs per training step; then of the plan compile.c made (buffers, every
 * program step by step with its barriers, bytes moved). Shapes print as
 * [rows,dims...]: rows are the batch n, n*k for IWAE samples, N for the
 * data set; parameters have none.
 * Counting rule (docs/spec.md): dense and conv layers count 2 FLOPs per
 * multiply-add for the forward product and each of the two backward
 * products (the input gradient only where one flows), plus one per output
 * for bias and activation; other ops one per batched value read; the
 * optimizer a fixed number per parameter.
 */
#include <math.h>
#include <string.h>

#include "gen.h"
#include "plan/hazard.h"
#include "plan/op_info.h"

static void shape(char *buf, size_t size, const gen_graph *g, int ti)
{
    const gen_tensor *t = &g->t[ti];
    size_t o = 0;
    bool any = false;
    o += (size_t)snprintf(buf + o, size - o, "[");
    if (t->role == ROLE_DATA) {
        o += (size_t)snprintf(buf + o, size - o, "N");
        any = true;
    } else if (t->rows) {
        o += (size_t)snprintf(buf + o, size - o, "%llu",
                              (unsigned long long)g->batch * t->rows);
        any = true;
    }
    for (int i = 0; i < t->dims.rank && o < size; i++) {
        o += (size_t)snprintf(buf + o, size - o, "%s%u", any ? "," : "", t->dims.d[i]);
        any = true;
    }
    if (o < size)
        snprintf(buf + o, size - o, "]%s", strcmp(t->dtype, "f32") ? t->dtype : "");
}

static void print_tensor(FILE *out, const gen_graph *g, int ti)
{
    char s[96];
    shape(s, sizeof s, g, ti);
    fprintf(out, " %s%s", g->t[ti].name, s);
}

static const char *init_text(char *buf, size_t size, const gen_tensor *t)
{
    switch (t->init) {
    case INIT_PYTORCH:
        snprintf(buf, size, "uniform(+-1/sqrt(%u))", t->fan_in);
        break;
    case INIT_XAVIER_UNIFORM:
        snprintf(buf, size, "%s", strstr(t->name, ".bias") ? "zeros" : "xavier_uniform");
        break;
    case INIT_KAIMING_NORMAL:
        snprintf(buf, size, "%s", strstr(t->name, ".bias") ? "zeros" : "kaiming_normal");
        break;
    case INIT_ONE:
        snprintf(buf, size, "ones");
        break;
    case INIT_NORMAL:
        snprintf(buf, size, "normal(0, 1)");
        break;
    default:
        snprintf(buf, size, "zeros");
    }
    return buf;
}

/* The general form's lines: the noise, the updates and their terms. */
static void explain_general(const gen_spec *s, FILE *out)
{
    if (s->has_noise)
        fprintf(out, "  noise      %u (N(0, I) per row)\n", s->noise);
    if (s->has_condition)
        fprintf(out, "  condition  label classes %u (y, one-hot)%s%s%s\n", s->classes,
                s->unlabelled ? "; a row without a label: every class, weighted by softmax(" : "",
                s->unlabelled ? s->unlabelled : "", s->unlabelled ? ")" : "");
    for (size_t t = 0; t < s->n_terms; t++) {
        fprintf(out, "  loss       %s =", s->terms[t].name);
        for (size_t i = 0; i < s->terms[t].n; i++) {
            const gen_term_part *part = &s->terms[t].parts[i];
            fprintf(out, "%s", i ? " +" : "");
            static const char *const kinds[] = {
                [TERM_KL] = "kl", [TERM_VQ] = "vq", [TERM_GAUSS] = "gauss",
                [TERM_BERNOULLI] = "bernoulli", [TERM_CATEGORICAL] = "categorical",
                [TERM_L2] = "l2", [TERM_ENTROPY] = "entropy", [TERM_CE] = "ce" };
            if ((part->kind == TERM_KL && !part->arg2) || part->kind == TERM_VQ ||
                part->kind == TERM_ENTROPY)
                fprintf(out, " %s %s", kinds[part->kind], part->arg);
            else if (part->kind == TERM_KL)
                fprintf(out, " kl %s %s", part->arg, part->arg2);
            else if (part->kind >= TERM_GAUSS)
                fprintf(out, " %s %s %s", kinds[part->kind], part->arg, part->arg2);
            else
                fprintf(out, " bce %s %s", part->arg,
                        part->kind == TERM_BCE_REAL ? "real" : "fake");
            if (part->free_bits > 0)
                fprintf(out, " free %g", part->free_bits);
        }
        fprintf(out, "\n");
    }
    for (size_t u = 0; u < s->n_updates; u++) {
        const gen_update *up = &s->updates[u];
        fprintf(out, "  update %zu  ", u + 1);
        for (size_t i = 0; i < up->n_nets; i++)
            fprintf(out, "%s ", up->nets[i].s);
        fprintf(out, "minimise");
        for (size_t i = 0; i < up->n_terms; i++) {
            fprintf(out, "%s", i ? " +" : "");
            if (up->weights[i] != 1)
                fprintf(out, " %g", up->weights[i]);
            fprintf(out, " %s", up->terms[i].s);
        }
        fprintf(out, "\n");
    }
}

void explain_graph(const gen_graph *g, FILE *out)
{
    const gen_spec *s = g->spec;
    char buf[64], a[32], b[32], c[32];
    dims_format(buf, sizeof buf, &s->input);
    fprintf(out, "model %s\n", s->model);
    fprintf(out, "  input      %s range %g..%g%s", buf, s->lo, s->hi,
            s->binarize ? " binarize (dynamic)" : "");
    if (s->levels)
        fprintf(out, " levels %u (bytes 0..%u read as k/%u)", s->levels, s->levels - 1,
                s->levels - 1);
    if (s->vocab)
        fprintf(out, " vocab %u (tokens: bytes 0..%u read as k/%u)", s->vocab, s->vocab - 1,
                s->vocab - 1);
    fprintf(out, "\n");
    bool classify = s->obj == OBJ_CLASSIFY;
    if (s->general) {
        explain_general(s, out);
    } else {
        if (s->has_condition)
            fprintf(out, "  condition  label classes %u (one-hot, %s)\n", s->classes,
                    classify ? "the target" : "concatenated");
        if (!classify)
            fprintf(out, "  latent     %u %s\n", s->latent,
                    s->latent_kind == LATENT_GAUSSIAN ? "gaussian" : "deterministic");
        fprintf(out, "  objective  %s", gen_objective_names[s->obj]);
        switch (s->obj) {
        case OBJ_ELBO: fprintf(out, " beta %g warmup %u", s->beta, s->warmup); break;
        case OBJ_IWAE: fprintf(out, " k %u", s->k); break;
        case OBJ_DAE:
            fprintf(out, " corrupt %s %g", s->corrupt == CORRUPT_MASK ? "mask" : "gaussian",
                    s->corrupt_value);
            /* fall through */
        case OBJ_AE: fprintf(out, " loss %s", s->loss == LOSS_L2 ? "l2" : "bce"); break;
        case OBJ_CLASSIFY: fprintf(out, " (softmax cross-entropy)"); break;
        }
        if (s->obj == OBJ_ELBO || s->obj == OBJ_IWAE) {
            static const char *const var[] = { "fixed", "learned", "predicted" };
            if (s->lik == LIK_BERNOULLI)
                fprintf(out, ", likelihood bernoulli (logits)");
            else if (s->variance == VAR_FIXED)
                fprintf(out, ", likelihood gaussian variance fixed %g", s->variance_value);
            else
                fprintf(out, ", likelihood gaussian variance %s", var[s->variance]);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "  train      %s lr %g", gen_optim_names[s->optim], s->lr);
    if (s->optim == OPTIM_SGD)
        fprintf(out, " momentum %g", s->momentum);
    else
        fprintf(out, " betas %g %g eps %g", s->beta1, s->beta2, s->eps);
    fprintf(out, " weight_decay %g batch %u epochs %u seed %u init %s", s->weight_decay,
            s->batch, s->epochs, s->seed, gen_init_names[s->init]);
    if (s->anneal_k > 0)
        fprintf(out, " anneal logistic %g %g", s->anneal_k, s->anneal_x0);
    else if (s->general && s->warmup)
        fprintf(out, " anneal linear %u", s->warmup);
    fprintf(out, "\n\n");

    fprintf(out, "forward graph (%zu nodes; batch n = %u)\n", g->nn, g->batch);
    for (size_t i = 0; i < g->nn; i++) {
        const gen_node *n = &g->n[i];
        fprintf(out, "  %3zu %-16s %-14s", i, gen_op_names[n->op], n->name);
        for (int j = 0; j < n->nin; j++)
            print_tensor(out, g, n->in[j]);
        fprintf(out, " ->");
        for (int j = 0; j < n->nout; j++)
            print_tensor(out, g, n->out[j]);
        if (n->p.act)
            fprintf(out, " %s", gen_act_names[n->p.act]);
        if (n->p.act == VKVAE_ACT_LEAKY_RELU)
            fprintf(out, " %g", n->p.alpha);
        if (n->op == VKVAE_OP_CONV2D || n->op == VKVAE_OP_CONVT2D) {
            fprintf(out, " k%u s%u p%u", n->p.k, n->p.stride, n->p.pad);
            if (n->p.out_pad)
                fprintf(out, " op%u", n->p.out_pad);
        }
        if (n->p.samples > 1)
            fprintf(out, " samples %u", n->p.samples);
        fprintf(out, "  (line %d)\n", n->loc.line);
    }

    fprintf(out, "\nparameters\n");
    for (size_t i = 0; i < g->nt; i++) {
        const gen_tensor *t = &g->t[i];
        if (t->role != ROLE_PARAM)
            continue;
        char sh[96], init[64];
        shape(sh, sizeof sh, g, (int)i);
        fprintf(out, "  %-22s %-16s %12s  init %s\n", t->name, sh,
                diag_thousands(a, dims_count(&t->dims)), init_text(init, sizeof init, t));
    }
    fprintf(out, "  total %s parameters\n\n", diag_thousands(a, g->n_params));

    fprintf(out, "FLOPs per training step (batch %u)\n", g->batch);
    fprintf(out, "  forward   %s\n", diag_thousands(a, g->flops_fwd));
    fprintf(out, "  backward  %s\n", diag_thousands(b, g->flops_bwd));
    fprintf(out, "  optimizer %s\n", diag_thousands(c, g->flops_optim));
    uint64_t total = g->flops_fwd + g->flops_bwd;
    total = total < g->flops_fwd ? UINT64_MAX : total;
    total = total + g->flops_optim < total ? UINT64_MAX : total + g->flops_optim;
    fprintf(out, "  total     %s\n", diag_thousands(a, total));
}

/* ---- the plan ---- */

static const char *const role_names[] = { "param", "grad", "optim", "activation", "data", "io",
                                          "accum", "state" };

/* Bytes a step moves: every binding read or written once, as the contract
 * sizes it (a gather's data: the rows it reads). */
static uint64_t step_bytes(const vkvae_step_desc *s)
{
    uint64_t bytes = 0;
    for (uint32_t b = 0; b < s->n_tensors; b++) {
        vkvae_op_binding_info info = vkvae_op_binding(s->op, &s->p, b);
        uint64_t e = info.elems;
        if (vkvae_op_flags(s->op) & VKVAE_OPF_DATA)
            e = b == 0 ? (uint64_t)s->p.n * (s->op == VKVAE_OP_GATHER ? s->p.in : 1)
              : b == 1 ? s->p.n : e;
        uint64_t size = info.elem == VKVAE_ELEM_U8 ? 1 : 4;
        unsigned acc = vkvae_hazard_access(s->op, &s->p, b);
        bytes += e * size * ((acc & VKVAE_HAZARD_READ ? 1u : 0u) + (acc & VKVAE_HAZARD_WRITE ? 1u : 0u));
    }
    return bytes;
}

void explain_plan(const gen_plan *pl, FILE *out)
{
    char a[32], b[32];
    fprintf(out, "\nplan (batch %u, data rows %u; one SPIR-V per op, specialised per step)\n",
            pl->batch, pl->data_rows);
    fprintf(out, "buffers\n");
    uint64_t total = 0;
    for (size_t i = 0; i < pl->nb; i++) {
        fprintf(out, "  %zu %-14s %-10s %16s bytes\n", i, pl->buf[i].name,
                role_names[pl->buf[i].role], diag_thousands(a, pl->buf[i].bytes));
        total += pl->buf[i].bytes;
    }
    fprintf(out, "  total %s bytes\n", diag_thousands(a, total));
    for (int p = 0; p < pl->n_prog; p++) {
        const gen_program *pr = &pl->prog[p];
        uint32_t barriers = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < pr->n; i++) {
            barriers += pr->steps[i].barrier;
            bytes += step_bytes(&pr->steps[i]);
        }
        fprintf(out, "\nprogram %s (%zu steps, %u barriers%s, %s bytes moved)\n", pr->name,
                pr->n, barriers, pr->kind == VKVAE_PROGRAM_TRAIN ? ", cyclic" : "",
                diag_thousands(a, bytes));
        for (size_t i = 0; i < pr->n; i++) {
            const vkvae_step_desc *s = &pr->steps[i];
            fprintf(out, "  %3zu %s %-18s", i, s->barrier ? "|" : " ", gen_op_names[s->op]);
            for (uint32_t k = 0; k < s->n_tensors; k++)
                fprintf(out, "%s %s", k == vkvae_op_inputs(s->op) ? " ->" : "", pl->t[s->tensors[k]].name);
            if (s->p.act)
                fprintf(out, " %s", gen_act_names[s->p.act]);
            fprintf(out, "\n");
        }
    }
    uint64_t train_bytes = 0;
    for (size_t i = 0; i < pl->prog[0].n; i++)
        train_bytes += step_bytes(&pl->prog[0].steps[i]);
    fprintf(out, "\none training step: %s FLOPs, %s bytes moved (\"|\": a barrier before the "
            "step)\n", diag_thousands(a, pl->step_flops), diag_thousands(b, train_bytes));
}
