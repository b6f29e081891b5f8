// kl_gauss2: mu lv mp lp -> kl:[n]; KL(N(mu, e^lv) || N(mp, e^lp)) summed
// over a row = 0.5*sum(lp - lv + (e^lv + (mu-mp)^2)/e^lp - 1): a posterior
// against a learned prior (a Gaussian of a network, not N(0, I)).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) readonly buffer MP { float mp[]; };
layout(std430, binding = 3) readonly buffer LP { float lp[]; };
layout(std430, binding = 4) writeonly buffer KL { float kl[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float acc = 0.0;
    if (r < valid_rows())
        for (uint j0 = 0u; j0 < P_IN; j0 += 4u) /* unrolled: lavapipe's loop budget */
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint j = j0 + u;
                if (j < P_IN) {
                    uint i = r * P_IN + j;
                    float d = mu[i] - mp[i];
                    acc += lp[i] - lv[i] + (exp(lv[i]) + d * d) * exp(-lp[i]) - 1.0;
                }
            }
    kl[r] = 0.5 * acc;
}
