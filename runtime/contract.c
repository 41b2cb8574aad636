/* runtime/contract.c -- pairwise contraction plans and their execution (contract.h). */
#include "runtime/contract.h"

#include "runtime/ops.h"
#include "runtime/contract_bmm.h"
#include "runtime/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t lmask;

typedef struct work {
    tl_tensor *t; /* owned reference */
    int n;
    int lab[TL_MAX_DIMS];
} work;

static lmask mask_of(const int *lab, int n) {
    lmask m = 0;
    for (int i = 0; i < n; i++)
        m |= (lmask)1 << lab[i];
    return m;
}

static double size_of(lmask m, const int64_t *extent) {
    double s = 1.0;
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++)
        if (m & ((lmask)1 << l)) s *= (double)extent[l];
    return s;
}

/* The label set operand i keeps before any pairing: the labels that the output
** or another operand needs (the rest is summed inside the operand first). */
static lmask input_mask(const tl_contract_spec *spec, int i) {
    lmask keep = mask_of(spec->out, spec->n_out);
    for (int j = 0; j < spec->n_ops; j++)
        if (j != i) keep |= mask_of(spec->labels[j], spec->n_dims[j]);
    return mask_of(spec->labels[i], spec->n_dims[i]) & keep;
}

void tl_contract_make_plan(const tl_contract_spec *spec, const int64_t *extent,
                           tl_contract_plan *plan) {
    lmask m[2 * TL_CONTRACT_MAX_OPS];
    bool live[2 * TL_CONTRACT_MAX_OPS] = {0};
    int n = spec->n_ops, n_live = n;
    lmask out_m = mask_of(spec->out, spec->n_out);
    for (int i = 0; i < n; i++) {
        m[i] = input_mask(spec, i);
        live[i] = true;
    }
    plan->n_steps = 0;
    while (n_live > 1) {
        int bi = -1, bj = -1;
        double best = 0.0;
        for (int pass = 0; pass < 2 && bi < 0; pass++)
            for (int i = 0; i < n; i++) {
                if (!live[i]) continue;
                for (int j = i + 1; j < n; j++) {
                    if (!live[j]) continue;
                    if (pass == 0 && !(m[i] & m[j])) continue;
                    lmask keep = out_m;
                    for (int k = 0; k < n; k++)
                        if (live[k] && k != i && k != j) keep |= m[k];
                    lmask r = (m[i] | m[j]) & keep;
                    double cost =
                        size_of(r, extent) - size_of(m[i], extent) - size_of(m[j], extent);
                    if (bi < 0 || cost < best) {
                        best = cost;
                        bi = i;
                        bj = j;
                    }
                }
            }
        lmask keep = out_m;
        for (int k = 0; k < n; k++)
            if (live[k] && k != bi && k != bj) keep |= m[k];
        m[n] = (m[bi] | m[bj]) & keep;
        live[bi] = live[bj] = false;
        live[n++] = true;
        n_live--;
        plan->steps[plan->n_steps++] = (tl_contract_step){(int8_t)bi, (int8_t)bj};
    }
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++)
        plan->extent[l] = extent[l];
    plan->n_ops = spec->n_ops;
    for (int i = 0; i < spec->n_ops; i++)
        plan->op_labels[i] = mask_of(spec->labels[i], spec->n_dims[i]);
    plan->valid = true;
}

/* ---- helpers on NumPy-order axes ------------------------------------------------ */

/* A view of t with NumPy-order shape and byte strides. */
static tl_status view_np(const tl_tensor *t, int n, const int64_t *shape, const size_t *stride,
                         tl_tensor **out) {
    int64_t ne[TL_MAX_DIMS];
    size_t nb[TL_MAX_DIMS];
    for (int d = 0; d < TL_MAX_DIMS; d++) {
        ne[d] = 1;
        nb[d] = 0;
    }
    for (int a = 0; a < n; a++) {
        ne[n - 1 - a] = shape[a];
        nb[n - 1 - a] = stride[a];
    }
    /* unused dims: strides of a contiguous continuation, never read */
    for (int d = n; d < TL_MAX_DIMS; d++)
        nb[d] = d > 0 ? nb[d - 1] * (size_t)ne[d - 1] : tl_dtype_traits(t->dtype)->size;
    return tl_tensor_view((tl_tensor *)t, n, ne, nb, t->offs, out);
}

