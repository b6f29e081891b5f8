// entropy: q:[n,classes] y:[n,classes] -> h:[n]; minus the entropy of
// p = softmax(q[r,:]) for a row without a label, sum_c p_c log p_c with
// log p_c = q_c - logsumexp(q[r,:]). One invocation per row; labelled and
// padding rows 0.
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
    float m = q[row];
    for (uint j = 0u; j < P_CLASSES; j++) {
        labelled = labelled || y[row + j] > 0.0;
        m = max(m, q[row + j]);
    }
    float sum = 0.0;
    for (uint j = 0u; j < P_CLASSES; j++)
        sum += exp(q[row + j] - m);
    float lse = m + log(sum), acc = 0.0;
    for (uint c = 0u; c < P_CLASSES; c++)
        acc += exp(q[row + c] - m) / sum * (q[row + c] - lse);
    h[r] = r >= min(pc.rows, P_N) || labelled ? 0.0 : acc;
}
