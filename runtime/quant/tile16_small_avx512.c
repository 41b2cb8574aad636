/* runtime/quant/tile16_small_avx512.c -- the Q4_0 GEMM for a few tokens (2 to 8:
** the one new token of each sequence of a batch) on CPUs with AVX-512 VNNI.
**
** tl_q4_0_gemm_tile16 (tile16_avx512.c) transposes each 16-row group into a
** buffer once, then runs 4 tokens at a time over it: for a long prompt the
** buffer is reused 16 times, for 8 tokens only twice, and storing and reloading
** it cost as much as the multiply-adds.  Here each block of the 16 rows is
** transposed into registers and used at once by every token (up to 8
** accumulators, one per token), so the weights go from memory to vpdpbusd
** without a buffer.  The arithmetic is tile16's, step for step (per block the
** exact integer sum of (nibble - 8) * y, then acc = fma(d_x * d_y, (float)sum,
** acc)), so the bits are the same. */
#include "runtime/quant/tile8.h"

#include "runtime/cpu.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

#define DOT_BCAST(acc, w, mem)                                                                     \
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(mem))

/* 16 rows (the group at g, rows rs bytes apart) x T tokens (k0 ..) */
static inline __attribute__((always_inline)) void group_small(int64_t nb, const char *g, size_t rs,
                                                              const tile_act *pa, int64_t n_tok,
                                                              int64_t k0, const int T,
                                                              const char *next, float *out,
                                                              size_t out_stride) {
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 acc[8];
    for (int t = 0; t < T; t++)
        acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const char *p = g + (size_t)b * sizeof(blk_q4_0);
        if (next) /* the next group, 16 rows x 18 bytes per block, at the same pace */
            for (int l = 0; l < 288; l += 64)
                _mm_prefetch(next + b * 288 + l, _MM_HINT_T0);
        __m256i lo[4], hi[4];
        tile_transpose8(p, rs, lo);
        tile_transpose8(p + 8 * rs, rs, hi);
        __m512i q[8];
        for (int j = 0; j < 4; j++) {
            __m512i t = _mm512_inserti64x4(_mm512_castsi256_si512(lo[j]), hi[j], 1);
            q[j] = _mm512_and_si512(t, m4);
            q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(t, 4), m4);
        }
        uint16_t d[16];
        for (int r = 0; r < 16; r++)
            memcpy(&d[r], p + (size_t)r * rs, sizeof d[r]);
        __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)d));
        const tile_act *A = pa + b * n_tok + k0;
        for (int t = 0; t < T; t++) {
            __m512i s = _mm512_set1_epi32(-A[t].s8), z = _mm512_setzero_si512();
            for (int j = 0; j < 4; j++) {
                DOT_BCAST(s, q[j], A[t].qs[j]);
                DOT_BCAST(z, q[j + 4], A[t].qs[j + 4]);
            }
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[t].d)),
                                     _mm512_cvtepi32_ps(_mm512_add_epi32(s, z)), acc[t]);
        }
    }
    for (int t = 0; t < T; t++)
        _mm512_storeu_ps(out + (size_t)(k0 + t) * out_stride, acc[t]);
}

#define GROUP_T(T)                                                                                 \
    static void group_##T(int64_t nb, const char *g, size_t rs, const tile_act *pa, int64_t n_tok, \
                          int64_t k0, const char *next, float *out, size_t out_stride) {           \
        group_small(nb, g, rs, pa, n_tok, k0, T, next, out, out_stride);                           \
    }
GROUP_T(1)
GROUP_T(2)
GROUP_T(3)
GROUP_T(4)
GROUP_T(5)
GROUP_T(6)
GROUP_T(7)
GROUP_T(8)

typedef void (*group_fn)(int64_t, const char *, size_t, const tile_act *, int64_t, int64_t,
                         const char *, float *, size_t);
static const group_fn groups[9] = {NULL,    group_1, group_2, group_3, group_4,
                                   group_5, group_6, group_7, group_8};

tl_status tl_q4_0_gemm_tile16_small(int64_t n, const void *w, size_t w_stride, int64_t r0,
                                    int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                                    float *out, size_t out_stride) {
    if (n % QK32 != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG,
                       "gemm_tile16_small: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    int64_t nb = n / QK32, r16 = r0 + (r1 - r0) / 16 * 16;
    if (r16 > r0 && n_tok > 0) {
        tile_act *pack = tile_pack_acts(act, act_stride, nb, n_tok);
        if (!pack) return tl_fail(TL_ERR_NOMEM, "gemm_tile16_small: out of memory");
        for (int64_t g = r0; g < r16; g += 16) {
            const char *base = (const char *)w + (size_t)g * w_stride;
            const char *next = g + 16 < r16 ? base + 16 * w_stride : NULL;
            for (int64_t k = 0; k < n_tok; k += 8, next = NULL) {
                int64_t T = n_tok - k < 8 ? n_tok - k : 8;
                groups[T](nb, base, w_stride, pack, n_tok, k, next, out + (size_t)g, out_stride);
            }
        }
        free(pack);
    }
    if (r16 < r1)
        return tl_q4_0_gemm_tile8(n, w, w_stride, r16, r1, act, act_stride, n_tok, out, out_stride);
    return TL_OK;
}
