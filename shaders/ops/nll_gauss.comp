// nll_gauss: mean:[n,in] lv:([1] | [in] | [n,in] for mode 0|1|2) x:[n,in] -> nll:[n]
// Mode 0 (a fixed variance) takes its log-variance from P_ALPHA, not lv.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer M { float mean[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer NLL { float nll[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    const float log_2pi = 1.8378770664093453;
    float acc = 0.0;
    if (r < valid_rows())
        for (uint j0 = 0u; j0 < P_IN; j0 += 4u) /* unrolled: lavapipe's loop budget */
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint j = j0 + u;
                if (j < P_IN) {
                    uint i = r * P_IN + j;
                    float l = P_MODE == 0u ? P_ALPHA : lv[P_MODE == 1u ? j : i];
                    float d = x[i] - mean[i];
                    acc += log_2pi + l + d * d * exp(-l);
                }
            }
    nll[r] = 0.5 * acc;
}
