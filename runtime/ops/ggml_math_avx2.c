/* runtime/ops/ggml_math_avx2.c -- the 8-lane versions of ggml_math.h (built
** with AVX2/FMA; called after tl_cpu_use_avx2()).  The same operations as the
** portable ones in ggml_math.c, 8 lanes at a time. */
#include "runtime/ops/ggml_math.h"

#include "runtime/quant/avx2_common.h"

#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

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

/* The pair rotation of one RoPE pair, as the portable row does it. */
static inline void rope_pair(const float *in, float *x, const float *cs, int64_t i, int64_t a,
                             int64_t b) {
    const float c = cs[2 * i], s = cs[2 * i + 1], x0 = in[a], x1 = in[b];
    x[a] = __builtin_fmaf(x0, c, -(x1 * s));
    x[b] = __builtin_fmaf(x0, s, x1 * c);
}

/* 8 lanes at a time, each lane the portable row's two operations: a product
** rounded to float, then one fused multiply-add (fmsub of that product for the
** first element of a pair, fmadd for the second). */
void tl_ggml_rope_row_avx2(const float *in, float *x, const float *cs, int64_t D, int neox) {
    int64_t half = D / 2, i = 0;
    if (!neox) { /* pairs side by side: lanes x0 x1 x0' x1' .., cs c s c' s' .. */
        for (; 2 * i + 8 <= D; i += 4) {
            __m256 v = _mm256_loadu_ps(in + 2 * i), t = _mm256_loadu_ps(cs + 2 * i);
            __m256 sw = _mm256_permute_ps(v, 0xb1); /* x1 x0 .. */
            __m256 c = _mm256_moveldup_ps(t), sn = _mm256_movehdup_ps(t);
            __m256 first = _mm256_fmsub_ps(v, c, _mm256_mul_ps(sw, sn));  /* x0 c - (x1 s) */
            __m256 second = _mm256_fmadd_ps(sw, sn, _mm256_mul_ps(v, c)); /* x0 s + x1 c */
            _mm256_storeu_ps(x + 2 * i, _mm256_blend_ps(first, second, 0xaa));
        }
        for (; i < half; i++)
            rope_pair(in, x, cs, i, 2 * i, 2 * i + 1);
        return;
    }
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    for (; i + 8 <= half; i += 8) { /* x0 = in[i..], x1 = in[i + half..] */
        __m256 t0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(cs + 2 * i), even);
        __m256 t1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(cs + 2 * i + 8), even);
        __m256 c = _mm256_permute2f128_ps(t0, t1, 0x20), sn = _mm256_permute2f128_ps(t0, t1, 0x31);
        __m256 x0 = _mm256_loadu_ps(in + i), x1 = _mm256_loadu_ps(in + i + half);
        _mm256_storeu_ps(x + i, _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, sn)));
        _mm256_storeu_ps(x + i + half, _mm256_fmadd_ps(x0, sn, _mm256_mul_ps(x1, c)));
    }
    for (; i < half; i++)
        rope_pair(in, x, cs, i, i, i + half);
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

/* [lo(x) + hi(x) | lo(y) + hi(y)]: the first step of two keys' lane sums */
static inline __m256 halves(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
}

/* f32_dot_lanes for D = 64 with the query in registers: the same fused
** multiply-adds from 0 in the same accumulators. */
static inline __m256 dot_lanes64(const __m256 *qr, const float *k) {
    __m256 z = _mm256_setzero_ps();
    __m256 a0 = _mm256_fmadd_ps(qr[0], _mm256_loadu_ps(k), z);
    __m256 a1 = _mm256_fmadd_ps(qr[1], _mm256_loadu_ps(k + 8), z);
    __m256 a2 = _mm256_fmadd_ps(qr[2], _mm256_loadu_ps(k + 16), z);
    __m256 a3 = _mm256_fmadd_ps(qr[3], _mm256_loadu_ps(k + 24), z);
    a0 = _mm256_fmadd_ps(qr[4], _mm256_loadu_ps(k + 32), a0);
    a1 = _mm256_fmadd_ps(qr[5], _mm256_loadu_ps(k + 40), a1);
    a2 = _mm256_fmadd_ps(qr[6], _mm256_loadu_ps(k + 48), a2);
    a3 = _mm256_fmadd_ps(qr[7], _mm256_loadu_ps(k + 56), a3);
    return _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
}

