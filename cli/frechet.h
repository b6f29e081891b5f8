/* The Fréchet distance between two sets of feature vectors, each summed up
 * as a Gaussian (its mean and covariance): the FID's formula (Heusel et al.
 * 2017) on whatever features the caller gives, here a vkvae classifier's
 * penultimate layer (vkvae eval --fd).
 */
#ifndef VKVAE_CLI_FRECHET_H
#define VKVAE_CLI_FRECHET_H

#include <stddef.h>
#include <stdint.h>

/* |m_a - m_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) for the rows
 * of a (na x d) and b (nb x d), means and unbiased covariances in double;
 * the square roots by Jacobi eigendecomposition (symmetric, negative
 * rounding-level eigenvalues taken as 0). NAN when a set has fewer than 2
 * rows or memory runs out. */
double vkvae_frechet_distance(const float *a, size_t na, const float *b, size_t nb, uint32_t d);

#endif
