/* runtime/ops/shape.c -- views (reshape, transpose, permute, slice, ...) and
** data movement (contiguous, broadcast_to, concat, split, gather, scatter, cast). */
#include "runtime/ops/internal.h"

#include "runtime/threadpool.h"

#include <stdio.h>

/* Copies src into dst elementwise (same dtype, same ne; any strides). */
static void copy_strided(tl_tensor *dst, const tl_tensor *src) {
    const tl_type_traits *tr = tl_dtype_traits(src->dtype);
    if (tl_tensor_nelements(src) == 0) return;
    int64_t idx[TL_MAX_DIMS] = {0};
    const char *ps = tl_tensor_data(src);
    char *pd = tl_tensor_data(dst);
    bool rows = tr->quantized || ((src->ne[0] <= 1 || src->nb[0] == tr->size) &&
                                  (dst->ne[0] <= 1 || dst->nb[0] == tr->size));
    size_t row_bytes = tl_dtype_row_size(src->dtype, src->ne[0]);
    do {
        const char *s = ps + ops_offset(idx, src->nb);
        char *d = pd + ops_offset(idx, dst->nb);
        if (rows)
            memcpy(d, s, row_bytes);
        else
            for (int64_t i = 0; i < src->ne[0]; i++)
                memcpy(d + (size_t)i * dst->nb[0], s + (size_t)i * src->nb[0], tr->size);
    } while (ops_next(idx, src->ne, 1));
}

tl_status tl_op_contiguous(const tl_tensor *t, tl_tensor **out) {
    *out = NULL;
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (tr->quantized && t->ne[0] > 1 && t->nb[0] != tr->size)
        return tl_fail(TL_ERR_SHAPE, "contiguous: %s tensor rows must be contiguous", tr->name);
    tl_status st = tl_tensor_new(t->dtype, t->n_dims, t->ne, out);
    if (st != TL_OK) return st;
    copy_strided(*out, t);
    return TL_OK;
}

static tl_status view_of(const tl_tensor *t, int n_dims, const int64_t *ne, const size_t *nb,
                         size_t offs, tl_tensor **out) {
    return tl_tensor_view((tl_tensor *)t, n_dims, ne, nb, offs, out);
}

tl_status tl_op_reshape(const tl_tensor *t, int n_dims, const int64_t *shape, tl_tensor **out) {
    *out = NULL;
    char s[96];
    if (n_dims < 0 || n_dims > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "reshape: at most %d dims", TL_MAX_DIMS);
    int64_t ne[TL_MAX_DIMS], known = 1, total = tl_tensor_nelements(t);
    int infer = -1;
    for (int i = 0; i < n_dims; i++) {
        int64_t v = shape[n_dims - 1 - i];
        if (v == -1) {
            if (infer >= 0) return tl_fail(TL_ERR_SHAPE, "reshape: only one dim may be -1");
            infer = i;
            ne[i] = 1;
            continue;
        }
        if (v < 0) return tl_fail(TL_ERR_SHAPE, "reshape: negative dim %lld", (long long)v);
        ne[i] = v;
        if (v != 0 && known > INT64_MAX / v)
            return tl_fail(TL_ERR_SHAPE, "reshape: shape is too large");
        known *= v;
    }
    if (infer >= 0) {
        if (known == 0 || total % known != 0)
            return tl_fail(TL_ERR_SHAPE, "reshape: cannot infer -1 for %s", OPS_SHAPE(t, s));
        ne[infer] = total / known;
        known = total;
    }
    if (known != total) {
        char want[128];
        int used = snprintf(want, sizeof want, "[");
        for (int i = 0; i < n_dims && used < (int)sizeof want; i++)
            used += snprintf(want + used, sizeof want - (size_t)used, "%s%lld", i ? ", " : "",
                             (long long)shape[i]);
        if (used < (int)sizeof want) snprintf(want + used, sizeof want - (size_t)used, "]");
        return tl_fail(TL_ERR_SHAPE, "reshape: cannot reshape %s (%lld elements) to %s",
                       OPS_SHAPE(t, s), (long long)total, want);
    }
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (tr->quantized && (n_dims == 0 || ne[0] != t->ne[0]))
        return tl_fail(TL_ERR_SHAPE, "reshape: %s tensors keep their row length", tr->name);
    if (tl_tensor_is_contiguous(t)) return view_of(t, n_dims, ne, NULL, 0, out);
    tl_tensor *c;
    tl_status st = tl_op_contiguous(t, &c);
    if (st != TL_OK) return st;
    st = view_of(c, n_dims, ne, NULL, 0, out);
    tl_tensor_unref(c);
    return st;
}

