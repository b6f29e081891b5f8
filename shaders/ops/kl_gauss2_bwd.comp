// kl_gauss2_bwd: mu lv mp lp -> dmu dlv dmp dlp, written (0 in padding
// rows); g = grad_scale, d = mu - mp, r = e^(lv-lp): dmu = g*d/e^lp,
// dlv = g*0.5*(r - 1), dmp = -dmu, dlp = g*0.5*(1 - r - d^2/e^lp).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) readonly buffer MP { float mp[]; };
layout(std430, binding = 3) readonly buffer LP { float lp[]; };
layout(std430, binding = 4) writeonly buffer DMU { float dmu[]; };
layout(std430, binding = 5) writeonly buffer DLV { float dlv[]; };
layout(std430, binding = 6) writeonly buffer DMP { float dmp[]; };
layout(std430, binding = 7) writeonly buffer DLP { float dlp[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    float g = i < valid_rows() * P_IN ? pc.grad_scale : 0.0;
    float d = mu[i] - mp[i], ip = exp(-lp[i]), r = exp(lv[i] - lp[i]);
    dmu[i] = g * d * ip;
    dlv[i] = g * 0.5 * (r - 1.0);
    dmp[i] = -g * d * ip;
    dlp[i] = g * 0.5 * (1.0 - r - d * d * ip);
}
