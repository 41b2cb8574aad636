/* lang/equation_compile.c -- telling equations from assignments, and compiling
** an equation's sides into a plan (lang/equation_internal.h), once per AST node. */
#include "lang/equation_internal.h"

#include <stdio.h>
#include <string.h>

static bool is_bound(tl_interp *I, const char *name) {
    return tl_scope_maybe_bound(name) && tl_scope_lookup(I, name) != NULL;
}

/* ---- classification ----------------------------------------------------------------- */

/* The name a left-side index introduces (i, q. or j:4), or NULL. */
static const char *lhs_index_name(const tl_node *ix) {
    if (ix->kind == TL_N_IDENT) return ix->name;
    if (ix->kind == TL_N_EQMARK && ix->a && ix->a->kind == TL_N_IDENT) return ix->a->name;
    if (ix->kind == TL_N_SLICE && ix->a && ix->a->kind == TL_N_IDENT && ix->b) return ix->a->name;
    return NULL;
}

int tl_eq_classify(tl_interp *I, const tl_node *n) {
    /* a plan still valid for n answers without looking the names up again, and spares
    ** tl_eq_plan_get, which comes right after, its own check (I->eq_checked) */
    eq_plan *cp = tl_eq_plan_cached(I, n);
    I->eq_checked = cp && cp->lhs_free ? cp : NULL;
    if (I->eq_checked) return 1;
    const tl_node *t = n->a;
    bool any_unbound = false, any_other = false, marked = false;
    const char *bound_name = NULL;
    if (t->kind == TL_N_INDEX && t->a->kind == TL_N_IDENT) {
        for (const tl_node *ix = t->b; ix; ix = ix->next) {
            const char *nm = lhs_index_name(ix);
            if (ix->kind == TL_N_EQMARK) marked = true;
            if (!nm) {
                any_other = true;
                continue;
            }
            if (is_bound(I, nm)) {
                if (ix->kind == TL_N_IDENT)
                    bound_name = nm;
                else
                    any_other = true;
            } else
                any_unbound = true;
        }
    }
    if (any_unbound || marked) {
        if (bound_name) {
            tl_err_at(I, t->a, TL_ERR_ARG,
                      "the left side mixes index names and variables: '%s' is a variable here; "
                      "an equation takes index names that are not variables (rename one), "
                      "element assignment takes values only",
                      bound_name);
            return -1;
        }
        if (any_other || !any_unbound) {
            tl_err_at(I, t->a, TL_ERR_ARG,
                      "the left side of an equation takes index names only: Y[i, j], Y[i, q.] "
                      "or Y[i, j:4]");
            return -1;
        }
        return 1;
    }
    if (n->op != TL_EQ_PROJ_SUM) {
        tl_err_at(I, t->a, TL_ERR_ARG,
                  "max=, min= and avg= need a tensor equation (a left side like Y[i] whose "
                  "index names are not variables)");
        return -1;
    }
    return 0;
}

/* ---- compilation ---------------------------------------------------------------------- */

typedef struct cctx {
    tl_interp *I;
    const tl_node *stmt;
    eq_plan *p;
    tl_arena *arena;
    bool failed;
} cctx;

static bool fail(cctx *c, const tl_node *at, const char *msg) {
    if (!c->failed) tl_err_at(c->I, at ? at : c->stmt->a->a, TL_ERR_ARG, "%s", msg);
    c->failed = true;
    return false;
}

/* Looks a name up (and remembers the answer, so a later change recompiles). */
static bool name_bound(cctx *c, const char *name) {
    eq_plan *p = c->p;
    for (int i = 0; i < p->n_names; i++)
        if (strcmp(p->names[i], name) == 0) return p->bound[i];
    bool b = is_bound(c->I, name);
    if (p->n_names < EQ_MAX_NAMES) {
        p->names[p->n_names] = name;
        p->bound[p->n_names++] = b;
    }
    return b;
}

static int label_of(cctx *c, const tl_node *at, const char *name) {
    eq_plan *p = c->p;
    for (int i = 0; i < p->n_labels; i++)
        if (strcmp(p->label_name[i], name) == 0) return i;
    if (p->n_labels == TL_CONTRACT_MAX_LABELS) {
        char msg[128];
        snprintf(msg, sizeof msg, "an equation may use at most %d index names",
                 TL_CONTRACT_MAX_LABELS);
        fail(c, at, msg);
        return -1;
    }
    p->label_name[p->n_labels] = name;
    return p->n_labels++;
}

