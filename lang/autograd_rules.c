/* lang/autograd_rules.c -- the backward rule of every differentiable builtin.
**
** Each rule reads the call's arguments and result (tl_ag_ctx) and the gradient
** of the result (c->g, f32), computes the gradient of each argument that needs
** one with the runtime ops (runtime/ops.h) or a direct f32 loop, and hands it
** to tl_ag_emit().  Broadcast arguments get their gradient summed back to their
** own shape (unbroadcast).  This file: elementwise, reductions, softmax, matmul,
** linear, einsum; lang/autograd_rules_nn.c: views, concat and the nn builtins. */
#include "lang/autograd_internal.h"

#include "runtime/ops.h"
#include "runtime/sgemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ------------------------------------------------------------------------------- */

/* A fresh contiguous f32 copy. */
tl_status tl_ag_f32c(const tl_tensor *x, tl_tensor **out) {
    return tl_op_cast(x, TL_DTYPE_F32, out);
}

/* g summed down to x's shape (NumPy broadcasting undone); a new reference. */
tl_status tl_ag_unbroadcast(const tl_tensor *g, const tl_tensor *x, tl_tensor **out) {
    tl_tensor *r = tl_tensor_ref((tl_tensor *)g), *s;
    tl_status st = TL_OK;
    while (r->n_dims > x->n_dims) {
        st = tl_op_reduce(TL_RED_SUM, r, 0, false, false, &s);
        tl_tensor_unref(r);
        if (st != TL_OK) return st;
        r = s;
    }
    int64_t xs[TL_MAX_DIMS], rs[TL_MAX_DIMS];
    tl_tensor_shape(x, xs);
    tl_tensor_shape(r, rs);
    for (int d = 0; d < x->n_dims; d++) {
        if (xs[d] != 1 || rs[d] == 1) continue;
        st = tl_op_reduce(TL_RED_SUM, r, d, false, true, &s);
        tl_tensor_unref(r);
        if (st != TL_OK) return st;
        r = s;
    }
    *out = r;
    return TL_OK;
}

/* Emits tl_ag_unbroadcast(t) for argument i and drops t. */
tl_status tl_ag_emit_unb(tl_ag_ctx *c, int i, tl_tensor *t) {
    tl_tensor *r;
    tl_status st = tl_ag_unbroadcast(t, tl_ag_arg(c, i), &r);
    tl_tensor_unref(t);
    if (st != TL_OK) return st;
    return tl_ag_emit(c, i, -1, r);
}

/* t (op) v where v is argument k: a tensor or a number. */
static tl_status op_val(tl_binary_op op, const tl_tensor *t, const tl_value *v, tl_tensor **out) {
    if (v->kind == TL_VAL_TENSOR) return tl_op_binary(op, t, v->as.tensor, out);
    return tl_op_binary_scalar(op, t, tl_value_as_double(v), false, out);
}

int tl_ag_norm_axis(int64_t a, int n) {
    return (int)(a < 0 ? a + n : a);
}

static tl_status shape_of(const tl_tensor *x, int64_t *s) {
    tl_tensor_shape(x, s);
    return TL_OK;
}

/* ---- elementwise binary -------------------------------------------------------------------- */

static tl_status r_add_sub(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    bool sub = c->op == TL_BIN_SUB;
    if (tl_ag_needs(c, 0)) TRY(tl_ag_emit_unb(c, 0, tl_tensor_ref(c->g)));
    if (tl_ag_needs(c, 1)) {
        tl_tensor *t;
        if (sub)
            TRY(tl_op_unary(TL_UN_NEG, c->g, &t));
        else
            t = tl_tensor_ref(c->g);
        TRY(tl_ag_emit_unb(c, 1, t));
    }
done:
    return st;
}

static tl_status r_mul(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    for (int i = 0; i < 2; i++) {
        if (!tl_ag_needs(c, i)) continue;
        tl_tensor *t;
        TRY(op_val(TL_BIN_MUL, c->g, &c->argv[1 - i], &t));
        TRY(tl_ag_emit_unb(c, i, t));
    }
done:
    return st;
}

