/* The latent walk: each walker follows a smooth, never-repeating path that
 * stays where the prior puts its mass.
 *
 * A walker holds K pairs of Gaussian vectors (a_k, b_k), each N(0, I) in
 * the latent space, and its code at time t is
 *
 *     z(t) = sum_k (a_k cos(w_k t) + b_k sin(w_k t)) / sqrt(K)
 *
 * For every t, z(t) is exactly N(0, I) (cos^2 + sin^2 = 1, independent
 * terms), so every frame shows a typical draw from the prior, never the
 * washed-out average that linear interpolation passes through. The path is
 * infinitely smooth and, with incommensurate frequencies w_k (1, the golden
 * ratio, sqrt 5 times the base), it does not repeat. */
#ifndef LATENT_WALK_WALK_H
#define LATENT_WALK_WALK_H

#include <stdint.h>

enum { WALK_TERMS = 3 };

typedef struct walk {
    uint32_t walkers, latent;
    float *a, *b;      /* [walkers][WALK_TERMS][latent] each */
    double period;     /* seconds of the slowest term at speed 1 */
} walk;

/* Allocates the vectors and draws them from seed. Returns 0 on success,
 * -1 when out of memory. */
int walk_init(walk *w, uint32_t walkers, uint32_t latent, uint64_t seed);
void walk_free(walk *w);
/* Draws fresh vectors (R: reseed): the same seed gives the same walk. */
void walk_reseed(walk *w, uint64_t seed);
/* z: walkers*latent floats, walker-major: the codes at time t (seconds). */
void walk_eval(const walk *w, double t, float *z);

#endif
