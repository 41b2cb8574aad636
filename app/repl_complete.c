/* app/repl_complete.c -- tab completion candidates: `:` commands at the start
** of a line, struct fields after `value.`, and otherwise builtins, keywords,
** global variables, user functions and struct names. */
#include "lang/builtin.h"
#include "lang/builtins/model.h"
#include "runtime/model.h"
#include "app/repl_internal.h"

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

/* Next components of the model's tensor names after `prefix.` ("" = first components). */
static void add_name_parts(cands *c, const tl_model *m, const char *prefix) {
    size_t pl = strlen(prefix);
    for (int64_t i = 0; i < tl_model_n_tensors(m); i++) {
        const char *name = tl_model_tensor_at(m, i)->name;
        if (!name) continue;
        const char *rest = name;
        if (pl) {
            if (strncmp(name, prefix, pl) != 0 || name[pl] != '.') continue;
            rest = name + pl + 1;
        }
        char part[128];
        size_t n = strcspn(rest, ".");
        if (n == 0 || n >= sizeof part) continue;
        memcpy(part, rest, n);
        part[n] = 0;
        /* "blk.0" is reached as m.blk[0]: offer `blk`, not the digits */
        if (part[0] >= '0' && part[0] <= '9') continue;
        add(c, part);
    }
}

static void add_list(cands *c, const char *const *names) {
    for (int i = 0; names && names[i]; i++)
        add(c, names[i]);
}

/* Members after `path.` where path is `var` followed by `.name` / `[int]` steps:
** struct fields (through nested structs and arrays), a Model's properties,
** methods and tensor-name parts (m.blk[3].<Tab> -> attn_k, attn_norm, ...),
** and the fields of a LlamaConfig. */
static void members(tl_interp *I, const char *line, size_t dot, cands *c) {
    size_t ps = dot;
    while (ps > 0 && (ident_char(line[ps - 1]) || line[ps - 1] == '.' || line[ps - 1] == '[' ||
                      line[ps - 1] == ']'))
        ps--;
    while (ps < dot && !(ident_char(line[ps]) && !(line[ps] >= '0' && line[ps] <= '9')))
        ps++; /* the path starts with an identifier */
    if (ps >= dot) return;
    static const char *const model_members[] = {
        "path", "arch", "config", "layers", "blk", "meta", "get_tensor", "tensor_names", NULL};
    char name[128], prefix[256] = "";
    size_t i = ps, n = 0;
    while (i < dot && ident_char(line[i]) && n + 1 < sizeof name)
        name[n++] = line[i++];
    name[n] = 0;
    tl_value cur;
    if (tl_interp_get_global(I, name, &cur) != TL_OK) return;
    const tl_model *model = NULL; /* set once the path entered a model */
    bool config = false;
    while (i < dot) {
        char step[128];
        bool index = line[i] == '[';
        if (line[i] != '.' && !index) goto out;
        i++;
        n = 0;
        while (i < dot && line[i] != '.' && line[i] != '[' && line[i] != ']' && n + 1 < sizeof step)
            step[n++] = line[i++];
        step[n] = 0;
        if (index) {
            if (i >= dot || line[i] != ']' || n == 0) goto out;
            i++;
        }
        if (n == 0 || config) goto out;
        if (model) {
            size_t pl = strlen(prefix);
            snprintf(prefix + pl, sizeof prefix - pl, "%s%s", pl ? "." : "", step);
            continue;
        }
        const tl_model *m = tl_model_from_value(&cur);
        if (m && !index) {
            model = m;
            if (strcmp(step, "config") == 0)
                config = true;
            else
                snprintf(prefix, sizeof prefix, "%s", strcmp(step, "layers") == 0 ? "blk" : step);
            continue;
        }
        tl_value next = TL_VOID;
        if (!index && cur.kind == TL_VAL_STRUCT) {
            const char *fields[64];
            int nf = tl_repl_struct_fields(I, &cur, fields, 64);
            int k = 0;
            while (k < nf && strcmp(fields[k], step) != 0)
                k++;
            if (k == nf) goto out;
            next = tl_value_retain(*tl_repl_struct_field(&cur, k));
        } else if (index && cur.kind == TL_VAL_ARRAY) {
            char *end;
            long long k = strtoll(step, &end, 10);
            if (*end || k < 0 || (size_t)k >= cur.as.arr->len) goto out;
            next = tl_value_retain(cur.as.arr->items[k]);
        } else {
            goto out;
        }
        tl_value_release(&cur);
        cur = next;
    }
    if (config) {
        add_list(c, tl_repl_object_props("LlamaConfig"));
    } else if (model) {
        add_name_parts(c, model, prefix);
    } else if (cur.kind == TL_VAL_STRUCT) {
        const char *fields[64];
        int nf = tl_repl_struct_fields(I, &cur, fields, 64);
        for (int k = 0; k < nf; k++)
            add(c, fields[k]);
    } else if (tl_model_from_value(&cur)) {
        add_list(c, model_members);
        add_name_parts(c, tl_model_from_value(&cur), "");
    } else if (cur.kind == TL_VAL_OBJECT) {
        add_list(c, tl_repl_object_props(cur.as.obj->cls->name));
    }
out:
    tl_value_release(&cur);
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
        members(I, line, ws - 1, &c);
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

bool tl_repl_call_signature(tl_interp *I, const char *line, size_t point, tl_strbuf *out) {
    /* the innermost '(' not closed before point */
    int depth = 0;
    size_t k = point;
    while (k > 0) {
        char ch = line[--k];
        if (ch == ')')
            depth++;
        else if (ch == '(' && depth-- == 0)
            break;
        if (k == 0) return false;
    }
    if (line[k] != '(') return false;
    size_t end = k;
    while (end > 0 && line[end - 1] == ' ')
        end--;
    size_t start = end;
    while (start > 0 && (ident_char(line[start - 1]) || line[start - 1] == ':'))
        start--;
    if (start == end || end - start >= 128) return false;
    char name[128];
    memcpy(name, line + start, end - start);
    name[end - start] = 0;
    bool any = false;
    for (size_t i = 0;; i++) {
        const tl_builtin_def *d = tl_builtin_at(i);
        if (!d) break;
        if (strcmp(d->name, name) == 0) {
            tl_strbuf_printf(out, "%s%s", any ? "\n" : "", d->signature ? d->signature : d->name);
            any = true;
        }
    }
    if (!any) any = tl_repl_fn_signature(I, name, out);
    return any;
}
