/* lang/builtins/nn.c -- the neural-network builtins: activations, softmax,
** linear, norms, rope, attention, embedding, masks, sampling
** (docs/builtins.md).  Each converts its arguments and calls the
** runtime (runtime/ops.h, runtime/sample.h). */
#include "lang/builtins/tensor_args.h"

#include "lang/autograd.h"
#include "runtime/ops.h"
#include "runtime/sample.h"
#include "runtime/sgemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)

/* The op field of the defs that share a fn (lang/builtin.h). */
enum {
    NN_PLAIN = 0,
    NN_LOG, /* log_softmax */
    NN_ADD_RELU,
    NN_MUL_RELU,
    NN_AFFINE,
    NN_GREEDY,
    NN_TEMPERATURE,
    NN_TOP_K,
    NN_TOP_P,
    NN_MIN_P,
};

static tl_status b_act(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t, *r;
    tl_status st = tl_arg_tensor(c, argv, 0, &t);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_unary((tl_unary_op)c->op, t, &r), &r, out);
}

/* swiglu(g, u): silu(g) * u in one pass (runtime/ops.h tl_op_swiglu). */
static tl_status b_swiglu(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *g, *u, *r;
    tl_status st = tl_arg_tensor(c, argv, 0, &g);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &u);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_swiglu(g, u, &r), &r, out);
}

static tl_status b_softmax(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *t, *r;
    int axis = -1;
    tl_status st = tl_arg_tensor(c, argv, 0, &t);
    if (st == TL_OK && argc >= 2) st = tlb_axis(c, argv, 1, &axis);
    if (st != TL_OK) return st;
    st = c->op == NN_LOG ? tl_op_log_softmax(t, axis, &r) : tl_op_softmax(t, axis, &r);
    return tlb_ret(st, &r, out);
}

static tl_status b_linear(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *w, *b = NULL, *r = NULL;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &w);
    if (st == TL_OK && argc >= 3) st = tl_arg_tensor(c, argv, 2, &b);
    if (st != TL_OK) return st;
    /* a learnable f32 weight (training, and evaluating while training): the threaded FMA
    ** product whose gradients use the same kernels (runtime/sgemm.h); loaded models keep
    ** tl_op_linear (llama.cpp's orders) */
    if (!b && w->dtype == TL_DTYPE_F32 && x->dtype == TL_DTYPE_F32 && w->n_dims == 2 &&
        tl_tensor_is_contiguous(w) && x->n_dims >= 1 && x->ne[0] == w->ne[0] && w->requires_grad)
        st = tl_op_linear_sgemm(x, w, &r);
    else
        st = tl_op_linear(x, w, b, &r);
    return tlb_ret(st, &r, out);
}

/* linear_many(x, [W1, W2, ...]) -> [linear(x, W1), linear(x, W2), ...] in one pass. */
static tl_status b_linear_many(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(x);
    if (argv[1].kind != TL_VAL_ARRAY || argv[1].as.arr->len == 0 || argv[1].as.arr->len > 8)
        return tl_fail(TL_ERR_TYPE, "%s: argument 2 must be an array of 1 to 8 weight tensors",
                       c->name);
    const tl_array *a = argv[1].as.arr;
    const tl_tensor *w[8];
    for (size_t i = 0; i < a->len; i++) {
        if (a->items[i].kind != TL_VAL_TENSOR)
            return tl_fail(TL_ERR_TYPE, "%s: weight %zu must be a tensor, got %s", c->name, i + 1,
                           tl_value_type_name(&a->items[i]));
        w[i] = a->items[i].as.tensor;
    }
    tl_tensor **parts = calloc(a->len, sizeof *parts);
    if (!parts) return tl_fail(TL_ERR_NOMEM, "out of memory");
    tl_status st = tl_op_linear_many(x, w, (int)a->len, parts);
    if (st != TL_OK) free(parts);
    return tlb_parts_value(st, parts, (int)a->len, out);
}

static tl_status b_rms_norm(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *w, *r;
    double eps = 1e-6;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &w);
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &eps);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_rms_norm(x, w, (float)eps, &r), &r, out);
}