/* Does an index expression mention an index name (a name that is not a variable)? */
static bool idx_has_name(cctx *c, const tl_node *e) {
    if (!e) return false;
    switch ((tl_node_kind)e->kind) {
    case TL_N_IDENT:
        return !name_bound(c, e->name);
    case TL_N_BINARY:
        return idx_has_name(c, e->a) || idx_has_name(c, e->b);
    case TL_N_UNARY:
        return idx_has_name(c, e->a);
    case TL_N_SLICE:
    case TL_N_EQMARK:
        return true;
    default:
        return false;
    }
}

/* Does the expression hold an indexed factor (so it is part of the tensor algebra)? */
static bool has_index(cctx *c, const tl_node *e) {
    if (!e) return false;
    switch ((tl_node_kind)e->kind) {
    case TL_N_INDEX:
        for (const tl_node *ix = e->b; ix; ix = ix->next)
            if (idx_has_name(c, ix)) return true;
        return has_index(c, e->a);
    case TL_N_BINARY:
        return has_index(c, e->a) || has_index(c, e->b);
    case TL_N_UNARY:
    case TL_N_CAST:
    case TL_N_FIELD:
        return has_index(c, e->a);
    case TL_N_CALL:
        for (const tl_node *a = e->b; a; a = a->next)
            if (has_index(c, a)) return true;
        return false;
    case TL_N_METHOD:
        for (const tl_node *a = e->b; a; a = a->next)
            if (has_index(c, a)) return true;
        return has_index(c, e->a);
    default:
        return false;
    }
}

static eq_node *new_node(cctx *c, eq_kind k, const tl_node *src) {
    eq_node *n = tl_arena_alloc(c->arena, sizeof *n);
    if (!n) {
        fail(c, src, "out of memory");
        return NULL;
    }
    n->kind = k;
    n->src = src;
    return n;
}

static eq_node *compile(cctx *c, const tl_node *e);

/* Collects the operands of a chain of one associative operator. */
static int flatten(cctx *c, const tl_node *e, bool sum, int sign, const tl_node **out,
                   int8_t *signs, int n, int cap) {
    bool mine = e->kind == TL_N_BINARY && (sum ? (e->op == TL_OP_ADD || e->op == TL_OP_SUB)
                                               : (e->op == TL_OP_MUL || e->op == TL_OP_HADAMARD));
    if (sum && e->kind == TL_N_UNARY && e->op == TL_OP_NEG)
        return flatten(c, e->a, sum, -sign, out, signs, n, cap);
    if (!mine) {
        if (n == cap) {
            fail(c, e, "an equation term has too many factors (at most 16)");
            return n;
        }
        out[n] = e;
        signs[n] = (int8_t)sign;
        return n + 1;
    }
    n = flatten(c, e->a, sum, sign, out, signs, n, cap);
    return flatten(c, e->b, sum, (sum && e->op == TL_OP_SUB) ? -sign : sign, out, signs, n, cap);
}

static eq_node *compile_list(cctx *c, eq_kind k, const tl_node *e, const tl_node **items,
                             int8_t *signs, int n) {
    eq_node *r = new_node(c, k, e);
    if (!r) return NULL;
    r->kids = tl_arena_alloc(c->arena, (size_t)n * sizeof *r->kids);
    r->signs = tl_arena_alloc(c->arena, (size_t)n);
    if (!r->kids || !r->signs) {
        fail(c, e, "out of memory");
        return NULL;
    }
    r->n_kids = n;
    for (int i = 0; i < n; i++) {
        r->kids[i] = compile(c, items[i]);
        if (!r->kids[i]) return NULL;
        r->signs[i] = signs[i];
        r->labels |= r->kids[i]->labels;
    }
    return r;
}

static const struct {
    const char *name;
    eq_fn fn;
} fn_names[] = {
    {"relu", FN_RELU}, {"sigmoid", FN_SIGMOID}, {"step", FN_STEP},   {"exp", FN_EXP},
    {"log", FN_LOG},   {"tanh", FN_TANH},       {"silu", FN_SILU},   {"sqrt", FN_SQRT},
    {"abs", FN_ABS},   {"softmax", FN_SOFTMAX}, {"lnorm", FN_LNORM},
};

