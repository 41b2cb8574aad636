/* runtime/ops/compat.c -- the original interpreter's remaining NN ops
** (the original interpreter's), made real: the precomputed cos/sin RoPE tables and the
** "Candle" rope that reads them, attention over a KV cache with an output
** projection, inference batch norm, dropout and a plain mask.  Each is small,
** single-threaded where it is its own loop, and built on the other ops where
** it can be (attention_with_cache is rope + attention + linear). */
#include "runtime/ops/internal.h"

#include "runtime/random.h"

static tl_dtype float_out(tl_dtype dt) {
    return (dt == TL_DTYPE_F16 || dt == TL_DTYPE_BF16) ? dt : TL_DTYPE_F32;
}

/* ---- RoPE tables and the cos/sin form ---------------------------------------------- */

tl_status tl_op_rope_table(int64_t head_dim, int64_t max_seq, float base, bool sine,
                           tl_tensor **out) {
    *out = NULL;
    const char *op = sine ? "precompute_rope_sin" : "precompute_rope_cos";
    if (head_dim <= 0 || head_dim % 2 != 0)
        return tl_fail(TL_ERR_ARG, "%s: head_dim %lld must be even and > 0", op,
                       (long long)head_dim);
    if (max_seq < 0) return tl_fail(TL_ERR_ARG, "%s: max_seq %lld < 0", op, (long long)max_seq);
    if (!(base > 0.0f)) return tl_fail(TL_ERR_ARG, "%s: base must be > 0", op);
    tl_tensor *t;
    tl_status st = tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){max_seq, head_dim}, 0.0, &t);
    if (st != TL_OK) return st;
    float *p = tl_tensor_data(t);
    /* The same float steps as tl_op_rope, so the two forms agree bit for bit. */
    const float theta_scale = powf(base, -2.0f / (float)head_dim);
    for (int64_t s = 0; s < max_seq; s++) {
        float theta = (float)s;
        float *row = p + s * head_dim;
        for (int64_t i = 0; i < head_dim / 2; i++) {
            const float v = sine ? sinf(theta) : cosf(theta);
            row[2 * i] = v;
            row[2 * i + 1] = v;
            theta *= theta_scale;
        }
    }
    *out = t;
    return TL_OK;
}

tl_status tl_op_rope_cs(const tl_tensor *x, const tl_tensor *cos_t, const tl_tensor *sin_t,
                        tl_tensor **out) {
    *out = NULL;
    char sx[96], sc[96], ss[96];
    tl_status st = ops_require_plain("rope", x);
    if (st == TL_OK) st = ops_require_plain("rope", cos_t);
    if (st == TL_OK) st = ops_require_plain("rope", sin_t);
    if (st != TL_OK) return st;
    if (x->n_dims < 2)
        return tl_fail(TL_ERR_SHAPE, "rope: x must be [S, D] or [.., S, H, D], got %s",
                       OPS_SHAPE(x, sx));
    const int64_t D = x->ne[0];
    const int64_t H = x->n_dims == 2 ? 1 : x->ne[1];
    const int64_t S = x->n_dims == 2 ? x->ne[1] : x->ne[2];
    if (D % 2 != 0)
        return tl_fail(TL_ERR_SHAPE, "rope: head dim %lld of %s is odd", (long long)D,
                       OPS_SHAPE(x, sx));
    if (cos_t->n_dims != 2 || sin_t->n_dims != 2 || !tl_tensor_same_shape(cos_t, sin_t) ||
        cos_t->ne[0] != D || cos_t->ne[1] < S)
        return tl_fail(TL_ERR_SHAPE,
                       "rope: cos %s and sin %s must both be [>= %lld, %lld] for x %s",
                       OPS_SHAPE(cos_t, sc), OPS_SHAPE(sin_t, ss), (long long)S, (long long)D,
                       OPS_SHAPE(x, sx));
    float *fx = NULL, *fc = NULL, *fs = NULL;
    st = ops_to_f32("rope", x, &fx);
    if (st == TL_OK) st = ops_to_f32("rope", cos_t, &fc);
    if (st == TL_OK) st = ops_to_f32("rope", sin_t, &fs);
    if (st == TL_OK) {
        const int64_t rows = tl_tensor_nelements(x) / D; /* [rest][S][H] rows of D */
        for (int64_t r = 0; r < rows; r++) {
            const int64_t s = (r / H) % S;
            const float *c = fc + s * D, *sn = fs + s * D;
            float *v = fx + r * D;
            for (int64_t i = 0; i < D / 2; i++) {
                const float x0 = v[2 * i], x1 = v[2 * i + 1];
                /* tl_op_rope's (llama.cpp's) fused multiply-adds: ggml_math.h */
                v[2 * i] = fmaf(x0, c[2 * i], -(x1 * sn[2 * i]));
                v[2 * i + 1] = fmaf(x0, sn[2 * i], x1 * c[2 * i]);
            }
        }
        st = ops_from_f32(fx, float_out(x->dtype), x->n_dims, x->ne, out);
    }
    free(fx);
    free(fc);
    free(fs);
    return st;
}

