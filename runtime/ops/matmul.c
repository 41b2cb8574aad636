/* runtime/ops/matmul.c -- matmul (batched, broadcasting) and linear (x·Wᵀ). */
#include "runtime/ops/internal.h"
#include "runtime/ops/linear_job.h"

#include "runtime/quant.h"
#include "runtime/quant/q4_0x16.h"
#include "runtime/shadow.h"
#include "runtime/threadpool.h"

/* ---- matmul ------------------------------------------------------------------ */

typedef struct mm_job {
    const float *a, *bt; /* a: batches of [M][K]; bt: batches of [N][K] (b transposed) */
    float *c;            /* [batches][M][N] */
    int64_t M, N, K, nblk;
    int64_t bne[TL_MAX_DIMS];  /* output batch dims (ggml dims 2..7 at [0..5]) */
    int64_t astr[TL_MAX_DIMS]; /* batch strides in matrices, 0 where broadcast */
    int64_t bstr[TL_MAX_DIMS];
} mm_job;

#define MM_NB 64

static void mm_items(void *ctx, int64_t begin, int64_t end) {
    const mm_job *j = ctx;
    for (int64_t it = begin; it < end; it++) {
        int64_t blk = it % j->nblk, rest = it / j->nblk;
        int64_t m = rest % j->M, batch = rest / j->M;
        int64_t ai = 0, bi = 0, bb = batch;
        for (int d = 0; d < TL_MAX_DIMS - 2; d++) {
            int64_t i = bb % j->bne[d];
            bb /= j->bne[d];
            ai += i * j->astr[d];
            bi += i * j->bstr[d];
        }
        const float *arow = j->a + (ai * j->M + m) * j->K;
        const float *bmat = j->bt + bi * j->N * j->K;
        float *crow = j->c + (batch * j->M + m) * j->N;
        int64_t n0 = blk * MM_NB, n1 = n0 + MM_NB < j->N ? n0 + MM_NB : j->N;
        for (int64_t n = n0; n < n1; n++) {
            const float *brow = bmat + n * j->K;
            double s = 0.0;
            for (int64_t k = 0; k < j->K; k++)
                s += (double)(arow[k] * brow[k]);
            crow[n] = (float)s;
        }
    }
}

