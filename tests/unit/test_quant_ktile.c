/* tests/unit/test_quant_ktile.c -- the rows-in-lanes K-quant / Q8_0 GEMM tiles
** (runtime/quant/ktile.h) give bit for bit what the quant module's GEMM gives
** in the same order (itself checked against llama.cpp by test_quant_ref), for
** row ranges that are and are not multiples of 16, token counts with and
** without a remainder of 4, extreme codes, and rows that start anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/quant/ktile.h"

static uint64_t rng = 0x13198a2e03707344ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* W [rows][n] of type dt and A [tok][n] of its dot type from random floats;
** kind 1: weights at +-max and activations +-1 (large integer sums); kind 2:
** every weight and activation the same positive value, kind 3 the same
** negative one (every code at one end of its range: the largest partial sums
** a kernel keeps in 16 bits). */
static void make(tl_dtype dt, int64_t rows, int64_t n, int64_t tok, int kind, void **w, size_t *ws,
                 void **a, size_t *as) {
    const tl_type_traits *wt = tl_dtype_traits(dt), *at = tl_dtype_traits(wt->dot_type);
    float *f = malloc((size_t)((rows > tok ? rows : tok) * n) * sizeof(float));
    assert_non_null(f);
    *ws = tl_dtype_row_size(dt, n);
    *as = tl_dtype_row_size(wt->dot_type, n);
    *w = malloc(*ws * (size_t)rows);
    *a = malloc(*as * (size_t)tok);
    for (int64_t i = 0; i < rows * n; i++)
        f[i] = kind == 1   ? (frand() < 0 ? -8.0f : 7.0f)
               : kind == 2 ? 7.0f
               : kind == 3 ? -8.0f
                           : frand() * (float)(1 + (i / 16) % 7);
    assert_int_equal(tl_quantize_rows(dt, f, *w, rows, n), TL_OK);
    for (int64_t i = 0; i < tok * n; i++)
        f[i] = kind == 1   ? (frand() < 0 ? -1.0f : 1.0f)
               : kind == 2 ? 1.0f
               : kind == 3 ? -1.0f
                           : frand() * 3;
    for (int64_t k = 0; k < tok; k++)
        at->from_f32(f + k * n, (char *)*a + (size_t)k * *as, n);
    free(f);
}

static void check(tl_dtype dt, tl_dot_order order, int64_t rows, int64_t n, int64_t tok, int64_t r0,
                  int64_t r1, int kind) {
    void *w, *a;
    size_t ws, as;
    make(dt, rows, n, tok, kind, &w, &ws, &a, &as);
    size_t bytes = (size_t)(rows * tok) * sizeof(float);
    float *got = calloc(1, bytes), *want = calloc(1, bytes);
    assert_int_equal(
        tl_quant_gemm_rows_order(dt, order, n, w, ws, r0, r1, a, as, tok, want, (size_t)rows),
        TL_OK);
    if (tl_ktile16_available()) {
        assert_int_equal(
            tl_ktile16_gemm(dt, order, n, w, ws, r0, r1, a, as, tok, got, (size_t)rows), TL_OK);
        assert_memory_equal(got, want, bytes);
    }
    if (dt == TL_DTYPE_Q4_K && tl_ktile8_available()) { /* the AVX2 8-row tile */
        memset(got, 0, bytes);
        assert_int_equal(tl_ktile8_gemm(dt, order, n, w, ws, r0, r1, a, as, tok, got, (size_t)rows),
                         TL_OK);
        assert_memory_equal(got, want, bytes);
    }
    /* the few-token GEMV (Q6_K; Q4_K in the GEMV order): every token as the
    ** one-token GEMV gives it (for Q6_K that is also the GEMM's) */
    if (tl_ktile16_available() && tl_kgemv16_tokens_supports(dt, order, n, tok)) {
        float *outs[KGEMV_MAX_TOK];
        memset(got, 0, bytes);
        for (int64_t k = 0; k < tok && k < KGEMV_MAX_TOK; k++) {
            outs[k] = got + k * rows;
            assert_int_equal(tl_quant_gemv_rows_order(dt, order, n, w, ws, r0, r1,
                                                      (const char *)a + (size_t)k * as,
                                                      want + k * rows),
                             TL_OK);
        }
        assert_int_equal(tl_kgemv16_tokens(dt, order, n, w, ws, r0, r1, a, as, tok, outs), TL_OK);
        assert_memory_equal(got, want, bytes);
    }
    /* the one-token kernels: token by token, the same bits in the GEMV order */
    if (tl_ktile16_available() && tl_kgemv16_supports(dt, order, n))
        for (int64_t k = 0; k < tok; k++) {
            float *g1 = calloc((size_t)rows, sizeof(float)),
                  *w1 = calloc((size_t)rows, sizeof(float));
            const char *ak = (const char *)a + (size_t)k * as;
            assert_int_equal(tl_quant_gemv_rows_order(dt, order, n, w, ws, r0, r1, ak, w1), TL_OK);
            assert_int_equal(tl_kgemv16(dt, order, n, w, ws, r0, r1, ak, g1), TL_OK);
            assert_memory_equal(g1, w1, (size_t)rows * sizeof(float));
            free(g1);
            free(w1);
        }
    free(got);
    free(want);
    free(w);
    free(a);
}

