/* The plan: what the generator (gen/) emits for one model and the runtime
 * executes, as plain tables. A plan holds buffers (memory with a role),
 * tensors (typed views into buffers), kernels (SPIR-V with its workgroup
 * size) and programs (train step, eval step, encode, decode, sample, IWAE
 * estimate), each
 * an ordered list of steps. A step is one op of ops.def applied to tensors;
 * the GPU recorder dispatches the step's kernel, the CPU backend calls its
 * own implementation of the op. Nothing here depends on Vulkan, so the
 * generator and the CPU path include it freely.
 */
#ifndef VKVAE_PLAN_H
#define VKVAE_PLAN_H

#include <stdint.h>

typedef enum vkvae_op {
#define OP(e, ...) VKVAE_OP_##e,
#include "plan/ops.def"
#undef OP
    VKVAE_OP_COUNT
} vkvae_op;

/* The classes of ops, ops.def's FLAGS column (what each means is said
 * there); vkvae_op_flags (plan/op_info.h) reads them. */
typedef enum vkvae_op_flag {
    VKVAE_OPF_ACCUM = 1u << 0,
    VKVAE_OPF_IN_PLACE = 1u << 1,
    VKVAE_OPF_OPTIMIZER = 1u << 2,
    VKVAE_OPF_PRODUCT = 1u << 3,
    VKVAE_OPF_CONV = 1u << 4,
    VKVAE_OPF_PAIR = 1u << 5,
    VKVAE_OPF_BWD_X = 1u << 6,
    VKVAE_OPF_ACT = 1u << 7,
    VKVAE_OPF_DERIV = 1u << 8,
    VKVAE_OPF_ROW_SUM = 1u << 9,
    VKVAE_OPF_ROW_VEC = 1u << 10,
    VKVAE_OPF_RANDOM = 1u << 11,
    VKVAE_OPF_DATA = 1u << 12,
} vkvae_op_flag;

/* Kernel shapes that ops.def's invocation counts name: elements per
 * invocation of the optimizers on CPU drivers (4 OPT_QUADS,
 * shaders/common.glsl; GPUs take 4, one vec4: runtime/gpu/kernels.c) and
 * adjacent pixels per invocation of convt2d's plain kernel (CONVT_PX,
 * shaders/ops/convt2d.comp, constant_id 32). */
enum { VKVAE_OPT_PARAMS = 16, VKVAE_CONVT_PIXELS = 8 };

typedef enum vkvae_act {
    VKVAE_ACT_NONE,
    VKVAE_ACT_RELU,
    VKVAE_ACT_LEAKY_RELU, /* slope alpha for x < 0 */
    VKVAE_ACT_TANH,
    VKVAE_ACT_SIGMOID,
    VKVAE_ACT_SOFTPLUS,
    VKVAE_ACT_COUNT
} vkvae_act;

/* Philox streams: which random draw an op makes (philox.h). */
typedef enum vkvae_stream {
    VKVAE_STREAM_SHUFFLE = 1,
    VKVAE_STREAM_EPS,
    VKVAE_STREAM_CORRUPT,
    VKVAE_STREAM_BINARIZE,
    VKVAE_STREAM_PRIOR,
    VKVAE_STREAM_LIKELIHOOD,
    VKVAE_STREAM_INIT,
    VKVAE_STREAM_RESTART,   /* a dead code's new place (vq_restart) */
    VKVAE_STREAM_WORD_DROPOUT, /* a decoder's inputs replaced by <unk> (shift_tokens) */
} vkvae_stream;

/* How the layers' parameters start (the spec's `train ... init`; values
 * drawn by plan/init.c on the host, so every backend starts alike). */
typedef enum vkvae_init_kind {
    VKVAE_INIT_PYTORCH,        /* weight and bias U(-b, b), b = 1/sqrt(fan_in) */
    VKVAE_INIT_XAVIER_UNIFORM, /* weight U(-b, b), b = sqrt(6/(fan_in+fan_out)); bias 0 */
    VKVAE_INIT_KAIMING_NORMAL, /* weight N(0, 2/fan_in); bias 0 */
    VKVAE_INIT_COUNT
} vkvae_init_kind;

/* Static parameters of one step; zero where an op does not use a field.
 * Dimensions are baked into the step's kernel as constants. */
typedef struct vkvae_op_params {
    uint32_t n;                     /* rows of the batch */
    uint32_t in, out;               /* features in and out, or element count */
    uint32_t in2;                   /* second input's features (concat) */
    uint32_t classes;               /* label classes (gather_onehot) */
    uint32_t c_in, h_in, w_in;      /* conv input */
    uint32_t c_out, h_out, w_out;   /* conv output */
    uint32_t k, stride, pad, out_pad; /* square kernel, stride, padding */
    uint32_t act;                   /* vkvae_act fused into the output */
    uint32_t samples;               /* importance samples per row (>= 1) */
    uint32_t stream;                /* vkvae_stream of the op's draws */
    uint32_t mode;                  /* op-specific variant (see ops.def) */
    float alpha;                    /* leaky slope, corruption p or sigma */
    float lr, beta1, beta2, eps, weight_decay, momentum; /* optimizer */
} vkvae_op_params;

