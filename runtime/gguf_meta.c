/* runtime/gguf_meta.c -- typed access to GGUF metadata values: array elements as
** int/uint/float/bool/string, and the tl_gguf_get_* getters with range and type
** checks whose errors name the file and the key.  Split from gguf.c (parsing). */
#include "runtime/gguf.h"

#include "runtime/gguf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *elem_ptr(const tl_gguf_kv *kv, uint64_t i) {
    if (kv->elem_type == TL_GGUF_STRING || i >= kv->count) return NULL;
    if (kv->type != TL_GGUF_ARRAY && i != 0) return NULL;
    return kv->data + i * tl_gguf_type_size(kv->elem_type);
}

bool tl_gguf_kv_int(const tl_gguf_kv *kv, uint64_t i, int64_t *out) {
    const uint8_t *p = elem_ptr(kv, i);
    if (!p) return false;
    switch (kv->elem_type) {
    case TL_GGUF_UINT8:
        *out = p[0];
        return true;
    case TL_GGUF_INT8:
        *out = (int8_t)p[0];
        return true;
    case TL_GGUF_BOOL:
        *out = p[0] != 0;
        return true;
    case TL_GGUF_UINT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        *out = v;
        return true;
    }
    case TL_GGUF_INT16: {
        int16_t v;
        memcpy(&v, p, 2);
        *out = v;
        return true;
    }
    case TL_GGUF_UINT32: {
        uint32_t v;
        memcpy(&v, p, 4);
        *out = v;
        return true;
    }
    case TL_GGUF_INT32: {
        int32_t v;
        memcpy(&v, p, 4);
        *out = v;
        return true;
    }
    case TL_GGUF_INT64: {
        int64_t v;
        memcpy(&v, p, 8);
        *out = v;
        return true;
    }
    case TL_GGUF_UINT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v > INT64_MAX) return false;
        *out = (int64_t)v;
        return true;
    }
    default:
        return false;
    }
}