static tl_status r_div(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    tl_tensor *t = NULL, *u = NULL;
    if (tl_ag_needs(c, 0)) {
        TRY(op_val(TL_BIN_DIV, c->g, &c->argv[1], &t));
        TRY(tl_ag_emit_unb(c, 0, t));
        t = NULL;
    }
    if (tl_ag_needs(c, 1)) { /* d(a/b)/db = -y/b */
        TRY(tl_op_binary(TL_BIN_MUL, c->g, c->out, &t));
        TRY(op_val(TL_BIN_DIV, t, &c->argv[1], &u));
        tl_tensor_unref(t);
        t = NULL;
        TRY(tl_op_unary(TL_UN_NEG, u, &t));
        tl_tensor_unref(u);
        u = NULL;
        TRY(tl_ag_emit_unb(c, 1, t));
        t = NULL;
    }
done:
    tl_tensor_unref(t);
    tl_tensor_unref(u);
    return st;
}

/* pow(a, e): da = g * e * a^(e-1); de = g * y * log(a) */
static tl_status r_pow(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    tl_tensor *a = tl_ag_arg(c, 0), *t = NULL, *u = NULL;
    const tl_value *e = &c->argv[1];
    if (tl_ag_needs(c, 0)) {
        if (e->kind == TL_VAL_TENSOR) {
            TRY(tl_op_binary_scalar(TL_BIN_SUB, e->as.tensor, 1.0, false, &u));
            TRY(tl_op_binary(TL_BIN_POW, a, u, &t));
        } else {
            TRY(tl_op_binary_scalar(TL_BIN_POW, a, tl_value_as_double(e) - 1.0, false, &t));
        }
        tl_tensor_unref(u);
        u = NULL;
        TRY(op_val(TL_BIN_MUL, t, e, &u));
        tl_tensor_unref(t);
        t = NULL;
        TRY(tl_op_binary(TL_BIN_MUL, u, c->g, &t));
        tl_tensor_unref(u);
        u = NULL;
        TRY(tl_ag_emit_unb(c, 0, t));
        t = NULL;
    }
    if (tl_ag_needs(c, 1)) {
        TRY(tl_op_unary(TL_UN_LOG, a, &t));
        TRY(tl_op_binary(TL_BIN_MUL, t, c->out, &u));
        tl_tensor_unref(t);
        t = NULL;
        TRY(tl_op_binary(TL_BIN_MUL, u, c->g, &t));
        tl_tensor_unref(u);
        u = NULL;
        TRY(tl_ag_emit_unb(c, 1, t));
        t = NULL;
    }
done:
    tl_tensor_unref(t);
    tl_tensor_unref(u);
    return st;
}

/* maximum/minimum (and max(t, u) / min(t, u)): the gradient goes to the chosen side
** (op: TL_RED_MAX or TL_RED_MIN) */
static tl_status r_maxmin2(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    bool is_max = c->op == TL_RED_MAX;
    tl_tensor *a = tl_ag_arg(c, 0), *m = NULL, *t = NULL;
    if (c->argv[1].kind == TL_VAL_TENSOR)
        TRY(tl_op_binary(is_max ? TL_BIN_GE : TL_BIN_LE, a, c->argv[1].as.tensor, &m));
    else
        TRY(tl_op_binary_scalar(is_max ? TL_BIN_GE : TL_BIN_LE, a, tl_value_as_double(&c->argv[1]),
                                false, &m));
    if (tl_ag_needs(c, 0)) {
        TRY(tl_op_binary(TL_BIN_MUL, c->g, m, &t));
        TRY(tl_ag_emit_unb(c, 0, t));
        t = NULL;
    }
    if (tl_ag_needs(c, 1)) {
        tl_tensor *nm;
        TRY(tl_op_unary(TL_UN_NOT, m, &nm));
        st = tl_op_binary(TL_BIN_MUL, c->g, nm, &t);
        tl_tensor_unref(nm);
        if (st != TL_OK) goto done;
        TRY(tl_ag_emit_unb(c, 1, t));
        t = NULL;
    }
done:
    tl_tensor_unref(m);
    tl_tensor_unref(t);
    return st;
}

