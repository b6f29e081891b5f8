/* The parser: tokens to a gen_spec.
 *
 * How it works. A spec is a list of lines, and every line starts with a
 * keyword that says what the line is: a top-level keyword (model, input,
 * condition, latent, encoder, decoder, objective, train) or, between an
 * 'encoder' or 'decoder' line and the next top-level line, a layer keyword
 * (dense, conv2d, convt2d, flatten, reshape, concat, relu, ...). So the
 * grammar has two levels and the descent is shallow: parse_line() reads the
 * keyword and calls one function per line kind, which reads its positional
 * values and then a loop of "clauses" (a clause word and its values, in any
 * order, each at most once). Nothing nests, so nothing recurses.
 *
 * Recovery is per line. The first error on a line is reported, the rest of
 * the line is skipped, and parsing resumes at the next line: a spec with
 * five bad lines gets five errors. A line that fails leaves the spec
 * unchanged except that the line counts as seen, so a later duplicate is
 * still a duplicate and a missing-section error does not pile on.
 *
 * The parser checks everything a single line can check: keywords (with a
 * "did you mean" from the nearest known word), counts of values, numbers,
 * ranges of values, duplicate lines and clauses, and clauses that do not
 * belong to the chosen kind (k on an elbo objective). What needs two lines
 * (bernoulli likelihood vs. the value range, objective vs. latent kind) and
 * all shapes are shape.c's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

const char *const gen_act_names[VKVAE_ACT_COUNT] = {
    [VKVAE_ACT_NONE] = "none", [VKVAE_ACT_RELU] = "relu",
    [VKVAE_ACT_LEAKY_RELU] = "leaky_relu", [VKVAE_ACT_TANH] = "tanh",
    [VKVAE_ACT_SIGMOID] = "sigmoid", [VKVAE_ACT_SOFTPLUS] = "softplus",
};
const char *const gen_objective_names[] = { "elbo", "iwae", "ae", "dae", "classify", NULL };
const char *const gen_optim_names[] = { "adam", "adamw", "sgd", NULL };
const char *const gen_init_names[] = { "pytorch", "xavier_uniform", "kaiming_normal", NULL };

/* Dimensions as the spec writes them (1x28x28): counted and printed here,
 * where they are read; the later stages use both. */
uint64_t dims_count(const gen_dims *dims)
{
    uint64_t c = 1;
    for (int i = 0; i < dims->rank; i++)
        c *= dims->d[i];
    return c;
}

void dims_format(char *buf, size_t size, const gen_dims *dims)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < dims->rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, i ? "x%u" : "%u", dims->d[i]);
}

static const char *const top_words[] = {
    "model", "input", "condition", "latent", "encoder", "decoder", "objective", "train",
    "noise", "network", "graph", "loss", "update", NULL };
static const char *const layer_words[] = {
    "dense", "conv2d", "convt2d", "batchnorm", "flatten", "reshape", "concat", "add", "gate",
    "gaussian", "codebook", "onehot", "edges", "shift", "embed", "gru", "relu", "leaky_relu",
    "tanh", "sigmoid", "softplus", NULL };
static const char *const act_words[] = {
    "relu", "leaky_relu", "tanh", "sigmoid", "softplus", NULL };

/* Clause words written on a line of their own: name the line they belong to. */
static const struct { const char *word, *line; } stray_clauses[] = {
    { "likelihood", "input" }, { "range", "input" }, { "binarize", "input" },
    { "levels", "input" }, { "vocab", "input" },
    { "variance", "input" }, { "label", "condition" }, { "classes", "condition" },
    { "unlabelled", "condition" },
    { "gaussian", "latent" }, { "deterministic", "latent" },
    { "elbo", "objective" }, { "iwae", "objective" }, { "ae", "objective" },
    { "dae", "objective" }, { "beta", "objective" }, { "warmup", "objective" },
    { "k", "objective" }, { "corrupt", "objective" }, { "minimise", "update" },
    { "adam", "train" }, { "adamw", "train" }, { "sgd", "train" }, { "lr", "train" },
    { "betas", "train" }, { "eps", "train" }, { "weight_decay", "train" },
    { "momentum", "train" }, { "batch", "train" }, { "epochs", "train" },
    { "seed", "train" }, { "init", "train" },
    { "kernel", "conv2d' or 'convt2d" }, { "stride", "conv2d' or 'convt2d" },
    { "pad", "conv2d' or 'convt2d" }, { "out_pad", "convt2d" },
    { "residual", "dense', 'conv2d' or 'convt2d" },
    { "nobias", "dense', 'conv2d' or 'convt2d" },
};

typedef struct parser {
    const gen_token *tok;
    size_t pos;
    gen_spec *s;
    gen_diag *d;
    gen_stack *section;     /* NULL outside encoder/decoder/network */
    enum { BLOCK_NONE, BLOCK_GRAPH, BLOCK_LOSS } block; /* lines NAME = ... */
} parser;

#define TOKF "'%.*s'"
#define TOKA(t) ((t)->len > 40 ? 40 : (t)->len), (t)->text

static const gen_token *peek(parser *p) { return &p->tok[p->pos]; }

