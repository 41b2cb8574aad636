/* runtime/ops/linear_batch.c -- linear over the stacked tokens of several
** sequences, each row in the dot order its own sequence would get alone.
**
** llama.cpp's repacked Q4_K and Q2_K orders depend on where a token sits in its
** call (the first n - n % 4 tokens in the GEMM order, the rest in the GEMV
** order; docs/quantization.md), and its F32/F16 orders on how many rows the call
** has (one: its one-row dot; more: sgemm's); for every other weight a row's bits
** do not depend on the other rows, and the batch is one tl_op_linear_many.  For those
** two, the rows that want the GEMM order run as one GEMM (padded to a multiple
** of 4 rows with copies of its first row, so none falls into the GEMV split),
** and the others through the GEMV kernels, 64 weight rows at a time for up to 64
** of them (tl_quant_gemv_tokens_best: a few tokens per pass over each
** super-block where the CPU has those kernels), so the weights are still read
** from memory once. */
#include "runtime/ops/internal.h"
#include "runtime/ops/linear_job.h"

#include "runtime/context.h"
#include "runtime/shadow.h"
#include "runtime/threadpool.h"

#define TAIL_CHUNK  64 /* weight rows per GEMV pass over the tail tokens */
#define TAIL_TOKENS 64 /* tail tokens per call of the GEMV kernels */

static bool split_orders(const tl_tensor *w) {
    return tl_get_precision() == TL_PRECISION_LLAMA &&
           (w->dtype == TL_DTYPE_Q4_K || w->dtype == TL_DTYPE_Q2_K) && w->n_dims == 2 &&
           tl_quant_llama_order(w->dtype, w->ne[1]) == TL_DOT_ORDER_REPACK;
}

/* F32/F16 weights: llama.cpp's sgemm order for a sequence with two or more rows in
** the call, its one-row dot for a single row (tl_quant_gemm_rows_order) */
static bool split_by_size(const tl_tensor *w) {
    return tl_get_precision() == TL_PRECISION_LLAMA &&
           (w->dtype == TL_DTYPE_F32 || w->dtype == TL_DTYPE_F16) && w->n_dims == 2;
}

typedef struct tail_job {
    const tl_tensor *w;
    const char *xq; /* T quantized rows */
    size_t xq_row;
    const int64_t *row; /* output row of each tail token */
    int64_t T, O, in;
    float *y; /* [R][O] */
    int failed;
} tail_job;

static void tail_rows(void *ctx, int64_t begin, int64_t end) {
    tail_job *j = ctx;
    int64_t r1 = end * TAIL_CHUNK < j->O ? end * TAIL_CHUNK : j->O;
    const char *wbase = tl_tensor_data(j->w);
    int kind;
    int64_t rows;
    const char *sh = tl_shadow_get(j->w, &kind, &rows); /* a copy: the same layout */
    if (sh && kind == TL_SHADOW_COPY && rows == j->O) wbase = sh;
    float *outs[TAIL_TOKENS];
    for (int64_t c0 = begin * TAIL_CHUNK; c0 < r1; c0 += TAIL_CHUNK) {
        int64_t c1 = c0 + TAIL_CHUNK < r1 ? c0 + TAIL_CHUNK : r1;
        for (int64_t t0 = 0; t0 < j->T; t0 += TAIL_TOKENS) {
            int64_t m = j->T - t0 < TAIL_TOKENS ? j->T - t0 : TAIL_TOKENS;
            for (int64_t k = 0; k < m; k++)
                outs[k] = j->y + j->row[t0 + k] * j->O;
            if (tl_quant_gemv_tokens_best(j->w->dtype, TL_DOT_ORDER_REPACK, j->in, wbase,
                                          j->w->nb[1], c0, c1, j->xq + (size_t)t0 * j->xq_row,
                                          j->xq_row, m, outs) != TL_OK)
                __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        }
    }
}

