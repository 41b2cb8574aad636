/* runtime/ops/attention_avx2.c -- see attention_kernels.h. */
#include "runtime/ops/attention_kernels.h"

#include <immintrin.h>

void tl_attn_scores_avx2(const float *q, const float *k, int64_t kstride, int64_t n_keys, int64_t D,
                         float scale, float *p) {
    int64_t t = 0;
    for (; t + 4 <= n_keys; t += 4) { /* 4 keys in 4 double lanes, each summed over d in order */
        const float *k0 = k + t * kstride, *k1 = k0 + kstride, *k2 = k1 + kstride,
                    *k3 = k2 + kstride;
        __m256d acc = _mm256_setzero_pd();
        for (int64_t d = 0; d < D; d += 4) {
            __m128 r0 = _mm_loadu_ps(k0 + d), r1 = _mm_loadu_ps(k1 + d);
            __m128 r2 = _mm_loadu_ps(k2 + d), r3 = _mm_loadu_ps(k3 + d);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3); /* r_i = element d + i of the 4 keys */
            acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(q[d]), r0)));
            acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(q[d + 1]), r1)));
            acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(q[d + 2]), r2)));
            acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(q[d + 3]), r3)));
        }
        __m128 s = _mm_mul_ps(_mm256_cvtpd_ps(acc), _mm_set1_ps(scale));
        _mm_storeu_ps(p + t, s);
    }
    for (; t < n_keys; t++) {
        const float *kt = k + t * kstride;
        double sum = 0.0;
        for (int64_t d = 0; d < D; d++)
            sum += (double)(q[d] * kt[d]);
        p[t] = (float)sum * scale;
    }
}

void tl_attn_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t T, int64_t D,
                     double *acc) {
    for (int64_t t = 0; t < T; t++) {
        if (p[t] == 0.0f) continue; /* adds exactly 0 */
        const float *vt = v + t * vstride;
        __m128 pt = _mm_set1_ps(p[t]);
        for (int64_t d = 0; d < D; d += 4) {
            __m256d a = _mm256_loadu_pd(acc + d);
            a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_mul_ps(pt, _mm_loadu_ps(vt + d))));
            _mm256_storeu_pd(acc + d, a);
        }
    }
}