static const gen_token *next(parser *p)
{
    const gen_token *t = &p->tok[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static bool at_eol(parser *p) { return peek(p)->kind == TK_EOL || peek(p)->kind == TK_EOF; }

static void skip_line(parser *p)
{
    while (!at_eol(p))
        p->pos++;
    if (peek(p)->kind == TK_EOL)
        p->pos++;
}

/* Where a missing value should have been: just after token t. */
static gen_loc after(const gen_token *t)
{
    gen_loc l = t->loc;
    l.col += t->len + (t->len > 0);
    l.len = 0;
    return l;
}

static bool perr_at(parser *p, gen_loc at, const char *fmt, ...) GEN_PRINTF(3, 4);
static bool perr_at(parser *p, gen_loc at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(p->d, at, "%s", msg);
    return false;
}

static bool is_word(const gen_token *t, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (tok_is(t, list[i]))
            return true;
    return false;
}

static int word_index(const gen_token *t, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (tok_is(t, list[i]))
            return i;
    return -1;
}

static bool looks_numeric(const gen_token *t)
{
    char c = t->text[0];
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+';
}

/* ---- values ---- */

static bool want_real(parser *p, const gen_token *kw, double *out)
{
    if (at_eol(p))
        return perr_at(p, after(kw), TOKF " needs a number", TOKA(kw));
    const gen_token *t = next(p);
    if (t->kind == TK_NUM) {
        *out = t->num;
        return true;
    }
    if (looks_numeric(t))
        return perr_at(p, t->loc, "bad number " TOKF, TOKA(t));
    return perr_at(p, t->loc, TOKF " needs a number, got " TOKF, TOKA(kw), TOKA(t));
}

/* A real in (lo, hi) with each end open or closed; hi may be INFINITY. */
static bool want_range(parser *p, const gen_token *kw, double lo, bool lo_closed,
                       double hi, bool hi_closed, double *out)
{
    const gen_token *t = peek(p);
    if (!want_real(p, kw, out))
        return false;
    double v = *out;
    bool ok = (lo_closed ? v >= lo : v > lo) && (hi_closed ? v <= hi : v < hi);
    if (ok)
        return true;
    if (isinf(hi))
        return perr_at(p, t->loc, TOKF " must be %s %g, got " TOKF, TOKA(kw),
                       lo_closed ? ">=" : ">", lo, TOKA(t));
    return perr_at(p, t->loc, TOKF " must be in %c%g, %g%c, got " TOKF, TOKA(kw),
                   lo_closed ? '[' : '(', lo, hi, hi_closed ? ']' : ')', TOKA(t));
}

static bool want_uint(parser *p, const gen_token *kw, uint32_t lo, uint32_t hi, uint32_t *out)
{
    const gen_token *t = peek(p);
    double v;
    if (!want_real(p, kw, &v))
        return false;
    if (v != floor(v))
        return perr_at(p, t->loc, TOKF " must be a whole number, got " TOKF, TOKA(kw), TOKA(t));
    if (v < lo)
        return perr_at(p, t->loc, TOKF " must be at least %u, got " TOKF, TOKA(kw), lo, TOKA(t));
    if (v > hi)
        return perr_at(p, t->loc, TOKF " must be at most %u, got " TOKF, TOKA(kw), hi, TOKA(t));
    *out = (uint32_t)v;
    return true;
}

static bool want_ident(parser *p, const gen_token *kw, const char *what, const gen_token **out)
{
    if (at_eol(p))
        return perr_at(p, after(kw), TOKF " needs %s", TOKA(kw), what);
    const gen_token *t = next(p);
    if (t->kind != TK_IDENT)
        return perr_at(p, t->loc, TOKF " needs %s, got " TOKF, TOKA(kw), what, TOKA(t));
    *out = t;
    return true;
}

/* One of list; an unknown word gets the nearest as a suggestion. */
static bool want_choice(parser *p, const gen_token *kw, const char *what,
                        const char *const *list, int *out)
{
    const gen_token *t;
    if (!want_ident(p, kw, what, &t))
        return false;
    int i = word_index(t, list);
    if (i >= 0) {
        *out = i;
        return true;
    }
    const char *near = diag_nearest(t->text, (size_t)t->len, list);
    if (near)
        return perr_at(p, t->loc, "unknown %s " TOKF "; did you mean '%s'?", what, TOKA(t), near);
    char opts[256] = "";
    for (size_t j = 0; list[j]; j++) {
        size_t o = strlen(opts);
        snprintf(opts + o, sizeof opts - o, "%s'%s'", j ? ", " : "", list[j]);
    }
    return perr_at(p, t->loc, "unknown %s " TOKF " (expected %s)", what, TOKA(t), opts);
}

/* 784 or 1x28x28 */
static bool want_dims(parser *p, const gen_token *kw, gen_dims *out)
{
    if (at_eol(p))
        return perr_at(p, after(kw), TOKF " needs a shape, e.g. 784 or 1x28x28", TOKA(kw));
    const gen_token *t = next(p);
    gen_dims dims = { 0 };
    int i = 0;
    bool ok = true;
    while (ok && i < t->len) {
        if (dims.rank == 3) {
            ok = false;
            break;
        }
        uint64_t v = 0;
        int b = i;
        while (i < t->len && t->text[i] >= '0' && t->text[i] <= '9') {
            if (v <= GEN_MAX_FEATURES)
                v = v * 10 + (uint64_t)(t->text[i] - '0');
            i++;
        }
        if (i == b) {
            ok = false;
            break;
        }
        if (v < 1 || v > GEN_MAX_DIM)
            return perr_at(p, t->loc, "shape " TOKF ": each size must be from 1 to %d",
                           TOKA(t), GEN_MAX_DIM);
        dims.d[dims.rank++] = (uint32_t)v;
        if (i < t->len) {
            if (t->text[i] != 'x' || i + 1 == t->len) {
                ok = false;
                break;
            }
            i++;
        }
    }
    if (!ok || dims.rank == 2)
        return perr_at(p, t->loc, "bad shape " TOKF ": write N or CxHxW, e.g. 784 or 1x28x28",
                       TOKA(t));
    if (dims_count(&dims) > GEN_MAX_FEATURES)
        return perr_at(p, t->loc, "shape " TOKF " has more than %d values", TOKA(t),
                       GEN_MAX_FEATURES);
    *out = dims;
    return true;
}

static bool parse_num_text(const char *s, size_t len, double *v)
{
    if (len == 0 || len > 64)
        return false;
    char tmp[65];
    memcpy(tmp, s, len);
    tmp[len] = 0;
    char *end;
    *v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(*v))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789.eE+-", s[i]))
            return false;
    return true;
}

/* LO..HI */
static bool want_interval(parser *p, const gen_token *kw, double *lo, double *hi)
{
    if (at_eol(p))
        return perr_at(p, after(kw), TOKF " needs LO..HI, e.g. 0..1", TOKA(kw));
    const gen_token *t = next(p);
    const char *dots = NULL;
    for (int i = 0; i + 1 < t->len; i++)
        if (t->text[i] == '.' && t->text[i + 1] == '.') {
            dots = t->text + i;
            break;
        }
    if (!dots || !parse_num_text(t->text, (size_t)(dots - t->text), lo) ||
        !parse_num_text(dots + 2, (size_t)(t->text + t->len - dots - 2), hi))
        return perr_at(p, t->loc, "bad range " TOKF ": write LO..HI, e.g. 0..1", TOKA(t));
    if (!(*lo < *hi))
        return perr_at(p, t->loc, "range " TOKF " is empty: LO must be below HI", TOKA(t));
    return true;
}

/* ---- clause loops ---- */

/* Claims clause word t once per line: a second one is an error. */
static bool once(parser *p, const gen_token *t, const gen_token **seen, const char *line)
{
    if (*seen)
        return perr_at(p, t->loc, "duplicate " TOKF " in the '%s' line", TOKA(t), line);
    *seen = t;
    return true;
}

static bool unknown_clause(parser *p, const gen_token *t, const char *line,
                           const char *const *clauses)
{
    if (t->kind != TK_IDENT)
        return perr_at(p, t->loc, "unexpected " TOKF " in the '%s' line", TOKA(t), line);
    const char *near = diag_nearest(t->text, (size_t)t->len, clauses);
    if (near)
        return perr_at(p, t->loc, "unknown '%s' option " TOKF "; did you mean '%s'?", line,
                       TOKA(t), near);
    return perr_at(p, t->loc, "unknown '%s' option " TOKF, line, TOKA(t));
}

static bool no_more(parser *p, const char *line, const char *what)
{
    if (at_eol(p))
        return true;
    const gen_token *t = peek(p);
    return perr_at(p, t->loc, "unexpected " TOKF " after %s in the '%s' line", TOKA(t), what,
                   line);
}

static bool dup_line(parser *p, const gen_token *kw, bool seen, gen_loc first)
{
    if (!seen)
        return false;
    perr_at(p, kw->loc, "duplicate " TOKF " (first at line %d)", TOKA(kw), first.line);
    return true;
}

/* ---- top-level lines ---- */

static bool line_model(parser *p, const gen_token *kw)
{
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_model, s->model_loc))
        return false;
    s->has_model = true;
    s->model_loc = kw->loc;
    const gen_token *name;
    if (!want_ident(p, kw, "a name", &name))
        return false;
    s->model = xstrndup(name->text, (size_t)name->len);
    return no_more(p, "model", "the name");
}

