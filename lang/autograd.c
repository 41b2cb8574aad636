/* lang/autograd.c -- the tape and the backward pass (see lang/autograd.h). */
#include "lang/autograd.h"

#include "lang/builtins/tensor_args.h"
#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

int tl_ag_live_params = 0;                  /* only grows; read without a lock (a hint) */
static _Thread_local int no_grad_depth = 0; /* per thread: interpreters may run on several */

void tl_ag_no_grad_enter(void) {
    no_grad_depth++;
}
void tl_ag_no_grad_leave(void) {
    if (no_grad_depth > 0) no_grad_depth--;
}
bool tl_ag_enabled(void) {
    return no_grad_depth == 0;
}

/* ---- nodes --------------------------------------------------------------------------------- */

typedef struct ag_node {
    tl_ag_node base;
    const char *name;
    int op; /* tl_ag_ctx.op */
    tl_ag_backward_fn backward;
    int argc;
    tl_value *argv;
    tl_tensor *out; /* view of the result: no grad fields, so no cycle */
    void *data;     /* a rule's own data (tl_ag_record_custom), freed with free_data */
    void (*free_data)(void *data);
    /* backward pass state */
    tl_tensor *gacc;
    uint32_t mark;
} ag_node;

static void node_destroy(tl_ag_node *b) {
    ag_node *n = (ag_node *)b;
    for (int i = 0; i < n->argc; i++)
        tl_value_release(&n->argv[i]);
    free(n->argv);
    tl_tensor_unref(n->out);
    tl_tensor_unref(n->gacc);
    if (n->free_data) n->free_data(n->data);
    free(n);
}

tl_status tl_ag_make_param(tl_tensor *t) {
    if (t->dtype != TL_DTYPE_F32)
        return tl_fail(TL_ERR_TYPE, "a learnable tensor must be float32, got %s",
                       tl_dtype_name(t->dtype));
    if (t->grad_fn) return tl_fail(TL_ERR_ARG, "only a leaf tensor can be made learnable");
    t->requires_grad = true;
    __atomic_add_fetch(&tl_ag_live_params, 1, __ATOMIC_RELAXED);
    return TL_OK;
}

static bool is_number(const tl_value *v) {
    return v->kind == TL_VAL_INT || v->kind == TL_VAL_FLOAT || v->kind == TL_VAL_BOOL;
}

static bool value_has_tensor(const tl_value *v) {
    if (v->kind == TL_VAL_TENSOR) return true;
    if (v->kind == TL_VAL_ARRAY)
        for (size_t j = 0; j < v->as.arr->len; j++)
            if (v->as.arr->items[j].kind == TL_VAL_TENSOR) return true;
    return false;
}

static tl_status record_node(const char *name, int op, tl_ag_backward_fn bw, int argc,
                             const tl_value *argv, tl_tensor *y, void *data,
                             void (*free_data)(void *data));

tl_status tl_ag_record(const tl_builtin_def *def, int argc, const tl_value *argv, tl_value *out) {
    bool constant = false;
    int op = 0;
    tl_ag_backward_fn bw = tl_ag_rule(def->name, &op, &constant);
    if (constant) return TL_OK;
    /* a full reduction returns a number: keep it a 0-d tensor so it carries the gradient */
    if (bw == tl_ag_rule_reduce && is_number(out) && argc == 1 && argv[0].kind == TL_VAL_TENSOR) {
        tl_tensor *r;
        tl_status st = tl_op_reduce((tl_reduce_op)op, argv[0].as.tensor, 0, true, false, &r);
        if (st != TL_OK) return st;
        tl_value_release(out);
        *out = tl_value_tensor(r);
    }
    /* a score or loss of a rule given as a number (transe_score of two vectors,
    ** margin_ranking_loss): a 0-d f32 tensor, so the gradient flows through it */
    if (bw && (out->kind == TL_VAL_FLOAT || out->kind == TL_VAL_INT)) {
        tl_tensor *r;
        tl_status st = tl_tensor_scalar(TL_DTYPE_F32, tl_value_as_double(out), &r);
        if (st != TL_OK) return st;
        tl_value_release(out);
        *out = tl_value_tensor(r);
    }
    if (out->kind != TL_VAL_TENSOR) {
        if (!value_has_tensor(out)) return TL_OK; /* numbers, strings, shapes: no gradient */
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: no gradient through a result that is not a single tensor (compute it "
                       "in no_grad { } or on detach(x))",
                       def->name);
    }
    if (!bw)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s has no gradient yet (compute it in no_grad { } or on detach(x))",
                       def->name);
    return record_node(def->name, op, bw, argc, argv, out->as.tensor, NULL, NULL);
}

