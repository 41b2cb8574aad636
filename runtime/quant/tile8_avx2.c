/* runtime/quant/tile8_avx2.c -- the 8-rows-in-lanes Q4_0 GEMM (see tile8.h). */
#include "runtime/quant/tile8.h"

#include "runtime/cpu.h"
#include "runtime/quant.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

bool tl_q4_0_tile8_available(void) {
    return tl_cpu_use_avx2();
}

/* One block of an 8-row group, unpacked for the GEMM: q[j] (j < 4) holds in
** lane r the low nibbles of bytes 4j..4j+3 of row r (elements 4j..4j+3),
** q[j + 4] their high nibbles (elements 16 + 4j..), as unsigned bytes 0..15;
** dx the 8 rows' scales. */
typedef struct w_blk {
    __m256i q[8];
    __m256 dx;
} w_blk;

/* Unpacks the nb blocks of the 8 rows at g (rows at rs bytes) into pw. */
static void pack_group(int64_t nb, const char *g, size_t rs, w_blk *pw) {
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int64_t b = 0; b < nb; b++) {
        const char *p = g + (size_t)b * sizeof(blk_q4_0);
        __m256i T[4];
        tile_transpose8(p, rs, T);
        for (int j = 0; j < 4; j++) {
            pw[b].q[j] = _mm256_and_si256(T[j], m4);
            pw[b].q[j + 4] = _mm256_and_si256(_mm256_srli_epi16(T[j], 4), m4);
        }
        pw[b].dx = _mm256_cvtph_ps(_mm_set_epi64x((long long)tile_scales4(p + 4 * rs, rs),
                                                  (long long)tile_scales4(p, rs)));
    }
}

/* sum over the block of (nibble - 8) * y for the 8 rows, as int32 lanes */
static inline __m256i block_sum(const w_blk *W, const tile_act *A) {
    __m256i s = _mm256_maddubs_epi16(W->q[0], _mm256_set1_epi32(A->qs[0]));
#pragma GCC unroll 8
    for (int j = 1; j < 8; j++)
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(W->q[j], _mm256_set1_epi32(A->qs[j])));
    return _mm256_add_epi32(_mm256_madd_epi16(s, _mm256_set1_epi16(1)), _mm256_set1_epi32(A->ns8));
}

/* acc = fma(dx * d_y, (float)sum, acc): llama.cpp's per-block step */
static inline __m256 block_step(const w_blk *W, const tile_act *A, __m256 acc) {
    return _mm256_fmadd_ps(_mm256_mul_ps(W->dx, _mm256_set1_ps(A->d)),
                           _mm256_cvtepi32_ps(block_sum(W, A)), acc);
}

/* 8 rows x 4 tokens: tokens k..k+3 of the block-major activations (n_tok per
** block); prefetches 144 bytes of `next` per block when next is not NULL.
** The four tokens' multiply-adds are interleaved (independent chains); the
** accumulators are named variables so that they stay in registers. */
#define STEP(acc, t)                                                                               \
    acc = _mm256_fmadd_ps(_mm256_mul_ps(W->dx, _mm256_set1_ps(A[t].d)),                            \
                          _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(s##t, ones16),     \
                                                              _mm256_set1_epi32(A[t].ns8))),       \
                          acc)
static void tile_8x4(int64_t nb, const w_blk *pw, const tile_act *pa, int64_t n_tok, int64_t k,
                     const char *next, float *out, size_t out_stride) {
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t b = 0; b < nb; b++) {
        if (next) {
            _mm_prefetch(next + b * 144, _MM_HINT_T0);
            _mm_prefetch(next + b * 144 + 64, _MM_HINT_T0);
            _mm_prefetch(next + b * 144 + 128, _MM_HINT_T0);
        }
        const w_blk *W = pw + b;
        const tile_act *A = pa + b * n_tok + k;
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (int j = 0; j < 8; j++) {
            __m256i q = _mm256_load_si256(&W->q[j]);
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(q, _mm256_set1_epi32(A[0].qs[j])));
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(q, _mm256_set1_epi32(A[1].qs[j])));
            s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(q, _mm256_set1_epi32(A[2].qs[j])));
            s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(q, _mm256_set1_epi32(A[3].qs[j])));
        }
        STEP(acc0, 0);
        STEP(acc1, 1);
        STEP(acc2, 2);
        STEP(acc3, 3);
    }
    _mm256_storeu_ps(out, acc0);
    _mm256_storeu_ps(out + out_stride, acc1);
    _mm256_storeu_ps(out + 2 * out_stride, acc2);
    _mm256_storeu_ps(out + 3 * out_stride, acc3);
}
#undef STEP

static void tile_8x1(int64_t nb, const w_blk *pw, const tile_act *pa, int64_t n_tok, int64_t k,
                     float *out) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++)
        acc = block_step(pw + b, pa + b * n_tok + k, acc);
    _mm256_storeu_ps(out, acc);
}

