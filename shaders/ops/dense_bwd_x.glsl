/* dense_bwd_x: dy:[n,out] w:[out,in] x:[n,in] -> dx:[n,in]; dx = (dy w) * act'(x)
 * C = dx: rows n, columns in, depth out; A = dy, B = w (matmul.glsl); the
 * epilogue multiplies by the derivative of the activation below the layer,
 * from its output x (act_bwd's job, saved a dispatch and a pass).
 *
 * With DENSE_PAIR 1, dense_pair_bwd_x: the input gradient of dense_pair,
 * dx = [dy | dy2] [w ; w2] over depth out + in2 (dense_dy.glsl reads A).
 * Included by dense_bwd_x.comp and dense_pair_bwd_x.comp, after common.glsl.
 */
#include "dense_dy.glsl"
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer W { float w[]; };
layout(std430, binding = 2 + DENSE_PAIR) readonly buffer X { float x[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer DX { float dx[]; };

const uint MM_M = P_N, MM_C = P_IN, MM_K = D_OUT;

float mm_a(uint m, uint k)
{
    return dense_dy(m, k);
}

float mm_b(uint k, uint c)
{
    float v = w[min(k, D_OUT - 1u) * P_IN + min(c, P_IN - 1u)];
    return k < D_OUT && c < P_IN ? v : 0.0;
}

const bool MM_A_KCONT = true, MM_B_KCONT = false; /* dy rows run along out, w rows along in */
#define MM_SCRATCH (4 + DENSE_PAIR) /* after dx */

#ifdef VKVAE_SUBGROUP
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer W4 { vec4 w4[]; };
layout(std430, binding = 2 + DENSE_PAIR) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer DX4 { vec4 dx4[]; };

vec4 mm_a4(uint m, uint k)
{
    return dense_dy4(m, k);
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
