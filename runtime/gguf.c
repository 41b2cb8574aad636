/* runtime/gguf.c -- the GGUF reader: mapping, validation, metadata and tensor lookup.
** The layout and the rules checked are in docs/formats.md (GGUF) and docs/models.md. */
#include "runtime/gguf.h"

#include "runtime/gguf_internal.h"
#include "runtime/threadpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- type tables ---------------------------------------------------------- */

static const char *const value_type_names[TL_GGUF_TYPE_COUNT] = {
    "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
    "bool",  "string", "array",  "uint64", "int64",  "float64"};
static const uint8_t value_type_sizes[TL_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *tl_gguf_type_name(tl_gguf_type t) {
    return (t >= 0 && t < TL_GGUF_TYPE_COUNT) ? value_type_names[t] : "?";
}

size_t tl_gguf_type_size(tl_gguf_type t) {
    return (t >= 0 && t < TL_GGUF_TYPE_COUNT) ? value_type_sizes[t] : 0;
}

/* Every ggml type id ggml has (docs/formats.md). */
static const char *const ggml_type_names[] = {
    [0] = "f32",     [1] = "f16",      [2] = "q4_0",   [3] = "q4_1",    [6] = "q5_0",
    [7] = "q5_1",    [8] = "q8_0",     [9] = "q8_1",   [10] = "q2_K",   [11] = "q3_K",
    [12] = "q4_K",   [13] = "q5_K",    [14] = "q6_K",  [15] = "q8_K",   [16] = "iq2_xxs",
    [17] = "iq2_xs", [18] = "iq3_xxs", [19] = "iq1_s", [20] = "iq4_nl", [21] = "iq3_s",
    [22] = "iq2_s",  [23] = "iq4_xs",  [24] = "i8",    [25] = "i16",    [26] = "i32",
    [27] = "i64",    [28] = "f64",     [29] = "iq1_m", [30] = "bf16",   [34] = "tq1_0",
    [35] = "tq2_0",  [39] = "mxfp4",   [40] = "nvfp4", [41] = "q1_0",   [42] = "q2_0",
};

const char *tl_gguf_ggml_type_name(int id) {
    if (id < 0 || (size_t)id >= sizeof ggml_type_names / sizeof ggml_type_names[0]) return NULL;
    return ggml_type_names[id];
}

/* Block size and bytes of the ggml types tl cannot load (ggml's type table), so that
** `tl gguf` can still list files that use them. */
static bool ggml_block_of(int id, int64_t *blck, size_t *size) {
    static const struct {
        int id, blck, size;
    } t[] = {{16, 256, 66},  {17, 256, 74}, {18, 256, 98},  {19, 256, 50}, {20, 32, 18},
             {21, 256, 110}, {22, 256, 82}, {23, 256, 136}, {29, 256, 56}, {34, 256, 54},
             {35, 256, 66},  {39, 32, 17},  {40, 64, 36},   {41, 128, 18}, {42, 64, 18}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].id == id) {
            *blck = t[i].blck;
            *size = (size_t)t[i].size;
            return true;
        }
    return false;
}

/* The ggml ids tl reads as tensors: those in tl_dtype except our own BOOL. */
bool tl_gguf_dtype_ok(int id) {
    if (id < 0 || id >= 31 || !tl_dtype_is_valid(id)) return false;
    return true;
}

/* ---- lookup tables (open addressing on FNV-1a) ---------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static size_t table_cap_for(int64_t n) {
    size_t cap = 16;
    while (cap < (size_t)n * 2 + 1)
        cap *= 2;
    return cap;
}

/* slots hold index+1; 0 = empty. */
static int64_t table_find(const int64_t *slots, size_t cap, const char *name, size_t len,
                          const char *(*name_at)(const void *, int64_t, size_t *),
                          const void *ctx) {
    if (!slots) return -1;
    size_t mask = cap - 1;
    for (size_t i = hash_bytes(name, len) & mask;; i = (i + 1) & mask) {
        if (slots[i] == 0) return -1;
        size_t l;
        const char *s = name_at(ctx, slots[i] - 1, &l);
        if (l == len && memcmp(s, name, len) == 0) return slots[i] - 1;
    }
}

