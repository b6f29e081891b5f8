// nll_categorical: logits:[n,classes,in] x:[n,in] -> nll:[n]; per value p
// of a row, logsumexp over its classes' logits (channel c: l[r,c,p]) minus
// the logit of its class, k = clamp(floor(x*classes), 0, classes-1). One
// workgroup per row, its invocations taking strided positions
// (row_sum.glsl). Padding rows get 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "row_sum.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer NLL { float nll[]; };
void main()
{
    uint r = row_index();
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    if (r >= P_N) return; // uniform over the workgroup
    bool valid = r < valid_rows();
    float acc = 0.0;
    for (uint j = t; valid && j < P_IN; j += lanes) {
        uint at = r * P_CLASSES * P_IN + j;
        /* the classes 8 a pass: unrolled, so llvmpipe's limit of 65,535
         * loop passes an invocation (docs/architecture.md) holds to 8,000
         * values a lane at 256 classes */
        float m = l[at];
        for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
            [[unroll]] for (uint u = 0u; u < 8u; u++)
                if (c0 + u < P_CLASSES)
                    m = max(m, l[at + (c0 + u) * P_IN]);
        float s = 0.0;
        for (uint c0 = 0u; c0 < P_CLASSES; c0 += 8u)
            [[unroll]] for (uint u = 0u; u < 8u; u++)
                if (c0 + u < P_CLASSES)
                    s += exp(l[at + (c0 + u) * P_IN] - m);
        uint k = uint(clamp(floor(x[r * P_IN + j] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
        acc += m + log(s) - l[at + k * P_IN];
    }
    float sum = row_sum(acc, t);
    if (t == 0u)
        nll[r] = sum;
}
