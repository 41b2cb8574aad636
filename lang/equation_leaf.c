/* lang/equation_leaf.c -- the leaves of a running equation: their tensors, the
** extents of the indices (checked, with errors that name both factors), the axis
** specs applied as views or zero-padded copies (shift, slice, i + k, h / g), and the
** split of a grouped index across a product (lang/equation_internal.h). */
#include "lang/equation_internal.h"

#include "lang/builtin.h"

#include "runtime/ops.h"

#include <stdio.h>
#include <string.h>

static tl_flow st_err(run *R, tl_status st) {
    return tl_eq_status_err(R, st);
}

static eq_mask mask_of(const int *lab, int n) {
    return tl_eq_mask_of(lab, n);
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

tl_flow tl_eq_load_leaves(run *R) {
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
        tl_tensor *x = NULL;
        /* a numeric array or a model view is a tensor here, as where a builtin expects
           one (tl_coerce_tensor); anything else is not a factor */
        bool ok = tl_coerce_tensor(&v, &x);
        if (!ok) {
            tl_eq_node_text(lf->src, t, sizeof t);
            const char *k = tl_value_type_name(&v);
            tl_flow e =
                v.kind == TL_VAL_ARRAY
                    ? tl_err_at(R->I, lf->src, TL_ERR_TYPE,
                                "%s: the factor is an array but not a rectangular array of "
                                "numbers, so not a tensor",
                                t)
                    : tl_err_at(R->I, lf->src, TL_ERR_TYPE, "%s: the factor is %s %s, not a tensor",
                                t, tl_value_type_article(&v), k);
            tl_value_release(&v);
            return e;
        }
        tl_value_release(&v);
        R->base[i] = x;
        if (x->n_dims != lf->n_axes) {
            char s[64];
            tl_eq_node_text(lf->src, t, sizeof t);
            return tl_err_at(R->I, lf->src, TL_ERR_SHAPE,
                             "%s has %d ind%s but the tensor has %d ax%s (shape %s)", t, lf->n_axes,
                             lf->n_axes == 1 ? "ex" : "ices", x->n_dims,
                             x->n_dims == 1 ? "is" : "es", tl_tensor_shape_str(x, s, sizeof s));
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
            int64_t e = 0;
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
                int64_t g = 0;
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
tl_flow tl_eq_make_leaf(run *R, const eq_node *lf, eres *out, bool split) {
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
            int64_t v = 0;
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
            int64_t c = 0;
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
            if (split && !out->grp) { /* left to the product: see tl_eq_split_groups() */
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

/* GQA without a copy: when a factor reads X[.., h / g, ..], the index h of the
** other factors is split into (h / g, h % g) -- a reshape [.., H, ..] ->
** [.., H / g, g, ..] -- labelled (h, lo), and the grouped factor keeps h for
** its H / g positions.  The product then broadcasts over lo, and tl_eq_merge_group()
** joins (h, lo) back into h.  *hi = h and *lo = the fresh label, or -1. */
tl_flow tl_eq_split_groups(run *R, eres *f, int nf, int *hi, int *lo) {
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
tl_status tl_eq_merge_group(tl_tensor **y, int *lab, int *n, int hi, int lo) {
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
