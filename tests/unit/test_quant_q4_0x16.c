/* tests/unit/test_quant_q4_0x16.c -- Q4_0 weights laid out ahead of time
** (runtime/quant/q4_0x16.h): the layout byte for byte, and the GEMV and GEMM
** over it bit for bit equal to the quant module's repacked order on the GGUF
** rows, for several row lengths, group ranges, token counts and extreme codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/quant/q4_0x16.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* W [rows][n] Q4_0, A [tok][n] Q8_0; kind 1: only the extreme codes */
static void make(int64_t rows, int64_t n, int64_t tok, int kind, void **w, void **a) {
    float *f = malloc((size_t)((rows > tok ? rows : tok) * n) * sizeof(float));
    assert_non_null(f);
    *w = malloc(tl_dtype_row_size(TL_DTYPE_Q4_0, n) * (size_t)rows);
    *a = malloc(tl_dtype_row_size(TL_DTYPE_Q8_0, n) * (size_t)tok);
    for (int64_t i = 0; i < rows * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -8.0f : 7.0f) : frand() * (1 + (i / 32) % 7);
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q4_0, f, *w, rows, n), TL_OK);
    for (int64_t i = 0; i < tok * n; i++)
        f[i] = kind == 1 ? (frand() < 0 ? -1.0f : 1.0f) : frand() * 3;
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q8_0, f, *a, tok, n), TL_OK);
    free(f);
}

static void test_layout(void **state) {
    (void)state;
    int64_t rows = 32, n = 64, nb = 2;
    size_t rs = tl_dtype_row_size(TL_DTYPE_Q4_0, n);
    void *w, *a;
    make(rows, n, 1, 0, &w, &a);
    char *p = malloc(rs * (size_t)rows), *q = malloc(rs * (size_t)rows);
    tl_q4_0x16_pack_scalar(w, rs, rows, n, p);
    tl_q4_0x16_pack(w, rs, rows, n, q); /* the vector packer, where there is one */
    assert_memory_equal(p, q, rs * (size_t)rows);
    for (int64_t g = 0; g < 2; g++)
        for (int64_t b = 0; b < nb; b++)
            for (int r = 0; r < 16; r++) {
                const char *blk = (const char *)w + (size_t)(16 * g + r) * rs + (size_t)b * 18;
                const char *o = p + (size_t)(g * nb + b) * TL_Q4_0X16_BLOCK;
                assert_memory_equal(o + 2 * r, blk, 2); /* the scale */
                for (int j = 0; j < 4; j++)
                    assert_memory_equal(o + 32 + 64 * j + 4 * r, blk + 2 + 4 * j, 4);
            }
    free(p);
    free(q);
    free(w);
    free(a);
}

