/* runtime/quant/f16_avx2.c -- F16 x F16 dot with F16C + FMA, the same order as
** tl_f16_dot (bit-identical). */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_f16_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const tl_f16 *x = vx, *y = vy;
    int64_t np = n & ~(int64_t)31;
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
    for (int64_t i = 0; i < np; i += 32) {
        for (int j = 0; j < 4; j++) {
            __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8 * j)));
            __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i + 8 * j)));
            s[j] = _mm256_fmadd_ps(a, b, s[j]);
        }
    }
    float sum[4][8];
    for (int j = 0; j < 4; j++)
        _mm256_storeu_ps(sum[j], s[j]);
    double r = tl_f16_fold(sum);
    for (int64_t i = np; i < n; i++)
        r += (double)(_cvtsh_ss(x[i]) * _cvtsh_ss(y[i]));
    *out = (float)r;
}
