/* The register-blocked matrix product behind the dense ops:
 *
 *   C[m][c] = sum_k A(m, k) B(k, c)     m < MM_M, c < MM_C, k < MM_K
 *
 * The including kernel defines MM_M, MM_C, MM_K (from its parameters) and
 * three functions before including this file:
 *   float mm_a(uint m, uint k)   A, any m and k: 0 outside the matrix
 *   float mm_b(uint k, uint c)   B, any k and c: 0 outside the matrix
 *   void  mm_store(uint m, uint c, float v)   the epilogue, bounds-checked
 * so transposes are folded into indexing, and the activation (or its
 * derivative) into the epilogue. A kernel that also defines MM_BIAS and
 *   float mm_bias(uint c)   a value per column (0 outside the matrix)
 * gets it as its accumulators' starting value: loaded once per column a
 * block holds, not once per element in the epilogue (llvmpipe pays a scalar
 * loop over the lanes for every load; the output-wide products with a short
 * depth, such as the decoder's first, spent as long on the bias as on the
 * product).
 *
 * The 64 invocations of a workgroup form an 8 x 8 grid; each computes an
 * MM_TM x MM_TN block of C held in registers, so a workgroup covers
 * (8 MM_TM) x (8 MM_TN). Per MM_TK-deep step the workgroup stages the A and
 * B tiles in shared memory (zeros past the edges, so no bounds checks in the
 * inner loop), and each invocation reads its MM_TM + MM_TN operands per k as
 * vec4s for MM_TM * MM_TN FMAs. On SIMD-on-CPU drivers (lavapipe) every
 * per-invocation load is a scalar loop over the SIMD lanes, so operands per
 * FMA is what counts; a vec4 read costs about one scalar read there.
 * No subgroup operations; shared memory 4 MM_TK (8 MM_TM + 8 MM_TN) bytes
 * (half that in the VKVAE_FP16 build below), at most 16 KiB by construction
 * in runtime/gpu/kernels.c.
 *
 * Tuning constants (constant_id >= 32; runtime/gpu/kernels.c picks them per shape
 * and sizes the grid to match; MM_TM and MM_TN multiples of 4).
 *
 * CPU drivers get a second build of each dense kernel, with
 * VKVAE_SUBGROUP defined (shaders/meson.build): see mm_run below.
 *
 * Split-K, the VKVAE_SPLIT builds (of the shared-memory product, fp32 or
 * fp16 tiles): a product whose blocks of C are too few to fill a GPU (a
 * convolution's weight gradient: a few thousand weights over n h w terms)
 * runs as two dispatches of the same module. The first (MM_REDUCE 0) has
 * MM_SPLIT workgroups along z per block (times a convolution's stride
 * phases, mm_phase): slice s sums depths [s MM_SLICE, (s + 1) MM_SLICE)
 * and stores its raw sums (slice 0's starting from the bias) into
 * mm_scratch[z][m][c], binding MM_SCRATCH (the including kernel's next
 * free one). The second (MM_REDUCE 1: an invocation per element of C,
 * grid z the phases) adds the slices in order, 0 first, and calls
 * mm_store: the epilogue is the kernel's own, so the result is the
 * unsplit kernel's up to the order of the additions, and the same on every
 * run (no atomics).
 *
 * The VKVAE_FP16 build (vkvae_precision FP16; the device's shaderFloat16)
 * stages the tiles in shared memory as f16vec4s, half the bytes, and sums
 * each MM_TK-deep tile's products in fp16 (packed math, where a GPU has it,
 * runs at twice fp32's rate), then adds the tile's sum to fp32
 * accumulators: rounding is that of the operands (2^-11 relative) and of at
 * most MM_TK fp16 additions, not of the whole depth. Operands, products or
 * tile sums past fp16's range (65504) become inf or 65504 (the device's
 * rounding decides), and ones under 6.1e-5 lose bits or flush to zero.
 */
#ifndef VKVAE_MATMUL_GLSL
#define VKVAE_MATMUL_GLSL

