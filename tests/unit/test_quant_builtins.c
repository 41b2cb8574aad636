/* tests/unit/test_quant_builtins.c -- the quantize/dequantize builtins and the
** tensor-level functions behind them (runtime/quant.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lang/builtin.h"
#include "runtime/quant.h"
#include "runtime/tensor.h"

static tl_tensor *make_f32(int64_t rows, int64_t cols) {
    tl_tensor *t;
    int64_t shape[2] = {rows, cols};
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &t), TL_OK);
    float *d = tl_tensor_data(t);
    for (int64_t i = 0; i < rows * cols; i++)
        d[i] = sinf((float)i * 0.37f) * (float)(1 + i % 7);
    return t;
}

static tl_status call(const char *name, int argc, tl_value *argv, tl_value *out) {
    const tl_builtin_def *d = tl_builtin_resolve(name, argc, argv);
    assert_non_null(d);
    return tl_builtin_call(d, NULL, argc, argv, out);
}

static void test_quantize_builtin_matches_rows(void **state) {
    (void)state;
    tl_tensor *t = make_f32(3, 256);
    const char *names[] = {"q4_0", "Q8_0", "q4_K", "q6_k", "q5_1", "q2_K", "f16"};
    for (int k = 0; k < 7; k++) {
        tl_value argv[2] = {tl_value_tensor(tl_tensor_ref(t))};
        assert_int_equal(tl_value_cstring(names[k], &argv[1]), TL_OK);
        tl_value out;
        assert_int_equal(call("quantize", 2, argv, &out), TL_OK);
        assert_int_equal(out.kind, TL_VAL_TENSOR);
        tl_tensor *q = out.as.tensor;
        tl_dtype dt;
        assert_true(tl_dtype_from_name(names[k], &dt));
        assert_int_equal(q->dtype, dt);
        assert_int_equal(q->ne[0], 256);
        assert_int_equal(q->ne[1], 3);
        /* same bytes as quantizing the rows directly */
        size_t row = tl_dtype_row_size(dt, 256);
        uint8_t want[3 * 512];
        assert_int_equal(tl_quantize_rows(dt, tl_tensor_data(t), want, 3, 256), TL_OK);
        assert_memory_equal(tl_tensor_data(q), want, 3 * row);
        /* dequantize gives f32 of the same shape, close to the input */
        tl_value dq;
        tl_value qa[1] = {out};
        assert_int_equal(call("dequantize", 1, qa, &dq), TL_OK);
        assert_int_equal(dq.as.tensor->dtype, TL_DTYPE_F32);
        assert_int_equal(dq.as.tensor->ne[1], 3);
        const float *a = tl_tensor_data(t), *b = tl_tensor_data(dq.as.tensor);
        for (int i = 0; i < 3 * 256; i++)
            assert_true(fabsf(a[i] - b[i]) < 7.0f * 0.6f);
        tl_value_release(&dq);
        tl_value_release(&out);
        tl_value_release(&argv[0]);
        tl_value_release(&argv[1]);
    }
    tl_tensor_unref(t);
}

/* A transposed (strided) view quantizes by its logical rows. */
static void test_quantize_strided_view(void **state) {
    (void)state;
    tl_tensor *t = make_f32(32, 64); /* ne = {64, 32} */
    tl_tensor *v;
    int64_t ne[2] = {32, 64};
    size_t nb[2] = {t->nb[1], t->nb[0]};
    assert_int_equal(tl_tensor_view(t, 2, ne, nb, 0, &v), TL_OK);
    tl_tensor *q;
    assert_int_equal(tl_tensor_quantize(v, TL_DTYPE_Q8_0, &q), TL_OK);
    float col[32];
    const float *d = tl_tensor_data(t);
    for (int r = 0; r < 64; r++) {
        for (int i = 0; i < 32; i++)
            col[i] = d[i * 64 + r];
        uint8_t want[34];
        assert_int_equal(tl_quantize_rows(TL_DTYPE_Q8_0, col, want, 1, 32), TL_OK);
        assert_memory_equal((uint8_t *)tl_tensor_data(q) + r * 34, want, 34);
    }
    tl_tensor_unref(q);
    tl_tensor_unref(v);
    tl_tensor_unref(t);
}

static void test_errors(void **state) {
    (void)state;
    tl_tensor *t = make_f32(2, 48), *q = NULL;
    assert_int_equal(tl_tensor_quantize(t, TL_DTYPE_Q4_0, &q), TL_ERR_SHAPE);
    assert_null(q);
    assert_non_null(strstr(tl_last_error(), "multiple of"));
    assert_int_equal(tl_tensor_quantize(t, TL_DTYPE_I32, &q), TL_ERR_UNSUPPORTED);
    tl_value argv[2] = {tl_value_tensor(tl_tensor_ref(t))}, out;
    assert_int_equal(tl_value_cstring("q9_9", &argv[1]), TL_OK);
    assert_int_equal(call("quantize", 2, argv, &out), TL_ERR_ARG);
    assert_non_null(strstr(tl_last_error(), "q9_9"));
    tl_value_release(&argv[1]);
    assert_int_equal(tl_value_cstring("q4_0", &argv[1]), TL_OK);
    assert_int_equal(call("quantize", 2, argv, &out), TL_ERR_SHAPE);
    tl_value_release(&argv[0]);
    tl_value_release(&argv[1]);
    tl_tensor_unref(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_builtin_matches_rows),
        cmocka_unit_test(test_quantize_strided_view),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
