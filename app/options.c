/* app/options.c -- option tables, --help text and suggestions (see options.h). */
#include "app/options.h"

#include "lang/suggest.h"

#include <string.h>

const tl_option *tl_options_find(const tl_option *opts, const char *arg,
                                 const char **inline_value) {
    *inline_value = NULL;
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    for (const tl_option *o = opts; o->name; o++) {
        bool hit = (strlen(o->name) == n && strncmp(o->name, arg, n) == 0) ||
                   (!eq && o->alias && strcmp(o->alias, arg) == 0);
        if (hit) {
            if (eq) *inline_value = eq + 1;
            return o;
        }
    }
    return NULL;
}

void tl_options_help(FILE *f, const tl_option *opts) {
    for (const tl_option *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "",
                 o->alias ? ", " : "    ", o->name, o->value ? " " : "", o->value ? o->value : "");
        fprintf(f, "  %-24s %s\n", left, o->help);
    }
}

const char *tl_options_suggest(const tl_option *opts, const char *arg) {
    const char *words[128];
    size_t n = 0;
    const char *eq = strchr(arg, '=');
    char bare[64];
    snprintf(bare, sizeof bare, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    for (const tl_option *o = opts; o->name && n < 127; o++) {
        words[n++] = o->name;
        if (o->alias && n < 127) words[n++] = o->alias;
    }
    /* "-threads" or "threads": compare without the dashes too */
    const char *s = tl_suggest(bare, words, n);
    if (!s && bare[0] == '-' && bare[1] != '-') {
        char dd[66];
        snprintf(dd, sizeof dd, "-%s", bare);
        s = tl_suggest(dd, words, n);
    }
    return s;
}

void tl_options_unknown(const char *cmd, const char *arg, const char *const *names) {
    size_t n = 0;
    while (names[n])
        n++;
    const char *eq = strchr(arg, '=');
    char bare[64];
    snprintf(bare, sizeof bare, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    const char *hint = tl_suggest(bare, names, n);
    for (size_t i = 0; !hint && bare[0] == '-' && bare[1] && i < n; i++) /* "--sha": --sha256 */
        if (strncmp(names[i], bare, strlen(bare)) == 0) hint = names[i];
    fprintf(stderr, "tl %s: unknown option %s", cmd, arg);
    if (hint) fprintf(stderr, " (did you mean %s?)", hint);
    fputc('\n', stderr);
}
