/* lang/equation_run.c -- running a compiled equation plan on the tensors in scope.
**
** Two phases: the leaves' tensors are evaluated and every index's extent is
** settled (mismatches are errors naming the index, both extents and both
** factors); then the plan tree is evaluated bottom-up, products through
** tl_contract (runtime/contract.h), sums and divisions through broadcasting
** binary ops, functions through the unary/softmax ops.  Intermediate results
** carry their labels (in an order of their own; align() lines them up). */
#include "lang/equation_internal.h"
#include "lang/autograd.h"
#include "lang/eval_logic.h"

#include "runtime/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void eres_free(eres *r) {
    tl_tensor_unref(r->t);
    r->t = NULL;
}

tl_flow tl_eq_status_err(run *R, tl_status st) {
    return tl_err_status(R->I, R->stmt->a->a, st);
}

static tl_flow st_err(run *R, tl_status st) {
    return tl_eq_status_err(R, st);
}

/* ---- phase 2: evaluation ----------------------------------------------------------------- */

static eq_mask mask_of(const int *lab, int n) {
    eq_mask m = 0;
    for (int i = 0; i < n; i++)
        m |= (eq_mask)1 << lab[i];
    return m;
}

static int labels_sorted(eq_mask m, int *lab) {
    int n = 0;
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++)
        if (m & ((eq_mask)1 << l)) lab[n++] = l;
    return n;
}

/* Sums (or max/min/avg) away the labels of r outside want; distinct labels, ascending. */
static tl_flow finish(run *R, eres *r, eq_mask want, tl_eq_proj proj, tl_contract_plan *plan) {
    if (!r->t) return TL_FLOW_OK;
    eq_mask have = mask_of(r->lab, r->n);
    eq_mask keep = proj == TL_EQ_PROJ_SUM ? (have & want) : have;
    tl_contract_spec spec = {.n_ops = 1};
    spec.n_dims[0] = r->n;
    memcpy(spec.labels[0], r->lab, sizeof r->lab);
    spec.n_out = 0; /* r's own order (a quantized weight must not be permuted) */
    for (int a = 0; a < r->n; a++) {
        eq_mask bit = (eq_mask)1 << r->lab[a];
        if (keep & bit) {
            spec.out[spec.n_out++] = r->lab[a];
            keep &= ~bit;
        }
    }
    bool identity = spec.n_out == r->n;
    for (int i = 0; identity && i < r->n; i++)
        if (r->lab[i] != spec.out[i]) identity = false;
    if (!identity) {
        tl_tensor *y = NULL;
        const tl_tensor *ops[1] = {r->t};
        tl_status st = tl_contract(&spec, ops, plan, &y);
        if (st != TL_OK) return st_err(R, st);
        tl_tensor_unref(r->t);
        r->t = y;
        r->n = spec.n_out;
        memcpy(r->lab, spec.out, sizeof r->lab);
    }
    if (proj != TL_EQ_PROJ_SUM) {
        static const tl_reduce_op red[] = {TL_RED_SUM, TL_RED_MAX, TL_RED_MIN, TL_RED_MEAN};
        for (int a = r->n - 1; a >= 0; a--) {
            if (want & ((eq_mask)1 << r->lab[a])) continue;
            tl_tensor *y = NULL;
            tl_status st = tl_op_reduce(red[proj], r->t, a, false, false, &y);
            if (st != TL_OK) return st_err(R, st);
            tl_tensor_unref(r->t);
            r->t = y;
            memmove(r->lab + a, r->lab + a + 1, (size_t)(r->n - a - 1) * sizeof(int));
            r->n--;
        }
    }
    return TL_FLOW_OK;
}

/* A view of r over the label order `order` (size 1 where r lacks a label). */
static tl_status align(const eres *r, const int *order, int n, tl_tensor **out) {
    bool same = r->n == n;
    for (int i = 0; same && i < n; i++)
        same = r->lab[i] == order[i];
    if (same) { /* already in that order: no view needed */
        *out = tl_tensor_ref(r->t);
        return TL_OK;
    }
    int axes[TL_MAX_DIMS] = {0}, k = 0;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < r->n; a++)
            if (r->lab[a] == order[i]) axes[k++] = a;
    tl_tensor *t = NULL;
    tl_status st = tl_op_permute(r->t, r->n, axes, &t);
    for (int i = 0; i < n && st == TL_OK; i++) {
        if (mask_of(r->lab, r->n) & ((eq_mask)1 << order[i])) continue;
        tl_tensor *u = NULL;
        st = tl_op_unsqueeze(t, i, &u);
        tl_tensor_unref(t);
        t = u;
    }
    if (st != TL_OK) {
        tl_tensor_unref(t);
        return st;
    }
    *out = t;
    return TL_OK;
}