static bool is_quant(const tl_tensor *t) {
    return tl_dtype_traits(t->dtype)->quantized;
}

/* Takes the diagonal of every repeated label (a view); w->lab becomes distinct. */
static tl_status diagonal(work *w) {
    int uniq[TL_MAX_DIMS], nu = 0;
    int64_t shape[TL_MAX_DIMS], tshape[TL_MAX_DIMS];
    size_t stride[TL_MAX_DIMS];
    bool repeated = false;
    tl_tensor_shape(w->t, tshape);
    for (int a = 0; a < w->n; a++) {
        int k = 0;
        while (k < nu && uniq[k] != w->lab[a])
            k++;
        size_t s = w->t->nb[w->n - 1 - a];
        if (k == nu) {
            uniq[nu] = w->lab[a];
            shape[nu] = tshape[a];
            stride[nu++] = s;
        } else {
            repeated = true;
            stride[k] += s;
        }
    }
    if (!repeated) return TL_OK;
    if (is_quant(w->t))
        return tl_fail(TL_ERR_TYPE,
                       "%s tensor: a diagonal needs a plain dtype (dequantize it first)",
                       tl_dtype_name(w->t->dtype));
    tl_tensor *v = NULL;
    tl_status st = view_np(w->t, nu, shape, stride, &v);
    if (st != TL_OK) return st;
    tl_tensor_unref(w->t);
    w->t = v;
    w->n = nu;
    memcpy(w->lab, uniq, sizeof uniq);
    return TL_OK;
}

/* Sums the axes of w whose labels are not in keep. */
static tl_status reduce_to(work *w, lmask keep, uint32_t *used) {
    for (int a = w->n - 1; a >= 0; a--) {
        if (keep & ((lmask)1 << w->lab[a])) continue;
        if (is_quant(w->t))
            return tl_fail(TL_ERR_TYPE,
                           "%s tensor: summing over one of its axes needs a plain dtype "
                           "(contract it as a weight, or dequantize it first)",
                           tl_dtype_name(w->t->dtype));
        tl_tensor *r = NULL;
        tl_status st = tl_op_reduce(TL_RED_SUM, w->t, a, false, false, &r);
        if (st != TL_OK) return st;
        tl_tensor_unref(w->t);
        w->t = r;
        memmove(w->lab + a, w->lab + a + 1, (size_t)(w->n - a - 1) * sizeof(int));
        w->n--;
        *used |= TL_CONTRACT_K_REDUCE;
    }
    return TL_OK;
}

/* Permutes w's axes into the label order `order` (a permutation of w->lab): a view. */
static tl_status permute_to(work *w, const int *order) {
    int axes[TL_MAX_DIMS];
    bool ident = true;
    for (int i = 0; i < w->n; i++) {
        int a = 0;
        while (w->lab[a] != order[i])
            a++;
        axes[i] = a;
        if (a != i) ident = false;
    }
    if (ident) return TL_OK;
    tl_tensor *p = NULL;
    tl_status st = tl_op_permute(w->t, w->n, axes, &p);
    if (st != TL_OK) return st;
    tl_tensor_unref(w->t);
    w->t = p;
    memcpy(w->lab, order, (size_t)w->n * sizeof(int));
    return TL_OK;
}

static tl_status make_contiguous_f32(tl_tensor **t, bool f32) {
    tl_tensor *c = NULL;
    tl_status st = TL_OK;
    if (f32 && (*t)->dtype != TL_DTYPE_F32)
        st = tl_op_cast(*t, TL_DTYPE_F32, &c);
    else if (!tl_tensor_is_contiguous(*t))
        st = tl_op_contiguous(*t, &c);
    else
        return TL_OK;
    if (st != TL_OK) return st;
    if (!tl_tensor_is_contiguous(c)) {
        tl_tensor *c2 = NULL;
        st = tl_op_contiguous(c, &c2);
        tl_tensor_unref(c);
        if (st != TL_OK) return st;
        c = c2;
    }
    tl_tensor_unref(*t);
    *t = c;
    return TL_OK;
}

