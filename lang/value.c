/* lang/value.c -- value constructors, refcounting, and simple queries. */
#include "lang/value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static tl_value_hooks hooks;

void tl_value_set_hooks(const tl_value_hooks *h) {
    hooks = *h;
}

static size_t max_string = (size_t)1 << 40;

void tl_value_set_max_string(size_t bytes) {
    max_string = bytes;
}

size_t tl_value_max_string(void) {
    return max_string;
}

tl_status tl_value_string(const char *s, size_t len, tl_value *out) {
    *out = TL_VOID;
    if (len > max_string)
        return tl_fail(TL_ERR_NOMEM, "a string of %zu bytes is too long (the limit is %zu)", len,
                       max_string);
    tl_string *str = malloc(sizeof *str + len + 1);
    if (!str) return tl_fail(TL_ERR_NOMEM, "out of memory");
    str->refcount = 1;
    str->len = len;
    if (len) memcpy(str->data, s, len);
    str->data[len] = '\0';
    out->kind = TL_VAL_STRING;
    out->as.str = str;
    return TL_OK;
}

tl_status tl_value_cstring(const char *s, tl_value *out) {
    return tl_value_string(s, strlen(s), out);
}

/* An array made for at most ARRAY_INLINE items keeps them in the same block,
** right after the header (a call's [w1, w2, w3] or a shape: one allocation). */
#define ARRAY_INLINE 8
static tl_value *inline_items(tl_array *a) {
    return (tl_value *)(a + 1);
}

