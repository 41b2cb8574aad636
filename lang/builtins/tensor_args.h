/* lang/builtins/tensor_args.h -- argument conversion shared by the tensor and
** nn builtin glue (lang/builtins/tensor.c, nn.c).
**
** tl_value_to_tensor() turns a tensor value, a number, a bool, or a
** (nested, rectangular) array of numbers into a tensor: all-int arrays give
** i64, anything with a float gives f32, bools give bool.  The lang side may use
** it for tensor literals too. */
#ifndef TL_LANG_BUILTINS_TENSOR_ARGS_H
#define TL_LANG_BUILTINS_TENSOR_ARGS_H

#include "lang/builtin.h"

/* A new reference (a tensor value is retained, not copied). */
tl_status tl_value_to_tensor(const tl_value *v, tl_tensor **out);

/* argv[i] as a tensor (new reference), naming the builtin and argument in errors. */
tl_status tlb_tensor(const tl_call *c, const tl_value *argv, int i, tl_tensor **out);

/* An axis argument (int). */
tl_status tlb_axis(const tl_call *c, const tl_value *argv, int i, int *axis);

/* Wraps an op's result: on success *out takes over *t; on failure *t is
** dropped.  (A pointer, so `tlb_ret(op(.., &r), &r, out)` reads r after op.) */
tl_status tlb_ret(tl_status st, tl_tensor **t, tl_value *out);

/* The single element of t as an int or float value (int for integer dtypes). */
tl_status tlb_scalar_value(const tl_tensor *t, tl_value *out);

/* An array value holding parts[0..n) (takes the references, frees the parts array);
** returns st unchanged when it is not TL_OK. */
tl_status tlb_parts_value(tl_status st, tl_tensor **parts, int n, tl_value *out);

/* argv[0] as a borrowed tensor (the defs below require a tensor first argument). */
#define FIRST_TENSOR(name)                                                                         \
    tl_tensor *name;                                                                               \
    do {                                                                                           \
        tl_status st_ = tl_arg_tensor(c, argv, 0, &name);                                          \
        if (st_ != TL_OK) return st_;                                                              \
    } while (0)

#endif