/* Each of 8 keys' lanes reduced as the one-key reduction does it, ((l0 + l4) +
** (l1 + l5)) + ((l2 + l6) + (l3 + l7)) (an extract, an add and two hadds), for
** all 8 at once: key j ends in lane j even: j / 2, odd: 4 + j / 2, and the
** permute puts it back in lane j.  out[j] = key j's sum times scale, j < m. */
static inline void reduce_keys8(const __m256 *l, float scale, float *out, int m) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256 h01 = halves(l[0], l[1]), h23 = halves(l[2], l[3]);
    __m256 h45 = halves(l[4], l[5]), h67 = halves(l[6], l[7]);
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(h01, h23), _mm256_hadd_ps(h45, h67));
    h = _mm256_mul_ps(_mm256_permutevar8x32_ps(h, order), _mm256_set1_ps(scale));
    if (m == 8) {
        _mm256_storeu_ps(out, h);
    } else { /* a last group of m < 8 keys: the absent keys' lanes are zeros */
        float all[8];
        _mm256_storeu_ps(all, h);
        memcpy(out, all, (size_t)m * sizeof(float));
    }
}

void tl_ggml_scores8_avx2(const float *q, const float *k, int64_t kstride, int64_t n, int64_t D,
                          float scale, float *out) {
    __m256 qr[8], l[8];
    if (D == 64)
        for (int i = 0; i < 8; i++)
            qr[i] = _mm256_loadu_ps(q + 8 * i);
    for (int64_t t = 0; t < n; t += 8) {
        const float *kt = k + t * kstride;
        int m = n - t < 8 ? (int)(n - t) : 8;
        if (D == 64 && m == 8) {
            for (int j = 0; j < 8; j++)
                l[j] = dot_lanes64(qr, kt + j * kstride);
        } else {
            for (int j = 0; j < 8; j++)
                l[j] = j >= m    ? _mm256_setzero_ps()
                       : D == 64 ? dot_lanes64(qr, kt + j * kstride)
                                 : f32_dot_lanes(q, kt + j * kstride, D);
        }
        reduce_keys8(l, scale, out + t, m);
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

/* One chain (cnt keys, value row m at v + m * vstride, probabilities p0[32 m],
** p1[32 m]) of two heads at once, 32 outputs: w0/w1[d] = the fused multiply-adds
** of p[m] v_m[d] from 0, m in order.  Each value row is loaded once for both
** heads; 8 independent accumulators. */
static void pv_chain2(const float *p0, const float *p1, const float *v, int64_t vstride,
                      int64_t cnt, float *w0, float *w1) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int64_t m = 0; m < cnt; m++) {
        const float *row = v + m * vstride;
        __m256 x0 = _mm256_loadu_ps(row), x1 = _mm256_loadu_ps(row + 8),
               x2 = _mm256_loadu_ps(row + 16), x3 = _mm256_loadu_ps(row + 24);
        __m256 c = _mm256_set1_ps(p0[32 * m]), e = _mm256_set1_ps(p1[32 * m]);
        a0 = _mm256_fmadd_ps(x0, c, a0);
        a1 = _mm256_fmadd_ps(x1, c, a1);
        a2 = _mm256_fmadd_ps(x2, c, a2);
        a3 = _mm256_fmadd_ps(x3, c, a3);
        b0 = _mm256_fmadd_ps(x0, e, b0);
        b1 = _mm256_fmadd_ps(x1, e, b1);
        b2 = _mm256_fmadd_ps(x2, e, b2);
        b3 = _mm256_fmadd_ps(x3, e, b3);
    }
    _mm256_storeu_ps(w0, a0);
    _mm256_storeu_ps(w0 + 8, a1);
    _mm256_storeu_ps(w0 + 16, a2);
    _mm256_storeu_ps(w0 + 24, a3);
    _mm256_storeu_ps(w1, b0);
    _mm256_storeu_ps(w1 + 8, b1);
    _mm256_storeu_ps(w1 + 16, b2);
    _mm256_storeu_ps(w1 + 24, b3);
}

