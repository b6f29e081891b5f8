// embedding: x:[n,in] w:[classes,out] -> y:[n,in,out]; y[r,t,:] = w[k,:],
// k the token of x[r,t]; 0 in padding rows
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN * P_OUT) return;
    uint step = i / P_OUT, j = i % P_OUT;
    if (step / P_IN >= valid_rows()) {
        y[i] = 0.0;
        return;
    }
    uint k = uint(clamp(floor(x[step] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
    y[i] = w[k * P_OUT + j];
}
