/* runtime/ops/common.c -- helpers shared by the op families (see internal.h). */
#include "runtime/ops/internal.h"

#include "runtime/threadpool.h"

tl_status ops_require_plain(const char *op, const tl_tensor *t) {
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr || tr->quantized)
        return tl_fail(TL_ERR_TYPE, "%s: %s tensor: dequantize it first", op,
                       tl_dtype_name(t->dtype));
    return TL_OK;
}

tl_status ops_axis(const char *op, int axis, int n_dims, int *dim) {
    int a = axis < 0 ? axis + n_dims : axis;
    if (a < 0 || a >= n_dims)
        return tl_fail(TL_ERR_ARG, "%s: axis %d is out of range for a %d-d tensor", op, axis,
                       n_dims);
    *dim = n_dims - 1 - a;
    return TL_OK;
}

tl_status ops_alloc(const char *op, size_t bytes, void **out) {
    *out = NULL;
    if (bytes > tl_alloc_limit())
        return tl_fail(TL_ERR_NOMEM, "%s: cannot allocate %zu bytes", op, bytes);
    *out = malloc(bytes ? bytes : 1);
    if (!*out) return tl_fail(TL_ERR_NOMEM, "%s: out of memory allocating %zu bytes", op, bytes);
    return TL_OK;
}

typedef struct to_f32_job {
    const tl_tensor *t;
    float *dst;
    const tl_type_traits *tr;
    bool rows_ok; /* dim 0 contiguous: convert whole rows */
} to_f32_job;

static void to_f32_rows(void *ctx, int64_t begin, int64_t end) {
    const to_f32_job *j = ctx;
    const tl_tensor *t = j->t;
    int64_t ne0 = t->ne[0];
    int64_t idx[TL_MAX_DIMS] = {0};
    /* decompose the first row number into idx[1..] */
    int64_t r = begin;
    for (int d = 1; d < TL_MAX_DIMS; d++) {
        idx[d] = r % t->ne[d];
        r /= t->ne[d];
    }
    const char *base = tl_tensor_data(t);
    for (int64_t row = begin; row < end; row++) {
        const char *src = base + ops_offset(idx, t->nb);
        float *dst = j->dst + row * ne0;
        if (j->rows_ok)
            j->tr->to_f32(src, dst, ne0);
        else
            for (int64_t i = 0; i < ne0; i++)
                dst[i] = ld_f32(src + (size_t)i * t->nb[0], t->dtype);
        ops_next(idx, t->ne, 1);
    }
}

tl_status ops_to_f32(const char *op, const tl_tensor *t, float **buf) {
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    *buf = NULL;
    if (!tr || !tr->to_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: no conversion from %s to f32", op,
                       tl_dtype_name(t->dtype));
    bool rows_ok = t->ne[0] <= 1 || t->nb[0] == tr->size;
    if (tr->quantized && !rows_ok)
        return tl_fail(TL_ERR_SHAPE, "%s: %s tensor rows must be contiguous", op,
                       tl_dtype_name(t->dtype));
    if (!tr->quantized && t->ne[0] > 1 && t->nb[0] != tr->size) rows_ok = false;
    int64_t n = tl_tensor_nelements(t);
    void *p;
    tl_status st = ops_alloc(op, (size_t)n * sizeof(float), &p);
    if (st != TL_OK) return st;
    *buf = p;
    if (n == 0) return TL_OK;
    to_f32_job job = {t, p, tr, rows_ok};
    tl_parallel_for(tl_tensor_nrows(t), (1 << 14) / (t->ne[0] + 1) + 1, to_f32_rows, &job);
    return TL_OK;
}

tl_status ops_f32_data(const char *op, const tl_tensor *t, const float **data, float **owned) {
    *owned = NULL;
    if (t->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(t)) {
        *data = tl_tensor_data(t);
        return TL_OK;
    }
    tl_status st = ops_to_f32(op, t, owned);
    *data = *owned;
    return st;
}

tl_status ops_from_f32(const float *src, tl_dtype dt, int n_dims, const int64_t *ne,
                       tl_tensor **out) {
    tl_status st = tl_tensor_new_uninit(dt, n_dims, ne, out); /* every element written below */
    if (st != TL_OK) return st;
    int64_t n = tl_tensor_nelements(*out);
    if (dt == TL_DTYPE_F32) {
        if (n) memcpy(tl_tensor_data(*out), src, (size_t)n * sizeof(float));
        return TL_OK;
    }
    const tl_type_traits *tr = tl_dtype_traits(dt);
    if (n) tr->from_f32(src, tl_tensor_data(*out), n);
    return TL_OK;
}

tl_status tl_tensor_get_f64(const tl_tensor *t, int64_t flat, double *out) {
    tl_status st = ops_require_plain("get", t);
    if (st != TL_OK) return st;
    int64_t n = tl_tensor_nelements(t);
    if (flat < 0 || flat >= n)
        return tl_fail(TL_ERR_RANGE, "index %lld is out of range for %lld elements",
                       (long long)flat, (long long)n);
    size_t off = 0;
    for (int d = 0; d < TL_MAX_DIMS; d++) {
        off += (size_t)(flat % t->ne[d]) * t->nb[d];
        flat /= t->ne[d];
    }
    *out = ld_f64((const char *)tl_tensor_data(t) + off, t->dtype);
    return TL_OK;
}

tl_status tl_tensor_scalar(tl_dtype dt, double v, tl_tensor **out) {
    tl_status st = tl_tensor_new(dt, 0, NULL, out);
    if (st != TL_OK) return st;
    if (dt_is_int(dt) || dt == TL_DTYPE_BOOL)
        st_i64(tl_tensor_data(*out), dt, (int64_t)v);
    else if (dt == TL_DTYPE_F64)
        *(double *)tl_tensor_data(*out) = v;
    else
        st_f32(tl_tensor_data(*out), dt, (float)v);
    return TL_OK;
}
