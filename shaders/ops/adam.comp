// adam: p:[in] g:[in] m:[in] v:[in], in place; torch.optim.Adam (mode 0) or
// AdamW (mode 1), t = step+1, in the order of PyTorch's _single_tensor_adam.
// One invocation updates 4 OPT_QUADS consecutive parameters (common.glsl;
// runtime/gpu/kernels.c sizes the grid to match) with whole vec4 loads and
// stores: the update is bound by memory traffic, and CPU drivers (lavapipe)
// pay per load instruction and per invocation, not per byte (16 parameters
// an invocation run the vae_mlp update 1.8x as fast there as 1). GPUs get
// one vec4 an invocation: adjacent lanes then read adjacent vec4s, and a
// 60,000-parameter model still gives a GPU hundreds of workgroups. The
// last, partial block goes element by element.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define VKVAE_OPTIMIZER
#include "common.glsl"
layout(std430, binding = 0) buffer P { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 0) buffer P4 { vec4 w4[]; };
layout(std430, binding = 1) readonly buffer G4 { vec4 g4[]; };
layout(std430, binding = 2) buffer M4 { vec4 m4[]; };
layout(std430, binding = 3) buffer V4 { vec4 v4[]; };

/* One update of 4 parameters; m and v in place, returns the new parameters. */
vec4 adam(vec4 param, vec4 grad, inout vec4 mi, inout vec4 vi)
{
    float t = float(pc.step + 1u);
    float step_size = P_LR / (1.0 - pow(P_BETA1, t));
    float bc2_sqrt = sqrt(1.0 - pow(P_BETA2, t));
    if (P_MODE == 1u)
        param *= 1.0 - P_LR * P_WEIGHT_DECAY;
    else if (P_WEIGHT_DECAY != 0.0)
        grad += P_WEIGHT_DECAY * param;
    mi = mi + (1.0 - P_BETA1) * (grad - mi);
    vi = vi * P_BETA2 + (1.0 - P_BETA2) * grad * grad;
    return param - step_size * mi / (sqrt(vi) / bc2_sqrt + P_EPS);
}

void main()
{
    uint q = element_index() * OPT_QUADS, i = 4u * q;
    if (i >= P_IN) return;
    if (i + 4u * OPT_QUADS <= P_IN) {
        [[unroll]] for (uint u = 0; u < OPT_QUADS; u++) {
            vec4 mi = m4[q + u], vi = v4[q + u];
            vec4 param = adam(w4[q + u], g4[q + u], mi, vi);
            m4[q + u] = mi;
            v4[q + u] = vi;
            w4[q + u] = param;
        }
        return;
    }
    for (; i < P_IN; i++) {
        vec4 mi = vec4(m[i]), vi = vec4(v[i]);
        w[i] = adam(vec4(w[i]), vec4(g[i]), mi, vi).x;
        m[i] = mi.x;
        v[i] = vi.x;
    }
}