tl_status tl_op_matmul(const tl_tensor *a, const tl_tensor *b, tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain("matmul", a);
    if (st == TL_OK) st = ops_require_plain("matmul", b);
    if (st != TL_OK) return st;
    char sa[96], sb[96];
    if (a->n_dims == 0 || b->n_dims == 0)
        return tl_fail(TL_ERR_SHAPE, "matmul: shapes %s and %s: operands must be at least 1-d",
                       OPS_SHAPE(a, sa), OPS_SHAPE(b, sb));
    /* logical ne with 1-D promotion: a {K, M, batch..}, b {N, K, batch..} */
    int64_t ane[TL_MAX_DIMS], bne[TL_MAX_DIMS];
    for (int d = 0; d < TL_MAX_DIMS; d++)
        ane[d] = bne[d] = 1;
    int adims = a->n_dims, bdims = b->n_dims;
    if (adims == 1) {
        ane[0] = a->ne[0];
        adims = 2;
    } else
        memcpy(ane, a->ne, sizeof ane);
    if (bdims == 1) {
        bne[0] = 1;
        bne[1] = b->ne[0];
        bdims = 2;
    } else
        memcpy(bne, b->ne, sizeof bne);
    int64_t K = ane[0], M = ane[1], N = bne[0];
    if (bne[1] != K)
        return tl_fail(TL_ERR_SHAPE, "matmul: shapes %s and %s do not align (%lld != %lld)",
                       OPS_SHAPE(a, sa), OPS_SHAPE(b, sb), (long long)K, (long long)bne[1]);
    mm_job j = {.M = M, .N = N, .K = K};
    int64_t one_ne[TL_MAX_DIMS];
    one_ne[0] = N;
    one_ne[1] = M;
    int odims = adims > bdims ? adims : bdims;
    int64_t batches = 1, as = 1, bs = 1;
    for (int d = 2; d < TL_MAX_DIMS; d++) {
        int64_t x = ane[d], y = bne[d];
        if (x != y && x != 1 && y != 1)
            return tl_fail(TL_ERR_SHAPE, "matmul: batch dims of %s and %s cannot broadcast",
                           OPS_SHAPE(a, sa), OPS_SHAPE(b, sb));
        int64_t m = x == 1 ? y : x;
        one_ne[d] = m;
        j.bne[d - 2] = m;
        j.astr[d - 2] = x == 1 ? 0 : as;
        j.bstr[d - 2] = y == 1 ? 0 : bs;
        as *= x;
        bs *= y;
        batches *= m;
    }
    /* output dims, dropping the promoted ones again */
    int64_t ne[TL_MAX_DIMS];
    int nd = 0;
    if (b->n_dims != 1) ne[nd++] = N;
    if (a->n_dims != 1) ne[nd++] = M;
    for (int d = 2; d < odims; d++)
        ne[nd++] = one_ne[d];
    tl_dtype odt = TL_DTYPE_F32;
    if (a->dtype == b->dtype && (a->dtype == TL_DTYPE_F16 || a->dtype == TL_DTYPE_BF16))
        odt = a->dtype;

    float *fa = NULL, *fb = NULL, *bt = NULL, *c = NULL;
    st = ops_to_f32("matmul", a, &fa);
    if (st == TL_OK) st = ops_to_f32("matmul", b, &fb);
    if (st == TL_OK)
        st = ops_alloc("matmul", (size_t)tl_tensor_nelements(b) * sizeof(float), (void **)&bt);
    if (st == TL_OK)
        st = ops_alloc("matmul", (size_t)(batches * M * N) * sizeof(float), (void **)&c);
    if (st == TL_OK) {
        int64_t bmats = bs;
        for (int64_t q = 0; q < bmats; q++) /* bt[q][n][k] = b[q][k][n] */
            for (int64_t k = 0; k < K; k++)
                for (int64_t n = 0; n < N; n++)
                    bt[(q * N + n) * K + k] = fb[(q * K + k) * N + n];
        j.a = fa;
        j.bt = bt;
        j.c = c;
        j.nblk = (N + MM_NB - 1) / MM_NB;
        int64_t items = batches * M * j.nblk;
        if (items > 0) tl_parallel_for(items, 1 + (1 << 16) / (MM_NB * K + 1), mm_items, &j);
        st = ops_from_f32(c, odt, nd, ne, out);
    }
    free(fa);
    free(fb);
    free(bt);
    free(c);
    return st;
}

/* ---- linear -------------------------------------------------------------------- */

void lin_quant_rows(void *ctx, int64_t begin, int64_t end) {
    lin_job *j = ctx;
    for (int64_t r = begin; r < end; r++) {
        char *row = j->xq_w + (size_t)r * j->xq_row;
        j->dtr->from_f32(j->xf + r * j->in, row, j->in);
        if (j->x16_acts) tl_q4_0x16_acts_set(j->x16_acts, r, row);
    }
}

bool lin_streams_on(const lin_job *j) {
    return lin_x16_gemm(j) ||
           (!j->exact && tl_quant_gemm_streams_rows(j->w->dtype, j->order, j->in, j->R));
}

bool lin_x16_gemm(const lin_job *j) {
    return !j->exact && j->R > 1 && j->shadow && j->shadow_kind == TL_SHADOW_Q4_0X16 &&
           j->order == TL_DOT_ORDER_REPACK;
}

void lin_use_shadow(lin_job *j) {
    j->unit = LIN_UNIT;
    j->shadow = NULL;
    if (j->exact || !j->w->shadow_allow) return;
    tl_shadow_request((tl_tensor *)j->w); /* the shadow fields are the tensor's cache */
    j->shadow = tl_shadow_get(j->w, &j->shadow_kind, &j->shadow_rows);
    if (j->shadow && j->shadow_kind == TL_SHADOW_Q4_0X16) j->unit = 16;
}

