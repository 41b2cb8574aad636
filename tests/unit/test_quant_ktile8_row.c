/* tests/unit/test_quant_ktile8_row.c -- the AVX2 rows-in-lanes tiles for Q5_K,
** Q6_K and Q8_0 (runtime/quant/ktile8_row.h) give bit for bit what the scalar
** reference dot (ggml's one-row order, itself checked against llama.cpp by
** test_quant_ref) gives on every (row, token) pair: odd row counts and ranges
** starting anywhere, 1 to 9 tokens, the TinyLlama row lengths, extreme codes,
** any split of the rows (as threads split them); and a wrong weight byte
** changes exactly its row's outputs. */
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
#include "runtime/quant/ktile8_row.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static const tl_dtype types[] = {TL_DTYPE_Q5_K, TL_DTYPE_Q6_K, TL_DTYPE_Q8_0};
#define N_TYPES (sizeof types / sizeof types[0])

typedef struct {
    tl_dtype dt;
    int64_t rows, n, tok;
    void *w, *a;
    size_t ws, as;
} mats;

/* W [rows][n] of type dt and A [tok][n] of its dot type from random floats;
** kind 1: weights at +-max and activations +-1 (the largest integer sums). */
static mats make(tl_dtype dt, int64_t rows, int64_t n, int64_t tok, int kind) {
    const tl_type_traits *wt = tl_dtype_traits(dt), *at = tl_dtype_traits(wt->dot_type);
    mats m = {
        dt, rows, n, tok, NULL, NULL, tl_dtype_row_size(dt, n), tl_dtype_row_size(wt->dot_type, n)};
    float *f = malloc((size_t)((rows > tok ? rows : tok) * n) * sizeof(float));
    assert_non_null(f);
    m.w = malloc(m.ws * (size_t)rows);
    m.a = malloc(m.as * (size_t)tok);
    assert_non_null(m.w);
    assert_non_null(m.a);
    for (int64_t i = 0; i < rows * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -8.0f : 7.0f) : frand() * (float)(1 + (i / 16) % 7);
    assert_int_equal(tl_quantize_rows(dt, f, m.w, rows, n), TL_OK);
    for (int64_t i = 0; i < tok * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -1.0f : 1.0f) : frand() * 3;
    for (int64_t k = 0; k < tok; k++)
        at->from_f32(f + k * n, (char *)m.a + (size_t)k * m.as, n);
    free(f);
    return m;
}

static void drop(mats *m) {
    free(m->w);
    free(m->a);
}

/* out[k * rows + r] for r in [r0, r1) from the scalar reference dot */
static void reference(const mats *m, int64_t r0, int64_t r1, float *out) {
    tl_vec_dot_fn dot = tl_quant_vec_dot_order_of(m->dt, TL_DOT_ORDER_ROW, false);
    for (int64_t k = 0; k < m->tok; k++)
        for (int64_t r = r0; r < r1; r++)
            dot(m->n, &out[k * m->rows + r], (const char *)m->w + (size_t)r * m->ws,
                (const char *)m->a + (size_t)k * m->as);
}

static void compare(const mats *mm, int64_t r0, int64_t r1, int kind) {
    const mats m = *mm;
    tl_dtype dt = m.dt;
    int64_t rows = m.rows, n = m.n, tok = m.tok;
    size_t bytes = (size_t)(rows * tok) * sizeof(float);
    float *got = calloc(1, bytes), *want = calloc(1, bytes);
    reference(&m, r0, r1, want);
    assert_int_equal(tl_ktile8_row_gemm(dt, TL_DOT_ORDER_ROW, n, m.w, m.ws, r0, r1, m.a, m.as, tok,
                                        got, (size_t)rows),
                     TL_OK);
    if (memcmp(got, want, bytes) != 0)
        fail_msg("%s rows %lld [%lld, %lld) n %lld tokens %lld kind %d: differs", tl_dtype_name(dt),
                 (long long)rows, (long long)r0, (long long)r1, (long long)n, (long long)tok, kind);
    /* the rows split in three at odd places, as threads would: the same bits */
    memset(got, 0, bytes);
    int64_t a = r0 + (r1 - r0) / 3, b = a + (r1 - a) / 2 + 1;
    if (b > r1) b = r1;
    int64_t cut[4] = {r0, a, b, r1};
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_ktile8_row_gemm(dt, TL_DOT_ORDER_ROW, n, m.w, m.ws, cut[i], cut[i + 1],
                                            m.a, m.as, tok, got, (size_t)rows),
                         TL_OK);
    assert_memory_equal(got, want, bytes);
    /* and what the matmul selects on this CPU gives the same */
    memset(got, 0, bytes);
    assert_int_equal(tl_quant_gemm_rows_best(dt, TL_DOT_ORDER_ROW, n, m.w, m.ws, r0, r1, m.a, m.as,
                                             tok, got, (size_t)rows),
                     TL_OK);
    assert_memory_equal(got, want, bytes);
    free(got);
    free(want);
}

static void check(tl_dtype dt, int64_t rows, int64_t n, int64_t tok, int64_t r0, int64_t r1,
                  int kind) {
    mats m = make(dt, rows, n, tok, kind);
    compare(&m, r0, r1, kind);
    drop(&m);
}

