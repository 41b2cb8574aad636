/* lang/eval_expr.c -- expressions: literals, names, operators, casts, and the
** dispatch.  Calls are in eval_call.c, fields and indexing in eval_index.c, struct
** literals and match in eval_match.c. */
#include "lang/display.h"
#include "lang/builtins/tensor_args.h"
#include "lang/eval_internal.h"
#include "lang/autograd.h"
#include "lang/eval_logic.h"
#include "lang/suggest.h"
#include "runtime/arith.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tl_flow tl_eval_call(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_method(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_assoc(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_field(tl_interp *I, const tl_node *n, tl_value *out);     /* eval_index.c */
tl_flow tl_eval_index(tl_interp *I, const tl_node *n, tl_value *out);     /* eval_index.c */
tl_flow tl_eval_structlit(tl_interp *I, const tl_node *n, tl_value *out); /* eval_match.c */
tl_flow tl_eval_match(tl_interp *I, const tl_node *n, tl_value *out);     /* eval_match.c */

/* equality and cycle checks: lang/value_walk.c */

/* ------------------------------------------------------------------ names, arrays */

static tl_flow eval_ident(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_var *v = tl_scope_lookup(I, n->name);
    if (v) {
        *out = tl_value_retain(v->v);
        return TL_FLOW_OK;
    }
    const tl_node *fn = tl_find_fn_at(I, n, n->name);
    if (fn) {
        tl_function *f = calloc(1, sizeof *f);
        if (!f) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        f->refcount = 1;
        f->decl = fn;
        *out = (tl_value){.kind = TL_VAL_FUNC, .as.fn = f};
        return TL_FLOW_OK;
    }
    const tl_builtin_def *b = tl_builtin_find(n->name);
    if (b) {
        *out = (tl_value){.kind = TL_VAL_BUILTIN, .as.builtin = b};
        return TL_FLOW_OK;
    }
    if (I->logic && tl_logic_find_relation(I->logic, n->name) >= 0)
        return tl_logic_relation_value(I, n, out); /* a relation as a 0/1 tensor */
    const char *hint = tl_suggest_name(I, n->name);
    if (hint)
        return tl_err_at(I, n, TL_ERR_ARG, "undefined variable '%s' (did you mean '%s'?)", n->name,
                         hint);
    return tl_err_at(I, n, TL_ERR_ARG, "undefined variable '%s'", n->name);
}

