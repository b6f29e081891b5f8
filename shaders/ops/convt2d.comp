// convt2d: x:[n,c_in,h_in,w_in] w:[c_in,c_out,k,k] b:[c_out] -> y:[n,c_out,h_out,w_out]
// Input pixel (iy, ix) adds x*w[ci,co,ky,kx] to output (iy*stride - pad + ky, ...).
// The plain kernel, for products too narrow for conv_mm.glsl (one output
// channel, say). The output pixels are split into stride^2 phases by
// (oy + pad, ox + pad) mod stride, one per gl_WorkGroupID.z, as
// conv_mm.glsl's scatter does: within a phase every pixel is reached by the
// same taps, ky = (oy + pad) mod stride + stride j from iy = (oy + pad - ky)
// / stride, so the loops do not diverge and the weights' indices are
// uniform over the workgroup.
//
// Each invocation computes CONVT_PX adjacent pixels of one phase row, whose
// inputs are adjacent too: pixel p reads ix0 + p - j for tap j. So per
// input channel and tap row it loads the CONVT_PX + KS - 1 inputs the
// pixels share once, and each weight once for all of them: vae_conv's last
// layer (32 channels to 1, k 4, stride 2) then makes 11 loads per 16
// multiply-adds instead of 2 per one, which is what bounds it on CPU
// drivers (a load is a scalar loop over the SIMD lanes there): 16-20 ms a
// step on lavapipe before, 6.7 with 4 pixels, 5.0 with 8.
// CONVT_PX is VKVAE_CONVT_PIXELS (runtime/plan/plan.h), by which ops.def
// counts the invocations too.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(constant_id = 32) const uint CONVT_PX = 8; /* pixels per invocation */
const uint S = P_STRIDE, KS = (P_K + S - 1u) / S; /* taps per phase and axis, at most */
const uint QH = (P_H_OUT + S - 1u) / S, QW = (P_W_OUT + S - 1u) / S, QB = (QW + CONVT_PX - 1u) / CONVT_PX;
void main()
{
    uint i = element_index();
    if (i >= P_N * P_C_OUT * QH * QB) return;
    uint py = gl_WorkGroupID.z / S, px = gl_WorkGroupID.z % S;
    uint oy = (i / QB) % QH * S + py, ox0 = i % QB * CONVT_PX * S + px;
    uint co = (i / (QB * QH)) % P_C_OUT, s = i / (QB * QH * P_C_OUT);
    if (oy >= P_H_OUT || ox0 >= P_W_OUT) return;
    /* the first tap of the phase, and the input the first pixel reads less j */
    uint ky0 = (py + P_PAD) % S, kx0 = (px + P_PAD) % S;
    int iy0 = int((oy + P_PAD - ky0) / S), ix0 = int((ox0 + P_PAD - kx0) / S);
    float acc[CONVT_PX];
    [[unroll]] for (uint p = 0; p < CONVT_PX; p++)
        acc[p] = 0.0;
    for (uint ky = ky0, jy = 0; ky < P_K; ky += S, jy++) {
        int iy = iy0 - int(jy);
        if (iy < 0 || iy >= int(P_H_IN)) continue;
        for (uint ci = 0; ci < P_C_IN; ci++) {
            /* inputs ix0 - (KS - 1) .. ix0 + CONVT_PX - 1 of row iy; 0 outside */
            uint row = ((s * P_C_IN + ci) * P_H_IN + uint(iy)) * P_W_IN;
            float seg[CONVT_PX + KS - 1u];
            [[unroll]] for (uint t = 0; t < CONVT_PX + KS - 1u; t++) {
                int ix = ix0 - int(KS - 1u) + int(t);
                bool ok = ix >= 0 && ix < int(P_W_IN);
                float v = x[row + uint(clamp(ix, 0, int(P_W_IN) - 1))];
                seg[t] = ok ? v : 0.0;
            }
            uint wrow = ((ci * P_C_OUT + co) * P_K + ky) * P_K;
            [[unroll]] for (uint jx = 0; jx < KS; jx++) {
                uint kx = kx0 + S * jx;
                if (kx >= P_K) break;
                float wv = w[wrow + kx];
                [[unroll]] for (uint p = 0; p < CONVT_PX; p++)
                    acc[p] += seg[p + KS - 1u - jx] * wv;
            }
        }
    }
    [[unroll]] for (uint p = 0; p < CONVT_PX; p++) {
        uint ox = ox0 + p * S;
        if (ox < P_W_OUT)
            y[((s * P_C_OUT + co) * P_H_OUT + oy) * P_W_OUT + ox] = activate(b[co] + acc[p]);
    }
}