/* a (op) b with broadcasting over labels; consumes both. */
static tl_flow combine(run *R, eres *a, eres *b, tl_binary_op op, eres *out) {
    tl_status st = TL_OK;
    eres r = {0};
    if (!a->t && !b->t) {
        double x = a->s, y = b->s;
        r.s = op == TL_BIN_ADD   ? x + y
              : op == TL_BIN_SUB ? x - y
              : op == TL_BIN_MUL ? x * y
                                 : x / y;
    } else if (!a->t || !b->t) {
        eres *t = a->t ? a : b;
        st = tl_op_binary_scalar(op, t->t, a->t ? b->s : a->s, !a->t, &r.t);
        r.n = t->n;
        memcpy(r.lab, t->lab, sizeof r.lab);
    } else {
        r.n = labels_sorted(mask_of(a->lab, a->n) | mask_of(b->lab, b->n), r.lab);
        tl_tensor *va = NULL, *vb = NULL;
        st = align(a, r.lab, r.n, &va);
        if (st == TL_OK) st = align(b, r.lab, r.n, &vb);
        if (st == TL_OK) st = tl_op_binary(op, va, vb, &r.t);
        tl_tensor_unref(va);
        tl_tensor_unref(vb);
    }
    eres_free(a);
    eres_free(b);
    if (st != TL_OK) return st_err(R, st);
    *out = r;
    return TL_FLOW_OK;
}

static tl_flow eval_node(run *R, eq_node *n, eq_mask want, tl_eq_proj proj, eres *out);

static tl_flow eval_scalar(run *R, const eq_node *n, eres *out) {
    tl_value v;
    tl_flow fl = tl_eval_expr(R->I, n->src, &v);
    if (fl != TL_FLOW_OK) return fl;
    memset(out, 0, sizeof *out);
    if (v.kind == TL_VAL_INT)
        out->s = (double)v.as.i;
    else if (v.kind == TL_VAL_FLOAT)
        out->s = v.as.f;
    else if (v.kind == TL_VAL_BOOL)
        out->s = v.as.b ? 1.0 : 0.0;
    else if (v.kind == TL_VAL_TENSOR && tl_tensor_nelements(v.as.tensor) == 1 &&
             !tl_dtype_traits(v.as.tensor->dtype)->quantized) {
        tl_status st = tl_tensor_get_f64(v.as.tensor, 0, &out->s);
        tl_value_release(&v);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(R->I, n->src, st);
    } else {
        char s[64] = "";
        if (v.kind == TL_VAL_TENSOR) tl_tensor_shape_str(v.as.tensor, s, sizeof s);
        const char *k = tl_value_type_name(&v);
        tl_value_release(&v);
        return tl_err_at(R->I, n->src, TL_ERR_TYPE,
                         "a %s%s%s without indices in a tensor equation (index it: X[i, j])", k,
                         s[0] ? " " : "", s);
    }
    tl_value_release(&v);
    return TL_FLOW_OK;
}

