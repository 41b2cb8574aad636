/* app/options.h -- command-line options described once, for parsing, --help
** and "did you mean" (used by `tl run` and `tl test`).
**
** A table of tl_option rows ({0}-terminated); tl_options_find matches "--long",
** "-s", and "--long=VALUE".  tl_options_help prints every row;
** tl_options_suggest gives the closest option to a misspelt one (lang/suggest.h),
** tl_options_unknown says so for the commands that parse options by hand. */
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

/* For commands without a table: "tl CMD: unknown option ARG (did you mean X?)" on
** stderr, X the closest of names (NULL-terminated) when close enough, else one
** that ARG begins. */
void tl_options_unknown(const char *cmd, const char *arg, const char *const *names);

#endif
