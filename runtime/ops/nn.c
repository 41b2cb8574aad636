/* runtime/ops/nn.c -- rms_norm, layer_norm, rope, embedding, masks. */
#include "runtime/ops/ggml_math.h"
#include "runtime/ops/internal.h"

#include "runtime/threadpool.h"

static tl_dtype float_out(tl_dtype dt) {
    return (dt == TL_DTYPE_F16 || dt == TL_DTYPE_BF16) ? dt : TL_DTYPE_F32;
}

/* Checks that w covers the trailing dims of x; returns the normalised length. */
static tl_status norm_len(const char *op, const tl_tensor *x, const tl_tensor *w, int64_t *n) {
    char sx[96], sw[96];
    if (x->n_dims == 0) return tl_fail(TL_ERR_SHAPE, "%s: x must be at least 1-d", op);
    if (!w) {
        *n = x->ne[0];
        return TL_OK;
    }
    tl_status st = ops_require_plain(op, w);
    if (st != TL_OK) return st;
    bool ok = w->n_dims >= 1 && w->n_dims <= x->n_dims;
    for (int d = 0; ok && d < w->n_dims; d++)
        ok = w->ne[d] == x->ne[d];
    if (!ok)
        return tl_fail(TL_ERR_SHAPE, "%s: weight %s does not match the trailing dims of %s", op,
                       OPS_SHAPE(w, sw), OPS_SHAPE(x, sx));
    *n = tl_tensor_nelements(w);
    return TL_OK;
}

typedef struct norm_job {
    float *x; /* in place */
    const float *w, *b;
    int64_t n;
    float eps;
    bool layer;
    const float *src; /* rms_norm_rows: the input rows (x is the output) */
} norm_job;

/* RMS norm of rows [begin, end) of src into x, four rows at a time: each row's
** sum of (double)(x * x) runs in element order as in norm_rows, but the four
** rows' sums are independent chains the CPU overlaps (one row's chain is
** bound by the latency of the double add). */
static void rms_norm_rows(void *ctx, int64_t begin, int64_t end) {
    const norm_job *j = ctx;
    int64_t n = j->n, r = begin;
    double sum[4];
    for (; r < end; r += 4) {
        int64_t m = end - r < 4 ? end - r : 4;
        const float *x0 = j->src + r * n;
        if (m < 4) { /* the last rows (a generated token's one row) one chain each */
            for (int64_t k = 0; k < m; k++) {
                const float *x = x0 + k * n;
                double s = 0.0;
                for (int64_t i = 0; i < n; i++)
                    s += (double)(x[i] * x[i]);
                sum[k] = s;
            }
        } else {
            const float *x1 = x0 + n, *x2 = x0 + 2 * n, *x3 = x0 + 3 * n;
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (int64_t i = 0; i < n; i++) {
                s0 += (double)(x0[i] * x0[i]);
                s1 += (double)(x1[i] * x1[i]);
                s2 += (double)(x2[i] * x2[i]);
                s3 += (double)(x3[i] * x3[i]);
            }
            sum[0] = s0, sum[1] = s1, sum[2] = s2, sum[3] = s3;
        }
        for (int64_t k = 0; k < m; k++) {
            const float *x = x0 + k * n;
            float *y = j->x + (r + k) * n;
            const float mean = (float)(sum[k] / (double)n);
            const float scale = 1.0f / sqrtf(mean + j->eps);
            if (j->w)
                for (int64_t i = 0; i < n; i++)
                    y[i] = (x[i] * scale) * j->w[i];
            else
                for (int64_t i = 0; i < n; i++)
                    y[i] = x[i] * scale;
        }
    }
}

static void norm_rows(void *ctx, int64_t begin, int64_t end) {
    const norm_job *j = ctx;
    int64_t n = j->n;
    for (int64_t r = begin; r < end; r++) {
        float *x = j->x + r * n;
        if (!j->layer) {
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++)
                sum += (double)(x[i] * x[i]);
            const float mean = (float)(sum / (double)n);
            const float scale = 1.0f / sqrtf(mean + j->eps);
            for (int64_t i = 0; i < n; i++)
                x[i] = x[i] * scale;
        } else {
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++)
                sum += (double)x[i];
            const float mean = (float)(sum / (double)n);
            double sum2 = 0.0;
            for (int64_t i = 0; i < n; i++) {
                float v = x[i] - mean;
                x[i] = v;
                sum2 += (double)(v * v);
            }
            const float variance = (float)(sum2 / (double)n);
            const float scale = 1.0f / sqrtf(variance + j->eps);
            for (int64_t i = 0; i < n; i++)
                x[i] = x[i] * scale;
        }
        if (j->w)
            for (int64_t i = 0; i < n; i++)
                x[i] = x[i] * j->w[i];
        if (j->b)
            for (int64_t i = 0; i < n; i++)
                x[i] = x[i] + j->b[i];
    }
}

