/* lang/builtins/model.c -- GGUF models in .tl: load_model, get_tensor, model_meta,
** tensor_names, llama_config, save_gguf, and the property views
** `model.blk[i].attn_q.weight`, `model.output_norm.weight`, `model.config`.
**
** Host object classes (all hold a tl_model reference, never a .tl value, so
** there are no cycles):
**   Model         get_property: blk (an array of ModelLayer), config, path,
**                 arch, or any tensor-name prefix (a ModelFeature / a tensor);
**                 methods: get_tensor(name), meta(key[, default]), tensor_names()
**   ModelLayer    blk.N: attn_q, ffn_norm, ... -> ModelFeature (or a tensor)
**   ModelFeature  a tensor-name prefix: .weight/.bias/... -> the tensor
**   LlamaConfig   n_layer, n_head, n_head_kv, n_embd, head_dim, n_ff, n_vocab,
**                 n_ctx, rope_dim (ints), eps, rope_base (floats), tied_output
** Tensors returned are views into the mapping: quantized weights stay
** quantized.  Nothing here prints. */
#include "lang/builtins/model.h"

#include "lang/builtin.h"
#include "runtime/gguf.h"
#include "runtime/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- payloads ---------------------------------------------------------------- */

/* as: TL_DTYPE_COUNT hands tensors out as stored (views into the file); F32 or F16 converts
** each tensor when it is asked for (load_model_f32 / load_model_f16, the original's loaders). */
typedef struct model_obj {
    tl_model *m;
    tl_dtype as;
    tl_value blk; /* cached array of ModelLayer (void until first asked) */
} model_obj;

/* A prefix remembers the properties asked of it (a forward pass asks each layer
** for the same nine weights every token): names up to 23 bytes, views only (a
** converting model's copies are made afresh each time, as before). */
#define PREFIX_CACHED 12
typedef struct prefix_obj {
    tl_model *m;
    tl_dtype as;
    char *prefix; /* "blk.3", "blk.3.attn_q", "output_norm", ... */
    int n_cached;
    struct {
        char name[24];
        tl_value v; /* a tensor view or a ModelFeature: never a .tl value (no cycles) */
    } cached[PREFIX_CACHED];
} prefix_obj;

typedef struct config_obj {
    tl_llama_config c;
} config_obj;

static void model_free(void *p) {
    model_obj *o = p;
    tl_value_release(&o->blk);
    tl_model_unref(o->m);
    free(o);
}

static void prefix_free(void *p) {
    prefix_obj *o = p;
    for (int i = 0; i < o->n_cached; i++)
        tl_value_release(&o->cached[i].v);
    tl_model_unref(o->m);
    free(o->prefix);
    free(o);
}

static tl_status model_get_property(tl_object *self, const char *name, tl_value *out);
static tl_status model_call_method(tl_object *self, const char *name, int argc,
                                   const tl_value *argv, tl_value *out);
static tl_status prefix_get_property(tl_object *self, const char *name, tl_value *out);
static tl_status config_get_property(tl_object *self, const char *name, tl_value *out);

static const tl_object_class model_class = {
    .name = "Model",
    .free = model_free,
    .get_property = model_get_property,
    .call_method = model_call_method,
};
static const tl_object_class layer_class = {
    .name = "ModelLayer", .free = prefix_free, .get_property = prefix_get_property};
static const tl_object_class feature_class = {
    .name = "ModelFeature", .free = prefix_free, .get_property = prefix_get_property};
static const tl_object_class config_class = {
    .name = "LlamaConfig", .free = free, .get_property = config_get_property};

static tl_status model_arg(const tl_call *c, const tl_value *argv, int i, model_obj **out) {
    *out = tl_value_object_payload(&argv[i], &model_class);
    if (!*out)
        return tl_fail(TL_ERR_TYPE, "%s: argument %d must be a Model (from load_model), got %s",
                       c->name, i + 1, tl_value_type_name(&argv[i]));
    return TL_OK;
}

/* ---- tensors and prefixes ----------------------------------------------------- */

