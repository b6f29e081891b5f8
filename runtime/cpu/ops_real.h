/* The body of every CPU op, written once over `real` and compiled twice:
 * ops_f32.c defines real = float, ops_f64.c real = double (with SFX, the
 * name suffix, and RAND_NORMAL, the normal draw in that precision). The code
 * follows the contracts of ops.def literally, loop by loop, as the reference
 * the GPU kernels are judged against: no blocking, no vectorization, no
 * cleverness. <tgmath.h> picks expf or exp by the argument's type, so every
 * constant handed to a math function is cast to real first.
 *
 * Rows r >= push->rows of a batch are padding (a short last batch): gather
 * writes them as zeros, losses and loss gradients are zero there, and
 * loss_accum counts only the valid rows (see ops.def).
 */
#include <stddef.h>
#include <stdint.h>
#include <tgmath.h>

#include "cpu/cpu_ops.h"
#include "plan/philox.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SFX)

typedef const vkvae_op_params P;
typedef const vkvae_push PUSH;

/* Rows holding data: push->rows examples, times samples for ops over the
 * n*k sample rows of IWAE (samples is 0 or 1 elsewhere). */
static uint32_t FN(valid_rows)(P *p, PUSH *push)
{
    uint64_t rows = (uint64_t)push->rows * (p->samples ? p->samples : 1);
    return rows < p->n ? (uint32_t)rows : p->n;
}

static real FN(sigmoid)(real x)
{
    return (real)1 / ((real)1 + exp(-x));
}

static real FN(act)(uint32_t act, real alpha, real x)
{
    switch (act) {
    case VKVAE_ACT_RELU: return x > 0 ? x : (real)0;
    case VKVAE_ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case VKVAE_ACT_TANH: return tanh(x);
    case VKVAE_ACT_SIGMOID: return FN(sigmoid)(x);
    case VKVAE_ACT_SOFTPLUS: return fmax(x, (real)0) + log1p(exp(-fabs(x)));
    default: return x;
    }
}

/* The derivative of act at the pre-activation, from the output y. */
static real FN(act_grad)(uint32_t act, real alpha, real y)
{
    switch (act) {
    case VKVAE_ACT_RELU: return y > 0 ? (real)1 : (real)0;
    case VKVAE_ACT_LEAKY_RELU: return y > 0 ? (real)1 : alpha;
    case VKVAE_ACT_TANH: return (real)1 - y * y;
    case VKVAE_ACT_SIGMOID: return y * ((real)1 - y);
    case VKVAE_ACT_SOFTPLUS: return (real)1 - exp(-y);
    default: return (real)1;
    }
}

/* dx *= act'(x) over count elements: the activation below a layer, in its
 * input-gradient op (ops.def, dense_bwd_x) */
static void FN(times_act_grad)(P *p, real *dx, const real *x, uint64_t count)
{
    if (p->act)
        for (uint64_t i = 0; i < count; i++)
            dx[i] *= FN(act_grad)(p->act, (real)p->alpha, x[i]);
}

/* ---- data ---- */

/* data:u8[N,in] perm:u32[N] -> x:[n,in] */
static void FN(gather)(P *p, PUSH *push, void *const *t)
{
    const uint8_t *data = t[0];
    const uint32_t *perm = t[1];
    real *x = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const uint8_t *row = r < valid ? data + (uint64_t)perm[push->base + r] * p->in : NULL;
        for (uint32_t j = 0; j < p->in; j++) {
            real scale = p->mode == 2 ? (real)(p->classes - 1) : (real)255;
            real v = row ? (real)row[j] / scale : (real)0;
            if (row && p->mode == 1) {
                float u = vkvae_rand_uniform(push->seed, p->stream, push->step,
                                               (push->row0 + r) * p->in + j);
                v = (real)u < v ? (real)1 : (real)0;
            }
            x[(uint64_t)r * p->in + j] = v;
        }
    }
}

/* labels:u8[N] perm:u32[N] -> y:[n,out] */
static void FN(gather_onehot)(P *p, PUSH *push, void *const *t)
{
    const uint8_t *labels = t[0];
    const uint32_t *perm = t[1];
    real *y = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        uint32_t label = r < valid ? labels[perm[push->base + r]] : UINT32_MAX;
        for (uint32_t c = 0; c < p->out; c++)
            y[(uint64_t)r * p->out + c] = c == label ? (real)1 : (real)0;
    }
}

/* x:[n,in] -> y:[n,in]; y = x * (u >= alpha) */
static void FN(corrupt_mask)(P *p, PUSH *push, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    uint32_t count = p->n * p->in;
    for (uint32_t i = 0; i < count; i++) {
        float u = vkvae_rand_uniform(push->seed, p->stream, push->step, i + push->row0 * p->in);
        y[i] = u >= p->alpha ? x[i] : (real)0;
    }
}

/* x:[n,in] -> y:[n,in]; y = x + alpha*e */
static void FN(corrupt_gauss)(P *p, PUSH *push, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    uint32_t count = p->n * p->in;
    for (uint32_t i = 0; i < count; i++)
        y[i] = x[i] + (real)p->alpha *
                      RAND_NORMAL(push->seed, p->stream, push->step, i + push->row0 * p->in);
}

/* ---- layers ---- */

/* x:[n,in] w:[out,in] b:[out] -> y:[n,out]; y = act(x w^T + b) */
static void FN(dense)(P *p, void *const *t)
{
    const real *x = t[0], *w = t[1], *b = t[2];
    real *y = t[3];
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t o = 0; o < p->out; o++) {
            real acc = b[o];
            for (uint32_t i = 0; i < p->in; i++)
                acc += x[(uint64_t)r * p->in + i] * w[(uint64_t)o * p->in + i];
            y[(uint64_t)r * p->out + o] = FN(act)(p->act, (real)p->alpha, acc);
        }
}

/* dy:[n,out] dy2:[n,in2] w:[out+in2,in] x:[n,in] -> dx:[n,in]; dx = (dy w[0:out] +
 * dy2 w[out:]) * act'(x); dy2 unread when in2 = 0 */
static void FN(dense_pair_bwd_x)(P *p, void *const *t)
{
    const real *dy = t[0], *dy2 = t[1], *w = t[2], *x = t[3];
    const real *w2 = w + (uint64_t)p->out * p->in;
    real *dx = t[4];
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t i = 0; i < p->in; i++) {
            real acc = 0;
            for (uint32_t o = 0; o < p->out; o++)
                acc += dy[(uint64_t)r * p->out + o] * w[(uint64_t)o * p->in + i];
            for (uint32_t o = 0; o < p->in2; o++)
                acc += dy2[(uint64_t)r * p->in2 + o] * w2[(uint64_t)o * p->in + i];
            dx[(uint64_t)r * p->in + i] = acc;
        }
    FN(times_act_grad)(p, dx, x, (uint64_t)p->n * p->in);
}

/* dy:[n,out] w:[out,in] x:[n,in] -> dx:[n,in]; dx = (dy w) * act'(x): the
 * pair's input gradient with no second layer */
static void FN(dense_bwd_x)(P *p, void *const *t)
{
    vkvae_op_params q = *p;
    q.in2 = 0;
    FN(dense_pair_bwd_x)(&q, (void *const[]){ t[0], NULL, t[1], t[2], t[3] });
}

/* dy:[n,out] x:[n,in] -> dw:[out,in] db:[out] */
static void FN(dense_bwd_w)(P *p, void *const *t)
{
    const real *dy = t[0], *x = t[1];
    real *dw = t[2], *db = t[3];
    for (uint32_t o = 0; o < p->out; o++) {
        for (uint32_t i = 0; i < p->in; i++) {
            real acc = 0;
            for (uint32_t r = 0; r < p->n; r++)
                acc += dy[(uint64_t)r * p->out + o] * x[(uint64_t)r * p->in + i];
            dw[(uint64_t)o * p->in + i] = acc;
        }
        real acc = 0;
        for (uint32_t r = 0; r < p->n; r++)
            acc += dy[(uint64_t)r * p->out + o];
        db[o] = acc;
    }
}

/* dense_pair and dense_pair_bwd_w are the single ops on each layer's share
 * of the stacked weights: rows [0, out) of w (or dw) belong to the first
 * layer, the next in2 rows to the second (dense_pair_bwd_x, above, sums
 * both layers' products). */
static vkvae_op_params FN(second_layer)(P *p)
{
    vkvae_op_params q = *p;
    q.out = p->in2;
    return q;
}

/* x:[n,in] w:[out+in2,in] b:[out] b2:[in2] -> y:[n,out] y2:[n,in2] */
static void FN(dense_pair)(P *p, void *const *t)
{
    vkvae_op_params q = FN(second_layer)(p);
    real *w2 = (real *)t[1] + (uint64_t)p->out * p->in;
    FN(dense)(p, (void *const[]){ t[0], t[1], t[2], t[4] });
    FN(dense)(&q, (void *const[]){ t[0], w2, t[3], t[5] });
}

/* dy:[n,out] dy2:[n,in2] x:[n,in] -> dw:[out+in2,in] db:[out] db2:[in2] */
static void FN(dense_pair_bwd_w)(P *p, void *const *t)
{
    vkvae_op_params q = FN(second_layer)(p);
    real *dw2 = (real *)t[3] + (uint64_t)p->out * p->in;
    FN(dense_bwd_w)(p, (void *const[]){ t[0], t[2], t[3], t[4] });
    FN(dense_bwd_w)(&q, (void *const[]){ t[1], t[2], dw2, t[5] });
}

/* dy:[n,in] y:[n,in] -> dx:[n,in]; dx = dy * act'(y) */
static void FN(act_bwd)(P *p, void *const *t)
{
    const real *dy = t[0], *y = t[1];
    real *dx = t[2];
    uint64_t count = (uint64_t)p->n * p->in;
    for (uint64_t i = 0; i < count; i++)
        dx[i] = dy[i] * FN(act_grad)(p->act, (real)p->alpha, y[i]);
}

/* Index helpers for [n,c,h,w] tensors and [a,b,k,k] kernels. */
#define AT4(c, h, w, i0, i1, i2, i3) \
    ((((uint64_t)(i0) * (c) + (i1)) * (h) + (uint64_t)(i2)) * (w) + (uint64_t)(i3))

