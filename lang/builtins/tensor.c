/* lang/builtins/tensor.c -- the tensor builtins: creation, queries, conversion,
** arithmetic and math, reductions, matmul/einsum (docs/builtins.md); shape and
** view builtins are in tensor_shape.c.
** Each builtin converts its arguments and calls one runtime op (runtime/ops.h). */
#include "lang/builtins/tensor_args.h"

#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)

/* ---- argument helpers ------------------------------------------------------------ */

/* Walks a nested array whose first path fixed the rank: records the shape, then
** checks that every list at each depth has its length and that the numbers sit at
** depth rank only (a list where a number was expected, or the reverse, is ragged
** whichever comes first). */
static tl_status nested_shape(const tl_value *v, int depth, int rank, int64_t *shape, int *n_dims,
                              bool *any_float, bool *all_bool) {
    if (v->kind == TL_VAL_ARRAY) {
        if (depth >= TL_MAX_DIMS)
            return tl_fail(TL_ERR_SHAPE, "array literal nests deeper than %d levels", TL_MAX_DIMS);
        if (depth >= rank)
            return tl_fail(TL_ERR_SHAPE,
                           "array literal is ragged (a list where a number was expected)");
        const tl_array *a = v->as.arr;
        if (depth >= *n_dims) {
            *n_dims = depth + 1;
            shape[depth] = (int64_t)a->len;
        } else if (shape[depth] != (int64_t)a->len) {
            return tl_fail(TL_ERR_SHAPE,
                           "array literal is ragged: %zu elements where %lld were expected", a->len,
                           (long long)shape[depth]);
        }
        for (size_t i = 0; i < a->len; i++) {
            tl_status st =
                nested_shape(&a->items[i], depth + 1, rank, shape, n_dims, any_float, all_bool);
            if (st != TL_OK) return st;
        }
        return TL_OK;
    }
    if (v->kind != TL_VAL_INT && v->kind != TL_VAL_FLOAT && v->kind != TL_VAL_BOOL)
        return tl_fail(TL_ERR_TYPE, "array literal holds %s %s, not a number",
                       tl_value_type_article(v), tl_value_type_name(v));
    if (depth != rank)
        return tl_fail(TL_ERR_SHAPE,
                       "array literal is ragged (a number where a list was expected)");
    if (v->kind == TL_VAL_FLOAT) *any_float = true;
    if (v->kind != TL_VAL_BOOL) *all_bool = false;
    return TL_OK;
}

static void nested_fill(const tl_value *v, tl_tensor *t, int64_t *k) {
    if (v->kind == TL_VAL_ARRAY) {
        for (size_t i = 0; i < v->as.arr->len; i++)
            nested_fill(&v->as.arr->items[i], t, k);
        return;
    }
    char *p = (char *)tl_tensor_data(t);
    switch (t->dtype) {
    case TL_DTYPE_I64:
        ((int64_t *)p)[*k] = v->kind == TL_VAL_BOOL ? v->as.b : v->as.i;
        break;
    case TL_DTYPE_BOOL:
        ((uint8_t *)p)[*k] = v->as.b;
        break;
    default:
        ((float *)p)[*k] = (float)tl_value_as_double(v);
        break;
    }
    (*k)++;
}

