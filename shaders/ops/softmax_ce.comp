// softmax_ce: logits:[n,in] y:[n,in] -> loss:[n] err:[n]; loss =
// logsumexp(l) - sum(y*l), err = 1 unless y is largest where l first is
// (a class per column, y one-hot). One invocation per row; padding rows
// and rows without a label (no y > 0: semi-supervised) 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer LOSS { float loss[]; };
layout(std430, binding = 3) writeonly buffer ERR { float err[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    uint row = r * P_IN, best = 0u, truth = 0u;
    for (uint j = 1u; j < P_IN; j++) {
        if (l[row + j] > l[row + best]) best = j;
        if (y[row + j] > y[row + truth]) truth = j;
    }
    if (r >= valid_rows() || y[row + truth] <= 0.0) {
        loss[r] = 0.0;
        err[r] = 0.0;
        return;
    }
    float m = l[row + best], sum = 0.0, dot = 0.0;
    for (uint j = 0u; j < P_IN; j++) {
        sum += exp(l[row + j] - m);
        dot += y[row + j] * l[row + j];
    }
    loss[r] = m + log(sum) - dot;
    err[r] = y[row + best] < y[row + truth] ? 1.0 : 0.0;
}
