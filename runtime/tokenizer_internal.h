/* runtime/tokenizer_internal.h -- the tokenizer's insides, shared by the core
** (tokenizer.c) and its loaders (tokenizer_json.c, tokenizer_gguf.c).
** Nothing outside runtime/tokenizer*.c includes this. */
#ifndef TL_RUNTIME_TOKENIZER_INTERNAL_H
#define TL_RUNTIME_TOKENIZER_INTERNAL_H

#include "runtime/tokenizer.h"

typedef enum tl_tok_kind { TL_TOK_SPM = 0, TL_TOK_BPE = 1 } tl_tok_kind;

/* When a raw fragment gets the U+2581 prefix (BPE; SPM uses add_space_prefix). */
typedef enum tl_tok_prefix {
    TL_PREFIX_NEVER = 0,
    TL_PREFIX_ALWAYS = 1, /* every raw fragment (= SPM's add_space_prefix)  */
    TL_PREFIX_FIRST = 2,  /* only a raw fragment at the start of the text   */
} tl_tok_prefix;

typedef struct tl_merge_slot {
    uint64_t key; /* (left id << 32) | right id; UINT64_MAX: empty */
    int32_t rank;
    int32_t merged;
} tl_merge_slot;

struct tl_tokenizer {
    tl_tok_kind kind;
    int32_t n_vocab;
    char *text_blob; /* every token text, NUL-separated     */
    size_t *text_off;
    uint32_t *text_len;
    float *scores;
    uint8_t *types;
    uint32_t *attrs;
    char *piece_blob; /* pieces as rendered with special=true */
    size_t *piece_off;
    uint32_t *piece_len;
    int32_t *slots; /* open-addressed text -> id map, -1 empty */
    size_t slot_mask;
    int32_t byte_ids[256]; /* byte fallback token for each byte, -1 none */
    int32_t *partition;    /* CONTROL/USER_DEFINED/UNKNOWN ids, longest text first */
    /* every pair of adjacent symbols inside some token text (packed, see pair_key);
    ** where a pair is absent no merge can cross, so SPM merges the pieces apart */
    uint64_t *pairs;
    size_t pair_mask;
    int32_t n_partition;
    int32_t bos, eos, unk, pad;
    bool add_bos, add_eos, add_space_prefix;
    tl_tok_prefix prefix; /* derived from add_space_prefix for SPM */
    /* BPE only */
    bool byte_fallback;
    bool fuse_unk;
    tl_merge_slot *merges;
    size_t merge_mask;
};

/* Builds the shared parts (text map, pieces, attrs, partition list) from v.
** kind decides the merge algorithm; a BPE caller then adds merges. */
tl_status tl_tokenizer_build(const tl_spm_vocab *v, tl_tok_kind kind, tl_tokenizer **out);

/* BPE: registers merge (left + right) with this rank (0 = first).  Unknown
** pieces or a pair whose concatenation is not in the vocab fail. */
tl_status tl_tokenizer_set_merges(tl_tokenizer *tok, size_t n, const int32_t *left,
                                  const int32_t *right, const int32_t *merged);

/* 64-bit hash of a byte string (FNV-1a with a final mix). */
uint64_t tl_tok_hash(const char *s, size_t n);

#endif