static tl_status tensor_value(tl_model *m, tl_dtype as, const char *name, tl_value *out) {
    tl_tensor *t;
    tl_status st = tl_model_tensor(m, name, &t);
    if (st) return st;
    if (as != TL_DTYPE_COUNT && t->dtype != as) {
        /* load_model_f32/f16: a converted copy (the file's view is dropped) */
        tl_tensor *f, *h = NULL;
        st = tl_tensor_dequantize(t, &f);
        if (!st && as == TL_DTYPE_F16) {
            st = tl_tensor_quantize(f, TL_DTYPE_F16, &h);
            tl_tensor_unref(f);
            f = h;
        }
        if (!st) st = tl_tensor_set_name(f, name);
        tl_tensor_unref(t);
        if (st) {
            tl_tensor_unref(f);
            return st;
        }
        t = f;
    }
    *out = tl_value_tensor(t);
    return TL_OK;
}

/* True when some tensor's name starts with "prefix.".  Most prefixes name a
** layer's weight (blk.N.attn_q -> blk.N.attn_q.weight): one hash lookup
** answers those before the scan over every tensor name. */
static bool has_prefix(const tl_model *m, const char *prefix) {
    size_t n = strlen(prefix);
    char probe[256];
    if (n + sizeof ".weight" <= sizeof probe) {
        memcpy(probe, prefix, n);
        memcpy(probe + n, ".weight", sizeof ".weight");
        if (tl_model_find_tensor(m, probe)) return true;
    }
    for (int64_t i = 0; i < tl_model_n_tensors(m); i++) {
        const char *nm = tl_model_tensor_at(m, i)->name;
        if (strncmp(nm, prefix, n) == 0 && nm[n] == '.') return true;
    }
    return false;
}

static tl_status prefix_value(tl_model *m, tl_dtype as, const tl_object_class *cls,
                              const char *prefix, tl_value *out) {
    prefix_obj *o = calloc(1, sizeof *o);
    if (!o || !(o->prefix = strdup(prefix))) {
        free(o);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    o->m = tl_model_ref(m);
    o->as = as;
    return tl_value_object(cls, o, out);
}

/* name as a tensor, else as a prefix of tensors, else an error. */
static tl_status resolve_name(tl_model *m, tl_dtype as, const char *name, tl_value *out) {
    if (tl_model_find_tensor(m, name)) return tensor_value(m, as, name, out);
    if (has_prefix(m, name)) return prefix_value(m, as, &feature_class, name, out);
    return tl_fail(TL_ERR_RANGE, "%s: no tensor named '%s' (nor any '%s.*')", tl_model_path(m),
                   name, name);
}

static tl_status prefix_get_property(tl_object *self, const char *name, tl_value *out) {
    prefix_obj *o = self->payload;
    for (int i = 0; i < o->n_cached; i++)
        if (strcmp(o->cached[i].name, name) == 0) {
            *out = tl_value_retain(o->cached[i].v);
            return TL_OK;
        }
    size_t np = strlen(o->prefix), nn = strlen(name);
    char buf[256], *full = np + nn + 2 <= sizeof buf ? buf : malloc(np + nn + 2);
    if (!full) return tl_fail(TL_ERR_NOMEM, "out of memory");
    memcpy(full, o->prefix, np);
    full[np] = '.';
    memcpy(full + np + 1, name, nn + 1);
    tl_status st = resolve_name(o->m, o->as, full, out);
    if (full != buf) free(full);
    if (st == TL_OK && o->as == TL_DTYPE_COUNT && o->n_cached < PREFIX_CACHED &&
        nn < sizeof o->cached[0].name) {
        memcpy(o->cached[o->n_cached].name, name, nn + 1);
        o->cached[o->n_cached++].v = tl_value_retain(*out);
    }
    return st;
}

static tl_status layers_value(model_obj *o, tl_value *out) {
    if (o->blk.kind == TL_VAL_ARRAY) {
        *out = tl_value_retain(o->blk);
        return TL_OK;
    }
    int64_t n;
    tl_status st = tl_model_count_layers(o->m, &n);
    if (st) return st;
    tl_value arr;
    st = tl_value_array((size_t)n, &arr);
    if (st) return st;
    for (int64_t i = 0; i < n && !st; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "blk.%lld", (long long)i);
        tl_value layer;
        st = prefix_value(o->m, o->as, &layer_class, prefix, &layer);
        if (!st) st = tl_array_push(arr.as.arr, layer);
    }
    if (st) {
        tl_value_release(&arr);
        return st;
    }
    o->blk = arr;
    *out = tl_value_retain(arr);
    return TL_OK;
}

