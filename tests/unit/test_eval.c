/* tests/unit/test_eval.c -- the interpreter API: values of expressions, state
** kept across eval_string calls (the REPL), globals, errors with positions and
** call stacks, limits (depth, steps, interruption), calls from C, tests, and
** value display. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "lang/display.h"
#include "lang/eval.h"

static tl_interp *I;

static int setup(void **state) {
    (void)state;
    I = tl_interp_new();
    return I ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    tl_interp_free(I);
    I = NULL;
    return 0;
}

/* Evaluates `main { src }` and returns the displayed value of its last expression. */
static char *eval_show(const char *src) {
    char buf[4096];
    snprintf(buf, sizeof buf, "main { %s }", src);
    tl_value v;
    tl_status st = tl_interp_eval_string(I, buf, strlen(buf), "<test>", &v);
    if (st != TL_OK) print_error("%s", tl_interp_error(I));
    assert_int_equal(st, TL_OK);
    tl_strbuf b = {0};
    tl_value_display(&b, &v);
    tl_value_release(&v);
    char *s = strdup(tl_strbuf_cstr(&b));
    tl_strbuf_free(&b);
    return s;
}

static void expect(const char *src, const char *want) {
    char *got = eval_show(src);
    assert_string_equal(got, want);
    free(got);
}

static const char *eval_error(const char *src) {
    tl_value v;
    tl_status st = tl_interp_eval_string(I, src, strlen(src), "e.tl", &v);
    assert_int_not_equal(st, TL_OK);
    assert_int_equal(v.kind, TL_VAL_VOID);
    return tl_interp_error(I);
}

static void test_expressions(void **state) {
    (void)state;
    expect("1 + 2 * 3", "7");
    expect("7 / 2", "3");
    expect("7.0 / 2", "3.5");
    expect("2 ** 10", "1024");
    expect("-(3)", "-3");
    expect("\"a\" + \"b\"", "ab");
    expect("[1, 2, 3][-1]", "3");
    expect("[[1, 2], [3, 4]][1, 0]", "3");
    expect("3.9 as int", "3");
    expect("1 < 2 && 2 < 3", "true");
    expect("match 5 { 1 => \"a\", n if n > 3 => \"big\", _ => \"c\" }", "big");
    expect("range(3)", "[0, 1, 2]");
}

static void test_state_persists(void **state) {
    (void)state;
    expect("let counter = 10", "void");
    expect("counter = counter + 5\ncounter", "15");
    const char *decl = "fn twice(x: int) -> int { x * 2 }";
    assert_int_equal(tl_interp_eval_string(I, decl, strlen(decl), "<repl>", NULL), TL_OK);
    expect("twice(counter)", "30");
    /* a later definition replaces the earlier one */
    const char *redef = "fn twice(x: int) -> int { x * 3 }";
    assert_int_equal(tl_interp_eval_string(I, redef, strlen(redef), "<repl>", NULL), TL_OK);
    expect("twice(1)", "3");
    /* a call site inside an earlier fn caches what it resolved to: a new
    ** definition (of the callee, or of a user fn shadowing a builtin, or of a
    ** struct an annotation names) must be seen by the same call site */
    const char *caller = "fn use_twice() -> int { twice(2) + abs(-1) }";
    assert_int_equal(tl_interp_eval_string(I, caller, strlen(caller), "<repl>", NULL), TL_OK);
    expect("use_twice()", "7");
    const char *again = "fn twice(x: int) -> int { x * 4 }";
    assert_int_equal(tl_interp_eval_string(I, again, strlen(again), "<repl>", NULL), TL_OK);
    expect("use_twice()", "9");
    const char *shadow = "fn abs(x: int) -> int { 100 }";
    assert_int_equal(tl_interp_eval_string(I, shadow, strlen(shadow), "<repl>", NULL), TL_OK);
    expect("use_twice()", "108");
    const char *typed = "fn size_of(p: Pt) -> int { 1 }";
    assert_int_equal(tl_interp_eval_string(I, typed, strlen(typed), "<repl>", NULL), TL_OK);
    expect("size_of(5)", "1"); /* Pt is no struct yet: a generic name */
    const char *st = "struct Pt { x: int }";
    assert_int_equal(tl_interp_eval_string(I, st, strlen(st), "<repl>", NULL), TL_OK);
    expect("size_of(Pt { x: 1 })", "1");
    assert_non_null(strstr(eval_error("main { size_of(5) }"), "expected Pt, got int"));
}

static void collect(void *ctx, const char *name, const tl_value *value) {
    tl_strbuf *b = ctx;
    tl_strbuf_printf(b, "%s%s", name, value ? "=" : "()");
    if (value) tl_value_display(b, value);
    tl_strbuf_putc(b, ';');
}

