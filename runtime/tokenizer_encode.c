/* runtime/tokenizer_encode.c -- tokenize: the algorithm docs/tokenizer.md
** describes (llama.cpp's SPM session), in our own code: partition on special
** tokens, escape spaces, then a best-first bigram merge over a binary heap
** (BPE: merge ranks instead of scores).  Each fragment is cut where no token can
** span two neighbouring symbols and the pieces are merged one by one. */
#include "runtime/tokenizer_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
    const tl_merge_slot *m = tl_tok_merge_find(tok, s->id[l], s->id[r]);
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
        size_t l = tl_tok_utf8_len((uint8_t)text[off]);
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
        for (b = a + 1; b < count && !tok->no_cut; b++) {
            if (tok->kind == TL_TOK_BPE &&
                (is_byte_symbol(tok, s->id[b - 1]) || is_byte_symbol(tok, s->id[b])))
                continue;
            if (!pair_possible(tok, pair_key(text + s->start[b - 1], (size_t)s->len[b - 1],
                                             text + s->start[b], (size_t)s->len[b])))
                break;
        }
        if (tok->no_cut) b = count;
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
            const tl_merge_slot *m = tl_tok_merge_find(tok, s->id[l], s->id[r]);
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
