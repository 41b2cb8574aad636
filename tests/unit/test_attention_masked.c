/* tests/unit/test_attention_masked.c -- tl_op_attention_masked, the kernel behind the
** attention pattern of tensor equations (lang/equation_attention.c).  Its
** probabilities are tl_op_softmax of the scores (float)(q.k in double) * scale +
** mask, bit for bit (the general path's arithmetic); with a causal mask of 0 /
** -1e30 its output agrees with tl_op_attention (the `attention` builtin, which
** sums in llama.cpp's float orders instead) to 1e-6; rows that are all -inf are
** uniform, a NaN makes its rows NaN; any thread count gives the same bytes; operands
** it does not take are errors with no output. */
#include "test_ops_util.h"

#include "runtime/threadpool.h"

static tl_tensor *causal_mask(int64_t S, int64_t T, int64_t pos) {
    tl_tensor *m;
    OK(tl_tensor_new(TL_DTYPE_F32, 2, (int64_t[]){T, S}, &m));
    float *p = tl_tensor_data(m);
    for (int64_t s = 0; s < S; s++)
        for (int64_t t = 0; t < T; t++)
            p[s * T + t] = t <= s + pos ? 0.0f : -1e30f;
    return m;
}

/* tl_op_softmax over t of the scores computed here from their definition */
static tl_tensor *reference_probs(const tl_tensor *q, const tl_tensor *k, const tl_tensor *m,
                                  float scale) {
    int64_t D = q->ne[0], H = q->ne[1], S = q->ne[2], Hkv = k->ne[1], T = k->ne[2];
    tl_tensor *sc, *pr;
    OK(tl_tensor_new(TL_DTYPE_F32, 3, (int64_t[]){T, S, H}, &sc));
    const float *qp = tl_tensor_data((tl_tensor *)q), *kp = tl_tensor_data((tl_tensor *)k);
    const float *mp = tl_tensor_data((tl_tensor *)m);
    float *out = tl_tensor_data(sc);
    for (int64_t h = 0; h < H; h++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t t = 0; t < T; t++) {
                const float *a = qp + (s * H + h) * D, *b = kp + (t * Hkv + h / (H / Hkv)) * D;
                double sum = 0.0;
                for (int64_t d = 0; d < D; d++)
                    sum += (double)(a[d] * b[d]);
                out[(h * S + s) * T + t] = (float)sum * scale + mp[s * T + t];
            }
    OK(tl_op_softmax(sc, -1, &pr));
    tl_tensor_unref(sc);
    return pr;
}

static bool same_bytes(const tl_tensor *a, const tl_tensor *b) {
    return tl_tensor_same_shape(a, b) &&
           memcmp(tl_tensor_data((tl_tensor *)a), tl_tensor_data((tl_tensor *)b),
                  (size_t)tl_tensor_nelements(a) * 4) == 0;
}

static void check(int64_t S, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t pos) {
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 21);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 22);
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 23);
    tl_tensor *m = causal_mask(S, T, pos);
    float scale = 1.0f / sqrtf((float)D);
    tl_tensor *p, *o, *o_ref;
    OK(tl_op_attention_masked(q, k, v, m, scale, &p, &o));
    OK(tl_op_attention(q, k, v, true, scale, pos, &o_ref));
    assert_true(tl_tensor_same_shape(o, o_ref));
    const float *po = tl_tensor_data(o), *pr = tl_tensor_data(o_ref);
    for (int64_t i = 0; i < tl_tensor_nelements(o); i++)
        assert_true(fabsf(po[i] - pr[i]) <= 1e-6f);
    tl_tensor *p_ref = reference_probs(q, k, m, scale);
    assert_true(same_bytes(p, p_ref));
    /* probabilities only; and two threads give the same bytes */
    tl_tensor *p1, *p2, *o2;
    OK(tl_op_attention_masked(q, k, NULL, m, scale, &p1, NULL));
    assert_true(same_bytes(p1, p));
    OK(tl_threadpool_set_threads(2));
    OK(tl_op_attention_masked(q, k, v, m, scale, &p2, &o2));
    OK(tl_threadpool_set_threads(1));
    assert_true(same_bytes(p2, p));
    assert_true(same_bytes(o2, o));
    tl_tensor *all[] = {q, k, v, m, p, o, o_ref, p_ref, p1, p2, o2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tl_tensor_unref(all[i]);
}

