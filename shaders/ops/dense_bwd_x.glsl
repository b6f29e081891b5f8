/* dense_bwd_x: dy:[n,out] w:[out,in] x:[n,in] -> dx:[n,in]; dx = (dy w) * act'(x)
 * C = dx: rows n, columns in, depth out; A = dy, B = w (matmul.glsl); the
 * epilogue multiplies by the derivative of the activation below the layer,
 * from its output x (act_bwd's job, saved a dispatch and a pass).
 *
 * With DENSE_PAIR 1, dense_pair_bwd_x: the input gradient of dense_pair,
 * dx = [dy | dy2] [w ; w2] over depth out + in2, dy2 read in place of a
 * concatenated copy. A's 4-deep steps never straddle the two (kernels.c
 * takes vec4 reads only when out is a multiple of 4), so which one a step
 * reads is uniform over the subgroup.
 * Included by dense_bwd_x.comp and dense_pair_bwd_x.comp, after common.glsl.
 */
/* A pair's dy2 is binding 1; the later bindings shift by DENSE_PAIR. */
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
#if DENSE_PAIR
layout(std430, binding = 1) readonly buffer DY2 { float dy2[]; };
const uint D_OUT = P_OUT + P_IN2; /* the product's depth: both layers' outputs */
#else
const uint D_OUT = P_OUT;
#endif
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer W { float w[]; };
layout(std430, binding = 2 + DENSE_PAIR) readonly buffer X { float x[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer DX { float dx[]; };

const uint MM_M = P_N, MM_C = P_IN, MM_K = D_OUT;

float mm_a(uint m, uint k)
{
#if DENSE_PAIR
    if (k >= P_OUT) {
        float v = dy2[min(m, P_N - 1u) * P_IN2 + min(k - P_OUT, P_IN2 - 1u)];
        return m < P_N && k < D_OUT ? v : 0.0;
    }
#endif
    float v = dy[min(m, P_N - 1u) * P_OUT + min(k, P_OUT - 1u)];
    return m < P_N && k < P_OUT ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    float v = w[min(k, D_OUT - 1u) * P_IN + min(c, P_IN - 1u)];
    return k < D_OUT && c < P_IN ? v : 0.0;
}

const bool MM_A_KCONT = true, MM_B_KCONT = false; /* dy rows run along out, w rows along in */

#ifdef VKVAE_SUBGROUP
layout(std430, binding = 0) readonly buffer DY4 { vec4 dy4[]; };
#if DENSE_PAIR
layout(std430, binding = 1) readonly buffer DY24 { vec4 dy24[]; };
#endif
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer W4 { vec4 w4[]; };
layout(std430, binding = 2 + DENSE_PAIR) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer DX4 { vec4 dx4[]; };

vec4 mm_a4(uint m, uint k)
{
#if DENSE_PAIR
    if (k >= P_OUT)
        return dy24[(min(m, P_N - 1u) * P_IN2 + min(k - P_OUT, P_IN2 - 4u)) / 4u];
#endif
    return dy4[(min(m, P_N - 1u) * P_OUT + min(k, P_OUT - 4u)) / 4u];
}

vec4 mm_b4(uint k, uint c)
{
    return w4[(min(k, D_OUT - 1u) * P_IN + min(c, P_IN - 4u)) / 4u];
}

#define MM_STORE4
void mm_store4(uint m, uint c, vec4 v)
{
    if (m < P_N && c < P_IN) {
        uint at = (m * P_IN + c) / 4u;
        if (P_ACT != ACT_NONE)
            v *= activate_grad(x4[at]);
        dx4[at] = v;
    }
}
#endif

void mm_store(uint m, uint c, float v)
{
    if (m < P_N && c < P_IN)
        dx[m * P_IN + c] = P_ACT != ACT_NONE ? v * activate_grad(x[m * P_IN + c]) : v;
}

#include "matmul.glsl"

void main()
{
    mm_run();
}