static tl_status reshape_np(tl_tensor **t, int n, const int64_t *shape) {
    tl_tensor *r = NULL;
    tl_status st = tl_op_reshape(*t, n, shape, &r);
    if (st != TL_OK) return st;
    tl_tensor_unref(*t);
    *t = r;
    return TL_OK;
}

static int64_t extent_of(const work *w, int label) {
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(w->t, shape);
    for (int a = 0; a < w->n; a++)
        if (w->lab[a] == label) return shape[a];
    return 1;
}

/* ---- one pairwise step ------------------------------------------------------------ */

/* x [.., k] · W[o, k]ᵀ -> [.., o]: w is the weight (2-d, labels o, k). */
static tl_status pair_linear(work *x, work *w, int k, work *res, uint32_t *used) {
    int order[TL_MAX_DIMS], n = 0;
    for (int a = 0; a < x->n; a++)
        if (x->lab[a] != k) order[n++] = x->lab[a];
    order[n++] = k;
    tl_status st = permute_to(x, order);
    /* f32 activations (an f16/bf16 x would make linear's output f16/bf16) */
    if (st == TL_OK) st = make_contiguous_f32(&x->t, x->t->dtype != TL_DTYPE_F32);
    if (st != TL_OK) return st;
    tl_tensor *y = NULL;
    st = tl_op_linear(x->t, w->t, NULL, &y);
    if (st != TL_OK) return st;
    res->t = y;
    res->n = x->n;
    memcpy(res->lab, order, sizeof order);
    res->lab[res->n - 1] = w->lab[0];
    *used |= TL_CONTRACT_K_LINEAR;
    return TL_OK;
}

/* ---- f32 broadcasting multiply (the join of factors that share no summed index) ---- */

typedef struct mul_job {
    int n_ops;
    const float *p[TL_CONTRACT_MAX_OPS];
    float *y;
    int n;                                        /* ggml-order dims */
    int64_t ne[TL_MAX_DIMS];                      /* output extents */
    int64_t st[TL_CONTRACT_MAX_OPS][TL_MAX_DIMS]; /* element strides, 0 where broadcast */
} mul_job;

static const float *mul_row_ptr(const mul_job *j, int f, int64_t r) {
    int64_t rem = r, o = 0;
    for (int d = 1; d < j->n; d++) {
        int64_t i = rem % j->ne[d];
        rem /= j->ne[d];
        o += i * j->st[f][d];
    }
    return j->p[f] + o;
}

static void mul_rows(void *ctx, int64_t begin, int64_t end) {
    const mul_job *j = ctx;
    int64_t n0 = j->ne[0];
    for (int64_t r = begin; r < end; r++) {
        float *py = j->y + r * n0;
        const float *p0 = mul_row_ptr(j, 0, r), *p1 = mul_row_ptr(j, 1, r);
        int64_t s0 = j->st[0][0], s1 = j->st[1][0];
        if (s0 == 1 && s1 == 1)
            for (int64_t i = 0; i < n0; i++)
                py[i] = p0[i] * p1[i];
        else if (s0 == 1 && s1 == 0)
            for (int64_t i = 0; i < n0; i++)
                py[i] = p0[i] * p1[0];
        else if (s0 == 0 && s1 == 1)
            for (int64_t i = 0; i < n0; i++)
                py[i] = p0[0] * p1[i];
        else
            for (int64_t i = 0; i < n0; i++)
                py[i] = p0[i * s0] * p1[i * s1];
        for (int f = 2; f < j->n_ops; f++) {
            const float *pf = mul_row_ptr(j, f, r);
            int64_t sf = j->st[f][0];
            if (sf == 1)
                for (int64_t i = 0; i < n0; i++)
                    py[i] *= pf[i];
            else if (sf == 0)
                for (int64_t i = 0; i < n0; i++)
                    py[i] *= pf[0];
            else
                for (int64_t i = 0; i < n0; i++)
                    py[i] *= pf[i * sf];
        }
    }
}

