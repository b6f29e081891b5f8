/* The IWAE estimate of log p(x) (vkvae_session_log_likelihood) on vae_mlp,
 * GPU and CPU backend, against an oracle written here from the definition
 * in double: log p(x) ~ log (1/K) sum_s p(x|z_s) p(z_s) / q(z_s|x), with
 * the full Gaussian densities (no cancelled terms) and the same Philox
 * draws. The cases cover what the session adds to the plan's program: an
 * item count that is not a multiple of the program's items per run, K not
 * a multiple of its samples per run (only the first samples of the last
 * chunk count), K = 1, fresh draws per chunk and per group of items, and
 * the progress callback. The posterior is widened (logvar bias 1.5) so the
 * log weights spread over tens of nats: a sample counted twice, left out
 * or drawn at the wrong step moves the estimate far beyond the tolerance.
 */
#include <math.h>

#include "plan/models.h"
#include "plan/philox.h"
#include "session/session.h"
#include "test_util.h"

#define LOG_2PI 1.8378770664093453

typedef struct net {
    float *w1, *b1, *w21, *b21, *w22, *b22, *w3, *b3, *w4, *b4;
} net;

static float *param(vkvae_session *s, const char *name)
{
    const vkvae_plan *plan = vkvae_session_plan(s);
    uint32_t t = vkvae_plan_find_tensor(plan, name);
    CHECK(t != UINT32_MAX, "vae_mlp has %s", name);
    if (t == UINT32_MAX)
        return NULL;
    float *v = malloc(plan->tensors[t].elems * sizeof *v);
    vkvae_error err = {0};
    CHECK_OK(vkvae_session_read(s, t, v, &err), err);
    return v;
}

/* y = W x + b (W: [out, in], PyTorch's layout), relu optionally. */
static void dense(const float *w, const float *b, const double *x, uint32_t in, uint32_t out,
                  int relu, double *y)
{
    for (uint32_t o = 0; o < out; o++) {
        double a = b[o];
        for (uint32_t i = 0; i < in; i++)
            a += (double)w[(size_t)o * in + i] * x[i];
        y[o] = relu && a < 0 ? 0 : a;
    }
}

enum { F = 784, H = 400, L = 20 };

/* The oracle's estimate for item r of group g (the session's order: E
 * items per group, C samples per chunk, a chunk's draws at step
 * 2^31 + 2^30 + g * chunks + c; sample s of item r at z row r*C + s). */
static double oracle(const net *m, const float *x, uint32_t seed, uint32_t K, uint32_t E,
                     uint32_t C, uint32_t item)
{
    uint32_t g = item / E, r = item % E, chunks = (K + C - 1) / C;
    double xd[F], h[H], mu[L], lv[L], z[L], h3[H], logit[F];
    for (uint32_t i = 0; i < F; i++)
        xd[i] = x[(size_t)item * F + i];
    dense(m->w1, m->b1, xd, F, H, 1, h);
    dense(m->w21, m->b21, h, H, L, 0, mu);
    dense(m->w22, m->b22, h, H, L, 0, lv);
    double *logw = malloc(K * sizeof *logw), best = -INFINITY;
    for (uint32_t k = 0; k < K; k++) {
        uint32_t c = k / C, s = k % C, step = 0xC0000000u + g * chunks + c;
        double log_pz = 0, log_q = 0;
        for (uint32_t j = 0; j < L; j++) {
            double eps = vkvae_rand_normal(seed, VKVAE_STREAM_EPS, step, (r * C + s) * L + j);
            z[j] = mu[j] + exp(lv[j] / 2) * eps;
            log_pz += -0.5 * (LOG_2PI + z[j] * z[j]);
            log_q += -0.5 * (LOG_2PI + lv[j] + (z[j] - mu[j]) * (z[j] - mu[j]) / exp(lv[j]));
        }
        dense(m->w3, m->b3, z, L, H, 1, h3);
        dense(m->w4, m->b4, h3, H, F, 0, logit);
        double log_px_z = 0; /* Bernoulli: x log sigmoid(l) + (1-x) log sigmoid(-l) */
        for (uint32_t i = 0; i < F; i++) {
            double l = logit[i];
            log_px_z += xd[i] * -log1p(exp(-l)) + (1 - xd[i]) * -log1p(exp(l));
        }
        logw[k] = log_px_z + log_pz - log_q;
        best = logw[k] > best ? logw[k] : best;
    }
    double sum = 0;
    for (uint32_t k = 0; k < K; k++)
        sum += exp(logw[k] - best);
    free(logw);
    return best + log(sum / K);
}

typedef struct calls {
    uint32_t n, last_done, last_total, monotone;
} calls;

static void on_progress(void *user, uint32_t done, uint32_t total)
{
    calls *c = user;
    c->monotone &= done > c->last_done && done <= total;
    c->n++;
    c->last_done = done;
    c->last_total = total;
}

