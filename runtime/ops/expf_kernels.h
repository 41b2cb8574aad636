/* runtime/ops/expf_kernels.h -- expf over arrays, 8 values at a time
** (runtime/ops/expf_avx2.c), for the exp builtin, and the max and scale
** passes of softmax rows.  (SiLU, SwiGLU and softmax's exponentials are
** llama.cpp's own vector expf instead: ggml_math.h.)
**
** The results are meant to be bit for bit those of the C library's expf, which
** the scalar code calls.  glibc (2.27 on) computes expf(x) in double: with
** N = 32, k = round(x * N / ln 2) and r = x * N / ln 2 - k, it returns
** (float)(2^(k/N) * (1 + C2 r + C1 r^2 + C0 r^3)), 2^(k/N) from a 32-entry
** table of 2^(i/N) and the exponent bits of k / N; on a CPU with FMA (every CPU
** the AVX2 kernels run on) its three polynomial steps and the two steps of the
** reduction are fused multiply-adds.  expf_avx2.c does the same double
** operations, four lanes at a time, and hands each group of 8 with an input
** of magnitude >= 88 (or inf, NaN) to the C library's expf.  Other C libraries
** may round differently, so ops_vexpf_ok() first checks the kernel against the
** library on a fixed set of inputs and the callers use it only when it agrees. */
#ifndef TL_RUNTIME_OPS_EXPF_KERNELS_H
#define TL_RUNTIME_OPS_EXPF_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* True when the AVX2 kernels are selected and tl_expf_avx2 agrees with the C
** library's expf on the check set (decided once; runtime/ops/vexpf.c). */
bool ops_vexpf_ok(void);

#ifdef TL_X86_KERNELS
/* y[i] = expf(x[i]) for i in [0, n); y may be x. */
void tl_expf_avx2(const float *x, float *y, int64_t n);

/* The parts of a softmax row around the exponentials, each element by the same
** float operation as the scalar loop: the largest of p[0..n) (as
** "if (p[i] > mx) mx = p[i]" from -inf; n > 0) and whether any is NaN;
** p[i] *= s. */
float tl_row_max_avx2(const float *p, int64_t n, bool *nan);
void tl_row_scale_avx2(float *p, int64_t n, float s);

#else
/* Not an x86-64 build: never called (ops_vexpf_ok() is false). */
static inline void tl_expf_avx2(const float *x, float *y, int64_t n) {
    (void)x, (void)y, (void)n;
}
static inline float tl_row_max_avx2(const float *p, int64_t n, bool *nan) {
    (void)p, (void)n;
    *nan = false;
    return 0;
}
static inline void tl_row_scale_avx2(float *p, int64_t n, float s) {
    (void)p, (void)n, (void)s;
}
#endif

#endif
