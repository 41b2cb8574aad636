/* lang/builtins/lens.c -- the top-k logit lens over many residuals at once:
**   lens_topk([h0, h1, ...], norm_w, out_w, eps, k) -> [probs, ids]
** every hi [S, d]; probs f32 and ids i64, both [n, S, k]: per row the k most
** likely tokens of softmax(linear(rms_norm(hi, norm_w, eps), out_w)), the same
** bits as those builtins followed by topk (runtime/ops/lens.c). */
#include "lang/builtin.h"
#include "lang/builtins/tensor_args.h"
#include "runtime/ops.h"

#include <stdlib.h>

static tl_status b_lens_topk(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    if (argv[0].kind != TL_VAL_ARRAY || argv[0].as.arr->len == 0 || argv[0].as.arr->len > 1 << 16)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a non-empty array of [S, d] tensors",
                       c->name);
    const tl_array *a = argv[0].as.arr;
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].kind != TL_VAL_TENSOR)
            return tl_fail(TL_ERR_TYPE, "%s: residual %zu must be a tensor, got %s", c->name, i + 1,
                           tl_value_type_name(&a->items[i]));
    tl_tensor *norm_w, *out_w;
    double eps;
    int64_t k;
    tl_status st = tl_arg_tensor(c, argv, 1, &norm_w);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 2, &out_w);
    if (st == TL_OK) st = tl_arg_double(c, argv, 3, &eps);
    if (st == TL_OK) st = tl_arg_int(c, argv, 4, &k);
    if (st != TL_OK) return st;
    const tl_tensor **h = malloc(a->len * sizeof *h);
    tl_tensor **parts = calloc(2, sizeof *parts);
    if (!h || !parts) {
        free(h);
        free(parts);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->len; i++)
        h[i] = a->items[i].as.tensor;
    st = tl_op_lens_topk(h, (int)a->len, norm_w, (float)eps, out_w, k, &parts[0], &parts[1]);
    free(h);
    if (st != TL_OK) free(parts);
    return tlb_parts_value(st, parts, 2, out);
}

const tl_builtin_def tl_builtins_lens[] = {
    {"lens_topk", 5, 5, b_lens_topk,
     "lens_topk([h...], norm_w, out_w, eps, k) -> [probs, ids] (each [n, S, k]; the top-k lens)",
     0},
    {NULL, 0, 0, NULL, NULL, 0},
};
