// gru: gi:[n,in,3*out] w:[3*out,out] b:[3*out] h0:[n,out] -> h:[n,in,out]
// last:[n,out] hp:[n,in,out] g:[n,in,4*out]; PyTorch's GRU layer over in
// steps of out units, gates in its (r, z, n) order (ops.def). One workgroup
// per row runs the steps in order: the state in shared memory, h[t-1] and
// h[t] by turns (one barrier a step), each invocation the units
// j = lane + 64u, u < 16 (out <= 1024: op_info.c). The product hp[t] w^T
// walks k 8 a pass with the units unrolled, so llvmpipe's 65,535 loop
// passes an invocation (docs/architecture.md) hold in*out to 524,000.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer GI { float gi[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) readonly buffer H0 { float h0[]; };
layout(std430, binding = 4) writeonly buffer H { float h[]; };
layout(std430, binding = 5) writeonly buffer LAST { float last[]; };
layout(std430, binding = 6) writeonly buffer HP { float hp[]; };
layout(std430, binding = 7) writeonly buffer G { float g[]; };
const uint MAX_UNITS = 16u, UNITS = (P_OUT + 63u) / 64u; // a lane's, at most and here
shared float state[2u * P_OUT];
void main()
{
    uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint lane = gl_LocalInvocationID.x;
    if (r >= P_N) return; // uniform over the workgroup
    for (uint k = lane; k < P_OUT; k += 64u)
        state[k] = h0[r * P_OUT + k];
    barrier();
    for (uint t = 0u; t < P_IN; t++) {
        uint from = (t % 2u) * P_OUT, to = P_OUT - from;
        float ar[MAX_UNITS], az[MAX_UNITS], an[MAX_UNITS];
        [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
            ar[u] = 0.0;
            az[u] = 0.0;
            an[u] = 0.0;
        }
        for (uint k0 = 0u; k0 < P_OUT; k0 += 8u)
            [[unroll]] for (uint v = 0u; v < 8u; v++) {
                uint k = k0 + v;
                if (k < P_OUT) {
                    float hk = state[from + k];
                    [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
                        uint j = lane + 64u * u;
                        if (u < UNITS && j < P_OUT) {
                            ar[u] += w[j * P_OUT + k] * hk;
                            az[u] += w[(P_OUT + j) * P_OUT + k] * hk;
                            an[u] += w[(2u * P_OUT + j) * P_OUT + k] * hk;
                        }
                    }
                }
            }
        uint step = r * P_IN + t;
        [[unroll]] for (uint u = 0u; u < MAX_UNITS; u++) {
            uint j = lane + 64u * u;
            if (u < UNITS && j < P_OUT) {
                uint at = step * 3u * P_OUT + j, ga = step * 4u * P_OUT + j;
                float ghn = an[u] + b[2u * P_OUT + j];
                float rg = sigmoid(gi[at] + ar[u] + b[j]);
                float zg = sigmoid(gi[at + P_OUT] + az[u] + b[P_OUT + j]);
                float c = tanh(gi[at + 2u * P_OUT] + rg * ghn);
                float prev = state[from + j], next = (1.0 - zg) * c + zg * prev;
                state[to + j] = next;
                h[step * P_OUT + j] = next;
                hp[step * P_OUT + j] = prev;
                g[ga] = rg;
                g[ga + P_OUT] = zg;
                g[ga + 2u * P_OUT] = c;
                g[ga + 3u * P_OUT] = ghn;
                if (t + 1u == P_IN)
                    last[r * P_OUT + j] = next;
            }
        }
        barrier(); // h[t] whole before step t+1 reads it and overwrites h[t-1]
    }
}
