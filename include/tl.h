/* include/tl.h -- the public C API for embedding tl (libtl.so).
**
** A tl_vm is one interpreter: its globals, functions and loaded files persist
** across tl_vm_eval() calls.  A tl_val is a handle to one .tl value (an int, a
** float, a string, an array, a tensor, ...).  Every function that can fail
** returns 0 on success and a non-zero error code otherwise; then
** tl_vm_error() has the full message (with the source line and a caret) and
** tl_vm_last_error() its parts (message, file, line, column).
**
**     tl_vm *vm = tl_vm_new();
**     tl_val *r = tl_val_new();
**     if (tl_vm_eval(vm, "main { let x = 6 * 7\n x }", r) != 0)
**         fprintf(stderr, "%s", tl_vm_error(vm));
**     int64_t x;
**     tl_val_get_int(r, &x);           // 42
**     tl_val_free(r);
**     tl_vm_free(vm);
**
** Ownership: a tl_val from tl_val_new() is yours (tl_val_free()).  Values the
** API stores into it (results, globals) are copies or new references, so the
** handle stays valid after the vm changes the global.  Tensors are shared, not
** copied: a tensor read with tl_vm_get() is the same tensor the script sees.
** In a C function registered with tl_vm_register(), `argv` values are
** borrowed (valid during the call) and `result` is the slot to fill.
**
** Threads: a tl_vm is used by one thread at a time; different vms may run on
** different threads at once (each has its own seed, precision, thread count
** and output).  Error messages are kept per vm and per thread.  See docs/ffi.md. */
#ifndef TL_H
#define TL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_API_VERSION 2
/* Tensors have at most this many dims. */
#define TL_API_MAX_DIMS 8

typedef struct tl_vm tl_vm;
typedef struct tl_val tl_val;

typedef enum tl_type {
    TL_TYPE_VOID = 0,
    TL_TYPE_INT,   /* int64                                    */
    TL_TYPE_FLOAT, /* double                                   */
    TL_TYPE_BOOL,
    TL_TYPE_STRING, /* UTF-8 bytes                              */
    TL_TYPE_ARRAY,
    TL_TYPE_TENSOR,
    TL_TYPE_FUNCTION, /* a .tl fn, a builtin, an extern fn, ... */
    TL_TYPE_OTHER,    /* a struct, a model, a tokenizer, ...     */
} tl_type;

/* ---- interpreters ----------------------------------------------------- */

tl_vm *tl_vm_new(void); /* NULL when out of memory */
void tl_vm_free(tl_vm *vm);

/* Limits for scripts run by this vm: call depth (default 1000) and executed
** statements per eval or call (0, the default: unlimited).  A script that
** exceeds one stops with an error. */
void tl_vm_set_max_depth(tl_vm *vm, int depth);
void tl_vm_set_max_steps(tl_vm *vm, int64_t steps);

/* Per-vm runtime settings: each vm has its own, so vms on different threads
** never change each other's results.
**   threads: how many threads this vm's tensor ops use (1..256), or 0 for the
**     process default (TL_THREADS, else the number of cores).  Results are
**     the same for any thread count.
**   seed: reseeds this vm's random generator (rand, randn, dropout, sampling);
**     unseeded, a vm starts from TL_SEED (else 0x5eed), like `tl run`.
**   precision: "llama" (the default), "llama_row" or "exact", as the
**     set_precision builtin (docs/builtins.md). */
int tl_vm_set_threads(tl_vm *vm, int threads);
void tl_vm_set_seed(tl_vm *vm, uint64_t seed);
int tl_vm_set_precision(tl_vm *vm, const char *mode);

/* Where the vm's print, write and input prompts go: fn(user, bytes, len) for
** each piece of output (not NUL-terminated), or stdout when fn is NULL (the
** default).  fn runs on the thread that runs the script. */
typedef void (*tl_output_callback)(void *user, const char *data, size_t len);
void tl_vm_set_output(tl_vm *vm, tl_output_callback fn, void *user);

/* Runs a chunk of .tl source: its declarations (fn, struct, impl, extern,
** tensor, import) are registered and its `main { }` blocks run in the global
** scope, so `main { let x = 1 }` defines x for later calls.  result
** (optional) gets the value of the last expression statement of the last
** main block, else void.  name (optional) names the source in messages;
** tl_vm_eval uses "<eval>". */
int tl_vm_eval(tl_vm *vm, const char *src, tl_val *result);
/* len: bytes of src, or (size_t)-1 when src is NUL-terminated. */
int tl_vm_eval_named(tl_vm *vm, const char *src, size_t len, const char *name, tl_val *result);
/* Loads a .tl file and runs its main block, like `tl run FILE`. */
int tl_vm_eval_file(tl_vm *vm, const char *path);

/* Calls the function held by global `name` (a .tl fn, a builtin, an extern
** or registered C function).  argv borrowed; result optional. */
int tl_vm_call(tl_vm *vm, const char *name, int argc, const tl_val *const *argv, tl_val *result);

/* ---- errors -------------------------------------------------------------- */