/* ifelse(cond, a, b) */
static tl_status r_where(tl_ag_ctx *c) {
    tl_status st = TL_OK;
    tl_tensor *cond = tl_ag_arg(c, 0), *z = NULL, *t = NULL;
    if (!cond) return tl_fail(TL_ERR_UNSUPPORTED, "ifelse: no gradient without a tensor condition");
    TRY(tl_op_full(TL_DTYPE_F32, 0, NULL, 0.0, &z));
    for (int i = 1; i < 3; i++) {
        if (!tl_ag_needs(c, i)) continue;
        TRY(i == 1 ? tl_op_where(cond, c->g, z, &t) : tl_op_where(cond, z, c->g, &t));
        TRY(tl_ag_emit_unb(c, i, t));
        t = NULL;
    }
done:
    tl_tensor_unref(z);
    tl_tensor_unref(t);
    return st;
}

/* ---- elementwise unary: a direct loop over contiguous f32 copies ------------------------------
 */

static tl_status r_unary(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    tl_unary_op op = (tl_unary_op)c->op;
    tl_tensor *x = NULL, *y = NULL, *g = NULL, *r = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(tl_ag_arg(c, 0), &x));
    TRY(tl_ag_f32c(c->out, &y));
    TRY(tl_ag_f32c(c->g, &g));
    TRY(tl_ag_f32c(x, &r));
    const float *xp = tl_tensor_data(x), *yp = tl_tensor_data(y), *gp = tl_tensor_data(g);
    float *rp = tl_tensor_data(r);
    int64_t n = tl_tensor_nelements(x);
    const float k = 0.7978845608028654f; /* sqrt(2/pi), gelu's tanh approximation */
    double T = c->argc > 1 ? tl_value_as_double(&c->argv[1]) : 1.0;
    float tsig_scale = T > 0 ? (float)(1.0 / T) : 0.0f; /* T = 0: a step, no gradient */
    for (int64_t i = 0; i < n; i++) {
        float a = xp[i], v = yp[i], d;
        switch (op) {
        case TL_UN_NEG:
            d = -1.0f;
            break;
        case TL_UN_ABS:
            d = a > 0 ? 1.0f : a < 0 ? -1.0f : 0.0f;
            break;
        case TL_UN_EXP:
            d = v;
            break;
        case TL_UN_LOG:
            d = 1.0f / a;
            break;
        case TL_UN_SQRT:
            d = 0.5f / v;
            break;
        case TL_UN_RSQRT:
            d = -0.5f * v * v * v;
            break;
        case TL_UN_SIN:
            d = cosf(a);
            break;
        case TL_UN_COS:
            d = -sinf(a);
            break;
        case TL_UN_TAN:
            d = 1.0f + v * v;
            break;
        case TL_UN_TANH:
            d = 1.0f - v * v;
            break;
        case TL_UN_SQUARE:
            d = 2.0f * a;
            break;
        case TL_UN_SIGMOID: /* sigmoid(x, T) = 1 / (1 + exp(-x / T)) */
            d = v * (1.0f - v) * (c->argc > 1 ? tsig_scale : 1.0f);
            break;
        case TL_UN_SILU: {
            float s = 1.0f / (1.0f + expf(-a));
            d = s * (1.0f + a * (1.0f - s));
            break;
        }
        case TL_UN_RELU:
            d = a > 0 ? 1.0f : 0.0f;
            break;
        default: { /* gelu */
            float u = k * (a + 0.044715f * a * a * a), t = tanhf(u);
            d = 0.5f * (1.0f + t) + 0.5f * a * (1.0f - t * t) * k * (1.0f + 3 * 0.044715f * a * a);
            break;
        }
        }
        rp[i] = gp[i] * d;
    }
    st = tl_ag_emit(c, 0, -1, r);
    r = NULL;
done:
    tl_tensor_unref(x);
    tl_tensor_unref(y);
    tl_tensor_unref(g);
    tl_tensor_unref(r);
    return st;
}

/* ---- reductions and softmax ---------------------------------------------------------------- */

