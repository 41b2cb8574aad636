/* runtime/ops/internal.h -- helpers shared by the op families (not public).
**
** Element load/store for the plain dtypes, axis normalisation, shape strings
** for messages, n-d index iteration, and conversion of any strided tensor to a
** contiguous f32 buffer. */
#ifndef TL_RUNTIME_OPS_INTERNAL_H
#define TL_RUNTIME_OPS_INTERNAL_H

#include "runtime/half.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline float ld_f32(const void *p, tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_F32:
        return *(const float *)p;
    case TL_DTYPE_F16:
        return tl_f16_to_f32(*(const tl_f16 *)p);
    case TL_DTYPE_BF16:
        return tl_bf16_to_f32(*(const tl_bf16 *)p);
    case TL_DTYPE_I32:
        return (float)*(const int32_t *)p;
    case TL_DTYPE_I64:
        return (float)*(const int64_t *)p;
    case TL_DTYPE_I16:
        return (float)*(const int16_t *)p;
    case TL_DTYPE_I8:
        return (float)*(const int8_t *)p;
    case TL_DTYPE_F64:
        return (float)*(const double *)p;
    case TL_DTYPE_BOOL:
        return *(const uint8_t *)p ? 1.0f : 0.0f;
    default:
        return 0.0f;
    }
}

static inline double ld_f64(const void *p, tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_I64:
        return (double)*(const int64_t *)p;
    case TL_DTYPE_I32:
        return (double)*(const int32_t *)p;
    case TL_DTYPE_F64:
        return *(const double *)p;
    default:
        return (double)ld_f32(p, dt);
    }
}

static inline int64_t ld_i64(const void *p, tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_I32:
        return *(const int32_t *)p;
    case TL_DTYPE_I64:
        return *(const int64_t *)p;
    case TL_DTYPE_I16:
        return *(const int16_t *)p;
    case TL_DTYPE_I8:
        return *(const int8_t *)p;
    case TL_DTYPE_BOOL:
        return *(const uint8_t *)p != 0;
    default: {
        double d = ld_f64(p, dt);
        if (!(d == d)) return 0;
        if (d >= 9.2e18) return INT64_MAX;
        if (d <= -9.2e18) return INT64_MIN;
        return (int64_t)d;
    }
    }
}

static inline void st_f32(void *p, tl_dtype dt, float v) {
    switch (dt) {
    case TL_DTYPE_F32:
        *(float *)p = v;
        break;
    case TL_DTYPE_F16:
        *(tl_f16 *)p = tl_f32_to_f16(v);
        break;
    case TL_DTYPE_BF16:
        *(tl_bf16 *)p = tl_f32_to_bf16(v);
        break;
    case TL_DTYPE_F64:
        *(double *)p = v;
        break;
    case TL_DTYPE_BOOL:
        *(uint8_t *)p = v != 0.0f;
        break;
    case TL_DTYPE_I32:
    case TL_DTYPE_I64:
    case TL_DTYPE_I16:
    case TL_DTYPE_I8: {
        int64_t i = v != v ? 0 : v >= 9.2e18f ? INT64_MAX : v <= -9.2e18f ? INT64_MIN : (int64_t)v;
        if (dt == TL_DTYPE_I32)
            *(int32_t *)p = (int32_t)i;
        else if (dt == TL_DTYPE_I64)
            *(int64_t *)p = i;
        else if (dt == TL_DTYPE_I16)
            *(int16_t *)p = (int16_t)i;
        else
            *(int8_t *)p = (int8_t)i;
        break;
    }
    default:
        break;
    }
}

static inline void st_i64(void *p, tl_dtype dt, int64_t v) {
    switch (dt) {
    case TL_DTYPE_I32:
        *(int32_t *)p = (int32_t)v;
        break;
    case TL_DTYPE_I64:
        *(int64_t *)p = v;
        break;
    case TL_DTYPE_I16:
        *(int16_t *)p = (int16_t)v;
        break;
    case TL_DTYPE_I8:
        *(int8_t *)p = (int8_t)v;
        break;
    case TL_DTYPE_BOOL:
        *(uint8_t *)p = v != 0;
        break;
    case TL_DTYPE_F64:
        *(double *)p = (double)v;
        break;
    default:
        st_f32(p, dt, (float)v);
        break;
    }
}