tl_status tl_value_array(size_t cap, tl_value *out) {
    *out = TL_VOID;
    if (cap && cap <= ARRAY_INLINE) {
        tl_array *a = calloc(1, sizeof *a + cap * sizeof(tl_value));
        if (!a) return tl_fail(TL_ERR_NOMEM, "out of memory");
        a->refcount = 1;
        a->cap = cap;
        a->items = inline_items(a);
        out->kind = TL_VAL_ARRAY;
        out->as.arr = a;
        return TL_OK;
    }
    tl_array *a = calloc(1, sizeof *a);
    if (!a) return tl_fail(TL_ERR_NOMEM, "out of memory");
    if (cap) {
        a->items = calloc(cap, sizeof *a->items);
        if (!a->items) {
            free(a);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
    }
    a->refcount = 1;
    a->cap = cap;
    out->kind = TL_VAL_ARRAY;
    out->as.arr = a;
    return TL_OK;
}

tl_status tl_array_push(tl_array *a, tl_value v) {
    if (a->len == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        bool inl = a->items == inline_items(a);
        tl_value *items = realloc(inl ? NULL : a->items, cap * sizeof *items);
        if (!items) {
            tl_value_release(&v);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
        if (inl) memcpy(items, a->items, a->len * sizeof *items);
        a->items = items;
        a->cap = cap;
    }
    a->items[a->len++] = v;
    return TL_OK;
}

tl_status tl_value_object(const tl_object_class *cls, void *payload, tl_value *out) {
    *out = TL_VOID;
    tl_object *o = calloc(1, sizeof *o);
    if (!o) {
        if (cls->free) cls->free(payload);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    o->refcount = 1;
    o->cls = cls;
    o->payload = payload;
    out->kind = TL_VAL_OBJECT;
    out->as.obj = o;
    return TL_OK;
}

static int32_t *refcount_of(const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_STRING:
        return &v->as.str->refcount;
    case TL_VAL_ARRAY:
        return &v->as.arr->refcount;
    case TL_VAL_OBJECT:
        return &v->as.obj->refcount;
    /* structs and functions start with their refcount field (lang/eval) */
    case TL_VAL_STRUCT:
        return (int32_t *)(void *)v->as.st;
    case TL_VAL_FUNC:
        return (int32_t *)(void *)v->as.fn;
    default:
        return NULL;
    }
}

tl_value tl_value_retain(tl_value v) {
    if (v.kind == TL_VAL_TENSOR) {
        tl_tensor_ref(v.as.tensor);
    } else {
        int32_t *rc = refcount_of(&v);
        if (rc) __atomic_add_fetch(rc, 1, __ATOMIC_RELAXED);
    }
    return v;
}

/* Releasing a value releases what it holds, which may nest deeper than the C
** stack allows (`a = [a]` in a loop).  Below RELEASE_DEPTH nested releases a
** value is queued instead and the outermost release empties the queue, so the
** recursion stays shallow whatever the nesting. */
#define RELEASE_DEPTH 128
static _Thread_local int release_depth;
static _Thread_local tl_value *release_queue;
static _Thread_local size_t release_n, release_cap;

static void release_now(tl_value *v);

void tl_value_release(tl_value *v) {
    if (v->kind <= TL_VAL_BOOL || v->kind == TL_VAL_BUILTIN) {
        *v = TL_VOID;
        return;
    }
    if (release_depth >= RELEASE_DEPTH) {
        if (release_n == release_cap) {
            size_t cap = release_cap ? release_cap * 2 : 256;
            tl_value *q = realloc(release_queue, cap * sizeof *q);
            if (q) {
                release_queue = q;
                release_cap = cap;
            }
        }
        if (release_n < release_cap) {
            release_queue[release_n++] = *v;
            *v = TL_VOID;
            return;
        }
        /* no memory for the queue: release in place (deeper recursion) */
    }
    release_depth++;
    release_now(v);
    release_depth--;
    if (release_depth == 0 && release_n) {
        release_depth++;
        while (release_n) {
            tl_value x = release_queue[--release_n];
            release_now(&x);
        }
        release_depth--;
        free(release_queue);
        release_queue = NULL;
        release_cap = 0;
    }
}

static void release_now(tl_value *v) {
    if (v->kind == TL_VAL_TENSOR) {
        tl_tensor_unref(v->as.tensor);
    } else {
        int32_t *rc = refcount_of(v);
        if (rc && __atomic_sub_fetch(rc, 1, __ATOMIC_ACQ_REL) == 0) {
            switch (v->kind) {
            case TL_VAL_STRING:
                free(v->as.str);
                break;
            case TL_VAL_ARRAY:
                for (size_t i = 0; i < v->as.arr->len; i++)
                    tl_value_release(&v->as.arr->items[i]);
                if (v->as.arr->items != inline_items(v->as.arr)) free(v->as.arr->items);
                free(v->as.arr);
                break;
            case TL_VAL_OBJECT:
                if (v->as.obj->cls->free) v->as.obj->cls->free(v->as.obj->payload);
                free(v->as.obj);
                break;
            case TL_VAL_STRUCT:
                if (hooks.release_struct) hooks.release_struct(v->as.st);
                break;
            case TL_VAL_FUNC:
                if (hooks.release_function) hooks.release_function(v->as.fn);
                break;
            default:
                break;
            }
        }
    }
    *v = TL_VOID;
}

const char *tl_value_kind_name(tl_value_kind k) {
    static const char *const names[TL_VAL_KIND_COUNT] = {
        [TL_VAL_VOID] = "void",       [TL_VAL_INT] = "int",       [TL_VAL_FLOAT] = "float",
        [TL_VAL_BOOL] = "bool",       [TL_VAL_STRING] = "string", [TL_VAL_ARRAY] = "array",
        [TL_VAL_TENSOR] = "tensor",   [TL_VAL_STRUCT] = "struct", [TL_VAL_FUNC] = "function",
        [TL_VAL_BUILTIN] = "builtin", [TL_VAL_OBJECT] = "object",
    };
    return (k >= 0 && k < TL_VAL_KIND_COUNT) ? names[k] : "?";
}

const char *tl_value_type_name(const tl_value *v) {
    if (v->kind == TL_VAL_OBJECT) return v->as.obj->cls->name;
    return tl_value_kind_name(v->kind);
}

const char *tl_value_type_article(const tl_value *v) {
    char c = (char)tolower((unsigned char)tl_value_type_name(v)[0]);
    return c && strchr("aeiou", c) ? "an" : "a";
}

bool tl_value_is_number(const tl_value *v) {
    return v->kind == TL_VAL_INT || v->kind == TL_VAL_FLOAT;
}

double tl_value_as_double(const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_INT:
        return (double)v->as.i;
    case TL_VAL_FLOAT:
        return v->as.f;
    case TL_VAL_BOOL:
        return v->as.b ? 1.0 : 0.0;
    default:
        return 0.0;
    }
}

void *tl_value_object_payload(const tl_value *v, const tl_object_class *cls) {
    return (v->kind == TL_VAL_OBJECT && v->as.obj->cls == cls) ? v->as.obj->payload : NULL;
}
