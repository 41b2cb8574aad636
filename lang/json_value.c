/* lang/json_value.c -- JSON encoding of tl values and decoding with jansson. */
#include "lang/json_value.h"

#include "lang/read_all.h"
#include "lang/suggest.h"
#include "lang/value_struct.h"
#include "runtime/ops.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

/* ------------------------------------------------------------------ numbers */

static void add_point_if_integral(char *buf, size_t cap) {
    if (strpbrk(buf, ".eEn")) return; /* has a point, an exponent, or is nan/inf */
    size_t n = strlen(buf);
    if (n + 3 <= cap) memcpy(buf + n, ".0", 3);
}

void tl_json_format_double(char *buf, size_t cap, double d, bool add_point) {
    if (isnan(d)) {
        snprintf(buf, cap, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, cap, d > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, d);
        if (strtod(buf, NULL) == d) break;
    }
    if (add_point) add_point_if_integral(buf, cap);
}

void tl_json_format_float(char *buf, size_t cap, float f, bool add_point) {
    if (isnan(f) || isinf(f)) {
        tl_json_format_double(buf, cap, f, add_point);
        return;
    }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, cap, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    if (add_point) add_point_if_integral(buf, cap);
}

/* ------------------------------------------------------------------ JsonObject */

typedef struct json_obj {
    size_t n, cap;
    char **keys;
    tl_value *vals;
} json_obj;

static void json_obj_free(void *p) {
    json_obj *o = p;
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->keys[i]);
        tl_value_release(&o->vals[i]);
    }
    free(o->keys);
    free(o->vals);
    free(o);
}

static long json_obj_find(const json_obj *o, const char *key) {
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return (long)i;
    return -1;
}

/* Takes v; the key must not be in o yet (jansson's keys are unique), so a
** decoded object of n keys is built in O(n) time. */
static tl_status json_obj_append(json_obj *o, const char *key, tl_value v) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        char **keys = realloc(o->keys, cap * sizeof *keys);
        if (keys) o->keys = keys;
        tl_value *vals = keys ? realloc(o->vals, cap * sizeof *vals) : NULL;
        if (!vals) {
            tl_value_release(&v);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
        o->vals = vals;
        o->cap = cap;
    }
    o->keys[o->n] = strdup(key);
    if (!o->keys[o->n]) {
        tl_value_release(&v);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    o->vals[o->n++] = v;
    return TL_OK;
}

static tl_status json_obj_get_property(tl_object *self, const char *name, tl_value *out) {
    const json_obj *o = self->payload;
    long k = json_obj_find(o, name);
    if (k < 0) {
        const char *near =
            o->n <= 4096 ? tl_suggest(name, (const char *const *)o->keys, o->n) : NULL;
        if (near)
            return tl_fail(TL_ERR_ARG, "JsonObject has no key '%s' (did you mean '%s'?)", name,
                           near);
        return tl_fail(TL_ERR_ARG, "JsonObject has no key '%s'", name);
    }
    *out = tl_value_retain(o->vals[k]);
    return TL_OK;
}

tl_status tl_json_object_new(tl_value *out) {
    json_obj *o = calloc(1, sizeof *o);
    if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
    return tl_value_object(&tl_json_object_class, o, out);
}

tl_status tl_json_object_set(tl_value *obj, const char *key, tl_value v) {
    json_obj *o = tl_value_object_payload(obj, &tl_json_object_class);
    if (!o) {
        tl_value_release(&v);
        return tl_fail(TL_ERR_TYPE, "not a JsonObject");
    }
    long k = json_obj_find(o, key);
    if (k >= 0) {
        tl_value_release(&o->vals[k]);
        o->vals[k] = v;
        return TL_OK;
    }
    return json_obj_append(o, key, v);
}

