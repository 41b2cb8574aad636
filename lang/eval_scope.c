/* lang/eval_scope.c -- the interpreter's names: lexical scopes (tl_scope_*) and the
** function / struct / method tables (tl_find_*), each with a hash index once it holds
** more than a few dozen names, so declaring and finding n names costs O(n). */
#include "lang/eval_internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ scopes */

/* Scopes (and the function / struct / method tables) past a few dozen names get
** a hash index, so declaring and finding n names costs O(n), not O(n^2). */
#define INDEX_MIN 32

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void scope_index_put(tl_scope *s, uint32_t i) {
    uint32_t m = s->index_cap - 1;
    uint32_t k = s->vars[i].hash & m;
    while (s->index[k])
        k = (k + 1) & m;
    s->index[k] = i + 1;
}

/* (Re)builds the index for s->n names; on out of memory lookups stay linear. */
static void scope_index_build(tl_scope *s) {
    uint32_t cap = 64;
    while (cap < 2 * s->n)
        cap *= 2;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix) return;
    free(s->index);
    s->index = ix;
    s->index_cap = cap;
    for (uint32_t i = 0; i < s->n; i++)
        scope_index_put(s, i);
}

/* name's variable in s (h = name_hash(name)).  The parser gives equal names one
** pointer (lang/parse.c), so most hits compare a pointer; bytes are compared
** only when the hashes agree. */
static tl_var *find_local_h(tl_scope *s, const char *name, uint32_t h) {
    if (s->index) {
        uint32_t m = s->index_cap - 1;
        for (uint32_t k = h & m; s->index[k]; k = (k + 1) & m) {
            tl_var *v = &s->vars[s->index[k] - 1];
            if (v->name == name || (v->hash == h && strcmp(v->name, name) == 0)) return v;
        }
        return NULL;
    }
    for (uint32_t i = s->n; i-- > 0;)
        if (s->vars[i].name == name || (s->vars[i].hash == h && strcmp(s->vars[i].name, name) == 0))
            return &s->vars[i];
    return NULL;
}

static tl_var *find_local(tl_scope *s, const char *name) {
    return find_local_h(s, name, name_hash(name));
}

/* A bit per hash of every name ever declared in any scope of any interpreter: a clear
** bit proves a name unbound without walking the scopes (tensor equations look their
** index names up on every run). */
static uint64_t declared_names[64];

static bool maybe_bound_h(uint32_t h) {
    h &= 4095u;
    return (__atomic_load_n(&declared_names[h >> 6], __ATOMIC_RELAXED) >> (h & 63u)) & 1u;
}

bool tl_scope_maybe_bound(const char *name) {
    return maybe_bound_h(name_hash(name));
}

tl_var *tl_scope_lookup(tl_interp *I, const char *name) {
    uint32_t h = name_hash(name);
    if (!maybe_bound_h(h)) return NULL; /* builtins' names, mostly */
    for (tl_scope *s = I->cur; s; s = s->parent) {
        tl_var *v = find_local_h(s, name, h);
        if (v) return v;
    }
    return NULL;
}

