/* runtime/quant/tile8_avx2.c -- the 8-rows-in-lanes Q4_0 GEMM (see tile8.h). */
#include "runtime/quant/tile8.h"

#include "runtime/cpu.h"
#include "runtime/quant.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

#include <stdlib.h>

/* One activation block, repacked for the kernel: the codes, d as a float and
** 8 * (sum of the codes), so unsigned nibbles (0..15) give sum (q - 8) * y. */
typedef struct act_blk {
    int32_t qs[8];
    float d;
    int32_t s8;
} act_blk;

bool tl_q4_0_tile8_available(void) {
    return tl_cpu_use_avx2();
}

/* Lane r of T[j] = bytes 4j..4j+3 of the nibble bytes of row r (j = 0..3). */
static inline void transpose8(const blk_q4_0 *const x[8], int64_t b, __m256i T[4]) {
    __m256i v[4];
    for (int r = 0; r < 4; r++)
        v[r] = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)x[r + 4][b].qs),
                                _mm_loadu_si128((const __m128i *)x[r][b].qs));
    __m256i a0 = _mm256_unpacklo_epi32(v[0], v[1]), a1 = _mm256_unpackhi_epi32(v[0], v[1]);
    __m256i a2 = _mm256_unpacklo_epi32(v[2], v[3]), a3 = _mm256_unpackhi_epi32(v[2], v[3]);
    /* lanes 0-3 of each half: rows r..r+3 (low half rows 0-3, high half rows 4-7) */
    T[0] = _mm256_unpacklo_epi64(a0, a2);
    T[1] = _mm256_unpackhi_epi64(a0, a2);
    T[2] = _mm256_unpacklo_epi64(a1, a3);
    T[3] = _mm256_unpackhi_epi64(a1, a3);
}

static void group8(int64_t nb, const blk_q4_0 *const x[8], const act_blk *pack, int64_t n_tok,
                   __m256 *acc) {
    const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    for (int64_t k = 0; k < n_tok; k++)
        acc[k] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i T[4], W[8];
        transpose8(x, b, T);
        for (int j = 0; j < 4; j++) {
            W[j] = _mm256_and_si256(T[j], m4);
            W[j + 4] = _mm256_and_si256(_mm256_srli_epi16(T[j], 4), m4);
        }
        __m256 dx = _mm256_cvtph_ps(
            _mm_setr_epi16((short)x[0][b].d, (short)x[1][b].d, (short)x[2][b].d, (short)x[3][b].d,
                           (short)x[4][b].d, (short)x[5][b].d, (short)x[6][b].d, (short)x[7][b].d));
        const act_blk *a = pack + b * n_tok;
        for (int64_t k = 0; k < n_tok; k++, a++) {
            __m256i s = _mm256_maddubs_epi16(W[0], _mm256_set1_epi32(a->qs[0]));
            for (int j = 1; j < 8; j++)
                s = _mm256_add_epi16(s, _mm256_maddubs_epi16(W[j], _mm256_set1_epi32(a->qs[j])));
            __m256i sum = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), _mm256_set1_epi32(a->s8));
            __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(a->d));
            acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sum), acc[k]);
        }
    }
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
        /* block-major copy of the activations: pack[b * n_tok + k] */
        act_blk *pack = aligned_alloc(64, ((size_t)(nb * n_tok) * sizeof(act_blk) + 63) / 64 * 64);
        __m256 *acc = aligned_alloc(32, (size_t)n_tok * sizeof(__m256));
        if (!pack || !acc) {
            free(pack);
            free(acc);
            return tl_fail(TL_ERR_NOMEM, "gemm_tile8: out of memory");
        }
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        for (int64_t k = 0; k < n_tok; k++) {
            const blk_q8_0 *y = (const blk_q8_0 *)((const char *)act + (size_t)k * act_stride);
            for (int64_t b = 0; b < nb; b++) {
                act_blk *p = &pack[b * n_tok + k];
                __m256i q = _mm256_loadu_si256((const __m256i *)y[b].qs);
                _mm256_storeu_si256((__m256i *)p->qs, q);
                __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
                __m128i h =
                    _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
                p->s8 = 8 * _mm_cvtsi128_si32(h);
                p->d = f16_to_f32_hw(y[b].d);
            }
        }
        for (int64_t g = r0; g < r8; g += 8) {
            const blk_q4_0 *x[8];
            for (int r = 0; r < 8; r++)
                x[r] = (const blk_q4_0 *)((const char *)w + (size_t)(g + r) * w_stride);
            group8(nb, x, pack, n_tok, acc);
            for (int64_t k = 0; k < n_tok; k++)
                _mm256_storeu_ps(out + (size_t)k * out_stride + (size_t)g, acc[k]);
        }
        free(pack);
        free(acc);
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
** come in with one gather. */