/* g (the reduced shape) broadcast back over x's shape; a new contiguous f32 tensor. */
static tl_status expand_back(tl_ag_ctx *c, const tl_tensor *x, tl_tensor **out) {
    int64_t xs[TL_MAX_DIMS];
    shape_of(x, xs);
    tl_tensor *g = tl_tensor_ref(c->g), *u;
    tl_status st = TL_OK;
    if (c->argc >= 2 && x->n_dims > 0) {
        bool keep = c->argc >= 3 && c->argv[2].kind == TL_VAL_BOOL && c->argv[2].as.b;
        int axis = tl_ag_norm_axis(c->argv[1].as.i, x->n_dims);
        if (!keep) {
            st = tl_op_unsqueeze(g, axis, &u);
            tl_tensor_unref(g);
            if (st != TL_OK) return st;
            g = u;
        }
    } else if (x->n_dims > 0) { /* a full reduction: g is 0-d (or all-ones) */
        int64_t ones[TL_MAX_DIMS];
        for (int d = 0; d < x->n_dims; d++)
            ones[d] = 1;
        tl_tensor *gc;
        st = tl_op_contiguous(g, &gc);
        tl_tensor_unref(g);
        if (st != TL_OK) return st;
        st = tl_op_reshape(gc, x->n_dims, ones, &g);
        tl_tensor_unref(gc);
        if (st != TL_OK) return st;
    }
    st = tl_op_broadcast_to(g, x->n_dims, xs, out);
    tl_tensor_unref(g);
    return st;
}

tl_status tl_ag_rule_reduce(tl_ag_ctx *c) {
    if ((c->op == TL_RED_MAX || c->op == TL_RED_MIN) && c->argc == 2 &&
        c->argv[1].kind != TL_VAL_INT)
        return r_maxmin2(c);
    if (!tl_ag_needs(c, 0)) return TL_OK;
    if (c->argc >= 2 && c->argv[1].kind != TL_VAL_INT)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: gradient only over one int axis", c->name);
    tl_tensor *x = tl_ag_arg(c, 0), *gb = NULL, *t = NULL, *yb = NULL, *m = NULL;
    tl_status st = TL_OK;
    TRY(expand_back(c, x, &gb));
    if (c->op == TL_RED_SUM) {
        st = tl_ag_emit(c, 0, -1, gb);
        gb = NULL;
    } else if (c->op == TL_RED_MEAN) {
        int64_t n = c->argc >= 2 && x->n_dims > 0
                        ? x->ne[x->n_dims - 1 - tl_ag_norm_axis(c->argv[1].as.i, x->n_dims)]
                        : tl_tensor_nelements(x);
        TRY(tl_op_binary_scalar(TL_BIN_DIV, gb, (double)n, false, &t));
        st = tl_ag_emit(c, 0, -1, t);
        t = NULL;
    } else { /* max / min: the gradient goes to every element equal to the result */
        tl_tensor *saved = c->g;
        c->g = c->out;
        st = expand_back(c, x, &yb);
        c->g = saved;
        if (st != TL_OK) goto done;
        TRY(tl_op_binary(TL_BIN_EQ, x, yb, &m));
        TRY(tl_op_binary(TL_BIN_MUL, gb, m, &t));
        st = tl_ag_emit(c, 0, -1, t);
        t = NULL;
    }
done:
    tl_tensor_unref(gb);
    tl_tensor_unref(t);
    tl_tensor_unref(yb);
    tl_tensor_unref(m);
    return st;
}

