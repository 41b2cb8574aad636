/* runtime/relation.c -- relations as Boolean tensors (see relation.h). */
#include "runtime/relation.h"

#include <stdlib.h>
#include <string.h>

#define DENSE_MAX_BITS ((int64_t)1 << 26)

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_cols(const int32_t *t, int arity, uint32_t mask) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int c = 0; c < arity; c++)
        if (mask & (1u << c)) h = mix(h ^ (uint32_t)t[c]) + (uint64_t)c;
    return h;
}

static int64_t dense_bits(int64_t side, int arity) {
    int64_t bits = 1;
    for (int i = 0; i < arity; i++) {
        if (side > 0 && bits > DENSE_MAX_BITS / side) return -1;
        bits *= side;
    }
    return bits <= DENSE_MAX_BITS ? bits : -1;
}

tl_status tl_rel_init(tl_rel *r, int arity, int64_t side) {
    memset(r, 0, sizeof *r);
    if (arity < 0 || arity > TL_REL_MAX_ARITY)
        return tl_fail(TL_ERR_ARG, "relation arity %d is out of range (0..%d)", arity,
                       TL_REL_MAX_ARITY);
    r->arity = arity;
    if (side < 1) side = 1;
    int64_t bits = dense_bits(side, arity);
    if (bits > 0) {
        r->bits = calloc((size_t)((bits + 63) / 64), sizeof(uint64_t));
        if (!r->bits) return tl_fail(TL_ERR_NOMEM, "relation: out of memory");
        r->side = side;
    }
    return TL_OK;
}

void tl_rel_free(tl_rel *r) {
    if (!r) return;
    free(r->tup);
    free(r->bits);
    free(r->set);
    for (int i = 0; i < r->n_idx; i++) {
        free(r->idx[i].head);
        free(r->idx[i].next);
    }
    free(r->idx);
    memset(r, 0, sizeof *r);
}

bool tl_rel_is_dense(const tl_rel *r) {
    return r->bits != NULL;
}

size_t tl_rel_bytes(const tl_rel *r) {
    size_t b = r->cap * (size_t)(r->arity ? r->arity : 1) * sizeof(int32_t);
    if (r->bits) b += (size_t)((dense_bits(r->side, r->arity) + 63) / 64) * 8;
    b += r->set_cap * sizeof(uint32_t);
    for (int i = 0; i < r->n_idx; i++)
        b += (r->idx[i].n_buckets + r->idx[i].n_next) * sizeof(uint32_t);
    return b;
}

static int64_t dense_pos(const tl_rel *r, const int32_t *t) {
    int64_t p = 0;
    for (int c = 0; c < r->arity; c++)
        p = p * r->side + t[c];
    return p;
}

static bool fits_dense(const tl_rel *r, const int32_t *t) {
    for (int c = 0; c < r->arity; c++)
        if (t[c] >= r->side) return false;
    return true;
}

static const int32_t *tuple(const tl_rel *r, uint32_t i) {
    return r->tup + (size_t)i * r->arity;
}

static bool same(const int32_t *a, const int32_t *b, int arity) {
    return memcmp(a, b, (size_t)arity * sizeof(int32_t)) == 0;
}

/* hash set of tuple numbers (+1; 0 = empty), open addressing */
static tl_status set_rebuild(tl_rel *r, size_t cap) {
    uint32_t *s = calloc(cap, sizeof *s);
    if (!s) return tl_fail(TL_ERR_NOMEM, "relation: out of memory");
    uint32_t all = r->arity >= 32 ? UINT32_MAX : (1u << r->arity) - 1;
    for (size_t i = 0; i < r->n; i++) {
        size_t h = (size_t)hash_cols(tuple(r, (uint32_t)i), r->arity, all) & (cap - 1);
        while (s[h])
            h = (h + 1) & (cap - 1);
        s[h] = (uint32_t)i + 1;
    }
    free(r->set);
    r->set = s;
    r->set_cap = cap;
    return TL_OK;
}

static tl_status to_sparse(tl_rel *r) {
    size_t cap = 64;
    while (cap < 2 * (r->n + 1))
        cap *= 2;
    tl_status st = set_rebuild(r, cap);
    if (st != TL_OK) return st;
    free(r->bits);
    r->bits = NULL;
    r->side = 0;
    return TL_OK;
}

bool tl_rel_contains(const tl_rel *r, const int32_t *t) {
    if (r->bits) {
        if (!fits_dense(r, t)) return false;
        int64_t p = dense_pos(r, t);
        return (r->bits[p >> 6] >> (p & 63)) & 1;
    }
    if (!r->set_cap) return false;
    uint32_t all = r->arity >= 32 ? UINT32_MAX : (1u << r->arity) - 1;
    size_t h = (size_t)hash_cols(t, r->arity, all) & (r->set_cap - 1);
    while (r->set[h]) {
        if (same(tuple(r, r->set[h] - 1), t, r->arity)) return true;
        h = (h + 1) & (r->set_cap - 1);
    }
    return false;
}

