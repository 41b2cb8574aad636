/* tests/unit/test_attention_probs.c -- tl_op_attention_probs: the fused attention
** that also hands out its scores and probabilities (the interp toolkit's attn_scores
** and attn_probs hook points).  Its output is byte-identical to tl_op_attention, the
** probabilities are the softmax of the scores, masked keys have score -inf and
** probability 0; both kernel paths (AVX2 when D % 4 == 0, scalar otherwise). */
#include "test_ops_util.h"

#include <stdio.h>

static void check(int64_t S, int64_t T, int64_t H, int64_t Hkv, int64_t D, bool causal,
                  int64_t off) {
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 11);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 12);
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 13);
    tl_tensor *o, *o2, *sc, *pr;
    OK(tl_op_attention(q, k, v, causal, 0.0f, off, &o));
    OK(tl_op_attention_probs(q, k, v, causal, 0.0f, off, &o2, &sc, &pr));
    assert_string_equal(shp(pr), shp(sc));
    char want[64];
    snprintf(want, sizeof want, "[%lld, %lld, %lld]", (long long)H, (long long)S, (long long)T);
    assert_string_equal(shp(pr), want);
    assert_int_equal(memcmp(tl_tensor_data(o), tl_tensor_data(o2), (size_t)(S * H * D) * 4), 0);
    int64_t base = off >= 0 ? off : T - S;
    for (int64_t h = 0; h < H; h++)
        for (int64_t s = 0; s < S; s++) {
            double sum = 0.0, mx = -INFINITY;
            const float *srow = (const float *)tl_tensor_data(sc) + (h * S + s) * T;
            const float *prow = (const float *)tl_tensor_data(pr) + (h * S + s) * T;
            for (int64_t t = 0; t < T; t++) {
                bool hidden = causal && t > s + base;
                if (hidden) {
                    assert_true(isinf(srow[t]) && srow[t] < 0);
                    assert_true(prow[t] == 0.0f);
                } else {
                    assert_true(isfinite(srow[t]));
                    if (srow[t] > mx) mx = srow[t];
                }
                sum += prow[t];
            }
            assert_true(fabs(sum - 1.0) < 1e-5);
            /* softmax of the scores */
            double z = 0.0;
            for (int64_t t = 0; t < T; t++)
                if (!(causal && t > s + base)) z += exp((double)srow[t] - mx);
            for (int64_t t = 0; t < T; t++)
                if (!(causal && t > s + base))
                    assert_true(fabs(exp((double)srow[t] - mx) / z - prow[t]) < 1e-6);
        }
    /* only the probabilities */
    tl_tensor *o3, *pr3;
    OK(tl_op_attention_probs(q, k, v, causal, 0.0f, off, &o3, NULL, &pr3));
    assert_int_equal(memcmp(tl_tensor_data(pr), tl_tensor_data(pr3), (size_t)(H * S * T) * 4), 0);
    tl_tensor_unref(o3);
    tl_tensor_unref(pr3);
    tl_tensor_unref(o);
    tl_tensor_unref(o2);
    tl_tensor_unref(sc);
    tl_tensor_unref(pr);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
}

static void test_probs_vector_path(void **state) {
    (void)state;
    check(3, 5, 4, 2, 8, true, -1);  /* queries are the last 3 of 5 positions */
    check(4, 4, 8, 4, 16, true, 0);  /* a prompt at position 0 */
    check(2, 6, 4, 4, 8, false, -1); /* not causal */
}

static void test_probs_scalar_path(void **state) {
    (void)state;
    check(3, 5, 4, 2, 6, true, -1);
    check(1, 7, 2, 1, 6, true, 6); /* one decode step at position 6 */
}

static void test_probs_shape_error(void **state) {
    (void)state;
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 4, 8}, 1);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){3, 3, 8}, 2);
    tl_tensor *o = (tl_tensor *)1, *sc = (tl_tensor *)1, *pr = (tl_tensor *)1;
    assert_int_equal(tl_op_attention_probs(q, k, k, true, 0.0f, -1, &o, &sc, &pr), TL_ERR_SHAPE);
    assert_null(o);
    assert_null(sc);
    assert_null(pr);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probs_vector_path),
        cmocka_unit_test(test_probs_scalar_path),
        cmocka_unit_test(test_probs_shape_error),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
