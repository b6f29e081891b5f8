// adam: p:[in] g:[in] m:[in] v:[in], in place; torch.optim.Adam (mode 0) or
// AdamW (mode 1), t = step+1, in the order of PyTorch's _single_tensor_adam.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) buffer P { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
void main()
{
    uint i = element_index();
    if (i >= P_IN) return;
    float t = float(pc.step + 1u);
    float step_size = P_LR / (1.0 - pow(P_BETA1, t));
    float bc2_sqrt = sqrt(1.0 - pow(P_BETA2, t));
    float grad = g[i];
    float param = w[i];
    if (P_MODE == 1u)
        param *= 1.0 - P_LR * P_WEIGHT_DECAY;
    else if (P_WEIGHT_DECAY != 0.0)
        grad += P_WEIGHT_DECAY * param;
    float mi = m[i] + (1.0 - P_BETA1) * (grad - m[i]);
    float vi = v[i] * P_BETA2 + (1.0 - P_BETA2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    w[i] = param - step_size * mi / (sqrt(vi) / bc2_sqrt + P_EPS);
}
