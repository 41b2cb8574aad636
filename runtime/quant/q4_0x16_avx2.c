/* runtime/quant/q4_0x16_avx2.c -- the one-token GEMV over Q4_0x16 weights
** (q4_0x16.h): gemv_groups of tile8_avx2.c without the transposes, two 8-row
** halves of a group side by side. */
#include "runtime/quant/q4_0x16.h"

#include "runtime/cpu.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#define GEMV_MAX_BLOCKS 1024

bool tl_q4_0x16_gemv_available(void) {
    return tl_cpu_use_avx2();
}

void tl_q4_0x16_pack_avx2(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst) {
    int64_t nb = n / QK32;
    char *o = dst;
    for (int64_t g = 0; g < rows16 / 16; g++) {
        const char *rows = (const char *)w + (size_t)(16 * g) * rs;
        for (int64_t b = 0; b < nb; b++, o += TL_Q4_0X16_BLOCK) {
            const char *p = rows + (size_t)b * sizeof(blk_q4_0);
            for (int r = 0; r < 16; r++)
                memcpy(o + 2 * r, p + (size_t)r * rs, 2);
            for (int h = 0; h < 2; h++) {
                __m256i T[4];
                tile_transpose8(p + (size_t)(8 * h) * rs, rs, T);
                for (int j = 0; j < 4; j++)
                    _mm256_storeu_si256((__m256i *)(o + 32 + 64 * j + 32 * h), T[j]);
            }
        }
    }
}

/* 4 bytes at any alignment */
static inline int32_t load32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* the integer sums of one block for the 8 rows whose dwords sit at q + 64j */
static inline __m256i half_sum(const char *q, const int8_t *yq, __m256i m4, __m256i ones16,
                               int32_t s8) {
    __m256i s = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) { /* unrolled by the compiler */
        __m256i t = _mm256_loadu_si256((const __m256i *)(q + 64 * j));
        __m256i lo =
            _mm256_maddubs_epi16(_mm256_and_si256(t, m4), _mm256_set1_epi32(load32(yq + 4 * j)));
        __m256i hi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(t, 4), m4),
                                          _mm256_set1_epi32(load32(yq + 16 + 4 * j)));
        s = _mm256_add_epi16(s, _mm256_add_epi16(lo, hi));
    }
    /* exact: each 16-bit sum is at most 8 * 2 * 15 * 128 in size */
    return _mm256_sub_epi32(_mm256_madd_epi16(s, ones16), _mm256_set1_epi32(s8));
}

tl_status tl_q4_0x16_gemv(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          float *out) {
    if (n % QK32 != 0 || n / QK32 > GEMV_MAX_BLOCKS || r0 < 0 || r1 < r0 || r0 % 16 || r1 % 16)
        return tl_fail(TL_ERR_ARG, "q4_0x16_gemv: bad row length %lld or range [%lld, %lld)",
                       (long long)n, (long long)r0, (long long)r1);
    const int64_t nb = n / QK32;
    const blk_q8_0 *y = act;
    int32_t s8[GEMV_MAX_BLOCKS];
    float dy[GEMV_MAX_BLOCKS];
    tile_gemv_acts(y, nb, s8, dy);
    const __m256i m4 = _mm256_set1_epi8(15), ones16 = _mm256_set1_epi16(1);
    const size_t group = (size_t)nb * TL_Q4_0X16_BLOCK;
    for (int64_t g = r0 / 16; g < r1 / 16; g++) {
        const char *base = (const char *)packed + (size_t)g * group;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const char *p = base + (size_t)b * TL_Q4_0X16_BLOCK;
            /* one sequential stream: the hardware prefetcher keeps ahead of it (software
            ** prefetches of the next group measured slower, 41 against 50 GMAC/s) */
            const int8_t *yq = y[b].qs;
            __m256 d = _mm256_set1_ps(dy[b]);
            __m256i sum0 = half_sum(p + 32, yq, m4, ones16, s8[b]);
            __m256i sum1 = half_sum(p + 64, yq, m4, ones16, s8[b]);
            __m256 dx0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
            __m256 dx1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16)));
            acc0 = _mm256_fmadd_ps(_mm256_mul_ps(dx0, d), _mm256_cvtepi32_ps(sum0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_mul_ps(dx1, d), _mm256_cvtepi32_ps(sum1), acc1);
        }
        _mm256_storeu_ps(out + 16 * g, acc0);
        _mm256_storeu_ps(out + 16 * g + 8, acc1);
    }
    return TL_OK;
}
