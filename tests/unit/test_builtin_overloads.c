/* tests/unit/test_builtin_overloads.c -- how a call picks among the defs of
** one builtin name (lang/builtin.h): by arity, the first argument's kind and
** "some argument is a tensor", never by table order.  No two defs of a name
** may accept the same call; the rules on the names that have several forms;
** an arity error names the builtin and lists its forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lang/builtin.h"
#include "lang/value.h"
#include "runtime/ops.h"

/* Every kind a value can have (the masks' bits). */
#define ALL_KINDS 0xffffffffu

static uint32_t mask_or_all(uint32_t m) {
    return m ? m : ALL_KINDS;
}

/* Could one call match both defs?  Arity ranges meet and the first-argument
** masks meet (conservative: some_arg is not counted as separating them). */
static bool overlap(const tl_builtin_def *a, const tl_builtin_def *b) {
    int amax = a->max_args < 0 ? 1 << 20 : a->max_args;
    int bmax = b->max_args < 0 ? 1 << 20 : b->max_args;
    if (amax < b->min_args || bmax < a->min_args) return false;
    return (mask_or_all(a->first_arg) & mask_or_all(b->first_arg)) != 0;
}

static void test_no_two_defs_accept_one_call(void **state) {
    (void)state;
    int pairs = 0;
    for (size_t i = 0; tl_builtin_at(i); i++) {
        const tl_builtin_def *a = tl_builtin_at(i);
        for (size_t j = i + 1; tl_builtin_at(j); j++) {
            const tl_builtin_def *b = tl_builtin_at(j);
            if (strcmp(a->name, b->name) != 0) continue;
            pairs++;
            if (overlap(a, b))
                fail_msg("%s: \"%s\" and \"%s\" accept the same calls", a->name, a->signature,
                         b->signature);
        }
    }
    assert_true(pairs >= 8); /* abs, pow, rank, sigmoid, batch_norm, string_substring, ... */
}

static tl_value tensor_value(void) {
    tl_tensor *t = NULL;
    int64_t n = 4;
    assert_int_equal(tl_op_full(TL_DTYPE_F32, 1, &n, 0.5, &t), TL_OK);
    return tl_value_tensor(t);
}

/* The def a call resolves to, by its signature's start. */
static void expect(const char *name, int argc, const tl_value *argv, const char *sig_prefix) {
    const tl_builtin_def *d = tl_builtin_resolve(name, argc, argv);
    if (!sig_prefix) {
        if (d) fail_msg("%s/%d: resolved to \"%s\", expected none", name, argc, d->signature);
        return;
    }
    if (!d) fail_msg("%s/%d: no def, expected \"%s...\"", name, argc, sig_prefix);
    if (strncmp(d->signature, sig_prefix, strlen(sig_prefix)) != 0)
        fail_msg("%s/%d: resolved to \"%s\", expected \"%s...\"", name, argc, d->signature,
                 sig_prefix);
}

static void test_rules(void **state) {
    (void)state;
    tl_value t = tensor_value(), i2 = tl_value_int(2), f = tl_value_float(0.5);
    /* arity picks the form */
    expect("rank", 1, (tl_value[]){t}, "rank(tensor");
    expect("rank", 2, (tl_value[]){t, i2}, "rank(scores, i)");
    expect("batch_norm", 4, (tl_value[]){t, t, t, f}, "batch_norm(x, gamma");
    expect("batch_norm", 5, (tl_value[]){t, t, t, t, t}, "batch_norm(x, mean");
    /* the first argument's kind */
    expect("abs", 1, (tl_value[]){i2}, "abs(number");
    expect("abs", 1, (tl_value[]){t}, "abs(t)");
    expect("sigmoid", 1, (tl_value[]){f}, "sigmoid(x[, T]) -> float");
    expect("sigmoid", 1, (tl_value[]){t}, "sigmoid(x) -> tensor");
    expect("sigmoid", 2, (tl_value[]){t, f}, "sigmoid(t, T)");
    /* an integer and a float, a number and a tensor: the tensor forms need a tensor */
    expect("pow", 2, (tl_value[]){i2, f}, "pow(number");
    expect("pow", 2, (tl_value[]){t, f}, "pow(t, e)");
    expect("add", 2, (tl_value[]){i2, t}, "add(a, b)");
    expect("add", 2, (tl_value[]){t, i2}, "add(a, b)");
    expect("add", 2, (tl_value[]){i2, f}, NULL);
    /* no form fits the arity: the first whose kinds fit, for its error */
    expect("rank", 3, (tl_value[]){t, i2, i2}, "rank(");
    tl_value_release(&t);
}

static void test_arity_errors_name_the_builtin(void **state) {
    (void)state;
    tl_value t = tensor_value(), out;
    tl_value args[3] = {t, tl_value_int(1), tl_value_int(2)};
    const tl_builtin_def *d = tl_builtin_resolve("rank", 3, args);
    assert_non_null(d);
    tl_status st = tl_builtin_call(d, NULL, 3, args, &out);
    assert_int_equal(st, TL_ERR_ARG);
    const char *msg = tl_last_error();
    assert_non_null(strstr(msg, "rank: no form of it takes 3 arguments"));
    assert_non_null(strstr(msg, "rank(scores, i) -> int"));
    assert_non_null(strstr(msg, "rank(tensor | array | number) -> int"));
    /* a name with one form keeps the plain message */
    d = tl_builtin_resolve("matmul", 1, args);
    assert_non_null(d);
    assert_int_equal(tl_builtin_call(d, NULL, 1, args, &out), TL_ERR_ARG);
    assert_non_null(strstr(tl_last_error(), "matmul takes 2 arguments, got 1"));
    tl_value_release(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_two_defs_accept_one_call),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_arity_errors_name_the_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
