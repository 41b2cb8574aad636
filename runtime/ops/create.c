/* runtime/ops/create.c -- full/zeros/ones, arange, rand, randn. */
#include "runtime/ops/internal.h"

#include "runtime/random.h"

static tl_status check_plain_target(const char *op, tl_dtype dt) {
    const tl_type_traits *tr = tl_dtype_traits(dt);
    if (!tr || tr->quantized)
        return tl_fail(TL_ERR_TYPE, "%s: cannot create %s tensors", op, tl_dtype_name(dt));
    return TL_OK;
}

static void store_value(void *p, tl_dtype dt, double v) {
    if (dt_is_int(dt) || dt == TL_DTYPE_BOOL)
        st_i64(p, dt, (int64_t)v);
    else if (dt == TL_DTYPE_F64)
        *(double *)p = v;
    else
        st_f32(p, dt, (float)v);
}

tl_status tl_op_full(tl_dtype dt, int n_dims, const int64_t *shape, double value, tl_tensor **out) {
    *out = NULL;
    tl_status st = check_plain_target("full", dt);
    if (st != TL_OK) return st;
    st = tl_tensor_new_shape(dt, n_dims, shape, out);
    if (st != TL_OK) {
        tl_error_prefix("full");
        return st;
    }
    if (value == 0.0) return TL_OK; /* storage is zero-filled */
    int64_t n = tl_tensor_nelements(*out);
    size_t esz = tl_dtype_traits(dt)->size;
    char *p = tl_tensor_data(*out);
    if (n > 0) store_value(p, dt, value);
    for (int64_t i = 1; i < n; i++)
        memcpy(p + (size_t)i * esz, p, esz);
    return TL_OK;
}

tl_status tl_op_arange(tl_dtype dt, double start, double end, double step, tl_tensor **out) {
    *out = NULL;
    tl_status st = check_plain_target("arange", dt);
    if (st != TL_OK) return st;
    if (step != step || start != start || end != end)
        return tl_fail(TL_ERR_ARG, "arange: the %s is NaN",
                       step != step     ? "step"
                       : start != start ? "start"
                                        : "end");
    if (!isfinite(start) || !isfinite(end))
        return tl_fail(TL_ERR_ARG, "arange: the %s is infinite", isfinite(start) ? "end" : "start");
    if (step == 0.0) return tl_fail(TL_ERR_ARG, "arange: step must be non-zero");
    double cnt = ceil((end - start) / step);
    if (!(cnt >= 0)) cnt = 0;
    if (cnt > 1e12)
        return tl_fail(TL_ERR_NOMEM, "arange: %s elements is too many", tl_num_str(cnt));
    int64_t n = (int64_t)cnt;
    st = tl_tensor_new(dt, 1, &n, out);
    if (st != TL_OK) return st;
    size_t esz = tl_dtype_traits(dt)->size;
    char *p = tl_tensor_data(*out);
    for (int64_t i = 0; i < n; i++)
        store_value(p + (size_t)i * esz, dt, start + (double)i * step);
    return TL_OK;
}

static tl_status random_fill(const char *op, tl_dtype dt, int n_dims, const int64_t *shape,
                             bool normal, tl_tensor **out) {
    *out = NULL;
    tl_status st = check_plain_target(op, dt);
    if (st != TL_OK) return st;
    if (!dt_is_float(dt))
        return tl_fail(TL_ERR_TYPE, "%s: needs a float dtype, not %s", op, tl_dtype_name(dt));
    st = tl_tensor_new_shape(dt, n_dims, shape, out);
    if (st != TL_OK) {
        tl_error_prefix("%s", op);
        return st;
    }
    int64_t n = tl_tensor_nelements(*out);
    size_t esz = tl_dtype_traits(dt)->size;
    char *p = tl_tensor_data(*out);
    tl_rng *r = tl_random_global();
    for (int64_t i = 0; i < n; i++) {
        double v = normal ? tl_rng_normal(r) : (double)tl_rng_uniform_f32(r);
        store_value(p + (size_t)i * esz, dt, v);
    }
    return TL_OK;
}

tl_status tl_op_rand(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out) {
    return random_fill("rand", dt, n_dims, shape, false, out);
}

tl_status tl_op_randn(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out) {
    return random_fill("randn", dt, n_dims, shape, true, out);
}