/* x:[n,c_in,h_in,w_in] w:[c_out,c_in,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out] */
static void FN(conv2d)(P *p, void *const *t)
{
    const real *x = t[0], *w = t[1], *b = t[2];
    real *y = t[3];
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t co = 0; co < p->c_out; co++)
            for (uint32_t oy = 0; oy < p->h_out; oy++)
                for (uint32_t ox = 0; ox < p->w_out; ox++) {
                    real acc = b[co];
                    for (uint32_t ci = 0; ci < p->c_in; ci++)
                        for (uint32_t ky = 0; ky < p->k; ky++)
                            for (uint32_t kx = 0; kx < p->k; kx++) {
                                int64_t iy = (int64_t)oy * p->stride - p->pad + ky;
                                int64_t ix = (int64_t)ox * p->stride - p->pad + kx;
                                if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in)
                                    continue;
                                acc += x[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)] *
                                       w[AT4(p->c_in, p->k, p->k, co, ci, ky, kx)];
                            }
                    y[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)] =
                        FN(act)(p->act, (real)p->alpha, acc);
                }
}

/* dy:[n,c_out,h_out,w_out] w:[c_out,c_in,k,k] x:[n,c_in,h_in,w_in] ->
 * dx:[n,c_in,h_in,w_in]: every product of the forward pass, scattered back
 * to its input, then times act'(x) */
static void FN(conv2d_bwd_x)(P *p, void *const *t)
{
    const real *dy = t[0], *w = t[1], *x = t[2];
    real *dx = t[3];
    uint64_t count = (uint64_t)p->n * p->c_in * p->h_in * p->w_in;
    for (uint64_t i = 0; i < count; i++)
        dx[i] = 0;
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t co = 0; co < p->c_out; co++)
            for (uint32_t oy = 0; oy < p->h_out; oy++)
                for (uint32_t ox = 0; ox < p->w_out; ox++) {
                    real g = dy[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)];
                    for (uint32_t ci = 0; ci < p->c_in; ci++)
                        for (uint32_t ky = 0; ky < p->k; ky++)
                            for (uint32_t kx = 0; kx < p->k; kx++) {
                                int64_t iy = (int64_t)oy * p->stride - p->pad + ky;
                                int64_t ix = (int64_t)ox * p->stride - p->pad + kx;
                                if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in)
                                    continue;
                                dx[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)] +=
                                    g * w[AT4(p->c_in, p->k, p->k, co, ci, ky, kx)];
                            }
                }
    FN(times_act_grad)(p, dx, x, count);
}

/* dy:[n,c_out,h_out,w_out] x:[n,c_in,h_in,w_in] -> dw:[c_out,c_in,k,k] db:[c_out] */
static void FN(conv2d_bwd_w)(P *p, void *const *t)
{
    const real *dy = t[0], *x = t[1];
    real *dw = t[2], *db = t[3];
    uint64_t wcount = (uint64_t)p->c_out * p->c_in * p->k * p->k;
    for (uint64_t i = 0; i < wcount; i++)
        dw[i] = 0;
    for (uint32_t co = 0; co < p->c_out; co++)
        db[co] = 0;
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t co = 0; co < p->c_out; co++)
            for (uint32_t oy = 0; oy < p->h_out; oy++)
                for (uint32_t ox = 0; ox < p->w_out; ox++) {
                    real g = dy[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)];
                    db[co] += g;
                    for (uint32_t ci = 0; ci < p->c_in; ci++)
                        for (uint32_t ky = 0; ky < p->k; ky++)
                            for (uint32_t kx = 0; kx < p->k; kx++) {
                                int64_t iy = (int64_t)oy * p->stride - p->pad + ky;
                                int64_t ix = (int64_t)ox * p->stride - p->pad + kx;
                                if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in)
                                    continue;
                                dw[AT4(p->c_in, p->k, p->k, co, ci, ky, kx)] +=
                                    g * x[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)];
                            }
                }
}

/* x:[n,c_in,h_in,w_in] w:[c_in,c_out,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out]:
 * input pixel (iy, ix) adds x*w to output (iy*stride - pad + ky, ...). */
static void FN(convt2d)(P *p, void *const *t)
{
    const real *x = t[0], *w = t[1], *b = t[2];
    real *y = t[3];
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t co = 0; co < p->c_out; co++)
            for (uint32_t oy = 0; oy < p->h_out; oy++)
                for (uint32_t ox = 0; ox < p->w_out; ox++)
                    y[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)] = b[co];
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t ci = 0; ci < p->c_in; ci++)
            for (uint32_t iy = 0; iy < p->h_in; iy++)
                for (uint32_t ix = 0; ix < p->w_in; ix++) {
                    real v = x[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)];
                    for (uint32_t co = 0; co < p->c_out; co++)
                        for (uint32_t ky = 0; ky < p->k; ky++)
                            for (uint32_t kx = 0; kx < p->k; kx++) {
                                int64_t oy = (int64_t)iy * p->stride - p->pad + ky;
                                int64_t ox = (int64_t)ix * p->stride - p->pad + kx;
                                if (oy < 0 || oy >= p->h_out || ox < 0 || ox >= p->w_out)
                                    continue;
                                y[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)] +=
                                    v * w[AT4(p->c_out, p->k, p->k, ci, co, ky, kx)];
                            }
                }
    if (p->act != VKVAE_ACT_NONE) {
        uint64_t count = (uint64_t)p->n * p->c_out * p->h_out * p->w_out;
        for (uint64_t i = 0; i < count; i++)
            y[i] = FN(act)(p->act, (real)p->alpha, y[i]);
    }
}

/* dy:[n,c_out,h_out,w_out] w:[c_in,c_out,k,k] x:[n,c_in,h_in,w_in] ->
 * dx:[n,c_in,h_in,w_in], times act'(x) */
static void FN(convt2d_bwd_x)(P *p, void *const *t)
{
    const real *dy = t[0], *w = t[1], *x = t[2];
    real *dx = t[3];
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t ci = 0; ci < p->c_in; ci++)
            for (uint32_t iy = 0; iy < p->h_in; iy++)
                for (uint32_t ix = 0; ix < p->w_in; ix++) {
                    real acc = 0;
                    for (uint32_t co = 0; co < p->c_out; co++)
                        for (uint32_t ky = 0; ky < p->k; ky++)
                            for (uint32_t kx = 0; kx < p->k; kx++) {
                                int64_t oy = (int64_t)iy * p->stride - p->pad + ky;
                                int64_t ox = (int64_t)ix * p->stride - p->pad + kx;
                                if (oy < 0 || oy >= p->h_out || ox < 0 || ox >= p->w_out)
                                    continue;
                                acc += dy[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)] *
                                       w[AT4(p->c_out, p->k, p->k, ci, co, ky, kx)];
                            }
                    dx[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)] = acc;
                }
    FN(times_act_grad)(p, dx, x, (uint64_t)p->n * p->c_in * p->h_in * p->w_in);
}

/* dy:[n,c_out,h_out,w_out] x:[n,c_in,h_in,w_in] -> dw:[c_in,c_out,k,k] db:[c_out] */
static void FN(convt2d_bwd_w)(P *p, void *const *t)
{
    const real *dy = t[0], *x = t[1];
    real *dw = t[2], *db = t[3];
    for (uint32_t ci = 0; ci < p->c_in; ci++)
        for (uint32_t co = 0; co < p->c_out; co++)
            for (uint32_t ky = 0; ky < p->k; ky++)
                for (uint32_t kx = 0; kx < p->k; kx++) {
                    real acc = 0;
                    for (uint32_t s = 0; s < p->n; s++)
                        for (uint32_t iy = 0; iy < p->h_in; iy++)
                            for (uint32_t ix = 0; ix < p->w_in; ix++) {
                                int64_t oy = (int64_t)iy * p->stride - p->pad + ky;
                                int64_t ox = (int64_t)ix * p->stride - p->pad + kx;
                                if (oy < 0 || oy >= p->h_out || ox < 0 || ox >= p->w_out)
                                    continue;
                                acc += x[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)] *
                                       dy[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)];
                            }
                    dw[AT4(p->c_out, p->k, p->k, ci, co, ky, kx)] = acc;
                }
    for (uint32_t co = 0; co < p->c_out; co++) {
        real acc = 0;
        for (uint32_t s = 0; s < p->n; s++)
            for (uint32_t oy = 0; oy < p->h_out; oy++)
                for (uint32_t ox = 0; ox < p->w_out; ox++)
                    acc += dy[AT4(p->c_out, p->h_out, p->w_out, s, co, oy, ox)];
        db[co] = acc;
    }
}

/* a:[n,in] b:[n,in] -> y:[n,in] = a + b */
static void FN(add)(P *p, void *const *t)
{
    const real *a = t[0], *b = t[1];
    real *y = t[2];
    for (uint64_t i = 0; i < (uint64_t)p->n * p->in; i++)
        y[i] = FN(act)(p->act, (real)p->alpha, a[i] + b[i]);
}

/* w:[c_out,c_in,k,k] in place: PixelCNN's mask A (mode 0) or B (mode 1) */
static void FN(conv_mask)(P *p, void *const *t)
{
    real *w = t[0];
    uint32_t c = p->k / 2;
    for (uint64_t i = 0; i < (uint64_t)p->c_out * p->c_in * p->k * p->k; i++) {
        uint32_t tap = (uint32_t)(i % ((uint64_t)p->k * p->k)), ky = tap / p->k, kx = tap % p->k;
        int keep = ky < c || (ky == c && (p->mode == 0 ? kx < c : kx <= c));
        if (!keep)
            w[i] = 0;
    }
}

/* x:[n,2*in] -> y:[n,in]; y = tanh(first half) * sigmoid(second half) */
static void FN(gate)(P *p, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    for (uint64_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            const real *a = x + r * 2 * p->in + j;
            y[r * p->in + j] = (real)tanh(a[0]) * FN(sigmoid)(a[p->in]);
        }
}

/* x:[n,in] -> y:[n,classes,in], a value's level (nll_categorical's) one-hot */
static void FN(onehot)(P *p, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    uint32_t L = p->classes;
    for (uint64_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            real v = floor(x[r * p->in + j] * (real)L);
            uint32_t k = v < 0 ? 0 : v > (real)(L - 1) ? L - 1 : (uint32_t)v;
            for (uint32_t c = 0; c < L; c++)
                y[(r * L + c) * p->in + j] = c == k ? (real)1 : (real)0;
        }
}