tl_status tl_value_to_tensor(const tl_value *v, tl_tensor **out) {
    *out = NULL;
    switch (v->kind) {
    case TL_VAL_TENSOR:
        *out = tl_tensor_ref(v->as.tensor);
        return TL_OK;
    case TL_VAL_INT:
        return tl_tensor_scalar(TL_DTYPE_I64, (double)v->as.i, out);
    case TL_VAL_FLOAT:
        return tl_tensor_scalar(TL_DTYPE_F32, v->as.f, out);
    case TL_VAL_BOOL:
        return tl_tensor_scalar(TL_DTYPE_BOOL, v->as.b, out);
    case TL_VAL_ARRAY: {
        int64_t shape[TL_MAX_DIMS] = {0};
        int n_dims = 0;
        bool any_float = false, all_bool = true;
        /* the first path fixes the rank */
        const tl_value *p = v;
        while (p->kind == TL_VAL_ARRAY && n_dims < TL_MAX_DIMS) {
            shape[n_dims++] = (int64_t)p->as.arr->len;
            if (p->as.arr->len == 0) break;
            p = &p->as.arr->items[0];
        }
        int rank = n_dims;
        n_dims = 0;
        tl_status st = nested_shape(v, 0, rank, shape, &n_dims, &any_float, &all_bool);
        if (st != TL_OK) return st;
        if (n_dims < rank) n_dims = rank; /* empty innermost lists */
        tl_dtype dt = any_float                             ? TL_DTYPE_F32
                      : (all_bool && shape[n_dims - 1] > 0) ? TL_DTYPE_BOOL
                                                            : TL_DTYPE_I64;
        if (!any_float && n_dims > 0 && shape[n_dims - 1] == 0) dt = TL_DTYPE_F32;
        st = tl_tensor_new_shape(dt, n_dims, shape, out);
        if (st != TL_OK) return st;
        int64_t k = 0;
        nested_fill(v, *out, &k);
        return TL_OK;
    }
    default:
        return tl_fail(TL_ERR_TYPE, "expected a tensor, a number or an array, got %s",
                       tl_value_type_name(v));
    }
}

tl_status tlb_tensor(const tl_call *c, const tl_value *argv, int i, tl_tensor **out) {
    tl_status st = tl_value_to_tensor(&argv[i], out);
    if (st != TL_OK) tl_error_prefix("%s: argument %d", c->name, i + 1);
    return st;
}

tl_status tlb_axis(const tl_call *c, const tl_value *argv, int i, int *axis) {
    int64_t v;
    tl_status st = tl_arg_int(c, argv, i, &v);
    if (st != TL_OK) return st;
    if (v < -64 || v > 64)
        return tl_fail(TL_ERR_ARG, "%s: axis %lld is out of range", c->name, (long long)v);
    *axis = (int)v;
    return TL_OK;
}

tl_status tlb_ret(tl_status st, tl_tensor **t, tl_value *out) {
    if (st != TL_OK) {
        tl_tensor_unref(*t);
        *t = NULL;
        return st;
    }
    *out = tl_value_tensor(*t);
    return TL_OK;
}

tl_status tlb_scalar_value(const tl_tensor *t, tl_value *out) {
    double v;
    tl_status st = tl_tensor_get_f64(t, 0, &v);
    if (st != TL_OK) return st;
    if (t->dtype == TL_DTYPE_I64 || t->dtype == TL_DTYPE_I32) {
        *out = tl_value_int(t->dtype == TL_DTYPE_I64 ? *(const int64_t *)tl_tensor_data(t)
                                                     : (int64_t)v);
    } else if (t->dtype == TL_DTYPE_BOOL) {
        *out = tl_value_bool(v != 0);
    } else {
        *out = tl_value_float(v);
    }
    return TL_OK;
}

/* ---- queries ------------------------------------------------------------------------ */

static tl_status b_shape(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int64_t sh[TL_MAX_DIMS];
    tl_tensor_shape(t, sh);
    tl_status st = tl_value_array((size_t)t->n_dims, out);
    for (int i = 0; st == TL_OK && i < t->n_dims; i++)
        st = tl_array_push(out->as.arr, tl_value_int(sh[i]));
    if (st != TL_OK) tl_value_release(out);
    return st;
}

static tl_status b_dtype(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    return tl_value_cstring(tl_dtype_name(t->dtype), out);
}

static tl_status b_numel(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    *out = tl_value_int(tl_tensor_nelements(t));
    return TL_OK;
}

static tl_status b_ndim(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    *out = tl_value_int(t->n_dims);
    return TL_OK;
}

static tl_status b_item(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    if (tl_tensor_nelements(t) != 1) {
        char s[96];
        return tl_fail(TL_ERR_SHAPE, "item: tensor %s has %lld elements, not 1",
                       tl_tensor_shape_str(t, s, sizeof s), (long long)tl_tensor_nelements(t));
    }
    return tlb_scalar_value(t, out);
}