/* y = the product of n f32 tensors of equal rank whose dims agree or are 1, in one
** pass (left to right per element). */
static tl_status mul_f32_n(int n, const tl_tensor *const *t, tl_tensor **out) {
    mul_job j = {.n_ops = n, .n = t[0]->n_dims};
    int64_t rows = 1;
    for (int d = 0; d < TL_MAX_DIMS; d++) {
        j.ne[d] = 1;
        for (int f = 0; f < n; f++)
            if (t[f]->ne[d] > j.ne[d]) j.ne[d] = t[f]->ne[d];
        for (int f = 0; f < n; f++)
            j.st[f][d] = t[f]->ne[d] == 1 ? 0 : (int64_t)(t[f]->nb[d] / sizeof(float));
        if (d > 0 && d < j.n) rows *= j.ne[d];
    }
    for (int f = 0; f < n; f++)
        j.p[f] = tl_tensor_data(t[f]);
    int nd = j.n;
    if (j.n == 0) j.n = 1;
    tl_tensor *y = NULL;
    tl_status st = tl_tensor_new_uninit(TL_DTYPE_F32, nd, j.ne, &y); /* mul_rows writes all */
    if (st != TL_OK) return st;
    j.y = tl_tensor_data(y);
    if (rows * j.ne[0] > 0) tl_parallel_for(rows, 1 + (1 << 14) / (j.ne[0] + 1), mul_rows, &j);
    *out = y;
    return TL_OK;
}

static tl_status mul_f32(const tl_tensor *a, const tl_tensor *b, tl_tensor **out) {
    const tl_tensor *t[2] = {a, b};
    return mul_f32_n(2, t, out);
}

/* A view of w over the label order `order` (size 1 where w lacks a label). */
static tl_status align_view(work *w, const int *order, int n) {
    int ob[TL_MAX_DIMS], k = 0;
    lmask mw = mask_of(w->lab, w->n);
    for (int i = 0; i < n; i++)
        if (mw & ((lmask)1 << order[i])) ob[k++] = order[i];
    tl_status st = permute_to(w, ob);
    for (int i = 0; i < n && st == TL_OK; i++) {
        if (mw & ((lmask)1 << order[i])) continue;
        tl_tensor *u = NULL;
        st = tl_op_unsqueeze(w->t, i, &u);
        if (st == TL_OK) {
            tl_tensor_unref(w->t);
            w->t = u;
        }
    }
    return st;
}

/* When nothing is summed and every operand is f32: one n-ary multiply over out. */
static tl_status join_all(work *w, int n, const tl_contract_spec *spec, work *res, uint32_t *used) {
    const tl_tensor *t[TL_CONTRACT_MAX_OPS];
    tl_status st = TL_OK;
    for (int i = 0; i < n && st == TL_OK; i++) {
        st = align_view(&w[i], spec->out, spec->n_out);
        t[i] = w[i].t;
    }
    tl_tensor *y = NULL;
    if (st == TL_OK) st = mul_f32_n(n, t, &y);
    if (st != TL_OK) return st;
    res->t = y;
    res->n = spec->n_out;
    memcpy(res->lab, spec->out, sizeof res->lab);
    *used |= TL_CONTRACT_K_BROADCAST;
    return TL_OK;
}

/* No summed label shared: a broadcasting product over A's labels (in A's order, so
** A is read as it lies) followed by B's own labels. */
static tl_status pair_broadcast(work *A, work *B, work *res, uint32_t *used) {
    int order[TL_MAX_DIMS], n = A->n;
    lmask ma = mask_of(A->lab, A->n);
    memcpy(order, A->lab, (size_t)A->n * sizeof(int));
    for (int a = 0; a < B->n; a++)
        if (!(ma & ((lmask)1 << B->lab[a]))) {
            if (n == TL_MAX_DIMS)
                return tl_fail(TL_ERR_SHAPE,
                               "contraction: an intermediate would have more than %d axes",
                               TL_MAX_DIMS);
            order[n++] = B->lab[a];
        }
    /* B: its labels in result order, then a size-1 axis wherever it lacks one */
    int ob[TL_MAX_DIMS], k = 0;
    lmask mb = mask_of(B->lab, B->n);
    for (int i = 0; i < n; i++)
        if (mb & ((lmask)1 << order[i])) ob[k++] = order[i];
    tl_status st = permute_to(B, ob);
    for (int i = 0; i < n && st == TL_OK; i++) {
        if (mb & ((lmask)1 << order[i])) continue;
        tl_tensor *u = NULL;
        st = tl_op_unsqueeze(B->t, i, &u);
        if (st == TL_OK) {
            tl_tensor_unref(B->t);
            B->t = u;
        }
    }
    for (int i = A->n; i < n && st == TL_OK; i++) { /* A: trailing size-1 axes */
        tl_tensor *u = NULL;
        st = tl_op_unsqueeze(A->t, i, &u);
        if (st == TL_OK) {
            tl_tensor_unref(A->t);
            A->t = u;
        }
    }
    if (st != TL_OK) return st;
    tl_tensor *y = NULL;
    if (A->t->dtype == TL_DTYPE_F32 && B->t->dtype == TL_DTYPE_F32)
        st = mul_f32(A->t, B->t, &y);
    else
        st = tl_op_binary(TL_BIN_MUL, A->t, B->t, &y);
    if (st != TL_OK) return st;
    res->t = y;
    res->n = n;
    memcpy(res->lab, order, (size_t)n * sizeof(int));
    *used |= TL_CONTRACT_K_BROADCAST;
    return TL_OK;
}

