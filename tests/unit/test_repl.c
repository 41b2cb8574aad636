/* tests/unit/test_repl.c -- the REPL's terminal-free parts: when an input is
** complete, one session evaluating inputs (persistence, values, errors with
** the user's line numbers, : commands, exit), tensor previews, completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/repl.h"
#include "runtime/dtype.h"

static tl_input_kind classify(const char *s) {
    return tl_repl_classify(s, strlen(s));
}

static void test_classify(void **state) {
    (void)state;
    assert_int_equal(classify(""), TL_INPUT_EMPTY);
    assert_int_equal(classify("  // just a comment\n"), TL_INPUT_EMPTY);
    assert_int_equal(classify("fn f(x) { x + 1 }"), TL_INPUT_ITEMS);
    assert_int_equal(classify("struct P { x: int }"), TL_INPUT_ITEMS);
    assert_int_equal(classify("main { print(1) }"), TL_INPUT_ITEMS);
    assert_int_equal(classify("let x = 1"), TL_INPUT_STATEMENTS);
    assert_int_equal(classify("x + 1"), TL_INPUT_STATEMENTS);
    assert_int_equal(classify("print(1)\nprint(2)"), TL_INPUT_STATEMENTS);
    assert_int_equal(classify("for i in range(3) { print(i) }"), TL_INPUT_STATEMENTS);
    /* unfinished: brace, bracket, paren, string, trailing operator */
    assert_int_equal(classify("fn f(x) {"), TL_INPUT_INCOMPLETE);
    assert_int_equal(classify("let a = [1,"), TL_INPUT_INCOMPLETE);
    assert_int_equal(classify("f(1,\n2"), TL_INPUT_INCOMPLETE);
    assert_int_equal(classify("let s = \"abc"), TL_INPUT_INCOMPLETE);
    assert_int_equal(classify("let t = 1 +"), TL_INPUT_INCOMPLETE);
    assert_int_equal(classify("if x > 1 {\n print(x)"), TL_INPUT_INCOMPLETE);
    /* errors before the end are not "incomplete" */
    assert_int_equal(classify("let = 5"), TL_INPUT_ERROR);
    assert_int_equal(classify("x }"), TL_INPUT_ERROR);
    assert_int_equal(classify("let = [1,"), TL_INPUT_ERROR);
}

typedef struct capture {
    tl_repl_session s;
    char *out, *err;
    size_t out_len, err_len;
} capture;

static capture *cap_new(void) {
    capture *c = calloc(1, sizeof *c);
    assert_non_null(c);
    FILE *o = open_memstream(&c->out, &c->out_len);
    FILE *e = open_memstream(&c->err, &c->err_len);
    assert_int_equal(tl_repl_session_init(&c->s, o, e), TL_OK);
    return c;
}

static char last_err[8192]; /* what the last run() wrote to err */

/* Evaluates src; returns what it wrote to out (static buffer), its errors in last_err. */
static const char *run(capture *c, const char *src) {
    static char got[8192];
    fflush(c->s.out);
    fflush(c->s.err);
    size_t o0 = c->out_len, e0 = c->err_len;
    tl_repl_session_eval(&c->s, src, strlen(src));
    fflush(c->s.out);
    fflush(c->s.err);
    snprintf(got, sizeof got, "%s", c->out ? c->out + o0 : "");
    snprintf(last_err, sizeof last_err, "%s", c->err ? c->err + e0 : "");
    return got;
}

static void cap_free(capture *c) {
    fclose(c->s.out);
    fclose(c->s.err);
    tl_repl_session_free(&c->s);
    free(c->out);
    free(c->err);
    free(c);
}

static void test_session_persists(void **state) {
    (void)state;
    capture *c = cap_new();
    assert_string_equal(run(c, "let x = 20 + 1\n"), "");
    assert_string_equal(run(c, "x * 2\n"), "42\n");
    assert_string_equal(run(c, "fn sq(a) { a * a }\n"), "");
    assert_string_equal(run(c, "sq(x)\n"), "441\n");
    assert_string_equal(run(c, "struct P { a: int, b: int }\n"), "");
    assert_string_equal(run(c, "let p = P { a: 1, b: x }\n"), "");
    assert_string_equal(run(c, "p.b\n"), "21\n");
    assert_string_equal(run(c, "x = x + 1\n"), "");
    assert_string_equal(run(c, "x\n"), "22\n");
    assert_string_equal(run(c, "\"a\\tb\"\n"), "\"a\\tb\"\n");
    cap_free(c);
}

