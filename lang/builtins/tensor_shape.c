/* lang/builtins/tensor_shape.c -- shape and view builtins: reshape, broadcast_to,
** flatten, transpose, permute, squeeze, concat, split/chunk, slice, narrow, select,
** gather/scatter (docs/builtins.md).  Each converts its arguments and calls one
** runtime op (runtime/ops.h).  Table tl_builtins_tensor_shape, listed right after
** tl_builtins_tensor. */
#include "lang/builtin.h"
#include "lang/builtins/tensor_args.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)

/* ---- shape and views ------------------------------------------------------------------- */

static tl_status b_reshape(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int64_t sh[TL_MAX_DIMS];
    int n;
    tl_status st = tl_arg_shape_infer(c, argv, 1, tl_tensor_nelements(t), sh, &n);
    if (st != TL_OK) return st;
    tl_tensor *r;
    return tlb_ret(tl_op_reshape(t, n, sh, &r), &r, out);
}

static tl_status b_broadcast_to(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int64_t sh[TL_MAX_DIMS];
    int n;
    tl_status st = tl_arg_shape(c, argv, 1, sh, &n);
    if (st != TL_OK) return st;
    tl_tensor *r;
    st = c->op ? tl_op_expand(t, n, sh, &r) : tl_op_broadcast_to(t, n, sh, &r); /* op 1: expand */
    return tlb_ret(st, &r, out);
}

static tl_status b_flatten(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    tl_tensor *r;
    return tlb_ret(tl_op_flatten(t, &r), &r, out);
}

static tl_status b_transpose(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int a0 = -2, a1 = -1;
    tl_status st = TL_OK;
    if (argc >= 3) {
        st = tlb_axis(c, argv, 1, &a0);
        if (st == TL_OK) st = tlb_axis(c, argv, 2, &a1);
    } else if (argc == 2) {
        return tl_fail(TL_ERR_ARG, "transpose: give two axes or none");
    }
    if (st != TL_OK) return st;
    if (t->n_dims < 2 && argc == 1)
        return tl_fail(TL_ERR_SHAPE, "transpose: needs at least 2 dims");
    tl_tensor *r;
    return tlb_ret(tl_op_transpose(t, a0, a1, &r), &r, out);
}

static tl_status b_permute(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int axes[TL_MAX_DIMS], n = 0;
    if (argc == 2 && argv[1].kind == TL_VAL_ARRAY) {
        const tl_array *a = argv[1].as.arr;
        if (a->len > TL_MAX_DIMS) return tl_fail(TL_ERR_ARG, "permute: too many axes");
        for (size_t i = 0; i < a->len; i++) {
            int64_t v;
            tl_status st = tl_arg_int(c, a->items, (int)i, &v);
            if (st != TL_OK) return st;
            axes[n++] = (int)v;
        }
    } else {
        if (argc - 1 > TL_MAX_DIMS) return tl_fail(TL_ERR_ARG, "permute: too many axes");
        for (int i = 1; i < argc; i++) {
            tl_status st = tlb_axis(c, argv, i, &axes[n++]);
            if (st != TL_OK) return st;
        }
    }
    tl_tensor *r;
    return tlb_ret(tl_op_permute(t, n, axes, &r), &r, out);
}

static tl_status b_squeeze(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int axis = 0;
    if (argc >= 2) {
        tl_status st = tlb_axis(c, argv, 1, &axis);
        if (st != TL_OK) return st;
    }
    tl_tensor *r;
    return tlb_ret(tl_op_squeeze(t, axis, argc < 2, &r), &r, out);
}

static tl_status b_unsqueeze(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int axis = 0;
    tl_status st = tlb_axis(c, argv, 1, &axis);
    if (st != TL_OK) return st;
    tl_tensor *r;
    return tlb_ret(tl_op_unsqueeze(t, axis, &r), &r, out);
}