/* The general case: [Bt, M, K] and [Bt, K, N] in f32 through tl_contract_bmm_f32. */
static tl_status pair_batched(work *A, work *B, const int *batch, int nb, const int *ao, int na,
                              const int *bo, int nbo, const int *ct, int nc, work *res,
                              uint32_t *used) {
    int oa[TL_MAX_DIMS], ob[TL_MAX_DIMS];
    int64_t Bt = 1, M = 1, N = 1, K = 1;
    int64_t rshape[TL_MAX_DIMS];
    int nr = 0;
    for (int i = 0; i < nb; i++) {
        oa[i] = ob[i] = batch[i];
        Bt *= rshape[nr++] = extent_of(A, batch[i]);
    }
    for (int i = 0; i < na; i++) {
        oa[nb + i] = ao[i];
        M *= rshape[nr++] = extent_of(A, ao[i]);
    }
    for (int i = 0; i < nc; i++) {
        oa[nb + na + i] = ob[nb + i] = ct[i];
        K *= extent_of(A, ct[i]);
    }
    for (int i = 0; i < nbo; i++) {
        ob[nb + nc + i] = bo[i];
        N *= rshape[nr++] = extent_of(B, bo[i]);
    }
    tl_status st = permute_to(A, oa);
    if (st == TL_OK) st = permute_to(B, ob);
    if (st == TL_OK) st = make_contiguous_f32(&A->t, true);
    if (st == TL_OK) st = make_contiguous_f32(&B->t, true);
    tl_tensor *y = NULL;
    int64_t ne3[3] = {N, M, Bt}; /* ggml order; the kernel writes every element */
    if (st == TL_OK) st = tl_tensor_new_uninit(TL_DTYPE_F32, 3, ne3, &y);
    if (st == TL_OK)
        tl_contract_bmm_f32(tl_tensor_data(A->t), tl_tensor_data(B->t), tl_tensor_data(y), Bt, M, N,
                            K);
    if (st == TL_OK) st = reshape_np(&y, nr, rshape);
    if (st != TL_OK) {
        tl_tensor_unref(y);
        return st;
    }
    res->t = y;
    res->n = nr;
    memcpy(res->lab, batch, (size_t)nb * sizeof(int));
    memcpy(res->lab + nb, ao, (size_t)na * sizeof(int));
    memcpy(res->lab + nb + na, bo, (size_t)nbo * sizeof(int));
    *used |= TL_CONTRACT_K_BATCHED;
    return TL_OK;
}

/* Is w a weight W[o, k] for a linear over k against x (k its last axis, o not in x)? */
static bool weight_for(const work *w, const work *x, int k, int nb, int nc) {
    if (w->n != 2 || nb != 0 || nc != 1 || w->lab[1] != k) return false;
    for (int a = 0; a < x->n; a++)
        if (x->lab[a] == w->lab[0]) return false;
    return !is_quant(x->t);
}