static tl_status index_build(tl_rel *r, tl_rel_index *x, size_t buckets) {
    uint32_t *head = malloc(buckets * sizeof *head);
    size_t n_next = r->cap ? r->cap : 16;
    uint32_t *next = malloc(n_next * sizeof *next);
    if (!head || !next) {
        free(head);
        free(next);
        return tl_fail(TL_ERR_NOMEM, "relation index: out of memory");
    }
    memset(head, 0xff, buckets * sizeof *head);
    for (size_t i = 0; i < r->n; i++) {
        size_t b = (size_t)hash_cols(tuple(r, (uint32_t)i), r->arity, x->mask) & (buckets - 1);
        next[i] = head[b];
        head[b] = (uint32_t)i;
    }
    free(x->head);
    free(x->next);
    x->head = head;
    x->next = next;
    x->n_buckets = buckets;
    x->n_next = n_next;
    return TL_OK;
}

tl_status tl_rel_index_get(tl_rel *r, uint32_t mask, int *out) {
    for (int i = 0; i < r->n_idx; i++)
        if (r->idx[i].mask == mask) {
            *out = i;
            return TL_OK;
        }
    tl_rel_index *nx = realloc(r->idx, (size_t)(r->n_idx + 1) * sizeof *nx);
    if (!nx) return tl_fail(TL_ERR_NOMEM, "relation index: out of memory");
    r->idx = nx;
    tl_rel_index *x = &r->idx[r->n_idx];
    memset(x, 0, sizeof *x);
    x->mask = mask;
    size_t buckets = 16;
    while (buckets < r->n)
        buckets *= 2;
    tl_status st = index_build(r, x, buckets);
    if (st != TL_OK) return st;
    *out = r->n_idx++;
    return TL_OK;
}

uint32_t tl_rel_index_first(const tl_rel *r, const tl_rel_index *x, const int32_t *key) {
    size_t b = (size_t)hash_cols(key, r->arity, x->mask) & (x->n_buckets - 1);
    return x->head[b];
}

tl_status tl_rel_insert(tl_rel *r, const int32_t *t, bool *added) {
    if (added) *added = false;
    for (int c = 0; c < r->arity; c++)
        if (t[c] < 0) return tl_fail(TL_ERR_RANGE, "relation: negative symbol id %d", t[c]);
    if (r->arity == 0 && r->n) return TL_OK;
    if (r->bits && !fits_dense(r, t)) {
        tl_status st = to_sparse(r);
        if (st != TL_OK) return st;
    }
    if (tl_rel_contains(r, t)) return TL_OK;
    if (r->n >= UINT32_MAX - 1) return tl_fail(TL_ERR_NOMEM, "relation: too many tuples");
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        int32_t *nt = realloc(r->tup, cap * (size_t)(r->arity ? r->arity : 1) * sizeof *nt);
        if (!nt) return tl_fail(TL_ERR_NOMEM, "relation: out of memory");
        r->tup = nt;
        r->cap = cap;
    }
    if (r->arity) memcpy(r->tup + r->n * (size_t)r->arity, t, (size_t)r->arity * sizeof *t);
    uint32_t id = (uint32_t)r->n++;
    if (r->bits) {
        int64_t p = dense_pos(r, t);
        r->bits[p >> 6] |= 1ULL << (p & 63);
    } else {
        if (2 * r->n > r->set_cap) {
            tl_status st = set_rebuild(r, r->set_cap ? r->set_cap * 2 : 64);
            if (st != TL_OK) return st;
        } else {
            uint32_t all = r->arity >= 32 ? UINT32_MAX : (1u << r->arity) - 1;
            size_t h = (size_t)hash_cols(t, r->arity, all) & (r->set_cap - 1);
            while (r->set[h])
                h = (h + 1) & (r->set_cap - 1);
            r->set[h] = id + 1;
        }
    }
    for (int i = 0; i < r->n_idx; i++) {
        tl_rel_index *x = &r->idx[i];
        if (r->n > 2 * x->n_buckets || r->n > x->n_next) {
            size_t nb = x->n_buckets;
            while (nb < r->n)
                nb *= 2;
            tl_status st = index_build(r, x, nb);
            if (st != TL_OK) return st;
            continue;
        }
        size_t b = (size_t)hash_cols(t, r->arity, x->mask) & (x->n_buckets - 1);
        x->next[id] = x->head[b];
        x->head[b] = id;
    }
    if (added) *added = true;
    return TL_OK;
}

tl_status tl_rel_copy(tl_rel *dst, const tl_rel *src) {
    tl_status st = tl_rel_init(dst, src->arity, src->bits ? src->side : INT64_MAX);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < src->n; i++)
        if ((st = tl_rel_insert(dst, tuple(src, (uint32_t)i), NULL)) != TL_OK) {
            tl_rel_free(dst);
            return st;
        }
    return TL_OK;
}
