/* tests/unit/test_quant_tile8.c -- the 8-rows-in-lanes Q4_0 GEMM (runtime/quant/tile8.h)
** gives bit for bit what the quant module's repacked-order GEMM gives, for row
** ranges that are and are not multiples of 8, odd token counts, extreme codes
** and scales, and rows that start anywhere in the matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/quant/tile8.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* W [rows][n] Q4_0 and A [tok][n] Q8_0 from random floats; kind 1 makes every
** weight code 0 or 15 and every activation code +-127 (the largest sums). */
static void make(int64_t rows, int64_t n, int64_t tok, int kind, void **w, size_t *ws, void **a,
                 size_t *as) {
    float *f = malloc((size_t)((rows > tok ? rows : tok) * n) * sizeof(float));
    assert_non_null(f);
    *ws = tl_dtype_row_size(TL_DTYPE_Q4_0, n);
    *as = tl_dtype_row_size(TL_DTYPE_Q8_0, n);
    *w = malloc(*ws * (size_t)rows);
    *a = malloc(*as * (size_t)tok);
    for (int64_t i = 0; i < rows * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -8.0f : 7.0f) : frand() * (1 + (i / 32) % 5);
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q4_0, f, *w, rows, n), TL_OK);
    const tl_type_traits *q8 = tl_dtype_traits(TL_DTYPE_Q8_0);
    for (int64_t i = 0; i < tok * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -1.0f : 1.0f) : frand() * 3;
    for (int64_t k = 0; k < tok; k++)
        q8->from_f32(f + k * n, (char *)*a + (size_t)k * *as, n);
    free(f);
}

static void check(int64_t rows, int64_t n, int64_t tok, int64_t r0, int64_t r1, int kind) {
    void *w, *a;
    size_t ws, as;
    make(rows, n, tok, kind, &w, &ws, &a, &as);
    float *got = calloc((size_t)(rows * tok), sizeof(float));
    float *want = calloc((size_t)(rows * tok), sizeof(float));
    assert_int_equal(tl_quant_gemm_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, ws, r0, r1,
                                              a, as, tok, want, (size_t)rows),
                     TL_OK);
    assert_int_equal(tl_q4_0_gemm_tile8(n, w, ws, r0, r1, a, as, tok, got, (size_t)rows), TL_OK);
    assert_memory_equal(got, want, (size_t)(rows * tok) * sizeof(float));
    if (tl_q4_0_tile16_available()) {
        /* the AVX-512 VNNI 16-row tile gives the same bits */
        float *z = calloc((size_t)(rows * tok), sizeof(float));
        assert_int_equal(tl_q4_0_gemm_tile16(n, w, ws, r0, r1, a, as, tok, z, (size_t)rows), TL_OK);
        assert_memory_equal(z, want, (size_t)(rows * tok) * sizeof(float));
        free(z);
    }
    /* a token-by-token GEMV gives the same bits (decode == prefill) */
    for (int64_t k = 0; k < tok; k++) {
        float *row = calloc((size_t)rows, sizeof(float));
        assert_int_equal(tl_quant_gemv_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, ws, r0,
                                                  r1, (char *)a + (size_t)k * as, row),
                         TL_OK);
        assert_memory_equal(row + r0, got + k * rows + r0, (size_t)(r1 - r0) * sizeof(float));
        /* and so does the 8-stream GEMV */
        memset(row, 0, (size_t)rows * sizeof(float));
        assert_int_equal(tl_q4_0_gemv_tile8(n, w, ws, r0, r1, (char *)a + (size_t)k * as, row),
                         TL_OK);
        assert_memory_equal(row + r0, got + k * rows + r0, (size_t)(r1 - r0) * sizeof(float));
        free(row);
    }
    free(got);
    free(want);
    free(w);
    free(a);
}

static void test_tile8_matches_repack_order(void **state) {
    (void)state;
    if (!tl_q4_0_tile8_available()) skip();
    check(16, 64, 4, 0, 16, 0);
    check(24, 256, 7, 0, 24, 0);
    check(37, 128, 5, 3, 37, 0);  /* range not 8-aligned, 2 leftover rows */
    check(8, 32, 1, 0, 8, 0);     /* one block, one token */
    check(64, 2048, 9, 8, 61, 0); /* TinyLlama row length */
    check(16, 2048, 3, 0, 16, 1);
    check(200, 64, 2, 5, 197, 0); /* GEMV: 8 streams of 24 rows, 0 leftover */
    check(70, 96, 2, 1, 70, 1);
    check(48, 2048, 11, 0, 48, 1); /* 3 groups of 16, 4-token tiles + 3 leftover tokens */
    check(90, 5632, 6, 3, 90, 0);  /* the FFN down row length; 16-row groups + 8 + 7 rows */
    /* GEMV: 8 streams of 8 rows, 5 leftover */ /* largest |sums|: int16 partials near the limit
                                                 */
}