/* For an f32 weight: is linear the better kernel (few activation rows, or exact mode,
** whose linear sums double products)?  (In llama mode linear sums in llama.cpp's
** float orders and the batched kernel in double: the two agree to rounding.) */
static bool linear_better(const work *x, int k) {
    if (tl_get_precision() == TL_PRECISION_EXACT) return true;
    int64_t rows = 1;
    for (int a = 0; a < x->n; a++)
        if (x->lab[a] != k) rows *= extent_of(x, x->lab[a]);
    return rows < 16;
}

static tl_status contract_pair(work *A, work *B, lmask keep, work *res, uint32_t *used) {
    lmask ma = mask_of(A->lab, A->n), mb = mask_of(B->lab, B->n);
    tl_status st = reduce_to(A, keep | mb, used);
    if (st == TL_OK) st = reduce_to(B, keep | ma, used);
    if (st != TL_OK) return st;
    int batch[TL_MAX_DIMS], ao[TL_MAX_DIMS], bo[TL_MAX_DIMS], ct[TL_MAX_DIMS];
    int nb = 0, na = 0, nbo = 0, nc = 0;
    for (int a = 0; a < A->n; a++) {
        int l = A->lab[a];
        bool inb = mb & ((lmask)1 << l), kept = keep & ((lmask)1 << l);
        if (inb && kept)
            batch[nb++] = l;
        else if (inb)
            ct[nc++] = l;
        else
            ao[na++] = l;
    }
    for (int a = 0; a < B->n; a++)
        if (!(ma & ((lmask)1 << B->lab[a]))) bo[nbo++] = B->lab[a];
    bool qa = is_quant(A->t), qb = is_quant(B->t);
    if (nc == 1) {
        /* prefer a stored (non-f32) operand as the weight -- a quantized one must be --
        ** then B */
        bool sa = A->t->dtype != TL_DTYPE_F32, sb = B->t->dtype != TL_DTYPE_F32;
        if (sa && !sb && weight_for(A, B, ct[0], nb, nc))
            return pair_linear(B, A, ct[0], res, used);
        /* an f32 weight gives the same bits through the batched kernel; that is faster
        ** once x has a few rows (W is transposed once), linear is faster for fewer */
        if (weight_for(B, A, ct[0], nb, nc) && (sb || linear_better(A, ct[0])))
            return pair_linear(A, B, ct[0], res, used);
        if (weight_for(A, B, ct[0], nb, nc) && (sa || linear_better(B, ct[0])))
            return pair_linear(B, A, ct[0], res, used);
    }
    if (qa || qb)
        return tl_fail(TL_ERR_TYPE,
                       "%s tensor: a quantized operand must be a 2-d weight W[o, k] contracted "
                       "over its last axis k alone (like linear), or be dequantized first",
                       tl_dtype_name((qa ? A : B)->t->dtype));
    if (nc == 0) return pair_broadcast(A, B, res, used);
    return pair_batched(A, B, batch, nb, ao, na, bo, nbo, ct, nc, res, used);
}

/* ---- the whole contraction --------------------------------------------------------- */

