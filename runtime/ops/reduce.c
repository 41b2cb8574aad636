/* runtime/ops/reduce.c -- sum/mean/max/min/argmax/argmin, softmax, topk. */
#include "runtime/ops/expf_kernels.h"
#include "runtime/ops/ggml_math.h"
#include "runtime/ops/internal.h"

#include "runtime/threadpool.h"

static const char *const red_names[TL_RED_COUNT] = {"sum", "mean",   "max",
                                                    "min", "argmax", "argmin"};

const char *tl_reduce_op_name(tl_reduce_op op) {
    return (unsigned)op < TL_RED_COUNT ? red_names[op] : "?";
}

/* Splits t around ggml dim `dim`: inner = prod ne[<dim], n = ne[dim], outer = prod ne[>dim]. */
static void split_dims(const tl_tensor *t, int dim, int64_t *outer, int64_t *n, int64_t *inner) {
    *inner = 1;
    *outer = 1;
    for (int d = 0; d < dim; d++)
        *inner *= t->ne[d];
    for (int d = dim + 1; d < TL_MAX_DIMS; d++)
        *outer *= t->ne[d];
    *n = t->ne[dim];
}

/* A contiguous int64 copy of an integer/bool tensor. */
static tl_status to_i64(const char *op, const tl_tensor *t, int64_t **buf) {
    int64_t n = tl_tensor_nelements(t);
    void *p;
    tl_status st = ops_alloc(op, (size_t)n * sizeof(int64_t), &p);
    if (st != TL_OK) return st;
    int64_t *d = p, k = 0;
    int64_t idx[TL_MAX_DIMS] = {0};
    const char *base = tl_tensor_data(t);
    if (n > 0) do {
            for (int64_t i = 0; i < t->ne[0]; i++)
                d[k++] = ld_i64(base + ops_offset(idx, t->nb) + (size_t)i * t->nb[0], t->dtype);
        } while (ops_next(idx, t->ne, 1));
    *buf = d;
    return TL_OK;
}

