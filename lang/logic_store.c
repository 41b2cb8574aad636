/* lang/logic_store.c -- symbols, domains, relations and the cached model
** (see logic.h). */
#include "lang/logic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

tl_logic *tl_logic_new(void) {
    tl_logic *L = calloc(1, sizeof *L);
    if (L) L->with_dom = -1;
    return L;
}

void tl_logic_invalidate(tl_logic *L) {
    if (!L) return;
    for (int i = 0; i < L->model_n; i++)
        tl_rel_free(&L->model[i]);
    free(L->model);
    L->model = NULL;
    L->model_n = 0;
    L->model_valid = false;
}

void tl_logic_free(tl_logic *L) {
    if (!L) return;
    tl_logic_invalidate(L);
    for (size_t i = 0; i < L->n_sym; i++)
        free(L->sym[i]);
    free(L->sym);
    free(L->sym_slot);
    for (int i = 0; i < L->n_dom; i++) {
        free(L->dom[i].name);
        free(L->dom[i].members);
        free(L->dom[i].index_of);
    }
    free(L->dom);
    for (int i = 0; i < L->n_rel; i++) {
        free(L->rel[i].name);
        tl_rel_free(&L->rel[i].facts);
    }
    free(L->rel);
    free(L->rules);
    for (int i = 0; i < L->n_emb; i++) {
        free(L->emb[i].name);
        if (L->emb[i].table) tl_tensor_unref(L->emb[i].table);
    }
    free(L->emb);
    free(L);
}

/* ------------------------------------------------------------------ symbols */

static uint32_t str_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int32_t tl_logic_lookup(const tl_logic *L, const char *s) {
    if (!L->n_slots) return -1;
    size_t h = str_hash(s) & (L->n_slots - 1);
    while (L->sym_slot[h]) {
        int32_t id = (int32_t)L->sym_slot[h] - 1;
        if (strcmp(L->sym[id], s) == 0) return id;
        h = (h + 1) & (L->n_slots - 1);
    }
    return -1;
}

static bool rehash(tl_logic *L, size_t slots) {
    uint32_t *ns = calloc(slots, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < L->n_sym; i++) {
        size_t h = str_hash(L->sym[i]) & (slots - 1);
        while (ns[h])
            h = (h + 1) & (slots - 1);
        ns[h] = (uint32_t)i + 1;
    }
    free(L->sym_slot);
    L->sym_slot = ns;
    L->n_slots = slots;
    return true;
}

int32_t tl_logic_intern(tl_logic *L, const char *s) {
    int32_t id = tl_logic_lookup(L, s);
    if (id >= 0) return id;
    if (L->n_sym >= INT32_MAX - 1) return -1;
    if (2 * (L->n_sym + 1) > L->n_slots && !rehash(L, L->n_slots ? 2 * L->n_slots : 256)) return -1;
    if (L->n_sym == L->cap_sym) {
        size_t cap = L->cap_sym ? 2 * L->cap_sym : 64;
        char **ns = realloc(L->sym, cap * sizeof *ns);
        if (!ns) return -1;
        L->sym = ns;
        L->cap_sym = cap;
    }
    char *copy = strdup(s);
    if (!copy) return -1;
    id = (int32_t)L->n_sym++;
    L->sym[id] = copy;
    size_t h = str_hash(s) & (L->n_slots - 1);
    while (L->sym_slot[h])
        h = (h + 1) & (L->n_slots - 1);
    L->sym_slot[h] = (uint32_t)id + 1;
    return id;
}

const char *tl_logic_name(const tl_logic *L, int32_t id) {
    return id >= 0 && (size_t)id < L->n_sym ? L->sym[id] : "?";
}

static bool as_number(const char *s, double *v) {
    if (!*s) return false;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == 0 && errno == 0;
}

int tl_logic_compare(void *ctx, int32_t a, int32_t b) {
    const tl_logic *L = ctx;
    return tl_logic_compare_names(tl_logic_name(L, a), tl_logic_name(L, b));
}

int tl_logic_compare_names(const char *x, const char *y) {
    double u, v;
    if (as_number(x, &u) && as_number(y, &v)) return u < v ? -1 : u > v ? 1 : 0;
    return strcmp(x, y);
}

/* ------------------------------------------------------------------ domains */

int tl_logic_find_domain(const tl_logic *L, const char *name) {
    for (int i = 0; i < L->n_dom; i++)
        if (strcmp(L->dom[i].name, name) == 0) return i;
    return -1;
}

