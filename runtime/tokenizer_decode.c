/* runtime/tokenizer_decode.c -- token pieces, detokenize (llama.cpp's rules for
** SPM, Hugging Face's decoder chain for tokenizer.json) and the streaming
** decoder that holds back incomplete UTF-8. */
#include "runtime/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

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
