/* tests/unit/test_quant_kernels.c -- properties of the quantized kernels that
** need no reference data: AVX2 == scalar bit for bit, the quantized dot
** within its derived bounds of the float dots, quantization error bounds,
** edge cases (zeros, huge values, NaN), dispatch and TL_NO_AVX2, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cpu.h"
#include "runtime/half.h"
#include "runtime/quant.h"

static const tl_dtype weight_types[] = {
    TL_DTYPE_Q4_0, TL_DTYPE_Q4_1, TL_DTYPE_Q5_0, TL_DTYPE_Q5_1, TL_DTYPE_Q8_0, TL_DTYPE_Q2_K,
    TL_DTYPE_Q3_K, TL_DTYPE_Q4_K, TL_DTYPE_Q5_K, TL_DTYPE_Q6_K, TL_DTYPE_F16,
};
#define NW (sizeof weight_types / sizeof weight_types[0])

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static float grand(void) {
    double u = urand() + 1e-300, v = urand();
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* A row mixing scales block to block, some zero blocks, outliers and ties. */
static void fill_row(float *x, int64_t n, int kind) {
    for (int64_t i = 0; i < n; i++) {
        float s = (float)pow(10.0, (double)((i / 32) % 7) - 3.0);
        switch (kind % 5) {
        case 0:
            x[i] = grand() * s;
            break;
        case 1:
            x[i] = (i / 32) % 5 == 2 ? 0.0f : grand();
            break;
        case 2:
            x[i] = (float)((int)(urand() * 16) - 8) * 0.5f;
            break;
        case 3:
            x[i] = grand() * (i % 29 == 3 ? 40.0f : 1.0f);
            break;
        default:
            x[i] = (float)urand() * 3.0f + 0.25f;
            break;
        }
    }
}

static void *row_alloc(tl_dtype dt, int64_t n) {
    return calloc(1, tl_dtype_row_size(dt, n) + 64);
}

/* ---- AVX2 kernels agree with the scalar references bit for bit ---------- */
static void test_avx2_equals_scalar(void **state) {
    (void)state;
    if (!tl_cpu_use_avx2()) skip();
    const int64_t n = 4096;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    int compared = 0;
    for (size_t t = 0; t < NW; t++) {
        tl_quant_kernels s, v;
        assert_true(tl_quant_kernels_of(weight_types[t], false, &s));
        assert_true(tl_quant_kernels_of(weight_types[t], true, &v));
        tl_quant_kernels as, av;
        assert_true(tl_quant_kernels_of(s.dot_type, false, &as));
        assert_true(tl_quant_kernels_of(s.dot_type, true, &av));
        void *qx = row_alloc(weight_types[t], n), *qy = row_alloc(s.dot_type, n);
        void *qy2 = row_alloc(s.dot_type, n);
        for (int rep = 0; rep < 20; rep++) {
            fill_row(x, n, rep);
            fill_row(y, n, rep + 2);
            assert_int_equal(tl_quantize_rows(weight_types[t], x, qx, 1, n), TL_OK);
            as.from_f32(y, qy, n);
            av.from_f32(y, qy2, n);
            assert_memory_equal(qy, qy2, tl_dtype_row_size(s.dot_type, n));
            for (int o = 0; o < 3; o++) {
                tl_vec_dot_fn ds =
                    tl_quant_vec_dot_order_of(weight_types[t], (tl_dot_order)o, false);
                tl_vec_dot_fn dv =
                    tl_quant_vec_dot_order_of(weight_types[t], (tl_dot_order)o, true);
                if (o == 0) assert_ptr_equal(ds, s.vec_dot);
                if (o == 0) assert_ptr_equal(dv, v.vec_dot);
                for (int64_t len = 256; len <= n; len *= 4) {
                    float a, b;
                    ds(len, &a, qx, qy);
                    dv(len, &b, qx, qy);
                    if (memcmp(&a, &b, 4) != 0)
                        fail_msg("%s order %d n=%lld rep %d: scalar %.9g avx2 %.9g",
                                 tl_dtype_name(weight_types[t]), o, (long long)len, rep, (double)a,
                                 (double)b);
                    compared++;
                }
            }
        }
        free(qx);
        free(qy);
        free(qy2);
    }
    free(x);
    free(y);
    assert_true(compared > 0);
}

