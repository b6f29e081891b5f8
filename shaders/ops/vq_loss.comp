// vq_loss: z:[n,in] zq:[n,in] -> loss:[n] = (1 + alpha) * sum((z - zq)^2):
// the codebook loss plus beta (alpha) times the commitment loss; mode 1
// (codes by EMA): alpha * sum, the commitment alone
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer ZQ { float zq[]; };
layout(std430, binding = 2) writeonly buffer LOSS { float loss[]; };
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
                    float d = z[r * P_IN + j] - zq[r * P_IN + j];
                    acc += d * d;
                }
            }
    loss[r] = (P_MODE == 1u ? P_ALPHA : 1.0 + P_ALPHA) * acc;
}
