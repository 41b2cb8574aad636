/* tests/unit/test_parser.c -- the Lemon grammar: AST shapes, precedence,
** statements and declarations, and syntax errors (position, message, and the
** "incomplete" flag the REPL relies on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lang/parse.h"

static tl_chunk *parse_ok(const char *src) {
    tl_chunk *c = NULL;
    tl_diag d;
    tl_status st = tl_parse(src, strlen(src), "t.tl", &c, &d);
    if (st != TL_OK) print_error("unexpected syntax error: %u:%u: %s\n", d.line, d.col, d.msg);
    assert_int_equal(st, TL_OK);
    assert_non_null(c);
    return c;
}

static tl_diag parse_err(const char *src) {
    tl_chunk *c = NULL;
    tl_diag d;
    tl_status st = tl_parse(src, strlen(src), "t.tl", &c, &d);
    assert_int_equal(st, TL_ERR_FORMAT);
    assert_null(c);
    return d;
}

/* The expression of the first statement of main. */
static const tl_node *main_expr(const tl_chunk *c) {
    const tl_node *m = c->items;
    while (m && m->kind != TL_D_MAIN)
        m = m->next;
    assert_non_null(m);
    const tl_node *s = m->b->a;
    assert_non_null(s);
    return s->kind == TL_S_EXPR ? s->a : s;
}

static void test_precedence(void **state) {
    (void)state;
    tl_chunk *c = parse_ok("main { 1 + 2 * 3 }");
    const tl_node *e = main_expr(c);
    assert_int_equal(e->kind, TL_N_BINARY);
    assert_int_equal(e->op, TL_OP_ADD);
    assert_int_equal(e->b->kind, TL_N_BINARY);
    assert_int_equal(e->b->op, TL_OP_MUL);
    tl_chunk_free(c);

    c = parse_ok("main { a + b as int < c }"); /* ((a + b) as int) < c */
    e = main_expr(c);
    assert_int_equal(e->op, TL_OP_LT);
    assert_int_equal(e->a->kind, TL_N_CAST);
    assert_string_equal(e->a->name, "int");
    assert_int_equal(e->a->a->op, TL_OP_ADD);
    tl_chunk_free(c);

    c = parse_ok("main { x || y && !z == w }"); /* x || (y && ((!z) == w)) */
    e = main_expr(c);
    assert_int_equal(e->op, TL_OP_OR);
    assert_int_equal(e->b->op, TL_OP_AND);
    assert_int_equal(e->b->b->op, TL_OP_EQ);
    assert_int_equal(e->b->b->a->kind, TL_N_UNARY);
    tl_chunk_free(c);

    c = parse_ok("main { 10 - 4 - 3 }"); /* left associative */
    e = main_expr(c);
    assert_int_equal(e->a->kind, TL_N_BINARY);
    assert_int_equal(e->b->kind, TL_N_INT);
    tl_chunk_free(c);
}

static void test_literals(void **state) {
    (void)state;
    tl_chunk *c = parse_ok("main { [-1, 2.5e-3, \"a\\tb\", true] }");
    const tl_node *e = main_expr(c);
    assert_int_equal(e->kind, TL_N_ARRAY);
    const tl_node *x = e->a;
    assert_int_equal(x->kind, TL_N_INT);
    assert_int_equal(x->v.i, -1); /* folded */
    x = x->next;
    assert_int_equal(x->kind, TL_N_FLOAT);
    assert_true(x->v.f == 2.5e-3);
    x = x->next;
    assert_int_equal(x->kind, TL_N_STRING);
    assert_int_equal(x->v.len, 3);
    assert_memory_equal(x->name, "a\tb", 3);
    assert_int_equal(x->next->kind, TL_N_BOOL);
    tl_chunk_free(c);
}

static void test_postfix(void **state) {
    (void)state;
    tl_chunk *c = parse_ok("main { m.blk[i + 1].w(x)[:, 0] }");
    const tl_node *e = main_expr(c);
    assert_int_equal(e->kind, TL_N_INDEX);
    assert_int_equal(e->b->kind, TL_N_SLICE);
    assert_null(e->b->a);
    assert_int_equal(e->b->next->kind, TL_N_INT);
    const tl_node *call = e->a;
    assert_int_equal(call->kind, TL_N_METHOD);
    assert_string_equal(call->name, "w");
    assert_int_equal(call->a->kind, TL_N_INDEX);
    assert_int_equal(call->a->b->kind, TL_N_BINARY); /* x[i + 1]: a real expression */
    assert_int_equal(call->a->a->kind, TL_N_FIELD);
    tl_chunk_free(c);

    c = parse_ok("main { f16::zeros([2, 3]) }");
    e = main_expr(c);
    assert_int_equal(e->kind, TL_N_ASSOC);
    assert_string_equal(e->name, "f16");
    assert_string_equal(e->name2, "zeros");
    tl_chunk_free(c);
}

