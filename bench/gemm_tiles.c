/* bench/gemm_tiles.c -- one quantized matmul, timed in the calling thread's
** CPU time (CLOCK_THREAD_CPUTIME_ID: fair on a shared, loaded machine):
** tl_quant_gemm_rows_best (the kernel the matmul selects on this CPU) against
** tl_quant_gemm_rows_order (the quant module's row kernels), alternating, best
** of several rounds, after checking they give the same bits.
**
**   bench_gemm_tiles TYPE ROWS N TOKENS [ROUNDS]     e.g. q6_k 2048 2048 64
**
** Run with TL_NO_AVX512=1 to time the AVX2 kernels on an AVX-512 machine. */
#include "runtime/dtype.h"
#include "runtime/quant.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double thread_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s TYPE ROWS N TOKENS [ROUNDS]\n", argv[0]);
        return 2;
    }
    tl_dtype dt;
    if (!tl_dtype_from_name(argv[1], &dt)) {
        fprintf(stderr, "unknown type %s\n", argv[1]);
        return 2;
    }
    int64_t rows = atoll(argv[2]), n = atoll(argv[3]), tok = atoll(argv[4]);
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    const tl_type_traits *wt = tl_dtype_traits(dt);
    if (!wt || !wt->quantized || rows <= 0 || tok <= 0 || n % wt->blck != 0) {
        fprintf(stderr, "bad type or shape\n");
        return 2;
    }
    const tl_type_traits *at = tl_dtype_traits(wt->dot_type);
    size_t ws = tl_dtype_row_size(dt, n), as = tl_dtype_row_size(wt->dot_type, n);
    float *f = malloc((size_t)((rows > tok ? rows : tok) * n) * sizeof(float));
    char *w = malloc(ws * (size_t)rows), *a = malloc(as * (size_t)tok);
    float *o1 = malloc((size_t)(rows * tok) * sizeof(float)),
          *o2 = malloc((size_t)(rows * tok) * sizeof(float));
    if (!f || !w || !a || !o1 || !o2) return 1;
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < rows * n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        f[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    if (tl_quantize_rows(dt, f, w, rows, n) != TL_OK) return 1;
    for (int64_t k = 0; k < tok; k++)
        at->from_f32(f + k * n, a + (size_t)k * as, n);
    tl_dot_order order = tl_quant_llama_order(dt, rows);
    double best_new = 1e30, best_old = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = thread_seconds();
        if (tl_quant_gemm_rows_best(dt, order, n, w, ws, 0, rows, a, as, tok, o1, (size_t)rows) !=
            TL_OK)
            return 1;
        double t1 = thread_seconds();
        if (tl_quant_gemm_rows_order(dt, order, n, w, ws, 0, rows, a, as, tok, o2, (size_t)rows) !=
            TL_OK)
            return 1;
        double t2 = thread_seconds();
        if (t1 - t0 < best_new) best_new = t1 - t0;
        if (t2 - t1 < best_old) best_old = t2 - t1;
    }
    int same = memcmp(o1, o2, (size_t)(rows * tok) * sizeof(float)) == 0;
    printf("%s %lldx%lld x %lld tokens: best %.2f ms, row kernels %.2f ms (%.2fx), %s\n", argv[1],
           (long long)rows, (long long)n, (long long)tok, 1e3 * best_new, 1e3 * best_old,
           best_old / best_new, same ? "same bits" : "DIFFERENT BITS");
    free(f);
    free(w);
    free(a);
    free(o1);
    free(o2);
    return same ? 0 : 1;
}
