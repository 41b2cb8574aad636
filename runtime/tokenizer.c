/* runtime/tokenizer.c -- the vocabulary, SPM/BPE tokenizing, pieces, detokenize.
** The algorithm is the one ../shared/spec/TOKENIZER.md describes (llama.cpp's
** SPM session), in our own code: partition on special tokens, escape spaces,
** then a best-first bigram merge over a binary heap. */
#include "runtime/tokenizer_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U2581 "\xE2\x96\x81"

/* ---- hashing and the text -> id map ------------------------------------------- */

uint64_t tl_tok_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

int32_t tl_tokenizer_find(const tl_tokenizer *tok, const char *text, size_t len) {
    size_t i = (size_t)tl_tok_hash(text, len) & tok->slot_mask;
    for (;;) {
        int32_t id = tok->slots[i];
        if (id < 0) return -1;
        if (tok->text_len[id] == len && memcmp(tok->text_blob + tok->text_off[id], text, len) == 0)
            return id;
        i = (i + 1) & tok->slot_mask;
    }
}

/* ---- construction ------------------------------------------------------------- */

tl_spm_vocab tl_spm_vocab_defaults(void) {
    return (tl_spm_vocab){.bos_id = 1,
                          .eos_id = 2,
                          .unk_id = 0,
                          .pad_id = -1,
                          .add_bos = true,
                          .add_eos = false,
                          .add_space_prefix = true};
}

static uint32_t attr_of_type(int32_t type) {
    switch (type) {
    case TL_TOKEN_NORMAL:
        return TL_TOKEN_ATTR_NORMAL;
    case TL_TOKEN_UNKNOWN:
        return TL_TOKEN_ATTR_UNKNOWN;
    case TL_TOKEN_CONTROL:
        return TL_TOKEN_ATTR_CONTROL;
    case TL_TOKEN_USER_DEFINED:
        return TL_TOKEN_ATTR_USER_DEFINED;
    case TL_TOKEN_UNUSED:
        return TL_TOKEN_ATTR_UNUSED;
    case TL_TOKEN_BYTE:
        return TL_TOKEN_ATTR_BYTE;
    default:
        return 0; /* UNDEFINED or an unknown value */
    }
}