/* The quant module's row kernels for rows [begin, end) (each output
** bit-identical to vec_dot), reading rows under the shadow from the shadow. */
static tl_status lin_rows_quant(const lin_job *j, int64_t begin, int64_t end) {
    const char *wbase = tl_tensor_data(j->w);
    size_t wrow = j->w->nb[1];
    if (j->shadow && j->shadow_kind == TL_SHADOW_COPY) wbase = j->shadow;
    if (j->shadow && j->shadow_kind == TL_SHADOW_Q4_0X16 && j->order == TL_DOT_ORDER_REPACK) {
        int64_t e = end < j->shadow_rows ? end : j->shadow_rows; /* begin: a multiple of 16 */
        if (begin < e) {
            tl_status st;
            if (j->R == 1)
                st = tl_q4_0x16_gemv(j->in, j->shadow, begin, e, j->xq, j->y);
            else if (j->x16_acts) /* laid out once for all the chunks of this matmul */
                st = tl_q4_0x16_gemm_acts(j->shadow, begin, e, j->shadow_rows, j->x16_acts, j->y,
                                          (size_t)j->O);
            else
                st = tl_q4_0x16_gemm(j->in, j->shadow, begin, e, j->xq, j->xq_row, j->R, j->y,
                                     (size_t)j->O);
            if (st != TL_OK) return st;
            begin = e;
        }
    }
    if (begin >= end) return TL_OK;
    return j->R == 1 ? tl_quant_gemv_rows_best(j->w->dtype, j->order, j->in, wbase, wrow, begin,
                                               end, j->xq, j->y)
                     : tl_quant_gemm_rows_best(j->w->dtype, j->order, j->in, wbase, wrow, begin,
                                               end, j->xq, j->xq_row, j->R, j->y, (size_t)j->O);
}

/* Weight row groups [begin, end) (j->unit rows each) against every activation row. */
void lin_rows(void *ctx, int64_t begin, int64_t end) {
    lin_job *j = ctx;
    int64_t unit = j->unit ? j->unit : LIN_UNIT;
    begin *= unit; /* the pool splits whole kernel groups of rows */
    end = end * unit < j->O ? end * unit : j->O;
    const char *wbase = tl_tensor_data(j->w);
    size_t wrow = j->w->nb[1];
    if (!j->exact) {
        tl_status st = lin_rows_quant(j, begin, end);
        if (st != TL_OK) {
            __atomic_store_n(&j->failed, 2, __ATOMIC_RELAXED);
            return;
        }
        if (j->bias)
            for (int64_t r = 0; r < j->R; r++)
                for (int64_t o = begin; o < end; o++)
                    j->y[r * j->O + o] += j->bias[o];
        return;
    }
    float *tmp = malloc((size_t)j->in * sizeof(float) + 1);
    if (!tmp) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t o = begin; o < end; o++) {
        j->wtr->to_f32(wbase + (size_t)o * wrow, tmp, j->in);
        for (int64_t r = 0; r < j->R; r++) {
            const float *xr = j->xf + r * j->in;
            double s = 0.0;
            for (int64_t k = 0; k < j->in; k++)
                s += (double)tmp[k] * (double)xr[k];
            float v = (float)s;
            if (j->bias) v += j->bias[o];
            j->y[r * j->O + o] = v;
        }
    }
    free(tmp);
}