/* ---- attention over a KV cache ----------------------------------------------------- */

tl_status tl_op_attention_with_cache(const tl_tensor *q, const tl_tensor *kc, const tl_tensor *vc,
                                     const tl_tensor *w_o, int64_t n_head, float rope_base,
                                     tl_tensor **out) {
    *out = NULL;
    const char *op = "attention_with_cache";
    char sq[96], sk[96], sv[96];
    if (q->n_dims != 2 || kc->n_dims != 2 || vc->n_dims != 2)
        return tl_fail(TL_ERR_SHAPE, "%s: Q %s, Kc %s, Vc %s must be 2-d [S, H*D], [T, Hkv*D]", op,
                       OPS_SHAPE(q, sq), OPS_SHAPE(kc, sk), OPS_SHAPE(vc, sv));
    const int64_t S = q->ne[1], W = q->ne[0], T = kc->ne[1], Wk = kc->ne[0];
    if (n_head <= 0) {
        if (W % 64 != 0)
            return tl_fail(TL_ERR_ARG,
                           "%s: Q width %lld is not a multiple of 64; pass n_head explicitly", op,
                           (long long)W);
        n_head = W / 64;
    }
    if (W % n_head != 0)
        return tl_fail(TL_ERR_SHAPE, "%s: Q width %lld is not divisible by n_head %lld", op,
                       (long long)W, (long long)n_head);
    const int64_t D = W / n_head;
    if (!tl_tensor_same_shape(kc, vc) || Wk == 0 || Wk % D != 0 || n_head % (Wk / D) != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "%s: Kc %s and Vc %s must be equal [T, n_kv*%lld] with n_head %lld a "
                       "multiple of n_kv",
                       op, OPS_SHAPE(kc, sk), OPS_SHAPE(vc, sv), (long long)D, (long long)n_head);
    if (T < S)
        return tl_fail(TL_ERR_SHAPE, "%s: the cache holds %lld positions, fewer than Q's %lld", op,
                       (long long)T, (long long)S);
    const int64_t n_kv = Wk / D;
    tl_tensor *q3 = NULL, *qr = NULL, *k3 = NULL, *v3 = NULL, *o = NULL, *o2 = NULL;
    tl_status st = tl_op_reshape(q, 3, (int64_t[]){S, n_head, D}, &q3);
    if (st == TL_OK) st = tl_op_rope(q3, T - S, rope_base, TL_ROPE_NORM, &qr);
    if (st == TL_OK) st = tl_op_reshape(kc, 3, (int64_t[]){T, n_kv, D}, &k3);
    if (st == TL_OK) st = tl_op_reshape(vc, 3, (int64_t[]){T, n_kv, D}, &v3);
    if (st == TL_OK) st = tl_op_attention(qr, k3, v3, true, 0.0f, T - S, &o);
    if (st == TL_OK) st = tl_op_reshape(o, 2, (int64_t[]){S, W}, &o2);
    if (st == TL_OK) st = tl_op_linear(o2, w_o, NULL, out);
    tl_tensor_unref(q3);
    tl_tensor_unref(qr);
    tl_tensor_unref(k3);
    tl_tensor_unref(v3);
    tl_tensor_unref(o);
    tl_tensor_unref(o2);
    return st;
}

/* ---- batch norm (inference) ---------------------------------------------------------- */