static void table_insert(int64_t *slots, size_t cap, const char *name, size_t len, int64_t idx) {
    size_t mask = cap - 1;
    size_t i = hash_bytes(name, len) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = idx + 1;
}

static const char *kv_name_at(const void *ctx, int64_t i, size_t *len) {
    const tl_gguf *g = ctx;
    *len = g->kvs[i].key_len;
    return g->kvs[i].key;
}

static const char *tensor_name_at(const void *ctx, int64_t i, size_t *len) {
    const tl_gguf *g = ctx;
    *len = strlen(g->tensors[i].name);
    return g->tensors[i].name;
}

/* ---- the cursor: every read is bounds-checked ----------------------------- */

typedef struct cursor {
    const uint8_t *base;
    size_t size, pos;
    const char *file;
} cursor;

static size_t remaining(const cursor *c) {
    return c->size - c->pos;
}

static bool take(cursor *c, void *dst, size_t n) {
    if (n > remaining(c)) return false;
    memcpy(dst, c->base + c->pos, n);
    c->pos += n;
    return true;
}

/* What a file that is not GGUF probably is, from its first bytes. */
static const char *magic_hint(const char m[4]) {
    if (m[0] == '<' || (m[0] == '\n' && m[1] == '<'))
        return "; an HTML page? (a download that saved an error or login page)";
    if (m[0] == '{' || m[0] == '[') return "; a JSON file?";
    if (memcmp(m, "vers", 4) == 0) return "; a Git LFS pointer? (the real file was not fetched)";
    if (memcmp(m, "FUGG", 4) == 0) return "; a big-endian GGUF? (not supported)";
    if ((uint8_t)m[0] == 0x1f && (uint8_t)m[1] == 0x8b) return "; a gzip archive?";
    if (memcmp(m, "PK\x03\x04", 4) == 0) return "; a zip archive?";
    return "";
}

static tl_status truncated(const cursor *c, const char *what) {
    return tl_fail(TL_ERR_FORMAT,
                   "%s: truncated file: %s at byte %zu runs past end of file (size %zu; an "
                   "incomplete download?)",
                   c->file, what, c->pos, c->size);
}

/* Reads a length-prefixed string without copying. */
static tl_status read_string(cursor *c, const char *what, const uint8_t **s, uint64_t *len) {
    uint64_t n;
    if (!take(c, &n, 8)) return truncated(c, what);
    if (n > TL_GGUF_MAX_STRING)
        return tl_fail(TL_ERR_FORMAT, "%s: %s has absurd length %llu (limit %llu)", c->file, what,
                       (unsigned long long)n, (unsigned long long)TL_GGUF_MAX_STRING);
    if (n > remaining(c))
        return tl_fail(TL_ERR_FORMAT,
                       "%s: truncated file: %s of length %llu at byte %zu runs past end of file "
                       "(size %zu; an incomplete download?)",
                       c->file, what, (unsigned long long)n, c->pos, c->size);
    *s = c->base + c->pos;
    *len = n;
    c->pos += (size_t)n;
    return TL_OK;
}

static char *dup_bytes(const uint8_t *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A key as it may appear in a message: printable ASCII, at most 80 bytes. */
static const char *printable(const char *s, size_t n, char *buf, size_t cap) {
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[j++] = (ch >= 32 && ch < 127) ? (char)ch : '?';
        if (i == 80) {
            buf[j++] = '.';
            buf[j++] = '.';
            break;
        }
    }
    buf[j] = '\0';
    return buf;
}

/* ---- parsing ---------------------------------------------------------------- */

