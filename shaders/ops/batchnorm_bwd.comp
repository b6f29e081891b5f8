// batchnorm_bwd: dy x gamma mean rstd -> dx dgamma dbeta (ops.def), the
// gradient through the training statistics. BN_SLICES workgroups per
// channel, as batchnorm.comp's: each sums dbeta = sum dy and dgamma =
// sum dy*xh over the channel's valid values alike (row_tree.glsl), then
// writes its slice of dx from both; the first writes dgamma and dbeta.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer G { float gamma[]; };
layout(std430, binding = 3) readonly buffer M { float mean[]; };
layout(std430, binding = 4) readonly buffer RS { float rstd[]; };
layout(std430, binding = 5) writeonly buffer DX { float dx[]; };
layout(std430, binding = 6) writeonly buffer DG { float dgamma[]; };
layout(std430, binding = 7) writeonly buffer DB { float dbeta[]; };
layout(constant_id = 32) const uint BN_SLICES = 1u;
#include "row_tree.glsl"
void main()
{
    uint w = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint c = w / BN_SLICES, slice = w % BN_SLICES, t = gl_LocalInvocationID.x;
    if (c >= P_C_IN) return; // uniform over the workgroup
    uint rows = valid_rows(), count = rows * P_IN;
    float mu = mean[c], rs = rstd[c];
    float sb = 0.0, sg = 0.0;
    for (uint i = t; i < count; i += 64u) {
        uint at = ((i / P_IN) * P_C_IN + c) * P_IN + i % P_IN;
        sb += dy[at];
        sg += dy[at] * (x[at] - mu) * rs;
    }
    float db = row_tree_sum(sb, t), dg = row_tree_sum(sg, t);
    float k = gamma[c] * rs, inv = 1.0 / float(count);
    const uint part = (P_N * P_IN + BN_SLICES - 1u) / BN_SLICES;
    for (uint i = slice * part + t; i < min((slice + 1u) * part, P_N * P_IN); i += 64u) {
        uint at = ((i / P_IN) * P_C_IN + c) * P_IN + i % P_IN;
        dx[at] = i / P_IN < rows ? k * (dy[at] - db * inv - (x[at] - mu) * rs * dg * inv) : 0.0;
    }
    if (slice == 0u && t == 0u) {
        dgamma[c] = dg;
        dbeta[c] = db;
    }
}