/* ---- creation ------------------------------------------------------------------------ */

static tl_status create_full(tl_call *c, const tl_value *argv, tl_dtype dt, double v,
                             tl_value *out) {
    int64_t sh[TL_MAX_DIMS];
    int n;
    tl_status st = tl_arg_shape(c, argv, 0, sh, &n);
    if (st != TL_OK) return st;
    tl_tensor *t;
    st = tl_op_full(dt, n, sh, v, &t);
    return tlb_ret(st, &t, out);
}

/* The creators' ops: the element type (the namespace: f16::zeros is F16),
** plus CREATE_NORMAL for randn. */
#define CREATE_NORMAL 0x100
static tl_dtype op_dtype(const tl_call *c) {
    return (tl_dtype)(c->op & 0xff);
}

static tl_status b_zeros(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return create_full(c, argv, op_dtype(c), 0.0, out);
}

static tl_status b_ones(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return create_full(c, argv, op_dtype(c), 1.0, out);
}

static tl_status b_full(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double v;
    tl_status st = tl_arg_double(c, argv, 1, &v);
    if (st != TL_OK) return st;
    return create_full(c, argv, op_dtype(c), v, out);
}

static tl_status b_like(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int64_t sh[TL_MAX_DIMS];
    tl_tensor_shape(t, sh);
    tl_dtype dt = tl_dtype_traits(t->dtype)->quantized ? TL_DTYPE_F32 : t->dtype;
    tl_tensor *r;
    tl_status st = tl_op_full(dt, t->n_dims, sh, (double)c->op, &r);
    return tlb_ret(st, &r, out);
}

static tl_status b_arange(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    double a = 0, b, step = 1;
    tl_status st = tl_arg_double(c, argv, 0, &b);
    if (st == TL_OK && argc >= 2) {
        a = b;
        st = tl_arg_double(c, argv, 1, &b);
    }
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &step);
    if (st != TL_OK) return st;
    tl_tensor *t;
    st = tl_op_arange(op_dtype(c), a, b, step, &t);
    return tlb_ret(st, &t, out);
}

static tl_status b_rand(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t sh[TL_MAX_DIMS];
    int n;
    tl_status st = tl_arg_shape(c, argv, 0, sh, &n);
    if (st != TL_OK) return st;
    tl_tensor *t;
    bool normal = (c->op & CREATE_NORMAL) != 0;
    st = normal ? tl_op_randn(op_dtype(c), n, sh, &t) : tl_op_rand(op_dtype(c), n, sh, &t);
    return tlb_ret(st, &t, out);
}

static tl_status b_tensor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *t;
    tl_status st = tlb_tensor(c, argv, 0, &t);
    if (st != TL_OK) return st;
    if (argc >= 2) {
        const char *name;
        tl_dtype dt;
        st = tl_arg_string(c, argv, 1, &name);
        if (st == TL_OK && !tl_dtype_from_name(name, &dt))
            st = tl_fail(TL_ERR_ARG, "%s: unknown dtype \"%s\"", c->name, name);
        if (st == TL_OK) {
            tl_tensor *r;
            st = tl_op_cast(t, dt, &r);
            tl_tensor_unref(t);
            t = st == TL_OK ? r : NULL;
        }
    }
    return tlb_ret(st, &t, out);
}

/* ---- conversion ---------------------------------------------------------------------- */

static tl_status b_to(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    tl_dtype dt;
    if (argc >= 2) {
        const char *name;
        tl_status st = tl_arg_string(c, argv, 1, &name);
        if (st != TL_OK) return st;
        if (!tl_dtype_from_name(name, &dt))
            return tl_fail(TL_ERR_ARG, "%s: unknown dtype \"%s\"", c->name, name);
    } else {
        dt = (tl_dtype)c->op; /* to_f16 and the like: the def's op is the type */
    }
    tl_tensor *r;
    tl_status st = tl_op_cast(t, dt, &r);
    return tlb_ret(st, &r, out);
}

static tl_status b_contiguous(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    tl_tensor *r;
    return tlb_ret(tl_op_contiguous(t, &r), &r, out);
}