static bool line_input(parser *p, const gen_token *kw)
{
    static const char *const clauses[] = { "range", "binarize", "likelihood", "variance",
                                           "levels", "vocab", NULL };
    static const char *const liks[] = { "bernoulli", "gaussian", NULL };
    static const char *const vars[] = { "fixed", "learned", "predicted", NULL };
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_input, s->input_loc))
        return false;
    s->has_input = true;
    s->input_loc = kw->loc;
    if (!want_dims(p, kw, &s->input))
        return false;
    const gen_token *seen[6] = { 0 };
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c < 0)
            return unknown_clause(p, t, "input", clauses);
        if (!once(p, t, &seen[c], "input"))
            return false;
        if (c == 5) {
            /* vocab V: a line of text as tokens (<pad> <bos> <eos> <unk> and
             * V-4 more), one byte each in the data set */
            s->vocab_loc = t->loc;
            if (!want_uint(p, t, 5, 256, &s->vocab))
                return false;
            if (s->input.rank != 1)
                return perr_at(p, s->vocab_loc, "'vocab' takes a sequence's length as the "
                               "input's shape (input 24 vocab 64), not a grid");
            for (int k = 0; k < 5; k++)
                if (seen[k])
                    return perr_at(p, seen[k]->loc, "a text input ('vocab') takes no '%.*s': "
                                   "its tokens are levels of the vocabulary", seen[k]->len,
                                   seen[k]->text);
            continue;
        }
        if (s->vocab)
            return perr_at(p, t->loc, "a text input ('vocab') takes no '%.*s': its tokens "
                           "are levels of the vocabulary", t->len, t->text);
        if (c == 0) {
            s->range_given = true;
            s->range_loc = t->loc;
            if (!want_interval(p, t, &s->lo, &s->hi))
                return false;
            s->range_loc.len = (int)(peek(p)->text - t->text);
        } else if (c == 1) {
            s->binarize = true;
            s->binarize_loc = t->loc;
        } else if (c == 4) {
            s->levels_loc = t->loc;
            if (!want_uint(p, t, 2, 256, &s->levels))
                return false;
        } else if (c == 2) {
            int l;
            s->likelihood_given = true;
            s->likelihood_loc = t->loc;
            if (!want_choice(p, t, "likelihood", liks, &l))
                return false;
            s->lik = (gen_likelihood)l;
        } else {
            int v;
            s->variance_loc = t->loc;
            if (!seen[2] || s->lik != LIK_GAUSSIAN)
                return perr_at(p, t->loc, "'variance' applies to 'likelihood gaussian'; "
                                          "write it after that");
            if (!want_choice(p, t, "variance", vars, &v))
                return false;
            s->variance = (gen_variance)v;
            if (s->variance == VAR_FIXED && !at_eol(p) && peek(p)->kind != TK_IDENT) {
                const gen_token *f = &p->tok[p->pos - 1];
                if (!want_range(p, f, 0, false, INFINITY, false, &s->variance_value))
                    return false;
            }
        }
    }
    return true;
}

static bool line_condition(parser *p, const gen_token *kw)
{
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_condition, s->condition_loc))
        return false;
    s->has_condition = true;
    s->condition_loc = kw->loc;
    static const char *const kinds[] = { "label", NULL };
    int kind;
    if (!want_choice(p, kw, "condition", kinds, &kind))
        return false;
    if (at_eol(p) || !tok_is(peek(p), "classes")) {
        const gen_token *prev = &p->tok[p->pos - 1];
        if (at_eol(p))
            return perr_at(p, after(prev), "'condition label' needs 'classes N', e.g. 'classes 10'");
        return perr_at(p, peek(p)->loc, "expected 'classes N' after 'condition label', got " TOKF,
                       TOKA(peek(p)));
    }
    const gen_token *c = next(p);
    if (!want_uint(p, c, 2, GEN_MAX_DIM, &s->classes))
        return false;
    if (!at_eol(p) && tok_is(peek(p), "unlabelled")) {
        /* semi-supervised (M2): a row without a label tries every class */
        const gen_token *u = next(p), *q;
        if (!want_ident(p, u, "the classifier's logits (a call's output)", &q))
            return false;
        s->unlabelled = xstrndup(q->text, (size_t)q->len);
        s->unlabelled_loc = q->loc;
    }
    return no_more(p, "condition", "the class count");
}

static bool line_latent(parser *p, const gen_token *kw)
{
    static const char *const kinds[] = { "gaussian", "deterministic", NULL };
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_latent, s->latent_loc))
        return false;
    s->has_latent = true;
    s->latent_loc = kw->loc;
    if (!want_uint(p, kw, 1, GEN_MAX_DIM, &s->latent))
        return false;
    if (!at_eol(p)) {
        int k;
        if (!want_choice(p, kw, "latent kind", kinds, &k))
            return false;
        s->latent_kind = (gen_latent_kind)k;
    }
    return no_more(p, "latent", "the kind");
}

static bool line_section(parser *p, const gen_token *kw, gen_stack *st)
{
    if (dup_line(p, kw, st->seen, st->loc))
        return false;
    st->seen = true;
    st->loc = kw->loc;
    p->section = st;
    if (!at_eol(p))
        return perr_at(p, peek(p)->loc, "unexpected " TOKF ": layers go on the lines after " TOKF,
                       TOKA(peek(p)), TOKA(kw));
    return true;
}