/* The 16-row tile's token blocking (8, 4 and single tokens) and row coverage
** (whole groups, one overlapping group for 1..15 leftover rows, ranges under
** 16 rows through tile8) for every token count from 1 to 17. */
static void test_tile16_token_counts_and_ranges(void **state) {
    (void)state;
    if (!tl_q4_0_tile16_available()) skip();
    static const int64_t ranges[][2] = {{0, 40}, {3, 40}, {0, 16}, {5, 18}, {1, 33}, {7, 24}};
    for (int64_t tok = 1; tok <= 17; tok++)
        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
            check(40, 256, tok, ranges[i][0], ranges[i][1], tok % 2);
}

/* A broken 16-row tile must be caught: bytes changed in the tile's copy of
** the weights (a block's codes in one row, or the scale of another in the group
** that overlaps the last full one) changes exactly those rows' outputs against
** the unchanged reference, for each token path (8, 4 and 1 tokens). */
static void test_tile16_detects_a_wrong_weight(void **state) {
    (void)state;
    if (!tl_q4_0_tile16_available()) skip();
    static const int64_t toks[] = {1, 3, 4, 8, 9, 13};
    for (size_t t = 0; t < sizeof toks / sizeof toks[0]; t++) {
        int64_t rows = 45, n = 2048, tok = toks[t];
        void *w, *a;
        size_t ws, as;
        make(rows, n, tok, 0, &w, &ws, &a, &as);
        size_t bytes = (size_t)(rows * tok) * sizeof(float);
        float *got = calloc(1, bytes), *want = calloc(1, bytes);
        assert_int_equal(tl_quant_gemm_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, ws, 0,
                                                  rows, a, as, tok, want, (size_t)rows),
                         TL_OK);
        unsigned char *codes = (unsigned char *)w + 5 * ws + 7 * 18 + 2;   /* row 5, block 7 */
        unsigned char *scale = (unsigned char *)w + 37 * ws + 20 * 18 + 1; /* row 37, block 20 */
        for (int i = 0; i < 16; i++)
            codes[i] ^= 0x88; /* every code of the block moves by 8 */
        *scale ^= 0x04;
        assert_int_equal(tl_q4_0_gemm_tile16(n, w, ws, 0, rows, a, as, tok, got, (size_t)rows),
                         TL_OK);
        for (int64_t k = 0; k < tok; k++)
            for (int64_t r = 0; r < rows; r++) {
                bool same = memcmp(&got[k * rows + r], &want[k * rows + r], sizeof(float)) == 0;
                if (r == 5 || r == 37)
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

/* Which kernels ran: a skipped variant must show in the test log. */
static void test_tile_variants_present(void **state) {
    (void)state;
    print_message("tile8 (AVX2): %s; tile16 (AVX-512 VNNI): %s\n",
                  tl_q4_0_tile8_available() ? "tested" : "SKIPPED, no AVX2",
                  tl_q4_0_tile16_available() ? "tested"
                                             : "SKIPPED, no AVX-512 VNNI or TL_NO_AVX512");
}

static void test_tile8_errors(void **state) {
    (void)state;
    float o[8] = {0};
#ifndef __x86_64__
    /* a build without the x86 kernels: every tile entry point says so and nothing
    ** selects them (runtime/quant/select.c) */
    assert_false(tl_q4_0_tile8_available());
    assert_int_equal(tl_q4_0_gemm_tile8(32, o, 18, 0, 8, o, 34, 1, o, 8), TL_ERR_UNSUPPORTED);
    assert_int_equal(tl_q4_0_gemv_tile8(32, o, 18, 0, 8, o, o), TL_ERR_UNSUPPORTED);
    return;
#endif
    assert_int_equal(tl_q4_0_gemm_tile8(33, o, 18, 0, 8, o, 34, 1, o, 8), TL_ERR_ARG);
    assert_int_equal(tl_q4_0_gemm_tile8(32, o, 18, 4, 2, o, 34, 1, o, 8), TL_ERR_ARG);
    /* empty ranges do nothing */
    assert_int_equal(tl_q4_0_gemm_tile8(32, o, 18, 0, 0, o, 34, 1, o, 8), TL_OK);
    assert_int_equal(tl_q4_0_gemm_tile8(32, o, 18, 0, 8, o, 34, 0, o, 8), TL_OK);
    if (tl_q4_0_tile16_available()) {
        assert_int_equal(tl_q4_0_gemm_tile16(33, o, 18, 0, 16, o, 34, 1, o, 16), TL_ERR_ARG);
        assert_int_equal(tl_q4_0_gemm_tile16(32, o, 18, 0, 0, o, 34, 1, o, 16), TL_OK);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tile8_matches_repack_order),
        cmocka_unit_test(test_tile16_token_counts_and_ranges),
        cmocka_unit_test(test_tile16_detects_a_wrong_weight),
        cmocka_unit_test(test_tile8_errors),
        cmocka_unit_test(test_tile_variants_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