static tl_flow eval_prod(run *R, eq_node *n, eq_mask want, tl_eq_proj proj, eres *out) {
    if (proj == TL_EQ_PROJ_SUM) { /* a projection against a stored weight: lang/equation_linear.c */
        memset(out, 0, sizeof *out);
        int done = tl_eq_linear_fast(R, n, want, out);
        if (done) return done > 0 ? TL_FLOW_OK : TL_FLOW_ERR;
    }
    eres f[TL_CONTRACT_MAX_OPS];
    int nf = 0;
    double coef = 1.0;
    tl_flow fl = TL_FLOW_OK;
    eq_mask cwant = proj == TL_EQ_PROJ_SUM ? want : n->labels;
    for (int i = 0; i < n->n_kids && fl == TL_FLOW_OK; i++) {
        eq_mask others = cwant;
        for (int j = 0; j < n->n_kids; j++)
            if (j != i) others |= n->kids[j]->labels;
        eres r = {0};
        eq_mask kw = n->kids[i]->labels & others;
        if (n->kids[i]->kind == EQ_LEAF) {
            fl = tl_eq_make_leaf(R, n->kids[i], &r, true);
            if (fl == TL_FLOW_OK && r.grp && !(kw & ((eq_mask)1 << r.grp_label))) {
                eres_free(&r); /* h is summed right here: read it expanded */
                fl = tl_eq_make_leaf(R, n->kids[i], &r, false);
            }
            if (fl == TL_FLOW_OK) fl = finish(R, &r, kw, TL_EQ_PROJ_SUM, &n->kids[i]->plan);
            if (fl != TL_FLOW_OK) eres_free(&r);
        } else
            fl = eval_node(R, n->kids[i], kw, TL_EQ_PROJ_SUM, &r);
        if (fl != TL_FLOW_OK) break;
        if (!r.t)
            coef *= r.s;
        else
            f[nf++] = r;
    }
    if (fl == TL_FLOW_OK && nf == 0) {
        memset(out, 0, sizeof *out);
        out->s = coef;
        return TL_FLOW_OK;
    }
    if (fl == TL_FLOW_OK) {
        tl_contract_spec spec = {.n_ops = nf};
        const tl_tensor *ops[TL_CONTRACT_MAX_OPS];
        eq_mask all = 0;
        for (int i = 0; i < nf; i++) {
            spec.n_dims[i] = f[i].n;
            memcpy(spec.labels[i], f[i].lab, sizeof f[i].lab);
            ops[i] = f[i].t;
            all |= mask_of(f[i].lab, f[i].n);
        }
        int hi = -1, lo = -1;
        fl = tl_eq_split_groups(R, f, nf, &hi, &lo);
        if (fl == TL_FLOW_OK) {
            all = 0;
            for (int i = 0; i < nf; i++) {
                spec.n_dims[i] = f[i].n;
                memcpy(spec.labels[i], f[i].lab, sizeof f[i].lab);
                ops[i] = f[i].t;
                all |= mask_of(f[i].lab, f[i].n);
            }
            if (hi >= 0 && (cwant & ((eq_mask)1 << hi))) cwant |= (eq_mask)1 << lo;
        }
        spec.n_out = labels_sorted(all & cwant, spec.out);
        if (hi >= 0 && (cwant & ((eq_mask)1 << hi))) { /* lo right after hi: merging is a view */
            int k = 0, o[TL_MAX_DIMS];
            for (int a = 0; a < spec.n_out; a++) {
                if (spec.out[a] == lo) continue;
                o[k++] = spec.out[a];
                if (spec.out[a] == hi) o[k++] = lo;
            }
            memcpy(spec.out, o, (size_t)k * sizeof(int));
        }
        tl_tensor *y = NULL;
        tl_status st = fl == TL_FLOW_OK ? tl_contract(&spec, ops, &n->plan, &y) : TL_OK;
        if (fl == TL_FLOW_OK && st == TL_OK && hi >= 0 && (cwant & ((eq_mask)1 << hi)))
            st = tl_eq_merge_group(&y, spec.out, &spec.n_out, hi, lo);
        if (fl != TL_FLOW_OK)
            ;
        else if (st != TL_OK)
            fl = st_err(R, st);
        else {
            memset(out, 0, sizeof *out);
            out->t = y;
            out->n = spec.n_out;
            memcpy(out->lab, spec.out, sizeof out->lab);
            if (coef != 1.0) {
                tl_tensor *z = NULL;
                st = tl_op_binary_scalar(TL_BIN_MUL, y, coef, false, &z);
                if (st != TL_OK)
                    fl = st_err(R, st);
                else {
                    tl_tensor_unref(y);
                    out->t = z;
                }
            }
        }
    }
    for (int i = 0; i < nf; i++)
        eres_free(&f[i]);
    if (fl == TL_FLOW_OK && proj != TL_EQ_PROJ_SUM) fl = finish(R, out, want, proj, NULL);
    if (fl != TL_FLOW_OK) eres_free(out);
    return fl;
}

static double scalar_fn(eq_fn fn, double x) {
    switch (fn) {
    case FN_RELU:
        return x > 0 ? x : 0;
    case FN_SIGMOID:
        return 1.0 / (1.0 + exp(-x));
    case FN_STEP:
        return x > 0 ? 1.0 : 0.0;
    case FN_EXP:
        return exp(x);
    case FN_LOG:
        return log(x);
    case FN_TANH:
        return tanh(x);
    case FN_SILU:
        return x / (1.0 + exp(-x));
    case FN_SQRT:
        return sqrt(x);
    case FN_ABS:
        return fabs(x);
    default:
        return x;
    }
}

