/* lang/embed.c -- the public embedding API (include/tl.h) over lang/eval.h.
**
** A tl_vm wraps a tl_interp plus the error text the API shows.  A tl_val is a
** struct holding one tl_value, so a borrowed `const tl_value *` (a builtin's
** argument) converts to a `const tl_val *` without copying.  Registered C
** functions are HostFn values (lang/ffi.h) whose user data is a reg record
** owned by the vm. */
#include "include/tl.h"

#include "lang/eval_internal.h" /* tl_find_fn: a named fn as a value */
#include "lang/ffi.h"
#include "lang/strbuf.h"
#include "runtime/context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_val {
    tl_value v;
};

typedef struct reg {
    struct reg *next;
    tl_vm *vm;
    tl_cfunction fn;
    void *user;
} reg;

struct tl_vm {
    tl_interp *I;
    tl_strbuf err;   /* the full text of the last error ("" none) */
    tl_strbuf parts; /* message \0 file \0 for tl_vm_last_error */
    reg *regs;
};

_Static_assert(TL_API_MAX_DIMS == TL_MAX_DIMS, "include/tl.h and runtime/tensor.h agree");

/* ------------------------------------------------------------------ errors */

static int api_status(tl_status st) {
    return st == TL_OK ? 0 : (int)st;
}

/* After an interpreter call: keep its error text (or the runtime message). */
static int from_interp(tl_vm *vm, tl_status st) {
    tl_strbuf_reset(&vm->err);
    if (st == TL_OK) return 0;
    const char *text = tl_interp_error(vm->I);
    if (!text[0]) text = tl_last_error();
    if (!text[0]) text = tl_status_name(st);
    tl_strbuf_puts(&vm->err, text);
    if (vm->err.len && vm->err.data[vm->err.len - 1] != '\n') tl_strbuf_putc(&vm->err, '\n');
    tl_interp_clear_error(vm->I);
    return api_status(st);
}

