/* dense: x:[n,in] w:[out,in] b:[out] -> y:[n,out]; y = act(x w^T + b)
 * C = y: rows n, columns out, depth in; A = x, B = w^T (matmul.glsl); the
 * bias is the accumulators' start (MM_BIAS), the activation the epilogue.
 *
 * With DENSE_PAIR 1, dense_pair: two layers on the same x as one product,
 * w:[out+in2,in] both layers' weights stacked, b b2 their biases, y y2
 * their outputs. Columns c < out are the first layer's, the rest the
 * second's: one dispatch, and twice the columns to spread over the
 * workgroups, where each of the gaussian head's two 20-wide products alone
 * cost about a dispatch's overhead on lavapipe.
 * Included by dense.comp and dense_pair.comp, after common.glsl.
 */
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
/* A pair's b2 is binding 3 and its y2 the last; y shifts by DENSE_PAIR. */
#if DENSE_PAIR
layout(std430, binding = 3) readonly buffer B2 { float b2[]; };
layout(std430, binding = 5) writeonly buffer Y2 { float y2[]; };
const uint D_OUT = P_OUT + P_IN2; /* rows of w: both layers' */
#else
const uint D_OUT = P_OUT;
#endif
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer Y { float y[]; };

const uint MM_M = P_N, MM_C = D_OUT, MM_K = P_IN;

float mm_a(uint m, uint k)
{
    float v = x[min(m, P_N - 1u) * P_IN + min(k, P_IN - 1u)];
    return m < P_N && k < P_IN ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    float v = w[min(c, D_OUT - 1u) * P_IN + min(k, P_IN - 1u)];
    return c < D_OUT && k < P_IN ? v : 0.0;
}

const bool MM_A_KCONT = true, MM_B_KCONT = true; /* x and w rows run along in */
#define MM_SCRATCH (4 + 2 * DENSE_PAIR) /* after y (and a pair's b2, y2) */

void mm_store(uint m, uint c, float v)
{
    if (m < P_N && c < P_OUT)
        y[m * P_OUT + c] = activate(v);
#if DENSE_PAIR
    else if (m < P_N && c < D_OUT)
        y2[m * P_IN2 + c - P_OUT] = activate(v);
#endif
}

#ifdef VKVAE_SUBGROUP
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W4 { vec4 w4[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer Y4 { vec4 y4[]; };
#if DENSE_PAIR
layout(std430, binding = 5) writeonly buffer Y24 { vec4 y24[]; };
const bool ROWS4 = (P_OUT | P_IN2) % 4u == 0u; /* both, as one constant (llvmpipe rejects a spec-constant &&) */
#else
const bool ROWS4 = P_OUT % 4u == 0u;
#endif

vec4 mm_a4(uint m, uint k)
{
    return x4[(min(m, P_N - 1u) * P_IN + min(k, P_IN - 4u)) / 4u];
}

vec4 mm_b4(uint k, uint c)
{
    return w4[(min(c, D_OUT - 1u) * P_IN + min(k, P_IN - 4u)) / 4u];
}

/* Columns c..c+3 of row m: one vec4 where the output rows are whole vec4s
 * (c < P_OUT then means c + 3 < P_OUT; a pair's first layer ends on a vec4) */
#define MM_STORE4
void mm_store4(uint m, uint c, vec4 v)
{
    if (!ROWS4) {
        [[unroll]] for (uint i = 0; i < 4u; i++)
            mm_store(m, c + i, v[i]);
        return;
    }
    if (m < P_N && c < P_OUT)
        y4[(m * P_OUT + c) / 4u] = activate(v);
#if DENSE_PAIR
    else if (m < P_N && c < D_OUT)
        y24[(m * P_IN2 + c - P_OUT) / 4u] = activate(v);
#endif
}
#endif

#define MM_BIAS
float mm_bias(uint c)
{
#if DENSE_PAIR
    if (c >= P_OUT)
        return c < D_OUT ? b2[c - P_OUT] : 0.0;
#endif
    float v = b[min(c, P_OUT - 1u)];
    return c < P_OUT ? v : 0.0;
}

#include "matmul.glsl"

void main()
{
    mm_run();
}
