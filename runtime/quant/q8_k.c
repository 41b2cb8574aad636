/* runtime/quant/q8_k.c -- Q8_K: the activation type of the K-quant dots.
** 256 elements, f32 d, int8 codes, and the sums of each 16 codes (bsums) that
** the kernels use for the minimum terms.  The quantizer is llama.cpp's
** quantize_row_q8_K_ref, which is also what its x86 CPU backend runs:
** d = max / -127 from the signed extreme value, half-to-even rounding. */
#include "runtime/quant/quant_impl.h"

void tl_q8_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        blk_q8_K blk;
        memcpy(&blk, &b[i], sizeof blk); /* rows may be only 2-aligned inside files */
        for (int e = 0; e < QK_K; e++)
            dst[e] = blk.d * (float)blk.qs[e];
    }
}

void tl_q8_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int e = 0; e < QK_K; e++) {
            float ax = fabsf(x[e]);
            if (ax > amax) {
                amax = ax;
                max = x[e];
            }
        }
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float iscale = -127.0f / max;
        for (int e = 0; e < QK_K; e++)
            b[i].qs[e] = (int8_t)imin(127, nearest_int(iscale * x[e]));
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++)
                sum += b[i].qs[16 * j + l];
            b[i].bsums[j] = (int16_t)sum;
        }
        b[i].d = 1.0f / iscale;
    }
}

void tl_q8_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q8_K *x = vx, *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[8] = {0};
        for (int g = 0; g < 8; g++)
            lanes32(s, x[i].qs + 32 * g, y[i].qs + 32 * g);
        acc8_fma(&acc, x[i].d * y[i].d, s);
    }
    *out = acc8_sum(&acc);
}
