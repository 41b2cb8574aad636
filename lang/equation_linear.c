/* lang/equation_linear.c -- the commonest equation, a projection against a stored
** weight, straight onto the `linear` kernel.
**
** A product of exactly two plain factors `W[o, k] X[s, k]` (any index names, either
** order) with W a 2-d weight stored as f16/bf16 or quantized, X a contiguous f32 [S, K],
** k summed and s, o kept, is what tl_contract (runtime/contract.c) runs as
** linear(X, W): the same call is made here directly, without the planner's bookkeeping,
** so the bits are the same by construction.  Anything else returns 0 and takes the
** general path. */
#include "lang/equation_internal.h"

#include "runtime/ops.h"

static bool plain_axes(const eq_node *lf) {
    if (lf->kind != EQ_LEAF || lf->n_axes != 2) return false;
    return lf->axes[0].kind == AX_INDEX && lf->axes[1].kind == AX_INDEX &&
           lf->axes[0].label != lf->axes[1].label;
}

int tl_eq_linear_fast(run *R, const eq_node *n, eq_mask want, eres *out) {
    if (n->n_kids != 2 || !plain_axes(n->kids[0]) || !plain_axes(n->kids[1])) return 0;
    const eq_node *w = n->kids[0], *x = n->kids[1];
    tl_tensor *W = R->base[w->leaf_id], *X = R->base[x->leaf_id];
    if (W->dtype == TL_DTYPE_F32) {
        const eq_node *t = w;
        w = x;
        x = t;
        W = R->base[w->leaf_id];
        X = R->base[x->leaf_id];
    }
    if (W->dtype == TL_DTYPE_F32 || X->dtype != TL_DTYPE_F32 || W->n_dims != 2 || X->n_dims != 2 ||
        !tl_tensor_is_contiguous(X))
        return 0;
    int o = w->axes[0].label, k = w->axes[1].label, s = x->axes[0].label;
    if (x->axes[1].label != k || s == o) return 0;
    eq_mask bo = (eq_mask)1 << o, bs = (eq_mask)1 << s, bk = (eq_mask)1 << k;
    if (!(want & bo) || !(want & bs) || (want & bk)) return 0;
    tl_tensor *y = NULL;
    tl_status st = tl_op_linear(X, W, NULL, &y);
    if (st != TL_OK) {
        tl_eq_status_err(R, st);
        return -1;
    }
    out->t = y;
    out->n = 2;
    out->lab[0] = s;
    out->lab[1] = o;
    return 1;
}
