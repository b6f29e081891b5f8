// l2: y:[n,in] x:[n,in] -> loss:[n] = sum((y-x)^2). One workgroup per row
// (row_sum.glsl). Padding rows get 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "row_sum.glsl"
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer LOSS { float loss[]; };
void main()
{
    uint r = row_index();
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    if (r >= P_N) return; // uniform over the workgroup
    float acc = 0.0;
    for (uint j = t; r < valid_rows() && j < P_IN; j += lanes) {
        float d = y[r * P_IN + j] - x[r * P_IN + j];
        acc += d * d;
    }
    float sum = row_sum(acc, t);
    if (t == 0u)
        loss[r] = sum;
}