/* Q8_0 weight codes of -128 (no quantizer writes them, a file may hold them):
** |w| = 128 as an unsigned byte, still exact. */
static void test_q8_0_tile_takes_minus_128(void **state) {
    (void)state;
    if (!tl_ktile8_available()) skip();
    mats m = make(TL_DTYPE_Q8_0, 11, 256, 10, 0);
    for (int64_t r = 0; r < m.rows; r++)
        for (int64_t b = 0; b < m.n / 32; b++)
            for (int e = r % 3; e < 32; e += 3)
                ((signed char *)m.w)[(size_t)r * m.ws + (size_t)b * 34 + 2 + (size_t)e] = -128;
    compare(&m, 0, m.rows, 2);
    drop(&m);
}

static void test_row_tiles_match_scalar(void **state) {
    (void)state;
    if (!tl_ktile8_available()) skip();
    for (size_t c = 0; c < N_TYPES; c++) {
        tl_dtype dt = types[c];
        assert_true(tl_ktile8_row_supports(dt, TL_DOT_ORDER_ROW));
        for (int64_t tok = 1; tok <= 9; tok++) {
            check(dt, 13, 512, tok, 0, 13, 0); /* a full group + 5 rows */
            check(dt, 7, 256, tok, 0, 7, 0);   /* less than a group */
        }
        check(dt, 1, 256, 3, 0, 1, 0);
        check(dt, 37, 256, 5, 3, 37, 0);  /* range starting at 3 */
        check(dt, 24, 2048, 9, 0, 24, 0); /* TinyLlama row length */
        check(dt, 19, 2048, 6, 1, 18, 1); /* extreme codes */
        check(dt, 11, 5632, 4, 0, 11, 0); /* the FFN down row length */
        if (dt == TL_DTYPE_Q8_0) {
            check(dt, 9, 96, 5, 0, 9, 0); /* an odd block count */
            check(dt, 17, 32, 2, 0, 17, 1);
        }
    }
}

/* Offset of a code byte inside a block of each type (Q5_K: qs, Q6_K: ql, Q8_0: qs). */
static size_t code_byte(tl_dtype dt) {
    return dt == TL_DTYPE_Q5_K ? 150 : dt == TL_DTYPE_Q6_K ? 100 : 20;
}

/* The comparison can fail: one code byte of row 5 changed must change that
** row's outputs for every token, and only that row's. */
static void test_row_tiles_detect_a_wrong_weight(void **state) {
    (void)state;
    if (!tl_ktile8_available()) skip();
    for (size_t c = 0; c < N_TYPES; c++) {
        tl_dtype dt = types[c];
        int64_t rows = 13, n = 512, tok = 5;
        mats m = make(dt, rows, n, tok, 0);
        size_t bytes = (size_t)(rows * tok) * sizeof(float);
        float *got = calloc(1, bytes), *want = calloc(1, bytes);
        reference(&m, 0, rows, want);
        const tl_type_traits *t = tl_dtype_traits(dt);
        unsigned char *byte = (unsigned char *)m.w + 5 * m.ws + t->size + code_byte(dt);
        *byte ^= 0x11; /* block 1 of row 5 */
        assert_int_equal(tl_ktile8_row_gemm(dt, TL_DOT_ORDER_ROW, n, m.w, m.ws, 0, rows, m.a, m.as,
                                            tok, got, (size_t)rows),
                         TL_OK);
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
        drop(&m);
    }
}

static void test_row_tiles_errors(void **state) {
    (void)state;
    if (!tl_ktile8_available()) skip();
    float o[16] = {0};
    assert_false(tl_ktile8_row_supports(TL_DTYPE_Q4_K, TL_DOT_ORDER_REPACK));
    assert_false(tl_ktile8_row_supports(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW));
    assert_int_equal(
        tl_ktile8_row_gemm(TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, 100, o, 210, 0, 8, o, 292, 1, o, 8),
        TL_ERR_ARG);
    assert_int_equal(
        tl_ktile8_row_gemm(TL_DTYPE_Q5_K, TL_DOT_ORDER_ROW, 256, o, 176, 4, 2, o, 292, 1, o, 8),
        TL_ERR_ARG);
    assert_int_equal(
        tl_ktile8_row_gemm(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW, 256, o, 144, 0, 8, o, 292, 1, o, 8),
        TL_ERR_UNSUPPORTED);
    assert_int_equal(
        tl_ktile8_row_gemm(TL_DTYPE_Q8_0, TL_DOT_ORDER_ROW, 256, o, 272, 3, 3, o, 272, 1, o, 8),
        TL_OK);
}

static void test_row_tiles_present(void **state) {
    (void)state;
    print_message("ktile8_row (AVX2: Q5_K, Q6_K, Q8_0): %s\n",
                  tl_ktile8_available() ? "tested" : "SKIPPED, no AVX2 (or TL_NO_AVX2=1)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_tiles_match_scalar),
        cmocka_unit_test(test_row_tiles_detect_a_wrong_weight),
        cmocka_unit_test(test_q8_0_tile_takes_minus_128),
        cmocka_unit_test(test_row_tiles_errors),
        cmocka_unit_test(test_row_tiles_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