static tl_status norm_impl(const char *op, const tl_tensor *x, const tl_tensor *w,
                           const tl_tensor *b, float eps, bool layer, tl_tensor **out) {
    *out = NULL;
    int64_t n;
    tl_status st = ops_require_plain(op, x);
    if (st == TL_OK) st = norm_len(op, x, w, &n);
    if (st == TL_OK && b) {
        int64_t nb_;
        st = norm_len(op, x, b, &nb_);
        if (st == TL_OK && nb_ != n)
            st = tl_fail(TL_ERR_SHAPE, "%s: bias and weight sizes differ", op);
    }
    if (st != TL_OK) return st;
    int64_t rows = n ? tl_tensor_nelements(x) / n : 0;
    if (!layer && x->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(x) &&
        (!w || w->dtype == TL_DTYPE_F32)) {
        /* f32 rows straight from x into the new tensor (no copies): the same
        ** values as norm_rows, which rounds x * scale before the weight too */
        const float *wd = NULL;
        float *fw = NULL;
        if (w) st = ops_f32_data(op, w, &wd, &fw);
        if (st == TL_OK) st = tl_tensor_new_uninit(TL_DTYPE_F32, x->n_dims, x->ne, out);
        if (st == TL_OK && rows > 0) {
            norm_job j = {
                .x = tl_tensor_data(*out), .w = wd, .n = n, .eps = eps, .src = tl_tensor_data(x)};
            tl_parallel_for(rows, 1 + 8192 / (n + 1), rms_norm_rows, &j);
        }
        free(fw);
        return st;
    }
    float *fx = NULL, *fw = NULL, *fb = NULL;
    st = ops_to_f32(op, x, &fx);
    if (st == TL_OK && w) st = ops_to_f32(op, w, &fw);
    if (st == TL_OK && b) st = ops_to_f32(op, b, &fb);
    if (st == TL_OK) {
        norm_job j = {fx, fw, fb, n, eps, layer, NULL};
        if (rows > 0) tl_parallel_for(rows, 1 + 8192 / (n + 1), norm_rows, &j);
        st = ops_from_f32(fx, float_out(x->dtype), x->n_dims, x->ne, out);
    }
    free(fx);
    free(fw);
    free(fb);
    return st;
}

tl_status tl_op_rms_norm(const tl_tensor *x, const tl_tensor *w, float eps, tl_tensor **out) {
    return norm_impl("rms_norm", x, w, NULL, eps, false, out);
}

tl_status tl_op_layer_norm(const tl_tensor *x, const tl_tensor *w, const tl_tensor *b, float eps,
                           tl_tensor **out) {
    return norm_impl("layer_norm", x, w, b, eps, true, out);
}

/* ---- rope ---------------------------------------------------------------------- */

typedef struct rope_job {
    float *x; /* [rest][S][H][D] in place */
    int64_t D, H, S;
    int64_t offset;
    float theta_scale;
    tl_rope_style style;
    const int64_t *pos; /* NULL, or the position of each of the S rows (tl_op_rope_at) */
    const float *src;   /* NULL (x in place), or the input rows (x: the output) */
    const float *table; /* NULL, or cos/sin pairs: position p's at table + (p - first) * D */
    int64_t first;
    int failed; /* out of memory */
} rope_job;

static void rope_rows(void *ctx, int64_t begin, int64_t end) {
    rope_job *j = ctx;
    int64_t D = j->D;
    float *own = NULL;
    const float *cs = NULL;
    if (!j->table && !(own = malloc((size_t)D * sizeof(float) + 1))) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    int64_t cached = -1;
    for (int64_t r = begin; r < end; r++) { /* r over [rest][S][H] rows of D */
        int64_t s = (r / j->H) % j->S;
        if (s != cached) { /* cos/sin for this position */
            int64_t p = j->pos ? j->pos[s] : s + j->offset;
            if (j->table) {
                cs = j->table + (size_t)(p - j->first) * (size_t)D;
            } else {
                ops_rope_row_table(p, D, j->theta_scale, own);
                cs = own;
            }
            cached = s;
        }
        float *x = j->x + r * D;
        const float *in = j->src ? j->src + r * D : x; /* every element of x is written */
        ops_ggml_rope_row(in, x, cs, D, j->style == TL_ROPE_NEOX); /* llama.cpp's FMAs */
    }
    free(own);
}

