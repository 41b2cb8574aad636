/* runtime/quant/q4_0_avx2.c -- Q4_0 x Q8_0 dot with AVX2/FMA/F16C, in the
** same 8-lane float order as the scalar tl_q4_0_dot (bit-identical). */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q4_0_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_0 *x = vx;
    const blk_q8_0 *y = vy;
    const int64_t nb = n / QK32;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qx = _mm256_sub_epi8(unpack_nibbles(x[i].qs), eight);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 s = _mm256_cvtepi32_ps(dot_i8_lanes(qx, qy));
        __m256 d = _mm256_set1_ps(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm256_fmadd_ps(d, s, acc);
    }
    *out = hsum8(acc);
}
