// dense_bwd_x: dy:[n,out] w:[out,in] -> dx:[n,in]; dx = dy w
// C = dx: rows n, columns in, depth out; A = dy, B = w (matmul.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };

const uint MM_M = P_N, MM_C = P_IN, MM_K = P_OUT;

float mm_a(uint m, uint k)
{
    float v = dy[min(m, P_N - 1u) * P_OUT + min(k, P_OUT - 1u)];
    return m < P_N && k < P_OUT ? v : 0.0;
}

float mm_b(uint k, uint c)
{
    float v = w[min(k, P_OUT - 1u) * P_IN + min(c, P_IN - 1u)];
    return k < P_OUT && c < P_IN ? v : 0.0;
}

void mm_store(uint m, uint c, float v)
{
    if (m < P_N && c < P_IN)
        dx[m * P_IN + c] = v;
}

#include "matmul.glsl"

void main()
{
    mm_run();
}