static bool line_objective(parser *p, const gen_token *kw)
{
    static const char *const clauses[] = { "beta", "warmup", "k", "loss", "corrupt", NULL };
    static const char *const owner[] = { "elbo", "elbo", "iwae", "ae' or 'dae", "dae" };
    static const char *const losses[] = { "l2", "bce", NULL };
    static const char *const corrupts[] = { "mask", "gaussian", NULL };
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_objective, s->objective_loc))
        return false;
    s->has_objective = true;
    s->objective_loc = kw->loc;
    int o;
    if (!want_choice(p, kw, "objective", gen_objective_names, &o))
        return false;
    s->obj = (gen_objective)o;
    const gen_token *seen[5] = { 0 };
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c < 0)
            return unknown_clause(p, t, "objective", clauses);
        if (!once(p, t, &seen[c], "objective"))
            return false;
        bool fits = (c <= 1 && o == OBJ_ELBO) || (c == 2 && o == OBJ_IWAE) ||
                    (c == 3 && (o == OBJ_AE || o == OBJ_DAE)) || (c == 4 && o == OBJ_DAE);
        if (!fits)
            return perr_at(p, t->loc, TOKF " applies to objective '%s', not '%s'", TOKA(t),
                           owner[c], gen_objective_names[o]);
        switch (c) {
        case 0:
            if (!want_range(p, t, 0, true, INFINITY, false, &s->beta))
                return false;
            break;
        case 1:
            if (s->anneal_loc.line)
                return perr_at(p, t->loc, "'warmup' and the train line's 'anneal' (line %d) "
                               "both set the KL weight's schedule: keep one",
                               s->anneal_loc.line);
            if (!want_uint(p, t, 0, 1000000, &s->warmup))
                return false;
            break;
        case 2:
            if (!want_uint(p, t, 1, GEN_MAX_SAMPLES, &s->k))
                return false;
            break;
        case 3: {
            int l;
            s->loss_given = true;
            s->loss_loc = t->loc;
            if (!want_choice(p, t, "loss", losses, &l))
                return false;
            s->loss = (gen_loss)l;
            break;
        }
        default: {
            int k;
            s->corrupt_loc = t->loc;
            if (!want_choice(p, t, "corruption", corrupts, &k))
                return false;
            const gen_token *kt = &p->tok[p->pos - 1];
            if (k == 0) {
                s->corrupt = CORRUPT_MASK;
                if (!want_range(p, kt, 0, true, 1, false, &s->corrupt_value))
                    return false;
            } else {
                s->corrupt = CORRUPT_GAUSSIAN;
                if (!want_range(p, kt, 0, false, INFINITY, false, &s->corrupt_value))
                    return false;
            }
        }
        }
    }
    if (o == OBJ_IWAE && !seen[2])
        return perr_at(p, kw->loc, "objective iwae needs 'k N', the number of importance "
                                   "samples, e.g. 'k 5'");
    if (o == OBJ_DAE && !seen[4])
        return perr_at(p, kw->loc, "objective dae needs 'corrupt mask P' or "
                                   "'corrupt gaussian SIGMA'");
    return true;
}