/* ---- dot4 == four single-row dots, bit for bit (scalar and AVX2) ------- */
/* F32 and F16 in both of llama.cpp's orders (quant/f32.c): the AVX2 kernels give
** the scalar ones' bits, over lengths with and without a 32-element body, a tail,
** and a length sgemm would refuse (75); and the orders differ somewhere. */
static void test_f32_f16_orders(void **state) {
    (void)state;
    const int64_t ns[] = {8, 40, 64, 75, 256};
    static float x[256], y[256];
    static uint16_t hx[256], hy[256];
    int differ = 0;
    for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++)
        for (int rep = 0; rep < 4; rep++) {
            int64_t n = ns[c];
            fill_row(x, n, rep);
            fill_row(y, n, rep + 7);
            tl_dtype_traits(TL_DTYPE_F16)->from_f32(x, hx, n);
            tl_dtype_traits(TL_DTYPE_F16)->from_f32(y, hy, n);
            for (int d = 0; d < 2; d++) {
                tl_dtype dt = d ? TL_DTYPE_F16 : TL_DTYPE_F32;
                const void *a = d ? (const void *)hx : x, *b = d ? (const void *)hy : y;
                float r[2], v[2];
                for (int o = 0; o < 2; o++) {
                    tl_dot_order ord = o ? TL_DOT_ORDER_REPACK_GEMM : TL_DOT_ORDER_ROW;
                    tl_quant_vec_dot_order_of(dt, ord, false)(n, &r[o], a, b);
                    tl_quant_vec_dot_order_of(dt, ord, true)(n, &v[o], a, b);
                    assert_memory_equal(&r[o], &v[o], sizeof r[o]);
                }
                differ += r[0] != r[1];
            }
        }
    assert_true(differ > 0);
}

