// conv2d: x:[n,c_in,h_in,w_in] w:[c_out,c_in,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out]
// y = act(b + sum over the receptive field), input pixel (oy*stride - pad + ky, ...);
// one invocation per output element, taps outside the input skipped.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_C_OUT * P_H_OUT * P_W_OUT) return;
    uint ox = i % P_W_OUT, oy = (i / P_W_OUT) % P_H_OUT;
    uint co = (i / (P_W_OUT * P_H_OUT)) % P_C_OUT, s = i / (P_W_OUT * P_H_OUT * P_C_OUT);
    int y0 = int(oy * P_STRIDE) - int(P_PAD), x0 = int(ox * P_STRIDE) - int(P_PAD);
    float acc = b[co];
    for (uint ci = 0; ci < P_C_IN; ci++) {
        uint xbase = (s * P_C_IN + ci) * P_H_IN * P_W_IN;
        uint wbase = (co * P_C_IN + ci) * P_K * P_K;
        for (uint ky = 0; ky < P_K; ky++) {
            int iy = y0 + int(ky);
            if (iy < 0 || iy >= int(P_H_IN)) continue;
            for (uint kx = 0; kx < P_K; kx++) {
                int ix = x0 + int(kx);
                if (ix < 0 || ix >= int(P_W_IN)) continue;
                acc += x[xbase + uint(iy) * P_W_IN + uint(ix)] * w[wbase + ky * P_K + kx];
            }
        }
    }
    y[i] = activate(acc);
}
