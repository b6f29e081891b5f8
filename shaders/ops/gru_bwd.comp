// gru_bwd: dh:[n,in,out] dlast:[n,out] g:[n,in,4*out] hp:[n,in,out]
// w:[3*out,out] -> dgi:[n,in,3*out] dgh:[n,in,3*out] dh0:[n,out];
// backpropagation through gru's steps, t = in-1 down to 0 (ops.def). One
// workgroup per row, each invocation the units j = lane + 64u as gru's,
// whose carry e it keeps: a step's gate gradients dgh into shared memory
// (3*out floats, 12 KiB at out = 1024), a barrier, then the carry
// e[k] = d[k]*z[k] + sum_j dgh[j]*w[j,k] for its k, walking j 8 a pass
// with the units unrolled (llvmpipe's loop budget: gru's), a barrier
// before the next step overwrites dgh.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DH { float dh[]; };
layout(std430, binding = 1) readonly buffer DLAST { float dlast[]; };
layout(std430, binding = 2) readonly buffer G { float g[]; };
layout(std430, binding = 3) readonly buffer HP { float hp[]; };
layout(std430, binding = 4) readonly buffer W { float w[]; };
layout(std430, binding = 5) writeonly buffer DGI { float dgi[]; };
layout(std430, binding = 6) writeonly buffer DGH { float dgh[]; };
layout(std430, binding = 7) writeonly buffer DH0 { float dh0[]; };
const uint MAX_UNITS = 16u, UNITS = (P_OUT + 63u) / 64u; // a lane's, at most and here
shared float dgh_step[3u * P_OUT];
void main()
{
    uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint lane = gl_LocalInvocationID.x;
    if (r >= P_N) return; // uniform over the workgroup
    float e[MAX_UNITS];
    [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
        uint j = lane + 64u * u;
        e[u] = u < UNITS && j < P_OUT ? dlast[r * P_OUT + j] : 0.0;
    }
    for (uint t = P_IN; t-- > 0u;) {
        uint step = r * P_IN + t;
        [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
            uint j = lane + 64u * u;
            if (u < UNITS && j < P_OUT) {
                uint at = step * 3u * P_OUT + j, ga = step * 4u * P_OUT + j;
                float rg = g[ga], zg = g[ga + P_OUT], c = g[ga + 2u * P_OUT];
                float ghn = g[ga + 3u * P_OUT];
                float d = dh[step * P_OUT + j] + e[u];
                float dc = d * (1.0 - zg) * (1.0 - c * c);
                float dz = d * (hp[step * P_OUT + j] - c) * zg * (1.0 - zg);
                float dr = dc * ghn * rg * (1.0 - rg);
                dgi[at] = dr;
                dgi[at + P_OUT] = dz;
                dgi[at + 2u * P_OUT] = dc;
                dgh[at] = dr;
                dgh[at + P_OUT] = dz;
                dgh[at + 2u * P_OUT] = dc * rg;
                dgh_step[j] = dr;
                dgh_step[P_OUT + j] = dz;
                dgh_step[2u * P_OUT + j] = dc * rg;
                e[u] = d * zg;
            }
        }
        barrier();
        for (uint j0 = 0u; j0 < P_OUT; j0 += 8u)
            [[unroll]] for (uint v = 0u; v < 8u; v++) {
                uint j = j0 + v;
                if (j < P_OUT) {
                    float gr = dgh_step[j], gz = dgh_step[P_OUT + j];
                    float gn = dgh_step[2u * P_OUT + j];
                    [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
                        uint k = lane + 64u * u;
                        if (u < UNITS && k < P_OUT)
                            e[u] += gr * w[j * P_OUT + k] + gz * w[(P_OUT + j) * P_OUT + k] +
                                    gn * w[(2u * P_OUT + j) * P_OUT + k];
                    }
                }
            }
        barrier();
    }
    [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
        uint k = lane + 64u * u;
        if (u < UNITS && k < P_OUT)
            dh0[r * P_OUT + k] = e[u];
    }
}
