/* lang/equation_run.c -- running a compiled equation plan on the tensors in scope.
**
** Two phases: the leaves' tensors are evaluated and every index's extent is
** settled (mismatches are errors naming the index, both extents and both
** factors); then the plan tree is evaluated bottom-up, products through
** tl_contract (runtime/contract.h), sums and divisions through broadcasting
** binary ops, functions through the unary/softmax ops.  Intermediate results
** carry their labels (in an order of their own; align() lines them up). */
#include "lang/equation_internal.h"

#include "runtime/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct eres {
    tl_tensor *t; /* NULL: a scalar s */
    double s;
    int n;
    int lab[TL_MAX_DIMS];
    int grp_label; /* with grp > 0: the axis labelled grp_label reads h / grp (not expanded) */
    int64_t grp;
} eres;

typedef struct run {
    tl_interp *I;
    const tl_node *stmt;
    eq_plan *p;
    int64_t ext[TL_CONTRACT_MAX_LABELS];
    int ext_leaf[TL_CONTRACT_MAX_LABELS]; /* the leaf that fixed the extent, or -1 */
    tl_tensor *base[EQ_MAX_LEAVES];
    int64_t group[EQ_MAX_LEAVES][TL_MAX_DIMS]; /* AX_GROUP divisors */
} run;

static void eres_free(eres *r) {
    tl_tensor_unref(r->t);
    r->t = NULL;
}

static tl_flow st_err(run *R, tl_status st) {
    return tl_err_status(R->I, R->stmt->a->a, st);
}

/* ---- phase 1: leaves and extents ------------------------------------------------------- */

static tl_flow eval_int(run *R, const tl_node *e, int64_t *out, const char *what) {
    tl_value v;
    tl_flow fl = tl_eval_expr(R->I, e, &v);
    if (fl != TL_FLOW_OK) return fl;
    if (v.kind == TL_VAL_INT) {
        *out = v.as.i;
        return TL_FLOW_OK;
    }
    tl_value_release(&v);
    return tl_err_at(R->I, e, TL_ERR_TYPE, "%s must be an int", what);
}

static tl_flow leaf_extent_err(run *R, int label, int64_t e1, const eq_node *l1, int64_t e2,
                               const eq_node *l2) {
    char t1[160], t2[160], s1[64], s2[64];
    tl_eq_node_text(l1->src, t1, sizeof t1);
    tl_eq_node_text(l2->src, t2, sizeof t2);
    tl_tensor_shape_str(R->base[l1->leaf_id], s1, sizeof s1);
    tl_tensor_shape_str(R->base[l2->leaf_id], s2, sizeof s2);
    return tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                     "index %s has extent %lld in %s (shape %s) but %lld in %s (shape %s)",
                     R->p->label_name[label], (long long)e1, t1, s1, (long long)e2, t2, s2);
}

static tl_flow set_extent(run *R, int label, int64_t e, const eq_node *leaf) {
    if (R->ext[label] < 0) {
        R->ext[label] = e;
        R->ext_leaf[label] = leaf ? leaf->leaf_id : -1;
        return TL_FLOW_OK;
    }
    if (R->ext[label] == e) return TL_FLOW_OK;
    if (leaf && R->ext_leaf[label] >= 0)
        return leaf_extent_err(R, label, R->ext[label], R->p->leaves[R->ext_leaf[label]], e, leaf);
    char t[160];
    if (leaf) { /* fixed by the left side first: cannot happen (leaves come first) */
        tl_eq_node_text(leaf->src, t, sizeof t);
        return tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                         "index %s has extent %lld on the left side but %lld in %s",
                         R->p->label_name[label], (long long)R->ext[label], (long long)e, t);
    }
    tl_eq_node_text(R->p->leaves[R->ext_leaf[label]]->src, t, sizeof t);
    return tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                     "index %s has extent %lld in %s but the left side gives it %lld",
                     R->p->label_name[label], (long long)R->ext[label], t, (long long)e);
}