tl_status tl_scope_declare(tl_scope *s, const char *name, tl_value v) {
    uint32_t hash = name_hash(name);
    tl_var *old = find_local_h(s, name, hash);
    if (old) {
        tl_value_release(&old->v);
        old->v = v;
        return TL_OK;
    }
    if (!s->vars) {
        s->vars = s->inline_vars;
        s->cap = TL_SCOPE_INLINE;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap * 2;
        bool inl = s->vars == s->inline_vars;
        tl_var *vars = realloc(inl ? NULL : s->vars, cap * sizeof *vars);
        if (!vars) {
            tl_value_release(&v);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
        if (inl) memcpy(vars, s->inline_vars, s->n * sizeof *vars);
        s->vars = vars;
        s->cap = cap;
    }
    s->vars[s->n++] = (tl_var){name, hash, v};
    uint32_t h = hash & 4095u;
    __atomic_fetch_or(&declared_names[h >> 6], (uint64_t)1 << (h & 63u), __ATOMIC_RELAXED);
    if (s->index && 2 * s->n <= s->index_cap)
        scope_index_put(s, s->n - 1);
    else if (s->n >= INDEX_MIN)
        scope_index_build(s);
    return TL_OK;
}

void tl_scope_free_vars(tl_scope *s) {
    if (s->vars != s->inline_vars) free(s->vars);
    s->vars = NULL;
    s->cap = 0;
}

static const char *own_name(tl_interp *I, const char *name) {
    for (size_t i = 0; i < I->n_owned; i++)
        if (strcmp(I->owned_names[i], name) == 0) return I->owned_names[i];
    if (I->n_owned == I->cap_owned) {
        size_t cap = I->cap_owned ? I->cap_owned * 2 : 8;
        char **p = realloc(I->owned_names, cap * sizeof *p);
        if (!p) return NULL;
        I->owned_names = p;
        I->cap_owned = cap;
    }
    char *d = strdup(name);
    if (!d) return NULL;
    I->owned_names[I->n_owned++] = d;
    return d;
}

tl_status tl_interp_get_global(tl_interp *I, const char *name, tl_value *out) {
    *out = TL_VOID;
    tl_var *v = find_local(&I->globals, name);
    if (!v) return tl_fail(TL_ERR_ARG, "no global named '%s'", name);
    *out = tl_value_retain(v->v);
    return TL_OK;
}

tl_status tl_interp_set_global(tl_interp *I, const char *name, const tl_value *v) {
    const char *n = own_name(I, name);
    if (!n) return tl_fail(TL_ERR_NOMEM, "out of memory");
    return tl_scope_declare(&I->globals, n, tl_value_retain(*v));
}

void tl_interp_each_name(tl_interp *I,
                         void (*fn)(void *ctx, const char *name, const tl_value *value),
                         void *ctx) {
    for (uint32_t i = 0; i < I->globals.n; i++)
        fn(ctx, I->globals.vars[i].name, &I->globals.vars[i].v);
    for (size_t i = 0; i < I->fns.n; i++)
        fn(ctx, I->fns.items[i].name, NULL);
}

/* ------------------------------------------------------------------ tables */

/* The slot of name in l's index: its latest item, or the empty slot to use. */
static size_t named_slot(const tl_named_list *l, const char *name) {
    size_t m = l->index_cap - 1;
    size_t k = name_hash(name) & m;
    while (l->index[k] && strcmp(l->items[l->index[k] - 1].name, name) != 0)
        k = (k + 1) & m;
    return k;
}

static void named_index_build(tl_named_list *l) {
    size_t cap = 64;
    while (cap < 2 * l->n)
        cap *= 2;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix) return; /* lookups stay linear */
    free(l->index);
    l->index = ix;
    l->index_cap = cap;
    for (size_t i = 0; i < l->n; i++) {
        size_t k = named_slot(l, l->items[i].name);
        l->items[i].prev = l->index[k];
        l->index[k] = (uint32_t)i + 1;
    }
}

/* The latest item named name (1-based), 0 when there is none. */
static uint32_t named_latest(const tl_named_list *l, const char *name) {
    if (l->index) return l->index[named_slot(l, name)];
    for (size_t i = l->n; i-- > 0;)
        if (strcmp(l->items[i].name, name) == 0) return (uint32_t)i + 1;
    return 0;
}

/* The next older item with the same name (1-based), 0 when there is none. */
static uint32_t named_older(const tl_named_list *l, uint32_t at) {
    if (l->index) return l->items[at - 1].prev;
    const char *name = l->items[at - 1].name;
    for (size_t i = at - 1; i-- > 0;)
        if (strcmp(l->items[i].name, name) == 0) return (uint32_t)i + 1;
    return 0;
}

tl_status tl_named_put(tl_named_list *l, const char *name, const char *type, const tl_node *decl) {
    for (uint32_t i = named_latest(l, name); i; i = named_older(l, i)) {
        tl_named *it = &l->items[i - 1];
        if ((!type && !it->type) || (type && it->type && strcmp(type, it->type) == 0)) {
            it->decl = decl; /* a later definition replaces an earlier one */
            return TL_OK;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        tl_named *p = realloc(l->items, cap * sizeof *p);
        if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = (tl_named){name, type, decl, 0};
    if (l->index && 2 * l->n <= l->index_cap) {
        size_t k = named_slot(l, name);
        l->items[l->n - 1].prev = l->index[k];
        l->index[k] = (uint32_t)l->n;
    } else if (l->n >= INDEX_MIN) {
        named_index_build(l);
    }
    return TL_OK;
}

static const tl_node *named_get(const tl_named_list *l, const char *type, const char *name) {
    for (uint32_t i = named_latest(l, name); i; i = named_older(l, i)) {
        const tl_named *it = &l->items[i - 1];
        if (!type || (it->type && strcmp(it->type, type) == 0)) return it->decl;
    }
    return NULL;
}

const tl_node *tl_find_fn(tl_interp *I, const char *name) {
    return named_get(&I->fns, NULL, name);
}
const tl_node *tl_find_struct(tl_interp *I, const char *name) {
    return named_get(&I->structs, NULL, name);
}
const tl_node *tl_find_method(tl_interp *I, const char *type, const char *name) {
    return named_get(&I->methods, type, name);
}

/* ------------------------------------------------------------------ loading */
