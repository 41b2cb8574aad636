/* tests/unit/test_kvcache.c -- appends, growth, views that stay valid, reserved
** rows that count only when committed, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/kvcache.h"

static tl_tensor *rows(int64_t s, int64_t h, int64_t d, float base) {
    int64_t shape[3] = {s, h, d};
    tl_tensor *t;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_F32, 3, shape, &t), TL_OK);
    float *p = tl_tensor_data(t);
    for (int64_t i = 0; i < s * h * d; i++)
        p[i] = base + (float)i;
    return t;
}

static void test_append_and_view(void **state) {
    (void)state;
    tl_kvcache *c;
    assert_int_equal(tl_kvcache_new(2, 2, &c), TL_OK); /* tiny capacity: forces growth */
    tl_tensor *k1 = rows(3, 2, 4, 0), *v1 = rows(3, 2, 4, 100);
    assert_int_equal(tl_kvcache_append(c, 1, k1, v1), TL_OK);
    tl_tensor *view1;
    assert_int_equal(tl_kvcache_view(c, 1, 0, &view1), TL_OK);
    assert_int_equal(view1->ne[2], 3);
    tl_tensor *k2 = rows(5, 2, 4, 1000), *v2 = rows(5, 2, 4, 2000);
    assert_int_equal(tl_kvcache_append(c, 1, k2, v2), TL_OK); /* grows past capacity */
    assert_int_equal(tl_kvcache_len(c, 1), 8);
    assert_int_equal(tl_kvcache_len(c, 0), 0);
    tl_tensor *vv;
    assert_int_equal(tl_kvcache_view(c, 1, 1, &vv), TL_OK);
    const float *p = tl_tensor_data(vv);
    assert_true(p[0] == 100.0f && p[3 * 8] == 2000.0f && p[8 * 8 - 1] == 2039.0f);
    /* the earlier view still shows the first three rows */
    const float *q = tl_tensor_data(view1);
    assert_true(q[0] == 0.0f && q[23] == 23.0f);
    assert_int_equal(tl_kvcache_truncate(c, 2), TL_OK);
    assert_int_equal(tl_kvcache_len(c, 1), 2);
    tl_tensor_unref(vv);
    tl_tensor_unref(view1);
    tl_tensor_unref(k1);
    tl_tensor_unref(v1);
    tl_tensor_unref(k2);
    tl_tensor_unref(v2);
    tl_kvcache_free(c);
}

static void test_errors(void **state) {
    (void)state;
    tl_kvcache *c;
    assert_int_equal(tl_kvcache_new(0, 0, &c), TL_ERR_ARG);
    assert_int_equal(tl_kvcache_new(1, 0, &c), TL_OK);
    tl_tensor *k = rows(1, 2, 4, 0), *v = rows(1, 1, 4, 0), *k3 = rows(1, 3, 4, 0), *out;
    assert_int_equal(tl_kvcache_append(c, 1, k, k), TL_ERR_RANGE);
    assert_int_equal(tl_kvcache_append(c, 0, k, v), TL_ERR_SHAPE);
    assert_int_equal(tl_kvcache_view(c, 0, 0, &out), TL_ERR_RANGE);
    assert_int_equal(tl_kvcache_append(c, 0, k, k), TL_OK);
    assert_int_equal(tl_kvcache_append(c, 0, k3, k3), TL_ERR_SHAPE);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    tl_tensor_unref(k3);
    tl_kvcache_free(c);
}

/* No rows into an empty layer: a layer of length 0 (it used to crash). */
static void test_append_nothing(void **state) {
    (void)state;
    tl_kvcache *c;
    assert_int_equal(tl_kvcache_new(1, 0, &c), TL_OK);
    tl_tensor *k = rows(0, 2, 4, 0), *view;
    assert_int_equal(tl_kvcache_append(c, 0, k, k), TL_OK);
    assert_int_equal(tl_kvcache_len(c, 0), 0);
    assert_int_equal(tl_kvcache_view(c, 0, 0, &view), TL_OK);
    assert_int_equal(view->ne[2], 0);
    tl_tensor_unref(view);
    tl_tensor_unref(k);
    tl_kvcache_free(c);
}

static void test_reserve_commit(void **state) {
    (void)state;
    tl_kvcache *c;
    assert_int_equal(tl_kvcache_new(1, 2, &c), TL_OK);
    tl_tensor *k1 = rows(2, 2, 4, 0), *view;
    assert_int_equal(tl_kvcache_append(c, 0, k1, k1), TL_OK);
    float *kr, *vr;
    const float *ka, *va;
    /* three more rows: grows past the capacity of 2, the first two rows kept */
    assert_int_equal(tl_kvcache_reserve(c, 0, 3, 2, 4, &kr, &vr, &ka, &va), TL_OK);
    assert_ptr_equal(kr, ka + 2 * 8);
    assert_ptr_equal(vr, va + 2 * 8);
    assert_true(ka[0] == 0.0f && ka[15] == 15.0f && va[15] == 15.0f);
    for (int i = 0; i < 24; i++) {
        kr[i] = 500.0f + (float)i;
        vr[i] = 900.0f + (float)i;
    }
    assert_int_equal(tl_kvcache_len(c, 0), 2); /* not counted until committed */
    assert_int_equal(tl_kvcache_view(c, 0, 1, &view), TL_OK);
    assert_int_equal(view->ne[2], 2);
    tl_tensor_unref(view);
    tl_kvcache_commit(c, 0, 3);
    assert_int_equal(tl_kvcache_len(c, 0), 5);
    assert_int_equal(tl_kvcache_view(c, 0, 1, &view), TL_OK);
    const float *p = tl_tensor_data(view);
    assert_int_equal(view->ne[2], 5);
    assert_true(p[15] == 15.0f && p[16] == 900.0f && p[39] == 923.0f);
    tl_tensor_unref(view);
    /* a reserve that is never committed leaves the layer as it was */
    assert_int_equal(tl_kvcache_reserve(c, 0, 1, 2, 4, &kr, &vr, &ka, &va), TL_OK);
    kr[0] = -1.0f;
    assert_int_equal(tl_kvcache_len(c, 0), 5);
    assert_int_equal(tl_kvcache_reserve(c, 0, 1, 3, 4, &kr, &vr, &ka, &va), TL_ERR_SHAPE);
    assert_int_equal(tl_kvcache_reserve(c, 1, 1, 2, 4, &kr, &vr, &ka, &va), TL_ERR_RANGE);
    assert_int_equal(tl_kvcache_reserve(c, 0, -1, 2, 4, &kr, &vr, &ka, &va), TL_ERR_RANGE);
    assert_int_equal(tl_kvcache_reserve(c, 0, 1, 0, 4, &kr, &vr, &ka, &va), TL_ERR_SHAPE);
    tl_tensor_unref(k1);
    tl_kvcache_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_view),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_append_nothing),
        cmocka_unit_test(test_reserve_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
