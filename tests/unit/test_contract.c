/* tests/unit/test_contract.c -- runtime/contract.h: plan order, kernel choice,
** results against a naive loop, the bit-identity of the batched kernel with
** linear's f32 rows, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/contract.h"
#include "runtime/context.h"
#include "runtime/contract_bmm.h"
#include "runtime/ops.h"

#include <math.h>
#include <string.h>

#define OK(e) assert_int_equal((e), TL_OK)

static tl_tensor *filled(int n, const int64_t *shape, float seed) {
    tl_tensor *t = NULL;
    OK(tl_tensor_new_shape(TL_DTYPE_F32, n, shape, &t));
    float *p = tl_tensor_data(t);
    for (int64_t i = 0; i < tl_tensor_nelements(t); i++)
        p[i] = sinf(seed + 0.37f * (float)i);
    return t;
}

/* A[i, j] B[j, k] C[k, l] with a tiny C: the greedy order contracts B and C first. */
static void test_greedy_order(void **state) {
    (void)state;
    tl_contract_spec s = {.n_ops = 3,
                          .n_dims = {2, 2, 2},
                          .labels = {{0, 1}, {1, 2}, {2, 3}},
                          .n_out = 2,
                          .out = {0, 3}};
    int64_t ext[TL_CONTRACT_MAX_LABELS];
    for (int l = 0; l < TL_CONTRACT_MAX_LABELS; l++)
        ext[l] = -1;
    ext[0] = 100, ext[1] = 10, ext[2] = 40, ext[3] = 2; /* B·C removes the most */
    tl_contract_plan p = {0};
    tl_contract_make_plan(&s, ext, &p);
    assert_int_equal(p.n_steps, 2);
    assert_int_equal(p.steps[0].a, 1);
    assert_int_equal(p.steps[0].b, 2);
}

/* Y[i, l] = A[i, j] B[j, k] C[k, l] against the naive triple sum. */
static void test_chain_matches_naive(void **state) {
    (void)state;
    int64_t sa[2] = {5, 7}, sb[2] = {7, 3}, sc[2] = {3, 4};
    tl_tensor *A = filled(2, sa, 0.1f), *B = filled(2, sb, 0.2f), *C = filled(2, sc, 0.3f),
              *Y = NULL;
    tl_contract_spec s = {.n_ops = 3,
                          .n_dims = {2, 2, 2},
                          .labels = {{0, 1}, {1, 2}, {2, 3}},
                          .n_out = 2,
                          .out = {0, 3}};
    const tl_tensor *ops[3] = {A, B, C};
    tl_contract_plan p = {0};
    OK(tl_contract(&s, ops, &p, &Y));
    assert_true(p.valid);
    const float *a = tl_tensor_data(A), *b = tl_tensor_data(B), *c = tl_tensor_data(C),
                *y = tl_tensor_data(Y);
    for (int i = 0; i < 5; i++)
        for (int l = 0; l < 4; l++) {
            double want = 0;
            for (int j = 0; j < 7; j++)
                for (int k = 0; k < 3; k++)
                    want += (double)a[i * 7 + j] * b[j * 3 + k] * c[k * 4 + l];
            assert_true(fabs(y[i * 4 + l] - want) <= 1e-5 * fmax(1.0, fabs(want)));
        }
    tl_tensor_unref(A);
    tl_tensor_unref(B);
    tl_tensor_unref(C);
    tl_tensor_unref(Y);
}