static void test_each_name(void **state) {
    (void)state;
    const char *src = "fn helper() { }\nmain { let a = 1\n let b = \"x\" }";
    assert_int_equal(tl_interp_eval_string(I, src, strlen(src), "<r>", NULL), TL_OK);
    tl_strbuf b = {0};
    tl_interp_each_name(I, collect, &b);
    assert_string_equal(tl_strbuf_cstr(&b), "a=1;b=x;helper();");
    tl_strbuf_free(&b);
}

static void test_globals(void **state) {
    (void)state;
    tl_value v = tl_value_int(41);
    assert_int_equal(tl_interp_set_global(I, "answer", &v), TL_OK);
    expect("answer + 1", "42");
    expect("let fromscript = \"hi\"", "void");
    tl_value got;
    assert_int_equal(tl_interp_get_global(I, "fromscript", &got), TL_OK);
    assert_int_equal(got.kind, TL_VAL_STRING);
    assert_string_equal(got.as.str->data, "hi");
    tl_value_release(&got);
    assert_int_equal(tl_interp_get_global(I, "nope", &got), TL_ERR_ARG);
}

static void test_error_text(void **state) {
    (void)state;
    const char *err = eval_error("fn inner() -> int { 1 / 0 }\nfn outer() -> int { inner() }\n"
                                 "main {\n  outer()\n}");
    assert_non_null(strstr(err, "e.tl:1:21: error: integer division by zero\n"));
    assert_non_null(strstr(err, " 1 | fn inner() -> int { 1 / 0 }\n"));
    assert_non_null(strstr(err, "^\n"));
    assert_non_null(strstr(err, "    at inner (e.tl:1:21)\n"));
    assert_non_null(strstr(err, "    at outer (e.tl:2:21)\n"));
    assert_non_null(strstr(err, "    at main (e.tl:4:3)\n"));
    assert_string_equal(tl_last_error(), "integer division by zero");
    /* the interpreter keeps working after an error */
    expect("1 + 1", "2");
}

static void test_incomplete(void **state) {
    (void)state;
    eval_error("main { let x = (1 +");
    assert_true(tl_interp_error_incomplete(I));
    eval_error("main { let x = ) }");
    assert_false(tl_interp_error_incomplete(I));
}

static void test_limits(void **state) {
    (void)state;
    tl_interp_set_max_depth(I, 50);
    const char *err = eval_error("fn r(n: int) -> int { r(n + 1) }\nmain { r(0) }");
    assert_non_null(strstr(err, "maximum call depth (50) exceeded"));
    tl_interp_set_max_depth(I, 1000);

    tl_interp_set_max_steps(I, 500);
    err = eval_error("main { loop { } }");
    assert_non_null(strstr(err, "step limit of 500 exceeded"));
    tl_interp_set_max_steps(I, 0);

    tl_interrupt_requested = 1; /* cleared on entry: a stale request does not stop a new run */
    expect("1", "1");
}

static void *interrupt_soon(void *arg) {
    (void)arg;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    tl_interrupt_requested = 1;
    return NULL;
}

static void test_interrupt(void **state) {
    (void)state;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_soon, NULL), 0);
    const char *err = eval_error("main {\n  loop { }\n}");
    pthread_join(th, NULL);
    assert_non_null(strstr(err, "error: interrupted"));
    assert_int_equal(tl_interrupt_requested, 0);
}

static void test_function_values(void **state) {
    (void)state;
    tl_value fnv;
    assert_int_equal(tl_interp_eval_string(I, "fn g() -> int { 7 }", 19, "<x>", NULL), TL_OK);
    assert_int_equal(tl_interp_eval_string(I, "main { g }", 10, "<x>", &fnv), TL_OK);
    assert_int_equal(fnv.kind, TL_VAL_FUNC);
    tl_value out;
    assert_int_equal(tl_interp_call(I, &fnv, 0, NULL, &out), TL_OK);
    assert_int_equal(out.kind, TL_VAL_INT);
    assert_int_equal(out.as.i, 7);
    tl_value_release(&fnv);
}

static void test_call_from_c(void **state) {
    (void)state;
    const char *src = "fn add(a: int, b: int) -> int { a + b }";
    assert_int_equal(tl_interp_eval_string(I, src, strlen(src), "<c>", NULL), TL_OK);
    tl_value fn;
    assert_int_equal(tl_interp_eval_string(I, "main { add }", 12, "<c>", &fn), TL_OK);
    tl_value args[2] = {tl_value_int(2), tl_value_int(40)}, out;
    assert_int_equal(tl_interp_call(I, &fn, 2, args, &out), TL_OK);
    assert_int_equal(out.as.i, 42);
    assert_int_not_equal(tl_interp_call(I, &fn, 1, args, &out), TL_OK);
    assert_non_null(strstr(tl_interp_error(I), "add takes 2 arguments, got 1"));
    tl_value_release(&fn);
}

