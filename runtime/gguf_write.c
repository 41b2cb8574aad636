/* runtime/gguf_write.c -- the GGUF writer (v3, ggml's layout: tensors in order, zero padded). */
#include "runtime/gguf.h"

#include "runtime/gguf_internal.h"
#include "runtime/temp_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct wkv {
    char *key;
    size_t key_len;
    tl_gguf_type type;
    uint8_t *payload; /* the serialized value (what follows the type field) */
    size_t payload_len;
} wkv;

typedef struct wtensor {
    char *name;
    tl_dtype dtype;
    int n_dims;
    int64_t ne[TL_GGUF_MAX_DIMS];
    size_t nbytes;
    tl_tensor *t;                    /* NULL for a lazy tensor until it is written */
    tl_gguf_tensor_producer produce; /* lazy tensors: makes t at save time         */
    void *produce_ctx;
} wtensor;

/* Open-addressing index of names: slot -> 1 + item index (0 = empty), so a
** file with 100000 keys or tensors is built in linear time. */
typedef struct name_index {
    uint32_t *slots;
    size_t cap; /* a power of two, >= 2 x the items; 0 = no index (linear search) */
} name_index;

struct tl_gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *tensors;
    size_t n_tensors, cap_tensors;
    uint32_t alignment;
    name_index kv_ix, t_ix;
};

static size_t str_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ h >> 29);
}

/* The slot holding name (names(i) gives item i's name), or the empty slot for it. */
static size_t ix_slot(const name_index *x, const char *name,
                      const char *(*names)(const void *, size_t), const void *items) {
    size_t m = x->cap - 1, k = str_hash(name) & m;
    while (x->slots[k] && strcmp(names(items, x->slots[k] - 1), name) != 0)
        k = (k + 1) & m;
    return k;
}

/* Adds item i (n items in all); (re)builds the index when it is missing or full.
** Without memory the index is dropped and lookups fall back to a linear search. */
static void ix_add(name_index *x, size_t i, size_t n, const char *(*names)(const void *, size_t),
                   const void *items) {
    if (x->cap && 2 * n <= x->cap) {
        x->slots[ix_slot(x, names(items, i), names, items)] = (uint32_t)i + 1;
        return;
    }
    if (n < 16) return;
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    free(x->slots);
    x->slots = calloc(cap, sizeof *x->slots);
    x->cap = x->slots ? cap : 0;
    for (size_t j = 0; x->cap && j < n; j++)
        x->slots[ix_slot(x, names(items, j), names, items)] = (uint32_t)j + 1;
}

static const char *kv_name(const void *items, size_t i) {
    return ((const wkv *)items)[i].key;
}

static const char *t_name(const void *items, size_t i) {
    return ((const wtensor *)items)[i].name;
}

tl_status tl_gguf_writer_new(tl_gguf_writer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return tl_fail(TL_ERR_NOMEM, "out of memory");
    (*out)->alignment = TL_GGUF_DEFAULT_ALIGNMENT;
    return TL_OK;
}

void tl_gguf_writer_free(tl_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kvs[i].key);
        free(w->kvs[i].payload);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        tl_tensor_unref(w->tensors[i].t);
    }
    free(w->kvs);
    free(w->tensors);
    free(w->kv_ix.slots);
    free(w->t_ix.slots);
    free(w);
}

/* ---- key/values ----------------------------------------------------------- */

static wkv *find_kv(tl_gguf_writer *w, const char *key) {
    if (w->kv_ix.cap) {
        uint32_t at = w->kv_ix.slots[ix_slot(&w->kv_ix, key, kv_name, w->kvs)];
        return at ? &w->kvs[at - 1] : NULL;
    }
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kvs[i].key, key) == 0) return &w->kvs[i];
    return NULL;
}

