/* The fast float ops (fast_ops.h). Each op is a "part" function that the
 * pool runs once per thread on that thread's share of the op's rows (or
 * columns, or elements), so that the threads never write the same memory:
 *
 *   dense        y[n,out] = act(x w^T + b): sgemm(N, T) on a block of rows
 *                (or of columns when out > n), then one pass over that block
 *                adding b and applying act while it is still in cache
 *   dense_bwd_x  dx[n,in] = dy w: sgemm(N, N) on a block of rows or columns
 *   dense_bwd_w  dw[out,in] = dy^T x: sgemm(T, N) on a block of dw's rows or
 *                columns; db = column sums of dy on a block of out
 *   dense_pair*  the same on each layer's rows of the stacked weights (the
 *                input gradient: a second sgemm adding into the first)
 *   conv2d, convt2d and their backward ops: im2col / col2im and one sgemm
 *                per chunk of images (fast_conv.c); the forward and input-
 *                gradient ops on a block of images, the weight gradients on
 *                a share of dw's columns, each part in its own scratch
 *   gru, gru_bwd  a block of sequences steps through time (backward: in
 *                reverse) with one sgemm a step for the block's recurrent
 *                product (hp[t] W^T, or the carry dgh[t] W), strided
 *                T rows apart, then the gates; the scratch holds a step's
 *                products
 *   act_bwd, nll_bernoulli(_bwd), sigmoid, gather, prior, reparam, adam:
 *                vectorized loops over a block of rows or elements
 *
 * Small ops run on the calling thread alone: waking the pool costs a few
 * microseconds. The hot loops are compiled for AVX2+FMA as well as for the
 * baseline (FAST_VEC, GCC's target_clones, chosen at load time), so one
 * binary runs on any x86-64 and uses the wide units where they exist. The
 * loops avoid libm (fast_math.h) and keep reductions in 16 explicit lanes,
 * the two things that otherwise stop the compiler from vectorizing them.
 * Random draws are Philox's at the same indices as the plain ops', so the
 * fast path draws the same numbers (philox.h).
 */
#include "fast_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_ops.h"
#include "fast_conv.h"
#include "fast_math.h"
#include "plan/philox.h"
#include "pool.h"

#if VKVAE_HAVE_OPENBLAS
#include <cblas.h>
#endif

enum {
    LANES = 16,             /* partial sums of a vectorized reduction */
    ROW_ALIGN = 16,         /* row blocks of a product: OpenBLAS's tile height */
};

struct vkvae_fast {
    vkvae_pool *pool;
    uint32_t parts;         /* the pool's threads */
    float **scratch;        /* [parts]: each part's own (the convolutions) */
    uint64_t scratch_floats; /* of every part's scratch */
};

typedef struct job job;
struct job {
    const vkvae_op_params *p;
    const vkvae_push *push;
    void *const *t;
    void (*rows)(const job *j, uint64_t lo, uint64_t hi); /* row_part's op */
    vkvae_op op;
    vkvae_fast *fast;
    uint32_t part;          /* of a row op: the part running it (its scratch) */
};

/* ---- elementwise kernels (vectorized) ---- */

/* y[rows, cols] (row stride ldy) = act(y + b) */
static void bias_act(float *y, const float *b, uint64_t rows, uint32_t cols, uint32_t ldy,
                     uint32_t act, float alpha)
{
    for (uint64_t r = 0; r < rows; r++)
        fm_act_bias(y + r * ldy, y + r * ldy, b, 0.0f, cols, act, alpha);
}

/* dx = dy * act'(y), from the output y; dx may be dy (each element reads
 * only its own) */
FAST_VEC static void act_grad(float *dx, const float *dy, const float *restrict y, uint64_t count,
                              uint32_t act, float alpha)
{
    switch (act) {
    case VKVAE_ACT_RELU:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = y[i] > 0 ? dy[i] : 0.0f;
        break;
    case VKVAE_ACT_LEAKY_RELU:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = y[i] > 0 ? dy[i] : dy[i] * alpha;
        break;
    case VKVAE_ACT_TANH:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case VKVAE_ACT_SIGMOID:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
        break;
    case VKVAE_ACT_SOFTPLUS:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = dy[i] * (1.0f - fm_expf(-y[i]));
        break;
    default:
        for (uint64_t i = 0; i < count; i++)
            dx[i] = dy[i];
        break;
    }
}

/* sum_j max(l,0) - l x + log1p(exp(-|l|)) over one row: the terms in
 * chunks of CHUNK (a plain loop, vectorized like the others), each chunk
 * summed in LANES partial sums. */
enum { CHUNK = 256 };
FAST_VEC static float nll_bernoulli_row(const float *restrict l, const float *restrict x,
                                        uint32_t in)
{
    float term[CHUNK], lane[LANES] = {0}, acc = 0;
    for (uint32_t c = 0; c < in; c += CHUNK) {
        uint32_t len = in - c < CHUNK ? in - c : CHUNK;
        for (uint32_t j = 0; j < len; j++) {
            float v = l[c + j], a = v < 0 ? -v : v;
            term[j] = (v > 0 ? v : 0.0f) - v * x[c + j] + fm_log1pf(fm_expf(-a));
        }
        uint32_t j = 0;
        for (; j + LANES <= len; j += LANES)
            for (uint32_t k = 0; k < LANES; k++)
                lane[k] += term[j + k];
        for (; j < len; j++)
            acc += term[j];
    }
    for (uint32_t k = 0; k < LANES; k++)
        acc += lane[k];
    return acc;
}

/* dl = g (sigmoid(l) - x) */
FAST_VEC static void nll_bernoulli_dl(float *restrict dl, const float *restrict l,
                                      const float *restrict x, uint64_t count, float g)
{
    for (uint64_t i = 0; i < count; i++)
        dl[i] = g * (fm_sigmoidf(l[i]) - x[i]);
}

FAST_VEC static void sigmoid_elems(float *restrict y, const float *restrict l, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++)
        y[i] = fm_sigmoidf(l[i]);
}

FAST_VEC static void bytes_to_unit(float *restrict x, const uint8_t *restrict row, uint32_t in)
{
    for (uint32_t j = 0; j < in; j++)
        x[j] = (float)row[j] / 255.0f;
}