/* One split-order weight: out = linear(x, w) with gemm_row's orders. */
static tl_status split_linear(const tl_tensor *x, const float *xf, const tl_tensor *w,
                              const uint8_t *gemm_row, tl_tensor **out) {
    int64_t R = tl_tensor_nrows(x), in = x->ne[0], O = w->ne[1], G = 0;
    for (int64_t r = 0; r < R; r++)
        G += gemm_row[r] != 0;
    int64_t Gp = (G + 3) / 4 * 4, T = R - G;
    int64_t ne[TL_MAX_DIMS];
    memcpy(ne, x->ne, sizeof ne);
    ne[0] = O;
    tl_dtype dot = tl_dtype_traits(w->dtype)->dot_type;
    const tl_type_traits *dtr = tl_dtype_traits(dot);
    size_t xq_row = tl_dtype_row_size(dot, in);
    tl_tensor *o = NULL, *xg = NULL, *yg = NULL;
    char *xq = NULL;
    int64_t *row = NULL;
    tl_status st = tl_tensor_new_uninit(TL_DTYPE_F32, x->n_dims, ne, &o);
    if (st == TL_OK && G > 0) {
        /* the GEMM-order rows, packed (and padded) */
        st = tl_tensor_new_uninit(TL_DTYPE_F32, 2, (int64_t[]){in, Gp}, &xg);
        float *g = st == TL_OK ? tl_tensor_data(xg) : NULL;
        int64_t k = 0, first = -1;
        for (int64_t r = 0; st == TL_OK && r < R; r++)
            if (gemm_row[r]) {
                if (first < 0) first = r;
                memcpy(g + k++ * in, xf + r * in, (size_t)in * sizeof(float));
            }
        for (; st == TL_OK && k < Gp; k++)
            memcpy(g + k * in, xf + first * in, (size_t)in * sizeof(float));
        if (st == TL_OK) st = tl_op_linear(xg, w, NULL, &yg);
        k = 0;
        for (int64_t r = 0; st == TL_OK && r < R; r++)
            if (gemm_row[r])
                memcpy((float *)tl_tensor_data(o) + r * O, (float *)tl_tensor_data(yg) + k++ * O,
                       (size_t)O * sizeof(float));
    }
    if (st == TL_OK && T > 0) {
        st = ops_alloc("linear_batch", xq_row * (size_t)T + 1, (void **)&xq);
        if (st == TL_OK) st = ops_alloc("linear_batch", (size_t)T * sizeof *row, (void **)&row);
        if (st == TL_OK) {
            int64_t t = 0;
            for (int64_t r = 0; r < R; r++)
                if (!gemm_row[r]) {
                    row[t] = r;
                    dtr->from_f32(xf + r * in, xq + (size_t)t++ * xq_row, in);
                }
            tail_job j = {.w = w,
                          .xq = xq,
                          .xq_row = xq_row,
                          .row = row,
                          .T = T,
                          .O = O,
                          .in = in,
                          .y = tl_tensor_data(o)};
            tl_parallel_for((O + TAIL_CHUNK - 1) / TAIL_CHUNK, 1, tail_rows, &j);
            if (j.failed)
                st = tl_fail(TL_ERR_INTERNAL, "linear_batch: row kernel failed for %s",
                             tl_dtype_name(w->dtype));
        }
    }
    free(xq);
    free(row);
    tl_tensor_unref(xg);
    tl_tensor_unref(yg);
    if (st != TL_OK) {
        tl_tensor_unref(o);
        return st;
    }
    *out = o;
    return TL_OK;
}

tl_status tl_op_linear_batch(const tl_tensor *x, const tl_tensor *const *w, int n,
                             const uint8_t *gemm_row, const uint8_t *single_row, tl_tensor **out) {
    bool any = false;
    int64_t R = x->n_dims ? tl_tensor_nrows(x) : 0, n_single = 0;
    for (int64_t r = 0; single_row && r < R; r++)
        n_single += single_row[r] != 0;
    /* F32/F16 weights split when a single row shares the call with other rows
    ** (alone it would take the one-row dot; every other row the sgemm order) */
    bool mixed = single_row && n_single > 0 && R >= 2;
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        any = any || split_orders(w[i]) || (mixed && split_by_size(w[i]));
    }
    uint8_t *sized = NULL; /* the GEMM rows of F32/F16 weights: not single */
    if (any && mixed) {
        if (!(sized = malloc((size_t)R + 1))) return tl_fail(TL_ERR_NOMEM, "out of memory");
        for (int64_t r = 0; r < R; r++)
            sized[r] = !single_row[r];
    }
    if (!any || !gemm_row || x->dtype != TL_DTYPE_F32) {
        free(sized);
        return n == 1 ? tl_op_linear(x, w[0], NULL, &out[0]) : tl_op_linear_many(x, w, n, out);
    }
    tl_status st = ops_require_plain("linear_batch", x);
    if (st != TL_OK) {
        free(sized);
        return st;
    }
    const float *xf;
    float *xf_copy = NULL;
    st = ops_f32_data("linear_batch", x, &xf, &xf_copy);
    for (int i = 0; i < n && st == TL_OK; i++) {
        char sx[96], sw[96];
        if (w[i]->ne[0] != x->ne[0])
            st = tl_fail(TL_ERR_SHAPE,
                         "linear_batch: shapes %s and %s do not fit (x [.., in], W [out, in])",
                         OPS_SHAPE(x, sx), OPS_SHAPE(w[i], sw));
        else if (split_orders(w[i]) && w[i]->nb[0] == tl_dtype_traits(w[i]->dtype)->size &&
                 x->ne[0] % 256 == 0)
            st = split_linear(x, xf, w[i], gemm_row, &out[i]);
        else if (sized && split_by_size(w[i]) && w[i]->nb[0] == tl_dtype_traits(w[i]->dtype)->size)
            st = split_linear(x, xf, w[i], sized, &out[i]);
        else
            st = tl_op_linear(x, w[i], NULL, &out[i]);
    }
    free(xf_copy);
    free(sized);
    if (st != TL_OK)
        for (int i = 0; i < n; i++) {
            tl_tensor_unref(out[i]);
            out[i] = NULL;
        }
    return st;
}