/* Takes ownership of payload (frees it on failure). */
static tl_status put_kv(tl_gguf_writer *w, const char *key, tl_gguf_type type, uint8_t *payload,
                        size_t len) {
    size_t klen = strlen(key);
    if (klen == 0) {
        free(payload);
        return tl_fail(TL_ERR_ARG, "gguf writer: empty key");
    }
    if (strcmp(key, "general.alignment") == 0) {
        uint32_t a = 0;
        if (type == TL_GGUF_UINT32) memcpy(&a, payload, 4);
        if (type != TL_GGUF_UINT32 || a == 0 || (a & (a - 1)) != 0) {
            free(payload);
            return tl_fail(TL_ERR_ARG,
                           "gguf writer: general.alignment must be a uint32 power of two");
        }
        w->alignment = a;
    }
    wkv *kv = find_kv(w, key);
    if (kv) {
        free(kv->payload);
        kv->type = type;
        kv->payload = payload;
        kv->payload_len = len;
        return TL_OK;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *n = realloc(w->kvs, cap * sizeof *n);
        if (!n) {
            free(payload);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
        w->kvs = n;
        w->cap_kv = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(payload);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    w->kvs[w->n_kv++] =
        (wkv){.key = k, .key_len = klen, .type = type, .payload = payload, .payload_len = len};
    ix_add(&w->kv_ix, w->n_kv - 1, w->n_kv, kv_name, w->kvs);
    return TL_OK;
}

tl_status tl_gguf_writer_set_scalar(tl_gguf_writer *w, const char *key, tl_gguf_type type,
                                    const void *value) {
    size_t sz = tl_gguf_type_size(type);
    if (sz == 0)
        return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': %s is not a scalar type", key,
                       tl_gguf_type_name(type));
    uint8_t *p = malloc(sz);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    if (type == TL_GGUF_BOOL)
        p[0] = *(const bool *)value ? 1 : 0;
    else
        memcpy(p, value, sz);
    return put_kv(w, key, type, p, sz);
}

tl_status tl_gguf_writer_set_u32(tl_gguf_writer *w, const char *key, uint32_t v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_UINT32, &v);
}
tl_status tl_gguf_writer_set_i32(tl_gguf_writer *w, const char *key, int32_t v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_INT32, &v);
}
tl_status tl_gguf_writer_set_u64(tl_gguf_writer *w, const char *key, uint64_t v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_UINT64, &v);
}
tl_status tl_gguf_writer_set_i64(tl_gguf_writer *w, const char *key, int64_t v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_INT64, &v);
}
tl_status tl_gguf_writer_set_f32(tl_gguf_writer *w, const char *key, float v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_FLOAT32, &v);
}
tl_status tl_gguf_writer_set_f64(tl_gguf_writer *w, const char *key, double v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_FLOAT64, &v);
}
tl_status tl_gguf_writer_set_bool(tl_gguf_writer *w, const char *key, bool v) {
    return tl_gguf_writer_set_scalar(w, key, TL_GGUF_BOOL, &v);
}

tl_status tl_gguf_writer_set_string(tl_gguf_writer *w, const char *key, const char *s, size_t len) {
    if (len > TL_GGUF_MAX_STRING)
        return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': string too long", key);
    uint8_t *p = malloc(8 + len);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    uint64_t n = len;
    memcpy(p, &n, 8);
    if (len) memcpy(p + 8, s, len);
    return put_kv(w, key, TL_GGUF_STRING, p, 8 + len);
}

tl_status tl_gguf_writer_set_array(tl_gguf_writer *w, const char *key, tl_gguf_type elem_type,
                                   const void *data, uint64_t count) {
    size_t sz = tl_gguf_type_size(elem_type);
    if (sz == 0)
        return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': arrays of %s need their own setter", key,
                       tl_gguf_type_name(elem_type));
    if (count > TL_GGUF_MAX_STRING)
        return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': array too long", key);
    size_t len = 12 + (size_t)count * sz;
    uint8_t *p = malloc(len);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    int32_t et = elem_type;
    memcpy(p, &et, 4);
    memcpy(p + 4, &count, 8);
    if (elem_type == TL_GGUF_BOOL) {
        for (uint64_t i = 0; i < count; i++)
            p[12 + i] = ((const bool *)data)[i] ? 1 : 0;
    } else if (count) {
        memcpy(p + 12, data, (size_t)count * sz);
    }
    return put_kv(w, key, TL_GGUF_ARRAY, p, len);
}

