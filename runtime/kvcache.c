/* runtime/kvcache.c -- per-layer K/V storage with in-place appends. */
#include "runtime/kvcache.h"

#include <stdlib.h>
#include <string.h>

typedef struct kv_layer {
    tl_tensor *kv[2]; /* [cap, width] f32 each, NULL until the first append */
    int64_t len, cap, n_heads, head_dim;
} kv_layer;

struct tl_kvcache {
    int64_t n_layer, initial_cap;
    kv_layer *layers;
};

tl_status tl_kvcache_new(int64_t n_layer, int64_t capacity, tl_kvcache **out) {
    *out = NULL;
    if (n_layer <= 0 || n_layer > 4096)
        return tl_fail(TL_ERR_ARG, "KVCache: layer count %lld out of range 1..4096",
                       (long long)n_layer);
    if (capacity < 0 || capacity > ((int64_t)1 << 24))
        return tl_fail(TL_ERR_ARG, "KVCache: capacity %lld out of range", (long long)capacity);
    tl_kvcache *c = calloc(1, sizeof *c);
    kv_layer *layers = calloc((size_t)n_layer, sizeof *layers);
    if (!c || !layers) {
        free(c);
        free(layers);
        return tl_fail(TL_ERR_NOMEM, "KVCache: out of memory");
    }
    c->n_layer = n_layer;
    c->initial_cap = capacity ? capacity : 64;
    c->layers = layers;
    *out = c;
    return TL_OK;
}

void tl_kvcache_free(tl_kvcache *c) {
    if (!c) return;
    for (int64_t l = 0; l < c->n_layer; l++) {
        tl_tensor_unref(c->layers[l].kv[0]);
        tl_tensor_unref(c->layers[l].kv[1]);
    }
    free(c->layers);
    free(c);
}

int64_t tl_kvcache_n_layer(const tl_kvcache *c) {
    return c->n_layer;
}

static tl_status check_layer(const tl_kvcache *c, int64_t layer) {
    if (layer < 0 || layer >= c->n_layer)
        return tl_fail(TL_ERR_RANGE, "KVCache: layer %lld out of range (cache has %lld layers)",
                       (long long)layer, (long long)c->n_layer);
    return TL_OK;
}

int64_t tl_kvcache_len(const tl_kvcache *c, int64_t layer) {
    return (layer >= 0 && layer < c->n_layer) ? c->layers[layer].len : 0;
}

/* Rows (dim n_dims-1 outermost) and heads/head_dim of a k or v input. */
static tl_status input_geometry(const tl_tensor *t, int64_t *rows, int64_t *heads, int64_t *dim) {
    char buf[96];
    if (t->n_dims == 3) {
        *dim = t->ne[0];
        *heads = t->ne[1];
        *rows = t->ne[2];
    } else if (t->n_dims == 2) {
        *dim = t->ne[0];
        *heads = 1;
        *rows = t->ne[1];
    } else {
        return tl_fail(TL_ERR_SHAPE, "KVCache: keys/values must be [S, H, D] or [S, H*D], got %s",
                       tl_tensor_shape_str(t, buf, sizeof buf));
    }
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr || tr->quantized || !tr->to_f32)
        return tl_fail(TL_ERR_TYPE, "KVCache: keys/values must be a float tensor, got %s",
                       tl_dtype_name(t->dtype));
    return TL_OK;
}

static tl_status grow(kv_layer *L, int64_t need, int64_t initial_cap) {
    if (need <= L->cap && L->kv[0]) return TL_OK; /* the first rows allocate, even none */
    int64_t cap = L->cap ? L->cap : initial_cap;
    while (cap < need)
        cap *= 2;
    int64_t width = L->n_heads * L->head_dim;
    for (int w = 0; w < 2; w++) {
        int64_t ne[2] = {width, cap};
        tl_tensor *t;
        tl_status st = tl_tensor_new(TL_DTYPE_F32, 2, ne, &t);
        if (st != TL_OK) return st;
        if (L->kv[w]) {
            memcpy(tl_tensor_data(t), tl_tensor_data(L->kv[w]),
                   (size_t)(L->len * width) * sizeof(float));
            tl_tensor_unref(L->kv[w]);
        }
        L->kv[w] = t;
    }
    L->cap = cap;
    return TL_OK;
}

/* Copies the rows of src (any strides, float dtype) to dst as f32. */
static void copy_rows(float *dst, const tl_tensor *src, int64_t rows, int64_t heads, int64_t dim) {
    const tl_type_traits *tr = tl_dtype_traits(src->dtype);
    const char *base = tl_tensor_data(src);
    size_t row_nb = src->nb[src->n_dims - 1], head_nb = src->n_dims == 3 ? src->nb[1] : 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t h = 0; h < heads; h++) {
            const char *p = base + (size_t)r * row_nb + (size_t)h * head_nb;
            float *d = dst + (r * heads + h) * dim;
            if (src->nb[0] == tr->size) {
                tr->to_f32(p, d, dim);
            } else {
                for (int64_t i = 0; i < dim; i++)
                    tr->to_f32(p + (size_t)i * src->nb[0], d + i, 1);
            }
        }
}

