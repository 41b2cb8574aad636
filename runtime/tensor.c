/* runtime/tensor.c -- storage and tensor lifetime, views, shape queries. */
#include "runtime/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation limit ----------------------------------------------------- */

static size_t alloc_limit = TL_MAX_ALLOC_BYTES;

size_t tl_alloc_limit(void) {
    return alloc_limit;
}

void tl_set_alloc_limit(size_t bytes) {
    alloc_limit = bytes;
}

/* ---- storage -------------------------------------------------------------- */

/* Storage under STORAGE_INLINE_MAX bytes (a token's activations) is one
** allocation, its data STORAGE_HEADER bytes after the header; larger data gets a
** block of its own (the allocator's page alignment). */
#define STORAGE_HEADER     64
#define STORAGE_INLINE_MAX (64u << 10)
_Static_assert(sizeof(tl_storage) <= STORAGE_HEADER, "tl_storage must fit its header");

static tl_status storage_new(size_t size, bool zero, tl_storage **out) {
    *out = NULL;
    if (size > tl_alloc_limit())
        return tl_fail(TL_ERR_NOMEM, "cannot allocate %zu bytes (limit %zu)", size,
                       tl_alloc_limit());
    if (size < STORAGE_INLINE_MAX) { /* header and data in one block */
        tl_storage *s = zero ? calloc(1, STORAGE_HEADER + size) : malloc(STORAGE_HEADER + size);
        if (!s) return tl_fail(TL_ERR_NOMEM, "out of memory allocating %zu bytes", size);
        *s = (tl_storage){.refcount = 1, .data = (char *)s + STORAGE_HEADER, .size = size};
        *out = s;
        return TL_OK;
    }
    tl_storage *s = calloc(1, sizeof *s);
    void *data = zero ? calloc(1, size) : malloc(size);
    if (!s || !data) {
        free(s);
        free(data);
        return tl_fail(TL_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    }
    s->refcount = 1;
    s->data = data;
    s->size = size;
    *out = s;
    return TL_OK;
}

tl_status tl_storage_new(size_t size, tl_storage **out) {
    return storage_new(size, true, out);
}

tl_status tl_storage_wrap(void *data, size_t size, void (*release)(void *), void *ctx,
                          tl_storage **out) {
    *out = NULL;
    tl_storage *s = calloc(1, sizeof *s);
    if (!s) return tl_fail(TL_ERR_NOMEM, "out of memory");
    s->refcount = 1;
    s->data = data;
    s->size = size;
    s->release = release;
    s->release_ctx = ctx;
    *out = s;
    return TL_OK;
}

void tl_storage_ref(tl_storage *s) {
    if (s) __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED);
}

