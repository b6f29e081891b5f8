// sgd: p:[in] g:[in] buf:[in], in place; torch.optim.SGD (no dampening, no Nesterov)
// 4 OPT_QUADS parameters per invocation, as adam.comp (which says why).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define VKVAE_OPTIMIZER
#include "common.glsl"
layout(std430, binding = 0) buffer P { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer B { float buf[]; };
layout(std430, binding = 0) buffer P4 { vec4 w4[]; };
layout(std430, binding = 1) readonly buffer G4 { vec4 g4[]; };
layout(std430, binding = 2) buffer B4 { vec4 buf4[]; };

/* One update of 4 parameters; the momentum buffer in place. */
vec4 sgd(vec4 param, vec4 grad, inout vec4 b)
{
    grad += P_WEIGHT_DECAY * param;
    if (P_MOMENTUM != 0.0) {
        b = P_MOMENTUM * b + grad; // buf starts at zero: PyTorch's first buf = g
        grad = b;
    }
    return param - P_LR * grad;
}

void main()
{
    uint q = element_index() * OPT_QUADS, i = 4u * q;
    if (i >= P_IN) return;
    if (i + 4u * OPT_QUADS <= P_IN) {
        [[unroll]] for (uint u = 0; u < OPT_QUADS; u++) {
            vec4 b = P_MOMENTUM != 0.0 ? buf4[q + u] : vec4(0.0);
            w4[q + u] = sgd(w4[q + u], g4[q + u], b);
            if (P_MOMENTUM != 0.0)
                buf4[q + u] = b;
        }
        return;
    }
    for (; i < P_IN; i++) {
        vec4 b = vec4(P_MOMENTUM != 0.0 ? buf[i] : 0.0);
        w[i] = sgd(vec4(w[i]), vec4(g[i]), b).x;
        if (P_MOMENTUM != 0.0)
            buf[i] = b.x;
    }
}
