// sgd: p:[in] g:[in] buf:[in], in place; torch.optim.SGD (no dampening, no Nesterov)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) buffer P { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer B { float buf[]; };
void main()
{
    uint i = element_index();
    if (i >= P_IN) return;
    float grad = g[i] + P_WEIGHT_DECAY * w[i];
    if (P_MOMENTUM != 0.0) {
        float b = P_MOMENTUM * buf[i] + grad; // buf starts at zero: PyTorch's first buf = g
        buf[i] = b;
        grad = b;
    }
    w[i] -= P_LR * grad;
}
