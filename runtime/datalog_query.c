/* runtime/datalog_query.c -- goal-directed queries: tabling by rewriting
** (see datalog.h).
**
** For a goal q with binding pattern ad (bit i set: argument i is bound) the
** rewrite makes two predicates: call_q_ad (the table of calls: one tuple of
** bound arguments per subgoal) and ans_q_ad (the answers).  For each rule
** q(..) <- l1, .., ln:
**     ans_q_ad(head) <- call_q_ad(bound head args), l1', .., ln'
** where a body atom on a derived predicate s becomes ans_s_ad'(..), ad' being
** the arguments bound by the head's bound arguments and the literals to its
** left, and that subgoal is "called":
**     call_s_ad'(bound args) <- call_q_ad(bound head args), l1', .., l(k-1)'
** Facts asserted for q itself enter through ans_q_ad(x..) <- call_q_ad(..), q(x..).
** The query seeds call_q_ad with its constants.  Evaluated semi-naively, this
** computes exactly the subgoals and answers a tabled top-down evaluation
** reaches, and terminates on left recursion. */
#include "runtime/datalog_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct adorned {
    int pred;
    uint32_t ad;
    int ans, call; /* predicate numbers in the rewritten program */
} adorned;

typedef struct rw {
    const tl_dl_program *p;
    tl_dl_program out;
    int cap_preds, cap_rules;
    adorned *ad;
    int n_ad, cap_ad;
    void **blocks;
    int n_blocks, cap_blocks;
    bool *derived; /* original pred has rules */
} rw;

static void *rw_alloc(rw *w, size_t bytes) {
    if (w->n_blocks == w->cap_blocks) {
        int cap = w->cap_blocks ? 2 * w->cap_blocks : 64;
        void **nb = realloc(w->blocks, (size_t)cap * sizeof *nb);
        if (!nb) return NULL;
        w->blocks = nb;
        w->cap_blocks = cap;
    }
    void *m = calloc(1, bytes ? bytes : 1);
    if (m) w->blocks[w->n_blocks++] = m;
    return m;
}

static int add_pred(rw *w, const char *name, int arity) {
    if (w->out.n_preds == w->cap_preds) {
        int cap = w->cap_preds ? 2 * w->cap_preds : 32;
        tl_dl_pred *np = realloc(w->out.preds, (size_t)cap * sizeof *np);
        if (!np) return -1;
        w->out.preds = np;
        w->cap_preds = cap;
    }
    w->out.preds[w->out.n_preds] = (tl_dl_pred){.name = name, .arity = arity};
    return w->out.n_preds++;
}

static tl_dl_rule *add_rule(rw *w) {
    if (w->out.n_rules == w->cap_rules) {
        int cap = w->cap_rules ? 2 * w->cap_rules : 32;
        tl_dl_rule *nr = realloc(w->out.rules, (size_t)cap * sizeof *nr);
        if (!nr) return NULL;
        w->out.rules = nr;
        w->cap_rules = cap;
    }
    tl_dl_rule *r = &w->out.rules[w->out.n_rules++];
    memset(r, 0, sizeof *r);
    return r;
}