typedef struct tl_error_info {
    const char *message; /* one line, e.g. "division by zero" */
    const char *file;    /* source name ("<eval>", a path), or "" */
    int line, col;       /* 1-based; 0 when the error has no position */
    const char *text;    /* the full text tl_vm_error() returns */
} tl_error_info;

/* The full text of the last error ("" when none). */
const char *tl_vm_error(const tl_vm *vm);
/* Fills *info (strings valid until the next call on vm); returns 1 when there
** is an error, 0 (and an empty info) when not. */
int tl_vm_last_error(tl_vm *vm, tl_error_info *info);
void tl_vm_clear_error(tl_vm *vm);

/* ---- globals ------------------------------------------------------------ */

/* out gets (a reference to) global `name`; fails when undefined. */
int tl_vm_get(tl_vm *vm, const char *name, tl_val *out);
/* Defines or replaces global `name` (v is copied / referenced). */
int tl_vm_set(tl_vm *vm, const char *name, const tl_val *v);
/* Shortcuts for the common cases. */
int tl_vm_set_int(tl_vm *vm, const char *name, int64_t x);
int tl_vm_set_float(tl_vm *vm, const char *name, double x);
int tl_vm_set_string(tl_vm *vm, const char *name, const char *s);
int tl_vm_get_int(tl_vm *vm, const char *name, int64_t *out);
int tl_vm_get_float(tl_vm *vm, const char *name, double *out); /* int or float */
/* A new float32 tensor of the given (outermost-first) shape, copied from data. */
int tl_vm_set_tensor_f32(tl_vm *vm, const char *name, const float *data, int ndim,
                         const int64_t *shape);
/* Copies global tensor `name` (any float or int dtype) as float32 into
** data[0..cap); *n (optional) gets the element count.  Fails when cap is too
** small. */
int tl_vm_get_tensor_f32(tl_vm *vm, const char *name, float *data, size_t cap, size_t *n);

/* ---- C functions as builtins ------------------------------------------ */

/* Fill *result (tl_val_set_*) and return 0, or return tl_vm_fail(vm, ...). */
typedef int (*tl_cfunction)(tl_vm *vm, int argc, const tl_val *const *argv, tl_val *result,
                            void *user);
/* Binds global `name` to fn; calls check min_args <= argc <= max_args
** (max_args -1: no limit) before fn runs.  Replaces an existing global. */
int tl_vm_register(tl_vm *vm, const char *name, tl_cfunction fn, int min_args, int max_args,
                   void *user);
/* From inside a tl_cfunction: records the message (printf-style) and returns
** the error code to return.  The script's error then points at the call. */
int tl_vm_fail(tl_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- values --------------------------------------------------------------- */

tl_val *tl_val_new(void); /* holds void; NULL when out of memory */
void tl_val_free(tl_val *v);
tl_type tl_val_type(const tl_val *v);
const char *tl_val_type_name(const tl_val *v); /* "int", "tensor", "Model", ... */
/* Makes dst refer to the same value as src. */
int tl_val_copy(tl_val *dst, const tl_val *src);

/* Readers: fail (non-zero, nothing written) when the value has another type. */
int tl_val_get_int(const tl_val *v, int64_t *out);
int tl_val_get_float(const tl_val *v, double *out); /* int or float */
int tl_val_get_bool(const tl_val *v, int *out);
/* *s points into the value (valid while it lives), NUL-terminated; len optional. */
int tl_val_get_string(const tl_val *v, const char **s, size_t *len);
int tl_val_array_len(const tl_val *v, size_t *len);
int tl_val_array_get(const tl_val *v, size_t i, tl_val *out);
/* Shape outermost first (shape has room for TL_API_MAX_DIMS); dtype e.g. "f32". */
int tl_val_tensor_info(const tl_val *v, int *ndim, int64_t *shape, const char **dtype);
/* Copies the tensor's elements as float32 (dtype converted) into data[0..cap). */
int tl_val_tensor_to_f32(const tl_val *v, float *data, size_t cap, size_t *n);
/* The tensor's own memory, not a copy: *data points at element [0, ..., 0],
** strides[i] is the byte step along dim i (outermost first, as shape; 0 where
** broadcast).  Valid while a value holds the tensor (e.g. until v changes or
** is freed); read-only when the tensor is a memory-mapped model weight.
** Fails for block-quantized dtypes (q4_0, ...), which have no per-element
** address.  For NumPy and other zero-copy consumers (python/tl). */
int tl_val_tensor_data(const tl_val *v, void **data, int *ndim, int64_t *shape, int64_t *strides,
                       const char **dtype);

/* Writers: replace what v held. */
void tl_val_set_void(tl_val *v);
void tl_val_set_int(tl_val *v, int64_t x);
void tl_val_set_float(tl_val *v, double x);
void tl_val_set_bool(tl_val *v, int b);
int tl_val_set_string(tl_val *v, const char *s, size_t len); /* bytes are copied */
int tl_val_set_cstring(tl_val *v, const char *s);
int tl_val_set_tensor_f32(tl_val *v, const float *data, int ndim, const int64_t *shape);
/* An empty array; then tl_val_array_push() appends copies. */
int tl_val_set_array(tl_val *v);
int tl_val_array_push(tl_val *array, const tl_val *item);

#ifdef __cplusplus
}
#endif

#endif
