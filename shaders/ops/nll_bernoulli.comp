// nll_bernoulli: logits:[n,in] x:[n,in] -> nll:[n]; one invocation per row,
// reading it in vec4s when rows are whole vec4s (ROW_VEC, common.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer L { float l[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer NLL { float nll[]; };
layout(std430, binding = 0) readonly buffer L4 { vec4 l4[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
void main()
{
    uint r = element_index();
    if (r >= P_N) return;
    vec4 acc = vec4(0.0);
    if (r < valid_rows())
        for (uint j = 0; j < P_IN; j += ROW_VEC) {
            vec4 v, t;
            if (ROW_VEC == 4u)
                v = l4[(r * P_IN + j) / 4u], t = x4[(r * P_IN + j) / 4u];
            else
                v = vec4(l[r * P_IN + j], 0.0, 0.0, 0.0), t = vec4(x[r * P_IN + j], 0.0, 0.0, 0.0);
            vec4 term = max(v, 0.0) - v * t + log(1.0 + exp(-abs(v)));
            acc += ROW_VEC == 4u ? term : vec4(term.x, 0.0, 0.0, 0.0);
        }
    nll[r] = (acc.x + acc.y) + (acc.z + acc.w);
}