#ifndef VKVAE_SUBGROUP

layout(constant_id = 32) const uint MM_TM = 8;  /* rows per invocation */
layout(constant_id = 33) const uint MM_TN = 8;  /* columns per invocation */
layout(constant_id = 34) const uint MM_TK = 16; /* depth of a shared tile */

const uint MM_BM = 8u * MM_TM, MM_BN = 8u * MM_TN; /* the workgroup's block of C */

#ifdef VKVAE_FP16
#define MM_TILE f16vec4
#else
#define MM_TILE vec4
#endif

shared MM_TILE mm_as[MM_TK * MM_BM / 4u]; /* [k][m] */
shared MM_TILE mm_bs[MM_TK * MM_BN / 4u]; /* [k][c] */

#ifdef VKVAE_SPLIT
layout(std430, binding = MM_SCRATCH) buffer MmScratch { float mm_scratch[]; };

/* The second pass: element e of C (of phase z) is the sum of its MM_SPLIT
 * slices, in order, through the kernel's epilogue. */
void mm_reduce()
{
    const uint e = element_index();
    if (e >= MM_M * MM_C)
        return;
    const uint at = gl_WorkGroupID.z * MM_SPLIT * MM_M * MM_C + e;
    float v = mm_scratch[at];
    for (uint s = 1u; s < MM_SPLIT; s++)
        v += mm_scratch[at + s * MM_M * MM_C];
    mm_store(e / MM_C, e % MM_C, v);
}
#endif

