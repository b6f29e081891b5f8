/* vkvae-gen's internal header: every stage of the spec compiler shares these
 * types. The stages, in the order they run:
 *
 *   lex.c     source text  -> tokens (each with file, line, column)
 *   parse.c   tokens       -> gen_spec (the AST: one field per spec line)
 *   shape.c   gen_spec     -> gen_graph (forward graph, every shape, params)
 *   grad.c    forward graph -> backward ops appended to the graph
 *   plan.c    graph -> plan/plan.h tables (buffers, tensors, programs)
 *   fuse.c    plan steps: two steps' work in one dispatch (dense pairs, loss terms)
 *   (runtime/plan/hazard.c places each program's barriers)
 *   emit_c.c  plan -> one <model>_plan.c, and the built-in model registry
 *   explain.c --explain: the graph and the plan, readable
 * The drivers call them in turn:
 *   main.c    the command line: lex, parse, shapes, compile_plan, emit
 *   compile.c compile_plan: grad, plan, fuse, barriers (fuzz_spec.c calls it too)
 * A stage calls no later stage (plan.c reads earlier ones' graphs and may
 * build a second with infer_shapes) and none calls back into another.
 * Helpers any stage may call:
 *   view.c    plan tensors viewing part of a buffer (plan.c and fuse.c)
 *   diag.c    diagnostics: path:line:col: error: message, source, caret
 *   mem.c     memory: the per-call arena, gen_try, xmalloc and friends
 *
 * The graph's ops are runtime/plan/ops.def's ops (enum vkvae_op) plus
 * generator-only ops numbered after VKVAE_OP_COUNT (views, which lower to
 * no dispatch). A node's vkvae_op_params are filled as ops.def's contract
 * names them, so lowering a forward node to a vkvae_step_desc is a copy.
 * The generator runs inside a library as well as in vkvae-gen, so it keeps
 * no global state and never exits: a driver runs one compile through
 * gen_try (mem.c), every allocation goes into that call's arena and is
 * rarely freed before the arena is, exhaustion returns false from gen_try,
 * and diagnostics go to the caller's FILE (diag.c), errors past
 * GEN_MAX_ERRORS counted but not printed.
 *
 * The generator writes no GLSL: every op, the fused ones fuse.c makes
 * included, has hand-written kernels (shaders/ops/) that
 * runtime/gpu/kernels.c specialises per step with the step's
 * vkvae_op_params as specialization constants, so dimensions are still
 * baked into each pipeline and one SPIR-V per op serves every shape. A
 * plan's kernel table is therefore empty (n_kernels = 0) and a step's
 * `kernel` field unused.
 */
#ifndef VKVAE_GEN_H
#define VKVAE_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/plan.h"

#if defined(__GNUC__)
#define GEN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GEN_PRINTF(f, a)
#endif

/* Limits that keep every size computation inside 64-bit integers and every
 * allocation sane, whatever a (fuzzed) spec says. */
enum {
    GEN_MAX_SOURCE = 1 << 20,      /* bytes of one spec file */
    GEN_MAX_DIM = 1 << 16,         /* any single dimension, channel or unit count */
    GEN_MAX_FEATURES = 1 << 24,    /* values per example in one tensor */
    GEN_MAX_LAYERS = 256,          /* layers per stack */
    GEN_MAX_BATCH = 1 << 16,
    GEN_MAX_SAMPLES = 5000,        /* IWAE k */
    GEN_MAX_ERRORS = 50,           /* diagnostics before giving up */
};

/* ---- memory (mem.c) ----
 * One compile's memory is one arena: gen_try makes it this thread's
 * current arena while fn runs, xmalloc and friends allocate into it, and
 * gen_arena_free releases every block at once. Never pass these pointers
 * to free(); an arena must not move while it holds blocks. */
typedef struct gen_arena {
    union gen_block *first;     /* its blocks, newest first; zero: empty */
} gen_arena;

/* Runs fn(ctx) with a as the thread's current arena (the previous one is
 * restored after, so calls nest) and returns true. Out of memory inside fn
 * longjmps back here instead: every block of a is freed, and false is
 * returned for the caller to report. On true the blocks stay in a until
 * gen_arena_free(a), so a second gen_try on a can go on where one ended. */
