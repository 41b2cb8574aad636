/* runtime/contract_bmm_avx2.c -- AVX2 version of tl_contract_bmm_block (contract_bmm.h):
** 8 columns at a time, each column's products rounded to f32 and summed in double in
** k order, as the scalar reference does (no FMA: the bits stay the same). */
#include "runtime/contract_bmm.h"

#include <immintrin.h>

void tl_contract_bmm_block_avx2(const float *arow, const float *bt, float *crow, int64_t N,
                                int64_t K, int64_t n0, int64_t n1) {
    int64_t n = n0;
    for (; n + 16 <= n1; n += 16) {
        __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
        __m256d s2 = _mm256_setzero_pd(), s3 = _mm256_setzero_pd();
        for (int64_t k = 0; k < K; k++) {
            __m256 av = _mm256_set1_ps(arow[k]);
            __m256 p0 = _mm256_mul_ps(av, _mm256_loadu_ps(bt + k * N + n));
            __m256 p1 = _mm256_mul_ps(av, _mm256_loadu_ps(bt + k * N + n + 8));
            s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(p0)));
            s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(p0, 1)));
            s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm256_castps256_ps128(p1)));
            s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm256_extractf128_ps(p1, 1)));
        }
        _mm_storeu_ps(crow + n, _mm256_cvtpd_ps(s0));
        _mm_storeu_ps(crow + n + 4, _mm256_cvtpd_ps(s1));
        _mm_storeu_ps(crow + n + 8, _mm256_cvtpd_ps(s2));
        _mm_storeu_ps(crow + n + 12, _mm256_cvtpd_ps(s3));
    }
    for (; n + 4 <= n1; n += 4) {
        __m256d s0 = _mm256_setzero_pd();
        for (int64_t k = 0; k < K; k++) {
            __m128 p = _mm_mul_ps(_mm_set1_ps(arow[k]), _mm_loadu_ps(bt + k * N + n));
            s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(p));
        }
        _mm_storeu_ps(crow + n, _mm256_cvtpd_ps(s0));
    }
    if (n < n1) tl_contract_bmm_block(arow, bt, crow, N, K, n, n1);
}