static inline bool dt_is_int(tl_dtype dt) {
    return dt == TL_DTYPE_I32 || dt == TL_DTYPE_I64 || dt == TL_DTYPE_I16 || dt == TL_DTYPE_I8;
}
static inline bool dt_is_float(tl_dtype dt) {
    return dt == TL_DTYPE_F32 || dt == TL_DTYPE_F16 || dt == TL_DTYPE_BF16 || dt == TL_DTYPE_F64;
}

/* Fails with "<op>: q4_0 tensor: dequantize it first" for block types. */
tl_status ops_require_plain(const char *op, const tl_tensor *t);

/* Normalises a .tl axis (negative from the end) of an n_dims tensor into a
** ggml dim index; fails naming op. */
tl_status ops_axis(const char *op, int axis, int n_dims, int *dim);

/* "[2, 3]" style shape of t into buf (static per-call buffers are not used). */
#define OPS_SHAPE(t, buf) tl_tensor_shape_str((t), (buf), sizeof(buf))

/* Advances a ggml index over dims [from, 8) of ne; returns false at the end. */
static inline bool ops_next(int64_t *idx, const int64_t *ne, int from) {
    for (int d = from; d < TL_MAX_DIMS; d++) {
        if (++idx[d] < ne[d]) return true;
        idx[d] = 0;
    }
    return false;
}

static inline size_t ops_offset(const int64_t *idx, const size_t *nb) {
    size_t o = 0;
    for (int d = 0; d < TL_MAX_DIMS; d++)
        o += (size_t)idx[d] * nb[d];
    return o;
}

/* A contiguous f32 copy of t (any dtype with to_f32; block types need whole
** contiguous rows).  *buf is malloc'd (free it); n elements. */
tl_status ops_to_f32(const char *op, const tl_tensor *t, float **buf);

/* t's values as contiguous f32: t's own data when it already is contiguous
** F32 (*owned = NULL; read-only), else a copy made by ops_to_f32 (*owned =
** *data; free it).  Saves a copy per op input in the common case. */
tl_status ops_f32_data(const char *op, const tl_tensor *t, const float **data, float **owned);

/* Writes n contiguous f32 values into a new contiguous tensor of dtype dt with
** t's ne (n_dims dims). */
tl_status ops_from_f32(const float *src, tl_dtype dt, int n_dims, const int64_t *ne,
                       tl_tensor **out);

/* One contiguous row of n: tl_op_softmax's arithmetic in place; the indices of
** its k largest values in tl_op_topk's order (order has room for k). */
void ops_softmax_row(float *p, int64_t n);
/* ops_softmax_row over rows rows of n floats, n apart: the same bits (the AVX2
** max and scale passes when selected). */
void ops_softmax_rows(float *p, int64_t rows, int64_t n);
void ops_topk_row(const float *row, int64_t n, int64_t k, int64_t *order);

/* Rotary embedding's cos/sin pairs for one position: D floats (cos, sin of
** position * theta_scale^i for i < D / 2, in ggml's order of operations). */
void ops_rope_row_table(int64_t position, int64_t D, float theta_scale, float *cs);
/* The pairs for positions lo ..= hi from the calling thread's table (ops/rope_table.c),
** computed only when it does not cover them: position p's D floats start at
** result + (p - *first) * D, valid until this thread's next call.  NULL (compute
** per row instead) past OPS_ROPE_TABLE_MAX positions or on out of memory. */
#define OPS_ROPE_TABLE_MAX 8192
const float *ops_rope_table(int64_t lo, int64_t hi, int64_t D, float theta_scale, int64_t *first);

/* malloc that fails with TL_ERR_NOMEM and a message. */
tl_status ops_alloc(const char *op, size_t bytes, void **out);

#endif
