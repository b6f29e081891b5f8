/* dense_bwd_w: dy:[n,out] x:[n,in] -> dw:[out,in] db:[out]; dw = dy^T x, db = sum_rows dy
 * C = [dw | db]: rows out, columns in + 1, depth n; A = dy^T, B = [x | 1]
 * (matmul.glsl): the bias gradient is the product with a column of ones, so
 * it rides along in the same kernel.
 *
 * With DENSE_PAIR 1, dense_pair_bwd_w: the parameter gradients of
 * dense_pair, rows out + in2 of dy^T then dy2^T over the same x: dw is both
 * layers' (stacked as their weights), db and db2 their biases' (A read by
 * dense_dy.glsl).
 * Included by dense_bwd_w.comp and dense_pair_bwd_w.comp, after common.glsl.
 */
#include "dense_dy.glsl"
/* A pair's db2 is the last binding (D_OUT: rows of dw, both layers'). */
#if DENSE_PAIR
layout(std430, binding = 5) writeonly buffer DB2 { float db2[]; };
#endif
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer X { float x[]; };
layout(std430, binding = 2 + DENSE_PAIR) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3 + DENSE_PAIR) writeonly buffer DB { float db[]; };

const uint MM_M = D_OUT, MM_C = P_IN + 1u, MM_K = P_N;

float mm_a(uint m, uint k)
{
    return dense_dy(k, m); /* A = dy^T */
}

float mm_b(uint k, uint c)
{
    float v = x[min(k, P_N - 1u) * P_IN + min(c, P_IN - 1u)];
    return k >= P_N || c > P_IN ? 0.0 : c < P_IN ? v : 1.0;
}

const bool MM_A_KCONT = false, MM_B_KCONT = false; /* dy rows run along out, x rows along in */
#define MM_SCRATCH (4 + 2 * DENSE_PAIR) /* after db (and a pair's db2) */

void db_store(uint m, float v)
{
#if DENSE_PAIR
    if (m >= P_OUT) {
        db2[m - P_OUT] = v;
        return;
    }
#endif
    db[m] = v;
}

#ifdef VKVAE_SUBGROUP
layout(std430, binding = 1 + DENSE_PAIR) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2 + DENSE_PAIR) writeonly buffer DW4 { vec4 dw4[]; };

vec4 mm_a4(uint m, uint k)
{
    return dense_dy4(k, m);
}

/* Columns from P_IN on: the column of ones, then zeros. */
vec4 mm_b4(uint k, uint c)
{
    vec4 v = x4[(min(k, P_N - 1u) * P_IN + min(c, P_IN - 4u)) / 4u];
    return c < P_IN ? v : vec4(c == P_IN ? 1.0 : 0.0, 0.0, 0.0, 0.0);
}

#define MM_STORE4
void mm_store4(uint m, uint c, vec4 v)
{
    if (m < D_OUT && c < P_IN)
        dw4[(m * P_IN + c) / 4u] = v;
    else if (m < D_OUT && c == P_IN)
        db_store(m, v.x);
}
#endif

void mm_store(uint m, uint c, float v)
{
    if (m < D_OUT && c < P_IN)
        dw[m * P_IN + c] = v;
    else if (m < D_OUT && c == P_IN)
        db_store(m, v);
}

#include "matmul.glsl"

void main()
{
    mm_run();
}