tl_status tl_op_flatten(const tl_tensor *t, tl_tensor **out) {
    int64_t n = tl_tensor_nelements(t);
    return tl_op_reshape(t, 1, &n, out);
}

static tl_status require_view_ok(const char *op, const tl_tensor *t, bool touches_dim0) {
    if (touches_dim0 && tl_dtype_traits(t->dtype)->quantized)
        return tl_fail(TL_ERR_TYPE, "%s: %s tensor: dequantize it first", op,
                       tl_dtype_name(t->dtype));
    return TL_OK;
}

tl_status tl_op_transpose(const tl_tensor *t, int axis0, int axis1, tl_tensor **out) {
    *out = NULL;
    int d0, d1;
    tl_status st = ops_axis("transpose", axis0, t->n_dims, &d0);
    if (st == TL_OK) st = ops_axis("transpose", axis1, t->n_dims, &d1);
    if (st == TL_OK) st = require_view_ok("transpose", t, d0 == 0 || d1 == 0);
    if (st != TL_OK) return st;
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    memcpy(ne, t->ne, sizeof ne);
    memcpy(nb, t->nb, sizeof nb);
    ne[d0] = t->ne[d1];
    ne[d1] = t->ne[d0];
    nb[d0] = t->nb[d1];
    nb[d1] = t->nb[d0];
    return view_of(t, t->n_dims, ne, nb, 0, out);
}

tl_status tl_op_permute(const tl_tensor *t, int n, const int *axes, tl_tensor **out) {
    *out = NULL;
    if (n != t->n_dims) {
        char s[96];
        return tl_fail(TL_ERR_ARG, "permute: %d axes given for %s", n, OPS_SHAPE(t, s));
    }
    bool seen[TL_MAX_DIMS] = {false};
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    memcpy(ne, t->ne, sizeof ne);
    memcpy(nb, t->nb, sizeof nb);
    for (int i = 0; i < n; i++) {
        int src;
        tl_status st = ops_axis("permute", axes[i], n, &src);
        if (st != TL_OK) return st;
        if (seen[src]) return tl_fail(TL_ERR_ARG, "permute: axis %d repeated", axes[i]);
        seen[src] = true;
        int dst = n - 1 - i;
        ne[dst] = t->ne[src];
        nb[dst] = t->nb[src];
    }
    if (n > 0 && ne[0] != t->ne[0] && tl_dtype_traits(t->dtype)->quantized)
        return require_view_ok("permute", t, true);
    return view_of(t, n, ne, nb, 0, out);
}

tl_status tl_op_slice(const tl_tensor *t, int axis, int64_t start, int64_t end, int64_t step,
                      tl_tensor **out) {
    *out = NULL;
    int d;
    tl_status st = ops_axis("slice", axis, t->n_dims, &d);
    if (st == TL_OK) st = require_view_ok("slice", t, d == 0);
    if (st != TL_OK) return st;
    if (step <= 0)
        return tl_fail(TL_ERR_ARG, "slice: step must be positive (got %lld)", (long long)step);
    int64_t len = t->ne[d];
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > len) start = len;
    if (end > len) end = len;
    if (end < start) end = start;
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    memcpy(ne, t->ne, sizeof ne);
    memcpy(nb, t->nb, sizeof nb);
    ne[d] = (end - start + step - 1) / step;
    nb[d] = t->nb[d] * (size_t)step;
    return view_of(t, t->n_dims, ne, nb, (size_t)start * t->nb[d], out);
}