void mm_run()
{
#ifdef VKVAE_SPLIT
    if (mm_reducing()) { /* uniform over the dispatch */
        mm_reduce();
        return;
    }
    const uint slice = gl_WorkGroupID.z % MM_SPLIT;
    const uint k_begin = slice * MM_SLICE, k_end = min(k_begin + MM_SLICE, MM_K);
#else
    const uint k_begin = 0u, k_end = MM_K;
#endif
    const uint lane = gl_LocalInvocationID.x;
    const uint tx = lane % 8u, ty = lane / 8u;
    const uint m0 = gl_WorkGroupID.y * MM_BM, c0 = gl_WorkGroupID.x * MM_BN;

    vec4 acc[MM_TM * MM_TN / 4u]; /* [i][j/4] */
    vec4 start[MM_TN / 4u];
    [[unroll]] for (uint j = 0; j < MM_TN; j++)
#ifdef MM_BIAS
        start[j / 4u][j % 4u] = k_begin == 0u ? mm_bias(c0 + tx * MM_TN + j) : 0.0;
#else
        start[j / 4u][j % 4u] = 0.0;
#endif
    [[unroll]] for (uint i = 0; i < MM_TM * MM_TN / 4u; i++)
        acc[i] = start[i % (MM_TN / 4u)];

    /* A slice's depth is a multiple of MM_TK: its tiles end where the next
     * slice's begin, and past MM_K mm_a and mm_b give zeros. */
    for (uint k0 = k_begin; k0 < k_end; k0 += MM_TK) {
        /* Stage: 4 consecutive m (or c) per write, one vec4. */
        [[unroll]] for (uint i = 0; i < (MM_TK * MM_BM / 4u + 63u) / 64u; i++) {
            uint e = i * 64u + lane;
            if (MM_TK * MM_BM / 4u % 64u == 0u || e < MM_TK * MM_BM / 4u) {
                uint k = e % MM_TK, m = e / MM_TK * 4u;
                mm_as[k * (MM_BM / 4u) + m / 4u] =
                    MM_TILE(mm_a(m0 + m, k0 + k), mm_a(m0 + m + 1u, k0 + k),
                            mm_a(m0 + m + 2u, k0 + k), mm_a(m0 + m + 3u, k0 + k));
            }
        }
        [[unroll]] for (uint i = 0; i < (MM_TK * MM_BN / 4u + 63u) / 64u; i++) {
            uint e = i * 64u + lane;
            if (MM_TK * MM_BN / 4u % 64u == 0u || e < MM_TK * MM_BN / 4u) {
                uint c = e % (MM_BN / 4u) * 4u, k = e / (MM_BN / 4u);
                mm_bs[e] = MM_TILE(mm_b(k0 + k, c0 + c), mm_b(k0 + k, c0 + c + 1u),
                                   mm_b(k0 + k, c0 + c + 2u), mm_b(k0 + k, c0 + c + 3u));
            }
        }
        barrier();
#ifdef VKVAE_FP16
        f16vec4 part[MM_TM * MM_TN / 4u]; /* this tile's sums */
        [[unroll]] for (uint i = 0; i < MM_TM * MM_TN / 4u; i++)
            part[i] = f16vec4(0.0);
#define MM_SUM part
#else
#define MM_SUM acc
#endif
        [[unroll]] for (uint k = 0; k < MM_TK; k++) {
            MM_TILE a[MM_TM / 4u], b[MM_TN / 4u];
            [[unroll]] for (uint i = 0; i < MM_TM / 4u; i++)
                a[i] = mm_as[k * (MM_BM / 4u) + ty * (MM_TM / 4u) + i];
            [[unroll]] for (uint j = 0; j < MM_TN / 4u; j++)
                b[j] = mm_bs[k * (MM_BN / 4u) + tx * (MM_TN / 4u) + j];
            [[unroll]] for (uint i = 0; i < MM_TM; i++)
                [[unroll]] for (uint j = 0; j < MM_TN / 4u; j++)
                    MM_SUM[i * (MM_TN / 4u) + j] =
                        fma(MM_TILE(a[i / 4u][i % 4u]), b[j], MM_SUM[i * (MM_TN / 4u) + j]);
        }
#ifdef VKVAE_FP16
        [[unroll]] for (uint i = 0; i < MM_TM * MM_TN / 4u; i++)
            acc[i] += vec4(part[i]);
#endif
        barrier();
    }

#ifdef VKVAE_SPLIT
    /* The slice's raw sums, for mm_reduce. */
    [[unroll]] for (uint i = 0; i < MM_TM; i++)
        [[unroll]] for (uint j = 0; j < MM_TN; j++) {
            uint m = m0 + ty * MM_TM + i, c = c0 + tx * MM_TN + j;
            if (m < MM_M && c < MM_C)
                mm_scratch[(gl_WorkGroupID.z * MM_M + m) * MM_C + c] =
                    acc[i * (MM_TN / 4u) + j / 4u][j % 4u];
        }
#else
    [[unroll]] for (uint i = 0; i < MM_TM; i++)
        [[unroll]] for (uint j = 0; j < MM_TN; j++)
            mm_store(m0 + ty * MM_TM + i, c0 + tx * MM_TN + j, acc[i * (MM_TN / 4u) + j / 4u][j % 4u]);
#endif
}

#else /* VKVAE_SUBGROUP */

