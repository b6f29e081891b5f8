// nll_categorical_bwd: logits:[n,classes,in] x:[n,in] -> dl:[n,classes,in];
// one invocation per value p of a row: dl[c,p] = grad_scale * (softmax over
// the classes of p - 1 at its class); 0 in padding rows
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DL { float dl[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, j = i % P_IN, at = r * P_CLASSES * P_IN + j;
    bool valid = r < valid_rows();
    float m = l[at];
    for (uint c = 1u; c < P_CLASSES; c++)
        m = max(m, l[at + c * P_IN]);
    float s = 0.0;
    for (uint c = 0u; c < P_CLASSES; c++)
        s += exp(l[at + c * P_IN] - m);
    uint k = uint(clamp(floor(x[i] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
    for (uint c = 0u; c < P_CLASSES; c++) {
        float g = exp(l[at + c * P_IN] - m) / s - (c == k ? 1.0 : 0.0);
        dl[at + c * P_IN] = valid ? pc.grad_scale * g : 0.0;
    }
}
