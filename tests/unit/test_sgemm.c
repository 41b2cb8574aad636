/* tests/unit/test_sgemm.c -- tl_sgemm (runtime/sgemm.h): every element is the fmaf chain over
** k in order, so it matches a naive loop bit for bit, with the AVX2 tile or the scalar one, at
** 1, 2 and 3 threads; the three linear forms and odd sizes (tails of rows, columns and k
** passes); and the fused cross-entropy (runtime/xent.h) equals log_softmax / softmax. */
#include "test_ops_util.h"

#include "runtime/cpu.h"
#include "runtime/sgemm.h"
#include "runtime/threadpool.h"
#include "runtime/xent.h"

#include <math.h>

static float frand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void naive(const tl_sgemm_args *a, float *c) {
    for (int64_t m = 0; m < a->M; m++)
        for (int64_t n = 0; n < a->N; n++) {
            float s = 0.0f;
            for (int64_t k = 0; k < a->K; k++)
                s = fmaf(a->A[m * a->sam + k * a->sak], a->B[k * a->sbk + n * a->sbn], s);
            c[m * a->N + n] = s;
        }
}

/* forms: 0 nn (b contiguous in n), 1 nt (packed), 2 tn (a strided along m) */
static void check(int form, int64_t M, int64_t N, int64_t K) {
    uint32_t seed = (uint32_t)(M * 131 + N * 7 + K + form);
    float *A = malloc(sizeof(float) * (size_t)(M * K)),
          *B = malloc(sizeof(float) * (size_t)(K * N));
    float *want = malloc(sizeof(float) * (size_t)(M * N)),
          *got = malloc(sizeof(float) * (size_t)(M * N));
    assert_non_null(A), assert_non_null(B), assert_non_null(want), assert_non_null(got);
    for (int64_t i = 0; i < M * K; i++)
        A[i] = frand(&seed);
    for (int64_t i = 0; i < K * N; i++)
        B[i] = frand(&seed);
    tl_sgemm_args a = {.M = M, .N = N, .K = K, .A = A, .B = B, .C = got, .ldc = N};
    a.sam = form == 2 ? 1 : K, a.sak = form == 2 ? M : 1;
    a.sbk = form == 1 ? 1 : N, a.sbn = form == 1 ? K : 1;
    naive(&a, want);
    int threads[3] = {1, 2, 3};
    for (int t = 0; t < 3; t++) {
        OK(tl_threadpool_set_threads(threads[t]));
        memset(got, 0xff, sizeof(float) * (size_t)(M * N));
        OK(tl_sgemm(&a));
        assert_memory_equal(got, want, sizeof(float) * (size_t)(M * N));
    }
    free(A), free(B), free(want), free(got);
}

static void test_forms_and_tails(void **state) {
    (void)state;
    int64_t sizes[][3] = {{1, 1, 1},     {4, 16, 8}, {5, 17, 3},  {7, 33, 300},
                          {64, 40, 600}, {3, 5, 0},  {9, 70, 257}};
    for (int f = 0; f < 3; f++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            check(f, sizes[i][0], sizes[i][1], sizes[i][2]);
}

static void test_reference_tile_equals_avx2(void **state) {
    (void)state;
#ifndef __x86_64__
    skip(); /* no AVX2 kernel is built off x86-64 (runtime/CMakeLists.txt) */
#else
    if (!tl_cpu_use_avx2()) skip();
    uint32_t s = 5;
    float a[4 * 40], b[40 * 16], c1[4 * 16], c2[4 * 16];
    for (int i = 0; i < 160; i++)
        a[i] = frand(&s);
    for (int i = 0; i < 640; i++)
        b[i] = frand(&s);
    for (int mr = 1; mr <= 4; mr++)
        for (int first = 0; first <= 1; first++) {
            for (int i = 0; i < 64; i++)
                c1[i] = c2[i] = frand(&s);
            tl_sgemm_tile_ref(40, a, 40, 1, b, 16, c1, 16, mr, first);
            tl_sgemm_tile_avx2(40, a, 40, 1, b, 16, c2, 16, mr, first);
            assert_memory_equal(c1, c2, sizeof c1);
        }
#endif
}

static void test_cross_entropy_fused(void **state) {
    (void)state;
    tl_tensor *z = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){5, 37}, 3), *t = NULL, *ls = NULL,
              *sm = NULL, *dz = NULL;
    int64_t tgt[5] = {0, 36, 7, 7, 20};
    OK(tl_tensor_new(TL_DTYPE_I64, 1, (int64_t[]){5}, &t));
    memcpy(tl_tensor_data(t), tgt, sizeof tgt);
    OK(tl_op_log_softmax(z, -1, &ls));
    OK(tl_op_softmax(z, -1, &sm));
    double loss = 0, want = 0;
    OK(tl_op_cross_entropy(z, t, &loss));
    const float *lp = tl_tensor_data(ls);
    for (int r = 0; r < 5; r++)
        want -= lp[r * 37 + tgt[r]];
    assert_true(loss == want / 5);
    OK(tl_op_cross_entropy_grad(z, t, 0.25f, &dz));
    float *p = tl_tensor_data(sm);
    for (int r = 0; r < 5; r++) {
        p[r * 37 + tgt[r]] -= 1.0f;
        for (int j = 0; j < 37; j++)
            p[r * 37 + j] *= 0.25f;
    }
    assert_memory_equal(tl_tensor_data(dz), p, sizeof(float) * 185);
    tgt[1] = 37;
    memcpy(tl_tensor_data(t), tgt, sizeof tgt);
    assert_int_equal(tl_op_cross_entropy(z, t, &loss), TL_ERR_ARG);
    tl_tensor_unref(z), tl_tensor_unref(t), tl_tensor_unref(ls), tl_tensor_unref(sm);
    tl_tensor_unref(dz);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_and_tails),
        cmocka_unit_test(test_reference_tile_equals_avx2),
        cmocka_unit_test(test_cross_entropy_fused),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    tl_threadpool_shutdown();
    return r;
}
