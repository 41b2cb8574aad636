/* lang/eval_stmt.c -- statements, blocks, loops, assignments and type checks
** (tensor declarations: eval_tensor_decl.c). */
#include "lang/display.h"
#include "lang/eval_internal.h"
#include "lang/eval_logic.h"
#include "lang/equation.h"
#include "lang/eval_learn.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ types */

void tl_type_str(tl_strbuf *b, const tl_node *t) {
    if (!t) {
        tl_strbuf_puts(b, "any");
        return;
    }
    tl_strbuf_puts(b, t->name);
    if (t->kind == TL_T_TENSOR) {
        tl_strbuf_putc(b, '[');
        for (const tl_node *d = t->a; d; d = d->next) {
            if (d != t->a) tl_strbuf_puts(b, ", ");
            if (d->v.i < 0)
                tl_strbuf_putc(b, '?');
            else
                tl_strbuf_printf(b, "%lld", (long long)d->v.i);
        }
        tl_strbuf_putc(b, ']');
    }
}

static void describe_value(tl_strbuf *b, const tl_value *v) {
    if (v->kind == TL_VAL_TENSOR) {
        char shape[128];
        tl_strbuf_printf(b, "tensor %s", tl_tensor_shape_str(v->as.tensor, shape, sizeof shape));
    } else if (v->kind == TL_VAL_STRUCT) {
        tl_strbuf_puts(b, v->as.st->decl->name);
    } else {
        tl_strbuf_puts(b, tl_value_type_name(v));
    }
}

static void describe_what(tl_strbuf *b, const tl_what *w) {
    if (w->arg > 0)
        tl_strbuf_printf(b, "argument %d (%s) of %s", w->arg, w->a, w->b);
    else if (w->b)
        tl_strbuf_printf(b, "%s %s.%s", w->kind, w->a, w->b);
    else
        tl_strbuf_printf(b, "%s %s", w->kind, w->a);
}

static tl_flow type_mismatch(tl_interp *I, const tl_node *site, const tl_node *type,
                             const tl_value *v, const tl_what *what) {
    tl_strbuf want = {0}, got = {0}, where = {0};
    tl_type_str(&want, type);
    describe_value(&got, v);
    describe_what(&where, what);
    tl_flow fl = tl_err_at(I, site, TL_ERR_TYPE, "%s: expected %s, got %s", tl_strbuf_cstr(&where),
                           tl_strbuf_cstr(&want), tl_strbuf_cstr(&got));
    tl_strbuf_free(&want);
    tl_strbuf_free(&got);
    tl_strbuf_free(&where);
    return fl;
}

/* What a named type annotation means, worked out once per annotation node and
** cached in it (struct names can be defined later: the cache holds for one
** definition epoch). */
enum { TC_OTHER = 1, TC_INT, TC_FLOAT, TC_BOOL, TC_STRING, TC_VOID, TC_BASE, TC_STRUCT };
static const int type_classes[] = {0,         TC_OTHER, TC_INT,  TC_FLOAT, TC_BOOL,
                                   TC_STRING, TC_VOID,  TC_BASE, TC_STRUCT};

static int type_class(tl_interp *I, const tl_node *type) {
    if (type->cache_epoch == I->defs_epoch && type->cache) return *(const int *)type->cache;
    const char *n = type->name;
    int c = TC_OTHER;
    if (strcmp(n, "int") == 0 || strcmp(n, "i64") == 0 || strcmp(n, "i32") == 0)
        c = TC_INT;
    else if (strcmp(n, "float") == 0 || strcmp(n, "f64") == 0 || strcmp(n, "f32") == 0)
        c = TC_FLOAT;
    else if (strcmp(n, "bool") == 0)
        c = TC_BOOL;
    else if (strcmp(n, "string") == 0 || strcmp(n, "String") == 0)
        c = TC_STRING;
    else if (strcmp(n, "void") == 0)
        c = TC_VOID;
    else if (strncmp(n, "float", 5) == 0 || strncmp(n, "int", 3) == 0)
        c = TC_BASE;
    else if (tl_find_struct(I, n))
        c = TC_STRUCT;
    ((tl_node *)type)->cache = &type_classes[c];
    ((tl_node *)type)->cache_epoch = I->defs_epoch;
    return c;
}