/* dy:[n,in] x:[n,2*in] -> dx:[n,2*in] */
static void FN(gate_bwd)(P *p, void *const *t)
{
    const real *dy = t[0], *x = t[1];
    real *dx = t[2];
    for (uint64_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint64_t a = r * 2 * p->in + j;
            real th = (real)tanh(x[a]), s = FN(sigmoid)(x[a + p->in]), g = dy[r * p->in + j];
            dx[a] = g * (1 - th * th) * s;
            dx[a + p->in] = g * th * s * (1 - s);
        }
}

/* The mean of image s's channels at (iy, ix), 0 outside the image (sobel's
 * zero padding). */
static real FN(sobel_grey)(P *p, const real *x, uint32_t s, int64_t iy, int64_t ix)
{
    if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in)
        return 0;
    real sum = 0;
    for (uint32_t ci = 0; ci < p->c_in; ci++)
        sum += x[AT4(p->c_in, p->h_in, p->w_in, s, ci, iy, ix)];
    return sum / (real)p->c_in;
}

/* x:[n,c_in,h_in,w_in] -> y:[n,1,h_in,w_in]; the Sobel gradient magnitude of
 * the channels' mean (mode 0), or where it passes alpha (mode 1) */
static void FN(sobel)(P *p, PUSH *push, void *const *t)
{
    static const int kx[3][3] = { { -1, 0, 1 }, { -2, 0, 2 }, { -1, 0, 1 } };
    const real *x = t[0];
    real *y = t[1];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t s = 0; s < p->n; s++)
        for (uint32_t oy = 0; oy < p->h_in; oy++)
            for (uint32_t ox = 0; ox < p->w_in; ox++) {
                real gx = 0, gy = 0;
                for (int di = -1; di <= 1; di++)
                    for (int dj = -1; dj <= 1; dj++) {
                        real g = FN(sobel_grey)(p, x, s, (int64_t)oy + di, (int64_t)ox + dj);
                        gx += (real)kx[di + 1][dj + 1] * g;
                        gy += (real)kx[dj + 1][di + 1] * g; /* the transpose */
                    }
                real m = sqrt(gx * gx + gy * gy);
                real v = p->mode == 1 ? (m > (real)p->alpha ? (real)1 : (real)0) : m;
                y[AT4(1, p->h_in, p->w_in, s, 0, oy, ox)] = s < valid ? v : (real)0;
            }
}

/* a:[n,in] b:[n,in2] -> y:[n,in+in2] */
static void FN(concat)(P *p, void *const *t)
{
    const real *a = t[0], *b = t[1];
    real *y = t[2];
    uint32_t width = p->in + p->in2;
    for (uint32_t r = 0; r < p->n; r++) {
        for (uint32_t j = 0; j < p->in; j++)
            y[(uint64_t)r * width + j] = a[(uint64_t)r * p->in + j];
        for (uint32_t j = 0; j < p->in2; j++)
            y[(uint64_t)r * width + p->in + j] = b[(uint64_t)r * p->in2 + j];
    }
}

/* dy:[n,out] -> da:[n,in]; da = dy[:, 0:in] */
static void FN(slice_bwd)(P *p, void *const *t)
{
    const real *dy = t[0];
    real *da = t[1];
    uint32_t first = p->mode == 1 ? p->out - p->in : 0; /* concat's second input */
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++)
            da[(uint64_t)r * p->in + j] = dy[(uint64_t)r * p->out + first + j];
}

/* ---- latent ---- */

static uint32_t FN(samples)(P *p)
{
    return p->samples ? p->samples : 1;
}

/* mu:[n,in] lv:[n,in] -> z:[n*S,in] eps:[n*S,in]; eps drawn at z's index */
static void FN(reparam)(P *p, PUSH *push, void *const *t)
{
    const real *mu = t[0], *lv = t[1];
    real *z = t[2], *eps = t[3];
    uint32_t S = FN(samples)(p);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t s = 0; s < S; s++)
            for (uint32_t j = 0; j < p->in; j++) {
                uint32_t i = (r * S + s) * p->in + j;
                real e = RAND_NORMAL(push->seed, p->stream, push->step, i + push->row0 * S * p->in);
                eps[i] = e;
                z[i] = mu[r * p->in + j] + exp(lv[r * p->in + j] / (real)2) * e;
            }
}

/* dz:[n*S,in] eps:[n*S,in] lv:[n,in] -> dmu:[n,in] dlv:[n,in] */
static void FN(reparam_bwd)(P *p, void *const *t)
{
    const real *dz = t[0], *eps = t[1], *lv = t[2];
    real *dmu = t[3], *dlv = t[4];
    uint32_t S = FN(samples)(p);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            real half_sigma = exp(lv[r * p->in + j] / (real)2) / (real)2;
            real gm = 0, gl = 0;
            for (uint32_t s = 0; s < S; s++) {
                uint32_t i = (r * S + s) * p->in + j;
                gm += dz[i];
                gl += dz[i] * eps[i] * half_sigma;
            }
            dmu[r * p->in + j] = gm;
            dlv[r * p->in + j] = gl;
        }
}

/* -> z:[n,in] */
static void FN(prior)(P *p, PUSH *push, void *const *t)
{
    real *z = t[0];
    uint32_t count = p->n * p->in;
    for (uint32_t i = 0; i < count; i++)
        z[i] = RAND_NORMAL(push->seed, p->stream, push->step, i + push->row0 * p->in);
}

/* ---- likelihoods and losses ---- */

/* Free bits (alpha > 0): whether dimension j's KL, summed over the valid
 * rows, is under alpha nats a row (then it counts alpha and passes no
 * gradient); the rows in order, as shaders/ops/kl_free_bits.glsl sums. */
static int FN(kl_dim_free)(const P *p, const real *mu, const real *lv, uint32_t rows, uint32_t j)
{
    if (!(p->alpha > 0))
        return 0;
    real col = 0;
    for (uint32_t r = 0; r < rows; r++) {
        real m = mu[r * p->in + j], l = lv[r * p->in + j];
        col += (m * m + exp(l) - (real)1 - l) / (real)2;
    }
    return col < (real)p->alpha * (real)rows;
}

/* mu:[n,in] lv:[n,in] -> kl:[n]; alpha > 0: free bits. A dimension at a
 * time, so each column is summed once; a row's terms still add in order. */
static void FN(kl_gauss)(P *p, PUSH *push, void *const *t)
{
    const real *mu = t[0], *lv = t[1];
    real *kl = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++)
        kl[r] = 0;
    for (uint32_t j = 0; j < p->in; j++) {
        int free_dim = FN(kl_dim_free)(p, mu, lv, valid, j);
        for (uint32_t r = 0; r < valid; r++) {
            real m = mu[r * p->in + j], l = lv[r * p->in + j];
            kl[r] += free_dim ? 2 * (real)p->alpha : m * m + exp(l) - (real)1 - l;
        }
    }
    for (uint32_t r = 0; r < p->n; r++)
        kl[r] /= (real)2;
}

/* mu lv -> dmu += g*mu, dlv += g*(exp(lv)-1)/2, g = kl_weight*grad_scale
 * (mode 0, the valid rows); mode 1 writes them with g = grad_scale, 0 in
 * padding rows; alpha > 0: g = 0 in a free dimension (free bits) */
static void FN(kl_gauss_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *mu = t[0], *lv = t[1];
    real *dmu = t[2], *dlv = t[3];
    real g = (p->mode == 1 ? (real)1 : (real)push->kl_weight) * (real)push->grad_scale;
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t j = 0; j < p->in; j++) {
        real gj = FN(kl_dim_free)(p, mu, lv, valid, j) ? 0 : g;
        for (uint32_t r = 0; r < valid; r++) {
            uint64_t i = (uint64_t)r * p->in + j;
            real gm = gj * mu[i], gl = gj * (exp(lv[i]) - (real)1) / (real)2;
            dmu[i] = p->mode == 1 ? gm : dmu[i] + gm;
            dlv[i] = p->mode == 1 ? gl : dlv[i] + gl;
        }
    }
    for (uint64_t i = (uint64_t)valid * p->in; p->mode == 1 && i < (uint64_t)p->n * p->in; i++)
        dmu[i] = dlv[i] = 0;
}

/* mu lv mp lp -> kl:[n], KL(N(mu, e^lv) || N(mp, e^lp)) a row */
static void FN(kl_gauss2)(P *p, PUSH *push, void *const *t)
{
    const real *mu = t[0], *lv = t[1], *mp = t[2], *lp = t[3];
    real *kl = t[4];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++) {
            uint64_t i = (uint64_t)r * p->in + j;
            real d = mu[i] - mp[i];
            acc += lp[i] - lv[i] + (exp(lv[i]) + d * d) * exp(-lp[i]) - (real)1;
        }
        kl[r] = acc / (real)2;
    }
}

/* mu lv mp lp -> dmu dlv dmp dlp (written; 0 in padding rows) */
static void FN(kl_gauss2_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *mu = t[0], *lv = t[1], *mp = t[2], *lp = t[3];
    real *dmu = t[4], *dlv = t[5], *dmp = t[6], *dlp = t[7];
    uint64_t valid = (uint64_t)FN(valid_rows)(p, push) * p->in;
    for (uint64_t i = 0; i < (uint64_t)p->n * p->in; i++) {
        real g = i < valid ? (real)push->grad_scale : (real)0;
        real d = mu[i] - mp[i], ip = exp(-lp[i]), r = exp(lv[i] - lp[i]);
        dmu[i] = g * d * ip;
        dlv[i] = g * (r - (real)1) / (real)2;
        dmp[i] = -g * d * ip;
        dlp[i] = g * ((real)1 - r - d * d * ip) / (real)2;
    }
}

/* logits:[n,in] x:[n,in] -> nll:[n] */
static void FN(nll_bernoulli)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *nll = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++) {
            real v = l[r * p->in + j];
            acc += fmax(v, (real)0) - v * x[r * p->in + j] + log1p(exp(-fabs(v)));
        }
        nll[r] = acc;
    }
}

/* The class of a target value x in [0, 1]: its level of `classes`. */
static uint32_t FN(level)(real x, uint32_t classes)
{
    real k = floor(x * (real)classes);
    return k < 0 ? 0 : k >= (real)classes ? classes - 1 : (uint32_t)k;
}

