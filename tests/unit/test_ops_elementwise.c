/* tests/unit/test_ops_elementwise.c -- binary ops (broadcasting, dtypes, views,
** errors) and unary functions against plain reference loops. */
#include "test_ops_util.h"

#include "runtime/status.h"

/* reference broadcasting add over NumPy shapes, up to 4 dims */
static void check_broadcast(int na, const int64_t *sa, int nb, const int64_t *sb, int nout,
                            const int64_t *sout) {
    tl_tensor *a = mk_rand(TL_DTYPE_F32, na, sa, 1), *b = mk_rand(TL_DTYPE_F32, nb, sb, 2), *o;
    OK(tl_op_binary(TL_BIN_SUB, a, b, &o));
    assert_int_equal(o->n_dims, nout);
    int64_t sh[TL_MAX_DIMS];
    tl_tensor_shape(o, sh);
    for (int i = 0; i < nout; i++)
        assert_int_equal(sh[i], sout[i]);
    /* walk every output index */
    int64_t n = tl_tensor_nelements(o);
    for (int64_t f = 0; f < n; f++) {
        int64_t idx[TL_MAX_DIMS], r = f;
        for (int i = nout - 1; i >= 0; i--) {
            idx[i] = r % sout[i];
            r /= sout[i];
        }
        int64_t fa = 0, fb = 0;
        for (int i = 0; i < na; i++) {
            int64_t k = idx[nout - na + i];
            fa = fa * sa[i] + (sa[i] == 1 ? 0 : k);
        }
        for (int i = 0; i < nb; i++) {
            int64_t k = idx[nout - nb + i];
            fb = fb * sb[i] + (sb[i] == 1 ? 0 : k);
        }
        assert_true((float)at(o, f) == (float)at(a, fa) - (float)at(b, fb));
    }
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(o);
}

static void test_broadcast_corners(void **state) {
    (void)state;
    check_broadcast(2, (int64_t[]){2, 3}, 1, (int64_t[]){3}, 2, (int64_t[]){2, 3});
    check_broadcast(2, (int64_t[]){2, 1}, 2, (int64_t[]){1, 3}, 2, (int64_t[]){2, 3});
    check_broadcast(3, (int64_t[]){4, 1, 3}, 2, (int64_t[]){2, 1}, 3, (int64_t[]){4, 2, 3});
    check_broadcast(1, (int64_t[]){1}, 3, (int64_t[]){2, 3, 5}, 3, (int64_t[]){2, 3, 5});
    check_broadcast(0, NULL, 2, (int64_t[]){3, 2}, 2, (int64_t[]){3, 2});
    check_broadcast(2, (int64_t[]){0, 3}, 1, (int64_t[]){3}, 2, (int64_t[]){0, 3});
    check_broadcast(2, (int64_t[]){0, 1}, 1, (int64_t[]){1}, 2, (int64_t[]){0, 1});
    check_broadcast(4, (int64_t[]){2, 1, 3, 1}, 3, (int64_t[]){1, 3, 4}, 4,
                    (int64_t[]){2, 1, 3, 4}); /* big enough to thread */
    check_broadcast(2, (int64_t[]){300, 70}, 2, (int64_t[]){300, 1}, 2, (int64_t[]){300, 70});
}

static void test_broadcast_error_names_op_and_shapes(void **state) {
    (void)state;
    tl_tensor *a = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, 3}, 1);
    tl_tensor *b = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){4}, 2), *o = (tl_tensor *)1;
    assert_int_equal(tl_op_binary(TL_BIN_ADD, a, b, &o), TL_ERR_SHAPE);
    assert_null(o);
    assert_string_equal(tl_last_error(), "add: shapes [2, 3] and [4] cannot broadcast");
    tl_tensor_unref(a);
    tl_tensor_unref(b);
}

static void test_noncontiguous_operand(void **state) {
    (void)state;
    tl_tensor *a = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, 4}, 3), *at_, *b, *o;
    OK(tl_op_transpose(a, 0, 1, &at_)); /* [4, 3] view */
    assert_false(tl_tensor_is_contiguous(at_));
    b = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){3}, 4);
    OK(tl_op_binary(TL_BIN_MUL, at_, b, &o));
    assert_string_equal(shp(o), "[4, 3]");
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            assert_true((float)at(o, i * 3 + j) == (float)at(a, j * 4 + i) * (float)at(b, j));
    tl_tensor_unref(a);
    tl_tensor_unref(at_);
    tl_tensor_unref(b);
    tl_tensor_unref(o);
}