static void test_dot4_equals_single_rows(void **state) {
    (void)state;
    const int64_t n = 2048;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (size_t t = 0; t < NW; t++) {
        tl_dtype dt = weight_types[t];
        for (int v = 0; v < 6; v++) {
            bool avx2 = v & 1;
            tl_dot_order order = (tl_dot_order)(v >> 1);
            if (avx2 && !tl_cpu_use_avx2()) continue;
            tl_quant_kernels k, a;
            assert_true(tl_quant_kernels_of(dt, avx2, &k));
            assert_true(tl_quant_kernels_of(k.dot_type, avx2, &a));
            tl_vec_dot4_fn dot4 = tl_quant_vec_dot4_order_of(dt, order, avx2);
            assert_non_null(dot4);
            k.vec_dot = tl_quant_vec_dot_order_of(dt, order, avx2);
            size_t row = tl_dtype_row_size(dt, n);
            char *w = calloc(4, row);
            void *qa = row_alloc(k.dot_type, n);
            for (int r = 0; r < 4; r++) {
                fill_row(x, n, r + 3 * (int)t);
                assert_int_equal(tl_quantize_rows(dt, x, w + r * row, 1, n), TL_OK);
            }
            fill_row(y, n, 7);
            a.from_f32(y, qa, n);
            /* rows in a scrambled order, as a caller taking far-apart rows would */
            const void *xs[4] = {w + 2 * row, w, w + 3 * row, w + row};
            float got[4];
            dot4(n, got, xs, qa);
            for (int r = 0; r < 4; r++) {
                float want;
                k.vec_dot(n, &want, xs[r], qa);
                if (memcmp(&got[r], &want, 4) != 0)
                    fail_msg("%s %s row %d: dot4 %.9g vs vec_dot %.9g", tl_dtype_name(dt),
                             avx2 ? "avx2" : "scalar", r, (double)got[r], (double)want);
            }
            free(w);
            free(qa);
        }
    }
    assert_ptr_equal(
        tl_quant_vec_dot4_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK),
        tl_quant_vec_dot4_order_of(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, tl_cpu_use_avx2()));
    assert_null(tl_quant_vec_dot4_order(TL_DTYPE_I32, TL_DOT_ORDER_ROW));
    /* the traits' vec_dot is the ROW order */
    assert_ptr_equal(tl_dtype_traits(TL_DTYPE_Q4_0)->vec_dot,
                     tl_quant_vec_dot_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW));
    assert_int_equal(tl_quant_llama_order(TL_DTYPE_Q4_0, 704), TL_DOT_ORDER_REPACK);
    /* the first (ROW-order) form of the API */
    assert_ptr_equal(tl_quant_vec_dot4(TL_DTYPE_Q4_0),
                     tl_quant_vec_dot4_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW));
    assert_ptr_equal(tl_quant_vec_dot4_of(TL_DTYPE_Q6_K, false),
                     tl_quant_vec_dot4_order_of(TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW, false));
    assert_ptr_equal(tl_quant_vec_dot_4x2(TL_DTYPE_Q4_0),
                     tl_quant_vec_dot_4x2_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW));
    assert_int_equal(tl_quant_llama_order(TL_DTYPE_Q4_0, 172), TL_DOT_ORDER_ROW);
    assert_int_equal(tl_quant_llama_order(TL_DTYPE_Q6_K, 32000), TL_DOT_ORDER_ROW);
    assert_int_equal(tl_quant_llama_order(TL_DTYPE_Q4_K, 32000), TL_DOT_ORDER_REPACK);
    assert_int_equal(tl_quant_llama_order(TL_DTYPE_Q8_0, 32000), TL_DOT_ORDER_ROW);
    /* types without repack kernels fall back to the row order */
    assert_ptr_equal(tl_quant_vec_dot_order(TL_DTYPE_Q6_K, TL_DOT_ORDER_REPACK_GEMM),
                     tl_quant_vec_dot_order(TL_DTYPE_Q6_K, TL_DOT_ORDER_ROW));
    assert_ptr_equal(tl_quant_vec_dot_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK_GEMM),
                     tl_quant_vec_dot_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK));
    free(x);
    free(y);
}

/* ---- gemv_rows == the single-row dot, for ranges that do not divide by 4 - */
static void test_gemv_rows(void **state) {
    (void)state;
    const int64_t n = 512, rows = 23;
    float *x = malloc(sizeof(float) * n), out[23], want[23];
    const tl_dtype dts[] = {TL_DTYPE_Q4_0, TL_DTYPE_Q6_K, TL_DTYPE_F16};
    for (int k = 0; k < 3; k++) {
        const tl_type_traits *t = tl_dtype_traits(dts[k]), *at = tl_dtype_traits(t->dot_type);
        size_t row = tl_dtype_row_size(dts[k], n);
        char *w = malloc(row * rows);
        for (int r = 0; r < rows; r++) {
            fill_row(x, n, r);
            assert_int_equal(tl_quantize_rows(dts[k], x, w + r * row, 1, n), TL_OK);
        }
        void *act = row_alloc(t->dot_type, n);
        fill_row(x, n, 9);
        at->from_f32(x, act, n);
        for (int o = 0; o < 2; o++) {
            tl_dot_order order = (tl_dot_order)o;
            tl_vec_dot_fn dot = tl_quant_vec_dot_order(dts[k], order);
            for (int r = 0; r < rows; r++)
                dot(n, &want[r], w + r * row, act);
            for (int64_t r0 = 0; r0 < 3; r0++) {
                memset(out, 0, sizeof out);
                assert_int_equal(
                    tl_quant_gemv_rows_order(dts[k], order, n, w, row, r0, rows, act, out), TL_OK);
                for (int64_t r = r0; r < rows; r++)
                    assert_memory_equal(&out[r], &want[r], 4);
            }
        }
        free(w);
        free(act);
    }
    assert_int_equal(
        tl_quant_gemv_rows_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW, 33, x, 18, 0, 1, x, out),
        TL_ERR_ARG);
    assert_int_equal(tl_quant_gemv_rows(TL_DTYPE_Q4_0, 33, x, 18, 0, 1, x, out), TL_ERR_ARG);
    free(x);
}

