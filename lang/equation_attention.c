/* lang/equation_attention.c -- the attention pattern of a tensor equation, lowered onto
** one fused kernel (tl_op_attention_masked, runtime/ops.h).
**
** At compile time a plan is marked when its statement reads, up to the names of the
** tensors and indices,
**     P[h, s, t.] = softmax(c q[s, h, d] K[t, h / g, d] + mask[s, t])
** (K[t, h, d] without groups; c any scalar factors made of names and numbers, or none).
** Running it computes P in one pass per query row -- no batched copies of q and K, no
** broadcast add, no separate softmax -- with exactly the arithmetic of the general
** path: each score the double-accumulated f32 dot times (float)c, plus the mask, the
** row's softmax as tl_op_softmax.  When the next statement of the block is
**     O[s, h, d] = P[h, s, t] V[t, h / g, d]
** (the same index names, the same g) the kernel also computes O in that pass and
** leaves it pending in the interpreter; that statement takes it (tl_eq_attn_take) after
** checking that P and V are still the very tensors used.  Anything else (another
** layout, dtype, a learnable factor under autograd, shapes the kernel does not take)
** runs the general path, which also reports every error. */
#include "lang/autograd.h"
#include "lang/equation_internal.h"
#include "lang/eval.h"

#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct eq_attn {
    int q, k, mask; /* leaf ids */
    bool grouped;   /* K[t, h / g, d] */
    int n_scalars;  /* the scalar factors c */
    const eq_node *scalars[4];
    const tl_node *next; /* the statement after, a candidate for O = P V */
    const eq_plan *pv;   /* its plan, once checked */
    bool pv_ok;
    int pv_p, pv_v; /* its leaves */
} eq_attn;

typedef struct eq_pending {
    const tl_node *stmt;
    const eq_plan *plan;
    int pl, vl; /* its leaves P and V */
    tl_tensor *p, *v, *o;
    int64_t g;
} eq_pending;

/* ---- matching -------------------------------------------------------------------------- */

static bool axes_are(const eq_node *lf, int n, const int *lab) {
    if (lf->kind != EQ_LEAF || lf->n_axes != n) return false;
    for (int a = 0; a < n; a++)
        if (lf->axes[a].kind != AX_INDEX || lf->axes[a].label != lab[a]) return false;
    return true;
}

/* A scalar factor the fused path may evaluate (a second time, when it falls back):
** names, numbers and arithmetic on them, nothing with effects. */
static bool pure(const tl_node *e) {
    if (!e) return false;
    switch ((tl_node_kind)e->kind) {
    case TL_N_IDENT:
    case TL_N_INT:
    case TL_N_FLOAT:
        return true;
    case TL_N_UNARY:
        return e->op == TL_OP_NEG && pure(e->a);
    case TL_N_BINARY:
        return (e->op == TL_OP_ADD || e->op == TL_OP_SUB || e->op == TL_OP_MUL ||
                e->op == TL_OP_DIV) &&
               pure(e->a) && pure(e->b);
    default:
        return false;
    }
}

void tl_eq_attn_match(eq_plan *p, const tl_node *n, tl_arena *arena) {
    p->attn = NULL;
    const eq_node *r = p->root;
    if (p->proj != TL_EQ_PROJ_SUM || p->n_out != 3 || p->mark != 2 || p->n_labels != 4) return;
    for (int i = 0; i < 3; i++)
        if (p->out_extent[i]) return;
    if (r->kind != EQ_FUNC || r->fn != FN_SOFTMAX || r->arg2) return;
    const eq_node *sum = r->kids[0];
    if (sum->kind != EQ_SUM || sum->n_kids != 2 || sum->signs[0] < 0 || sum->signs[1] < 0) return;
    int pi = sum->kids[0]->kind == EQ_PROD ? 0 : 1;
    const eq_node *prod = sum->kids[pi], *mask = sum->kids[1 - pi];
    int H = p->out[0], S = p->out[1], T = p->out[2];
    if (prod->kind != EQ_PROD || !axes_are(mask, 2, (int[]){S, T})) return;
    eq_attn a = {.mask = mask->leaf_id, .q = -1, .k = -1};
    for (int i = 0; i < prod->n_kids; i++) {
        const eq_node *f = prod->kids[i];
        if (f->kind == EQ_SCALAR && pure(f->src) && a.n_scalars < 4)
            a.scalars[a.n_scalars++] = f;
        else if (f->kind == EQ_LEAF && f->n_axes == 3 && f->axes[0].kind == AX_INDEX &&
                 f->axes[0].label == S && a.q < 0)
            a.q = f->leaf_id;
        else if (f->kind == EQ_LEAF && f->n_axes == 3 && f->axes[0].kind == AX_INDEX &&
                 f->axes[0].label == T && a.k < 0)
            a.k = f->leaf_id;
        else
            return;
    }
    if (a.q < 0 || a.k < 0) return;
    const eq_node *q = p->leaves[a.q], *k = p->leaves[a.k];
    int D = q->axes[2].label;
    if (D == H || D == S || D == T || !axes_are(q, 3, (int[]){S, H, D})) return;
    const eq_axis *kh = &k->axes[1];
    a.grouped = kh->kind == AX_GROUP;
    if (!(kh->kind == AX_INDEX || (a.grouped && pure(kh->e))) || kh->label != H ||
        k->axes[2].kind != AX_INDEX || k->axes[2].label != D)
        return;
    if (n->next && n->next->kind == TL_S_ASSIGN && n->next->a->kind == TL_N_INDEX) a.next = n->next;
    eq_attn *m = tl_arena_alloc(arena, sizeof *m);
    if (!m) return; /* the general path will do */
    *m = a;
    p->attn = m;
}

