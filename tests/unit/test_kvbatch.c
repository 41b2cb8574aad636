/* tests/unit/test_kvbatch.c -- tl_kvbatch_attention: each sequence's output and
** cache byte-identical to its own tl_kvcache_append + tl_op_attention, for prompts
** of different lengths and one-token steps, with f16 keys and values and a query
** tensor that is not contiguous (converted first); a step that fails leaves every
** cache as it was. */
#include "runtime/kvbatch.h"
#include "runtime/threadpool.h"
#include "test_ops_util.h"

#include <stdlib.h>

#define NSEQ 3
#define H    8
#define HKV  2
#define D    16

/* Rows [r0, r0 + n) of a [N, heads, D] tensor as a view. */
static tl_tensor *rows(tl_tensor *t, int64_t r0, int64_t n) {
    tl_tensor *out;
    int64_t ne[3] = {t->ne[0], t->ne[1], n};
    OK(tl_tensor_view(t, 3, ne, t->nb, (size_t)r0 * t->nb[2], &out));
    return out;
}

/* q [N, H, D] as a view with padded rows (not contiguous). */
static tl_tensor *padded_q(int64_t N, uint32_t seed) {
    tl_tensor *base = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){N, H, D + 3}, seed), *q;
    int64_t ne[3] = {D, H, N};
    OK(tl_tensor_view(base, 3, ne, base->nb, 0, &q));
    assert_false(tl_tensor_is_contiguous(q));
    tl_tensor_unref(base);
    return q;
}

/* One step on the batch and on NSEQ separate caches; compares outputs and lengths. */
static void step(tl_kvbatch *kb, tl_kvcache **ref, const int64_t *lens, bool pad, uint32_t seed) {
    int64_t seqs[NSEQ] = {2, 0, 1}, N = 0;
    for (int i = 0; i < NSEQ; i++)
        N += lens[i];
    tl_tensor *q = pad ? padded_q(N, seed) : mk_rand(TL_DTYPE_F32, 3, (int64_t[]){N, H, D}, seed);
    tl_tensor *k = mk_rand(TL_DTYPE_F16, 3, (int64_t[]){N, HKV, D}, seed + 1);
    tl_tensor *v = mk_rand(TL_DTYPE_F16, 3, (int64_t[]){N, HKV, D}, seed + 2), *o;
    OK(tl_kvbatch_attention(kb, 0, seqs, lens, NSEQ, q, k, v, 0.25f, &o));
    const float *got = tl_tensor_data(o);
    for (int64_t i = 0, r0 = 0; i < NSEQ; r0 += lens[i], i++) {
        tl_kvcache *c = ref[seqs[i]];
        int64_t pos = tl_kvcache_len(c, 0), len;
        tl_tensor *qi = rows(q, r0, lens[i]), *ki = rows(k, r0, lens[i]),
                  *vi = rows(v, r0, lens[i]);
        tl_tensor *kc, *vc, *want;
        OK(tl_kvcache_append(c, 0, ki, vi));
        OK(tl_kvcache_view(c, 0, 0, &kc));
        OK(tl_kvcache_view(c, 0, 1, &vc));
        OK(tl_op_attention(qi, kc, vc, true, 0.25f, pos, &want));
        assert_int_equal(memcmp(got + r0 * H * D, tl_tensor_data(want),
                                (size_t)(lens[i] * H * D) * sizeof(float)),
                         0);
        OK(tl_kvbatch_len(kb, seqs[i], &len));
        assert_int_equal(len, tl_kvcache_len(c, 0));
        tl_tensor *const drop[] = {qi, ki, vi, kc, vc, want};
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
            tl_tensor_unref(drop[d]);
    }
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    tl_tensor_unref(o);
}

static void test_matches_each_sequence_alone(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        OK(tl_threadpool_set_threads(threads));
        tl_kvbatch *kb;
        tl_kvcache *ref[NSEQ];
        OK(tl_kvbatch_new(1, NSEQ, 2, 0, &kb)); /* capacity 2: the steps grow the caches */
        for (int i = 0; i < NSEQ; i++)
            OK(tl_kvcache_new(1, 2, &ref[i]));
        step(kb, ref, (int64_t[]){3, 1, 5}, false, 10);
        for (uint32_t s = 0; s < 4; s++)
            step(kb, ref, (int64_t[]){1, 1, 1}, s % 2 == 1, 20 + 3 * s);
        step(kb, ref, (int64_t[]){2, 1, 9}, true, 40);
        for (int i = 0; i < NSEQ; i++)
            tl_kvcache_free(ref[i]);
        tl_kvbatch_free(kb);
    }
}

static void test_failed_step_changes_nothing(void **state) {
    (void)state;
    tl_kvbatch *kb;
    OK(tl_kvbatch_new(1, 2, 0, 0, &kb));
    tl_tensor *q1 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){1, 2, 4}, 1);
    tl_tensor *k1 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){1, 2, 4}, 2), *o;
    OK(tl_kvbatch_attention(kb, 0, (int64_t[]){0}, (int64_t[]){1}, 1, q1, k1, k1, 0, &o));
    tl_tensor_unref(o);
    /* sequence 1 is fresh, sequence 0 holds rows of 2 x 4: rows of 1 x 4 fail on it */
    tl_tensor *q2 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 1, 4}, 3);
    tl_tensor *k2 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 1, 4}, 4);
    assert_int_equal(
        tl_kvbatch_attention(kb, 0, (int64_t[]){1, 0}, (int64_t[]){1, 1}, 2, q2, k2, k2, 0, &o),
        TL_ERR_SHAPE);
    assert_null(o);
    assert_non_null(strstr(tl_last_error(), "cannot append 1 x 4"));
    int64_t len0, len1;
    OK(tl_kvbatch_len(kb, 0, &len0));
    OK(tl_kvbatch_len(kb, 1, &len1));
    assert_int_equal(len0, 1);
    assert_int_equal(len1, 0);
    /* sequence 1 alone still takes its rows */
    OK(tl_kvbatch_attention(kb, 0, (int64_t[]){1}, (int64_t[]){2}, 1, q2, k2, k2, 0, &o));
    OK(tl_kvbatch_len(kb, 1, &len1));
    assert_int_equal(len1, 2);
    tl_tensor_unref(o);
    tl_tensor *const drop[] = {q1, k1, q2, k2};
    for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
        tl_tensor_unref(drop[d]);
    tl_kvbatch_free(kb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_each_sequence_alone),
        cmocka_unit_test(test_failed_step_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
