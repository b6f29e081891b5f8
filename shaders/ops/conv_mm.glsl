/* The convolutions as implicit matrix products through matmul.glsl: the
 * im2col gather is folded into mm_a / mm_b and bias and activation into
 * mm_store, so nothing is materialised and no atomics are needed.
 *
 * Both convolutions pair an image side, where the k x k window slides, with
 * a grid side whose every pixel is one window position: grid pixel (gy, gx)
 * sees image pixel (gy stride - pad + ky, gx stride - pad + kx). conv2d's
 * image is x and its grid y; convt2d's image is y and its grid x. W, in
 * PyTorch's layouts as they are (conv2d w:[c_out, c_in, k, k], convt2d
 * w:[c_in, c_out, k, k]), is [grid channels, image channels, k, k] in both.
 * KC = image channels k k.
 *
 * The including kernel defines CONV_T (0: conv2d's family, 1: convt2d's)
 * and CONV_FAMILY:
 *
 * CONV_GATHER: image -> grid (conv2d, convt2d_bwd_x). C = grid-side output:
 *   rows (image, grid pixel) n gh gw, columns grid channels, depth KC;
 *   A = im2col(image side), B(k, c) = W[c, k].
 * CONV_SCATTER: grid -> image (conv2d_bwd_x, convt2d), as a gather over the
 *   grid pixels that reach each image pixel. With stride s only taps
 *   ky = (iy + pad) mod s (+ s j) reach image row iy, so the image pixels
 *   are split into s^2 phases by (iy + pad, ix + pad) mod s, one per
 *   z of the grid (mm_phase): rows (image, iy, ix of the phase) n ceil(h/s)
 *   ceil(w/s), columns image channels, depth grid channels ceil(k/s)^2
 *   (taps past k are zeros); no products with taps that cannot land.
 * CONV_WGRAD: dW[grid channel, KC] = sum over (image, grid pixel) of grid
 *   side x im2col(image side) (conv2d_bwd_w: dy and x; convt2d_bwd_w: x and
 *   dy). The last row of workgroups (y) adds db[c_out] = sums of dy's
 *   planes instead, a fixed tree per channel.
 */
#ifndef VKVAE_CONV_MM_GLSL
#define VKVAE_CONV_MM_GLSL

#define CONV_GATHER 1
#define CONV_SCATTER 2
#define CONV_WGRAD 3

#if CONV_T
const uint IMG_C = P_C_OUT, IMG_H = P_H_OUT, IMG_W = P_W_OUT;
const uint GRID_C = P_C_IN, GRID_H = P_H_IN, GRID_W = P_W_IN;
#else
const uint IMG_C = P_C_IN, IMG_H = P_H_IN, IMG_W = P_W_IN;
const uint GRID_C = P_C_OUT, GRID_H = P_H_OUT, GRID_W = P_W_OUT;
#endif
const uint KK = P_K * P_K, KC = IMG_C * KK, GRID = GRID_H * GRID_W;

/* The bias: conv2d's on its grid side, convt2d's on its image side. */
#if (CONV_FAMILY == CONV_GATHER && !CONV_T) || (CONV_FAMILY == CONV_SCATTER && CONV_T)
#define CONV_BIAS 1
#else
#define CONV_BIAS 0
#endif

