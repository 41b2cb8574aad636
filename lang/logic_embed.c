/* lang/logic_embed.c -- `embedding E { entities: {..}, dimension: d, init: i }`
** (the paper's embedding-space reasoning, docs/logic.md).
**
** The block makes E an entity type (a closed domain, or the named / auto one)
** and a global f32 tensor E of shape [n_entities, d], row k = the embedding of
** entity k.  E["alice"] (or E[alice]) is that row.  init: xavier (uniform in
** +-sqrt(6 / (n + d)), the default), he (normal * sqrt(2 / d)), random
** (uniform [-1, 1)), zeros, ones, or onehot (row k = unit vector k; needs
** d >= n: orthonormal embeddings, where embedding-space reasoning at
** temperature -> 0 equals deduction).  Random inits use the global generator
** (seed(n) makes them reproducible). */
#include "lang/eval_logic.h"
#include "runtime/ops.h"
#include "runtime/random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const tl_embedding *find_embedding(const tl_logic *L, const char *name) {
    for (int i = 0; L && i < L->n_emb; i++)
        if (strcmp(L->emb[i].name, name) == 0) return &L->emb[i];
    return NULL;
}

static tl_flow make_table(tl_interp *I, tl_logic *L, const tl_node *n, const tl_node *ents,
                          const tl_node *dim, const tl_node *init);

/* relation_embedding R { relations: {a, b} | all ... }: the same table, over the
** closed type R whose members are the named (declared) relations, in that order */
static tl_flow relation_embedding(tl_interp *I, tl_logic *L, const tl_node *n, const tl_node *rels,
                                  const tl_node *dim, const tl_node *init) {
    if (!dim)
        return tl_err_at(I, n, TL_ERR_ARG, "relation_embedding %s needs `dimension:`", n->name);
    if (rels->kind == TL_N_IDENT && strcmp(rels->name, "all") == 0) {
        if (L->n_rel == 0)
            return tl_err_at(I, rels, TL_ERR_ARG,
                             "relation_embedding %s: `relations: all` but no relation is declared",
                             n->name);
    } else if (rels->kind != TL_N_ARRAY) {
        return tl_err_at(I, rels, TL_ERR_ARG,
                         "relation_embedding %s: relations is `{R1, R2, ...}` or `all`", n->name);
    }
    if (tl_logic_find_domain(L, n->name) >= 0)
        return tl_err_at(I, n, TL_ERR_ARG, "entity type '%s' is already declared", n->name);
    for (const tl_node *m = rels->kind == TL_N_ARRAY ? rels->a : NULL; m; m = m->next)
        if (tl_logic_find_relation(L, m->name) < 0)
            return tl_err_at(I, m, TL_ERR_ARG, "relation_embedding %s: unknown relation '%s'",
                             n->name, m->name);
    int d;
    tl_status st = tl_logic_new_domain(L, n->name, true, &d);
    if (rels->kind == TL_N_ARRAY) {
        for (const tl_node *m = rels->a; m && st == TL_OK; m = m->next) {
            int32_t id = tl_logic_intern(L, m->name);
            st = id < 0 ? TL_ERR_NOMEM : tl_logic_domain_add(L, d, id);
        }
    } else {
        for (int r = 0; r < L->n_rel && st == TL_OK; r++) {
            int32_t id = tl_logic_intern(L, L->rel[r].name);
            st = id < 0 ? TL_ERR_NOMEM : tl_logic_domain_add(L, d, id);
        }
    }
    if (st != TL_OK) return tl_err_status(I, n, st);
    /* the table over the type just made */
    tl_node ty = *rels;
    ty.kind = TL_N_IDENT;
    ty.name = n->name;
    return make_table(I, L, n, &ty, dim, init);
}

