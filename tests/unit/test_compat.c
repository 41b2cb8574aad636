/* tests/unit/test_compat.c -- the original TensorLogic's forms (docs/compat.md):
** tl_coerce_tensor, the `..` and x.0 tokens, \u escapes, and the evaluator's
** conversions (arrays in arithmetic, nested literals, typed declarations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "lang/builtin.h"
#include "lang/display.h"
#include "lang/eval.h"
#include "lang/lexer.h"
#include "lang/strbuf.h"

static tl_interp *I;

static int setup(void **state) {
    (void)state;
    I = tl_interp_new();
    return I ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    tl_interp_free(I);
    return 0;
}

/* The display of the value of a main block's last expression. */
static char *show(const char *body) {
    char buf[1024];
    snprintf(buf, sizeof buf, "main { %s }", body);
    tl_value v;
    tl_status st = tl_interp_eval_string(I, buf, strlen(buf), "<test>", &v);
    if (st != TL_OK) print_error("%s\n", tl_interp_error(I));
    assert_int_equal(st, TL_OK);
    tl_strbuf b = {0};
    tl_value_display(&b, &v);
    tl_value_release(&v);
    char *s = strdup(tl_strbuf_cstr(&b));
    tl_strbuf_free(&b);
    return s;
}

static void expect(const char *body, const char *want) {
    char *got = show(body);
    assert_string_equal(got, want);
    free(got);
}

static void expect_error(const char *body, const char *fragment) {
    char buf[1024];
    snprintf(buf, sizeof buf, "main { %s }", body);
    tl_value v;
    tl_status st = tl_interp_eval_string(I, buf, strlen(buf), "e.tl", &v);
    assert_int_not_equal(st, TL_OK);
    if (!strstr(tl_interp_error(I), fragment)) print_error("%s\n", tl_interp_error(I));
    assert_non_null(strstr(tl_interp_error(I), fragment));
    tl_interp_clear_error(I);
}

static void test_coerce_tensor(void **state) {
    (void)state;
    tl_value arr;
    assert_int_equal(tl_value_array(2, &arr), TL_OK);
    tl_array_push(arr.as.arr, tl_value_float(1.5));
    tl_array_push(arr.as.arr, tl_value_int(2));
    tl_tensor *t = NULL;
    assert_true(tl_coerce_tensor(&arr, &t));
    assert_int_equal(t->dtype, TL_DTYPE_F32);
    assert_int_equal(tl_tensor_nelements(t), 2);
    assert_true(((float *)tl_tensor_data(t))[0] == 1.5f);
    tl_tensor_unref(t);
    /* a string inside: not numeric, no error left behind */
    tl_value s;
    assert_int_equal(tl_value_cstring("x", &s), TL_OK);
    tl_array_push(arr.as.arr, s);
    assert_false(tl_coerce_tensor(&arr, &t));
    assert_null(t);
    tl_value_release(&arr);
    tl_value n = tl_value_int(3);
    assert_false(tl_coerce_tensor(&n, &t));
}

static int lex_ids(const char *src, int *ids, int cap) {
    tl_lexer lx;
    tl_lexer_init(&lx, src, strlen(src));
    int n = 0;
    for (;;) {
        tl_token t;
        int id = tl_lexer_next(&lx, &t);
        if (id == TL_LEX_END || n == cap) break;
        ids[n++] = id;
        if (id == TL_LEX_ERROR) break;
    }
    return n;
}

static void test_tokens(void **state) {
    (void)state;
    int ids[16];
    assert_int_equal(lex_ids("0..10", ids, 16), 3);
    assert_int_equal(ids[0], TK_INT);
    assert_int_equal(ids[1], TK_DOTDOT);
    assert_int_equal(ids[2], TK_INT);
    /* after a dot, digits are one integer, never the number 0.5 */
    assert_int_equal(lex_ids("m.blk.0.attn", ids, 16), 7);
    assert_int_equal(ids[4], TK_INT);
    assert_int_equal(ids[5], TK_DOT);
    assert_int_equal(lex_ids("x = 0.5", ids, 16), 3);
    assert_int_equal(ids[2], TK_FLOAT);
    assert_int_equal(lex_ids("a ... b", ids, 16), 3);
    assert_int_equal(ids[1], TK_ELLIPSIS);
}

static void test_unicode_escapes(void **state) {
    (void)state;
    expect("\"\\u0041\\u00e9\\u2713\\u{1F999}\"", "A\xC3\xA9\xE2\x9C\x93\xF0\x9F\xA6\x99");
    expect("len(\"\\u{41}\")", "1");
    expect_error("\"\\u12\"", "bad \\u escape");
    expect_error("\"\\uD800\"", "bad \\u escape");
    expect_error("\"\\u{110000}\"", "bad \\u escape");
    expect_error("\"\\u{41\"", "bad \\u escape");
}

static void test_arrays_in_arithmetic(void **state) {
    (void)state;
    expect("[1.0, 2.0] * 2.0", "[2, 4]");
    expect("3.0 - [1.0, 2.0]", "[2, 1]");
    expect("[1, 2] + [3]", "[1, 2, 3]"); /* concatenation stays */
    expect("f32::zeros([2]) + [1.0]", "[1, 1]");
    expect("dtype(f16::zeros([2]) + [1.0])", "f16");
    expect("\"ab\" * 3", "ababab");
    expect("2 * \"-\"", "--");
    expect_error("\"ab\" * -1", "repeat count");
    expect_error("[\"a\"] * 2.0", "not defined");
}

static void test_literals_and_decls(void **state) {
    (void)state;
    expect("shape([[[1.0], [2.0]], [[3.0], [4.0]]])", "[2, 2, 1]");
    expect("tensor a: int32[2, 2] = [[1, 2], [3, 4]]\n dtype(a)", "i32");
    expect("tensor b: float32[2, 2] = [1.0, 2.0, 3.0, 4.0]\n b", "[[1, 2], [3, 4]]");
    expect("tensor c: float16[?, 2] = [[1.0, 2.0]]\n c", "[[1, 2]]");
    expect_error("tensor d: float32[3, 2] = [1.0, 2.0]", "expected float32[3, 2]");
    /* a ragged nested literal stays an array of arrays */
    expect("type_of([[1.0], [2.0, 3.0]])", "array");
}

static void test_small_forms(void **state) {
    (void)state;
    expect("let s = 0\n for i in 1..4 { s = s + i }\n s", "6");
    expect("let top_k = 1\n top_k([1.0, 3.0], top_k)", "[-inf, 3]");
    expect("let r = [[1, 2], [3, 4]]\n r.1.0", "3");
    expect("f16::ones([2])", "[1, 1]");
    expect("string_substring(\"abcdef\", 1, 3)", "bcd");
    expect("substring(\"abcdef\", 1, 3)", "bc");
    expect("append([1], 2)", "[1, 2]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coerce_tensor),      cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_unicode_escapes),    cmocka_unit_test(test_arrays_in_arithmetic),
        cmocka_unit_test(test_literals_and_decls), cmocka_unit_test(test_small_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
