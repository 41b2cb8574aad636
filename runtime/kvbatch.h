/* runtime/kvbatch.h -- key/value caches for a batch of sequences, and the
** attention of a step that carries new tokens of several of them at once.
**
** A tl_kvbatch owns one tl_kvcache (runtime/kvcache.h) per sequence, so every
** sequence has its own length and positions; n_ctx (> 0) caps each of them.  A
** step names the sequences it advances (`seqs`, distinct ids in 0 .. n_seq - 1)
** and how many new tokens each brings (`lens`, >= 1), stacked in that order
** along the rows of q, k and v: sequence seqs[0]'s tokens first, and so on.  The
** new tokens of sequence s sit at positions len(s) .. len(s) + lens - 1.
**
** tl_kvbatch_attention() appends each sequence's k/v rows to its own cache and
** runs the fused causal attention of its query rows against its own keys only,
** exactly the computation of the tl_op_attention call that sequence would make
** alone, so each output row is bit-identical to running the sequence by itself.
** All the sequences' attentions share one parallel region, which also stores the
** new rows of one-token steps (runtime/ops.h: tl_op_attention_rows), and the
** new rows count only once the whole step succeeded: a step that fails leaves
** every cache as it was. */
#ifndef TL_RUNTIME_KVBATCH_H
#define TL_RUNTIME_KVBATCH_H

#include "runtime/kvcache.h"
#include "runtime/tensor.h"

typedef struct tl_kvbatch tl_kvbatch;

/* n_seq sequences (1 .. 4096) of n_layer layers; capacity as tl_kvcache_new;
** n_ctx <= 0: no cap on a sequence's length. */
tl_status tl_kvbatch_new(int64_t n_layer, int64_t n_seq, int64_t capacity, int64_t n_ctx,
                         tl_kvbatch **out);
void tl_kvbatch_free(tl_kvbatch *b);

int64_t tl_kvbatch_n_seq(const tl_kvbatch *b);
int64_t tl_kvbatch_n_ctx(const tl_kvbatch *b);
/* Tokens stored for a sequence (its layer 0). */
tl_status tl_kvbatch_len(const tl_kvbatch *b, int64_t seq, int64_t *len);
/* Keeps the first n tokens of one sequence (seq >= 0) or of all (seq < 0). */
tl_status tl_kvbatch_truncate(tl_kvbatch *b, int64_t seq, int64_t n);

/* Checks a step: n >= 1 distinct sequence ids in range, each lens[i] >= 1,
** each sequence's length plus lens[i] within n_ctx; rows < 0 skips the check
** that the lens add up to rows. */
tl_status tl_kvbatch_check(const tl_kvbatch *b, const int64_t *seqs, const int64_t *lens, int64_t n,
                           int64_t rows);

/* The position of every new token of a step (sum of lens entries, in stacking
** order) into pos, which holds max_pos entries. */
tl_status tl_kvbatch_positions(const tl_kvbatch *b, const int64_t *seqs, const int64_t *lens,
                               int64_t n, int64_t *pos, int64_t max_pos);

/* One layer of a step: q [N, H, D], k and v [N, Hkv, D] (N = sum of lens);
** appends k/v to each sequence's cache for that layer and returns the
** attention output [N, H, D] (f32).  scale <= 0: 1/sqrt(D). */
tl_status tl_kvbatch_attention(tl_kvbatch *b, int64_t layer, const int64_t *seqs,
                               const int64_t *lens, int64_t n, const tl_tensor *q,
                               const tl_tensor *k, const tl_tensor *v, float scale,
                               tl_tensor **out);

#endif
