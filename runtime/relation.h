/* runtime/relation.h -- a relation: a Boolean tensor over integer symbol ids.
**
** A relation of arity k is the set of k-tuples (its "true" coordinates).  It
** keeps them in two forms that together are the Boolean tensor:
**   - the coordinate list: every tuple, in insertion order (tuple i lives at
**     tup[i*k .. i*k+k-1]); new tuples are appended, so a range of tuple
**     numbers is exactly "the facts derived in one round" (semi-naive deltas);
**   - a membership structure, chosen automatically: while side^k <= 2^26 bits
**     (side = the symbol-id bound the caller gave) a dense bit-packed tensor
**     (one bit per coordinate, row-major), otherwise a hash set of tuple
**     numbers.  A tuple with an id >= side switches a dense relation to the
**     hash set.  Which one is used is invisible to callers.
** Joins read a relation through per-column-set indexes (tl_rel_index): a hash
** of the chosen columns -> chain of tuple numbers, newest first, updated on
** every insert, so a lookup can be limited to a range of tuple numbers.
** Arity 0 (a proposition) is allowed: the only tuple is the empty one. */
#ifndef TL_RUNTIME_RELATION_H
#define TL_RUNTIME_RELATION_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_REL_MAX_ARITY 16
#define TL_REL_NONE      UINT32_MAX /* end of an index chain */

typedef struct tl_rel_index {
    uint32_t mask;  /* the key columns (bit c = column c)        */
    uint32_t *head; /* bucket -> newest tuple number, or NONE     */
    uint32_t *next; /* tuple number -> older one in the bucket    */
    size_t n_buckets, n_next;
} tl_rel_index;

typedef struct tl_rel {
    int arity;
    int32_t *tup; /* n * arity ids */
    size_t n, cap;
    /* membership: dense bits (bits != NULL) or a hash set of tuple numbers */
    uint64_t *bits;
    int64_t side; /* dense: ids < side */
    uint32_t *set;
    size_t set_cap; /* power of two; 0 while dense */
    tl_rel_index *idx;
    int n_idx;
} tl_rel;

/* An empty relation of this arity; side = the expected bound on symbol ids
** (the dense form is used when side^arity is small, see above). */
tl_status tl_rel_init(tl_rel *r, int arity, int64_t side);
void tl_rel_free(tl_rel *r);
/* Deep copy of src into dst (dst is initialised here). */
tl_status tl_rel_copy(tl_rel *dst, const tl_rel *src);

/* Adds tuple t (arity ids, each >= 0).  *added (optional) = whether it was new. */
tl_status tl_rel_insert(tl_rel *r, const int32_t *t, bool *added);
bool tl_rel_contains(const tl_rel *r, const int32_t *t);
/* True while the dense bit-packed form is in use. */
bool tl_rel_is_dense(const tl_rel *r);
/* Bytes held by the relation (coordinates, membership, indexes). */
size_t tl_rel_bytes(const tl_rel *r);

/* The number of the index on the columns in mask (built on first use, kept up
** to date): use &r->idx[*out] afresh after any call that may add an index. */
tl_status tl_rel_index_get(tl_rel *r, uint32_t mask, int *out);
/* The newest tuple number whose key columns may equal key's (key holds a full
** tuple; only the mask's columns are read), then follow idx->next[].  Chains
** hold other keys too: callers compare the key columns. */
uint32_t tl_rel_index_first(const tl_rel *r, const tl_rel_index *idx, const int32_t *key);

#endif
