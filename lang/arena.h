/* lang/arena.h -- a bump allocator for the tokens and AST of one parsed chunk.
**
** Everything allocated from an arena is freed at once by tl_arena_free(); there
** is no per-object free.  Allocation returns NULL only when malloc fails. */
#ifndef TL_LANG_ARENA_H
#define TL_LANG_ARENA_H

#include <stddef.h>

typedef struct tl_arena_block tl_arena_block;
typedef struct tl_arena {
    tl_arena_block *head;
    size_t block_size;
} tl_arena;

void tl_arena_init(tl_arena *a, size_t block_size);
void *tl_arena_alloc(tl_arena *a, size_t n); /* zero-filled, 16-byte aligned */
char *tl_arena_strndup(tl_arena *a, const char *s, size_t n);
void tl_arena_free(tl_arena *a);

#endif