/* An API-level failure (no source position). */
static int api_fail(tl_vm *vm, tl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int api_fail(tl_vm *vm, tl_status st, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tl_fail(st, "%s", msg);
    tl_strbuf_reset(&vm->err);
    tl_strbuf_printf(&vm->err, "error: %s\n", msg);
    return api_status(st);
}

const char *tl_vm_error(const tl_vm *vm) {
    return vm && vm->err.data ? vm->err.data : "";
}

void tl_vm_clear_error(tl_vm *vm) {
    tl_strbuf_reset(&vm->err);
    tl_interp_clear_error(vm->I);
}

/* Parses the first line "file:line:col: error: message" (or "error: message"). */
int tl_vm_last_error(tl_vm *vm, tl_error_info *info) {
    memset(info, 0, sizeof *info);
    info->message = info->file = info->text = "";
    if (!vm->err.len) return 0;
    const char *text = tl_strbuf_cstr(&vm->err);
    info->text = text;
    const char *eol = strchr(text, '\n');
    size_t first = eol ? (size_t)(eol - text) : strlen(text);
    const char *tag = NULL;
    for (const char *p = text; p + 9 <= text + first; p++)
        if (memcmp(p, ": error: ", 9) == 0) {
            tag = p;
            break;
        }
    tl_strbuf_reset(&vm->parts);
    size_t msg_at = 0, file_at;
    if (tag) {
        const char *msg = tag + 9;
        tl_strbuf_append(&vm->parts, msg, first - (size_t)(msg - text));
        tl_strbuf_putc(&vm->parts, '\0');
        file_at = vm->parts.len;
        /* text..tag = "file:line:col"; numbers from the right */
        const char *c2 = tag;
        while (c2 > text && c2[-1] != ':')
            c2--;
        const char *c1 = c2 > text ? c2 - 1 : text;
        while (c1 > text && c1[-1] != ':')
            c1--;
        if (c2 > text && c1 > text) {
            info->col = atoi(c2);
            info->line = atoi(c1);
            tl_strbuf_append(&vm->parts, text, (size_t)(c1 - 1 - text));
        } else {
            tl_strbuf_append(&vm->parts, text, (size_t)(tag - text));
        }
    } else {
        const char *msg = strncmp(text, "error: ", 7) == 0 ? text + 7 : text;
        tl_strbuf_append(&vm->parts, msg, first - (size_t)(msg - text));
        tl_strbuf_putc(&vm->parts, '\0');
        file_at = vm->parts.len;
    }
    tl_strbuf_putc(&vm->parts, '\0');
    const char *base = tl_strbuf_cstr(&vm->parts);
    info->message = base + msg_at;
    info->file = base + file_at;
    return 1;
}

int tl_vm_fail(tl_vm *vm, const char *fmt, ...) {
    (void)vm;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return api_status(tl_fail(TL_ERR_ARG, "%s", msg));
}

/* ------------------------------------------------------------------ interpreters */

tl_vm *tl_vm_new(void) {
    tl_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    vm->I = tl_interp_new();
    if (!vm->I) {
        free(vm);
        return NULL;
    }
    return vm;
}

void tl_vm_free(tl_vm *vm) {
    if (!vm) return;
    tl_interp_free(vm->I);
    while (vm->regs) {
        reg *r = vm->regs;
        vm->regs = r->next;
        free(r);
    }
    tl_strbuf_free(&vm->err);
    tl_strbuf_free(&vm->parts);
    free(vm);
}

void tl_vm_set_max_depth(tl_vm *vm, int depth) {
    tl_interp_set_max_depth(vm->I, depth);
}

void tl_vm_set_max_steps(tl_vm *vm, int64_t steps) {
    tl_interp_set_max_steps(vm->I, steps);
}

int tl_vm_set_threads(tl_vm *vm, int threads) {
    if (threads < 0 || threads > TL_MAX_THREADS)
        return api_fail(vm, TL_ERR_ARG, "tl_vm_set_threads: %d is out of range (1..%d, 0: default)",
                        threads, TL_MAX_THREADS);
    return api_status(tl_context_set_threads(tl_interp_context(vm->I), threads));
}

void tl_vm_set_seed(tl_vm *vm, uint64_t seed) {
    tl_context *c = tl_interp_context(vm->I);
    tl_rng_seed(&c->rng, seed);
    c->rng_seeded = true;
}

int tl_vm_set_precision(tl_vm *vm, const char *mode) {
    static const struct {
        const char *name;
        tl_precision p;
    } modes[] = {{"llama", TL_PRECISION_LLAMA},
                 {"llama_row", TL_PRECISION_LLAMA_ROW},
                 {"exact", TL_PRECISION_EXACT}};
    for (size_t i = 0; mode && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0) {
            tl_interp_context(vm->I)->precision = modes[i].p;
            return 0;
        }
    return api_fail(vm, TL_ERR_ARG,
                    "tl_vm_set_precision: \"%s\" is not \"llama\", \"llama_row\" or \"exact\"",
                    mode ? mode : "(null)");
}

void tl_vm_set_output(tl_vm *vm, tl_output_callback fn, void *user) {
    tl_interp_set_output(vm->I, fn, user);
}

int tl_vm_eval_named(tl_vm *vm, const char *src, size_t len, const char *name, tl_val *result) {
    if (!src) return api_fail(vm, TL_ERR_ARG, "tl_vm_eval: no source text");
    if (len == (size_t)-1) len = strlen(src);
    tl_value r = TL_VOID;
    tl_status st = tl_interp_eval_string(vm->I, src, len, name ? name : "<eval>", &r);
    if (result) {
        tl_value_release(&result->v);
        result->v = r;
    } else {
        tl_value_release(&r);
    }
    return from_interp(vm, st);
}

int tl_vm_eval(tl_vm *vm, const char *src, tl_val *result) {
    return tl_vm_eval_named(vm, src, src ? strlen(src) : 0, NULL, result);
}

int tl_vm_eval_file(tl_vm *vm, const char *path) {
    if (!path) return api_fail(vm, TL_ERR_ARG, "tl_vm_eval_file: no path");
    return from_interp(vm, tl_interp_eval_file(vm->I, path));
}

#define MAX_CALL_ARGS 64

static bool lookup(tl_vm *vm, const char *name, tl_value *out);

int tl_vm_call(tl_vm *vm, const char *name, int argc, const tl_val *const *argv, tl_val *result) {
    if (argc < 0 || argc > MAX_CALL_ARGS || (argc && !argv))
        return api_fail(vm, TL_ERR_ARG, "tl_vm_call: bad argument count %d", argc);
    tl_value fn;
    if (!name || !lookup(vm, name, &fn))
        return api_fail(vm, TL_ERR_ARG, "tl_vm_call: no global named '%s'", name);
    tl_value args[MAX_CALL_ARGS];
    for (int i = 0; i < argc; i++)
        args[i] = argv[i]->v;
    tl_value r = TL_VOID;
    tl_status st = tl_interp_call(vm->I, &fn, argc, args, &r);
    tl_value_release(&fn);
    if (result && st == TL_OK) {
        tl_value_release(&result->v);
        result->v = r;
    } else {
        tl_value_release(&r);
    }
    return from_interp(vm, st);
}

/* ------------------------------------------------------------------ globals */

/* What a name means in the global scope: a variable, then a fn, then a builtin. */
static bool lookup(tl_vm *vm, const char *name, tl_value *out) {
    if (tl_interp_get_global(vm->I, name, out) == TL_OK) return true;
    const tl_node *fn = tl_find_fn(vm->I, name);
    if (fn) {
        tl_function *f = calloc(1, sizeof *f);
        if (!f) return false;
        f->refcount = 1;
        f->decl = fn;
        *out = (tl_value){.kind = TL_VAL_FUNC, .as.fn = f};
        return true;
    }
    const tl_builtin_def *b = tl_builtin_find(name);
    if (b) {
        *out = (tl_value){.kind = TL_VAL_BUILTIN, .as.builtin = b};
        return true;
    }
    return false;
}

int tl_vm_get(tl_vm *vm, const char *name, tl_val *out) {
    tl_value v;
    if (!name || !lookup(vm, name, &v))
        return api_fail(vm, TL_ERR_ARG, "no global named '%s'", name ? name : "(null)");
    tl_value_release(&out->v);
    out->v = v;
    tl_strbuf_reset(&vm->err);
    return 0;
}

int tl_vm_set(tl_vm *vm, const char *name, const tl_val *v) {
    if (!name || !name[0]) return api_fail(vm, TL_ERR_ARG, "tl_vm_set: no name");
    tl_status st = tl_interp_set_global(vm->I, name, &v->v);
    if (st != TL_OK) return api_fail(vm, st, "%s", tl_last_error());
    tl_strbuf_reset(&vm->err);
    return 0;
}

static int set_owned(tl_vm *vm, const char *name, tl_value v) {
    tl_val tmp = {v};
    int rc = tl_vm_set(vm, name, &tmp);
    tl_value_release(&tmp.v);
    return rc;
}

int tl_vm_set_int(tl_vm *vm, const char *name, int64_t x) {
    return set_owned(vm, name, tl_value_int(x));
}

int tl_vm_set_float(tl_vm *vm, const char *name, double x) {
    return set_owned(vm, name, tl_value_float(x));
}

int tl_vm_set_string(tl_vm *vm, const char *name, const char *s) {
    tl_value v;
    if (!s) return api_fail(vm, TL_ERR_ARG, "tl_vm_set_string: NULL string");
    if (tl_value_cstring(s, &v) != TL_OK) return api_fail(vm, TL_ERR_NOMEM, "out of memory");
    return set_owned(vm, name, v);
}

static int get_then(tl_vm *vm, const char *name, tl_val *tmp) {
    tmp->v = TL_VOID;
    return tl_vm_get(vm, name, tmp);
}

int tl_vm_get_int(tl_vm *vm, const char *name, int64_t *out) {
    tl_val tmp;
    int rc = get_then(vm, name, &tmp);
    if (rc == 0 && tl_val_get_int(&tmp, out) != 0)
        rc = api_fail(vm, TL_ERR_TYPE, "global '%s' holds %s %s, not an int", name,
                      tl_value_type_article(&tmp.v), tl_value_type_name(&tmp.v));
    tl_value_release(&tmp.v);
    return rc;
}

int tl_vm_get_float(tl_vm *vm, const char *name, double *out) {
    tl_val tmp;
    int rc = get_then(vm, name, &tmp);
    if (rc == 0 && tl_val_get_float(&tmp, out) != 0)
        rc = api_fail(vm, TL_ERR_TYPE, "global '%s' holds %s %s, not a number", name,
                      tl_value_type_article(&tmp.v), tl_value_type_name(&tmp.v));
    tl_value_release(&tmp.v);
    return rc;
}

int tl_vm_set_tensor_f32(tl_vm *vm, const char *name, const float *data, int ndim,
                         const int64_t *shape) {
    tl_val tmp = {TL_VOID};
    if (tl_val_set_tensor_f32(&tmp, data, ndim, shape) != 0)
        return api_fail(vm, TL_ERR_ARG, "tl_vm_set_tensor_f32: %s", tl_last_error());
    int rc = tl_vm_set(vm, name, &tmp);
    tl_value_release(&tmp.v);
    return rc;
}

int tl_vm_get_tensor_f32(tl_vm *vm, const char *name, float *data, size_t cap, size_t *n) {
    tl_val tmp;
    int rc = get_then(vm, name, &tmp);
    if (rc == 0 && tl_val_tensor_to_f32(&tmp, data, cap, n) != 0)
        rc = api_fail(vm, TL_ERR_TYPE, "global '%s': %s", name, tl_last_error());
    tl_value_release(&tmp.v);
    return rc;
}

/* ------------------------------------------------------------------ C functions */

static tl_status call_registered(tl_interp *I, void *user, int argc, const tl_value *argv,
                                 tl_value *out) {
    (void)I;
    reg *r = user;
    const tl_val *small[16];
    const tl_val **ptrs = argc <= 16 ? small : malloc((size_t)argc * sizeof *ptrs);
    if (!ptrs) return tl_fail(TL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < argc; i++)
        ptrs[i] = (const tl_val *)&argv[i];
    tl_clear_error();
    int rc = r->fn(r->vm, argc, ptrs, (tl_val *)out, r->user);
    if (ptrs != small) free(ptrs);
    if (rc == 0) return TL_OK;
    tl_status st = rc > 0 && rc < TL_STATUS_COUNT ? (tl_status)rc : TL_ERR_ARG;
    if (!tl_last_error()[0]) tl_fail(st, "failed (the C function returned %d)", rc);
    return st;
}

int tl_vm_register(tl_vm *vm, const char *name, tl_cfunction fn, int min_args, int max_args,
                   void *user) {
    if (!name || !name[0] || !fn)
        return api_fail(vm, TL_ERR_ARG, "tl_vm_register: needs a name and a function");
    if (max_args >= 0 && max_args < min_args)
        return api_fail(vm, TL_ERR_ARG, "tl_vm_register: %s: max_args %d < min_args %d", name,
                        max_args, min_args);
    reg *r = calloc(1, sizeof *r);
    if (!r) return api_fail(vm, TL_ERR_NOMEM, "out of memory");
    r->vm = vm;
    r->fn = fn;
    r->user = user;
    r->next = vm->regs;
    vm->regs = r;
    tl_value v;
    tl_status st = tl_ffi_host_function(name, call_registered, r, min_args, max_args, &v);
    if (st != TL_OK) return api_fail(vm, st, "%s", tl_last_error());
    return set_owned(vm, name, v);
}

/* ------------------------------------------------------------------ values */

tl_val *tl_val_new(void) {
    return calloc(1, sizeof(tl_val));
}

void tl_val_free(tl_val *v) {
    if (!v) return;
    tl_value_release(&v->v);
    free(v);
}

tl_type tl_val_type(const tl_val *v) {
    switch (v->v.kind) {
    case TL_VAL_VOID:
        return TL_TYPE_VOID;
    case TL_VAL_INT:
        return TL_TYPE_INT;
    case TL_VAL_FLOAT:
        return TL_TYPE_FLOAT;
    case TL_VAL_BOOL:
        return TL_TYPE_BOOL;
    case TL_VAL_STRING:
        return TL_TYPE_STRING;
    case TL_VAL_ARRAY:
        return TL_TYPE_ARRAY;
    case TL_VAL_TENSOR:
        return TL_TYPE_TENSOR;
    case TL_VAL_FUNC:
    case TL_VAL_BUILTIN:
        return TL_TYPE_FUNCTION;
    default:
        return tl_ffi_is_callable(&v->v) ? TL_TYPE_FUNCTION : TL_TYPE_OTHER;
    }
}

const char *tl_val_type_name(const tl_val *v) {
    return tl_value_type_name(&v->v);
}

int tl_val_copy(tl_val *dst, const tl_val *src) {
    if (dst == src) return 0;
    tl_value n = tl_value_retain(src->v);
    tl_value_release(&dst->v);
    dst->v = n;
    return 0;
}

int tl_val_get_int(const tl_val *v, int64_t *out) {
    if (v->v.kind != TL_VAL_INT) return TL_ERR_TYPE;
    *out = v->v.as.i;
    return 0;
}

int tl_val_get_float(const tl_val *v, double *out) {
    if (v->v.kind != TL_VAL_INT && v->v.kind != TL_VAL_FLOAT) return TL_ERR_TYPE;
    *out = tl_value_as_double(&v->v);
    return 0;
}

int tl_val_get_bool(const tl_val *v, int *out) {
    if (v->v.kind != TL_VAL_BOOL) return TL_ERR_TYPE;
    *out = v->v.as.b;
    return 0;
}

int tl_val_get_string(const tl_val *v, const char **s, size_t *len) {
    if (v->v.kind != TL_VAL_STRING) return TL_ERR_TYPE;
    *s = v->v.as.str->data;
    if (len) *len = v->v.as.str->len;
    return 0;
}

int tl_val_array_len(const tl_val *v, size_t *len) {
    if (v->v.kind != TL_VAL_ARRAY) return TL_ERR_TYPE;
    *len = v->v.as.arr->len;
    return 0;
}

int tl_val_array_get(const tl_val *v, size_t i, tl_val *out) {
    if (v->v.kind != TL_VAL_ARRAY) return TL_ERR_TYPE;
    if (i >= v->v.as.arr->len) return TL_ERR_RANGE;
    tl_value n = tl_value_retain(v->v.as.arr->items[i]);
    tl_value_release(&out->v);
    out->v = n;
    return 0;
}

int tl_val_tensor_info(const tl_val *v, int *ndim, int64_t *shape, const char **dtype) {
    if (v->v.kind != TL_VAL_TENSOR) return TL_ERR_TYPE;
    const tl_tensor *t = v->v.as.tensor;
    if (ndim) *ndim = t->n_dims;
    if (shape) tl_tensor_shape(t, shape);
    if (dtype) *dtype = tl_dtype_name(t->dtype);
    return 0;
}

int tl_val_tensor_data(const tl_val *v, void **data, int *ndim, int64_t *shape, int64_t *strides,
                       const char **dtype) {
    if (v->v.kind != TL_VAL_TENSOR) return api_status(tl_fail(TL_ERR_TYPE, "not a tensor"));
    const tl_tensor *t = v->v.as.tensor;
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr || tr->blck != 1)
        return api_status(tl_fail(TL_ERR_TYPE, "a %s tensor has no per-element address",
                                  tl_dtype_name(t->dtype)));
    int n = t->n_dims;
    if (data) *data = (void *)tl_tensor_data(t);
    if (ndim) *ndim = n;
    if (shape) tl_tensor_shape(t, shape);
    for (int i = 0; strides && i < n; i++) /* ggml order (ne[0] innermost) -> outermost first */
        strides[i] = t->ne[n - 1 - i] == 1 ? 0 : (int64_t)t->nb[n - 1 - i];
    if (dtype) *dtype = tl_dtype_name(t->dtype);
    return 0;
}

