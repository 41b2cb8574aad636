/* runtime/tokenizer_internal.h -- the tokenizer's insides, shared by the core
** (tokenizer.c) and its loaders (tokenizer_json.c, tokenizer_gguf.c).
** Nothing outside runtime/tokenizer*.c includes this. */
#ifndef TL_RUNTIME_TOKENIZER_INTERNAL_H
#define TL_RUNTIME_TOKENIZER_INTERNAL_H

#include "runtime/tokenizer.h"

#include <string.h>

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
    bool no_cut; /* tests only: merge each fragment whole (to check the cut is exact) */
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

/* BPE: the merge of ids (l, r), or NULL. */
uint64_t tl_tok_merge_key(int32_t l, int32_t r);
const tl_merge_slot *tl_tok_merge_find(const tl_tokenizer *tok, int32_t l, int32_t r);

#define U2581 "\xE2\x96\x81"

/* Byte length of the symbol starting with lead byte c (llama.cpp's rule). */
static inline size_t tl_tok_utf8_len(uint8_t c) {
    static const uint8_t lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[c >> 4];
}

#define PAIR_EMPTY UINT64_MAX

/* Two adjacent symbols (at most 4 bytes each) packed into one key.  The lead
** byte fixes a symbol's length, so zero padding is unambiguous. */
static inline uint64_t pair_key(const char *a, size_t al, const char *b, size_t bl) {
    uint32_t x = 0, y = 0;
    memcpy(&x, a, al);
    memcpy(&y, b, bl);
    return (uint64_t)x | (uint64_t)y << 32;
}

static inline size_t pair_slot(uint64_t key, size_t mask) {
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 31)) & mask;
}

/* May a merge join these two symbols?  (True when unsure.) */
static inline bool pair_possible(const tl_tokenizer *tok, uint64_t key) {
    if (key == PAIR_EMPTY || !tok->pairs) return true;
    for (size_t i = pair_slot(key, tok->pair_mask);; i = (i + 1) & tok->pair_mask) {
        if (tok->pairs[i] == key) return true;
        if (tok->pairs[i] == PAIR_EMPTY) return false;
    }
}

#endif