/* db[o] = sum over rows of dy[r, o], for o in [0, cols) of a block */
FAST_VEC static void column_sums(float *restrict db, const float *restrict dy, uint32_t rows,
                                 uint32_t cols, uint32_t ldy)
{
    for (uint32_t o = 0; o < cols; o++)
        db[o] = 0;
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t o = 0; o < cols; o++)
            db[o] += dy[(uint64_t)r * ldy + o];
}

typedef struct adam_consts {
    float b1, b2, lr, eps, wd, step_size, bc2_sqrt;
    int decoupled;
} adam_consts;

/* PyTorch's _single_tensor_adam, in the plain op's order of operations. */
FAST_VEC static void adam_elems(float *restrict w, const float *restrict g, float *restrict m,
                                float *restrict v, uint64_t count, adam_consts c)
{
    float wscale = c.decoupled ? 1.0f - c.lr * c.wd : 1.0f;
    float l2 = c.decoupled ? 0.0f : c.wd;
    for (uint64_t i = 0; i < count; i++) {
        float wi = w[i] * wscale;
        float grad = g[i] + l2 * wi;
        float mi = m[i] + (1.0f - c.b1) * (grad - m[i]);
        float vi = v[i] * c.b2 + (1.0f - c.b2) * grad * grad;
        float denom = sqrtf(vi) / c.bc2_sqrt + c.eps;
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - c.step_size * mi / denom;
    }
}

/* ---- the ops ----
 * A row op is row-local: output row r depends on input row r (and on
 * tensors read whole, such as weights), so it runs as X_rows over any
 * block [lo, hi) of its n rows; a split op (dense_bwd_w, adam) has its own
 * partition, X_part. */

static uint32_t valid_rows(const vkvae_op_params *p, const vkvae_push *push)
{
    uint64_t rows = (uint64_t)push->rows * (p->samples ? p->samples : 1);
    return rows < p->n ? (uint32_t)rows : p->n;
}

static uint32_t samples(const vkvae_op_params *p)
{
    return p->samples ? p->samples : 1;
}

/* x:[n,in] w:[out,in] b:[out] -> y:[n,out] */
static void dense_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *x = j->t[0], *w = j->t[1], *b = j->t[2];
    float *y = j->t[3];
    if (lo == hi)
        return;
#if VKVAE_HAVE_OPENBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(hi - lo), (int)p->out, (int)p->in,
                1.0f, x + lo * p->in, (int)p->in, w, (int)p->in, 0.0f, y + lo * p->out,
                (int)p->out);
    bias_act(y + lo * p->out, b, hi - lo, p->out, p->out, p->act, p->alpha);
#else
    vkvae_op_params q = *p;
    q.n = (uint32_t)(hi - lo);
    void *t[4] = {(void *)(x + lo * p->in), (void *)w, (void *)b, y + lo * p->out};
    vkvae_cpu_op_f32(VKVAE_OP_DENSE, &q, j->push, t);
#endif
}

/* dense_bwd_x: dy:[n,out] w:[out,in] x:[n,in] -> dx:[n,in] = (dy w) * act'(x);
 * dense_pair_bwd_x: dy dy2 w x -> dx, the second layer's product added
 * into the first's. The products, then the activation's derivative while
 * the block is in cache. */
static void dense_bwd_x_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    uint32_t pair = j->op == VKVAE_OP_DENSE_PAIR_BWD_X; /* bindings shift by one */
    const float *dy = j->t[0], *dy2 = pair ? j->t[1] : NULL, *w = j->t[1 + pair];
    const float *x = j->t[2 + pair];
    float *dx = j->t[3 + pair];
    if (lo == hi)
        return;
#if VKVAE_HAVE_OPENBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)p->in, (int)p->out,
                1.0f, dy + lo * p->out, (int)p->out, w, (int)p->in, 0.0f, dx + lo * p->in,
                (int)p->in);
    if (pair)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)p->in,
                    (int)p->in2, 1.0f, dy2 + lo * p->in2, (int)p->in2,
                    w + (uint64_t)p->out * p->in, (int)p->in, 1.0f, dx + lo * p->in, (int)p->in);
    if (p->act)
        act_grad(dx + lo * p->in, dx + lo * p->in, x + lo * p->in, (hi - lo) * p->in, p->act,
                 p->alpha);
#else
    vkvae_op_params q = *p;
    q.n = (uint32_t)(hi - lo);
    void *t[5], **at = t;
    *at++ = (void *)(dy + lo * p->out);
    if (pair)
        *at++ = (void *)(dy2 + lo * p->in2);
    *at++ = (void *)w;
    *at++ = (void *)(x + lo * p->in);
    *at = dx + lo * p->in;
    vkvae_cpu_op_f32(j->op, &q, j->push, t);
#endif
}

/* The pair ops (ops.def dense_pair*): each layer's share of the stacked
 * weights, rows [0, out) the first's, the next in2 the second's. */
static vkvae_op_params second_layer(const vkvae_op_params *p)
{
    vkvae_op_params q = *p;
    q.out = p->in2;
    return q;
}

/* x w b b2 -> y y2: dense on each layer's rows of w */
static void dense_pair_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p, q = second_layer(p);
    const float *w2 = (const float *)j->t[1] + (uint64_t)p->out * p->in;
    job a = *j, b = *j;
    a.t = (void *const[]){j->t[0], j->t[1], j->t[2], j->t[4]};
    b.p = &q, b.t = (void *const[]){j->t[0], (void *)w2, j->t[3], j->t[5]};
    dense_rows(&a, lo, hi);
    dense_rows(&b, lo, hi);
}

#if VKVAE_HAVE_OPENBLAS
/* dense alone: a block of rows when there are at least as many rows as
 * columns (sampling's 10,000 rows), else a block of columns, so that each
 * thread packs only its share of the larger operand (OpenBLAS packs both:
 * splitting the other way makes every thread pack all of it; 10,000
 * samples of vae_mlp spent a sixth of their time there) */
static void dense_part(void *arg, uint32_t part, uint32_t parts)
{
    const job *j = arg;
    const vkvae_op_params *p = j->p;
    uint64_t lo, hi;
    if (p->out < 2 * ROW_ALIGN * parts || p->n >= p->out) {
        vkvae_pool_split(p->n, ROW_ALIGN, part, parts, &lo, &hi);
        dense_rows(j, lo, hi);
        return;
    }
    const float *x = j->t[0], *w = j->t[1], *b = j->t[2];
    float *y = j->t[3];
    vkvae_pool_split(p->out, ROW_ALIGN, part, parts, &lo, &hi);
    if (lo == hi)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)p->n, (int)(hi - lo), (int)p->in,
                1.0f, x, (int)p->in, w + lo * p->in, (int)p->in, 0.0f, y + lo, (int)p->out);
    bias_act(y + lo, b + lo, p->n, (uint32_t)(hi - lo), p->out, p->act, p->alpha);
}