bool gen_try(gen_arena *a, void (*fn)(void *ctx), void *ctx);
void gen_arena_free(gen_arena *a);
/* Allocate in the current call's arena; out of memory jumps to its gen_try. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
void xfree(void *p);
char *xstrndup(const char *s, size_t n);
char *xprintf(const char *fmt, ...) GEN_PRINTF(1, 2);
/* Grows *arr (elements of elem bytes, capacity *cap) to hold need elements. */
void *grow_array(void *arr, size_t *cap, size_t need, size_t elem);
#define GROW(arr, cap, need) ((arr) = grow_array((arr), &(cap), (need), sizeof *(arr)))

/* ---- source text and diagnostics (diag.c) ---- */
typedef struct gen_loc {
    const char *file;
    int line, col;      /* 1-based; col counts bytes */
    int len;            /* bytes the caret line underlines; 0 = just a caret */
} gen_loc;

typedef struct gen_source {
    const char *path;   /* as given on the command line: diagnostics print it */
    const char *text;
    size_t size;
    size_t *line_start; /* byte offset of each line; n_lines entries */
    int n_lines;
} gen_source;

typedef struct gen_diag {
    const gen_source *src;
    /* Where diagnostics print: stderr for vkvae-gen; a library caller's
     * own stream (open_memstream) to get them as text. */
    FILE *out;
    int errors;         /* errors found, printed or not */
    /* GEN_MAX_ERRORS were printed and another came: the line "FILE: error:
     * too many errors, stopping" ended the stream, and later errors are
     * only counted. The stages go on and return; the caller prints no count. */
    bool gave_up;
    /* An error that makes every later one noise (a binary file read as a
     * spec): later errors are dropped; it alone is counted. */
    bool silenced;
} gen_diag;

/* path:line:col: error: message, then the source line and a caret; after
 * GEN_MAX_ERRORS, the give-up line once and then nothing. */
void diag_error(gen_diag *d, gen_loc at, const char *fmt, ...) GEN_PRINTF(3, 4);
/* The candidate nearest to word by edit distance, or NULL if none is close. */
const char *diag_nearest(const char *word, size_t len, const char *const *cands);
/* 652824 -> "652,824" into buf (at least 32 bytes). */
const char *diag_thousands(char *buf, uint64_t v);

/* ---- tokens (lex.c) ---- */
typedef enum gen_tok_kind {
    TK_IDENT,   /* [A-Za-z_][A-Za-z0-9_]* */
    TK_NUM,     /* a finite decimal number: 20, 1e-3, -0.5 */
    TK_WORD,    /* any other run of non-blank bytes: 1x28x28, 0..1, 1e-3x */
    TK_EOL,
    TK_EOF,
} gen_tok_kind;

typedef struct gen_token {
    gen_tok_kind kind;
    gen_loc loc;
    const char *text;   /* into the source; not terminated */
    int len;
    double num;         /* TK_NUM only */
} gen_token;

/* Loads path into src; false on I/O failure, reported on d (vkvae-gen's
 * exit status 2). */
bool source_load(gen_source *src, const char *path, gen_diag *d);
/* The same for text the caller holds (a checkpoint's spec, a string from
 * the C API); path names it in diagnostics. The text is copied. */
bool source_text(gen_source *src, const char *path, const char *text, size_t size,
                 gen_diag *d);
/* Tokens of the whole source, lines separated by TK_EOL, ended by TK_EOF. */
gen_token *lex_source(const gen_source *src, gen_diag *d, size_t *count);
bool tok_is(const gen_token *t, const char *word);

/* ---- the spec (parse.c) ---- */
typedef struct gen_dims {
    int rank;           /* 0: a scalar per row; 1: flat features; 3: CxHxW;
                           4: conv weights [out,in,k,k] */
    uint32_t d[4];
} gen_dims;