void tl_tokenizer_free(tl_tokenizer *tok) {
    if (!tok) return;
    free(tok->text_blob);
    free(tok->text_off);
    free(tok->text_len);
    free(tok->scores);
    free(tok->types);
    free(tok->attrs);
    free(tok->piece_blob);
    free(tok->piece_off);
    free(tok->piece_len);
    free(tok->slots);
    free(tok->partition);
    free(tok->merges);
    free(tok->pairs);
    free(tok);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The byte a "<0xNN>" text stands for, or -1. */
static int byte_of_text(const char *s, size_t n) {
    if (n != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return -1;
    int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* Texts that mark the end of a turn (llama.cpp makes them CONTROL). */
static const char *const eog_texts[] = {
    "</s>",
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "<|end\xE2\x96\x81of\xE2\x96\x81sentence|>",
    "<|return|>",
    "<|call|>",
    NULL,
};
/* Fill-in-the-middle role markers: the first one present per role gets CONTROL. */
static const char *const fim_roles[][7] = {
    {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", U2581 "<PRE>", "<|code_prefix|>",
     NULL},
    {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", U2581 "<SUF>", "<|code_suffix|>",
     NULL},
    {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", U2581 "<MID>", "<|code_middle|>",
     NULL},
    {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", NULL},
    {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", NULL},
    {"<|file_sep|>", NULL},
};

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return false;
}

static int cmp_partition(const void *a, const void *b, void *ctx) {
    const tl_tokenizer *tok = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (tok->text_len[x] != tok->text_len[y]) return tok->text_len[x] > tok->text_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Byte length of the symbol starting with lead byte c (llama.cpp's rule). */
static inline size_t utf8_len(uint8_t c) {
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

static tl_status build_pairs(tl_tokenizer *tok) {
    size_t n_pairs = 0;
    for (int32_t i = 0; i < tok->n_vocab; i++)
        n_pairs += tok->text_len[i];
    size_t cap = 64;
    while (cap < n_pairs * 2)
        cap <<= 1;
    tok->pairs = malloc(sizeof(uint64_t) * cap);
    if (!tok->pairs) return tl_fail(TL_ERR_NOMEM, "tokenizer: out of memory");
    tok->pair_mask = cap - 1;
    memset(tok->pairs, 0xff, sizeof(uint64_t) * cap);
    for (int32_t i = 0; i < tok->n_vocab; i++) {
        const char *s = tok->text_blob + tok->text_off[i];
        size_t n = tok->text_len[i], off = 0, prev_off = 0, prev_len = 0;
        while (off < n) {
            size_t l = utf8_len((uint8_t)s[off]);
            if (l > n - off) l = n - off;
            if (prev_len) {
                uint64_t key = pair_key(s + prev_off, prev_len, s + off, l);
                if (key != PAIR_EMPTY) {
                    size_t k = pair_slot(key, tok->pair_mask);
                    while (tok->pairs[k] != PAIR_EMPTY && tok->pairs[k] != key)
                        k = (k + 1) & tok->pair_mask;
                    tok->pairs[k] = key;
                }
            }
            prev_off = off;
            prev_len = l;
            off += l;
        }
    }
    return TL_OK;
}

static tl_status check_special_id(const char *what, int32_t id, int32_t deflt, int32_t n,
                                  int32_t *out) {
    if (id < 0) {
        *out = -1;
        return TL_OK;
    }
    if (id < n) {
        *out = id;
        return TL_OK;
    }
    if (id == deflt) { /* a default that does not fit the vocab means "none" */
        *out = -1;
        return TL_OK;
    }
    return tl_fail(TL_ERR_FORMAT, "tokenizer: %s id %d out of range (vocab %d)", what, id, n);
}

tl_status tl_tokenizer_build(const tl_spm_vocab *v, tl_tok_kind kind, tl_tokenizer **out) {
    *out = NULL;
    if (!v || v->n_tokens <= 0) return tl_fail(TL_ERR_FORMAT, "tokenizer: the vocab is empty");
    if (!v->texts) return tl_fail(TL_ERR_FORMAT, "tokenizer: the vocab has no token texts");
    const int32_t n = v->n_tokens;
    tl_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return tl_fail(TL_ERR_NOMEM, "tokenizer: out of memory");
    tok->kind = kind;
    tok->n_vocab = n;
    tl_status st = TL_OK;
    if ((st = check_special_id("BOS", v->bos_id, 1, n, &tok->bos)) ||
        (st = check_special_id("EOS", v->eos_id, 2, n, &tok->eos)) ||
        (st = check_special_id("UNK", v->unk_id, 0, n, &tok->unk)) ||
        (st = check_special_id("padding", v->pad_id, -1, n, &tok->pad))) {
        tl_tokenizer_free(tok);
        return st;
    }
    tok->add_bos = v->add_bos;
    tok->add_eos = v->add_eos;
    tok->add_space_prefix = v->add_space_prefix;
    tok->prefix = v->add_space_prefix ? TL_PREFIX_ALWAYS : TL_PREFIX_NEVER;
    tok->byte_fallback = true;

    /* texts: empty ones become "[EMPTY_i]" as llama.cpp names them */
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!v->texts[i]) {
            tl_tokenizer_free(tok);
            return tl_fail(TL_ERR_FORMAT, "tokenizer: token %d has no text", i);
        }
        size_t len = v->text_lens ? v->text_lens[i] : strlen(v->texts[i]);
        total += (len ? len : 24) + 1;
    }
    tok->text_blob = malloc(total);
    tok->text_off = malloc(sizeof(size_t) * (size_t)n);
    tok->text_len = malloc(sizeof(uint32_t) * (size_t)n);
    tok->scores = malloc(sizeof(float) * (size_t)n);
    tok->types = malloc((size_t)n);
    tok->attrs = malloc(sizeof(uint32_t) * (size_t)n);
    size_t n_slots = 1;
    while (n_slots < (size_t)n * 2)
        n_slots <<= 1;
    tok->slots = malloc(sizeof(int32_t) * n_slots);
    tok->slot_mask = n_slots - 1;
    if (!tok->text_blob || !tok->text_off || !tok->text_len || !tok->scores || !tok->types ||
        !tok->attrs || !tok->slots) {
        tl_tokenizer_free(tok);
        return tl_fail(TL_ERR_NOMEM, "tokenizer: out of memory for %d tokens", n);
    }
    memset(tok->slots, 0xff, sizeof(int32_t) * n_slots);
    size_t pos = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = v->text_lens ? v->text_lens[i] : strlen(v->texts[i]);
        tok->text_off[i] = pos;
        if (len == 0)
            len = (size_t)sprintf(tok->text_blob + pos, "[EMPTY_%d]", i);
        else
            memcpy(tok->text_blob + pos, v->texts[i], len);
        if (len > UINT32_MAX / 2) {
            tl_tokenizer_free(tok);
            return tl_fail(TL_ERR_FORMAT, "tokenizer: token %d is absurdly long", i);
        }
        tok->text_blob[pos + len] = 0;
        tok->text_len[i] = (uint32_t)len;
        pos += len + 1;
        tok->scores[i] = v->scores ? v->scores[i] : 0.0f;
        int32_t type = v->types ? v->types[i] : TL_TOKEN_NORMAL;
        tok->types[i] = (uint8_t)(type >= 0 && type <= TL_TOKEN_BYTE ? type : TL_TOKEN_UNDEFINED);
        tok->attrs[i] = attr_of_type(tok->types[i]);
        /* into the map */
        const char *s = tok->text_blob + tok->text_off[i];
        size_t h = (size_t)tl_tok_hash(s, len) & tok->slot_mask;
        while (tok->slots[h] >= 0) {
            int32_t o = tok->slots[h];
            if (tok->text_len[o] == len && memcmp(tok->text_blob + tok->text_off[o], s, len) == 0) {
                tl_status dup = tl_fail(TL_ERR_FORMAT,
                                        "tokenizer: tokens %d and %d have the same text \"%.*s\"",
                                        o, i, (int)(len > 40 ? 40 : len), s);
                tl_tokenizer_free(tok);
                return dup;
            }
            h = (h + 1) & tok->slot_mask;
        }
        tok->slots[h] = i;
    }

    /* the attribute adjustments llama.cpp makes by text */
    for (size_t k = 0; eog_texts[k]; k++) {
        int32_t id = tl_tokenizer_find(tok, eog_texts[k], strlen(eog_texts[k]));
        if (id >= 0) tok->attrs[id] = TL_TOKEN_ATTR_CONTROL;
    }
    for (size_t r = 0; r < sizeof fim_roles / sizeof fim_roles[0]; r++)
        for (size_t k = 0; fim_roles[r][k]; k++) {
            int32_t id = tl_tokenizer_find(tok, fim_roles[r][k], strlen(fim_roles[r][k]));
            if (id >= 0) {
                tok->attrs[id] = TL_TOKEN_ATTR_CONTROL;
                break;
            }
        }

    /* byte fallback ids: "<0xNN>" first, else the 1-byte text */
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        int32_t id = tl_tokenizer_find(tok, hex, 6);
        if (id < 0) {
            char c = (char)b;
            id = tl_tokenizer_find(tok, &c, 1);
        }
        tok->byte_ids[b] = id;
    }

    /* pieces (as rendered with special=true) */
    size_t piece_total = 0;
    for (int32_t i = 0; i < n; i++)
        piece_total += tok->text_len[i] + 1;
    tok->piece_blob = malloc(piece_total);
    tok->piece_off = malloc(sizeof(size_t) * (size_t)n);
    tok->piece_len = malloc(sizeof(uint32_t) * (size_t)n);
    tok->partition = malloc(sizeof(int32_t) * (size_t)n);
    if (!tok->piece_blob || !tok->piece_off || !tok->piece_len || !tok->partition) {
        tl_tokenizer_free(tok);
        return tl_fail(TL_ERR_NOMEM, "tokenizer: out of memory for %d tokens", n);
    }
    pos = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *s = tok->text_blob + tok->text_off[i];
        size_t len = tok->text_len[i];
        uint32_t a = tok->attrs[i];
        char *dst = tok->piece_blob + pos;
        size_t m = 0;
        if (a & TL_TOKEN_ATTR_NORMAL) {
            for (size_t k = 0; k < len;) {
                if (k + 3 <= len && memcmp(s + k, U2581, 3) == 0) {
                    dst[m++] = ' ';
                    k += 3;
                } else {
                    dst[m++] = s[k++];
                }
            }
        } else if (a &
                   (TL_TOKEN_ATTR_UNKNOWN | TL_TOKEN_ATTR_CONTROL | TL_TOKEN_ATTR_USER_DEFINED)) {
            memcpy(dst, s, len);
            m = len;
        } else if (a & TL_TOKEN_ATTR_BYTE) {
            int b = byte_of_text(s, len);
            if (b >= 0) dst[m++] = (char)b;
        }
        dst[m] = 0;
        tok->piece_off[i] = pos;
        tok->piece_len[i] = (uint32_t)m;
        pos += m + 1;
    }

    /* the partition list: every CONTROL/USER_DEFINED/UNKNOWN token, longest first */
    bool phi3 = v->name && (contains_ci(v->name, "phi-3") || contains_ci(v->name, "phi3"));
    for (int32_t i = 0; i < n; i++)
        if (tok->attrs[i] &
            (TL_TOKEN_ATTR_CONTROL | TL_TOKEN_ATTR_USER_DEFINED | TL_TOKEN_ATTR_UNKNOWN)) {
            tok->partition[tok->n_partition++] = i;
            if (phi3) tok->attrs[i] |= TL_TOKEN_ATTR_RSTRIP;
        }
    if (phi3) {
        static const char *const no_rstrip[] = {"<unk>", "<s>", "<|endoftext|>"};
        int32_t id = tl_tokenizer_find(tok, "</s>", 4);
        if (id >= 0) tok->attrs[id] |= TL_TOKEN_ATTR_RSTRIP;
        for (size_t k = 0; k < 3; k++)
            if ((id = tl_tokenizer_find(tok, no_rstrip[k], strlen(no_rstrip[k]))) >= 0)
                tok->attrs[id] &= ~(uint32_t)TL_TOKEN_ATTR_RSTRIP;
    }
    qsort_r(tok->partition, (size_t)tok->n_partition, sizeof(int32_t), cmp_partition, tok);
    if ((st = build_pairs(tok))) {
        tl_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return TL_OK;
}

tl_status tl_tokenizer_new_spm(const tl_spm_vocab *v, tl_tokenizer **out) {
    return tl_tokenizer_build(v, TL_TOK_SPM, out);
}

/* ---- BPE merges --------------------------------------------------------------- */

static uint64_t merge_key(int32_t l, int32_t r) {
    return ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
}

static const tl_merge_slot *merge_find(const tl_tokenizer *tok, int32_t l, int32_t r) {
    if (!tok->merges || l < 0 || r < 0) return NULL;
    uint64_t key = merge_key(l, r);
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h ^ (h >> 29)) & tok->merge_mask;
    for (;;) {
        const tl_merge_slot *s = &tok->merges[i];
        if (s->key == UINT64_MAX) return NULL;
        if (s->key == key) return s;
        i = (i + 1) & tok->merge_mask;
    }
}

tl_status tl_tokenizer_set_merges(tl_tokenizer *tok, size_t n, const int32_t *left,
                                  const int32_t *right, const int32_t *merged) {
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    free(tok->merges);
    tok->merges = malloc(sizeof(tl_merge_slot) * cap);
    if (!tok->merges) return tl_fail(TL_ERR_NOMEM, "tokenizer: out of memory for %zu merges", n);
    tok->merge_mask = cap - 1;
    for (size_t i = 0; i < cap; i++)
        tok->merges[i].key = UINT64_MAX;
    for (size_t k = 0; k < n; k++) {
        uint64_t key = merge_key(left[k], right[k]);
        uint64_t h = key * 0x9e3779b97f4a7c15ull;
        size_t i = (size_t)(h ^ (h >> 29)) & tok->merge_mask;
        while (tok->merges[i].key != UINT64_MAX && tok->merges[i].key != key)
            i = (i + 1) & tok->merge_mask;
        if (tok->merges[i].key == key) continue; /* a repeated merge keeps its first rank */
        tok->merges[i] = (tl_merge_slot){.key = key, .rank = (int32_t)k, .merged = merged[k]};
    }
    return TL_OK;
}

/* ---- queries ------------------------------------------------------------------ */

int32_t tl_tokenizer_n_vocab(const tl_tokenizer *tok) {
    return tok->n_vocab;
}
int32_t tl_tokenizer_bos(const tl_tokenizer *tok) {
    return tok->bos;
}
int32_t tl_tokenizer_eos(const tl_tokenizer *tok) {
    return tok->eos;
}
int32_t tl_tokenizer_unk(const tl_tokenizer *tok) {
    return tok->unk;
}
int32_t tl_tokenizer_pad(const tl_tokenizer *tok) {
    return tok->pad;
}
bool tl_tokenizer_add_bos(const tl_tokenizer *tok) {
    return tok->add_bos;
}
bool tl_tokenizer_add_eos(const tl_tokenizer *tok) {
    return tok->add_eos;
}
bool tl_tokenizer_add_space_prefix(const tl_tokenizer *tok) {
    return tok->add_space_prefix;
}
const char *tl_tokenizer_kind(const tl_tokenizer *tok) {
    return tok->kind == TL_TOK_SPM ? "spm" : "bpe";
}
const char *tl_tokenizer_text(const tl_tokenizer *tok, int32_t id, size_t *len) {
    if (len) *len = tok->text_len[id];
    return tok->text_blob + tok->text_off[id];
}
tl_token_type tl_tokenizer_type(const tl_tokenizer *tok, int32_t id) {
    return (tl_token_type)tok->types[id];
}
uint32_t tl_tokenizer_attr(const tl_tokenizer *tok, int32_t id) {
    return tok->attrs[id];
}
float tl_tokenizer_score(const tl_tokenizer *tok, int32_t id) {
    return tok->scores[id];
}

tl_status tl_tokenizer_check_id(const tl_tokenizer *tok, int64_t id) {
    if (id < 0 || id >= tok->n_vocab)
        return tl_fail(TL_ERR_RANGE, "token id %lld out of range (vocab %d)", (long long)id,
                       tok->n_vocab);
    return TL_OK;
}

/* ---- growable id list ----------------------------------------------------------- */

typedef struct id_list {
    int32_t *v;
    size_t n, cap;
} id_list;

static tl_status ids_push(id_list *l, int32_t id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int32_t *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = id;
    return TL_OK;
}

/* ---- the merge step --------------------------------------------------------------- */

typedef struct bigram {
    float score;
    int32_t left, right;
    int32_t aux; /* SPM: byte size of the pair; BPE: the merged id */
} bigram;

typedef struct heap {
    bigram *v;
    size_t n, cap;
} heap;

/* a before b: higher score first, then the leftmost pair */
static inline bool bigram_before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static tl_status heap_push(heap *h, bigram e) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *nv = realloc(h->v, cap * sizeof *nv);
        if (!nv) return tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
        h->v = nv;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&e, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
    return TL_OK;
}

static bigram heap_pop(heap *h) {
    bigram top = h->v[0];
    bigram last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->v[c + 1], &h->v[c])) c++;
        if (!bigram_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* Per-call scratch, reused across fragments. */
typedef struct session {
    const tl_tokenizer *tok;
    int32_t *start, *len, *prev, *next, *id; /* symbols */
    size_t cap;
    heap h;
    char *buf; /* the escaped fragment */
    size_t buf_cap;
} session;

static void session_free(session *s) {
    free(s->start);
    free(s->len);
    free(s->prev);
    free(s->next);
    free(s->id);
    free(s->h.v);
    free(s->buf);
}

static tl_status session_reserve(session *s, size_t n) {
    if (n <= s->cap) return TL_OK;
    if (n > INT32_MAX) return tl_fail(TL_ERR_NOMEM, "tokenize: a text fragment over 2 GiB");
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n)
        cap *= 2;
    int32_t **arrs[] = {&s->start, &s->len, &s->prev, &s->next, &s->id};
    for (size_t k = 0; k < 5; k++) {
        int32_t *nv = realloc(*arrs[k], cap * sizeof(int32_t));
        if (!nv) return tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
        *arrs[k] = nv;
    }
    s->cap = cap;
    return TL_OK;
}

