/* lang/builtins/logic.c -- logic programming builtins (docs/logic.md):
**   load_facts(rel, path)                  bulk facts from a CSV / TSV file
**   facts_from_tensor(rel, T[, threshold]) a tensor as a relation (T > threshold)
**   relation_tensor(rel)                   a relation as a 0/1 f32 tensor
**   logic_max_rounds(n)                    the forward-chaining round cap
**   relation_storage(rel)                  "dense" or "sparse" (the facts' form)
**   relation_size(rel)                     number of tuples in the forward model
**   entity_index(type, name), entity_name(type, i), entity_count(type) */
#include "lang/builtin.h"
#include "lang/eval_logic.h"
#include "runtime/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_status get_rel(tl_call *c, const tl_value *argv, tl_logic **L, int *r) {
    const char *name;
    tl_status st = tl_arg_string(c, argv, 0, &name);
    if (st != TL_OK) return st;
    *L = c->interp ? c->interp->logic : NULL;
    *r = *L ? tl_logic_find_relation(*L, name) : -1;
    if (*r < 0) return tl_fail(TL_ERR_ARG, "unknown relation '%s'", name);
    return TL_OK;
}

static tl_status get_dom(tl_call *c, const tl_value *argv, tl_logic **L, int *d) {
    const char *name;
    tl_status st = tl_arg_string(c, argv, 0, &name);
    if (st != TL_OK) return st;
    *L = c->interp ? c->interp->logic : NULL;
    *d = *L ? tl_logic_find_domain(*L, name) : -1;
    if (*d < 0) return tl_fail(TL_ERR_ARG, "unknown entity type '%s'", name);
    return TL_OK;
}

/* The forward model of every relation (compiled from the current rules). */
static tl_status model(tl_call *c, tl_logic *L) {
    tl_interp *I = c->interp;
    tl_logic_prog lp;
    if (tl_logic_compile(I, L, &lp) != TL_FLOW_OK) {
        I->has_err = false; /* the builtin reports it through its status */
        return tl_fail(TL_ERR_ARG, "%s", tl_last_error());
    }
    tl_dl_error err;
    tl_status st = tl_logic_model(L, &lp.p, &err);
    tl_logic_prog_free(&lp);
    return st;
}

static tl_status b_load_facts(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int r;
    const char *path;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &path);
    if (st != TL_OK) return st;
    FILE *f = fopen(path, "r");
    if (!f) return tl_fail(TL_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    char line[4096];
    int64_t lineno = 0, added = 0;
    int arity = L->rel[r].arity;
    while (st == TL_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = tl_fail(TL_ERR_FORMAT, "%s:%lld: line longer than %zu bytes", path,
                         (long long)lineno, sizeof line - 2);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0 || line[0] == '#') continue;
        char sep = strchr(line, '\t') ? '\t' : ',';
        const char *field[TL_REL_MAX_ARITY];
        int n = 0;
        char *s = line;
        for (;;) {
            char *e = strchr(s, sep);
            if (e) *e = 0;
            while (*s == ' ')
                s++;
            size_t k = strlen(s);
            while (k && s[k - 1] == ' ')
                s[--k] = 0;
            if (n < TL_REL_MAX_ARITY) field[n] = s;
            n++;
            if (!e) break;
            s = e + 1;
        }
        if (n != arity) {
            st = tl_fail(TL_ERR_FORMAT, "%s:%lld: %d field%s, relation %s takes %d", path,
                         (long long)lineno, n, n == 1 ? "" : "s", L->rel[r].name, arity);
            break;
        }
        for (int a = 0; a < n && st == TL_OK; a++)
            if (!field[a][0])
                st = tl_fail(TL_ERR_FORMAT, "%s:%lld: field %d is empty", path, (long long)lineno,
                             a + 1);
        bool fresh = false;
        if (st == TL_OK) st = tl_logic_add_fact_names(L, r, field, &fresh);
        if (st != TL_OK && lineno) tl_error_prefix("%s:%lld", path, (long long)lineno);
        added += fresh;
    }
    if (st == TL_OK && ferror(f)) st = tl_fail(TL_ERR_IO, "reading '%s' failed", path);
    fclose(f);
    if (st == TL_OK) *out = tl_value_int(added);
    return st;
}

static tl_status b_facts_from_tensor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_logic *L;
    int r;
    tl_tensor *t;
    double thr = 0.5;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = tl_arg_tensor(c, argv, 1, &t);
    if (st == TL_OK && argc > 2) st = tl_arg_double(c, argv, 2, &thr);
    if (st != TL_OK) return st;
    const tl_relation *rel = &L->rel[r];
    if (t->n_dims != rel->arity)
        return tl_fail(TL_ERR_SHAPE, "relation %s has %d arguments, the tensor %d dimensions",
                       rel->name, rel->arity, t->n_dims);
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(t, shape);
    for (int a = 0; a < rel->arity; a++) {
        size_t n = tl_logic_domain_size(L, rel->dom[a]);
        if ((size_t)shape[a] > n)
            return tl_fail(TL_ERR_SHAPE,
                           "dimension %d of the tensor has %lld entries but %s has %zu entities",
                           a, (long long)shape[a],
                           rel->dom[a] >= 0 ? L->dom[rel->dom[a]].name : "entity", n);
    }
    tl_tensor *f;
    if ((st = tl_op_cast(t, TL_DTYPE_F32, &f)) != TL_OK) return st;
    tl_tensor *fc;
    st = tl_op_contiguous(f, &fc);
    tl_tensor_unref(f);
    if (st != TL_OK) return st;
    const float *x = tl_tensor_data(fc);
    int64_t total = tl_tensor_nelements(fc), added = 0;
    for (int64_t i = 0; i < total && st == TL_OK; i++) {
        if (!(x[i] > thr)) continue;
        int32_t tu[TL_REL_MAX_ARITY];
        int64_t rem = i;
        for (int a = rel->arity - 1; a >= 0; a--) {
            tu[a] = tl_logic_domain_member(L, rel->dom[a], (size_t)(rem % shape[a]));
            rem /= shape[a];
        }
        bool fresh;
        st = tl_logic_add_fact(L, r, tu, &fresh);
        added += fresh;
    }
    tl_tensor_unref(fc);
    if (st == TL_OK) *out = tl_value_int(added);
    return st;
}