tl_flow tl_logic_embedding_decl(tl_interp *I, tl_logic *L, const tl_node *n) {
    if (find_embedding(L, n->name))
        return tl_err_at(I, n, TL_ERR_ARG, "embedding '%s' is already declared", n->name);
    const tl_node *ents = NULL, *rels = NULL, *dim = NULL, *init = NULL;
    for (const tl_node *f = n->a; f; f = f->next) {
        if (strcmp(f->name, "entities") == 0)
            ents = f->a;
        else if (strcmp(f->name, "dimension") == 0)
            dim = f->a;
        else if (strcmp(f->name, "init") == 0)
            init = f->a;
        else if (strcmp(f->name, "relations") == 0)
            rels = f->a;
        else
            return tl_err_at(I, f, TL_ERR_ARG,
                             "embedding %s: unknown item '%s' (entities, dimension, init)", n->name,
                             f->name);
    }
    if (rels && ents)
        return tl_err_at(I, rels, TL_ERR_ARG,
                         "embedding %s: give `entities:` or `relations:`, not both", n->name);
    if (rels) return relation_embedding(I, L, n, rels, dim, init);
    if (!ents || !dim)
        return tl_err_at(I, n, TL_ERR_ARG, "embedding %s needs `entities:` and `dimension:`",
                         n->name);
    return make_table(I, L, n, ents, dim, init);
}

/* the table of `n` over the entities `ents` (an entity list, a type name or `auto`) */
static tl_flow make_table(tl_interp *I, tl_logic *L, const tl_node *n, const tl_node *ents,
                          const tl_node *dim, const tl_node *init) {
    if (dim->kind != TL_N_INT || dim->v.i < 1 || dim->v.i > (1 << 20))
        return tl_err_at(I, dim, TL_ERR_ARG, "embedding %s: dimension must be an int in 1..2^20",
                         n->name);
    int d;
    if (ents->kind == TL_N_ARRAY) {
        if (tl_logic_find_domain(L, n->name) >= 0)
            return tl_err_at(I, n, TL_ERR_ARG, "entity type '%s' is already declared", n->name);
        tl_status st = tl_logic_new_domain(L, n->name, true, &d);
        for (const tl_node *m = ents->a; m && st == TL_OK; m = m->next) {
            int32_t id = tl_logic_intern(L, m->name);
            if (id < 0) return tl_err_at(I, m, TL_ERR_NOMEM, "out of memory");
            st = tl_logic_domain_add(L, d, id);
        }
        if (st != TL_OK) return tl_err_status(I, n, st);
    } else if (strcmp(ents->name, "auto") == 0) {
        d = -1;
    } else if ((d = tl_logic_find_domain(L, ents->name)) < 0) {
        return tl_err_at(I, ents, TL_ERR_ARG, "embedding %s: unknown entity type '%s'", n->name,
                         ents->name);
    }
    int64_t rows = (int64_t)tl_logic_domain_size(L, d), cols = dim->v.i;
    if (rows < 1) return tl_err_at(I, ents, TL_ERR_ARG, "embedding %s has no entities", n->name);
    const char *how = init ? init->name : "xavier";
    if (init && init->kind != TL_N_IDENT)
        return tl_err_at(I, init, TL_ERR_ARG, "embedding %s: init is a name", n->name);
    int64_t shape[2] = {rows, cols};
    tl_tensor *t;
    tl_status st = tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &t);
    if (st != TL_OK) return tl_err_status(I, n, st);
    float *x = tl_tensor_data(t);
    tl_rng *rng = tl_random_global();
    double a = sqrt(6.0 / (double)(rows + cols)), he = sqrt(2.0 / (double)cols);
    for (int64_t i = 0; i < rows * cols; i++) {
        if (strcmp(how, "xavier") == 0)
            x[i] = (float)((2.0 * tl_rng_uniform_f64(rng) - 1.0) * a);
        else if (strcmp(how, "he") == 0)
            x[i] = (float)(tl_rng_normal(rng) * he);
        else if (strcmp(how, "random") == 0)
            x[i] = (float)(2.0 * tl_rng_uniform_f64(rng) - 1.0);
        else if (strcmp(how, "zeros") == 0)
            x[i] = 0.0f;
        else if (strcmp(how, "ones") == 0)
            x[i] = 1.0f;
        else if (strcmp(how, "onehot") == 0) {
            if (cols < rows) {
                tl_tensor_unref(t);
                return tl_err_at(I, init, TL_ERR_ARG,
                                 "embedding %s: onehot needs dimension >= %lld entities", n->name,
                                 (long long)rows);
            }
            x[i] = (i / cols == i % cols) ? 1.0f : 0.0f;
        } else {
            tl_tensor_unref(t);
            return tl_err_at(I, init, TL_ERR_ARG,
                             "embedding %s: unknown init '%s' (xavier, he, random, zeros, ones, "
                             "onehot)",
                             n->name, how);
        }
    }
    if (L->n_emb == L->cap_emb) {
        int cap = L->cap_emb ? 2 * L->cap_emb : 4;
        tl_embedding *ne = realloc(L->emb, (size_t)cap * sizeof *ne);
        if (!ne) {
            tl_tensor_unref(t);
            return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        }
        L->emb = ne;
        L->cap_emb = cap;
    }
    char *name = strdup(n->name);
    tl_tensor_ref(t);
    if (!name || tl_scope_declare(&I->globals, n->name, tl_value_tensor(t)) != TL_OK) {
        free(name);
        tl_tensor_unref(t);
        return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    }
    L->emb[L->n_emb++] = (tl_embedding){.name = name, .dom = d, .dim = (int)cols, .table = t};
    return TL_FLOW_OK;
}

