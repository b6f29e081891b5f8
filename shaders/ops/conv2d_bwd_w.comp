// conv2d_bwd_w: dy:[n,c_out,h_out,w_out] x:[n,c_in,h_in,w_in] -> dw:[c_out,c_in,k,k] db:[c_out]
// dw[co,ci,ky,kx] = sum over (s, oy, ox) of dy[s,co,oy,ox] * x[s,ci,oy*stride-pad+ky, ...]
// (taps outside the input add nothing); db[co] = sum of dy[:,co]. One
// workgroup per element: workgroups [0, c_out*c_in*k*k) are dw, the next
// c_out are db. Its 64 invocations take strided shares of the n*h_out*w_out
// terms, then a tree in shared memory adds the partial sums in a fixed
// order, so the result is deterministic without atomics.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
shared float partial[64];
void main()
{
    uint e = element_index() / 64u, t = gl_LocalInvocationID.x;
    const uint KK = P_K * P_K, NW = P_C_OUT * P_C_IN * KK, HW = P_H_OUT * P_W_OUT;
    if (e >= NW + P_C_OUT) return; // uniform over the workgroup
    float acc = 0.0;
    if (e < NW) {
        uint kx = e % P_K, ky = (e / P_K) % P_K, ci = (e / KK) % P_C_IN, co = e / (KK * P_C_IN);
        for (uint j = t; j < P_N * HW; j += 64u) {
            uint s = j / HW, oy = (j / P_W_OUT) % P_H_OUT, ox = j % P_W_OUT;
            int iy = int(oy * P_STRIDE + ky) - int(P_PAD), ix = int(ox * P_STRIDE + kx) - int(P_PAD);
            if (iy < 0 || iy >= int(P_H_IN) || ix < 0 || ix >= int(P_W_IN)) continue;
            acc += dy[(s * P_C_OUT + co) * HW + oy * P_W_OUT + ox] *
                   x[((s * P_C_IN + ci) * P_H_IN + uint(iy)) * P_W_IN + uint(ix)];
        }
    } else {
        uint co = e - NW;
        for (uint j = t; j < P_N * HW; j += 64u)
            acc += dy[((j / HW) * P_C_OUT + co) * HW + j % HW];
    }
    partial[t] = acc;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0u) {
        if (e < NW)
            dw[e] = partial[0];
        else
            db[e - NW] = partial[0];
    }
}
