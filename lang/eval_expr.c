/* lang/eval_expr.c -- expressions: literals, names, operators, casts, fields,
** indexing and slicing, struct literals, match. Calls are in eval_call.c. */
#include "lang/display.h"
#include "lang/eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tl_flow tl_eval_call(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_method(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_assoc(tl_interp *I, const tl_node *n, tl_value *out);
bool tl_array_to_tensor(const tl_value *v, tl_dtype dt, tl_value *out, tl_status *st);

/* ------------------------------------------------------------------ equality, cycles */

bool tl_values_equal(const tl_value *a, const tl_value *b) {
    if (tl_value_is_number(a) && tl_value_is_number(b)) {
        if (a->kind == TL_VAL_INT && b->kind == TL_VAL_INT) return a->as.i == b->as.i;
        return tl_value_as_double(a) == tl_value_as_double(b);
    }
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case TL_VAL_VOID:
        return true;
    case TL_VAL_BOOL:
        return a->as.b == b->as.b;
    case TL_VAL_STRING:
        return a->as.str->len == b->as.str->len &&
               memcmp(a->as.str->data, b->as.str->data, a->as.str->len) == 0;
    case TL_VAL_ARRAY:
        if (a->as.arr->len != b->as.arr->len) return false;
        for (size_t i = 0; i < a->as.arr->len; i++)
            if (!tl_values_equal(&a->as.arr->items[i], &b->as.arr->items[i])) return false;
        return true;
    case TL_VAL_STRUCT:
        if (a->as.st->decl != b->as.st->decl) return false;
        for (uint32_t i = 0; i < a->as.st->n; i++)
            if (!tl_values_equal(&a->as.st->fields[i], &b->as.st->fields[i])) return false;
        return true;
    case TL_VAL_TENSOR: {
        const tl_tensor *x = a->as.tensor, *y = b->as.tensor;
        if (x == y) return true;
        if (x->n_dims != y->n_dims || !tl_tensor_same_shape(x, y)) return false;
        int64_t n = tl_tensor_nelements(x);
        int nd = x->n_dims;
        for (int64_t k = 0; k < n; k++) {
            size_t ox = 0, oy = 0;
            int64_t r = k;
            for (int d = 0; d < nd; d++) {
                int64_t i = r % x->ne[d];
                r /= x->ne[d];
                ox += (size_t)i * x->nb[d];
                oy += (size_t)i * y->nb[d];
            }
            double u, v;
            if (!tl_tensor_read_double(x, ox, &u) || !tl_tensor_read_double(y, oy, &v))
                return false;
            if (u != v) return false;
        }
        return true;
    }
    case TL_VAL_FUNC:
        return a->as.fn->decl == b->as.fn->decl;
    case TL_VAL_BUILTIN:
        return a->as.builtin == b->as.builtin;
    case TL_VAL_OBJECT:
        return a->as.obj == b->as.obj;
    default:
        return false;
    }
}

static bool contains(const tl_value *v, const void *into, int depth) {
    if (depth > 200) return true; /* absurdly deep: refuse */
    if (v->kind == TL_VAL_ARRAY) {
        if ((const void *)v->as.arr == into) return true;
        for (size_t i = 0; i < v->as.arr->len; i++)
            if (contains(&v->as.arr->items[i], into, depth + 1)) return true;
    } else if (v->kind == TL_VAL_STRUCT) {
        if ((const void *)v->as.st == into) return true;
        for (uint32_t i = 0; i < v->as.st->n; i++)
            if (contains(&v->as.st->fields[i], into, depth + 1)) return true;
    }
    return false;
}

bool tl_value_would_cycle(const tl_value *v, const void *into) {
    return contains(v, into, 0);
}

/* ------------------------------------------------------------------ names, arrays */

static tl_flow eval_ident(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_var *v = tl_scope_lookup(I, n->name);
    if (v) {
        *out = tl_value_retain(v->v);
        return TL_FLOW_OK;
    }
    const tl_node *fn = tl_find_fn(I, n->name);
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
    return tl_err_at(I, n, TL_ERR_ARG, "undefined variable '%s'", n->name);
}