static void test_session_errors(void **state) {
    (void)state;
    capture *c = cap_new();
    run(c, "let ok = 1\n");
    run(c, "let = 5\n");
    assert_non_null(strstr(last_err, "<input 2>:1:5: error: unexpected token '='"));
    assert_non_null(strstr(last_err, " 1 | let = 5"));
    /* a runtime error on the second line of a multi-line input */
    run(c, "let y = 2\nnope(y)\n");
    assert_non_null(strstr(last_err, "<input 3>:2:1: error: unknown function 'nope'"));
    assert_non_null(strstr(last_err, " 2 | nope(y)"));
    assert_null(strstr(last_err, "at main"));
    assert_null(strstr(last_err, "    at ")); /* no frame repeats the error's own position */
    /* an error inside a function defined earlier points at its own input */
    run(c, "fn bad(a) {\n  a + nope2()\n}\n");
    run(c, "bad(1)\n");
    assert_non_null(strstr(last_err, "<input 4>:2:7: error: unknown function 'nope2'"));
    assert_non_null(strstr(last_err, "at <input 5>:1:1"));
    /* an unfinished input evaluated anyway (blank line, end of file) ends where it ends */
    run(c, "let u = (1 +\n");
    assert_non_null(strstr(last_err, "<input 6>:1:13: error: unexpected end of input"));
    run(c, "fn g() {\n  1\n");
    assert_non_null(strstr(last_err, "<input 7>:2:4: error: unexpected end of input"));
    assert_string_equal(run(c, "ok + y\n"),
                        "3\n"); /* the session goes on; y was set before the error */
    assert_false(c->s.quit);
    run(c, "exit(4)\n");
    assert_true(c->s.quit);
    assert_int_equal(c->s.exit_code, 4);
    cap_free(c);
}

static void test_commands(void **state) {
    (void)state;
    capture *c = cap_new();
    assert_string_equal(run(c, ":vars\n"), "nothing defined yet (let, fn and struct add here)\n");
    run(c, "let n = 3\n");
    run(c, "fn f(a) { a }\n");
    run(c, "struct Q { u: int, v: float }\n");
    const char *vars = run(c, ":vars\n");
    assert_non_null(strstr(vars, "n            int = 3"));
    assert_non_null(strstr(vars, "fn f"));
    assert_non_null(strstr(vars, "struct Q { u, v }"));
    assert_null(strstr(vars, "nothing defined"));
    assert_string_equal(run(c, ":type n * 1.5\n"), "float\n");
    assert_string_equal(run(c, ":ty \"abc\"\n"), "string (len=3)\n");
    const char *t = run(c, ":time n + 1\n");
    assert_true(strncmp(t, "4\ntime: ", 8) == 0);
    assert_non_null(strstr(run(c, ":help\n"), ":load FILE"));
    assert_non_null(strstr(run(c, ":help print\n"), "builtin print"));
    assert_string_equal(run(c, ":help f\n"), "fn f(a)\n");
    assert_non_null(strstr(run(c, ":help n\n"), "variable n: int"));
    run(c, ":nope\n");
    assert_non_null(strstr(last_err, "unknown command ':nope'"));
    run(c, ":t\n"); /* :type or :time */
    assert_non_null(strstr(last_err, "ambiguous command"));
    assert_string_equal(run(c, ":reset\n"), "state cleared\n");
    run(c, "n\n");
    assert_non_null(strstr(last_err, "undefined variable 'n'"));
    /* :load runs a file's declarations and main block here */
    char path[] = "/tmp/tl_repl_load_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *src = "fn loaded(a) { a + 100 }\nmain { let from_file = loaded(1) }\n";
    assert_int_equal(write(fd, src, strlen(src)), (int)strlen(src));
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, ":load %s\n", path);
    assert_non_null(strstr(run(c, cmd), "loaded "));
    assert_string_equal(run(c, "from_file + loaded(0)\n"), "201\n");
    unlink(path);
    assert_false(c->s.quit);
    run(c, ":quit\n");
    assert_true(c->s.quit);
    assert_int_equal(c->s.exit_code, 0);
    cap_free(c);
}

static char *show(const tl_value *v) {
    tl_strbuf b = {0};
    tl_repl_show_value(&b, v);
    char *s = strdup(tl_strbuf_cstr(&b));
    tl_strbuf_free(&b);
    return s;
}

static tl_tensor *f32_tensor(int n_dims, const int64_t *shape) {
    tl_tensor *t = NULL;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_F32, n_dims, shape, &t), TL_OK);
    float *d = tl_tensor_data(t);
    for (int64_t i = 0; i < tl_tensor_nelements(t); i++)
        d[i] = (float)(i + 1);
    return t;
}

