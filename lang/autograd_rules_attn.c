/* lang/autograd_rules_attn.c -- the backward rules of layer_norm, the fused
** attention, gather, scatter, dropout and batch_norm.  Each works on contiguous f32 copies in
** ggml order (ne[0] the last .tl axis) with sums in double. */
#include "lang/autograd_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* layer_norm(x[, w[, b]][, eps]) over the last dim: y = xh w + b, xh = (x - mu) / sqrt(var + eps);
** dx = inv (u - mean(u) - xh mean(u xh)), u = g w; dw = sum g xh, db = sum g */
static tl_status r_layer_norm(tl_ag_ctx *c) {
    int iw = -1, ib = -1;
    double eps = 1e-5;
    for (int i = 1; i < c->argc; i++) {
        tl_dtype dt = c->argv[i].kind == TL_VAL_TENSOR ? c->argv[i].as.tensor->dtype : TL_DTYPE_F32;
        bool shape =
            dt == TL_DTYPE_I8 || dt == TL_DTYPE_I16 || dt == TL_DTYPE_I32 || dt == TL_DTYPE_I64;
        if (c->argv[i].kind == TL_VAL_TENSOR && !shape) { /* an int array was the shape [D] */
            if (iw < 0)
                iw = i;
            else
                ib = i;
        } else if (tl_value_is_number(&c->argv[i])) {
            eps = tl_value_as_double(&c->argv[i]);
        }
    }
    tl_tensor *x = tl_ag_arg(c, 0), *w = iw > 0 ? tl_ag_arg(c, iw) : NULL;
    int64_t dn = x->ne[0];
    if (w && tl_tensor_nelements(w) != dn)
        return tl_fail(TL_ERR_UNSUPPORTED, "layer_norm: gradient only over the last dim");
    tl_tensor *xf = NULL, *wf = NULL, *g = NULL, *gx = NULL, *gw = NULL, *gb = NULL;
    tl_status st = TL_OK;
    double *acc = NULL;
    TRY(tl_ag_f32c(x, &xf));
    TRY(tl_ag_f32c(c->g, &g));
    if (w) TRY(tl_ag_f32c(w, &wf));
    TRY(tl_ag_f32c(xf, &gx));
    TRY(tl_tensor_new(TL_DTYPE_F32, 1, &dn, &gw));
    TRY(tl_tensor_new(TL_DTYPE_F32, 1, &dn, &gb));
    acc = calloc((size_t)(2 * dn + 1), sizeof *acc);
    if (!acc) TRY(tl_fail(TL_ERR_NOMEM, "out of memory"));
    const float *xp = tl_tensor_data(xf), *gp = tl_tensor_data(g);
    const float *wp = wf ? tl_tensor_data(wf) : NULL;
    float *gxp = tl_tensor_data(gx);
    int64_t rows = tl_tensor_nelements(xf) / (dn ? dn : 1);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xp + r * dn, *gr = gp + r * dn;
        double mu = 0, var = 0, mu_u = 0, mu_uxh = 0;
        for (int64_t j = 0; j < dn; j++)
            mu += xr[j];
        mu /= (double)dn;
        for (int64_t j = 0; j < dn; j++)
            var += ((double)xr[j] - mu) * ((double)xr[j] - mu);
        double inv = 1.0 / sqrt(var / (double)dn + eps);
        for (int64_t j = 0; j < dn; j++) {
            double xh = ((double)xr[j] - mu) * inv, u = (double)gr[j] * (wp ? wp[j] : 1.0);
            mu_u += u;
            mu_uxh += u * xh;
            acc[j] += (double)gr[j] * xh;
            acc[dn + j] += gr[j];
        }
        mu_u /= (double)dn;
        mu_uxh /= (double)dn;
        for (int64_t j = 0; j < dn; j++) {
            double xh = ((double)xr[j] - mu) * inv, u = (double)gr[j] * (wp ? wp[j] : 1.0);
            gxp[r * dn + j] = (float)(inv * (u - mu_u - xh * mu_uxh));
        }
    }
    float *gwp = tl_tensor_data(gw), *gbp = tl_tensor_data(gb);
    for (int64_t j = 0; j < dn; j++) {
        gwp[j] = (float)acc[j];
        gbp[j] = (float)acc[dn + j];
    }
    if (tl_ag_needs(c, 0)) {
        TRY(tl_ag_emit(c, 0, -1, gx));
        gx = NULL;
    }
    if (iw > 0 && tl_ag_needs(c, iw)) {
        TRY(tl_ag_emit(c, iw, -1, gw));
        gw = NULL;
    }
    if (ib > 0 && tl_ag_needs(c, ib)) {
        TRY(tl_ag_emit(c, ib, -1, gb));
        gb = NULL;
    }