static void test_statements(void **state) {
    (void)state;
    tl_chunk *c = parse_ok("main {\n let x = 1\n x = 2\n x := 3\n if a { } else if b { } else { }\n"
                           " while c { break }\n for i in range(3) { continue }\n loop { }\n"
                           " return\n}");
    const tl_node *s = c->items->b->a;
    const int kinds[] = {TL_S_LET,   TL_S_ASSIGN, TL_S_ASSIGN, TL_S_IF,
                         TL_S_WHILE, TL_S_FOR,    TL_S_LOOP,   TL_S_RETURN};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++, s = s->next) {
        assert_non_null(s);
        assert_int_equal(s->kind, kinds[i]);
    }
    assert_null(s);
    const tl_node *iff = c->items->b->a->next->next->next;
    assert_int_equal(iff->c->kind, TL_S_IF); /* else if chains */
    assert_int_equal(iff->c->c->kind, TL_S_BLOCK);
    tl_chunk_free(c);
}

static void test_declarations(void **state) {
    (void)state;
    tl_chunk *c = parse_ok("import \"lib.tl\"\n"
                           "struct P { x: float32[2, ?], y: int }\n"
                           "impl P { fn get(self) -> int { self.y } }\n"
                           "fn f(a: float16[?, ?], b) -> float32[4] { a }\n"
                           "tensor w: float32[2] = [1.0, 2.0]\n"
                           "relation R(x: entity)\n"
                           "R(a, b) <- S(a, b)\n"
                           "main { }\n test t { } bench b { }");
    const int kinds[] = {TL_D_IMPORT,   TL_D_STRUCT, TL_D_IMPL, TL_D_FN,   TL_S_TENSOR,
                         TL_D_RELATION, TL_D_RULE,   TL_D_MAIN, TL_D_TEST, TL_D_BENCH};
    const tl_node *n = c->items;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++, n = n->next) {
        assert_non_null(n);
        assert_int_equal(n->kind, kinds[i]);
    }
    const tl_node *st = c->items->next;
    assert_string_equal(st->name, "P");
    assert_int_equal(st->a->c->kind, TL_T_TENSOR);
    assert_int_equal(st->a->c->a->v.i, 2);
    assert_int_equal(st->a->c->a->next->v.i, -1);
    const tl_node *fn = c->items->next->next->next;
    assert_string_equal(fn->a->c->name, "float16");
    assert_null(fn->a->next->c); /* untyped parameter */
    assert_string_equal(fn->c->name, "float32");
    tl_chunk_free(c);
}

static void test_match_and_structs(void **state) {
    (void)state;
    tl_chunk *c =
        parse_ok("main { match v { 0 | 1 => a, Pt { x: px } if px > 0 => { b }, _ => c } }");
    const tl_node *e = main_expr(c);
    assert_int_equal(e->kind, TL_N_MATCH);
    const tl_node *arm = e->b;
    assert_int_equal(arm->a->kind, TL_P_OR);
    arm = arm->next;
    assert_int_equal(arm->a->kind, TL_P_STRUCT);
    assert_non_null(arm->b);
    assert_int_equal(arm->c->kind, TL_S_BLOCK);
    assert_int_equal(arm->next->a->kind, TL_P_WILD);
    tl_chunk_free(c);

    c = parse_ok("main { let p = Pt { x: 1, y: 2 } }");
    e = main_expr(c);
    assert_int_equal(e->a->kind, TL_N_STRUCTLIT);
    assert_int_equal(tl_node_list_len(e->a->a), 2);
    tl_chunk_free(c);
}

static void test_continuation(void **state) {
    (void)state;
    /* a line starting with ( continues the previous expression (a call) */
    tl_chunk *c = parse_ok("main { let a = b\n(c) }");
    const tl_node *e = main_expr(c);
    assert_int_equal(e->a->kind, TL_N_CALL);
    tl_chunk_free(c);
}

static void test_syntax_errors(void **state) {
    (void)state;
    tl_diag d = parse_err("main {\n  let x = 1 +* 2\n}");
    assert_int_equal(d.line, 2);
    assert_int_equal(d.col, 14);
    assert_false(d.incomplete);
    assert_non_null(strstr(d.msg, "unexpected"));

    d = parse_err("fn f() {\n  1 +");
    assert_true(d.incomplete);
    assert_string_equal(d.msg, "unexpected end of input, expected an expression");

    d = parse_err("main { for i range(3) { } }");
    assert_string_equal(d.msg, "unexpected identifier 'range', expected 'in'");
    d = parse_err("main { let x = [1, 2 }");
    assert_string_equal(d.msg, "unexpected token '}', expected ']'");

    d = parse_err("main { print(\"abc");
    assert_true(d.incomplete);

    d = parse_err("main { 1 = 2 }");
    assert_non_null(strstr(d.msg, "cannot assign"));

    d = parse_err("main { 99999999999999999999 }");
    assert_non_null(strstr(d.msg, "too large"));

    d = parse_err("main { \"\\q\" }");
    assert_non_null(strstr(d.msg, "escape"));
}

