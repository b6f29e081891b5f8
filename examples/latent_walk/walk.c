/* The latent walk (walk.h): Gaussian draws from a splitmix64 stream through
 * Box-Muller, and the sum of rotating pairs that keeps every point a draw
 * from N(0, I). Plain C, no Vulkan: the path is the same on every device. */
#include "walk.h"

#include <math.h>
#include <stdlib.h>

static const double two_pi = 6.283185307179586;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so the logarithm below is finite. */
static double uniform(uint64_t *s)
{
    return (double)((splitmix64(s) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static void gaussians(float *out, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform(s))), phi = two_pi * uniform(s);
        out[i] = (float)(r * cos(phi));
        if (i + 1 < n)
            out[i + 1] = (float)(r * sin(phi));
    }
}

int walk_init(walk *w, uint32_t walkers, uint32_t latent, uint64_t seed)
{
    size_t n = (size_t)walkers * WALK_TERMS * latent;
    *w = (walk){.walkers = walkers, .latent = latent, .period = 8.0};
    w->a = malloc(n * sizeof *w->a);
    w->b = malloc(n * sizeof *w->b);
    if (!w->a || !w->b) {
        walk_free(w);
        return -1;
    }
    walk_reseed(w, seed);
    return 0;
}

void walk_free(walk *w)
{
    free(w->a);
    free(w->b);
    w->a = w->b = NULL;
}

void walk_reseed(walk *w, uint64_t seed)
{
    size_t n = (size_t)w->walkers * WALK_TERMS * w->latent;
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    gaussians(w->a, n, &s);
    gaussians(w->b, n, &s);
}

void walk_eval(const walk *w, double t, float *z)
{
    /* 1, the golden ratio, sqrt(5): no two periods have a rational ratio. */
    static const double ratio[WALK_TERMS] = {1.0, 1.6180339887498949, 2.2360679774997898};
    double c[WALK_TERMS], s[WALK_TERMS];
    for (int k = 0; k < WALK_TERMS; k++) {
        double angle = two_pi * ratio[k] * t / w->period;
        c[k] = cos(angle) / sqrt((double)WALK_TERMS);
        s[k] = sin(angle) / sqrt((double)WALK_TERMS);
    }
    for (uint32_t i = 0; i < w->walkers; i++)
        for (uint32_t j = 0; j < w->latent; j++) {
            double v = 0;
            for (int k = 0; k < WALK_TERMS; k++) {
                size_t at = ((size_t)i * WALK_TERMS + (size_t)k) * w->latent + j;
                v += w->a[at] * c[k] + w->b[at] * s[k];
            }
            z[(size_t)i * w->latent + j] = (float)v;
        }
}
