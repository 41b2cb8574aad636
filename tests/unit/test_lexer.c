/* tests/unit/test_lexer.c -- the re2c scanner: token kinds, positions, context
** keywords, numbers, strings, comments, and error reporting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "grammar.h"
#include "lang/lexer.h"

/* Lexes src into ids[] (up to cap); returns the count (the end is not stored). */
static int lex_all(const char *src, int *ids, tl_token *toks, int cap) {
    tl_lexer lx;
    tl_lexer_init(&lx, src, strlen(src));
    int n = 0;
    for (;;) {
        tl_token t;
        int id = tl_lexer_next(&lx, &t);
        if (id == TL_LEX_END) break;
        if (n < cap) {
            ids[n] = id;
            if (toks) toks[n] = t;
        }
        n++;
        if (id == TL_LEX_ERROR) break;
    }
    return n;
}

static void expect_ids(const char *src, const int *want, int n_want) {
    int ids[64];
    int n = lex_all(src, ids, NULL, 64);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++)
        assert_int_equal(ids[i], want[i]);
}

static void test_operators(void **state) {
    (void)state;
    const int want[] = {TK_PLUS,   TK_MINUS,      TK_STAR,    TK_SLASH,  TK_PERCENT, TK_POW,
                        TK_AT,     TK_EQEQ,       TK_NE,      TK_LE,     TK_GE,      TK_LT,
                        TK_GT,     TK_ANDAND,     TK_OROR,    TK_BANG,   TK_ARROW,   TK_FATARROW,
                        TK_LARROW, TK_COLONCOLON, TK_COLONEQ, TK_COLON,  TK_EQ,      TK_QUESTION,
                        TK_TILDE,  TK_PIPE,       TK_ODOT,    TK_OTIMES, TK_APPROX,  TK_SEMI};
    expect_ids("+ - * / % ** @ == != <= >= < > && || ! -> => <- :: := : = ? ~ | \xE2\x8A\x99 "
               "\xE2\x8A\x97 \xE2\x89\x88 ;",
               want, (int)(sizeof want / sizeof want[0]));
}

static void test_keywords_and_idents(void **state) {
    (void)state;
    const int want[] = {TK_FN, TK_IDENT, TK_LET, TK_IDENT, TK_IDENT, TK_IDENT, TK_MATCH, TK_IMPORT};
    /* `range`, `forward`, `inputs` are ordinary names */
    expect_ids("fn range let forward inputs letter match import", want, 8);
}

static void test_context_keywords(void **state) {
    (void)state;
    const int w1[] = {TK_TEST, TK_IDENT, TK_LBRACE, TK_RBRACE};
    expect_ids("test adds { }", w1, 4);
    const int w2[] = {TK_IDENT, TK_LPAREN, TK_RPAREN}; /* test(...) is a call */
    expect_ids("test()", w2, 3);
    const int w3[] = {TK_BENCH, TK_IDENT, TK_LBRACE, TK_RBRACE};
    expect_ids("bench speed\n{}", w3, 4);
    const int w4[] = {TK_STRUCTNAME, TK_LBRACE, TK_IDENT, TK_COLON, TK_INT, TK_RBRACE};
    expect_ids("Point { x: 1 }", w4, 6);
    const int w5[] = {TK_IF, TK_IDENT, TK_LBRACE, TK_IDENT, TK_RBRACE}; /* lower case: a block */
    expect_ids("if point { x }", w5, 5);
    const int w6[] = {TK_STRUCT, TK_IDENT, TK_LBRACE, TK_IDENT, TK_COLON, TK_IDENT, TK_RBRACE};
    expect_ids("struct P { x: int }", w6, 7);
    const int w7[] = {TK_RETURNVOID, TK_RBRACE, TK_RETURN, TK_IDENT, TK_RETURNVOID};
    expect_ids("return } return x return // done\n", w7, 5);
    const int w8[] = {TK_EMBEDDING, TK_IDENT, TK_LBRACE, TK_RBRACE, TK_IDENT, TK_LPAREN, TK_RPAREN};
    expect_ids("embedding e { } embedding()", w8, 7);
}