/* ---- gemm_rows == the single-row dot per (row, token), odd counts -------- */
static void test_gemm_rows(void **state) {
    (void)state;
    const int64_t n = 512, rows = 11, toks = 5;
    float *x = malloc(sizeof(float) * n);
    float out[5 * 16], want[5 * 16];
    const tl_dtype dts[] = {TL_DTYPE_Q4_0, TL_DTYPE_Q8_0, TL_DTYPE_Q6_K,
                            TL_DTYPE_F16,  TL_DTYPE_Q4_K, TL_DTYPE_F32};
    for (int k = 0; k < 6; k++) {
        const tl_type_traits *t = tl_dtype_traits(dts[k]), *at = tl_dtype_traits(t->dot_type);
        size_t row = tl_dtype_row_size(dts[k], n), arow = tl_dtype_row_size(t->dot_type, n);
        char *w = malloc(row * rows), *act = malloc(arow * toks);
        for (int r = 0; r < rows; r++) {
            fill_row(x, n, r);
            assert_int_equal(tl_quantize_rows(dts[k], x, w + r * row, 1, n), TL_OK);
        }
        for (int j = 0; j < toks; j++) {
            fill_row(x, n, j + 4);
            at->from_f32(x, act + j * arow, n);
        }
        for (int o = 0; o < 2; o++) {
            tl_dot_order order = (tl_dot_order)o;
            for (int j = 0; j < toks; j++) {
                /* REPACK: llama.cpp's batch split, GEMM order for groups of 4 tokens */
                tl_dot_order oj = order;
                if (order == TL_DOT_ORDER_REPACK && j < toks - toks % 4)
                    oj = TL_DOT_ORDER_REPACK_GEMM;
                /* F32/F16: sgemm's order for every token of a call of two or more */
                bool plain = dts[k] == TL_DTYPE_F16 || dts[k] == TL_DTYPE_F32;
                if (order == TL_DOT_ORDER_REPACK && plain) oj = TL_DOT_ORDER_REPACK_GEMM;
                tl_vec_dot_fn dot = tl_quant_vec_dot_order(dts[k], oj);
                for (int r = 0; r < rows; r++)
                    dot(n, &want[j * 16 + r], w + r * row, act + j * arow);
            }
            for (int64_t r0 = 0; r0 < 2; r0++) {
                memset(out, 0, sizeof out);
                assert_int_equal(tl_quant_gemm_rows_order(dts[k], order, n, w, row, r0, rows, act,
                                                          arow, toks, out, 16),
                                 TL_OK);
                if (order == TL_DOT_ORDER_ROW) { /* the first form of the API is the row order */
                    float out2[5 * 16] = {0};
                    assert_int_equal(
                        tl_quant_gemm_rows(dts[k], n, w, row, r0, rows, act, arow, toks, out2, 16),
                        TL_OK);
                    for (int j = 0; j < toks; j++)
                        for (int64_t r = r0; r < rows; r++)
                            assert_memory_equal(&out2[j * 16 + r], &want[j * 16 + r], 4);
                }
                for (int j = 0; j < toks; j++)
                    for (int64_t r = r0; r < rows; r++)
                        if (memcmp(&out[j * 16 + r], &want[j * 16 + r], 4) != 0)
                            fail_msg("%s order %d token %d row %lld: gemm %.9g dot %.9g",
                                     tl_dtype_name(dts[k]), o, j, (long long)r,
                                     (double)out[j * 16 + r], (double)want[j * 16 + r]);
            }
        }
        free(w);
        free(act);
    }
    if (tl_cpu_use_avx2()) {
        assert_non_null(tl_quant_vec_dot_4x2_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW));
        assert_non_null(tl_quant_vec_dot_4x2_order(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK));
    }
    free(x);
}