/* logits:[n,classes,in] x:[n,in] -> nll:[n]; -log softmax at each value's class */
static void FN(nll_categorical)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *nll = t[2];
    uint32_t valid = FN(valid_rows)(p, push), L = p->classes;
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++) {
            const real *lr = l + (uint64_t)r * L * p->in + j; /* class c at lr[c * in] */
            real m = lr[0], s = 0;
            for (uint32_t c = 1; c < L; c++)
                m = fmax(m, lr[(uint64_t)c * p->in]);
            for (uint32_t c = 0; c < L; c++)
                s += exp(lr[(uint64_t)c * p->in] - m);
            acc += m + log(s) - lr[(uint64_t)FN(level)(x[(uint64_t)r * p->in + j], L) * p->in];
        }
        nll[r] = acc;
    }
}

/* logits x -> dl:[n,classes,in] = grad_scale*(softmax - onehot(class)) */
static void FN(nll_categorical_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *dl = t[2];
    uint32_t valid = FN(valid_rows)(p, push), L = p->classes;
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint64_t at = (uint64_t)r * L * p->in + j;
            real m = l[at], s = 0;
            for (uint32_t c = 1; c < L; c++)
                m = fmax(m, l[at + (uint64_t)c * p->in]);
            for (uint32_t c = 0; c < L; c++)
                s += exp(l[at + (uint64_t)c * p->in] - m);
            uint32_t k = FN(level)(x[(uint64_t)r * p->in + j], L);
            for (uint32_t c = 0; c < L; c++) {
                real g = exp(l[at + (uint64_t)c * p->in] - m) / s - (c == k ? 1 : 0);
                dl[at + (uint64_t)c * p->in] = r < valid ? (real)push->grad_scale * g : 0;
            }
        }
}

/* logits x -> dl:[n,in] = grad_scale*(sigmoid(l) - x) */
static void FN(nll_bernoulli_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *dl = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint32_t i = r * p->in + j;
            dl[i] = r < valid ? (real)push->grad_scale * (FN(sigmoid)(l[i]) - x[i]) : (real)0;
        }
}

/* The fused loss ops (gen/fuse.c) are the single ops in turn; the KL
 * term is over the n examples, whatever reparam's samples, and added to
 * reparam_bwd's gradient (kl_gauss_bwd's mode 0), whatever reparam's mode,
 * without free bits (a KL with them is never fused; alpha is reparam's). */
static vkvae_op_params FN(per_example)(P *p)
{
    vkvae_op_params q = *p;
    q.samples = 0;
    q.mode = 0;
    q.alpha = 0;
    return q;
}

/* mu lv -> z eps kl */
static void FN(reparam_kl)(P *p, PUSH *push, void *const *t)
{
    vkvae_op_params q = FN(per_example)(p);
    FN(reparam)(p, push, t);
    FN(kl_gauss)(&q, push, (void *const[]){ t[0], t[1], t[4] });
}

/* dz eps mu lv -> dmu dlv */
static void FN(reparam_kl_bwd)(P *p, PUSH *push, void *const *t)
{
    vkvae_op_params q = FN(per_example)(p);
    FN(reparam_bwd)(p, (void *const[]){ t[0], t[1], t[3], t[4], t[5] });
    FN(kl_gauss_bwd)(&q, push, (void *const[]){ t[2], t[3], t[4], t[5] });
}

/* logits x -> nll dl */
static void FN(nll_bernoulli_grad)(P *p, PUSH *push, void *const *t)
{
    FN(nll_bernoulli)(p, push, t);
    FN(nll_bernoulli_bwd)(p, push, (void *const[]){ t[0], t[1], t[3] });
}

/* The log-variance of element (r, j): the step's constant alpha (mode 0, a
 * fixed variance: lv is not read), one per output or one per element of lv
 * (mode 1, 2). */
static real FN(lv_at)(P *p, const real *lv, uint32_t r, uint32_t j)
{
    return p->mode == 0 ? (real)p->alpha : lv[p->mode == 1 ? j : r * p->in + j];
}

/* mean:[n,in] lv x:[n,in] -> nll:[n] */
static void FN(nll_gauss)(P *p, PUSH *push, void *const *t)
{
    const real *mean = t[0], *lv = t[1], *x = t[2];
    real *nll = t[3];
    const real log_2pi = log((real)2 * (real)3.14159265358979323846);
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++) {
            real l = FN(lv_at)(p, lv, r, j), d = x[r * p->in + j] - mean[r * p->in + j];
            acc += log_2pi + l + d * d * exp(-l);
        }
        nll[r] = acc / (real)2;
    }
}

/* mean lv x -> dmean:[n,in] dlv:(shape of lv), both times grad_scale */
static void FN(nll_gauss_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *mean = t[0], *lv = t[1], *x = t[2];
    real *dmean = t[3], *dlv = t[4];
    real gs = (real)push->grad_scale;
    uint32_t valid = FN(valid_rows)(p, push);
    if (p->mode == 1)
        for (uint32_t j = 0; j < p->in; j++)
            dlv[j] = 0;
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint32_t i = r * p->in + j;
            real l = FN(lv_at)(p, lv, r, j), d = x[i] - mean[i];
            real gm = 0, gl = 0;
            if (r < valid) {
                gm = -gs * d * exp(-l);
                gl = gs * ((real)1 - d * d * exp(-l)) / (real)2;
            }
            dmean[i] = gm;
            if (p->mode == 1)
                dlv[j] += gl;
            else if (p->mode == 2)
                dlv[i] = gl;
        }
}

/* y:[n,in] x:[n,in] -> loss:[n] = sum((y-x)^2) */
static void FN(l2)(P *p, PUSH *push, void *const *t)
{
    const real *y = t[0], *x = t[1];
    real *loss = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++) {
            real d = y[r * p->in + j] - x[r * p->in + j];
            acc += d * d;
        }
        loss[r] = acc;
    }
}

/* y x -> dy:[n,in] = grad_scale*2*(y-x) */
static void FN(l2_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *y = t[0], *x = t[1];
    real *dy = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint32_t i = r * p->in + j;
            dy[i] = r < valid ? (real)push->grad_scale * (real)2 * (y[i] - x[i]) : (real)0;
        }
}

/* ---- a codebook latent (VQ-VAE) ---- */

/* z:[n,c_in,in] e:[classes,c_in] -> zq idx: each position's nearest code
 * (the lowest index of equal squared distances) */
static void FN(vq_nearest)(P *p, PUSH *push, void *const *t)
{
    (void)push;
    const real *z = t[0], *e = t[1];
    real *zq = t[2], *idx = t[3];
    uint64_t D = p->c_in, in = p->in;
    for (uint64_t r = 0; r < p->n; r++)
        for (uint64_t j = 0; j < in; j++) {
            const real *zr = z + r * D * in + j; /* channel c at zr[c * in] */
            uint32_t best = 0;
            real best_d = 0;
            for (uint32_t k = 0; k < p->classes; k++) {
                real d = 0;
                for (uint64_t c = 0; c < D; c++) {
                    real v = zr[c * in] - e[k * D + c];
                    d += v * v;
                }
                if (k == 0 || d < best_d)
                    best = k, best_d = d;
            }
            for (uint64_t c = 0; c < D; c++)
                zq[r * D * in + c * in + j] = e[best * D + c];
            idx[r * in + j] = (real)best;
        }
}

/* z zq -> loss:[n] = (1 + alpha) * sum((z - zq)^2), or alpha * it (mode 1) */
static void FN(vq_loss)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *zq = t[1];
    real *loss = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint64_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint64_t j = 0; r < valid && j < p->in; j++) {
            real d = z[r * p->in + j] - zq[r * p->in + j];
            acc += d * d;
        }
        loss[r] = (p->mode == 1 ? (real)p->alpha : (real)1 + (real)p->alpha) * acc;
    }
}

/* z zq -> dz:[n,in] = grad_scale*2*alpha*(z - zq), the commitment's */
static void FN(vq_loss_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *zq = t[1];
    real *dz = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint64_t i = 0; i < (uint64_t)p->n * p->in; i++)
        dz[i] = i / p->in < valid
                    ? (real)push->grad_scale * (real)2 * (real)p->alpha * (z[i] - zq[i]) : (real)0;
}

/* z:[n,c_in,in] idx:[n,in] e:[classes,c_in] -> de:[classes,c_in], the
 * codebook loss's: grad_scale * sum of 2*(e[k] - z[r,:,p]) where idx = k */
static void FN(vq_codebook_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *idx = t[1], *e = t[2];
    real *de = t[3];
    uint64_t D = p->c_in, in = p->in;
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint64_t k = 0; k < p->classes; k++)
        for (uint64_t c = 0; c < D; c++) {
            real acc = 0;
            for (uint64_t r = 0; r < valid; r++)
                for (uint64_t j = 0; j < in; j++)
                    if ((uint64_t)idx[r * in + j] == k)
                        acc += (real)2 * (e[k * D + c] - z[(r * D + c) * in + j]);
            de[k * D + c] = (real)push->grad_scale * acc;
        }
}

/* z idx -> count sum in place: the moving averages of each code's positions
 * and of their z (momentum = 1 - decay) */
static void FN(vq_ema)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *idx = t[1];
    real *count = t[2], *sum = t[3];
    uint64_t D = p->c_in, in = p->in, values = (uint64_t)FN(valid_rows)(p, push) * in;
    real m = (real)p->momentum;
    for (uint64_t k = 0; k < p->classes; k++)
        for (uint64_t d = 0; d <= D; d++) {
            real acc = 0;
            for (uint64_t j = 0; j < values; j++)
                if ((uint64_t)idx[j] == k)
                    acc += d == D ? (real)1 : z[((j / in) * D + d) * in + j % in];
            real *r = d == D ? &count[k] : &sum[k * D + d];
            *r = ((real)1 - m) * *r + m * acc;
        }
}

/* z idx -> e in place: a code no valid position chose takes the z of a
 * position drawn by its Philox word */
