/* lang/eval_module.c -- module scoping of function calls.
**
** A file loaded by `import` is a module: a call (or a function named as a value)
** inside it means, in this order, a fn defined in that same file, a fn of the files
** it imports (breadth first, in import order), and only then whatever the global
** table holds (the latest definition of that name anywhere).  So a script's own
** `fn rms(x)` cannot change what the stdlib's forward pass calls; hooks are the
** explicit way to change it.  Calls in the main file and in the REPL use the global
** table as before: there the latest definition wins. */
#include "lang/eval_internal.h"

#include <stdlib.h>
#include <string.h>

tl_status tl_module_add_dep(tl_interp *I, const tl_chunk *importer, size_t idx) {
    for (size_t i = 0; i < I->n_imports; i++) {
        tl_import_rec *r = &I->imports[i];
        if (r->chunk != importer) continue;
        for (size_t k = 0; k < r->n_deps; k++)
            if (r->deps[k] == idx) return TL_OK;
        if (r->n_deps == r->cap_deps) {
            size_t cap = r->cap_deps ? r->cap_deps * 2 : 4;
            size_t *p = realloc(r->deps, cap * sizeof *p);
            if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
            r->deps = p;
            r->cap_deps = cap;
        }
        r->deps[r->n_deps++] = idx;
        return TL_OK;
    }
    return TL_OK; /* a REPL input or a string: not a module */
}

/* The last `fn name` among the chunk's items (a later one replaces an earlier one). */
static const tl_node *own_fn(const tl_chunk *c, const char *name) {
    const tl_node *found = NULL;
    for (const tl_node *n = c ? c->items : NULL; n; n = n->next)
        if (n->kind == TL_D_FN && strcmp(n->name, name) == 0) found = n;
    return found;
}

const tl_node *tl_find_fn_at(tl_interp *I, const tl_node *site, const char *name) {
    const tl_chunk *c = site ? site->chunk : NULL;
    size_t start = I->n_imports;
    for (size_t i = 0; c && i < I->n_imports; i++)
        if (I->imports[i].chunk == c) {
            start = i;
            break;
        }
    if (start == I->n_imports || !I->imports[start].imported) return tl_find_fn(I, name);
    /* breadth first over the import graph from the site's module */
    size_t small[32], *queue = I->n_imports <= 32 ? small : malloc(I->n_imports * sizeof *queue);
    if (!queue) return tl_find_fn(I, name);
    size_t head = 0, tail = 0;
    const tl_node *found = NULL;
    queue[tail++] = start;
    while (head < tail && !found) {
        const tl_import_rec *r = &I->imports[queue[head++]];
        found = own_fn(r->chunk, name);
        for (size_t k = 0; k < r->n_deps && !found; k++) {
            bool seen = false;
            for (size_t q = 0; q < tail && !seen; q++)
                seen = queue[q] == r->deps[k];
            if (!seen && tail < I->n_imports) queue[tail++] = r->deps[k];
        }
    }
    if (queue != small) free(queue);
    return found ? found : tl_find_fn(I, name);
}