static tl_status read_value(cursor *c, tl_gguf *g, tl_gguf_kv *kv) {
    char kb[96];
    const char *key = printable(kv->key, kv->key_len, kb, sizeof kb);
    kv->count = 1;
    if (kv->type == TL_GGUF_STRING) {
        const uint8_t *s;
        uint64_t n;
        char what[160];
        snprintf(what, sizeof what, "key '%s': string value", key);
        tl_status st = read_string(c, what, &s, &n);
        if (st) return st;
        kv->data = s;
        kv->str_len = n;
        char *copy = dup_bytes(s, (size_t)n);
        if (!copy) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
        kv->str = copy;
        return TL_OK;
    }
    if (kv->type != TL_GGUF_ARRAY) {
        kv->data = c->base + c->pos;
        if (value_type_sizes[kv->type] > remaining(c)) {
            char what[160];
            snprintf(what, sizeof what, "key '%s': %s value", key, value_type_names[kv->type]);
            return truncated(c, what);
        }
        c->pos += value_type_sizes[kv->type];
        return TL_OK;
    }
    int32_t et;
    uint64_t count;
    if (!take(c, &et, 4) || !take(c, &count, 8)) {
        char what[160];
        snprintf(what, sizeof what, "key '%s': array header", key);
        return truncated(c, what);
    }
    if (et < 0 || et >= TL_GGUF_TYPE_COUNT)
        return tl_fail(TL_ERR_FORMAT, "%s: key '%s': invalid array element type %d", g->path, key,
                       et);
    if (et == TL_GGUF_ARRAY)
        return tl_fail(TL_ERR_FORMAT, "%s: key '%s': arrays of arrays are not supported", g->path,
                       key);
    if (count > TL_GGUF_MAX_STRING)
        return tl_fail(TL_ERR_FORMAT, "%s: key '%s': array has absurd length %llu (limit %llu)",
                       g->path, key, (unsigned long long)count,
                       (unsigned long long)TL_GGUF_MAX_STRING);
    kv->elem_type = (tl_gguf_type)et;
    kv->count = count;
    kv->data = c->base + c->pos;
    size_t esz = et == TL_GGUF_STRING ? 8 : value_type_sizes[et];
    if (count > remaining(c) / esz)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: truncated file: key '%s': array of %llu %s at byte %zu runs past end "
                       "of file (size %zu; an incomplete download?)",
                       g->path, key, (unsigned long long)count, value_type_names[et], c->pos,
                       c->size);
    if (et != TL_GGUF_STRING) {
        c->pos += (size_t)count * esz;
        return TL_OK;
    }
    /* count * 8 <= remaining bytes, so this allocation is bounded by the file size. */
    uint64_t *pos = malloc((count ? (size_t)count : 1) * sizeof *pos);
    if (!pos) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
    kv->str_pos = pos;
    size_t start = c->pos;
    for (uint64_t i = 0; i < count; i++) {
        pos[i] = c->pos - start;
        const uint8_t *s;
        uint64_t n;
        char what[200];
        snprintf(what, sizeof what, "key '%s': string %llu", key, (unsigned long long)i);
        tl_status st = read_string(c, what, &s, &n);
        if (st) return st;
    }
    return TL_OK;
}

static tl_status parse_kvs(cursor *c, tl_gguf *g) {
    /* Every kv takes at least 13 bytes (key length, one key byte, type), so no more than
    ** remaining/13 can be complete; one more slot holds the one that fails to parse.  This
    ** bounds the allocation by the file size while truncation errors stay precise. */
    int64_t slots = g->n_kv;
    if ((uint64_t)slots > remaining(c) / 13 + 1) slots = (int64_t)(remaining(c) / 13 + 1);
    g->kvs = calloc((size_t)slots + 1, sizeof *g->kvs);
    g->kv_cap = table_cap_for(slots);
    g->kv_slots = calloc(g->kv_cap, sizeof *g->kv_slots);
    if (!g->kvs || !g->kv_slots) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
    for (int64_t i = 0; i < g->n_kv; i++) {
        if (i > slots) return truncated(c, "key/value pairs"); /* cannot happen (see above) */
        tl_gguf_kv *kv = &g->kvs[i];
        const uint8_t *k;
        uint64_t klen;
        char what[64];
        snprintf(what, sizeof what, "key %lld", (long long)i);
        tl_status st = read_string(c, what, &k, &klen);
        if (st) return st;
        if (klen == 0)
            return tl_fail(TL_ERR_FORMAT, "%s: key %lld is empty", g->path, (long long)i);
        char *key = dup_bytes(k, (size_t)klen);
        if (!key) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
        kv->key = key;
        kv->key_len = (size_t)klen;
        g->n_kv_parsed = i + 1;
        char kb[96];
        const char *pk = printable(key, kv->key_len, kb, sizeof kb);
        if (table_find(g->kv_slots, g->kv_cap, key, kv->key_len, kv_name_at, g) >= 0)
            return tl_fail(TL_ERR_FORMAT, "%s: key '%s' appears twice", g->path, pk);
        int32_t type;
        if (!take(c, &type, 4)) {
            char w2[160];
            snprintf(w2, sizeof w2, "key '%s': value type", pk);
            return truncated(c, w2);
        }
        if (type < 0 || type >= TL_GGUF_TYPE_COUNT)
            return tl_fail(TL_ERR_FORMAT, "%s: key '%s': invalid value type %d", g->path, pk, type);
        kv->type = kv->elem_type = (tl_gguf_type)type;
        st = read_value(c, g, kv);
        if (st) return st;
        table_insert(g->kv_slots, g->kv_cap, key, kv->key_len, i);
    }
    const tl_gguf_kv *al = tl_gguf_find(g, "general.alignment");
    g->alignment = TL_GGUF_DEFAULT_ALIGNMENT;
    if (al) {
        if (al->type != TL_GGUF_UINT32)
            return tl_fail(TL_ERR_FORMAT, "%s: key 'general.alignment' is %s, must be uint32",
                           g->path, tl_gguf_type_name(al->type));
        uint32_t a;
        memcpy(&a, al->data, 4);
        if (a == 0 || (a & (a - 1)) != 0)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: key 'general.alignment' is %u, must be a power of two", g->path, a);
        g->alignment = a;
    }
    return TL_OK;
}

