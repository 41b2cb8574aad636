/* app/options.h -- command-line options described once, for parsing, --help
** and "did you mean" (used by `tl run` and `tl test`).
**
** A table of tl_option rows ({0}-terminated); tl_options_find matches "--long",
** "-s", and "--long=VALUE".  tl_options_help prints every row; tl_suggest
** returns the closest of a set of words to a misspelt one (or NULL). */
#ifndef TL_APP_OPTIONS_H
#define TL_APP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct tl_option {
    const char *name;  /* "--threads" */
    const char *alias; /* "-t", or NULL */
    const char *value; /* "N" when the option takes a value, else NULL */
    const char *help;
    int id;
} tl_option;

/* The row for argument arg ("--x", "-x" or "--x=V"; *inline_value gets V or NULL). */
const tl_option *tl_options_find(const tl_option *opts, const char *arg, const char **inline_value);

/* "  -t, --threads N    help" for every row. */
void tl_options_help(FILE *f, const tl_option *opts);

/* The option name (long or alias) closest to arg, when close enough; else NULL. */
const char *tl_options_suggest(const tl_option *opts, const char *arg);

/* The word of words[0..n) closest to word (edit distance at most max(1, len / 3)),
** or NULL. */
const char *tl_suggest(const char *word, const char *const *words, size_t n);

/* Edit distance (insert, delete, substitute, swap adjacent), capped at 100. */
int tl_edit_distance(const char *a, const char *b);

#endif
