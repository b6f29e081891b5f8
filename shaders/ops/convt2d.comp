// convt2d: x:[n,c_in,h_in,w_in] w:[c_in,c_out,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out]
// Input pixel (iy, ix) adds x*w[ci,co,ky,kx] to output (iy*stride - pad + ky, ...).
// The plain kernel, for products too narrow for conv_mm.glsl (one output
// channel, say). Each invocation gathers one output element's inputs. The
// output pixels are split into stride^2 phases by (oy + pad, ox + pad) mod
// stride, one per gl_WorkGroupID.z, as conv_mm.glsl's scatter does: within
// a phase every pixel is reached by the same taps, ky = (oy + pad) mod
// stride + stride j from iy = (oy + pad - ky) / stride, so the loops do not
// diverge and the weights' indices are uniform over the workgroup (one load
// for all lanes on a CPU driver, instead of a masked pass per phase).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
const uint QH = (P_H_OUT + P_STRIDE - 1u) / P_STRIDE, QW = (P_W_OUT + P_STRIDE - 1u) / P_STRIDE;
void main()
{
    uint i = element_index();
    if (i >= P_N * P_C_OUT * QH * QW) return;
    uint py = gl_WorkGroupID.z / P_STRIDE, px = gl_WorkGroupID.z % P_STRIDE;
    uint oy = (i / QW) % QH * P_STRIDE + py, ox = i % QW * P_STRIDE + px;
    uint co = (i / (QW * QH)) % P_C_OUT, s = i / (QW * QH * P_C_OUT);
    if (oy >= P_H_OUT || ox >= P_W_OUT) return;
    /* the first tap of the phase, and the input row it reads less j */
    uint ky0 = (py + P_PAD) % P_STRIDE, kx0 = (px + P_PAD) % P_STRIDE;
    int iy0 = int((oy + P_PAD - ky0) / P_STRIDE), ix0 = int((ox + P_PAD - kx0) / P_STRIDE);
    float acc = 0.0;
    for (uint ky = ky0, jy = 0; ky < P_K; ky += P_STRIDE, jy++) {
        int iy = iy0 - int(jy);
        if (iy < 0 || iy >= int(P_H_IN)) continue;
        for (uint kx = kx0, jx = 0; kx < P_K; kx += P_STRIDE, jx++) {
            int ix = ix0 - int(jx);
            if (ix < 0 || ix >= int(P_W_IN)) continue;
            for (uint ci = 0; ci < P_C_IN; ci++)
                acc += x[((s * P_C_IN + ci) * P_H_IN + uint(iy)) * P_W_IN + uint(ix)] *
                       w[((ci * P_C_OUT + co) * P_K + ky) * P_K + kx];
        }
    }
    y[((s * P_C_OUT + co) * P_H_OUT + oy) * P_W_OUT + ox] = activate(b[co] + acc);
}
