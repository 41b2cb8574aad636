/* tests/unit/test_ops_shape.c -- views (reshape, transpose, permute, slice,
** select, squeeze, unsqueeze), copies (contiguous, broadcast_to, concat,
** split/chunk, gather/scatter) and casts; against index arithmetic. */
#include "test_ops_util.h"

#include "runtime/status.h"

static tl_tensor *iota(tl_dtype dt, int n, const int64_t *shape) {
    int64_t cnt = 1;
    for (int i = 0; i < n; i++)
        cnt *= shape[i];
    double *v = malloc((size_t)(cnt ? cnt : 1) * sizeof *v);
    for (int64_t i = 0; i < cnt; i++)
        v[i] = (double)i;
    tl_tensor *t = mk(dt, n, shape, v);
    free(v);
    return t;
}

static void test_reshape(void **state) {
    (void)state;
    tl_tensor *t = iota(TL_DTYPE_F32, 2, (int64_t[]){2, 6}), *r, *tt, *r2;
    OK(tl_op_reshape(t, 3, (int64_t[]){3, 2, 2}, &r));
    assert_ptr_equal(r->storage, t->storage); /* a view */
    assert_string_equal(shp(r), "[3, 2, 2]");
    for (int i = 0; i < 12; i++)
        assert_true(at(r, i) == i);
    tl_tensor_unref(r);
    OK(tl_op_reshape(t, 2, (int64_t[]){-1, 4}, &r));
    assert_string_equal(shp(r), "[3, 4]");
    tl_tensor_unref(r);
    assert_int_equal(tl_op_reshape(t, 2, (int64_t[]){5, 2}, &r), TL_ERR_SHAPE);
    assert_string_equal(tl_last_error(), "reshape: cannot reshape [2, 6] (12 elements) to [5, 2]");
    /* a non-contiguous input is copied in logical order */
    OK(tl_op_transpose(t, 0, 1, &tt)); /* [6, 2] */
    OK(tl_op_reshape(tt, 1, (int64_t[]){12}, &r2));
    assert_ptr_not_equal(r2->storage, t->storage);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 2; j++)
            assert_true(at(r2, i * 2 + j) == j * 6 + i);
    tl_tensor_unref(r2);
    OK(tl_op_flatten(tt, &r2));
    assert_string_equal(shp(r2), "[12]");
    tl_tensor_unref(r2);
    tl_tensor_unref(tt);
    tl_tensor_unref(t);
}

static void test_permute_transpose_contiguous(void **state) {
    (void)state;
    tl_tensor *t = iota(TL_DTYPE_I32, 3, (int64_t[]){2, 3, 4}), *p, *c;
    OK(tl_op_permute(t, 3, (int[]){2, 0, 1}, &p));
    assert_string_equal(shp(p), "[4, 2, 3]");
    OK(tl_op_contiguous(p, &c));
    assert_true(tl_tensor_is_contiguous(c));
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int d = 0; d < 3; d++)
                assert_true(at(c, (a * 2 + b) * 3 + d) == (b * 3 + d) * 4 + a);
    tl_tensor_unref(c);
    tl_tensor_unref(p);
    assert_int_equal(tl_op_permute(t, 3, (int[]){0, 0, 1}, &p), TL_ERR_ARG);
    assert_int_equal(tl_op_permute(t, 2, (int[]){0, 1}, &p), TL_ERR_ARG);
    OK(tl_op_transpose(t, -1, -3, &p));
    assert_string_equal(shp(p), "[4, 3, 2]");
    assert_true(at(p, 1) == 12); /* p[0,0,1] = t[1,0,0] */
    tl_tensor_unref(p);
    tl_tensor_unref(t);
}