/* Fixes a layer's geometry on its first rows (or checks it) and grows it to
** hold `rows` more. */
static tl_status make_room(tl_kvcache *c, int64_t layer, int64_t rows, int64_t heads, int64_t dim) {
    kv_layer *L = &c->layers[layer];
    if (L->kv[0] == NULL && L->len == 0) {
        L->n_heads = heads;
        L->head_dim = dim;
    } else if (L->n_heads * L->head_dim != heads * dim) {
        return tl_fail(TL_ERR_SHAPE,
                       "KVCache: layer %lld holds rows of %lld x %lld, cannot append %lld x %lld",
                       (long long)layer, (long long)L->n_heads, (long long)L->head_dim,
                       (long long)heads, (long long)dim);
    }
    if (rows < 0 || rows > ((int64_t)1 << 24) - L->len)
        return tl_fail(TL_ERR_RANGE, "KVCache: %lld more rows do not fit", (long long)rows);
    return grow(L, L->len + rows, c->initial_cap);
}

tl_status tl_kvcache_append(tl_kvcache *c, int64_t layer, const tl_tensor *k, const tl_tensor *v) {
    tl_status st = check_layer(c, layer);
    if (st != TL_OK) return st;
    int64_t rows = 0, heads = 0, dim = 0, vrows = 0, vheads = 0, vdim = 0;
    if ((st = input_geometry(k, &rows, &heads, &dim)) != TL_OK) return st;
    if ((st = input_geometry(v, &vrows, &vheads, &vdim)) != TL_OK) return st;
    if (rows != vrows || heads * dim != vheads * vdim) {
        char a[96], b[96];
        return tl_fail(TL_ERR_SHAPE, "KVCache: keys %s and values %s differ in shape",
                       tl_tensor_shape_str(k, a, sizeof a), tl_tensor_shape_str(v, b, sizeof b));
    }
    if ((st = make_room(c, layer, rows, heads, dim)) != TL_OK) return st;
    kv_layer *L = &c->layers[layer];
    int64_t width = L->n_heads * L->head_dim;
    copy_rows((float *)tl_tensor_data(L->kv[0]) + L->len * width, k, rows, heads, dim);
    copy_rows((float *)tl_tensor_data(L->kv[1]) + L->len * width, v, vrows, vheads, vdim);
    L->len += rows;
    return TL_OK;
}

tl_status tl_kvcache_reserve(tl_kvcache *c, int64_t layer, int64_t rows, int64_t heads, int64_t dim,
                             float **k_rows, float **v_rows, const float **k_all,
                             const float **v_all) {
    tl_status st = check_layer(c, layer);
    if (st == TL_OK && (heads <= 0 || dim <= 0))
        st =
            tl_fail(TL_ERR_SHAPE, "KVCache: rows of %lld x %lld", (long long)heads, (long long)dim);
    if (st == TL_OK) st = make_room(c, layer, rows, heads, dim);
    if (st != TL_OK) return st;
    kv_layer *L = &c->layers[layer];
    float *k = tl_tensor_data(L->kv[0]), *v = tl_tensor_data(L->kv[1]);
    *k_rows = k + L->len * heads * dim;
    *v_rows = v + L->len * heads * dim;
    *k_all = k;
    *v_all = v;
    return TL_OK;
}

void tl_kvcache_commit(tl_kvcache *c, int64_t layer, int64_t rows) {
    c->layers[layer].len += rows;
}

tl_status tl_kvcache_set(tl_kvcache *c, int64_t layer, const tl_tensor *k, const tl_tensor *v) {
    tl_status st = check_layer(c, layer);
    if (st != TL_OK) return st;
    kv_layer *L = &c->layers[layer];
    /* Fresh buffers: views handed out earlier keep seeing the old contents. */
    tl_tensor_unref(L->kv[0]);
    tl_tensor_unref(L->kv[1]);
    memset(L, 0, sizeof *L);
    return tl_kvcache_append(c, layer, k, v);
}

tl_status tl_kvcache_view(tl_kvcache *c, int64_t layer, int which, tl_tensor **out) {
    *out = NULL;
    tl_status st = check_layer(c, layer);
    if (st != TL_OK) return st;
    kv_layer *L = &c->layers[layer];
    if (!L->kv[0]) return tl_fail(TL_ERR_RANGE, "KVCache: layer %lld is empty", (long long)layer);
    int64_t ne[3] = {L->head_dim, L->n_heads, L->len};
    return tl_tensor_view(L->kv[which ? 1 : 0], 3, ne, NULL, 0, out);
}

tl_status tl_kvcache_truncate(tl_kvcache *c, int64_t n) {
    if (n < 0) return tl_fail(TL_ERR_ARG, "KVCache: cannot truncate to %lld rows", (long long)n);
    for (int64_t l = 0; l < c->n_layer; l++)
        if (c->layers[l].len > n) c->layers[l].len = n;
    return TL_OK;
}