static tl_status json_obj_call(tl_object *self, const char *name, int argc, const tl_value *argv,
                               tl_value *out) {
    const json_obj *o = self->payload;
    if (strcmp(name, "len") == 0 && argc == 0) {
        *out = tl_value_int((int64_t)o->n);
        return TL_OK;
    }
    if (strcmp(name, "keys") == 0 && argc == 0) {
        tl_status st = tl_value_array(o->n, out);
        for (size_t i = 0; st == TL_OK && i < o->n; i++) {
            tl_value s;
            st = tl_value_cstring(o->keys[i], &s);
            if (st == TL_OK) st = tl_array_push(out->as.arr, s);
        }
        if (st != TL_OK) tl_value_release(out);
        return st;
    }
    if ((strcmp(name, "has") == 0 && argc == 1) ||
        (strcmp(name, "get") == 0 && (argc == 1 || argc == 2))) {
        if (argv[0].kind != TL_VAL_STRING)
            return tl_fail(TL_ERR_TYPE, "JsonObject.%s: the key must be a string, got %s", name,
                           tl_value_type_name(&argv[0]));
        long k = json_obj_find(o, argv[0].as.str->data);
        if (name[0] == 'h') {
            *out = tl_value_bool(k >= 0);
            return TL_OK;
        }
        if (k >= 0) {
            *out = tl_value_retain(o->vals[k]);
            return TL_OK;
        }
        if (argc == 2) {
            *out = tl_value_retain(argv[1]);
            return TL_OK;
        }
        return tl_fail(TL_ERR_ARG, "JsonObject has no key '%s'", argv[0].as.str->data);
    }
    return tl_fail(TL_ERR_ARG,
                   "JsonObject has no method %s with %d argument%s (it has keys(), has(k), "
                   "get(k[, default]), len())",
                   name, argc, argc == 1 ? "" : "s");
}

const tl_object_class tl_json_object_class = {
    .name = "JsonObject",
    .free = json_obj_free,
    .get_property = json_obj_get_property,
    .call_method = json_obj_call,
};

/* ------------------------------------------------------------------ encoding */

/* Length of the well-formed UTF-8 sequence at s[0..len) (RFC 3629: no
** overlongs, no surrogates, at most U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len) {
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (n > len) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* JSON text is UTF-8: a string that is not is an error naming the first bad byte. */
static tl_status check_utf8(const char *s, size_t len, const char *who) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i);
        if (!n)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: a string is not valid UTF-8 (byte 0x%02x at offset %zu); JSON text "
                           "must be UTF-8",
                           who, u[i], i);
        i += n;
    }
    return TL_OK;
}

static void put_string(tl_strbuf *b, const char *s, size_t len) {
    tl_strbuf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"':
            tl_strbuf_puts(b, "\\\"");
            break;
        case '\\':
            tl_strbuf_puts(b, "\\\\");
            break;
        case '\n':
            tl_strbuf_puts(b, "\\n");
            break;
        case '\r':
            tl_strbuf_puts(b, "\\r");
            break;
        case '\t':
            tl_strbuf_puts(b, "\\t");
            break;
        case '\b':
            tl_strbuf_puts(b, "\\b");
            break;
        case '\f':
            tl_strbuf_puts(b, "\\f");
            break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                tl_strbuf_printf(b, "\\u%04x", ch);
            else
                tl_strbuf_putc(b, (char)ch);
        }
    }
    tl_strbuf_putc(b, '"');
}

static void put_double(tl_strbuf *b, double d) {
    if (!isfinite(d)) {
        tl_strbuf_puts(b, "null");
        return;
    }
    char buf[40];
    tl_json_format_double(buf, sizeof buf, d, true);
    tl_strbuf_puts(b, buf);
}

static void put_float(tl_strbuf *b, float f) {
    if (!isfinite(f)) {
        tl_strbuf_puts(b, "null");
        return;
    }
    char buf[40];
    tl_json_format_float(buf, sizeof buf, f, true);
    tl_strbuf_puts(b, buf);
}

