// kl_gauss_bwd: mu lv -> dmu += g*mu, dlv += g*0.5*(exp(lv)-1), g =
// kl_weight*grad_scale, over the valid rows (mode 0); mode 1 writes them
// instead with g = grad_scale, 0 in padding rows (a loss gradient of its
// own, as kl_gauss2_bwd's: M2's class copies, a term weight by scale).
// With alpha > 0 (free bits) a free dimension's g is 0.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) buffer DMU { float dmu[]; };
layout(std430, binding = 3) buffer DLV { float dlv[]; };
#include "kl_free_bits.glsl"
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    bool valid = i < valid_rows() * P_IN;
    float g = (P_MODE == 1u ? 1.0 : pc.kl_weight) * pc.grad_scale;
    uint j = i % P_IN;
    if (P_ALPHA > 0.0 && valid && kl_col_free(kl_cols(j - j % 4u)[j % 4u]))
        g = 0.0;
    if (P_MODE == 1u) {
        dmu[i] = valid ? g * mu[i] : 0.0;
        dlv[i] = valid ? g * 0.5 * (exp(lv[i]) - 1.0) : 0.0;
    } else if (valid) {
        dmu[i] += g * mu[i];
        dlv[i] += g * 0.5 * (exp(lv[i]) - 1.0);
    }
}
