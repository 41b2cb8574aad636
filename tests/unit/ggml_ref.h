/* tests/unit/ggml_ref.h -- plain loops of llama.cpp's float arithmetic for the
** unit tests' references (runtime/ops/ggml_math.h describes it): SiLU in groups
** of 8, ggml_vec_dot_f32's lane order, the softmax row and the sgemm (several
** queries) and vec_dot (one query) orders of probabilities times values.  Written out here, one
*lane at a time, so that the
** runtime's vector code is checked against something it does not share; the
** one shared piece is ops_ggml_expf, itself checked in test_ggml_math. */
#ifndef TL_TESTS_GGML_REF_H
#define TL_TESTS_GGML_REF_H

#include "runtime/ops/ggml_math.h"

#include <math.h>
#include <stdint.h>

/* y = silu(x) over a row: ggml's expf for the whole groups of 8 from the row's
** start, the C library's for the rest. */
static inline void ref_ggml_silu_row(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = i < n / 8 * 8 ? x[i] / (1.0f + ops_ggml_expf(0.0f - x[i]))
                             : x[i] / (1.0f + expf(-x[i]));
}

/* ggml_vec_dot_f32: element i (i < n - n % 32) into lane i % 8 of accumulator
** (i % 32) / 8 by fmaf, accumulators (a0 + a2) + (a1 + a3), lanes
** ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)), then the rest's products
** added in float (not fused). */
static inline float ref_ggml_dot(const float *x, const float *y, int64_t n) {
    float a[4][8] = {{0}}, sum = 0.0f;
    int64_t np = n / 32 * 32;
    for (int64_t i = 0; i < np; i++)
        a[(i % 32) / 8][i % 8] = fmaf(x[i], y[i], a[(i % 32) / 8][i % 8]);
    if (np > 0) {
        float l[8];
        for (int k = 0; k < 8; k++)
            l[k] = (a[0][k] + a[2][k]) + (a[1][k] + a[3][k]);
        sum = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
    for (int64_t i = np; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

/* The exponentials of a softmax row in place (mx its maximum, -inf entries give
** 0) and the sum ggml forms: each group of 8 in float as ((e0 + e4) + (e2 + e6))
** + ((e1 + e5) + (e3 + e7)), the groups' sums added in a double. */
static inline double ref_ggml_softmax_exp(float *p, int64_t n, float mx) {
    double sum = 0.0;
    for (int64_t g = 0; g < n; g += 8) {
        float e[8] = {0};
        for (int64_t l = 0; l < 8 && g + l < n; l++)
            e[l] = p[g + l] = ops_ggml_expf(p[g + l] - mx);
        sum += (double)(((e[0] + e[4]) + (e[2] + e[6])) + ((e[1] + e[5]) + (e[3] + e[7])));
    }
    return sum;
}

/* o[d] = sum over t < n of p[t] v_t[d] (v_t at v + t * vstride): key t into
** lane t % 8 by fmaf, lanes ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)). */
static inline void ref_ggml_pv(const float *p, const float *v, int64_t vstride, int64_t n,
                               int64_t D, float *o) {
    for (int64_t d = 0; d < D; d++) {
        float l[8] = {0};
        for (int64_t t = 0; t < n; t++)
            l[t % 8] = fmaf(v[t * vstride + d], p[t], l[t % 8]);
        o[d] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    }
}

/* The same sums in ggml_vec_dot_f32's order (one query): key t into lane t % 8 of
** accumulator (t % 32) / 8 by fmaf, (a0 + a2) + (a1 + a3), then lanes
** ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)). */
static inline void ref_ggml_pv_dot(const float *p, const float *v, int64_t vstride, int64_t n,
                                   int64_t D, float *o) {
    for (int64_t d = 0; d < D; d++) {
        float a[4][8] = {{0}}, l[8];
        for (int64_t t = 0; t < n; t++)
            a[(t % 32) / 8][t % 8] = fmaf(v[t * vstride + d], p[t], a[(t % 32) / 8][t % 8]);
        for (int k = 0; k < 8; k++)
            l[k] = (a[0][k] + a[2][k]) + (a[1][k] + a[3][k]);
        o[d] = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
}

#endif