/* ---- the quantized dot against float dots -------------------------------
** With x the weight row and a the activation row, xq/aq their dequantized
** values:  (1) dot(xq, aq) in double differs from vec_dot only by float
** rounding of the per-block scale products and sums: <= 1e-5 * sum|xq*aq|
** (for Q4_1/Q5_1 also the fp16 rounding of s = d*sum(q): <= sum |m * s| *
** 2^-10 over the blocks); (2) against the unquantized activations, each
** element adds at most |xq_i| * |a_i - aq_i|, which we measure per element,
** so the bound is exact arithmetic, not a guess. */
static void test_quantized_dot_bounds(void **state) {
    (void)state;
    const int64_t n = 1024;
    float *x = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
    float *xq = malloc(sizeof(float) * n), *aq = malloc(sizeof(float) * n);
    for (size_t t = 0; t < NW; t++) {
        tl_dtype dt = weight_types[t];
        const tl_type_traits *tr = tl_dtype_traits(dt), *at = tl_dtype_traits(tr->dot_type);
        void *qx = row_alloc(dt, n), *qa = row_alloc(tr->dot_type, n);
        for (int rep = 0; rep < 10; rep++) {
            fill_row(x, n, rep);
            fill_row(a, n, rep + 1);
            assert_int_equal(tl_quantize_rows(dt, x, qx, 1, n), TL_OK);
            at->from_f32(a, qa, n);
            tr->to_f32(qx, xq, n);
            at->to_f32(qa, aq, n);
            double exact = 0, mag = 0, vs_f32 = 0, act_err = 0;
            for (int64_t i = 0; i < n; i++) {
                exact += (double)xq[i] * aq[i];
                mag += fabs((double)xq[i] * aq[i]);
                vs_f32 += (double)xq[i] * a[i];
                act_err += fabs((double)xq[i]) * fabs((double)a[i] - aq[i]);
            }
            double extra = 0;
            if (dt == TL_DTYPE_Q4_1 || dt == TL_DTYPE_Q5_1) {
                const uint8_t *bx = qx, *ba = qa;
                for (int64_t b = 0; b < n / 32; b++) {
                    tl_f16 m, s;
                    memcpy(&m, bx + b * tr->size + 2, 2);
                    memcpy(&s, ba + b * at->size + 2, 2);
                    extra += fabs((double)tl_f16_to_f32(m) * tl_f16_to_f32(s)) / 1024.0;
                }
            }
            float got;
            tr->vec_dot(n, &got, qx, qa);
            double bound1 = 1e-5 * mag + extra + 1e-30;
            if (fabs(got - exact) > bound1)
                fail_msg("%s rep %d: dot %.9g vs dequantized %.9g (bound %.3g)", tr->name, rep,
                         (double)got, exact, bound1);
            if (fabs(got - vs_f32) > bound1 + act_err * (1 + 1e-6))
                fail_msg("%s rep %d: dot %.9g vs f32 activations %.9g (bound %.3g)", tr->name, rep,
                         (double)got, vs_f32, bound1 + act_err);
        }
        free(qx);
        free(qa);
    }
    free(x);
    free(a);
    free(xq);
    free(aq);
}