static void test_show_tensors(void **state) {
    (void)state;
    int64_t s23[] = {2, 3};
    tl_value v = tl_value_tensor(f32_tensor(2, s23));
    char *got = show(&v);
    assert_string_equal(got, "Tensor<f32>[2, 3]\n[[1, 2, 3],\n [4, 5, 6]]");
    free(got);
    tl_value_release(&v);

    /* 3-D: blocks separated by a blank line; columns right-aligned */
    int64_t s225[] = {2, 2, 5};
    v = tl_value_tensor(f32_tensor(3, s225));
    got = show(&v);
    assert_string_equal(got, "Tensor<f32>[2, 2, 5]\n"
                             "[[[ 1,  2,  3,  4,  5],\n"
                             "  [ 6,  7,  8,  9, 10]],\n"
                             "\n"
                             " [[11, 12, 13, 14, 15],\n"
                             "  [16, 17, 18, 19, 20]]]");
    free(got);
    tl_value_release(&v);

    /* past 1000 elements each long dimension shows 3 items at each end */
    int64_t s40[] = {40, 50};
    v = tl_value_tensor(f32_tensor(2, s40));
    got = show(&v);
    assert_string_equal(got, "Tensor<f32>[40, 50]\n"
                             "[[   1,    2,    3, ...,   48,   49,   50],\n"
                             " [  51,   52,   53, ...,   98,   99,  100],\n"
                             " [ 101,  102,  103, ...,  148,  149,  150],\n"
                             " ...,\n"
                             " [1851, 1852, 1853, ..., 1898, 1899, 1900],\n"
                             " [1901, 1902, 1903, ..., 1948, 1949, 1950],\n"
                             " [1951, 1952, 1953, ..., 1998, 1999, 2000]]");
    free(got);
    tl_value_release(&v);

    /* fractional values use the shortest round-trip form */
    int64_t s3[] = {3};
    tl_tensor *t = f32_tensor(1, s3);
    ((float *)tl_tensor_data(t))[1] = 0.1f;
    ((float *)tl_tensor_data(t))[2] = -2.5f;
    v = tl_value_tensor(t);
    got = show(&v);
    assert_string_equal(got, "Tensor<f32>[3]\n[ 1.0000,  0.1000, -2.5000]");
    free(got);
    tl_value_release(&v);
}

/* floats inside arrays, structs and small nested tensors: the shortest round-trip
** spelling, as a float alone is shown (print keeps its own: 0.00001) */
static void test_show_nested_floats(void **state) {
    (void)state;
    capture *c = cap_new();
    assert_string_equal(run(c, "1e-5\n"), "1e-05\n");
    assert_string_equal(run(c, "[1.0 / 3.0, 1e-5, 2.5, \"s\"]\n"),
                        "[0.3333333333333333, 1e-05, 2.5, \"s\"]\n");
    run(c, "struct P { x: float, y }\n");
    assert_string_equal(run(c, "P { x: 1e-5, y: [as_tensor([0.1, 1e-5])] }\n"),
                        "P { x: 1e-05, y: [[0.1, 1e-05]] }\n");
    assert_string_equal(run(c, "str([1e-5])\n"), "\"[0.00001]\"\n");
    cap_free(c);
}

static void test_show_wrap_and_styles(void **state) {
    (void)state;
    /* a long row wraps under its first element; no line passes 80 columns */
    int64_t s130[] = {1, 30};
    tl_value v = tl_value_tensor(f32_tensor(2, s130));
    char *got = show(&v);
    assert_true(strncmp(got, "Tensor<f32>[1, 30]\n[[ 1,  2,  3,", 32) == 0);
    assert_non_null(strstr(got, ",\n  "));
    assert_non_null(strstr(got, "29, 30]]"));
    int longest = 0, cur = 0;
    for (const char *q = got; *q; q++) {
        cur = *q == '\n' ? 0 : cur + 1;
        if (cur > longest) longest = cur;
    }
    assert_true(longest <= 80);
    free(got);
    tl_value_release(&v);
    /* magnitudes over three decades apart switch to scientific notation */
    int64_t s2[] = {2};
    tl_tensor *t = f32_tensor(1, s2);
    ((float *)tl_tensor_data(t))[0] = 1e-5f;
    v = tl_value_tensor(t);
    got = show(&v);
    assert_string_equal(got, "Tensor<f32>[2]\n[1.0000e-05, 2.0000e+00]");
    free(got);
    tl_value_release(&v);
}

static void test_show_quantized(void **state) {
    (void)state;
    tl_runtime_init();
    /* one q8_0 block whose largest magnitude is 127: scale 1, values exact */
    float src[32];
    for (int i = 0; i < 32; i++)
        src[i] = (float)(i * 8 - 127);
    src[31] = 127;
    int64_t shape[] = {32};
    tl_tensor *t = NULL;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_Q8_0, 1, shape, &t), TL_OK);
    tl_dtype_traits(TL_DTYPE_Q8_0)->from_f32(src, tl_tensor_data(t), 32);
    tl_value v = tl_value_tensor(t);
    char *got = show(&v);
    assert_non_null(strstr(got, "Tensor<q8_0>[32]\n[-127, -119, -111,"));
    assert_non_null(strstr(got, " 105,  113,  127]"));
    free(got);
    tl_strbuf b = {0};
    tl_repl_describe_type(&b, &v);
    assert_string_equal(tl_strbuf_cstr(&b), "tensor q8_0 [32]");
    tl_strbuf_free(&b);
    tl_value_release(&v);
}

