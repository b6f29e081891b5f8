// convt2d: x:[n,c_in,h_in,w_in] w:[c_in,c_out,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out]
// Input pixel (iy, ix) adds x*w[ci,co,ky,kx] to output (iy*stride - pad + ky, ...).
// One invocation per output element gathers those inputs: tap ky reaches oy
// from iy = (oy + pad - ky) / stride when that divides exactly and lies
// inside the input; then bias and act.
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
    float acc = 0.0;
    for (uint ky = 0; ky < P_K; ky++) {
        int ty = int(oy + P_PAD) - int(ky);
        if (ty < 0 || uint(ty) % P_STRIDE != 0u) continue;
        uint iy = uint(ty) / P_STRIDE;
        if (iy >= P_H_IN) continue;
        for (uint kx = 0; kx < P_K; kx++) {
            int tx = int(ox + P_PAD) - int(kx);
            if (tx < 0 || uint(tx) % P_STRIDE != 0u) continue;
            uint ix = uint(tx) / P_STRIDE;
            if (ix >= P_W_IN) continue;
            for (uint ci = 0; ci < P_C_IN; ci++)
                acc += x[((s * P_C_IN + ci) * P_H_IN + iy) * P_W_IN + ix] *
                       w[((ci * P_C_OUT + co) * P_K + ky) * P_K + kx];
        }
    }
    y[i] = activate(b[co] + acc);
}