tl_status tl_contract(const tl_contract_spec *spec, const tl_tensor *const *ops,
                      tl_contract_plan *plan, tl_tensor **out) {
    *out = NULL;
    int n = spec->n_ops;
    if (n < 1 || n > TL_CONTRACT_MAX_OPS)
        return tl_fail(TL_ERR_ARG, "contraction: %d operands (1..%d)", n, TL_CONTRACT_MAX_OPS);
    int64_t extent[TL_CONTRACT_MAX_LABELS];
    int where_op[TL_CONTRACT_MAX_LABELS], where_ax[TL_CONTRACT_MAX_LABELS];
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++)
        extent[l] = -1;
    for (int i = 0; i < n; i++) {
        int64_t shape[TL_MAX_DIMS];
        if (ops[i]->n_dims != spec->n_dims[i])
            return tl_fail(TL_ERR_SHAPE, "contraction: operand %d has %d axes, %d labels", i,
                           ops[i]->n_dims, spec->n_dims[i]);
        tl_tensor_shape(ops[i], shape);
        for (int a = 0; a < spec->n_dims[i]; a++) {
            int l = spec->labels[i][a];
            if (l < 0 || l >= TL_CONTRACT_MAX_LABELS)
                return tl_fail(TL_ERR_ARG, "contraction: label %d out of range", l);
            if (extent[l] < 0) {
                extent[l] = shape[a];
                where_op[l] = i;
                where_ax[l] = a;
            } else if (extent[l] != shape[a])
                return tl_fail(TL_ERR_SHAPE,
                               "contraction: label %d has extent %lld in operand %d axis %d but "
                               "%lld in operand %d axis %d",
                               l, (long long)extent[l], where_op[l], where_ax[l],
                               (long long)shape[a], i, a);
        }
    }
    for (int i = 0; i < spec->n_out; i++)
        if (spec->out[i] < 0 || spec->out[i] >= TL_CONTRACT_MAX_LABELS || extent[spec->out[i]] < 0)
            return tl_fail(TL_ERR_SHAPE, "contraction: output label %d is on no operand",
                           spec->out[i]);
    tl_contract_plan local = {0};
    if (!plan) plan = &local;
    bool same = plan->valid && plan->n_ops == n;
    for (int l = 0; same && l < TL_CONTRACT_MAX_LABELS; l++)
        if (plan->extent[l] != extent[l]) same = false;
    for (int i = 0; same && i < n; i++)
        if (plan->op_labels[i] != mask_of(spec->labels[i], spec->n_dims[i])) same = false;
    if (!same) tl_contract_make_plan(spec, extent, plan);
    plan->used_kernels = 0;

    work w[2 * TL_CONTRACT_MAX_OPS];
    memset(w, 0, sizeof w);
    tl_status st = TL_OK;
    for (int i = 0; i < n; i++) {
        w[i].t = tl_tensor_ref((tl_tensor *)ops[i]);
        w[i].n = spec->n_dims[i];
        memcpy(w[i].lab, spec->labels[i], sizeof w[i].lab);
    }
    for (int i = 0; i < n && st == TL_OK; i++) {
        st = diagonal(&w[i]);
        if (st == TL_OK) st = reduce_to(&w[i], input_mask(spec, i), &plan->used_kernels);
    }
    lmask out_m = mask_of(spec->out, spec->n_out);
    int n_work = n;
    bool pure_join = n >= 2 && st == TL_OK;
    for (int i = 0; i < n && pure_join; i++)
        if (w[i].t->dtype != TL_DTYPE_F32 || (mask_of(w[i].lab, w[i].n) & ~out_m))
            pure_join = false;
    if (pure_join) { /* Hadamard and outer products of any number of factors, one pass */
        work r = {0};
        st = join_all(w, n, spec, &r, &plan->used_kernels);
        for (int k = 0; k < n; k++)
            tl_tensor_unref(w[k].t);
        if (st == TL_OK) *out = r.t;
        return st;
    }
    bool live[2 * TL_CONTRACT_MAX_OPS] = {0};
    for (int i = 0; i < n; i++)
        live[i] = true;
    for (int s = 0; s < plan->n_steps && st == TL_OK; s++) {
        int a = plan->steps[s].a, b = plan->steps[s].b;
        lmask keep = out_m;
        for (int k = 0; k < n_work; k++)
            if (live[k] && k != a && k != b) keep |= mask_of(w[k].lab, w[k].n);
        st = contract_pair(&w[a], &w[b], keep, &w[n_work], &plan->used_kernels);
        tl_tensor_unref(w[a].t);
        tl_tensor_unref(w[b].t);
        w[a].t = w[b].t = NULL;
        live[a] = live[b] = false;
        live[n_work++] = true;
    }
    work *last = NULL;
    for (int k = 0; k < n_work; k++)
        if (live[k]) last = &w[k];
    if (st == TL_OK) st = reduce_to(last, out_m, &plan->used_kernels);
    if (st == TL_OK) st = permute_to(last, spec->out);
    /* the result is a view (a transpose, a diagonal) only when no arithmetic was needed */
    if (st == TL_OK && (n > 1 || plan->used_kernels) && !tl_tensor_is_contiguous(last->t))
        st = make_contiguous_f32(&last->t, false);
    if (st == TL_OK) {
        *out = last->t;
        last->t = NULL;
    }
    for (int k = 0; k < n_work; k++)
        tl_tensor_unref(w[k].t);
    return st;
}
