/* runtime/quant/ktile8_row_avx2.h -- internals shared by the row-order AVX2
** tiles (ktile8_row_avx2.c, ktile8_q8_0_avx2.c; see ktile8_row.h).  Include
** only from files built with AVX2 enabled. */
#ifndef TL_RUNTIME_QUANT_KTILE8_ROW_AVX2_H
#define TL_RUNTIME_QUANT_KTILE8_ROW_AVX2_H

#include "runtime/status.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* The store mask of a group with `rows` valid rows (lanes 0..min(rows, 8) - 1). */
__m256i tl_ktile8_row_mask(int64_t rows);

/* The Q8_0 tile (arguments checked by tl_ktile8_row_gemm, r0 < r1, n_tok > 0). */
tl_status tl_ktile8_q8_0_gemm(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride);

#endif