static bool line_train(parser *p, const gen_token *kw)
{
    static const char *const clauses[] = { "lr", "betas", "eps", "weight_decay", "momentum",
                                           "batch", "epochs", "seed", "init", "anneal", NULL };
    static const char *const schedules[] = { "linear", "logistic", NULL };
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_train, s->train_loc))
        return false;
    s->has_train = true;
    s->train_loc = kw->loc;
    int o;
    if (!want_choice(p, kw, "optimizer", gen_optim_names, &o))
        return false;
    s->optim = (gen_optim)o;
    if (o == OPTIM_ADAMW)
        s->weight_decay = 0.01; /* torch.optim.AdamW's default */
    const gen_token *seen[10] = { 0 };
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c < 0)
            return unknown_clause(p, t, "train", clauses);
        if (c == 9) {
            /* anneal linear E | anneal logistic K X0: the KL term's weight */
            int k;
            if (!once(p, t, &seen[c], "train") || !want_choice(p, t, "schedule", schedules, &k))
                return false;
            s->anneal_loc = t->loc;
            if (s->warmup)
                return perr_at(p, t->loc, "'anneal' and the objective's 'warmup' (line %d) "
                               "both set the KL weight's schedule: keep one",
                               s->objective_loc.line);
            bool ok = k == 0 ? want_uint(p, t, 1, 1000000, &s->warmup)
                             : want_range(p, t, 0, false, 1e6, true, &s->anneal_k) &&
                               want_range(p, t, 0, true, 1e12, true, &s->anneal_x0);
            if (!ok)
                return false;
            continue;
        }
        if (!once(p, t, &seen[c], "train"))
            return false;
        if ((c == 1 || c == 2) && o == OPTIM_SGD)
            return perr_at(p, t->loc, TOKF " applies to optimizer 'adam' or 'adamw', not 'sgd'",
                           TOKA(t));
        if (c == 4 && o != OPTIM_SGD)
            return perr_at(p, t->loc, "'momentum' applies to optimizer 'sgd', not '%s'",
                           gen_optim_names[o]);
        bool ok = true;
        switch (c) {
        case 0: ok = want_range(p, t, 0, false, INFINITY, false, &s->lr); break;
        case 1:
            ok = want_range(p, t, 0, true, 1, false, &s->beta1) &&
                 want_range(p, t, 0, true, 1, false, &s->beta2);
            break;
        case 2: ok = want_range(p, t, 0, false, INFINITY, false, &s->eps); break;
        case 3: ok = want_range(p, t, 0, true, INFINITY, false, &s->weight_decay); break;
        case 4: ok = want_range(p, t, 0, true, 1, false, &s->momentum); break;
        case 5: ok = want_uint(p, t, 1, GEN_MAX_BATCH, &s->batch); break;
        case 6: ok = want_uint(p, t, 1, 1000000, &s->epochs); break;
        case 7: ok = want_uint(p, t, 0, UINT32_MAX, &s->seed); break;
        default: {
            int i;
            ok = want_choice(p, t, "init", gen_init_names, &i);
            s->init = (gen_init)i;
        }
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- the general form ---- */

static bool want_eol_section(parser *p, const gen_token *kw)
{
    if (!at_eol(p))
        return perr_at(p, peek(p)->loc, "unexpected " TOKF ": the lines of " TOKF
                       " follow it, one per line", TOKA(peek(p)), TOKA(kw));
    return true;
}

static void mark_general(parser *p, const gen_token *kw)
{
    if (!p->s->general)
        p->s->general_loc = kw->loc;
    p->s->general = true;
}

static bool line_noise(parser *p, const gen_token *kw)
{
    gen_spec *s = p->s;
    if (dup_line(p, kw, s->has_noise, s->noise_loc))
        return false;
    s->has_noise = true;
    s->noise_loc = kw->loc;
    mark_general(p, kw);
    return want_uint(p, kw, 1, GEN_MAX_DIM, &s->noise) && no_more(p, "noise", "the size");
}

static bool line_network(parser *p, const gen_token *kw)
{
    gen_spec *s = p->s;
    const gen_token *name;
    mark_general(p, kw);
    if (!want_ident(p, kw, "a network name", &name))
        return false;
    for (size_t i = 0; i < s->n_nets; i++)
        if (strlen(s->nets[i].name) == (size_t)name->len &&
            memcmp(s->nets[i].name, name->text, (size_t)name->len) == 0)
            return perr_at(p, name->loc, "duplicate network " TOKF " (first at line %d)",
                           TOKA(name), s->nets[i].st.loc.line);
    GROW(s->nets, s->cap_nets, s->n_nets + 1);
    gen_network *n = &s->nets[s->n_nets++];
    *n = (gen_network){ .name = xstrndup(name->text, (size_t)name->len),
                        .st = { .seen = true, .loc = name->loc } };
    p->section = &n->st;
    return no_more(p, "network", "the name");
}

static bool want_equals(parser *p, const gen_token *name)
{
    const gen_token *eq = next(p);
    if (eq->len != 1 || eq->text[0] != '=')
        return perr_at(p, eq->loc, "expected '=' after " TOKF, TOKA(name));
    return true;
}

/* OUT [TAP...] = NET IN [IN2] */
static bool line_call(parser *p, const gen_token *out)
{
    gen_spec *s = p->s;
    gen_net_call c = { .loc = out->loc, .out = xstrndup(out->text, (size_t)out->len) };
    while (!at_eol(p) && peek(p)->kind == TK_IDENT) {
        const gen_token *t = next(p);
        GROW(c.taps, c.cap_taps, c.n_taps + 1);
        c.taps[c.n_taps++] = (gen_name){ xstrndup(t->text, (size_t)t->len), t->loc };
    }
    const gen_token *net, *in;
    if (!want_equals(p, out) || !want_ident(p, out, "a network name", &net) ||
        !want_ident(p, net, "the tensor the network reads", &in))
        return false;
    c.net_loc = net->loc, c.in_loc = in->loc;
    c.net = xstrndup(net->text, (size_t)net->len);
    c.in = xstrndup(in->text, (size_t)in->len);
    if (!at_eol(p) && peek(p)->kind == TK_IDENT) { /* OUT = NET IN IN2 */
        const gen_token *in2 = next(p);
        c.in2_loc = in2->loc;
        c.in2 = xstrndup(in2->text, (size_t)in2->len);
    }
    GROW(s->calls, s->cap_calls, s->n_calls + 1);
    s->calls[s->n_calls++] = c;
    return no_more(p, "graph", "the inputs");
}

/* NAME = PART [+ PART...]; PART: bce T real|fake | kl Z | vq Z | gauss MEAN
 * TARGET | bernoulli LOGITS TARGET | categorical LOGITS TARGET | l2 Y TARGET
 * | entropy Q | ce Q y */
static bool line_term(parser *p, const gen_token *name)
{
    static const char *const kinds[] = { "bce", "kl", "gauss", "bernoulli", "categorical", "vq",
                                         "l2", "entropy", "ce", NULL };
    static const char *const targets[] = { "real", "fake", NULL };
    gen_spec *s = p->s;
    if (!want_equals(p, name))
        return false;
    GROW(s->terms, s->cap_terms, s->n_terms + 1);
    gen_term *t = &s->terms[s->n_terms++];
    *t = (gen_term){ .loc = name->loc, .name = xstrndup(name->text, (size_t)name->len) };
    for (;;) {
        const gen_token *k = peek(p);
        int kind, target;
        if (!want_choice(p, &p->tok[p->pos - 1], "loss", kinds, &kind))
            return false;
        const gen_token *arg, *arg2 = NULL;
        static const char *const what[] = { "the logits it reads", "a gaussian layer's z",
                                             "the mean", "the logits it reads",
                                             "the logits it reads", "a codebook layer's output",
                                             "the prediction", "the logits it reads",
                                             "the logits it reads" };
        if (!want_ident(p, k, what[kind], &arg))
            return false;
        static const gen_term_kind term_kinds[] = { TERM_BCE_REAL, TERM_KL, TERM_GAUSS,
                                                    TERM_BERNOULLI, TERM_CATEGORICAL, TERM_VQ,
                                                    TERM_L2, TERM_ENTROPY, TERM_CE };
        gen_term_kind tk = term_kinds[kind];
        if (kind == 0) {
            if (!want_choice(p, arg, "target", targets, &target))
                return false;
            tk = target == 0 ? TERM_BCE_REAL : TERM_BCE_FAKE;
        } else if (tk >= TERM_GAUSS && !want_ident(p, arg, "the target", &arg2)) {
            return false;
        } else if (tk == TERM_KL && !at_eol(p) && peek(p)->kind == TK_IDENT &&
                   !tok_is(peek(p), "free")) {
            arg2 = next(p); /* kl Z P: against a learned prior's Gaussian */
        }
        /* kl Z [P] free F: free bits, F nats a latent dimension */
        const gen_token *fr = NULL;
        double free_bits = 0;
        if (tk == TERM_KL && !at_eol(p) && tok_is(peek(p), "free")) {
            fr = next(p);
            if (!want_range(p, fr, 0, false, 100, true, &free_bits))
                return false;
        }
        GROW(t->parts, t->cap, t->n + 1);
        t->parts[t->n++] = (gen_term_part){
            .kind = tk, .loc = k->loc, .arg_loc = arg->loc,
            .arg = xstrndup(arg->text, (size_t)arg->len),
            .arg2_loc = arg2 ? arg2->loc : arg->loc,
            .arg2 = arg2 ? xstrndup(arg2->text, (size_t)arg2->len) : NULL,
            .free_loc = fr ? fr->loc : k->loc, .free_bits = free_bits };
        if (at_eol(p))
            return true;
        const gen_token *plus = next(p);
        if (plus->len != 1 || plus->text[0] != '+')
            return perr_at(p, plus->loc, "expected '+' or the end of the line, got " TOKF,
                           TOKA(plus));
    }
}

/* update NET [NET...] minimise TERM [+ TERM...] */
static bool line_update(parser *p, const gen_token *kw)
{
    gen_spec *s = p->s;
    mark_general(p, kw);
    GROW(s->updates, s->cap_updates, s->n_updates + 1);
    gen_update *u = &s->updates[s->n_updates++];
    *u = (gen_update){ .loc = kw->loc };
    while (!at_eol(p) && !tok_is(peek(p), "minimise")) {
        const gen_token *n;
        if (!want_ident(p, &p->tok[p->pos - 1], "a network name", &n))
            return false;
        GROW(u->nets, u->cap_nets, u->n_nets + 1);
        u->nets[u->n_nets++] = (gen_name){ xstrndup(n->text, (size_t)n->len), n->loc };
    }
    if (u->n_nets == 0 || at_eol(p))
        return perr_at(p, after(&p->tok[p->pos - 1]), "'update' needs the networks it trains "
                       "and the terms they minimise, e.g. 'update dis minimise d_loss'");
    const gen_token *m = next(p);
    for (;;) {
        const gen_token *t;
        double w = 1;
        if (peek(p)->kind == TK_NUM) {
            const gen_token *wt = next(p);
            w = wt->num;
            if (!(w > 0 && w <= 1e6))
                return perr_at(p, wt->loc, "a term's weight must be in (0, 1e6], got " TOKF,
                               TOKA(wt));
        }
        if (!want_ident(p, m, "a loss term's name", &t))
            return false;
        GROW(u->weights, u->cap_weights, u->n_terms + 1);
        u->weights[u->n_terms] = w;
        GROW(u->terms, u->cap_terms, u->n_terms + 1);
        u->terms[u->n_terms++] = (gen_name){ xstrndup(t->text, (size_t)t->len), t->loc };
        if (at_eol(p))
            return true;
        m = next(p);
        if (m->len != 1 || m->text[0] != '+')
            return perr_at(p, m->loc, "expected '+' or the end of the line, got " TOKF,
                           TOKA(m));
    }
}

/* ---- layers ---- */

static gen_layer *add_layer(parser *p, const gen_token *kw, gen_layer_kind kind)
{
    gen_stack *st = p->section;
    if (st->n >= GEN_MAX_LAYERS) {
        perr_at(p, kw->loc, "more than %d layers in one stack", GEN_MAX_LAYERS);
        return NULL;
    }
    GROW(st->layers, st->cap, st->n + 1);
    gen_layer *l = &st->layers[st->n++];
    *l = (gen_layer){ .kind = kind, .loc = kw->loc, .stride = 1, .slope = 0.01f };
    return l;
}

/* relu | leaky_relu [SLOPE] | ... ; t is the activation word */
static bool read_act(parser *p, const gen_token *t, gen_layer *l)
{
    if (l->act != VKVAE_ACT_NONE)
        return perr_at(p, t->loc, "second activation " TOKF " on one layer (first is '%s')",
                       TOKA(t), gen_act_names[l->act]);
    l->act = (vkvae_act)(word_index(t, act_words) + 1);
    l->act_loc = t->loc;
    if (l->act == VKVAE_ACT_LEAKY_RELU && !at_eol(p) && peek(p)->kind != TK_IDENT) {
        double slope;
        if (!want_range(p, t, 0, false, 1, false, &slope))
            return false;
        l->slope = (float)slope;
    }
    return true;
}

static bool read_name(parser *p, const gen_token *t, gen_layer *l)
{
    const gen_token *n;
    if (!want_ident(p, t, "a layer name", &n))
        return false;
    l->name = xstrndup(n->text, (size_t)n->len);
    l->name_loc = n->loc;
    return true;
}

/* 'residual': the layer's input is added to its output (x + act(layer(x))) */
static bool read_residual(parser *p, const gen_token *t, const char *line, gen_layer *l)
{
    const gen_token *seen = l->residual ? t : NULL;
    if (!once(p, t, &seen, line))
        return false;
    l->residual = true;
    l->residual_loc = t->loc;
    return true;
}

/* 'nobias': the layer has no bias (PyTorch's bias=False) */
static bool read_nobias(parser *p, const gen_token *t, const char *line, gen_layer *l)
{
    const gen_token *seen = l->nobias ? t : NULL;
    if (!once(p, t, &seen, line))
        return false;
    l->nobias = true;
    return true;
}

static bool layer_dense(parser *p, const gen_token *kw)
{
    static const char *const clauses[] = { "name", "residual", "nobias", "tap", "relu",
        "leaky_relu", "tanh", "sigmoid", "softplus", NULL };
    gen_layer *l = add_layer(p, kw, LAYER_DENSE);
    if (!l || !want_uint(p, kw, 1, GEN_MAX_DIM, &l->units))
        return false;
    const gen_token *seen_name = NULL;
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        if (is_word(t, act_words)) {
            if (!read_act(p, t, l))
                return false;
        } else if (tok_is(t, "name")) {
            if (!once(p, t, &seen_name, "dense") || !read_name(p, t, l))
                return false;
        } else if (tok_is(t, "residual")) {
            if (!read_residual(p, t, "dense", l))
                return false;
        } else if (tok_is(t, "nobias")) {
            if (!read_nobias(p, t, "dense", l))
                return false;
        } else if (tok_is(t, "tap")) {
            l->tap = true;
        } else {
            return unknown_clause(p, t, "dense", clauses);
        }
    }
    return true;
}

