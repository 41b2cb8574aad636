/* runtime/quant/q8_0_avx2.c -- Q8_0 x Q8_0 dot and the Q8_0 activation
** quantizer with AVX2/FMA/F16C; bit-identical to the scalar versions. */
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"

void tl_q8_0_dot_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q8_0 *x = vx, *y = vy;
    const int64_t nb = n / QK32;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 s = _mm256_cvtepi32_ps(dot_i8_lanes(qx, qy));
        __m256 d = _mm256_set1_ps(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm256_fmadd_ps(d, s, acc);
    }
    *out = hsum8(acc);
}

/* amax over the block, d = amax/127 (stored as fp16), q = round_even(x * 127/amax). */
void tl_q8_0_quantize_act_avx2(const float *x, void *dst, int64_t n) {
    blk_q8_0 *b = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m =
            _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                          _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        b[i].d = tl_f32_to_f16(amax / 127.0f);
        __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);

        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, id), ROUND_EVEN));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, id), ROUND_EVEN));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, id), ROUND_EVEN));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, id), ROUND_EVEN));
        /* pack to bytes; the packs interleave 128-bit halves, a permute restores order */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)b[i].qs, p);
    }
}

/* Four Q8_0 rows against one activation row; each result bit-identical to
** tl_q8_0_dot_avx2 on that row. */
void tl_q8_0_dot4_avx2(int64_t n, float out[4], const void *const xs[4], const void *vy) {
    const blk_q8_0 *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
    const blk_q8_0 *y = vy;
    const int64_t nb = n / QK32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t i = 0; i < nb; i++) {
        _mm_prefetch((const char *)(x0 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x1 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x2 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x3 + i) + 512, _MM_HINT_T0);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        float dy = f16_to_f32_hw(y[i].d);
#define TL_Q8_0_ROW(X, ACC)                                                                        \
    do {                                                                                           \
        __m256i qx = _mm256_loadu_si256((const __m256i *)X[i].qs);                                 \
        __m256 s = _mm256_cvtepi32_ps(dot_i8_lanes(qx, qy));                                       \
        ACC = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32_hw(X[i].d) * dy), s, ACC);                 \
    } while (0)
        TL_Q8_0_ROW(x0, acc0);
        TL_Q8_0_ROW(x1, acc1);
        TL_Q8_0_ROW(x2, acc2);
        TL_Q8_0_ROW(x3, acc3);
#undef TL_Q8_0_ROW
    }
    out[0] = hsum8(acc0);
    out[1] = hsum8(acc1);
    out[2] = hsum8(acc2);
    out[3] = hsum8(acc3);
}

/* A 4-row x 2-token tile, each result bit-identical to tl_q8_0_dot_avx2. */
void tl_q8_0_dot_4x2_avx2(int64_t n, float out[8], const void *const xs[4],
                          const void *const ys[2]) {
    const blk_q8_0 *x[4] = {xs[0], xs[1], xs[2], xs[3]};
    const blk_q8_0 *y0 = ys[0], *y1 = ys[1];
    const int64_t nb = n / QK32;
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m256i q0 = _mm256_loadu_si256((const __m256i *)y0[i].qs);
        __m256i q1 = _mm256_loadu_si256((const __m256i *)y1[i].qs);
        float d0 = f16_to_f32_hw(y0[i].d), d1 = f16_to_f32_hw(y1[i].d);
        for (int r = 0; r < 4; r++) {
            __m256i qx = _mm256_loadu_si256((const __m256i *)x[r][i].qs);
            __m256i ax = _mm256_sign_epi8(qx, qx);
            float dx = f16_to_f32_hw(x[r][i].d);
            __m256i p0 =
                _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(q0, qx)), ones16);
            __m256i p1 =
                _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(q1, qx)), ones16);
            acc[r][0] = _mm256_fmadd_ps(_mm256_set1_ps(dx * d0), _mm256_cvtepi32_ps(p0), acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(_mm256_set1_ps(dx * d1), _mm256_cvtepi32_ps(p1), acc[r][1]);
        }
    }
    for (int r = 0; r < 4; r++) {
        out[2 * r] = hsum8(acc[r][0]);
        out[2 * r + 1] = hsum8(acc[r][1]);
    }
}