static void test_slice_select_squeeze(void **state) {
    (void)state;
    tl_tensor *t = iota(TL_DTYPE_F32, 2, (int64_t[]){4, 5}), *s, *s2, *q, *u;
    OK(tl_op_slice(t, 1, 1, 5, 2, &s)); /* t[:, 1:5:2] */
    assert_string_equal(shp(s), "[4, 2]");
    for (int i = 0; i < 4; i++) {
        assert_true(at(s, i * 2) == i * 5 + 1);
        assert_true(at(s, i * 2 + 1) == i * 5 + 3);
    }
    OK(tl_op_slice(s, 0, -2, 100, 1, &s2)); /* last two rows, clamped */
    assert_string_equal(shp(s2), "[2, 2]");
    assert_true(at(s2, 0) == 11);
    tl_tensor_unref(s2);
    OK(tl_op_slice(t, 0, 3, 1, 1, &s2)); /* empty */
    assert_string_equal(shp(s2), "[0, 5]");
    tl_tensor_unref(s2);
    OK(tl_op_select(t, 0, -1, &s2)); /* last row: slice_last */
    assert_string_equal(shp(s2), "[5]");
    assert_true(at(s2, 0) == 15);
    tl_tensor_unref(s2);
    assert_int_equal(tl_op_select(t, 0, 4, &s2), TL_ERR_RANGE);
    assert_string_equal(tl_last_error(), "index 4 is out of range for axis 0 of [4, 5]");
    assert_int_equal(tl_op_select(t, 2, 0, &s2), TL_ERR_ARG);
    OK(tl_op_unsqueeze(s, 1, &u));
    assert_string_equal(shp(u), "[4, 1, 2]");
    OK(tl_op_squeeze(u, 1, false, &q));
    assert_string_equal(shp(q), "[4, 2]");
    for (int i = 0; i < 8; i++)
        assert_true(at(q, i) == at(s, i));
    tl_tensor_unref(q);
    assert_int_equal(tl_op_squeeze(u, 0, false, &q), TL_ERR_SHAPE);
    tl_tensor_unref(u);
    OK(tl_op_unsqueeze(t, 0, &u));
    OK(tl_op_unsqueeze(u, 3, &q));
    assert_string_equal(shp(q), "[1, 4, 5, 1]");
    tl_tensor_unref(u);
    OK(tl_op_squeeze(q, 0, true, &u));
    assert_string_equal(shp(u), "[4, 5]");
    tl_tensor_unref(u);
    tl_tensor_unref(q);
    tl_tensor_unref(s);
    tl_tensor_unref(t);
}

static void test_broadcast_to_concat_split(void **state) {
    (void)state;
    /* the acceptance scripts' GQA expansion: [S,4,1,64] -> [S,4,8,64] */
    tl_tensor *k = iota(TL_DTYPE_F32, 4, (int64_t[]){2, 4, 1, 3}), *b, *c, **parts;
    OK(tl_op_broadcast_to(k, 4, (int64_t[]){2, 4, 8, 3}, &b));
    assert_string_equal(shp(b), "[2, 4, 8, 3]");
    for (int s = 0; s < 2; s++)
        for (int h = 0; h < 4; h++)
            for (int r = 0; r < 8; r++)
                for (int d = 0; d < 3; d++)
                    assert_true(at(b, ((s * 4 + h) * 8 + r) * 3 + d) == (s * 4 + h) * 3 + d);
    tl_tensor_unref(b);
    assert_int_equal(tl_op_broadcast_to(k, 4, (int64_t[]){2, 5, 8, 3}, &b), TL_ERR_SHAPE);
    tl_tensor *x = iota(TL_DTYPE_F32, 2, (int64_t[]){2, 3}),
              *y = iota(TL_DTYPE_F32, 2, (int64_t[]){2, 2});
    const tl_tensor *xy[2] = {x, y};
    OK(tl_op_concat(2, xy, 1, &c));
    assert_string_equal(shp(c), "[2, 5]");
    double want[10] = {0, 1, 2, 0, 1, 3, 4, 5, 2, 3};
    for (int i = 0; i < 10; i++)
        assert_true(at(c, i) == want[i]);
    assert_int_equal(tl_op_concat(2, xy, 0, &b), TL_ERR_SHAPE);
    int n;
    OK(tl_op_split(c, 2, 1, &parts, &n));
    assert_int_equal(n, 3);
    assert_string_equal(shp(parts[2]), "[2, 1]");
    assert_true(at(parts[1], 2) == 5);
    for (int i = 0; i < n; i++)
        tl_tensor_unref(parts[i]);
    free(parts);
    OK(tl_op_chunk(c, 2, -1, &parts, &n));
    assert_int_equal(n, 2);
    assert_string_equal(shp(parts[0]), "[2, 3]");
    assert_string_equal(shp(parts[1]), "[2, 2]");
    for (int i = 0; i < n; i++)
        tl_tensor_unref(parts[i]);
    free(parts);
    tl_tensor_unref(c);
    tl_tensor_unref(x);
    tl_tensor_unref(y);
    tl_tensor_unref(k);
}