static bool layer_conv(parser *p, const gen_token *kw, bool transposed)
{
    static const char *const clauses[] = { "kernel", "stride", "pad", "out_pad", "name",
        "residual", "nobias", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "tap", "mask",
        NULL };
    static const char *const masks[] = { "A", "B", NULL };
    const char *line = transposed ? "convt2d" : "conv2d";
    gen_layer *l = add_layer(p, kw, transposed ? LAYER_CONVT2D : LAYER_CONV2D);
    if (!l || !want_uint(p, kw, 1, GEN_MAX_DIM, &l->units))
        return false;
    const gen_token *seen[5] = { 0 };
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c == 12) {
            l->tap = true;
            continue;
        }
        if (c == 13) { /* mask A|B: a PixelCNN's causal convolution */
            const gen_token *seen_mask = l->mask ? t : NULL;
            int m;
            if (transposed)
                return perr_at(p, t->loc, "'mask' belongs to 'conv2d' (PixelCNN's masked "
                               "convolution), not 'convt2d'");
            if (!once(p, t, &seen_mask, line) || !want_choice(p, t, "mask", masks, &m))
                return false;
            l->mask = m ? 'B' : 'A';
            l->mask_loc = t->loc;
            continue;
        }
        if (c >= 7) {
            if (!read_act(p, t, l))
                return false;
            continue;
        }
        if (c == 5 || c == 6) {
            if (!(c == 5 ? read_residual(p, t, line, l) : read_nobias(p, t, line, l)))
                return false;
            continue;
        }
        if (c < 0 || (c == 3 && !transposed))
            return unknown_clause(p, t, line, clauses + (c == 3));
        if (!once(p, t, &seen[c], line))
            return false;
        bool ok = true;
        switch (c) {
        case 0: ok = want_uint(p, t, 1, 64, &l->k); break;
        case 1: ok = want_uint(p, t, 1, 64, &l->stride); break;
        case 2: ok = want_uint(p, t, 0, 64, &l->pad); break;
        case 3: ok = want_uint(p, t, 0, 64, &l->out_pad); break;
        default: ok = read_name(p, t, l);
        }
        if (!ok)
            return false;
    }
    if (!seen[0])
        return perr_at(p, kw->loc, "'%s' needs 'kernel K', e.g. 'kernel 4'", line);
    if (transposed && l->out_pad >= l->stride)
        return perr_at(p, seen[3]->loc, "'out_pad' must be below the stride (%u), got %u",
                       l->stride, l->out_pad);
    return true;
}

/* batchnorm [act] [name NAME] [momentum M] [eps E]: PyTorch's BatchNorm1d or
 * 2d over the channels of what it follows */
static bool layer_batchnorm(parser *p, const gen_token *kw)
{
    static const char *const clauses[] = { "name", "momentum", "eps", "tap", "relu",
                                           "leaky_relu", "tanh", "sigmoid", "softplus", NULL };
    gen_layer *l = add_layer(p, kw, LAYER_BATCHNORM);
    if (!l)
        return false;
    l->momentum = 0.1, l->eps = 1e-5; /* torch.nn.BatchNorm2d's */
    const gen_token *seen[3] = { 0 };
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c == 3) {
            l->tap = true;
            continue;
        }
        if (c > 3) {
            if (!read_act(p, t, l))
                return false;
            continue;
        }
        if (c < 0)
            return unknown_clause(p, t, "batchnorm", clauses);
        if (!once(p, t, &seen[c], "batchnorm"))
            return false;
        bool ok = c == 0   ? read_name(p, t, l)
                : c == 1 ? want_range(p, t, 0, true, 1, true, &l->momentum)
                         : want_range(p, t, 0, false, 1, false, &l->eps);
        if (!ok)
            return false;
    }
    return true;
}