static tl_status try_push(session *s, const char *text, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return TL_OK;
    const tl_tokenizer *tok = s->tok;
    if (tok->kind == TL_TOK_SPM) {
        size_t size = (size_t)s->len[l] + (size_t)s->len[r];
        int32_t id = tl_tokenizer_find(tok, text + s->start[l], size);
        if (id < 0) return TL_OK;
        return heap_push(&s->h, (bigram){tok->scores[id], l, r, (int32_t)size});
    }
    const tl_merge_slot *m = merge_find(tok, s->id[l], s->id[r]);
    if (!m) return TL_OK;
    return heap_push(&s->h, (bigram){-(float)m->rank, l, r, m->merged});
}

static tl_status merge_range(session *s, const char *text, int32_t a, int32_t b, id_list *out,
                             bool *last_unk);

static inline bool is_byte_symbol(const tl_tokenizer *tok, int32_t id) {
    return id >= 0 && tok->types[id] == TL_TOKEN_BYTE;
}

/* Tokenizes one escaped fragment text[0..n) into out. */
static tl_status merge_fragment(session *s, const char *text, size_t n, id_list *out) {
    const tl_tokenizer *tok = s->tok;
    tl_status st;
    if (n == 0) return TL_OK;
    if ((st = session_reserve(s, n))) return st;
    /* split into symbols */
    int32_t count = 0;
    for (size_t off = 0; off < n;) {
        size_t l = utf8_len((uint8_t)text[off]);
        if (l > n - off) l = n - off;
        if (tok->kind == TL_TOK_BPE) {
            int32_t id = tl_tokenizer_find(tok, text + off, l);
            if (id < 0 && tok->byte_fallback) {
                bool all = true;
                for (size_t k = 0; k < l; k++)
                    all = all && tok->byte_ids[(uint8_t)text[off + k]] >= 0;
                if (all) { /* one symbol per byte token */
                    for (size_t k = 0; k < l; k++) {
                        s->start[count] = (int32_t)(off + k);
                        s->len[count] = 1;
                        s->id[count] = tok->byte_ids[(uint8_t)text[off + k]];
                        count++;
                    }
                    off += l;
                    continue;
                }
            }
            s->id[count] = id; /* -1: unknown, becomes UNK */
        }
        s->start[count] = (int32_t)off;
        s->len[count] = (int32_t)l;
        count++;
        off += l;
    }
    /* Cut where no token can span the two symbols and merge each piece alone:
    ** merges never cross such a cut, and the order within a piece is the same.
    ** (BPE: byte-fallback symbols merge by id, so never cut next to one.) */
    bool last_unk = false;
    for (int32_t a = 0, b; a < count; a = b) {
        for (b = a + 1; b < count; b++) {
            if (tok->kind == TL_TOK_BPE &&
                (is_byte_symbol(tok, s->id[b - 1]) || is_byte_symbol(tok, s->id[b])))
                continue;
            if (!pair_possible(tok, pair_key(text + s->start[b - 1], (size_t)s->len[b - 1],
                                             text + s->start[b], (size_t)s->len[b])))
                break;
        }
        if ((st = merge_range(s, text, a, b, out, &last_unk))) return st;
    }
    return TL_OK;
}

