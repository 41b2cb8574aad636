/* lang/suggest.h -- "did you mean": the closest known word to a misspelt one.
**
** tl_suggest picks from any list of words (the CLI's options and commands use it);
** tl_suggest_name from what a name could mean where an error found none: the
** variables in scope, the globals, user functions and builtins. */
#ifndef TL_LANG_SUGGEST_H
#define TL_LANG_SUGGEST_H

#include <stddef.h>

typedef struct tl_interp tl_interp;

/* Edit distance (insert, delete, substitute, swap of two neighbours); 100 for
** words over 64 bytes. */
int tl_edit_distance(const char *a, const char *b);

/* The word of words[0..n) closest to word, if within max(1, strlen(word) / 3)
** edits; else NULL (always for words under 3 bytes: 'i' is not a typo of 'A'). */
const char *tl_suggest(const char *word, const char *const *words, size_t n);

/* The closest name visible in I (locals, globals, fns, builtins), or NULL. */
const char *tl_suggest_name(tl_interp *I, const char *name);

#endif
