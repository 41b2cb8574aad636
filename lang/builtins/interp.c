/* lang/builtins/interp.c -- terminal helpers for the interpretability stdlib
** (stdlib/interp.tl, docs/interp.md):
**   stdout_is_tty()   true when standard output is a terminal; the environment
**                     variable TL_COLOR=1 forces true, TL_COLOR=0 forces false
**   ansi(code)        the escape sequence ESC [ code m (colours: "48;5;21", reset: "0") */
#include "lang/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tl_status bi_stdout_is_tty(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    const char *force = getenv("TL_COLOR");
    if (force && *force)
        *out = tl_value_bool(strcmp(force, "0") != 0);
    else
        *out = tl_value_bool(isatty(fileno(stdout)) == 1);
    return TL_OK;
}

static tl_status bi_ansi(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE,
                       "%s: argument 1 must be a string such as \"0\" or \"48;5;21\", got %s",
                       c->name, tl_value_type_name(&argv[0]));
    size_t n = argv[0].as.str->len;
    const char *s = argv[0].as.str->data;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ';'))
            return tl_fail(TL_ERR_ARG, "%s: '%.*s' is not an SGR code (digits and ';')", c->name,
                           (int)n, s);
    char buf[80];
    if (n > sizeof buf - 4) return tl_fail(TL_ERR_ARG, "%s: code too long", c->name);
    int len = snprintf(buf, sizeof buf, "\x1b[%.*sm", (int)n, s);
    return tl_value_string(buf, (size_t)len, out);
}

const tl_builtin_def tl_builtins_interp[] = {
    {"stdout_is_tty", 0, 0, bi_stdout_is_tty,
     "stdout_is_tty() -> bool (TL_COLOR=1/0 forces the answer)", 0},
    {"ansi", 1, 1, bi_ansi, "ansi(code) -> string: ESC [ code m", 0},
    {0},
};