/* The variant for CPU drivers. lavapipe (Mesa 22.3 llvmpipe) runs each
 * subgroup as one SIMD batch (8 lanes of 256-bit vectors) and compiles every
 * storage-buffer or shared-memory load into a scalar loop over the lanes,
 * with a branch per lane and per component, whether or not the address is
 * uniform: tens of FMAs' time for one vec4. Arithmetic and
 * subgroupShuffle are plain vector instructions. So this variant loads every
 * operand once per subgroup, 4 floats per load, no shared memory and no
 * barriers, and hands A's values to all lanes with shuffles:
 *
 * a workgroup is one subgroup of MM_SG lanes (its size, constant_id 35,
 * equal to the device's subgroup size) and computes an MM_TM x MM_SG MM_TN
 * block of C: lane l holds MM_TN of its columns for all MM_TM rows in
 * registers. Per step of 4 k the lanes load A's MM_TM x 4 block between
 * them (each value once) and each lane its own columns of B for those k;
 * then every A value is broadcast by a shuffle and meets the lane's MM_TN
 * B values in MM_TN FMAs. Per step: MM_TM / MM_SG + MM_TN vec4 loads per
 * lane, 4 MM_TM shuffles, 4 MM_TM MM_TN FMAs.
 *
 * The including kernel says which dimension of A and of B is contiguous in
 * memory (MM_A_KCONT: A(m, k..k+3) are adjacent, else A(m..m+3, k); MM_B_KCONT
 * likewise for B(k..k+3, c), else B(k, c..c+3)) and, when MM_VEC4 (the
 * contiguous dimensions are multiples of 4; runtime/gpu/kernels.c), reads those 4
 * values as one vec4 in
 *   vec4 mm_a4(uint m, uint k), vec4 mm_b4(uint k, uint c)
 * whose starting index along the contiguous dimension is a multiple of 4 and
 * which clamp both indices into the matrix (rows and columns past the edge
 * give any finite values; their results are never stored; the depth is
 * handled here). Without MM_VEC4, 4 calls of mm_a / mm_b (zero outside).
 * Lane l's columns: c0 + 4 l + 4 MM_SG (j / 4) + j % 4, 4 adjacent ones per
 * 4 j (B contiguous along k: one vec4 per column; else one per 4 columns and
 * k), or c0 + l + MM_SG j when B is contiguous along k and a lane has fewer
 * than 4. A kernel that defines MM_STORE4 gets a lane's 4 adjacent columns
 * as a vec4 in void mm_store4(uint m, uint c, vec4 v) (c a multiple of 4;
 * bounds-checked there like mm_store), with MM_VEC4, or with MM_B_KCONT,
 * whose kernel (dense) checks itself that its rows are whole vec4s: each
 * store is a loop over the lanes too, so one vec4 costs about what one
 * float does (dense with a short depth, like the decoder's first product,
 * spent most of its time in scalar stores).
 */
layout(constant_id = 32) const uint MM_TM = 32; /* rows per subgroup */
layout(constant_id = 33) const uint MM_TN = 4;  /* columns per lane: 4k unless MM_B_KCONT */
layout(constant_id = 36) const bool MM_VEC4 = false;
const uint MM_SG = gl_WorkGroupSize.x;

/* vec4s of A per lane and step: rows spread over the lanes. */
const uint MM_AQ = MM_A_KCONT ? (MM_TM + MM_SG - 1u) / MM_SG
                               : (MM_TM + 4u * MM_SG - 1u) / (4u * MM_SG);
const uint MM_AV = MM_A_KCONT ? MM_AQ : 4u * MM_AQ;
/* vec4s of B per lane and step: one per column, or per 4 columns and k */
const uint MM_BV = MM_TN;
const uint MM_TN4 = MM_TN / 4u > 0u ? MM_TN / 4u : 1u;

vec4 mm_fetch_a(uint m, uint k)
{
    if (MM_VEC4) {
        if (MM_A_KCONT)
            return mm_a4(m, k); /* MM_K % 4 == 0: k + 3 < MM_K */
        vec4 v = mm_a4(m, min(k, MM_K - 1u));
        return MM_K % 4u == 0u || k < MM_K ? v : vec4(0.0); /* the last step's spare k */
    }
    if (MM_A_KCONT)
        return vec4(mm_a(m, k), mm_a(m, k + 1u), mm_a(m, k + 2u), mm_a(m, k + 3u));
    return vec4(mm_a(m, k), mm_a(m + 1u, k), mm_a(m + 2u, k), mm_a(m + 3u, k));
}

/* B's values for spare k past MM_K meet zeros of A: any finite value will do. */
vec4 mm_fetch_b(uint k, uint c)
{
    if (MM_VEC4)
        return mm_b4(MM_B_KCONT ? k : min(k, MM_K - 1u), c);
    if (MM_B_KCONT)
        return vec4(mm_b(k, c), mm_b(k + 1u, c), mm_b(k + 2u, c), mm_b(k + 3u, c));
    return vec4(mm_b(k, c), mm_b(k, c + 1u), mm_b(k, c + 2u), mm_b(k, c + 3u));
}

