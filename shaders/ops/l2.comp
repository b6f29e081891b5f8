// l2: y:[n,in] x:[n,in] -> loss:[n] = sum((y-x)^2)
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
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
                    float d = y[r * P_IN + j] - x[r * P_IN + j];
                    acc += d * d;
                }
            }
    loss[r] = acc;
}