static tl_flow load_leaves(run *R) {
    eq_plan *p = R->p;
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++) {
        R->ext[l] = -1;
        R->ext_leaf[l] = -1;
    }
    for (int i = 0; i < p->n_leaves; i++) {
        eq_node *lf = p->leaves[i];
        tl_value v;
        tl_flow fl = tl_eval_expr(R->I, lf->src->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        char t[160];
        if (v.kind != TL_VAL_TENSOR) {
            tl_eq_node_text(lf->src, t, sizeof t);
            const char *k = tl_value_type_name(&v);
            tl_value_release(&v);
            return tl_err_at(R->I, lf->src, TL_ERR_TYPE, "%s: the factor is a %s, not a tensor", t,
                             k);
        }
        R->base[i] = v.as.tensor;
        if (v.as.tensor->n_dims != lf->n_axes) {
            char s[64];
            tl_eq_node_text(lf->src, t, sizeof t);
            return tl_err_at(R->I, lf->src, TL_ERR_SHAPE,
                             "%s has %d ind%s but the tensor has %d ax%s (shape %s)", t, lf->n_axes,
                             lf->n_axes == 1 ? "ex" : "ices", v.as.tensor->n_dims,
                             v.as.tensor->n_dims == 1 ? "is" : "es",
                             tl_tensor_shape_str(v.as.tensor, s, sizeof s));
        }
    }
    /* plain indices first, then the left side's explicit extents */
    for (int i = 0; i < p->n_leaves; i++) {
        eq_node *lf = p->leaves[i];
        int64_t shape[TL_MAX_DIMS];
        tl_tensor_shape(R->base[i], shape);
        for (int a = 0; a < lf->n_axes; a++)
            if (lf->axes[a].kind == AX_INDEX) {
                tl_flow fl = set_extent(R, lf->axes[a].label, shape[a], lf);
                if (fl != TL_FLOW_OK) return fl;
            }
    }
    for (int i = 0; i < p->n_out; i++)
        if (p->out_extent[i]) {
            int64_t e;
            tl_flow fl = eval_int(R, p->out_extent[i], &e, "an index extent");
            if (fl != TL_FLOW_OK) return fl;
            if (e < 0) return tl_err_at(R->I, p->out_extent[i], TL_ERR_RANGE, "negative extent");
            fl = set_extent(R, p->out[i], e, NULL);
            if (fl != TL_FLOW_OK) return fl;
        }
    /* then grouped, shifted and sliced axes for the indices still open */
    for (int i = 0; i < p->n_leaves; i++) {
        eq_node *lf = p->leaves[i];
        int64_t shape[TL_MAX_DIMS];
        tl_tensor_shape(R->base[i], shape);
        for (int a = 0; a < lf->n_axes; a++) {
            eq_axis *ax = &lf->axes[a];
            if (ax->kind == AX_GROUP) {
                int64_t g;
                tl_flow fl = eval_int(R, ax->e, &g, "a group size");
                if (fl != TL_FLOW_OK) return fl;
                if (g < 1)
                    return tl_err_at(R->I, ax->e, TL_ERR_RANGE, "group size %lld < 1",
                                     (long long)g);
                R->group[i][a] = g;
                if (R->ext[ax->label] < 0) {
                    fl = set_extent(R, ax->label, shape[a] * g, lf);
                    if (fl != TL_FLOW_OK) return fl;
                }
            } else if (ax->kind == AX_SUM) {
                if (R->ext[ax->label2] < 0) R->ext[ax->label2] = 1;
                if (R->ext[ax->label] < 0) R->ext[ax->label] = shape[a];
            } else if (ax->kind == AX_SHIFT && R->ext[ax->label] < 0) {
                R->ext[ax->label] = shape[a];
                R->ext_leaf[ax->label] = -1;
            } else if (ax->kind == AX_SLICE && R->ext[ax->label] < 0) {
                int64_t lo = 0, hi = shape[a];
                tl_flow fl = TL_FLOW_OK;
                if (ax->e->a) fl = eval_int(R, ax->e->a, &lo, "a slice bound");
                if (fl == TL_FLOW_OK && ax->e->b) fl = eval_int(R, ax->e->b, &hi, "a slice bound");
                if (fl != TL_FLOW_OK) return fl;
                R->ext[ax->label] = hi > lo ? hi - lo : 0;
            }
        }
    }
    for (int i = 0; i < p->n_out; i++)
        if (R->ext[p->out[i]] < 0) {
            const char *nm = p->label_name[p->out[i]];
            return tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                             "index %s on the left side appears in no factor on the right; give "
                             "its extent there: %s[.., %s:4, ..]",
                             nm, p->target, nm);
        }
    return TL_FLOW_OK;
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