/* layer_norm(x[, w[, b]][, eps]); a shape array argument (the original's
** normalized_shape) is accepted and must match the trailing dims. */
static tl_status b_layer_norm(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *w = NULL, *b = NULL, *r;
    double eps = 1e-5;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    for (int i = 1; st == TL_OK && i < argc; i++) {
        if (argv[i].kind == TL_VAL_TENSOR) {
            if (!w)
                w = argv[i].as.tensor;
            else if (!b)
                b = argv[i].as.tensor;
            else
                st = tl_fail(TL_ERR_ARG, "layer_norm: at most two tensors after x (w, b)");
        } else if (tl_value_is_number(&argv[i])) {
            eps = tl_value_as_double(&argv[i]);
        } else if (argv[i].kind == TL_VAL_ARRAY) {
            int64_t sh[TL_MAX_DIMS];
            int n;
            st = tl_arg_shape(c, argv, i, sh, &n);
            if (st == TL_OK && (n != 1 || sh[0] != x->ne[0]))
                st = tl_fail(TL_ERR_SHAPE, "layer_norm: only the last dim can be normalised");
        } else {
            st = tl_fail(TL_ERR_TYPE,
                         "layer_norm: argument %d must be a tensor, a number or a shape", i + 1);
        }
    }
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_layer_norm(x, w, b, (float)eps, &r), &r, out);
}

/* rope(x[, offset | positions[, theta_base[, style]]]); style "norm" (default) or "neox", or 0 / 2;
** rope(x, cos, sin) with precomputed tables (precompute_rope_cos/sin, the original's form) */
static tl_status b_rope(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *r;
    if (argc == 3 && argv[1].kind == TL_VAL_TENSOR && argv[2].kind == TL_VAL_TENSOR) {
        tl_status st = tl_arg_tensor(c, argv, 0, &x);
        if (st != TL_OK) return st;
        return tlb_ret(tl_op_rope_cs(x, argv[1].as.tensor, argv[2].as.tensor, &r), &r, out);
    }
    int64_t offset = 0;
    double base = 10000.0;
    tl_rope_style style = TL_ROPE_NORM;
    tl_tensor *pos = NULL; /* rope(x, positions, ...): one position per row (a batch) */
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK && argc >= 2 &&
        (argv[1].kind == TL_VAL_TENSOR || argv[1].kind == TL_VAL_ARRAY)) {
        st = tl_arg_tensor(c, argv, 1, &pos);
        if (st == TL_OK &&
            (pos->n_dims != 1 || pos->dtype != TL_DTYPE_I64 || pos->nb[0] != sizeof(int64_t)))
            st = tl_fail(TL_ERR_TYPE, "rope: positions must be a 1-d int array or i64 tensor");
    } else if (st == TL_OK && argc >= 2) {
        st = tl_arg_int(c, argv, 1, &offset);
    }
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &base);
    if (st == TL_OK && argc >= 4) {
        if (argv[3].kind == TL_VAL_STRING) {
            const char *s = argv[3].as.str->data;
            if (strcasecmp(s, "norm") == 0)
                style = TL_ROPE_NORM;
            else if (strcasecmp(s, "neox") == 0)
                style = TL_ROPE_NEOX;
            else
                st = tl_fail(TL_ERR_ARG, "rope: style \"%s\" is not \"norm\" or \"neox\"", s);
        } else {
            int64_t v;
            st = tl_arg_int(c, argv, 3, &v);
            if (st == TL_OK && v != 0 && v != 2)
                st = tl_fail(TL_ERR_ARG, "rope: style %lld is not 0 (norm) or 2 (neox)",
                             (long long)v);
            style = (tl_rope_style)v;
        }
    }
    if (st != TL_OK) return st;
    if (pos)
        return tlb_ret(tl_op_rope_at(x, tl_tensor_data(pos), pos->ne[0], (float)base, style, &r),
                       &r, out);
    return tlb_ret(tl_op_rope(x, offset, (float)base, style, &r), &r, out);
}