tl_status tl_op_select(const tl_tensor *t, int axis, int64_t index, tl_tensor **out) {
    *out = NULL;
    int d;
    tl_status st = ops_axis("select", axis, t->n_dims, &d);
    if (st == TL_OK) st = require_view_ok("select", t, d == 0);
    if (st != TL_OK) return st;
    int64_t len = t->ne[d];
    int64_t i = index < 0 ? index + len : index;
    if (i < 0 || i >= len) {
        char s[96];
        return tl_fail(TL_ERR_RANGE, "index %lld is out of range for axis %d of %s",
                       (long long)index, axis, OPS_SHAPE(t, s));
    }
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    int k = 0;
    for (int x = 0; x < t->n_dims; x++) {
        if (x == d) continue;
        ne[k] = t->ne[x];
        nb[k++] = t->nb[x];
    }
    return view_of(t, t->n_dims - 1, ne, nb, (size_t)i * t->nb[d], out);
}

tl_status tl_op_squeeze(const tl_tensor *t, int axis, bool all_axes, tl_tensor **out) {
    *out = NULL;
    int d = -1;
    if (!all_axes) {
        tl_status st = ops_axis("squeeze", axis, t->n_dims, &d);
        if (st != TL_OK) return st;
        if (t->ne[d] != 1) {
            char s[96];
            return tl_fail(TL_ERR_SHAPE, "squeeze: axis %d of %s has size %lld, not 1", axis,
                           OPS_SHAPE(t, s), (long long)t->ne[d]);
        }
    }
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    int k = 0;
    for (int x = 0; x < t->n_dims; x++) {
        if (all_axes ? t->ne[x] == 1 : x == d) continue;
        ne[k] = t->ne[x];
        nb[k++] = t->nb[x];
    }
    if (k > 0 && ne[0] != t->ne[0] && tl_dtype_traits(t->dtype)->quantized)
        return require_view_ok("squeeze", t, true);
    return view_of(t, k, ne, nb, 0, out);
}

tl_status tl_op_unsqueeze(const tl_tensor *t, int axis, tl_tensor **out) {
    *out = NULL;
    int n = t->n_dims;
    int a = axis < 0 ? axis + n + 1 : axis;
    if (a < 0 || a > n || n >= TL_MAX_DIMS)
        return tl_fail(TL_ERR_ARG, "unsqueeze: axis %d is out of range for a %d-d tensor", axis, n);
    int pos = n - a; /* ggml index of the new dim */
    if (pos == 0 && tl_dtype_traits(t->dtype)->quantized)
        return require_view_ok("unsqueeze", t, true);
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    for (int x = 0, k = 0; x <= n; x++) {
        if (x == pos) {
            /* a size-1 dim's stride is never used; make it the packed one */
            ne[x] = 1;
            nb[x] = x > 0 ? t->nb[x - 1] * (size_t)t->ne[x - 1] : tl_dtype_traits(t->dtype)->size;
            continue;
        }
        ne[x] = t->ne[k];
        nb[x] = t->nb[k++];
    }
    return view_of(t, n + 1, ne, nb, 0, out);
}

tl_status tl_op_expand(const tl_tensor *t, int n_dims, const int64_t *shape, tl_tensor **out) {
    *out = NULL;
    char s[96];
    if (n_dims < t->n_dims || n_dims > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "broadcast_to: cannot broadcast %s to %d dims",
                       OPS_SHAPE(t, s), n_dims);
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    for (int d = 0; d < n_dims; d++) {
        ne[d] = shape[n_dims - 1 - d];
        int64_t have = d < t->n_dims ? t->ne[d] : 1;
        if (have == ne[d]) {
            nb[d] = t->nb[d];
        } else if (have == 1) {
            nb[d] = 0;
        } else {
            return tl_fail(TL_ERR_SHAPE,
                           "broadcast_to: cannot broadcast %s: dim %d is %lld, target %lld",
                           OPS_SHAPE(t, s), n_dims - 1 - d, (long long)have, (long long)ne[d]);
        }
    }
    if (ne[0] != t->ne[0] && tl_dtype_traits(t->dtype)->quantized)
        return require_view_ok("broadcast_to", t, true);
    return view_of(t, n_dims, ne, nb, 0, out);
}