static tl_status rope_run(const tl_tensor *x, int64_t offset, const int64_t *pos, int64_t n_pos,
                          float base, tl_rope_style style, tl_tensor **out) {
    *out = NULL;
    char s[96];
    tl_status st = ops_require_plain("rope", x);
    if (st != TL_OK) return st;
    if (x->n_dims < 3)
        return tl_fail(TL_ERR_SHAPE, "rope: x must be [.., S, H, D], got %s", OPS_SHAPE(x, s));
    if (x->ne[0] % 2 != 0)
        return tl_fail(TL_ERR_SHAPE, "rope: head dim %lld of %s is odd", (long long)x->ne[0],
                       OPS_SHAPE(x, s));
    if (style != TL_ROPE_NORM && style != TL_ROPE_NEOX)
        return tl_fail(TL_ERR_ARG, "rope: unknown style %d", (int)style);
    if (pos) {
        if (n_pos != x->ne[2])
            return tl_fail(TL_ERR_SHAPE, "rope: %lld positions for the %lld rows (S) of %s",
                           (long long)n_pos, (long long)x->ne[2], OPS_SHAPE(x, s));
        for (int64_t i = 0; i < n_pos; i++)
            if (pos[i] < 0)
                return tl_fail(TL_ERR_RANGE, "rope: position %lld of row %lld is negative",
                               (long long)pos[i], (long long)i);
    }
    int64_t last_pos = 0; /* positions offset .. offset + S - 1 must be int64s */
    if (!pos && __builtin_add_overflow(offset, x->ne[2], &last_pos))
        return tl_fail(TL_ERR_RANGE,
                       "rope: offset %lld + %lld positions overflows a 64-bit position",
                       (long long)offset, (long long)x->ne[2]);
    rope_job j = {.D = x->ne[0],
                  .H = x->ne[1],
                  .S = x->ne[2],
                  .offset = offset,
                  .theta_scale = powf(base, -2.0f / (float)x->ne[0]),
                  .style = style,
                  .pos = pos};
    int64_t rows = tl_tensor_nrows(x);
    if (rows > 0) { /* the thread's table when it covers (or can cover) every position */
        int64_t lo, hi;
        if (pos) {
            lo = hi = pos[0];
            for (int64_t i = 1; i < n_pos; i++) {
                lo = pos[i] < lo ? pos[i] : lo;
                hi = pos[i] > hi ? pos[i] : hi;
            }
        } else {
            lo = offset;
            hi = last_pos - 1;
        }
        j.table = ops_rope_table(lo, hi, j.D, j.theta_scale, &j.first);
    }
    if (x->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(x)) {
        /* f32 rows straight from x into the new tensor (no copies) */
        st = tl_tensor_new_uninit(TL_DTYPE_F32, x->n_dims, x->ne, out);
        if (st != TL_OK) return st;
        j.x = tl_tensor_data(*out);
        j.src = tl_tensor_data(x);
    } else {
        st = ops_to_f32("rope", x, &j.x);
        if (st != TL_OK) return st;
    }
    if (tl_tensor_nelements(x) > 0) tl_parallel_for(rows, 1 + 2048 / (x->ne[0] + 1), rope_rows, &j);
    if (j.failed) {
        if (j.src)
            tl_tensor_unref(*out);
        else
            free(j.x);
        *out = NULL;
        return tl_fail(TL_ERR_NOMEM, "rope: out of memory");
    }
    if (j.src) return TL_OK;
    st = ops_from_f32(j.x, float_out(x->dtype), x->n_dims, x->ne, out);
    free(j.x);
    return st;
}

tl_status tl_op_rope(const tl_tensor *x, int64_t offset, float base, tl_rope_style style,
                     tl_tensor **out) {
    return rope_run(x, offset, NULL, 0, base, style, out);
}

tl_status tl_op_rope_at(const tl_tensor *x, const int64_t *pos, int64_t n_pos, float base,
                        tl_rope_style style, tl_tensor **out) {
    return rope_run(x, 0, pos, n_pos, base, style, out);
}

/* ---- embedding ------------------------------------------------------------------- */

