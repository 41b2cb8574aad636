/* runtime/quant/ktile8_row.h -- rows-in-lanes GEMM tiles for AVX2 CPUs for the
** types llama.cpp multiplies in ggml's one-row order (TL_DOT_ORDER_ROW):
** Q5_K and Q6_K (ktile8_row_avx2.c) and Q8_0 (ktile8_q8_0_avx2.c).
**
** A group of 8 weight rows is unpacked once into vectors whose lane r belongs
** to row r (codes as bytes, scales as 16-bit pairs); every token then runs
** against the group.  The row order keeps 8 float lanes per row, lane k taking
** the elements with (e % 32) / 4 == k: here each such lane k of the 8 rows is
** one vector, so the tile keeps 8 vector accumulators per token, updates them
** with the same fused multiply-adds as the row kernel, and folds them with
** the same ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) -- vector by vector, so no
** transposition is needed.  The integer sums are exact: the same bits as
** tl_quant_gemm_rows_order, for any split of rows or tokens. */
#ifndef TL_RUNTIME_QUANT_KTILE8_ROW_H
#define TL_RUNTIME_QUANT_KTILE8_ROW_H

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when tl_ktile8_row_gemm has a tile for weights of type dt multiplied in
** that order (Q5_K, Q6_K, Q8_0 in an order whose kernel is the row order).
** Callers also check tl_ktile8_available() (AVX2). */
bool tl_ktile8_row_supports(tl_dtype dt, tl_dot_order order);

/* Below this many tokens the row kernels are as fast (bench_gemm_tiles): a
** group is unpacked once per call, which costs about what 2-3 tokens through
** it do for Q5_K/Q6_K and 8 for Q8_0, whose row kernel is already a 4x2 tile. */
static inline int64_t tl_ktile8_row_min_tokens(tl_dtype dt) {
    return dt == TL_DTYPE_Q8_0 ? 10 : 4;
}

/* out[k * out_stride + r] = W[r] . act[k] for r in [r0, r1), k in [0, n_tok),
** exactly as tl_quant_gemm_rows_order(dt, order, ...) gives them (see
** tl_ktile16_gemm in ktile.h for the arguments).  TL_ERR_NOMEM when the
** scratch cannot be allocated. */
tl_status tl_ktile8_row_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                             size_t w_stride, int64_t r0, int64_t r1, const void *act,
                             size_t act_stride, int64_t n_tok, float *out, size_t out_stride);

#endif