tl_status tl_op_broadcast_to(const tl_tensor *t, int n_dims, const int64_t *shape,
                             tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain("broadcast_to", t);
    if (st != TL_OK) return st;
    tl_tensor *v;
    st = tl_op_expand(t, n_dims, shape, &v);
    if (st != TL_OK) return st;
    st = tl_op_contiguous(v, out);
    tl_tensor_unref(v);
    return st;
}

tl_status tl_op_concat(int n, const tl_tensor *const *ts, int axis, tl_tensor **out) {
    *out = NULL;
    if (n < 1) return tl_fail(TL_ERR_ARG, "concat: needs at least one tensor");
    const tl_tensor *f = ts[0];
    int d;
    tl_status st = ops_axis("concat", axis, f->n_dims, &d);
    if (st == TL_OK) st = ops_require_plain("concat", f);
    if (st != TL_OK) return st;
    int64_t ne[TL_MAX_DIMS];
    memcpy(ne, f->ne, sizeof ne);
    ne[d] = 0;
    for (int i = 0; i < n; i++) {
        const tl_tensor *t = ts[i];
        char s0[96], s1[96];
        if (t->dtype != f->dtype)
            return tl_fail(TL_ERR_TYPE, "concat: dtypes %s and %s differ", tl_dtype_name(f->dtype),
                           tl_dtype_name(t->dtype));
        if (t->n_dims != f->n_dims)
            return tl_fail(TL_ERR_SHAPE, "concat: shapes %s and %s differ in rank",
                           OPS_SHAPE(f, s0), OPS_SHAPE(t, s1));
        for (int x = 0; x < TL_MAX_DIMS; x++)
            if (x != d && t->ne[x] != f->ne[x])
                return tl_fail(TL_ERR_SHAPE, "concat: shapes %s and %s differ outside axis %d",
                               OPS_SHAPE(f, s0), OPS_SHAPE(t, s1), axis);
        ne[d] += t->ne[d];
    }
    tl_tensor *o;
    st = tl_tensor_new(f->dtype, f->n_dims, ne, &o);
    if (st != TL_OK) return st;
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        tl_tensor *part;
        st = tl_op_slice(o, axis, at, at + ts[i]->ne[d], 1, &part);
        if (st != TL_OK) {
            tl_tensor_unref(o);
            return st;
        }
        copy_strided(part, ts[i]);
        tl_tensor_unref(part);
        at += ts[i]->ne[d];
    }
    *out = o;
    return TL_OK;
}

static tl_status split_impl(const char *op, const tl_tensor *t, int64_t size, int axis,
                            tl_tensor ***parts, int *n_parts) {
    *parts = NULL;
    *n_parts = 0;
    int d;
    tl_status st = ops_axis(op, axis, t->n_dims, &d);
    if (st != TL_OK) return st;
    int64_t len = t->ne[d];
    /* ceil(len / size) without len + size - 1, which overflows for a huge size */
    int64_t cnt = size > 0 ? len / size + (len % size != 0) : 0;
    if (size <= 0 || cnt > 1 << 20)
        return tl_fail(TL_ERR_ARG, "%s: bad piece size %lld", op, (long long)size);
    tl_tensor **ps = calloc((size_t)(cnt ? cnt : 1), sizeof *ps);
    if (!ps) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", op);
    for (int64_t i = 0; i < cnt; i++) {
        int64_t start = i * size; /* < len: no overflow */
        int64_t end = size > len - start ? len : start + size;
        st = tl_op_slice(t, axis, start, end, 1, &ps[i]);
        if (st != TL_OK) {
            for (int64_t k = 0; k < i; k++)
                tl_tensor_unref(ps[k]);
            free(ps);
            return st;
        }
    }
    *parts = ps;
    *n_parts = (int)cnt;
    return TL_OK;
}

tl_status tl_op_split(const tl_tensor *t, int64_t size, int axis, tl_tensor ***parts,
                      int *n_parts) {
    return split_impl("split", t, size, axis, parts, n_parts);
}