/* concat(a, b[, dim]) or concat([a, b, ...][, dim]); dim defaults to 0 */
static tl_status b_concat(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *ts[64];
    int n = 0, axis = 0;
    tl_status st = TL_OK;
    int dim_arg;
    if (argv[0].kind == TL_VAL_ARRAY) {
        const tl_array *a = argv[0].as.arr;
        if (a->len == 0 || a->len > 64) return tl_fail(TL_ERR_ARG, "concat: give 1 to 64 tensors");
        for (size_t i = 0; st == TL_OK && i < a->len; i++) {
            st = tl_value_to_tensor(&a->items[i], &ts[n]);
            if (st == TL_OK) n++;
        }
        dim_arg = 1;
    } else {
        if (argc < 2)
            return tl_fail(TL_ERR_ARG, "concat: needs two tensors or an array of tensors");
        for (int i = 0; st == TL_OK && i < 2; i++) {
            st = tlb_tensor(c, argv, i, &ts[n]);
            if (st == TL_OK) n++;
        }
        dim_arg = 2;
    }
    if (st == TL_OK && argc > dim_arg) st = tlb_axis(c, argv, dim_arg, &axis);
    tl_tensor *r = NULL;
    if (st == TL_OK) st = tl_op_concat(n, (const tl_tensor *const *)ts, axis, &r);
    for (int i = 0; i < n; i++)
        tl_tensor_unref(ts[i]);
    return tlb_ret(st, &r, out);
}

tl_status tlb_parts_value(tl_status st, tl_tensor **parts, int n, tl_value *out) {
    if (st != TL_OK) return st;
    st = tl_value_array((size_t)n, out);
    int i = 0;
    for (; st == TL_OK && i < n; i++)
        st = tl_array_push(out->as.arr, tl_value_tensor(parts[i]));
    for (; i < n; i++)
        tl_tensor_unref(parts[i]);
    free(parts);
    if (st != TL_OK) tl_value_release(out);
    return st;
}

static tl_status b_split(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int64_t size;
    int axis = 0;
    tl_status st = tl_arg_int(c, argv, 1, &size);
    if (st == TL_OK && argc >= 3) st = tlb_axis(c, argv, 2, &axis);
    if (st != TL_OK) return st;
    tl_tensor **parts;
    int n;
    bool chunk = c->op == 1;
    st = chunk ? tl_op_chunk(t, size, axis, &parts, &n) : tl_op_split(t, size, axis, &parts, &n);
    return tlb_parts_value(st, parts, n, out);
}

/* slice(t, start, end) along axis 0; slice(t, row, c0, c1) = t[row, c0:c1] on 2-D */
static tl_status b_slice(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int64_t v[3];
    for (int i = 1; i < argc; i++) {
        tl_status st = tl_arg_int(c, argv, i, &v[i - 1]);
        if (st != TL_OK) return st;
    }
    tl_tensor *r = NULL;
    if (argc == 3) return tlb_ret(tl_op_slice(t, 0, v[0], v[1], 1, &r), &r, out);
    if (t->n_dims != 2) {
        char s[96];
        return tl_fail(TL_ERR_SHAPE, "slice(t, row, c0, c1) needs a 2-d tensor, got %s",
                       tl_tensor_shape_str(t, s, sizeof s));
    }
    tl_tensor *row;
    tl_status st = tl_op_select(t, 0, v[0], &row);
    if (st != TL_OK) return st;
    st = tl_op_slice(row, 0, v[1], v[2], 1, &r);
    tl_tensor_unref(row);
    return tlb_ret(st, &r, out);
}

/* narrow(t, axis, start, end[, step]) */
static tl_status b_narrow(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int axis = 0;
    int64_t a, b, step = 1;
    tl_status st = tlb_axis(c, argv, 1, &axis);
    if (st == TL_OK) st = tl_arg_int(c, argv, 2, &a);
    if (st == TL_OK) st = tl_arg_int(c, argv, 3, &b);
    if (st == TL_OK && argc >= 5) st = tl_arg_int(c, argv, 4, &step);
    if (st != TL_OK) return st;
    tl_tensor *r;
    return tlb_ret(tl_op_slice(t, axis, a, b, step, &r), &r, out);
}