static void test_run_tests(void **state) {
    (void)state;
    char path[] = "/tmp/tl_test_evalXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *src = "test a { assert(true) }\ntest b { assert_eq(1, 2) }\ntest c { }\n";
    assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    assert_int_equal(tl_interp_load_file(I, path), TL_OK);
    FILE *out = tmpfile(), *err = tmpfile();
    int run = 0, failed = 0;
    assert_int_not_equal(tl_interp_run_tests(I, out, err, &run, &failed), TL_OK);
    assert_int_equal(run, 3);
    assert_int_equal(failed, 1);
    fclose(out);
    fclose(err);
    unlink(path);
}

static void test_exit_code(void **state) {
    (void)state;
    const char *src = "main { exit(7) }";
    assert_int_not_equal(tl_interp_eval_string(I, src, strlen(src), "<x>", NULL), TL_OK);
    assert_int_equal(tl_interp_exit_code(I), 7);
    assert_string_equal(tl_interp_error(I), "");
    expect("1", "1");
    assert_int_equal(tl_interp_exit_code(I), -1);
}

static void test_float_display(void **state) {
    (void)state;
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {1.0, "1"},
        {0.1, "0.1"},
        {1e-5, "0.00001"},
        {-2.5, "-2.5"},
        {1e21, "1000000000000000000000"},
        {0.1 + 0.2, "0.30000000000000004"},
        {123.456, "123.456"},
        {-0.0, "-0"},
        {1.0 / 3.0, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_strbuf b = {0};
        tl_format_double(&b, cases[i].d);
        assert_string_equal(tl_strbuf_cstr(&b), cases[i].want);
        tl_strbuf_free(&b);
    }
    tl_strbuf b = {0};
    tl_format_float(&b, 0.1f); /* f32 shortest */
    assert_string_equal(tl_strbuf_cstr(&b), "0.1");
    tl_strbuf_free(&b);
}

static void test_display_values(void **state) {
    (void)state;
    expect("[1, 2.5, \"s\", true]", "[1, 2.5, \"s\", true]");
    expect("range(12)", "[0, 1, 2, ..., 11] (len=12)");
    expect("[[1.5, 2], [3, 4]]", "[[1.5, 2], [3, 4]]");
    expect("[[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]", "Tensor<f32>(shape=[2, 6])");
}

static char *write_temp(const char *dir, const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_import_path(void **state) {
    (void)state;
    char dir[] = "/tmp/tl_path_testXXXXXX";
    assert_non_null(mkdtemp(dir));
    write_temp(dir, "mylib.tl", "fn from_path() -> int { 7 }\n");
    setenv("TL_PATH", dir, 1);
    const char *src = "import \"mylib\"\nimport \"mylib.tl\"\nmain { from_path() }";
    tl_value v;
    assert_int_equal(tl_interp_eval_string(I, src, strlen(src), "/nonexistent/x.tl", &v), TL_OK);
    assert_int_equal(v.as.i, 7);
    unsetenv("TL_PATH");
    const char *missing = "import \"surely_missing_module\"";
    assert_int_not_equal(tl_interp_eval_string(I, missing, strlen(missing), "m.tl", NULL), TL_OK);
    assert_non_null(strstr(tl_interp_error(I), "cannot find import \"surely_missing_module\""));
    char p[600];
    snprintf(p, sizeof p, "%s/mylib.tl", dir);
    unlink(p);
    rmdir(dir);
}

static void test_benches(void **state) {
    (void)state;
    char dir[] = "/tmp/tl_bench_testXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_temp(dir, "b.tl",
                            "bench summing { let s = 0\n for i in range(100) { s = s + i } }\n"
                            "main { print(\"main\") }\n");
    char copy[600];
    snprintf(copy, sizeof copy, "%s", path);
    assert_int_equal(tl_interp_load_file(I, copy), TL_OK);
    FILE *out = tmpfile();
    assert_int_equal(tl_interp_run_benches(I, out), TL_OK);
    rewind(out);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, out));
    assert_true(strncmp(line, "bench summing ... ", 18) == 0);
    assert_non_null(strstr(line, " ms\n"));
    fclose(out);
    unlink(copy);
    rmdir(dir);
}

static void test_input_and_args(void **state) {
    (void)state;
    char path[] = "/tmp/tl_input_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\r\nworld", 12), 12);
    close(fd);
    assert_non_null(freopen(path, "r", stdin));
    expect("input() + \"|\" + input() + \"|\" + input()", "hello|world|");
    unlink(path);
    char *argv[] = {"a", "b c"};
    tl_interp_set_args(I, 2, argv);
    expect("args()", "[\"a\", \"b c\"]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expressions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_globals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_from_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float_display, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_benches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_and_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
