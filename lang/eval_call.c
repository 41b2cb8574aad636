/* lang/eval_call.c -- calls: user functions (with parameter and return type
** checks, the call-depth limit and call-stack frames), builtins, method calls
** and Type::f() associated calls. */
#include "lang/eval_internal.h"
#include "lang/eval_logic.h"
#include "lang/suggest.h"
#include "lang/ffi.h"

#include <stdlib.h>
#include <string.h>

/* Argument vectors: small ones on the stack. */
typedef struct argvec {
    tl_value *v;
    int n;
    tl_value small[8];
} argvec;

static void args_free(argvec *a) {
    for (int i = 0; i < a->n; i++)
        tl_value_release(&a->v[i]);
    if (a->v != a->small) free(a->v);
    a->n = 0;
}

/* Evaluates `first` (optional, taken over) followed by the list into a. */
static tl_flow eval_args(tl_interp *I, const tl_node *list, tl_value *first, argvec *a) {
    int n = (int)tl_node_list_len(list) + (first ? 1 : 0);
    a->n = 0;
    a->v = n <= 8 ? a->small : calloc((size_t)n, sizeof *a->v);
    if (!a->v) {
        if (first) tl_value_release(first);
        return tl_err_at(I, list, TL_ERR_NOMEM, "out of memory");
    }
    if (first) a->v[a->n++] = *first;
    for (const tl_node *e = list; e; e = e->next) {
        tl_flow fl = tl_eval_expr(I, e, &a->v[a->n]);
        if (fl != TL_FLOW_OK) {
            args_free(a);
            return fl;
        }
        a->n++;
    }
    return TL_FLOW_OK;
}

tl_flow tl_call_user(tl_interp *I, const tl_node *fn, const char *type, const tl_node *site,
                     int argc, const tl_value *argv, tl_value *out) {
    *out = TL_VOID;
    int nparams = (int)tl_node_list_len(fn->a);
    if (argc != nparams) {
        const tl_node *p = fn->a;
        /* x.m(args) passes x as self: count only the explicit arguments */
        int adj = (p && !p->c && strcmp(p->name, "self") == 0 && type && argc > 0) ? 1 : 0;
        return tl_err_at(I, site, TL_ERR_ARG, "%s%s%s takes %d argument%s, got %d",
                         type ? type : "", type ? "::" : "", fn->name, nparams - adj,
                         nparams - adj == 1 ? "" : "s", argc - adj);
    }
    if (I->depth >= I->max_depth)
        return tl_err_at(I, site, TL_ERR_RANGE,
                         "maximum call depth (%d) exceeded in %s (infinite recursion?)",
                         I->max_depth, fn->name);
    tl_scope scope = {.parent = &I->globals};
    tl_flow fl = TL_FLOW_OK;
    int i = 0;
    for (const tl_node *p = fn->a; p; p = p->next, i++) {
        tl_value v = tl_value_retain(argv[i]);
        if (p->c) {
            const tl_what what = {.kind = "argument", .a = p->name, .b = fn->name, .arg = i + 1};
            fl = tl_check_type(I, site, p->c, &v, &what);
        }
        if (fl != TL_FLOW_OK) {
            tl_value_release(&v);
            break;
        }
        if (tl_scope_declare(&scope, p->name, v) != TL_OK) {
            fl = tl_err_status(I, site, TL_ERR_NOMEM);
            break;
        }
    }
    if (fl == TL_FLOW_OK) {
        tl_scope *saved = I->cur;
        I->cur = &scope;
        I->depth++;
        tl_value last = TL_VOID;
        fl = tl_exec_list(I, fn->b->a, &last);
        const tl_node *at = site;
        for (const tl_node *s = fn->b->a; s; s = s->next)
            at = s->kind == TL_S_EXPR ? s->a : s;
        if (fl == TL_FLOW_RETURN) at = I->flow_node->a ? I->flow_node->a : I->flow_node;
        I->depth--;
        I->cur = saved;
        if (fl == TL_FLOW_RETURN) {
            tl_value_release(&last);
            last = I->ret;
            I->ret = TL_VOID;
            fl = TL_FLOW_OK;
            if (fn->c && strcmp(fn->c->name, "void") == 0 && last.kind != TL_VAL_VOID) {
                tl_value_release(&last);
                fl = tl_err_at(I, I->flow_node, TL_ERR_TYPE,
                               "%s is declared -> void but returns a value", fn->name);
            }
        } else if (fl == TL_FLOW_BREAK || fl == TL_FLOW_CONTINUE) {
            fl = tl_err_at(I, I->flow_node, TL_ERR_ARG, "%s outside of a loop",
                           fl == TL_FLOW_BREAK ? "break" : "continue");
        } else if (fl == TL_FLOW_OK && fn->c && strcmp(fn->c->name, "void") == 0) {
            tl_value_release(&last); /* -> void discards the tail value */
        }
        if (fl == TL_FLOW_OK && fn->c) {
            const tl_what what = {.kind = "return value of", .a = fn->name};
            fl = tl_check_type(I, at, fn->c, &last, &what);
        }
        if (fl == TL_FLOW_OK)
            *out = last;
        else
            tl_value_release(&last);
        if (fl == TL_FLOW_ERR) tl_push_frame(I, fn->name, type, site);
    }
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    return fl;
}

