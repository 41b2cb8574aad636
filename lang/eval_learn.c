/* lang/eval_learn.c -- learnable declarations, no_grad and learn { } (see
** lang/eval_learn.h and docs/learning.md). */
#include "lang/eval_learn.h"

#include "lang/autograd.h"
#include "lang/eval.h"
#include "runtime/ops.h"
#include "runtime/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tl_status tl_learn_init(const char *kind, int n_dims, const int64_t *shape, double a, double b,
                        tl_tensor **out); /* lang/builtins/learn.c */

/* ---- declarations -------------------------------------------------------------------------- */

static const char *init_name(const tl_node *e) {
    if (e->kind == TL_N_IDENT) return e->name;
    if (e->kind == TL_N_CALL && e->a->kind == TL_N_IDENT) return e->a->name;
    return NULL;
}

bool tl_learn_is_init(tl_interp *I, const tl_node *init) {
    const char *nm = init_name(init);
    if (!nm || tl_scope_lookup(I, nm) || tl_find_fn(I, nm)) return false;
    static const char *const names[] = {"xavier", "kaiming", "normal", "uniform", "zeros", "ones"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(nm, names[i]) == 0) {
            /* normal([2, 3]) etc. with an explicit shape are ordinary calls */
            if (init->kind == TL_N_CALL && init->b && init->b->kind == TL_N_ARRAY) return false;
            if (init->kind == TL_N_CALL && (!strcmp(nm, "xavier") || !strcmp(nm, "kaiming")))
                return init->b == NULL;
            return true;
        }
    return false;
}

tl_flow tl_learn_init_value(tl_interp *I, const tl_node *n, tl_value *out) {
    const tl_node *type = n->c, *init = n->a;
    const char *nm = init_name(init);
    int64_t shape[TL_MAX_DIMS];
    int rank = 0;
    for (const tl_node *d = type->a; d; d = d->next) {
        if (d->v.i < 0 || rank >= TL_MAX_DIMS)
            return tl_err_at(I, d, TL_ERR_SHAPE, "tensor %s: %s needs fixed sizes", n->name, nm);
        shape[rank++] = d->v.i;
    }
    bool uni = !strcmp(nm, "uniform");
    double p[2] = {uni ? -1.0 : 0.0, 1.0};
    int k = 0;
    if (init->kind == TL_N_CALL)
        for (const tl_node *a = init->b; a; a = a->next, k++) {
            if (k >= 2) return tl_err_at(I, a, TL_ERR_ARG, "%s takes at most 2 arguments", nm);
            tl_value v;
            tl_flow fl = tl_eval_expr(I, a, &v);
            if (fl != TL_FLOW_OK) return fl;
            bool num = tl_value_is_number(&v);
            if (num) p[k] = tl_value_as_double(&v);
            tl_value_release(&v);
            if (!num) return tl_err_at(I, a, TL_ERR_TYPE, "%s: arguments must be numbers", nm);
        }
    tl_tensor *t;
    tl_status st;
    if (!strcmp(nm, "zeros") || !strcmp(nm, "ones"))
        st = tl_op_full(TL_DTYPE_F32, rank, shape, !strcmp(nm, "ones") ? 1.0 : 0.0, &t);
    else
        st = tl_learn_init(nm, rank, shape, p[0], p[1], &t);
    if (st != TL_OK) return tl_err_status(I, init, st);
    *out = tl_value_tensor(t);
    return TL_FLOW_OK;
}

tl_flow tl_learn_mark(tl_interp *I, const tl_node *n, tl_value *v) {
    if (v->kind != TL_VAL_TENSOR)
        return tl_err_at(I, n, TL_ERR_TYPE, "learnable tensor %s needs a tensor value", n->name);
    tl_tensor *t = v->as.tensor, *c;
    /* a private copy unless we hold the only reference to a plain fresh tensor */
    tl_status st = TL_OK;
    if (t->refcount != 1 || t->storage->refcount != 1 || t->storage->release || t->grad_fn ||
        t->requires_grad || t->dtype != TL_DTYPE_F32 || !tl_tensor_is_contiguous(t)) {
        st = tl_op_cast(t, TL_DTYPE_F32, &c);
        if (st == TL_OK) {
            tl_value_release(v);
            *v = tl_value_tensor(c);
            t = c;
        }
    }
    if (st == TL_OK) st = tl_ag_make_param(t);
    if (st == TL_OK && !t->name) st = tl_tensor_set_name(t, n->name);
    return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
}

