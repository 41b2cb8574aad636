/* runtime/quant/ktile8_row_avx2.h -- internals shared by the row-order AVX2
** tiles (ktile8_row_avx2.c, ktile8_q8_0_avx2.c; see ktile8_row.h).  Include
** only from files built with AVX2 enabled. */
#ifndef TL_RUNTIME_QUANT_KTILE8_ROW_AVX2_H
#define TL_RUNTIME_QUANT_KTILE8_ROW_AVX2_H

#include "runtime/status.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* dst[i], lane r = dword i of R[r] (an 8 x 8 dword transposition) */
static inline void tl_transpose8x32(const __m256i R[8], __m256i *dst) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(R[2 * i], R[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(R[2 * i], R[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        dst[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
        dst[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
    }
}

/* The store mask of a group with `rows` valid rows (lanes 0..min(rows, 8) - 1). */
__m256i tl_ktile8_row_mask(int64_t rows);

/* The Q8_0 tile (arguments checked by tl_ktile8_row_gemm, r0 < r1, n_tok > 0). */
tl_status tl_ktile8_q8_0_gemm(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride);

#endif
