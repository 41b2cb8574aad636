/* runtime/tokenizer.c -- building the vocabulary: the text -> id map, token
** attributes and pieces, the special-token partition list, byte fallback ids,
** the symbol-pair set, BPE merge ranks; and the simple queries.
** Tokenizing is in tokenizer_encode.c, pieces/detokenize in tokenizer_decode.c. */
#include "runtime/tokenizer_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            size_t l = tl_tok_utf8_len((uint8_t)s[off]);
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

uint64_t tl_tok_merge_key(int32_t l, int32_t r) {
    return ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
}

const tl_merge_slot *tl_tok_merge_find(const tl_tokenizer *tok, int32_t l, int32_t r) {
    if (!tok->merges || l < 0 || r < 0) return NULL;
    uint64_t key = tl_tok_merge_key(l, r);
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
        uint64_t key = tl_tok_merge_key(left[k], right[k]);
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