static void test_numbers(void **state) {
    (void)state;
    int ids[16];
    tl_token toks[16];
    int n = lex_all("1 1.5 1e-5 2.5E+3 007 1e3", ids, toks, 16);
    assert_int_equal(n, 6);
    const int want[] = {TK_INT, TK_FLOAT, TK_FLOAT, TK_FLOAT, TK_INT, TK_FLOAT};
    for (int i = 0; i < n; i++)
        assert_int_equal(ids[i], want[i]);
    assert_int_equal(toks[2].n, 4); /* "1e-5" is one token, not 1 then e-5 */
    /* "1." and "1abc" are errors */
    n = lex_all("1.", ids, toks, 16);
    assert_int_equal(ids[n - 1], TL_LEX_ERROR);
    n = lex_all("12abc", ids, toks, 16);
    assert_int_equal(ids[n - 1], TL_LEX_ERROR);
}

static void test_strings_and_comments(void **state) {
    (void)state;
    int ids[16];
    tl_token toks[16];
    int n = lex_all("\"a\\\"b\" // c \"x\"\n/* multi\nline */ \"z\"", ids, toks, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], TK_STRING);
    assert_int_equal(toks[0].n, 6);
    assert_int_equal(ids[1], TK_STRING);
    assert_int_equal(toks[1].line, 3); /* the block comment's newline was counted */
    assert_int_equal(toks[1].col, 9);
}

static void test_positions(void **state) {
    (void)state;
    int ids[16];
    tl_token toks[16];
    int n = lex_all("main {\n\tlet x = 1\n}", ids, toks, 16);
    assert_int_equal(n, 7);
    assert_int_equal(toks[2].line, 2); /* let */
    assert_int_equal(toks[2].col, 2);
    assert_int_equal(toks[5].col, 10); /* 1 */
    assert_int_equal(toks[6].line, 3);
}

static void test_errors(void **state) {
    (void)state;
    tl_lexer lx;
    tl_token t;
    const char *src = "x = \"open";
    tl_lexer_init(&lx, src, strlen(src));
    assert_int_equal(tl_lexer_next(&lx, &t), TK_IDENT);
    assert_int_equal(tl_lexer_next(&lx, &t), TK_EQ);
    assert_int_equal(tl_lexer_next(&lx, &t), TL_LEX_ERROR);
    assert_true(lx.incomplete);
    assert_int_equal(t.col, 5);
    src = "/* open";
    tl_lexer_init(&lx, src, strlen(src));
    assert_int_equal(tl_lexer_next(&lx, &t), TL_LEX_ERROR);
    assert_true(lx.incomplete);
    src = "a $";
    tl_lexer_init(&lx, src, strlen(src));
    assert_int_equal(tl_lexer_next(&lx, &t), TK_IDENT);
    assert_int_equal(tl_lexer_next(&lx, &t), TL_LEX_ERROR);
    assert_false(lx.incomplete);
    assert_int_equal(t.col, 3);
    /* a NUL byte inside the text is an error, not the end */
    const char nul[] = {'a', 0, 'b'};
    tl_lexer_init(&lx, nul, 3);
    assert_int_equal(tl_lexer_next(&lx, &t), TK_IDENT);
    assert_int_equal(tl_lexer_next(&lx, &t), TL_LEX_ERROR);
}

static void test_describe(void **state) {
    (void)state;
    assert_string_equal(tl_token_describe(TL_LEX_END), "end of input");
    assert_string_equal(tl_token_describe(TK_IDENT), "identifier");
    assert_string_equal(tl_token_describe(TK_LET), "keyword");
    assert_string_equal(tl_token_describe(TK_PLUS), "token");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_keywords_and_idents),
        cmocka_unit_test(test_context_keywords),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings_and_comments),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
