// vq_count: idx:[n,in] -> count:[classes] += the valid rows' positions that
// chose each code; one invocation per code
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer IDX { float idx[]; };
layout(std430, binding = 1) buffer COUNT { float count[]; };
void main()
{
    uint k = element_index();
    if (k >= P_CLASSES) return;
    uint rows = valid_rows(), m = 0u;
    for (uint j = 0u; j < rows * P_IN; j++)
        m += uint(idx[j]) == k ? 1u : 0u;
    count[k] += float(m);
}
