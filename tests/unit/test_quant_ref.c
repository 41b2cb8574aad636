/* tests/unit/test_quant_ref.c -- every block type against llama.cpp itself.
**
** tests/data/quant/ holds outputs of ggml 0.23.0's AVX2 CPU build on fixed
** inputs (recorded by tests/data/quant/record.mjs; see its manifest.json):
** 16 rows x 256 floats (x.f32: gaussians, .5-tie grids, zero blocks, tiny and
** near-fp16-max values, ...) and 4 activation rows (y.f32).  Checked here:
**   - tl_quantize_rows(T, x) == ggml_quantize_chunk bytes          (T.bin)
**   - to_f32(T.bin) == ggml's dequantize_row, bit for bit          (T.deq.f32)
**   - the activation quantizers == the CPU backend's from_float    (act_*.bin)
**   - vec_dot(T row, activation row) == ggml's vec_dot, bit for bit (T.dot.f32),
**     for the scalar kernels and for the AVX2 ones; and on rows of 2048
**     (long/, recorded by record.mjs too) also for the matmul kernels the
**     selection picks (one-token kernels, 16-row tiles);
**   - llama.cpp's own Q4_K and Q2_K matmuls in their three float orders (matmul/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cpu.h"
#include "runtime/quant.h"

#define ROWS  16
#define NX    256
#define YROWS 4

static void *load(const char *name, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/quant/%s", TL_TEST_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (size) *size = (size_t)n;
    return p;
}

static const struct {
    const char *name;
    tl_dtype dt;
} types[] = {
    {"q4_0", TL_DTYPE_Q4_0}, {"q4_1", TL_DTYPE_Q4_1}, {"q5_0", TL_DTYPE_Q5_0},
    {"q5_1", TL_DTYPE_Q5_1}, {"q8_0", TL_DTYPE_Q8_0}, {"q2_K", TL_DTYPE_Q2_K},
    {"q3_K", TL_DTYPE_Q3_K}, {"q4_K", TL_DTYPE_Q4_K}, {"q5_K", TL_DTYPE_Q5_K},
    {"q6_K", TL_DTYPE_Q6_K}, {"f16", TL_DTYPE_F16},
};
#define NTYPES (sizeof types / sizeof types[0])

static void test_quantizers_match_llama_cpp(void **state) {
    (void)state;
    float *x = load("x.f32", NULL);
    int bad_types = 0;
    for (size_t t = 0; t < NTYPES; t++) {
        size_t n;
        char name[64];
        snprintf(name, sizeof name, "%s.bin", types[t].name);
        uint8_t *ref = load(name, &n);
        size_t row = tl_dtype_row_size(types[t].dt, NX);
        assert_int_equal(n, row * ROWS);
        uint8_t *got = malloc(n);
        assert_int_equal(tl_quantize_rows(types[t].dt, x, got, ROWS, NX), TL_OK);
        const tl_type_traits *tr = tl_dtype_traits(types[t].dt);
        int bad = 0;
        for (size_t b = 0; b < n / tr->size; b++)
            if (memcmp(got + b * tr->size, ref + b * tr->size, tr->size) != 0) {
                if (bad < 3)
                    print_message("%s: block %zu (row %zu) differs\n", types[t].name, b,
                                  b * tr->size / row);
                bad++;
            }
        if (bad) {
            print_message("%s: %d of %zu blocks differ from ggml_quantize_chunk\n", types[t].name,
                          bad, n / tr->size);
            bad_types++;
        }
        free(got);
        free(ref);
    }
    free(x);
    assert_int_equal(bad_types, 0);
}

static void test_dequantize_matches_llama_cpp(void **state) {
    (void)state;
    int bad_types = 0;
    for (size_t t = 0; t < NTYPES; t++) {
        char name[64];
        snprintf(name, sizeof name, "%s.bin", types[t].name);
        uint8_t *q = load(name, NULL);
        snprintf(name, sizeof name, "%s.deq.f32", types[t].name);
        float *ref = load(name, NULL);
        float *got = malloc(sizeof(float) * ROWS * NX);
        assert_int_equal(tl_dequantize_rows(types[t].dt, q, got, ROWS, NX), TL_OK);
        int bad = 0;
        for (int i = 0; i < ROWS * NX; i++)
            if (memcmp(&got[i], &ref[i], 4) != 0) {
                if (bad < 3)
                    print_message("%s[%d]: %.9g vs ggml %.9g\n", types[t].name, i, (double)got[i],
                                  (double)ref[i]);
                bad++;
            }
        if (bad) bad_types++;
        free(got);
        free(ref);
        free(q);
    }
    assert_int_equal(bad_types, 0);
}

/* Activation quantizers: the CPU backend's from_float for Q8_0/Q8_1/Q8_K/F16. */
static void check_act(tl_dtype dt, const char *file, bool avx2) {
    float *y = load("y.f32", NULL);
    size_t n;
    uint8_t *ref = load(file, &n);
    size_t row = tl_dtype_row_size(dt, NX);
    assert_int_equal(n, row * YROWS);
    tl_from_f32_fn fn;
    tl_quant_kernels k;
    if (tl_quant_kernels_of(dt, avx2, &k))
        fn = k.from_f32;
    else
        fn = tl_dtype_traits(dt)->from_f32;
    uint8_t *got = calloc(1, n);
    for (int r = 0; r < YROWS; r++)
        fn(y + r * NX, got + r * row, NX);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != ref[i] && !bad++) first = i;
    if (bad)
        print_message("%s (%s): %zu bytes differ, first at %zu (%02x vs %02x)\n", file,
                      avx2 ? "avx2" : "scalar", bad, first, got[first], ref[first]);
    free(got);
    free(ref);
    free(y);
    assert_int_equal(bad, 0);
}

