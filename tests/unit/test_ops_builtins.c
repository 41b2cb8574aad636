/* tests/unit/test_ops_builtins.c -- the tensor/nn builtin glue called the way
** the evaluator calls it: resolve by name and first argument, then call with
** borrowed values. */
#include "test_ops_util.h"

#include "lang/builtin.h"
#include "lang/builtins/tensor_args.h"
#include "runtime/status.h"

static tl_status call(const char *name, int argc, const tl_value *argv, tl_value *out) {
    const tl_builtin_def *d = tl_builtin_resolve(name, argc, argv);
    if (!d) return tl_fail(TL_ERR_ARG, "no builtin %s for these arguments", name);
    return tl_builtin_call(d, NULL, argc, argv, out);
}

static tl_value ints(int n, const int64_t *v) {
    tl_value a;
    OK(tl_value_array((size_t)n, &a));
    for (int i = 0; i < n; i++)
        OK(tl_array_push(a.as.arr, tl_value_int(v[i])));
    return a;
}

static void test_every_def_is_well_formed(void **state) {
    (void)state;
    size_t n = 0;
    for (const tl_builtin_def *d; (d = tl_builtin_at(n)) != NULL; n++) {
        assert_non_null(d->fn);
        assert_non_null(d->signature);
        assert_true(d->max_args < 0 || d->max_args >= d->min_args);
        assert_non_null(strstr(d->signature, d->name));
    }
    assert_true(n > 100);
    assert_non_null(tl_builtin_find("f16::zeros"));
    assert_non_null(tl_builtin_find("rms_norm"));
}

static void test_create_reshape_reduce(void **state) {
    (void)state;
    tl_value sh = ints(2, (int64_t[]){2, 3}), t, r, s, args[3];
    OK(call("f16::ones", 1, &sh, &t));
    assert_int_equal(t.as.tensor->dtype, TL_DTYPE_F16);
    OK(call("sum", 1, &t, &s)); /* whole-tensor sum is a number */
    assert_int_equal(s.kind, TL_VAL_FLOAT);
    assert_true(s.as.f == 6.0);
    args[0] = t;
    args[1] = ints(1, (int64_t[]){6});
    OK(call("reshape", 2, args, &r));
    assert_string_equal(shp(r.as.tensor), "[6]");
    tl_value_release(&r);
    tl_value_release(&args[1]);
    OK(call("shape", 1, &t, &r));
    assert_int_equal(r.kind, TL_VAL_ARRAY);
    assert_int_equal(r.as.arr->len, 2);
    assert_int_equal(r.as.arr->items[1].as.i, 3);
    tl_value_release(&r);
    args[1] = tl_value_int(1);
    args[2] = tl_value_bool(true);
    OK(call("sum", 3, args, &r));
    assert_string_equal(shp(r.as.tensor), "[2, 1]");
    tl_value_release(&r);
    OK(call("dtype", 1, &t, &r));
    assert_string_equal(r.as.str->data, "f16");
    tl_value_release(&r);
    /* reshape error message names the op */
    args[1] = ints(1, (int64_t[]){5});
    assert_int_equal(call("reshape", 2, args, &r), TL_ERR_SHAPE);
    assert_string_equal(tl_last_error(), "reshape: cannot reshape [2, 3] (6 elements) to [5]");
    tl_value_release(&args[1]);
    tl_value_release(&t);
    tl_value_release(&sh);
    tl_value_release(&s);
}

