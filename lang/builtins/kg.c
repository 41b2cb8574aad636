/* lang/builtins/kg.c -- knowledge-graph and graph-network builtins, and the
** tempered sigmoid of embedding-space reasoning (docs/logic.md has the formulas).
**   sigmoid(x, T)                         1 / (1 + exp(-x / T)); T = 0: step (0.5 at 0)
**   transe_score(h, r, t[, p = 1])        -|| h + r - t ||_p          (last axis)
**   distmult_score(h, r, t)               sum h * r * t               (last axis)
**   complex_score(h, r, t)                Re <h, r, conj t>, vectors [re.., im..]
**   rank(scores, i)                       1 + #{ j : scores[j] > scores[i] }
**   compute_mrr(ranks), hits_at_k(ranks, k)
**   margin_ranking_loss(pos, neg[, margin = 1])  mean max(0, margin - pos + neg)
**   binary_cross_entropy(p, y)            mean -(y log p + (1 - y) log(1 - p)), p clamped
**   aggregate_neighbors(A, H[, "sum"|"mean"|"max"])   row i: over j with A[i, j] != 0
**   relational_aggregate(A, H, W)         sum_r A[r] @ H @ W[r]
**   normalize_features(H)                 rows scaled to unit L2 norm (zero rows stay)
**   normalize_adjacency(A[, self_loops = true])   D^-1/2 (A + I) D^-1/2
**   predict_tail / predict_head / predict_relation   (kg_predict.c)
**   graph_attention(A, H, W, a[, slope])  (gnn.c) */
#include "lang/builtin.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a contiguous f32 copy of argument i; *shape in NumPy order */
static tl_status f32_arg(tl_call *c, const tl_value *argv, int i, tl_tensor **out, int64_t *shape,
                         int *nd) {
    tl_tensor *t, *f;
    tl_status st = tl_arg_tensor(c, argv, i, &t);
    if (st != TL_OK) return st;
    if ((st = tl_op_cast(t, TL_DTYPE_F32, &f)) != TL_OK) return st;
    st = tl_op_contiguous(f, out);
    tl_tensor_unref(f);
    if (st != TL_OK) return st;
    tl_tensor_shape(*out, shape);
    *nd = (*out)->n_dims;
    return TL_OK;
}

static tl_status new_f32(int nd, const int64_t *shape, tl_tensor **t, float **x) {
    tl_status st = tl_tensor_new_shape(TL_DTYPE_F32, nd, shape, t);
    if (st == TL_OK) *x = tl_tensor_data(*t);
    return st;
}

/* -------------------------------------------------------------- sigmoid(x, T) */

static double tsig(double x, double T) {
    if (T == 0) return x > 0 ? 1.0 : x < 0 ? 0.0 : 0.5;
    return 1.0 / (1.0 + exp(-x / T));
}

static tl_status b_sigmoid(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    double T = 1.0;
    if (argc == 2) {
        tl_status st = tl_arg_double(c, argv, 1, &T);
        if (st != TL_OK) return st;
        if (!(T >= 0) || isinf(T))
            return tl_fail(TL_ERR_ARG, "the temperature must be >= 0 and finite, got %s",
                           tl_num_str(T));
    }
    if (tl_value_is_number(&argv[0])) {
        *out = tl_value_float(tsig(tl_value_as_double(&argv[0]), T));
        return TL_OK;
    }
    tl_tensor *x, *r;
    int64_t shape[TL_MAX_DIMS];
    int nd;
    float *y;
    tl_status st = f32_arg(c, argv, 0, &x, shape, &nd);
    if (st != TL_OK) return st;
    if ((st = new_f32(nd, shape, &r, &y)) == TL_OK) {
        const float *xs = tl_tensor_data(x);
        for (int64_t i = 0; i < tl_tensor_nelements(x); i++)
            y[i] = (float)tsig(xs[i], T);
        *out = tl_value_tensor(r);
    }
    tl_tensor_unref(x);
    return st;
}

/* -------------------------------------------------------------- KG scores */

