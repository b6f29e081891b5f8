/* Philox 4x32-10 and vkvae's draws in GLSL 450: the same definition as
 * runtime/plan/philox.h, bit for bit for the words and the uniforms (see there).
 *   key = (seed, stream), counter = (index, step, 0, 0)
 *   uniform = ((word0 >> 9) + 0.5) * 2^-23 in (0, 1)
 *   normal  = sqrt(-2 ln u0) * cos(pi * (2 u1 - 1))
 * Include with #extension GL_GOOGLE_include_directive : require.
 */
#ifndef VKVAE_PHILOX_GLSL
#define VKVAE_PHILOX_GLSL

uvec4 vkvae_philox4x32_10(uvec4 ctr, uvec2 key)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            key += uvec2(0x9E3779B9u, 0xBB67AE85u);
        }
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    }
    return ctr;
}

uvec4 vkvae_rand_words(uint seed, uint stream, uint step, uint index)
{
    return vkvae_philox4x32_10(uvec4(index, step, 0u, 0u), uvec2(seed, stream));
}

uint vkvae_rand_u32(uint seed, uint stream, uint step, uint index)
{
    return vkvae_rand_words(seed, stream, step, index).x;
}

float vkvae_uniform01(uint word)
{
    return (float(word >> 9u) + 0.5) * (1.0 / 8388608.0);
}

float vkvae_rand_uniform(uint seed, uint stream, uint step, uint index)
{
    return vkvae_uniform01(vkvae_rand_u32(seed, stream, step, index));
}

/* -ln(u) for u in (0, 1). Near 1 Vulkan only bounds log's absolute error
 * (2^-21), which sqrt(-2 ln u) turns into a large relative error of small
 * normals; there d = 1 - u is exact and four terms of the series of
 * -ln(1 - d) are accurate to d^5/5. */
float vkvae_neg_log_unit(float u)
{
    float d = 1.0 - u;
    if (d < 0.015625)
        return d * (1.0 + d * (0.5 + d * (1.0 / 3.0 + d * 0.25)));
    return -log(u);
}

float vkvae_rand_normal(uint seed, uint stream, uint step, uint index)
{
    uvec4 w = vkvae_rand_words(seed, stream, step, index);
    float u0 = vkvae_uniform01(w.x), u1 = vkvae_uniform01(w.y);
    return sqrt(2.0 * vkvae_neg_log_unit(u0)) * cos(3.14159265358979 * (2.0 * u1 - 1.0));
}

#endif
