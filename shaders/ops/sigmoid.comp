// sigmoid: l:[n,in] -> y:[n,in]; the Bernoulli mean of logits
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    y[i] = sigmoid(l[i]);
}
