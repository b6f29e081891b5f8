// loss_accum: recon:[n] kl:[n] -> acc:[4] += (sum recon, sum kl, sum recon+kl_weight*kl, rows)
// One workgroup: each invocation sums a strided share of the rows, then a
// tree in shared memory combines the 64 partial sums.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer R { float recon[]; };
layout(std430, binding = 1) readonly buffer K { float kl[]; };
layout(std430, binding = 2) buffer A { float acc[]; };
shared vec3 partial[64];
void main()
{
    uint t = gl_LocalInvocationID.x;
    uint valid = valid_rows();
    vec3 s = vec3(0.0);
    for (uint r = t; r < valid; r += 64u)
        s += vec3(recon[r], kl[r], recon[r] + pc.kl_weight * kl[r]);
    partial[t] = s;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0u) {
        acc[0] += partial[0].x;
        acc[1] += partial[0].y;
        acc[2] += partial[0].z;
        acc[3] += float(valid);
    }
}