/* swiglu(x, u) = silu(x) * u: dx = g * u * silu'(x), silu'(x) = s + silu(x) * (1 - s) with
** s = sigmoid(x); du = g * silu(x); both unbroadcast to their argument's shape. */
static tl_status r_swiglu(tl_ag_ctx *c) {
    tl_tensor *x = tl_ag_arg(c, 0), *u = tl_ag_arg(c, 1);
    tl_tensor *sg = NULL, *si = NULL, *om = NULL, *t = NULL, *d = NULL, *gu = NULL, *r = NULL;
    tl_status st = TL_OK;
    if (!x || !u) return tl_fail(TL_ERR_TYPE, "swiglu: gradient needs two tensors");
    TRY(tl_op_unary(TL_UN_SILU, x, &si));
    if (tl_ag_needs(c, 0)) {
        TRY(tl_op_unary(TL_UN_SIGMOID, x, &sg));
        TRY(tl_op_binary_scalar(TL_BIN_SUB, sg, 1.0, true, &om));
        TRY(tl_op_binary(TL_BIN_MUL, si, om, &t));
        TRY(tl_op_binary(TL_BIN_ADD, sg, t, &d));
        TRY(tl_op_binary(TL_BIN_MUL, c->g, u, &gu));
        TRY(tl_op_binary(TL_BIN_MUL, gu, d, &r));
        tl_tensor *give = r; /* tl_ag_emit_unb takes it over, success or not */
        r = NULL;
        TRY(tl_ag_emit_unb(c, 0, give));
    }
    if (tl_ag_needs(c, 1)) {
        TRY(tl_op_binary(TL_BIN_MUL, c->g, si, &r));
        tl_tensor *give = r;
        r = NULL;
        TRY(tl_ag_emit_unb(c, 1, give));
    }
done:
    tl_tensor_unref(sg);
    tl_tensor_unref(si);
    tl_tensor_unref(om);
    tl_tensor_unref(t);
    tl_tensor_unref(d);
    tl_tensor_unref(gu);
    tl_tensor_unref(r);
    return st;
}

enum { SOFTMAX = 0, LOG_SOFTMAX = 1 }; /* r_softmax's op */

static tl_status r_softmax(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    int64_t ax = c->argc >= 2 && c->argv[1].kind == TL_VAL_INT ? c->argv[1].as.i : -1;
    int axis = tl_ag_norm_axis(ax, c->out->n_dims);
    tl_tensor *p = NULL, *t = NULL, *s = NULL, *u = NULL;
    tl_status st = TL_OK;
    if (c->op == SOFTMAX) { /* y * (g - sum(g*y)) */
        TRY(tl_op_binary(TL_BIN_MUL, c->g, c->out, &t));
        TRY(tl_op_reduce(TL_RED_SUM, t, axis, false, true, &s));
        TRY(tl_op_binary(TL_BIN_SUB, c->g, s, &u));
        TRY(tl_op_binary(TL_BIN_MUL, u, c->out, &p));
    } else { /* g - exp(y) * sum(g) */
        TRY(tl_op_unary(TL_UN_EXP, c->out, &t));
        TRY(tl_op_reduce(TL_RED_SUM, c->g, axis, false, true, &s));
        TRY(tl_op_binary(TL_BIN_MUL, t, s, &u));
        TRY(tl_op_binary(TL_BIN_SUB, c->g, u, &p));
    }
    st = tl_ag_emit(c, 0, -1, p);
    p = NULL;
done:
    tl_tensor_unref(p);
    tl_tensor_unref(t);
    tl_tensor_unref(s);
    tl_tensor_unref(u);
    return st;
}

/* ---- matmul, linear, einsum ---------------------------------------------------------------- */

static tl_status swap_last2(const tl_tensor *t, tl_tensor **out) {
    return tl_op_transpose(t, -1, -2, out);
}

