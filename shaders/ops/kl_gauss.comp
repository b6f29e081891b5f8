// kl_gauss: mu:[n,in] lv:[n,in] -> kl:[n]; kl = 0.5*sum(mu^2 + exp(lv) - 1 - lv);
// with alpha > 0 (free bits, training only) a dimension whose batch mean is
// under alpha counts alpha (kl_free_bits.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer MU { float mu[]; };
layout(std430, binding = 1) readonly buffer LV { float lv[]; };
layout(std430, binding = 2) writeonly buffer KL { float kl[]; };
#include "kl_free_bits.glsl"
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    float acc = 0.0;
    if (r < valid_rows())
        for (uint j0 = 0u; j0 < P_IN; j0 += 4u) { /* unrolled: lavapipe's loop budget */
            vec4 col = P_ALPHA > 0.0 ? kl_cols(j0) : vec4(0.0);
            [[unroll]] for (uint u = 0u; u < 4u; u++) {
                uint j = j0 + u;
                if (j < P_IN) {
                    float m = mu[r * P_IN + j], l = lv[r * P_IN + j];
                    acc += P_ALPHA > 0.0 && kl_col_free(col[u]) ? 2.0 * P_ALPHA
                                                                : m * m + exp(l) - 1.0 - l;
                }
            }
        }
    kl[r] = 0.5 * acc;
}
