/* lang/ffi.c -- extern functions through dlopen/dlsym + libffi, and host
** callbacks (see ffi.h). */
#include "lang/ffi.h"

#include "lang/eval.h"
#include "lang/parse.h"
#include "lang/strbuf.h"

#include <dlfcn.h>
#include <ffi.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ C types */

typedef enum ctype {
    CT_VOID,
    CT_I8,
    CT_I16,
    CT_I32,
    CT_I64,
    CT_U8,
    CT_U16,
    CT_U32,
    CT_U64,
    CT_F32,
    CT_F64,
    CT_BOOL,
    CT_STRING,
    CT_PTR,
    CT_TENSOR, /* a data pointer; dtype/dims constraints in the param */
} ctype;

static const struct {
    const char *name;
    ctype t;
} ctype_names[] = {
    {"void", CT_VOID}, {"i8", CT_I8},     {"i16", CT_I16},       {"i32", CT_I32}, {"i64", CT_I64},
    {"u8", CT_U8},     {"u16", CT_U16},   {"u32", CT_U32},       {"u64", CT_U64}, {"f32", CT_F32},
    {"f64", CT_F64},   {"bool", CT_BOOL}, {"string", CT_STRING}, {"ptr", CT_PTR},
};

typedef struct cparam {
    ctype t;
    char *name;
    /* tensors: accepted dtypes (bit per tl_dtype; 0 = f32|f16|i32) and dims
    ** (n_dims < 0: any shape; dims[i] < 0: any size) */
    uint32_t dtypes;
    int n_dims;
    int64_t dims[TL_MAX_DIMS];
} cparam;

static ffi_type *ffi_of(ctype t) {
    switch (t) {
    case CT_VOID:
        return &ffi_type_void;
    case CT_I8:
        return &ffi_type_sint8;
    case CT_I16:
        return &ffi_type_sint16;
    case CT_I32:
        return &ffi_type_sint32;
    case CT_I64:
        return &ffi_type_sint64;
    case CT_U8:
        return &ffi_type_uint8;
    case CT_U16:
        return &ffi_type_uint16;
    case CT_U32:
        return &ffi_type_uint32;
    case CT_U64:
        return &ffi_type_uint64;
    case CT_F32:
        return &ffi_type_float;
    case CT_F64:
        return &ffi_type_double;
    case CT_BOOL:
        return &ffi_type_uint8; /* C11 _Bool: one byte, 0 or 1 */
    case CT_STRING:
    case CT_PTR:
    case CT_TENSOR:
        return &ffi_type_pointer;
    }
    return &ffi_type_void;
}

static uint32_t dtype_bit(tl_dtype dt) {
    return (unsigned)dt < 32 ? 1u << dt : 0;
}

/* ------------------------------------------------------------------ objects */

typedef struct extern_fn {
    char *lib;       /* as written, or resolved next to the declaring file */
    char *lib_shown; /* as written (for messages) */
    char *name;
    char *sig; /* "cos(x: f64) -> f64" */
    cparam *params;
    int n_params;
    bool variadic;
    cparam ret;
    void *handle; /* dlopen handle once resolved */
    void *sym;
} extern_fn;

typedef struct host_fn {
    char *name;
    tl_host_fn fn;
    void *user;
    int min_args, max_args;
} host_fn;

static void extern_fn_free(void *p) {
    extern_fn *f = p;
    if (!f) return;
    if (f->handle) dlclose(f->handle);
    for (int i = 0; i < f->n_params; i++)
        free(f->params[i].name);
    free(f->params);
    free(f->lib);
    free(f->lib_shown);
    free(f->name);
    free(f->sig);
    free(f->ret.name);
    free(f);
}

static tl_status extern_fn_property(tl_object *self, const char *name, tl_value *out) {
    extern_fn *f = self->payload;
    if (strcmp(name, "signature") == 0) return tl_value_cstring(f->sig, out);
    if (strcmp(name, "library") == 0) return tl_value_cstring(f->lib_shown, out);
    if (strcmp(name, "name") == 0) return tl_value_cstring(f->name, out);
    return tl_fail(TL_ERR_ARG, "ExternFn has no property '%s' (signature, library, name)", name);
}

