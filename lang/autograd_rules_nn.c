/* lang/autograd_rules_nn.c -- backward rules of the view/shape builtins, concat and
** the nn builtins (embedding, rms_norm, rope, masks, cross_entropy); see
** lang/autograd_rules.c.  The rules of the view ops map every element of the view
** back to its place in the viewed tensor by its address, so slices, transposes,
** expands and permutes share one rule. */
#include "lang/autograd_internal.h"

#include "runtime/ops.h"
#include "runtime/xent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- views and shape ops ------------------------------------------------------------------- */

/* d x for a result that is a view of x: each g element is added at x's element
** holding the same address.  Returns false (nothing done) when y is not a view of x. */
static tl_status view_back(tl_ag_ctx *c, const tl_tensor *x, bool *done_out) {
    *done_out = false;
    const tl_tensor *y = c->out;
    if (y->storage != x->storage || y->dtype != x->dtype || x->dtype != TL_DTYPE_F32) return TL_OK;
    int64_t nx = tl_tensor_nelements(x), ny = tl_tensor_nelements(y);
    /* address -> x's flat index, over the byte range x spans */
    size_t lo = x->offs, hi = x->offs;
    for (int d = 0; d < TL_MAX_DIMS; d++)
        if (x->ne[d] > 1) hi += (size_t)(x->ne[d] - 1) * x->nb[d];
    size_t span = (hi - lo) / 4 + 1;
    int64_t *pos = malloc(span * sizeof *pos);
    if (!pos) return tl_fail(TL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < span; i++)
        pos[i] = -1;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(x, shape);
    tl_tensor *r = NULL, *g = NULL;
    tl_status st = tl_op_full(TL_DTYPE_F32, x->n_dims, shape, 0.0, &r);
    if (st == TL_OK) st = tl_ag_f32c(c->g, &g);
    bool ok = st == TL_OK;
    for (int64_t k = 0; ok && k < nx; k++) { /* k in ggml order == .tl flat order */
        size_t a = x->offs;
        int64_t q = k;
        for (int d = 0; d < TL_MAX_DIMS; d++) {
            a += (size_t)(q % x->ne[d]) * x->nb[d];
            q /= x->ne[d];
        }
        size_t slot = (a - lo) / 4;
        if (pos[slot] >= 0) ok = false; /* x itself repeats an address: not invertible */
        pos[slot] = k;
    }
    for (int64_t k = 0; ok && k < ny; k++) {
        size_t a = y->offs;
        int64_t q = k;
        for (int d = 0; d < TL_MAX_DIMS; d++) {
            a += (size_t)(q % y->ne[d]) * y->nb[d];
            q /= y->ne[d];
        }
        if (a < lo || (a - lo) / 4 >= span || pos[(a - lo) / 4] < 0) {
            ok = false;
            break;
        }
        ((float *)tl_tensor_data(r))[pos[(a - lo) / 4]] += ((const float *)tl_tensor_data(g))[k];
    }
    free(pos);
    tl_tensor_unref(g);
    if (st == TL_OK && ok) {
        *done_out = true;
        return tl_ag_emit(c, 0, -1, r);
    }
    tl_tensor_unref(r);
    return st;
}

/* r_view's op: what is left to do once view_back has handled the strided views */
enum { VIEW_COPY = 0, VIEW_BROADCAST = 1, VIEW_SAME_ORDER = 2 };

static tl_status r_view(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    tl_tensor *x = tl_ag_arg(c, 0);
    bool done;
    tl_status st = view_back(c, x, &done);
    if (st != TL_OK || done) return st;
    if (c->op == VIEW_BROADCAST) {
        tl_tensor *r;
        st = tl_ag_unbroadcast(c->g, x, &r);
        return st == TL_OK ? tl_ag_emit(c, 0, -1, r) : st;
    }
    if (c->op == VIEW_SAME_ORDER)
        return tl_ag_emit(c, 0, -1, tl_tensor_ref(c->g)); /* same order, same count */
    return tl_fail(TL_ERR_UNSUPPORTED,
                   "%s: no gradient for this copy (make the input contiguous "
                   "first)",
                   c->name);
}

/* concat: g cut into the pieces along the axis */
static tl_status r_concat(tl_ag_ctx *c) {
    bool list = c->argv[0].kind == TL_VAL_ARRAY;
    int n = list ? (int)c->argv[0].as.arr->len : 2, dim_arg = list ? 1 : 2;
    int64_t ax =
        c->argc > dim_arg && c->argv[dim_arg].kind == TL_VAL_INT ? c->argv[dim_arg].as.i : 0;
    int axis = tl_ag_norm_axis(ax, c->out->n_dims);
    int64_t start = 0;
    tl_status st = TL_OK;
    for (int i = 0; i < n && st == TL_OK; i++) {
        const tl_value *v = list ? &c->argv[0].as.arr->items[i] : &c->argv[i];
        int64_t len = 1;
        if (v->kind == TL_VAL_TENSOR) {
            int64_t s[TL_MAX_DIMS];
            tl_tensor_shape(v->as.tensor, s);
            len = v->as.tensor->n_dims ? s[axis] : 1;
        }
        if (v->kind == TL_VAL_TENSOR && v->as.tensor->requires_grad) {
            tl_tensor *piece, *pc;
            st = tl_op_slice(c->g, axis, start, start + len, 1, &piece);
            if (st == TL_OK) st = tl_op_contiguous(piece, &pc);
            tl_tensor_unref(piece);
            if (st == TL_OK) st = tl_ag_emit(c, list ? 0 : i, list ? i : -1, pc);
        }
        start += len;
    }
    return st;
}