/* dy:[n,out] x:[n,in] -> dw:[out,in] db:[out]: a block of dw's rows (or of
 * its columns when out is small) and of db */
static void dense_bwd_w_part(void *arg, uint32_t part, uint32_t parts)
{
    const job *j = arg;
    const vkvae_op_params *p = j->p;
    const float *dy = j->t[0], *x = j->t[1];
    float *dw = j->t[2], *db = j->t[3];
    uint64_t lo, hi;
    if (p->out >= 2 * ROW_ALIGN * parts || p->out >= p->in) {
        vkvae_pool_split(p->out, ROW_ALIGN, part, parts, &lo, &hi);
        if (lo < hi)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(hi - lo), (int)p->in,
                        (int)p->n, 1.0f, dy + lo, (int)p->out, x, (int)p->in, 0.0f,
                        dw + lo * p->in, (int)p->in);
    } else {
        vkvae_pool_split(p->in, ROW_ALIGN, part, parts, &lo, &hi);
        if (lo < hi)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p->out, (int)(hi - lo),
                        (int)p->n, 1.0f, dy, (int)p->out, x + lo, (int)p->in, 0.0f, dw + lo,
                        (int)p->in);
    }
    vkvae_pool_split(p->out, ROW_ALIGN, part, parts, &lo, &hi);
    if (lo < hi)
        column_sums(db + lo, dy + lo, p->n, (uint32_t)(hi - lo), p->out);
}
#endif

#if VKVAE_HAVE_OPENBLAS
/* dy dy2 x -> dw db db2: dense_bwd_w's shares of each layer's gradients */
static void dense_pair_bwd_w_part(void *arg, uint32_t part, uint32_t parts)
{
    const job *j = arg;
    const vkvae_op_params *p = j->p, q = second_layer(p);
    float *dw2 = (float *)j->t[3] + (uint64_t)p->out * p->in;
    job a = *j, b = *j;
    a.t = (void *const[]){j->t[0], j->t[2], j->t[3], j->t[4]};
    b.p = &q, b.t = (void *const[]){j->t[1], j->t[2], dw2, j->t[5]};
    dense_bwd_w_part(&a, part, parts);
    dense_bwd_w_part(&b, part, parts);
}
#endif

/* conv2d, conv2d_bwd_x, convt2d, convt2d_bwd_x on a block of images */
static void conv_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    if (lo == hi)
        return;
    vkvae_fast_conv_rows(j->op, p, j->t, j->fast->scratch[j->part], lo, hi);
    if ((j->op == VKVAE_OP_CONV2D_BWD_X || j->op == VKVAE_OP_CONVT2D_BWD_X) && p->act) {
        /* times the derivative of the activation below (ops.def) */
        uint64_t img = (uint64_t)p->c_in * p->h_in * p->w_in;
        float *dx = (float *)j->t[3] + lo * img;
        act_grad(dx, dx, (const float *)j->t[2] + lo * img, (hi - lo) * img, p->act, p->alpha);
    }
}

/* conv2d_bwd_w, convt2d_bwd_w: a share of dw's columns and of db */
static void conv_bwd_w_part(void *arg, uint32_t part, uint32_t parts)
{
    const job *j = arg;
    vkvae_fast_conv_bwd_w(j->op, j->p, j->t, j->fast->scratch[part], part, parts);
}

/* dy:[n,in] y:[n,in] -> dx:[n,in] */
static void act_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    uint64_t a = lo * p->in, b = hi * p->in;
    act_grad((float *)j->t[2] + a, (const float *)j->t[0] + a, (const float *)j->t[1] + a,
             b - a, p->act, p->alpha);
}

/* logits:[n,in] x:[n,in] -> nll:[n] (nll_bernoulli), and dl:[n,in]
 * (nll_bernoulli_grad; zero past the valid rows) */
static void nll_bernoulli_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *l = j->t[0], *x = j->t[1];
    float *nll = j->t[2], *dl = j->op == VKVAE_OP_NLL_BERNOULLI_GRAD ? j->t[3] : NULL;
    uint32_t valid = valid_rows(p, j->push);
    for (uint64_t r = lo; r < hi; r++) {
        uint64_t at = r * p->in;
        if (r < valid) {
            nll[r] = nll_bernoulli_row(l + at, x + at, p->in);
            /* a second pass over the row while it is in L1: one loop
             * computing both (sharing exp(-|l|)) did not vectorize */
            if (dl)
                nll_bernoulli_dl(dl + at, l + at, x + at, p->in, j->push->grad_scale);
        } else {
            nll[r] = 0.0f;
            if (dl)
                memset(dl + at, 0, (size_t)p->in * sizeof *dl);
        }
    }
}

/* logits x -> dl:[n,in] = grad_scale (sigmoid(l) - x), 0 past the valid rows */
static void nll_bernoulli_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    uint64_t valid = valid_rows(p, j->push), mid = valid < lo ? lo : valid > hi ? hi : valid;
    uint64_t a = lo * p->in, m = mid * p->in, b = hi * p->in;
    float *dl = j->t[2];
    nll_bernoulli_dl(dl + a, (const float *)j->t[0] + a, (const float *)j->t[1] + a, m - a,
                       j->push->grad_scale);
    if (b > m)
        memset(dl + m, 0, (b - m) * sizeof *dl);
}

/* l:[n,in] -> y:[n,in] */
static void sigmoid_rows(const job *j, uint64_t lo, uint64_t hi)
{
    uint64_t a = lo * j->p->in, b = hi * j->p->in;
    sigmoid_elems((float *)j->t[1] + a, (const float *)j->t[0] + a, b - a);
}

/* data:u8[N,in] perm:u32[N] -> x:[n,in] (grey levels; mode 0) */
static void gather_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const uint8_t *data = j->t[0];
    const uint32_t *perm = j->t[1];
    float *x = j->t[2];
    uint32_t valid = valid_rows(p, j->push);
    for (uint64_t r = lo; r < hi; r++) {
        if (r < valid)
            bytes_to_unit(x + r * p->in, data + (uint64_t)perm[j->push->base + r] * p->in, p->in);
        else
            memset(x + r * p->in, 0, (size_t)p->in * sizeof *x);
    }
}