static tl_flow call_builtin(tl_interp *I, const tl_builtin_def *def, const tl_node *site, int argc,
                            const tl_value *argv, tl_value *out) {
    tl_clear_error();
    tl_status st = tl_builtin_call(def, I, argc, argv, out);
    if (st != TL_OK) {
        tl_value_release(out);
        return tl_err_status(I, site, st);
    }
    return TL_FLOW_OK;
}

static tl_flow no_overload(tl_interp *I, const tl_node *site, const char *name, int argc,
                           const tl_value *argv) {
    /* list the signatures of the overloads that exist */
    char sigs[512] = "";
    size_t used = 0;
    for (size_t i = 0; used < sizeof sigs; i++) {
        const tl_builtin_def *d = tl_builtin_at(i);
        if (!d) break;
        if (strcmp(d->name, name) != 0 || !d->signature) continue;
        used += (size_t)snprintf(sigs + used, sizeof sigs - used, "%s%s", used ? "; " : "",
                                 d->signature);
    }
    return tl_err_at(I, site, TL_ERR_TYPE, "%s does not accept %s%s (%s)", name,
                     argc ? tl_value_type_name(&argv[0]) : "no arguments",
                     argc ? " as its first argument" : "", sigs);
}

/* Calls builtin `name` if one exists; *found = false when there is none. */
static tl_flow call_named_builtin(tl_interp *I, const char *name, const tl_node *site, int argc,
                                  const tl_value *argv, tl_value *out, bool *found) {
    const tl_builtin_def *def = tl_builtin_resolve(name, argc, argv);
    *found = def != NULL || tl_builtin_find(name) != NULL;
    if (!*found) return TL_FLOW_OK;
    if (!def && argc > 0 && argc <= 16 &&
        (argv[0].kind == TL_VAL_ARRAY || argv[0].kind == TL_VAL_OBJECT)) {
        /* a numeric array or model view where a tensor builtin wants a tensor:
        ** softmax([1.0, 2.0]), shape(model.output_norm) */
        tl_value conv[16];
        memcpy(conv, argv, sizeof conv[0] * (size_t)argc);
        tl_tensor *t;
        if (tl_coerce_tensor(&argv[0], &t)) {
            conv[0] = tl_value_tensor(t);
            def = tl_builtin_resolve(name, argc, conv);
            tl_flow fl = def ? call_builtin(I, def, site, argc, conv, out)
                             : no_overload(I, site, name, argc, argv);
            tl_value_release(&conv[0]);
            return fl;
        }
    }
    if (!def) return no_overload(I, site, name, argc, argv);
    return call_builtin(I, def, site, argc, argv, out);
}

tl_flow tl_call_value(tl_interp *I, const tl_value *callee, const tl_node *site, int argc,
                      const tl_value *argv, tl_value *out) {
    *out = TL_VOID;
    if (callee->kind == TL_VAL_FUNC)
        return tl_call_user(I, callee->as.fn->decl, callee->as.fn->self_type, site, argc, argv,
                            out);
    if (callee->kind == TL_VAL_BUILTIN) {
        bool found;
        return call_named_builtin(I, callee->as.builtin->name, site, argc, argv, out, &found);
    }
    if (tl_ffi_is_callable(callee)) { /* extern fns and embedder functions (lang/ffi.c) */
        tl_clear_error();
        tl_status st = tl_ffi_call(I, callee, argc, argv, out);
        if (st != TL_OK) {
            tl_value_release(out);
            return tl_err_status(I, site, st);
        }
        return TL_FLOW_OK;
    }
    return tl_err_at(I, site, TL_ERR_TYPE, "%s is not callable", tl_value_type_name(callee));
}

/* name(args): a variable holding a function, a user fn, a builtin. */
static tl_flow call_by_name(tl_interp *I, const tl_node *n, const char *name, argvec *args,
                            tl_value *out) {
    tl_var *var = tl_scope_lookup(I, name);
    if (var && (var->v.kind == TL_VAL_FUNC || var->v.kind == TL_VAL_BUILTIN ||
                tl_ffi_is_callable(&var->v))) {
        tl_value callee = tl_value_retain(var->v);
        tl_flow fl = tl_call_value(I, &callee, n, args->n, args->v, out);
        tl_value_release(&callee);
        return fl;
    }
    /* the user fn this call site names (NULL: none), cached in the node */
    const tl_node *fn;
    if (n->cache_epoch == I->defs_epoch) {
        fn = n->cache;
    } else {
        fn = tl_find_fn_at(I, n, name);
        ((tl_node *)n)->cache = fn;
        ((tl_node *)n)->cache_epoch = I->defs_epoch;
    }
    if (fn) return tl_call_user(I, fn, NULL, n, args->n, args->v, out);
    bool found;
    tl_flow fl = call_named_builtin(I, name, n, args->n, args->v, out, &found);
    if (found) return fl;
    if (var)
        return tl_err_at(I, n, TL_ERR_TYPE, "'%s' is not a function (it holds a value of type %s)",
                         name, tl_value_type_name(&var->v));
    const char *hint = tl_suggest_name(I, name);
    if (hint)
        return tl_err_at(I, n, TL_ERR_ARG, "unknown function '%s' (did you mean '%s'?)", name,
                         hint);
    return tl_err_at(I, n, TL_ERR_ARG, "unknown function '%s'", name);
}

