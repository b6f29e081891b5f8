// nll_gauss: mean:[n,in] lv:([1] | [in] | [n,in] for mode 0|1|2) x:[n,in] -> nll:[n]
// Mode 0 (a fixed variance) takes its log-variance from P_ALPHA, not lv.
// One workgroup per row (row_sum.glsl: a row per invocation left a GPU two
// workgroups at batch 128). Padding rows get 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "row_sum.glsl"
layout(std430, binding = 0) readonly buffer M { float mean[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer NLL { float nll[]; };
void main()
{
    uint r = row_index();
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    if (r >= P_N) return; // uniform over the workgroup
    const float log_2pi = 1.8378770664093453;
    float acc = 0.0;
    for (uint j = t; r < valid_rows() && j < P_IN; j += lanes) {
        uint i = r * P_IN + j;
        float l = P_MODE == 0u ? P_ALPHA : lv[P_MODE == 1u ? j : i];
        float d = x[i] - mean[i];
        acc += log_2pi + l + d * d * exp(-l);
    }
    float sum = row_sum(acc, t);
    if (t == 0u)
        nll[r] = 0.5 * sum;
}
