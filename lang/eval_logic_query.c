/* lang/eval_logic_query.c -- queries (`Atom?`, `Atom? where c, ..`), `infer
** forward|backward Atom?`, `with T { }`, and atoms used as expressions.
**
** A query prints in the original's format:
**     Query: Ancestor(alice, X)
**       Found 2 solution(s)
**       Solution 1:
**         X = bob
**       ...
** ("  No solutions found" when there is none; a ground query that holds
** prints "  Solution 1: Yes").  Plain queries and `infer backward` run the
** tabled goal-directed solver; `infer forward` computes (or reuses) the whole
** forward model and reads the answer from it. */
#include "lang/eval_logic.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct query {
    int rel, arity;
    int32_t pattern[TL_REL_MAX_ARITY]; /* >= 0 constant, -1 free, -2 impossible */
    int var_at[TL_REL_MAX_ARITY];      /* argument -> query variable, or -1 */
    const char *vname[TL_REL_MAX_ARITY];
    int n_vars;
} query;

static bool looks_like_var(const tl_relation *r, const char *s) {
    if (isupper((unsigned char)s[0]) || s[0] == '_' || s[1] == 0) return true;
    for (int a = 0; a < r->arity; a++)
        if (r->param[a] && strcasecmp(r->param[a], s) == 0) return true;
    return false;
}

static tl_flow compile_query(tl_interp *I, tl_logic *L, const tl_node *e, query *q) {
    memset(q, 0, sizeof *q);
    if (!(e && e->kind == TL_N_CALL && e->a && e->a->kind == TL_N_IDENT))
        return tl_err_at(I, e, TL_ERR_ARG, "a query must be an atom like Parent(alice, X)?");
    q->rel = tl_logic_find_relation(L, e->a->name);
    if (q->rel < 0)
        return tl_err_at(I, e, TL_ERR_ARG,
                         "unknown relation '%s' (declare it with `relation %s(...)`)", e->a->name,
                         e->a->name);
    const tl_relation *r = &L->rel[q->rel];
    q->arity = r->arity;
    int n = (int)tl_node_list_len(e->b);
    if (n != r->arity)
        return tl_err_at(I, e, TL_ERR_ARG, "relation %s takes %d argument%s, got %d", r->name,
                         r->arity, r->arity == 1 ? "" : "s", n);
    int a = 0;
    for (const tl_node *t = e->b; t; t = t->next, a++) {
        q->var_at[a] = -1;
        q->pattern[a] = -1;
        if (t->kind == TL_N_IDENT && strcmp(t->name, "_") == 0) continue;
        char buf[32];
        const char *s = t->name;
        if (t->kind == TL_N_INT)
            snprintf(buf, sizeof buf, "%lld", (long long)t->v.i), s = buf;
        else if (t->kind == TL_N_UNARY && t->op == TL_OP_NEG && t->a->kind == TL_N_INT)
            snprintf(buf, sizeof buf, "%lld", -(long long)t->a->v.i), s = buf;
        else if (t->kind != TL_N_IDENT && t->kind != TL_N_STRING)
            return tl_err_at(I, t, TL_ERR_ARG,
                             "a query argument must be a variable, an entity name, a string or "
                             "an integer");
        tl_var *sv = t->kind == TL_N_IDENT ? tl_scope_lookup(I, s) : NULL;
        if (sv) { /* a variable of the program: its value is the constant */
            if (sv->v.kind == TL_VAL_STRING)
                s = sv->v.as.str->data;
            else if (sv->v.kind == TL_VAL_INT)
                snprintf(buf, sizeof buf, "%lld", (long long)sv->v.as.i), s = buf;
            else
                return tl_err_at(I, t, TL_ERR_TYPE,
                                 "'%s' holds a %s; a query argument needs a string or an int",
                                 t->name, tl_value_type_name(&sv->v));
            int32_t cid = tl_logic_lookup(L, s);
            q->pattern[a] = cid >= 0 ? cid : -2;
            continue;
        }
        int32_t id = tl_logic_lookup(L, s);
        if (t->kind == TL_N_IDENT && id < 0) {
            if (!looks_like_var(r, s))
                return tl_err_at(I, t, TL_ERR_ARG,
                                 "unknown entity '%s' in a query (a variable is capitalised, one "
                                 "letter, or a parameter name of %s)",
                                 s, r->name);
            int v = 0;
            while (v < q->n_vars && strcmp(q->vname[v], s) != 0)
                v++;
            if (v == q->n_vars) q->vname[q->n_vars++] = t->name;
            q->var_at[a] = v;
            continue;
        }
        q->pattern[a] = id >= 0 ? id : -2;
    }
    return TL_FLOW_OK;
}

