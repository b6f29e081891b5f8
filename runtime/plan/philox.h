/* Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC 2011) and the one definition of how vkvae draws random numbers.
 * shaders/philox.glsl is the same definition in GLSL; the two must draw the
 * same bits, so change both or neither.
 *
 * A draw is addressed, never sequential:
 *   key     = { seed, stream }              (vkvae_push.seed, vkvae_stream)
 *   counter = { index, step, 0, 0 }         (element index, vkvae_push.step)
 *   uniform = ((word0 >> 9) + 0.5) * 2^-23  in (0, 1), never 0 or 1; every
 *             step of it is exact in float, so GPU and CPU agree bit for bit
 *   normal  = sqrt(-2 ln u0) * cos(pi * (2 u1 - 1))  (Box-Muller from words
 *             0 and 1; the angle lies in (-pi, pi), where Vulkan bounds the
 *             error of cos)
 * A 24-bit uniform ((w >> 8) + 0.5) * 2^-24 would round to exactly 1.0 in
 * float for w >> 8 = 2^24 - 1, hence 23 bits.
 */
#ifndef VKVAE_PHILOX_H
#define VKVAE_PHILOX_H

#include <math.h>
#include <stdint.h>

#define VKVAE_PHILOX_M0 0xD2511F53u
#define VKVAE_PHILOX_M1 0xCD9E8D57u
#define VKVAE_PHILOX_W0 0x9E3779B9u
#define VKVAE_PHILOX_W1 0xBB67AE85u

/* out = Philox4x32-10(ctr, key), Random123's philox4x32 with 10 rounds. */
static inline void vkvae_philox4x32_10(uint32_t out[4], const uint32_t ctr[4],
                                       const uint32_t key[2])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += VKVAE_PHILOX_W0;
            k1 += VKVAE_PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)VKVAE_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)VKVAE_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The four words of draw (seed, stream, step, index). */
static inline void vkvae_rand_words(uint32_t out[4], uint32_t seed, uint32_t stream,
                                    uint32_t step, uint32_t index)
{
    const uint32_t ctr[4] = { index, step, 0, 0 };
    const uint32_t key[2] = { seed, stream };
    vkvae_philox4x32_10(out, ctr, key);
}

/* Word 0 of draw (seed, stream, step, index). */
static inline uint32_t vkvae_rand_u32(uint32_t seed, uint32_t stream, uint32_t step,
                                      uint32_t index)
{
    uint32_t w[4];
    vkvae_rand_words(w, seed, stream, step, index);
    return w[0];
}

/* A word as a uniform in (0, 1): exact in float, the same on every backend. */
static inline float vkvae_uniform01(uint32_t word)
{
    return ((float)(word >> 9) + 0.5f) * 0x1p-23f;
}

static inline float vkvae_rand_uniform(uint32_t seed, uint32_t stream, uint32_t step,
                                       uint32_t index)
{
    return vkvae_uniform01(vkvae_rand_u32(seed, stream, step, index));
}

/* Standard normal in float (what the GPU computes, up to its log and cos). */
static inline float vkvae_rand_normal(uint32_t seed, uint32_t stream, uint32_t step,
                                      uint32_t index)
{
    uint32_t w[4];
    vkvae_rand_words(w, seed, stream, step, index);
    float u0 = vkvae_uniform01(w[0]), u1 = vkvae_uniform01(w[1]);
    return sqrtf(-2.0f * logf(u0)) * cosf(3.14159265358979f * (2.0f * u1 - 1.0f));
}

/* The same normal evaluated in double from the same (exact) uniforms: the
 * fp64 reference path's draw. */
static inline double vkvae_rand_normal_f64(uint32_t seed, uint32_t stream, uint32_t step,
                                           uint32_t index)
{
    uint32_t w[4];
    vkvae_rand_words(w, seed, stream, step, index);
    double u0 = vkvae_uniform01(w[0]), u1 = vkvae_uniform01(w[1]);
    return sqrt(-2.0 * log(u0)) * cos(3.14159265358979323846 * (2.0 * u1 - 1.0));
}

#endif