static tl_status apply_lnorm(tl_tensor *x, int axis, tl_tensor **out) {
    int n = x->n_dims, perm[TL_MAX_DIMS], inv[TL_MAX_DIMS], k = 0;
    for (int a = 0; a < n; a++)
        if (a != axis) perm[k++] = a;
    perm[k] = axis;
    for (int a = 0; a < n; a++)
        inv[perm[a]] = a;
    tl_tensor *p = NULL, *c = NULL, *y = NULL;
    tl_status st = tl_op_permute(x, n, perm, &p);
    if (st == TL_OK) st = tl_op_contiguous(p, &c);
    if (st == TL_OK) st = tl_op_layer_norm(c, NULL, NULL, 1e-5f, &y);
    tl_tensor_unref(p);
    tl_tensor_unref(c);
    if (st == TL_OK) st = tl_op_permute(y, n, inv, out);
    tl_tensor_unref(y);
    return st;
}

static tl_flow eval_func(run *R, eq_node *n, eq_mask want, tl_eq_proj proj, eres *out) {
    eres r = {0};
    tl_flow fl = eval_node(R, n->kids[0], want, proj, &r);
    if (fl != TL_FLOW_OK) return fl;
    double T = 1.0;
    if (n->fn == FN_SIGMOID && n->arg2) {
        tl_value v;
        fl = tl_eval_expr(R->I, n->arg2, &v);
        if (fl != TL_FLOW_OK) {
            eres_free(&r);
            return fl;
        }
        if (v.kind == TL_VAL_INT)
            T = (double)v.as.i;
        else if (v.kind == TL_VAL_FLOAT)
            T = v.as.f;
        else {
            tl_value_release(&v);
            eres_free(&r);
            return tl_err_at(R->I, n->arg2, TL_ERR_TYPE, "the temperature must be a number");
        }
    }
    if (n->fn == FN_USER) {
        tl_value callee, arg, res;
        if (!r.t) {
            tl_status st = tl_tensor_scalar(TL_DTYPE_F32, r.s, &r.t);
            if (st != TL_OK) return st_err(R, st);
        }
        fl = tl_eval_expr(R->I, n->src->a, &callee);
        if (fl != TL_FLOW_OK) {
            eres_free(&r);
            return fl;
        }
        arg = tl_value_tensor(tl_tensor_ref(r.t));
        fl = tl_call_value(R->I, &callee, n->src, 1, &arg, &res);
        tl_value_release(&callee);
        tl_value_release(&arg);
        if (fl != TL_FLOW_OK) {
            eres_free(&r);
            return fl;
        }
        if (res.kind != TL_VAL_TENSOR || !tl_tensor_same_shape(res.as.tensor, r.t)) {
            tl_value_release(&res);
            eres_free(&r);
            return tl_err_at(R->I, n->src, TL_ERR_SHAPE,
                             "a function applied in an equation must return a tensor of its "
                             "argument's shape");
        }
        tl_tensor_unref(r.t);
        r.t = res.as.tensor;
        *out = r;
        return TL_FLOW_OK;
    }
    if (!r.t) {
        if (n->fn == FN_SOFTMAX || n->fn == FN_LNORM) {
            return tl_err_at(R->I, n->src, TL_ERR_SHAPE,
                             "softmax/lnorm of an expression without "
                             "the marked index");
        }
        r.s = scalar_fn(n->fn, n->fn == FN_SIGMOID ? r.s / T : r.s);
        *out = r;
        return TL_FLOW_OK;
    }
    tl_status st = TL_OK;
    tl_tensor *y = NULL;
    switch (n->fn) {
    case FN_SIGMOID:
        if (T != 1.0) {
            tl_tensor *d = NULL;
            st = tl_op_binary_scalar(TL_BIN_DIV, r.t, T, false, &d);
            if (st == TL_OK) st = tl_op_unary(TL_UN_SIGMOID, d, &y);
            tl_tensor_unref(d);
        } else
            st = tl_op_unary(TL_UN_SIGMOID, r.t, &y);
        break;
    case FN_STEP: {
        tl_tensor *b = NULL;
        st = tl_op_binary_scalar(TL_BIN_GT, r.t, 0.0, false, &b);
        if (st == TL_OK) st = tl_op_cast(b, TL_DTYPE_F32, &y);
        tl_tensor_unref(b);
        break;
    }
    case FN_SOFTMAX:
    case FN_LNORM: {
        int mark = R->p->out[R->p->mark], axis = -1;
        for (int a = 0; a < r.n; a++)
            if (r.lab[a] == mark) axis = a;
        if (axis < 0) {
            eres_free(&r);
            return tl_err_at(R->I, n->src, TL_ERR_SHAPE,
                             "the marked index %s does not occur inside %s(...)",
                             R->p->label_name[mark], n->fn == FN_SOFTMAX ? "softmax" : "lnorm");
        }
        st = n->fn == FN_SOFTMAX ? tl_op_softmax(r.t, axis, &y) : apply_lnorm(r.t, axis, &y);
        break;
    }
    default: {
        static const tl_unary_op un[] = {
            [FN_RELU] = TL_UN_RELU, [FN_EXP] = TL_UN_EXP,   [FN_LOG] = TL_UN_LOG,
            [FN_TANH] = TL_UN_TANH, [FN_SILU] = TL_UN_SILU, [FN_SQRT] = TL_UN_SQRT,
            [FN_ABS] = TL_UN_ABS,
        };
        st = tl_op_unary(un[n->fn], r.t, &y);
        break;
    }
    }
    if (st != TL_OK) {
        eres_free(&r);
        return st_err(R, st);
    }
    tl_tensor_unref(r.t);
    r.t = y;
    *out = r;
    return TL_FLOW_OK;
}

