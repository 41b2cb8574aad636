/* bench/ops.c -- times the heavy tensor ops at TinyLlama sizes (never run by ctest).
**   build/bench/bench_ops [threads...]      e.g. bench_ops 1 2
**   TL_BENCH_OPS=substring runs only the ops whose name contains it.
** Prints the median (and the minimum) of 5 timed rounds per op (each round repeats the op until
** ~50 ms have passed). */
#include "runtime/ops.h"
#include "runtime/quant.h"
#include "runtime/random.h"
#include "runtime/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* TL_BENCH_CPU=1: the calling thread's CPU time instead of wall-clock time
** (meaningful at 1 thread on a shared, busy machine: time slices taken by other
** processes do not count). */
static double now(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("TL_BENCH_CPU") != NULL;
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tl_tensor *randn(int n, const int64_t *shape) {
    tl_tensor *t;
    if (tl_op_randn(TL_DTYPE_F32, n, shape, &t) != TL_OK) {
        fprintf(stderr, "%s\n", tl_last_error());
        exit(1);
    }
    return t;
}

static tl_tensor *quantized(tl_dtype dt, int64_t rows, int64_t cols) {
    tl_tensor *f = randn(2, (int64_t[]){rows, cols}), *q;
    if (tl_tensor_quantize(f, dt, &q) != TL_OK) {
        fprintf(stderr, "%s\n", tl_last_error());
        exit(1);
    }
    tl_tensor_unref(f);
    return q;
}

typedef struct op_case {
    const char *name;
    int kind;
    tl_tensor *a, *b, *c;
    double bytes; /* weight bytes read per call, for GB/s (0: not shown) */
} op_case;

static void run_once(const op_case *k) {
    tl_tensor *r = NULL;
    tl_status st = TL_OK;
    switch (k->kind) {
    case 0:
        st = tl_op_linear(k->a, k->b, NULL, &r);
        break;
    case 1:
        st = tl_op_attention(k->a, k->b, k->c, true, 0.0f, -1, &r);
        break;
    case 2:
        st = tl_op_softmax(k->a, -1, &r);
        break;
    case 3:
        st = tl_op_rms_norm(k->a, k->b, 1e-5f, &r);
        break;
    case 4:
        st = tl_op_rope(k->a, 0, 10000.0f, TL_ROPE_NORM, &r);
        break;
    case 5:
        st = tl_op_matmul(k->a, k->b, &r);
        break;
    case 6:
        st = tl_op_binary(TL_BIN_MUL, k->a, k->b, &r);
        break;
    case 7:
        st = tl_op_binary(TL_BIN_ADD, k->a, k->b, &r);
        break;
    case 8:
        st = tl_op_swiglu(k->a, k->b, &r);
        break;
    }
    if (st != TL_OK) {
        fprintf(stderr, "%s: %s\n", k->name, tl_last_error());
        exit(1);
    }
    tl_tensor_unref(r);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    tl_random_seed(1);
    op_case cases[] = {
        {"linear q4_0 [1,2048]x[5632,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q4_0, 5632, 2048), NULL, 5632.0 * 2048 / 32 * 18},
        {"linear q6_K [1,2048]x[32000,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q6_K, 32000, 2048), NULL, 32000.0 * 2048 / 256 * 210},
        {"linear q4_0 [64,2048]x[2048,2048]", 0, randn(2, (int64_t[]){64, 2048}),
         quantized(TL_DTYPE_Q4_0, 2048, 2048), NULL, 0},
        {"linear q4_K [64,2048]x[2048,2048]", 0, randn(2, (int64_t[]){64, 2048}),
         quantized(TL_DTYPE_Q4_K, 2048, 2048), NULL, 0},
        {"linear q5_K [64,2048]x[2048,2048]", 0, randn(2, (int64_t[]){64, 2048}),
         quantized(TL_DTYPE_Q5_K, 2048, 2048), NULL, 0},
        {"linear q6_K [8,2048]x[32000,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q6_K, 32000, 2048), NULL, 0},
        {"linear q5_K [8,2048]x[5632,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q5_K, 5632, 2048), NULL, 0},
        {"linear q6_K [8,2048]x[5632,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q6_K, 5632, 2048), NULL, 0},
        {"linear q8_0 [8,2048]x[5632,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q8_0, 5632, 2048), NULL, 0},
        {"linear q4_0 [8,2048]x[5632,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q4_0, 5632, 2048), NULL, 0},
        {"linear q4_0 [8,2048]x[32000,2048]", 0, randn(2, (int64_t[]){8, 2048}),
         quantized(TL_DTYPE_Q4_0, 32000, 2048), NULL, 0},
        {"linear q6_K [64,2048]x[2048,2048]", 0, randn(2, (int64_t[]){64, 2048}),
         quantized(TL_DTYPE_Q6_K, 2048, 2048), NULL, 0},
        {"linear q8_0 [64,2048]x[2048,2048]", 0, randn(2, (int64_t[]){64, 2048}),
         quantized(TL_DTYPE_Q8_0, 2048, 2048), NULL, 0},
        {"linear q4_K [1,2048]x[5632,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q4_K, 5632, 2048), NULL, 5632.0 * 2048 / 256 * 144},
        {"linear q5_K [1,2048]x[5632,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q5_K, 5632, 2048), NULL, 5632.0 * 2048 / 256 * 176},
        {"linear q6_K [1,2048]x[5632,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q6_K, 5632, 2048), NULL, 5632.0 * 2048 / 256 * 210},
        {"linear q8_0 [1,2048]x[5632,2048]", 0, randn(2, (int64_t[]){1, 2048}),
         quantized(TL_DTYPE_Q8_0, 5632, 2048), NULL, 5632.0 * 2048 / 32 * 34},
        {"attention q[64,32,64] kv[64,4,64]", 1, randn(3, (int64_t[]){64, 32, 64}),
         randn(3, (int64_t[]){64, 4, 64}), randn(3, (int64_t[]){64, 4, 64}), 0},
        {"attention q[512,32,64] kv[512,4,64]", 1, randn(3, (int64_t[]){512, 32, 64}),
         randn(3, (int64_t[]){512, 4, 64}), randn(3, (int64_t[]){512, 4, 64}), 0},
        {"attention decode q[1,32,64] kv[80,4,64]", 1, randn(3, (int64_t[]){1, 32, 64}),
         randn(3, (int64_t[]){80, 4, 64}), randn(3, (int64_t[]){80, 4, 64}), 0},
        {"attention decode q[1,32,64] kv[512,4,64]", 1, randn(3, (int64_t[]){1, 32, 64}),
         randn(3, (int64_t[]){512, 4, 64}), randn(3, (int64_t[]){512, 4, 64}), 0},
        {"attention decode q[1,32,64] kv[2048,4,64]", 1, randn(3, (int64_t[]){1, 32, 64}),
         randn(3, (int64_t[]){2048, 4, 64}), randn(3, (int64_t[]){2048, 4, 64}), 0},
        {"softmax [64,32,64]", 2, randn(3, (int64_t[]){64, 32, 64}), NULL, NULL, 0},
        {"rms_norm [64,2048]", 3, randn(2, (int64_t[]){64, 2048}), randn(1, (int64_t[]){2048}),
         NULL, 0},
        {"rms_norm [8,2048]", 3, randn(2, (int64_t[]){8, 2048}), randn(1, (int64_t[]){2048}), NULL,
         0},
        {"add [8,2048]+[8,2048]", 7, randn(2, (int64_t[]){8, 2048}), randn(2, (int64_t[]){8, 2048}),
         NULL, 0},
        {"swiglu [8,5632]", 8, randn(2, (int64_t[]){8, 5632}), randn(2, (int64_t[]){8, 5632}), NULL,
         0},
        {"rope [8,32,64]", 4, randn(3, (int64_t[]){8, 32, 64}), NULL, NULL, 0},
        {"rope [64,32,64]", 4, randn(3, (int64_t[]){64, 32, 64}), NULL, NULL, 0},
        {"matmul [32,64,64]@[32,64,64]", 5, randn(3, (int64_t[]){32, 64, 64}),
         randn(3, (int64_t[]){32, 64, 64}), NULL, 0},
        {"mul [64,5632]*[64,5632]", 6, randn(2, (int64_t[]){64, 5632}),
         randn(2, (int64_t[]){64, 5632}), NULL, 0},
    };
    int n_cases = (int)(sizeof cases / sizeof cases[0]);
    int threads[8] = {1, 2}, n_threads = 2;
    if (argc > 1) {
        n_threads = 0;
        for (int i = 1; i < argc && n_threads < 8; i++)
            threads[n_threads++] = atoi(argv[i]);
    }
    for (int ti = 0; ti < n_threads; ti++) {
        if (tl_threadpool_set_threads(threads[ti]) != TL_OK) return 1;
        printf("threads = %d\n", threads[ti]);
        const char *only = getenv("TL_BENCH_OPS");
        for (int c = 0; c < n_cases; c++) {
            if (only && !strstr(cases[c].name, only)) continue;
            double t[5];
            run_once(&cases[c]); /* warm-up */
            for (int r = 0; r < 5; r++) {
                int reps = 0;
                double t0 = now(), t1;
                do {
                    run_once(&cases[c]);
                    reps++;
                    t1 = now();
                } while (t1 - t0 < 0.05);
                t[r] = (t1 - t0) / reps;
            }
            qsort(t, 5, sizeof t[0], cmp);
            printf("  %-38s %9.1f us (min %9.1f)", cases[c].name, t[2] * 1e6, t[0] * 1e6);
            if (cases[c].bytes > 0) printf("  %5.1f GB/s", cases[c].bytes / t[2] / 1e9);
            printf("\n");
        }
    }
    for (int c = 0; c < n_cases; c++) {
        tl_tensor_unref(cases[c].a);
        tl_tensor_unref(cases[c].b);
        tl_tensor_unref(cases[c].c);
    }
    tl_threadpool_shutdown();
    return 0;
}