/* A per-channel parameter: C values, or one value for every channel. */
static tl_status bn_param(const char *name, const tl_tensor *p, int64_t C, float **buf, bool *one) {
    char s[96];
    tl_status st = ops_require_plain("batch_norm", p);
    if (st != TL_OK) return st;
    int64_t n = tl_tensor_nelements(p);
    if (p->n_dims > 1 || (n != C && n != 1))
        return tl_fail(TL_ERR_SHAPE, "batch_norm: %s %s must be [%lld] or a single value", name,
                       OPS_SHAPE(p, s), (long long)C);
    *one = n == 1;
    return ops_to_f32("batch_norm", p, buf);
}

tl_status tl_op_batch_norm(const tl_tensor *x, const tl_tensor *mean, const tl_tensor *var,
                           const tl_tensor *gamma, const tl_tensor *beta, double eps,
                           tl_tensor **out) {
    *out = NULL;
    char sx[96];
    tl_status st = ops_require_plain("batch_norm", x);
    if (st != TL_OK) return st;
    if (x->n_dims == 0)
        return tl_fail(TL_ERR_SHAPE, "batch_norm: x must be [C] or [N, C, ..], got %s",
                       OPS_SHAPE(x, sx));
    /* Channels: .tl axis 1 for [N, C, ..] (PyTorch), axis 0 for [C]. */
    const int cd = x->n_dims >= 2 ? x->n_dims - 2 : 0; /* ne index of the channel axis */
    const int64_t C = x->ne[cd];
    int64_t inner = 1;
    for (int d = 0; d < cd; d++)
        inner *= x->ne[d];
    const tl_tensor *ps[4] = {mean, var, gamma, beta};
    static const char *const names[4] = {"mean", "var", "gamma", "beta"};
    float *pb[4] = {NULL, NULL, NULL, NULL}, *fx = NULL;
    bool one[4] = {false, false, false, false};
    for (int i = 0; st == TL_OK && i < 4; i++)
        st = bn_param(names[i], ps[i], C, &pb[i], &one[i]);
    if (st == TL_OK) st = ops_to_f32("batch_norm", x, &fx);
    if (st == TL_OK) {
        const int64_t n = tl_tensor_nelements(x);
        for (int64_t e = 0; e < n; e++) {
            const int64_t c = (e / inner) % C;
            const double m = pb[0][one[0] ? 0 : c], v = pb[1][one[1] ? 0 : c];
            const double g = pb[2][one[2] ? 0 : c], b = pb[3][one[3] ? 0 : c];
            fx[e] = (float)(((double)fx[e] - m) / sqrt(v + eps) * g + b);
        }
        st = ops_from_f32(fx, float_out(x->dtype), x->n_dims, x->ne, out);
    }
    for (int i = 0; i < 4; i++)
        free(pb[i]);
    free(fx);
    return st;
}

/* ---- dropout and masks ---------------------------------------------------------------- */

tl_status tl_op_dropout(const tl_tensor *x, double p, bool training, tl_rng *rng, tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain("dropout", x);
    if (st != TL_OK) return st;
    if (!(p >= 0.0 && p <= 1.0))
        return tl_fail(TL_ERR_ARG, "dropout: p = %s is not in [0, 1]", tl_num_str(p));
    if (!training) {
        *out = tl_tensor_ref((tl_tensor *)x);
        return TL_OK;
    }
    float *fx;
    st = ops_to_f32("dropout", x, &fx);
    if (st != TL_OK) return st;
    const float scale = p < 1.0 ? (float)(1.0 / (1.0 - p)) : 0.0f;
    const int64_t n = tl_tensor_nelements(x);
    for (int64_t e = 0; e < n; e++) {
        const float u = tl_rng_uniform_f32(rng); /* one draw per element, in .tl order */
        fx[e] = (double)u >= p ? fx[e] * scale : 0.0f;
    }
    st = ops_from_f32(fx, float_out(x->dtype), x->n_dims, x->ne, out);
    free(fx);
    return st;
}

tl_status tl_op_apply_mask(const tl_tensor *x, const tl_tensor *mask, tl_tensor **out) {
    *out = NULL;
    tl_tensor *zero = NULL;
    tl_status st = ops_require_plain("apply_mask", x);
    if (st == TL_OK) st = ops_require_plain("apply_mask", mask);
    if (st == TL_OK) st = tl_tensor_scalar(x->dtype, 0.0, &zero);
    if (st == TL_OK) st = tl_op_where(mask, x, zero, out);
    tl_tensor_unref(zero);
    return st;
}