tl_flow tl_eval_call(tl_interp *I, const tl_node *n, tl_value *out) {
    *out = TL_VOID;
    argvec args;
    tl_flow fl;
    if (n->a->kind == TL_N_IDENT) {
        if (tl_logic_is_atom(I, n)) return tl_logic_atom_value(I, n, out); /* eval_logic.c */
        fl = eval_args(I, n->b, NULL, &args);
        if (fl != TL_FLOW_OK) return fl;
        fl = call_by_name(I, n, n->a->name, &args, out);
        args_free(&args);
        return fl;
    }
    tl_value callee;
    fl = tl_eval_expr(I, n->a, &callee);
    if (fl != TL_FLOW_OK) return fl;
    fl = eval_args(I, n->b, NULL, &args);
    if (fl == TL_FLOW_OK) {
        fl = tl_call_value(I, &callee, n, args.n, args.v, out);
        args_free(&args);
    }
    tl_value_release(&callee);
    return fl;
}

/* recv.name(args) */
tl_flow tl_eval_method(tl_interp *I, const tl_node *n, tl_value *out) {
    *out = TL_VOID;
    tl_value recv;
    tl_flow fl = tl_eval_expr(I, n->a, &recv);
    if (fl != TL_FLOW_OK) return fl;
    if (recv.kind == TL_VAL_OBJECT && recv.as.obj->cls->call_method) {
        argvec args;
        fl = eval_args(I, n->b, NULL, &args);
        if (fl == TL_FLOW_OK) {
            tl_clear_error();
            tl_status st = recv.as.obj->cls->call_method(recv.as.obj, n->name, args.n, args.v, out);
            if (st != TL_OK) {
                tl_value_release(out);
                fl = tl_err_status(I, n, st);
            }
            args_free(&args);
        }
        tl_value_release(&recv);
        return fl;
    }
    const char *type = recv.kind == TL_VAL_STRUCT ? recv.as.st->decl->name : NULL;
    const tl_node *m = type ? tl_find_method(I, type, n->name) : NULL;
    argvec args;
    fl = eval_args(I, n->b, &recv, &args); /* recv moves into args[0] */
    if (fl != TL_FLOW_OK) return fl;
    if (m) {
        fl = tl_call_user(I, m, type, n, args.n, args.v, out);
    } else {
        const tl_node *fn = tl_find_fn_at(I, n, n->name);
        if (fn) {
            fl = tl_call_user(I, fn, NULL, n, args.n, args.v, out);
        } else {
            bool found;
            fl = call_named_builtin(I, n->name, n, args.n, args.v, out, &found);
            if (!found)
                fl = tl_err_at(I, n, TL_ERR_ARG, "%s has no method '%s'",
                               type ? type : tl_value_type_name(&args.v[0]), n->name);
        }
    }
    args_free(&args);
    return fl;
}

/* Type::f(args): impl functions first, then builtins named "Type::f". */
tl_flow tl_eval_assoc(tl_interp *I, const tl_node *n, tl_value *out) {
    *out = TL_VOID;
    argvec args;
    tl_flow fl = eval_args(I, n->b, NULL, &args);
    if (fl != TL_FLOW_OK) return fl;
    const tl_node *m = tl_find_method(I, n->name, n->name2);
    if (m) {
        fl = tl_call_user(I, m, n->name, n, args.n, args.v, out);
    } else {
        char full[256];
        snprintf(full, sizeof full, "%s::%s", n->name, n->name2);
        bool found;
        fl = call_named_builtin(I, full, n, args.n, args.v, out, &found);
        if (!found && strcmp(n->name, "Tensor") == 0) /* the original's Tensor::f(..) is f(..) */
            fl = call_named_builtin(I, n->name2, n, args.n, args.v, out, &found);
        const char *hint = found ? NULL : tl_suggest_name(I, full);
        if (!found && hint)
            fl = tl_err_at(I, n, TL_ERR_ARG, "unknown function '%s' (did you mean '%s'?)", full,
                           hint);
        else if (!found)
            fl = tl_err_at(I, n, TL_ERR_ARG, "unknown function '%s'", full);
    }
    args_free(&args);
    return fl;
}
