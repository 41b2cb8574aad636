/* tests/unit/test_ops_matmul.c -- matmul (batched, broadcasting, 1-d), linear
** with f32/f16/bf16 weights in both precision modes, einsum (general and the
** attention fast paths); against reference loops. */
#include "test_ops_util.h"

#include "runtime/quant.h"
#include "runtime/status.h"
#include "runtime/threadpool.h"

/* C[m][n] = sum_k A[m][k] B[k][n], products in float, double sum */
static float ref_dot(const tl_tensor *a, int64_t abase, int64_t astep, const tl_tensor *b,
                     int64_t bbase, int64_t bstep, int64_t K) {
    double s = 0;
    for (int64_t k = 0; k < K; k++)
        s += (double)((float)at(a, abase + k * astep) * (float)at(b, bbase + k * bstep));
    return (float)s;
}

static void test_matmul_2d_and_batched(void **state) {
    (void)state;
    tl_tensor *a = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 3, 5}, 1);
    tl_tensor *b = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){5, 70}, 2), *o;
    OK(tl_op_matmul(a, b, &o)); /* [2,3,5] @ [5,70] broadcasts b */
    assert_string_equal(shp(o), "[2, 3, 70]");
    for (int bt = 0; bt < 2; bt++)
        for (int m = 0; m < 3; m++)
            for (int n = 0; n < 70; n++)
                assert_true((float)at(o, (bt * 3 + m) * 70 + n) ==
                            ref_dot(a, (bt * 3 + m) * 5, 1, b, n, 70, 5));
    tl_tensor_unref(o);
    tl_tensor_unref(b);
    /* batch broadcast both ways: [2,1,3,5] @ [4,5,2] -> [2,4,3,2] */
    tl_tensor *a4 = mk_rand(TL_DTYPE_F32, 4, (int64_t[]){2, 1, 3, 5}, 3);
    tl_tensor *b3 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){4, 5, 2}, 4);
    OK(tl_op_matmul(a4, b3, &o));
    assert_string_equal(shp(o), "[2, 4, 3, 2]");
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int m = 0; m < 3; m++)
                for (int n = 0; n < 2; n++)
                    assert_true((float)at(o, ((i * 4 + j) * 3 + m) * 2 + n) ==
                                ref_dot(a4, (i * 3 + m) * 5, 1, b3, j * 10 + n, 2, 5));
    tl_tensor_unref(o);
    tl_tensor_unref(a4);
    tl_tensor_unref(b3);
    tl_tensor_unref(a);
}

static void test_matmul_1d_views_errors(void **state) {
    (void)state;
    tl_tensor *m = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 3}, 5),
              *v = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){3}, 6);
    tl_tensor *o, *mt;
    OK(tl_op_matmul(m, v, &o)); /* [4,3] @ [3] -> [4] */
    assert_string_equal(shp(o), "[4]");
    for (int i = 0; i < 4; i++)
        assert_true((float)at(o, i) == ref_dot(m, i * 3, 1, v, 0, 1, 3));
    tl_tensor_unref(o);
    OK(tl_op_transpose(m, 0, 1, &mt)); /* [3,4] strided view */
    OK(tl_op_matmul(v, mt, &o));       /* [3] @ [3,4] -> [4] */
    assert_string_equal(shp(o), "[4]");
    for (int i = 0; i < 4; i++)
        assert_true((float)at(o, i) == ref_dot(v, 0, 1, m, i * 3, 1, 3));
    tl_tensor_unref(o);
    OK(tl_op_matmul(v, v, &o)); /* dot -> 0-d */
    assert_int_equal(o->n_dims, 0);
    tl_tensor_unref(o);
    assert_int_equal(tl_op_matmul(m, m, &o), TL_ERR_SHAPE);
    assert_string_equal(tl_last_error(), "matmul: shapes [4, 3] and [4, 3] do not align (3 != 4)");
    /* size-0 inner dim gives zeros */
    tl_tensor *z0, *z1;
    OK(tl_tensor_new_shape(TL_DTYPE_F32, 2, (int64_t[]){2, 0}, &z0));
    OK(tl_tensor_new_shape(TL_DTYPE_F32, 2, (int64_t[]){0, 3}, &z1));
    OK(tl_op_matmul(z0, z1, &o));
    assert_string_equal(shp(o), "[2, 3]");
    for (int i = 0; i < 6; i++)
        assert_true(at(o, i) == 0);
    tl_tensor_unref(o);
    /* f16 @ f16 -> f16 */
    tl_tensor *h = mk_rand(TL_DTYPE_F16, 2, (int64_t[]){2, 3}, 7),
              *hv = mk_rand(TL_DTYPE_F16, 1, (int64_t[]){3}, 8);
    OK(tl_op_matmul(h, hv, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 2; i++)
        assert_true((float)at(o, i) == round_to(TL_DTYPE_F16, ref_dot(h, i * 3, 1, hv, 0, 1, 3)));
    tl_tensor_unref(o);
    tl_tensor_unref(h);
    tl_tensor_unref(hv);
    tl_tensor_unref(z0);
    tl_tensor_unref(z1);
    tl_tensor_unref(m);
    tl_tensor_unref(mt);
    tl_tensor_unref(v);
}

