/* lang/eval_match.c -- struct literals and `match` (patterns, guards, struct and
** tuple patterns).  Split from eval_expr.c, which dispatches here. */
#include "lang/display.h"
#include "lang/eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ structs, match */

tl_flow tl_eval_structlit(tl_interp *I, const tl_node *n, tl_value *out) {
    const tl_node *decl = tl_find_struct(I, n->name);
    if (!decl) return tl_err_at(I, n, TL_ERR_ARG, "unknown struct '%s'", n->name);
    uint32_t nf = (uint32_t)tl_node_list_len(decl->a);
    for (const tl_node *fi = n->a; fi; fi = fi->next) {
        bool known = false;
        for (const tl_node *f = decl->a; f; f = f->next)
            if (strcmp(f->name, fi->name) == 0) known = true;
        if (!known) return tl_err_at(I, fi, TL_ERR_ARG, "%s has no field '%s'", n->name, fi->name);
        for (const tl_node *fj = fi->next; fj; fj = fj->next)
            if (strcmp(fj->name, fi->name) == 0)
                return tl_err_at(I, fj, TL_ERR_ARG, "field '%s' given twice", fi->name);
    }
    tl_struct_value *s = calloc(1, sizeof *s + nf * sizeof(tl_value));
    if (!s) return tl_err_at(I, n, TL_ERR_NOMEM, "out of memory");
    s->refcount = 1;
    s->decl = decl;
    s->n = nf;
    tl_value sv = {.kind = TL_VAL_STRUCT, .as.st = s};
    uint32_t i = 0;
    for (const tl_node *f = decl->a; f; f = f->next, i++) {
        const tl_node *fi = n->a;
        while (fi && strcmp(fi->name, f->name) != 0)
            fi = fi->next;
        if (!fi) {
            tl_value_release(&sv);
            return tl_err_at(I, n, TL_ERR_ARG, "missing field '%s' in %s literal", f->name,
                             n->name);
        }
        tl_flow fl = tl_eval_expr(I, fi->a, &s->fields[i]);
        if (fl == TL_FLOW_OK) {
            const tl_what what = {.kind = "field", .a = n->name, .b = f->name};
            fl = tl_check_type(I, fi->a, f->c, &s->fields[i], &what);
        }
        if (fl != TL_FLOW_OK) {
            tl_value_release(&sv);
            return fl;
        }
    }
    *out = sv;
    return TL_FLOW_OK;
}

static tl_flow match_pattern(tl_interp *I, const tl_node *p, const tl_value *v, bool *ok) {
    *ok = false;
    switch ((tl_node_kind)p->kind) {
    case TL_P_WILD:
        *ok = true;
        return TL_FLOW_OK;
    case TL_P_BIND: {
        tl_status st = tl_scope_declare(I->cur, p->name, tl_value_retain(*v));
        if (st != TL_OK) return tl_err_status(I, p, st);
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_LIT: {
        tl_value lit;
        tl_flow fl = tl_eval_expr(I, p->a, &lit);
        if (fl != TL_FLOW_OK) return fl;
        *ok = tl_values_equal(&lit, v);
        tl_value_release(&lit);
        return TL_FLOW_OK;
    }
    case TL_P_TUPLE: {
        size_t n = tl_node_list_len(p->a);
        if (v->kind != TL_VAL_ARRAY || v->as.arr->len != n) return TL_FLOW_OK;
        size_t i = 0;
        for (const tl_node *q = p->a; q; q = q->next, i++) {
            tl_flow fl = match_pattern(I, q, &v->as.arr->items[i], ok);
            if (fl != TL_FLOW_OK || !*ok) return fl;
        }
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_STRUCT: {
        if (v->kind != TL_VAL_STRUCT || strcmp(v->as.st->decl->name, p->name) != 0)
            return TL_FLOW_OK;
        for (const tl_node *f = p->a; f; f = f->next) {
            int k = tl_struct_field_index(v->as.st, f->name);
            if (k < 0) return tl_err_at(I, f, TL_ERR_ARG, "%s has no field '%s'", p->name, f->name);
            tl_flow fl = match_pattern(I, f->a, &v->as.st->fields[k], ok);
            if (fl != TL_FLOW_OK || !*ok) return fl;
        }
        *ok = true;
        return TL_FLOW_OK;
    }
    case TL_P_OR:
        for (const tl_node *q = p->a; q; q = q->next) {
            tl_flow fl = match_pattern(I, q, v, ok);
            if (fl != TL_FLOW_OK || *ok) return fl;
        }
        return TL_FLOW_OK;
    default:
        return tl_err_at(I, p, TL_ERR_INTERNAL, "bad pattern");
    }
}

tl_flow tl_eval_match(tl_interp *I, const tl_node *n, tl_value *out) {
    tl_value v;
    tl_flow fl = tl_eval_expr(I, n->a, &v);
    if (fl != TL_FLOW_OK) return fl;
    tl_scope scope = {.parent = I->cur};
    tl_scope *saved = I->cur;
    bool matched = false;
    for (const tl_node *arm = n->b; arm && fl == TL_FLOW_OK && !matched; arm = arm->next) {
        I->cur = &scope;
        tl_scope_clear(&scope);
        bool ok;
        fl = match_pattern(I, arm->a, &v, &ok);
        if (fl == TL_FLOW_OK && ok && arm->b) {
            tl_value g;
            fl = tl_eval_expr(I, arm->b, &g);
            if (fl == TL_FLOW_OK && g.kind != TL_VAL_BOOL)
                fl = tl_err_at(I, arm->b, TL_ERR_TYPE, "a match guard must be a bool, got %s",
                               tl_value_type_name(&g));
            ok = fl == TL_FLOW_OK && g.as.b;
            tl_value_release(&g);
        }
        if (fl == TL_FLOW_OK && ok) {
            matched = true;
            if (arm->c->kind == TL_S_BLOCK)
                fl = tl_exec_block(I, arm->c, out);
            else
                fl = tl_eval_expr(I, arm->c, out);
        }
        I->cur = saved;
    }
    I->cur = saved;
    tl_scope_clear(&scope);
    tl_scope_free_vars(&scope);
    if (fl == TL_FLOW_OK && !matched) {
        tl_strbuf b = {0};
        tl_value_display(&b, &v);
        fl = tl_err_at(I, n, TL_ERR_ARG, "no match arm matches %s", tl_strbuf_cstr(&b));
        tl_strbuf_free(&b);
    }
    tl_value_release(&v);
    return fl;
}