static void test_f16_rounding(void **state) {
    (void)state;
    /* 1 + 2^-11 is not an f16; the f16 sum of f16(1) and f16(2^-11) must round to even (1) */
    tl_tensor *a = mk(TL_DTYPE_F16, 1, (int64_t[]){3}, (double[]){1.0, 1000.0, 0.1});
    tl_tensor *b = mk(TL_DTYPE_F16, 1, (int64_t[]){3}, (double[]){0x1p-11, 0.3, 0.2}), *o;
    OK(tl_op_binary(TL_BIN_ADD, a, b, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 3; i++) {
        float want = round_to(TL_DTYPE_F16, (float)at(a, i) + (float)at(b, i));
        assert_true((float)at(o, i) == want);
    }
    assert_true(at(o, 0) == 1.0);
    tl_tensor_unref(o);
    /* f16 with f32 promotes to f32; bf16 with f16 gives f32 */
    tl_tensor *c = mk(TL_DTYPE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    OK(tl_op_binary(TL_BIN_ADD, a, c, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F32);
    tl_tensor_unref(o);
    tl_tensor *d = mk(TL_DTYPE_BF16, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    OK(tl_op_binary(TL_BIN_MUL, a, d, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F32);
    tl_tensor_unref(o);
    /* scalar keeps f16 */
    OK(tl_op_binary_scalar(TL_BIN_MUL, a, 0.1, false, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 3; i++)
        assert_true((float)at(o, i) == round_to(TL_DTYPE_F16, (float)at(a, i) * 0.1f));
    tl_tensor_unref(o);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(c);
    tl_tensor_unref(d);
}

static void test_scalar_both_orders(void **state) {
    (void)state;
    tl_tensor *a = mk(TL_DTYPE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 4}), *o;
    OK(tl_op_binary_scalar(TL_BIN_SUB, a, 10, false, &o));
    assert_true(at(o, 2) == -6);
    tl_tensor_unref(o);
    OK(tl_op_binary_scalar(TL_BIN_SUB, a, 10, true, &o));
    assert_true(at(o, 2) == 6);
    tl_tensor_unref(o);
    OK(tl_op_binary_scalar(TL_BIN_DIV, a, 1, true, &o));
    assert_true(at(o, 2) == 0.25);
    tl_tensor_unref(o);
    OK(tl_op_binary_scalar(TL_BIN_GT, a, 1.5, false, &o));
    assert_int_equal(o->dtype, TL_DTYPE_BOOL);
    assert_true(at(o, 0) == 0 && at(o, 1) == 1 && at(o, 2) == 1);
    tl_tensor_unref(o);
    tl_tensor_unref(a);
}

static void test_integer_ops(void **state) {
    (void)state;
    tl_tensor *a = mk(TL_DTYPE_I64, 1, (int64_t[]){4}, (double[]){7, -7, 7, -7});
    tl_tensor *b = mk(TL_DTYPE_I64, 1, (int64_t[]){4}, (double[]){2, 2, -2, -2}), *o;
    OK(tl_op_binary(TL_BIN_DIV, a, b, &o));
    assert_int_equal(o->dtype, TL_DTYPE_I64);
    double want_div[4] = {3, -4, -4, 3}, want_mod[4] = {1, 1, -1, -1};
    for (int i = 0; i < 4; i++)
        assert_true(at(o, i) == want_div[i]);
    tl_tensor_unref(o);
    OK(tl_op_binary(TL_BIN_MOD, a, b, &o));
    for (int i = 0; i < 4; i++)
        assert_true(at(o, i) == want_mod[i]);
    tl_tensor_unref(o);
    /* i32 with i64 scalar stays i32; exact beyond 2^24 */
    tl_tensor *c = mk(TL_DTYPE_I32, 1, (int64_t[]){1}, (double[]){16777217});
    OK(tl_op_binary_scalar(TL_BIN_ADD, c, 2, false, &o));
    assert_int_equal(o->dtype, TL_DTYPE_I32);
    assert_true(at(o, 0) == 16777219);
    tl_tensor_unref(o);
    /* float mod follows the divisor's sign */
    tl_tensor *f = mk(TL_DTYPE_F32, 1, (int64_t[]){2}, (double[]){-7.5, 7.5});
    OK(tl_op_binary_scalar(TL_BIN_MOD, f, 2, false, &o));
    assert_true(at(o, 0) == 0.5 && at(o, 1) == 1.5);
    tl_tensor_unref(o);
    /* division by zero is an error, not UB */
    tl_tensor *z = mk(TL_DTYPE_I64, 1, (int64_t[]){4}, (double[]){1, 0, 1, 1});
    assert_int_equal(tl_op_binary(TL_BIN_DIV, a, z, &o), TL_ERR_ARG);
    assert_non_null(strstr(tl_last_error(), "division by zero"));
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(c);
    tl_tensor_unref(f);
    tl_tensor_unref(z);
}

static void test_comparisons_and_where(void **state) {
    (void)state;
    tl_tensor *a = mk(TL_DTYPE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    tl_tensor *b = mk(TL_DTYPE_I32, 1, (int64_t[]){3}, (double[]){3, 2, 1}), *o, *w;
    tl_binary_op ops[6] = {TL_BIN_EQ, TL_BIN_NE, TL_BIN_LT, TL_BIN_LE, TL_BIN_GT, TL_BIN_GE};
    int want[6][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0}, {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
    for (int k = 0; k < 6; k++) {
        OK(tl_op_binary(ops[k], a, b, &o));
        assert_int_equal(o->dtype, TL_DTYPE_BOOL);
        for (int i = 0; i < 3; i++)
            assert_true(at(o, i) == want[k][i]);
        if (k == 2) {
            OK(tl_op_where(o, a, b, &w));
            assert_true(at(w, 0) == 1 && at(w, 1) == 2 && at(w, 2) == 1);
            tl_tensor_unref(w);
        }
        tl_tensor_unref(o);
    }
    tl_tensor_unref(a);
    tl_tensor_unref(b);
}

static void test_quantized_rejected(void **state) {
    (void)state;
    tl_tensor *q, *a = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){32}, 1), *o;
    OK(tl_tensor_new(TL_DTYPE_Q4_0, 1, (int64_t[]){32}, &q));
    assert_int_equal(tl_op_binary(TL_BIN_ADD, a, q, &o), TL_ERR_TYPE);
    assert_string_equal(tl_last_error(), "add: q4_0 tensor: dequantize it first");
    assert_int_equal(tl_op_unary(TL_UN_EXP, q, &o), TL_ERR_TYPE);
    tl_tensor_unref(q);
    tl_tensor_unref(a);
}

static float ref_unary(tl_unary_op op, float x) {
    switch (op) {
    case TL_UN_NEG:
        return -x;
    case TL_UN_ABS:
        return fabsf(x);
    case TL_UN_EXP:
        return expf(x);
    case TL_UN_LOG:
        return logf(x);
    case TL_UN_SQRT:
        return sqrtf(x);
    case TL_UN_RSQRT:
        return 1.0f / sqrtf(x);
    case TL_UN_SIN:
        return sinf(x);
    case TL_UN_COS:
        return cosf(x);
    case TL_UN_TAN:
        return tanf(x);
    case TL_UN_TANH:
        return tanhf(x);
    case TL_UN_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case TL_UN_SILU:
        return x / (1.0f + expf(-x));
    case TL_UN_GELU:
        return 0.5f * x *
               (1.0f + tanhf(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
    case TL_UN_RELU:
        return x > 0 ? x : 0;
    case TL_UN_FLOOR:
        return floorf(x);
    case TL_UN_CEIL:
        return ceilf(x);
    case TL_UN_ROUND:
        return roundf(x);
    case TL_UN_SQUARE:
        return x * x;
    case TL_UN_SIGN:
        return (float)((x > 0) - (x < 0));
    case TL_UN_NOT:
        return x == 0;
    default:
        return NAN;
    }
}

static void test_unary_against_reference(void **state) {
    (void)state;
    tl_dtype dts[3] = {TL_DTYPE_F32, TL_DTYPE_F16, TL_DTYPE_BF16};
    for (int di = 0; di < 3; di++) {
        tl_tensor *x = mk_rand(dts[di], 2, (int64_t[]){5, 7}, 11), *xt;
        OK(tl_op_transpose(x, 0, 1, &xt)); /* read through a strided view */
        for (int op = 0; op < TL_UN_COUNT; op++) {
            tl_tensor *y;
            OK(tl_op_unary((tl_unary_op)op, xt, &y));
            assert_int_equal(y->dtype, op == TL_UN_NOT ? TL_DTYPE_BOOL : dts[di]);
            for (int i = 0; i < 7; i++)
                for (int j = 0; j < 5; j++) {
                    float in = (float)at(x, j * 7 + i);
                    float want = ref_unary((tl_unary_op)op, in);
                    if (op != TL_UN_NOT) want = round_to(dts[di], want);
                    float got = (float)at(y, i * 5 + j);
                    if (isnan(want))
                        assert_true(isnan(got));
                    else
                        assert_true(got == want);
                }
            tl_tensor_unref(y);
        }
        tl_tensor_unref(x);
        tl_tensor_unref(xt);
    }
}

static void test_unary_ints(void **state) {
    (void)state;
    tl_tensor *x = mk(TL_DTYPE_I32, 1, (int64_t[]){3}, (double[]){-3, 0, 5}), *y;
    OK(tl_op_unary(TL_UN_NEG, x, &y));
    assert_int_equal(y->dtype, TL_DTYPE_I32);
    assert_true(at(y, 0) == 3 && at(y, 2) == -5);
    tl_tensor_unref(y);
    OK(tl_op_unary(TL_UN_EXP, x, &y));
    assert_int_equal(y->dtype, TL_DTYPE_F32);
    assert_true((float)at(y, 1) == 1.0f);
    tl_tensor_unref(y);
    tl_tensor_unref(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_corners),
        cmocka_unit_test(test_broadcast_error_names_op_and_shapes),
        cmocka_unit_test(test_noncontiguous_operand),
        cmocka_unit_test(test_f16_rounding),
        cmocka_unit_test(test_scalar_both_orders),
        cmocka_unit_test(test_integer_ops),
        cmocka_unit_test(test_comparisons_and_where),
        cmocka_unit_test(test_quantized_rejected),
        cmocka_unit_test(test_unary_against_reference),
        cmocka_unit_test(test_unary_ints),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
