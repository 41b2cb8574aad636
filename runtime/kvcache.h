/* runtime/kvcache.h -- a per-layer key/value cache for incremental decoding.
**
** Each layer keeps two f32 tensors of capacity [cap, width] (width = n_kv_heads
** * head_dim, ne = {width, cap}), filled from row 0 up.  Appending writes the
** new rows in place; capacity grows by doubling (a new buffer: earlier views
** keep the old one alive and stay valid).  tl_kvcache_view() returns a view
** of the first `len` rows shaped [len, n_kv_heads, head_dim] (NumPy order), so
** attention reads the cache without copying it.  Rows are never rewritten
** except after tl_kvcache_truncate(), which moves the fill mark back. */
#ifndef TL_RUNTIME_KVCACHE_H
#define TL_RUNTIME_KVCACHE_H

#include "runtime/tensor.h"

typedef struct tl_kvcache tl_kvcache;

/* n_layer layers; capacity 0 picks a small start and grows as needed. */
tl_status tl_kvcache_new(int64_t n_layer, int64_t capacity, tl_kvcache **out);
void tl_kvcache_free(tl_kvcache *c);

int64_t tl_kvcache_n_layer(const tl_kvcache *c);
/* Rows stored for a layer (0 before the first append). */
int64_t tl_kvcache_len(const tl_kvcache *c, int64_t layer);

/* Appends k and v ([S, H, D] or [S, H*D], any float dtype, same shapes) to a
** layer.  The first append fixes the layer's H and D. */
tl_status tl_kvcache_append(tl_kvcache *c, int64_t layer, const tl_tensor *k, const tl_tensor *v);

/* Room for `rows` more rows of `heads` x `dim` floats in a layer, without
** storing them yet: *k_rows and *v_rows point at rows len .. len + rows - 1 of the
** keys and values (the caller fills them), and *k_all / *v_all at row 0.  The
** pointers stay valid until the layer's next reserve, append or set (growing
** moves the storage).  The rows count only after tl_kvcache_commit(); until then
** the layer's length, views and contents are unchanged. */
tl_status tl_kvcache_reserve(tl_kvcache *c, int64_t layer, int64_t rows, int64_t heads, int64_t dim,
                             float **k_rows, float **v_rows, const float **k_all,
                             const float **v_all);
/* Counts `rows` more rows of a layer, filled after tl_kvcache_reserve(). */
void tl_kvcache_commit(tl_kvcache *c, int64_t layer, int64_t rows);
/* Replaces a layer's contents with k and v (the original's `set`). */
tl_status tl_kvcache_set(tl_kvcache *c, int64_t layer, const tl_tensor *k, const tl_tensor *v);

/* A view [len, H, D] of the stored keys (which = 0) or values (which = 1). */
tl_status tl_kvcache_view(tl_kvcache *c, int64_t layer, int which, tl_tensor **out);

/* Keeps the first n rows of every layer (n <= current length). */
tl_status tl_kvcache_truncate(tl_kvcache *c, int64_t n);

#endif
