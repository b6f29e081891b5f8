// label_weights: q:[n,classes] y:[n,classes] -> wt:[n*classes]; a row with a
// label (some y > 0) weighs its class copies by y, one without by
// softmax(q[r,:]) (M2's bound over every class). One invocation per row;
// padding rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer WT { float wt[]; };
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
    bool padding = r >= min(pc.rows, P_N);
    for (uint c = 0u; c < P_CLASSES; c++)
        wt[row + c] = padding ? 0.0 : labelled ? y[row + c] : exp(q[row + c] - m) / sum;
}