#if CONV_FAMILY == CONV_WGRAD
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
#else
layout(std430, binding = 0) readonly buffer SRC { float src[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
#if CONV_BIAS
layout(std430, binding = 2) readonly buffer B { float b[]; };
#else /* an input gradient: x, the layer's input, for the activation below it */
layout(std430, binding = 2) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 3) writeonly buffer DST { float dst[]; };
#endif

/* What is stored at dst[at], channel c, for the product's value v: the
 * activation (forward ops, whose bias the accumulators start from: MM_BIAS
 * below), or the derivative of the activation below (input gradients;
 * ops.def). */
float conv_epilogue(float v, uint c, uint at)
{
#if CONV_BIAS
    return activate(v);
#else
    return P_ACT != ACT_NONE ? v * activate_grad(x[at]) : v;
#endif
}

/* im2col of the image side: the value grid pixel d = (image, gy, gx) sees
 * at window row r = (channel, ky, kx); 0 outside the image or the matrix. */
#if CONV_FAMILY != CONV_WGRAD
#define IMG_BUF(i) src[i]
#elif CONV_T
#define IMG_BUF(i) dy[i]
#define GRID_BUF(i) x[i]
#else
#define IMG_BUF(i) x[i]
#define GRID_BUF(i) dy[i]
#endif

#if CONV_FAMILY != CONV_SCATTER
float im2col(uint d, uint r)
{
    uint s = d / GRID, g = d % GRID, gy = g / GRID_W, gx = g % GRID_W;
    uint c = r / KK, t = r % KK, ky = t / P_K, kx = t % P_K;
    int iy = int(gy * P_STRIDE + ky) - int(P_PAD), ix = int(gx * P_STRIDE + kx) - int(P_PAD);
    bool ok = d < P_N * GRID && r < KC && iy >= 0 && iy < int(IMG_H) && ix >= 0 && ix < int(IMG_W);
    float v = IMG_BUF(ok ? ((s * IMG_C + c) * IMG_H + uint(iy)) * IMG_W + uint(ix) : 0u);
    return ok ? v : 0.0;
}
#endif

#if CONV_FAMILY == CONV_GATHER

const uint MM_M = P_N * GRID, MM_C = GRID_C, MM_K = KC;

float mm_a(uint m, uint k)
{
    return im2col(m, k);
}

float mm_b(uint k, uint c)
{
    bool ok = k < KC && c < GRID_C;
    float v = w[ok ? c * KC + k : 0u];
    return ok ? v : 0.0;
}

void mm_store(uint m, uint c, float v)
{
    if (m < MM_M && c < GRID_C) {
        uint at = ((m / GRID) * GRID_C + c) * GRID + m % GRID;
        dst[at] = conv_epilogue(v, c, at);
    }
}

#elif CONV_FAMILY == CONV_SCATTER

const uint S = P_STRIDE, KS = (P_K + S - 1u) / S;
const uint TY = (IMG_H + S - 1u) / S, TX = (IMG_W + S - 1u) / S, TT = TY * TX;
const uint MM_M = P_N * TT, MM_C = IMG_C, MM_K = GRID_C * KS * KS;

/* The phase (ry, rx) of this workgroup: image rows iy = fy + s ty with
 * (iy + pad) mod s = ry, which taps ky = ry + s jy reach from grid row
 * gy = ty + by - jy. */
uvec4 conv_phase()
{
    uint ry = mm_phase() / S, rx = mm_phase() % S;
    uint fy = (ry + S - P_PAD % S) % S, fx = (rx + S - P_PAD % S) % S;
    return uvec4(fy, fx, (fy + P_PAD - ry) / S, (fx + P_PAD - rx) / S);
}

float mm_a(uint m, uint k)
{
    uvec4 ph = conv_phase();
    uint ry = mm_phase() / S, rx = mm_phase() % S;
    uint s = m / TT, t = m % TT, ty = t / TX, tx = t % TX;
    uint c = k / (KS * KS), j = k % (KS * KS), jy = j / KS, jx = j % KS;
    int gy = int(ty + ph.z) - int(jy), gx = int(tx + ph.w) - int(jx);
    bool ok = m < MM_M && k < MM_K && ry + S * jy < P_K && rx + S * jx < P_K && gy >= 0 &&
              gy < int(GRID_H) && gx >= 0 && gx < int(GRID_W);
    float v = src[ok ? ((s * GRID_C + c) * GRID_H + uint(gy)) * GRID_W + uint(gx) : 0u];
    return ok ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    uint ry = mm_phase() / S, rx = mm_phase() % S;
    uint gc = k / (KS * KS), j = k % (KS * KS), ky = ry + S * (j / KS), kx = rx + S * (j % KS);
    bool ok = k < MM_K && c < IMG_C && ky < P_K && kx < P_K;
    float v = w[ok ? ((gc * IMG_C + c) * P_K + ky) * P_K + kx : 0u];
    return ok ? v : 0.0;
}

void mm_store(uint m, uint c, float v)
{
    uvec4 ph = conv_phase();
    uint s = m / TT, t = m % TT, iy = ph.x + S * (t / TX), ix = ph.y + S * (t % TX);
    if (m < MM_M && c < IMG_C && iy < IMG_H && ix < IMG_W) {
        uint at = ((s * IMG_C + c) * IMG_H + iy) * IMG_W + ix;
        dst[at] = conv_epilogue(v, c, at);
    }
}

#elif CONV_FAMILY == CONV_WGRAD

const uint MM_M = GRID_C, MM_C = KC, MM_K = P_N * GRID;

float mm_a(uint m, uint k)
{
    bool ok = m < GRID_C && k < MM_K;
    float v = GRID_BUF(ok ? ((k / GRID) * GRID_C + m) * GRID + k % GRID : 0u);
    return ok ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    return im2col(k, c);
}

void mm_store(uint m, uint c, float v)
{
    if (m < GRID_C && c < KC)
        dw[m * KC + c] = v;
}

/* db[c] for c = g, g + groups, ... of the rows of workgroups after the
 * product's (from first_row on; g: the workgroup's place among them,
 * across z too: a split product's slices share the channels out; one
 * channel each where the grid allows, runtime/gpu/kernels.c db_rows): the
 * workgroup's invocations (64, or the subgroup size in the subgroup build:
 * a power of two up to 64) take strided shares of the n h_out w_out terms,
 * four at a time (an unrolled loop: lavapipe counts the iterations of
 * loops, and stops one past 65,535), then a fixed tree in shared memory. */
shared float db_part[64];

void conv_db(uint first_row)
{
    const uint HWO = P_H_OUT * P_W_OUT, N = P_N * HWO, t = gl_LocalInvocationID.x;
    const uint WG = gl_WorkGroupSize.x, row = gl_NumWorkGroups.x * gl_NumWorkGroups.z;
    const uint g = (gl_WorkGroupID.y - first_row) * row + gl_WorkGroupID.z * gl_NumWorkGroups.x +
                   gl_WorkGroupID.x;
    for (uint c = g; c < P_C_OUT; c += (gl_NumWorkGroups.y - first_row) * row) {
        float acc = 0.0;
        for (uint j0 = t; j0 < N; j0 += 4u * WG)
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint j = j0 + u * WG;
                if (j < N)
                    acc += dy[((j / HWO) * P_C_OUT + c) * HWO + j % HWO];
            }
        db_part[t] = acc;
        barrier();
        for (uint width = WG / 2u; width > 0u; width >>= 1u) {
            if (t < width)
                db_part[t] += db_part[t + width];
            barrier();
        }
        if (t == 0u)
            db[c] = db_part[0];
        barrier();
    }
}

