/* runtime/quant/q8_k_avx2.c -- the Q8_K activation quantizer with AVX2,
** byte-identical to tl_q8_K_quantize (llama.cpp's quantize_row_q8_K_ref). */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q8_K_quantize_avx2(const float *x, void *dst, int64_t n) {
    blk_q8_K *b = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        /* amax; max_ps(|x|, acc) keeps acc for NaN, as the scalar scan skips it */
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8)
            m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), m);
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        /* the first element of that magnitude gives the signed max */
        __m256 va = _mm256_set1_ps(amax);
        float max = 0.0f;
        for (int j = 0; j < QK_K; j += 8) {
            __m256 v = _mm256_loadu_ps(x + j);
            int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v), va, _CMP_EQ_OQ));
            if (mask) {
                max = x[j + __builtin_ctz((unsigned)mask)];
                break;
            }
        }
        float iscale = -127.0f / max;
        __m256 vs = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);

        for (int g = 0; g < 8; g++) {
            const float *p = x + 32 * g;
            __m256i q[4];
            for (int k = 0; k < 4; k++)
                q[k] = _mm256_min_epi32(
                    _mm256_cvtps_epi32(
                        _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(p + 8 * k), vs), ROUND_EVEN)),
                    lim);
            __m256i bytes =
                _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(b[i].qs + 32 * g), bytes);
            /* bsums of the two 16-element halves */
            __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, bytes), ones16);
            s = _mm256_hadd_epi32(s, s);
            s = _mm256_hadd_epi32(s, s);
            b[i].bsums[2 * g] = (int16_t)_mm256_extract_epi32(s, 0);
            b[i].bsums[2 * g + 1] = (int16_t)_mm256_extract_epi32(s, 4);
        }
        b[i].d = 1.0f / iscale;
    }
}