/* -> z:[n,in], Philox normals at each element's index */
static void prior_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const vkvae_push *push = j->push;
    float *z = j->t[0];
    for (uint64_t i = lo * p->in; i < hi * p->in; i++)
        z[i] = vkvae_rand_normal(push->seed, p->stream, push->step,
                                 (uint32_t)i + push->row0 * p->in);
}

/* mu:[n,in] lv:[n,in] -> z:[n*S,in] eps:[n*S,in] */
static void reparam_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const vkvae_push *push = j->push;
    const float *mu = j->t[0], *lv = j->t[1];
    float *z = j->t[2], *eps = j->t[3];
    uint32_t S = samples(p);
    for (uint64_t r = lo; r < hi; r++)
        for (uint32_t s = 0; s < S; s++)
            for (uint32_t c = 0; c < p->in; c++) {
                uint32_t i = ((uint32_t)r * S + s) * p->in + c;
                float e = vkvae_rand_normal(push->seed, p->stream, push->step,
                                            i + push->row0 * S * p->in);
                eps[i] = e;
                z[i] = mu[r * p->in + c] + expf(lv[r * p->in + c] / 2.0f) * e;
            }
}

/* dz:[n*S,in] eps:[n*S,in] lv:[n,in] -> dmu:[n,in] dlv:[n,in] */
static void reparam_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *dz = j->t[0], *eps = j->t[1], *lv = j->t[2];
    float *dmu = j->t[3], *dlv = j->t[4];
    uint32_t S = samples(p);
    for (uint64_t r = lo; r < hi; r++)
        for (uint32_t c = 0; c < p->in; c++) {
            float half_sigma = expf(lv[r * p->in + c] / 2.0f) / 2.0f, gm = 0, gl = 0;
            for (uint32_t s = 0; s < S; s++) {
                uint64_t i = (r * S + s) * p->in + c;
                gm += dz[i];
                gl += dz[i] * eps[i] * half_sigma;
            }
            dmu[r * p->in + c] = gm;
            dlv[r * p->in + c] = gl;
        }
}

/* mu:[n,in] lv:[n,in] -> kl:[n] */
static void kl_gauss_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *mu = j->t[0], *lv = j->t[1];
    float *kl = j->t[2];
    uint32_t valid = valid_rows(p, j->push);
    for (uint64_t r = lo; r < hi; r++) {
        float acc = 0;
        for (uint32_t c = 0; r < valid && c < p->in; c++) {
            float m = mu[r * p->in + c], l = lv[r * p->in + c];
            acc += m * m + expf(l) - 1.0f - l;
        }
        kl[r] = acc / 2.0f;
    }
}

/* mu lv -> dmu += g mu, dlv += g (exp(lv) - 1) / 2 over the valid rows */
static void kl_gauss_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *mu = j->t[0], *lv = j->t[1];
    float *dmu = j->t[2], *dlv = j->t[3];
    float g = j->push->kl_weight * j->push->grad_scale;
    uint64_t valid = valid_rows(p, j->push);
    for (uint64_t i = lo * p->in; i < (hi < valid ? hi : valid) * p->in; i++) {
        dmu[i] += g * mu[i];
        dlv[i] += g * (expf(lv[i]) - 1.0f) / 2.0f;
    }
}

/* The fused KL ops: the single ops on the same block of rows, the KL term
 * over the block's examples (reparam's samples do not apply to it). */
static job per_example(const job *j, vkvae_op_params *q, void *const *t)
{
    job k = *j;
    *q = *j->p;
    q->samples = 0;
    k.p = q, k.t = t;
    return k;
}

/* mu lv -> z eps kl */
static void reparam_kl_rows(const job *j, uint64_t lo, uint64_t hi)
{
    vkvae_op_params q;
    job kl = per_example(j, &q, (void *const[]){ j->t[0], j->t[1], j->t[4] });
    reparam_rows(j, lo, hi);
    kl_gauss_rows(&kl, lo, hi);
}

/* dz eps mu lv -> dmu dlv */
static void reparam_kl_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    vkvae_op_params q;
    job re = *j, kl = per_example(j, &q, (void *const[]){ j->t[2], j->t[3], j->t[4], j->t[5] });
    re.t = (void *const[]){ j->t[0], j->t[1], j->t[3], j->t[4], j->t[5] };
    reparam_bwd_rows(&re, lo, hi);
    kl_gauss_bwd_rows(&kl, lo, hi);
}

/* a:[n,in] b:[n,in2] -> y:[n,in+in2] */
/* y = act(a + b): a residual sum, or an add layer's */
static void add_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    uint64_t a = lo * p->in, count = (hi - lo) * p->in;
    fm_act_bias((float *)j->t[2] + a, (const float *)j->t[0] + a, (const float *)j->t[1] + a,
                0, count, p->act, p->alpha);
}

/* x:[n,2in] -> y:[n,in] = tanh(first half) * sigmoid(second half) */
FAST_VEC static void gate_row(float *y, const float *a, const float *b, uint32_t in)
{
    for (uint32_t i = 0; i < in; i++)
        y[i] = fm_tanhf(a[i]) * fm_sigmoidf(b[i]);
}

static void gate_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *x = j->t[0];
    float *y = j->t[1];
    for (uint64_t r = lo; r < hi; r++)
        gate_row(y + r * p->in, x + r * 2 * p->in, x + r * 2 * p->in + p->in, p->in);
}

/* dy:[n,in] x:[n,2in] -> dx:[n,2in] */
FAST_VEC static void gate_bwd_row(float *da, float *db, const float *dy, const float *a,
                                  const float *b, uint32_t in)
{
    for (uint32_t i = 0; i < in; i++) {
        float t = fm_tanhf(a[i]), s = fm_sigmoidf(b[i]);
        da[i] = dy[i] * (1.0f - t * t) * s;
        db[i] = dy[i] * t * s * (1.0f - s);
    }
}

static void gate_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *dy = j->t[0], *x = j->t[1];
    float *dx = j->t[2];
    for (uint64_t r = lo; r < hi; r++) {
        uint64_t at = r * 2 * p->in;
        gate_bwd_row(dx + at, dx + at + p->in, dy + r * p->in, x + at, x + at + p->in, p->in);
    }
}

static void concat_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *a = j->t[0], *b = j->t[1];
    float *y = j->t[2];
    uint64_t width = (uint64_t)p->in + p->in2;
    for (uint64_t r = lo; r < hi; r++) {
        memcpy(y + r * width, a + r * p->in, (size_t)p->in * sizeof *y);
        memcpy(y + r * width + p->in, b + r * p->in2, (size_t)p->in2 * sizeof *y);
    }
}