tl_status tl_op_embedding(const tl_tensor *table, const tl_tensor *ids, tl_tensor **out) {
    *out = NULL;
    char s0[96], s1[96];
    const tl_type_traits *tr = tl_dtype_traits(table->dtype);
    if (table->n_dims != 2)
        return tl_fail(TL_ERR_SHAPE, "embedding: table must be [V, D], got %s",
                       OPS_SHAPE(table, s0));
    if (!tr->to_f32) return tl_fail(TL_ERR_UNSUPPORTED, "embedding: no %s dequantizer", tr->name);
    if (tr->quantized && table->nb[0] != tr->size)
        return tl_fail(TL_ERR_SHAPE, "embedding: %s table rows must be contiguous", tr->name);
    tl_status st = ops_require_plain("embedding", ids);
    if (st != TL_OK) return st;
    if (ids->n_dims >= TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "embedding: ids %s have too many dims", OPS_SHAPE(ids, s1));
    int64_t D = table->ne[0], V = table->ne[1];
    int64_t ne[TL_MAX_DIMS];
    ne[0] = D;
    for (int d = 0; d < ids->n_dims; d++)
        ne[d + 1] = ids->ne[d];
    tl_tensor *o;
    st = tl_tensor_new(TL_DTYPE_F32, ids->n_dims + 1, ne, &o);
    if (st != TL_OK) return st;
    int64_t n = tl_tensor_nelements(ids);
    float *po = tl_tensor_data(o);
    const char *pt = tl_tensor_data(table), *pi = tl_tensor_data(ids);
    int64_t pos[TL_MAX_DIMS] = {0}, k = 0;
    if (n > 0) do {
            for (pos[0] = 0; pos[0] < ids->ne[0]; pos[0]++, k++) {
                const char *ip = pi + ops_offset(pos, ids->nb);
                double dv = ld_f64(ip, ids->dtype);
                int64_t id = ld_i64(ip, ids->dtype);
                if (dv != (double)id) {
                    tl_tensor_unref(o);
                    return tl_fail(TL_ERR_ARG, "embedding: id %s is not an integer",
                                   tl_num_str(dv));
                }
                if (id < 0 || id >= V) {
                    tl_tensor_unref(o);
                    return tl_fail(TL_ERR_RANGE,
                                   "embedding: id %g is out of range for a table of %lld rows", dv,
                                   (long long)V);
                }
                const char *row = pt + (size_t)id * table->nb[1];
                float *dst = po + k * D;
                if (tr->quantized || D <= 1 || table->nb[0] == tr->size)
                    tr->to_f32(row, dst, D);
                else
                    for (int64_t i = 0; i < D; i++)
                        dst[i] = ld_f32(row + (size_t)i * table->nb[0], table->dtype);
            }
            pos[0] = 0;
        } while (ops_next(pos, ids->ne, 1));
    *out = o;
    return TL_OK;
}

/* ---- masks ------------------------------------------------------------------------ */

tl_status tl_op_causal_mask(int64_t s, tl_tensor **out) {
    *out = NULL;
    if (s < 0) return tl_fail(TL_ERR_ARG, "causal_mask: size %lld is negative", (long long)s);
    int64_t ne[2] = {s, s};
    tl_status st = tl_tensor_new(TL_DTYPE_F32, 2, ne, out);
    if (st != TL_OK) return st;
    float *p = tl_tensor_data(*out);
    for (int64_t i = 0; i < s; i++)
        for (int64_t j = 0; j < s; j++)
            p[i * s + j] = j <= i ? 1.0f : 0.0f;
    return TL_OK;
}

tl_status tl_op_apply_attention_mask(const tl_tensor *scores, const tl_tensor *mask,
                                     tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain("apply_attention_mask", scores);
    if (st == TL_OK) st = ops_require_plain("apply_attention_mask", mask);
    if (st != TL_OK) return st;
    char s0[96], s1[96];
    /* the mask must broadcast to scores' shape, not widen it */
    for (int d = 0; d < TL_MAX_DIMS; d++)
        if (mask->ne[d] != 1 && mask->ne[d] != scores->ne[d])
            return tl_fail(TL_ERR_SHAPE, "apply_attention_mask: mask %s does not fit scores %s",
                           OPS_SHAPE(mask, s1), OPS_SHAPE(scores, s0));
    if (mask->n_dims > scores->n_dims)
        return tl_fail(TL_ERR_SHAPE, "apply_attention_mask: mask %s has more dims than scores %s",
                       OPS_SHAPE(mask, s1), OPS_SHAPE(scores, s0));
    tl_tensor *neg;
    tl_dtype dt = dt_is_float(scores->dtype) ? scores->dtype : TL_DTYPE_F32;
    st = tl_tensor_scalar(dt, -1e9, &neg);
    if (st != TL_OK) return st;
    st = tl_op_where(mask, scores, neg, out);
    tl_tensor_unref(neg);
    return st;
}
