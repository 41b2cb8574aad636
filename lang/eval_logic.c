/* lang/eval_logic.c -- logic declarations, facts, and the translation of
** rules into runtime/datalog.h programs (see eval_logic.h, docs/logic.md).
**
** Terms.  In a rule, an identifier is a constant when it names a known entity
** (any symbol seen so far: declared, asserted or quoted), `_` is a fresh
** variable, and any other identifier is a variable.  Strings and integers are
** always constants.  Queries use the same rule, except that an unknown
** lowercase identifier must look like a variable (one letter, or a parameter
** name of the relation): otherwise it is reported as an unknown entity, so a
** misspelt name is never silently a variable. */
#include "lang/eval_logic.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tl_logic *tl_interp_logic(tl_interp *I) {
    if (!I->logic) I->logic = tl_logic_new();
    return I->logic;
}

static void *lp_alloc(tl_logic_prog *lp, size_t bytes) {
    if (lp->n_blocks == lp->cap_blocks) {
        int cap = lp->cap_blocks ? 2 * lp->cap_blocks : 64;
        void **nb = realloc(lp->blocks, (size_t)cap * sizeof *nb);
        if (!nb) return NULL;
        lp->blocks = nb;
        lp->cap_blocks = cap;
    }
    void *m = calloc(1, bytes ? bytes : 1);
    if (m) lp->blocks[lp->n_blocks++] = m;
    return m;
}

void tl_logic_prog_free(tl_logic_prog *lp) {
    for (int i = 0; i < lp->n_blocks; i++)
        free(lp->blocks[i]);
    free(lp->blocks);
    memset(lp, 0, sizeof *lp);
}

/* ------------------------------------------------------------------ declarations */

static tl_flow declare_entity(tl_interp *I, tl_logic *L, const tl_node *n) {
    if (tl_logic_find_domain(L, n->name) >= 0)
        return tl_err_at(I, n, TL_ERR_ARG, "entity type '%s' is already declared", n->name);
    int d;
    tl_status st = tl_logic_new_domain(L, n->name, n->op == 1, &d);
    for (const tl_node *m = n->a; m && st == TL_OK; m = m->next) {
        int32_t id = tl_logic_intern(L, m->name);
        if (id < 0) return tl_err_at(I, m, TL_ERR_NOMEM, "out of memory");
        if (tl_logic_in_domain(L, d, id))
            return tl_err_at(I, m, TL_ERR_ARG, "'%s' is listed twice in entity %s", m->name,
                             n->name);
        st = tl_logic_domain_add(L, d, id);
    }
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}

static tl_flow declare_relation(tl_interp *I, tl_logic *L, const tl_node *n) {
    if (tl_logic_find_relation(L, n->name) >= 0)
        return tl_err_at(I, n, TL_ERR_ARG, "relation '%s' is already declared", n->name);
    if (tl_find_fn(I, n->name))
        return tl_err_at(I, n, TL_ERR_ARG, "relation '%s' has the name of a function", n->name);
    int arity = (int)tl_node_list_len(n->a);
    if (arity > TL_REL_MAX_ARITY)
        return tl_err_at(I, n, TL_ERR_ARG, "relation '%s' has %d arguments (at most %d)", n->name,
                         arity, TL_REL_MAX_ARITY);
    if (L->n_rel == L->cap_rel) {
        int cap = L->cap_rel ? 2 * L->cap_rel : 16;
        tl_relation *nr = realloc(L->rel, (size_t)cap * sizeof *nr);
        if (!nr) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        L->rel = nr;
        L->cap_rel = cap;
    }
    tl_relation r = {.arity = arity, .decl = n};
    int a = 0;
    for (const tl_node *p = n->a; p; p = p->next, a++) {
        r.param[a] = p->name;
        r.dom[a] = -1;
        for (const tl_node *q = n->a; q != p; q = q->next)
            if (strcmp(q->name, p->name) == 0)
                return tl_err_at(I, p, TL_ERR_ARG, "relation %s: parameter '%s' is repeated",
                                 n->name, p->name);
        const tl_node *ty = p->c;
        if (!ty || strcmp(ty->name, "entity") == 0 || strcmp(ty->name, "concept") == 0) continue;
        if (ty->kind == TL_T_TENSOR)
            return tl_err_at(I, ty, TL_ERR_UNSUPPORTED,
                             "relation arguments are entities; a tensor-typed argument (%s) is "
                             "not supported",
                             p->name);
        int d = tl_logic_find_domain(L, ty->name);
        if (d < 0) {
            static const char *const scalars[] = {"int", "float", "string", "bool",
                                                  "i32", "i64",   "f32",    "f64"};
            bool scalar = false;
            for (size_t k = 0; k < sizeof scalars / sizeof *scalars; k++)
                scalar |= strcmp(ty->name, scalars[k]) == 0;
            if (!scalar)
                return tl_err_at(I, ty, TL_ERR_ARG,
                                 "unknown entity type '%s' (declare it with `entity %s` or "
                                 "`entity %s = {...}`)",
                                 ty->name, ty->name, ty->name);
            if (tl_logic_new_domain(L, ty->name, false, &d) != TL_OK)
                return tl_err_status(I, ty, TL_ERR_NOMEM);
        }
        r.dom[a] = d;
    }
    r.name = strdup(n->name);
    if (!r.name) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    tl_status st = tl_rel_init(&r.facts, arity, 4096);
    if (st != TL_OK) {
        free(r.name);
        return tl_err_status(I, n, st);
    }
    L->rel[L->n_rel++] = r;
    tl_logic_invalidate(L);
    return TL_FLOW_OK;
}