tl_status tl_logic_new_domain(tl_logic *L, const char *name, bool closed, int *out) {
    if (L->n_dom == L->cap_dom) {
        int cap = L->cap_dom ? 2 * L->cap_dom : 8;
        tl_domain *nd = realloc(L->dom, (size_t)cap * sizeof *nd);
        if (!nd) return tl_fail(TL_ERR_NOMEM, "out of memory");
        L->dom = nd;
        L->cap_dom = cap;
    }
    tl_domain *d = &L->dom[L->n_dom];
    memset(d, 0, sizeof *d);
    d->name = strdup(name);
    if (!d->name) return tl_fail(TL_ERR_NOMEM, "out of memory");
    d->closed = closed;
    *out = L->n_dom++;
    return TL_OK;
}

bool tl_logic_in_domain(const tl_logic *L, int dom, int32_t sym) {
    if (sym < 0) return false;
    if (dom < 0) return (size_t)sym < L->n_sym;
    const tl_domain *d = &L->dom[dom];
    return (size_t)sym < d->n_index && d->index_of[sym] > 0;
}

tl_status tl_logic_domain_add(tl_logic *L, int dom, int32_t sym) {
    if (dom < 0 || tl_logic_in_domain(L, dom, sym)) return TL_OK;
    tl_domain *d = &L->dom[dom];
    if ((size_t)sym >= d->n_index) {
        size_t n = d->n_index ? d->n_index : 64;
        while (n <= (size_t)sym)
            n *= 2;
        int32_t *ni = realloc(d->index_of, n * sizeof *ni);
        if (!ni) return tl_fail(TL_ERR_NOMEM, "out of memory");
        memset(ni + d->n_index, 0, (n - d->n_index) * sizeof *ni);
        d->index_of = ni;
        d->n_index = n;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        int32_t *nm = realloc(d->members, cap * sizeof *nm);
        if (!nm) return tl_fail(TL_ERR_NOMEM, "out of memory");
        d->members = nm;
        d->cap = cap;
    }
    d->members[d->n++] = sym;
    d->index_of[sym] = (int32_t)d->n;
    return TL_OK;
}

int64_t tl_logic_entity_index(const tl_logic *L, int dom, int32_t sym) {
    if (dom < 0) return sym;
    return tl_logic_in_domain(L, dom, sym) ? L->dom[dom].index_of[sym] - 1 : -1;
}

size_t tl_logic_domain_size(const tl_logic *L, int dom) {
    return dom < 0 ? L->n_sym : L->dom[dom].n;
}

int32_t tl_logic_domain_member(const tl_logic *L, int dom, size_t index) {
    if (dom < 0) return index < L->n_sym ? (int32_t)index : -1;
    return index < L->dom[dom].n ? L->dom[dom].members[index] : -1;
}

/* ------------------------------------------------------------------ relations */

int tl_logic_find_relation(const tl_logic *L, const char *name) {
    for (int i = 0; i < L->n_rel; i++)
        if (strcmp(L->rel[i].name, name) == 0) return i;
    return -1;
}

tl_status tl_logic_add_fact(tl_logic *L, int rel, const int32_t *t, bool *added) {
    tl_relation *r = &L->rel[rel];
    for (int a = 0; a < r->arity; a++) {
        int dom = r->dom[a];
        if (dom >= 0 && L->dom[dom].closed && !tl_logic_in_domain(L, dom, t[a]))
            return tl_fail(TL_ERR_ARG, "'%s' is not an entity of %s (argument %d of %s)",
                           tl_logic_name(L, t[a]), L->dom[dom].name, a + 1, r->name);
    }
    for (int a = 0; a < r->arity; a++) {
        tl_status st = tl_logic_domain_add(L, r->dom[a] >= 0 ? r->dom[a] : L->with_dom, t[a]);
        if (st != TL_OK) return st;
    }
    bool fresh = false;
    tl_status st = tl_rel_insert(&r->facts, t, &fresh);
    if (st != TL_OK) return st;
    if (fresh) tl_logic_invalidate(L);
    if (added) *added = fresh;
    return TL_OK;
}

tl_status tl_logic_add_fact_names(tl_logic *L, int rel, const char *const *names, bool *added) {
    int32_t t[TL_REL_MAX_ARITY];
    for (int a = 0; a < L->rel[rel].arity; a++) {
        t[a] = tl_logic_intern(L, names[a]);
        if (t[a] < 0) return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    return tl_logic_add_fact(L, rel, t, added);
}

tl_status tl_logic_model(tl_logic *L, const tl_dl_program *p, tl_dl_error *err) {
    if (L->model_valid && L->model_n == p->n_preds) return TL_OK;
    tl_logic_invalidate(L);
    tl_rel *m = calloc((size_t)p->n_preds + 1, sizeof *m);
    if (!m) return tl_fail(TL_ERR_NOMEM, "out of memory");
    tl_dl_stats stats = {0};
    tl_status st = tl_dl_forward(p, m, &stats, err);
    if (st != TL_OK) {
        free(m);
        return st;
    }
    L->model = m;
    L->model_n = p->n_preds;
    L->model_valid = true;
    L->model_stats = stats;
    return TL_OK;
}