/* ---- arithmetic ------------------------------------------------------------------------- */

/* tensor (op) tensor, tensor (op) number, number (op) tensor */
static tl_status binary_values(tl_binary_op op, const tl_value *a, const tl_value *b,
                               tl_value *out) {
    tl_tensor *r = NULL;
    tl_status st;
    if (a->kind == TL_VAL_TENSOR && tl_value_is_number(b)) {
        st = tl_op_binary_scalar(op, a->as.tensor, tl_value_as_double(b), false, &r);
    } else if (b->kind == TL_VAL_TENSOR && tl_value_is_number(a)) {
        st = tl_op_binary_scalar(op, b->as.tensor, tl_value_as_double(a), true, &r);
    } else {
        tl_tensor *ta, *tb;
        st = tl_value_to_tensor(a, &ta);
        if (st != TL_OK) return st;
        st = tl_value_to_tensor(b, &tb);
        if (st != TL_OK) {
            tl_tensor_unref(ta);
            return st;
        }
        st = tl_op_binary(op, ta, tb, &r);
        tl_tensor_unref(ta);
        tl_tensor_unref(tb);
    }
    return tlb_ret(st, &r, out);
}

/* The tensor forms of the binary ops: at least one argument is a tensor (the
** def's some_arg; add(2, 3) matches no def). */
static tl_status b_binary(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c, (void)argc;
    return binary_values((tl_binary_op)c->op, &argv[0], &argv[1], out);
}

static tl_status b_where(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t[3] = {NULL, NULL, NULL}, *r = NULL;
    tl_status st = TL_OK;
    for (int i = 0; st == TL_OK && i < 3; i++)
        st = tlb_tensor(c, argv, i, &t[i]);
    if (st == TL_OK) st = tl_op_where(t[0], t[1], t[2], &r);
    for (int i = 0; i < 3; i++)
        tl_tensor_unref(t[i]);
    return tlb_ret(st, &r, out);
}

static tl_status b_matmul(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *a = NULL, *b = NULL, *r = NULL;
    tl_status st = tlb_tensor(c, argv, 0, &a);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &b);
    if (st == TL_OK) st = tl_op_matmul(a, b, &r);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    return tlb_ret(st, &r, out);
}

/* outer(a, b): shape a.shape + b.shape, out[i.., j..] = a[i..] * b[j..] */
static tl_status b_outer(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *a = NULL, *b = NULL, *fa = NULL, *fb = NULL, *col = NULL, *prod = NULL, *r = NULL;
    tl_status st = tlb_tensor(c, argv, 0, &a);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &b);
    if (st == TL_OK && a->n_dims + b->n_dims > TL_MAX_DIMS)
        st = tl_fail(TL_ERR_SHAPE, "outer: the result would have more than %d dims", TL_MAX_DIMS);
    if (st == TL_OK) st = tl_op_flatten(a, &fa);
    if (st == TL_OK) st = tl_op_flatten(b, &fb);
    if (st == TL_OK) st = tl_op_unsqueeze(fa, 1, &col);
    if (st == TL_OK) st = tl_op_binary(TL_BIN_MUL, col, fb, &prod);
    if (st == TL_OK) {
        int64_t sh[TL_MAX_DIMS];
        tl_tensor_shape(a, sh);
        tl_tensor_shape(b, sh + a->n_dims);
        st = tl_op_reshape(prod, a->n_dims + b->n_dims, sh, &r);
    }
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(fa);
    tl_tensor_unref(fb);
    tl_tensor_unref(col);
    tl_tensor_unref(prod);
    return tlb_ret(st, &r, out);
}

static tl_status b_einsum(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *spec;
    tl_status st = tl_arg_string(c, argv, 0, &spec);
    if (st != TL_OK) return st;
    tl_tensor *ts[8];
    int n = 0;
    if (argc - 1 > 8) return tl_fail(TL_ERR_ARG, "einsum: at most 8 operands");
    for (int i = 1; st == TL_OK && i < argc; i++) {
        st = tlb_tensor(c, argv, i, &ts[n]);
        if (st == TL_OK) n++;
    }
    tl_tensor *r = NULL;
    if (st == TL_OK) st = tl_op_einsum(spec, n, (const tl_tensor *const *)ts, &r);
    for (int i = 0; i < n; i++)
        tl_tensor_unref(ts[i]);
    return tlb_ret(st, &r, out);
}

