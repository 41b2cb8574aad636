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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_contiguous_and_zeroed),
        cmocka_unit_test(test_block_type_strides),
        cmocka_unit_test(test_view_shares_storage),
        cmocka_unit_test(test_huge_shape_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
