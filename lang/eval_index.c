/* lang/eval_index.c -- field access, indexing and slicing of arrays, strings and
** tensors (x[i], x[:, 0], negative indices), and assignment into tensor regions.
** Split from eval_expr.c, which dispatches here. */
#include "lang/display.h"
#include "lang/builtins/tensor_args.h"
#include "lang/eval_internal.h"
#include "lang/autograd.h"
#include "lang/eval_logic.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tl_flow tl_eval_call(tl_interp *I, const tl_node *n, tl_value *out);
tl_flow tl_eval_method(tl_interp *I, const tl_node *n, tl_value *out);

/* ------------------------------------------------------------------ fields, indexing */

tl_flow tl_eval_field(tl_interp *I, const tl_node *n, tl_value *out) {
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
    } else if (obj.kind == TL_VAL_TENSOR && strcmp(n->name, "grad") == 0) {
        /* W.grad: the gradient backward() accumulated (zeros before any) */
        tl_tensor *t = obj.as.tensor, *g = t->grad ? tl_tensor_ref(t->grad) : NULL;
        int64_t shape[TL_MAX_DIMS];
        tl_tensor_shape(t, shape);
        tl_status st = g ? TL_OK : tl_op_full(TL_DTYPE_F32, t->n_dims, shape, 0.0, &g);
        if (st == TL_OK)
            *out = tl_value_tensor(g);
        else
            fl = tl_err_status(I, n, st);
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

/* The region t[xs]: kept dims (ggml order) with their sizes and strides, and the byte
** offset of its first element. */
typedef struct region {
    int kept;
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    size_t offs;
} region;

static tl_flow tensor_region(tl_interp *I, const tl_node *n, tl_tensor *t, const idx *xs, int k,
                             region *r) {
    int nd = t->n_dims;
    if (k > nd)
        return tl_err_at(I, n, TL_ERR_ARG, "too many indices (%d) for a tensor of rank %d", k, nd);
    bool quant = tl_dtype_traits(t->dtype)->quantized;
    r->kept = 0;
    r->offs = 0;
    /* walk ggml dims from the innermost (NumPy axis nd-1) outwards */
    for (int d = 0; d < nd; d++) {
        int ax = nd - 1 - d;
        if (ax >= k) {
            r->ne[r->kept] = t->ne[d];
            r->nb[r->kept++] = t->nb[d];
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
            r->offs += (size_t)lo * t->nb[d];
            r->ne[r->kept] = hi - lo;
            r->nb[r->kept++] = t->nb[d];
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
            r->offs += (size_t)i * t->nb[d];
        }
    }
    return TL_FLOW_OK;
}

static tl_flow index_tensor(tl_interp *I, const tl_node *n, tl_tensor *t, const idx *xs, int k,
                            tl_value *out) {
    region r;
    tl_flow fl = tensor_region(I, n, t, xs, k, &r);
    if (fl != TL_FLOW_OK) return fl;
    if (r.kept == 0) {
        *out = scalar_of(t, r.offs);
        return TL_FLOW_OK;
    }
    tl_tensor *v;
    tl_status st = tl_tensor_view(t, r.kept, r.ne, r.nb, r.offs, &v);
    if (st != TL_OK) return tl_err_status(I, n, st);
    *out = tl_value_tensor(v);
    return TL_FLOW_OK;
}

static tl_flow eval_indices(tl_interp *I, const tl_node *list, idx *xs, int *k) {
    tl_flow fl = TL_FLOW_OK;
    *k = 0;
    for (const tl_node *e = list; e && fl == TL_FLOW_OK; e = e->next, (*k)++) {
        if (*k >= TL_MAX_DIMS) return tl_err_at(I, e, TL_ERR_ARG, "too many indices");
        fl = eval_idx(I, e, &xs[*k]);
    }
    return fl;
}

/* Copies src (contiguous, same dtype, r's element count) into the region of t. */
static void write_region(tl_tensor *t, const region *r, const tl_tensor *src) {
    size_t es = tl_dtype_traits(t->dtype)->size;
    const char *from = tl_tensor_data(src);
    char *base = (char *)t->storage->data + t->offs + r->offs;
    int64_t at[TL_MAX_DIMS] = {0};
    int64_t total = 1;
    for (int d = 0; d < r->kept; d++)
        total *= r->ne[d];
    for (int64_t e = 0; e < total; e++) {
        size_t o = 0;
        for (int d = 0; d < r->kept; d++)
            o += (size_t)at[d] * r->nb[d];
        memcpy(base + o, from + (size_t)e * es, es);
        for (int d = 0; d < r->kept && ++at[d] == r->ne[d]; d++)
            at[d] = 0;
    }
}

tl_flow tl_assign_tensor_index(tl_interp *I, const tl_node *target, tl_value *slot,
                               const tl_value *v) {
    idx xs[TL_MAX_DIMS];
    int k = 0;
    tl_flow fl = eval_indices(I, target->b, xs, &k);
    if (fl != TL_FLOW_OK) return fl;
    tl_tensor *t = slot->as.tensor;
    if (tl_dtype_traits(t->dtype)->quantized)
        return tl_err_at(I, target, TL_ERR_UNSUPPORTED, "cannot assign into a %s tensor",
                         tl_dtype_name(t->dtype));
    region r;
    fl = tensor_region(I, target, t, xs, k, &r); /* check the indices before copying */
    if (fl != TL_FLOW_OK) return fl;
    /* copy on write: never write storage that someone else sees or that is not ours
    ** (a view of mmapped model weights, another variable's tensor, a broadcast view) */
    if (t->refcount > 1 || t->storage->refcount > 1 || t->storage->release ||
        !tl_tensor_is_contiguous(t)) {
        tl_tensor *copy;
        tl_status st = tl_op_contiguous(t, &copy);
        if (st != TL_OK) return tl_err_status(I, target, st);
        tl_value_release(slot);
        *slot = tl_value_tensor(copy);
        t = copy;
        fl = tensor_region(I, target, t, xs, k, &r);
        if (fl != TL_FLOW_OK) return fl;
    }
    int64_t shape[TL_MAX_DIMS];
    for (int d = 0; d < r.kept; d++)
        shape[d] = r.ne[r.kept - 1 - d];
    tl_tensor *src = NULL, *b = NULL, *c = NULL, *cc = NULL;
    tl_status st = tl_value_to_tensor(v, &src);
    if (st == TL_OK && r.kept == 0 && tl_tensor_nelements(src) != 1)
        st = tl_fail(TL_ERR_SHAPE, "one element is assigned but the value has %lld",
                     (long long)tl_tensor_nelements(src));
    else if (st == TL_OK)
        st = r.kept ? tl_op_broadcast_to(src, r.kept, shape, &b) : tl_op_contiguous(src, &b);
    if (st == TL_OK) st = tl_op_cast(b, t->dtype, &c);
    if (st == TL_OK) st = tl_op_contiguous(c, &cc);
    if (st == TL_OK) write_region(t, &r, cc);
    tl_tensor_unref(src);
    tl_tensor_unref(b);
    tl_tensor_unref(c);
    tl_tensor_unref(cc);
    if (st != TL_OK) {
        tl_error_prefix("assigning %s to %s[...]", tl_value_type_name(v), target->a->name);
        return tl_err_status(I, target, st);
    }
    return TL_FLOW_OK;
}

tl_flow tl_eval_index(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value obj;
    tl_flow fl;
    if (tl_logic_embedding_index(I, n, out, &fl)) return fl; /* E["alice"]: logic_embed.c */
    fl = tl_eval_expr(I, n->a, &obj);
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
            /* autograd: a view of a learnable tensor is recorded like select/slice (a
            ** single element read as a number is a constant) */
            if (fl == TL_FLOW_OK && out->kind == TL_VAL_TENSOR && tl_ag_wants(1, &obj)) {
                tl_status st = tl_ag_record_named("select", 1, &obj, out);
                if (st != TL_OK) {
                    tl_value_release(out);
                    fl = tl_err_status(I, n, st);
                }
            }
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