/* select(t, axis, index) */
static tl_status b_select(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int axis = 0;
    int64_t i;
    tl_status st = tlb_axis(c, argv, 1, &axis);
    if (st == TL_OK) st = tl_arg_int(c, argv, 2, &i);
    if (st != TL_OK) return st;
    tl_tensor *r;
    return tlb_ret(tl_op_select(t, axis, i, &r), &r, out);
}

static tl_status b_slice_last(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int axis = 0;
    if (argc >= 2) {
        tl_status st = tlb_axis(c, argv, 1, &axis);
        if (st != TL_OK) return st;
    }
    tl_tensor *r;
    return tlb_ret(tl_op_select(t, axis, -1, &r), &r, out);
}

static tl_status b_gather(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    int axis = 0;
    tl_tensor *idx = NULL, *src = NULL, *r = NULL;
    tl_status st = tlb_axis(c, argv, 1, &axis);
    if (st == TL_OK) st = tlb_tensor(c, argv, 2, &idx);
    bool scatter = c->op == 1;
    if (st == TL_OK && scatter) {
        if (argc < 4)
            st = tl_fail(TL_ERR_ARG, "scatter(t, dim, idx, src) needs src");
        else
            st = tlb_tensor(c, argv, 3, &src);
    }
    if (st == TL_OK)
        st = scatter ? tl_op_scatter(t, axis, idx, src, &r) : tl_op_gather(t, axis, idx, &r);
    tl_tensor_unref(idx);
    tl_tensor_unref(src);
    return tlb_ret(st, &r, out);
}

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }
#define DEF_OP(NAME, MIN, MAX, FN, SIG, MASK, OP)                                                  \
    { NAME, MIN, MAX, FN, SIG, MASK, OP }

const tl_builtin_def tl_builtins_tensor_shape[] = {
    DEF("reshape", 2, 2, b_reshape, "reshape(t, shape) -> tensor", T_ONLY),
    DEF("broadcast_to", 2, 2, b_broadcast_to, "broadcast_to(t, shape) -> tensor", T_ONLY),
    DEF_OP("expand", 2, 2, b_broadcast_to, "expand(t, shape) -> tensor (broadcast view)", T_ONLY,
           1),
    DEF("flatten", 1, 1, b_flatten, "flatten(t) -> tensor", T_ONLY),
    DEF("transpose", 1, 3, b_transpose, "transpose(t[, axis0, axis1]) -> tensor", T_ONLY),
    DEF("permute", 2, -1, b_permute, "permute(t, axes) -> tensor", T_ONLY),
    DEF("squeeze", 1, 2, b_squeeze, "squeeze(t[, dim]) -> tensor", T_ONLY),
    DEF("unsqueeze", 2, 2, b_unsqueeze, "unsqueeze(t, dim) -> tensor", T_ONLY),
    DEF("concat", 1, 3, b_concat, "concat(a, b[, dim]) | concat([tensors][, dim]) -> tensor",
        TL_KIND_BIT(TL_VAL_TENSOR) | TL_KIND_BIT(TL_VAL_ARRAY)),
    DEF("split", 2, 3, b_split, "split(t, size[, dim]) -> [tensor]", T_ONLY),
    DEF_OP("chunk", 2, 3, b_split, "chunk(t, n[, dim]) -> [tensor]", T_ONLY, 1),
    DEF("slice", 3, 4, b_slice, "slice(t, start, end) | slice(t, row, c0, c1) -> tensor", T_ONLY),
    DEF("narrow", 4, 5, b_narrow, "narrow(t, dim, start, end[, step]) -> tensor", T_ONLY),
    DEF("select", 3, 3, b_select, "select(t, dim, index) -> tensor", T_ONLY),
    DEF("slice_last", 1, 2, b_slice_last, "slice_last(t[, dim]) -> tensor", T_ONLY),
    DEF("gather", 3, 3, b_gather, "gather(t, dim, idx) -> tensor", T_ONLY),
    DEF_OP("scatter", 4, 4, b_gather, "scatter(t, dim, idx, src) -> tensor", T_ONLY, 1),
    {0},
};
