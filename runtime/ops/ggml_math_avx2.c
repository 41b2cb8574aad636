/* runtime/ops/ggml_math_avx2.c -- the 8-lane versions of ggml_math.h (built
** with AVX2/FMA; called after tl_cpu_use_avx2()).  The same operations as the
** portable ones in ggml_math.c, 8 lanes at a time. */
#include "runtime/ops/ggml_math.h"

#include <immintrin.h>
#include <math.h>

/* ggml's vector expf of 8 values (ggml_math.h) */
static inline __m256 gexpf8(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k =
        _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0f))));
    const __m256 absn = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    const __m256 big = _mm256_cmp_ps(absn, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 p_hi =
        _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
    const __m256 p_lo =
        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
    const __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(p_hi, u, p_lo), u,
                                     _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
    const __m256 plain = _mm256_fmadd_ps(j, k, k);
    if (!_mm256_movemask_ps(big)) return plain;
    const __m256i g =
        _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                         _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256 huge = _mm256_cmp_ps(absn, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    const __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
    __m256 res = _mm256_blendv_ps(plain, scaled, big);
    return _mm256_blendv_ps(res, _mm256_mul_ps(s1, s1), huge);
}

static inline __m256 gsilu8(__m256 x) {
    __m256 e = gexpf8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

void tl_ggml_silu8_avx2(const float *x, float *y, int64_t n8) {
    for (int64_t i = 0; i < n8; i += 8)
        _mm256_storeu_ps(y + i, gsilu8(_mm256_loadu_ps(x + i)));
}

void tl_ggml_swiglu8_avx2(const float *x, const float *g, float *y, int64_t n8) {
    for (int64_t i = 0; i < n8; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_mul_ps(gsilu8(_mm256_loadu_ps(x + i)), _mm256_loadu_ps(g + i)));
}

double tl_ggml_softmax_exp_avx2(float *p, int64_t n, float mx) {
    const __m256 m = _mm256_set1_ps(mx);
    double sum = 0.0;
    int64_t i = 0;
    for (; i < n; i += 8) {
        __m256 v;
        if (i + 8 <= n) {
            v = gexpf8(_mm256_sub_ps(_mm256_loadu_ps(p + i), m));
            _mm256_storeu_ps(p + i, v);
        } else { /* the last keys; the masked ones after them give 0 */
            float t[8] = {0};
            for (int64_t l = 0; l < n - i; l++)
                t[l] = p[i + l];
            v = gexpf8(_mm256_sub_ps(_mm256_loadu_ps(t), m));
            v = _mm256_blendv_ps(
                v, _mm256_setzero_ps(),
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8),
                                                       _mm256_set1_epi32((int)(n - i)))));
            _mm256_storeu_ps(t, v);
            for (int64_t l = 0; l < n - i; l++)
                p[i + l] = t[l];
        }
        __m128 a = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        a = _mm_add_ps(a, _mm_movehl_ps(a, a));
        a = _mm_add_ss(a, _mm_movehdup_ps(a));
        sum += (double)_mm_cvtss_f32(a);
    }
    return sum;
}

void tl_ggml_rope_row_avx2(const float *in, float *x, const float *cs, int64_t D, int neox) {
    int64_t half = D / 2;
    for (int64_t i = 0; i < half; i++) {
        int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const float c = cs[2 * i], s = cs[2 * i + 1], x0 = in[a], x1 = in[b];
        x[a] = __builtin_fmaf(x0, c, -(x1 * s));
        x[b] = __builtin_fmaf(x0, s, x1 * c);
    }
}