static void check(int64_t rows, int64_t n, int64_t tok, int64_t r0, int64_t r1, int kind) {
    void *w, *a;
    make(rows, n, tok, kind, &w, &a);
    size_t ws = tl_dtype_row_size(TL_DTYPE_Q4_0, n), as = tl_dtype_row_size(TL_DTYPE_Q8_0, n);
    int64_t rows16 = rows / 16 * 16;
    char *p = malloc(ws * (size_t)rows16 + 1);
    tl_q4_0x16_pack(w, ws, rows16, n, p);
    float *got = calloc((size_t)(rows * tok), sizeof(float));
    float *want = calloc((size_t)(rows * tok), sizeof(float));
    if (tl_q4_0x16_gemv_available())
        for (int64_t k = 0; k < tok; k++) {
            const char *ak = (const char *)a + (size_t)k * as;
            assert_int_equal(tl_quant_gemv_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, ws,
                                                      r0, r1, ak, want + k * rows),
                             TL_OK);
            assert_int_equal(tl_q4_0x16_gemv(n, p, r0, r1, ak, got + k * rows), TL_OK);
            assert_memory_equal(got + k * rows, want + k * rows, (size_t)rows * sizeof(float));
        }
    if (tl_q4_0x16_gemm_available()) {
        memset(got, 0, (size_t)(rows * tok) * sizeof(float));
        memset(want, 0, (size_t)(rows * tok) * sizeof(float));
        assert_int_equal(tl_quant_gemm_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w, ws, r0,
                                                  r1, a, as, tok, want, (size_t)rows),
                         TL_OK);
        assert_int_equal(tl_q4_0x16_gemm(n, p, r0, r1, a, as, tok, got, (size_t)rows), TL_OK);
        assert_memory_equal(got, want, (size_t)(rows * tok) * sizeof(float));
        /* the activations laid out once (tokens set last first), two calls on halves */
        tl_q4_0x16_acts *pa = tl_q4_0x16_acts_new(n, tok);
        assert_non_null(pa);
        for (int64_t k = tok - 1; k >= 0; k--)
            tl_q4_0x16_acts_set(pa, k, (const char *)a + (size_t)k * as);
        memset(got, 0, (size_t)(rows * tok) * sizeof(float));
        int64_t mid = r0 + (r1 - r0) / 32 * 16;
        assert_int_equal(tl_q4_0x16_gemm_acts(p, r0, mid, r1, pa, got, (size_t)rows), TL_OK);
        assert_int_equal(tl_q4_0x16_gemm_acts(p, mid, r1, r1, pa, got, (size_t)rows), TL_OK);
        assert_memory_equal(got, want, (size_t)(rows * tok) * sizeof(float));
        tl_q4_0x16_acts_free(pa);
    }
    free(got);
    free(want);
    free(p);
    free(w);
    free(a);
}

static void test_matches_repack_order(void **state) {
    (void)state;
    check(16, 32, 1, 0, 16, 0);
    check(48, 256, 3, 16, 48, 0);
    check(64, 2048, 9, 0, 64, 0);
    check(40, 96, 13, 16, 32, 1); /* extreme codes; rows past the last group untouched */
    check(32, 5632, 2, 0, 32, 0);
    check(32, 128, 8, 16, 16, 0); /* an empty range writes nothing */
}

static void test_errors(void **state) {
    (void)state;
    char buf[4096] = {0};
    float out[64];
    if (!tl_q4_0x16_gemv_available()) {
        assert_int_equal(tl_q4_0x16_gemv(32, buf, 0, 16, buf, out), TL_ERR_UNSUPPORTED);
        return;
    }
    assert_int_equal(tl_q4_0x16_gemv(32, buf, 8, 16, buf, out), TL_ERR_ARG);
    assert_int_equal(tl_q4_0x16_gemv(33, buf, 0, 16, buf, out), TL_ERR_ARG);
    assert_int_equal(tl_q4_0x16_gemv(32 * 1025, buf, 0, 16, buf, out), TL_ERR_ARG);
    if (tl_q4_0x16_gemm_available()) {
        assert_int_equal(tl_q4_0x16_gemm(32, buf, 0, 24, buf, 34, 1, out, 64), TL_ERR_ARG);
        assert_null(tl_q4_0x16_acts_new(33, 2)); /* not whole blocks */
        assert_int_equal(tl_q4_0x16_gemm_acts(buf, 0, 16, 16, NULL, out, 64), TL_ERR_ARG);
        tl_q4_0x16_acts *pa = tl_q4_0x16_acts_new(32, 2);
        assert_non_null(pa);
        tl_q4_0x16_acts_set(pa, 2, buf); /* past the tokens: ignored */
        assert_int_equal(tl_q4_0x16_gemm_acts(buf, 8, 16, 16, pa, out, 64), TL_ERR_ARG);
        tl_q4_0x16_acts_free(pa);
        tl_q4_0x16_acts_free(NULL);
    } else {
        assert_null(tl_q4_0x16_acts_new(32, 2));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_matches_repack_order),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