/* y[j] = x[j + c] along axis for j < E; zero outside x. */
static tl_status shift_pad(tl_tensor **x, int axis, int64_t c, int64_t E) {
    tl_tensor *t = *x;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(t, shape);
    int64_t size = shape[axis];
    if (c == 0 && E == size) return TL_OK;
    if (tl_dtype_traits(t->dtype)->quantized)
        return tl_fail(TL_ERR_TYPE, "%s tensor: a shifted or sliced index needs a plain dtype",
                       tl_dtype_name(t->dtype));
    int64_t j0 = c < 0 ? -c : 0, j1 = size - c < E ? size - c : E;
    if (j0 > E) j0 = E;
    if (j1 < j0) j1 = j0;
    tl_tensor *parts[3] = {0};
    int np = 0;
    tl_status st = TL_OK;
    if (j0 > 0) {
        shape[axis] = j0;
        st = tl_op_full(t->dtype, t->n_dims, shape, 0.0, &parts[np++]);
    }
    if (st == TL_OK && j1 > j0) st = tl_op_slice(t, axis, j0 + c, j1 + c, 1, &parts[np++]);
    if (st == TL_OK && E > j1) {
        shape[axis] = E - j1;
        st = tl_op_full(t->dtype, t->n_dims, shape, 0.0, &parts[np++]);
    }
    tl_tensor *y = NULL;
    if (st == TL_OK) {
        if (np == 1)
            y = tl_tensor_ref(parts[0]);
        else if (np == 0) {
            shape[axis] = 0;
            st = tl_op_full(t->dtype, t->n_dims, shape, 0.0, &y);
        } else
            st = tl_op_concat(np, (const tl_tensor *const *)parts, axis, &y);
    }
    for (int i = 0; i < np; i++)
        tl_tensor_unref(parts[i]);
    if (st != TL_OK) return st;
    tl_tensor_unref(*x);
    *x = y;
    return TL_OK;
}

/* Splits axis (extent size) into (size / g, g) with the g part a broadcast: the
** element h reads x[h / g] (a view, nothing copied). */
static tl_status group_view(tl_tensor **x, int axis, int64_t g) {
    tl_tensor *u = NULL, *e = NULL;
    tl_status st = tl_op_unsqueeze(*x, axis + 1, &u);
    if (st != TL_OK) return st;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(u, shape);
    shape[axis + 1] = g;
    st = tl_op_expand(u, u->n_dims, shape, &e);
    tl_tensor_unref(u);
    if (st != TL_OK) return st;
    tl_tensor_unref(*x);
    *x = e;
    return TL_OK;
}

