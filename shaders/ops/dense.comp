// dense: x:[n,in] w:[out,in] b:[out] -> y:[n,out]; y = act(x w^T + b)
// C = y: rows n, columns out, depth in; A = x, B = w^T (matmul.glsl); the
// bias is the accumulators' start (MM_BIAS), the activation the epilogue.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_subgroup.glsl"
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

const uint MM_M = P_N, MM_C = P_OUT, MM_K = P_IN;

float mm_a(uint m, uint k)
{
    float v = x[min(m, P_N - 1u) * P_IN + min(k, P_IN - 1u)];
    return m < P_N && k < P_IN ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    float v = w[min(c, P_OUT - 1u) * P_IN + min(k, P_IN - 1u)];
    return c < P_OUT && k < P_IN ? v : 0.0;
}

const bool MM_A_KCONT = true, MM_B_KCONT = true; /* x and w rows run along in */

#ifdef VKVAE_MM_SUBGROUP
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W4 { vec4 w4[]; };

vec4 mm_a4(uint m, uint k)
{
    return x4[(min(m, P_N - 1u) * P_IN + min(k, P_IN - 4u)) / 4u];
}

vec4 mm_b4(uint k, uint c)
{
    return w4[(min(c, P_OUT - 1u) * P_IN + min(k, P_IN - 4u)) / 4u];
}
#endif

#define MM_BIAS
float mm_bias(uint c)
{
    float v = b[min(c, P_OUT - 1u)];
    return c < P_OUT ? v : 0.0;
}

void mm_store(uint m, uint c, float v)
{
    if (m < P_N && c < P_OUT)
        y[m * P_OUT + c] = activate(v);
}

#include "matmul.glsl"

void main()
{
    mm_run();
}
