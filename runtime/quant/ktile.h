/* runtime/quant/ktile.h -- rows-in-lanes matmul tiles for the K-quants and
** Q8_0 (the model is the Q4_0 tiles of tile8.h): a group of 16 weight rows is
** unpacked once into vectors whose lane r belongs to row r, then every token
** runs against it with VNNI multiply-adds and its accumulators in registers.
** Each kernel gives, bit for bit, the order llama.cpp uses for that type
** (runtime/quant.h, tl_quant_llama_order): the integer sums are exact and the
** float steps are the scalar reference's, in the same order.
**
** AVX-512 F/BW/VL/VNNI only: callers check tl_ktile16_available() and
** otherwise use tl_quant_gemm_rows_order.  Rows past the last full group of 16
** go through the quant module (same bits). */
#ifndef TL_RUNTIME_QUANT_KTILE_H
#define TL_RUNTIME_QUANT_KTILE_H

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when this CPU runs the kernels below (AVX-512 VNNI, TL_NO_AVX512 unset). */
bool tl_ktile16_available(void);

/* True when tl_ktile16_gemm has a tile for weights of type dt in that order. */
bool tl_ktile16_supports(tl_dtype dt, tl_dot_order order);

/* out[k * out_stride + r] = W[r] . act[k] for r in [r0, r1), k in [0, n_tok),
** exactly as tl_quant_gemm_rows_order(dt, order, ...) gives them.  W: rows of
** type dt (n elements, w_stride bytes apart); act: rows of its dot type
** (act_stride bytes apart).  TL_ERR_NOMEM when the scratch cannot be allocated. */
tl_status tl_ktile16_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                          size_t w_stride, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride);

/* The Q4_K tile for AVX2 CPUs (runtime/quant/ktile8_avx2.c): 8 rows x 4 tokens,
** the same bits as tl_ktile16_gemm / the quant module.  Q4_K in the REPACK or
** REPACK_GEMM order only; callers check tl_ktile8_available() (AVX2). */
bool tl_ktile8_available(void);
tl_status tl_ktile8_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                         int64_t r0, int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                         float *out, size_t out_stride);

/* One activation row (n_tok = 1): out[r] = W[r] . act for r in [r0, r1), as
** tl_quant_gemv_rows_order(dt, order, ...) gives it; each thread reads its rows
** as one stream (runtime/quant/kgemv_avx512.c).  Supported: Q4_K in the
** REPACK order and Q5_K (rows of at most 32768 elements), and Q6_K (ggml's
** row order; llama.cpp does not repack Q5_K or Q6_K, so every order is it). */
bool tl_kgemv16_supports(tl_dtype dt, tl_dot_order order, int64_t n);
tl_status tl_kgemv16(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                     int64_t r0, int64_t r1, const void *act, float *out);

/* Up to KGEMV_MAX_TOK activation rows through the one-token kernels' arithmetic:
** out[k][r] = W[r] . act[k] for r in [r0, r1), k < n_tok, each token exactly as
** tl_kgemv16 gives it, each weight super-block decoded once for all the tokens
** and read from memory once.  Q6_K (ggml's row order, its only one) and Q4_K in
** the REPACK (GEMV) order, with tl_kgemv16's row limits.  For a few tokens this
** beats the 16-row tile, which unpacks the weights on every call, and the
** one-token kernel once per token, which decodes them once per token.  (Not
** Q5_K: against 8 tokens its tile was as fast.)  TL_ERR_NOMEM when the
** activations' scratch cannot be allocated. */
#define KGEMV_MAX_TOK 8
bool tl_kgemv16_tokens_supports(tl_dtype dt, tl_dot_order order, int64_t n, int64_t n_tok);
tl_status tl_kgemv16_tokens(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                            size_t w_stride, int64_t r0, int64_t r1, const void *act,
                            size_t act_stride, int64_t n_tok, float *const *out);

#endif
