/* runtime/shadow.h -- weight shadows: a model's matmul weights copied, in the
** background, into memory of their own laid out for the kernels that read them.
**
** A GGUF weight is a view into the mapped file, in the file's layout.  The
** first time a linear reads a weight the model loader allowed (tensor field
** shadow_allow: the quantized matrices of a file with Q4_0 ones, on a CPU with
** the Q4_0x16 kernels), it asks for that weight's shadow; one background thread
** makes it and publishes it in the tensor; from then on the linears read the
** shadow.  Q4_0 weights get the Q4_0x16 layout (runtime/quant/q4_0x16.h: the
** one-token GEMV about 1.5x faster from cache), every other type a plain copy;
** both go into 2 MiB pages where the system has them (such a model skips the
** background move of runtime/gguf_migrate.c).  When the loader allows
** it (shadow_allow 2: the mapping is the file itself), the file pages under a
** finished shadow are dropped from the process, so memory stays one copy of
** the weights; anything that still reads the view (a script, exact mode, rows
** past the shadow) reads the file again.  Results never change: each kernel
** over a shadow is bit-identical to the same kernel over the file's rows.
**
** TL_WEIGHT_SHADOWS=0 turns shadows off for models loaded afterwards. */
#ifndef TL_RUNTIME_SHADOW_H
#define TL_RUNTIME_SHADOW_H

#include "runtime/tensor.h"

#include <stdbool.h>

enum { TL_SHADOW_COPY = 1, TL_SHADOW_Q4_0X16 = 2 };

/* Whether the model loader should allow shadows (TL_WEIGHT_SHADOWS unset or not "0"). */
bool tl_shadow_wanted(void);

/* Asks for w's shadow: queued once when w allows one; no-op otherwise. */
void tl_shadow_request(tl_tensor *w);

/* w's published shadow data (NULL: none yet), with its kind and rows. */
static inline const char *tl_shadow_get(const tl_tensor *w, int *kind, int64_t *rows) {
    tl_storage *s = __atomic_load_n(&w->shadow, __ATOMIC_ACQUIRE);
    if (!s) return NULL;
    *kind = w->shadow_kind;
    *rows = w->shadow_rows;
    return s->data;
}

/* Waits until every shadow asked for so far is made (tests, benchmarks). */
void tl_shadow_wait(void);

/* Shadows are copied in pieces of this many bytes (default 16 MiB; 0 restores
** it), the file pages under each piece dropped when it is done (tests). */
void tl_shadow_set_piece(size_t bytes);

#endif