/* One element of a contiguous tensor of a plain type. */
static void put_elem(tl_strbuf *b, const tl_tensor *t, const char *p) {
    switch (t->dtype) {
    case TL_DTYPE_F32: {
        float f;
        memcpy(&f, p, 4);
        put_float(b, f);
        break;
    }
    case TL_DTYPE_F64: {
        double d;
        memcpy(&d, p, 8);
        put_double(b, d);
        break;
    }
    case TL_DTYPE_F16:
    case TL_DTYPE_BF16: {
        float f;
        tl_dtype_traits(t->dtype)->to_f32(p, &f, 1);
        put_float(b, f);
        break;
    }
    case TL_DTYPE_I8:
        tl_strbuf_printf(b, "%d", (int)*(const int8_t *)p);
        break;
    case TL_DTYPE_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        tl_strbuf_printf(b, "%d", (int)v);
        break;
    }
    case TL_DTYPE_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        tl_strbuf_printf(b, "%ld", (long)v);
        break;
    }
    case TL_DTYPE_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        tl_strbuf_printf(b, "%lld", (long long)v);
        break;
    }
    case TL_DTYPE_BOOL:
        tl_strbuf_puts(b, *p ? "true" : "false");
        break;
    default:
        tl_strbuf_puts(b, "null");
        break;
    }
}

static void put_tensor_dim(tl_strbuf *b, const tl_tensor *t, const int64_t *shape, int dim,
                           const char **p, size_t esize) {
    if (dim == t->n_dims) {
        put_elem(b, t, *p);
        *p += esize;
        return;
    }
    tl_strbuf_putc(b, '[');
    for (int64_t i = 0; i < shape[dim]; i++) {
        if (i) tl_strbuf_putc(b, ',');
        put_tensor_dim(b, t, shape, dim + 1, p, esize);
    }
    tl_strbuf_putc(b, ']');
}

static tl_status put_tensor(tl_strbuf *b, const tl_tensor *t, const char *who) {
    if (tl_tensor_nelements(t) > TL_JSON_MAX_TENSOR) {
        char sh[128];
        return tl_fail(TL_ERR_ARG,
                       "%s: a tensor of shape %s is too large for JSON (max %lld "
                       "elements); use save() for .npy",
                       who, tl_tensor_shape_str(t, sh, sizeof sh), (long long)TL_JSON_MAX_TENSOR);
    }
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    tl_tensor *c = NULL;
    tl_status st;
    if (tr->quantized)
        st = tl_op_cast(t, TL_DTYPE_F32, &c);
    else if (!tl_tensor_is_contiguous(t))
        st = tl_op_contiguous(t, &c);
    else
        st = (c = tl_tensor_ref((tl_tensor *)t)) ? TL_OK : TL_ERR_INTERNAL;
    if (st != TL_OK) return st;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(c, shape);
    const char *p = tl_tensor_data(c);
    put_tensor_dim(b, c, shape, 0, &p, tl_dtype_traits(c->dtype)->size);
    tl_tensor_unref(c);
    return TL_OK;
}

static _Thread_local size_t max_text; /* set by tl_json_encode */

static tl_status encode(tl_strbuf *b, const tl_value *v, const char *who, int depth) {
    if (depth > MAX_DEPTH)
        return tl_fail(TL_ERR_ARG, "%s: nested deeper than %d levels (a cycle?)", who, MAX_DEPTH);
    if (b->len > max_text) /* a shared value (`a = [a, a]` repeated) unfolds exponentially */
        return tl_fail(TL_ERR_NOMEM, "%s: the JSON text would be larger than %zu bytes", who,
                       max_text);
    switch (v->kind) {
    case TL_VAL_VOID:
        tl_strbuf_puts(b, "null");
        return TL_OK;
    case TL_VAL_BOOL:
        tl_strbuf_puts(b, v->as.b ? "true" : "false");
        return TL_OK;
    case TL_VAL_INT:
        tl_strbuf_printf(b, "%lld", (long long)v->as.i);
        return TL_OK;
    case TL_VAL_FLOAT:
        put_double(b, v->as.f);
        return TL_OK;
    case TL_VAL_STRING: {
        tl_status st = check_utf8(v->as.str->data, v->as.str->len, who);
        if (st != TL_OK) return st;
        put_string(b, v->as.str->data, v->as.str->len);
    }
        return TL_OK;
    case TL_VAL_TENSOR:
        return put_tensor(b, v->as.tensor, who);
    case TL_VAL_ARRAY: {
        const tl_array *a = v->as.arr;
        tl_strbuf_putc(b, '[');
        for (size_t i = 0; i < a->len; i++) {
            if (i) tl_strbuf_putc(b, ',');
            tl_status st = encode(b, &a->items[i], who, depth + 1);
            if (st != TL_OK) return st;
        }
        tl_strbuf_putc(b, ']');
        return TL_OK;
    }
    case TL_VAL_STRUCT: {
        const tl_struct_value *s = v->as.st;
        tl_strbuf_putc(b, '{');
        const tl_node *f = s->decl->a;
        for (uint32_t i = 0; i < s->n && f; i++, f = f->next) {
            if (i) tl_strbuf_putc(b, ',');
            put_string(b, f->name, strlen(f->name));
            tl_strbuf_putc(b, ':');
            tl_status st = encode(b, &s->fields[i], who, depth + 1);
            if (st != TL_OK) return st;
        }
        tl_strbuf_putc(b, '}');
        return TL_OK;
    }
    case TL_VAL_OBJECT: {
        const json_obj *o = tl_value_object_payload(v, &tl_json_object_class);
        if (o) {
            tl_strbuf_putc(b, '{');
            for (size_t i = 0; i < o->n; i++) {
                if (i) tl_strbuf_putc(b, ',');
                put_string(b, o->keys[i], strlen(o->keys[i]));
                tl_strbuf_putc(b, ':');
                tl_status st = encode(b, &o->vals[i], who, depth + 1);
                if (st != TL_OK) return st;
            }
            tl_strbuf_putc(b, '}');
            return TL_OK;
        }
        break;
    }
    default:
        break;
    }
    return tl_fail(TL_ERR_TYPE, "%s: %s %s has no JSON form", who, tl_value_type_article(v),
                   tl_value_type_name(v));
}

