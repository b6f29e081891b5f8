// sample_pixel: l:[n,in] (mode 0) or [n,classes,in] (mode 1) -> x:[n,in] in
// place; pass p = push.base of autoregressive sampling draws pixel p-1
// (p > 0) with the Philox uniform u of its element: mode 0 a Bernoulli of
// sigmoid(l), mode 1 the first class whose cumulative softmax exceeds u,
// as k/(classes-1); pixels from p on are cleared, those drawn before kept.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) buffer X { float x[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint j = i % P_IN;
    if (j >= pc.base) {
        x[i] = 0.0;
        return;
    }
    if (j + 1u != pc.base)
        return;
    float u = vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i);
    if (P_MODE == 0u) {
        x[i] = u < sigmoid(l[i]) ? 1.0 : 0.0;
        return;
    }
    uint at = (i / P_IN) * P_CLASSES * P_IN + j;
    float m = l[at];
    for (uint c = 1u; c < P_CLASSES; c++)
        m = max(m, l[at + c * P_IN]);
    float s = 0.0;
    for (uint c = 0u; c < P_CLASSES; c++)
        s += exp(l[at + c * P_IN] - m);
    float cdf = 0.0;
    uint k = 0u;
    for (; k + 1u < P_CLASSES; k++) {
        cdf += exp(l[at + k * P_IN] - m) / s;
        if (u < cdf)
            break;
    }
    x[i] = float(k) / float(P_CLASSES - 1u);
}