static void FN(vq_restart)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *idx = t[1];
    real *e = t[2];
    uint64_t D = p->c_in, in = p->in, positions = (uint64_t)FN(valid_rows)(p, push) * in;
    for (uint32_t k = 0; k < p->classes && positions > 0; k++) {
        uint64_t m = 0;
        for (uint64_t j = 0; j < positions; j++)
            m += (uint64_t)idx[j] == k;
        if (m > 0)
            continue;
        uint64_t j = ((uint64_t)vkvae_rand_u32(push->seed, p->stream, push->step, k) *
                      positions) >> 32;
        for (uint64_t d = 0; d < D; d++)
            e[k * D + d] = z[((j / in) * D + d) * in + j % in];
    }
}

/* count sum -> e: each code its sum over its Laplace-smoothed count */
static void FN(vq_ema_codes)(P *p, PUSH *push, void *const *t)
{
    (void)push;
    const real *count = t[0], *sum = t[1];
    real *e = t[2];
    real total = 0, eps = (real)p->eps;
    for (uint64_t k = 0; k < p->classes; k++)
        total += count[k];
    for (uint64_t k = 0; k < p->classes; k++)
        for (uint64_t d = 0; d < p->c_in; d++)
            e[k * p->c_in + d] = sum[k * p->c_in + d] /
                                 ((count[k] + eps) / (total + (real)p->classes * eps) * total);
}

/* idx:[n,in] -> count:[classes] += the valid positions that chose each code */
static void FN(vq_count)(P *p, PUSH *push, void *const *t)
{
    const real *idx = t[0];
    real *count = t[1];
    uint64_t values = (uint64_t)FN(valid_rows)(p, push) * p->in;
    for (uint64_t j = 0; j < values; j++) {
        uint64_t k = (uint64_t)idx[j];
        if (k < p->classes)
            count[k] += 1;
    }
}

/* recon:[n] kl:[n] -> acc:[4] += (sum recon, sum kl, sum recon + kl_weight*kl, rows) */
static void FN(loss_accum)(P *p, PUSH *push, void *const *t)
{
    const real *recon = t[0], *kl = t[1];
    real *acc = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    real s_recon = 0, s_kl = 0, s_total = 0;
    for (uint32_t r = 0; r < valid; r++) {
        s_recon += recon[r];
        s_kl += kl[r];
        s_total += recon[r] + (real)push->kl_weight * kl[r];
    }
    acc[0] += s_recon;
    acc[1] += s_kl;
    acc[2] += s_total;
    acc[3] += (real)valid;
}

/* ---- importance weighting (IWAE) ----
 * n counts examples here, k = samples their draws; sample row r*k + s. */

static uint32_t FN(valid_examples)(P *p, PUSH *push)
{
    return push->rows < p->n ? push->rows : p->n;
}

/* nll:[n*k] z:[n*k,in] eps:[n*k,in] lv:[n,in] -> logw:[n*k] */
static void FN(iwae_logw)(P *p, PUSH *push, void *const *t)
{
    const real *nll = t[0], *z = t[1], *eps = t[2], *lv = t[3];
    real *logw = t[4];
    uint32_t S = FN(samples)(p), valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t s = 0; s < S; s++) {
            uint64_t i = (uint64_t)r * S + s;
            real acc = 0;
            for (uint32_t j = 0; r < valid && j < p->in; j++) {
                real e = eps[i * p->in + j], zz = z[i * p->in + j];
                acc += lv[(uint64_t)r * p->in + j] + e * e - zz * zz;
            }
            logw[i] = r < valid ? acc / (real)2 - nll[i] : (real)0;
        }
}

/* The row's max and sum of exp(logw - max) over its k samples. */
static real FN(iwae_row_sum)(const real *logw, uint32_t S, real *max)
{
    real m = logw[0];
    for (uint32_t s = 1; s < S; s++)
        m = fmax(m, logw[s]);
    real sum = 0;
    for (uint32_t s = 0; s < S; s++)
        sum += exp(logw[s] - m);
    *max = m;
    return sum;
}

/* logw:[n*k] -> loss:[n] = -logmeanexp_s logw */
static void FN(iwae_lse)(P *p, PUSH *push, void *const *t)
{
    const real *logw = t[0];
    real *loss = t[1];
    uint32_t S = FN(samples)(p), valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real m, sum = r < valid ? FN(iwae_row_sum)(logw + (uint64_t)r * S, S, &m) : (real)0;
        loss[r] = r < valid ? -(m + log(sum) - log((real)S)) : (real)0;
    }
}

/* logw:[n*k] -> wt:[n*k], the softmax of each row's k samples */
static void FN(iwae_weights)(P *p, PUSH *push, void *const *t)
{
    const real *logw = t[0];
    real *wt = t[1];
    uint32_t S = FN(samples)(p), valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const real *row = logw + (uint64_t)r * S;
        real m = 0, sum = r < valid ? FN(iwae_row_sum)(row, S, &m) : (real)1;
        for (uint32_t s = 0; s < S; s++)
            wt[(uint64_t)r * S + s] = r < valid ? exp(row[s] - m) / sum : (real)0;
    }
}

/* z eps lv wt -> dmu += g*sum_s wt*z, dlv += g*sum_s wt*(z*eps*sigma/2 - 1/2) */
static void FN(iwae_logw_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *z = t[0], *eps = t[1], *lv = t[2], *wt = t[3];
    real *dmu = t[4], *dlv = t[5];
    uint32_t S = FN(samples)(p), valid = FN(valid_examples)(p, push);
    real g = (real)push->grad_scale;
    for (uint32_t r = 0; r < valid; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint64_t rj = (uint64_t)r * p->in + j;
            real half_sigma = exp(lv[rj] / (real)2) / (real)2;
            real gm = 0, gl = 0;
            for (uint32_t s = 0; s < S; s++) {
                uint64_t i = ((uint64_t)r * S + s) * p->in + j;
                real w = wt[(uint64_t)r * S + s];
                gm += w * z[i];
                gl += w * (z[i] * eps[i] * half_sigma - (real)0.5);
            }
            dmu[rj] += g * gm;
            dlv[rj] += g * gl;
        }
}

/* wt:[n] -> dy:[n,in] *= wt[r] */
static void FN(scale_rows)(P *p, void *const *t)
{
    const real *wt = t[0];
    real *dy = t[1];
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++)
            dy[(uint64_t)r * p->in + j] *= wt[r];
}

/* y:[n,in] *= alpha */
static void FN(scale)(P *p, void *const *t)
{
    real *y = t[0];
    for (uint64_t i = 0; i < (uint64_t)p->n * p->in; i++)
        y[i] *= (real)p->alpha;
}

/* x:[n,in] -> y:[n*S,in]; y[r*S+s] = x[r] */
static void FN(repeat_rows)(P *p, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    uint32_t S = FN(samples)(p);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t s = 0; s < S; s++)
            for (uint32_t j = 0; j < p->in; j++)
                y[((uint64_t)r * S + s) * p->in + j] = x[(uint64_t)r * p->in + j];
}

/* ---- semi-supervised learning (M2) ----
 * n counts examples, K = classes; class copy r*K + c is example r with
 * class c. A row has a label when some y > 0 (one-hot), none when y is all
 * zero. p = softmax(q[r,:]): log p_c = (q_c - m) - log(sum exp(q - m)), m
 * the row's largest, the difference first (as the kernels), so that large
 * logits keep a small log p_c's digits. */

static int FN(labelled)(const real *y, uint32_t K)
{
    for (uint32_t j = 0; j < K; j++)
        if (y[j] > 0)
            return 1;
    return 0;
}

/* m, the row's largest logit, and ls = log(sum exp(q - m)) as log1p of
 * the terms but the largest's 1 (as the kernels) */
static void FN(softmax_base)(const real *q, uint32_t K, real *m, real *ls)
{
    uint32_t best = 0;
    real rest = 0;
    for (uint32_t j = 1; j < K; j++)
        best = q[j] > q[best] ? j : best;
    for (uint32_t j = 0; j < K; j++)
        rest += j != best ? exp(q[j] - q[best]) : (real)0;
    *m = q[best], *ls = log1p(rest);
}

/* -> y:[n*K,K], the one-hot of each copy's class */
static void FN(class_rows)(P *p, void *const *t)
{
    real *y = t[0];
    uint64_t K = p->classes;
    for (uint64_t i = 0; i < p->n * K * K; i++)
        y[i] = (i / K) % K == i % K ? (real)1 : (real)0;
}

/* q:[n,K] y:[n,K] -> wt:[n*K]; y where the row has a label, else softmax(q) */
static void FN(label_weights)(P *p, PUSH *push, void *const *t)
{
    const real *q = t[0], *y = t[1];
    real *wt = t[2];
    uint32_t K = p->classes, valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const real *qr = q + (size_t)r * K, *yr = y + (size_t)r * K;
        int labelled = FN(labelled)(yr, K);
        real m, ls;
        FN(softmax_base)(qr, K, &m, &ls);
        for (uint32_t c = 0; c < K; c++)
            wt[(size_t)r * K + c] = r >= valid ? (real)0 : labelled ? yr[c] : exp((qr[c] - m) - ls);
    }
}

/* v:[n*K] wt:[n*K] -> s:[n] = sum_c wt*v over a row's copies */
static void FN(label_sum)(P *p, PUSH *push, void *const *t)
{
    const real *v = t[0], *wt = t[1];
    real *s = t[2];
    uint32_t K = p->classes, valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t c = 0; r < valid && c < K; c++)
            acc += wt[(size_t)r * K + c] * v[(size_t)r * K + c];
        s[r] = acc;
    }
}

/* v q y -> dq = g*p*(v - sum_j p_j v_j) for rows without a label, else 0 */
static void FN(label_sum_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *v = t[0], *q = t[1], *y = t[2];
    real *dq = t[3];
    uint32_t K = p->classes, valid = FN(valid_examples)(p, push);
    real g = (real)push->grad_scale;
    for (uint32_t r = 0; r < p->n; r++) {
        const real *qr = q + (size_t)r * K, *vr = v + (size_t)r * K;
        int zero = r >= valid || FN(labelled)(y + (size_t)r * K, K);
        real top, ls, m = 0;
        FN(softmax_base)(qr, K, &top, &ls);
        for (uint32_t j = 0; j < K; j++)
            m += exp((qr[j] - top) - ls) * vr[j];
        for (uint32_t c = 0; c < K; c++)
            dq[(size_t)r * K + c] = zero ? (real)0 : g * exp((qr[c] - top) - ls) * (vr[c] - m);
    }
}

