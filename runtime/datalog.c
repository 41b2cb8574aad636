/* runtime/datalog.c -- checks, stratification and semi-naive forward
** chaining (see datalog.h). */
#include "runtime/datalog_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_status dl_err(tl_dl_error *e, int rule, int lit, int var, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static tl_status dl_err(tl_dl_error *e, int rule, int lit, int var, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (e) {
        e->rule = rule;
        e->lit = lit;
        e->var = var;
        snprintf(e->msg, sizeof e->msg, "%s", buf);
    }
    return tl_fail(TL_ERR_ARG, "%s", buf);
}

/* ------------------------------------------------------------------ strata */

typedef struct tarjan {
    const tl_dl_program *p;
    int *index, *low, *stack, *scc;
    bool *on;
    int sp, counter, n_scc;
} tarjan;

/* iterative would be nicer; predicates are few, recursion depth = #preds */
static void strong(tarjan *t, int v) {
    t->index[v] = t->low[v] = t->counter++;
    t->stack[t->sp++] = v;
    t->on[v] = true;
    for (int r = 0; r < t->p->n_rules; r++) {
        const tl_dl_rule *ru = &t->p->rules[r];
        if (ru->head != v) continue;
        for (int l = 0; l < ru->n_body; l++) {
            if (ru->body[l].kind == TL_DL_CMP) continue;
            int w = ru->body[l].pred;
            if (t->index[w] < 0) {
                strong(t, w);
                if (t->low[w] < t->low[v]) t->low[v] = t->low[w];
            } else if (t->on[w] && t->index[w] < t->low[v]) {
                t->low[v] = t->index[w];
            }
        }
    }
    if (t->low[v] == t->index[v]) {
        int w;
        do {
            w = t->stack[--t->sp];
            t->on[w] = false;
            t->scc[w] = t->n_scc;
        } while (w != v);
        t->n_scc++;
    }
}

tl_status tl_dl_sccs(const tl_dl_program *p, int *scc, int *n_scc) {
    int n = p->n_preds;
    tarjan t = {.p = p, .scc = scc};
    t.index = malloc((size_t)(n + 1) * sizeof(int));
    t.low = malloc((size_t)(n + 1) * sizeof(int));
    t.stack = malloc((size_t)(n + 1) * sizeof(int));
    t.on = calloc((size_t)n + 1, sizeof(bool));
    if (!t.index || !t.low || !t.stack || !t.on) {
        free(t.index), free(t.low), free(t.stack), free(t.on);
        return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    }
    for (int i = 0; i < n; i++)
        t.index[i] = -1;
    for (int i = 0; i < n; i++)
        if (t.index[i] < 0) strong(&t, i);
    *n_scc = t.n_scc;
    free(t.index), free(t.low), free(t.stack), free(t.on);
    return TL_OK;
}

/* A path from `from` to `to` inside one component (BFS over body edges),
** written as "from -> ... -> to" into buf. */
static void scc_path(const tl_dl_program *p, const int *scc, int from, int to, char *buf,
                     size_t cap) {
    int n = p->n_preds;
    int *prev = malloc((size_t)n * sizeof(int)), *queue = malloc((size_t)n * sizeof(int));
    int *how = malloc((size_t)n * sizeof(int));
    if (!prev || !queue || !how) {
        snprintf(buf, cap, "%s -> ... -> %s", p->preds[from].name, p->preds[to].name);
        free(prev), free(queue), free(how);
        return;
    }
    for (int i = 0; i < n; i++)
        prev[i] = -2;
    int qh = 0, qt = 0;
    queue[qt++] = from;
    prev[from] = -1;
    how[from] = 0;
    while (qh < qt && prev[to] == -2) {
        int v = queue[qh++];
        for (int r = 0; r < p->n_rules; r++) {
            const tl_dl_rule *ru = &p->rules[r];
            if (ru->head != v) continue;
            for (int l = 0; l < ru->n_body; l++) {
                const tl_dl_lit *li = &ru->body[l];
                if (li->kind == TL_DL_CMP || scc[li->pred] != scc[from]) continue;
                if (prev[li->pred] != -2) continue;
                prev[li->pred] = v;
                how[li->pred] = li->kind == TL_DL_NEG;
                queue[qt++] = li->pred;
            }
        }
    }
    int path[64], np = 0;
    for (int v = to; v >= 0 && np < 64; v = prev[v]) {
        path[np++] = v;
        if (v == from && np > 1) break;
    }
    size_t len = 0;
    buf[0] = 0;
    for (int i = np - 1; i >= 0 && len < cap; i--)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s%s", i == np - 1 ? "" : " -> ",
                                (i < np - 1 && how[path[i]]) ? "not " : "", p->preds[path[i]].name);
    free(prev), free(queue), free(how);
}