/* Merges symbols [a, b) and outputs their ids. */
static tl_status merge_range(session *s, const char *text, int32_t a, int32_t b, id_list *out,
                             bool *last_unk) {
    const tl_tokenizer *tok = s->tok;
    tl_status st;
    for (int32_t i = a; i < b; i++) {
        s->prev[i] = i - 1;
        s->next[i] = i + 1 < b ? i + 1 : -1;
    }
    s->prev[a] = -1;
    s->h.n = 0;
    for (int32_t i = a + 1; i < b; i++)
        if ((st = try_push(s, text, i - 1, i))) return st;
    while (s->h.n) {
        bigram top = heap_pop(&s->h);
        int32_t l = top.left, r = top.right;
        if (s->len[l] == 0 || s->len[r] == 0) continue;
        if (tok->kind == TL_TOK_SPM) {
            if (s->len[l] + s->len[r] != top.aux) continue;
        } else {
            if (s->next[l] != r) continue;
            const tl_merge_slot *m = merge_find(tok, s->id[l], s->id[r]);
            if (!m || m->merged != top.aux) continue;
            s->id[l] = top.aux;
        }
        s->len[l] += s->len[r];
        s->len[r] = 0;
        s->next[l] = s->next[r];
        if (s->next[r] >= 0) s->prev[s->next[r]] = l;
        if ((st = try_push(s, text, s->prev[l], l)) || (st = try_push(s, text, l, s->next[l])))
            return st;
    }
    /* output */
    for (int32_t i = a; i >= 0; i = s->next[i]) {
        if (tok->kind == TL_TOK_BPE) {
            int32_t id = s->id[i];
            if (id < 0) {
                if (tok->unk < 0)
                    return tl_fail(TL_ERR_FORMAT,
                                   "tokenize: \"%.*s\" is not in the vocab and "
                                   "there is no unknown token",
                                   (int)s->len[i], text + s->start[i]);
                if (tok->fuse_unk && *last_unk) continue;
                id = tok->unk;
                *last_unk = true;
            } else {
                *last_unk = false;
            }
            if ((st = ids_push(out, id))) return st;
            continue;
        }
        int32_t id = tl_tokenizer_find(tok, text + s->start[i], (size_t)s->len[i]);
        if (id >= 0) {
            if ((st = ids_push(out, id))) return st;
            continue;
        }
        for (int32_t k = 0; k < s->len[i]; k++) {
            uint8_t c = (uint8_t)text[s->start[i] + k];
            if (tok->byte_ids[c] < 0)
                return tl_fail(TL_ERR_FORMAT,
                               "tokenize: no byte token for byte 0x%02X in the vocab", c);
            if ((st = ids_push(out, tok->byte_ids[c]))) return st;
        }
    }
    return TL_OK;
}

