/* runtime/ops/linear_many.c -- several linears of one input in one pass. */
#include "runtime/ops.h"
#include "runtime/ops/internal.h"
#include "runtime/ops/linear_job.h"
#include "runtime/threadpool.h"

#define LINEAR_MANY_MAX 8

typedef struct many_job {
    lin_job jobs[LINEAR_MANY_MAX];
    int64_t first_unit[LINEAR_MANY_MAX + 1]; /* weight i owns units [first[i], first[i + 1]) */
    int n;
} many_job;

/* Units [begin, end) of the concatenated row groups of all weights. */
static void many_rows(void *ctx, int64_t begin, int64_t end) {
    many_job *m = ctx;
    for (int i = 0; i < m->n; i++) {
        int64_t a = m->first_unit[i], b = m->first_unit[i + 1];
        int64_t lo = begin > a ? begin : a, hi = end < b ? end : b;
        if (lo < hi) lin_rows(&m->jobs[i], lo - a, hi - a);
    }
}

/* Whether every weight's kernel streams on past its rows (lin_parallel). */
static bool all_stream_on(const many_job *m) {
    for (int i = 0; i < m->n; i++)
        if (!lin_streams_on(&m->jobs[i])) return false;
    return true;
}

/* The fused path applies when every weight is a 2-D block-type matrix with
** contiguous rows, of one dtype and row length matching x, in a quantized
** precision mode: then x is converted once and all rows run in one parallel
** region.  Anything else runs tl_op_linear per weight. */
static bool fusable(const tl_tensor *x, const tl_tensor *const *w, int n) {
    if (n < 2 || n > LINEAR_MANY_MAX || tl_get_precision() == TL_PRECISION_EXACT) return false;
    const tl_type_traits *tr = tl_dtype_traits(w[0]->dtype);
    if (!tr || !tr->quantized || !tr->vec_dot || tr->dot_type == TL_DTYPE_F32) return false;
    for (int i = 0; i < n; i++)
        if (w[i]->dtype != w[0]->dtype || w[i]->n_dims != 2 || w[i]->ne[0] != x->ne[0] ||
            w[i]->nb[0] != tr->size)
            return false;
    return x->n_dims >= 1 && x->dtype == TL_DTYPE_F32;
}

tl_status tl_op_linear_many(const tl_tensor *x, const tl_tensor *const *w, int n, tl_tensor **out) {
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    tl_status st = ops_require_plain("linear_many", x);
    if (st != TL_OK) return st;
    if (!fusable(x, w, n)) {
        for (int i = 0; i < n && st == TL_OK; i++)
            st = tl_op_linear(x, w[i], NULL, &out[i]);
        if (st != TL_OK)
            for (int i = 0; i < n; i++) {
                tl_tensor_unref(out[i]);
                out[i] = NULL;
            }
        return st;
    }
    const tl_type_traits *wtr = tl_dtype_traits(w[0]->dtype);
    const tl_type_traits *dtr = tl_dtype_traits(wtr->dot_type);
    int64_t in = x->ne[0], R = tl_tensor_nrows(x);
    if (!dtr || !dtr->from_f32 || in % dtr->blck != 0) /* the per-weight path words the error */
        return tl_op_linear(x, w[0], NULL, &out[0]);
    const float *xf;
    float *xf_copy = NULL;
    char *xq = NULL;
    many_job m = {.n = n};
    st = ops_f32_data("linear_many", x, &xf, &xf_copy);
    size_t xq_row = tl_dtype_row_size(wtr->dot_type, in);
    if (st == TL_OK) st = ops_alloc("linear_many", xq_row * (size_t)R, (void **)&xq);
    for (int i = 0; i < n && st == TL_OK; i++) {
        int64_t ne[TL_MAX_DIMS];
        memcpy(ne, x->ne, sizeof ne);
        ne[0] = w[i]->ne[1];
        st = tl_tensor_new_uninit(TL_DTYPE_F32, x->n_dims, ne, &out[i]); /* the kernels write all */
        if (st != TL_OK) break;
        int64_t O = w[i]->ne[1];
        m.jobs[i] = (lin_job){.w = w[i],
                              .wtr = wtr,
                              .xq = xq,
                              .xq_row = xq_row,
                              .xf = xf,
                              .y = tl_tensor_data(out[i]),
                              .R = R,
                              .O = O,
                              .in = in,
                              .order = tl_get_precision() == TL_PRECISION_LLAMA
                                           ? tl_quant_llama_order(w[i]->dtype, O)
                                           : TL_DOT_ORDER_ROW};
        lin_use_shadow(&m.jobs[i]);
        m.first_unit[i + 1] = m.first_unit[i] + lin_units(&m.jobs[i]);
    }
    if (st == TL_OK && R > 0) {
        lin_job q = {.dtr = dtr, .xf = xf, .xq_w = xq, .xq_row = xq_row, .in = in};
        /* the weights with a Q4_0x16 shadow share one layout of the activations */
        for (int i = 0; i < n; i++)
            if (lin_x16_gemm(&m.jobs[i])) {
                if (!q.x16_acts) q.x16_acts = tl_q4_0x16_acts_new(in, R); /* NULL: per call */
                m.jobs[i].x16_acts = q.x16_acts;
            }
        tl_parallel_for(R, 1, lin_quant_rows, &q);
        if (m.first_unit[n] > 0)
            lin_parallel(m.first_unit[n], in, R, all_stream_on(&m), many_rows, &m);
        for (int i = 0; i < n; i++)
            if (m.jobs[i].failed)
                st = tl_fail(TL_ERR_INTERNAL, "linear_many: row kernel failed for %s",
                             tl_dtype_name(w[i]->dtype));
        tl_q4_0x16_acts_free(q.x16_acts);
    }
    if (st != TL_OK)
        for (int i = 0; i < n; i++) {
            tl_tensor_unref(out[i]);
            out[i] = NULL;
        }
    free(xf_copy);
    free(xq);
    return st;
}
