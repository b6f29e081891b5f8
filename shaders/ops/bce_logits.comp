// bce_logits: logits:[n,in] -> loss:[n]; binary cross-entropy of each
// logit against the constant target P_MODE (1 real, 0 fake): softplus(-l)
// or softplus(l). One invocation per row; padding rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) writeonly buffer LOSS { float loss[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float sign = P_MODE == 1u ? -1.0 : 1.0;
    float acc = 0.0;
    if (r < valid_rows())
        for (uint j0 = 0u; j0 < P_IN; j0 += 4u) /* unrolled: lavapipe's loop budget */
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint j = j0 + u;
                if (j < P_IN) {
                    acc += softplus(sign * l[r * P_IN + j]);
                }
            }
    loss[r] = acc;
}
