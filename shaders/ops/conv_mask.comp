// conv_mask: -> w:[c_out,c_in,k,k] in place; zero where a PixelCNN mask is 0:
// taps after the centre in raster order, and the centre too for mask A
// (mode 0); mask B (mode 1) keeps it.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) buffer W { float w[]; };
void main()
{
    uint i = element_index();
    if (i >= P_C_OUT * P_C_IN * P_K * P_K) return;
    uint c = P_K / 2u, tap = i % (P_K * P_K), ky = tap / P_K, kx = tap % P_K;
    bool keep = ky < c || (ky == c && (P_MODE == 0u ? kx < c : kx <= c));
    if (!keep)
        w[i] = 0.0;
}