typedef enum gen_layer_kind {
    LAYER_DENSE,
    LAYER_CONV2D,
    LAYER_CONVT2D,
    LAYER_BATCHNORM,    /* over the channels (CxHxW) or features (flat) */
    LAYER_FLATTEN,
    LAYER_RESHAPE,
    LAYER_CONCAT_LABEL,
    LAYER_ACT,          /* a standalone activation line */
    LAYER_GAUSSIAN,     /* a network's last: mu, logvar heads and z = reparam */
    LAYER_ADD,          /* 'add NAME': plus an earlier layer's output (ref) */
    LAYER_CONCAT,       /* 'concat NAME': an earlier layer's output appended as
                           channels (feature maps) or features (flat) */
    LAYER_GATE,         /* tanh(first half) * sigmoid(second half) */
    LAYER_CODEBOOK,     /* a network's last: each position's nearest of K codes (VQ-VAE) */
    LAYER_ONEHOT,       /* 'onehot L': each value's level (of L) as a channel of its own */
    LAYER_EDGES,        /* 'edges [threshold T]': a Sobel edge map of the image, fixed */
    LAYER_SHIFT,        /* 'shift [dropout P]': tokens moved one step on after <bos>,
                           some words <unk> in training (a decoder's teacher forcing) */
    LAYER_EMBED,        /* 'embed E': each token's row of a learned table */
    LAYER_GRU,          /* 'gru H [last]': a GRU over the steps; its states, or the last */
} gen_layer_kind;

typedef struct gen_layer {
    gen_layer_kind kind;
    gen_loc loc;                /* the layer keyword */
    uint32_t units;             /* dense units, conv output channels */
    uint32_t k, stride, pad, out_pad;
    gen_dims dims;              /* reshape target */
    vkvae_act act;              /* suffix or standalone activation */
    float slope;                /* leaky_relu */
    float threshold;            /* edges: 1 where the magnitude exceeds it; 0: none */
    gen_loc act_loc;
    char *name;                 /* 'name' clause, or NULL: generated */
    gen_loc name_loc;
    bool residual;              /* 'residual': the input added to the output */
    gen_loc residual_loc;
    char *ref;                  /* add, concat: the layer read ('input': the call's) */
    gen_loc ref_loc;
    char mask;                  /* conv2d 'mask A|B' (PixelCNN), or 0 */
    gen_loc mask_loc;
    double momentum, eps;       /* batchnorm */
    double beta;                /* codebook: the commitment loss's weight */
    double ema;                 /* codebook: the codes' EMA decay, or 0 (a gradient) */
    bool restart;               /* codebook: unchosen codes restart from z_e each step */
    gen_loc restart_loc;
    bool tap;                   /* 'tap': the output is also one of the call's */
    bool nobias;                /* 'nobias': no bias (PyTorch's bias=False), as before a
                                   batchnorm, which takes the mean out */
    double dropout;             /* shift: word dropout's probability */
    bool last;                  /* gru: its last state alone */
} gen_layer;

typedef struct gen_stack {
    bool seen;
    gen_loc loc;
    gen_layer *layers;
    size_t n, cap;
} gen_stack;

typedef enum gen_likelihood { LIK_BERNOULLI, LIK_GAUSSIAN } gen_likelihood;
typedef enum gen_variance { VAR_FIXED, VAR_LEARNED, VAR_PREDICTED } gen_variance;
typedef enum gen_latent_kind { LATENT_GAUSSIAN, LATENT_DETERMINISTIC } gen_latent_kind;
typedef enum gen_objective { OBJ_ELBO, OBJ_IWAE, OBJ_AE, OBJ_DAE, OBJ_CLASSIFY } gen_objective;
typedef enum gen_loss { LOSS_L2, LOSS_BCE } gen_loss;
typedef enum gen_corrupt { CORRUPT_NONE, CORRUPT_MASK, CORRUPT_GAUSSIAN } gen_corrupt;
typedef enum gen_optim { OPTIM_ADAM, OPTIM_ADAMW, OPTIM_SGD } gen_optim;
/* (INIT_ZERO, INIT_ONE and INIT_NORMAL are a tensor's own, for --explain: a
 * normalisation's scale and shift, an embedding's N(0, 1) table) */