/* the score of one triple of d-vectors: kind 0 TransE (norm p), 1 DistMult,
** 2 ComplEx ([re.., im..], d even); also used by kg_predict.c */
double tl_kg_score(int kind, const float *hh, const float *rr, const float *tt, int64_t d,
                   double p);
double tl_kg_score(int kind, const float *hh, const float *rr, const float *tt, int64_t d,
                   double p) {
    double s = 0;
    if (kind == 0) {
        for (int64_t i = 0; i < d; i++) {
            double e = (double)hh[i] + rr[i] - tt[i];
            s += p == 1 ? fabs(e) : e * e;
        }
        return -(p == 1 ? s : sqrt(s));
    }
    if (kind == 1) {
        for (int64_t i = 0; i < d; i++)
            s += (double)hh[i] * rr[i] * tt[i];
        return s;
    }
    int64_t m = d / 2;
    for (int64_t i = 0; i < m; i++) {
        double hr = hh[i], hi = hh[m + i], rre = rr[i], ri = rr[m + i], tr = tt[i], ti = tt[m + i];
        s += hr * rre * tr + hi * rre * ti + hr * ri * ti - hi * ri * tr;
    }
    return s;
}

/* h, r, t of one shape; out: one score per row of the last axis */
static tl_status score3(tl_call *c, int argc, const tl_value *argv, tl_value *out, int kind) {
    tl_tensor *a[3] = {0};
    int64_t shape[3][TL_MAX_DIMS];
    int nd[3];
    double p = 1;
    tl_status st = TL_OK;
    for (int i = 0; i < 3 && st == TL_OK; i++)
        st = f32_arg(c, argv, i, &a[i], shape[i], &nd[i]);
    if (st == TL_OK && kind == 0 && argc > 3) st = tl_arg_double(c, argv, 3, &p);
    if (st == TL_OK && kind == 0 && p != 1 && p != 2)
        st = tl_fail(TL_ERR_ARG, "the norm must be 1 or 2, got %s", tl_num_str(p));
    for (int i = 1; i < 3 && st == TL_OK; i++)
        if (nd[i] != nd[0] || memcmp(shape[i], shape[0], (size_t)nd[0] * sizeof(int64_t)) != 0)
            st = tl_fail(TL_ERR_SHAPE, "h, r and t must have one shape");
    int64_t d = st == TL_OK ? shape[0][nd[0] - 1] : 0;
    if (st == TL_OK && kind == 2 && d % 2)
        st = tl_fail(TL_ERR_SHAPE,
                     "complex_score: the last axis (%lld) holds [real.., imag..] "
                     "and must be even",
                     (long long)d);
    if (st == TL_OK) {
        const float *h = tl_tensor_data(a[0]), *r = tl_tensor_data(a[1]), *t = tl_tensor_data(a[2]);
        int64_t rows = d ? tl_tensor_nelements(a[0]) / d : 0;
        float *y = NULL;
        tl_tensor *res = NULL;
        if (nd[0] > 1) st = new_f32(nd[0] - 1, shape[0], &res, &y);
        for (int64_t k = 0; k < rows && st == TL_OK; k++) {
            double s = tl_kg_score(kind, h + k * d, r + k * d, t + k * d, d, p);
            if (res)
                y[k] = (float)s;
            else
                *out = tl_value_float(s);
        }
        if (res) {
            if (st == TL_OK)
                *out = tl_value_tensor(res);
            else
                tl_tensor_unref(res);
        }
    }
    for (int i = 0; i < 3; i++)
        if (a[i]) tl_tensor_unref(a[i]);
    return st;
}

static tl_status b_transe(tl_call *c, int n, const tl_value *v, tl_value *o) {
    return score3(c, n, v, o, 0);
}
static tl_status b_distmult(tl_call *c, int n, const tl_value *v, tl_value *o) {
    return score3(c, n, v, o, 1);
}
static tl_status b_complex(tl_call *c, int n, const tl_value *v, tl_value *o) {
    return score3(c, n, v, o, 2);
}