/* ---- partition on special tokens ---------------------------------------------------- */

typedef struct fragment {
    int32_t id; /* -1: raw text */
    size_t off, len;
} fragment;

typedef struct frag_list {
    fragment *v;
    size_t n, cap;
} frag_list;

static tl_status frags_push(frag_list *l, fragment f) {
    if (f.id < 0 && f.len == 0) return TL_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        fragment *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = f;
    return TL_OK;
}

static tl_status partition(const tl_tokenizer *tok, const char *text, size_t len,
                           bool parse_special, frag_list *frags) {
    tl_status st;
    if (len == 0) return TL_OK;
    if ((st = frags_push(frags, (fragment){-1, 0, len}))) return st;
    frag_list next = {0};
    for (int32_t p = 0; p < tok->n_partition; p++) {
        int32_t id = tok->partition[p];
        uint32_t a = tok->attrs[id];
        if (!parse_special && (a & (TL_TOKEN_ATTR_CONTROL | TL_TOKEN_ATTR_UNKNOWN))) continue;
        const char *t = tok->text_blob + tok->text_off[id];
        size_t tl = tok->text_len[id];
        next.n = 0;
        bool found = false;
        for (size_t f = 0; f < frags->n; f++) {
            fragment fr = frags->v[f];
            if (fr.id >= 0 || fr.len < tl) {
                if ((st = frags_push(&next, fr))) goto fail;
                continue;
            }
            size_t off = fr.off, end = fr.off + fr.len;
            for (;;) {
                const char *hit = memmem(text + off, end - off, t, tl);
                if (!hit) {
                    if ((st = frags_push(&next, (fragment){-1, off, end - off}))) goto fail;
                    break;
                }
                found = true;
                size_t at = (size_t)(hit - text);
                size_t left_end = at;
                if (a & TL_TOKEN_ATTR_LSTRIP)
                    while (left_end > off && isspace((uint8_t)text[left_end - 1]))
                        left_end--;
                if ((st = frags_push(&next, (fragment){-1, off, left_end - off})) ||
                    (st = frags_push(&next, (fragment){id, at, tl})))
                    goto fail;
                off = at + tl;
                if (a & TL_TOKEN_ATTR_RSTRIP)
                    while (off < end && isspace((uint8_t)text[off]))
                        off++;
                if (off >= end) break;
            }
        }
        if (found) {
            frag_list tmp = *frags;
            *frags = next;
            next = tmp;
        }
    }
    free(next.v);
    return TL_OK;
fail:
    free(next.v);
    return st;
}