/* linear reference: activation rounded to the weight's dot type, products of
** the rounded values in float, double sum (the plain types' vec_dot) */
static void check_linear(tl_dtype wdt, bool bias, tl_precision prec) {
    int64_t in = 40, outn = 9;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 3, in}, 21);
    tl_tensor *w = mk_rand(wdt, 2, (int64_t[]){outn, in}, 22);
    tl_tensor *b = bias ? mk_rand(TL_DTYPE_F32, 1, (int64_t[]){outn}, 23) : NULL, *o;
    tl_set_precision(prec);
    OK(tl_op_linear(x, w, b, &o));
    tl_set_precision(TL_PRECISION_LLAMA);
    assert_string_equal(shp(o), "[2, 3, 9]");
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < outn; j++) {
            double s = 0;
            for (int k = 0; k < in; k++) {
                float xv = (float)at(x, r * in + k), wv = (float)at(w, j * in + k);
                if (prec == TL_PRECISION_LLAMA) {
                    xv = round_to(wdt, xv);
                    s += (double)(xv * wv);
                } else {
                    s += (double)xv * (double)wv;
                }
            }
            if (prec == TL_PRECISION_LLAMA) {
                /* the registered kernel defines the summation order (the quant
                ** helper's AVX2 F16 dot follows ggml's lanes): call it on the
                ** rounded activation row, and check it is close to the plain sum */
                const tl_type_traits *tr = tl_dtype_traits(wdt);
                const tl_type_traits *dt = tl_dtype_traits(tr->dot_type);
                float xr[64], kd;
                char act[64 * 4];
                for (int k = 0; k < in; k++)
                    xr[k] = (float)at(x, r * in + k);
                dt->from_f32(xr, act, in);
                /* F32/F16 with 6 rows of 40: llama.cpp's sgemm order (quant.h) */
                tl_vec_dot_fn dot = wdt == TL_DTYPE_F32 || wdt == TL_DTYPE_F16
                                        ? tl_quant_vec_dot_order(wdt, TL_DOT_ORDER_REPACK_GEMM)
                                        : tr->vec_dot;
                dot(in, &kd, (const char *)tl_tensor_data(w) + (size_t)j * w->nb[1], act);
                assert_true(fabs(kd - s) <= 1e-5 * (1 + fabs(s)));
                s = kd;
            }
            float want = (float)s;
            if (b) want += (float)at(b, j);
            assert_true((float)at(o, r * outn + j) == want);
        }
    tl_tensor_unref(x);
    tl_tensor_unref(w);
    tl_tensor_unref(b);
    tl_tensor_unref(o);
}

static void test_linear(void **state) {
    (void)state;
    tl_dtype dts[3] = {TL_DTYPE_F32, TL_DTYPE_F16, TL_DTYPE_BF16};
    for (int i = 0; i < 3; i++) {
        check_linear(dts[i], false, TL_PRECISION_LLAMA);
        check_linear(dts[i], true, TL_PRECISION_LLAMA);
        check_linear(dts[i], true, TL_PRECISION_EXACT);
    }
}

