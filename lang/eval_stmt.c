/* lang/eval_stmt.c -- statements, blocks, loops, assignments, type checks and
** tensor declarations. */
#include "lang/display.h"
#include "lang/eval_internal.h"
#include "lang/eval_logic.h"
#include "lang/equation.h"
#include "lang/eval_learn.h"
#include "runtime/half.h"
#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ types */

void tl_type_str(tl_strbuf *b, const tl_node *t) {
    if (!t) {
        tl_strbuf_puts(b, "any");
        return;
    }
    tl_strbuf_puts(b, t->name);
    if (t->kind == TL_T_TENSOR) {
        tl_strbuf_putc(b, '[');
        for (const tl_node *d = t->a; d; d = d->next) {
            if (d != t->a) tl_strbuf_puts(b, ", ");
            if (d->v.i < 0)
                tl_strbuf_putc(b, '?');
            else
                tl_strbuf_printf(b, "%lld", (long long)d->v.i);
        }
        tl_strbuf_putc(b, ']');
    }
}

static void describe_value(tl_strbuf *b, const tl_value *v) {
    if (v->kind == TL_VAL_TENSOR) {
        char shape[128];
        tl_strbuf_printf(b, "tensor %s", tl_tensor_shape_str(v->as.tensor, shape, sizeof shape));
    } else if (v->kind == TL_VAL_STRUCT) {
        tl_strbuf_puts(b, v->as.st->decl->name);
    } else {
        tl_strbuf_puts(b, tl_value_type_name(v));
    }
}

static void describe_what(tl_strbuf *b, const tl_what *w) {
    if (w->arg > 0)
        tl_strbuf_printf(b, "argument %d (%s) of %s", w->arg, w->a, w->b);
    else if (w->b)
        tl_strbuf_printf(b, "%s %s.%s", w->kind, w->a, w->b);
    else
        tl_strbuf_printf(b, "%s %s", w->kind, w->a);
}

static tl_flow type_mismatch(tl_interp *I, const tl_node *site, const tl_node *type,
                             const tl_value *v, const tl_what *what) {
    tl_strbuf want = {0}, got = {0}, where = {0};
    tl_type_str(&want, type);
    describe_value(&got, v);
    describe_what(&where, what);
    tl_flow fl = tl_err_at(I, site, TL_ERR_TYPE, "%s: expected %s, got %s", tl_strbuf_cstr(&where),
                           tl_strbuf_cstr(&want), tl_strbuf_cstr(&got));
    tl_strbuf_free(&want);
    tl_strbuf_free(&got);
    tl_strbuf_free(&where);
    return fl;
}

/* What a named type annotation means, worked out once per annotation node and
** cached in it (struct names can be defined later: the cache holds for one
** definition epoch). */
enum { TC_OTHER = 1, TC_INT, TC_FLOAT, TC_BOOL, TC_STRING, TC_VOID, TC_BASE, TC_STRUCT };
static const int type_classes[] = {0,         TC_OTHER, TC_INT,  TC_FLOAT, TC_BOOL,
                                   TC_STRING, TC_VOID,  TC_BASE, TC_STRUCT};

static int type_class(tl_interp *I, const tl_node *type) {
    if (type->cache_epoch == I->defs_epoch && type->cache) return *(const int *)type->cache;
    const char *n = type->name;
    int c = TC_OTHER;
    if (strcmp(n, "int") == 0 || strcmp(n, "i64") == 0 || strcmp(n, "i32") == 0)
        c = TC_INT;
    else if (strcmp(n, "float") == 0 || strcmp(n, "f64") == 0 || strcmp(n, "f32") == 0)
        c = TC_FLOAT;
    else if (strcmp(n, "bool") == 0)
        c = TC_BOOL;
    else if (strcmp(n, "string") == 0 || strcmp(n, "String") == 0)
        c = TC_STRING;
    else if (strcmp(n, "void") == 0)
        c = TC_VOID;
    else if (strncmp(n, "float", 5) == 0 || strncmp(n, "int", 3) == 0)
        c = TC_BASE;
    else if (tl_find_struct(I, n))
        c = TC_STRUCT;
    ((tl_node *)type)->cache = &type_classes[c];
    ((tl_node *)type)->cache_epoch = I->defs_epoch;
    return c;
}