done:
    free(acc);
    tl_tensor_unref(xf);
    tl_tensor_unref(wf);
    tl_tensor_unref(g);
    tl_tensor_unref(gx);
    tl_tensor_unref(gw);
    tl_tensor_unref(gb);
    return st;
}

/* attention(q [S, H, D], k, v [T, Hkv, D][, causal[, scale[, pos_offset]]]): the
** probabilities are recomputed in double; with s = scale q.k, p = softmax_j s, o = p v:
** dv_j += p_ij do_i, dp_ij = do_i.v_j, ds = p (dp - sum_j p dp), dq_i = scale sum_j ds k_j,
** dk_j += scale ds q_i */
static tl_status r_attention(tl_ag_ctx *c) {
    tl_tensor *a[3] = {0}, *d[3] = {0}, *g = NULL;
    tl_status st = TL_OK;
    double *p = NULL, *dp = NULL;
    bool causal = c->argc < 4 || c->argv[3].kind != TL_VAL_BOOL || c->argv[3].as.b;
    double scale = c->argc >= 5 ? tl_value_as_double(&c->argv[4]) : 0.0;
    int64_t off = c->argc >= 6 ? (int64_t)tl_value_as_double(&c->argv[5]) : -1;
    for (int i = 0; i < 3; i++) {
        if (tl_ag_arg(c, i)->n_dims != 3)
            return tl_fail(TL_ERR_UNSUPPORTED, "attention: gradient only for [S, H, D] operands");
        TRY(tl_ag_f32c(tl_ag_arg(c, i), &a[i]));
        TRY(tl_op_full(TL_DTYPE_F32, 3, (int64_t[]){a[i]->ne[2], a[i]->ne[1], a[i]->ne[0]}, 0.0,
                       &d[i]));
    }
    TRY(tl_ag_f32c(c->g, &g));
    int64_t D = a[0]->ne[0], H = a[0]->ne[1], S = a[0]->ne[2], Hk = a[1]->ne[1], T = a[1]->ne[2];
    if (scale <= 0) scale = 1.0 / sqrt((double)D);
    if (off < 0) off = T - S;
    p = malloc((size_t)(T ? T : 1) * sizeof *p);
    dp = malloc((size_t)(T ? T : 1) * sizeof *dp);
    if (!p || !dp) TRY(tl_fail(TL_ERR_NOMEM, "out of memory"));
    const float *q = tl_tensor_data(a[0]), *k = tl_tensor_data(a[1]), *v = tl_tensor_data(a[2]),
                *go = tl_tensor_data(g);
    float *dq = tl_tensor_data(d[0]), *dk = tl_tensor_data(d[1]), *dv = tl_tensor_data(d[2]);
    for (int64_t s = 0; s < S; s++)
        for (int64_t h = 0; h < H; h++) {
            int64_t hk = h / (H / Hk), n = causal ? s + off + 1 : T;
            if (n > T) n = T;
            const float *qi = q + (s * H + h) * D, *gi = go + (s * H + h) * D;
            double mx = -INFINITY, sum = 0, dot = 0;
            for (int64_t j = 0; j < n; j++) {
                const float *kj = k + (j * Hk + hk) * D;
                double e = 0;
                for (int64_t x = 0; x < D; x++)
                    e += (double)qi[x] * kj[x];
                p[j] = e * scale;
                if (p[j] > mx) mx = p[j];
            }
            for (int64_t j = 0; j < n; j++)
                sum += p[j] = exp(p[j] - mx);
            for (int64_t j = 0; j < n; j++) {
                const float *vj = v + (j * Hk + hk) * D;
                float *dvj = dv + (j * Hk + hk) * D;
                double e = 0;
                p[j] /= sum;
                for (int64_t x = 0; x < D; x++) {
                    e += (double)gi[x] * vj[x];
                    dvj[x] += (float)(p[j] * gi[x]);
                }
                dp[j] = e;
                dot += p[j] * e;
            }
            for (int64_t j = 0; j < n; j++) {
                double ds = p[j] * (dp[j] - dot) * scale;
                const float *kj = k + (j * Hk + hk) * D;
                float *dkj = dk + (j * Hk + hk) * D, *dqi = dq + (s * H + h) * D;
                for (int64_t x = 0; x < D; x++) {
                    dqi[x] += (float)(ds * kj[x]);
                    dkj[x] += (float)(ds * qi[x]);
                }
            }
        }
    for (int i = 0; i < 3; i++)
        if (tl_ag_needs(c, i)) {
            TRY(tl_ag_emit(c, i, -1, d[i]));
            d[i] = NULL;
        }
done:
    free(p);
    free(dp);
    for (int i = 0; i < 3; i++) {
        tl_tensor_unref(a[i]);
        tl_tensor_unref(d[i]);
    }
    tl_tensor_unref(g);
    return st;
}

