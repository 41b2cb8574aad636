/* runtime/sgemm_avx2.c -- the AVX2/FMA tile of tl_sgemm (runtime/sgemm.h): 4 rows x
** 16 columns in eight accumulators; each lane runs the reference's fmaf chain. */
#include "runtime/sgemm.h"

#include <immintrin.h>

void tl_sgemm_tile_avx2(int64_t kn, const float *a, int64_t sam, int64_t sak, const float *bp,
                        int64_t sbk, float *c, int64_t ldc, int mr, int first) {
    if (mr == 4) {
        __m256 c00, c01, c10, c11, c20, c21, c30, c31;
        if (first) {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_ps();
        } else {
            c00 = _mm256_loadu_ps(c), c01 = _mm256_loadu_ps(c + 8);
            c10 = _mm256_loadu_ps(c + ldc), c11 = _mm256_loadu_ps(c + ldc + 8);
            c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
            c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
        }
        for (int64_t k = 0; k < kn; k++) {
            const float *b = bp + k * sbk, *ak = a + k * sak;
            __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
            __m256 a0 = _mm256_broadcast_ss(ak), a1 = _mm256_broadcast_ss(ak + sam);
            __m256 a2 = _mm256_broadcast_ss(ak + 2 * sam), a3 = _mm256_broadcast_ss(ak + 3 * sam);
            c00 = _mm256_fmadd_ps(a0, b0, c00), c01 = _mm256_fmadd_ps(a0, b1, c01);
            c10 = _mm256_fmadd_ps(a1, b0, c10), c11 = _mm256_fmadd_ps(a1, b1, c11);
            c20 = _mm256_fmadd_ps(a2, b0, c20), c21 = _mm256_fmadd_ps(a2, b1, c21);
            c30 = _mm256_fmadd_ps(a3, b0, c30), c31 = _mm256_fmadd_ps(a3, b1, c31);
        }
        _mm256_storeu_ps(c, c00), _mm256_storeu_ps(c + 8, c01);
        _mm256_storeu_ps(c + ldc, c10), _mm256_storeu_ps(c + ldc + 8, c11);
        _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
        _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
        return;
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m256 s0 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(ci);
        __m256 s1 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(ci + 8);
        for (int64_t k = 0; k < kn; k++) {
            __m256 av = _mm256_broadcast_ss(a + i * sam + k * sak);
            s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + k * sbk), s0);
            s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + k * sbk + 8), s1);
        }
        _mm256_storeu_ps(ci, s0);
        _mm256_storeu_ps(ci + 8, s1);
    }
}
