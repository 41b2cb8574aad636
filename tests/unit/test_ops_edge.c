/* tests/unit/test_ops_edge.c -- size-0 and size-1 dims through every op family,
** expand (broadcast views), views of views, and f16 inputs to the nn ops. */
#include "test_ops_util.h"

#include "runtime/status.h"

static tl_tensor *empty(int n, const int64_t *shape) {
    tl_tensor *t;
    OK(tl_tensor_new_shape(TL_DTYPE_F32, n, shape, &t));
    return t;
}

static void test_size_zero(void **state) {
    (void)state;
    tl_tensor *e = empty(2, (int64_t[]){0, 4}), *o, *o2;
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, 4}, 1);
    tl_tensor *n4 = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){4}, 2);
    OK(tl_op_unary(TL_UN_EXP, e, &o));
    assert_string_equal(shp(o), "[0, 4]");
    tl_tensor_unref(o);
    OK(tl_op_softmax(e, -1, &o));
    assert_string_equal(shp(o), "[0, 4]");
    tl_tensor_unref(o);
    OK(tl_op_softmax(e, 0, &o));
    tl_tensor_unref(o);
    OK(tl_op_rms_norm(e, n4, 1e-5f, &o));
    assert_string_equal(shp(o), "[0, 4]");
    tl_tensor_unref(o);
    OK(tl_op_linear(e, w, NULL, &o));
    assert_string_equal(shp(o), "[0, 3]");
    tl_tensor_unref(o);
    OK(tl_op_reduce(TL_RED_SUM, e, 1, false, false, &o));
    assert_string_equal(shp(o), "[0]");
    tl_tensor_unref(o);
    OK(tl_op_reduce(TL_RED_MEAN, e, 0, false, false, &o)); /* mean over nothing: NaN */
    assert_true(isnan(at(o, 0)));
    tl_tensor_unref(o);
    OK(tl_op_transpose(e, 0, 1, &o));
    OK(tl_op_contiguous(o, &o2));
    assert_string_equal(shp(o2), "[4, 0]");
    tl_tensor_unref(o);
    tl_tensor_unref(o2);
    const tl_tensor *two[2] = {e, w};
    OK(tl_op_concat(2, two, 0, &o));
    assert_string_equal(shp(o), "[3, 4]");
    assert_same_bytes(o, w);
    tl_tensor_unref(o);
    tl_tensor *q0 = empty(3, (int64_t[]){0, 2, 4}),
              *kv = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){3, 1, 4}, 3);
    OK(tl_op_attention(q0, kv, kv, true, 0.0f, -1, &o));
    assert_string_equal(shp(o), "[0, 2, 4]");
    tl_tensor_unref(o);
    OK(tl_op_rope(q0, 0, 10000.0f, TL_ROPE_NORM, &o));
    tl_tensor_unref(o);
    const tl_tensor *ee[2] = {e, e};
    OK(tl_op_einsum("ij,kj->ik", 2, ee, &o));
    assert_string_equal(shp(o), "[0, 0]");
    tl_tensor_unref(o);
    tl_tensor *ids = empty(1, (int64_t[]){0});
    OK(tl_op_embedding(w, ids, &o));
    assert_string_equal(shp(o), "[0, 4]");
    tl_tensor_unref(o);
    tl_tensor **parts;
    int np;
    OK(tl_op_split(ids, 2, 0, &parts, &np));
    assert_int_equal(np, 0);
    free(parts);
    OK(tl_op_causal_mask(0, &o));
    assert_string_equal(shp(o), "[0, 0]");
    tl_tensor_unref(o);
    tl_tensor_unref(ids);
    tl_tensor_unref(q0);
    tl_tensor_unref(kv);
    tl_tensor_unref(e);
    tl_tensor_unref(w);
    tl_tensor_unref(n4);
}

