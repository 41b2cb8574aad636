/* lang/value_walk.c -- equality and cycle checks over values, bounded in depth
** and linear in the number of distinct arrays and structs.
**
** Values can nest deeper than the C stack allows (`a = [a]` in a loop) and can
** share parts (`a = [a, a]` repeated doubles the tree but not the memory).
** Both walks here visit each shared container (or pair of containers) once:
**   - equality: a pair of containers already found equal is remembered, so
**     comparing two DAGs costs their number of distinct pairs, not the size of
**     their unfolded trees; it recurses at most TL_VALUE_MAX_DEPTH levels and
**     deeper values are an error;
**   - would-cycle (storing a value into an array or struct) walks an explicit
**     stack: any depth. */
#include "lang/display.h"
#include "lang/eval_internal.h"
#include "lang/value_struct.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ pointer-pair set */

typedef struct pair_set {
    uintptr_t *keys; /* 2 words per slot; 0,0 = empty */
    size_t cap, n;   /* cap slots, a power of two */
    bool oom;
} pair_set;

static size_t hash2(uintptr_t a, uintptr_t b) {
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull ^ ((uint64_t)b + 0x632be59bd9b4e019ull);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(h ^ h >> 32);
}

static bool set_has(const pair_set *s, uintptr_t a, uintptr_t b) {
    if (!s->cap) return false;
    for (size_t i = hash2(a, b) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->keys[2 * i] && !s->keys[2 * i + 1]) return false;
        if (s->keys[2 * i] == a && s->keys[2 * i + 1] == b) return true;
    }
}

static void set_add(pair_set *s, uintptr_t a, uintptr_t b) {
    if (s->oom) return; /* only a cache: without it the walk is slower, not wrong */
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uintptr_t *k = calloc(cap * 2, sizeof *k);
        if (!k) {
            s->oom = true;
            return;
        }
        for (size_t i = 0; i < s->cap; i++) {
            uintptr_t x = s->keys[2 * i], y = s->keys[2 * i + 1];
            if (!x && !y) continue;
            size_t j = hash2(x, y) & (cap - 1);
            while (k[2 * j] || k[2 * j + 1])
                j = (j + 1) & (cap - 1);
            k[2 * j] = x;
            k[2 * j + 1] = y;
        }
        free(s->keys);
        s->keys = k;
        s->cap = cap;
    }
    size_t i = hash2(a, b) & (s->cap - 1);
    while (s->keys[2 * i] || s->keys[2 * i + 1]) {
        if (s->keys[2 * i] == a && s->keys[2 * i + 1] == b) return;
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[2 * i] = a;
    s->keys[2 * i + 1] = b;
    s->n++;
}

/* ------------------------------------------------------------------ equality */

static bool tensors_equal(const tl_tensor *x, const tl_tensor *y) {
    if (x == y) return true;
    if (x->n_dims != y->n_dims || !tl_tensor_same_shape(x, y)) return false;
    int64_t n = tl_tensor_nelements(x);
    int nd = x->n_dims;
    for (int64_t k = 0; k < n; k++) {
        size_t ox = 0, oy = 0;
        int64_t r = k;
        for (int d = 0; d < nd; d++) {
            int64_t i = r % x->ne[d];
            r /= x->ne[d];
            ox += (size_t)i * x->nb[d];
            oy += (size_t)i * y->nb[d];
        }
        double u, v;
        if (!tl_tensor_read_double(x, ox, &u) || !tl_tensor_read_double(y, oy, &v)) return false;
        if (u != v) return false;
    }
    return true;
}