tl_status tl_op_reduce(tl_reduce_op op, const tl_tensor *x, int axis, bool all_axes, bool keepdim,
                       tl_tensor **out) {
    *out = NULL;
    if ((unsigned)op >= TL_RED_COUNT) return tl_fail(TL_ERR_ARG, "reduce: bad op %d", (int)op);
    const char *name = tl_reduce_op_name(op);
    tl_status st = ops_require_plain(name, x);
    if (st != TL_OK) return st;
    int dim = 0;
    int64_t outer, n, inner;
    int out_dims;
    int64_t out_ne[TL_MAX_DIMS];
    if (all_axes) {
        outer = inner = 1;
        n = tl_tensor_nelements(x);
        out_dims = keepdim ? x->n_dims : 0;
        for (int d = 0; d < TL_MAX_DIMS; d++)
            out_ne[d] = 1;
    } else {
        if (x->n_dims == 0)
            return tl_fail(TL_ERR_ARG, "%s: a 0-d tensor has no axis %d", name, axis);
        st = ops_axis(name, axis, x->n_dims, &dim);
        if (st != TL_OK) return st;
        split_dims(x, dim, &outer, &n, &inner);
        out_dims = 0;
        for (int d = 0; d < x->n_dims; d++) {
            if (d == dim && !keepdim) continue;
            out_ne[out_dims++] = d == dim ? 1 : x->ne[d];
        }
        if (keepdim) out_dims = x->n_dims;
    }
    bool is_arg = op == TL_RED_ARGMAX || op == TL_RED_ARGMIN;
    if (n == 0 && op != TL_RED_SUM && op != TL_RED_MEAN && outer * inner > 0) {
        char s[96];
        return tl_fail(TL_ERR_SHAPE, "%s: cannot reduce an empty axis of %s", name,
                       OPS_SHAPE(x, s));
    }
    bool ints = !dt_is_float(x->dtype);
    tl_dtype odt;
    if (is_arg)
        odt = TL_DTYPE_I64;
    else if (ints)
        odt = op == TL_RED_MEAN ? TL_DTYPE_F32 : TL_DTYPE_I64;
    else
        odt = x->dtype;
    tl_tensor *o;
    st = tl_tensor_new(odt, out_dims, out_ne, &o);
    if (st != TL_OK) return st;
    char *po = tl_tensor_data(o);
    size_t osz = tl_dtype_traits(odt)->size;

    if (ints) {
        int64_t *b;
        st = to_i64(name, x, &b);
        if (st != TL_OK) {
            tl_tensor_unref(o);
            return st;
        }
        for (int64_t ou = 0; ou < outer; ou++)
            for (int64_t in = 0; in < inner; in++) {
                const int64_t *p = b + ou * n * inner + in;
                int64_t best = n ? p[0] : 0, arg = 0;
                double sum = 0;
                int64_t isum = 0;
                for (int64_t i = 0; i < n; i++) {
                    int64_t v = p[i * inner];
                    isum = (int64_t)((uint64_t)isum + (uint64_t)v);
                    sum += (double)v;
                    if ((op == TL_RED_MAX || op == TL_RED_ARGMAX) ? v > best : v < best) {
                        best = v;
                        arg = i;
                    }
                }
                char *dst = po + (size_t)(ou * inner + in) * osz;
                if (op == TL_RED_SUM)
                    st_i64(dst, odt, isum);
                else if (op == TL_RED_MEAN)
                    st_f32(dst, odt, (float)(sum / (double)n));
                else if (is_arg)
                    st_i64(dst, odt, arg);
                else
                    st_i64(dst, odt, best);
            }
        free(b);
    } else {
        const float *b; /* f32 data read in place (a greedy step's argmax over the logits) */
        float *owned;
        st = ops_f32_data(name, x, &b, &owned);
        if (st != TL_OK) {
            tl_tensor_unref(o);
            return st;
        }
        bool sums = op == TL_RED_SUM || op == TL_RED_MEAN;
        bool maxes = op == TL_RED_MAX || op == TL_RED_ARGMAX;
        for (int64_t ou = 0; ou < outer && st == TL_OK; ou++)
            for (int64_t in = 0; in < inner; in++) {
                const float *p = b + ou * n * inner + in;
                float best = n ? p[0] : 0.0f;
                int64_t arg = 0;
                double sum = 0;
                if (sums)
                    for (int64_t i = 0; i < n; i++)
                        sum += (double)p[i * inner];
                else
                    for (int64_t i = 0; i < n; i++) {
                        float v = p[i * inner];
                        if (maxes ? v > best : v < best) {
                            best = v;
                            arg = i;
                        } else if (best != best && v == v) { /* skip a leading NaN */
                            best = v;
                            arg = i;
                        }
                    }
                char *dst = po + (size_t)(ou * inner + in) * osz;
                if (op == TL_RED_SUM)
                    st_f32(dst, odt, (float)sum);
                else if (op == TL_RED_MEAN)
                    st_f32(dst, odt, n ? (float)(sum / (double)n) : NAN);
                else if (is_arg && best != best) { /* NaN values are skipped; all NaN: no answer */
                    st = tl_fail(TL_ERR_ARG,
                                 "%s: every value along the axis is NaN (at row %lld), so there is "
                                 "no index to return",
                                 name, (long long)(ou * inner + in));
                    break;
                } else if (is_arg)
                    st_i64(dst, odt, arg);
                else
                    st_f32(dst, odt, best);
            }
        free(owned);
        if (st != TL_OK) {
            tl_tensor_unref(o);
            return st;
        }
    }
    *out = o;
    return TL_OK;
}

/* ---- softmax ---------------------------------------------------------------- */

typedef struct sm_job {
    float *buf; /* in place */
    int64_t n, inner;
    bool log;
} sm_job;

static void softmax_one(float *p, int64_t n, int64_t stride, bool log_form) {
    float mx = -INFINITY;
    bool nan = false;
    for (int64_t i = 0; i < n; i++) {
        if (p[i * stride] > mx) mx = p[i * stride];
        if (p[i * stride] != p[i * stride]) nan = true;
    }
    if (nan) { /* a NaN anywhere (all-NaN too) makes the whole row NaN */
        for (int64_t i = 0; i < n; i++)
            p[i * stride] = NAN;
        return;
    }
    if (mx == -INFINITY) { /* every entry masked: uniform */
        for (int64_t i = 0; i < n; i++)
            p[i * stride] = log_form ? -logf((float)n) : 1.0f / (float)n;
        return;
    }
    double sum = 0.0;
    if (log_form) {
        for (int64_t i = 0; i < n; i++)
            sum += (double)expf(p[i * stride] - mx);
        float ls = (float)log(sum);
        for (int64_t i = 0; i < n; i++)
            p[i * stride] = (p[i * stride] - mx) - ls;
        return;
    }
    /* ggml's softmax (ggml_math.h): its vector expf, float sums of 8, a double sum */
    sum = stride == 1 ? ops_ggml_softmax_exp(p, n, mx)
                      : ops_ggml_softmax_exp_strided(p, n, stride, mx);
    float scale = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++)
        p[i * stride] *= scale;
}

void ops_softmax_row(float *p, int64_t n) {
    softmax_one(p, n, 1, false);
}

void ops_softmax_rows(float *p, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        float *q = p + r * n;
        if (!ops_vexpf_ok() || n < 16) {
            softmax_one(q, n, 1, false);
            continue;
        }
        bool nan = false;
        float mx = tl_row_max_avx2(q, n, &nan);
        if (nan || mx == -INFINITY) { /* the special rows, as one row does them */
            softmax_one(q, n, 1, false);
            continue;
        }
        tl_row_scale_avx2(q, n, (float)(1.0 / ops_ggml_softmax_exp(q, n, mx)));
    }
}

