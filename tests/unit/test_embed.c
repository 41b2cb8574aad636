/* tests/unit/test_embed.c -- the embedding API (include/tl.h): eval with
** results and state kept between calls, globals of every kind, tensors in and
** out, C functions registered as builtins (arguments, results, user data,
** argument-count checks, failures with positions), calls from C, errors with
** their file/line/column, and extern (FFI) calls made from an embedded vm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/tl.h"

static tl_vm *vm;
static tl_val *r;

static int setup(void **state) {
    (void)state;
    vm = tl_vm_new();
    r = tl_val_new();
    return vm && r ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    tl_val_free(r);
    tl_vm_free(vm);
    vm = NULL;
    r = NULL;
    return 0;
}

static void test_eval_result_and_state(void **state) {
    (void)state;
    assert_int_equal(tl_vm_eval(vm, "main { let x = 6 * 7\n x }", r), 0);
    int64_t i;
    assert_int_equal(tl_val_type(r), TL_TYPE_INT);
    assert_int_equal(tl_val_get_int(r, &i), 0);
    assert_int_equal(i, 42);
    /* x persists; functions declared in one eval are callable in the next */
    assert_int_equal(tl_vm_eval(vm, "fn twice(n) { n * 2 }", NULL), 0);
    assert_int_equal(tl_vm_eval(vm, "main { twice(x) + 0.5 }", r), 0);
    double d;
    assert_int_equal(tl_val_type(r), TL_TYPE_FLOAT);
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(d == 84.5);
    assert_int_not_equal(tl_val_get_int(r, &i), 0); /* a float is not an int */
    assert_string_equal(tl_vm_error(vm), "");
    /* no main block: the result is void */
    assert_int_equal(tl_vm_eval(vm, "fn unused() { 1 }", r), 0);
    assert_int_equal(tl_val_type(r), TL_TYPE_VOID);
}

static void test_globals(void **state) {
    (void)state;
    assert_int_equal(tl_vm_set_int(vm, "n", -7), 0);
    assert_int_equal(tl_vm_set_float(vm, "f", 0.25), 0);
    assert_int_equal(tl_vm_set_string(vm, "s", "héllo"), 0);
    assert_int_equal(
        tl_vm_eval(vm, "main { let t = s + \" \" + str(n * 2) + \" \" + str(f * 4.0)\n t }", r), 0);
    const char *s;
    size_t len;
    assert_int_equal(tl_val_get_string(r, &s, &len), 0);
    assert_string_equal(s, "héllo -14 1");
    assert_int_equal(len, strlen("héllo -14 1"));
    int64_t i;
    double d;
    assert_int_equal(tl_vm_get_int(vm, "n", &i), 0);
    assert_int_equal(i, -7);
    assert_int_equal(tl_vm_get_float(vm, "n", &d), 0); /* an int reads as a float too */
    assert_true(d == -7.0);
    /* a global set by the script */
    assert_int_equal(tl_vm_eval(vm, "main { let flag = n < 0\n let xs = [1, \"two\", 3.0] }", NULL),
                     0);
    tl_val *v = tl_val_new();
    assert_int_equal(tl_vm_get(vm, "flag", v), 0);
    int b;
    assert_int_equal(tl_val_get_bool(v, &b), 0);
    assert_true(b);
    assert_int_equal(tl_vm_get(vm, "xs", v), 0);
    assert_int_equal(tl_val_type(v), TL_TYPE_ARRAY);
    assert_int_equal(tl_val_array_len(v, &len), 0);
    assert_int_equal(len, 3);
    tl_val *item = tl_val_new();
    assert_int_equal(tl_val_array_get(v, 1, item), 0);
    assert_int_equal(tl_val_get_string(item, &s, NULL), 0);
    assert_string_equal(s, "two");
    assert_int_not_equal(tl_val_array_get(v, 3, item), 0);
    /* an array built in C */
    assert_int_equal(tl_val_set_array(v), 0);
    tl_val_set_int(item, 5);
    assert_int_equal(tl_val_array_push(v, item), 0);
    tl_val_set_bool(item, 0);
    assert_int_equal(tl_val_array_push(v, item), 0);
    assert_int_not_equal(tl_val_array_push(v, v), 0); /* no cycles */
    assert_int_equal(tl_vm_set(vm, "ys", v), 0);
    assert_int_equal(tl_vm_eval(vm, "main { len(ys) * 10 + ys[0] }", r), 0);
    assert_int_equal(tl_val_get_int(r, &i), 0);
    assert_int_equal(i, 25);
    /* the handle keeps its value when the global changes */
    assert_int_equal(tl_vm_get(vm, "n", item), 0);
    assert_int_equal(tl_vm_set_int(vm, "n", 100), 0);
    assert_int_equal(tl_val_get_int(item, &i), 0);
    assert_int_equal(i, -7);
    tl_val_free(item);
    tl_val_free(v);
    /* undefined and mistyped globals fail with a message */
    assert_int_not_equal(tl_vm_get_int(vm, "nope", &i), 0);
    assert_non_null(strstr(tl_vm_error(vm), "no global named 'nope'"));
    assert_int_not_equal(tl_vm_get_int(vm, "s", &i), 0);
    assert_non_null(strstr(tl_vm_error(vm), "holds a string, not an int"));
    tl_error_info e;
    assert_int_equal(tl_vm_last_error(vm, &e), 1);
    assert_string_equal(e.message, "global 's' holds a string, not an int");
    assert_int_equal(e.line, 0);
    assert_int_not_equal(tl_vm_get_int(vm, "ys", &i), 0); /* the article follows the type */
    assert_non_null(strstr(tl_vm_error(vm), "global 'ys' holds an array, not an int"));
    tl_vm_clear_error(vm);
    assert_int_equal(tl_vm_last_error(vm, &e), 0);
    assert_string_equal(tl_vm_error(vm), "");
}