#if VKVAE_HAVE_OPENBLAS
/* A step's gates for one sequence r: ops.def's gru, its unit loop. */
FAST_VEC static void gru_gates(const float *gi, const float *gh, const float *b,
                               const float *hprev, float *h, float *g, uint32_t H)
{
    for (uint32_t k = 0; k < H; k++) {
        float r = fm_sigmoidf(gi[k] + gh[k] + b[k]);
        float z = fm_sigmoidf(gi[H + k] + gh[H + k] + b[H + k]);
        float hn = gh[2 * H + k] + b[2 * H + k];
        float c = fm_tanhf(gi[2 * H + k] + r * hn);
        h[k] = (1.0f - z) * c + z * hprev[k];
        g[k] = r, g[H + k] = z, g[2 * H + k] = c, g[3 * H + k] = hn;
    }
}

/* gi:[n,T,3H] w:[3H,H] b:[3H] h0:[n,H] -> h last hp g (ops.def's gru) */
static void gru_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *gi = j->t[0], *w = j->t[1], *b = j->t[2], *h0 = j->t[3];
    float *h = j->t[4], *last = j->t[5], *hp = j->t[6], *g = j->t[7];
    uint64_t T = p->in, H = p->out, rows = hi - lo;
    float *gh = j->fast->scratch[j->part]; /* a step's hp[t] w^T: [rows, 3H] */
    if (!rows)
        return;
    for (uint64_t t = 0; t < T; t++) {
        for (uint64_t r = lo; r < hi; r++)
            memcpy(hp + (r * T + t) * H, t ? h + (r * T + t - 1) * H : h0 + r * H,
                   H * sizeof *hp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)(3 * H), (int)H,
                    1.0f, hp + (lo * T + t) * H, (int)(T * H), w, (int)H, 0.0f, gh,
                    (int)(3 * H));
        for (uint64_t r = lo; r < hi; r++) {
            uint64_t at = r * T + t;
            gru_gates(gi + at * 3 * H, gh + (r - lo) * 3 * H, b, hp + at * H, h + at * H,
                      g + at * 4 * H, (uint32_t)H);
        }
    }
    for (uint64_t r = lo; r < hi; r++)
        memcpy(last + r * H, h + (r * T + T - 1) * H, H * sizeof *last);
}

/* A step's gradients for one sequence: d (dh[t] + the carry) in, the gates'
 * pre-activation gradients out, and the carry's elementwise part d*z. */
FAST_VEC static void gru_gates_bwd(float *d, const float *g, const float *hprev, float *dgi,
                                   float *dgh, uint32_t H)
{
    for (uint32_t k = 0; k < H; k++) {
        float r = g[k], z = g[H + k], c = g[2 * H + k], hn = g[3 * H + k], dk = d[k];
        float dc = dk * (1.0f - z) * (1.0f - c * c);
        float dz = dk * (hprev[k] - c) * z * (1.0f - z);
        float dr = dc * hn * r * (1.0f - r);
        dgi[k] = dr, dgi[H + k] = dz, dgi[2 * H + k] = dc;
        dgh[k] = dr, dgh[H + k] = dz, dgh[2 * H + k] = dc * r;
        d[k] = dk * z;
    }
}

/* dh:[n,T,H] dlast:[n,H] g:[n,T,4H] hp:[n,T,H] w:[3H,H] -> dgi dgh dh0 (ops.def's
 * gru_bwd); the carry lives in the scratch, [rows, H] */
static void gru_bwd_rows(const job *j, uint64_t lo, uint64_t hi)
{
    const vkvae_op_params *p = j->p;
    const float *dh = j->t[0], *dlast = j->t[1], *g = j->t[2], *hp = j->t[3], *w = j->t[4];
    float *dgi = j->t[5], *dgh = j->t[6], *dh0 = j->t[7];
    uint64_t T = p->in, H = p->out, rows = hi - lo;
    float *e = j->fast->scratch[j->part];
    if (!rows)
        return;
    memcpy(e, dlast + lo * H, rows * H * sizeof *e);
    for (uint64_t t = T; t-- > 0;) {
        for (uint64_t r = lo; r < hi; r++) {
            uint64_t at = r * T + t;
            float *d = e + (r - lo) * H;
            for (uint64_t k = 0; k < H; k++)
                d[k] += dh[at * H + k];
            gru_gates_bwd(d, g + at * 4 * H, hp + at * H, dgi + at * 3 * H, dgh + at * 3 * H,
                          (uint32_t)H);
        }
        /* the carry: d*z (left in e) + dgh[t] w */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)H, (int)(3 * H),
                    1.0f, dgh + (lo * T + t) * 3 * H, (int)(T * 3 * H), w, (int)H, 1.0f, e,
                    (int)H);
    }
    memcpy(dh0 + lo * H, e, rows * H * sizeof *dh0);
}
#endif

/* p g m v, updated in place */
static void adam_part(void *arg, uint32_t part, uint32_t parts)
{
    const job *j = arg;
    const vkvae_op_params *p = j->p;
    double step = (double)j->push->step + 1.0;
    double bc1 = 1.0 - pow((double)p->beta1, step);
    double bc2 = 1.0 - pow((double)p->beta2, step);
    adam_consts c = {
        .b1 = p->beta1, .b2 = p->beta2, .lr = p->lr, .eps = p->eps, .wd = p->weight_decay,
        .step_size = (float)((double)p->lr / bc1), .bc2_sqrt = (float)sqrt(bc2),
        .decoupled = p->mode == 1,
    };
    uint64_t lo, hi;
    vkvae_pool_split(p->in, LANES, part, parts, &lo, &hi);
    adam_elems((float *)j->t[0] + lo, (const float *)j->t[1] + lo, (float *)j->t[2] + lo,
               (float *)j->t[3] + lo, hi - lo, c);
}

/* ---- what each op is to the scheduler ---- */

typedef void (*rows_fn)(const job *j, uint64_t lo, uint64_t hi);

/* Floats of scratch a part needs for op: a convolution's columns, or a
 * GRU's step products for the rows a part may get (all n at most). */
static uint64_t scratch_need(vkvae_op op, const vkvae_op_params *p)
{
    if (op == VKVAE_OP_GRU)
        return 3ull * p->n * p->out;
    if (op == VKVAE_OP_GRU_BWD)
        return (uint64_t)p->n * p->out;
    return vkvae_fast_conv_scratch(op, p);
}