static void test_gather_scatter(void **state) {
    (void)state;
    tl_tensor *t = iota(TL_DTYPE_F32, 2, (int64_t[]){3, 4}), *o, *s;
    tl_tensor *idx = mk(TL_DTYPE_I64, 2, (int64_t[]){3, 2}, (double[]){3, 0, 1, 1, -1, 2});
    OK(tl_op_gather(t, 1, idx, &o));
    assert_string_equal(shp(o), "[3, 2]");
    double want[6] = {3, 0, 5, 5, 11, 10};
    for (int i = 0; i < 6; i++)
        assert_true(at(o, i) == want[i]);
    tl_tensor *src = mk(TL_DTYPE_F32, 2, (int64_t[]){3, 2}, (double[]){-1, -2, -3, -4, -5, -6});
    OK(tl_op_scatter(t, 1, idx, src, &s));
    assert_true(at(s, 3) == -1 && at(s, 0) == -2 && at(s, 5) == -4 && at(s, 11) == -5 &&
                at(s, 10) == -6 && at(s, 1) == 1);
    tl_tensor_unref(s);
    tl_tensor_unref(o);
    tl_tensor *bad = mk(TL_DTYPE_I64, 2, (int64_t[]){1, 1}, (double[]){4});
    assert_int_equal(tl_op_gather(t, 1, bad, &o), TL_ERR_RANGE);
    tl_tensor_unref(bad);
    tl_tensor_unref(src);
    tl_tensor_unref(idx);
    tl_tensor_unref(t);
}

static void test_cast(void **state) {
    (void)state;
    tl_tensor *t =
                  mk(TL_DTYPE_F32, 1, (int64_t[]){4}, (double[]){1.0009765625, 65504, 70000, -2.7}),
              *h, *i;
    OK(tl_op_cast(t, TL_DTYPE_F16, &h));
    for (int k = 0; k < 4; k++)
        assert_true((float)at(h, k) == round_to(TL_DTYPE_F16, (float)at(t, k)));
    assert_true(isinf(at(h, 2)));
    OK(tl_op_cast(t, TL_DTYPE_I32, &i));
    assert_true(at(i, 3) == -2);
    tl_tensor_unref(i);
    OK(tl_op_cast(h, TL_DTYPE_BF16, &i));
    assert_int_equal(i->dtype, TL_DTYPE_BF16);
    tl_tensor_unref(i);
    assert_int_equal(tl_op_cast(t, TL_DTYPE_Q4_0, &i), TL_ERR_UNSUPPORTED);
    tl_tensor_unref(h);
    tl_tensor_unref(t);
    /* big ints round-trip through i64 exactly */
    tl_tensor *a = mk(TL_DTYPE_I64, 1, (int64_t[]){1}, (double[]){9007199254740993.0});
    *(int64_t *)tl_tensor_data(a) = 9007199254740993LL;
    OK(tl_op_cast(a, TL_DTYPE_I32, &i));
    tl_tensor *back;
    OK(tl_op_cast(i, TL_DTYPE_I64, &back));
    assert_int_equal(*(int32_t *)tl_tensor_data(i), (int32_t)9007199254740993LL);
    tl_tensor_unref(back);
    tl_tensor_unref(i);
    tl_tensor_unref(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_permute_transpose_contiguous),
        cmocka_unit_test(test_slice_select_squeeze),
        cmocka_unit_test(test_broadcast_to_concat_split),
        cmocka_unit_test(test_gather_scatter),
        cmocka_unit_test(test_cast),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
