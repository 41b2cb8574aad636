/* runtime/vocab_train.h -- learns a small SentencePiece-style (llama SPM) vocabulary from
** a text by byte-pair merging, for models trained from scratch (examples/train/tiny_llama.tl).
**
** The text is seen as the SPM tokenizer sees it: every space is U+2581 "▁" and one "▁" is
** put in front.  It is cut into units that no learned piece crosses: a "▁" with the run of
** letters, of digits or of other symbols that follows it (or a lone "▁"), a run of line
** breaks, or a run of one class without "▁".  Starting from the text's characters, the most
** frequent adjacent pair over all units (ties: the smaller pair of ids) is merged into a new
** piece, repeatedly, until the vocabulary has the requested size.
**
** The result, in llama's layout: 0 <unk>, 1 <s>, 2 </s> (control), 3..258 the byte-fallback
** pieces <0x00>..<0xFF>, then the characters (most frequent first, score 0), then the merged
** pieces with score -1, -2, ... in merge order.  An SPM tokenizer, which repeatedly merges
** the adjacent pair whose concatenation is a piece of the highest score, therefore replays
** the merges in the order they were learned; characters not in the vocabulary fall back to
** bytes.  Deterministic: the same text and size give the same vocabulary. */
#ifndef TL_RUNTIME_VOCAB_TRAIN_H
#define TL_RUNTIME_VOCAB_TRAIN_H

#include "runtime/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tl_trained_vocab {
    int32_t n;    /* pieces */
    char **texts; /* NUL-terminated UTF-8 ("▁" for spaces) */
    size_t *lens; /* byte lengths */
    float *scores;
    int32_t *types; /* GGUF token types: 1 normal, 2 unknown, 3 control, 6 byte */
} tl_trained_vocab;

/* Learns a vocabulary of at most n_vocab pieces (>= 259 + the characters of the text;
** fewer when the text has no pairs left to merge).  Characters seen fewer than
** min_char_count times are left to the byte fallback. */
tl_status tl_vocab_train(const char *text, size_t len, int32_t n_vocab, int64_t min_char_count,
                         tl_trained_vocab *out);
void tl_trained_vocab_free(tl_trained_vocab *v); /* accepts a zeroed or freed one */

#endif
