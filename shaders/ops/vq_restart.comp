// vq_restart: z:[n,c_in,in] idx:[n,in] -> e:[classes,c_in] in place; each
// code that no valid position of the batch chose moves onto the z of a
// position drawn at random (the Philox word of element k, scaled to the
// valid positions in integers, so every backend draws the same). One
// workgroup per code: its 64 invocations count the code's positions, a
// tree adds them, then they copy the drawn position's values.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer IDX { float idx[]; };
layout(std430, binding = 2) buffer E { float e[]; };
shared uint partial[64];
void main()
{
    uint k = element_index() / 64u, t = gl_LocalInvocationID.x;
    if (k >= P_CLASSES) return; // uniform over the workgroup
    uint positions = valid_rows() * P_IN, m = 0u;
    for (uint j = t; j < positions; j += 64u)
        m += uint(idx[j]) == k ? 1u : 0u;
    partial[t] = m;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (partial[0] > 0u || positions == 0u)
        return; // uniform: every invocation reads the sum after the barrier
    uint hi, lo;
    umulExtended(vkvae_rand_u32(pc.seed, P_STREAM, pc.step, k), positions, hi, lo);
    uint r = hi / P_IN, p = hi % P_IN;
    for (uint d = t; d < P_C_IN; d += 64u)
        e[k * P_C_IN + d] = z[(r * P_C_IN + d) * P_IN + p];
}
