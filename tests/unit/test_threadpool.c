/* tests/unit/test_threadpool.c -- the pool covers every index exactly once
** (fixed chunks, and stealing jobs mixed with them), and the heavy ops give
** byte-identical results at 1, 2 and 3 threads. */
#include "test_ops_util.h"

#include "runtime/threadpool.h"

#include <pthread.h>
#include <time.h>

typedef struct cover {
    int *hits;
} cover;

static void mark(void *ctx, int64_t b, int64_t e) {
    cover *c = ctx;
    for (int64_t i = b; i < e; i++)
        __atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
}

static void test_cover_exactly_once(void **state) {
    (void)state;
    int threads[3] = {1, 2, 3};
    int64_t sizes[5] = {1, 2, 3, 7, 1001};
    for (int t = 0; t < 3; t++) {
        OK(tl_threadpool_set_threads(threads[t]));
        assert_int_equal(tl_threadpool_threads(), threads[t]);
        for (int s = 0; s < 5; s++)
            for (int rep = 0; rep < 50; rep++) {
                int hits[1001] = {0};
                cover c = {hits};
                tl_parallel_for(sizes[s], 1, mark, &c);
                for (int64_t i = 0; i < sizes[s]; i++)
                    assert_int_equal(hits[i], 1);
            }
    }
    assert_int_equal(tl_threadpool_set_threads(0), TL_ERR_ARG);
    tl_threadpool_shutdown();
}

/* Chunks that do not start at 0 (the workers' ones, unless the caller takes
** them all) sleep, so the caller runs out of spinning and waits on the pool's
** condition variable. */
static pthread_t chunk_threads[64];
static int n_chunk_threads;
static pthread_mutex_t chunk_mu = PTHREAD_MUTEX_INITIALIZER;

static void mark_slowly(void *ctx, int64_t b, int64_t e) {
    pthread_mutex_lock(&chunk_mu);
    int seen = 0;
    for (int i = 0; i < n_chunk_threads; i++)
        seen |= pthread_equal(chunk_threads[i], pthread_self());
    if (!seen && n_chunk_threads < 64) chunk_threads[n_chunk_threads++] = pthread_self();
    pthread_mutex_unlock(&chunk_mu);
    if (b > 0) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    mark(ctx, b, e);
}

/* The sleeping paths: workers idle long enough to sleep between jobs and are
** woken by the next one; a caller that waits long enough sleeps until the
** last chunk is done.  A caller that is never woken hangs here (ctest's timeout
** fails it); workers that are never woken leave every chunk to the caller. */
static void test_sleep_and_wake(void **state) {
    (void)state;
    OK(tl_threadpool_set_threads(3));
    for (int rep = 0; rep < 4; rep++) {
        int hits[64] = {0};
        cover c = {hits};
        struct timespec idle = {0, 30 * 1000 * 1000}; /* workers spin ~0.5 ms, then sleep */
        nanosleep(&idle, NULL);
        n_chunk_threads = 0;
        tl_parallel_for(64, 1, rep % 2 ? mark_slowly : mark, &c);
        for (int64_t i = 0; i < 64; i++)
            assert_int_equal(hits[i], 1);
        if (rep % 2) assert_true(n_chunk_threads >= 2); /* a worker woke and took chunks */
    }
    tl_threadpool_shutdown();
}

/* Stealing jobs: every item once, for any thread count and grain, with
** chunked jobs in between (a worker late for one job never takes items of
** the next); a slow thread's region is finished by the others. */
static void test_steal_cover_exactly_once(void **state) {
    (void)state;
    int64_t sizes[6] = {1, 2, 5, 17, 300, 1001}, grains[4] = {1, 2, 3, 64};
    for (int t = 1; t <= 4; t++) {
        OK(tl_threadpool_set_threads(t));
        for (int s = 0; s < 6; s++)
            for (int g = 0; g < 4; g++)
                for (int rep = 0; rep < 20; rep++) {
                    int hits[1001] = {0};
                    cover c = {hits};
                    if (rep % 3 == 2)
                        tl_parallel_for(sizes[s], 1, mark, &c);
                    else
                        tl_parallel_for_steal(sizes[s], grains[g], mark, &c);
                    for (int64_t i = 0; i < sizes[s]; i++)
                        assert_int_equal(hits[i], 1);
                }
    }
    /* more items than a region word holds (2^20): fixed chunks instead */
    OK(tl_threadpool_set_threads(2));
    int64_t big = ((int64_t)1 << 20) + 3;
    int *many = calloc((size_t)big, sizeof *many);
    assert_non_null(many);
    cover cm = {many};
    tl_parallel_for_steal(big, 4096, mark, &cm);
    for (int64_t i = 0; i < big; i++)
        assert_int_equal(many[i], 1);
    free(many);
    OK(tl_threadpool_set_threads(3));
    int hits[64] = {0};
    cover c = {hits};
    n_chunk_threads = 0;
    tl_parallel_for_steal(64, 2, mark_slowly, &c); /* items past 0 sleep: the rest is stolen */
    for (int64_t i = 0; i < 64; i++)
        assert_int_equal(hits[i], 1);
    tl_threadpool_shutdown();
}

/* Runs the heavy ops once and returns the results (caller frees). */
#define N_RESULTS 9
static void run_ops(tl_tensor **res) {
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){7, 96}, 1);
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){130, 96}, 2);
    tl_tensor *wh = mk_rand(TL_DTYPE_F16, 2, (int64_t[]){130, 96}, 3);
    tl_tensor *nw = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){96}, 4);
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){7, 8, 32}, 5);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){9, 2, 32}, 6);
    tl_tensor *b = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){96, 70}, 7);
    OK(tl_op_linear(x, w, NULL, &res[0]));
    OK(tl_op_linear(x, wh, NULL, &res[1]));
    OK(tl_op_matmul(x, b, &res[2]));
    OK(tl_op_rms_norm(x, nw, 1e-5f, &res[3]));
    OK(tl_op_softmax(res[0], -1, &res[4]));
    OK(tl_op_attention(q, k, k, true, 0.0f, -1, &res[5]));
    OK(tl_op_rope(q, 3, 10000.0f, TL_ROPE_NORM, &res[6]));
    const tl_tensor *qk[2] = {q, q};
    OK(tl_op_einsum("ihd,jhd->ihj", 2, qk, &res[7]));
    OK(tl_op_binary(TL_BIN_MUL, res[0], res[1], &res[8]));
    tl_tensor_unref(x);
    tl_tensor_unref(w);
    tl_tensor_unref(wh);
    tl_tensor_unref(nw);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(b);
}

static void test_byte_identical_across_thread_counts(void **state) {
    (void)state;
    tl_tensor *base[N_RESULTS], *other[N_RESULTS];
    OK(tl_threadpool_set_threads(1));
    run_ops(base);
    for (int t = 2; t <= 3; t++) {
        OK(tl_threadpool_set_threads(t));
        for (int rep = 0; rep < 2; rep++) {
            run_ops(other);
            for (int i = 0; i < N_RESULTS; i++) {
                assert_same_bytes(base[i], other[i]);
                tl_tensor_unref(other[i]);
            }
        }
    }
    for (int i = 0; i < N_RESULTS; i++)
        tl_tensor_unref(base[i]);
    tl_threadpool_shutdown();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cover_exactly_once),
        cmocka_unit_test(test_sleep_and_wake),
        cmocka_unit_test(test_steal_cover_exactly_once),
        cmocka_unit_test(test_byte_identical_across_thread_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