#if VKVAE_HAVE_OPENBLAS
/* A GRU runs fast once its scratch is there (reserve_scratch). */
static int gru_fits(const vkvae_fast *fast, vkvae_op op, const vkvae_op_params *p)
{
    return scratch_need(op, p) <= fast->scratch_floats;
}
#endif

/* A convolution runs fast when every part has the scratch it needs
 * (reserve_scratch); otherwise it is left to the plain op. */
static int conv_fits(const vkvae_fast *fast, vkvae_op op, const vkvae_op_params *p)
{
    uint64_t need = vkvae_fast_conv_scratch(op, p);
    return need && need <= fast->scratch_floats;
}

/* The row version of a step's op, or NULL. Ops over n*S sample rows are
 * row ops only with S = 1, where their rows are the batch's. */
static rows_fn row_version(const vkvae_fast *fast, vkvae_op op, const vkvae_op_params *p)
{
    switch (op) {
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONVT2D:
    case VKVAE_OP_CONVT2D_BWD_X: return conv_fits(fast, op, p) ? conv_rows : NULL;
    case VKVAE_OP_GATHER: return p->mode == 0 ? gather_rows : NULL;
    case VKVAE_OP_DENSE: return dense_rows;
    case VKVAE_OP_DENSE_BWD_X: return dense_bwd_x_rows;
    case VKVAE_OP_DENSE_PAIR: return dense_pair_rows;
    case VKVAE_OP_DENSE_PAIR_BWD_X: return dense_bwd_x_rows;
    case VKVAE_OP_ACT_BWD: return act_bwd_rows;
    case VKVAE_OP_NLL_BERNOULLI: return samples(p) == 1 ? nll_bernoulli_rows : NULL;
    case VKVAE_OP_NLL_BERNOULLI_BWD: return samples(p) == 1 ? nll_bernoulli_bwd_rows : NULL;
    case VKVAE_OP_NLL_BERNOULLI_GRAD: return samples(p) == 1 ? nll_bernoulli_rows : NULL;
    case VKVAE_OP_SIGMOID: return sigmoid_rows;
    case VKVAE_OP_PRIOR: return prior_rows;
    case VKVAE_OP_REPARAM: return reparam_rows;
    case VKVAE_OP_REPARAM_BWD: return reparam_bwd_rows;
    /* (free bits, alpha > 0, read the whole batch: not by rows) */
    case VKVAE_OP_KL_GAUSS: return samples(p) == 1 && p->alpha == 0 ? kl_gauss_rows : NULL;
    case VKVAE_OP_KL_GAUSS_BWD:
        return samples(p) == 1 && p->mode == 0 && p->alpha == 0 ? kl_gauss_bwd_rows : NULL;
    case VKVAE_OP_REPARAM_KL: return reparam_kl_rows;
    case VKVAE_OP_REPARAM_KL_BWD: return reparam_kl_bwd_rows;
    case VKVAE_OP_CONCAT: return concat_rows;
    case VKVAE_OP_ADD: return add_rows;
    case VKVAE_OP_GATE: return gate_rows;
    case VKVAE_OP_GATE_BWD: return gate_bwd_rows;
#if VKVAE_HAVE_OPENBLAS
    case VKVAE_OP_GRU: return gru_fits(fast, op, p) ? gru_rows : NULL;
    case VKVAE_OP_GRU_BWD: return gru_fits(fast, op, p) ? gru_bwd_rows : NULL;
#endif
    default: return NULL;
    }
}

/* The own-partition version of a step's op, or NULL. */
static vkvae_pool_fn split_version(const vkvae_fast *fast, vkvae_op op,
                                   const vkvae_op_params *p)
{
    switch (op) {
    case VKVAE_OP_CONV2D_BWD_W:
    case VKVAE_OP_CONVT2D_BWD_W: return conv_fits(fast, op, p) ? conv_bwd_w_part : NULL;
#if VKVAE_HAVE_OPENBLAS
    case VKVAE_OP_DENSE_BWD_W: return dense_bwd_w_part;
    case VKVAE_OP_DENSE_PAIR_BWD_W: return dense_pair_bwd_w_part;
#endif
    case VKVAE_OP_ADAM: return adam_part;
    default: return NULL;
    }
}

/* Row width of binding b of a row op, 0 if the op reads it whole (the
 * weights; data and permutation). Rows are the op's n rows. */
static uint64_t row_width(vkvae_op op, const vkvae_op_params *p, uint32_t b)
{
    uint64_t S = samples(p);
    switch (op) {
    case VKVAE_OP_GATHER: return b == 2 ? p->in : 0;
    case VKVAE_OP_DENSE: return b == 0 ? p->in : b == 3 ? p->out : 0;
    case VKVAE_OP_DENSE_BWD_X: return b == 0 ? p->out : b >= 2 ? p->in : 0;
    case VKVAE_OP_DENSE_PAIR: return b == 0 ? p->in : b == 4 ? p->out : b == 5 ? p->in2 : 0;
    case VKVAE_OP_DENSE_PAIR_BWD_X: return b == 0 ? p->out : b == 1 ? p->in2 : b >= 3 ? p->in : 0;
    case VKVAE_OP_NLL_BERNOULLI: return b == 2 ? 1 : p->in;
    case VKVAE_OP_NLL_BERNOULLI_GRAD: return b == 2 ? 1 : p->in;
    case VKVAE_OP_KL_GAUSS: return b == 2 ? 1 : p->in;
    case VKVAE_OP_REPARAM: return b >= 2 ? S * p->in : p->in;
    case VKVAE_OP_REPARAM_BWD: return b <= 1 ? S * p->in : p->in;
    case VKVAE_OP_REPARAM_KL: return b == 4 ? 1 : b >= 2 ? S * p->in : p->in;
    case VKVAE_OP_REPARAM_KL_BWD: return b <= 1 ? S * p->in : p->in;
    case VKVAE_OP_CONCAT: return b == 0 ? p->in : b == 1 ? p->in2 : (uint64_t)p->in + p->in2;
    case VKVAE_OP_GATE: return b == 0 ? 2 * (uint64_t)p->in : p->in;
    case VKVAE_OP_GATE_BWD: return b == 0 ? p->in : 2 * (uint64_t)p->in;
    case VKVAE_OP_GRU: /* a sequence a row: gi h0 h last hp g; the weights whole */
        return b == 0 ? 3ull * p->in * p->out : b == 3 || b == 5 ? p->out
             : b == 4 || b == 6 ? (uint64_t)p->in * p->out : b == 7 ? 4ull * p->in * p->out : 0;
    case VKVAE_OP_GRU_BWD: /* dh dlast g hp (w) dgi dgh dh0 */
        return b == 0 || b == 3 ? (uint64_t)p->in * p->out : b == 1 || b == 7 ? p->out
             : b == 2 ? 4ull * p->in * p->out : b == 5 || b == 6 ? 3ull * p->in * p->out : 0;
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONVT2D:
    case VKVAE_OP_CONVT2D_BWD_X: return vkvae_fast_conv_row_width(op, p, b);
    default: return p->in; /* act_bwd, nll_bernoulli_bwd, sigmoid, prior, kl_gauss_bwd */
    }
}