static void sm_rows(void *ctx, int64_t begin, int64_t end) {
    sm_job *j = ctx;
    if (j->inner == 1 && !j->log) { /* rows next to each other */
        ops_softmax_rows(j->buf + begin * j->n, end - begin, j->n);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        int64_t ou = r / j->inner, in = r % j->inner;
        softmax_one(j->buf + ou * j->n * j->inner + in, j->n, j->inner, j->log);
    }
}

static tl_status softmax_impl(const char *name, const tl_tensor *x, int axis, bool log_form,
                              tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain(name, x);
    if (st != TL_OK) return st;
    int dim = 0;
    if (x->n_dims > 0) {
        st = ops_axis(name, axis, x->n_dims, &dim);
        if (st != TL_OK) return st;
    }
    int64_t outer, n, inner;
    split_dims(x, dim, &outer, &n, &inner);
    float *b;
    st = ops_to_f32(name, x, &b);
    if (st != TL_OK) return st;
    sm_job j = {b, n, inner, log_form};
    if (n > 0) tl_parallel_for(outer * inner, 4096 / (n + 1) + 1, sm_rows, &j);
    tl_dtype dt = dt_is_float(x->dtype) && x->dtype != TL_DTYPE_F64 ? x->dtype : TL_DTYPE_F32;
    st = ops_from_f32(b, dt, x->n_dims, x->ne, out);
    free(b);
    return st;
}

tl_status tl_op_softmax(const tl_tensor *x, int axis, tl_tensor **out) {
    return softmax_impl("softmax", x, axis, false, out);
}

tl_status tl_op_log_softmax(const tl_tensor *x, int axis, tl_tensor **out) {
    return softmax_impl("log_softmax", x, axis, true, out);
}

/* ---- topk ------------------------------------------------------------------- */

void ops_topk_row(const float *row, int64_t n, int64_t k, int64_t *order) {
    /* insertion into a sorted list of k: O(n k), fine for sampling-sized k */
    int64_t cnt = 0;
    for (int64_t i = 0; i < n && k > 0; i++) {
        float val = row[i];
        if (val != val) continue;
        if (cnt == k && !(val > row[order[k - 1]])) continue;
        int64_t pos = cnt < k ? cnt++ : k - 1;
        while (pos > 0 && val > row[order[pos - 1]]) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = i;
    }
    for (int64_t i = cnt; i < k; i++)
        order[i] = i; /* only when NaNs were skipped */
}

tl_status tl_op_topk(const tl_tensor *x, int64_t k, tl_tensor **values, tl_tensor **indices) {
    *values = *indices = NULL;
    tl_status st = ops_require_plain("topk", x);
    if (st != TL_OK) return st;
    if (x->n_dims == 0) return tl_fail(TL_ERR_ARG, "topk: needs at least a 1-d tensor");
    int64_t n = x->ne[0];
    if (k < 0 || k > n)
        return tl_fail(TL_ERR_ARG, "topk: k = %lld is out of range for a last axis of %lld",
                       (long long)k, (long long)n);
    float *b;
    st = ops_to_f32("topk", x, &b);
    if (st != TL_OK) return st;
    int64_t ne[TL_MAX_DIMS];
    memcpy(ne, x->ne, sizeof ne);
    ne[0] = k;
    tl_dtype vdt = dt_is_float(x->dtype) ? x->dtype : TL_DTYPE_F32;
    tl_tensor *v = NULL, *ix = NULL;
    int64_t *order = NULL;
    st = tl_tensor_new(vdt, x->n_dims, ne, &v);
    if (st == TL_OK) st = tl_tensor_new(TL_DTYPE_I64, x->n_dims, ne, &ix);
    if (st == TL_OK) st = ops_alloc("topk", (size_t)(k ? k : 1) * sizeof(int64_t), (void **)&order);
    if (st != TL_OK) {
        free(b);
        tl_tensor_unref(v);
        tl_tensor_unref(ix);
        return st;
    }
    int64_t rows = tl_tensor_nrows(x);
    char *pv = tl_tensor_data(v);
    int64_t *pi = tl_tensor_data(ix);
    size_t vsz = tl_dtype_traits(vdt)->size;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = b + r * n;
        ops_topk_row(row, n, k, order);
        for (int64_t i = 0; i < k; i++) {
            st_f32(pv + (size_t)(r * k + i) * vsz, vdt, row[order[i]]);
            pi[r * k + i] = order[i];
        }
    }
    free(order);
    free(b);
    *values = v;
    *indices = ix;
    return TL_OK;
}
