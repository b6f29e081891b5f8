// nll_bernoulli: logits:[n,in] x:[n,in] -> nll:[n]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer NLL { float nll[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float acc = 0.0;
    if (r < valid_rows())
        for (uint j = 0; j < P_IN; j++) {
            float v = l[r * P_IN + j];
            acc += max(v, 0.0) - v * x[r * P_IN + j] + log(1.0 + exp(-abs(v)));
        }
    nll[r] = acc;
}
