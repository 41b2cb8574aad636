/* runtime/ops/linear_sgemm.c -- linear(x, W) through tl_sgemm (runtime/sgemm.h). */
#include "runtime/ops/internal.h"
#include "runtime/sgemm.h"

tl_status tl_op_linear_sgemm(const tl_tensor *x, const tl_tensor *w, tl_tensor **out) {
    *out = NULL;
    if (w->dtype != TL_DTYPE_F32 || w->n_dims != 2 || !tl_tensor_is_contiguous(w) ||
        x->dtype != TL_DTYPE_F32 || x->n_dims < 1 || x->ne[0] != w->ne[0])
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "linear_sgemm: wants f32 x [.., in] and a contiguous f32 W [out, in]");
    int64_t in = w->ne[0], O = w->ne[1], R = tl_tensor_nrows(x);
    const float *xf = NULL;
    float *owned = NULL;
    tl_status st = ops_f32_data("linear", x, &xf, &owned);
    if (st != TL_OK) return st;
    int64_t ne[TL_MAX_DIMS];
    memcpy(ne, x->ne, sizeof ne);
    ne[0] = O;
    tl_tensor *y = NULL;
    st = tl_tensor_new(TL_DTYPE_F32, x->n_dims, ne, &y);
    if (st == TL_OK) {
        tl_sgemm_args a = {.M = R,
                           .N = O,
                           .K = in,
                           .A = xf,
                           .sam = in,
                           .sak = 1,
                           .B = tl_tensor_data(w),
                           .sbk = 1,
                           .sbn = in,
                           .C = tl_tensor_data(y),
                           .ldc = O};
        st = tl_sgemm(&a);
    }
    free(owned);
    if (st != TL_OK) {
        tl_tensor_unref(y);
        return st;
    }
    *out = y;
    return TL_OK;
}