/* a @ b with 1-d operands promoted: da = g @ bᵀ, db = aᵀ @ g, then unbroadcast */
static tl_status r_matmul(tl_ag_ctx *c) {
    tl_tensor *a = tl_ag_arg(c, 0), *b = tl_ag_arg(c, 1);
    if (!a || !b) return tl_fail(TL_ERR_UNSUPPORTED, "matmul: gradient needs two tensors");
    tl_tensor *a2 = NULL, *b2 = NULL, *g2 = NULL, *t = NULL, *r = NULL, *u = NULL;
    tl_status st = TL_OK;
    TRY(a->n_dims == 1 ? tl_op_unsqueeze(a, 0, &a2) : tl_ag_f32c(a, &a2));
    TRY(b->n_dims == 1 ? tl_op_unsqueeze(b, 1, &b2) : tl_ag_f32c(b, &b2));
    g2 = tl_tensor_ref(c->g);
    if (a->n_dims == 1) {
        TRY(tl_op_unsqueeze(g2, g2->n_dims - (b->n_dims == 1 ? 0 : 1), &u));
        tl_tensor_unref(g2);
        g2 = u;
        u = NULL;
    }
    if (b->n_dims == 1) {
        TRY(tl_op_unsqueeze(g2, g2->n_dims, &u));
        tl_tensor_unref(g2);
        g2 = u;
        u = NULL;
    }
    if (tl_ag_needs(c, 0)) {
        TRY(swap_last2(b2, &t));
        TRY(tl_op_matmul(g2, t, &r));
        tl_tensor_unref(t);
        t = NULL;
        if (a->n_dims == 1) {
            TRY(tl_op_reshape(r, 1, a->ne, &u));
            tl_tensor_unref(r);
            r = u;
            u = NULL;
        }
        TRY(tl_ag_emit_unb(c, 0, r));
        r = NULL;
    }
    if (tl_ag_needs(c, 1)) {
        TRY(swap_last2(a2, &t));
        TRY(tl_op_matmul(t, g2, &r));
        if (b->n_dims == 1) {
            TRY(tl_op_reshape(r, 1, b->ne, &u));
            tl_tensor_unref(r);
            r = u;
            u = NULL;
        }
        TRY(tl_ag_emit_unb(c, 1, r));
        r = NULL;
    }
done:
    tl_tensor_unref(a2);
    tl_tensor_unref(b2);
    tl_tensor_unref(g2);
    tl_tensor_unref(t);
    tl_tensor_unref(r);
    tl_tensor_unref(u);
    return st;
}

/* dx[r][i] = sum_o g[r][o] W[o][i];  dW[o][i] = sum_r g[r][o] x[r][i]: tl_sgemm, each element
** one fmaf chain over the summed index in order (so the result never depends on the thread
** count, runtime/sgemm.h) */
static tl_status lin_dx(const float *g, const float *w, float *dx, int64_t rows, int64_t out,
                        int64_t in) {
    tl_sgemm_args a = {.M = rows,
                       .N = in,
                       .K = out,
                       .A = g,
                       .sam = out,
                       .sak = 1,
                       .B = w,
                       .sbk = in,
                       .sbn = 1,
                       .C = dx,
                       .ldc = in};
    return tl_sgemm(&a);
}

static tl_status lin_dw(const float *g, const float *x, float *dw, int64_t rows, int64_t out,
                        int64_t in) {
    tl_sgemm_args a = {.M = out,
                       .N = in,
                       .K = rows,
                       .A = g,
                       .sam = 1,
                       .sak = out,
                       .B = x,
                       .sbk = in,
                       .sbn = 1,
                       .C = dw,
                       .ldc = in};
    return tl_sgemm(&a);
}

/* linear(x, W[, b]) = x Wᵀ + b: dx = g W, dW = gᵀ x (rows flattened), db = sum of g's rows */
enum { LINEAR = 0, FUSED_GELU_LINEAR = 1 }; /* r_linear's op */

