/* bench/q4_0_gemm.c -- times the Q4_0 matmul kernel alone (never run by ctest):
** tl_quant_gemm_rows_best (1 token: tl_quant_gemv_rows_best) in llama.cpp's
** repacked order on random weights, on the calling thread only.
**   build/bench/bench_q4_0_gemm [rows [n [tokens...]]]
**   e.g. bench_q4_0_gemm 2048 2048 1 4 8 64     (defaults: 2048 2048 1 8 64)
** For each token count: the best and the median of 7 rounds of >= 50 ms, in
** the calling thread's CPU time (the work alone, also on a busy machine), as
** time per call and GMAC/s.  A matrix larger than the caches (e.g. 32768 rows:
** 37 MB) measures the kernel streaming from DRAM.  TL_BENCH_CHUNKS=C cuts the
** rows into C calls the way the linear op's thread split does (each call packs
** the activations again).  TL_BENCH_X16=1 times the kernels over weights laid
** out ahead of time (runtime/quant/q4_0x16.h; rows a multiple of 16, one chunk). */
#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/quant/q4_0x16.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int64_t rows = argc > 1 ? atoll(argv[1]) : 2048, n = argc > 2 ? atoll(argv[2]) : 2048;
    int64_t toks[16] = {1, 8, 64};
    int nt = 3;
    if (argc > 3) {
        nt = 0;
        for (int i = 3; i < argc && nt < 16; i++)
            toks[nt++] = atoll(argv[i]);
    }
    if (rows <= 0 || n <= 0 || n % 32 != 0) {
        fprintf(stderr, "usage: bench_q4_0_gemm [rows [n (multiple of 32) [tokens...]]]\n");
        return 2;
    }
    const char *ce = getenv("TL_BENCH_CHUNKS");
    int64_t chunks = ce ? atoll(ce) : 1;
    if (chunks < 1) chunks = 1;
    int64_t maxt = 1;
    for (int i = 0; i < nt; i++)
        if (toks[i] > maxt) maxt = toks[i];
    size_t ws = tl_dtype_row_size(TL_DTYPE_Q4_0, n), as = tl_dtype_row_size(TL_DTYPE_Q8_0, n);
    float *f = malloc((size_t)n * sizeof(float));
    char *w = malloc(ws * (size_t)rows), *a = malloc(as * (size_t)maxt);
    float *out = malloc((size_t)(rows * maxt) * sizeof(float));
    if (!f || !w || !a || !out) return 1;
    uint64_t s = 88172645463325252ull;
    const tl_type_traits *q8 = tl_dtype_traits(TL_DTYPE_Q8_0);
    for (int64_t r = 0; r < rows + maxt; r++) {
        for (int64_t i = 0; i < n; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            f[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        }
        if (r < rows)
            tl_quantize_rows(TL_DTYPE_Q4_0, f, w + (size_t)r * ws, 1, n);
        else
            q8->from_f32(f, a + (size_t)(r - rows) * as, n);
    }
    const char *xe = getenv("TL_BENCH_X16");
    char *x16 = NULL;
    if (xe && atoi(xe) && rows % 16 == 0) {
        x16 = malloc(ws * (size_t)rows);
        if (!x16) return 1;
        tl_q4_0x16_pack(w, ws, rows, n, x16);
        chunks = 1;
    }
    printf("Q4_0%s [%lld rows, %lld] (%.1f MB), 1 thread, CPU time\n", x16 ? "x16" : "",
           (long long)rows, (long long)n, (double)(ws * (size_t)rows) / 1e6);
    for (int i = 0; i < nt; i++) {
        int64_t k = toks[i];
        double t[7];
        for (int round = 0; round < 7; round++) {
            double t0 = cpu_now(), t1;
            int calls = 0;
            do {
                tl_status st = TL_OK;
                for (int64_t c = 0; c < chunks && st == TL_OK; c++) {
                    int64_t a0 = rows * c / chunks, a1 = rows * (c + 1) / chunks;
                    if (x16)
                        st = k == 1 ? tl_q4_0x16_gemv(n, x16, a0, a1, a, out)
                                    : tl_q4_0x16_gemm(n, x16, a0, a1, a, as, k, out, (size_t)rows);
                    else
                        st = k == 1
                                 ? tl_quant_gemv_rows_best(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w,
                                                           ws, a0, a1, a, out)
                                 : tl_quant_gemm_rows_best(TL_DTYPE_Q4_0, TL_DOT_ORDER_REPACK, n, w,
                                                           ws, a0, a1, a, as, k, out, (size_t)rows);
                }
                if (st != TL_OK) {
                    fprintf(stderr, "%s\n", tl_last_error());
                    return 1;
                }
                calls++;
                t1 = cpu_now();
            } while (t1 - t0 < 0.05);
            t[round] = (t1 - t0) / calls;
        }
        qsort(t, 7, sizeof t[0], cmp_d);
        double mac = (double)rows * (double)n * (double)k;
        printf("  %3lld tokens: best %9.1f us  median %9.1f us  %6.1f GMAC/s (best)\n",
               (long long)k, t[0] * 1e6, t[3] * 1e6, mac / t[0] / 1e9);
    }
    free(f);
    free(w);
    free(x16);
    free(a);
    free(out);
    return 0;
}