static bool is_atom_node(const tl_node *e) {
    return e && e->kind == TL_N_CALL && e->a && e->a->kind == TL_N_IDENT;
}

static tl_flow check_atom(tl_interp *I, tl_logic *L, const tl_node *e, const char *what) {
    if (!is_atom_node(e))
        return tl_err_at(I, e, TL_ERR_ARG, "%s must be an atom like Parent(x, y)", what);
    int r = tl_logic_find_relation(L, e->a->name);
    if (r < 0)
        return tl_err_at(I, e, TL_ERR_ARG,
                         "unknown relation '%s' (declare it with `relation %s(...)`)", e->a->name,
                         e->a->name);
    size_t n = tl_node_list_len(e->b);
    if ((int)n != L->rel[r].arity)
        return tl_err_at(I, e, TL_ERR_ARG, "relation %s takes %d argument%s, got %zu",
                         L->rel[r].name, L->rel[r].arity, L->rel[r].arity == 1 ? "" : "s", n);
    for (const tl_node *t = e->b; t; t = t->next) {
        bool ok = t->kind == TL_N_IDENT || t->kind == TL_N_STRING || t->kind == TL_N_INT ||
                  (t->kind == TL_N_UNARY && t->op == TL_OP_NEG && t->a->kind == TL_N_INT);
        if (!ok)
            return tl_err_at(I, t, TL_ERR_ARG,
                             "an argument of %s in a rule or query must be a variable, an entity "
                             "name, a string or an integer",
                             L->rel[r].name);
    }
    return TL_FLOW_OK;
}

static bool is_cmp(const tl_node *e) {
    return e && e->kind == TL_N_BINARY &&
           (e->op == TL_OP_EQ || e->op == TL_OP_NE || e->op == TL_OP_LT || e->op == TL_OP_LE ||
            e->op == TL_OP_GT || e->op == TL_OP_GE);
}

static bool is_term(const tl_node *t) {
    return t->kind == TL_N_IDENT || t->kind == TL_N_STRING || t->kind == TL_N_INT ||
           (t->kind == TL_N_UNARY && t->op == TL_OP_NEG && t->a->kind == TL_N_INT);
}

/* a rule body literal: an atom, `not` atom, or a comparison of terms */
static tl_flow check_lit(tl_interp *I, tl_logic *L, const tl_node *e) {
    if (e->kind == TL_N_UNARY && e->op == TL_OP_NOT)
        return check_atom(I, L, e->a, "a negated literal");
    if (is_cmp(e)) {
        if (!is_term(e->a) || !is_term(e->b))
            return tl_err_at(I, e, TL_ERR_ARG,
                             "a comparison in a rule compares variables or constants");
        return TL_FLOW_OK;
    }
    if (is_atom_node(e)) return check_atom(I, L, e, "a body literal");
    return tl_err_at(I, e, TL_ERR_ARG,
                     "a rule body holds atoms, `not` atoms and comparisons (==, !=, <, <=, >, >=)");
}

