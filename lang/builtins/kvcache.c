/* lang/builtins/kvcache.c -- the KVCache host object (runtime/kvcache.h) in .tl:
**   let cache = KVCache::new(n_layer[, capacity])      (also new_f16 / new_f32: f32 storage)
**   cache.append(layer, k, v)   cache.set(layer, k, v)
**   cache.get_k(layer) / cache.get_v(layer) -> [len, H, D] views
**   cache.len([layer])   cache.truncate(n)   cache.clear() */
#include "lang/builtin.h"
#include "runtime/kvcache.h"

#include <string.h>

static void kv_free(void *payload) {
    tl_kvcache_free(payload);
}

static tl_status kv_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                           tl_value *out);

static const tl_object_class kvcache_class = {
    .name = "KVCache",
    .free = kv_free,
    .call_method = kv_method,
};

static tl_status need_args(const char *name, int argc, int lo, int hi, const char *sig) {
    if (argc < lo || argc > hi)
        return tl_fail(TL_ERR_ARG, "KVCache.%s: wrong number of arguments (%d); expected %s", name,
                       argc, sig);
    return TL_OK;
}

static tl_status kv_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                           tl_value *out) {
    tl_kvcache *c = self->payload;
    tl_call call = {.interp = NULL, .name = name};
    tl_status st;
    int64_t layer = 0;
    *out = TL_VOID;
    if (strcmp(name, "append") == 0 || strcmp(name, "set") == 0) {
        tl_tensor *k, *v;
        if ((st = need_args(name, argc, 3, 3, "(layer, k, v)")) != TL_OK) return st;
        if ((st = tl_arg_int(&call, argv, 0, &layer)) != TL_OK) return st;
        if ((st = tl_arg_tensor(&call, argv, 1, &k)) != TL_OK) return st;
        if ((st = tl_arg_tensor(&call, argv, 2, &v)) != TL_OK) return st;
        return name[0] == 'a' ? tl_kvcache_append(c, layer, k, v) : tl_kvcache_set(c, layer, k, v);
    }
    if (strcmp(name, "get_k") == 0 || strcmp(name, "get_v") == 0) {
        tl_tensor *t;
        if ((st = need_args(name, argc, 1, 1, "(layer)")) != TL_OK) return st;
        if ((st = tl_arg_int(&call, argv, 0, &layer)) != TL_OK) return st;
        if ((st = tl_kvcache_view(c, layer, name[4] == 'v', &t)) != TL_OK) return st;
        *out = tl_value_tensor(t);
        return TL_OK;
    }
    if (strcmp(name, "len") == 0) {
        if ((st = need_args(name, argc, 0, 1, "([layer])")) != TL_OK) return st;
        if (argc == 1 && (st = tl_arg_int(&call, argv, 0, &layer)) != TL_OK) return st;
        *out = tl_value_int(tl_kvcache_len(c, layer));
        return TL_OK;
    }
    if (strcmp(name, "truncate") == 0 || strcmp(name, "clear") == 0) {
        int64_t n = 0;
        if (name[0] == 't') {
            if ((st = need_args(name, argc, 1, 1, "(n)")) != TL_OK) return st;
            if ((st = tl_arg_int(&call, argv, 0, &n)) != TL_OK) return st;
        } else if ((st = need_args(name, argc, 0, 0, "()")) != TL_OK) {
            return st;
        }
        return tl_kvcache_truncate(c, n);
    }
    if (strcmp(name, "n_layer") == 0) {
        *out = tl_value_int(tl_kvcache_n_layer(c));
        return TL_OK;
    }
    return tl_fail(TL_ERR_ARG,
                   "KVCache has no method '%s' (append, set, get_k, get_v, len, truncate, clear, "
                   "n_layer)",
                   name);
}

static tl_status kv_new(tl_call *call, int argc, const tl_value *argv, tl_value *out) {
    int64_t n_layer, capacity = 0;
    tl_status st = tl_arg_int(call, argv, 0, &n_layer);
    if (st == TL_OK && argc > 1) st = tl_arg_int(call, argv, 1, &capacity);
    if (st != TL_OK) return st;
    tl_kvcache *c;
    if ((st = tl_kvcache_new(n_layer, capacity, &c)) != TL_OK) return st;
    return tl_value_object(&kvcache_class, c, out);
}

const tl_builtin_def tl_builtins_kvcache[] = {
    {"KVCache::new", 1, 2, kv_new, "KVCache::new(n_layer[, capacity]) -> KVCache", 0},
    {"KVCache::new_f16", 1, 2, kv_new, "KVCache::new_f16(n_layer[, capacity]) -> KVCache", 0},
    {"KVCache::new_f32", 1, 2, kv_new, "KVCache::new_f32(n_layer[, capacity]) -> KVCache", 0},
    {0},
};