tl_status tl_op_chunk(const tl_tensor *t, int64_t n, int axis, tl_tensor ***parts, int *n_parts) {
    *parts = NULL;
    *n_parts = 0;
    int d;
    tl_status st = ops_axis("chunk", axis, t->n_dims, &d);
    if (st != TL_OK) return st;
    if (n <= 0) return tl_fail(TL_ERR_ARG, "chunk: number of chunks must be positive");
    int64_t len = t->ne[d];
    int64_t size = len / n + (len % n != 0); /* ceil without overflow */
    if (size == 0) size = 1;
    return split_impl("chunk", t, size, axis, parts, n_parts);
}

static tl_status check_index_tensor(const char *op, const tl_tensor *idx) {
    if (!dt_is_int(idx->dtype) && !dt_is_float(idx->dtype))
        return tl_fail(TL_ERR_TYPE, "%s: indices must be a numeric tensor, got %s", op,
                       tl_dtype_name(idx->dtype));
    return TL_OK;
}

tl_status tl_op_gather(const tl_tensor *t, int axis, const tl_tensor *idx, tl_tensor **out) {
    *out = NULL;
    char s0[96], s1[96];
    int d;
    tl_status st = ops_require_plain("gather", t);
    if (st == TL_OK) st = ops_axis("gather", axis, t->n_dims, &d);
    if (st == TL_OK) st = check_index_tensor("gather", idx);
    if (st != TL_OK) return st;
    if (idx->n_dims != t->n_dims)
        return tl_fail(TL_ERR_SHAPE, "gather: index %s and input %s differ in rank",
                       OPS_SHAPE(idx, s0), OPS_SHAPE(t, s1));
    for (int x = 0; x < TL_MAX_DIMS; x++)
        if (x != d && idx->ne[x] > t->ne[x])
            return tl_fail(TL_ERR_SHAPE,
                           "gather: index %s is larger than input %s outside the axis",
                           OPS_SHAPE(idx, s0), OPS_SHAPE(t, s1));
    st = tl_tensor_new(t->dtype, idx->n_dims, idx->ne, out);
    if (st != TL_OK || tl_tensor_nelements(idx) == 0) return st;
    size_t esz = tl_dtype_traits(t->dtype)->size;
    int64_t pos[TL_MAX_DIMS] = {0};
    char *po = tl_tensor_data(*out);
    const char *pt = tl_tensor_data(t), *pi = tl_tensor_data(idx);
    do {
        for (pos[0] = 0; pos[0] < idx->ne[0]; pos[0]++) {
            int64_t i = ld_i64(pi + ops_offset(pos, idx->nb), idx->dtype);
            if (i < 0) i += t->ne[d];
            if (i < 0 || i >= t->ne[d]) {
                tl_tensor_unref(*out);
                *out = NULL;
                return tl_fail(TL_ERR_RANGE, "gather: index %lld is out of range for axis %d of %s",
                               (long long)ld_i64(pi + ops_offset(pos, idx->nb), idx->dtype), axis,
                               OPS_SHAPE(t, s1));
            }
            int64_t src[TL_MAX_DIMS];
            memcpy(src, pos, sizeof src);
            src[d] = i;
            memcpy(po + ops_offset(pos, (*out)->nb), pt + ops_offset(src, t->nb), esz);
        }
        pos[0] = 0;
    } while (ops_next(pos, idx->ne, 1));
    return TL_OK;
}