static void test_deep_nesting(void **state) {
    (void)state;
    size_t n = 50000;
    char *src = malloc(2 * n + 16);
    strcpy(src, "main { ");
    size_t k = strlen(src);
    for (size_t i = 0; i < n; i++)
        src[k++] = '[';
    src[k] = '\0';
    tl_diag d = parse_err(src);
    assert_non_null(strstr(d.msg, "nested too deeply"));
    free(src);
}

static void test_format_error(void **state) {
    (void)state;
    tl_strbuf b = {0};
    const char *text = "main {\n\tlet x = y\n}";
    tl_format_error(&b, "f.tl", text, strlen(text), 2, 10, "undefined variable 'y'");
    assert_string_equal(
        tl_strbuf_cstr(&b),
        "f.tl:2:10: error: undefined variable 'y'\n 2 | \tlet x = y\n   | \t        ^\n");
    tl_strbuf_free(&b);
}

static void test_logic_productions(void **state) {
    (void)state;
    /* everything the logic/learning grammar allows parses (running it is a later issue) */
    tl_chunk *c =
        parse_ok("entity Person\n"
                 "entity City = { paris, rome }\n"
                 "relation Lives(p: entity, c: entity) embed float32[8]\n"
                 "relation Likes(a: Person, w: float, t: float16[4] frozen)\n"
                 "embedding person_emb { entities: {alice, bob} dimension: 8 init: xavier }\n"
                 "relation_embedding rel_emb { relations: all dimension: 4 }\n"
                 "Grand(x, z) <- Parent(x, y), Parent(y, z)\n"
                 "Cost(x) <- Price(x) > 3, Cheap(x)\n"
                 "tensor w: float16[2, 2] learnable = [[1.0, 0.0], [0.0, 1.0]]\n"
                 "main {\n"
                 "  Lives(alice, paris)\n"
                 "  Lives(X, paris)?\n"
                 "  Lives(X, Y)? where X != Y\n"
                 "  infer forward Grand(alice, X)?\n"
                 "  infer { backward Lives(X, rome)? symbolic Grand(X, Y)? }\n"
                 "  learn { let loss = w\n objective: loss, optimizer: adamw(lr = 0.01, "
                 "weight_decay: -1e-4),"
                 " epochs: 3, scheduler: cosine(t_max: 10) }\n"
                 "  python import numpy.linalg as la\n"
                 "  let r = python.call(\"f\", 1)\n"
                 "  with ctx { }\n"
                 "  a ~ b\n"
                 "  let e = einsum(\"ij,jk->ik\", a, b)\n"
                 "}\n");
    /* the logic declarations are real nodes (lang/eval_logic.c); forms that are not
    ** run yet stay TL_D_UNSUPPORTED / TL_S_UNSUPPORTED and say so when evaluated */
    int items = 0, entities = 0, relations = 0, rules = 0, embeddings = 0;
    for (const tl_node *n = c->items; n; n = n->next) {
        items++;
        entities += n->kind == TL_D_ENTITY;
        relations += n->kind == TL_D_RELATION;
        rules += n->kind == TL_D_RULE;
        embeddings += n->kind == TL_D_EMBEDDING;
    }
    assert_int_equal(items, 10);
    assert_int_equal(entities, 2);
    assert_int_equal(relations, 2);
    assert_int_equal(rules, 2);
    assert_int_equal(embeddings, 2);
    const tl_node *m = c->items;
    while (m->kind != TL_D_MAIN)
        m = m->next;
    int stmts = 0, queries = 0, learn = 0;
    for (const tl_node *s = m->b->a; s; s = s->next) {
        stmts++;
        queries += s->kind == TL_S_QUERY;
        learn += s->kind == TL_S_LEARN;
    }
    assert_int_equal(stmts, 11);
    assert_int_equal(queries, 2);
    assert_int_equal(learn, 1);
    tl_chunk_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_postfix),           cmocka_unit_test(test_statements),
        cmocka_unit_test(test_declarations),      cmocka_unit_test(test_match_and_structs),
        cmocka_unit_test(test_continuation),      cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_deep_nesting),      cmocka_unit_test(test_format_error),
        cmocka_unit_test(test_logic_productions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