/* ---- tokenize -------------------------------------------------------------------------- */

tl_status tl_tokenize(const tl_tokenizer *tok, const char *text, size_t len, bool add_special,
                      bool parse_special, int32_t **ids, size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    if (!text && len) return tl_fail(TL_ERR_ARG, "tokenize: no text");
    id_list out = {0};
    frag_list frags = {0};
    session s = {.tok = tok};
    tl_status st = TL_OK;
    if (add_special && tok->add_bos) {
        if (tok->bos < 0) {
            st = tl_fail(TL_ERR_FORMAT, "tokenize: the vocab asks for BOS but has no BOS token");
            goto done;
        }
        if ((st = ids_push(&out, tok->bos))) goto done;
    }
    if ((st = partition(tok, text, len, parse_special, &frags))) goto done;
    bool prev_special = true;
    for (size_t f = 0; f < frags.n; f++) {
        fragment fr = frags.v[f];
        if (fr.id >= 0) {
            if ((st = ids_push(&out, fr.id))) goto done;
            prev_special = true;
            continue;
        }
        bool prefix = tok->prefix == TL_PREFIX_ALWAYS  ? prev_special
                      : tok->prefix == TL_PREFIX_FIRST ? fr.off == 0
                                                       : false;
        /* escape: optional leading space, then every 0x20 -> U+2581 */
        size_t spaces = prefix ? 1 : 0;
        for (size_t k = 0; k < fr.len; k++)
            spaces += text[fr.off + k] == ' ';
        size_t need = fr.len + (prefix ? 1 : 0) + spaces * 2;
        if (need > s.buf_cap) {
            char *nb = realloc(s.buf, need);
            if (!nb) {
                st = tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
                goto done;
            }
            s.buf = nb;
            s.buf_cap = need;
        }
        size_t m = 0;
        if (prefix) {
            memcpy(s.buf, U2581, 3);
            m = 3;
        }
        for (size_t k = 0; k < fr.len; k++) {
            char c = text[fr.off + k];
            if (c == ' ') {
                memcpy(s.buf + m, U2581, 3);
                m += 3;
            } else {
                s.buf[m++] = c;
            }
        }
        if ((st = merge_fragment(&s, s.buf, m, &out))) goto done;
        prev_special = false;
    }
    if (add_special && tok->add_eos) {
        if (tok->eos < 0) {
            st = tl_fail(TL_ERR_FORMAT, "tokenize: the vocab asks for EOS but has no EOS token");
            goto done;
        }
        if ((st = ids_push(&out, tok->eos))) goto done;
    }
done:
    session_free(&s);
    free(frags.v);
    if (!st && !out.v && !(out.v = malloc(sizeof(int32_t))))
        st = tl_fail(TL_ERR_NOMEM, "tokenize: out of memory");
    if (st) {
        free(out.v);
        return st;
    }
    *ids = out.v;
    *n_ids = out.n;
    return TL_OK;
}

