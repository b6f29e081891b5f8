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
    /* logsumexp(l) - y.l as log1p(rest) - y.(l - m) + m (1 - sum y), rest
     * the sum of exp(l - m) but the largest's 1: the differences first,
     * so large logits (90) keep a small loss's digits (the last term is 0
     * for a one-hot y) */
    float m = l[row + best], rest = 0.0, dot = 0.0, ys = 0.0;
    for (uint j = 0u; j < P_IN; j++) {
        if (j != best) rest += exp(l[row + j] - m);
        dot += y[row + j] * (l[row + j] - m);
        ys += y[row + j];
    }
    loss[r] = log1p_(rest) - dot + m * (1.0 - ys);
    err[r] = y[row + best] < y[row + truth] ? 1.0 : 0.0;
}
