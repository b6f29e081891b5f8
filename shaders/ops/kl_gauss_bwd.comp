// kl_gauss_bwd: mu lv -> dmu += g*mu, dlv += g*0.5*(exp(lv)-1), g = kl_weight*grad_scale
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) buffer DMU { float dmu[]; };
layout(std430, binding = 3) buffer DLV { float dlv[]; };
void main()
{
    uint i = element_index();
    if (i >= valid_rows() * P_IN) return;
    float g = pc.kl_weight * pc.grad_scale;
    dmu[i] += g * mu[i];
    dlv[i] += g * 0.5 * (exp(lv[i]) - 1.0);
}