static tl_flow eval_node(run *R, eq_node *n, eq_mask want, tl_eq_proj proj, eres *out) {
    memset(out, 0, sizeof *out);
    switch (n->kind) {
    case EQ_SCALAR:
        return eval_scalar(R, n, out);
    case EQ_LEAF: {
        tl_flow fl = tl_eq_make_leaf(R, n, out, false);
        if (fl == TL_FLOW_OK) fl = finish(R, out, want, proj, &n->plan);
        if (fl != TL_FLOW_OK) eres_free(out);
        return fl;
    }
    case EQ_PROD:
        return eval_prod(R, n, want, proj, out);
    case EQ_FUNC:
        return eval_func(R, n, want, proj, out);
    case EQ_SUM: {
        eres acc = {0};
        for (int i = 0; i < n->n_kids; i++) {
            eres r;
            tl_flow fl = eval_node(R, n->kids[i], want, proj, &r);
            if (fl != TL_FLOW_OK) {
                eres_free(&acc);
                return fl;
            }
            if (i == 0 && n->signs[0] > 0)
                acc = r;
            else {
                fl = combine(R, &acc, &r, n->signs[i] > 0 ? TL_BIN_ADD : TL_BIN_SUB, &acc);
                if (fl != TL_FLOW_OK) return fl;
            }
        }
        *out = acc;
        return TL_FLOW_OK;
    }
    case EQ_DIV: {
        eres a, b;
        tl_flow fl = eval_node(R, n->kids[0], want, proj, &a);
        if (fl != TL_FLOW_OK) return fl;
        fl = eval_node(R, n->kids[1], want, TL_EQ_PROJ_SUM, &b);
        if (fl != TL_FLOW_OK) {
            eres_free(&a);
            return fl;
        }
        return combine(R, &a, &b, TL_BIN_DIV, out);
    }
    }
    return tl_err_at(R->I, n->src, TL_ERR_INTERNAL, "bad equation node");
}

tl_status tl_ag_record_equation(const tl_node *stmt, const eq_plan *p, tl_tensor *const *leaves,
                                tl_tensor *y); /* lang/autograd_eq.c */

