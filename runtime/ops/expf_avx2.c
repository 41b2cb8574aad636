/* runtime/ops/expf_avx2.c -- see expf_kernels.h. */
#include "runtime/ops/expf_kernels.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* Bits of 2^(i/32) rounded to double, minus i << 47: adding k << 47 to entry
** k % 32 gives the bits of 2^(k/32) for any integer k in expf's range. */
static const uint64_t exp2_tab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

static inline __m256d dbits(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return _mm256_set1_pd(d);
}

/* expf of 4 floats (none of magnitude >= 88, inf or NaN), as 4 floats. */
static inline __m128 exp4(__m128 x) {
    const __m256d inv_ln2_n = dbits(0x40471547652b82fe); /* 32 / ln 2 */
    const __m256d shift = dbits(0x4338000000000000);     /* 1.5 * 2^52: rounds to integer */
    const __m256d c0 = dbits(0x3ebc6af84b912394), c1 = dbits(0x3f2ebfce50fac4f3),
                  c2 = dbits(0x3f962e42ff0c52d6);
    __m256d xd = _mm256_cvtps_pd(x);
    __m256d kd = _mm256_fmadd_pd(inv_ln2_n, xd, shift);
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmsub_pd(inv_ln2_n, xd, kd);
    __m256i t = _mm256_i64gather_epi64((const long long *)exp2_tab,
                                       _mm256_and_si256(ki, _mm256_set1_epi64x(31)), 8);
    t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
    __m256d z = _mm256_fmadd_pd(c0, r, c1);
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(c2, r, _mm256_set1_pd(1.0));
    y = _mm256_fmadd_pd(z, r2, y);
    y = _mm256_mul_pd(y, _mm256_castsi256_pd(t));
    return _mm256_cvtpd_ps(y);
}

/* True when one of the 8 floats has |x| >= 88 (bits 20..30 above 0x42a), is
** inf or NaN: the C library's special cases. */
static inline bool special8(__m256 x) {
    __m256i top =
        _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 20), _mm256_set1_epi32(0x7ff));
    return !_mm256_testz_si256(_mm256_cmpgt_epi32(top, _mm256_set1_epi32(0x42a)),
                               _mm256_set1_epi32(-1));
}

static inline __m256 exp8(__m256 x) {
    return _mm256_set_m128(exp4(_mm256_extractf128_ps(x, 1)), exp4(_mm256_castps256_ps128(x)));
}

void tl_expf_avx2(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (special8(v))
            for (int l = 0; l < 8; l++)
                y[i + l] = expf(x[i + l]);
        else
            _mm256_storeu_ps(y + i, exp8(v));
    }
    for (; i < n; i++)
        y[i] = expf(x[i]);
}

/* Which of the equal maxima is kept differs from the scalar loop only for
** +0 / -0, and x - (+0) and x - (-0) then differ only in the sign of a zero,
** whose expf is 1 either way. */
float tl_row_max_avx2(const float *p, int64_t n, bool *nan) {
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0, un = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(p + i), b = _mm256_loadu_ps(p + i + 8);
        m0 = _mm256_max_ps(a, m0); /* a > m0 ? a : m0, NaN a leaves m0 */
        m1 = _mm256_max_ps(b, m1);
        un = _mm256_or_ps(un, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
    }
    float lane[8];
    _mm256_storeu_ps(lane, _mm256_max_ps(m0, m1));
    float mx = -INFINITY;
    for (int l = 0; l < 8; l++)
        if (lane[l] > mx) mx = lane[l];
    bool any = _mm256_movemask_ps(un) != 0;
    for (; i < n; i++) {
        if (p[i] > mx) mx = p[i];
        if (p[i] != p[i]) any = true;
    }
    *nan = any;
    return mx;
}

void tl_row_scale_avx2(float *p, int64_t n, float s) {
    const __m256 v = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), v));
    for (; i < n; i++)
        p[i] *= s;
}
