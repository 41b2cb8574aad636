/* runtime/quant/avx2_common.h -- small AVX2 helpers of the *_avx2.c kernels
** (include only from files built with -mavx2 -mfma -mf16c). */
#ifndef TL_RUNTIME_QUANT_AVX2_COMMON_H
#define TL_RUNTIME_QUANT_AVX2_COMMON_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Round to nearest, ties to even (a constant expression, as clang requires). */
#define ROUND_EVEN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)): the fold acc8_sum emulates. */
static inline float hsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* ggml_vec_dot_f32's four accumulators over the first n elements (n % 32 == 0):
** element i in accumulator (i % 32) / 8, lane i % 8, each a chain of fused
** multiply-adds from 0, then (a0 + a2) + (a1 + a3). */
static inline __m256 f32_dot_lanes(const float *x, const float *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    return _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
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

/* 32 bits -> 32 bytes: byte j is 0xFF when bit j of bits is set, else 0. */
static inline __m256i bits_to_bytes(uint32_t bits) {
    __m256i v = _mm256_set1_epi32((int)bits);
    v = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2,
                                                2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
}

/* Lane k = sum over bytes 4k..4k+3 of u[e] * s[e] (u unsigned, s signed). */
static inline __m256i dot_u8_lanes(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The 8 scales then the 8 mins of a Q4_K/Q5_K super-block as 16 bytes, from
** the 12 packed bytes (3 little-endian words; see tl_get_scale_min_k4). */
static inline __m128i tl_unpack_scales_mins(const uint8_t s[12]) {
    uint32_t w[3];
    memcpy(w, s, 12);
    uint32_t sc_lo = w[0] & 0x3f3f3f3fu, m_lo = w[1] & 0x3f3f3f3fu;
    uint32_t sc_hi = (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u);
    uint32_t m_hi = ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u);
    return _mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)m_lo, (int)m_hi);
}

static inline float f16_to_f32_hw(uint16_t h) {
    return _cvtsh_ss(h);
}

#endif
