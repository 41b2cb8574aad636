/* runtime/quant.h -- quantized block types: kernels, quantizers, dispatch.
**
** runtime/quant/ implements every GGML block type tl supports (Q4_0, Q4_1,
** Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K) with llama.cpp's exact formulas:
** a scalar reference for each kernel and AVX2/FMA/F16C versions of the hot
** ones.  Most callers never include this: the kernels are reached through the
** traits table (runtime/dtype.h), which tl_runtime_init() fills on first use.
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

/* Registers the block types' kernels into the traits table: the scalar ones,
** then the AVX2 ones when use_avx2.  Called by tl_runtime_init(). */
void tl_quant_register(bool use_avx2);

/* The kernels of a block type in one variant (avx2 = false: the scalar
** reference; true: the AVX2 kernel where one exists, else the scalar one).
** False when dt is not a block type (F16 counts as one here: its dot has an
** AVX2 version too).  For tests and benchmarks. */
bool tl_quant_kernels_of(tl_dtype dt, bool avx2, tl_quant_kernels *out);

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