static tl_status config_value(tl_model *m, tl_value *out) {
    config_obj *o = calloc(1, sizeof *o);
    if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
    tl_status st = tl_model_llama_config(m, &o->c);
    if (st) {
        free(o);
        return st;
    }
    return tl_value_object(&config_class, o, out);
}

static tl_status config_get_property(tl_object *self, const char *name, tl_value *out) {
    const tl_llama_config *c = &((config_obj *)self->payload)->c;
    static const struct {
        const char *name;
        size_t off;
    } ints[] = {
        {"n_layer", offsetof(tl_llama_config, n_layer)},
        {"n_embd", offsetof(tl_llama_config, n_embd)},
        {"n_ff", offsetof(tl_llama_config, n_ff)},
        {"n_head", offsetof(tl_llama_config, n_head)},
        {"n_head_kv", offsetof(tl_llama_config, n_head_kv)},
        {"head_dim", offsetof(tl_llama_config, head_dim)},
        {"n_vocab", offsetof(tl_llama_config, n_vocab)},
        {"n_ctx", offsetof(tl_llama_config, n_ctx)},
        {"rope_dim", offsetof(tl_llama_config, rope_dim)},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strcmp(name, ints[i].name) == 0) {
            *out = tl_value_int(*(const int64_t *)((const char *)c + ints[i].off));
            return TL_OK;
        }
    if (strcmp(name, "eps") == 0) {
        *out = tl_value_float(c->eps);
        return TL_OK;
    }
    if (strcmp(name, "rope_base") == 0) {
        *out = tl_value_float(c->rope_base);
        return TL_OK;
    }
    if (strcmp(name, "tied_output") == 0) {
        *out = tl_value_bool(c->tied_output);
        return TL_OK;
    }
    return tl_fail(TL_ERR_ARG,
                   "LlamaConfig has no field '%s' (fields: n_layer, n_head, n_head_kv, n_embd, "
                   "head_dim, n_ff, n_vocab, n_ctx, rope_dim, eps, rope_base, tied_output)",
                   name);
}

/* ---- metadata as values ---------------------------------------------------- */

static tl_status elem_value(const tl_gguf_kv *kv, uint64_t i, tl_value *out) {
    switch (kv->elem_type) {
    case TL_GGUF_STRING: {
        const char *s;
        size_t len;
        tl_gguf_kv_string(kv, i, &s, &len);
        return tl_value_string(s, len, out);
    }
    case TL_GGUF_BOOL: {
        bool b = false;
        tl_gguf_kv_bool(kv, i, &b);
        *out = tl_value_bool(b);
        return TL_OK;
    }
    case TL_GGUF_FLOAT32:
    case TL_GGUF_FLOAT64: {
        double d = 0;
        tl_gguf_kv_float(kv, i, &d);
        *out = tl_value_float(d);
        return TL_OK;
    }
    default: {
        int64_t v;
        if (tl_gguf_kv_int(kv, i, &v)) {
            *out = tl_value_int(v);
        } else { /* a u64 above INT64_MAX */
            double d = 0;
            tl_gguf_kv_float(kv, i, &d);
            *out = tl_value_float(d);
        }
        return TL_OK;
    }
    }
}