tl_status tl_gguf_writer_set_string_array(tl_gguf_writer *w, const char *key,
                                          const char *const *strs, const size_t *lens,
                                          uint64_t count) {
    if (count > TL_GGUF_MAX_STRING)
        return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': array too long", key);
    size_t len = 12;
    for (uint64_t i = 0; i < count; i++) {
        size_t n = lens ? lens[i] : strlen(strs[i]);
        if (n > TL_GGUF_MAX_STRING)
            return tl_fail(TL_ERR_ARG, "gguf writer: key '%s': string %llu too long", key,
                           (unsigned long long)i);
        len += 8 + n;
    }
    uint8_t *p = malloc(len);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    int32_t et = TL_GGUF_STRING;
    memcpy(p, &et, 4);
    memcpy(p + 4, &count, 8);
    size_t at = 12;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t n = lens ? lens[i] : strlen(strs[i]);
        memcpy(p + at, &n, 8);
        if (n) memcpy(p + at + 8, strs[i], (size_t)n);
        at += 8 + (size_t)n;
    }
    return put_kv(w, key, TL_GGUF_ARRAY, p, len);
}

tl_status tl_gguf_writer_copy_kv(tl_gguf_writer *w, const tl_gguf_kv *kv) {
    if (kv->type == TL_GGUF_STRING)
        return tl_gguf_writer_set_string(w, kv->key, kv->str, kv->str_len);
    if (kv->type != TL_GGUF_ARRAY) {
        size_t sz = tl_gguf_type_size(kv->type);
        uint8_t *p = malloc(sz);
        if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
        memcpy(p, kv->data, sz);
        return put_kv(w, kv->key, kv->type, p, sz);
    }
    /* An array: the element bytes are copied verbatim. */
    size_t body;
    if (kv->elem_type == TL_GGUF_STRING) {
        if (kv->count == 0) {
            body = 0;
        } else {
            uint64_t last;
            memcpy(&last, kv->data + kv->str_pos[kv->count - 1], 8);
            body = (size_t)kv->str_pos[kv->count - 1] + 8 + (size_t)last;
        }
    } else {
        body = (size_t)kv->count * tl_gguf_type_size(kv->elem_type);
    }
    uint8_t *p = malloc(12 + body);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    int32_t et = kv->elem_type;
    memcpy(p, &et, 4);
    memcpy(p + 4, &kv->count, 8);
    if (body) memcpy(p + 12, kv->data, body);
    return put_kv(w, kv->key, TL_GGUF_ARRAY, p, 12 + body);
}

bool tl_gguf_writer_remove(tl_gguf_writer *w, const char *key) {
    wkv *kv = find_kv(w, key);
    if (!kv) return false;
    if (strcmp(key, "general.alignment") == 0) w->alignment = TL_GGUF_DEFAULT_ALIGNMENT;
    free(kv->key);
    free(kv->payload);
    size_t i = (size_t)(kv - w->kvs);
    memmove(&w->kvs[i], &w->kvs[i + 1], (w->n_kv - i - 1) * sizeof *kv);
    w->n_kv--;
    free(w->kv_ix.slots); /* the indices moved: rebuilt at the next insertion */
    w->kv_ix = (name_index){0};
    return true;
}

/* ---- tensors -------------------------------------------------------------- */