#endif

const bool MM_A_KCONT = false, MM_B_KCONT = false;
#define MM_SCRATCH 4 /* the split builds' partial sums, after bindings 0-3 */

#if CONV_BIAS /* columns are the output's channels in both families */
#define MM_BIAS
float mm_bias(uint c)
{
    float v = b[min(c, MM_C - 1u)];
    return c < MM_C ? v : 0.0;
}
#endif

#ifdef VKVAE_SUBGROUP
/* The subgroup build's whole-vec4 reads: A(m..m+3, k) and B(k, c..c+3). The
 * gathers above go element by element anyway, so runtime/gpu/kernels.c leaves
 * MM_VEC4 off for the convolutions and these only keep the module whole. */
vec4 mm_a4(uint m, uint k)
{
    return vec4(mm_a(m, k), mm_a(m + 1u, k), mm_a(m + 2u, k), mm_a(m + 3u, k));
}

vec4 mm_b4(uint k, uint c)
{
    return vec4(mm_b(k, c), mm_b(k, c + 1u), mm_b(k, c + 2u), mm_b(k, c + 3u));
}
#endif

#include "matmul.glsl"

void main()
{
#if CONV_FAMILY == CONV_WGRAD
    /* uniform over the workgroup; a split's second pass has no db rows */
#ifdef VKVAE_SUBGROUP
    const uint block_rows = MM_TM;
#else
    const uint block_rows = MM_BM;
#endif
    const uint first_row = (MM_M + block_rows - 1u) / block_rows;
    if (!mm_reducing() && gl_WorkGroupID.y >= first_row) {
        conv_db(first_row);
        return;
    }
#endif
    mm_run();
}

#endif