/* sum_c p_c log p_c of a row of K logits, log p_c = (q_c - m) - ls */
static real FN(neg_entropy)(const real *q, uint32_t K, real m, real ls)
{
    real h = 0;
    for (uint32_t c = 0; c < K; c++)
        h += exp((q[c] - m) - ls) * ((q[c] - m) - ls);
    return h;
}

/* q:[n,K] y:[n,K] -> h:[n] = sum_c p_c log p_c for rows without a label */
static void FN(entropy)(P *p, PUSH *push, void *const *t)
{
    const real *q = t[0], *y = t[1];
    real *h = t[2];
    uint32_t K = p->classes, valid = FN(valid_examples)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const real *qr = q + (size_t)r * K;
        int zero = r >= valid || FN(labelled)(y + (size_t)r * K, K);
        real m, ls;
        FN(softmax_base)(qr, K, &m, &ls);
        h[r] = zero ? (real)0 : FN(neg_entropy)(qr, K, m, ls);
    }
}

/* q y -> dq = g*p*(log p - sum_j p_j log p_j) for rows without a label */
static void FN(entropy_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *q = t[0], *y = t[1];
    real *dq = t[2];
    uint32_t K = p->classes, valid = FN(valid_examples)(p, push);
    real g = (real)push->grad_scale;
    for (uint32_t r = 0; r < p->n; r++) {
        const real *qr = q + (size_t)r * K;
        int zero = r >= valid || FN(labelled)(y + (size_t)r * K, K);
        real m, ls;
        FN(softmax_base)(qr, K, &m, &ls);
        real h = FN(neg_entropy)(qr, K, m, ls);
        for (uint32_t c = 0; c < K; c++) {
            real lp = (qr[c] - m) - ls;
            dq[(size_t)r * K + c] = zero ? (real)0 : g * exp(lp) * (lp - h);
        }
    }
}

/* ---- optimizers ---- */

/* p g m v: torch.optim.Adam (mode 0) or AdamW (mode 1), step t = step+1, in
 * the order of PyTorch's _single_tensor_adam; the bias corrections are host
 * scalars there, so they are computed in double here. */
static void FN(adam)(P *p, PUSH *push, void *const *t)
{
    real *w = t[0], *m = t[2], *v = t[3];
    const real *g = t[1];
    double step = (double)push->step + 1.0;
    double bc1 = 1.0 - pow((double)p->beta1, step);
    double bc2 = 1.0 - pow((double)p->beta2, step);
    real step_size = (real)((double)p->lr / bc1);
    real bc2_sqrt = (real)sqrt(bc2);
    real b1 = (real)p->beta1, b2 = (real)p->beta2, wd = (real)p->weight_decay;
    real lr = (real)p->lr, eps = (real)p->eps;
    for (uint32_t i = 0; i < p->in; i++) {
        real grad = g[i];
        if (p->mode == 1)
            w[i] *= (real)1 - lr * wd;
        else if (wd != 0)
            grad += wd * w[i];
        m[i] += ((real)1 - b1) * (grad - m[i]);
        v[i] = v[i] * b2 + ((real)1 - b2) * grad * grad;
        real denom = sqrt(v[i]) / bc2_sqrt + eps;
        w[i] -= step_size * m[i] / denom;
    }
}

/* p g buf: torch.optim.SGD without dampening or Nesterov; buf starts at
 * zero, so momentum*buf + g is PyTorch's first step buf = g as well. */
static void FN(sgd)(P *p, void *const *t)
{
    real *w = t[0], *buf = t[2];
    const real *g = t[1];
    real lr = (real)p->lr, mom = (real)p->momentum, wd = (real)p->weight_decay;
    for (uint32_t i = 0; i < p->in; i++) {
        real d = g[i];
        if (wd != 0)
            d += wd * w[i];
        if (mom != 0) {
            buf[i] = mom * buf[i] + d;
            d = buf[i];
        }
        w[i] -= lr * d;
    }
}

/* ---- decoding ---- */

static void FN(sigmoid_op)(P *p, void *const *t)
{
    const real *l = t[0];
    real *y = t[1];
    uint32_t count = p->n * p->in;
    for (uint32_t i = 0; i < count; i++)
        y[i] = FN(sigmoid)(l[i]);
}

static void FN(sample_bernoulli)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0];
    real *y = t[1];
    uint32_t count = p->n * p->in;
    for (uint32_t i = 0; i < count; i++) {
        float u = vkvae_rand_uniform(push->seed, p->stream, push->step, i + push->row0 * p->in);
        y[i] = (real)u < FN(sigmoid)(l[i]) ? (real)1 : (real)0;
    }
}

/* A token drawn from logits l[0..L): the first whose cumulative
 * softmax(l / temperature) exceeds u (the last if none); temperature 0,
 * the first largest */
static uint32_t FN(sample_token)(const real *l, uint32_t L, real temperature, float u)
{
    uint32_t best = 0;
    for (uint32_t c = 1; c < L; c++)
        if (l[c] > l[best])
            best = c;
    if (temperature == 0)
        return best;
    real s = 0, cdf = 0;
    for (uint32_t c = 0; c < L; c++)
        s += exp((l[c] - l[best]) / temperature);
    uint32_t k = 0;
    for (; k + 1 < L; k++) {
        cdf += exp((l[k] - l[best]) / temperature) / s;
        if ((real)u < cdf)
            break;
    }
    return k;
}

/* l:[n,in] (mode 0), [n,classes,in] (1) or [n,in,classes] (2, tokens) ->
 * x:[n,in] in place: pass p = push.base of autoregressive sampling draws
 * pixel p - 1 and clears those from p on */
static void FN(sample_pixel)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0];
    real *x = t[1];
    uint32_t pass = push->base, L = p->classes;
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = pass ? pass - 1 : 0; j < p->in; j++) {
            uint32_t i = r * p->in + j;
            if (j + 1 != pass) {
                x[i] = 0;
                continue;
            }
            float u = vkvae_rand_uniform(push->seed, p->stream, push->step, i);
            if (p->mode == 0) {
                x[i] = (real)u < FN(sigmoid)(l[i]) ? (real)1 : (real)0;
                continue;
            }
            if (p->mode == 2) { /* a sequence's token: l:[n,in,classes] */
                uint32_t k = FN(sample_token)(l + (uint64_t)i * L, L, (real)push->temperature, u);
                x[i] = (real)k / (real)(L - 1);
                continue;
            }
            /* the first class whose cumulative probability exceeds u */
            const real *lr = l + (uint64_t)r * L * p->in + j;
            real m = lr[0], s = 0, cdf = 0;
            for (uint32_t c = 1; c < L; c++)
                m = fmax(m, lr[(uint64_t)c * p->in]);
            for (uint32_t c = 0; c < L; c++)
                s += exp(lr[(uint64_t)c * p->in] - m);
            uint32_t k = 0;
            for (; k + 1 < L; k++) {
                cdf += exp(lr[(uint64_t)k * p->in] - m) / s;
                if ((real)u < cdf)
                    break;
            }
            x[i] = (real)k / (real)(L - 1);
        }
}

/* logits:[n,in] -> loss:[n]; softplus(-l) (target 1, mode 1) or softplus(l) */
static void FN(bce_logits)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0];
    real *loss = t[1];
    uint32_t valid = FN(valid_rows)(p, push);
    real sign = p->mode == 1 ? (real)-1 : (real)1;
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t j = 0; r < valid && j < p->in; j++)
            acc += FN(act)(VKVAE_ACT_SOFTPLUS, 0, sign * l[r * p->in + j]);
        loss[r] = acc;
    }
}

/* logits -> dl = grad_scale*(sigmoid(l) - target) */
static void FN(bce_logits_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0];
    real *dl = t[1];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            uint32_t i = r * p->in + j;
            dl[i] = r < valid ? (real)push->grad_scale * (FN(sigmoid)(l[i]) - (real)p->mode)
                              : (real)0;
        }
}

/* logits:[n,in] y:[n,in] -> loss:[n] = logsumexp(l) - sum(y*l), err:[n];
 * 0 without a label */
static void FN(softmax_ce)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *y = t[1];
    real *loss = t[2], *err = t[3];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const real *lr = l + (size_t)r * p->in, *yr = y + (size_t)r * p->in;
        loss[r] = err[r] = 0;
        if (r >= valid || !FN(labelled)(yr, p->in))
            continue;
        uint32_t best = 0, truth = 0;
        for (uint32_t j = 1; j < p->in; j++) {
            if (lr[j] > lr[best])
                best = j;
            if (yr[j] > yr[truth])
                truth = j;
        }
        /* the differences first, and log1p of the rest, as the kernel
         * (large logits, a small loss) */
        real m = lr[best], rest = 0, dot = 0, ys = 0;
        for (uint32_t j = 0; j < p->in; j++) {
            rest += j != best ? exp(lr[j] - m) : (real)0;
            dot += yr[j] * (lr[j] - m);
            ys += yr[j];
        }
        loss[r] = log1p(rest) - dot + m * ((real)1 - ys);
        err[r] = yr[best] < yr[truth] ? (real)1 : (real)0;
    }
}

/* logits y -> dl = grad_scale*(softmax(l) - y); 0 without a label */
static void FN(softmax_ce_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *y = t[1];
    real *dl = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint32_t r = 0; r < p->n; r++) {
        const real *lr = l + (size_t)r * p->in, *yr = y + (size_t)r * p->in;
        real *dr = dl + (size_t)r * p->in;
        int labelled = FN(labelled)(yr, p->in);
        real m = lr[0], sum = 0;
        for (uint32_t j = 1; j < p->in; j++)
            m = fmax(m, lr[j]);
        for (uint32_t j = 0; j < p->in; j++)
            sum += exp(lr[j] - m);
        for (uint32_t j = 0; j < p->in; j++)
            dr[j] = r < valid && labelled ? (real)push->grad_scale * (exp(lr[j] - m) / sum - yr[j])
                                          : (real)0;
    }
}

/* Element s of channel c in row r of a batch-normalised tensor [n, c_in, in]. */
static size_t FN(bn_at)(P *p, uint32_t r, uint32_t c, uint32_t s)
{
    return ((size_t)r * p->c_in + c) * p->in + s;
}

