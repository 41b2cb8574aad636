/* runtime/quant/avx2_common.h -- small AVX2 helpers of the *_avx2.c kernels
** (include only from files built with -mavx2 -mfma -mf16c). */
#ifndef TL_RUNTIME_QUANT_AVX2_COMMON_H
#define TL_RUNTIME_QUANT_AVX2_COMMON_H

#include <immintrin.h>
#include <stdint.h>

/* ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)): the fold acc8_sum emulates. */
static inline float hsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* 8 int32 lanes: lane k = sum of a[e]*b[e] for bytes e = 4k..4k+3, a and b
** signed bytes with a != -128 (the sign of a moved onto b, then an unsigned
** x signed multiply-add; the 16-bit pair sums cannot saturate). */
static inline __m256i dot_i8_lanes(__m256i a, __m256i b) {
    __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

/* 16 bytes of nibbles -> 32 bytes: the low nibbles, then the high nibbles. */
static inline __m256i unpack_nibbles(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_set1_epi8(15);
    __m128i lo = _mm_and_si128(b, m), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    return _mm256_set_m128i(hi, lo);
}

static inline float f16_to_f32_hw(uint16_t h) { return _cvtsh_ss(h); }

#endif
