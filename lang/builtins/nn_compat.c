/* lang/builtins/nn_compat.c -- the original interpreter's remaining NN
** builtins (docs/builtins.md): precompute_rope_cos/sin (for nn.c's rope(x,
** cos, sin)), attention_with_cache, batch_norm, dropout, apply_mask.  Thin
** glue over runtime/ops/compat.c. */
#include "lang/builtins/tensor_args.h"

#include "runtime/ops.h"
#include "runtime/random.h"

#include <string.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)

/* precompute_rope_cos(head_dim, max_seq[, base]), precompute_rope_sin(..) */
static tl_status b_rope_table(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    int64_t d, n;
    double base = 10000.0;
    tl_status st = tl_arg_int(c, argv, 0, &d);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &n);
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &base);
    if (st != TL_OK) return st;
    tl_tensor *r;
    bool sine = c->op == 1;
    return tlb_ret(tl_op_rope_table(d, n, (float)base, sine, &r), &r, out);
}

/* attention_with_cache(Q, Kc, Vc, W_o[, n_head[, rope_base]]) */
static tl_status b_attention_with_cache(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *t[4];
    int64_t n_head = 0;
    double base = 10000.0;
    tl_status st = TL_OK;
    for (int i = 0; st == TL_OK && i < 4; i++)
        st = tl_arg_tensor(c, argv, i, &t[i]);
    if (st == TL_OK && argc >= 5) st = tl_arg_int(c, argv, 4, &n_head);
    if (st == TL_OK && argc >= 5 && n_head <= 0)
        st = tl_fail(TL_ERR_ARG, "attention_with_cache: n_head must be > 0");
    if (st == TL_OK && argc >= 6) st = tl_arg_double(c, argv, 5, &base);
    if (st != TL_OK) return st;
    tl_tensor *r;
    return tlb_ret(tl_op_attention_with_cache(t[0], t[1], t[2], t[3], n_head, (float)base, &r), &r,
                   out);
}

/* batch_norm(x, mean, var, gamma, beta[, eps]); parameters may be numbers or arrays */
static tl_status b_batch_norm(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *p[4] = {NULL, NULL, NULL, NULL}, *r = NULL;
    double eps = 1e-5;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    for (int i = 0; st == TL_OK && i < 4; i++)
        st = tlb_tensor(c, argv, i + 1, &p[i]);
    if (st == TL_OK && argc >= 6) st = tl_arg_double(c, argv, 5, &eps);
    if (st == TL_OK && !(eps >= 0.0)) st = tl_fail(TL_ERR_ARG, "batch_norm: eps must be >= 0");
    if (st == TL_OK) st = tl_op_batch_norm(x, p[0], p[1], p[2], p[3], eps, &r);
    for (int i = 0; i < 4; i++)
        tl_tensor_unref(p[i]);
    return tlb_ret(st, &r, out);
}

/* dropout(x, p[, training]) */
static tl_status b_dropout(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *r;
    double p;
    bool training = false;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_double(c, argv, 1, &p);
    if (st == TL_OK && argc >= 3) st = tl_arg_bool(c, argv, 2, &training);
    if (st != TL_OK) return st;
    return tlb_ret(tl_op_dropout(x, p, training, tl_random_global(), &r), &r, out);
}

/* apply_mask(x, mask): x where mask != 0, else 0 */
static tl_status b_apply_mask(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *x, *m = NULL, *r = NULL;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &m);
    if (st == TL_OK) st = tl_op_apply_mask(x, m, &r);
    tl_tensor_unref(m);
    return tlb_ret(st, &r, out);
}

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }

const tl_builtin_def tl_builtins_nn_compat[] = {
    DEF("precompute_rope_cos", 2, 3, b_rope_table,
        "precompute_rope_cos(head_dim, max_seq[, base]) -> tensor", 0),
    {"precompute_rope_sin", 2, 3, b_rope_table,
     "precompute_rope_sin(head_dim, max_seq[, base]) -> tensor", 0, 1 /* op: sine */},
    DEF("attention_with_cache", 4, 6, b_attention_with_cache,
        "attention_with_cache(Q, Kc, Vc, W_o[, n_head[, rope_base]]) -> tensor", T_ONLY),
    DEF("batch_norm", 5, 6, b_batch_norm, "batch_norm(x, mean, var, gamma, beta[, eps]) -> tensor",
        T_ONLY),
    DEF("dropout", 2, 3, b_dropout, "dropout(x, p[, training]) -> tensor", T_ONLY),
    DEF("apply_mask", 2, 2, b_apply_mask, "apply_mask(x, mask) -> tensor", T_ONLY),
    {0},
};
