/* tests/unit/test_tensor.c -- tensor creation, strides, views and refcounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "runtime/tensor.h"

static void test_new_is_contiguous_and_zeroed(void **state) {
    (void)state;
    int64_t shape[3] = {2, 3, 4};
    tl_tensor *t;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_F32, 3, shape, &t), TL_OK);
    assert_int_equal(t->ne[0], 4);
    assert_int_equal(t->ne[2], 2);
    assert_int_equal(t->nb[0], 4);
    assert_int_equal(t->nb[1], 16);
    assert_int_equal(t->nb[2], 48);
    assert_int_equal(tl_tensor_nelements(t), 24);
    assert_int_equal(tl_tensor_nrows(t), 6);
    assert_true(tl_tensor_is_contiguous(t));
    const float *d = tl_tensor_data(t);
    for (int i = 0; i < 24; i++)
        assert_true(d[i] == 0.0f);
    char buf[64];
    assert_string_equal(tl_tensor_shape_str(t, buf, sizeof buf), "[2, 3, 4]");
    tl_tensor_unref(t);
}

static void test_block_type_strides(void **state) {
    (void)state;
    int64_t ne[2] = {64, 3};
    tl_tensor *t;
    assert_int_equal(tl_tensor_new(TL_DTYPE_Q4_0, 2, ne, &t), TL_OK);
    assert_int_equal(t->nb[1], 36); /* two 18-byte blocks per row */
    assert_int_equal(tl_tensor_nbytes(t), 108);
    tl_tensor_unref(t);
    int64_t bad[2] = {33, 3};
    assert_int_equal(tl_tensor_new(TL_DTYPE_Q4_0, 2, bad, &t), TL_ERR_SHAPE);
    assert_null(t);
}

static void test_view_shares_storage(void **state) {
    (void)state;
    int64_t ne[2] = {3, 2};
    tl_tensor *t, *v;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 2, ne, &t), TL_OK);
    float *d = tl_tensor_data(t);
    for (int i = 0; i < 6; i++)
        d[i] = (float)i;
    /* transpose: ne {2, 3}, nb {12, 4} */
    int64_t tne[2] = {2, 3};
    size_t tnb[2] = {12, 4};
    assert_int_equal(tl_tensor_view(t, 2, tne, tnb, 0, &v), TL_OK);
    tl_tensor_unref(t); /* the view keeps the storage alive */
    assert_false(tl_tensor_is_contiguous(v));
    const char *base = tl_tensor_data(v);
    float x;
    memcpy(&x, base + 1 * v->nb[0] + 2 * v->nb[1], 4); /* element [row 2][col 1] of the transpose */
    assert_true(x == 5.0f);
    tl_tensor_unref(v);
}

static void test_huge_shape_fails_cleanly(void **state) {
    (void)state;
    int64_t ne[4] = {1 << 20, 1 << 20, 1 << 20, 1 << 20};
    tl_tensor *t;
    assert_int_not_equal(tl_tensor_new(TL_DTYPE_F32, 4, ne, &t), TL_OK);
    assert_null(t);
    assert_true(strlen(tl_last_error()) > 0);
    int64_t neg[1] = {-1};
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 1, neg, &t), TL_ERR_SHAPE);
}

/* Strides whose byte count overflows size_t only in the last multiplication,
** and block types whose row is not a whole number of blocks, are refused. */
static void test_stride_overflow_edges(void **state) {
    (void)state;
    size_t nb[TL_MAX_DIMS], total;
    int64_t ok[2] = {1 << 20, 1 << 20};
    assert_true(tl_contiguous_strides(TL_DTYPE_F32, 2, ok, nb, &total));
    assert_int_equal(total, (size_t)4 << 40);
    assert_int_equal(nb[1], (size_t)4 << 20);
    int64_t last[3] = {1 << 20, 1 << 20, (int64_t)1 << 22}; /* 2^64 bytes */
    assert_false(tl_contiguous_strides(TL_DTYPE_F32, 3, last, nb, &total));
    int64_t row[1] = {(int64_t)1 << 62}; /* one row of 2^62 floats: 2^64 bytes */
    assert_false(tl_contiguous_strides(TL_DTYPE_F32, 1, row, nb, &total));
    int64_t zero[3] = {0, 1 << 30, 1 << 30};
    assert_true(tl_contiguous_strides(TL_DTYPE_F32, 3, zero, nb, &total));
    assert_int_equal(total, 0);
    int64_t q[2] = {96, 5};
    assert_true(tl_contiguous_strides(TL_DTYPE_Q4_0, 2, q, nb, &total));
    assert_int_equal(nb[1], 3 * 18);
    assert_int_equal(total, 5 * 3 * 18);
    q[0] = 100;
    assert_false(tl_contiguous_strides(TL_DTYPE_Q4_0, 2, q, nb, &total));
}

/* Small tensors keep header and data in one block, large ones in two: both
** kinds are zeroed, writable to the last byte, and outlived by their views. */
static void test_storage_sizes(void **state) {
    (void)state;
    const int64_t sizes[] = {0, 1, 16383, 16384, 16385, 1 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        tl_tensor *t, *v;
        assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 1, &n, &t), TL_OK);
        float *d = tl_tensor_data(t);
        for (int64_t i = 0; i < n; i++) {
            assert_true(d[i] == 0.0f);
            d[i] = (float)i;
        }
        int64_t half = n / 2;
        size_t nb = 4;
        assert_int_equal(tl_tensor_view(t, 1, &half, &nb, (size_t)(n - half) * 4, &v), TL_OK);
        tl_tensor_unref(t);
        const float *vd = tl_tensor_data(v);
        for (int64_t i = 0; i < half; i++)
            assert_true(vd[i] == (float)(n - half + i));
        tl_tensor_unref(v);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_contiguous_and_zeroed),
        cmocka_unit_test(test_block_type_strides),
        cmocka_unit_test(test_view_shares_storage),
        cmocka_unit_test(test_huge_shape_fails_cleanly),
        cmocka_unit_test(test_stride_overflow_edges),
        cmocka_unit_test(test_storage_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