bool tl_logic_embedding_index(tl_interp *I, const tl_node *n, tl_value *out, tl_flow *fl) {
    if (!I->logic || n->a->kind != TL_N_IDENT || !n->b || n->b->next) return false;
    const tl_node *k = n->b;
    if (k->kind != TL_N_STRING && !(k->kind == TL_N_IDENT && !tl_scope_lookup(I, k->name)))
        return false;
    const tl_embedding *e = find_embedding(I->logic, n->a->name);
    if (!e) return false;
    tl_var *v = tl_scope_lookup(I, n->a->name);
    /* the table as it is now (a script may have assigned it or edited entries):
    ** any tensor of the declared shape is looked up by name */
    const tl_tensor *cur = v && v->v.kind == TL_VAL_TENSOR ? v->v.as.tensor : NULL;
    if (!cur || cur->n_dims != 2 || cur->ne[0] != e->table->ne[0] || cur->ne[1] != e->table->ne[1])
        return false;
    int32_t id = tl_logic_lookup(I->logic, k->name);
    int64_t row = id < 0 ? -1 : tl_logic_entity_index(I->logic, e->dom, id);
    if (row < 0 || row >= e->table->ne[1]) {
        *fl =
            tl_err_at(I, k, TL_ERR_ARG, "'%s' is not an entity of embedding %s", k->name, e->name);
        return true;
    }
    int64_t shape[1] = {e->dim};
    tl_tensor *t = NULL, *f = NULL, *fc = NULL;
    tl_status st = tl_op_cast(cur, TL_DTYPE_F32, &f);
    if (st == TL_OK) st = tl_op_contiguous(f, &fc);
    if (st == TL_OK) st = tl_tensor_new_shape(TL_DTYPE_F32, 1, shape, &t);
    if (st == TL_OK)
        memcpy(tl_tensor_data(t), (const float *)tl_tensor_data(fc) + row * e->dim,
               (size_t)e->dim * sizeof(float));
    if (f) tl_tensor_unref(f);
    if (fc) tl_tensor_unref(fc);
    if (st != TL_OK) {
        *fl = tl_err_status(I, n, st);
        return true;
    }
    *out = tl_value_tensor(t);
    *fl = TL_FLOW_OK;
    return true;
}