static tl_status r_linear(tl_ag_ctx *c) {
    if (c->op == FUSED_GELU_LINEAR)
        return tl_fail(TL_ERR_UNSUPPORTED, "fused_gelu_linear has no gradient yet (write it "
                                           "out: matmul(gelu(x), W) + b)");
    tl_tensor *x = tl_ag_arg(c, 0), *w = tl_ag_arg(c, 1);
    tl_tensor *wf = NULL, *r = NULL, *xf = NULL, *g = NULL;
    tl_status st = TL_OK;
    int64_t in = x->ne[0], out = c->g->ne[0];
    int64_t rows = tl_tensor_nelements(c->g) / (out ? out : 1);
    TRY(tl_ag_f32c(c->g, &g));
    if (tl_ag_needs(c, 0)) {
        int64_t shape[TL_MAX_DIMS];
        tl_tensor_shape(x, shape);
        TRY(tl_ag_f32c(w, &wf));
        TRY(tl_tensor_new_shape(TL_DTYPE_F32, x->n_dims, shape, &r));
        TRY(lin_dx(tl_tensor_data(g), tl_tensor_data(wf), tl_tensor_data(r), rows, out, in));
        TRY(tl_ag_emit(c, 0, -1, r));
        r = NULL;
    }
    if (tl_ag_needs(c, 1)) {
        int64_t shape[2] = {out, in};
        TRY(tl_ag_f32c(x, &xf));
        TRY(tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &r));
        TRY(lin_dw(tl_tensor_data(g), tl_tensor_data(xf), tl_tensor_data(r), rows, out, in));
        TRY(tl_ag_emit(c, 1, -1, r));
        r = NULL;
    }
    if (tl_ag_needs(c, 2)) {
        int64_t s2[2] = {rows, out};
        tl_tensor *g2;
        TRY(tl_op_reshape(g, 2, s2, &g2));
        st = tl_op_reduce(TL_RED_SUM, g2, 0, false, false, &r);
        tl_tensor_unref(g2);
        if (st != TL_OK) goto done;
        TRY(tl_ag_emit(c, 2, -1, r));
        r = NULL;
    }
done:
    tl_tensor_unref(wf);
    tl_tensor_unref(r);
    tl_tensor_unref(xf);
    tl_tensor_unref(g);
    return st;
}

/* einsum: the gradient of operand k is einsum("<out>,<others>-><k>", g, others...),
** which holds when k repeats no letter and each of its letters is elsewhere */
static tl_status r_einsum(tl_ag_ctx *c) {
    if (c->argv[0].kind != TL_VAL_STRING) return tl_fail(TL_ERR_ARG, "einsum: no spec");
    const char *spec = c->argv[0].as.str->data;
    int n = c->argc - 1;
    char ins[16][32], outl[32] = "";
    const char *arrow = strstr(spec, "->");
    int k = 0, len = 0;
    for (const char *p = spec; *p && (!arrow || p < arrow); p++) {
        if (*p == ' ') continue;
        if (*p == ',') {
            ins[k][len] = 0;
            if (++k >= 16) return tl_fail(TL_ERR_UNSUPPORTED, "einsum: too many operands");
            len = 0;
        } else if (len < 31) {
            ins[k][len++] = *p;
        }
    }
    ins[k][len] = 0;
    if (k + 1 != n) return tl_fail(TL_ERR_ARG, "einsum: spec and operands disagree");
    if (arrow) {
        len = 0;
        for (const char *p = arrow + 2; *p && len < 31; p++)
            if (*p != ' ') outl[len++] = *p;
        outl[len] = 0;
    } else { /* letters seen exactly once, sorted */
        int cnt[128] = {0};
        for (int i = 0; i < n; i++)
            for (const char *p = ins[i]; *p; p++)
                cnt[(unsigned char)*p & 127]++;
        len = 0;
        for (int ch = 0; ch < 128; ch++)
            if (cnt[ch] == 1) outl[len++] = (char)ch;
        outl[len] = 0;
    }
    tl_status st = TL_OK;
    for (int i = 0; i < n && st == TL_OK; i++) {
        if (!tl_ag_needs(c, i + 1)) continue;
        for (const char *p = ins[i]; *p; p++) {
            bool elsewhere = strchr(outl, *p) != NULL;
            for (int j = 0; j < n && !elsewhere; j++)
                if (j != i && strchr(ins[j], *p)) elsewhere = true;
            if (strchr(p + 1, *p) || !elsewhere)
                return tl_fail(TL_ERR_UNSUPPORTED,
                               "einsum \"%s\": no gradient for operand %d (a repeated or summed-"
                               "away letter)",
                               spec, i + 1);
        }
        char gs[600];
        int o = snprintf(gs, sizeof gs, "%s", outl);
        const tl_tensor *ops[16];
        int m = 0;
        ops[m++] = c->g;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            o += snprintf(gs + o, sizeof gs - (size_t)o, ",%s", ins[j]);
            ops[m++] = tl_ag_arg(c, j + 1);
        }
        snprintf(gs + o, sizeof gs - (size_t)o, "->%s", ins[i]);
        tl_tensor *r;
        st = tl_op_einsum(gs, m, ops, &r);
        if (st == TL_OK) st = tl_ag_emit(c, i + 1, -1, r);
    }
    return st;
}

