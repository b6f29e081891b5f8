// entropy_bwd: q:[n,classes] y:[n,classes] -> dq:[n,classes]; the gradient
// of entropy's h = sum_c p_c log p_c for a row without a label: dq[r,c] =
// g*p_c*(log p_c - h). One invocation per row; labelled and padding rows 0
// (written).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer DQ { float dq[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    uint row = r * P_CLASSES;
    bool labelled = false;
    float m = q[row];
    for (uint j = 0u; j < P_CLASSES; j++) {
        labelled = labelled || y[row + j] > 0.0;
        m = max(m, q[row + j]);
    }
    float sum = 0.0;
    for (uint j = 0u; j < P_CLASSES; j++)
        sum += exp(q[row + j] - m);
    float lse = m + log(sum), h = 0.0;
    for (uint c = 0u; c < P_CLASSES; c++)
        h += exp(q[row + c] - m) / sum * (q[row + c] - lse);
    bool zero = r >= min(pc.rows, P_N) || labelled;
    for (uint c = 0u; c < P_CLASSES; c++)
        dq[row + c] = zero ? 0.0 : pc.grad_scale * exp(q[row + c] - lse) * (q[row + c] - lse - h);
}