/* F32/F16 weights in llama precision: one activation row takes ggml's one-row dot
** (ROW), two or more rows llamafile's sgemm order when the row length is a multiple
** of 8, else the one-row dot (quant.h); the orders differ on these rows. */
static void test_linear_f32_orders(void **state) {
    (void)state;
    const tl_dtype dts[2] = {TL_DTYPE_F32, TL_DTYPE_F16};
    const int64_t ins[2] = {72, 75}; /* 75: sgemm refuses, every row the one-row dot */
    for (int d = 0; d < 2; d++)
        for (int c = 0; c < 2; c++) {
            int64_t in = ins[c];
            tl_tensor *w = mk_rand(dts[d], 2, (int64_t[]){5, in}, 31);
            tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, in}, 32), *x1, *o3, *o1;
            OK(tl_op_slice(x, 0, 0, 1, 1, &x1));
            OK(tl_op_linear(x, w, NULL, &o3));
            OK(tl_op_linear(x1, w, NULL, &o1));
            const tl_type_traits *dt = tl_dtype_traits(tl_dtype_traits(dts[d])->dot_type);
            char act[80 * 4];
            int differ = 0;
            for (int r = 0; r < 3; r++)
                for (int j = 0; j < 5; j++) {
                    float xr[80], many, one;
                    for (int k = 0; k < in; k++)
                        xr[k] = (float)at(x, r * in + k);
                    dt->from_f32(xr, act, in);
                    const char *wr = (const char *)tl_tensor_data(w) + (size_t)j * w->nb[1];
                    tl_quant_vec_dot_order(dts[d], TL_DOT_ORDER_REPACK_GEMM)(in, &many, wr, act);
                    tl_quant_vec_dot_order(dts[d], TL_DOT_ORDER_ROW)(in, &one, wr, act);
                    assert_true((float)at(o3, r * 5 + j) == (in % 8 == 0 ? many : one));
                    if (r == 0) assert_true((float)at(o1, j) == one);
                    differ += many != one;
                }
            if (in % 8 == 0) assert_true(differ > 0); /* the test tells the orders apart */
            tl_tensor *all[] = {w, x, x1, o3, o1};
            for (int i = 0; i < 5; i++)
                tl_tensor_unref(all[i]);
        }
}

static void test_linear_errors_and_views(void **state) {
    (void)state;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){1, 64}, 1);
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){32, 48}, 2), *o;
    assert_int_equal(tl_op_linear(x, w, NULL, &o), TL_ERR_SHAPE);
    assert_non_null(strstr(tl_last_error(), "linear: shapes [1, 64] and [32, 48] do not fit"));
    tl_tensor_unref(w);
    /* a transposed (non-contiguous) f32 weight is copied, same result */
    tl_tensor *wt0 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){64, 5}, 3), *wt, *wc, *o2;
    OK(tl_op_transpose(wt0, 0, 1, &wt)); /* [5, 64] */
    OK(tl_op_contiguous(wt, &wc));
    OK(tl_op_linear(x, wt, NULL, &o));
    OK(tl_op_linear(x, wc, NULL, &o2));
    assert_same_bytes(o, o2);
    tl_tensor_unref(o);
    tl_tensor_unref(o2);
    /* a quantized weight with no kernels registered is a clear error, not a crash */
    tl_tensor *q;
    OK(tl_tensor_new(TL_DTYPE_Q4_K, 2, (int64_t[]){256, 2}, &q));
    tl_tensor *x256 = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){256}, 4);
    if (!tl_dtype_traits(TL_DTYPE_Q4_K)->vec_dot) {
        assert_int_equal(tl_op_linear(x256, q, NULL, &o), TL_ERR_UNSUPPORTED);
        assert_non_null(strstr(tl_last_error(), "q4_K"));
    }
    tl_tensor_unref(q);
    tl_tensor_unref(x256);
    tl_tensor_unref(wt0);
    tl_tensor_unref(wt);
    tl_tensor_unref(wc);
    tl_tensor_unref(x);
}