/* numbers from an int/float array or a tensor */
static tl_status numbers(tl_call *c, const tl_value *argv, int i, double **out, size_t *n) {
    const tl_value *v = &argv[i];
    if (v->kind == TL_VAL_ARRAY) {
        *n = v->as.arr->len;
        *out = malloc((*n + 1) * sizeof **out);
        if (!*out) return tl_fail(TL_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < *n; k++) {
            if (!tl_value_is_number(&v->as.arr->items[k])) {
                free(*out);
                return tl_fail(TL_ERR_TYPE, "argument %d must hold numbers", i + 1);
            }
            (*out)[k] = tl_value_as_double(&v->as.arr->items[k]);
        }
        return TL_OK;
    }
    tl_tensor *t;
    int64_t shape[TL_MAX_DIMS];
    int nd;
    tl_status st = f32_arg(c, argv, i, &t, shape, &nd);
    if (st != TL_OK) return st;
    *n = (size_t)tl_tensor_nelements(t);
    *out = malloc((*n + 1) * sizeof **out);
    if (*out) {
        const float *x = tl_tensor_data(t);
        for (size_t k = 0; k < *n; k++)
            (*out)[k] = x[k];
    }
    tl_tensor_unref(t);
    return *out ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
}

/* rank(scores, i); rank(x) with one argument is core.c's tensor rank (the arity
** picks the def). */
static tl_status b_rank(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double *s;
    size_t n;
    int64_t i;
    tl_status st = tl_arg_int(c, argv, 1, &i);
    if (st == TL_OK) st = numbers(c, argv, 0, &s, &n);
    if (st != TL_OK) return st;
    if (i < 0 || (size_t)i >= n) {
        free(s);
        return tl_fail(TL_ERR_RANGE, "index %lld is out of range for %zu scores", (long long)i, n);
    }
    int64_t r = 1;
    for (size_t k = 0; k < n; k++)
        r += s[k] > s[i];
    free(s);
    *out = tl_value_int(r);
    return TL_OK;
}

static tl_status b_mrr_hits(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double *r;
    size_t n;
    int64_t k = 0;
    bool hits = c->op == 1;
    tl_status st = hits ? tl_arg_int(c, argv, 1, &k) : TL_OK;
    if (st == TL_OK) st = numbers(c, argv, 0, &r, &n);
    if (st != TL_OK) return st;
    double acc = 0;
    for (size_t i = 0; i < n && st == TL_OK; i++) {
        if (!(r[i] >= 1)) st = tl_fail(TL_ERR_ARG, "rank %s is not >= 1", tl_num_str(r[i]));
        acc += hits ? (r[i] <= (double)k) : 1.0 / r[i];
    }
    free(r);
    if (st == TL_OK && n == 0) st = tl_fail(TL_ERR_ARG, "no ranks");
    if (st == TL_OK) *out = tl_value_float(acc / (double)n);
    return st;
}

static tl_status b_margin(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    double *p, *q, m = 1;
    size_t np, nq;
    tl_status st = argc > 2 ? tl_arg_double(c, argv, 2, &m) : TL_OK;
    if (st == TL_OK) st = numbers(c, argv, 0, &p, &np);
    if (st != TL_OK) return st;
    if ((st = numbers(c, argv, 1, &q, &nq)) != TL_OK) {
        free(p);
        return st;
    }
    if (np != nq || np == 0)
        st = tl_fail(TL_ERR_SHAPE, "pos and neg need one non-zero size (%zu, %zu)", np, nq);
    double acc = 0;
    for (size_t i = 0; i < np && st == TL_OK; i++)
        acc += fmax(0.0, m - p[i] + q[i]);
    free(p), free(q);
    if (st == TL_OK) *out = tl_value_float(acc / (double)np);
    return st;
}