/* The same for one head and 8 outputs. */
static void pv_chain1(const float *p, const float *v, int64_t vstride, int64_t cnt, float *w) {
    __m256 a = _mm256_setzero_ps();
    for (int64_t m = 0; m < cnt; m++)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(v + m * vstride), _mm256_set1_ps(p[32 * m]), a);
    _mm256_storeu_ps(w, a);
}

static void pv_dot_heads_long(const float *p, int64_t pstride, int64_t G, const float *v,
                              int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                              float *work) {
    /* The value rows regrouped by chain (key t = 32 m + j is row m of chain j),
    ** so that a chain's rows are contiguous: vr[j][m][D]; chain j of head g ends
    ** in ch[g][j][D]. */
    int64_t M = (n + 31) / 32;
    float *ch = work, *vr = ch + G * 32 * D;
    for (int64_t t = 0; t < n; t++) {
        const float *src = v + t * vstride;
        float *dst = vr + ((t % 32) * M + t / 32) * D;
        for (int64_t d = 0; d < D; d += 8)
            _mm256_storeu_ps(dst + d, _mm256_loadu_ps(src + d));
    }
    for (int64_t j = 0; j < 32; j++) {
        int64_t cnt = j < n ? (n - j + 31) / 32 : 0;
        const float *vj = vr + j * M * D;
        int64_t g = 0;
        for (; g + 1 < G; g += 2) {
            const float *p0 = p + g * pstride + j, *p1 = p0 + pstride;
            float *w0 = ch + (g * 32 + j) * D, *w1 = w0 + 32 * D;
            int64_t d = 0;
            for (; d + 32 <= D; d += 32)
                pv_chain2(p0, p1, vj + d, D, cnt, w0 + d, w1 + d);
            for (; d < D; d += 8) {
                pv_chain1(p0, vj + d, D, cnt, w0 + d);
                pv_chain1(p1, vj + d, D, cnt, w1 + d);
            }
        }
        for (; g < G; g++)
            for (int64_t d = 0; d < D; d += 8)
                pv_chain1(p + g * pstride + j, vj + d, D, cnt, ch + (g * 32 + j) * D + d);
    }
    for (int64_t g = 0; g < G; g++) {
        const float *w = ch + g * 32 * D;
        for (int64_t d = 0; d < D; d += 8) {
            __m256 l[8];
#define PVH_W(jj) _mm256_loadu_ps(w + (jj)*D + d)
            for (int k = 0; k < 8; k++) /* lane k: (a0 + a2) + (a1 + a3), a_c = chain 8 c + k */
                l[k] = _mm256_add_ps(_mm256_add_ps(PVH_W(k), PVH_W(16 + k)),
                                     _mm256_add_ps(PVH_W(8 + k), PVH_W(24 + k)));
#undef PVH_W
            __m256 r =
                _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(l[0], l[4]), _mm256_add_ps(l[1], l[5])),
                              _mm256_add_ps(_mm256_add_ps(l[2], l[6]), _mm256_add_ps(l[3], l[7])));
            _mm256_storeu_ps(o + g * ostride + d, r);
        }
    }
}

/* ggml_vec_dot_f32's order over the keys for 8 outputs of one or two heads,
** vectorised across the outputs: chain j (lane j % 8 of accumulator j / 8) is
** the fused multiply-adds from 0 of the keys t = j + 32 m, m in order; the 32
** chains are reduced lane by lane as that order reduces them, so every output
** gets exactly the scalar reference's sums.  The chains and their partial sums
** stay in registers (no scratch memory); a chain with no key is +0, as there. */
typedef struct pv_heads {
    const float *p0, *p1; /* the two heads' probabilities (p1 = p0, unused, for one head) */
    const float *v;       /* key t = 32 m + j: 8 outputs at v + j * cstride + m * mstride */
    int64_t cstride, mstride, n;
} pv_heads;

