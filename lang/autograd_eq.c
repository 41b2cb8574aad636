/* lang/autograd_eq.c -- the gradient of a tensor equation, as tensor equations.
**
** For an equation that is a pure contraction, Y[out] = A[a] B[b] C[c] (one product
** of indexed tensors, `=` projection), the gradient of one factor is the
** contraction of dY with the other factors onto that factor's indices:
**     dB[b] = dY[out] A[a] C[c]
** (the paper's rule: the gradient of a tensor-logic program is a tensor-logic
** program).  It runs on the equations' own engine, tl_contract (runtime/contract.h),
** with one cached contraction plan per factor in the recorded node, so it picks the
** same kernels (linear, batched rows, broadcast, reduce) as the forward equation.
** Other equation forms (functions, sums of terms, offsets, slices, grouped indices,
** max=/min=/avg=, a factor that repeats an index) have no gradient yet: an
** equation of that form reached with a learnable input stops with an error. */
#include "lang/autograd.h"
#include "lang/equation_internal.h"

#include <stdlib.h>
#include <string.h>

tl_status tl_ag_record_equation(const tl_node *stmt, const eq_plan *p, tl_tensor *const *leaves,
                                tl_tensor *y); /* called by lang/equation_run.c */

typedef struct eq_grad {
    tl_contract_spec fwd; /* the forward contraction: the leaves' labels and out */
    tl_contract_plan plans[TL_CONTRACT_MAX_OPS];
} eq_grad;

static tl_status unsupported(const tl_node *stmt, const char *why) {
    (void)stmt;
    return tl_fail(TL_ERR_UNSUPPORTED,
                   "equation: no gradient through %s yet (compute it in no_grad { } or on "
                   "detach(x))",
                   why);
}

static tl_status eq_backward(tl_ag_ctx *c) {
    eq_grad *d = c->data;
    const tl_contract_spec *f = &d->fwd;
    tl_status st = TL_OK;
    for (int k = 0; k < f->n_ops && st == TL_OK; k++) {
        if (!tl_ag_needs(c, k)) continue;
        tl_contract_spec s = {.n_ops = f->n_ops};
        const tl_tensor *ops[TL_CONTRACT_MAX_OPS];
        s.n_dims[0] = f->n_out;
        memcpy(s.labels[0], f->out, sizeof f->out);
        ops[0] = c->g;
        int m = 1;
        for (int j = 0; j < f->n_ops; j++) {
            if (j == k) continue;
            s.n_dims[m] = f->n_dims[j];
            memcpy(s.labels[m], f->labels[j], sizeof f->labels[j]);
            ops[m++] = tl_ag_arg(c, j);
        }
        s.n_out = f->n_dims[k];
        memcpy(s.out, f->labels[k], sizeof f->labels[k]);
        tl_tensor *r = NULL;
        st = tl_contract(&s, ops, &d->plans[k], &r);
        if (st == TL_OK) st = tl_ag_emit(c, k, -1, r);
    }
    return st;
}

tl_status tl_ag_record_equation(const tl_node *stmt, const eq_plan *p, tl_tensor *const *leaves,
                                tl_tensor *y) {
    if (p->proj != TL_EQ_PROJ_SUM || p->mark >= 0) return unsupported(stmt, "max=/min=/avg=/q.");
    const eq_node *r = p->root;
    int nk = r->kind == EQ_LEAF ? 1 : r->n_kids;
    if (r->kind != EQ_LEAF && r->kind != EQ_PROD) return unsupported(stmt, "this equation form");
    if (nk != p->n_leaves || nk > TL_CONTRACT_MAX_OPS - 1)
        return unsupported(stmt, "this equation form");
    eq_grad *d = calloc(1, sizeof *d);
    if (!d) return tl_fail(TL_ERR_NOMEM, "out of memory");
    d->fwd.n_ops = nk;
    d->fwd.n_out = p->n_out;
    memcpy(d->fwd.out, p->out, sizeof p->out);
    tl_value argv[TL_CONTRACT_MAX_OPS];
    tl_status st = TL_OK;
    for (int k = 0; k < nk && st == TL_OK; k++) {
        const eq_node *lf = r->kind == EQ_LEAF ? r : r->kids[k];
        if (lf->kind != EQ_LEAF) {
            st = unsupported(stmt, "functions, sums or scalars inside an equation");
            break;
        }
        eq_mask seen = 0;
        for (int a = 0; a < lf->n_axes && st == TL_OK; a++) {
            if (lf->axes[a].kind != AX_INDEX)
                st = unsupported(stmt, "offsets, slices, fixed positions or grouped indices");
            else if (seen & ((eq_mask)1 << lf->axes[a].label))
                st = unsupported(stmt, "a factor that repeats an index");
            seen |= (eq_mask)1 << lf->axes[a].label;
            d->fwd.labels[k][a] = lf->axes[a].label;
        }
        d->fwd.n_dims[k] = lf->n_axes;
        const tl_tensor *t = leaves[lf->leaf_id];
        if (st == TL_OK && t->n_dims != lf->n_axes)
            st = unsupported(stmt, "a factor read with fewer indices than its dims");
        argv[k] = tl_value_tensor((tl_tensor *)t); /* borrowed: the node retains */
    }
    for (int k = 0; k < nk && st == TL_OK; k++) /* each index of a factor must be elsewhere */
        for (int a = 0; a < d->fwd.n_dims[k] && st == TL_OK; a++) {
            int l = d->fwd.labels[k][a];
            bool found = false;
            for (int o = 0; o < d->fwd.n_out; o++)
                found |= d->fwd.out[o] == l;
            for (int j = 0; j < nk && !found; j++)
                for (int b = 0; j != k && b < d->fwd.n_dims[j]; b++)
                    found |= d->fwd.labels[j][b] == l;
            if (!found) st = unsupported(stmt, "an index summed inside a single factor");
        }
    if (st != TL_OK) {
        free(d);
        return st;
    }
    return tl_ag_record_custom("equation", eq_backward, nk, argv, y, d, free);
}