static const tl_object_class extern_fn_class = {
    .name = "ExternFn", .free = extern_fn_free, .get_property = extern_fn_property};

static void host_fn_free(void *p) {
    host_fn *h = p;
    if (!h) return;
    free(h->name);
    free(h);
}

static const tl_object_class host_fn_class = {.name = "HostFn", .free = host_fn_free};

bool tl_ffi_is_callable(const tl_value *v) {
    return v->kind == TL_VAL_OBJECT &&
           (v->as.obj->cls == &extern_fn_class || v->as.obj->cls == &host_fn_class);
}

const char *tl_ffi_signature(const tl_value *v) {
    extern_fn *f = tl_value_object_payload(v, &extern_fn_class);
    if (f) return f->sig;
    host_fn *h = tl_value_object_payload(v, &host_fn_class);
    return h ? h->name : NULL;
}

/* ------------------------------------------------------------------ declaration */

static const char *ctype_name(ctype t) {
    for (size_t i = 0; i < sizeof ctype_names / sizeof ctype_names[0]; i++)
        if (ctype_names[i].t == t) return ctype_names[i].name;
    return "tensor";
}

/* The C type of a type node; param = false for the return type. */
static tl_status parse_ctype(const extern_fn *f, const tl_node *ty, const char *what, cparam *out) {
    memset(out, 0, sizeof *out);
    out->n_dims = -1;
    if (!ty) {
        if (strcmp(what, "return type") == 0) { /* no `-> T`: void */
            out->t = CT_VOID;
            return TL_OK;
        }
        return tl_fail(TL_ERR_TYPE,
                       "extern fn %s: %s needs a C type (i8..i64, u8..u64, f32, f64, "
                       "bool, string, ptr, float32[?], ...)",
                       f->name, what);
    }
    if (ty->kind == TL_T_TENSOR) {
        out->t = CT_TENSOR;
        if (strcmp(ty->name, "float32") == 0)
            out->dtypes = 1u << TL_DTYPE_F32;
        else if (strcmp(ty->name, "float16") == 0)
            out->dtypes = 1u << TL_DTYPE_F16;
        else if (strcmp(ty->name, "int32") == 0)
            out->dtypes = 1u << TL_DTYPE_I32;
        else
            return tl_fail(TL_ERR_TYPE,
                           "extern fn %s: %s: a tensor passed to C is float32, float16 or int32, "
                           "not %s",
                           f->name, what, ty->name);
        int n = 0;
        bool any = false;
        for (const tl_node *d = ty->a; d; d = d->next) {
            if (n == TL_MAX_DIMS)
                return tl_fail(TL_ERR_TYPE, "extern fn %s: %s has more than %d dims", f->name, what,
                               TL_MAX_DIMS);
            out->dims[n++] = d->v.i;
            if (d->v.i < 0 && !ty->a->next) any = true;
        }
        out->n_dims = any ? -1 : n;
    } else if (strcmp(ty->name, "Tensor") == 0) {
        out->t = CT_TENSOR;
        out->dtypes = (1u << TL_DTYPE_F32) | (1u << TL_DTYPE_F16) | (1u << TL_DTYPE_I32);
    } else {
        bool found = false;
        for (size_t i = 0; i < sizeof ctype_names / sizeof ctype_names[0]; i++)
            if (strcmp(ctype_names[i].name, ty->name) == 0) {
                out->t = ctype_names[i].t;
                found = true;
            }
        if (!found)
            return tl_fail(TL_ERR_TYPE,
                           "extern fn %s: %s: unknown C type '%s' (use i8..i64, u8..u64, f32, f64, "
                           "bool, string, ptr, void, float32[?], float16[?], int32[?] or Tensor)",
                           f->name, what, ty->name);
    }
    if (out->t == CT_TENSOR && strcmp(what, "return type") == 0)
        return tl_fail(TL_ERR_TYPE,
                       "extern fn %s: a tensor cannot be returned from C (pass one in and fill it)",
                       f->name);
    if (out->t == CT_VOID && strcmp(what, "return type") != 0)
        return tl_fail(TL_ERR_TYPE, "extern fn %s: %s cannot be void", f->name, what);
    return TL_OK;
}

