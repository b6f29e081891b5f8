/* The output gradient the dense backward kernels read (dense_bwd_x.glsl,
 * dense_bwd_w.glsl): dy, or with DENSE_PAIR 1 the pair's two side by side,
 * [dy | dy2], D_OUT columns wide, dy2 read in place of a concatenated copy.
 * Binding 0 is dy, a pair's dy2 binding 1; the including kernel's later
 * bindings shift by DENSE_PAIR. Included after common.glsl.
 */
#ifndef VKVAE_DENSE_DY_GLSL
#define VKVAE_DENSE_DY_GLSL

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
#if DENSE_PAIR
layout(std430, binding = 1) readonly buffer DY2 { float dy2[]; };
const uint D_OUT = P_OUT + P_IN2; /* both layers' outputs */
#else
const uint D_OUT = P_OUT;
#endif

/* [dy | dy2][r, o]; 0 outside the n x D_OUT matrix. */
float dense_dy(uint r, uint o)
{
#if DENSE_PAIR
    if (o >= P_OUT) {
        float v = dy2[min(r, P_N - 1u) * P_IN2 + min(o - P_OUT, P_IN2 - 1u)];
        return r < P_N && o < D_OUT ? v : 0.0;
    }
#endif
    float v = dy[min(r, P_N - 1u) * P_OUT + min(o, P_OUT - 1u)];
    return r < P_N && o < P_OUT ? v : 0.0;
}

#ifdef VKVAE_SUBGROUP
layout(std430, binding = 0) readonly buffer DY4 { vec4 dy4[]; };
#if DENSE_PAIR
layout(std430, binding = 1) readonly buffer DY24 { vec4 dy24[]; };
#endif

/* The vec4 of [dy | dy2] at [r, o .. o + 3] (clamped inside the matrix);
 * o is a multiple of 4 and out is too (kernels.c takes vec4 reads only
 * then), so a vec4 never straddles dy and dy2 and which one a read takes is
 * uniform over the subgroup. */
vec4 dense_dy4(uint r, uint o)
{
#if DENSE_PAIR
    if (o >= P_OUT)
        return dy24[(min(r, P_N - 1u) * P_IN2 + min(o - P_OUT, P_IN2 - 4u)) / 4u];
#endif
    return dy4[(min(r, P_N - 1u) * P_OUT + min(o, P_OUT - 4u)) / 4u];
}
#endif

#endif