static void test_matches_attention_vector_path(void **state) {
    (void)state;
    check(3, 5, 4, 2, 8, 2);    /* the last 3 of 5 positions, GQA 2 */
    check(4, 4, 8, 4, 16, 0);   /* a prompt at position 0 */
    check(1, 9, 4, 1, 8, 8);    /* one decode step, every key visible */
    check(2, 20, 2, 2, 32, 18); /* more than 16 keys (the 16-wide score loop) */
}

static void test_matches_attention_scalar_path(void **state) {
    (void)state;
    check(3, 5, 4, 2, 6, 2);
    check(1, 7, 2, 1, 6, 6);
}

static void test_edge_rows(void **state) {
    (void)state;
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 2, 8}, 31);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){3, 1, 8}, 32);
    tl_tensor *m;
    OK(tl_tensor_new(TL_DTYPE_F32, 2, (int64_t[]){3, 2}, &m));
    float *mp = tl_tensor_data(m);
    for (int t = 0; t < 3; t++)
        mp[t] = -INFINITY;                               /* query 0 sees nothing: uniform */
    ((float *)tl_tensor_data(q))[(1 * 2 + 1) * 8] = NAN; /* query 1, head 1: a NaN */
    tl_tensor *p;
    OK(tl_op_attention_masked(q, k, NULL, m, 0.5f, &p, NULL));
    const float *pp = tl_tensor_data(p); /* [H = 2][S = 2][T = 3] */
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < 3; t++)
            assert_true(pp[(h * 2 + 0) * 3 + t] == 1.0f / 3.0f);
    for (int t = 0; t < 3; t++) {
        assert_true(isnan(pp[(1 * 2 + 1) * 3 + t]));
        assert_false(isnan(pp[(0 * 2 + 1) * 3 + t]));
    }
    tl_tensor *p_ref = reference_probs(q, k, m, 0.5f);
    assert_true(same_bytes(p, p_ref));
    tl_tensor_unref(p_ref);
    tl_tensor_unref(p);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(m);
}

static void test_errors(void **state) {
    (void)state;
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 4, 8}, 1);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){3, 2, 8}, 2);
    tl_tensor *k3 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){3, 3, 8}, 2);
    tl_tensor *q16 = mk_rand(TL_DTYPE_F16, 3, (int64_t[]){2, 4, 8}, 3);
    tl_tensor *m = causal_mask(2, 3, 1), *m_bad = causal_mask(2, 4, 1);
    tl_tensor *p = (tl_tensor *)1, *o = (tl_tensor *)1;
    assert_int_equal(tl_op_attention_masked(q16, k, k, m, 1.0f, &p, &o), TL_ERR_ARG);
    assert_null(p);
    assert_null(o);
    assert_int_equal(tl_op_attention_masked(q, k, k, m_bad, 1.0f, &p, &o), TL_ERR_SHAPE);
    assert_int_equal(tl_op_attention_masked(q, k3, k3, m, 1.0f, &p, &o), TL_ERR_SHAPE);
    assert_int_equal(tl_op_attention_masked(q, k, k, m, 1.0f, &p, NULL), TL_ERR_ARG);
    assert_null(p);
    tl_tensor *all[] = {q, k, k3, q16, m, m_bad};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tl_tensor_unref(all[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_attention_vector_path),
        cmocka_unit_test(test_matches_attention_scalar_path),
        cmocka_unit_test(test_edge_rows),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