static tl_status unsupported_type(const tl_gguf *g, const char *name, int32_t type) {
    const char *tn = tl_gguf_ggml_type_name(type);
    if (tn)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported tensor type %s (%d)",
                       g->path, name, tn, type);
    return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s': unsupported tensor type %d", g->path, name,
                   type);
}

static tl_status parse_tensor_info(cursor *c, tl_gguf *g, int64_t i) {
    tl_gguf_tensor_info *t = &g->tensors[i];
    const uint8_t *nm;
    uint64_t nlen;
    char what[64];
    snprintf(what, sizeof what, "name of tensor %lld", (long long)i);
    tl_status st = read_string(c, what, &nm, &nlen);
    if (st) return st;
    char nb[96];
    if (nlen > TL_GGUF_MAX_NAME)
        return tl_fail(TL_ERR_FORMAT, "%s: tensor %lld: name '%s' is %llu bytes (limit %d)",
                       g->path, (long long)i,
                       printable((const char *)nm, (size_t)nlen, nb, sizeof nb),
                       (unsigned long long)nlen, TL_GGUF_MAX_NAME);
    if (memchr(nm, 0, (size_t)nlen))
        return tl_fail(TL_ERR_FORMAT, "%s: tensor %lld: name contains a NUL byte", g->path,
                       (long long)i);
    char *name = dup_bytes(nm, (size_t)nlen);
    if (!name) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
    t->name = name;
    g->n_tensors_parsed = i + 1;
    const char *pn = printable(name, (size_t)nlen, nb, sizeof nb);
    if (table_find(g->tensor_slots, g->tensor_cap, name, (size_t)nlen, tensor_name_at, g) >= 0)
        return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' appears twice", g->path, pn);

    char w2[160];
    uint32_t n_dims;
    snprintf(w2, sizeof w2, "tensor '%s': dims", pn);
    if (!take(c, &n_dims, 4)) return truncated(c, w2);
    if (n_dims > TL_GGUF_MAX_DIMS)
        return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s': %u dims (at most %d)", g->path, pn, n_dims,
                       TL_GGUF_MAX_DIMS);
    t->n_dims = (int)n_dims;
    for (int d = 0; d < TL_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (!take(c, &t->ne[d], 8)) return truncated(c, w2);
        if (t->ne[d] < 0)
            return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s': dim %u is negative (%lld)", g->path, pn,
                           d, (long long)t->ne[d]);
    }
    int32_t type;
    uint64_t offset;
    snprintf(w2, sizeof w2, "tensor '%s': type and offset", pn);
    if (!take(c, &type, 4) || !take(c, &offset, 8)) return truncated(c, w2);
    t->type_id = type;
    t->offset = offset;
    int64_t blck;
    size_t tsize;
    const char *tname;
    if (tl_gguf_dtype_ok(type)) {
        t->dtype = (tl_dtype)type;
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        blck = tr->blck;
        tsize = tr->size;
        tname = tr->name;
    } else if ((g->flags & TL_GGUF_ANY_TENSOR_TYPE) && ggml_block_of(type, &blck, &tsize)) {
        t->dtype = TL_DTYPE_COUNT; /* listed, not loadable */
        tname = tl_gguf_ggml_type_name(type);
    } else {
        return unsupported_type(g, pn, type);
    }
    /* Element count without overflow (ggml's rule), then the byte size. */
    int64_t ne = 1;
    bool empty = false;
    for (int d = 0; d < TL_GGUF_MAX_DIMS; d++)
        empty |= t->ne[d] == 0;
    if (!empty) {
        for (int d = 0; d < TL_GGUF_MAX_DIMS; d++) {
            if (ne > INT64_MAX / t->ne[d])
                return tl_fail(TL_ERR_FORMAT,
                               "%s: tensor '%s': dims [%lld, %lld, %lld, %lld] overflow the "
                               "element count",
                               g->path, pn, (long long)t->ne[0], (long long)t->ne[1],
                               (long long)t->ne[2], (long long)t->ne[3]);
            ne *= t->ne[d];
        }
    }
    if (t->ne[0] % blck != 0)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: tensor '%s': row length %lld is not a multiple of the %s block size "
                       "%lld",
                       g->path, pn, (long long)t->ne[0], tname, (long long)blck);
    if (empty) {
        t->nbytes = 0;
    } else {
        uint64_t blocks = (uint64_t)(ne / blck);
        if (blocks > SIZE_MAX / tsize)
            return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s': byte size overflows", g->path, pn);
        t->nbytes = (size_t)blocks * tsize;
    }
    table_insert(g->tensor_slots, g->tensor_cap, name, (size_t)nlen, i);
    return TL_OK;
}

