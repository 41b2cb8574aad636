/* runtime/quant/q5_k_avx2.c -- Q5_K x Q8_K dot with AVX2/FMA/F16C,
** bit-identical to tl_q5_K_dot. */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q5_K_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_K *x = vx;
    const blk_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 352, _MM_HINT_T0);
        __m256i sm = _mm256_cvtepu8_epi16(tl_unpack_scales_mins(x[i].scales));
        __m128i sc = _mm256_castsi256_si128(sm), mins = _mm256_extracti128_si256(sm, 1);
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        __m128i p = _mm_madd_epi16(mins, pairs);
        p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
        p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
        int32_t msum = _mm_cvtsi128_si32(p);
        int16_t scs[8];
        _mm_storeu_si128((__m128i *)scs, sc);
        __m256i hb = _mm256_loadu_si256((const __m256i *)x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4);
            __m256i h1 =
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4);
            __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4), h0);
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4), h1);
            __m256i y0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c));
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c + 32));
            __m256i p0 =
                _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(scs[2 * c]));
            __m256i p1 =
                _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(scs[2 * c + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        float dmin = -y[i].d * f16_to_f32_hw(x[i].dmin);
        summs = fmaf(dmin, (float)msum, summs); /* fused, as llama.cpp's (q5_k.c) */
        __m256 d = _mm256_set1_ps(y[i].d * f16_to_f32_hw(x[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum8(acc) + summs;
}
