// sample_pixel: l:[n,in] (mode 0), [n,classes,in] (mode 1) or
// [n,in,classes] (mode 2: a sequence's tokens) -> x:[n,in] in place; pass
// p = push.base of autoregressive sampling draws pixel p-1 (p > 0) with the
// Philox uniform u of its element: mode 0 a Bernoulli of sigmoid(l), mode 1
// the first class whose cumulative softmax exceeds u, as k/(classes-1),
// mode 2 the same over softmax(l/push.temperature) (temperature 0: the
// first largest logit); pixels from p on are cleared, those drawn before
// kept.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) buffer X { float x[]; };
/* A token of the logits l[at..at+classes), as mode 2 draws it; the classes
 * 8 a pass, unrolled: llvmpipe's 65,535 loop passes an invocation
 * (docs/architecture.md) then hold a vocabulary of 170,000. */
uint sample_token(uint at, float u)
{
    float m = l[at];
    uint best = 0u;
    for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
        [[unroll]] for (uint v = 0u; v < 8u; v++)
            if (c0 + v < P_CLASSES && l[at + c0 + v] > m) {
                m = l[at + c0 + v];
                best = c0 + v;
            }
    if (pc.temperature == 0.0)
        return best;
    float inv = 1.0 / pc.temperature, s = 0.0;
    for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
        [[unroll]] for (uint v = 0u; v < 8u; v++)
            if (c0 + v < P_CLASSES)
                s += exp((l[at + c0 + v] - m) * inv);
    float cdf = 0.0;
    uint k = P_CLASSES - 1u; // the last if none
    bool found = false;
    for (uint c0 = 0u; c0 < P_CLASSES && !found; c0 += 8u)
        [[unroll]] for (uint v = 0u; v < 8u; v++) {
            uint c = c0 + v;
            if (!found && c + 1u < P_CLASSES) {
                cdf += exp((l[at + c] - m) * inv) / s;
                if (u < cdf) {
                    k = c;
                    found = true;
                }
            }
        }
    return k;
}

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
    if (P_MODE == 2u) {
        x[i] = float(sample_token(i * P_CLASSES, u)) / float(P_CLASSES - 1u);
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