/* the flat element offset of the multi-index pos in a contiguous tensor of ne */
static int64_t flat(const int64_t *pos, const int64_t *ne) {
    int64_t o = 0;
    for (int x = TL_MAX_DIMS - 1; x >= 0; x--)
        o = o * ne[x] + pos[x];
    return o;
}

/* gather(t, dim, idx): dt[.. idx[i] ..] += g[i];  scatter(t, dim, idx, src): the
** elements of t that were overwritten get no gradient, dsrc[i] = g at the place
** src[i] went to, when it was the last write there */
enum { GATHER = 0, SCATTER = 1 }; /* r_gather_scatter's op */

static tl_status r_gather_scatter(tl_ag_ctx *c) {
    bool scatter = c->op == SCATTER;
    tl_tensor *t = tl_ag_arg(c, 0), *ix = NULL, *g = NULL, *dt = NULL, *ds = NULL;
    tl_status st = TL_OK;
    int64_t *writer = NULL;
    int64_t axis = (int64_t)tl_value_as_double(&c->argv[1]);
    if (axis < 0) axis += t->n_dims;
    int d = t->n_dims - 1 - (int)axis;
    TRY(tl_op_cast(tl_ag_arg(c, 2), TL_DTYPE_I64, &ix));
    TRY(tl_ag_f32c(c->g, &g));
    int64_t tshape[TL_MAX_DIMS];
    tl_tensor_shape(t, tshape);
    TRY(tl_op_full(TL_DTYPE_F32, t->n_dims, tshape, 0.0, &dt));
    if (scatter) {
        tl_tensor *src = tl_ag_arg(c, 3);
        int64_t sshape[TL_MAX_DIMS];
        tl_tensor_shape(src, sshape);
        TRY(tl_op_full(TL_DTYPE_F32, src->n_dims, sshape, 0.0, &ds));
        int64_t nt = tl_tensor_nelements(t);
        writer = malloc((size_t)(nt ? nt : 1) * sizeof *writer);
        if (!writer) TRY(tl_fail(TL_ERR_NOMEM, "out of memory"));
        for (int64_t i = 0; i < nt; i++)
            writer[i] = -1;
    }
    const int64_t *ip = tl_tensor_data(ix);
    const float *gp = tl_tensor_data(g);
    float *dtp = tl_tensor_data(dt);
    int64_t pos[TL_MAX_DIMS] = {0}, n = tl_tensor_nelements(ix);
    for (int64_t e = 0; e < n; e++) { /* idx in ggml order, contiguous */
        int64_t rem = e, at[TL_MAX_DIMS];
        for (int x = 0; x < TL_MAX_DIMS; x++) {
            pos[x] = rem % ix->ne[x];
            rem /= ix->ne[x];
        }
        memcpy(at, pos, sizeof at);
        at[d] = ip[e] < 0 ? ip[e] + t->ne[d] : ip[e];
        if (scatter)
            writer[flat(at, t->ne)] = flat(pos, tl_ag_arg(c, 3)->ne);
        else
            dtp[flat(at, t->ne)] += gp[e]; /* out has idx's shape */
    }
    if (scatter) { /* g has t's shape */
        float *dsp = tl_tensor_data(ds);
        for (int64_t i = 0; i < tl_tensor_nelements(t); i++) {
            if (writer[i] < 0)
                dtp[i] = gp[i];
            else
                dsp[writer[i]] = gp[i];
        }
        if (tl_ag_needs(c, 3)) {
            TRY(tl_ag_emit(c, 3, -1, ds));
            ds = NULL;
        }
    }
    if (tl_ag_needs(c, 0)) {
        TRY(tl_ag_emit(c, 0, -1, dt));
        dt = NULL;
    }
done:
    free(writer);
    tl_tensor_unref(ix);
    tl_tensor_unref(g);
    tl_tensor_unref(dt);
    tl_tensor_unref(ds);
    return st;
}