static void test_tensors(void **state) {
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t shape[2] = {2, 3};
    assert_int_equal(tl_vm_set_tensor_f32(vm, "x", x, 2, shape), 0);
    assert_int_equal(tl_vm_eval(vm, "main { let y = transpose(x) * 2.0 }", NULL), 0);
    tl_val *y = tl_val_new();
    assert_int_equal(tl_vm_get(vm, "y", y), 0);
    assert_int_equal(tl_val_type(y), TL_TYPE_TENSOR);
    int nd;
    int64_t sh[TL_API_MAX_DIMS];
    const char *dt;
    assert_int_equal(tl_val_tensor_info(y, &nd, sh, &dt), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 3);
    assert_int_equal(sh[1], 2);
    assert_string_equal(dt, "f32");
    float out[6];
    size_t n;
    /* a transposed view is read in NumPy order through its strides */
    assert_int_equal(tl_val_tensor_to_f32(y, out, 6, &n), 0);
    assert_int_equal(n, 6);
    const float want[6] = {2, 8, 4, 10, 6, 12};
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == want[i]);
    assert_int_not_equal(tl_vm_get_tensor_f32(vm, "y", out, 5, &n), 0);
    assert_int_equal(n, 6);
    assert_non_null(strstr(tl_vm_error(vm), "room for 5"));
    /* f16 converts on the way out */
    assert_int_equal(tl_vm_eval(vm, "main { let h = f16::full([2], 0.5) }", NULL), 0);
    assert_int_equal(tl_vm_get_tensor_f32(vm, "h", out, 6, &n), 0);
    assert_int_equal(n, 2);
    assert_true(out[0] == 0.5f && out[1] == 0.5f);
    /* a 0-dim tensor holds one element */
    assert_int_equal(tl_val_set_tensor_f32(y, x + 4, 0, NULL), 0);
    assert_int_equal(tl_val_tensor_to_f32(y, out, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_true(out[0] == 5.0f);
    assert_int_not_equal(tl_vm_get_tensor_f32(vm, "nope", out, 6, &n), 0);
    assert_int_not_equal(tl_val_set_tensor_f32(y, x, 9, shape), 0);
    tl_val_free(y);
}

/* A C function: sum of its number arguments, scaled by *user. */
static int c_scaled_sum(tl_vm *v, int argc, const tl_val *const *argv, tl_val *result, void *user) {
    double s = 0;
    for (int i = 0; i < argc; i++) {
        double d;
        if (tl_val_get_float(argv[i], &d) != 0)
            return tl_vm_fail(v, "argument %d must be a number, got %s", i + 1,
                              tl_val_type_name(argv[i]));
        s += d;
    }
    tl_val_set_float(result, s * *(double *)user);
    return 0;
}

static int calls;
static int c_count(tl_vm *v, int argc, const tl_val *const *argv, tl_val *result, void *user) {
    (void)v, (void)argc, (void)argv, (void)user;
    calls++;
    tl_val_set_int(result, calls);
    return 0;
}

/* Returns a fresh tensor built from a string's bytes. */
static int c_bytes(tl_vm *v, int argc, const tl_val *const *argv, tl_val *result, void *user) {
    (void)argc, (void)user;
    const char *s;
    size_t len;
    if (tl_val_get_string(argv[0], &s, &len) != 0) return tl_vm_fail(v, "needs a string");
    float buf[64];
    if (len > 64) return tl_vm_fail(v, "at most 64 bytes");
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)s[i];
    int64_t shape[1] = {(int64_t)len};
    return tl_val_set_tensor_f32(result, buf, 1, shape);
}

