// vq_count: idx:[n,in] -> count:[classes] += the valid rows' positions that
// chose each code. One workgroup per code: its 64 invocations count
// strided shares of the positions (no invocation loops past lavapipe's
// 65,535 iterations), then a tree in shared memory adds them.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer IDX { float idx[]; };
layout(std430, binding = 1) buffer COUNT { float count[]; };
shared uint partial[64];
void main()
{
    uint k = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (k >= P_CLASSES) return; // uniform over the workgroup
    uint m = 0u;
    for (uint j = t; j < valid_rows() * P_IN; j += 64u)
        m += uint(idx[j]) == k ? 1u : 0u;
    partial[t] = m;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0u)
        count[k] += float(partial[0]);
}