static void test_activation_quantizers_match_llama_cpp(void **state) {
    (void)state;
    for (int v = 0; v < 2; v++) {
        bool avx2 = v == 1;
        if (avx2 && !tl_cpu_use_avx2()) continue;
        check_act(TL_DTYPE_Q8_0, "act_q8_0.bin", avx2);
        check_act(TL_DTYPE_Q8_1, "act_q8_1.bin", avx2);
        check_act(TL_DTYPE_Q8_K, "act_q8_K.bin", avx2);
        check_act(TL_DTYPE_Q8_K, "ref_q8_K.bin", avx2);
    }
    check_act(TL_DTYPE_F16, "act_f16.bin", false);
}

/* The recorded dots of dir (ROWS x YROWS of NX, or long/: LROWS x LY of NL) against
** vec_dot (scalar or AVX2), or with best against the matmul kernels the selection
** picks for the ROW order (the one-token kernel per activation row and, for several
** rows at once, the tiles: 16-row groups). */
#define LROWS 16
#define NL    2048
#define LY    2
static void check_dots_in(const char *dir, int rows, int n, int yrows, bool avx2, bool best) {
    int bad_types = 0;
    const char *what = best ? "selected kernels" : avx2 ? "avx2" : "scalar";
    for (size_t t = 0; t < NTYPES; t++) {
        tl_quant_kernels k;
        if (!tl_quant_kernels_of(types[t].dt, avx2, &k)) {
            const tl_type_traits *tr = tl_dtype_traits(types[t].dt);
            k.vec_dot = tr->vec_dot;
            k.dot_type = tr->dot_type;
        }
        char name[64];
        snprintf(name, sizeof name, "%s%s.bin", dir, types[t].name);
        uint8_t *q = load(name, NULL);
        snprintf(name, sizeof name, "%s%s.dot.f32", dir, types[t].name);
        float *ref = load(name, NULL);
        snprintf(name, sizeof name, "%sact_%s.bin", dir, tl_dtype_name(k.dot_type));
        uint8_t *act = load(name, NULL);
        size_t row = tl_dtype_row_size(types[t].dt, n), arow = tl_dtype_row_size(k.dot_type, n);
        float *got = malloc(sizeof(float) * (size_t)(rows * yrows) * 2);
        assert_non_null(got);
        float *gemm = got + rows * yrows;
        if (best) {
            for (int j = 0; j < yrows; j++) {
                float *one = malloc(sizeof(float) * (size_t)rows);
                assert_non_null(one);
                assert_int_equal(tl_quant_gemv_rows_best(types[t].dt, TL_DOT_ORDER_ROW, n, q, row,
                                                         0, rows, act + j * arow, one),
                                 TL_OK);
                for (int r = 0; r < rows; r++)
                    got[r * yrows + j] = one[r];
                free(one);
            }
            float *all = malloc(sizeof(float) * (size_t)(rows * yrows));
            assert_non_null(all);
            assert_int_equal(tl_quant_gemm_rows_best(types[t].dt, TL_DOT_ORDER_ROW, n, q, row, 0,
                                                     rows, act, arow, yrows, all, (size_t)rows),
                             TL_OK);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < yrows; j++)
                    gemm[r * yrows + j] = all[j * rows + r];
            free(all);
        } else {
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < yrows; j++)
                    k.vec_dot(n, &got[r * yrows + j], q + r * row, act + j * arow);
        }
        int bad = 0;
        double worst = 0;
        for (int pass = 0; pass < (best ? 2 : 1); pass++)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < yrows; j++) {
                    float g = (pass ? gemm : got)[r * yrows + j], want = ref[r * yrows + j];
                    if (memcmp(&g, &want, 4) != 0) {
                        double rel = fabs((double)g - want) / (fabs(want) + 1e-30);
                        if (rel > worst) worst = rel;
                        if (bad < 2)
                            print_message("%s%s %s%s row %d act %d: %.9g vs ggml %.9g\n", dir,
                                          types[t].name, what, pass ? " (several rows)" : "", r, j,
                                          (double)g, (double)want);
                        bad++;
                    }
                }
        if (bad) {
            print_message("%s%s (%s): %d dots differ, worst rel %.3g\n", dir, types[t].name, what,
                          bad, worst);
            bad_types++;
        }
        free(got);
        free(q);
        free(ref);
        free(act);
    }
    assert_int_equal(bad_types, 0);
}

static void check_dots(bool avx2) {
    check_dots_in("", ROWS, NX, YROWS, avx2, false);
}

