/* exp and log in float for the fast CPU backend's elementwise loops: the
 * Cephes polynomials (about 1 ulp), written as straight-line arithmetic and
 * selects so that the compiler vectorizes the loops that call them, which
 * it cannot do around calls to libm. Inputs are clamped to the range where
 * the result is a normal float; NaN is not propagated faithfully (a NaN
 * loss is caught from the parameters, not from these values).
 */
#ifndef VKVAE_FAST_MATH_H
#define VKVAE_FAST_MATH_H

#include <stdint.h>
#include <string.h>

#include "plan/plan.h"

/* FAST_VEC on a loop-heavy function: gcc builds an AVX2/FMA clone beside
 * the baseline one and picks at load time, so one binary runs everywhere. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define FAST_VEC __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FAST_VEC
#endif

static inline float fm_from_bits(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

static inline int32_t fm_bits(float f)
{
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i;
}

/* e^x; x clamped to [-87.3, 88] (results from ~1.2e-38 to ~1.7e38); a NaN
 * stays NaN, so a diverging run is still seen as one (and no NaN reaches
 * the integer conversion below, which it would make undefined). */
static inline float fm_expf(float x)
{
    const float round = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float in = x;
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.0f ? 88.0f : x;
    x = in != in ? 0.0f : x; /* selects, not a branch: the loops stay vectorized */
    float n = (x * 1.44269504088896341f + round) - round;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    float e = p * fm_from_bits((int32_t)((uint32_t)((int32_t)n + 127) << 23));
    return in != in ? in : e;
}

/* log x for a positive normal x. */
static inline float fm_logf(float x)
{
    int32_t bits = fm_bits(x);
    float e = (float)(((bits >> 23) & 0xff) - 126);
    float m = fm_from_bits((bits & 0x007fffff) | 0x3f000000); /* x = m 2^e, m in [0.5, 1) */
    int small = m < 0.707106781186547524f;
    e = small ? e - 1.0f : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y = y + e * -2.12194440e-4f;
    y = y - 0.5f * z;
    return m + y + e * 0.693359375f;
}

/* log(1 + x) for x in [0, 1], accurate for small x too: log u * x / (u - 1)
 * cancels the rounding of u = 1 + x (Goldberg's trick). */
static inline float fm_log1pf(float x)
{
    float u = 1.0f + x;
    float d = u - 1.0f;
    float l = fm_logf(u);
    return d == 0.0f ? x : l * (x / d);
}

/* 1 / (1 + e^-x) */
static inline float fm_sigmoidf(float x)
{
    return 1.0f / (1.0f + fm_expf(-x));
}

/* tanh x = sign(x) (1 - e) / (1 + e), e = e^-2|x| */
static inline float fm_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    float e = fm_expf(-2.0f * a);
    float th = (1.0f - e) / (1.0f + e);
    return x < 0 ? -th : th;
}

/* log(1 + e^x) = max(x, 0) + log(1 + e^-|x|) */
static inline float fm_softplusf(float x)
{
    float a = x < 0 ? -x : x;
    return (x > 0 ? x : 0.0f) + fm_log1pf(fm_expf(-a));
}

/* dst[i] = act(src[i] + bias), bias = bvec[i], or b0 when bvec is NULL; dst
 * may be src. The products' epilogues (fast_ops.c: a row of a dense layer
 * with its bias vector; fast_conv.c: a channel plane with its bias). One
 * loop per activation so that each vectorizes; gcc unswitches the loops on
 * bvec. */
FAST_VEC static void fm_act_bias(float *dst, const float *src, const float *bvec, float b0,
                                 uint64_t count, uint32_t act, float alpha)
{
#define ACT_LOOP(EXPR)                                      \
    for (uint64_t i = 0; i < count; i++) {                  \
        float v = src[i] + (bvec ? bvec[i] : b0);           \
        dst[i] = (EXPR);                                    \
    }                                                       \
    break
    switch (act) {
    case VKVAE_ACT_RELU: ACT_LOOP(v > 0 ? v : 0.0f);
    case VKVAE_ACT_LEAKY_RELU: ACT_LOOP(v > 0 ? v : alpha * v);
    case VKVAE_ACT_TANH: ACT_LOOP(fm_tanhf(v));
    case VKVAE_ACT_SIGMOID: ACT_LOOP(fm_sigmoidf(v));
    case VKVAE_ACT_SOFTPLUS: ACT_LOOP(fm_softplusf(v));
    default: ACT_LOOP(v);
    }
#undef ACT_LOOP
}

#endif
