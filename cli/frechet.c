/* The Fréchet distance (frechet.h). Covariances of a few hundred features
 * at most: plain O(d^3) linear algebra in double is milliseconds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frechet.h"

/* Mean (d) and unbiased covariance (d x d) of the n rows of x. */
static void moments(const float *x, size_t n, uint32_t d, double *mean, double *cov)
{
    memset(mean, 0, d * sizeof *mean);
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (size_t r = 0; r < n; r++)
        for (uint32_t i = 0; i < d; i++)
            mean[i] += x[r * d + i];
    for (uint32_t i = 0; i < d; i++)
        mean[i] /= (double)n;
    for (size_t r = 0; r < n; r++)
        for (uint32_t i = 0; i < d; i++) {
            double xi = x[r * d + i] - mean[i];
            for (uint32_t j = i; j < d; j++)
                cov[(size_t)i * d + j] += xi * (x[r * d + j] - mean[j]);
        }
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = i; j < d; j++)
            cov[(size_t)j * d + i] = cov[(size_t)i * d + j] /= (double)(n - 1);
}

/* Cyclic Jacobi: a (symmetric, d x d) becomes diagonal, its eigenvalues;
 * v (if given) collects the rotations, eigenvectors in its columns. */
static void jacobi(double *a, double *v, uint32_t d)
{
    if (v)
        for (uint32_t i = 0; i < d; i++)
            for (uint32_t j = 0; j < d; j++)
                v[(size_t)i * d + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (uint32_t i = 0; i < d; i++) {
            diag += a[(size_t)i * d + i] * a[(size_t)i * d + i];
            for (uint32_t j = i + 1; j < d; j++)
                off += a[(size_t)i * d + j] * a[(size_t)i * d + j];
        }
        if (off <= 1e-30 * diag || off == 0)
            return;
        for (uint32_t p = 0; p < d; p++)
            for (uint32_t q = p + 1; q < d; q++) {
                double apq = a[(size_t)p * d + q];
                if (apq == 0)
                    continue;
                double app = a[(size_t)p * d + p], aqq = a[(size_t)q * d + q];
                double theta = (aqq - app) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (uint32_t k = 0; k < d; k++) { /* columns p, q */
                    double akp = a[(size_t)k * d + p], akq = a[(size_t)k * d + q];
                    a[(size_t)k * d + p] = c * akp - s * akq;
                    a[(size_t)k * d + q] = s * akp + c * akq;
                }
                for (uint32_t k = 0; k < d; k++) { /* rows p, q */
                    double apk = a[(size_t)p * d + k], aqk = a[(size_t)q * d + k];
                    a[(size_t)p * d + k] = c * apk - s * aqk;
                    a[(size_t)q * d + k] = s * apk + c * aqk;
                }
                for (uint32_t k = 0; v && k < d; k++) {
                    double vkp = v[(size_t)k * d + p], vkq = v[(size_t)k * d + q];
                    v[(size_t)k * d + p] = c * vkp - s * vkq;
                    v[(size_t)k * d + q] = s * vkp + c * vkq;
                }
            }
    }
}

/* out = a b, all d x d */
static void product(const double *a, const double *b, double *out, uint32_t d)
{
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++) {
            double x = 0;
            for (uint32_t k = 0; k < d; k++)
                x += a[(size_t)i * d + k] * b[(size_t)k * d + j];
            out[(size_t)i * d + j] = x;
        }
}

double vkvae_frechet_distance(const float *a, size_t na, const float *b, size_t nb, uint32_t d)
{
    if (na < 2 || nb < 2 || d == 0)
        return NAN;
    size_t dd = (size_t)d * d;
    double *ma = malloc(d * sizeof *ma), *mb = malloc(d * sizeof *mb);
    double *sa = malloc(dd * sizeof *sa), *sb = malloc(dd * sizeof *sb);
    double *v = malloc(dd * sizeof *v), *r = malloc(dd * sizeof *r), *m = malloc(dd * sizeof *m);
    double fd = NAN;
    if (ma && mb && sa && sb && v && r && m) {
        moments(a, na, d, ma, sa);
        moments(b, nb, d, mb, sb);
        fd = 0;
        for (uint32_t i = 0; i < d; i++)
            fd += (ma[i] - mb[i]) * (ma[i] - mb[i]) + sa[(size_t)i * d + i] +
                  sb[(size_t)i * d + i];
        /* r = S_a^1/2 = V diag(sqrt(lambda)) V^T */
        memcpy(m, sa, dd * sizeof *m);
        jacobi(m, v, d);
        for (uint32_t i = 0; i < d; i++)
            for (uint32_t j = 0; j < d; j++) {
                double x = 0;
                for (uint32_t k = 0; k < d; k++)
                    x += v[(size_t)i * d + k] * sqrt(fmax(m[(size_t)k * d + k], 0)) *
                         v[(size_t)j * d + k];
                r[(size_t)i * d + j] = x;
            }
        /* m = r S_b r, symmetric: the trace of its root is the sum of the
         * roots of its eigenvalues */
        product(r, sb, v, d);
        product(v, r, m, d);
        for (uint32_t i = 0; i < d; i++) /* exact symmetry for Jacobi */
            for (uint32_t j = i + 1; j < d; j++)
                m[(size_t)i * d + j] = m[(size_t)j * d + i] =
                    (m[(size_t)i * d + j] + m[(size_t)j * d + i]) / 2;
        jacobi(m, NULL, d);
        for (uint32_t i = 0; i < d; i++)
            fd -= 2 * sqrt(fmax(m[(size_t)i * d + i], 0));
    }
    free(ma), free(mb), free(sa), free(sb), free(v), free(r), free(m);
    return fd;
}
