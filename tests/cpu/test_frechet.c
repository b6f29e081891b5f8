/* cli/frechet.c against closed forms: a set against itself (0), against
 * itself shifted by mu (|mu|^2: equal covariances), and against itself
 * scaled by 2 (covariance 4S, whose cross term 2 tr((S 4S S)^1/2 ... ) =
 * 4 tr S: the distance is |m|^2 + tr S), on correlated features so the
 * matrix square roots are not diagonal; fewer than 2 rows give NAN. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "frechet.h"

static int failures;

static void check(int ok, const char *what, double got, double want)
{
    failures += !ok;
    printf("%s: %s (got %.12g, want %.12g)\n", what, ok ? "ok" : "FAIL", got, want);
}

static double rnd(uint64_t *s) /* uniform in [-1, 1) */
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

int main(void)
{
    enum { N = 2000, D = 12 };
    static float a[N * D], b[N * D];
    double L[D][D], mu[D], mean[D] = { 0 }, tr = 0, m2 = 0, mu2 = 0;
    uint64_t s = 7;
    for (int i = 0; i < D; i++) {
        mu[i] = rnd(&s);
        mu2 += mu[i] * mu[i];
        for (int j = 0; j < D; j++)
            L[i][j] = j <= i ? rnd(&s) : 0; /* correlated features */
    }
    for (int r = 0; r < N; r++) {
        double z[D];
        for (int j = 0; j < D; j++)
            z[j] = rnd(&s) + rnd(&s) + rnd(&s);
        for (int i = 0; i < D; i++) {
            double x = 0.5;
            for (int j = 0; j < D; j++)
                x += L[i][j] * z[j];
            a[r * D + i] = (float)x;
        }
    }
    /* the closed forms' moments, in double, of the float rows */
    for (int r = 0; r < N; r++)
        for (int i = 0; i < D; i++)
            mean[i] += a[r * D + i] / (double)N;
    for (int i = 0; i < D; i++) {
        double v = 0;
        for (int r = 0; r < N; r++)
            v += (a[r * D + i] - mean[i]) * (a[r * D + i] - mean[i]);
        tr += v / (N - 1);
        m2 += mean[i] * mean[i];
    }
    double fd = vkvae_frechet_distance(a, N, a, N, D);
    check(fabs(fd) < 1e-9 * tr, "a set against itself", fd, 0);
    for (int r = 0; r < N; r++)
        for (int i = 0; i < D; i++)
            b[r * D + i] = (float)((double)a[r * D + i] + mu[i]);
    fd = vkvae_frechet_distance(a, N, b, N, D);
    check(fabs(fd - mu2) < 1e-5 * (mu2 + tr), "shifted by mu", fd, mu2);
    for (int r = 0; r < N * D; r++)
        b[r] = 2 * a[r];
    fd = vkvae_frechet_distance(a, N, b, N, D);
    check(fabs(fd - (m2 + tr)) < 1e-9 * (m2 + tr), "scaled by 2", fd, m2 + tr);
    fd = vkvae_frechet_distance(b, N, a, N, D);
    check(fabs(fd - (m2 + tr)) < 1e-9 * (m2 + tr), "symmetric", fd, m2 + tr);
    check(isnan(vkvae_frechet_distance(a, 1, b, N, D)), "one row: NAN", 0, 0);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