void tl_storage_unref(tl_storage *s) {
    if (!s || __atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (s->release)
        s->release(s->release_ctx);
    else if (s->data != (char *)s + STORAGE_HEADER)
        free(s->data);
    free(s);
}

/* ---- strides -------------------------------------------------------------- */

bool tl_contiguous_strides(tl_dtype dt, int n_dims, const int64_t *ne, size_t *nb,
                           size_t *total_bytes) {
    const tl_type_traits *tr = tl_dtype_traits(dt);
    if (!tr || n_dims < 0 || n_dims > TL_MAX_DIMS) return false;
    int64_t full[TL_MAX_DIMS];
    for (int i = 0; i < TL_MAX_DIMS; i++)
        full[i] = i < n_dims ? ne[i] : 1;
    for (int i = 0; i < TL_MAX_DIMS; i++)
        if (full[i] < 0) return false;
    /* overflow checks by multiplication, not division: every new tensor and view
    ** passes here (a generated token makes thousands) */
    int64_t blocks = full[0];
    if (tr->blck != 1) {
        if (full[0] % tr->blck != 0) return false;
        blocks = full[0] / tr->blck;
    }
    nb[0] = tr->size;
    size_t stride;
    if (__builtin_mul_overflow((size_t)blocks, tr->size, &stride)) return false;
    for (int i = 1; i < TL_MAX_DIMS; i++) {
        nb[i] = stride;
        if (__builtin_mul_overflow(stride, (size_t)full[i], &stride)) return false;
    }
    if (total_bytes) *total_bytes = stride;
    return true;
}

/* ---- tensors -------------------------------------------------------------- */

static tl_status tensor_alloc(tl_storage *s, size_t offs, tl_dtype dt, int n_dims,
                              const int64_t *ne, const size_t *nb, tl_tensor **out) {
    tl_tensor *t = calloc(1, sizeof *t);
    if (!t) return tl_fail(TL_ERR_NOMEM, "out of memory");
    t->refcount = 1;
    t->dtype = dt;
    t->n_dims = n_dims;
    for (int i = 0; i < TL_MAX_DIMS; i++) {
        t->ne[i] = i < n_dims ? ne[i] : 1;
        t->nb[i] = nb[i];
    }
    t->storage = s;
    tl_storage_ref(s);
    t->offs = offs;
    *out = t;
    return TL_OK;
}

static tl_status tensor_new(tl_dtype dt, int n_dims, const int64_t *ne, bool zero,
                            tl_tensor **out) {
    *out = NULL;
    if (!tl_dtype_is_valid((int)dt)) return tl_fail(TL_ERR_TYPE, "invalid dtype id %d", (int)dt);
    if (n_dims < 0 || n_dims > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "a tensor has at most %d dims (asked for %d)", TL_MAX_DIMS,
                       n_dims);
    size_t nb[TL_MAX_DIMS], bytes;
    if (!tl_contiguous_strides(dt, n_dims, ne, nb, &bytes))
        return tl_fail(TL_ERR_SHAPE, "invalid or too large shape for %s tensor", tl_dtype_name(dt));
    tl_storage *s;
    tl_status st = storage_new(bytes, zero, &s);
    if (st != TL_OK) return st;
    st = tensor_alloc(s, 0, dt, n_dims, ne, nb, out);
    tl_storage_unref(s);
    return st;
}

tl_status tl_tensor_new(tl_dtype dt, int n_dims, const int64_t *ne, tl_tensor **out) {
    return tensor_new(dt, n_dims, ne, true, out);
}

tl_status tl_tensor_new_uninit(tl_dtype dt, int n_dims, const int64_t *ne, tl_tensor **out) {
    return tensor_new(dt, n_dims, ne, false, out);
}

tl_status tl_tensor_new_shape(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out) {
    int64_t ne[TL_MAX_DIMS];
    if (n_dims < 0 || n_dims > TL_MAX_DIMS) {
        *out = NULL;
        return tl_fail(TL_ERR_SHAPE, "a tensor has at most %d dims (asked for %d)", TL_MAX_DIMS,
                       n_dims);
    }
    for (int i = 0; i < n_dims; i++)
        ne[i] = shape[n_dims - 1 - i];
    return tl_tensor_new(dt, n_dims, ne, out);
}

tl_status tl_tensor_from_storage(tl_storage *s, size_t offs, tl_dtype dt, int n_dims,
                                 const int64_t *ne, const size_t *nb, tl_tensor **out) {
    *out = NULL;
    if (!tl_dtype_is_valid((int)dt)) return tl_fail(TL_ERR_TYPE, "invalid dtype id %d", (int)dt);
    if (n_dims < 0 || n_dims > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "a tensor has at most %d dims", TL_MAX_DIMS);
    size_t cnb[TL_MAX_DIMS], bytes;
    if (!tl_contiguous_strides(dt, n_dims, ne, cnb, &bytes))
        return tl_fail(TL_ERR_SHAPE, "invalid shape for %s tensor", tl_dtype_name(dt));
    if (!nb && (offs > s->size || bytes > s->size - offs))
        return tl_fail(TL_ERR_RANGE, "tensor of %zu bytes at offset %zu exceeds storage of %zu",
                       bytes, offs, s->size);
    size_t full_nb[TL_MAX_DIMS];
    for (int i = 0; i < TL_MAX_DIMS; i++)
        full_nb[i] = (nb && i < n_dims) ? nb[i] : cnb[i];
    return tensor_alloc(s, offs, dt, n_dims, ne, full_nb, out);
}

tl_status tl_tensor_view(tl_tensor *base, int n_dims, const int64_t *ne, const size_t *nb,
                         size_t offs, tl_tensor **out) {
    *out = NULL;
    if (n_dims < 0 || n_dims > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "a tensor has at most %d dims", TL_MAX_DIMS);
    size_t full_nb[TL_MAX_DIMS], cnb[TL_MAX_DIMS];
    if (!nb) {
        if (!tl_contiguous_strides(base->dtype, n_dims, ne, cnb, NULL))
            return tl_fail(TL_ERR_SHAPE, "invalid view shape");
        nb = cnb;
    }
    for (int i = 0; i < TL_MAX_DIMS; i++)
        full_nb[i] = i < n_dims ? nb[i] : nb[n_dims ? n_dims - 1 : 0];
    /* unused dims: stride of a size-1 dim never matters; keep them contiguous-looking */
    if (tl_contiguous_strides(base->dtype, n_dims, ne, cnb, NULL))
        for (int i = n_dims; i < TL_MAX_DIMS; i++)
            full_nb[i] = cnb[i];
    return tensor_alloc(base->storage, base->offs + offs, base->dtype, n_dims, ne, full_nb, out);
}

tl_tensor *tl_tensor_ref(tl_tensor *t) {
    if (t) __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    return t;
}

void tl_ag_node_unref(tl_ag_node *n) {
    if (n && __atomic_sub_fetch(&n->refcount, 1, __ATOMIC_ACQ_REL) == 0) n->destroy(n);
}

void tl_tensor_unref(tl_tensor *t) {
    if (!t || __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    tl_storage_unref(t->storage);
    tl_storage_unref(t->shadow);
    free(t->name);
    tl_tensor_unref(t->grad);
    tl_ag_node_unref(t->grad_fn);
    free(t);
}

tl_status tl_tensor_set_name(tl_tensor *t, const char *name) {
    char *copy = strdup(name);
    if (!copy) return tl_fail(TL_ERR_NOMEM, "out of memory");
    free(t->name);
    t->name = copy;
    return TL_OK;
}

int64_t tl_tensor_nelements(const tl_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < TL_MAX_DIMS; i++)
        n *= t->ne[i];
    return n;
}

int64_t tl_tensor_nrows(const tl_tensor *t) {
    int64_t n = 1;
    for (int i = 1; i < TL_MAX_DIMS; i++)
        n *= t->ne[i];
    return n;
}

size_t tl_tensor_nbytes(const tl_tensor *t) {
    size_t nb[TL_MAX_DIMS], bytes = 0;
    if (!tl_contiguous_strides(t->dtype, t->n_dims, t->ne, nb, &bytes)) return 0;
    return bytes;
}

bool tl_tensor_is_contiguous(const tl_tensor *t) {
    size_t nb[TL_MAX_DIMS];
    if (!tl_contiguous_strides(t->dtype, t->n_dims, t->ne, nb, NULL)) return false;
    for (int i = 0; i < TL_MAX_DIMS; i++)
        if (t->ne[i] > 1 && t->nb[i] != nb[i]) return false;
    return true;
}

bool tl_tensor_same_shape(const tl_tensor *a, const tl_tensor *b) {
    for (int i = 0; i < TL_MAX_DIMS; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

void tl_tensor_shape(const tl_tensor *t, int64_t *shape) {
    for (int i = 0; i < t->n_dims; i++)
        shape[i] = t->ne[t->n_dims - 1 - i];
}

const char *tl_tensor_shape_str(const tl_tensor *t, char *buf, size_t cap) {
    size_t used = 0;
    if (cap == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, cap - used, "[");
    for (int i = t->n_dims - 1; i >= 0 && used < cap; i--)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i == t->n_dims - 1 ? "" : ", ",
                                 (long long)t->ne[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}