typedef enum gen_init {
    INIT_PYTORCH, INIT_XAVIER_UNIFORM, INIT_KAIMING_NORMAL, INIT_ZERO, INIT_ONE, INIT_NORMAL
} gen_init;

/* ---- the general form (docs/spec.md "Several networks") ----
 * Networks called on named tensors, loss terms over what the calls give,
 * and per update line the networks it trains and the terms they minimise. */
typedef struct gen_network {
    char *name;
    gen_stack st;
} gen_network;

typedef struct gen_name {
    char *s;
    gen_loc loc;
} gen_name;

/* OUT = NET IN: network NET applied to tensor IN (x, noise, or an earlier
 * call's output); every call of NET shares its parameters. */
typedef struct gen_net_call {
    gen_loc loc, net_loc, in_loc, in2_loc;
    char *out, *net, *in;
    char *in2;                  /* a second input (the network's layers read it as
                                   'input2'), or NULL */
    gen_name *taps;             /* the names of the tapped layers' outputs */
    size_t n_taps, cap_taps;
} gen_net_call;

typedef enum gen_term_kind {
    TERM_BCE_REAL, TERM_BCE_FAKE, TERM_KL, TERM_VQ, TERM_ENTROPY, TERM_GAUSS, TERM_BERNOULLI,
    TERM_CATEGORICAL, TERM_L2, TERM_CE
} gen_term_kind;

/* One summand of a loss term: bce T real|fake (binary cross-entropy of
 * logits T against a constant target), kl Z (a gaussian layer's KL from
 * N(0, I)), vq Z (a codebook layer's codebook and commitment losses),
 * gauss MEAN TARGET (-log N(TARGET | MEAN, I)), bernoulli and categorical
 * LOGITS TARGET, l2 Y TARGET (the sum of squared errors), entropy Q (minus
 * the entropy of softmax(Q) on rows without a label), ce Q y (softmax
 * cross-entropy on rows with one). Parts from TERM_GAUSS on read a second
 * tensor. */
typedef struct gen_term_part {
    gen_term_kind kind;
    gen_loc loc, arg_loc, arg2_loc, free_loc;
    char *arg, *arg2;
    double free_bits; /* kl Z free F: nats a latent dimension left free (0: none) */
} gen_term_part;

/* NAME = PART + PART ...: a per-row loss, reported as its own column. */
typedef struct gen_term {
    gen_loc loc;
    char *name;
    gen_term_part *parts;
    size_t n, cap;
} gen_term;

/* update NET... minimise TERM + ...: one optimizer step of those networks'
 * parameters on the sum of the terms, after the updates above it. */
typedef struct gen_update {
    gen_loc loc;
    gen_name *nets, *terms;
    double *weights;            /* per term, 1 unless written before it */
    size_t n_nets, cap_nets, n_terms, cap_terms, cap_weights;
} gen_update;

extern const char *const gen_act_names[VKVAE_ACT_COUNT];
extern const char *const gen_objective_names[];
extern const char *const gen_optim_names[];
extern const char *const gen_init_names[];

/* One field group per spec line; each has_X flag says the line was seen and
 * X_loc where (for duplicates and for errors found by later passes). */
