// The max and sum of exp(logw - max) over one example's k samples, shared
// by iwae_lse and iwae_weights: one workgroup per example, its 64
// invocations take strided shares of the samples, then row_tree.glsl
// combines them. Every invocation returns the result.
#include "row_tree.glsl"

/* Over logw[r*k .. r*k+k): returns the sum, m the max. */
float row_sum_exp(uint r, uint t, out float m)
{
    float mx = -3.0e38;
    for (uint s = t; s < P_SAMPLES; s += 64u)
        mx = max(mx, logw[r * P_SAMPLES + s]);
    m = row_tree_max(mx, t);
    float sum = 0.0;
    for (uint s = t; s < P_SAMPLES; s += 64u)
        sum += exp(logw[r * P_SAMPLES + s] - m);
    return row_tree_sum(sum, t);
}
