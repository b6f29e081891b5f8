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
    uint best = 0u;
    for (uint j = 0u; j < P_CLASSES; j++) {
        labelled = labelled || y[row + j] > 0.0;
        if (q[row + j] > q[row + best]) best = j;
    }
    float m = q[row + best], rest = 0.0; /* sum = 1 + rest */
    for (uint j = 0u; j < P_CLASSES; j++)
        if (j != best) rest += exp(q[row + j] - m);
    float sum = 1.0 + rest;
    float ls = log1p_(rest), h = 0.0; /* log p_c = (q_c - m) - ls, as entropy's */
    for (uint c = 0u; c < P_CLASSES; c++)
        h += exp(q[row + c] - m) / sum * ((q[row + c] - m) - ls);
    bool zero = r >= min(pc.rows, P_N) || labelled;
    for (uint c = 0u; c < P_CLASSES; c++)
        dq[row + c] = zero ? 0.0
                    : pc.grad_scale * exp(q[row + c] - m) / sum * ((q[row + c] - m) - ls - h);
}
