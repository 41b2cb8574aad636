/* runtime/quant/gemm.c -- many activation rows (tokens) against a range of
** weight rows, in 4-row x 2-token tiles so each weight block is read once per
** token pair and stays in L1 across the tokens.  Every output is
** bit-identical to vec_dot on its (row, token) pair. */
#include "runtime/quant.h"
#include "runtime/quant/quant_impl.h"

static tl_status gemm_rows(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                           size_t w_stride, int64_t r0, int64_t r1, const void *act,
                           size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    tl_vec_dot_fn dot = tl_quant_vec_dot_order(dt, order);
    if (!dot && t) dot = t->vec_dot;
    if (!t || !dot)
        return tl_fail(TL_ERR_UNSUPPORTED, "gemm: no dot product for type %s", tl_dtype_name(dt));
    if (n % t->blck != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG, "gemm: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    tl_vec_dot_4x2_fn tile = tl_quant_vec_dot_4x2_order(dt, order);
    tl_vec_dot4_fn dot4 = tl_quant_vec_dot4_order(dt, order);
    const char *W = w, *A = act;
    int64_t r = r0;
    for (; dot4 && r + 4 <= r1; r += 4) {
        const void *xs[4] = {W + (size_t)r * w_stride, W + (size_t)(r + 1) * w_stride,
                             W + (size_t)(r + 2) * w_stride, W + (size_t)(r + 3) * w_stride};
        int64_t k = 0;
        for (; tile && k + 2 <= n_tok; k += 2) {
            const void *ys[2] = {A + (size_t)k * act_stride, A + (size_t)(k + 1) * act_stride};
            float o[8];
            tile(n, o, xs, ys);
            for (int i = 0; i < 4; i++) {
                out[(size_t)k * out_stride + (size_t)(r + i)] = o[2 * i];
                out[(size_t)(k + 1) * out_stride + (size_t)(r + i)] = o[2 * i + 1];
            }
        }
        for (; k < n_tok; k++) {
            float o[4];
            dot4(n, o, xs, A + (size_t)k * act_stride);
            for (int i = 0; i < 4; i++)
                out[(size_t)k * out_stride + (size_t)(r + i)] = o[i];
        }
    }
    for (; r < r1; r++)
        for (int64_t k = 0; k < n_tok; k++)
            dot(n, &out[(size_t)k * out_stride + (size_t)r], W + (size_t)r * w_stride,
                A + (size_t)k * act_stride);
    return TL_OK;
}

tl_status tl_quant_gemm_rows_order(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                   size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                   size_t act_stride, int64_t n_tok, float *out,
                                   size_t out_stride) {
    if (order == TL_DOT_ORDER_REPACK && (dt == TL_DTYPE_F32 || dt == TL_DTYPE_F16))
        /* llamafile's sgemm takes two or more rows of a length divisible by 8; else
        ** ggml's one-row dot */
        return gemm_rows(dt, n_tok >= 2 && n % 8 == 0 ? TL_DOT_ORDER_REPACK_GEMM : order, n, w,
                         w_stride, r0, r1, act, act_stride, n_tok, out, out_stride);
    if (order != TL_DOT_ORDER_REPACK || n_tok < 4)
        return gemm_rows(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                         out_stride);
    /* llama.cpp's repacked matmul: GEMM over groups of 4 tokens, GEMV for the rest */
    int64_t g = n_tok - n_tok % 4;
    tl_status st = gemm_rows(dt, TL_DOT_ORDER_REPACK_GEMM, n, w, w_stride, r0, r1, act, act_stride,
                             g, out, out_stride);
    if (st != TL_OK || g == n_tok) return st;
    return gemm_rows(dt, TL_DOT_ORDER_REPACK, n, w, w_stride, r0, r1,
                     (const char *)act + (size_t)g * act_stride, act_stride, n_tok - g,
                     out + (size_t)g * out_stride, out_stride);
}

tl_status tl_quant_gemm_rows(tl_dtype dt, int64_t n, const void *w, size_t w_stride, int64_t r0,
                             int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                             float *out, size_t out_stride) {
    return tl_quant_gemm_rows_order(dt, TL_DOT_ORDER_ROW, n, w, w_stride, r0, r1, act, act_stride,
                                    n_tok, out, out_stride);
}
