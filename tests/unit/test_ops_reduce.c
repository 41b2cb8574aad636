/* tests/unit/test_ops_reduce.c -- reductions along every axis, whole-tensor
** forms, softmax/log_softmax numerics, topk; against reference loops. */
#include "test_ops_util.h"

#include "runtime/ops/ggml_math.h"
#include "runtime/status.h"

/* reference reduce of a [A, B, C] f32 tensor (values v) along axis ax */
static void ref_reduce(tl_reduce_op op, const double *v, const int64_t *sh, int ax, double *out) {
    int64_t A = sh[0], B = sh[1], C = sh[2];
    int64_t n = sh[ax];
    int64_t o = 0;
    for (int64_t a = 0; a < (ax == 0 ? 1 : A); a++)
        for (int64_t b = 0; b < (ax == 1 ? 1 : B); b++)
            for (int64_t c = 0; c < (ax == 2 ? 1 : C); c++) {
                double sum = 0;
                float best = 0;
                int64_t arg = 0;
                for (int64_t i = 0; i < n; i++) {
                    int64_t ia = ax == 0 ? i : a, ib = ax == 1 ? i : b, ic = ax == 2 ? i : c;
                    float x = (float)v[(ia * B + ib) * C + ic];
                    sum += x;
                    bool better = (op == TL_RED_MAX || op == TL_RED_ARGMAX) ? x > best : x < best;
                    if (i == 0 || better) {
                        best = x;
                        arg = i;
                    }
                }
                double r = op == TL_RED_SUM                               ? (float)sum
                           : op == TL_RED_MEAN                            ? (float)(sum / (double)n)
                           : (op == TL_RED_ARGMAX || op == TL_RED_ARGMIN) ? (double)arg
                                                                          : best;
                out[o++] = r;
            }
}

static void test_reduce_each_axis(void **state) {
    (void)state;
    int64_t sh[3] = {3, 4, 5};
    double v[60], want[60];
    fill_vals(v, 60, 5, 3.0);
    v[7] = v[8]; /* a tie */
    tl_tensor *x = mk(TL_DTYPE_F32, 3, sh, v);
    for (int op = 0; op < TL_RED_COUNT; op++)
        for (int ax = 0; ax < 3; ax++)
            for (int keep = 0; keep < 2; keep++) {
                tl_tensor *o;
                OK(tl_op_reduce((tl_reduce_op)op, x, ax - (keep ? 3 : 0), false, keep, &o));
                assert_int_equal(o->n_dims, keep ? 3 : 2);
                int64_t osh[3];
                tl_tensor_shape(o, osh);
                if (keep) assert_int_equal(osh[ax], 1);
                ref_reduce((tl_reduce_op)op, v, sh, ax, want);
                int64_t n = tl_tensor_nelements(o);
                assert_int_equal(n, 60 / sh[ax]);
                for (int64_t i = 0; i < n; i++)
                    assert_true(at(o, i) == want[i]);
                if (op >= TL_RED_ARGMAX) assert_int_equal(o->dtype, TL_DTYPE_I64);
                tl_tensor_unref(o);
            }
    tl_tensor_unref(x);
}

static void test_reduce_whole_and_ties(void **state) {
    (void)state;
    tl_tensor *x = mk(TL_DTYPE_F32, 2, (int64_t[]){2, 3}, (double[]){1, 5, 2, 5, 0, -1}), *o;
    OK(tl_op_reduce(TL_RED_ARGMAX, x, 0, true, false, &o));
    assert_int_equal(o->n_dims, 0);
    assert_true(at(o, 0) == 1); /* first maximal index */
    tl_tensor_unref(o);
    OK(tl_op_reduce(TL_RED_SUM, x, 0, true, true, &o));
    assert_string_equal(shp(o), "[1, 1]");
    assert_true(at(o, 0) == 12);
    tl_tensor_unref(o);
    OK(tl_op_reduce(TL_RED_MIN, x, 0, true, false, &o));
    assert_true(at(o, 0) == -1);
    tl_tensor_unref(o);
    assert_int_equal(tl_op_reduce(TL_RED_SUM, x, 2, false, false, &o), TL_ERR_ARG);
    assert_non_null(strstr(tl_last_error(), "axis 2 is out of range"));
    tl_tensor_unref(x);
    /* ints: exact i64 sums */
    tl_tensor *i = mk(TL_DTYPE_I32, 1, (int64_t[]){3}, (double[]){2000000000, 2000000000, 1});
    OK(tl_op_reduce(TL_RED_SUM, i, 0, true, false, &o));
    assert_int_equal(o->dtype, TL_DTYPE_I64);
    assert_int_equal(*(int64_t *)tl_tensor_data(o), 4000000001LL);
    tl_tensor_unref(o);
    tl_tensor_unref(i);
    /* empty: sum is 0, max is an error */
    tl_tensor *e;
    OK(tl_tensor_new_shape(TL_DTYPE_F32, 2, (int64_t[]){0, 3}, &e));
    OK(tl_op_reduce(TL_RED_SUM, e, 0, false, false, &o));
    assert_string_equal(shp(o), "[3]");
    assert_true(at(o, 0) == 0);
    tl_tensor_unref(o);
    assert_int_equal(tl_op_reduce(TL_RED_MAX, e, 0, false, false, &o), TL_ERR_SHAPE);
    tl_tensor_unref(e);
}

