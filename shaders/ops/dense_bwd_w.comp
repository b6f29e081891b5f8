// dense_bwd_w: dy:[n,out] x:[n,in] -> dw:[out,in] db:[out]; dw = dy^T x, db = sum_rows dy
// Elements [0, out*in) are dw, then [out*in, out*in+out) are db.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
void main()
{
    uint i = element_index();
    if (i < P_OUT * P_IN) {
        uint o = i / P_IN, k = i % P_IN;
        float acc = 0.0;
        for (uint r = 0; r < P_N; r++)
            acc += dy[r * P_OUT + o] * x[r * P_IN + k];
        dw[i] = acc;
    } else if (i < P_OUT * P_IN + P_OUT) {
        uint o = i - P_OUT * P_IN;
        float acc = 0.0;
        for (uint r = 0; r < P_N; r++)
            acc += dy[r * P_OUT + o];
        db[o] = acc;
    }
}
