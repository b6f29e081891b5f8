// batchnorm: x:[n,c_in,in] gamma beta -> y mean rstd rmean rvar (ops.def).
// BN_SLICES workgroups per channel (runtime/gpu/kernels.c: 1 on CPU
// drivers, enough on GPUs that 32 channels still fill one): each works out
// the channel's statistics alike, its 64 invocations striding over the
// channel's N = valid rows * in values and row_tree.glsl summing them in a
// fixed order: the mean first, then the squared deviations from it (two
// passes, no cancellation); then it writes its slice of y. The first slice
// writes the statistics: training (mode 0) the batch's, and moves the
// running ones; evaluation (mode 1) reads the running ones. The layer's
// activation applies to y.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer G { float gamma[]; };
layout(std430, binding = 2) readonly buffer B { float beta[]; };
layout(std430, binding = 3) writeonly buffer Yb { float y[]; };
layout(std430, binding = 4) writeonly buffer M { float mean[]; };
layout(std430, binding = 5) writeonly buffer RS { float rstd[]; };
layout(std430, binding = 6) buffer RM { float rmean[]; };
layout(std430, binding = 7) buffer RV { float rvar[]; };
layout(constant_id = 32) const uint BN_SLICES = 1u;
#include "row_tree.glsl"
void main()
{
    uint w = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint c = w / BN_SLICES, slice = w % BN_SLICES, t = gl_LocalInvocationID.x;
    if (c >= P_C_IN) return; // uniform over the workgroup
    uint rows = valid_rows(), count = rows * P_IN;
    float mu, var;
    if (P_MODE == 0u) {
        float s = 0.0;
        for (uint i = t; i < count; i += 64u)
            s += x[((i / P_IN) * P_C_IN + c) * P_IN + i % P_IN];
        mu = row_tree_sum(s, t) / float(count);
        float q = 0.0;
        for (uint i = t; i < count; i += 64u) {
            float d = x[((i / P_IN) * P_C_IN + c) * P_IN + i % P_IN] - mu;
            q += d * d;
        }
        var = row_tree_sum(q, t) / float(count);
    } else {
        mu = rmean[c];
        var = rvar[c];
    }
    float rs = 1.0 / sqrt(var + P_EPS), scale = gamma[c] * rs, shift = beta[c] - mu * scale;
    const uint part = (P_N * P_IN + BN_SLICES - 1u) / BN_SLICES;
    for (uint i = slice * part + t; i < min((slice + 1u) * part, P_N * P_IN); i += 64u) {
        uint at = ((i / P_IN) * P_C_IN + c) * P_IN + i % P_IN;
        y[at] = i / P_IN < rows ? activate(x[at] * scale + shift) : 0.0;
    }
    if (slice == 0u && t == 0u) {
        mean[c] = mu;
        rstd[c] = rs;
        if (P_MODE == 0u) {
            float unbiased = count > 1u ? var * float(count) / float(count - 1u) : var;
            rmean[c] = (1.0 - P_MOMENTUM) * rmean[c] + P_MOMENTUM * mu;
            rvar[c] = (1.0 - P_MOMENTUM) * rvar[c] + P_MOMENTUM * unbiased;
        }
    }
}