static tl_flow eval_array(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value arr;
    size_t len = tl_node_list_len(n->a);
    tl_status st = tl_value_array(len, &arr);
    if (st != TL_OK) return tl_err_status(I, n, st);
    bool nested = false;
    for (const tl_node *e = n->a; e; e = e->next) {
        tl_value v;
        tl_flow fl = tl_eval_expr(I, e, &v);
        if (fl != TL_FLOW_OK) {
            tl_value_release(&arr);
            return fl;
        }
        if (v.kind == TL_VAL_ARRAY) nested = true;
        tl_array_push(arr.as.arr, v); /* capacity reserved: cannot fail */
    }
    if (nested) { /* a rectangular nested array of numbers becomes an f32 tensor */
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

static int64_t wrap_add(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a + (uint64_t)b);
}
static int64_t wrap_sub(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}
static int64_t wrap_mul(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

static tl_flow int_arith(tl_interp *I, const tl_node *n, tl_binop op, int64_t x, int64_t y,
                         tl_value *out) {
    switch (op) {
    case TL_OP_ADD:
        *out = tl_value_int(wrap_add(x, y));
        return TL_FLOW_OK;
    case TL_OP_SUB:
        *out = tl_value_int(wrap_sub(x, y));
        return TL_FLOW_OK;
    case TL_OP_MUL:
    case TL_OP_HADAMARD:
        *out = tl_value_int(wrap_mul(x, y));
        return TL_FLOW_OK;
    case TL_OP_DIV:
    case TL_OP_REM:
        if (y == 0) return tl_err_at(I, n, TL_ERR_ARG, "integer division by zero");
        if (x == INT64_MIN && y == -1) {
            *out = tl_value_int(op == TL_OP_DIV ? INT64_MIN : 0);
            return TL_FLOW_OK;
        }
        *out = tl_value_int(op == TL_OP_DIV ? x / y : x % y);
        return TL_FLOW_OK;
    case TL_OP_POW:
        if (y < 0) {
            *out = tl_value_float(pow((double)x, (double)y));
        } else {
            int64_t r = 1, base = x;
            for (int64_t e = y; e > 0; e >>= 1) {
                if (e & 1) r = wrap_mul(r, base);
                base = wrap_mul(base, base);
            }
            *out = tl_value_int(r);
        }
        return TL_FLOW_OK;
    default:
        return tl_err_at(I, n, TL_ERR_TYPE, "operator '%s' is not defined for ints",
                         tl_op_symbol(op));
    }
}

static tl_flow float_arith(tl_interp *I, const tl_node *n, tl_binop op, double x, double y,
                           tl_value *out) {
    switch (op) {
    case TL_OP_ADD:
        *out = tl_value_float(x + y);
        return TL_FLOW_OK;
    case TL_OP_SUB:
        *out = tl_value_float(x - y);
        return TL_FLOW_OK;
    case TL_OP_MUL:
    case TL_OP_HADAMARD:
        *out = tl_value_float(x * y);
        return TL_FLOW_OK;
    case TL_OP_DIV:
        *out = tl_value_float(x / y);
        return TL_FLOW_OK;
    case TL_OP_REM:
        *out = tl_value_float(fmod(x, y));
        return TL_FLOW_OK;
    case TL_OP_POW:
        *out = tl_value_float(pow(x, y));
        return TL_FLOW_OK;
    default:
        return tl_err_at(I, n, TL_ERR_TYPE, "operator '%s' is not defined for floats",
                         tl_op_symbol(op));
    }
}

static int compare_strings(const tl_string *a, const tl_string *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static tl_flow compare(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                       const tl_value *b, tl_value *out) {
    if (op == TL_OP_EQ || op == TL_OP_NE) {
        bool eq = tl_values_equal(a, b);
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

static tl_flow binop(tl_interp *I, const tl_node *n, tl_binop op, const tl_value *a,
                     const tl_value *b, tl_value *out) {
    if (op >= TL_OP_EQ && op <= TL_OP_APPROX &&
        !(op == TL_OP_APPROX && (a->kind == TL_VAL_TENSOR || b->kind == TL_VAL_TENSOR)))
        return compare(I, n, op, a, b, out);
    if (a->kind == TL_VAL_TENSOR || b->kind == TL_VAL_TENSOR)
        return tensor_binop(I, n, op, a, b, out);
    if (a->kind == TL_VAL_INT && b->kind == TL_VAL_INT)
        return int_arith(I, n, op, a->as.i, b->as.i, out);
    if (tl_value_is_number(a) && tl_value_is_number(b))
        return float_arith(I, n, op, tl_value_as_double(a), tl_value_as_double(b), out);
    if (op == TL_OP_ADD && a->kind == TL_VAL_STRING && b->kind == TL_VAL_STRING) {
        size_t len = a->as.str->len + b->as.str->len;
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

static tl_flow eval_binary(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_binop op = (tl_binop)n->op;
    tl_value a, b = TL_VOID;
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
    if (n->op == TL_OP_NOT) {
        if (a.kind == TL_VAL_BOOL) {
            *out = tl_value_bool(!a.as.b);
            return TL_FLOW_OK;
        }
    } else if (a.kind == TL_VAL_INT) {
        *out = tl_value_int(wrap_sub(0, a.as.i));
        return TL_FLOW_OK;
    } else if (a.kind == TL_VAL_FLOAT) {
        *out = tl_value_float(-a.as.f);
        return TL_FLOW_OK;
    } else if (a.kind == TL_VAL_TENSOR) {
        const tl_builtin_def *def = tl_builtin_resolve("neg", 1, &a);
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

/* ------------------------------------------------------------------ fields, indexing */

static tl_flow eval_field(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value obj;
    tl_flow fl = tl_eval_expr(I, n->a, &obj);
    if (fl != TL_FLOW_OK) return fl;
    if (obj.kind == TL_VAL_STRUCT) {
        int k = tl_struct_field_index(obj.as.st, n->name);
        if (k >= 0)
            *out = tl_value_retain(obj.as.st->fields[k]);
        else
            fl =
                tl_err_at(I, n, TL_ERR_ARG, "%s has no field '%s'", obj.as.st->decl->name, n->name);
    } else if (obj.kind == TL_VAL_OBJECT && obj.as.obj->cls->get_property) {
        tl_clear_error();
        tl_status st = obj.as.obj->cls->get_property(obj.as.obj, n->name, out);
        if (st != TL_OK) {
            tl_value_release(out);
            fl = tl_err_status(I, n, st);
        }
    } else {
        fl =
            tl_err_at(I, n, TL_ERR_TYPE, "%s has no field '%s'", tl_value_type_name(&obj), n->name);
    }
    tl_value_release(&obj);
    return fl;
}

typedef struct idx {
    bool slice;
    bool has_lo, has_hi;
    int64_t lo, hi;
} idx;

static tl_flow eval_int(tl_interp *I, const tl_node *e, int64_t *out) {
    tl_value v;
    tl_flow fl = tl_eval_expr(I, e, &v);
    if (fl != TL_FLOW_OK) return fl;
    if (v.kind != TL_VAL_INT) {
        fl =
            tl_err_at(I, e, TL_ERR_TYPE, "an index must be an int, got %s", tl_value_type_name(&v));
        tl_value_release(&v);
        return fl;
    }
    *out = v.as.i;
    return TL_FLOW_OK;
}

static tl_flow eval_idx(tl_interp *I, const tl_node *e, idx *x) {
    *x = (idx){0};
    if (e->kind != TL_N_SLICE) return eval_int(I, e, &x->lo);
    x->slice = true;
    tl_flow fl = TL_FLOW_OK;
    if (e->a) {
        x->has_lo = true;
        fl = eval_int(I, e->a, &x->lo);
    }
    if (fl == TL_FLOW_OK && e->b) {
        x->has_hi = true;
        fl = eval_int(I, e->b, &x->hi);
    }
    return fl;
}

/* Python-style slice bounds clamped to [0, len]. */
static void slice_bounds(const idx *x, int64_t len, int64_t *lo, int64_t *hi) {
    int64_t a = x->has_lo ? x->lo : 0, b = x->has_hi ? x->hi : len;
    if (a < 0) a += len;
    if (b < 0) b += len;
    a = a < 0 ? 0 : a > len ? len : a;
    b = b < 0 ? 0 : b > len ? len : b;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

static tl_flow index_sequence(tl_interp *I, const tl_node *n, const tl_value *obj, const idx *x,
                              tl_value *out) {
    int64_t len = obj->kind == TL_VAL_ARRAY ? (int64_t)obj->as.arr->len : (int64_t)obj->as.str->len;
    if (x->slice) {
        int64_t lo, hi;
        slice_bounds(x, len, &lo, &hi);
        if (obj->kind == TL_VAL_STRING) {
            tl_status st = tl_value_string(obj->as.str->data + lo, (size_t)(hi - lo), out);
            return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
        }
        tl_status st = tl_value_array((size_t)(hi - lo), out);
        if (st != TL_OK) return tl_err_status(I, n, st);
        for (int64_t i = lo; i < hi; i++)
            tl_array_push(out->as.arr, tl_value_retain(obj->as.arr->items[i]));
        return TL_FLOW_OK;
    }
    int64_t i = x->lo < 0 ? x->lo + len : x->lo;
    if (i < 0 || i >= len)
        return tl_err_at(I, n->b, TL_ERR_RANGE, "index %lld out of range for %s of length %lld",
                         (long long)x->lo, tl_value_type_name(obj), (long long)len);
    if (obj->kind == TL_VAL_STRING) {
        tl_status st = tl_value_string(obj->as.str->data + i, 1, out);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
    }
    *out = tl_value_retain(obj->as.arr->items[i]);
    return TL_FLOW_OK;
}

static tl_value scalar_of(const tl_tensor *t, size_t offs) {
    double d = 0;
    tl_tensor_read_double(t, offs, &d);
    switch (t->dtype) {
    case TL_DTYPE_I8:
    case TL_DTYPE_I16:
    case TL_DTYPE_I32:
    case TL_DTYPE_I64:
        return tl_value_int((int64_t)d);
    case TL_DTYPE_BOOL:
        return tl_value_bool(d != 0);
    case TL_DTYPE_F64:
        return tl_value_float(d);
    default:
        return tl_value_float((double)(float)d);
    }
}

/* Row i along the outermost axis: a view, or a number for a 1-D tensor. */
tl_status tl_tensor_row_value(tl_tensor *t, int64_t i, tl_value *out) {
    *out = TL_VOID;
    if (t->n_dims <= 1) {
        if (tl_dtype_traits(t->dtype)->quantized)
            return tl_fail(TL_ERR_TYPE, "cannot read single values of a %s tensor",
                           tl_dtype_name(t->dtype));
        *out = scalar_of(t, t->n_dims ? (size_t)i * t->nb[0] : 0);
        return TL_OK;
    }
    tl_tensor *v;
    int nd = t->n_dims - 1;
    tl_status st = tl_tensor_view(t, nd, t->ne, t->nb, (size_t)i * t->nb[nd], &v);
    if (st == TL_OK) *out = tl_value_tensor(v);
    return st;
}

static tl_flow index_tensor(tl_interp *I, const tl_node *n, tl_tensor *t, const idx *xs, int k,
                            tl_value *out) {
    int nd = t->n_dims;
    if (k > nd)
        return tl_err_at(I, n, TL_ERR_ARG, "too many indices (%d) for a tensor of rank %d", k, nd);
    bool quant = tl_dtype_traits(t->dtype)->quantized;
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    int kept = 0;
    size_t offs = 0;
    /* walk ggml dims from the innermost (NumPy axis nd-1) outwards */
    for (int d = 0; d < nd; d++) {
        int ax = nd - 1 - d;
        if (ax >= k) {
            ne[kept] = t->ne[d];
            nb[kept++] = t->nb[d];
            continue;
        }
        const idx *x = &xs[ax];
        if (x->slice) {
            int64_t lo, hi;
            slice_bounds(x, t->ne[d], &lo, &hi);
            if (quant && d == 0 && (lo != 0 || hi != t->ne[0]))
                return tl_err_at(I, n, TL_ERR_UNSUPPORTED,
                                 "cannot slice inside the rows of a %s tensor",
                                 tl_dtype_name(t->dtype));
            offs += (size_t)lo * t->nb[d];
            ne[kept] = hi - lo;
            nb[kept++] = t->nb[d];
        } else {
            int64_t i = x->lo < 0 ? x->lo + t->ne[d] : x->lo;
            if (i < 0 || i >= t->ne[d]) {
                char shape[128];
                return tl_err_at(I, n, TL_ERR_RANGE,
                                 "index %lld out of range for axis %d of a tensor of shape %s",
                                 (long long)x->lo, ax, tl_tensor_shape_str(t, shape, sizeof shape));
            }
            if (quant && d == 0)
                return tl_err_at(I, n, TL_ERR_UNSUPPORTED,
                                 "cannot read single values of a %s tensor",
                                 tl_dtype_name(t->dtype));
            offs += (size_t)i * t->nb[d];
        }
    }
    if (kept == 0) {
        *out = scalar_of(t, offs);
        return TL_FLOW_OK;
    }
    tl_tensor *v;
    tl_status st = tl_tensor_view(t, kept, ne, nb, offs, &v);
    if (st != TL_OK) return tl_err_status(I, n, st);
    *out = tl_value_tensor(v);
    return TL_FLOW_OK;
}

static tl_flow eval_index(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value obj;
    tl_flow fl = tl_eval_expr(I, n->a, &obj);
    if (fl != TL_FLOW_OK) return fl;
    idx xs[TL_MAX_DIMS];
    int k = 0;
    for (const tl_node *e = n->b; e && fl == TL_FLOW_OK; e = e->next, k++) {
        if (k >= TL_MAX_DIMS) {
            fl = tl_err_at(I, e, TL_ERR_ARG, "too many indices");
            break;
        }
        fl = eval_idx(I, e, &xs[k]);
    }
    if (fl == TL_FLOW_OK) {
        if (obj.kind == TL_VAL_TENSOR) {
            fl = index_tensor(I, n, obj.as.tensor, xs, k, out);
        } else if (obj.kind == TL_VAL_ARRAY || obj.kind == TL_VAL_STRING) {
            if (k != 1)
                fl = tl_err_at(I, n, TL_ERR_ARG, "%s takes a single index, got %d",
                               tl_value_type_name(&obj), k);
            else
                fl = index_sequence(I, n, &obj, &xs[0], out);
        } else {
            fl = tl_err_at(I, n, TL_ERR_TYPE, "cannot index %s", tl_value_type_name(&obj));
        }
    }
    tl_value_release(&obj);
    return fl;
}

/* ------------------------------------------------------------------ structs, match */

static tl_flow eval_structlit(tl_interp *I, const tl_node *n, tl_value *out) {
    const tl_node *decl = tl_find_struct(I, n->name);
    if (!decl) return tl_err_at(I, n, TL_ERR_ARG, "unknown struct '%s'", n->name);
    uint32_t nf = (uint32_t)tl_node_list_len(decl->a);
    for (const tl_node *fi = n->a; fi; fi = fi->next) {
        bool known = false;
        for (const tl_node *f = decl->a; f; f = f->next)
            if (strcmp(f->name, fi->name) == 0) known = true;
        if (!known) return tl_err_at(I, fi, TL_ERR_ARG, "%s has no field '%s'", n->name, fi->name);
        for (const tl_node *fj = fi->next; fj; fj = fj->next)
            if (strcmp(fj->name, fi->name) == 0)
                return tl_err_at(I, fj, TL_ERR_ARG, "field '%s' given twice", fi->name);
    }
    tl_struct_value *s = calloc(1, sizeof *s + nf * sizeof(tl_value));
    if (!s) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    s->refcount = 1;
    s->decl = decl;
    s->n = nf;
    tl_value sv = {.kind = TL_VAL_STRUCT, .as.st = s};
    uint32_t i = 0;
    for (const tl_node *f = decl->a; f; f = f->next, i++) {
        const tl_node *fi = n->a;
        while (fi && strcmp(fi->name, f->name) != 0)
            fi = fi->next;
        if (!fi) {
            tl_value_release(&sv);
            return tl_err_at(I, n, TL_ERR_ARG, "missing field '%s' in %s literal", f->name,
                             n->name);
        }
        tl_flow fl = tl_eval_expr(I, fi->a, &s->fields[i]);
        if (fl == TL_FLOW_OK) {
            char what[160];
            snprintf(what, sizeof what, "field %s.%s", n->name, f->name);
            fl = tl_check_type(I, fi->a, f->c, &s->fields[i], what);
        }
        if (fl != TL_FLOW_OK) {
            tl_value_release(&sv);
            return fl;
        }
    }
    *out = sv;
    return TL_FLOW_OK;
}

static tl_flow match_pattern(tl_interp *I, const tl_node *p, const tl_value *v, bool *ok) {
    *ok = false;
    switch ((tl_node_kind)p->kind) {
    case TL_P_WILD:
        *ok = true;
        return TL_FLOW_OK;
    case TL_P_BIND: {
        tl_status st = tl_scope_declare(I->cur, p->name, tl_value_retain(*v));
        if (st != TL_OK) return tl_err_status(I, p, st);
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_LIT: {
        tl_value lit;
        tl_flow fl = tl_eval_expr(I, p->a, &lit);
        if (fl != TL_FLOW_OK) return fl;
        *ok = tl_values_equal(&lit, v);
        tl_value_release(&lit);
        return TL_FLOW_OK;
    }
    case TL_P_TUPLE: {
        size_t n = tl_node_list_len(p->a);
        if (v->kind != TL_VAL_ARRAY || v->as.arr->len != n) return TL_FLOW_OK;
        size_t i = 0;
        for (const tl_node *q = p->a; q; q = q->next, i++) {
            tl_flow fl = match_pattern(I, q, &v->as.arr->items[i], ok);
            if (fl != TL_FLOW_OK || !*ok) return fl;
        }
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_STRUCT: {
        if (v->kind != TL_VAL_STRUCT || strcmp(v->as.st->decl->name, p->name) != 0)
            return TL_FLOW_OK;
        for (const tl_node *f = p->a; f; f = f->next) {
            int k = tl_struct_field_index(v->as.st, f->name);
            if (k < 0) return tl_err_at(I, f, TL_ERR_ARG, "%s has no field '%s'", p->name, f->name);
            tl_flow fl = match_pattern(I, f->a, &v->as.st->fields[k], ok);
            if (fl != TL_FLOW_OK || !*ok) return fl;
        }
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_OR:
        for (const tl_node *q = p->a; q; q = q->next) {
            tl_flow fl = match_pattern(I, q, v, ok);
            if (fl != TL_FLOW_OK || *ok) return fl;
        }
        return TL_FLOW_OK;
    default:
        return tl_err_at(I, p, TL_ERR_INTERNAL, "bad pattern");
    }
}

static tl_flow eval_match(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value v;
    tl_flow fl = tl_eval_expr(I, n->a, &v);
    if (fl != TL_FLOW_OK) return fl;
    tl_scope scope = {.parent = I->cur};
    tl_scope *saved = I->cur;
    bool matched = false;
    for (const tl_node *arm = n->b; arm && fl == TL_FLOW_OK && !matched; arm = arm->next) {
        I->cur = &scope;
        tl_scope_clear(&scope);
        bool ok;
        fl = match_pattern(I, arm->a, &v, &ok);
        if (fl == TL_FLOW_OK && ok && arm->b) {
            tl_value g;
            fl = tl_eval_expr(I, arm->b, &g);
            if (fl == TL_FLOW_OK && g.kind != TL_VAL_BOOL)
                fl = tl_err_at(I, arm->b, TL_ERR_TYPE, "a match guard must be a bool, got %s",
                               tl_value_type_name(&g));
            ok = fl == TL_FLOW_OK && g.as.b;
            tl_value_release(&g);
        }
        if (fl == TL_FLOW_OK && ok) {
            matched = true;
            if (arm->c->kind == TL_S_BLOCK)
                fl = tl_exec_block(I, arm->c, out);
            else
                fl = tl_eval_expr(I, arm->c, out);
        }
        I->cur = saved;
    }
    I->cur = saved;
    tl_scope_clear(&scope);
    free(scope.vars);
    if (fl == TL_FLOW_OK && !matched) {
        tl_strbuf b = {0};
        tl_value_display(&b, &v);
        fl = tl_err_at(I, n, TL_ERR_ARG, "no match arm matches %s", tl_strbuf_cstr(&b));
        tl_strbuf_free(&b);
    }
    tl_value_release(&v);
    return fl;
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
        return eval_array(I, n, out);
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
        return eval_field(I, n, out);
    case TL_N_INDEX:
        return eval_index(I, n, out);
    case TL_N_STRUCTLIT:
        return eval_structlit(I, n, out);
    case TL_N_MATCH:
        return eval_match(I, n, out);
    case TL_N_UNSUPPORTED_EXPR:
        return tl_err_at(I, n, TL_ERR_UNSUPPORTED, "%s is not supported yet", n->name);
    case TL_N_SLICE:
        return tl_err_at(I, n, TL_ERR_ARG, "a slice is only allowed inside [ ]");
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "cannot evaluate a %s node",
                         tl_node_kind_name(n->kind));
    }
}