typedef struct gen_spec {
    bool has_model;
    gen_loc model_loc;
    char *model;

    bool has_input;
    gen_loc input_loc, range_loc, binarize_loc, likelihood_loc, variance_loc;
    gen_dims input;
    bool range_given;
    double lo, hi;              /* data bytes map to lo + (hi-lo)*b/255 */
    bool binarize;              /* dynamic binarization (Bernoulli draws) */
    uint32_t levels;            /* 'levels L': bytes are levels 0..L-1 (a VQ-VAE's
                                   codes), read as k/(L-1); 0: grey bytes */
    gen_loc levels_loc;
    uint32_t vocab;             /* 'vocab V': x is a sequence of tokens (text) of a
                                   vocabulary of V, read as levels; 0: not text */
    gen_loc vocab_loc;
    bool likelihood_given;
    gen_likelihood lik;
    gen_variance variance;
    double variance_value;      /* VAR_FIXED: sigma^2 */

    bool has_condition;
    gen_loc condition_loc;
    uint32_t classes;
    char *unlabelled;           /* 'unlabelled Q': rows without a label sum over
                                   the classes, weighted by softmax(Q); or NULL */
    gen_loc unlabelled_loc;

    bool has_latent;
    gen_loc latent_loc;
    uint32_t latent;
    gen_latent_kind latent_kind;

    gen_stack enc, dec;

    bool has_objective;
    gen_loc objective_loc, loss_loc, corrupt_loc;
    gen_objective obj;
    double beta;                /* elbo: KL weight */
    uint32_t warmup;            /* elbo: epochs of linear KL warm-up, 0 = none */
    uint32_t k;                 /* iwae: importance samples */
    bool loss_given;
    gen_loss loss;              /* ae, dae */
    gen_corrupt corrupt;        /* dae */
    double corrupt_value;       /* mask: p; gaussian: sigma */

    bool has_train;
    gen_loc train_loc;
    gen_optim optim;
    double lr, beta1, beta2, eps, weight_decay, momentum;
    uint32_t batch, epochs, seed;
    gen_init init;
    /* 'anneal logistic K X0': the KL weight at optimizer step s is
     * 1/(1+exp(-K*(s-X0))) (Bowman et al.); 'anneal linear E' is warmup E */
    double anneal_k, anneal_x0;
    gen_loc anneal_loc;

    /* The general form: any 'network' line makes one, and the shorthand's
     * latent/encoder/decoder/objective lines are then refused. */
    bool general;
    gen_loc general_loc;        /* the first 'network' line */
    bool has_noise;
    gen_loc noise_loc;
    uint32_t noise;             /* 'noise N': z ~ N(0, I), N values a row */
    gen_network *nets;
    size_t n_nets, cap_nets;
    gen_net_call *calls;
    size_t n_calls, cap_calls;
    gen_term *terms;
    size_t n_terms, cap_terms;
    gen_update *updates;
    size_t n_updates, cap_updates;

    /* Not from the text: a second graph plan.c builds from this spec with
     * another objective, k or batch (encode/decode/sample of an IWAE model,
     * the IWAE estimate) runs forward only, so the checks of what training
     * cannot do yet are the first graph's alone. */
    bool forward_only;
    /* the general form's IWAE estimate graph (gen/plan.c): the forward at
     * the estimate's rows, with the log weight of each row's own draw */
    bool estimate;
} gen_spec;

/* Parses tokens into spec; reports every syntax error; returns errors == 0. */
bool parse_spec(const gen_token *toks, size_t count, gen_spec *spec, gen_diag *d);

/* ---- the graph IR (shape.c builds it; grad.c, plan.c, emitters read it) ---- */
typedef enum gen_extra_op {
    GEN_OP_VIEW = VKVAE_OP_COUNT, /* flatten/reshape: output aliases input, no dispatch */
    GEN_OP_COUNT
} gen_extra_op;

extern const char *const gen_op_names[GEN_OP_COUNT];

typedef enum gen_role {
    ROLE_DATA,      /* the data set on the device (rows = N) */
    ROLE_CONST,     /* zeros no step writes (kl_zero; a fixed variance's unread lv) */
    ROLE_PARAM,     /* trainable: gets a gradient and optimizer state */
    ROLE_ACT,       /* activations: per batch */
    ROLE_LOSS,      /* per-row loss terms and the accumulator */
    ROLE_GRAD,      /* a parameter's gradient (grad.c) */
    ROLE_STATE,     /* kept across steps, not trained: batch norm's running averages */
} gen_role;