tl_status tl_dl_check(const tl_dl_program *p, tl_dl_error *err) {
    for (int r = 0; r < p->n_rules; r++) {
        const tl_dl_rule *ru = &p->rules[r];
        bool *bound = calloc((size_t)ru->n_vars + 1, sizeof(bool));
        if (!bound) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        for (int l = 0; l < ru->n_body; l++)
            if (ru->body[l].kind == TL_DL_POS)
                for (int a = 0; a < p->preds[ru->body[l].pred].arity; a++)
                    if (ru->body[l].args[a].var >= 0) bound[ru->body[l].args[a].var] = true;
        int bad_lit = -2, bad_var = -1;
        for (int a = 0; a < p->preds[ru->head].arity && bad_lit == -2; a++)
            if (ru->head_args[a].var >= 0 && !bound[ru->head_args[a].var])
                bad_lit = -1, bad_var = ru->head_args[a].var;
        for (int l = 0; l < ru->n_body && bad_lit == -2; l++) {
            const tl_dl_lit *li = &ru->body[l];
            if (li->kind == TL_DL_NEG) {
                for (int a = 0; a < p->preds[li->pred].arity; a++)
                    if (li->args[a].var >= 0 && !bound[li->args[a].var]) {
                        bad_lit = l, bad_var = li->args[a].var;
                        break;
                    }
            } else if (li->kind == TL_DL_CMP) {
                if (li->l.var >= 0 && !bound[li->l.var])
                    bad_lit = l, bad_var = li->l.var;
                else if (li->r.var >= 0 && !bound[li->r.var])
                    bad_lit = l, bad_var = li->r.var;
            }
        }
        free(bound);
        if (bad_lit != -2)
            return dl_err(err, r, bad_lit, bad_var,
                          bad_lit == -1 ? "unsafe rule: a head variable is not bound by any "
                                          "positive body atom"
                                        : "unsafe rule: a variable of a negated atom or "
                                          "comparison is not bound by any positive body atom");
    }
    int *scc = malloc((size_t)(p->n_preds + 1) * sizeof(int)), n_scc;
    if (!scc) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    tl_status st = tl_dl_sccs(p, scc, &n_scc);
    for (int r = 0; r < p->n_rules && st == TL_OK; r++) {
        const tl_dl_rule *ru = &p->rules[r];
        for (int l = 0; l < ru->n_body; l++) {
            const tl_dl_lit *li = &ru->body[l];
            if (li->kind != TL_DL_NEG || scc[li->pred] != scc[ru->head]) continue;
            char path[400];
            scc_path(p, scc, li->pred, ru->head, path, sizeof path);
            st = dl_err(err, r, l, -1,
                        "the program is not stratifiable: %s depends on not %s, which depends "
                        "on %s (cycle through negation: %s -> not %s)",
                        p->preds[ru->head].name, p->preds[li->pred].name, p->preds[ru->head].name,
                        path, p->preds[li->pred].name);
            break;
        }
    }
    free(scc);
    return st;
}

/* ------------------------------------------------------------------ joins */

enum { ACT_KEY = 0, ACT_BIND, ACT_SAME };

typedef struct step {
    int lit; /* body literal number */
    uint32_t mask;
    int idx; /* index number, -1: scan */
    int8_t act[TL_REL_MAX_ARITY];
    int8_t same_as[TL_REL_MAX_ARITY];
    uint32_t lo, hi;
} step;

