// vq_loss: z:[n,in] zq:[n,in] -> loss:[n] = (1 + alpha) * sum((z - zq)^2):
// the codebook loss plus beta (alpha) times the commitment loss; mode 1
// (codes by EMA): alpha * sum, the commitment alone
#version 450
#extension GL_GOOGLE_include_directive : require
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
        for (uint j = 0; j < P_IN; j++) {
            float d = z[r * P_IN + j] - zq[r * P_IN + j];
            acc += d * d;
        }
    loss[r] = (P_MODE == 1u ? P_ALPHA : 1.0 + P_ALPHA) * acc;
}