/* ggml's softmax: max, its vector expf of x - max (ops_ggml_expf, checked in
** test_ggml_math), each group of 8 from the row's start summed in float as
** ((e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7)), the group sums in a double,
** every e times (float)(1 / sum) */
static void ref_softmax(const float *x, float *y, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int g = 0; g < n; g += 8) {
        float e[8] = {0};
        for (int l = 0; l < 8 && g + l < n; l++)
            e[l] = y[g + l] = ops_ggml_expf(x[g + l] - mx);
        sum += (double)(((e[0] + e[4]) + (e[2] + e[6])) + ((e[1] + e[5]) + (e[3] + e[7])));
    }
    float s = (float)(1.0 / sum);
    for (int i = 0; i < n; i++)
        y[i] *= s;
}

static void test_softmax(void **state) {
    (void)state;
    double v[24];
    fill_vals(v, 24, 9, 4.0);
    v[5] = -INFINITY;
    tl_tensor *x = mk(TL_DTYPE_F32, 3, (int64_t[]){2, 3, 4}, v), *o;
    OK(tl_op_softmax(x, -1, &o));
    for (int r = 0; r < 6; r++) {
        float in[4], want[4];
        for (int i = 0; i < 4; i++)
            in[i] = (float)v[r * 4 + i];
        ref_softmax(in, want, 4);
        for (int i = 0; i < 4; i++)
            assert_true((float)at(o, r * 4 + i) == want[i]);
    }
    assert_true(at(o, 5) == 0.0); /* masked entry */
    tl_tensor_unref(o);
    /* axis 1 (not last) */
    OK(tl_op_softmax(x, 1, &o));
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            float in[3], want[3];
            for (int i = 0; i < 3; i++)
                in[i] = (float)v[(a * 3 + i) * 4 + c];
            ref_softmax(in, want, 3);
            for (int i = 0; i < 3; i++)
                assert_true((float)at(o, (a * 3 + i) * 4 + c) == want[i]);
        }
    tl_tensor_unref(o);
    /* log_softmax agrees with log(softmax) closely */
    tl_tensor *l;
    OK(tl_op_log_softmax(x, -1, &l));
    OK(tl_op_softmax(x, -1, &o));
    for (int i = 0; i < 24; i++)
        if (i != 5) assert_true(fabs(at(l, i) - log(at(o, i))) < 1e-5);
    assert_true(isinf(at(l, 5)));
    tl_tensor_unref(l);
    tl_tensor_unref(o);
    tl_tensor_unref(x);
    /* a fully masked row is uniform */
    tl_tensor *m =
        mk(TL_DTYPE_F32, 1, (int64_t[]){4}, (double[]){-INFINITY, -INFINITY, -INFINITY, -INFINITY});
    OK(tl_op_softmax(m, -1, &o));
    for (int i = 0; i < 4; i++)
        assert_true(at(o, i) == 0.25);
    tl_tensor_unref(o);
    tl_tensor_unref(m);
    /* f16 in, f16 out */
    tl_tensor *h = mk(TL_DTYPE_F16, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    OK(tl_op_softmax(h, 0, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F16);
    float in[3] = {1, 2, 3}, want[3];
    ref_softmax(in, want, 3);
    for (int i = 0; i < 3; i++)
        assert_true((float)at(o, i) == round_to(TL_DTYPE_F16, want[i]));
    tl_tensor_unref(o);
    tl_tensor_unref(h);
    /* long rows (several groups of 8 and a partial one; the rows path with its
    ** vector passes), along the last axis and, strided, along the first */
    enum { R = 3, N = 45 };
    double lv[R * N];
    fill_vals(lv, R * N, 17, 6.0);
    tl_tensor *lx = mk(TL_DTYPE_F32, 2, (int64_t[]){R, N}, lv), *lt;
    OK(tl_op_transpose(lx, 0, 1, &lt)); /* [N, R]: softmax over the N of axis 0 */
    for (int strided = 0; strided < 2; strided++) {
        OK(tl_op_softmax(strided ? lt : lx, strided ? 0 : -1, &o));
        for (int r = 0; r < R; r++) {
            float lin[N], lwant[N];
            for (int i = 0; i < N; i++)
                lin[i] = (float)lv[r * N + i];
            ref_softmax(lin, lwant, N);
            for (int i = 0; i < N; i++)
                assert_true((float)at(o, strided ? i * R + r : r * N + i) == lwant[i]);
        }
        tl_tensor_unref(o);
    }
    tl_tensor_unref(lt);
    tl_tensor_unref(lx);
}

/* max/min/argmax/argmin over a strided view (read through a copy) and a plain
** row (read in place) agree; NaN is skipped wherever it sits; ties keep the
** first index; an all-NaN row is an error. */
static void test_reduce_views_and_nan(void **state) {
    (void)state;
    tl_tensor *x = mk(TL_DTYPE_F32, 2, (int64_t[]){3, 4},
                      (double[]){NAN, 2, 7, 7, -1, NAN, -5, 3, 0.0, -0.0, NAN, 4});
    tl_tensor *xt, *o;
    OK(tl_op_transpose(x, 0, 1, &xt)); /* [4, 3], not contiguous */
    static const struct {
        tl_reduce_op op;
        double row[3], col[4];
    } want[] = {
        {TL_RED_ARGMAX, {2, 3, 3}, {2, 0, 0, 0}},
        {TL_RED_ARGMIN, {1, 2, 0}, {1, 2, 1, 1}},
        {TL_RED_MAX, {7, 3, 4}, {0, 2, 7, 7}},
        {TL_RED_MIN, {2, -5, 0}, {-1, -0.0, -5, 3}},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        OK(tl_op_reduce(want[k].op, x, -1, false, false, &o));
        for (int i = 0; i < 3; i++)
            assert_true(at(o, i) == want[k].row[i]);
        tl_tensor_unref(o);
        OK(tl_op_reduce(want[k].op, xt, -1, false, false, &o)); /* the columns of x */
        for (int i = 0; i < 4; i++)
            assert_true(at(o, i) == want[k].col[i]);
        tl_tensor_unref(o);
    }
    OK(tl_op_reduce(TL_RED_SUM, xt, -1, false, false, &o)); /* sums keep NaN */
    assert_true(isnan(at(o, 0)) && isnan(at(o, 1)) && isnan(at(o, 2)) && at(o, 3) == 14.0);
    tl_tensor_unref(o);
    tl_tensor *all = mk(TL_DTYPE_F32, 1, (int64_t[]){2}, (double[]){NAN, NAN});
    assert_int_equal(tl_op_reduce(TL_RED_ARGMAX, all, -1, false, false, &o), TL_ERR_ARG);
    assert_null(o);
    tl_tensor_unref(all);
    tl_tensor_unref(xt);
    tl_tensor_unref(x);
}

static void test_topk(void **state) {
    (void)state;
    tl_tensor *x = mk(TL_DTYPE_F32, 2, (int64_t[]){2, 5}, (double[]){3, 1, 4, 1, 5, 9, 2, 6, 5, 6}),
              *v, *i;
    OK(tl_op_topk(x, 3, &v, &i));
    assert_string_equal(shp(v), "[2, 3]");
    double wv[6] = {5, 4, 3, 9, 6, 6}, wi[6] = {4, 2, 0, 0, 2, 4};
    for (int k = 0; k < 6; k++) {
        assert_true(at(v, k) == wv[k]);
        assert_true(at(i, k) == wi[k]);
    }
    tl_tensor_unref(v);
    tl_tensor_unref(i);
    assert_int_equal(tl_op_topk(x, 6, &v, &i), TL_ERR_ARG);
    tl_tensor_unref(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_each_axis),
        cmocka_unit_test(test_reduce_whole_and_ties),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_reduce_views_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