static tl_status b_bce(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double *p, *y;
    size_t np, ny;
    tl_status st = numbers(c, argv, 0, &p, &np);
    if (st != TL_OK) return st;
    if ((st = numbers(c, argv, 1, &y, &ny)) != TL_OK) {
        free(p);
        return st;
    }
    if (np != ny || np == 0)
        st = tl_fail(TL_ERR_SHAPE, "p and y need one non-zero size (%zu, %zu)", np, ny);
    double acc = 0;
    for (size_t i = 0; i < np && st == TL_OK; i++) {
        double q = fmin(fmax(p[i], 1e-7), 1 - 1e-7);
        acc -= y[i] * log(q) + (1 - y[i]) * log(1 - q);
    }
    free(p), free(y);
    if (st == TL_OK) *out = tl_value_float(acc / (double)np);
    return st;
}

tl_status tl_kg_predict(tl_call *c, int argc, const tl_value *argv, tl_value *out);
tl_status tl_gnn_attention(tl_call *c, int argc, const tl_value *argv, tl_value *out);
tl_status tl_gnn_aggregate(tl_call *c, int argc, const tl_value *argv, tl_value *out);
tl_status tl_gnn_relational(tl_call *c, int argc, const tl_value *argv, tl_value *out);
tl_status tl_gnn_normalize_features(tl_call *c, int argc, const tl_value *argv, tl_value *out);
tl_status tl_gnn_normalize_adjacency(tl_call *c, int argc, const tl_value *argv, tl_value *out);

#define NUM (TL_KIND_BIT(TL_VAL_FLOAT) | TL_KIND_BIT(TL_VAL_INT))
const tl_builtin_def tl_builtins_kg[] = {
    /* sigmoid(t) is nn.c's activation */
    {"sigmoid", 1, 2, b_sigmoid, "sigmoid(x[, T]) -> float", NUM},
    {"sigmoid", 2, 2, b_sigmoid, "sigmoid(t, T) -> tensor", TL_KIND_BIT(TL_VAL_TENSOR)},
    {"transe_score", 3, 4, b_transe, "transe_score(h, r, t[, p = 1]) -> float or tensor", 0},
    {"distmult_score", 3, 3, b_distmult, "distmult_score(h, r, t) -> float or tensor", 0},
    {"complex_score", 3, 3, b_complex, "complex_score(h, r, t) -> float or tensor", 0},
    {"rank", 2, 2, b_rank, "rank(scores, i) -> int", 0},
    {"compute_mrr", 1, 1, b_mrr_hits, "compute_mrr(ranks) -> float", 0},
    {"hits_at_k", 2, 2, b_mrr_hits, "hits_at_k(ranks, k) -> float", 0, 1 /* op: hits */},
    {"margin_ranking_loss", 2, 3, b_margin, "margin_ranking_loss(pos, neg[, margin = 1]) -> float",
     0},
    {"binary_cross_entropy", 2, 2, b_bce, "binary_cross_entropy(p, y) -> float", 0},
    {"predict_tail", 3, 5, tl_kg_predict,
     "predict_tail(h, r, E[, model = \"transe\"[, k]]) -> [int] best tails first", 0, 2},
    {"predict_head", 3, 5, tl_kg_predict,
     "predict_head(r, t, E[, model = \"transe\"[, k]]) -> [int] best heads first", 0, 0},
    {"predict_relation", 3, 5, tl_kg_predict,
     "predict_relation(h, t, R[, model = \"transe\"[, k]]) -> [int] best relations first", 0, 1},
    {"graph_attention", 4, 5, tl_gnn_attention,
     "graph_attention(A, H, W, a[, slope = 0.2]) -> tensor (GAT layer)", 0},
    {"aggregate_neighbors", 2, 3, tl_gnn_aggregate, "aggregate_neighbors(A, H[, mode]) -> tensor",
     0},
    {"relational_aggregate", 3, 3, tl_gnn_relational, "relational_aggregate(A, H, W) -> tensor", 0},
    {"normalize_features", 1, 1, tl_gnn_normalize_features, "normalize_features(H) -> tensor", 0},
    {"normalize_adjacency", 1, 2, tl_gnn_normalize_adjacency,
     "normalize_adjacency(A[, self_loops = true]) -> tensor", 0},
    {0},
};