/* ---- the table ----------------------------------------------------------------------------- */

typedef struct rule {
    const char *name;
    tl_ag_backward_fn fn;
    int op; /* tl_ag_ctx.op: which operation of fn's family */
} rule;

static const rule rules[] = {
    {"add", r_add_sub, TL_BIN_ADD},
    {"sub", r_add_sub, TL_BIN_SUB},
    {"mul", r_mul, 0},
    {"div", r_div, 0},
    {"pow", r_pow, 0},
    {"maximum", r_maxmin2, TL_RED_MAX},
    {"minimum", r_maxmin2, TL_RED_MIN},
    {"ifelse", r_where, 0},
    {"neg", r_unary, TL_UN_NEG},
    {"abs", r_unary, TL_UN_ABS},
    {"exp", r_unary, TL_UN_EXP},
    {"log", r_unary, TL_UN_LOG},
    {"sqrt", r_unary, TL_UN_SQRT},
    {"rsqrt", r_unary, TL_UN_RSQRT},
    {"sin", r_unary, TL_UN_SIN},
    {"cos", r_unary, TL_UN_COS},
    {"tan", r_unary, TL_UN_TAN},
    {"tanh", r_unary, TL_UN_TANH},
    {"square", r_unary, TL_UN_SQUARE},
    {"sigmoid", r_unary, TL_UN_SIGMOID},
    {"silu", r_unary, TL_UN_SILU},
    {"swiglu", r_swiglu, 0},
    {"gelu", r_unary, TL_UN_GELU},
    {"relu", r_unary, TL_UN_RELU},
    {"sum", tl_ag_rule_reduce, TL_RED_SUM},
    {"mean", tl_ag_rule_reduce, TL_RED_MEAN},
    {"max", tl_ag_rule_reduce, TL_RED_MAX},
    {"min", tl_ag_rule_reduce, TL_RED_MIN},
    {"softmax", r_softmax, SOFTMAX},
    {"log_softmax", r_softmax, LOG_SOFTMAX},
    {"matmul", r_matmul, 0},
    {"linear", r_linear, LINEAR},
    {"fused_gelu_linear", r_linear, FUSED_GELU_LINEAR},
    {"einsum", r_einsum, 0},
};

/* Results that carry no gradient: not recorded. */
static const char *const constant_results[] = {
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_and",
    "logical_or",
    "logical_not",
    "argmax",
    "argmin",
    "floor",
    "ceil",
    "round",
    "sign",
    "mod",
    "shape",
    "dtype",
    "numel",
    "ndim",
    "item",
    "zeros_like",
    "ones_like",
    "to_i32",
    "to_i64",
    "greedy_sample",
    "temperature_sample",
    "top_k_sample",
    "top_p_sample",
    "min_p_sample",
    "causal_mask",
    "detach",
    "requires_grad",
    "grad",
    "backward",
    "zero_grad",
    "print",
    "println",
    "format",
    "str",
    "to_string",
    "len",
    "type_of",
    "save",
    "write_csv",
    "assert",
    "assert_eq",
    "assert_about_eq",
};

tl_ag_backward_fn tl_ag_rule(const char *name, int *op, bool *no_grad_result) {
    *no_grad_result = false;
    *op = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, name) == 0) {
            *op = rules[i].op;
            return rules[i].fn;
        }
    tl_ag_backward_fn nn = tl_ag_rule_nn(name, op);
    if (nn) return nn;
    if ((nn = tl_ag_rule_kg(name, op))) return nn;
    if ((nn = tl_ag_rule_attn(name, op))) return nn;
    for (size_t i = 0; i < sizeof constant_results / sizeof constant_results[0]; i++)
        if (strcmp(constant_results[i], name) == 0) *no_grad_result = true;
    return NULL;
}
