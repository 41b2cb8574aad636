/* runtime/vocab_train.c -- byte-pair merging of a text into a llama SPM vocabulary
** (runtime/vocab_train.h). */
#include "runtime/vocab_train.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a string-keyed map (open addressing, keys borrowed) --------------------------- */

typedef struct smap_ent {
    const char *s; /* NULL: empty */
    size_t len;
    uint64_t hash;
    int64_t val;
} smap_ent;

typedef struct smap {
    smap_ent *e;
    size_t cap, n;
} smap;

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static bool smap_grow(smap *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    smap_ent *e = calloc(cap, sizeof *e);
    if (!e) return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].s) continue;
        size_t j = m->e[i].hash & (cap - 1);
        while (e[j].s)
            j = (j + 1) & (cap - 1);
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
    return true;
}

/* The entry for s (a new one with val = -1 when absent); NULL when out of memory. */
static smap_ent *smap_get(smap *m, const char *s, size_t len) {
    if ((m->n + 1) * 2 > m->cap && !smap_grow(m)) return NULL;
    uint64_t h = hash_bytes(s, len);
    size_t j = h & (m->cap - 1);
    while (m->e[j].s) {
        if (m->e[j].hash == h && m->e[j].len == len && memcmp(m->e[j].s, s, len) == 0)
            return &m->e[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->e[j] = (smap_ent){s, len, h, -1};
    m->n++;
    return &m->e[j];
}

static const smap_ent *smap_find(const smap *m, const char *s, size_t len) {
    if (!m->cap) return NULL;
    uint64_t h = hash_bytes(s, len);
    size_t j = h & (m->cap - 1);
    while (m->e[j].s) {
        if (m->e[j].hash == h && m->e[j].len == len && memcmp(m->e[j].s, s, len) == 0)
            return &m->e[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

/* ---- characters as the SPM tokenizer splits them ----------------------------------- */

enum { C_SPACE, C_NL, C_LETTER, C_DIGIT, C_OTHER };

static size_t utf8_len(unsigned char c) {
    static const size_t t[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return t[c >> 4];
}

/* A character is valid UTF-8 (so it can be a piece); its code point in *cp. */
static bool char_valid(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 1) {
        *cp = s[0];
        return s[0] < 0x80;
    }
    if ((s[0] & 0xC0) != 0xC0) return false;
    uint32_t v = s[0] & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return false;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return true;
}

static int char_class(uint32_t cp) {
    if (cp == 0x2581) return C_SPACE;
    if (cp == '\n' || cp == '\r') return C_NL;
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
        (cp >= 0xC0 && cp < 0x250 && cp != 0xD7 && cp != 0xF7))
        return C_LETTER;
    if (cp >= '0' && cp <= '9') return C_DIGIT;
    return C_OTHER;
}

/* ---- the learner -------------------------------------------------------------------- */

typedef struct sym {
    char *s;
    size_t len;
} sym;

typedef struct learner {
    char *text; /* the text with "▁" for spaces and in front */
    size_t len;
    sym *syms; /* symbol id -> string (owned) */
    int32_t n_syms, cap_syms;
    smap sym_ids; /* string -> symbol id */
    int32_t *seq; /* the unique units as symbol ids, back to back */
    size_t *u_off, *u_len;
    int64_t *u_count;
    size_t n_units;
} learner;

static int32_t add_sym(learner *L, const char *s, size_t len) {
    if (L->n_syms == L->cap_syms) {
        int32_t cap = L->cap_syms ? L->cap_syms * 2 : 512;
        sym *p = realloc(L->syms, (size_t)cap * sizeof *p);
        if (!p) return -1;
        L->syms = p;
        L->cap_syms = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    smap_ent *e = smap_get(&L->sym_ids, c, len);
    if (!e) {
        free(c);
        return -1;
    }
    e->val = L->n_syms;
    L->syms[L->n_syms] = (sym){c, len};
    return L->n_syms++;
}

typedef struct char_count {
    const char *s;
    size_t len;
    int64_t count;
} char_count;

static int cmp_chars(const void *a, const void *b) {
    const char_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* The text as SPM sees it. */
static tl_status spm_text(learner *L, const char *text, size_t len) {
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++)
        spaces += text[i] == ' ';
    L->text = malloc(len + 2 * spaces + 4);
    if (!L->text) return tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
    char *o = L->text;
    static const char sp[3] = {(char)0xE2, (char)0x96, (char)0x81};
    memcpy(o, sp, 3);
    o += 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(o, sp, 3);
            o += 3;
        } else
            *o++ = text[i];
    }
    L->len = (size_t)(o - L->text);
    return TL_OK;
}

/* Counts the characters and makes the kept ones symbols 0.. (most frequent first). */
static tl_status char_symbols(learner *L, int64_t min_count, int32_t max_chars) {
    smap counts = {0};
    tl_status st = TL_OK;
    for (size_t i = 0; i < L->len;) {
        size_t n = utf8_len((unsigned char)L->text[i]);
        if (n > L->len - i) n = L->len - i;
        uint32_t cp;
        if (char_valid((const unsigned char *)L->text + i, n, &cp)) {
            smap_ent *e = smap_get(&counts, L->text + i, n);
            if (!e) {
                free(counts.e);
                return tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
            }
            e->val = e->val < 0 ? 1 : e->val + 1;
        }
        i += n;
    }
    char_count *cc = malloc((counts.n + 1) * sizeof *cc);
    if (!cc) st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
    size_t k = 0;
    for (size_t i = 0; cc && i < counts.cap; i++)
        if (counts.e[i].s) cc[k++] = (char_count){counts.e[i].s, counts.e[i].len, counts.e[i].val};
    if (cc) qsort(cc, k, sizeof *cc, cmp_chars);
    for (size_t i = 0; !st && i < k; i++) {
        if (cc[i].count < min_count || (int32_t)i >= max_chars) break;
        if (add_sym(L, cc[i].s, cc[i].len) < 0)
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
    }
    free(cc);
    free(counts.e);
    return st;
}

/* The id of the character at text[i] (length n), or -1 when it is left to bytes. */
static int32_t char_id(learner *L, size_t i, size_t n) {
    uint32_t cp;
    if (!char_valid((const unsigned char *)L->text + i, n, &cp)) return -1;
    const smap_ent *e = smap_find(&L->sym_ids, L->text + i, n);
    return e ? (int32_t)e->val : -1;
}

/* Cuts the text into units and keeps the unique ones with their counts. */
static tl_status make_units(learner *L) {
    smap units = {0};
    size_t cap = 0, total = 0;
    tl_status st = TL_OK;
    size_t i = 0;
    while (i < L->len && !st) {
        size_t start = i, n = utf8_len((unsigned char)L->text[i]);
        if (n > L->len - i) n = L->len - i;
        uint32_t cp = 0;
        if (char_id(L, i, n) < 0) { /* left to bytes: splits units */
            i += n;
            continue;
        }
        char_valid((const unsigned char *)L->text + i, n, &cp);
        int cls = char_class(cp);
        i += n;
        int run = cls;
        if (cls == C_SPACE) {
            run = -1;
            if (i < L->len) {
                size_t m = utf8_len((unsigned char)L->text[i]);
                uint32_t c2;
                if (m <= L->len - i && char_id(L, i, m) >= 0 &&
                    char_valid((const unsigned char *)L->text + i, m, &c2)) {
                    int k = char_class(c2);
                    if (k != C_SPACE && k != C_NL) run = k;
                }
            }
        }
        while (run >= 0 && i < L->len) {
            size_t m = utf8_len((unsigned char)L->text[i]);
            uint32_t c2;
            if (m > L->len - i || char_id(L, i, m) < 0 ||
                !char_valid((const unsigned char *)L->text + i, m, &c2) || char_class(c2) != run)
                break;
            i += m;
        }
        smap_ent *e = smap_get(&units, L->text + start, i - start);
        if (!e) {
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
            break;
        }
        e->val = e->val < 0 ? 1 : e->val + 1;
    }
    if (!st) {
        L->n_units = units.n;
        for (size_t j = 0; j < units.cap; j++)
            if (units.e[j].s) cap += units.e[j].len; /* >= characters */
        L->seq = malloc((cap + 1) * sizeof *L->seq);
        L->u_off = malloc((units.n + 1) * sizeof *L->u_off);
        L->u_len = malloc((units.n + 1) * sizeof *L->u_len);
        L->u_count = malloc((units.n + 1) * sizeof *L->u_count);
        if (!L->seq || !L->u_off || !L->u_len || !L->u_count)
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
        /* the units in table order: the hash is fixed, so the order is too (and the pair
        ** counts do not depend on it) */
        size_t u = 0;
        for (size_t j = 0; !st && j < units.cap; j++) {
            if (!units.e[j].s) continue;
            L->u_off[u] = total;
            L->u_count[u] = units.e[j].val;
            size_t k = 0;
            for (size_t p = 0; p < units.e[j].len;) {
                size_t n = utf8_len((unsigned char)units.e[j].s[p]);
                L->seq[total + k++] = char_id(L, (size_t)(units.e[j].s - L->text) + p, n);
                p += n;
            }
            L->u_len[u] = k;
            total += k;
            u++;
        }
    }
    free(units.e);
    return st;
}

/* ---- pair counts: a 64-bit-keyed table cleared through its list of used slots ------- */

typedef struct pairs {
    uint64_t *key; /* UINT64_MAX: empty */
    int64_t *count;
    size_t *used;
    size_t cap, n_used;
} pairs;

static void pair_add(pairs *p, uint64_t key, int64_t c) {
    size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (p->cap - 1);
    while (p->key[j] != UINT64_MAX && p->key[j] != key)
        j = (j + 1) & (p->cap - 1);
    if (p->key[j] == UINT64_MAX) {
        p->key[j] = key;
        p->count[j] = 0;
        p->used[p->n_used++] = j;
    }
    p->count[j] += c;
}

static tl_status merge_loop(learner *L, int32_t max_syms, int32_t *n_merged) {
    size_t total = 0;
    for (size_t u = 0; u < L->n_units; u++)
        total += L->u_len[u];
    pairs p = {0};
    p.cap = 1024;
    while (p.cap < 2 * total + 2)
        p.cap *= 2;
    p.key = malloc(p.cap * sizeof *p.key);
    p.count = malloc(p.cap * sizeof *p.count);
    p.used = malloc(p.cap * sizeof *p.used);
    tl_status st = TL_OK;
    if (!p.key || !p.count || !p.used) st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
    if (p.key) memset(p.key, 0xFF, p.cap * sizeof *p.key);
    *n_merged = 0;
    while (!st && L->n_syms < max_syms) {
        for (size_t u = 0; u < L->n_units; u++) {
            const int32_t *s = L->seq + L->u_off[u];
            for (size_t k = 1; k < L->u_len[u]; k++)
                pair_add(&p, ((uint64_t)(uint32_t)s[k - 1] << 32) | (uint32_t)s[k], L->u_count[u]);
        }
        uint64_t best = UINT64_MAX;
        int64_t best_count = 1; /* a pair seen once is not worth a piece */
        for (size_t k = 0; k < p.n_used; k++) {
            size_t j = p.used[k];
            if (p.count[j] > best_count ||
                (p.count[j] == best_count && best != UINT64_MAX && p.key[j] < best)) {
                best = p.key[j];
                best_count = p.count[j];
            }
            p.key[j] = UINT64_MAX;
        }
        p.n_used = 0;
        if (best == UINT64_MAX) break;
        int32_t a = (int32_t)(best >> 32), b = (int32_t)(best & 0xFFFFFFFFu);
        size_t n = L->syms[a].len + L->syms[b].len;
        char *buf = malloc(n + 1);
        if (!buf) {
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
            break;
        }
        memcpy(buf, L->syms[a].s, L->syms[a].len);
        memcpy(buf + L->syms[a].len, L->syms[b].s, L->syms[b].len);
        smap_ent *e = smap_get(&L->sym_ids, buf, n);
        int32_t id = e ? (int32_t)e->val : -1;
        if (e && id < 0) {
            /* a new piece: drop the entry just made (it borrows buf; it was the last
            ** insertion, so emptying its slot breaks no probe chain); add_sym re-inserts */
            e->s = NULL;
            L->sym_ids.n--;
            id = add_sym(L, buf, n);
            if (id >= 0) (*n_merged)++;
        }
        free(buf);
        if (id < 0) {
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
            break;
        }
        for (size_t u = 0; u < L->n_units; u++) {
            int32_t *s = L->seq + L->u_off[u];
            size_t w = 0, len = L->u_len[u];
            for (size_t r = 0; r < len; r++) {
                if (r + 1 < len && s[r] == a && s[r + 1] == b) {
                    s[w++] = id;
                    r++;
                } else
                    s[w++] = s[r];
            }
            L->u_len[u] = w;
        }
    }
    free(p.key);
    free(p.count);
    free(p.used);
    return st;
}

tl_status tl_vocab_train(const char *text, size_t len, int32_t n_vocab, int64_t min_char_count,
                         tl_trained_vocab *out) {
    memset(out, 0, sizeof *out);
    enum { N_FIXED = 3 + 256 };
    if (n_vocab <= N_FIXED || n_vocab > (1 << 24))
        return tl_fail(TL_ERR_ARG, "learn_vocab: a vocabulary of %d pieces (must be %d..%d)",
                       n_vocab, N_FIXED + 1, 1 << 24);
    learner L = {0};
    int32_t n_merged = 0;
    tl_status st = spm_text(&L, text, len);
    if (!st) st = char_symbols(&L, min_char_count < 1 ? 1 : min_char_count, n_vocab - N_FIXED);
    int32_t n_chars = L.n_syms;
    if (!st) st = make_units(&L);
    if (!st) st = merge_loop(&L, n_vocab - N_FIXED, &n_merged);
    if (!st) {
        int32_t n = N_FIXED + L.n_syms;
        out->n = n;
        out->texts = calloc((size_t)n, sizeof *out->texts);
        out->lens = calloc((size_t)n, sizeof *out->lens);
        out->scores = calloc((size_t)n, sizeof *out->scores);
        out->types = calloc((size_t)n, sizeof *out->types);
        if (!out->texts || !out->lens || !out->scores || !out->types)
            st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
        for (int32_t i = 0; !st && i < n; i++) {
            char tmp[8];
            const char *s = tmp;
            size_t sl;
            if (i == 0) {
                s = "<unk>";
                out->types[i] = 2;
            } else if (i == 1 || i == 2) {
                s = i == 1 ? "<s>" : "</s>";
                out->types[i] = 3;
            } else if (i < N_FIXED) {
                snprintf(tmp, sizeof tmp, "<0x%02X>", i - 3);
                out->types[i] = 6;
            } else {
                s = L.syms[i - N_FIXED].s;
                out->types[i] = 1;
                int32_t k = i - N_FIXED;
                out->scores[i] = k < n_chars ? 0.0f : -(float)(k - n_chars + 1);
            }
            sl = i >= N_FIXED ? L.syms[i - N_FIXED].len : strlen(s);
            out->texts[i] = malloc(sl + 1);
            if (!out->texts[i]) {
                st = tl_fail(TL_ERR_NOMEM, "learn_vocab: out of memory");
                break;
            }
            memcpy(out->texts[i], s, sl);
            out->texts[i][sl] = 0;
            out->lens[i] = sl;
        }
    }
    for (int32_t i = 0; i < L.n_syms; i++)
        free(L.syms[i].s);
    free(L.syms);
    free(L.sym_ids.e);
    free(L.text);
    free(L.seq);
    free(L.u_off);
    free(L.u_len);
    free(L.u_count);
    if (st) tl_trained_vocab_free(out);
    return st;
}

void tl_trained_vocab_free(tl_trained_vocab *v) {
    if (v->texts)
        for (int32_t i = 0; i < v->n; i++)
            free(v->texts[i]);
    free(v->texts);
    free(v->lens);
    free(v->scores);
    free(v->types);
    memset(v, 0, sizeof *v);
}