static tl_status kv_value(const tl_gguf_kv *kv, tl_value *out) {
    if (kv->type != TL_GGUF_ARRAY) return elem_value(kv, 0, out);
    tl_value arr;
    tl_status st = tl_value_array((size_t)kv->count, &arr);
    for (uint64_t i = 0; i < kv->count && !st; i++) {
        tl_value v;
        st = elem_value(kv, i, &v);
        if (!st) st = tl_array_push(arr.as.arr, v);
    }
    if (st) {
        tl_value_release(&arr);
        return st;
    }
    *out = arr;
    return TL_OK;
}

static tl_status meta_value(tl_model *m, const char *key, const tl_value *dflt, tl_value *out) {
    const tl_gguf_kv *kv = tl_gguf_find(tl_model_gguf(m), key);
    if (!kv) {
        if (dflt) {
            *out = tl_value_retain(*dflt);
            return TL_OK;
        }
        return tl_fail(TL_ERR_RANGE, "%s: no metadata key '%s'", tl_model_path(m), key);
    }
    return kv_value(kv, out);
}

static tl_status names_value(tl_model *m, tl_value *out) {
    tl_value arr;
    tl_status st = tl_value_array((size_t)tl_model_n_tensors(m), &arr);
    for (int64_t i = 0; i < tl_model_n_tensors(m) && !st; i++) {
        tl_value s;
        st = tl_value_cstring(tl_model_tensor_at(m, i)->name, &s);
        if (!st) st = tl_array_push(arr.as.arr, s);
    }
    if (st) {
        tl_value_release(&arr);
        return st;
    }
    *out = arr;
    return TL_OK;
}

/* ---- the Model class ------------------------------------------------------------ */

static tl_status model_get_property(tl_object *self, const char *name, tl_value *out) {
    model_obj *o = self->payload;
    if (strcmp(name, "blk") == 0 || strcmp(name, "layers") == 0) return layers_value(o, out);
    if (strcmp(name, "config") == 0) return config_value(o->m, out);
    if (strcmp(name, "path") == 0) return tl_value_cstring(tl_model_path(o->m), out);
    if (strcmp(name, "arch") == 0) return tl_value_cstring(tl_model_arch(o->m), out);
    return resolve_name(o->m, o->as, name, out);
}

static tl_status model_call_method(tl_object *self, const char *name, int argc,
                                   const tl_value *argv, tl_value *out) {
    model_obj *o = self->payload;
    tl_call c = {.interp = NULL, .name = name};
    if (strcmp(name, "get_tensor") == 0 && argc == 1) {
        const char *s;
        tl_status st = tl_arg_string(&c, argv, 0, &s);
        return st ? st : tensor_value(o->m, o->as, s, out);
    }
    if (strcmp(name, "meta") == 0 && (argc == 1 || argc == 2)) {
        const char *s;
        tl_status st = tl_arg_string(&c, argv, 0, &s);
        return st ? st : meta_value(o->m, s, argc == 2 ? &argv[1] : NULL, out);
    }
    if (strcmp(name, "tensor_names") == 0 && argc == 0) return names_value(o->m, out);
    if (strcmp(name, "config") == 0 && argc == 0) return config_value(o->m, out);
    return tl_fail(TL_ERR_ARG,
                   "Model has no method %s with %d argument%s (methods: get_tensor(name), "
                   "meta(key[, default]), tensor_names(), config())",
                   name, argc, argc == 1 ? "" : "s");
}

/* ---- builtins ------------------------------------------------------------------ */

tl_model *tl_model_from_value(const tl_value *v) {
    model_obj *o = tl_value_object_payload(v, &model_class);
    return o ? o->m : NULL;
}

static tl_status model_value(tl_model *m, tl_dtype as, tl_value *out) {
    model_obj *o = calloc(1, sizeof *o);
    if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
    o->m = tl_model_ref(m);
    o->as = as;
    return tl_value_object(&model_class, o, out);
}

tl_status tl_model_to_value(tl_model *m, tl_value *out) {
    return model_value(m, TL_DTYPE_COUNT, out);
}

