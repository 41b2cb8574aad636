/* runtime/quant/q4_k_avx2.c -- Q4_K x Q8_K dot with AVX2/FMA/F16C, in the
** same lane order as tl_q4_K_dot (bit-identical). */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q4_K_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 288, _MM_HINT_T0);
        __m256i sm = _mm256_cvtepu8_epi16(tl_unpack_scales_mins(x[i].scales)); /* 8 sc, 8 m */
        __m128i sc = _mm256_castsi256_si128(sm), mins = _mm256_extracti128_si256(sm, 1);
        /* the mins: lane k = m[2k] * bsum pair of sub-block 2k + m[2k+1] * that of 2k+1 */
        __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        __m128i p = _mm_madd_epi16(mins, pairs);
        float dmin = -y[i].d * f16_to_f32_hw(x[i].dmin);
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(p), accm);
        int16_t scs[8];
        _mm_storeu_si128((__m128i *)scs, sc);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            __m256i lo = _mm256_and_si256(bits, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            __m256i y0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c));
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c + 32));
            __m256i s0 = _mm256_set1_epi16(scs[2 * c]), s1 = _mm256_set1_epi16(scs[2 * c + 1]);
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), s0);
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), s1);
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        __m256 d = _mm256_set1_ps(y[i].d * f16_to_f32_hw(x[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
    *out = hsum8(acc) + _mm_cvtss_f32(accm);
}

/* ---- llama.cpp's repacked Q4_K orders (tl_q4_K_dot_rp / _rpg) ------------- */

/* Per pair c of sub-blocks: pair[c] = sc*sum(q*y) over its 64 elements, and
** the 4 min-pair terms in mins (lane c). */
static inline void q4_K_pairs(const blk_q4_K *x, const blk_q8_K *y, int32_t pair[4],
                              int32_t mins_out[4]) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256i sm = _mm256_cvtepu8_epi16(tl_unpack_scales_mins(x->scales));
    __m128i sc = _mm256_castsi256_si128(sm), mins = _mm256_extracti128_si256(sm, 1);
    __m256i bs = _mm256_loadu_si256((const __m256i *)y->bsums);
    __m128i bp = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    _mm_storeu_si128((__m128i *)mins_out, _mm_madd_epi16(mins, bp));
    int16_t scs[8];
    _mm_storeu_si128((__m128i *)scs, sc);
    __m256i v[4];
    for (int c = 0; c < 4; c++) {
        __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        __m256i lo = _mm256_and_si256(bits, m4);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
        __m256i y0 = _mm256_loadu_si256((const __m256i *)(y->qs + 64 * c));
        __m256i y1 = _mm256_loadu_si256((const __m256i *)(y->qs + 64 * c + 32));
        __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(scs[2 * c]));
        __m256i p1 =
            _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(scs[2 * c + 1]));
        v[c] = _mm256_add_epi32(p0, p1);
    }
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    _mm_storeu_si128((__m128i *)pair,
                     _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

void tl_q4_K_dot_rp_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 288, _MM_HINT_T0);
        int32_t p[4], m[4];
        q4_K_pairs(&x[i], &y[i], p, m);
        float d = f16_to_f32_hw(x[i].d) * y[i].d, dm = f16_to_f32_hw(x[i].dmin) * y[i].d;
        acc = fmaf((float)(p[0] + p[1] + p[2] + p[3]), d, acc);
        accm = fmaf((float)(m[0] + m[1] + m[2] + m[3]), dm, accm);
    }
    *out = acc - accm;
}

void tl_q4_K_dot_rpg_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 288, _MM_HINT_T0);
        int32_t p[4], m[4];
        q4_K_pairs(&x[i], &y[i], p, m);
        float d = f16_to_f32_hw(x[i].d) * y[i].d, dm = f16_to_f32_hw(x[i].dmin) * y[i].d;
        for (int c = 0; c < 4; c++)
            acc = fmaf((float)p[c], d, acc);
        for (int c = 0; c < 4; c++)
            accm = fmaf((float)m[c], dm, accm);
    }
    *out = acc - accm;
}