tl_status tl_ag_record_custom(const char *name, tl_ag_backward_fn bw, int argc,
                              const tl_value *argv, tl_tensor *y, void *data,
                              void (*free_data)(void *data)) {
    return record_node(name, 0, bw, argc, argv, y, data, free_data);
}

static tl_status record_node(const char *name, int op, tl_ag_backward_fn bw, int argc,
                             const tl_value *argv, tl_tensor *y, void *data,
                             void (*free_data)(void *data)) {
    bool same = y->grad_fn || y->requires_grad; /* already tracked (a shared result) */
    for (int i = 0; i < argc; i++)
        if (argv[i].kind == TL_VAL_TENSOR && argv[i].as.tensor == y) same = true; /* identity */
    if (same) {
        if (free_data) free_data(data);
        return TL_OK;
    }
    ag_node *n = calloc(1, sizeof *n);
    if (!n) {
        if (free_data) free_data(data);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    n->base.refcount = 1;
    n->base.destroy = node_destroy;
    n->name = name;
    n->op = op;
    n->backward = bw;
    n->data = data;
    n->free_data = free_data;
    n->argv = calloc((size_t)(argc ? argc : 1), sizeof *n->argv);
    tl_status st = n->argv ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
    if (st == TL_OK) {
        n->argc = argc;
        for (int i = 0; i < argc && st == TL_OK; i++) {
            /* an array of numbers given where a tensor goes: the rules see it as a tensor */
            tl_tensor *t = NULL;
            if (argv[i].kind == TL_VAL_ARRAY && !value_has_tensor(&argv[i])) {
                st = tl_value_to_tensor(&argv[i], &t);
                n->argv[i] = t ? tl_value_tensor(t) : TL_VOID;
            } else {
                n->argv[i] = tl_value_retain(argv[i]);
            }
        }
        st = tl_tensor_view(y, y->n_dims, y->ne, y->nb, 0, &n->out);
    }
    if (st != TL_OK) {
        node_destroy(&n->base);
        return st;
    }
    y->grad_fn = &n->base;
    y->requires_grad = true;
    return TL_OK;
}

tl_status tl_ag_record_named(const char *name, int argc, const tl_value *argv, tl_value *out) {
    tl_builtin_def def = {.name = name};
    return tl_ag_record(&def, argc, argv, out);
}

/* ---- the backward pass --------------------------------------------------------------------- */

typedef struct ag_pass {
    int n_targets;
    tl_tensor *const *targets;
    tl_tensor **grads;
    ag_node **order;
    size_t n_order, cap_order;
} ag_pass;

static _Thread_local uint32_t pass_mark = 0;

static tl_status push_order(ag_pass *p, ag_node *n) {
    if (p->n_order == p->cap_order) {
        size_t cap = p->cap_order ? p->cap_order * 2 : 64;
        ag_node **o = realloc(p->order, cap * sizeof *o);
        if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
        p->order = o;
        p->cap_order = cap;
    }
    p->order[p->n_order++] = n;
    return TL_OK;
}

static ag_node *input_node(const tl_value *v, size_t j) {
    const tl_tensor *t = NULL;
    if (v->kind == TL_VAL_TENSOR && j == 0) t = v->as.tensor;
    if (v->kind == TL_VAL_ARRAY && j < v->as.arr->len && v->as.arr->items[j].kind == TL_VAL_TENSOR)
        t = v->as.arr->items[j].as.tensor;
    return t && t->requires_grad ? (ag_node *)t->grad_fn : NULL;
}

static size_t input_count(const tl_value *v) {
    return v->kind == TL_VAL_ARRAY ? v->as.arr->len : 1;
}

/* Post-order DFS with an explicit stack: parents come after all their inputs. */
static tl_status topo(ag_pass *p, ag_node *root) {
    typedef struct frame {
        ag_node *n;
        int i;
        size_t j;
    } frame;
    size_t cap = 64, sp = 0;
    frame *stack = malloc(cap * sizeof *stack);
    if (!stack) return tl_fail(TL_ERR_NOMEM, "out of memory");
    root->mark = pass_mark;
    stack[sp++] = (frame){root, 0, 0};
    tl_status st = TL_OK;
    while (sp > 0 && st == TL_OK) {
        frame *f = &stack[sp - 1];
        ag_node *next = NULL;
        while (f->i < f->n->argc && !next) {
            const tl_value *v = &f->n->argv[f->i];
            if (f->j < input_count(v)) {
                ag_node *c = input_node(v, f->j++);
                if (c && c->mark != pass_mark) next = c;
            } else {
                f->i++;
                f->j = 0;
            }
        }
        if (!next) {
            st = push_order(p, f->n);
            sp--;
            continue;
        }
        next->mark = pass_mark;
        if (sp == cap) {
            frame *s = realloc(stack, cap * 2 * sizeof *s);
            if (!s) {
                st = tl_fail(TL_ERR_NOMEM, "out of memory");
                break;
            }
            stack = s;
            cap *= 2;
        }
        stack[sp++] = (frame){next, 0, 0};
    }
    free(stack);
    return st;
}

/* acc += g (a new tensor in *acc); g is taken over. */
static tl_status accumulate(tl_tensor **acc, tl_tensor *g) {
    if (!*acc) {
        *acc = g;
        return TL_OK;
    }
    tl_tensor *s;
    tl_status st = tl_op_binary(TL_BIN_ADD, *acc, g, &s);
    tl_tensor_unref(g);
    if (st != TL_OK) return st;
    tl_tensor_unref(*acc);
    *acc = s;
    return TL_OK;
}

/* g into x's shape and f32 (taken over; the result is a new reference in *out). */
static tl_status fit(const tl_tensor *x, tl_tensor *g, const char *name, tl_tensor **out) {
    *out = NULL;
    tl_status st = TL_OK;
    tl_tensor *r = g;
    if (tl_tensor_nelements(g) != tl_tensor_nelements(x)) {
        char a[64], b[64];
        st = tl_fail(TL_ERR_INTERNAL, "%s: gradient of shape %s for an input of shape %s", name,
                     tl_tensor_shape_str(g, a, sizeof a), tl_tensor_shape_str(x, b, sizeof b));
        tl_tensor_unref(g);
        return st;
    }
    if (g->dtype != TL_DTYPE_F32) {
        st = tl_op_cast(g, TL_DTYPE_F32, &r);
        tl_tensor_unref(g);
        if (st != TL_OK) return st;
    }
    if (!tl_tensor_is_contiguous(r) || r->n_dims != x->n_dims || !tl_tensor_same_shape(r, x)) {
        int64_t shape[TL_MAX_DIMS];
        tl_tensor_shape(x, shape);
        tl_tensor *c;
        st = tl_op_contiguous(r, &c);
        tl_tensor_unref(r);
        if (st != TL_OK) return st;
        st = tl_op_reshape(c, x->n_dims, shape, &r);
        tl_tensor_unref(c);
        if (st != TL_OK) return st;
    }
    *out = r;
    return TL_OK;
}

bool tl_ag_needs(const tl_ag_ctx *c, int i) {
    if (i >= c->argc) return false;
    const tl_value *v = &c->argv[i];
    if (v->kind == TL_VAL_TENSOR) return v->as.tensor->requires_grad;
    if (v->kind == TL_VAL_ARRAY)
        for (size_t j = 0; j < v->as.arr->len; j++)
            if (v->as.arr->items[j].kind == TL_VAL_TENSOR &&
                v->as.arr->items[j].as.tensor->requires_grad)
                return true;
    return false;
}

tl_tensor *tl_ag_arg(const tl_ag_ctx *c, int i) {
    return i < c->argc && c->argv[i].kind == TL_VAL_TENSOR ? c->argv[i].as.tensor : NULL;
}

tl_status tl_ag_emit(tl_ag_ctx *c, int i, int j, tl_tensor *gi) {
    if (!gi) return TL_OK;
    const tl_value *v = i < c->argc ? &c->argv[i] : NULL;
    tl_tensor *x = NULL;
    if (v && v->kind == TL_VAL_TENSOR && j < 0) x = v->as.tensor;
    if (v && v->kind == TL_VAL_ARRAY && j >= 0 && (size_t)j < v->as.arr->len &&
        v->as.arr->items[j].kind == TL_VAL_TENSOR)
        x = v->as.arr->items[j].as.tensor;
    if (!x || !x->requires_grad) {
        tl_tensor_unref(gi);
        return TL_OK;
    }
    tl_tensor *g;
    tl_status st = fit(x, gi, c->name, &g);
    if (st != TL_OK) return st;
    ag_pass *p = c->priv;
    for (int k = 0; k < p->n_targets; k++)
        if (p->targets[k] == x) {
            st = accumulate(&p->grads[k], tl_tensor_ref(g));
            if (st != TL_OK) {
                tl_tensor_unref(g);
                return st;
            }
        }
    if (x->grad_fn) return accumulate(&((ag_node *)x->grad_fn)->gacc, g);
    if (p->n_targets == 0) return accumulate(&x->grad, g);
    tl_tensor_unref(g);
    return TL_OK;
}

tl_status tl_ag_backward(tl_tensor *loss, int n_targets, tl_tensor *const *targets,
                         tl_tensor **grads) {
    for (int k = 0; k < n_targets; k++)
        grads[k] = NULL;
    ag_pass p = {.n_targets = n_targets, .targets = targets, .grads = grads};
    tl_status st = TL_OK;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(loss, shape);
    tl_tensor *seed = NULL;
    if (loss->requires_grad) st = tl_op_full(TL_DTYPE_F32, loss->n_dims, shape, 1.0, &seed);
    for (int k = 0; k < n_targets && st == TL_OK; k++)
        if (targets[k] == loss) st = accumulate(&grads[k], tl_tensor_ref(seed));
    ag_node *root = (ag_node *)loss->grad_fn;
    if (st == TL_OK && !loss->grad_fn && loss->requires_grad && n_targets == 0) {
        st = accumulate(&loss->grad, seed); /* the loss is itself a parameter */
        seed = NULL;
    }
    if (st == TL_OK && root) {
        if (++pass_mark == 0) pass_mark = 1;
        st = topo(&p, root);
        if (st == TL_OK) {
            tl_tensor_unref(root->gacc);
            root->gacc = seed;
            seed = NULL;
        }
        for (size_t k = p.n_order; k-- > 0 && st == TL_OK;) {
            ag_node *n = p.order[k];
            if (!n->gacc) continue;
            tl_ag_ctx c = {.name = n->name,
                           .op = n->op,
                           .data = n->data,
                           .argc = n->argc,
                           .argv = n->argv,
                           .out = n->out,
                           .g = n->gacc,
                           .priv = &p};
            tl_clear_error();
            st = n->backward(&c);
            tl_tensor_unref(n->gacc);
            n->gacc = NULL;
        }
        for (size_t k = 0; k < p.n_order; k++) {
            tl_tensor_unref(p.order[k]->gacc);
            p.order[k]->gacc = NULL;
        }
    }
    tl_tensor_unref(seed);
    free(p.order);
    for (int k = 0; k < n_targets && st == TL_OK; k++) {
        if (grads[k]) continue;
        int64_t s[TL_MAX_DIMS];
        tl_tensor_shape(targets[k], s);
        st = tl_op_full(TL_DTYPE_F32, targets[k]->n_dims, s, 0.0, &grads[k]);
    }
    if (st != TL_OK)
        for (int k = 0; k < n_targets; k++) {
            tl_tensor_unref(grads[k]);
            grads[k] = NULL;
        }
    return st;
}
