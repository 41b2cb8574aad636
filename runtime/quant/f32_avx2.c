/* runtime/quant/f32_avx2.c -- the dots of f32.c with AVX2 + FMA (+ F16C), the
** same orders (bit-identical). */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

#include <math.h>

void tl_f32_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    int64_t np = n & ~(int64_t)31;
    float s = 0.0f;
    if (np > 0) {
        __m256 v = f32_dot_lanes(x, y, np);
        __m128 t = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        t = _mm_hadd_ps(t, t);
        t = _mm_hadd_ps(t, t);
        s = _mm_cvtss_f32(t);
    }
    for (int64_t i = np; i < n; i++)
        s += x[i] * y[i]; /* not fused, as f32.c */
    *out = s;
}

/* ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), as tinyBLAS's hsum */
static inline float sg_fold(__m256 a) {
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    return _mm_cvtss_f32(t);
}

void tl_f32_dot_sg_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    int64_t n8 = n & ~(int64_t)7;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < n8; i += 8)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a);
    float l[8];
    _mm256_storeu_ps(l, a);
    for (int64_t i = n8; i < n; i++) /* sgemm takes n % 8 == 0 only; kept exact anyway */
        l[i % 8] = fmaf(x[i], y[i], l[i % 8]);
    *out = n8 == n ? sg_fold(a) : tl_sgemm_fold(l);
}

void tl_f16_dot_sg_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const tl_f16 *x = vx, *y = vy;
    int64_t n8 = n & ~(int64_t)7;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < n8; i += 8)
        a = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                            _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i))), a);
    float l[8];
    _mm256_storeu_ps(l, a);
    for (int64_t i = n8; i < n; i++)
        l[i % 8] = fmaf(_cvtsh_ss(x[i]), _cvtsh_ss(y[i]), l[i % 8]);
    *out = n8 == n ? sg_fold(a) : tl_sgemm_fold(l);
}