bool tl_learn_assign_in_place(tl_value *slot, tl_value *v) {
    if (tl_ag_enabled() || slot->kind != TL_VAL_TENSOR || v->kind != TL_VAL_TENSOR) return false;
    tl_tensor *w = slot->as.tensor, *e = v->as.tensor, *c;
    if (!w->requires_grad || w->grad_fn || w == e || w->n_dims != e->n_dims ||
        !tl_tensor_same_shape(w, e) || !tl_tensor_is_contiguous(w))
        return false;
    if (tl_op_cast(e, TL_DTYPE_F32, &c) != TL_OK) return false;
    memcpy(tl_tensor_data(w), tl_tensor_data(c), (size_t)tl_tensor_nelements(w) * sizeof(float));
    tl_tensor_unref(c);
    tl_value_release(v);
    return true;
}

/* ---- no_grad ------------------------------------------------------------------------------- */

tl_flow tl_exec_no_grad(tl_interp *I, const tl_node *n) {
    tl_ag_no_grad_enter();
    tl_flow fl = tl_exec_block(I, n->b, NULL);
    tl_ag_no_grad_leave();
    return fl;
}

/* ---- learn { } ----------------------------------------------------------------------------- */

typedef struct param_set {
    tl_tensor **p;
    int n, cap;
} param_set;

static tl_status add_params(param_set *s, const tl_value *v, int depth) {
    if (depth > 8) return TL_OK;
    if (v->kind == TL_VAL_TENSOR) {
        tl_tensor *t = v->as.tensor;
        if (!t->requires_grad || t->grad_fn) return TL_OK;
        for (int i = 0; i < s->n; i++)
            if (s->p[i] == t) return TL_OK;
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 16;
            tl_tensor **p = realloc(s->p, (size_t)cap * sizeof *p);
            if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
            s->p = p;
            s->cap = cap;
        }
        s->p[s->n++] = t;
    } else if (v->kind == TL_VAL_ARRAY) {
        for (size_t i = 0; i < v->as.arr->len; i++) {
            tl_status st = add_params(s, &v->as.arr->items[i], depth + 1);
            if (st != TL_OK) return st;
        }
    } else if (v->kind == TL_VAL_STRUCT) {
        for (uint32_t i = 0; i < v->as.st->n; i++) {
            tl_status st = add_params(s, &v->as.st->fields[i], depth + 1);
            if (st != TL_OK) return st;
        }
    }
    return TL_OK;
}

typedef struct learn_opts {
    tl_optim_config opt;
    tl_sched sched;
    int64_t epochs, batches, log_every;
} learn_opts;

static tl_flow num_of(tl_interp *I, const tl_node *e, const char *what, double *out) {
    tl_value v;
    tl_flow fl = tl_eval_expr(I, e, &v);
    if (fl != TL_FLOW_OK) return fl;
    bool ok = tl_value_is_number(&v);
    if (ok) *out = tl_value_as_double(&v);
    tl_value_release(&v);
    if (!ok) return tl_err_at(I, e, TL_ERR_TYPE, "learn: %s must be a number", what);
    return TL_FLOW_OK;
}

/* The range of each optimizer or scheduler parameter (PyTorch refuses the same
** values): an error at the parameter's node when v is outside it. */
static tl_flow check_range(tl_interp *I, const tl_node *at, const char *name, double v) {
    const char *need = NULL;
    if (!strcmp(name, "lr") || !strcmp(name, "clip") || !strcmp(name, "gamma"))
        need = isfinite(v) && v > 0 ? NULL : "a finite number > 0";
    else if (!strcmp(name, "momentum") || !strcmp(name, "eps") || !strcmp(name, "weight_decay") ||
             !strcmp(name, "eta_min"))
        need = isfinite(v) && v >= 0 ? NULL : "a finite number >= 0";
    else if (!strcmp(name, "beta1") || !strcmp(name, "beta2"))
        need = v >= 0 && v < 1 ? NULL : "in [0, 1)";
    else if (!strcmp(name, "step_size") || !strcmp(name, "t_max"))
        need = v >= 1 && v <= 1e12 && v == floor(v) ? NULL : "a positive integer";
    if (!need) return TL_FLOW_OK;
    return tl_err_at(I, at, TL_ERR_ARG, "learn: %s must be %s, not %s", name, need, tl_num_str(v));
}