static bool leaf_names(const eq_plan *p, const eq_node *lf, const char *const *names) {
    for (int a = 0; a < 3; a++)
        if (strcmp(p->label_name[lf->axes[a].label], names[a]) != 0) return false;
    return true;
}

/* Is the statement's plan p2 `O[s, h, d] = P[h, s, t] V[t, h / g, d]` for plan p? */
static bool pv_matches(const eq_plan *p, const eq_attn *a, const eq_plan *p2, int *pl, int *vl) {
    const char *H = p->label_name[p->out[0]], *S = p->label_name[p->out[1]],
               *T = p->label_name[p->out[2]], *D = p->label_name[p->leaves[a->q]->axes[2].label];
    const eq_node *r = p2->root;
    if (p2->proj != TL_EQ_PROJ_SUM || p2->n_out != 3 || p2->mark >= 0 || p2->n_labels != 4 ||
        r->kind != EQ_PROD || r->n_kids != 2)
        return false;
    for (int i = 0; i < 3; i++)
        if (p2->out_extent[i] ||
            strcmp(p2->label_name[p2->out[i]], (const char *[]){S, H, D}[i]) != 0)
            return false;
    const eq_node *P = r->kids[0], *V = r->kids[1];
    if (P->kind != EQ_LEAF || P->src->a->kind != TL_N_IDENT ||
        strcmp(P->src->a->name, p->target) != 0) {
        P = r->kids[1];
        V = r->kids[0];
    }
    if (P->kind != EQ_LEAF || V->kind != EQ_LEAF || P->n_axes != 3 || V->n_axes != 3 ||
        P->src->a->kind != TL_N_IDENT || V->src->a->kind != TL_N_IDENT ||
        strcmp(P->src->a->name, p->target) != 0 || strcmp(V->src->a->name, p->target) == 0)
        return false;
    for (int i = 0; i < 3; i++)
        if (P->axes[i].kind != AX_INDEX ||
            V->axes[i].kind != (i == 1 && a->grouped ? AX_GROUP : AX_INDEX))
            return false;
    if (a->grouped && !pure(V->axes[1].e)) return false;
    if (!leaf_names(p2, P, (const char *[]){H, S, T}) ||
        !leaf_names(p2, V, (const char *[]){T, H, D}))
        return false;
    *pl = P->leaf_id;
    *vl = V->leaf_id;
    return true;
}

/* ---- running ---------------------------------------------------------------------------- */

static bool plain_f32(const tl_tensor *t) {
    return t && t->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(t);
}

static bool eval_number(tl_interp *I, const tl_node *e, double *out) {
    tl_value v;
    if (tl_eval_expr(I, e, &v) != TL_FLOW_OK) {
        tl_interp_clear_error(I); /* the general path evaluates it again and reports it */
        return false;
    }
    bool ok = v.kind == TL_VAL_INT || v.kind == TL_VAL_FLOAT;
    if (ok) *out = v.kind == TL_VAL_INT ? (double)v.as.i : v.as.f;
    tl_value_release(&v);
    return ok;
}

void tl_eq_attn_drop(tl_interp *I) {
    eq_pending *q = I->eq_pending;
    if (!q) return;
    tl_tensor_unref(q->p);
    tl_tensor_unref(q->v);
    tl_tensor_unref(q->o);
    free(q);
    I->eq_pending = NULL;
}

