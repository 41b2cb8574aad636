/* lang/ffi.h -- calling C from .tl, and C callbacks as .tl function values.
**
** This module owns two kinds of callable host objects:
**
**   ExternFn  one function of an `extern "lib" { fn name(a: T, ...) -> R }`
**             declaration.  The library is opened (dlopen) and the symbol
**             resolved (dlsym) at the first call; the call itself goes through
**             libffi (ffi_prep_cif / ffi_prep_cif_var + ffi_call).  Arguments
**             are checked against the declared signature before anything is
**             called; errors name the library, the symbol and the signature.
**   HostFn    a C function registered by an embedding program (include/tl.h,
**             lang/embed.c) under a global name.
**
** Both are ordinary values (TL_VAL_OBJECT): an extern declaration binds each
** of its functions as a global variable, so `cos(1.0)` finds it by name and
** `let f = cos` passes it around.  The evaluator calls them through
** tl_ffi_is_callable()/tl_ffi_call() (lang/eval_call.c).
**
** C types: i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool string ptr void, and
** tensors written float32[...] / float16[...] / int32[...] (or Tensor for any
** of the three), passed as a pointer to their contiguous, privately owned
** storage so C can read or fill them in place.  See docs/ffi.md. */
#ifndef TL_LANG_FFI_H
#define TL_LANG_FFI_H

#include "lang/ast.h"
#include "lang/value.h"

#include <stdbool.h>

typedef struct tl_interp tl_interp;

/* Binds every function of a TL_D_EXTERN declaration as a global of I.  Fails
** (with a message) on an unknown or misplaced C type. Opens nothing yet. */
tl_status tl_ffi_declare(tl_interp *I, const tl_node *decl);

/* Is v an ExternFn or a HostFn? */
bool tl_ffi_is_callable(const tl_value *v);

/* Calls an ExternFn or HostFn: argv borrowed, *out owned (void on failure). */
tl_status tl_ffi_call(tl_interp *I, const tl_value *callee, int argc, const tl_value *argv,
                      tl_value *out);

/* A C callback as a callable value.  fn gets the interpreter, `user`, the
** borrowed arguments, and writes an owned result; it fails with tl_fail().
** The argument count is checked first (max_args -1: any number). */
typedef tl_status (*tl_host_fn)(tl_interp *I, void *user, int argc, const tl_value *argv,
                                tl_value *out);
tl_status tl_ffi_host_function(const char *name, tl_host_fn fn, void *user, int min_args,
                               int max_args, tl_value *out);

/* The C-style signature of an ExternFn, e.g. `cos(x: f64) -> f64`, or the name
** of a HostFn; NULL for other values. */
const char *tl_ffi_signature(const tl_value *v);

#endif