/* Rows of 8 super-blocks (64 blocks): a float kept across blocks (Q5_K's mins
** term, Q4_1's and Q5_1's) rounds differently when llama.cpp's compiler fused its
** multiply-add; one-block rows cannot show it. */
static void test_long_rows_match_llama_cpp(void **state) {
    (void)state;
    check_dots_in("long/", LROWS, NL, LY, false, false);
    if (tl_cpu_use_avx2()) check_dots_in("long/", LROWS, NL, LY, true, false);
    check_dots_in("long/", LROWS, NL, LY, false, true);
}

static void test_scalar_dots_match_llama_cpp(void **state) {
    (void)state;
    check_dots(false);
}

static void test_avx2_dots_match_llama_cpp(void **state) {
    (void)state;
    if (!tl_cpu_use_avx2()) skip();
    check_dots(true);
}

/* llama.cpp's own Q4_K and Q2_K matmuls (see tests/data/quant/matmul/README.md): with
** repack on, tokens 0-3 in the repacked GEMM order and token 4 in the GEMV
** order; with --no-repack the one-row order.  Bit for bit. */
static void check_k_matmul(tl_dtype dt, const char *tag, bool repack) {
    const int64_t n = 256, rows = 704;
    const char *tn = tl_dtype_name(dt);
    size_t nw, ni, no;
    char wname[128];
    snprintf(wname, sizeof wname, "matmul/synthetic-%s.ffn_up.%s", tn, tn);
    uint8_t *w = load(wname, &nw);
    char name[128];
    snprintf(name, sizeof name, "matmul/synthetic-%s.%s.in.f32", tn, tag);
    float *in = load(name, &ni);
    snprintf(name, sizeof name, "matmul/synthetic-%s.%s.out.f32", tn, tag);
    float *ref = load(name, &no);
    size_t wrow = tl_dtype_row_size(dt, n), arow = tl_dtype_row_size(TL_DTYPE_Q8_K, n);
    assert_int_equal(nw, wrow * rows);
    int64_t toks = (int64_t)(ni / sizeof(float)) / n;
    assert_int_equal(no, sizeof(float) * (size_t)(toks * rows));
    char *act = malloc(arow * (size_t)toks);
    float *out = calloc((size_t)(toks * rows), sizeof(float));
    for (int64_t k = 0; k < toks; k++)
        tl_dtype_traits(TL_DTYPE_Q8_K)->from_f32(in + k * n, act + k * arow, n);
    tl_dot_order order = repack ? tl_quant_llama_order(dt, rows) : TL_DOT_ORDER_ROW;
    assert_int_equal(order, repack ? TL_DOT_ORDER_REPACK : TL_DOT_ORDER_ROW);
    assert_int_equal(tl_quant_gemm_rows_order(dt, order, n, w, wrow, 0, rows, act, arow, toks, out,
                                              (size_t)rows),
                     TL_OK);
    int64_t same = 0;
    for (int64_t i = 0; i < toks * rows; i++)
        same += memcmp(&out[i], &ref[i], 4) == 0;
    /* per token, with the order llama.cpp used for that token */
    int64_t same1 = 0;
    for (int64_t k = 0; k < toks; k++) {
        tl_dot_order o = order;
        if (repack && k < toks - toks % 4) o = TL_DOT_ORDER_REPACK_GEMM;
        for (int v = 0; v < 2; v++) {
            if (v && !tl_cpu_use_avx2()) continue;
            tl_vec_dot_fn dot = tl_quant_vec_dot_order_of(dt, o, v == 1);
            for (int64_t r = 0; r < rows; r++) {
                float got;
                dot(n, &got, w + r * wrow, act + k * arow);
                same1 += memcmp(&got, &ref[k * rows + r], 4) == 0;
            }
        }
    }
    int64_t variants = tl_cpu_use_avx2() ? 2 : 1;
    print_message("%s %s: gemm_rows %lld/%lld, single-row dots %lld/%lld bit-identical\n", tn, tag,
                  (long long)same, (long long)(toks * rows), (long long)same1,
                  (long long)(variants * toks * rows));
    assert_int_equal(same, toks * rows);
    assert_int_equal(same1, variants * toks * rows);
    free(act);
    free(out);
    free(w);
    free(in);
    free(ref);
}

static void test_k_quant_matmul_matches_llama_cpp(void **state) {
    (void)state;
    check_k_matmul(TL_DTYPE_Q4_K, "rep5", true);
    check_k_matmul(TL_DTYPE_Q4_K, "norep5", false);
    check_k_matmul(TL_DTYPE_Q2_K, "rep5", true);
    check_k_matmul(TL_DTYPE_Q2_K, "norep5", false);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantizers_match_llama_cpp),
        cmocka_unit_test(test_dequantize_matches_llama_cpp),
        cmocka_unit_test(test_activation_quantizers_match_llama_cpp),
        cmocka_unit_test(test_scalar_dots_match_llama_cpp),
        cmocka_unit_test(test_avx2_dots_match_llama_cpp),
        cmocka_unit_test(test_long_rows_match_llama_cpp),
        cmocka_unit_test(test_k_quant_matmul_matches_llama_cpp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