static int cmp_by_offset(const void *a, const void *b, void *ctx) {
    const tl_gguf_tensor_info *ts = ctx;
    uint64_t x = ts[*(const int64_t *)a].offset, y = ts[*(const int64_t *)b].offset;
    return x < y ? -1 : x > y;
}

static tl_status check_data(tl_gguf *g, size_t info_end) {
    size_t a = g->alignment;
    g->data_offset = info_end;
    if (g->n_tensors > 0) {
        if (info_end > SIZE_MAX - (a - 1))
            return tl_fail(TL_ERR_FORMAT, "%s: data offset overflows", g->path);
        g->data_offset = (info_end + a - 1) & ~(a - 1);
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        tl_gguf_tensor_info *t = &g->tensors[i];
        if (t->offset % a != 0)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: tensor '%s': offset %llu is not a multiple of the alignment %zu",
                           g->path, t->name, (unsigned long long)t->offset, a);
        uint64_t start = (uint64_t)g->data_offset + t->offset;
        if (start < t->offset || start > UINT64_MAX - t->nbytes)
            return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s': data offset %llu overflows", g->path,
                           t->name, (unsigned long long)t->offset);
        uint64_t end = start + t->nbytes;
        if (end > g->size)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: tensor '%s': data [%llu, %llu) ends past end of file (size %zu; "
                           "an incomplete download?)",
                           g->path, t->name, (unsigned long long)start, (unsigned long long)end,
                           g->size);
        /* a block or element is read through its C type: its address must be a
        ** multiple of that type's alignment (the lowest set bit of its size,
        ** at most 8).  Real files align data to 32; general.alignment may say 1. */
        if (t->dtype != TL_DTYPE_COUNT && t->nbytes) {
            size_t tsize = tl_dtype_traits(t->dtype)->size, need = tsize & (~tsize + 1);
            if (need > 8) need = 8;
            if ((uintptr_t)(g->base + start) % need != 0)
                return tl_fail(TL_ERR_FORMAT,
                               "%s: tensor '%s': data at byte %llu is not aligned to %zu bytes "
                               "as %s requires (general.alignment is %zu)",
                               g->path, t->name, (unsigned long long)start, need,
                               tl_dtype_name(t->dtype), a);
        }
        t->file_offset = start;
        t->data = g->base + (t->nbytes ? start : 0);
    }
    /* No two tensors may share bytes. */
    if (g->n_tensors > 1) {
        int64_t *order = malloc((size_t)g->n_tensors * sizeof *order);
        if (!order) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
        int64_t n = 0;
        for (int64_t i = 0; i < g->n_tensors; i++)
            if (g->tensors[i].nbytes) order[n++] = i;
        qsort_r(order, (size_t)n, sizeof *order, cmp_by_offset, g->tensors);
        for (int64_t k = 1; k < n; k++) {
            const tl_gguf_tensor_info *p = &g->tensors[order[k - 1]], *q = &g->tensors[order[k]];
            if (p->offset + p->nbytes > q->offset) {
                tl_status st =
                    tl_fail(TL_ERR_FORMAT,
                            "%s: tensor '%s': data [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
                            g->path, q->name, (unsigned long long)q->file_offset,
                            (unsigned long long)(q->file_offset + q->nbytes), p->name,
                            (unsigned long long)p->file_offset,
                            (unsigned long long)(p->file_offset + p->nbytes));
                free(order);
                return st;
            }
        }
        free(order);
    }
    return TL_OK;
}

