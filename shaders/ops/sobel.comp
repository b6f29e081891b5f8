// sobel: x:[n,c_in,h_in,w_in] -> y:[n,1,h_in,w_in]; m = sqrt(gx^2 + gy^2),
// gx and gy Sobel's 3x3 kernels on the channels' mean g with zero padding;
// y = m (mode 0) or m > alpha ? 1 : 0 (mode 1). One invocation per output
// pixel; padding rows 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

float grey(uint r, int iy, int ix)
{
    if (iy < 0 || iy >= int(P_H_IN) || ix < 0 || ix >= int(P_W_IN)) return 0.0;
    uint at = (r * P_C_IN * P_H_IN + uint(iy)) * P_W_IN + uint(ix);
    float sum = 0.0;
    for (uint c = 0u; c < P_C_IN; c++)
        sum += x[at + c * P_H_IN * P_W_IN];
    return sum / float(P_C_IN);
}

void main()
{
    uint i = element_index();
    if (i >= P_N * P_H_IN * P_W_IN) return;
    uint r = i / (P_H_IN * P_W_IN), py = (i / P_W_IN) % P_H_IN, px = i % P_W_IN;
    if (r >= valid_rows()) {
        y[i] = 0.0;
        return;
    }
    float gx = 0.0, gy = 0.0;
    for (int di = -1; di <= 1; di++)
        for (int dj = -1; dj <= 1; dj++) {
            if (di == 0 && dj == 0) continue; // the centre weighs 0 in both kernels
            float g = grey(r, int(py) + di, int(px) + dj);
            gx += float(dj * (2 - abs(di))) * g; // [[-1,0,1],[-2,0,2],[-1,0,1]]
            gy += float(di * (2 - abs(dj))) * g; // its transpose
        }
    float m = sqrt(gx * gx + gy * gy);
    y[i] = P_MODE == 1u ? (m > P_ALPHA ? 1.0 : 0.0) : m;
}