tl_status tl_op_linear(const tl_tensor *x, const tl_tensor *w, const tl_tensor *bias,
                       tl_tensor **out) {
    *out = NULL;
    char sx[96], sw[96], sb[96];
    tl_status st = ops_require_plain("linear", x);
    if (st != TL_OK) return st;
    const tl_type_traits *wtr = tl_dtype_traits(w->dtype);
    if (w->n_dims != 2 || x->n_dims < 1 || x->ne[0] != w->ne[0])
        return tl_fail(TL_ERR_SHAPE,
                       "linear: shapes %s and %s do not fit (x [.., in], W [out, in])",
                       OPS_SHAPE(x, sx), OPS_SHAPE(w, sw));
    int64_t in = w->ne[0], O = w->ne[1];
    if (bias && (tl_tensor_nelements(bias) != O || ops_require_plain("linear", bias) != TL_OK))
        return tl_fail(TL_ERR_SHAPE, "linear: bias %s does not match W %s (want [%lld])",
                       OPS_SHAPE(bias, sb), OPS_SHAPE(w, sw), (long long)O);
    tl_precision precision = tl_get_precision();
    bool exact = precision == TL_PRECISION_EXACT;
    if (!wtr->to_f32 || (!exact && !wtr->vec_dot))
        return tl_fail(TL_ERR_UNSUPPORTED, "linear: no %s kernels for %s weights",
                       exact ? "dequantize" : "dot", tl_dtype_name(w->dtype));
    tl_tensor *wc = NULL; /* W with contiguous rows */
    if (in > 1 && w->nb[0] != wtr->size) {
        if (wtr->quantized)
            return tl_fail(TL_ERR_SHAPE, "linear: %s weight rows must be contiguous",
                           tl_dtype_name(w->dtype));
        st = tl_op_contiguous(w, &wc);
        if (st != TL_OK) return st;
        w = wc;
    }
    lin_job j = {.w = w, .wtr = wtr, .R = tl_tensor_nrows(x), .O = O, .in = in, .exact = exact};
    j.order =
        precision == TL_PRECISION_LLAMA ? tl_quant_llama_order(w->dtype, O) : TL_DOT_ORDER_ROW;
    const float *xf = NULL;
    float *xf_copy = NULL, *bf = NULL, *y = NULL;
    char *xq = NULL;
    tl_tensor *yt = NULL; /* the output, written in place when it is f32 */
    int64_t ne[TL_MAX_DIMS];
    memcpy(ne, x->ne, sizeof ne);
    ne[0] = O;
    tl_dtype odt =
        (x->dtype == TL_DTYPE_F16 || x->dtype == TL_DTYPE_BF16) ? x->dtype : TL_DTYPE_F32;
    st = ops_f32_data("linear", x, &xf, &xf_copy);
    if (st == TL_OK && bias) st = ops_to_f32("linear", bias, &bf);
    if (st == TL_OK && odt == TL_DTYPE_F32) {
        st = tl_tensor_new_uninit(TL_DTYPE_F32, x->n_dims, ne, &yt); /* lin_rows writes all */
        if (st == TL_OK) y = tl_tensor_data(yt);
    } else if (st == TL_OK) {
        st = ops_alloc("linear", (size_t)(j.R * O) * sizeof(float), (void **)&y);
    }
    if (st == TL_OK) lin_use_shadow(&j);
    if (st == TL_OK && !exact && wtr->dot_type != TL_DTYPE_F32) {
        const tl_type_traits *dtr = tl_dtype_traits(wtr->dot_type);
        if (!dtr || !dtr->from_f32) {
            st = tl_fail(TL_ERR_UNSUPPORTED, "linear: no %s quantizer for the activations of %s",
                         tl_dtype_name(wtr->dot_type), tl_dtype_name(w->dtype));
        } else if (in % dtr->blck != 0) {
            st = tl_fail(TL_ERR_SHAPE, "linear: row length %lld is not a multiple of %lld (%s)",
                         (long long)in, (long long)dtr->blck, dtr->name);
        } else {
            j.xq_row = tl_dtype_row_size(wtr->dot_type, in);
            st = ops_alloc("linear", j.xq_row * (size_t)j.R, (void **)&xq);
            if (st == TL_OK) {
                j.dtr = dtr;
                j.xf = xf;
                j.xq_w = xq;
                if (lin_x16_gemm(&j)) /* laid out with the quantization; NULL: per call */
                    j.x16_acts = tl_q4_0x16_acts_new(in, j.R);
                tl_parallel_for(j.R, 1, lin_quant_rows, &j);
                j.xq = xq;
            }
        }
    } else if (st == TL_OK) {
        j.xq = (const char *)xf;
        j.xq_row = (size_t)in * sizeof(float);
    }
    if (st == TL_OK) {
        j.xf = xf;
        j.bias = bf;
        j.y = y;
        if (O > 0 && j.R > 0)
            /* one token streams the weights: one chunk per thread (threadpool.h) */
            lin_parallel(lin_units(&j), in, j.R, lin_streams_on(&j), lin_rows, &j);
        if (j.failed == 1) st = tl_fail(TL_ERR_NOMEM, "linear: out of memory");
        if (j.failed == 2)
            st = tl_fail(TL_ERR_INTERNAL, "linear: row kernel failed for %s",
                         tl_dtype_name(w->dtype));
    }
    if (yt) {
        if (st == TL_OK)
            *out = yt;
        else
            tl_tensor_unref(yt);
    } else {
        if (st == TL_OK) st = ops_from_f32(y, odt, x->n_dims, ne, out);
        free(y);
    }
    free(xf_copy);
    free(bf);
    free(xq);
    tl_q4_0x16_acts_free(j.x16_acts);
    tl_tensor_unref(wc);
    return st;
}