/* the text of a where-term for one solution */
static tl_flow where_term(tl_interp *I, tl_logic *L, const query *q, const tl_node *t,
                          const int32_t *sol, char *buf, size_t cap, const char **out) {
    if (t->kind == TL_N_IDENT) {
        for (int v = 0; v < q->n_vars; v++)
            if (strcmp(q->vname[v], t->name) == 0) {
                *out = tl_logic_name(L, sol[v]);
                return TL_FLOW_OK;
            }
        if (tl_logic_lookup(L, t->name) < 0)
            return tl_err_at(I, t, TL_ERR_ARG,
                             "'%s' in a where-constraint is neither a variable of the query nor "
                             "a known entity",
                             t->name);
        *out = t->name;
    } else if (t->kind == TL_N_INT) {
        snprintf(buf, cap, "%lld", (long long)t->v.i);
        *out = buf;
    } else if (t->kind == TL_N_UNARY && t->op == TL_OP_NEG && t->a->kind == TL_N_INT) {
        snprintf(buf, cap, "%lld", -(long long)t->a->v.i);
        *out = buf;
    } else if (t->kind == TL_N_STRING) {
        *out = t->name;
    } else {
        return tl_err_at(I, t, TL_ERR_ARG,
                         "a where-constraint compares query variables, entity names, strings or "
                         "integers");
    }
    return TL_FLOW_OK;
}

static tl_flow where_ok(tl_interp *I, tl_logic *L, const query *q, const tl_node *w,
                        const int32_t *sol, bool *ok) {
    *ok = true;
    for (; w && *ok; w = w->next) {
        if (!(w->kind == TL_N_BINARY &&
              (w->op == TL_OP_EQ || w->op == TL_OP_NE || w->op == TL_OP_LT || w->op == TL_OP_LE ||
               w->op == TL_OP_GT || w->op == TL_OP_GE)))
            return tl_err_at(I, w, TL_ERR_ARG,
                             "a where-constraint is a comparison (==, !=, <, <=, >, >=)");
        char ba[32], bb[32];
        const char *a, *b;
        tl_flow fl = where_term(I, L, q, w->a, sol, ba, sizeof ba, &a);
        if (fl == TL_FLOW_OK) fl = where_term(I, L, q, w->b, sol, bb, sizeof bb, &b);
        if (fl != TL_FLOW_OK) return fl;
        int c = tl_logic_compare_names(a, b);
        switch (w->op) {
        case TL_OP_EQ:
            *ok = strcmp(a, b) == 0;
            break;
        case TL_OP_NE:
            *ok = strcmp(a, b) != 0;
            break;
        case TL_OP_LT:
            *ok = c < 0;
            break;
        case TL_OP_LE:
            *ok = c <= 0;
            break;
        case TL_OP_GT:
            *ok = c > 0;
            break;
        default:
            *ok = c >= 0;
            break;
        }
    }
    return TL_FLOW_OK;
}