static void check_case(vkvae_session *gpu, vkvae_session *cpu, const net *m, const float *x,
                       uint32_t n, uint32_t K, uint32_t seed, uint32_t E, uint32_t C)
{
    double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    vkvae_error err = {0};
    calls pg = {.monotone = 1}, pc = {.monotone = 1};
    CHECK_OK(vkvae_session_log_likelihood(gpu, x, NULL, n, K, seed, on_progress, &pg, a, &err),
             err);
    CHECK_OK(vkvae_session_log_likelihood(cpu, x, NULL, n, K, seed, on_progress, &pc, b, &err),
             err);
    uint32_t groups = (n + E - 1) / E;
    CHECK(pg.n == groups && pg.monotone && pg.last_done == n && pg.last_total == n,
          "progress: %u calls (want %u), last %u/%u", pg.n, groups, pg.last_done, pg.last_total);
    CHECK(pc.n == groups && pc.monotone && pc.last_done == n, "CPU progress: %u calls", pc.n);
    double worst = 0, spread_lo = INFINITY, spread_hi = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        double want = oracle(m, x, seed, K, E, C, i);
        double d = fmax(fabs(a[i] - want), fabs(b[i] - want));
        worst = d > worst || isnan(d) ? d : worst;
        spread_lo = fmin(spread_lo, want), spread_hi = fmax(spread_hi, want);
        if (i < 3 || !(d < 5e-3))
            printf("  K=%u item %u: gpu %.5f cpu %.5f oracle %.5f\n", K, i, a[i], b[i], want);
    }
    CHECK(worst < 5e-3, "K=%u n=%u: worst difference from the oracle %.2e nats", K, n, worst);
    printf("K=%u n=%u (E=%u, C=%u): worst |estimate - oracle| = %.1e nats; log p(x) in "
           "[%.2f, %.2f]\n", K, n, E, C, worst, spread_lo, spread_hi);
    free(a);
    free(b);
}

int main(void)
{
    vkvae_context *ctx = test_context();
    const vkvae_plan *plan = vkvae_builtin_model("vae_mlp");
    vkvae_error err = {0};
    vkvae_session *gpu = NULL, *cpu = NULL;
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan, .ctx = ctx}, &gpu, &err),
             err);
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan}, &cpu, &err), err);
    if (!gpu || !cpu)
        return test_finish(ctx);
    /* Same weights on both; a wide posterior spreads the log weights. */
    CHECK_OK(vkvae_session_init_params(gpu, 3, &err), err);
    CHECK_OK(vkvae_session_init_params(cpu, 3, &err), err);
    uint32_t t_lvb = vkvae_plan_find_tensor(plan, "fc22.bias");
    float lvb[L];
    for (int j = 0; j < L; j++)
        lvb[j] = 1.5f;
    CHECK_OK(vkvae_session_write(gpu, t_lvb, lvb, &err), err);
    CHECK_OK(vkvae_session_write(cpu, t_lvb, lvb, &err), err);
    net m = {param(cpu, "fc1.weight"), param(cpu, "fc1.bias"), param(cpu, "fc21.weight"),
             param(cpu, "fc21.bias"), param(cpu, "fc22.weight"), param(cpu, "fc22.bias"),
             param(cpu, "fc3.weight"), param(cpu, "fc3.bias"), param(cpu, "fc4.weight"),
             param(cpu, "fc4.bias")};
    uint32_t t_x = vkvae_plan_find_tensor(plan, "io.iwae_x");
    uint32_t t_logw = vkvae_plan_find_tensor(plan, "io.logw");
    CHECK(t_x != UINT32_MAX && t_logw != UINT32_MAX, "vae_mlp has the iwae program's io");
    uint32_t E = plan->tensors[t_x].shape[0];
    uint32_t C = (uint32_t)(plan->tensors[t_logw].elems / E);

    uint32_t n = E + 3; /* a full group and a short one */
    float *x = malloc((size_t)n * F * sizeof *x);
    for (size_t i = 0; i < (size_t)n * F; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 999.0f;
    check_case(gpu, cpu, &m, x, n, 2 * C + 44, 7, E, C); /* the last chunk partial */
    check_case(gpu, cpu, &m, x, 3, 1, 11, E, C);          /* one sample: a single log weight */

    double est = 0;
    CHECK(vkvae_session_log_likelihood(gpu, x, NULL, 1, 0, 1, NULL, NULL, &est, &err) ==
              VKVAE_BAD_INPUT,
          "K = 0 is refused");
    const vkvae_plan *ae = vkvae_builtin_model("ae_mlp");
    vkvae_session *aes = NULL;
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = ae}, &aes, &err), err);
    if (aes)
        CHECK(vkvae_session_log_likelihood(aes, x, NULL, 1, 10, 1, NULL, NULL, &est, &err) ==
                  VKVAE_UNSUPPORTED,
              "an autoencoder has no estimate");
    vkvae_session_destroy(aes);

    free(x);
    free(m.w1), free(m.b1), free(m.w21), free(m.b21), free(m.w22), free(m.b22);
    free(m.w3), free(m.b3), free(m.w4), free(m.b4);
    vkvae_session_destroy(gpu);
    vkvae_session_destroy(cpu);
    return test_finish(ctx);
}