/* x gamma beta -> y mean rstd rmean rvar (ops.def) */
static void FN(batchnorm)(P *p, PUSH *push, void *const *t)
{
    const real *x = t[0], *gamma = t[1], *beta = t[2];
    real *y = t[3], *mean = t[4], *rstd = t[5], *rmean = t[6], *rvar = t[7];
    uint32_t valid = FN(valid_rows)(p, push);
    uint64_t count = (uint64_t)valid * p->in;
    for (uint32_t c = 0; c < p->c_in; c++) {
        real mu = rmean[c], var = rvar[c];
        if (p->mode == 0) {
            real s = 0, q = 0;
            for (uint32_t r = 0; r < valid; r++)
                for (uint32_t j = 0; j < p->in; j++)
                    s += x[FN(bn_at)(p, r, c, j)];
            mu = s / (real)count;
            for (uint32_t r = 0; r < valid; r++)
                for (uint32_t j = 0; j < p->in; j++) {
                    real d = x[FN(bn_at)(p, r, c, j)] - mu;
                    q += d * d;
                }
            var = q / (real)count;
            real unbiased = count > 1 ? var * (real)count / (real)(count - 1) : var;
            real m = (real)p->momentum;
            rmean[c] = ((real)1 - m) * rmean[c] + m * mu;
            rvar[c] = ((real)1 - m) * rvar[c] + m * unbiased;
        }
        real rs = (real)1 / sqrt(var + (real)p->eps);
        mean[c] = mu;
        rstd[c] = rs;
        for (uint32_t r = 0; r < p->n; r++)
            for (uint32_t j = 0; j < p->in; j++) {
                size_t i = FN(bn_at)(p, r, c, j);
                y[i] = r < valid ? FN(act)(p->act, (real)p->alpha,
                                           gamma[c] * (x[i] - mu) * rs + beta[c])
                                 : (real)0;
            }
    }
}

/* dy x gamma mean rstd -> dx dgamma dbeta (ops.def) */
static void FN(batchnorm_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *dy = t[0], *x = t[1], *gamma = t[2], *mean = t[3], *rstd = t[4];
    real *dx = t[5], *dgamma = t[6], *dbeta = t[7];
    uint32_t valid = FN(valid_rows)(p, push);
    real count = (real)((uint64_t)valid * p->in);
    for (uint32_t c = 0; c < p->c_in; c++) {
        real db = 0, dg = 0;
        for (uint32_t r = 0; r < valid; r++)
            for (uint32_t j = 0; j < p->in; j++) {
                size_t i = FN(bn_at)(p, r, c, j);
                db += dy[i];
                dg += dy[i] * (x[i] - mean[c]) * rstd[c];
            }
        dgamma[c] = dg;
        dbeta[c] = db;
        for (uint32_t r = 0; r < p->n; r++)
            for (uint32_t j = 0; j < p->in; j++) {
                size_t i = FN(bn_at)(p, r, c, j);
                real xh = (x[i] - mean[c]) * rstd[c];
                dx[i] = r < valid ? gamma[c] * rstd[c] * (dy[i] - db / count - xh * dg / count)
                                  : (real)0;
            }
    }
}

/* ---- sequences (text) ----
 * A sequence of in steps is a row; a token is a level k/(classes-1), read
 * back by FN(level). */

/* The specials of every vocabulary (runtime/io/text.h) */
enum { TOKEN_PAD = 0, TOKEN_BOS = 1, TOKEN_UNK = 3 };

/* x:[n,in] -> y:[n,in]; <bos> then x one step later, words dropped to <unk> */
static void FN(shift_tokens)(P *p, PUSH *push, void *const *t)
{
    const real *x = t[0];
    real *y = t[1];
    uint32_t valid = FN(valid_rows)(p, push), L = p->classes;
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t s = 0; s < p->in; s++) {
            uint32_t i = r * p->in + s, k = TOKEN_BOS;
            if (s > 0) {
                k = FN(level)(x[i - 1], L);
                float u = vkvae_rand_uniform(push->seed, p->stream, push->step,
                                             i + push->row0 * p->in);
                if (k > TOKEN_UNK && u < p->alpha)
                    k = TOKEN_UNK;
            }
            y[i] = r < valid ? (real)k / (real)(L - 1) : (real)0;
        }
}

/* x:[n,in] w:[classes,out] -> y:[n,in,out]; y[r,t,:] = w[token,:] */
static void FN(embedding)(P *p, PUSH *push, void *const *t)
{
    const real *x = t[0], *w = t[1];
    real *y = t[2];
    uint32_t valid = FN(valid_rows)(p, push);
    for (uint64_t s = 0; s < (uint64_t)p->n * p->in; s++) {
        uint32_t k = FN(level)(x[s], p->classes);
        for (uint32_t j = 0; j < p->out; j++)
            y[s * p->out + j] = s / p->in < valid ? w[(uint64_t)k * p->out + j] : (real)0;
    }
}

/* dy:[n,in,out] x:[n,in] -> dw:[classes,out]; the valid steps' dy summed
 * into their tokens' rows, in order */
static void FN(embedding_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *dy = t[0], *x = t[1];
    real *dw = t[2];
    for (uint64_t i = 0; i < (uint64_t)p->classes * p->out; i++)
        dw[i] = 0;
    uint64_t steps = (uint64_t)FN(valid_rows)(p, push) * p->in;
    for (uint64_t s = 0; s < steps; s++) {
        uint32_t k = FN(level)(x[s], p->classes);
        for (uint32_t j = 0; j < p->out; j++)
            dw[(uint64_t)k * p->out + j] += dy[s * p->out + j];
    }
}

/* gi:[n,in,3*out] w:[3*out,out] b:[3*out] h0:[n,out] -> h:[n,in,out]
 * last:[n,out] hp:[n,in,out] g:[n,in,4*out]: PyTorch's GRU (ops.def) */
static void FN(gru)(P *p, void *const *t)
{
    const real *gi = t[0], *w = t[1], *b = t[2], *h0 = t[3];
    real *h = t[4], *last = t[5], *hp = t[6], *g = t[7];
    uint32_t U = p->out;
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t s = 0; s < p->in; s++) {
            uint64_t step = (uint64_t)r * p->in + s;
            const real *prev = s ? h + (step - 1) * U : h0 + (uint64_t)r * U;
            for (uint32_t j = 0; j < U; j++) {
                real gh[3];
                for (uint32_t q = 0; q < 3; q++) {
                    const real *wr = w + ((uint64_t)q * U + j) * U;
                    gh[q] = b[q * U + j];
                    for (uint32_t k = 0; k < U; k++)
                        gh[q] += wr[k] * prev[k];
                }
                const real *gs = gi + step * 3 * U;
                real rg = FN(sigmoid)(gs[j] + gh[0]);
                real zg = FN(sigmoid)(gs[U + j] + gh[1]);
                real c = tanh(gs[2 * U + j] + rg * gh[2]);
                h[step * U + j] = ((real)1 - zg) * c + zg * prev[j];
                hp[step * U + j] = prev[j];
                real *gt = g + step * 4 * U;
                gt[j] = rg, gt[U + j] = zg, gt[2 * U + j] = c, gt[3 * U + j] = gh[2];
            }
        }
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < U; j++)
            last[(uint64_t)r * U + j] = h[((uint64_t)r * p->in + p->in - 1) * U + j];
}

/* dh:[n,in,out] dlast:[n,out] g:[n,in,4*out] hp:[n,in,out] w:[3*out,out]
 * -> dgi:[n,in,3*out] dgh:[n,in,3*out] dh0:[n,out]; backpropagation
 * through gru's steps, the carry kept in dh0's row */
static void FN(gru_bwd)(P *p, void *const *t)
{
    const real *dh = t[0], *dlast = t[1], *g = t[2], *hp = t[3], *w = t[4];
    real *dgi = t[5], *dgh = t[6], *dh0 = t[7];
    uint32_t U = p->out;
    for (uint32_t r = 0; r < p->n; r++) {
        real *e = dh0 + (uint64_t)r * U;
        for (uint32_t k = 0; k < U; k++)
            e[k] = dlast[(uint64_t)r * U + k];
        for (uint32_t s = p->in; s-- > 0;) {
            uint64_t step = (uint64_t)r * p->in + s;
            const real *gt = g + step * 4 * U;
            real *dgit = dgi + step * 3 * U, *dght = dgh + step * 3 * U;
            for (uint32_t j = 0; j < U; j++) {
                real rg = gt[j], zg = gt[U + j], c = gt[2 * U + j], ghn = gt[3 * U + j];
                real d = dh[step * U + j] + e[j];
                real dc = d * ((real)1 - zg) * ((real)1 - c * c);
                real dz = d * (hp[step * U + j] - c) * zg * ((real)1 - zg);
                real dr = dc * ghn * rg * ((real)1 - rg);
                dgit[j] = dr, dgit[U + j] = dz, dgit[2 * U + j] = dc;
                dght[j] = dr, dght[U + j] = dz, dght[2 * U + j] = dc * rg;
            }
            /* e[k] = d[k]*z[k] + sum_j dgh[j] w[j,k]: each k reads only its own e */
            for (uint32_t k = 0; k < U; k++) {
                real acc = (dh[step * U + k] + e[k]) * gt[U + k];
                for (uint32_t j = 0; j < 3 * U; j++)
                    acc += dght[j] * w[(uint64_t)j * U + k];
                e[k] = acc;
            }
        }
    }
}

/* dy:[n*S,in] -> dx:[n,in]; dx[r] = sum_s dy[r*S+s] */
static void FN(repeat_rows_bwd)(P *p, void *const *t)
{
    const real *dy = t[0];
    real *dx = t[1];
    uint32_t S = FN(samples)(p);
    for (uint32_t r = 0; r < p->n; r++)
        for (uint32_t j = 0; j < p->in; j++) {
            real acc = 0;
            for (uint32_t s = 0; s < S; s++)
                acc += dy[((uint64_t)r * S + s) * p->in + j];
            dx[(uint64_t)r * p->in + j] = acc;
        }
}

/* logsumexp of l[0..L) */
static real FN(logsumexp)(const real *l, uint32_t L)
{
    real m = l[0], s = 0;
    for (uint32_t c = 1; c < L; c++)
        m = fmax(m, l[c]);
    for (uint32_t c = 0; c < L; c++)
        s += exp(l[c] - m);
    return m + log(s);
}

