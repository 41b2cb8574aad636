/* lang/logic_tensor.c -- relations as 0/1 tensors and tensors as relations,
** and relations in tensor equations (docs/logic.md "Equation form"):
**   - a relation's name, used as a value where no variable has that name, is
**     the 0/1 f32 tensor of its forward model, shape [|D1|, .., |Dk|] (entity
**     index order); so `H2[x, d] = relu(A[x, y] H[y, e] W[e, d])` works with a
**     relation A;
**   - an equation whose left side names a relation,
**         Ancestor[x, z] = step(Parent[x, y] Ancestor[y, z] + Parent[x, z])
**     asserts the entries > 0.5 of its right side as facts and repeats until no
**     new fact appears: the least fixpoint, which is what the rules
**         Ancestor(x, z) <- Parent(x, y), Ancestor(y, z)
**         Ancestor(x, z) <- Parent(x, z)
**     mean. */
#include "lang/eval_logic.h"
#include "lang/equation.h"
#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

tl_flow tl_logic_model_at(tl_interp *I, tl_logic *L, const tl_node *site) {
    tl_logic_prog lp;
    tl_flow fl = tl_logic_compile(I, L, &lp);
    if (fl != TL_FLOW_OK) return fl;
    tl_dl_error err = {.rule = -1, .lit = -1, .var = -1};
    tl_status st = tl_logic_model(L, &lp.p, &err);
    if (st != TL_OK) fl = tl_logic_report(I, &lp, site, &err, st);
    tl_logic_prog_free(&lp);
    return fl;
}

tl_status tl_logic_tensor_of(tl_logic *L, int r, tl_tensor **out) {
    const tl_relation *rel = &L->rel[r];
    int64_t shape[TL_REL_MAX_ARITY], total = 1;
    if (!L->model_valid || r >= L->model_n)
        return tl_fail(TL_ERR_INTERNAL, "relation %s: no model", rel->name);
    if (rel->arity > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "relation %s has more than %d arguments", rel->name,
                       TL_MAX_DIMS);
    for (int a = 0; a < rel->arity; a++) {
        shape[a] = (int64_t)tl_logic_domain_size(L, rel->dom[a]);
        if (shape[a] == 0) shape[a] = 1;
        total *= shape[a];
        if (total > ((int64_t)1 << 28))
            return tl_fail(TL_ERR_NOMEM,
                           "relation %s as a dense tensor would hold over 2^28 entries", rel->name);
    }
    tl_tensor *t;
    tl_status st = tl_tensor_new_shape(TL_DTYPE_F32, rel->arity, shape, &t);
    if (st != TL_OK) return st;
    float *x = tl_tensor_data(t);
    const tl_rel *m = &L->model[r];
    for (size_t i = 0; i < m->n; i++) {
        int64_t off = 0;
        bool ok = true;
        for (int a = 0; a < rel->arity; a++) {
            int64_t k = tl_logic_entity_index(L, rel->dom[a], m->tup[i * (size_t)rel->arity + a]);
            if (k < 0 || k >= shape[a]) ok = false;
            off = off * shape[a] + k;
        }
        if (ok) x[off] = 1.0f;
    }
    *out = t;
    return TL_OK;
}

tl_status tl_logic_from_tensor(tl_logic *L, int r, const tl_tensor *t, double thr, int64_t *added) {
    const tl_relation *rel = &L->rel[r];
    *added = 0;
    if (t->n_dims != rel->arity && !(rel->arity == 0 && t->n_dims == 1))
        return tl_fail(TL_ERR_SHAPE,
                       "relation %s has %d argument%s but the tensor has %d dimension%s", rel->name,
                       rel->arity, rel->arity == 1 ? "" : "s", t->n_dims,
                       t->n_dims == 1 ? "" : "s");
    if (thr != thr) return tl_fail(TL_ERR_ARG, "facts_from_tensor: the threshold is NaN");
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(t, shape);
    for (int a = 0; a < rel->arity; a++) {
        size_t n = tl_logic_domain_size(L, rel->dom[a]);
        if ((size_t)shape[a] > n && rel->dom[a] >= 0)
            return tl_fail(TL_ERR_SHAPE,
                           "dimension %d of the tensor has %lld entries but %s has %zu entities", a,
                           (long long)shape[a], L->dom[rel->dom[a]].name, n);
        if ((size_t)shape[a] > n)
            return tl_fail(TL_ERR_SHAPE,
                           "dimension %d of the tensor has %lld entries but argument %d of %s is "
                           "untyped and only %zu entities exist so far (facts and `entity` "
                           "declarations add them)",
                           a, (long long)shape[a], a + 1, rel->name, n);
    }
    tl_tensor *f, *fc;
    tl_status st = tl_op_cast(t, TL_DTYPE_F32, &f);
    if (st != TL_OK) return st;
    st = tl_op_contiguous(f, &fc);
    tl_tensor_unref(f);
    if (st != TL_OK) return st;
    const float *x = tl_tensor_data(fc);
    int64_t total = tl_tensor_nelements(fc);
    for (int64_t i = 0; i < total && st == TL_OK; i++) {
        if (!(x[i] > thr)) continue;
        int32_t tu[TL_REL_MAX_ARITY];
        int64_t rem = i;
        for (int a = rel->arity - 1; a >= 0; a--) {
            tu[a] = tl_logic_domain_member(L, rel->dom[a], (size_t)(rem % shape[a]));
            rem /= shape[a];
        }
        bool fresh;
        st = tl_logic_add_fact(L, r, tu, &fresh);
        *added += fresh;
    }
    tl_tensor_unref(fc);
    return st;
}

tl_flow tl_logic_relation_value(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_logic *L = I->logic;
    int r = tl_logic_find_relation(L, n->name);
    tl_flow fl = tl_logic_model_at(I, L, n);
    if (fl != TL_FLOW_OK) return fl;
    tl_tensor *t;
    tl_status st = tl_logic_tensor_of(L, r, &t);
    if (st != TL_OK) return tl_err_status(I, n, st);
    *out = tl_value_tensor(t);
    return TL_FLOW_OK;
}

tl_flow tl_logic_equation(tl_interp *I, const tl_node *n) {
    tl_logic *L = I->logic;
    const tl_node *target = n->a->a;
    int r = tl_logic_find_relation(L, target->name);
    int64_t cap = L->max_rounds > 0 ? L->max_rounds : 1000000;
    for (int64_t round = 0;; round++) {
        if (round >= cap)
            return tl_err_at(I, target, TL_ERR_ARG,
                             "the equation for %s stopped at the round cap (%lld rounds) before a "
                             "fixpoint; raise it with logic_max_rounds(n)",
                             target->name, (long long)cap);
        tl_value v;
        tl_flow fl = tl_eq_eval(I, n, &v);
        if (fl != TL_FLOW_OK) return fl;
        int64_t added = 0;
        tl_status st = tl_logic_from_tensor(L, r, v.as.tensor, 0.5, &added);
        tl_value_release(&v);
        if (st != TL_OK) return tl_err_status(I, target, st);
        if (added == 0) return TL_FLOW_OK;
    }
}