tl_status tl_json_encode(tl_strbuf *b, const tl_value *v, const char *who) {
    max_text = tl_read_limit(TL_READ_DATA);
    if (max_text > TL_JSON_MAX_TEXT) max_text = TL_JSON_MAX_TEXT;
    size_t start = b->len;
    tl_status st = encode(b, v, who, 0);
    if (st == TL_OK && b->len - start > max_text)
        st = tl_fail(TL_ERR_NOMEM, "%s: the JSON text would be larger than %zu bytes", who,
                     max_text);
    if (st == TL_OK && b->oom) st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", who);
    return st;
}

/* ------------------------------------------------------------------ decoding */

static tl_status decode(const json_t *j, tl_value *out) {
    *out = TL_VOID;
    switch (json_typeof(j)) {
    case JSON_NULL:
        return TL_OK;
    case JSON_TRUE:
        *out = tl_value_bool(true);
        return TL_OK;
    case JSON_FALSE:
        *out = tl_value_bool(false);
        return TL_OK;
    case JSON_INTEGER:
        *out = tl_value_int((int64_t)json_integer_value(j));
        return TL_OK;
    case JSON_REAL:
        *out = tl_value_float(json_real_value(j));
        return TL_OK;
    case JSON_STRING:
        return tl_value_string(json_string_value(j), json_string_length(j), out);
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        tl_status st = tl_value_array(n, out);
        for (size_t i = 0; st == TL_OK && i < n; i++) {
            tl_value e;
            st = decode(json_array_get(j, i), &e);
            if (st == TL_OK) st = tl_array_push(out->as.arr, e);
        }
        if (st != TL_OK) tl_value_release(out);
        return st;
    }
    case JSON_OBJECT: {
        json_obj *o = calloc(1, sizeof *o);
        if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
        const char *key;
        json_t *val;
        tl_status st = TL_OK;
        json_object_foreach((json_t *)j, key, val) {
            tl_value e;
            st = decode(val, &e);
            if (st == TL_OK) st = json_obj_append(o, key, e);
            if (st != TL_OK) break;
        }
        if (st != TL_OK) {
            json_obj_free(o);
            return st;
        }
        return tl_value_object(&tl_json_object_class, o, out);
    }
    }
    return tl_fail(TL_ERR_INTERNAL, "unknown JSON type");
}

tl_status tl_json_decode(const char *text, size_t len, const char *who, tl_value *out) {
    *out = TL_VOID;
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!j)
        return tl_fail(TL_ERR_FORMAT, "%s: malformed JSON at line %d column %d: %s", who, err.line,
                       err.column, err.text);
    tl_status st = decode(j, out);
    json_decref(j);
    return st;
}