static tl_flow parse_optimizer(tl_interp *I, const tl_node *f, learn_opts *o) {
    if (f->kind != TL_N_STRUCTLIT)
        return tl_err_at(I, f, TL_ERR_ARG,
                         "learn: optimizer must be sgd(..), adam(..) or adamw(..)");
    tl_optim_kind k;
    if (!strcmp(f->name, "sgd"))
        k = TL_OPTIM_SGD;
    else if (!strcmp(f->name, "adam"))
        k = TL_OPTIM_ADAM;
    else if (!strcmp(f->name, "adamw"))
        k = TL_OPTIM_ADAMW;
    else
        return tl_err_at(I, f, TL_ERR_ARG, "learn: unknown optimizer %s (sgd, adam or adamw)",
                         f->name);
    double clip = o->opt.clip_norm;
    o->opt = tl_optim_defaults(k);
    o->opt.clip_norm = clip;
    for (const tl_node *p = f->a; p; p = p->next) {
        double *slot = !strcmp(p->name, "lr")             ? &o->opt.lr
                       : !strcmp(p->name, "momentum")     ? &o->opt.momentum
                       : !strcmp(p->name, "beta1")        ? &o->opt.beta1
                       : !strcmp(p->name, "beta2")        ? &o->opt.beta2
                       : !strcmp(p->name, "eps")          ? &o->opt.eps
                       : !strcmp(p->name, "weight_decay") ? &o->opt.weight_decay
                       : !strcmp(p->name, "clip")         ? &o->opt.clip_norm
                                                          : NULL;
        if (!slot || (k == TL_OPTIM_SGD && slot != &o->opt.lr && slot != &o->opt.momentum &&
                      slot != &o->opt.weight_decay && slot != &o->opt.clip_norm))
            return tl_err_at(I, p, TL_ERR_ARG, "learn: %s has no parameter '%s'", f->name, p->name);
        tl_flow fl = num_of(I, p->a, p->name, slot);
        if (fl == TL_FLOW_OK) fl = check_range(I, p->a, p->name, *slot);
        if (fl != TL_FLOW_OK) return fl;
    }
    return TL_FLOW_OK;
}

static tl_flow parse_scheduler(tl_interp *I, const tl_node *f, learn_opts *o) {
    if (f->kind != TL_N_STRUCTLIT)
        return tl_err_at(I, f, TL_ERR_ARG,
                         "learn: scheduler must be step(..), exponential(..) or cosine(..)");
    tl_sched *s = &o->sched;
    *s = (tl_sched){.gamma = 0.1, .step_size = 10, .t_max = o->epochs};
    if (!strcmp(f->name, "step")) {
        s->kind = TL_SCHED_STEP;
    } else if (!strcmp(f->name, "exponential")) {
        s->kind = TL_SCHED_EXPONENTIAL;
        s->gamma = 0.95;
    } else if (!strcmp(f->name, "cosine")) {
        s->kind = TL_SCHED_COSINE;
    } else {
        return tl_err_at(I, f, TL_ERR_ARG,
                         "learn: unknown scheduler %s (step, exponential or cosine)", f->name);
    }
    for (const tl_node *p = f->a; p; p = p->next) {
        double v = 0;
        tl_flow fl = num_of(I, p->a, p->name, &v);
        if (fl == TL_FLOW_OK) fl = check_range(I, p->a, p->name, v);
        if (fl != TL_FLOW_OK) return fl;
        if (!strcmp(p->name, "gamma"))
            s->gamma = v;
        else if (!strcmp(p->name, "step_size"))
            s->step_size = (int64_t)v;
        else if (!strcmp(p->name, "t_max"))
            s->t_max = (int64_t)v;
        else if (!strcmp(p->name, "eta_min"))
            s->eta_min = v;
        else
            return tl_err_at(I, p, TL_ERR_ARG, "learn: %s has no parameter '%s'", f->name, p->name);
    }
    return TL_FLOW_OK;
}

static tl_flow parse_opts(tl_interp *I, const tl_node *n, learn_opts *o) {
    *o = (learn_opts){.epochs = -1, .batches = 1, .log_every = 0};
    const tl_node *optimizer = NULL, *scheduler = NULL;
    for (const tl_node *p = n->c; p; p = p->next) {
        if (!strcmp(p->name, "optimizer")) {
            optimizer = p->a;
        } else if (!strcmp(p->name, "scheduler")) {
            scheduler = p->a;
        } else if (!strcmp(p->name, "epochs") || !strcmp(p->name, "batches") ||
                   !strcmp(p->name, "log_every") || !strcmp(p->name, "clip")) {
            double v = 0;
            tl_flow fl = num_of(I, p->a, p->name, &v);
            if (fl != TL_FLOW_OK) return fl;
            if (!strcmp(p->name, "clip")) {
                fl = check_range(I, p->a, "clip", v);
                if (fl != TL_FLOW_OK) return fl;
                o->opt.clip_norm = v;
                continue;
            }
            if (v < 1 || v != floor(v) || v > 1e12)
                return tl_err_at(I, p, TL_ERR_ARG, "learn: %s must be a positive integer", p->name);
            *(!strcmp(p->name, "epochs")    ? &o->epochs
              : !strcmp(p->name, "batches") ? &o->batches
                                            : &o->log_every) = (int64_t)v;
        } else {
            return tl_err_at(I, p, TL_ERR_ARG,
                             "learn: unknown option '%s' (optimizer, epochs, scheduler, "
                             "batches, clip, log_every)",
                             p->name);
        }
    }
    if (!optimizer) return tl_err_at(I, n, TL_ERR_ARG, "learn: no optimizer given");
    if (o->epochs < 0) return tl_err_at(I, n, TL_ERR_ARG, "learn: no epochs given");
    tl_flow fl = parse_optimizer(I, optimizer, o);
    if (fl == TL_FLOW_OK && scheduler) fl = parse_scheduler(I, scheduler, o);
    if (o->log_every == 0) o->log_every = o->epochs >= 10 ? o->epochs / 10 : 1;
    return fl;
}

