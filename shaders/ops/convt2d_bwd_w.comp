// convt2d_bwd_w: dy:[n,c_out,h_out,w_out] x:[n,c_in,h_in,w_in] -> dw:[c_in,c_out,k,k] db:[c_out]
// dw[ci,co,ky,kx] = sum over (s, iy, ix) of x[s,ci,iy,ix] * dy[s,co,iy*stride-pad+ky, ...]
// (taps outside the output add nothing); db[co] = sum of dy[:,co]. One
// workgroup per element, as conv2d_bwd_w: workgroups [0, c_in*c_out*k*k)
// are dw, the next c_out are db; strided shares, then a fixed tree.
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
    const uint KK = P_K * P_K, NW = P_C_IN * P_C_OUT * KK;
    const uint HWI = P_H_IN * P_W_IN, HWO = P_H_OUT * P_W_OUT;
    if (e >= NW + P_C_OUT) return; // uniform over the workgroup
    float acc = 0.0;
    if (e < NW) {
        uint kx = e % P_K, ky = (e / P_K) % P_K, co = (e / KK) % P_C_OUT, ci = e / (KK * P_C_OUT);
        for (uint j = t; j < P_N * HWI; j += 64u) {
            uint s = j / HWI, iy = (j / P_W_IN) % P_H_IN, ix = j % P_W_IN;
            int oy = int(iy * P_STRIDE + ky) - int(P_PAD), ox = int(ix * P_STRIDE + kx) - int(P_PAD);
            if (oy < 0 || oy >= int(P_H_OUT) || ox < 0 || ox >= int(P_W_OUT)) continue;
            acc += x[(s * P_C_IN + ci) * HWI + iy * P_W_IN + ix] *
                   dy[((s * P_C_OUT + co) * P_H_OUT + uint(oy)) * P_W_OUT + uint(ox)];
        }
    } else {
        uint co = e - NW;
        for (uint j = t; j < P_N * HWO; j += 64u)
            acc += dy[((j / HWO) * P_C_OUT + co) * HWO + j % HWO];
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