/* Checks a tensor's header fields and appends it (taking over the reference in t). */
static tl_status add_entry(tl_gguf_writer *w, const char *name, tl_dtype dt, int n_dims,
                           const int64_t *ne, tl_tensor *t, tl_gguf_tensor_producer produce,
                           void *ctx) {
    size_t nlen = strlen(name);
    if (nlen > TL_GGUF_MAX_NAME)
        return tl_fail(TL_ERR_ARG, "gguf writer: tensor name '%s' is longer than %d bytes", name,
                       TL_GGUF_MAX_NAME);
    if (dt == TL_DTYPE_BOOL || !tl_dtype_is_valid((int)dt))
        return tl_fail(TL_ERR_TYPE, "gguf writer: tensor '%s': %s tensors cannot be stored in GGUF",
                       name, tl_dtype_name(dt));
    if (n_dims < 0) return tl_fail(TL_ERR_SHAPE, "gguf writer: tensor '%s': bad dims", name);
    for (int d = TL_GGUF_MAX_DIMS; d < n_dims; d++)
        if (ne[d] != 1)
            return tl_fail(TL_ERR_SHAPE, "gguf writer: tensor '%s' has %d dims (GGUF allows %d)",
                           name, n_dims, TL_GGUF_MAX_DIMS);
    if (n_dims > TL_GGUF_MAX_DIMS) n_dims = TL_GGUF_MAX_DIMS;
    const tl_type_traits *tr = tl_dtype_traits(dt);
    if (t && tr->quantized && t->nb[0] != tr->size)
        return tl_fail(TL_ERR_SHAPE, "gguf writer: tensor '%s': %s rows must be contiguous", name,
                       tr->name);
    bool twice = false;
    if (w->t_ix.cap)
        twice = w->t_ix.slots[ix_slot(&w->t_ix, name, t_name, w->tensors)] != 0;
    else
        for (size_t i = 0; i < w->n_tensors && !twice; i++)
            twice = strcmp(w->tensors[i].name, name) == 0;
    if (twice) return tl_fail(TL_ERR_ARG, "gguf writer: tensor '%s' added twice", name);
    size_t nbytes;
    size_t nb[TL_MAX_DIMS];
    if (!tl_contiguous_strides(dt, n_dims, ne, nb, &nbytes))
        return tl_fail(TL_ERR_SHAPE, "gguf writer: tensor '%s': bad shape for %s", name, tr->name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        wtensor *n = realloc(w->tensors, cap * sizeof *n);
        if (!n) return tl_fail(TL_ERR_NOMEM, "out of memory");
        w->tensors = n;
        w->cap_tensors = cap;
    }
    char *nm = strdup(name);
    if (!nm) return tl_fail(TL_ERR_NOMEM, "out of memory");
    wtensor *e = &w->tensors[w->n_tensors++];
    *e = (wtensor){.name = nm,
                   .dtype = dt,
                   .n_dims = n_dims,
                   .nbytes = nbytes,
                   .t = t,
                   .produce = produce,
                   .produce_ctx = ctx};
    for (int d = 0; d < TL_GGUF_MAX_DIMS; d++)
        e->ne[d] = d < n_dims ? ne[d] : 1;
    ix_add(&w->t_ix, w->n_tensors - 1, w->n_tensors, t_name, w->tensors);
    return TL_OK;
}

tl_status tl_gguf_writer_add_tensor(tl_gguf_writer *w, const char *name, tl_tensor *t) {
    tl_status st = add_entry(w, name, t->dtype, t->n_dims, t->ne, t, NULL, NULL);
    if (!st) tl_tensor_ref(t);
    return st;
}

tl_status tl_gguf_writer_add_tensor_lazy(tl_gguf_writer *w, const char *name, tl_dtype dt,
                                         int n_dims, const int64_t *ne,
                                         tl_gguf_tensor_producer produce, void *ctx) {
    return add_entry(w, name, dt, n_dims, ne, NULL, produce, ctx);
}

/* ---- saving --------------------------------------------------------------- */

static size_t pad_to(size_t x, size_t a) {
    return (x + a - 1) & ~(a - 1);
}

typedef struct sink {
    FILE *f;
    bool failed;
    size_t written;
} sink;

static void put(sink *s, const void *p, size_t n) {
    if (s->failed || n == 0) return;
    if (fwrite(p, 1, n, s->f) != n) s->failed = true;
    s->written += n;
}

static void put_zeros(sink *s, size_t n) {
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(s, zeros, k);
        n -= k;
    }
}

/* Writes t's data in contiguous order (rows of dim 0, then the outer dims). */
static bool same_dims(const tl_tensor *t, const wtensor *wt) {
    for (int d = 0; d < TL_MAX_DIMS; d++)
        if (t->ne[d] != (d < TL_GGUF_MAX_DIMS ? wt->ne[d] : 1)) return false;
    return true;
}