/* dropout(x, p[, training]): g times the kept mask / (1 - p), read off the result
** (an element of x that is exactly 0 counts as dropped); not training: g */
static tl_status r_dropout(tl_ag_ctx *c) {
    if (!tl_ag_needs(c, 0)) return TL_OK;
    double p = tl_value_as_double(&c->argv[1]);
    bool training = c->argc >= 3 && c->argv[2].kind == TL_VAL_BOOL && c->argv[2].as.b;
    if (!training || p <= 0) return tl_ag_emit(c, 0, -1, tl_tensor_ref(c->g));
    tl_tensor *y = NULL, *g = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(c->out, &y));
    TRY(tl_ag_f32c(c->g, &g));
    const float *yp = tl_tensor_data(y);
    float *gp = tl_tensor_data(g);
    for (int64_t i = 0; i < tl_tensor_nelements(g); i++)
        gp[i] = yp[i] != 0 && p < 1 ? (float)(gp[i] / (1.0 - p)) : 0.0f;
    st = tl_ag_emit(c, 0, -1, g);
    g = NULL;
done:
    tl_tensor_unref(y);
    tl_tensor_unref(g);
    return st;
}

/* batch_norm, channels on .tl axis 1 of [N, C, ..] (axis 0 of a 1-d x); parameters [C] or
** one value.  batch_norm(x, gamma, beta, eps) uses the batch statistics (biased variance):
** dx = inv (u - mean(u) - xh mean(u xh)) per channel, u = g gamma;
** batch_norm(x, mean, var, gamma, beta[, eps]) the given ones: dx = g gamma inv,
** dmean = -sum g gamma inv, dvar = -1/2 sum g gamma (x - mean) inv^3.  Both:
** dgamma = sum g xh, dbeta = sum g. */
static tl_status r_batch_norm(tl_ag_ctx *c) {
    bool batch = c->argc == 4;
    int ig = batch ? 1 : 3, ib = ig + 1, im = 1, iv = 2;
    double eps = batch          ? tl_value_as_double(&c->argv[3])
                 : c->argc >= 6 ? tl_value_as_double(&c->argv[5])
                                : 1e-5;
    tl_tensor *x = NULL, *g = NULL, *pr[5] = {0}, *d[5] = {0};
    double *acc = NULL;
    tl_status st = TL_OK;
    TRY(tl_ag_f32c(tl_ag_arg(c, 0), &x));
    TRY(tl_ag_f32c(c->g, &g));
    int64_t sh[TL_MAX_DIMS];
    tl_tensor_shape(x, sh);
    int64_t N = x->n_dims >= 2 ? sh[0] : 1, C = x->n_dims >= 2 ? sh[1] : sh[0], inner = 1;
    for (int i = 2; i < x->n_dims; i++)
        inner *= sh[i];
    for (int i = 1; i < c->argc && i < 5; i++) {
        if (!tl_ag_arg(c, i)) continue;
        TRY(tl_ag_f32c(tl_ag_arg(c, i), &pr[i]));
        int64_t n = tl_tensor_nelements(pr[i]);
        if (n != C && n != 1) TRY(tl_fail(TL_ERR_SHAPE, "batch_norm: parameter %d is not [C]", i));
    }
    if (!pr[ig] || !pr[ib] || (!batch && (!pr[im] || !pr[iv])))
        TRY(tl_fail(TL_ERR_TYPE, "batch_norm: the statistics and gamma, beta must be tensors"));
    TRY(tl_ag_f32c(x, &d[0]));
    acc = calloc((size_t)(4 * C), sizeof *acc); /* dgamma, dbeta, dmean, dvar per channel */
    if (!acc) TRY(tl_fail(TL_ERR_NOMEM, "out of memory"));
#define PAR(i, ch) ((const float *)tl_tensor_data(pr[i]))[tl_tensor_nelements(pr[i]) == 1 ? 0 : ch]
    const float *xp = tl_tensor_data(x), *gp = tl_tensor_data(g);
    float *dx = tl_tensor_data(d[0]);
    double cnt = (double)(N * inner);
    for (int64_t ch = 0; ch < C; ch++) {
        double mu = 0, var = 0, mu_u = 0, mu_uxh = 0, gam = PAR(ig, ch);
        if (batch) {
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < inner; i++)
                    mu += xp[(n * C + ch) * inner + i];
            mu /= cnt;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < inner; i++) {
                    double e = xp[(n * C + ch) * inner + i] - mu;
                    var += e * e;
                }
            var /= cnt;
        } else {
            mu = PAR(im, ch);
            var = PAR(iv, ch);
        }
        double inv = 1.0 / sqrt(var + eps);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t e = (n * C + ch) * inner + i;
                double xh = (xp[e] - mu) * inv, u = gp[e] * gam;
                acc[ch] += gp[e] * xh;
                acc[C + ch] += gp[e];
                mu_u += u;
                mu_uxh += u * xh;
            }
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t e = (n * C + ch) * inner + i;
                double xh = (xp[e] - mu) * inv, u = gp[e] * gam;
                dx[e] = (float)(batch ? inv * (u - mu_u / cnt - xh * mu_uxh / cnt) : u * inv);
            }
        acc[2 * C + ch] = -mu_u * inv;
        acc[3 * C + ch] = -0.5 * mu_uxh * inv * inv;
    }
