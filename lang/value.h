/* lang/value.h -- the values a .tl program computes with.
**
** tl_value is a small tagged union passed by value.  Scalars (int, float,
** bool, void) live inline; strings, arrays, tensors, structs, functions and
** host objects are refcounted heap parts.  Ownership rule: a tl_value you
** receive as an out-parameter or from a constructor is yours and must be
** released with tl_value_release() exactly once; tl_value_retain() returns a
** new owned copy.  Arguments passed to builtins are borrowed.
**
** Host objects (a loaded model, a tokenizer, a KV cache, ...) are TL_VAL_OBJECT
** with a tl_object_class that names them and knows how to free them and,
** optionally, how to answer `obj.prop` and `obj.method(args)`. */
#ifndef TL_LANG_VALUE_H
#define TL_LANG_VALUE_H

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tl_value_kind {
    TL_VAL_VOID = 0,
    TL_VAL_INT,   /* int64                                          */
    TL_VAL_FLOAT, /* double                                         */
    TL_VAL_BOOL,
    TL_VAL_STRING,  /* immutable UTF-8 bytes (may hold NUL)           */
    TL_VAL_ARRAY,   /* mutable vector of values (int/float/str/...)   */
    TL_VAL_TENSOR,  /* runtime tl_tensor                              */
    TL_VAL_STRUCT,  /* instance of a user struct                      */
    TL_VAL_FUNC,    /* user function or closure (lang/eval owns it)   */
    TL_VAL_BUILTIN, /* a builtin function value                       */
    TL_VAL_OBJECT,  /* host object: model, tokenizer, KV cache, ...   */
    TL_VAL_KIND_COUNT
} tl_value_kind;

typedef struct tl_string tl_string;
typedef struct tl_array tl_array;
typedef struct tl_object tl_object;
typedef struct tl_struct_value tl_struct_value;
typedef struct tl_function tl_function;
typedef struct tl_builtin_def tl_builtin_def;

typedef struct tl_value {
    tl_value_kind kind;
    union {
        int64_t i;
        double f;
        bool b;
        tl_string *str;
        tl_array *arr;
        tl_tensor *tensor;
        tl_struct_value *st;
        tl_function *fn;
        const tl_builtin_def *builtin;
        tl_object *obj;
    } as;
} tl_value;

#define TL_VOID ((tl_value){.kind = TL_VAL_VOID})

struct tl_string {
    int32_t refcount;
    size_t len;
    char data[]; /* NUL-terminated as well */
};

struct tl_array {
    int32_t refcount;
    size_t len, cap;
    tl_value *items;
};

struct tl_value; /* forward for the class callbacks */
typedef struct tl_object_class {
    const char *name; /* "Model", "Tokenizer", "KVCache", ... */
    void (*free)(void *payload);
    /* obj.name: set *out (owned) and return TL_OK, or fail (tl_fail) */
    tl_status (*get_property)(tl_object *self, const char *name, tl_value *out);
    /* obj.name(args): argv borrowed, *out owned */
    tl_status (*call_method)(tl_object *self, const char *name, int argc, const tl_value *argv,
                             tl_value *out);
} tl_object_class;

struct tl_object {
    int32_t refcount;
    const tl_object_class *cls;
    void *payload;
};

/* ---- constructors (the result is owned by the caller) --------------------- */
static inline tl_value tl_value_int(int64_t i) {
    return (tl_value){.kind = TL_VAL_INT, .as.i = i};
}
static inline tl_value tl_value_float(double f) {
    return (tl_value){.kind = TL_VAL_FLOAT, .as.f = f};
}
static inline tl_value tl_value_bool(bool b) {
    return (tl_value){.kind = TL_VAL_BOOL, .as.b = b};
}
/* Takes over the caller's tensor reference. */
static inline tl_value tl_value_tensor(tl_tensor *t) {
    return (tl_value){.kind = TL_VAL_TENSOR, .as.tensor = t};
}
tl_status tl_value_string(const char *s, size_t len, tl_value *out);
/* The longest string (and string buffer) allowed, 1 TiB by default: longer ones
** are TL_ERR_NOMEM before any allocation.  Embedders and the fuzz harness lower it. */
void tl_value_set_max_string(size_t bytes);
size_t tl_value_max_string(void);
tl_status tl_value_cstring(const char *s, tl_value *out);
tl_status tl_value_array(size_t cap, tl_value *out); /* empty array */
/* Appends v (ownership moves into the array). */
tl_status tl_array_push(tl_array *a, tl_value v);
/* A new host object; on failure payload is freed with cls->free. */
tl_status tl_value_object(const tl_object_class *cls, void *payload, tl_value *out);

/* ---- lifetime ------------------------------------------------------------- */
tl_value tl_value_retain(tl_value v);
void tl_value_release(tl_value *v); /* sets *v to void */

/* ---- queries -------------------------------------------------------------- */
const char *tl_value_kind_name(tl_value_kind k); /* "int", "tensor", ... */
/* A user-facing type name: the object class or struct name for those kinds. */
const char *tl_value_type_name(const tl_value *v);
/* "a" or "an", the article before tl_value_type_name(v) in a message. */
const char *tl_value_type_article(const tl_value *v);
bool tl_value_is_number(const tl_value *v);   /* int or float */
double tl_value_as_double(const tl_value *v); /* int, float or bool */
/* If v is an object of class cls, its payload; else NULL. */
void *tl_value_object_payload(const tl_value *v, const tl_object_class *cls);

/* Hooks lang/eval installs so that values it owns can be released/displayed. */
typedef struct tl_value_hooks {
    void (*release_struct)(tl_struct_value *s);
    void (*release_function)(tl_function *f);
} tl_value_hooks;
void tl_value_set_hooks(const tl_value_hooks *hooks);

#endif