typedef struct gen_tensor {
    char *name;         /* parameters: PyTorch state_dict names (fc1.weight) */
    gen_role role;
    const char *dtype;  /* "f32", "u8", "u32" */
    uint32_t rows;      /* 0: unbatched; 1: n rows; k: n*k rows (IWAE) */
    uint32_t steps;     /* a sequence's steps T, a row per step (rows counts them:
                           [n, T, dims] is n*T rows), or 0 */
    gen_dims dims;      /* per row; rank 0 = a scalar per row */
    int producer;       /* node index, -1 for leaves */
    int alias;          /* tensor this one views (GEN_OP_VIEW), or -1 */
    bool needs_grad;    /* some parameter depends on... is upstream of it */
    gen_init init;      /* parameters */
    uint32_t fan_in;    /* parameters: the fan-in PyTorch's init uses */
    int grad;           /* its gradient tensor once grad.c ran, or -1 */
} gen_tensor;

enum { GEN_MAX_IO = 6 };

typedef struct gen_node {
    int op;             /* vkvae_op or gen_extra_op */
    char *name;         /* the layer's name (fc1, conv2, ...) or the op's role */
    gen_loc loc;        /* spec line it came from */
    int nin, nout;
    int in[GEN_MAX_IO], out[GEN_MAX_IO];
    vkvae_op_params p;  /* ops.def's fields; p.n is the node's row count */
    uint64_t flops_fwd, flops_bwd;
} gen_node;

/* One update line of the general form, as grad.c and plan.c need it. */
typedef struct gen_graph_update {
    bool *take;                 /* forward nodes its terms need */
    bool *trains;               /* per forward tensor (the first nt_fwd): a
                                   parameter this update trains */
    size_t bwd_begin, bwd_end;  /* its backward nodes */
    double *weight;             /* per forward node: its term's weight in this update */
} gen_graph_update;

typedef struct gen_graph {
    const gen_spec *spec;
    gen_tensor *t;
    size_t nt, cap_t;
    gen_node *n;
    size_t nn, cap_n;
    uint32_t batch;
    int x, label, loss;         /* the clean input, one-hot label, accumulator */
    int enc_in;                 /* what the encoder reads: x, or the corrupted x */
    int mu, logvar, z;          /* head outputs and the decoder's input (an AE:
                                   mu = z = the code, logvar = -1) */
    int dec_out, recon, kl;     /* decoder output, per-row loss terms (kl: zeros
                                   for an AE and IWAE) */
    int logw;                   /* IWAE: the log weights [n*k], else -1 */
    size_t n_fwd;               /* forward nodes; grad.c appends backward ones */
    /* the general form: its updates in order, and what sample/decode read
     * and write (the noise and the first call on it) */
    gen_graph_update *upd;
    size_t n_upd, nt_fwd;      /* nt_fwd: tensors when the updates were made */
    int noise, sample_out;
    int prior_z;                /* a prior learned from a condition (no noise): the
                                   draw of a gaussian call on cond alone that
                                   sample_out decodes; else -1 */
    int cond;                   /* what decode and sample read besides the code:
                                   the label, or x (an image-derived condition,
                                   a VU-Net's shape); else -1 */
    bool sample_logits;         /* sample_out holds logits (a bernoulli part reads a
                                   call of its network) */
    int code_z;                 /* the draw of the encoder's gaussian call on x and
                                   cond (semi-supervised: its twin on the label as
                                   given; with a learned prior: the q of 'kl q
                                   prior'), which decode reads in its place;
                                   encode gives its mu and log-variance; else -1 */
    int ar_logits;              /* a pixel model's logits (bernoulli or categorical
                                   L x, L causal, no noise): sampled pixel by pixel;
                                   else -1 */
    uint32_t ar_classes;        /* its categorical's classes (channels of L), or 0 */
    int vq_ze, vq_out;          /* a VQ-VAE (a codebook call on x, decoded to the
                                   input's shape): the codebook's input z_e, which
                                   encode writes and decode reads, and the decoder's
                                   output; else -1 */
    bool vq_logits;             /* vq_out holds logits (a bernoulli part reads it) */
    uint64_t n_params;
    uint64_t flops_fwd, flops_bwd, flops_optim;
} gen_graph;

/* Checks combinations and shapes, builds the forward graph; returns errors == 0. */
bool infer_shapes(const gen_spec *spec, gen_graph *g, gen_diag *d);
/* --explain: the graph, parameters and FLOPs, deterministic. */
void explain_graph(const gen_graph *g, FILE *out);
void dims_format(char *buf, size_t size, const gen_dims *dims);
/* Marks in take[] the forward nodes that produce outs (roots, -1 ended)
 * from ins (roots whose producers are left out). */
