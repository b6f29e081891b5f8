// entropy: q:[n,classes] y:[n,classes] -> h:[n]; minus the entropy of
// p = softmax(q[r,:]) for a row without a label, sum_c p_c log p_c with
// log p_c = (q_c - max) - log1p(the other terms of sum exp(q - max)): the
// difference first and log1p, so large logits (90) and a confident q keep
// a small log p_c's digits. One invocation per row; labelled and padding
// rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer H { float h[]; };
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
    float ls = log1p_(rest), acc = 0.0;
    for (uint c = 0u; c < P_CLASSES; c++)
        acc += exp(q[row + c] - m) / sum * ((q[row + c] - m) - ls);
    h[r] = r >= min(pc.rows, P_N) || labelled ? 0.0 : acc;
}