static int n_cmp_vars;
static int cmp_sol(const void *x, const void *y) {
    const int32_t *a = x, *b = y;
    for (int i = 0; i < n_cmp_vars; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* Runs q; *sols = n_sols rows of q->n_vars ids (distinct, sorted, where-filtered). */
static tl_flow solve(tl_interp *I, tl_logic *L, const tl_node *site, const query *q,
                     const tl_node *where, bool forward, int32_t **sols, size_t *n_sols,
                     tl_dl_stats *stats) {
    *sols = NULL;
    *n_sols = 0;
    for (int a = 0; a < q->arity; a++)
        if (q->pattern[a] == -2) return TL_FLOW_OK;
    tl_logic_prog lp;
    tl_flow fl = tl_logic_compile(I, L, &lp);
    if (fl != TL_FLOW_OK) return fl;
    tl_dl_error err = {.rule = -1, .lit = -1, .var = -1};
    tl_rel ans = {0};
    const tl_rel *src;
    tl_status st;
    if (forward) {
        st = tl_logic_model(L, &lp.p, &err);
        if (stats) *stats = L->model_stats;
        src = st == TL_OK ? &L->model[q->rel] : NULL;
    } else {
        st = tl_dl_query(&lp.p, q->rel, q->pattern, &ans, stats, &err);
        src = &ans;
    }
    if (st != TL_OK) {
        fl = tl_logic_report(I, &lp, site, &err, st);
        tl_logic_prog_free(&lp);
        return fl;
    }
    int nv = q->n_vars;
    int32_t *out = malloc((src->n + 1) * (size_t)(nv ? nv : 1) * sizeof *out);
    if (!out) fl = tl_err_at(I, site, TL_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < src->n && fl == TL_FLOW_OK; i++) {
        const int32_t *t = src->tup + i * (size_t)q->arity;
        int32_t row[TL_REL_MAX_ARITY];
        bool ok = true;
        for (int v = 0; v < nv; v++)
            row[v] = -1;
        for (int a = 0; a < q->arity && ok; a++) {
            if (q->pattern[a] >= 0)
                ok = t[a] == q->pattern[a];
            else if (q->var_at[a] >= 0) {
                int v = q->var_at[a];
                if (row[v] >= 0 && row[v] != t[a]) ok = false;
                row[v] = t[a];
            }
        }
        if (ok && where) fl = where_ok(I, L, q, where, row, &ok);
        if (ok && fl == TL_FLOW_OK) memcpy(out + k++ * (size_t)nv, row, (size_t)nv * sizeof *row);
    }
    tl_rel_free(&ans);
    tl_logic_prog_free(&lp);
    if (fl != TL_FLOW_OK) {
        free(out);
        return fl;
    }
    if (nv == 0) k = k ? 1 : 0;
    n_cmp_vars = nv;
    if (nv) qsort(out, k, (size_t)nv * sizeof *out, cmp_sol);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || cmp_sol(out + (m - 1) * nv, out + i * nv) != 0) {
            if (m != i) memcpy(out + m * nv, out + i * nv, (size_t)nv * sizeof *out);
            m++;
        }
    *sols = out;
    *n_sols = nv ? m : k;
    return TL_FLOW_OK;
}

static void atom_text(tl_strbuf *b, const tl_node *e) {
    tl_strbuf_printf(b, "%s(", e->a->name);
    for (const tl_node *t = e->b; t; t = t->next) {
        if (t != e->b) tl_strbuf_puts(b, ", ");
        if (t->kind == TL_N_STRING)
            tl_strbuf_printf(b, "\"%s\"", t->name);
        else if (t->kind == TL_N_INT)
            tl_strbuf_printf(b, "%lld", (long long)t->v.i);
        else if (t->kind == TL_N_IDENT)
            tl_strbuf_puts(b, t->name);
        else
            tl_strbuf_puts(b, "...");
    }
    tl_strbuf_putc(b, ')');
}

static tl_flow run_query(tl_interp *I, const tl_node *stmt, const tl_node *atom,
                         const tl_node *where, int mode /* 0 query, 1 forward, 2 backward */) {
    tl_logic *L = tl_interp_logic(I);
    if (!L) return tl_err_at(I, stmt, TL_ERR_NOMEM, "out of memory");
    query q;
    tl_flow fl = compile_query(I, L, atom, &q);
    if (fl != TL_FLOW_OK) return fl;
    int32_t *sols;
    size_t n;
    tl_dl_stats stats = {0};
    fl = solve(I, L, atom, &q, where, mode == 1, &sols, &n, &stats);
    if (fl != TL_FLOW_OK) return fl;
    tl_strbuf b = {0};
    if (mode == 1)
        tl_strbuf_printf(&b,
                         "Forward chaining: fixpoint after %lld round%s (%lld fact%s derived)\n",
                         (long long)stats.rounds, stats.rounds == 1 ? "" : "s",
                         (long long)stats.derived, stats.derived == 1 ? "" : "s");
    if (mode == 2) tl_strbuf_puts(&b, "Backward chaining: top-down with tabling\n");
    tl_strbuf_puts(&b, "Query: ");
    atom_text(&b, atom);
    tl_strbuf_putc(&b, '\n');
    if (n == 0) {
        tl_strbuf_puts(&b, "  No solutions found\n");
    } else {
        tl_strbuf_printf(&b, "  Found %zu solution(s)\n", n);
        for (size_t i = 0; i < n; i++) {
            if (q.n_vars == 0) {
                tl_strbuf_printf(&b, "  Solution %zu: Yes\n", i + 1);
                continue;
            }
            tl_strbuf_printf(&b, "  Solution %zu:\n", i + 1);
            for (int v = 0; v < q.n_vars; v++)
                tl_strbuf_printf(&b, "    %s = %s\n", q.vname[v],
                                 tl_logic_name(L, sols[i * (size_t)q.n_vars + v]));
        }
    }
    tl_interp_write(I, tl_strbuf_cstr(&b), b.len, true);
    tl_strbuf_free(&b);
    free(sols);
    return TL_FLOW_OK;
}

tl_flow tl_logic_stmt(tl_interp *I, const tl_node *n) {
    switch (n->kind) {
    case TL_S_QUERY:
        return run_query(I, n, n->a, n->b, 0);
    case TL_S_INFER:
        if (strcmp(n->name, "forward") == 0) return run_query(I, n, n->a, NULL, 1);
        if (strcmp(n->name, "backward") == 0) return run_query(I, n, n->a, NULL, 2);
        return tl_err_at(I, n, TL_ERR_UNSUPPORTED,
                         "infer %s is not supported (use infer forward or infer backward)",
                         n->name);
    case TL_S_WITH: {
        tl_logic *L = tl_interp_logic(I);
        if (!L) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
        int d = tl_logic_find_domain(L, n->name);
        if (d < 0)
            return tl_err_at(I, n, TL_ERR_ARG, "with %s: unknown entity type '%s'", n->name,
                             n->name);
        int saved = L->with_dom;
        L->with_dom = d;
        tl_flow fl = tl_exec_block(I, n->b, NULL);
        L->with_dom = saved;
        return fl;
    }
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "not a logic statement");
    }
}