/* Lane k's (a0 + a2) + (a1 + a3) of both heads (two: false, head 0 only),
** a_c = chain 8 c + k.  The four chains advance together (eight independent
** accumulators for two heads), each in its own order over m. */
static inline __attribute__((always_inline)) void pvh_lane(const pv_heads *h, int k, bool two,
                                                           __m256 *l0, __m256 *l1) {
    const __m256 z = _mm256_setzero_ps();
    __m256 a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
    const float *x = h->v + k * h->cstride, *q0 = h->p0 + k, *q1 = h->p1 + k;
    const int64_t cs = 8 * h->cstride;
#define PVH_KEY(c, ac, bc)                                                                         \
    do {                                                                                           \
        __m256 vx = _mm256_loadu_ps(x + (c)*cs);                                                   \
        ac = _mm256_fmadd_ps(vx, _mm256_broadcast_ss(q0 + 8 * (c)), ac);                           \
        if (two) bc = _mm256_fmadd_ps(vx, _mm256_broadcast_ss(q1 + 8 * (c)), bc);                  \
    } while (0)
    int64_t t = k;
    for (; t + 24 < h->n; t += 32, x += h->mstride, q0 += 32, q1 += 32) {
        PVH_KEY(0, a0, b0);
        PVH_KEY(1, a1, b1);
        PVH_KEY(2, a2, b2);
        PVH_KEY(3, a3, b3);
    }
    if (t < h->n) PVH_KEY(0, a0, b0); /* the chains' last keys */
    if (t + 8 < h->n) PVH_KEY(1, a1, b1);
    if (t + 16 < h->n) PVH_KEY(2, a2, b2);
#undef PVH_KEY
    *l0 = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
    *l1 = _mm256_add_ps(_mm256_add_ps(b0, b2), _mm256_add_ps(b1, b3));
}

/* Lanes k and k + 4 added: l_k + l_(k+4). */
static inline __attribute__((always_inline)) void pvh_pair(const pv_heads *h, int k, bool two,
                                                           __m256 *r0, __m256 *r1) {
    __m256 x0, x1, y0, y1;
    pvh_lane(h, k, two, &x0, &x1);
    pvh_lane(h, k + 4, two, &y0, &y1);
    *r0 = _mm256_add_ps(x0, y0);
    *r1 = _mm256_add_ps(x1, y1);
}

/* ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)) of both heads into o0, o1. */
static inline __attribute__((always_inline)) void pvh_outputs(const pv_heads *h, bool two,
                                                              float *o0, float *o1) {
    __m256 a0, a1, b0, b1, c0, c1, d0, d1;
    pvh_pair(h, 0, two, &a0, &a1);
    pvh_pair(h, 1, two, &b0, &b1);
    __m256 s0 = _mm256_add_ps(a0, b0), s1 = _mm256_add_ps(a1, b1);
    pvh_pair(h, 2, two, &c0, &c1);
    pvh_pair(h, 3, two, &d0, &d1);
    _mm256_storeu_ps(o0, _mm256_add_ps(s0, _mm256_add_ps(c0, d0)));
    if (two) _mm256_storeu_ps(o1, _mm256_add_ps(s1, _mm256_add_ps(c1, d1)));
}

static void pvh_outputs2(const pv_heads *h, float *o0, float *o1) {
    pvh_outputs(h, true, o0, o1);
}

static void pvh_outputs1(const pv_heads *h, float *o0) {
    pvh_outputs(h, false, o0, NULL);
}

static void pv_dot_heads_short(const float *p, int64_t pstride, int64_t G, const float *v,
                               int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                               float *work) {
    /* The value rows regrouped by chain, each chain's rows contiguous: key
    ** t = 32 m + j at vr + j cs + m D.  In the cache's own layout the rows of one
    ** KV head lie Hkv * D floats apart, and a chain's keys 32 rows apart: too few
    ** L1 sets for a few dozen rows.  cs = M D + 16: the chains' rows m fall in
    ** different L1 sets too. */
    int64_t M = (n + 31) / 32, cs = M * D + 16;
    float *vr = work;
    for (int64_t t = 0; t < n; t++) {
        float *dst = vr + (t % 32) * cs + (t / 32) * D;
        for (int64_t d = 0; d < D; d += 8)
            _mm256_storeu_ps(dst + d, _mm256_loadu_ps(v + t * vstride + d));
    }
    /* A pass reads 8 outputs of each of the n rows; the passes over one 64-byte
    ** line of every row (16 outputs, all the heads) run together, so the rows
    ** come from L2 once and stay in L1 for the rest */
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
        int64_t d1 = d0 + 16 < D ? d0 + 16 : D, g = 0;
        for (; g + 1 < G; g += 2) /* two heads a pass: each value row loaded once for both */
            for (int64_t d = d0; d < d1; d += 8)
                pvh_outputs2(&(pv_heads){p + g * pstride, p + (g + 1) * pstride, vr + d, cs, D, n},
                             o + g * ostride + d, o + (g + 1) * ostride + d);
        for (; g < G; g++)
            for (int64_t d = d0; d < d1; d += 8)
                pvh_outputs1(&(pv_heads){p + g * pstride, p + g * pstride, vr + d, cs, D, n},
                             o + g * ostride + d);
    }
}

