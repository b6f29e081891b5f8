// vq_nearest: z:[n,c_in,in] e:[classes,c_in] -> zq:[n,c_in,in] idx:[n,in];
// one invocation per position p of a row: the nearest code by squared L2
// (the lowest index of equal distances), its values into zq, its index
// into idx. `precise` keeps each distance one multiply and one add a
// term, in order, as the CPU computes it: a fused multiply-add would round
// differently and could pick another code at a near tie.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer E { float e[]; };
layout(std430, binding = 2) writeonly buffer ZQ { float zq[]; };
layout(std430, binding = 3) writeonly buffer IDX { float idx[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, p = i % P_IN, at = r * P_C_IN * P_IN + p;
    uint best = 0u;
    float best_d = 0.0;
    for (uint k = 0u; k < P_CLASSES; k++) {
        precise float d = 0.0;
        /* four values a pass: lavapipe stops an invocation's loops after
         * 65,535 iterations in all (gallivm's loop limiter), and unrolled
         * ones do not count */
        for (uint c0 = 0u; c0 < P_C_IN; c0 += 4u)
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint c = c0 + u;
                if (c < P_C_IN) {
                    precise float t = z[at + c * P_IN] - e[k * P_C_IN + c];
                    d = d + t * t;
                }
            }
        if (k == 0u || d < best_d) {
            best = k;
            best_d = d;
        }
    }
    for (uint c = 0u; c < P_C_IN; c++)
        zq[at + c * P_IN] = e[best * P_C_IN + c];
    idx[i] = float(best);
}