static tl_status parse(tl_gguf *g) {
    cursor c = {.base = g->base, .size = g->size, .pos = 0, .file = g->path};
    char magic[4];
    if (!take(&c, magic, 4)) return truncated(&c, "magic");
    if (memcmp(magic, "GGUF", 4) != 0)
        return tl_fail(TL_ERR_FORMAT, "%s: not a GGUF file (bad magic %02x %02x %02x %02x%s)",
                       g->path, (uint8_t)magic[0], (uint8_t)magic[1], (uint8_t)magic[2],
                       (uint8_t)magic[3], magic_hint(magic));
    if (!take(&c, &g->version, 4)) return truncated(&c, "version");
    if (g->version != 2 && g->version != 3) {
        if (g->version == 1)
            return tl_fail(TL_ERR_FORMAT, "%s: GGUF version 1 is no longer supported", g->path);
        if (g->version != 0 && (g->version & 0xffff) == 0)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: GGUF version 0x%08x: a big-endian file (not supported)", g->path,
                           g->version);
        return tl_fail(TL_ERR_FORMAT, "%s: unsupported GGUF version %u (expected 2 or 3)", g->path,
                       g->version);
    }
    if (!take(&c, &g->n_tensors, 8)) return truncated(&c, "tensor count");
    if (!take(&c, &g->n_kv, 8)) return truncated(&c, "key/value count");
    if (g->n_tensors < 0)
        return tl_fail(TL_ERR_FORMAT, "%s: negative tensor count %lld", g->path,
                       (long long)g->n_tensors);
    if (g->n_kv < 0)
        return tl_fail(TL_ERR_FORMAT, "%s: negative key/value count %lld", g->path,
                       (long long)g->n_kv);
    if ((uint64_t)g->n_tensors > c.size)
        return tl_fail(TL_ERR_FORMAT, "%s: absurd tensor count %lld for a file of %zu bytes",
                       g->path, (long long)g->n_tensors, c.size);
    if ((uint64_t)g->n_kv > c.size)
        return tl_fail(TL_ERR_FORMAT, "%s: absurd key/value count %lld for a file of %zu bytes",
                       g->path, (long long)g->n_kv, c.size);
    tl_status st = parse_kvs(&c, g);
    if (st) return st;
    /* A tensor info takes at least 24 bytes (empty name, 0 dims, type, offset): as for kvs. */
    int64_t slots = g->n_tensors;
    if ((uint64_t)slots > remaining(&c) / 24 + 1) slots = (int64_t)(remaining(&c) / 24 + 1);
    g->tensors = calloc((size_t)slots + 1, sizeof *g->tensors);
    g->tensor_cap = table_cap_for(slots);
    g->tensor_slots = calloc(g->tensor_cap, sizeof *g->tensor_slots);
    if (!g->tensors || !g->tensor_slots) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", g->path);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        if (i > slots) return truncated(&c, "tensor infos"); /* cannot happen (see above) */
        st = parse_tensor_info(&c, g, i);
        if (st) return st;
    }
    return check_data(g, c.pos);
}