static tl_status b_unary(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    tl_tensor *r;
    return tlb_ret(tl_op_unary((tl_unary_op)c->op, t, &r), &r, out);
}

/* ---- reductions ---------------------------------------------------------------------------- */

static tl_status b_reduce(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    FIRST_TENSOR(t);
    tl_reduce_op op = (tl_reduce_op)c->op;
    /* max(t, u) / min(t, u) with a tensor or number second argument: elementwise */
    if ((op == TL_RED_MAX || op == TL_RED_MIN) && argc == 2 && argv[1].kind != TL_VAL_INT)
        return binary_values(op == TL_RED_MAX ? TL_BIN_MAXIMUM : TL_BIN_MINIMUM, &argv[0], &argv[1],
                             out);
    int axis = 0;
    bool keep = false;
    tl_status st = TL_OK;
    if (argc >= 2) st = tlb_axis(c, argv, 1, &axis);
    if (st == TL_OK && argc >= 3) st = tl_arg_bool(c, argv, 2, &keep);
    if (st != TL_OK) return st;
    tl_tensor *r;
    st = tl_op_reduce(op, t, axis, argc < 2, keep, &r);
    if (st != TL_OK) return st;
    if (argc < 2) { /* whole tensor: a number */
        st = tlb_scalar_value(r, out);
        tl_tensor_unref(r);
        return st;
    }
    *out = tl_value_tensor(r);
    return TL_OK;
}

/* topk(t, k) -> [values, indices] along the last axis */
static tl_status b_topk(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    int64_t k;
    tl_status st = tl_arg_int(c, argv, 1, &k);
    if (st != TL_OK) return st;
    tl_tensor *v, *ix;
    st = tl_op_topk(t, k, &v, &ix);
    if (st != TL_OK) return st;
    tl_tensor **parts = malloc(2 * sizeof *parts);
    if (!parts) {
        tl_tensor_unref(v);
        tl_tensor_unref(ix);
        return tl_fail(TL_ERR_NOMEM, "topk: out of memory");
    }
    parts[0] = v;
    parts[1] = ix;
    return tlb_parts_value(TL_OK, parts, 2, out);
}

static tl_status b_set_precision(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *mode;
    tl_status st = tl_arg_string(c, argv, 0, &mode);
    if (st != TL_OK) return st;
    if (strcmp(mode, "llama") == 0)
        tl_set_precision(TL_PRECISION_LLAMA);
    else if (strcmp(mode, "exact") == 0)
        tl_set_precision(TL_PRECISION_EXACT);
    else if (strcmp(mode, "llama_row") == 0)
        tl_set_precision(TL_PRECISION_LLAMA_ROW);
    else
        return tl_fail(TL_ERR_ARG,
                       "set_precision: \"%s\" is not \"llama\", \"llama_row\" or \"exact\"", mode);
    *out = TL_VOID;
    return TL_OK;
}

static tl_status b_precision(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    tl_precision p = tl_get_precision();
    return tl_value_cstring(p == TL_PRECISION_EXACT       ? "exact"
                            : p == TL_PRECISION_LLAMA_ROW ? "llama_row"
                                                          : "llama",
                            out);
}

/* ---- the table ------------------------------------------------------------------------------ */

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }
#define DEF_OP(NAME, MIN, MAX, FN, SIG, MASK, OP)                                                  \
    { NAME, MIN, MAX, FN, SIG, MASK, OP }
#define DEF_OP_SOME(NAME, MIN, MAX, FN, SIG, MASK, OP, SOME)                                       \
    { NAME, MIN, MAX, FN, SIG, MASK, OP, SOME }