static const struct {
    tl_dtype dt;
    tl_dot_order order;
} cases[] = {
    {TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK}, {TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK_GEMM},
    {TL_DTYPE_Q5_K, TL_DOT_ORDER_ROW},    {TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW},
    {TL_DTYPE_Q8_0, TL_DOT_ORDER_ROW},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static void test_ktile_matches_reference(void **state) {
    (void)state;
    if (!tl_ktile16_available() && !tl_ktile8_available()) skip();
    for (size_t c = 0; c < N_CASES; c++) {
        tl_dtype dt = cases[c].dt;
        tl_dot_order o = cases[c].order;
        if (!tl_ktile16_available() && dt != TL_DTYPE_Q4_K) continue; /* AVX2: Q4_K only */
        assert_true(tl_ktile16_supports(dt, o));
        check(dt, o, 16, 256, 4, 0, 16, 0);
        check(dt, o, 32, 512, 7, 0, 32, 0);  /* 4-token tiles + 3 tokens */
        check(dt, o, 37, 256, 5, 3, 37, 0);  /* range not 16-aligned */
        check(dt, o, 16, 256, 1, 0, 16, 0);  /* one token */
        check(dt, o, 48, 2048, 9, 0, 48, 0); /* TinyLlama row length */
        check(dt, o, 32, 2048, 6, 0, 32, 1); /* extreme codes */
        check(dt, o, 40, 5632, 3, 5, 40, 0); /* the FFN down row length */
        check(dt, o, 35, 512, 17, 1, 35, 0); /* 8-token tiles + 1 token, 2 groups + 2 rows */
        check(dt, o, 16, 768, 14, 0, 16, 1); /* 8 + 4 + 2 tokens, extreme codes */
        check(dt, o, 16, 256, 23, 0, 16, 0); /* 8 + 8 + 4 + 2 + 1 */
        check(dt, o, 16, 512, 11, 0, 16, 2); /* constant codes, both signs */
        check(dt, o, 16, 512, 11, 0, 16, 3);
        for (int64_t t = 2; t <= 8; t++) /* every few-token GEMV width (Q6_K, Q4_K) */
            check(dt, o, 19, 512, t, 2, 19, t % 4);
        if (dt == TL_DTYPE_Q8_0) {
            check(dt, o, 32, 96, 5, 0, 32, 0); /* an odd block count */
            check(dt, o, 16, 32, 2, 0, 16, 1);
        }
    }
}

/* The comparison can fail: a kernel that read one weight byte wrongly would be
** caught.  One code byte of row 5 changed in the tile's copy of the weights
** must change that row's outputs, and only that row's. */
static void test_ktile_detects_a_wrong_weight(void **state) {
    (void)state;
    if (!tl_ktile16_available() && !tl_ktile8_available()) skip();
    for (size_t c = 0; c < N_CASES; c++) {
        tl_dtype dt = cases[c].dt;
        tl_dot_order o = cases[c].order;
        if (!tl_ktile16_available() && dt != TL_DTYPE_Q4_K) continue;
        int64_t rows = 16, n = 256, tok = 3;
        void *w, *a;
        size_t ws, as;
        make(dt, rows, n, tok, 0, &w, &ws, &a, &as);
        size_t bytes = (size_t)(rows * tok) * sizeof(float);
        float *got = calloc(1, bytes), *want = calloc(1, bytes);
        assert_int_equal(
            tl_quant_gemm_rows_order(dt, o, n, w, ws, 0, rows, a, as, tok, want, (size_t)rows),
            TL_OK);
        unsigned char *byte = (unsigned char *)w + 5 * ws + ws - 7; /* a code of row 5 */
        *byte ^= 0x11;
        if (tl_ktile16_available())
            assert_int_equal(
                tl_ktile16_gemm(dt, o, n, w, ws, 0, rows, a, as, tok, got, (size_t)rows), TL_OK);
        else
            assert_int_equal(
                tl_ktile8_gemm(dt, o, n, w, ws, 0, rows, a, as, tok, got, (size_t)rows), TL_OK);
        for (int64_t k = 0; k < tok; k++)
            for (int64_t r = 0; r < rows; r++) {
                bool same = memcmp(&got[k * rows + r], &want[k * rows + r], sizeof(float)) == 0;
                if (r == 5)
                    assert_false(same);
                else
                    assert_true(same);
            }
        free(got);
        free(want);
        free(w);
        free(a);
    }
}

static void test_ktile_variants_present(void **state) {
    (void)state;
    print_message("ktile16 (AVX-512 VNNI): %s; ktile8 (AVX2, Q4_K): %s\n",
                  tl_ktile16_available() ? "tested" : "SKIPPED, no AVX-512 VNNI or TL_NO_AVX512",
                  tl_ktile8_available() ? "tested" : "SKIPPED, no AVX2");
}

static void test_ktile_errors(void **state) {
    (void)state;
    float o[16] = {0};
    if (!tl_ktile16_available()) skip();
    assert_int_equal(
        tl_ktile16_gemm(TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK, 100, o, 144, 0, 16, o, 292, 1, o, 16),
        TL_ERR_ARG);
    assert_int_equal(
        tl_ktile16_gemm(TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK, 256, o, 144, 4, 2, o, 292, 1, o, 16),
        TL_ERR_ARG);
    assert_int_equal(
        tl_ktile16_gemm(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW, 256, o, 144, 0, 16, o, 292, 1, o, 16),
        TL_ERR_UNSUPPORTED);
    assert_int_equal(
        tl_ktile16_gemm(TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK, 256, o, 144, 0, 0, o, 292, 1, o, 16),
        TL_OK);
}

/* The few-token GEMV refuses what it has no kernel for (too many or no tokens,
** a row length that is not whole super-blocks, Q4_K in the GEMM order, Q4_0) and
** a reversed row range, and writes nothing. */
static void test_kgemv_tokens_errors(void **state) {
    (void)state;
    float o[16] = {0}, zero[16] = {0};
    float *outs[KGEMV_MAX_TOK] = {o, o, o, o, o, o, o, o};
    if (!tl_ktile16_available()) skip();
    static const struct {
        tl_dtype dt;
        tl_dot_order order;
        int64_t n, r0, r1, tok;
        tl_status want;
    } bad[] = {
        {TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, 256, 0, 1, KGEMV_MAX_TOK + 1, TL_ERR_UNSUPPORTED},
        {TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, 256, 0, 1, 0, TL_ERR_UNSUPPORTED},
        {TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, 100, 0, 1, 2, TL_ERR_UNSUPPORTED},
        {TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK_GEMM, 256, 0, 1, 2, TL_ERR_UNSUPPORTED},
        {TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW, 256, 0, 1, 2, TL_ERR_UNSUPPORTED},
        {TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, 256, 4, 2, 2, TL_ERR_ARG},
        {TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK, 256, -1, 2, 2, TL_ERR_ARG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(tl_kgemv16_tokens_supports(bad[i].dt, bad[i].order, bad[i].n, bad[i].tok) &&
                     bad[i].want == TL_ERR_UNSUPPORTED);
        assert_int_equal(tl_kgemv16_tokens(bad[i].dt, bad[i].order, bad[i].n, o, 210, bad[i].r0,
                                           bad[i].r1, o, 292, bad[i].tok, outs),
                         bad[i].want);
        assert_memory_equal(o, zero, sizeof o);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ktile_matches_reference),
        cmocka_unit_test(test_ktile_errors),
        cmocka_unit_test(test_kgemv_tokens_errors),
        cmocka_unit_test(test_ktile_detects_a_wrong_weight),
        cmocka_unit_test(test_ktile_variants_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