/* ---- pieces and detokenize ------------------------------------------------------------------ */

tl_status tl_token_piece(const tl_tokenizer *tok, int32_t id, bool special, const char **piece,
                         size_t *len) {
    tl_status st = tl_tokenizer_check_id(tok, id);
    if (st) return st;
    if (!special && (tok->attrs[id] & (TL_TOKEN_ATTR_CONTROL | TL_TOKEN_ATTR_UNKNOWN))) {
        *piece = "";
        *len = 0;
        return TL_OK;
    }
    *piece = tok->piece_blob + tok->piece_off[id];
    *len = tok->piece_len[id];
    return TL_OK;
}

/* Hugging Face's decoder chain for the Llama kind: pieces (special tokens only
** when asked), fused, then one leading space stripped from the whole text. */
static tl_status detokenize_hf(const tl_tokenizer *tok, const int32_t *ids, size_t n_ids,
                               bool special, char **text, size_t *len) {
    size_t total = 1;
    for (size_t i = 0; i < n_ids; i++)
        total += tok->piece_len[ids[i]];
    char *buf = malloc(total);
    if (!buf) return tl_fail(TL_ERR_NOMEM, "detokenize: out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const char *p;
        size_t pl;
        tl_token_piece(tok, ids[i], special, &p, &pl);
        memcpy(buf + m, p, pl);
        m += pl;
    }
    if (tok->add_space_prefix && m > 0 && buf[0] == ' ') memmove(buf, buf + 1, --m);
    buf[m] = 0;
    *text = buf;
    *len = m;
    return TL_OK;
}