static void test_nested_array_to_tensor(void **state) {
    (void)state;
    tl_value row1 = ints(3, (int64_t[]){1, 2, 3}), row2 = ints(3, (int64_t[]){4, 5, 6}), m;
    OK(tl_value_array(2, &m));
    OK(tl_array_push(m.as.arr, row1));
    OK(tl_array_push(m.as.arr, row2));
    tl_tensor *t;
    OK(tl_value_to_tensor(&m, &t));
    assert_int_equal(t->dtype, TL_DTYPE_I64);
    assert_string_equal(shp(t), "[2, 3]");
    assert_true(at(t, 4) == 5);
    tl_tensor_unref(t);
    /* ragged is an error */
    OK(tl_array_push(m.as.arr, ints(2, (int64_t[]){7, 8})));
    assert_int_equal(tl_value_to_tensor(&m, &t), TL_ERR_SHAPE);
    tl_value_release(&m);
    /* a number, then a list at the same depth: ragged whichever comes first (the
    ** fuzzer's [3, []] once sized a [2, 0] tensor and wrote the 3 past its end) */
    tl_value mixed[4];
    for (int order = 0; order < 4; order++) {
        tl_value num = tl_value_int(3), list = ints(order < 2 ? 0 : 1, (int64_t[]){1});
        OK(tl_value_array(2, &mixed[order]));
        OK(tl_array_push(mixed[order].as.arr, order % 2 ? list : num));
        OK(tl_array_push(mixed[order].as.arr, order % 2 ? num : list));
        t = NULL;
        assert_int_equal(tl_value_to_tensor(&mixed[order], &t), TL_ERR_SHAPE);
        assert_null(t);
        assert_non_null(strstr(tl_last_error(), "ragged"));
        tl_value_release(&mixed[order]);
    }
}

static void test_arith_and_nn(void **state) {
    (void)state;
    tl_value sh = ints(2, (int64_t[]){1, 4}), x, w, y, args[3];
    OK(call("f32::arange", 1, (tl_value[]){tl_value_int(4)}, &x));
    assert_string_equal(shp(x.as.tensor), "[4]");
    args[0] = tl_value_float(2.0);
    args[1] = x;
    tl_value r;
    OK(call("mul", 2, (tl_value[]){x, tl_value_float(2.0)}, &r));
    assert_true(at(r.as.tensor, 3) == 6.0);
    tl_value_release(&r);
    tl_value sh4 = ints(1, (int64_t[]){4});
    OK(call("ones", 1, &sh4, &w));
    tl_value_release(&sh4);
    args[0] = x;
    args[1] = w;
    args[2] = tl_value_float(1e-5);
    OK(call("rms_norm", 3, args, &y));
    float ss = (0 + 1 + 4 + 9) / 4.0f, sc = 1.0f / sqrtf(ss + 1e-5f);
    assert_true((float)at(y.as.tensor, 2) == 2.0f * sc);
    tl_value_release(&y);
    OK(call("softmax", 1, &x, &y));
    double tot = 0;
    for (int i = 0; i < 4; i++)
        tot += at(y.as.tensor, i);
    assert_true(fabs(tot - 1.0) < 1e-6);
    OK(call("argmax", 1, &y, &r));
    assert_int_equal(r.kind, TL_VAL_INT);
    assert_int_equal(r.as.i, 3);
    OK(call("greedy_sample", 1, &y, &r));
    assert_int_equal(r.as.i, 3);
    OK(call("temperature_sample", 2, (tl_value[]){y, tl_value_float(0.0)}, &r));
    assert_int_equal(r.as.i, 3);
    tl_value_release(&y);
    /* embedding with a single id gives [1, D] */
    tl_value tab;
    OK(call("rand", 1, (tl_value[]){sh}, &tab));
    OK(call("embedding", 2, (tl_value[]){tab, tl_value_int(0)}, &y));
    assert_string_equal(shp(y.as.tensor), "[1, 4]");
    tl_value_release(&y);
    assert_int_equal(call("embedding", 2, (tl_value[]){tab, tl_value_int(1)}, &y), TL_ERR_RANGE);
    /* linear through the table */
    OK(call("linear", 2, (tl_value[]){tab, tab}, &y));
    assert_string_equal(shp(y.as.tensor), "[1, 1]");
    tl_value_release(&y);
    /* set_precision round-trip */
    tl_value mode;
    OK(tl_value_cstring("exact", &mode));
    OK(call("set_precision", 1, &mode, &r));
    assert_int_equal(tl_get_precision(), TL_PRECISION_EXACT);
    tl_value_release(&mode);
    OK(tl_value_cstring("fast", &mode));
    assert_int_equal(call("set_precision", 1, &mode, &r), TL_ERR_ARG);
    tl_value_release(&mode);
    tl_set_precision(TL_PRECISION_LLAMA);
    tl_value_release(&tab);
    tl_value_release(&x);
    tl_value_release(&w);
    tl_value_release(&sh);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_def_is_well_formed),
        cmocka_unit_test(test_create_reshape_reduce),
        cmocka_unit_test(test_nested_array_to_tensor),
        cmocka_unit_test(test_arith_and_nn),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
