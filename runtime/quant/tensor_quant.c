/* runtime/quant/tensor_quant.c -- whole-tensor quantize / dequantize (the
** `quantize` and `dequantize` builtins and `tl quantize` use these). */
#include "runtime/quant.h"
#include "runtime/tensor.h"

#include <stdlib.h>
#include <string.h>

/* Byte offset of row r (counting over dims 1..n) of t. */
static size_t row_offset(const tl_tensor *t, int64_t r) {
    size_t off = 0;
    for (int d = 1; d < TL_MAX_DIMS; d++) {
        int64_t ne = t->ne[d] > 0 ? t->ne[d] : 1;
        off += (size_t)(r % ne) * t->nb[d];
        r /= ne;
    }
    return off;
}

/* Row r of src as n f32 values in buf (handles strided plain rows). */
static void read_row_f32(const tl_tensor *src, int64_t r, float *buf) {
    const tl_type_traits *t = tl_dtype_traits(src->dtype);
    const char *p = (const char *)tl_tensor_data(src) + row_offset(src, r);
    int64_t n = src->ne[0];
    if (t->quantized || src->nb[0] == t->size) {
        t->to_f32(p, buf, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        t->to_f32(p + (size_t)i * src->nb[0], &buf[i], 1);
}

static int64_t n_rows(const tl_tensor *t) {
    int64_t r = 1;
    for (int d = 1; d < TL_MAX_DIMS; d++)
        r *= t->ne[d] > 0 ? t->ne[d] : 1;
    return r;
}

tl_status tl_tensor_quantize(const tl_tensor *src, tl_dtype dt, tl_tensor **out) {
    *out = NULL;
    const tl_type_traits *st = tl_dtype_traits(src->dtype), *tt = tl_dtype_traits(dt);
    if (!tt) return tl_fail(TL_ERR_TYPE, "quantize: invalid type id %d", (int)dt);
    if (!st || !st->to_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "quantize: cannot read a %s tensor",
                       tl_dtype_name(src->dtype));
    bool ok_type = tt->quantized ? tt->supported && dt != TL_DTYPE_Q8_1
                                 : dt == TL_DTYPE_F32 || dt == TL_DTYPE_F16 || dt == TL_DTYPE_BF16;
    if (!ok_type)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "quantize: no quantizer for type %s (q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, "
                       "q3_k, q4_k, q5_k, q6_k, q8_k, f16, bf16, f32)",
                       tt->name);
    int64_t n = src->n_dims == 0 ? 1 : src->ne[0];
    if (n % tt->blck != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "quantize: the last dimension (%lld) must be a multiple of %s's block size "
                       "%lld",
                       (long long)n, tt->name, (long long)tt->blck);
    tl_tensor *dst;
    tl_status s = tl_tensor_new(dt, src->n_dims, src->ne, &dst);
    if (s != TL_OK) return s;
    int64_t rows = n_rows(src);
    float *buf = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!buf) {
        tl_tensor_unref(dst);
        return tl_fail(TL_ERR_NOMEM, "quantize: out of memory for a row of %lld", (long long)n);
    }
    size_t row_bytes = tl_dtype_row_size(dt, n);
    for (int64_t r = 0; r < rows && n > 0; r++) {
        read_row_f32(src, r, buf);
        s = tl_quantize_rows(dt, buf, (char *)tl_tensor_data(dst) + (size_t)r * row_bytes, 1, n);
        if (s != TL_OK) break;
    }
    free(buf);
    if (s != TL_OK) {
        tl_tensor_unref(dst);
        return s;
    }
    if (src->name) tl_tensor_set_name(dst, src->name);
    *out = dst;
    return TL_OK;
}

tl_status tl_tensor_dequantize(const tl_tensor *src, tl_tensor **out) {
    *out = NULL;
    const tl_type_traits *st = tl_dtype_traits(src->dtype);
    if (!st || !st->to_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "dequantize: unsupported tensor type %s",
                       tl_dtype_name(src->dtype));
    tl_tensor *dst;
    tl_status s = tl_tensor_new(TL_DTYPE_F32, src->n_dims, src->ne, &dst);
    if (s != TL_OK) return s;
    int64_t n = src->n_dims == 0 ? 1 : src->ne[0], rows = n_rows(src);
    float *d = tl_tensor_data(dst);
    for (int64_t r = 0; r < rows && n > 0; r++)
        read_row_f32(src, r, d + r * n);
    if (src->name) tl_tensor_set_name(dst, src->name);
    *out = dst;
    return TL_OK;
}