static eq_node *compile_call(cctx *c, const tl_node *e) {
    int argc = (int)tl_node_list_len(e->b);
    const tl_node *arg = e->b;
    if (argc < 1 || !has_index(c, arg)) {
        fail(c, e,
             "in an equation, a function takes the indexed expression as its first "
             "argument: relu(W[i, j] X[j])");
        return NULL;
    }
    for (const tl_node *a = arg->next; a; a = a->next)
        if (has_index(c, a)) {
            fail(c, a, "only the first argument of a function in an equation may hold indices");
            return NULL;
        }
    eq_node *r = new_node(c, EQ_FUNC, e);
    if (!r) return NULL;
    r->fn = FN_USER;
    if (e->a->kind == TL_N_IDENT && !tl_find_fn(c->I, e->a->name) && !name_bound(c, e->a->name))
        for (size_t i = 0; i < sizeof fn_names / sizeof fn_names[0]; i++)
            if (strcmp(fn_names[i].name, e->a->name) == 0) r->fn = fn_names[i].fn;
    if (r->fn != FN_USER) {
        int max_args = r->fn == FN_SIGMOID ? 2 : 1;
        if (argc > max_args) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s in an equation takes %s", e->a->name,
                     max_args == 2 ? "the expression and an optional temperature: sigmoid(x, T)"
                                   : "one argument");
            fail(c, e, msg);
            return NULL;
        }
        if ((r->fn == FN_SOFTMAX || r->fn == FN_LNORM) && (c->p->mark < 0 || e != c->stmt->b)) {
            fail(c, e,
                 "softmax and lnorm in an equation wrap the whole right side and normalise over "
                 "the index marked with '.' on the left: Y[p, q.] = softmax(X[p, q])");
            return NULL;
        }
    } else if (argc > 1) {
        fail(c, e, "a user function in an equation takes one argument (the indexed expression)");
        return NULL;
    }
    r->arg2 = arg->next;
    r->n_kids = 1;
    r->kids = tl_arena_alloc(c->arena, sizeof *r->kids);
    if (!r->kids) {
        fail(c, e, "out of memory");
        return NULL;
    }
    r->kids[0] = compile(c, arg);
    if (!r->kids[0]) return NULL;
    r->labels = r->kids[0]->labels;
    return r;
}

static bool is_index_name(cctx *c, const tl_node *e) {
    return e && e->kind == TL_N_IDENT && !name_bound(c, e->name);
}