/* ---- nn ------------------------------------------------------------------------------------ */

/* embedding(table, ids): rows of g added into the picked rows */
static tl_status r_embedding(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    tl_tensor *table = tl_ag_arg(c, 0), *ids = NULL, *g = NULL, *r = NULL;
    tl_status st = TL_OK;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(table, shape);
    if (c->argv[1].kind == TL_VAL_INT)
        TRY(tl_tensor_scalar(TL_DTYPE_I64, (double)c->argv[1].as.i, &ids));
    else
        TRY(tl_op_cast(tl_ag_arg(c, 1), TL_DTYPE_I64, &ids));
    TRY(tl_ag_f32c(c->g, &g));
    TRY(tl_op_full(TL_DTYPE_F32, table->n_dims, shape, 0.0, &r));
    int64_t d = table->ne[0], v = tl_tensor_nrows(table), n = tl_tensor_nelements(ids);
    const int64_t *ip = tl_tensor_data(ids);
    const float *gp = tl_tensor_data(g);
    float *rp = tl_tensor_data(r);
    for (int64_t i = 0; i < n; i++) {
        if (ip[i] < 0 || ip[i] >= v) continue;
        for (int64_t j = 0; j < d; j++)
            rp[ip[i] * d + j] += gp[i * d + j];
    }
    st = tl_ag_emit(c, 0, -1, r);
    r = NULL;
done:
    tl_tensor_unref(ids);
    tl_tensor_unref(g);
    tl_tensor_unref(r);
    return st;
}

/* rms_norm(x, w[, eps]) over the last dim: y = x r w, r = 1/sqrt(mean(x²) + eps) */
static tl_status r_rms_norm(tl_ag_ctx *c) {
    tl_tensor *x = tl_ag_arg(c, 0), *w = tl_ag_arg(c, 1);
    double eps = c->argc >= 3 ? tl_value_as_double(&c->argv[2]) : 1e-6;
    int64_t dn = x->ne[0];
    if (w && tl_tensor_nelements(w) != dn)
        return tl_fail(TL_ERR_UNSUPPORTED, "rms_norm: gradient only over the last dim");
    tl_tensor *xf = NULL, *wf = NULL, *g = NULL, *gx = NULL, *gw = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(x, &xf));
    TRY(tl_ag_f32c(c->g, &g));
    if (w) TRY(tl_ag_f32c(w, &wf));
    TRY(tl_ag_f32c(xf, &gx));
    int64_t one = dn;
    TRY(tl_tensor_new(TL_DTYPE_F32, 1, &one, &gw));
    const float *xp = tl_tensor_data(xf), *gp = tl_tensor_data(g);
    const float *wp = wf ? tl_tensor_data(wf) : NULL;
    float *gxp = tl_tensor_data(gx), *gwp = tl_tensor_data(gw);
    int64_t rows = tl_tensor_nelements(xf) / (dn ? dn : 1);
    double *gwa = calloc((size_t)dn, sizeof *gwa);
    if (!gwa) TRY(tl_fail(TL_ERR_NOMEM, "out of memory"));
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xp + r * dn, *gr = gp + r * dn;
        double ss = 0, dot = 0;
        for (int64_t j = 0; j < dn; j++)
            ss += (double)xr[j] * xr[j];
        double inv = 1.0 / sqrt(ss / (double)dn + eps);
        for (int64_t j = 0; j < dn; j++) {
            double u = (double)gr[j] * (wp ? wp[j] : 1.0);
            dot += u * xr[j];
            gwa[j] += (double)gr[j] * xr[j] * inv;
        }
        for (int64_t j = 0; j < dn; j++) {
            double u = (double)gr[j] * (wp ? wp[j] : 1.0);
            gxp[r * dn + j] = (float)(inv * u - xr[j] * inv * inv * inv * dot / (double)dn);
        }
    }
    for (int64_t j = 0; j < dn; j++)
        gwp[j] = (float)gwa[j];
    free(gwa);
    if (tl_ag_needs(c, 0)) {
        TRY(tl_ag_emit(c, 0, -1, gx));
        gx = NULL;
    }
    if (tl_ag_needs(c, 1)) {
        TRY(tl_ag_emit(c, 1, -1, gw));
        gw = NULL;
    }
done:
    tl_tensor_unref(xf);
    tl_tensor_unref(wf);
    tl_tensor_unref(g);
    tl_tensor_unref(gx);
    tl_tensor_unref(gw);
    return st;
}