static void test_size_one_and_expand(void **state) {
    (void)state;
    tl_tensor *x = mk(TL_DTYPE_F32, 3, (int64_t[]){1, 1, 1}, (double[]){2.0}), *o, *v;
    OK(tl_op_softmax(x, -1, &o));
    assert_true(at(o, 0) == 1.0);
    tl_tensor_unref(o);
    OK(tl_op_reduce(TL_RED_ARGMAX, x, 1, false, true, &o));
    assert_string_equal(shp(o), "[1, 1, 1]");
    assert_true(at(o, 0) == 0);
    tl_tensor_unref(o);
    /* expand is a view with stride 0; reading it through an op equals broadcast_to */
    tl_tensor *r = mk(TL_DTYPE_F32, 2, (int64_t[]){1, 3}, (double[]){1, 2, 3}), *b;
    OK(tl_op_expand(r, 3, (int64_t[]){2, 4, 3}, &v));
    assert_ptr_equal(v->storage, r->storage);
    assert_int_equal(v->nb[1], 0);
    OK(tl_op_broadcast_to(r, 3, (int64_t[]){2, 4, 3}, &b));
    OK(tl_op_contiguous(v, &o));
    assert_same_bytes(o, b);
    tl_tensor_unref(o);
    OK(tl_op_unary(TL_UN_NEG, v, &o)); /* unary over a stride-0 view */
    for (int i = 0; i < 24; i++)
        assert_true(at(o, i) == -at(b, i));
    tl_tensor_unref(o);
    /* a slice of a transpose of a slice */
    tl_tensor *m = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){6, 5}, 4), *s1, *t1, *s2;
    OK(tl_op_slice(m, 0, 1, 6, 2, &s1));  /* rows 1,3,5 */
    OK(tl_op_transpose(s1, 0, 1, &t1));   /* [5, 3] */
    OK(tl_op_slice(t1, 0, 2, 4, 1, &s2)); /* cols 2,3 of those rows -> [2, 3] */
    OK(tl_op_contiguous(s2, &o));
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            assert_true(at(o, i * 3 + j) == at(m, (1 + 2 * j) * 5 + 2 + i));
    tl_tensor_unref(o);
    OK(tl_op_binary(TL_BIN_ADD, s2, s2, &o)); /* binary over the strided view */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            assert_true((float)at(o, i * 3 + j) == 2.0f * (float)at(m, (1 + 2 * j) * 5 + 2 + i));
    tl_tensor_unref(o);
    tl_tensor_unref(s1);
    tl_tensor_unref(t1);
    tl_tensor_unref(s2);
    tl_tensor_unref(m);
    tl_tensor_unref(v);
    tl_tensor_unref(b);
    tl_tensor_unref(r);
    tl_tensor_unref(x);
}

static void test_f16_nn_inputs(void **state) {
    (void)state;
    /* f16 in, f16 out, each value the f32 computation rounded once */
    tl_tensor *xh = mk_rand(TL_DTYPE_F16, 3, (int64_t[]){2, 2, 8}, 5), *xf, *oh, *of;
    OK(tl_op_cast(xh, TL_DTYPE_F32, &xf));
    OK(tl_op_rope(xh, 1, 10000.0f, TL_ROPE_NORM, &oh));
    OK(tl_op_rope(xf, 1, 10000.0f, TL_ROPE_NORM, &of));
    assert_int_equal(oh->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 32; i++)
        assert_true((float)at(oh, i) == round_to(TL_DTYPE_F16, (float)at(of, i)));
    tl_tensor_unref(oh);
    tl_tensor_unref(of);
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){8}, 6);
    OK(tl_op_rms_norm(xh, w, 1e-6f, &oh));
    OK(tl_op_rms_norm(xf, w, 1e-6f, &of));
    assert_int_equal(oh->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 32; i++)
        assert_true((float)at(oh, i) == round_to(TL_DTYPE_F16, (float)at(of, i)));
    tl_tensor_unref(oh);
    tl_tensor_unref(of);
    tl_tensor_unref(w);
    tl_tensor_unref(xh);
    tl_tensor_unref(xf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_size_one_and_expand),
        cmocka_unit_test(test_f16_nn_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
