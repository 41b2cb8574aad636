/* runtime/quant/q5_0_avx2.c -- Q5_0 x Q8_0 and Q5_1 x Q8_1 dots with
** AVX2/FMA/F16C, bit-identical to the scalar tl_q5_0_dot / tl_q5_1_dot. */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

/* The 32 unsigned 5-bit codes of a Q5 block. */
static inline __m256i q5_bytes(const uint8_t qs[16], const uint8_t qh4[4]) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    __m256i hi = _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(16));
    return _mm256_or_si256(unpack_nibbles(qs), hi);
}

void tl_q5_0_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_0 *x = vx;
    const blk_q8_0 *y = vy;
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qx = _mm256_sub_epi8(q5_bytes(x[i].qs, x[i].qh), sixteen);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 s = _mm256_cvtepi32_ps(dot_i8_lanes(qx, qy));
        __m256 d = _mm256_set1_ps(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm256_fmadd_ps(d, s, acc);
    }
    *out = hsum8(acc);
}

void tl_q5_1_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_1 *x = vx;
    const blk_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qx = q5_bytes(x[i].qs, x[i].qh);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 s = _mm256_cvtepi32_ps(dot_u8_lanes(qx, qy));
        summs += f16_to_f32_hw(x[i].m) * f16_to_f32_hw(y[i].s);
        __m256 d = _mm256_set1_ps(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm256_fmadd_ps(d, s, acc);
    }
    *out = hsum8(acc) + summs;
}

void tl_q4_1_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_1 *x = vx;
    const blk_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 s = _mm256_cvtepi32_ps(dot_u8_lanes(unpack_nibbles(x[i].qs), qy));
        summs += f16_to_f32_hw(x[i].m) * f16_to_f32_hw(y[i].s);
        __m256 d = _mm256_set1_ps(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm256_fmadd_ps(d, s, acc);
    }
    *out = hsum8(acc) + summs;
}
