// onehot: x:[n,in] -> y:[n,classes,in]; y[r,c,p] = 1 where c is the level
// of x[r,p], k = clamp(floor(x*classes), 0, classes-1) as nll_categorical
// reads a target: a code or grey level becomes a channel of its own (the
// first layer after it then acts as an embedding of the levels).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_CLASSES * P_IN) return;
    uint r = i / (P_CLASSES * P_IN), c = (i / P_IN) % P_CLASSES, p = i % P_IN;
    float v = floor(x[r * P_IN + p] * float(P_CLASSES));
    uint k = uint(clamp(v, 0.0, float(P_CLASSES - 1u)));
    y[i] = c == k ? 1.0 : 0.0;
}