static int c_silent_fail(tl_vm *v, int argc, const tl_val *const *argv, tl_val *result,
                         void *user) {
    (void)v, (void)argc, (void)argv, (void)user;
    tl_val_set_int(result, 1); /* released by tl on failure */
    return 3;
}

static void test_register(void **state) {
    (void)state;
    double scale = 10;
    assert_int_equal(tl_vm_register(vm, "scaled_sum", c_scaled_sum, 1, -1, &scale), 0);
    assert_int_equal(tl_vm_register(vm, "count", c_count, 0, 0, NULL), 0);
    assert_int_equal(tl_vm_register(vm, "bytes", c_bytes, 1, 1, NULL), 0);
    assert_int_equal(tl_vm_register(vm, "silent", c_silent_fail, 0, 0, NULL), 0);
    assert_int_not_equal(tl_vm_register(vm, "bad", c_count, 2, 1, NULL), 0);
    assert_int_not_equal(tl_vm_register(vm, "", c_count, 0, 0, NULL), 0);
    assert_int_equal(tl_vm_eval(vm, "main { scaled_sum(1, 2.5, 0.5) }", r), 0);
    double d;
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(d == 40.0);
    /* a function value: passed around and called from .tl and from C */
    calls = 0;
    assert_int_equal(
        tl_vm_eval(vm, "fn apply(f) { f() }\nmain { let c = count\n apply(c) + apply(count) }", r),
        0);
    int64_t i;
    assert_int_equal(tl_val_get_int(r, &i), 0);
    assert_int_equal(i, 3);
    assert_int_equal(tl_vm_call(vm, "count", 0, NULL, r), 0);
    assert_int_equal(tl_val_get_int(r, &i), 0);
    assert_int_equal(i, 3);
    assert_int_equal(tl_vm_eval(vm, "main { bytes(\"AB\") + 1.0 }", r), 0);
    assert_int_equal(tl_val_type(r), TL_TYPE_TENSOR);
    float f[2];
    size_t n;
    assert_int_equal(tl_val_tensor_to_f32(r, f, 2, &n), 0);
    assert_true(n == 2 && f[0] == 66.0f && f[1] == 67.0f);
    /* argument counts are checked before the C function runs */
    calls = 0;
    assert_int_not_equal(tl_vm_eval(vm, "main { count(1) }", r), 0);
    assert_int_equal(calls, 0);
    assert_non_null(strstr(tl_vm_error(vm), "count takes 0 arguments, got 1"));
    assert_int_not_equal(tl_vm_eval(vm, "main { scaled_sum() }", r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "scaled_sum takes at least 1 argument, got 0"));
    /* tl_vm_fail: the message, at the call's position */
    assert_int_not_equal(tl_vm_eval_named(vm, "main {\n  let y = 1\n  y + scaled_sum(1, \"x\")\n}",
                                          SIZE_MAX, "calc.tl", r),
                         0);
    tl_error_info e;
    assert_int_equal(tl_vm_last_error(vm, &e), 1);
    assert_string_equal(e.message, "argument 2 must be a number, got string");
    assert_string_equal(e.file, "calc.tl");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 7);
    assert_non_null(strstr(e.text, "y + scaled_sum(1, \"x\")"));
    /* a failure without a message still says which function failed */
    assert_int_not_equal(tl_vm_eval(vm, "main { silent() }", r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "failed (the C function returned 3)"));
    /* registering again replaces the function */
    assert_int_equal(tl_vm_register(vm, "count", c_scaled_sum, 1, 1, &scale), 0);
    assert_int_equal(tl_vm_eval(vm, "main { count(2) }", r), 0);
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(d == 20.0);
}

static void test_call_from_c(void **state) {
    (void)state;
    assert_int_equal(tl_vm_eval(vm, "fn hyp(a, b) { sqrt(a * a + b * b) }", NULL), 0);
    tl_val *a = tl_val_new(), *b = tl_val_new();
    tl_val_set_float(a, 3);
    tl_val_set_int(b, 4);
    const tl_val *args[2] = {a, b};
    assert_int_equal(tl_vm_call(vm, "hyp", 2, args, r), 0);
    double d;
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(d == 5.0);
    /* a builtin, a wrong count, an unknown name */
    assert_int_equal(tl_vm_call(vm, "max", 2, args, r), 0);
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(d == 4.0);
    assert_int_equal(tl_vm_get(vm, "hyp", r), 0);
    assert_int_equal(tl_val_type(r), TL_TYPE_FUNCTION);
    assert_int_not_equal(tl_vm_call(vm, "hyp", 1, args, r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "hyp takes 2 arguments, got 1"));
    assert_int_not_equal(tl_vm_call(vm, "nope", 0, NULL, r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "no global named 'nope'"));
    tl_val_free(a);
    tl_val_free(b);
}