static tl_status load_as(tl_call *c, const tl_value *argv, tl_dtype as, tl_value *out) {
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st) return st;
    /* "~/..." is the home folder, as in the original scripts' model paths. */
    char *expanded = NULL;
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home) {
        size_t n = strlen(home) + strlen(path);
        if (!(expanded = malloc(n))) return tl_fail(TL_ERR_NOMEM, "out of memory");
        snprintf(expanded, n, "%s%s", home, path + 1);
        path = expanded;
    }
    tl_model *m;
    st = tl_model_load(path, &m);
    free(expanded);
    if (st) return st;
    st = model_value(m, as, out);
    tl_model_unref(m);
    return st;
}

static tl_status bi_load_model(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return load_as(c, argv, TL_DTYPE_COUNT, out);
}

static tl_status bi_load_model_f32(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return load_as(c, argv, TL_DTYPE_F32, out);
}

static tl_status bi_load_model_f16(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return load_as(c, argv, TL_DTYPE_F16, out);
}

static tl_status bi_get_tensor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    model_obj *o;
    const char *name;
    tl_status st = model_arg(c, argv, 0, &o);
    if (!st) st = tl_arg_string(c, argv, 1, &name);
    return st ? st : tensor_value(o->m, o->as, name, out);
}

static tl_status bi_model_meta(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    model_obj *o;
    const char *key;
    tl_status st = model_arg(c, argv, 0, &o);
    if (!st) st = tl_arg_string(c, argv, 1, &key);
    return st ? st : meta_value(o->m, key, argc > 2 ? &argv[2] : NULL, out);
}

static tl_status bi_tensor_names(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    model_obj *o;
    tl_status st = model_arg(c, argv, 0, &o);
    return st ? st : names_value(o->m, out);
}

static tl_status bi_llama_config(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    model_obj *o;
    tl_status st = model_arg(c, argv, 0, &o);
    return st ? st : config_value(o->m, out);
}

/* One item of a save_gguf tensor list: a named tensor, or [name, tensor]. */
static tl_status add_tensor_item(const tl_call *c, tl_gguf_writer *w, const tl_value *v,
                                 size_t index) {
    if (v->kind == TL_VAL_TENSOR) {
        if (!v->as.tensor->name)
            return tl_fail(TL_ERR_ARG,
                           "%s: tensor %zu has no name (pass [\"name\", tensor] instead)", c->name,
                           index);
        return tl_gguf_writer_add_tensor(w, v->as.tensor->name, v->as.tensor);
    }
    if (v->kind == TL_VAL_ARRAY && v->as.arr->len == 2 &&
        v->as.arr->items[0].kind == TL_VAL_STRING && v->as.arr->items[1].kind == TL_VAL_TENSOR)
        return tl_gguf_writer_add_tensor(w, v->as.arr->items[0].as.str->data,
                                         v->as.arr->items[1].as.tensor);
    return tl_fail(TL_ERR_TYPE, "%s: item %zu must be a named tensor or [name, tensor], got %s",
                   c->name, index, tl_value_type_name(v));
}