int tl_val_tensor_to_f32(const tl_val *v, float *data, size_t cap, size_t *n) {
    if (v->v.kind != TL_VAL_TENSOR) return api_status(tl_fail(TL_ERR_TYPE, "not a tensor"));
    const tl_tensor *t = v->v.as.tensor;
    size_t count = (size_t)tl_tensor_nelements(t);
    if (n) *n = count;
    if (count > cap)
        return api_status(
            tl_fail(TL_ERR_RANGE, "the tensor has %zu elements, room for %zu", count, cap));
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr || !tr->to_f32 || tr->blck != 1)
        return api_status(tl_fail(TL_ERR_TYPE, "cannot read a %s tensor element by element",
                                  tl_dtype_name(t->dtype)));
    int64_t sh[TL_MAX_DIMS];
    tl_tensor_shape(t, sh);
    /* walk every element in NumPy order through the strides */
    int64_t idx[TL_MAX_DIMS] = {0};
    for (size_t k = 0; k < count; k++) {
        size_t off = 0;
        for (int d = 0; d < t->n_dims; d++)
            off += (size_t)idx[d] * t->nb[d];
        tr->to_f32((const char *)tl_tensor_data(t) + off, &data[k], 1);
        for (int d = 0; d < t->n_dims; d++) { /* ne order: dim 0 fastest */
            if (++idx[d] < t->ne[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

void tl_val_set_void(tl_val *v) {
    tl_value_release(&v->v);
}

void tl_val_set_int(tl_val *v, int64_t x) {
    tl_value_release(&v->v);
    v->v = tl_value_int(x);
}

void tl_val_set_float(tl_val *v, double x) {
    tl_value_release(&v->v);
    v->v = tl_value_float(x);
}

void tl_val_set_bool(tl_val *v, int b) {
    tl_value_release(&v->v);
    v->v = tl_value_bool(b != 0);
}

int tl_val_set_string(tl_val *v, const char *s, size_t len) {
    tl_value n;
    tl_status st = tl_value_string(s, len, &n);
    if (st != TL_OK) return api_status(st);
    tl_value_release(&v->v);
    v->v = n;
    return 0;
}

int tl_val_set_cstring(tl_val *v, const char *s) {
    return tl_val_set_string(v, s, strlen(s));
}

int tl_val_set_tensor_f32(tl_val *v, const float *data, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > TL_MAX_DIMS || (ndim && !shape))
        return api_status(
            tl_fail(TL_ERR_ARG, "a tensor has 0 to %d dims, got %d", TL_MAX_DIMS, ndim));
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return api_status(tl_fail(TL_ERR_ARG, "negative dim %lld", (long long)shape[i]));
    tl_tensor *t;
    tl_status st = tl_tensor_new_shape(TL_DTYPE_F32, ndim, shape, &t);
    if (st != TL_OK) return api_status(st);
    size_t n = (size_t)tl_tensor_nelements(t);
    if (n && !data) {
        tl_tensor_unref(t);
        return api_status(tl_fail(TL_ERR_ARG, "no data for %zu elements", n));
    }
    if (n) memcpy(tl_tensor_data(t), data, n * sizeof(float));
    tl_value_release(&v->v);
    v->v = tl_value_tensor(t);
    return 0;
}

int tl_val_set_array(tl_val *v) {
    tl_value n;
    tl_status st = tl_value_array(4, &n);
    if (st != TL_OK) return api_status(st);
    tl_value_release(&v->v);
    v->v = n;
    return 0;
}

int tl_val_array_push(tl_val *array, const tl_val *item) {
    if (array->v.kind != TL_VAL_ARRAY) return TL_ERR_TYPE;
    if (item->v.kind == TL_VAL_ARRAY && item->v.as.arr == array->v.as.arr)
        return api_status(tl_fail(TL_ERR_ARG, "an array cannot contain itself"));
    return api_status(tl_array_push(array->v.as.arr, tl_value_retain(item->v)));
}