void tl_ggml_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                     float *o) {
    int64_t n8 = n / 8 * 8;
    for (int64_t d = 0; d < D; d += 8) { /* key t in accumulator t % 8 */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
               a7 = a0;
        const float *vd = v + d;
#define PV_KEY(acc, t)                                                                             \
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(vd + (t)*vstride), _mm256_set1_ps(p[t]), acc)
        for (int64_t t = 0; t < n8; t += 8) {
            PV_KEY(a0, t);
            PV_KEY(a1, t + 1);
            PV_KEY(a2, t + 2);
            PV_KEY(a3, t + 3);
            PV_KEY(a4, t + 4);
            PV_KEY(a5, t + 5);
            PV_KEY(a6, t + 6);
            PV_KEY(a7, t + 7);
        }
        __m256 *tail[7] = {&a0, &a1, &a2, &a3, &a4, &a5, &a6};
        for (int64_t t = n8; t < n; t++)
            PV_KEY(*tail[t - n8], t);
#undef PV_KEY
        __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a4), _mm256_add_ps(a2, a6)),
                                 _mm256_add_ps(_mm256_add_ps(a1, a5), _mm256_add_ps(a3, a7)));
        _mm256_storeu_ps(o + d, r);
    }
}

/* v = (a0 + a2) + (a1 + a3) of ggml_vec_dot_f32 for one key (D % 32 == 0). */
static inline __m256 dot_lanes(const float *q, const float *k, int64_t D) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < D; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(k + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(k + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(k + i + 24), a3);
    }
    return _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
}

/* [lo(x) + hi(x) | lo(y) + hi(y)]: the first step of two keys' lane sums */
static inline __m256 halves(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
}

void tl_ggml_scores8_avx2(const float *q, const float *k, int64_t kstride, int64_t n8, int64_t D,
                          float scale, float *out) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t t = 0; t < n8; t += 8) {
        __m256 v[8];
        for (int j = 0; j < 8; j++)
            v[j] = dot_lanes(q, k + (t + j) * kstride, D);
        /* each key's ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)), as the
        ** one-key reduction's extract, add and two hadds: key j ends in lane
        ** (j even: j / 2, odd: 4 + j / 2) */
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(halves(v[0], v[1]), halves(v[2], v[3])),
                                  _mm256_hadd_ps(halves(v[4], v[5]), halves(v[6], v[7])));
        h = _mm256_permutevar8x32_ps(h, order);
        _mm256_storeu_ps(out + t, _mm256_mul_ps(h, _mm256_set1_ps(scale)));
    }
}

void tl_ggml_pv_dot_avx2(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                         float *o) {
    for (int64_t d = 0; d < D; d += 8) { /* 8 outputs in the lanes */
        __m256 acc[4][8];
        const float *vd = v + d;
        for (int c = 0; c < 4; c++) { /* accumulator c: keys 32 m + 8 c + l, in 8 registers */
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
                   a7 = a0;
#define PVD_KEY(acc, t)                                                                            \
    if ((t) < n) acc = _mm256_fmadd_ps(_mm256_loadu_ps(vd + (t)*vstride), _mm256_set1_ps(p[t]), acc)
            for (int64_t t = 8 * c; t < n; t += 32) {
                PVD_KEY(a0, t);
                PVD_KEY(a1, t + 1);
                PVD_KEY(a2, t + 2);
                PVD_KEY(a3, t + 3);
                PVD_KEY(a4, t + 4);
                PVD_KEY(a5, t + 5);
                PVD_KEY(a6, t + 6);
                PVD_KEY(a7, t + 7);
            }
#undef PVD_KEY
            acc[c][0] = a0, acc[c][1] = a1, acc[c][2] = a2, acc[c][3] = a3;
            acc[c][4] = a4, acc[c][5] = a5, acc[c][6] = a6, acc[c][7] = a7;
        }
        __m256 l[8];
        for (int k = 0; k < 8; k++)
            l[k] = _mm256_add_ps(_mm256_add_ps(acc[0][k], acc[2][k]),
                                 _mm256_add_ps(acc[1][k], acc[3][k]));
        __m256 r =
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(l[0], l[4]), _mm256_add_ps(l[1], l[5])),
                          _mm256_add_ps(_mm256_add_ps(l[2], l[6]), _mm256_add_ps(l[3], l[7])));
        _mm256_storeu_ps(o + d, r);
    }
}