#undef PAR
    /* parameter gradients: [C], or summed over the channels for a single value */
    const int which[4] = {ig, ib, im, iv};
    for (int k = 0; k < 4; k++) {
        int i = which[k];
        if (batch && k >= 2) break;
        if (!tl_ag_needs(c, i)) continue;
        int64_t n = tl_tensor_nelements(pr[i]);
        int64_t psh[TL_MAX_DIMS];
        tl_tensor_shape(pr[i], psh);
        TRY(tl_op_full(TL_DTYPE_F32, pr[i]->n_dims, psh, 0.0, &d[i]));
        float *dp = tl_tensor_data(d[i]);
        for (int64_t ch = 0; ch < C; ch++)
            dp[n == 1 ? 0 : ch] += (float)acc[k * C + ch];
        TRY(tl_ag_emit(c, i, -1, d[i]));
        d[i] = NULL;
    }
    if (tl_ag_needs(c, 0)) {
        TRY(tl_ag_emit(c, 0, -1, d[0]));
        d[0] = NULL;
    }
done:
    free(acc);
    tl_tensor_unref(x);
    tl_tensor_unref(g);
    for (int i = 0; i < 5; i++) {
        tl_tensor_unref(pr[i]);
        tl_tensor_unref(d[i]);
    }
    return st;
}

static const struct {
    const char *name;
    tl_ag_backward_fn fn;
    int op;
} rules_attn[] = {
    {"layer_norm", r_layer_norm, 0},
    {"attention", r_attention, 0},
    {"gather", r_gather_scatter, GATHER},
    {"scatter", r_gather_scatter, SCATTER},
    {"dropout", r_dropout, 0},
    {"batch_norm", r_batch_norm, 0},
};

tl_ag_backward_fn tl_ag_rule_attn(const char *name, int *op) {
    for (size_t i = 0; i < sizeof rules_attn / sizeof rules_attn[0]; i++)
        if (strcmp(rules_attn[i].name, name) == 0) {
            *op = rules_attn[i].op;
            return rules_attn[i].fn;
        }
    return NULL;
}