static eq_node *compile_leaf(cctx *c, const tl_node *e) {
    eq_node *r = new_node(c, EQ_LEAF, e);
    if (!r) return NULL;
    if (has_index(c, e->a)) {
        fail(c, e->a, "an indexed factor's tensor cannot itself hold indices");
        return NULL;
    }
    int pos = 0;
    for (const tl_node *ix = e->b; ix; ix = ix->next, pos++) {
        if (r->n_axes == TL_MAX_DIMS) {
            fail(c, ix, "too many indices");
            return NULL;
        }
        eq_axis *ax = &r->axes[r->n_axes++];
        ax->e = ix;
        if (ix->kind == TL_N_IDENT && is_index_name(c, ix)) {
            ax->kind = AX_INDEX;
            ax->label = label_of(c, ix, ix->name);
        } else if (ix->kind == TL_N_EQMARK) {
            fail(c, ix, "only the left side marks an index with '.'");
            return NULL;
        } else if (ix->kind == TL_N_SLICE) {
            if (pos >= c->p->n_out) {
                fail(c, ix,
                     "a slice in an equation takes the left side's index at the same "
                     "position, and the left side has none there");
                return NULL;
            }
            if ((ix->a && idx_has_name(c, ix->a)) || (ix->b && idx_has_name(c, ix->b))) {
                fail(c, ix, "slice bounds in an equation are values, not index names");
                return NULL;
            }
            ax->kind = AX_SLICE;
            ax->label = c->p->out[pos];
        } else if (ix->kind == TL_N_BINARY &&
                   (ix->op == TL_OP_ADD || ix->op == TL_OP_SUB || ix->op == TL_OP_DIV) &&
                   is_index_name(c, ix->a) && !idx_has_name(c, ix->b)) {
            ax->kind = ix->op == TL_OP_DIV ? AX_GROUP : AX_SHIFT;
            ax->sign = ix->op == TL_OP_SUB ? -1 : 1;
            ax->label = label_of(c, ix->a, ix->a->name);
            ax->e = ix->b;
        } else if (ix->kind == TL_N_BINARY && ix->op == TL_OP_ADD && is_index_name(c, ix->b) &&
                   !idx_has_name(c, ix->a)) {
            ax->kind = AX_SHIFT;
            ax->sign = 1;
            ax->label = label_of(c, ix->b, ix->b->name);
            ax->e = ix->a;
        } else if (ix->kind == TL_N_BINARY && ix->op == TL_OP_ADD && is_index_name(c, ix->a) &&
                   is_index_name(c, ix->b)) {
            ax->kind = AX_SUM;
            ax->label = label_of(c, ix->a, ix->a->name);
            ax->label2 = label_of(c, ix->b, ix->b->name);
            if (ax->label == ax->label2) {
                fail(c, ix, "write i + i as a shift of one index: not supported");
                return NULL;
            }
            r->labels |= (eq_mask)1 << ax->label2;
        } else if (!idx_has_name(c, ix)) {
            ax->kind = AX_SELECT;
        } else {
            fail(c, ix,
                 "an index in an equation is a name (i), a shifted name (i + 1, i - c), "
                 "a grouped name (h / g), a slice (0:4) or a value");
            return NULL;
        }
        if (c->failed) return NULL;
        if (ax->kind != AX_SELECT) r->labels |= (eq_mask)1 << ax->label;
    }
    if (c->p->n_leaves == EQ_MAX_LEAVES) {
        fail(c, e, "an equation may have at most 64 indexed factors");
        return NULL;
    }
    r->leaf_id = c->p->n_leaves;
    c->p->leaves[c->p->n_leaves++] = r;
    return r;
}

static eq_node *compile(cctx *c, const tl_node *e) {
    if (c->failed) return NULL;
    if (!has_index(c, e)) return new_node(c, EQ_SCALAR, e);
    const tl_node *items[TL_CONTRACT_MAX_OPS];
    int8_t signs[TL_CONTRACT_MAX_OPS];
    switch ((tl_node_kind)e->kind) {
    case TL_N_BINARY:
        if (e->op == TL_OP_ADD || e->op == TL_OP_SUB) {
            int n = flatten(c, e, true, 1, items, signs, 0, TL_CONTRACT_MAX_OPS);
            return c->failed ? NULL : compile_list(c, EQ_SUM, e, items, signs, n);
        }
        if (e->op == TL_OP_MUL || e->op == TL_OP_HADAMARD) {
            int n = flatten(c, e, false, 1, items, signs, 0, TL_CONTRACT_MAX_OPS);
            return c->failed ? NULL : compile_list(c, EQ_PROD, e, items, signs, n);
        }
        if (e->op == TL_OP_DIV) {
            items[0] = e->a;
            items[1] = e->b;
            signs[0] = signs[1] = 1;
            return compile_list(c, EQ_DIV, e, items, signs, 2);
        }
        break;
    case TL_N_UNARY:
        if (e->op == TL_OP_NEG) {
            items[0] = e->a;
            signs[0] = -1;
            return compile_list(c, EQ_SUM, e, items, signs, 1);
        }
        break;
    case TL_N_CALL:
        return compile_call(c, e);
    case TL_N_INDEX:
        return compile_leaf(c, e);
    default:
        break;
    }
    char msg[200];
    snprintf(msg, sizeof msg,
             "this %s cannot take part in a tensor equation (use indexed tensors, numbers, "
             "+ - * /, juxtaposition and functions like relu(...))",
             e->kind == TL_N_BINARY ? tl_op_symbol((tl_binop)e->op) : tl_node_kind_name(e->kind));
    fail(c, e, msg);
    return NULL;
}

