/* runtime/quant/tile8.h -- Q4_0 x Q8_0 matmul kernels that put 8 weight rows in
** the 8 lanes of one vector (docs/formats.md), in llama.cpp's
** repacked float order (TL_DOT_ORDER_REPACK / _REPACK_GEMM of runtime/quant.h):
** per block the exact integer sum, then acc = fma(d_x * d_y, (float)sum, acc).
** Every output is bit-identical to tl_quant_gemm_rows_order / _gemv_rows_order
** with that order, for any row range and token count.
**
** Per 8-row group and 32-element block the 8 rows' nibbles are transposed once
** so that lane r of vector k holds elements 4k..4k+3 of row r; each token then
** costs 8 byte multiply-adds against broadcast activation groups, one convert
** and one FMA for all 8 rows (no horizontal sums).  AVX2 only: callers check
** tl_q4_0_tile8_available() and fall back to the quant module otherwise. */
#ifndef TL_RUNTIME_QUANT_TILE8_H
#define TL_RUNTIME_QUANT_TILE8_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when this CPU runs the AVX2 kernels below. */
bool tl_q4_0_tile8_available(void);

/* out[k * out_stride + r] = W[r] . act[k] for r in [r0, r1) (any range: rows
** past the last full group of 8 go through the quant module) and k in
** [0, n_tok).  W: Q4_0 rows of n elements at w_stride bytes; act: Q8_0 rows at
** act_stride bytes.  Allocates a scratch copy of the activations (TL_ERR_NOMEM). */
tl_status tl_q4_0_gemm_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, size_t act_stride, int64_t n_tok, float *out,
                             size_t out_stride);

/* The same GEMM with 16 rows in the lanes of a 512-bit vector and VNNI
** multiply-adds, 8 tokens at a time (runtime/quant/tile16_avx512.c):
** bit-identical to tl_q4_0_gemm_tile8, about twice as fast.  1..15 rows past
** the last group of 16 are covered by one more group ending at r1 (recomputing
** some rows to the same bits; nothing outside [r0, r1) is written); ranges
** under 16 rows go to tl_q4_0_gemm_tile8.  Callers check
** tl_q4_0_tile16_available() (AVX-512 F/BW/VL/VNNI, TL_NO_AVX512 unset). */
bool tl_q4_0_tile16_available(void);
tl_status tl_q4_0_gemm_tile16(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride);

/* out[r] = W[r] . act for r in [r0, r1), one Q8_0 activation row: each step
** takes 8 adjacent rows (one contiguous region) and prefetches the next 8
** while it runs, so each thread reads one sequential stream; leftover rows
** and rows longer than 32768 go through tl_quant_gemv_rows_order.  out is
** indexed by the absolute row. */
tl_status tl_q4_0_gemv_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, float *out);

#endif
