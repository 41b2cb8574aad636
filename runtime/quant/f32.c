/* runtime/quant/f32.c -- F32 x F32 dots in llama.cpp's two orders (AVX2 build),
** and the F16 x F16 dot in its sgemm order:
**   tl_f32_dot      ggml_vec_dot_f32, a product with one activation row: four
**                   accumulators of 8 lanes over steps of 32 elements (element i
**                   in lane i % 8 of accumulator (i % 32) / 8, fused
**                   multiply-adds), folded as tl_f16_fold, then the last n % 32
**                   products added in float, not fused (measured on stories260K's
**                   feed-forward rows of 172);
**   tl_f32_dot_sg   llamafile's sgemm (tinyBLAS), two or more activation rows and
**                   n % 8 == 0: one accumulator of 8 lanes (element i in lane i % 8),
**                   folded ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
**   tl_f16_dot_sg   the same over F16 rows (converted exactly to f32 first). */
#include "runtime/quant/quant_impl.h"

#include <math.h>

void tl_f32_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    int64_t np = n & ~(int64_t)31;
    float sum[4][8] = {{0}};
    for (int64_t i = 0; i < np; i++)
        sum[(i % 32) / 8][i % 8] = fmaf(x[i], y[i], sum[(i % 32) / 8][i % 8]);
    float s = np > 0 ? tl_f16_fold(sum) : 0.0f;
    for (int64_t i = np; i < n; i++)
        s += x[i] * y[i];
    *out = s;
}

float tl_sgemm_fold(const float l[8]) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

void tl_f32_dot_sg(int64_t n, float *out, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    float l[8] = {0};
    for (int64_t i = 0; i < n; i++)
        l[i % 8] = fmaf(x[i], y[i], l[i % 8]);
    *out = tl_sgemm_fold(l);
}

void tl_f16_dot_sg(int64_t n, float *out, const void *vx, const void *vy) {
    const tl_f16 *x = vx, *y = vy;
    float l[8] = {0};
    for (int64_t i = 0; i < n; i++)
        l[i % 8] = fmaf(tl_f16_to_f32(x[i]), tl_f16_to_f32(y[i]), l[i % 8]);
    *out = tl_sgemm_fold(l);
}