/* ---- single ops ---- */

static void row_part(void *arg, uint32_t part, uint32_t parts)
{
    job j = *(const job *)arg;
    uint64_t lo, hi;
    j.part = part;
    vkvae_pool_split(j.p->n, ROW_ALIGN, part, parts, &lo, &hi);
    j.rows(&j, lo, hi);
}

/* Grows every part's scratch to floats; on failure leaves it as it was
 * (the convolutions needing more fall back to the plain ops). */
static void reserve_scratch(vkvae_fast *fast, uint64_t floats)
{
    if (floats <= fast->scratch_floats)
        return;
    for (uint32_t i = 0; i < fast->parts; i++) {
        float *s = malloc(floats * sizeof *s);
        if (!s)
            return; /* parts before i hold more than scratch_floats: fine */
        free(fast->scratch[i]);
        fast->scratch[i] = s;
    }
    fast->scratch_floats = floats;
}

/* ---- dispatch ---- */

vkvae_status vkvae_fast_create(uint32_t threads, vkvae_fast **out, vkvae_error *err)
{
    *out = NULL;
    vkvae_fast *fast = calloc(1, sizeof *fast);
    if (!fast)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: out of memory");
    vkvae_status st = vkvae_pool_create(threads, &fast->pool, err);
    if (st != VKVAE_OK) {
        free(fast);
        return st;
    }
    fast->parts = vkvae_pool_threads(fast->pool);
    fast->scratch = calloc(fast->parts, sizeof *fast->scratch);
    if (!fast->scratch) {
        vkvae_pool_destroy(fast->pool);
        free(fast);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu backend: out of memory");
    }
#if VKVAE_HAVE_OPENBLAS
    /* Our pool splits the work; OpenBLAS's own threads would spin between
     * products against ours. */
    openblas_set_num_threads(1);
#endif
    *out = fast;
    return VKVAE_OK;
}

void vkvae_fast_destroy(vkvae_fast *fast)
{
    if (!fast)
        return;
    vkvae_pool_destroy(fast->pool);
    for (uint32_t i = 0; i < fast->parts; i++)
        free(fast->scratch[i]);
    free(fast->scratch);
    free(fast);
}

uint32_t vkvae_fast_threads(const vkvae_fast *fast)
{
    return vkvae_pool_threads(fast->pool);
}

const char *vkvae_fast_blas(void)
{
#if VKVAE_HAVE_OPENBLAS
    return openblas_get_config();
#else
    return NULL;
#endif
}

const char *vkvae_fast_blas_advice(void)
{
#if VKVAE_HAVE_OPENBLAS && defined(__x86_64__) && defined(__GNUC__)
    static char line[200];
    const char *preset = getenv("OPENBLAS_CORETYPE"), *core = openblas_get_corename();
    __builtin_cpu_init();
    if (!preset || !__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
        strstr(core, "SkylakeX") || strstr(core, "Cooperlake") || strstr(core, "SapphireRapids"))
        return NULL;
    snprintf(line, sizeof line, "OPENBLAS_CORETYPE=%s gives OpenBLAS its %s kernels on this "
             "AVX-512 CPU; unset it for faster --device cpu products", preset, core);
    return line;
#else
    return NULL;
#endif
}

/* Rough nanoseconds of one thread's work for a step: what decides whether
 * waking the pool pays (a few microseconds on an idle machine). */
static double work_ns(vkvae_op op, const vkvae_op_params *p)
{
    double elems = (double)p->n * p->in * samples(p);
    switch (op) {
    case VKVAE_OP_DENSE:
    case VKVAE_OP_DENSE_BWD_X:
    case VKVAE_OP_DENSE_BWD_W: return 2.0 * p->n * p->in * p->out / 50.0; /* ~50 GFLOP/s */
    case VKVAE_OP_DENSE_PAIR:
    case VKVAE_OP_DENSE_PAIR_BWD_X:
    case VKVAE_OP_DENSE_PAIR_BWD_W: return 2.0 * p->n * p->in * ((double)p->out + p->in2) / 50.0;
    case VKVAE_OP_CONV2D:
    case VKVAE_OP_CONV2D_BWD_X:
    case VKVAE_OP_CONV2D_BWD_W:
    case VKVAE_OP_CONVT2D:
    case VKVAE_OP_CONVT2D_BWD_X:
    case VKVAE_OP_CONVT2D_BWD_W: return 2.0 * vkvae_fast_conv_macs(op, p) / 50.0;
    case VKVAE_OP_NLL_BERNOULLI: return 2.5 * elems;
    case VKVAE_OP_NLL_BERNOULLI_GRAD: return 3.0 * elems;
    case VKVAE_OP_PRIOR:
    case VKVAE_OP_REPARAM: return 25.0 * elems; /* a Philox normal */
    case VKVAE_OP_REPARAM_KL: return 27.0 * elems;
    case VKVAE_OP_KL_GAUSS:
    case VKVAE_OP_KL_GAUSS_BWD:
    case VKVAE_OP_REPARAM_BWD: return 2.0 * elems;
    case VKVAE_OP_REPARAM_KL_BWD: return 4.0 * elems;
    case VKVAE_OP_ADAM: return 0.4 * p->in;
    case VKVAE_OP_GRU:
    case VKVAE_OP_GRU_BWD: return 6.0 * p->n * p->in * p->out * (double)p->out / 50.0;
    default: return 0.5 * elems;
    }
}
#define SMALL_NS 50000.0 /* below 50 us of work a step stays on one thread */