/* Values that change from step to step at run time (push constants). */
typedef struct vkvae_push {
    uint32_t seed;       /* training seed: Philox key */
    uint32_t step;       /* global optimizer step: Philox counter, Adam t-1 */
    uint32_t base;       /* first row of this batch in the permutation */
    uint32_t rows;       /* rows valid in this batch (last batch may be short) */
    float kl_weight;     /* beta times the warm-up factor */
    float grad_scale;    /* 1 for summed losses, 1/rows for means */
    uint32_t row0;       /* the batch's first row in the global batch, when several
                          * processes share it: random draws count from there */
    float temperature;   /* sampling a sequence's tokens (sample_pixel mode 2):
                          * softmax(logits / temperature); 0 takes the most likely */
} vkvae_push;

typedef enum vkvae_buffer_role {
    VKVAE_ROLE_PARAM,
    VKVAE_ROLE_GRAD,
    VKVAE_ROLE_OPTIM,       /* optimizer state (Adam moments, momentum) */
    VKVAE_ROLE_ACTIVATION,
    VKVAE_ROLE_DATA,        /* training set bytes, permutation, labels */
    VKVAE_ROLE_IO,          /* program inputs and outputs (latents, images) */
    VKVAE_ROLE_ACCUM,       /* loss accumulators */
    VKVAE_ROLE_STATE,       /* kept with the parameters, not trained: batch norm's
                               running averages (checkpointed) */
} vkvae_buffer_role;

typedef struct vkvae_buffer_desc {
    const char *name;
    vkvae_buffer_role role;
    uint64_t bytes;
} vkvae_buffer_desc;

/* A tensor is a view of a buffer; offsets are multiples of 256 bytes, the
 * largest minStorageBufferOffsetAlignment Vulkan allows. */
typedef struct vkvae_tensor_desc {
    const char *name;        /* e.g. "fc1.weight": the checkpoint name */
    uint32_t buffer;
    uint64_t offset;         /* bytes */
    uint64_t elems;
    uint32_t rank;
    uint32_t shape[4];
} vkvae_tensor_desc;

typedef struct vkvae_kernel_desc {
    const char *name;        /* op, role and shapes: dense_fwd_f32_128x784x400 */
    const uint32_t *spirv;
    uint32_t spirv_words;
    uint32_t local_size[3];
} vkvae_kernel_desc;

enum { VKVAE_MAX_BINDINGS = 8 };

typedef struct vkvae_step_desc {
    vkvae_op op;
    uint32_t kernel;                  /* index into the plan's kernels */
    uint32_t n_tensors;
    uint32_t tensors[VKVAE_MAX_BINDINGS]; /* ops.def binding order */
    vkvae_op_params p;
    uint32_t groups[3];               /* workgroups to dispatch */
    uint32_t barrier;                 /* 1: a compute->compute barrier precedes it */
} vkvae_step_desc;

typedef enum vkvae_program_kind {
    VKVAE_PROGRAM_TRAIN,
    VKVAE_PROGRAM_EVAL,
    VKVAE_PROGRAM_ENCODE,
    VKVAE_PROGRAM_DECODE,
    VKVAE_PROGRAM_SAMPLE,
    VKVAE_PROGRAM_IWAE,     /* a chunk of the IWAE estimate's log weights (VAEs) */
    VKVAE_PROGRAM_COUNT
} vkvae_program_kind;

typedef struct vkvae_program_desc {
    vkvae_program_kind kind;
    const char *name;
    uint32_t n_steps;
    const vkvae_step_desc *steps;
} vkvae_program_desc;

typedef struct vkvae_plan {
    const char *model;          /* the spec's model name */
    const char *spec_text;      /* the spec it was generated from */
    uint32_t batch;             /* rows per training batch */
    uint32_t n_buffers, n_tensors, n_kernels, n_programs;
    const vkvae_buffer_desc *buffers;
    const vkvae_tensor_desc *tensors;
    const vkvae_kernel_desc *kernels;
    const vkvae_program_desc *programs;
    /* The spec's training settings (flags may override them). */
    uint32_t epochs, seed;
    uint32_t init;              /* vkvae_init_kind of the layers (0: PyTorch's default) */
    float kl_beta;              /* weight of the KL term (elbo beta; 0: no KL) */
    uint32_t kl_warmup_epochs;  /* linear warm-up of the KL weight; 0: none */
    float kl_anneal_k, kl_anneal_x0; /* k > 0: the KL weight at optimizer step s is
                                   kl_beta/(1+exp(-k*(s-x0))) (logistic annealing) */
    uint32_t classes;           /* label classes of a conditional model; 0: none */
    uint32_t input_c, input_h, input_w; /* the input's shape (flat inputs: c = h = 1) */
    uint32_t sample_passes;     /* a pixel model's (PixelCNN): the sample program runs
                                   this many times a batch, push.base = 0, 1, ...
                                   (one pass a pixel, and one more); 0: once */
    uint32_t input_levels;      /* the spec's 'levels L': data bytes are levels 0..L-1
                                   (a VQ-VAE's codes), read as k/(L-1); 0: grey bytes */
    uint32_t input_vocab;       /* the spec's 'vocab V': x is a line of text, input_w
                                   tokens of V (io/text.h's ids; input_levels = V too);
                                   0: not text */
    uint64_t n_params;          /* trainable scalars */
    uint64_t step_flops;        /* FLOPs of one training step */
} vkvae_plan;

#endif
