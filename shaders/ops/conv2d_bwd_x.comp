// conv2d_bwd_x: dy:[n,c_out,h_out,w_out] w:[c_out,c_in,k,k] x:[n,c_in,h_in,w_in] -> dx:[n,c_in,h_in,w_in], times act'(x)
// One invocation per dx element gathers the outputs whose window covers it:
// tap ky reaches iy from oy = (iy + pad - ky) / stride when that divides
// exactly and lands inside the output. No atomics, so sums are ordered.
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
    float acc = 0.0;
    for (uint ky = 0; ky < P_K; ky++) {
        int ty = int(iy + P_PAD) - int(ky);
        if (ty < 0 || uint(ty) % P_STRIDE != 0u) continue;
        uint oy = uint(ty) / P_STRIDE;
        if (oy >= P_H_OUT) continue;
        for (uint kx = 0; kx < P_K; kx++) {
            int tx = int(ix + P_PAD) - int(kx);
            if (tx < 0 || uint(tx) % P_STRIDE != 0u) continue;
            uint ox = uint(tx) / P_STRIDE;
            if (ox >= P_W_OUT) continue;
            for (uint co = 0; co < P_C_OUT; co++)
                acc += dy[((s * P_C_OUT + co) * P_H_OUT + oy) * P_W_OUT + ox] *
                       w[((co * P_C_IN + ci) * P_K + ky) * P_K + kx];
        }
    }
    dx[i] = P_ACT != ACT_NONE ? acc * activate_grad(x[i]) : acc; // the activation below (ops.def)
}