static void run(vkvae_fast *fast, vkvae_pool_fn fn, const job *j, double ns)
{
    if (ns < SMALL_NS)
        fn((void *)j, 0, 1);
    else
        vkvae_pool_run(fast->pool, fn, (void *)j);
}

int vkvae_fast_op(vkvae_fast *fast, vkvae_op op, const vkvae_op_params *p,
                  const vkvae_push *push, void *const *t)
{
    reserve_scratch(fast, scratch_need(op, p));
    job j = {p, push, t, row_version(fast, op, p), op, fast, 0};
    vkvae_pool_fn split = split_version(fast, op, p);
    double ns = work_ns(op, p);
#if VKVAE_HAVE_OPENBLAS
    if (op == VKVAE_OP_DENSE) {
        run(fast, dense_part, &j, ns);
        return 1;
    }
#endif
    if (j.rows)
        run(fast, row_part, &j, ns);
    else if (split)
        run(fast, split, &j, ns);
    else
        return 0;
    return 1;
}

/* ---- whole programs: groups of steps without a barrier between them ----
 * Consecutive steps join one pool job when no thread can see another's
 * unfinished work: every part runs every step of the group in order, row
 * ops on the part's block of rows (the same block for all, as they share
 * n), split ops on their own share, other ops on part 0 alone. That holds
 * when no two accesses in the group overlap with one of them a write,
 * except for row accesses of the same tensor with the same row width, which
 * each part makes only to its own rows. Overlap is in bytes of the same
 * buffer, since the plan aliases tensors. */

enum { GROUP_STEPS = 32 };

typedef struct access {
    uint32_t buffer, tensor;
    uint64_t begin, end; /* bytes */
    uint64_t width;      /* row width of a row access; 0: the whole tensor */
    int write;
} access;

static uint32_t step_accesses(const vkvae_fast *fast, const vkvae_plan *plan,
                              const vkvae_step_desc *st, access *out)
{
    int row = row_version(fast, st->op, &st->p) != NULL;
    for (uint32_t b = 0; b < st->n_tensors; b++) {
        const vkvae_tensor_desc *t = &plan->tensors[st->tensors[b]];
        vkvae_op_binding_info info = vkvae_op_binding(st->op, &st->p, b);
        uint64_t bytes = plan->buffers[t->buffer].role == VKVAE_ROLE_DATA
                             ? plan->buffers[t->buffer].bytes - t->offset
                             : t->elems * 4;
        out[b] = (access){t->buffer, st->tensors[b], t->offset, t->offset + bytes,
                          row ? row_width(st->op, &st->p, b) : 0, info.written};
    }
    return st->n_tensors;
}

static int conflict(const access *a, const access *b)
{
    if (a->buffer != b->buffer || a->end <= b->begin || b->end <= a->begin)
        return 0;
    if (!a->write && !b->write)
        return 0;
    return !(a->tensor == b->tensor && a->width && a->width == b->width);
}

typedef struct group_job {
    vkvae_fast *fast;
    const vkvae_program_desc *prog;
    void *const *tensors;
    const vkvae_push *push;
    uint32_t first, end;
} group_job;

static void group_part(void *arg, uint32_t part, uint32_t parts)
{
    const group_job *g = arg;
    for (uint32_t s = g->first; s < g->end; s++) {
        const vkvae_step_desc *st = &g->prog->steps[s];
        void *t[VKVAE_MAX_BINDINGS] = {0};
        for (uint32_t b = 0; b < st->n_tensors; b++)
            t[b] = g->tensors[st->tensors[b]];
        job j = {&st->p, g->push, t, row_version(g->fast, st->op, &st->p), st->op, g->fast, part};
        vkvae_pool_fn split = split_version(g->fast, st->op, &st->p);
        if (j.rows) {
            uint64_t lo, hi;
            vkvae_pool_split(st->p.n, ROW_ALIGN, part, parts, &lo, &hi);
            j.rows(&j, lo, hi);
        } else if (split) {
            split(&j, part, parts);
        } else if (part == 0) {
            vkvae_cpu_op_f32(st->op, &st->p, g->push, t);
        }
    }
}

void vkvae_fast_run(vkvae_fast *fast, const vkvae_plan *plan, const vkvae_program_desc *prog,
                    void *const *tensors, const vkvae_push *push)
{
    access acc[GROUP_STEPS * VKVAE_MAX_BINDINGS];
    uint64_t scratch = 0;
    for (uint32_t s = 0; s < prog->n_steps; s++) {
        uint64_t need = scratch_need(prog->steps[s].op, &prog->steps[s].p);
        scratch = need > scratch ? need : scratch;
    }
    reserve_scratch(fast, scratch);
    for (uint32_t first = 0; first < prog->n_steps;) {
        uint32_t n_acc = 0, end = first, rows_n = 0;
        int has_rows = 0;
        double ns = 0;
        while (end < prog->n_steps && end - first < GROUP_STEPS) {
            const vkvae_step_desc *st = &prog->steps[end];
            int row = row_version(fast, st->op, &st->p) != NULL;
            if (row && has_rows && st->p.n != rows_n)
                break;
            access mine[VKVAE_MAX_BINDINGS];
            uint32_t n_mine = step_accesses(fast, plan, st, mine), clash = 0;
            for (uint32_t a = 0; a < n_mine && !clash; a++)
                for (uint32_t b = 0; b < n_acc && !clash; b++)
                    clash = conflict(&mine[a], &acc[b]);
            if (clash)
                break;
            memcpy(acc + n_acc, mine, n_mine * sizeof *mine);
            n_acc += n_mine;
            if (row && !has_rows)
                has_rows = 1, rows_n = st->p.n;
            ns += work_ns(st->op, &st->p);
            end++;
        }
        if (end == first)
            end = first + 1; /* cannot happen: a step never clashes with nothing */
        if (end - first == 1) {
            const vkvae_step_desc *st = &prog->steps[first];
            void *t[VKVAE_MAX_BINDINGS] = {0};
            for (uint32_t b = 0; b < st->n_tensors; b++)
                t[b] = tensors[st->tensors[b]];
            if (!vkvae_fast_op(fast, st->op, &st->p, push, t))
                vkvae_cpu_op_f32(st->op, &st->p, push, t);
        } else {
            group_job g = {fast, prog, tensors, push, first, end};
            if (ns < SMALL_NS)
                group_part(&g, 0, 1);
            else
                vkvae_pool_run(fast->pool, group_part, &g);
        }
        first = end;
    }
}