/* ---- open / close --------------------------------------------------------- */

static void gguf_destroy(tl_gguf *g) {
    for (int64_t i = 0; i < g->n_kv_parsed; i++) {
        free((void *)g->kvs[i].key);
        free((void *)g->kvs[i].str);
        free((void *)g->kvs[i].str_pos);
    }
    for (int64_t i = 0; i < g->n_tensors_parsed; i++)
        free((void *)g->tensors[i].name);
    free(g->kvs);
    free(g->kv_slots);
    free(g->tensors);
    free(g->tensor_slots);
    tl_gguf_migrate_stop(g->migration);
    if (g->map_raw)
        munmap(g->map_raw, g->map_len);
    else if (g->mapped && g->size)
        munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

tl_status tl_gguf_finish_open(tl_gguf *g, tl_gguf **out) {
    tl_status st = parse(g);
    if (st) {
        gguf_destroy(g);
        return st;
    }
    *out = g;
    return TL_OK;
}

tl_gguf *tl_gguf_alloc(const char *name) {
    tl_gguf *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->refcount = 1;
    g->path = strdup(name ? name : "<memory>");
    if (!g->path) {
        free(g);
        return NULL;
    }
    return g;
}

tl_status tl_gguf_open_memory(const void *data, size_t size, const char *name, tl_gguf **out) {
    return tl_gguf_open_memory_ex(data, size, name, 0, out);
}

tl_status tl_gguf_open_memory_ex(const void *data, size_t size, const char *name, unsigned flags,
                                 tl_gguf **out) {
    *out = NULL;
    tl_gguf *g = tl_gguf_alloc(name);
    if (!g) return tl_fail(TL_ERR_NOMEM, "out of memory");
    g->flags = flags;
    g->base = data;
    g->size = size;
    return tl_gguf_finish_open(g, out);
}

tl_gguf *tl_gguf_ref(tl_gguf *g) {
    if (g) __atomic_add_fetch(&g->refcount, 1, __ATOMIC_RELAXED);
    return g;
}

void tl_gguf_close(tl_gguf *g) {
    if (!g || __atomic_sub_fetch(&g->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    gguf_destroy(g);
}

void tl_gguf_release_cb(void *g) {
    tl_gguf_close(g);
}

const char *tl_gguf_path(const tl_gguf *g) {
    return g->path;
}
uint32_t tl_gguf_version(const tl_gguf *g) {
    return g->version;
}
size_t tl_gguf_alignment(const tl_gguf *g) {
    return g->alignment;
}
size_t tl_gguf_data_offset(const tl_gguf *g) {
    return g->data_offset;
}
size_t tl_gguf_file_size(const tl_gguf *g) {
    return g->size;
}
const void *tl_gguf_base(const tl_gguf *g) {
    return g->base;
}

/* ---- metadata ------------------------------------------------------------- */

int64_t tl_gguf_n_kv(const tl_gguf *g) {
    return g->n_kv;
}

const tl_gguf_kv *tl_gguf_kv_at(const tl_gguf *g, int64_t i) {
    return (i >= 0 && i < g->n_kv) ? &g->kvs[i] : NULL;
}

const tl_gguf_kv *tl_gguf_find(const tl_gguf *g, const char *key) {
    int64_t i = table_find(g->kv_slots, g->kv_cap, key, strlen(key), kv_name_at, g);
    return i >= 0 ? &g->kvs[i] : NULL;
}

/* Pointer to element i's bytes for a scalar-typed value or array. */
/* ---- tensors -------------------------------------------------------------- */

int64_t tl_gguf_n_tensors(const tl_gguf *g) {
    return g->n_tensors;
}

const tl_gguf_tensor_info *tl_gguf_tensor_at(const tl_gguf *g, int64_t i) {
    return (i >= 0 && i < g->n_tensors) ? &g->tensors[i] : NULL;
}

const tl_gguf_tensor_info *tl_gguf_find_tensor(const tl_gguf *g, const char *name) {
    int64_t i = table_find(g->tensor_slots, g->tensor_cap, name, strlen(name), tensor_name_at, g);
    return i >= 0 ? &g->tensors[i] : NULL;
}
