// convt2d_bwd_x: dy:[n,c_out,h_out,w_out] w:[c_in,c_out,k,k] x:[n,c_in,h_in,w_in] -> dx:[n,c_in,h_in,w_in], times act'(x)
// dx[s,ci,iy,ix] = sum over co, ky, kx of dy[s,co,iy*stride-pad+ky, ...] * w[ci,co,ky,kx],
// taps outside the output skipped: a plain convolution of dy, one
// invocation per dx element.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer DX { float dx[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_C_IN * P_H_IN * P_W_IN) return;
    uint ix = i % P_W_IN, iy = (i / P_W_IN) % P_H_IN;
    uint ci = (i / (P_W_IN * P_H_IN)) % P_C_IN, s = i / (P_W_IN * P_H_IN * P_C_IN);
    int y0 = int(iy * P_STRIDE) - int(P_PAD), x0 = int(ix * P_STRIDE) - int(P_PAD);
    float acc = 0.0;
    for (uint co = 0; co < P_C_OUT; co++) {
        uint dbase = (s * P_C_OUT + co) * P_H_OUT * P_W_OUT;
        uint wbase = (ci * P_C_OUT + co) * P_K * P_K;
        for (uint ky = 0; ky < P_K; ky++) {
            int oy = y0 + int(ky);
            if (oy < 0 || oy >= int(P_H_OUT)) continue;
            for (uint kx = 0; kx < P_K; kx++) {
                int ox = x0 + int(kx);
                if (ox < 0 || ox >= int(P_W_OUT)) continue;
                acc += dy[dbase + uint(oy) * P_W_OUT + uint(ox)] * w[wbase + ky * P_K + kx];
            }
        }
    }
    dx[i] = P_ACT != ACT_NONE ? acc * activate_grad(x[i]) : acc; // the activation below (ops.def)
}
