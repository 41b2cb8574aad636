/* runtime/quant.h -- quantized block types: kernels, quantizers, dispatch.
**
** runtime/quant/ implements every GGML block type tl supports (Q4_0, Q4_1,
** Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K) with llama.cpp's exact formulas:
** a scalar reference for each kernel and AVX2/FMA/F16C versions of the hot
** ones.  Most callers never include this: the kernels are reached through the
** traits table (runtime/dtype.h), whose variant tl_runtime_init() chooses once.
** What the traits hold for a block type:
**   to_f32    dequantization (ggml's dequantize_row_*);
**   from_f32  what llama.cpp's CPU backend runs on an f32 row of this type:
**             for Q8_0/Q8_1 (activation types) its AVX2 quantizer (half to
**             even); for the others the reference quantizer;
**   vec_dot   weight row . activation row of dot_type, in ggml's AVX2 float
**             order (see docs/quantization.md).
** To write weights the way llama-quantize does, use tl_quantize_rows (for
** Q8_0 it differs from from_f32: half away from zero). */
#ifndef TL_RUNTIME_QUANT_H
#define TL_RUNTIME_QUANT_H

#include "runtime/dtype.h"
#include "runtime/status.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct tl_quant_kernels {
    tl_to_f32_fn to_f32;
    tl_from_f32_fn from_f32;
    tl_vec_dot_fn vec_dot;
    tl_dtype dot_type;
} tl_quant_kernels;

/* The traits table of the kernel variant this process runs (runtime/dtype.h:
** tl_dtype_traits_table(tl_cpu_use_avx2())), chosen on the first call and
** never changed; runtime/quant/select.c.  Thread-safe. */
const tl_type_traits *tl_kernels_selected(void);

/* True when the chosen variant is the AVX2 one. */
bool tl_kernels_use_avx2(void);

/* The kernels of a block type in one variant (avx2 = false: the scalar
** reference; true: the AVX2 kernel where one exists, else the scalar one).
** False when dt is not a block type (F16 counts as one here: its dot has an
** AVX2 version too).  For tests and benchmarks. */
bool tl_quant_kernels_of(tl_dtype dt, bool avx2, tl_quant_kernels *out);

/* ---- dot orders: which float summation llama.cpp uses --------------------
** The integer part of every quantized dot is exact; the float part decides
** the last bits.  llama.cpp's default AVX2 build uses:
**   TL_DOT_ORDER_ROW          ggml's one-row vec_dot (8 lanes, fold at the
**                             end) -- the traits' vec_dot; every type; and all
**                             of llama.cpp with --no-repack;
**   TL_DOT_ORDER_REPACK       its repacked GEMV (default on for Q4_0, Q4_K and
**                             Q2_K weights whose row count is a multiple of 8;
**                             one token, and the n % 4 last tokens of a
**                             batch): Q4_0: per block the whole integer sum,
**                             then acc = fma(d_x*d_y, (float)sum, acc); Q4_K,
**                             Q2_K: per super-block for codes and mins, the
**                             result acc - accm;
**   TL_DOT_ORDER_REPACK_GEMM  its repacked GEMM (groups of 4 tokens): Q4_0 as
**                             REPACK; Q4_K per pair of sub-blocks (64
**                             elements); Q2_K per half super-block (128).
** All were checked bit for bit against llama.cpp's own matmul outputs (see
** docs/quantization.md).  A type without kernels of an order falls back
** GEMM -> REPACK -> ROW. */
typedef enum tl_dot_order {
    TL_DOT_ORDER_ROW = 0,
    TL_DOT_ORDER_REPACK = 1,
    TL_DOT_ORDER_REPACK_GEMM = 2
} tl_dot_order;

/* The order llama.cpp (default settings, AVX2) uses for a weight of type dt
** with n_rows rows (GGUF ne[1]). */
tl_dot_order tl_quant_llama_order(tl_dtype dt, int64_t n_rows);

/* The single-row dot of a type in an order (ROW: the traits' vec_dot), chosen
** for this CPU; _of: a given variant (avx2 = false: scalar), for tests. */
tl_vec_dot_fn tl_quant_vec_dot_order(tl_dtype dt, tl_dot_order order);
tl_vec_dot_fn tl_quant_vec_dot_order_of(tl_dtype dt, tl_dot_order order, bool avx2);

/* Four dots at once: out[r] = x[r] . y for four weight rows of one type (at
** any addresses) and one activation row of its dot_type.  Each out[r] is
** bit-identical to the single-row dot of the same order on x[r]; the fused
** AVX2 versions (Q4_0, Q8_0) share the activation loads and prefetch the four
** streams.  Take the four rows from four far-apart parts of a thread's row
** range (docs/formats.md, matmul streaming).  NULL for non-block types. */
typedef void (*tl_vec_dot4_fn)(int64_t n, float out[4], const void *const x[4], const void *y);
tl_vec_dot4_fn tl_quant_vec_dot4_order(tl_dtype dt, tl_dot_order order);
tl_vec_dot4_fn tl_quant_vec_dot4_order_of(tl_dtype dt, tl_dot_order order, bool avx2);

/* A 4-row x 2-token tile: out[2r + t] = x[r] . y[t], each bit-identical to the
** single-row dot of the same order.  AVX2 only, for Q4_0 and Q8_0; NULL for
** other types or without AVX2 (tl_quant_gemm_rows then uses dot4). */
typedef void (*tl_vec_dot_4x2_fn)(int64_t n, float out[8], const void *const x[4],
                                  const void *const y[2]);
tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2_order(tl_dtype dt, tl_dot_order order);
tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2_order_of(tl_dtype dt, tl_dot_order order, bool avx2);

/* out[r] = W[r] . act for r in [r0, r1): W has rows of n elements of type dt
** at row_stride bytes, act is one activation row already converted to dt's
** dot_type.  Uses dot4 over four quarters of the range (four far-apart
** streams); every out[r] is bit-identical to the single-row dot of that order.
** Meant to be called by each thread of a matmul on its own row range (out is
** indexed by the absolute row).  For llama.cpp's bits pass
** tl_quant_llama_order(dt, total rows of W). */
tl_status tl_quant_gemv_rows_order(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                   size_t row_stride, int64_t r0, int64_t r1, const void *act,
                                   float *out);

/* out[k * out_stride + r] = W[r] . act[k] for rows r in [r0, r1) and tokens k
** in [0, n_tok): W rows of n elements of type dt at w_stride bytes, act rows
** (already in dt's dot_type) at act_stride bytes, out_stride in floats.  Runs
** 4-row x 2-token tiles (each weight block read once per token pair, the four
** rows kept in L1 across all tokens); every output is bit-identical to the
** single-row dot of that order, so a prompt and a token-by-token run agree.
** With order REPACK it follows llama.cpp's split of a batch: the first
** n_tok - n_tok % 4 tokens in the REPACK_GEMM order, the rest in REPACK.
** For prompt processing; each thread takes its own row range. */
tl_status tl_quant_gemm_rows_order(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                   size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                   size_t act_stride, int64_t n_tok, float *out, size_t out_stride);

/* The same two, through the fastest kernel this CPU has for the weight (the
** Q4_0 tiles of runtime/quant/tile8.h, else the row kernels above): the one
** place a matmul's kernel is chosen (runtime/quant/select.c).  Same bits. */
tl_status tl_quant_gemv_rows_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                  size_t row_stride, int64_t r0, int64_t r1, const void *act,
                                  float *out);
tl_status tl_quant_gemm_rows_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                  size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                  size_t act_stride, int64_t n_tok, float *out, size_t out_stride);
/* Whether tl_quant_gemm_rows_best reads rows [r0, r1) as one stream whose
** prefetching runs on past r1 (the few-token Q6_K kernel), so that a thread that
** goes on with the next rows finds them on the way (runtime/ops/linear_job.h). */
bool tl_quant_gemm_streams_rows(tl_dtype dt, tl_dot_order order, int64_t n, int64_t n_tok);
/* tl_quant_gemv_rows_best for each of n_tok activation rows (act_stride bytes
** apart), token k's outputs at out[k] + r: every token in the one-row (GEMV)
** order of `order`, the weights read once for all of them (the few-token
** kernels of runtime/quant/ktile.h where the CPU has them).  Same bits as n_tok
** calls of tl_quant_gemv_rows_best. */
tl_status tl_quant_gemv_tokens_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                    size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                    size_t act_stride, int64_t n_tok, float *const *out);

/* ---- the same in the ROW order (the traits' vec_dot): the first form of
** this API, kept because runtime/ops/matmul.c calls it.  For llama.cpp's bits
** on Q4_0/Q4_K/Q2_K weights use the _order forms with tl_quant_llama_order. */
tl_vec_dot4_fn tl_quant_vec_dot4(tl_dtype dt);
tl_vec_dot4_fn tl_quant_vec_dot4_of(tl_dtype dt, bool avx2);
tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2(tl_dtype dt);
tl_status tl_quant_gemv_rows(tl_dtype dt, int64_t n, const void *w, size_t row_stride, int64_t r0,
                             int64_t r1, const void *act, float *out);
tl_status tl_quant_gemm_rows(tl_dtype dt, int64_t n, const void *w, size_t w_stride, int64_t r0,
                             int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                             float *out, size_t out_stride);

/* Quantizes nrows rows of n_per_row floats into dst (nrows * row size bytes)
** as llama-quantize does without an imatrix (quantize_row_*_ref); F32, F16
** and BF16 convert element-wise.  Fails for a type without a quantizer or a
** row length that is not a multiple of the block size. */
tl_status tl_quantize_rows(tl_dtype dt, const float *src, void *dst, int64_t nrows,
                           int64_t n_per_row);

/* Dequantizes nrows rows of n_per_row elements of type dt into dst. */
tl_status tl_dequantize_rows(tl_dtype dt, const void *src, float *dst, int64_t nrows,
                             int64_t n_per_row);

typedef struct tl_tensor tl_tensor;

/* A new tensor of type dt with src's shape, quantized row by row with
** tl_quantize_rows (src of any readable type and strides; quantized sources
** are dequantized first).  Errors: an unknown or non-quantizable dt
** (TL_ERR_UNSUPPORTED), a last dimension that is not a multiple of dt's block
** size (TL_ERR_SHAPE). */
tl_status tl_tensor_quantize(const tl_tensor *src, tl_dtype dt, tl_tensor **out);

/* A new F32 tensor with src's values (any supported type, any strides). */
tl_status tl_tensor_dequantize(const tl_tensor *src, tl_tensor **out);

#endif