static tl_status put_tensor_data(sink *s, const tl_tensor *t) {
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    int64_t ne[4] = {1, 1, 1, 1};
    for (int d = 0; d < t->n_dims && d < 4; d++)
        ne[d] = t->ne[d];
    for (int d = 0; d < 4; d++)
        if (ne[d] == 0) return TL_OK;
    size_t row = (size_t)(ne[0] / tr->blck) * tr->size;
    bool row_contig = t->nb[0] == tr->size;
    uint8_t *buf = NULL;
    if (!row_contig) {
        buf = malloc(row);
        if (!buf) return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    const uint8_t *base = tl_tensor_data(t);
    for (int64_t i3 = 0; i3 < ne[3]; i3++)
        for (int64_t i2 = 0; i2 < ne[2]; i2++)
            for (int64_t i1 = 0; i1 < ne[1]; i1++) {
                const uint8_t *r = base + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
                if (row_contig) {
                    put(s, r, row);
                } else {
                    for (int64_t i0 = 0; i0 < ne[0]; i0++)
                        memcpy(buf + (size_t)i0 * tr->size, r + i0 * t->nb[0], tr->size);
                    put(s, buf, row);
                }
            }
    free(buf);
    return TL_OK;
}

tl_status tl_gguf_writer_save(tl_gguf_writer *w, const char *path) {
    /* a hidden .NAME.tmp-PID-N beside the file, registered so a signal removes it
       (runtime/temp_file.h), renamed over it once complete and synced; a symlink
       to an existing file is written through (the link stays), and an existing
       file keeps its permission bits */
    struct stat sb;
    char *real = NULL;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) real = realpath(path, NULL);
    const char *target = real ? real : path;
    bool exists = stat(target, &sb) == 0 && S_ISREG(sb.st_mode);
    char *tmp;
    int fd, err = tl_temp_create(target, &tmp, &fd);
    if (err) {
        free(real);
        if (err == ENOMEM) return tl_fail(TL_ERR_NOMEM, "out of memory");
        return tl_fail(TL_ERR_IO, "%s: cannot create a file beside it: %s", path, strerror(err));
    }
    if (exists) (void)fchmod(fd, sb.st_mode & 07777);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        tl_status st = tl_fail(TL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        tl_temp_forget(tmp);
        free(tmp);
        free(real);
        return st;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    sink s = {.f = f};
    size_t a = w->alignment;

    put(&s, "GGUF", 4);
    uint32_t version = 3;
    put(&s, &version, 4);
    int64_t n_tensors = (int64_t)w->n_tensors, n_kv = (int64_t)w->n_kv;
    put(&s, &n_tensors, 8);
    put(&s, &n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kvs[i];
        uint64_t kl = kv->key_len;
        int32_t ty = kv->type;
        put(&s, &kl, 8);
        put(&s, kv->key, kv->key_len);
        put(&s, &ty, 4);
        put(&s, kv->payload, kv->payload_len);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *wt = &w->tensors[i];
        uint64_t nl = strlen(wt->name);
        put(&s, &nl, 8);
        put(&s, wt->name, (size_t)nl);
        uint32_t nd = (uint32_t)wt->n_dims;
        put(&s, &nd, 4);
        for (uint32_t d = 0; d < nd; d++)
            put(&s, &wt->ne[d], 8);
        int32_t ty = wt->dtype;
        put(&s, &ty, 4);
        put(&s, &offset, 8);
        offset += pad_to(wt->nbytes, a);
    }
    /* Like ggml's writer, pad the header even without tensors. */
    put_zeros(&s, pad_to(s.written, a) - s.written);
    tl_status st = TL_OK;
    for (size_t i = 0; i < w->n_tensors && !st; i++) {
        wtensor *wt = &w->tensors[i];
        tl_tensor *t = wt->t;
        if (!t) {
            st = wt->produce(wt->produce_ctx, &t);
            if (!st && (t->dtype != wt->dtype || !same_dims(t, wt))) {
                tl_tensor_unref(t);
                st = tl_fail(TL_ERR_INTERNAL,
                             "gguf writer: tensor '%s': the producer made a "
                             "tensor of another type or shape",
                             wt->name);
            }
            if (st) break;
        }
        st = put_tensor_data(&s, t);
        if (!wt->t) tl_tensor_unref(t); /* a lazy tensor is dropped as soon as written */
        put_zeros(&s, pad_to(wt->nbytes, a) - wt->nbytes);
    }
    if (!st && s.failed) st = tl_fail(TL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (!st && fflush(f) != 0)
        st = tl_fail(TL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (!st && fsync(fileno(f)) != 0 && errno != EINVAL)
        st = tl_fail(TL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && !st)
        st = tl_fail(TL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (!st && rename(tmp, target) != 0)
        st = tl_fail(TL_ERR_IO, "%s: cannot replace it: %s", path, strerror(errno));
    if (st) unlink(tmp);
    tl_temp_forget(tmp);
    free(tmp);
    free(real);
    return st;
}