static void test_completions(void **state) {
    (void)state;
    capture *c = cap_new();
    run(c, "let my_value = 1\n");
    run(c, "let my_other = 2\n");
    run(c, "struct Pair { first: int, fine: int, second: int }\n");
    run(c, "let pr = Pair { first: 1, fine: 2, second: 3 }\n");
    size_t ws = 99;
    const char *line = "print(my_";
    char **m = tl_repl_completions(c->s.interp, line, strlen(line), &ws);
    assert_non_null(m);
    assert_int_equal(ws, 6);
    assert_string_equal(m[0], "my_other");
    assert_string_equal(m[1], "my_value");
    assert_null(m[2]);
    tl_repl_free_completions(m);

    line = "printl";
    m = tl_repl_completions(c->s.interp, line, strlen(line), &ws);
    assert_non_null(m);
    assert_string_equal(m[0], "println");
    tl_repl_free_completions(m);

    line = "1 + pr.fi";
    m = tl_repl_completions(c->s.interp, line, strlen(line), &ws);
    assert_non_null(m);
    assert_int_equal(ws, 7);
    assert_string_equal(m[0], "fine");
    assert_string_equal(m[1], "first");
    assert_null(m[2]);
    tl_repl_free_completions(m);

    line = ":t";
    m = tl_repl_completions(c->s.interp, line, strlen(line), &ws);
    assert_non_null(m);
    assert_int_equal(ws, 0);
    assert_string_equal(m[0], ":time");
    assert_string_equal(m[1], ":type");
    assert_null(m[2]);
    tl_repl_free_completions(m);

    line = "Pa";
    m = tl_repl_completions(c->s.interp, line, strlen(line), &ws);
    assert_non_null(m);
    assert_string_equal(m[0], "Pair");
    tl_repl_free_completions(m);

    line = "zzz_nothing";
    assert_null(tl_repl_completions(c->s.interp, line, strlen(line), &ws));
    cap_free(c);
}

static void expect_completions(tl_interp *I, const char *line, const char *want) {
    size_t ws;
    char **m = tl_repl_completions(I, line, strlen(line), &ws);
    char got[1024] = "";
    for (size_t i = 0; m && m[i]; i++) {
        if (i) strcat(got, " ");
        strncat(got, m[i], sizeof got - strlen(got) - 1);
    }
    tl_repl_free_completions(m);
    assert_string_equal(got, want);
}

/* Members through paths: nested structs, arrays, and a loaded model's tensor names. */
static void test_member_completions(void **state) {
    (void)state;
    capture *c = cap_new();
    run(c, "struct In { v: int, w: int }\n");
    run(c, "struct Out { inner: In, n: int }\n");
    run(c, "let o = Out { inner: In { v: 1, w: 2 }, n: 3 }\n");
    run(c, "let arr = [o]\n");
    expect_completions(c->s.interp, "o.inner.", "v w");
    expect_completions(c->s.interp, "f(arr[0].inner.", "v w");
    expect_completions(c->s.interp, "o.nope.", "");
    expect_completions(c->s.interp, "arr[5].", "");
    const char *dir = getenv("TL_TEST_MODELS");
    char path[512];
    snprintf(path, sizeof path, "%s/stories260K.gguf", dir ? dir : "");
    FILE *f = dir ? fopen(path, "rb") : NULL;
    if (!f) {
        cap_free(c);
        printf("SKIPPED: model part: %s not found\n", path);
        return;
    }
    fclose(f);
    char src[600];
    snprintf(src, sizeof src, "let m = load_model(\"%s\")\n", path);
    run(c, src);
    expect_completions(c->s.interp, "m.",
                       "arch blk config get_tensor layers meta output output_norm path "
                       "tensor_names token_embd");
    expect_completions(c->s.interp, "m.blk[0].",
                       "attn_k attn_norm attn_output attn_q attn_v ffn_down ffn_gate ffn_norm "
                       "ffn_up");
    expect_completions(c->s.interp, "m.layers[4].attn_q.", "weight");
    expect_completions(c->s.interp, "m.config.n_h", "n_head n_head_kv");
    cap_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_session_persists),
        cmocka_unit_test(test_session_errors),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_show_tensors),
        cmocka_unit_test(test_show_quantized),
        cmocka_unit_test(test_show_wrap_and_styles),
        cmocka_unit_test(test_show_nested_floats),
        cmocka_unit_test(test_member_completions),
        cmocka_unit_test(test_completions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
