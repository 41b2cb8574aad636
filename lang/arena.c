/* lang/arena.c -- bump allocator (see arena.h). */
#include "lang/arena.h"

#include <stdlib.h>
#include <string.h>

struct tl_arena_block {
    tl_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void tl_arena_init(tl_arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size < 1024 ? 1024 : block_size;
}

void *tl_arena_alloc(tl_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    tl_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block_size ? n : a->block_size;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *tl_arena_strndup(tl_arena *a, const char *s, size_t n) {
    char *p = tl_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void tl_arena_free(tl_arena *a) {
    tl_arena_block *b = a->head;
    while (b) {
        tl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