static void test_errors_with_positions(void **state) {
    (void)state;
    tl_error_info e;
    /* a syntax error */
    assert_int_not_equal(tl_vm_eval_named(vm, "main {\n  let = 3\n}", SIZE_MAX, "syn.tl", r), 0);
    assert_int_equal(tl_vm_last_error(vm, &e), 1);
    assert_string_equal(e.file, "syn.tl");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 7);
    assert_non_null(strstr(e.message, "unexpected"));
    /* a runtime error in a file: position and the call stack */
    char path[] = "/tmp/tl_embed_XXXXXX.tl";
    int fd = mkstemps(path, 3);
    assert_true(fd >= 0);
    const char *src = "fn f(x) {\n    x / 0\n}\nmain {\n    print(f(1))\n}\n";
    assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    assert_int_not_equal(tl_vm_eval_file(vm, path), 0);
    assert_int_equal(tl_vm_last_error(vm, &e), 1);
    assert_string_equal(e.file, path);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 5);
    assert_non_null(strstr(e.text, "at f ("));
    unlink(path);
    /* a missing file */
    assert_int_not_equal(tl_vm_eval_file(vm, "/nonexistent/x.tl"), 0);
    assert_int_equal(tl_vm_last_error(vm, &e), 1);
    assert_non_null(strstr(e.text, "/nonexistent/x.tl"));
    /* the vm still works after errors, and success clears the error */
    assert_int_equal(tl_vm_eval(vm, "main { 1 }", r), 0);
    assert_int_equal(tl_vm_last_error(vm, &e), 0);
    assert_string_equal(e.message, "");
}

static void test_extern_from_embedding(void **state) {
    (void)state;
    assert_int_equal(
        tl_vm_eval(vm, "extern \"libm.so.6\" { fn cbrt(x: f64) -> f64 }\nmain { cbrt(27) }", r), 0);
    double d;
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(fabs(d - 3.0) < 1e-12);
    assert_int_equal(tl_vm_get(vm, "cbrt", r), 0);
    assert_int_equal(tl_val_type(r), TL_TYPE_FUNCTION);
    assert_string_equal(tl_val_type_name(r), "ExternFn");
    tl_val *x = tl_val_new();
    tl_val_set_float(x, 8);
    const tl_val *args[1] = {x};
    assert_int_equal(tl_vm_call(vm, "cbrt", 1, args, r), 0);
    assert_int_equal(tl_val_get_float(r, &d), 0);
    assert_true(fabs(d - 2.0) < 1e-12);
    /* the extern's argument check applies to calls from C as well */
    tl_val_set_cstring(x, "eight");
    assert_int_not_equal(tl_vm_call(vm, "cbrt", 1, args, r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "extern fn cbrt(x: f64) -> f64 in \"libm.so.6\": "
                                            "argument 1 (x): expected f64 (a number), got string"));
    tl_val_free(x);
}

static void test_limits(void **state) {
    (void)state;
    tl_vm_set_max_depth(vm, 50);
    assert_int_equal(tl_vm_eval(vm, "fn down(n) { if n == 0 { 0 } else { down(n - 1) } }", NULL),
                     0);
    assert_int_equal(tl_vm_eval(vm, "main { down(40) }", r), 0);
    assert_int_not_equal(tl_vm_eval(vm, "main { down(60) }", r), 0);
    assert_non_null(strstr(tl_vm_error(vm), "maximum call depth (50)"));
    tl_vm_set_max_steps(vm, 1000);
    assert_int_not_equal(tl_vm_eval(vm, "main { loop { } }", r), 0);
    assert_int_equal(tl_vm_eval(vm, "main { 1 }", r), 0); /* the vm is usable again */
}

static void test_values(void **state) {
    (void)state;
    tl_val *v = tl_val_new(), *w = tl_val_new();
    assert_int_equal(tl_val_type(v), TL_TYPE_VOID);
    assert_int_equal(tl_val_set_string(v, "a\0b", 3), 0);
    const char *s;
    size_t len;
    assert_int_equal(tl_val_get_string(v, &s, &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(memcmp(s, "a\0b", 4), 0); /* NUL-terminated too */
    assert_int_equal(tl_val_copy(w, v), 0);
    tl_val_set_void(v);
    assert_int_equal(tl_val_get_string(w, &s, &len), 0); /* w keeps its reference */
    assert_int_equal(len, 3);
    int b;
    assert_int_not_equal(tl_val_get_bool(w, &b), 0);
    assert_string_equal(tl_val_type_name(w), "string");
    tl_val_free(v);
    tl_val_free(w);
    tl_val_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eval_result_and_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_globals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_from_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_with_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extern_from_embedding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