/* Checks v against a declared type; converts int -> float for `float`. */
tl_flow tl_check_type(tl_interp *I, const tl_node *site, const tl_node *type, tl_value *v,
                      const tl_what *what) {
    if (!type) return TL_FLOW_OK;
    const char *n = type->name;
    if (type->kind == TL_T_TENSOR) {
        int rank = (int)tl_node_list_len(type->a);
        if (v->kind == TL_VAL_ARRAY && rank == 1) {
            const tl_node *d = type->a;
            if (d->v.i >= 0 && (size_t)d->v.i != v->as.arr->len)
                return type_mismatch(I, site, type, v, what);
            return TL_FLOW_OK;
        }
        if (v->kind != TL_VAL_TENSOR) return type_mismatch(I, site, type, v, what);
        const tl_tensor *t = v->as.tensor;
        if (t->n_dims != rank) return type_mismatch(I, site, type, v, what);
        int ax = 0;
        for (const tl_node *d = type->a; d; d = d->next, ax++)
            if (d->v.i >= 0 && t->ne[rank - 1 - ax] != d->v.i)
                return type_mismatch(I, site, type, v, what);
        return TL_FLOW_OK;
    }
    switch (type_class(I, type)) {
    case TC_INT:
        if (v->kind != TL_VAL_INT) return type_mismatch(I, site, type, v, what);
        break;
    case TC_FLOAT:
        if (v->kind == TL_VAL_INT)
            *v = tl_value_float((double)v->as.i);
        else if (v->kind != TL_VAL_FLOAT)
            return type_mismatch(I, site, type, v, what);
        break;
    case TC_BOOL:
        if (v->kind != TL_VAL_BOOL) return type_mismatch(I, site, type, v, what);
        break;
    case TC_STRING:
        if (v->kind != TL_VAL_STRING) return type_mismatch(I, site, type, v, what);
        break;
    case TC_VOID:
        if (v->kind != TL_VAL_VOID) return type_mismatch(I, site, type, v, what);
        break;
    case TC_BASE: /* a bare base type (float32, int64, ...): a tensor or a number */
        if (v->kind != TL_VAL_TENSOR && !tl_value_is_number(v))
            return type_mismatch(I, site, type, v, what);
        break;
    case TC_STRUCT:
        if (v->kind != TL_VAL_STRUCT || strcmp(v->as.st->decl->name, n) != 0)
            return type_mismatch(I, site, type, v, what);
        break;
    default:
        if (v->kind == TL_VAL_STRUCT || v->kind == TL_VAL_OBJECT) {
            /* named host or struct types must match by name; other names are generic */
            const char *have =
                v->kind == TL_VAL_STRUCT ? v->as.st->decl->name : v->as.obj->cls->name;
            if (strlen(n) > 1 && strcmp(have, n) != 0 && strcmp(n, "Tensor") != 0)
                return type_mismatch(I, site, type, v, what);
        }
    }
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ assignment */

static tl_flow assign(tl_interp *I, const tl_node *target, tl_value v) {
    if (target->kind == TL_N_IDENT) {
        tl_var *var = tl_scope_lookup(I, target->name);
        if (var && tl_learn_assign_in_place(&var->v, &v)) return TL_FLOW_OK; /* no_grad update */
        if (var) {
            tl_value_release(&var->v);
            var->v = v;
            return TL_FLOW_OK;
        }
        tl_status st = tl_scope_declare(I->cur, target->name, v);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, target, st);
    }
    if (target->kind == TL_N_INDEX && target->a->kind == TL_N_IDENT) {
        tl_var *var = tl_scope_lookup(I, target->a->name);
        if (var && var->v.kind == TL_VAL_TENSOR) {
            tl_flow tf = tl_assign_tensor_index(I, target, &var->v, &v);
            tl_value_release(&v);
            return tf;
        }
    }
    tl_value obj;
    tl_flow fl = tl_eval_expr(I, target->a, &obj);
    if (fl != TL_FLOW_OK) {
        tl_value_release(&v);
        return fl;
    }
    if (target->kind == TL_N_FIELD) {
        if (obj.kind != TL_VAL_STRUCT) {
            fl = tl_err_at(I, target, TL_ERR_TYPE, "cannot set field '%s' of %s", target->name,
                           tl_value_type_name(&obj));
        } else {
            int k = tl_struct_field_index(obj.as.st, target->name);
            if (k < 0)
                fl = tl_err_at(I, target, TL_ERR_ARG, "%s has no field '%s'", obj.as.st->decl->name,
                               target->name);
            else if (tl_value_would_cycle(&v, obj.as.st))
                fl = tl_err_at(I, target, TL_ERR_ARG, "cannot store a value inside itself");
            else {
                const tl_node *f = obj.as.st->decl->a;
                for (int i = 0; i < k; i++)
                    f = f->next;
                const tl_what what = {
                    .kind = "field", .a = obj.as.st->decl->name, .b = target->name};
                fl = tl_check_type(I, target, f->c, &v, &what);
                if (fl == TL_FLOW_OK) {
                    tl_value_release(&obj.as.st->fields[k]);
                    obj.as.st->fields[k] = v;
                    v = TL_VOID;
                }
            }
        }
    } else { /* index */
        const tl_node *ix = target->b;
        tl_value iv = TL_VOID;
        if (obj.kind != TL_VAL_ARRAY) {
            fl = tl_err_at(I, target, TL_ERR_TYPE, "cannot assign to an element of %s%s",
                           tl_value_type_name(&obj),
                           obj.kind == TL_VAL_TENSOR
                               ? " (only a variable's tensor can be assigned into)"
                               : "");
        } else if (ix->next || ix->kind == TL_N_SLICE) {
            fl = tl_err_at(I, target, TL_ERR_ARG, "array assignment takes a single index");
        } else if ((fl = tl_eval_expr(I, ix, &iv)) == TL_FLOW_OK) {
            tl_array *a = obj.as.arr;
            if (iv.kind != TL_VAL_INT) {
                fl = tl_err_at(I, ix, TL_ERR_TYPE, "an index must be an int, got %s",
                               tl_value_type_name(&iv));
            } else {
                int64_t i = iv.as.i < 0 ? iv.as.i + (int64_t)a->len : iv.as.i;
                if (i < 0 || i >= (int64_t)a->len)
                    fl = tl_err_at(I, ix, TL_ERR_RANGE,
                                   "index %lld out of range for array of length %zu",
                                   (long long)iv.as.i, a->len);
                else if (tl_value_would_cycle(&v, a))
                    fl = tl_err_at(I, target, TL_ERR_ARG, "cannot store an array inside itself");
                else {
                    tl_value_release(&a->items[i]);
                    a->items[i] = v;
                    v = TL_VOID;
                }
            }
            tl_value_release(&iv);
        }
    }
    tl_value_release(&v);
    tl_value_release(&obj);
    return fl;
}

