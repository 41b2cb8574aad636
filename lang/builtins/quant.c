/* lang/builtins/quant.c -- quantize(t, "q4_0") and dequantize(t). */
#include "lang/builtin.h"
#include "runtime/quant.h"

static tl_status bi_quantize(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t, *q;
    const char *name;
    tl_dtype dt;
    tl_status s = tl_arg_tensor(c, argv, 0, &t);
    if (s == TL_OK) s = tl_arg_string(c, argv, 1, &name);
    if (s != TL_OK) return s;
    if (!tl_dtype_from_name(name, &dt))
        return tl_fail(TL_ERR_ARG,
                       "quantize: unknown type \"%s\" (e.g. \"q4_0\", \"q8_0\", "
                       "\"q4_k\", \"q6_k\", \"f16\")",
                       name);
    s = tl_tensor_quantize(t, dt, &q);
    if (s != TL_OK) return s;
    *out = tl_value_tensor(q);
    return TL_OK;
}

static tl_status bi_dequantize(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t, *f;
    tl_status s = tl_arg_tensor(c, argv, 0, &t);
    if (s != TL_OK) return s;
    s = tl_tensor_dequantize(t, &f);
    if (s != TL_OK) return s;
    *out = tl_value_tensor(f);
    return TL_OK;
}

const tl_builtin_def tl_builtins_quant[] = {
    {"quantize", 2, 2, bi_quantize, "quantize(t, type) -> tensor of that type (\"q4_0\", ...)", 0},
    {"dequantize", 1, 1, bi_dequantize, "dequantize(t) -> f32 tensor", 0},
    {0},
};
