/* runtime/quant/q3_k_avx2.c -- Q3_K x Q8_K and Q2_K x Q8_K dots with
** AVX2/FMA/F16C, bit-identical to tl_q3_K_dot / tl_q2_K_dot. */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

/* 16-bit scale vector: sc[2g] in the low 8 lanes, sc[2g+1] in the high 8. */
static inline __m256i scale_pair(int a, int b) {
    return _mm256_set_m128i(_mm_set1_epi16((short)b), _mm_set1_epi16((short)a));
}

void tl_q3_K_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q3_K *x = vx;
    const blk_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 220, _MM_HINT_T0);
        /* the 16 signed 6-bit scales from 12 bytes (3 little-endian words) */
        uint32_t w[3];
        memcpy(w, x[i].scales, 12);
        const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
        __m128i packed = _mm_setr_epi32((int)((w[0] & m4) | ((w[2] & m2) << 4)),
                                        (int)((w[1] & m4) | (((w[2] >> 2) & m2) << 4)),
                                        (int)(((w[0] >> 4) & m4) | (((w[2] >> 4) & m2) << 4)),
                                        (int)(((w[1] >> 4) & m4) | (((w[2] >> 6) & m2) << 4)));
        packed = _mm_sub_epi8(packed, _mm_set1_epi8(32));
        int16_t sc[16];
        _mm256_storeu_si256((__m256i *)sc, _mm256_cvtepi8_epi16(packed));
        __m256i hm = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * h));
            for (int c = 0; c < 4; c++) {
                int g = 4 * h + c;
                __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * c), m3);
                /* subtract 4 where hmask bit g is clear */
                __m256i hbit = _mm256_and_si256(hm, _mm256_set1_epi8((char)(1 << g)));
                __m256i clear = _mm256_cmpeq_epi8(hbit, _mm256_setzero_si256());
                q = _mm256_sub_epi8(q, _mm256_and_si256(clear, four));
                __m256i qy = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * g));
                __m256i pairs =
                    _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(qy, q));
                sumi = _mm256_add_epi32(
                    sumi, _mm256_madd_epi16(pairs, scale_pair(sc[2 * g], sc[2 * g + 1])));
            }
        }
        __m256 d = _mm256_set1_ps(y[i].d * f16_to_f32_hw(x[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum8(acc);
}

void tl_q2_K_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 168, _MM_HINT_T0);
        __m128i raw = _mm_loadu_si128((const __m128i *)x[i].scales);
        __m256i mins =
            _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
        __m256i ms = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)y[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * h));
            for (int c = 0; c < 4; c++) {
                int g = 4 * h + c;
                __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * c), m3);
                __m256i qy = _mm256_loadu_si256((const __m256i *)(y[i].qs + 32 * g));
                __m256i sc = scale_pair(x[i].scales[2 * g] & 15, x[i].scales[2 * g + 1] & 15);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, qy), sc));
            }
        }
        __m256 dmin = _mm256_set1_ps(-y[i].d * f16_to_f32_hw(x[i].dmin));
        acc = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(ms), acc);
        __m256 d = _mm256_set1_ps(y[i].d * f16_to_f32_hw(x[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum8(acc);
}

/* ---- llama.cpp's repacked Q2_K orders (tl_q2_K_dot_rp / _rpg) ------------- */

static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Per half h: codes sum s[h], mins sum m[h] (exact integers). */
static inline void q2_K_halves(const blk_q2_K *x, const blk_q8_K *y, int32_t s[2], int32_t m[2]) {
    const __m256i m3 = _mm256_set1_epi8(3);
    __m128i raw = _mm_loadu_si128((const __m128i *)x->scales);
    __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
    __m256i ms = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)y->bsums));
    __m128i mlo = _mm256_castsi256_si128(ms), mhi = _mm256_extracti128_si256(ms, 1);
    mlo = _mm_add_epi32(mlo, _mm_shuffle_epi32(mlo, 0x4e));
    mlo = _mm_add_epi32(mlo, _mm_shuffle_epi32(mlo, 0xb1));
    mhi = _mm_add_epi32(mhi, _mm_shuffle_epi32(mhi, 0x4e));
    mhi = _mm_add_epi32(mhi, _mm_shuffle_epi32(mhi, 0xb1));
    m[0] = _mm_cvtsi128_si32(mlo);
    m[1] = _mm_cvtsi128_si32(mhi);
    for (int h = 0; h < 2; h++) {
        __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            int g = 4 * h + c;
            __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * c), m3);
            __m256i qy = _mm256_loadu_si256((const __m256i *)(y->qs + 32 * g));
            __m256i sc = scale_pair(x->scales[2 * g] & 15, x->scales[2 * g + 1] & 15);
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, qy), sc));
        }
        s[h] = hsum_i32(sumi);
    }
}

void tl_q2_K_dot_rp_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 168, _MM_HINT_T0);
        int32_t s[2], m[2];
        q2_K_halves(&x[i], &y[i], s, m);
        acc = fmaf((float)(s[0] + s[1]), f16_to_f32_hw(x[i].d) * y[i].d, acc);
        accm = fmaf((float)(m[0] + m[1]), f16_to_f32_hw(x[i].dmin) * y[i].d, accm);
    }
    *out = acc - accm;
}

void tl_q2_K_dot_rpg_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        _mm_prefetch((const char *)(x + i) + 168, _MM_HINT_T0);
        int32_t s[2], m[2];
        q2_K_halves(&x[i], &y[i], s, m);
        float d = f16_to_f32_hw(x[i].d) * y[i].d, dm = f16_to_f32_hw(x[i].dmin) * y[i].d;
        acc = fmaf((float)s[0], d, acc);
        acc = fmaf((float)s[1], d, acc);
        accm = fmaf((float)m[0], dm, accm);
        accm = fmaf((float)m[1], dm, accm);
    }
    *out = acc - accm;
}