void tl_ggml_pv_dot_heads_avx2(const float *p, int64_t pstride, int64_t G, const float *v,
                               int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                               float *work) {
    if (n <= TL_PV_SHORT_KEYS)
        pv_dot_heads_short(p, pstride, G, v, vstride, n, D, o, ostride, work);
    else
        pv_dot_heads_long(p, pstride, G, v, vstride, n, D, o, ostride, work);
}

/* RM rows x RN outputs of tl_ggml_pv_rows_t_avx2: one 8-lane accumulator per
** output over the keys (key t in lane t % 8), RM + RN loads per RM * RN fused
** multiply-adds; the last n % 8 keys through a lane mask, so a key past n adds
** nothing at all. */
static inline __attribute__((always_inline)) void pv_t_tile(const int RM, const int RN,
                                                            const float *p, int64_t ps,
                                                            const float *vt, int64_t vs, int64_t n,
                                                            float *o, int64_t os) {
    __m256 acc[4][3];
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++)
#pragma GCC unroll 3
        for (int j = 0; j < RN; j++)
            acc[i][j] = _mm256_setzero_ps();
    int64_t n8 = n / 8 * 8;
    for (int64_t t = 0; t < n8; t += 8) {
        __m256 b[3];
#pragma GCC unroll 3
        for (int j = 0; j < RN; j++)
            b[j] = _mm256_loadu_ps(vt + j * vs + t);
#pragma GCC unroll 4
        for (int i = 0; i < RM; i++) {
            __m256 a = _mm256_loadu_ps(p + i * ps + t);
#pragma GCC unroll 3
            for (int j = 0; j < RN; j++)
                acc[i][j] = _mm256_fmadd_ps(a, b[j], acc[i][j]);
        }
    }
    if (n8 < n) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - n8)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 mf = _mm256_castsi256_ps(m), b[3];
#pragma GCC unroll 3
        for (int j = 0; j < RN; j++)
            b[j] = _mm256_maskload_ps(vt + j * vs + n8, m);
#pragma GCC unroll 4
        for (int i = 0; i < RM; i++) {
            __m256 a = _mm256_maskload_ps(p + i * ps + n8, m);
#pragma GCC unroll 3
            for (int j = 0; j < RN; j++)
                acc[i][j] = _mm256_blendv_ps(acc[i][j], _mm256_fmadd_ps(a, b[j], acc[i][j]), mf);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < RM; i++)
#pragma GCC unroll 3
        for (int j = 0; j < RN; j++)
            o[i * os + j] = hsum8(acc[i][j]); /* sgemm's reduction of an accumulator */
}

void tl_ggml_pv_rows_t_avx2(const float *p, int64_t ps, int64_t R, const float *vt, int64_t vs,
                            int64_t n, int64_t D, float *o, int64_t os) {
    int64_t r = 0;
    for (; r + 4 <= R; r += 4) {
        int64_t d = 0;
        for (; d + 3 <= D; d += 3)
            pv_t_tile(4, 3, p + r * ps, ps, vt + d * vs, vs, n, o + r * os + d, os);
        for (; d < D; d++)
            pv_t_tile(4, 1, p + r * ps, ps, vt + d * vs, vs, n, o + r * os + d, os);
    }
    for (; r < R; r++) {
        int64_t d = 0;
        for (; d + 3 <= D; d += 3)
            pv_t_tile(1, 3, p + r * ps, ps, vt + d * vs, vs, n, o + r * os + d, os);
        for (; d < D; d++)
            pv_t_tile(1, 1, p + r * ps, ps, vt + d * vs, vs, n, o + r * os + d, os);
    }
}