/* 1 equal, 0 not, -1 nested too deeply */
static int eq(const tl_value *a, const tl_value *b, int depth, pair_set *seen) {
    if (tl_value_is_number(a) && tl_value_is_number(b)) {
        if (a->kind == TL_VAL_INT && b->kind == TL_VAL_INT) return a->as.i == b->as.i;
        return tl_value_as_double(a) == tl_value_as_double(b);
    }
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case TL_VAL_VOID:
        return 1;
    case TL_VAL_BOOL:
        return a->as.b == b->as.b;
    case TL_VAL_STRING:
        return a->as.str->len == b->as.str->len &&
               memcmp(a->as.str->data, b->as.str->data, a->as.str->len) == 0;
    case TL_VAL_ARRAY:
    case TL_VAL_STRUCT: {
        bool is_arr = a->kind == TL_VAL_ARRAY;
        uintptr_t pa = is_arr ? (uintptr_t)a->as.arr : (uintptr_t)a->as.st;
        uintptr_t pb = is_arr ? (uintptr_t)b->as.arr : (uintptr_t)b->as.st;
        if (is_arr ? a->as.arr->len != b->as.arr->len : a->as.st->decl != b->as.st->decl) return 0;
        if (set_has(seen, pa, pb)) return 1;
        if (depth >= TL_VALUE_MAX_DEPTH) return -1;
        size_t n = is_arr ? a->as.arr->len : a->as.st->n;
        const tl_value *xa = is_arr ? a->as.arr->items : a->as.st->fields;
        const tl_value *xb = is_arr ? b->as.arr->items : b->as.st->fields;
        for (size_t i = 0; i < n; i++) {
            int r = eq(&xa[i], &xb[i], depth + 1, seen);
            if (r != 1) return r;
        }
        set_add(seen, pa, pb);
        return 1;
    }
    case TL_VAL_TENSOR:
        return tensors_equal(a->as.tensor, b->as.tensor);
    case TL_VAL_FUNC:
        return a->as.fn->decl == b->as.fn->decl;
    case TL_VAL_BUILTIN:
        return a->as.builtin == b->as.builtin;
    case TL_VAL_OBJECT:
        return a->as.obj == b->as.obj;
    default:
        return 0;
    }
}

tl_status tl_values_equal_checked(const tl_value *a, const tl_value *b, bool *equal) {
    pair_set seen = {0};
    int r = eq(a, b, 0, &seen);
    free(seen.keys);
    *equal = r == 1;
    if (r < 0)
        return tl_fail(TL_ERR_ARG, "values nested deeper than %d levels cannot be compared",
                       TL_VALUE_MAX_DEPTH);
    return TL_OK;
}

bool tl_values_equal(const tl_value *a, const tl_value *b) {
    bool e;
    return tl_values_equal_checked(a, b, &e) == TL_OK && e;
}

/* ------------------------------------------------------------------ cycles */

/* An explicit stack instead of recursion: any depth, each container once. */
bool tl_value_would_cycle(const tl_value *v, const void *into) {
    pair_set seen = {0};
    const tl_value **stack = NULL;
    size_t n = 0, cap = 0;
    bool found = false, oom = false;
    const tl_value *cur = v;
    for (;;) {
        const void *p = NULL;
        size_t len = 0;
        const tl_value *items = NULL;
        if (cur->kind == TL_VAL_ARRAY)
            p = cur->as.arr, len = cur->as.arr->len, items = cur->as.arr->items;
        else if (cur->kind == TL_VAL_STRUCT)
            p = cur->as.st, len = cur->as.st->n, items = cur->as.st->fields;
        if (p == into) {
            found = true;
            break;
        }
        if (p && !set_has(&seen, (uintptr_t)p, 1)) {
            set_add(&seen, (uintptr_t)p, 1);
            if (n + len > cap) {
                size_t nc = cap ? cap : 64;
                while (nc < n + len)
                    nc *= 2;
                const tl_value **ns = realloc(stack, nc * sizeof *ns);
                if (!ns) {
                    oom = true;
                    break;
                }
                stack = ns;
                cap = nc;
            }
            for (size_t i = 0; i < len; i++)
                if (items[i].kind == TL_VAL_ARRAY || items[i].kind == TL_VAL_STRUCT)
                    stack[n++] = &items[i];
        }
        if (!n) break;
        cur = stack[--n];
    }
    free(stack);
    free(seen.keys);
    return found || oom; /* out of memory: refuse, as for a cycle */
}
