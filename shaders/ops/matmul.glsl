/* The register-blocked matrix product behind the dense ops:
 *
 *   C[m][c] = sum_k A(m, k) B(k, c)     m < MM_M, c < MM_C, k < MM_K
 *
 * The including kernel defines MM_M, MM_C, MM_K (from its parameters) and
 * three functions before including this file:
 *   float mm_a(uint m, uint k)   A, any m and k: 0 outside the matrix
 *   float mm_b(uint k, uint c)   B, any k and c: 0 outside the matrix
 *   void  mm_store(uint m, uint c, float v)   the epilogue, bounds-checked
 * so transposes are folded into indexing, and bias and activation into the
 * epilogue.
 *
 * The 64 invocations of a workgroup form an 8 x 8 grid; each computes an
 * MM_TM x MM_TN block of C held in registers, so a workgroup covers
 * (8 MM_TM) x (8 MM_TN). Per MM_TK-deep step the workgroup stages the A and
 * B tiles in shared memory (zeros past the edges, so no bounds checks in the
 * inner loop), and each invocation reads its MM_TM + MM_TN operands per k as
 * vec4s for MM_TM * MM_TN FMAs. On SIMD-on-CPU drivers (lavapipe) every
 * per-invocation load is a scalar loop over the SIMD lanes, so operands per
 * FMA is what counts; a vec4 read costs about one scalar read there.
 * No subgroup operations; shared memory 4 MM_TK (8 MM_TM + 8 MM_TN) bytes,
 * at most 16 KiB by construction in runtime/kernels.c.
 *
 * Tuning constants (constant_id >= 32; runtime/kernels.c picks them per shape
 * and sizes the grid to match; MM_TM and MM_TN multiples of 4).
 */
#ifndef VKVAE_MATMUL_GLSL
#define VKVAE_MATMUL_GLSL

layout(constant_id = 32) const uint MM_TM = 8;  /* rows per invocation */
layout(constant_id = 33) const uint MM_TN = 8;  /* columns per invocation */
layout(constant_id = 34) const uint MM_TK = 16; /* depth of a shared tile */

const uint MM_BM = 8u * MM_TM, MM_BN = 8u * MM_TN; /* the workgroup's block of C */

shared vec4 mm_as[MM_TK * MM_BM / 4u]; /* [k][m] */
shared vec4 mm_bs[MM_TK * MM_BN / 4u]; /* [k][c] */

void mm_run()
{
    const uint lane = gl_LocalInvocationID.x;
    const uint tx = lane % 8u, ty = lane / 8u;
    const uint m0 = gl_WorkGroupID.y * MM_BM, c0 = gl_WorkGroupID.x * MM_BN;

    vec4 acc[MM_TM * MM_TN / 4u]; /* [i][j/4] */
    [[unroll]] for (uint i = 0; i < MM_TM * MM_TN / 4u; i++)
        acc[i] = vec4(0.0);

    for (uint k0 = 0; k0 < MM_K; k0 += MM_TK) {
        /* Stage: 4 consecutive m (or c) per write, one vec4. */
        [[unroll]] for (uint i = 0; i < (MM_TK * MM_BM / 4u + 63u) / 64u; i++) {
            uint e = i * 64u + lane;
            if (MM_TK * MM_BM / 4u % 64u == 0u || e < MM_TK * MM_BM / 4u) {
                uint k = e % MM_TK, m = e / MM_TK * 4u;
                mm_as[k * (MM_BM / 4u) + m / 4u] =
                    vec4(mm_a(m0 + m, k0 + k), mm_a(m0 + m + 1u, k0 + k),
                         mm_a(m0 + m + 2u, k0 + k), mm_a(m0 + m + 3u, k0 + k));
            }
        }
        [[unroll]] for (uint i = 0; i < (MM_TK * MM_BN / 4u + 63u) / 64u; i++) {
            uint e = i * 64u + lane;
            if (MM_TK * MM_BN / 4u % 64u == 0u || e < MM_TK * MM_BN / 4u) {
                uint c = e % (MM_BN / 4u) * 4u, k = e / (MM_BN / 4u);
                mm_bs[e] = vec4(mm_b(k0 + k, c0 + c), mm_b(k0 + k, c0 + c + 1u),
                                mm_b(k0 + k, c0 + c + 2u), mm_b(k0 + k, c0 + c + 3u));
            }
        }
        barrier();
        [[unroll]] for (uint k = 0; k < MM_TK; k++) {
            vec4 a[MM_TM / 4u], b[MM_TN / 4u];
            [[unroll]] for (uint i = 0; i < MM_TM / 4u; i++)
                a[i] = mm_as[k * (MM_BM / 4u) + ty * (MM_TM / 4u) + i];
            [[unroll]] for (uint j = 0; j < MM_TN / 4u; j++)
                b[j] = mm_bs[k * (MM_BN / 4u) + tx * (MM_TN / 4u) + j];
            [[unroll]] for (uint i = 0; i < MM_TM; i++)
                [[unroll]] for (uint j = 0; j < MM_TN / 4u; j++)
                    acc[i * (MM_TN / 4u) + j] =
                        fma(vec4(a[i / 4u][i % 4u]), b[j], acc[i * (MM_TN / 4u) + j]);
        }
        barrier();
    }

    [[unroll]] for (uint i = 0; i < MM_TM; i++)
        [[unroll]] for (uint j = 0; j < MM_TN; j++)
            mm_store(m0 + ty * MM_TM + i, c0 + tx * MM_TN + j, acc[i * (MM_TN / 4u) + j / 4u][j % 4u]);
}

#endif