/* attention(q, k, v[, causal[, scale[, pos_offset[, with_probs]]]]): with_probs = true
** gives [out, probs, scores] from the same kernel (probs and scores [H, S, T]). */
static tl_status b_attention(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *q, *k, *v, *r;
    bool causal = true, with_probs = false;
    double scale = 0.0;
    int64_t off = -1;
    tl_status st = tl_arg_tensor(c, argv, 0, &q);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &k);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 2, &v);
    if (st == TL_OK && argc >= 4) st = tl_arg_bool(c, argv, 3, &causal);
    if (st == TL_OK && argc >= 5) st = tl_arg_double(c, argv, 4, &scale);
    if (st == TL_OK && argc >= 6) st = tl_arg_int(c, argv, 5, &off);
    if (st == TL_OK && argc >= 7) st = tl_arg_bool(c, argv, 6, &with_probs);
    if (st != TL_OK) return st;
    if (with_probs) {
        tl_tensor **parts = calloc(3, sizeof *parts);
        if (!parts) return tl_fail(TL_ERR_NOMEM, "out of memory");
        st = tl_op_attention_probs(q, k, v, causal, (float)scale, off, &parts[0], &parts[2],
                                   &parts[1]);
        if (st != TL_OK) free(parts);
        return tlb_parts_value(st, parts, 3, out);
    }
    return tlb_ret(tl_op_attention(q, k, v, causal, (float)scale, off, &r), &r, out);
}

static tl_status b_attention_apply(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *p, *v, *r;
    tl_status st = tl_arg_tensor(c, argv, 0, &p);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &v);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_attention_apply(p, v, &r), &r, out);
}

/* embedding(table, ids): ids a tensor, an int array, or one int (gives [1, D]) */
static tl_status b_embedding(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *table, *ids = NULL, *r = NULL;
    tl_status st = tl_arg_tensor(c, argv, 0, &table);
    if (st != TL_OK) return st;
    if (argv[1].kind == TL_VAL_INT) {
        int64_t one = 1;
        st = tl_tensor_new(TL_DTYPE_I64, 1, &one, &ids);
        if (st == TL_OK) *(int64_t *)tl_tensor_data(ids) = argv[1].as.i;
    } else {
        st = tlb_tensor(c, argv, 1, &ids);
    }
    if (st == TL_OK) st = tl_op_embedding(table, ids, &r);
    tl_tensor_unref(ids);
    return tlb_ret(st, &r, out);
}

static tl_status b_causal_mask(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t s;
    tl_tensor *r;
    tl_status st = tl_arg_int(c, argv, 0, &s);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_causal_mask(s, &r), &r, out);
}

static tl_status b_apply_mask(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *s, *m = NULL, *r = NULL;
    tl_status st = tl_arg_tensor(c, argv, 0, &s);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &m);
    if (st == TL_OK) st = tl_op_apply_attention_mask(s, m, &r);
    tl_tensor_unref(m);
    return tlb_ret(st, &r, out);
}

/* padding_mask(lengths, max_len): [B, max_len] f32, 1 where j < lengths[b], else 0 */
static tl_status b_padding_mask(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *len = NULL, *r = NULL;
    int64_t max_len;
    tl_status st = tlb_tensor(c, argv, 0, &len);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &max_len);
    if (st == TL_OK && (len->n_dims > 1 || max_len < 0))
        st = tl_fail(TL_ERR_SHAPE, "padding_mask: lengths must be 1-d and max_len >= 0");
    int64_t B = st == TL_OK ? tl_tensor_nelements(len) : 0;
    if (st == TL_OK) st = tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){B, max_len}, 0.0, &r);
    for (int64_t b = 0; st == TL_OK && b < B; b++) {
        double L;
        st = tl_tensor_get_f64(len, b, &L);
        float *row = (float *)tl_tensor_data(r) + b * max_len;
        for (int64_t j = 0; st == TL_OK && j < max_len; j++)
            row[j] = (double)j < L ? 1.0f : 0.0f;
    }
    tl_tensor_unref(len);
    return tlb_ret(st, &r, out);
}

