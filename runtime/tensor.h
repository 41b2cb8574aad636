/* runtime/tensor.h -- n-d tensors: refcounted storage, strided views.
**
** Layout follows ggml/GGUF: ne[i] = elements in dim i, nb[i] = stride of dim i
** in bytes, dim 0 is the fastest-varying (contiguous) one.  The language shows
** shapes the NumPy way, outermost first: a .tl shape [S, 2048] is ne = {2048, S}.
** Use tl_tensor_shape()/tl_tensor_new_shape() when converting.  Unused dims
** have ne = 1.  For block types (Q4_0, ...) ne[0] counts elements and nb[1]
** is the row size in bytes; such tensors are only viewed by whole rows.
**
** Storage is malloc'd memory (zero-filled) or a window into memory owned by
** someone else (an mmapped GGUF file), kept alive through a release callback.
** Views (reshape, transpose, slice, ...) share storage and hold a reference.
** Every function returning a tl_tensor * gives the caller a new reference;
** drop it with tl_tensor_unref(), which accepts NULL.  Refcounts are atomic,
** so tensors may be shared with the thread pool. */
#ifndef TL_RUNTIME_TENSOR_H
#define TL_RUNTIME_TENSOR_H

#include "runtime/dtype.h"
#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_MAX_DIMS 8

/* Allocations larger than tl_alloc_limit() bytes fail with TL_ERR_NOMEM before
** calling malloc.  The limit starts at TL_MAX_ALLOC_BYTES, which a build may
** lower (the fuzz build does: -DTL_MAX_ALLOC_BYTES=...); a program may change
** it at run time with tl_set_alloc_limit() (the eval fuzz harness sets 256 MiB
** in every build).  Set it before starting work on other threads. */
#ifndef TL_MAX_ALLOC_BYTES
#define TL_MAX_ALLOC_BYTES ((size_t)1 << 40)
#endif
size_t tl_alloc_limit(void);
void tl_set_alloc_limit(size_t bytes);

typedef struct tl_storage {
    int32_t refcount;
    void *data;
    size_t size;                /* bytes                                        */
    void (*release)(void *ctx); /* NULL: data was malloc'd by us and is freed   */
    void *release_ctx;          /* passed to release (e.g. the mapped file)     */
} tl_storage;

/* Autograd bookkeeping (lang/autograd.c owns the node type): a recorded
** operation that produced a tensor.  The runtime only counts references and
** calls destroy when the last one goes. */
typedef struct tl_ag_node {
    int32_t refcount;
    void (*destroy)(struct tl_ag_node *node);
} tl_ag_node;

typedef struct tl_tensor {
    int32_t refcount;
    tl_dtype dtype;
    int32_t n_dims;          /* 0 for a scalar tensor (one element)          */
    int64_t ne[TL_MAX_DIMS]; /* (cols, rows, ...); unused dims = 1           */
    size_t nb[TL_MAX_DIMS];  /* byte strides; 0 in a broadcast dim           */
    tl_storage *storage;     /* shared by views; we hold one reference       */
    size_t offs;             /* byte offset of element 0 in storage->data    */
    char *name;              /* optional (e.g. the GGUF tensor name)         */
    /* weight shadows (runtime/shadow.h): the same rows in memory of their own,
    ** laid out for the matmul kernels, published once by the shadow thread
    ** (read with tl_shadow_get); views never inherit them */
    uint8_t
        shadow_allow; /* set by the model loader: 0 no, 1 yes, 2 yes and may drop the file pages */
    uint8_t shadow_state; /* 0 not asked, 1 asked, 2 done (shadow may still be NULL: none made) */
    uint8_t shadow_kind;  /* of shadow: TL_SHADOW_COPY or TL_SHADOW_Q4_0X16 */
    int64_t shadow_rows;  /* rows the shadow holds (Q4_0x16: whole groups of 16) */
    tl_storage *shadow;
    /* autograd: all NULL/false for ordinary tensors (views never inherit them) */
    bool requires_grad;     /* a leaf parameter, or computed from one       */
    tl_ag_node *grad_fn;    /* the recorded op that made it (one reference) */
    struct tl_tensor *grad; /* a leaf's accumulated gradient (one reference) */
} tl_tensor;

/* ---- storage -------------------------------------------------------------- */
tl_status tl_storage_new(size_t size, tl_storage **out); /* zero-filled */
tl_status tl_storage_wrap(void *data, size_t size, void (*release)(void *), void *ctx,
                          tl_storage **out);
void tl_storage_ref(tl_storage *s);
void tl_storage_unref(tl_storage *s);

/* ---- creation ------------------------------------------------------------- */
/* A new contiguous, zero-filled tensor; ne in ggml order, n_dims in 0..TL_MAX_DIMS. */
tl_status tl_tensor_new(tl_dtype dt, int n_dims, const int64_t *ne, tl_tensor **out);
/* The same without the zero fill, for a kernel that writes every element before
** anyone reads one (saves a pass over the memory, or the page faults of calloc). */
tl_status tl_tensor_new_uninit(tl_dtype dt, int n_dims, const int64_t *ne, tl_tensor **out);
/* The same with a NumPy-order shape (outermost first). */
tl_status tl_tensor_new_shape(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out);
/* A tensor over existing storage (takes its own reference); nb == NULL: contiguous. */
tl_status tl_tensor_from_storage(tl_storage *s, size_t offs, tl_dtype dt, int n_dims,
                                 const int64_t *ne, const size_t *nb, tl_tensor **out);
/* A view of base with new dims/strides (the caller checks they stay in bounds). */
tl_status tl_tensor_view(tl_tensor *base, int n_dims, const int64_t *ne, const size_t *nb,
                         size_t offs, tl_tensor **out);

tl_tensor *tl_tensor_ref(tl_tensor *t);
void tl_tensor_unref(tl_tensor *t);
void tl_ag_node_unref(tl_ag_node *n); /* accepts NULL */
tl_status tl_tensor_set_name(tl_tensor *t, const char *name);

/* ---- queries -------------------------------------------------------------- */
int64_t tl_tensor_nelements(const tl_tensor *t);
int64_t tl_tensor_nrows(const tl_tensor *t); /* product of ne[1..]          */
size_t tl_tensor_nbytes(const tl_tensor *t); /* bytes spanned if contiguous */
bool tl_tensor_is_contiguous(const tl_tensor *t);
bool tl_tensor_same_shape(const tl_tensor *a, const tl_tensor *b);
/* Writes the NumPy-order shape (outermost first) into shape[n_dims]. */
void tl_tensor_shape(const tl_tensor *t, int64_t *shape);
/* Pointer to element 0 (storage->data + offs). */
static inline void *tl_tensor_data(const tl_tensor *t) {
    return (char *)t->storage->data + t->offs;
}
/* Formats a NumPy-order shape like "[2, 3]" into buf; returns buf. */
const char *tl_tensor_shape_str(const tl_tensor *t, char *buf, size_t cap);

/* Computes contiguous strides for ne (block-aware); returns false on overflow. */
bool tl_contiguous_strides(tl_dtype dt, int n_dims, const int64_t *ne, size_t *nb,
                           size_t *total_bytes);

#endif
