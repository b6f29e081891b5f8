// shift_tokens: x:[n,in] -> y:[n,in]; a decoder's inputs under teacher
// forcing: <bos>, then x's tokens one step later, a word (k > 3) replaced by
// <unk> where the Philox uniform of its element (counted from push.row0's
// row) is under alpha (word dropout); written as levels k/(classes-1), 0 in
// padding rows
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
const uint BOS = 1u, UNK = 3u; // runtime/io/text.h's specials
void main()
{
    uint i = element_index();
    if (i >= P_N * P_IN) return;
    uint r = i / P_IN, t = i % P_IN;
    if (r >= valid_rows()) {
        y[i] = 0.0;
        return;
    }
    uint k = BOS;
    if (t > 0u) {
        k = uint(clamp(floor(x[i - 1u] * float(P_CLASSES)), 0.0, float(P_CLASSES - 1u)));
        if (k > UNK && vkvae_rand_uniform(pc.seed, P_STREAM, pc.step, i + pc.row0 * P_IN) < P_ALPHA)
            k = UNK;
    }
    y[i] = float(k) / float(P_CLASSES - 1u);
}
