/* runtime/quant/q4_0x16.h -- Q4_0 weights laid out for the rows-in-lanes
** kernels ahead of time ("Q4_0x16"), and the GEMV and GEMM that read them.
**
** The tile kernels (tile8.h) transpose 8 or 16 rows of every block on each
** call; a weight stored transposed once skips that work: for a one-token GEMV
** it is most of the instructions (the kernel reads about 1.6x faster from cache).
** Layout, for rows 16g .. 16g + 15 and block b (32 elements), 288 bytes at
** offset (g * nb + b) * 288 (nb = n / 32 blocks a row):
**   bytes   0 ..  31   the 16 rows' fp16 scales, row 0 first
**   bytes  32 + 64j .. (j < 4)   for r < 16: bytes 4j .. 4j + 3 of row r's
**                      16 nibble bytes (low nibbles: elements 4j..4j+3,
**                      high: 16 + 4j..), row 0 first
** The same number of bytes as the GGUF rows.  Only whole groups of 16 rows are
** laid out; the kernels' callers run rows past the last group on the GGUF rows.
** Every output is bit-identical to tl_q4_0_gemv_tile8 / tl_q4_0_gemm_tile16
** on the same rows (the same integer sums, scales and FMA order). */
#ifndef TL_RUNTIME_QUANT_Q4_0X16_H
#define TL_RUNTIME_QUANT_Q4_0X16_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_Q4_0X16_BLOCK 288 /* bytes of one block of 16 rows */

/* Lays out rows [0, rows16) of w (Q4_0 rows of n elements, rs bytes apart;
** rows16 a multiple of 16, n of 32) at dst (rows16 * n / 32 * 18 bytes). */
void tl_q4_0x16_pack(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst);
/* The portable reference (it defines the layout) and the AVX2 variant it picks. */
void tl_q4_0x16_pack_scalar(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst);
void tl_q4_0x16_pack_avx2(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst);

/* True when this CPU runs tl_q4_0x16_gemv (AVX2) / tl_q4_0x16_gemm (AVX-512 VNNI). */
bool tl_q4_0x16_gemv_available(void);
bool tl_q4_0x16_gemm_available(void);

/* out[r] = W[r] . act for r in [r0, r1), r0 and r1 multiples of 16 inside the
** laid-out rows; act: one Q8_0 row; out indexed by the absolute row. */
tl_status tl_q4_0x16_gemv(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          float *out);

/* out[k * out_stride + r] = W[r] . act[k] for r in [r0, r1) (multiples of 16)
** and k < n_tok; act: Q8_0 rows act_stride bytes apart (TL_ERR_NOMEM possible). */
tl_status tl_q4_0x16_gemm(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride);

/* A matmul's activations laid out once for the GEMM's tile, so that its calls on
** several row ranges (the threads' chunks) share them: tl_q4_0x16_gemm lays its
** activations out on every call (~1 us for 8 tokens of 2048 elements, ~1.7 us
** of 5632).  tl_q4_0x16_acts_new: room for n_tok tokens of n elements (n a
** multiple of 32), NULL when out of memory or when this CPU has no
** tl_q4_0x16_gemm; tl_q4_0x16_acts_set: token k (one Q8_0 row; different tokens
** may be set from different threads; a k outside [0, n_tok) is ignored);
** tl_q4_0x16_gemm_acts: tl_q4_0x16_gemm on
** them, once every token is set (the same bits); while on its last group it
** prefetches the next one when that is below r_ahead (the matrix's rows: a
** thread that goes on with the next rows finds them on the way). */
typedef struct tl_q4_0x16_acts tl_q4_0x16_acts;
tl_q4_0x16_acts *tl_q4_0x16_acts_new(int64_t n, int64_t n_tok);
void tl_q4_0x16_acts_set(tl_q4_0x16_acts *a, int64_t k, const void *act);
void tl_q4_0x16_acts_free(tl_q4_0x16_acts *a);
tl_status tl_q4_0x16_gemm_acts(const void *packed, int64_t r0, int64_t r1, int64_t r_ahead,
                               const tl_q4_0x16_acts *a, float *out, size_t out_stride);

#endif