/* combine_masks(a, b): 1 where both masks keep (non-zero), else 0; broadcasting, f32 */
static tl_status b_combine_masks(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *a = NULL, *b = NULL, *both = NULL, *r = NULL;
    tl_status st = tlb_tensor(c, argv, 0, &a);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &b);
    if (st == TL_OK) st = tl_op_binary(TL_BIN_AND, a, b, &both);
    if (st == TL_OK) st = tl_op_cast(both, TL_DTYPE_F32, &r);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(both);
    return tlb_ret(st, &r, out);
}

/* fused_add_relu(a, b), fused_mul_relu(a, b), fused_affine(x, s, b) = x*s + b */
static tl_status b_fused(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t[3] = {NULL, NULL, NULL}, *r1 = NULL, *r2 = NULL;
    bool affine = c->op == NN_AFFINE;
    int n = affine ? 3 : 2;
    tl_status st = TL_OK;
    for (int i = 0; st == TL_OK && i < n; i++)
        st = tlb_tensor(c, argv, i, &t[i]);
    if (st == TL_OK) {
        tl_binary_op op = c->op == NN_ADD_RELU ? TL_BIN_ADD : TL_BIN_MUL;
        st = tl_op_binary(op, t[0], t[1], &r1);
    }
    if (st == TL_OK)
        st = affine ? tl_op_binary(TL_BIN_ADD, r1, t[2], &r2) : tl_op_unary(TL_UN_RELU, r1, &r2);
    for (int i = 0; i < 3; i++)
        tl_tensor_unref(t[i]);
    tl_tensor_unref(r1);
    return tlb_ret(st, &r2, out);
}

/* positional_encoding(S, d): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(..) */
static tl_status b_positional_encoding(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t S, D;
    tl_status st = tl_arg_int(c, argv, 0, &S);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &D);
    if (st != TL_OK) return st;
    tl_tensor *t;
    st = tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){S, D}, 0.0, &t);
    if (st != TL_OK) return st;
    float *p = tl_tensor_data(t);
    for (int64_t s = 0; s < S; s++)
        for (int64_t i = 0; i < D; i++) {
            double ang = (double)s / pow(10000.0, (double)(i - (i & 1)) / (double)D);
            p[s * D + i] = (float)((i & 1) ? cos(ang) : sin(ang));
        }
    *out = tl_value_tensor(t);
    return TL_OK;
}

/* ---- sampling ------------------------------------------------------------------------------ */

static tl_status b_sample(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *l;
    tl_status st = tl_arg_tensor(c, argv, 0, &l);
    if (st != TL_OK) return st;
    int64_t id = 0;
    tl_rng *rng = tl_random_global();
    if (c->op == NN_GREEDY) {
        st = tl_sample_greedy(l, &id);
    } else if (c->op == NN_TEMPERATURE) {
        double temp;
        st = tl_arg_double(c, argv, 1, &temp);
        if (st == TL_OK) st = tl_sample_temperature(l, (float)temp, rng, &id);
    } else {
        double p, temp = 1.0;
        st = tl_arg_double(c, argv, 1, &p);
        if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &temp);
        if (st != TL_OK) return st;
        if (c->op == NN_TOP_K) {
            if (p != floor(p)) return tl_fail(TL_ERR_ARG, "top_k_sample: k must be an integer");
            /* beyond int64: as many as there are; k <= 0 keeps every candidate (llama.cpp) */
            int64_t k = p >= 0x1p62 ? INT64_MAX : p <= -0x1p62 ? -1 : (int64_t)p;
            st = tl_sample_top_k(l, k, (float)temp, rng, &id);
        } else if (c->op == NN_TOP_P) {
            st = tl_sample_top_p(l, (float)p, (float)temp, rng, &id);
        } else {
            st = tl_sample_min_p(l, (float)p, (float)temp, rng, &id);
        }
    }
    if (st != TL_OK) return st;
    *out = tl_value_int(id);
    return TL_OK;
}

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }
#define DEF_OP(NAME, MIN, MAX, FN, SIG, MASK, OP)                                                  \
    { NAME, MIN, MAX, FN, SIG, MASK, OP }