/* X[.., i + k, ..]: the axis padded with zeros to Ei + Ek - 1, then viewed as two
** axes (i, k) with the same stride (an unfold: nothing copied but the padding). */
static tl_status unfold(tl_tensor **x, int axis, int64_t Ei, int64_t Ek) {
    tl_status st = shift_pad(x, axis, 0, Ei + Ek - 1);
    if (st != TL_OK) return st;
    tl_tensor *t = *x;
    if (t->n_dims >= TL_MAX_DIMS) return tl_fail(TL_ERR_SHAPE, "too many axes for i + k");
    int n = t->n_dims;
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    /* ggml order: NumPy axis a is dim n-1-a; the new axes (i, k) are dims d+1, d */
    int d = n - 1 - axis, m = 0;
    for (int g = 0; g < n; g++) {
        if (g == d) {
            ne[m] = Ek;
            nb[m++] = t->nb[g];
            ne[m] = Ei;
            nb[m++] = t->nb[g];
        } else {
            ne[m] = t->ne[g];
            nb[m++] = t->nb[g];
        }
    }
    for (int g = m; g < TL_MAX_DIMS; g++) {
        ne[g] = 1;
        nb[g] = nb[g - 1] * (size_t)ne[g - 1];
    }
    tl_tensor *v = NULL;
    st = tl_tensor_view(t, m, ne, nb, t->offs, &v);
    if (st != TL_OK) return st;
    tl_tensor_unref(*x);
    *x = v;
    return TL_OK;
}

/* The leaf's tensor with one label per remaining axis (labels may repeat). Grouped
** axes h / g become two labels: `group_hi` (h's own label) and a fresh label
** registered in the run (see eval of AX_GROUP below). */
static tl_flow make_leaf(run *R, const eq_node *lf, eres *out, bool split) {
    tl_tensor *t = tl_tensor_ref(R->base[lf->leaf_id]);
    int ax = 0, n = 0;
    tl_status st = TL_OK;
    tl_flow fl = TL_FLOW_OK;
    for (int a = 0; a < lf->n_axes && st == TL_OK && fl == TL_FLOW_OK; a++) {
        const eq_axis *x = &lf->axes[a];
        switch (x->kind) {
        case AX_INDEX:
            out->lab[n++] = x->label;
            ax++;
            break;
        case AX_SELECT: {
            int64_t v;
            fl = eval_int(R, x->e, &v, "an index value");
            if (fl != TL_FLOW_OK) break;
            tl_tensor *s = NULL;
            st = tl_op_select(t, ax, v, &s);
            if (st == TL_OK) {
                tl_tensor_unref(t);
                t = s;
            }
            break;
        }
        case AX_SHIFT: {
            int64_t c;
            fl = eval_int(R, x->e, &c, "an index offset");
            if (fl != TL_FLOW_OK) break;
            st = shift_pad(&t, ax, x->sign * c, R->ext[x->label]);
            out->lab[n++] = x->label;
            ax++;
            break;
        }
        case AX_SUM:
            st = unfold(&t, ax, R->ext[x->label], R->ext[x->label2]);
            out->lab[n++] = x->label;
            out->lab[n++] = x->label2;
            ax += 2;
            break;
        case AX_SLICE: {
            int64_t shape[TL_MAX_DIMS], lo = 0, hi;
            tl_tensor_shape(t, shape);
            hi = shape[ax];
            if (x->e->a) fl = eval_int(R, x->e->a, &lo, "a slice bound");
            if (fl == TL_FLOW_OK && x->e->b) fl = eval_int(R, x->e->b, &hi, "a slice bound");
            if (fl != TL_FLOW_OK) break;
            if (hi - lo != R->ext[x->label]) {
                char tx[160];
                tl_eq_node_text(lf->src, tx, sizeof tx);
                fl = tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                               "index %s has extent %lld but the slice %lld:%lld in %s spans %lld",
                               R->p->label_name[x->label], (long long)R->ext[x->label],
                               (long long)lo, (long long)hi, tx, (long long)(hi - lo));
                break;
            }
            st = shift_pad(&t, ax, lo, hi - lo);
            out->lab[n++] = x->label;
            ax++;
            break;
        }
        case AX_GROUP: {
            int64_t g = R->group[lf->leaf_id][a], shape[TL_MAX_DIMS];
            tl_tensor_shape(t, shape);
            if (shape[ax] * g != R->ext[x->label]) {
                char tx[160];
                tl_eq_node_text(lf->src, tx, sizeof tx);
                fl = tl_err_at(R->I, R->stmt->a->a, TL_ERR_SHAPE,
                               "index %s has extent %lld but %s covers %lld x %lld",
                               R->p->label_name[x->label], (long long)R->ext[x->label], tx,
                               (long long)shape[ax], (long long)g);
                break;
            }
            if (split && !out->grp) { /* left to the product: see split_groups() */
                out->grp = g;
                out->grp_label = x->label;
                out->lab[n++] = x->label;
                ax++;
                break;
            }
            st = group_view(&t, ax, g);
            if (st != TL_OK) break;
            /* [.., Hkv, g, ..] is h itself once merged: reshape when possible */
            tl_tensor *m = NULL;
            int64_t sh[TL_MAX_DIMS];
            int nd = t->n_dims;
            tl_tensor_shape(t, sh);
            int64_t ms[TL_MAX_DIMS];
            int k = 0;
            for (int d = 0; d < nd; d++) {
                if (d == ax + 1) {
                    ms[k - 1] *= sh[d];
                    continue;
                }
                ms[k++] = sh[d];
            }
            st = tl_op_reshape(t, k, ms, &m);
            if (st == TL_OK) {
                tl_tensor_unref(t);
                t = m;
            }
            out->lab[n++] = x->label;
            ax++;
            break;
        }
        }
    }
    if (fl == TL_FLOW_OK && st != TL_OK) fl = st_err(R, st);
    if (fl != TL_FLOW_OK) {
        tl_tensor_unref(t);
        return fl;
    }
    out->t = t;
    out->n = n;
    return TL_FLOW_OK;
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