tl_flow tl_eq_eval(tl_interp *I, const tl_node *n, tl_value *out) {
    eq_plan *p = NULL;
    tl_flow fl = tl_eq_plan_get(I, n, &p);
    if (fl != TL_FLOW_OK) return fl;
    /* not zero-initialised as a whole (5 KB per run): load_leaves sets the extents, the
    ** leaves' tensors and every group divisor before anything reads them */
    run R;
    R.I = I;
    R.stmt = n;
    R.p = p;
    memset(R.base, 0, (size_t)p->n_leaves * sizeof R.base[0]);
    fl = tl_eq_load_leaves(&R);
    if (fl == TL_FLOW_OK && p->attn) { /* lang/equation_attention.c */
        int done = tl_eq_attn_run(&R, out);
        if (done) {
            for (int i = 0; i < p->n_leaves; i++)
                tl_tensor_unref(R.base[i]);
            return done > 0 ? TL_FLOW_OK : TL_FLOW_ERR;
        }
    }
    eres r = {0};
    eq_mask want = mask_of(p->out, p->n_out);
    if (fl == TL_FLOW_OK) fl = eval_node(&R, p->root, want, p->proj, &r);
    if (fl != TL_FLOW_OK) {
        for (int i = 0; i < p->n_leaves; i++)
            tl_tensor_unref(R.base[i]);
        return fl;
    }
    int64_t shape[TL_MAX_DIMS];
    for (int i = 0; i < p->n_out; i++)
        shape[i] = R.ext[p->out[i]];
    tl_status st = TL_OK;
    tl_tensor *y = NULL;
    if (!r.t)
        st = tl_op_full(TL_DTYPE_F32, p->n_out, shape, r.s, &y);
    else {
        tl_tensor *v = NULL;
        st = align(&r, p->out, p->n_out, &v);
        if (st == TL_OK && r.n < p->n_out) {
            tl_tensor *e = NULL;
            st = tl_op_expand(v, p->n_out, shape, &e);
            tl_tensor_unref(v);
            v = e;
        }
        if (st == TL_OK && r.n < p->n_out)
            st = tl_op_contiguous(v, &y); /* materialise the broadcast */
        else if (st == TL_OK)
            y = tl_tensor_ref(v); /* a view (a transpose, a diagonal) is fine */
        tl_tensor_unref(v);
    }
    eres_free(&r);
    /* autograd (lang/autograd_eq.c): record the equation when a factor is learnable */
    bool track = false;
    for (int i = 0; i < p->n_leaves; i++)
        track |= R.base[i] && R.base[i]->requires_grad;
    if (st == TL_OK && track && tl_ag_enabled()) st = tl_ag_record_equation(n, p, R.base, y);
    for (int i = 0; i < p->n_leaves; i++)
        tl_tensor_unref(R.base[i]);
    if (st != TL_OK) {
        tl_tensor_unref(y);
        return st_err(&R, st);
    }
    *out = tl_value_tensor(y);
    return TL_FLOW_OK;
}

tl_flow tl_eq_exec(tl_interp *I, const tl_node *n) {
    if (I->logic && tl_logic_find_relation(I->logic, n->a->a->name) >= 0 &&
        !tl_scope_lookup(I, n->a->a->name)) {
        I->eq_checked = NULL;
        return tl_logic_equation(I, n); /* a relation on the left: lang/logic_tensor.c */
    }
    tl_value v;
    tl_flow fl = TL_FLOW_OK;
    if (!I->eq_pending || !tl_eq_attn_take(I, n, &v)) fl = tl_eq_eval(I, n, &v);
    if (fl != TL_FLOW_OK) return fl;
    const char *name = n->a->a->name;
    tl_var *var = tl_scope_lookup(I, name);
    if (var && n->v.i == 1) { /* the same left side as an earlier equation here: a sum */
        tl_tensor *sum = NULL;
        if (var->v.kind != TL_VAL_TENSOR || !tl_tensor_same_shape(var->v.as.tensor, v.as.tensor)) {
            char s1[64] = "?", s2[64];
            if (var->v.kind == TL_VAL_TENSOR) tl_tensor_shape_str(var->v.as.tensor, s1, sizeof s1);
            tl_tensor_shape_str(v.as.tensor, s2, sizeof s2);
            tl_value_release(&v);
            return tl_err_at(I, n->a->a, TL_ERR_SHAPE,
                             "%s: equations with the same left side in one block are summed, but "
                             "this one gives %s and %s holds %s",
                             name, s2, name, s1);
        }
        tl_status st = tl_op_binary(TL_BIN_ADD, var->v.as.tensor, v.as.tensor, &sum);
        tl_value sv = st == TL_OK ? tl_value_tensor(sum) : TL_VOID;
        const tl_value both[2] = {var->v, v};
        if (st == TL_OK && tl_ag_wants(2, both)) st = tl_ag_record_named("add", 2, both, &sv);
        tl_value_release(&v);
        if (st != TL_OK) {
            tl_value_release(&sv);
            return tl_err_status(I, n->a->a, st);
        }
        v = sv;
    }
    if (var) {
        tl_value_release(&var->v);
        var->v = v;
        return TL_FLOW_OK;
    }
    tl_status st = tl_scope_declare(I->cur, name, v);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}