static bool compile_lhs(cctx *c) {
    const tl_node *t = c->stmt->a;
    eq_plan *p = c->p;
    p->target = t->a->name;
    p->mark = -1;
    p->proj = (tl_eq_proj)c->stmt->op;
    p->lhs_free = true;
    for (const tl_node *ix = t->b; ix; ix = ix->next) {
        if (p->n_out == TL_MAX_DIMS) return fail(c, ix, "too many indices on the left side");
        const char *nm = lhs_index_name(ix);
        for (int i = 0; i < p->n_out; i++)
            if (strcmp(p->label_name[p->out[i]], nm) == 0) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "index %s appears twice on the left side (a diagonal is read on the "
                         "right: Y[i] = X[i, i])",
                         nm);
                return fail(c, ix, msg);
            }
        if (name_bound(c, nm)) p->lhs_free = false;
        if (ix->kind == TL_N_EQMARK) {
            if (p->mark >= 0) return fail(c, ix, "only one index may be marked with '.'");
            p->mark = p->n_out;
        }
        p->out_extent[p->n_out] = ix->kind == TL_N_SLICE ? ix->b : NULL;
        p->out[p->n_out++] = label_of(c, ix, nm);
        if (c->failed) return false;
    }
    return true;
}

static bool plan_valid(tl_interp *I, const eq_plan *p) {
    if (p->epoch != I->defs_epoch) return false;
    for (int i = 0; i < p->n_names; i++)
        if (is_bound(I, p->names[i]) != p->bound[i]) return false;
    return true;
}

tl_flow tl_eq_plan_get(tl_interp *I, const tl_node *n, eq_plan **out) {
    eq_plan *p = (eq_plan *)n->cache;
    bool checked = p && p == I->eq_checked; /* by tl_eq_classify, just before */
    I->eq_checked = NULL;
    if (p && n->cache_epoch == 0xE9u && (checked || plan_valid(I, p))) {
        *out = p;
        return TL_FLOW_OK;
    }
    tl_arena *arena = &((tl_chunk *)n->chunk)->arena;
    p = tl_arena_alloc(arena, sizeof *p);
    if (!p) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    cctx c = {.I = I, .stmt = n, .p = p, .arena = arena};
    p->epoch = I->defs_epoch;
    if (!compile_lhs(&c)) return TL_FLOW_ERR;
    p->root = compile(&c, n->b);
    if (!p->root || c.failed) return TL_FLOW_ERR;
    tl_eq_attn_match(p, n, arena);
    ((tl_node *)n)->cache = p;
    ((tl_node *)n)->cache_epoch = 0xE9u;
    *out = p;
    return TL_FLOW_OK;
}

eq_plan *tl_eq_plan_cached(tl_interp *I, const tl_node *n) {
    eq_plan *p = (eq_plan *)n->cache;
    return p && n->cache_epoch == 0xE9u && plan_valid(I, p) ? p : NULL;
}

/* ---- source text of a factor, for messages ---------------------------------------------- */

static void text(const tl_node *e, char *buf, size_t cap, size_t *len) {
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (*len < cap) *len += (size_t)snprintf(buf + *len, cap - *len, __VA_ARGS__);             \
    } while (0)
    if (!e) return;
    switch ((tl_node_kind)e->kind) {
    case TL_N_IDENT:
        PUT("%s", e->name);
        break;
    case TL_N_INT:
        PUT("%lld", (long long)e->v.i);
        break;
    case TL_N_FLOAT:
        PUT("%g", e->v.f);
        break;
    case TL_N_FIELD:
        text(e->a, buf, cap, len);
        PUT(".%s", e->name);
        break;
    case TL_N_BINARY:
        text(e->a, buf, cap, len);
        PUT(" %s ", tl_op_symbol((tl_binop)e->op));
        text(e->b, buf, cap, len);
        break;
    case TL_N_SLICE:
        text(e->a, buf, cap, len);
        PUT(":");
        text(e->b, buf, cap, len);
        break;
    case TL_N_EQMARK:
        text(e->a, buf, cap, len);
        PUT(".");
        break;
    case TL_N_INDEX:
        text(e->a, buf, cap, len);
        PUT("[");
        for (const tl_node *ix = e->b; ix; ix = ix->next) {
            text(ix, buf, cap, len);
            if (ix->next) PUT(", ");
        }
        PUT("]");
        break;
    default:
        PUT("(...)");
        break;
    }
#undef PUT
}

void tl_eq_node_text(const tl_node *e, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = '\0';
    text(e, buf, cap, &len);
}