/* Checks v against a declared type; converts int -> float for `float`. */
tl_flow tl_check_type(tl_interp *I, const tl_node *site, const tl_node *type, tl_value *v,
                      const tl_what *what) {
    if (!type) return TL_FLOW_OK;
    const char *n = type->name;
    if (type->kind == TL_T_TENSOR) {
        int rank = (int)tl_node_list_len(type->a);
        if (v->kind == TL_VAL_ARRAY && rank == 1) {
            const tl_node *d = type->a;
            if (d->v.i >= 0 && (size_t)d->v.i != v->as.arr->len)
                return type_mismatch(I, site, type, v, what);
            return TL_FLOW_OK;
        }
        if (v->kind != TL_VAL_TENSOR) return type_mismatch(I, site, type, v, what);
        const tl_tensor *t = v->as.tensor;
        if (t->n_dims != rank) return type_mismatch(I, site, type, v, what);
        int ax = 0;
        for (const tl_node *d = type->a; d; d = d->next, ax++)
            if (d->v.i >= 0 && t->ne[rank - 1 - ax] != d->v.i)
                return type_mismatch(I, site, type, v, what);
        return TL_FLOW_OK;
    }
    switch (type_class(I, type)) {
    case TC_INT:
        if (v->kind != TL_VAL_INT) return type_mismatch(I, site, type, v, what);
        break;
    case TC_FLOAT:
        if (v->kind == TL_VAL_INT)
            *v = tl_value_float((double)v->as.i);
        else if (v->kind != TL_VAL_FLOAT)
            return type_mismatch(I, site, type, v, what);
        break;
    case TC_BOOL:
        if (v->kind != TL_VAL_BOOL) return type_mismatch(I, site, type, v, what);
        break;
    case TC_STRING:
        if (v->kind != TL_VAL_STRING) return type_mismatch(I, site, type, v, what);
        break;
    case TC_VOID:
        if (v->kind != TL_VAL_VOID) return type_mismatch(I, site, type, v, what);
        break;
    case TC_BASE: /* a bare base type (float32, int64, ...): a tensor or a number */
        if (v->kind != TL_VAL_TENSOR && !tl_value_is_number(v))
            return type_mismatch(I, site, type, v, what);
        break;
    case TC_STRUCT:
        if (v->kind != TL_VAL_STRUCT || strcmp(v->as.st->decl->name, n) != 0)
            return type_mismatch(I, site, type, v, what);
        break;
    default:
        if (v->kind == TL_VAL_STRUCT || v->kind == TL_VAL_OBJECT) {
            /* named host or struct types must match by name; other names are generic */
            const char *have =
                v->kind == TL_VAL_STRUCT ? v->as.st->decl->name : v->as.obj->cls->name;
            if (strlen(n) > 1 && strcmp(have, n) != 0 && strcmp(n, "Tensor") != 0)
                return type_mismatch(I, site, type, v, what);
        }
    }
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ tensor declarations */

static bool base_dtype(const char *name, tl_dtype *dt) {
    static const struct {
        const char *name;
        tl_dtype dt;
    } map[] = {{"float32", TL_DTYPE_F32}, {"float16", TL_DTYPE_F16}, {"int16", TL_DTYPE_I16},
               {"int32", TL_DTYPE_I32},   {"int64", TL_DTYPE_I64},   {"bool", TL_DTYPE_BOOL}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0) {
            *dt = map[i].dt;
            return true;
        }
    return false;
}

/* One number of an initializer: integers (and bools) kept exact, floats as doubles. */
typedef struct init_leaf {
    double d;
    int64_t i;
    bool is_int;
} init_leaf;

/* Stores a number as dt; false when an integer dtype cannot hold it (out of its
** range, NaN or infinite): a literal that does not fit its declaration is an
** error, not a wrapped or undefined conversion.  Floats into integers truncate
** toward 0, as to_i32 and to_i64 do. */
static bool store_leaf(tl_dtype dt, char *p, init_leaf x) {
    int64_t lo = dt == TL_DTYPE_I16 ? INT16_MIN : dt == TL_DTYPE_I32 ? INT32_MIN : INT64_MIN;
    int64_t hi = dt == TL_DTYPE_I16 ? INT16_MAX : dt == TL_DTYPE_I32 ? INT32_MAX : INT64_MAX;
    int64_t iv = x.i;
    if ((dt == TL_DTYPE_I16 || dt == TL_DTYPE_I32 || dt == TL_DTYPE_I64) && !x.is_int) {
        /* [lo, hi + 1) as doubles: -2^15.. , -2^31.., -2^63 .. 2^63 exactly */
        if (!(x.d >= (double)lo && x.d < -(double)lo)) return false;
        iv = (int64_t)x.d;
    }
    switch (dt) {
    case TL_DTYPE_F32: {
        float f = (float)x.d;
        memcpy(p, &f, 4);
        break;
    }
    case TL_DTYPE_F16: {
        tl_f16 h = tl_f32_to_f16((float)x.d);
        memcpy(p, &h, 2);
        break;
    }
    case TL_DTYPE_I16:
    case TL_DTYPE_I32:
    case TL_DTYPE_I64:
        if (iv < lo || iv > hi) return false;
        if (dt == TL_DTYPE_I16) {
            int16_t v = (int16_t)iv;
            memcpy(p, &v, 2);
        } else if (dt == TL_DTYPE_I32) {
            int32_t v = (int32_t)iv;
            memcpy(p, &v, 4);
        } else {
            memcpy(p, &iv, 8);
        }
        break;
    case TL_DTYPE_BOOL:
        *(uint8_t *)p = x.d != 0;
        break;
    default:
        break;
    }
    return true;
}

/* Flattens a (nested) array of numbers, row-major; returns false if ragged. */
static bool flatten(const tl_value *v, int depth, int64_t *shape, int *rank, init_leaf *vals,
                    int64_t *k, int64_t cap) {
    if (v->kind != TL_VAL_ARRAY) {
        if (!tl_value_is_number(v) && v->kind != TL_VAL_BOOL) return false;
        if (*rank < 0 && depth < TL_MAX_DIMS && shape[depth] >= 0)
            return false; /* a list came first at this depth: [[], 3] */
        if (*rank < 0) *rank = depth;
        if (*rank != depth || *k >= cap) return false;
        bool is_int = v->kind != TL_VAL_FLOAT;
        vals[(*k)++] = (init_leaf){
            tl_value_as_double(v),
            v->kind == TL_VAL_INT ? v->as.i : v->kind == TL_VAL_BOOL && v->as.b, is_int};
        return true;
    }
    if (depth >= TL_MAX_DIMS) return false;
    if (*rank >= 0 && depth >= *rank) return false;
    int64_t len = (int64_t)v->as.arr->len;
    if (shape[depth] < 0)
        shape[depth] = len;
    else if (shape[depth] != len)
        return false;
    for (int64_t i = 0; i < len; i++)
        if (!flatten(&v->as.arr->items[i], depth + 1, shape, rank, vals, k, cap)) return false;
    return true;
}

/* The number of leaves of a nested array of numbers, or SIZE_MAX when v
** cannot be a tensor (a non-number leaf, deeper than TL_MAX_DIMS): the walk
** stops there, so `a = [a, a]` repeated or `a = [a]` in a loop stays cheap. */
static size_t count_leaves(const tl_value *v, int depth) {
    if (v->kind != TL_VAL_ARRAY)
        return tl_value_is_number(v) || v->kind == TL_VAL_BOOL ? 1 : SIZE_MAX;
    if (depth >= TL_MAX_DIMS) return SIZE_MAX;
    size_t n = 0;
    for (size_t i = 0; i < v->as.arr->len; i++) {
        size_t k = count_leaves(&v->as.arr->items[i], depth + 1);
        if (k == SIZE_MAX || k > SIZE_MAX - 1 - n) return SIZE_MAX;
        n += k;
    }
    return n;
}

/* A rectangular nested array of numbers as a tensor of dtype dt; returns false
** (and *out void) when v is not such an array. */
bool tl_array_to_tensor(const tl_value *v, tl_dtype dt, tl_value *out, tl_status *st) {
    *out = TL_VOID;
    *st = TL_OK;
    int64_t shape[TL_MAX_DIMS];
    for (int i = 0; i < TL_MAX_DIMS; i++)
        shape[i] = -1;
    int rank = -1;
    size_t cap = count_leaves(v, 0);
    if (cap == SIZE_MAX) return false;
    init_leaf *vals = malloc((cap ? cap : 1) * sizeof *vals);
    if (!vals) {
        *st = tl_fail(TL_ERR_NOMEM, "out of memory");
        return false;
    }
    int64_t k = 0;
    bool ok = flatten(v, 0, shape, &rank, vals, &k, (int64_t)cap);
    if (ok && rank < 0) { /* [] or [[], []] */
        rank = 0;
        for (int i = 0; i < TL_MAX_DIMS && shape[i] >= 0; i++)
            rank = i + 1;
    }
    if (ok) {
        tl_tensor *t;
        *st = tl_tensor_new_shape(dt, rank, shape, &t);
        if (*st == TL_OK) {
            size_t es = tl_dtype_traits(dt)->size;
            for (int64_t i = 0; i < k && ok; i++)
                if (!store_leaf(dt, (char *)tl_tensor_data(t) + (size_t)i * es, vals[i])) {
                    char num[40];
                    if (vals[i].is_int)
                        snprintf(num, sizeof num, "%lld", (long long)vals[i].i);
                    else
                        snprintf(num, sizeof num, "%.17g", vals[i].d);
                    *st = tl_fail(TL_ERR_RANGE, "the initializer's %s does not fit %s", num,
                                  tl_dtype_name(dt));
                    tl_tensor_unref(t);
                    ok = false;
                }
            if (ok) *out = tl_value_tensor(t);
        } else {
            ok = false;
        }
    }
    free(vals);
    return ok;
}

/* A flat literal fills an N-D declaration when the element counts match:
** tensor w: float32[2, 2] = [1.0, 2.0, 3.0, 4.0] (every size fixed). */
static tl_flow fill_declared_shape(tl_interp *I, const tl_node *n, const tl_node *type,
                                   tl_value *v) {
    int64_t shape[TL_MAX_DIMS], numel = 1;
    int rank = 0;
    for (const tl_node *d = type->a; d; d = d->next) {
        if (d->v.i < 0 || rank >= TL_MAX_DIMS || (d->v.i && numel > INT64_MAX / d->v.i))
            return TL_FLOW_OK; /* a wildcard (or absurd sizes): no reshape */
        shape[rank++] = d->v.i;
        numel *= d->v.i;
    }
    tl_tensor *t = v->as.tensor, *r;
    if (t->n_dims > 1 || t->n_dims == rank || tl_tensor_nelements(t) != numel) return TL_FLOW_OK;
    tl_status st = tl_op_reshape(t, rank, shape, &r);
    if (st != TL_OK) return tl_err_status(I, n, st);
    tl_value_release(v);
    *v = tl_value_tensor(r);
    return TL_FLOW_OK;
}

tl_flow tl_tensor_decl(tl_interp *I, const tl_node *n) {
    const tl_node *type = n->c;
    tl_dtype dt;
    if (type->kind != TL_T_TENSOR || !base_dtype(type->name, &dt))
        return tl_err_at(I, type, TL_ERR_TYPE,
                         "a tensor declaration needs a tensor type like float32[2, 3]");
    if (type->op == 1 && dt != TL_DTYPE_F32)
        return tl_err_at(I, type, TL_ERR_TYPE, "learnable tensor %s must be float32", n->name);
    tl_value v = TL_VOID;
    if (n->a && type->op && tl_learn_is_init(I, n->a)) { /* xavier, normal(0, 0.1), ... */
        tl_flow fl = tl_learn_init_value(I, n, &v);
        if (fl != TL_FLOW_OK) return fl;
    } else if (n->a) {
        /* a literal initializer keeps its numbers for the declared dtype: int32[2, 2] */
        tl_flow fl = n->a->kind == TL_N_ARRAY ? tl_eval_array_literal(I, n->a, false, &v)
                                              : tl_eval_expr(I, n->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (v.kind == TL_VAL_ARRAY || tl_value_is_number(&v)) {
            tl_value t;
            tl_status st;
            if (!tl_array_to_tensor(&v, dt, &t, &st)) {
                tl_value_release(&v);
                if (st != TL_OK) {
                    tl_error_prefix("tensor %s", n->name);
                    return tl_err_status(I, n->a, st);
                }
                return tl_err_at(I, n->a, TL_ERR_TYPE,
                                 "tensor %s: the initializer is not a rectangular array of numbers",
                                 n->name);
            }
            tl_value_release(&v);
            v = t;
            fl = fill_declared_shape(I, n, type, &v);
            if (fl != TL_FLOW_OK) return fl;
        }
    } else {
        int64_t shape[TL_MAX_DIMS];
        int rank = 0;
        for (const tl_node *d = type->a; d; d = d->next) {
            if (d->v.i < 0 || rank >= TL_MAX_DIMS)
                return tl_err_at(I, d, TL_ERR_SHAPE,
                                 "tensor %s without an initializer needs fixed sizes", n->name);
            shape[rank++] = d->v.i;
        }
        tl_tensor *t;
        tl_status st = tl_tensor_new_shape(dt, rank, shape, &t);
        if (st != TL_OK) return tl_err_status(I, n, st);
        v = tl_value_tensor(t);
    }
    const tl_what what = {.kind = "tensor", .a = n->name};
    tl_flow fl = tl_check_type(I, n->a ? n->a : n, type, &v, &what);
    if (fl == TL_FLOW_OK && type->op == 1) fl = tl_learn_mark(I, n, &v);
    if (fl != TL_FLOW_OK) {
        tl_value_release(&v);
        return fl;
    }
    tl_status st = tl_scope_declare(I->cur, n->name, v);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}

/* ------------------------------------------------------------------ assignment */

static tl_flow assign(tl_interp *I, const tl_node *target, tl_value v) {
    if (target->kind == TL_N_IDENT) {
        tl_var *var = tl_scope_lookup(I, target->name);
        if (var && tl_learn_assign_in_place(&var->v, &v)) return TL_FLOW_OK; /* no_grad update */
        if (var) {
            tl_value_release(&var->v);
            var->v = v;
            return TL_FLOW_OK;
        }
        tl_status st = tl_scope_declare(I->cur, target->name, v);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, target, st);
    }
    if (target->kind == TL_N_INDEX && target->a->kind == TL_N_IDENT) {
        tl_var *var = tl_scope_lookup(I, target->a->name);
        if (var && var->v.kind == TL_VAL_TENSOR) {
            tl_flow tf = tl_assign_tensor_index(I, target, &var->v, &v);
            tl_value_release(&v);
            return tf;
        }
    }
    tl_value obj;
    tl_flow fl = tl_eval_expr(I, target->a, &obj);
    if (fl != TL_FLOW_OK) {
        tl_value_release(&v);
        return fl;
    }
    if (target->kind == TL_N_FIELD) {
        if (obj.kind != TL_VAL_STRUCT) {
            fl = tl_err_at(I, target, TL_ERR_TYPE, "cannot set field '%s' of %s", target->name,
                           tl_value_type_name(&obj));
        } else {
            int k = tl_struct_field_index(obj.as.st, target->name);
            if (k < 0)
                fl = tl_err_at(I, target, TL_ERR_ARG, "%s has no field '%s'", obj.as.st->decl->name,
                               target->name);
            else if (tl_value_would_cycle(&v, obj.as.st))
                fl = tl_err_at(I, target, TL_ERR_ARG, "cannot store a value inside itself");
            else {
                const tl_node *f = obj.as.st->decl->a;
                for (int i = 0; i < k; i++)
                    f = f->next;
                const tl_what what = {
                    .kind = "field", .a = obj.as.st->decl->name, .b = target->name};
                fl = tl_check_type(I, target, f->c, &v, &what);
                if (fl == TL_FLOW_OK) {
                    tl_value_release(&obj.as.st->fields[k]);
                    obj.as.st->fields[k] = v;
                    v = TL_VOID;
                }
            }
        }
    } else { /* index */
        const tl_node *ix = target->b;
        tl_value iv = TL_VOID;
        if (obj.kind != TL_VAL_ARRAY) {
            fl = tl_err_at(I, target, TL_ERR_TYPE, "cannot assign to an element of %s%s",
                           tl_value_type_name(&obj),
                           obj.kind == TL_VAL_TENSOR
                               ? " (only a variable's tensor can be assigned into)"
                               : "");
        } else if (ix->next || ix->kind == TL_N_SLICE) {
            fl = tl_err_at(I, target, TL_ERR_ARG, "array assignment takes a single index");
        } else if ((fl = tl_eval_expr(I, ix, &iv)) == TL_FLOW_OK) {
            tl_array *a = obj.as.arr;
            if (iv.kind != TL_VAL_INT) {
                fl = tl_err_at(I, ix, TL_ERR_TYPE, "an index must be an int, got %s",
                               tl_value_type_name(&iv));
            } else {
                int64_t i = iv.as.i < 0 ? iv.as.i + (int64_t)a->len : iv.as.i;
                if (i < 0 || i >= (int64_t)a->len)
                    fl = tl_err_at(I, ix, TL_ERR_RANGE,
                                   "index %lld out of range for array of length %zu",
                                   (long long)iv.as.i, a->len);
                else if (tl_value_would_cycle(&v, a))
                    fl = tl_err_at(I, target, TL_ERR_ARG, "cannot store an array inside itself");
                else {
                    tl_value_release(&a->items[i]);
                    a->items[i] = v;
                    v = TL_VOID;
                }
            }
            tl_value_release(&iv);
        }
    }
    tl_value_release(&v);
    tl_value_release(&obj);
    return fl;
}

/* ------------------------------------------------------------------ loops */

static tl_flow count_step(tl_interp *I, const tl_node *n) {
    if (I->max_steps && ++I->steps > I->max_steps)
        return tl_err_at(I, n, TL_ERR_INTERRUPTED, "step limit of %lld exceeded",
                         (long long)I->max_steps);
    return tl_guard(I, n);
}

/* Runs one loop body iteration in `scope` (cleared first is the caller's job).
** Returns OK to continue looping, BREAK (mapped to OK by the caller), or another flow. */
static tl_flow loop_body(tl_interp *I, const tl_node *body, tl_scope *scope) {
    tl_scope *saved = I->cur;
    I->cur = scope;
    tl_flow fl = tl_exec_list(I, body->a, NULL);
    I->cur = saved;
    tl_scope_clear(scope);
    if (fl == TL_FLOW_CONTINUE) fl = TL_FLOW_OK;
    return fl;
}

static bool is_range_call(tl_interp *I, const tl_node *e) {
    if (e->kind != TL_N_CALL || e->a->kind != TL_N_IDENT) return false;
    const char *n = e->a->name;
    if (strcmp(n, "range") != 0 && strcmp(n, "range_i") != 0) return false;
    return !tl_find_fn(I, n) && !tl_scope_lookup(I, n);
}

static tl_flow for_range(tl_interp *I, const tl_node *n, tl_scope *scope) {
    int64_t v[3] = {0, 0, 1};
    int argc = 0;
    const tl_node *call = n->a;
    for (const tl_node *a = call->b; a; a = a->next, argc++) {
        if (argc >= 3)
            return tl_err_at(I, a, TL_ERR_ARG, "%s takes 1 to 3 arguments", call->a->name);
        tl_value x;
        tl_flow fl = tl_eval_expr(I, a, &x);
        if (fl != TL_FLOW_OK) return fl;
        if (x.kind != TL_VAL_INT) {
            tl_flow e = tl_err_at(I, a, TL_ERR_TYPE, "%s: arguments must be ints, got %s",
                                  call->a->name, tl_value_type_name(&x));
            tl_value_release(&x);
            return e;
        }
        v[argc] = x.as.i;
    }
    if (argc == 0)
        return tl_err_at(I, call, TL_ERR_ARG, "%s takes 1 to 3 arguments", call->a->name);
    int64_t start = argc == 1 ? 0 : v[0], end = argc == 1 ? v[0] : v[1],
            step = argc == 3 ? v[2] : 1;
    if (step == 0) return tl_err_at(I, call, TL_ERR_ARG, "%s: step must not be 0", call->a->name);
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step) {
        tl_flow fl = count_step(I, n);
        if (fl == TL_FLOW_OK)
            fl = tl_scope_declare(scope, n->name, tl_value_int(i)) == TL_OK
                     ? TL_FLOW_OK
                     : tl_err_status(I, n, TL_ERR_NOMEM);
        if (fl == TL_FLOW_OK) fl = loop_body(I, n->b, scope);
        if (fl == TL_FLOW_BREAK) return TL_FLOW_OK;
        if (fl != TL_FLOW_OK) return fl;
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return TL_FLOW_OK;
}

tl_status tl_tensor_row_value(tl_tensor *t, int64_t i, tl_value *out);

static tl_flow exec_for(tl_interp *I, const tl_node *n) {
    tl_scope scope = {.parent = I->cur};
    tl_flow fl;
    if (is_range_call(I, n->a)) {
        fl = for_range(I, n, &scope);
        tl_scope_clear(&scope);
        tl_scope_free_vars(&scope);
        return fl;
    }
    tl_value it;
    fl = tl_eval_expr(I, n->a, &it);
    if (fl != TL_FLOW_OK) return fl;
    if (it.kind == TL_VAL_ARRAY) {
        for (size_t i = 0; i < it.as.arr->len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_scope_declare(&scope, n->name, tl_value_retain(it.as.arr->items[i]));
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else if (it.kind == TL_VAL_TENSOR) {
        tl_tensor *t = it.as.tensor;
        int64_t len = t->n_dims == 0 ? 1 : t->ne[t->n_dims - 1];
        for (int64_t i = 0; i < len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_value row;
            tl_status st = tl_tensor_row_value(t, i, &row);
            if (st != TL_OK) {
                fl = tl_err_status(I, n->a, st);
                break;
            }
            tl_scope_declare(&scope, n->name, row);
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else if (it.kind == TL_VAL_STRING) {
        for (size_t i = 0; i < it.as.str->len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_value ch;
            if (tl_value_string(it.as.str->data + i, 1, &ch) != TL_OK) {
                fl = tl_err_status(I, n, TL_ERR_NOMEM);
                break;
            }
            tl_scope_declare(&scope, n->name, ch);
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else {
        fl = tl_err_at(I, n->a, TL_ERR_TYPE, "cannot iterate over %s", tl_value_type_name(&it));
    }
    if (fl == TL_FLOW_BREAK) fl = TL_FLOW_OK;
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    tl_value_release(&it);
    return fl;
}

static tl_flow eval_cond(tl_interp *I, const tl_node *e, bool *out, const char *what) {
    tl_value c;
    tl_flow fl = tl_eval_expr(I, e, &c);
    if (fl != TL_FLOW_OK) return fl;
    if (c.kind == TL_VAL_TENSOR) { /* `if t > 0.5` on a one-element tensor: its value */
        int64_t n = tl_tensor_nelements(c.as.tensor);
        const tl_builtin_def *item = n == 1 ? tl_builtin_resolve("item", 1, &c) : NULL;
        tl_value v = TL_VOID;
        if (!item) {
            fl = tl_err_at(I, e, TL_ERR_TYPE,
                           "%s condition is a tensor of %lld elements; reduce it first "
                           "(e.g. sum(t > 0) == numel(t)), or use ≈ for a whole-tensor check",
                           what, (long long)n);
            tl_value_release(&c);
            return fl;
        }
        tl_clear_error();
        tl_status st = tl_builtin_call(item, I, 1, &c, &v);
        tl_value_release(&c);
        if (st != TL_OK) {
            tl_value_release(&v);
            return tl_err_status(I, e, st);
        }
        *out = tl_value_as_double(&v) != 0;
        tl_value_release(&v);
        return TL_FLOW_OK;
    }
    if (c.kind != TL_VAL_BOOL) {
        fl = tl_err_at(I, e, TL_ERR_TYPE, "%s condition must be a bool, got %s", what,
                       tl_value_type_name(&c));
        tl_value_release(&c);
        return fl;
    }
    *out = c.as.b;
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ statements */

tl_flow tl_exec_block(tl_interp *I, const tl_node *block, tl_value *last) {
    tl_scope scope = {.parent = I->cur};
    tl_scope *saved = I->cur;
    I->cur = &scope;
    tl_flow fl = tl_exec_list(I, block->a, last);
    I->cur = saved;
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    return fl;
}

tl_flow tl_exec_list(tl_interp *I, const tl_node *stmts, tl_value *last) {
    for (const tl_node *s = stmts; s; s = s->next) {
        tl_value *want = (last && !s->next) ? last : NULL;
        tl_flow fl = tl_exec_stmt(I, s, want);
        if (fl != TL_FLOW_OK) return fl;
    }
    return TL_FLOW_OK;
}

tl_flow tl_exec_stmt(tl_interp *I, const tl_node *n, tl_value *last) {
    tl_flow fl = count_step(I, n);
    if (fl != TL_FLOW_OK) return fl;
    switch ((tl_node_kind)n->kind) {
    case TL_S_LET: {
        tl_value v;
        fl = tl_eval_expr(I, n->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (n->c) {
            const tl_what what = {.kind = "let", .a = n->name};
            fl = tl_check_type(I, n->a, n->c, &v, &what);
            if (fl != TL_FLOW_OK) {
                tl_value_release(&v);
                return fl;
            }
        }
        tl_status st = tl_scope_declare(I->cur, n->name, v);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
    }
    case TL_S_ASSIGN: {
        if (n->a->kind == TL_N_INDEX) { /* a tensor equation? (lang/equation.h) */
            int eq = tl_eq_classify(I, n);
            if (eq < 0) return TL_FLOW_ERR;
            if (eq > 0) return tl_eq_exec(I, n);
        }
        tl_value v;
        fl = tl_eval_expr(I, n->b, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (last) *last = tl_value_retain(v);
        fl = assign(I, n->a, v);
        if (fl != TL_FLOW_OK && last) tl_value_release(last);
        return fl;
    }
    case TL_S_IF: {
        bool c;
        fl = eval_cond(I, n->a, &c, "if");
        if (fl != TL_FLOW_OK) return fl;
        if (c) return tl_exec_block(I, n->b, last);
        if (!n->c) return TL_FLOW_OK;
        if (n->c->kind == TL_S_IF) return tl_exec_stmt(I, n->c, last);
        return tl_exec_block(I, n->c, last);
    }
    case TL_S_WHILE: {
        tl_scope scope = {.parent = I->cur};
        for (;;) {
            bool c;
            fl = eval_cond(I, n->a, &c, "while");
            if (fl != TL_FLOW_OK || !c) break;
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
        }
        tl_scope_free_vars(&scope);
        return fl == TL_FLOW_BREAK ? TL_FLOW_OK : fl;
    }
    case TL_S_LOOP: {
        tl_scope scope = {.parent = I->cur};
        for (;;) {
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
        }
        tl_scope_free_vars(&scope);
        return fl == TL_FLOW_BREAK ? TL_FLOW_OK : fl;
    }
    case TL_S_FOR:
        return exec_for(I, n);
    case TL_S_BREAK:
        I->flow_node = n;
        return TL_FLOW_BREAK;
    case TL_S_CONTINUE:
        I->flow_node = n;
        return TL_FLOW_CONTINUE;
    case TL_S_RETURN: {
        tl_value v = TL_VOID;
        if (n->a) {
            fl = tl_eval_expr(I, n->a, &v);
            if (fl != TL_FLOW_OK) return fl;
        }
        tl_value_release(&I->ret);
        I->ret = v;
        I->flow_node = n;
        return TL_FLOW_RETURN;
    }
    case TL_S_BLOCK:
        return tl_exec_block(I, n, last);
    case TL_S_QUERY:
    case TL_S_INFER:
    case TL_S_WITH:
        return tl_logic_stmt(I, n); /* lang/eval_logic_query.c */
    case TL_S_EXPR: {
        tl_value v;
        if (tl_logic_is_atom(I, n->a)) return tl_logic_fact(I, n->a); /* a fact */
        fl = tl_eval_expr(I, n->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (last)
            *last = v;
        else
            tl_value_release(&v);
        return TL_FLOW_OK;
    }
    case TL_S_TENSOR:
        return tl_tensor_decl(I, n);
    case TL_S_EQUATION: {
        tl_value a, b = TL_VOID;
        fl = tl_eval_expr(I, n->a, &a);
        if (fl == TL_FLOW_OK) fl = tl_eval_expr(I, n->b, &b);
        tl_value_release(&a);
        tl_value_release(&b);
        return fl;
    }
    case TL_S_LEARN:
        return tl_exec_learn(I, n);
    case TL_S_NOGRAD:
        return tl_exec_no_grad(I, n);
    case TL_S_UNSUPPORTED:
        return tl_err_at(I, n, TL_ERR_UNSUPPORTED, "%s %s not supported yet", n->name,
                         (strcmp(n->name, "infer") == 0 || strcmp(n->name, "python import") == 0)
                             ? "is"
                             : "are");
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "cannot run a %s node", tl_node_kind_name(n->kind));
    }
}
