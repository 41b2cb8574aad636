/* runtime/quant/q6_k_avx2.c -- Q6_K x Q8_K dot with AVX2/FMA/F16C.  Same
** integer lane sums as tl_q6_K_dot (unsigned codes, then the -32 offset
** through the activation's bsums), so the result is bit-identical. */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q6_K_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q6_K *x = vx;
    const blk_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 420, _MM_HINT_T0);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
            q[1] = _mm256_or_si256(
                _mm256_and_si256(l1, m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
            q[2] = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
            q[3] = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
            for (int c = 0; c < 4; c++) {
                int g = 4 * h + c; /* 32-element group: sub-blocks 2g, 2g+1 */
                __m256i qy = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * g));
                __m256i sc = _mm256_set_m128i(_mm_set1_epi16(x[i].scales[2 * g + 1]),
                                              _mm_set1_epi16(x[i].scales[2 * g]));
                sumi =
                    _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], qy), sc));
            }
        }
        /* the -32 offset: lane k loses 32 * (sc[2k] bsum[2k] + sc[2k+1] bsum[2k+1]) */
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
        __m256 d = _mm256_set1_ps(y[i].d * f16_to_f32_hw(x[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum8(acc);
}