/* One step: run the statements, evaluate the objective, backward, update. */
static tl_flow learn_step(tl_interp *I, const tl_node *n, param_set *ps, tl_optim *opt, double lr,
                          int64_t epoch, int64_t batch, double *loss_out) {
    tl_scope scope = {.parent = I->cur};
    tl_scope *saved = I->cur;
    I->cur = &scope;
    tl_status st = tl_scope_declare(&scope, "epoch", tl_value_int(epoch));
    if (st == TL_OK) st = tl_scope_declare(&scope, "batch", tl_value_int(batch));
    tl_flow fl = st == TL_OK ? tl_exec_list(I, n->a, NULL) : tl_err_status(I, n, st);
    tl_value loss = TL_VOID;
    if (fl == TL_FLOW_OK) fl = tl_eval_expr(I, n->b, &loss);
    I->cur = saved;
    if (fl == TL_FLOW_OK) {
        if (loss.kind != TL_VAL_TENSOR || tl_tensor_nelements(loss.as.tensor) != 1)
            fl = tl_err_at(I, n->b, TL_ERR_TYPE,
                           "learn: the objective must be a one-element tensor, got %s",
                           tl_value_type_name(&loss));
        else if (!loss.as.tensor->requires_grad)
            fl = tl_err_at(I, n->b, TL_ERR_ARG,
                           "learn: the objective does not depend on any learnable tensor");
    }
    if (fl == TL_FLOW_OK) {
        for (int i = 0; i < ps->n; i++) {
            tl_tensor_unref(ps->p[i]->grad);
            ps->p[i]->grad = NULL;
        }
        st = tl_tensor_get_f64(loss.as.tensor, 0, loss_out);
        if (st == TL_OK) st = tl_ag_backward(loss.as.tensor, 0, NULL, NULL);
        /* the graph goes with the loss and the scope before the update */
        tl_value_release(&loss);
        tl_scope_clear(&scope);
        if (st == TL_OK) st = tl_optim_step(opt, lr, NULL);
        if (st != TL_OK) fl = tl_err_status(I, n->b, st);
    }
    tl_value_release(&loss);
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    return fl;
}

tl_flow tl_exec_learn(tl_interp *I, const tl_node *n) {
    learn_opts o;
    tl_flow fl = parse_opts(I, n, &o);
    if (fl != TL_FLOW_OK) return fl;
    param_set ps = {0};
    tl_status st = TL_OK;
    for (tl_scope *s = I->cur; s && st == TL_OK; s = s->parent)
        for (uint32_t i = 0; i < s->n && st == TL_OK; i++)
            st = add_params(&ps, &s->vars[i].v, 0);
    if (I->cur != &I->globals)
        for (uint32_t i = 0; i < I->globals.n && st == TL_OK; i++)
            st = add_params(&ps, &I->globals.vars[i].v, 0);
    if (st == TL_OK && ps.n == 0)
        st = tl_fail(TL_ERR_ARG, "learn: no learnable tensors in scope (declare one with "
                                 "`tensor W: float32[..] learnable`)");
    tl_optim *opt = NULL;
    if (st == TL_OK) st = tl_optim_new(&o.opt, ps.n, ps.p, &opt);
    if (st != TL_OK) {
        free(ps.p);
        return tl_err_status(I, n, st);
    }
    const char *q = getenv("TL_QUIET");
    bool quiet = q && *q && strcmp(q, "0") != 0;
    for (int64_t e = 0; e < o.epochs && fl == TL_FLOW_OK; e++) {
        double lr = tl_sched_lr(&o.sched, o.opt.lr, e), total = 0;
        for (int64_t b = 0; b < o.batches && fl == TL_FLOW_OK; b++) {
            double l = 0;
            fl = learn_step(I, n, &ps, opt, lr, e, b, &l);
            total += l;
        }
        if (fl == TL_FLOW_OK && !quiet &&
            (e == 0 || e == o.epochs - 1 || (e + 1) % o.log_every == 0)) {
            char line[96];
            int len = snprintf(line, sizeof line, "epoch %lld/%lld: loss %.6f\n",
                               (long long)(e + 1), (long long)o.epochs, total / (double)o.batches);
            tl_interp_write(I, line, (size_t)len, true);
        }
    }
    tl_optim_free(opt);
    free(ps.p);
    return fl;
}