static tl_flow declare_rule(tl_interp *I, tl_logic *L, const tl_node *n) {
    tl_flow fl = check_atom(I, L, n->a, "the head of a rule");
    for (const tl_node *b = n->b; b && fl == TL_FLOW_OK; b = b->next)
        fl = check_lit(I, L, b);
    if (fl != TL_FLOW_OK) return fl;
    if (L->n_rules == L->cap_rules) {
        int cap = L->cap_rules ? 2 * L->cap_rules : 16;
        const tl_node **nr = realloc(L->rules, (size_t)cap * sizeof *nr);
        if (!nr) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        L->rules = nr;
        L->cap_rules = cap;
    }
    L->rules[L->n_rules++] = n;
    tl_logic_invalidate(L);
    return TL_FLOW_OK;
}

tl_flow tl_logic_embedding_decl(tl_interp *I, tl_logic *L, const tl_node *n); /* logic_embed.c */

tl_flow tl_logic_declare(tl_interp *I, const tl_node *n) {
    tl_logic *L = tl_interp_logic(I);
    if (!L) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    switch (n->kind) {
    case TL_D_ENTITY:
        return declare_entity(I, L, n);
    case TL_D_RELATION:
        return declare_relation(I, L, n);
    case TL_D_RULE:
        return declare_rule(I, L, n);
    case TL_D_EMBEDDING:
        return tl_logic_embedding_decl(I, L, n);
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "not a logic declaration");
    }
}

/* ------------------------------------------------------------------ compiling rules */

typedef struct varmap {
    const char *name[256];
    int n;
} varmap;

static int var_of(varmap *m, const char *name) {
    if (strcmp(name, "_") != 0)
        for (int i = 0; i < m->n; i++)
            if (m->name[i] && strcmp(m->name[i], name) == 0) return i;
    if (m->n == 256) return -1;
    m->name[m->n] = strcmp(name, "_") == 0 ? NULL : name;
    return m->n++;
}

static tl_flow const_term(tl_interp *I, tl_logic *L, const tl_node *t, int32_t *out) {
    char buf[32];
    const char *s = t->name;
    if (t->kind == TL_N_INT || t->kind == TL_N_UNARY) {
        snprintf(buf, sizeof buf, "%lld", (long long)(t->kind == TL_N_INT ? t->v.i : -t->a->v.i));
        s = buf;
    }
    *out = tl_logic_intern(L, s);
    return *out < 0 ? tl_err_at(I, t, TL_ERR_NOMEM, "out of memory") : TL_FLOW_OK;
}

static tl_flow compile_term(tl_interp *I, tl_logic *L, const tl_node *t, varmap *vm,
                            tl_dl_term *out) {
    if (t->kind == TL_N_IDENT) {
        int32_t id = strcmp(t->name, "_") == 0 ? -1 : tl_logic_lookup(L, t->name);
        if (id >= 0) {
            *out = (tl_dl_term){.var = -1, .val = id};
            return TL_FLOW_OK;
        }
        int v = var_of(vm, t->name);
        if (v < 0) return tl_err_at(I, t, TL_ERR_ARG, "a rule has more than 256 variables");
        *out = (tl_dl_term){.var = v};
        return TL_FLOW_OK;
    }
    out->var = -1;
    return const_term(I, L, t, &out->val);
}

static tl_flow compile_atom(tl_interp *I, tl_logic *L, tl_logic_prog *lp, const tl_node *e,
                            varmap *vm, int *pred, tl_dl_term **args) {
    tl_flow fl = check_atom(I, L, e, "an atom");
    if (fl != TL_FLOW_OK) return fl;
    *pred = tl_logic_find_relation(L, e->a->name);
    const tl_relation *r = &L->rel[*pred];
    *args = lp_alloc(lp, (size_t)(r->arity + 1) * sizeof **args);
    if (!*args) return tl_err_at(I, e, TL_ERR_NOMEM, "out of memory");
    int a = 0;
    for (const tl_node *t = e->b; t; t = t->next, a++) {
        if ((fl = compile_term(I, L, t, vm, &(*args)[a])) != TL_FLOW_OK) return fl;
        int32_t c = (*args)[a].val;
        int d = r->dom[a];
        if ((*args)[a].var < 0 && d >= 0 && L->dom[d].closed && !tl_logic_in_domain(L, d, c))
            return tl_err_at(I, t, TL_ERR_ARG, "'%s' is not an entity of %s (argument %d of %s)",
                             tl_logic_name(L, c), L->dom[d].name, a + 1, r->name);
    }
    return TL_FLOW_OK;
}