/* ------------------------------------------------------------------ loops */

static tl_flow count_step(tl_interp *I, const tl_node *n) {
    if (I->max_steps && ++I->steps > I->max_steps)
        return tl_err_at(I, n, TL_ERR_INTERRUPTED, "step limit of %lld exceeded",
                         (long long)I->max_steps);
    return tl_guard(I, n);
}

/* Runs one loop body iteration in `scope` (cleared first is the caller's job).
** Returns OK to continue looping, BREAK (mapped to OK by the caller), or another flow. */
static tl_flow loop_body(tl_interp *I, const tl_node *body, tl_scope *scope) {
    tl_scope *saved = I->cur;
    I->cur = scope;
    tl_flow fl = tl_exec_list(I, body->a, NULL);
    I->cur = saved;
    tl_scope_clear(scope);
    if (fl == TL_FLOW_CONTINUE) fl = TL_FLOW_OK;
    return fl;
}

static bool is_range_call(tl_interp *I, const tl_node *e) {
    if (e->kind != TL_N_CALL || e->a->kind != TL_N_IDENT) return false;
    const char *n = e->a->name;
    if (strcmp(n, "range") != 0 && strcmp(n, "range_i") != 0) return false;
    return !tl_find_fn(I, n) && !tl_scope_lookup(I, n);
}

