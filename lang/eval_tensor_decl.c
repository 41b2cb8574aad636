/* lang/eval_tensor_decl.c -- `tensor NAME: TYPE [= e]` declarations and the
** conversion of a rectangular nested array of numbers to a tensor of a given dtype
** (integers kept exact; a number the dtype cannot hold, or a ragged literal, is an
** error). */
#include "lang/eval_internal.h"
#include "lang/eval_learn.h"
#include "runtime/half.h"
#include "runtime/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