#define CREATORS(NS, DT)                                                                           \
    DEF_OP(NS "zeros", 1, 1, b_zeros, NS "zeros(shape) -> tensor", 0, DT),                         \
        DEF_OP(NS "ones", 1, 1, b_ones, NS "ones(shape) -> tensor", 0, DT),                        \
        DEF_OP(NS "full", 2, 2, b_full, NS "full(shape, value) -> tensor", 0, DT),                 \
        DEF_OP(NS "arange", 1, 3, b_arange,                                                        \
               NS "arange(end) | arange(start, end[, step]) -> tensor", 0, DT),                    \
        DEF_OP(NS "rand", 1, 1, b_rand, NS "rand(shape) -> tensor (uniform [0, 1), seeded)", 0,    \
               DT),                                                                                \
        DEF_OP(NS "randn", 1, 1, b_rand, NS "randn(shape) -> tensor (standard normal, seeded)", 0, \
               DT | CREATE_NORMAL)
#define UNARY(NAME, OP) DEF_OP(NAME, 1, 1, b_unary, NAME "(t) -> tensor", T_ONLY, OP)
/* binary ops also take a number first (the evaluator calls them for `2 - t`) */
#define BINARY(NAME, OP)                                                                           \
    DEF_OP_SOME(NAME, 2, 2, b_binary, NAME "(a, b) -> tensor", T_OR_NUM, OP, T_ONLY)
#define T_OR_NUM                                                                                   \
    (T_ONLY | TL_KIND_BIT(TL_VAL_INT) | TL_KIND_BIT(TL_VAL_FLOAT) | TL_KIND_BIT(TL_VAL_BOOL))

