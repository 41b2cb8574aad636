/* lang/builtins/logic.c -- logic programming builtins (docs/logic.md):
**   load_facts(rel, path)                  bulk facts from a CSV / TSV file
**   facts_from_tensor(rel, T[, threshold]) a tensor as a relation (T > threshold)
**   relation_tensor(rel)                   a relation as a 0/1 f32 tensor
**   logic_max_rounds(n)                    the forward-chaining round cap
**   relation_storage(rel)                  "dense" or "sparse" (the facts' form)
**   relation_size(rel)                     number of tuples in the forward model
**   entity_index(type, name), entity_name(type, i), entity_count(type),
**   entity_dim(type) (= entity_count), entity_onehot(type, name) */
#include "lang/builtin.h"
#include "lang/eval_logic.h"

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
    if (tl_logic_model_at(I, L, NULL) != TL_FLOW_OK) {
        I->has_err = false; /* the builtin reports it through its status */
        return tl_fail(TL_ERR_ARG, "%s", tl_last_error());
    }
    return TL_OK;
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
    if (st == TL_OK && ferror(f))
        st = tl_fail(TL_ERR_IO, "load_facts: cannot read '%s': %s", path,
                     strerror(errno ? errno : EIO)); /* e.g. a directory */
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
    int64_t added = 0;
    if (st == TL_OK) st = tl_logic_from_tensor(L, r, t, thr, &added);
    if (st == TL_OK) *out = tl_value_int(added);
    return st;
}

static tl_status b_relation_tensor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_logic *L;
    int r;
    tl_tensor *t;
    tl_status st = get_rel(c, argv, &L, &r);
    if (st == TL_OK) st = model(c, L);
    if (st == TL_OK) st = tl_logic_tensor_of(L, r, &t);
    if (st == TL_OK) *out = tl_value_tensor(t);
    return st;
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

/* entity_onehot(type, name): f32 [entity_count(type)], 1 at the entity's index */
static tl_status b_entity_onehot(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_value k = {0};
    tl_status st = b_entity_index(c, argc, argv, &k);
    if (st != TL_OK) return st;
    tl_logic *L;
    int d;
    if ((st = get_dom(c, argv, &L, &d)) != TL_OK) return st;
    int64_t shape[1] = {(int64_t)tl_logic_domain_size(L, d)};
    tl_tensor *t;
    if ((st = tl_tensor_new_shape(TL_DTYPE_F32, 1, shape, &t)) != TL_OK) return st;
    float *x = tl_tensor_data(t);
    memset(x, 0, (size_t)shape[0] * sizeof *x);
    x[k.as.i] = 1.0f;
    *out = tl_value_tensor(t);
    return TL_OK;
}

const tl_builtin_def tl_builtins_logic[] = {
    {"load_facts", 2, 2, b_load_facts, "load_facts(relation, path) -> int new facts", 0},
    {"facts_from_tensor", 2, 3, b_facts_from_tensor,
     "facts_from_tensor(relation, tensor[, threshold = 0.5]) -> int new facts", 0},
    {"relation_tensor", 1, 1, b_relation_tensor, "relation_tensor(relation) -> 0/1 f32 tensor", 0},
    {"logic_max_rounds", 1, 1, b_max_rounds, "logic_max_rounds(n)", 0},
    {"relation_storage", 1, 1, b_storage, "relation_storage(relation) -> \"dense\" | \"sparse\"",
     0},
    {"relation_size", 1, 1, b_size, "relation_size(relation) -> int", 0},
    {"entity_index", 2, 2, b_entity_index, "entity_index(type, name) -> int", 0},
    {"entity_name", 2, 2, b_entity_name, "entity_name(type, index) -> string", 0},
    {"entity_count", 1, 1, b_entity_count, "entity_count(type) -> int", 0},
    {"entity_dim", 1, 1, b_entity_count, "entity_dim(type) -> int (one-hot length)", 0},
    {"entity_onehot", 2, 2, b_entity_onehot, "entity_onehot(type, name) -> f32 tensor", 0},
    {0},
};
