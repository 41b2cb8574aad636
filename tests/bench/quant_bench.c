/* tests/bench/quant_bench.c -- throughput of the quantized dot kernels (not a
** test; not built by CMake).  Build and run from the repository root:
**   cc -O2 -ffp-contract=off -I. tests/bench/quant_bench.c build/runtime/libtl_runtime.a \
**      -lm -lpthread -o /tmp/quant_bench && /tmp/quant_bench
** Prints GB/s of weight bytes for a [5632 x 2048] matrix-vector product (the
** TinyLlama ffn_gate/up shape), single-threaded: in cache (one matrix reused)
** and streaming (16 copies, 100+ MB, so every call reads from DRAM). */
#include "runtime/cpu.h"
#include "runtime/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench(tl_dtype dt, tl_dot_order order, bool avx2, int copies, int reps) {
    const int64_t rows = 5632, n = 2048;
    tl_quant_kernels k;
    if (!tl_quant_kernels_of(dt, avx2, &k)) return;
    tl_quant_kernels a;
    tl_quant_kernels_of(k.dot_type, avx2, &a);
    size_t row = tl_dtype_row_size(dt, n), mat = row * (size_t)rows;
    char *w = malloc(mat * (size_t)copies);
    float *x = malloc(sizeof(float) * (size_t)n), *out = malloc(sizeof(float) * (size_t)rows);
    for (int64_t i = 0; i < n; i++)
        x[i] = sinf((float)i);
    for (int64_t r = 0; r < rows; r++)
        tl_quantize_rows(dt, x, w + (size_t)r * row, 1, n);
    for (int c = 1; c < copies; c++)
        memcpy(w + (size_t)c * mat, w, mat);
    void *act = malloc(tl_dtype_row_size(k.dot_type, n));
    a.from_f32(x, act, n);
    tl_vec_dot4_fn dot4 = tl_quant_vec_dot4_order_of(dt, order, avx2);
    k.vec_dot = tl_quant_vec_dot_order_of(dt, order, avx2);
    for (int mode = 0; mode < 2; mode++) {
        double best = 1e9;
        for (int rep = 0; rep < reps; rep++) {
            const char *m = w + (size_t)(rep % copies) * mat;
            double t0 = now();
            if (mode == 0) {
                for (int64_t r = 0; r < rows; r++)
                    k.vec_dot(n, &out[r], m + (size_t)r * row, act);
            } else {
                int64_t q = rows / 4;
                for (int64_t r = 0; r < q; r++) {
                    const void *xs[4] = {m + (size_t)r * row, m + (size_t)(r + q) * row,
                                         m + (size_t)(r + 2 * q) * row,
                                         m + (size_t)(r + 3 * q) * row};
                    float o[4];
                    dot4(n, o, xs, act);
                    out[r] = o[0], out[r + q] = o[1], out[r + 2 * q] = o[2], out[r + 3 * q] = o[3];
                }
            }
            double dt_s = now() - t0;
            if (dt_s < best) best = dt_s;
        }
        printf("%-5s %-6s %-6s %-9s %-9s %6.2f GB/s  (%.3f ms)\n", tl_dtype_name(dt),
               order ? "repack" : "row", avx2 ? "avx2" : "scalar", mode ? "4-stream" : "one-row",
               copies > 1 ? "streaming" : "in-cache", (double)mat / best / 1e9, best * 1e3);
    }
    free(w);
    free(x);
    free(out);
    free(act);
}

/* 64 tokens through the same matrix: per-token gemv vs 4x2-tile gemm. */
static void bench_prompt(tl_dtype dt, tl_dot_order order) {
    const int64_t rows = 5632, n = 2048, toks = 64;
    const tl_type_traits *t = tl_dtype_traits(dt), *at = tl_dtype_traits(t->dot_type);
    size_t row = tl_dtype_row_size(dt, n), arow = tl_dtype_row_size(t->dot_type, n);
    char *w = malloc(row * (size_t)rows), *act = malloc(arow * (size_t)toks);
    float *x = malloc(sizeof(float) * (size_t)n),
          *out = malloc(sizeof(float) * (size_t)(rows * toks));
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++)
            x[i] = sinf((float)(i * 7 + r));
        tl_quantize_rows(dt, x, w + (size_t)r * row, 1, n);
    }
    for (int64_t k = 0; k < toks; k++) {
        for (int64_t i = 0; i < n; i++)
            x[i] = cosf((float)(i + 3 * k));
        at->from_f32(x, act + (size_t)k * arow, n);
    }
    for (int mode = 0; mode < 2; mode++) {
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now();
            if (mode == 0)
                for (int64_t k = 0; k < toks; k++)
                    tl_quant_gemv_rows_order(dt, order, n, w, row, 0, rows, act + (size_t)k * arow,
                                             out + k * rows);
            else
                tl_quant_gemm_rows_order(dt, order, n, w, row, 0, rows, act, arow, toks, out,
                                         (size_t)rows);
            double s = now() - t0;
            if (s < best) best = s;
        }
        printf("%-5s %-6s prompt 64 tok x [5632 x 2048], %s: %.1f ms (%.1f GMAC/s)\n", t->name,
               order ? "repack" : "row", mode ? "gemm 4x2 tiles" : "gemv per token", best * 1e3,
               (double)(rows * n * toks) / best / 1e9);
    }
    free(w);
    free(act);
    free(x);
    free(out);
}

int main(void) {
    bench_prompt(TL_DTYPE_Q4_0, TL_DOT_ORDER_ROW);
    bench_prompt(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK);
    bench_prompt(TL_DTYPE_Q8_0, TL_DOT_ORDER_ROW);
    const tl_dtype types[] = {TL_DTYPE_Q4_0, TL_DTYPE_Q8_0, TL_DTYPE_Q4_K, TL_DTYPE_Q6_K,
                              TL_DTYPE_Q5_0, TL_DTYPE_Q4_1, TL_DTYPE_Q5_1, TL_DTYPE_Q2_K,
                              TL_DTYPE_Q3_K, TL_DTYPE_Q5_K, TL_DTYPE_F16};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (tl_cpu_use_avx2()) {
            bench(types[i], TL_DOT_ORDER_ROW, true, 1, 20);
            bench(types[i], TL_DOT_ORDER_ROW, true, 16, 16);
            if (types[i] == TL_DTYPE_Q4_0) {
                bench(types[i], TL_DOT_ORDER_REPACK, true, 1, 20);
                bench(types[i], TL_DOT_ORDER_REPACK, true, 16, 16);
            }
        }
        bench(types[i], TL_DOT_ORDER_ROW, false, 1, 3);
    }
    return 0;
}