bool tl_gguf_kv_uint(const tl_gguf_kv *kv, uint64_t i, uint64_t *out) {
    const uint8_t *p = elem_ptr(kv, i);
    if (!p) return false;
    if (kv->elem_type == TL_GGUF_UINT64) {
        memcpy(out, p, 8);
        return true;
    }
    int64_t v;
    if (kv->elem_type == TL_GGUF_BOOL || !tl_gguf_kv_int(kv, i, &v) || v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

bool tl_gguf_kv_float(const tl_gguf_kv *kv, uint64_t i, double *out) {
    const uint8_t *p = elem_ptr(kv, i);
    if (!p) return false;
    if (kv->elem_type == TL_GGUF_FLOAT32) {
        float v;
        memcpy(&v, p, 4);
        *out = v;
        return true;
    }
    if (kv->elem_type == TL_GGUF_FLOAT64) {
        memcpy(out, p, 8);
        return true;
    }
    if (kv->elem_type == TL_GGUF_UINT64) {
        uint64_t v;
        memcpy(&v, p, 8);
        *out = (double)v;
        return true;
    }
    int64_t v;
    if (kv->elem_type == TL_GGUF_BOOL || !tl_gguf_kv_int(kv, i, &v)) return false;
    *out = (double)v;
    return true;
}

bool tl_gguf_kv_bool(const tl_gguf_kv *kv, uint64_t i, bool *out) {
    const uint8_t *p = elem_ptr(kv, i);
    if (!p || kv->elem_type != TL_GGUF_BOOL) return false;
    *out = p[0] != 0;
    return true;
}

bool tl_gguf_kv_string(const tl_gguf_kv *kv, uint64_t i, const char **s, size_t *len) {
    if (kv->type == TL_GGUF_STRING) {
        if (i != 0) return false;
        *s = kv->str;
        *len = (size_t)kv->str_len;
        return true;
    }
    if (kv->type != TL_GGUF_ARRAY || kv->elem_type != TL_GGUF_STRING || i >= kv->count)
        return false;
    const uint8_t *p = kv->data + kv->str_pos[i];
    uint64_t n;
    memcpy(&n, p, 8);
    *s = (const char *)p + 8;
    *len = (size_t)n;
    return true;
}

static const char *kv_type_desc(const tl_gguf_kv *kv, char *buf, size_t cap) {
    if (kv->type == TL_GGUF_ARRAY)
        snprintf(buf, cap, "an array of %s", tl_gguf_type_name(kv->elem_type));
    else
        snprintf(buf, cap, "%s", tl_gguf_type_name(kv->type));
    return buf;
}

static tl_status get_kv(const tl_gguf *g, const char *key, const tl_gguf_kv **kv) {
    *kv = tl_gguf_find(g, key);
    if (!*kv) return tl_fail(TL_ERR_RANGE, "%s: key '%s' not found", g->path, key);
    return TL_OK;
}

static tl_status wrong_type(const tl_gguf *g, const tl_gguf_kv *kv, const char *want) {
    char buf[64];
    return tl_fail(TL_ERR_TYPE, "%s: key '%s' is %s, expected %s", g->path, kv->key,
                   kv_type_desc(kv, buf, sizeof buf), want);
}

static tl_status get_int_range(const tl_gguf *g, const char *key, int64_t lo, int64_t hi,
                               const char *want, int64_t *out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    int64_t v;
    if (kv->type == TL_GGUF_ARRAY || kv->type == TL_GGUF_BOOL || !tl_gguf_kv_int(kv, 0, &v))
        return wrong_type(g, kv, want);
    if (v < lo || v > hi)
        return tl_fail(TL_ERR_RANGE, "%s: key '%s' = %lld does not fit in %s", g->path, key,
                       (long long)v, want);
    *out = v;
    return TL_OK;
}

tl_status tl_gguf_get_u32(const tl_gguf *g, const char *key, uint32_t *out) {
    int64_t v = 0;
    tl_status st = get_int_range(g, key, 0, UINT32_MAX, "uint32", &v);
    if (!st) *out = (uint32_t)v;
    return st;
}

tl_status tl_gguf_get_i32(const tl_gguf *g, const char *key, int32_t *out) {
    int64_t v = 0;
    tl_status st = get_int_range(g, key, INT32_MIN, INT32_MAX, "int32", &v);
    if (!st) *out = (int32_t)v;
    return st;
}

tl_status tl_gguf_get_i64(const tl_gguf *g, const char *key, int64_t *out) {
    return get_int_range(g, key, INT64_MIN, INT64_MAX, "int64", out);
}

tl_status tl_gguf_get_u64(const tl_gguf *g, const char *key, uint64_t *out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type == TL_GGUF_ARRAY || kv->type == TL_GGUF_BOOL || !tl_gguf_kv_uint(kv, 0, out))
        return wrong_type(g, kv, "uint64");
    return TL_OK;
}

tl_status tl_gguf_get_f64(const tl_gguf *g, const char *key, double *out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type == TL_GGUF_ARRAY || kv->type == TL_GGUF_BOOL || !tl_gguf_kv_float(kv, 0, out))
        return wrong_type(g, kv, "a number");
    return TL_OK;
}

tl_status tl_gguf_get_f32(const tl_gguf *g, const char *key, float *out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type == TL_GGUF_FLOAT32) {
        memcpy(out, kv->data, 4);
        return TL_OK;
    }
    double d;
    if (kv->type == TL_GGUF_ARRAY || kv->type == TL_GGUF_BOOL || !tl_gguf_kv_float(kv, 0, &d))
        return wrong_type(g, kv, "float32");
    *out = (float)d;
    return TL_OK;
}

tl_status tl_gguf_get_bool(const tl_gguf *g, const char *key, bool *out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type != TL_GGUF_BOOL) return wrong_type(g, kv, "bool");
    *out = kv->data[0] != 0;
    return TL_OK;
}

tl_status tl_gguf_get_string(const tl_gguf *g, const char *key, const char **s, size_t *len) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type != TL_GGUF_STRING) return wrong_type(g, kv, "string");
    *s = kv->str;
    if (len) *len = (size_t)kv->str_len;
    return TL_OK;
}

tl_status tl_gguf_get_array(const tl_gguf *g, const char *key, tl_gguf_type elem_type,
                            const tl_gguf_kv **out) {
    const tl_gguf_kv *kv;
    tl_status st = get_kv(g, key, &kv);
    if (st) return st;
    if (kv->type != TL_GGUF_ARRAY ||
        (elem_type != TL_GGUF_TYPE_COUNT && kv->elem_type != elem_type)) {
        char want[64];
        if (elem_type == TL_GGUF_TYPE_COUNT)
            snprintf(want, sizeof want, "an array");
        else
            snprintf(want, sizeof want, "an array of %s", tl_gguf_type_name(elem_type));
        return wrong_type(g, kv, want);
    }
    *out = kv;
    return TL_OK;
}
