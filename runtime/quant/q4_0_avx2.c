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

/* Four rows against one activation row (rows anywhere: the caller may take
** them from four far-apart parts of a matrix, which the hardware prefetcher
** follows better).  Codes stay unsigned (0..15) and 8 * (lane sums of y) is
** subtracted: the same integer per lane as (q - 8) * y, so each result is
** bit-identical to tl_q4_0_dot_avx2 on that row. */
void tl_q4_0_dot4_avx2(int64_t n, float out[4], const void *const xs[4], const void *vy) {
    const blk_q4_0 *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
    const blk_q8_0 *y = vy;
    const int64_t nb = n / QK32;
    const __m256i ones8 = _mm256_set1_epi8(1);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t i = 0; i < nb; i++) {
        _mm_prefetch((const char *)(x0 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x1 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x2 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x3 + i) + 512, _MM_HINT_T0);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        /* 8 * (sum of y over bytes 4k..4k+3) per lane k */
        __m256i ysum =
            _mm256_slli_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, qy), ones16), 3);
        float dy = f16_to_f32_hw(y[i].d);
#define TL_Q4_0_ROW(X, ACC)                                                                        \
    do {                                                                                           \
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles(X[i].qs), qy), ones16);  \
        __m256 s = _mm256_cvtepi32_ps(_mm256_sub_epi32(p, ysum));                                  \
        ACC = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32_hw(X[i].d) * dy), s, ACC);                 \
    } while (0)
        TL_Q4_0_ROW(x0, acc0);
        TL_Q4_0_ROW(x1, acc1);
        TL_Q4_0_ROW(x2, acc2);
        TL_Q4_0_ROW(x3, acc3);
#undef TL_Q4_0_ROW
    }
    out[0] = hsum8(acc0);
    out[1] = hsum8(acc1);
    out[2] = hsum8(acc2);
    out[3] = hsum8(acc3);
}

/* A 4-row x 2-token tile: out[2r + t] = x[r] . y[t].  Each weight block is
** unpacked once for both tokens and each activation block loaded once for
** four rows; every (r, t) keeps its own 8-lane accumulator, so each result is
** bit-identical to tl_q4_0_dot_avx2. */
void tl_q4_0_dot_4x2_avx2(int64_t n, float out[8], const void *const xs[4],
                          const void *const ys[2]) {
    const blk_q4_0 *x[4] = {xs[0], xs[1], xs[2], xs[3]};
    const blk_q8_0 *y0 = ys[0], *y1 = ys[1];
    const int64_t nb = n / QK32;
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m256i q0 = _mm256_loadu_si256((const __m256i *)y0[i].qs);
        __m256i q1 = _mm256_loadu_si256((const __m256i *)y1[i].qs);
        __m256i s0 =
            _mm256_slli_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q0), ones16), 3);
        __m256i s1 =
            _mm256_slli_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q1), ones16), 3);
        float d0 = f16_to_f32_hw(y0[i].d), d1 = f16_to_f32_hw(y1[i].d);
        for (int r = 0; r < 4; r++) {
            __m256i qx = unpack_nibbles(x[r][i].qs);
            float dx = f16_to_f32_hw(x[r][i].d);
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(qx, q0), ones16);
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(qx, q1), ones16);
            acc[r][0] = _mm256_fmadd_ps(_mm256_set1_ps(dx * d0),
                                        _mm256_cvtepi32_ps(_mm256_sub_epi32(p0, s0)), acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(_mm256_set1_ps(dx * d1),
                                        _mm256_cvtepi32_ps(_mm256_sub_epi32(p1, s1)), acc[r][1]);
        }
    }
    for (int r = 0; r < 4; r++) {
        out[2 * r] = hsum8(acc[r][0]);
        out[2 * r + 1] = hsum8(acc[r][1]);
    }
}

/* ---- the repacked-GEMV order (tl_q4_0_dot_rp), with AVX2 ---------------- */

/* Lane sums of (q - 8) * y of one block, 8 int32 lanes (unsigned trick). */
static inline __m256i q4_0_lanes(const blk_q4_0 *x, __m256i qy, __m256i ysum8) {
    __m256i p =
        _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles(x->qs), qy), _mm256_set1_epi16(1));
    return _mm256_sub_epi32(p, ysum8);
}

static inline __m256i ysum8_of(__m256i qy) {
    return _mm256_slli_epi32(
        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), qy), _mm256_set1_epi16(1)), 3);
}