/* rope is a rotation per pair: its transpose turns by the opposite angle, which is
** the same rope applied between two reflections (negate the second of each pair) */
static tl_status r_rope(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    if (c->argc >= 2 && c->argv[1].kind == TL_VAL_TENSOR)
        return tl_fail(TL_ERR_UNSUPPORTED, "rope(x, cos, sin) has no gradient yet; use rope(x, "
                                           "offset, base)");
    int64_t off = c->argc >= 2 ? (int64_t)tl_value_as_double(&c->argv[1]) : 0;
    double base = c->argc >= 3 ? tl_value_as_double(&c->argv[2]) : 10000.0;
    tl_rope_style style = TL_ROPE_NORM;
    if (c->argc >= 4) {
        if (c->argv[3].kind == TL_VAL_STRING)
            style = strcasecmp(c->argv[3].as.str->data, "neox") == 0 ? TL_ROPE_NEOX : TL_ROPE_NORM;
        else
            style = (tl_rope_style)(int)tl_value_as_double(&c->argv[3]);
    }
    tl_tensor *g = NULL, *r = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(c->g, &g));
    int64_t dn = g->ne[0], rows = tl_tensor_nelements(g) / (dn ? dn : 1);
    float *gp = tl_tensor_data(g);
    for (int pass = 0; pass < 2; pass++) {
        float *p = pass == 0 ? gp : tl_tensor_data(r);
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < dn; j++)
                if (style == TL_ROPE_NEOX ? j >= dn / 2 : (j & 1)) p[i * dn + j] = -p[i * dn + j];
        if (pass == 0) TRY(tl_op_rope(g, off, (float)base, style, &r));
    }
    st = tl_ag_emit(c, 0, -1, r);
    r = NULL;
done:
    tl_tensor_unref(g);
    tl_tensor_unref(r);
    return st;
}

/* apply_attention_mask(scores, mask) / apply_mask(x, mask): g where mask != 0 */
static tl_status r_mask(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    tl_tensor *m = NULL, *t = NULL;
    tl_status st = TL_OK;
    TRY(tl_op_binary_scalar(TL_BIN_NE, tl_ag_arg(c, 1), 0.0, false, &m));
    TRY(tl_op_binary(TL_BIN_MUL, c->g, m, &t));
    TRY(tl_ag_emit_unb(c, 0, t));
    t = NULL;
done:
    tl_tensor_unref(m);
    tl_tensor_unref(t);
    return st;
}

/* cross_entropy(logits [.., C], targets int [..]) = mean of (logsumexp - logit[target]):
** d logits = (softmax - onehot) / N */
static tl_status r_cross_entropy(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    tl_tensor *z = NULL, *ids = NULL, *r = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(tl_ag_arg(c, 0), &z));
    TRY(tl_op_cast(tl_ag_arg(c, 1), TL_DTYPE_I64, &ids));
    int64_t cn = z->n_dims ? z->ne[0] : 1, rows = tl_tensor_nelements(z) / (cn ? cn : 1);
    float scale = ((const float *)tl_tensor_data(c->g))[0] / (float)rows;
    /* (softmax(z) - onehot) * scale in one pass (runtime/xent.h) */
    TRY(tl_op_cross_entropy_grad(z, ids, scale, &r));
    st = tl_ag_emit(c, 0, -1, r);
    r = NULL;
done:
    tl_tensor_unref(z);
    tl_tensor_unref(ids);
    tl_tensor_unref(r);
    return st;
}

/* ---- the table ----------------------------------------------------------------------------- */

static const struct {
    const char *name;
    tl_ag_backward_fn fn;
    int op;
} rules_nn[] = {
    {"reshape", r_view, VIEW_SAME_ORDER},
    {"flatten", r_view, VIEW_SAME_ORDER},
    {"transpose", r_view},
    {"permute", r_view},
    {"squeeze", r_view, VIEW_SAME_ORDER},
    {"unsqueeze", r_view, VIEW_SAME_ORDER},
    {"slice", r_view},
    {"narrow", r_view},
    {"select", r_view},
    {"slice_last", r_view},
    {"expand", r_view, VIEW_BROADCAST},
    {"broadcast_to", r_view, VIEW_BROADCAST},
    {"contiguous", r_view, VIEW_SAME_ORDER},
    {"to_f32", r_view, VIEW_SAME_ORDER},
    {"concat", r_concat},
    {"embedding", r_embedding},
    {"rms_norm", r_rms_norm},
    {"rope", r_rope},
    {"apply_attention_mask", r_mask},
    {"apply_mask", r_mask},
    {"cross_entropy", r_cross_entropy},
};

tl_ag_backward_fn tl_ag_rule_nn(const char *name, int *op) {
    for (size_t i = 0; i < sizeof rules_nn / sizeof rules_nn[0]; i++)
        if (strcmp(rules_nn[i].name, name) == 0) {
            *op = rules_nn[i].op;
            return rules_nn[i].fn;
        }
    return NULL;
}
