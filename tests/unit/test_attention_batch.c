/* tests/unit/test_attention_batch.c -- tl_op_attention_batch: several sequences'
** causal attentions (each against its own keys and values, its queries at its own
** position) in one parallel region, as KVBatch.attention runs a batch step.  Every
** output must be byte-identical to its own tl_op_attention call, whatever the
** thread count, on both kernel paths (AVX2 when D % 4 == 0, scalar otherwise), for
** one-token steps and prompts of different lengths side by side; a bad shape is
** an error naming it, with nothing written and nothing leaked.  The same for
** tl_op_attention_rows, which also stores each step's new keys and values into
** the cache rows it reads (inside the parallel region for one-token steps). */
#include "runtime/threadpool.h"
#include "test_ops_util.h"

#include <stdlib.h>

#define MAX_JOBS 6

typedef struct job_spec {
    int64_t S, T, pos;
} job_spec;

static void unref_job(tl_tensor *q, tl_tensor *k, tl_tensor *v, tl_tensor *want) {
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    tl_tensor_unref(want);
}

/* The batch against one tl_op_attention per job, at 1 and 2 threads. */
static void check(const job_spec *js, int n, int64_t H, int64_t Hkv, int64_t D, tl_dtype kv_dt) {
    tl_tensor *q[MAX_JOBS], *k[MAX_JOBS], *v[MAX_JOBS], *want[MAX_JOBS];
    float *o[MAX_JOBS];
    int64_t pos[MAX_JOBS];
    for (int i = 0; i < n; i++) {
        q[i] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){js[i].S, H, D}, 100 + (uint32_t)i);
        k[i] = mk_rand(kv_dt, 3, (int64_t[]){js[i].T, Hkv, D}, 200 + (uint32_t)i);
        v[i] = mk_rand(kv_dt, 3, (int64_t[]){js[i].T, Hkv, D}, 300 + (uint32_t)i);
        pos[i] = js[i].pos;
        OK(tl_op_attention(q[i], k[i], v[i], true, 0.125f, pos[i], &want[i]));
        o[i] = malloc((size_t)(js[i].S * H * D) * sizeof(float));
        assert_non_null(o[i]);
    }
    for (int threads = 1; threads <= 2; threads++) {
        OK(tl_threadpool_set_threads(threads));
        for (int i = 0; i < n; i++)
            memset(o[i], 0xff, (size_t)(js[i].S * H * D) * sizeof(float));
        OK(tl_op_attention_batch(n, (const tl_tensor *const *)q, (const tl_tensor *const *)k,
                                 (const tl_tensor *const *)v, pos, 0.125f, o));
        for (int i = 0; i < n; i++)
            assert_int_equal(
                memcmp(o[i], tl_tensor_data(want[i]), (size_t)(js[i].S * H * D) * sizeof(float)),
                0);
    }
    for (int i = 0; i < n; i++) {
        unref_job(q[i], k[i], v[i], want[i]);
        free(o[i]);
    }
}

/* tl_op_attention_rows against one tl_op_attention per job (pos = T - S): the
** caches' last S rows start as NaN and must come out equal to the new rows. */
static void check_rows(const job_spec *js, int n, int64_t H, int64_t Hkv, int64_t D) {
    tl_tensor *q[MAX_JOBS], *k[MAX_JOBS], *v[MAX_JOBS], *want[MAX_JOBS];
    tl_attn_rows r[MAX_JOBS];
    float *kc[MAX_JOBS], *vc[MAX_JOBS];
    for (int i = 0; i < n; i++) {
        int64_t S = js[i].S, T = js[i].T, row = Hkv * D;
        q[i] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 100 + (uint32_t)i);
        k[i] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 200 + (uint32_t)i);
        v[i] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 300 + (uint32_t)i);
        OK(tl_op_attention(q[i], k[i], v[i], true, 0.125f, T - S, &want[i]));
        kc[i] = malloc((size_t)(T * row) * sizeof(float));
        vc[i] = malloc((size_t)(T * row) * sizeof(float));
        assert_true(kc[i] && vc[i]);
        const float *kd = tl_tensor_data(k[i]), *vd = tl_tensor_data(v[i]);
        r[i] = (tl_attn_rows){.q = tl_tensor_data(q[i]),
                              .k = kc[i],
                              .v = vc[i],
                              .k_new = kd + (T - S) * row,
                              .v_new = vd + (T - S) * row,
                              .k_rows = kc[i] + (T - S) * row,
                              .v_rows = vc[i] + (T - S) * row,
                              .o = malloc((size_t)(S * H * D) * sizeof(float)),
                              .S = S,
                              .T = T};
        assert_non_null(r[i].o);
    }
    for (int threads = 1; threads <= 2; threads++) {
        OK(tl_threadpool_set_threads(threads));
        for (int i = 0; i < n; i++) {
            int64_t S = js[i].S, T = js[i].T, row = Hkv * D;
            memcpy(kc[i], tl_tensor_data(k[i]), (size_t)((T - S) * row) * sizeof(float));
            memcpy(vc[i], tl_tensor_data(v[i]), (size_t)((T - S) * row) * sizeof(float));
            memset(kc[i] + (T - S) * row, 0xff, (size_t)(S * row) * sizeof(float));
            memset(vc[i] + (T - S) * row, 0xff, (size_t)(S * row) * sizeof(float));
            memset(r[i].o, 0xff, (size_t)(S * H * D) * sizeof(float));
        }
        OK(tl_op_attention_rows(n, r, H, Hkv, D, 0.125f));
        for (int i = 0; i < n; i++) {
            size_t kv_bytes = (size_t)(js[i].T * Hkv * D) * sizeof(float);
            assert_int_equal(memcmp(kc[i], tl_tensor_data(k[i]), kv_bytes), 0);
            assert_int_equal(memcmp(vc[i], tl_tensor_data(v[i]), kv_bytes), 0);
            assert_int_equal(
                memcmp(r[i].o, tl_tensor_data(want[i]), (size_t)(js[i].S * H * D) * sizeof(float)),
                0);
        }
    }
    for (int i = 0; i < n; i++) {
        unref_job(q[i], k[i], v[i], want[i]);
        free(kc[i]);
        free(vc[i]);
        free(r[i].o);
    }
}