/* ---- activation quantizers: element error <= 0.5 step (+ fp16 scale) ---- */
static void test_activation_error_bounds(void **state) {
    (void)state;
    const int64_t n = 1024;
    float *x = malloc(sizeof(float) * n), *xq = malloc(sizeof(float) * n);
    const tl_dtype acts[] = {TL_DTYPE_Q8_0, TL_DTYPE_Q8_1, TL_DTYPE_Q8_K};
    for (int k = 0; k < 3; k++) {
        const tl_type_traits *t = tl_dtype_traits(acts[k]);
        void *q = row_alloc(acts[k], n);
        for (int rep = 0; rep < 10; rep++) {
            fill_row(x, n, rep);
            t->from_f32(x, q, n);
            t->to_f32(q, xq, n);
            for (int64_t b = 0; b < n; b += t->blck) {
                float amax = 0;
                for (int64_t i = b; i < b + t->blck; i++)
                    amax = fmaxf(amax, fabsf(x[i]));
                /* step amax/127; Q8_0/Q8_1 round the step to fp16: relative 2^-11, or
                ** absolute 2^-25 when it is subnormal; times |q| <= 127 */
                double step = amax / 127.0;
                double tol = 0.5 * step * (1 + 1e-6);
                if (acts[k] != TL_DTYPE_Q8_K) tol += amax / 2048.0 + 127.0 * ldexp(1.0, -25);
                for (int64_t i = b; i < b + t->blck; i++)
                    if (fabs((double)x[i] - xq[i]) > tol)
                        fail_msg("%s: x %.9g -> %.9g (tol %.3g)", t->name, (double)x[i],
                                 (double)xq[i], tol);
            }
        }
        free(q);
    }
    free(x);
    free(xq);
}

/* ---- weight quantizers: derived error bounds, and more bits = less error -- */
static double rmse_of(tl_dtype dt, const float *x, int64_t n, float *xq) {
    void *q = row_alloc(dt, n);
    assert_int_equal(tl_quantize_rows(dt, x, q, 1, n), TL_OK);
    assert_int_equal(tl_dequantize_rows(dt, q, xq, 1, n), TL_OK);
    free(q);
    double e = 0;
    for (int64_t i = 0; i < n; i++)
        e += ((double)x[i] - xq[i]) * ((double)x[i] - xq[i]);
    return sqrt(e / (double)n);
}

static void test_weight_quantizer_errors(void **state) {
    (void)state;
    const int64_t n = 8192;
    float *x = malloc(sizeof(float) * n), *xq = malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++)
        x[i] = grand();
    /* Q4_0: |err| <= |d| (the clamped +8 side) and <= |d|/2 elsewhere; d = max/-8 */
    rmse_of(TL_DTYPE_Q4_0, x, n, xq);
    for (int64_t b = 0; b < n; b += 32) {
        float amax = 0;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(x[b + i]));
        double d = amax / 8.0 * (1 + 1.0 / 1024);
        for (int i = 0; i < 32; i++)
            assert_true(fabs((double)x[b + i] - xq[b + i]) <= d);
    }
    /* Q8_0: |err| <= d/2 + 127 * (fp16 rounding of d) */
    rmse_of(TL_DTYPE_Q8_0, x, n, xq);
    for (int64_t b = 0; b < n; b += 32) {
        float amax = 0;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(x[b + i]));
        double d = amax / 127.0;
        for (int i = 0; i < 32; i++)
            assert_true(fabs((double)x[b + i] - xq[b + i]) <=
                        0.5 * d + amax / 2048.0 + 127.0 * ldexp(1.0, -25));
    }
    /* more bits, less error (gaussian data) */
    const tl_dtype order[] = {TL_DTYPE_Q2_K, TL_DTYPE_Q3_K, TL_DTYPE_Q4_K, TL_DTYPE_Q5_K,
                              TL_DTYPE_Q6_K, TL_DTYPE_Q8_0, TL_DTYPE_F16};
    double prev = INFINITY;
    for (int k = 0; k < 7; k++) {
        double e = rmse_of(order[k], x, n, xq);
        print_message("rmse %s: %.5f\n", tl_dtype_name(order[k]), e);
        assert_true(e < prev);
        prev = e;
    }
    assert_true(rmse_of(TL_DTYPE_Q4_0, x, n, xq) > rmse_of(TL_DTYPE_Q5_0, x, n, xq));
    assert_true(rmse_of(TL_DTYPE_Q4_1, x, n, xq) > rmse_of(TL_DTYPE_Q5_1, x, n, xq));
    free(x);
    free(xq);
}

