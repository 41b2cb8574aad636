/* app/repl_introspect.c -- read-only walks over the interpreter's globals,
** functions and structs for :vars and tab completion.  The one REPL file that
** includes lang/eval_internal.h; nothing here changes interpreter state. */
#include "lang/eval_internal.h"
#include "app/repl_internal.h"

#include <string.h>

void tl_repl_each_global(tl_interp *I, void (*cb)(void *ctx, const char *name, const tl_value *v),
                         void *ctx) {
    for (uint32_t i = 0; i < I->globals.n; i++)
        cb(ctx, I->globals.vars[i].name, &I->globals.vars[i].v);
}

void tl_repl_each_fn(tl_interp *I, void (*cb)(void *ctx, const char *name), void *ctx) {
    for (size_t i = 0; i < I->fns.n; i++)
        if (!I->fns.items[i].type) cb(ctx, I->fns.items[i].name);
}

static int decl_fields(const tl_node *decl, const char **names, int cap) {
    int n = 0;
    for (const tl_node *f = decl->a; f; f = f->next) {
        if (n < cap) names[n] = f->name;
        n++;
    }
    return n < cap ? n : cap;
}

void tl_repl_each_struct(tl_interp *I,
                         void (*cb)(void *ctx, const char *name, const char *const *fields, int n),
                         void *ctx) {
    for (size_t i = 0; i < I->structs.n; i++) {
        const char *names[65];
        int n = decl_fields(I->structs.items[i].decl, names, 64);
        names[n] = NULL;
        cb(ctx, I->structs.items[i].name, names, n);
    }
}

int tl_repl_struct_fields(tl_interp *I, const tl_value *v, const char **names, int cap) {
    (void)I;
    if (v->kind != TL_VAL_STRUCT) return 0;
    return decl_fields(v->as.st->decl, names, cap);
}

const tl_value *tl_repl_struct_field(const tl_value *v, int k) {
    return &v->as.st->fields[k];
}

bool tl_repl_fn_signature(tl_interp *I, const char *name, tl_strbuf *out) {
    const tl_node *fn = tl_find_fn(I, name);
    if (!fn) return false;
    tl_strbuf_printf(out, "fn %s(", fn->name);
    for (const tl_node *p = fn->a; p; p = p->next)
        tl_strbuf_printf(out, "%s%s", p == fn->a ? "" : ", ", p->name);
    tl_strbuf_putc(out, ')');
    return true;
}

bool tl_repl_fn_doc(tl_interp *I, const char *name, tl_strbuf *out) {
    const tl_node *fn = tl_find_fn(I, name);
    if (!fn || !fn->chunk || !fn->chunk->text || fn->line < 2) return false;
    /* the start of each line up to the fn's */
    const char *text = fn->chunk->text, *lines[4096];
    uint32_t n = 0;
    lines[n++] = text;
    for (const char *p = text; *p && n < fn->line && n < 4096; p++)
        if (*p == '\n') lines[n++] = p + 1;
    if (n < fn->line) return false;
    /* the // comment lines right above line fn->line (lines[fn->line - 1]) */
    uint32_t first = fn->line - 1;
    while (first > 0) {
        const char *l = lines[first - 1];
        while (*l == ' ' || *l == '\t')
            l++;
        if (l[0] != '/' || l[1] != '/') break;
        first--;
    }
    if (first == fn->line - 1) return false;
    for (uint32_t k = first; k < fn->line - 1; k++) {
        const char *l = lines[k];
        while (*l == ' ' || *l == '\t')
            l++;
        l += 2;
        if (*l == ' ') l++;
        size_t len = strcspn(l, "\n");
        tl_strbuf_append(out, l, len);
        tl_strbuf_putc(out, '\n');
    }
    return true;
}

const char *tl_repl_fn_file(tl_interp *I, const char *name, uint32_t *line) {
    const tl_node *fn = tl_find_fn(I, name);
    if (!fn || !fn->chunk) return NULL;
    *line = fn->line;
    return fn->chunk->filename;
}