uint mm_column(uint c0, uint lane, uint j)
{
    if (MM_B_KCONT && MM_TN < 4u)
        return c0 + lane + MM_SG * j;
    return c0 + 4u * lane + 4u * MM_SG * (j / 4u) + j % 4u;
}

void mm_run()
{
    const uint lane = gl_SubgroupInvocationID;
    const uint m0 = gl_WorkGroupID.y * MM_TM, c0 = gl_WorkGroupID.x * MM_SG * MM_TN;

    float acc[MM_TM * MM_TN];
    [[unroll]] for (uint j = 0; j < MM_TN; j++) {
#ifdef MM_BIAS
        float start = mm_bias(mm_column(c0, lane, j));
#else
        float start = 0.0;
#endif
        [[unroll]] for (uint i = 0; i < MM_TM; i++)
            acc[i * MM_TN + j] = start;
    }

    for (uint k = 0; k < MM_K; k += 4u) {
        /* A: a[q] = rows m0 + lane + MM_SG q at k..k+3, or a[kk MM_AQ + q] =
         * rows m0 + 4 lane + 4 MM_SG q ..+3 at k + kk. */
        vec4 a[MM_AV], b[MM_BV];
        [[unroll]] for (uint q = 0; q < MM_AV; q++) {
            if (MM_A_KCONT)
                a[q] = mm_fetch_a(m0 + lane + MM_SG * q, k);
            else
                a[q] = mm_fetch_a(m0 + 4u * lane + 4u * MM_SG * (q % MM_AQ), k + q / MM_AQ);
        }
        /* B: b[j] = column j at k..k+3, or b[kk MM_TN / 4 + j / 4] = columns
         * j..j+3 at k + kk. */
        [[unroll]] for (uint v = 0; v < MM_BV; v++) {
            if (MM_B_KCONT)
                b[v] = mm_fetch_b(k, mm_column(c0, lane, v));
            else
                b[v] = mm_fetch_b(k + v / MM_TN4, mm_column(c0, lane, v % MM_TN4 * 4u));
        }
        [[unroll]] for (uint i = 0; i < MM_TM; i++) {
            [[unroll]] for (uint kk = 0; kk < 4u; kk++) {
                float av;
                if (MM_A_KCONT)
                    av = subgroupShuffle(a[i / MM_SG][kk], i % MM_SG);
                else
                    av = subgroupShuffle(a[kk * MM_AQ + i / (4u * MM_SG)][i % 4u], i / 4u % MM_SG);
                [[unroll]] for (uint j = 0; j < MM_TN; j++) {
                    float bv = MM_B_KCONT ? b[j][kk] : b[kk * MM_TN4 + j / 4u][j % 4u];
                    acc[i * MM_TN + j] = fma(av, bv, acc[i * MM_TN + j]);
                }
            }
        }
    }

#ifdef MM_STORE4
    /* Whole vec4s where a lane's 4 columns are adjacent and aligned. */
    if (MM_TN % 4u == 0u && (MM_B_KCONT || MM_VEC4)) {
        [[unroll]] for (uint i = 0; i < MM_TM; i++)
            [[unroll]] for (uint j = 0; j < MM_TN; j += 4u)
                mm_store4(m0 + i, mm_column(c0, lane, j),
                          vec4(acc[i * MM_TN + j], acc[i * MM_TN + j + 1u], acc[i * MM_TN + j + 2u],
                               acc[i * MM_TN + j + 3u]));
        return;
    }
#endif
    [[unroll]] for (uint i = 0; i < MM_TM; i++)
        [[unroll]] for (uint j = 0; j < MM_TN; j++)
            mm_store(m0 + i, mm_column(c0, lane, j), acc[i * MM_TN + j]);
}

#endif /* VKVAE_SUBGROUP */

#endif