tl_status tl_q4_0_gemm_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, size_t act_stride, int64_t n_tok, float *out,
                             size_t out_stride) {
    if (n % QK32 != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG,
                       "gemm_tile8: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    int64_t nb = n / QK32, groups = (r1 - r0) / 8, r8 = r0 + 8 * groups;
    if (groups > 0 && n_tok > 0) {
        tile_act *pack = tile_pack_acts(act, act_stride, nb, n_tok);
        w_blk *pw = tile_alloc64((size_t)nb * sizeof(*pw));
        if (!pack || !pw) {
            free(pack);
            free(pw);
            return tl_fail(TL_ERR_NOMEM, "gemm_tile8: out of memory");
        }
        int64_t k4 = n_tok / 4 * 4;
        for (int64_t g = r0; g < r8; g += 8) {
            const char *base = (const char *)w + (size_t)g * w_stride;
            pack_group(nb, base, w_stride, pw);
            /* the first tile prefetches the next group's rows (8 * row bytes) */
            const char *next = g + 8 < r8 ? base + 8 * w_stride : NULL;
            for (int64_t k = 0; k < k4; k += 4, next = NULL)
                tile_8x4(nb, pw, pack, n_tok, k, next, out + (size_t)k * out_stride + (size_t)g,
                         out_stride);
            for (int64_t k = k4; k < n_tok; k++)
                tile_8x1(nb, pw, pack, n_tok, k, out + (size_t)k * out_stride + (size_t)g);
        }
        free(pack);
        free(pw);
    }
    if (r8 < r1)
        return tl_quant_gemm_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, w_stride, r8, r1,
                                        act, act_stride, n_tok, out, out_stride);
    return TL_OK;
}

/* ---- one token: 8 adjacent rows per step ------------------------------------
** Each step reads one 8-row group (8 * row bytes, contiguous) block by block
** and prefetches the next group at the same pace, so a thread streams one
** sequential region.  Rows are addressed as base + r * rs (no pointer array:
** the compiler keeps every address in registers), and the 8 scales of a block
** are assembled in general registers (tile_scales4: measured 119 -> 101 us for
** a [2048, 2048] matrix in cache against one vpgatherdd). */

#define GEMV_MAX_BLOCKS 1024

/* 4 bytes at any alignment */
static inline int32_t load32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void gemv_groups(int64_t nb, const char *w, size_t rs, int64_t g0, int64_t g1,
                        const blk_q8_0 *y, const int32_t *s8, const float *dy, float *out) {
    const __m256i m4 = _mm256_set1_epi8(15), ones16 = _mm256_set1_epi16(1);
    const bool to_l1 = 8 * rs <= 16384;
    for (int64_t g = g0; g < g1; g += 8) {
        const char *base = w + (size_t)g * rs, *next = base + 8 * rs;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const char *p = base + (size_t)b * sizeof(blk_q4_0);
            /* 8 rows x 18 bytes = 144 bytes of the next group per step: into
            ** L1 when a group fits beside the current one, else into L2
            ** (measured: 19.9 GB/s for 2048-element rows with L1, 15.8
            ** instead of 13.2 for the 5632-element rows of ffn_down with L2) */
            if (to_l1) {
                _mm_prefetch(next + b * 144, _MM_HINT_T0);
                _mm_prefetch(next + b * 144 + 64, _MM_HINT_T0);
                _mm_prefetch(next + b * 144 + 128, _MM_HINT_T0);
            } else {
                _mm_prefetch(next + b * 144, _MM_HINT_T1);
                _mm_prefetch(next + b * 144 + 64, _MM_HINT_T1);
                _mm_prefetch(next + b * 144 + 128, _MM_HINT_T1);
            }
            __m256i T[4];
            tile_transpose8(p, rs, T);
            /* written out: GCC keeps a loop over T[] in memory */
            const int8_t *yq = y[b].qs;
#define NIB_LO(j)                                                                                  \
    _mm256_maddubs_epi16(_mm256_and_si256(T[j], m4), _mm256_set1_epi32(load32(yq + 4 * (j))))
#define NIB_HI(j)                                                                                  \
    _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(T[j], 4), m4),                         \
                         _mm256_set1_epi32(load32(yq + 16 + 4 * (j))))
            __m256i s = _mm256_add_epi16(_mm256_add_epi16(NIB_LO(0), NIB_LO(1)),
                                         _mm256_add_epi16(NIB_LO(2), NIB_LO(3)));
            s = _mm256_add_epi16(s, _mm256_add_epi16(_mm256_add_epi16(NIB_HI(0), NIB_HI(1)),
                                                     _mm256_add_epi16(NIB_HI(2), NIB_HI(3))));
#undef NIB_LO
#undef NIB_HI
            __m256i sum = _mm256_sub_epi32(_mm256_madd_epi16(s, ones16), _mm256_set1_epi32(s8[b]));
            __m256 dx = _mm256_cvtph_ps(_mm_set_epi64x((long long)tile_scales4(p + 4 * rs, rs),
                                                       (long long)tile_scales4(p, rs)));
            acc = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(dy[b])), _mm256_cvtepi32_ps(sum),
                                  acc);
        }
        _mm256_storeu_ps(out + g, acc);
    }
}

tl_status tl_q4_0_gemv_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, float *out) {
    if (n % QK32 != 0 || r0 < 0 || r1 < r0)
        return tl_fail(TL_ERR_ARG, "gemv_tile8: bad row length %lld or range [%lld, %lld)",
                       (long long)n, (long long)r0, (long long)r1);
    int64_t nb = n / QK32, r8 = r0 + (r1 - r0) / 8 * 8;
    if (nb > GEMV_MAX_BLOCKS) r8 = r0;
    if (r8 > r0) {
        const blk_q8_0 *y = act;
        int32_t s8[GEMV_MAX_BLOCKS];
        float dy[GEMV_MAX_BLOCKS];
        tile_gemv_acts(y, nb, s8, dy);
        gemv_groups(nb, w, w_stride, r0, r8, y, s8, dy, out);
    }
    if (r8 < r1)
        return tl_quant_gemv_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, w_stride, r8, r1,
                                        act, out);
    return TL_OK;
}