static void type_str(tl_strbuf *b, const cparam *p) {
    if (p->t != CT_TENSOR) {
        tl_strbuf_puts(b, ctype_name(p->t));
        return;
    }
    if (p->dtypes == ((1u << TL_DTYPE_F32) | (1u << TL_DTYPE_F16) | (1u << TL_DTYPE_I32))) {
        tl_strbuf_puts(b, "Tensor");
        return;
    }
    tl_strbuf_puts(b, p->dtypes == 1u << TL_DTYPE_F32   ? "float32"
                      : p->dtypes == 1u << TL_DTYPE_F16 ? "float16"
                                                        : "int32");
    tl_strbuf_puts(b, "[");
    if (p->n_dims < 0) tl_strbuf_puts(b, "?");
    for (int i = 0; i < p->n_dims; i++) {
        if (i) tl_strbuf_puts(b, ", ");
        if (p->dims[i] < 0)
            tl_strbuf_puts(b, "?");
        else
            tl_strbuf_printf(b, "%lld", (long long)p->dims[i]);
    }
    tl_strbuf_puts(b, "]");
}

/* A relative path with a '/' is looked up next to the declaring file first. */
static char *resolve_lib(const char *lib, const char *from_file) {
    if (lib[0] != '/' && strchr(lib, '/') && from_file && strchr(from_file, '/')) {
        size_t dir = (size_t)(strrchr(from_file, '/') - from_file);
        size_t n = dir + 1 + strlen(lib) + 1;
        char *p = malloc(n);
        if (!p) return NULL;
        snprintf(p, n, "%.*s/%s", (int)dir, from_file, lib);
        if (access(p, F_OK) == 0) return p;
        free(p);
    }
    return strdup(lib);
}