tl_status tl_detokenize(const tl_tokenizer *tok, const int32_t *ids, size_t n_ids,
                        bool remove_special, bool unparse_special, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < n_ids; i++) {
        tl_status st = tl_tokenizer_check_id(tok, ids[i]);
        if (st) return st;
    }
    if (tok->kind == TL_TOK_BPE) return detokenize_hf(tok, ids, n_ids, unparse_special, text, len);
    size_t i0 = 0, i1 = n_ids;
    bool strip = tok->add_space_prefix;
    if (remove_special && tok->add_bos && i1 > i0 && ids[i0] == tok->bos) {
        i0++;
        strip = false;
    }
    if (remove_special && tok->add_eos && i1 > i0 && ids[i1 - 1] == tok->eos) i1--;
    size_t total = 1;
    for (size_t i = i0; i < i1; i++)
        total += tok->piece_len[ids[i]];
    char *buf = malloc(total);
    if (!buf) return tl_fail(TL_ERR_NOMEM, "detokenize: out of memory");
    size_t m = 0;
    for (size_t i = i0; i < i1; i++) {
        const char *p;
        size_t pl;
        tl_token_piece(tok, ids[i], unparse_special, &p, &pl);
        if (i == i0 && strip && pl > 0 && p[0] == ' ') {
            p++;
            pl--;
        }
        memcpy(buf + m, p, pl);
        m += pl;
    }
    buf[m] = 0;
    *text = buf;
    *len = m;
    return TL_OK;
}

/* ---- streaming decode --------------------------------------------------------------------- */

void tl_detok_stream_init(tl_detok_stream *s, const tl_tokenizer *tok, bool remove_special,
                          bool unparse_special) {
    memset(s, 0, sizeof *s);
    s->tok = tok;
    s->remove_special = remove_special;
    s->unparse_special = unparse_special;
    s->strip = tok->add_space_prefix;
}

/* How many bytes at the end of b[0..n) are an incomplete (but so far valid)
** UTF-8 character that later bytes may complete. */
static size_t incomplete_tail(const uint8_t *b, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t c = b[n - back];
        if ((c & 0xC0) == 0x80) continue; /* a continuation byte: look further back */
        size_t need = c >= 0xF0 && c <= 0xF7   ? 4
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xC0 && c <= 0xDF ? 2
                                               : 1;
        return need > back ? back : 0;
    }
    return 0;
}

tl_status tl_detok_stream_push(tl_detok_stream *s, int32_t id, char *out, size_t out_cap,
                               size_t *out_len) {
    const tl_tokenizer *tok = s->tok;
    *out_len = 0;
    tl_status st = tl_tokenizer_check_id(tok, id);
    if (st) return st;
    bool first = !s->started;
    s->started = true;
    const char *p;
    size_t pl;
    if (tok->kind == TL_TOK_BPE) { /* strip the first space of the whole text */
        tl_token_piece(tok, id, s->unparse_special, &p, &pl);
        if (s->strip && pl > 0) {
            if (p[0] == ' ') {
                p++;
                pl--;
            }
            s->strip = false;
        }
    } else {
        if (first && id == tok->bos) s->strip = false;
        if (first && s->remove_special && tok->add_bos && id == tok->bos) return TL_OK;
        tl_token_piece(tok, id, s->unparse_special, &p, &pl);
        if (first && s->strip && pl > 0 && p[0] == ' ') {
            p++;
            pl--;
        }
        s->strip = false;
    }
    if (out_cap < pl + (size_t)s->n_held)
        return tl_fail(TL_ERR_ARG, "detokenize: output buffer too small");
    memcpy(out, s->held, (size_t)s->n_held);
    memcpy(out + s->n_held, p, pl);
    size_t n = (size_t)s->n_held + pl;
    size_t keep = incomplete_tail((const uint8_t *)out, n);
    memcpy(s->held, out + n - keep, keep);
    s->n_held = (int)keep;
    *out_len = n - keep;
    return TL_OK;
}

tl_status tl_detok_stream_push_alloc(tl_detok_stream *s, int32_t id, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    tl_status st = tl_tokenizer_check_id(s->tok, id);
    if (st) return st;
    size_t cap = s->tok->piece_len[id] + 9;
    char *buf = malloc(cap);
    if (!buf) return tl_fail(TL_ERR_NOMEM, "detokenize: out of memory");
    if ((st = tl_detok_stream_push(s, id, buf, cap, len))) {
        free(buf);
        return st;
    }
    buf[*len] = 0;
    *text = buf;
    return TL_OK;
}

size_t tl_detok_stream_flush(tl_detok_stream *s, char *out) {
    size_t n = (size_t)s->n_held;
    memcpy(out, s->held, n);
    s->n_held = 0;
    return n;
}
