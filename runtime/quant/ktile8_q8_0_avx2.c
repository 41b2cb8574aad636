/* runtime/quant/ktile8_q8_0_avx2.c -- the Q8_0 GEMM tile for AVX2 CPUs (see
** ktile8_row.h). */
#include "runtime/quant/ktile8_row_avx2.h"

#include "runtime/quant.h"

tl_status tl_ktile8_q8_0_gemm(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride) {
    return tl_quant_gemm_rows_order(TL_DTYPE_Q8_0, TL_DOT_ORDER_ROW, n, w, w_stride, r0, r1, act,
                                    act_stride, n_tok, out, out_stride);
}