/* Quantized weights: each output equals the type's own vec_dot on the activation
** row converted with the dot type's from_f32 (llama.cpp's recipe), for 1, 2 and
** 3 threads and for 1 and several activation rows (gemv and gemm paths). */
static void test_linear_quantized(void **state) {
    (void)state;
    tl_dtype dts[4] = {TL_DTYPE_Q4_0, TL_DTYPE_Q8_0, TL_DTYPE_Q6_K, TL_DTYPE_Q4_K};
    int64_t in = 512, O = 40; /* a multiple of 8: llama.cpp repacks Q4_0/Q4_K */
    for (int di = 0; di < 4; di++) {
        const tl_type_traits *tr = tl_dtype_traits(dts[di]);
        if (!tr->vec_dot) continue; /* quant kernels not registered in this build */
        tl_tensor *wf = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){O, in}, 31), *w;
        OK(tl_tensor_new(dts[di], 2, (int64_t[]){in, O}, &w));
        OK(tl_quantize_rows(dts[di], tl_tensor_data(wf), tl_tensor_data(w), O, in));
        for (int rows = 1; rows <= 5; rows += 4) {
            tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){rows, in}, 32 + rows), *ref = NULL;
            const tl_type_traits *dt = tl_dtype_traits(tr->dot_type);
            size_t arow = tl_dtype_row_size(tr->dot_type, in);
            char *act = malloc(arow);
            for (int th = 1; th <= 3; th++) {
                OK(tl_threadpool_set_threads(th));
                tl_tensor *o;
                OK(tl_op_linear(x, w, NULL, &o));
                assert_int_equal(o->ne[0], O);
                if (!ref) {
                    for (int r = 0; r < rows; r++) {
                        dt->from_f32((const float *)tl_tensor_data(x) + r * in, act, in);
                        /* llama.cpp's order for this weight; a batch's first
                        ** rows - rows % 4 tokens use its GEMM order */
                        tl_dot_order ord = tl_quant_llama_order(dts[di], O);
                        if (ord == TL_DOT_ORDER_REPACK && r < rows - rows % 4)
                            ord = TL_DOT_ORDER_REPACK_GEMM;
                        tl_vec_dot_fn dot = tl_quant_vec_dot_order(dts[di], ord);
                        for (int j = 0; j < O; j++) {
                            float want, row_order;
                            const char *wr = (const char *)tl_tensor_data(w) + (size_t)j * w->nb[1];
                            dot(in, &want, wr, act);
                            tr->vec_dot(in, &row_order, wr, act);
                            assert_true((float)at(o, r * O + j) == want);
                            assert_true(fabsf(want - row_order) <= 1e-4f * (1.0f + fabsf(want)));
                        }
                    }
                    ref = o;
                } else {
                    assert_same_bytes(ref, o);
                    tl_tensor_unref(o);
                }
            }
            /* LLAMA_ROW: every output is the traits' vec_dot */
            tl_set_precision(TL_PRECISION_LLAMA_ROW);
            tl_tensor *rowo;
            OK(tl_op_linear(x, w, NULL, &rowo));
            tl_set_precision(TL_PRECISION_LLAMA);
            for (int r = 0; r < rows; r++) {
                dt->from_f32((const float *)tl_tensor_data(x) + r * in, act, in);
                for (int j = 0; j < O; j++) {
                    float want;
                    tr->vec_dot(in, &want, (const char *)tl_tensor_data(w) + (size_t)j * w->nb[1],
                                act);
                    assert_true((float)at(rowo, r * O + j) == want);
                }
            }
            tl_tensor_unref(rowo);
            /* exact mode: dequantized rows, double dot */
            tl_set_precision(TL_PRECISION_EXACT);
            tl_tensor *e;
            OK(tl_op_linear(x, w, NULL, &e));
            tl_set_precision(TL_PRECISION_LLAMA);
            float *deq = malloc((size_t)in * sizeof(float));
            tr->to_f32((const char *)tl_tensor_data(w) + 3 * w->nb[1], deq, in);
            double s = 0;
            for (int k = 0; k < in; k++)
                s += (double)deq[k] * at(x, k);
            assert_true((float)at(e, 3) == (float)s);
            free(deq);
            free(act);
            tl_tensor_unref(e);
            tl_tensor_unref(ref);
            tl_tensor_unref(x);
        }
        tl_tensor_unref(w);
        tl_tensor_unref(wf);
    }
}