/* GQA without a copy: when a factor reads X[.., h / g, ..], the index h of the
** other factors is split into (h / g, h % g) -- a reshape [.., H, ..] ->
** [.., H / g, g, ..] -- labelled (h, lo), and the grouped factor keeps h for
** its H / g positions.  The product then broadcasts over lo, and merge_group()
** joins (h, lo) back into h.  *hi = h and *lo = the fresh label, or -1. */
static tl_flow split_groups(run *R, eres *f, int nf, int *hi, int *lo) {
    int h = -1;
    int64_t g = 0;
    for (int i = 0; i < nf; i++)
        if (f[i].grp) {
            if (h >= 0 && (f[i].grp_label != h || f[i].grp != g))
                return tl_err_at(R->I, R->stmt->a->a, TL_ERR_UNSUPPORTED,
                                 "one product may read one grouped index (h / g) with one group "
                                 "size");
            h = f[i].grp_label;
            g = f[i].grp;
        }
    if (h < 0) return TL_FLOW_OK;
    int l = R->p->n_labels;
    eq_mask used = 0;
    for (int i = 0; i < nf; i++)
        used |= mask_of(f[i].lab, f[i].n);
    while (l < TL_CONTRACT_MAX_LABELS && (used & ((eq_mask)1 << l)))
        l++;
    if (l >= TL_CONTRACT_MAX_LABELS)
        return tl_err_at(R->I, R->stmt->a->a, TL_ERR_UNSUPPORTED,
                         "too many index names for a grouped index");
    for (int i = 0; i < nf; i++) {
        if (f[i].grp) continue;
        for (int a = 0; a < f[i].n; a++) {
            if (f[i].lab[a] != h) continue;
            if (f[i].n == TL_MAX_DIMS)
                return tl_err_at(R->I, R->stmt->a->a, TL_ERR_UNSUPPORTED, "too many axes");
            int64_t shape[TL_MAX_DIMS], ns[TL_MAX_DIMS];
            tl_tensor_shape(f[i].t, shape);
            int k = 0;
            for (int d = 0; d < f[i].n; d++) {
                if (d == a) {
                    ns[k++] = shape[d] / g;
                    ns[k++] = g;
                } else
                    ns[k++] = shape[d];
            }
            tl_tensor *r = NULL;
            tl_status st = tl_op_reshape(f[i].t, k, ns, &r);
            if (st != TL_OK) return st_err(R, st);
            tl_tensor_unref(f[i].t);
            f[i].t = r;
            memmove(f[i].lab + a + 2, f[i].lab + a + 1, (size_t)(f[i].n - a - 1) * sizeof(int));
            f[i].lab[a + 1] = l;
            f[i].n++;
            break;
        }
    }
    *hi = h;
    *lo = l;
    return TL_FLOW_OK;
}