/* An array literal.  Nested literals are evaluated as plain arrays first, so the
** outermost one turns the whole rectangle into one tensor (any depth); with
** tensorize false (a tensor declaration's initializer) it stays an array. */
tl_flow tl_eval_array_literal(tl_interp *I, const tl_node *n, bool tensorize, tl_value *out) {
    tl_value arr;
    size_t len = tl_node_list_len(n->a);
    tl_status st = tl_value_array(len, &arr);
    if (st != TL_OK) return tl_err_status(I, n, st);
    bool nested = false;
    for (const tl_node *e = n->a; e; e = e->next) {
        tl_value v;
        tl_flow fl =
            e->kind == TL_N_ARRAY ? tl_eval_array_literal(I, e, false, &v) : tl_eval_expr(I, e, &v);
        if (fl != TL_FLOW_OK) {
            tl_value_release(&arr);
            return fl;
        }
        if (v.kind == TL_VAL_ARRAY) nested = true;
        tl_array_push(arr.as.arr, v); /* capacity reserved: cannot fail */
    }
    if (nested && tensorize) { /* a rectangular nested array of numbers becomes an f32 tensor */
        tl_value t;
        bool all_arrays = true;
        for (size_t i = 0; i < arr.as.arr->len; i++)
            if (arr.as.arr->items[i].kind != TL_VAL_ARRAY) all_arrays = false;
        if (all_arrays && tl_array_to_tensor(&arr, TL_DTYPE_F32, &t, &st)) {
            tl_value_release(&arr);
            *out = t;
            return TL_FLOW_OK;
        }
        if (st != TL_OK) {
            tl_value_release(&arr);
            return tl_err_status(I, n, st);
        }
    }
    *out = arr;
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ operators */

static const char *tensor_op_builtin(tl_binop op) {
    switch (op) {
    case TL_OP_ADD:
        return "add";
    case TL_OP_SUB:
        return "sub";
    case TL_OP_MUL:
        return "mul";
    case TL_OP_HADAMARD:
        return "mul";
    case TL_OP_DIV:
        return "div";
    case TL_OP_MATMUL:
        return "matmul";
    case TL_OP_POW:
        return "pow";
    case TL_OP_TENSORPROD:
        return "outer";
    case TL_OP_REM:
        return "mod";
    case TL_OP_EQ:
        return "eq";
    case TL_OP_NE:
        return "ne";
    case TL_OP_LT:
        return "lt";
    case TL_OP_LE:
        return "le";
    case TL_OP_GT:
        return "gt";
    case TL_OP_GE:
        return "ge";
    default:
        return NULL;
    }
}

static tl_flow tensor_binop(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                            const tl_value *b, tl_value *out) {
    const char *name = tensor_op_builtin(op);
    if (!name)
        return tl_err_at(I, n, TL_ERR_TYPE, "operator '%s' is not defined for %s and %s",
                         tl_op_symbol(op), tl_value_type_name(a), tl_value_type_name(b));
    if (op == TL_OP_POW && tl_value_is_number(a) && b->kind == TL_VAL_TENSOR) {
        /* `2.0 ** t`: the tensor pow builtin takes the tensor first */
        if (b->as.tensor->requires_grad && tl_ag_enabled())
            return tl_err_at(I, n, TL_ERR_UNSUPPORTED,
                             "number ** tensor has no gradient yet (write exp(t * log(number)))");
        tl_tensor *r = NULL;
        tl_status st =
            tl_op_binary_scalar(TL_BIN_POW, b->as.tensor, tl_value_as_double(a), true, &r);
        if (st != TL_OK) return tl_err_status(I, n, st);
        *out = tl_value_tensor(r);
        return TL_FLOW_OK;
    }
    tl_value argv[2] = {*a, *b};
    const tl_builtin_def *def = tl_builtin_resolve(name, 2, argv);
    if (!def && (op == TL_OP_ADD || op == TL_OP_MUL || op == TL_OP_HADAMARD)) {
        argv[0] = *b;
        argv[1] = *a;
        def = tl_builtin_resolve(name, 2, argv);
    }
    if (!def)
        return tl_err_at(
            I, n, TL_ERR_TYPE,
            "operator '%s' is not available for %s and %s (no builtin '%s' accepts them)",
            tl_op_symbol(op), tl_value_type_name(a), tl_value_type_name(b), name);
    tl_clear_error();
    tl_status st = tl_builtin_call(def, I, 2, argv, out);
    if (st != TL_OK) {
        tl_value_release(out);
        return tl_err_status(I, n, st);
    }
    return TL_FLOW_OK;
}

/* int ** int: exact by squaring (wrapping) for e >= 0, a float for e < 0. */
static tl_value int_pow(int64_t x, int64_t y) {
    if (y < 0) return tl_value_float(pow((double)x, (double)y));
    int64_t r = 1, base = x;
    for (int64_t e = y; e > 0; e >>= 1) {
        if (e & 1) r = tl_i64_mul(r, base);
        base = tl_i64_mul(base, base);
    }
    return tl_value_int(r);
}
static tl_value float_pow(double x, double y) {
    return tl_value_float(pow(x, y));
}

/* The arithmetic of two ints or two floats, written once over the type T
** (runtime/arith.h: i64 wraps and floor-divides, f64 is IEEE): VALUE makes
** the result, INT_DIV checks for a zero divisor, POW is the type's `**`. */
#define SCALAR_ARITH(NAME, T, CT, VALUE, INT_DIV, POW, KIND)                                       \
    static tl_flow NAME(tl_interp *I, const tl_node *n, tl_binop op, CT x, CT y, tl_value *out) {  \
        switch (op) {                                                                              \
        case TL_OP_ADD:                                                                            \
            *out = VALUE(tl_##T##_add(x, y));                                                      \
            return TL_FLOW_OK;                                                                     \
        case TL_OP_SUB:                                                                            \
            *out = VALUE(tl_##T##_sub(x, y));                                                      \
            return TL_FLOW_OK;                                                                     \
        case TL_OP_MUL:                                                                            \
        case TL_OP_HADAMARD:                                                                       \
            *out = VALUE(tl_##T##_mul(x, y));                                                      \
            return TL_FLOW_OK;                                                                     \
        case TL_OP_DIV:                                                                            \
        case TL_OP_REM:                                                                            \
            if (INT_DIV && y == 0) return tl_err_at(I, n, TL_ERR_ARG, "integer division by zero"); \
            /* floor division, remainder with the divisor's sign (runtime/arith.h) */              \
            *out = VALUE(op == TL_OP_DIV ? tl_##T##_div(x, y) : tl_##T##_floormod(x, y));          \
            return TL_FLOW_OK;                                                                     \
        case TL_OP_POW:                                                                            \
            *out = POW(x, y);                                                                      \
            return TL_FLOW_OK;                                                                     \
        default:                                                                                   \
            return tl_err_at(I, n, TL_ERR_TYPE, "operator '%s' is not defined for " KIND,          \
                             tl_op_symbol(op));                                                    \
        }                                                                                          \
    }
SCALAR_ARITH(int_arith, i64, int64_t, tl_value_int, true, int_pow, "ints")
SCALAR_ARITH(float_arith, f64, double, tl_value_float, false, float_pow, "floats")
#undef SCALAR_ARITH

static int compare_strings(const tl_string *a, const tl_string *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static tl_flow compare(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                       const tl_value *b, tl_value *out) {
    if (op == TL_OP_EQ || op == TL_OP_NE) {
        bool eq;
        tl_status st = tl_values_equal_checked(a, b, &eq);
        if (st != TL_OK) return tl_err_status(I, n, st);
        *out = tl_value_bool(op == TL_OP_EQ ? eq : !eq);
        return TL_FLOW_OK;
    }
    int c;
    if (tl_value_is_number(a) && tl_value_is_number(b)) {
        if (op == TL_OP_APPROX) {
            double x = tl_value_as_double(a), y = tl_value_as_double(b);
            double scale = fmax(1.0, fmax(fabs(x), fabs(y)));
            *out = tl_value_bool(fabs(x - y) <= 1e-6 * scale);
            return TL_FLOW_OK;
        }
        if (a->kind == TL_VAL_INT && b->kind == TL_VAL_INT) {
            c = a->as.i < b->as.i ? -1 : a->as.i > b->as.i;
        } else {
            double x = tl_value_as_double(a), y = tl_value_as_double(b);
            if (isnan(x) || isnan(y)) {
                *out = tl_value_bool(false);
                return TL_FLOW_OK;
            }
            c = x < y ? -1 : x > y;
        }
    } else if (a->kind == TL_VAL_STRING && b->kind == TL_VAL_STRING && op != TL_OP_APPROX) {
        c = compare_strings(a->as.str, b->as.str);
    } else {
        return tl_err_at(I, n, TL_ERR_TYPE, "cannot compare %s and %s with '%s'",
                         tl_value_type_name(a), tl_value_type_name(b), tl_op_symbol(op));
    }
    bool r = op == TL_OP_LT ? c < 0 : op == TL_OP_LE ? c <= 0 : op == TL_OP_GT ? c > 0 : c >= 0;
    *out = tl_value_bool(r);
    return TL_FLOW_OK;
}

/* Relative tolerance of `a ≈ b` on tensors (elementwise, then all): |x - y| <=
** TENSOR_APPROX_TOL * max(1, |x|, |y|).  Numbers use 1e-6 in double (compare()). */
#define TENSOR_APPROX_TOL 1e-5

static tl_status approx_tensors(const tl_value *a, const tl_value *b, bool *eq) {
    tl_tensor *ta = NULL, *tb = NULL, *xa = NULL, *xb = NULL, *d = NULL, *aa = NULL, *ab = NULL,
              *s = NULL, *dc = NULL, *sc = NULL;
    tl_status st = tl_value_to_tensor(a, &ta);
    if (st == TL_OK) st = tl_value_to_tensor(b, &tb);
    if (st == TL_OK) st = tl_op_cast(ta, TL_DTYPE_F32, &xa);
    if (st == TL_OK) st = tl_op_cast(tb, TL_DTYPE_F32, &xb);
    if (st == TL_OK) st = tl_op_binary(TL_BIN_SUB, xa, xb, &d);
    if (st == TL_OK) st = tl_op_unary(TL_UN_ABS, xa, &aa);
    if (st == TL_OK) st = tl_op_unary(TL_UN_ABS, xb, &ab);
    if (st == TL_OK) st = tl_op_binary(TL_BIN_MAXIMUM, aa, ab, &s);
    if (st == TL_OK) st = tl_op_contiguous(d, &dc);
    if (st == TL_OK) st = tl_op_contiguous(s, &sc);
    if (st == TL_OK) {
        const float *pd = tl_tensor_data(dc), *ps = tl_tensor_data(sc);
        int64_t n = tl_tensor_nelements(dc);
        bool all = tl_tensor_nelements(sc) == n;
        for (int64_t i = 0; all && i < n; i++) {
            double scale = ps[i] > 1.0f ? ps[i] : 1.0;
            all = fabs((double)pd[i]) <= TENSOR_APPROX_TOL * scale; /* NaN: false */
        }
        *eq = all;
    }
    tl_tensor *all_t[] = {ta, tb, xa, xb, d, aa, ab, s, dc, sc};
    for (size_t i = 0; i < sizeof all_t / sizeof all_t[0]; i++)
        tl_tensor_unref(all_t[i]);
    return st;
}

static bool tensor_operand(const tl_value *v) {
    return v->kind == TL_VAL_TENSOR || v->kind == TL_VAL_ARRAY || tl_value_is_number(v);
}

/* "=" * 70 */
static tl_flow repeat_string(tl_interp *I, const tl_node *n, const tl_value *s, int64_t count,
                             tl_value *out) {
    size_t len = s->as.str->len;
    if (count < 0) return tl_err_at(I, n, TL_ERR_ARG, "a string repeat count must be >= 0");
    if (len && (uint64_t)count > (1u << 30) / len)
        return tl_err_at(I, n, TL_ERR_RANGE, "a repeated string would be over 1 GiB");
    char *buf = malloc(len * (size_t)count + 1);
    if (!buf) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < count; i++)
        memcpy(buf + len * (size_t)i, s->as.str->data, len);
    tl_status st = tl_value_string(buf, len * (size_t)count, out);
    free(buf);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}

/* An arithmetic operator with a numeric array operand (and the other a number or
** array): both as tensors.  False (nothing done) when an operand is not numeric. */
static bool array_binop(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                        const tl_value *b, tl_value *out, tl_flow *fl) {
    tl_value v[2] = {*a, *b}, conv[2] = {TL_VOID, TL_VOID};
    for (int k = 0; k < 2; k++) {
        if (v[k].kind == TL_VAL_ARRAY) {
            tl_tensor *t;
            if (tl_value_to_tensor(&v[k], &t) != TL_OK) {
                tl_clear_error();
                tl_value_release(&conv[0]);
                return false;
            }
            conv[k] = v[k] = tl_value_tensor(t);
        } else if (!tl_value_is_number(&v[k])) {
            tl_value_release(&conv[0]);
            return false;
        }
    }
    *fl = tensor_binop(I, n, op, &v[0], &v[1], out);
    tl_value_release(&conv[0]);
    tl_value_release(&conv[1]);
    return true;
}

/* tensor op array with a 16-bit float tensor: the array converted to that dtype.
** False (nothing done) for other dtypes or a non-numeric array. */
static bool array_like_tensor(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                              const tl_value *b, tl_value *out, tl_flow *fl) {
    const tl_value *tv = a->kind == TL_VAL_TENSOR ? a : b, *av = a->kind == TL_VAL_TENSOR ? b : a;
    tl_dtype dt = tv->as.tensor->dtype;
    if (dt != TL_DTYPE_F16 && dt != TL_DTYPE_BF16) return false;
    tl_tensor *t, *c = NULL;
    if (tl_value_to_tensor(av, &t) != TL_OK) {
        tl_clear_error();
        return false;
    }
    tl_status st = tl_op_cast(t, dt, &c);
    tl_tensor_unref(t);
    if (st != TL_OK) {
        tl_clear_error();
        return false;
    }
    tl_value cv = tl_value_tensor(c);
    *fl = a->kind == TL_VAL_TENSOR ? tensor_binop(I, n, op, a, &cv, out)
                                   : tensor_binop(I, n, op, &cv, b, out);
    tl_value_release(&cv);
    return true;
}

static tl_flow binop(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                     const tl_value *b, tl_value *out) {
    bool has_tensor = a->kind == TL_VAL_TENSOR || b->kind == TL_VAL_TENSOR;
    /* `==`/`!=` compare whole values (one bool) unless one side is a number: `t == 2.0` is
    ** elementwise, like the ordering operators on tensors */
    bool whole_eq =
        (op == TL_OP_EQ || op == TL_OP_NE) && !tl_value_is_number(a) && !tl_value_is_number(b);
    if (op >= TL_OP_EQ && op <= TL_OP_APPROX && has_tensor && !whole_eq && tensor_operand(a) &&
        tensor_operand(b)) {
        if (op != TL_OP_APPROX) return tensor_binop(I, n, op, a, b, out);
        bool eq = false;
        tl_status st = approx_tensors(a, b, &eq);
        if (st != TL_OK) return tl_err_status(I, n, st);
        *out = tl_value_bool(eq);
        return TL_FLOW_OK;
    }
    if (op >= TL_OP_EQ && op <= TL_OP_APPROX) return compare(I, n, op, a, b, out);
    if ((a->kind == TL_VAL_TENSOR && b->kind == TL_VAL_ARRAY) ||
        (a->kind == TL_VAL_ARRAY && b->kind == TL_VAL_TENSOR)) {
        /* f16 t + [1.0] stays f16: the literal takes a float tensor's dtype, as a number does */
        tl_flow fl;
        if (array_like_tensor(I, n, op, a, b, out, &fl)) return fl;
    }
    if (a->kind == TL_VAL_TENSOR || b->kind == TL_VAL_TENSOR)
        return tensor_binop(I, n, op, a, b, out);
    if ((a->kind == TL_VAL_ARRAY || b->kind == TL_VAL_ARRAY) &&
        !(op == TL_OP_ADD && a->kind == TL_VAL_ARRAY && b->kind == TL_VAL_ARRAY)) {
        /* numeric arrays are tensors in arithmetic: [1.0, 2.0] * 2.0 */
        tl_flow fl;
        if (array_binop(I, n, op, a, b, out, &fl)) return fl;
    }
    if (op == TL_OP_MUL && ((a->kind == TL_VAL_STRING && b->kind == TL_VAL_INT) ||
                            (a->kind == TL_VAL_INT && b->kind == TL_VAL_STRING)))
        return repeat_string(I, n, a->kind == TL_VAL_STRING ? a : b,
                             a->kind == TL_VAL_INT ? a->as.i : b->as.i, out);
    if (a->kind == TL_VAL_INT && b->kind == TL_VAL_INT)
        return int_arith(I, n, op, a->as.i, b->as.i, out);
    if (tl_value_is_number(a) && tl_value_is_number(b))
        return float_arith(I, n, op, tl_value_as_double(a), tl_value_as_double(b), out);
    if (op == TL_OP_ADD && a->kind == TL_VAL_STRING && b->kind == TL_VAL_STRING) {
        size_t len = a->as.str->len + b->as.str->len;
        if (len > tl_value_max_string())
            return tl_err_at(I, n, TL_ERR_NOMEM,
                             "a string of %zu bytes is too long (the limit is %zu)", len,
                             tl_value_max_string());
        char *buf = malloc(len + 1);
        if (!buf) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        memcpy(buf, a->as.str->data, a->as.str->len);
        memcpy(buf + a->as.str->len, b->as.str->data, b->as.str->len);
        tl_status st = tl_value_string(buf, len, out);
        free(buf);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
    }
    if (op == TL_OP_ADD && a->kind == TL_VAL_ARRAY && b->kind == TL_VAL_ARRAY) {
        tl_status st = tl_value_array(a->as.arr->len + b->as.arr->len, out);
        if (st != TL_OK) return tl_err_status(I, n, st);
        for (size_t i = 0; i < a->as.arr->len; i++)
            tl_array_push(out->as.arr, tl_value_retain(a->as.arr->items[i]));
        for (size_t i = 0; i < b->as.arr->len; i++)
            tl_array_push(out->as.arr, tl_value_retain(b->as.arr->items[i]));
        return TL_FLOW_OK;
    }
    return tl_err_at(I, n, TL_ERR_TYPE, "operator '%s' is not defined for %s and %s",
                     tl_op_symbol(op), tl_value_type_name(a), tl_value_type_name(b));
}

/* ---- shape patterns: shape(e) == [?, n, 64] (docs/language.md) ---- */

static bool is_shape_pattern(const tl_node *call, const tl_node *arr) {
    return call->kind == TL_N_CALL && call->a->kind == TL_N_IDENT &&
           strcmp(call->a->name, "shape") == 0 && arr->kind == TL_N_ARRAY;
}

/* Matches the dims of shape(...) against the pattern elements: `?` matches any size, an
** identifier matches any size but the same identifier the same size each time, anything
** else is evaluated and must equal the size.  A different rank does not match. */
static tl_flow match_shape_pattern(tl_interp *I, const tl_node *call, const tl_node *pat,
                                   bool *match) {
    tl_value sv;
    tl_flow fl = tl_eval_expr(I, call, &sv);
    if (fl != TL_FLOW_OK) return fl;
    if (sv.kind != TL_VAL_ARRAY) {
        fl = tl_err_at(I, call, TL_ERR_TYPE,
                       "a shape pattern needs shape(...) to give an array, got %s",
                       tl_value_type_name(&sv));
        tl_value_release(&sv);
        return fl;
    }
    const tl_array *dims = sv.as.arr;
    size_t n_pat = 0;
    for (const tl_node *e = pat->a; e; e = e->next)
        n_pat++;
    *match = n_pat == dims->len;
    size_t i = 0;
    for (const tl_node *e = pat->a; *match && e; e = e->next, i++) {
        const tl_value *d = &dims->items[i];
        if (e->kind == TL_N_WILDCARD) continue;
        if (e->kind == TL_N_IDENT) { /* consistent with an earlier use of the same name */
            size_t j = 0;
            for (const tl_node *f = pat->a; f != e; f = f->next, j++)
                if (f->kind == TL_N_IDENT && strcmp(f->name, e->name) == 0) {
                    *match = tl_values_equal(&dims->items[j], d);
                    break;
                }
            continue;
        }
        tl_value want;
        fl = tl_eval_expr(I, e, &want);
        if (fl != TL_FLOW_OK) break;
        if (!tl_value_is_number(&want)) {
            fl = tl_err_at(I, e, TL_ERR_TYPE,
                           "a shape pattern element must be a size, '?' or a name, got %s",
                           tl_value_type_name(&want));
            tl_value_release(&want);
            break;
        }
        *match = tl_value_is_number(d) && tl_value_as_double(d) == tl_value_as_double(&want);
        tl_value_release(&want);
    }
    tl_value_release(&sv);
    return fl;
}

static tl_flow eval_binary(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_binop op = (tl_binop)n->op;
    tl_value a, b = TL_VOID;
    if ((op == TL_OP_EQ || op == TL_OP_NE) &&
        (is_shape_pattern(n->a, n->b) || is_shape_pattern(n->b, n->a))) {
        bool swap = !is_shape_pattern(n->a, n->b), match = false;
        tl_flow pf = match_shape_pattern(I, swap ? n->b : n->a, swap ? n->a : n->b, &match);
        if (pf == TL_FLOW_OK) *out = tl_value_bool(op == TL_OP_EQ ? match : !match);
        return pf;
    }
    tl_flow fl = tl_eval_expr(I, n->a, &a);
    if (fl != TL_FLOW_OK) return fl;
    if (op == TL_OP_AND || op == TL_OP_OR) {
        if (a.kind != TL_VAL_BOOL) {
            fl = tl_err_at(I, n->a, TL_ERR_TYPE, "'%s' needs bools, got %s", tl_op_symbol(op),
                           tl_value_type_name(&a));
            tl_value_release(&a);
            return fl;
        }
        if ((op == TL_OP_AND) != a.as.b) { /* short circuit */
            *out = a;
            return TL_FLOW_OK;
        }
        fl = tl_eval_expr(I, n->b, &b);
        if (fl != TL_FLOW_OK) return fl;
        if (b.kind != TL_VAL_BOOL) {
            fl = tl_err_at(I, n->b, TL_ERR_TYPE, "'%s' needs bools, got %s", tl_op_symbol(op),
                           tl_value_type_name(&b));
            tl_value_release(&b);
            return fl;
        }
        *out = b;
        return TL_FLOW_OK;
    }
    fl = tl_eval_expr(I, n->b, &b);
    if (fl == TL_FLOW_OK) fl = binop(I, n, op, &a, &b, out);
    tl_value_release(&a);
    tl_value_release(&b);
    return fl;
}

static tl_flow eval_unary(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value a;
    tl_flow fl = tl_eval_expr(I, n->a, &a);
    if (fl != TL_FLOW_OK) return fl;
    if (n->op == TL_OP_NOT && a.kind == TL_VAL_BOOL) {
        *out = tl_value_bool(!a.as.b);
        return TL_FLOW_OK;
    } else if (n->op == TL_OP_NOT && a.kind != TL_VAL_TENSOR) {
        /* an error below */
    } else if (a.kind == TL_VAL_INT) {
        *out = tl_value_int(tl_i64_sub(0, a.as.i));
        return TL_FLOW_OK;
    } else if (a.kind == TL_VAL_FLOAT) {
        *out = tl_value_float(-a.as.f);
        return TL_FLOW_OK;
    } else if (a.kind == TL_VAL_TENSOR) {
        const tl_builtin_def *def =
            tl_builtin_resolve(n->op == TL_OP_NOT ? "logical_not" : "neg", 1, &a);
        if (def) {
            tl_clear_error();
            tl_status st = tl_builtin_call(def, I, 1, &a, out);
            tl_value_release(&a);
            if (st != TL_OK) {
                tl_value_release(out);
                return tl_err_status(I, n, st);
            }
            return TL_FLOW_OK;
        }
    }
    fl = tl_err_at(I, n, TL_ERR_TYPE, "unary '%s' is not defined for %s",
                   tl_op_symbol((tl_binop)n->op), tl_value_type_name(&a));
    tl_value_release(&a);
    return fl;
}

static tl_flow eval_cast(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value a;
    tl_flow fl = tl_eval_expr(I, n->a, &a);
    if (fl != TL_FLOW_OK) return fl;
    const char *t = n->name;
    bool to_int = !strcmp(t, "int") || !strcmp(t, "i64") || !strcmp(t, "int64");
    bool to_i32 = !strcmp(t, "i32") || !strcmp(t, "int32");
    bool to_float = !strcmp(t, "float") || !strcmp(t, "f64");
    bool to_f32 = !strcmp(t, "f32") || !strcmp(t, "float32");
    bool to_bool = !strcmp(t, "bool");
    if (a.kind == TL_VAL_TENSOR && (to_f32 || !strcmp(t, "f16") || !strcmp(t, "float16"))) {
        const char *name = to_f32 ? "to_f32" : "to_f16";
        const tl_builtin_def *def = tl_builtin_resolve(name, 1, &a);
        if (!def) {
            fl = tl_err_at(I, n, TL_ERR_UNSUPPORTED, "tensor casts need the builtin %s", name);
        } else {
            tl_clear_error();
            tl_status st = tl_builtin_call(def, I, 1, &a, out);
            if (st != TL_OK) {
                tl_value_release(out);
                fl = tl_err_status(I, n, st);
            }
        }
        tl_value_release(&a);
        return fl;
    }
    if (!to_int && !to_i32 && !to_float && !to_f32 && !to_bool) {
        tl_value_release(&a);
        return tl_err_at(I, n, TL_ERR_TYPE,
                         "unknown cast target '%s' (use int, i32, i64, float, f32, f64 or bool)",
                         t);
    }
    if (a.kind != TL_VAL_INT && a.kind != TL_VAL_FLOAT && a.kind != TL_VAL_BOOL) {
        fl = tl_err_at(I, n, TL_ERR_TYPE, "cannot cast %s to %s", tl_value_type_name(&a), t);
        tl_value_release(&a);
        return fl;
    }
    if (to_bool) {
        *out = tl_value_bool(tl_value_as_double(&a) != 0);
    } else if (to_float || to_f32) {
        double d = tl_value_as_double(&a);
        *out = tl_value_float(to_f32 ? (double)(float)d : d);
    } else {
        int64_t i;
        if (a.kind == TL_VAL_FLOAT) { /* truncate, saturate, NaN -> 0 (Rust `as`) */
            double d = trunc(a.as.f);
            double lo = to_i32 ? -2147483648.0 : -9223372036854775808.0;
            double hi = to_i32 ? 2147483647.0 : 9223372036854775807.0;
            i = isnan(d)  ? 0
                : d <= lo ? (int64_t)lo
                : d >= hi ? (to_i32 ? 2147483647 : INT64_MAX)
                          : (int64_t)d;
        } else {
            i = a.kind == TL_VAL_BOOL ? a.as.b : a.as.i;
            if (to_i32) i = (int32_t)(uint32_t)(uint64_t)i;
        }
        *out = tl_value_int(i);
    }
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ dispatch */

tl_flow tl_eval_expr(tl_interp *I, const tl_node *n, tl_value *out) {
    *out = TL_VOID;
    tl_flow fl = tl_guard(I, n);
    if (fl != TL_FLOW_OK) return fl;
    switch ((tl_node_kind)n->kind) {
    case TL_N_INT:
        if (n->op == 1)
            return tl_err_at(I, n, TL_ERR_RANGE,
                             "integer literal 9223372036854775808 is too large");
        *out = tl_value_int(n->v.i);
        return TL_FLOW_OK;
    case TL_N_FLOAT:
        *out = tl_value_float(n->v.f);
        return TL_FLOW_OK;
    case TL_N_BOOL:
        *out = tl_value_bool(n->v.b);
        return TL_FLOW_OK;
    case TL_N_STRING: {
        tl_status st = tl_value_string(n->name, n->v.len, out);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
    }
    case TL_N_IDENT:
        return eval_ident(I, n, out);
    case TL_N_ARRAY:
        return tl_eval_array_literal(I, n, true, out);
    case TL_N_BINARY:
        return eval_binary(I, n, out);
    case TL_N_UNARY:
        return eval_unary(I, n, out);
    case TL_N_CAST:
        return eval_cast(I, n, out);
    case TL_N_CALL:
        return tl_eval_call(I, n, out);
    case TL_N_METHOD:
        return tl_eval_method(I, n, out);
    case TL_N_ASSOC:
        return tl_eval_assoc(I, n, out);
    case TL_N_FIELD:
        return tl_eval_field(I, n, out);
    case TL_N_INDEX:
        return tl_eval_index(I, n, out);
    case TL_N_STRUCTLIT:
        return tl_eval_structlit(I, n, out);
    case TL_N_MATCH:
        return tl_eval_match(I, n, out);
    case TL_N_WILDCARD:
        return tl_err_at(I, n, TL_ERR_TYPE,
                         "'?' is a wildcard, only allowed in a shape pattern like "
                         "shape(x) == [?, 64]");
    case TL_N_UNSUPPORTED_EXPR:
        return tl_err_at(I, n, TL_ERR_UNSUPPORTED, "%s is not supported yet", n->name);
    case TL_N_SLICE:
        return tl_err_at(I, n, TL_ERR_ARG, "a slice is only allowed inside [ ]");
    case TL_N_EQMARK:
        return tl_err_at(I, n, TL_ERR_ARG,
                         "an index marked with '.' is only allowed on the left side of a tensor "
                         "equation (Y[p, q.] = softmax(...))");
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "cannot evaluate a %s node",
                         tl_node_kind_name(n->kind));
    }
}