tl_flow tl_logic_atom_value(tl_interp *I, const tl_node *call, tl_value *out) {
    *out = TL_VOID;
    tl_logic *L = I->logic;
    query q;
    tl_flow fl = compile_query(I, L, call, &q);
    if (fl != TL_FLOW_OK) return fl;
    int32_t *sols;
    size_t n;
    fl = solve(I, L, call, &q, NULL, false, &sols, &n, NULL);
    if (fl != TL_FLOW_OK) return fl;
    if (q.n_vars == 0) {
        free(sols);
        *out = tl_value_bool(n > 0);
        return TL_FLOW_OK;
    }
    tl_status st = tl_value_array(n, out);
    for (size_t i = 0; i < n && st == TL_OK; i++) {
        tl_value row;
        if (q.n_vars == 1) {
            st = tl_value_cstring(tl_logic_name(L, sols[i]), &row);
        } else {
            st = tl_value_array((size_t)q.n_vars, &row);
            for (int v = 0; v < q.n_vars && st == TL_OK; v++) {
                tl_value s;
                st = tl_value_cstring(tl_logic_name(L, sols[i * (size_t)q.n_vars + v]), &s);
                if (st == TL_OK) st = tl_array_push(row.as.arr, s);
            }
        }
        if (st == TL_OK)
            st = tl_array_push(out->as.arr, row);
        else
            tl_value_release(&row);
    }
    free(sols);
    if (st != TL_OK) {
        tl_value_release(out);
        return tl_err_status(I, call, st);
    }
    return TL_FLOW_OK;
}