static tl_flow for_range(tl_interp *I, const tl_node *n, tl_scope *scope) {
    int64_t v[3] = {0, 0, 1};
    int argc = 0;
    const tl_node *call = n->a;
    for (const tl_node *a = call->b; a; a = a->next, argc++) {
        if (argc >= 3)
            return tl_err_at(I, a, TL_ERR_ARG, "%s takes 1 to 3 arguments", call->a->name);
        tl_value x;
        tl_flow fl = tl_eval_expr(I, a, &x);
        if (fl != TL_FLOW_OK) return fl;
        if (x.kind != TL_VAL_INT) {
            tl_flow e = tl_err_at(I, a, TL_ERR_TYPE, "%s: arguments must be ints, got %s",
                                  call->a->name, tl_value_type_name(&x));
            tl_value_release(&x);
            return e;
        }
        v[argc] = x.as.i;
    }
    if (argc == 0)
        return tl_err_at(I, call, TL_ERR_ARG, "%s takes 1 to 3 arguments", call->a->name);
    int64_t start = argc == 1 ? 0 : v[0], end = argc == 1 ? v[0] : v[1],
            step = argc == 3 ? v[2] : 1;
    if (step == 0) return tl_err_at(I, call, TL_ERR_ARG, "%s: step must not be 0", call->a->name);
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step) {
        tl_flow fl = count_step(I, n);
        if (fl == TL_FLOW_OK)
            fl = tl_scope_declare(scope, n->name, tl_value_int(i)) == TL_OK
                     ? TL_FLOW_OK
                     : tl_err_status(I, n, TL_ERR_NOMEM);
        if (fl == TL_FLOW_OK) fl = loop_body(I, n->b, scope);
        if (fl == TL_FLOW_BREAK) return TL_FLOW_OK;
        if (fl != TL_FLOW_OK) return fl;
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return TL_FLOW_OK;
}

tl_status tl_tensor_row_value(tl_tensor *t, int64_t i, tl_value *out);