static const tl_dl_cmp_op cmp_of[TL_OP_COUNT] = {
    [TL_OP_EQ] = TL_DL_EQ, [TL_OP_NE] = TL_DL_NE, [TL_OP_LT] = TL_DL_LT,
    [TL_OP_LE] = TL_DL_LE, [TL_OP_GT] = TL_DL_GT, [TL_OP_GE] = TL_DL_GE,
};

static tl_flow compile_rule(tl_interp *I, tl_logic *L, tl_logic_prog *lp, const tl_node *n,
                            int ri) {
    varmap vm = {.n = 0};
    tl_dl_rule *r = &lp->p.rules[ri];
    int nb = (int)tl_node_list_len(n->b);
    r->body = lp_alloc(lp, (size_t)(nb + 1) * sizeof *r->body);
    lp->lit_node[ri] = lp_alloc(lp, (size_t)(nb + 1) * sizeof **lp->lit_node);
    if (!r->body || !lp->lit_node[ri]) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    lp->rule_node[ri] = n;
    tl_flow fl = compile_atom(I, L, lp, n->a, &vm, &r->head, &r->head_args);
    int l = 0;
    for (const tl_node *b = n->b; b && fl == TL_FLOW_OK; b = b->next, l++) {
        tl_dl_lit *li = &r->body[l];
        lp->lit_node[ri][l] = b;
        if (b->kind == TL_N_UNARY && b->op == TL_OP_NOT) {
            li->kind = TL_DL_NEG;
            fl = compile_atom(I, L, lp, b->a, &vm, &li->pred, &li->args);
        } else if (is_cmp(b)) {
            li->kind = TL_DL_CMP;
            li->op = cmp_of[b->op];
            fl = check_lit(I, L, b);
            if (fl == TL_FLOW_OK) fl = compile_term(I, L, b->a, &vm, &li->l);
            if (fl == TL_FLOW_OK) fl = compile_term(I, L, b->b, &vm, &li->r);
        } else {
            li->kind = TL_DL_POS;
            fl = compile_atom(I, L, lp, b, &vm, &li->pred, &li->args);
        }
    }
    if (fl != TL_FLOW_OK) return fl;
    r->n_body = nb;
    r->n_vars = vm.n;
    lp->var_name[ri] = lp_alloc(lp, (size_t)(vm.n + 1) * sizeof(char *));
    if (!lp->var_name[ri]) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    for (int v = 0; v < vm.n; v++)
        lp->var_name[ri][v] = vm.name[v] ? vm.name[v] : "_";
    return TL_FLOW_OK;
}

