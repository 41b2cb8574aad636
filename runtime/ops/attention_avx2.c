/* runtime/ops/attention_avx2.c -- see attention_kernels.h. */
#include "runtime/ops/attention_kernels.h"

#include <immintrin.h>

/* Adds (double)(lane products) of 8 float products to two double accumulators. */
static inline void add_products(__m256 prod, __m256d *lo, __m256d *hi) {
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(prod)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(prod, 1)));
}

void tl_attn_scores_t_avx2(const float *q, const float *kt, int64_t ldk, int64_t n_keys, int64_t D,
                           float scale, float *p) {
    const __m128 sc = _mm_set1_ps(scale);
    int64_t t = 0;
    for (; t + 16 <= n_keys; t += 16) { /* 16 keys: 4 independent double chains */
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        const float *c = kt + t;
        for (int64_t d = 0; d < D; d++, c += ldk) {
            __m256 qd = _mm256_set1_ps(q[d]);
            add_products(_mm256_mul_ps(qd, _mm256_loadu_ps(c)), &a0, &a1);
            add_products(_mm256_mul_ps(qd, _mm256_loadu_ps(c + 8)), &a2, &a3);
        }
        _mm_storeu_ps(p + t, _mm_mul_ps(_mm256_cvtpd_ps(a0), sc));
        _mm_storeu_ps(p + t + 4, _mm_mul_ps(_mm256_cvtpd_ps(a1), sc));
        _mm_storeu_ps(p + t + 8, _mm_mul_ps(_mm256_cvtpd_ps(a2), sc));
        _mm_storeu_ps(p + t + 12, _mm_mul_ps(_mm256_cvtpd_ps(a3), sc));
    }
    for (; t < n_keys; t += 8) { /* kt is padded to a multiple of 8 keys */
        __m256d a0 = _mm256_setzero_pd(), a1 = a0;
        const float *c = kt + t;
        for (int64_t d = 0; d < D; d++, c += ldk)
            add_products(_mm256_mul_ps(_mm256_set1_ps(q[d]), _mm256_loadu_ps(c)), &a0, &a1);
        float s[8];
        _mm_storeu_ps(s, _mm_mul_ps(_mm256_cvtpd_ps(a0), sc));
        _mm_storeu_ps(s + 4, _mm_mul_ps(_mm256_cvtpd_ps(a1), sc));
        for (int64_t i = 0; i < 8 && t + i < n_keys; i++)
            p[t + i] = s[i];
    }
}

void tl_attn_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t T, int64_t D,
                     double *acc) {
    int64_t d = 0;
    for (; d + 32 <= D; d += 32) { /* 32 outputs in 8 registers across all t */
        __m256d a[8];
        for (int i = 0; i < 8; i++)
            a[i] = _mm256_loadu_pd(acc + d + 4 * i);
        for (int64_t t = 0; t < T; t++) {
            if (t + 8 < T) { /* the cache is cold: ask early */
                _mm_prefetch((const char *)(v + (t + 8) * vstride + d), _MM_HINT_T0);
                _mm_prefetch((const char *)(v + (t + 8) * vstride + d + 16), _MM_HINT_T0);
            }
            if (p[t] == 0.0f) continue; /* adds exactly 0 */
            const float *vt = v + t * vstride + d;
            __m256 pt = _mm256_set1_ps(p[t]);
            add_products(_mm256_mul_ps(pt, _mm256_loadu_ps(vt)), &a[0], &a[1]);
            add_products(_mm256_mul_ps(pt, _mm256_loadu_ps(vt + 8)), &a[2], &a[3]);
            add_products(_mm256_mul_ps(pt, _mm256_loadu_ps(vt + 16)), &a[4], &a[5]);
            add_products(_mm256_mul_ps(pt, _mm256_loadu_ps(vt + 24)), &a[6], &a[7]);
        }
        for (int i = 0; i < 8; i++)
            _mm256_storeu_pd(acc + d + 4 * i, a[i]);
    }
    for (; d < D; d += 4) {
        __m256d a = _mm256_loadu_pd(acc + d);
        for (int64_t t = 0; t < T; t++) {
            if (p[t] == 0.0f) continue;
            a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(p[t]),
                                                            _mm_loadu_ps(v + t * vstride + d))));
        }
        _mm256_storeu_pd(acc + d, a);
    }
}