/* Four 8-lane vectors -> their four totals, in order. */
static inline __m128i sum4(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_hadd_epi32(a, b), cd = _mm256_hadd_epi32(c, d);
    __m256i abcd = _mm256_hadd_epi32(ab, cd);
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

static inline __m128 scales4(const blk_q4_0 *x0, const blk_q4_0 *x1, const blk_q4_0 *x2,
                             const blk_q4_0 *x3) {
    return _mm_cvtph_ps(
        _mm_setr_epi16((short)x0->d, (short)x1->d, (short)x2->d, (short)x3->d, 0, 0, 0, 0));
}

void tl_q4_0_dot_rp_avx2(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_0 *x = vx;
    const blk_q8_0 *y = vy;
    __m128 acc = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        _mm_prefetch((const char *)(x + i) + 512, _MM_HINT_T0);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i p = q4_0_lanes(&x[i], qy, ysum8_of(qy));
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        __m128 d = _mm_set_ss(f16_to_f32_hw(x[i].d) * f16_to_f32_hw(y[i].d));
        acc = _mm_fmadd_ss(d, _mm_cvtepi32_ps(s), acc);
    }
    *out = _mm_cvtss_f32(acc);
}

void tl_q4_0_dot4_rp_avx2(int64_t n, float out[4], const void *const xs[4], const void *vy) {
    const blk_q4_0 *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
    const blk_q8_0 *y = vy;
    __m128 acc = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        _mm_prefetch((const char *)(x0 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x1 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x2 + i) + 512, _MM_HINT_T0);
        _mm_prefetch((const char *)(x3 + i) + 512, _MM_HINT_T0);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs), ys = ysum8_of(qy);
        __m128i s = sum4(q4_0_lanes(&x0[i], qy, ys), q4_0_lanes(&x1[i], qy, ys),
                         q4_0_lanes(&x2[i], qy, ys), q4_0_lanes(&x3[i], qy, ys));
        __m128 d =
            _mm_mul_ps(scales4(&x0[i], &x1[i], &x2[i], &x3[i]), _mm_set1_ps(f16_to_f32_hw(y[i].d)));
        acc = _mm_fmadd_ps(d, _mm_cvtepi32_ps(s), acc);
    }
    _mm_storeu_ps(out, acc);
}

void tl_q4_0_dot_4x2_rp_avx2(int64_t n, float out[8], const void *const xs[4],
                             const void *const ys[2]) {
    const blk_q4_0 *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
    const blk_q8_0 *y0 = ys[0], *y1 = ys[1];
    __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i q0 = _mm256_loadu_si256((const __m256i *)y0[i].qs), s0 = ysum8_of(q0);
        __m256i q1 = _mm256_loadu_si256((const __m256i *)y1[i].qs), s1 = ysum8_of(q1);
        __m256i u0 = unpack_nibbles(x0[i].qs), u1 = unpack_nibbles(x1[i].qs);
        __m256i u2 = unpack_nibbles(x2[i].qs), u3 = unpack_nibbles(x3[i].qs);
        const __m256i ones = _mm256_set1_epi16(1);
#define TL_P(U, Q, S) _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(U, Q), ones), S)
        __m128i t0 = sum4(TL_P(u0, q0, s0), TL_P(u1, q0, s0), TL_P(u2, q0, s0), TL_P(u3, q0, s0));
        __m128i t1 = sum4(TL_P(u0, q1, s1), TL_P(u1, q1, s1), TL_P(u2, q1, s1), TL_P(u3, q1, s1));
#undef TL_P
        __m128 dx = scales4(&x0[i], &x1[i], &x2[i], &x3[i]);
        acc0 = _mm_fmadd_ps(_mm_mul_ps(dx, _mm_set1_ps(f16_to_f32_hw(y0[i].d))),
                            _mm_cvtepi32_ps(t0), acc0);
        acc1 = _mm_fmadd_ps(_mm_mul_ps(dx, _mm_set1_ps(f16_to_f32_hw(y1[i].d))),
                            _mm_cvtepi32_ps(t1), acc1);
    }
    float a[4], b[4];
    _mm_storeu_ps(a, acc0);
    _mm_storeu_ps(b, acc1);
    for (int r = 0; r < 4; r++) {
        out[2 * r] = a[r];
        out[2 * r + 1] = b[r];
    }
}