const tl_builtin_def tl_builtins_tensor[] = {
    /* queries */
    DEF("shape", 1, 1, b_shape, "shape(t) -> [int]", T_ONLY),
    DEF("dtype", 1, 1, b_dtype, "dtype(t) -> string", T_ONLY),
    DEF("numel", 1, 1, b_numel, "numel(t) -> int", T_ONLY),
    DEF("ndim", 1, 1, b_ndim, "ndim(t) -> int", T_ONLY),
    DEF("item", 1, 1, b_item, "item(t) -> number (one-element tensor)", T_ONLY),
    /* creation */
    CREATORS("", TL_DTYPE_F32),
    CREATORS("f32::", TL_DTYPE_F32),
    CREATORS("f16::", TL_DTYPE_F16),
    CREATORS("bf16::", TL_DTYPE_BF16),
    DEF_OP("i64::zeros", 1, 1, b_zeros, "i64::zeros(shape) -> tensor", 0, TL_DTYPE_I64),
    DEF_OP("i64::arange", 1, 3, b_arange, "i64::arange(end) | (start, end[, step]) -> tensor", 0,
           TL_DTYPE_I64),
    DEF_OP("i32::zeros", 1, 1, b_zeros, "i32::zeros(shape) -> tensor", 0, TL_DTYPE_I32),
    DEF_OP("i32::arange", 1, 3, b_arange, "i32::arange(end) | (start, end[, step]) -> tensor", 0,
           TL_DTYPE_I32),
    DEF_OP("zeros_like", 1, 1, b_like, "zeros_like(t) -> tensor", T_ONLY, 0), /* op: the value */
    DEF_OP("ones_like", 1, 1, b_like, "ones_like(t) -> tensor", T_ONLY, 1),
    DEF("as_tensor", 1, 2, b_tensor, "as_tensor(array[, dtype]) -> tensor", 0),
    /* conversion */
    DEF_OP("to_f32", 1, 1, b_to, "to_f32(t) -> tensor", T_ONLY, TL_DTYPE_F32),
    DEF_OP("to_f16", 1, 1, b_to, "to_f16(t) -> tensor", T_ONLY, TL_DTYPE_F16),
    DEF_OP("to_bf16", 1, 1, b_to, "to_bf16(t) -> tensor", T_ONLY, TL_DTYPE_BF16),
    DEF_OP("to_i32", 1, 1, b_to, "to_i32(t) -> tensor", T_ONLY, TL_DTYPE_I32),
    DEF_OP("to_i64", 1, 1, b_to, "to_i64(t) -> tensor", T_ONLY, TL_DTYPE_I64),
    DEF("astype", 2, 2, b_to, "astype(t, dtype) -> tensor", T_ONLY),
    DEF("contiguous", 1, 1, b_contiguous, "contiguous(t) -> tensor", T_ONLY),
    /* shape and views */
    /* arithmetic */
    BINARY("add", TL_BIN_ADD),
    BINARY("sub", TL_BIN_SUB),
    BINARY("mul", TL_BIN_MUL),
    BINARY("div", TL_BIN_DIV),
    BINARY("mod", TL_BIN_MOD),
    BINARY("maximum", TL_BIN_MAXIMUM),
    BINARY("minimum", TL_BIN_MINIMUM),
    BINARY("eq", TL_BIN_EQ),
    BINARY("ne", TL_BIN_NE),
    BINARY("lt", TL_BIN_LT),
    BINARY("le", TL_BIN_LE),
    BINARY("gt", TL_BIN_GT),
    BINARY("ge", TL_BIN_GE),
    BINARY("logical_and", TL_BIN_AND),
    BINARY("logical_or", TL_BIN_OR),
    DEF_OP("pow", 2, 2, b_binary, "pow(t, e) -> tensor", T_ONLY, TL_BIN_POW),
    DEF("ifelse", 3, 3, b_where, "ifelse(cond, a, b) -> tensor", 0),
    DEF("matmul", 2, 2, b_matmul, "matmul(a, b) -> tensor", 0),
    DEF("outer", 2, 2, b_outer, "outer(a, b) -> tensor", T_OR_NUM),
    DEF("einsum", 2, -1, b_einsum, "einsum(spec, a, ...) -> tensor", 0),
    UNARY("neg", TL_UN_NEG),
    UNARY("abs", TL_UN_ABS),
    UNARY("exp", TL_UN_EXP),
    UNARY("log", TL_UN_LOG),
    UNARY("sqrt", TL_UN_SQRT),
    UNARY("rsqrt", TL_UN_RSQRT),
    UNARY("sin", TL_UN_SIN),
    UNARY("cos", TL_UN_COS),
    UNARY("tan", TL_UN_TAN),
    UNARY("tanh", TL_UN_TANH),
    UNARY("floor", TL_UN_FLOOR),
    UNARY("ceil", TL_UN_CEIL),
    UNARY("round", TL_UN_ROUND),
    UNARY("square", TL_UN_SQUARE),
    UNARY("sign", TL_UN_SIGN),
    UNARY("logical_not", TL_UN_NOT),
    /* reductions */
    DEF_OP("sum", 1, 3, b_reduce, "sum(t[, dim[, keepdim]]) -> number | tensor", T_ONLY,
           TL_RED_SUM),
    DEF_OP("mean", 1, 3, b_reduce, "mean(t[, dim[, keepdim]]) -> number | tensor", T_ONLY,
           TL_RED_MEAN),
    DEF_OP("max", 1, 3, b_reduce, "max(t[, dim[, keepdim]]) | max(t, u) -> number | tensor", T_ONLY,
           TL_RED_MAX),
    DEF_OP("min", 1, 3, b_reduce, "min(t[, dim[, keepdim]]) | min(t, u) -> number | tensor", T_ONLY,
           TL_RED_MIN),
    DEF_OP("argmax", 1, 3, b_reduce, "argmax(t[, dim[, keepdim]]) -> int | tensor", T_ONLY,
           TL_RED_ARGMAX),
    DEF_OP("argmin", 1, 3, b_reduce, "argmin(t[, dim[, keepdim]]) -> int | tensor", T_ONLY,
           TL_RED_ARGMIN),
    DEF("topk", 2, 2, b_topk, "topk(t, k) -> [values, indices]", T_ONLY),
    /* settings */
    DEF("set_precision", 1, 1, b_set_precision,
        "set_precision(\"llama\" | \"llama_row\" | \"exact\")", 0),
    DEF("precision", 0, 0, b_precision, "precision() -> string", 0),
    {0},
};