static int popcount_mask(uint32_t m) {
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

typedef struct join {
    const tl_dl_program *p;
    tl_rel **rels;
    const tl_dl_rule *r;
    step *steps;
    int n_steps;
    int32_t *vars;
    int64_t added;
    tl_status st;
} join;

static int32_t term_val(const join *j, const tl_dl_term *t) {
    return t->var >= 0 ? j->vars[t->var] : t->val;
}

static bool compare_ok(const join *j, const tl_dl_lit *li) {
    int32_t a = term_val(j, &li->l), b = term_val(j, &li->r);
    if (li->op == TL_DL_EQ) return a == b;
    if (li->op == TL_DL_NE) return a != b;
    int c = a == b ? 0 : j->p->compare ? j->p->compare(j->p->compare_ctx, a, b) : (a < b ? -1 : 1);
    switch (li->op) {
    case TL_DL_LT:
        return c < 0;
    case TL_DL_LE:
        return c <= 0;
    case TL_DL_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static void run(join *j, int s) {
    if (j->st != TL_OK) return;
    if (s == j->n_steps) {
        int32_t t[TL_REL_MAX_ARITY];
        int ar = j->p->preds[j->r->head].arity;
        for (int a = 0; a < ar; a++)
            t[a] = term_val(j, &j->r->head_args[a]);
        bool added;
        j->st = tl_rel_insert(j->rels[j->r->head], t, &added);
        j->added += added;
        return;
    }
    const step *sp = &j->steps[s];
    const tl_dl_lit *li = &j->r->body[sp->lit];
    if (li->kind == TL_DL_CMP) {
        if (compare_ok(j, li)) run(j, s + 1);
        return;
    }
    const tl_rel *rel = j->rels[li->pred];
    int ar = rel->arity;
    int32_t key[TL_REL_MAX_ARITY];
    for (int a = 0; a < ar; a++)
        key[a] = sp->act[a] == ACT_KEY ? term_val(j, &li->args[a]) : 0;
    if (li->kind == TL_DL_NEG) {
        if (!tl_rel_contains(rel, key)) run(j, s + 1);
        return;
    }
    uint32_t t = sp->idx >= 0 ? tl_rel_index_first(rel, &rel->idx[sp->idx], key)
                              : (sp->hi > sp->lo ? sp->hi - 1 : TL_REL_NONE);
    while (t != TL_REL_NONE) {
        uint32_t cur = t;
        if (sp->idx >= 0) {
            const tl_rel *rr = j->rels[li->pred]; /* re-read: inserts may move arrays */
            t = rr->idx[sp->idx].next[cur];
            if (cur >= sp->hi) continue;
            if (cur < sp->lo) break;
        } else {
            t = cur > sp->lo ? cur - 1 : TL_REL_NONE;
        }
        const int32_t *tu = j->rels[li->pred]->tup + (size_t)cur * ar;
        bool ok = true;
        for (int a = 0; a < ar && ok; a++) {
            if (sp->act[a] == ACT_KEY)
                ok = tu[a] == key[a];
            else if (sp->act[a] == ACT_BIND)
                j->vars[li->args[a].var] = tu[a];
            else
                ok = tu[a] == tu[sp->same_as[a]];
        }
        if (ok) run(j, s + 1);
        if (j->st != TL_OK) return;
    }
}

/* A factorised join for the variant  H(x, y) <- D(u, v), A(u, x), B(v, y)  (delta D first,
** A and B complete, any argument order): for each u in the delta, the y's of all its v's are
** OR-ed into one bitset, then every x of u meets that set once -- instead of one join step per
** (v, x, y) combination, which is what makes same-generation on dense graphs slow.  Returns
** false (nothing done) when the variant has another shape or an id is >= side. */
static bool fast_pair(join *j, int64_t side) {
    const tl_dl_program *p = j->p;
    const tl_dl_rule *ru = j->r;
    if (j->n_steps != 3 || side <= 0 || side > ((int64_t)1 << 24) || p->preds[ru->head].arity != 2)
        return false;
    const step *s[3] = {&j->steps[0], &j->steps[1], &j->steps[2]};
    const tl_dl_lit *l[3];
    for (int i = 0; i < 3; i++) {
        l[i] = &ru->body[s[i]->lit];
        if (l[i]->kind != TL_DL_POS || p->preds[l[i]->pred].arity != 2) return false;
    }
    int u = l[0]->args[0].var, v = l[0]->args[1].var;
    if (u < 0 || v < 0 || u == v || s[0]->mask != 0) return false;
    int key_col[3], out_var[3];
    for (int i = 1; i < 3; i++) {
        if (s[i]->idx < 0 || popcount_mask(s[i]->mask) != 1) return false;
        key_col[i] = (s[i]->mask & 1u) ? 0 : 1;
        const tl_dl_term *k = &l[i]->args[key_col[i]], *o = &l[i]->args[1 - key_col[i]];
        if (k->var < 0 || o->var < 0 || s[i]->act[1 - key_col[i]] != ACT_BIND) return false;
        out_var[i] = o->var;
        if (s[i]->lo != 0 || s[i]->hi != (uint32_t)j->rels[l[i]->pred]->n) return false;
    }
    int k1 = l[1]->args[key_col[1]].var, k2 = l[2]->args[key_col[2]].var;
    if (!((k1 == u && k2 == v) || (k1 == v && k2 == u)) || out_var[1] == out_var[2]) return false;
    const tl_dl_term *h = ru->head_args;
    if (h[0].var < 0 || h[1].var < 0) return false;
    bool x_first;
    if (h[0].var == out_var[1] && h[1].var == out_var[2])
        x_first = true;
    else if (h[0].var == out_var[2] && h[1].var == out_var[1])
        x_first = false;
    else
        return false;
    int c1 = k1 == u ? 0 : 1, c2 = 1 - c1; /* delta columns feeding A and B */
    tl_rel *D = j->rels[l[0]->pred], *A = j->rels[l[1]->pred], *B = j->rels[l[2]->pred];
    int di;
    if (tl_rel_index_get(D, 1u << c1, &di) != TL_OK) return false;
    size_t words = (size_t)(side + 63) / 64;
    uint64_t *seen = calloc(words, 8), *ys = calloc(words, 8);
    int32_t *xs = malloc((size_t)side * sizeof *xs);
    bool ok = seen && ys && xs;
    uint32_t lo = s[0]->lo, hi = s[0]->hi;
    for (uint32_t t = lo; t < hi && ok && j->st == TL_OK; t++) {
        int32_t a = D->tup[2 * (size_t)t + c1];
        if (a < 0 || a >= side) {
            ok = false;
            break;
        }
        if (seen[a >> 6] >> (a & 63) & 1) continue;
        seen[a >> 6] |= 1ULL << (a & 63);
        memset(ys, 0, words * 8);
        int32_t key[2];
        key[c1] = a, key[c2] = 0;
        for (uint32_t d = tl_rel_index_first(D, &D->idx[di], key); d != TL_REL_NONE && ok;
             d = D->idx[di].next[d]) {
            if (d >= hi) continue;
            if (d < lo) break;
            if (D->tup[2 * (size_t)d + c1] != a) continue;
            int32_t b = D->tup[2 * (size_t)d + c2], kb[2];
            kb[key_col[2]] = b, kb[1 - key_col[2]] = 0;
            const tl_rel_index *bx = &B->idx[s[2]->idx];
            for (uint32_t e = tl_rel_index_first(B, bx, kb); e != TL_REL_NONE; e = bx->next[e]) {
                if (B->tup[2 * (size_t)e + key_col[2]] != b) continue;
                int32_t y = B->tup[2 * (size_t)e + 1 - key_col[2]];
                if (y < 0 || y >= side) {
                    ok = false;
                    break;
                }
                ys[y >> 6] |= 1ULL << (y & 63);
            }
        }
        size_t nx = 0;
        int32_t ka[2];
        ka[key_col[1]] = a, ka[1 - key_col[1]] = 0;
        const tl_rel_index *ax = &A->idx[s[1]->idx];
        for (uint32_t e = tl_rel_index_first(A, ax, ka); e != TL_REL_NONE && nx < (size_t)side;
             e = ax->next[e])
            if (A->tup[2 * (size_t)e + key_col[1]] == a)
                xs[nx++] = A->tup[2 * (size_t)e + 1 - key_col[1]];
        for (size_t i = 0; i < nx && ok && j->st == TL_OK; i++)
            for (size_t w = 0; w < words && j->st == TL_OK; w++)
                for (uint64_t bits = ys[w]; bits; bits &= bits - 1) {
                    int32_t y = (int32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
                    int32_t tu[2] = {x_first ? xs[i] : y, x_first ? y : xs[i]};
                    bool added;
                    j->st = tl_rel_insert(j->rels[ru->head], tu, &added);
                    j->added += added;
                    if (j->st != TL_OK) break;
                }
    }
    free(seen), free(ys), free(xs);
    return ok || j->st != TL_OK;
}

/* Plans rule r with body literal `first` (or -1) leading: positive atoms in
** order of most bound arguments, filters as soon as their variables are bound. */
static tl_status plan(const tl_dl_program *p, tl_rel **rels, const tl_dl_rule *r, int first,
                      step *steps, int *n_steps) {
    bool bound[256] = {0}, placed[256] = {0};
    int n = 0;
    for (;;) {
        /* filters whose variables are all bound */
        for (int l = 0; l < r->n_body; l++) {
            const tl_dl_lit *li = &r->body[l];
            if (placed[l] || li->kind == TL_DL_POS) continue;
            bool ok = true;
            if (li->kind == TL_DL_CMP) {
                ok = (li->l.var < 0 || bound[li->l.var]) && (li->r.var < 0 || bound[li->r.var]);
            } else {
                for (int a = 0; a < p->preds[li->pred].arity; a++)
                    if (li->args[a].var >= 0 && !bound[li->args[a].var]) ok = false;
            }
            if (!ok) continue;
            placed[l] = true;
            steps[n] = (step){.lit = l, .idx = -1};
            for (int a = 0; li->kind == TL_DL_NEG && a < p->preds[li->pred].arity; a++)
                steps[n].act[a] = ACT_KEY;
            n++;
        }
        int best = -1, best_score = -1;
        if (first >= 0 && !placed[first]) {
            best = first;
        } else {
            for (int l = 0; l < r->n_body; l++) {
                const tl_dl_lit *li = &r->body[l];
                if (placed[l] || li->kind != TL_DL_POS) continue;
                int score = 0;
                for (int a = 0; a < p->preds[li->pred].arity; a++)
                    score += li->args[a].var < 0 || bound[li->args[a].var];
                if (score > best_score) best = l, best_score = score;
            }
        }
        if (best < 0) break;
        const tl_dl_lit *li = &r->body[best];
        step *sp = &steps[n++];
        *sp = (step){.lit = best, .idx = -1};
        placed[best] = true;
        int ar = p->preds[li->pred].arity;
        for (int a = 0; a < ar; a++) {
            const tl_dl_term *t = &li->args[a];
            if (t->var < 0 || bound[t->var]) {
                sp->act[a] = ACT_KEY;
                sp->mask |= 1u << a;
            } else {
                sp->act[a] = ACT_BIND;
                for (int b = 0; b < a; b++)
                    if (sp->act[b] == ACT_BIND && li->args[b].var == t->var) {
                        sp->act[a] = ACT_SAME;
                        sp->same_as[a] = (int8_t)b;
                    }
            }
        }
        for (int a = 0; a < ar; a++)
            if (li->args[a].var >= 0) bound[li->args[a].var] = true;
        if (sp->mask) {
            tl_status st = tl_rel_index_get(rels[li->pred], sp->mask, &sp->idx);
            if (st != TL_OK) return st;
        }
    }
    *n_steps = n;
    return TL_OK;
}

/* ------------------------------------------------------------------ strata */

typedef struct range {
    uint32_t lo, hi; /* delta of the previous round */
} range;

tl_status tl_dl_eval(const tl_dl_program *p, tl_rel **rels, tl_dl_stats *stats, tl_dl_error *err) {
    int n = p->n_preds;
    int *scc = malloc((size_t)(n + 1) * sizeof(int)), n_scc = 0;
    range *d = calloc((size_t)n + 1, sizeof(range));
    int max_body = 1, max_vars = 1;
    for (int r = 0; r < p->n_rules; r++) {
        if (p->rules[r].n_body > max_body) max_body = p->rules[r].n_body;
        if (p->rules[r].n_vars > max_vars) max_vars = p->rules[r].n_vars;
    }
    step *steps = malloc((size_t)max_body * sizeof(step));
    int32_t *vars = calloc((size_t)max_vars, sizeof(int32_t));
    tl_status st =
        (!scc || !d || !steps || !vars) ? tl_fail(TL_ERR_NOMEM, "datalog: out of memory") : TL_OK;
    if (st == TL_OK && (max_body > 256 || max_vars > 256))
        st = dl_err(err, -1, -1, -1, "a rule has more than 256 body literals or variables");
    if (st == TL_OK) st = tl_dl_sccs(p, scc, &n_scc);
    int64_t cap = p->max_rounds > 0 ? p->max_rounds : 1000000;
    for (int c = 0; c < n_scc && st == TL_OK; c++) {
        /* round 0: every rule of the component over everything */
        uint32_t *start = NULL;
        bool any = false;
        for (int r = 0; r < p->n_rules; r++)
            if (scc[p->rules[r].head] == c) any = true;
        if (!any) continue;
        for (int q = 0; q < n; q++)
            if (scc[q] == c) d[q].lo = d[q].hi = (uint32_t)rels[q]->n;
        for (int r = 0; r < p->n_rules && st == TL_OK; r++) {
            const tl_dl_rule *ru = &p->rules[r];
            if (scc[ru->head] != c) continue;
            join j = {.p = p, .rels = rels, .r = ru, .steps = steps, .vars = vars};
            st = plan(p, rels, ru, -1, steps, &j.n_steps);
            for (int s = 0; s < j.n_steps; s++) {
                const tl_dl_lit *li = &ru->body[steps[s].lit];
                steps[s].lo = 0;
                steps[s].hi =
                    li->kind == TL_DL_POS
                        ? (scc[li->pred] == c ? d[li->pred].hi : (uint32_t)rels[li->pred]->n)
                        : 0;
            }
            if (st == TL_OK) run(&j, 0), st = j.st;
            if (stats) stats->derived += j.added;
        }
        (void)start;
        int64_t rounds = 1;
        for (;;) {
            bool more = false;
            for (int q = 0; q < n; q++)
                if (scc[q] == c) {
                    d[q].lo = d[q].hi;
                    d[q].hi = (uint32_t)rels[q]->n;
                    if (d[q].hi > d[q].lo) more = true;
                }
            if (!more || st != TL_OK) break;
            if (rounds >= cap) {
                const char *name = "?";
                for (int q = 0; q < n; q++)
                    if (scc[q] == c) name = p->preds[q].name;
                st = dl_err(err, -1, -1, -1,
                            "forward chaining stopped at the round cap (%lld rounds) before a "
                            "fixpoint of %s; raise it with logic_max_rounds(n)",
                            (long long)cap, name);
                break;
            }
            rounds++;
            for (int r = 0; r < p->n_rules && st == TL_OK; r++) {
                const tl_dl_rule *ru = &p->rules[r];
                if (scc[ru->head] != c) continue;
                for (int dl = 0; dl < ru->n_body && st == TL_OK; dl++) {
                    const tl_dl_lit *dli = &ru->body[dl];
                    if (dli->kind != TL_DL_POS || scc[dli->pred] != c) continue;
                    if (d[dli->pred].hi == d[dli->pred].lo) continue;
                    join j = {.p = p, .rels = rels, .r = ru, .steps = steps, .vars = vars};
                    st = plan(p, rels, ru, dl, steps, &j.n_steps);
                    for (int s = 0; s < j.n_steps; s++) {
                        int l = steps[s].lit;
                        const tl_dl_lit *li = &ru->body[l];
                        if (li->kind != TL_DL_POS) continue;
                        if (scc[li->pred] != c) {
                            steps[s].lo = 0, steps[s].hi = (uint32_t)rels[li->pred]->n;
                        } else if (l == dl) {
                            steps[s].lo = d[li->pred].lo, steps[s].hi = d[li->pred].hi;
                        } else {
                            steps[s].lo = 0;
                            steps[s].hi = l < dl ? d[li->pred].lo : d[li->pred].hi;
                        }
                    }
                    if (st == TL_OK && !fast_pair(&j, p->side)) run(&j, 0);
                    if (st == TL_OK) st = j.st;
                    if (stats) stats->derived += j.added;
                }
            }
        }
        if (stats) stats->rounds += rounds;
    }
    free(scc);
    free(d);
    free(steps);
    free(vars);
    return st;
}

tl_status tl_dl_forward(const tl_dl_program *p, tl_rel *out, tl_dl_stats *stats, tl_dl_error *err) {
    tl_status st = tl_dl_check(p, err);
    if (st != TL_OK) return st;
    tl_rel **rels = malloc((size_t)(p->n_preds + 1) * sizeof *rels);
    if (!rels) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    int done = 0;
    for (; done < p->n_preds && st == TL_OK; done++) {
        const tl_dl_pred *q = &p->preds[done];
        if (q->facts && q->facts->arity == q->arity) {
            st = tl_rel_copy(&out[done], q->facts);
        } else {
            st = tl_rel_init(&out[done], q->arity, p->side);
        }
        rels[done] = &out[done];
        if (st != TL_OK) break;
    }
    if (st == TL_OK) st = tl_dl_eval(p, rels, stats, err);
    if (st != TL_OK)
        for (int i = 0; i < done; i++)
            tl_rel_free(&out[i]);
    free(rels);
    return st;
}