static tl_status b_relation_tensor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int r;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = model(c, L);
    if (st != TL_OK) return st;
    const tl_relation *rel = &L->rel[r];
    int64_t shape[TL_REL_MAX_ARITY], total = 1;
    if (rel->arity > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "relation %s has more than %d arguments", rel->name,
                       TL_MAX_DIMS);
    for (int a = 0; a < rel->arity; a++) {
        shape[a] = (int64_t)tl_logic_domain_size(L, rel->dom[a]);
        if (shape[a] == 0) shape[a] = 1;
        total *= shape[a];
        if (total > ((int64_t)1 << 28))
            return tl_fail(TL_ERR_NOMEM, "relation %s as a dense tensor would hold over 2^28 entries",
                           rel->name);
    }
    tl_tensor *t;
    if ((st = tl_tensor_new_shape(TL_DTYPE_F32, rel->arity, shape, &t)) != TL_OK) return st;
    float *x = tl_tensor_data(t);
    const tl_rel *m = &L->model[r];
    for (size_t i = 0; i < m->n; i++) {
        int64_t off = 0;
        bool ok = true;
        for (int a = 0; a < rel->arity; a++) {
            int64_t k = tl_logic_entity_index(L, rel->dom[a], m->tup[i * (size_t)rel->arity + a]);
            if (k < 0 || k >= shape[a]) ok = false;
            off = off * shape[a] + k;
        }
        if (ok) x[off] = 1.0f;
    }
    *out = tl_value_tensor(t);
    return TL_OK;
}

static tl_status b_max_rounds(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t n;
    tl_status st = tl_arg_int(c, argv, 0, &n);
    if (st != TL_OK) return st;
    if (n < 1) return tl_fail(TL_ERR_ARG, "the round cap must be >= 1, got %lld", (long long)n);
    tl_logic *L = tl_interp_logic(c->interp);
    if (!L) return tl_fail(TL_ERR_NOMEM, "out of memory");
    L->max_rounds = n;
    tl_logic_invalidate(L);
    *out = TL_VOID;
    return TL_OK;
}

static tl_status b_storage(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int r;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = model(c, L);
    if (st != TL_OK) return st;
    return tl_value_cstring(tl_rel_is_dense(&L->model[r]) ? "dense" : "sparse", out);
}

static tl_status b_size(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int r;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = model(c, L);
    if (st != TL_OK) return st;
    *out = tl_value_int((int64_t)L->model[r].n);
    return TL_OK;
}

static tl_status b_entity_index(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int d;
    const char *name;
    tl_status st = get_dom(c, argv, &L, &d);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &name);
    if (st != TL_OK) return st;
    int32_t id = tl_logic_lookup(L, name);
    int64_t k = id < 0 ? -1 : tl_logic_entity_index(L, d, id);
    if (k < 0) return tl_fail(TL_ERR_ARG, "'%s' is not an entity of %s", name, L->dom[d].name);
    *out = tl_value_int(k);
    return TL_OK;
}

static tl_status b_entity_name(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int d;
    int64_t i;
    tl_status st = get_dom(c, argv, &L, &d);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &i);
    if (st != TL_OK) return st;
    if (i < 0 || (size_t)i >= tl_logic_domain_size(L, d))
        return tl_fail(TL_ERR_RANGE, "%s has %zu entities, index %lld is out of range",
                       L->dom[d].name, tl_logic_domain_size(L, d), (long long)i);
    return tl_value_cstring(tl_logic_name(L, tl_logic_domain_member(L, d, (size_t)i)), out);
}

static tl_status b_entity_count(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int d;
    tl_status st = get_dom(c, argv, &L, &d);
    if (st != TL_OK) return st;
    *out = tl_value_int((int64_t)tl_logic_domain_size(L, d));
    return TL_OK;
}

const tl_builtin_def tl_builtins_logic[] = {
    {"load_facts", 2, 2, b_load_facts, "load_facts(relation, path) -> int new facts", 0},
    {"facts_from_tensor", 2, 3, b_facts_from_tensor,
     "facts_from_tensor(relation, tensor[, threshold = 0.5]) -> int new facts", 0},
    {"relation_tensor", 1, 1, b_relation_tensor, "relation_tensor(relation) -> 0/1 f32 tensor", 0},
    {"logic_max_rounds", 1, 1, b_max_rounds, "logic_max_rounds(n)", 0},
    {"relation_storage", 1, 1, b_storage, "relation_storage(relation) -> \"dense\" | \"sparse\"", 0},
    {"relation_size", 1, 1, b_size, "relation_size(relation) -> int", 0},
    {"entity_index", 2, 2, b_entity_index, "entity_index(type, name) -> int", 0},
    {"entity_name", 2, 2, b_entity_name, "entity_name(type, index) -> string", 0},
    {"entity_count", 1, 1, b_entity_count, "entity_count(type) -> int", 0},
    {0},
};
