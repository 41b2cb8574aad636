/* runtime/quant/gemv.c -- a range of rows of a matrix-vector product with the
** dot4 kernels, the way docs/formats.md describes: the
** range is cut in four quarters and each dot4 call takes one row from each,
** so the hardware prefetcher sees four long sequential streams. */
#include "runtime/quant.h"

tl_status tl_quant_gemv_rows_order(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                   size_t row_stride, int64_t r0, int64_t r1, const void *act,
                                   float *out) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    tl_vec_dot4_fn dot4 = tl_quant_vec_dot4_order(dt, order);
    tl_vec_dot_fn dot = tl_quant_vec_dot_order(dt, order);
    if (!dot && t) dot = t->vec_dot; /* plain types: the traits' dot */
    if (!t || !dot)
        return tl_fail(TL_ERR_UNSUPPORTED, "gemv: no dot product for type %s", tl_dtype_name(dt));
    if (n % t->blck != 0 || r0 < 0 || r1 < r0)
        return tl_fail(TL_ERR_ARG, "gemv: bad row length %lld or range [%lld, %lld)", (long long)n,
                       (long long)r0, (long long)r1);
    const char *base = w;
    int64_t len = r1 - r0, q = dot4 ? len / 4 : 0;
    for (int64_t i = 0; i < q; i++) {
        int64_t r[4] = {r0 + i, r0 + q + i, r0 + 2 * q + i, r0 + 3 * q + i};
        const void *xs[4] = {base + (size_t)r[0] * row_stride, base + (size_t)r[1] * row_stride,
                             base + (size_t)r[2] * row_stride, base + (size_t)r[3] * row_stride};
        float o[4];
        dot4(n, o, xs, act);
        for (int k = 0; k < 4; k++)
            out[r[k]] = o[k];
    }
    for (int64_t r = r0 + 4 * q; r < r1; r++)
        dot(n, &out[r], base + (size_t)r * row_stride, act);
    return TL_OK;
}

tl_status tl_quant_gemv_rows(tl_dtype dt, int64_t n, const void *w, size_t row_stride, int64_t r0,
                             int64_t r1, const void *act, float *out) {
    return tl_quant_gemv_rows_order(dt, TL_DOT_ORDER_ROW, n, w, row_stride, r0, r1, act, out);
}