static tl_status declare_one(tl_interp *I, const char *lib, const char *from_file,
                             const tl_node *fn) {
    extern_fn *f = calloc(1, sizeof *f);
    if (!f) return tl_fail(TL_ERR_NOMEM, "out of memory");
    f->name = strdup(fn->name);
    f->lib_shown = strdup(lib);
    f->lib = resolve_lib(lib, from_file);
    f->variadic = fn->op == 1;
    f->n_params = (int)tl_node_list_len(fn->a);
    f->params = calloc((size_t)f->n_params + 1, sizeof *f->params);
    if (!f->name || !f->lib || !f->lib_shown || !f->params) {
        extern_fn_free(f);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    tl_status st = TL_OK;
    int i = 0;
    for (const tl_node *p = fn->a; p && st == TL_OK; p = p->next, i++) {
        char what[160];
        snprintf(what, sizeof what, "parameter %d (%s)", i + 1, p->name);
        st = parse_ctype(f, p->c, what, &f->params[i]);
        if (st == TL_OK && !(f->params[i].name = strdup(p->name)))
            st = tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    if (st == TL_OK) st = parse_ctype(f, fn->c, "return type", &f->ret);
    if (st != TL_OK) {
        extern_fn_free(f);
        return st;
    }
    tl_strbuf b = {0};
    tl_strbuf_printf(&b, "%s(", f->name);
    for (i = 0; i < f->n_params; i++) {
        tl_strbuf_printf(&b, "%s%s: ", i ? ", " : "", f->params[i].name);
        type_str(&b, &f->params[i]);
    }
    if (f->variadic) tl_strbuf_puts(&b, ", ...");
    tl_strbuf_puts(&b, ") -> ");
    type_str(&b, &f->ret);
    f->sig = strdup(tl_strbuf_cstr(&b));
    tl_strbuf_free(&b);
    if (!f->sig) {
        extern_fn_free(f);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    tl_value v;
    st = tl_value_object(&extern_fn_class, f, &v);
    if (st != TL_OK) return st;
    st = tl_interp_set_global(I, f->name, &v);
    tl_value_release(&v);
    return st;
}

tl_status tl_ffi_declare(tl_interp *I, const tl_node *decl) {
    const char *from = decl->chunk ? decl->chunk->filename : NULL;
    for (const tl_node *fn = decl->a; fn; fn = fn->next) {
        tl_status st = declare_one(I, decl->name, from, fn);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

/* ------------------------------------------------------------------ calls */

/* "extern fn cos(x: f64) -> f64 in "libm.so.6": " + message */
static tl_status call_fail(const extern_fn *f, tl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tl_status call_fail(const extern_fn *f, tl_status st, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tl_fail(st, "extern fn %s in \"%s\": %s", f->sig, f->lib_shown, msg);
}

static tl_status resolve(extern_fn *f) {
    if (f->sym) return TL_OK;
    if (!f->handle) {
        dlerror();
        f->handle = dlopen(f->lib, RTLD_NOW | RTLD_LOCAL);
        if (!f->handle) {
            const char *why = dlerror();
            /* dlerror says "<path>: cannot open shared object file: ..." */
            const char *colon = why ? strstr(why, ": ") : NULL;
            return call_fail(f, TL_ERR_IO, "cannot load the library (%s)",
                             colon ? colon + 2
                             : why ? why
                                   : "unknown reason");
        }
    }
    dlerror();
    f->sym = dlsym(f->handle, f->name);
    if (!f->sym || dlerror()) {
        f->sym = NULL;
        return call_fail(f, TL_ERR_ARG, "symbol '%s' not found in the library", f->name);
    }
    return TL_OK;
}

/* One argument's storage for ffi_call. */
typedef union cval {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    void *p;
} cval;

static const char *dtype_short(tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_F32:
        return "float32";
    case TL_DTYPE_F16:
        return "float16";
    case TL_DTYPE_I32:
        return "int32";
    default:
        return tl_dtype_name(dt);
    }
}

/* A tensor's data pointer, if C may read and write it in place. */
static tl_status tensor_ptr(const extern_fn *f, const char *what, const cparam *p,
                            const tl_tensor *t, void **out) {
    char shape[96];
    if (!(p->dtypes & dtype_bit(t->dtype)))
        return call_fail(f, TL_ERR_TYPE, "%s: expected a %s tensor, got %s", what,
                         p->dtypes == 1u << TL_DTYPE_F32   ? "float32"
                         : p->dtypes == 1u << TL_DTYPE_F16 ? "float16"
                         : p->dtypes == 1u << TL_DTYPE_I32 ? "int32"
                                                           : "float32, float16 or int32",
                         dtype_short(t->dtype));
    if (p->n_dims >= 0) {
        int64_t sh[TL_MAX_DIMS];
        tl_tensor_shape(t, sh);
        bool ok = t->n_dims == p->n_dims;
        for (int i = 0; ok && i < p->n_dims; i++)
            if (p->dims[i] >= 0 && p->dims[i] != sh[i]) ok = false;
        if (!ok) {
            tl_strbuf b = {0};
            type_str(&b, p);
            tl_status st =
                call_fail(f, TL_ERR_SHAPE, "%s: expected %s, got shape %s", what,
                          tl_strbuf_cstr(&b), tl_tensor_shape_str(t, shape, sizeof shape));
            tl_strbuf_free(&b);
            return st;
        }
    }
    if (!tl_tensor_is_contiguous(t))
        return call_fail(f, TL_ERR_ARG,
                         "%s: the tensor is a strided view; pass contiguous(t), a private copy",
                         what);
    if (t->storage->release)
        return call_fail(f, TL_ERR_ARG,
                         "%s: the tensor is read-only (mapped from a file); pass contiguous(t), a "
                         "private copy",
                         what);
    if (t->storage->refcount > 1)
        return call_fail(f, TL_ERR_ARG,
                         "%s: the tensor shares its storage with a view; pass contiguous(t), a "
                         "private copy",
                         what);
    *out = tl_tensor_data(t);
    return TL_OK;
}

static tl_status int_arg(const extern_fn *f, const char *what, ctype t, const tl_value *v,
                         cval *out) {
    if (v->kind != TL_VAL_INT)
        return call_fail(f, TL_ERR_TYPE, "%s: expected %s (an int), got %s", what, ctype_name(t),
                         tl_value_type_name(v));
    int64_t x = v->as.i;
    static const struct {
        int64_t lo, hi;
    } range[] = {
        [CT_I8] = {INT8_MIN, INT8_MAX},    [CT_I16] = {INT16_MIN, INT16_MAX},
        [CT_I32] = {INT32_MIN, INT32_MAX}, [CT_I64] = {INT64_MIN, INT64_MAX},
        [CT_U8] = {0, UINT8_MAX},          [CT_U16] = {0, UINT16_MAX},
        [CT_U32] = {0, UINT32_MAX},        [CT_U64] = {0, INT64_MAX},
    };
    if (x < range[t].lo || x > range[t].hi)
        return call_fail(f, TL_ERR_RANGE, "%s: %lld does not fit in %s", what, (long long)x,
                         ctype_name(t));
    switch (t) {
    case CT_I8:
        out->i8 = (int8_t)x;
        break;
    case CT_I16:
        out->i16 = (int16_t)x;
        break;
    case CT_I32:
        out->i32 = (int32_t)x;
        break;
    case CT_U8:
        out->u8 = (uint8_t)x;
        break;
    case CT_U16:
        out->u16 = (uint16_t)x;
        break;
    case CT_U32:
        out->u32 = (uint32_t)x;
        break;
    case CT_U64:
        out->u64 = (uint64_t)x;
        break;
    default:
        out->i64 = x;
        break;
    }
    return TL_OK;
}

/* Converts a declared argument; *copy gets any string copy to free after the call. */
static tl_status fixed_arg(const extern_fn *f, const char *what, const cparam *p, const tl_value *v,
                           cval *out, char **copy) {
    switch (p->t) {
    case CT_F32:
    case CT_F64:
        if (v->kind != TL_VAL_FLOAT && v->kind != TL_VAL_INT)
            return call_fail(f, TL_ERR_TYPE, "%s: expected %s (a number), got %s", what,
                             ctype_name(p->t), tl_value_type_name(v));
        if (p->t == CT_F32)
            out->f32 = (float)tl_value_as_double(v);
        else
            out->f64 = tl_value_as_double(v);
        return TL_OK;
    case CT_BOOL:
        if (v->kind != TL_VAL_BOOL)
            return call_fail(f, TL_ERR_TYPE, "%s: expected bool, got %s", what,
                             tl_value_type_name(v));
        out->u8 = v->as.b ? 1 : 0;
        return TL_OK;
    case CT_STRING:
        if (v->kind != TL_VAL_STRING)
            return call_fail(f, TL_ERR_TYPE, "%s: expected string, got %s", what,
                             tl_value_type_name(v));
        if (memchr(v->as.str->data, '\0', v->as.str->len))
            return call_fail(f, TL_ERR_ARG, "%s: the string holds a NUL byte", what);
        *copy = malloc(v->as.str->len + 1);
        if (!*copy) return tl_fail(TL_ERR_NOMEM, "out of memory");
        memcpy(*copy, v->as.str->data, v->as.str->len + 1);
        out->p = *copy;
        return TL_OK;
    case CT_PTR:
        if (v->kind == TL_VAL_INT) {
            out->p = (void *)(uintptr_t)v->as.i;
            return TL_OK;
        }
        if (v->kind == TL_VAL_VOID) {
            out->p = NULL;
            return TL_OK;
        }
        if (v->kind == TL_VAL_TENSOR) {
            cparam any = {.t = CT_TENSOR, .n_dims = -1, .dtypes = ~0u};
            return tensor_ptr(f, what, &any, v->as.tensor, &out->p);
        }
        return call_fail(f, TL_ERR_TYPE,
                         "%s: expected ptr (an int address, void or a tensor), got %s", what,
                         tl_value_type_name(v));
    case CT_TENSOR:
        if (v->kind != TL_VAL_TENSOR) {
            tl_strbuf b = {0};
            type_str(&b, p);
            tl_status st = call_fail(f, TL_ERR_TYPE, "%s: expected %s, got %s", what,
                                     tl_strbuf_cstr(&b), tl_value_type_name(v));
            tl_strbuf_free(&b);
            return st;
        }
        return tensor_ptr(f, what, p, v->as.tensor, &out->p);
    case CT_VOID:
        break;
    default:
        return int_arg(f, what, p->t, v, out);
    }
    return tl_fail(TL_ERR_INTERNAL, "ffi: bad parameter type");
}

/* Variadic arguments get C's default promotions from their value. */
static tl_status var_arg(const extern_fn *f, const char *what, const tl_value *v, cval *out,
                         ffi_type **type, char **copy) {
    cparam p = {.n_dims = -1, .dtypes = ~0u};
    switch (v->kind) {
    case TL_VAL_INT:
        p.t = CT_I64;
        break;
    case TL_VAL_FLOAT:
        p.t = CT_F64;
        break;
    case TL_VAL_BOOL:
        out->i32 = v->as.b;
        *type = &ffi_type_sint32;
        return TL_OK;
    case TL_VAL_STRING:
        p.t = CT_STRING;
        break;
    case TL_VAL_VOID:
        p.t = CT_PTR;
        break;
    case TL_VAL_TENSOR:
        p.t = CT_TENSOR;
        break;
    default:
        return call_fail(f, TL_ERR_TYPE,
                         "%s: a value of type %s cannot be passed to C (variadic arguments "
                         "are int, float, bool, string, void or tensors)",
                         what, tl_value_type_name(v));
    }
    *type = ffi_of(p.t);
    return fixed_arg(f, what, &p, v, out, copy);
}

static tl_status ret_value(const extern_fn *f, const cval *r, ffi_arg raw, tl_value *out) {
    switch (f->ret.t) {
    case CT_VOID:
        *out = TL_VOID;
        return TL_OK;
    case CT_I8:
        *out = tl_value_int((int8_t)raw);
        return TL_OK;
    case CT_I16:
        *out = tl_value_int((int16_t)raw);
        return TL_OK;
    case CT_I32:
        *out = tl_value_int((int32_t)raw);
        return TL_OK;
    case CT_U8:
        *out = tl_value_int((uint8_t)raw);
        return TL_OK;
    case CT_U16:
        *out = tl_value_int((uint16_t)raw);
        return TL_OK;
    case CT_U32:
        *out = tl_value_int((uint32_t)raw);
        return TL_OK;
    case CT_BOOL:
        *out = tl_value_bool((uint8_t)raw != 0);
        return TL_OK;
    case CT_I64:
        *out = tl_value_int(r->i64);
        return TL_OK;
    case CT_U64:
        *out = tl_value_int((int64_t)r->u64);
        return TL_OK; /* wraps above 2^63 */
    case CT_F32:
        *out = tl_value_float(r->f32);
        return TL_OK;
    case CT_F64:
        *out = tl_value_float(r->f64);
        return TL_OK;
    case CT_PTR:
        *out = tl_value_int((int64_t)(uintptr_t)r->p);
        return TL_OK;
    case CT_STRING:
        if (!r->p) {
            *out = TL_VOID;
            return TL_OK;
        }
        return tl_value_cstring(r->p, out);
    case CT_TENSOR:
        break;
    }
    return tl_fail(TL_ERR_INTERNAL, "ffi: bad return type");
}

#define MAX_FFI_ARGS 64

static tl_status call_extern(extern_fn *f, int argc, const tl_value *argv, tl_value *out) {
    if (argc < f->n_params || (!f->variadic && argc > f->n_params))
        return call_fail(f, TL_ERR_ARG, "takes %s%d argument%s, got %d",
                         f->variadic ? "at least " : "", f->n_params, f->n_params == 1 ? "" : "s",
                         argc);
    if (argc > MAX_FFI_ARGS)
        return call_fail(f, TL_ERR_ARG, "at most %d arguments can be passed, got %d", MAX_FFI_ARGS,
                         argc);
    tl_status st = resolve(f);
    if (st != TL_OK) return st;
    cval vals[MAX_FFI_ARGS];
    void *ptrs[MAX_FFI_ARGS];
    ffi_type *types[MAX_FFI_ARGS];
    char *copies[MAX_FFI_ARGS] = {0};
    for (int i = 0; i < argc && st == TL_OK; i++) {
        char what[160];
        memset(&vals[i], 0, sizeof vals[i]);
        ptrs[i] = &vals[i];
        if (i < f->n_params) {
            snprintf(what, sizeof what, "argument %d (%s)", i + 1, f->params[i].name);
            types[i] = ffi_of(f->params[i].t);
            st = fixed_arg(f, what, &f->params[i], &argv[i], &vals[i], &copies[i]);
        } else {
            snprintf(what, sizeof what, "argument %d (variadic)", i + 1);
            st = var_arg(f, what, &argv[i], &vals[i], &types[i], &copies[i]);
        }
    }
    ffi_cif cif;
    if (st == TL_OK) {
        ffi_status fs = f->variadic ? ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, (unsigned)f->n_params,
                                                       (unsigned)argc, ffi_of(f->ret.t), types)
                                    : ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)argc,
                                                   ffi_of(f->ret.t), types);
        if (fs != FFI_OK)
            st = call_fail(f, TL_ERR_UNSUPPORTED, "libffi cannot prepare this call (status %d)",
                           (int)fs);
    }
    if (st == TL_OK) {
        /* integer returns narrower than a register come back widened to ffi_arg */
        union {
            ffi_arg raw;
            cval v;
        } r;
        memset(&r, 0, sizeof r);
        ffi_call(&cif, FFI_FN(f->sym), &r, ptrs);
        st = ret_value(f, &r.v, r.raw, out);
    }
    for (int i = 0; i < argc; i++)
        free(copies[i]);
    return st;
}

tl_status tl_ffi_call(tl_interp *I, const tl_value *callee, int argc, const tl_value *argv,
                      tl_value *out) {
    *out = TL_VOID;
    extern_fn *f = tl_value_object_payload(callee, &extern_fn_class);
    if (f) return call_extern(f, argc, argv, out);
    host_fn *h = tl_value_object_payload(callee, &host_fn_class);
    if (!h) return tl_fail(TL_ERR_TYPE, "%s is not callable", tl_value_type_name(callee));
    if (argc < h->min_args || (h->max_args >= 0 && argc > h->max_args)) {
        if (h->max_args == h->min_args)
            return tl_fail(TL_ERR_ARG, "%s takes %d argument%s, got %d", h->name, h->min_args,
                           h->min_args == 1 ? "" : "s", argc);
        if (h->max_args < 0)
            return tl_fail(TL_ERR_ARG, "%s takes at least %d argument%s, got %d", h->name,
                           h->min_args, h->min_args == 1 ? "" : "s", argc);
        return tl_fail(TL_ERR_ARG, "%s takes %d to %d arguments, got %d", h->name, h->min_args,
                       h->max_args, argc);
    }
    tl_status st = h->fn(I, h->user, argc, argv, out);
    if (st != TL_OK) {
        tl_value_release(out);
        if (!tl_last_error()[0]) tl_fail(st, "%s failed", h->name);
    }
    return st;
}

tl_status tl_ffi_host_function(const char *name, tl_host_fn fn, void *user, int min_args,
                               int max_args, tl_value *out) {
    *out = TL_VOID;
    if (!name || !fn) return tl_fail(TL_ERR_ARG, "a host function needs a name and a function");
    host_fn *h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    h->fn = fn;
    h->user = user;
    h->min_args = min_args < 0 ? 0 : min_args;
    h->max_args = max_args;
    return tl_value_object(&host_fn_class, h, out);
}