tl_flow tl_logic_compile(tl_interp *I, tl_logic *L, tl_logic_prog *lp) {
    memset(lp, 0, sizeof *lp);
    lp->p.n_preds = L->n_rel;
    lp->p.preds = lp_alloc(lp, (size_t)(L->n_rel + 1) * sizeof *lp->p.preds);
    lp->p.rules = lp_alloc(lp, (size_t)(L->n_rules + 1) * sizeof *lp->p.rules);
    lp->rule_node = lp_alloc(lp, (size_t)(L->n_rules + 1) * sizeof *lp->rule_node);
    lp->lit_node = lp_alloc(lp, (size_t)(L->n_rules + 1) * sizeof *lp->lit_node);
    lp->var_name = lp_alloc(lp, (size_t)(L->n_rules + 1) * sizeof *lp->var_name);
    if (!lp->p.preds || !lp->p.rules || !lp->rule_node || !lp->lit_node || !lp->var_name) {
        tl_logic_prog_free(lp);
        return tl_err_at(I, NULL, TL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < L->n_rel; i++)
        lp->p.preds[i] = (tl_dl_pred){
            .name = L->rel[i].name, .arity = L->rel[i].arity, .facts = &L->rel[i].facts};
    lp->p.compare = tl_logic_compare;
    lp->p.compare_ctx = L;
    lp->p.max_rounds = L->max_rounds;
    for (int i = 0; i < L->n_rules; i++) {
        tl_flow fl = compile_rule(I, L, lp, L->rules[i], i);
        if (fl != TL_FLOW_OK) {
            tl_logic_prog_free(lp);
            return fl;
        }
        lp->p.n_rules = i + 1;
    }
    lp->p.side = (int64_t)L->n_sym > 0 ? (int64_t)L->n_sym : 1;
    return TL_FLOW_OK;
}

tl_flow tl_logic_report(tl_interp *I, const tl_logic_prog *lp, const tl_node *site,
                        const tl_dl_error *e, tl_status st) {
    if (st != TL_ERR_ARG || !e || e->rule < 0 || e->rule >= lp->p.n_rules)
        return st == TL_ERR_ARG && e ? tl_err_at(I, site, st, "%s", e->msg)
                                     : tl_err_status(I, site, st);
    const tl_node *rn = lp->rule_node[e->rule];
    const tl_node *at = e->lit >= 0 ? lp->lit_node[e->rule][e->lit] : rn->a;
    if (e->var >= 0) {
        const char *v = lp->var_name[e->rule][e->var];
        if (strncmp(e->msg, "unsafe rule: a head", 19) == 0)
            return tl_err_at(I, at, st,
                             "unsafe rule: head variable '%s' is not bound by any positive body "
                             "atom",
                             v);
        return tl_err_at(I, at, st,
                         "unsafe rule: variable '%s' is not bound by any positive body atom (a "
                         "negated atom or comparison cannot bind it)",
                         v);
    }
    return tl_err_at(I, at, st, "%s", e->msg);
}

/* ------------------------------------------------------------------ facts */

bool tl_logic_is_atom(tl_interp *I, const tl_node *call) {
    if (!I->logic || !is_atom_node(call)) return false;
    if (tl_logic_find_relation(I->logic, call->a->name) < 0) return false;
    return !tl_scope_lookup(I, call->a->name);
}

tl_flow tl_logic_fact_arg(tl_interp *I, tl_logic *L, const tl_node *arg, int32_t *out) {
    if (arg->kind == TL_N_IDENT) {
        tl_var *v = tl_scope_lookup(I, arg->name);
        if (!v) {
            *out = tl_logic_intern(L, arg->name);
            return *out < 0 ? tl_err_at(I, arg, TL_ERR_NOMEM, "out of memory") : TL_FLOW_OK;
        }
    }
    tl_value v;
    tl_flow fl = tl_eval_expr(I, arg, &v);
    if (fl != TL_FLOW_OK) return fl;
    char buf[32];
    const char *s = NULL;
    if (v.kind == TL_VAL_STRING)
        s = v.as.str->data;
    else if (v.kind == TL_VAL_INT)
        snprintf(buf, sizeof buf, "%lld", (long long)v.as.i), s = buf;
    if (!s) {
        fl = tl_err_at(I, arg, TL_ERR_TYPE,
                       "a fact's argument must be an entity name, a string or an int, not %s %s",
                       tl_value_type_article(&v), tl_value_type_name(&v));
        tl_value_release(&v);
        return fl;
    }
    *out = tl_logic_intern(L, s);
    tl_value_release(&v);
    return *out < 0 ? tl_err_at(I, arg, TL_ERR_NOMEM, "out of memory") : TL_FLOW_OK;
}

tl_flow tl_logic_fact(tl_interp *I, const tl_node *call) {
    tl_logic *L = I->logic;
    int r = tl_logic_find_relation(L, call->a->name);
    int n = (int)tl_node_list_len(call->b);
    if (n != L->rel[r].arity)
        return tl_err_at(I, call, TL_ERR_ARG, "relation %s takes %d argument%s, got %d",
                         L->rel[r].name, L->rel[r].arity, L->rel[r].arity == 1 ? "" : "s", n);
    int32_t t[TL_REL_MAX_ARITY];
    int a = 0;
    for (const tl_node *x = call->b; x; x = x->next, a++) {
        if (x->kind == TL_N_IDENT && strcmp(x->name, "_") == 0)
            return tl_err_at(I, x, TL_ERR_ARG, "a fact cannot hold a variable ('_')");
        tl_flow fl = tl_logic_fact_arg(I, L, x, &t[a]);
        if (fl != TL_FLOW_OK) return fl;
    }
    tl_status st = tl_logic_add_fact(L, r, t, NULL);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, call, st);
}