void graph_select(const gen_graph *g, const int *outs, const int *ins, bool *take);
/* The tensor t views (through flatten/reshape), or t. */
int tensor_root(const gen_graph *g, int t);
uint64_t dims_count(const gen_dims *dims);

/* ---- backward (grad.c) ---- */
/* Appends the backward nodes (ops.def's *_bwd ops) for every parameter's
 * gradient; sets each needed tensor's grad. On a graph it cannot
 * differentiate yet returns false with *why a plain sentence. */
bool build_backward(gen_graph *g, char **why);
/* The general form's: for each update in turn, the backward of its terms'
 * sum over the forward nodes it takes, reaching the parameters it trains
 * (a parameter read by several calls summing their partials). */
bool build_update_backward(gen_graph *g, char **why);

/* ---- the plan (plan.c) ---- */
typedef struct gen_program {
    vkvae_program_kind kind;
    const char *name;
    vkvae_step_desc *steps;
    size_t n, cap;
} gen_program;

typedef struct gen_plan {
    gen_graph *g;
    const char *model;
    uint32_t batch, data_rows;
    vkvae_buffer_desc *buf;
    size_t nb, cap_b;
    vkvae_tensor_desc *t;
    size_t nt, cap_t;
    gen_program prog[VKVAE_PROGRAM_COUNT];
    int n_prog;
    uint64_t n_params, step_flops;
} gen_plan;

enum { GEN_DEFAULT_DATA_ROWS = 60000 };

/* The front half: src's tokens parsed into *spec (batch, when not 0,
 * replacing the spec's `train ... batch`) and its forward graph with every
 * shape into *g; false after errors, their count line printed to d->out
 * unless the diagnostics gave up. Sets d->src. */
bool check_spec(const gen_source *src, gen_diag *d, uint32_t batch, gen_spec *spec,
                gen_graph *g);
/* The stages after shapes, in order (compile.c): gradients, lowering,
 * fusion, barriers. Every spec check_spec accepts lowers (what has no
 * lowering yet is refused there, with its line); false with *why a plain
 * sentence only on an internal failure. */
bool compile_plan(gen_graph *g, uint32_t data_rows, gen_plan *pl, char **why);
/* Lowers a graph build_backward differentiated to plan tables: buffers,
 * tensors, and each program's steps, one per node, not fused and with no
 * barriers yet; false with *why only on an internal failure. */
bool lower_plan(gen_graph *g, uint32_t data_rows, gen_plan *pl, char **why);
/* view.c: a tensor viewing elems floats of buffer b from offset; and the
 * view of plan tensor a then b when b lies right after a (an existing
 * tensor of that range, or a new one named name), else -1. */
int plan_add_view(gen_plan *pl, uint32_t b, const char *name, uint64_t offset, uint64_t elems);
int stacked_view(gen_plan *pl, int a, int b, const char *name);
/* fuse.c: the passes over program pr that do two steps' work in one
 * dispatch: two dense products of one input (ops.def's dense_pair ops), and
 * a loss term with the pass over its inputs another step makes (reparam_kl,
 * reparam_kl_bwd, nll_bernoulli_grad). */
void pair_products(gen_plan *pl, gen_program *pr);
void fuse_loss_terms(gen_plan *pl, gen_program *pr);
/* --explain's second half (explain.c): buffers, programs step by step,
 * FLOPs and bytes. */
void explain_plan(const gen_plan *pl, FILE *out);

/* ---- C emission (emit_c.c) ---- */
/* Writes the plan as C defining `const vkvae_plan <symbol>` to path, only if
 * the content changed (temp file + rename). Returns 0, or 2 on I/O error. */
int emit_c(const gen_plan *pl, const char *symbol, const char *spec_name,
           const char *spec_text, size_t spec_size, const char *path);
/* The registry: vkvae_builtin_models[] over vkvae_model_<name> for names. */
int emit_registry(const char *path, char *const *names, int n);

#endif