static int popcount(uint32_t x) {
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* the adorned version of (pred, ad), created on first use */
static int get_adorned(rw *w, int pred, uint32_t ad) {
    for (int i = 0; i < w->n_ad; i++)
        if (w->ad[i].pred == pred && w->ad[i].ad == ad) return i;
    if (w->n_ad == w->cap_ad) {
        int cap = w->cap_ad ? 2 * w->cap_ad : 16;
        adorned *na = realloc(w->ad, (size_t)cap * sizeof *na);
        if (!na) return -1;
        w->ad = na;
        w->cap_ad = cap;
    }
    const char *name = w->p->preds[pred].name;
    int ans = add_pred(w, name, w->p->preds[pred].arity);
    int call = add_pred(w, name, popcount(ad));
    if (ans < 0 || call < 0) return -1;
    w->ad[w->n_ad] = (adorned){.pred = pred, .ad = ad, .ans = ans, .call = call};
    return w->n_ad++;
}

/* call atom args: the bound terms of args under ad */
static tl_dl_term *bound_terms(rw *w, const tl_dl_term *args, int arity, uint32_t ad) {
    tl_dl_term *t = rw_alloc(w, (size_t)(popcount(ad) + 1) * sizeof *t);
    if (!t) return NULL;
    int k = 0;
    for (int a = 0; a < arity; a++)
        if (ad & (1u << a)) t[k++] = args[a];
    return t;
}

static bool filter_bound(const tl_dl_program *p, const tl_dl_lit *li, const bool *bound) {
    if (li->kind == TL_DL_CMP)
        return (li->l.var < 0 || bound[li->l.var]) && (li->r.var < 0 || bound[li->r.var]);
    for (int a = 0; a < p->preds[li->pred].arity; a++)
        if (li->args[a].var >= 0 && !bound[li->args[a].var]) return false;
    return true;
}

/* rewrites the rules of adorned goal number g */
static tl_status rewrite(rw *w, int g) {
    const tl_dl_program *p = w->p;
    adorned A = w->ad[g];
    int ar = p->preds[A.pred].arity;
    /* asserted facts of the goal's predicate */
    {
        tl_dl_rule *r = add_rule(w);
        tl_dl_term *h = rw_alloc(w, (size_t)(ar + 1) * sizeof *h);
        tl_dl_lit *b = rw_alloc(w, 2 * sizeof *b);
        if (!r || !h || !b) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        for (int a = 0; a < ar; a++)
            h[a] = (tl_dl_term){.var = a};
        r->head = A.ans;
        r->head_args = h;
        r->n_vars = ar;
        b[0] = (tl_dl_lit){.kind = TL_DL_POS, .pred = A.call, .args = bound_terms(w, h, ar, A.ad)};
        b[1] = (tl_dl_lit){.kind = TL_DL_POS, .pred = A.pred, .args = h};
        if (!b[0].args) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        r->body = b;
        r->n_body = 2;
    }
    for (int ri = 0; ri < p->n_rules; ri++) {
        const tl_dl_rule *src = &p->rules[ri];
        if (src->head != A.pred) continue;
        bool *bound = rw_alloc(w, (size_t)src->n_vars + 1);
        tl_dl_lit *body = rw_alloc(w, (size_t)(src->n_body + 1) * sizeof *body);
        if (!bound || !body) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        body[0] = (tl_dl_lit){
            .kind = TL_DL_POS, .pred = A.call, .args = bound_terms(w, src->head_args, ar, A.ad)};
        if (!body[0].args) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        for (int a = 0; a < ar; a++)
            if ((A.ad & (1u << a)) && src->head_args[a].var >= 0)
                bound[src->head_args[a].var] = true;
        int nb = 1;
        for (int l = 0; l < src->n_body; l++) {
            const tl_dl_lit *li = &src->body[l];
            tl_dl_lit nl = *li;
            if (li->kind == TL_DL_POS && w->derived[li->pred]) {
                int sar = p->preds[li->pred].arity;
                uint32_t ad = 0;
                for (int a = 0; a < sar; a++)
                    if (li->args[a].var < 0 || bound[li->args[a].var]) ad |= 1u << a;
                int k = get_adorned(w, li->pred, ad);
                if (k < 0) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
                /* the call: call_s_ad(bound args) <- prefix (with bound filters only) */
                tl_dl_rule *cr = add_rule(w);
                tl_dl_lit *cb = rw_alloc(w, (size_t)(nb + 1) * sizeof *cb);
                if (!cr || !cb) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
                int ncb = 0;
                for (int i = 0; i < nb; i++)
                    if (body[i].kind == TL_DL_POS || filter_bound(&w->out, &body[i], bound))
                        cb[ncb++] = body[i];
                cr->head = w->ad[k].call;
                cr->head_args = bound_terms(w, li->args, sar, ad);
                if (!cr->head_args) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
                cr->body = cb;
                cr->n_body = ncb;
                cr->n_vars = src->n_vars;
                nl.pred = w->ad[k].ans;
            }
            body[nb++] = nl;
            if (li->kind == TL_DL_POS)
                for (int a = 0; a < p->preds[li->pred].arity; a++)
                    if (li->args[a].var >= 0) bound[li->args[a].var] = true;
        }
        tl_dl_rule *r = add_rule(w);
        if (!r) return tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        r->head = A.ans;
        r->head_args = src->head_args;
        r->body = body;
        r->n_body = nb;
        r->n_vars = src->n_vars;
    }
    return TL_OK;
}

static bool matches(const int32_t *t, const int32_t *pattern, int arity) {
    for (int a = 0; a < arity; a++)
        if (pattern[a] >= 0 && t[a] != pattern[a]) return false;
    return true;
}

tl_status tl_dl_query(const tl_dl_program *p, int pred, const int32_t *pattern, tl_rel *answers,
                      tl_dl_stats *stats, tl_dl_error *err) {
    tl_status st = tl_dl_check(p, err);
    if (st != TL_OK) return st;
    int n = p->n_preds, ar = p->preds[pred].arity;
    if ((st = tl_rel_init(answers, ar, p->side)) != TL_OK) return st;
    rw w = {.p = p};
    w.derived = calloc((size_t)n + 1, sizeof(bool));
    bool *negated = calloc((size_t)n + 1, sizeof(bool));
    tl_rel *base = calloc((size_t)n + 1, sizeof(tl_rel)); /* empty facts, or full models */
    bool need_full = false;
    if (!w.derived || !negated || !base) st = tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    for (int r = 0; r < p->n_rules && st == TL_OK; r++) {
        w.derived[p->rules[r].head] = true;
        for (int l = 0; l < p->rules[r].n_body; l++)
            if (p->rules[r].body[l].kind == TL_DL_NEG) negated[p->rules[r].body[l].pred] = true;
    }
    for (int q = 0; q < n && st == TL_OK; q++)
        if (negated[q] && w.derived[q]) need_full = true;
    tl_rel *full = NULL;
    if (st == TL_OK && need_full) {
        full = calloc((size_t)n + 1, sizeof(tl_rel));
        if (!full) st = tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        if (st == TL_OK) st = tl_dl_forward(p, full, stats, err);
        if (st != TL_OK) free(full), full = NULL;
    }
    /* the rewritten program: predicates 0..n-1 are the originals, read only */
    w.out = *p;
    w.out.preds = NULL, w.out.n_preds = 0, w.out.rules = NULL, w.out.n_rules = 0;
    for (int q = 0; q < n && st == TL_OK; q++)
        if (add_pred(&w, p->preds[q].name, p->preds[q].arity) < 0)
            st = tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    uint32_t qad = 0;
    for (int a = 0; a < ar; a++)
        if (pattern[a] >= 0) qad |= 1u << a;
    int g0 = -1;
    if (st == TL_OK && w.derived[pred]) {
        g0 = get_adorned(&w, pred, qad);
        if (g0 < 0) st = tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
        for (int g = 0; g < w.n_ad && st == TL_OK; g++)
            st = rewrite(&w, g);
    }
    tl_rel **rels = NULL, *own = NULL;
    int n_own = 0;
    if (st == TL_OK) {
        rels = calloc((size_t)w.out.n_preds + 1, sizeof *rels);
        own = calloc((size_t)w.out.n_preds + 1, sizeof *own);
        if (!rels || !own) st = tl_fail(TL_ERR_NOMEM, "datalog: out of memory");
    }
    for (int q = 0; q < w.out.n_preds && st == TL_OK; q++) {
        if (q < n && full && negated[q] && w.derived[q]) {
            rels[q] = &full[q];
        } else if (q < n && p->preds[q].facts && p->preds[q].facts->arity == p->preds[q].arity) {
            rels[q] = p->preds[q].facts;
        } else {
            st = tl_rel_init(&own[q], w.out.preds[q].arity, p->side);
            rels[q] = &own[q];
            n_own = q + 1;
        }
    }
    (void)base;
    if (st == TL_OK && g0 >= 0) {
        int32_t seed[TL_REL_MAX_ARITY];
        int k = 0;
        for (int a = 0; a < ar; a++)
            if (pattern[a] >= 0) seed[k++] = pattern[a];
        st = tl_rel_insert(rels[w.ad[g0].call], seed, NULL);
        if (st == TL_OK) st = tl_dl_eval(&w.out, rels, stats, err);
    }
    if (st == TL_OK) {
        const tl_rel *src = g0 >= 0 ? rels[w.ad[g0].ans] : rels[pred];
        for (size_t i = 0; i < src->n && st == TL_OK; i++) {
            const int32_t *t = src->tup + i * (size_t)ar;
            if (matches(t, pattern, ar)) st = tl_rel_insert(answers, t, NULL);
        }
    }
    if (own)
        for (int q = 0; q < n_own; q++)
            tl_rel_free(&own[q]);
    if (full)
        for (int q = 0; q < n; q++)
            tl_rel_free(&full[q]);
    free(full);
    free(own);
    free(rels);
    free(base);
    free(negated);
    free(w.derived);
    for (int i = 0; i < w.n_blocks; i++)
        free(w.blocks[i]);
    free(w.blocks);
    free(w.ad);
    free(w.out.preds);
    free(w.out.rules);
    if (st != TL_OK) tl_rel_free(answers);
    return st;
}