/* ---- edge cases ----------------------------------------------------------- */
static void test_zero_blocks(void **state) {
    (void)state;
    const int64_t n = 512;
    float x[512] = {0}, xq[512];
    for (size_t t = 0; t < NW; t++) {
        tl_dtype dt = weight_types[t];
        const tl_type_traits *tr = tl_dtype_traits(dt), *at = tl_dtype_traits(tr->dot_type);
        void *q = row_alloc(dt, n), *qa = row_alloc(tr->dot_type, n);
        assert_int_equal(tl_quantize_rows(dt, x, q, 1, n), TL_OK);
        tr->to_f32(q, xq, n);
        for (int i = 0; i < n; i++)
            assert_true(xq[i] == 0.0f);
        at->from_f32(x, qa, n);
        float d = 1;
        tr->vec_dot(n, &d, q, qa);
        assert_true(d == 0.0f);
        free(q);
        free(qa);
    }
    /* Q4_0's documented all-zero block: d = -0.0 (bytes 00 80), every code 8 */
    uint8_t b[18];
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q4_0, x, b, 1, 32), TL_OK);
    assert_int_equal(b[0], 0x00);
    assert_int_equal(b[1], 0x80);
    for (int i = 2; i < 18; i++)
        assert_int_equal(b[i], 0x88);
}

/* Values at the fp16 limit keep finite scales for the types whose scale is
** max/8 .. max/127; dequantized values stay within the derived bound. */
static void test_large_magnitudes(void **state) {
    (void)state;
    const int64_t n = 256;
    float x[256], xq[256];
    for (int i = 0; i < n; i++)
        x[i] = (i % 2 ? -1.0f : 1.0f) * 65504.0f * (float)(i % 17) / 16.0f;
    for (size_t t = 0; t < NW; t++) {
        double e = rmse_of(weight_types[t], x, n, xq);
        for (int i = 0; i < n; i++)
            assert_true(isfinite(xq[i]));
        assert_true(e < 65504.0 * 0.5);
    }
}

/* NaN input: documented as unspecified codes, but never a crash or undefined
** behaviour (the sanitizer build runs this), and the other blocks are intact. */
static void test_nan_inputs_are_contained(void **state) {
    (void)state;
    const int64_t n = 512;
    float x[512], xq[512], ref[512];
    for (int i = 0; i < n; i++)
        x[i] = (float)(i % 13) - 6.0f;
    for (size_t t = 0; t < NW; t++) {
        tl_dtype dt = weight_types[t];
        const tl_type_traits *tr = tl_dtype_traits(dt);
        rmse_of(dt, x, n, ref);
        float y[512];
        memcpy(y, x, sizeof y);
        y[5] = NAN;
        y[40] = -NAN;
        void *q = row_alloc(dt, n);
        assert_int_equal(tl_quantize_rows(dt, y, q, 1, n), TL_OK);
        tr->to_f32(q, xq, n);
        /* the second super-block (elements 256..511) has no NaN: unchanged */
        for (int i = 256; i < n; i++)
            assert_true(memcmp(&xq[i], &ref[i], 4) == 0);
        free(q);
    }
    void *qa = row_alloc(TL_DTYPE_Q8_0, n);
    x[3] = NAN;
    tl_dtype_traits(TL_DTYPE_Q8_0)->from_f32(x, qa, n);
    tl_dtype_traits(TL_DTYPE_Q8_K)->from_f32(x, qa, 256);
    free(qa);
}

/* ---- dispatch, errors ----------------------------------------------------- */
static int no_avx2_child_status = -1;

