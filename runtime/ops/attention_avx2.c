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

/* kr[0..width) = keys t, t + 1, ... (key t again past the last of the n_keys,
** so every chain reads valid memory); returns how many are real. */
static inline int key_rows(const float *k, int64_t kstride, int64_t t, int64_t n_keys, int width,
                           const float **kr) {
    int nk = n_keys - t < width ? (int)(n_keys - t) : width;
    for (int i = 0; i < width; i++)
        kr[i] = k + (t + (i < nk ? i : 0)) * kstride;
    return nk;
}

/* Scores of 8 query heads (lanes) against one key per chain; see attention_kernels.h. */
void tl_attn_scores_g8_avx2(const float *qt, const float *k, int64_t kstride, int64_t n_keys,
                            int64_t D, float scale, float *p, int64_t ldp) {
    const __m128 sc = _mm_set1_ps(scale);
    for (int64_t t = 0; t < n_keys; t += 4) { /* 4 keys (fewer at the end): 8 double chains */
        const float *kr[4];
        int nk = key_rows(k, kstride, t, n_keys, 4, kr);
        for (int64_t i = t + 8; i < t + 12 && i < n_keys; i++) /* the cache is cold: ask early */
            for (int64_t d = 0; d < D; d += 16)
                _mm_prefetch((const char *)(k + i * kstride + d), _MM_HINT_T0);
        __m256d lo[4], hi[4];
        for (int i = 0; i < 4; i++)
            lo[i] = hi[i] = _mm256_setzero_pd();
        for (int64_t d = 0; d < D; d++) {
            __m256 qd = _mm256_loadu_ps(qt + d * 8);
            for (int i = 0; i < 4; i++)
                add_products(_mm256_mul_ps(qd, _mm256_broadcast_ss(kr[i] + d)), &lo[i], &hi[i]);
        }
        for (int i = 0; i < nk; i++) {
            float r[8];
            _mm_storeu_ps(r, _mm_mul_ps(_mm256_cvtpd_ps(lo[i]), sc));
            _mm_storeu_ps(r + 4, _mm_mul_ps(_mm256_cvtpd_ps(hi[i]), sc));
            for (int g = 0; g < 8; g++)
                p[g * ldp + t + i] = r[g];
        }
    }
}

/* The same for 4 heads: 8 keys per pass. */
void tl_attn_scores_g4_avx2(const float *qt, const float *k, int64_t kstride, int64_t n_keys,
                            int64_t D, float scale, float *p, int64_t ldp) {
    const __m128 sc = _mm_set1_ps(scale);
    for (int64_t t = 0; t < n_keys; t += 8) { /* 8 keys (fewer at the end): 8 double chains */
        const float *kr[8];
        int nk = key_rows(k, kstride, t, n_keys, 8, kr);
        __m256d a[8];
        for (int i = 0; i < 8; i++)
            a[i] = _mm256_setzero_pd();
        for (int64_t d = 0; d < D; d++) {
            __m128 qd = _mm_loadu_ps(qt + d * 4);
            for (int i = 0; i < 8; i++)
                a[i] = _mm256_add_pd(a[i],
                                     _mm256_cvtps_pd(_mm_mul_ps(qd, _mm_broadcast_ss(kr[i] + d))));
        }
        for (int i = 0; i < nk; i++) {
            float r[4];
            _mm_storeu_ps(r, _mm_mul_ps(_mm256_cvtpd_ps(a[i]), sc));
            for (int g = 0; g < 4; g++)
                p[g * ldp + t + i] = r[g];
        }
    }
}

/* Stores the 8x8 block r[0..8) (row i: 8 consecutive d of key t0 + i)
** transposed: row d of the result to dst + d * ldk. */
static inline void store_8x8_transposed(__m256 r[8], float *dst, int64_t ldk) {
    __m256 a0 = _mm256_unpacklo_ps(r[0], r[1]), a1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 a2 = _mm256_unpacklo_ps(r[2], r[3]), a3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 a4 = _mm256_unpacklo_ps(r[4], r[5]), a5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 a6 = _mm256_unpacklo_ps(r[6], r[7]), a7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xee);
    __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xee);
    __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xee);
    __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xee);
    _mm256_storeu_ps(dst + 0 * ldk, _mm256_permute2f128_ps(b0, b4, 0x20));
    _mm256_storeu_ps(dst + 1 * ldk, _mm256_permute2f128_ps(b1, b5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldk, _mm256_permute2f128_ps(b2, b6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldk, _mm256_permute2f128_ps(b3, b7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldk, _mm256_permute2f128_ps(b0, b4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldk, _mm256_permute2f128_ps(b1, b5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldk, _mm256_permute2f128_ps(b2, b6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldk, _mm256_permute2f128_ps(b3, b7, 0x31));
}

void tl_attn_transpose_k_avx2(const float *k, int64_t kstride, int64_t n_keys, int64_t D, float *kt,
                              int64_t ldk) {
    for (int64_t t0 = 0; t0 < ldk; t0 += 8)
        for (int64_t d0 = 0; d0 < D; d0 += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = t0 + i < n_keys ? _mm256_loadu_ps(k + (t0 + i) * kstride + d0)
                                       : _mm256_setzero_ps();
            store_8x8_transposed(r, kt + d0 * ldk + t0, ldk);
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