/* A 2-d f32 weight contracted over its last axis, with few rows, goes through linear
** (exact and llama mode), bit for bit; the batched kernel's scalar and AVX2 forms give
** the same bits, which agree with llama mode's linear (llama.cpp's float orders) to
** rounding. */
static void test_linear_path_and_bmm_bits(void **state) {
    (void)state;
    int64_t sx[2] = {3, 40}, sw[2] = {24, 40};
    tl_tensor *X = filled(2, sx, 0.5f), *W = filled(2, sw, 1.5f), *Y = NULL, *L = NULL;
    tl_contract_spec s = {
        .n_ops = 2, .n_dims = {2, 2}, .labels = {{0, 2}, {1, 2}}, .n_out = 2, .out = {0, 1}};
    const tl_tensor *ops[2] = {X, W};
    tl_contract_plan p = {0};
    tl_set_precision(TL_PRECISION_EXACT);
    OK(tl_contract(&s, ops, &p, &Y));
    assert_true(p.used_kernels & TL_CONTRACT_K_LINEAR);
    OK(tl_op_linear(X, W, NULL, &L));
    assert_memory_equal(tl_tensor_data(Y), tl_tensor_data(L), 3 * 24 * sizeof(float));
    tl_tensor_unref(Y);
    tl_tensor_unref(L);
    tl_set_precision(TL_PRECISION_LLAMA);
    tl_contract_plan p2 = {0};
    OK(tl_contract(&s, ops, &p2, &Y));
    assert_true(p2.used_kernels & TL_CONTRACT_K_LINEAR);
    OK(tl_op_linear(X, W, NULL, &L));
    assert_memory_equal(tl_tensor_data(Y), tl_tensor_data(L), 3 * 24 * sizeof(float));
    /* the batched kernel on W transposed to k-major */
    float bt[40 * 24], c1[3 * 24], c2[3 * 24];
    const float *w = tl_tensor_data(W);
    for (int k = 0; k < 40; k++)
        for (int n = 0; n < 24; n++)
            bt[k * 24 + n] = w[n * 40 + k];
    tl_contract_bmm_f32(tl_tensor_data(X), bt, c1, 1, 3, 24, 40);
    for (int m = 0; m < 3; m++)
        tl_contract_bmm_block((const float *)tl_tensor_data(X) + m * 40, bt, c2 + m * 24, 24, 40, 0,
                              24);
    assert_memory_equal(c1, c2, sizeof c1);
    for (int i = 0; i < 3 * 24; i++)
        assert_true(fabsf(c1[i] - ((float *)tl_tensor_data(L))[i]) <=
                    1e-5f * (1.0f + fabsf(((float *)tl_tensor_data(L))[i])));
    tl_tensor_unref(X);
    tl_tensor_unref(W);
    tl_tensor_unref(Y);
    tl_tensor_unref(L);
}

/* Diagonal (a view) and an extent mismatch. */
static void test_diagonal_and_errors(void **state) {
    (void)state;
    int64_t sm[2] = {4, 4}, sv[1] = {3};
    tl_tensor *M = filled(2, sm, 0.0f), *v = filled(1, sv, 0.0f), *Y = NULL;
    tl_contract_spec s = {.n_ops = 1, .n_dims = {2}, .labels = {{0, 0}}, .n_out = 1, .out = {0}};
    const tl_tensor *ops[2] = {M, v};
    OK(tl_contract(&s, ops, NULL, &Y));
    const float *m = tl_tensor_data(M);
    float d[4];
    for (int i = 0; i < 4; i++) {
        double x;
        OK(tl_tensor_get_f64(Y, i, &x));
        d[i] = (float)x;
        assert_true(d[i] == m[i * 5]);
    }
    tl_tensor_unref(Y);
    tl_contract_spec bad = {
        .n_ops = 2, .n_dims = {2, 1}, .labels = {{0, 1}, {1}}, .n_out = 1, .out = {0}};
    assert_int_equal(tl_contract(&bad, ops, NULL, &Y), TL_ERR_SHAPE);
    assert_non_null(strstr(tl_last_error(), "label 1 has extent 4"));
    tl_tensor_unref(M);
    tl_tensor_unref(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_order),
        cmocka_unit_test(test_chain_matches_naive),
        cmocka_unit_test(test_linear_path_and_bmm_bits),
        cmocka_unit_test(test_diagonal_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