static void test_dispatch(void **state) {
    (void)state;
    tl_quant_kernels s, v;
    assert_true(tl_quant_kernels_of(TL_DTYPE_Q4_0, false, &s));
    assert_true(tl_quant_kernels_of(TL_DTYPE_Q4_0, true, &v));
    const tl_type_traits *t = tl_dtype_traits(TL_DTYPE_Q4_0);
    assert_ptr_equal(t->vec_dot, tl_cpu_use_avx2() ? v.vec_dot : s.vec_dot);
    assert_true(t->supported);
    assert_int_equal(t->dot_type, TL_DTYPE_Q8_0);
    assert_int_equal(tl_dtype_traits(TL_DTYPE_Q6_K)->dot_type, TL_DTYPE_Q8_K);
    assert_int_equal(tl_dtype_traits(TL_DTYPE_Q4_1)->dot_type, TL_DTYPE_Q8_1);
    /* the child ran with TL_NO_AVX2=1 and found the scalar kernels installed */
    assert_int_equal(no_avx2_child_status, 0);
}

static void test_errors(void **state) {
    (void)state;
    float x[64] = {0};
    uint8_t out[256];
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q4_0, x, out, 1, 48), TL_ERR_SHAPE);
    assert_non_null(strstr(tl_last_error(), "multiple of"));
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q4_K, x, out, 1, 64), TL_ERR_SHAPE);
    assert_int_equal(tl_quantize_rows(TL_DTYPE_I32, x, out, 1, 4), TL_ERR_UNSUPPORTED);
    assert_int_equal(tl_quantize_rows((tl_dtype)99, x, out, 1, 4), TL_ERR_TYPE);
    assert_int_equal(tl_dequantize_rows(TL_DTYPE_Q8_0, out, x, 1, 31), TL_ERR_SHAPE);
    /* Q8_0 weights (tl_quantize_rows) round half away from zero; the Q8_0
    ** activation quantizer (traits from_f32) rounds half to even. */
    float tie[32] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f};
    uint8_t w[34], a[34];
    assert_int_equal(tl_quantize_rows(TL_DTYPE_Q8_0, tie, w, 1, 32), TL_OK);
    tl_dtype_traits(TL_DTYPE_Q8_0)->from_f32(tie, a, 32);
    const int8_t *qw = (const int8_t *)(w + 2), *qa = (const int8_t *)(a + 2);
    assert_int_equal(qw[1], 3);
    assert_int_equal(qw[2], -3);
    assert_int_equal(qw[3], 1);
    assert_int_equal(qa[1], 2);
    assert_int_equal(qa[2], -2);
    assert_int_equal(qa[3], 0);
    assert_int_equal(qa[5], 2);
}

int main(void) {
    /* Before anything initializes the traits table: a child that sets
    ** TL_NO_AVX2=1 must get the scalar kernels. */
    pid_t pid = fork();
    if (pid == 0) {
        setenv("TL_NO_AVX2", "1", 1);
        tl_quant_kernels s;
        tl_quant_kernels_of(TL_DTYPE_Q4_0, false, &s);
        const tl_type_traits *t = tl_dtype_traits(TL_DTYPE_Q4_0);
        _exit(t->vec_dot == s.vec_dot && !tl_cpu_use_avx2() ? 0 : 1);
    }
    int st = 0;
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
        no_avx2_child_status = WEXITSTATUS(st);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avx2_equals_scalar),
        cmocka_unit_test(test_f32_f16_orders),
        cmocka_unit_test(test_dot4_equals_single_rows),
        cmocka_unit_test(test_gemv_rows),
        cmocka_unit_test(test_gemm_rows),
        cmocka_unit_test(test_quantized_dot_bounds),
        cmocka_unit_test(test_activation_error_bounds),
        cmocka_unit_test(test_weight_quantizer_errors),
        cmocka_unit_test(test_zero_blocks),
        cmocka_unit_test(test_large_magnitudes),
        cmocka_unit_test(test_nan_inputs_are_contained),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
