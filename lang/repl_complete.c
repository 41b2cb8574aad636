/* lang/repl_complete.c -- tab completion candidates: `:` commands at the start
** of a line, struct fields after `value.`, and otherwise builtins, keywords,
** global variables, user functions and struct names. */
#include "lang/builtin.h"
#include "lang/repl_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const keywords[] = {
    "and",  "break",  "continue", "else",   "false", "fn",    "for",   "if",
    "impl", "import", "in",       "let",    "loop",  "main",  "match", "not",
    "or",   "return", "struct",   "tensor", "true",  "while", NULL,
};

typedef struct cands {
    const char *prefix;
    size_t prefix_len;
    char **items;
    size_t n, cap;
    bool oom;
} cands;

static void add(cands *c, const char *name) {
    if (c->oom || strncmp(name, c->prefix, c->prefix_len) != 0) return;
    if (c->n + 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **p = realloc(c->items, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return;
        }
        c->items = p;
        c->cap = cap;
    }
    char *d = strdup(name);
    if (!d) {
        c->oom = true;
        return;
    }
    c->items[c->n++] = d;
}

static void add_global(void *ctx, const char *name, const tl_value *v) {
    (void)v;
    add(ctx, name);
}
static void add_fn(void *ctx, const char *name) {
    add(ctx, name);
}
static void add_struct(void *ctx, const char *name, const char *const *fields, int n) {
    (void)fields;
    (void)n;
    add(ctx, name);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static char **finish(cands *c) {
    if (c->oom || c->n == 0) {
        tl_repl_free_completions(c->items ? (c->items[c->n] = NULL, c->items) : NULL);
        return NULL;
    }
    qsort(c->items, c->n, sizeof *c->items, cmp_str);
    size_t w = 0;
    for (size_t r = 0; r < c->n; r++) {
        if (w && strcmp(c->items[w - 1], c->items[r]) == 0) {
            free(c->items[r]);
            continue;
        }
        c->items[w++] = c->items[r];
    }
    c->items[w] = NULL;
    return c->items;
}

char **tl_repl_completions(tl_interp *I, const char *line, size_t point, size_t *word_start) {
    size_t ws = point;
    while (ws > 0 && (ident_char(line[ws - 1]) || line[ws - 1] == ':'))
        ws--;
    /* a lone ':' inside `a::b` is part of the word; a leading ':' is a command */
    *word_start = ws;
    char prefix[256];
    size_t plen = point - ws < sizeof prefix - 1 ? point - ws : sizeof prefix - 1;
    memcpy(prefix, line + ws, plen);
    prefix[plen] = 0;
    cands c = {.prefix = prefix, .prefix_len = plen};

    size_t first = 0;
    while (first < ws && (line[first] == ' ' || line[first] == '\t'))
        first++;
    if (first == ws && prefix[0] == ':' && prefix[1] != ':') {
        for (const tl_repl_cmd *k = tl_repl_cmds; k->name; k++)
            add(&c, k->name);
        return finish(&c);
    }
    if (line[first] == ':' && strncmp(line + first, ":load", 5) == 0) return NULL; /* file names */

    if (ws > 0 && line[ws - 1] == '.') {
        /* fields of a struct value held by a global: `p.x` */
        size_t ve = ws - 1, vs = ve;
        while (vs > 0 && ident_char(line[vs - 1]))
            vs--;
        if (vs == ve) return NULL;
        char var[256];
        size_t vlen = ve - vs < sizeof var - 1 ? ve - vs : sizeof var - 1;
        memcpy(var, line + vs, vlen);
        var[vlen] = 0;
        tl_value v;
        if (tl_interp_get_global(I, var, &v) != TL_OK) return NULL;
        const char *names[64];
        int n = tl_repl_struct_fields(I, &v, names, 64);
        for (int i = 0; i < n; i++)
            add(&c, names[i]);
        tl_value_release(&v);
        return finish(&c);
    }

    for (size_t i = 0;; i++) {
        const tl_builtin_def *d = tl_builtin_at(i);
        if (!d) break;
        add(&c, d->name);
    }
    for (size_t i = 0; keywords[i]; i++)
        add(&c, keywords[i]);
    tl_repl_each_global(I, add_global, &c);
    tl_repl_each_fn(I, add_fn, &c);
    tl_repl_each_struct(I, add_struct, &c);
    return finish(&c);
}

void tl_repl_free_completions(char **list) {
    if (!list) return;
    for (size_t i = 0; list[i]; i++)
        free(list[i]);
    free(list);
}
