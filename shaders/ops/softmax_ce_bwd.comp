// softmax_ce_bwd: logits:[n,in] y:[n,in] -> dl:[n,in] = grad_scale *
// (softmax(l) - y). One invocation per row; padding rows and rows without
// a label (no y > 0) 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer DL { float dl[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    uint row = r * P_IN;
    bool labelled = false;
    float m = l[row];
    for (uint j = 0u; j < P_IN; j++) {
        labelled = labelled || y[row + j] > 0.0;
        m = max(m, l[row + j]);
    }
    if (r >= valid_rows() || !labelled) {
        for (uint j = 0u; j < P_IN; j++)
            dl[row + j] = 0.0;
        return;
    }
    float sum = 0.0;
    for (uint j = 0u; j < P_IN; j++)
        sum += exp(l[row + j] - m);
    for (uint j = 0u; j < P_IN; j++)
        dl[row + j] = pc.grad_scale * (exp(l[row + j] - m) / sum - y[row + j]);
}