const tl_builtin_def tl_builtins_nn[] = {
    DEF_OP("sigmoid", 1, 1, b_act, "sigmoid(x) -> tensor", T_ONLY, TL_UN_SIGMOID),
    DEF_OP("silu", 1, 1, b_act, "silu(x) -> tensor", T_ONLY, TL_UN_SILU),
    DEF_OP("swiglu", 2, 2, b_swiglu, "swiglu(g, u) -> tensor (silu(g) * u)", 0, 0),
    DEF_OP("gelu", 1, 1, b_act, "gelu(x) -> tensor", T_ONLY, TL_UN_GELU),
    DEF_OP("relu", 1, 1, b_act, "relu(x) -> tensor", T_ONLY, TL_UN_RELU),
    DEF("softmax", 1, 2, b_softmax, "softmax(x[, dim]) -> tensor", T_ONLY),
    DEF_OP("log_softmax", 1, 2, b_softmax, "log_softmax(x[, dim]) -> tensor", T_ONLY, NN_LOG),
    DEF("linear", 2, 3, b_linear, "linear(x, W[, b]) -> tensor", T_ONLY),
    DEF("linear_many", 2, 2, b_linear_many,
        "linear_many(x, [W1, W2, ...]) -> [tensor] (linear(x, Wi) each, one pass)", T_ONLY),
    DEF("rms_norm", 2, 3, b_rms_norm, "rms_norm(x, w[, eps]) -> tensor", T_ONLY),
    DEF("layer_norm", 1, 4, b_layer_norm, "layer_norm(x[, w[, b]][, eps]) -> tensor", T_ONLY),
    DEF("rope", 1, 4, b_rope,
        "rope(x[, offset | positions[, theta_base[, style]]]) or rope(x, cos, sin) -> tensor",
        T_ONLY),
    DEF("attention", 3, 7, b_attention,
        "attention(q, k, v[, causal[, scale[, pos_offset[, with_probs]]]]) -> tensor, or "
        "[out, probs, scores] with with_probs",
        T_ONLY),
    DEF("attention_apply", 2, 2, b_attention_apply,
        "attention_apply(probs [H, S, T], v [T, Hkv, D]) -> [S, H, D], attention's arithmetic",
        T_ONLY),
    DEF("embedding", 2, 2, b_embedding, "embedding(table, ids) -> tensor", T_ONLY),
    DEF("causal_mask", 1, 1, b_causal_mask, "causal_mask(S) -> tensor", 0),
    DEF("apply_attention_mask", 2, 2, b_apply_mask, "apply_attention_mask(scores, mask) -> tensor",
        T_ONLY),
    DEF("padding_mask", 2, 2, b_padding_mask, "padding_mask(lengths, max_len) -> tensor", 0),
    DEF("combine_masks", 2, 2, b_combine_masks, "combine_masks(a, b) -> tensor", 0),
    DEF_OP("fused_add_relu", 2, 2, b_fused, "fused_add_relu(a, b) -> tensor", 0, NN_ADD_RELU),
    DEF_OP("fused_mul_relu", 2, 2, b_fused, "fused_mul_relu(a, b) -> tensor", 0, NN_MUL_RELU),
    DEF_OP("fused_affine", 3, 3, b_fused, "fused_affine(x, s, b) -> tensor", 0, NN_AFFINE),
    DEF("positional_encoding", 2, 2, b_positional_encoding, "positional_encoding(S, d) -> tensor",
        0),
    DEF_OP("greedy_sample", 1, 1, b_sample, "greedy_sample(logits) -> int", T_ONLY, NN_GREEDY),
    DEF_OP("temperature_sample", 2, 2, b_sample, "temperature_sample(logits, T) -> int", T_ONLY,
           NN_TEMPERATURE),
    DEF_OP("top_k_sample", 2, 3, b_sample, "top_k_sample(logits, k[, T]) -> int", T_ONLY, NN_TOP_K),
    DEF_OP("top_p_sample", 2, 3, b_sample, "top_p_sample(logits, p[, T]) -> int", T_ONLY, NN_TOP_P),
    DEF_OP("min_p_sample", 2, 3, b_sample, "min_p_sample(logits, p[, T]) -> int", T_ONLY, NN_MIN_P),
    {0},
};