#define GEMV_MAX_BLOCKS 1024

/* bytes 0,1 of each 32-bit lane packed into the low 8 bytes of each half */
static inline __m128i low_halves(__m256i g) {
    const __m256i pick = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_shuffle_epi8(g, pick), 0x08));
}

/* 16 nibble bytes of block b of rows r and r + 4 */
static inline __m256i rows_pair(const char *p, size_t rs, int r) {
    return _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p + 2 + (size_t)r * rs))),
        _mm_loadu_si128((const __m128i *)(p + 2 + (size_t)(r + 4) * rs)), 1);
}

static void gemv_groups(int64_t nb, const char *w, size_t rs, int64_t g0, int64_t g1,
                        const blk_q8_0 *y, const int32_t *s8, const float *dy, float *out) {
    const __m256i m4 = _mm256_set1_epi8(15), ones16 = _mm256_set1_epi16(1);
    const int rsi = (int)rs;
    const __m256i gidx = _mm256_setr_epi32(0, rsi, 2 * rsi, 3 * rsi, 4 * rsi, 5 * rsi, 6 * rsi, 7 * rsi);
    for (int64_t g = g0; g < g1; g += 8) {
        const char *base = w + (size_t)g * rs, *next = base + 8 * rs;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const char *p = base + (size_t)b * sizeof(blk_q4_0);
            /* 8 rows x 18 bytes = 144 bytes of the next group per step */
            _mm_prefetch(next + b * 144, _MM_HINT_T0);
            _mm_prefetch(next + b * 144 + 64, _MM_HINT_T0);
            _mm_prefetch(next + b * 144 + 128, _MM_HINT_T0);
            __m256i v0 = rows_pair(p, rs, 0), v1 = rows_pair(p, rs, 1);
            __m256i v2 = rows_pair(p, rs, 2), v3 = rows_pair(p, rs, 3);
            __m256i a0 = _mm256_unpacklo_epi32(v0, v1), a1 = _mm256_unpackhi_epi32(v0, v1);
            __m256i a2 = _mm256_unpacklo_epi32(v2, v3), a3 = _mm256_unpackhi_epi32(v2, v3);
            /* lane r of T[j]: nibble bytes 4j..4j+3 of row r */
            __m256i T[4] = {_mm256_unpacklo_epi64(a0, a2), _mm256_unpackhi_epi64(a0, a2),
                            _mm256_unpacklo_epi64(a1, a3), _mm256_unpackhi_epi64(a1, a3)};
            const char *yq = (const char *)y[b].qs;
            __m256i s = _mm256_setzero_si256();
            for (int j = 0; j < 4; j++) {
                int32_t lo, hi;
                memcpy(&lo, yq + 4 * j, 4);
                memcpy(&hi, yq + 16 + 4 * j, 4);
                s = _mm256_add_epi16(
                    s, _mm256_maddubs_epi16(_mm256_and_si256(T[j], m4), _mm256_set1_epi32(lo)));
                s = _mm256_add_epi16(
                    s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(T[j], 4), m4),
                                            _mm256_set1_epi32(hi)));
            }
            __m256i sum = _mm256_sub_epi32(_mm256_madd_epi16(s, ones16), _mm256_set1_epi32(s8[b]));
            __m256 dx = _mm256_cvtph_ps(low_halves(_mm256_i32gather_epi32((const int *)p, gidx, 1)));
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
    /* the gather takes 32-bit offsets of up to 7 rows */
    if (nb > GEMV_MAX_BLOCKS || w_stride > (size_t)INT32_MAX / 8) r8 = r0;
    if (r8 > r0) {
        const blk_q8_0 *y = act;
        int32_t s8[GEMV_MAX_BLOCKS];
        float dy[GEMV_MAX_BLOCKS];
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        for (int64_t b = 0; b < nb; b++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)y[b].qs);
            __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
            s8[b] = 8 * _mm_cvtsi128_si32(h);
            dy[b] = f16_to_f32_hw(y[b].d);
        }
        gemv_groups(nb, w, w_stride, r0, r8, y, s8, dy, out);
    }
    if (r8 < r1)
        return tl_quant_gemv_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, w_stride, r8, r1,
                                        act, out);
    return TL_OK;
}