/* add NAME { act | name NAME | tap }, concat NAME { name NAME | tap }: the
 * current tensor with the output of the layer NAME earlier in the network
 * (or 'input', the call's input); shapes are checked in shape.c. */
static bool layer_join(parser *p, const gen_token *kw, bool add)
{
    /* add takes an activation (of the sum); concat does not */
    static const char *const add_clauses[] = { "name", "tap", "relu", "leaky_relu", "tanh",
                                               "sigmoid", "softplus", NULL };
    static const char *const concat_clauses[] = { "name", "tap", NULL };
    const char *const *clauses = add ? add_clauses : concat_clauses;
    gen_layer *l = add_layer(p, kw, add ? LAYER_ADD : LAYER_CONCAT);
    const gen_token *ref;
    if (!l || !want_ident(p, kw, add ? "the name of a layer to add (or 'input')"
                                     : "'label', or the name of a layer to concatenate "
                                       "(or 'input')", &ref))
        return false;
    l->ref = xstrndup(ref->text, (size_t)ref->len);
    l->ref_loc = ref->loc;
    const gen_token *seen[2] = { 0 };
    const char *line = add ? "add" : "concat";
    while (!at_eol(p)) {
        const gen_token *t = next(p);
        int c = word_index(t, clauses);
        if (c < 0)
            return unknown_clause(p, t, line, clauses);
        if (c >= 2) {
            if (!read_act(p, t, l))
                return false;
            continue;
        }
        if (!once(p, t, &seen[c], line))
            return false;
        if (c == 1)
            l->tap = true;
        else if (!read_name(p, t, l))
            return false;
    }
    return true;
}

static bool parse_layer(parser *p, const gen_token *kw)
{
    if (tok_is(kw, "dense"))
        return layer_dense(p, kw);
    if (tok_is(kw, "batchnorm"))
        return layer_batchnorm(p, kw);
    if (tok_is(kw, "conv2d") || tok_is(kw, "convt2d"))
        return layer_conv(p, kw, tok_is(kw, "convt2d"));
    if (tok_is(kw, "flatten"))
        return add_layer(p, kw, LAYER_FLATTEN) && no_more(p, "flatten", "the keyword");
    if (tok_is(kw, "gaussian")) {
        gen_layer *l = add_layer(p, kw, LAYER_GAUSSIAN);
        return l && want_uint(p, kw, 1, GEN_MAX_DIM, &l->units) &&
               no_more(p, "gaussian", "the latent size");
    }
    if (tok_is(kw, "codebook")) {
        /* codebook K [beta B] [ema D] [restart]: beta weighs the commitment
         * loss (the paper's 0.25); ema: the codes as moving averages of
         * decay D; restart: codes no position chose move onto a z_e */
        static const char *const clauses[] = { "beta", "ema", "restart", NULL };
        gen_layer *l = add_layer(p, kw, LAYER_CODEBOOK);
        if (!l || !want_uint(p, kw, 1, GEN_MAX_DIM, &l->units))
            return false;
        l->beta = 0.25;
        const gen_token *seen[3] = { 0 };
        while (!at_eol(p)) {
            const gen_token *t = next(p);
            int c = word_index(t, clauses);
            if (c < 0)
                return unknown_clause(p, t, "codebook", clauses);
            if (!once(p, t, &seen[c], "codebook"))
                return false;
            if (c == 2) {
                l->restart = true;
                l->restart_loc = t->loc;
            } else if (!(c == 0 ? want_range(p, t, 0, true, 1e6, true, &l->beta)
                                : want_range(p, t, 0, false, 1, false, &l->ema))) {
                return false;
            }
        }
        if (l->restart && l->ema)
            return perr_at(p, l->restart_loc, "'restart' with 'ema' is not built yet: a "
                           "restarted code would need its moving averages restarted too; "
                           "use one of them");
        return true;
    }
    if (tok_is(kw, "edges")) {
        /* edges [threshold T]: the Sobel magnitude of the channels' mean,
         * or 1 where it exceeds T (a VU-Net's shape) */
        gen_layer *l = add_layer(p, kw, LAYER_EDGES);
        if (!l)
            return false;
        if (!at_eol(p) && tok_is(peek(p), "threshold")) {
            const gen_token *t = next(p);
            double v;
            if (!want_range(p, t, 0, false, 1e6, true, &v))
                return false;
            l->threshold = (float)v;
        }
        return no_more(p, "edges", "the threshold");
    }
    if (tok_is(kw, "onehot")) {
        /* onehot L: levels as channels; units = L */
        gen_layer *l = add_layer(p, kw, LAYER_ONEHOT);
        return l && want_uint(p, kw, 2, 4096, &l->units) && no_more(p, "onehot", "the levels");
    }
    if (tok_is(kw, "shift")) {
        /* shift [dropout P]: a decoder's inputs under teacher forcing */
        gen_layer *l = add_layer(p, kw, LAYER_SHIFT);
        if (!l)
            return false;
        if (!at_eol(p) && tok_is(peek(p), "dropout")) {
            const gen_token *t = next(p);
            if (!want_range(p, t, 0, true, 1, false, &l->dropout))
                return false;
        }
        return no_more(p, "shift", "the dropout");
    }
    if (tok_is(kw, "embed")) {
        /* embed E: named embed<k> (no 'name': plan/init.c starts it N(0, 1)
         * by that name, as nn.Embedding) */
        gen_layer *l = add_layer(p, kw, LAYER_EMBED);
        return l && want_uint(p, kw, 1, GEN_MAX_DIM, &l->units) &&
               no_more(p, "embed", "the width");
    }
    if (tok_is(kw, "gru")) {
        /* gru H [last] [name N]: H units up to 1024 (a state and its gradients
         * stay in a workgroup's 16 KiB of shared memory) */
        static const char *const gru_clauses[] = { "last", "name", NULL };
        gen_layer *l = add_layer(p, kw, LAYER_GRU);
        if (!l || !want_uint(p, kw, 1, 1024, &l->units))
            return false;
        const gen_token *seen[2] = { 0 };
        while (!at_eol(p)) {
            const gen_token *t = next(p);
            int c = word_index(t, gru_clauses);
            if (c < 0)
                return unknown_clause(p, t, "gru", gru_clauses);
            if (!once(p, t, &seen[c], "gru"))
                return false;
            if (c == 0)
                l->last = true;
            else if (!read_name(p, t, l))
                return false;
        }
        return true;
    }
    if (tok_is(kw, "reshape")) {
        gen_layer *l = add_layer(p, kw, LAYER_RESHAPE);
        return l && want_dims(p, kw, &l->dims) && no_more(p, "reshape", "the shape");
    }
    if (tok_is(kw, "concat") && !at_eol(p) && tok_is(peek(p), "label")) {
        gen_layer *l = add_layer(p, kw, LAYER_CONCAT_LABEL);
        next(p);
        return l && no_more(p, "concat", "'label'");
    }
    if (tok_is(kw, "concat") || tok_is(kw, "add"))
        return layer_join(p, kw, tok_is(kw, "add"));
    if (tok_is(kw, "gate")) {
        static const char *const gate_clauses[] = { "tap", NULL };
        gen_layer *l = add_layer(p, kw, LAYER_GATE);
        while (l && !at_eol(p)) {
            const gen_token *t = next(p);
            const gen_token *seen = l->tap ? t : NULL;
            if (!tok_is(t, "tap"))
                return unknown_clause(p, t, "gate", gate_clauses);
            if (!once(p, t, &seen, "gate"))
                return false;
            l->tap = true;
        }
        return l != NULL;
    }
    gen_layer *l = add_layer(p, kw, LAYER_ACT);
    return l && read_act(p, kw, l) && no_more(p, gen_act_names[l->act], "the activation");
}