/* y over labels lab (ascending) holds hi and lo: moves lo right after hi and
** merges the two axes into one (labelled hi). */
static tl_status merge_group(tl_tensor **y, int *lab, int *n, int hi, int lo) {
    int perm[TL_MAX_DIMS], nl[TL_MAX_DIMS], k = 0, ia = -1, la = -1;
    for (int a = 0; a < *n; a++) {
        if (lab[a] == hi) ia = a;
        if (lab[a] == lo) la = a;
    }
    for (int a = 0; a < *n; a++) {
        if (a == la) continue;
        perm[k] = a;
        nl[k++] = lab[a];
        if (a == ia) {
            perm[k] = la;
            nl[k++] = lo;
        }
    }
    tl_tensor *p = NULL, *r = NULL;
    tl_status st = tl_op_permute(*y, *n, perm, &p);
    if (st != TL_OK) return st;
    int64_t shape[TL_MAX_DIMS], ns[TL_MAX_DIMS];
    tl_tensor_shape(p, shape);
    int m = 0;
    for (int a = 0; a < *n; a++) {
        if (nl[a] == lo) {
            ns[m - 1] *= shape[a];
            continue;
        }
        ns[m++] = shape[a];
    }
    st = tl_op_reshape(p, m, ns, &r);
    tl_tensor_unref(p);
    if (st != TL_OK) return st;
    tl_tensor_unref(*y);
    *y = r;
    m = 0;
    for (int a = 0; a < *n; a++)
        if (nl[a] != lo) lab[m++] = nl[a];
    *n = m;
    return TL_OK;
}

static tl_flow eval_prod(run *R, eq_node *n, eq_mask want, tl_eq_proj proj, eres *out) {
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
            fl = make_leaf(R, n->kids[i], &r, true);
            if (fl == TL_FLOW_OK && r.grp && !(kw & ((eq_mask)1 << r.grp_label))) {
                eres_free(&r); /* h is summed right here: read it expanded */
                fl = make_leaf(R, n->kids[i], &r, false);
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
        fl = split_groups(R, f, nf, &hi, &lo);
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
            st = merge_group(&y, spec.out, &spec.n_out, hi, lo);
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
        tl_flow fl = make_leaf(R, n, out, false);
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

tl_flow tl_eq_eval(tl_interp *I, const tl_node *n, tl_value *out) {
    eq_plan *p = NULL;
    tl_flow fl = tl_eq_plan_get(I, n, &p);
    if (fl != TL_FLOW_OK) return fl;
    run R = {.I = I, .stmt = n, .p = p};
    fl = load_leaves(&R);
    eres r = {0};
    eq_mask want = mask_of(p->out, p->n_out);
    if (fl == TL_FLOW_OK) fl = eval_node(&R, p->root, want, p->proj, &r);
    for (int i = 0; i < p->n_leaves; i++)
        tl_tensor_unref(R.base[i]);
    if (fl != TL_FLOW_OK) return fl;
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
    if (st != TL_OK) return st_err(&R, st);
    *out = tl_value_tensor(y);
    return TL_FLOW_OK;
}

tl_flow tl_eq_exec(tl_interp *I, const tl_node *n) {
    tl_value v;
    tl_flow fl = tl_eq_eval(I, n, &v);
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
        tl_value_release(&v);
        if (st != TL_OK) return tl_err_status(I, n->a->a, st);
        v = tl_value_tensor(sum);
    }
    if (var) {
        tl_value_release(&var->v);
        var->v = v;
        return TL_FLOW_OK;
    }
    tl_status st = tl_scope_declare(I->cur, name, v);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}