/* A metadata value from .tl: int -> int32 (or int64 when it does not fit), float -> float32,
** bool, string, arrays of those (element type from the first item). */
static tl_status set_meta(const tl_call *c, tl_gguf_writer *w, const char *key, const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_INT:
        if (v->as.i >= INT32_MIN && v->as.i <= INT32_MAX)
            return tl_gguf_writer_set_i32(w, key, (int32_t)v->as.i);
        return tl_gguf_writer_set_i64(w, key, v->as.i);
    case TL_VAL_FLOAT:
        return tl_gguf_writer_set_f32(w, key, (float)v->as.f);
    case TL_VAL_BOOL:
        return tl_gguf_writer_set_bool(w, key, v->as.b);
    case TL_VAL_STRING:
        return tl_gguf_writer_set_string(w, key, v->as.str->data, v->as.str->len);
    case TL_VAL_ARRAY: {
        const tl_array *a = v->as.arr;
        tl_value_kind k = a->len ? a->items[0].kind : TL_VAL_INT;
        for (size_t i = 0; i < a->len; i++)
            if (a->items[i].kind != k &&
                !(tl_value_is_number(&a->items[i]) && (k == TL_VAL_INT || k == TL_VAL_FLOAT)))
                return tl_fail(TL_ERR_TYPE, "%s: metadata '%s': mixed array", c->name, key);
        if (k == TL_VAL_STRING) {
            const char **strs = malloc((a->len + 1) * sizeof *strs);
            size_t *lens = malloc((a->len + 1) * sizeof *lens);
            tl_status st = TL_OK;
            if (!strs || !lens)
                st = tl_fail(TL_ERR_NOMEM, "out of memory");
            else {
                for (size_t i = 0; i < a->len; i++) {
                    strs[i] = a->items[i].as.str->data;
                    lens[i] = a->items[i].as.str->len;
                }
                st = tl_gguf_writer_set_string_array(w, key, strs, lens, a->len);
            }
            free(strs);
            free(lens);
            return st;
        }
        bool any_float = false;
        for (size_t i = 0; i < a->len; i++)
            any_float |= a->items[i].kind == TL_VAL_FLOAT;
        void *data = malloc((a->len + 1) * 4);
        if (!data) return tl_fail(TL_ERR_NOMEM, "out of memory");
        tl_gguf_type et;
        if (k == TL_VAL_BOOL) {
            et = TL_GGUF_BOOL;
            for (size_t i = 0; i < a->len; i++)
                ((bool *)data)[i] = a->items[i].as.b;
        } else if (k == TL_VAL_INT || k == TL_VAL_FLOAT) {
            et = any_float ? TL_GGUF_FLOAT32 : TL_GGUF_INT32;
            for (size_t i = 0; i < a->len; i++) {
                if (any_float)
                    ((float *)data)[i] = (float)tl_value_as_double(&a->items[i]);
                else
                    ((int32_t *)data)[i] = (int32_t)a->items[i].as.i;
            }
        } else {
            free(data);
            return tl_fail(TL_ERR_TYPE, "%s: metadata '%s': arrays of %s cannot be stored", c->name,
                           key, tl_value_kind_name(k));
        }
        tl_status st = tl_gguf_writer_set_array(w, key, et, data, a->len);
        free(data);
        return st;
    }
    default:
        return tl_fail(TL_ERR_TYPE, "%s: metadata '%s': %s values cannot be stored", c->name, key,
                       tl_value_type_name(v));
    }
}

/* Keys llama.cpp reads as uint32 (and rejects as int32): a new int value for them is stored
** as u32 when it fits, as llama.cpp's own writers do. */
static bool u32_key(const char *key) {
    static const char *const exact[] = {"general.file_type", "general.quantization_version",
                                        "general.alignment"};
    static const char *const suffix[] = {
        ".block_count",          ".context_length",       ".embedding_length",
        ".feed_forward_length",  ".attention.head_count", ".attention.head_count_kv",
        ".rope.dimension_count", ".vocab_size",           "_token_id"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(key, exact[i]) == 0) return true;
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        size_t m = strlen(suffix[i]);
        if (n > m && strcmp(key + n - m, suffix[i]) == 0) return true;
    }
    return false;
}