static void parse_line(parser *p)
{
    const gen_token *kw = next(p);
    gen_spec *s = p->s;
    if (kw->kind != TK_IDENT) {
        perr_at(p, kw->loc, "expected a keyword at the start of the line, got " TOKF, TOKA(kw));
        return;
    }
    bool assigns = false; /* NAME [NAME...] = ...: a graph or loss line */
    for (size_t i = p->pos; p->block != BLOCK_NONE && p->tok[i].kind == TK_IDENT; i++)
        if (p->tok[i + 1].len == 1 && p->tok[i + 1].text[0] == '=')
            assigns = true;
    assigns |= peek(p)->len == 1 && peek(p)->text[0] == '=';
    if (p->block != BLOCK_NONE && assigns) {
        if (p->block == BLOCK_GRAPH)
            line_call(p, kw);
        else
            line_term(p, kw);
        return;
    }
    if (is_word(kw, top_words)) {
        p->section = NULL;
        p->block = BLOCK_NONE;
        if (tok_is(kw, "model")) line_model(p, kw);
        else if (tok_is(kw, "noise")) line_noise(p, kw);
        else if (tok_is(kw, "network")) line_network(p, kw);
        else if (tok_is(kw, "graph")) {
            mark_general(p, kw);
            if (want_eol_section(p, kw))
                p->block = BLOCK_GRAPH;
        } else if (tok_is(kw, "loss")) {
            if (!at_eol(p))
                perr_at(p, kw->loc, "'loss' on a line of its own opens the loss terms of "
                        "'network' specs; 'loss l2' or 'loss bce' belongs on the 'objective' "
                        "line");
            else {
                mark_general(p, kw);
                p->block = BLOCK_LOSS;
            }
        } else if (tok_is(kw, "update")) line_update(p, kw);
        else if (tok_is(kw, "input")) line_input(p, kw);
        else if (tok_is(kw, "condition")) line_condition(p, kw);
        else if (tok_is(kw, "latent")) line_latent(p, kw);
        else if (tok_is(kw, "encoder")) line_section(p, kw, &s->enc);
        else if (tok_is(kw, "decoder")) line_section(p, kw, &s->dec);
        else if (tok_is(kw, "objective")) line_objective(p, kw);
        else line_train(p, kw);
        return;
    }
    if (is_word(kw, layer_words)) {
        if (!p->section)
            perr_at(p, kw->loc, "layer " TOKF " outside an 'encoder', 'decoder' or 'network' section",
                    TOKA(kw));
        else
            parse_layer(p, kw);
        return;
    }
    for (size_t i = 0; i < sizeof stray_clauses / sizeof stray_clauses[0]; i++)
        if (tok_is(kw, stray_clauses[i].word)) {
            perr_at(p, kw->loc, TOKF " belongs on the '%s' line", TOKA(kw),
                    stray_clauses[i].line);
            return;
        }
    const char *near_layer = diag_nearest(kw->text, (size_t)kw->len, layer_words);
    const char *near_top = diag_nearest(kw->text, (size_t)kw->len, top_words);
    if (p->section && near_layer)
        perr_at(p, kw->loc, "unknown layer " TOKF "; did you mean '%s'?", TOKA(kw), near_layer);
    else if (near_top || near_layer)
        perr_at(p, kw->loc, "unknown keyword " TOKF "; did you mean '%s'?", TOKA(kw),
                near_top ? near_top : near_layer);
    else if (p->section)
        perr_at(p, kw->loc, "unknown layer " TOKF, TOKA(kw));
    else
        perr_at(p, kw->loc, "unknown keyword " TOKF, TOKA(kw));
}

bool parse_spec(const gen_token *toks, size_t count, gen_spec *s, gen_diag *d)
{
    (void)count;
    *s = (gen_spec){
        .lo = 0, .hi = 1, .lik = LIK_BERNOULLI, .variance = VAR_FIXED, .variance_value = 1,
        .latent_kind = LATENT_GAUSSIAN, .beta = 1, .k = 1, .loss = LOSS_L2,
        .optim = OPTIM_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
        .batch = 128, .epochs = 10, .seed = 1, .init = INIT_PYTORCH,
    };
    parser p = { .tok = toks, .s = s, .d = d };
    int before = d->errors;
    while (peek(&p)->kind != TK_EOF) {
        if (peek(&p)->kind == TK_EOL) {
            p.pos++;
            continue;
        }
        parse_line(&p);
        skip_line(&p);
    }
    static const struct { size_t off; const char *word, *example; } required[] = {
        { offsetof(gen_spec, has_model), "model", "model vae_mlp" },
        { offsetof(gen_spec, has_input), "input", "input 1x28x28" },
        { offsetof(gen_spec, has_latent), "latent", "latent 20 gaussian" },
        { offsetof(gen_spec, enc.seen), "encoder", "encoder" },
        { offsetof(gen_spec, dec.seen), "decoder", "decoder" },
        { offsetof(gen_spec, has_objective), "objective", "objective elbo" },
        { offsetof(gen_spec, has_train), "train", "train adam lr 1e-3" },
    };
    gen_loc at = s->has_model ? s->model_loc : (gen_loc){ toks[0].loc.file, 1, 1, 0 };
    /* a classifier is an encoder and its head: no latent, no decoder; the
     * general form has networks and updates instead of all four */
    bool classify = s->has_objective && s->obj == OBJ_CLASSIFY;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        size_t off = required[i].off;
        bool shorthand = off == offsetof(gen_spec, has_latent) ||
                         off == offsetof(gen_spec, enc.seen) ||
                         off == offsetof(gen_spec, dec.seen) ||
                         off == offsetof(gen_spec, has_objective);
        if (!*(const bool *)((const char *)s + off) && !(s->general && shorthand) &&
            !(classify && (off == offsetof(gen_spec, has_latent) ||
                           off == offsetof(gen_spec, dec.seen))))
            diag_error(d, at, "missing '%s' line, e.g. '%s'", required[i].word,
                       required[i].example);
    }
    if (s->general && s->n_updates == 0)
        diag_error(d, at, "missing 'update' line: a spec with 'network' sections says what each "
                   "trains, e.g. 'update dis minimise d_loss'");
    return d->errors == before;
}
