/* lang/builtin.h -- how builtin functions are declared and registered.
**
** A builtin is a C function that takes borrowed argument values and writes an
** owned result.  It reports failure by returning a status set with tl_fail();
** the evaluator adds the call's source position and the builtin's name, so
** messages read "linear: shapes [1, 64] and [32, 48] do not fit".
**
** Each area of builtins (core, tensor, nn, model, tokenizer, io, ...) lives in
** lang/builtins/<area>.c and exports one table:
**     const tl_builtin_def tl_builtins_<area>[] = { {...}, ..., {0} };
** terminated by an entry with name == NULL.  lang/builtin.c lists the tables.
** Namespaced builtins use their full name: "f16::zeros", "Tensor::create_cache".
**
** Overloading: several tables may define the same name (e.g. `abs` for numbers
** in core.c and for tensors in tensor.c).  A call picks the def of its name by
** the def's explicit fields, never by trying one def after another:
**   - arity: argc must lie in [min_args, max_args] (max_args -1: no limit);
**   - first_arg: a non-zero mask of TL_KIND_BIT(kind) the first argument's kind
**     must be in (0 matches any);
**   - some_arg: a non-zero mask at least one argument's kind must be in (the
**     tensor forms of the binary ops: `add(2, t)` but not `add(2, 3)`).
** tl_builtin_resolve() returns the def that matches all three; when several do,
** the one in the earliest table (lang/builtin.c lists them), which the unit test
** test_builtin_overloads checks never happens between defs of equal masks.
** When none matches on arity, the first def whose masks match is returned, so
** the call fails with that def's "takes N arguments" error naming the builtin.
** A def never hands a call to another def of its name. */
#ifndef TL_LANG_BUILTIN_H
#define TL_LANG_BUILTIN_H

#include "lang/value.h"

typedef struct tl_interp tl_interp; /* the interpreter (lang/eval.h) */

/* What a builtin may ask of the interpreter that calls it. */
typedef struct tl_call {
    tl_interp *interp;
    const char *name; /* the builtin being called */
    int op;           /* its def's op (below) */
    /* Tensors tl_arg_tensor made from numeric arrays (tl_builtin_call sets
    ** arrays_ok and frees them after the call; other callers leave it false). */
    bool arrays_ok;
    int n_scratch;
    tl_tensor *scratch[6];
} tl_call;

typedef tl_status (*tl_builtin_fn)(tl_call *call, int argc, const tl_value *argv, tl_value *out);

struct tl_builtin_def {
    const char *name;
    int min_args;
    int max_args; /* -1: variadic */
    tl_builtin_fn fn;
    const char *signature; /* e.g. "linear(x, W[, b]) -> tensor" (for errors and :help) */
    uint32_t first_arg;    /* 0 = any; else a mask of TL_KIND_BIT(kind) the first arg must match */
    /* Which operation, for defs that share one fn (sigmoid/silu/gelu/relu, the
    ** binary ops, the samplers, ...): the fn reads call->op instead of comparing
    ** names.  Every def of such a fn sets it; others leave it 0.  (Fields are only
    ** ever added at the end, so positional tables keep compiling.) */
    int op;
    uint32_t some_arg; /* 0 = any; else one argument's kind must be in this mask */
};

#define TL_KIND_BIT(kind) (1u << (kind))

/* Finds a builtin by (possibly namespaced) name across all tables; NULL if none.
** With overloads this is the first def of that name (use it to ask "is this a builtin?"). */
const tl_builtin_def *tl_builtin_find(const char *name);

/* The def of that name that accepts these arguments (see Overloading), or NULL when
** no def of the name matches (then tl_builtin_find tells whether the name exists). */
const tl_builtin_def *tl_builtin_resolve(const char *name, int argc, const tl_value *argv);

/* Calls fn after checking the argument count (the error names the signature). */
tl_status tl_builtin_call(const tl_builtin_def *def, tl_interp *interp, int argc,
                          const tl_value *argv, tl_value *out);

/* Iterates every builtin (for completion and docs); returns NULL past the end. */
const tl_builtin_def *tl_builtin_at(size_t index);

/* ---- argument helpers for builtin implementations (fail with clear messages) */
/* v as a tensor where a tensor is expected (new reference): a tensor, a numeric
** (nested) array as tensor literals convert, or a model view with a `weight`
** (model.blk.0.attn_q); false (no error left) for anything else. */
bool tl_coerce_tensor(const tl_value *v, tl_tensor **out);
/* A numeric (nested) array is converted to a tensor (as tensor literals are)
** (tl_coerce_tensor) when the call came through tl_builtin_call; it lives until
** the call returns. */
tl_status tl_arg_tensor(const tl_call *c, const tl_value *argv, int i,
                        tl_tensor **out); /* borrowed */
tl_status tl_arg_int(const tl_call *c, const tl_value *argv, int i, int64_t *out);
tl_status tl_arg_double(const tl_call *c, const tl_value *argv, int i, double *out);
tl_status tl_arg_bool(const tl_call *c, const tl_value *argv, int i, bool *out);
tl_status tl_arg_string(const tl_call *c, const tl_value *argv, int i, const char **out);
/* A string naming a file: a NUL byte in it is an error (the C path would stop there). */
tl_status tl_arg_path(const tl_call *c, const tl_value *argv, int i, const char **out);
/* A shape: an int array, a float array (truncated), or a 1-D tensor; NumPy order. */
tl_status tl_arg_shape(const tl_call *c, const tl_value *argv, int i, int64_t *shape, int *n_dims);
/* The same, for reshape: one element may be -1 and is inferred so the shape holds numel
** elements; a second -1, or a numel the other sizes do not divide, is a TL_ERR_SHAPE. */
tl_status tl_arg_shape_infer(const tl_call *c, const tl_value *argv, int i, int64_t numel,
                             int64_t *shape, int *n_dims);

#endif