/* save_gguf(path, source[, meta])
**   source: a Model (all its metadata and tensors), or an array of named tensors or
**           [name, tensor] pairs;
**   meta:   a Model whose metadata is copied first, or an array of [key, value] pairs
**           set after (overriding); ints are int32, except for the keys llama.cpp reads as
**           uint32 (u32_key) and keys the meta Model has as uint32. */
static tl_status bi_save_gguf(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st) return st;
    tl_gguf_writer *w;
    if ((st = tl_gguf_writer_new(&w))) return st;
    const model_obj *meta_model = argc > 2 ? tl_value_object_payload(&argv[2], &model_class) : NULL;
    const model_obj *src = tl_value_object_payload(&argv[1], &model_class);
    const model_obj *kv_from = src ? src : meta_model;
    if (kv_from) {
        const tl_gguf *g = tl_model_gguf(kv_from->m);
        for (int64_t i = 0; i < tl_gguf_n_kv(g) && !st; i++)
            st = tl_gguf_writer_copy_kv(w, tl_gguf_kv_at(g, i));
    }
    if (!st && src) {
        for (int64_t i = 0; i < tl_model_n_tensors(src->m) && !st; i++) {
            tl_tensor *t = tl_model_tensor_at(src->m, i);
            st = tl_gguf_writer_add_tensor(w, t->name, t);
        }
    } else if (!st && argv[1].kind == TL_VAL_ARRAY) {
        for (size_t i = 0; i < argv[1].as.arr->len && !st; i++)
            st = add_tensor_item(c, w, &argv[1].as.arr->items[i], i);
    } else if (!st) {
        st = tl_fail(TL_ERR_TYPE, "%s: argument 2 must be a Model or an array of tensors, got %s",
                     c->name, tl_value_type_name(&argv[1]));
    }
    /* the [key, value] overrides: argument 3, or 4 after a meta Model (a key the Model has
    ** keeps its integer/float type there, e.g. llama.block_count stays u32) */
    int ov = meta_model ? 3 : 2;
    if (!st && argc > ov) {
        if (argv[ov].kind != TL_VAL_ARRAY)
            st = tl_fail(TL_ERR_TYPE,
                         "%s: argument %d must be a Model or an array of [key, value], got %s",
                         c->name, ov + 1, tl_value_type_name(&argv[ov]));
        for (size_t i = 0; !st && i < argv[ov].as.arr->len; i++) {
            const tl_value *p = &argv[ov].as.arr->items[i];
            if (p->kind != TL_VAL_ARRAY || p->as.arr->len != 2 ||
                p->as.arr->items[0].kind != TL_VAL_STRING) {
                st = tl_fail(TL_ERR_TYPE, "%s: metadata item %zu must be [key, value]", c->name, i);
                continue;
            }
            const char *key = p->as.arr->items[0].as.str->data;
            const tl_value *v = &p->as.arr->items[1];
            const tl_gguf_kv *old =
                meta_model ? tl_gguf_find(tl_model_gguf(meta_model->m), key) : NULL;
            if ((old ? old->type == TL_GGUF_UINT32 : u32_key(key)) && v->kind == TL_VAL_INT &&
                v->as.i >= 0 && v->as.i <= UINT32_MAX)
                st = tl_gguf_writer_set_u32(w, key, (uint32_t)v->as.i);
            else if (old && old->type == TL_GGUF_FLOAT32 && tl_value_is_number(v))
                st = tl_gguf_writer_set_f32(w, key, (float)tl_value_as_double(v));
            else
                st = set_meta(c, w, key, v);
        }
    }
    if (!st) st = tl_gguf_writer_save(w, path);
    tl_gguf_writer_free(w);
    return st;
}

#define MODEL_ARG TL_KIND_BIT(TL_VAL_OBJECT)

const tl_builtin_def tl_builtins_model[] = {
    {"load_model", 1, 1, bi_load_model, "load_model(path) -> Model", TL_KIND_BIT(TL_VAL_STRING)},
    {"load_model_f32", 1, 1, bi_load_model_f32, "load_model_f32(path) -> Model (tensors as f32)",
     TL_KIND_BIT(TL_VAL_STRING)},
    {"load_model_f16", 1, 1, bi_load_model_f16, "load_model_f16(path) -> Model (tensors as f16)",
     TL_KIND_BIT(TL_VAL_STRING)},
    {"get_tensor", 2, 2, bi_get_tensor, "get_tensor(model, name) -> tensor", MODEL_ARG},
    {"model_meta", 2, 3, bi_model_meta, "model_meta(model, key[, default]) -> value", MODEL_ARG},
    {"tensor_names", 1, 1, bi_tensor_names, "tensor_names(model) -> [string]", MODEL_ARG},
    {"llama_config", 1, 1, bi_llama_config, "llama_config(model) -> LlamaConfig", MODEL_ARG},
    {"save_gguf", 2, 4, bi_save_gguf,
     "save_gguf(path, model | [tensor | [name, tensor]][, model][, [[key, value]]])",
     TL_KIND_BIT(TL_VAL_STRING)},
    {0},
};
