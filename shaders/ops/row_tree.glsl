// The max and the sum of one value per invocation over a workgroup of 64
// (a row of an op that gives each row a workgroup: iwae_lse, iwae_weights,
// nll_bernoulli_grad): trees in shared memory that combine the values in a
// fixed order, so every run sums alike. Every invocation returns the
// result; all 64 must call.
#ifndef VKVAE_ROW_TREE_GLSL
#define VKVAE_ROW_TREE_GLSL
shared float row_partial[64];

float row_tree_max(float v, uint t)
{
    row_partial[t] = v;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            row_partial[t] = max(row_partial[t], row_partial[t + width]);
        barrier();
    }
    float result = row_partial[0];
    barrier();
    return result;
}

float row_tree_sum(float v, uint t)
{
    row_partial[t] = v;
    barrier();
    for (uint width = 32u; width > 0u; width >>= 1u) {
        if (t < width)
            row_partial[t] += row_partial[t + width];
        barrier();
    }
    float result = row_partial[0];
    barrier();
    return result;
}

#endif