/* The V of the statement after (the O = P V one), when it fits; else NULL. */
static tl_tensor *pv_operand(run *R, eq_attn *a, const tl_tensor *K, int64_t g) {
    tl_interp *I = R->I;
    if (!a->next) return NULL;
    /* its plan, compiled by its first run; whether it is still valid for the names in
    ** scope is checked when that statement takes the result (tl_eq_attn_take) */
    const eq_plan *p2 = a->next->cache_epoch == 0xE9u ? a->next->cache : NULL;
    if (!p2) return NULL;
    if (p2 != a->pv) {
        a->pv = p2;
        a->pv_ok = pv_matches(R->p, a, p2, &a->pv_p, &a->pv_v);
    }
    if (!a->pv_ok) return NULL;
    const eq_node *V = p2->leaves[a->pv_v];
    tl_var *var = tl_scope_lookup(I, V->src->a->name);
    if (!var || var->v.kind != TL_VAL_TENSOR) return NULL;
    tl_tensor *v = var->v.as.tensor;
    if (!plain_f32(v) || !tl_tensor_same_shape(v, K) || (v->requires_grad && tl_ag_enabled()))
        return NULL;
    double g2 = 1.0;
    if (a->grouped && !eval_number(I, V->axes[1].e, &g2)) return NULL;
    return g2 == (double)g ? v : NULL;
}

int tl_eq_attn_run(run *R, tl_value *out) {
    eq_attn *a = R->p->attn;
    tl_tensor *q = R->base[a->q], *K = R->base[a->k], *M = R->base[a->mask];
    if (!plain_f32(q) || !plain_f32(K) || !plain_f32(M)) return 0;
    if (tl_ag_enabled() && (q->requires_grad || K->requires_grad || M->requires_grad)) return 0;
    int64_t qs[3], ks[3];
    tl_tensor_shape(q, qs);
    tl_tensor_shape(K, ks);
    int64_t g = a->grouped ? R->group[a->k][1] : 1;
    if (ks[1] * g != qs[1] || qs[2] == 0 || ks[0] == 0) return 0; /* errors: the general path */
    double c = 1.0;
    for (int i = 0; i < a->n_scalars; i++) {
        double x;
        if (!eval_number(R->I, a->scalars[i]->src, &x)) return 0;
        c *= x;
    }
    tl_tensor *V = pv_operand(R, a, K, g), *P = NULL, *O = NULL;
    tl_status st = tl_op_attention_masked(q, K, V, M, (float)c, &P, V ? &O : NULL);
    if (st != TL_OK) {
        tl_eq_status_err(R, st);
        return -1;
    }
    tl_eq_attn_drop(R->I);
    if (O) {
        eq_pending *pd = malloc(sizeof *pd);
        if (pd) {
            *pd = (eq_pending){.stmt = a->next,
                               .plan = a->pv,
                               .pl = a->pv_p,
                               .vl = a->pv_v,
                               .p = tl_tensor_ref(P),
                               .v = tl_tensor_ref(V),
                               .o = O,
                               .g = g};
            R->I->eq_pending = pd;
        } else
            tl_tensor_unref(O);
    }
    *out = tl_value_tensor(P);
    return 1;
}

bool tl_eq_attn_take(tl_interp *I, const tl_node *n, tl_value *out) {
    eq_pending *pd = I->eq_pending;
    if (!pd) return false;
    bool ok = pd->stmt == n && (I->eq_checked == pd->plan || tl_eq_plan_cached(I, n) == pd->plan);
    if (ok) { /* P and V must still be the very tensors the kernel read */
        const eq_node *P = pd->plan->leaves[pd->pl], *V = pd->plan->leaves[pd->vl];
        tl_var *vp = tl_scope_lookup(I, P->src->a->name), *vv = tl_scope_lookup(I, V->src->a->name);
        ok = vp && vv && vp->v.kind == TL_VAL_TENSOR && vp->v.as.tensor == pd->p &&
             vv->v.kind == TL_VAL_TENSOR && vv->v.as.tensor == pd->v;
        double g = 1.0;
        if (ok && V->axes[1].kind == AX_GROUP)
            ok = eval_number(I, V->axes[1].e, &g) && g == (double)pd->g;
    }
    if (ok) {
        *out = tl_value_tensor(pd->o);
        pd->o = NULL;
        I->eq_checked = NULL;
    }
    tl_eq_attn_drop(I);
    return ok;
}