static void test_einsum_general(void **state) {
    (void)state;
    tl_tensor *a = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, 4}, 1);
    tl_tensor *b = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 5}, 2), *o, *r;
    const tl_tensor *ab[2] = {a, b};
    OK(tl_op_einsum("ij,jk->ik", 2, ab, &o));
    OK(tl_op_matmul(a, b, &r));
    assert_same_bytes(o, r); /* same products, same double summation */
    tl_tensor_unref(o);
    OK(tl_op_einsum("ij,jk", 2, ab, &o)); /* implicit output: ik */
    assert_same_bytes(o, r);
    tl_tensor_unref(o);
    tl_tensor_unref(r);
    OK(tl_op_einsum("ij,jk->ki", 2, ab, &o));
    assert_string_equal(shp(o), "[5, 3]");
    tl_tensor_unref(o);
    /* trace and diagonal (repeated index) */
    tl_tensor *sq = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 4}, 3);
    const tl_tensor *one[1] = {sq};
    OK(tl_op_einsum("ii->", 1, one, &o));
    double tr = 0;
    for (int i = 0; i < 4; i++)
        tr += (float)at(sq, i * 5);
    assert_int_equal(o->n_dims, 0);
    assert_true((float)at(o, 0) == (float)tr);
    tl_tensor_unref(o);
    OK(tl_op_einsum("ii->i", 1, one, &o));
    for (int i = 0; i < 4; i++)
        assert_true(at(o, i) == at(sq, i * 5));
    tl_tensor_unref(o);
    OK(tl_op_einsum("ij->ji", 1, one, &o));
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            assert_true(at(o, j * 4 + i) == at(sq, i * 4 + j));
    tl_tensor_unref(o);
    /* three operands: i,ij,j-> */
    tl_tensor *u = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){3}, 4),
              *v = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){4}, 5);
    const tl_tensor *three[3] = {u, a, v};
    OK(tl_op_einsum("i,ij,j->", 3, three, &o));
    double s = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            s += (double)((float)at(u, i) * (float)at(a, i * 4 + j) * (float)at(v, j));
    assert_true((float)at(o, 0) == (float)s);
    tl_tensor_unref(o);
    /* errors */
    assert_int_equal(tl_op_einsum("ij,jk->ik", 1, ab, &o), TL_ERR_ARG);
    assert_int_equal(tl_op_einsum("ij,kl->ik", 2, ab, &o), TL_OK);
    tl_tensor_unref(o);
    assert_int_equal(tl_op_einsum("ij,ik->jk", 2, ab, &o), TL_ERR_SHAPE); /* i is 3 and 4 */
    assert_non_null(strstr(tl_last_error(), "letter 'i'"));
    assert_int_equal(tl_op_einsum("ijk,jk->i", 2, ab, &o), TL_ERR_SHAPE);
    tl_tensor_unref(u);
    tl_tensor_unref(v);
    tl_tensor_unref(sq);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
}

static void test_einsum_fast_paths_match_general(void **state) {
    (void)state;
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){5, 4, 8}, 1);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){6, 4, 8}, 2), *f, *g;
    const tl_tensor *qk[2] = {q, k};
    OK(tl_op_einsum("ihd,jhd->ihj", 2, qk, &f));
    OK(tl_op_einsum("abc,dbc->abd", 2, qk, &g)); /* same contraction, general path */
    assert_string_equal(shp(f), "[5, 4, 6]");
    assert_same_bytes(f, g);
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){6, 4, 8}, 3), *h, *e;
    const tl_tensor *pv[2] = {f, v};
    OK(tl_op_einsum("ihj,jhd->ihd", 2, pv, &h));
    OK(tl_op_einsum("xyz,zyw->xyw", 2, pv, &e));
    assert_string_equal(shp(h), "[5, 4, 8]");
    assert_same_bytes(h, e);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    tl_tensor_unref(f);
    tl_tensor_unref(g);
    tl_tensor_unref(h);
    tl_tensor_unref(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_2d_and_batched),
        cmocka_unit_test(test_matmul_1d_views_errors),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_linear_f32_orders),
        cmocka_unit_test(test_linear_errors_and_views),
        cmocka_unit_test(test_linear_quantized),
        cmocka_unit_test(test_einsum_general),
        cmocka_unit_test(test_einsum_fast_paths_match_general),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