tl_status tl_op_scatter(const tl_tensor *t, int axis, const tl_tensor *idx, const tl_tensor *src,
                        tl_tensor **out) {
    *out = NULL;
    char s0[96], s1[96];
    int d;
    tl_status st = ops_require_plain("scatter", t);
    if (st == TL_OK) st = ops_require_plain("scatter", src);
    if (st == TL_OK) st = ops_axis("scatter", axis, t->n_dims, &d);
    if (st == TL_OK) st = check_index_tensor("scatter", idx);
    if (st != TL_OK) return st;
    if (idx->n_dims != t->n_dims || src->n_dims != t->n_dims)
        return tl_fail(TL_ERR_SHAPE, "scatter: index %s, src and input %s differ in rank",
                       OPS_SHAPE(idx, s0), OPS_SHAPE(t, s1));
    for (int x = 0; x < TL_MAX_DIMS; x++)
        if ((x != d && idx->ne[x] > t->ne[x]) || idx->ne[x] > src->ne[x])
            return tl_fail(TL_ERR_SHAPE, "scatter: index %s does not fit input %s and src",
                           OPS_SHAPE(idx, s0), OPS_SHAPE(t, s1));
    tl_tensor *o;
    st = tl_op_contiguous(t, &o);
    if (st != TL_OK || tl_tensor_nelements(idx) == 0) {
        *out = o;
        return st;
    }
    bool ints = !dt_is_float(t->dtype);
    int64_t pos[TL_MAX_DIMS] = {0};
    char *po = tl_tensor_data(o);
    const char *ps = tl_tensor_data(src), *pi = tl_tensor_data(idx);
    do {
        for (pos[0] = 0; pos[0] < idx->ne[0]; pos[0]++) {
            int64_t i = ld_i64(pi + ops_offset(pos, idx->nb), idx->dtype);
            if (i < 0) i += t->ne[d];
            if (i < 0 || i >= t->ne[d]) {
                tl_tensor_unref(o);
                return tl_fail(TL_ERR_RANGE,
                               "scatter: index %lld is out of range for axis %d of %s",
                               (long long)ld_i64(pi + ops_offset(pos, idx->nb), idx->dtype), axis,
                               OPS_SHAPE(t, s1));
            }
            int64_t dst[TL_MAX_DIMS];
            memcpy(dst, pos, sizeof dst);
            dst[d] = i;
            const char *sp = ps + ops_offset(pos, src->nb);
            char *dp = po + ops_offset(dst, o->nb);
            if (ints)
                st_i64(dp, o->dtype, ld_i64(sp, src->dtype));
            else
                st_f32(dp, o->dtype, ld_f32(sp, src->dtype));
        }
        pos[0] = 0;
    } while (ops_next(pos, idx->ne, 1));
    *out = o;
    return TL_OK;
}

tl_status tl_op_cast(const tl_tensor *t, tl_dtype dt, tl_tensor **out) {
    *out = NULL;
    const tl_type_traits *to = tl_dtype_traits(dt);
    if (!to || to->quantized)
        return tl_fail(TL_ERR_UNSUPPORTED, "cast: cannot convert to %s", tl_dtype_name(dt));
    const tl_type_traits *from = tl_dtype_traits(t->dtype);
    if (from->quantized) {
        float *b;
        tl_status st = ops_to_f32("cast", t, &b);
        if (st != TL_OK) return st;
        st = ops_from_f32(b, dt, t->n_dims, t->ne, out);
        free(b);
        return st;
    }
    if (dt == t->dtype) return tl_op_contiguous(t, out);
    tl_status st = tl_tensor_new(dt, t->n_dims, t->ne, out);
    if (st != TL_OK || tl_tensor_nelements(t) == 0) return st;
    bool int_path = !dt_is_float(dt) && !dt_is_float(t->dtype);
    int64_t idx[TL_MAX_DIMS] = {0};
    const char *ps = tl_tensor_data(t);
    char *pd = tl_tensor_data(*out);
    size_t osz = to->size;
    int64_t k = 0;
    do {
        const char *row = ps + ops_offset(idx, t->nb);
        for (int64_t i = 0; i < t->ne[0]; i++, k++) {
            const char *s = row + (size_t)i * t->nb[0];
            char *d = pd + (size_t)k * osz;
            if (int_path)
                st_i64(d, dt, ld_i64(s, t->dtype));
            else if (dt == TL_DTYPE_F64)
                *(double *)d = ld_f64(s, t->dtype);
            else if (dt_is_int(dt))
                st_i64(d, dt, ld_i64(s, t->dtype));
            else
                st_f32(d, dt, ld_f32(s, t->dtype));
        }
    } while (ops_next(idx, t->ne, 1));
    return TL_OK;
}