/* logits:[n,in,classes] x:[n,in] -> nll:[n]; -log softmax at each step's
 * token, <pad> steps left out */
static void FN(nll_tokens)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *nll = t[2];
    uint32_t valid = FN(valid_rows)(p, push), L = p->classes;
    for (uint32_t r = 0; r < p->n; r++) {
        real acc = 0;
        for (uint32_t s = 0; r < valid && s < p->in; s++) {
            uint64_t step = (uint64_t)r * p->in + s;
            uint32_t k = FN(level)(x[step], L);
            if (k != TOKEN_PAD)
                acc += FN(logsumexp)(l + step * L, L) - l[step * L + k];
        }
        nll[r] = acc;
    }
}

/* logits x -> dl:[n,in,classes] = grad_scale*(softmax - onehot(token)), 0
 * at <pad> steps */
static void FN(nll_tokens_bwd)(P *p, PUSH *push, void *const *t)
{
    const real *l = t[0], *x = t[1];
    real *dl = t[2];
    uint32_t valid = FN(valid_rows)(p, push), L = p->classes;
    for (uint64_t step = 0; step < (uint64_t)p->n * p->in; step++) {
        uint32_t k = FN(level)(x[step], L);
        int used = step / p->in < valid && k != TOKEN_PAD;
        real lse = FN(logsumexp)(l + step * L, L);
        for (uint32_t c = 0; c < L; c++) {
            real g = exp(l[step * L + c] - lse) - (c == k ? 1 : 0);
            dl[step * L + c] = used ? (real)push->grad_scale * g : 0;
        }
    }
}

void FN(vkvae_cpu_op)(vkvae_op op, const vkvae_op_params *p, const vkvae_push *push,
                      void *const *t)
{
    switch (op) {
    case VKVAE_OP_GATHER: FN(gather)(p, push, t); break;
    case VKVAE_OP_GATHER_ONEHOT: FN(gather_onehot)(p, push, t); break;
    case VKVAE_OP_CORRUPT_MASK: FN(corrupt_mask)(p, push, t); break;
    case VKVAE_OP_CORRUPT_GAUSS: FN(corrupt_gauss)(p, push, t); break;
    case VKVAE_OP_DENSE: FN(dense)(p, t); break;
    case VKVAE_OP_DENSE_BWD_X: FN(dense_bwd_x)(p, t); break;
    case VKVAE_OP_DENSE_BWD_W: FN(dense_bwd_w)(p, t); break;
    case VKVAE_OP_DENSE_PAIR: FN(dense_pair)(p, t); break;
    case VKVAE_OP_DENSE_PAIR_BWD_X: FN(dense_pair_bwd_x)(p, t); break;
    case VKVAE_OP_DENSE_PAIR_BWD_W: FN(dense_pair_bwd_w)(p, t); break;
    case VKVAE_OP_ACT_BWD: FN(act_bwd)(p, t); break;
    case VKVAE_OP_CONV2D: FN(conv2d)(p, t); break;
    case VKVAE_OP_CONV2D_BWD_X: FN(conv2d_bwd_x)(p, t); break;
    case VKVAE_OP_CONV2D_BWD_W: FN(conv2d_bwd_w)(p, t); break;
    case VKVAE_OP_CONVT2D: FN(convt2d)(p, t); break;
    case VKVAE_OP_CONVT2D_BWD_X: FN(convt2d_bwd_x)(p, t); break;
    case VKVAE_OP_CONVT2D_BWD_W: FN(convt2d_bwd_w)(p, t); break;
    case VKVAE_OP_ADD: FN(add)(p, t); break;
    case VKVAE_OP_CONCAT: FN(concat)(p, t); break;
    case VKVAE_OP_CONV_MASK: FN(conv_mask)(p, t); break;
    case VKVAE_OP_GATE: FN(gate)(p, t); break;
    case VKVAE_OP_ONEHOT: FN(onehot)(p, t); break;
    case VKVAE_OP_GATE_BWD: FN(gate_bwd)(p, t); break;
    case VKVAE_OP_SOBEL: FN(sobel)(p, push, t); break;
    case VKVAE_OP_SLICE_BWD: FN(slice_bwd)(p, t); break;
    case VKVAE_OP_REPARAM: FN(reparam)(p, push, t); break;
    case VKVAE_OP_REPARAM_BWD: FN(reparam_bwd)(p, t); break;
    case VKVAE_OP_REPARAM_KL: FN(reparam_kl)(p, push, t); break;
    case VKVAE_OP_REPARAM_KL_BWD: FN(reparam_kl_bwd)(p, push, t); break;
    case VKVAE_OP_PRIOR: FN(prior)(p, push, t); break;
    case VKVAE_OP_KL_GAUSS: FN(kl_gauss)(p, push, t); break;
    case VKVAE_OP_KL_GAUSS2: FN(kl_gauss2)(p, push, t); break;
    case VKVAE_OP_KL_GAUSS2_BWD: FN(kl_gauss2_bwd)(p, push, t); break;
    case VKVAE_OP_KL_GAUSS_BWD: FN(kl_gauss_bwd)(p, push, t); break;
    case VKVAE_OP_NLL_BERNOULLI: FN(nll_bernoulli)(p, push, t); break;
    case VKVAE_OP_NLL_BERNOULLI_BWD: FN(nll_bernoulli_bwd)(p, push, t); break;
    case VKVAE_OP_NLL_BERNOULLI_GRAD: FN(nll_bernoulli_grad)(p, push, t); break;
    case VKVAE_OP_NLL_GAUSS: FN(nll_gauss)(p, push, t); break;
    case VKVAE_OP_NLL_GAUSS_BWD: FN(nll_gauss_bwd)(p, push, t); break;
    case VKVAE_OP_L2: FN(l2)(p, push, t); break;
    case VKVAE_OP_VQ_NEAREST: FN(vq_nearest)(p, push, t); break;
    case VKVAE_OP_VQ_LOSS: FN(vq_loss)(p, push, t); break;
    case VKVAE_OP_VQ_LOSS_BWD: FN(vq_loss_bwd)(p, push, t); break;
    case VKVAE_OP_VQ_CODEBOOK_BWD: FN(vq_codebook_bwd)(p, push, t); break;
    case VKVAE_OP_VQ_COUNT: FN(vq_count)(p, push, t); break;
    case VKVAE_OP_VQ_EMA: FN(vq_ema)(p, push, t); break;
    case VKVAE_OP_VQ_RESTART: FN(vq_restart)(p, push, t); break;
    case VKVAE_OP_VQ_EMA_CODES: FN(vq_ema_codes)(p, push, t); break;
    case VKVAE_OP_L2_BWD: FN(l2_bwd)(p, push, t); break;
    case VKVAE_OP_BCE_LOGITS: FN(bce_logits)(p, push, t); break;
    case VKVAE_OP_BCE_LOGITS_BWD: FN(bce_logits_bwd)(p, push, t); break;
    case VKVAE_OP_SOFTMAX_CE: FN(softmax_ce)(p, push, t); break;
    case VKVAE_OP_SOFTMAX_CE_BWD: FN(softmax_ce_bwd)(p, push, t); break;
    case VKVAE_OP_BATCHNORM: FN(batchnorm)(p, push, t); break;
    case VKVAE_OP_BATCHNORM_BWD: FN(batchnorm_bwd)(p, push, t); break;
    case VKVAE_OP_LOSS_ACCUM: FN(loss_accum)(p, push, t); break;
    case VKVAE_OP_IWAE_LOGW: FN(iwae_logw)(p, push, t); break;
    case VKVAE_OP_IWAE_LSE: FN(iwae_lse)(p, push, t); break;
    case VKVAE_OP_IWAE_WEIGHTS: FN(iwae_weights)(p, push, t); break;
    case VKVAE_OP_IWAE_LOGW_BWD: FN(iwae_logw_bwd)(p, push, t); break;
    case VKVAE_OP_REPEAT_ROWS: FN(repeat_rows)(p, t); break;
    case VKVAE_OP_CLASS_ROWS: FN(class_rows)(p, t); break;
    case VKVAE_OP_LABEL_WEIGHTS: FN(label_weights)(p, push, t); break;
    case VKVAE_OP_LABEL_SUM: FN(label_sum)(p, push, t); break;
    case VKVAE_OP_LABEL_SUM_BWD: FN(label_sum_bwd)(p, push, t); break;
    case VKVAE_OP_ENTROPY: FN(entropy)(p, push, t); break;
    case VKVAE_OP_ENTROPY_BWD: FN(entropy_bwd)(p, push, t); break;
    case VKVAE_OP_SCALE_ROWS: FN(scale_rows)(p, t); break;
    case VKVAE_OP_SCALE: FN(scale)(p, t); break;
    case VKVAE_OP_ADAM: FN(adam)(p, push, t); break;
    case VKVAE_OP_SGD: FN(sgd)(p, t); break;
    case VKVAE_OP_SIGMOID: FN(sigmoid_op)(p, t); break;
    case VKVAE_OP_SAMPLE_BERNOULLI: FN(sample_bernoulli)(p, push, t); break;
    case VKVAE_OP_SAMPLE_PIXEL: FN(sample_pixel)(p, push, t); break;
    case VKVAE_OP_NLL_CATEGORICAL: FN(nll_categorical)(p, push, t); break;
    case VKVAE_OP_NLL_CATEGORICAL_BWD: FN(nll_categorical_bwd)(p, push, t); break;
    case VKVAE_OP_SHIFT_TOKENS: FN(shift_tokens)(p, push, t); break;
    case VKVAE_OP_EMBEDDING: FN(embedding)(p, push, t); break;
    case VKVAE_OP_EMBEDDING_BWD: FN(embedding_bwd)(p, push, t); break;
    case VKVAE_OP_GRU: FN(gru)(p, t); break;
    case VKVAE_OP_GRU_BWD: FN(gru_bwd)(p, t); break;
    case VKVAE_OP_REPEAT_ROWS_BWD: FN(repeat_rows_bwd)(p, t); break;
    case VKVAE_OP_NLL_TOKENS: FN(nll_tokens)(p, push, t); break;
    case VKVAE_OP_NLL_TOKENS_BWD: FN(nll_tokens_bwd)(p, push, t); break;
    case VKVAE_OP_COUNT: break;
    }
}
