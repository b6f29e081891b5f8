/* Philox 4x32-10 against Random123's published known answers (kat_vectors),
 * the uniform's end points, and the first moments of the draws. */
#include <math.h>
#include <stdio.h>

#include "plan/philox.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

int main(void)
{
    static const struct {
        uint32_t ctr[4], key[2], expect[4];
    } kat[] = {
        { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
        { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
          { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
        { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
          { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
    };
    for (unsigned i = 0; i < sizeof kat / sizeof *kat; i++) {
        uint32_t out[4];
        vkvae_philox4x32_10(out, kat[i].ctr, kat[i].key);
        char what[128];
        snprintf(what, sizeof what, "PHILOX_KAT(%u) %08x %08x %08x %08x", i, out[0], out[1], out[2], out[3]);
        check(out[0] == kat[i].expect[0] && out[1] == kat[i].expect[1] &&
              out[2] == kat[i].expect[2] && out[3] == kat[i].expect[3], what);
    }

    /* The draw's addressing: key {seed, stream}, counter {index, step, 0, 0}. */
    {
        uint32_t w[4], ref[4];
        const uint32_t ctr[4] = { 7, 3, 0, 0 }, key[2] = { 11, 5 };
        vkvae_rand_words(w, 11, 5, 3, 7);
        vkvae_philox4x32_10(ref, ctr, key);
        check(w[0] == ref[0] && w[3] == ref[3] && vkvae_rand_u32(11, 5, 3, 7) == ref[0],
              "RAND_ADDRESS(seed=11,stream=5,step=3,index=7)");
    }

    /* Uniforms never reach 0 or 1 in float, and are exact (23 bits + 1/2). */
    float lo = vkvae_uniform01(0), hi = vkvae_uniform01(0xffffffffu);
    check(lo > 0.0f && lo == 0x1p-24f && hi < 1.0f && hi == 1.0f - 0x1p-24f, "UNIFORM_ENDS(0,ffffffff)");

    /* Moments of 2^20 draws: uniform mean 1/2, var 1/12; normal 0 and 1. */
    enum { N = 1 << 20 };
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    for (uint32_t i = 0; i < N; i++) {
        double u = vkvae_rand_uniform(1, 2, 3, i);
        double z = vkvae_rand_normal_f64(1, 2, 3, i);
        double zf = vkvae_rand_normal(1, 2, 3, i);
        if (fabs(z - zf) > 1e-5 * (1 + fabs(z))) {
            printf("normal f32/f64 differ at %u: %.9g %.9g\n", i, zf, z);
            failures++;
            break;
        }
        su += u, su2 += u * u, sn += z, sn2 += z * z;
    }
    double mu = su / N, vu = su2 / N - mu * mu, mz = sn / N, vz = sn2 / N - mz * mz;
    char what[160];
    snprintf(what, sizeof what, "UNIFORM_MOMENTS(n=%d) mean=%.5f var=%.5f", N, mu, vu);
    check(fabs(mu - 0.5) < 2e-3 && fabs(vu - 1.0 / 12) < 2e-3, what);
    snprintf(what, sizeof what, "NORMAL_MOMENTS(n=%d) mean=%.5f var=%.5f", N, mz, vz);
    check(fabs(mz) < 5e-3 && fabs(vz - 1) < 5e-3, what);

    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures != 0;
}
