/* lang/builtins/kg_predict.c -- knowledge-graph link prediction (docs/logic.md):
** score every candidate with a KG model and return the candidates best first.
**   predict_tail(h, r, E[, model[, k]])      candidates t = the rows of E, score (h, r, t)
**   predict_head(r, t, E[, model[, k]])      candidates h = the rows of E, score (h, r, t)
**   predict_relation(h, t, R[, model[, k]])  candidates r = the rows of R, score (h, r, t)
** h, r, t are d-vectors, E / R are [n, d] tables (an `embedding` or a
** `relation_embedding`); model is "transe" (L1, the default), "transe2" (L2),
** "distmult" or "complex"; the result is an array of the k (default all) best
** row indices, highest score first, ties by lower index. */
#include "lang/builtin.h"
#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

double tl_kg_score(int kind, const float *hh, const float *rr, const float *tt, int64_t d,
                   double p);
tl_status tl_kg_predict(tl_call *c, int argc, const tl_value *argv, tl_value *out);

static tl_status f32_nd(tl_call *c, const tl_value *argv, int i, int nd, tl_tensor **out) {
    tl_tensor *t, *f;
    tl_status st = tl_arg_tensor(c, argv, i, &t);
    if (st != TL_OK) return st;
    if (t->n_dims != nd)
        return tl_fail(TL_ERR_SHAPE, "argument %d must have %d dimension%s, not %d", i + 1, nd,
                       nd == 1 ? "" : "s", t->n_dims);
    if ((st = tl_op_cast(t, TL_DTYPE_F32, &f)) != TL_OK) return st;
    st = tl_op_contiguous(f, out);
    tl_tensor_unref(f);
    return st;
}

typedef struct {
    double s;
    int64_t i;
} cand;

static int by_score(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

tl_status tl_kg_predict(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    /* which slot of (h, r, t) the candidates fill (the def's op): 2 tail, 0 head,
    ** 1 relation */
    int slot = c->op;
    const char *model = "transe";
    int64_t k = -1;
    tl_status st = argc > 3 ? tl_arg_string(c, argv, 3, &model) : TL_OK;
    if (st == TL_OK && argc > 4) st = tl_arg_int(c, argv, 4, &k);
    if (st != TL_OK) return st;
    int kind;
    double p = 1;
    if (strcmp(model, "transe") == 0)
        kind = 0;
    else if (strcmp(model, "transe2") == 0)
        kind = 0, p = 2;
    else if (strcmp(model, "distmult") == 0)
        kind = 1;
    else if (strcmp(model, "complex") == 0)
        kind = 2;
    else
        return tl_fail(TL_ERR_ARG,
                       "unknown model \"%s\" (\"transe\", \"transe2\", \"distmult\", \"complex\")",
                       model);
    if (argc > 4 && k < 0) return tl_fail(TL_ERR_ARG, "k must be >= 0, got %lld", (long long)k);
    tl_tensor *x = NULL, *y = NULL, *E = NULL;
    st = f32_nd(c, argv, 0, 1, &x);
    if (st == TL_OK) st = f32_nd(c, argv, 1, 1, &y);
    if (st == TL_OK) st = f32_nd(c, argv, 2, 2, &E);
    int64_t d = x ? x->ne[0] : 0, n = E ? E->ne[1] : 0;
    if (st == TL_OK && (y->ne[0] != d || E->ne[0] != d))
        st = tl_fail(TL_ERR_SHAPE,
                     "the two vectors [%lld], [%lld] and the table's rows [%lld] need one length",
                     (long long)d, (long long)y->ne[0], (long long)E->ne[0]);
    if (st == TL_OK && kind == 2 && d % 2)
        st = tl_fail(TL_ERR_SHAPE, "complex: the vectors hold [real.., imag..], %lld is odd",
                     (long long)d);
    cand *cs = NULL;
    if (st == TL_OK && !(cs = malloc(((size_t)n + 1) * sizeof *cs)))
        st = tl_fail(TL_ERR_NOMEM, "out of memory");
    if (st == TL_OK) {
        const float *a = tl_tensor_data(x), *b = tl_tensor_data(y), *e = tl_tensor_data(E);
        for (int64_t j = 0; j < n; j++) {
            const float *row = e + j * d;
            const float *v[3];
            v[slot] = row;
            v[slot == 0 ? 1 : 0] = a;
            v[slot == 2 ? 1 : 2] = b;
            cs[j] = (cand){tl_kg_score(kind, v[0], v[1], v[2], d, p), j};
        }
        qsort(cs, (size_t)n, sizeof *cs, by_score);
        if (k < 0 || k > n) k = n;
        st = tl_value_array((size_t)k, out);
        bool made = st == TL_OK;
        for (int64_t j = 0; j < k && st == TL_OK; j++)
            st = tl_array_push(out->as.arr, tl_value_int(cs[j].i));
        if (st != TL_OK && made) tl_value_release(out);
    }
    free(cs);
    if (x) tl_tensor_unref(x);
    if (y) tl_tensor_unref(y);
    if (E) tl_tensor_unref(E);
    return st;
}