static void test_rows_decode_and_prompts(void **state) {
    (void)state;
    job_spec dec[MAX_JOBS] = {{1, 9, 8},   {1, 1, 0},   {1, 40, 39},
                              {1, 17, 16}, {1, 70, 69}, {1, 3, 2}};
    check_rows(dec, MAX_JOBS, 8, 2, 64);
    check_rows(dec, MAX_JOBS, 32, 4, 64);
    check_rows(dec, MAX_JOBS, 8, 2, 6);
    job_spec mixed[4] = {{5, 12, 7}, {17, 17, 0}, {1, 30, 29}, {9, 9, 0}};
    check_rows(mixed, 4, 4, 4, 8);
    check_rows(mixed, 4, 6, 3, 10);
}

static void test_rows_errors(void **state) {
    (void)state;
    tl_attn_rows r = {.S = 2, .T = 1};
    OK(tl_op_attention_rows(0, NULL, 4, 2, 8, 0.125f));
    assert_int_equal(tl_op_attention_rows(1, &r, 4, 3, 8, 0.125f), TL_ERR_SHAPE);
    assert_int_equal(tl_op_attention_rows(1, &r, 4, 2, 0, 0.125f), TL_ERR_SHAPE);
    assert_int_equal(tl_op_attention_rows(1, &r, 4, 2, 8, 0.125f), TL_ERR_SHAPE);
    assert_non_null(strstr(tl_last_error(), "2 queries against 1 keys"));
}

static void test_batch_decode_steps(void **state) {
    (void)state;
    /* eight sequences of different lengths, one new token each */
    job_spec js[MAX_JOBS] = {{1, 9, 8},   {1, 1, 0},   {1, 40, 39},
                             {1, 17, 16}, {1, 70, 69}, {1, 3, 2}};
    check(js, MAX_JOBS, 8, 2, 64, TL_DTYPE_F32);
    check(js, MAX_JOBS, 8, 2, 6, TL_DTYPE_F32);
}

static void test_batch_prompts_of_different_lengths(void **state) {
    (void)state;
    /* prompts after a cache's contents, a fresh prompt, and a one-token step together */
    job_spec js[4] = {{5, 12, 7}, {17, 17, 0}, {1, 30, 29}, {9, 9, 0}};
    check(js, 4, 4, 4, 8, TL_DTYPE_F32);
    check(js, 4, 6, 3, 10, TL_DTYPE_F32);
}

static void test_batch_f16_keys_and_values(void **state) {
    (void)state;
    job_spec js[3] = {{1, 20, 19}, {4, 10, 6}, {2, 2, 0}};
    check(js, 3, 8, 4, 16, TL_DTYPE_F16);
}

static void test_batch_empty(void **state) {
    (void)state;
    OK(tl_op_attention_batch(0, NULL, NULL, NULL, NULL, 0.125f, NULL));
}

static void test_batch_shape_error(void **state) {
    (void)state;
    tl_tensor *q[2], *k[2];
    float o0[2 * 4 * 8], o1[2 * 4 * 8];
    float *o[2] = {o0, o1};
    int64_t pos[2] = {0, 0};
    q[0] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 4, 8}, 1);
    k[0] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 2, 8}, 2);
    q[1] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 4, 8}, 3);
    k[1] = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 3, 8}, 4); /* 4 heads over 3 KV heads */
    memset(o0, 0, sizeof o0);
    memset(o1, 0, sizeof o1);
    assert_int_equal(tl_op_attention_batch(2, (const tl_tensor *const *)q,
                                           (const tl_tensor *const *)k, (const tl_tensor *const *)k,
                                           pos, 0.125f, o),
                     TL_ERR_SHAPE);
    assert_non_null(strstr(tl_last_error(), "[2, 3, 8]"));
    for (size_t i = 0; i < sizeof o0 / sizeof o0[0]; i++) /* no job ran */
        assert_true(o0[i] == 0.0f && o1[i] == 0.0f);
    for (int i = 0; i < 2; i++) {
        tl_tensor_unref(q[i]);
        tl_tensor_unref(k[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_decode_steps),
        cmocka_unit_test(test_batch_prompts_of_different_lengths),
        cmocka_unit_test(test_batch_f16_keys_and_values),
        cmocka_unit_test(test_batch_empty),
        cmocka_unit_test(test_batch_shape_error),
        cmocka_unit_test(test_rows_decode_and_prompts),
        cmocka_unit_test(test_rows_errors),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
