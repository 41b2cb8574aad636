/* runtime/quant/f16.c -- F16 rows: conversions and the F16 x F16 dot in ggml's
** AVX2 order (ggml_vec_dot_f16 with F16C: 4 accumulators of 8 lanes over
** steps of 32 elements, a fixed fold, the tail added in double). */
#include "runtime/quant/quant_impl.h"

void tl_f16_to_f32_row(const void *src, float *dst, int64_t n) {
    const tl_f16 *s = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tl_f16_to_f32(s[i]);
}

void tl_f16_from_f32_row(const float *src, void *dst, int64_t n) {
    tl_f16 *d = dst;
    for (int64_t i = 0; i < n; i++)
        d[i] = tl_f32_to_f16(src[i]);
}

/* The fold of ggml's GGML_F32x8_REDUCE over 4 vectors of 8 lanes. */
float tl_f16_fold(float sum[4][8]) {
    float a[8], t[4];
    for (int l = 0; l < 8; l++) {
        float s0 = sum[0][l] + sum[2][l], s1 = sum[1][l] + sum[3][l];
        a[l] = s0 + s1;
    }
    for (int l = 0; l < 4; l++)
        t[l] = a[l] + a[l + 4];
    return (t[0] + t[1]) + (t[2] + t[3]);
}

void tl_f16_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const tl_f16 *x = vx, *y = vy;
    int64_t np = n & ~(int64_t)31;
    float sum[4][8] = {{0}};
    for (int64_t i = 0; i < np; i += 32)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 8; l++) {
                int64_t e = i + 8 * j + l;
                sum[j][l] = fmaf(tl_f16_to_f32(x[e]), tl_f16_to_f32(y[e]), sum[j][l]);
            }
    double s = tl_f16_fold(sum);
    for (int64_t i = np; i < n; i++)
        s += (double)(tl_f16_to_f32(x[i]) * tl_f16_to_f32(y[i]));
    *out = (float)s;
}