static tl_flow exec_for(tl_interp *I, const tl_node *n) {
    tl_scope scope = {.parent = I->cur};
    tl_flow fl;
    if (is_range_call(I, n->a)) {
        fl = for_range(I, n, &scope);
        tl_scope_clear(&scope);
        tl_scope_free_vars(&scope);
        return fl;
    }
    tl_value it;
    fl = tl_eval_expr(I, n->a, &it);
    if (fl != TL_FLOW_OK) return fl;
    if (it.kind == TL_VAL_ARRAY) {
        for (size_t i = 0; i < it.as.arr->len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_scope_declare(&scope, n->name, tl_value_retain(it.as.arr->items[i]));
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else if (it.kind == TL_VAL_TENSOR) {
        tl_tensor *t = it.as.tensor;
        int64_t len = t->n_dims == 0 ? 1 : t->ne[t->n_dims - 1];
        for (int64_t i = 0; i < len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_value row;
            tl_status st = tl_tensor_row_value(t, i, &row);
            if (st != TL_OK) {
                fl = tl_err_status(I, n->a, st);
                break;
            }
            tl_scope_declare(&scope, n->name, row);
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else if (it.kind == TL_VAL_STRING) {
        for (size_t i = 0; i < it.as.str->len; i++) {
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
            tl_value ch;
            if (tl_value_string(it.as.str->data + i, 1, &ch) != TL_OK) {
                fl = tl_err_status(I, n, TL_ERR_NOMEM);
                break;
            }
            tl_scope_declare(&scope, n->name, ch);
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
        }
    } else {
        fl = tl_err_at(I, n->a, TL_ERR_TYPE, "cannot iterate over %s", tl_value_type_name(&it));
    }
    if (fl == TL_FLOW_BREAK) fl = TL_FLOW_OK;
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    tl_value_release(&it);
    return fl;
}

static tl_flow eval_cond(tl_interp *I, const tl_node *e, bool *out, const char *what) {
    tl_value c;
    tl_flow fl = tl_eval_expr(I, e, &c);
    if (fl != TL_FLOW_OK) return fl;
    if (c.kind == TL_VAL_TENSOR) { /* `if t > 0.5` on a one-element tensor: its value */
        int64_t n = tl_tensor_nelements(c.as.tensor);
        const tl_builtin_def *item = n == 1 ? tl_builtin_resolve("item", 1, &c) : NULL;
        tl_value v = TL_VOID;
        if (!item) {
            fl = tl_err_at(I, e, TL_ERR_TYPE,
                           "%s condition is a tensor of %lld elements; reduce it first "
                           "(e.g. sum(t > 0) == numel(t)), or use ≈ for a whole-tensor check",
                           what, (long long)n);
            tl_value_release(&c);
            return fl;
        }
        tl_clear_error();
        tl_status st = tl_builtin_call(item, I, 1, &c, &v);
        tl_value_release(&c);
        if (st != TL_OK) {
            tl_value_release(&v);
            return tl_err_status(I, e, st);
        }
        *out = tl_value_as_double(&v) != 0;
        tl_value_release(&v);
        return TL_FLOW_OK;
    }
    if (c.kind != TL_VAL_BOOL) {
        fl = tl_err_at(I, e, TL_ERR_TYPE, "%s condition must be a bool, got %s", what,
                       tl_value_type_name(&c));
        tl_value_release(&c);
        return fl;
    }
    *out = c.as.b;
    return TL_FLOW_OK;
}

/* ------------------------------------------------------------------ statements */

tl_flow tl_exec_block(tl_interp *I, const tl_node *block, tl_value *last) {
    tl_scope scope = {.parent = I->cur};
    tl_scope *saved = I->cur;
    I->cur = &scope;
    tl_flow fl = tl_exec_list(I, block->a, last);
    I->cur = saved;
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    return fl;
}

tl_flow tl_exec_list(tl_interp *I, const tl_node *stmts, tl_value *last) {
    for (const tl_node *s = stmts; s; s = s->next) {
        tl_value *want = (last && !s->next) ? last : NULL;
        tl_flow fl = tl_exec_stmt(I, s, want);
        if (fl != TL_FLOW_OK) return fl;
    }
    return TL_FLOW_OK;
}

tl_flow tl_exec_stmt(tl_interp *I, const tl_node *n, tl_value *last) {
    tl_flow fl = count_step(I, n);
    if (fl != TL_FLOW_OK) return fl;
    switch ((tl_node_kind)n->kind) {
    case TL_S_LET: {
        tl_value v;
        fl = tl_eval_expr(I, n->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (n->c) {
            const tl_what what = {.kind = "let", .a = n->name};
            fl = tl_check_type(I, n->a, n->c, &v, &what);
            if (fl != TL_FLOW_OK) {
                tl_value_release(&v);
                return fl;
            }
        }
        tl_status st = tl_scope_declare(I->cur, n->name, v);
        return st == TL_OK ? TL_FLOW_OK : tl_err_status(I, n, st);
    }
    case TL_S_ASSIGN: {
        if (n->a->kind == TL_N_INDEX) { /* a tensor equation? (lang/equation.h) */
            int eq = tl_eq_classify(I, n);
            if (eq < 0) return TL_FLOW_ERR;
            if (eq > 0) return tl_eq_exec(I, n);
        }
        tl_value v;
        fl = tl_eval_expr(I, n->b, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (last) *last = tl_value_retain(v);
        fl = assign(I, n->a, v);
        if (fl != TL_FLOW_OK && last) tl_value_release(last);
        return fl;
    }
    case TL_S_IF: {
        bool c;
        fl = eval_cond(I, n->a, &c, "if");
        if (fl != TL_FLOW_OK) return fl;
        if (c) return tl_exec_block(I, n->b, last);
        if (!n->c) return TL_FLOW_OK;
        if (n->c->kind == TL_S_IF) return tl_exec_stmt(I, n->c, last);
        return tl_exec_block(I, n->c, last);
    }
    case TL_S_WHILE: {
        tl_scope scope = {.parent = I->cur};
        for (;;) {
            bool c;
            fl = eval_cond(I, n->a, &c, "while");
            if (fl != TL_FLOW_OK || !c) break;
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
        }
        tl_scope_free_vars(&scope);
        return fl == TL_FLOW_BREAK ? TL_FLOW_OK : fl;
    }
    case TL_S_LOOP: {
        tl_scope scope = {.parent = I->cur};
        for (;;) {
            fl = loop_body(I, n->b, &scope);
            if (fl != TL_FLOW_OK) break;
            fl = count_step(I, n);
            if (fl != TL_FLOW_OK) break;
        }
        tl_scope_free_vars(&scope);
        return fl == TL_FLOW_BREAK ? TL_FLOW_OK : fl;
    }
    case TL_S_FOR:
        return exec_for(I, n);
    case TL_S_BREAK:
        I->flow_node = n;
        return TL_FLOW_BREAK;
    case TL_S_CONTINUE:
        I->flow_node = n;
        return TL_FLOW_CONTINUE;
    case TL_S_RETURN: {
        tl_value v = TL_VOID;
        if (n->a) {
            fl = tl_eval_expr(I, n->a, &v);
            if (fl != TL_FLOW_OK) return fl;
        }
        tl_value_release(&I->ret);
        I->ret = v;
        I->flow_node = n;
        return TL_FLOW_RETURN;
    }
    case TL_S_BLOCK:
        return tl_exec_block(I, n, last);
    case TL_S_QUERY:
    case TL_S_INFER:
    case TL_S_WITH:
        return tl_logic_stmt(I, n); /* lang/eval_logic_query.c */
    case TL_S_EXPR: {
        tl_value v;
        if (tl_logic_is_atom(I, n->a)) return tl_logic_fact(I, n->a); /* a fact */
        fl = tl_eval_expr(I, n->a, &v);
        if (fl != TL_FLOW_OK) return fl;
        if (last)
            *last = v;
        else
            tl_value_release(&v);
        return TL_FLOW_OK;
    }
    case TL_S_TENSOR:
        return tl_tensor_decl(I, n);
    case TL_S_EQUATION: {
        tl_value a, b = TL_VOID;
        fl = tl_eval_expr(I, n->a, &a);
        if (fl == TL_FLOW_OK) fl = tl_eval_expr(I, n->b, &b);
        tl_value_release(&a);
        tl_value_release(&b);
        return fl;
    }
    case TL_S_LEARN:
        return tl_exec_learn(I, n);
    case TL_S_NOGRAD:
        return tl_exec_no_grad(I, n);
    case TL_S_UNSUPPORTED:
        return tl_err_at(I, n, TL_ERR_UNSUPPORTED, "%s %s not supported yet", n->name,
                         (strcmp(n->name, "infer") == 0 || strcmp(n->name, "python import") == 0)
                             ? "is"
                             : "are");
    default:
        return tl_err_at(I, n, TL_ERR_INTERNAL, "cannot run a %s node", tl_node_kind_name(n->kind));
    }
}
