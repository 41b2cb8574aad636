/* tests/unit/test_ops_create.c -- full/arange, the run-time allocation limit,
** the seeded generator (rand, randn) and the samplers (greedy, temperature,
** top-k, top-p, min-p). */
#include "test_ops_util.h"

#include "runtime/random.h"
#include "runtime/sample.h"
#include "runtime/status.h"

static void test_full_arange(void **state) {
    (void)state;
    tl_tensor *t;
    OK(tl_op_full(TL_DTYPE_F16, 2, (int64_t[]){2, 3}, 0.1, &t));
    assert_int_equal(t->dtype, TL_DTYPE_F16);
    for (int i = 0; i < 6; i++)
        assert_true((float)at(t, i) == round_to(TL_DTYPE_F16, 0.1f));
    tl_tensor_unref(t);
    OK(tl_op_full(TL_DTYPE_I32, 1, (int64_t[]){0}, 7, &t));
    assert_string_equal(shp(t), "[0]");
    tl_tensor_unref(t);
    OK(tl_op_arange(TL_DTYPE_F32, 2, 5, 1, &t));
    assert_string_equal(shp(t), "[3]");
    assert_true(at(t, 0) == 2 && at(t, 2) == 4);
    tl_tensor_unref(t);
    OK(tl_op_arange(TL_DTYPE_I64, 5, 0, -2, &t));
    assert_string_equal(shp(t), "[3]");
    assert_true(at(t, 2) == 1);
    tl_tensor_unref(t);
    assert_int_equal(tl_op_arange(TL_DTYPE_F32, 0, 1, 0, &t), TL_ERR_ARG);
    assert_int_equal(tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){1LL << 40, 1LL << 20}, 0, &t),
                     TL_ERR_NOMEM);
    assert_null(t);
}

/* the allocation limit is a run-time setting: lowered, a 4 MiB tensor fails
** with TL_ERR_NOMEM (and the error names the limit); restored, it is made */
static void test_alloc_limit(void **state) {
    (void)state;
    size_t saved = tl_alloc_limit();
    assert_int_equal(saved, (size_t)TL_MAX_ALLOC_BYTES);
    tl_tensor *t;
    tl_set_alloc_limit((size_t)1 << 20);
    assert_int_equal(tl_alloc_limit(), (size_t)1 << 20);
    assert_int_equal(tl_op_full(TL_DTYPE_F32, 1, (int64_t[]){1 << 20}, 1, &t), TL_ERR_NOMEM);
    assert_null(t);
    assert_non_null(strstr(tl_last_error(), "limit 1048576"));
    tl_set_alloc_limit(saved);
    OK(tl_op_full(TL_DTYPE_F32, 1, (int64_t[]){1 << 20}, 1, &t));
    tl_tensor_unref(t);
}

static void test_rand_is_seeded(void **state) {
    (void)state;
    tl_tensor *a, *b, *c, *n;
    tl_random_seed(42);
    OK(tl_op_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 5}, &a));
    tl_random_seed(42);
    OK(tl_op_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 5}, &b));
    assert_same_bytes(a, b);
    OK(tl_op_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 5}, &c)); /* continues the stream */
    assert_memory_not_equal(tl_tensor_data(a), tl_tensor_data(c), 80);
    tl_tensor_unref(c);
    for (int i = 0; i < 20; i++)
        assert_true(at(a, i) >= 0.0 && at(a, i) < 1.0);
    /* xoshiro256** reference value for seed 42 via splitmix64: recompute by hand */
    tl_rng r;
    tl_rng_seed(&r, 42);
    float first = (float)(tl_rng_next(&r) >> 40) * 0x1.0p-24f;
    assert_true((float)at(a, 0) == first);
    OK(tl_op_randn(TL_DTYPE_F32, 1, (int64_t[]){20000}, &n));
    double s = 0, s2 = 0;
    for (int i = 0; i < 20000; i++) {
        double v = at(n, i);
        s += v;
        s2 += v * v;
    }
    double mean = s / 20000, var = s2 / 20000 - mean * mean;
    assert_true(fabs(mean) < 0.05 && fabs(var - 1.0) < 0.05);
    assert_int_equal(tl_op_rand(TL_DTYPE_I32, 1, (int64_t[]){2}, &c), TL_ERR_TYPE);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(n);
}

static void test_samplers(void **state) {
    (void)state;
    tl_tensor *l =
        mk(TL_DTYPE_F32, 2, (int64_t[]){2, 5}, (double[]){9, 9, 9, 9, 9, 1, 3, 0.5, 3, 2});
    int64_t id;
    tl_rng r;
    tl_rng_seed(&r, 7);
    OK(tl_sample_greedy(l, &id)); /* last row, first of the tied maxima */
    assert_int_equal(id, 1);
    OK(tl_sample_temperature(l, 0.0f, &r, &id));
    assert_int_equal(id, 1);
    OK(tl_sample_top_k(l, 1, 1.0f, &r, &id));
    assert_int_equal(id, 1);
    OK(tl_sample_top_p(l, 1e-6f, 1.0f, &r, &id));
    assert_int_equal(id, 1);
    OK(tl_sample_min_p(l, 1.0f, 1.0f, &r, &id)); /* only the two maxima survive */
    assert_true(id == 1 || id == 3);
    /* top-k 2 only ever gives the two maxima; the counts follow the weights */
    int counts[5] = {0};
    for (int i = 0; i < 2000; i++) {
        OK(tl_sample_top_k(l, 2, 1.0f, &r, &id));
        counts[id]++;
    }
    assert_int_equal(counts[0] + counts[2] + counts[4], 0);
    assert_true(counts[1] > 850 && counts[3] > 850);
    /* temperature: same seed, same draws */
    int64_t seq1[20], seq2[20];
    tl_rng_seed(&r, 99);
    for (int i = 0; i < 20; i++)
        OK(tl_sample_temperature(l, 2.0f, &r, &seq1[i]));
    tl_rng_seed(&r, 99);
    for (int i = 0; i < 20; i++)
        OK(tl_sample_temperature(l, 2.0f, &r, &seq2[i]));
    assert_memory_equal(seq1, seq2, sizeof seq1);
    assert_int_equal(tl_sample_top_p(l, 0.0f, 1.0f, &r, &id), TL_ERR_ARG);
    tl_tensor_unref(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_arange),
        cmocka_unit_test(test_alloc_limit),
        cmocka_unit_test(test_rand_is_seeded),
        cmocka_unit_test(test_samplers),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
