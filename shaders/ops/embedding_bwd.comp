// embedding_bwd: dy:[n,in,out] x:[n,in] -> dw:[classes,out]; dw[k,j] = the
// sum of dy[r,t,j] over the valid rows' steps whose token is k. One
// invocation per element, which walks the steps in order: no atomics, the
// same sum on every run. The steps 8 a pass, unrolled: llvmpipe's 65,535
// loop passes an invocation (docs/architecture.md) then hold 524,000 steps
// of a batch.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
void main()
{
    uint i = element_index();
    if (i >= P_CLASSES * P_OUT) return;
    uint k = i / P_OUT, j = i % P_OUT;
    uint steps = valid_rows() * P_IN;
    float acc = 0.0;
    for (uint s0 = 0u; s0 < steps; s0 += 8u)
        [[unroll]] for (uint u = 0u; u < 8u; u++) {
            uint s = s0 + u;
            if (s < steps &&
                uint(clamp(floor(x[s] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u))) == k)
                acc += dy[s * P_OUT + j];
        }
    dw[i] = acc;
}
